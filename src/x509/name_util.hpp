// Private: conversions from OpenSSL names and strings.
#pragma once

#include "core/openssl_util.hpp"

#include <dpgcert/x509.hpp>

#include <string>

namespace dpgcert::detail {

/// Dotted text of an OID.
[[nodiscard]] std::string oid_text(const ASN1_OBJECT* obj);
/// A string's value as UTF-8; non-string types as '#' and hex of the content.
[[nodiscard]] std::string asn1_string_utf8(const ASN1_STRING* s);
/// An X509_NAME with its multi-valued RDNs kept together.
[[nodiscard]] DistinguishedName name_from_x509(const X509_NAME* name);

}  // namespace dpgcert::detail
