// The dpgcert tool's store commands (issue 6), run as an admin runs them: init, org, mailbox,
// import, list, show, export, retire, key rotate, audit, and what each does with bad input.
#include "support/test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

using namespace dpgcert;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kNow = "2025-06-01T00:00:00Z";  // the synthetic PKI's validation time
constexpr const char* kMailbox = "sikkerpost@testfirma.dk";

std::string q(const fs::path& p) { return test::shell_quote(p.string()); }
std::string data(const std::string& rel) { return q(test::test_data_dir() / rel); }

const json& manifest_entry(const std::string& path) {
  static const json manifest = json::parse(test::read_text(test::test_data_dir() / "manifest.json"));
  for (const auto& f : manifest["files"]) {
    if (f["path"] == path) return f;
  }
  throw std::runtime_error("not in the manifest: " + path);
}
std::string fp_of(const std::string& path) { return manifest_entry(path)["sha256"].get<std::string>(); }


/// A scratch folder with a store path, a password file and the options every import here uses
/// (the synthetic roots as anchors, the current CRL, the PKI's validation time).
struct Workspace {
  test::TempDir tmp{"dpgcert-cli-store"};
  fs::path dir = tmp.path();
  fs::path store = dir / "store.db";
  fs::path password = dir / "password.txt";

  Workspace() { test::write_text(password, "Test1234\n"); }

  [[nodiscard]] test::ToolResult run(const std::string& args, const std::string& input = {}) const {
    return test::run_tool("--store " + q(store) + " --actor ops@servicecenter " + args, input);
  }
  [[nodiscard]] std::string import_options() const {
    return "--password-file " + q(password) + " --now " + kNow + " --trust " + data("oces2-prod/root.crt.pem") +
           " --trust " + data("oces3-prod/root.crt.pem") + " --crl " + data("oces2-prod/crl-current.crl.pem");
  }
  /// Runs a command with --json and parses its output; the exit code must be `expected_exit`.
  [[nodiscard]] json run_json(const std::string& args, int expected_exit = 0, const std::string& input = {}) const {
    const auto r = run(args + " --json", input);
    INFO("dpgcert " << args << "\nstderr: " << r.err << "\nstdout: " << r.out);
    REQUIRE(r.exit_code == expected_exit);
    return json::parse(r.out);
  }
  void init() const {
    const json j = run_json("store init --key-file " + q(dir / "master.key"));
    REQUIRE(j["key_file_created"] == true);
  }
  [[nodiscard]] std::size_t count(const std::string& list_args = {}) const {
    return run_json("list " + list_args).size();
  }
};

bool contains_secret(const std::string& text) {
  return text.find("Test1234") != std::string::npos || text.find("PRIVATE KEY") != std::string::npos;
}

}  // namespace

TEST_SUITE("cli store") {
  TEST_CASE("store init creates a 0600 key file and the store remembers it") {
    DPGCERT_REQUIRE_TOOL();
    Workspace w;
    const json j = w.run_json("store init --key-file " + q(w.dir / "master.key"));
    CHECK(j["key_source"] == "key_file");
    CHECK(j["key_file_created"] == true);
    CHECK(j["schema_version"].get<int>() >= 1);
    struct stat st {};
    REQUIRE(::stat((w.dir / "master.key").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(st.st_size == 32);
    // Later commands need no key option.
    const json info = w.run_json("store info");
    CHECK(info["backend"] == "sqlite");
    CHECK(info["key_source"] == "key_file");
    CHECK(info["certificates"] == 0);
    // A second init of the same store is refused and keeps the first.
    const auto again = w.run("store init --key-file " + q(w.dir / "other.key") + " --json");
    CHECK(again.exit_code == 3);
    CHECK(json::parse(again.out)["error"]["code"] == "conflict");
    CHECK(w.run_json("store info")["key_file"] == j["key_file"]);
  }

  TEST_CASE("onboarding through the tool: organisation, mailbox, import, renewal by mailbox, listing") {
    DPGCERT_REQUIRE_TOOL();
    Workspace w;
    w.init();
    const json org = w.run_json("org add 12345674 --name 'Testfirma A/S' --contact 'IT-drift <drift@testfirma.dk> (renewals)'");
    CHECK(org["cvr"] == "12345674");
    CHECK(org["contacts"][0]["email"] == "drift@testfirma.dk");
    CHECK(org["contacts"][0]["role"] == "renewals");
    const json mb = w.run_json(std::string("mailbox add ") + kMailbox + " --org 12345674 --ad-group GG-Sikkerpost");
    CHECK(mb["organisation_cvr"] == "12345674");
    CHECK(mb["current_certificate"].is_null());

    // The first certificate of the mailbox, then its renewal: the older one is superseded.
    const std::string old_fp = fp_of("odd/foces-expiring-soon.p12");
    const std::string new_fp = fp_of("oces2-prod/foces.p12");
    json imp = w.run_json("import " + data("odd/foces-expiring-soon.p12") + " --mailbox " + kMailbox + " " + w.import_options());
    REQUIRE(imp.size() == 1);
    CHECK(imp[0]["outcome"] == "imported");
    CHECK(imp[0]["fingerprint_sha256"] == old_fp);
    CHECK(imp[0]["report"]["verdict"] == "warn");  // 19 days left, RSA 2048
    imp = w.run_json("import " + data("oces2-prod/foces.p12") + " --mailbox " + kMailbox + " " + w.import_options());
    CHECK(imp[0]["outcome"] == "imported");
    CHECK(imp[0]["status"] == "active");
    CHECK(imp[0]["superseded"] == json::array({old_fp}));
    CHECK_FALSE(contains_secret(imp.dump()));

    // Idempotent: the same certificate again, also inside a legacy file, changes nothing.
    imp = w.run_json("import " + data("oces2-prod/foces.p12") + " " + data("oces2-prod/foces-legacy.p12") + " " +
                     w.import_options());
    REQUIRE(imp.size() == 2);
    CHECK(imp[0]["outcome"] == "already_present");
    CHECK(imp[1]["outcome"] == "already_present");
    CHECK(w.count() == 2);

    // Another certificate of the organisation, by CVR only, plus an OCES3 one.
    imp = w.run_json("import " + data("oces2-prod/voces.p12") + " " + data("oces3-prod/organisation.p12") +
                     " --org 12345674 " + w.import_options());
    CHECK(imp[0]["outcome"] == "imported");
    CHECK(imp[1]["outcome"] == "imported");

    const json all = w.run_json(std::string("list --now ") + kNow);
    REQUIRE(all.size() == 4);
    for (const auto& c : all) {
      for (const char* field : {"fingerprint_sha256", "status", "not_after", "cvr", "mailbox", "type"}) {
        CHECK_MESSAGE(c.contains(field), field);
      }
      CHECK(c["cvr"] == "12345674");
    }
    CHECK(all[0]["fingerprint_sha256"] == old_fp);  // soonest not_after first
    CHECK(all[0]["status"] == "superseded");
    CHECK(all[0]["days_left"] == 19);

    const json superseded = w.run_json("list --status superseded");
    REQUIRE(superseded.size() == 1);
    CHECK(superseded[0]["fingerprint_sha256"] == old_fp);
    // The renewal question leaves the superseded certificate out; 2027-01-01 is 579 days away.
    CHECK(w.count(std::string("--expiring-within 30 --now ") + kNow) == 0);
    const json due = w.run_json(std::string("list --expiring-within 600 --now ") + kNow);
    CHECK(due.size() == 3);
    for (const auto& c : due) CHECK(c["status"] == "active");
    const json mine = w.run_json(std::string("list --mailbox ") + kMailbox);
    CHECK(mine.size() == 2);
    const json types = w.run_json("list --org 12345674 --status active");
    std::set<std::string> seen;
    for (const auto& c : types) seen.insert(c["type"].get<std::string>());
    CHECK(seen == std::set<std::string>{"foces", "voces", "organisation"});
    const json page = w.run_json("list --limit 1 --offset 1");
    REQUIRE(page.size() == 1);
    CHECK(page[0]["fingerprint_sha256"] == all[1]["fingerprint_sha256"]);

    // The mailbox now points at the renewal.
    const json boxes = w.run_json("mailbox list --org 12345674");
    REQUIRE(boxes.size() == 1);
    CHECK(boxes[0]["current_certificate"] == new_fp);
    CHECK(boxes[0]["ad_group"] == "GG-Sikkerpost");

    // show by an 8-digit prefix: lineage both ways, the stored report, no secret.
    const json shown = w.run_json("show " + new_fp.substr(0, 12));
    CHECK(shown["fingerprint_sha256"] == new_fp);
    CHECK(shown["lineage"]["supersedes"] == json::array({old_fp}));
    CHECK(shown["validation"]["verdict"] == "warn");
    CHECK(shown["validation"]["forced"] == false);
    CHECK(shown["pkcs12"]["legacy"] == false);
    CHECK(shown["certificate"]["oces"]["fid"] == manifest_entry("oces2-prod/foces.p12")["id"]);
    CHECK_FALSE(contains_secret(shown.dump()));
    CHECK(w.run_json("show " + old_fp)["lineage"]["superseded_by"] == new_fp);

    const json shown_org = w.run_json("org show 12345674");
    CHECK(shown_org["mailboxes"].size() == 1);
    CHECK(shown_org["certificates"].size() == 4);
    CHECK(w.run_json("org list").size() == 1);
    const json info = w.run_json("store info");
    CHECK(info["organisations"] == 1);
    CHECK(info["mailboxes"] == 1);
    CHECK(info["certificates"] == 4);

    // Every change is in the audit log, by the given actor.
    const json audit = w.run_json("audit --limit 0");
    std::size_t imports = 0;
    for (const auto& e : audit) {
      CHECK(e["actor"] == "ops@servicecenter");
      if (e["action"].get<std::string>().find("import") != std::string::npos) ++imports;
    }
    CHECK(imports == 4);
    CHECK_FALSE(contains_secret(audit.dump()));

    // Human output: one row per certificate, and still no secret.
    const auto human = test::run_tool_on_terminal("--store " + q(w.store) + std::string(" list --now ") + kNow);
    CHECK(human.exit_code == 0);
    CHECK(human.out.find(new_fp.substr(0, 8) + " active") != std::string::npos);
    std::istringstream human_lines(human.out);
    for (std::string line; std::getline(human_lines, line);) CHECK_MESSAGE(line.size() <= 80, line);
    CHECK_FALSE(contains_secret(human.out));
  }

  TEST_CASE("import refuses a failing certificate and stores nothing - forced, it is kept with its report") {
    DPGCERT_REQUIRE_TOOL();
    Workspace w;
    w.init();
    for (const char* file : {"odd/foces-expired.p12", "odd/foces-revoked.p12", "oces2-prod/moces.p12"}) {
      CAPTURE(file);
      const json r = w.run_json("import " + data(file) + " " + w.import_options(), 2);
      CHECK(r[0]["outcome"] == "refused");
      CHECK(r[0]["report"]["verdict"] == "fail");
      CHECK(r[0]["status"].is_null());
    }
    CHECK(w.count() == 0);
    CHECK(w.run_json("audit --limit 0").size() == 1);  // store.init only

    // A batch is judged per file: the good one lands, the exit code is the worst.
    const json mixed = w.run_json("import " + data("oces2-prod/voces.p12") + " " + data("odd/foces-expired.p12") + " " +
                                      w.import_options(),
                                  2);
    CHECK(mixed[0]["outcome"] == "imported");
    CHECK(mixed[1]["outcome"] == "refused");
    CHECK(w.count() == 1);

    const json forced = w.run_json("import " + data("odd/foces-expired.p12") + " --force " + w.import_options());
    CHECK(forced[0]["outcome"] == "imported");
    const json shown = w.run_json("show " + fp_of("odd/foces-expired.p12"));
    CHECK(shown["validation"]["forced"] == true);
    CHECK(shown["validation"]["verdict"] == "fail");
    bool validity_failed = false;
    for (const auto& c : shown["validation"]["report"]["checks"]) {
      if (c["id"] == "validity") validity_failed = c["status"] == "fail";
    }
    CHECK(validity_failed);
  }

  TEST_CASE("unreadable input is an error with its own code and changes nothing stored") {
    DPGCERT_REQUIRE_TOOL();
    Workspace w;
    w.init();
    const json unset = w.run_json("import " + data("oces2-prod/voces.p12") + " --password-env DPGCERT_TEST_NOPE", 64);
    CHECK(unset["error"]["code"] == "invalid_argument");  // the variable is not set: a usage error

    {
      const test::ScopedEnv pw("DPGCERT_TEST_PW", "wrong-password");
      const json r = w.run_json("import " + data("oces2-prod/voces.p12") + " --password-env DPGCERT_TEST_PW", 3);
      CHECK(r[0]["error"]["code"] == "bad_password");
      CHECK(r[0]["outcome"].is_null());
      CHECK(r.dump().find("wrong-password") == std::string::npos);
    }
    const auto bytes = test::read_file(test::test_data_dir() / "oces2-prod/voces.p12");
    test::write_text(w.dir / "truncated.p12", std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size() / 2));
    json r = w.run_json("import " + q(w.dir / "truncated.p12") + " " + w.import_options(), 3);
    CHECK(r[0]["error"]["code"] == "malformed");
    r = w.run_json("import " + q(w.dir / "missing.p12") + " " + w.import_options(), 3);
    CHECK(r[0]["error"]["code"] == "io");
    // The password from standard input works (and a trailing newline is not part of it).
    r = w.run_json("import " + data("oces2-prod/voces.p12") + " --password-stdin --now " + kNow + " --trust " +
                       data("oces2-prod/root.crt.pem"),
                   0, "Test1234\n");
    CHECK(r[0]["outcome"] == "imported");
    CHECK(w.count() == 1);

    // Unknown things are not_found; bad arguments are usage errors.
    CHECK(w.run_json("show 0123456789abcdef", 3)["error"]["code"] == "not_found");
    CHECK(w.run_json("org show 87654321", 3)["error"]["code"] == "not_found");
    CHECK(w.run_json("mailbox add x@kunde.dk --org 87654321", 3)["error"]["code"] == "not_found");
    CHECK(w.run_json("org add 1234567 --name 'Seven digits'", 64)["error"]["code"] == "invalid_argument");
    CHECK(w.run("list --status lost").exit_code == 64);
    CHECK(w.count() == 1);
  }

  TEST_CASE("a store that does not exist and a wrong master key are clear errors") {
    DPGCERT_REQUIRE_TOOL();
    Workspace w;
    const auto missing = w.run("list --json");
    CHECK(missing.exit_code == 3);
    CHECK_FALSE(fs::exists(w.store));  // reading never creates a store

    w.init();
    CHECK(w.run_json("import " + data("oces2-prod/foces.p12") + " " + w.import_options())[0]["outcome"] == "imported");
    std::string other;
    for (int i = 0; i < 32; ++i) other += static_cast<char>(0x5a + 3 * i);  // another key, not the store's
    test::write_text(w.dir / "other.key", other);
    fs::permissions(w.dir / "other.key", fs::perms::owner_read | fs::perms::owner_write);  // key files are private
    const test::ScopedEnv key("DPGCERT_KEY_FILE", (w.dir / "other.key").string());
    const json e = w.run_json("export " + fp_of("oces2-prod/foces.p12") + " --out " + q(w.dir / "x.p12") +
                                  " --password-file " + q(w.password),
                              3);
    CHECK(e["error"]["code"] == "bad_password");
    CHECK(e["error"]["message"].get<std::string>().find("master key") != std::string::npos);
    CHECK_FALSE(fs::exists(w.dir / "x.p12"));
    // Importing needs the key too, and adds nothing without it.
    const json imp = w.run_json("import " + data("oces2-prod/voces.p12") + " " + w.import_options(), 3);
    CHECK(imp.dump().find("master key") != std::string::npos);
  }

  TEST_CASE("export writes a new PKCS#12 with a new password that openssl reads, modern or legacy") {
    DPGCERT_REQUIRE_TOOL();
    Workspace w;
    w.init();
    const std::string fp = fp_of("oces2-prod/voces-legacy.p12");
    REQUIRE(w.run_json("import " + data("oces2-prod/voces-legacy.p12") + " " + w.import_options())[0]["outcome"] ==
            "imported");
    const test::ScopedEnv pw("DPGCERT_TEST_NEW_PW", "Ny-Adgangskode-2027");
    for (const std::string profile : {"modern", "legacy"}) {
      CAPTURE(profile);
      const fs::path out = w.dir / (profile + ".p12");
      const json j = w.run_json("export " + fp.substr(0, 16) + " --out " + q(out) + " --profile " + profile +
                                " --password-env DPGCERT_TEST_NEW_PW");
      CHECK(j["fingerprint_sha256"] == fp);
      CHECK(j["profile"] == profile);
      struct stat st {};
      REQUIRE(::stat(out.c_str(), &st) == 0);
      CHECK((st.st_mode & 0777) == 0600);
      // openssl (a third party) opens it with the new password and finds the same certificate and a key.
      const std::string cmd = "openssl pkcs12 " + std::string(profile == "legacy" ? "-legacy " : "") + "-in " + q(out) +
                              " -passin env:DPGCERT_TEST_NEW_PW -nodes -out " + q(w.dir / "out.pem") +
                              " 2>/dev/null && openssl x509 -in " + q(w.dir / "out.pem") +
                              " -noout -fingerprint -sha256 > " + q(w.dir / "fp.txt");
      REQUIRE(std::system(cmd.c_str()) == 0);
      std::string got = test::read_text(w.dir / "fp.txt");
      std::string hex;
      for (char c : got.substr(got.find('=') + 1)) {
        if (std::isxdigit(static_cast<unsigned char>(c))) hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      CHECK(hex == fp);
      CHECK(test::read_text(w.dir / "out.pem").find("PRIVATE KEY") != std::string::npos);
      // The inspect command agrees on the profile.
      const auto inspected = test::run_tool("inspect --json --password-env DPGCERT_TEST_NEW_PW " + q(out));
      REQUIRE(inspected.exit_code <= 1);
      CHECK(json::parse(inspected.out)["pkcs12"]["legacy"] == (profile == "legacy"));
    }
    // Never overwritten.
    const auto before = test::read_file(w.dir / "modern.p12");
    const json again = w.run_json("export " + fp + " --out " + q(w.dir / "modern.p12") + " --password-env DPGCERT_TEST_NEW_PW", 3);
    CHECK(again["error"]["code"] == "conflict");
    CHECK(test::read_file(w.dir / "modern.p12") == before);
  }

  TEST_CASE("retire takes a certificate out of service and key rotate re-wraps every secret") {
    DPGCERT_REQUIRE_TOOL();
    Workspace w;
    w.init();
    REQUIRE(w.run_json(std::string("mailbox add ") + kMailbox + " --org 12345674", 3)["error"]["code"] == "not_found");
    CHECK(w.run_json("org add 12345674 --name Testfirma")["cvr"] == "12345674");
    CHECK(w.run_json(std::string("mailbox add ") + kMailbox + " --org 12345674")["address"] == kMailbox);
    CHECK(w.run_json("import " + data("oces2-prod/foces.p12") + " --mailbox " + kMailbox + " " + w.import_options())[0]["outcome"] ==
          "imported");
    CHECK(w.run_json("import " + data("oces2-prod/voces.p12") + " " + w.import_options())[0]["outcome"] == "imported");
    const std::string fp = fp_of("oces2-prod/foces.p12");

    const json retired = w.run_json("retire " + fp + " --reason 'customer left'");
    CHECK(retired["status"] == "retired");
    CHECK(w.run_json("mailbox list")[0]["current_certificate"].is_null());
    CHECK(w.count("--status active") == 1);

    const fs::path next = w.dir / "next.key";
    const json rot = w.run_json("key rotate --new-key-file " + q(next));
    CHECK(rot["rewrapped"].get<int>() >= 4);  // two PKCS#12 files and two passwords at least
    CHECK(rot["key_file"] == next.string());
    CHECK(fs::exists(next));
    // The store follows the new key; the old one no longer opens it.
    const test::ScopedEnv pw("DPGCERT_TEST_NEW_PW", "Rotated-1");
    CHECK(w.run_json("export " + fp + " --out " + q(w.dir / "after.p12") + " --password-env DPGCERT_TEST_NEW_PW")["fingerprint_sha256"] ==
          fp);
    {
      const test::ScopedEnv old_key("DPGCERT_KEY_FILE", (w.dir / "master.key").string());
      const json e = w.run_json("export " + fp + " --out " + q(w.dir / "old.p12") + " --password-env DPGCERT_TEST_NEW_PW", 3);
      CHECK(e["error"]["code"] == "bad_password");
    }
    const json audit = w.run_json("audit --limit 0");
    bool saw_retire = false;
    bool saw_rotate = false;
    for (const auto& e : audit) {
      const std::string action = e["action"];
      saw_retire = saw_retire || action.find("retire") != std::string::npos || e.dump().find("retired") != std::string::npos;
      saw_rotate = saw_rotate || action.find("rotate") != std::string::npos;
    }
    CHECK(saw_retire);
    CHECK(saw_rotate);
  }

  TEST_CASE("a passphrase store needs its passphrase and says so") {
    DPGCERT_REQUIRE_TOOL();
    Workspace w;
    {
      const test::ScopedEnv pp("DPGCERT_TEST_PASSPHRASE", "correct horse battery staple");
      const json j = w.run_json("store init --passphrase-env DPGCERT_TEST_PASSPHRASE --argon2-memory 8192 --argon2-iterations 1");
      CHECK(j["key_source"] == "passphrase");
      CHECK(j["key_file"].is_null());
      const json info = w.run_json("store info");
      CHECK(info["argon2"]["memory_kib"] == 8192);
    }
    // Later commands take the passphrase from DPGCERT_PASSPHRASE.
    {
      const test::ScopedEnv pp("DPGCERT_PASSPHRASE", "correct horse battery staple");
      CHECK(w.run_json("import " + data("oces2-prod/voces.p12") + " " + w.import_options())[0]["outcome"] == "imported");
    }
    {
      const test::ScopedEnv pp("DPGCERT_PASSPHRASE", "wrong horse");
      const json e = w.run_json("export " + fp_of("oces2-prod/voces.p12") + " --out " + q(w.dir / "x.p12") +
                                    " --password-file " + q(w.password),
                                3);
      CHECK(e["error"]["code"] == "bad_password");
      CHECK(e.dump().find("wrong horse") == std::string::npos);
    }
    const json without = w.run_json("import " + data("oces2-prod/foces.p12") + " " + w.import_options(), 64);
    CHECK(without["error"]["code"] == "invalid_argument");  // one error up front, not one per file
    CHECK(without["error"]["message"].get<std::string>().find("passphrase") != std::string::npos);
    CHECK(w.run("import " + data("oces2-prod/foces.p12") + " " + w.import_options()).err.find("DPGCERT_PASSPHRASE") !=
          std::string::npos);
    CHECK(w.count() == 1);
    // The store file holds neither the passphrase nor the PKCS#12 password.
    const auto db = test::read_file(w.store);
    const std::string text(reinterpret_cast<const char*>(db.data()), db.size());
    CHECK(text.find("correct horse") == std::string::npos);
    CHECK(text.find("Test1234") == std::string::npos);
  }
}
