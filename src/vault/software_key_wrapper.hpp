// The software key wrapper: AES-256-GCM under a master key held in memory (from a key file or a
// passphrase). Private to the vault layer.
#pragma once

#include <dpgcert/key_wrapper.hpp>
#include <dpgcert/vault.hpp>

#include <string>

namespace dpgcert::vault {

/// Wraps keys with AES-256-GCM under `key`, in the format stores have always used: version byte,
/// 12-byte nonce, the key, 16-byte tag; the associated data is "dpgcert-vault-v1/<context>".
/// Takes keys of 16 or 32 bytes.
class SoftwareKeyWrapper final : public KeyWrapper {
 public:
  SoftwareKeyWrapper(MasterKey key, std::string kind, std::string params, std::string label) noexcept
      : key_(std::move(key)), kind_(std::move(kind)), params_(std::move(params)), label_(std::move(label)) {}

  [[nodiscard]] std::string kind() const override { return kind_; }
  [[nodiscard]] std::string describe() const override { return params_; }
  [[nodiscard]] std::string label() const override { return label_; }
  [[nodiscard]] std::vector<std::byte> wrap(std::span<const std::byte> key, std::string_view context) const override;
  [[nodiscard]] SecretBytes unwrap(std::span<const std::byte> wrapped, std::string_view context) const override;

 private:
  MasterKey key_;
  std::string kind_;
  std::string params_;
  std::string label_;
};

/// Kind "key_file": a 32-byte key in a file (settings and params {"path": absolute path}).
[[nodiscard]] KeyWrapperFactory key_file_wrapper_factory();
/// Kind "passphrase": Argon2id of a passphrase (settings {"memory_kib", "iterations",
/// "parallelism"}; params the same with "algorithm": "argon2id" and "salt" as hex).
[[nodiscard]] KeyWrapperFactory passphrase_wrapper_factory();

}  // namespace dpgcert::vault
