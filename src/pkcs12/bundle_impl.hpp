// Private: what a PrivateKey and a Pkcs12Bundle hold, and how the reader assembles a bundle.
#pragma once

#include "pkcs12/pkcs12_util.hpp"

#include <dpgcert/pkcs12.hpp>

namespace dpgcert {

struct PrivateKey::Impl {
  SecretBytes der;               ///< DER PKCS#8 PrivateKeyInfo (unencrypted).
  const Context* ctx = nullptr;  ///< Where the key is decoded when it must be.
};

struct Pkcs12Bundle::Impl {
  std::optional<Certificate> leaf;
  std::optional<PrivateKey> key;
  std::vector<Certificate> chain;
  std::vector<Pkcs12Certificate> certificates;
  std::optional<std::string> friendly_name;
  Pkcs12Profile profile;
  bool key_matches = false;
};

namespace detail {

/// Parses the PKCS#8 DER of a key (owned by the caller; cleansed on free).
[[nodiscard]] Pkcs8InfoPtr parse_pkcs8(std::span<const std::byte> der);

/// Decodes a key fully in its context (the slow path: OpenSSL's decoders).
[[nodiscard]] EvpPkeyPtr decode_private_key(const PrivateKey& key);

/// What a reader found, before the leaf and chain are worked out.
struct BundleParts {
  std::vector<Pkcs12Certificate> certificates;  ///< File order.
  std::optional<PrivateKey> key;
  std::optional<std::vector<std::byte>> key_local_key_id;
  std::optional<std::string> key_friendly_name;
  Pkcs12Profile profile;
};

/// Chooses the leaf, orders the chain and checks the key against the leaf.
[[nodiscard]] Pkcs12Bundle assemble_bundle(BundleParts parts);

/// Sets `legacy` and `legacy_reasons` from the rest of the profile.
void finish_profile(Pkcs12Profile& profile);

}  // namespace detail
}  // namespace dpgcert
