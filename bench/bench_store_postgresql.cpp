// The store on PostgreSQL side by side with SQLite, in one run: importing 10,000 parsed
// certificates, "expiring within 30 days" over 1,000,000 records, the renewal check over 1,000,000
// records with nothing due, and the outbox drained by 4 workers. Every benchmark runs once per
// backend (argument 0: SQLite, the embedded default and the baseline; 1: PostgreSQL over its Unix
// socket; the import also 2: PostgreSQL with synchronous_commit off, SQLite's own durability
// class). The program starts its own PostgreSQL server (bench/pg_bench_server.hpp); without the
// PostgreSQL binaries the PostgreSQL runs are skipped with the reason.
// Targets on PostgreSQL: import >= 1,500/s; expiring within 30 days < 50 ms; check with nothing
// due < 1 s; outbox drain >= 5,000 events/s with 4 workers.
#include "pg_bench_server.hpp"
#include "support.hpp"

#include "../tests/store/cert_factory.hpp"
#include "../tests/store/sqlite_shim.hpp"

#include <dpgcert/lifecycle.hpp>
#include <dpgcert/store.hpp>

#include <benchmark/benchmark.h>

#include <libpq-fe.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace dpgcert;
using bench::TempDir;

const Time kNow = parse_rfc3339("2025-06-01T06:00:00Z");
constexpr std::int64_t kDay = 86400;
constexpr int kImportCount = 10'000;
constexpr int kImportBatch = 500;  ///< Bundles per Store::import_many call.
constexpr long long kRows = 1'000'000;
constexpr long long kOrganisations = 5'000;
constexpr int kOutboxEvents = 20'000;
constexpr int kWorkers = 4;

enum Backend : int { sqlite = 0, postgresql = 1, postgresql_async = 2 };

const char* backend_name(std::int64_t b) {
  return b == sqlite ? "sqlite" : b == postgresql ? "postgresql" : "postgresql, synchronous_commit=off";
}

// ---- the PostgreSQL server, started on first use ----------------------------------------------

struct PgServer {
  std::string why;
  std::optional<bench::PgBenchServer> server;
  int databases = 0;
  // PostgreSQL's defaults (fsync, synchronous_commit and full_page_writes on), with room for a
  // million rows in memory as a dedicated server would have; $DPGCERT_BENCH_PG_SETTINGS adds
  // settings ("name=value ...", e.g. "log_statement=all" to see every statement).
  PgServer() : server(bench::PgBenchServer::start(settings(), why)) {}
  static std::vector<std::string> settings() {
    std::vector<std::string> out{"shared_buffers=512MB", "max_wal_size=4GB"};
    if (const char* env = std::getenv("DPGCERT_BENCH_PG_SETTINGS"); env != nullptr) {
      std::istringstream in(env);
      for (std::string s; in >> s;) out.push_back(s);
    }
    return out;
  }
  [[nodiscard]] std::string new_database() { return server->create_database("bench" + std::to_string(++databases)); }
};

PgServer& pg() {
  static PgServer s;
  return s;
}

/// The database a PostgreSQL location of ours names.
std::string database_of(const std::string& location) {
  const auto start = location.find(":///") + 4;
  return location.substr(start, location.find('?') - start);
}

/// CPU seconds the server has spent for the store at `location` so far (0 for SQLite: its work is
/// in the benchmark's own CPU time).
double server_cpu(std::int64_t backend, const std::string& location) {
  return backend == sqlite ? 0.0 : pg().server->backend_cpu_seconds(database_of(location));
}

/// Skips a PostgreSQL run when there is no server; false when skipped.
bool have_backend(benchmark::State& state, std::int64_t backend) {
  state.SetLabel(backend_name(backend));
  if (backend == sqlite || pg().server) return true;
  state.SkipWithError(("PostgreSQL skipped: " + pg().why).c_str());
  return false;
}

StoreOptions options_at(const std::string& location) {
  StoreOptions o;
  o.location = location;
  o.actor = "bench";
  o.clock = std::make_shared<FixedClock>(kNow);
  return o;
}

/// A new empty store of `backend` (its key file in `dir`); its location in `location`.
std::unique_ptr<Store> new_store(std::int64_t backend, const TempDir& dir, std::string& location) {
  if (backend == sqlite) {
    location = (dir.path() / "store.db").string();
  } else {
    location = pg().new_database();
    if (backend == postgresql_async) {
      pg().server->exec("ALTER DATABASE bench" + std::to_string(pg().databases) + " SET synchronous_commit = off");
    }
  }
  return Store::create(options_at(location), vault::KeySource::key_file(dir.path() / "store.key"));
}

// ---- import ------------------------------------------------------------------------------------

/// 10,000 distinct bundles made once (as bench_store makes them): RSA 3072 leaves of an EC test CA,
/// PKCS#12 files with AES-256 and one KDF iteration, passing reports.
struct Corpus {
  testing::CertFactory factory{3072};
  SecretBytes password = SecretBytes::from_text("Bench-Password-1");
  std::vector<testing::Made> items;
  std::vector<ValidationReport> reports;
  Corpus() {
    items.reserve(kImportCount);
    for (int i = 0; i < kImportCount; ++i) {
      testing::LeafSpec s = i % 2 == 0 ? testing::foces_spec("12345674", std::to_string(10000000 + i),
                                                             to_unix(kNow) - 1000 * kDay + i, to_unix(kNow) + (i % 1000) * kDay)
                                       : testing::oces3_spec("25313763", "00000000-0000-4000-8000-" + std::to_string(100000000000 + i),
                                                             to_unix(kNow) - 500 * kDay + i, to_unix(kNow) + (i % 1000) * kDay);
      items.push_back(factory.made(s, password));
      ValidationReport r;
      r.verdict = CheckStatus::pass;
      r.at = kNow;
      r.certificate = items.back().certificate;
      r.identity = oces::identify(items.back().certificate);
      reports.push_back(std::move(r));
    }
  }
};

Corpus& corpus() {
  static Corpus c;
  return c;
}

/// The 10,000 bundles into a new store, each attached to its organisation (the fresh onboarding
/// case: no lineage): argument 1 is how many per call, 1 being Store::import (a transaction each),
/// more being Store::import_many (one transaction, one commit per call).
void BM_import_10k(benchmark::State& state) {
  const std::int64_t backend = state.range(0);
  const auto batch = static_cast<std::size_t>(state.range(1));
  if (!have_backend(state, backend)) return;
  state.SetLabel(std::string(backend_name(backend)) + (batch == 1 ? ", one by one" : ", import_many of " + std::to_string(batch)));
  Corpus& c = corpus();
  double server_s = 0;
  auto options = [&](std::size_t i) {
    ImportOptions o;
    o.report = c.reports[i];
    o.organisation_cvr = i % 2 == 0 ? "12345674" : "25313763";
    return o;
  };
  for (auto _ : state) {
    state.PauseTiming();
    auto dir = std::make_unique<TempDir>("dpgcert-bench-pgstore");
    {
      std::string location;
      auto store = new_store(backend, *dir, location);
      const double cpu0 = server_cpu(backend, location);
      state.ResumeTiming();
      for (std::size_t first = 0; first < static_cast<std::size_t>(kImportCount); first += batch) {
        const std::size_t end = std::min(first + batch, static_cast<std::size_t>(kImportCount));
        if (batch == 1) {
          const ImportResult r = store->import(c.items[first].bundle, c.items[first].pkcs12, c.password, options(first));
          if (r.outcome != ImportOutcome::imported) state.SkipWithError("not imported");
          continue;
        }
        std::vector<ImportRequest> requests;
        requests.reserve(end - first);
        for (std::size_t i = first; i < end; ++i) {
          requests.push_back({&c.items[i].bundle, c.items[i].pkcs12, &c.password, options(i)});
        }
        for (const ImportAttempt& a : store->import_many(requests)) {
          if (!a.result || a.result->outcome != ImportOutcome::imported) state.SkipWithError("not imported");
        }
      }
      state.PauseTiming();
      server_s += server_cpu(backend, location) - cpu0;
    }
    dir.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kImportCount);
  state.counters["server_cpu_us_per_item"] = server_s * 1e6 / static_cast<double>(state.iterations() * kImportCount);
}

// ---- a million records --------------------------------------------------------------------------

/// The stage (CASE over the default thresholds) of a row whose notAfter is `na`, at kNow: the same
/// SQL in both dialects.
std::string stage_sql(const std::string& na) {
  const std::string left = "(" + na + " - " + std::to_string(to_unix(kNow)) + ")";
  std::string sql = "CASE";
  for (int t : {0, 1, 7, 14, 30, 60, 90}) sql += " WHEN " + left + " <= " + std::to_string(t * kDay) + " THEN " + std::to_string(t);
  return sql + " END";
}

/// The lifecycle rows of the steady state a daily check leaves (each active certificate's current
/// stage recorded, its next threshold in the future), from the certificates: the same SQL in both.
std::string lifecycle_fill_sql() {
  return " INSERT INTO lifecycle (certificate_id, effective_not_after, stage, severity, next_due_at)"
         " SELECT id, not_after, stage,"
         " CASE WHEN stage IS NULL THEN 0 WHEN stage <= 1 THEN 2 ELSE 1 END,"
         " CASE WHEN stage IS NULL THEN not_after - 90 * 86400 WHEN stage = 90 THEN not_after - 60 * 86400"
         " WHEN stage = 60 THEN not_after - 30 * 86400 WHEN stage = 30 THEN not_after - 14 * 86400"
         " WHEN stage = 14 THEN not_after - 7 * 86400 WHEN stage = 7 THEN not_after - 86400"
         " WHEN stage = 1 THEN not_after END"
         " FROM (SELECT id, not_after, " + stage_sql("not_after") + " AS stage FROM certificates WHERE status = 'active') s;"
         " INSERT INTO lifecycle (certificate_id, effective_not_after)"
         " SELECT id, not_after FROM certificates WHERE status <> 'active';";
}

/// A store with 1,000,000 certificate records of 5,000 organisations (each with a contact) and
/// their lifecycle rows, filled once per backend by a bench-only bulk path straight into the
/// store's schema (SQLite: INSERT ... SELECT over a recursive counter in one transaction;
/// PostgreSQL: INSERT ... SELECT over generate_series, then VACUUM ANALYZE as autovacuum would).
/// As in bench_store and bench_lifecycle: notAfter spread over four years around now, expired
/// records superseded except one in a thousand; no secrets and no documents (neither the query nor
/// the check reads them).
struct MillionStore {
  std::int64_t backend;
  TempDir dir{"dpgcert-bench-pgstore"};
  std::string location;
  std::unique_ptr<Store> store;
  double fill_seconds = 0;

  explicit MillionStore(std::int64_t b) : backend(b) {
    store = new_store(backend, dir, location);
    const auto t0 = std::chrono::steady_clock::now();
    const std::string now = std::to_string(to_unix(kNow));
    const std::string base = std::to_string(to_unix(kNow) - 365 * kDay);
    const std::string span = std::to_string(4 * 365 * kDay);
    const std::string orgs = std::to_string(kOrganisations);
    if (backend == sqlite) {
      testing::RawSqlite db(location);
      const std::string na = "(" + base + " + (i * 2654435761) % " + span + ")";
      const std::string n = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ";
      db.exec("PRAGMA synchronous = OFF; BEGIN;" + n + orgs + ")"
              " INSERT INTO organisations (id, cvr, name, created_at, created_by, updated_at)"
              " SELECT i, printf('%08d', 10000000 + i), printf('Kunde %d A/S', i), 0, 'bench', 0 FROM n;" +
              n + orgs + ")"
              " INSERT INTO contacts (organisation_id, position, name, email, role)"
              " SELECT i, 0, 'IT-drift', printf('it@kunde%d.dk', i), 'renewals' FROM n;" +
              n + std::to_string(kRows) + ")"
              " INSERT INTO certificates (id, fingerprint, organisation_id, status, status_changed_at, lineage_id,"
              " generation, type, environment, cvr, oces_id_kind, oces_id, common_name, organisation_name, subject,"
              " issuer, serial, not_before, not_after, key_algorithm, key_bits, pkcs12_legacy, validation_verdict,"
              " forced, source, added_at, added_by)"
              " SELECT i, printf('%064x', i), 1 + i % " + orgs + ","
              " CASE WHEN " + na + " < " + now + " AND i % 1000 <> 0 THEN 'superseded' ELSE 'active' END,"
              " 0, i, 'oces2', 'foces', 'production', printf('%08d', 10000000 + 1 + i % " + orgs + "),"
              " 'fid', printf('%d', i), printf('Sikker post %d', i), 'Kunde A/S',"
              " printf('CN=Sikker post %d,O=Kunde A/S,C=DK', i), 'CN=TRUST2408 OCES CA V,O=TRUST2408,C=DK',"
              " printf('%x', i), " + na + " - 1095 * 86400, " + na + ", 'RSA', 2048, 0, 'pass', 0, 'bench-bulk', 0, 'bench'"
              " FROM n;" + lifecycle_fill_sql() +
              "COMMIT; ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);");
    } else {
      const std::string db = database_of(location);
      pg().server->exec(
          "BEGIN;"
          " INSERT INTO organisations (id, cvr, name, created_at, created_by, updated_at)"
          " SELECT i, (10000000 + i)::text, 'Kunde ' || i || ' A/S', 0, 'bench', 0 FROM generate_series(1, " + orgs + ") i;"
          " INSERT INTO contacts (organisation_id, position, name, email, role)"
          " SELECT i, 0, 'IT-drift', 'it@kunde' || i || '.dk', 'renewals' FROM generate_series(1, " + orgs + ") i;"
          " INSERT INTO certificates (id, fingerprint, organisation_id, status, status_changed_at, lineage_id,"
          " generation, type, environment, cvr, oces_id_kind, oces_id, common_name, organisation_name, subject,"
          " issuer, serial, not_before, not_after, key_algorithm, key_bits, pkcs12_legacy, validation_verdict,"
          " forced, source, added_at, added_by)"
          " SELECT i, lpad(to_hex(i), 64, '0'), 1 + i % " + orgs + ","
          " CASE WHEN na < " + now + " AND i % 1000 <> 0 THEN 'superseded' ELSE 'active' END,"
          " 0, i, 'oces2', 'foces', 'production', (10000000 + 1 + i % " + orgs + ")::text,"
          " 'fid', i::text, 'Sikker post ' || i, 'Kunde A/S',"
          " 'CN=Sikker post ' || i || ',O=Kunde A/S,C=DK', 'CN=TRUST2408 OCES CA V,O=TRUST2408,C=DK',"
          " to_hex(i), na - 1095 * 86400, na, 'RSA', 2048, 0, 'pass', 0, 'bench-bulk', 0, 'bench'"
          " FROM (SELECT i, " + base + " + (i * 2654435761) % " + span + " AS na FROM generate_series(1::bigint, " +
          std::to_string(kRows) + ") i) g;" + lifecycle_fill_sql() +
          " SELECT setval(pg_get_serial_sequence('organisations', 'id'), " + orgs + ");"
          " SELECT setval(pg_get_serial_sequence('contacts', 'id'), " + orgs + ");"
          " SELECT setval('certificates_id_seq', " + std::to_string(kRows) + ");"
          "COMMIT;",
          db);
      pg().server->exec("VACUUM ANALYZE", db);
    }
    fill_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
};

/// The million stores, closed by main() before the server stops.
std::map<std::int64_t, std::unique_ptr<MillionStore>>& million_stores() {
  static std::map<std::int64_t, std::unique_ptr<MillionStore>> stores;
  return stores;
}

MillionStore& million(std::int64_t backend) {
  auto& m = million_stores()[backend];
  if (!m) m = std::make_unique<MillionStore>(backend);
  return *m;
}

void BM_expiring_30_days_1M(benchmark::State& state) {
  const std::int64_t backend = state.range(0);
  if (!have_backend(state, backend)) return;
  MillionStore& m = million(backend);
  const auto q = CertificateQuery::expiring_before(kNow + std::chrono::days(30));
  std::size_t rows = 0;
  const double cpu0 = server_cpu(backend, m.location);
  for (auto _ : state) {
    const auto r = m.store->query(q);  // every row, each a CertificateSummary
    rows = r.size();
    benchmark::DoNotOptimize(r.data());
  }
  state.counters["server_cpu_ms"] = (server_cpu(backend, m.location) - cpu0) * 1e3 / static_cast<double>(state.iterations());
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["fill_s"] = m.fill_seconds;
}

/// Baseline: what the PostgreSQL backend sends for this listing (same rows and columns) by bare
/// libpq on a connection of its own, every value of every row touched - what the server and the
/// socket cost without dpgcert's result handling. Arg 0: the backend's way - the certificates
/// alone in index order without parallel workers, then each distinct organisation (and mailbox)
/// once by its id; arg 1: the same rows from one statement joining the three tables with the
/// server's default settings (what the backend sent before 2026-12-05).
void BM_expiring_30_days_1M_libpq_baseline(benchmark::State& state) {
  const bool joined = state.range(0) == 1;
  state.SetLabel(joined ? "postgresql, bare libpq, one joined statement" : "postgresql, bare libpq, as the backend");
  if (!pg().server) {
    state.SkipWithError(("PostgreSQL skipped: " + pg().why).c_str());
    return;
  }
  MillionStore& m = million(postgresql);
  PGconn* conn = PQconnectdb(m.location.c_str());
  const char* sql =
      joined ? "SELECT c.id, c.fingerprint, c.status, c.not_before, c.not_after, o.cvr, m.address, c.cvr, c.generation, "
               "c.type, c.environment, c.oces_id, c.common_name FROM certificates c "
               "LEFT JOIN organisations o ON o.id = c.organisation_id LEFT JOIN mailboxes m ON m.id = c.mailbox_id "
               "WHERE c.status = 'active' AND c.not_after < $1 ORDER BY c.not_after, c.fingerprint"
             : "SELECT c.id, c.fingerprint, c.status, c.not_before, c.not_after, c.organisation_id, c.mailbox_id, c.cvr, "
               "c.generation, c.type, c.environment, c.oces_id, c.common_name FROM certificates c "
               "WHERE c.status = 'active' AND c.not_after < $1 ORDER BY c.not_after, c.fingerprint";
  bool prepared = true;
  for (const auto& [name, text] : {std::pair{"q", sql}, std::pair{"o", "SELECT id, cvr FROM organisations WHERE id = ANY($1::bigint[])"}}) {
    PGresult* prep = PQprepare(conn, name, text, 1, nullptr);
    prepared = prepared && PQresultStatus(prep) == PGRES_COMMAND_OK;
    PQclear(prep);
  }
  if (!joined) PQclear(PQexec(conn, "SET max_parallel_workers_per_gather = 0"));
  if (!prepared) {
    state.SkipWithError(PQerrorMessage(conn));
    PQfinish(conn);
    return;
  }
  const std::string bound = std::to_string(to_unix(kNow) + 30 * kDay);
  const char* values[] = {bound.c_str()};
  std::size_t rows = 0;
  const double cpu0 = server_cpu(postgresql, m.location);
  for (auto _ : state) {
    PGresult* r = PQexecPrepared(conn, "q", 1, values, nullptr, nullptr, 0);
    rows = static_cast<std::size_t>(PQntuples(r));
    std::size_t bytes = 0;
    for (int i = 0; i < PQntuples(r); ++i) {
      for (int c = 0; c < PQnfields(r); ++c) bytes += static_cast<std::size_t>(PQgetlength(r, i, c));
    }
    if (!joined) {
      // Every distinct organisation once (the bench's records have no mailboxes).
      std::vector<long long> ids;
      ids.reserve(static_cast<std::size_t>(PQntuples(r)));
      for (int i = 0; i < PQntuples(r); ++i) {
        if (PQgetisnull(r, i, 5) == 0) ids.push_back(std::atoll(PQgetvalue(r, i, 5)));
      }
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      std::string array = "{";
      for (const long long id : ids) {
        if (array.size() > 1) array += ',';
        array += std::to_string(id);
      }
      array += '}';
      const char* array_value[] = {array.c_str()};
      PGresult* o = PQexecPrepared(conn, "o", 1, array_value, nullptr, nullptr, 0);
      for (int i = 0; i < PQntuples(o); ++i) bytes += static_cast<std::size_t>(PQgetlength(o, i, 1));
      PQclear(o);
    }
    benchmark::DoNotOptimize(bytes);
    PQclear(r);
  }
  state.counters["server_cpu_ms"] = (server_cpu(postgresql, m.location) - cpu0) * 1e3 / static_cast<double>(state.iterations());
  PQfinish(conn);
  state.counters["rows"] = static_cast<double>(rows);
}

void BM_check_1M_nothing_due(benchmark::State& state) {
  const std::int64_t backend = state.range(0);
  if (!have_backend(state, backend)) return;
  MillionStore& m = million(backend);
  Lifecycle lifecycle(*m.store);
  std::size_t events = 0;
  std::size_t evaluated = 0;
  const double cpu0 = server_cpu(backend, m.location);
  for (auto _ : state) {
    const CheckResult r = lifecycle.check(kNow);
    events += r.emitted.size();
    evaluated += r.evaluated;
    benchmark::DoNotOptimize(r.state);
  }
  state.counters["server_cpu_ms"] = (server_cpu(backend, m.location) - cpu0) * 1e3 / static_cast<double>(state.iterations());
  if (events != 0 || evaluated != 0) state.SkipWithError("something was due although nothing should be");
}

// ---- the outbox -----------------------------------------------------------------------------------

/// The JSON of a realistic event (an organisation with a contact), its id left as "@ID@".
std::string event_payload_template() {
  Event e;
  e.id = "@ID@";
  e.kind = EventKind::expiring;
  e.stage_days = 30;
  e.at = kNow;
  e.days_left = 29;
  e.effective_not_after = kNow + std::chrono::days(29);
  e.certificate.fingerprint = std::string(64, 'a');
  e.certificate.status = CertificateStatus::active;
  e.certificate.not_before = kNow - std::chrono::days(1066);
  e.certificate.not_after = e.effective_not_after;
  e.certificate.cvr = "10000001";
  e.certificate.common_name = "Sikker post 1";
  e.certificate.issuer = "CN=TRUST2408 OCES CA V,O=TRUST2408,C=DK";
  e.certificate.serial = "1";
  Organisation o;
  o.cvr = "10000001";
  o.name = "Kunde 1 A/S";
  o.contacts.push_back({"IT-drift", "it@kunde1.dk", "renewals"});
  e.organisation = o;
  return to_json(e).dump();
}

/// Puts 20,000 events with a pending delivery each to the callback sink "count" into the outbox of
/// the million store (whatever was there before removed), by the bulk path.
void fill_outbox(MillionStore& m) {
  const std::string payload = event_payload_template();
  const std::string n = std::to_string(kOutboxEvents);
  const std::string now = std::to_string(to_unix(kNow));
  if (m.backend == sqlite) {
    testing::RawSqlite db(m.location);
    testing::RawSqlite::Statement st(db,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + n + ")"
        " INSERT INTO events (seq, id, kind, stage_days, certificate_id, created_at, payload)"
        " SELECT i, 'ev-' || i, 'expiring', 30, i, " + now + ", replace(?, '@ID@', 'ev-' || i) FROM n");
    db.exec("BEGIN; DELETE FROM deliveries; DELETE FROM events;");
    st.bind(1, payload);
    while (st.step()) {
    }
    st.reset();
    db.exec("INSERT INTO deliveries (event_seq, sink_id, state, attempts, next_attempt_at)"
            " SELECT seq, (SELECT id FROM sinks WHERE name = 'count'), 'pending', 0, " + now + " FROM events;"
            "COMMIT;");
  } else {
    std::string quoted;  // the payload as an SQL literal
    for (char ch : payload) {
      quoted += ch;
      if (ch == '\'') quoted += '\'';
    }
    const std::string db = database_of(m.location);
    pg().server->exec(
        "BEGIN; DELETE FROM deliveries; DELETE FROM events;"
        " INSERT INTO events (seq, id, kind, stage_days, certificate_id, created_at, payload)"
        " SELECT i, 'ev-' || i, 'expiring', 30, i, " + now + ", replace('" + quoted + "', '@ID@', 'ev-' || i)"
        " FROM generate_series(1, " + n + ") i;"
        " SELECT setval(pg_get_serial_sequence('events', 'seq'), " + n + ");"
        " INSERT INTO deliveries (event_seq, sink_id, state, attempts, next_attempt_at)"
        " SELECT seq, (SELECT id FROM sinks WHERE name = 'count'), 'pending', 0, " + now + " FROM events;"
        "COMMIT;",
        db);
    pg().server->exec("VACUUM ANALYZE events", db);
    pg().server->exec("VACUUM ANALYZE deliveries", db);
  }
}

/// Lifecycle::deliver by 4 workers at once, each a thread with a store handle (a connection) of its
/// own and the callback sink "count" registered, until the 20,000 events are delivered; each
/// delivery is counted, duplicates too.
void BM_outbox_drain_4_workers(benchmark::State& state) {
  const std::int64_t backend = state.range(0);
  if (!have_backend(state, backend)) return;
  MillionStore& m = million(backend);
  {
    Lifecycle lifecycle(*m.store);
    bool have_sink = false;
    for (const auto& s : lifecycle.sinks()) have_sink = have_sink || s.name == "count";
    if (!have_sink) (void)lifecycle.add_sink(callback_sink("count"));
  }
  std::atomic<long long> delivered{0};
  std::vector<long long> per_worker(kWorkers, 0);
  double server_s = 0;
  for (auto _ : state) {
    state.PauseTiming();
    fill_outbox(m);
    delivered = 0;
    std::vector<std::unique_ptr<Store>> stores;
    std::vector<std::unique_ptr<Lifecycle>> lifecycles;
    std::vector<long long> counts(kWorkers, 0);
    for (int w = 0; w < kWorkers; ++w) {
      stores.push_back(Store::open(options_at(m.location)));
      lifecycles.push_back(std::make_unique<Lifecycle>(*stores.back()));
      long long* mine = &counts[static_cast<std::size_t>(w)];
      lifecycles.back()->register_callback("count", [&delivered, mine](const Event& e) {
        benchmark::DoNotOptimize(e.id.data());
        ++delivered;
        ++*mine;
        return SinkResult::ok();
      });
    }
    const double cpu0 = server_cpu(backend, m.location);
    state.ResumeTiming();
    std::vector<std::thread> threads;
    for (int w = 0; w < kWorkers; ++w) {
      threads.emplace_back([&lifecycles, w] { (void)lifecycles[static_cast<std::size_t>(w)]->deliver(kNow); });
    }
    for (auto& t : threads) t.join();
    state.PauseTiming();
    server_s += server_cpu(backend, m.location) - cpu0;
    per_worker = counts;
    lifecycles.clear();
    stores.clear();
    state.ResumeTiming();
  }
  if (delivered != kOutboxEvents) state.SkipWithError("not every event was delivered exactly once");
  state.SetItemsProcessed(state.iterations() * kOutboxEvents);
  state.counters["server_cpu_us_per_item"] = server_s * 1e6 / static_cast<double>(state.iterations() * kOutboxEvents);
  for (int w = 0; w < kWorkers; ++w) {
    state.counters["w" + std::to_string(w)] = static_cast<double>(per_worker[static_cast<std::size_t>(w)]);
  }
}

BENCHMARK(BM_import_10k)
    ->Args({sqlite, 1})
    ->Args({postgresql, 1})
    ->Args({postgresql_async, 1})
    ->Args({sqlite, kImportBatch})
    ->Args({postgresql, kImportBatch})
    ->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_expiring_30_days_1M)->Arg(sqlite)->Arg(postgresql)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_expiring_30_days_1M_libpq_baseline)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_check_1M_nothing_due)->Arg(sqlite)->Arg(postgresql)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_outbox_drain_4_workers)->Arg(sqlite)->Arg(postgresql)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();

/// Prints one line per target: SQLite, PostgreSQL, the ratio and the verdict on PostgreSQL.
bool verdict(const bench::SummaryReporter& reporter) {
  auto rate = [&](const std::string& name) {
    const double* r = reporter.counter(name, "items_per_second");
    return r == nullptr ? -1.0 : *r;
  };
  auto ms = [&](const std::string& name) {
    const auto* r = reporter.find(name);
    return r == nullptr ? -1.0 : r->real_ns / 1e6;
  };
  bool ok = true;
  auto line = [&](const char* what, double lite, double pgv, double target, bool higher_is_better, const char* unit) {
    const bool met = pgv >= 0 && (higher_is_better ? pgv >= target : pgv < target);
    ok = ok && (pgv < 0 || met);  // a skipped PostgreSQL run is reported, not failed
    std::printf("%-44s sqlite %10.1f %-4s postgresql %10.1f %-4s (%5.2fx)  target %s %.0f %s: %s\n", what, lite, unit,
                pgv, unit, lite > 0 && pgv > 0 ? pgv / lite : 0.0, higher_is_better ? ">=" : "<", target, unit,
                pgv < 0 ? "skipped" : met ? "met" : "MISSED");
  };
  auto cpu = [&](const std::string& name, const char* counter, double client_divisor, const char* unit) {
    const auto* r = reporter.find(name);
    const double* server = reporter.counter(name, counter);
    if (r == nullptr || server == nullptr) return;
    std::printf("%-44s %s: CPU per unit of work: client (the benchmark's thread) %.1f %s, server %.1f %s\n", "",
                name.c_str(), r->cpu_ns / client_divisor, unit, *server, unit);
  };
  const std::string batched = "/" + std::to_string(kImportBatch);
  line("import of 10,000 parsed certificates", rate("BM_import_10k/0" + batched), rate("BM_import_10k/1" + batched), 1500,
       true, "/s");
  std::printf("%-44s (import_many of %d per call; one by one: sqlite %.1f /s, postgresql %.1f /s,\n", "", kImportBatch,
              rate("BM_import_10k/0/1"), rate("BM_import_10k/1/1"));
  std::printf("%-44s  postgresql with synchronous_commit=off %.1f /s)\n", "", rate("BM_import_10k/2/1"));
  cpu("BM_import_10k/1" + batched, "server_cpu_us_per_item", 1e3 * kImportCount, "us");
  cpu("BM_import_10k/1/1", "server_cpu_us_per_item", 1e3 * kImportCount, "us");
  line("expiring within 30 days, 1,000,000 records", ms("BM_expiring_30_days_1M/0"), ms("BM_expiring_30_days_1M/1"), 50,
       false, "ms");
  if (const double b = ms("BM_expiring_30_days_1M_libpq_baseline/0"); b >= 0) {
    std::printf("%-44s the same statements by bare libpq: %.1f ms; one joined statement: %.1f ms\n", "", b,
                ms("BM_expiring_30_days_1M_libpq_baseline/1"));
  }
  cpu("BM_expiring_30_days_1M/1", "server_cpu_ms", 1e6, "ms");
  cpu("BM_expiring_30_days_1M_libpq_baseline/0", "server_cpu_ms", 1e6, "ms");
  cpu("BM_expiring_30_days_1M_libpq_baseline/1", "server_cpu_ms", 1e6, "ms");
  line("check, 1,000,000 records, nothing due", ms("BM_check_1M_nothing_due/0"), ms("BM_check_1M_nothing_due/1"), 1000,
       false, "ms");
  cpu("BM_check_1M_nothing_due/1", "server_cpu_ms", 1e6, "ms");
  line("outbox drain, 4 workers", rate("BM_outbox_drain_4_workers/0"), rate("BM_outbox_drain_4_workers/1"), 5000, true,
       "/s");
  if (const double* d = reporter.counter("BM_outbox_drain_4_workers/1", "server_cpu_us_per_item"); d != nullptr) {
    std::printf("%-44s BM_outbox_drain_4_workers/1: server CPU per event %.1f us\n", "", *d);
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (!dpgcert::bench::initialize(argc, argv)) return 1;
  int rc = 0;
  {
    dpgcert::bench::SummaryReporter reporter;
    reporter.run();
    if (pg().server) std::printf("PostgreSQL: %s\n", pg().server->version().c_str());
    if (const char* top = std::getenv("DPGCERT_BENCH_PG_STATEMENTS"); top != nullptr && pg().server) {
      // Profiling aid: with DPGCERT_BENCH_PG_SETTINGS="shared_preload_libraries=pg_stat_statements",
      // the statements the server spent the most time on.
      pg().server->exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
      std::printf("%s\n", pg().server->exec("SELECT string_agg(format('%8s calls %8s us exec %8s plans %6s us per plan  %s', calls,"
                                              " round(mean_exec_time * 1000), plans, round(mean_plan_time * 1000), left(regexp_replace(query,"
                                              " '\\s+', ' ', 'g'), 110)), E'\\n' ORDER BY total_exec_time DESC) FROM"
                                              " (SELECT * FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT " +
                                              std::string(top) + ") s").c_str());
    }
    rc = verdict(reporter) ? 0 : 1;
  }
  million_stores().clear();
  return rc;
}
