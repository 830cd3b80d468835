#include "pkcs12/bmp_string.hpp"

#include <cstdint>

namespace dpgcert::detail {
namespace {

void put_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

void put_unit(std::vector<unsigned char>& out, std::uint32_t unit) {
  out.push_back(static_cast<unsigned char>(unit >> 8));
  out.push_back(static_cast<unsigned char>(unit & 0xFF));
}

bool is_surrogate(std::uint32_t cp) { return cp >= 0xD800 && cp <= 0xDFFF; }

}  // namespace

std::optional<std::string> bmp_to_utf8(std::span<const unsigned char> bmp) {
  std::size_t len = bmp.size();
  if (len % 2 != 0) return std::nullopt;
  if (len >= 2 && bmp[len - 2] == 0 && bmp[len - 1] == 0) len -= 2;
  std::string out;
  out.reserve(len + len / 2);
  for (std::size_t i = 0; i < len; i += 2) {
    auto cp = static_cast<std::uint32_t>((bmp[i] << 8) | bmp[i + 1]);
    if (cp >= 0xDC00 && cp <= 0xDFFF) return std::nullopt;  // a low surrogate first
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (i + 3 >= len) return std::nullopt;
      const auto low = static_cast<std::uint32_t>((bmp[i + 2] << 8) | bmp[i + 3]);
      if (low < 0xDC00 || low > 0xDFFF) return std::nullopt;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      i += 2;
    }
    put_utf8(out, cp);
  }
  return out;
}

std::optional<std::vector<unsigned char>> utf8_to_bmp(std::string_view utf8) {
  std::vector<unsigned char> out;
  out.reserve(utf8.size() * 2);
  for (std::size_t i = 0; i < utf8.size();) {
    const auto lead = static_cast<unsigned char>(utf8[i]);
    std::size_t extra = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if (lead < 0x80) {
      cp = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      extra = 1, cp = lead & 0x1F, min = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      extra = 2, cp = lead & 0x0F, min = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      extra = 3, cp = lead & 0x07, min = 0x10000;
    } else {
      return std::nullopt;
    }
    if (utf8.size() - i <= extra) return std::nullopt;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto c = static_cast<unsigned char>(utf8[i + k]);
      if ((c & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || is_surrogate(cp)) return std::nullopt;
    if (cp >= 0x10000) {
      const std::uint32_t v = cp - 0x10000;
      put_unit(out, 0xD800 + (v >> 10));
      put_unit(out, 0xDC00 + (v & 0x3FF));
    } else {
      put_unit(out, cp);
    }
    i += extra + 1;
  }
  return out;
}

}  // namespace dpgcert::detail
