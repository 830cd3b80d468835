// Private: the one bounded BER/DER reader of dpgcert (framing checks, sniffing, reading known
// structures such as certificates, key components and PKCS#12 bags). Every read is bounded by its
// input and fails softly; nothing here allocates except ScanResult's message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace dpgcert::detail::der {

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
/// Whether a universal tag is a string type, which BER may encode constructed (DER never does).
[[nodiscard]] bool is_string_tag(std::uint32_t tag) noexcept;

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

/// The total length (header and content) of the definite-length element at the start of `in`, or 0
/// when it is not a complete, well-framed element (content is not looked into).
[[nodiscard]] std::size_t element_length(std::span<const std::byte> in) noexcept;

/// Whether `in` is a sequence of definite-length elements, each fitting its parent, down to
/// `max_depth` levels of constructed elements (DER framing; an indefinite length anywhere fails).
[[nodiscard]] bool definite(std::span<const std::byte> in, std::size_t max_depth) noexcept;

/// The content of the well-framed element at the start of `element` (empty when it is not one).
[[nodiscard]] std::span<const std::byte> content_of(std::span<const std::byte> element) noexcept;

/// Class numbers of a tag (the two high bits of its first byte).
inline constexpr std::uint8_t kUniversal = 0;
inline constexpr std::uint8_t kContextSpecific = 2;

/// A cursor over DER content for reading known structures; every read fails softly.
class Reader {
 public:
  explicit Reader(std::span<const std::byte> in) noexcept : in_(in) {}
  [[nodiscard]] bool empty() const noexcept { return in_.empty(); }
  /// Reads the next definite-length element; returns its content if it has the given universal
  /// (or, with tag_class 2, context-specific) tag. A universal SEQUENCE is always constructed.
  [[nodiscard]] std::optional<std::span<const std::byte>> read(std::uint32_t tag, std::uint8_t tag_class = 0,
                                                               bool constructed = false) noexcept;
  /// As read(), but returns the whole element (header included) and takes `constructed` as given.
  [[nodiscard]] std::optional<std::span<const std::byte>> read_element(std::uint32_t tag, std::uint8_t tag_class,
                                                                       bool constructed) noexcept;
  /// Peeks at the next element's header.
  [[nodiscard]] std::optional<Header> peek() const noexcept;
  /// Skips the next definite-length element.
  bool skip() noexcept;

 private:
  std::span<const std::byte> in_;
};

/// Strips leading zero bytes from an INTEGER's content (its magnitude for non-negative values).
[[nodiscard]] std::span<const std::byte> integer_magnitude(std::span<const std::byte> content) noexcept;

}  // namespace dpgcert::detail::der
