// Change notifications (Store::listen, ChangeListener) and connection faults on PostgreSQL: a
// listener hears a commit within 100 ms, a rolled-back change sends nothing, the payload holds
// identifiers only, a lost connection comes back with a reload, and a server restarted under load
// leaves every call succeeded or failed with a typed error and nothing half-applied. SQLite says
// clearly that it sends no notifications. Skipped (with a message) without a PostgreSQL server.
#include "support/test_support.hpp"
#include "store/backends.hpp"
#include "store/cert_factory.hpp"
#include "store/pg_test_server.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/lifecycle.hpp>
#include <dpgcert/store.hpp>

#include <doctest/doctest.h>

#ifdef DPGCERT_TEST_HAVE_LIBPQ
#include <libpq-fe.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <poll.h>

using namespace dpgcert;
using namespace std::chrono_literals;

namespace {

const Time kNow = parse_rfc3339("2025-06-01T00:00:00Z");
constexpr std::int64_t kDay = 86400;
using SteadyClock = std::chrono::steady_clock;

using test::code_of;
using test::TempDir;

std::optional<std::string> database() {
  if (!testing::backend_built("postgresql")) {
    MESSAGE("postgresql: skipped, the backend is not built in");
    return std::nullopt;
  }
  std::string why;
  auto uri = testing::postgresql_database(&why);
  if (!uri) MESSAGE("postgresql: skipped, no test server: " << why);
  return uri;
}

StoreOptions options_at(const std::string& location) {
  StoreOptions o;
  o.location = location;
  o.actor = "tester";
  o.clock = std::make_shared<FixedClock>(kNow);
  return o;
}

std::unique_ptr<Store> new_store(const std::string& location, const TempDir& dir) {
  auto s = Store::create(options_at(location), vault::KeySource::key_file(dir.path() / "k.key"));
  Organisation o;
  o.cvr = "12345674";
  o.name = "Kunde A/S";
  (void)s->add_organisation(o);
  return s;
}

/// "<prefix><n><suffix>", appended piece by piece (GCC 12 -O3 sees a false -Wrestrict in
/// "literal" + std::string&&).
std::string mailbox_name(std::string_view prefix, int n, std::string_view suffix = {}) {
  std::string s(prefix);
  s.append(std::to_string(n)).append(suffix);
  return s;
}

/// Imports leaf number `i` into mailbox mb<i % mailboxes>: later numbers are newer (notBefore).
ImportResult import_one(Store& s, testing::CertFactory& f, int i, int mailboxes = 3) {
  testing::LeafSpec spec;
  spec.common_name = test::numbered("leaf ", i);
  spec.not_before = to_unix(kNow) - 100 * kDay + i;
  spec.not_after = to_unix(kNow) + 300 * kDay;
  const SecretBytes pw = test::pw("Test1234");
  testing::Made made = f.made(spec, pw);
  ImportOptions o;
  o.organisation_cvr = "12345674";
  o.mailbox = mailbox_name("mb", i % mailboxes, "@kunde.dk");
  o.report = testing::passing_report(made.certificate, kNow);
  return s.import(made.bundle, made.pkcs12, pw, o);
}

/// The changes a listener hears within `wait` (stopping at the first quiet `quiet`).
std::vector<Change> drain(ChangeListener& l, std::chrono::milliseconds wait, std::chrono::milliseconds quiet = 300ms) {
  std::vector<Change> out;
  const auto end = SteadyClock::now() + wait;
  while (SteadyClock::now() < end) {
    auto c = l.next(quiet);
    if (!c) break;
    out.push_back(std::move(*c));
  }
  return out;
}

std::string db_name(const std::string& uri) { return uri.substr(uri.rfind('/') + 1); }

}  // namespace

TEST_SUITE("store_changes") {
  TEST_CASE("change kinds have stable names") {
    for (ChangeKind k : {ChangeKind::certificate_imported, ChangeKind::certificate_status, ChangeKind::mailbox_moved,
                         ChangeKind::mailbox_removed, ChangeKind::reload}) {
      CHECK(parse_change_kind(to_string(k)) == k);
    }
    CHECK(to_string(ChangeKind::certificate_imported) == "certificate.import");
    CHECK(to_string(ChangeKind::reload) == "reload");
    CHECK_FALSE(parse_change_kind("certificate.imported"));
    CHECK_FALSE(parse_change_kind(""));
  }

  TEST_CASE("sqlite: a store sends no change notifications - listen() says so with Error(unsupported)") {
    TempDir dir;
    std::string location = "sqlite:";
    location.append((dir.path() / "s.db").string());
    auto s = new_store(location, dir);
    try {
      (void)s->listen();
      FAIL("a SQLite store opened a change listener");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::unsupported);
      CHECK(std::string(e.what()).find("sqlite") != std::string::npos);
    }
  }

  TEST_CASE("postgresql: every change to a mailbox's current bundle reaches a listener within 100 ms of the commit") {
    const auto uri = database();
    if (!uri) return;
    TempDir dir;
    testing::CertFactory f;
    auto writer = new_store(*uri, dir);
    auto reader = Store::open(options_at(*uri));
    ChangeListener listener = reader->listen();
    CHECK_FALSE(listener.next(0ms));  // nothing happened yet

    // A writer thread imports; this thread listens. Each import into a mailbox that has an active
    // certificate supersedes it: one notification for the new certificate, one for the old.
    constexpr int kImports = 24;
    std::mutex mu;
    std::map<std::string, SteadyClock::time_point> returned;
    std::map<std::string, SteadyClock::time_point> started;
    std::vector<std::pair<std::string, std::vector<std::string>>> told;  // fingerprint, superseded
    std::thread thread([&] {
      for (int i = 0; i < kImports; ++i) {
        std::this_thread::sleep_for(15ms);
        const auto t0 = SteadyClock::now();
        const ImportResult r = import_one(*writer, f, i);
        const auto t1 = SteadyClock::now();
        std::lock_guard lock(mu);
        started[r.fingerprint] = t0;
        returned[r.fingerprint] = t1;
        told.emplace_back(r.fingerprint, r.superseded);
      }
    });
    std::map<std::string, SteadyClock::time_point> heard;
    std::vector<Change> changes;
    const auto end = SteadyClock::now() + 20s;
    while (heard.size() < static_cast<std::size_t>(kImports) && SteadyClock::now() < end) {
      auto c = listener.next(2s);
      if (!c) continue;
      if (c->kind == ChangeKind::certificate_imported && c->fingerprint) heard.emplace(*c->fingerprint, SteadyClock::now());
      changes.push_back(std::move(*c));
    }
    thread.join();
    for (Change& c : drain(listener, 1s)) changes.push_back(std::move(c));
    REQUIRE(heard.size() == static_cast<std::size_t>(kImports));

    double worst = 0;
    double worst_from_start = 0;
    std::vector<double> latencies;
    for (const auto& [fp, at] : heard) {
      const double after_return = std::chrono::duration<double, std::milli>(at - returned.at(fp)).count();
      const double after_start = std::chrono::duration<double, std::milli>(at - started.at(fp)).count();
      latencies.push_back(std::max(after_return, 0.0));
      worst = std::max(worst, after_return);
      worst_from_start = std::max(worst_from_start, after_start);
    }
    std::sort(latencies.begin(), latencies.end());
    MESSAGE("postgresql: commit -> listener over " << kImports << " imports: median "
                                                   << latencies[latencies.size() / 2] << " ms, worst " << worst
                                                   << " ms after the call returned (" << worst_from_start
                                                   << " ms after it started)");
    CHECK(worst < 100.0);

    // What was heard is exactly what the callers were told: each import once, with its mailbox;
    // each superseded certificate once, as a status change.
    std::multiset<std::string> imported;
    std::multiset<std::string> status;
    for (const Change& c : changes) {
      REQUIRE(c.fingerprint);
      CHECK(c.fingerprint->size() == 64);
      if (c.kind == ChangeKind::certificate_imported) imported.insert(*c.fingerprint);
      if (c.kind == ChangeKind::certificate_status) status.insert(*c.fingerprint);
      CHECK((c.kind == ChangeKind::certificate_imported || c.kind == ChangeKind::certificate_status));
      REQUIRE(c.mailbox);
      const auto rec = reader->find(*c.fingerprint);
      REQUIRE(rec);
      CHECK(rec->mailbox == c.mailbox);
    }
    std::multiset<std::string> want_imported;
    std::multiset<std::string> want_status;
    for (const auto& [fp, superseded] : told) {
      want_imported.insert(fp);
      for (const auto& old : superseded) want_status.insert(old);
    }
    CHECK(imported == want_imported);
    CHECK(status == want_status);
    CHECK(want_status.size() == static_cast<std::size_t>(kImports - 3));

    // Retire, move and remove: each heard once, with what it concerns.
    const auto current = reader->current_bundle("mb0@kunde.dk");
    REQUIRE(current);
    (void)writer->set_status(current->record.fingerprint, CertificateStatus::retired, "test");
    auto c = listener.next(2s);
    REQUIRE(c);
    CHECK(*c == Change{ChangeKind::certificate_status, "mb0@kunde.dk", current->record.fingerprint});
    Organisation other;
    other.cvr = "87654321";
    other.name = "Anden A/S";
    (void)writer->add_organisation(other);  // no bundle changes: nothing sent
    (void)writer->move_mailbox("mb1@kunde.dk", "87654321");
    c = listener.next(2s);
    REQUIRE(c);
    CHECK(*c == Change{ChangeKind::mailbox_moved, "mb1@kunde.dk", std::nullopt});
    RemovalOptions retire;
    retire.retire_certificates = true;
    const RemovalResult removed = writer->remove_mailbox("mb2@kunde.dk", retire);
    REQUIRE(removed.retired.size() == 1);
    const std::vector<Change> last = drain(listener, 2s);
    REQUIRE(last.size() == 2);
    CHECK(last[0] == Change{ChangeKind::certificate_status, "mb2@kunde.dk", removed.retired[0]});
    CHECK(last[1] == Change{ChangeKind::mailbox_removed, "mb2@kunde.dk", std::nullopt});

    // The callback form hands over what has arrived, and stops when told to.
    (void)import_one(*writer, f, 102);  // mb0: nothing active there since the retirement
    c = listener.next(2s);
    REQUIRE(c);
    CHECK(c->kind == ChangeKind::certificate_imported);
    (void)import_one(*writer, f, 105);  // mb0: supersedes the one before
    std::vector<Change> handed;
    CHECK(listener.poll(2s, [&](const Change& ch) {
      handed.push_back(ch);
      return false;
    }) == 1);
    CHECK(listener.poll(2s, [&](const Change& ch) {
      handed.push_back(ch);
      return true;
    }) == 1);
    REQUIRE(handed.size() == 2);
    CHECK(handed[0].kind == ChangeKind::certificate_imported);
    CHECK(handed[1].kind == ChangeKind::certificate_status);
    CHECK(listener.poll(50ms, [](const Change&) { return true; }) == 0);
  }

  TEST_CASE("postgresql: a rolled-back change sends nothing, and the payload holds identifiers only") {
    const auto uri = database();
    if (!uri) return;
    TempDir dir;
    testing::CertFactory f;
    auto writer = new_store(*uri, dir);
    (void)import_one(*writer, f, 0);  // unlocks the writer's key; mb0 has a current bundle

#ifdef DPGCERT_TEST_HAVE_LIBPQ
    // A plain libpq listener sees the raw payloads.
    PGconn* raw = PQconnectdb(uri->c_str());
    REQUIRE(PQstatus(raw) == CONNECTION_OK);
    PQclear(PQexec(raw, "LISTEN dpgcert_changes"));
#endif
    ChangeListener listener = writer->listen();

    // The writer still holds the old master key; another handle rotates it. The writer's next
    // import then fails inside its transaction - after the certificate row was inserted and the
    // old certificate superseded (both notify), before sealing: the whole transaction rolls back.
    {
      auto rotator = Store::open(options_at(*uri));
      (void)rotator->rotate_master_key(vault::KeySource::key_file(dir.path() / "k2.key"));
    }
    StoreOptions stale = options_at(*uri);
    stale.unlock.key_file = dir.path() / "k.key";
    auto old_key = Store::open(std::move(stale));
    (void)old_key->find_mailbox("mb0@kunde.dk");
    const std::size_t before = old_key->count({});
    CHECK(code_of([&] { (void)import_one(*old_key, f, 3); }) == ErrorCode::bad_password);
    CHECK(old_key->count({}) == before);
    CHECK_FALSE(listener.next(300ms));

    // A committed change right after is heard, and is the first thing heard.
    auto fresh = Store::open(options_at(*uri));
    const ImportResult r = import_one(*fresh, f, 6);
    REQUIRE(r.outcome == ImportOutcome::imported);
    const auto c = listener.next(2s);
    REQUIRE(c);
    CHECK(*c == Change{ChangeKind::certificate_imported, "mb0@kunde.dk", r.fingerprint});

#ifdef DPGCERT_TEST_HAVE_LIBPQ
    // The raw payloads: a small JSON object of identifiers, never the password or key material.
    std::vector<std::string> payloads;
    const auto end = SteadyClock::now() + 2s;
    while (payloads.size() < 2 && SteadyClock::now() < end) {
      pollfd p{PQsocket(raw), POLLIN, 0};
      (void)::poll(&p, 1, 100);
      REQUIRE(PQconsumeInput(raw) == 1);
      while (PGnotify* n = PQnotifies(raw)) {
        payloads.emplace_back(n->extra);
        PQfreemem(n);
      }
    }
    PQfinish(raw);
    REQUIRE(payloads.size() == 2);  // the import and the certificate it superseded; nothing rolled back
    for (const std::string& p : payloads) {
      INFO(p);
      CHECK(p.size() < 300);
      CHECK(p.find("\"kind\"") != std::string::npos);
      CHECK(p.find("\"mailbox\" : \"mb0@kunde.dk\"") != std::string::npos);
      CHECK(p.find("Test1234") == std::string::npos);
      CHECK(p.find("BEGIN") == std::string::npos);
      CHECK(p.find("key") == std::string::npos);
    }
    CHECK(payloads[0].find(r.fingerprint) != std::string::npos);
#endif
  }

  TEST_CASE("postgresql: a listener whose connection is ended connects again and reports a reload first") {
    const auto uri = database();
    if (!uri) return;
    TempDir dir;
    testing::CertFactory f;
    auto writer = new_store(*uri, dir);
    ChangeListener listener = writer->listen();
    (void)import_one(*writer, f, 0);
    auto c = listener.next(2s);
    REQUIRE(c);
    CHECK(c->kind == ChangeKind::certificate_imported);

    std::string sql = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '";
    sql.append(db_name(*uri)).append("' AND query LIKE 'LISTEN%'");
    const std::string ended = testing::postgresql_admin(sql);
    CHECK(ended == "1");
    // What is committed while the listener is away is lost to it: the reload stands for it.
    const ImportResult missed = import_one(*writer, f, 1);
    c = listener.next(5s);
    REQUIRE(c);
    CHECK(*c == Change{ChangeKind::reload, std::nullopt, std::nullopt});
    const ImportResult after = import_one(*writer, f, 2);
    c = listener.next(2s);
    REQUIRE(c);
    CHECK(*c == Change{ChangeKind::certificate_imported, "mb2@kunde.dk", after.fingerprint});
    CHECK(missed.outcome == ImportOutcome::imported);
  }

  TEST_CASE("postgresql: the server restarted under imports and checks - every call succeeds or fails typed, nothing half-applied") {
    if (!testing::backend_built("postgresql")) return;
    // A server of this test's own: a restart must not hit the tests running beside it.
    testing::PrivateServer server;
    if (!server.running()) {
      MESSAGE("postgresql: skipped, no private test server: " << server.why());
      return;
    }
    const std::string uri = server.database();
    TempDir dir;
    testing::CertFactory f;
    auto importer = new_store(uri, dir);
    auto checker = Store::open(options_at(uri));
    ChangeListener listener = importer->listen();

    std::atomic<bool> stop{false};
    std::mutex mu;
    std::set<std::string> acknowledged;  // imports the callers were told happened
    std::set<std::string> unknown;       // failed while committing: stored whole or not at all
    std::set<std::string> failed;        // failed before: must not be stored
    std::map<std::string, int> number;   // fingerprint -> leaf number
    int import_calls = 0;
    int check_calls = 0;
    int check_errors = 0;
    std::vector<std::string> untyped;
    std::thread imports([&] {
      for (int i = 0; !stop; ++i) {
        testing::LeafSpec spec;
        spec.common_name = test::numbered("restart ", i);
        spec.not_before = to_unix(kNow) - 100 * kDay + i;
        spec.not_after = to_unix(kNow) + 20 * kDay;
        const SecretBytes pw = test::pw("Test1234");
        testing::Made made = f.made(spec, pw);
        const std::string fp = made.certificate.fingerprint_hex();
        ImportOptions o;
        o.organisation_cvr = "12345674";
        o.mailbox = mailbox_name("mb", i % 3, "@kunde.dk");
        o.report = testing::passing_report(made.certificate, kNow);
        try {
          const ImportResult r = importer->import(made.bundle, made.pkcs12, pw, o);
          std::lock_guard lock(mu);
          ++import_calls;
          number[fp] = i;
          if (r.outcome == ImportOutcome::imported) acknowledged.insert(fp);
        } catch (const Error& e) {
          std::lock_guard lock(mu);
          ++import_calls;
          number[fp] = i;
          if (e.code() != ErrorCode::io) untyped.emplace_back(e.what());
          (std::string(e.what()).find("during COMMIT") != std::string::npos ? unknown : failed).insert(fp);
        } catch (const std::exception& e) {
          std::lock_guard lock(mu);
          untyped.emplace_back(e.what());
        }
      }
    });
    std::thread checks([&] {
      Lifecycle lifecycle(*checker);
      for (int k = 0; !stop; ++k) {
        try {
          (void)lifecycle.check(kNow + std::chrono::days(k % 20));
        } catch (const Error& e) {
          ++check_errors;
          std::lock_guard lock(mu);
          MESSAGE("check failed: " << e.what());
          if (e.code() != ErrorCode::io) untyped.emplace_back(e.what());
        } catch (const std::exception& e) {
          std::lock_guard lock(mu);
          untyped.emplace_back(e.what());
        }
        ++check_calls;
        std::this_thread::sleep_for(20ms);
      }
    });
    std::this_thread::sleep_for(400ms);
    const auto t0 = SteadyClock::now();
    server.restart();
    const double restart_ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
    std::this_thread::sleep_for(600ms);
    stop = true;
    imports.join();
    checks.join();

    // The listener: whatever it heard before, it reports a reload once it is connected again.
    bool reload = false;
    int listener_errors = 0;
    const auto end = SteadyClock::now() + 10s;
    while (!reload && SteadyClock::now() < end) {
      try {
        const auto c = listener.next(500ms);
        reload = c && c->kind == ChangeKind::reload;
      } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::io);
        ++listener_errors;
      }
    }
    MESSAGE("postgresql: restart took " << restart_ms << " ms; " << import_calls << " imports ("
                                        << acknowledged.size() << " acknowledged, " << failed.size()
                                        << " failed typed, " << unknown.size() << " broke in COMMIT), " << check_calls
                                        << " checks (" << check_errors << " failed typed); listener: "
                                        << listener_errors << " io errors, then reload");
    for (const auto& u : untyped) CHECK_MESSAGE(false, "an untyped or non-io failure: " << u);
    CHECK(reload);
    CHECK(acknowledged.size() >= 3);
    CHECK(check_calls > 0);

    // The store: whole, holding every acknowledged import and no failed one.
    auto after = Store::open(options_at(uri));
    CHECK(after->check_integrity().ok());
    std::set<std::string> stored;
    for (const auto& c : after->query({})) stored.insert(c.fingerprint);
    for (const auto& fp : acknowledged) CHECK(stored.count(fp) == 1);
    for (const auto& fp : failed) CHECK(stored.count(fp) == 0);
    for (const auto& fp : stored) CHECK((acknowledged.count(fp) + unknown.count(fp)) == 1);
    CHECK(after->info().certificates == stored.size());
    // Each mailbox's current bundle is its newest stored certificate; it alone is active.
    for (int m = 0; m < 3; ++m) {
      const std::string mailbox = mailbox_name("mb", m, "@kunde.dk");
      std::string newest;
      for (const auto& fp : stored) {
        if (number.at(fp) % 3 == m && (newest.empty() || number.at(fp) > number.at(newest))) newest = fp;
      }
      CertificateQuery q;
      q.mailbox = mailbox;
      q.status = CertificateStatus::active;
      CHECK(after->count(q) == (newest.empty() ? 0U : 1U));
      const auto current = after->current_bundle(mailbox);
      CHECK(current.has_value() == !newest.empty());
      if (current) CHECK(current->record.fingerprint == newest);
    }
  }
}
