#include <dpgcert/error.hpp>
#include <dpgcert/secret.hpp>

#include <openssl/crypto.h>

#include <cstring>
#include <new>

namespace dpgcert {

void secure_wipe(std::span<std::byte> bytes) noexcept {
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
}

SecretBytes::SecretBytes(std::span<const std::byte> data) {
  if (data.empty()) return;
  data_ = new std::byte[data.size()];
  size_ = data.size();
  std::memcpy(data_, data.data(), size_);
}

SecretBytes SecretBytes::from_text(std::string_view text) {
  return SecretBytes(std::as_bytes(std::span(text.data(), text.size())));
}

SecretBytes SecretBytes::zeroed(std::size_t size) {
  SecretBytes s;
  if (size == 0) return s;
  s.data_ = new std::byte[size]();
  s.size_ = size;
  return s;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    clear();
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

SecretBytes::~SecretBytes() { clear(); }

SecretBytes SecretBytes::clone() const { return SecretBytes(bytes()); }

void SecretBytes::clear() noexcept {
  if (data_ != nullptr) {
    secure_wipe({data_, size_});
    delete[] data_;
  }
  data_ = nullptr;
  size_ = 0;
}

}  // namespace dpgcert
