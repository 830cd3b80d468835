#include <dpgcert/error.hpp>
#include <dpgcert/secret.hpp>

#include <openssl/crypto.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

#include <sys/mman.h>
#include <unistd.h>

namespace dpgcert {
namespace {

std::size_t page_size() noexcept {
  static const std::size_t size = [] {
    const long n = ::sysconf(_SC_PAGESIZE);
    return n > 0 ? static_cast<std::size_t>(n) : std::size_t{4096};
  }();
  return size;
}

std::size_t rounded_to_pages(std::size_t n) noexcept {
  const std::size_t page = page_size();
  return (n + page - 1) / page * page;
}

/// Single secret pages given back, already wiped and still left out of core dumps, kept for the
/// next secret: most secrets (passwords, keys, a PKCS#12 file's bags) fit in one page, and an
/// import makes and drops a dozen of them, each otherwise costing two madvise() system calls.
/// Never destroyed (a secret may be released during static destruction).
class PagePool {
 public:
  void* take() noexcept {
    std::lock_guard lock(mu_);
    return count_ == 0 ? nullptr : pages_[--count_];
  }
  bool give(void* page) noexcept {
    std::lock_guard lock(mu_);
    if (count_ == pages_.size()) return false;
    pages_[count_++] = page;
    return true;
  }

 private:
  std::mutex mu_;
  std::array<void*, 64> pages_{};
  std::size_t count_ = 0;
};

PagePool& page_pool() noexcept {
  static PagePool* pool = new PagePool;  // NOLINT(cppcoreguidelines-owning-memory): never destroyed, see above
  return *pool;
}

/// `size` zeroed bytes in whole pages of their own, left out of core dumps (MADV_DONTDUMP): a
/// secret never shares a page with other data, so the mark covers it exactly.
std::byte* allocate_secret(std::size_t size) {
  const std::size_t total = rounded_to_pages(size);
  if (total == page_size()) {
    if (void* p = page_pool().take()) {
      std::memset(p, 0, total);
      return static_cast<std::byte*>(p);
    }
  }
  void* p = std::aligned_alloc(page_size(), total);
  if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_DONTDUMP
  (void)::madvise(p, total, MADV_DONTDUMP);  // best effort: a kernel without it still wipes
#endif
  std::memset(p, 0, total);
  return static_cast<std::byte*>(p);
}

void release_secret(std::byte* p, std::size_t size) noexcept {
  const std::size_t total = rounded_to_pages(size);
  secure_wipe({p, total});
  if (total == page_size() && page_pool().give(p)) return;  // wiped, still out of core dumps
#ifdef MADV_DODUMP
  (void)::madvise(p, total, MADV_DODUMP);  // the pages go back to the heap for ordinary data
#endif
  std::free(p);
}

}  // namespace

void secure_wipe(std::span<std::byte> bytes) noexcept {
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
}

SecretBytes::SecretBytes(std::span<const std::byte> data) {
  if (data.empty()) return;
  data_ = allocate_secret(data.size());
  size_ = data.size();
  std::memcpy(data_, data.data(), size_);
}

SecretBytes SecretBytes::from_text(std::string_view text) {
  return SecretBytes(std::as_bytes(std::span(text.data(), text.size())));
}

SecretBytes SecretBytes::zeroed(std::size_t size) {
  SecretBytes s;
  if (size == 0) return s;
  s.data_ = allocate_secret(size);
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
  if (data_ != nullptr) release_secret(data_, size_);
  data_ = nullptr;
  size_ = 0;
}

}  // namespace dpgcert
