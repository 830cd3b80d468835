// OCSP over HTTP POST (RFC 6960, RFC 5019 profile): a request with a fresh nonce, and a response that
// is believed only when signed by the CA or by a responder the CA delegated, echoing the nonce and
// current at the given time. Signatures are verified in dpgcert's own OpenSSL library context:
// OpenSSL's OCSP_basic_verify would build the responder's chain with the process-wide context and
// judge it by the system clock.
#include "validation/revocation/fetch_common.hpp"
#include "validation/validation_impl.hpp"
#include "x509/certificate_impl.hpp"

#include <openssl/ocsp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <array>
#include <climits>

namespace dpgcert {
namespace {

using revocation_detail::make_error;
using OcspRequestPtr = detail::Owned<OCSP_REQUEST, OCSP_REQUEST_free>;
using OcspResponsePtr = detail::Owned<OCSP_RESPONSE, OCSP_RESPONSE_free>;
using OcspBasicPtr = detail::Owned<OCSP_BASICRESP, OCSP_BASICRESP_free>;
using OcspCertIdPtr = detail::Owned<OCSP_CERTID, OCSP_CERTID_free>;
void free_x509_stack(STACK_OF(X509)* s) noexcept { sk_X509_free(s); }  // a macro: not usable as a template argument

std::string response_status_words(int status) {
  switch (status) {
    case OCSP_RESPONSE_STATUS_MALFORMEDREQUEST: return "malformedRequest";
    case OCSP_RESPONSE_STATUS_INTERNALERROR: return "internalError";
    case OCSP_RESPONSE_STATUS_TRYLATER: return "tryLater";
    case OCSP_RESPONSE_STATUS_SIGREQUIRED: return "sigRequired";
    case OCSP_RESPONSE_STATUS_UNAUTHORIZED: return "unauthorized";
    default: return "status " + std::to_string(status);
  }
}

// The signer as a dpgcert Certificate (re-read in the context's library context, so that its key
// and signature checks run there).
std::optional<Certificate> signer_of(OCSP_BASICRESP* bs, X509* issuer, const Context& ctx) {
  detail::Owned<STACK_OF(X509), free_x509_stack> extra(sk_X509_new_null());
  if (!extra || sk_X509_push(extra.get(), issuer) <= 0) return std::nullopt;
  X509* signer = nullptr;
  if (OCSP_resp_get0_signer(bs, &signer, extra.get()) != 1 || signer == nullptr) {
    detail::clear_openssl_errors();
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int len = i2d_X509(signer, &der);
  if (len <= 0) {
    detail::clear_openssl_errors();
    return std::nullopt;
  }
  std::optional<Certificate> out;
  try {
    out = Certificate::from_der({reinterpret_cast<const std::byte*>(der), static_cast<std::size_t>(len)}, ctx);
  } catch (const Error&) {
  }
  OPENSSL_free(der);
  return out;
}

// Why `signer` may not speak for `issuer` at `at`, or nothing (RFC 6960 4.2.2.2).
std::optional<std::string> unauthorised(const Certificate& signer, const Certificate& issuer, Time at, std::chrono::seconds skew) {
  if (signer.fingerprint_sha256() == issuer.fingerprint_sha256()) return std::nullopt;  // the CA itself
  X509* s = signer.impl().x509();
  X509* i = issuer.impl().x509();
  std::string who = "the responder '" + signer.subject().to_string() + "'";
  if (X509_NAME_cmp(X509_get_issuer_name(s), X509_get_subject_name(i)) != 0 || X509_verify(s, X509_get0_pubkey(i)) != 1) {
    detail::clear_openssl_errors();
    who += " is not issued by the certificate's CA '";
    who += issuer.subject().to_string();
    who += "'";
    return who;
  }
  if ((X509_get_extension_flags(s) & EXFLAG_XKUSAGE) == 0 || (X509_get_extended_key_usage(s) & XKU_OCSP_SIGN) == 0) {
    who += " lacks id-kp-OCSPSigning";
    return who;
  }
  if (signer.not_before() > at + skew || signer.not_after() + skew < at) {
    who += " is not valid at ";
    who += format_rfc3339(at);
    return who;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(OcspStatus status) noexcept {
  switch (status) {
    case OcspStatus::good: return "good";
    case OcspStatus::revoked: return "revoked";
    case OcspStatus::unknown: break;
  }
  return "unknown";
}

OcspAnswer query_ocsp(const Certificate& subject, const Certificate& issuer, Time at, const FetchOptions& options,
                      const std::string& url, const Context& ctx) {
  if (at == Time{}) throw Error(ErrorCode::invalid_argument, "query_ocsp: the time is required");
  OcspAnswer out;
  out.url = url;
  if (out.url.empty()) {
    for (const std::string& u : subject.authority_info_access().ocsp) {
      if (revocation_detail::is_http_url(u)) {
        out.url = u;
        break;
      }
    }
  }
  auto fail = [&out](RevocationFailure kind, std::string reason) {
    detail::clear_openssl_errors();
    out.error = make_error(kind, std::move(reason), out.url);
    return out;
  };
  if (out.url.empty()) return fail(RevocationFailure::no_url, "the certificate names no http or https OCSP responder");

  X509* subject_x509 = subject.impl().x509();
  X509* issuer_x509 = issuer.impl().x509();
  OSSL_LIB_CTX* lib = detail::x509_libctx(ctx);
  detail::EvpMdPtr sha1(EVP_MD_fetch(lib, "SHA1", nullptr));
  if (!sha1) return fail(RevocationFailure::malformed, "SHA-1 is not available for the OCSP certificate id");
  OcspCertIdPtr id(OCSP_cert_to_id(sha1.get(), subject_x509, issuer_x509));
  OcspCertIdPtr request_id(id ? OCSP_CERTID_dup(id.get()) : nullptr);
  OcspRequestPtr req(OCSP_REQUEST_new());
  if (!id || !request_id || !req || OCSP_request_add0_id(req.get(), request_id.get()) == nullptr) {
    return fail(RevocationFailure::malformed, "cannot build the OCSP request");
  }
  (void)request_id.release();  // owned by the request now
  std::array<unsigned char, 16> nonce{};
  if (RAND_bytes_ex(lib, nonce.data(), nonce.size(), 0) != 1 ||
      OCSP_request_add1_nonce(req.get(), nonce.data(), static_cast<int>(nonce.size())) != 1) {
    return fail(RevocationFailure::malformed, "cannot add a nonce to the OCSP request");
  }
  unsigned char* der = nullptr;
  const int der_len = i2d_OCSP_REQUEST(req.get(), &der);
  if (der_len <= 0) return fail(RevocationFailure::malformed, "cannot encode the OCSP request");
  net_detail::FetchRequest request;
  request.url = out.url;
  request.post_body = std::vector<std::byte>(reinterpret_cast<const std::byte*>(der), reinterpret_cast<const std::byte*>(der) + der_len);
  OPENSSL_free(der);
  request.content_type = "application/ocsp-request";
  request.headers = {"Accept: application/ocsp-response"};
  request.max_bytes = options.max_ocsp_bytes;
  request.max_redirects = options.max_redirects;
  request.connect_timeout = options.connect_timeout;
  request.timeout = options.timeout;
  net_detail::FetchResponse response = net_detail::http_fetch(request);
  if (response.failure != net_detail::FetchFailure::none) {
    return fail(revocation_detail::failure_of(response.failure), std::move(response.error));
  }

  const auto* p = reinterpret_cast<const unsigned char*>(response.body.data());
  if (response.body.empty() || response.body.size() > static_cast<std::size_t>(LONG_MAX)) {
    return fail(RevocationFailure::malformed, "an empty OCSP response");
  }
  OcspResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(response.body.size())));
  if (!resp) return fail(RevocationFailure::malformed, "not a DER OCSP response");
  if (const int st = OCSP_response_status(resp.get()); st != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return fail(RevocationFailure::malformed, "the responder answered " + response_status_words(st));
  }
  OcspBasicPtr bs(OCSP_response_get1_basic(resp.get()));
  if (!bs) return fail(RevocationFailure::malformed, "not a basic OCSP response");

  // The signature first: an answer nobody signed says nothing about who sent it.
  const std::optional<Certificate> signer = signer_of(bs.get(), issuer_x509, ctx);
  if (!signer) return fail(RevocationFailure::unauthorised_responder, "the response names a signer that is neither the CA nor a certificate it carries");
  if (ASN1_item_verify_ex(ASN1_ITEM_rptr(OCSP_RESPDATA), OCSP_resp_get0_tbs_sigalg(bs.get()), OCSP_resp_get0_signature(bs.get()),
                          OCSP_resp_get0_respdata(bs.get()), nullptr, X509_get0_pubkey(signer->impl().x509()), lib, nullptr) != 1) {
    return fail(RevocationFailure::bad_signature, "the OCSP response's signature does not verify");
  }
  if (auto why = unauthorised(*signer, issuer, at, options.clock_skew)) return fail(RevocationFailure::unauthorised_responder, *why);

  // 1: echoed; 2: neither has one; -1: the response has none; 0: a different one; 3: only the response.
  const int nonce_state = OCSP_check_nonce(req.get(), bs.get());
  if (nonce_state == 0) return fail(RevocationFailure::wrong_nonce, "the response carries another nonce than the request (a replayed answer?)");
  if (nonce_state != 1 && options.require_ocsp_nonce) return fail(RevocationFailure::wrong_nonce, "the response carries no nonce, and one is required");
  out.nonce_checked = nonce_state == 1;

  int status = -1;
  int reason = -1;
  ASN1_GENERALIZEDTIME* revtime = nullptr;
  ASN1_GENERALIZEDTIME* thisupd = nullptr;
  ASN1_GENERALIZEDTIME* nextupd = nullptr;
  if (OCSP_resp_find_status(bs.get(), id.get(), &status, &reason, &revtime, &thisupd, &nextupd) != 1) {
    return fail(RevocationFailure::malformed, "the response has no answer for this certificate");
  }
  const std::optional<Time> this_update = detail::asn1_time_opt(thisupd);
  if (!this_update) return fail(RevocationFailure::malformed, "the response has no readable thisUpdate");
  out.this_update = *this_update;
  if (nextupd != nullptr) {
    out.next_update = detail::asn1_time_opt(nextupd);
    if (!out.next_update) return fail(RevocationFailure::malformed, "the response has an unreadable nextUpdate");
  }
  if (out.this_update > at + options.clock_skew) {
    return fail(RevocationFailure::not_yet_valid, "the response's thisUpdate " + format_rfc3339(out.this_update) + " lies in the future");
  }
  if (out.next_update && *out.next_update + options.clock_skew < at) {
    return fail(RevocationFailure::stale, "the response's nextUpdate " + format_rfc3339(*out.next_update) + " has passed");
  }
  switch (status) {
    case V_OCSP_CERTSTATUS_GOOD: out.status = OcspStatus::good; break;
    case V_OCSP_CERTSTATUS_REVOKED:
      out.status = OcspStatus::revoked;
      out.revocation_time = detail::asn1_time_opt(revtime);
      if (reason >= 0 && reason <= 10 && reason != 7) out.reason = static_cast<RevocationReason>(reason);
      break;
    default: out.status = OcspStatus::unknown; break;
  }
  detail::clear_openssl_errors();
  return out;
}

}  // namespace dpgcert
