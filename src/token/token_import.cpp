// Putting a stored certificate's key on a token (`dpgcert token import`): the private key
// (sensitive, never extractable), its public key and the certificate, with one CKA_ID and label;
// idempotent, and all or nothing (what a failed import created is destroyed by handle).
#include "core/openssl_util.hpp"
#include "pkcs12/bundle_impl.hpp"
#include "token/p11.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

namespace dpgcert::token {
namespace {

using detail::attr;
using detail::attr_bytes;
using detail::Session;

/// Big-endian bytes, wiped when they go (the private parts of an RSA key pass through here on
/// their way into the token's template).
class WipedBytes final {
 public:
  WipedBytes() = default;
  explicit WipedBytes(std::size_t n) : bytes_(n) {}
  WipedBytes(WipedBytes&& o) noexcept : bytes_(std::move(o.bytes_)) {}
  WipedBytes& operator=(WipedBytes&&) = delete;
  WipedBytes(const WipedBytes&) = delete;
  WipedBytes& operator=(const WipedBytes&) = delete;
  ~WipedBytes() {
    if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
  }
  [[nodiscard]] unsigned char* data() noexcept { return bytes_.data(); }
  [[nodiscard]] std::size_t size() const noexcept { return bytes_.size(); }

 private:
  std::vector<unsigned char> bytes_;
};

/// One RSA parameter of `pkey` as big-endian bytes; the BIGNUM is cleared after.
WipedBytes rsa_part(EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1 || bn == nullptr) {
    dpgcert::detail::clear_openssl_errors();
    throw Error(ErrorCode::unsupported, std::string("token import: the RSA key has no '") + name +
                                            "' (keys without CRT parameters are not supported)");
  }
  WipedBytes out(static_cast<std::size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  BN_clear_free(bn);
  return out;
}

/// A certificate's DER parsed by OpenSSL (for the raw subject, issuer, serial and public key).
dpgcert::detail::X509Ptr parse(const Certificate& cert) {
  const auto der = cert.der();
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  dpgcert::detail::X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x) dpgcert::detail::throw_openssl(ErrorCode::malformed, "token import: the certificate");
  return x;
}

/// The DER of an OpenSSL object through its i2d function.
template <class T, class I2d>
std::vector<unsigned char> der_of(const T* object, I2d i2d) {
  const int n = i2d(object, nullptr);
  if (n <= 0) dpgcert::detail::throw_openssl(ErrorCode::internal, "token import: encode");
  std::vector<unsigned char> out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  i2d(object, &p);
  return out;
}

std::string hex(std::span<const unsigned char> b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : b) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

/// A fault for the tests of the rollback: DPGCERT_TEST_TOKEN_IMPORT_FAULT names the step
/// ("public", "cert") whose creation fails as if the token had refused it. Tests only.
bool fault_at(std::string_view step) {
  const char* v = std::getenv("DPGCERT_TEST_TOKEN_IMPORT_FAULT");
  return v != nullptr && step == v;
}

/// Objects of class `klass` with `id` on the token.
std::vector<CK_OBJECT_HANDLE> with_id(const Session& s, CK_OBJECT_CLASS klass, const std::vector<unsigned char>& id) {
  const CK_ATTRIBUTE tmpl[] = {attr(CKA_CLASS, klass), attr_bytes(CKA_ID, id.data(), id.size())};
  return s.find({}, tmpl, 4);
}

/// Objects created so far by one import; destroyed unless the import commits.
class Created final {
 public:
  explicit Created(const Session& s) noexcept : s_(s) {}
  ~Created() {
    if (committed_) return;
    for (auto it = handles_.rbegin(); it != handles_.rend(); ++it) s_.destroy(*it);
  }
  Created(const Created&) = delete;
  Created& operator=(const Created&) = delete;
  void add(CK_OBJECT_HANDLE h) { handles_.push_back(h); }
  void commit() noexcept { committed_ = true; }
  [[nodiscard]] std::size_t size() const noexcept { return handles_.size(); }

 private:
  const Session& s_;
  std::vector<CK_OBJECT_HANDLE> handles_;
  bool committed_ = false;
};

/// Creates an object unless the test fault names `step`.
CK_OBJECT_HANDLE create(const Session& s, std::span<CK_ATTRIBUTE> tmpl, std::string_view step, std::string_view what) {
  if (fault_at(step)) {
    detail::throw_rv(CKR_DEVICE_ERROR, "create the " + std::string(what) + " on token '" + s.info().label + "'");
  }
  return s.create(tmpl, what);
}

}  // namespace

TokenImport Token::import_key(const Pkcs12Bundle& bundle) const {
  if (!bundle.leaf()) throw Error(ErrorCode::invalid_argument, "token import: the bundle has no certificate");
  const PrivateKey* key = bundle.private_key();
  if (key == nullptr) throw Error(ErrorCode::invalid_argument, "token import: the bundle has no private key");
  if (!bundle.key_matches()) {
    throw Error(ErrorCode::invalid_argument, "token import: the private key does not match the certificate");
  }
  const Certificate& cert = *bundle.leaf();
  if (cert.public_key().algorithm != "RSA" || key->algorithm() != "RSA") {
    throw Error(ErrorCode::unsupported, "token import: only RSA keys are supported (this key is " +
                                            cert.public_key().algorithm + ")");
  }

  const auto x = parse(cert);
  const auto subject = der_of(X509_get_subject_name(x.get()), i2d_X509_NAME);
  const auto issuer = der_of(X509_get_issuer_name(x.get()), i2d_X509_NAME);
  const auto serial = der_of(X509_get0_serialNumber(x.get()), i2d_ASN1_INTEGER);
  // CKA_ID: SHA-1 of the public key's BIT STRING content (RFC 5280's key identifier, method 1;
  // what pkcs11-tool and most middleware show), so other tools pair key and certificate too.
  const ASN1_BIT_STRING* bits = X509_get0_pubkey_bitstr(x.get());
  std::vector<unsigned char> id(SHA_DIGEST_LENGTH);
  SHA1(bits->data, static_cast<std::size_t>(bits->length), id.data());
  std::string label = cert.subject().first("CN").value_or(cert.subject().to_string());

  const Session& s = *impl_->session;
  std::lock_guard lock(s.mutex());
  TokenImport out;
  out.id_hex = hex(id);
  out.label = label;
  out.key_uri = s.object_uri(id, label, "private");
  out.public_key_uri = s.object_uri(id, label, "public");
  out.certificate_uri = s.object_uri(id, label, "cert");

  // What is there already: a certificate with this id must be this certificate.
  const auto certs = with_id(s, CKO_CERTIFICATE, id);
  for (const CK_OBJECT_HANDLE h : certs) {
    const auto value = s.attribute(h, CKA_VALUE);
    const auto der = cert.der();
    if (value.bytes.size() != der.size() || std::memcmp(value.bytes.data(), der.data(), der.size()) != 0) {
      throw Error(ErrorCode::conflict, "token import: token '" + s.info().label +
                                           "' holds another certificate with the id " + out.id_hex);
    }
  }
  const bool have_private = !with_id(s, CKO_PRIVATE_KEY, id).empty();
  const bool have_public = !with_id(s, CKO_PUBLIC_KEY, id).empty();
  const bool have_cert = !certs.empty();

  Created created(s);
  CK_BBOOL yes = CK_TRUE;
  CK_BBOOL no = CK_FALSE;
  CK_KEY_TYPE rsa = CKK_RSA;
  auto* label_p = label.data();

  if (!have_private) {
    const auto pkey = dpgcert::detail::decode_private_key(*key);
    WipedBytes n = rsa_part(pkey.get(), OSSL_PKEY_PARAM_RSA_N);
    WipedBytes e = rsa_part(pkey.get(), OSSL_PKEY_PARAM_RSA_E);
    WipedBytes d = rsa_part(pkey.get(), OSSL_PKEY_PARAM_RSA_D);
    WipedBytes p = rsa_part(pkey.get(), OSSL_PKEY_PARAM_RSA_FACTOR1);
    WipedBytes q = rsa_part(pkey.get(), OSSL_PKEY_PARAM_RSA_FACTOR2);
    WipedBytes dp = rsa_part(pkey.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1);
    WipedBytes dq = rsa_part(pkey.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2);
    WipedBytes qinv = rsa_part(pkey.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1);
    CK_OBJECT_CLASS klass = CKO_PRIVATE_KEY;
    // The full template in one call (SoftHSM 2.6 leaves half objects behind incomplete ones).
    CK_ATTRIBUTE tmpl[] = {attr(CKA_CLASS, klass),
                           attr(CKA_KEY_TYPE, rsa),
                           attr(CKA_TOKEN, yes),
                           attr(CKA_PRIVATE, yes),
                           attr(CKA_SENSITIVE, yes),
                           attr(CKA_EXTRACTABLE, no),
                           attr(CKA_SIGN, yes),
                           attr(CKA_DECRYPT, yes),
                           attr_bytes(CKA_ID, id.data(), id.size()),
                           attr_bytes(CKA_LABEL, label_p, label.size()),
                           attr_bytes(CKA_SUBJECT, subject.data(), subject.size()),
                           attr_bytes(CKA_MODULUS, n.data(), n.size()),
                           attr_bytes(CKA_PUBLIC_EXPONENT, e.data(), e.size()),
                           attr_bytes(CKA_PRIVATE_EXPONENT, d.data(), d.size()),
                           attr_bytes(CKA_PRIME_1, p.data(), p.size()),
                           attr_bytes(CKA_PRIME_2, q.data(), q.size()),
                           attr_bytes(CKA_EXPONENT_1, dp.data(), dp.size()),
                           attr_bytes(CKA_EXPONENT_2, dq.data(), dq.size()),
                           attr_bytes(CKA_COEFFICIENT, qinv.data(), qinv.size())};
    created.add(create(s, tmpl, "private", "private key"));
  }
  if (!have_public) {
    EVP_PKEY* pkey = X509_get0_pubkey(x.get());
    if (pkey == nullptr) dpgcert::detail::throw_openssl(ErrorCode::malformed, "token import: the public key");
    WipedBytes n = rsa_part(pkey, OSSL_PKEY_PARAM_RSA_N);
    WipedBytes e = rsa_part(pkey, OSSL_PKEY_PARAM_RSA_E);
    CK_OBJECT_CLASS klass = CKO_PUBLIC_KEY;
    CK_ATTRIBUTE tmpl[] = {attr(CKA_CLASS, klass),
                           attr(CKA_KEY_TYPE, rsa),
                           attr(CKA_TOKEN, yes),
                           attr(CKA_PRIVATE, no),
                           attr(CKA_VERIFY, yes),
                           attr(CKA_ENCRYPT, yes),
                           attr_bytes(CKA_ID, id.data(), id.size()),
                           attr_bytes(CKA_LABEL, label_p, label.size()),
                           attr_bytes(CKA_SUBJECT, subject.data(), subject.size()),
                           attr_bytes(CKA_MODULUS, n.data(), n.size()),
                           attr_bytes(CKA_PUBLIC_EXPONENT, e.data(), e.size())};
    created.add(create(s, tmpl, "public", "public key"));
  }
  if (!have_cert) {
    CK_OBJECT_CLASS klass = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE type = CKC_X_509;
    const auto der = cert.der();
    CK_ATTRIBUTE tmpl[] = {attr(CKA_CLASS, klass),
                           attr(CKA_CERTIFICATE_TYPE, type),
                           attr(CKA_TOKEN, yes),
                           attr(CKA_PRIVATE, no),
                           attr_bytes(CKA_ID, id.data(), id.size()),
                           attr_bytes(CKA_LABEL, label_p, label.size()),
                           attr_bytes(CKA_SUBJECT, subject.data(), subject.size()),
                           attr_bytes(CKA_ISSUER, issuer.data(), issuer.size()),
                           attr_bytes(CKA_SERIAL_NUMBER, serial.data(), serial.size()),
                           attr_bytes(CKA_VALUE, der.data(), der.size())};
    created.add(create(s, tmpl, "cert", "certificate"));
  }
  out.created = created.size();
  created.commit();
  return out;
}

std::size_t Token::remove_objects(const TokenUri& objects) const {
  if (!objects.id && !objects.object_label) {
    throw Error(ErrorCode::invalid_argument, "token: the URI names no object (give id= or object=)");
  }
  const Session& s = *impl_->session;
  std::lock_guard lock(s.mutex());
  TokenUri u = objects;
  u.type.reset();
  std::size_t n = 0;
  for (const CK_OBJECT_CLASS klass : {CKO_CERTIFICATE, CKO_PUBLIC_KEY, CKO_PRIVATE_KEY}) {
    CK_OBJECT_CLASS k = klass;
    const CK_ATTRIBUTE extra[] = {attr(CKA_CLASS, k)};
    for (const CK_OBJECT_HANDLE h : s.find(u, extra, 64)) {
      detail::check_rv(s.f().C_DestroyObject(s.handle(), h), "remove an object from token '" + s.info().label + "'");
      ++n;
    }
  }
  return n;
}

}  // namespace dpgcert::token
