// Sink kind "callback": a function registered in this process under the sink's name
// (Lifecycle::register_callback).
#include "lifecycle/sinks/sink_kind.hpp"

#include <dpgcert/error.hpp>

#include <nlohmann/json.hpp>

namespace dpgcert {
namespace {

using nlohmann::json;

class CallbackRunner final : public lifecycle_detail::SinkRunner {
 public:
  explicit CallbackRunner(EventCallback fn) : fn_(std::move(fn)) {}

  std::vector<SinkResult> deliver(std::span<const Delivery> batch) override {
    std::vector<SinkResult> out;
    out.reserve(batch.size());
    for (const Delivery& d : batch) out.push_back(one(d));
    return out;
  }

 private:
  SinkResult one(const Delivery& d) {
    Event e;
    try {
      e = event_from_json(json::parse(d.event.payload));
    } catch (const std::exception& ex) {
      return SinkResult::retry(std::string("the stored event does not read back: ") + ex.what());
    }
    try {
      return fn_(e);
    } catch (const std::exception& ex) {
      return SinkResult::retry(std::string("the callback threw: ") + ex.what());
    } catch (...) {
      return SinkResult::retry("the callback threw");
    }
  }

  EventCallback fn_;
};

}  // namespace

SinkConfig callback_sink(std::string name) {
  SinkConfig s;
  s.name = std::move(name);
  s.kind = "callback";
  s.settings = "{}";
  return s;
}

namespace lifecycle_detail {

SinkKindEntry callback_sink_kind() {
  SinkKindEntry k;
  k.info.name = "callback";
  k.info.summary = "an in-process function registered under the sink's name";
  k.info.flag_help = "A function the embedding program registers under NAME";  // --callback
  k.validate = [](const SinkConfig& sink) { (void)settings_of(sink); };
  k.make = [](const SinkConfig& sink, const EventCallback* callback) -> std::unique_ptr<SinkRunner> {
    (void)settings_of(sink);
    if (callback == nullptr) return std::make_unique<FailingRunner>("no callback registered for '" + sink.name + "'");
    return std::make_unique<CallbackRunner>(*callback);
  };
  k.describe = [](const SinkConfig&) { return std::string("(a function registered by the program)"); };
  return k;
}

}  // namespace lifecycle_detail
}  // namespace dpgcert
