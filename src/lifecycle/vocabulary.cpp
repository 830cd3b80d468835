// The lifecycle's vocabulary: names of event kinds, severities and sink kinds, and renewal
// policies as text.
#include <dpgcert/error.hpp>
#include <dpgcert/lifecycle.hpp>

#include <algorithm>
#include <charconv>
#include <string>

namespace dpgcert {
namespace {

// Ten years ahead is further than any certificate lives; 32 stages are more than anyone announces.
constexpr int kMaxThresholdDays = 3650;
constexpr std::size_t kMaxThresholds = 32;

}  // namespace

std::string_view to_string(EventKind kind) noexcept {
  switch (kind) {
    case EventKind::expiring: return "expiring";
    case EventKind::expired: return "expired";
    case EventKind::renewed: return "renewed";
    case EventKind::revoked: return "revoked";
    case EventKind::validation_failed: return "validation_failed";
  }
  return "expiring";
}

std::optional<EventKind> parse_event_kind(std::string_view text) noexcept {
  for (EventKind k : {EventKind::expiring, EventKind::expired, EventKind::renewed, EventKind::revoked,
                      EventKind::validation_failed}) {
    if (text == to_string(k)) return k;
  }
  return std::nullopt;
}

std::string_view to_string(Severity severity) noexcept {
  switch (severity) {
    case Severity::none: return "none";
    case Severity::warning: return "warning";
    case Severity::critical: return "critical";
  }
  return "none";
}

void validate(const RenewalPolicy& policy) {
  const auto& t = policy.thresholds_days;
  if (t.empty() || t.size() > kMaxThresholds) {
    throw Error(ErrorCode::invalid_argument, "renewal policy: give 1 to " + std::to_string(kMaxThresholds) +
                                                 " thresholds, not " + std::to_string(t.size()));
  }
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] < 0 || t[i] > kMaxThresholdDays) {
      throw Error(ErrorCode::invalid_argument, "renewal policy: a threshold is 0 to " +
                                                   std::to_string(kMaxThresholdDays) + " days, not " +
                                                   std::to_string(t[i]));
    }
    if (i > 0 && t[i] >= t[i - 1]) {
      throw Error(ErrorCode::invalid_argument,
                  "renewal policy: thresholds must be strictly descending without repeats (" + std::to_string(t[i - 1]) +
                      " then " + std::to_string(t[i]) + ")");
    }
  }
}

RenewalPolicy parse_renewal_policy(std::string_view text) {
  RenewalPolicy p;
  p.thresholds_days.clear();
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    std::string_view item = text.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    int days = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), days);
    if (item.empty() || ec != std::errc{} || end != item.data() + item.size()) {
      throw Error(ErrorCode::invalid_argument, "renewal policy: '" + std::string(item) +
                                                   "' is not a number of days (give e.g. 90,60,30,14,7,1,0)");
    }
    p.thresholds_days.push_back(days);
    if (p.thresholds_days.size() > kMaxThresholds) break;  // validate() says so
    pos = comma + 1;
  }
  validate(p);
  return p;
}

std::string to_string(const RenewalPolicy& policy) {
  std::string out;
  for (int d : policy.thresholds_days) {
    if (!out.empty()) out += ',';
    out += std::to_string(d);
  }
  return out;
}

}  // namespace dpgcert
