// Writing PKCS#12 with OpenSSL's building blocks, so the PBKDF2 PRF and salts are ours to choose.
#include "pkcs12/bmp_string.hpp"
#include "pkcs12/bundle_impl.hpp"
#include "x509/certificate_impl.hpp"

#include <openssl/evp.h>
#include <openssl/objects.h>

#include <array>
#include <climits>
#include <cstring>

namespace dpgcert {
namespace {

using namespace detail;

constexpr int kPbes2SaltLength = 16;
constexpr int kPkcs12PbeSaltLength = 8;

struct LegacyPbe {
  const char* name;
  int nid;
  const char* cipher;
};

constexpr std::array<LegacyPbe, 6> kLegacyPbes{{
    {"DES-EDE3-CBC", NID_pbe_WithSHA1And3_Key_TripleDES_CBC, "DES-EDE3-CBC"},
    {"DES-EDE-CBC", NID_pbe_WithSHA1And2_Key_TripleDES_CBC, "DES-EDE-CBC"},
    {"RC2-40-CBC", NID_pbe_WithSHA1And40BitRC2_CBC, "RC2-40-CBC"},
    {"RC2-128-CBC", NID_pbe_WithSHA1And128BitRC2_CBC, "RC2-CBC"},
    {"RC4-128", NID_pbe_WithSHA1And128BitRC4, "RC4"},
    {"RC4-40", NID_pbe_WithSHA1And40BitRC4, "RC4-40"},
}};

int prf_nid_for(const std::string& digest) {
  if (digest == "SHA1") return NID_hmacWithSHA1;
  if (digest == "SHA224") return NID_hmacWithSHA224;
  if (digest == "SHA256") return NID_hmacWithSHA256;
  if (digest == "SHA384") return NID_hmacWithSHA384;
  if (digest == "SHA512") return NID_hmacWithSHA512;
  throw Error(ErrorCode::unsupported, "PKCS#12 writer: PBKDF2 digest '" + digest + "' is not supported");
}

EvpCipherPtr fetch_cipher(OSSL_LIB_CTX* libctx, const char* name, const std::string& label) {
  ERR_set_mark();
  EvpCipherPtr cipher(EVP_CIPHER_fetch(libctx, name, nullptr));
  ERR_pop_to_mark();
  if (!cipher) throw Error(ErrorCode::unsupported, "PKCS#12 writer: cipher " + label + " is not available");
  return cipher;
}

/// The AlgorithmIdentifier for one encryption name, or null for "none".
X509AlgorPtr make_pbe(const std::string& name, const std::string& kdf_digest, int iterations, OSSL_LIB_CTX* libctx) {
  if (name == "none") return nullptr;
  for (const auto& pbe : kLegacyPbes) {
    if (name != pbe.name) continue;
    (void)fetch_cipher(libctx, pbe.cipher, name);
    X509AlgorPtr alg(PKCS5_pbe_set_ex(pbe.nid, iterations, nullptr, kPkcs12PbeSaltLength, libctx));
    if (!alg) throw_openssl(ErrorCode::internal, "PKCS#12 writer: cannot set up " + name);
    return alg;
  }
  if (name == "AES-128-CBC" || name == "AES-192-CBC" || name == "AES-256-CBC") {
    const int prf = prf_nid_for(kdf_digest);
    const EvpCipherPtr cipher = fetch_cipher(libctx, name.c_str(), name);
    X509AlgorPtr alg(PKCS5_pbe2_set_iv_ex(cipher.get(), iterations, nullptr, kPbes2SaltLength, nullptr, prf, libctx));
    if (!alg) throw_openssl(ErrorCode::internal, "PKCS#12 writer: cannot set up " + name);
    return alg;
  }
  throw Error(ErrorCode::unsupported, "PKCS#12 writer: encryption '" + name + "' is not supported");
}

void add_attributes(PKCS12_SAFEBAG* bag, const std::optional<std::string>& name,
                    const std::optional<std::vector<std::byte>>& local_key_id) {
  if (name && !name->empty()) {
    const auto bmp = name->size() <= INT_MAX / 4 ? utf8_to_bmp(*name) : std::nullopt;
    if (!bmp) throw Error(ErrorCode::invalid_argument, "PKCS#12 writer: friendly name is not valid UTF-8");
    if (PKCS12_add_friendlyname_uni(bag, bmp->data(), static_cast<int>(bmp->size())) != 1) {
      throw_openssl(ErrorCode::internal, "PKCS#12 writer: cannot add a friendly name");
    }
  }
  if (local_key_id) {
    auto* id = const_cast<unsigned char*>(reinterpret_cast<const unsigned char*>(local_key_id->data()));
    if (PKCS12_add_localkeyid(bag, id, static_cast<int>(local_key_id->size())) != 1) {
      throw_openssl(ErrorCode::internal, "PKCS#12 writer: cannot add a local key id");
    }
  }
}

void push_bag(STACK_OF(PKCS12_SAFEBAG) * bags, SafeBagPtr bag) {
  if (sk_PKCS12_SAFEBAG_push(bags, bag.get()) <= 0) throw_openssl(ErrorCode::internal, "PKCS#12 writer: out of memory");
  (void)bag.release();
}

/// Packs bags into a ContentInfo: data, or encryptedData under `alg` (taken).
Pkcs7Ptr pack(STACK_OF(PKCS12_SAFEBAG) * bags, X509AlgorPtr alg, const PasswordForm& pass, OSSL_LIB_CTX* libctx) {
  if (!alg) {
    Pkcs7Ptr p7(PKCS12_pack_p7data(bags));
    if (!p7) throw_openssl(ErrorCode::internal, "PKCS#12 writer: cannot pack bags");
    return p7;
  }
  Pkcs7Ptr p7(PKCS7_new_ex(libctx, nullptr));
  if (!p7 || PKCS7_set_type(p7.get(), NID_pkcs7_encrypted) != 1) {
    throw_openssl(ErrorCode::internal, "PKCS#12 writer: cannot create encryptedData");
  }
  PKCS7_ENC_CONTENT* enc = p7->d.encrypted->enc_data;
  ASN1_OCTET_STRING* data = PKCS12_item_i2d_encrypt_ex(alg.get(), ASN1_ITEM_rptr(PKCS12_SAFEBAGS), pass.text,
                                                       pass.length, bags, 1, libctx, nullptr);
  if (data == nullptr) throw_openssl(ErrorCode::internal, "PKCS#12 writer: cannot encrypt certificates");
  X509_ALGOR_free(enc->algorithm);
  enc->algorithm = alg.release();
  ASN1_OCTET_STRING_free(enc->enc_data);
  enc->enc_data = data;
  return p7;
}

std::vector<std::byte> sha1(std::span<const std::byte> data, OSSL_LIB_CTX* libctx) {
  EvpMdPtr md(EVP_MD_fetch(libctx, "SHA1", nullptr));
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!md || EVP_Digest(data.data(), data.size(), out, &len, md.get(), nullptr) != 1) {
    throw_openssl(ErrorCode::internal, "PKCS#12 writer: SHA-1 is not available");
  }
  const auto* p = reinterpret_cast<const std::byte*>(out);
  return {p, p + len};
}

int checked_iterations(std::uint64_t n, const Limits& limits, const char* what) {
  if (n == 0 || n > static_cast<std::uint64_t>(INT_MAX) || n > limits.max_iterations) {
    throw Error(ErrorCode::invalid_argument, std::string("PKCS#12 writer: ") + what + " iteration count " +
                                                 std::to_string(n) + " must be between 1 and " +
                                                 std::to_string(std::min<std::uint64_t>(INT_MAX, limits.max_iterations)));
  }
  return static_cast<int>(n);
}

}  // namespace

Pkcs12WriteOptions Pkcs12WriteOptions::legacy_compatible() {
  Pkcs12WriteOptions o;
  o.certificate_encryption = "RC2-40-CBC";
  o.key_encryption = "DES-EDE3-CBC";
  o.kdf_digest = "SHA1";
  o.mac_digest = "SHA1";
  o.iterations = 2048;
  o.mac_iterations = 2048;
  return o;
}

std::vector<std::byte> write_pkcs12(const Pkcs12Bundle& bundle, const SecretBytes& password,
                                    const Pkcs12WriteOptions& options, const Context& ctx) {
  const PrivateKey* key = bundle.private_key();
  const auto& leaf = bundle.leaf();
  if (key == nullptr || !leaf) {
    throw Error(ErrorCode::invalid_argument, "PKCS#12 writer: the bundle needs a private key and a leaf certificate");
  }
  if (password.size() > static_cast<std::size_t>(INT_MAX / 4)) {
    throw Error(ErrorCode::invalid_argument, "PKCS#12 writer: password too long");
  }
  OSSL_LIB_CTX* lib = libctx(ctx);
  const int iterations = checked_iterations(options.iterations, ctx.limits(), "KDF");
  const bool with_mac = options.mac_digest != "none";
  const int mac_iterations = with_mac ? checked_iterations(options.mac_iterations, ctx.limits(), "MAC") : 0;

  // A NUL-terminated copy; an empty password is written as "" (readers try "" and absent).
  SecretBytes pass_buffer = SecretBytes::zeroed(password.size() + 1);
  if (!password.empty()) std::memcpy(pass_buffer.data(), password.data(), password.size());
  const PasswordForm pass{reinterpret_cast<const char*>(pass_buffer.data()), static_cast<int>(password.size())};

  const std::optional<std::string> name = options.friendly_name ? options.friendly_name : bundle.friendly_name();
  const std::optional<std::vector<std::byte>> key_id = sha1(leaf->der(), lib);

  // Certificates: the leaf, then the chain, keeping friendly names the bundle knows.
  SafeBagStackPtr cert_bags(sk_PKCS12_SAFEBAG_new_null());
  if (!cert_bags) throw_openssl(ErrorCode::internal, "PKCS#12 writer: out of memory");
  auto add_cert = [&](const Certificate& cert, const std::optional<std::string>& cert_name,
                      const std::optional<std::vector<std::byte>>& id) {
    SafeBagPtr bag(PKCS12_SAFEBAG_create_cert(detail::native(cert)));
    if (!bag) throw_openssl(ErrorCode::internal, "PKCS#12 writer: cannot make a certificate bag");
    add_attributes(bag.get(), cert_name, id);
    push_bag(cert_bags.get(), std::move(bag));
  };
  add_cert(*leaf, name, key_id);
  for (const auto& c : bundle.chain()) {
    std::optional<std::string> chain_name;
    for (const auto& known : bundle.certificates()) {
      if (known.certificate == c) chain_name = known.friendly_name;
    }
    add_cert(c, chain_name, std::nullopt);
  }

  // The key: its PKCS#8 goes straight into the bag; it is never decoded here.
  SafeBagStackPtr key_bags(sk_PKCS12_SAFEBAG_new_null());
  if (!key_bags) throw_openssl(ErrorCode::internal, "PKCS#12 writer: out of memory");
  {
    Pkcs8InfoPtr p8 = parse_pkcs8(key->pkcs8_der().bytes());
    SafeBagPtr bag;
    X509AlgorPtr alg = make_pbe(options.key_encryption, options.kdf_digest, iterations, lib);
    if (!alg) {
      bag.reset(PKCS12_SAFEBAG_create0_p8inf(p8.get()));
      if (bag) (void)p8.release();
    } else {
      X509SigPtr sig(PKCS8_set0_pbe_ex(pass.text, pass.length, p8.get(), alg.get(), lib, nullptr));
      if (!sig) throw_openssl(ErrorCode::internal, "PKCS#12 writer: cannot encrypt the key");
      (void)alg.release();  // now owned by sig
      bag.reset(PKCS12_SAFEBAG_create0_pkcs8(sig.get()));
      if (bag) (void)sig.release();
    }
    if (!bag) throw_openssl(ErrorCode::internal, "PKCS#12 writer: cannot make the key bag");
    add_attributes(bag.get(), name, key_id);
    push_bag(key_bags.get(), std::move(bag));
  }

  Pkcs7StackPtr safes(sk_PKCS7_new_null());
  if (!safes) throw_openssl(ErrorCode::internal, "PKCS#12 writer: out of memory");
  Pkcs7Ptr cert_safe =
      pack(cert_bags.get(), make_pbe(options.certificate_encryption, options.kdf_digest, iterations, lib), pass, lib);
  Pkcs7Ptr key_safe = pack(key_bags.get(), nullptr, pass, lib);
  for (Pkcs7Ptr* p7 : {&cert_safe, &key_safe}) {
    if (sk_PKCS7_push(safes.get(), p7->get()) <= 0) throw_openssl(ErrorCode::internal, "PKCS#12 writer: out of memory");
    (void)p7->release();
  }
  Pkcs12Ptr p12(PKCS12_add_safes_ex(safes.get(), NID_pkcs7_data, lib, nullptr));
  if (!p12) throw_openssl(ErrorCode::internal, "PKCS#12 writer: cannot assemble the file");
  if (with_mac) {
    ERR_set_mark();
    EvpMdPtr md(EVP_MD_fetch(lib, options.mac_digest.c_str(), nullptr));
    ERR_pop_to_mark();
    if (!md) throw Error(ErrorCode::unsupported, "PKCS#12 writer: MAC digest '" + options.mac_digest + "' is not available");
    const int salt_length = EVP_MD_get_type(md.get()) == NID_sha1 ? kPkcs12PbeSaltLength : kPbes2SaltLength;
    if (PKCS12_set_mac(p12.get(), pass.text, pass.length, nullptr, salt_length, mac_iterations, md.get()) != 1) {
      throw_openssl(ErrorCode::unsupported, "PKCS#12 writer: cannot compute the MAC with " + options.mac_digest);
    }
  }
  const int len = i2d_PKCS12(p12.get(), nullptr);
  if (len <= 0) throw_openssl(ErrorCode::internal, "PKCS#12 writer: cannot encode the file");
  std::vector<std::byte> out(static_cast<std::size_t>(len));
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  i2d_PKCS12(p12.get(), &p);
  return out;
}

}  // namespace dpgcert
