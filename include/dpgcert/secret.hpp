// Zeroizing, move-only storage for passwords, keys and decrypted material.
#pragma once

#include <dpgcert/export.hpp>

#include <cstddef>
#include <span>
#include <string_view>

namespace dpgcert {

/// Owns a buffer of secret bytes that is wiped when it is destroyed, moved from or cleared.
///
/// The buffer lives in whole memory pages of its own, marked MADV_DONTDUMP on Linux, so a core dump
/// of the process does not hold it (docs/security.md: what else an embedding program should do).
/// Move-only; never printed. Not thread-safe: one thread owns a secret at a time.
class DPGCERT_API SecretBytes final {
 public:
  SecretBytes() noexcept = default;
  /// Copies `data` into a new secret buffer.
  explicit SecretBytes(std::span<const std::byte> data);
  /// Copies the bytes of `text` (for example a UTF-8 password) into a new secret buffer.
  [[nodiscard]] static SecretBytes from_text(std::string_view text);
  /// A zero-filled buffer of `size` bytes to be written into.
  [[nodiscard]] static SecretBytes zeroed(std::size_t size);

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  /// An explicit copy; secrets are never copied implicitly.
  [[nodiscard]] SecretBytes clone() const;

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::byte* data() noexcept { return data_; }
  [[nodiscard]] const std::byte* data() const noexcept { return data_; }
  [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }
  [[nodiscard]] std::span<std::byte> mutable_bytes() noexcept { return {data_, size_}; }
  /// The bytes viewed as text (for passwords); the view dies with the buffer.
  [[nodiscard]] std::string_view view() const noexcept {
    return {reinterpret_cast<const char*>(data_), size_};
  }

  /// Wipes and releases the buffer.
  void clear() noexcept;

 private:
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

/// Wipes `bytes` in a way the compiler cannot remove.
DPGCERT_API void secure_wipe(std::span<std::byte> bytes) noexcept;

}  // namespace dpgcert
