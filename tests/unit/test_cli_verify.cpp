// dpgcert verify's path-validation options (--profile, --revocation, --policy, ...), the same in the
// configuration file, and the error code of a PKCS#12 that did not open in --json.
#include "support/test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace fs = std::filesystem;
using namespace dpgcert;

namespace {

std::string q(const fs::path& p) { return test::shell_quote(p.string()); }

/// PKITS 4.4.2 (a revoked intermediate CA) as `verify` arguments, without the revocation scope.
std::string pkits_revoked_ca(const fs::path& shared) {
  const fs::path p = shared / "vectors/pkits";
  const auto cert = [&](const char* n) { return q(p / "certs" / (std::string(n) + ".crt")); };
  const auto crl = [&](const char* n) { return q(p / "crls" / (std::string(n) + ".crl")); };
  return "verify " + cert("InvalidRevokedCATest2EE") + " --trust " + cert("TrustAnchorRootCertificate") +
         " --untrusted " + cert("GoodCACert") + " --untrusted " + cert("RevokedsubCACert") + " --crl " +
         crl("TrustAnchorRootCRL") + " --crl " + crl("GoodCACRL") + " --crl " + crl("RevokedsubCACRL") +
         " --at 2011-04-15T00:00:00Z --min-key-bits 1024 --accept-digest SHA1";
}

}  // namespace

TEST_SUITE("cli verify") {
  TEST_CASE("verify --profile generic --revocation chain fails a leaf under a revoked CA - leaf scope passes it") {
    DPGCERT_REQUIRE_TOOL();
    DPGCERT_REQUIRE_SHARED(shared);
    const std::string base = pkits_revoked_ca(shared) + " --profile generic";
    const auto chain = test::run_tool(base + " --revocation chain --json");
    CAPTURE(chain.out);
    CAPTURE(chain.err);
    CHECK(chain.exit_code == 2);
    const auto j = nlohmann::json::parse(chain.out);
    bool revocation_failed = false;
    for (const auto& c : j["checks"]) {
      if (c["id"] == "revocation") revocation_failed = c["status"] == "fail";
    }
    CHECK(revocation_failed);
    const auto leaf = test::run_tool(base + " --revocation leaf");
    CHECK((leaf.exit_code == 0 || leaf.exit_code == 1));
    // The policy options reach OpenSSL: a policy the path does not carry, required explicitly.
    const auto policy = test::run_tool(base + " --revocation leaf --policy 2.16.840.1.101.3.2.1.48.2 --explicit-policy");
    CHECK(policy.exit_code == 2);
    CHECK(policy.out.find("explicit policy") != std::string::npos);
  }

  TEST_CASE("verify: the same settings from the configuration file - the command line wins") {
    DPGCERT_REQUIRE_TOOL();
    DPGCERT_REQUIRE_SHARED(shared);
    test::TempDir dir;
    const fs::path cfg = dir.path() / "config.json";
    test::write_text(cfg, R"({"validation": {"profile": "generic", "revocation": "chain", "require_revocation": true,
                              "stale_crl": "fail", "eku": [], "min_key_bits": 1024, "policies": ["2.5.29.32.0"]}})");
    const std::string base = "--config " + q(cfg) + " " + pkits_revoked_ca(shared);
    CHECK(test::run_tool(base).exit_code == 2);
    const auto leaf = test::run_tool(base + " --revocation leaf");
    CHECK((leaf.exit_code == 0 || leaf.exit_code == 1));
    for (const char* bad : {R"({"validation": {"revocation": "all"}})", R"({"validation": {"profile": "strict"}})",
                            R"({"validation": {"explicit_policy": "yes"}})", R"({"validation": {"max_depth": -1}})"}) {
      CAPTURE(bad);
      test::write_text(cfg, bad);
      const auto r = test::run_tool(base);
      CHECK(r.exit_code == 64);
      CHECK(r.err.find("config.json") != std::string::npos);
    }
  }

  TEST_CASE("verify: unknown profile, scope or stale-CRL mode is a usage error") {
    DPGCERT_REQUIRE_TOOL();
    const std::string file = q(test::test_data_dir() / "oces2-prod/foces.crt.pem");
    CHECK(test::run_tool("verify " + file + " --profile strict").exit_code == 64);
    CHECK(test::run_tool("verify " + file + " --revocation all").exit_code == 64);
    CHECK(test::run_tool("verify " + file + " --stale-crl ignore").exit_code == 64);
    CHECK(test::run_tool("verify " + file + " --eku no-such-usage").exit_code == 64);
  }

  TEST_CASE("verify --json of a PKCS#12 with a wrong password carries error_code bad_password") {
    DPGCERT_REQUIRE_TOOL();
    test::TempDir dir;
    test::write_text(dir.path() / "pw", "not-the-password\n");
    const auto r = test::run_tool("verify " + q(test::test_data_dir() / "oces2-prod/foces.p12") + " --password-file " +
                                  q(dir.path() / "pw") + " --json");
    CAPTURE(r.out);
    CHECK(r.exit_code == 2);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["error_code"] == "bad_password");
    CHECK(j["checks"][0]["id"] == "pkcs12_opened");
    CHECK(j["checks"][0]["status"] == "fail");
    // A file that opens has no error_code.
    const auto ok = test::run_tool("verify " + q(test::test_data_dir() / "oces2-prod/foces.crt.pem") + " --json");
    CHECK_FALSE(nlohmann::json::parse(ok.out).contains("error_code"));
  }
}
