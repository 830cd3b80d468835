#include "core/text.hpp"
#include <dpgcert/oces_json.hpp>

#include <nlohmann/json.hpp>

namespace dpgcert::oces {
namespace {

nlohmann::json text_or_null(const std::optional<std::string>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

void to_json(nlohmann::json& out, const Identity& identity) {
  const bool oces = identity.is_oces();
  out = nlohmann::json::object();
  out["generation"] = oces ? nlohmann::json(to_string(identity.generation)) : nlohmann::json(nullptr);
  out["type"] = identity.type != CertificateType::none ? nlohmann::json(to_string(identity.type))
                                                       : nlohmann::json(nullptr);
  out["cvr"] = text_or_null(identity.cvr);
  out["cvr_valid"] = identity.cvr_valid ? nlohmann::json(*identity.cvr_valid) : nlohmann::json(nullptr);
  out["subject_serial"] = text_or_null(identity.subject_serial);
  out["uid"] = text_or_null(identity.uid);
  out["fid"] = text_or_null(identity.fid);
  out["rid"] = text_or_null(identity.rid);
  out["pid"] = text_or_null(identity.pid);
  out["uuid"] = text_or_null(identity.uuid);
  out["organisation"] = text_or_null(identity.organisation);
  out["common_name"] = text_or_null(identity.common_name);
  out["email"] = text_or_null(identity.email);
  out["environment"] = identity.environment != Environment::unknown
                           ? nlohmann::json(to_string(identity.environment))
                           : nlohmann::json(nullptr);
  out["issuing_ca"] = text_or_null(identity.issuing_ca);
  out["warnings"] = identity.warnings;
  detail::make_json_safe(out);
}

nlohmann::json to_json(const Identity& identity) {
  nlohmann::json out;
  to_json(out, identity);
  return out;
}

}  // namespace dpgcert::oces
