// Loading a PKCS#12 file: dpgcert's load_pkcs12 against the key-derivation work alone that the file
// requires (the "KDF floor", computed here with OpenSSL's KDF functions from the file's own
// parameters), with OpenSSL's PKCS12_parse for reference. Target (issue 3): load_pkcs12 at most
// 1.15x its floor. After the runs the program prints the ratios and exits 1 if a target is missed.
//
// The floor of a file is every key derivation a reader cannot avoid:
//   * the MAC key: the PKCS#12 KDF (ID 3) with the MAC's digest, salt and iterations;
//   * each PBES2 container or shrouded key bag: PBKDF2 with its PRF, salt, iterations, key length;
//   * each PKCS#12-PBE (RC2, 3DES, RC4) container or bag: the PKCS#12 KDF for key (ID 1) and IV (ID 2).
// The parameters are read once from the file with OpenSSL's PKCS12 API, before any timing.
#include "kdf_floor.hpp"
#include "support.hpp"

#include <dpgcert/pkcs12.hpp>

#include <benchmark/benchmark.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr const char* kPassword = "Test1234";

struct File {
  const char* label;
  const char* path;  // under test_data()
};
constexpr File kFiles[] = {
    {"modern_2048", "oces2-prod/foces.p12"},
    {"modern_100000", "oces2-prod/voces-iter100000.p12"},
    {"legacy_2048", "oces2-prod/foces-legacy.p12"},
};

using dpgcert::bench::kdf::decode_in_libctx;
using dpgcert::bench::kdf::KdfStep;

std::vector<KdfStep> kdf_steps(const std::vector<std::byte>& data) { return dpgcert::bench::kdf::kdf_steps(data, kPassword); }
void run_floor(const std::vector<KdfStep>& steps) { dpgcert::bench::kdf::run_floor(steps, kPassword); }

const dpgcert::Context& dpgcert_context() {
  static const dpgcert::Context ctx;
  return ctx;
}

void BM_kdf_floor(benchmark::State& state, std::vector<std::byte> data) {
  const auto steps = kdf_steps(data);
  for (auto _ : state) run_floor(steps);
  state.SetLabel(std::to_string(steps.size()) + " derivations");
}

void BM_dpgcert_load_pkcs12(benchmark::State& state, std::vector<std::byte> data) {
  const auto password = dpgcert::SecretBytes::from_text(kPassword);
  const auto& ctx = dpgcert_context();
  for (auto _ : state) {
    auto bundle = dpgcert::load_pkcs12(data, password, ctx);
    if (!bundle.leaf() || bundle.private_key() == nullptr || bundle.chain().size() != 2) {
      state.SkipWithError("load_pkcs12: unexpected bundle");
      break;
    }
    benchmark::DoNotOptimize(bundle);
  }
}

double thread_cpu_us() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

/// The floor and load_pkcs12 alternately in each iteration, each timed in thread CPU time: the
/// ratio of the sums is robust against the machine's load drifting between separate runs.
void BM_paired_load_over_floor(benchmark::State& state, std::vector<std::byte> data) {
  const auto steps = kdf_steps(data);
  const auto password = dpgcert::SecretBytes::from_text(kPassword);
  const auto& ctx = dpgcert_context();
  double floor_us = 0;
  double load_us = 0;
  for (auto _ : state) {
    const double t0 = thread_cpu_us();
    run_floor(steps);
    const double t1 = thread_cpu_us();
    auto bundle = dpgcert::load_pkcs12(data, password, ctx);
    const double t2 = thread_cpu_us();
    benchmark::DoNotOptimize(bundle);
    floor_us += t1 - t0;
    load_us += t2 - t1;
  }
  state.counters["load_over_floor"] = load_us / floor_us;
}

void BM_OpenSSL_PKCS12_parse(benchmark::State& state, std::vector<std::byte> data) {
  for (auto _ : state) {
    PKCS12* p12 = decode_in_libctx(data);
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    STACK_OF(X509)* ca = nullptr;
    const int ok = PKCS12_parse(p12, kPassword, &key, &cert, &ca);
    if (ok != 1 || key == nullptr || cert == nullptr) {
      state.SkipWithError("PKCS12_parse failed");
      break;
    }
    benchmark::DoNotOptimize(key);
    EVP_PKEY_free(key);
    X509_free(cert);
    sk_X509_pop_free(ca, X509_free);
    PKCS12_free(p12);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (!dpgcert::bench::initialize(argc, argv)) return 1;
  const auto dir = dpgcert::bench::test_data();
  for (const File& f : kFiles) {
    const auto data = dpgcert::bench::read_file(dir / f.path);
    std::printf("%s (%s) key derivations:\n", f.label, f.path);
    for (const auto& s : kdf_steps(data)) std::printf("  %s\n", s.what.c_str());
    const std::string l = f.label;
    benchmark::RegisterBenchmark(("kdf_floor/" + l).c_str(), BM_kdf_floor, data)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("dpgcert_load_pkcs12/" + l).c_str(), BM_dpgcert_load_pkcs12, data)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("OpenSSL_PKCS12_parse/" + l).c_str(), BM_OpenSSL_PKCS12_parse, data)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("paired_load_over_floor/" + l).c_str(), BM_paired_load_over_floor, data)
        ->Unit(benchmark::kMicrosecond);
  }
  std::fflush(stdout);
  dpgcert::bench::SummaryReporter reporter;
  reporter.run();

  bool ok = true;
  std::printf("\nratios to the KDF floor (CPU time; real time in brackets); target load_pkcs12 <= 1.15x\n");
  for (const File& f : kFiles) {
    const std::string l = f.label;
    const auto* floor = reporter.find("kdf_floor/" + l);
    const auto* load = reporter.find("dpgcert_load_pkcs12/" + l);
    const auto* ossl = reporter.find("OpenSSL_PKCS12_parse/" + l);
    const double* paired = reporter.counter("paired_load_over_floor/" + l, "load_over_floor");
    if (floor == nullptr) continue;
    std::printf("%-14s floor %9.1f us", f.label, floor->cpu_ns / 1e3);
    if (load != nullptr) {
      std::printf(" | load_pkcs12 %9.1f us %.3fx [%.3fx]", load->cpu_ns / 1e3, load->cpu_ns / floor->cpu_ns,
                  load->real_ns / floor->real_ns);
    }
    if (ossl != nullptr) {
      std::printf(" | PKCS12_parse %9.1f us %.3fx [%.3fx]", ossl->cpu_ns / 1e3, ossl->cpu_ns / floor->cpu_ns,
                  ossl->real_ns / floor->real_ns);
    }
    // The verdict uses the paired ratio (floor and load alternating in one loop) when it ran.
    double verdict = load != nullptr ? load->cpu_ns / floor->cpu_ns : 0;
    if (paired != nullptr) {
      verdict = *paired;
      std::printf(" | paired %.3fx", verdict);
    }
    const bool met = verdict <= 1.15;
    ok = ok && met;
    std::printf(" -> %s\n", met ? "met" : "MISSED");
  }
  return ok ? 0 : 1;
}
