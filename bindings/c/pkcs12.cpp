// C API: PKCS#12 bundles.
#include "c_api.hpp"

#include <dpgcert/json.hpp>

#include <nlohmann/json.hpp>

using namespace dpgcert;
using namespace dpgcert::capi;

extern "C" {

int dpgcert_pkcs12_load(dpgcert_pkcs12** out, const uint8_t* data, size_t len, const uint8_t* password,
                        size_t password_len) {
  return guarded(__func__, [&] {
    reset_out(out);
    const auto bytes = in_bytes(data, len, "data");
    const SecretBytes pw = in_password(password, password_len, "password");
    return make_handle(out, load_pkcs12(bytes, pw));
  });
}

void dpgcert_pkcs12_free(dpgcert_pkcs12* bundle) { delete bundle; }

int dpgcert_pkcs12_leaf(dpgcert_certificate** out, const dpgcert_pkcs12* bundle) {
  return guarded(__func__, [&] {
    reset_out(out);
    require(bundle, "bundle");
    const auto& leaf = bundle->bundle.leaf();
    if (!leaf) throw Error(ErrorCode::not_found, "the PKCS#12 file has no end-entity certificate");
    return make_handle(out, *leaf);
  });
}

int dpgcert_pkcs12_chain_count(const dpgcert_pkcs12* bundle, size_t* count) {
  return guarded(__func__, [&] {
    require(bundle, "bundle");
    return out_value(count, bundle->bundle.chain().size(), "count");
  });
}

int dpgcert_pkcs12_chain_get(dpgcert_certificate** out, const dpgcert_pkcs12* bundle, size_t index) {
  return guarded(__func__, [&] {
    reset_out(out);
    require(bundle, "bundle");
    check_index(index, bundle->bundle.chain().size());
    return make_handle(out, bundle->bundle.chain()[index]);
  });
}

int dpgcert_pkcs12_key_matches(const dpgcert_pkcs12* bundle, int* out) {
  return guarded(__func__, [&] {
    require(bundle, "bundle");
    return out_value(out, bundle->bundle.key_matches() ? 1 : 0);
  });
}

int dpgcert_pkcs12_private_key(const dpgcert_pkcs12* bundle, uint8_t* buf, size_t* len) {
  return guarded(__func__, [&] {
    require(bundle, "bundle");
    const PrivateKey* key = bundle->bundle.private_key();
    if (key == nullptr) throw Error(ErrorCode::not_found, "the PKCS#12 file has no private key");
    return out_bytes(key->pkcs8_der().bytes(), buf, len);
  });
}

int dpgcert_pkcs12_friendly_name(const dpgcert_pkcs12* bundle, char* buf, size_t* len) {
  return guarded(__func__, [&] {
    require(bundle, "bundle");
    return out_text(present(bundle->bundle.friendly_name(), "friendly name"), buf, len);
  });
}

int dpgcert_pkcs12_legacy(const dpgcert_pkcs12* bundle, int* out) {
  return guarded(__func__, [&] {
    require(bundle, "bundle");
    return out_value(out, bundle->bundle.profile().legacy ? 1 : 0);
  });
}

int dpgcert_pkcs12_profile_json(const dpgcert_pkcs12* bundle, char* buf, size_t* len) {
  return guarded(__func__, [&] {
    require(bundle, "bundle");
    return out_text(to_json(bundle->bundle.profile()).dump(), buf, len);
  });
}

}  // extern "C"
