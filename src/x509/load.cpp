// Loading certificates from DER, PEM and bare base64.
#include "core/der.hpp"
#include "x509/base64.hpp"
#include "x509/certificate_impl.hpp"

#include <string>

namespace dpgcert {
namespace {

constexpr std::string_view kBegin = "-----BEGIN ";
constexpr std::string_view kDashes = "-----";

void check_count(std::size_t n, const Context& ctx) {
  if (n > ctx.limits().max_certificates) {
    throw Error(ErrorCode::limit_exceeded, "more than " + std::to_string(ctx.limits().max_certificates) +
                                               " certificates in one input");
  }
}

bool is_certificate_label(std::string_view label) {
  return label == "CERTIFICATE" || label == "X509 CERTIFICATE" || label == "TRUSTED CERTIFICATE";
}

std::vector<Certificate> from_concatenated_der(std::span<const std::byte> data, const Context& ctx) {
  std::vector<Certificate> out;
  while (!data.empty()) {
    const std::size_t len = detail::der::element_length(data);
    if (len == 0) {
      throw Error(ErrorCode::malformed, out.empty() ? "certificate: not DER, PEM or base64"
                                                    : "certificate: trailing bytes after certificate " +
                                                          std::to_string(out.size()));
    }
    out.push_back(Certificate::from_der(data.first(len), ctx));
    check_count(out.size(), ctx);
    data = data.subspan(len);
  }
  return out;
}

}  // namespace

std::vector<Certificate> load_certificates_pem(std::string_view text, const Context& ctx) {
  if (text.size() > ctx.limits().max_input_bytes) {
    throw Error(ErrorCode::limit_exceeded, "certificate: input of " + std::to_string(text.size()) +
                                               " bytes exceeds the limit of " +
                                               std::to_string(ctx.limits().max_input_bytes));
  }
  std::vector<Certificate> out;
  std::size_t pos = 0;
  bool any_block = false;
  while ((pos = text.find(kBegin, pos)) != std::string_view::npos) {
    any_block = true;
    const std::size_t label_start = pos + kBegin.size();
    const std::size_t label_end = text.find(kDashes, label_start);
    if (label_end == std::string_view::npos) throw Error(ErrorCode::malformed, "PEM: unterminated BEGIN line");
    const std::string_view label = text.substr(label_start, label_end - label_start);
    const std::string end_line = "-----END " + std::string(label) + "-----";
    const std::size_t body_start = label_end + kDashes.size();
    const std::size_t end = text.find(end_line, body_start);
    if (end == std::string_view::npos) {
      throw Error(ErrorCode::malformed, "PEM: block '" + std::string(label.substr(0, 40)) + "' has no END line (truncated?)");
    }
    pos = end + end_line.size();
    if (!is_certificate_label(label)) continue;  // keys, CRLs, ... are not certificates
    std::string_view body = text.substr(body_start, end - body_start);
    // RFC 1421 headers (Proc-Type, ...) end with an empty line; certificates have none.
    if (body.find(':') != std::string_view::npos) {
      throw Error(ErrorCode::malformed, "PEM: unexpected headers in a certificate block");
    }
    const auto der = detail::base64_decode(body);
    if (!der) throw Error(ErrorCode::malformed, "PEM: certificate " + std::to_string(out.size() + 1) + " is not valid base64");
    if (label == "TRUSTED CERTIFICATE") {
      // OpenSSL's trusted form: the certificate followed by trust settings; keep the certificate.
      const std::size_t len = detail::der::element_length(*der);
      if (len == 0) throw Error(ErrorCode::malformed, "PEM: broken TRUSTED CERTIFICATE block");
      out.push_back(Certificate::from_der(std::span(*der).first(len), ctx));
    } else {
      out.push_back(Certificate::from_der(*der, ctx));
    }
    check_count(out.size(), ctx);
  }
  if (!out.empty()) return out;
  if (any_block) throw Error(ErrorCode::malformed, "PEM: no CERTIFICATE block in the input");
  // Bare base64 of a DER certificate, as some .cer files are.
  const auto der = detail::base64_decode(text);
  if (!der || der->empty()) throw Error(ErrorCode::malformed, "certificate: not DER, PEM or base64");
  return from_concatenated_der(*der, ctx);
}

std::vector<Certificate> load_certificates(std::span<const std::byte> data, const Context& ctx) {
  if (data.size() > ctx.limits().max_input_bytes) {
    throw Error(ErrorCode::limit_exceeded, "certificate: input of " + std::to_string(data.size()) +
                                               " bytes exceeds the limit of " +
                                               std::to_string(ctx.limits().max_input_bytes));
  }
  if (data.empty()) throw Error(ErrorCode::malformed, "certificate: empty input");
  if (data.front() == std::byte{0x30}) return from_concatenated_der(data, ctx);
  return load_certificates_pem({reinterpret_cast<const char*>(data.data()), data.size()}, ctx);
}

}  // namespace dpgcert
