// Identifying a parsed certificate (issue 4): oces::identify on certificates whose fields are
// already decoded, against copying the subject's RFC 4514 text as a baseline of "touching the name".
// Target: identify under 5 µs.
#include "support.hpp"

#include <dpgcert/oces.hpp>
#include <dpgcert/x509.hpp>

#include <benchmark/benchmark.h>

#include <map>
#include <string>

namespace {

const dpgcert::Certificate& leaf(const std::string& rel) {
  static std::map<std::string, dpgcert::Certificate> cache;
  auto it = cache.find(rel);
  if (it == cache.end()) {
    auto certs = dpgcert::load_certificates(dpgcert::bench::read_file(dpgcert::bench::test_data() / rel));
    const auto& c = certs.at(0);
    // Decode every lazily decoded field once, as a caller that has looked at the certificate has.
    (void)c.subject();
    (void)c.policies();
    (void)c.subject_alt_names();
    (void)dpgcert::oces::Catalogue::builtin();
    it = cache.emplace(rel, c).first;
  }
  return it->second;
}

void BM_subject_to_string_baseline(benchmark::State& state, const char* rel) {
  const auto& c = leaf(rel);
  for (auto _ : state) {
    auto s = c.subject().to_string();
    benchmark::DoNotOptimize(s);
  }
}

void BM_identify(benchmark::State& state, const char* rel) {
  const auto& c = leaf(rel);
  for (auto _ : state) {
    auto id = dpgcert::oces::identify(c);
    benchmark::DoNotOptimize(id);
  }
}

BENCHMARK_CAPTURE(BM_subject_to_string_baseline, oces2_foces, "oces2-prod/foces.crt.pem");
BENCHMARK_CAPTURE(BM_identify, oces2_foces, "oces2-prod/foces.crt.pem");
BENCHMARK_CAPTURE(BM_subject_to_string_baseline, oces3_organisation, "oces3-prod/organisation.crt.pem");
BENCHMARK_CAPTURE(BM_identify, oces3_organisation, "oces3-prod/organisation.crt.pem");
BENCHMARK_CAPTURE(BM_identify, not_oces, "other/server.crt.pem");

}  // namespace

BENCHMARK_MAIN();
