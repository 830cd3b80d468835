// What the tool shows about a store's master key.
#include "key_info.hpp"

namespace dpgcert::cli {

using nlohmann::json;

json key_params(const StoreInfo& info) {
  json j = json::parse(info.key_params, nullptr, false);
  return j.is_object() ? j : json::object();
}

std::optional<std::string> key_file_of(const StoreInfo& info) {
  const json p = key_params(info);
  if (info.key_kind != "key_file" || !p.contains("path") || !p["path"].is_string()) return std::nullopt;
  return p["path"].get<std::string>();
}

json argon2_of(const StoreInfo& info) {
  const json p = key_params(info);
  if (info.key_kind != "passphrase") return nullptr;
  json out = json::object();
  for (const char* k : {"memory_kib", "iterations", "parallelism"}) out[k] = p.contains(k) ? p[k] : json(nullptr);
  return out;
}

std::string describe_key(const StoreInfo& info) {
  if (auto file = key_file_of(info)) return "key file " + *file;
  if (info.key_kind == "passphrase") {
    const json a = argon2_of(info);
    return "passphrase (Argon2id " + a["memory_kib"].dump() + " KiB, t=" + a["iterations"].dump() +
           ", p=" + a["parallelism"].dump() + ")";
  }
  if (info.key_kind == "pkcs11") {
    const json p = key_params(info);
    if (p.is_object() && p.contains("uri") && p["uri"].is_string()) {
      return "key on a PKCS#11 token " + p["uri"].get<std::string>() + " (" + p.value("mechanism", "") + ")";
    }
  }
  return info.key_kind + " " + key_params(info).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace dpgcert::cli
