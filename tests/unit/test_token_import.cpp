// Certificates' private keys on a SoftHSM2 token: Token::import_key (sensitive, not extractable,
// one CKA_ID, idempotent, rolled back on failure), the store's record of it on every backend
// (token_keys, migration 7), current_bundle's key reference, signing and decrypting through it,
// and the lifecycle (the successor beside the old objects; removal once retired).
#include "support/softhsm.hpp"
#include "support/test_support.hpp"
#include "store/backends.hpp"
#include "store/cert_factory.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/store.hpp>
#include <dpgcert/token.hpp>

#include <doctest/doctest.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>

#include <functional>

using namespace dpgcert;
using namespace dpgcert::token;
using test::code_of;
using test::SoftHsmToken;
using test::TempDir;

namespace {

const Time kNow = parse_rfc3339("2025-06-01T00:00:00Z");
constexpr std::int64_t kDay = 86400;

PinSource pin(std::string_view p) {
  PinSource s;
  s.pin = SecretBytes::from_text(p);
  return s;
}

testing::LeafSpec spec(const std::string& cn, std::int64_t nb_days, std::int64_t na_days) {
  testing::LeafSpec s;
  s.common_name = cn;
  s.not_before = to_unix(kNow) + nb_days * kDay;
  s.not_after = to_unix(kNow) + na_days * kDay;
  return s;
}

/// The number of objects of class `klass` on the token (read by the test through PKCS#11 via
/// Token's own listing for certificates, and key_facts for keys by label).
std::size_t certificates_on(const Token& t) { return t.certificates().size(); }

/// Verifies `sig` over `message` with the certificate's public key (OpenSSL, in process).
bool openssl_verifies(const Certificate& cert, std::string_view message, const std::vector<std::byte>& sig, bool pss) {
  const auto der = cert.der();
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  REQUIRE(x != nullptr);
  EVP_PKEY* pub = X509_get0_pubkey(x);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  REQUIRE(EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), nullptr, pub) == 1);
  if (pss) {
    REQUIRE(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1);
    REQUIRE(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1);
  }
  const bool ok = EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                                   reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  X509_free(x);
  return ok;
}

/// `plain` encrypted to the certificate's public key with RSA-OAEP (SHA-1 or SHA-256) or PKCS#1
/// v1.5, as an S/MIME sender does (OpenSSL).
std::vector<std::byte> encrypt_to(const Certificate& cert, std::string_view plain, int padding, const EVP_MD* md) {
  const auto der = cert.der();
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  REQUIRE(x != nullptr);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(X509_get0_pubkey(x), nullptr);
  REQUIRE(EVP_PKEY_encrypt_init(ctx) == 1);
  REQUIRE(EVP_PKEY_CTX_set_rsa_padding(ctx, padding) == 1);
  if (md != nullptr) {
    REQUIRE(EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) == 1);
    REQUIRE(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1);
  }
  std::vector<std::byte> out(512);
  std::size_t n = out.size();
  REQUIRE(EVP_PKEY_encrypt(ctx, reinterpret_cast<unsigned char*>(out.data()), &n,
                           reinterpret_cast<const unsigned char*>(plain.data()), plain.size()) == 1);
  out.resize(n);
  EVP_PKEY_CTX_free(ctx);
  X509_free(x);
  return out;
}

}  // namespace

TEST_SUITE("token import") {
  TEST_CASE("a bundle's key goes on the token sensitive and not extractable, with its certificate - a second import creates nothing") {
    DPGCERT_REQUIRE_SOFTHSM();
    SoftHsmToken t("import");
    testing::CertFactory factory(2048);
    const testing::Made m = factory.made(spec("Sikker post gateway", -10, 700), test::pw("Test1234"));
    const Token token = Token::open(TokenUri::parse(t.uri()), pin(test::kTestPin));

    const TokenImport first = token.import_key(m.bundle);
    CHECK(first.created == 3);
    CHECK(first.label == "Sikker post gateway");
    CHECK(first.id_hex.size() == 40);  // SHA-1 of the public key
    CHECK(first.key_uri.find("type=private") != std::string::npos);
    CHECK(first.key_uri.find("serial=" + t.serial()) != std::string::npos);

    // The private key: CKA_SENSITIVE, not CKA_EXTRACTABLE, its exponent unreadable.
    const auto facts = t.key_facts("Sikker post gateway", CKO_PRIVATE_KEY, CKA_PRIVATE_EXPONENT);
    REQUIRE(facts.found);
    CHECK(facts.sensitive);
    CHECK_FALSE(facts.extractable);
    CHECK(facts.value_rv == CKR_ATTRIBUTE_SENSITIVE);

    // The certificate, with the key's id.
    const auto certs = token.certificates();
    REQUIRE(certs.size() == 1);
    CHECK(certs[0].id_hex == first.id_hex);
    CHECK(certs[0].has_private_key);
    CHECK(Certificate::from_der(certs[0].der) == m.certificate);

    // Again: nothing new, the same URIs.
    const TokenImport second = token.import_key(m.bundle);
    CHECK(second.created == 0);
    CHECK(second.key_uri == first.key_uri);
    CHECK(certificates_on(token) == 1);

    // Signed in the token, verified by OpenSSL against the certificate; decrypted in the token.
    const std::string text = "S/MIME content";
    const auto msg = std::as_bytes(std::span(text.data(), text.size()));
    const TokenUri key = TokenUri::parse(first.key_uri);
    CHECK(openssl_verifies(m.certificate, text, token.sign(key, msg, SignScheme::rsa_pkcs1v15_sha256), false));
    CHECK(openssl_verifies(m.certificate, text, token.sign(key, msg, SignScheme::rsa_pss_sha256), true));
    CHECK_FALSE(openssl_verifies(m.certificate, "other", token.sign(key, msg, SignScheme::rsa_pss_sha256), true));
    // An S/MIME-style content-encryption key, OAEP (SHA-1: what SoftHSM 2.6 supports) and PKCS#1 v1.5.
    const std::string cek = "0123456789abcdef0123456789abcdef";
    const auto oaep = encrypt_to(m.certificate, cek, RSA_PKCS1_OAEP_PADDING, EVP_sha1());
    CHECK(token.decrypt(key, oaep, DecryptScheme::rsa_oaep_sha1).view() == cek);
    const auto v15 = encrypt_to(m.certificate, cek, RSA_PKCS1_PADDING, nullptr);
    CHECK(token.decrypt(key, v15, DecryptScheme::rsa_pkcs1v15).view() == cek);
    // The wrong mechanism for the ciphertext: refused as not decrypting, never garbage.
    CHECK(code_of([&] { (void)token.decrypt(key, oaep, DecryptScheme::rsa_pkcs1v15); }) == ErrorCode::bad_password);
    CHECK(code_of([&] { (void)token.decrypt(key, v15, DecryptScheme::rsa_oaep_sha1); }) == ErrorCode::bad_password);
    // A mechanism the token does not support (SoftHSM 2.6: OAEP with SHA-256) is unsupported, not a bad ciphertext.
    CHECK(code_of([&] { (void)token.decrypt(key, oaep, DecryptScheme::rsa_oaep_sha256); }) == ErrorCode::unsupported);
  }

  TEST_CASE("a failed import leaves no object behind - bundles the token cannot take are refused before anything") {
    DPGCERT_REQUIRE_SOFTHSM();
    SoftHsmToken t("rollback");
    testing::CertFactory factory(2048);
    const testing::Made m = factory.made(spec("Rollback", -10, 700), test::pw("Test1234"));
    const Token token = Token::open(TokenUri::parse(t.uri()), pin(test::kTestPin));
    for (const char* step : {"public", "cert"}) {
      INFO("failing step: " << step);
      {
        const test::ScopedEnv fault("DPGCERT_TEST_TOKEN_IMPORT_FAULT", std::string(step));
        CHECK(code_of([&] { (void)token.import_key(m.bundle); }) == ErrorCode::io);
      }
      CHECK_FALSE(t.key_facts("Rollback", CKO_PRIVATE_KEY, CKA_PRIVATE_EXPONENT).found);
      CHECK(certificates_on(token) == 0);
    }
    // Afterwards a clean import creates all three objects: none of the failed ones (private key,
    // public key, certificate with that id) was left behind.
    CHECK(token.import_key(m.bundle).created == 3);

    // An EC key: unsupported, nothing created.
    testing::CertFactory ec_factory;
    const testing::Made ec = ec_factory.made(spec("EC leaf", -10, 700), test::pw("Test1234"));
    CHECK(code_of([&] { (void)token.import_key(ec.bundle); }) == ErrorCode::unsupported);
    CHECK(certificates_on(token) == 1);

    // Another certificate under the same key id (the factory's leaves share their key): a conflict.
    const testing::Made same_key = factory.made(spec("Rollback two", -10, 700), test::pw("Test1234"));
    CHECK(code_of([&] { (void)token.import_key(same_key.bundle); }) == ErrorCode::conflict);
    CHECK(certificates_on(token) == 1);
  }

  TEST_CASE("key references - missing objects, a wrong PIN, a URI naming no object") {
    DPGCERT_REQUIRE_SOFTHSM();
    SoftHsmToken t("refs");
    testing::CertFactory factory(2048);
    const testing::Made m = factory.made(spec("Refs", -10, 700), test::pw("Test1234"));
    // A wrong PIN (before any session of this process logged in: PKCS#11 logins are per token and
    // process, so later sessions share the first one's).
    CHECK(code_of([&] { (void)Token::open(TokenUri::parse(t.uri()), pin("wrong")); }) == ErrorCode::bad_password);
    const Token token = Token::open(TokenUri::parse(t.uri()), pin(test::kTestPin));
    const TokenImport put = token.import_key(m.bundle);
    const std::vector<std::byte> msg(16, std::byte{1});
    CHECK(code_of([&] { (void)token.sign(TokenUri::parse(t.uri() + ";id=%99"), msg, SignScheme::rsa_pss_sha256); }) ==
          ErrorCode::not_found);
    CHECK(code_of([&] { (void)token.remove_objects(TokenUri::parse(t.uri())); }) == ErrorCode::invalid_argument);
    // Removing by id takes the three objects; signing then finds no key.
    CHECK(token.remove_objects(TokenUri::parse(put.key_uri)) == 3);
    CHECK(certificates_on(token) == 0);
    CHECK(code_of([&] { (void)token.sign(TokenUri::parse(put.key_uri), msg, SignScheme::rsa_pss_sha256); }) ==
          ErrorCode::not_found);
  }
}

TEST_SUITE("token import") {
  TEST_CASE("the store records a token key on every backend - current_bundle gives its URI, not the key - renewal puts the successor beside it") {
    DPGCERT_REQUIRE_SOFTHSM();
    for (const std::string& backend : testing::testable_backends()) {
      INFO("backend: " << backend);
      TempDir dir;
      SoftHsmToken t("store-" + backend);
      const Token token = Token::open(TokenUri::parse(t.uri()), pin(test::kTestPin));
      StoreOptions o;
      o.location = *testing::location_for(backend, dir);
      o.actor = "tester";
      o.clock = std::make_shared<FixedClock>(kNow);
      auto store = Store::create(std::move(o), vault::KeySource::key_file(dir.path() / "store.key"));
      Organisation org;
      org.cvr = "12345674";
      org.name = "Kunde A/S";
      (void)store->add_organisation(org);
      Mailbox mb;
      mb.address = "sikkerpost@kunde.dk";
      mb.organisation_cvr = "12345674";
      (void)store->add_mailbox(mb);
      const auto put = [&](testing::CertFactory& f, const testing::LeafSpec& s) {
        const SecretBytes pw = test::pw("Test1234");
        testing::Made m = f.made(s, pw);
        ImportOptions io;
        io.mailbox = "sikkerpost@kunde.dk";
        io.report = testing::passing_report(m.certificate, kNow);
        return std::make_pair(store->import(m.bundle, m.pkcs12, pw, io), std::move(m.certificate));
      };
      testing::CertFactory old_keys(2048);
      const auto [first, first_cert] = put(old_keys, spec("Gateway 2025", -10, 300));
      const std::string fp = first.record->fingerprint;
      CHECK_FALSE(store->token_key(fp).has_value());
      // Before: the gateway gets the key itself.
      CHECK(store->current_bundle("sikkerpost@kunde.dk")->bundle.private_key() != nullptr);

      const TokenKeyRecord rec = store->import_to_token(fp, token);
      CHECK(rec.created == 3);
      CHECK(rec.fingerprint == fp);
      CHECK(rec.token_uri.find("serial=" + t.serial()) != std::string::npos);
      CHECK(rec.imported_by == "tester");
      const auto audit = store->audit_log();
      REQUIRE_FALSE(audit.empty());
      CHECK(audit.back().action == "certificate.token_import");
      CHECK(audit.back().details.find(test::kTestPin) == std::string::npos);
      // Again: nothing on the token, no audit line.
      CHECK(store->import_to_token(fp, token).created == 0);
      CHECK(store->audit_log().size() == audit.size());
      CHECK(certificates_on(token) == 1);

      // The gateway's call: the key's URI, the certificate, no key, no PKCS#12, no password.
      const auto current = store->current_bundle("sikkerpost@kunde.dk");
      REQUIRE(current.has_value());
      REQUIRE(current->key_uri.has_value());
      CHECK(*current->key_uri == rec.key_uri);
      CHECK(current->bundle.private_key() == nullptr);
      CHECK(current->bundle.leaf() == first_cert);
      CHECK(current->pkcs12.empty());
      CHECK(current->password.empty());
      const std::string text = "signed by the gateway";
      const auto sig = token.sign(TokenUri::parse(*current->key_uri), std::as_bytes(std::span(text.data(), text.size())),
                                  SignScheme::rsa_pkcs1v15_sha256);
      CHECK(openssl_verifies(first_cert, text, sig, false));
      // Export still has the sealed PKCS#12 (backups, moving to another token).
      CHECK(store->unseal(fp).bundle.private_key() != nullptr);

      // Still tracked: the certificate stays active and expiring.
      CHECK(store->count(CertificateQuery::expiring_before(kNow + std::chrono::days(400))) == 1);
      // Active: its objects stay.
      CHECK(code_of([&] { (void)store->remove_from_token(fp, token); }) == ErrorCode::conflict);

      // Renewal: the successor (a new key) goes on the token beside the old objects.
      testing::CertFactory new_keys(2048);
      const auto [second, second_cert] = put(new_keys, spec("Gateway 2026", -1, 1000));
      CHECK(store->find(fp)->status == CertificateStatus::superseded);
      const TokenKeyRecord next = store->import_to_token(second.record->fingerprint, token);
      CHECK(next.created == 3);
      CHECK(next.object_id != rec.object_id);
      CHECK(certificates_on(token) == 2);
      CHECK(store->current_bundle("sikkerpost@kunde.dk")->key_uri == next.key_uri);
      CHECK(store->token_keys().size() == 2);

      // The superseded certificate's objects go on request; the successor's stay.
      CHECK(store->remove_from_token(fp, token) == 3);
      CHECK_FALSE(store->token_key(fp).has_value());
      CHECK(certificates_on(token) == 1);
      CHECK(store->audit_log().back().action == "certificate.token_remove");
      CHECK(code_of([&] { (void)store->remove_from_token(fp, token); }) == ErrorCode::not_found);
      CHECK(store->check_integrity().ok());

      // A copy carries the token keys along.
      if (backend == "sqlite") {
        StoreOptions to;
        to.location = (dir.path() / "copy.db").string();
        const CopyResult copied = store->copy_to(to);
        bool carried = false;
        for (const auto& table : copied.tables) carried = carried || (table.name == "token_keys" && table.rows == 1);
        CHECK(carried);
      }
    }
  }
}
