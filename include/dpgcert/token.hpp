// PKCS#11 tokens (HSMs, smart cards, SoftHSM2) reached through p11-kit and named by RFC 7512
// `pkcs11:` URIs. No PKCS#11 or p11-kit type is here: they stay in src/token/. See docs/tokens.md.
#pragma once

#include <dpgcert/export.hpp>
#include <dpgcert/secret.hpp>
#include <dpgcert/time.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dpgcert {
class Pkcs12Bundle;
}  // namespace dpgcert

namespace dpgcert::token {

/// An RFC 7512 `pkcs11:` URI taken apart: which module, which token, which object. A value.
///
/// A token is chosen by its label (`token=`) or serial (`serial=`), never by slot number: a URI
/// with `slot-id=` is refused, since modules renumber slots. A PIN never travels in a URI
/// (`pin-value=` and `pin-source=` are refused).
struct DPGCERT_API TokenUri {
  std::optional<std::string> token_label;   ///< token=
  std::optional<std::string> serial;        ///< serial=
  std::optional<std::string> manufacturer;  ///< manufacturer=
  std::optional<std::string> model;         ///< model=
  std::optional<std::string> object_label;  ///< object= (CKA_LABEL)
  std::optional<std::vector<std::byte>> id; ///< id= (CKA_ID, percent-encoded bytes)
  /// type=: "private", "public", "cert", "secret-key" or "data".
  std::optional<std::string> type;
  std::optional<std::string> module_name;  ///< module-name=: a module registered with p11-kit ("softhsm2")
  std::optional<std::string> module_path;  ///< module-path=: a module's shared library

  /// Parses `text` with p11-kit's URI parser. Throws Error(malformed) for text that is not a
  /// `pkcs11:` URI, Error(invalid_argument) for a URI with a PIN, a slot id or an unknown type.
  [[nodiscard]] static TokenUri parse(std::string_view text);
  /// The URI as p11-kit formats it (attributes percent-encoded, in RFC 7512's order).
  [[nodiscard]] std::string to_string() const;
  /// Only the token part (and the module): the object attributes cleared.
  [[nodiscard]] TokenUri token_only() const;
  /// Whether the URI names a token (a label or a serial).
  [[nodiscard]] bool names_token() const noexcept { return token_label.has_value() || serial.has_value(); }
  bool operator==(const TokenUri&) const = default;
};

/// Where the PIN comes from: given, or asked for when the token first needs it (a prompt without
/// echo in the tool). Move-only (it may hold the PIN).
struct PinSource {
  std::optional<SecretBytes> pin;  ///< The user PIN.
  /// Called with the token's label when a login is needed and `pin` is empty; may throw.
  std::function<SecretBytes(const std::string& token_label)> prompt;
};

/// A token as its module describes it. A value.
struct TokenInfo {
  std::string label;
  std::string serial;
  std::string manufacturer;
  std::string model;
  std::string module;  ///< The module's file name.
  std::string uri;     ///< A URI naming this token (with its serial).
  bool login_required = true;
  bool pin_locked = false;      ///< CKF_USER_PIN_LOCKED: the PIN is locked until an officer resets it.
  bool pin_final_try = false;   ///< CKF_USER_PIN_FINAL_TRY: the next wrong PIN locks it.
};

/// A certificate on a token. A value.
struct TokenCertificate {
  std::string uri;                  ///< pkcs11: URI of the certificate object (token serial, id, label).
  std::string label;                ///< CKA_LABEL.
  std::string id_hex;               ///< CKA_ID in lowercase hex.
  std::vector<std::byte> der;       ///< CKA_VALUE.
  bool has_private_key = false;     ///< A private key with the same CKA_ID is on the token.
};

/// What Token::import_key() put on the token, or found there already. A value.
struct TokenImport {
  std::string key_uri;          ///< pkcs11: URI of the private key (token label and serial, id, label, type=private).
  std::string public_key_uri;   ///< ... of the public key (type=public).
  std::string certificate_uri;  ///< ... of the certificate (type=cert).
  std::string id_hex;           ///< The CKA_ID the three objects share (SHA-1 of the public key), lowercase hex.
  std::string label;            ///< The CKA_LABEL they share (the certificate's common name).
  std::size_t created = 0;      ///< Objects this call created: 3 for a first import, 0 when all were there.
};

/// RSA signature schemes a token key signs with (the digest is SHA-256, computed in process).
enum class SignScheme { rsa_pkcs1v15_sha256, rsa_pss_sha256 };
/// RSA decryption schemes (OAEP with SHA-256 or SHA-1 and MGF1 of the same; PKCS#1 v1.5 as
/// older S/MIME senders use).
enum class DecryptScheme { rsa_oaep_sha256, rsa_oaep_sha1, rsa_pkcs1v15 };

/// A logged-in session with one token. Cheap to copy (shares the session); its methods may be
/// called from several threads (they take turns on the session). The module is loaded and
/// initialised once per process and finalised at exit.
class DPGCERT_API Token final {
 public:
  /// Finds the token `uri` names (in the module it names, else in every module registered with
  /// p11-kit) and opens a read-write session; logs in with the PIN when the token needs one.
  /// Throws Error(not_found) when no token matches (or the module does not load),
  /// Error(conflict) when two tokens match, Error(bad_password) for a wrong PIN, Error(locked)
  /// for a locked PIN, Error(invalid_argument) when a login is needed and no PIN is given,
  /// Error(io) when the module fails.
  [[nodiscard]] static Token open(const TokenUri& uri, const PinSource& pin);

  /// The token's description.
  [[nodiscard]] TokenInfo info() const;
  /// Every certificate object on the token.
  [[nodiscard]] std::vector<TokenCertificate> certificates() const;

  /// Puts the bundle's private key, its public key and its leaf certificate on the token, with
  /// one CKA_ID (the SHA-1 of the public key, as pkcs11-tool shows it) and CKA_LABEL the leaf's
  /// common name (else its subject). The private key is CKA_SENSITIVE, not CKA_EXTRACTABLE,
  /// CKA_PRIVATE, for signing and decrypting. Idempotent: objects with that id that are there
  /// already (the same certificate) are kept, only missing ones are created. All or nothing:
  /// when a step fails, the objects this call created are destroyed (by handle) before the
  /// error is thrown. Throws Error(invalid_argument) for a bundle without a leaf or key, or whose
  /// key does not match the leaf; Error(unsupported) for a key that is not RSA; Error(conflict)
  /// when a certificate with that id but other content is on the token; errors of the token as
  /// open() says.
  TokenImport import_key(const Pkcs12Bundle& bundle) const;
  /// Destroys the private key, public key and certificate that `objects` names (its id= or
  /// object=, any type); returns how many were destroyed (0 when none matched). Throws
  /// Error(invalid_argument) when the URI names no object.
  std::size_t remove_objects(const TokenUri& objects) const;

  /// Signs `message` with the private key `key` names (the token and `id=` or `object=`): SHA-256
  /// in process, the RSA operation in the token. Throws Error(not_found) when no private key
  /// matches, Error(conflict) when two do, Error(unsupported) when the token refuses the scheme.
  [[nodiscard]] std::vector<std::byte> sign(const TokenUri& key, std::span<const std::byte> message,
                                            SignScheme scheme) const;
  /// Decrypts `ciphertext` with the private key `key` names, in the token. Throws as sign(), and
  /// Error(bad_password) when the ciphertext does not decrypt under the key.
  [[nodiscard]] SecretBytes decrypt(const TokenUri& key, std::span<const std::byte> ciphertext,
                                    DecryptScheme scheme) const;

  struct Impl;

 private:
  explicit Token(std::shared_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

/// The tokens present in the modules registered with p11-kit (or in the module `uri` names), that
/// `uri` matches. Never logs in. Throws Error(io) when a module fails.
[[nodiscard]] DPGCERT_API std::vector<TokenInfo> find_tokens(const TokenUri& uri = {});

}  // namespace dpgcert::token
