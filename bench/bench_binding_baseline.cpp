// The C++ side of bench/bench_python.py: dpgcert::load_pkcs12 on the files the Python benchmark
// loads, in the process-wide Context::shared() the Python module uses, with the password made
// once (as a C++ caller would). bench_python.py runs this program between its own rounds and
// compares the Python call's time with it (target: Python at most 1.2x the C++ call).
//
//   bench_binding_baseline [--benchmark_format=json] [--benchmark_min_time=0.5]
#include "support.hpp"

#include <dpgcert/pkcs12.hpp>

#include <benchmark/benchmark.h>

#include <stdexcept>
#include <string>

namespace {

void BM_cxx_load_pkcs12(benchmark::State& state, const char* file) {
  const auto data = dpgcert::bench::read_file(dpgcert::bench::test_data() / file);
  const auto password = dpgcert::SecretBytes::from_text("Test1234");
  const dpgcert::Context& ctx = dpgcert::Context::shared();
  for (auto _ : state) {
    auto bundle = dpgcert::load_pkcs12(data, password, ctx);
    if (!bundle.leaf()) throw std::runtime_error(std::string(file) + ": no leaf");
    benchmark::DoNotOptimize(bundle);
  }
}

BENCHMARK_CAPTURE(BM_cxx_load_pkcs12, modern_2048, "oces2-prod/foces.p12")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_cxx_load_pkcs12, legacy_2048, "oces2-prod/foces-legacy.p12")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_cxx_load_pkcs12, modern_100000, "oces2-prod/voces-iter100000.p12")->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
