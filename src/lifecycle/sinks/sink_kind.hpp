// What a sink kind provides to the sink registry, and helpers its file may use. Private to the
// lifecycle layer. A kind is one file in src/lifecycle/sinks/ plus one line in sink_registry.cpp.
#pragma once

#include "lifecycle/lifecycle_impl.hpp"

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace dpgcert::lifecycle_detail {

/// One kind of sink: its description, how it checks settings and how it delivers.
struct SinkKindEntry {
  SinkKindInfo info;
  /// Throws Error(invalid_argument) for settings this kind cannot use.
  std::function<void(const SinkConfig&)> validate;
  /// The runner for a sink of this kind; `callback` is the registered function of a callback
  /// sink (null otherwise or when none is registered). May throw Error for unusable settings.
  std::function<std::unique_ptr<SinkRunner>(const SinkConfig&, const EventCallback* callback)> make;
  /// Where a sink of this kind delivers, in one line (describe_sink()). May throw on odd
  /// settings; the registry then shows "?".
  std::function<std::string(const SinkConfig&)> describe;
};

/// The built-in kinds, each defined in its own file.
[[nodiscard]] SinkKindEntry jsonl_sink_kind();
[[nodiscard]] SinkKindEntry command_sink_kind();
[[nodiscard]] SinkKindEntry callback_sink_kind();
[[nodiscard]] SinkKindEntry webhook_sink_kind();
[[nodiscard]] SinkKindEntry smtp_sink_kind();

/// The kind registered under `name`, or null.
[[nodiscard]] const SinkKindEntry* find_sink_kind(std::string_view name);

/// The sink's settings as a JSON object; Error(invalid_argument) otherwise.
[[nodiscard]] nlohmann::json settings_of(const SinkConfig& sink);
/// `settings` as the JSON text a SinkConfig holds. Settings are used as they are (paths, a
/// program's arguments), so text that is not UTF-8 is refused: Error(invalid_argument).
[[nodiscard]] std::string settings_text(const nlohmann::json& settings);
/// Throws Error(invalid_argument) "sink '<name>': <what>".
[[noreturn]] void bad_setting(const SinkConfig& sink, const std::string& what);
/// settings[key] as a whole number from 1 to `max`, `fallback` when absent; bad_setting() otherwise.
[[nodiscard]] std::int64_t setting_number(const SinkConfig& sink, const nlohmann::json& settings, const char* key,
                                          std::int64_t fallback, std::int64_t max);
/// settings[key] as non-empty text, empty when absent; bad_setting() otherwise.
[[nodiscard]] std::string setting_text(const SinkConfig& sink, const nlohmann::json& settings, const char* key);
/// A delay between half the backoff and the whole of it (full jitter on the upper half), so that
/// receivers recovering from an outage are not hit by every sender at the same moment.
[[nodiscard]] std::chrono::seconds jittered(std::chrono::seconds backoff);

/// A sink that cannot work as configured (settings unusable, callback not registered, kind not
/// built in): every delivery fails with the reason, and waits for a run that can do better.
class FailingRunner final : public SinkRunner {
 public:
  explicit FailingRunner(std::string why) : why_(std::move(why)) {}
  std::vector<SinkResult> deliver(std::span<const Delivery> batch) override {
    return std::vector<SinkResult>(batch.size(), SinkResult::retry(why_));
  }

 private:
  std::string why_;
};

/// The options several kinds share, defined once so `sink add --timeout` and `--max-attempts` mean
/// the same for each: the time a command or request may take, and the attempts before giving up.
inline SinkOption timeout_option() {
  SinkOption timeout;
  timeout.key = "timeout_seconds";
  timeout.type = SinkOption::Type::seconds;
  timeout.help = "Seconds a command may run or a request may take (default 30)";
  timeout.flag = "timeout";
  timeout.default_value = "30";
  return timeout;
}

inline SinkOption max_attempts_option() {
  SinkOption attempts;
  attempts.key = "max_attempts";
  attempts.type = SinkOption::Type::seconds;  // a whole number from 1
  attempts.help = "Attempts per event (webhook) or digest (smtp) before the sink gives up on it (default 8)";
  attempts.default_value = "8";
  return attempts;
}

}  // namespace dpgcert::lifecycle_detail
