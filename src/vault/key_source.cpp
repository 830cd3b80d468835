// Master-key sources: key files (created 0600) and passphrases (Argon2id), and the header a store
// keeps to find the key again.
#include "core/file_io.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/vault.hpp>

#include <cerrno>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dpgcert::vault {
namespace {

constexpr std::size_t kSaltSize = 16;
constexpr std::size_t kMaxKeyFile = 4096;

int hex_value(std::byte b) noexcept {
  const auto c = static_cast<char>(b);
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Reads at most kMaxKeyFile bytes into a secret buffer.
SecretBytes read_small_file(const std::filesystem::path& path) {
  return detail::read_secret_file(path, {.limit = kMaxKeyFile, .if_missing = ErrorCode::not_found, .what = "key file"});
}

std::filesystem::path absolute_path(const std::filesystem::path& p) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(p, ec);
  return ec ? p : abs.lexically_normal();
}

}  // namespace

MasterKey MasterKey::read_key_file(const std::filesystem::path& path) {
  const SecretBytes content = read_small_file(path);
  if (content.size() == key_size) return from_bytes(content.bytes());
  // 64 hex digits, optionally followed by "\n" or "\r\n".
  std::size_t n = content.size();
  if (n > 0 && content.data()[n - 1] == std::byte{'\n'}) --n;
  if (n > 0 && content.data()[n - 1] == std::byte{'\r'}) --n;
  if (n == 2 * key_size) {
    SecretBytes key = SecretBytes::zeroed(key_size);
    bool ok = true;
    for (std::size_t i = 0; i < key_size && ok; ++i) {
      const int hi = hex_value(content.data()[2 * i]);
      const int lo = hex_value(content.data()[2 * i + 1]);
      ok = hi >= 0 && lo >= 0;
      if (ok) key.data()[i] = static_cast<std::byte>(hi * 16 + lo);
    }
    if (ok) return MasterKey(std::move(key));
  }
  throw Error(ErrorCode::malformed, "vault: key file '" + path.string() +
                                        "' must hold exactly 32 bytes or 64 hexadecimal digits");
}

MasterKey MasterKey::create_key_file(const std::filesystem::path& path) {
  MasterKey key = generate();
  detail::create_file(path, key.bytes().bytes(), {.mode = 0600, .what = "key file"});
  return key;
}

std::string_view to_string(KeySourceKind kind) noexcept {
  return kind == KeySourceKind::key_file ? "key_file" : "passphrase";
}

std::optional<KeySourceKind> parse_key_source_kind(std::string_view text) noexcept {
  if (text == "key_file") return KeySourceKind::key_file;
  if (text == "passphrase") return KeySourceKind::passphrase;
  return std::nullopt;
}

KeySource KeySource::key_file(std::filesystem::path path) {
  if (path.empty()) throw Error(ErrorCode::invalid_argument, "vault: the key file path is empty");
  KeySource s;
  s.kind_ = KeySourceKind::key_file;
  s.path_ = std::move(path);
  return s;
}

KeySource KeySource::passphrase(SecretBytes passphrase, Argon2Params params) {
  if (passphrase.empty()) throw Error(ErrorCode::invalid_argument, "vault: the passphrase is empty");
  KeySource s;
  s.kind_ = KeySourceKind::passphrase;
  s.passphrase_ = std::move(passphrase);
  s.argon2_ = params;
  return s;
}

EstablishedKey establish_master_key(const KeySource& source) {
  KeyHeader header;
  header.kind = source.kind();
  if (source.kind() == KeySourceKind::key_file) {
    const auto path = absolute_path(source.path());
    header.key_file = path.string();
    std::error_code ec;
    const bool exists = std::filesystem::exists(std::filesystem::symlink_status(path, ec));
    MasterKey key = exists ? MasterKey::read_key_file(path) : MasterKey::create_key_file(path);
    header.check = key.check_value();
    return {std::move(key), std::move(header)};
  }
  header.argon2 = source.argon2();
  header.salt = random_bytes(kSaltSize);
  MasterKey key = MasterKey::from_passphrase(source.passphrase_bytes(), header.salt, header.argon2);
  header.check = key.check_value();
  return {std::move(key), std::move(header)};
}

MasterKey unlock_master_key(const KeyHeader& header, const Unlock& unlock) {
  if (header.kind == KeySourceKind::key_file) {
    const std::filesystem::path path = unlock.key_file ? *unlock.key_file : std::filesystem::path(header.key_file);
    if (path.empty()) throw Error(ErrorCode::invalid_argument, "vault: no key file is known for this store");
    MasterKey key = MasterKey::read_key_file(path);
    if (!key.matches(header.check)) {
      throw Error(ErrorCode::bad_password, "vault: the key file '" + path.string() +
                                               "' does not hold this store's master key");
    }
    return key;
  }
  if (!unlock.passphrase || unlock.passphrase->empty()) {
    throw Error(ErrorCode::invalid_argument,
                "vault: this store's master key comes from a passphrase, and none was given");
  }
  MasterKey key = MasterKey::from_passphrase(*unlock.passphrase, header.salt, header.argon2);
  if (!key.matches(header.check)) {
    throw Error(ErrorCode::bad_password, "vault: the passphrase does not open this store (wrong passphrase)");
  }
  return key;
}

}  // namespace dpgcert::vault
