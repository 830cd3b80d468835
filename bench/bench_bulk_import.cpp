// Bulk onboarding (issues 8 and 20): import_files() of 1,000 modern PKCS#12 files into a new store,
// on one worker thread and on two, against the key-derivation floor of the same files measured in
// the same run (every PBKDF2 / PKCS#12-KDF derivation the files require, nothing else, on as many
// threads). Targets: two workers at least 1.7x faster than one on this 2-core machine (issue 8);
// two workers at least 800 files/s (issue 20; on a loaded machine read the ratio to the floor).
// Each file: RSA 3072 leaf of an EC test CA, AES-256-CBC/PBKDF2-HMAC-SHA256 with 2,048 iterations
// and a SHA-256 MAC (what `openssl pkcs12 -export` writes by default), read from disk, opened,
// validated against the CA and stored with its password sealed.
#include "kdf_floor.hpp"
#include "support.hpp"

#include "../tests/store/cert_factory.hpp"

#include <dpgcert/bulk_import.hpp>
#include <dpgcert/store.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <thread>

namespace {

namespace fs = std::filesystem;
using namespace dpgcert;

const Time kNow = parse_rfc3339("2025-06-01T00:00:00Z");
constexpr std::int64_t kDay = 86400;
constexpr int kFiles = 1'000;
constexpr const char* kPassword = "Bench-Password-1";

using bench::TempDir;

/// 1,000 distinct PKCS#12 files on disk, made once.
struct Corpus {
  TempDir dir{"dpgcert-bench-bulk"};
  testing::CertFactory factory{3072};
  std::vector<fs::path> files;
  /// Each file's key derivations, read from the file before any timing.
  std::vector<std::vector<bench::kdf::KdfStep>> kdf;
  Corpus() {
    const SecretBytes password = SecretBytes::from_text(kPassword);
    Pkcs12WriteOptions w = Pkcs12WriteOptions::modern();
    w.iterations = 2048;
    w.mac_iterations = 2048;
    for (int i = 0; i < kFiles; ++i) {
      const auto spec = testing::foces_spec("12345674", std::to_string(20000000 + i), to_unix(kNow) - 400 * kDay,
                                            to_unix(kNow) + (200 + i) * kDay);
      const Certificate leaf = factory.leaf(spec);
      const auto bytes = write_pkcs12(factory.bundle(leaf), password, w);
      files.push_back(dir.path() / ("kunde-" + std::to_string(i) + ".p12"));
      std::ofstream(files.back(), std::ios::binary)
          .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
      kdf.push_back(bench::kdf::kdf_steps(bytes, kPassword));
    }
  }
};

Corpus& corpus() {
  static Corpus c;
  return c;
}

/// The floor: only the key derivations of the 1,000 files, shared out to `threads` threads the way
/// import_files() shares out the files (the calling thread is one of them).
void BM_kdf_floor_1000(benchmark::State& state) {
  Corpus& c = corpus();
  const auto threads = static_cast<unsigned>(state.range(0));
  for (auto _ : state) {
    std::atomic<std::size_t> next{0};
    auto work = [&] {
      for (std::size_t i = next.fetch_add(1); i < c.kdf.size(); i = next.fetch_add(1)) {
        bench::kdf::run_floor(c.kdf[i], kPassword);
      }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kFiles);
  state.counters["threads"] = threads;
  state.SetLabel(std::to_string(c.kdf.front().size()) + " derivations per file");
}

void BM_bulk_import_1000(benchmark::State& state) {
  Corpus& c = corpus();
  const auto threads = static_cast<unsigned>(state.range(0));
  BulkImportOptions o;
  o.threads = threads;
  o.defaults.validation.at = kNow;
  o.defaults.validation.anchors = TrustAnchors::from_certificates({c.factory.ca()});
  o.defaults.force = true;  // a test CA: the OCES profile checks fail, and every file should be stored
  std::size_t imported = 0;
  for (auto _ : state) {
    state.PauseTiming();
    TempDir store_dir{"dpgcert-bench-bulk"};
    StoreOptions so;
    so.path = store_dir.path() / "store.db";
    so.actor = "bench";
    so.clock = std::make_shared<FixedClock>(kNow);
    auto store = Store::create(std::move(so), vault::KeySource::key_file(store_dir.path() / "store.key"));
    std::vector<BulkImportItem> items(c.files.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
      items[i].path = c.files[i];
      items[i].password = SecretBytes::from_text(kPassword);
    }
    state.ResumeTiming();
    const auto results = import_files(*store, std::move(items), o);
    state.PauseTiming();
    imported = 0;
    for (const auto& r : results) imported += r.import && r.import->outcome == ImportOutcome::imported ? 1 : 0;
    if (imported != c.files.size()) state.SkipWithError("not every file was imported");
    store.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kFiles);
  state.counters["threads"] = threads;
}

// Floor and import alternate (floor/1, import/1, floor/2, import/2) so that each pair sees about
// the same load on a shared machine.
BENCHMARK(BM_kdf_floor_1000)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_bulk_import_1000)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_kdf_floor_1000)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_bulk_import_1000)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace

int main(int argc, char** argv) {
  if (!dpgcert::bench::initialize(argc, argv)) return 1;
  std::printf("key derivations of each file:\n");
  for (const auto& step : corpus().kdf.front()) std::printf("  %s\n", step.what.c_str());
  std::fflush(stdout);
  dpgcert::bench::SummaryReporter reporter;
  reporter.run();
  const auto* one_run = reporter.find("BM_bulk_import_1000/1");
  const auto* two_run = reporter.find("BM_bulk_import_1000/2");
  const auto* floor_one = reporter.find("BM_kdf_floor_1000/1");
  const auto* floor_two = reporter.find("BM_kdf_floor_1000/2");
  if (one_run == nullptr || two_run == nullptr) return 0;
  const double one = one_run->real_ns / 1e6;  // ms
  const double two = two_run->real_ns / 1e6;
  const double speedup = one / two;
  const double rate = kFiles / two * 1e3;
  std::printf("\nimport of %d files: 1 worker %.0f ms (%.0f files/s), 2 workers %.0f ms (%.0f files/s)\n", kFiles, one,
              kFiles / one * 1e3, two, rate);
  if (floor_one != nullptr && floor_two != nullptr) {
    const double f1 = floor_one->real_ns / 1e6;
    const double f2 = floor_two->real_ns / 1e6;
    std::printf("key-derivation floor of the same files: 1 thread %.0f ms (%.0f files/s), 2 threads %.0f ms "
                "(%.0f files/s)\n",
                f1, kFiles / f1 * 1e3, f2, kFiles / f2 * 1e3);
    std::printf("import / floor (time): 1 worker %.2fx, 2 workers %.2fx; beyond the floor per file: %.0f us "
                "(1 worker), %.0f us of each of 2 workers\n",
                one / f1, two / f2, (one - f1) * 1e3 / kFiles, (two - f2) * 2e3 / kFiles);
  }
  const bool scaled = speedup >= 1.7;
  const bool fast = rate >= 800;
  std::printf("speed-up 2 workers / 1: %.2fx (target >= 1.7x on 2 cores; this machine has %u) -> %s\n", speedup,
              std::thread::hardware_concurrency(), scaled ? "met" : "MISSED");
  std::printf("2 workers: %.0f files/s (target >= 800 files/s) -> %s\n", rate, fast ? "met" : "MISSED");
  return scaled && fast ? 0 : 1;
}
