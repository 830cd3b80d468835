// Tests for dpgcert/validation.hpp: NIST PKITS through the generic policy, the real OCES2 test
// samples as the world had them in 2018, the synthetic OCES PKI of tests/data/make_pki.sh (one test
// per check id), CRL parsing and bad input, the JSON and text renderings, threads, and the CLI.
#include <dpgcert/context.hpp>
#include <dpgcert/error.hpp>
#include <dpgcert/oces.hpp>
#include <dpgcert/pkcs12.hpp>
#include <dpgcert/validation.hpp>
#include <dpgcert/validation_json.hpp>
#include <dpgcert/x509.hpp>

#include "support/test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <map>
#include <sstream>
#include <thread>
#include <unistd.h>

using namespace dpgcert;
namespace fs = std::filesystem;

namespace {

using test::code_of;

std::string describe(const ValidationReport& r) {
  std::string out;
  for (const auto& c : r.checks) {
    if (c.status == CheckStatus::fail || c.status == CheckStatus::warn) {
      out += std::string(to_string(c.status)) + " " + c.id + ": " + c.message + "\n";
    }
  }
  return out.empty() ? "all checks pass or skip" : out;
}

// ---- the synthetic PKI ----------------------------------------------------------------------

struct Pki {
  fs::path dir;
  nlohmann::json manifest;
  Time at;

  static const Pki& get() {
    static const Pki pki = [] {
      Pki p;
      p.dir = test::test_data_dir();
      p.manifest = nlohmann::json::parse(test::read_text(p.dir / "manifest.json"));
      p.at = parse_rfc3339(p.manifest.at("validation_time").get<std::string>());
      return p;
    }();
    return pki;
  }

  const nlohmann::json& entry(const std::string& path) const {
    for (const auto& f : manifest.at("files")) {
      if (f.at("path") == path) return f;
    }
    throw std::runtime_error("not in the manifest: " + path);
  }
  Certificate cert(const std::string& path) const { return load_certificates(test::read_file(dir / path)).at(0); }
  Crl crl(const std::string& path) const { return load_crls(test::read_file(dir / path)).at(0); }
  Pkcs12Bundle p12(const std::string& path) const {
    const auto& e = entry(path);
    return load_pkcs12(test::read_file(dir / path), test::pw(e.at("password").get<std::string>()));
  }
  /// Anchors: the hierarchy's root; intermediates: its issuing CA.
  ValidationInput input(const std::string& hierarchy) const {
    ValidationInput in;
    in.at = at;
    in.anchors = TrustAnchors::from_certificates({cert(hierarchy + "/root.crt.pem")});
    in.intermediates = {cert(hierarchy + "/ca.crt.pem")};
    return in;
  }
};

// ---- PKITS ----------------------------------------------------------------------------------

struct PkitsOutcome {
  bool matched = false;
  std::string line;
};

PkitsOutcome run_pkits_case(const fs::path& pkits, const nlohmann::json& tc, const nlohmann::json& oids) {
  const auto cert = [&](const std::string& name) {
    return Certificate::from_der(test::read_file(pkits / "certs" / (name + ".crt")));
  };
  const auto names = tc.at("certs").get<std::vector<std::string>>();
  ValidationInput in;
  in.at = parse_rfc3339(tc.at("validation_time").get<std::string>());
  in.anchors = TrustAnchors::from_certificates({cert(names.front())});
  for (std::size_t i = 1; i + 1 < names.size(); ++i) in.intermediates.push_back(cert(names[i]));
  for (const auto& name : tc.at("crls")) {
    in.crls.push_back(Crl::from_der(test::read_file(pkits / "crls" / (name.get<std::string>() + ".crl"))));
  }
  // The generic policy as PKITS needs it: RFC 5280 only. PKITS dates from 2011 (1024-bit keys,
  // SHA-1 signatures), and supplies CRLs for every CA: check them all, and require them.
  ValidationPolicy policy = ValidationPolicy::generic();
  policy.rsa_fail_below_bits = 0;
  policy.rsa_warn_below_bits = 0;
  policy.weak_signature_digests.clear();
  policy.min_days = 0;
  policy.revocation = RevocationScope::chain;
  policy.require_revocation_data = true;
  policy.stale_crl_fails = true;
  std::stringstream set(tc.at("initial_policy_set").get<std::string>());
  for (std::string name; std::getline(set, name, ',');) policy.initial_policy_set.push_back(oids.at(name).get<std::string>());
  policy.explicit_policy = tc.at("initial_explicit_policy").get<bool>();
  policy.inhibit_policy_mapping = tc.at("initial_policy_mapping_inhibit").get<bool>();
  policy.inhibit_any_policy = tc.at("initial_inhibit_any_policy").get<bool>();
  in.policy = policy;

  const ValidationReport r = validate(cert(names.back()), in);
  const bool expected = tc.at("expected_result") == "SUCCESS";
  PkitsOutcome out;
  out.matched = r.ok() == expected;
  out.line = tc.at("title").get<std::string>() + ": expected " +
             (expected ? "SUCCESS" : "FAILURE") + ", got " + std::string(to_string(r.verdict)) + "; " + describe(r);
  return out;
}

}  // namespace

TEST_SUITE("validation") {
  // ---- NIST PKITS ---------------------------------------------------------------------------

  TEST_CASE("NIST PKITS: all 249 cases through the generic policy match at least openssl verify (239)") {
    DPGCERT_REQUIRE_SHARED(shared);
    const fs::path pkits = shared / "vectors/pkits";
    const auto doc = nlohmann::json::parse(test::read_text(pkits / "pkits.json"));
    const auto& cases = doc.at("testcases");
    REQUIRE(cases.size() == 249);
    int matched = 0;
    std::string mismatches;
    for (const auto& tc : cases) {
      const PkitsOutcome o = run_pkits_case(pkits, tc, doc.at("policy_oids"));
      if (o.matched) {
        ++matched;
      } else {
        mismatches += "  " + o.line;
      }
    }
    MESSAGE("PKITS: " << matched << " of " << cases.size() << " match; mismatches:\n" << mismatches);
    CHECK(matched >= 239);
  }

  // ---- real OCES2 samples ------------------------------------------------------------------

  TEST_CASE("real OCES2 test samples at 2018-06-01: gyldig warns, udloebet fails on validity, production roots fail the chain") {
    DPGCERT_REQUIRE_SHARED(shared);
    const fs::path dir = shared / "samples/oces/oces2-preprod";
    const fs::path ca = shared / "samples/oces/oces2-ca";
    const auto root = load_certificates(test::read_file(ca / "TRUST2408-Systemtest-VII-Primary-CA.cert.pem")).at(0);
    const auto viii = load_certificates(test::read_file(ca / "TRUST2408-Systemtest-VIII-CA.cert.pem")).at(0);

    ValidationInput test_input;
    test_input.at = parse_rfc3339("2018-06-01T00:00:00Z");
    test_input.anchors = TrustAnchors::from_certificates({root});
    test_input.intermediates = {viii};
    test_input.policy.expected_environment = oces::Environment::test;
    test_input.policy.expected_cvr = "30808460";

    ValidationInput prod_input = test_input;
    prod_input.anchors = TrustAnchors::from_catalogue(oces::Catalogue::builtin(), oces::Environment::production);
    prod_input.policy.expected_environment.reset();

    int seen = 0;
    for (const char* name : {"VOCES_gyldig", "FOCES_gyldig", "VOCES_avanceret", "MOCES_gyldig", "MOCES_cpr_gyldig",
                             "VOCES_spaerret", "FOCES_spaerret", "MOCES_spaerret", "VOCES_udloebet", "FOCES_udloebet",
                             "MOCES_udloebet"}) {
      CAPTURE(name);
      const std::string n = name;
      const auto bundle = load_pkcs12(test::read_file(dir / (n + ".p12")), test::pw("Test1234"));
      const ValidationReport r = validate(bundle, test_input);
      CAPTURE(to_text(r));
      ++seen;
      CHECK(r.status(check_id::pkcs12_opened) == CheckStatus::pass);
      CHECK(r.status(check_id::key_matches_certificate) == CheckStatus::pass);
      CHECK(r.status(check_id::pkcs12_profile) == CheckStatus::warn);  // 3DES, SHA-1 MAC, 1024 iterations
      CHECK(r.status(check_id::key_strength) == CheckStatus::warn);    // RSA 2048
      CHECK(r.status(check_id::chain) == CheckStatus::pass);
      CHECK(r.status(check_id::environment) == CheckStatus::pass);
      CHECK(r.status(check_id::cvr) == CheckStatus::pass);
      CHECK(r.status(check_id::revocation) == CheckStatus::skip);  // no CRL: the 2018 ones are gone
      CHECK(r.status(check_id::signature_algorithm) == CheckStatus::pass);
      CHECK(r.status(check_id::key_usage) == CheckStatus::pass);
      REQUIRE(r.chain.size() == 3);
      CHECK(r.chain.back() == root);
      CHECK(r.openssl_error == 0);
      const bool moces = n.rfind("MOCES", 0) == 0;
      const bool expired = n.find("udloebet") != std::string::npos;
      CHECK(r.status(check_id::certificate_type) == (moces ? CheckStatus::fail : CheckStatus::pass));
      CHECK(r.status(check_id::validity) == (expired ? CheckStatus::fail : CheckStatus::pass));
      if (expired) CHECK(r.find(check_id::validity)->message.find("expired on 2014-03-25") != std::string::npos);
      if (!moces && !expired) {
        CHECK(r.verdict == CheckStatus::warn);  // gyldig (and spaerret, without its CRL): usable with warnings
        CHECK(r.ok());
      } else {
        CHECK(r.verdict == CheckStatus::fail);
      }

      // The same at the same time against the production roots (and the whole built-in catalogue
      // of production CAs as intermediates): no path.
      const ValidationReport p = validate(bundle, prod_input);
      CAPTURE(to_text(p));
      CHECK(p.status(check_id::chain) == CheckStatus::fail);
      CHECK(p.openssl_error != 0);
      CHECK(p.verdict == CheckStatus::fail);
      CHECK(p.find(check_id::chain)->message.find("depth") != std::string::npos);

      // With the built-in catalogue (both environments) the test root is known: the chain passes.
      ValidationInput builtin = test_input;
      builtin.anchors.reset();
      builtin.intermediates.clear();
      CHECK(validate(bundle, builtin).status(check_id::chain) == CheckStatus::pass);
    }
    CHECK(seen == 11);
  }

  TEST_CASE("a real OCES3 test organisation certificate validates against the built-in catalogue") {
    DPGCERT_REQUIRE_SHARED(shared);
    const auto cert = load_certificates(
        test::read_file(shared / "samples/oces/oces3-certs/emcs-b2b-server-test-2023-04-11.pem")).at(0);
    ValidationInput in;
    in.at = parse_rfc3339("2024-06-01T00:00:00Z");
    in.policy.expected_environment = oces::Environment::test;
    in.policy.expected_cvr = "19552101";
    const ValidationReport r = validate(cert, in);
    CAPTURE(to_text(r));
    CHECK(r.verdict == CheckStatus::pass);
    CHECK(r.status(check_id::certificate_type) == CheckStatus::pass);
    CHECK(r.status(check_id::key_strength) == CheckStatus::pass);  // RSA 3072
    CHECK(r.status(check_id::pkcs12_opened) == CheckStatus::skip);
    CHECK(r.chain.size() == 3);
    in.policy.expected_environment = oces::Environment::production;
    CHECK(validate(cert, in).status(check_id::environment) == CheckStatus::fail);
  }

  TEST_CASE("system_vii.p12 is a DER root under a .p12 name: validate_bytes treats it as a certificate") {
    DPGCERT_REQUIRE_SHARED(shared);
    ValidationInput in;
    in.at = parse_rfc3339("2018-06-01T00:00:00Z");
    const auto pw = test::pw("Test1234");
    const ValidationReport r =
        validate_bytes(test::read_file(shared / "samples/oces/oces2-preprod/system_vii.p12"), &pw, in);
    CHECK(r.status(check_id::pkcs12_opened) == CheckStatus::skip);
    CHECK(r.status(check_id::chain) == CheckStatus::pass);  // it is the built-in test root itself
    CHECK(r.status(check_id::certificate_type) == CheckStatus::fail);  // a root CA is no gateway certificate
  }

  // ---- the synthetic PKI: one test per check id ----------------------------------------------

  TEST_CASE("synthetic: a good FOCES passes every check but key strength (2048 bits)") {
    const Pki& pki = Pki::get();
    auto in = pki.input("oces2-prod");
    in.policy.expected_environment = oces::Environment::production;
    in.policy.expected_cvr = "12345674";
    in.crls = {pki.crl("oces2-prod/crl-current.crl.pem")};
    const auto bundle = pki.p12("oces2-prod/foces.p12");
    const ValidationReport r = validate(bundle, in);
    CAPTURE(to_text(r));
    for (const auto& c : r.checks) {
      CAPTURE(c.id);
      CHECK(c.status == (c.id == check_id::key_strength ? CheckStatus::warn : CheckStatus::pass));
    }
    CHECK(r.verdict == CheckStatus::warn);
    CHECK(r.ok());
    REQUIRE(r.chain.size() == 3);
    CHECK(r.chain.front() == *bundle.leaf());
    CHECK(r.chain.back() == pki.cert("oces2-prod/root.crt.pem"));
    CHECK(r.identity->type == oces::CertificateType::foces);
    CHECK(r.find(check_id::revocation)->message.find("not revoked") != std::string::npos);
    CHECK(r.checks.size() == 12);
  }

  TEST_CASE("synthetic: revocation - a revoked certificate fails with date and reason - the chain passes") {
    const Pki& pki = Pki::get();
    auto in = pki.input("oces2-prod");
    const auto& e = pki.entry("odd/foces-revoked.p12");
    for (const char* crl : {"oces2-prod/crl-current.crl.pem", "oces2-prod/crl-current.crl.der"}) {
      CAPTURE(crl);
      in.crls = {pki.crl(crl)};
      const ValidationReport r = validate(pki.p12("odd/foces-revoked.p12"), in);
      CAPTURE(to_text(r));
      CHECK(r.status(check_id::revocation) == CheckStatus::fail);
      const std::string& msg = r.find(check_id::revocation)->message;
      CHECK(msg.find(e.at("revocation_time").get<std::string>()) != std::string::npos);
      CHECK(msg.find(e.at("revocation_reason").get<std::string>()) != std::string::npos);
      CHECK(r.status(check_id::chain) == CheckStatus::pass);
      CHECK(r.verdict == CheckStatus::fail);
      CHECK_FALSE(r.ok());
    }
    // Revoked in a stale CRL is still revoked.
    in.crls = {pki.crl("oces2-prod/crl-stale.crl.pem")};
    CHECK(validate(pki.p12("odd/foces-revoked.p12"), in).status(check_id::revocation) == CheckStatus::fail);
  }

  TEST_CASE("synthetic: revocation - a stale CRL warns and does not fail the chain") {
    const Pki& pki = Pki::get();
    auto in = pki.input("oces2-prod");
    in.crls = {pki.crl("oces2-prod/crl-stale.crl.pem")};
    const ValidationReport r = validate(pki.p12("oces2-prod/voces.p12"), in);
    CAPTURE(to_text(r));
    CHECK(r.status(check_id::revocation) == CheckStatus::warn);
    CHECK(r.find(check_id::revocation)->message.find("stale") != std::string::npos);
    CHECK(r.find(check_id::revocation)->message.find("2025-05-01") != std::string::npos);
    CHECK(r.status(check_id::chain) == CheckStatus::pass);
    CHECK(r.verdict == CheckStatus::warn);
    CHECK(std::any_of(r.openssl_errors.begin(), r.openssl_errors.end(),
                      [](const ChainError& e) { return e.reason.find("CRL has expired") != std::string::npos; }));
    in.policy.stale_crl_fails = true;
    CHECK(validate(pki.p12("oces2-prod/voces.p12"), in).status(check_id::revocation) == CheckStatus::fail);
  }

  TEST_CASE("synthetic: revocation - no CRL is skip by default and fail when revocation data is required") {
    const Pki& pki = Pki::get();
    auto in = pki.input("oces2-prod");
    const auto bundle = pki.p12("oces2-prod/voces.p12");
    CHECK(validate(bundle, in).status(check_id::revocation) == CheckStatus::skip);
    in.policy.require_revocation_data = true;
    CHECK(validate(bundle, in).status(check_id::revocation) == CheckStatus::fail);
    // CRLs that do not cover the issuer: the same.
    in.crls = {pki.crl("oces2-test/crl-current.crl.pem")};
    CHECK(validate(bundle, in).status(check_id::revocation) == CheckStatus::fail);
    in.policy.require_revocation_data = false;
    const ValidationReport r = validate(bundle, in);
    CHECK(r.status(check_id::revocation) == CheckStatus::skip);
    CHECK(r.status(check_id::chain) == CheckStatus::pass);
    // Scope none: never checked.
    in.crls = {pki.crl("oces2-prod/crl-current.crl.pem")};
    in.policy.revocation = RevocationScope::none;
    CHECK(validate(pki.p12("odd/foces-revoked.p12"), in).status(check_id::revocation) == CheckStatus::skip);
  }

  TEST_CASE("synthetic: revocation - chain scope checks the CAs too (the root has no CRL here)") {
    const Pki& pki = Pki::get();
    auto in = pki.input("oces2-prod");
    in.crls = {pki.crl("oces2-prod/crl-current.crl.pem")};
    in.policy.revocation = RevocationScope::chain;
    in.policy.ca_crls_optional = false;  // oces_gateway() only notes a CA without a CRL given
    const ValidationReport r = validate(pki.p12("oces2-prod/voces.p12"), in);
    CAPTURE(to_text(r));
    CHECK(r.status(check_id::revocation) == CheckStatus::warn);  // leaf checked, CA V's and root's CRL missing
    CHECK(r.status(check_id::chain) == CheckStatus::pass);
    in.policy.require_revocation_data = true;
    CHECK(validate(pki.p12("oces2-prod/voces.p12"), in).status(check_id::revocation) == CheckStatus::fail);
    // As oces_gateway() has it: the CAs without a CRL are noted, the leaf's CRL decides.
    in.policy.require_revocation_data = false;
    in.policy.ca_crls_optional = true;
    const ValidationReport gw = validate(pki.p12("oces2-prod/voces.p12"), in);
    CHECK(gw.status(check_id::revocation) == CheckStatus::pass);
    CHECK(gw.find(check_id::revocation)->message.find("(not required)") != std::string::npos);
  }

  TEST_CASE("synthetic: environment - a test certificate where production is expected fails, and the other way round") {
    const Pki& pki = Pki::get();
    auto test_in = pki.input("oces2-test");
    test_in.policy.expected_environment = oces::Environment::production;
    const ValidationReport r = validate(pki.p12("oces2-test/voces.p12"), test_in);
    CAPTURE(to_text(r));
    CHECK(r.status(check_id::environment) == CheckStatus::fail);
    CHECK(r.status(check_id::chain) == CheckStatus::pass);
    test_in.policy.expected_environment = oces::Environment::test;
    CHECK(validate(pki.p12("oces2-test/voces.p12"), test_in).status(check_id::environment) == CheckStatus::pass);

    auto prod_in = pki.input("oces3-prod");
    prod_in.policy.expected_environment = oces::Environment::test;
    CHECK(validate(pki.p12("oces3-prod/organisation.p12"), prod_in).status(check_id::environment) == CheckStatus::fail);
    auto oces3_test = pki.input("oces3-test");
    oces3_test.policy.expected_environment = oces::Environment::test;
    const ValidationReport t = validate(pki.p12("oces3-test/organisation.p12"), oces3_test);
    CAPTURE(to_text(t));
    CHECK(t.status(check_id::environment) == CheckStatus::pass);
    CHECK(t.verdict == CheckStatus::pass);  // RSA 3072, RSASSA-PSS: nothing to warn about
    // No expectation: skipped, saying which it is.
    prod_in.policy.expected_environment.reset();
    const ValidationReport s = validate(pki.p12("oces3-prod/organisation.p12"), prod_in);
    CHECK(s.status(check_id::environment) == CheckStatus::skip);
    CHECK(s.find(check_id::environment)->message.find("production") != std::string::npos);
  }

  TEST_CASE("synthetic: certificate_type - MOCES, POCES and OCES3 employee certificates fail - VOCES/FOCES/organisation pass") {
    const Pki& pki = Pki::get();
    for (const char* path : {"oces2-prod/moces.p12", "oces2-prod/poces.p12", "oces3-prod/employee.p12", "other/server.p12"}) {
      CAPTURE(path);
      const std::string p = path;
      const auto h = p.substr(0, p.find('/'));
      ValidationInput in;
      if (h == "other") {
        in.at = pki.at;
        in.anchors = TrustAnchors::from_files(std::vector<fs::path>{pki.dir / "other/root.crt.pem"});
      } else {
        in = pki.input(h);
      }
      const ValidationReport r = validate(pki.p12(path), in);
      CAPTURE(to_text(r));
      CHECK(r.status(check_id::certificate_type) == CheckStatus::fail);
      CHECK(r.status(check_id::chain) == CheckStatus::pass);
      CHECK(r.verdict == CheckStatus::fail);
    }
    for (const char* path : {"oces2-prod/voces.p12", "oces2-prod/foces.p12", "oces3-prod/organisation.p12"}) {
      CAPTURE(path);
      const std::string p = path;
      CHECK(validate(pki.p12(path), pki.input(p.substr(0, p.find('/')))).status(check_id::certificate_type) ==
            CheckStatus::pass);
    }
    // The generic policy has no OCES profile.
    auto in = pki.input("oces2-prod");
    in.policy = ValidationPolicy::generic();
    const ValidationReport g = validate(pki.p12("oces2-prod/moces.p12"), in);
    CHECK(g.status(check_id::certificate_type) == CheckStatus::skip);
    CHECK(g.status(check_id::environment) == CheckStatus::skip);
    CHECK(g.status(check_id::cvr) == CheckStatus::skip);
    CHECK(g.status(check_id::key_usage) == CheckStatus::skip);
    CHECK(g.verdict == CheckStatus::warn);  // only the 2048-bit key
  }

  TEST_CASE("synthetic: cvr - a different CVR fails - the right one passes - a bad check digit warns") {
    const Pki& pki = Pki::get();
    auto in = pki.input("oces2-prod");
    in.policy.expected_cvr = "25313763";
    const ValidationReport r = validate(pki.p12("oces2-prod/voces.p12"), in);
    CAPTURE(to_text(r));
    CHECK(r.status(check_id::cvr) == CheckStatus::fail);
    CHECK(r.find(check_id::cvr)->message.find("12345674") != std::string::npos);
    in.policy.expected_cvr = "12345674";
    CHECK(validate(pki.p12("oces2-prod/voces.p12"), in).status(check_id::cvr) == CheckStatus::pass);
    in.policy.expected_cvr = "12345678";
    CHECK(validate(pki.p12("odd/voces-bad-cvr.p12"), in).status(check_id::cvr) == CheckStatus::warn);
    in.policy.expected_cvr.reset();
    CHECK(validate(pki.p12("oces2-prod/voces.p12"), in).status(check_id::cvr) == CheckStatus::skip);
  }

  TEST_CASE("synthetic: key_strength - a 2048-bit key warns, 3072 passes, thresholds come from the policy") {
    const Pki& pki = Pki::get();
    const auto in = pki.input("oces2-prod");
    const ValidationReport r = validate(pki.p12("odd/voces-rsa2048.p12"), in);
    CHECK(r.status(check_id::key_strength) == CheckStatus::warn);
    CHECK(r.find(check_id::key_strength)->message.find("2048") != std::string::npos);
    CHECK(validate(pki.p12("odd/voces-rsa3072.p12"), in).status(check_id::key_strength) == CheckStatus::pass);
    auto strict = in;
    strict.policy.rsa_fail_below_bits = 3072;
    CHECK(validate(pki.p12("odd/voces-rsa2048.p12"), strict).status(check_id::key_strength) == CheckStatus::fail);
  }

  TEST_CASE("synthetic: pkcs12_profile - a legacy PKCS#12 warns (re-wrap advised), a modern one passes") {
    const Pki& pki = Pki::get();
    const auto in = pki.input("oces2-prod");
    const ValidationReport r = validate(pki.p12("oces2-prod/voces-legacy.p12"), in);
    CAPTURE(to_text(r));
    CHECK(r.status(check_id::pkcs12_profile) == CheckStatus::warn);
    CHECK(r.find(check_id::pkcs12_profile)->message.find("re-wrap") != std::string::npos);
    CHECK(r.status(check_id::chain) == CheckStatus::pass);
    const ValidationReport m = validate(pki.p12("oces2-prod/voces.p12"), in);
    CHECK(m.status(check_id::pkcs12_profile) == CheckStatus::pass);
    CHECK(m.find(check_id::pkcs12_profile)->message.find("AES-256-CBC") != std::string::npos);
  }

  TEST_CASE("synthetic: key_matches_certificate - a key that does not belong to the certificate fails") {
    const Pki& pki = Pki::get();
    const ValidationReport r = validate(pki.p12("odd/mismatch.p12"), pki.input("oces2-prod"));
    CAPTURE(to_text(r));
    CHECK(r.status(check_id::key_matches_certificate) == CheckStatus::fail);
    CHECK(r.status(check_id::chain) == CheckStatus::pass);
    CHECK(r.verdict == CheckStatus::fail);
    CHECK(validate(pki.p12("oces2-prod/voces.p12"), pki.input("oces2-prod")).status(check_id::key_matches_certificate) ==
          CheckStatus::pass);
  }

  TEST_CASE("synthetic: validity - expired and not yet valid fail, expiring soon warns (policy minimum days)") {
    const Pki& pki = Pki::get();
    const auto in = pki.input("oces2-prod");
    const ValidationReport expired = validate(pki.p12("odd/foces-expired.p12"), in);
    CAPTURE(to_text(expired));
    CHECK(expired.status(check_id::validity) == CheckStatus::fail);
    CHECK(expired.find(check_id::validity)->message.find("expired") != std::string::npos);
    CHECK(expired.status(check_id::chain) == CheckStatus::pass);  // the leaf's dates are the validity check's
    CHECK(std::any_of(expired.openssl_errors.begin(), expired.openssl_errors.end(),
                      [](const ChainError& e) { return e.depth == 0 && e.reason == "certificate has expired"; }));

    const ValidationReport early = validate(pki.p12("odd/foces-not-yet-valid.p12"), in);
    CHECK(early.status(check_id::validity) == CheckStatus::fail);
    CHECK(early.find(check_id::validity)->message.find("not yet valid") != std::string::npos);

    const ValidationReport soon = validate(pki.p12("odd/foces-expiring-soon.p12"), in);
    CHECK(soon.status(check_id::validity) == CheckStatus::warn);
    CHECK(soon.find(check_id::validity)->message.find("19 days") != std::string::npos);
    auto relaxed = in;
    relaxed.policy.min_days = 10;
    CHECK(validate(pki.p12("odd/foces-expiring-soon.p12"), relaxed).status(check_id::validity) == CheckStatus::pass);
    CHECK(validate(pki.p12("oces2-prod/voces.p12"), in).status(check_id::validity) == CheckStatus::pass);
  }

  TEST_CASE("synthetic: chain - wrong anchors, no anchors and missing intermediates fail as a report, never an exception") {
    const Pki& pki = Pki::get();
    const auto bundle = pki.p12("oces3-prod/organisation.p12");
    auto in = pki.input("oces2-prod");  // the wrong hierarchy
    ValidationReport r;
    CHECK_NOTHROW(r = validate(bundle, in));
    CAPTURE(to_text(r));
    CHECK(r.status(check_id::chain) == CheckStatus::fail);
    CHECK(r.openssl_error != 0);
    CHECK(r.openssl_error_depth >= 0);

    in.anchors = TrustAnchors{};
    CHECK_NOTHROW(r = validate(bundle, in));
    CHECK(r.status(check_id::chain) == CheckStatus::fail);
    CHECK(r.find(check_id::chain)->message.find("no trust anchors") != std::string::npos);

    // The leaf alone (no intermediates) against the right root: unable to get the issuer.
    ValidationInput bare;
    bare.at = pki.at;
    bare.anchors = TrustAnchors::from_certificates({pki.cert("oces2-prod/root.crt.pem")});
    r = validate(pki.cert("oces2-prod/voces.crt.pem"), bare);
    CHECK(r.status(check_id::chain) == CheckStatus::fail);
    CHECK(r.openssl_error_depth == 0);
    CHECK(r.chain.size() == 1);
    // ... and with its CA as a partial-chain anchor when asked.
    bare.anchors = TrustAnchors::from_certificates({pki.cert("oces2-prod/ca.crt.pem")});
    CHECK(validate(pki.cert("oces2-prod/voces.crt.pem"), bare).status(check_id::chain) == CheckStatus::fail);
    bare.policy.allow_partial_chain = true;
    CHECK(validate(pki.cert("oces2-prod/voces.crt.pem"), bare).status(check_id::chain) == CheckStatus::pass);
  }

  TEST_CASE("synthetic: key_usage and signature_algorithm pass on the OCES leaves - a CA certificate lacks keyEncipherment") {
    const Pki& pki = Pki::get();
    const auto in = pki.input("oces2-prod");
    const ValidationReport r = validate(pki.cert("oces2-prod/voces.crt.pem"), in);
    CHECK(r.status(check_id::key_usage) == CheckStatus::pass);
    CHECK(r.status(check_id::signature_algorithm) == CheckStatus::pass);
    CHECK(r.find(check_id::signature_algorithm)->message.find("sha256WithRSAEncryption") != std::string::npos);
    const ValidationReport ca = validate(pki.cert("oces2-prod/ca.crt.pem"), in);
    CHECK(ca.status(check_id::key_usage) == CheckStatus::fail);
    CHECK(ca.status(check_id::chain) == CheckStatus::pass);
    // A policy that calls SHA-256 weak, to see the failure path.
    auto weak = in;
    weak.policy.weak_signature_digests = {"sha256"};
    CHECK(validate(pki.cert("oces2-prod/voces.crt.pem"), weak).status(check_id::signature_algorithm) == CheckStatus::fail);
  }

  TEST_CASE("synthetic: validate_bytes reports a wrong password as pkcs12_opened fail - certificates and PEM chains load") {
    const Pki& pki = Pki::get();
    const auto in = pki.input("oces2-prod");
    const auto wrong = test::pw("not the password");
    const ValidationReport r = validate_bytes(test::read_file(pki.dir / "oces2-prod/voces.p12"), &wrong, in);
    CHECK(r.status(check_id::pkcs12_opened) == CheckStatus::fail);
    CHECK(r.find(check_id::pkcs12_opened)->message.find("not the password") == std::string::npos);
    CHECK(r.status(check_id::chain) == CheckStatus::skip);
    CHECK_FALSE(r.certificate.has_value());
    CHECK(r.verdict == CheckStatus::fail);

    const auto right = test::pw("Test1234");
    CHECK(validate_bytes(test::read_file(pki.dir / "oces2-prod/voces.p12"), &right, in).status(check_id::pkcs12_opened) ==
          CheckStatus::pass);
    // A PEM file with leaf, CA and root: the first is validated, the rest are intermediates.
    ValidationInput only_root = in;
    only_root.intermediates.clear();
    const ValidationReport chain = validate_bytes(test::read_file(pki.dir / "oces2-prod/voces-fullchain.pem"), nullptr, only_root);
    CHECK(chain.status(check_id::chain) == CheckStatus::pass);
    CHECK(chain.status(check_id::pkcs12_opened) == CheckStatus::skip);
    CHECK(code_of([&] { (void)validate_bytes(std::vector<std::byte>(10, std::byte{0x41}), nullptr, in); }) ==
          ErrorCode::malformed);
    ValidationInput no_time = in;
    no_time.at = Time{};
    CHECK(code_of([&] { (void)validate(pki.cert("oces2-prod/voces.crt.pem"), no_time); }) == ErrorCode::invalid_argument);
    ValidationInput bad_oid = in;
    bad_oid.policy.initial_policy_set = {"not an oid"};
    CHECK(code_of([&] { (void)validate(pki.cert("oces2-prod/voces.crt.pem"), bad_oid); }) == ErrorCode::invalid_argument);
  }

  // ---- CRLs and files -----------------------------------------------------------------------

  TEST_CASE("Crl: fields as the manifest records them, PEM and DER alike") {
    const Pki& pki = Pki::get();
    for (const char* path : {"oces2-prod/crl-current.crl.pem", "oces2-prod/crl-current.crl.der", "oces3-prod/crl-stale.crl.der"}) {
      CAPTURE(path);
      const auto& e = pki.entry(path);
      const Crl crl = pki.crl(path);
      CHECK(format_rfc3339(crl.this_update()) == e.at("this_update").get<std::string>());
      REQUIRE(crl.next_update().has_value());
      CHECK(format_rfc3339(*crl.next_update()) == e.at("next_update").get<std::string>());
      CHECK(crl.is_stale(pki.at) == e.at("stale").get<bool>());
      CHECK(crl.issuer() == pki.cert(e.at("issuer").get<std::string>()).subject());
      CHECK_FALSE(crl.is_delta());
      std::vector<std::string> serials;
      for (const auto& r : crl.revoked()) {
        std::string s = r.serial_hex();
        std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        serials.push_back(s);
      }
      CHECK(serials == e.at("revoked_serials").get<std::vector<std::string>>());
    }
    const Crl crl = pki.crl("oces2-prod/crl-current.crl.pem");
    const auto revoked = pki.cert("odd/foces-revoked.crt.pem");
    const auto entry = crl.find(revoked.serial());
    REQUIRE(entry.has_value());
    CHECK(format_rfc3339(entry->revocation_date) == "2025-03-15T00:00:00Z");
    REQUIRE(entry->reason.has_value());
    CHECK(*entry->reason == RevocationReason::key_compromise);
    CHECK(to_string(*entry->reason) == "keyCompromise");
    CHECK_FALSE(crl.find(pki.cert("oces2-prod/voces.crt.pem").serial()).has_value());
    CHECK(crl == pki.crl("oces2-prod/crl-current.crl.der"));
    const auto j = to_json(crl);
    CHECK(j.at("revoked").at(0).at("reason") == "keyCompromise");
  }

  TEST_CASE("load_crls: several PEM CRLs, concatenated DER, files and folders - garbage is Error(malformed)") {
    const Pki& pki = Pki::get();
    auto pem = test::read_text(pki.dir / "oces2-prod/crl-current.crl.pem") + test::read_text(pki.dir / "oces3-prod/crl-stale.crl.pem");
    std::vector<std::byte> bytes(pem.size());
    std::transform(pem.begin(), pem.end(), bytes.begin(), [](char c) { return static_cast<std::byte>(c); });
    CHECK(load_crls(bytes).size() == 2);
    auto der = test::read_file(pki.dir / "oces2-prod/crl-current.crl.der");
    const auto der2 = test::read_file(pki.dir / "oces2-test/crl-current.crl.der");
    der.insert(der.end(), der2.begin(), der2.end());
    CHECK(load_crls(der).size() == 2);

    // Garbage, truncation, trailing bytes, a certificate, an empty input.
    CHECK(code_of([] { (void)load_crls(std::vector<std::byte>(64, std::byte{0x5a})); }) == ErrorCode::malformed);
    auto truncated = test::read_file(pki.dir / "oces2-prod/crl-current.crl.der");
    truncated.resize(truncated.size() / 2);
    CHECK(code_of([&] { (void)load_crls(truncated); }) == ErrorCode::malformed);
    auto trailing = test::read_file(pki.dir / "oces2-prod/crl-current.crl.der");
    trailing.push_back(std::byte{0});
    CHECK(code_of([&] { (void)load_crls(trailing); }) == ErrorCode::malformed);
    CHECK(code_of([&] { (void)load_crls(test::read_file(pki.dir / "oces2-prod/root.crt.der")); }) == ErrorCode::malformed);
    CHECK(code_of([&] { (void)load_crls(test::read_file(pki.dir / "oces2-prod/root.crt.pem")); }) == ErrorCode::malformed);
    CHECK(code_of([] { (void)load_crls({}); }) == ErrorCode::malformed);
    Context tiny(Limits{.max_input_bytes = 100});
    CHECK(code_of([&] { (void)load_crls(test::read_file(pki.dir / "oces2-prod/crl-current.crl.der"), tiny); }) ==
          ErrorCode::limit_exceeded);

    // Files: a garbage .crl file names the file.
    const fs::path tmp = fs::temp_directory_path() / ("dpgcert-val-" + std::to_string(::getpid()));
    fs::create_directories(tmp);
    {
      std::FILE* f = std::fopen((tmp / "garbage.crl").c_str(), "wb");
      REQUIRE(f != nullptr);
      std::fputs("this is not a CRL\n", f);
      std::fclose(f);
    }
    try {
      (void)load_crl_files(std::vector<fs::path>{tmp / "garbage.crl"});
      FAIL("expected Error(malformed)");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::malformed);
      CHECK(std::string(e.what()).find("garbage.crl") != std::string::npos);
    }
    CHECK(code_of([&] { (void)load_crl_files(std::vector<fs::path>{tmp}); }) == ErrorCode::malformed);  // .crl must parse
    CHECK(code_of([&] { (void)load_crl_files(std::vector<fs::path>{tmp / "absent.crl"}); }) == ErrorCode::io);
    fs::remove_all(tmp);

    // A folder mixing certificates, keys and CRLs: the CRLs (PEM and DER twins), nothing else.
    const auto crls = load_crl_files(std::vector<fs::path>{pki.dir / "oces2-prod"});
    CHECK(crls.size() == 4);
    const auto certs = load_certificate_files(std::vector<fs::path>{pki.dir / "oces2-prod"});
    CHECK(certs.size() >= 8);  // root and CA (PEM, DER), leaves, chain files; no keys, no CRLs
    const auto anchors = TrustAnchors::from_files(std::vector<fs::path>{pki.dir / "oces2-prod/root.crt.der"});
    CHECK(anchors.certificates().size() == 1);
  }

  // ---- renderings ---------------------------------------------------------------------------

  TEST_CASE("to_json and to_text: stable keys, every check, 80 columns") {
    const Pki& pki = Pki::get();
    auto in = pki.input("oces2-prod");
    in.crls = {pki.crl("oces2-prod/crl-current.crl.pem")};
    const ValidationReport r = validate(pki.p12("odd/foces-revoked.p12"), in);
    const auto j = to_json(r);
    CHECK(j.at("ok") == false);
    CHECK(j.at("verdict") == "fail");
    CHECK(j.at("validation_time") == "2025-06-01T00:00:00Z");
    REQUIRE(j.at("checks").size() == 12);
    CHECK(j.at("checks").at(0).at("id") == "pkcs12_opened");
    for (const auto& c : j.at("checks")) {
      CHECK(c.contains("message"));
      CHECK((c.at("status") == "pass" || c.at("status") == "warn" || c.at("status") == "fail" || c.at("status") == "skip"));
    }
    CHECK(j.at("certificate").at("fingerprint_sha256") == pki.entry("odd/foces-revoked.p12").at("sha256"));
    CHECK(j.at("certificate").at("oces").at("type") == "foces");
    CHECK(j.at("chain").size() == 3);
    CHECK(j.at("openssl").is_null());
    CHECK(j.at("openssl_errors").size() >= 1);

    const std::string text = to_text(r);
    std::istringstream lines(text);
    int n = 0;
    for (std::string line; std::getline(lines, line); ++n) {
      CAPTURE(line);
      CHECK(line.size() <= 80);  // bytes; the synthetic names are ASCII
    }
    CHECK(n > 14);
    CHECK(text.find("[FAIL] revocation") != std::string::npos);
    CHECK(text.find("[PASS] chain") != std::string::npos);
    CHECK(text.find("Verdict: FAIL") != std::string::npos);

    ValidationReport empty;
    empty.at = pki.at;
    CHECK_NOTHROW((void)to_text(empty));
    CHECK(to_json(empty).at("certificate").is_null());
  }

  // ---- threads ------------------------------------------------------------------------------

  TEST_CASE("one TrustAnchors (and its store) serves validations on several threads") {
    const Pki& pki = Pki::get();
    auto in = pki.input("oces2-prod");
    in.crls = {pki.crl("oces2-prod/crl-current.crl.pem")};
    const Certificate good = pki.cert("oces2-prod/voces.crt.pem");
    const Certificate revoked = pki.cert("odd/foces-revoked.crt.pem");
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) {
          const bool bad = (i + t) % 2 == 0;
          const auto r = validate(bad ? revoked : good, in);
          if (r.status(check_id::revocation) != (bad ? CheckStatus::fail : CheckStatus::pass) ||
              r.status(check_id::chain) != CheckStatus::pass) {
            ++wrong;
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(wrong.load() == 0);
  }

  // ---- the CLI ------------------------------------------------------------------------------

  TEST_CASE("dpgcert verify: exit codes and JSON (when the tool is built beside the tests)") {
    const Pki& pki = Pki::get();
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    const fs::path tool = self.parent_path().parent_path() / "tools/dpgcert/dpgcert";
    if (ec || !fs::exists(tool)) {
      MESSAGE("skipped: the dpgcert tool is not built beside the tests");
      return;
    }
    const fs::path pwfile = fs::temp_directory_path() / ("dpgcert-val-pw-" + std::to_string(::getpid()));
    {
      std::FILE* f = std::fopen(pwfile.c_str(), "wb");
      REQUIRE(f != nullptr);
      std::fputs("Test1234\n", f);
      std::fclose(f);
    }
    const auto run = [&](const std::string& args, std::string* out = nullptr) {
      const std::string cmd = test::shell_quote(tool.string()) + " verify " + args + " 2>/dev/null";
      std::FILE* p = ::popen(cmd.c_str(), "r");
      REQUIRE(p != nullptr);
      std::string text;
      std::array<char, 4096> buf{};
      while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) text.append(buf.data(), n);
      const int status = ::pclose(p);
      if (out != nullptr) *out = text;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    };
    const std::string d = pki.dir.string() + "/";
    const std::string common = "--password-file '" + pwfile.string() + "' --trust '" + d + "oces2-prod/root.crt.pem' --at 2025-06-01T00:00:00Z";
    std::string out;
    CHECK(run("'" + d + "oces3-test/organisation.p12' --password-file '" + pwfile.string() + "' --trust '" + d +
              "oces3-test/root.crt.pem' --at 2025-06-01T00:00:00Z --environment test --expect-cvr 12345674", &out) == 0);
    CHECK(out.find("[PASS] chain") != std::string::npos);
    CHECK(run("'" + d + "oces2-prod/voces.p12' " + common, &out) == 1);  // 2048-bit key warns
    CHECK(run("'" + d + "odd/foces-revoked.p12' " + common + " --crl '" + d + "oces2-prod/crl-current.crl.der' --json", &out) == 2);
    const auto j = nlohmann::json::parse(out);
    CHECK(j.at("ok") == false);
    CHECK(j.at("verdict") == "fail");
    CHECK(j.at("checks").size() == 12);
    CHECK(j.at("certificate").at("oces").at("cvr") == "12345674");
    CHECK(run("'" + d + "oces2-prod/voces.p12' " + common + " --expect-cvr 25313763") == 2);
    CHECK(run("'" + d + "oces2-prod/voces.p12' " + common + " --environment test") == 2);
    CHECK(run("'" + d + "oces2-prod/voces.p12' " + common + " --min-days 1000") == 1);
    CHECK(run("'" + d + "does-not-exist.p12' " + common) == 3);
    CHECK(run("'" + d + "oces2-prod/voces.p12' " + common + " --crl '" + d + "oces2-prod/root.key.pem'") == 3);
    CHECK(run("'" + d + "oces2-prod/voces.p12' " + common + " --environment staging") == 64);
    CHECK(run("'" + d + "oces2-prod/voces.p12' " + common + " --at yesterday") == 64);
    CHECK(run("") == 64);
    fs::remove(pwfile);
  }
}
