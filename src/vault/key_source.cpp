// Master-key sources: key files (created 0600), key sources by kind, and establishing and
// re-opening a key wrapper from the header a store keeps.
#include "core/file_io.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/vault.hpp>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dpgcert::vault {
namespace {

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
  return detail::read_secret_file(
      path, {.limit = kMaxKeyFile, .if_missing = ErrorCode::not_found, .what = "key file", .private_file = true});
}

/// A key with fewer than this many distinct byte values is not random (all zero, a repeated
/// pattern, hex digits written as raw bytes): 32 random bytes have about 30 distinct values, 16 or
/// fewer with a probability of about 2^-48.
constexpr std::size_t kMinDistinctBytes = 17;

/// Refuses a key that is obviously not random. Error(malformed).
MasterKey checked(MasterKey key, const std::filesystem::path& path) {
  bool seen[256] = {};
  std::size_t distinct = 0;
  for (const std::byte b : key.bytes().bytes()) {
    if (!seen[std::to_integer<unsigned>(b)]) ++distinct;
    seen[std::to_integer<unsigned>(b)] = true;
  }
  if (distinct < kMinDistinctBytes) {
    throw Error(ErrorCode::malformed, "vault: key file '" + path.string() +
                                          "' does not hold a random key (too few distinct bytes); make a new one "
                                          "with 'dpgcert store init' or 'head -c 32 /dev/urandom'");
  }
  return key;
}

}  // namespace

MasterKey MasterKey::read_key_file(const std::filesystem::path& path) {
  const SecretBytes content = read_small_file(path);
  if (content.size() == key_size) return checked(from_bytes(content.bytes()), path);
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
    if (ok) return checked(MasterKey(std::move(key)), path);
  }
  throw Error(ErrorCode::malformed, "vault: key file '" + path.string() +
                                        "' must hold exactly 32 bytes or 64 hexadecimal digits");
}

MasterKey MasterKey::create_key_file(const std::filesystem::path& path) {
  MasterKey key = generate();
  detail::create_file(path, key.bytes().bytes(), {.mode = 0600, .what = "key file"});
  return key;
}

KeySource KeySource::key_file(const std::filesystem::path& path) {
  if (path.empty()) throw Error(ErrorCode::invalid_argument, "vault: the key file path is empty");
  std::string settings;
  try {
    settings = nlohmann::json{{"path", path.string()}}.dump();
  } catch (const nlohmann::json::exception&) {
    throw Error(ErrorCode::invalid_argument, "vault: a key file path must be valid UTF-8");
  }
  return of("key_file", std::move(settings));
}

KeySource KeySource::passphrase(SecretBytes passphrase, Argon2Params params) {
  if (passphrase.empty()) throw Error(ErrorCode::invalid_argument, "vault: the passphrase is empty");
  const nlohmann::json settings{
      {"memory_kib", params.memory_kib}, {"iterations", params.iterations}, {"parallelism", params.parallelism}};
  return of("passphrase", settings.dump(), std::move(passphrase));
}

KeySource KeySource::pkcs11(std::string_view uri, SecretBytes pin) {
  const token::TokenUri parsed = token::TokenUri::parse(uri);  // refuses PINs and slots in the URI
  return of("pkcs11", nlohmann::json{{"uri", parsed.to_string()}}.dump(), std::move(pin));
}

KeySource KeySource::of(std::string kind, std::string settings, SecretBytes secret) {
  if (kind.empty()) throw Error(ErrorCode::invalid_argument, "vault: a key source needs a kind");
  if (!nlohmann::json::parse(settings, nullptr, false).is_object()) {
    throw Error(ErrorCode::invalid_argument, "vault: the settings of a key source are not a JSON object");
  }
  KeySource s;
  s.kind_ = std::move(kind);
  s.settings_ = std::move(settings);
  s.secret_ = std::move(secret);
  return s;
}

EstablishedKey establish_key(const KeySource& source) {
  std::shared_ptr<const KeyWrapper> wrapper = establish_key_wrapper(source);
  KeyHeader header{wrapper->kind(), wrapper->describe(), wrapper->check_value()};
  return {std::move(wrapper), std::move(header)};
}

std::shared_ptr<const KeyWrapper> open_key(const KeyHeader& header, const Unlock& unlock) {
  std::shared_ptr<const KeyWrapper> wrapper = reopen_key_wrapper(header.kind, header.params, unlock);
  if (!wrapper->matches(header.check)) {
    throw Error(ErrorCode::bad_password, "vault: " + wrapper->label() + " does not open this store's master key");
  }
  return wrapper;
}

}  // namespace dpgcert::vault
