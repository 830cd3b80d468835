// The revocation refresh of check(): every active certificate's path asked about online (OCSP
// first, CRLs through Store::fetch_crl so each is fetched at most once per its validity), at most
// once per interval for the store. The interval and the time of the last refresh are store
// settings (no table of their own: one value per store). A certificate found revoked gets the
// status `revoked` through Store::set_status() — audited, and recorded as a pending status change
// that the same check then announces as a `revoked` event. Failures to get an answer are results.
#include "lifecycle/revocation_refresh.hpp"

#include "store/backend.hpp"
#include "store/store_impl.hpp"

#include <dpgcert/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace dpgcert::lifecycle_detail {
namespace {

using Impl = Store::Impl;
Impl& impl(const Store& store) { return store_detail::Access::impl(store); }

constexpr std::string_view kIntervalSetting = "lifecycle.revocation_refresh_seconds";
constexpr std::string_view kLastSetting = "lifecycle.revocation_refreshed_at";
constexpr std::chrono::seconds kDefaultInterval{24 * 3600};

std::optional<long long> number(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  try {
    return std::stoll(*text);
  } catch (const std::exception&) {
    return std::nullopt;  // a value this code did not write: as if unset
  }
}

std::optional<std::string> read_setting(const Store& store, std::string_view name) {
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) { return tx.setting(name); });
}

std::string interval_text(std::optional<std::chrono::seconds> i) { return i ? std::to_string(i->count()) : "off"; }

}  // namespace

std::optional<std::chrono::seconds> revocation_refresh(const Store& store) {
  const auto n = number(read_setting(store, kIntervalSetting));
  if (!n || *n <= 0) return std::nullopt;
  return std::chrono::seconds(*n);
}

void set_revocation_refresh(Store& store, std::optional<std::chrono::seconds> interval, std::string_view actor) {
  if (interval && (interval->count() < 60 || interval->count() > 366LL * 24 * 3600)) {
    throw Error(ErrorCode::invalid_argument, "lifecycle: the revocation refresh interval must be 60 s to a year, or off");
  }
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  const Time t = s.now();
  const std::string who = s.actor_or_default(actor);
  s.transact(true, [&](store::Transaction& tx) {
    const auto before_n = number(tx.setting(kIntervalSetting));
    const std::optional<std::chrono::seconds> before =
        before_n && *before_n > 0 ? std::optional<std::chrono::seconds>(*before_n) : std::nullopt;
    if (before == interval) return;
    tx.set_setting(kIntervalSetting, interval ? std::to_string(interval->count()) : "off", t);
    s.audit(tx, t, who, "lifecycle.revocation_refresh", "store", s.backend->location(),
            {{"from", interval_text(before)}, {"to", interval_text(interval)}});
  });
}

std::optional<Time> last_revocation_refresh(const Store& store) {
  const auto n = number(read_setting(store, kLastSetting));
  if (!n) return std::nullopt;
  return from_unix(*n);
}

RevocationRefreshResult refresh_revocation(Store& store, Time now, const RevocationRefreshOptions& options,
                                           std::size_t batch) {
  RevocationRefreshResult out;
  const std::optional<std::chrono::seconds> setting = revocation_refresh(store);
  if (!options.enabled && !setting) return out;
  const std::chrono::seconds interval = options.interval.value_or(setting.value_or(kDefaultInterval));
  if (interval.count() <= 0) throw Error(ErrorCode::invalid_argument, "lifecycle: the revocation refresh interval must be positive");
  if (const std::optional<Time> last = last_revocation_refresh(store); last && *last <= now && now < *last + interval) {
    out.skip_reason = "the last revocation refresh ran at " + format_rfc3339(*last) + "; the next is due at " +
                      format_rfc3339(*last + interval);
    out.next_due = *last + interval;
    return out;
  }
  out.ran = true;
  out.next_due = now + interval;

  ValidationInput input;
  input.at = now;
  input.anchors = options.anchors;
  input.intermediates = options.intermediates;
  // Only the path and its revocation matter here: the import already judged the rest.
  input.policy = ValidationPolicy::generic();
  input.policy.policy_check = false;
  input.policy.set_min_key_bits(0);
  input.policy.weak_signature_digests.clear();
  input.policy.revocation = RevocationScope::chain;
  input.revocation_mode = RevocationMode::online;
  input.online.fetch = options.fetch;
  input.online.use_ocsp = options.use_ocsp;
  input.online.crl_source = [&store, fetch = options.fetch](const std::string& url, const Certificate& subject,
                                                            const Certificate& issuer, Time) {
    return store.fetch_crl(url, subject, issuer, fetch);
  };

  TrackedQuery query;
  query.active_only = true;
  query.limit = std::clamp<std::size_t>(batch, 1, 100000);
  // The pages are read first: set_status() changes which certificates are active.
  std::vector<TrackedCertificate> all;
  for (;;) {
    std::vector<TrackedCertificate> page = tracked(store, query);
    if (page.empty()) break;
    query.after_id = page.back().id;
    for (auto& c : page) all.push_back(std::move(c));
  }
  for (const TrackedCertificate& c : all) {
    RevocationRefreshProblem problem;
    problem.fingerprint = c.fingerprint;
    try {
      const std::optional<CertificateRecord> record = store.find(c.fingerprint);
      if (!record) continue;  // removed meanwhile
      problem.subject = record->subject;
      ++out.checked;
      const ValidationReport report = validate(record->certificate, input);
      const Check* check = report.find(check_id::revocation);
      const auto revoked = std::find_if(report.revocation.begin(), report.revocation.end(),
                                        [](const RevocationStatus& r) { return r.status == "revoked"; });
      if (revoked != report.revocation.end()) {
        std::string reason = revoked->depth == 0 ? std::string("revoked by its CA") : "its issuing CA " + revoked->subject + " is revoked";
        if (revoked->reason) {
          reason += " (";
          reason += to_string(*revoked->reason);
          reason += ")";
        }
        reason += ", found by the revocation refresh (";
        reason += revoked->source;
        reason += " ";
        reason += revoked->url;
        reason += ")";
        (void)store.set_status(c.fingerprint, CertificateStatus::revoked, reason);
        out.revoked.push_back(c.fingerprint);
        continue;
      }
      if (check != nullptr && check->status == CheckStatus::pass) {
        ++out.good;
        continue;
      }
      problem.message = check != nullptr ? check->message : std::string("no revocation check");
      for (const auto& st : report.revocation) {
        if (st.status != "unavailable") continue;
        problem.errors.insert(problem.errors.end(), st.problems.begin(), st.problems.end());
      }
      out.problems.push_back(std::move(problem));
    } catch (const Error& e) {
      // One certificate's trouble (a lost store connection is thrown by the next store call) must
      // not end the refresh of the others.
      problem.message = e.what();
      out.problems.push_back(std::move(problem));
    }
  }
  {
    Impl& s = impl(store);
    std::lock_guard lock(s.mu);
    const Time t = s.now();
    s.transact(true, [&](store::Transaction& tx) { tx.set_setting(kLastSetting, std::to_string(to_unix(now)), t); });
  }
  return out;
}

}  // namespace dpgcert::lifecycle_detail

namespace dpgcert {

nlohmann::json to_json(const RevocationRefreshResult& result) {
  nlohmann::json problems = nlohmann::json::array();
  for (const auto& p : result.problems) {
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& e : p.errors) errors.push_back({{"kind", std::string(to_string(e.kind))}, {"reason", e.reason}, {"url", e.url}});
    problems.push_back({{"fingerprint", p.fingerprint}, {"subject", p.subject}, {"message", p.message}, {"errors", std::move(errors)}});
  }
  nlohmann::json r{{"ran", result.ran},
                   {"skip_reason", result.skip_reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(result.skip_reason)},
                   {"checked", result.checked},
                   {"good", result.good},
                   {"revoked", result.revoked},
                   {"problems", std::move(problems)},
                   {"next_due", result.next_due ? nlohmann::json(format_rfc3339(*result.next_due)) : nlohmann::json(nullptr)}};
  return nlohmann::json{{"revocation", std::move(r)}};
}

}  // namespace dpgcert
