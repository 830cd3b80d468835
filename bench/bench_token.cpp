// Keys on a PKCS#11 token (SoftHSM2) side by side with the same work in process: unwrapping a
// store's data key through the token's AES key vs the software key wrapper (a key file), and an
// RSA-2048 SHA-256 signature through the token vs OpenSSL with the key in memory. The bar:
// not slower than 10x software. Without softhsm2 every benchmark skips, saying so.
#include "support.hpp"

#include <dpgcert/key_wrapper.hpp>
#include <dpgcert/pkcs12.hpp>
#include <dpgcert/token.hpp>
#include <dpgcert/vault.hpp>

#include <benchmark/benchmark.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>

namespace {

using namespace dpgcert;

constexpr const char* kModule = "/usr/lib/softhsm/libsofthsm2.so";
constexpr const char* kPin = "bench-pin";

/// A SoftHSM2 configuration of this process with one fresh token "bench" (made by softhsm2-util,
/// before anything in the process loads the module), and what the benchmarks share.
struct Setup {
  std::optional<bench::TempDir> dir;
  std::string why_not;  ///< Why the token benchmarks skip ("" when they run).
  std::shared_ptr<const vault::KeyWrapper> software;
  std::shared_ptr<const vault::KeyWrapper> on_token;
  std::optional<token::Token> token;
  std::string key_uri;
  EVP_PKEY* key = nullptr;  ///< The same RSA key, in process (OpenSSL).

  Setup() {
    if (std::ifstream(kModule).fail()) {
      why_not = "softhsm2 is not installed (apt-get install softhsm2)";
      return;
    }
    dir.emplace("dpgcert-bench-token");
    const auto tokens = dir->path() / "tokens";
    std::filesystem::create_directories(tokens);
    const auto conf = dir->path() / "softhsm2.conf";
    std::ofstream(conf) << "directories.tokendir = " << tokens.string() << "\nobjectstore.backend = file\n";
    ::setenv("SOFTHSM2_CONF", conf.c_str(), 1);
    const std::string cmd = std::string("softhsm2-util --init-token --free --label bench --so-pin 12345678 --pin ") +
                            kPin + " >/dev/null";
    if (std::system(cmd.c_str()) != 0) {
      why_not = "softhsm2-util --init-token failed";
      return;
    }
    software = vault::establish_key(vault::KeySource::key_file(dir->path() / "master.key")).wrapper;
    on_token = vault::establish_key(
                   vault::KeySource::pkcs11("pkcs11:token=bench;object=bench-master", SecretBytes::from_text(kPin)))
                   .wrapper;
    token::PinSource pin;
    pin.pin = SecretBytes::from_text(kPin);
    token.emplace(token::Token::open(token::TokenUri::parse("pkcs11:token=bench"), pin));
    // The FOCES test certificate's key: on the token, and in process for OpenSSL.
    const auto p12 = bench::read_file(bench::test_data() / "oces2-prod/foces.p12");
    const Pkcs12Bundle bundle = load_pkcs12(p12, SecretBytes::from_text("Test1234"));
    key_uri = token->import_key(bundle).key_uri;
    const auto& der = bundle.private_key()->pkcs8_der();
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    key = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size()));
  }
  ~Setup() { EVP_PKEY_free(key); }
  Setup(const Setup&) = delete;
  Setup& operator=(const Setup&) = delete;
};

Setup& setup() {
  static Setup s;
  return s;
}

bool skip(benchmark::State& state) {
  if (setup().why_not.empty()) return false;
  state.SkipWithError(("skipped: " + setup().why_not).c_str());
  return true;
}

void unwrap(benchmark::State& state, const vault::KeyWrapper& w) {
  const std::vector<std::byte> data_key(32, std::byte{0x42});
  const auto wrapped = w.wrap(data_key, "bench context");
  for (auto _ : state) {
    SecretBytes k = w.unwrap(wrapped, "bench context");
    benchmark::DoNotOptimize(k.data());
  }
}

void BM_unwrap_software_key_file(benchmark::State& state) {
  if (skip(state)) return;
  unwrap(state, *setup().software);
}

void BM_unwrap_token_aes_gcm(benchmark::State& state) {
  if (skip(state)) return;
  unwrap(state, *setup().on_token);
}

const std::string kMessage(4096, 'm');  // an S/MIME signed-attributes-sized input, and then some

void BM_sign_openssl_in_process(benchmark::State& state) {
  if (skip(state)) return;
  std::vector<unsigned char> sig(512);
  for (auto _ : state) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t n = sig.size();
    if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, setup().key) != 1 ||
        EVP_DigestSign(ctx, sig.data(), &n, reinterpret_cast<const unsigned char*>(kMessage.data()), kMessage.size()) != 1) {
      state.SkipWithError("OpenSSL signing failed");
    }
    EVP_MD_CTX_free(ctx);
    benchmark::DoNotOptimize(sig.data());
  }
}

void BM_sign_token(benchmark::State& state) {
  if (skip(state)) return;
  const token::TokenUri key = token::TokenUri::parse(setup().key_uri);
  const auto msg = std::as_bytes(std::span(kMessage.data(), kMessage.size()));
  for (auto _ : state) {
    auto sig = setup().token->sign(key, msg, token::SignScheme::rsa_pkcs1v15_sha256);
    benchmark::DoNotOptimize(sig.data());
  }
}

BENCHMARK(BM_unwrap_software_key_file)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_unwrap_token_aes_gcm)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_sign_openssl_in_process)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_sign_token)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
