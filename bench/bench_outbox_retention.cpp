// Outbox retention (issue 20): a store whose checks prune delivered events past the retention
// stays near its size however many events pass through it.
//
// - BM_outbox_1M_through_30_day_window: a SQLite store with 10,000 certificate records and one
//   sink, retention 30 days, 2,000 delivered events a day (each ~1.5 KB of JSON, as a check
//   writes them). First the window fills (30 days: 60,000 events); the store's size then is the
//   "before". Then 500 more days, 1,000,000 events, each day's written and the store pruned as
//   that day's check prunes it (Lifecycle::prune_outbox, 1,000 per transaction). The "after" is
//   the size at the end. Target: after <= 1.1 x before.
// - BM_prune_nothing_old vs BM_count_events_baseline: the pruning an everyday check does when
//   nothing is old enough, over a full window, against a bare count of the same events.
//
// The events are written by SQL straight into the store's tables (as a check leaves them once
// delivered): what is measured is the pruning and the file, not the writing of events, which
// bench_lifecycle measures.
#include "support.hpp"

#include "../tests/store/sqlite_shim.hpp"

#include <dpgcert/lifecycle.hpp>
#include <dpgcert/store.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

namespace {

namespace fs = std::filesystem;
using namespace dpgcert;

const Time kStart = parse_rfc3339("2025-06-01T06:00:00Z");
constexpr std::int64_t kDay = 86400;
constexpr long long kCertificates = 10'000;
constexpr long long kPerDay = 2'000;
constexpr int kRetentionDays = 30;
constexpr int kDays = 500;  // x kPerDay = 1,000,000 events after the window is full

/// A store with kCertificates certificate records (no secrets: pruning reads none), one JSON Lines
/// sink and a 30-day retention, and a writer of delivered events.
struct OutboxStore {
  bench::TempDir dir{"dpgcert-bench-outbox"};
  fs::path db_path = dir.path() / "store.db";
  std::unique_ptr<Store> store;
  std::unique_ptr<Lifecycle> lifecycle;
  long long written = 0;

  OutboxStore() {
    store = Store::create(bench::store_options(dir.path(), kStart), vault::KeySource::key_file(dir.path() / "store.key"));
    lifecycle = std::make_unique<Lifecycle>(*store);
    (void)lifecycle->add_sink(jsonl_sink("log", (dir.path() / "events.jsonl").string()));
    lifecycle->set_outbox_retention(std::chrono::days(kRetentionDays));
    testing::RawSqlite db(db_path.string());
    const std::string n =
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + std::to_string(kCertificates) + ")";
    db.exec("BEGIN;"
            " INSERT INTO organisations (id, cvr, name, created_at, created_by, updated_at)"
            " VALUES (1, '12345674', 'Kunde A/S', 0, 'bench', 0);" +
            n +
            " INSERT INTO certificates (id, fingerprint, organisation_id, status, status_changed_at, lineage_id,"
            " generation, type, environment, cvr, oces_id_kind, oces_id, common_name, organisation_name, subject,"
            " issuer, serial, not_before, not_after, key_algorithm, key_bits, pkcs12_legacy, validation_verdict,"
            " forced, source, added_at, added_by)"
            " SELECT i, printf('%064x', i), 1, 'active', 0, i, 'oces2', 'foces', 'production', '12345674',"
            " 'fid', printf('%d', i), printf('Sikker post %d', i), 'Kunde A/S',"
            " printf('CN=Sikker post %d,O=Kunde A/S,C=DK', i), 'CN=TRUST2408 OCES CA V,O=TRUST2408,C=DK',"
            " printf('%x', i), 0, 2000000000, 'RSA', 2048, 0, 'pass', 0, 'bench-bulk', 0, 'bench' FROM n;"
            " INSERT INTO lifecycle (certificate_id, effective_not_after) SELECT id, not_after FROM certificates;"
            "COMMIT;");
  }

  /// Day `day`'s kPerDay events, created that day and delivered to the sink.
  void write_day(int day) {
    const std::int64_t at = to_unix(kStart) + day * kDay;
    const std::string first = std::to_string(written + 1);
    const std::string last = std::to_string(written + kPerDay);
    // A payload of the size and shape of a real event (bench_lifecycle: ~1.5 KB).
    const std::string filler(1100, 'x');
    testing::RawSqlite db(db_path.string());
    db.exec("BEGIN;"
            " WITH RECURSIVE n(i) AS (SELECT " + first + " UNION ALL SELECT i + 1 FROM n WHERE i < " + last + ")"
            " INSERT INTO events (seq, id, kind, stage_days, certificate_id, created_at, payload)"
            " SELECT i, printf('%032x', i), 'expiring', 30, 1 + i % " + std::to_string(kCertificates) + ", " +
            std::to_string(at) +
            ", printf('{\"id\":\"%032x\",\"kind\":\"expiring\",\"stage_days\":30,\"certificate\":{\"fingerprint\":"
            "\"%064x\",\"cvr\":\"12345674\",\"subject\":\"CN=Sikker post %d,O=Kunde A/S,C=DK\"},\"note\":\"" + filler +
            "\"}', i, i, i) FROM n;"
            " INSERT INTO deliveries (event_seq, sink_id, state, attempts, next_attempt_at, last_attempt_at, delivered_at)"
            " SELECT seq, 1, 'delivered', 1, NULL, " + std::to_string(at) + ", " + std::to_string(at) +
            " FROM events WHERE seq BETWEEN " + first + " AND " + last + ";"
            "COMMIT;");
    written += kPerDay;
  }

  /// The database's size once its WAL is written back (what a backup or `du` sees).
  [[nodiscard]] double megabytes() const {
    testing::RawSqlite db(db_path.string());
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    return static_cast<double>(fs::file_size(db_path)) / 1e6;
  }

  [[nodiscard]] long long events() const {
    testing::RawSqlite db(db_path.string());
    return std::stoll(db.text("SELECT count(*) FROM events"));
  }
};

void BM_outbox_1M_through_30_day_window(benchmark::State& state) {
  double before = 0;
  double after = 0;
  double prune_seconds = 0;
  long long pruned = 0;
  long long left = 0;
  for (auto _ : state) {
    OutboxStore s;
    int day = 0;
    for (; day < kRetentionDays; ++day) s.write_day(day);
    pruned += static_cast<long long>(s.lifecycle->prune_outbox(kStart + std::chrono::days(day)));
    before = s.megabytes();
    for (int k = 0; k < kDays; ++k, ++day) {
      s.write_day(day);
      const auto t0 = std::chrono::steady_clock::now();
      pruned += static_cast<long long>(s.lifecycle->prune_outbox(kStart + std::chrono::days(day + 1)));
      prune_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    after = s.megabytes();
    left = s.events();
  }
  const double written = static_cast<double>(kPerDay) * (kRetentionDays + kDays);
  if (static_cast<double>(pruned + left) != written) state.SkipWithError("events went missing or were not pruned");
  state.counters["before_MB"] = before;
  state.counters["after_MB"] = after;
  state.counters["after_per_before"] = after / before;
  state.counters["pruned"] = static_cast<double>(pruned);
  state.counters["left"] = static_cast<double>(left);
  state.counters["prune_us_per_event"] = prune_seconds * 1e6 / static_cast<double>(pruned > 0 ? pruned : 1);
}

/// A store with a full window (30 days of events), none old enough to prune.
OutboxStore& full_window() {
  static const std::unique_ptr<OutboxStore> s = [] {
    auto o = std::make_unique<OutboxStore>();
    for (int day = 0; day < kRetentionDays; ++day) o->write_day(day);
    return o;
  }();
  return *s;
}

void BM_prune_nothing_old(benchmark::State& state) {
  OutboxStore& s = full_window();
  const Time now = kStart + std::chrono::days(kRetentionDays - 1);
  std::size_t pruned = 0;
  for (auto _ : state) pruned += s.lifecycle->prune_outbox(now);
  if (pruned != 0) state.SkipWithError("pruned events inside the window");
}

void BM_count_events_baseline(benchmark::State& state) {
  OutboxStore& s = full_window();
  testing::RawSqlite db(s.db_path.string());
  for (auto _ : state) benchmark::DoNotOptimize(db.text("SELECT count(*) FROM events"));
}

BENCHMARK(BM_outbox_1M_through_30_day_window)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK(BM_prune_nothing_old)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_count_events_baseline)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  if (!dpgcert::bench::initialize(argc, argv)) return 1;
  dpgcert::bench::SummaryReporter reporter;
  reporter.run();
  const double* ratio = reporter.counter("BM_outbox_1M_through_30_day_window", "after_per_before");
  const auto* nothing = reporter.find("BM_prune_nothing_old");
  const auto* count = reporter.find("BM_count_events_baseline");
  if (ratio != nullptr) {
    std::printf("store size after 1,000,000 delivered events through a 30-day retention: %.3fx its size before "
                "them (target <= 1.1x: %s)\n",
                *ratio, *ratio <= 1.1 ? "met" : "MISSED");
  }
  if (nothing != nullptr && count != nullptr) {
    std::printf("pruning with nothing old over %lld events: %.1f us; a bare count of them: %.1f us (%.3fx)\n",
                kPerDay * kRetentionDays, nothing->real_ns / 1e3, count->real_ns / 1e3, nothing->real_ns / count->real_ns);
  }
  return ratio != nullptr && *ratio <= 1.1 ? 0 : 1;
}
