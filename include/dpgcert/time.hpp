// Time as dpgcert uses it: UTC seconds, and clocks injected by the caller.
#pragma once

#include <dpgcert/export.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dpgcert {

/// A point in time, UTC, with one-second resolution.
using Time = std::chrono::sys_seconds;

/// Seconds since 1970-01-01T00:00:00Z.
[[nodiscard]] constexpr std::int64_t to_unix(Time t) noexcept { return t.time_since_epoch().count(); }
[[nodiscard]] constexpr Time from_unix(std::int64_t s) noexcept { return Time{std::chrono::seconds{s}}; }

/// RFC 3339 text in UTC, e.g. "2026-11-29T00:45:13Z".
[[nodiscard]] DPGCERT_API std::string format_rfc3339(Time t);
/// Parses RFC 3339 ("2026-11-29T00:45:13Z", "...+01:00", or a bare date "2026-11-29" as midnight UTC).
/// Throws Error(invalid_argument) for anything else.
[[nodiscard]] DPGCERT_API Time parse_rfc3339(std::string_view text);

/// The source of "now" for everything time-dependent. Implementations must be thread-safe.
class DPGCERT_API Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual Time now() const = 0;
};

/// The system's real-time clock.
class DPGCERT_API SystemClock final : public Clock {
 public:
  [[nodiscard]] Time now() const override;
};

/// A clock that says what it is told; for tests and for "what if" runs.
class DPGCERT_API FixedClock final : public Clock {
 public:
  explicit FixedClock(Time t) noexcept : t_(to_unix(t)) {}
  [[nodiscard]] Time now() const override { return from_unix(t_.load()); }
  void set(Time t) noexcept { t_.store(to_unix(t)); }
  void advance(std::chrono::seconds d) noexcept { t_.fetch_add(d.count()); }

 private:
  std::atomic<std::int64_t> t_;
};

}  // namespace dpgcert
