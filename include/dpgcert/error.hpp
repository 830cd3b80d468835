// dpgcert's one exception type and its stable error codes.
#pragma once

#include <dpgcert/export.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace dpgcert {

/// Stable error codes. The numeric values are part of the C ABI; never renumber.
enum class ErrorCode : int {
  bad_password = 1,     ///< A password did not open the file (PKCS#12 MAC or decryption failed).
  malformed = 2,        ///< Not the expected format, truncated, trailing garbage, bad encoding.
  unsupported = 3,      ///< Well-formed, but uses an algorithm or feature that is not available.
  limit_exceeded = 4,   ///< The input is larger or costlier than the configured limits allow.
  not_found = 5,        ///< A named object does not exist.
  conflict = 6,         ///< The change conflicts with what is stored.
  io = 7,               ///< A file or the operating system failed.
  invalid_argument = 8, ///< The caller passed something that cannot be right.
  internal = 9,         ///< A bug or an unexpected failure of a dependency.
  locked = 10,          ///< A PIN is locked after too many wrong tries (a token): an officer must reset it.
};

/// The fixed lowercase name of a code ("bad_password", ...).
[[nodiscard]] DPGCERT_API std::string_view to_string(ErrorCode code) noexcept;

/// Parses a name produced by to_string(); throws Error(invalid_argument) for an unknown name.
[[nodiscard]] DPGCERT_API ErrorCode error_code_from_string(std::string_view name);

/// The only exception type dpgcert throws. Messages say what and where, never secrets.
class DPGCERT_API Error final : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message);

  [[nodiscard]] ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace dpgcert
