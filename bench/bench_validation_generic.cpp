// The generic profile's cost (`dpgcert verify --profile generic`: RFC 5280 path validation with
// policy processing, revocation, key strength over the path, the whole report) against a bare
// X509_verify_cert with the same OpenSSL flags on the same parsed chain. Target: <= 1.3x.
// After the runs the program prints ns per operation, the ratio and the verdict (exit 1 if missed).
#include "support.hpp"

#include <dpgcert/pkcs12.hpp>
#include <dpgcert/validation.hpp>

#include "core/openssl_util.hpp"
#include "x509/certificate_impl.hpp"

#include <benchmark/benchmark.h>
#include <openssl/objects.h>
#include <openssl/x509_vfy.h>

#include <cstdio>
#include <memory>

namespace {

using namespace dpgcert;

constexpr std::int64_t kAt = 1748736000;  // 2025-06-01T00:00:00Z, the synthetic PKI's test time

struct Fixture {
  Certificate leaf;
  std::vector<Certificate> chain;  // the issuing CA (untrusted)
  Certificate root;
  Crl crl;
  ValidationInput input;

  static Fixture& get() {
    static Fixture f = [] {
      const auto dir = bench::test_data();
      Pkcs12Bundle b = load_pkcs12(bench::read_file(dir / "oces2-prod/foces.p12"), SecretBytes::from_text("Test1234"));
      Certificate anchor = load_certificates(bench::read_file(dir / "oces2-prod/root.crt.pem")).at(0);
      Crl current = load_crls(bench::read_file(dir / "oces2-prod/crl-current.crl.der")).at(0);
      std::vector<Certificate> issuers;
      for (const auto& c : b.chain()) {
        if (!(c == anchor)) issuers.push_back(c);
      }
      ValidationInput in;
      in.at = from_unix(kAt);
      in.anchors = TrustAnchors::from_certificates({anchor});
      in.intermediates = issuers;
      in.crls = {current};
      in.policy = ValidationPolicy::generic();  // leaf revocation, policy processing with anyPolicy
      return Fixture{*b.leaf(), issuers, anchor, current, std::move(in)};
    }();
    return f;
  }
};

struct Free {
  void operator()(X509_STORE* s) const noexcept { X509_STORE_free(s); }
  void operator()(X509_STORE_CTX* c) const noexcept { X509_STORE_CTX_free(c); }
  void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_free(s); }
  void operator()(STACK_OF(X509_CRL) * s) const noexcept { sk_X509_CRL_free(s); }
};

/// X509_verify_cert with the flags validate() sets for generic() with a CRL: CRL checking of the
/// leaf with extended CRL support and deltas, policy processing with {anyPolicy}.
void BM_X509_verify_cert_generic_flags(benchmark::State& state) {
  Fixture& f = Fixture::get();
  const Context& ctx = Context::shared();
  std::unique_ptr<X509_STORE, Free> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), detail::native(f.root));
  std::unique_ptr<STACK_OF(X509), Free> untrusted(sk_X509_new_null());
  for (const auto& c : f.chain) sk_X509_push(untrusted.get(), detail::native(c));
  std::unique_ptr<STACK_OF(X509_CRL), Free> crls(sk_X509_CRL_new_null());
  // The CRL as OpenSSL parses it, from the same DER.
  const auto der = f.crl.der();
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509_CRL* crl = d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size()));
  sk_X509_CRL_push(crls.get(), crl);
  for (auto _ : state) {
    std::unique_ptr<X509_STORE_CTX, Free> sctx(X509_STORE_CTX_new_ex(detail::x509_libctx(ctx), nullptr));
    X509_STORE_CTX_init(sctx.get(), store.get(), detail::native(f.leaf), untrusted.get());
    X509_STORE_CTX_set0_crls(sctx.get(), crls.get());
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(sctx.get());
    X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(kAt));
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_EXTENDED_CRL_SUPPORT | X509_V_FLAG_USE_DELTAS |
                                           X509_V_FLAG_POLICY_CHECK);
    X509_VERIFY_PARAM_add0_policy(param, OBJ_txt2obj("2.5.29.32.0", 1));
    const int rc = X509_verify_cert(sctx.get());
    if (rc != 1) state.SkipWithError("baseline: X509_verify_cert failed");
    benchmark::DoNotOptimize(rc);
  }
  X509_CRL_free(crl);
  state.SetItemsProcessed(state.iterations());
}

void BM_dpgcert_validate_generic(benchmark::State& state) {
  Fixture& f = Fixture::get();
  for (auto _ : state) {
    ValidationReport r = validate(f.leaf, f.input);
    if (r.status(check_id::chain) != CheckStatus::pass) state.SkipWithError("dpgcert: the chain did not pass");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_X509_verify_cert_generic_flags)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_dpgcert_validate_generic)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  if (!dpgcert::bench::initialize(argc, argv)) return 1;
  dpgcert::bench::SummaryReporter reporter;
  reporter.run();
  const auto* b = reporter.find("BM_X509_verify_cert_generic_flags");
  const auto* m = reporter.find("BM_dpgcert_validate_generic");
  if (b == nullptr || m == nullptr) return 1;
  const double ratio = m->cpu_ns / b->cpu_ns;
  const bool met = ratio <= 1.3;
  std::printf("generic profile: X509_verify_cert %.0f ns/op (cpu %.0f), dpgcert validate %.0f ns/op (cpu %.0f), "
              "ratio %.2fx (cpu %.2fx); target <= 1.3x (cpu): %s\n",
              b->real_ns, b->cpu_ns, m->real_ns, m->cpu_ns, m->real_ns / b->real_ns, ratio, met ? "met" : "MISSED");
  return met ? 0 : 1;
}
