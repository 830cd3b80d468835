// The validation report as a checklist for people (to_text).
#include "core/text.hpp"

#include <dpgcert/validation.hpp>

#include <algorithm>
#include <cctype>

namespace dpgcert {
namespace {

constexpr std::size_t kWidth = 80;
constexpr std::size_t kIdColumn = 24;  // "key_matches_certificate" is 23 characters

/// Appends `text` wrapped to kWidth columns: the first line continues after `used` columns, the
/// others are indented by `indent`. Breaks at spaces, or hard when a word is too long. The text
/// (names and messages from certificates) is escaped for a terminal first.
void append_wrapped(std::string& out, std::string_view raw_text, std::size_t used, std::size_t indent) {
  const std::string escaped = detail::terminal_text(raw_text);
  std::string_view text = escaped;
  std::size_t col = used;
  bool line_start = true;
  while (!text.empty()) {
    const std::size_t sp = text.find(' ');
    std::string_view word = text.substr(0, sp);
    text = sp == std::string_view::npos ? std::string_view{} : text.substr(sp + 1);
    if (word.empty()) continue;
    while (!word.empty()) {
      const std::size_t need = word.size() + (line_start ? 0 : 1);
      if (col + need <= kWidth) {
        if (!line_start) out += ' ';
        out += word;
        col += need;
        line_start = false;
        word = {};
      } else if (line_start && (col <= indent || word.size() > kWidth - indent)) {
        // A word longer than a whole line: break it.
        const std::size_t room = kWidth > col ? kWidth - col : 1;
        out += word.substr(0, room);
        word.remove_prefix(std::min(room, word.size()));
        if (!word.empty()) {
          out += '\n';
          out.append(indent, ' ');
          col = indent;
        } else {
          col += room;
          line_start = false;
        }
      } else {
        out += '\n';
        out.append(indent, ' ');
        col = indent;
        line_start = true;
      }
    }
  }
  out += '\n';
}

void row(std::string& out, std::string_view label, std::string_view value) {
  constexpr std::size_t kLabel = 13;
  std::string head(label);
  head.resize(kLabel, ' ');
  out += head;
  append_wrapped(out, value, kLabel, kLabel);
}

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

}  // namespace

std::string to_text(const ValidationReport& report) {
  std::string out;
  if (report.certificate) {
    row(out, "Certificate", report.certificate->subject().to_string());
    row(out, "Issuer", report.certificate->issuer().to_string());
    if (report.identity) row(out, "OCES", oces::summary(*report.identity));
  } else {
    row(out, "Certificate", "none");
  }
  row(out, "Checked at", format_rfc3339(report.at));
  out += '\n';
  for (const auto& c : report.checks) {
    // Built by appending: GCC 12 warns falsely (-Wrestrict) about "literal" + std::string at -O3.
    std::string head(1, '[');
    head.append(upper(to_string(c.status))).append("] ").append(c.id);
    if (head.size() < 7 + kIdColumn) head.resize(7 + kIdColumn, ' ');
    else head += ' ';
    out += head;
    append_wrapped(out, c.message, head.size(), 7 + kIdColumn);
  }
  out += '\n';
  switch (report.verdict) {
    case CheckStatus::pass: out += "Verdict: PASS - the certificate can be used\n"; break;
    case CheckStatus::warn: out += "Verdict: WARN - usable, but read the warnings\n"; break;
    default: out += "Verdict: FAIL - do not use this certificate as it is\n"; break;
  }
  return out;
}

}  // namespace dpgcert
