// The lifecycle commands of the dpgcert tool, run as an operator or a scheduled job runs them:
// check (exit codes, JSON lines), sinks, org policy, digest, metrics.
#include "delivery/local_server.hpp"
#include "support/prometheus_text.hpp"
#include "support/test_support.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

using namespace dpgcert;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string q(const fs::path& p) { return test::shell_quote(p.string()); }

fs::path data(const std::string& rel) { return test::test_data_dir() / rel; }

const json& manifest_entry(const std::string& path) {
  static const json manifest = json::parse(test::read_text(test::test_data_dir() / "manifest.json"));
  for (const auto& f : manifest["files"]) {
    if (f["path"] == path) return f;
  }
  throw std::runtime_error("not in the manifest: " + path);
}

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = text.find('\n', pos);
    const std::string line = text.substr(pos, end - pos);
    if (!line.empty()) out.push_back(json::parse(line));
    pos = end == std::string::npos ? text.size() : end + 1;
  }
  return out;
}

/// A store made by the tool in a temporary folder, with the customer's organisation and mailbox,
/// and the synthetic FOCES certificate (valid until 2027-01-01) imported on 2025-06-01.
struct CliStore {
  fs::path dir;
  fs::path db;
  fs::path pw;

  CliStore() {
    std::string tmpl = (fs::temp_directory_path() / "dpgcert-cli-life-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
    db = dir / "store.db";
    pw = dir / "pw";
    std::ofstream(pw) << "Test1234\n";
    REQUIRE(run("store init --key-file " + q(dir / "store.key")).exit_code == 0);
    REQUIRE(run("org add 12345674 --name 'Testfirma A/S' --contact 'Ida IT <it@testfirma.dk> (renewals)'").exit_code == 0);
    REQUIRE(run("mailbox add sikkerpost@testfirma.dk --org 12345674").exit_code == 0);
    REQUIRE(import("oces2-prod/foces.p12", "--mailbox sikkerpost@testfirma.dk").exit_code == 0);
  }
  ~CliStore() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  CliStore(const CliStore&) = delete;
  CliStore& operator=(const CliStore&) = delete;

  test::ToolResult run(const std::string& args) const { return test::run_tool("--store " + q(db) + " " + args); }

  test::ToolResult import(const std::string& file, const std::string& extra = "") const {
    return run("import " + q(data(file)) + " --password-file " + q(pw) + " --org 12345674 --now 2025-06-01T00:00:00Z" +
               " --trust " + q(data("oces2-prod/root.crt.pem")) + " --crl " + q(data("oces2-prod/crl-current.crl.pem")) +
               " " + extra);
  }

  std::string script(const std::string& name, const std::string& body) const {
    const fs::path p = dir / name;
    std::ofstream(p) << "#!/bin/sh\n" << body;
    fs::permissions(p, fs::perms::owner_all);
    return p.string();
  }
};

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("check: exit codes 0, 1 and 2 like a monitoring plugin, JSON lines with the required fields") {
    DPGCERT_REQUIRE_TOOL();
    CliStore s;
    const std::string fp = manifest_entry("oces2-prod/foces.p12")["sha256"];

    auto quiet = s.run("check --json --at 2025-06-01T00:00:00Z");
    CHECK(quiet.exit_code == 0);
    CHECK(quiet.out.empty());

    auto warn = s.run("check --json --at 2026-10-15T00:00:00Z");
    CHECK(warn.exit_code == 1);
    auto lines = json_lines(warn.out);
    REQUIRE(lines.size() == 1);
    const json& e = lines[0];
    for (const char* field : {"id", "kind", "stage_days", "days_left", "fingerprint_sha256", "cvr", "mailbox"}) {
      CAPTURE(field);
      CHECK(e.contains(field));
    }
    CHECK(e["kind"] == "expiring");
    CHECK(e["stage_days"] == 90);
    CHECK(e["days_left"] == 78);
    CHECK(e["fingerprint_sha256"] == fp);
    CHECK(e["cvr"] == "12345674");
    CHECK(e["mailbox"] == "sikkerpost@testfirma.dk");
    CHECK(e["id"].get<std::string>().size() == 32);
    CHECK(e["organisation"]["contacts"][0]["email"] == "it@testfirma.dk");
    CHECK(warn.out.find("Test1234") == std::string::npos);

    // The same stage again: nothing new to say, but the state is still a warning.
    auto again = s.run("check --json --at 2026-10-20T00:00:00Z");
    CHECK(again.exit_code == 1);
    CHECK(again.out.empty());

    auto last = s.run("check --at 2026-12-31T12:00:00Z");
    CHECK(last.exit_code == 2);
    CHECK(last.out.find("EXPIRING 1d") != std::string::npos);
    CHECK(last.out.find("sikkerpost@testfirma.dk") != std::string::npos);
    CHECK(last.out.find("critical: 1") != std::string::npos);

    auto expired = s.run("check --json --at 2027-01-02T00:00:00Z");
    CHECK(expired.exit_code == 2);
    lines = json_lines(expired.out);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0]["kind"] == "expired");
    CHECK(lines[0]["stage_days"] == 0);
    CHECK(lines[0]["days_left"] == -1);  // a day past notAfter (2027-01-01T00:00:00Z)

    // --now is the same as --at when --at is absent.
    CHECK(s.run("check --json --now 2027-01-03T00:00:00Z").exit_code == 2);
  }

  TEST_CASE("check exits 3 when it cannot run (no store, an unknown sink) and 64 for a bad time") {
    DPGCERT_REQUIRE_TOOL();
    CliStore s;
    const auto missing = test::run_tool("--store " + q(s.dir / "nope.db") + " check --json --at 2026-01-01T00:00:00Z");
    CHECK(missing.exit_code == 3);
    CHECK(json::parse(missing.out)["error"]["code"] == "not_found");
    const auto bad_time = s.run("check --at yesterday");
    CHECK(bad_time.exit_code == 64);  // a usage error, like every other
    CHECK(bad_time.err.find("'yesterday' is not an RFC 3339 time") != std::string::npos);
    const auto bad_sink = s.run("check --json --sink nope --at 2026-01-01T00:00:00Z");
    CHECK(bad_sink.exit_code == 3);
    CHECK(json::parse(bad_sink.out)["error"]["code"] == "not_found");
  }

  TEST_CASE("check: a certificate forced in although revoked is announced once and exits 2") {
    DPGCERT_REQUIRE_TOOL();
    CliStore s;
    REQUIRE(s.import("odd/foces-revoked.p12", "--force").exit_code == 0);
    const auto r = s.run("check --json --at 2025-06-02T00:00:00Z");
    CHECK(r.exit_code == 2);
    const auto lines = json_lines(r.out);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0]["kind"] == "revoked");
    CHECK(lines[0]["stage_days"].is_null());
    CHECK(lines[0]["fingerprint_sha256"] == manifest_entry("odd/foces-revoked.p12")["sha256"]);
    // Announced once; the revoked certificate is not in use, so the state is fine again.
    const auto again = s.run("check --json --at 2025-06-03T00:00:00Z");
    CHECK(again.exit_code == 0);
    CHECK(again.out.empty());
  }

  TEST_CASE("sinks on the command line: JSON Lines, a failing hook, a hook timeout, an unwritable path") {
    DPGCERT_REQUIRE_TOOL();
    CliStore s;
    const fs::path log = s.dir / "events.jsonl";
    const fs::path blocker = s.dir / "a-file";
    std::ofstream(blocker) << "x";
    REQUIRE(s.run("sink add log --jsonl " + q(log)).exit_code == 0);
    REQUIRE(s.run("sink add unwritable --jsonl " + q(blocker / "events.jsonl")).exit_code == 0);
    REQUIRE(s.run("sink add hook --command " + q(s.script("fail.sh", "cat >/dev/null; exit 1\n"))).exit_code == 0);
    REQUIRE(s.run("sink add slow --timeout 1 --command " + q(s.script("slow.sh", "sleep 30\n"))).exit_code == 0);
    const auto ok_hook = s.script("ok.sh", "read line; test -n \"$DPGCERT_EVENT_ID\"\n");
    REQUIRE(s.run("sink add okhook --command " + q(ok_hook) + " --arg ignored").exit_code == 0);

    const auto r = s.run("check --at 2026-10-15T00:00:00Z");
    CHECK(r.exit_code == 1);  // failing sinks do not change the verdict about the certificates
    CHECK(r.err.find("sink 'hook'") != std::string::npos);
    CHECK(r.err.find("exited with status 1") != std::string::npos);
    CHECK(r.err.find("sink 'slow'") != std::string::npos);
    CHECK(r.err.find("did not finish within 1 s") != std::string::npos);
    CHECK(r.err.find("sink 'unwritable'") != std::string::npos);
    CHECK(r.err.find("Not a directory") != std::string::npos);
    CHECK(r.out.find("2 delivered, 3 delivery attempt(s) failed") != std::string::npos);
    const auto written = json_lines(test::read_text(log));
    REQUIRE(written.size() == 1);
    CHECK(written[0]["stage_days"] == 90);

    const auto list = s.run("sink list --json");
    REQUIRE(list.exit_code == 0);
    std::map<std::string, json> by_name;
    for (const auto& sink : json::parse(list.out)) by_name[sink["name"]] = sink;
    CHECK(by_name["log"]["pending"] == 0);
    CHECK(by_name["log"]["delivered"] == 1);
    CHECK(by_name["okhook"]["delivered"] == 1);
    CHECK(by_name["hook"]["pending"] == 1);
    CHECK(by_name["hook"]["last_error"].get<std::string>().find("exited with status 1") != std::string::npos);
    CHECK(by_name["slow"]["next_attempt_at"] == "2026-10-15T00:01:00Z");
    CHECK(by_name["hook"]["kind"] == "command");
    CHECK(by_name["log"]["settings"]["path"] == log.string());
    const auto text_list = s.run("sink list");
    CHECK(text_list.out.find("last error:") != std::string::npos);

    // The next run retries (after the backoff) what failed - and only that.
    fs::remove(blocker);
    fs::create_directory(blocker);
    REQUIRE(s.run("sink remove hook").exit_code == 0);
    REQUIRE(s.run("sink remove slow").exit_code == 0);
    const auto retry = s.run("check --at 2026-10-16T00:00:00Z");
    CHECK(retry.exit_code == 1);
    CHECK(retry.err.empty());
    CHECK(retry.out.find("1 delivered, 0 delivery attempt(s) failed") != std::string::npos);
    CHECK(json_lines(test::read_text(blocker / "events.jsonl")).size() == 1);
    CHECK(json_lines(test::read_text(log)).size() == 1);

    // Usage errors.
    CHECK(s.run("sink remove hook").exit_code == 3);
    CHECK(s.run("sink add two --jsonl " + q(log) + " --command true").exit_code == 64);
    CHECK(s.run("sink add 'bad name' --jsonl " + q(log)).exit_code == 64);
    CHECK(s.run("sink add log --jsonl " + q(log)).exit_code == 3);  // conflict: the name exists
    CHECK(s.run("sink add x --command true --timeout 0").exit_code == 64);
    CHECK(s.run("sink add x --jsonl " + q(log) + " --arg y").exit_code == 64);
  }

  TEST_CASE("check --exclusive does nothing while another check holds the run lock, and runs once it is free") {
    DPGCERT_REQUIRE_TOOL();
    CliStore s;
    const std::string lock_file = s.db.string() + "-lifecycle.check.lock";
    {
      // Another node's check holds the lock (flock on the lock file beside the database).
      const int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      REQUIRE(fd >= 0);
      REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
      const auto busy = s.run("check --exclusive --at 2026-10-15T00:00:00Z");
      CHECK(busy.exit_code == 0);
      CHECK(busy.out.find("did nothing: another check holds the store's run lock") != std::string::npos);
      const auto busy_json = s.run("check --exclusive --json --at 2026-10-15T00:00:00Z");
      CHECK(busy_json.exit_code == 0);
      // No event lines (nothing was announced): one line saying why.
      const auto lines = json_lines(busy_json.out);
      REQUIRE(lines.size() == 1);
      CHECK(lines[0] == json{{"skipped", true}, {"reason", "another check holds the store's run lock"}});
      // The last-run rule takes the same lock.
      CHECK(s.run("check --min-interval 1s --at 2026-10-15T00:00:00Z").out.find("run lock") != std::string::npos);
      ::close(fd);
    }
    const auto free = s.run("check --exclusive --json --at 2026-10-15T00:00:00Z");
    CHECK(free.exit_code == 1);
    CHECK_FALSE(free.out.empty());
  }

  TEST_CASE("check --min-interval skips while the last check on the store is younger than the interval") {
    DPGCERT_REQUIRE_TOOL();
    CliStore s;
    const auto first = s.run("check --min-interval 1h --json --at 2026-10-15T00:00:00Z");
    CHECK(first.exit_code == 1);
    REQUIRE(json_lines(first.out).size() == 1);
    CHECK(json_lines(first.out)[0].contains("id"));  // an event: the first check ran
    // Any check counts as the last run, this one just now: the next (any --at) waits an hour.
    const auto again = s.run("check --min-interval 1h --json --at 2026-10-16T00:00:00Z");
    CHECK(again.exit_code == 0);
    const auto lines = json_lines(again.out);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0]["skipped"] == true);
    const std::string reason = lines[0]["reason"];
    CHECK(reason.find("the last check ended at ") == 0);
    CHECK(reason.find(" on node ") != std::string::npos);
    CHECK(reason.find("the minimum interval is 3600 s") != std::string::npos);
    const auto text = s.run("check --min-interval 60m --at 2026-10-16T00:00:00Z");
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("This check did nothing: the last check ended at ") == 0);
    // Without the rule (or with 0) it runs: nothing new to announce, the state is still a warning.
    CHECK(s.run("check --min-interval 0 --json --at 2026-10-16T00:00:00Z").exit_code == 1);
    // From the configuration file; the command line wins.
    const fs::path config = s.dir / "config.json";
    std::ofstream(config) << R"({"min_interval": "1d"})";
    const auto configured = s.run("--config " + q(config) + " check --json --at 2026-10-16T00:00:00Z");
    CHECK(configured.exit_code == 0);
    CHECK(configured.out.find("the minimum interval is 86400 s") != std::string::npos);
    CHECK(s.run("--config " + q(config) + " check --min-interval 0 --json --at 2026-10-16T00:00:00Z").exit_code == 1);
    std::ofstream(config) << R"({"min_interval": 90})";
    CHECK(s.run("--config " + q(config) + " check --json --at 2026-10-16T00:00:00Z").out.find("is 90 s") != std::string::npos);
    // Bad durations are usage errors.
    for (const char* bad : {"5x", "-1", "1.5h", "m", "99999d", ""}) {
      CAPTURE(bad);
      CHECK(s.run(std::string("check --min-interval '") + bad + "' --at 2026-10-16T00:00:00Z").exit_code == 64);
    }
    std::ofstream(config) << R"({"min_interval": "soon"})";
    CHECK(s.run("--config " + q(config) + " check --at 2026-10-16T00:00:00Z").exit_code == 64);
    std::ofstream(config) << R"({"min_interval": -5})";
    CHECK(s.run("--config " + q(config) + " check --at 2026-10-16T00:00:00Z").exit_code == 64);
  }

  TEST_CASE("check --no-deliver records the events and the next run delivers them") {
    DPGCERT_REQUIRE_TOOL();
    CliStore s;
    const fs::path log = s.dir / "events.jsonl";
    REQUIRE(s.run("sink add log --jsonl " + q(log)).exit_code == 0);
    const auto recorded = s.run("check --json --no-deliver --at 2026-10-15T00:00:00Z");
    CHECK(recorded.exit_code == 1);
    REQUIRE(json_lines(recorded.out).size() == 1);
    CHECK_FALSE(fs::exists(log));
    const auto delivered = s.run("check --json --at 2026-10-15T01:00:00Z");
    CHECK(delivered.out.empty());  // nothing new emitted ...
    const auto lines = json_lines(test::read_text(log));
    REQUIRE(lines.size() == 1);  // ... but the recorded event went out, with its id
    CHECK(lines[0]["id"] == json_lines(recorded.out)[0]["id"]);
  }

  TEST_CASE("org policy: set, show, reset - bad thresholds are invalid_argument, unknown organisations not_found") {
    DPGCERT_REQUIRE_TOOL();
    CliStore s;
    auto show = s.run("org policy 12345674 --json");
    REQUIRE(show.exit_code == 0);
    CHECK(json::parse(show.out)["thresholds"] == json::array({90, 60, 30, 14, 7, 1, 0}));
    CHECK(json::parse(show.out)["source"] == "built-in");

    const auto set = s.run("org policy 12345674 --thresholds 120,90,30,0 --json");
    REQUIRE(set.exit_code == 0);
    CHECK(json::parse(set.out)["thresholds"] == json::array({120, 90, 30, 0}));
    CHECK(json::parse(set.out)["source"] == "organisation");
    // 110 days before expiry: the 120-day stage of the override.
    const auto early = s.run("check --json --at 2026-09-13T00:00:00Z");
    CHECK(early.exit_code == 1);
    REQUIRE(json_lines(early.out).size() == 1);
    CHECK(json_lines(early.out)[0]["stage_days"] == 120);

    const auto def = s.run("org policy default --thresholds 100,10,0 --json");
    REQUIRE(def.exit_code == 0);
    CHECK(json::parse(def.out)["source"] == "store default");
    CHECK(json::parse(def.out)["cvr"].is_null());
    CHECK(json::parse(s.run("org policy 12345674 --json").out)["source"] == "organisation");
    REQUIRE(s.run("org policy 12345674 --reset").exit_code == 0);
    show = s.run("org policy 12345674");
    CHECK(show.out.find("100,10,0 days before expiry (store default)") != std::string::npos);

    for (const char* bad : {"30,60", "30,30,0", "-5,0", "90,abc", "4000"}) {
      CAPTURE(bad);
      const auto r = s.run(std::string("org policy 12345674 --json --thresholds=") + bad);
      CHECK(r.exit_code == 64);
      CHECK(json::parse(r.out)["error"]["code"] == "invalid_argument");
    }
    const auto unknown = s.run("org policy 99999999 --json");
    CHECK(unknown.exit_code == 3);
    CHECK(json::parse(unknown.out)["error"]["code"] == "not_found");
    CHECK(s.run("org policy 99999999 --thresholds 30,0").exit_code == 3);
    CHECK(s.run("org policy 12345674 --thresholds 30,0 --reset").exit_code == 64);
  }

  TEST_CASE("digest: per organisation with contacts, text and JSON - an unknown organisation exits 3") {
    DPGCERT_REQUIRE_TOOL();
    CliStore s;
    REQUIRE(s.import("odd/foces-expiring-soon.p12").exit_code == 0);
    const auto text = s.run("digest --now 2025-06-10T00:00:00Z");
    REQUIRE(text.exit_code == 0);
    CHECK(text.out.find("Testfirma A/S - CVR 12345674") != std::string::npos);
    CHECK(text.out.find("Ida IT <it@testfirma.dk> (renewals)") != std::string::npos);
    CHECK(text.out.find("2025-06-20") < text.out.find("2027-01-01"));  // soonest first
    CHECK(text.out.find("in 10 days") != std::string::npos);
    const auto j = s.run("digest --json --org 12345674 --now 2025-06-10T00:00:00Z");
    REQUIRE(j.exit_code == 0);
    const json d = json::parse(j.out);
    REQUIRE(d["organisations"].size() == 1);
    const json& certs = d["organisations"][0]["certificates"];
    REQUIRE(certs.size() == 2);
    CHECK(certs[0]["fingerprint_sha256"] == manifest_entry("odd/foces-expiring-soon.p12")["sha256"]);
    CHECK(certs[0]["stage_days"] == 14);
    CHECK(certs[0]["days_left"] == 10);
    CHECK(certs[1]["mailbox"] == "sikkerpost@testfirma.dk");
    const auto unknown = s.run("digest --json --org 99999999");
    CHECK(unknown.exit_code == 3);
    CHECK(json::parse(unknown.out)["error"]["code"] == "not_found");
  }

  TEST_CASE("metrics --out writes a strictly valid exposition atomically - stdout too - a bad folder exits 3") {
    DPGCERT_REQUIRE_TOOL();
    CliStore s;
    REQUIRE(s.run("sink add log --jsonl " + q(s.dir / "events.jsonl")).exit_code == 0);
    REQUIRE(s.run("check --at 2026-10-15T00:00:00Z").exit_code == 1);
    const fs::path out = s.dir / "textfile" / "dpgcert.prom";
    fs::create_directories(out.parent_path());
    const auto r = s.run("metrics --out " + q(out) + " --now 2026-10-15T00:00:00Z");
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.empty());
    const std::string text = test::read_text(out);
    const test::PromExposition m = test::PromParser::parse(text);
    const auto& not_after = m.family("x509_cert_not_after");
    REQUIRE(not_after.samples.size() == 1);
    const auto& labels = not_after.samples[0].labels;
    CHECK(labels.at("subject_CN") == "sikkerpost");
    CHECK(labels.at("issuer_CN") == "TRUST2408 OCES CA V");
    CHECK(labels.at("serial_number") == "1510998018");  // 0x5A100002 in decimal
    CHECK(labels.at("cvr") == "12345674");
    CHECK(labels.at("mailbox") == "sikkerpost@testfirma.dk");
    CHECK(labels.at("oces_type") == "foces");
    CHECK(not_after.samples[0].value == 1798761600.0);
    CHECK(m.family("x509_cert_expires_in_seconds").samples[0].value == 1798761600.0 - 1792022400.0);
    CHECK(m.family("x509_cert_expired").samples[0].value == 0);
    CHECK(m.family("dpgcert_events_delivered_total").samples[0].value == 1);
    struct stat st {};
    REQUIRE(::stat(out.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0644);
    std::size_t files = 0;
    for (const auto& e : fs::directory_iterator(out.parent_path())) {
      (void)e;
      ++files;
    }
    CHECK(files == 1);  // no temporary left behind
    if (std::system("command -v promtool >/dev/null 2>&1") == 0) {
      CHECK(std::system(("promtool check metrics < " + q(out) + " >/dev/null").c_str()) == 0);
    } else {
      MESSAGE("promtool is not installed: the strict parser stood in for it");
    }

    const auto to_stdout = s.run("metrics --now 2026-10-15T00:00:00Z");
    REQUIRE(to_stdout.exit_code == 0);
    CHECK(test::PromParser::parse(to_stdout.out).family("x509_cert_not_after").samples.size() == 1);
    CHECK(s.run("metrics --out " + q(s.dir / "missing" / "x.prom")).exit_code == 3);
  }
}

TEST_SUITE("cli") {
  TEST_CASE("check with no sink warns (exit status unchanged) - the first sink added receives the waiting events") {
    DPGCERT_REQUIRE_TOOL();
    CliStore s;
    const auto warn = s.run("check --json --at 2026-10-15T00:00:00Z");
    CHECK(warn.exit_code == 1);  // the verdict's, as with a sink
    CHECK(json_lines(warn.out).size() == 1);
    CHECK(warn.err.find("warning: no sink is configured: 1 event(s) wait in the outbox") != std::string::npos);

    // A webhook: http only to the loopback host; the secret stays in its file.
    const fs::path secret = s.dir / "webhook.secret";
    std::ofstream(secret) << "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n";
    fs::permissions(secret, fs::perms::owner_read | fs::perms::owner_write);
    CHECK(s.run("sink add hook --webhook http://example.com/x --secret-file " + q(secret)).exit_code == 64);
    CHECK(s.run("sink add hook --webhook https://example.com/x").exit_code == 64);  // no secret
    const auto hook = s.run("sink add hook --json --no-backlog --webhook http://127.0.0.1:9/x --secret-file " + q(secret));
    REQUIRE(hook.exit_code == 0);
    CHECK(json::parse(hook.out)["backlog"] == 0);
    CHECK(hook.out.find("MfKQ9r8G") == std::string::npos);
    const auto list = s.run("sink list");
    CHECK(list.out.find("POST http://127.0.0.1:9/x") != std::string::npos);
    CHECK(list.out.find("MfKQ9r8G") == std::string::npos);

    // The webhook took none of the backlog, so it still waits; the JSON Lines sink gets it.
    const fs::path log = s.dir / "events.jsonl";
    const auto added = s.run("sink add log --json --jsonl " + q(log));
    REQUIRE(added.exit_code == 0);
    CHECK(json::parse(added.out)["backlog"] == 1);
    const auto quiet = s.run("check --json --at 2026-10-15T01:00:00Z");
    CHECK(quiet.exit_code == 1);
    CHECK(quiet.err.find("no sink is configured") == std::string::npos);
    const auto lines = json_lines(test::read_text(log));
    REQUIRE(lines.size() == 1);
    CHECK(lines[0]["id"] == json_lines(warn.out)[0]["id"]);
  }
}

TEST_SUITE("cli") {
  TEST_CASE("sink add --smtp with --contacts mails the organisation's digest in its --language") {
    DPGCERT_REQUIRE_TOOL();
    CliStore s;
    // The organisation's language: JSON output, checked values.
    CHECK(json::parse(s.run("org show 12345674 --json").out)["organisation"]["language"] == "da");
    CHECK(s.run("org edit 12345674 --language fr").exit_code == 64);
    const auto edited = s.run("org edit 12345674 --language en --json");
    REQUIRE(edited.exit_code == 0);
    CHECK(json::parse(edited.out)["language"] == "en");
    const auto added = s.run("org add 87654321 --name 'Anden A/S' --language en --json");
    REQUIRE(added.exit_code == 0);
    CHECK(json::parse(added.out)["language"] == "en");

    // The options: --contacts is a switch, recipients are needed, plain SMTP only to this host.
    CHECK(s.run("sink add m --smtp smtps://mail.example.dk --from pki@service.example.dk").exit_code == 64);
    CHECK(s.run("sink add m --smtp smtp://mail.example.dk --from pki@service.example.dk --contacts --starttls opportunistic")
              .exit_code == 64);
    CHECK(s.run("sink add m --jsonl " + q(s.dir / "x.jsonl") + " --contacts").exit_code == 64);  // goes with --smtp

    const fs::path mail = s.dir / "mail";
    fs::create_directories(mail);
    const test::LocalServer server({"/usr/bin/python3",
                                    (fs::path(DPGCERT_SOURCE_DIR) / "tests" / "delivery" / "smtp_receiver.py").string(),
                                    "--dir", mail.string()});
    std::string add = "sink add mail --smtp smtp://127.0.0.1:";  // appended: GCC 12 -O3's false -Wrestrict
    add += std::to_string(server.port());
    add += " --from pki@service.example.dk --contacts --starttls opportunistic";
    const auto sink = s.run(add);
    REQUIRE_MESSAGE(sink.exit_code == 0, sink.err);
    CHECK(s.run("sink list").out.find("from pki@service.example.dk to contacts (STARTTLS if offered)") != std::string::npos);
    const auto check = s.run("check --json --at 2026-10-15T00:00:00Z");
    CHECK(check.exit_code == 1);
    CHECK(check.err.find("no sink") == std::string::npos);
    REQUIRE(fs::exists(mail / "0.json"));
    const json envelope = json::parse(test::read_text(mail / "0.json"));
    CHECK(envelope["rcpt_tos"] == json::array({"it@testfirma.dk"}));
    const std::string raw = test::read_text(mail / "0.eml");
    CHECK(raw.find("Subject: Certificates need attention: Testfirma A/S (CVR 12345674) [1]\r\n") != std::string::npos);
    CHECK(raw.find("Content-Language: en\r\n") != std::string::npos);
  }
}
