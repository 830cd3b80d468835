// Everyday administration through the tool: editing the inventory (organisations, contacts,
// mailboxes), and what the tool says and exits with when an admin gets something wrong.
#include "support/test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>

using namespace dpgcert;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kNow = "2025-06-01T00:00:00Z";  // the synthetic PKI's validation time
constexpr const char* kMailbox = "sikkerpost@testfirma.dk";

std::string q(const fs::path& p) { return test::shell_quote(p.string()); }
std::string data(const std::string& rel) { return q(test::test_data_dir() / rel); }

struct Workspace {
  test::TempDir tmp{"dpgcert-cli-admin"};
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
  [[nodiscard]] json run_json(const std::string& args, int expected_exit = 0) const {
    const auto r = run(args + " --json");
    INFO("dpgcert " << args << "\nstderr: " << r.err << "\nstdout: " << r.out);
    REQUIRE(r.exit_code == expected_exit);
    return json::parse(r.out);
  }
  void init() const { (void)run_json("store init --key-file " + q(dir / "master.key")); }
};

/// The tool's run with its output, for INFO.
std::string shown(const test::ToolResult& r) { return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err; }

}  // namespace

TEST_SUITE("cli admin") {
  TEST_CASE("inventory edits: rename, notes, contacts, mailbox AD group, move and removal, each audited") {
    DPGCERT_REQUIRE_TOOL();
    Workspace w;
    w.init();
    (void)w.run_json("org add 12345674 --name 'Testfirma A/S'");
    (void)w.run_json(std::string("mailbox add ") + kMailbox + " --org 12345674 --ad-group GG-Old");

    // The digest's hint used to lead to `org add`, which answered "conflict": a rename is its own command.
    CHECK(w.run_json("org rename 12345674 --name 'Testfirma Holding A/S'")["name"] == "Testfirma Holding A/S");
    auto r = w.run("org rename 12345674 --name 'Ny'");
    CHECK(r.exit_code == 0);
    CHECK(r.out == "Organisation 12345674 is now Ny\n");
    CHECK(w.run_json("org edit 12345674 --notes 'fornyes af IT'")["notes"] == "fornyes af IT");
    r = w.run("org edit 12345674");
    INFO(shown(r));
    CHECK(r.exit_code == 64);
    CHECK(r.err.find("nothing to change: give --name, --notes or --language") != std::string::npos);
    CHECK(w.run_json("org rename 87654321 --name X", 3)["error"]["code"] == "not_found");

    json org = w.run_json("org contact add 12345674 'IT-drift <drift@testfirma.dk> (renewals)'");
    REQUIRE(org["contacts"].size() == 1);
    CHECK(org["contacts"][0]["role"] == "renewals");
    CHECK(w.run_json("org contact add 12345674 'Igen <DRIFT@testfirma.dk>'", 3)["error"]["code"] == "conflict");
    CHECK(w.run_json("org contact add 12345674 'ingen adresse'", 64)["error"]["code"] == "invalid_argument");
    org = w.run_json("org contact remove 12345674 drift@testfirma.dk");
    CHECK(org["contacts"].empty());
    CHECK(w.run_json("org contact remove 12345674 drift@testfirma.dk", 3)["error"]["code"] == "not_found");

    CHECK(w.run_json(std::string("mailbox edit ") + kMailbox + " --ad-group GG-New")["ad_group"] == "GG-New");
    const json shown_org = w.run_json("org show 12345674");
    CHECK(shown_org["organisation"]["name"] == "Ny");
    CHECK(shown_org["mailboxes"][0]["ad_group"] == "GG-New");

    // A mailbox with an active certificate: moved with it, then removal refused until told to retire it.
    const json imp = w.run_json("import " + data("oces2-prod/foces.p12") + " --mailbox " + kMailbox + " " + w.import_options());
    REQUIRE(imp[0]["outcome"] == "imported");
    const std::string fp = imp[0]["fingerprint_sha256"];
    (void)w.run_json("org add 11111111 --name 'Søster ApS'");
    CHECK(w.run_json(std::string("mailbox move ") + kMailbox + " --org 11111111")["organisation_cvr"] == "11111111");
    CHECK(w.run_json("mailbox list --org 11111111").size() == 1);
    CHECK(w.run_json("mailbox list --org 12345674").empty());
    r = w.run("org remove 11111111");
    INFO(shown(r));
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("organisation 11111111 still has 1 mailbox (sikkerpost@testfirma.dk); move or remove them first") !=
          std::string::npos);
    r = w.run(std::string("mailbox remove ") + kMailbox);
    INFO(shown(r));
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("1 active certificate hangs on mailbox sikkerpost@testfirma.dk") != std::string::npos);
    CHECK(r.err.find("hint: add --retire-certificates") != std::string::npos);
    const json removed = w.run_json(std::string("mailbox remove ") + kMailbox + " --retire-certificates --reason closed");
    CHECK(removed["retired"] == json::array({fp}));
    CHECK(removed["detached_certificates"] == 1);
    CHECK(w.run_json("list --status retired").size() == 1);
    CHECK(w.run_json("org remove 12345674")["detached_certificates"] == 0);
    CHECK(w.run_json("org list").size() == 1);

    // Every edit is in the audit log, by the given actor.
    const json audit = w.run_json("audit --limit 0");
    std::vector<std::string> actions;
    for (const auto& e : audit) {
      actions.push_back(e["action"]);
      CHECK(e["actor"] == "ops@servicecenter");
    }
    for (const char* a : {"organisation.edit", "organisation.contact.add", "organisation.contact.remove", "mailbox.update",
                          "mailbox.move", "certificate.status", "mailbox.remove", "organisation.remove"}) {
      CHECK_MESSAGE(std::find(actions.begin(), actions.end(), a) != actions.end(), a);
    }
  }

  TEST_CASE("mistakes an admin makes: each gets a message that helps and exit 64 for usage errors") {
    DPGCERT_REQUIRE_TOOL();
    Workspace w;
    w.init();
    const std::string p12 = data("oces2-prod/foces.p12");

    // A typo of a command: "did you mean", exit 64; with --json the documented error object.
    auto r = w.run("lsit");
    INFO(shown(r));
    CHECK(r.exit_code == 64);
    CHECK(r.err.find("dpgcert: usage: 'lsit' is not a command of 'dpgcert'") != std::string::npos);
    CHECK(r.err.find("dpgcert: hint: did you mean 'dpgcert list'?") != std::string::npos);
    json j = w.run_json("lsit", 64);
    CHECK(j["error"]["code"] == "invalid_argument");
    CHECK(j["error"]["hint"] == "did you mean 'dpgcert list'?");
    r = w.run("org ad 12345674 --name X");
    CHECK(r.exit_code == 64);
    CHECK(r.err.find("did you mean 'dpgcert org add'?") != std::string::npos);
    r = w.run("org");
    CHECK(r.exit_code == 64);
    CHECK(r.err.find("'dpgcert org' needs a command: add, list, show") != std::string::npos);

    // A typo of an option, and a password on the command line.
    r = test::run_tool("inspect --pasword-file x " + p12);
    CHECK(r.exit_code == 64);
    CHECK(r.err.find("unknown option '--pasword-file' for 'dpgcert inspect'") != std::string::npos);
    CHECK(r.err.find("did you mean --password-file?") != std::string::npos);
    r = test::run_tool("inspect --password Test1234 " + p12);
    CHECK(r.exit_code == 64);
    CHECK(r.err.find("passwords are never taken as arguments ('--password')") != std::string::npos);
    CHECK(r.err.find("use --password-file FILE, --password-env VAR or --password-stdin") != std::string::npos);
    CHECK(r.err.find("Test1234") == std::string::npos);
    j = json::parse(test::run_tool("inspect --password=Test1234 --json " + p12).out);
    CHECK(j["error"]["code"] == "invalid_argument");
    CHECK(j.dump().find("Test1234") == std::string::npos);

    // A protected file without any password is not "wrong password?".
    r = test::run_tool("inspect " + p12);
    INFO(shown(r));
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("is password-protected and no password was given") != std::string::npos);
    CHECK(r.err.find("hint: give it with --password-file FILE, --password-env VAR or --password-stdin") != std::string::npos);
    CHECK(r.err.find("wrong password?") == std::string::npos);
    CHECK(json::parse(test::run_tool("inspect --json " + p12).out)["error"]["code"] == "bad_password");

    // Times that are not RFC 3339 are usage errors (64), also with --json; days take a "d".
    r = w.run("check --at 01-01-2027");
    INFO(shown(r));
    CHECK(r.exit_code == 64);
    CHECK(r.err.find("'01-01-2027' is not an RFC 3339 time") != std::string::npos);
    CHECK(w.run_json("check --at 01-01-2027", 64)["error"]["code"] == "invalid_argument");
    CHECK(w.run_json("list --now yesterday", 64)["error"]["message"].get<std::string>().find("RFC 3339") !=
          std::string::npos);
    CHECK(w.run_json(std::string("list --expiring-within 90d --now ") + kNow).is_array());
    CHECK(w.run_json("list --expiring-within ninety", 64)["error"]["code"] == "invalid_argument");

    // A configuration error with --json is the JSON error too.
    const fs::path bad_config = w.dir / "config.json";
    test::write_text(bad_config, "{\"store\": 17}");
    j = json::parse(w.run("--config " + q(bad_config) + " org list --json").out);
    CHECK(j["error"]["code"] == "invalid_argument");

    // A refused import shows both CVRs, whole, and a wrong password whole (piped: nothing is cut).
    (void)w.run_json("org add 11111111 --name Anden");
    r = w.run("import " + p12 + " --org 11111111 " + w.import_options());
    INFO(shown(r));
    CHECK(r.exit_code == 2);
    CHECK(r.out.find("CVR 12345674 where 11111111 is expected") != std::string::npos);
    const fs::path wrong = w.dir / "wrong.txt";
    test::write_text(wrong, "wrong\n");
    r = w.run("import " + p12 + " --password-file " + q(wrong));
    CHECK(r.exit_code == 3);
    CHECK(r.out.find("bad_password: PKCS#12: MAC verification failed (wrong password?)") != std::string::npos);
    CHECK(r.out.find("~") == std::string::npos);
  }

  TEST_CASE("output that pipes: tables are never cut when not on a terminal - metrics has --json") {
    DPGCERT_REQUIRE_TOOL();
    Workspace w;
    w.init();
    const std::string long_name = "Et meget langt organisationsnavn med mange ord, der ikke kan stå på én linje A/S";
    (void)w.run_json("org add 12345674 --name '" + long_name + "'");
    const std::string mailbox = "sikkerpost-til-den-lange-afdeling@testfirma.dk";
    (void)w.run_json("mailbox add " + mailbox + " --org 12345674 --ad-group GG-En-Meget-Lang-Gruppe-Til-Sikkerpost");
    (void)w.run_json("import " + data("oces2-prod/foces.p12") + " --mailbox " + mailbox + " " + w.import_options());
    auto r = w.run("org list");
    CHECK(r.out.find(long_name) != std::string::npos);
    r = w.run(std::string("list --now ") + kNow);
    CHECK(r.out.find(mailbox) != std::string::npos);  // `dpgcert list | grep ADDRESS` finds it
    r = w.run(std::string("mailbox list --now ") + kNow);
    CHECK(r.out.find(mailbox) != std::string::npos);
    CHECK(r.out.find("GG-En-Meget-Lang-Gruppe-Til-Sikkerpost") != std::string::npos);
    CHECK(r.out.find('~') == std::string::npos);
    // --wide is accepted everywhere (on a terminal it keeps cells whole too; see check_tty.py).
    CHECK(w.run("org list --wide").out == w.run("org list").out);

    const json m = w.run_json(std::string("metrics --now ") + kNow);
    REQUIRE(m["metrics"].is_array());
    bool expiry = false;
    for (const auto& family : m["metrics"]) {
      CHECK(family["name"].is_string());
      CHECK(family["samples"].is_array());
      if (family["name"] == "x509_cert_not_after") {
        expiry = true;
        REQUIRE(family["samples"].size() == 1);
        CHECK(family["samples"][0]["value"].get<double>() > 1.7e9);
      }
    }
    CHECK(expiry);
    // No check has run yet: no last-check series. After one, both (the wall clock's time).
    auto has_family = [](const json& metrics, const std::string& name) -> const json* {
      for (const auto& f : metrics["metrics"]) {
        if (f["name"] == name) return &f;
      }
      return nullptr;
    };
    CHECK(has_family(m, "dpgcert_last_check_timestamp_seconds") == nullptr);
    CHECK(w.run(std::string("check --now ") + kNow).exit_code != 3);
    const json after = w.run_json(std::string("metrics --now ") + kNow);
    const json* last = has_family(after, "dpgcert_last_check_timestamp_seconds");
    REQUIRE(last != nullptr);
    CHECK((*last)["samples"][0]["value"].get<double>() > 1.75e9);  // not the --now of 2025-06-01
    const json* success = has_family(after, "dpgcert_last_check_success");
    REQUIRE(success != nullptr);
    CHECK((*success)["samples"][0]["value"] == 1.0);
  }

  TEST_CASE("store environment policy, audit times and backups through the tool") {
    DPGCERT_REQUIRE_TOOL();
    Workspace w;
    json j = w.run_json("store init --key-file " + q(w.dir / "master.key") + " --environment production");
    CHECK(j["environment"] == "production");
    CHECK(w.run_json("store info")["environment"] == "production");
    // An OCES2 test certificate is refused by a production store, with the reason.
    const std::string test_p12 = data("oces2-test/foces.p12");
    const std::string opts = w.import_options() + " --trust " + data("oces2-test/root.crt.pem");
    auto r = w.run("import " + test_p12 + " " + opts);
    INFO(shown(r));
    CHECK(r.exit_code == 2);
    CHECK(r.out.find("environment: this store accepts production certificates only") != std::string::npos);
    CHECK(w.run_json("list").empty());
    // Changed (audited), the same file goes in.
    j = w.run_json("store environment any");
    CHECK(j["previous"] == "production");
    CHECK(j["changed"] == true);
    CHECK(w.run_json("import " + test_p12 + " " + opts)[0]["outcome"] == "imported");
    CHECK(w.run_json("store environment staging", 64)["error"]["code"] == "invalid_argument");

    // The log: wall-clock times, and the --now the import ran with apart from them.
    const json audit = w.run_json("audit --limit 0");
    bool import_seen = false;
    for (const auto& e : audit) {
      CHECK(e["at"].get<std::string>() != kNow);
      if (e["action"] == "certificate.import") {
        import_seen = true;
        CHECK(e["command_time"] == kNow);
      }
      if (e["action"] == "store.environment") CHECK(e["command_time"].is_null());
    }
    CHECK(import_seen);
    r = w.run("audit");
    CHECK(r.out.find(std::string("(for --now ") + kNow + ")") != std::string::npos);

    // A backup, a change, a restore: the change is gone.
    const fs::path backup = w.dir / "backup.db";
    CHECK(w.run_json("store backup --out " + q(backup))["certificates"] == 1);
    CHECK(w.run_json("store backup --out " + q(backup), 3)["error"]["code"] == "conflict");
    (void)w.run_json("org add 11111111 --name Ny");
    CHECK(w.run_json("org list").size() == 2);
    j = w.run_json("store restore " + q(backup));
    CHECK(j["organisations"] == 1);
    CHECK(w.run_json("org list").size() == 1);
    CHECK(w.run_json("audit --limit 1")[0]["action"] == "store.restore");
  }
  TEST_CASE("store retention: shown, changed with an audit line, off - bad values refused") {
    DPGCERT_REQUIRE_TOOL();
    Workspace w;
    (void)w.run_json("store init --key-file " + q(w.dir / "master.key"));
    json j = w.run_json("store retention");
    CHECK(j["retention_days"] == 365);
    CHECK(j["changed"] == false);
    auto r = w.run("store retention");
    CHECK(r.out.find("for 365 days") != std::string::npos);
    j = w.run_json("store retention 90");
    CHECK(j["retention_days"] == 90);
    CHECK(j["previous"] == 365);
    CHECK(j["changed"] == true);
    j = w.run_json("store retention off");
    CHECK(j["retention_days"].is_null());
    CHECK(j["previous"] == 90);
    r = w.run("store retention");
    CHECK(r.out.find("forever") != std::string::npos);
    for (const char* bad : {"0", "36526", "-3", "ten", "1e3"}) {
      INFO(bad);
      CHECK(w.run(std::string("store retention -- ") + bad).exit_code == 64);
    }
    CHECK(w.run_json("store retention")["retention_days"].is_null());  // unchanged by the refused ones
    const json audit = w.run_json("audit --limit 0");
    std::size_t changes = 0;
    for (const auto& e : audit) changes += e["action"] == "lifecycle.retention" ? 1 : 0;
    CHECK(changes == 2);
  }
}
