// The store (issue 6): importing already-parsed bundles, the expiry query over a million records,
// and the bytes a certificate costs on disk. Each with a baseline measured in the same run:
//   - import: the same rows written by bare SQLite (same schema, one transaction per row, plain
//     secrets, no validation, no sealing, no lineage) - what SQLite alone costs;
//   - expiring within 30 days: the same query in bare SQLite, and a forced full scan (NOT INDEXED)
//     to show what the index is worth.
// Targets: import >= 2,000 certificates/s; "expiring within 30 days" over 1,000,000 records < 50 ms.
#include "support.hpp"

#include "../tests/store/cert_factory.hpp"
#include "../tests/store/sqlite_shim.hpp"

#include <dpgcert/store.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>

namespace {

namespace fs = std::filesystem;
using namespace dpgcert;

const Time kNow = parse_rfc3339("2025-06-01T00:00:00Z");
constexpr std::int64_t kDay = 86400;
constexpr int kImportCount = 10'000;
constexpr long long kQueryRows = 1'000'000;

using bench::TempDir;

std::uintmax_t store_bytes(const fs::path& db) {
  std::uintmax_t total = 0;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ec;
    const auto n = fs::file_size(db.string() + suffix, ec);
    if (!ec) total += n;
  }
  return total;
}

/// 10,000 distinct bundles (RSA 3072 leaves, as OCES3 issues them, of one EC test CA), their
/// PKCS#12 files (AES-256, one KDF iteration: fast to make) and passing reports, made once:
/// "already parsed" as the gateway's admin tool would hold them.
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

/// Imports into a new store: arg 0 attaches each certificate to one of 500 mailboxes in turn, so
/// from the 501st on every import also supersedes its mailbox's previous certificate (the renewal
/// case: lineage look-up, status change, link); arg 1 imports without mailboxes (no lineage).
void BM_store_import_10k(benchmark::State& state) {
  Corpus& c = corpus();
  const bool with_mailboxes = state.range(0) == 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto dir_owner = std::make_unique<TempDir>("dpgcert-bench-store");  // removed untimed, below
    const TempDir& dir = *dir_owner;
    {
      auto store = Store::create(bench::store_options(dir.path(), kNow), vault::KeySource::key_file(dir.path() / "store.key"));
      state.ResumeTiming();
      for (int i = 0; i < kImportCount; ++i) {
        ImportOptions o;
        o.report = c.reports[static_cast<std::size_t>(i)];
        if (with_mailboxes) o.mailbox = "mb" + std::to_string(i % 500) + "@kunde.dk";
        o.organisation_cvr = i % 2 == 0 ? "12345674" : "25313763";
        const ImportResult r = store->import(c.items[static_cast<std::size_t>(i)].bundle,
                                             c.items[static_cast<std::size_t>(i)].pkcs12, c.password, o);
        if (r.outcome != ImportOutcome::imported) state.SkipWithError("not imported");
      }
      state.PauseTiming();
    }
    // Closed: the WAL is checkpointed into the main file.
    state.counters["bytes_per_cert"] = static_cast<double>(store_bytes(dir.path() / "store.db")) / kImportCount;
    dir_owner.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kImportCount);
}

void BM_store_import_10k_with_validation(benchmark::State& state) {
  Corpus& c = corpus();
  const TrustAnchors anchors = TrustAnchors::from_certificates({c.factory.ca()});
  for (auto _ : state) {
    state.PauseTiming();
    auto dir_owner = std::make_unique<TempDir>("dpgcert-bench-store");  // removed untimed, below
    const TempDir& dir = *dir_owner;
    auto store = Store::create(bench::store_options(dir.path(), kNow), vault::KeySource::key_file(dir.path() / "store.key"));
    state.ResumeTiming();
    for (int i = 0; i < kImportCount; ++i) {
      ImportOptions o;
      o.validation.anchors = anchors;
      o.validation.at = kNow;
      o.force = true;  // 1-iteration PKCS#12 files and a test CA: some checks warn or fail
      const ImportResult r = store->import(c.items[static_cast<std::size_t>(i)].bundle,
                                           c.items[static_cast<std::size_t>(i)].pkcs12, c.password, o);
      if (r.outcome != ImportOutcome::imported) state.SkipWithError("not imported");
    }
    state.PauseTiming();
    store.reset();  // checkpointed into the main file
    // With full validation reports stored, as imports by the tool store them.
    state.counters["bytes_per_cert"] = static_cast<double>(store_bytes(dir.path() / "store.db")) / kImportCount;
    dir_owner.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kImportCount);
}

/// Baseline: the same rows through bare SQLite, in the store's own schema, one transaction per
/// certificate (its row, its secret row in plain, one audit line).
void BM_sqlite_insert_10k_baseline(benchmark::State& state) {
  Corpus& c = corpus();
  for (auto _ : state) {
    state.PauseTiming();
    auto dir_owner = std::make_unique<TempDir>("dpgcert-bench-store");  // removed untimed, below
    const TempDir& dir = *dir_owner;
    (void)Store::create(bench::store_options(dir.path(), kNow), vault::KeySource::key_file(dir.path() / "store.key"));
    {
      testing::RawSqlite db((dir.path() / "store.db").string());
      // The store's own connection settings.
      db.exec("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 10000;"
              "PRAGMA mmap_size = 268435456; PRAGMA cache_size = -16384;");
      testing::RawSqlite::Statement cert(db,
          "INSERT INTO certificates (id, fingerprint, status, status_changed_at, lineage_id, generation, type, "
          "environment, cvr, subject, issuer, serial, not_before, not_after, key_algorithm, key_bits, "
          "pkcs12_legacy, validation_verdict, forced, source, added_at, added_by) "
          "VALUES (?1, ?2, 'active', 0, ?1, 'oces2', 'foces', 'production', '12345674', ?3, ?4, ?5, ?6, ?7, 'EC', "
          "256, 0, 'pass', 0, 'bench', 0, 'bench')");
      testing::RawSqlite::Statement docs(db,
          "INSERT INTO certificate_documents (certificate_id, der, pkcs12_profile, validation_report) "
          "VALUES (?, ?, '{}', '{}')");
      testing::RawSqlite::Statement secret(db,
          "INSERT INTO secrets (certificate_id, pkcs12_key, pkcs12, password_key, password) VALUES (?, x'00', ?, x'00', ?)");
      testing::RawSqlite::Statement audit(db,
          "INSERT INTO audit_log (at, actor, action, object_kind, object_key) VALUES (0, 'bench', 'certificate.import', "
          "'certificate', ?)");
      state.ResumeTiming();
      for (int i = 0; i < kImportCount; ++i) {
        const auto& m = c.items[static_cast<std::size_t>(i)];
        const Certificate& leaf = m.certificate;
        db.exec("BEGIN IMMEDIATE");
        const std::string fp = leaf.fingerprint_hex();
        cert.bind(1, i + 1);
        cert.bind(2, fp);
        cert.bind(3, leaf.subject().to_string());
        cert.bind(4, leaf.issuer().to_string());
        cert.bind(5, leaf.serial_hex());
        cert.bind(6, to_unix(leaf.not_before()));
        cert.bind(7, to_unix(leaf.not_after()));
        cert.step();
        cert.reset();
        docs.bind(1, i + 1);
        docs.bind(2, leaf.der().data(), leaf.der().size());
        docs.step();
        docs.reset();
        secret.bind(1, i + 1);
        secret.bind(2, m.pkcs12.data(), m.pkcs12.size());
        secret.bind(3, c.password.data(), c.password.size());
        secret.step();
        secret.reset();
        audit.bind(1, fp);
        audit.step();
        audit.reset();
        db.exec("COMMIT");
      }
      state.PauseTiming();
    }
    state.counters["bytes_per_cert"] = static_cast<double>(store_bytes(dir.path() / "store.db")) / kImportCount;
    dir_owner.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kImportCount);
}

/// A store with a million certificate records, filled once by a bench-only bulk path (INSERT ...
/// SELECT in one transaction, straight into the store's schema; no secrets). not_after is spread
/// evenly over four years around "now" (a fixed hash of the id); expired records are superseded
/// except one in a thousand, so about 2% of the records are active and end within 30 days.
struct MillionStore {
  TempDir dir{"dpgcert-bench-store"};
  std::unique_ptr<Store> store;
  double fill_seconds = 0;
  MillionStore() {
    store = Store::create(bench::store_options(dir.path(), kNow), vault::KeySource::key_file(dir.path() / "store.key"));
    const auto t0 = std::chrono::steady_clock::now();
    testing::RawSqlite db((dir.path() / "store.db").string());
    const std::string now = std::to_string(to_unix(kNow));
    const std::string base = std::to_string(to_unix(kNow) - 365 * kDay);
    const std::string span = std::to_string(4 * 365 * kDay);
    // na is a pure function of i: SQLite may evaluate the expression once per use.
    const std::string na = "(" + base + " + (i * 2654435761) % " + span + ")";
    db.exec("PRAGMA synchronous = OFF; BEGIN;"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + std::to_string(kQueryRows) + ")"
            " INSERT INTO certificates (id, fingerprint, status, status_changed_at, lineage_id, generation, type,"
            " environment, cvr, oces_id_kind, oces_id, common_name, organisation_name, subject, issuer, serial,"
            " not_before, not_after, key_algorithm, key_bits, pkcs12_legacy, validation_verdict, forced, source,"
            " added_at, added_by)"
            " SELECT i, printf('%064x', i),"
            " CASE WHEN " + na + " < " + now + " AND i % 1000 <> 0 THEN 'superseded' ELSE 'active' END,"
            " 0, i, 'oces2', 'foces', 'production', printf('%08d', 10000000 + i % 50000), 'fid', printf('%d', i),"
            " printf('Sikker post %d', i), 'Kunde A/S',"
            " printf('CN=Sikker post %d+serialNumber=CVR:%08d-FID:%d,O=Kunde A/S // CVR:%08d,C=DK', i, 10000000 + i % 50000, i, 10000000 + i % 50000),"
            " 'CN=TRUST2408 OCES CA V,O=TRUST2408,C=DK', printf('%x', i), " + na + " - 1095 * 86400, " + na + ","
            " 'RSA', 2048, 0, 'pass', 0, 'bench-bulk', 0, 'bench'"
            " FROM n;"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + std::to_string(kQueryRows) + ")"
            " INSERT INTO certificate_documents (certificate_id, der, pkcs12_profile, validation_report)"
            " SELECT i, randomblob(1200), '{}', '{}' FROM n;"
            "COMMIT; ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);");  // steady state: the WAL copied back
    fill_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
};

MillionStore& million() {
  static MillionStore m;
  return m;
}

void BM_store_expiring_30_days_1M(benchmark::State& state) {
  MillionStore& m = million();
  const auto q = CertificateQuery::expiring_before(kNow + std::chrono::days(30));
  std::size_t rows = 0;
  for (auto _ : state) {
    const auto r = m.store->query(q);  // every row, each a CertificateSummary
    rows = r.size();
    benchmark::DoNotOptimize(r.data());
  }
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["fill_s"] = m.fill_seconds;
  std::string plan = m.store->query_plan(q);
  std::replace(plan.begin(), plan.end(), '\n', ';');
  state.SetLabel(plan);
}

void BM_store_expiring_30_days_1M_count(benchmark::State& state) {
  MillionStore& m = million();
  const auto q = CertificateQuery::expiring_before(kNow + std::chrono::days(30));
  for (auto _ : state) benchmark::DoNotOptimize(m.store->count(q));
}

void BM_store_expiring_30_days_1M_first_page(benchmark::State& state) {
  MillionStore& m = million();
  auto q = CertificateQuery::expiring_before(kNow + std::chrono::days(30));
  q.limit = 100;
  for (auto _ : state) benchmark::DoNotOptimize(m.store->query(q).size());
}

/// Baseline: the same rows and columns by bare SQLite.
void BM_sqlite_expiring_30_days_1M_baseline(benchmark::State& state) {
  MillionStore& m = million();
  testing::RawSqlite db((m.dir.path() / "store.db").string());
  testing::RawSqlite::Statement st(db,
      "SELECT c.id, c.fingerprint, c.status, c.not_before, c.not_after, o.cvr, mb.address, c.cvr, c.generation, "
      "c.type, c.environment, c.oces_id, c.common_name FROM certificates c "
      "LEFT JOIN organisations o ON o.id = c.organisation_id LEFT JOIN mailboxes mb ON mb.id = c.mailbox_id "
      "WHERE c.status = 'active' AND c.not_after < ? ORDER BY c.not_after, c.fingerprint");
  std::size_t rows = 0;
  for (auto _ : state) {
    st.bind(1, to_unix(kNow) + 30 * kDay);
    rows = 0;
    while (st.step()) {
      benchmark::DoNotOptimize(st.text(1));
      benchmark::DoNotOptimize(st.text(11));
      ++rows;
    }
    st.reset();
  }
  state.counters["rows"] = static_cast<double>(rows);
}

/// Baseline: what the query would cost without its index (a scan of every record).
void BM_sqlite_expiring_30_days_1M_full_scan(benchmark::State& state) {
  MillionStore& m = million();
  testing::RawSqlite db((m.dir.path() / "store.db").string());
  testing::RawSqlite::Statement st(db,
      "SELECT c.id, c.fingerprint, c.not_after FROM certificates c NOT INDEXED "
      "WHERE c.status = 'active' AND c.not_after < ?");
  for (auto _ : state) {
    st.bind(1, to_unix(kNow) + 30 * kDay);
    std::size_t rows = 0;
    while (st.step()) ++rows;
    st.reset();
    benchmark::DoNotOptimize(rows);
  }
}

BENCHMARK(BM_sqlite_insert_10k_baseline)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_store_import_10k)->Arg(0)->Arg(1)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_store_import_10k_with_validation)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_sqlite_expiring_30_days_1M_baseline)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_store_expiring_30_days_1M)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_store_expiring_30_days_1M_count)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_store_expiring_30_days_1M_first_page)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_sqlite_expiring_30_days_1M_full_scan)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
