// The dpgcert tool's inspect command, run as a user runs it.
#include "support/test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace dpgcert;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const json& manifest_entry(const std::string& path) {
  static const json manifest = json::parse(test::read_text(test::test_data_dir() / "manifest.json"));
  for (const auto& f : manifest["files"]) {
    if (f["path"] == path) return f;
  }
  throw std::runtime_error("not in the manifest: " + path);
}

std::string data(const std::string& rel) { return test::shell_quote((test::test_data_dir() / rel).string()); }

fs::path password_file(const std::string& text) {
  const fs::path p = fs::temp_directory_path() / ("dpgcert-pw-" + std::to_string(::getpid()));
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("inspect --json describes a PKCS#12 bundle with its OCES identity") {
    DPGCERT_REQUIRE_TOOL();
    const auto pwf = password_file("Test1234\n");  // the newline is not part of the password
    const auto r = test::run_tool("inspect --json --password-file " + test::shell_quote(pwf.string()) + " " +
                                  data("oces2-prod/foces.p12"));
    fs::remove(pwf);
    REQUIRE(r.exit_code == 0);
    const json j = json::parse(r.out);
    const json& m = manifest_entry("oces2-prod/foces.p12");
    CHECK(j["kind"] == "pkcs12");
    CHECK(j["certificate"]["fingerprint_sha256"] == m["sha256"]);
    CHECK(j["certificate"]["not_after"] == m["not_after"]);
    CHECK(j["certificate"]["not_before"] == m["not_before"]);
    CHECK(j["certificate"]["key"]["bits"] == m["key_bits"]);
    CHECK(j["certificate"]["oces"]["generation"] == "oces2");
    CHECK(j["certificate"]["oces"]["type"] == "foces");
    CHECK(j["certificate"]["oces"]["cvr"] == m["cvr"]);
    CHECK(j["certificate"]["oces"]["fid"] == m["id"]);
    CHECK(j["certificate"]["oces"]["environment"] == "production");
    CHECK(j["chain"].size() == 2);
    CHECK(j["chain"][0]["oces"]["type"] == "issuing_ca");
    CHECK(j["pkcs12"]["legacy"] == false);
    CHECK(j["pkcs12"]["private_key"]["matches_certificate"] == true);
    CHECK(r.out.find("Test1234") == std::string::npos);
  }

  TEST_CASE("inspect reads passwords from the environment and stdin, and flags legacy files") {
    DPGCERT_REQUIRE_TOOL();
    ::setenv("DPGCERT_TEST_PW", "Test1234", 1);
    const auto r = test::run_tool("inspect --json --password-env DPGCERT_TEST_PW " + data("oces2-test/voces-legacy.p12"));
    REQUIRE(r.exit_code == 0);
    const json j = json::parse(r.out);
    CHECK(j["pkcs12"]["legacy"] == true);
    CHECK(j["certificate"]["oces"]["environment"] == "test");
    CHECK(j["certificate"]["fingerprint_sha256"] == manifest_entry("oces2-test/voces-legacy.p12")["sha256"]);

    const auto s = test::run_tool("inspect --json --password-stdin " + data("odd/foces-utf8pw.p12"), "Sikker-æøå-2024\n");
    REQUIRE(s.exit_code == 0);
    CHECK(json::parse(s.out)["certificate"]["fingerprint_sha256"] == manifest_entry("odd/foces-utf8pw.p12")["sha256"]);

    const auto e = test::run_tool("inspect --json " + data("odd/foces-emptypw.p12"));
    REQUIRE(e.exit_code == 0);
    CHECK(json::parse(e.out)["kind"] == "pkcs12");
  }

  TEST_CASE("inspect: the human output shows the OCES identity first") {
    DPGCERT_REQUIRE_TOOL();
    ::setenv("DPGCERT_TEST_PW", "Test1234", 1);
    const auto r = test::run_tool("inspect --now 2025-06-01T00:00:00Z --password-env DPGCERT_TEST_PW " +
                                  data("oces3-prod/organisation.p12"));
    REQUIRE(r.exit_code == 0);
    const auto oces = r.out.find("OCES ");
    const auto subject = r.out.find("Subject");
    REQUIRE(oces != std::string::npos);
    REQUIRE(subject != std::string::npos);
    CHECK(oces < subject);
    CHECK(r.out.find("organisation") != std::string::npos);
    CHECK(r.out.find("CVR                 12345674") != std::string::npos);
    CHECK(r.out.find("(in 579 days)") != std::string::npos);  // 2027-01-01 from 2025-06-01
  }

  TEST_CASE("inspect: certificate files in DER, PEM and bare base64") {
    DPGCERT_REQUIRE_TOOL();
    for (const char* rel : {"oces3-prod/organisation.crt.der", "oces3-prod/organisation.cer", "oces3-prod/organisation.crt.pem"}) {
      CAPTURE(rel);
      const auto r = test::run_tool(std::string("inspect --json ") + data(rel));
      REQUIRE(r.exit_code == 0);
      const json j = json::parse(r.out);
      CHECK(j["kind"] == "certificate");
      CHECK(j["certificate"]["oces"]["type"] == "organisation");
      CHECK(j.contains("pkcs12") == false);
    }
  }

  TEST_CASE("inspect: a DER certificate named .p12 is a certificate, not a wrong password") {
    DPGCERT_REQUIRE_SHARED(shared);
    DPGCERT_REQUIRE_TOOL();
    ::setenv("DPGCERT_TEST_PW", "Test1234", 1);
    const auto r = test::run_tool("inspect --json --password-env DPGCERT_TEST_PW " +
                                  test::shell_quote((shared / "samples/oces/oces2-preprod/system_vii.p12").string()));
    REQUIRE(r.exit_code == 0);
    const json j = json::parse(r.out);
    CHECK(j["kind"] == "certificate");
    CHECK(j["certificate"]["oces"]["type"] == "root_ca");
  }

  TEST_CASE("inspect: errors have codes, exit 3, and never echo the password") {
    DPGCERT_REQUIRE_TOOL();
    ::setenv("DPGCERT_TEST_PW", "Wrong-Secret-987", 1);
    const auto bad = test::run_tool("inspect --json --password-env DPGCERT_TEST_PW " + data("oces2-prod/foces.p12"));
    CHECK(bad.exit_code == 3);
    const json j = json::parse(bad.out);
    CHECK(j["error"]["code"] == "bad_password");
    CHECK(bad.out.find("Wrong-Secret-987") == std::string::npos);
    CHECK(bad.err.find("Wrong-Secret-987") == std::string::npos);

    const auto human = test::run_tool("inspect --password-env DPGCERT_TEST_PW " + data("oces2-prod/foces.p12"));
    CHECK(human.exit_code == 3);
    CHECK(human.err.find("bad_password") != std::string::npos);
    CHECK(human.out.empty());

    // truncated file
    const auto bytes = test::read_file(test::test_data_dir() / "oces2-prod/foces.p12");
    const fs::path cut = fs::temp_directory_path() / ("dpgcert-cut-" + std::to_string(::getpid()) + ".p12");
    {
      std::ofstream out(cut, std::ios::binary);
      out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size() / 2));
    }
    const auto t = test::run_tool("inspect --json " + test::shell_quote(cut.string()));
    fs::remove(cut);
    CHECK(t.exit_code == 3);
    CHECK(json::parse(t.out)["error"]["code"] == "malformed");

    const auto missing = test::run_tool("inspect --json /nonexistent/file.p12");
    CHECK(missing.exit_code == 3);
    CHECK(json::parse(missing.out)["error"]["code"] == "io");

    const auto unset = test::run_tool("inspect --json --password-env DPGCERT_UNSET_VARIABLE_X " + data("oces2-prod/foces.p12"));
    CHECK(unset.exit_code == 64);
  }

  TEST_CASE("inspect: usage errors exit 64 and passwords cannot be given as arguments") {
    DPGCERT_REQUIRE_TOOL();
    CHECK(test::run_tool("inspect").exit_code == 64);
    CHECK(test::run_tool("inspect --password Test1234 " + data("oces2-prod/foces.p12")).exit_code == 64);
    CHECK(test::run_tool("inspect --password-env A --password-stdin " + data("oces2-prod/foces.p12")).exit_code == 64);
    CHECK(test::run_tool("frobnicate").exit_code == 64);
    CHECK(test::run_tool("").exit_code == 64);
    const auto help = test::run_tool("inspect --help");
    CHECK(help.exit_code == 0);
    CHECK(help.out.find("--password-file") != std::string::npos);
    const auto version = test::run_tool("--version");
    CHECK(version.exit_code == 0);
    CHECK(version.out.rfind("dpgcert ", 0) == 0);
  }
}
