#include <dpgcert/error.hpp>
#include <dpgcert/time.hpp>

#include <charconv>
#include <cstdio>

namespace dpgcert {
namespace {

bool parse_int(std::string_view s, int& out) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

[[noreturn]] void bad_time(std::string_view text) {
  throw Error(ErrorCode::invalid_argument,
              "not an RFC 3339 time: '" + std::string(text.substr(0, 64)) +
                  "' (expected e.g. 2026-11-29T12:00:00Z or 2026-11-29)");
}

}  // namespace

std::string format_rfc3339(Time t) {
  using namespace std::chrono;
  const auto days = floor<std::chrono::days>(t);
  const year_month_day ymd{days};
  const hh_mm_ss hms{t - days};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

Time parse_rfc3339(std::string_view text) {
  using namespace std::chrono;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (text.size() < 10 || text[4] != '-' || text[7] != '-' || !parse_int(text.substr(0, 4), y) ||
      !parse_int(text.substr(5, 2), mo) || !parse_int(text.substr(8, 2), d)) {
    bad_time(text);
  }
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) bad_time(text);
  Time t = time_point_cast<seconds>(sys_days{ymd});
  if (text.size() == 10) return t;
  if (text.size() < 20 || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || text[13] != ':' ||
      text[16] != ':' || !parse_int(text.substr(11, 2), h) || !parse_int(text.substr(14, 2), mi) ||
      !parse_int(text.substr(17, 2), s) || h > 23 || mi > 59 || s > 60) {
    bad_time(text);
  }
  std::string_view rest = text.substr(19);
  if (!rest.empty() && rest.front() == '.') {  // fractional seconds are dropped
    rest.remove_prefix(1);
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') rest.remove_prefix(1);
  }
  int offset = 0;
  if (rest == "Z" || rest == "z") {
    offset = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh = 0, om = 0;
    if (!parse_int(rest.substr(1, 2), oh) || !parse_int(rest.substr(4, 2), om) || oh > 23 || om > 59) {
      bad_time(text);
    }
    offset = (oh * 3600 + om * 60) * (rest[0] == '-' ? -1 : 1);
  } else {
    bad_time(text);
  }
  return t + hours{h} + minutes{mi} + seconds{s} - seconds{offset};
}

Time SystemClock::now() const {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

}  // namespace dpgcert
