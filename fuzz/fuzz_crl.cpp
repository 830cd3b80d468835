// CRLs as DER or PEM: load, every getter and to_json.
#include "fuzz_common.hpp"

#include <dpgcert/validation.hpp>
#include <dpgcert/validation_json.hpp>

using namespace dpgcert;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::expect_errors_only([&] {
    for (const Crl& crl : load_crls(fuzz::bytes(data, size), fuzz::context())) {
      fuzz::check_json(to_json(crl));
      fuzz::check_terminal(crl.issuer().to_string());
    }
  });
  return 0;
}
