#include "core/text.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <utility>

namespace dpgcert::detail {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

/// The length of the well-formed UTF-8 sequence at the start of `s` (1..4), its code point in
/// `cp`; 0 when the first byte does not start one (RFC 3629, Table 3-7 of Unicode).
std::size_t decode(std::string_view s, char32_t& cp) noexcept {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c0 = b(0);
  if (c0 < 0x80) {
    cp = c0;
    return 1;
  }
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c0 >= 0xC2 && c0 <= 0xDF) {
    len = 2;
  } else if (c0 >= 0xE0 && c0 <= 0xEF) {
    len = 3;
    if (c0 == 0xE0) lo = 0xA0;  // no overlong forms
    if (c0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (c0 >= 0xF0 && c0 <= 0xF4) {
    len = 4;
    if (c0 == 0xF0) lo = 0x90;  // no overlong forms
    if (c0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < len) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (std::size_t i = 2; i < len; ++i) {
    if (b(i) < 0x80 || b(i) > 0xBF) return 0;
  }
  char32_t v = c0 & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
  for (std::size_t i = 1; i < len; ++i) v = (v << 6) | (b(i) & 0x3F);
  cp = v;
  return len;
}

void append_byte_escape(std::string& out, unsigned char c) {
  out += '\\';
  out += 'x';
  out += kHex[c >> 4];
  out += kHex[c & 0x0F];
}

void append_code_point_escape(std::string& out, char32_t cp) {
  out += '\\';
  out += 'u';
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 0x0F];
}

/// Whether a code point must not reach a terminal as it is (beyond C0 and DEL).
bool terminal_unsafe(char32_t cp) noexcept {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
         (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

bool is_utf8(std::string_view s) noexcept {
  while (!s.empty()) {
    char32_t cp = 0;
    const std::size_t n = decode(s, cp);
    if (n == 0) return false;
    s.remove_prefix(n);
  }
  return true;
}

std::string utf8_text(std::string_view s) {
  if (is_utf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 16);
  while (!s.empty()) {
    char32_t cp = 0;
    const std::size_t n = decode(s, cp);
    if (n == 0) {
      append_byte_escape(out, static_cast<unsigned char>(s.front()));
      s.remove_prefix(1);
    } else {
      out.append(s.substr(0, n));
      s.remove_prefix(n);
    }
  }
  return out;
}

void make_json_safe(nlohmann::json& j) {
  if (j.is_string()) {
    auto& s = j.get_ref<std::string&>();
    if (!is_utf8(s)) s = utf8_text(s);
  } else if (j.is_array()) {
    for (auto& e : j) make_json_safe(e);
  } else if (j.is_object()) {
    bool bad_key = false;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!is_utf8(it.key())) bad_key = true;
      make_json_safe(it.value());
    }
    if (bad_key) {
      nlohmann::json fixed = nlohmann::json::object();
      for (auto it = j.begin(); it != j.end(); ++it) fixed[utf8_text(it.key())] = std::move(it.value());
      j = std::move(fixed);
    }
  }
}

nlohmann::json json_safe(nlohmann::json j) {
  make_json_safe(j);
  return j;
}

std::string dump_json(nlohmann::json j, int indent) {
  make_json_safe(j);
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string terminal_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    char32_t cp = 0;
    const std::size_t n = decode(s, cp);
    if (n == 0 || cp < 0x20 || cp == 0x7F) {
      append_byte_escape(out, static_cast<unsigned char>(s.front()));
      s.remove_prefix(1);
      continue;
    }
    if (terminal_unsafe(cp)) {
      append_code_point_escape(out, cp);
    } else {
      out.append(s.substr(0, n));
    }
    s.remove_prefix(n);
  }
  return out;
}

}  // namespace dpgcert::detail
