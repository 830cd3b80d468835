// Shared by the fuzz targets: a context with small limits (so that an input claiming many KDF
// iterations costs microseconds, not the fuzzer's time) and the checks every target makes on what
// it renders: every JSON dumps without throwing and is valid UTF-8; the terminal text has no
// control characters.
#pragma once

#include "core/text.hpp"

#include <dpgcert/context.hpp>
#include <dpgcert/error.hpp>
#include <dpgcert/json.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

namespace dpgcert::fuzz {

inline const Context& context() {
  static const Context ctx = [] {
    Limits l = Limits::defaults();
    l.max_iterations = 64;
    l.max_input_bytes = 64 * 1024;
    return Context(l);
  }();
  return ctx;
}

inline std::span<const std::byte> bytes(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const std::byte*>(data), size};
}

/// Aborts (a finding) when `j` does not dump to well-formed UTF-8 or when dumping throws.
inline void check_json(const nlohmann::json& j) {
  const std::string text = j.dump();  // throws type_error 316 on a byte that is not UTF-8
  if (!detail::is_utf8(text)) std::abort();
  if (!nlohmann::json::accept(text)) std::abort();
}

/// Aborts when `text` as printed by the tool could act on a terminal.
inline void check_terminal(std::string_view raw) {
  const std::string shown = detail::terminal_text(raw);
  if (!detail::is_utf8(shown)) std::abort();
  for (const char c : shown) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) std::abort();
  }
  if (detail::terminal_text(shown) != shown) std::abort();  // escaping twice changes nothing
}

/// Runs `body`; dpgcert::Error is an expected outcome for hostile input, anything else escapes.
template <class F>
void expect_errors_only(F&& body) {
  try {
    body();
  } catch (const Error& e) {
    check_json(to_json(e));  // messages may quote input (a PEM label): to_json keeps them JSON-safe
    check_terminal(e.what());
  }
}

}  // namespace dpgcert::fuzz
