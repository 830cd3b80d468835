// Validation for onboarding: chain, validity, profile and revocation of a certificate or a PKCS#12
// bundle, as a report of checks a person can read. Path validation is OpenSSL's X509_verify_cert in
// dpgcert's own library context; see docs/validation.md for the flags and the checks.
#pragma once

#include <dpgcert/context.hpp>
#include <dpgcert/error.hpp>
#include <dpgcert/export.hpp>
#include <dpgcert/oces.hpp>
#include <dpgcert/pkcs12.hpp>
#include <dpgcert/secret.hpp>
#include <dpgcert/time.hpp>
#include <dpgcert/x509.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dpgcert {

// ---- CRLs -----------------------------------------------------------------------------------

/// CRL entry reason codes (RFC 5280 5.3.1). The numeric values are the encoded ones.
enum class RevocationReason : int {
  unspecified = 0,
  key_compromise = 1,
  ca_compromise = 2,
  affiliation_changed = 3,
  superseded = 4,
  cessation_of_operation = 5,
  certificate_hold = 6,
  remove_from_crl = 8,
  privilege_withdrawn = 9,
  aa_compromise = 10,
};

/// RFC 5280 spelling: "unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
/// "superseded", "cessationOfOperation", "certificateHold", "removeFromCRL",
/// "privilegeWithdrawn", "aACompromise".
[[nodiscard]] DPGCERT_API std::string_view to_string(RevocationReason reason) noexcept;

/// One entry of a CRL.
struct RevokedCertificate {
  std::vector<std::byte> serial;  ///< Big-endian, without leading zeros (as Certificate::serial()).
  Time revocation_date{};
  std::optional<RevocationReason> reason;  ///< Absent when the entry has no reasonCode extension.
  /// Lowercase hex of `serial` (as Certificate::serial_hex()).
  [[nodiscard]] std::string serial_hex() const { return to_hex(serial); }
};

/// An immutable X.509 certificate revocation list: its DER and the parsed fields.
///
/// Cheap to copy (a shared pointer); safe to share and read from several threads. The list of
/// entries is decoded on first use of revoked().
class DPGCERT_API Crl final {
 public:
  /// Parses one DER CRL in the context's library context. Throws Error(malformed) for anything
  /// else (including trailing bytes), Error(limit_exceeded) past the context's input limit.
  [[nodiscard]] static Crl from_der(std::span<const std::byte> der, const Context& ctx = Context::shared());

  [[nodiscard]] std::span<const std::byte> der() const noexcept;
  [[nodiscard]] const DistinguishedName& issuer() const;
  [[nodiscard]] Time this_update() const;
  /// Absent when the CRL has no nextUpdate (allowed by X.509, not by RFC 5280).
  [[nodiscard]] std::optional<Time> next_update() const;
  /// Whether nextUpdate lies before `at` (the CRL is stale then).
  [[nodiscard]] bool is_stale(Time at) const;
  /// Whether this is a delta CRL (it has a deltaCRLIndicator).
  [[nodiscard]] bool is_delta() const;
  /// Every entry, in CRL order.
  [[nodiscard]] const std::vector<RevokedCertificate>& revoked() const;
  /// The entry for this serial (big-endian, as Certificate::serial()), if listed.
  [[nodiscard]] std::optional<RevokedCertificate> find(std::span<const std::byte> serial) const;

  bool operator==(const Crl& other) const noexcept;

  struct Impl;
  [[nodiscard]] const Impl& impl() const noexcept { return *impl_; }
  explicit Crl(std::shared_ptr<const Impl> impl) noexcept : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<const Impl> impl_;
};

/// Parses one or several CRLs: DER (one, or several concatenated) or PEM (`X509 CRL` blocks;
/// other blocks are ignored). Throws Error(malformed) when there is none or one is broken,
/// Error(limit_exceeded) past the context's input limit or for more than `max_certificates` CRLs.
[[nodiscard]] DPGCERT_API std::vector<Crl> load_crls(std::span<const std::byte> data,
                                                      const Context& ctx = Context::shared());

/// Reads CRLs from files and folders. A file is read as load_crls() does; a folder contributes
/// its regular files ending in .crl, .pem or .der (case-insensitive, not recursive, in name order,
/// hidden files skipped), where a .pem or .der file that holds no CRL (a certificate, a key) is
/// skipped and a .crl file must hold one. Throws Error(io) when a path cannot be read, otherwise as
/// load_crls(), naming the file.
[[nodiscard]] DPGCERT_API std::vector<Crl> load_crl_files(std::span<const std::filesystem::path> paths,
                                                           const Context& ctx = Context::shared());

/// Reads certificates from files and folders (DER, PEM or bare base64; a file may hold several).
/// A folder contributes its regular files ending in .pem, .crt, .cer or .der (case-insensitive,
/// not recursive, in name order), where a .pem or .der file that holds no certificate (a key, a
/// CRL) is skipped and a .crt or .cer file must hold one. Errors as load_crl_files().
[[nodiscard]] DPGCERT_API std::vector<Certificate> load_certificate_files(
    std::span<const std::filesystem::path> paths, const Context& ctx = Context::shared());

// ---- trust anchors --------------------------------------------------------------------------

/// The certificates a validation trusts, plus untrusted CA certificates that come with them
/// (for the OCES catalogue: its issuing CAs) to help build paths.
///
/// An immutable value: cheap to copy (shared). The OpenSSL trust store is built from the
/// already parsed certificates once, on first use, and then shared by every copy; safe to use
/// from several threads at once.
class DPGCERT_API TrustAnchors final {
 public:
  /// No anchors: every chain fails.
  TrustAnchors();

  /// The roots of a catalogue as anchors, optionally only one generation and/or environment, with
  /// the catalogue's issuing CAs (filtered the same way) as intermediates.
  [[nodiscard]] static TrustAnchors from_catalogue(const oces::Catalogue& catalogue,
                                                   std::optional<oces::Environment> environment = std::nullopt,
                                                   std::optional<oces::Generation> generation = std::nullopt);
  /// The default: every root of oces::Catalogue::builtin() (OCES2 and OCES3, production and test)
  /// and its issuing CAs. Made once per process; its store is shared by every validation.
  [[nodiscard]] static const TrustAnchors& oces_builtin();
  /// Exactly these anchors (and optional intermediates).
  [[nodiscard]] static TrustAnchors from_certificates(std::vector<Certificate> anchors,
                                                      std::vector<Certificate> intermediates = {});
  /// Anchors read with load_certificate_files(); errors as there.
  [[nodiscard]] static TrustAnchors from_files(std::span<const std::filesystem::path> paths,
                                               const Context& ctx = Context::shared());

  [[nodiscard]] const std::vector<Certificate>& certificates() const noexcept;
  [[nodiscard]] const std::vector<Certificate>& intermediates() const noexcept;
  [[nodiscard]] bool empty() const noexcept;

  struct Impl;
  [[nodiscard]] const Impl& impl() const noexcept { return *impl_; }

 private:
  explicit TrustAnchors(std::shared_ptr<const Impl> impl) noexcept : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// ---- policy ---------------------------------------------------------------------------------

/// Which certificates' revocation is checked against the CRLs given.
enum class RevocationScope {
  none,   ///< Not checked.
  leaf,   ///< Only the end-entity certificate (X509_V_FLAG_CRL_CHECK).
  chain,  ///< Every certificate of the path, the anchor too (adds X509_V_FLAG_CRL_CHECK_ALL).
};

/// "none", "leaf", "chain".
[[nodiscard]] DPGCERT_API std::string_view to_string(RevocationScope scope) noexcept;
/// Reads a revocation scope as the tool spells it: "off" (or "none"), "leaf", "chain". Throws
/// Error(invalid_argument) for anything else.
[[nodiscard]] DPGCERT_API RevocationScope parse_revocation_scope(std::string_view text);

/// What a validation requires. Start from a named starting point and change fields:
///
///     auto policy = ValidationPolicy::oces_gateway();
///     policy.expected_environment = oces::Environment::production;
///     policy.expected_cvr = "30808460";
///
/// A value; copy freely.
struct DPGCERT_API ValidationPolicy {
  // -- OCES profile (checks environment, certificate_type, cvr) --
  /// Whether the OCES profile applies. When false those three checks are `skip`.
  bool oces_profile = true;
  /// Production or test; absent: not checked (the environment check is `skip` and says which it is).
  std::optional<oces::Environment> expected_environment;
  /// The accepted OCES certificate types; empty: any.
  std::vector<oces::CertificateType> accepted_types;
  /// The CVR number the certificate must carry; absent: not checked.
  std::optional<std::string> expected_cvr;

  // -- the leaf certificate --
  /// Fewer days of validity left than this warns.
  int min_days = 30;
  /// Key usage bits the leaf must have (KeyUsage::names() spelling); empty: not checked.
  std::vector<std::string> required_key_usage;
  /// RSA (and DSA) keys shorter than this fail, for every certificate of the path, the trust anchor
  /// included; EC keys fail below the same security strength (NIST SP 800-57: 1024 bits = 80,
  /// 2048 = 112, 3072 = 128, 7680 = 192, 15360 = 256; an EC curve of n bits gives n/2), so the
  /// default 2048 fails EC curves below 224 bits. 0: not judged. See set_min_key_bits().
  int rsa_fail_below_bits = 2048;
  /// RSA (and DSA) leaf keys shorter than this warn (the leaf only).
  int rsa_warn_below_bits = 3072;
  /// Extended key usages the leaf must allow: dotted OIDs or OpenSSL's short names ("serverAuth",
  /// "clientAuth", "emailProtection", "codeSigning", "OCSPSigning", "timeStamping"). Judged by the
  /// key_usage check: a leaf without the extension allows every use (RFC 5280 4.2.1.12); a leaf
  /// with it must list each one (anyExtendedKeyUsage does not stand in for a named one); an empty
  /// extension fails. Empty: not checked.
  std::vector<std::string> required_extended_key_usage;
  /// Signature digests that fail on the leaf (Certificate::signature_digest() spelling,
  /// case-insensitive); empty: not checked.
  std::vector<std::string> weak_signature_digests = {"MD5", "SHA1"};

  // -- revocation --
  RevocationScope revocation = RevocationScope::leaf;
  /// Whether a certificate in scope without a usable CRL fails (else: `skip`, or `warn` when
  /// other certificates in scope were checked).
  bool require_revocation_data = false;
  /// Whether a CRL past its nextUpdate fails the revocation check (else it warns). The chain check
  /// is never failed by a stale CRL.
  bool stale_crl_fails = false;
  /// In the chain scope: whether a CA certificate (not the leaf) for whose issuer no CRL was given is
  /// only noted in the message instead of warning. A CA listed in a CRL that was given fails either
  /// way; with require_revocation_data a missing CRL fails either way. oces_gateway(): true (the
  /// issuing CAs' status is in the root's CRL, which a service centre seldom has at hand).
  bool ca_crls_optional = false;

  // -- path validation (X509_VERIFY_PARAM) --
  /// The most intermediate CA certificates a path may hold (X509_VERIFY_PARAM_set_depth, as
  /// `openssl verify -verify_depth`); absent: OpenSSL's default (100).
  std::optional<int> max_depth;
  /// Accept a chain that ends at a trusted certificate that is not self-signed
  /// (X509_V_FLAG_PARTIAL_CHAIN). Off: every path must end at a trusted root.
  bool allow_partial_chain = false;
  /// OpenSSL's extra RFC 5280 strictness (X509_V_FLAG_X509_STRICT): critical basicConstraints on
  /// CAs, key identifiers, no explicit EC parameters, ... Every real OCES2/OCES3 chain passes it.
  bool x509_strict = true;
  /// Process certificate policies (RFC 5280 6.1, X509_V_FLAG_POLICY_CHECK). Also turned on when
  /// any of the four RFC 5280 inputs below differs from its default.
  bool policy_check = false;
  /// RFC 5280 user-initial-policy-set, dotted OIDs; empty means {anyPolicy} (anyPolicy is then
  /// handed to OpenSSL explicitly: OpenSSL itself reads an empty set as an empty one).
  std::vector<std::string> initial_policy_set;
  bool explicit_policy = false;         ///< initial-explicit-policy (X509_V_FLAG_EXPLICIT_POLICY).
  bool inhibit_policy_mapping = false;  ///< initial-policy-mapping-inhibit (X509_V_FLAG_INHIBIT_MAP).
  bool inhibit_any_policy = false;      ///< initial-any-policy-inhibit (X509_V_FLAG_INHIBIT_ANY).

  /// Sets the minimum key strength for every certificate of the path: RSA/DSA `bits` (fail below),
  /// EC by the same security strength (see rsa_fail_below_bits); the leaf's warning threshold
  /// (rsa_warn_below_bits) stays. 0 turns the failing check off. Throws Error(invalid_argument)
  /// for a negative value.
  void set_min_key_bits(int bits);

  /// An organisation/function certificate for a secure-mail gateway: accepts OCES2 VOCES and
  /// FOCES and OCES3 organisation certificates; requires digitalSignature and keyEncipherment and,
  /// when the leaf has an extended key usage extension, emailProtection; RSA below 2048 bits fails
  /// (every certificate of the path), below 3072 warns (the leaf); MD5/SHA-1 fail; 30 days minimum;
  /// revocation of the whole path when CRLs are given; X.509 strict; no policy processing.
  [[nodiscard]] static ValidationPolicy oces_gateway();
  /// Any PKI: no OCES profile, no key usage requirement, RFC 5280 policy processing on (with the
  /// default inputs: anyPolicy, nothing inhibited), not X.509 strict. Key strength, signature
  /// digest, validity and revocation as in oces_gateway().
  [[nodiscard]] static ValidationPolicy generic();
  /// The policy a profile name stands for: "oces-gateway" (or "oces_gateway") or "generic".
  /// Throws Error(invalid_argument) for another name.
  [[nodiscard]] static ValidationPolicy named(std::string_view profile);
};

// ---- online revocation: failures, fetch options (dpgcert/revocation.hpp fetches) -------------

/// Why revocation data could not be had or believed. Each has its own meaning for a caller: a
/// `transport` failure (or `timeout`) says nothing about the certificate; `bad_signature`,
/// `unauthorised_responder`, `wrong_nonce` or `crl_signer_revoked` may be an attack.
enum class RevocationFailure {
  no_url,                 ///< The certificate names no http/https CRL distribution point / OCSP responder.
  bad_url,                ///< Not an http or https URL (a redirect to another scheme included).
  transport,              ///< Cannot resolve, connect, TLS, reset, ...
  timeout,                ///< The connect or total timeout passed.
  too_large,              ///< The answer passed the size cap (announced or chunked).
  too_many_redirects,     ///< More redirects than allowed (3 by default).
  http_status,            ///< An HTTP status other than 200 (304 for a conditional GET).
  malformed,              ///< Not a CRL / OCSP response, or an OCSP error status, or no answer for the certificate.
  wrong_issuer,           ///< The CRL is not from the certificate's issuer (name, key identifier or cRLSign) nor from a CRL signer it certified.
  bad_signature,          ///< The CRL's or OCSP response's signature does not verify.
  wrong_scope,            ///< A delta CRL, or an issuing distribution point that does not cover the certificate.
  wrong_nonce,            ///< The OCSP response carries another nonce than the request (a replay), or none when one is required.
  unauthorised_responder, ///< The OCSP signer is neither the CA nor a responder the CA delegated (id-kp-OCSPSigning).
  stale,                  ///< Past nextUpdate (allowing the clock skew).
  not_yet_valid,          ///< thisUpdate lies in the future (beyond the clock skew).
  /// The CRL is signed by a separate CRL-signing certificate of its CA, and that certificate is revoked.
  crl_signer_revoked,
  /// The CRL is signed by a separate CRL-signing certificate whose own revocation could not be checked.
  crl_signer_unchecked,
};

/// "no_url", "bad_url", "transport", "timeout", "too_large", "too_many_redirects", "http_status",
/// "malformed", "wrong_issuer", "bad_signature", "wrong_scope", "wrong_nonce",
/// "unauthorised_responder", "stale", "not_yet_valid", "crl_signer_revoked", "crl_signer_unchecked".
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
  /// The largest CRL accepted, announced or chunked; 0: the context's Limits::max_crl_bytes.
  std::size_t max_crl_bytes = 0;
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

/// Where a validation takes revocation data from.
enum class RevocationMode {
  offline,  ///< Only the CRLs given (ValidationInput::crls). The default: no network.
  online,   ///< Asked for each certificate of the path: OCSP from its AIA, CRLs from its CDP.
};
/// "offline", "online".
[[nodiscard]] DPGCERT_API std::string_view to_string(RevocationMode mode) noexcept;
/// "offline" or "online"; Error(invalid_argument) for anything else.
[[nodiscard]] DPGCERT_API RevocationMode parse_revocation_mode(std::string_view text);

/// How RevocationMode::online asks. A value; the defaults need nothing set.
struct OnlineRevocationOptions {
  FetchOptions fetch;
  /// Ask the OCSP responder a certificate's AIA names first, and fall back to its CRL when there is
  /// none, it cannot be reached, or it answers "unknown" (see docs/validation.md, "Online
  /// revocation", for why). False: CRLs only.
  bool use_ocsp = true;
  /// Where a CRL is had from: (url, subject, issuer, at) -> CrlFetch. Empty: dpgcert::fetch_crl()
  /// (nothing kept). Store::import() passes the store's fetch_crl(), which keeps CRLs between runs.
  std::function<CrlFetch(const std::string& url, const Certificate& subject, const Certificate& issuer, Time at)>
      crl_source;
  /// The CRL URLs to ask for `subject`. Empty: its http/https CRL distribution points. For
  /// certificates that name none (test suites such as NIST PKITS), a caller may name them here.
  std::function<std::vector<std::string>(const Certificate& subject)> crl_urls;
};

/// What online revocation found for one certificate of the path.
struct RevocationStatus {
  int depth = 0;          ///< 0 for the leaf.
  std::string subject;    ///< RFC 4514.
  std::string serial;     ///< Lowercase hex.
  /// "good", "revoked", or "unavailable" (no source answered: see `problems`).
  std::string status = "unavailable";
  std::string source;     ///< "ocsp" or "crl" (the URL in `url`); empty when unavailable.
  std::string url;
  std::optional<Time> revocation_time;   ///< revoked
  std::optional<RevocationReason> reason;  ///< revoked, when given
  /// Every failed attempt, in order (an OCSP failure before a CRL that answered stays here).
  std::vector<RevocationError> problems;
  /// When the CRL that answered was signed by a separate CRL-signing certificate of the CA (not
  /// the CA's own key): its subject (RFC 4514) and serial (lowercase hex); that certificate was
  /// found not revoked. Empty otherwise.
  std::string crl_signer;
  std::string crl_signer_serial;
};

// ---- input and report -----------------------------------------------------------------------

/// What to validate against.
struct ValidationInput {
  /// The validation time; required (validate() throws Error(invalid_argument) for the epoch).
  /// Never the system clock: the caller decides what "now" is.
  Time at{};
  /// Trust anchors; absent: TrustAnchors::oces_builtin().
  std::optional<TrustAnchors> anchors;
  /// Untrusted CA certificates offered for path building, besides a bundle's own chain and the
  /// anchors' intermediates. An unordered pool, not a chain.
  std::vector<Certificate> intermediates;
  /// CRLs; revocation is checked only when some are given (see ValidationPolicy::revocation).
  /// Offline only: the online mode judges what it fetched.
  std::vector<Crl> crls;
  /// offline (the default): `crls` only. online: every certificate in the policy's revocation scope
  /// is asked about over the network (`online`); what could not be had is a `warn` of the
  /// revocation check with the reason, or a `fail` with policy.require_revocation_data.
  RevocationMode revocation_mode = RevocationMode::offline;
  OnlineRevocationOptions online;
  ValidationPolicy policy = ValidationPolicy::oces_gateway();
  /// The catalogue used to identify the certificate (oces::identify); absent: the built-in one.
  std::optional<oces::Catalogue> catalogue;
};

/// The verdict of one check. Ordered by severity for pass < warn < fail; skip means "not checked".
enum class CheckStatus { pass, warn, fail, skip };

/// "pass", "warn", "fail", "skip".
[[nodiscard]] DPGCERT_API std::string_view to_string(CheckStatus status) noexcept;

/// The ids of the checks, in the order a report lists them. Every report lists every one.
namespace check_id {
inline constexpr std::string_view pkcs12_opened = "pkcs12_opened";
inline constexpr std::string_view key_matches_certificate = "key_matches_certificate";
inline constexpr std::string_view pkcs12_profile = "pkcs12_profile";
inline constexpr std::string_view chain = "chain";
inline constexpr std::string_view validity = "validity";
inline constexpr std::string_view revocation = "revocation";
inline constexpr std::string_view signature_algorithm = "signature_algorithm";
inline constexpr std::string_view key_strength = "key_strength";
inline constexpr std::string_view key_usage = "key_usage";
inline constexpr std::string_view certificate_type = "certificate_type";
inline constexpr std::string_view environment = "environment";
inline constexpr std::string_view cvr = "cvr";
}  // namespace check_id

/// One line of the checklist.
struct Check {
  std::string id;  ///< One of check_id.
  CheckStatus status = CheckStatus::skip;
  std::string message;  ///< A plain sentence saying why. Never contains secrets.
};

/// One error OpenSSL's path validation reported (through the verify callback).
struct ChainError {
  int code = 0;        ///< X509_V_ERR_* value.
  int depth = 0;       ///< 0 for the leaf, counting towards the anchor.
  std::string reason;  ///< X509_verify_cert_error_string(code).
  std::optional<std::string> subject;  ///< RFC 4514 subject of the certificate concerned, if any.
};

/// The outcome of a validation. A value. A failed validation is a report, never an exception.
struct DPGCERT_API ValidationReport {
  std::vector<Check> checks;  ///< Every check_id, in that order.
  /// The worst status among the checks: fail, else warn, else pass (skips do not count).
  CheckStatus verdict = CheckStatus::fail;
  Time at{};  ///< The validation time used.
  /// The certificate validated (a bundle's leaf); absent when there was none (e.g. bad password).
  std::optional<Certificate> certificate;
  /// Its OCES identity (generation none for other certificates); absent with `certificate`.
  std::optional<oces::Identity> identity;
  /// The path OpenSSL built: the leaf first, the anchor last (partial when the chain failed).
  std::vector<Certificate> chain;
  /// The error that failed the chain check: X509_V_ERR_* code (0 when the chain passed) and depth
  /// (-1 then).
  int openssl_error = 0;
  int openssl_error_depth = -1;
  /// Every error OpenSSL reported, including those judged by other checks (leaf validity,
  /// revocation), in the order reported.
  std::vector<ChainError> openssl_errors;
  /// RevocationMode::online: per certificate of the scope, what was found (the leaf first).
  std::vector<RevocationStatus> revocation;
  /// Why a file given to validate_bytes() did not open, when that failed the pkcs12_opened check:
  /// ErrorCode::bad_password or ErrorCode::unsupported. Absent otherwise.
  std::optional<ErrorCode> open_error;

  /// Whether the certificate may be used: the verdict is pass or warn.
  [[nodiscard]] bool ok() const noexcept { return verdict == CheckStatus::pass || verdict == CheckStatus::warn; }
  /// The check with this id, if present.
  [[nodiscard]] const Check* find(std::string_view id) const noexcept;
  /// The status of the check with this id (skip when absent).
  [[nodiscard]] CheckStatus status(std::string_view id) const noexcept;
};

/// Validates a certificate: the PKCS#12 checks are `skip`. Throws only Error(invalid_argument)
/// when `input.at` is not set, Error(internal) when OpenSSL cannot allocate; every finding about
/// the certificate, its chain or the CRLs is in the report.
[[nodiscard]] DPGCERT_API ValidationReport validate(const Certificate& certificate, const ValidationInput& input,
                                                    const Context& ctx = Context::shared());

/// Validates a PKCS#12 bundle (not consumed): its leaf, its key and its protection profile; the
/// bundle's chain joins the untrusted intermediates. Throws as the overload above.
[[nodiscard]] DPGCERT_API ValidationReport validate(const Pkcs12Bundle& bundle, const ValidationInput& input,
                                                    const Context& ctx = Context::shared());

/// Loads a file's bytes with load_any() and validates what it holds: a PKCS#12 bundle, or the first
/// certificate of a PEM/DER file (the others join the intermediates). A PKCS#12 that does not open
/// (wrong password, or an algorithm the context lacks) is a report whose pkcs12_opened fails.
/// `password` may be null (the empty and absent password are tried). Throws Error(malformed) or
/// Error(limit_exceeded) for input that is neither, and as validate().
[[nodiscard]] DPGCERT_API ValidationReport validate_bytes(std::span<const std::byte> data, const SecretBytes* password,
                                                          const ValidationInput& input,
                                                          const Context& ctx = Context::shared());

/// The report as a checklist for people, lines of at most 80 columns:
///
///     Certificate  CN=Testfirma A/S - VOCES+serialNumber=CVR:12345674-UID:...
///     ...
///     [PASS] chain                   verified to CN=TRUST2408 OCES Primary CA,...
///     [WARN] key_strength            RSA 2048 bits: below the recommended 3072
///     Verdict: WARN - usable, see the warnings
/// Names and messages are escaped for a terminal: control characters and bytes that are not UTF-8
/// become \xHH, C1 and bidirectional controls \uHHHH (docs/output.md).
[[nodiscard]] DPGCERT_API std::string to_text(const ValidationReport& report);

}  // namespace dpgcert
