// The public Token: a logged-in session, the certificates on the token, signing and decrypting
// with a private key that never leaves it.
#include "token/p11.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstring>

namespace dpgcert::token {
namespace {

using detail::attr;
using detail::Session;

std::array<std::byte, 32> sha256(std::span<const std::byte> message) {
  std::array<std::byte, 32> out{};
  unsigned int n = 0;
  if (EVP_Digest(message.data(), message.size(), reinterpret_cast<unsigned char*>(out.data()), &n, EVP_sha256(),
                 nullptr) != 1) {
    throw Error(ErrorCode::internal, "token: SHA-256 failed");
  }
  return out;
}

/// The DER DigestInfo prefix of SHA-256 (RFC 8017, 9.2 note 1).
constexpr unsigned char kSha256DigestInfo[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                               0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};

CK_OBJECT_HANDLE private_key(const Session& s, const TokenUri& key) {
  CK_OBJECT_CLASS klass = CKO_PRIVATE_KEY;
  const CK_ATTRIBUTE extra[] = {attr(CKA_CLASS, klass)};
  TokenUri u = key;
  u.type.reset();
  return s.find_one(u, extra, "private key");
}

std::string hex(const std::vector<unsigned char>& b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : b) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

}  // namespace

Token Token::open(const TokenUri& uri, const PinSource& pin) {
  auto impl = std::make_shared<Impl>();
  impl->session = detail::open_session(uri);
  {
    std::lock_guard lock(impl->session->mutex());
    impl->session->login(pin);
  }
  return Token(std::move(impl));
}

TokenInfo Token::info() const { return impl_->session->info(); }

std::vector<TokenCertificate> Token::certificates() const {
  const Session& s = *impl_->session;
  std::lock_guard lock(s.mutex());
  CK_OBJECT_CLASS cert_class = CKO_CERTIFICATE;
  const CK_ATTRIBUTE extra[] = {attr(CKA_CLASS, cert_class)};
  std::vector<TokenCertificate> out;
  for (const CK_OBJECT_HANDLE h : s.find({}, extra, 4096)) {
    TokenCertificate c;
    const auto label = s.attribute(h, CKA_LABEL);
    const auto id = s.attribute(h, CKA_ID);
    const auto value = s.attribute(h, CKA_VALUE);
    c.label.assign(label.bytes.begin(), label.bytes.end());
    c.id_hex = hex(id.bytes);
    const auto* p = reinterpret_cast<const std::byte*>(value.bytes.data());
    c.der.assign(p, p + value.bytes.size());
    c.uri = s.object_uri(id.bytes, c.label, "cert");
    if (id.present && !id.bytes.empty()) {
      CK_OBJECT_CLASS key_class = CKO_PRIVATE_KEY;
      const CK_ATTRIBUTE key_tmpl[] = {attr(CKA_CLASS, key_class),
                                       detail::attr_bytes(CKA_ID, id.bytes.data(), id.bytes.size())};
      c.has_private_key = !s.find({}, key_tmpl, 1).empty();
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::byte> Token::sign(const TokenUri& key, std::span<const std::byte> message, SignScheme scheme) const {
  const Session& s = *impl_->session;
  std::lock_guard lock(s.mutex());
  const CK_OBJECT_HANDLE h = private_key(s, key);
  const auto digest = sha256(message);
  if (scheme == SignScheme::rsa_pss_sha256) {
    CK_RSA_PKCS_PSS_PARAMS params{CKM_SHA256, CKG_MGF1_SHA256, 32};
    CK_MECHANISM m{CKM_RSA_PKCS_PSS, &params, sizeof params};
    return s.sign(m, h, digest);
  }
  std::vector<std::byte> info(sizeof kSha256DigestInfo + digest.size());
  std::memcpy(info.data(), kSha256DigestInfo, sizeof kSha256DigestInfo);
  std::memcpy(info.data() + sizeof kSha256DigestInfo, digest.data(), digest.size());
  CK_MECHANISM m{CKM_RSA_PKCS, nullptr, 0};
  return s.sign(m, h, info);
}

SecretBytes Token::decrypt(const TokenUri& key, std::span<const std::byte> ciphertext, DecryptScheme scheme) const {
  const Session& s = *impl_->session;
  std::lock_guard lock(s.mutex());
  const CK_OBJECT_HANDLE h = private_key(s, key);
  const bool sha256_hash = scheme == DecryptScheme::rsa_oaep_sha256;
  CK_RSA_PKCS_OAEP_PARAMS params{sha256_hash ? CKM_SHA256 : CKM_SHA_1, sha256_hash ? CKG_MGF1_SHA256 : CKG_MGF1_SHA1,
                                 CKZ_DATA_SPECIFIED, nullptr, 0};
  CK_MECHANISM m = scheme == DecryptScheme::rsa_pkcs1v15 ? CK_MECHANISM{CKM_RSA_PKCS, nullptr, 0}
                                                         : CK_MECHANISM{CKM_RSA_PKCS_OAEP, &params, sizeof params};
  try {
    return s.decrypt(m, h, ciphertext);
  } catch (const Error& e) {
    // A padding that does not check out is CKR_ENCRYPTED_DATA_INVALID on some tokens and
    // CKR_GENERAL_ERROR on SoftHSM 2.6: either way the ciphertext is not for this key.
    if (e.code() != ErrorCode::io) throw;
    throw Error(ErrorCode::bad_password, std::string(e.what()) + " (the ciphertext does not decrypt under this key)");
  }
}

}  // namespace dpgcert::token
