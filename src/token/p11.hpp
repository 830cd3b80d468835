// The PKCS#11 plumbing of the token layer (private): modules loaded and initialised once per
// process through p11-kit, sessions, objects found by URI, errors mapped to ErrorCode. The other
// layers of dpgcert (vault, store) use it; no public header includes it.
#pragma once

#include <dpgcert/error.hpp>
#include <dpgcert/secret.hpp>
#include <dpgcert/token.hpp>

#include <p11-kit/pkcs11.h>

#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dpgcert::token::detail {

/// The name of a return value ("CKR_PIN_INCORRECT"), or its hex value.
[[nodiscard]] std::string rv_name(CK_RV rv);
/// Throws the Error for `rv` (not CKR_OK): CKR_PIN_INCORRECT -> bad_password, CKR_PIN_LOCKED ->
/// locked, CKR_TOKEN_NOT_PRESENT -> not_found, CKR_MECHANISM_INVALID -> unsupported, others io.
/// `what` says what was tried ("log in to token 'T'").
[[noreturn]] void throw_rv(CK_RV rv, std::string_view what);
/// Calls throw_rv() unless `rv` is CKR_OK.
inline void check_rv(CK_RV rv, std::string_view what) {
  if (rv != CKR_OK) throw_rv(rv, what);
}

/// A module loaded and initialised through p11-kit, shared by everything in the process that uses
/// it; finalised once, when the process ends (a static cache holds it).
struct Module {
  CK_FUNCTION_LIST* functions = nullptr;
  std::string file;  ///< Its shared library's file name.
  std::string name;  ///< Its p11-kit registered name, or "".
};

/// The modules a URI points at: the one `module-path=`/`module-name=` names, else every module
/// registered with p11-kit. Throws Error(not_found) when a named module does not load.
[[nodiscard]] std::vector<std::shared_ptr<const Module>> modules_for(const TokenUri& uri);

/// Space-padded PKCS#11 text fields as a string without the padding.
[[nodiscard]] std::string padded(const unsigned char* field, std::size_t size);

/// An attribute read from an object; `present` is false when the token says it has none.
struct AttributeValue {
  bool present = false;
  std::vector<unsigned char> bytes;
};

/// A read-write session on one token, logged in when a PIN was needed. One thread at a time uses
/// it (Token and the key wrapper hold it behind a mutex).
class Session final {
 public:
  Session(std::shared_ptr<const Module> module, CK_SLOT_ID slot, CK_SESSION_HANDLE handle, TokenInfo info) noexcept
      : module_(std::move(module)), slot_(slot), handle_(handle), info_(std::move(info)) {}
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  [[nodiscard]] CK_FUNCTION_LIST& f() const noexcept { return *module_->functions; }
  [[nodiscard]] CK_SESSION_HANDLE handle() const noexcept { return handle_; }
  [[nodiscard]] const TokenInfo& info() const noexcept { return info_; }
  [[nodiscard]] std::mutex& mutex() const noexcept { return mu_; }

  /// Logs in as the user with the PIN from `pin` when the token needs it and it is not logged in.
  void login(const PinSource& pin);

  /// The handles of every object matching `uri`'s object attributes (object=, id=, type=) and
  /// `extra` (e.g. CKA_CLASS). At most `limit` are returned.
  [[nodiscard]] std::vector<CK_OBJECT_HANDLE> find(const TokenUri& uri, std::span<const CK_ATTRIBUTE> extra = {},
                                                   std::size_t limit = 64) const;
  /// Exactly one object matching, else Error(not_found) / Error(conflict) saying `what`.
  [[nodiscard]] CK_OBJECT_HANDLE find_one(const TokenUri& uri, std::span<const CK_ATTRIBUTE> extra,
                                          std::string_view what) const;
  /// Reads one attribute; a sensitive one throws Error(invalid_argument) via throw_rv
  /// (CKR_ATTRIBUTE_SENSITIVE).
  [[nodiscard]] AttributeValue attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) const;
  /// The raw return value of reading `type` (for tests of sensitivity).
  [[nodiscard]] CK_RV probe_attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) const;
  /// A CK_BBOOL attribute; false when absent.
  [[nodiscard]] bool flag(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) const;
  /// Creates an object from a full template; on failure nothing is left behind.
  [[nodiscard]] CK_OBJECT_HANDLE create(std::span<CK_ATTRIBUTE> tmpl, std::string_view what) const;
  /// Destroys an object; never throws (rollback).
  void destroy(CK_OBJECT_HANDLE object) const noexcept;

  /// One-shot C_Encrypt / C_Decrypt / C_Sign with `mechanism` and `key`.
  [[nodiscard]] std::vector<std::byte> encrypt(CK_MECHANISM& mechanism, CK_OBJECT_HANDLE key,
                                               std::span<const std::byte> in) const;
  [[nodiscard]] SecretBytes decrypt(CK_MECHANISM& mechanism, CK_OBJECT_HANDLE key, std::span<const std::byte> in) const;
  [[nodiscard]] std::vector<std::byte> sign(CK_MECHANISM& mechanism, CK_OBJECT_HANDLE key,
                                            std::span<const std::byte> in) const;
  /// C_GenerateKey.
  [[nodiscard]] CK_OBJECT_HANDLE generate_key(CK_MECHANISM& mechanism, std::span<CK_ATTRIBUTE> tmpl) const;

  /// A URI of an object on this token: the token's serial and label, and `id` / `label`.
  [[nodiscard]] std::string object_uri(std::span<const unsigned char> id, std::string_view label,
                                       std::string_view type) const;

 private:
  std::shared_ptr<const Module> module_;
  CK_SLOT_ID slot_;
  CK_SESSION_HANDLE handle_;
  TokenInfo info_;
  mutable std::mutex mu_;
};

/// Finds the one token `uri` names and opens a read-write session on it (not logged in).
/// Throws Error(invalid_argument) when the URI names no token, Error(not_found) when none
/// matches, Error(conflict) when several do.
[[nodiscard]] std::shared_ptr<Session> open_session(const TokenUri& uri);


/// `attr` as a CK_ATTRIBUTE over `value` (no copy).
template <class T>
[[nodiscard]] CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, T& value) noexcept {
  return CK_ATTRIBUTE{type, &value, sizeof(T)};
}
[[nodiscard]] inline CK_ATTRIBUTE attr_bytes(CK_ATTRIBUTE_TYPE type, const void* data, std::size_t n) noexcept {
  return CK_ATTRIBUTE{type, const_cast<void*>(data), n};
}

}  // namespace dpgcert::token::detail

namespace dpgcert::token {
/// The shared state behind a Token.
struct Token::Impl {
  std::shared_ptr<detail::Session> session;
};
}  // namespace dpgcert::token
