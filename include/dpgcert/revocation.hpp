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

// RevocationFailure, RevocationError, FetchOptions, CrlValidators and CrlFetch are declared in
// <dpgcert/validation.hpp> (ValidationInput's online revocation options use them).

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
