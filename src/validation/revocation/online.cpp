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
//
// A CA may sign its CRLs with a key of its own for that (PKITS 4.4.19-4.4.21): the CRL then comes
// from a CRL signer the CA's path certifies (crl_signers_for()), whose own revocation is asked
// about before the CRL is believed.
#include "core/openssl_util.hpp"
#include "validation/checks.hpp"
#include "validation/revocation/fetch_common.hpp"
#include "validation/revocation/online.hpp"
#include "x509/certificate_impl.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/revocation.hpp>

#include <openssl/x509v3.h>

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

/// A certificate that signs CRLs for a CA with a key other than the CA's certificate-signing key,
/// and the certificate that issued it (the CA itself, or the CA's own issuer).
struct CrlSigner {
  const Certificate* cert = nullptr;
  const Certificate* issued_by = nullptr;
};

struct CrlSigners {
  std::vector<CrlSigner> usable;
  std::vector<std::string> refused;  ///< Why each other certificate of the CA's name is none.
};

bool same_key(const Certificate& a, const Certificate& b) {
  const int eq = EVP_PKEY_eq(X509_get0_pubkey(a.impl().x509()), X509_get0_pubkey(b.impl().x509()));
  clear_openssl_errors();
  return eq == 1;
}

std::string cert_words(const Certificate& c) {
  std::string out = "'";
  out += c.subject().to_string();
  out += "' (serial ";
  out += c.serial_hex();
  out += ")";
  return out;
}

/// Whether `issuer` issued `c`: the name, and the signature with its key.
bool issued(const Certificate& c, const Certificate& issuer) {
  X509* x = c.impl().x509();
  X509* i = issuer.impl().x509();
  const bool ok = X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(i)) == 0 && X509_verify(x, X509_get0_pubkey(i)) == 1;
  clear_openssl_errors();
  return ok;
}

/// The separate CRL signers of `ca` among `pool` (RFC 5280 6.3.3 (f), for a CRL whose issuer is the
/// CA itself, not an indirect one: the CRL signer's certificate must chain to the same trust
/// anchor). Accepted: a certificate of the CA's name with another key, keyUsage cRLSign, valid at
/// `at`, issued by the CA itself (self-issued with its certificate-signing key) or by the CA's own
/// issuer `superior` (the next certificate of the path, as in PKITS 4.4.19); nothing is fetched for
/// it. Its own revocation is for the caller to ask about. Each other certificate of the CA's name
/// is in `refused` with the reason, so a refused CRL can say why no signer was found.
CrlSigners crl_signers_for(const Certificate& ca, const Certificate* superior, const std::vector<const Certificate*>& pool, Time at) {
  CrlSigners out;
  std::vector<Fingerprint> seen;  // a bundle's chain and the intermediates may hold the same one
  for (const Certificate* c : pool) {
    if (!(c->subject() == ca.subject()) || same_key(*c, ca)) continue;
    if (std::find(seen.begin(), seen.end(), c->fingerprint_sha256()) != seen.end()) continue;
    seen.push_back(c->fingerprint_sha256());
    X509* x = c->impl().x509();
    std::string why;
    if ((X509_get_extension_flags(x) & EXFLAG_KUSAGE) == 0 || (X509_get_key_usage(x) & KU_CRL_SIGN) == 0) {
      why = "its key usage does not allow signing CRLs (cRLSign)";
    } else if (c->not_before() > at || c->not_after() < at) {
      why = "it is not valid at ";
      why += format_rfc3339(at);
    } else if (issued(*c, ca)) {
      out.usable.push_back({c, &ca});
      continue;
    } else if (superior != nullptr && issued(*c, *superior)) {
      out.usable.push_back({c, superior});
      continue;
    } else {
      why = "it is issued neither by the CA nor by the CA's issuer";
      if (superior != nullptr) {
        why += " '";
        why += superior->subject().to_string();
        why += "'";
      }
      why += " (name or signature)";
    }
    clear_openssl_errors();
    std::string refused = cert_words(*c);
    refused += " is no CRL signer of the CA: ";
    refused += why;
    out.refused.push_back(std::move(refused));
  }
  return out;
}

std::string source_text(const RevocationStatus& st) {
  return (st.source == "ocsp" ? "OCSP " : "CRL ") + st.url;
}

/// Asks about one certificate: OCSP, then its CRLs. `signers`: the issuer's separate CRL signers
/// (nullptr when asking about such a signer itself: its status must come from its issuer's own key).
RevocationStatus ask(int depth, const Certificate& cert, const Certificate& issuer, const CrlSigners* signers, Time at,
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
    // The CRL is checked against `key_holder` as its issuer (name, key identifier, cRLSign,
    // signature): the CA, or one of its separate CRL signers.
    auto fetch = [&](const Certificate& key_holder) {
      CrlFetch f = options.crl_source ? options.crl_source(url, cert, key_holder, at)
                                      : fetch_crl(url, cert, key_holder, at, options.fetch, {}, ctx);
      if (f.ok() && !f.crl) f.error = RevocationError{RevocationFailure::malformed, "no CRL in the answer", url};
      return f;
    };
    std::optional<Crl> crl;
    const CrlSigner* signed_by = nullptr;
    std::optional<RevocationError> decisive;  // a failure that asking with another key would not change
    std::vector<std::string> signer_attempts;
    // A separate signer the pool certifies is tried before the CA's own key: a CRL kept in the
    // store (Store::fetch_crl) is kept under the certificate it was checked against, so asking
    // with the CA first would fetch such a CRL anew every time only to refuse it.
    if (signers != nullptr) {
      for (const CrlSigner& s : signers->usable) {
        CrlFetch f = fetch(*s.cert);
        if (f.ok()) {
          crl = std::move(f.crl);
          signed_by = &s;
          break;
        }
        RevocationError e = *f.error;
        if (e.kind != RevocationFailure::wrong_issuer && e.kind != RevocationFailure::bad_signature) {
          // Nothing fetched (transport, status, size, not a CRL), or this signer's CRL and unusable
          // (scope, times): the same answer would come with the CA's key.
          if (e.kind == RevocationFailure::wrong_scope || e.kind == RevocationFailure::stale ||
              e.kind == RevocationFailure::not_yet_valid) {
            std::string reason = "the CRL of the CA's separate CRL signer ";
            reason += cert_words(*s.cert);
            reason += ": ";
            reason += e.reason;
            e.reason = std::move(reason);
          }
          decisive = std::move(e);
          break;
        }
        std::string attempt = "not from the CRL signer ";
        attempt += cert_words(*s.cert);
        attempt += " either (";
        attempt += to_string(e.kind);
        attempt += ": ";
        attempt += e.reason;
        attempt += ")";
        signer_attempts.push_back(std::move(attempt));
      }
    }
    if (decisive) {
      st.problems.push_back(std::move(*decisive));
      continue;
    }
    if (!crl) {
      CrlFetch f = fetch(issuer);
      if (!f.ok()) {
        RevocationError e = *f.error;
        if (signers != nullptr && (e.kind == RevocationFailure::wrong_issuer || e.kind == RevocationFailure::bad_signature)) {
          for (const auto& a : signer_attempts) e.reason += "; " + a;
          for (const auto& r : signers->refused) e.reason += "; " + r;
        }
        st.problems.push_back(std::move(e));
        continue;
      }
      crl = std::move(f.crl);
    }
    if (signed_by != nullptr) {
      // The signer's own revocation, from its issuer's own key (OCSP or the issuer's CRL): a CRL
      // signer cannot vouch for itself.
      const RevocationStatus ss = ask(depth, *signed_by->cert, *signed_by->issued_by, nullptr, at, options, ctx);
      std::string about = "the CRL is signed by the CA's separate CRL signer ";
      about += cert_words(*signed_by->cert);
      if (ss.status == "revoked") {
        about += ", which was revoked";
        if (ss.revocation_time) {
          about += " on ";
          about += format_rfc3339(*ss.revocation_time);
        }
        if (ss.reason) {
          about += " (reason: ";
          about += to_string(*ss.reason);
          about += ")";
        }
        about += " according to ";
        about += source_text(ss);
        st.problems.push_back(RevocationError{RevocationFailure::crl_signer_revoked, std::move(about), url});
        continue;
      }
      if (ss.status != "good") {
        std::vector<std::string> why;
        for (const auto& p : ss.problems) why.push_back(problem_text(p));
        about += ", whose own revocation could not be checked: ";
        about += join(why, "; ");
        st.problems.push_back(RevocationError{RevocationFailure::crl_signer_unchecked, std::move(about), url});
        continue;
      }
      st.crl_signer = signed_by->cert->subject().to_string();
      st.crl_signer_serial = signed_by->cert->serial_hex();
    }
    st.source = "crl";
    st.url = url;
    if (auto entry = crl->find(cert.serial())) {
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

}  // namespace

OnlineOutcome online_revocation_check(const std::vector<Certificate>& chain, bool ran,
                                      const std::vector<const Certificate*>& pool, const ValidationInput& input,
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
    const Certificate* superior = depth + 2 < n ? &chain[static_cast<std::size_t>(depth + 2)] : nullptr;
    const CrlSigners signers = crl_signers_for(issuer, superior, pool, input.at);
    RevocationStatus st = ask(depth, cert, issuer, &signers, input.at, input.online, ctx);
    std::vector<std::string> why;
    for (const auto& p : st.problems) why.push_back(problem_text(p));
    if (st.status == "revoked") {
      std::string msg = who(depth, cert) + " was revoked";
      if (st.revocation_time) msg += " on " + format_rfc3339(*st.revocation_time);
      msg += st.reason ? " (reason: " + std::string(to_string(*st.reason)) + ")" : " (no reason given)";
      msg += " according to " + source_text(st);
      failures.push_back(msg);
    } else if (st.status == "good") {
      std::string msg = who(depth, cert) + " is not revoked (" + source_text(st);
      if (!st.crl_signer.empty()) {
        msg += ", signed by the CA's separate CRL signer '";
        msg += st.crl_signer;
        msg += "' (serial ";
        msg += st.crl_signer_serial;
        msg += "), itself not revoked";
      }
      msg += ")";
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
