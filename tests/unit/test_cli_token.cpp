// The master key on a SoftHSM2 token, through the tool: store init --key-source pkcs11:..., import
// and export in later processes, PINs from a file, a variable or DPGCERT_PIN, and key rotate from
// the token to a key file and back.
#include "support/softhsm.hpp"
#include "support/test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <p11-kit/pkcs11.h>

using namespace dpgcert;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kNow = "2025-06-01T00:00:00Z";

std::string q(const fs::path& p) { return test::shell_quote(p.string()); }
std::string data(const std::string& rel) { return q(test::test_data_dir() / rel); }

struct TokenWorkspace {
  test::TempDir tmp{"dpgcert-cli-token"};
  fs::path dir = tmp.path();
  fs::path store = dir / "store.db";
  fs::path password = dir / "password.txt";
  fs::path pin_file = dir / "token.pin";
  TokenWorkspace() {
    test::write_text(password, "Test1234\n");
    test::write_text(pin_file, std::string(test::kTestPin) + "\n");
  }
  [[nodiscard]] test::ToolResult run(const std::string& args) const {
    return test::run_tool("--store " + q(store) + " " + args);
  }
  [[nodiscard]] json run_json(const std::string& args, int expected_exit = 0) const {
    const auto r = run(args + " --json");
    INFO("dpgcert " << args << "\nstderr: " << r.err << "\nstdout: " << r.out);
    REQUIRE(r.exit_code == expected_exit);
    return json::parse(r.out);
  }
  [[nodiscard]] std::string import_options() const {
    return "--password-file " + q(password) + " --now " + kNow + " --trust " + data("oces2-prod/root.crt.pem") +
           " --crl " + data("oces2-prod/crl-current.crl.pem");
  }
};

std::string file_text(const fs::path& p) { return test::read_text(p); }

}  // namespace

TEST_SUITE("cli token") {
  TEST_CASE("store init --key-source pkcs11: the master key is made on the token and opens the store in later processes") {
    DPGCERT_REQUIRE_TOOL();
    DPGCERT_REQUIRE_SOFTHSM();
    test::SoftHsmToken token("cli-master");
    TokenWorkspace w;
    const std::string source = token.uri() + ";object=dpgcert-master";
    const json init = w.run_json("--pin-file " + q(w.pin_file) + " store init --key-source " + test::shell_quote(source));
    CHECK(init["key_source"] == "pkcs11");
    CHECK(init["key_file"].is_null());

    // The key is on the token: sensitive, never extractable, its value unreadable.
    const auto facts = token.key_facts("dpgcert-master", CKO_SECRET_KEY, CKA_VALUE);
    REQUIRE(facts.found);
    CHECK(facts.sensitive);
    CHECK_FALSE(facts.extractable);
    CHECK(facts.value_rv == CKR_ATTRIBUTE_SENSITIVE);

    // Later processes: the PIN from DPGCERT_PIN, from --pin-env, from --pin-file.
    const std::string fp = [&] {
      const test::ScopedEnv pin("DPGCERT_PIN", std::string(test::kTestPin));
      const json imp = w.run_json("import " + data("oces2-prod/foces.p12") + " " + w.import_options());
      REQUIRE(imp.size() == 1);
      CHECK(imp[0]["outcome"] == "imported");
      return imp[0]["fingerprint_sha256"].get<std::string>();
    }();
    const test::ScopedEnv new_pw("DPGCERT_TEST_NEW_PW", std::string("Ny-Adgangskode-2027"));
    {
      const test::ScopedEnv pin("DPGCERT_TEST_TOKEN_PIN", std::string(test::kTestPin));
      CHECK(w.run_json("--pin-env DPGCERT_TEST_TOKEN_PIN export " + fp + " --out " + q(w.dir / "a.p12") +
                       " --password-env DPGCERT_TEST_NEW_PW")["fingerprint_sha256"] == fp);
    }
    CHECK(w.run_json("--pin-file " + q(w.pin_file) + " export " + fp + " --out " + q(w.dir / "b.p12") +
                     " --password-env DPGCERT_TEST_NEW_PW")["fingerprint_sha256"] == fp);
    const json info = w.run_json("store info");
    CHECK(info["key_source"] == "pkcs11");
    CHECK(info["key_params"]["uri"].get<std::string>().find("serial=" + token.serial()) != std::string::npos);
    CHECK(info["key_params"]["mechanism"] == "aes-256-gcm");

    // Without a PIN (no terminal to ask on), with a wrong one: typed errors, nothing exported.
    const json no_pin = w.run_json("export " + fp + " --out " + q(w.dir / "c.p12") + " --password-env DPGCERT_TEST_NEW_PW", 64);
    CHECK(no_pin["error"]["code"] == "invalid_argument");
    {
      const test::ScopedEnv pin("DPGCERT_PIN", std::string("wrong-pin"));
      const json bad = w.run_json("export " + fp + " --out " + q(w.dir / "d.p12") + " --password-env DPGCERT_TEST_NEW_PW", 3);
      CHECK(bad["error"]["code"] == "bad_password");
      CHECK(bad.dump().find("wrong-pin") == std::string::npos);
    }
    CHECK_FALSE(fs::exists(w.dir / "c.p12"));
    CHECK_FALSE(fs::exists(w.dir / "d.p12"));
    // The store file holds neither the PIN nor a key file path.
    const std::string db = file_text(w.store);
    CHECK(db.find(test::kTestPin) == std::string::npos);
    CHECK(db.find(".key\"") == std::string::npos);
    // A PIN in the URI is refused before anything happens.
    const json in_uri = w.run_json("store init --key-source " + test::shell_quote(token.uri() + "?pin-value=1234"), 64);
    CHECK(in_uri["error"]["code"] == "invalid_argument");
  }

  TEST_CASE("key rotate moves the master key from the token to a key file and back") {
    DPGCERT_REQUIRE_TOOL();
    DPGCERT_REQUIRE_SOFTHSM();
    test::SoftHsmToken token("cli-rotate");
    TokenWorkspace w;
    const test::ScopedEnv pin("DPGCERT_PIN", std::string(test::kTestPin));
    const test::ScopedEnv new_pw("DPGCERT_TEST_NEW_PW", std::string("Rotated-1"));
    REQUIRE(w.run_json("store init --key-file " + q(w.dir / "master.key"))["key_source"] == "key_file");
    const json imp = w.run_json("import " + data("oces2-prod/voces.p12") + " " + w.import_options());
    const std::string fp = imp[0]["fingerprint_sha256"].get<std::string>();

    const json to_token = w.run_json("key rotate --new-key-source " + test::shell_quote(token.uri() + ";object=rotated"));
    CHECK(to_token["key_source"] == "pkcs11");
    CHECK(to_token["rewrapped"].get<int>() >= 2);
    CHECK(w.run_json("export " + fp + " --out " + q(w.dir / "t.p12") + " --password-env DPGCERT_TEST_NEW_PW")["fingerprint_sha256"] == fp);
    {
      // The old key file no longer opens it.
      const test::ScopedEnv old_key("DPGCERT_KEY_FILE", (w.dir / "master.key").string());
      const json e = w.run_json("store info", 0);  // info needs no key
      CHECK(e["key_source"] == "pkcs11");
    }

    const json back = w.run_json("key rotate --new-key-file " + q(w.dir / "back.key"));
    CHECK(back["key_source"] == "key_file");
    CHECK(back["key_file"] == (w.dir / "back.key").string());
    {
      const test::ScopedEnv no_pin("DPGCERT_PIN", std::nullopt);
      CHECK(w.run_json("export " + fp + " --out " + q(w.dir / "f.p12") + " --password-env DPGCERT_TEST_NEW_PW")["fingerprint_sha256"] == fp);
    }
  }

  TEST_CASE("token import puts a stored certificate's key on the token - once - and token list shows it") {
    DPGCERT_REQUIRE_TOOL();
    DPGCERT_REQUIRE_SOFTHSM();
    test::SoftHsmToken token("cli-import");
    TokenWorkspace w;
    REQUIRE(w.run_json("store init --key-file " + q(w.dir / "master.key"))["key_source"] == "key_file");
    const json imp = w.run_json("import " + data("oces2-prod/foces.p12") + " " + w.import_options());
    const std::string fp = imp[0]["fingerprint_sha256"].get<std::string>();
    const std::string uri = test::shell_quote(token.uri());

    // No PIN, a wrong PIN: typed errors, nothing on the token.
    CHECK(w.run_json("token import " + fp + " --token " + uri, 64)["error"]["code"] == "invalid_argument");
    {
      const test::ScopedEnv pin("DPGCERT_PIN", std::string("wrong-pin"));
      const json bad = w.run_json("token import " + fp + " --token " + uri, 3);
      CHECK(bad["error"]["code"] == "bad_password");
      CHECK(bad.dump().find("wrong-pin") == std::string::npos);
    }
    const json empty = w.run_json("--pin-file " + q(w.pin_file) + " token list --token " + uri);
    CHECK(empty.empty());

    const json first = w.run_json("--pin-file " + q(w.pin_file) + " token import " + fp.substr(0, 12) + " --token " + uri);
    CHECK(first["fingerprint_sha256"] == fp);
    CHECK(first["created"] == 3);
    CHECK(first["key"].get<std::string>().find("type=private") != std::string::npos);
    const json again = w.run_json("--pin-file " + q(w.pin_file) + " token import " + fp + " --token " + uri);
    CHECK(again["created"] == 0);
    CHECK(again["key"] == first["key"]);

    const json listed = w.run_json("--pin-file " + q(w.pin_file) + " token list --token " + uri);
    REQUIRE(listed.size() == 1);
    CHECK(listed[0]["fingerprint_sha256"] == fp);
    CHECK(listed[0]["has_private_key"] == true);
    CHECK(listed[0]["uri"].get<std::string>().find("serial=" + token.serial()) != std::string::npos);
    CHECK(listed[0]["subject"].get<std::string>().find("CN=") != std::string::npos);
    CHECK_FALSE(listed[0]["serial"].get<std::string>().empty());
    CHECK(listed[0]["not_after"].get<std::string>().size() == 20);
    const auto text = w.run("--pin-file " + q(w.pin_file) + " token list --token " + uri);
    CHECK(text.exit_code == 0);
    CHECK(text.out.find(listed[0]["serial"].get<std::string>()) != std::string::npos);
    CHECK(text.out.find("pkcs11:") != std::string::npos);

    // The audit log has the import once; the store file holds no PIN.
    const json audit = w.run_json("audit --limit 0");
    int imports = 0;
    for (const auto& line : audit) imports += line["action"] == "certificate.token_import" ? 1 : 0;
    CHECK(imports == 1);
    CHECK(file_text(w.store).find(test::kTestPin) == std::string::npos);

    // Active: removal is refused; retired: the objects go.
    CHECK(w.run_json("--pin-file " + q(w.pin_file) + " token remove " + fp + " --token " + uri, 3)["error"]["code"] ==
          "conflict");
    (void)w.run_json("retire " + fp);
    CHECK(w.run_json("--pin-file " + q(w.pin_file) + " token remove " + fp + " --token " + uri)["removed"] == 3);
    CHECK(w.run_json("--pin-file " + q(w.pin_file) + " token list --token " + uri).empty());
  }
}
