#include "x509/base64.hpp"

#include <array>
#include <cstdint>

namespace dpgcert::detail {
namespace {

constexpr std::array<std::int8_t, 256> make_table() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < alphabet.size(); ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  return t;
}
constexpr auto kTable = make_table();

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

}  // namespace

std::optional<std::vector<std::byte>> base64_decode(std::string_view text) {
  std::vector<std::byte> out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t acc = 0;
  int n = 0;
  int padding = 0;
  for (char c : text) {
    if (is_space(c)) continue;
    if (c == '=') {
      ++padding;
      if (padding > 2) return std::nullopt;
      ++n;
      acc <<= 6;
    } else {
      if (padding > 0) return std::nullopt;  // data after padding
      const auto v = kTable[static_cast<unsigned char>(c)];
      if (v < 0) return std::nullopt;
      acc = (acc << 6) | static_cast<std::uint32_t>(v);
      ++n;
    }
    if (n == 4) {
      out.push_back(static_cast<std::byte>((acc >> 16) & 0xff));
      if (padding < 2) out.push_back(static_cast<std::byte>((acc >> 8) & 0xff));
      if (padding < 1) out.push_back(static_cast<std::byte>(acc & 0xff));
      acc = 0;
      n = 0;
    }
  }
  if (n != 0) return std::nullopt;
  return out;
}

}  // namespace dpgcert::detail
