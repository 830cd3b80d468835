// Sealing of secrets at rest: envelope encryption with AES-256-GCM data keys, wrapped by a key
// wrapper (a key file or a passphrase with Argon2id; a token later). Botan does the cryptography;
// no Botan type is here.
#pragma once

#include <dpgcert/export.hpp>
#include <dpgcert/key_wrapper.hpp>
#include <dpgcert/secret.hpp>
#include <dpgcert/token.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

/// Envelope encryption of secrets (see docs/store.md, "Sealing").
///
/// Every secret is encrypted with AES-256-GCM under its own random 256-bit data key; the data key
/// is wrapped by a KeyWrapper (the software one: AES-256-GCM under the master key from a key file or
/// a passphrase). Both encryptions bind a context
/// string (the store uses the record id and the field name) as associated data, so a ciphertext
/// moved to another record does not open. Rotating the master key re-wraps data keys and leaves
/// ciphertexts byte for byte as they were.
namespace dpgcert::vault {

/// Size of master keys and data keys in bytes.
inline constexpr std::size_t key_size = 32;

/// Argon2id cost parameters for deriving a master key from a passphrase. They are stored with the
/// store (never the passphrase), so a store can be opened with the parameters it was made with.
struct Argon2Params {
  std::uint32_t memory_kib = 64 * 1024;  ///< Memory in KiB (at least 8 per lane).
  std::uint32_t iterations = 3;          ///< Passes over memory (t).
  std::uint32_t parallelism = 1;         ///< Lanes (p).

  /// 64 MiB, t=3, p=1: about 0.9 s on a 2-core server. The default for new stores.
  [[nodiscard]] static Argon2Params defaults() noexcept { return {}; }
  /// 8 KiB, t=1, p=1: no protection worth the name; for unit tests only.
  [[nodiscard]] static Argon2Params for_tests() noexcept { return {8, 1, 1}; }
  bool operator==(const Argon2Params&) const = default;
};

/// The largest Argon2 parameters accepted, each alone (1 GiB of memory, 16 passes, 16 lanes), so that
/// a doctored store cannot make opening it stall a process. Beyond: Error(limit_exceeded). Together
/// they are capped by max_argon2_cost_kib as well.
inline constexpr Argon2Params max_argon2_params{1024u * 1024, 16, 16};
/// The largest memory x passes accepted (KiB): four times the default's (64 MiB x 3), about 3.5 s
/// here. Writing (store init, key rotate) and opening apply the same caps, so whatever dpgcert
/// writes it can open, and a store edited to ask for more is refused (Error(limit_exceeded)).
inline constexpr std::uint64_t max_argon2_cost_kib = 4ull * 64 * 1024 * 3;

/// A 256-bit master key of the software key wrapper. Move-only; wiped on destruction; owned by one
/// thread at a time.
class DPGCERT_API MasterKey final {
 public:
  /// A fresh random key (from the operating system's generator).
  [[nodiscard]] static MasterKey generate();
  /// Takes exactly key_size bytes; Error(invalid_argument) otherwise.
  [[nodiscard]] static MasterKey from_bytes(std::span<const std::byte> key);
  /// Derives a key with Argon2id. `salt` must be at least 16 bytes. Throws Error(invalid_argument)
  /// for an empty passphrase, a short salt or impossible parameters, Error(limit_exceeded) past
  /// max_argon2_params.
  [[nodiscard]] static MasterKey from_passphrase(const SecretBytes& passphrase, std::span<const std::byte> salt,
                                                 const Argon2Params& params);
  /// Reads a key file: exactly 32 bytes, or 64 hexadecimal digits with an optional trailing
  /// newline. The file must be a regular file (opened without blocking: a FIFO is refused) owned by
  /// this user or root and private to its owner (mode 0600 or stricter), as ssh requires of private
  /// keys. Throws Error(io) when it cannot be read, Error(invalid_argument) when it is not private
  /// (the message says how to fix it), Error(malformed) for any other content and for a key that is
  /// not random (all zero, a repeated pattern).
  [[nodiscard]] static MasterKey read_key_file(const std::filesystem::path& path);
  /// Creates a new key file holding 32 random bytes, with mode 0600 (created exclusively: never
  /// follows or replaces an existing file), and flushes it to disk. Throws Error(conflict) when the
  /// file exists, Error(io) when it cannot be written.
  [[nodiscard]] static MasterKey create_key_file(const std::filesystem::path& path);

  MasterKey(MasterKey&&) noexcept = default;
  MasterKey& operator=(MasterKey&&) noexcept = default;
  MasterKey(const MasterKey&) = delete;
  MasterKey& operator=(const MasterKey&) = delete;
  ~MasterKey() = default;

  /// The key bytes.
  [[nodiscard]] const SecretBytes& bytes() const noexcept { return key_; }

 private:
  explicit MasterKey(SecretBytes key) noexcept : key_(std::move(key)) {}
  SecretBytes key_;
};

/// A secret sealed by Vault::seal(). Not secret itself: both parts are ciphertexts.
struct SealedSecret {
  /// The data key, wrapped by the key wrapper. The software wrapper's format: version byte,
  /// 12-byte nonce, 32 bytes, 16-byte tag.
  std::vector<std::byte> wrapped_key;
  /// The secret under the data key: version byte, 12-byte nonce, the bytes, 16-byte tag.
  std::vector<std::byte> ciphertext;
  bool operator==(const SealedSecret&) const = default;
};

/// Seals and opens secrets with data keys wrapped by one key wrapper.
///
/// Thread safety: const methods may be called from several threads at once.
class DPGCERT_API Vault final {
 public:
  /// A vault whose data keys `wrapper` wraps. Error(invalid_argument) when it is null.
  explicit Vault(std::shared_ptr<const KeyWrapper> wrapper);
  /// A vault over the software wrapper holding `key` (kind "raw": it is not recorded by a store;
  /// for embedding and tests).
  explicit Vault(MasterKey key);

  /// Encrypts `plaintext` under a new data key; both encryptions bind `context` (e.g.
  /// "certificate:42:pkcs12"). The empty plaintext is allowed.
  [[nodiscard]] SealedSecret seal(std::span<const std::byte> plaintext, std::string_view context) const;

  /// Decrypts a sealed secret made with the same master key and context. Throws
  /// Error(bad_password) when the data key does not unwrap (another master key, or a secret that
  /// belongs to another context), Error(malformed) when the parts are not in the format above or
  /// the ciphertext does not authenticate under its data key (altered or swapped).
  [[nodiscard]] SecretBytes open(const SealedSecret& sealed, std::string_view context) const;

  /// Re-wraps a data key from this vault's wrapper to `target`'s, for the same context; the
  /// ciphertext is not touched and stays valid. Throws as open().
  [[nodiscard]] std::vector<std::byte> rewrap(std::span<const std::byte> wrapped_key, std::string_view context,
                                              const Vault& target) const;

  /// The key wrapper.
  [[nodiscard]] const KeyWrapper& wrapper() const noexcept { return *wrapper_; }

 private:
  std::shared_ptr<const KeyWrapper> wrapper_;
};

/// `n` random bytes from the operating system's generator.
[[nodiscard]] DPGCERT_API std::vector<std::byte> random_bytes(std::size_t n);

// ---- where the master key comes from ------------------------------------------------------

/// A source for a new master key (store creation, key rotation): a key-wrapper kind, its settings
/// and, for some kinds, a secret. Move-only (it may hold a passphrase).
class DPGCERT_API KeySource final {
 public:
  /// Kind "key_file": a key file; made (32 random bytes, mode 0600) when it does not exist yet.
  /// Error(invalid_argument) for an empty path.
  [[nodiscard]] static KeySource key_file(const std::filesystem::path& path);
  /// Kind "passphrase": a passphrase, stretched with Argon2id under a new random salt.
  /// Error(invalid_argument) for an empty passphrase.
  [[nodiscard]] static KeySource passphrase(SecretBytes passphrase, Argon2Params params = Argon2Params::defaults());
  /// Kind "pkcs11": the key a `pkcs11:` URI names on a token (token=/serial= and object=/id=),
  /// made there (AES-256, sensitive, never extractable) when absent; an RSA key pair under the
  /// URI is used as it is. `pin` is the token's user PIN. Error(malformed) for a URI that is not
  /// one, Error(invalid_argument) for a URI with a PIN or a slot.
  [[nodiscard]] static KeySource pkcs11(std::string_view uri, SecretBytes pin);
  /// Any registered kind: `settings` is a JSON object the kind understands (key_file:
  /// {"path": ...}; passphrase: {"memory_kib", "iterations", "parallelism"}), `secret` what the
  /// kind needs besides (a passphrase, a PIN). Error(invalid_argument) for an empty kind or settings
  /// that are not a JSON object.
  [[nodiscard]] static KeySource of(std::string kind, std::string settings = "{}", SecretBytes secret = {});

  [[nodiscard]] const std::string& kind() const noexcept { return kind_; }
  /// The settings: a JSON object as text.
  [[nodiscard]] const std::string& settings() const noexcept { return settings_; }
  [[nodiscard]] const SecretBytes& secret() const noexcept { return secret_; }

 private:
  KeySource() = default;
  std::string kind_;
  std::string settings_ = "{}";
  SecretBytes secret_;
};

/// What a store remembers about its master key: the wrapper's kind and parameters, never the key.
/// A value.
struct KeyHeader {
  std::string kind;            ///< KeyWrapper::kind(), e.g. "key_file".
  std::string params = "{}";   ///< KeyWrapper::describe(): a JSON object as text.
  std::vector<std::byte> check;  ///< KeyWrapper::check_value().
};

/// Overrides for unlocking, e.g. from DPGCERT_KEY_FILE / DPGCERT_PASSPHRASE. Each applies only to
/// a header of a kind that uses it.
struct Unlock {
  std::optional<std::filesystem::path> key_file;  ///< Read this key file instead of the remembered one.
  std::optional<SecretBytes> passphrase;          ///< The passphrase (a passphrase header needs one).
  token::PinSource pin;  ///< The token's user PIN, or a prompt for it (a pkcs11 header needs one).
};

/// A new key wrapper with the header to store beside the data it seals.
struct EstablishedKey {
  std::shared_ptr<const KeyWrapper> wrapper;
  KeyHeader header;
};

/// Makes the key wrapper for a new store or a rotation (establish_key_wrapper()): the software
/// kinds read the key file or create it when it does not exist, or derive a key from the
/// passphrase under a new salt. Throws as the kind's factory (MasterKey::read_key_file(),
/// create_key_file(), from_passphrase() for the software kinds), Error(unsupported) for a kind
/// not built in.
[[nodiscard]] DPGCERT_API EstablishedKey establish_key(const KeySource& source);

/// Re-opens the key wrapper a header describes and checks it against the header's check value.
/// Throws Error(bad_password) when it holds another key (wrong key file or passphrase),
/// Error(invalid_argument) when a passphrase header gets no passphrase, Error(unsupported) for a
/// kind not built in, otherwise as the kind's factory.
[[nodiscard]] DPGCERT_API std::shared_ptr<const KeyWrapper> open_key(const KeyHeader& header, const Unlock& unlock = {});

}  // namespace dpgcert::vault
