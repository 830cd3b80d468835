// PKCS#12: the profile without a password, then a load with the empty password and with "fuzz",
// every getter of the bundle and to_json of its profile and certificates.
#include "fuzz_common.hpp"

#include <dpgcert/json.hpp>
#include <dpgcert/pkcs12.hpp>
#include <dpgcert/x509.hpp>

using namespace dpgcert;

namespace {

void check_bundle(const Pkcs12Bundle& b) {
  fuzz::check_json(to_json(b.profile()));
  if (b.leaf()) fuzz::check_json(to_json(*b.leaf()));
  for (const auto& c : b.chain()) fuzz::check_json(to_json(c));
  if (b.friendly_name()) fuzz::check_terminal(*b.friendly_name());
  if (const PrivateKey* k = b.private_key()) {
    (void)k->algorithm();
    (void)k->bits();
    (void)b.key_matches();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = fuzz::bytes(data, size);
  fuzz::expect_errors_only([&] { fuzz::check_json(to_json(inspect_pkcs12_profile(in, fuzz::context()))); });
  for (const char* pw : {"", "fuzz"}) {
    fuzz::expect_errors_only([&] { check_bundle(load_pkcs12(in, SecretBytes::from_text(pw), fuzz::context())); });
  }
  return 0;
}
