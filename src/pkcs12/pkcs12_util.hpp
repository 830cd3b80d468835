// Private: OpenSSL owners, password forms and algorithm descriptions for the pkcs12 layer.
#pragma once

#include "core/openssl_util.hpp"
#include "x509/name_util.hpp"

#include <dpgcert/pkcs12.hpp>

#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dpgcert::detail {

using Pkcs12Ptr = Owned<PKCS12, PKCS12_free>;
using Pkcs8InfoPtr = Owned<PKCS8_PRIV_KEY_INFO, PKCS8_PRIV_KEY_INFO_free>;
using X509SigPtr = Owned<X509_SIG, X509_SIG_free>;
using X509AlgorPtr = Owned<X509_ALGOR, X509_ALGOR_free>;
using SafeBagPtr = Owned<PKCS12_SAFEBAG, PKCS12_SAFEBAG_free>;
using Pkcs7Ptr = Owned<PKCS7, PKCS7_free>;
using EvpCipherPtr = Owned<EVP_CIPHER, EVP_CIPHER_free>;
using EvpKdfPtr = Owned<EVP_KDF, EVP_KDF_free>;
using PbeParamPtr = Owned<PBEPARAM, PBEPARAM_free>;
using Pbe2ParamPtr = Owned<PBE2PARAM, PBE2PARAM_free>;
using Pbkdf2ParamPtr = Owned<PBKDF2PARAM, PBKDF2PARAM_free>;
using ScryptParamPtr = Owned<SCRYPT_PARAMS, SCRYPT_PARAMS_free>;

inline void free_safebag_stack(STACK_OF(PKCS12_SAFEBAG) * sk) noexcept { sk_PKCS12_SAFEBAG_pop_free(sk, PKCS12_SAFEBAG_free); }
inline void free_pkcs7_stack(STACK_OF(PKCS7) * sk) noexcept { sk_PKCS7_pop_free(sk, PKCS7_free); }
inline void free_x509_stack(STACK_OF(X509) * sk) noexcept { sk_X509_pop_free(sk, X509_free); }
using SafeBagStackPtr = Owned<STACK_OF(PKCS12_SAFEBAG), free_safebag_stack>;
using Pkcs7StackPtr = Owned<STACK_OF(PKCS7), free_pkcs7_stack>;
using X509StackPtr = Owned<STACK_OF(X509), free_x509_stack>;

/// A buffer OpenSSL allocated for decrypted data: cleansed and freed.
struct ClearFree {
  std::size_t size = 0;
  void operator()(unsigned char* p) const noexcept { OPENSSL_clear_free(p, size); }
};
using SecretOpenSslBuffer = std::unique_ptr<unsigned char, ClearFree>;

/// A password as OpenSSL's char* functions take it. `text == nullptr` is the absent password.
/// Views into a SecretBytes (or a literal ""); never owns.
struct PasswordForm {
  const char* text = nullptr;
  int length = 0;
};

/// The forms of one password to try, kept in zeroizing NUL-terminated buffers.
class PasswordCandidates {
 public:
  /// Builds the candidates: for an empty password, absent then ""; otherwise the UTF-8 text, then
  /// (for non-ASCII text) each byte as a character, as OpenSSL before 1.1.0 encoded it.
  explicit PasswordCandidates(const SecretBytes& password);
  [[nodiscard]] const std::vector<PasswordForm>& forms() const noexcept { return forms_; }

 private:
  SecretBytes utf8_;
  SecretBytes latin1_;
  std::vector<PasswordForm> forms_;
};

/// A password-based encryption algorithm as read from an AlgorithmIdentifier (no key derivation).
struct PbeDescription {
  std::string encryption;          ///< Profile name or dotted OID.
  std::optional<std::string> kdf;  ///< Profile name (absent when unknown).
  std::uint64_t iterations = 0;
  std::size_t salt_length = 0;
  bool known = false;              ///< Whether dpgcert understands the algorithm.
  std::string cipher_fetch_name;   ///< What to fetch to check availability.
  std::string digest_fetch_name;
  bool scrypt = false;
};

/// Describes a PBE AlgorithmIdentifier (PKCS#12 PBE, PBES1, PBES2 with PBKDF2 or scrypt). Throws
/// Error(malformed) when known parameters do not parse, Error(limit_exceeded) for an iteration
/// count that does not fit 64 bits. `where` prefixes messages ("PKCS#12 bag 2").
[[nodiscard]] PbeDescription describe_pbe(const X509_ALGOR* algor, const std::string& where);

/// Throws Error(limit_exceeded) when the description's iterations exceed the limit.
void check_iterations(std::uint64_t iterations, const Limits& limits, const std::string& where);

/// Throws Error(unsupported) when the algorithm is unknown or the context lacks its cipher or digest.
void check_pbe_available(const PbeDescription& pbe, OSSL_LIB_CTX* libctx, const std::string& where);

/// Reads an ASN.1 INTEGER used as an iteration count. Throws malformed for a negative or zero
/// count, limit_exceeded for one beyond 64 bits.
[[nodiscard]] std::uint64_t iteration_count(const ASN1_INTEGER* value, const std::string& where);

/// The legacy reason for an encryption name ("RC2-40-CBC encryption"), if it is a legacy cipher.
[[nodiscard]] std::optional<std::string> legacy_cipher_reason(const std::string& encryption);

}  // namespace dpgcert::detail
