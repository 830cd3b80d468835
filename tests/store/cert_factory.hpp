// Test-only: many distinct certificates and PKCS#12 files made in-process with OpenSSL (the
// openssl CLI would take minutes for thousands). One EC P-256 CA key and one leaf key are made
// once (or an RSA leaf key, see the constructor); each leaf differs in serial, subject and validity. Used by the store tests and benchmarks.
#pragma once

#include <dpgcert/oces.hpp>
#include <dpgcert/pkcs12.hpp>
#include <dpgcert/secret.hpp>
#include <dpgcert/validation.hpp>
#include <dpgcert/x509.hpp>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace dpgcert::testing {

/// A passing validation report for `c` made at `at`, for tests that import without validating
/// (ImportOptions::report).
inline ValidationReport passing_report(const Certificate& c, Time at) {
  ValidationReport r;
  r.verdict = CheckStatus::pass;
  r.at = at;
  r.certificate = c;
  r.identity = oces::identify(c);
  return r;
}


/// What goes into one leaf certificate.
struct LeafSpec {
  std::string common_name;
  std::optional<std::string> organisation;
  std::optional<std::string> serial_number;            ///< The subject's serialNumber attribute.
  std::optional<std::string> organization_identifier;  ///< 2.5.4.97, e.g. NTRDK-<cvr>.
  std::vector<std::string> policies;
  std::int64_t not_before = 1704067200;  // 2024-01-01
  std::int64_t not_after = 1798761600;   // 2027-01-01
  /// Hostile-input tests: the name's values are stored as given, bytes unchecked (UTF8String).
  bool raw_names = false;
  /// subjectAltName e-mail addresses, stored as given (IA5String, bytes unchecked).
  std::vector<std::string> san_emails;
};

/// An OCES2 FOCES-like leaf: serialNumber CVR:<cvr>-FID:<fid>, the OCES2 FOCES production policy.
inline LeafSpec foces_spec(const std::string& cvr, const std::string& fid, std::int64_t nb, std::int64_t na) {
  LeafSpec s;
  s.common_name = "Sikker post " + fid;
  s.organisation = "Testfirma A/S // CVR:" + cvr;
  s.serial_number = "CVR:" + cvr + "-FID:" + fid;
  s.policies = {"1.2.208.169.1.1.1.4.4"};
  s.not_before = nb;
  s.not_after = na;
  return s;
}

/// An OCES3 organisation-like leaf: serialNumber UI:DK-O:G:<uuid>, organizationIdentifier NTRDK-<cvr>.
inline LeafSpec oces3_spec(const std::string& cvr, const std::string& uuid, std::int64_t nb, std::int64_t na,
                           const std::string& cn = "Testfirma A/S - gateway") {
  LeafSpec s;
  s.common_name = cn;
  s.organisation = "Testfirma A/S";
  s.organization_identifier = "NTRDK-" + cvr;
  s.serial_number = "UI:DK-O:G:" + uuid;
  s.policies = {"1.2.208.169.1.1.1.3.7"};
  s.not_before = nb;
  s.not_after = na;
  return s;
}

/// A leaf, its bundle (leaf key + CA), and the PKCS#12 file of the bundle.
struct Made {
  Certificate certificate;
  Pkcs12Bundle bundle;
  std::vector<std::byte> pkcs12;
};

class CertFactory {
 public:
  /// `rsa_leaf_bits` 0: the leaves share an EC P-256 key (cheap); else an RSA key of that size
  /// (as real OCES certificates have; the file sizes are then realistic).
  explicit CertFactory(unsigned rsa_leaf_bits = 0)
      : ca_key_(EVP_EC_gen("P-256")),
        leaf_key_(rsa_leaf_bits == 0 ? EVP_EC_gen("P-256") : EVP_RSA_gen(rsa_leaf_bits)) {
    if (!ca_key_ || !leaf_key_) throw std::runtime_error("cert factory: EC key generation failed");
    LeafSpec ca;
    ca.common_name = "dpgcert Store Test CA";
    ca.organisation = "dpgcert tests";
    ca.not_before = 1577836800;  // 2020
    ca.not_after = 2208988800;   // 2040
    (void)make(ca, true);
    // The leaf key as PKCS#8 DER.
    PKCS8_PRIV_KEY_INFO* p8 = EVP_PKEY2PKCS8(leaf_key_.get());
    unsigned char* der = nullptr;
    const int n = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
    PKCS8_PRIV_KEY_INFO_free(p8);
    if (n <= 0) throw std::runtime_error("cert factory: PKCS#8 encoding failed");
    leaf_pkcs8_ = SecretBytes(std::as_bytes(std::span(der, static_cast<std::size_t>(n))));
    OPENSSL_clear_free(der, static_cast<std::size_t>(n));
  }

  /// The CA certificate (a trust anchor for the leaves).
  [[nodiscard]] const Certificate& ca() const { return *ca_cert_; }
  /// The DER of the leaves' private key (PKCS#8): what must never appear in a store file.
  [[nodiscard]] const SecretBytes& leaf_key_pkcs8() const { return leaf_pkcs8_; }

  /// A new leaf certificate signed by the CA (a fresh serial every call).
  [[nodiscard]] Certificate leaf(const LeafSpec& spec) { return make(spec, false); }

  /// A bundle of the leaf key, the leaf and the CA.
  [[nodiscard]] Pkcs12Bundle bundle(const Certificate& leaf) const {
    return Pkcs12Bundle::from_parts(PrivateKey::from_pkcs8_der(leaf_pkcs8_.clone()), leaf, {ca()}, "test leaf");
  }

  /// Leaf, bundle and PKCS#12 file (AES-256, a single KDF/MAC iteration: fast to write and read).
  [[nodiscard]] Made made(const LeafSpec& spec, const SecretBytes& password) {
    Certificate c = leaf(spec);
    Pkcs12Bundle b = bundle(c);
    Pkcs12WriteOptions o = Pkcs12WriteOptions::modern();
    o.iterations = 1;
    o.mac_iterations = 1;
    std::vector<std::byte> p12 = write_pkcs12(b, password, o);
    return Made{std::move(c), std::move(b), std::move(p12)};
  }

 private:
  struct PkeyFree {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
  };
  struct X509Free {
    void operator()(X509* p) const noexcept { X509_free(p); }
  };

  static void add_ext(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
    if (ext == nullptr || X509_add_ext(cert, ext, -1) != 1) {
      X509_EXTENSION_free(ext);
      throw std::runtime_error(std::string("cert factory: extension ") + value);
    }
    X509_EXTENSION_free(ext);
  }

  static void add_name(X509_NAME* name, const char* field, const std::string& value, bool raw = false) {
    if (X509_NAME_add_entry_by_txt(name, field, raw ? V_ASN1_UTF8STRING : MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0) != 1) {
      throw std::runtime_error(std::string("cert factory: name attribute ") + field);
    }
  }

  Certificate make(const LeafSpec& spec, bool is_ca) {
    std::unique_ptr<X509, X509Free> x(X509_new());
    X509_set_version(x.get(), 2);
    ASN1_INTEGER_set_uint64(X509_get_serialNumber(x.get()), next_serial_.fetch_add(1) + 0x1000);
    X509_NAME* name = X509_NAME_new();
    add_name(name, "C", "DK");
    if (spec.organization_identifier) add_name(name, "organizationIdentifier", *spec.organization_identifier);
    if (spec.organisation) add_name(name, "O", *spec.organisation, spec.raw_names);
    if (spec.serial_number) add_name(name, "serialNumber", *spec.serial_number);
    add_name(name, "CN", spec.common_name, spec.raw_names);
    X509_set_subject_name(x.get(), name);
    X509_set_issuer_name(x.get(), is_ca ? name : X509_get_subject_name(ca_.get()));
    X509_NAME_free(name);
    ASN1_TIME_set(X509_getm_notBefore(x.get()), static_cast<time_t>(spec.not_before));
    ASN1_TIME_set(X509_getm_notAfter(x.get()), static_cast<time_t>(spec.not_after));
    X509_set_pubkey(x.get(), is_ca ? ca_key_.get() : leaf_key_.get());
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, is_ca ? x.get() : ca_.get(), x.get(), nullptr, nullptr, 0);
    if (is_ca) {
      add_ext(x.get(), &v3, NID_basic_constraints, "critical,CA:TRUE");
      add_ext(x.get(), &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
      add_ext(x.get(), &v3, NID_subject_key_identifier, "hash");
    } else {
      add_ext(x.get(), &v3, NID_basic_constraints, "CA:FALSE");
      add_ext(x.get(), &v3, NID_key_usage, "critical,digitalSignature,keyEncipherment");
      add_ext(x.get(), &v3, NID_subject_key_identifier, "hash");
      add_ext(x.get(), &v3, NID_authority_key_identifier, "keyid:always");
      if (!spec.policies.empty()) {
        // Built by hand: the text form of certificatePolicies needs a config database.
        CERTIFICATEPOLICIES* pols = CERTIFICATEPOLICIES_new();
        for (const auto& oid : spec.policies) {
          POLICYINFO* pi = POLICYINFO_new();
          pi->policyid = OBJ_txt2obj(oid.c_str(), 1);
          sk_POLICYINFO_push(pols, pi);
        }
        const int ok = X509_add1_ext_i2d(x.get(), NID_certificate_policies, pols, 0, X509V3_ADD_DEFAULT);
        CERTIFICATEPOLICIES_free(pols);
        if (ok != 1) throw std::runtime_error("cert factory: certificatePolicies");
      }
      if (!spec.san_emails.empty()) {
        GENERAL_NAMES* names = GENERAL_NAMES_new();
        for (const auto& e : spec.san_emails) {
          ASN1_IA5STRING* s = ASN1_IA5STRING_new();
          ASN1_STRING_set(s, e.data(), static_cast<int>(e.size()));
          GENERAL_NAME* gn = GENERAL_NAME_new();
          GENERAL_NAME_set0_value(gn, GEN_EMAIL, s);
          sk_GENERAL_NAME_push(names, gn);
        }
        const int ok = X509_add1_ext_i2d(x.get(), NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT);
        GENERAL_NAMES_free(names);
        if (ok != 1) throw std::runtime_error("cert factory: subjectAltName");
      }
    }
    if (X509_sign(x.get(), ca_key_.get(), EVP_sha256()) <= 0) throw std::runtime_error("cert factory: signing failed");
    unsigned char* der = nullptr;
    const int n = i2d_X509(x.get(), &der);
    if (n <= 0) throw std::runtime_error("cert factory: encoding failed");
    Certificate c = Certificate::from_der(std::as_bytes(std::span(der, static_cast<std::size_t>(n))));
    OPENSSL_free(der);
    if (is_ca) {
      ca_.reset(x.release());
      ca_cert_ = c;
    }
    return c;
  }

  std::unique_ptr<EVP_PKEY, PkeyFree> ca_key_;
  std::unique_ptr<EVP_PKEY, PkeyFree> leaf_key_;
  std::unique_ptr<X509, X509Free> ca_;
  std::optional<Certificate> ca_cert_;
  SecretBytes leaf_pkcs8_;
  inline static std::atomic<std::uint64_t> next_serial_{1};
};

}  // namespace dpgcert::testing
