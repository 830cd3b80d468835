// Small text helpers of the lifecycle layer: a name's attribute out of RFC 4514 text, and serial
// numbers in decimal (as the x509-certificate-exporter labels them). Inline: pure, small, and
// tested directly. Private to the lifecycle layer.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dpgcert::lifecycle_detail {
namespace names_detail {

inline int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

/// The value of one "type=value" pair, unescaped (RFC 4514 2.4: "\," and friends, "\XX" hex pairs).
inline std::string unescape(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\\' || i + 1 >= v.size()) {
      out += v[i];
      continue;
    }
    const int hi = hex_value(v[i + 1]);
    const int lo = i + 2 < v.size() ? hex_value(v[i + 2]) : -1;
    if (hi >= 0 && lo >= 0) {
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += v[i + 1];
      ++i;
    }
  }
  return out;
}

}  // namespace names_detail

/// The first value of attribute `type` (e.g. "CN") in RFC 4514 text, unescaped.
inline std::optional<std::string> rfc4514_first(std::string_view dn, std::string_view type) {
  using namespace names_detail;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= dn.size(); ++i) {
    const bool end = i == dn.size();
    if (!end && dn[i] == '\\') {
      ++i;  // the escaped character never separates
      continue;
    }
    if (!end && dn[i] != ',' && dn[i] != '+') continue;
    const std::string_view pair = dn.substr(start, i - start);
    start = i + 1;
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && iequals(pair.substr(0, eq), type)) return unescape(pair.substr(eq + 1));
  }
  return std::nullopt;
}

/// A lowercase (or uppercase) hex number as decimal digits ("0" for empty input).
inline std::string hex_to_decimal(std::string_view hex) {
  using names_detail::hex_value;
  // Little-endian base-10^9 limbs: each hex digit multiplies by 16 and adds.
  std::vector<std::uint32_t> limbs{0};
  constexpr std::uint64_t kBase = 1'000'000'000;
  for (char c : hex) {
    const int d = hex_value(c);
    if (d < 0) continue;
    std::uint64_t carry = static_cast<std::uint64_t>(d);
    for (std::uint32_t& limb : limbs) {
      const std::uint64_t v = static_cast<std::uint64_t>(limb) * 16 + carry;
      limb = static_cast<std::uint32_t>(v % kBase);
      carry = v / kBase;
    }
    if (carry > 0) limbs.push_back(static_cast<std::uint32_t>(carry));
  }
  std::string out = std::to_string(limbs.back());
  for (std::size_t i = limbs.size() - 1; i-- > 0;) {
    const std::string part = std::to_string(limbs[i]);
    out += std::string(9 - part.size(), '0') + part;
  }
  return out;
}

}  // namespace dpgcert::lifecycle_detail
