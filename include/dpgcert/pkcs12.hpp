// PKCS#12 bundles (legacy and modern): load, inspect their protection profile, write, re-wrap.
#pragma once

#include <dpgcert/context.hpp>
#include <dpgcert/export.hpp>
#include <dpgcert/secret.hpp>
#include <dpgcert/x509.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace dpgcert {

/// How one entry of a PKCS#12 file's authenticated safe (a ContentInfo holding safe bags) was
/// protected. Visible without a password.
struct Pkcs12ContainerInfo {
  std::string type;        ///< "data", "encryptedData", "envelopedData", or the OID.
  std::string encryption;  ///< "none" for data, else as Pkcs12BagInfo::encryption.
  std::optional<std::string> kdf;  ///< As Pkcs12BagInfo::kdf (absent when not encrypted).
  std::uint64_t iterations = 0;    ///< KDF iterations (0 when not encrypted).
  std::size_t salt_length = 0;
  /// Number of safe bags inside; absent while the container is still encrypted (inspection).
  std::optional<std::size_t> bag_count;
};

/// How one safe bag of a PKCS#12 file was protected.
///
/// `encryption` is the innermost encryption protecting the bag's content: a pkcs8ShroudedKeyBag's
/// own PBE, otherwise that of the encryptedData container holding the bag ("none" in a data
/// container). Names: "AES-256-CBC", "AES-128-CBC", "DES-EDE3-CBC", "RC2-40-CBC", "RC4-128", ...;
/// KDFs: "PBKDF2-HMAC-SHA256", "PBKDF2-HMAC-SHA1", "PKCS12KDF-SHA1", "PBKDF1-MD5", "scrypt";
/// an algorithm dpgcert does not know is given as its dotted OID.
struct Pkcs12BagInfo {
  std::string type;        ///< "certBag", "keyBag", "pkcs8ShroudedKeyBag", "crlBag", "secretBag", "safeContentsBag", or the OID.
  std::string encryption;  ///< "none", "AES-256-CBC", "AES-128-CBC", "RC2-40-CBC", "DES-EDE3-CBC", ...
  std::optional<std::string> kdf;  ///< "PBKDF2-HMAC-SHA256", "PKCS12KDF-SHA1", ... (absent when not encrypted)
  std::uint64_t iterations = 0;    ///< KDF iterations (0 when not encrypted; the cost N for scrypt).
  std::size_t salt_length = 0;
  std::optional<std::string> friendly_name;  ///< UTF-8.
  std::optional<std::vector<std::byte>> local_key_id;
  std::size_t container = 0;  ///< Index into Pkcs12Profile::containers.
};

/// The MAC protecting a PKCS#12 file's integrity.
struct Pkcs12MacInfo {
  std::string digest;  ///< "SHA1", "SHA256", ... (the dotted OID when unknown)
  std::uint64_t iterations = 0;
  std::size_t salt_length = 0;
};

/// Which protection a PKCS#12 file used. `legacy` is true for RC2, (3)DES, RC4, a SHA-1 (or MD5)
/// MAC, or fewer than 2048 iterations anywhere; `legacy_reasons` says which (one line per reason,
/// e.g. "RC2-40-CBC encryption", "SHA1 MAC", "KDF iteration count 1024 is below 2048").
///
/// A profile read without a password (inspect_pkcs12_profile) lists every container but only the
/// bags of unencrypted containers; `complete` is false then and the legacy verdict covers what was
/// visible (the MAC, the containers' encryption and the visible bags).
struct Pkcs12Profile {
  std::vector<Pkcs12ContainerInfo> containers;  ///< The authenticated safe, in file order.
  std::vector<Pkcs12BagInfo> bags;               ///< Every safe bag in file order (nested ones included).
  std::optional<Pkcs12MacInfo> mac;  ///< Absent when the file has no MAC.
  bool legacy = false;
  std::vector<std::string> legacy_reasons;
  bool complete = true;  ///< Whether `bags` lists every bag (false when containers stayed encrypted).
  /// The largest iteration count in the file (MAC, any container or bag).
  [[nodiscard]] DPGCERT_API std::uint64_t max_iterations() const noexcept;
};

/// A private key held as its decrypted PKCS#8 encoding, decoded only when it is used.
///
/// Move-only; wiped on destruction. Owned by one thread at a time.
class DPGCERT_API PrivateKey final {
 public:
  /// Takes a PKCS#8 PrivateKeyInfo (kept as DER, re-encoded if it came as BER). Throws
  /// Error(malformed) if it is not one, Error(limit_exceeded) past the context's input limit.
  /// The key remembers `ctx`, which must outlive it.
  [[nodiscard]] static PrivateKey from_pkcs8_der(SecretBytes der, const Context& ctx = Context::shared());
  PrivateKey(PrivateKey&&) noexcept;
  PrivateKey& operator=(PrivateKey&&) noexcept;
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;
  ~PrivateKey();

  /// "RSA", "RSASSA-PSS", "EC", "ED25519", ... (from the PKCS#8 algorithm identifier; no decoding).
  [[nodiscard]] std::string algorithm() const;
  /// Key size in bits: the modulus length for RSA (read without decoding the key); other keys are
  /// decoded. Throws Error(unsupported) when OpenSSL cannot decode the key type.
  [[nodiscard]] int bits() const;
  /// Whether this key's public part equals the certificate's public key. Compares public
  /// components (RSA: modulus and exponent; EC: curve and point, when the key carries its point);
  /// other keys are decoded and compared by OpenSSL. Never runs a private-key consistency check.
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

  /// The end-entity certificate: the one whose local key id (or else public key) matches the
  /// private key; without a key (or when no certificate matches it), the certificate that issued
  /// no other in the file if there is exactly one and it is not a CA. Absent otherwise, e.g. for
  /// files holding only CA certificates.
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

/// Opens a PKCS#12 file with a password (UTF-8, converted to BMPString as RFC 7292 requires for
/// the PKCS#12 KDF; PBES2 uses the UTF-8 bytes). An empty password is tried both as "" and as
/// absent, as OpenSSL does. A non-ASCII password that fails is retried once as old OpenSSL
/// versions encoded it (each byte as one character).
///
/// Order of work: size, BER framing and nesting, structure, every visible iteration count and
/// algorithm, then the MAC, then decryption (an encrypted container's bags are checked before
/// their own key derivation). Certificates are parsed in the context; the private key is kept
/// as PKCS#8 and not decoded.
///
/// Throws Error with: bad_password (MAC fails; without a MAC, decryption fails; with a good MAC,
/// the contents need another password), malformed (not PKCS#12, truncated, trailing bytes, bad
/// inner structure), unsupported (algorithm unknown or not available in the context, public-key
/// integrity or privacy mode), limit_exceeded (size, iteration count, nesting of constructed
/// strings, number of bags or certificates; checked before any key derivation).
[[nodiscard]] DPGCERT_API Pkcs12Bundle load_pkcs12(std::span<const std::byte> data,
                                                   const SecretBytes& password,
                                                   const Context& ctx = Context::shared());

/// Reads only the structure and protection profile of a PKCS#12 file, without a password and
/// without key derivation: the MAC, every container's encryption and the bags of unencrypted
/// containers (see Pkcs12Profile::complete). Throws malformed and limit_exceeded as load_pkcs12;
/// unknown or unavailable algorithms are described, not refused.
[[nodiscard]] DPGCERT_API Pkcs12Profile inspect_pkcs12_profile(std::span<const std::byte> data,
                                                               const Context& ctx = Context::shared());

/// How to protect a PKCS#12 file that dpgcert writes.
///
/// Encryption names: "AES-128-CBC", "AES-192-CBC", "AES-256-CBC" use PBES2 with PBKDF2 and
/// HMAC-`kdf_digest` (16-byte salt); "DES-EDE3-CBC", "DES-EDE-CBC", "RC2-40-CBC", "RC2-128-CBC",
/// "RC4-128", "RC4-40" use the PKCS#12 PBE with SHA-1 (8-byte salt); "none" leaves the bag
/// unencrypted. `mac_digest` "none" writes no MAC.
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
  [[nodiscard]] DPGCERT_API static Pkcs12WriteOptions legacy_compatible();
};

/// Writes a bundle (key, leaf, chain) as a PKCS#12 file: one encrypted container with the leaf
/// and the chain (friendly name and local key id on the leaf), then one with the key. Throws
/// Error(invalid_argument) for a bundle without key or leaf, or iteration counts of 0 or above
/// the context's limit (the file could not be read back); Error(unsupported) for an unknown
/// algorithm name or one the context lacks.
[[nodiscard]] DPGCERT_API std::vector<std::byte> write_pkcs12(
    const Pkcs12Bundle& bundle, const SecretBytes& password,
    const Pkcs12WriteOptions& options = Pkcs12WriteOptions::modern(),
    const Context& ctx = Context::shared());

/// What a file turned out to be.
enum class FileKind { pkcs12, certificate };

/// The result of load_any().
struct LoadedFile {
  FileKind kind = FileKind::certificate;
  std::vector<Certificate> certificates;  ///< All certificates in file order (for PKCS#12 too).
  std::optional<Pkcs12Bundle> bundle;      ///< For PKCS#12 files.
};

/// Loads PKCS#12, DER, PEM or bare-base64 input, detecting which. A DER certificate saved under a
/// .p12 name is a certificate, never a bad password. `password` is used for PKCS#12 (nullptr:
/// try the empty and absent password). Errors as load_pkcs12 and load_certificates.
[[nodiscard]] DPGCERT_API LoadedFile load_any(std::span<const std::byte> data,
                                              const SecretBytes* password = nullptr,
                                              const Context& ctx = Context::shared());

/// Reads a file and calls load_pkcs12(). Throws Error(io) when it cannot be read and
/// Error(limit_exceeded) before reading a file larger than the context's input limit.
[[nodiscard]] DPGCERT_API Pkcs12Bundle load_pkcs12_file(const std::filesystem::path& path,
                                                        const SecretBytes& password,
                                                        const Context& ctx = Context::shared());

/// Reads a file and calls load_any(). Errors as load_pkcs12_file().
[[nodiscard]] DPGCERT_API LoadedFile load_any_file(const std::filesystem::path& path,
                                                   const SecretBytes* password = nullptr,
                                                   const Context& ctx = Context::shared());

}  // namespace dpgcert
