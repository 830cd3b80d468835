// The output helpers themselves: any bytes through utf8_text, make_json_safe (as a value and as an
// object key) and terminal_text.
#include "fuzz_common.hpp"

using namespace dpgcert;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string s(reinterpret_cast<const char*>(data), size);
  const std::string u = detail::utf8_text(s);
  if (!detail::is_utf8(u)) std::abort();
  if (detail::is_utf8(s) && u != s) std::abort();  // well-formed input is kept as it is
  // The bytes once as an object's value, once in an array, once as a key: each a path of its own
  // in make_json_safe (more copies would cost time, not coverage).
  nlohmann::json j = {{"v", s}, {"a", nlohmann::json::array({s})}};
  j[s] = 1;
  detail::make_json_safe(j);
  fuzz::check_json(j);
  if (!detail::is_utf8(detail::dump_json(nlohmann::json{{s, s}}))) std::abort();
  fuzz::check_terminal(s);
  return 0;
}
