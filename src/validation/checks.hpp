// Private: the checks of validate() that judge keys (key_checks.cpp), used by validator.cpp.
#pragma once

#include <dpgcert/validation.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace dpgcert::detail {

/// The strings joined with `sep` between them (for check messages).
inline std::string join(const std::vector<std::string>& v, std::string_view sep = ", ") {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

/// key_strength: the leaf against both thresholds, every other certificate of `chain` (the leaf
/// first, the anchor last) against the failing one.
[[nodiscard]] Check key_strength_check(const Certificate& leaf, const std::vector<Certificate>& chain,
                                       const ValidationPolicy& policy);

/// key_usage: the leaf's key usage bits and extended key usages against the policy's.
/// Throws Error(invalid_argument) for a required extended key usage that is neither a dotted OID
/// nor a name OpenSSL knows.
[[nodiscard]] Check key_usage_check(const Certificate& leaf, const ValidationPolicy& policy);

/// The dotted OID of an extended key usage given as a dotted OID or an OpenSSL short or long name
/// ("serverAuth", "TLS Web Server Authentication"). Throws Error(invalid_argument).
[[nodiscard]] std::string eku_oid(const std::string& name);

/// The security strength in bits (NIST SP 800-57) an RSA/DSA key of `bits` gives.
[[nodiscard]] int rsa_security_bits(int bits) noexcept;

}  // namespace dpgcert::detail
