// X.509 certificates as immutable values: names, validity, keys, extensions, fingerprints.
#pragma once

#include <dpgcert/context.hpp>
#include <dpgcert/export.hpp>
#include <dpgcert/time.hpp>

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dpgcert {

/// One attribute of a relative distinguished name, e.g. {"2.5.4.3", "CN", "Acme"}.
struct NameAttribute {
  std::string oid;         ///< Dotted OID.
  std::string short_name;  ///< RFC 4514 short name where one exists ("CN", "O", "serialNumber"), else the OID.
  std::string value;       ///< UTF-8 text (string types converted; other types as '#'-hex of the DER).
  bool operator==(const NameAttribute&) const = default;
};

/// A relative distinguished name: one or more attributes (OCES2 puts CN and serialNumber in one).
using Rdn = std::vector<NameAttribute>;

/// An X.501 distinguished name with its RDN structure kept intact.
class DPGCERT_API DistinguishedName final {
 public:
  DistinguishedName() = default;
  explicit DistinguishedName(std::vector<Rdn> rdns) : rdns_(std::move(rdns)) {}

  /// RDNs in encoding order (most general first, e.g. C, O, ..., CN).
  [[nodiscard]] const std::vector<Rdn>& rdns() const noexcept { return rdns_; }
  /// RFC 4514 text: RDNs in reverse encoding order, multi-valued RDNs joined with '+', special
  /// characters escaped, UTF-8 kept as is.
  [[nodiscard]] std::string to_string() const;
  /// Every value of an attribute, by short name (case-insensitive) or dotted OID, in encoding order.
  [[nodiscard]] std::vector<std::string> values(std::string_view name_or_oid) const;
  /// The first value of an attribute, if any.
  [[nodiscard]] std::optional<std::string> first(std::string_view name_or_oid) const;
  [[nodiscard]] bool empty() const noexcept { return rdns_.empty(); }
  bool operator==(const DistinguishedName&) const = default;

 private:
  std::vector<Rdn> rdns_;
};

/// The subject public key, described.
struct PublicKeyInfo {
  std::string algorithm;          ///< "RSA", "RSASSA-PSS", "EC", "ED25519", "ED448", "DSA", or the OID.
  int bits = 0;                   ///< Key size in bits (modulus for RSA, field for EC).
  std::optional<std::string> curve;  ///< Curve name for EC keys ("prime256v1").
};

/// Key usage bits (RFC 5280 4.2.1.3).
struct KeyUsage {
  bool digital_signature = false;
  bool non_repudiation = false;  ///< a.k.a. contentCommitment
  bool key_encipherment = false;
  bool data_encipherment = false;
  bool key_agreement = false;
  bool key_cert_sign = false;
  bool crl_sign = false;
  bool encipher_only = false;
  bool decipher_only = false;
  bool critical = false;
  /// Names of the set bits, RFC 5280 spelling ("digitalSignature", "keyEncipherment", ...).
  [[nodiscard]] DPGCERT_API std::vector<std::string> names() const;
};

/// Basic constraints (RFC 5280 4.2.1.9).
struct BasicConstraints {
  bool ca = false;
  std::optional<int> path_length;
  bool critical = false;
};

/// Subject alternative names of the kinds dpgcert uses.
struct AlternativeNames {
  std::vector<std::string> emails;  ///< rfc822Name
  std::vector<std::string> dns;     ///< dNSName
  std::vector<std::string> uris;    ///< uniformResourceIdentifier
  [[nodiscard]] bool empty() const noexcept { return emails.empty() && dns.empty() && uris.empty(); }
};

/// Authority information access (RFC 5280 4.2.2.1).
struct AuthorityInfoAccess {
  std::vector<std::string> ocsp;        ///< OCSP responder URIs.
  std::vector<std::string> ca_issuers;  ///< URIs of the issuer's certificate.
};

/// A SHA-256 fingerprint of the DER encoding.
using Fingerprint = std::array<std::byte, 32>;

/// Lowercase hex without separators.
[[nodiscard]] DPGCERT_API std::string to_hex(std::span<const std::byte> bytes);

/// An immutable X.509 certificate: its DER and the parsed fields.
///
/// Cheap to copy (a shared pointer); safe to share and read from several threads. Fields are
/// decoded on first use. Two certificates are equal when their DER encodings are.
class DPGCERT_API Certificate final {
 public:
  /// Parses one DER certificate. Throws Error(malformed) for anything else, including trailing bytes,
  /// Error(limit_exceeded) for input larger than the context's limit.
  [[nodiscard]] static Certificate from_der(std::span<const std::byte> der,
                                            const Context& ctx = Context::shared());

  [[nodiscard]] std::span<const std::byte> der() const noexcept;
  /// PEM text ("-----BEGIN CERTIFICATE-----", 64-column base64, trailing newline).
  [[nodiscard]] std::string to_pem() const;

  [[nodiscard]] int version() const;  ///< 1, 2 or 3.
  [[nodiscard]] const DistinguishedName& subject() const;
  [[nodiscard]] const DistinguishedName& issuer() const;
  /// Serial number as big-endian bytes without leading zeros (a single 0 byte for zero).
  [[nodiscard]] std::vector<std::byte> serial() const;
  /// Serial number as lowercase hex without separators (as `openssl x509 -serial`, lowercased).
  [[nodiscard]] std::string serial_hex() const;
  [[nodiscard]] Time not_before() const;
  [[nodiscard]] Time not_after() const;
  [[nodiscard]] const Fingerprint& fingerprint_sha256() const;
  [[nodiscard]] std::string fingerprint_hex() const;  ///< Lowercase hex of fingerprint_sha256().
  [[nodiscard]] const PublicKeyInfo& public_key() const;
  /// The signature algorithm's name as OpenSSL knows it ("sha256WithRSAEncryption", "RSASSA-PSS").
  [[nodiscard]] std::string signature_algorithm() const;
  /// The digest of the signature ("SHA256", "SHA1", "MD5"; empty for algorithms without one, e.g. Ed25519).
  [[nodiscard]] std::string signature_digest() const;
  [[nodiscard]] const std::optional<KeyUsage>& key_usage() const;
  /// Extended key usage OIDs, dotted.
  [[nodiscard]] const std::vector<std::string>& extended_key_usage() const;
  [[nodiscard]] const AlternativeNames& subject_alt_names() const;
  /// Certificate policy OIDs, dotted, in order.
  [[nodiscard]] const std::vector<std::string>& policies() const;
  [[nodiscard]] const AuthorityInfoAccess& authority_info_access() const;
  /// URIs of the CRL distribution points.
  [[nodiscard]] const std::vector<std::string>& crl_distribution_points() const;
  [[nodiscard]] const std::optional<BasicConstraints>& basic_constraints() const;
  [[nodiscard]] bool is_ca() const;
  /// The subject key identifier extension's value, if present.
  [[nodiscard]] std::optional<std::vector<std::byte>> subject_key_id() const;
  /// The key identifier of the authority key identifier extension, if present.
  [[nodiscard]] std::optional<std::vector<std::byte>> authority_key_id() const;
  /// Subject equals issuer.
  [[nodiscard]] bool is_self_issued() const;

  bool operator==(const Certificate& other) const noexcept;

  struct Impl;
  /// For dpgcert's own layers.
  [[nodiscard]] const Impl& impl() const noexcept { return *impl_; }
  explicit Certificate(std::shared_ptr<const Impl> impl) noexcept : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<const Impl> impl_;
};

/// Parses every certificate in PEM text (several allowed; text between blocks ignored), or in bare
/// base64 without PEM armour (the `.cer` files seen in the wild). Throws Error(malformed) when
/// there is none or one is broken, Error(limit_exceeded) past the context's limits.
[[nodiscard]] DPGCERT_API std::vector<Certificate> load_certificates_pem(
    std::string_view text, const Context& ctx = Context::shared());

/// Parses DER, PEM or bare base64 certificates, detecting which. Same errors as above.
[[nodiscard]] DPGCERT_API std::vector<Certificate> load_certificates(
    std::span<const std::byte> data, const Context& ctx = Context::shared());

}  // namespace dpgcert
