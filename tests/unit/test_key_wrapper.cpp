// The key-wrapper conformance suite: every usable registered kind must pass it. A new kind adds its
// fixture (how to make a source and unlock it) to fixture_for(); the suite fails until it does.
#include "support/softhsm.hpp"
#include "support/test_support.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/key_wrapper.hpp>
#include <dpgcert/vault.hpp>
#include <dpgcert/x509.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>
#include <iterator>
#include <optional>

using namespace dpgcert;
using namespace dpgcert::vault;
namespace fs = std::filesystem;

namespace {

using test::code_of;
using test::TempDir;

/// How the suite makes and unlocks wrappers of one kind.
struct Fixture {
  /// A source for a new wrapper; `n` tells two of them apart (different keys).
  std::function<KeySource(int n)> source;
  /// The unlock overrides that re-open wrapper `n` from its params.
  std::function<Unlock(int n)> unlock;
  /// The secrets behind wrapper `n` as text that describe() must never contain.
  std::function<std::vector<std::string>(int n)> secrets;
};

std::string passphrase_of(int n) { return "passphrase number " + std::to_string(n) + " æøå"; }

std::optional<Fixture> fixture_for(const std::string& kind, const fs::path& dir) {
  auto key_path = [dir](int n) { return dir / ("wrapper-" + std::to_string(n) + ".key"); };
  if (kind == "key_file") {
    return Fixture{[key_path](int n) { return KeySource::key_file(key_path(n)); },
                   [](int) { return Unlock{}; },
                   [key_path](int n) {
                     std::ifstream in(key_path(n), std::ios::binary);
                     std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
                     return std::vector<std::string>{to_hex(std::as_bytes(std::span(raw.data(), raw.size())))};
                   }};
  }
  if (kind == "passphrase") {
    return Fixture{[](int n) { return KeySource::passphrase(test::pw(passphrase_of(n)), Argon2Params::for_tests()); },
                   [](int n) {
                     Unlock u;
                     u.passphrase = test::pw(passphrase_of(n));
                     return u;
                   },
                   [](int n) { return std::vector<std::string>{passphrase_of(n), "passphrase number"}; }};
  }
  if (kind == "pkcs11" && test::softhsm_module()) {
    // One SoftHSM2 token for the process; wrapper n is the AES key "master-n" made on it.
    static test::SoftHsmToken token("wrappers");
    const std::string uri = token.uri();
    return Fixture{[uri](int n) { return KeySource::pkcs11(uri + ";object=master-" + std::to_string(n), test::pw(test::kTestPin)); },
                   [](int) {
                     Unlock u;
                     u.pin.pin = test::pw(test::kTestPin);
                     return u;
                   },
                   [](int) { return std::vector<std::string>{test::kTestPin}; }};
  }
  return std::nullopt;
}

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

}  // namespace

TEST_SUITE("key wrapper conformance") {
  TEST_CASE("every usable key wrapper kind passes the conformance suite") {
    const auto kinds = key_wrapper_kinds(true);
    REQUIRE_FALSE(kinds.empty());
    for (const std::string& kind : kinds) {
      CAPTURE(kind);
      TempDir dir;
      if (kind == "pkcs11" && !test::softhsm_module()) {
        MESSAGE("pkcs11 skipped: softhsm2 is not installed");
        continue;
      }
      const auto fx = fixture_for(kind, dir.path());
      REQUIRE_MESSAGE(fx.has_value(), "no conformance fixture for key wrapper '" << kind << "'");

      const EstablishedKey one = establish_key(fx->source(1));
      const EstablishedKey two = establish_key(fx->source(2));
      const KeyWrapper& w = *one.wrapper;
      CHECK(w.kind() == kind);
      CHECK(w.interface_version() == key_wrapper_interface_version);
      CHECK_FALSE(w.label().empty());
      CHECK(one.header.kind == kind);
      CHECK(one.header.params == w.describe());

      // Round trip of both key sizes every wrapper takes.
      const auto k32 = random_bytes(32);
      const auto k16 = random_bytes(16);
      const auto wrapped = w.wrap(k32, "data-key/certificate:1:pkcs12");
      CHECK(w.unwrap(wrapped, "data-key/certificate:1:pkcs12").view() ==
            std::string_view(reinterpret_cast<const char*>(k32.data()), k32.size()));
      CHECK(w.unwrap(w.wrap(k16, "c"), "c").size() == 16);
      CHECK(w.wrap(k32, "c") != w.wrap(k32, "c"));  // randomised

      // Wrong context, wrong key: bad_password. Tampered or cut: a typed error, never garbage.
      CHECK(code_of([&] { (void)w.unwrap(wrapped, "data-key/certificate:2:pkcs12"); }) == ErrorCode::bad_password);
      CHECK(code_of([&] { (void)two.wrapper->unwrap(wrapped, "data-key/certificate:1:pkcs12"); }) ==
            ErrorCode::bad_password);
      for (std::size_t i : {std::size_t{0}, wrapped.size() / 2, wrapped.size() - 1}) {
        auto bad = wrapped;
        bad[i] ^= std::byte{0x40};
        const ErrorCode code = code_of([&] { (void)w.unwrap(bad, "data-key/certificate:1:pkcs12"); });
        CHECK((code == ErrorCode::bad_password || code == ErrorCode::malformed));
      }
      auto cut = wrapped;
      cut.pop_back();
      CHECK(code_of([&] { (void)w.unwrap(cut, "data-key/certificate:1:pkcs12"); }) == ErrorCode::malformed);
      CHECK(code_of([&] { (void)w.unwrap({}, "c"); }) == ErrorCode::malformed);

      // Key check values tell the keys apart.
      CHECK(w.matches(one.header.check));
      CHECK_FALSE(w.matches(two.header.check));
      CHECK_FALSE(w.matches({}));
      CHECK_FALSE(w.same_key(*two.wrapper));

      // describe(): a JSON object without any secret.
      const auto params = nlohmann::json::parse(w.describe(), nullptr, false);
      CHECK(params.is_object());
      for (const std::string& secret : fx->secrets(1)) {
        CHECK(w.describe().find(secret) == std::string::npos);
        CHECK(w.label().find(secret) == std::string::npos);
      }

      // Re-opened from (kind, describe()) it is the same wrapper: it opens what the first wrapped.
      const auto again = open_key(one.header, fx->unlock(1));
      CHECK(again->kind() == kind);
      CHECK(again->same_key(w));
      CHECK(again->unwrap(wrapped, "data-key/certificate:1:pkcs12").size() == 32);
      const auto raw = reopen_key_wrapper(kind, w.describe(), fx->unlock(1));
      CHECK(raw->same_key(w));
      // With the other wrapper's unlock (where it has one), the check value refuses it.
      if (fx->unlock(2).passphrase || fx->unlock(2).key_file) {
        CHECK(code_of([&] { (void)open_key(one.header, fx->unlock(2)); }) == ErrorCode::bad_password);
      }
      KeyHeader foreign = one.header;
      foreign.check = two.header.check;
      CHECK(code_of([&] { (void)open_key(foreign, fx->unlock(1)); }) == ErrorCode::bad_password);

      // A vault over it seals, and rotation to the other wrapper keeps the ciphertext.
      const Vault v1(one.wrapper);
      const Vault v2(two.wrapper);
      const SealedSecret s = v1.seal(bytes_of("the PKCS#12 bytes"), "certificate:3:pkcs12");
      const SealedSecret rotated{v1.rewrap(s.wrapped_key, "certificate:3:pkcs12", v2), s.ciphertext};
      CHECK(v2.open(rotated, "certificate:3:pkcs12").view() == "the PKCS#12 bytes");
      CHECK(code_of([&] { (void)v1.open(rotated, "certificate:3:pkcs12"); }) == ErrorCode::bad_password);
    }
  }
}
