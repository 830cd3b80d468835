// RevocationMode::online: the revocation check of validate() judged from what the network says
// about every certificate of the path (the trust anchor excepted: it is trusted as given).
//
// Per certificate, OCSP first (the responder its AIA names), the CRL its CDP names otherwise or
// when OCSP gives no answer (unreachable, refused as forged or stale, or "unknown"). OCSP comes
// first because its answer is about this one certificate, small (a few hundred bytes where an OCES
// CRL runs to MiB) and fresh (the responder signs it now, not at the CRL's last issue); the CRL is
// the fallback every OCES CA publishes, and kept in the store between runs when a store asks.
// Every attempt that fails stays in the certificate's `problems`, so the check can say why it is
// not a pass: a `warn` with the reasons, or a `fail` when the policy requires revocation data.
#include "validation/checks.hpp"
#include "validation/revocation/fetch_common.hpp"
#include "validation/revocation/online.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/revocation.hpp>

#include <algorithm>

namespace dpgcert {

std::string_view to_string(RevocationMode mode) noexcept {
  return mode == RevocationMode::online ? "online" : "offline";
}

RevocationMode parse_revocation_mode(std::string_view text) {
  if (text == "offline") return RevocationMode::offline;
  if (text == "online") return RevocationMode::online;
  throw Error(ErrorCode::invalid_argument, "revocation mode: '" + std::string(text.substr(0, 40)) +
                                               "' is neither 'offline' nor 'online'");
}

namespace detail {
namespace {

std::string short_name(const DistinguishedName& name) {
  if (auto cn = name.first("CN")) return *cn;
  return name.to_string();
}

std::string who(int depth, const Certificate& cert) {
  if (depth == 0) return "the certificate";
  return "CA '" + short_name(cert.subject()) + "'";
}

std::string problem_text(const RevocationError& e) {
  std::string out(to_string(e.kind));
  out += ": ";
  out += e.reason;
  if (!e.url.empty()) {
    out += " (";
    out += e.url;
    out += ")";
  }
  return out;
}

std::vector<std::string> http_only(const std::vector<std::string>& urls) {
  std::vector<std::string> out;
  for (const auto& u : urls) {
    if (revocation_detail::is_http_url(u)) out.push_back(u);
  }
  return out;
}

/// Asks about one certificate: OCSP, then its CRLs.
RevocationStatus ask(int depth, const Certificate& cert, const Certificate& issuer, Time at,
                     const OnlineRevocationOptions& options, const Context& ctx) {
  RevocationStatus st;
  st.depth = depth;
  st.subject = cert.subject().to_string();
  st.serial = cert.serial_hex();
  if (options.use_ocsp) {
    const auto ocsp_urls = http_only(cert.authority_info_access().ocsp);
    for (const std::string& url : ocsp_urls) {
      OcspAnswer a = query_ocsp(cert, issuer, at, options.fetch, url, ctx);
      if (!a.ok()) {
        st.problems.push_back(*a.error);
        continue;
      }
      if (a.status == OcspStatus::unknown) {
        st.problems.push_back(RevocationError{RevocationFailure::malformed, "the OCSP responder does not know the certificate", url});
        continue;
      }
      st.source = "ocsp";
      st.url = url;
      st.status = std::string(to_string(a.status));
      st.revocation_time = a.revocation_time;
      st.reason = a.reason;
      return st;
    }
  }
  const std::vector<std::string> crl_urls = options.crl_urls ? options.crl_urls(cert) : http_only(cert.crl_distribution_points());
  if (crl_urls.empty()) {
    st.problems.push_back(RevocationError{RevocationFailure::no_url,
                                          options.use_ocsp ? "the certificate names no http or https OCSP responder or CRL distribution point"
                                                           : "the certificate names no http or https CRL distribution point",
                                          ""});
    return st;
  }
  for (const std::string& url : crl_urls) {
    CrlFetch f = options.crl_source ? options.crl_source(url, cert, issuer, at)
                                    : fetch_crl(url, cert, issuer, at, options.fetch, {}, ctx);
    if (!f.ok() || !f.crl) {
      st.problems.push_back(f.error.value_or(RevocationError{RevocationFailure::malformed, "no CRL in the answer", url}));
      continue;
    }
    st.source = "crl";
    st.url = url;
    if (auto entry = f.crl->find(cert.serial())) {
      st.status = "revoked";
      st.revocation_time = entry->revocation_date;
      st.reason = entry->reason;
    } else {
      st.status = "good";
    }
    return st;
  }
  return st;
}

std::string source_text(const RevocationStatus& st) {
  return (st.source == "ocsp" ? "OCSP " : "CRL ") + st.url;
}

}  // namespace

OnlineOutcome online_revocation_check(const std::vector<Certificate>& chain, bool ran, const ValidationInput& input,
                                      const Context& ctx) {
  OnlineOutcome out;
  const std::string id(check_id::revocation);
  const ValidationPolicy& policy = input.policy;
  if (policy.revocation == RevocationScope::none) {
    out.check = {id, CheckStatus::skip, "not checked: the policy asks for no revocation check"};
    return out;
  }
  if (!ran || chain.empty()) {
    out.check = {id, CheckStatus::skip, "not checked: the chain could not be verified"};
    return out;
  }
  // The anchor (the last certificate, self-signed) is trusted as given; a partial path's last
  // certificate has no issuer here to check an answer against.
  const int n = static_cast<int>(chain.size());
  const int last = policy.revocation == RevocationScope::leaf ? std::min(0, n - 2) : n - 2;
  std::vector<std::string> failures, missing, noted, good;
  for (int depth = 0; depth <= last; ++depth) {
    const Certificate& cert = chain[static_cast<std::size_t>(depth)];
    const Certificate& issuer = chain[static_cast<std::size_t>(depth + 1)];
    RevocationStatus st = ask(depth, cert, issuer, input.at, input.online, ctx);
    std::vector<std::string> why;
    for (const auto& p : st.problems) why.push_back(problem_text(p));
    if (st.status == "revoked") {
      std::string msg = who(depth, cert) + " was revoked";
      if (st.revocation_time) msg += " on " + format_rfc3339(*st.revocation_time);
      msg += st.reason ? " (reason: " + std::string(to_string(*st.reason)) + ")" : " (no reason given)";
      msg += " according to " + source_text(st);
      failures.push_back(msg);
    } else if (st.status == "good") {
      std::string msg = who(depth, cert) + " is not revoked (" + source_text(st) + ")";
      if (!why.empty()) msg += " after " + join(why, "; ");
      good.push_back(msg);
    } else {
      const bool nothing_to_ask = st.problems.size() == 1 && st.problems[0].kind == RevocationFailure::no_url;
      std::string msg = "revocation of " + who(depth, cert) + " could not be checked: " + join(why, "; ");
      if (depth > 0 && nothing_to_ask && policy.ca_crls_optional && !policy.require_revocation_data) {
        noted.push_back(who(depth, cert) + " names no OCSP responder or CRL (not required)");
      } else {
        missing.push_back(msg);
      }
    }
    out.statuses.push_back(std::move(st));
  }
  if (!failures.empty()) {
    auto all = failures;
    all.insert(all.end(), missing.begin(), missing.end());
    out.check = {id, CheckStatus::fail, join(all, "; ")};
  } else if (!missing.empty() && policy.require_revocation_data) {
    out.check = {id, CheckStatus::fail, join(missing, "; ") + "; the policy requires revocation data"};
  } else if (!missing.empty()) {
    auto all = missing;
    all.insert(all.end(), good.begin(), good.end());
    all.insert(all.end(), noted.begin(), noted.end());
    out.check = {id, CheckStatus::warn, join(all, "; ")};
  } else if (good.empty()) {
    out.check = {id, CheckStatus::skip, noted.empty() ? std::string("not checked: no certificate in scope below the trust anchor")
                                                      : "not checked: " + join(noted, "; ")};
  } else {
    good.insert(good.end(), noted.begin(), noted.end());
    out.check = {id, CheckStatus::pass, join(good, "; ")};
  }
  return out;
}

}  // namespace detail
}  // namespace dpgcert
