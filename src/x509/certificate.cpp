#include "core/der.hpp"
#include "x509/certificate_impl.hpp"
#include "x509/name_util.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <ctime>

namespace dpgcert {
namespace {

Time asn1_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    detail::clear_openssl_errors();
    return from_unix(0);
  }
  using namespace std::chrono;
  const year_month_day ymd{year{tm.tm_year + 1900}, month{static_cast<unsigned>(tm.tm_mon + 1)},
                           day{static_cast<unsigned>(tm.tm_mday)}};
  return time_point_cast<seconds>(sys_days{ymd}) + hours{tm.tm_hour} + minutes{tm.tm_min} + seconds{tm.tm_sec};
}

template <typename T, auto Free>
detail::Owned<T, Free> ext_d2i(X509* x, int nid) {
  int crit = 0;
  auto* p = static_cast<T*>(X509_get_ext_d2i(x, nid, &crit, nullptr));
  return detail::Owned<T, Free>(p);
}

bool ext_critical(X509* x, int nid) {
  const int idx = X509_get_ext_by_NID(x, nid, -1);
  if (idx < 0) return false;
  return X509_EXTENSION_get_critical(X509_get_ext(x, idx)) == 1;
}

std::string ia5(const ASN1_IA5STRING* s) {
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s))};
}

std::vector<std::byte> to_bytes(const ASN1_OCTET_STRING* s) {
  const auto* d = reinterpret_cast<const std::byte*>(ASN1_STRING_get0_data(s));
  return {d, d + ASN1_STRING_length(s)};
}

/// The extensions dpgcert reads, from OpenSSL's X509 (the reference reading).
detail::ExtensionValues decode_extensions(X509* x) {
  detail::ExtensionValues impl;
  const uint32_t flags = X509_get_extension_flags(x);  // also caches OpenSSL's own view
  if ((flags & EXFLAG_KUSAGE) != 0) {
    const uint32_t ku = X509_get_key_usage(x);
    KeyUsage k;
    k.digital_signature = (ku & KU_DIGITAL_SIGNATURE) != 0;
    k.non_repudiation = (ku & KU_NON_REPUDIATION) != 0;
    k.key_encipherment = (ku & KU_KEY_ENCIPHERMENT) != 0;
    k.data_encipherment = (ku & KU_DATA_ENCIPHERMENT) != 0;
    k.key_agreement = (ku & KU_KEY_AGREEMENT) != 0;
    k.key_cert_sign = (ku & KU_KEY_CERT_SIGN) != 0;
    k.crl_sign = (ku & KU_CRL_SIGN) != 0;
    k.encipher_only = (ku & KU_ENCIPHER_ONLY) != 0;
    k.decipher_only = (ku & KU_DECIPHER_ONLY) != 0;
    k.critical = ext_critical(x, NID_key_usage);
    impl.key_usage = k;
  }
  if (auto eku = ext_d2i<EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free>(x, NID_ext_key_usage)) {
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
      impl.eku.push_back(detail::oid_text(sk_ASN1_OBJECT_value(eku.get(), i)));
    }
  }
  if (auto gens = ext_d2i<GENERAL_NAMES, GENERAL_NAMES_free>(x, NID_subject_alt_name)) {
    for (int i = 0; i < sk_GENERAL_NAME_num(gens.get()); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(gens.get(), i);
      if (g->type == GEN_EMAIL) impl.sans.emails.push_back(ia5(g->d.rfc822Name));
      if (g->type == GEN_DNS) impl.sans.dns.push_back(ia5(g->d.dNSName));
      if (g->type == GEN_URI) impl.sans.uris.push_back(ia5(g->d.uniformResourceIdentifier));
    }
  }
  if (auto pols = ext_d2i<CERTIFICATEPOLICIES, CERTIFICATEPOLICIES_free>(x, NID_certificate_policies)) {
    for (int i = 0; i < sk_POLICYINFO_num(pols.get()); ++i) {
      impl.policies.push_back(detail::oid_text(sk_POLICYINFO_value(pols.get(), i)->policyid));
    }
  }
  if (auto aia = ext_d2i<AUTHORITY_INFO_ACCESS, AUTHORITY_INFO_ACCESS_free>(x, NID_info_access)) {
    for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(aia.get()); ++i) {
      const ACCESS_DESCRIPTION* ad = sk_ACCESS_DESCRIPTION_value(aia.get(), i);
      if (ad->location->type != GEN_URI) continue;
      const int nid = OBJ_obj2nid(ad->method);
      if (nid == NID_ad_OCSP) impl.aia.ocsp.push_back(ia5(ad->location->d.uniformResourceIdentifier));
      if (nid == NID_ad_ca_issuers) impl.aia.ca_issuers.push_back(ia5(ad->location->d.uniformResourceIdentifier));
    }
  }
  if (auto dps = ext_d2i<CRL_DIST_POINTS, CRL_DIST_POINTS_free>(x, NID_crl_distribution_points)) {
    for (int i = 0; i < sk_DIST_POINT_num(dps.get()); ++i) {
      const DIST_POINT* dp = sk_DIST_POINT_value(dps.get(), i);
      if (dp->distpoint == nullptr || dp->distpoint->type != 0) continue;
      const GENERAL_NAMES* names = dp->distpoint->name.fullname;
      for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
        const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, j);
        if (g->type == GEN_URI) impl.crl_dps.push_back(ia5(g->d.uniformResourceIdentifier));
      }
    }
  }
  if (auto bc = ext_d2i<BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free>(x, NID_basic_constraints)) {
    BasicConstraints b;
    b.ca = bc->ca != 0;
    if (bc->pathlen != nullptr) b.path_length = static_cast<int>(ASN1_INTEGER_get(bc->pathlen));
    b.critical = ext_critical(x, NID_basic_constraints);
    impl.basic_constraints = b;
  }
  if (const ASN1_OCTET_STRING* s = X509_get0_subject_key_id(x)) impl.subject_key_id = to_bytes(s);
  if (const ASN1_OCTET_STRING* s = X509_get0_authority_key_id(x)) impl.authority_key_id = to_bytes(s);
  detail::clear_openssl_errors();
  return impl;
}


}  // namespace

std::vector<std::string> KeyUsage::names() const {
  std::vector<std::string> out;
  if (digital_signature) out.emplace_back("digitalSignature");
  if (non_repudiation) out.emplace_back("nonRepudiation");
  if (key_encipherment) out.emplace_back("keyEncipherment");
  if (data_encipherment) out.emplace_back("dataEncipherment");
  if (key_agreement) out.emplace_back("keyAgreement");
  if (key_cert_sign) out.emplace_back("keyCertSign");
  if (crl_sign) out.emplace_back("cRLSign");
  if (encipher_only) out.emplace_back("encipherOnly");
  if (decipher_only) out.emplace_back("decipherOnly");
  return out;
}

std::string to_hex(std::span<const std::byte> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    const auto v = static_cast<unsigned>(b);
    out += digits[v >> 4];
    out += digits[v & 15];
  }
  return out;
}

namespace {

void check_size(std::size_t size, const Context& ctx) {
  if (size > ctx.limits().max_input_bytes) {
    throw Error(ErrorCode::limit_exceeded, "certificate: " + std::to_string(size) +
                                               " bytes exceed the input limit of " +
                                               std::to_string(ctx.limits().max_input_bytes));
  }
  if (size == 0) throw Error(ErrorCode::malformed, "certificate: empty input");
}

/// d2i_X509 in the context's library context; the whole input must be used.
detail::X509Ptr parse_x509(std::span<const std::byte> der, const Context& ctx) {
  detail::X509Ptr x(X509_new_ex(detail::x509_libctx(ctx), nullptr));
  if (!x) detail::throw_openssl(ErrorCode::internal, "certificate: out of memory");
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* raw = x.get();
  if (der.size() > static_cast<std::size_t>(LONG_MAX) || d2i_X509(&raw, &p, static_cast<long>(der.size())) == nullptr) {
    x.release();  // d2i frees the object on failure
    detail::throw_openssl(ErrorCode::malformed, "certificate: not a DER X.509 certificate");
  }
  const auto used = static_cast<std::size_t>(p - reinterpret_cast<const unsigned char*>(der.data()));
  if (used != der.size()) {
    throw Error(ErrorCode::malformed, "certificate: " + std::to_string(der.size() - used) +
                                          " trailing bytes after the DER certificate");
  }
  return x;
}

}  // namespace

Certificate Certificate::from_der(std::span<const std::byte> der, const Context& ctx) {
  check_size(der.size(), ctx);
  auto impl = std::make_shared<Impl>();
  impl->der.assign(der.begin(), der.end());
  impl->ctx = &ctx;
  (void)impl->checked();
  return Certificate(std::move(impl));
}

const detail::CertificateLayout* Certificate::Impl::checked() const {
  check_once.call(lazy_mutex, [this] {
    switch (detail::read_certificate_der(der, layout)) {
      case detail::DerVerdict::ok:
        native = true;
        break;
      case detail::DerVerdict::not_der:
        // OpenSSL's d2i_X509 would take BER; a certificate is DER (X.509, RFC 5280 4.1), and
        // its signature covers the encoding as it is, so dpgcert refuses the others.
        throw Error(ErrorCode::malformed,
                    "certificate: not DER (indefinite or non-minimal lengths, or constructed strings)");
      case detail::DerVerdict::unsure:
        (void)x509();  // OpenSSL decides, and reads every field
        break;
    }
  });
  return native ? &layout : nullptr;
}

detail::DerVerdict Certificate::Impl::verdict(std::span<const std::byte> der) noexcept {
  detail::CertificateLayout layout;
  return detail::read_certificate_der(der, layout);
}

X509* Certificate::Impl::x509() const {
  parse_once.call(lazy_mutex, [this] { parsed = parse_x509(der, *ctx); });
  return parsed.get();
}

namespace {

/// An Impl whose fields come from an X509 already parsed.
std::shared_ptr<Certificate::Impl> openssl_impl(std::vector<std::byte> der, detail::X509Ptr x509, const Context& ctx) {
  auto impl = std::make_shared<Certificate::Impl>();
  impl->der = std::move(der);
  impl->ctx = &ctx;
  impl->parsed = std::move(x509);
  impl->parse_once.set();
  impl->check_once.set();
  return impl;
}

}  // namespace

namespace detail {
Certificate certificate_from_x509(X509Ptr x509, const Context& ctx) {
  if (!x509) throw Error(ErrorCode::internal, "certificate: null X509");
  unsigned char* buf = nullptr;
  const int n = i2d_X509(x509.get(), &buf);
  if (n <= 0) throw_openssl(ErrorCode::malformed, "certificate: cannot encode");
  std::vector<std::byte> der(reinterpret_cast<std::byte*>(buf), reinterpret_cast<std::byte*>(buf) + n);
  OPENSSL_free(buf);
  return Certificate(openssl_impl(std::move(der), std::move(x509), ctx));
}

}  // namespace detail

Certificate Certificate::Impl::openssl_reference(std::span<const std::byte> der, const Context& ctx) {
  check_size(der.size(), ctx);
  detail::X509Ptr x = parse_x509(der, ctx);
  return Certificate(openssl_impl(std::vector<std::byte>(der.begin(), der.end()), std::move(x), ctx));
}

std::optional<detail::CertificateFields> Certificate::Impl::fields(std::span<const std::byte> encoding) noexcept {
  using namespace detail::der;
  Reader outer(encoding);
  const auto cert = outer.read(kSequence);
  if (!cert || !outer.empty()) return std::nullopt;
  Reader c(*cert);
  const auto tbs = c.read(kSequence);
  if (!tbs || !c.read(kSequence) || !c.read(kBitString) || !c.empty()) return std::nullopt;
  Reader t(*tbs);
  const auto first = t.peek();
  if (first && first->tag_class == kContextSpecific && first->tag == 0) {
    if (!t.read(0, kContextSpecific, true)) return std::nullopt;  // [0] EXPLICIT Version
  }
  std::optional<std::span<const std::byte>> issuer, subject, spki;
  if (!t.read(kInteger) || !t.read(kSequence) || !(issuer = t.read_element(kSequence, kUniversal, true)) ||
      !t.read(kSequence) || !(subject = t.read_element(kSequence, kUniversal, true)) ||
      !(spki = t.read_element(kSequence, kUniversal, true))) {
    return std::nullopt;
  }
  // issuerUniqueID [1], subjectUniqueID [2] (IMPLICIT BIT STRING), extensions [3] EXPLICIT.
  for (std::uint32_t tag = 1; tag <= 3 && !t.empty(); ++tag) {
    const auto h = t.peek();
    if (!h || h->tag_class != kContextSpecific) return std::nullopt;
    if (h->tag < tag) return std::nullopt;
    if (h->tag > tag) continue;
    if (!t.read(tag, kContextSpecific, h->constructed) || (tag == 3 && !h->constructed)) return std::nullopt;
  }
  if (!t.empty()) return std::nullopt;
  return detail::CertificateFields{*issuer, *subject, *spki};
}

Certificate Certificate::Impl::deferred(std::vector<std::byte> der, const Context& ctx) {
  check_size(der.size(), ctx);
  if (!fields(der) || !detail::der::definite(der, 32)) {
    throw Error(ErrorCode::malformed, "certificate: not a DER X.509 certificate (bad framing or structure)");
  }
  auto impl = std::make_shared<Certificate::Impl>();
  impl->der = std::move(der);
  impl->ctx = &ctx;
  return Certificate(std::move(impl));
}

X509* Certificate::Impl::x509_or_null() const noexcept {
  try {
    return x509();
  } catch (...) {
    detail::clear_openssl_errors();
    return nullptr;
  }
}

std::span<const std::byte> Certificate::der() const noexcept { return impl_->der; }

namespace {

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// PEM as PEM_write_bio_X509 writes it (64 columns), from the DER itself.
std::string pem_of(std::span<const std::byte> der) {
  std::string b64;
  b64.reserve((der.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < der.size(); i += 3) {
    const unsigned v = (static_cast<unsigned>(der[i]) << 16) | (static_cast<unsigned>(der[i + 1]) << 8) |
                       static_cast<unsigned>(der[i + 2]);
    b64 += kBase64[(v >> 18) & 63];
    b64 += kBase64[(v >> 12) & 63];
    b64 += kBase64[(v >> 6) & 63];
    b64 += kBase64[v & 63];
  }
  if (i < der.size()) {
    const bool two = i + 1 < der.size();
    const unsigned v = (static_cast<unsigned>(der[i]) << 16) | (two ? static_cast<unsigned>(der[i + 1]) << 8 : 0U);
    b64 += kBase64[(v >> 18) & 63];
    b64 += kBase64[(v >> 12) & 63];
    b64 += two ? kBase64[(v >> 6) & 63] : '=';
    b64 += '=';
  }
  std::string out = "-----BEGIN CERTIFICATE-----\n";
  for (std::size_t at = 0; at < b64.size(); at += 64) {
    out.append(b64, at, 64);
    out += '\n';
  }
  out += "-----END CERTIFICATE-----\n";
  return out;
}

/// The content octets of the element at the start of `element` (checked by the reader).
std::span<const std::byte> content(std::span<const std::byte> element) noexcept { return detail::der::content_of(element); }

/// OpenSSL's name for a signature algorithm (as X509_get_signature_nid and OBJ_nid2ln give it).
std::string signature_name(const ASN1_OBJECT* obj) {
  const int nid = OBJ_obj2nid(obj);
  if (nid == NID_rsassaPss) return "RSASSA-PSS";
  if (nid == NID_undef) return obj != nullptr ? detail::oid_text(obj) : "unknown";
  return OBJ_nid2ln(nid);
}

}  // namespace

std::string Certificate::to_pem() const {
  if (const auto* l = impl_->checked()) {
    // i2d_X509 gives the input back for DER, except that OpenSSL clears a signature's unused bits.
    const auto sig = content(l->signature);
    if (!sig.empty() && sig.front() == std::byte{0}) return pem_of(impl_->der);
  }
  detail::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), impl_->x509()) != 1) {
    detail::throw_openssl(ErrorCode::internal, "certificate: cannot write PEM");
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

int Certificate::version() const {
  const auto* l = impl_->checked();
  if (l == nullptr) return static_cast<int>(X509_get_version(impl_->x509())) + 1;
  // X509_get_version: ASN1_INTEGER_get of the version, 0 when absent, -1 past a long.
  const auto c = content(l->version);
  long v = 0;
  if (!c.empty()) {
    const bool negative = (static_cast<unsigned>(c[0]) & 0x80) != 0;
    if (c.size() > sizeof(long)) {
      v = -1;
    } else {
      unsigned long u = negative ? ~0UL : 0UL;
      for (std::byte b : c) u = (u << 8) | static_cast<unsigned>(b);
      v = static_cast<long>(u);
    }
  }
  return static_cast<int>(v) + 1;
}

const DistinguishedName& Certificate::subject() const {
  const auto& i = *impl_;
  const auto* l = i.checked();
  i.subject_once.call(i.lazy_mutex, [&i, l] {
    i.subject = l != nullptr ? detail::read_name_der(l->subject) : detail::name_from_x509(X509_get_subject_name(i.x509()));
  });
  return i.subject;
}

const DistinguishedName& Certificate::issuer() const {
  const auto& i = *impl_;
  const auto* l = i.checked();
  i.issuer_once.call(i.lazy_mutex, [&i, l] {
    i.issuer = l != nullptr ? detail::read_name_der(l->issuer) : detail::name_from_x509(X509_get_issuer_name(i.x509()));
  });
  return i.issuer;
}

std::vector<std::byte> Certificate::serial() const {
  if (const auto* l = impl_->checked()) {
    // ASN1_INTEGER_to_BN then BN_bn2bin: the magnitude, without leading zeros.
    const auto c = content(l->serial);
    std::vector<std::byte> mag(c.begin(), c.end());
    if ((static_cast<unsigned>(mag[0]) & 0x80) != 0) {  // two's complement of a negative number
      unsigned carry = 1;
      for (auto it = mag.rbegin(); it != mag.rend(); ++it) {
        const unsigned v = (~static_cast<unsigned>(*it) & 0xffU) + carry;
        *it = static_cast<std::byte>(v & 0xffU);
        carry = v >> 8;
      }
    }
    std::size_t skip = 0;
    while (skip < mag.size() && mag[skip] == std::byte{0}) ++skip;
    if (skip == mag.size()) return {std::byte{0}};
    mag.erase(mag.begin(), mag.begin() + static_cast<std::ptrdiff_t>(skip));
    return mag;
  }
  const ASN1_INTEGER* s = X509_get0_serialNumber(impl_->x509());
  detail::Owned<BIGNUM, BN_free> bn(ASN1_INTEGER_to_BN(s, nullptr));
  if (!bn) detail::throw_openssl(ErrorCode::internal, "certificate: cannot read the serial number");
  std::vector<std::byte> out(static_cast<std::size_t>(BN_num_bytes(bn.get())));
  if (out.empty()) return {std::byte{0}};
  BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string Certificate::serial_hex() const { return to_hex(serial()); }

Time Certificate::not_before() const {
  if (const auto* l = impl_->checked()) return detail::read_time_der(l->not_before);
  return asn1_time(X509_get0_notBefore(impl_->x509()));
}
Time Certificate::not_after() const {
  if (const auto* l = impl_->checked()) return detail::read_time_der(l->not_after);
  return asn1_time(X509_get0_notAfter(impl_->x509()));
}

const Fingerprint& Certificate::fingerprint_sha256() const {
  const auto& i = *impl_;
  i.fingerprint_once.call(i.lazy_mutex, [&i] {
    std::size_t len = 0;
    if (EVP_Q_digest(detail::x509_libctx(*i.ctx), "SHA256", nullptr, i.der.data(), i.der.size(),
                     reinterpret_cast<unsigned char*>(i.fingerprint.data()), &len) != 1 ||
        len != i.fingerprint.size()) {
      detail::throw_openssl(ErrorCode::internal, "certificate: SHA-256 unavailable");
    }
  });
  return i.fingerprint;
}

std::string Certificate::fingerprint_hex() const { return to_hex(fingerprint_sha256()); }

namespace {

/// The public key as OpenSSL describes it (X509_get0_pubkey).
PublicKeyInfo openssl_key(X509* x) {
  PublicKeyInfo key;
  EVP_PKEY* pk = X509_get0_pubkey(x);
  if (pk == nullptr) {
    // Unknown key type: report its OID.
    X509_PUBKEY* xpk = X509_get_X509_PUBKEY(x);
    ASN1_OBJECT* alg = nullptr;
    if (xpk != nullptr && X509_PUBKEY_get0_param(&alg, nullptr, nullptr, nullptr, xpk) == 1 && alg != nullptr) {
      key.algorithm = detail::oid_text(alg);
    } else {
      key.algorithm = "unknown";
    }
    detail::clear_openssl_errors();
    return key;
  }
  switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA: key.algorithm = "RSA"; break;
    case EVP_PKEY_RSA_PSS: key.algorithm = "RSASSA-PSS"; break;
    case EVP_PKEY_EC: key.algorithm = "EC"; break;
    case EVP_PKEY_ED25519: key.algorithm = "ED25519"; break;
    case EVP_PKEY_ED448: key.algorithm = "ED448"; break;
    case EVP_PKEY_DSA: key.algorithm = "DSA"; break;
    default: {
      const char* name = EVP_PKEY_get0_type_name(pk);
      key.algorithm = name != nullptr ? name : "unknown";
    }
  }
  key.bits = EVP_PKEY_get_bits(pk);
  char group[80];
  std::size_t glen = 0;
  if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC &&
      EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen) == 1) {
    key.curve = std::string(group, glen);
  }
  detail::clear_openssl_errors();
  return key;
}

}  // namespace

const PublicKeyInfo& Certificate::public_key() const {
  const auto& i = *impl_;
  const auto* l = i.checked();
  i.key_once.call(i.lazy_mutex, [&i, l] {
    // RSA keys are described from the DER; other algorithms (EC points, PSS parameters, ...) by
    // OpenSSL, which also checks them.
    auto mine = l != nullptr ? detail::read_public_key_der(l->spki) : std::nullopt;
    i.key = mine ? std::move(*mine) : openssl_key(i.x509());
  });
  return i.key;
}

std::string Certificate::signature_algorithm() const {
  if (const auto* l = impl_->checked()) {
    detail::der::Reader alg(content(l->signature_algorithm));
    const auto oid = alg.read_element(detail::der::kOid, detail::der::kUniversal, false);
    if (oid) {
      const auto* p = reinterpret_cast<const unsigned char*>(oid->data());
      detail::Owned<ASN1_OBJECT, ASN1_OBJECT_free> obj(d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(oid->size())));
      detail::clear_openssl_errors();
      if (obj) return signature_name(obj.get());
    }
  }
  const X509_ALGOR* alg = nullptr;
  X509_get0_signature(nullptr, &alg, impl_->x509());
  const ASN1_OBJECT* obj = nullptr;
  X509_ALGOR_get0(&obj, nullptr, nullptr, alg);
  return signature_name(obj);
}

std::string Certificate::signature_digest() const {
  int md = NID_undef;
  if (X509_get_signature_info(impl_->x509(), &md, nullptr, nullptr, nullptr) != 1 || md == NID_undef) {
    detail::clear_openssl_errors();
    return {};
  }
  const char* sn = OBJ_nid2sn(md);
  std::string out = sn != nullptr ? sn : "";
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  // OpenSSL's short names: "SHA256", "SHA1", "MD5", "SHA512" ...
  return out;
}

namespace {

const detail::ExtensionValues& extensions(const Certificate::Impl& i) {
  const auto* l = i.checked();
  i.ext_once.call(i.lazy_mutex, [&i, l] {
    std::optional<detail::ExtensionValues> mine;
    if (l != nullptr) mine = detail::read_extensions_der(l->extensions);
    i.ext = mine ? std::move(*mine) : decode_extensions(i.x509());
  });
  return i.ext;
}

}  // namespace

const std::optional<KeyUsage>& Certificate::key_usage() const { return extensions(*impl_).key_usage; }
const std::vector<std::string>& Certificate::extended_key_usage() const { return extensions(*impl_).eku; }
const AlternativeNames& Certificate::subject_alt_names() const { return extensions(*impl_).sans; }
const std::vector<std::string>& Certificate::policies() const { return extensions(*impl_).policies; }
const AuthorityInfoAccess& Certificate::authority_info_access() const { return extensions(*impl_).aia; }
const std::vector<std::string>& Certificate::crl_distribution_points() const { return extensions(*impl_).crl_dps; }
const std::optional<BasicConstraints>& Certificate::basic_constraints() const {
  return extensions(*impl_).basic_constraints;
}
bool Certificate::is_ca() const {
  const auto& bc = basic_constraints();
  return bc.has_value() && bc->ca;
}

bool Certificate::is_self_issued() const {
  if (const auto* l = impl_->checked()) {
    // Most names are single-valued RDNs of ASCII text: compared in X509_NAME_cmp's canonical form
    // without OpenSSL decoding both names (d2i_X509_NAME twice and X509_NAME_cmp were ~4 % of a
    // renewal import's CPU in bench_store, for the lifecycle's walk up the chain).
    const detail::NameVerdict v = detail::compare_der_names(l->subject, l->issuer);
    if (v != detail::NameVerdict::unknown) return v == detail::NameVerdict::equal;
    // X509_NAME_cmp compares canonical forms (case, spaces, string types folded): the names alone
    // are parsed for it, not the certificate.
    using NamePtr = detail::Owned<X509_NAME, X509_NAME_free>;
    const auto* ps = reinterpret_cast<const unsigned char*>(l->subject.data());
    const auto* pi = reinterpret_cast<const unsigned char*>(l->issuer.data());
    NamePtr s(d2i_X509_NAME(nullptr, &ps, static_cast<long>(l->subject.size())));
    NamePtr is(d2i_X509_NAME(nullptr, &pi, static_cast<long>(l->issuer.size())));
    detail::clear_openssl_errors();
    if (s && is) return X509_NAME_cmp(s.get(), is.get()) == 0;
  }
  return X509_NAME_cmp(X509_get_subject_name(impl_->x509()), X509_get_issuer_name(impl_->x509())) == 0;
}

std::optional<std::vector<std::byte>> Certificate::subject_key_id() const { return extensions(*impl_).subject_key_id; }

std::optional<std::vector<std::byte>> Certificate::authority_key_id() const {
  return extensions(*impl_).authority_key_id;
}

bool Certificate::operator==(const Certificate& other) const noexcept {
  return impl_ == other.impl_ || impl_->der == other.impl_->der;
}

}  // namespace dpgcert
