// What only the PostgreSQL backend has: locations in libpq's forms (URI with a password, keyword
// string, the environment), redaction of passwords, a database without a store, a schema newer
// than the tool, lost connections under load. The behaviour it shares with SQLite is the store
// conformance suite's. Skipped (with a message) when there is no PostgreSQL server to start.
#include "support/test_support.hpp"
#include "store/backends.hpp"
#include "store/cert_factory.hpp"
#include "store/pg_test_server.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/store.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <set>
#include <thread>

using namespace dpgcert;

namespace {

const Time kNow = parse_rfc3339("2025-06-01T00:00:00Z");
constexpr std::int64_t kDay = 86400;

using test::code_of;
using test::TempDir;

/// A fresh database's URI, or nullopt (with a message) when PostgreSQL cannot run here.
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

/// "postgresql://postgres@127.0.0.1:PORT/DB" -> {host, port, db}.
struct UriParts {
  std::string host;
  std::string port;
  std::string db;
};
UriParts parts_of(const std::string& uri) {
  const auto at = uri.find('@');
  const auto colon = uri.find(':', at);
  const auto slash = uri.find('/', colon);
  return {uri.substr(at + 1, colon - at - 1), uri.substr(colon + 1, slash - colon - 1), uri.substr(slash + 1)};
}

/// Sets an environment variable for the scope.
struct ScopedEnv {
  std::string name;
  ScopedEnv(std::string n, const std::string& value) : name(std::move(n)) { ::setenv(name.c_str(), value.c_str(), 1); }
  ~ScopedEnv() { ::unsetenv(name.c_str()); }
};

ImportResult import_one(Store& s, testing::CertFactory& f, const std::string& cn, int i) {
  testing::LeafSpec spec;
  spec.common_name = cn;
  spec.not_before = to_unix(kNow) - 100 * kDay + i;
  spec.not_after = to_unix(kNow) + (100 + i % 300) * kDay;
  const SecretBytes pw = test::pw("Test1234");
  testing::Made made = f.made(spec, pw);
  ImportOptions o;
  o.organisation_cvr = "12345674";
  o.mailbox = "mb" + std::to_string(i % 3) + "@kunde.dk";
  o.report = testing::passing_report(made.certificate, kNow);
  return s.import(made.bundle, made.pkcs12, pw, o);
}

}  // namespace

TEST_SUITE("store_postgresql") {
  TEST_CASE("display_location hides PostgreSQL passwords in every form libpq reads, and leaves paths alone") {
    CHECK(display_location("postgresql://u:pw@h:5432/db?sslmode=require&password=pw2&x=1") ==
          "postgresql://u:***@h:5432/db?sslmode=require&password=***&x=1");
    CHECK(display_location("postgres://u@h/db") == "postgres://u@h/db");
    CHECK(display_location("POSTGRESQL://:pw@/db") == "POSTGRESQL://:***@/db");
    CHECK(display_location("postgresql:host=h password = 'a \\' b' user=u") == "postgresql:host=h password=*** user=u");
    CHECK(display_location("postgresql:password=secret") == "postgresql:password=***");
    CHECK(display_location("/var/lib/dpgcert/store.db") == "/var/lib/dpgcert/store.db");
    CHECK(display_location("sqlite:/x:y@z.db") == "sqlite:/x:y@z.db");
  }

  TEST_CASE("postgresql: URI with a password, keyword string and libpq's environment open one store - the password is never shown") {
    const auto uri = database();
    if (!uri) return;
    TempDir dir;
    const UriParts p = parts_of(*uri);
    // The test server trusts local connections, so any password is accepted - and must not show.
    const std::string with_password = "postgresql://postgres:Very-Secret-1@" + p.host + ":" + p.port + "/" + p.db +
                                      "?application_name=dpgcert-test&password=Very-Secret-2";
    {
      auto s = Store::create(options_at(with_password), vault::KeySource::key_file(dir.path() / "k.key"));
      const StoreInfo info = s->info();
      CHECK(info.backend == "postgresql");
      CHECK(info.location == "postgresql://postgres:***@" + p.host + ":" + p.port + "/" + p.db +
                                 "?application_name=dpgcert-test&password=***");
      for (const AuditEntry& e : s->audit_log()) {
        CHECK(e.object_key.find("Very-Secret") == std::string::npos);
        CHECK(e.details.find("Very-Secret") == std::string::npos);
      }
      Organisation o;
      o.cvr = "12345674";
      o.name = "Kunde A/S";
      (void)s->add_organisation(o);
    }
    // A keyword string after the scheme.
    const std::string keywords = "postgresql:host=" + p.host + " port=" + p.port + " dbname=" + p.db +
                                 " user=postgres password=Very-Secret-3";
    {
      auto s = Store::open(options_at(keywords));
      const StoreInfo info = s->info();
      CHECK(info.organisations == 1);
      CHECK(info.location.find("password=***") != std::string::npos);
      CHECK(info.location.find("Very-Secret") == std::string::npos);
    }
    // Nothing but the scheme: libpq takes everything from PGHOST, PGPORT, PGDATABASE, PGUSER.
    {
      ScopedEnv host("PGHOST", p.host);
      ScopedEnv port("PGPORT", p.port);
      ScopedEnv db("PGDATABASE", p.db);
      ScopedEnv user("PGUSER", "postgres");
      CHECK(Store::open(options_at("postgresql:"))->info().organisations == 1);
      CHECK(Store::open(options_at("postgres://"))->info().organisations == 1);
    }
    // A refused connection names the server, never the password.
    try {
      (void)Store::open(options_at("postgresql://postgres:Very-Secret-4@" + p.host + ":1/" + p.db));
      FAIL("opened a store on port 1");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::io);
      CHECK(std::string(e.what()).find("postgresql://postgres:***@" + p.host + ":1/") != std::string::npos);
      CHECK(std::string(e.what()).find("Very-Secret") == std::string::npos);
    }
  }

  TEST_CASE("postgresql: an empty database is no store, a missing one is not found, a newer schema is refused") {
    const auto uri = database();
    if (!uri) return;
    TempDir dir;
    try {
      (void)Store::open(options_at(*uri));
      FAIL("opened a store in an empty database");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::not_found);
      CHECK(std::string(e.what()).find("dpgcert store init") != std::string::npos);
    }
    const UriParts p = parts_of(*uri);
    CHECK(code_of([&] { (void)Store::open(options_at("postgresql://postgres@" + p.host + ":" + p.port + "/no_such_db")); }) ==
          ErrorCode::not_found);

    (void)Store::create(options_at(*uri), vault::KeySource::key_file(dir.path() / "k.key"));
    CHECK(Store::open(options_at(*uri))->info().schema_version == Store::current_schema_version());
    // A second creation in the same database is refused.
    CHECK(code_of([&] { (void)Store::create(options_at(*uri), vault::KeySource::key_file(dir.path() / "k2.key")); }) ==
          ErrorCode::conflict);
    // A newer tool migrated it: this one must not touch it.
    (void)testing::postgresql_admin("INSERT INTO schema_version VALUES (99, 0, 'from the future')", *uri);
    try {
      (void)Store::open(options_at(*uri));
      FAIL("opened a store with a newer schema");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::unsupported);
      CHECK(std::string(e.what()).find("schema version 99, newer than this dpgcert knows") != std::string::npos);
    }
    // A database that is not empty and not a store cannot take one.
    const auto other = testing::postgresql_database();
    REQUIRE(other);
    (void)testing::postgresql_admin("CREATE TABLE unrelated (x int)", *other);
    CHECK(code_of([&] { (void)Store::create(options_at(*other), vault::KeySource::key_file(dir.path() / "k3.key")); }) ==
          ErrorCode::conflict);
  }

  TEST_CASE("postgresql: a version-5 store is migrated on open - the expiry index covers the record id") {
    const auto uri = database();
    if (!uri) return;
    TempDir dir;
    testing::CertFactory f;
    std::string fp;
    {
      auto s = Store::create(options_at(*uri), vault::KeySource::key_file(dir.path() / "k.key"));
      fp = import_one(*s, f, "kept", 1).fingerprint;
    }
    const std::string def_sql = "SELECT indexdef FROM pg_indexes WHERE indexname = 'certificates_active_expiry'";
    CHECK(testing::postgresql_admin(def_sql, *uri).find("INCLUDE (id, status,") != std::string::npos);
    // Version 5's index: without the id.
    (void)testing::postgresql_admin(
        "BEGIN; DROP INDEX certificates_active_expiry;"
        " CREATE INDEX certificates_active_expiry ON certificates(not_after, fingerprint)"
        " INCLUDE (status, not_before, organisation_id, mailbox_id, cvr, generation, type, environment, oces_id, common_name)"
        " WHERE status = 'active';"
        " DELETE FROM schema_version WHERE version > 5; COMMIT",
        *uri);
    CHECK(testing::postgresql_admin(def_sql, *uri).find("(id") == std::string::npos);
    auto s = Store::open(options_at(*uri));
    CHECK(s->info().schema_version == Store::current_schema_version());  // 6 and every later migration
    const std::string def = testing::postgresql_admin(def_sql, *uri);
    CHECK(def.find("INCLUDE (id, status,") != std::string::npos);
    CHECK(def.find("WHERE (status = 'active'::text)") != std::string::npos);
    CHECK(s->audit_log().back().action == "store.migrate");
    const auto expiring = s->query(CertificateQuery::expiring_before(kNow + std::chrono::days(365)));
    REQUIRE(expiring.size() == 1);
    CHECK(expiring[0].fingerprint == fp);
    CHECK(s->check_integrity().ok());
  }

  TEST_CASE("postgresql: connections killed under load - every call succeeds or fails with a typed error, nothing is half-applied") {
    const auto uri = database();
    if (!uri) return;
    TempDir dir;
    testing::CertFactory f;
    {
      auto s = Store::create(options_at(*uri), vault::KeySource::key_file(dir.path() / "k.key"));
      Organisation o;
      o.cvr = "12345674";
      o.name = "Kunde A/S";
      (void)s->add_organisation(o);
    }
    auto s = Store::open(options_at(*uri));
    std::atomic<bool> stop{false};
    std::atomic<int> kills{0};
    const std::string db = parts_of(*uri).db;
    // The server ends every session of this database, again and again (what a restart does to them).
    std::thread killer([&] {
      while (!stop) {
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
        try {
          kills += std::atoi(testing::postgresql_admin("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                                       "WHERE datname = '" + db + "' AND pid <> pg_backend_pid()")
                                 .c_str());
        } catch (const std::exception&) {
        }
      }
    });
    std::set<std::string> acknowledged;
    int typed_errors = 0;
    int other_errors = 0;
    for (int i = 0; i < 60; ++i) {
      try {
        const ImportResult r = import_one(*s, f, "load " + std::to_string(i), i);
        if (r.outcome == ImportOutcome::imported) acknowledged.insert(r.fingerprint);
        (void)s->count({});
      } catch (const Error& e) {
        ++typed_errors;
        CHECK(e.code() == ErrorCode::io);
      } catch (...) {
        ++other_errors;
      }
    }
    stop = true;
    killer.join();
    MESSAGE("postgresql: " << kills.load() << " sessions ended under load; " << acknowledged.size()
                           << " imports acknowledged, " << typed_errors << " typed errors");
    CHECK(kills > 0);
    CHECK(other_errors == 0);
    // Everything acknowledged is there and whole; whatever else is there is whole too.
    auto check = Store::open(options_at(*uri));
    const IntegrityReport integrity = check->check_integrity();
    CHECK(integrity.ok());
    std::set<std::string> stored;
    for (const auto& c : check->query({})) stored.insert(c.fingerprint);
    for (const auto& fp : acknowledged) CHECK(stored.count(fp) == 1);
    for (const auto& fp : stored) CHECK(check->unseal(fp).password.view() == "Test1234");
    for (int m = 0; m < 3; ++m) {
      CertificateQuery q;
      q.mailbox = "mb" + std::to_string(m) + "@kunde.dk";
      q.status = CertificateStatus::active;
      CHECK(check->count(q) <= 1);
    }
  }
}
