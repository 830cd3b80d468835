// The backend-neutral parts of the store: names, the OS user, choosing a backend.
#include <dpgcert/error.hpp>
#include <dpgcert/store.hpp>

#include "store/schema.hpp"
#include "store/sqlite_store.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <vector>

namespace dpgcert {
namespace {

// A location naming another backend (e.g. "postgresql://..."): not available yet.
void refuse_other_backends(const std::filesystem::path& path) {
  const std::string s = path.string();
  if (s.starts_with("postgresql://") || s.starts_with("postgres://")) {
    throw Error(ErrorCode::unsupported, "store: the PostgreSQL backend is not available in this version");
  }
  if (s.empty()) throw Error(ErrorCode::invalid_argument, "store: no store path given");
}

// Ten years ahead is further than any certificate lives; 32 stages are more than anyone announces.
constexpr int kMaxThresholdDays = 3650;
constexpr std::size_t kMaxThresholds = 32;

}  // namespace

std::string_view to_string(CertificateStatus status) noexcept {
  switch (status) {
    case CertificateStatus::active: return "active";
    case CertificateStatus::superseded: return "superseded";
    case CertificateStatus::revoked: return "revoked";
    case CertificateStatus::retired: return "retired";
  }
  return "active";
}

std::optional<CertificateStatus> parse_certificate_status(std::string_view text) noexcept {
  if (text == "active") return CertificateStatus::active;
  if (text == "superseded") return CertificateStatus::superseded;
  if (text == "revoked") return CertificateStatus::revoked;
  if (text == "retired") return CertificateStatus::retired;
  return std::nullopt;
}

std::string_view to_string(ImportOutcome outcome) noexcept {
  switch (outcome) {
    case ImportOutcome::imported: return "imported";
    case ImportOutcome::already_present: return "already_present";
    case ImportOutcome::refused: return "refused";
  }
  return "refused";
}

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

std::string os_user_name() {
  const uid_t uid = ::geteuid();
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  if (size <= 0) size = 16384;
  std::vector<char> buf(static_cast<std::size_t>(size));
  struct passwd pw {};
  struct passwd* result = nullptr;
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &result) == 0 && result != nullptr && result->pw_name != nullptr &&
      *result->pw_name != '\0') {
    return result->pw_name;
  }
  return "uid:" + std::to_string(uid);
}

Store::~Store() = default;

int Store::current_schema_version() noexcept { return sqlite::latest_schema_version(); }

std::unique_ptr<Store> Store::create(StoreOptions options, const vault::KeySource& key) {
  refuse_other_backends(options.path);
  return sqlite::create_store(std::move(options), key);
}

std::unique_ptr<Store> Store::open(StoreOptions options) {
  refuse_other_backends(options.path);
  return sqlite::open_store(std::move(options));
}

}  // namespace dpgcert
