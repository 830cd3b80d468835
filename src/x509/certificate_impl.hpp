// Private: what a Certificate holds, for dpgcert's own layers (pkcs12, validation, ...).
#pragma once

#include "core/openssl_util.hpp"

#include <dpgcert/x509.hpp>

#include <mutex>
#include <optional>
#include <span>
#include <vector>

namespace dpgcert {
namespace detail {

/// Complete encodings (tag, length, content) of TBSCertificate fields, read without parsing.
struct CertificateFields {
  std::span<const std::byte> issuer;   ///< Name
  std::span<const std::byte> subject;  ///< Name
  std::span<const std::byte> spki;     ///< SubjectPublicKeyInfo
};

}  // namespace detail

// Member functions here are exported with Certificate (a nested class shares its visibility), so
// the unit tests can reach them; the detail:: wrappers below are what dpgcert's layers use.
struct Certificate::Impl {
  std::vector<std::byte> der;    ///< Exact input encoding.
  const Context* ctx = nullptr;  ///< The context it is (or will be) parsed in.

  /// The parsed certificate (owned; never modified). A certificate made by from_der is parsed at
  /// once; a deferred one (detail::certificate_from_der_deferred) on the first call here, which
  /// throws Error(malformed) when OpenSSL rejects the DER.
  [[nodiscard]] X509* x509() const;
  /// As x509(), but nullptr instead of an exception.
  [[nodiscard]] X509* x509_or_null() const noexcept;
  /// See detail::certificate_from_der_deferred.
  [[nodiscard]] static Certificate deferred(std::vector<std::byte> der, const Context& ctx);
  /// See detail::certificate_fields.
  [[nodiscard]] static std::optional<detail::CertificateFields> fields(std::span<const std::byte> der) noexcept;

  mutable std::once_flag parse_once;
  mutable detail::X509Ptr parsed;

  // Decoded on first use (guarded by once flags; read-only afterwards).
  mutable std::once_flag names_once;
  mutable DistinguishedName subject, issuer;
  mutable std::once_flag fingerprint_once;
  mutable Fingerprint fingerprint{};
  mutable std::once_flag key_once;
  mutable PublicKeyInfo key;
  mutable std::once_flag ext_once;
  mutable std::optional<KeyUsage> key_usage;
  mutable std::vector<std::string> eku;
  mutable AlternativeNames sans;
  mutable std::vector<std::string> policies;
  mutable AuthorityInfoAccess aia;
  mutable std::vector<std::string> crl_dps;
  mutable std::optional<BasicConstraints> basic_constraints;
};

namespace detail {

/// Wraps a parsed X509 (takes ownership). The DER is re-encoded from it.
[[nodiscard]] Certificate certificate_from_x509(X509Ptr x509, const Context& ctx);

/// A certificate whose X509 is parsed on first use, for DER that comes from a MAC-verified
/// PKCS#12 file. Checks up front only what is cheap: the input limit, definite-length DER framing
/// of every constructed element, the Certificate/TBSCertificate shape and no trailing bytes
/// (Error(malformed) otherwise). Accessors that need the parsed certificate throw
/// Error(malformed) if OpenSSL rejects it later.
[[nodiscard]] inline Certificate certificate_from_der_deferred(std::vector<std::byte> der, const Context& ctx) {
  return Certificate::Impl::deferred(std::move(der), ctx);
}

/// Walks the DER of a certificate to its fields; nullopt unless the shape is that of a DER
/// Certificate (definite lengths down to the TBSCertificate's fields, which are in order, and
/// nothing after the signature). Does not look inside the fields.
[[nodiscard]] inline std::optional<CertificateFields> certificate_fields(std::span<const std::byte> der) noexcept {
  return Certificate::Impl::fields(der);
}

/// The X509 inside a Certificate (owned by it; do not modify or free). Parses a deferred
/// certificate; throws Error(malformed) if that fails.
[[nodiscard]] inline X509* native(const Certificate& cert) { return cert.impl().x509(); }
/// As native(), but nullptr instead of an exception (for noexcept callers).
[[nodiscard]] inline X509* native_or_null(const Certificate& cert) noexcept { return cert.impl().x509_or_null(); }

}  // namespace detail
}  // namespace dpgcert
