// Helpers for the benchmarks: finding test data, reading files, scratch folders, and a reporter
// that keeps what each benchmark measured for the program's verdict.
#pragma once

#include <dpgcert/store.hpp>
#include <dpgcert/time.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace dpgcert::bench {

/// The synthetic PKI: $DPGCERT_TEST_DATA, else build/release/testdata made on demand by
/// tests/data/make_pki.sh.
std::filesystem::path test_data();
std::vector<std::byte> read_file(const std::filesystem::path& p);

/// Options for a store in `dir` (store.db), with actor "bench" and a clock frozen at `now`.
StoreOptions store_options(const std::filesystem::path& dir, Time now);

/// Google Benchmark's own flags; false (after saying so) for an argument it does not know.
bool initialize(int& argc, char** argv);

/// A fresh private folder under the temporary directory, removed with everything in it.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

/// Google Benchmark's console output, plus what each benchmark measured, kept for the program's
/// verdict: of its single run, or the median with --benchmark_repetitions=N. Found by the
/// benchmark's name ("BM_x", or the name given to RegisterBenchmark) and, for a benchmark with
/// arguments, by name and arguments ("BM_x/2").
class SummaryReporter final : public benchmark::ConsoleReporter {
 public:
  struct Result {
    double real_ns = 0;  ///< real time per iteration
    double cpu_ns = 0;   ///< CPU time per iteration
    std::map<std::string, double> counters;
  };
  void ReportRuns(const std::vector<Run>& runs) override;
  /// Runs the benchmarks the command line selects, reporting here, and shuts Google Benchmark down.
  void run();
  /// What `name` measured, or nullptr when it did not run (filtered out, or failed).
  [[nodiscard]] const Result* find(const std::string& name) const;
  /// The counter `counter` of `name`, or nullptr.
  [[nodiscard]] const double* counter(const std::string& name, const std::string& counter) const;

 private:
  std::map<std::string, Result> results_;
};

}  // namespace dpgcert::bench
