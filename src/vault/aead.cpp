// AES-256-GCM with Botan 2, in the vault's sealed format: version || nonce || ciphertext || tag.
#include "vault/aead.hpp"

#include <dpgcert/error.hpp>

#include <botan/aead.h>
#include <botan/exceptn.h>
#include <botan/secmem.h>
#include <botan/system_rng.h>

#include <cstring>
#include <memory>

namespace dpgcert::vault::aead {
namespace {

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

}  // namespace

std::string associated_data(std::string_view label, std::string_view context) {
  std::string out = "dpgcert-vault-v1/";
  out += label;
  out += '/';
  out += context;
  return out;
}

std::vector<std::byte> gcm_seal(std::span<const std::byte> key, std::span<const std::byte> plaintext,
                                std::string_view ad) {
  try {
    ModeLease mode(Botan::ENCRYPTION);
    mode->set_key(u8(key.data()), key.size());
    mode->set_associated_data(reinterpret_cast<const std::uint8_t*>(ad.data()), ad.size());
    std::uint8_t nonce[nonce_size];
    Botan::system_rng().randomize(nonce, sizeof nonce);
    mode->start(nonce, sizeof nonce);
    // A zeroizing buffer: it briefly holds the plaintext before encryption in place.
    Botan::secure_vector<std::uint8_t> buf(u8(plaintext.data()), u8(plaintext.data()) + plaintext.size());
    mode->finish(buf);
    std::vector<std::byte> out(1 + nonce_size + buf.size());
    out[0] = format_version;
    std::memcpy(out.data() + 1, nonce, nonce_size);
    std::memcpy(out.data() + 1 + nonce_size, buf.data(), buf.size());
    return out;
  } catch (const Botan::Exception& e) {
    throw Error(ErrorCode::internal, std::string("vault: AES-256-GCM encryption failed: ") + e.what());
  }
}

std::optional<SecretBytes> gcm_open(std::span<const std::byte> key, std::span<const std::byte> sealed,
                                    std::string_view ad, std::string_view what) {
  if (sealed.size() < overhead || sealed[0] != format_version) {
    throw Error(ErrorCode::malformed, "vault: " + std::string(what) + " is not in the sealed format (" +
                                          std::to_string(sealed.size()) + " bytes)");
  }
  try {
    ModeLease mode(Botan::DECRYPTION);
    mode->set_key(u8(key.data()), key.size());
    mode->set_associated_data(reinterpret_cast<const std::uint8_t*>(ad.data()), ad.size());
    mode->start(u8(sealed.data() + 1), nonce_size);
    Botan::secure_vector<std::uint8_t> buf(u8(sealed.data() + 1 + nonce_size), u8(sealed.data() + sealed.size()));
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

}  // namespace dpgcert::vault::aead
