// Private: what a Certificate holds, for dpgcert's own layers (pkcs12, validation, ...).
#pragma once

#include "core/openssl_util.hpp"

#include <dpgcert/x509.hpp>

#include <mutex>

namespace dpgcert {

struct Certificate::Impl {
  detail::X509Ptr x509;          ///< Parsed in the context's library context; never modified.
  std::vector<std::byte> der;    ///< Exact input encoding.
  const Context* ctx = nullptr;  ///< The context it was parsed in.

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
/// The X509 inside a Certificate (owned by it; do not modify or free).
[[nodiscard]] inline X509* native(const Certificate& cert) noexcept { return cert.impl().x509.get(); }

}  // namespace detail
}  // namespace dpgcert
