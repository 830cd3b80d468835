#include <dpgcert/error.hpp>

#include <array>
#include <utility>

namespace dpgcert {
namespace {
constexpr std::array<std::pair<ErrorCode, std::string_view>, 10> kNames{{
    {ErrorCode::bad_password, "bad_password"},
    {ErrorCode::malformed, "malformed"},
    {ErrorCode::unsupported, "unsupported"},
    {ErrorCode::limit_exceeded, "limit_exceeded"},
    {ErrorCode::not_found, "not_found"},
    {ErrorCode::conflict, "conflict"},
    {ErrorCode::io, "io"},
    {ErrorCode::invalid_argument, "invalid_argument"},
    {ErrorCode::internal, "internal"},
    {ErrorCode::locked, "locked"},
}};
}  // namespace

std::string_view to_string(ErrorCode code) noexcept {
  for (const auto& [c, name] : kNames) {
    if (c == code) return name;
  }
  return "internal";
}

ErrorCode error_code_from_string(std::string_view name) {
  for (const auto& [c, n] : kNames) {
    if (n == name) return c;
  }
  throw Error(ErrorCode::invalid_argument, "unknown error code name '" + std::string(name) + "'");
}

Error::Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}

}  // namespace dpgcert
