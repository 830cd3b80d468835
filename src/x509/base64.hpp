// Private: base64 decoding.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace dpgcert::detail {

/// Decodes standard base64, skipping ASCII whitespace; nullopt for any other character, bad padding
/// or a length that is not a multiple of four.
[[nodiscard]] std::optional<std::vector<std::byte>> base64_decode(std::string_view text);

}  // namespace dpgcert::detail
