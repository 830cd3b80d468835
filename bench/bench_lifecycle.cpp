// The lifecycle layer (issue 7): `Lifecycle::check(now)` over a store of 1,000,000 certificate
// records - with nothing due (the everyday case; target < 1 s), and with 1% (10,000) due, once
// recording only and once delivering to a JSON Lines sink as well. Baselines measured in the same
// run on the same file:
//   - the bare index probe a check starts with (count of lifecycle rows with next_due_at <= now);
//   - what a scanning tool does on every run: read every active certificate's notAfter and work out
//     its stage (a bare SQLite scan plus the arithmetic, no bookkeeping, no events).
#include "support.hpp"

#include "../tests/store/sqlite_shim.hpp"

#include <dpgcert/lifecycle.hpp>
#include <dpgcert/store.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

namespace {

namespace fs = std::filesystem;
using namespace dpgcert;

const Time kNow = parse_rfc3339("2025-06-01T06:00:00Z");
constexpr std::int64_t kDay = 86400;
constexpr long long kRows = 1'000'000;
constexpr long long kOrganisations = 5'000;
constexpr long long kDue = kRows / 100;

using bench::TempDir;

/// The stage (CASE over the default thresholds) of a row whose notAfter is `na`, at kNow.
std::string stage_sql(const std::string& na) {
  const std::string left = "(" + na + " - " + std::to_string(to_unix(kNow)) + ")";
  std::string sql = "CASE";
  for (int t : {0, 1, 7, 14, 30, 60, 90}) sql += " WHEN " + left + " <= " + std::to_string(t * kDay) + " THEN " + std::to_string(t);
  return sql + " END";
}

/// A million certificate records of 5,000 organisations (each with a contact), filled once by SQL
/// straight into the store's schema (no secrets, no documents: a check reads neither), and their
/// lifecycle rows in the steady state a daily check leaves: each active certificate's current stage
/// recorded and its next threshold in the future. notAfter is spread over four years around now;
/// expired ones are superseded except one in a thousand (as in bench_store).
struct MillionStore {
  TempDir dir{"dpgcert-bench-lifecycle"};
  std::unique_ptr<Store> store;
  double fill_seconds = 0;
  MillionStore() {
    store = Store::create(bench::store_options(dir.path(), kNow), vault::KeySource::key_file(dir.path() / "store.key"));
    const auto t0 = std::chrono::steady_clock::now();
    testing::RawSqlite db((dir.path() / "store.db").string());
    const std::string now = std::to_string(to_unix(kNow));
    const std::string base = std::to_string(to_unix(kNow) - 365 * kDay);
    const std::string span = std::to_string(4 * 365 * kDay);
    const std::string na = "(" + base + " + (i * 2654435761) % " + span + ")";
    const std::string n = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ";
    const std::string stage = stage_sql("not_after");
    db.exec("PRAGMA synchronous = OFF; BEGIN;" +
            n + std::to_string(kOrganisations) + ")"
            " INSERT INTO organisations (id, cvr, name, created_at, created_by, updated_at)"
            " SELECT i, printf('%08d', 10000000 + i), printf('Kunde %d A/S', i), 0, 'bench', 0 FROM n;" +
            n + std::to_string(kOrganisations) + ")"
            " INSERT INTO contacts (organisation_id, position, name, email, role)"
            " SELECT i, 0, 'IT-drift', printf('it@kunde%d.dk', i), 'renewals' FROM n;" +
            n + std::to_string(kRows) + ")"
            " INSERT INTO certificates (id, fingerprint, organisation_id, status, status_changed_at, lineage_id,"
            " generation, type, environment, cvr, oces_id_kind, oces_id, common_name, organisation_name, subject,"
            " issuer, serial, not_before, not_after, key_algorithm, key_bits, pkcs12_legacy, validation_verdict,"
            " forced, source, added_at, added_by)"
            " SELECT i, printf('%064x', i), 1 + i % " + std::to_string(kOrganisations) + ","
            " CASE WHEN " + na + " < " + now + " AND i % 1000 <> 0 THEN 'superseded' ELSE 'active' END,"
            " 0, i, 'oces2', 'foces', 'production', printf('%08d', 10000000 + 1 + i % " + std::to_string(kOrganisations) + "),"
            " 'fid', printf('%d', i), printf('Sikker post %d', i), 'Kunde A/S',"
            " printf('CN=Sikker post %d,O=Kunde A/S,C=DK', i), 'CN=TRUST2408 OCES CA V,O=TRUST2408,C=DK',"
            " printf('%x', i), " + na + " - 1095 * 86400, " + na + ", 'RSA', 2048, 0, 'pass', 0, 'bench-bulk', 0, 'bench'"
            " FROM n;"
            " INSERT INTO lifecycle (certificate_id, effective_not_after, stage, severity, next_due_at)"
            " SELECT id, not_after, stage,"
            " CASE WHEN stage IS NULL THEN 0 WHEN stage <= 1 THEN 2 ELSE 1 END,"
            " CASE WHEN stage IS NULL THEN not_after - 90 * 86400 WHEN stage = 90 THEN not_after - 60 * 86400"
            " WHEN stage = 60 THEN not_after - 30 * 86400 WHEN stage = 30 THEN not_after - 14 * 86400"
            " WHEN stage = 14 THEN not_after - 7 * 86400 WHEN stage = 7 THEN not_after - 86400"
            " WHEN stage = 1 THEN not_after END"
            " FROM (SELECT id, not_after, " + stage + " AS stage FROM certificates WHERE status = 'active');"
            " INSERT INTO lifecycle (certificate_id, effective_not_after)"
            " SELECT id, not_after FROM certificates WHERE status <> 'active';"
            "COMMIT; ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);");
    fill_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    (void)Lifecycle(*store).add_sink(jsonl_sink("log", (dir.path() / "events.jsonl").string()));
  }

  /// Puts 10,000 active certificates now in the 60-day stage one stage behind (as if the check had
  /// not run since they crossed it), so the next check announces exactly those (the same ones every
  /// round: the check leaves them at stage 60 again); clears the outbox of the previous round so
  /// their event ids are new again.
  void make_one_percent_due() {
    testing::RawSqlite db((dir.path() / "store.db").string());
    db.exec("BEGIN; DELETE FROM deliveries; DELETE FROM events;"
            " UPDATE lifecycle SET stage = 90, severity = 1, next_due_at = effective_not_after - 60 * 86400"
            " WHERE certificate_id IN (SELECT certificate_id FROM lifecycle WHERE stage = 60"
            " ORDER BY certificate_id LIMIT " + std::to_string(kDue) + ");"
            "COMMIT;");
    std::error_code ec;
    fs::remove(dir.path() / "events.jsonl", ec);
  }

  [[nodiscard]] long long count(const std::string& sql) {
    testing::RawSqlite db((dir.path() / "store.db").string());
    return std::stoll(db.text(sql));
  }
};

MillionStore& million() {
  static MillionStore m;
  return m;
}

void BM_check_1M_nothing_due(benchmark::State& state) {
  MillionStore& m = million();
  Lifecycle lifecycle(*m.store);
  std::size_t events = 0;
  for (auto _ : state) {
    const CheckResult r = lifecycle.check(kNow);
    events += r.emitted.size();
    benchmark::DoNotOptimize(r.state);
  }
  if (events != 0) state.SkipWithError("events emitted although nothing was due");
  state.counters["fill_s"] = m.fill_seconds;
}

void run_one_percent(benchmark::State& state, bool deliver) {
  MillionStore& m = million();
  Lifecycle lifecycle(*m.store);
  CheckOptions o;
  o.deliver = deliver;
  std::size_t emitted = 0;
  std::size_t delivered = 0;
  for (auto _ : state) {
    state.PauseTiming();
    m.make_one_percent_due();
    state.ResumeTiming();
    const CheckResult r = lifecycle.check(kNow, o);
    emitted = r.emitted.size();
    delivered = r.delivered();
  }
  if (emitted != static_cast<std::size_t>(kDue)) state.SkipWithError("not every due certificate was announced");
  if (deliver && delivered != emitted) state.SkipWithError("not every event was delivered");
  state.counters["events"] = static_cast<double>(emitted);
  state.counters["delivered"] = static_cast<double>(delivered);
}

void BM_check_1M_one_percent_due_record(benchmark::State& state) { run_one_percent(state, false); }
void BM_check_1M_one_percent_due_deliver_jsonl(benchmark::State& state) { run_one_percent(state, true); }

/// Baseline: the index probe itself, by bare SQLite.
void BM_sqlite_due_count_baseline(benchmark::State& state) {
  MillionStore& m = million();
  testing::RawSqlite db((m.dir.path() / "store.db").string());
  testing::RawSqlite::Statement st(db, "SELECT count(*) FROM lifecycle WHERE next_due_at <= ?");
  for (auto _ : state) {
    st.bind(1, to_unix(kNow));
    st.step();
    benchmark::DoNotOptimize(st.integer(0));
    st.reset();
  }
}

/// Baseline: a tool that scans. Every active certificate's notAfter by bare SQLite, and its stage
/// worked out - no bookkeeping, no events, nothing recorded.
void BM_sqlite_scan_all_active_baseline(benchmark::State& state) {
  MillionStore& m = million();
  testing::RawSqlite db((m.dir.path() / "store.db").string());
  testing::RawSqlite::Statement st(db, "SELECT id, not_after FROM certificates NOT INDEXED WHERE status = 'active'");
  const RenewalPolicy policy = RenewalPolicy::defaults();
  std::size_t rows = 0;
  for (auto _ : state) {
    rows = 0;
    std::size_t staged = 0;
    while (st.step()) {
      ++rows;
      if (stage_at(policy, from_unix(st.integer(1)), kNow)) ++staged;
    }
    st.reset();
    benchmark::DoNotOptimize(staged);
  }
  state.counters["rows"] = static_cast<double>(rows);
}

BENCHMARK(BM_sqlite_due_count_baseline)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_check_1M_nothing_due)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sqlite_scan_all_active_baseline)->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_check_1M_one_percent_due_record)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_check_1M_one_percent_due_deliver_jsonl)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  if (!dpgcert::bench::initialize(argc, argv)) return 1;
  dpgcert::bench::SummaryReporter reporter;
  reporter.run();
  auto get = [&](const char* name) {
    const auto* r = reporter.find(name);
    return r == nullptr ? -1.0 : r->real_ns / 1e6;  // ms
  };
  const double nothing = get("BM_check_1M_nothing_due");
  std::printf("check over %lld records, nothing due: %.2f ms (target < 1000 ms: %s); index probe %.3f ms; scan of "
              "every active record %.1f ms\n",
              kRows, nothing, nothing >= 0 && nothing < 1000 ? "met" : "MISSED", get("BM_sqlite_due_count_baseline"),
              get("BM_sqlite_scan_all_active_baseline"));
  std::printf("check with 1%% due (%lld events): %.1f ms recording, %.1f ms recording and delivering to JSON Lines\n",
              kDue, get("BM_check_1M_one_percent_due_record"), get("BM_check_1M_one_percent_due_deliver_jsonl"));
  return nothing >= 0 && nothing < 1000 ? 0 : 1;
}
