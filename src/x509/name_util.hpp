// Private: conversions from OpenSSL names and strings.
#pragma once

#include "core/openssl_util.hpp"

#include <dpgcert/x509.hpp>

#include <cstddef>
#include <span>
#include <string>

namespace dpgcert::detail {

/// Dotted text of an OID.
[[nodiscard]] std::string oid_text(const ASN1_OBJECT* obj);
/// A string's value as UTF-8; non-string types as '#' and hex of the content.
[[nodiscard]] std::string asn1_string_utf8(const ASN1_STRING* s);
/// An X509_NAME with its multi-valued RDNs kept together.
[[nodiscard]] DistinguishedName name_from_x509(const X509_NAME* name);

/// What compare_der_names() could decide.
enum class NameVerdict { equal, different, unknown };
/// Compares two DER Names as X509_NAME_cmp would (its canonical form keeps the RDN structure and
/// the OIDs and folds the values: case, white space, string types), where that can be decided
/// without OpenSSL: `unknown` for multi-valued RDNs or values that are not ASCII text, which
/// X509_NAME_cmp must decide.
[[nodiscard]] NameVerdict compare_der_names(std::span<const std::byte> a, std::span<const std::byte> b);

}  // namespace dpgcert::detail
