// Private: base64 decoding and DER element framing.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace dpgcert::detail {

/// Decodes standard base64, skipping ASCII whitespace; nullopt for any other character, bad padding
/// or a length that is not a multiple of four.
[[nodiscard]] std::optional<std::vector<std::byte>> base64_decode(std::string_view text);

/// The total length (header + content) of the definite-length DER element at the start of `data`,
/// or 0 when it is not a complete, well-framed element.
[[nodiscard]] std::size_t der_element_length(std::span<const std::byte> data) noexcept;

}  // namespace dpgcert::detail
