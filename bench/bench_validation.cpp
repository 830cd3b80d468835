// Validation of a PKCS#12 bundle whose chain is already parsed: dpgcert's validate() (every check
// of the OCES gateway policy, the report included) against a bare X509_verify_cert on the same
// chain with a prebuilt X509_STORE. Target (issue 5): validate() under 1 ms per bundle.
// After the runs the program prints ns per operation, the ratio to the baseline and the verdict.
#include "support.hpp"

#include <dpgcert/pkcs12.hpp>
#include <dpgcert/validation.hpp>

#include "core/openssl_util.hpp"
#include "x509/certificate_impl.hpp"

#include <benchmark/benchmark.h>
#include <openssl/x509_vfy.h>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>

namespace {

using namespace dpgcert;

constexpr std::int64_t kAt = 1748736000;  // 2025-06-01T00:00:00Z, the synthetic PKI's test time

struct Fixture {
  Pkcs12Bundle bundle;
  Certificate root;
  Crl crl;
  ValidationInput input;          // anchors prebuilt; no CRL
  ValidationInput input_with_crl;

  static Fixture& get() {
    static Fixture f = [] {
      const auto dir = bench::test_data();
      Pkcs12Bundle b = load_pkcs12(bench::read_file(dir / "oces2-prod/foces.p12"), SecretBytes::from_text("Test1234"));
      Certificate anchor = load_certificates(bench::read_file(dir / "oces2-prod/root.crt.pem")).at(0);
      Crl current = load_crls(bench::read_file(dir / "oces2-prod/crl-current.crl.der")).at(0);
      ValidationInput in;
      in.at = from_unix(kAt);
      in.anchors = TrustAnchors::from_certificates({anchor});
      in.policy.expected_environment = oces::Environment::production;
      in.policy.expected_cvr = "12345674";
      ValidationInput with_crl = in;
      with_crl.crls = {current};
      return Fixture{std::move(b), anchor, current, std::move(in), std::move(with_crl)};
    }();
    return f;
  }
};

struct StoreFree {
  void operator()(X509_STORE* s) const noexcept { X509_STORE_free(s); }
  void operator()(X509_STORE_CTX* c) const noexcept { X509_STORE_CTX_free(c); }
  void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_free(s); }
  void operator()(STACK_OF(X509_CRL) * s) const noexcept { sk_X509_CRL_free(s); }
};

void run_baseline(benchmark::State& state, bool with_crl) {
  Fixture& f = Fixture::get();
  const Context& ctx = Context::shared();
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), detail::native(f.root));
  std::unique_ptr<STACK_OF(X509), StoreFree> untrusted(sk_X509_new_null());
  for (const auto& c : f.bundle.chain()) sk_X509_push(untrusted.get(), detail::native(c));
  std::unique_ptr<STACK_OF(X509_CRL), StoreFree> crls(sk_X509_CRL_new_null());
  X509* leaf = detail::native(*f.bundle.leaf());
  // The CRL as OpenSSL parses it, from the same DER.
  const auto der = f.crl.der();
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509_CRL* crl = d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size()));
  sk_X509_CRL_push(crls.get(), crl);
  for (auto _ : state) {
    std::unique_ptr<X509_STORE_CTX, StoreFree> sctx(X509_STORE_CTX_new_ex(detail::libctx(ctx), nullptr));
    X509_STORE_CTX_init(sctx.get(), store.get(), leaf, untrusted.get());
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(sctx.get());
    X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(kAt));
    if (with_crl) {
      X509_STORE_CTX_set0_crls(sctx.get(), crls.get());
      X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK);
    }
    const int rc = X509_verify_cert(sctx.get());
    if (rc != 1) state.SkipWithError("baseline: X509_verify_cert failed");
    benchmark::DoNotOptimize(rc);
  }
  X509_CRL_free(crl);
  state.SetItemsProcessed(state.iterations());
}

void run_dpgcert(benchmark::State& state, bool with_crl) {
  Fixture& f = Fixture::get();
  const ValidationInput& in = with_crl ? f.input_with_crl : f.input;
  for (auto _ : state) {
    ValidationReport r = validate(f.bundle, in);
    if (r.status(check_id::chain) != CheckStatus::pass) state.SkipWithError("dpgcert: the chain did not pass");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_X509_verify_cert_baseline(benchmark::State& state) { run_baseline(state, false); }
void BM_dpgcert_validate_bundle(benchmark::State& state) { run_dpgcert(state, false); }
void BM_X509_verify_cert_crl_baseline(benchmark::State& state) { run_baseline(state, true); }
void BM_dpgcert_validate_bundle_crl(benchmark::State& state) { run_dpgcert(state, true); }

BENCHMARK(BM_X509_verify_cert_baseline)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_dpgcert_validate_bundle)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_X509_verify_cert_crl_baseline)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_dpgcert_validate_bundle_crl)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  if (!dpgcert::bench::initialize(argc, argv)) return 1;
  dpgcert::bench::SummaryReporter reporter;
  reporter.run();
  bool ok = true;
  const auto summary = [&](const char* what, const char* base, const char* mine) {
    const auto* b = reporter.find(base);
    const auto* m = reporter.find(mine);
    if (b == nullptr || m == nullptr) return;
    const bool fast = m->real_ns < 1e6;
    ok = ok && fast;
    std::printf("%s: X509_verify_cert %.0f ns/op (cpu %.0f), dpgcert validate %.0f ns/op (cpu %.0f), "
                "ratio %.2fx (cpu %.2fx); target < 1 ms: %s\n",
                what, b->real_ns, b->cpu_ns, m->real_ns, m->cpu_ns, m->real_ns / b->real_ns,
                m->cpu_ns / b->cpu_ns, fast ? "met" : "MISSED");
  };
  summary("no CRL", "BM_X509_verify_cert_baseline", "BM_dpgcert_validate_bundle");
  summary("with CRL", "BM_X509_verify_cert_crl_baseline", "BM_dpgcert_validate_bundle_crl");
  return ok ? 0 : 1;
}
