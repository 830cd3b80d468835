// Certificates as DER, PEM or bare base64: load, every getter, the OCES identity, to_json and the
// terminal rendering of every text field.
#include "fuzz_common.hpp"

#include <dpgcert/json.hpp>
#include <dpgcert/oces.hpp>
#include <dpgcert/oces_json.hpp>
#include <dpgcert/x509.hpp>

using namespace dpgcert;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::expect_errors_only([&] {
    for (const Certificate& c : load_certificates(fuzz::bytes(data, size), fuzz::context())) {
      fuzz::check_json(to_json(c));
      const oces::Identity id = oces::identify(c);
      fuzz::check_json(oces::to_json(id));
      fuzz::check_terminal(c.subject().to_string());
      fuzz::check_terminal(c.issuer().to_string());
      for (const auto& e : c.subject_alt_names().emails) fuzz::check_terminal(e);
      for (const auto& u : c.crl_distribution_points()) fuzz::check_terminal(u);
      (void)c.serial_hex();
      (void)c.fingerprint_hex();
      (void)c.is_ca();
      (void)c.to_pem();
    }
  });
  return 0;
}
