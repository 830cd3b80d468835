// Store locations as they may be shown: the password of a PostgreSQL URI (user:PASSWORD@ and
// ?password=) or keyword string (password=...) replaced by "***". Backend-neutral (no libpq), so a
// tool can redact a location whether or not the backend is built in.
#include <dpgcert/store.hpp>

#include <cctype>

namespace dpgcert {
namespace {

bool starts(std::string_view s, std::string_view prefix) noexcept { return s.substr(0, prefix.size()) == prefix; }

/// "a=1&password=x&b=2" -> "a=1&password=***&b=2".
std::string redact_query(std::string_view query) {
  std::string out;
  for (std::size_t start = 0;;) {
    const std::size_t end = std::min(query.find('&', start), query.size());
    const std::string_view pair = query.substr(start, end - start);
    out += starts(pair, "password=") ? std::string_view("password=***") : pair;
    if (end >= query.size()) break;
    out += '&';
    start = end + 1;
  }
  return out;
}

/// "host=h password='a b' user=u" -> "host=h password=*** user=u" (libpq's keyword syntax:
/// values bare or in single quotes with backslash escapes; spaces allowed around '=').
std::string redact_keywords(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (std::isspace(static_cast<unsigned char>(text[i])) != 0) {
      out += text[i++];
      continue;
    }
    std::size_t k = i;
    while (k < text.size() && text[k] != '=' && std::isspace(static_cast<unsigned char>(text[k])) == 0) ++k;
    const std::string_view key = text.substr(i, k - i);
    out += key;
    std::size_t j = k;
    while (j < text.size() && std::isspace(static_cast<unsigned char>(text[j])) != 0) ++j;
    if (j >= text.size() || text[j] != '=') {
      i = k;
      continue;
    }
    ++j;
    while (j < text.size() && std::isspace(static_cast<unsigned char>(text[j])) != 0) ++j;
    std::size_t v = j;
    if (v < text.size() && text[v] == '\'') {
      for (++v; v < text.size() && text[v] != '\''; ++v) {
        if (text[v] == '\\') ++v;
      }
      if (v < text.size()) ++v;
    } else {
      while (v < text.size() && std::isspace(static_cast<unsigned char>(text[v])) == 0) ++v;
    }
    out += '=';
    out += key == "password" ? std::string_view("***") : text.substr(j, v - j);
    i = v;
  }
  return out;
}

}  // namespace

std::string display_location(std::string_view location) {
  const std::size_t colon = location.find(':');
  if (colon == std::string_view::npos) return std::string(location);
  std::string scheme(location.substr(0, colon));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "postgresql" && scheme != "postgres") return std::string(location);
  std::string_view rest = location.substr(colon + 1);
  std::string out(location.substr(0, colon + 1));
  if (!starts(rest, "//")) return out + redact_keywords(rest);
  // postgresql://[user[:password]@][host][:port][/db][?k=v&...]
  out += "//";
  rest.remove_prefix(2);
  const std::size_t q = rest.find('?');
  const std::string_view authority_path = rest.substr(0, q);
  const std::size_t slash = authority_path.find('/');
  std::string_view authority = authority_path.substr(0, slash);
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    const std::size_t pw = userinfo.find(':');
    out += userinfo.substr(0, pw);
    if (pw != std::string_view::npos) out += ":***";
    out += '@';
    authority.remove_prefix(at + 1);
  }
  out += authority;
  if (slash != std::string_view::npos) out += authority_path.substr(slash);
  if (q != std::string_view::npos) {
    out += '?';
    out += redact_query(rest.substr(q + 1));
  }
  return out;
}

}  // namespace dpgcert
