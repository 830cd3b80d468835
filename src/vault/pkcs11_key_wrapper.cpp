// The "pkcs11" key wrapper: the master key lives on a PKCS#11 token and never leaves it. Data keys
// are wrapped inside the token: AES-256-GCM under a non-extractable AES key (made there when the
// URI names none), or RSA-OAEP under an existing RSA key pair.
#include "token/p11.hpp"
#include "vault/pkcs11_key_wrapper.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/vault.hpp>

#include <nlohmann/json.hpp>

#include <openssl/evp.h>

#include <array>
#include <cstring>
#include <type_traits>

namespace dpgcert::vault {
namespace {

using nlohmann::json;
using token::TokenUri;
using token::detail::attr;
using token::detail::attr_bytes;
using token::detail::Session;

constexpr std::byte kGcmVersion{0x02};
constexpr std::byte kRsaVersion{0x03};
constexpr std::size_t kNonce = 12;
constexpr std::size_t kTag = 16;
constexpr std::size_t kBinding = 16;  // bytes of SHA-256(associated data) wrapped with an RSA-wrapped key
constexpr std::size_t kIdSize = 16;

enum class Scheme { aes_gcm, rsa_oaep };

std::string ad_of(std::string_view context) {
  std::string out = "dpgcert-vault-v1/";
  out += context;
  return out;
}

bool wrappable(std::size_t n) noexcept { return n == 16 || n == 32; }

std::array<unsigned char, 32> sha256(std::string_view s) {
  std::array<unsigned char, 32> out{};
  unsigned int n = 0;
  if (EVP_Digest(s.data(), s.size(), out.data(), &n, EVP_sha256(), nullptr) != 1) {
    throw Error(ErrorCode::internal, "vault: SHA-256 failed");
  }
  return out;
}

class Pkcs11KeyWrapper final : public KeyWrapper {
 public:
  Pkcs11KeyWrapper(std::shared_ptr<Session> session, Scheme scheme, TokenUri key_uri)
      : session_(std::move(session)), scheme_(scheme), uri_(std::move(key_uri)) {}

  [[nodiscard]] std::string kind() const override { return "pkcs11"; }
  [[nodiscard]] std::string describe() const override {
    return json{{"uri", uri_.to_string()}, {"mechanism", scheme_ == Scheme::aes_gcm ? "aes-256-gcm" : "rsa-oaep"}}.dump();
  }
  [[nodiscard]] std::string label() const override {
    return "the key '" + uri_.object_label.value_or("") + "' on token '" + session_->info().label + "'";
  }

  [[nodiscard]] std::vector<std::byte> wrap(std::span<const std::byte> key, std::string_view context) const override {
    if (!wrappable(key.size())) {
      throw Error(ErrorCode::invalid_argument,
                  "vault: the pkcs11 key wrapper takes keys of 16 or 32 bytes, not " + std::to_string(key.size()));
    }
    std::lock_guard lock(session_->mutex());
    const std::string ad = ad_of(context);
    if (scheme_ == Scheme::aes_gcm) {
      std::vector<std::byte> nonce = random_bytes(kNonce);
      CK_GCM_PARAMS params{reinterpret_cast<CK_BYTE*>(nonce.data()), kNonce, kNonce * 8,
                           reinterpret_cast<CK_BYTE*>(const_cast<char*>(ad.data())), ad.size(), kTag * 8};
      CK_MECHANISM m{CKM_AES_GCM, &params, sizeof params};
      const auto sealed =
          with_object(CKO_SECRET_KEY, [&](CK_OBJECT_HANDLE h) { return session_->encrypt(m, h, key); });
      std::vector<std::byte> out{kGcmVersion};
      out.insert(out.end(), nonce.begin(), nonce.end());
      out.insert(out.end(), sealed.begin(), sealed.end());
      return out;
    }
    // RSA: the key and 16 bytes of SHA-256(associated data), so a key moved to another context
    // does not unwrap there.
    const auto binding = sha256(ad);
    SecretBytes plain = SecretBytes::zeroed(key.size() + kBinding);
    std::memcpy(plain.data(), key.data(), key.size());
    std::memcpy(plain.data() + key.size(), binding.data(), kBinding);
    CK_RSA_PKCS_OAEP_PARAMS params{CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, nullptr, 0};
    CK_MECHANISM m{CKM_RSA_PKCS_OAEP, &params, sizeof params};
    const auto sealed =
        with_object(CKO_PUBLIC_KEY, [&](CK_OBJECT_HANDLE h) { return session_->encrypt(m, h, plain.bytes()); });
    std::vector<std::byte> out{kRsaVersion};
    out.insert(out.end(), sealed.begin(), sealed.end());
    return out;
  }

  [[nodiscard]] SecretBytes unwrap(std::span<const std::byte> wrapped, std::string_view context) const override {
    const std::string ad = ad_of(context);
    const std::byte version = scheme_ == Scheme::aes_gcm ? kGcmVersion : kRsaVersion;
    const bool gcm_size = wrapped.size() == 1 + kNonce + 16 + kTag || wrapped.size() == 1 + kNonce + 32 + kTag;
    if (wrapped.empty() || wrapped[0] != version || (scheme_ == Scheme::aes_gcm && !gcm_size) ||
        (scheme_ == Scheme::rsa_oaep && wrapped.size() < 65)) {
      throw Error(ErrorCode::malformed, "vault: the wrapped key is not in the format of " + label());
    }
    std::lock_guard lock(session_->mutex());
    SecretBytes plain;
    try {
      if (scheme_ == Scheme::aes_gcm) {
        std::vector<std::byte> nonce(wrapped.begin() + 1, wrapped.begin() + 1 + kNonce);
        CK_GCM_PARAMS params{reinterpret_cast<CK_BYTE*>(nonce.data()), kNonce, kNonce * 8,
                             reinterpret_cast<CK_BYTE*>(const_cast<char*>(ad.data())), ad.size(), kTag * 8};
        CK_MECHANISM m{CKM_AES_GCM, &params, sizeof params};
        plain = with_object(CKO_SECRET_KEY,
                            [&](CK_OBJECT_HANDLE h) { return session_->decrypt(m, h, wrapped.subspan(1 + kNonce)); });
      } else {
        CK_RSA_PKCS_OAEP_PARAMS params{CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, nullptr, 0};
        CK_MECHANISM m{CKM_RSA_PKCS_OAEP, &params, sizeof params};
        plain = with_object(CKO_PRIVATE_KEY,
                            [&](CK_OBJECT_HANDLE h) { return session_->decrypt(m, h, wrapped.subspan(1)); });
      }
    } catch (const Error& e) {
      // A token says "does not decrypt" in several ways (SoftHSM: CKR_ENCRYPTED_DATA_INVALID or
      // CKR_GENERAL_ERROR for a GCM tag that does not match); a missing key or PIN stays itself.
      if (e.code() == ErrorCode::io || e.code() == ErrorCode::bad_password) {
        throw Error(ErrorCode::bad_password,
                    "vault: the data key does not unwrap under " + label() + " (another key, or moved from another record)");
      }
      throw;
    }
    if (scheme_ == Scheme::rsa_oaep) {
      const auto binding = sha256(ad);
      if (plain.size() < kBinding || !wrappable(plain.size() - kBinding) ||
          std::memcmp(plain.data() + plain.size() - kBinding, binding.data(), kBinding) != 0) {
        throw Error(ErrorCode::bad_password, "vault: the data key does not unwrap under " + label() +
                                                 " (moved from another record)");
      }
      return SecretBytes(plain.bytes().first(plain.size() - kBinding));
    }
    return plain;
  }

 private:
  /// Runs `op(handle)` with the key object of `klass` the URI names. The handle is looked up once
  /// and kept for the session's life: a look-up (C_FindObjects*, which SoftHSM answers after
  /// re-reading its token folder) cost three times the AES unwrap itself (bench/README.md). When
  /// the call with a kept handle fails (the object may have been destroyed and made again), the
  /// handle is looked up afresh and the call made once more, so a stale handle never decides the
  /// error. The caller holds the session's mutex.
  template <class Op>
  std::invoke_result_t<Op&, CK_OBJECT_HANDLE> with_object(CK_OBJECT_CLASS klass, Op&& op) const {
    auto& slot = klass == CKO_PUBLIC_KEY ? public_handle_ : private_handle_;
    if (slot != CK_INVALID_HANDLE) {
      try {
        return op(slot);
      } catch (const Error&) {
        slot = CK_INVALID_HANDLE;
      }
    }
    const CK_ATTRIBUTE extra[] = {attr(CKA_CLASS, klass)};
    TokenUri key;
    key.object_label = uri_.object_label;
    key.id = uri_.id;
    const CK_OBJECT_HANDLE h = session_->find_one(key, extra, "master key");
    auto result = op(h);
    slot = h;
    return result;
  }

  std::shared_ptr<Session> session_;
  Scheme scheme_;
  TokenUri uri_;
  /// Kept key handles (with_object()): the public key (RSA wrapping), the secret or private key.
  mutable CK_OBJECT_HANDLE public_handle_ = CK_INVALID_HANDLE;
  mutable CK_OBJECT_HANDLE private_handle_ = CK_INVALID_HANDLE;
};

/// Opens the token a key URI names and logs in.
std::shared_ptr<Session> session_for(const TokenUri& uri, const token::PinSource& pin) {
  if (!uri.object_label && !uri.id) {
    throw Error(ErrorCode::invalid_argument, "vault: the key URI '" + uri.to_string() +
                                                 "' names no object: add object=LABEL (or id=) for the master key");
  }
  auto session = token::detail::open_session(uri);
  std::lock_guard lock(session->mutex());
  session->login(pin);
  return session;
}

/// What the token holds under the URI: an AES key, an RSA key pair, or nothing.
std::optional<Scheme> existing(const Session& s, const TokenUri& uri) {
  TokenUri objects = uri;
  objects.type.reset();
  CK_OBJECT_CLASS secret = CKO_SECRET_KEY;
  const CK_ATTRIBUTE secret_tmpl[] = {attr(CKA_CLASS, secret)};
  if (!s.find(objects, secret_tmpl, 2).empty()) return Scheme::aes_gcm;
  CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY;
  const CK_ATTRIBUTE priv_tmpl[] = {attr(CKA_CLASS, priv)};
  if (!s.find(objects, priv_tmpl, 2).empty()) return Scheme::rsa_oaep;
  return std::nullopt;
}

/// The URI recorded for the key: the token's label and serial, the module, and the key's id and label.
TokenUri recorded_uri(const Session& s, const TokenUri& given, CK_OBJECT_HANDLE key) {
  TokenUri u;
  u.token_label = s.info().label;
  u.serial = s.info().serial;
  u.module_name = given.module_name;
  u.module_path = given.module_path;
  const auto id = s.attribute(key, CKA_ID);
  if (id.present && !id.bytes.empty()) {
    const auto* p = reinterpret_cast<const std::byte*>(id.bytes.data());
    u.id = std::vector<std::byte>(p, p + id.bytes.size());
  }
  u.object_label = given.object_label;
  return u;
}

/// Makes a non-extractable AES-256 key on the token under the URI's label (and id, else a random one).
CK_OBJECT_HANDLE generate_aes(const Session& s, const TokenUri& uri) {
  std::vector<std::byte> id = uri.id.value_or(random_bytes(kIdSize));
  const std::string label = uri.object_label.value_or("dpgcert master key");
  CK_OBJECT_CLASS klass = CKO_SECRET_KEY;
  CK_KEY_TYPE type = CKK_AES;
  CK_ULONG len = 32;
  CK_BBOOL yes = CK_TRUE;
  CK_BBOOL no = CK_FALSE;
  CK_ATTRIBUTE tmpl[] = {attr(CKA_CLASS, klass),      attr(CKA_KEY_TYPE, type),     attr(CKA_VALUE_LEN, len),
                         attr(CKA_TOKEN, yes),        attr(CKA_PRIVATE, yes),       attr(CKA_SENSITIVE, yes),
                         attr(CKA_EXTRACTABLE, no),   attr(CKA_ENCRYPT, yes),       attr(CKA_DECRYPT, yes),
                         attr(CKA_WRAP, no),          attr(CKA_UNWRAP, no),         attr(CKA_MODIFIABLE, no),
                         attr_bytes(CKA_LABEL, label.data(), label.size()), attr_bytes(CKA_ID, id.data(), id.size())};
  CK_MECHANISM m{CKM_AES_KEY_GEN, nullptr, 0};
  return s.generate_key(m, tmpl);
}

std::unique_ptr<KeyWrapper> make(std::shared_ptr<Session> session, const TokenUri& given, bool create) {
  TokenUri objects = given;
  objects.type.reset();
  std::optional<Scheme> scheme;
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  {
    std::lock_guard lock(session->mutex());
    scheme = existing(*session, given);
    if (!scheme) {
      if (!create) {
        throw Error(ErrorCode::not_found, "vault: the master key '" + given.to_string() + "' is not on token '" +
                                              session->info().label + "'");
      }
      key = generate_aes(*session, objects);
      scheme = Scheme::aes_gcm;
    } else {
      CK_OBJECT_CLASS klass = *scheme == Scheme::aes_gcm ? CKO_SECRET_KEY : CKO_PRIVATE_KEY;
      const CK_ATTRIBUTE extra[] = {attr(CKA_CLASS, klass)};
      key = session->find_one(objects, extra, "master key");
    }
  }
  TokenUri recorded = recorded_uri(*session, given, key);
  return std::make_unique<Pkcs11KeyWrapper>(std::move(session), *scheme, std::move(recorded));
}

TokenUri uri_of(const json& j, ErrorCode code) {
  if (!j.is_object() || !j.contains("uri") || !j["uri"].is_string()) {
    throw Error(code, "vault: a pkcs11 key source needs a \"uri\" (pkcs11:token=...;object=...)");
  }
  return TokenUri::parse(j["uri"].get<std::string>());
}

}  // namespace

KeyWrapperFactory pkcs11_wrapper_factory() {
  KeyWrapperFactory f;
  f.kind = "pkcs11";
  f.summary = "a master key on a PKCS#11 token (AES-256-GCM, or RSA-OAEP with a key pair), never leaving it";
  f.establish = [](const KeySource& source) -> std::unique_ptr<KeyWrapper> {
    const TokenUri uri = uri_of(json::parse(source.settings(), nullptr, false), ErrorCode::invalid_argument);
    token::PinSource pin;
    if (!source.secret().empty()) pin.pin = SecretBytes(source.secret().bytes());
    return make(session_for(uri, pin), uri, true);
  };
  f.reopen = [](std::string_view params, const Unlock& unlock) -> std::unique_ptr<KeyWrapper> {
    const TokenUri uri = uri_of(json::parse(params, nullptr, false), ErrorCode::malformed);
    return make(session_for(uri, unlock.pin), uri, false);
  };
  return f;
}

}  // namespace dpgcert::vault
