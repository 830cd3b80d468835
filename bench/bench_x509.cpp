// DER parsing of a certificate: dpgcert's Certificate::from_der against bare d2i_X509.
// Target (issue 3): dpgcert at least 0.8x the rate of bare d2i_X509. Two certificates: the
// OCES3-like organisation certificate (RSA 3072) and the leaf of oces2-prod/foces.p12 (RSA 2048, the
// certificate of the PKCS#12 files bench_pkcs12 loads). After the runs the program prints the rate
// ratios and exits 1 if the target is missed.
#include "support.hpp"

#include <dpgcert/pkcs12.hpp>
#include <dpgcert/x509.hpp>

#include <benchmark/benchmark.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <string>

namespace {

std::vector<std::byte> leaf_der() {
  static const std::vector<std::byte> der = [] {
    // The OCES3-like organisation certificate (RSA 3072) of the synthetic PKI, as DER.
    std::vector<std::filesystem::path> found;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dpgcert::bench::test_data())) {
      if (e.path().extension() == ".pem" && e.path().string().find(".crt") != std::string::npos) found.push_back(e.path());
    }
    std::sort(found.begin(), found.end());
    for (const auto& p : found) {
      const auto certs = dpgcert::load_certificates(dpgcert::bench::read_file(p));
      for (const auto& c : certs) {
        if (!c.is_ca() && c.subject().first("organizationIdentifier")) {
          return std::vector<std::byte>(c.der().begin(), c.der().end());
        }
      }
    }
    throw std::runtime_error("no OCES3-like leaf in the synthetic PKI");
  }();
  return der;
}

std::vector<std::byte> foces_leaf_der() {
  static const std::vector<std::byte> der = [] {
    const auto bundle = dpgcert::load_pkcs12(dpgcert::bench::read_file(dpgcert::bench::test_data() / "oces2-prod/foces.p12"),
                                             dpgcert::SecretBytes::from_text("Test1234"));
    const auto d = bundle.leaf().value().der();
    return std::vector<std::byte>(d.begin(), d.end());
  }();
  return der;
}

void run_d2i(benchmark::State& state, const std::vector<std::byte>& der) {
  for (auto _ : state) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
    benchmark::DoNotOptimize(x);
    X509_free(x);
  }
  state.SetItemsProcessed(state.iterations());
}

void run_from_der(benchmark::State& state, const std::vector<std::byte>& der) {
  const auto& ctx = dpgcert::Context::shared();
  for (auto _ : state) {
    auto cert = dpgcert::Certificate::from_der(der, ctx);
    benchmark::DoNotOptimize(cert);
  }
  state.SetItemsProcessed(state.iterations());
}

double thread_cpu_us() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

/// d2i_X509 and from_der alternately in each iteration, each timed in thread CPU time: the rate
/// ratio of the sums is robust against the machine's load drifting between separate runs.
void run_paired(benchmark::State& state, const std::vector<std::byte>& der) {
  const auto& ctx = dpgcert::Context::shared();
  double d2i_us = 0;
  double mine_us = 0;
  for (auto _ : state) {
    const double t0 = thread_cpu_us();
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
    benchmark::DoNotOptimize(x);
    X509_free(x);
    const double t1 = thread_cpu_us();
    auto cert = dpgcert::Certificate::from_der(der, ctx);
    benchmark::DoNotOptimize(cert);
    const double t2 = thread_cpu_us();
    d2i_us += t1 - t0;
    mine_us += t2 - t1;
  }
  state.counters["rate_ratio"] = d2i_us / mine_us;
}

void BM_d2i_X509_baseline(benchmark::State& state) { run_d2i(state, leaf_der()); }
void BM_dpgcert_from_der(benchmark::State& state) { run_from_der(state, leaf_der()); }
void BM_d2i_X509_baseline_foces(benchmark::State& state) { run_d2i(state, foces_leaf_der()); }
void BM_dpgcert_from_der_foces(benchmark::State& state) { run_from_der(state, foces_leaf_der()); }

void BM_paired(benchmark::State& state) { run_paired(state, leaf_der()); }
void BM_paired_foces(benchmark::State& state) { run_paired(state, foces_leaf_der()); }

BENCHMARK(BM_d2i_X509_baseline)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_dpgcert_from_der)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_d2i_X509_baseline_foces)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_dpgcert_from_der_foces)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_paired)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_paired_foces)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  if (!dpgcert::bench::initialize(argc, argv)) return 1;
  dpgcert::bench::SummaryReporter reporter;
  reporter.run();
  bool ok = true;
  std::printf("\nfrom_der rate / d2i_X509 rate (CPU time; real time in brackets); target >= 0.8\n");
  const auto summary = [&](const char* what, const char* base, const char* mine, const char* pair) {
    const auto* b = reporter.find(base);
    const auto* m = reporter.find(mine);
    const double* p = reporter.counter(pair, "rate_ratio");
    if (b == nullptr || m == nullptr) return;
    // The verdict uses the paired ratio (both parsers alternating in one loop) when it ran.
    const double rate = p != nullptr ? *p : b->cpu_ns / m->cpu_ns;
    ok = ok && rate >= 0.8;
    std::printf("%-22s d2i_X509 %7.1f us | from_der %7.1f us | rate %.3f [%.3f]", what, b->cpu_ns / 1e3,
                m->cpu_ns / 1e3, b->cpu_ns / m->cpu_ns, b->real_ns / m->real_ns);
    if (p != nullptr) std::printf(" | paired %.3f", *p);
    std::printf(" -> %s\n", rate >= 0.8 ? "met" : "MISSED");
  };
  summary("OCES3 org (RSA 3072)", "BM_d2i_X509_baseline", "BM_dpgcert_from_der", "BM_paired");
  summary("foces leaf (RSA 2048)", "BM_d2i_X509_baseline_foces", "BM_dpgcert_from_der_foces", "BM_paired_foces");
  return ok ? 0 : 1;
}
