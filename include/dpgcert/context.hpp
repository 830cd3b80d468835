// The crypto context: dpgcert's private OpenSSL library context and the limits on untrusted input.
#pragma once

#include <dpgcert/export.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace dpgcert {

/// Bounds on untrusted input. The defaults let every real OCES file through and stop hostile ones
/// in milliseconds. Every loader checks them before doing expensive work.
struct Limits {
  std::size_t max_input_bytes = 1024 * 1024;        ///< Largest file accepted (1 MiB).
  std::uint64_t max_iterations = 1'000'000;         ///< Largest PKCS#12 KDF/MAC iteration count.
  std::size_t max_bags = 64;                         ///< Most safe bags in one PKCS#12 file.
  std::size_t max_certificates = 32;                 ///< Most certificates in one PEM or PKCS#12 file.
  std::size_t max_nesting = 8;                       ///< Deepest nesting of constructed ASN.1 strings.
  /// Largest CRL fetched online or kept in the store (32 MiB). Separate from max_input_bytes: a
  /// CA's full CRL (OCES2's ran to several MiB) is much larger than any file a customer hands in.
  std::size_t max_crl_bytes = 32 * 1024 * 1024;

  /// The defaults described above.
  [[nodiscard]] static Limits defaults() noexcept { return Limits{}; }
};

/// Owns dpgcert's private OpenSSL library contexts, never the process-wide one, so an application
/// embedding dpgcert keeps its own setup: one with the `default` and `legacy` providers for
/// PKCS#12 (RC2, 3DES and SHA-1 MACs of legacy files), and one with only the `default` provider for
/// certificates, keys, CRLs and path validation. They are kept apart because in OpenSSL 3.0 every
/// public-key decode searches all algorithms a context has fetched so far: once a legacy file has
/// been read, decoding a certificate in a context that holds the legacy provider costs ~30 % more.
///
/// Thread safety: a Context may be used from several threads at once. It must outlive every object
/// created through it that still does cryptography (bundles, validators, stores).
class DPGCERT_API Context final {
 public:
  /// Creates a context. Throws Error(internal) when a provider cannot be loaded; Error(unsupported)
  /// when the legacy provider is missing and `require_legacy` is true.
  explicit Context(Limits limits = Limits::defaults(), bool require_legacy = true);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  Context(Context&&) noexcept;
  Context& operator=(Context&&) noexcept;

  /// A process-wide context with default limits, created on first use. Convenient for tools and
  /// bindings; libraries embedding dpgcert may prefer their own.
  [[nodiscard]] static const Context& shared();

  [[nodiscard]] const Limits& limits() const noexcept;
  /// Whether OpenSSL's legacy provider (RC2, RC4, DES, ...) is loaded.
  [[nodiscard]] bool legacy_available() const noexcept;
  /// The OSSL_LIB_CTX* with the legacy provider (PKCS#12 encryption and MACs), for dpgcert's own
  /// layers; opaque to everyone else.
  [[nodiscard]] void* native_handle() const noexcept;
  /// The default-only OSSL_LIB_CTX* (certificates, keys, CRLs, validation); opaque as above.
  [[nodiscard]] void* x509_native_handle() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dpgcert
