#include "support/test_support.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/vault.hpp>

#include <nlohmann/json.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <sys/stat.h>

using namespace dpgcert;
using namespace dpgcert::vault;
namespace fs = std::filesystem;

namespace {

using test::code_of;

using test::TempDir;

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

}  // namespace

TEST_SUITE("vault") {
  TEST_CASE("seal and open round-trip - every seal uses a new data key and nonce") {
    const Vault v(MasterKey::generate());
    const SealedSecret a = v.seal(bytes_of("Sikker-æøå-2024"), "certificate:1:password");
    CHECK(a.wrapped_key.size() == 61);
    CHECK(a.ciphertext.size() == 29 + std::string_view("Sikker-æøå-2024").size());
    CHECK(v.open(a, "certificate:1:password").view() == "Sikker-æøå-2024");
    const SealedSecret b = v.seal(bytes_of("Sikker-æøå-2024"), "certificate:1:password");
    CHECK(a.wrapped_key != b.wrapped_key);
    CHECK(a.ciphertext != b.ciphertext);
    // The empty secret (an empty PKCS#12 password) is a secret too.
    const SealedSecret e = v.seal({}, "certificate:2:password");
    CHECK(v.open(e, "certificate:2:password").empty());
  }

  TEST_CASE("a wrong master key is bad_password, never garbage") {
    const Vault right(MasterKey::generate());
    const Vault wrong(MasterKey::generate());
    const SealedSecret s = right.seal(bytes_of("Test1234"), "certificate:7:password");
    CHECK(code_of([&] { (void)wrong.open(s, "certificate:7:password"); }) == ErrorCode::bad_password);
    CHECK(right.wrapper().matches(right.wrapper().check_value()));
    CHECK_FALSE(wrong.wrapper().matches(right.wrapper().check_value()));
    CHECK_FALSE(wrong.wrapper().matches({}));
  }

  TEST_CASE("context is bound: a secret moved to another record does not open") {
    const Vault v(MasterKey::generate());
    const SealedSecret one = v.seal(bytes_of("password of row 1"), "certificate:1:password");
    const SealedSecret two = v.seal(bytes_of("password of row 2"), "certificate:2:password");
    // The whole sealed secret under another record's context.
    CHECK(code_of([&] { (void)v.open(one, "certificate:2:password"); }) == ErrorCode::bad_password);
    // Ciphertexts swapped between rows, each keeping its own wrapped key.
    const SealedSecret swapped{one.wrapped_key, two.ciphertext};
    CHECK(code_of([&] { (void)v.open(swapped, "certificate:1:password"); }) == ErrorCode::malformed);
    // Another field of the same record.
    CHECK(code_of([&] { (void)v.open(one, "certificate:1:pkcs12"); }) == ErrorCode::bad_password);
  }

  TEST_CASE("an altered or truncated ciphertext is malformed") {
    const Vault v(MasterKey::generate());
    SealedSecret s = v.seal(bytes_of("Test1234"), "c");
    SealedSecret flipped = s;
    flipped.ciphertext[20] ^= std::byte{1};
    CHECK(code_of([&] { (void)v.open(flipped, "c"); }) == ErrorCode::malformed);
    SealedSecret cut = s;
    cut.ciphertext.resize(10);
    CHECK(code_of([&] { (void)v.open(cut, "c"); }) == ErrorCode::malformed);
    SealedSecret bad_key = s;
    bad_key.wrapped_key.pop_back();
    CHECK(code_of([&] { (void)v.open(bad_key, "c"); }) == ErrorCode::malformed);
  }

  TEST_CASE("rotation re-wraps the data key and leaves the ciphertext untouched") {
    const Vault old_vault(MasterKey::generate());
    const Vault new_vault(MasterKey::generate());
    const SealedSecret s = old_vault.seal(bytes_of("the PKCS#12 bytes"), "certificate:3:pkcs12");
    const auto ciphertext_before = s.ciphertext;
    const SealedSecret rotated{old_vault.rewrap(s.wrapped_key, "certificate:3:pkcs12", new_vault), s.ciphertext};
    CHECK(rotated.ciphertext == ciphertext_before);
    CHECK(rotated.wrapped_key != s.wrapped_key);
    CHECK(rotated.wrapped_key.size() == s.wrapped_key.size());
    CHECK(new_vault.open(rotated, "certificate:3:pkcs12").view() == "the PKCS#12 bytes");
    CHECK(code_of([&] { (void)old_vault.open(rotated, "certificate:3:pkcs12"); }) == ErrorCode::bad_password);
    // Rotating with the wrong old key fails without producing anything.
    CHECK(code_of([&] { (void)new_vault.rewrap(s.wrapped_key, "certificate:3:pkcs12", old_vault); }) ==
          ErrorCode::bad_password);
  }

  TEST_CASE("key files: created 0600 whatever the umask, never replaced - raw and hex forms read") {
    TempDir dir;
    const fs::path file = dir.path() / "store.key";
    const mode_t old_umask = ::umask(0);
    const MasterKey created = MasterKey::create_key_file(file);
    ::umask(old_umask);
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    CHECK(st.st_size == 32);
    const MasterKey read = MasterKey::read_key_file(file);
    CHECK(read.bytes().view() == created.bytes().view());
    CHECK(code_of([&] { (void)MasterKey::create_key_file(file); }) == ErrorCode::conflict);

    const fs::path hex = dir.path() / "hex.key";
    std::ofstream(hex) << "000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F\n";
    fs::permissions(hex, fs::perms::owner_read | fs::perms::owner_write);  // key files are private
    const MasterKey h = MasterKey::read_key_file(hex);
    CHECK(h.bytes().bytes()[31] == std::byte{0x1f});
    const fs::path bad = dir.path() / "bad.key";
    std::ofstream(bad) << "too short";
    fs::permissions(bad, fs::perms::owner_read | fs::perms::owner_write);
    CHECK(code_of([&] { (void)MasterKey::read_key_file(bad); }) == ErrorCode::malformed);
    CHECK(code_of([&] { (void)MasterKey::read_key_file(dir.path() / "missing.key"); }) == ErrorCode::not_found);
  }

  TEST_CASE("passphrase keys: Argon2id, deterministic per salt and parameters") {
    const auto salt = random_bytes(16);
    const auto p = Argon2Params::for_tests();
    const MasterKey a = MasterKey::from_passphrase(test::pw("correct horse"), salt, p);
    const MasterKey b = MasterKey::from_passphrase(test::pw("correct horse"), salt, p);
    const MasterKey c = MasterKey::from_passphrase(test::pw("correct horsf"), salt, p);
    const MasterKey d = MasterKey::from_passphrase(test::pw("correct horse"), salt, Argon2Params{16, 1, 1});
    CHECK(a.bytes().view() == b.bytes().view());
    CHECK(a.bytes().view() != c.bytes().view());
    CHECK(a.bytes().view() != d.bytes().view());
    CHECK(code_of([&] { (void)MasterKey::from_passphrase(test::pw(""), salt, p); }) == ErrorCode::invalid_argument);
    CHECK(code_of([&] { (void)MasterKey::from_passphrase(test::pw("x"), std::span(salt).first(8), p); }) ==
          ErrorCode::invalid_argument);
    CHECK(code_of([&] { (void)MasterKey::from_passphrase(test::pw("x"), salt, Argon2Params{1u << 30, 1, 1}); }) ==
          ErrorCode::limit_exceeded);
    CHECK(code_of([&] { (void)MasterKey::from_passphrase(test::pw("x"), salt, Argon2Params{8, 0, 1}); }) ==
          ErrorCode::invalid_argument);
  }

  TEST_CASE("establish and unlock: key file and passphrase sources, wrong key is bad_password") {
    TempDir dir;
    SUBCASE("key file (created when missing, found again through the header)") {
      const fs::path file = dir.path() / "k";
      EstablishedKey made = establish_key(KeySource::key_file(file));
      CHECK(fs::exists(file));
      CHECK(made.header.kind == "key_file");
      const auto params = nlohmann::json::parse(made.header.params);
      CHECK(fs::path(params["path"].get<std::string>()).is_absolute());
      CHECK_FALSE(params.contains("salt"));
      const auto again = open_key(made.header);
      CHECK(again->same_key(*made.wrapper));
      // An existing key file is used, not replaced.
      EstablishedKey reused = establish_key(KeySource::key_file(file));
      CHECK(reused.wrapper->same_key(*made.wrapper));
      // Another key file given as an override is refused as the wrong key.
      const fs::path other = dir.path() / "other";
      (void)MasterKey::create_key_file(other);
      Unlock u;
      u.key_file = other;
      CHECK(code_of([&] { (void)open_key(made.header, u); }) == ErrorCode::bad_password);
      fs::remove(file);
      CHECK(code_of([&] { (void)open_key(made.header); }) == ErrorCode::not_found);
    }
    SUBCASE("passphrase (parameters and salt in the header, never the passphrase)") {
      EstablishedKey made = establish_key(KeySource::passphrase(test::pw("s3cret pass"), Argon2Params::for_tests()));
      CHECK(made.header.kind == "passphrase");
      const auto params = nlohmann::json::parse(made.header.params);
      CHECK(params["memory_kib"] == Argon2Params::for_tests().memory_kib);
      CHECK(params["iterations"] == Argon2Params::for_tests().iterations);
      CHECK(params["parallelism"] == Argon2Params::for_tests().parallelism);
      CHECK(params["salt"].get<std::string>().size() == 32);
      CHECK_FALSE(params.contains("path"));
      CHECK(made.header.params.find("s3cret") == std::string::npos);
      Unlock u;
      u.passphrase = test::pw("s3cret pass");
      CHECK(open_key(made.header, u)->same_key(*made.wrapper));
      u.passphrase = test::pw("s3cret pasS");
      CHECK(code_of([&] { (void)open_key(made.header, u); }) == ErrorCode::bad_password);
      CHECK(code_of([&] { (void)open_key(made.header); }) == ErrorCode::invalid_argument);
    }
  }

  TEST_CASE("key wrapper kinds have stable names - a kind not built in says so") {
    const auto kinds = key_wrapper_kinds();
    CHECK(std::find(kinds.begin(), kinds.end(), "key_file") != kinds.end());
    CHECK(std::find(kinds.begin(), kinds.end(), "passphrase") != kinds.end());
    CHECK(std::find(kinds.begin(), kinds.end(), "pkcs11") != kinds.end());
    // pkcs11 is built in (p11-kit); a kind registered as not built in says so.
    register_unavailable_key_wrapper("kms-stub");
    const auto usable = key_wrapper_kinds(true);
    CHECK(std::find(usable.begin(), usable.end(), "pkcs11") != usable.end());
    CHECK(std::find(usable.begin(), usable.end(), "kms-stub") == usable.end());
    try {
      (void)establish_key(KeySource::of("kms-stub", R"({"uri": "kms:key"})"));
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::unsupported);
      CHECK(std::string(e.what()).find("key wrapper 'kms-stub' is not built into this dpgcert") != std::string::npos);
    }
    CHECK(code_of([&] { (void)open_key(KeyHeader{"kms-stub", "{}", {}}); }) == ErrorCode::unsupported);
    // A pkcs11 header without a URI is malformed, not a stub.
    CHECK(code_of([&] { (void)open_key(KeyHeader{"pkcs11", "{}", {}}); }) == ErrorCode::malformed);
    CHECK(code_of([&] { (void)open_key(KeyHeader{"hsm", "{}", {}}); }) == ErrorCode::unsupported);
    CHECK(code_of([&] { (void)establish_key(KeySource::of("hsm")); }) == ErrorCode::invalid_argument);
    CHECK(code_of([&] { (void)KeySource::of("key_file", "[1]"); }) == ErrorCode::invalid_argument);
    CHECK(code_of([&] { (void)open_key(KeyHeader{"key_file", "not json", {}}); }) == ErrorCode::malformed);
    // A built-in kind cannot be replaced; a stub can.
    KeyWrapperFactory again = {"key_file", "x", [](const KeySource&) { return std::unique_ptr<KeyWrapper>(); },
                               [](std::string_view, const Unlock&) { return std::unique_ptr<KeyWrapper>(); }};
    CHECK(code_of([&] { register_key_wrapper(again); }) == ErrorCode::conflict);
  }
}
