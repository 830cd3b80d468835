// ValidationPolicy's named starting points and the option spellings the tool, the C API and the
// Python module share (docs/validation.md).
#include "validation/checks.hpp"

#include <dpgcert/error.hpp>

namespace dpgcert {

std::string_view to_string(RevocationScope scope) noexcept {
  switch (scope) {
    case RevocationScope::none: return "none";
    case RevocationScope::leaf: return "leaf";
    case RevocationScope::chain: return "chain";
  }
  return "none";
}

RevocationScope parse_revocation_scope(std::string_view text) {
  if (text == "off" || text == "none") return RevocationScope::none;
  if (text == "leaf") return RevocationScope::leaf;
  if (text == "chain") return RevocationScope::chain;
  std::string msg = "revocation must be off, leaf or chain, not '";
  msg += text;
  msg += "'";
  throw Error(ErrorCode::invalid_argument, msg);
}

void ValidationPolicy::set_min_key_bits(int bits) {
  if (bits < 0) throw Error(ErrorCode::invalid_argument, "the minimum key size must not be negative");
  rsa_fail_below_bits = bits;
}

ValidationPolicy ValidationPolicy::oces_gateway() {
  ValidationPolicy p;
  p.oces_profile = true;
  p.accepted_types = {oces::CertificateType::voces, oces::CertificateType::foces, oces::CertificateType::organisation};
  // The gateway signs and decrypts S/MIME with the key (docs/validation.md, "The OCES gateway").
  p.required_key_usage = {"digitalSignature", "keyEncipherment"};
  p.required_extended_key_usage = {"emailProtection"};
  p.revocation = RevocationScope::chain;
  p.ca_crls_optional = true;
  p.x509_strict = true;
  p.policy_check = false;
  return p;
}

ValidationPolicy ValidationPolicy::generic() {
  ValidationPolicy p;
  p.oces_profile = false;
  p.accepted_types.clear();
  p.required_key_usage.clear();
  p.x509_strict = false;
  p.policy_check = true;
  return p;
}

ValidationPolicy ValidationPolicy::named(std::string_view profile) {
  if (profile == "oces-gateway" || profile == "oces_gateway") return oces_gateway();
  if (profile == "generic") return generic();
  std::string msg = "the profile must be oces-gateway or generic, not '";
  msg += profile;
  msg += "'";
  throw Error(ErrorCode::invalid_argument, msg);
}

}  // namespace dpgcert
