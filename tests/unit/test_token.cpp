// <dpgcert/token.hpp>: RFC 7512 URIs, finding tokens by label or serial, PINs and their errors,
// on SoftHSM2 tokens made for each test.
#include "support/softhsm.hpp"
#include "support/test_support.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/token.hpp>
#include <dpgcert/vault.hpp>

#include <nlohmann/json.hpp>

#include <doctest/doctest.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

using namespace dpgcert;
using namespace dpgcert::token;
using dpgcert::test::code_of;
using dpgcert::test::SoftHsmToken;

namespace {

PinSource pin(std::string_view p) {
  PinSource s;
  s.pin = SecretBytes::from_text(p);
  return s;
}

/// Runs pkcs11-tool on the token (key generation for the tests); fails the test when it fails.
void pkcs11_tool(const SoftHsmToken& t, const std::string& args) {
  const std::string cmd = "pkcs11-tool --module " + test::softhsm_module()->string() + " --token-label '" + t.label() +
                          "' --login --pin dpgcert-test-pin " + args + " >/dev/null 2>&1";
  REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, cmd);
}

}  // namespace

TEST_SUITE("token") {
  TEST_CASE("pkcs11: URIs are parsed and formatted by p11-kit") {
    const TokenUri u = TokenUri::parse("pkcs11:token=My%20Token;serial=abc123;object=gw%20key;id=%01%02;type=private");
    CHECK(u.token_label == "My Token");
    CHECK(u.serial == "abc123");
    CHECK(u.object_label == "gw key");
    REQUIRE(u.id);
    CHECK(u.id->size() == 2);
    CHECK(u.type == "private");
    CHECK_FALSE(u.module_name);
    const TokenUri again = TokenUri::parse(u.to_string());
    CHECK(again == u);
    CHECK(u.to_string().find("token=My%20Token") != std::string::npos);

    const TokenUri m = TokenUri::parse("pkcs11:token=T?module-name=softhsm2");
    CHECK(m.module_name == "softhsm2");
    CHECK(m.names_token());
    CHECK(TokenUri::parse(m.to_string()).module_name == "softhsm2");
    CHECK_FALSE(m.token_only().object_label);
    CHECK_FALSE(TokenUri::parse("pkcs11:object=x").names_token());

    CHECK(code_of([] { (void)TokenUri::parse("file:///etc/passwd"); }) == ErrorCode::malformed);
    CHECK(code_of([] { (void)TokenUri::parse("pkcs11:token=T?pin-value=1234"); }) == ErrorCode::invalid_argument);
    CHECK(code_of([] { (void)TokenUri::parse("pkcs11:slot-id=3"); }) == ErrorCode::invalid_argument);
    // A PIN never shows in the message of the refusal.
    try {
      (void)TokenUri::parse("pkcs11:token=T?pin-value=98765");
      FAIL("a PIN in a URI was accepted");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find("98765") == std::string::npos);
    }
  }

  TEST_CASE("a token is found by label or serial, through p11-kit's registered modules or a module path") {
    DPGCERT_REQUIRE_SOFTHSM();
    SoftHsmToken t("find");
    const Token by_label = Token::open(TokenUri::parse(t.uri()), pin(test::kTestPin));
    CHECK(by_label.info().label == t.label());
    CHECK(by_label.info().serial == t.serial());
    CHECK(by_label.info().module == "softhsm2");
    CHECK(TokenUri::parse(by_label.info().uri).serial == t.serial());

    TokenUri by_serial;
    by_serial.serial = t.serial();
    CHECK(Token::open(by_serial, pin(test::kTestPin)).info().label == t.label());

    TokenUri by_path = TokenUri::parse(t.uri());
    by_path.module_path = test::softhsm_module()->string();
    CHECK(Token::open(by_path, pin(test::kTestPin)).info().serial == t.serial());

    TokenUri by_name = TokenUri::parse(t.uri());
    by_name.module_name = "softhsm2";
    CHECK(Token::open(by_name, pin(test::kTestPin)).info().serial == t.serial());

    const auto listed = find_tokens(TokenUri::parse(t.uri()));
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].serial == t.serial());
    CHECK_FALSE(listed[0].pin_locked);
  }

  TEST_CASE("token errors are typed: missing token, two tokens, wrong PIN, no PIN, unknown module, no token named") {
    DPGCERT_REQUIRE_SOFTHSM();
    SoftHsmToken t("errors");
    CHECK(code_of([&] { (void)Token::open(TokenUri::parse(t.uri() + "-absent"), pin(test::kTestPin)); }) == ErrorCode::not_found);
    CHECK(code_of([&] { (void)Token::open(TokenUri::parse(t.uri()), pin("9999")); }) == ErrorCode::bad_password);
    CHECK(code_of([&] { (void)Token::open(TokenUri::parse(t.uri()), PinSource{}); }) == ErrorCode::invalid_argument);
    CHECK(code_of([&] { (void)Token::open(TokenUri::parse("pkcs11:object=k"), pin(test::kTestPin)); }) ==
          ErrorCode::invalid_argument);
    CHECK(code_of([&] { (void)Token::open(TokenUri::parse(t.uri() + "?module-name=no-such-module"), pin(test::kTestPin)); }) ==
          ErrorCode::not_found);
    CHECK(code_of([&] { (void)Token::open(TokenUri::parse(t.uri() + "?module-path=/nonexistent/lib.so"), pin(test::kTestPin)); }) ==
          ErrorCode::not_found);

    // The prompt is asked only when no PIN is given, with the token's label.
    std::string asked;
    PinSource prompted;
    prompted.prompt = [&asked](const std::string& label) {
      asked = label;
      return SecretBytes::from_text(test::kTestPin);
    };
    CHECK(Token::open(TokenUri::parse(t.uri()), prompted).info().label == t.label());
    CHECK(asked == t.label());
  }

  TEST_CASE("two tokens with one label are a conflict - the serial tells them apart") {
    DPGCERT_REQUIRE_SOFTHSM();
    SoftHsmToken a("twin");
    const std::string label = a.label();
    // A second token with the same label.
    (void)SoftHsmToken::init_token(label);
    CHECK(code_of([&] { (void)Token::open(TokenUri::parse(a.uri()), pin(test::kTestPin)); }) == ErrorCode::conflict);
    TokenUri exact = TokenUri::parse(a.uri());
    exact.serial = a.serial();
    CHECK(Token::open(exact, pin(test::kTestPin)).info().serial == a.serial());
    CHECK(find_tokens(TokenUri::parse(a.uri())).size() == 2);
  }

  TEST_CASE("two objects matching a key URI are a conflict - none is not_found") {
    DPGCERT_REQUIRE_SOFTHSM();
    SoftHsmToken t("dup");
    pkcs11_tool(t, "--keypairgen --key-type rsa:2048 --id 01 --label dup");
    pkcs11_tool(t, "--keypairgen --key-type rsa:2048 --id 02 --label dup");
    const Token token = Token::open(TokenUri::parse(t.uri()), pin(test::kTestPin));
    const std::vector<std::byte> msg(10, std::byte{7});
    CHECK(code_of([&] { (void)token.sign(TokenUri::parse(t.uri() + ";object=dup"), msg, SignScheme::rsa_pkcs1v15_sha256); }) ==
          ErrorCode::conflict);
    CHECK(code_of([&] { (void)token.sign(TokenUri::parse(t.uri() + ";object=none"), msg, SignScheme::rsa_pkcs1v15_sha256); }) ==
          ErrorCode::not_found);
    CHECK(token.sign(TokenUri::parse(t.uri() + ";id=%01"), msg, SignScheme::rsa_pkcs1v15_sha256).size() == 256);
    CHECK(token.sign(TokenUri::parse(t.uri() + ";id=%02"), msg, SignScheme::rsa_pss_sha256).size() == 256);
  }
}

namespace {

/// The public key of the key pair `id` on the token, as pkcs11-tool (a third party) exports it.
EVP_PKEY* public_key(const SoftHsmToken& t, const std::string& id, const std::filesystem::path& dir) {
  const auto der = dir / "pub.der";
  pkcs11_tool(t, "--read-object --type pubkey --id " + id + " -o " + test::shell_quote(der.string()));
  const auto bytes = test::read_file(der);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  return d2i_PUBKEY(nullptr, &p, static_cast<long>(bytes.size()));
}

}  // namespace

TEST_SUITE("token") {
  TEST_CASE("a token key signs (PKCS#1 v1.5, PSS) and decrypts (OAEP, PKCS#1 v1.5) - OpenSSL agrees - it never leaves the token") {
    DPGCERT_REQUIRE_SOFTHSM();
    SoftHsmToken t("crypto");
    test::TempDir dir;
    pkcs11_tool(t, "--keypairgen --key-type rsa:2048 --id 0a --label gw --sensitive");
    EVP_PKEY* pub = public_key(t, "0a", dir.path());
    REQUIRE(pub != nullptr);
    const Token token = Token::open(TokenUri::parse(t.uri()), pin(test::kTestPin));
    const TokenUri key = TokenUri::parse(t.uri() + ";object=gw");
    const std::string text = "S/MIME content to sign";
    const auto msg = std::as_bytes(std::span(text.data(), text.size()));

    for (const SignScheme scheme : {SignScheme::rsa_pkcs1v15_sha256, SignScheme::rsa_pss_sha256}) {
      const auto sig = token.sign(key, msg, scheme);
      EVP_MD_CTX* ctx = EVP_MD_CTX_new();
      EVP_PKEY_CTX* pctx = nullptr;
      REQUIRE(EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), nullptr, pub) == 1);
      if (scheme == SignScheme::rsa_pss_sha256) {
        REQUIRE(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1);
        REQUIRE(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1);
      }
      CHECK(EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(text.data()), text.size()) == 1);
      // A changed message does not verify.
      REQUIRE(EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), nullptr, pub) == 1);
      if (scheme == SignScheme::rsa_pss_sha256) REQUIRE(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1);
      CHECK(EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>("other"), 5) != 1);
      EVP_MD_CTX_free(ctx);
    }

    // Encrypted by OpenSSL with the public key (as an S/MIME sender does), decrypted in the token.
    const std::string session_key = "0123456789abcdef0123456789abcdef";
    struct Case {
      DecryptScheme scheme;
      int padding;
      const EVP_MD* md;
    };
    for (const Case c : {Case{DecryptScheme::rsa_oaep_sha1, RSA_PKCS1_OAEP_PADDING, EVP_sha1()},
                         Case{DecryptScheme::rsa_pkcs1v15, RSA_PKCS1_PADDING, nullptr}}) {
      EVP_PKEY_CTX* ectx = EVP_PKEY_CTX_new(pub, nullptr);
      REQUIRE(EVP_PKEY_encrypt_init(ectx) == 1);
      REQUIRE(EVP_PKEY_CTX_set_rsa_padding(ectx, c.padding) == 1);
      if (c.md != nullptr) REQUIRE(EVP_PKEY_CTX_set_rsa_oaep_md(ectx, c.md) == 1);
      std::vector<unsigned char> ct(512);
      std::size_t n = ct.size();
      REQUIRE(EVP_PKEY_encrypt(ectx, ct.data(), &n, reinterpret_cast<const unsigned char*>(session_key.data()),
                               session_key.size()) == 1);
      ct.resize(n);
      EVP_PKEY_CTX_free(ectx);
      const auto plain = token.decrypt(key, std::as_bytes(std::span(ct)), c.scheme);
      CHECK(plain.view() == session_key);
      // A damaged ciphertext does not decrypt: bad_password, never garbage.
      ct[10] ^= 0x55;
      CHECK(code_of([&] { (void)token.decrypt(key, std::as_bytes(std::span(ct)), c.scheme); }) == ErrorCode::bad_password);
    }
    EVP_PKEY_free(pub);

    // The private key is sensitive: its exponent cannot be read.
    const auto facts = t.key_facts("gw", CKO_PRIVATE_KEY, CKA_PRIVATE_EXPONENT);
    REQUIRE(facts.found);
    CHECK(facts.sensitive);
    CHECK(facts.value_rv == CKR_ATTRIBUTE_SENSITIVE);

    // The certificates on the token: none yet.
    CHECK(token.certificates().empty());
  }
}

TEST_SUITE("token") {
  TEST_CASE("an RSA key pair on the token holds the master key: data keys wrapped with RSA-OAEP, bound to their context") {
    DPGCERT_REQUIRE_SOFTHSM();
    SoftHsmToken t("rsa-master");
    pkcs11_tool(t, "--keypairgen --key-type rsa:2048 --id 0b --label rsa-master --sensitive");
    const auto made = vault::establish_key(vault::KeySource::pkcs11(t.uri() + ";object=rsa-master", test::pw(test::kTestPin)));
    const auto params = nlohmann::json::parse(made.header.params);
    CHECK(params["mechanism"] == "rsa-oaep");
    CHECK(params["uri"].get<std::string>().find("id=%0B") != std::string::npos);
    const vault::KeyWrapper& w = *made.wrapper;
    const auto key = vault::random_bytes(32);
    const auto wrapped = w.wrap(key, "data-key/certificate:1:pkcs12");
    CHECK(w.unwrap(wrapped, "data-key/certificate:1:pkcs12").bytes().size() == 32);
    CHECK(std::equal(key.begin(), key.end(), w.unwrap(wrapped, "data-key/certificate:1:pkcs12").bytes().begin()));
    CHECK(code_of([&] { (void)w.unwrap(wrapped, "data-key/certificate:2:pkcs12"); }) == ErrorCode::bad_password);
    CHECK(code_of([&] { (void)w.unwrap(std::span(wrapped).first(10), "c"); }) == ErrorCode::malformed);
    // Re-opened from the header with the PIN, it holds the same key.
    vault::Unlock unlock;
    unlock.pin.pin = test::pw(test::kTestPin);
    CHECK(vault::open_key(made.header, unlock)->same_key(w));
    // A URI naming no key makes an AES key there; establishing again with it finds that key.
    const auto aes = vault::establish_key(vault::KeySource::pkcs11(t.uri() + ";object=fresh", test::pw(test::kTestPin)));
    const auto aes_again = vault::establish_key(vault::KeySource::pkcs11(t.uri() + ";object=fresh", test::pw(test::kTestPin)));
    CHECK(nlohmann::json::parse(aes.header.params)["mechanism"] == "aes-256-gcm");
    CHECK(aes_again.wrapper->same_key(*aes.wrapper));
    CHECK_FALSE(aes.wrapper->same_key(w));
    const auto facts = t.key_facts("fresh", CKO_SECRET_KEY, CKA_VALUE);
    CHECK(facts.found);
    CHECK_FALSE(facts.extractable);
    CHECK(facts.value_rv == CKR_ATTRIBUTE_SENSITIVE);
  }
}
