// Envelope encryption: AES-256-GCM data keys (Botan 2), wrapped by a key wrapper; the software
// master key (random, or Argon2id from a passphrase).
#include "vault/aead.hpp"
#include "vault/software_key_wrapper.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/vault.hpp>

#include <botan/argon2.h>
#include <botan/exceptn.h>
#include <botan/system_rng.h>

#include <new>
#include <string>

namespace dpgcert::vault {
namespace {

constexpr std::size_t kMinSalt = 16;

/// The context a data key is wrapped under: never the one of the data or of a check value.
std::string data_key_context(std::string_view context) {
  std::string out = "data-key/";
  out += context;
  return out;
}

SecretBytes unwrap_data_key(const KeyWrapper& wrapper, std::span<const std::byte> wrapped, std::string_view context) {
  SecretBytes key = wrapper.unwrap(wrapped, data_key_context(context));
  if (key.size() != key_size) {
    throw Error(ErrorCode::malformed, "vault: a data key is " + std::to_string(key_size) + " bytes, not " +
                                          std::to_string(key.size()));
  }
  return key;
}

}  // namespace

std::vector<std::byte> random_bytes(std::size_t n) {
  std::vector<std::byte> out(n);
  if (n > 0) Botan::system_rng().randomize(reinterpret_cast<std::uint8_t*>(out.data()), n);
  return out;
}

MasterKey MasterKey::generate() {
  SecretBytes key = SecretBytes::zeroed(key_size);
  Botan::system_rng().randomize(reinterpret_cast<std::uint8_t*>(key.data()), key.size());
  return MasterKey(std::move(key));
}

MasterKey MasterKey::from_bytes(std::span<const std::byte> key) {
  if (key.size() != key_size) {
    throw Error(ErrorCode::invalid_argument,
                "vault: a master key is " + std::to_string(key_size) + " bytes, not " + std::to_string(key.size()));
  }
  return MasterKey(SecretBytes(key));
}

MasterKey MasterKey::from_passphrase(const SecretBytes& passphrase, std::span<const std::byte> salt,
                                     const Argon2Params& p) {
  if (passphrase.empty()) throw Error(ErrorCode::invalid_argument, "vault: the passphrase is empty");
  if (salt.size() < kMinSalt) {
    throw Error(ErrorCode::invalid_argument, "vault: the Argon2id salt must be at least 16 bytes");
  }
  if (p.parallelism < 1 || p.iterations < 1 || p.memory_kib < 8 * p.parallelism) {
    throw Error(ErrorCode::invalid_argument, "vault: impossible Argon2id parameters (need t >= 1, p >= 1, memory >= 8*p KiB)");
  }
  if (p.memory_kib > max_argon2_params.memory_kib || p.iterations > max_argon2_params.iterations ||
      p.parallelism > max_argon2_params.parallelism ||
      static_cast<std::uint64_t>(p.memory_kib) * p.iterations > max_argon2_cost_kib) {
    throw Error(ErrorCode::limit_exceeded,
                "vault: Argon2id parameters above the limit (1 GiB, t=16, p=16, memory x passes 768 MiB)");
  }
  SecretBytes key = SecretBytes::zeroed(key_size);
  try {
    Botan::argon2(reinterpret_cast<std::uint8_t*>(key.data()), key.size(),
                  passphrase.view().data(), passphrase.size(), reinterpret_cast<const std::uint8_t*>(salt.data()),
                  salt.size(), nullptr, 0, nullptr, 0, /*Argon2id*/ 2, p.parallelism, p.memory_kib, p.iterations);
  } catch (const Botan::Exception& e) {
    throw Error(ErrorCode::internal, std::string("vault: Argon2id failed: ") + e.what());
  } catch (const std::bad_alloc&) {
    throw Error(ErrorCode::limit_exceeded, "vault: not enough memory for Argon2id with " +
                                               std::to_string(p.memory_kib) + " KiB");
  }
  return MasterKey(std::move(key));
}

Vault::Vault(std::shared_ptr<const KeyWrapper> wrapper) : wrapper_(std::move(wrapper)) {
  if (!wrapper_) throw Error(ErrorCode::invalid_argument, "vault: no key wrapper");
}

Vault::Vault(MasterKey key)
    : wrapper_(std::make_shared<SoftwareKeyWrapper>(std::move(key), "raw", "{}", "the master key")) {}

SealedSecret Vault::seal(std::span<const std::byte> plaintext, std::string_view context) const {
  const MasterKey data_key = MasterKey::generate();
  SealedSecret out;
  out.ciphertext = aead::gcm_seal(data_key.bytes().bytes(), plaintext, aead::associated_data("data", context));
  out.wrapped_key = wrapper_->wrap(data_key.bytes().bytes(), data_key_context(context));
  return out;
}

SecretBytes Vault::open(const SealedSecret& sealed, std::string_view context) const {
  const SecretBytes data_key = unwrap_data_key(*wrapper_, sealed.wrapped_key, context);
  auto plain = aead::gcm_open(data_key.bytes(), sealed.ciphertext, aead::associated_data("data", context),
                              "the ciphertext");
  if (!plain) {
    throw Error(ErrorCode::malformed,
                "vault: the ciphertext does not authenticate under its data key (altered, or moved from another record)");
  }
  return std::move(*plain);
}

std::vector<std::byte> Vault::rewrap(std::span<const std::byte> wrapped_key, std::string_view context,
                                     const Vault& target) const {
  const SecretBytes data_key = unwrap_data_key(*wrapper_, wrapped_key, context);
  return target.wrapper_->wrap(data_key.bytes(), data_key_context(context));
}

}  // namespace dpgcert::vault
