// The sink registry: sink kinds by name. Each kind lives in its own file under sinks/; adding one
// is that file and one line in kinds() below. The tool's `sink add` options and configuration file
// members come from the kinds' option descriptions (sink_from_options), so it needs no change.
#include "core/text.hpp"
#include "lifecycle/sinks/sink_kind.hpp"

#include <dpgcert/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <random>
#include <vector>

namespace dpgcert {
namespace lifecycle_detail {
namespace {

/// The option's tool names filled in: the flag defaults to the key ('_' as '-'), the
/// configuration member to the flag.
SinkKindEntry with_names(SinkKindEntry k) {
  for (SinkOption& o : k.info.options) {
    if (o.flag.empty()) {
      o.flag = o.key;
      std::replace(o.flag.begin(), o.flag.end(), '_', '-');
    }
    if (o.config_key.empty()) o.config_key = o.flag;
  }
  return k;
}

/// In the order the tool lists them.
const std::vector<SinkKindEntry>& kinds() {
  static const std::vector<SinkKindEntry> all{
      with_names(jsonl_sink_kind()),
      with_names(command_sink_kind()),
      with_names(callback_sink_kind()),
      with_names(webhook_sink_kind()),
      with_names(smtp_sink_kind()),
  };
  return all;
}

std::int64_t seconds_of(const SinkConfig& sink, const SinkOption& o, const std::string& text) {
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 1) {
    bad_setting(sink, "\"" + o.flag + "\" is a whole number of seconds, at least 1");
  }
  return n;
}

std::string absolute_path(std::string p) {
  if (p == "-" || p.empty()) return p;
  std::error_code ec;
  const auto abs = std::filesystem::absolute(p, ec);
  return ec ? p : abs.lexically_normal().string();
}

std::string known_kinds() {
  std::string out;
  for (const auto& k : kinds()) out += (out.empty() ? "" : ", ") + k.info.name;
  return out;
}

}  // namespace

const SinkKindEntry* find_sink_kind(std::string_view name) {
  for (const auto& k : kinds()) {
    if (k.info.name == name) return &k;
  }
  return nullptr;
}

nlohmann::json settings_of(const SinkConfig& sink) {
  nlohmann::json j = nlohmann::json::parse(sink.settings, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    throw Error(ErrorCode::invalid_argument, "sink '" + sink.name + "': the settings are not a JSON object");
  }
  return j;
}

std::string settings_text(const nlohmann::json& settings) {
  const nlohmann::json safe = detail::json_safe(settings);
  if (safe != settings) throw Error(ErrorCode::invalid_argument, "sink settings must be UTF-8 text");
  return safe.dump();
}

void bad_setting(const SinkConfig& sink, const std::string& what) {
  throw Error(ErrorCode::invalid_argument, "sink '" + sink.name + "': " + what);
}

std::int64_t setting_number(const SinkConfig& sink, const nlohmann::json& j, const char* key, std::int64_t fallback,
                            std::int64_t max) {
  if (!j.contains(key)) return fallback;
  if (!j[key].is_number_integer() || j[key].get<std::int64_t>() < 1 || j[key].get<std::int64_t>() > max) {
    bad_setting(sink, std::string("\"") + key + "\" must be a whole number from 1 to " + std::to_string(max));
  }
  return j[key].get<std::int64_t>();
}

std::string setting_text(const SinkConfig& sink, const nlohmann::json& j, const char* key) {
  if (!j.contains(key)) return {};
  if (!j[key].is_string() || j[key].get<std::string>().empty()) bad_setting(sink, std::string("\"") + key + "\" must be text");
  return j[key].get<std::string>();
}

std::chrono::seconds jittered(std::chrono::seconds backoff) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const auto half = std::max<std::int64_t>(backoff.count() / 2, 1);
  std::uniform_int_distribution<std::int64_t> pick(half, std::max(half, static_cast<std::int64_t>(backoff.count())));
  return std::chrono::seconds(pick(rng));
}

std::unique_ptr<SinkRunner> make_runner(const SinkConfig& sink, const EventCallback* callback) {
  const SinkKindEntry* kind = find_sink_kind(sink.kind);
  if (kind == nullptr) return std::make_unique<FailingRunner>("sink kind '" + sink.kind + "' is not built into this dpgcert");
  try {
    return kind->make(sink, callback);
  } catch (const Error& e) {
    return std::make_unique<FailingRunner>(e.what());
  }
}

}  // namespace lifecycle_detail

SinkConfig sink_from_options(std::string name, std::string_view kind, const SinkOptionValues& values) {
  using lifecycle_detail::bad_setting;
  const lifecycle_detail::SinkKindEntry* k = lifecycle_detail::find_sink_kind(kind);
  SinkConfig sink;
  sink.name = std::move(name);
  sink.kind = std::string(kind);
  if (k == nullptr) {
    throw Error(ErrorCode::invalid_argument, "sink '" + sink.name + "': unknown kind '" + sink.kind +
                                                 "' (known: " + lifecycle_detail::known_kinds() + ")");
  }
  const std::vector<SinkOption>& options = k->info.options;
  for (const auto& entry : values) {
    const std::string& flag = entry.first;  // not a structured binding: clang 14 cannot capture those
    const bool known = std::any_of(options.begin(), options.end(), [&](const SinkOption& o) { return o.flag == flag; });
    if (!known && flag != sink.kind) bad_setting(sink, "a " + sink.kind + " sink has no option \"" + flag + "\"");
  }
  nlohmann::json settings = nlohmann::json::object();
  for (const SinkOption& o : options) {
    std::vector<std::string> given;
    for (const auto& [flag, value] : values) {
      if (flag == o.flag) given.push_back(value);
    }
    if (given.empty() && !o.default_value.empty()) given.push_back(o.default_value);
    if (given.empty()) {
      if (o.required) bad_setting(sink, "a " + sink.kind + " sink needs \"" + o.flag + "\"");
      continue;
    }
    if (o.type != SinkOption::Type::strings && given.size() > 1) bad_setting(sink, "\"" + o.flag + "\" takes one value");
    nlohmann::json& member = settings[o.key];
    switch (o.type) {
      case SinkOption::Type::string: member = given[0]; break;
      case SinkOption::Type::path: member = lifecycle_detail::absolute_path(given[0]); break;
      case SinkOption::Type::seconds: member = lifecycle_detail::seconds_of(sink, o, given[0]); break;
      case SinkOption::Type::strings:
        if (!member.is_array()) member = nlohmann::json::array();
        for (const std::string& v : given) member.push_back(v);
        break;
      case SinkOption::Type::flag:
        if (given[0] != "true" && given[0] != "false") bad_setting(sink, "\"" + o.flag + "\" is true or false");
        member = given[0] == "true";
        break;
      case SinkOption::Type::program:  // first, before arguments given by an earlier option
        if (!member.is_array()) member = nlohmann::json::array();
        member.insert(member.begin(), given[0]);
        break;
    }
  }
  sink.settings = lifecycle_detail::settings_text(settings);
  validate_sink(sink);
  return sink;
}

std::string describe_sink(const SinkConfig& sink) {
  const lifecycle_detail::SinkKindEntry* k = lifecycle_detail::find_sink_kind(sink.kind);
  if (k == nullptr) return "(kind '" + sink.kind + "' is not built into this dpgcert)";
  try {
    return k->describe ? k->describe(sink) : "?";
  } catch (const std::exception&) {
    return "?";
  }
}

std::vector<SinkKindInfo> sink_kinds() {
  std::vector<SinkKindInfo> out;
  for (const auto& k : lifecycle_detail::kinds()) out.push_back(k.info);
  return out;
}

void validate_sink(const SinkConfig& sink) {
  const lifecycle_detail::SinkKindEntry* kind = lifecycle_detail::find_sink_kind(sink.kind);
  if (kind == nullptr) {
    throw Error(ErrorCode::invalid_argument, "sink '" + sink.name + "': unknown kind '" + sink.kind +
                                                 "' (known: " + lifecycle_detail::known_kinds() + ")");
  }
  kind->validate(sink);
}

}  // namespace dpgcert
