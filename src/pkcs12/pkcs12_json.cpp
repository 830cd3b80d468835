// JSON rendering of a PKCS#12 profile (docs/cli-json.md). Never includes key material.
#include "core/text.hpp"
#include <dpgcert/json.hpp>
#include <dpgcert/pkcs12.hpp>

#include <nlohmann/json.hpp>

namespace dpgcert {

nlohmann::json to_json(const Pkcs12Profile& profile) {
  nlohmann::json j;
  j["legacy"] = profile.legacy;
  j["legacy_reasons"] = profile.legacy_reasons;
  if (profile.mac) {
    j["mac"] = {{"digest", profile.mac->digest},
                {"iterations", profile.mac->iterations},
                {"salt_length", profile.mac->salt_length}};
  } else {
    j["mac"] = nullptr;
  }
  j["iterations"] = profile.max_iterations();
  j["bags"] = nlohmann::json::array();
  for (const auto& bag : profile.bags) {
    nlohmann::json b;
    b["type"] = bag.type;
    b["encryption"] = bag.encryption;
    b["kdf"] = bag.kdf ? nlohmann::json(*bag.kdf) : nlohmann::json(nullptr);
    b["iterations"] = bag.iterations;
    b["salt_length"] = bag.salt_length;
    b["friendly_name"] = bag.friendly_name ? nlohmann::json(*bag.friendly_name) : nlohmann::json(nullptr);
    b["local_key_id"] = bag.local_key_id ? nlohmann::json(to_hex(*bag.local_key_id)) : nlohmann::json(nullptr);
    j["bags"].push_back(std::move(b));
  }
  return detail::json_safe(std::move(j));
}

}  // namespace dpgcert
