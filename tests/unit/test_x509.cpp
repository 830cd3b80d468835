#include "support/test_support.hpp"
#include "x509/certificate_impl.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/x509.hpp>

#include <doctest/doctest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <random>
#include <thread>

using namespace dpgcert;
namespace fs = std::filesystem;

namespace {

using test::code_of;

std::string base64(std::span<const std::byte> der) {
  std::string out(4 * ((der.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(der.data()), static_cast<int>(der.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace

TEST_SUITE("x509") {
  TEST_CASE("a real OCES3 organisation certificate (PEM) is parsed field by field") {
    DPGCERT_REQUIRE_SHARED(shared);
    const auto certs = load_certificates(
        test::read_file(shared / "samples/oces/oces3-certs/emcs-b2b-server-test-2023-04-11.pem"));
    REQUIRE(certs.size() == 1);
    const Certificate& c = certs[0];
    CHECK(c.version() == 3);
    CHECK(c.subject().to_string() ==
          "C=DK,organizationIdentifier=NTRDK-19552101,O=Skatteforvaltningen,"
          "serialNumber=UI:DK-O:G:5e50b9bb-22fd-483d-baf7-fd077ed975f5,CN=Skatteministeriet - B2B gateway TSE TEST");
    // These certificates encode CN first and C last; RFC 4514 text reverses the encoding order
    // (the same text as `openssl x509 -nameopt RFC2253`).
    CHECK(c.subject().rdns().front().front().short_name == "CN");
    CHECK(c.issuer().to_string() == "C=DK,O=Den Danske Stat,OU=Test - cti,CN=Den Danske Stat OCES udstedende-CA 1");
    CHECK(c.subject().first("organizationIdentifier") == "NTRDK-19552101");
    CHECK(c.subject().first("2.5.4.97") == "NTRDK-19552101");
    CHECK(c.subject().first("cn") == "Skatteministeriet - B2B gateway TSE TEST");
    CHECK_FALSE(c.subject().first("OU").has_value());
    CHECK(c.serial_hex() == "047748500ccf123e1d3a4798462540f4619f5269");
    CHECK(format_rfc3339(c.not_before()) == "2023-04-11T08:38:58Z");
    CHECK(format_rfc3339(c.not_after()) == "2026-04-10T08:38:57Z");
    CHECK(c.fingerprint_hex() == "e2bd104621b507d711b3c1cb6b240b6c00a5b2fb3c510a80e92b5724703f8edd");
    CHECK(c.public_key().algorithm == "RSA");
    CHECK(c.public_key().bits == 3072);
    CHECK(c.signature_algorithm() == "RSASSA-PSS");
    CHECK(c.signature_digest() == "SHA256");
    REQUIRE(c.key_usage().has_value());
    CHECK(c.key_usage()->digital_signature);
    CHECK(c.key_usage()->key_encipherment);
    CHECK_FALSE(c.key_usage()->key_cert_sign);
    CHECK(c.key_usage()->critical);
    CHECK(c.key_usage()->names() == std::vector<std::string>{"digitalSignature", "keyEncipherment"});
    CHECK(c.extended_key_usage().empty());
    CHECK(c.subject_alt_names().empty());
    CHECK(c.policies() == std::vector<std::string>{"0.4.0.2042.1.1", "1.2.208.169.1.1.1.3.7"});
    CHECK(c.authority_info_access().ocsp == std::vector<std::string>{"http://ca1.cti-gov.dk/ocsp"});
    CHECK(c.authority_info_access().ca_issuers ==
          std::vector<std::string>{"http://ca1.cti-gov.dk/oces/issuing/1/cacert/issuing.cer"});
    CHECK(c.crl_distribution_points() ==
          std::vector<std::string>{"http://ca1.cti-gov.dk/oces/issuing/1/crl/issuing.crl"});
    REQUIRE(c.basic_constraints().has_value());
    CHECK_FALSE(c.basic_constraints()->ca);
    CHECK(c.basic_constraints()->critical);
    CHECK_FALSE(c.is_ca());
    CHECK_FALSE(c.is_self_issued());
    CHECK(c.subject_key_id().has_value());
    CHECK(c.authority_key_id().has_value());
  }

  TEST_CASE("a real OCES2 CA certificate (DER) and its PEM twin are the same value") {
    DPGCERT_REQUIRE_SHARED(shared);
    const auto der = test::read_file(shared / "samples/oces/oces2-ca/TRUST2408-OCES-CA-V.cert.der");
    const Certificate c = Certificate::from_der(der);
    CHECK(c.subject().to_string() == "CN=TRUST2408 OCES CA V,O=TRUST2408,C=DK");
    CHECK(c.issuer().to_string() == "CN=TRUST2408 OCES Primary CA,O=TRUST2408,C=DK");
    CHECK(c.serial_hex() == "56d8f627");
    CHECK(format_rfc3339(c.not_before()) == "2019-12-09T13:41:27Z");
    CHECK(format_rfc3339(c.not_after()) == "2034-12-09T14:11:27Z");
    CHECK(c.fingerprint_hex() == "cd49d4f999d55bb7b01ac606b563f7490bbff99c0f128d26f598003424a0c0f0");
    CHECK(c.is_ca());
    CHECK(c.key_usage()->key_cert_sign);
    CHECK(c.key_usage()->crl_sign);
    CHECK(c.policies() == std::vector<std::string>{"2.5.29.32.0"});
    CHECK(c.crl_distribution_points() == std::vector<std::string>{"http://crl.oces.trust2408.com/oces.crl"});
    const auto pem = load_certificates(test::read_file(shared / "samples/oces/oces2-ca/TRUST2408-OCES-CA-V.cert.pem"));
    REQUIRE(pem.size() == 1);
    CHECK(pem[0] == c);
    CHECK(std::equal(c.der().begin(), c.der().end(), der.begin(), der.end()));
    // PEM out and back in is the same certificate.
    const auto again = load_certificates_pem(c.to_pem());
    REQUIRE(again.size() == 1);
    CHECK(again[0] == c);
    CHECK(c.to_pem().rfind("-----BEGIN CERTIFICATE-----\n", 0) == 0);
  }

  TEST_CASE("every certificate file in the samples loads") {
    DPGCERT_REQUIRE_SHARED(shared);
    int loaded = 0;
    for (const char* dir : {"samples/oces/oces2-ca", "samples/oces/oces3-ca", "samples/oces/oces3-certs"}) {
      for (const auto& entry : fs::directory_iterator(shared / dir)) {
        CAPTURE(entry.path().string());
        const auto certs = load_certificates(test::read_file(entry.path()));
        CHECK(certs.size() >= 1);
        for (const auto& c : certs) {
          CHECK(c.fingerprint_hex().size() == 64);
          CHECK(c.not_before() < c.not_after());
          CHECK_FALSE(c.subject().empty());
        }
        ++loaded;
      }
    }
    CHECK(loaded >= 20);
  }

  TEST_CASE("a DER certificate saved as .p12 is a certificate") {
    DPGCERT_REQUIRE_SHARED(shared);
    const auto certs = load_certificates(test::read_file(shared / "samples/oces/oces2-preprod/system_vii.p12"));
    REQUIRE(certs.size() == 1);
    CHECK(certs[0].subject().first("CN") == "TRUST2408 Systemtest VII Primary CA");
    CHECK(certs[0].is_self_issued());
  }

  TEST_CASE("several PEM certificates, text between them, bare base64 and concatenated DER") {
    DPGCERT_REQUIRE_SHARED(shared);
    const auto a = Certificate::from_der(test::read_file(shared / "samples/oces/oces2-ca/TRUST2408-OCES-CA-V.cert.der"));
    const auto b = Certificate::from_der(test::read_file(shared / "samples/oces/oces2-ca/TRUST2408-OCES-CA-IV.cert.der"));
    const std::string bundle = "Bag Attributes\n  friendlyName: x\nsubject=...\n" + a.to_pem() + "\n# comment\n" + b.to_pem();
    const auto both = load_certificates_pem(bundle);
    REQUIRE(both.size() == 2);
    CHECK(both[0] == a);
    CHECK(both[1] == b);

    std::string b64 = base64(a.der());
    for (std::size_t i = 64; i < b64.size(); i += 65) b64.insert(i, "\r\n");
    const auto bare = load_certificates(std::as_bytes(std::span(b64)));
    REQUIRE(bare.size() == 1);
    CHECK(bare[0] == a);

    std::vector<std::byte> concat(a.der().begin(), a.der().end());
    concat.insert(concat.end(), b.der().begin(), b.der().end());
    const auto two = load_certificates(concat);
    REQUIRE(two.size() == 2);
    CHECK(two[1] == b);
    CHECK(a != b);
  }

  TEST_CASE("bad input gives malformed or limit_exceeded, never a crash") {
    DPGCERT_REQUIRE_SHARED(shared);
    const auto der = test::read_file(shared / "samples/oces/oces2-ca/TRUST2408-OCES-CA-V.cert.der");
    // truncated
    CHECK(code_of([&] { (void)Certificate::from_der(std::span(der).first(der.size() - 1)); }) == ErrorCode::malformed);
    CHECK(code_of([&] { (void)load_certificates(std::span(der).first(100)); }) == ErrorCode::malformed);
    // trailing garbage
    auto trailing = der;
    trailing.push_back(std::byte{0});
    CHECK(code_of([&] { (void)Certificate::from_der(trailing); }) == ErrorCode::malformed);
    CHECK(code_of([&] { (void)load_certificates(trailing); }) == ErrorCode::malformed);
    // empty, random bytes
    CHECK(code_of([&] { (void)Certificate::from_der({}); }) == ErrorCode::malformed);
    std::mt19937 rng(42);
    std::vector<std::byte> noise(2000);
    for (auto& b : noise) b = static_cast<std::byte>(rng() & 0xff);
    noise[0] = std::byte{0x30};
    CHECK(code_of([&] { (void)load_certificates(noise); }) == ErrorCode::malformed);
    noise[0] = std::byte{0x41};
    CHECK(code_of([&] { (void)load_certificates(noise); }) == ErrorCode::malformed);
    // PEM without END, PEM with broken base64, PEM with only a key
    const auto pem = Certificate::from_der(der).to_pem();
    CHECK(code_of([&] { (void)load_certificates_pem(pem.substr(0, pem.size() - 30)); }) == ErrorCode::malformed);
    std::string broken = pem;
    broken[40] = '*';
    CHECK(code_of([&] { (void)load_certificates_pem(broken); }) == ErrorCode::malformed);
    CHECK(code_of([&] { (void)load_certificates_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"); }) ==
          ErrorCode::malformed);
    CHECK(code_of([&] { (void)load_certificates_pem("hello world"); }) == ErrorCode::malformed);
    // oversize and too many certificates
    Limits small;
    small.max_input_bytes = 1000;
    const Context tight(small);
    CHECK(code_of([&] { (void)Certificate::from_der(der, tight); }) == ErrorCode::limit_exceeded);
    Limits few;
    few.max_certificates = 2;
    const Context ctx_few(few);
    CHECK(code_of([&] { (void)load_certificates_pem(pem + pem + pem, ctx_few); }) == ErrorCode::limit_exceeded);
    CHECK(load_certificates_pem(pem + pem, ctx_few).size() == 2);
  }

  TEST_CASE("names keep multi-valued RDNs, escape RFC 4514 specials and keep UTF-8") {
    const DistinguishedName dn({
        {{"2.5.4.6", "C", "DK"}},
        {{"2.5.4.10", "O", "Ærø Æbleværk ApS // CVR:12345674"}},
        {{"2.5.4.3", "CN", "sikkerpost, drift"}, {"2.5.4.5", "serialNumber", "CVR:12345674-FID:94731315"}},
    });
    CHECK(dn.to_string() == "CN=sikkerpost\\, drift+serialNumber=CVR:12345674-FID:94731315,O=Ærø Æbleværk ApS // CVR:12345674,C=DK");
    CHECK(dn.rdns().size() == 3);
    CHECK(dn.rdns()[2].size() == 2);
    CHECK(dn.values("SERIALNUMBER") == std::vector<std::string>{"CVR:12345674-FID:94731315"});
    CHECK(dn.first("2.5.4.10") == "Ærø Æbleværk ApS // CVR:12345674");
    const DistinguishedName odd({{{"2.5.4.3", "CN", " #lead+trail "}}});
    CHECK(odd.to_string() == "CN=\\ #lead\\+trail\\ ");
    const DistinguishedName hash({{{"2.5.4.3", "CN", "#x;y<z>\"q\\"}}});
    CHECK(hash.to_string() == "CN=\\#x\\;y\\<z\\>\\\"q\\\\");
  }

  TEST_CASE("synthetic PKI: multi-valued RDNs in either order and UTF-8 names") {
    const auto dir = test::test_data_dir();
    if (!fs::exists(dir / "manifest.json")) {
      MESSAGE("skipped: the synthetic PKI is not generated (run through ctest)");
      return;
    }
    int checked = 0;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (entry.path().extension() != ".pem" || entry.path().string().find(".crt") == std::string::npos) continue;
      CAPTURE(entry.path().string());
      for (const auto& c : load_certificates(test::read_file(entry.path()))) {
        for (const auto& rdn : c.subject().rdns()) {
          if (rdn.size() > 1) {
            CHECK(c.subject().to_string().find('+') != std::string::npos);
            ++checked;
          }
        }
      }
    }
    if (checked == 0) MESSAGE("no multi-valued RDN found in the synthetic PKI");
    CHECK(checked > 0);
  }

  TEST_CASE("certificates are shared safely across threads") {
    DPGCERT_REQUIRE_SHARED(shared);
    const auto der = test::read_file(shared / "samples/oces/oces3-certs/emcs-b2b-server-prod-2023-04-27.pem");
    const auto certs = load_certificates(der);
    REQUIRE(certs.size() == 1);
    const Certificate shared_cert = certs[0];
    std::vector<std::string> results(8);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < 8; ++i) {
      threads.emplace_back([&, i] {
        for (int k = 0; k < 50; ++k) {
          const Certificate copy = shared_cert;  // lazily decoded fields raced on purpose
          const auto fresh = load_certificates(der);
          results[i] = copy.fingerprint_hex() + copy.subject().to_string() + std::to_string(copy.policies().size()) +
                       fresh[0].fingerprint_hex();
        }
      });
    }
    for (auto& t : threads) t.join();
    for (const auto& r : results) CHECK(r == results[0]);
  }
  TEST_CASE("deferred certificates check framing at once and parse on first use") {
    DPGCERT_REQUIRE_SHARED(shared);
    const auto der = test::read_file(shared / "samples/oces/oces2-ca/TRUST2408-OCES-CA-V.cert.der");
    const Certificate eager = Certificate::from_der(der);
    const Certificate lazy = detail::certificate_from_der_deferred(der, Context::shared());
    CHECK(lazy == eager);
    CHECK(lazy.subject() == eager.subject());
    CHECK(lazy.serial_hex() == eager.serial_hex());
    CHECK(lazy.public_key().bits == eager.public_key().bits);
    CHECK(detail::native(lazy) != nullptr);
    const auto fields = detail::certificate_fields(der);
    REQUIRE(fields);
    CHECK(fields->spki.size() > 200);

    // Bad framing, truncation and trailing bytes are refused up front.
    auto deferred = [](std::vector<std::byte> d) { return detail::certificate_from_der_deferred(std::move(d), Context::shared()); };
    CHECK(code_of([&] { (void)deferred(std::vector<std::byte>(der.begin(), der.end() - 1)); }) == ErrorCode::malformed);
    auto trailing = der;
    trailing.push_back(std::byte{0});
    CHECK(code_of([&] { (void)deferred(trailing); }) == ErrorCode::malformed);
    CHECK(code_of([&] { (void)deferred({}); }) == ErrorCode::malformed);
    CHECK(code_of([&] { (void)deferred(std::vector<std::byte>(100, std::byte{0x30})); }) == ErrorCode::malformed);

    // Well framed but not a certificate OpenSSL accepts (notBefore as an OCTET STRING): the
    // accessors throw malformed, every time; native_or_null gives nullptr.
    auto bad_time = der;
    const std::byte utc[] = {std::byte{0x30}, std::byte{0x1e}, std::byte{0x17}, std::byte{0x0d}};
    auto at = std::search(bad_time.begin(), bad_time.end(), std::begin(utc), std::end(utc));
    if (at == bad_time.end()) {
      const std::byte gen[] = {std::byte{0x30}, std::byte{0x22}, std::byte{0x18}, std::byte{0x0f}};
      at = std::search(bad_time.begin(), bad_time.end(), std::begin(gen), std::end(gen));
    }
    REQUIRE(at != bad_time.end());
    *(at + 2) = std::byte{0x04};
    const Certificate broken = deferred(bad_time);
    CHECK(broken.der().size() == der.size());
    CHECK(code_of([&] { (void)broken.subject(); }) == ErrorCode::malformed);
    CHECK(code_of([&] { (void)broken.not_before(); }) == ErrorCode::malformed);
    CHECK(code_of([&] { (void)detail::native(broken); }) == ErrorCode::malformed);
    CHECK(detail::native_or_null(broken) == nullptr);

    // The first parse is raced on purpose.
    const Certificate raced = deferred(der);
    std::vector<std::thread> threads;
    std::vector<X509*> seen(4);
    for (std::size_t i = 0; i < seen.size(); ++i) threads.emplace_back([&, i] { seen[i] = detail::native(raced); });
    for (auto& t : threads) t.join();
    for (X509* x : seen) CHECK(x == seen[0]);
  }
}
