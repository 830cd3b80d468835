// Failing parts: the store's disk filling up mid-import (an SQLite VFS), a JSON Lines sink whose disk is full, the clock going backwards between two
// checks, a store its user may only read, SIGKILL in the middle of a master-key rotation. Nothing is
// lost, nothing is emitted twice, nothing crashes. (A hook past its timeout: test_lifecycle.cpp;
// SIGKILL during imports: test_store_process.cpp.)
#include "support/test_support.hpp"
#include "store/cert_factory.hpp"
#include "store/full_disk_vfs.hpp"

#include <dpgcert/lifecycle.hpp>
#include <dpgcert/store.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include <random>
#include <thread>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace dpgcert;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const Time kT0 = parse_rfc3339("2025-01-01T00:00:00Z");
Time days(std::int64_t n) { return kT0 + std::chrono::days(n); }

/// A store with one active certificate that expires 25 days after kT0 (inside the 30-day stage).
struct Env {
  test::TempDir dir{"dpgcert-faults"};
  testing::CertFactory factory;
  std::unique_ptr<Store> store;
  Env() {
    StoreOptions o;
    o.path = dir.path() / "store.db";
    o.actor = "tester";
    o.clock = std::make_shared<FixedClock>(kT0);
    store = Store::create(std::move(o), vault::KeySource::key_file(dir.path() / "store.key"));
    testing::LeafSpec s;
    s.common_name = "Sikker post";
    s.not_after = to_unix(days(25));
    s.not_before = s.not_after - 1095 * 86400;
    const testing::Made m = factory.made(s, test::pw("pw"));
    ImportOptions io;
    io.report = testing::passing_report(m.certificate, kT0);
    REQUIRE(store->import(m.bundle, m.pkcs12, test::pw("pw"), io).outcome == ImportOutcome::imported);
  }
  [[nodiscard]] std::size_t pending(const std::string& sink) const {
    for (const SinkStats& s : Lifecycle(*store).sink_stats()) {
      if (s.sink == sink) return s.pending;
    }
    return 0;
  }
};

}  // namespace

TEST_SUITE("faults") {
  TEST_CASE("a JSON Lines sink on a full disk: the delivery fails, stays pending, and is made when there is room") {
    Env env;
    const fs::path log = env.dir.path() / "events.jsonl";
    fs::create_symlink("/dev/full", log);  // every write: ENOSPC
    (void)Lifecycle(*env.store).add_sink(jsonl_sink("log", log.string()));
    const CheckResult first = Lifecycle(*env.store).check(kT0);
    REQUIRE(first.emitted.size() == 1);
    REQUIRE(first.deliveries.size() == 1);
    CHECK_FALSE(first.deliveries[0].delivered);
    CHECK(first.deliveries[0].error.find("space") != std::string::npos);
    REQUIRE(first.deliveries[0].retry_at);
    CHECK(env.pending("log") == 1);

    // Room again: the same event is delivered at the next run after its retry time, once.
    fs::remove(log);
    const CheckResult second = Lifecycle(*env.store).check(*first.deliveries[0].retry_at + std::chrono::seconds(1));
    CHECK(second.emitted.empty());
    REQUIRE(second.deliveries.size() == 1);
    CHECK(second.deliveries[0].delivered);
    CHECK(second.deliveries[0].event_id == first.emitted[0].id);
    CHECK(env.pending("log") == 0);
    const std::string text = test::read_text(log);
    CHECK(std::count(text.begin(), text.end(), '\n') == 1);
    CHECK(json::parse(text)["id"] == first.emitted[0].id);
  }

  TEST_CASE("the store's disk filling up in the middle of imports: an error or a whole import, never half of one") {
    Env env;
    env.store.reset();
    std::size_t expected = 1;
    int refused = 0;
    int round = 0;
    for (const long long budget : {0LL, 600LL, 3000LL, 5000LL, 9000LL, 17000LL, 40000LL, 100000LL}) {
      CAPTURE(budget);
      testing::LeafSpec s;
      s.common_name = "full disk " + std::to_string(round++);
      const testing::Made m = env.factory.made(s, test::pw("pw"));
      bool imported = false;
      {
        const testing::FullDiskVfs full(budget);
        try {
          StoreOptions o;
          o.path = env.dir.path() / "store.db";
          const auto store = Store::open(std::move(o));
          ImportOptions io;
          io.report = testing::passing_report(m.certificate, kT0);
          imported = store->import(m.bundle, m.pkcs12, test::pw("pw"), io).outcome == ImportOutcome::imported;
        } catch (const Error& e) {
          ++refused;
          CHECK(std::string(e.what()).find("full") != std::string::npos);  // "COMMIT: database or disk is full"
        }
      }
      if (imported) ++expected;
      // Room again: the store opens, holds exactly the whole imports, and every bundle unseals.
      StoreOptions o;
      o.path = env.dir.path() / "store.db";
      const auto store = Store::open(std::move(o));
      CHECK_NOTHROW(store->verify_master_key());
      const auto all = store->query(CertificateQuery{});
      CHECK(all.size() == expected);
      for (const auto& c : all) CHECK(store->unseal(c.fingerprint).password.view() == "pw");
    }
    MESSAGE("imports refused on a full disk: " << refused << ", imported: " << expected - 1);
    CHECK(refused >= 3);  // the small budgets fail
    CHECK(expected >= 2);  // the large ones succeed
  }

  TEST_CASE("the clock going backwards between two checks emits nothing twice and loses nothing") {
    Env env;
    const fs::path log = env.dir.path() / "events.jsonl";
    (void)Lifecycle(*env.store).add_sink(jsonl_sink("log", log.string()));
    const CheckResult at_t0 = Lifecycle(*env.store).check(kT0);
    REQUIRE(at_t0.emitted.size() == 1);  // the 30-day stage
    // An NTP step back by 40 days: before the stage was even reached.
    const CheckResult back = Lifecycle(*env.store).check(days(-40));
    CHECK(back.emitted.empty());
    // Forward again to the same day and on: the 30-day stage is not emitted again, the next are once.
    CHECK(Lifecycle(*env.store).check(kT0).emitted.empty());
    const CheckResult later = Lifecycle(*env.store).check(days(12));
    REQUIRE(later.emitted.size() == 1);
    CHECK(later.emitted[0].stage_days == 14);
    CHECK(Lifecycle(*env.store).check(days(11)).emitted.empty());
    const std::string text = test::read_text(log);
    CHECK(std::count(text.begin(), text.end(), '\n') == 2);
  }

  TEST_CASE("SIGKILL during a master-key rotation, 20 times: the store opens with the key it names, every bundle unseals") {
    Env env;
    std::vector<std::string> fingerprints;
    for (const auto& s : env.store->query(CertificateQuery{})) fingerprints.push_back(s.fingerprint);
    for (int i = 0; i < 60; ++i) {  // enough data keys that a rotation takes a while
      testing::LeafSpec s;
      s.common_name = "extra " + std::to_string(i);
      const testing::Made m = env.factory.made(s, test::pw("pw"));
      ImportOptions io;
      io.report = testing::passing_report(m.certificate, kT0);
      const ImportResult r = env.store->import(m.bundle, m.pkcs12, test::pw("pw"), io);
      fingerprints.push_back(r.fingerprint);
    }
    env.store.reset();
    StoreOptions o;
    o.path = env.dir.path() / "store.db";
    std::mt19937 rng(20261204);
    int killed_early = 0;
    for (int round = 0; round < 20; ++round) {
      const fs::path next = env.dir.path() / ("key-" + std::to_string(round));
      const pid_t pid = ::fork();
      REQUIRE(pid >= 0);
      if (pid == 0) {
        try {
          StoreOptions co;
          co.path = env.dir.path() / "store.db";
          (void)Store::open(std::move(co))->rotate_master_key(vault::KeySource::key_file(next));
        } catch (...) {
          ::_exit(3);
        }
        ::_exit(0);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 60000)(rng)));
      ::kill(pid, SIGKILL);
      int status = 0;
      REQUIRE(::waitpid(pid, &status, 0) == pid);
      if (WIFSIGNALED(status)) ++killed_early;
      CHECK_FALSE((WIFEXITED(status) && WEXITSTATUS(status) == 3));
      // The store opens with the key it records (old or new), and every bundle unseals with it.
      StoreOptions ro;
      ro.path = env.dir.path() / "store.db";
      const auto s = Store::open(std::move(ro));
      CHECK_NOTHROW(s->verify_master_key());
      CHECK(s->count(CertificateQuery{}) == fingerprints.size());
      for (std::size_t i = 0; i < fingerprints.size(); i += 7) {
        CHECK(s->unseal(fingerprints[i]).password.view() == "pw");
      }
    }
    MESSAGE("rotations killed before they finished: " << killed_early << " of 20");
  }

  TEST_CASE("a store its user may only read: reading works or fails cleanly, changes are refused, nothing changes") {
    DPGCERT_REQUIRE_TOOL();
    if (::geteuid() != 0 || ::system("command -v runuser >/dev/null 2>&1") != 0) {
      MESSAGE("skipped: needs root and runuser to run the tool as another user");
      return;
    }
    Env env;
    const std::size_t before = env.store->count(CertificateQuery{});
    env.store.reset();
    // The folder and the store belong to root; 'nobody' may read but not write them.
    fs::permissions(env.dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                        fs::perms::others_read | fs::perms::others_exec);
    for (const auto& e : fs::directory_iterator(env.dir.path())) {
      if (e.path().filename() != "store.key") fs::permissions(e.path(), fs::perms::others_read, fs::perm_options::add);
    }
    const std::string tool = test::shell_quote(test::tool_path()->string());
    const std::string store = test::shell_quote((env.dir.path() / "store.db").string());
    const auto as_nobody = [&](const std::string& args) {
      return test::run_tool("--version >/dev/null; runuser -u nobody -- " + tool + " --store " + store + " " + args);
    };
    const auto list = as_nobody("list --json");
    INFO(list.err);
    CHECK(list.exit_code <= 3);
    CHECK(json::accept(list.out));
    const auto add = as_nobody("org add 12345674 --name Kunde --json");
    INFO(add.out);
    CHECK(add.exit_code == 3);
    CHECK(json::parse(add.out).contains("error"));
    // Nothing changed.
    StoreOptions o;
    o.path = env.dir.path() / "store.db";
    const auto reopened = Store::open(std::move(o));
    CHECK(reopened->count(CertificateQuery{}) == before);
    CHECK(reopened->list_organisations().empty());
  }
}
