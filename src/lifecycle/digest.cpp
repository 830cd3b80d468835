// The digest for humans: per organisation, what expires when and whom to contact.
#include "core/text.hpp"
#include "lifecycle/lifecycle_impl.hpp"

#include <dpgcert/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

namespace dpgcert {
namespace {

using nlohmann::json;
using lifecycle_detail::Policies;

constexpr std::size_t kPage = 10000;

json opt(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

std::string pad(std::string s, std::size_t width) {
  s = detail::terminal_text(s);  // values from the store and certificates, escaped for a terminal
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s + ' ';
}

std::string stage_text(const std::optional<int>& stage) {
  if (!stage) return "-";
  if (*stage == 0) return "expired";
  return std::to_string(*stage) + (*stage == 1 ? " day" : " days");
}

std::string days_text(long long days) {
  if (days < 0) return std::to_string(-days) + (days == -1 ? " day ago" : " days ago");
  if (days == 0) return "today";
  return "in " + std::to_string(days) + (days == 1 ? " day" : " days");
}

DigestCertificate digest_entry(TrackedCertificate c, const RenewalPolicy& policy, Time now) {
  DigestCertificate d;
  d.days_left = days_until(c.effective_not_after, now);
  d.stage = stage_at(policy, c.effective_not_after, now);
  d.severity = severity_of(policy, d.stage);
  d.certificate = std::move(c);
  return d;
}

void sort_soonest_first(std::vector<DigestCertificate>& v) {
  std::sort(v.begin(), v.end(), [](const DigestCertificate& a, const DigestCertificate& b) {
    if (a.certificate.effective_not_after != b.certificate.effective_not_after) {
      return a.certificate.effective_not_after < b.certificate.effective_not_after;
    }
    return a.certificate.fingerprint < b.certificate.fingerprint;
  });
}

/// Every active certificate (of one organisation, if given), page by page.
template <class F>
void for_each_active(const Store& store, const std::optional<std::string>& cvr, F&& f) {
  TrackedQuery q;
  q.organisation_cvr = cvr;
  q.limit = kPage;
  for (;;) {
    std::vector<TrackedCertificate> page = lifecycle_detail::tracked(store, q);
    if (page.empty()) break;
    q.after_id = page.back().id;
    for (TrackedCertificate& c : page) f(std::move(c));
    if (page.size() < kPage) break;
  }
}

json certificate_json(const DigestCertificate& d) {
  const TrackedCertificate& c = d.certificate;
  return {{"fingerprint_sha256", c.fingerprint},
          {"common_name", opt(c.common_name)},
          {"mailbox", opt(c.mailbox)},
          {"type", c.type == oces::CertificateType::none ? json(nullptr) : json(std::string(oces::to_string(c.type)))},
          {"not_after", format_rfc3339(c.not_after)},
          {"effective_not_after", format_rfc3339(c.effective_not_after)},
          {"days_left", d.days_left},
          {"stage_days", d.stage ? json(*d.stage) : json(nullptr)},
          {"severity", std::string(to_string(d.severity))},
          {"announced_stage_days", c.stage ? json(*c.stage) : json(nullptr)}};
}

}  // namespace

Digest Lifecycle::digest(Time now, std::optional<std::string_view> cvr) const {
  const Store& store = impl_->store;
  const Policies policies = Policies::load(store);
  Digest digest;
  digest.at = now;
  if (cvr) {
    OrganisationDigest od;
    od.organisation = store.find_organisation(*cvr);
    if (!od.organisation) throw Error(ErrorCode::not_found, "lifecycle: no organisation with CVR " + std::string(*cvr));
    od.policy = policies.for_organisation(od.organisation->cvr);
    for_each_active(store, od.organisation->cvr,
                    [&](TrackedCertificate c) { od.certificates.push_back(digest_entry(std::move(c), od.policy, now)); });
    sort_soonest_first(od.certificates);
    digest.organisations.push_back(std::move(od));
    return digest;
  }
  // Every organisation, those without an active certificate too (that is news as well); then the
  // certificates attached to none.
  std::map<std::string, OrganisationDigest, std::less<>> by_cvr;
  for (Organisation& o : store.list_organisations()) {
    OrganisationDigest od;
    od.policy = policies.for_organisation(o.cvr);
    const std::string key = o.cvr;
    od.organisation = std::move(o);
    by_cvr.emplace(key, std::move(od));
  }
  OrganisationDigest unattached;
  unattached.policy = policies.default_policy();
  for_each_active(store, std::nullopt, [&](TrackedCertificate c) {
    auto it = c.organisation_cvr ? by_cvr.find(*c.organisation_cvr) : by_cvr.end();
    OrganisationDigest& od = it != by_cvr.end() ? it->second : unattached;
    od.certificates.push_back(digest_entry(std::move(c), od.policy, now));
  });
  for (auto& [key, od] : by_cvr) {
    sort_soonest_first(od.certificates);
    digest.organisations.push_back(std::move(od));
  }
  if (!unattached.certificates.empty()) {
    sort_soonest_first(unattached.certificates);
    digest.organisations.push_back(std::move(unattached));
  }
  return digest;
}

nlohmann::json to_json(const Digest& digest) {
  json orgs = json::array();
  for (const OrganisationDigest& od : digest.organisations) {
    json contacts = json::array();
    if (od.organisation) {
      for (const Contact& c : od.organisation->contacts) {
        contacts.push_back({{"name", c.name}, {"email", c.email}, {"role", c.role}});
      }
    }
    json certs = json::array();
    for (const DigestCertificate& d : od.certificates) certs.push_back(certificate_json(d));
    orgs.push_back({{"cvr", od.organisation ? json(od.organisation->cvr) : json(nullptr)},
                    {"name", od.organisation ? json(od.organisation->name) : json(nullptr)},
                    {"contacts", std::move(contacts)},
                    {"policy", od.policy.thresholds_days},
                    {"certificates", std::move(certs)}});
  }
  return detail::json_safe({{"at", format_rfc3339(digest.at)}, {"organisations", std::move(orgs)}});
}

std::string to_text(const Digest& digest) {
  std::ostringstream out;
  out << "Renewal digest at " << format_rfc3339(digest.at) << "\n";
  for (const OrganisationDigest& od : digest.organisations) {
    out << '\n';
    if (od.organisation) {
      out << detail::terminal_text(od.organisation->name) << " - CVR " << detail::terminal_text(od.organisation->cvr) << '\n';
      if (od.organisation->contacts.empty()) {
        out << "  Contacts: none recorded (add one: dpgcert org add ... --contact)\n";
      }
      for (const Contact& c : od.organisation->contacts) {
        out << "  Contact:  " << detail::terminal_text(c.name.empty() ? "" : c.name + " ") << '<'
            << detail::terminal_text(c.email) << '>' << detail::terminal_text(c.role.empty() ? "" : " (" + c.role + ")")
            << '\n';
      }
    } else {
      out << "Certificates attached to no organisation\n";
    }
    out << "  Policy:   ";
    for (std::size_t i = 0; i < od.policy.thresholds_days.size(); ++i) {
      out << (i == 0 ? "" : ", ") << od.policy.thresholds_days[i];
    }
    out << " days before expiry\n";
    if (od.certificates.empty()) {
      out << "  (no active certificates)\n";
      continue;
    }
    out << "  " << pad("EXPIRES", 10) << pad("WHEN", 12) << pad("STAGE", 9) << pad("SEVERITY", 8)
        << pad("MAILBOX", 30) << pad("TYPE", 12) << "CERTIFICATE\n";
    for (const DigestCertificate& d : od.certificates) {
      const TrackedCertificate& c = d.certificate;
      const std::string type = c.type == oces::CertificateType::none ? "-" : std::string(oces::to_string(c.type));
      out << "  " << pad(format_rfc3339(c.effective_not_after).substr(0, 10), 10) << pad(days_text(d.days_left), 12)
          << pad(stage_text(d.stage), 9) << pad(d.severity == Severity::none ? "-" : std::string(to_string(d.severity)), 8)
          << pad(c.mailbox.value_or("-"), 30) << pad(type, 12) << detail::terminal_text(c.common_name.value_or("-")) << " ("
          << c.fingerprint.substr(0, 16) << ")";
      if (c.effective_not_after < c.not_after) out << " - an issuing CA expires first";
      out << '\n';
    }
  }
  return out.str();
}

}  // namespace dpgcert
