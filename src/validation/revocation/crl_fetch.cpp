// CRLs fetched from the CRL distribution points and checked before they are believed: the issuer's
// name, key identifier, cRLSign and signature; the scope (no delta, an issuing distribution point
// that covers the certificate); thisUpdate/nextUpdate with a clock-skew allowance.
#include "validation/revocation/fetch_common.hpp"
#include "validation/validation_impl.hpp"
#include "x509/certificate_impl.hpp"

#include <openssl/x509v3.h>

#include <algorithm>
#include <array>

namespace dpgcert {
namespace revocation_detail {

std::string date_words(Time t) { return format_rfc3339(t); }

}  // namespace revocation_detail

namespace {

using revocation_detail::make_error;

constexpr std::array<std::pair<RevocationFailure, std::string_view>, 17> kFailureNames{{
    {RevocationFailure::no_url, "no_url"},
    {RevocationFailure::bad_url, "bad_url"},
    {RevocationFailure::transport, "transport"},
    {RevocationFailure::timeout, "timeout"},
    {RevocationFailure::too_large, "too_large"},
    {RevocationFailure::too_many_redirects, "too_many_redirects"},
    {RevocationFailure::http_status, "http_status"},
    {RevocationFailure::malformed, "malformed"},
    {RevocationFailure::wrong_issuer, "wrong_issuer"},
    {RevocationFailure::bad_signature, "bad_signature"},
    {RevocationFailure::wrong_scope, "wrong_scope"},
    {RevocationFailure::wrong_nonce, "wrong_nonce"},
    {RevocationFailure::unauthorised_responder, "unauthorised_responder"},
    {RevocationFailure::stale, "stale"},
    {RevocationFailure::not_yet_valid, "not_yet_valid"},
    {RevocationFailure::crl_signer_revoked, "crl_signer_revoked"},
    {RevocationFailure::crl_signer_unchecked, "crl_signer_unchecked"},
}};

std::string short_subject(const Certificate& c) { return c.subject().to_string(); }

// Why the CRL does not come from `issuer`, or nothing.
std::optional<std::string> issuer_mismatch(X509_CRL* crl, X509* issuer) {
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0) {
    return std::string("the CRL's issuer is not the certificate's issuer");
  }
  // The authority key identifier tells two keys of one CA name apart (a re-keyed CA).
  auto* akid = static_cast<AUTHORITY_KEYID*>(X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, nullptr, nullptr));
  const ASN1_OCTET_STRING* skid = X509_get0_subject_key_id(issuer);
  std::optional<std::string> out;
  if (akid != nullptr && akid->keyid != nullptr && skid != nullptr && ASN1_OCTET_STRING_cmp(akid->keyid, skid) != 0) {
    out = "the CRL's authority key identifier is not the issuer's key";
  }
  AUTHORITY_KEYID_free(akid);
  if (!out && (X509_get_extension_flags(issuer) & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(issuer) & KU_CRL_SIGN) == 0) {
    out = "the issuer's key usage does not allow signing CRLs (cRLSign)";
  }
  detail::clear_openssl_errors();
  return out;
}

bool uri_in(const GENERAL_NAMES* names, const std::string& url) {
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type != GEN_URI) continue;
    const ASN1_IA5STRING* s = gn->d.uniformResourceIdentifier;
    if (std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s))) == url) return true;
  }
  return false;
}

bool has_uri(const GENERAL_NAMES* names) {
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    if (sk_GENERAL_NAME_value(names, i)->type == GEN_URI) return true;
  }
  return false;
}

// Why the CRL does not speak for `subject` (fetched from `url`), or nothing.
std::optional<std::string> scope_mismatch(X509_CRL* crl, const Certificate& subject, const std::string& url) {
  if (X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1) >= 0) return std::string("a delta CRL, not a complete one");
  int crit = 0;
  auto* idp = static_cast<ISSUING_DIST_POINT*>(X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &crit, nullptr));
  if (idp == nullptr) {
    detail::clear_openssl_errors();
    if (crit != -1) return std::string("an unreadable issuing distribution point");
    return std::nullopt;  // no IDP: a full CRL for everything the issuer signed
  }
  std::optional<std::string> out;
  const bool ca = subject.is_ca();
  if (idp->onlyuser > 0 && ca) out = "the CRL covers only end-entity certificates, and this is a CA";
  else if (idp->onlyCA > 0 && !ca) out = "the CRL covers only CA certificates, and this is an end-entity certificate";
  else if (idp->onlyattr > 0) out = "the CRL covers only attribute certificates";
  else if (idp->onlysomereasons != nullptr) out = "the CRL covers only some revocation reasons (a partial CRL)";
  else if (idp->indirectCRL > 0) out = "an indirect CRL, which dpgcert does not accept";
  else if (idp->distpoint != nullptr && idp->distpoint->type == 0 && has_uri(idp->distpoint->name.fullname) &&
           !uri_in(idp->distpoint->name.fullname, url)) {
    out = "the CRL's issuing distribution point does not name " + url;
  }
  ISSUING_DIST_POINT_free(idp);
  detail::clear_openssl_errors();
  return out;
}

}  // namespace

std::string_view to_string(RevocationFailure failure) noexcept {
  for (const auto& [f, name] : kFailureNames) {
    if (f == failure) return name;
  }
  return "transport";
}

CrlFetch fetch_crl(const std::string& url, const Certificate& subject, const Certificate& issuer, Time at,
                   const FetchOptions& options, const CrlValidators& validators, const Context& ctx) {
  if (at == Time{}) throw Error(ErrorCode::invalid_argument, "fetch_crl: the time is required");
  CrlFetch out;
  out.url = url;
  auto fail = [&](RevocationFailure kind, std::string reason) {
    out.crl.reset();
    out.error = make_error(kind, std::move(reason), url);
    return out;
  };
  net_detail::FetchRequest request;
  request.url = url;
  request.max_bytes = options.max_crl_bytes != 0 ? options.max_crl_bytes : ctx.limits().max_crl_bytes;
  request.max_redirects = options.max_redirects;
  request.connect_timeout = options.connect_timeout;
  request.timeout = options.timeout;
  request.if_none_match = validators.etag;
  request.if_modified_since = validators.last_modified;
  net_detail::FetchResponse response = net_detail::http_fetch(request);
  if (response.failure != net_detail::FetchFailure::none) {
    return fail(revocation_detail::failure_of(response.failure), std::move(response.error));
  }
  out.validators = {response.etag, response.last_modified};
  if (response.not_modified()) {
    out.not_modified = true;
    if (out.validators.etag.empty()) out.validators.etag = validators.etag;
    if (out.validators.last_modified.empty()) out.validators.last_modified = validators.last_modified;
    return out;
  }
  std::vector<Crl> crls;
  try {
    crls = detail::load_crls_up_to(response.body, request.max_bytes, ctx);
  } catch (const Error& e) {
    // Past the size limit (FetchOptions / Limits::max_crl_bytes) is a size problem, not a broken CRL.
    return fail(e.code() == ErrorCode::limit_exceeded ? RevocationFailure::too_large : RevocationFailure::malformed, e.what());
  }
  if (crls.size() != 1) return fail(RevocationFailure::malformed, "the answer holds " + std::to_string(crls.size()) + " CRLs, not one");
  Crl crl = std::move(crls.front());
  X509_CRL* raw = crl.impl().crl.get();
  X509* issuer_x509 = issuer.impl().x509();
  if (auto why = issuer_mismatch(raw, issuer_x509)) {
    return fail(RevocationFailure::wrong_issuer, *why + " ('" + short_subject(issuer) + "')");
  }
  EVP_PKEY* key = X509_get0_pubkey(issuer_x509);
  const int verified = key == nullptr ? -1 : X509_CRL_verify(raw, key);
  detail::clear_openssl_errors();
  if (verified != 1) return fail(RevocationFailure::bad_signature, "the CRL's signature does not verify with the key of '" + short_subject(issuer) + "'");
  if (auto why = scope_mismatch(raw, subject, url)) return fail(RevocationFailure::wrong_scope, *why);
  if (crl.this_update() > at + options.clock_skew) {
    return fail(RevocationFailure::not_yet_valid, "the CRL's thisUpdate " + revocation_detail::date_words(crl.this_update()) + " lies in the future");
  }
  if (crl.next_update() && *crl.next_update() + options.clock_skew < at) {
    return fail(RevocationFailure::stale, "the CRL's nextUpdate " + revocation_detail::date_words(*crl.next_update()) + " has passed");
  }
  out.crl = std::move(crl);
  return out;
}

CrlFetch fetch_crl_for(const Certificate& subject, const Certificate& issuer, Time at, const FetchOptions& options,
                       const Context& ctx) {
  CrlFetch last;
  bool any = false;
  for (const std::string& url : subject.crl_distribution_points()) {
    if (!revocation_detail::is_http_url(url)) continue;
    any = true;
    last = fetch_crl(url, subject, issuer, at, options, {}, ctx);
    if (last.ok()) return last;
  }
  if (!any) {
    last.error = make_error(RevocationFailure::no_url, "the certificate names no http or https CRL distribution point", "");
  }
  return last;
}

ChainCrls fetch_chain_crls(std::span<const Certificate> chain, Time at, const FetchOptions& options, const Context& ctx) {
  ChainCrls out;
  for (std::size_t i = 0; i < chain.size(); ++i) {
    const Certificate& subject = chain[i];
    const bool last = i + 1 == chain.size();
    if (last && !(subject.subject() == subject.issuer())) break;  // a partial path: no issuer to check against
    if (last && subject.crl_distribution_points().empty()) break;  // a trusted root without a CDP
    const Certificate& issuer = last ? subject : chain[i + 1];
    CrlFetch f = fetch_crl_for(subject, issuer, at, options, ctx);
    if (f.ok() && f.crl) {
      out.crls.push_back(std::move(*f.crl));
      continue;
    }
    RevocationError e = f.error.value_or(make_error(RevocationFailure::malformed, "no CRL", f.url));
    std::string reason = "'";
    reason += subject.subject().to_string();
    reason += "': ";
    reason += e.reason;
    e.reason = std::move(reason);
    out.problems.push_back(std::move(e));
  }
  return out;
}

}  // namespace dpgcert
