// The key-wrapper interface of the vault and the registry of wrapper kinds by name. For people who
// add a place to keep the master key (a PKCS#11 token, a KMS); users of the vault need only
// <dpgcert/vault.hpp>. See docs/architecture.md, "Adding a key wrapper".
#pragma once

#include <dpgcert/export.hpp>
#include <dpgcert/secret.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dpgcert::vault {

class KeySource;
struct Unlock;

/// The version of the KeyWrapper interface. It grows when a virtual is added, so that a wrapper
/// built against an older header can be told apart (libgit2's `version` fields).
inline constexpr int key_wrapper_interface_version = 1;

/// Wraps and unwraps data keys under a master key it holds or reaches (a key file, a passphrase,
/// a token). The vault never needs the master key's bytes: only these calls.
///
/// An implementation is immutable after construction; its const methods may be called from
/// several threads at once.
class DPGCERT_API KeyWrapper {
 public:
  virtual ~KeyWrapper();
  KeyWrapper(const KeyWrapper&) = delete;
  KeyWrapper& operator=(const KeyWrapper&) = delete;

  /// The interface version the implementation was built against.
  [[nodiscard]] virtual int interface_version() const noexcept { return key_wrapper_interface_version; }

  /// The kind's registered name ("key_file", "passphrase", "pkcs11"): what a store records.
  [[nodiscard]] virtual std::string kind() const = 0;

  /// What a store records to re-open this wrapper: a JSON object as text, never a secret (a key
  /// file's path; Argon2id parameters and salt as hex; a token URI).
  [[nodiscard]] virtual std::string describe() const = 0;

  /// Says where the key is, for messages ("the key file '/etc/dpgcert/store.key'"). Never a secret.
  [[nodiscard]] virtual std::string label() const = 0;

  /// Encrypts `key` (a data key) under the master key, binding `context` as associated data. The
  /// vault passes "data-key/<record context>" and check_value() "key-check/", so one never stands
  /// in for the other.
  /// Throws Error(invalid_argument) for a key size the wrapper does not take (16 and 32 bytes are
  /// always taken), Error(io)/Error(internal) when the master key cannot be reached.
  [[nodiscard]] virtual std::vector<std::byte> wrap(std::span<const std::byte> key, std::string_view context) const = 0;

  /// Decrypts what wrap() made with the same master key and context. Throws Error(bad_password)
  /// when it does not authenticate (another master key, another context, altered bytes),
  /// Error(malformed) when `wrapped` is not in the wrapper's format.
  [[nodiscard]] virtual SecretBytes unwrap(std::span<const std::byte> wrapped, std::string_view context) const = 0;

  /// A key check value: a known constant wrapped under the master key (random nonce). Stored
  /// beside sealed data, it tells a wrong key from damaged data before any secret is opened.
  [[nodiscard]] std::vector<std::byte> check_value() const;
  /// Whether `check` was made by check_value() of a wrapper holding the same master key. Never
  /// throws for bad input (false).
  [[nodiscard]] bool matches(std::span<const std::byte> check) const;
  /// Whether `other` holds the same master key as this wrapper.
  [[nodiscard]] bool same_key(const KeyWrapper& other) const { return matches(other.check_value()); }

 protected:
  KeyWrapper() = default;
};

/// One kind of key wrapper in the registry (step-ca's kms.Register): how to make a new one from a
/// key source (store creation, rotation) and how to re-open one a store recorded.
struct KeyWrapperFactory {
  std::string kind;     ///< The name a store records, e.g. "key_file".
  std::string summary;  ///< One line for help texts.
  /// Makes the wrapper for a new store or a rotation from `source` (whose kind() is `kind`).
  std::function<std::unique_ptr<KeyWrapper>(const KeySource& source)> establish;
  /// Re-opens a wrapper from its describe() text, with the caller's unlock overrides. Need not
  /// check that it holds the right key: the vault compares the store's check value.
  std::function<std::unique_ptr<KeyWrapper>(std::string_view params, const Unlock& unlock)> reopen;
};

/// Registers a kind of key wrapper. Throws Error(conflict) when a built-in kind of that name is
/// built (a stub may be replaced), Error(invalid_argument) for an empty name or a missing function.
/// Thread-safe.
DPGCERT_API void register_key_wrapper(KeyWrapperFactory factory);

/// Registers `kind` as a kind this build does not contain: every use throws Error(unsupported)
/// "key wrapper '<kind>' is not built into this dpgcert". Thread-safe.
DPGCERT_API void register_unavailable_key_wrapper(std::string kind);

/// The kinds registered, by name; with `usable_only`, those that are not stubs.
[[nodiscard]] DPGCERT_API std::vector<std::string> key_wrapper_kinds(bool usable_only = false);

/// Makes a new wrapper from `source` through its kind's factory. Throws Error(unsupported) for a
/// stub, Error(invalid_argument) for an unknown kind, otherwise as the kind's factory.
[[nodiscard]] DPGCERT_API std::unique_ptr<KeyWrapper> establish_key_wrapper(const KeySource& source);

/// Re-opens a wrapper of `kind` from the `params` it described. Throws Error(unsupported) for a
/// stub or an unknown kind, Error(malformed) for params that are not the kind's JSON object,
/// otherwise as the kind's factory.
[[nodiscard]] DPGCERT_API std::unique_ptr<KeyWrapper> reopen_key_wrapper(std::string_view kind, std::string_view params,
                                                                        const Unlock& unlock);

}  // namespace dpgcert::vault
