// Finding and reading the tool's configuration file.
#include "config.hpp"

#include "core/file_io.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/lifecycle.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
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

/// The value(s) of one sink option from the file, as text: paths resolved against its folder.
std::vector<std::string> sink_values(const json& v, const SinkOption& o, const fs::path& file, const std::string& where) {
  switch (o.type) {
    case SinkOption::Type::strings: {
      if (!v.is_array()) bad(file, "\"" + where + "\" must be a list of strings");
      std::vector<std::string> out;
      for (const auto& e : v) {
        if (!e.is_string()) bad(file, "\"" + where + "\" must be a list of strings");
        out.push_back(e.get<std::string>());
      }
      return out;
    }
    case SinkOption::Type::seconds:
      if (!v.is_number_integer() || v.get<long long>() <= 0) bad(file, "\"" + where + "\" is seconds > 0");
      return {std::to_string(v.get<long long>())};
    case SinkOption::Type::path:
      if (v == "-") return {"-"};
      return {path_of(v, file, where)};
    case SinkOption::Type::program:
      return {path_of(v, file, where)};
    case SinkOption::Type::string:
      return {string_of(v, file, where)};
    case SinkOption::Type::flag:
      if (!v.is_boolean()) bad(file, "\"" + where + "\" must be true or false");
      return {v.get<bool>() ? "true" : "false"};
  }
  return {};
}

/// One entry of "sinks": its kind is the member named after one (sink_kinds()), the other members
/// are that kind's options.
StoreGlobal::Sink sink_entry(const json& s, const fs::path& file) {
  if (!s.is_object() || !s.contains("name") || !s["name"].is_string()) bad(file, "every sink needs a \"name\"");
  StoreGlobal::Sink sink;
  sink.name = s["name"].get<std::string>();
  const std::vector<SinkKindInfo> kinds = sink_kinds();
  std::vector<const SinkKindInfo*> named;
  std::string names;
  for (const SinkKindInfo& k : kinds) {
    names += (names.empty() ? "\"" : ", \"") + k.name + "\"";
    if (s.contains(k.name)) named.push_back(&k);
  }
  if (named.size() != 1) bad(file, "sink \"" + sink.name + "\" needs one of " + names);
  const SinkKindInfo& kind = *named[0];
  sink.kind = kind.name;
  for (const auto& item : s.items()) {
    // Named, not structured bindings: clang 14 cannot capture those in the lambda below.
    const std::string& key = item.key();
    const nlohmann::json& value = item.value();
    if (key == "name") continue;
    if (key == "backlog") {  // whether a sink added from the file receives the events that waited for one
      if (!value.is_boolean()) bad(file, "sink \"" + sink.name + "\": \"backlog\" must be true or false");
      sink.backlog = value.get<bool>();
      continue;
    }
    const std::string where = "sinks." + key;
    const auto o = std::find_if(kind.options.begin(), kind.options.end(), [&](const SinkOption& so) { return so.config_key == key; });
    if (o == kind.options.end()) {
      if (key == kind.name && value == true) continue;  // "callback": true
      bad(file, key == kind.name ? "\"" + where + "\" must be true"
                                 : "sink \"" + sink.name + "\": a " + kind.name + " sink has no \"" + key + "\"");
    }
    for (std::string& v : sink_values(value, *o, file, where)) sink.options.emplace_back(o->flag, std::move(v));
  }
  try {
    (void)sink_from_options(sink.name, sink.kind, sink.options);
  } catch (const Error& e) {
    bad(file, e.what());
  }
  return sink;
}

Config parse(const fs::path& file) {
  const auto text = detail::read_file(file, {.limit = kMaxConfigBytes, .what = "configuration"});
  json j;
  try {
    j = json::parse(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()));
  } catch (const json::parse_error& e) {
    bad(file, "not valid JSON (byte " + std::to_string(e.byte) + ")");
  } catch (const json::exception&) {
    // Well-formed but not representable, e.g. a number that overflows a double (out_of_range 406).
    bad(file, "not valid JSON (a number out of range)");
  }
  if (!j.is_object()) bad(file, "must be a JSON object");
  Config c;
  c.file = fs::absolute(file);
  static const std::set<std::string> known{"store", "key_file", "passphrase_env", "actor", "validation", "jobs", "thresholds", "sinks", "min_interval", "revocation_refresh"};
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
    if (!v.is_object()) bad(file, "\"validation\" must be an object with \"trust\", \"untrusted\", \"crls\", \"profile\", ...");
    for (const auto& [key, value] : v.items()) {
      if (key == "trust") {
        c.trust = paths_of(value, c.file, "validation.trust");
      } else if (key == "untrusted") {
        c.untrusted = paths_of(value, c.file, "validation.untrusted");
      } else if (key == "crls") {
        c.crls = paths_of(value, c.file, "validation.crls");
      } else if (!read_verify_setting(key, value, c.file, c.verify)) {
        bad(file, "unknown key \"validation." + key + "\"");
      }
    }
    try {
      (void)c.verify.policy();  // an unknown profile, scope or mode is the file's error, said now
    } catch (const Error& e) {
      bad(file, std::string("\"validation\": ") + e.what());
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
  if (j.contains("min_interval")) {
    const json& m = j["min_interval"];
    std::optional<std::chrono::seconds> d;
    if (m.is_number_unsigned()) {
      d = parse_duration(std::to_string(m.get<std::uint64_t>()));
    } else if (m.is_string()) {
      d = parse_duration(m.get<std::string>());
    }
    if (!d) bad(file, "\"min_interval\" must be a duration: whole seconds, or text such as \"90s\", \"15m\", \"1h\", \"1d\"");
    c.min_interval = d;
  }
  if (j.contains("revocation_refresh")) {
    const json& m = j["revocation_refresh"];
    std::optional<std::chrono::seconds> d;
    if (m.is_string() && m.get<std::string>() == "off") {
      c.revocation_refresh = std::optional<std::chrono::seconds>();
    } else {
      if (m.is_number_unsigned()) {
        d = parse_duration(std::to_string(m.get<std::uint64_t>()));
      } else if (m.is_string()) {
        d = parse_duration(m.get<std::string>());
      }
      if (!d || d->count() < 60) {
        bad(file, "\"revocation_refresh\" must be \"off\" or a duration of at least a minute (\"6h\", \"1d\", seconds)");
      }
      c.revocation_refresh = d;
    }
  }
  if (j.contains("sinks")) {
    if (!j["sinks"].is_array()) bad(file, "\"sinks\" must be a list of sink objects");
    for (const json& s : j["sinks"]) c.sinks.push_back(sink_entry(s, c.file));
  }
  return c;
}

}  // namespace

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 9) return std::nullopt;
  std::int64_t value = 0;
  for (std::size_t i = 0; i < digits; ++i) value = value * 10 + (text[i] - '0');
  const std::string_view unit = text.substr(digits);
  std::int64_t scale = 0;
  if (unit.empty() || unit == "s") {
    scale = 1;
  } else if (unit == "m") {
    scale = 60;
  } else if (unit == "h") {
    scale = 3600;
  } else if (unit == "d") {
    scale = 86400;
  } else {
    return std::nullopt;
  }
  const std::int64_t seconds = value * scale;
  if (seconds > 3650LL * 86400) return std::nullopt;
  return std::chrono::seconds(seconds);
}

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
