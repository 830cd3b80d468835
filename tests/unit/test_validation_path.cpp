// Path validation options of the generic profile: the initial policy set, chain revocation,
// extended key usage, maximum depth, key strength over the whole path; OCES1 recognition.
// Vectors: NIST PKITS and x509-limbo from ../shared (skipped without it); OCES1 certificates made
// here by the openssl CLI.
#include <dpgcert/error.hpp>
#include <dpgcert/oces.hpp>
#include <dpgcert/validation.hpp>
#include <dpgcert/validation_json.hpp>
#include <dpgcert/x509.hpp>

#include "support/test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <string>

using namespace dpgcert;
namespace fs = std::filesystem;

namespace {

constexpr const char* kAnyPolicy = "2.5.29.32.0";
constexpr const char* kNistPolicy1 = "2.16.840.1.101.3.2.1.48.1";
constexpr const char* kNistPolicy2 = "2.16.840.1.101.3.2.1.48.2";

Certificate pkits_cert(const fs::path& shared, const std::string& name) {
  return Certificate::from_der(test::read_file(shared / "vectors/pkits/certs" / (name + ".crt")));
}
Crl pkits_crl(const fs::path& shared, const std::string& name) {
  return Crl::from_der(test::read_file(shared / "vectors/pkits/crls" / (name + ".crl")));
}

/// A PKITS path as the PKITS runs use it: generic, every CRL, chain revocation required.
ValidationInput pkits_input(const fs::path& shared, const std::vector<std::string>& cas, const std::vector<std::string>& crls) {
  ValidationInput in;
  in.at = parse_rfc3339("2011-04-15T00:00:00Z");
  in.anchors = TrustAnchors::from_certificates({pkits_cert(shared, "TrustAnchorRootCertificate")});
  for (const auto& c : cas) in.intermediates.push_back(pkits_cert(shared, c));
  in.crls.push_back(pkits_crl(shared, "TrustAnchorRootCRL"));
  for (const auto& c : crls) in.crls.push_back(pkits_crl(shared, c));
  in.policy = ValidationPolicy::generic();
  in.policy.set_min_key_bits(1024);
  in.policy.weak_signature_digests.clear();
  in.policy.revocation = RevocationScope::chain;
  in.policy.require_revocation_data = true;
  in.policy.stale_crl_fails = true;
  return in;
}

/// One x509-limbo case: anchors, intermediates, leaf, time; generic policy.
struct LimboCase {
  ValidationInput in;
  Certificate leaf;
};

LimboCase limbo_case(const fs::path& shared, const std::string& id) {
  static const nlohmann::json doc = nlohmann::json::parse(test::read_text(shared / "vectors/limbo/limbo.json"));
  for (const auto& tc : doc.at("testcases")) {
    if (tc.at("id") != id) continue;
    const auto pems = [](const nlohmann::json& list) {
      std::vector<Certificate> out;
      for (const auto& p : list) {
        const std::string s = p.get<std::string>();
        for (auto& c : load_certificates_pem(s)) out.push_back(c);
      }
      return out;
    };
    ValidationInput in;
    in.at = tc.at("validation_time").is_null() ? parse_rfc3339("2030-01-01T00:00:00Z")
                                                : parse_rfc3339(tc.at("validation_time").get<std::string>().substr(0, 19) + "Z");
    in.anchors = TrustAnchors::from_certificates(pems(tc.at("trusted_certs")));
    in.intermediates = pems(tc.at("untrusted_intermediates"));
    in.policy = ValidationPolicy::generic();
    return {in, load_certificates_pem(tc.at("peer_certificate").get<std::string>()).at(0)};
  }
  throw std::runtime_error("no limbo case " + id);
}

#define DPGCERT_REQUIRE_LIMBO(shared)                                                 \
  DPGCERT_REQUIRE_SHARED(shared);                                                     \
  if (!fs::exists(shared / "vectors/limbo/limbo.json")) {                             \
    MESSAGE("skipped: ../shared/vectors/limbo is absent");                            \
    return;                                                                           \
  }

}  // namespace

TEST_SUITE("validation path options") {
  TEST_CASE("initial policy set: empty means {anyPolicy}, also with an explicit policy (PKITS 4.8.1)") {
    DPGCERT_REQUIRE_SHARED(shared);
    ValidationInput in = pkits_input(shared, {"GoodCACert"}, {"GoodCACRL"});
    in.policy.explicit_policy = true;
    const Certificate ee = pkits_cert(shared, "ValidCertificatePathTest1EE");
    // Before: the empty set went to OpenSSL as an empty list, which it reads as "no policy
    // acceptable": 4.8.1 failed with "no explicit policy" while {anyPolicy} passed.
    in.policy.initial_policy_set.clear();
    const ValidationReport empty = validate(ee, in);
    CAPTURE(to_text(empty));
    CHECK(empty.ok());
    in.policy.initial_policy_set = {kAnyPolicy};
    CHECK(validate(ee, in).ok());
    in.policy.initial_policy_set = {kNistPolicy1};
    CHECK(validate(ee, in).ok());
    // Negative: a policy the path does not carry, with an explicit policy required.
    in.policy.initial_policy_set = {kNistPolicy2};
    const ValidationReport other = validate(ee, in);
    CHECK_FALSE(other.ok());
    CHECK(other.status(check_id::chain) == CheckStatus::fail);
    CHECK(other.find(check_id::chain)->message.find("explicit policy") != std::string::npos);
  }

  TEST_CASE("chain revocation: a revoked CA (PKITS 4.4.2) and a revoked CRL signer (4.4.21) fail the leaf") {
    DPGCERT_REQUIRE_SHARED(shared);
    {
      ValidationInput in = pkits_input(shared, {"GoodCACert", "RevokedsubCACert"}, {"GoodCACRL", "RevokedsubCACRL"});
      const Certificate ee = pkits_cert(shared, "InvalidRevokedCATest2EE");
      const ValidationReport chain = validate(ee, in);
      CAPTURE(to_text(chain));
      CHECK(chain.status(check_id::revocation) == CheckStatus::fail);
      CHECK(chain.find(check_id::revocation)->message.find("Revoked subCA") != std::string::npos);
      CHECK_FALSE(chain.ok());
      in.policy.revocation = RevocationScope::leaf;  // the leaf itself is not revoked
      CHECK(validate(ee, in).ok());
    }
    {
      ValidationInput in = pkits_input(shared,
                                       {"SeparateCertificateandCRLKeysCA2CertificateSigningCACert",
                                        "SeparateCertificateandCRLKeysCA2CRLSigningCert"},
                                       {"SeparateCertificateandCRLKeysCA2CRL"});
      const Certificate ee = pkits_cert(shared, "InvalidSeparateCertificateandCRLKeysTest21EE");
      const ValidationReport chain = validate(ee, in);
      CAPTURE(to_text(chain));
      CHECK(chain.status(check_id::revocation) == CheckStatus::fail);
      CHECK_FALSE(chain.ok());
      in.policy.revocation = RevocationScope::leaf;  // only the CRL signer is revoked
      const ValidationReport leaf = validate(ee, in);
      CAPTURE(to_text(leaf));
      CHECK(leaf.status(check_id::revocation) != CheckStatus::fail);
    }
  }

  TEST_CASE("extended key usage: required names and OIDs, absent extension allowed, empty extension fails (x509-limbo)") {
    DPGCERT_REQUIRE_LIMBO(shared);
    auto wrong = limbo_case(shared, "rfc5280::eku::ee-wrong-eku");
    CHECK(validate(wrong.leaf, wrong.in).ok());  // nothing required: not judged
    wrong.in.policy.required_extended_key_usage = {"serverAuth"};
    const ValidationReport r = validate(wrong.leaf, wrong.in);
    CAPTURE(to_text(r));
    CHECK(r.status(check_id::key_usage) == CheckStatus::fail);
    CHECK(r.find(check_id::key_usage)->message.find("lacks serverAuth") != std::string::npos);
    wrong.in.policy.required_extended_key_usage = {"1.3.6.1.5.5.7.3.1"};
    CHECK(validate(wrong.leaf, wrong.in).status(check_id::key_usage) == CheckStatus::fail);
    wrong.in.policy.required_extended_key_usage = {"no-such-usage"};
    CHECK(test::code_of([&] { (void)validate(wrong.leaf, wrong.in); }) == ErrorCode::invalid_argument);

    auto without = limbo_case(shared, "rfc5280::eku::ee-without-eku");
    without.in.policy.required_extended_key_usage = {"serverAuth"};
    const ValidationReport w = validate(without.leaf, without.in);
    CHECK(w.status(check_id::key_usage) == CheckStatus::pass);
    CHECK(w.ok());

    auto empty = limbo_case(shared, "rfc5280::eku::ee-eku-empty");
    CHECK(validate(empty.leaf, empty.in).status(check_id::key_usage) == CheckStatus::fail);
  }

  TEST_CASE("minimum key strength judges every certificate of the path, the anchor too (x509-limbo weak roots)") {
    DPGCERT_REQUIRE_LIMBO(shared);
    for (const char* id : {"webpki::forbidden-weak-rsa-key-in-root", "webpki::forbidden-p192-root"}) {
      CAPTURE(id);
      auto c = limbo_case(shared, id);
      const ValidationReport r = validate(c.leaf, c.in);
      CAPTURE(to_text(r));
      CHECK(r.status(check_id::chain) == CheckStatus::pass);  // OpenSSL alone accepts the path
      CHECK(r.status(check_id::key_strength) == CheckStatus::fail);
      CHECK(r.find(check_id::key_strength)->message.find("CA '") != std::string::npos);
      CHECK_FALSE(r.ok());
      c.in.policy.set_min_key_bits(0);  // the check off: accepted
      CHECK(validate(c.leaf, c.in).ok());
    }
    ValidationPolicy p;
    CHECK(test::code_of([&] { p.set_min_key_bits(-1); }) == ErrorCode::invalid_argument);
  }

  TEST_CASE("maximum depth (x509-limbo pathlen::max-chain-depth-*)") {
    DPGCERT_REQUIRE_LIMBO(shared);
    auto ok = limbo_case(shared, "pathlen::max-chain-depth-0");
    auto exhausted = limbo_case(shared, "pathlen::max-chain-depth-0-exhausted");
    ok.in.policy.max_depth = 0;
    exhausted.in.policy.max_depth = 0;
    CHECK(validate(ok.leaf, ok.in).ok());
    const ValidationReport r = validate(exhausted.leaf, exhausted.in);
    CAPTURE(to_text(r));
    CHECK(r.status(check_id::chain) == CheckStatus::fail);
    exhausted.in.policy.max_depth.reset();
    CHECK(validate(exhausted.leaf, exhausted.in).ok());
  }

  TEST_CASE("policy names and revocation scopes as the tool spells them") {
    CHECK(ValidationPolicy::named("oces-gateway").oces_profile);
    CHECK(ValidationPolicy::named("oces_gateway").revocation == RevocationScope::chain);
    CHECK_FALSE(ValidationPolicy::named("generic").oces_profile);
    CHECK(ValidationPolicy::named("generic").revocation == RevocationScope::leaf);
    CHECK(test::code_of([] { (void)ValidationPolicy::named("strict"); }) == ErrorCode::invalid_argument);
    CHECK(parse_revocation_scope("off") == RevocationScope::none);
    CHECK(parse_revocation_scope("leaf") == RevocationScope::leaf);
    CHECK(parse_revocation_scope("chain") == RevocationScope::chain);
    CHECK(test::code_of([] { (void)parse_revocation_scope("all"); }) == ErrorCode::invalid_argument);
    const auto gw = ValidationPolicy::oces_gateway();
    CHECK(gw.required_extended_key_usage == std::vector<std::string>{"emailProtection"});
    CHECK(gw.ca_crls_optional);
  }

  TEST_CASE("OCES1 (TDC) certificates are recognised and refused as a retired generation") {
    test::TempDir dir;
    const std::string d = test::shell_quote(dir.path().string());
    const std::string script =
        "set -e; cd " + d + "; "
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem "
        "-subj '/C=DK/O=TDC/CN=TDC OCES Systemtest CA II' -days 3650 "
        "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null; "
        "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr "
        "-subj '/C=DK/O=Testfirma A\\/S/CN=Testfirma A\\/S - VOCES/serialNumber=CVR:12345674-UID:1234567890123' 2>/dev/null; "
        "printf 'basicConstraints=CA:FALSE\\nkeyUsage=critical,digitalSignature,keyEncipherment\\n' > ext.cnf; "
        "openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3000 -extfile ext.cnf "
        "-out leaf.pem 2>/dev/null";
    REQUIRE(std::system(("bash -c " + test::shell_quote(script)).c_str()) == 0);
    const Certificate ca = load_certificates(test::read_file(dir.path() / "ca.pem")).at(0);
    const Certificate leaf = load_certificates(test::read_file(dir.path() / "leaf.pem")).at(0);

    const oces::Identity id = oces::identify(leaf);
    CHECK(id.generation == oces::Generation::oces1);
    CHECK(oces::to_string(id.generation) == "oces1");
    CHECK(oces::parse_generation("oces1") == oces::Generation::oces1);
    CHECK(id.type == oces::CertificateType::voces);
    CHECK(id.cvr == std::optional<std::string>("12345674"));
    CHECK(id.uid == std::optional<std::string>("1234567890123"));
    CHECK(id.environment == oces::Environment::test);
    CHECK(oces::summary(id).rfind("OCES1 ", 0) == 0);
    // Negative: the same serialNumber under another issuer is not OCES1.
    CHECK(oces::identify(ca).generation != oces::Generation::oces1);

    ValidationInput in;
    in.at = leaf.not_before() + std::chrono::seconds(86400);
    in.anchors = TrustAnchors::from_certificates({ca});
    const ValidationReport r = validate(leaf, in);
    CAPTURE(to_text(r));
    CHECK(r.status(check_id::chain) == CheckStatus::pass);
    CHECK(r.status(check_id::certificate_type) == CheckStatus::fail);
    CHECK(r.find(check_id::certificate_type)->message.find("retired generation") != std::string::npos);
    CHECK(to_json(r)["certificate"]["oces"]["generation"] == "oces1");
  }

  TEST_CASE("the type message for a certificate that is not OCES names what is accepted") {
    DPGCERT_REQUIRE_SHARED(shared);
    ValidationInput in = pkits_input(shared, {"GoodCACert"}, {"GoodCACRL"});
    in.policy.oces_profile = true;
    in.policy.accepted_types = ValidationPolicy::oces_gateway().accepted_types;
    const ValidationReport r = validate(pkits_cert(shared, "ValidCertificatePathTest1EE"), in);
    const std::string& msg = r.find(check_id::certificate_type)->message;
    CHECK(r.status(check_id::certificate_type) == CheckStatus::fail);
    CHECK(msg.find("not an OCES certificate (") == 0);
    CHECK(msg.find("accepted here: VOCES") != std::string::npos);
    CHECK(msg.find("is not accepted here") == std::string::npos);
  }
}
