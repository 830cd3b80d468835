// Online revocation: CRLs fetched from a certificate's CRL distribution points and OCSP asked at the
// responder its authority information access names. Every answer is checked before it is believed
// (a CRL's signature, issuer and scope; an OCSP response's signer, nonce and times), and every way a
// fetch can fail is a value of its own (RevocationFailure) with a reason in words, never a silent
// pass. See docs/validation.md, "Online revocation".
#pragma once

#include <dpgcert/context.hpp>
#include <dpgcert/export.hpp>
#include <dpgcert/time.hpp>
#include <dpgcert/validation.hpp>
#include <dpgcert/x509.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dpgcert {

/// Why revocation data could not be had or believed. Each has its own meaning for a caller: a
/// `transport` failure (or `timeout`) says nothing about the certificate; `bad_signature`,
/// `unauthorised_responder` or `wrong_nonce` may be an attack.
enum class RevocationFailure {
  no_url,                 ///< The certificate names no http/https CRL distribution point / OCSP responder.
  bad_url,                ///< Not an http or https URL (a redirect to another scheme included).
  transport,              ///< Cannot resolve, connect, TLS, reset, ...
  timeout,                ///< The connect or total timeout passed.
  too_large,              ///< The answer passed the size cap (announced or chunked).
  too_many_redirects,     ///< More redirects than allowed (3 by default).
  http_status,            ///< An HTTP status other than 200 (304 for a conditional GET).
  malformed,              ///< Not a CRL / OCSP response, or an OCSP error status, or no answer for the certificate.
  wrong_issuer,           ///< The CRL is not from the certificate's issuer (name, key identifier or cRLSign).
  bad_signature,          ///< The CRL's or OCSP response's signature does not verify.
  wrong_scope,            ///< A delta CRL, or an issuing distribution point that does not cover the certificate.
  wrong_nonce,            ///< The OCSP response carries another nonce than the request (a replay), or none when one is required.
  unauthorised_responder, ///< The OCSP signer is neither the CA nor a responder the CA delegated (id-kp-OCSPSigning).
  stale,                  ///< Past nextUpdate (allowing the clock skew).
  not_yet_valid,          ///< thisUpdate lies in the future (beyond the clock skew).
};

/// "no_url", "bad_url", "transport", "timeout", "too_large", "too_many_redirects", "http_status",
/// "malformed", "wrong_issuer", "bad_signature", "wrong_scope", "wrong_nonce",
/// "unauthorised_responder", "stale", "not_yet_valid".
[[nodiscard]] DPGCERT_API std::string_view to_string(RevocationFailure failure) noexcept;

/// One failure with its reason in words ("timed out after 2 s", "signed by 'CN=Other' ...").
struct RevocationError {
  RevocationFailure kind = RevocationFailure::transport;
  std::string reason;
  std::string url;  ///< The URL asked ("" for no_url).
};

/// How fetching behaves. A value; the defaults suit a scheduled check.
struct FetchOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{15000};  ///< For one fetch, redirects included.
  std::size_t max_crl_bytes = 20 * 1024 * 1024;
  std::size_t max_ocsp_bytes = 256 * 1024;
  int max_redirects = 3;
  /// Allowed difference between our clock and the CA's for thisUpdate / nextUpdate.
  std::chrono::seconds clock_skew{300};
  /// Whether an OCSP response without the request's nonce is refused (a wrong nonce always is).
  /// Off by default: many CAs' responders serve pre-signed responses without one.
  bool require_ocsp_nonce = false;
};

/// What an earlier fetch of the same URL answered, for a conditional GET.
struct CrlValidators {
  std::string etag;
  std::string last_modified;
};

/// The outcome of fetching one CRL.
struct CrlFetch {
  std::string url;                ///< The URL asked (before redirects).
  std::optional<Crl> crl;         ///< The CRL, checked; absent on failure or when not modified.
  bool not_modified = false;      ///< The server answered 304 to a conditional GET.
  bool from_store = false;        ///< Store::fetch_crl(): the CRL kept in the store (current, or confirmed by a 304).
  CrlValidators validators;       ///< ETag / Last-Modified of this answer, for the next fetch.
  std::optional<RevocationError> error;
  [[nodiscard]] bool ok() const noexcept { return !error.has_value(); }
};

/// Fetches the CRL at `url` (DER or PEM) and checks it against `issuer` (name, authority key
/// identifier, cRLSign, signature) and `subject` (not a delta CRL; an issuing distribution point
/// must cover it: user/CA certificates, all reasons, not indirect, and name `url` when it names
/// URIs) at time `at` (thisUpdate / nextUpdate with options.clock_skew). With `validators` from an
/// earlier answer it asks conditionally; a 304 gives not_modified and no CRL. Never throws for what
/// the network or the server did; throws Error(invalid_argument) for an epoch `at`.
[[nodiscard]] DPGCERT_API CrlFetch fetch_crl(const std::string& url, const Certificate& subject, const Certificate& issuer,
                                             Time at, const FetchOptions& options = {},
                                             const CrlValidators& validators = {},
                                             const Context& ctx = Context::shared());

/// fetch_crl() on the subject's CRL distribution points (http and https ones, in order) until one
/// answers with a CRL that passes; the error of the last one otherwise (no_url when there is none).
[[nodiscard]] DPGCERT_API CrlFetch fetch_crl_for(const Certificate& subject, const Certificate& issuer, Time at,
                                                 const FetchOptions& options = {},
                                                 const Context& ctx = Context::shared());

/// CRLs for every certificate of a path, fetched from the distribution points.
struct ChainCrls {
  std::vector<Crl> crls;                  ///< For ValidationInput::crls.
  std::vector<RevocationError> problems;  ///< One per certificate left without a usable CRL.
};

/// fetch_crl_for() for each certificate of `chain` (the leaf first, each issued by the next, as
/// ValidationReport::chain) with its issuer; a self-signed last certificate (the anchor) is asked
/// only when it names a distribution point. Each problem's reason names the certificate. The CRLs
/// go into ValidationInput::crls with RevocationScope::chain, so a revoked CA fails the leaf; the
/// problems are the caller's to report (a warning, or a failure when revocation data is required).
[[nodiscard]] DPGCERT_API ChainCrls fetch_chain_crls(std::span<const Certificate> chain, Time at,
                                                     const FetchOptions& options = {},
                                                     const Context& ctx = Context::shared());

/// An OCSP responder's word on one certificate.
enum class OcspStatus { good, revoked, unknown };
/// "good", "revoked", "unknown".
[[nodiscard]] DPGCERT_API std::string_view to_string(OcspStatus status) noexcept;

struct OcspAnswer {
  std::string url;
  OcspStatus status = OcspStatus::unknown;  ///< Meaningful only when ok().
  std::optional<Time> revocation_time;      ///< For revoked.
  std::optional<RevocationReason> reason;   ///< For revoked, when the responder gives one.
  Time this_update{};
  std::optional<Time> next_update;
  bool nonce_checked = false;  ///< The response echoed the request's nonce.
  std::optional<RevocationError> error;
  [[nodiscard]] bool ok() const noexcept { return !error.has_value(); }
};

/// Asks the OCSP responder at `url` (empty: the subject's first http/https AIA OCSP URI) about
/// `subject`, issued by `issuer`: a POST with a fresh nonce (SHA-1 certificate id, as RFC 5019
/// responders expect). The response must be signed by the issuer or by a responder certificate the
/// issuer signed with id-kp-OCSPSigning (valid at `at`), echo the nonce (a different one is always
/// refused), and be current at `at` within options.clock_skew. OpenSSL runs in the context's
/// library context. Never throws for what the network or the responder did.
[[nodiscard]] DPGCERT_API OcspAnswer query_ocsp(const Certificate& subject, const Certificate& issuer, Time at,
                                                const FetchOptions& options = {}, const std::string& url = {},
                                                const Context& ctx = Context::shared());

}  // namespace dpgcert
