// Key files and store-provided parameters an attacker could have touched: the key file must be
// private to its owner (ssh's rule), random, and not a FIFO; Argon2id costs are capped at what
// dpgcert itself would write.
#include "support/test_support.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/vault.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

using namespace dpgcert;
using namespace dpgcert::vault;
namespace fs = std::filesystem;
using test::code_of;

namespace {

std::string q(const fs::path& p) { return test::shell_quote(p.string()); }

/// 32 bytes that look random enough (32 distinct values).
std::string some_key() {
  std::string k;
  for (int i = 0; i < 32; ++i) k += static_cast<char>(0x11 + 7 * i);
  return k;
}

fs::path key_file(const fs::path& dir, const std::string& name, const std::string& content, mode_t mode) {
  const fs::path p = dir / name;
  test::write_text(p, content);
  REQUIRE(::chmod(p.c_str(), mode) == 0);
  return p;
}

std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST_SUITE("vault") {
  TEST_CASE("a key file readable by group or others is refused, saying how to fix it") {
    test::TempDir dir;
    CHECK_NOTHROW((void)MasterKey::read_key_file(key_file(dir.path(), "ok.key", some_key(), 0600)));
    CHECK_NOTHROW((void)MasterKey::read_key_file(key_file(dir.path(), "ro.key", some_key(), 0400)));
    for (const mode_t mode : {0644, 0640, 0666, 0604, 0660, 0610}) {
      CAPTURE(mode);
      std::string name = "k";  // appended: GCC 12 -O3 sees a false -Wrestrict in "k" + string&&
      name += std::to_string(mode);
      name += ".key";
      const fs::path p = key_file(dir.path(), name, some_key(), mode);
      CHECK(code_of([&] { (void)MasterKey::read_key_file(p); }) == ErrorCode::invalid_argument);
      const std::string m = message_of([&] { (void)MasterKey::read_key_file(p); });
      CHECK(m.find("chmod 600 '" + p.string() + "'") != std::string::npos);
    }
    // A symbolic link to a world-readable file: what counts is the file read.
    const fs::path target = key_file(dir.path(), "public.key", some_key(), 0644);
    fs::create_symlink(target, dir.path() / "link.key");
    CHECK(code_of([&] { (void)MasterKey::read_key_file(dir.path() / "link.key"); }) == ErrorCode::invalid_argument);
  }

  TEST_CASE("a key file owned by another user is refused") {
    if (::geteuid() != 0) {
      MESSAGE("skipped: needs root to give a file to another user");
      return;
    }
    test::TempDir dir;
    const fs::path p = key_file(dir.path(), "theirs.key", some_key(), 0600);
    REQUIRE(::chown(p.c_str(), 65534, 65534) == 0);
    CHECK(code_of([&] { (void)MasterKey::read_key_file(p); }) == ErrorCode::invalid_argument);
    CHECK(message_of([&] { (void)MasterKey::read_key_file(p); }).find("owned by uid 65534") != std::string::npos);
  }

  TEST_CASE("an all-zero or patterned key is refused as not random") {
    test::TempDir dir;
    for (const std::string& content :
         {std::string(32, '\0'), std::string(32, 'A'), std::string(64, '0') + "\n", std::string("0123456789abcdef") + "0123456789abcdef"}) {
      const fs::path p = key_file(dir.path(), "weak.key", content, 0600);
      CHECK(code_of([&] { (void)MasterKey::read_key_file(p); }) == ErrorCode::malformed);
      fs::remove(p);
    }
  }

  TEST_CASE("a FIFO in place of the key file is refused at once, not waited on") {
    test::TempDir dir;
    const fs::path fifo = dir.path() / "fifo.key";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(code_of([&] { (void)MasterKey::read_key_file(fifo); }) == ErrorCode::io);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
  }

  TEST_CASE("Argon2id costs are capped at what dpgcert writes: a doctored store cannot stall an unlock") {
    const std::vector<std::byte> salt(16, std::byte{7});
    for (const Argon2Params& p : {Argon2Params{4u * 1024 * 1024, 63, 1}, Argon2Params{2u * 1024 * 1024, 1, 1},
                                  Argon2Params{256u * 1024, 4, 1}, Argon2Params{8, 17, 1}, Argon2Params{1024, 1, 17}}) {
      CAPTURE(p.memory_kib);
      CAPTURE(p.iterations);
      const auto t0 = std::chrono::steady_clock::now();
      CHECK(code_of([&] { (void)MasterKey::from_passphrase(test::pw("x"), salt, p); }) == ErrorCode::limit_exceeded);
      CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1));
    }
    CHECK_NOTHROW((void)MasterKey::from_passphrase(test::pw("x"), salt, Argon2Params::for_tests()));
    CHECK(Argon2Params::defaults().memory_kib * std::uint64_t{Argon2Params::defaults().iterations} <= max_argon2_cost_kib);
  }
}

TEST_SUITE("cli store") {
  TEST_CASE("store init refuses an existing key file others can read, and a passphrase in an inherited variable") {
    DPGCERT_REQUIRE_TOOL();
    test::TempDir dir;
    const fs::path key = key_file(dir.path(), "shared.key", some_key(), 0644);
    const auto r = test::run_tool("--store " + q(dir.path() / "s.db") + " store init --key-file " + q(key));
    CHECK(r.exit_code == 64);
    CHECK(r.err.find("chmod 600") != std::string::npos);
    CHECK_FALSE(fs::exists(dir.path() / "s.db"));
    REQUIRE(::chmod(key.c_str(), 0600) == 0);
    CHECK(test::run_tool("--store " + q(dir.path() / "s.db") + " store init --key-file " + q(key)).exit_code == 0);

    const test::ScopedEnv lc("LC_STORE_PW", std::string("correct horse battery"));
    const auto pw = test::run_tool("--store " + q(dir.path() / "p.db") + " store init --passphrase-env LC_STORE_PW");
    CHECK(pw.exit_code == 64);
    CHECK(pw.err.find("command hooks inherit") != std::string::npos);
  }
}
