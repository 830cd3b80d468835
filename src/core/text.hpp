// Private: the one place where bytes that came from a file, a certificate or the store are made
// fit for an output channel. JSON output needs well-formed UTF-8; a terminal needs text without
// control characters. Both mark what they changed the same way (docs/output.md):
//
//   - a byte that is not part of a well-formed UTF-8 sequence becomes the four characters \xHH
//     (HH: two upper-case hex digits), in JSON and on a terminal alike;
//   - on a terminal only, a control character also becomes \xHH (C0 including TAB, LF and CR, and
//     DEL), a C1 control, a bidirectional override or a line/paragraph separator becomes \uHHHH.
//
// Compiled into the library, and into the tool, the tests and the fuzz targets as well (the library
// exports none of it).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>

namespace dpgcert::detail {

/// Whether `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
/// U+10FFFF), which is what a JSON document must be.
[[nodiscard]] bool is_utf8(std::string_view s) noexcept;

/// `s` as well-formed UTF-8: every well-formed sequence is kept, every other byte is written as the
/// four characters \xHH. Well-formed input is returned unchanged.
[[nodiscard]] std::string utf8_text(std::string_view s);

/// Makes every string and object key inside `j` well-formed UTF-8 with utf8_text(), in place, so
/// that dumping `j` cannot throw. Cheap when nothing needs changing.
void make_json_safe(nlohmann::json& j);

/// `j` after make_json_safe(): what every to_json() of dpgcert returns.
[[nodiscard]] nlohmann::json json_safe(nlohmann::json j);

/// Serialises `j` as dump(indent) does, after make_json_safe(); never throws on a string's bytes
/// (a replacing dump is the last line of defence).
[[nodiscard]] std::string dump_json(nlohmann::json j, int indent = -1);

/// `s` made safe to write to a terminal as one value: invalid UTF-8 and C0/DEL bytes become \xHH;
/// C1 controls (U+0080..U+009F), bidirectional controls (U+061C, U+200E, U+200F, U+202A..U+202E,
/// U+2066..U+2069) and U+2028/U+2029 become \uHHHH. Everything else is kept, a backslash included.
[[nodiscard]] std::string terminal_text(std::string_view s);

}  // namespace dpgcert::detail
