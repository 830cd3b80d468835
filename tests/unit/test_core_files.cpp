// The core's private plumbing: the bounded file reader, the exclusive/atomic writer, the DER reader.
#include "core/der.hpp"
#include "core/file_io.hpp"
#include "support/test_support.hpp"

#include <doctest/doctest.h>

#include <array>
#include <csignal>
#include <filesystem>
#include <ostream>
#include <stdexcept>
#include <string>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace dpgcert;
namespace fs = std::filesystem;
using test::code_of;
using test::TempDir;

namespace {

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

std::string text_of(std::span<const std::byte> b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

/// Sets the umask for the object's lifetime.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;
  ~ScopedUmask() { ::umask(old_); }

 private:
  mode_t old_;
};

/// The names in a folder (to see that no temporary file is left behind).
std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_SUITE("core files") {
  TEST_CASE("read_file: whole regular files up to the limit, folders and missing files refused") {
    TempDir dir;
    const fs::path file = dir.path() / "data.bin";
    test::write_text(file, "0123456789");
    CHECK(text_of(detail::read_file(file, {.limit = 10})) == "0123456789");
    CHECK(code_of([&] { (void)detail::read_file(file, {.limit = 9}); }) == ErrorCode::limit_exceeded);
    test::write_text(dir.path() / "empty", "");
    CHECK(detail::read_file(dir.path() / "empty", {.limit = 0}).empty());

    // A missing file is Error(io) unless the caller says otherwise; a folder is never a file.
    CHECK(code_of([&] { (void)detail::read_file(dir.path() / "absent", {.limit = 10}); }) == ErrorCode::io);
    CHECK(code_of([&] {
            (void)detail::read_file(dir.path() / "absent", {.limit = 10, .if_missing = ErrorCode::not_found});
          }) == ErrorCode::not_found);
    CHECK(code_of([&] { (void)detail::read_file(dir.path() / "no" / "such", {.limit = 10}); }) == ErrorCode::io);
    CHECK(code_of([&] { (void)detail::read_file(dir.path(), {.limit = 1 << 20}); }) == ErrorCode::io);

    // Reading follows a symbolic link; a FIFO is refused at once (no open() that waits for a writer).
    fs::create_symlink(file, dir.path() / "link");
    CHECK(text_of(detail::read_file(dir.path() / "link", {.limit = 10})) == "0123456789");
    REQUIRE(::mkfifo((dir.path() / "fifo").c_str(), 0600) == 0);
    CHECK(code_of([&] { (void)detail::read_file(dir.path() / "fifo", {.limit = 10}); }) == ErrorCode::io);
  }

  TEST_CASE("read_file: the message names the file and the limit, never the content") {
    TempDir dir;
    const fs::path file = dir.path() / "secret.key";
    test::write_text(file, "hunter2hunter2");
    try {
      (void)detail::read_secret_file(file, {.limit = 4, .what = "key file"});
      FAIL("expected an error");
    } catch (const Error& e) {
      const std::string what = e.what();
      CHECK(e.code() == ErrorCode::limit_exceeded);
      CHECK(what.find("key file '" + file.string() + "'") != std::string::npos);
      CHECK(what.find("limit of 4") != std::string::npos);
      CHECK(what.find("hunter2") == std::string::npos);
    }
  }

  TEST_CASE("read_secret_file: the same rules, into a secret buffer") {
    TempDir dir;
    const fs::path file = dir.path() / "pw";
    test::write_text(file, "Test1234\n");
    CHECK(detail::read_secret_file(file, {.limit = 9}).view() == "Test1234\n");
    CHECK(code_of([&] { (void)detail::read_secret_file(file, {.limit = 8}); }) == ErrorCode::limit_exceeded);
    CHECK(code_of([&] {
            (void)detail::read_secret_file(dir.path() / "absent", {.limit = 8, .if_missing = ErrorCode::not_found});
          }) == ErrorCode::not_found);
    CHECK(code_of([&] { (void)detail::read_secret_file(dir.path(), {.limit = 1 << 20}); }) == ErrorCode::io);
  }

  TEST_CASE("create_file: exclusive, with exactly the mode asked for whatever the umask") {
    TempDir dir;
    {
      const ScopedUmask mask(0077);
      detail::create_file(dir.path() / "a", bytes_of("alpha"), {.mode = 0644});
    }
    CHECK(mode_of(dir.path() / "a") == 0644);
    {
      const ScopedUmask mask(0);
      detail::create_file(dir.path() / "b", bytes_of("beta"), {.mode = 0600});
    }
    CHECK(mode_of(dir.path() / "b") == 0600);
    CHECK(test::read_text(dir.path() / "a") == "alpha");
    detail::create_file(dir.path() / "empty", {}, {});
    CHECK(fs::file_size(dir.path() / "empty") == 0);

    // Never replaces: the old content stays.
    CHECK(code_of([&] { detail::create_file(dir.path() / "a", bytes_of("other"), {}); }) == ErrorCode::conflict);
    CHECK(test::read_text(dir.path() / "a") == "alpha");
    CHECK_FALSE(detail::try_create_file(dir.path() / "a", bytes_of("other"), {}));
    CHECK(test::read_text(dir.path() / "a") == "alpha");
    CHECK(detail::try_create_file(dir.path() / "c", bytes_of("gamma"), {}));
    CHECK(test::read_text(dir.path() / "c") == "gamma");

    // A missing folder: Error(io) unless the caller says otherwise.
    CHECK(code_of([&] { detail::create_file(dir.path() / "no" / "x", {}, {}); }) == ErrorCode::io);
    CHECK(code_of([&] { detail::create_file(dir.path() / "no" / "x", {}, {.if_missing = ErrorCode::not_found}); }) ==
          ErrorCode::not_found);
  }

  TEST_CASE("create_file never follows a symbolic link, dangling or not") {
    TempDir dir;
    const fs::path target = dir.path() / "target";
    test::write_text(target, "keep");
    fs::create_symlink(target, dir.path() / "to-file");
    fs::create_symlink(dir.path() / "nowhere", dir.path() / "dangling");

    CHECK(code_of([&] { detail::create_file(dir.path() / "to-file", bytes_of("evil"), {}); }) == ErrorCode::conflict);
    CHECK(test::read_text(target) == "keep");
    CHECK(code_of([&] { detail::create_file(dir.path() / "dangling", bytes_of("evil"), {}); }) == ErrorCode::conflict);
    CHECK_FALSE(fs::exists(dir.path() / "nowhere"));
    CHECK_FALSE(detail::try_create_file(dir.path() / "dangling", bytes_of("evil"), {}));
    CHECK_FALSE(fs::exists(dir.path() / "nowhere"));
  }

  TEST_CASE("replace_file: a new file or a whole replacement, never a part, no temporary file left") {
    TempDir dir;
    const fs::path file = dir.path() / "metrics.prom";
    detail::replace_file(file, bytes_of("one\n"), {.mode = 0644});
    CHECK(test::read_text(file) == "one\n");
    {
      const ScopedUmask mask(0077);
      detail::replace_file(file, bytes_of("two\n"), {.mode = 0644});
    }
    CHECK(test::read_text(file) == "two\n");
    CHECK(mode_of(file) == 0644);
    detail::replace_file(file, [](std::ostream& out) { out << "three" << '\n'; }, {.mode = 0600});
    CHECK(test::read_text(file) == "three\n");
    CHECK(mode_of(file) == 0600);
    CHECK(names_in(dir.path()) == std::vector<std::string>{"metrics.prom"});

    // Large content made piecewise goes through the stream's buffer whole.
    const std::string line(1000, 'x');
    detail::replace_file(file, [&](std::ostream& out) { for (int i = 0; i < 100; ++i) out << line << '\n'; }, {});
    CHECK(fs::file_size(file) == 100 * 1001);

    // A symbolic link at the path is replaced itself; what it pointed to is untouched.
    const fs::path target = dir.path() / "target";
    test::write_text(target, "keep");
    fs::create_symlink(target, dir.path() / "link");
    detail::replace_file(dir.path() / "link", bytes_of("new"), {});
    CHECK(test::read_text(target) == "keep");
    CHECK_FALSE(fs::is_symlink(dir.path() / "link"));
    CHECK(test::read_text(dir.path() / "link") == "new");

    CHECK(code_of([&] { detail::replace_file(dir.path() / "no" / "x", bytes_of("x"), {}); }) == ErrorCode::io);
    CHECK(code_of([&] {
            detail::replace_file(dir.path() / "no" / "x", bytes_of("x"), {.if_missing = ErrorCode::not_found});
          }) == ErrorCode::not_found);
  }

  TEST_CASE("replace_file: on failure the old content stays and the temporary file is removed") {
    TempDir dir;
    const fs::path file = dir.path() / "state";
    detail::replace_file(file, bytes_of("old"), {});

    SUBCASE("the writer throws") {
      CHECK_THROWS_AS(detail::replace_file(
                          file, [](std::ostream& out) { out << "half"; throw std::runtime_error("stop"); }, {}),
                      std::runtime_error);
    }
    SUBCASE("the writer leaves the stream failed") {
      CHECK(code_of([&] { detail::replace_file(file, [](std::ostream& out) { out.setstate(std::ios::badbit); }, {}); }) ==
            ErrorCode::io);
    }
    SUBCASE("a write fails (file size limit)") {
      const std::string big(4096, 'n');
      struct rlimit old {};
      REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
      struct rlimit small = old;
      small.rlim_cur = 64;
      const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
      REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
      const ErrorCode code = code_of([&] { detail::replace_file(file, bytes_of(big), {}); });
      ::setrlimit(RLIMIT_FSIZE, &old);
      std::signal(SIGXFSZ, old_handler);
      CHECK(code == ErrorCode::io);
    }
    CHECK(test::read_text(file) == "old");
    CHECK(names_in(dir.path()) == std::vector<std::string>{"state"});

    // The rename fails (a folder is in the way): the folder and what it holds stay as they were.
    fs::create_directories(dir.path() / "busy");
    test::write_text(dir.path() / "busy" / "inside", "kept");
    CHECK(code_of([&] { detail::replace_file(dir.path() / "busy", bytes_of("x"), {}); }) == ErrorCode::io);
    CHECK(test::read_text(dir.path() / "busy" / "inside") == "kept");
    CHECK(names_in(dir.path()) == std::vector<std::string>{"busy", "state"});
  }
}

TEST_SUITE("core der") {
  TEST_CASE("element_length, definite and content_of read framing only, and fail softly") {
    using namespace detail::der;
    // SEQUENCE { INTEGER 5, [0] { OCTET STRING 'ab' } } and one trailing byte.
    const std::array<unsigned char, 13> raw{0x30, 0x09, 0x02, 0x01, 0x05, 0xa0, 0x04, 0x04, 0x02, 'a', 'b', 0xff, 0x00};
    const auto all = std::as_bytes(std::span(raw));
    CHECK(element_length(all) == 11);
    CHECK(element_length(all.first(10)) == 0);             // truncated
    CHECK(definite(all.first(11), 32));
    CHECK_FALSE(definite(all.first(11), 1));               // two levels of constructed elements
    CHECK(content_of(all.first(11)).size() == 9);

    Reader r(content_of(all.first(11)));
    const auto integer = r.read_element(kInteger, kUniversal, false);
    REQUIRE(integer);
    CHECK(integer->size() == 3);
    CHECK_FALSE(r.read_element(0, kContextSpecific, false));  // it is constructed
    const auto tagged = r.read(0, kContextSpecific, true);
    REQUIRE(tagged);
    CHECK(text_of(content_of(*tagged)) == "ab");  // read() gives the content: OCTET STRING 'ab'
    CHECK(r.empty());

    // An indefinite length is BER, not DER: no length, and not definite.
    const std::array<unsigned char, 7> ber{0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00};
    CHECK(element_length(std::as_bytes(std::span(ber))) == 0);
    CHECK_FALSE(definite(std::as_bytes(std::span(ber)), 32));
    CHECK(content_of(std::as_bytes(std::span(ber))).empty());
  }
}
