// Certificates as DER, PEM or bare base64: load, every getter, the OCES identity, to_json and the
// terminal rendering of every text field. dpgcert's own DER reader is held to OpenSSL's reading:
// what it accepts OpenSSL must accept and read the same (every field), and a single DER input it
// refuses OpenSSL must refuse too, unless it is BER (refused on purpose; docs/x509.md).
#include "fuzz_common.hpp"
#include "x509/certificate_impl.hpp"

#include <dpgcert/json.hpp>
#include <dpgcert/oces.hpp>
#include <dpgcert/oces_json.hpp>
#include <dpgcert/x509.hpp>

using namespace dpgcert;

namespace {

bool same_extensions(const Certificate& a, const Certificate& b) {
  const auto& ka = a.key_usage();
  const auto& kb = b.key_usage();
  if (ka.has_value() != kb.has_value() || (ka && (ka->names() != kb->names() || ka->critical != kb->critical))) return false;
  const auto& ba = a.basic_constraints();
  const auto& bb = b.basic_constraints();
  if (ba.has_value() != bb.has_value() ||
      (ba && (ba->ca != bb->ca || ba->path_length != bb->path_length || ba->critical != bb->critical))) {
    return false;
  }
  return a.extended_key_usage() == b.extended_key_usage() && a.subject_alt_names().emails == b.subject_alt_names().emails &&
         a.subject_alt_names().dns == b.subject_alt_names().dns && a.subject_alt_names().uris == b.subject_alt_names().uris &&
         a.policies() == b.policies() && a.authority_info_access().ocsp == b.authority_info_access().ocsp &&
         a.authority_info_access().ca_issuers == b.authority_info_access().ca_issuers &&
         a.crl_distribution_points() == b.crl_distribution_points() && a.subject_key_id() == b.subject_key_id() &&
         a.authority_key_id() == b.authority_key_id();
}

/// Aborts when dpgcert's reading of `c` differs from OpenSSL's.
void check_against_openssl(const Certificate& c) {
  if (c.impl().checked() == nullptr) return;  // read by OpenSSL already
  const Certificate ref = [&] {
    try {
      return Certificate::Impl::openssl_reference(c.der(), fuzz::context());
    } catch (const Error&) {
      std::abort();  // dpgcert took what OpenSSL refuses
    }
  }();
  if (c.version() != ref.version() || c.serial() != ref.serial() || c.not_before() != ref.not_before() ||
      c.not_after() != ref.not_after() || c.public_key().algorithm != ref.public_key().algorithm ||
      c.public_key().bits != ref.public_key().bits || c.public_key().curve != ref.public_key().curve ||
      c.signature_algorithm() != ref.signature_algorithm() || c.is_self_issued() != ref.is_self_issued() ||
      c.to_pem() != ref.to_pem() || !same_extensions(c, ref)) {
    std::abort();
  }
  if (c.subject() != ref.subject() || c.issuer() != ref.issuer()) std::abort();
}

/// Aborts when OpenSSL reads a single DER certificate dpgcert refused, unless it is BER.
void check_refusal(std::span<const std::byte> der) {
  if (der.empty() || der.front() != std::byte{0x30} || der.size() > fuzz::context().limits().max_input_bytes) return;
  if (Certificate::Impl::verdict(der) == detail::DerVerdict::not_der) return;
  try {
    (void)Certificate::Impl::openssl_reference(der, fuzz::context());
  } catch (const Error&) {
    return;
  }
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // One DER certificate: refused by dpgcert only when OpenSSL refuses it (or it is BER).
  try {
    (void)Certificate::from_der(fuzz::bytes(data, size), fuzz::context());
  } catch (const Error&) {
    check_refusal(fuzz::bytes(data, size));
  }
  fuzz::expect_errors_only([&] {
    for (const Certificate& c : load_certificates(fuzz::bytes(data, size), fuzz::context())) {
      check_against_openssl(c);
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
