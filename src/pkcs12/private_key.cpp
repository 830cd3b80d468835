// PrivateKey: a PKCS#8 key kept encoded; public components compared without OpenSSL's decoders.
#include "core/der.hpp"
#include "pkcs12/bundle_impl.hpp"
#include "x509/certificate_impl.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/objects.h>

#include <climits>

namespace dpgcert {
namespace {

using detail::der::Reader;
using Bytes = std::span<const std::byte>;

bool is_rsa(int nid) noexcept { return nid == NID_rsaEncryption || nid == NID_rsassaPss; }

Bytes as_bytes(const unsigned char* p, int len) noexcept {
  return {reinterpret_cast<const std::byte*>(p), static_cast<std::size_t>(len < 0 ? 0 : len)};
}

bool same(Bytes a, Bytes b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

struct RsaPublic {
  Bytes n, e;
};

/// Modulus and public exponent of an RSAPrivateKey (RFC 8017 A.1.2): version, n, e, ...
std::optional<RsaPublic> rsa_from_private(Bytes der) noexcept {
  Reader outer(der);
  const auto seq = outer.read(detail::der::kSequence);
  if (!seq) return std::nullopt;
  Reader r(*seq);
  const auto version = r.read(detail::der::kInteger);
  const auto n = r.read(detail::der::kInteger);
  const auto e = r.read(detail::der::kInteger);
  if (!version || !n || !e) return std::nullopt;
  return RsaPublic{detail::der::integer_magnitude(*n), detail::der::integer_magnitude(*e)};
}

/// Modulus and public exponent of an RSAPublicKey (RFC 8017 A.1.1).
std::optional<RsaPublic> rsa_from_public(Bytes der) noexcept {
  Reader outer(der);
  const auto seq = outer.read(detail::der::kSequence);
  if (!seq) return std::nullopt;
  Reader r(*seq);
  const auto n = r.read(detail::der::kInteger);
  const auto e = r.read(detail::der::kInteger);
  if (!n || !e) return std::nullopt;
  return RsaPublic{detail::der::integer_magnitude(*n), detail::der::integer_magnitude(*e)};
}

/// The public point of an ECPrivateKey (RFC 5915), when present.
std::optional<Bytes> ec_point_from_private(Bytes der) noexcept {
  Reader outer(der);
  const auto seq = outer.read(detail::der::kSequence);
  if (!seq) return std::nullopt;
  Reader r(*seq);
  if (!r.read(detail::der::kInteger) || !r.read(detail::der::kOctetString)) return std::nullopt;
  while (!r.empty()) {
    const auto h = r.peek();
    if (!h) return std::nullopt;
    if (h->tag_class == 2 && h->tag == 1) {
      const auto wrapped = r.read(1, 2, true);
      if (!wrapped) return std::nullopt;
      Reader inner(*wrapped);
      const auto bits = inner.read(detail::der::kBitString);
      if (!bits || bits->empty() || bits->front() != std::byte{0}) return std::nullopt;
      return bits->subspan(1);
    }
    if (!r.skip()) return std::nullopt;
  }
  return std::nullopt;
}

const ASN1_OBJECT* named_curve(const X509_ALGOR* alg) noexcept {
  if (alg == nullptr) return nullptr;
  int ptype = 0;
  const void* pval = nullptr;
  X509_ALGOR_get0(nullptr, &ptype, &pval, alg);
  return ptype == V_ASN1_OBJECT ? static_cast<const ASN1_OBJECT*>(pval) : nullptr;
}

bool has_parameters(const X509_ALGOR* alg) noexcept {
  if (alg == nullptr) return false;
  int ptype = 0;
  X509_ALGOR_get0(nullptr, &ptype, nullptr, alg);
  return ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL;
}

/// Compares a decoded DSA key's public value with a certificate's DSAPublicKey INTEGER.
bool dsa_public_value_equals(const EVP_PKEY* key, Bytes cert_key) {
  Reader r(cert_key);
  const auto y = r.read(detail::der::kInteger);
  BIGNUM* raw = nullptr;
  if (!y || EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PUB_KEY, &raw) != 1) {
    detail::clear_openssl_errors();
    return false;
  }
  const detail::Owned<BIGNUM, BN_free> pub(raw);
  std::vector<std::byte> mine(static_cast<std::size_t>(BN_num_bytes(pub.get())));
  BN_bn2bin(pub.get(), reinterpret_cast<unsigned char*>(mine.data()));
  return same(detail::der::integer_magnitude(mine), detail::der::integer_magnitude(*y));
}

int bit_length(Bytes magnitude) noexcept {
  if (magnitude.empty()) return 0;
  int top = 0;
  for (auto v = static_cast<unsigned>(magnitude.front()); v != 0; v >>= 1) ++top;
  return static_cast<int>((magnitude.size() - 1) * 8) + top;
}

/// The parts of a PKCS#8 PrivateKeyInfo that matching needs (views into `info`).
struct KeyView {
  int nid = NID_undef;
  const ASN1_OBJECT* oid = nullptr;
  Bytes key;
  const X509_ALGOR* alg = nullptr;
};

KeyView view_of(const PKCS8_PRIV_KEY_INFO* info) {
  KeyView v;
  const unsigned char* pk = nullptr;
  int pklen = 0;
  if (PKCS8_pkey_get0(&v.oid, &pk, &pklen, &v.alg, info) != 1) {
    throw Error(ErrorCode::malformed, "PKCS#8: cannot read the key");
  }
  v.nid = OBJ_obj2nid(v.oid);
  v.key = as_bytes(pk, pklen);
  return v;
}


using X509AlgorPtr = detail::Owned<X509_ALGOR, X509_ALGOR_free>;

/// A SubjectPublicKeyInfo: algorithm and the key bits (without the BIT STRING's unused-bits byte).
struct SpkiView {
  X509AlgorPtr owned;
  const X509_ALGOR* alg = nullptr;
  Bytes key;
};

/// Reads the SubjectPublicKeyInfo of a DER certificate without parsing the certificate.
bool spki_from_der(Bytes cert_der, SpkiView& out) {
  const auto fields = detail::certificate_fields(cert_der);
  if (!fields) return false;
  Reader outer(fields->spki);
  const auto spki = outer.read(detail::der::kSequence);
  if (!spki) return false;
  Reader r(*spki);
  const auto alg_header = r.peek();
  if (!alg_header || !r.skip()) return false;
  const auto bits = r.read(detail::der::kBitString);
  if (!bits || bits->empty() || (*bits)[0] != std::byte{0} || !r.empty()) return false;
  const Bytes alg_der = spki->first(alg_header->header_length + alg_header->content_length);
  const auto* p = reinterpret_cast<const unsigned char*>(alg_der.data());
  out.owned.reset(d2i_X509_ALGOR(nullptr, &p, static_cast<long>(alg_der.size())));
  if (!out.owned) {
    detail::clear_openssl_errors();
    return false;
  }
  out.alg = out.owned.get();
  out.key = bits->subspan(1);
  return true;
}

}  // namespace

namespace detail {

Pkcs8InfoPtr parse_pkcs8(std::span<const std::byte> der) {
  if (der.size() > static_cast<std::size_t>(LONG_MAX)) throw Error(ErrorCode::malformed, "PKCS#8: too large");
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* const end = p + der.size();
  Pkcs8InfoPtr info(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size())));
  if (!info) throw_openssl(ErrorCode::malformed, "PKCS#8: not a PrivateKeyInfo");
  if (p != end) {
    throw Error(ErrorCode::malformed, "PKCS#8: trailing " + std::to_string(end - p) + " bytes after the key");
  }
  return info;
}

EvpPkeyPtr decode_private_key(const PrivateKey& key) {
  const Pkcs8InfoPtr info = parse_pkcs8(key.pkcs8_der().bytes());
  EvpPkeyPtr pkey(EVP_PKCS82PKEY_ex(info.get(), x509_libctx(*key.impl().ctx), nullptr));
  if (!pkey) throw_openssl(ErrorCode::unsupported, "PKCS#8: cannot decode a " + key.algorithm() + " key");
  return pkey;
}

}  // namespace detail

PrivateKey::PrivateKey(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
PrivateKey::PrivateKey(PrivateKey&&) noexcept = default;
PrivateKey& PrivateKey::operator=(PrivateKey&&) noexcept = default;
PrivateKey::~PrivateKey() = default;

PrivateKey PrivateKey::from_pkcs8_der(SecretBytes der, const Context& ctx) {
  if (der.size() > ctx.limits().max_input_bytes) {
    throw Error(ErrorCode::limit_exceeded, "PKCS#8: input of " + std::to_string(der.size()) +
                                               " bytes exceeds the limit of " +
                                               std::to_string(ctx.limits().max_input_bytes));
  }
  const detail::Pkcs8InfoPtr info = detail::parse_pkcs8(der.bytes());
  (void)view_of(info.get());
  // Keep canonical DER: re-encode into a fresh secret buffer (input that was DER comes out equal).
  const int len = i2d_PKCS8_PRIV_KEY_INFO(info.get(), nullptr);
  if (len <= 0) detail::throw_openssl(ErrorCode::malformed, "PKCS#8: cannot encode the key");
  auto impl = std::make_unique<Impl>();
  impl->der = SecretBytes::zeroed(static_cast<std::size_t>(len));
  auto* out = reinterpret_cast<unsigned char*>(impl->der.data());
  if (i2d_PKCS8_PRIV_KEY_INFO(info.get(), &out) != len) {
    detail::throw_openssl(ErrorCode::internal, "PKCS#8: encoding changed length");
  }
  impl->ctx = &ctx;
  der.clear();
  return PrivateKey(std::move(impl));
}

std::string PrivateKey::algorithm() const {
  const detail::Pkcs8InfoPtr info = detail::parse_pkcs8(impl_->der.bytes());
  const KeyView v = view_of(info.get());
  switch (v.nid) {
    case NID_rsaEncryption: return "RSA";
    case NID_rsassaPss: return "RSASSA-PSS";
    case NID_X9_62_id_ecPublicKey: return "EC";
    case NID_ED25519: return "ED25519";
    case NID_ED448: return "ED448";
    case NID_X25519: return "X25519";
    case NID_X448: return "X448";
    case NID_dsa: return "DSA";
    case NID_dhKeyAgreement: return "DH";
    default: return detail::oid_text(v.oid);
  }
}

int PrivateKey::bits() const {
  {
    const detail::Pkcs8InfoPtr info = detail::parse_pkcs8(impl_->der.bytes());
    const KeyView v = view_of(info.get());
    if (is_rsa(v.nid)) {
      if (const auto rsa = rsa_from_private(v.key)) return bit_length(rsa->n);
    }
  }
  const detail::EvpPkeyPtr pkey = detail::decode_private_key(*this);
  return EVP_PKEY_get_bits(pkey.get());
}

bool PrivateKey::matches(const Certificate& cert) const {
  // The certificate's public key algorithm and key bits, read from its DER when possible: OpenSSL
  // 3.0 decodes the public key whenever it parses a certificate, which a deferred certificate of
  // a loaded PKCS#12 file is spared until something needs it.
  SpkiView spki;
  if (!spki_from_der(cert.der(), spki)) {
    const X509_PUBKEY* pub = X509_get_X509_PUBKEY(detail::native(cert));
    ASN1_OBJECT* oid = nullptr;
    const unsigned char* pk = nullptr;
    int pklen = 0;
    X509_ALGOR* alg = nullptr;
    if (pub == nullptr || X509_PUBKEY_get0_param(&oid, &pk, &pklen, &alg, pub) != 1) return false;
    spki.alg = alg;
    spki.key = as_bytes(pk, pklen);
  }
  const X509_ALGOR* cert_alg = spki.alg;
  const ASN1_OBJECT* cert_oid = nullptr;
  X509_ALGOR_get0(&cert_oid, nullptr, nullptr, cert_alg);
  const int cert_nid = OBJ_obj2nid(cert_oid);
  const Bytes cert_key = spki.key;

  {
    const detail::Pkcs8InfoPtr info = detail::parse_pkcs8(impl_->der.bytes());
    const KeyView v = view_of(info.get());
    if (is_rsa(v.nid) || is_rsa(cert_nid)) {
      if (!is_rsa(v.nid) || !is_rsa(cert_nid)) return false;
      const auto mine = rsa_from_private(v.key);
      const auto theirs = rsa_from_public(cert_key);
      if (mine && theirs) return same(mine->n, theirs->n) && same(mine->e, theirs->e);
    } else if (v.nid != cert_nid) {
      return false;
    } else if (v.nid == NID_X9_62_id_ecPublicKey) {
      const ASN1_OBJECT* my_curve = named_curve(v.alg);
      const ASN1_OBJECT* their_curve = named_curve(cert_alg);
      const auto point = ec_point_from_private(v.key);
      if (my_curve != nullptr && their_curve != nullptr && point) {
        if (OBJ_cmp(my_curve, their_curve) != 0) return false;
        if (same(*point, cert_key)) return true;
        const bool both_uncompressed = !point->empty() && !cert_key.empty() &&
                                       point->front() == std::byte{4} && cert_key.front() == std::byte{4};
        if (both_uncompressed) return false;
      }
    }
  }
  // Anything else: decode both and let OpenSSL compare the public parts.
  const detail::EvpPkeyPtr mine = detail::decode_private_key(*this);
  if (cert_nid == NID_dsa && named_curve(cert_alg) == nullptr && !has_parameters(cert_alg)) {
    // DSA parameters inherited from the issuer (RFC 3279 2.3.2): only the public value y can be compared.
    return dsa_public_value_equals(mine.get(), cert_key);
  }
  EVP_PKEY* theirs = X509_get0_pubkey(detail::native(cert));
  const bool eq = theirs != nullptr && EVP_PKEY_eq(mine.get(), theirs) == 1;
  detail::clear_openssl_errors();
  return eq;
}

const SecretBytes& PrivateKey::pkcs8_der() const noexcept { return impl_->der; }

}  // namespace dpgcert
