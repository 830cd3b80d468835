#include "core/text.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/json.hpp>
#include <dpgcert/x509.hpp>

#include <nlohmann/json.hpp>

namespace dpgcert {
namespace {

nlohmann::json name_json(const DistinguishedName& dn) { return dn.to_string(); }

nlohmann::json optional_bytes(const std::optional<std::vector<std::byte>>& v) {
  if (!v) return nullptr;
  return to_hex(*v);
}

}  // namespace

nlohmann::json to_json(const Certificate& cert) {
  nlohmann::json j;
  j["subject"] = name_json(cert.subject());
  j["issuer"] = name_json(cert.issuer());
  j["serial"] = cert.serial_hex();
  j["not_before"] = format_rfc3339(cert.not_before());
  j["not_after"] = format_rfc3339(cert.not_after());
  j["fingerprint_sha256"] = cert.fingerprint_hex();
  const auto& key = cert.public_key();
  j["key"] = {{"algorithm", key.algorithm}, {"bits", key.bits}};
  if (key.curve) j["key"]["curve"] = *key.curve;
  j["signature_algorithm"] = cert.signature_algorithm();
  if (const auto& ku = cert.key_usage()) {
    j["key_usage"] = {{"critical", ku->critical}, {"usages", ku->names()}};
  } else {
    j["key_usage"] = nullptr;
  }
  j["extended_key_usage"] = cert.extended_key_usage();
  const auto& san = cert.subject_alt_names();
  j["subject_alt_names"] = {{"email", san.emails}, {"dns", san.dns}, {"uri", san.uris}};
  j["policies"] = cert.policies();
  const auto& aia = cert.authority_info_access();
  j["authority_info_access"] = {{"ocsp", aia.ocsp}, {"ca_issuers", aia.ca_issuers}};
  j["crl_distribution_points"] = cert.crl_distribution_points();
  if (const auto& bc = cert.basic_constraints()) {
    j["basic_constraints"] = {{"ca", bc->ca}, {"critical", bc->critical}};
    j["basic_constraints"]["path_length"] = bc->path_length ? nlohmann::json(*bc->path_length) : nlohmann::json(nullptr);
  } else {
    j["basic_constraints"] = nullptr;
  }
  j["subject_key_id"] = optional_bytes(cert.subject_key_id());
  j["authority_key_id"] = optional_bytes(cert.authority_key_id());
  j["self_issued"] = cert.is_self_issued();
  return detail::json_safe(std::move(j));
}

nlohmann::json to_json(const Error& error) {
  return detail::json_safe({{"code", std::string(to_string(error.code()))}, {"message", error.what()}});
}

}  // namespace dpgcert
