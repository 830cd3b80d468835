// Private: PKCS#12 friendly names between UTF-8 and BMPString (UTF-16BE with surrogate pairs).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dpgcert::detail {

/// Converts a BMPString's content (UTF-16BE; surrogate pairs allowed) to UTF-8, dropping one
/// trailing NUL some writers add. Empty for an odd length or an unpaired surrogate.
///
/// OpenSSL 3.0's OPENSSL_uni2utf8 refuses names whose last character needs three UTF-8 bytes
/// (U+263A, for one), and its BMPString conversions refuse characters beyond U+FFFF.
[[nodiscard]] std::optional<std::string> bmp_to_utf8(std::span<const unsigned char> bmp);

/// Converts strict UTF-8 (no overlong forms, no surrogates, nothing beyond U+10FFFF) to UTF-16BE
/// without a terminator. Empty when the text is not UTF-8.
[[nodiscard]] std::optional<std::vector<unsigned char>> utf8_to_bmp(std::string_view utf8);

}  // namespace dpgcert::detail
