// DER parsing of a certificate: dpgcert's Certificate::from_der against bare d2i_X509.
// Targets: from_der alone at least 0.8x the rate of bare d2i_X509 (issue 3); from_der + notAfter +
// subject text + SHA-256 fingerprint at least 4x the rate of d2i_X509 + X509_get0_notAfter (read
// with ASN1_TIME_to_tm) + X509_NAME_print_ex (RFC 2253) + X509_digest (issue 20). Two
// certificates: the OCES3-like organisation certificate (RSA 3072) and the leaf of
// oces2-prod/foces.p12 (RSA 2048, the certificate of the PKCS#12 files bench_pkcs12 loads). After
// the runs the program prints the rate ratios and exits 1 if a target is missed.
#include "support.hpp"

#include <dpgcert/pkcs12.hpp>
#include <dpgcert/x509.hpp>

#include <benchmark/benchmark.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <stdexcept>
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

/// What a caller of OpenSSL does to show a certificate: parse, notAfter, subject text, fingerprint.
std::size_t openssl_accessors(const std::vector<std::byte>& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (x == nullptr) throw std::runtime_error("d2i_X509 failed");
  std::tm tm{};
  ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm);
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, X509_get_subject_name(x), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* text = nullptr;
  const long n = BIO_get_mem_data(bio, &text);
  std::string subject(text, static_cast<std::size_t>(n));
  BIO_free(bio);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  X509_digest(x, EVP_sha256(), md, &mdlen);
  X509_free(x);
  return subject.size() + mdlen + static_cast<std::size_t>(tm.tm_year);
}

/// The same with dpgcert.
std::size_t dpgcert_accessors(const std::vector<std::byte>& der, const dpgcert::Context& ctx) {
  const auto cert = dpgcert::Certificate::from_der(der, ctx);
  const auto not_after = cert.not_after();
  const std::string subject = cert.subject().to_string();
  const auto& fp = cert.fingerprint_sha256();
  return subject.size() + fp.size() + static_cast<std::size_t>(dpgcert::to_unix(not_after) & 1);
}

void run_openssl_accessors(benchmark::State& state, const std::vector<std::byte>& der) {
  for (auto _ : state) benchmark::DoNotOptimize(openssl_accessors(der));
  state.SetItemsProcessed(state.iterations());
}

void run_dpgcert_accessors(benchmark::State& state, const std::vector<std::byte>& der) {
  const auto& ctx = dpgcert::Context::shared();
  for (auto _ : state) benchmark::DoNotOptimize(dpgcert_accessors(der, ctx));
  state.SetItemsProcessed(state.iterations());
}

/// Both alternately, each timed in thread CPU time (as run_paired).
void run_paired_accessors(benchmark::State& state, const std::vector<std::byte>& der) {
  const auto& ctx = dpgcert::Context::shared();
  double openssl_us = 0;
  double mine_us = 0;
  for (auto _ : state) {
    const double t0 = thread_cpu_us();
    benchmark::DoNotOptimize(openssl_accessors(der));
    const double t1 = thread_cpu_us();
    benchmark::DoNotOptimize(dpgcert_accessors(der, ctx));
    const double t2 = thread_cpu_us();
    openssl_us += t1 - t0;
    mine_us += t2 - t1;
  }
  state.counters["rate_ratio"] = openssl_us / mine_us;
}

void BM_d2i_X509_baseline(benchmark::State& state) { run_d2i(state, leaf_der()); }
void BM_dpgcert_from_der(benchmark::State& state) { run_from_der(state, leaf_der()); }
void BM_d2i_X509_baseline_foces(benchmark::State& state) { run_d2i(state, foces_leaf_der()); }
void BM_dpgcert_from_der_foces(benchmark::State& state) { run_from_der(state, foces_leaf_der()); }

void BM_paired(benchmark::State& state) { run_paired(state, leaf_der()); }
void BM_paired_foces(benchmark::State& state) { run_paired(state, foces_leaf_der()); }

void BM_openssl_accessors(benchmark::State& state) { run_openssl_accessors(state, leaf_der()); }
void BM_dpgcert_accessors(benchmark::State& state) { run_dpgcert_accessors(state, leaf_der()); }
void BM_openssl_accessors_foces(benchmark::State& state) { run_openssl_accessors(state, foces_leaf_der()); }
void BM_dpgcert_accessors_foces(benchmark::State& state) { run_dpgcert_accessors(state, foces_leaf_der()); }
void BM_paired_accessors(benchmark::State& state) { run_paired_accessors(state, leaf_der()); }
void BM_paired_accessors_foces(benchmark::State& state) { run_paired_accessors(state, foces_leaf_der()); }

BENCHMARK(BM_d2i_X509_baseline)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_dpgcert_from_der)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_d2i_X509_baseline_foces)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_dpgcert_from_der_foces)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_paired)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_paired_foces)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_openssl_accessors)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_dpgcert_accessors)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_openssl_accessors_foces)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_dpgcert_accessors_foces)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_paired_accessors)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_paired_accessors_foces)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  if (!dpgcert::bench::initialize(argc, argv)) return 1;
  dpgcert::bench::SummaryReporter reporter;
  reporter.run();
  bool ok = true;
  const auto summary = [&](const char* what, const char* base, const char* mine, const char* pair, double target) {
    const auto* b = reporter.find(base);
    const auto* m = reporter.find(mine);
    const double* p = reporter.counter(pair, "rate_ratio");
    if (b == nullptr || m == nullptr) return;
    // The verdict uses the paired ratio (both alternating in one loop) when it ran.
    const double rate = p != nullptr ? *p : b->cpu_ns / m->cpu_ns;
    ok = ok && rate >= target;
    std::printf("%-22s OpenSSL %7.2f us | dpgcert %7.2f us | rate %.3f [%.3f]", what, b->cpu_ns / 1e3,
                m->cpu_ns / 1e3, b->cpu_ns / m->cpu_ns, b->real_ns / m->real_ns);
    if (p != nullptr) std::printf(" | paired %.3f", *p);
    std::printf(" -> %s\n", rate >= target ? "met" : "MISSED");
  };
  std::printf("\nfrom_der rate / d2i_X509 rate (CPU time; real time in brackets); target >= 0.8\n");
  summary("OCES3 org (RSA 3072)", "BM_d2i_X509_baseline", "BM_dpgcert_from_der", "BM_paired", 0.8);
  summary("foces leaf (RSA 2048)", "BM_d2i_X509_baseline_foces", "BM_dpgcert_from_der_foces", "BM_paired_foces", 0.8);
  std::printf("\nparse + notAfter + subject text + SHA-256 fingerprint, dpgcert rate / OpenSSL rate; target >= 4\n");
  summary("OCES3 org (RSA 3072)", "BM_openssl_accessors", "BM_dpgcert_accessors", "BM_paired_accessors", 4.0);
  summary("foces leaf (RSA 2048)", "BM_openssl_accessors_foces", "BM_dpgcert_accessors_foces",
          "BM_paired_accessors_foces", 4.0);
  return ok ? 0 : 1;
}
