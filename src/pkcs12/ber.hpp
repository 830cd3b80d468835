// Private: a small BER/DER reader for framing checks, sniffing and reading key components.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace dpgcert::detail::ber {

/// Universal tags used by dpgcert.
inline constexpr std::uint32_t kInteger = 2;
inline constexpr std::uint32_t kBitString = 3;
inline constexpr std::uint32_t kOctetString = 4;
inline constexpr std::uint32_t kOid = 6;
inline constexpr std::uint32_t kSequence = 16;

/// One element's header as read from the input.
struct Header {
  std::uint8_t tag_class = 0;   ///< 0 universal, 1 application, 2 context-specific, 3 private.
  bool constructed = false;
  std::uint32_t tag = 0;        ///< Tag number.
  bool indefinite = false;      ///< BER indefinite length (content ends with an end-of-contents).
  std::size_t header_length = 0;
  std::size_t content_length = 0;  ///< Only for definite lengths.
};

enum class Status { ok, truncated, invalid };

/// Reads the header of the element at the start of `in`. A definite length must fit in `in`.
[[nodiscard]] Status read_header(std::span<const std::byte> in, Header& out) noexcept;

/// What scan() found.
struct ScanResult {
  Status status = Status::ok;
  std::size_t length = 0;          ///< Total length of the element (valid when status is ok).
  bool string_nesting_exceeded = false;
  std::string problem;             ///< What is wrong, for messages (no data from the input).
};

/// Walks the whole element at the start of `in` (resolving indefinite lengths), checking that
/// every length is consistent and that constructed strings nest no deeper than `max_string_depth`.
/// General nesting is bounded too (64 levels), so the walk's own recursion is bounded.
[[nodiscard]] ScanResult scan(std::span<const std::byte> in, std::size_t max_string_depth) noexcept;

/// The number of elements inside the constructed element at the start of `in` (definite or
/// indefinite length), without decoding them; nullopt when the framing is broken. Stops counting
/// past `stop_after`.
[[nodiscard]] std::optional<std::size_t> count_elements(std::span<const std::byte> in, std::size_t stop_after) noexcept;

/// A cursor over DER content for reading known structures; every read fails softly.
class Reader {
 public:
  explicit Reader(std::span<const std::byte> in) noexcept : in_(in) {}
  [[nodiscard]] bool empty() const noexcept { return in_.empty(); }
  /// Reads the next definite-length element; returns its content if it has the given universal
  /// (or, with tag_class 2, context-specific) tag.
  [[nodiscard]] std::optional<std::span<const std::byte>> read(std::uint32_t tag, std::uint8_t tag_class = 0,
                                                               bool constructed = false) noexcept;
  /// Peeks at the next element's header.
  [[nodiscard]] std::optional<Header> peek() const noexcept;
  /// Skips the next definite-length element.
  bool skip() noexcept;

 private:
  std::span<const std::byte> in_;
};

/// Strips leading zero bytes from an INTEGER's content (its magnitude for non-negative values).
[[nodiscard]] std::span<const std::byte> integer_magnitude(std::span<const std::byte> content) noexcept;

}  // namespace dpgcert::detail::ber
