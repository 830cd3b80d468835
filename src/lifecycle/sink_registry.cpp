// The sink registry: sink kinds by name. Each kind lives in its own file under sinks/; adding one
// is that file and one line in kinds() below.
#include "lifecycle/sinks/sink_kind.hpp"

#include <dpgcert/error.hpp>

#include <nlohmann/json.hpp>

#include <vector>

namespace dpgcert {
namespace lifecycle_detail {
namespace {

const std::vector<SinkKindEntry>& kinds() {
  static const std::vector<SinkKindEntry> all{
      callback_sink_kind(),
      command_sink_kind(),
      jsonl_sink_kind(),
  };
  return all;
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

void bad_setting(const SinkConfig& sink, const std::string& what) {
  throw Error(ErrorCode::invalid_argument, "sink '" + sink.name + "': " + what);
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
