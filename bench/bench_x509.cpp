// DER parsing of a certificate: dpgcert's Certificate::from_der against bare d2i_X509.
// Target (issue 3): dpgcert at least 0.8x the rate of bare d2i_X509.
#include "support.hpp"

#include <dpgcert/x509.hpp>

#include <benchmark/benchmark.h>
#include <openssl/x509.h>

#include <algorithm>

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

void BM_d2i_X509_baseline(benchmark::State& state) {
  const auto der = leaf_der();
  for (auto _ : state) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
    benchmark::DoNotOptimize(x);
    X509_free(x);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_dpgcert_from_der(benchmark::State& state) {
  const auto der = leaf_der();
  const auto& ctx = dpgcert::Context::shared();
  for (auto _ : state) {
    auto cert = dpgcert::Certificate::from_der(der, ctx);
    benchmark::DoNotOptimize(cert);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_d2i_X509_baseline);
BENCHMARK(BM_dpgcert_from_der);

}  // namespace

BENCHMARK_MAIN();
