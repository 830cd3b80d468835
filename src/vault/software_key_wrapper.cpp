// The software key wrapper and its two kinds, "key_file" and "passphrase".
#include "vault/software_key_wrapper.hpp"

#include "vault/aead.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/x509.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <limits>

namespace dpgcert::vault {
namespace {

using nlohmann::json;

constexpr std::size_t kSaltSize = 16;

std::string ad_of(std::string_view context) {
  std::string out = "dpgcert-vault-v1/";
  out += context;
  return out;
}

bool wrappable(std::size_t n) noexcept { return n == 16 || n == 32; }

/// `text` as a JSON object; Error(`code`) otherwise.
json object_of(std::string_view text, ErrorCode code, std::string_view what) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) throw Error(code, "vault: the " + std::string(what) + " are not a JSON object");
  return j;
}

std::string text_of(const json& j) {
  try {
    return j.dump();
  } catch (const json::exception&) {
    throw Error(ErrorCode::invalid_argument, "vault: a key file path must be valid UTF-8");
  }
}

std::filesystem::path absolute_path(const std::filesystem::path& p) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(p, ec);
  return ec ? p : abs.lexically_normal();
}

std::string key_file_label(const std::filesystem::path& path) { return "the key file '" + path.string() + "'"; }

std::unique_ptr<KeyWrapper> key_file_wrapper(MasterKey key, const std::filesystem::path& path) {
  return std::make_unique<SoftwareKeyWrapper>(std::move(key), "key_file", text_of(json{{"path", path.string()}}),
                                              key_file_label(path));
}

std::uint32_t u32_of(const json& j, const char* name, std::uint32_t fallback, ErrorCode code) {
  if (!j.contains(name)) return fallback;
  const json& v = j[name];
  if (!v.is_number_unsigned() || v.get<std::uint64_t>() > std::numeric_limits<std::uint32_t>::max()) {
    throw Error(code, std::string("vault: Argon2id '") + name + "' must be a whole number");
  }
  return static_cast<std::uint32_t>(v.get<std::uint64_t>());
}

Argon2Params argon2_of(const json& j, ErrorCode code) {
  const Argon2Params d = Argon2Params::defaults();
  return {u32_of(j, "memory_kib", d.memory_kib, code), u32_of(j, "iterations", d.iterations, code),
          u32_of(j, "parallelism", d.parallelism, code)};
}

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::byte> salt_of(const json& j) {
  const std::string hex = j.contains("salt") && j["salt"].is_string() ? j["salt"].get<std::string>() : "";
  if (hex.size() < 2 * kSaltSize || hex.size() % 2 != 0) {
    throw Error(ErrorCode::malformed, "vault: the passphrase parameters hold no valid salt");
  }
  std::vector<std::byte> out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_digit(hex[2 * i]);
    const int lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) throw Error(ErrorCode::malformed, "vault: the passphrase salt is not hexadecimal");
    out[i] = static_cast<std::byte>(hi * 16 + lo);
  }
  return out;
}

std::unique_ptr<KeyWrapper> passphrase_wrapper(const SecretBytes& passphrase, const Argon2Params& p,
                                               const std::vector<std::byte>& salt) {
  MasterKey key = MasterKey::from_passphrase(passphrase, salt, p);
  const json params{{"algorithm", "argon2id"},
                    {"memory_kib", p.memory_kib},
                    {"iterations", p.iterations},
                    {"parallelism", p.parallelism},
                    {"salt", to_hex(salt)}};
  return std::make_unique<SoftwareKeyWrapper>(std::move(key), "passphrase", params.dump(), "the passphrase");
}

}  // namespace

std::vector<std::byte> SoftwareKeyWrapper::wrap(std::span<const std::byte> key, std::string_view context) const {
  if (!wrappable(key.size())) {
    throw Error(ErrorCode::invalid_argument,
                "vault: the software key wrapper takes keys of 16 or 32 bytes, not " + std::to_string(key.size()));
  }
  return aead::gcm_seal(key_.bytes().bytes(), key, ad_of(context));
}

SecretBytes SoftwareKeyWrapper::unwrap(std::span<const std::byte> wrapped, std::string_view context) const {
  if (wrapped.size() < aead::overhead || !wrappable(wrapped.size() - aead::overhead)) {
    throw Error(ErrorCode::malformed, "vault: a wrapped key must be " + std::to_string(aead::overhead + 16) + " or " +
                                          std::to_string(aead::overhead + 32) + " bytes, not " +
                                          std::to_string(wrapped.size()));
  }
  auto key = aead::gcm_open(key_.bytes().bytes(), wrapped, ad_of(context), "the wrapped key");
  if (!key) {
    throw Error(ErrorCode::bad_password,
                "vault: the data key does not unwrap (another master key, or a secret moved from another record)");
  }
  return std::move(*key);
}

KeyWrapperFactory key_file_wrapper_factory() {
  KeyWrapperFactory f;
  f.kind = "key_file";
  f.summary = "a 32-byte master key in a file (mode 0600), made when missing";
  f.establish = [](const KeySource& source) -> std::unique_ptr<KeyWrapper> {
    const json s = object_of(source.settings(), ErrorCode::invalid_argument, "key file settings");
    if (!s.contains("path") || !s["path"].is_string() || s["path"].get<std::string>().empty()) {
      throw Error(ErrorCode::invalid_argument, "vault: a key file source needs a \"path\"");
    }
    const auto path = absolute_path(s["path"].get<std::string>());
    std::error_code ec;
    const bool exists = std::filesystem::exists(std::filesystem::symlink_status(path, ec));
    return key_file_wrapper(exists ? MasterKey::read_key_file(path) : MasterKey::create_key_file(path), path);
  };
  f.reopen = [](std::string_view params, const Unlock& unlock) -> std::unique_ptr<KeyWrapper> {
    const json p = object_of(params, ErrorCode::malformed, "key file parameters");
    std::filesystem::path path;
    if (unlock.key_file) {
      path = *unlock.key_file;
    } else if (p.contains("path") && p["path"].is_string()) {
      path = p["path"].get<std::string>();
    }
    if (path.empty()) throw Error(ErrorCode::invalid_argument, "vault: no key file is known for this store");
    return key_file_wrapper(MasterKey::read_key_file(path), path);
  };
  return f;
}

KeyWrapperFactory passphrase_wrapper_factory() {
  KeyWrapperFactory f;
  f.kind = "passphrase";
  f.summary = "a master key derived from a passphrase with Argon2id";
  f.establish = [](const KeySource& source) -> std::unique_ptr<KeyWrapper> {
    const json s = object_of(source.settings(), ErrorCode::invalid_argument, "passphrase settings");
    if (source.secret().empty()) throw Error(ErrorCode::invalid_argument, "vault: the passphrase is empty");
    return passphrase_wrapper(source.secret(), argon2_of(s, ErrorCode::invalid_argument), random_bytes(kSaltSize));
  };
  f.reopen = [](std::string_view params, const Unlock& unlock) -> std::unique_ptr<KeyWrapper> {
    const json p = object_of(params, ErrorCode::malformed, "passphrase parameters");
    if (!unlock.passphrase || unlock.passphrase->empty()) {
      throw Error(ErrorCode::invalid_argument,
                  "vault: this store's master key comes from a passphrase, and none was given");
    }
    return passphrase_wrapper(*unlock.passphrase, argon2_of(p, ErrorCode::malformed), salt_of(p));
  };
  return f;
}

}  // namespace dpgcert::vault
