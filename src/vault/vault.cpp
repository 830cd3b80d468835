// Envelope encryption with Botan 2: AES-256-GCM data keys wrapped by an AES-256-GCM master key.
#include <dpgcert/error.hpp>
#include <dpgcert/vault.hpp>

#include <botan/aead.h>
#include <botan/argon2.h>
#include <botan/exceptn.h>
#include <botan/secmem.h>
#include <botan/system_rng.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

namespace dpgcert::vault {
namespace {

constexpr std::byte kFormatVersion{1};
constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kOverhead = 1 + kNonceSize + kTagSize;
constexpr std::size_t kMinSalt = 16;
// 16 bytes sealed under the master key: the key check value.
constexpr std::string_view kCheckConstant = "dpgcert-key-chk1";

// Associated data per purpose: a wrapped data key and the data it encrypts bind the same context
// under different labels, so one can never stand in for the other.
std::string aad(std::string_view label, std::string_view context) {
  std::string out = "dpgcert-vault-v1/";
  out += label;
  out += '/';
  out += context;
  return out;
}

const std::uint8_t* u8(const std::byte* p) noexcept { return reinterpret_cast<const std::uint8_t*>(p); }

/// This thread's AES-256/GCM object for one direction, reused (creating one parses the algorithm
/// name: a third of the cost of sealing a small secret). The key schedule is wiped after every use.
class ModeLease {
 public:
  explicit ModeLease(Botan::Cipher_Dir dir) {
    thread_local std::unique_ptr<Botan::AEAD_Mode> enc;
    thread_local std::unique_ptr<Botan::AEAD_Mode> dec;
    auto& slot = dir == Botan::ENCRYPTION ? enc : dec;
    if (!slot) slot = Botan::AEAD_Mode::create_or_throw("AES-256/GCM", dir);
    mode_ = slot.get();
  }
  ~ModeLease() { mode_->clear(); }
  ModeLease(const ModeLease&) = delete;
  ModeLease& operator=(const ModeLease&) = delete;
  Botan::AEAD_Mode* operator->() const noexcept { return mode_; }

 private:
  Botan::AEAD_Mode* mode_;
};

/// AES-256-GCM of `plaintext` under `key` with a fresh random nonce: version || nonce || ct || tag.
std::vector<std::byte> gcm_seal(std::span<const std::byte> key, std::span<const std::byte> plaintext,
                                std::string_view ad) {
  try {
    ModeLease mode(Botan::ENCRYPTION);
    mode->set_key(u8(key.data()), key.size());
    mode->set_associated_data(reinterpret_cast<const std::uint8_t*>(ad.data()), ad.size());
    std::uint8_t nonce[kNonceSize];
    Botan::system_rng().randomize(nonce, sizeof nonce);
    mode->start(nonce, sizeof nonce);
    // A zeroizing buffer: it briefly holds the plaintext before encryption in place.
    Botan::secure_vector<std::uint8_t> buf(u8(plaintext.data()), u8(plaintext.data()) + plaintext.size());
    mode->finish(buf);
    std::vector<std::byte> out(1 + kNonceSize + buf.size());
    out[0] = kFormatVersion;
    std::memcpy(out.data() + 1, nonce, kNonceSize);
    std::memcpy(out.data() + 1 + kNonceSize, buf.data(), buf.size());
    return out;
  } catch (const Botan::Exception& e) {
    throw Error(ErrorCode::internal, std::string("vault: AES-256-GCM encryption failed: ") + e.what());
  }
}

/// Opens gcm_seal()'s output. Returns nullopt when it does not authenticate; throws
/// Error(malformed) for a wrong format.
std::optional<SecretBytes> gcm_open(std::span<const std::byte> key, std::span<const std::byte> sealed,
                                    std::string_view ad, std::string_view what) {
  if (sealed.size() < kOverhead || sealed[0] != kFormatVersion) {
    throw Error(ErrorCode::malformed, "vault: " + std::string(what) + " is not in the sealed format (" +
                                          std::to_string(sealed.size()) + " bytes)");
  }
  try {
    ModeLease mode(Botan::DECRYPTION);
    mode->set_key(u8(key.data()), key.size());
    mode->set_associated_data(reinterpret_cast<const std::uint8_t*>(ad.data()), ad.size());
    mode->start(u8(sealed.data() + 1), kNonceSize);
    Botan::secure_vector<std::uint8_t> buf(u8(sealed.data() + 1 + kNonceSize), u8(sealed.data() + sealed.size()));
    try {
      mode->finish(buf);
    } catch (const Botan::Invalid_Authentication_Tag&) {
      return std::nullopt;
    }
    return SecretBytes(std::as_bytes(std::span(buf.data(), buf.size())));
  } catch (const Botan::Exception& e) {
    throw Error(ErrorCode::internal, std::string("vault: AES-256-GCM decryption failed: ") + e.what());
  }
}

SecretBytes unwrap_data_key(const MasterKey& master, std::span<const std::byte> wrapped, std::string_view context) {
  if (wrapped.size() != kOverhead + key_size) {
    throw Error(ErrorCode::malformed, "vault: a wrapped data key must be " + std::to_string(kOverhead + key_size) +
                                          " bytes, not " + std::to_string(wrapped.size()));
  }
  auto key = gcm_open(master.bytes().bytes(), wrapped, aad("data-key", context), "the wrapped data key");
  if (!key) {
    throw Error(ErrorCode::bad_password,
                "vault: the data key does not unwrap (another master key, or a secret moved from another record)");
  }
  return std::move(*key);
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
      p.parallelism > max_argon2_params.parallelism) {
    throw Error(ErrorCode::limit_exceeded, "vault: Argon2id parameters above the limit (4 GiB, t=64, p=64)");
  }
  SecretBytes key = SecretBytes::zeroed(key_size);
  try {
    Botan::argon2(reinterpret_cast<std::uint8_t*>(key.data()), key.size(),
                  passphrase.view().data(), passphrase.size(), u8(salt.data()), salt.size(),
                  nullptr, 0, nullptr, 0, /*Argon2id*/ 2, p.parallelism, p.memory_kib, p.iterations);
  } catch (const Botan::Exception& e) {
    throw Error(ErrorCode::internal, std::string("vault: Argon2id failed: ") + e.what());
  } catch (const std::bad_alloc&) {
    throw Error(ErrorCode::limit_exceeded, "vault: not enough memory for Argon2id with " +
                                               std::to_string(p.memory_kib) + " KiB");
  }
  return MasterKey(std::move(key));
}

std::vector<std::byte> MasterKey::check_value() const {
  return gcm_seal(key_.bytes(), std::as_bytes(std::span(kCheckConstant.data(), kCheckConstant.size())),
                  aad("key-check", ""));
}

bool MasterKey::matches(std::span<const std::byte> check) const {
  if (check.size() != kOverhead + kCheckConstant.size() || check[0] != kFormatVersion) return false;
  const auto opened = gcm_open(key_.bytes(), check, aad("key-check", ""), "the key check value");
  return opened && opened->view() == kCheckConstant;
}

SealedSecret Vault::seal(std::span<const std::byte> plaintext, std::string_view context) const {
  const MasterKey data_key = MasterKey::generate();
  SealedSecret out;
  out.ciphertext = gcm_seal(data_key.bytes().bytes(), plaintext, aad("data", context));
  out.wrapped_key = gcm_seal(key_.bytes().bytes(), data_key.bytes().bytes(), aad("data-key", context));
  return out;
}

SecretBytes Vault::open(const SealedSecret& sealed, std::string_view context) const {
  const SecretBytes data_key = unwrap_data_key(key_, sealed.wrapped_key, context);
  auto plain = gcm_open(data_key.bytes(), sealed.ciphertext, aad("data", context), "the ciphertext");
  if (!plain) {
    throw Error(ErrorCode::malformed,
                "vault: the ciphertext does not authenticate under its data key (altered, or moved from another record)");
  }
  return std::move(*plain);
}

std::vector<std::byte> Vault::rewrap(std::span<const std::byte> wrapped_key, std::string_view context,
                                     const Vault& target) const {
  const SecretBytes data_key = unwrap_data_key(key_, wrapped_key, context);
  return gcm_seal(target.key_.bytes().bytes(), data_key.bytes(), aad("data-key", context));
}

}  // namespace dpgcert::vault
