#include "core/der.hpp"

namespace dpgcert::detail::der {

bool is_string_tag(std::uint32_t tag) noexcept {
  switch (tag) {
    case 3: case 4: case 12: case 18: case 19: case 20: case 21: case 22: case 23: case 24:
    case 25: case 26: case 27: case 28: case 30:
      return true;
    default:
      return false;
  }
}

namespace {

constexpr std::size_t kMaxDepth = 64;

std::uint8_t byte_at(std::span<const std::byte> in, std::size_t i) noexcept {
  return static_cast<std::uint8_t>(in[i]);
}


struct Walker {
  std::size_t max_string_depth;
  ScanResult result;

  // Returns the element's total length, or 0 on failure (result says why).
  std::size_t element(std::span<const std::byte> in, std::size_t depth, std::size_t string_depth) noexcept {
    Header h;
    const Status st = read_header(in, h);
    if (st != Status::ok) {
      fail(st, st == Status::truncated ? "truncated" : "invalid tag or length");
      return 0;
    }
    if (!h.constructed) return h.header_length + h.content_length;
    if (depth + 1 > kMaxDepth) {
      fail(Status::invalid, "elements nested more than 64 deep");
      return 0;
    }
    std::size_t next_string_depth = string_depth;
    if (h.tag_class == 0 && is_string_tag(h.tag)) {
      next_string_depth += 1;
      if (next_string_depth > max_string_depth) {
        result.string_nesting_exceeded = true;
        fail(Status::invalid, "constructed strings nested more than " + std::to_string(max_string_depth) + " deep");
        return 0;
      }
    }
    std::span<const std::byte> rest = in.subspan(h.header_length);
    if (!h.indefinite) {
      std::span<const std::byte> content = rest.first(h.content_length);
      while (!content.empty()) {
        const std::size_t n = element(content, depth + 1, next_string_depth);
        if (n == 0) return 0;
        content = content.subspan(n);
      }
      return h.header_length + h.content_length;
    }
    std::size_t used = 0;
    for (;;) {
      if (rest.size() < 2) {
        fail(Status::truncated, "truncated (missing end-of-contents)");
        return 0;
      }
      if (byte_at(rest, 0) == 0 && byte_at(rest, 1) == 0) return h.header_length + used + 2;
      const std::size_t n = element(rest, depth + 1, next_string_depth);
      if (n == 0) return 0;
      used += n;
      rest = rest.subspan(n);
    }
  }

  void fail(Status st, std::string what) noexcept {
    if (result.status != Status::ok) return;
    result.status = st;
    try {
      result.problem = std::move(what);
    } catch (...) {
    }
  }
};

}  // namespace

Status read_header(std::span<const std::byte> in, Header& out) noexcept {
  out = Header{};
  std::size_t pos = 0;
  if (in.empty()) return Status::truncated;
  const std::uint8_t first = byte_at(in, pos++);
  out.tag_class = static_cast<std::uint8_t>(first >> 6);
  out.constructed = (first & 0x20) != 0;
  std::uint32_t tag = first & 0x1fU;
  if (tag == 0x1f) {
    tag = 0;
    for (int n = 0;; ++n) {
      if (pos >= in.size()) return Status::truncated;
      const std::uint8_t b = byte_at(in, pos++);
      if (n == 0 && b == 0x80) return Status::invalid;  // non-minimal tag
      if (n >= 4) return Status::invalid;               // tag number too large for us
      tag = (tag << 7) | (b & 0x7fU);
      if ((b & 0x80) == 0) break;
    }
  }
  out.tag = tag;
  if (pos >= in.size()) return Status::truncated;
  const std::uint8_t len0 = byte_at(in, pos++);
  if (len0 < 0x80) {
    out.content_length = len0;
  } else if (len0 == 0x80) {
    if (!out.constructed) return Status::invalid;
    out.indefinite = true;
  } else {
    const std::size_t count = len0 & 0x7fU;
    if (count > sizeof(std::size_t) || count == 0x7f) return Status::invalid;
    std::size_t len = 0;
    for (std::size_t i = 0; i < count; ++i) {
      if (pos >= in.size()) return Status::truncated;
      len = (len << 8) | byte_at(in, pos++);
    }
    out.content_length = len;
  }
  out.header_length = pos;
  if (!out.indefinite && out.content_length > in.size() - pos) return Status::truncated;
  return Status::ok;
}

ScanResult scan(std::span<const std::byte> in, std::size_t max_string_depth) noexcept {
  Walker w{max_string_depth, {}};
  const std::size_t n = w.element(in, 0, 0);
  if (w.result.status == Status::ok) w.result.length = n;
  return w.result;
}

std::optional<std::size_t> count_elements(std::span<const std::byte> in, std::size_t stop_after) noexcept {
  Header h;
  if (read_header(in, h) != Status::ok || !h.constructed) return std::nullopt;
  std::span<const std::byte> rest = in.subspan(h.header_length);
  if (!h.indefinite) rest = rest.first(h.content_length);
  std::size_t count = 0;
  while (!rest.empty() && count <= stop_after) {
    if (h.indefinite && rest.size() >= 2 && rest[0] == std::byte{0} && rest[1] == std::byte{0}) return count;
    const ScanResult child = scan(rest, 64);
    if (child.status != Status::ok) return std::nullopt;
    rest = rest.subspan(child.length);
    ++count;
  }
  if (h.indefinite && count <= stop_after) return std::nullopt;  // no end-of-contents
  return count;
}

std::optional<Header> Reader::peek() const noexcept {
  Header h;
  if (read_header(in_, h) != Status::ok || h.indefinite) return std::nullopt;
  return h;
}

bool Reader::skip() noexcept {
  const auto h = peek();
  if (!h) return false;
  in_ = in_.subspan(h->header_length + h->content_length);
  return true;
}

std::optional<std::span<const std::byte>> Reader::read(std::uint32_t tag, std::uint8_t tag_class,
                                                       bool constructed) noexcept {
  const bool want_constructed = constructed || (tag_class == kUniversal && tag == kSequence);
  const auto whole = read_element(tag, tag_class, want_constructed);
  if (!whole) return std::nullopt;
  return content_of(*whole);
}

std::optional<std::span<const std::byte>> Reader::read_element(std::uint32_t tag, std::uint8_t tag_class,
                                                               bool constructed) noexcept {
  const auto h = peek();
  if (!h || h->tag != tag || h->tag_class != tag_class || h->constructed != constructed) return std::nullopt;
  const auto whole = in_.first(h->header_length + h->content_length);
  in_ = in_.subspan(whole.size());
  return whole;
}

std::size_t element_length(std::span<const std::byte> in) noexcept {
  Header h;
  if (read_header(in, h) != Status::ok || h.indefinite) return 0;
  return h.header_length + h.content_length;
}

bool definite(std::span<const std::byte> in, std::size_t max_depth) noexcept {
  while (!in.empty()) {
    Header h;
    if (read_header(in, h) != Status::ok || h.indefinite) return false;
    if (h.constructed && (max_depth == 0 || !definite(in.subspan(h.header_length, h.content_length), max_depth - 1))) {
      return false;
    }
    in = in.subspan(h.header_length + h.content_length);
  }
  return true;
}

std::span<const std::byte> content_of(std::span<const std::byte> element) noexcept {
  Header h;
  if (read_header(element, h) != Status::ok || h.indefinite) return {};
  return element.subspan(h.header_length, h.content_length);
}

std::span<const std::byte> integer_magnitude(std::span<const std::byte> content) noexcept {
  while (content.size() > 1 && content.front() == std::byte{0}) content = content.subspan(1);
  return content;
}

}  // namespace dpgcert::detail::der
