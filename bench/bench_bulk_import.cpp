// Bulk onboarding (issue 8): import_files() of 1,000 modern PKCS#12 files into a new store, on one
// worker thread (the baseline) and on two. Target: two threads at least 1.7x faster than one on
// this 2-core machine. Each file: RSA 3072 leaf of an EC test CA, AES-256-CBC/PBKDF2-HMAC-SHA256
// with 2,048 iterations and a SHA-256 MAC (what `openssl pkcs12 -export` writes by default), read
// from disk, opened, validated against the CA and stored with its password sealed.
#include "support.hpp"

#include "../tests/store/cert_factory.hpp"

#include <dpgcert/bulk_import.hpp>
#include <dpgcert/store.hpp>

#include <benchmark/benchmark.h>

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

using bench::TempDir;

/// 1,000 distinct PKCS#12 files on disk, made once.
struct Corpus {
  TempDir dir{"dpgcert-bench-bulk"};
  testing::CertFactory factory{3072};
  std::vector<fs::path> files;
  Corpus() {
    const SecretBytes password = SecretBytes::from_text("Bench-Password-1");
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
    }
  }
};

Corpus& corpus() {
  static Corpus c;
  return c;
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
      items[i].password = SecretBytes::from_text("Bench-Password-1");
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

BENCHMARK(BM_bulk_import_1000)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace

int main(int argc, char** argv) {
  if (!dpgcert::bench::initialize(argc, argv)) return 1;
  dpgcert::bench::SummaryReporter reporter;
  reporter.run();
  const auto* one_run = reporter.find("BM_bulk_import_1000/1");
  const auto* two_run = reporter.find("BM_bulk_import_1000/2");
  if (one_run == nullptr || two_run == nullptr) return 0;
  const double one = one_run->real_ns / 1e6;  // ms
  const double two = two_run->real_ns / 1e6;
  const double speedup = one / two;
  std::printf("\nimport of %d files: 1 thread %.0f ms (%.0f files/s), 2 threads %.0f ms (%.0f files/s); "
              "speed-up %.2fx (target >= 1.7x on 2 cores; this machine has %u) -> %s\n",
              kFiles, one, kFiles / one * 1e3, two, kFiles / two * 1e3, speedup,
              std::thread::hardware_concurrency(), speedup >= 1.7 ? "met" : "MISSED");
  return speedup >= 1.7 ? 0 : 1;
}
