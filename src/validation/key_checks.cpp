// The key checks of validate(): key_strength over the whole path, key_usage with the extended key
// usages. See docs/validation.md.
#include "validation/checks.hpp"
#include "core/openssl_util.hpp"
#include "x509/certificate_impl.hpp"

#include <dpgcert/error.hpp>

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>

namespace dpgcert::detail {
namespace {

constexpr std::string_view kAnyExtendedKeyUsage = "2.5.29.37.0";

bool is_rsa_like(const std::string& algorithm) {
  return algorithm == "RSA" || algorithm == "RSASSA-PSS" || algorithm == "DSA";
}

/// The security strength of a key in bits, if dpgcert knows how to judge its algorithm.
std::optional<int> security_bits(const PublicKeyInfo& key) {
  if (is_rsa_like(key.algorithm)) return rsa_security_bits(key.bits);
  if (key.algorithm == "EC") return key.bits / 2;
  if (key.algorithm == "ED25519") return 128;
  if (key.algorithm == "ED448") return 224;
  return std::nullopt;
}

std::string describe(const PublicKeyInfo& key) {
  std::string out = key.algorithm + " " + std::to_string(key.bits) + " bits";
  if (key.algorithm == "EC" && key.curve) {
    out += " (";
    out += *key.curve;
    out += ")";
  }
  return out;
}

/// Why a key is too weak for the failing threshold, or nothing.
std::optional<std::string> too_weak(const PublicKeyInfo& key, const ValidationPolicy& policy) {
  if (policy.rsa_fail_below_bits <= 0) return std::nullopt;
  if (is_rsa_like(key.algorithm)) {
    if (key.bits >= policy.rsa_fail_below_bits) return std::nullopt;
    return describe(key) + ": below the minimum of " + std::to_string(policy.rsa_fail_below_bits);
  }
  const auto have = security_bits(key);
  const int need = rsa_security_bits(policy.rsa_fail_below_bits);
  if (!have || *have >= need) return std::nullopt;
  return describe(key) + ": below the minimum of " + std::to_string(2 * need) + " (" + std::to_string(need) +
         "-bit security, as RSA " + std::to_string(policy.rsa_fail_below_bits) + ")";
}

std::string ca_name(const Certificate& c) {
  if (auto cn = c.subject().first("CN")) return "CA '" + *cn + "'";
  return "CA '" + c.subject().to_string() + "'";
}

}  // namespace

int rsa_security_bits(int bits) noexcept {
  if (bits >= 15360) return 256;
  if (bits >= 7680) return 192;
  if (bits >= 3072) return 128;
  if (bits >= 2048) return 112;
  if (bits >= 1024) return 80;
  return bits <= 0 ? 0 : bits / 13;
}

Check key_strength_check(const Certificate& leaf, const std::vector<Certificate>& chain, const ValidationPolicy& policy) {
  const std::string id(check_id::key_strength);
  std::vector<std::string> weak_cas;
  for (std::size_t i = 1; i < chain.size(); ++i) {
    if (auto why = too_weak(chain[i].public_key(), policy)) weak_cas.push_back(ca_name(chain[i]) + " has " + *why);
  }
  const PublicKeyInfo& key = leaf.public_key();
  const std::string desc = describe(key);
  std::optional<std::string> leaf_weak = too_weak(key, policy);
  if (leaf_weak || !weak_cas.empty()) {
    std::vector<std::string> all;
    if (leaf_weak) all.push_back(*leaf_weak);
    all.insert(all.end(), weak_cas.begin(), weak_cas.end());
    return {id, CheckStatus::fail, join(all, "; ")};
  }
  if (is_rsa_like(key.algorithm)) {
    if (key.bits < policy.rsa_warn_below_bits) {
      return {id, CheckStatus::warn, desc + ": below the recommended " + std::to_string(policy.rsa_warn_below_bits)};
    }
    return {id, CheckStatus::pass, desc};
  }
  if (key.algorithm == "EC") return {id, CheckStatus::pass, desc};
  if (key.algorithm == "ED25519" || key.algorithm == "ED448") return {id, CheckStatus::pass, key.algorithm};
  return {id, CheckStatus::warn, "unknown key algorithm " + key.algorithm + ": strength not judged"};
}

std::string eku_oid(const std::string& name) {
  ASN1_OBJECT* obj = OBJ_txt2obj(name.c_str(), 0);
  if (obj == nullptr) {
    clear_openssl_errors();
    throw Error(ErrorCode::invalid_argument,
                "validation: '" + name + "' is not an extended key usage (a dotted OID or a name such as serverAuth)");
  }
  std::array<char, 128> buf{};
  const int n = OBJ_obj2txt(buf.data(), static_cast<int>(buf.size()), obj, 1);
  ASN1_OBJECT_free(obj);
  if (n <= 0 || n >= static_cast<int>(buf.size())) {
    throw Error(ErrorCode::invalid_argument, "validation: the extended key usage '" + name + "' is too long");
  }
  return std::string(buf.data(), static_cast<std::size_t>(n));
}

namespace {

/// The extended key usage part of key_usage: nullopt when nothing is required.
std::optional<Check> eku_part(const Certificate& leaf, const ValidationPolicy& policy) {
  if (policy.required_extended_key_usage.empty()) return std::nullopt;
  std::vector<std::string> want;
  for (const auto& name : policy.required_extended_key_usage) want.push_back(eku_oid(name));
  const std::string id(check_id::key_usage);
  X509* x = native(leaf);
  if (X509_get_ext_by_NID(x, NID_ext_key_usage, -1) < 0) {
    return Check{id, CheckStatus::pass, "no extended key usage extension (any use allowed)"};
  }
  const auto& has = leaf.extended_key_usage();
  if (has.empty()) return Check{id, CheckStatus::fail, "an empty extended key usage extension (no use allowed)"};
  std::vector<std::string> lacking;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (std::find(has.begin(), has.end(), want[i]) == has.end()) lacking.push_back(policy.required_extended_key_usage[i]);
  }
  std::vector<std::string> have_names;
  for (const auto& oid : has) {
    const int nid = OBJ_txt2nid(oid.c_str());
    const char* sn = nid != NID_undef ? OBJ_nid2sn(nid) : nullptr;
    have_names.push_back(sn != nullptr ? std::string(sn) : oid);
  }
  if (!lacking.empty()) {
    std::string msg = "extended key usage lacks " + join(lacking) + " (has " + join(have_names) + ")";
    if (std::find(has.begin(), has.end(), kAnyExtendedKeyUsage) != has.end()) {
      msg += "; anyExtendedKeyUsage does not stand in for a named usage here";
    }
    return Check{id, CheckStatus::fail, msg};
  }
  return Check{id, CheckStatus::pass, "extended key usage " + join(have_names)};
}

/// The key usage bits part: nullopt when nothing is required.
std::optional<Check> bits_part(const Certificate& c, const ValidationPolicy& policy) {
  if (policy.required_key_usage.empty()) return std::nullopt;
  const std::string id(check_id::key_usage);
  const auto& ku = c.key_usage();
  if (!ku) {
    return Check{id, CheckStatus::warn,
                 "no key usage extension (any use allowed); expected " + join(policy.required_key_usage)};
  }
  const auto has = ku->names();
  std::vector<std::string> lacking;
  for (const auto& need : policy.required_key_usage) {
    if (std::find(has.begin(), has.end(), need) == has.end()) lacking.push_back(need);
  }
  if (!lacking.empty()) {
    return Check{id, CheckStatus::fail, "missing " + join(lacking) + " (has " + (has.empty() ? "none" : join(has)) + ")"};
  }
  return Check{id, CheckStatus::pass, join(has)};
}

}  // namespace

Check key_usage_check(const Certificate& leaf, const ValidationPolicy& policy) {
  const std::string id(check_id::key_usage);
  // An extended key usage extension must list at least one usage (RFC 5280 4.2.1.12: SIZE (1..MAX));
  // an empty one allows nothing, whatever the policy requires.
  if (leaf.extended_key_usage().empty() && X509_get_ext_by_NID(native(leaf), NID_ext_key_usage, -1) >= 0) {
    return {id, CheckStatus::fail, "an empty extended key usage extension (no use allowed)"};
  }
  const auto bits = bits_part(leaf, policy);
  const auto eku = eku_part(leaf, policy);
  if (!bits && !eku) return {id, CheckStatus::skip, "not checked: the policy requires no key usage"};
  if (!eku) return *bits;
  if (!bits) return *eku;
  // Both: the worse status; the failing part first.
  if (eku->status == CheckStatus::fail && bits->status != CheckStatus::fail) return {id, CheckStatus::fail, eku->message};
  if (eku->status == CheckStatus::fail) return {id, CheckStatus::fail, bits->message + "; " + eku->message};
  if (bits->status == CheckStatus::fail) return *bits;
  return {id, bits->status, bits->message + "; " + eku->message};
}

}  // namespace dpgcert::detail
