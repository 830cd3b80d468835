// The key-derivation floor of a PKCS#12 file: every key derivation a reader cannot avoid, computed
// with OpenSSL's KDF functions from the file's own parameters (read once, before any timing):
//   * the MAC key: the PKCS#12 KDF (ID 3) with the MAC's digest, salt and iterations;
//   * each PBES2 container or shrouded key bag: PBKDF2 with its PRF, salt, iterations, key length;
//   * each PKCS#12-PBE (RC2, 3DES, RC4) container or bag: the PKCS#12 KDF for key (ID 1) and IV (ID 2).
// Shared by bench_pkcs12 (one file) and bench_bulk_import (a thousand).
#pragma once

#include <benchmark/benchmark.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include <cstddef>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace dpgcert::bench::kdf {

/// A private library context with the default and legacy providers, for OpenSSL's reference
/// PKCS12_parse and for reading the file's parameters.
inline OSSL_LIB_CTX* openssl_libctx() {
  static OSSL_LIB_CTX* lib = [] {
    OSSL_LIB_CTX* l = OSSL_LIB_CTX_new();
    if (l == nullptr || OSSL_PROVIDER_load(l, "default") == nullptr || OSSL_PROVIDER_load(l, "legacy") == nullptr) {
      throw std::runtime_error("cannot load OpenSSL's default and legacy providers");
    }
    return l;
  }();
  return lib;
}

struct MdFree {
  void operator()(EVP_MD* m) const noexcept { EVP_MD_free(m); }
};
using MdPtr = std::unique_ptr<EVP_MD, MdFree>;

/// One key derivation the file requires.
struct KdfStep {
  enum class Kind { pbkdf2, pkcs12 } kind = Kind::pbkdf2;
  std::shared_ptr<EVP_MD> md;
  std::vector<unsigned char> salt;
  int iterations = 0;
  int id = 0;  // PKCS#12 KDF: 1 key, 2 IV, 3 MAC
  int length = 0;
  std::string what;
};

inline std::shared_ptr<EVP_MD> fetch_md(int nid) {
  EVP_MD* md = EVP_MD_fetch(openssl_libctx(), OBJ_nid2sn(nid), nullptr);
  if (md == nullptr) throw std::runtime_error(std::string("cannot fetch digest ") + OBJ_nid2sn(nid));
  return std::shared_ptr<EVP_MD>(md, EVP_MD_free);
}

struct CipherLengths {
  int key = 0;
  int iv = 0;
};
inline CipherLengths cipher_lengths(int nid) {
  EVP_CIPHER* c = EVP_CIPHER_fetch(openssl_libctx(), OBJ_nid2sn(nid), nullptr);
  if (c == nullptr) throw std::runtime_error(std::string("cannot fetch cipher ") + OBJ_nid2sn(nid));
  const CipherLengths out{EVP_CIPHER_get_key_length(c), EVP_CIPHER_get_iv_length(c)};
  EVP_CIPHER_free(c);
  return out;
}

inline std::vector<unsigned char> octets(const ASN1_OCTET_STRING* s) {
  return {s->data, s->data + s->length};
}

/// The derivations a PBE AlgorithmIdentifier needs.
inline void add_pbe_steps(const X509_ALGOR* alg, const std::string& where, std::vector<KdfStep>& out) {
  const ASN1_OBJECT* obj = nullptr;
  X509_ALGOR_get0(&obj, nullptr, nullptr, alg);
  const int nid = OBJ_obj2nid(obj);
  if (nid == NID_pbes2) {
    PBE2PARAM* p2 = static_cast<PBE2PARAM*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter));
    if (p2 == nullptr || OBJ_obj2nid(p2->keyfunc->algorithm) != NID_id_pbkdf2) {
      throw std::runtime_error(where + ": only PBES2 with PBKDF2 is handled");
    }
    PBKDF2PARAM* kp = static_cast<PBKDF2PARAM*>(
        ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), p2->keyfunc->parameter));
    if (kp == nullptr || kp->salt->type != V_ASN1_OCTET_STRING) throw std::runtime_error(where + ": bad PBKDF2");
    KdfStep s;
    s.kind = KdfStep::Kind::pbkdf2;
    const int prf = kp->prf != nullptr ? OBJ_obj2nid(kp->prf->algorithm) : NID_hmacWithSHA1;
    int md_nid = NID_undef;
    if (EVP_PBE_find(EVP_PBE_TYPE_PRF, prf, nullptr, &md_nid, nullptr) == 0) throw std::runtime_error(where + ": PRF");
    s.md = fetch_md(md_nid);
    s.salt = octets(kp->salt->value.octet_string);
    s.iterations = static_cast<int>(ASN1_INTEGER_get(kp->iter));
    s.length = kp->keylength != nullptr ? static_cast<int>(ASN1_INTEGER_get(kp->keylength))
                                        : cipher_lengths(OBJ_obj2nid(p2->encryption->algorithm)).key;
    s.what = where + ": PBKDF2-HMAC-" + OBJ_nid2sn(md_nid) + ", " + std::to_string(s.iterations) + " iterations, " +
             std::to_string(s.length) + "-byte key";
    out.push_back(std::move(s));
    PBKDF2PARAM_free(kp);
    PBE2PARAM_free(p2);
    return;
  }
  int cipher_nid = NID_undef;
  int md_nid = NID_undef;
  if (EVP_PBE_find(EVP_PBE_TYPE_OUTER, nid, &cipher_nid, &md_nid, nullptr) == 0 || cipher_nid == NID_undef) {
    throw std::runtime_error(where + ": unknown PBE");
  }
  PBEPARAM* pp = static_cast<PBEPARAM*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), alg->parameter));
  if (pp == nullptr) throw std::runtime_error(where + ": bad PBE parameters");
  const CipherLengths len = cipher_lengths(cipher_nid);
  for (int id = 1; id <= 2; ++id) {
    KdfStep s;
    s.kind = KdfStep::Kind::pkcs12;
    s.md = fetch_md(md_nid);
    s.salt = octets(pp->salt);
    s.iterations = static_cast<int>(ASN1_INTEGER_get(pp->iter));
    s.id = id;
    s.length = id == 1 ? len.key : len.iv;
    if (s.length == 0) continue;
    s.what = where + ": PKCS12KDF-" + OBJ_nid2sn(md_nid) + " (" + OBJ_nid2sn(cipher_nid) + (id == 1 ? " key" : " IV") +
             "), " + std::to_string(s.iterations) + " iterations, " + std::to_string(s.length) + " bytes";
    out.push_back(std::move(s));
  }
  PBEPARAM_free(pp);
}

inline STACK_OF(PKCS12_SAFEBAG) * decrypt_bags(const PKCS7* p7, const char* password) {
  const PKCS7_ENC_CONTENT* enc = p7->d.encrypted->enc_data;
  unsigned char* out = nullptr;
  int len = 0;
  if (PKCS12_pbe_crypt_ex(enc->algorithm, password, static_cast<int>(std::strlen(password)), enc->enc_data->data,
                          enc->enc_data->length, &out, &len, 0, openssl_libctx(), nullptr) == nullptr) {
    throw std::runtime_error("cannot decrypt a container");
  }
  const unsigned char* p = out;
  auto* bags = static_cast<STACK_OF(PKCS12_SAFEBAG)*>(
      static_cast<void*>(ASN1_item_d2i(nullptr, &p, len, ASN1_ITEM_rptr(PKCS12_SAFEBAGS))));
  OPENSSL_clear_free(out, static_cast<std::size_t>(len));
  if (bags == nullptr) throw std::runtime_error("bad SafeContents");
  return bags;
}

inline void add_bag_steps(const STACK_OF(PKCS12_SAFEBAG) * bags, const std::string& where, std::vector<KdfStep>& out) {
  for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); ++i) {
    const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, i);
    const std::string w = where + " bag " + std::to_string(i + 1);
    if (PKCS12_SAFEBAG_get_nid(bag) == NID_pkcs8ShroudedKeyBag) {
      const X509_ALGOR* alg = nullptr;
      X509_SIG_get0(PKCS12_SAFEBAG_get0_pkcs8(bag), &alg, nullptr);
      add_pbe_steps(alg, w, out);
    } else if (PKCS12_SAFEBAG_get_nid(bag) == NID_safeContentsBag) {
      add_bag_steps(PKCS12_SAFEBAG_get0_safes(bag), w, out);
    }
  }
}

inline PKCS12* decode_in_libctx(const std::vector<std::byte>& data) {
  PKCS12* p12 = PKCS12_init_ex(NID_pkcs7_data, openssl_libctx(), nullptr);
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  if (p12 == nullptr || d2i_PKCS12(&p12, &p, static_cast<long>(data.size())) == nullptr) {
    throw std::runtime_error("d2i_PKCS12 failed");
  }
  return p12;
}

/// Every key derivation `data` requires, read with OpenSSL's PKCS12 API.
inline std::vector<KdfStep> kdf_steps(const std::vector<std::byte>& data, const char* password) {
  std::vector<KdfStep> steps;
  PKCS12* p12 = decode_in_libctx(data);
  if (PKCS12_mac_present(p12) == 1) {
    const ASN1_OCTET_STRING* salt = nullptr;
    const ASN1_INTEGER* iter = nullptr;
    const X509_ALGOR* alg = nullptr;
    PKCS12_get0_mac(nullptr, &alg, &salt, &iter, p12);
    const ASN1_OBJECT* obj = nullptr;
    X509_ALGOR_get0(&obj, nullptr, nullptr, alg);
    KdfStep s;
    s.kind = KdfStep::Kind::pkcs12;
    s.md = fetch_md(OBJ_obj2nid(obj));
    s.salt = octets(salt);
    s.iterations = iter != nullptr ? static_cast<int>(ASN1_INTEGER_get(iter)) : 1;
    s.id = PKCS12_MAC_ID;
    s.length = EVP_MD_get_size(s.md.get());
    s.what = std::string("MAC: PKCS12KDF-") + OBJ_nid2sn(OBJ_obj2nid(obj)) + ", " + std::to_string(s.iterations) +
             " iterations, " + std::to_string(s.length) + "-byte key";
    steps.push_back(std::move(s));
  }
  STACK_OF(PKCS7)* safes = PKCS12_unpack_authsafes(p12);
  if (safes == nullptr) throw std::runtime_error("PKCS12_unpack_authsafes failed");
  for (int i = 0; i < sk_PKCS7_num(safes); ++i) {
    const PKCS7* p7 = sk_PKCS7_value(safes, i);
    const std::string where = "container " + std::to_string(i + 1);
    STACK_OF(PKCS12_SAFEBAG)* bags = nullptr;
    if (OBJ_obj2nid(p7->type) == NID_pkcs7_encrypted) {
      add_pbe_steps(p7->d.encrypted->enc_data->algorithm, where, steps);
      bags = decrypt_bags(p7, password);
    } else {
      bags = PKCS12_unpack_p7data(const_cast<PKCS7*>(p7));
      if (bags == nullptr) throw std::runtime_error("PKCS12_unpack_p7data failed");
    }
    add_bag_steps(bags, where, steps);
    sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
  }
  sk_PKCS7_pop_free(safes, PKCS7_free);
  PKCS12_free(p12);
  ERR_clear_error();
  return steps;
}

inline void run_floor(const std::vector<KdfStep>& steps, const char* password) {
  unsigned char out[EVP_MAX_KEY_LENGTH > EVP_MAX_MD_SIZE ? EVP_MAX_KEY_LENGTH : EVP_MAX_MD_SIZE];
  const int passlen = static_cast<int>(std::strlen(password));
  for (const KdfStep& s : steps) {
    int ok = 0;
    if (s.kind == KdfStep::Kind::pbkdf2) {
      ok = PKCS5_PBKDF2_HMAC(password, passlen, s.salt.data(), static_cast<int>(s.salt.size()), s.iterations,
                             s.md.get(), s.length, out);
    } else {
      ok = PKCS12_key_gen_utf8(password, passlen, const_cast<unsigned char*>(s.salt.data()),
                               static_cast<int>(s.salt.size()), s.id, s.iterations, s.length, out, s.md.get());
    }
    if (ok != 1) throw std::runtime_error("key derivation failed: " + s.what);
    benchmark::DoNotOptimize(out);
  }
}

}  // namespace dpgcert::bench::kdf
