#include "support.hpp"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <iterator>
#include <stdexcept>

namespace dpgcert::bench {

std::filesystem::path test_data() {
  if (const char* env = std::getenv("DPGCERT_TEST_DATA"); env != nullptr && *env != '\0') return env;
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "dpgcert-bench-pki";
  const std::string cmd = "bash '" DPGCERT_SOURCE_DIR "/tests/data/make_pki.sh' '" + dir.string() + "' >/dev/null";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("cannot make the synthetic PKI: " + cmd);
  return dir;
}

std::vector<std::byte> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::vector<char> c((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(c.size());
  for (std::size_t i = 0; i < c.size(); ++i) out[i] = static_cast<std::byte>(c[i]);
  return out;
}

TempDir::TempDir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

StoreOptions store_options(const std::filesystem::path& dir, Time now) {
  StoreOptions o;
  o.path = dir / "store.db";
  o.actor = "bench";
  o.clock = std::make_shared<FixedClock>(now);
  return o;
}

bool initialize(int& argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  return !benchmark::ReportUnrecognizedArguments(argc, argv);
}

void SummaryReporter::run() {
  benchmark::RunSpecifiedBenchmarks(this);
  benchmark::Shutdown();
}

void SummaryReporter::ReportRuns(const std::vector<Run>& runs) {
  ConsoleReporter::ReportRuns(runs);
  for (const auto& r : runs) {
    const bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
    const bool single = r.run_type == Run::RT_Iteration && r.repetitions <= 1;
    if (r.error_occurred || !(median || single)) continue;
    const double to_ns = 1e9 / benchmark::GetTimeUnitMultiplier(r.time_unit);
    Result result{r.GetAdjustedRealTime() * to_ns, r.GetAdjustedCPUTime() * to_ns, {}};
    for (const auto& [name, c] : r.counters) result.counters[name] = c.value;
    results_[r.run_name.function_name] = result;
    if (!r.run_name.args.empty()) results_[r.run_name.function_name + "/" + r.run_name.args] = result;
  }
}

const SummaryReporter::Result* SummaryReporter::find(const std::string& name) const {
  const auto it = results_.find(name);
  return it == results_.end() ? nullptr : &it->second;
}

const double* SummaryReporter::counter(const std::string& name, const std::string& counter) const {
  const Result* r = find(name);
  if (r == nullptr) return nullptr;
  const auto it = r->counters.find(counter);
  return it == r->counters.end() ? nullptr : &it->second;
}

}  // namespace dpgcert::bench
