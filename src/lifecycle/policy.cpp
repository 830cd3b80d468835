// The renewal policy arithmetic: stages, when the next one is due, severity, retry delays.
#include "lifecycle/lifecycle_impl.hpp"

#include <algorithm>

namespace dpgcert {
namespace {

constexpr std::int64_t kDay = 86400;

/// The moment threshold `days` is crossed.
Time crossing(Time effective_not_after, int days) { return effective_not_after - std::chrono::days(days); }

}  // namespace

std::optional<int> stage_at(const RenewalPolicy& policy, Time effective_not_after, Time now) {
  // Thresholds descend, so the last one whose moment has come is the most severe crossed.
  std::optional<int> stage;
  for (int t : policy.thresholds_days) {
    if (now >= crossing(effective_not_after, t)) stage = t;
  }
  return stage;
}

std::optional<Time> next_due_at(const RenewalPolicy& policy, Time effective_not_after, std::optional<int> stage) {
  for (int t : policy.thresholds_days) {
    if (!stage || t < *stage) return crossing(effective_not_after, t);
  }
  return std::nullopt;
}

Severity severity_of(const RenewalPolicy& policy, std::optional<int> stage) {
  if (!stage) return Severity::none;
  if (*stage == 0) return Severity::critical;
  // The last stage before expiry: the smallest positive threshold (1 day by default).
  std::optional<int> last;
  for (int t : policy.thresholds_days) {
    if (t > 0) last = t;
  }
  return last && *stage <= *last ? Severity::critical : Severity::warning;
}

long long days_until(Time t, Time now) {
  const std::int64_t secs = (t - now).count();
  return secs >= 0 ? secs / kDay : -((-secs + kDay - 1) / kDay);
}

std::chrono::seconds retry_delay(int attempts) noexcept {
  constexpr std::int64_t kFirst = 60;
  constexpr std::int64_t kMax = kDay;
  const int doublings = std::clamp(attempts - 1, 0, 20);  // 2^20 minutes is past the cap already
  return std::chrono::seconds(std::min(kFirst << doublings, kMax));
}

namespace lifecycle_detail {

Policies Policies::load(const Store& store) {
  Policies p;
  for (RenewalPolicyEntry& e : lifecycle_detail::renewal_policies(store)) {
    if (e.cvr) {
      p.by_cvr_.emplace(std::move(*e.cvr), std::move(e.policy));
    } else {
      p.default_ = std::move(e.policy);
    }
  }
  return p;
}

const RenewalPolicy& Policies::for_organisation(const std::optional<std::string>& organisation_cvr) const {
  if (organisation_cvr) {
    if (auto it = by_cvr_.find(*organisation_cvr); it != by_cvr_.end()) return it->second;
  }
  return default_;
}

}  // namespace lifecycle_detail
}  // namespace dpgcert
