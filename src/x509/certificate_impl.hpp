// Private: what a Certificate holds, for dpgcert's own layers (pkcs12, validation, ...).
#pragma once

#include "core/openssl_util.hpp"

#include <dpgcert/x509.hpp>

#include <atomic>
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

/// Where dpgcert's own DER reader (certificate_der.cpp) found the fields of a certificate it
/// checked: complete encodings (header included) inside Impl::der, so they stay valid as long as
/// the Impl does.
struct CertificateLayout {
  std::span<const std::byte> version;     ///< The INTEGER inside [0], empty when absent (v1).
  std::span<const std::byte> serial;      ///< INTEGER
  std::span<const std::byte> issuer;      ///< Name
  std::span<const std::byte> not_before;  ///< UTCTime or GeneralizedTime
  std::span<const std::byte> not_after;
  std::span<const std::byte> subject;     ///< Name
  std::span<const std::byte> spki;        ///< SubjectPublicKeyInfo
  std::span<const std::byte> extensions;  ///< The SEQUENCE OF Extension inside [3], empty when absent.
  std::span<const std::byte> signature_algorithm;  ///< The outer AlgorithmIdentifier.
  std::span<const std::byte> signature;   ///< BIT STRING
};

/// What the checks of a certificate's encoding concluded.
enum class DerVerdict {
  ok,       ///< DER dpgcert's reader accepts: every field is read from it.
  not_der,  ///< BER that is not DER (indefinite or non-minimal lengths, constructed strings): refused.
  unsure,   ///< Something the reader does not accept itself: OpenSSL's d2i_X509 decides.
};

/// Checks a certificate's encoding the way d2i_X509 checks it, without OpenSSL, and finds its
/// fields. Bounded: no recursion deeper than 32 constructed levels, no allocation.
[[nodiscard]] DerVerdict read_certificate_der(std::span<const std::byte> der, CertificateLayout& out) noexcept;

/// The extensions dpgcert reads, decoded (by dpgcert's reader or from OpenSSL's X509).
struct ExtensionValues {
  std::optional<KeyUsage> key_usage;
  std::vector<std::string> eku;
  AlternativeNames sans;
  std::vector<std::string> policies;
  AuthorityInfoAccess aia;
  std::vector<std::string> crl_dps;
  std::optional<BasicConstraints> basic_constraints;
  std::optional<std::vector<std::byte>> subject_key_id;
  std::optional<std::vector<std::byte>> authority_key_id;
};

/// Decodes the extensions dpgcert reads from their DER (the SEQUENCE OF Extension content, empty
/// for none), with OpenSSL's rules (X509_get_ext_d2i: a repeated extension is absent; the key
/// usage reads as empty when OpenSSL deems the certificate's extensions invalid). nullopt when an
/// extension is one the reader leaves to OpenSSL (name constraints, proxy, Netscape, RFC 3779,
/// unusual encodings): the caller then asks OpenSSL.
[[nodiscard]] std::optional<ExtensionValues> read_extensions_der(std::span<const std::byte> extensions);

/// A Name's RDNs and attributes from its (already checked) DER.
[[nodiscard]] DistinguishedName read_name_der(std::span<const std::byte> name);
/// A certificate time (UTCTime or GeneralizedTime element) as ASN1_TIME_to_tm reads it; the Unix
/// epoch when it does not read (as OpenSSL's reading gives).
[[nodiscard]] Time read_time_der(std::span<const std::byte> element);
/// The public key described from its SubjectPublicKeyInfo, when dpgcert's reader knows the
/// algorithm (RSA with its usual encoding); nullopt otherwise.
[[nodiscard]] std::optional<PublicKeyInfo> read_public_key_der(std::span<const std::byte> spki);
/// Dotted text of an OID's content octets.
[[nodiscard]] std::string oid_text_der(std::span<const std::byte> content);


/// Runs a decoding once per object, as std::call_once, without its cost: glibc's pthread_once
/// (under std::call_once) makes a futex system call every time a flag is first passed, which
/// doubled the time to load a certificate. Double-checked locking instead: an acquire load when
/// done; otherwise the object's recursive mutex (uncontended: no system call) and the decoding.
/// A decoding that throws leaves the flag unset: the next caller tries again.
class LazyFlag {
 public:
  template <class F>
  void call(std::recursive_mutex& m, F&& f) const {
    if (done_.load(std::memory_order_acquire)) return;
    const std::lock_guard<std::recursive_mutex> lock(m);
    if (done_.load(std::memory_order_relaxed)) return;
    f();
    done_.store(true, std::memory_order_release);
  }
  /// Marks it done (for an object not yet shared with another thread).
  void set() const noexcept { done_.store(true, std::memory_order_release); }

 private:
  mutable std::atomic<bool> done_{false};
};

}  // namespace detail

// Member functions here are exported with Certificate (a nested class shares its visibility), so
// the unit tests can reach them; the detail:: wrappers below are what dpgcert's layers use.
//
// Thread safety: every lazily decoded value sits behind its own detail::LazyFlag, decoded under
// the Impl's mutex and published with a release store that the acquire load of every later
// reader pairs with; the values are never modified afterwards. A failed decoding (an exception)
// leaves its flag unset, so the next caller tries again and gets the same exception.
struct Certificate::Impl {
  std::vector<std::byte> der;    ///< Exact input encoding.
  const Context* ctx = nullptr;  ///< The context it is (or will be) parsed in.

  /// The parsed certificate (owned; never modified), made on the first call: for signatures, path
  /// validation, keys and the fields dpgcert's reader leaves to OpenSSL. Throws Error(malformed)
  /// when OpenSSL rejects the DER.
  [[nodiscard]] X509* x509() const;
  /// As x509(), but nullptr instead of an exception.
  [[nodiscard]] X509* x509_or_null() const noexcept;
  /// See detail::certificate_from_der_deferred.
  [[nodiscard]] static Certificate deferred(std::vector<std::byte> der, const Context& ctx);
  /// See detail::certificate_fields.
  [[nodiscard]] static std::optional<detail::CertificateFields> fields(std::span<const std::byte> der) noexcept;
  /// A certificate every field of which is read from OpenSSL's X509, as before dpgcert had its own
  /// reader: the reference the differential tests compare dpgcert's reader with.
  [[nodiscard]] static Certificate openssl_reference(std::span<const std::byte> der, const Context& ctx);

  /// What dpgcert's reader concludes about `der` (detail::read_certificate_der), for the tests and
  /// the fuzz target.
  [[nodiscard]] static detail::DerVerdict verdict(std::span<const std::byte> der) noexcept;

  /// Checks the encoding once (from_der does it at once, a deferred certificate on first use);
  /// throws Error(malformed) when it is not a certificate. Returns the layout when dpgcert's
  /// reader reads the fields, nullptr when they come from OpenSSL.
  [[nodiscard]] const detail::CertificateLayout* checked() const;

  mutable std::recursive_mutex lazy_mutex;  ///< Held while a lazy value is decoded.
  mutable detail::LazyFlag check_once;
  mutable detail::CertificateLayout layout;
  mutable bool native = false;  ///< Set by the check: the layout is valid and fields come from it.

  mutable detail::LazyFlag parse_once;
  mutable detail::X509Ptr parsed;

  // Decoded on first use (guarded by lazy flags; read-only afterwards).
  mutable detail::LazyFlag subject_once;
  mutable DistinguishedName subject;
  mutable detail::LazyFlag issuer_once;
  mutable DistinguishedName issuer;
  mutable detail::LazyFlag fingerprint_once;
  mutable Fingerprint fingerprint{};
  mutable detail::LazyFlag key_once;
  mutable PublicKeyInfo key;
  mutable detail::LazyFlag ext_once;
  mutable detail::ExtensionValues ext;
};

namespace detail {

/// Wraps a parsed X509 (takes ownership). The DER is re-encoded from it.
[[nodiscard]] Certificate certificate_from_x509(X509Ptr x509, const Context& ctx);

/// A certificate whose fields are checked on first use, for DER that comes from a MAC-verified
/// PKCS#12 file. Checks up front only what is cheap: the input limit, definite-length DER framing
/// of every constructed element, the Certificate/TBSCertificate shape and no trailing bytes
/// (Error(malformed) otherwise). Accessors throw Error(malformed) if the full check fails later.
[[nodiscard]] inline Certificate certificate_from_der_deferred(std::vector<std::byte> der, const Context& ctx) {
  return Certificate::Impl::deferred(std::move(der), ctx);
}

/// Walks the DER of a certificate to its fields; nullopt unless the shape is that of a DER
/// Certificate (definite lengths down to the TBSCertificate's fields, which are in order, and
/// nothing after the signature). Does not look inside the fields.
[[nodiscard]] inline std::optional<CertificateFields> certificate_fields(std::span<const std::byte> der) noexcept {
  return Certificate::Impl::fields(der);
}

/// The X509 inside a Certificate (owned by it; do not modify or free). Parses it on first use;
/// throws Error(malformed) if that fails.
[[nodiscard]] inline X509* native(const Certificate& cert) { return cert.impl().x509(); }
/// As native(), but nullptr instead of an exception (for noexcept callers).
[[nodiscard]] inline X509* native_or_null(const Certificate& cert) noexcept { return cert.impl().x509_or_null(); }

}  // namespace detail
}  // namespace dpgcert
