// Private pieces of the lifecycle layer shared by its source files: the handle's state, the
// policies of one run, sink runners, and small text helpers. Private to the lifecycle layer.
#pragma once

#include <dpgcert/lifecycle.hpp>

#include "lifecycle/bookkeeping.hpp"
#include "lifecycle/names.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dpgcert {

namespace lifecycle_detail {

/// The renewal policies of one run, read once: organisation overrides, the store default, the
/// built-in default.
class Policies {
 public:
  [[nodiscard]] static Policies load(const Store& store);
  /// The policy for a certificate attached to `organisation_cvr` (none: the default).
  [[nodiscard]] const RenewalPolicy& for_organisation(const std::optional<std::string>& organisation_cvr) const;
  [[nodiscard]] const RenewalPolicy& default_policy() const noexcept { return default_; }

 private:
  RenewalPolicy default_;
  std::map<std::string, RenewalPolicy, std::less<>> by_cvr_;
};

/// Delivers a batch of deliveries to one sink.
class SinkRunner {
 public:
  virtual ~SinkRunner() = default;
  /// One result per delivery, in order.
  [[nodiscard]] virtual std::vector<SinkResult> deliver(std::span<const Delivery> batch) = 0;
};

/// The runner for a configured sink; `callback` is the registered function of a callback sink.
/// A sink whose settings are unusable gets a runner that fails every delivery with the reason.
/// Exported (though private) for the sink conformance suite.
[[nodiscard]] DPGCERT_API std::unique_ptr<SinkRunner> make_runner(const SinkConfig& sink, const EventCallback* callback);

}  // namespace lifecycle_detail

struct Lifecycle::Impl {
  explicit Impl(Store& s) : store(s) {}
  Store& store;
  std::mutex mu;  ///< Guards callbacks.
  std::map<std::string, EventCallback, std::less<>> callbacks;
};

}  // namespace dpgcert
