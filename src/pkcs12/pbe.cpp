// Describing password-based encryption algorithms and preparing password forms.
#include "pkcs12/pkcs12_util.hpp"

#include <openssl/evp.h>
#include <openssl/objects.h>

#include <array>
#include <cctype>
#include <climits>
#include <cstring>

namespace dpgcert::detail {
namespace {

struct Pkcs12PbeName {
  int nid;
  const char* encryption;
  const char* kdf;
  const char* cipher;  // fetch name
  const char* digest;
};

// PKCS#12 PBE (RFC 7292 appendix C) and PBES1 (RFC 8018 6.1) algorithms.
constexpr std::array<Pkcs12PbeName, 12> kPbes{{
    {NID_pbe_WithSHA1And128BitRC4, "RC4-128", "PKCS12KDF-SHA1", "RC4", "SHA1"},
    {NID_pbe_WithSHA1And40BitRC4, "RC4-40", "PKCS12KDF-SHA1", "RC4-40", "SHA1"},
    {NID_pbe_WithSHA1And3_Key_TripleDES_CBC, "DES-EDE3-CBC", "PKCS12KDF-SHA1", "DES-EDE3-CBC", "SHA1"},
    {NID_pbe_WithSHA1And2_Key_TripleDES_CBC, "DES-EDE-CBC", "PKCS12KDF-SHA1", "DES-EDE-CBC", "SHA1"},
    {NID_pbe_WithSHA1And128BitRC2_CBC, "RC2-128-CBC", "PKCS12KDF-SHA1", "RC2-CBC", "SHA1"},
    {NID_pbe_WithSHA1And40BitRC2_CBC, "RC2-40-CBC", "PKCS12KDF-SHA1", "RC2-40-CBC", "SHA1"},
    {NID_pbeWithMD2AndDES_CBC, "DES-CBC", "PBKDF1-MD2", "DES-CBC", "MD2"},
    {NID_pbeWithMD5AndDES_CBC, "DES-CBC", "PBKDF1-MD5", "DES-CBC", "MD5"},
    {NID_pbeWithSHA1AndDES_CBC, "DES-CBC", "PBKDF1-SHA1", "DES-CBC", "SHA1"},
    {NID_pbeWithMD2AndRC2_CBC, "RC2-64-CBC", "PBKDF1-MD2", "RC2-64-CBC", "MD2"},
    {NID_pbeWithMD5AndRC2_CBC, "RC2-64-CBC", "PBKDF1-MD5", "RC2-64-CBC", "MD5"},
    {NID_pbeWithSHA1AndRC2_CBC, "RC2-64-CBC", "PBKDF1-SHA1", "RC2-64-CBC", "SHA1"},
}};

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string sn_or_oid(const ASN1_OBJECT* obj) {
  const int nid = OBJ_obj2nid(obj);
  if (nid != NID_undef) {
    if (const char* sn = OBJ_nid2sn(nid)) return upper(sn);
  }
  return oid_text(obj);
}

/// Unpacks a SEQUENCE parameter of an AlgorithmIdentifier into an OpenSSL type.
template <typename T>
T* unpack_params(const ASN1_TYPE* param, const ASN1_ITEM* item) {
  if (param == nullptr || param->type != V_ASN1_SEQUENCE || param->value.sequence == nullptr) return nullptr;
  const unsigned char* p = param->value.sequence->data;
  const long len = param->value.sequence->length;
  const unsigned char* const end = p + len;
  auto* out = static_cast<T*>(static_cast<void*>(ASN1_item_d2i(nullptr, &p, len, item)));
  if (out != nullptr && p != end) {
    ASN1_item_free(static_cast<ASN1_VALUE*>(static_cast<void*>(out)), item);
    return nullptr;
  }
  return out;
}

[[noreturn]] void bad_params(const std::string& where, const std::string& what) {
  clear_openssl_errors();
  throw Error(ErrorCode::malformed, where + ": malformed " + what + " parameters");
}

}  // namespace

std::uint64_t iteration_count(const ASN1_INTEGER* value, const std::string& where) {
  if (value == nullptr) throw Error(ErrorCode::malformed, where + ": missing iteration count");
  if (value->type == V_ASN1_NEG_INTEGER) {
    throw Error(ErrorCode::malformed, where + ": negative iteration count");
  }
  std::uint64_t v = 0;
  if (ASN1_INTEGER_get_uint64(&v, value) != 1) {
    clear_openssl_errors();
    throw Error(ErrorCode::limit_exceeded,
                where + ": iteration count of " + std::to_string(value->length) + " bytes exceeds any limit");
  }
  if (v == 0) throw Error(ErrorCode::malformed, where + ": iteration count 0");
  return v;
}

void check_iterations(std::uint64_t iterations, const Limits& limits, const std::string& where) {
  if (iterations > limits.max_iterations) {
    throw Error(ErrorCode::limit_exceeded, where + ": iteration count " + std::to_string(iterations) +
                                               " exceeds the limit " + std::to_string(limits.max_iterations));
  }
}

PbeDescription describe_pbe(const X509_ALGOR* algor, const std::string& where) {
  const ASN1_OBJECT* obj = nullptr;
  int ptype = 0;
  const void* pval = nullptr;
  X509_ALGOR_get0(&obj, &ptype, &pval, algor);
  const ASN1_TYPE* param = algor->parameter;
  const int nid = OBJ_obj2nid(obj);
  PbeDescription d;
  d.encryption = oid_text(obj);

  for (const auto& pbe : kPbes) {
    if (pbe.nid != nid) continue;
    PbeParamPtr p(unpack_params<PBEPARAM>(param, ASN1_ITEM_rptr(PBEPARAM)));
    if (!p || p->salt == nullptr) bad_params(where, pbe.encryption);
    d.encryption = pbe.encryption;
    d.kdf = pbe.kdf;
    d.iterations = iteration_count(p->iter, where);
    d.salt_length = static_cast<std::size_t>(p->salt->length);
    d.cipher_fetch_name = pbe.cipher;
    d.digest_fetch_name = pbe.digest;
    d.known = true;
    return d;
  }
  if (nid != NID_pbes2) return d;  // unknown: described by its OID only

  Pbe2ParamPtr p2(unpack_params<PBE2PARAM>(param, ASN1_ITEM_rptr(PBE2PARAM)));
  if (!p2 || p2->keyfunc == nullptr || p2->encryption == nullptr) bad_params(where, "PBES2");
  d.encryption = sn_or_oid(p2->encryption->algorithm);
  const int cipher_nid = OBJ_obj2nid(p2->encryption->algorithm);
  if (cipher_nid != NID_undef) d.cipher_fetch_name = OBJ_nid2sn(cipher_nid);
  const int kdf_nid = OBJ_obj2nid(p2->keyfunc->algorithm);
  if (kdf_nid == NID_id_pbkdf2) {
    Pbkdf2ParamPtr kp(unpack_params<PBKDF2PARAM>(p2->keyfunc->parameter, ASN1_ITEM_rptr(PBKDF2PARAM)));
    if (!kp || kp->salt == nullptr) bad_params(where, "PBKDF2");
    d.iterations = iteration_count(kp->iter, where);
    if (kp->salt->type == V_ASN1_OCTET_STRING && kp->salt->value.octet_string != nullptr) {
      d.salt_length = static_cast<std::size_t>(kp->salt->value.octet_string->length);
    }
    int prf_nid = NID_hmacWithSHA1;  // the default PRF
    if (kp->prf != nullptr) prf_nid = OBJ_obj2nid(kp->prf->algorithm);
    int md_nid = NID_undef;
    if (prf_nid != NID_undef && EVP_PBE_find(EVP_PBE_TYPE_PRF, prf_nid, nullptr, &md_nid, nullptr) &&
        md_nid != NID_undef) {
      d.digest_fetch_name = OBJ_nid2sn(md_nid);
      d.kdf = "PBKDF2-HMAC-" + upper(d.digest_fetch_name);
    } else {
      d.kdf = "PBKDF2-" + (kp->prf != nullptr ? oid_text(kp->prf->algorithm) : std::string("?"));
    }
    d.known = kp->salt->type == V_ASN1_OCTET_STRING && md_nid != NID_undef && cipher_nid != NID_undef;
  } else if (kdf_nid == NID_id_scrypt) {
    ScryptParamPtr sp(unpack_params<SCRYPT_PARAMS>(p2->keyfunc->parameter, ASN1_ITEM_rptr(SCRYPT_PARAMS)));
    if (!sp || sp->salt == nullptr) bad_params(where, "scrypt");
    d.kdf = "scrypt";
    d.scrypt = true;
    d.iterations = iteration_count(sp->costParameter, where + " (scrypt cost)");
    d.salt_length = static_cast<std::size_t>(sp->salt->length);
    d.known = cipher_nid != NID_undef;
  } else {
    d.kdf = oid_text(p2->keyfunc->algorithm);
  }
  clear_openssl_errors();
  return d;
}

void check_pbe_available(const PbeDescription& pbe, OSSL_LIB_CTX* libctx, const std::string& where) {
  if (!pbe.known) {
    throw Error(ErrorCode::unsupported, where + ": encryption " + pbe.encryption +
                                            (pbe.kdf ? " with " + *pbe.kdf : std::string()) + " is not supported");
  }
  ERR_set_mark();
  EvpCipherPtr cipher(EVP_CIPHER_fetch(libctx, pbe.cipher_fetch_name.c_str(), nullptr));
  EvpMdPtr md;
  if (!pbe.digest_fetch_name.empty()) md.reset(EVP_MD_fetch(libctx, pbe.digest_fetch_name.c_str(), nullptr));
  EvpKdfPtr kdf;
  if (pbe.scrypt) kdf.reset(EVP_KDF_fetch(libctx, "SCRYPT", nullptr));
  ERR_pop_to_mark();
  if (!cipher) {
    const bool legacy = legacy_cipher_reason(pbe.encryption).has_value();
    throw Error(ErrorCode::unsupported,
                where + ": cipher " + pbe.encryption + " is not available" +
                    (legacy ? " (it needs OpenSSL's legacy provider)" : std::string()));
  }
  if (!pbe.digest_fetch_name.empty() && !md) {
    throw Error(ErrorCode::unsupported, where + ": digest " + pbe.digest_fetch_name + " is not available");
  }
  if (pbe.scrypt && !kdf) throw Error(ErrorCode::unsupported, where + ": scrypt is not available");
}

std::optional<std::string> legacy_cipher_reason(const std::string& encryption) {
  if (encryption.rfind("RC2", 0) == 0 || encryption.rfind("RC4", 0) == 0 || encryption.rfind("DES", 0) == 0) {
    return encryption + " encryption";
  }
  return std::nullopt;
}

PasswordCandidates::PasswordCandidates(const SecretBytes& password) {
  if (password.size() > static_cast<std::size_t>(INT_MAX / 4)) {
    throw Error(ErrorCode::invalid_argument, "PKCS#12: password too long");
  }
  if (password.empty()) {
    forms_.push_back({nullptr, 0});
    forms_.push_back({"", 0});
    return;
  }
  utf8_ = SecretBytes::zeroed(password.size() + 1);
  std::memcpy(utf8_.data(), password.data(), password.size());
  forms_.push_back({reinterpret_cast<const char*>(utf8_.data()), static_cast<int>(password.size())});
  std::size_t high = 0;
  for (std::byte b : password.bytes()) high += (static_cast<unsigned>(b) & 0x80U) != 0 ? 1 : 0;
  if (high == 0) return;
  // OpenSSL before 1.1.0 took each byte as one BMP character; its CLI retries that form too.
  latin1_ = SecretBytes::zeroed(password.size() + high + 1);
  std::size_t o = 0;
  for (std::byte b : password.bytes()) {
    const auto v = static_cast<unsigned>(b);
    if (v < 0x80) {
      latin1_.data()[o++] = b;
    } else {
      latin1_.data()[o++] = static_cast<std::byte>(0xC0U | (v >> 6));
      latin1_.data()[o++] = static_cast<std::byte>(0x80U | (v & 0x3FU));
    }
  }
  forms_.push_back({reinterpret_cast<const char*>(latin1_.data()), static_cast<int>(o)});
}

}  // namespace dpgcert::detail
