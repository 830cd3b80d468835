// Bulk onboarding through the tool (issue 8): a customer folder of 50 PKCS#12 files with a password
// map, as a new user would run it from the README and --help; and the password map's rules.
#include "support/test_support.hpp"

#include <dpgcert/time.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

using namespace dpgcert;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kNow = "2025-06-01T00:00:00Z";

std::string q(const fs::path& p) { return test::shell_quote(p.string()); }

struct Workspace {
  test::TempDir tmp{"dpgcert-onboarding"};
  fs::path dir = tmp.path();
  fs::path store = dir / "store.db";
  Workspace() { test::write_text(dir / "default.pw", "Test1234\n"); }

  [[nodiscard]] test::ToolResult run(const std::string& args) const { return test::run_tool("--store " + q(store) + " " + args); }
  /// On an 80-column terminal.
  [[nodiscard]] test::ToolResult run_tty(const std::string& args) const {
    return test::run_tool_on_terminal("--store " + q(store) + " " + args);
  }
  [[nodiscard]] std::string validation() const {
    const fs::path d = test::test_data_dir();
    return std::string("--now ") + kNow + " --trust " + q(d / "oces2-prod/root.crt.pem") + " --crl " +
           q(d / "oces2-prod/crl-current.crl.pem");
  }
  /// The 50-file customer folder, made by the openssl CLI.
  [[nodiscard]] fs::path make_batch() const {
    const fs::path batch = dir / "batch";
    const std::string cmd = "bash " + q(fs::path(DPGCERT_SOURCE_DIR) / "tests/data/make_onboarding_batch.sh") + " " +
                            q(test::test_data_dir()) + " " + q(batch) + " 50 >/dev/null";
    REQUIRE(std::system(cmd.c_str()) == 0);
    return batch;
  }
};

json parse_or_fail(const test::ToolResult& r) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE_FALSE(r.out.empty());
  return json::parse(r.out);
}

}  // namespace

TEST_SUITE("cli onboarding") {
  TEST_CASE("onboarding a folder of 50 PKCS#12 files with a password map - summary, outcomes, exit code") {
    DPGCERT_REQUIRE_TOOL();
    Workspace w;
    const fs::path batch = w.make_batch();
    const json expected = json::parse(test::read_text(batch / "expected.json"));
    REQUIRE(expected.size() == 50);
    REQUIRE(w.run("store init --key-file " + q(w.dir / "master.key")).exit_code == 0);

    // JSON: one result per file, in name order; the worst outcome (unreadable files) decides the exit code.
    const auto r = w.run("import " + q(batch) + " --password-map " + q(batch / "passwords.csv") + " --password-file " +
                         q(w.dir / "default.pw") + " " + w.validation() + " --json");
    CHECK(r.exit_code == 3);
    const json results = parse_or_fail(r);
    REQUIRE(results.size() == 50);
    std::map<std::string, int> counts;
    for (const auto& e : expected) {
      CAPTURE(e["file"].get<std::string>());
      const auto it = std::find_if(results.begin(), results.end(), [&](const json& x) {
        return fs::path(x["file"].get<std::string>()).filename() == e["file"].get<std::string>();
      });
      REQUIRE(it != results.end());
      const std::string want = e["outcome"];
      if (want == "bad_password") {
        CHECK((*it)["error"]["code"] == "bad_password");
        CHECK((*it)["outcome"].is_null());
      } else {
        CHECK((*it)["outcome"] == want);
        CHECK((*it)["error"].is_null());
      }
      ++counts[want];
    }
    CHECK(counts["imported"] == 46);
    CHECK(counts["bad_password"] == 3);
    CHECK(counts["refused"] == 1);
    CHECK(r.out.find("Test1234") == std::string::npos);
    CHECK(r.out.find("Kunde-05-Pw") == std::string::npos);

    // The store holds what was imported, attached as the map says.
    const json listed = parse_or_fail(w.run(std::string("list --json --now ") + kNow));
    CHECK(listed.size() == 46);
    std::size_t with_mailbox = 0;
    for (const auto& c : listed) {
      if (!c["mailbox"].is_null()) ++with_mailbox;
      CHECK(c["type"] == "foces");
    }
    CHECK(with_mailbox == 3);  // kunde-01, -02 and -04 (kunde-03 has a wrong password)
    const json orgs = parse_or_fail(w.run("org list --json"));
    CHECK(orgs.size() == 2);
    const json legacy = parse_or_fail(w.run("show " + [&] {
      for (const auto& x : results) {
        if (fs::path(x["file"].get<std::string>()).filename() == "kunde-07.p12") return x["fingerprint_sha256"].get<std::string>();
      }
      return std::string("missing");
    }() + " --json"));
    CHECK(legacy["pkcs12"]["legacy"] == true);

    // Again, as text on one worker: everything is already there; the summary table fits an
    // 80-column terminal.
    const auto again = w.run_tty("import " + q(batch) + " --jobs 1 --password-map " + q(batch / "passwords.csv") +
                             " --password-file " + q(w.dir / "default.pw") + " " + w.validation());
    CHECK(again.exit_code == 3);
    CHECK(again.out.find("50 files: 0 imported, 46 already there, 1 refused, 3 unreadable") != std::string::npos);
    std::istringstream lines(again.out);
    std::size_t n = 0;
    for (std::string line; std::getline(lines, line);) {
      CHECK_MESSAGE(line.size() <= 80, line);
      ++n;
    }
    CHECK(n >= 52);
    CHECK(again.out.find("\x1b[") == std::string::npos);  // no colour when not a terminal
    CHECK(again.err.find("\r") == std::string::npos);     // no progress bar either

    // Only the good files: exit 0.
    const auto good = w.run("import " + q(batch / "kunde-02.p12") + " " + q(batch / "kunde-05.p12") + " --password-map " +
                            q(batch / "passwords.csv") + " " + w.validation() + " --json --quiet");
    CHECK(good.exit_code == 0);
    // A refusal without unreadable files: exit 2.
    const auto refused = w.run("import " + q(batch / "udloebet.p12") + " --password-file " + q(w.dir / "default.pw") + " " +
                               w.validation() + " --json");
    CHECK(refused.exit_code == 2);

    // The scheduled check over what was onboarded: one event per certificate within 90 days of
    // expiry (the stage is the smallest default threshold at or above its days left), "renewed"
    // for kunde-02, which kunde-04 superseded in the mailbox post@filial.dk; exit 1 (warnings).
    std::map<std::string, std::string> fingerprint_of;
    for (const auto& x : results) {
      if (!x["fingerprint_sha256"].is_null()) {
        fingerprint_of[fs::path(x["file"].get<std::string>()).filename().string()] = x["fingerprint_sha256"];
      }
    }
    std::map<std::string, std::pair<std::string, int>> want;  // fingerprint -> kind, stage
    const Time now = parse_rfc3339(kNow);
    for (const auto& e : expected) {
      if (e["outcome"] != "imported") continue;
      const std::string file = e["file"];
      if (file == "kunde-02.p12") {
        want[fingerprint_of[file]] = {"renewed", -1};
        continue;
      }
      const long long days = (parse_rfc3339(e["not_after"].get<std::string>()) - now).count() / 86400;
      if (days > 90) continue;
      int stage = 90;
      for (int t : {90, 60, 30, 14, 7, 1, 0}) {
        if (days <= t) stage = t;
      }
      want[fingerprint_of[file]] = {"expiring", stage};
    }
    REQUIRE(want.size() == 3);  // kunde-01 (27 days), kunde-02 (renewed), kunde-04 (78 days)
    const auto check = w.run(std::string("check --json --at ") + kNow);
    CHECK(check.exit_code == 1);
    std::istringstream event_lines(check.out);
    std::size_t events = 0;
    for (std::string line; std::getline(event_lines, line);) {
      const json ev = json::parse(line);
      ++events;
      const std::string fp = ev["fingerprint_sha256"];
      REQUIRE(want.contains(fp));
      CHECK(ev["kind"] == want[fp].first);
      if (want[fp].second >= 0) CHECK(ev["stage_days"] == want[fp].second);
      for (const char* field : {"id", "kind", "stage_days", "days_left", "fingerprint_sha256", "cvr", "mailbox"}) {
        CHECK_MESSAGE(ev.contains(field), field);
      }
    }
    CHECK(events == want.size());
    // Once per threshold: the same day again announces nothing.
    const auto again_check = w.run(std::string("check --json --at ") + kNow);
    CHECK(again_check.exit_code == 1);
    CHECK(again_check.out.empty());
    // A month later kunde-01 has expired (2025-06-28): one "expired" event, exit 2.
    const auto later = w.run("check --json --at 2025-07-01T00:00:00Z");
    CHECK(later.exit_code == 2);
    CHECK(later.out.find("\"expired\"") != std::string::npos);
    CHECK(later.out.find(fingerprint_of["kunde-01.p12"]) != std::string::npos);
    // The digest names the organisations and what is due.
    const auto digest = w.run("digest --now 2025-07-01T00:00:00Z");
    CHECK(digest.exit_code == 0);
    CHECK(digest.out.find("12345674") != std::string::npos);
    CHECK(digest.out.find("25313763") != std::string::npos);
  }

  TEST_CASE("password maps: CSV quoting, JSON sources, and clear errors for bad maps") {
    DPGCERT_REQUIRE_TOOL();
    Workspace w;
    REQUIRE(w.run("store init --key-file " + q(w.dir / "master.key")).exit_code == 0);
    const fs::path d = test::test_data_dir();
    fs::create_directories(w.dir / "in");
    fs::copy_file(d / "odd/foces-utf8pw.p12", w.dir / "in" / "utf8, quoted.p12");
    fs::copy_file(d / "oces2-prod/voces.p12", w.dir / "in" / "voces.p12");
    fs::copy_file(d / "oces3-prod/organisation.p12", w.dir / "in" / "org.pfx");
    fs::copy_file(d / "oces2-prod/voces.p12", w.dir / "in" / ".hidden.p12");
    test::write_text(w.dir / "in" / "notes.txt", "not a PKCS#12 file");
    test::write_text(w.dir / "in" / "org.pw", "Test1234\r\n");

    // CSV: a quoted file name with a comma, a quoted password with a doubled quote-free UTF-8
    // text, a file: source relative to the map, and CRLF line ends.
    test::write_text(w.dir / "in" / "map.csv",
               "File,Password,Org,Mailbox\r\n"
               "\"utf8, quoted.p12\",\"pass:Sikker-\xc3\xa6\xc3\xb8\xc3\xa5-2024\",12345674,sikkerpost@testfirma.dk\r\n"
               "org.pfx,file:org.pw,,\r\n"
               "voces.p12,env:DPGCERT_TEST_VOCES_PW,,\r\n");
    ::setenv("DPGCERT_TEST_VOCES_PW", "Test1234", 1);
    const auto r = w.run("import " + q(w.dir / "in") + " --password-map " + q(w.dir / "in" / "map.csv") + " --now " + kNow +
                         " --trust " + q(d / "oces2-prod/root.crt.pem") + " --trust " + q(d / "oces3-prod/root.crt.pem") +
                         " --json");
    const json j = parse_or_fail(r);
    CHECK(r.exit_code == 0);
    REQUIRE(j.size() == 3);  // hidden files and other extensions are not picked up
    for (const auto& x : j) CHECK(x["outcome"] == "imported");
    const json boxes = parse_or_fail(w.run("mailbox list --json"));
    REQUIRE(boxes.size() == 1);
    CHECK(boxes[0]["address"] == "sikkerpost@testfirma.dk");

    // JSON map: sources only (file:, env:); an inline pass: is refused (its text would pass
    // through buffers that are not wiped).
    test::write_text(w.dir / "map.json", R"({"voces.p12": "env:DPGCERT_TEST_VOCES_PW", "org.pfx": {"password": "file:in/org.pw", "org": "12345674"}})");
    auto x = w.run("import " + q(w.dir / "in" / "voces.p12") + " " + q(w.dir / "in" / "org.pfx") + " --password-map " +
                   q(w.dir / "map.json") + " --now " + kNow + " --json");
    const json again = parse_or_fail(x);
    CHECK(again[0]["outcome"] == "already_present");
    CHECK(again[1]["outcome"] == "already_present");
    test::write_text(w.dir / "inline.json", R"({"voces.p12": "pass:Test1234"})");
    x = w.run("import " + q(w.dir / "in" / "voces.p12") + " --password-map " + q(w.dir / "inline.json") + " --json");
    CHECK(x.exit_code == 64);
    CHECK(parse_or_fail(x)["error"]["message"].get<std::string>().find("use a CSV map") != std::string::npos);
    CHECK(x.out.find("Test1234") == std::string::npos);

    const std::map<std::string, std::string> bad{
        {"no-header.csv", "voces.p12,pass:Test1234\n"},
        {"unterminated.csv", "file,password\n\"voces.p12,pass:x\n"},
        {"twice.csv", "file,password\nvoces.p12,pass:a\nvoces.p12,pass:b\n"},
        {"source.csv", "file,password\nvoces.p12,Test1234\n"},
        {"unset.csv", "file,password\nvoces.p12,env:DPGCERT_TEST_NOT_SET\n"},
        {"broken.json", "{\"voces.p12\": "},
    };
    for (const auto& kv : bad) {  // (clang 14 cannot capture structured bindings)
      const auto& name = kv.first;
      const auto& text = kv.second;
      CAPTURE(name);
      test::write_text(w.dir / name, text);
      const auto e = w.run("import " + q(w.dir / "in" / "voces.p12") + " --password-map " + q(w.dir / name) + " --json");
      CHECK(e.exit_code == 64);
      CHECK(parse_or_fail(e)["error"]["code"] == "invalid_argument");
      CHECK(e.out.find("Test1234") == std::string::npos);
    }
    const auto missing = w.run("import " + q(w.dir / "in" / "voces.p12") + " --password-map " + q(w.dir / "nope.csv") + " --json");
    CHECK(missing.exit_code == 3);
    CHECK(parse_or_fail(missing)["error"]["code"] == "io");
    // A folder without PKCS#12 files is a usage error; nothing was stored by any of these.
    fs::create_directories(w.dir / "empty");
    CHECK(w.run("import " + q(w.dir / "empty") + " --json").exit_code == 64);
    CHECK(parse_or_fail(w.run("list --json")).size() == 3);
  }
}

namespace {

/// Runs the tool on a pseudo-terminal (util-linux `script`), typing `typed` after a second;
/// nullopt when `script` is not installed.
std::optional<std::string> run_on_terminal(const std::string& args, const std::string& typed, const std::string& env = {}) {
  if (std::system("command -v script >/dev/null 2>&1") != 0) return std::nullopt;
  const auto tool = test::tool_path();
  const fs::path out = fs::temp_directory_path() / ("dpgcert-tty-" + std::to_string(::getpid()));
  const std::string inner = env + " " + test::shell_quote(tool->string()) + " " + args;
  const std::string cmd = "(sleep 1; printf '%s\\n' " + test::shell_quote(typed) + ") | timeout 60 script -qec " +
                          test::shell_quote(inner) + " /dev/null > " + test::shell_quote(out.string()) + " 2>&1";
  (void)std::system(cmd.c_str());
  std::string text = test::read_text(out);
  fs::remove(out);
  return text;
}

}  // namespace

TEST_SUITE("cli onboarding") {
  TEST_CASE("on a terminal: a password prompt without echo, colour unless NO_COLOR, a progress bar") {
    DPGCERT_REQUIRE_TOOL();
    Workspace w;
    const fs::path d = test::test_data_dir();
    const auto inspected = run_on_terminal("inspect " + q(d / "oces2-prod/foces.p12"), "Test1234");
    if (!inspected) {
      MESSAGE("skipped: util-linux 'script' is not installed, no pseudo-terminal to test with");
      return;
    }
    CHECK(inspected->find("Password for ") != std::string::npos);
    CHECK(inspected->find("PKCS#12 bundle") != std::string::npos);
    CHECK(inspected->find("Test1234") == std::string::npos);  // typed, never echoed or printed
    // A file that opens with the empty password asks for nothing.
    const auto empty = run_on_terminal("inspect " + q(d / "odd/foces-emptypw.p12"), "");
    CHECK(empty->find("Password for ") == std::string::npos);
    CHECK(empty->find("PKCS#12 bundle") != std::string::npos);

    REQUIRE(w.run("store init --key-file " + q(w.dir / "master.key")).exit_code == 0);
    const std::string store = "--store " + q(w.store) + " ";
    const auto imported = run_on_terminal(store + "import " + q(d / "oces2-prod/voces.p12") + " " + q(d / "oces2-prod/foces.p12") +
                                              " " + w.validation(),
                                          "Test1234");
    CHECK(imported->find("PKCS#12 password: ") != std::string::npos);
    CHECK(imported->find("Test1234") == std::string::npos);
    CHECK(imported->find("2 files: 2 imported") != std::string::npos);
    CHECK(imported->find("] 2/2 ") != std::string::npos);  // the progress bar was drawn
    const auto coloured = run_on_terminal(store + "list --now " + kNow, "");
    CHECK(coloured->find("\x1b[32m") != std::string::npos);
    const auto plain = run_on_terminal(store + "list --now " + kNow, "", "NO_COLOR=1");
    CHECK(plain->find("\x1b[") == std::string::npos);
    CHECK(plain->find("active") != std::string::npos);
  }
}
