#include "core/file_io.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ostream>
#include <streambuf>
#include <string>

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dpgcert::detail {
namespace {

/// Closes a file descriptor when it goes out of scope.
class Fd final {
 public:
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd& operator=(Fd&&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const noexcept { return fd_; }
  /// Closes now; returns the errno of a failed close, or 0.
  [[nodiscard]] int close() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

/// "key file '/etc/x.key'" (or "'/etc/x'" when `what` is empty).
std::string named(std::string_view what, const std::filesystem::path& path) {
  std::string out(what);
  if (!out.empty()) out += ' ';
  out += '\'';
  out += path.string();
  out += '\'';
  return out;
}

[[noreturn]] void fail(ErrorCode code, std::string_view verb, std::string_view what, const std::filesystem::path& path,
                       int err) {
  std::string message = "cannot ";
  message += verb;
  message += ' ';
  message += named(what, path);
  message += ": ";
  message += std::strerror(err);
  throw Error(code, message);
}

/// ssh's rule for a private key file: owned by this user or root, no access for group or others.
void check_private(const struct stat& st, const std::filesystem::path& path, const ReadFileOptions& options) {
  const uid_t me = ::geteuid();
  if (st.st_uid != me && st.st_uid != 0) {
    throw Error(ErrorCode::invalid_argument,
                named(options.what, path) + " is owned by uid " + std::to_string(st.st_uid) +
                    ", not by this user (uid " + std::to_string(me) + ") or root: it could have been replaced; "
                    "give it to this user: chown " + std::to_string(me) + " '" + path.string() + "'");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw Error(ErrorCode::invalid_argument, named(options.what, path) + " is accessible by others (mode " + mode +
                                                 "): it must be private to its owner; run: chmod 600 '" +
                                                 path.string() + "'");
  }
}

/// Opens a regular file for reading and returns it with its size; throws as read_file() says.
Fd open_regular(const std::filesystem::path& path, const ReadFileOptions& options, std::size_t& size) {
  // O_NONBLOCK: a FIFO must not block the open; it is refused below like every non-regular file.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    const int err = errno;
    fail(err == ENOENT ? options.if_missing : ErrorCode::io, "read", options.what, path, err);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail(ErrorCode::io, "read", options.what, path, errno);
  if (!S_ISREG(st.st_mode)) {
    throw Error(ErrorCode::io, "cannot read " + named(options.what, path) + ": not a regular file");
  }
  if (options.private_file) check_private(st, path, options);
  const auto file_size = static_cast<std::uintmax_t>(st.st_size);
  if (file_size > options.limit) {
    throw Error(ErrorCode::limit_exceeded, named(options.what, path) + " is " + std::to_string(file_size) +
                                               " bytes, more than the limit of " + std::to_string(options.limit));
  }
  size = static_cast<std::size_t>(file_size);
  return fd;
}

/// Reads until `buf` is full or the file ends; returns how much was read. A file that grew past the
/// limit while it was read is refused.
std::size_t read_into(const Fd& fd, std::span<std::byte> buf, const std::filesystem::path& path,
                      const ReadFileOptions& options) {
  std::size_t n = 0;
  while (n < buf.size()) {
    const ssize_t r = ::read(fd.get(), buf.data() + n, buf.size() - n);
    if (r < 0) {
      if (errno == EINTR) continue;
      fail(ErrorCode::io, "read", options.what, path, errno);
    }
    if (r == 0) break;
    n += static_cast<std::size_t>(r);
  }
  if (n > options.limit) {
    throw Error(ErrorCode::limit_exceeded, named(options.what, path) + " grew past the limit of " +
                                               std::to_string(options.limit) + " bytes while it was read");
  }
  return n;
}

/// Writes all of `data`; returns 0 or the errno of the failed write.
int write_all(int fd, std::span<const std::byte> data) noexcept {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t w = ::write(fd, data.data() + off, data.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    off += static_cast<std::size_t>(w);
  }
  return 0;
}

/// Gives the file `mode`, writes all of `data` and flushes it; returns the errno and the step that
/// failed, or 0.
int fill(int fd, std::span<const std::byte> data, mode_t mode, const char*& step) noexcept {
  step = "protect";
  // The umask can only narrow the mode given to open(); fchmod sets it exactly.
  if (::fchmod(fd, mode) != 0) return errno;
  step = "write";
  if (const int err = write_all(fd, data); err != 0) return err;
  step = "flush";
  return ::fsync(fd) == 0 ? 0 : errno;
}

/// A buffered output stream buffer over a file descriptor; remembers the first write error.
class FdStreamBuf final : public std::streambuf {
 public:
  explicit FdStreamBuf(int fd) noexcept : fd_(fd) { setp(buf_.data(), buf_.data() + buf_.size()); }
  [[nodiscard]] int error() const noexcept { return err_; }

 protected:
  int_type overflow(int_type ch) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  bool drain() noexcept {
    if (err_ == 0) {
      err_ = write_all(fd_, std::as_bytes(std::span(pbase(), static_cast<std::size_t>(pptr() - pbase()))));
    }
    setp(buf_.data(), buf_.data() + buf_.size());
    return err_ == 0;
  }

  int fd_;
  int err_ = 0;
  std::array<char, 16384> buf_{};
};

std::filesystem::path folder_of(const std::filesystem::path& path) {
  return path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
}

/// Flushes a folder, so that a new name in it reaches the disk (best effort).
void sync_folder(const std::filesystem::path& dir) noexcept {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
}

constexpr int kExclusive = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;

/// Fills a file just created exclusively at `path`, closes it; removes it and throws on failure.
void fill_or_remove(Fd& fd, const std::filesystem::path& path, std::span<const std::byte> data,
                    const WriteFileOptions& options) {
  const char* step = "";
  int err = fill(fd.get(), data, options.mode, step);
  if (err == 0) {
    step = "flush";
    err = fd.close();
  }
  if (err != 0) {
    ::unlink(path.c_str());
    fail(ErrorCode::io, step, options.what, path, err);
  }
}

bool create(const std::filesystem::path& path, std::span<const std::byte> data, const WriteFileOptions& options,
            bool exists_is_error) {
  Fd fd(::open(path.c_str(), kExclusive, options.mode));
  if (fd.get() < 0) {
    const int err = errno;
    if (err == EEXIST && !exists_is_error) return false;
    if (err == EEXIST) {
      throw Error(ErrorCode::conflict, "cannot create " + named(options.what, path) + ": it already exists");
    }
    fail(err == ENOENT ? options.if_missing : ErrorCode::io, "create", options.what, path, err);
  }
  fill_or_remove(fd, path, data, options);
  sync_folder(folder_of(path));
  return true;
}

}  // namespace

std::vector<std::byte> read_file(const std::filesystem::path& path, const ReadFileOptions& options) {
  std::size_t size = 0;
  const Fd fd = open_regular(path, options, size);
  std::vector<std::byte> data(size + 1);  // one more: a file that grew is seen
  data.resize(read_into(fd, data, path, options));
  return data;
}

SecretBytes read_secret_file(const std::filesystem::path& path, const ReadFileOptions& options) {
  std::size_t size = 0;
  const Fd fd = open_regular(path, options, size);
  SecretBytes buf = SecretBytes::zeroed(size + 1);
  const std::size_t n = read_into(fd, buf.mutable_bytes(), path, options);
  return SecretBytes(buf.bytes().first(n));
}

void create_file(const std::filesystem::path& path, std::span<const std::byte> data, const WriteFileOptions& options) {
  (void)create(path, data, options, true);
}

bool try_create_file(const std::filesystem::path& path, std::span<const std::byte> data,
                     const WriteFileOptions& options) {
  return create(path, data, options, false);
}

void replace_file(const std::filesystem::path& path, const std::function<void(std::ostream&)>& write,
                  const WriteFileOptions& options) {
  static std::atomic<unsigned> counter{0};
  const std::filesystem::path dir = folder_of(path);
  // Hidden, beside the target (a rename within one file system), unique per process and call, and
  // unpredictable: created exclusively without following links, so a name planted in advance
  // could only make the write fail, and a random part leaves nothing to plant.
  std::uint64_t nonce = 0;
  if (::getrandom(&nonce, sizeof nonce, 0) != static_cast<ssize_t>(sizeof nonce)) nonce = 0;
  char random_part[17];
  std::snprintf(random_part, sizeof random_part, "%016llx", static_cast<unsigned long long>(nonce));
  std::string tmp_name(1, '.');
  tmp_name += path.filename().string();
  tmp_name += ".tmp.";
  tmp_name += std::to_string(::getpid());
  tmp_name += '.';
  tmp_name += std::to_string(counter.fetch_add(1));
  tmp_name += '.';
  tmp_name += random_part;
  const std::filesystem::path tmp = dir / tmp_name;
  Fd fd(::open(tmp.c_str(), kExclusive, options.mode));
  if (fd.get() < 0) {
    const int err = errno;
    fail(err == ENOENT ? options.if_missing : ErrorCode::io, "create a temporary file for", options.what, path, err);
  }
  try {
    if (::fchmod(fd.get(), options.mode) != 0) fail(ErrorCode::io, "protect", options.what, tmp, errno);
    FdStreamBuf buf(fd.get());
    std::ostream out(&buf);
    write(out);
    out.flush();
    if (buf.error() != 0) fail(ErrorCode::io, "write", options.what, tmp, buf.error());
    if (!out) throw Error(ErrorCode::io, "cannot write " + named(options.what, tmp));
    if (::fsync(fd.get()) != 0) fail(ErrorCode::io, "flush", options.what, tmp, errno);
    if (const int err = fd.close(); err != 0) fail(ErrorCode::io, "flush", options.what, tmp, err);
    if (::rename(tmp.c_str(), path.c_str()) != 0) fail(ErrorCode::io, "replace", options.what, path, errno);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  sync_folder(dir);
}

void replace_file(const std::filesystem::path& path, std::span<const std::byte> data, const WriteFileOptions& options) {
  const auto write = [&](std::ostream& out) {
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  };
  replace_file(path, write, options);
}

}  // namespace dpgcert::detail
