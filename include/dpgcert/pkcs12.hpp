// PKCS#12 bundles (legacy and modern): load, inspect their protection profile, write, re-wrap.
#pragma once

#include <dpgcert/context.hpp>
#include <dpgcert/export.hpp>
#include <dpgcert/secret.hpp>
#include <dpgcert/x509.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace dpgcert {

/// How one safe bag of a PKCS#12 file was protected.
struct Pkcs12BagInfo {
  std::string type;        ///< "certBag", "keyBag", "pkcs8ShroudedKeyBag", "crlBag", "secretBag", or the OID.
  std::string encryption;  ///< "none", "AES-256-CBC", "AES-128-CBC", "RC2-40-CBC", "DES-EDE3-CBC", ...
  std::optional<std::string> kdf;  ///< "PBKDF2-HMAC-SHA256", "PKCS12KDF-SHA1", ... (absent when not encrypted)
  std::uint64_t iterations = 0;    ///< KDF iterations (0 when not encrypted).
  std::size_t salt_length = 0;
  std::optional<std::string> friendly_name;
  std::optional<std::vector<std::byte>> local_key_id;
};

/// The MAC protecting a PKCS#12 file's integrity.
struct Pkcs12MacInfo {
  std::string digest;  ///< "SHA1", "SHA256", ...
  std::uint64_t iterations = 0;
  std::size_t salt_length = 0;
};

/// Which protection a PKCS#12 file used. `legacy` is true for RC2, (3)DES, RC4, a SHA-1 MAC, or
/// fewer than 2048 iterations anywhere; `legacy_reasons` says which.
struct Pkcs12Profile {
  std::vector<Pkcs12BagInfo> bags;
  std::optional<Pkcs12MacInfo> mac;  ///< Absent when the file has no MAC.
  bool legacy = false;
  std::vector<std::string> legacy_reasons;
  /// The largest iteration count in the file (MAC or any bag).
  [[nodiscard]] std::uint64_t max_iterations() const noexcept;
};

/// A private key held as its decrypted PKCS#8 encoding, decoded only when it is used.
///
/// Move-only; wiped on destruction. Owned by one thread at a time.
class DPGCERT_API PrivateKey final {
 public:
  /// Takes a DER PKCS#8 PrivateKeyInfo. Throws Error(malformed) if it is not one.
  [[nodiscard]] static PrivateKey from_pkcs8_der(SecretBytes der, const Context& ctx = Context::shared());
  PrivateKey(PrivateKey&&) noexcept;
  PrivateKey& operator=(PrivateKey&&) noexcept;
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;
  ~PrivateKey();

  /// "RSA", "RSASSA-PSS", "EC", "ED25519", ... (from the PKCS#8 algorithm identifier; no decoding).
  [[nodiscard]] std::string algorithm() const;
  /// Key size in bits (decodes the key's public part).
  [[nodiscard]] int bits() const;
  /// Whether this key's public part equals the certificate's public key. Compares public
  /// components; never runs a full private-key consistency check.
  [[nodiscard]] bool matches(const Certificate& cert) const;
  /// The decrypted PKCS#8 DER.
  [[nodiscard]] const SecretBytes& pkcs8_der() const noexcept;

  struct Impl;
  [[nodiscard]] Impl& impl() const noexcept { return *impl_; }

 private:
  explicit PrivateKey(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

/// One certificate found in a PKCS#12 file with its bag attributes.
struct Pkcs12Certificate {
  Certificate certificate;
  std::optional<std::string> friendly_name;
  std::optional<std::vector<std::byte>> local_key_id;
};

/// The content of a PKCS#12 file: leaf, private key, chain and how the file was protected.
///
/// Move-only (it holds a private key); owned by one thread at a time.
class DPGCERT_API Pkcs12Bundle final {
 public:
  Pkcs12Bundle(Pkcs12Bundle&&) noexcept;
  Pkcs12Bundle& operator=(Pkcs12Bundle&&) noexcept;
  Pkcs12Bundle(const Pkcs12Bundle&) = delete;
  Pkcs12Bundle& operator=(const Pkcs12Bundle&) = delete;
  ~Pkcs12Bundle();

  /// The end-entity certificate: the one whose local key id (or public key) matches the private
  /// key; without a key, the one certificate that issued no other in the file. Absent for files
  /// holding only CA certificates.
  [[nodiscard]] const std::optional<Certificate>& leaf() const noexcept;
  /// The private key, if the file has one.
  [[nodiscard]] const PrivateKey* private_key() const noexcept;
  /// The other certificates, ordered from the leaf's issuer towards the root as far as issuer names
  /// link them; unlinked ones follow in file order.
  [[nodiscard]] const std::vector<Certificate>& chain() const noexcept;
  /// Every certificate in file order, with friendly names and local key ids.
  [[nodiscard]] const std::vector<Pkcs12Certificate>& certificates() const noexcept;
  /// The friendly name of the key bag (or else of the leaf's bag).
  [[nodiscard]] const std::optional<std::string>& friendly_name() const noexcept;
  [[nodiscard]] const Pkcs12Profile& profile() const noexcept;
  /// Whether the private key matches the leaf (false when either is absent).
  [[nodiscard]] bool key_matches() const noexcept;

  /// Assembles a bundle from parts, e.g. to write a new file. Throws Error(invalid_argument) when
  /// the key does not match the leaf.
  [[nodiscard]] static Pkcs12Bundle from_parts(PrivateKey key, Certificate leaf,
                                               std::vector<Certificate> chain,
                                               std::optional<std::string> friendly_name = {});

  struct Impl;
  [[nodiscard]] const Impl& impl() const noexcept { return *impl_; }
  explicit Pkcs12Bundle(std::unique_ptr<Impl> impl) noexcept;

 private:
  std::unique_ptr<Impl> impl_;
};

/// Opens a PKCS#12 file with a password (UTF-8, converted to BMPString as RFC 7292 requires).
/// An empty password is tried both as "" and as absent, as OpenSSL does.
///
/// Throws Error with: bad_password (MAC or decryption fails), malformed (not PKCS#12, truncated,
/// trailing bytes, nesting too deep), unsupported (algorithm not available), limit_exceeded (size,
/// iteration count, number of bags; checked before any key derivation).
[[nodiscard]] DPGCERT_API Pkcs12Bundle load_pkcs12(std::span<const std::byte> data,
                                                   const SecretBytes& password,
                                                   const Context& ctx = Context::shared());

/// Reads only the structure and protection profile of a PKCS#12 file, without a password and
/// without key derivation. Same errors as load_pkcs12 except bad_password.
[[nodiscard]] DPGCERT_API Pkcs12Profile inspect_pkcs12_profile(std::span<const std::byte> data,
                                                               const Context& ctx = Context::shared());

/// How to protect a PKCS#12 file that dpgcert writes.
struct Pkcs12WriteOptions {
  std::string certificate_encryption = "AES-256-CBC";  ///< or "none", "RC2-40-CBC", "DES-EDE3-CBC", ...
  std::string key_encryption = "AES-256-CBC";
  std::string kdf_digest = "SHA256";                   ///< PBKDF2 PRF for PBES2 ciphers.
  std::string mac_digest = "SHA256";
  std::uint64_t iterations = 100'000;                  ///< For every bag's KDF.
  std::uint64_t mac_iterations = 100'000;
  std::optional<std::string> friendly_name;            ///< Overrides the bundle's.

  /// AES-256-CBC, PBKDF2-HMAC-SHA256 and a SHA-256 MAC, 100,000 iterations everywhere.
  [[nodiscard]] static Pkcs12WriteOptions modern() { return {}; }
  /// RC2-40 certificates, 3DES key, SHA-1 MAC, 2048 iterations: only for old software that needs it.
  [[nodiscard]] static Pkcs12WriteOptions legacy_compatible();
};

/// Writes a bundle (key, leaf, chain) as a PKCS#12 file. Throws Error(invalid_argument) for a
/// bundle without key or leaf, Error(unsupported) for an unknown algorithm name.
[[nodiscard]] DPGCERT_API std::vector<std::byte> write_pkcs12(
    const Pkcs12Bundle& bundle, const SecretBytes& password,
    const Pkcs12WriteOptions& options = Pkcs12WriteOptions::modern(),
    const Context& ctx = Context::shared());

/// What a file turned out to be.
enum class FileKind { pkcs12, certificate };

/// The result of load_any().
struct LoadedFile {
  FileKind kind = FileKind::certificate;
  std::vector<Certificate> certificates;  ///< For certificate files: all of them, in file order.
  std::optional<Pkcs12Bundle> bundle;      ///< For PKCS#12 files.
};

/// Loads PKCS#12, DER, PEM or bare-base64 input, detecting which. A DER certificate saved under a
/// .p12 name is a certificate, never a bad password. `password` is used for PKCS#12 (nullptr:
/// try the empty and absent password). Errors as load_pkcs12 and load_certificates.
[[nodiscard]] DPGCERT_API LoadedFile load_any(std::span<const std::byte> data,
                                              const SecretBytes* password = nullptr,
                                              const Context& ctx = Context::shared());

}  // namespace dpgcert
