// Finding and reading the tool's configuration file.
#include "config.hpp"

#include "core/file_io.hpp"

#include <dpgcert/error.hpp>

#include <cstdlib>
#include <set>

namespace dpgcert::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

/// A configuration file is a few hundred bytes; anything near this is not one.
constexpr std::size_t kMaxConfigBytes = 1024 * 1024;

std::vector<fs::path> default_locations() {
  std::vector<fs::path> out;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg == '/') {
    out.push_back(fs::path(xdg) / "dpgcert" / "config.json");
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    out.push_back(fs::path(home) / ".config" / "dpgcert" / "config.json");
  }
  out.emplace_back("/etc/dpgcert/config.json");
  return out;
}

[[noreturn]] void bad(const fs::path& file, const std::string& what) {
  throw Error(ErrorCode::invalid_argument, "configuration '" + file.string() + "': " + what);
}

std::string string_of(const json& j, const fs::path& file, const std::string& key) {
  if (!j.is_string() || j.get<std::string>().empty()) bad(file, "\"" + key + "\" must be a non-empty string");
  return j.get<std::string>();
}

/// A path from the file, relative to the file's folder.
std::string path_of(const json& j, const fs::path& file, const std::string& key) {
  const fs::path p = string_of(j, file, key);
  return (p.is_relative() ? file.parent_path() / p : p).lexically_normal().string();
}

std::vector<std::string> paths_of(const json& j, const fs::path& file, const std::string& key) {
  if (!j.is_array()) bad(file, "\"" + key + "\" must be a list of paths");
  std::vector<std::string> out;
  for (const auto& e : j) out.push_back(path_of(e, file, key));
  return out;
}

Config parse(const fs::path& file) {
  const auto text = detail::read_file(file, {.limit = kMaxConfigBytes, .what = "configuration"});
  json j;
  try {
    j = json::parse(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()));
  } catch (const json::parse_error& e) {
    bad(file, "not valid JSON (byte " + std::to_string(e.byte) + ")");
  }
  if (!j.is_object()) bad(file, "must be a JSON object");
  Config c;
  c.file = fs::absolute(file);
  static const std::set<std::string> known{"store", "key_file", "passphrase_env", "actor", "validation", "jobs", "thresholds", "sinks"};
  for (const auto& [key, value] : j.items()) {
    if (!known.contains(key)) bad(file, "unknown key \"" + key + "\"");
  }
  if (j.contains("store")) c.store = path_of(j["store"], c.file, "store");
  if (j.contains("key_file")) c.key_file = path_of(j["key_file"], c.file, "key_file");
  if (j.contains("passphrase_env")) c.passphrase_env = string_of(j["passphrase_env"], c.file, "passphrase_env");
  if (c.key_file && c.passphrase_env) bad(file, "give \"key_file\" or \"passphrase_env\", not both");
  if (j.contains("actor")) c.actor = string_of(j["actor"], c.file, "actor");
  if (j.contains("validation")) {
    const json& v = j["validation"];
    if (!v.is_object()) bad(file, "\"validation\" must be an object with \"trust\", \"untrusted\", \"crls\"");
    for (const auto& [key, value] : v.items()) {
      if (key == "trust") {
        c.trust = paths_of(value, c.file, "validation.trust");
      } else if (key == "untrusted") {
        c.untrusted = paths_of(value, c.file, "validation.untrusted");
      } else if (key == "crls") {
        c.crls = paths_of(value, c.file, "validation.crls");
      } else {
        bad(file, "unknown key \"validation." + key + "\"");
      }
    }
  }
  if (j.contains("jobs")) {
    if (!j["jobs"].is_number_unsigned() || j["jobs"].get<unsigned>() == 0) bad(file, "\"jobs\" must be a positive number");
    c.jobs = j["jobs"].get<unsigned>();
  }
  if (j.contains("thresholds")) {
    const json& t = j["thresholds"];
    if (!t.is_array() || t.empty()) bad(file, "\"thresholds\" must be a list of days, e.g. [90, 60, 30, 14, 7, 1, 0]");
    std::vector<int> days;
    for (const auto& d : t) {
      if (!d.is_number_integer() || d.get<long long>() < 0 || d.get<long long>() > 3650) {
        bad(file, "\"thresholds\" holds whole days from 0 to 3650");
      }
      days.push_back(d.get<int>());
    }
    c.thresholds = std::move(days);
  }
  if (j.contains("sinks")) {
    if (!j["sinks"].is_array()) bad(file, "\"sinks\" must be a list of sink objects");
    for (json s : j["sinks"]) {
      if (!s.is_object() || !s.contains("name") || !s["name"].is_string()) bad(file, "every sink needs a \"name\"");
      const int kinds = (s.contains("jsonl") ? 1 : 0) + (s.contains("command") ? 1 : 0);
      if (kinds != 1) bad(file, "sink \"" + s["name"].get<std::string>() + "\" needs one of \"jsonl\" or \"command\"");
      if (s.contains("jsonl") && s["jsonl"] != "-") s["jsonl"] = path_of(s["jsonl"], c.file, "sinks.jsonl");
      if (s.contains("command")) s["command"] = path_of(s["command"], c.file, "sinks.command");
      c.sinks.push_back(std::move(s));
    }
  }
  return c;
}

}  // namespace

Config load_config(const std::string& explicit_path) {
  if (!explicit_path.empty()) return parse(explicit_path);
  if (const char* env = std::getenv("DPGCERT_CONFIG"); env != nullptr && *env != '\0') return parse(env);
  for (const auto& p : default_locations()) {
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return parse(p);
  }
  return {};
}

}  // namespace dpgcert::cli
