#include "cli.hpp"
#include "core/text.hpp"
#include "terminal.hpp"

#include <dpgcert/json.hpp>
#include <dpgcert/oces.hpp>
#include <dpgcert/oces_json.hpp>

#include <nlohmann/json.hpp>

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

namespace dpgcert::cli {
namespace {

/// Removes one trailing "\n" or "\r\n": a password file's newline is not part of the password.
SecretBytes strip_newline(SecretBytes s) {
  std::size_t n = s.size();
  if (n > 0 && s.data()[n - 1] == std::byte{'\n'}) --n;
  if (n > 0 && s.data()[n - 1] == std::byte{'\r'}) --n;
  if (n == s.size()) return s;
  return SecretBytes(s.bytes().first(n));
}

SecretBytes read_stream(std::istream& in, const std::string& what) {
  constexpr std::size_t kMax = 64 * 1024;
  SecretBytes buf = SecretBytes::zeroed(kMax);
  std::size_t n = 0;
  while (n < kMax && in.good()) {
    in.read(reinterpret_cast<char*>(buf.data()) + n, static_cast<std::streamsize>(kMax - n));
    n += static_cast<std::size_t>(in.gcount());
  }
  if (n == kMax) throw Error(ErrorCode::invalid_argument, what + " is longer than 64 KiB: not a password");
  return SecretBytes(buf.bytes().first(n));
}

}  // namespace

SecretBytes PasswordSource::read() const {
  const int sources = (file.empty() ? 0 : 1) + (env.empty() ? 0 : 1) + (stdin_ ? 1 : 0);
  if (sources > 1) {
    throw Error(ErrorCode::invalid_argument, "give one of --password-file, --password-env, --password-stdin");
  }
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(ErrorCode::io, "cannot read password file '" + file + "': " + std::strerror(errno));
    return strip_newline(read_stream(in, "password file '" + file + "'"));
  }
  if (!env.empty()) {
    const char* v = std::getenv(env.c_str());
    if (v == nullptr) throw Error(ErrorCode::invalid_argument, "environment variable " + env + " is not set");
    return SecretBytes::from_text(v);
  }
  if (stdin_) return strip_newline(read_stream(std::cin, "standard input"));
  return {};
}

Time Common::now_time() const {
  if (now.empty()) return SystemClock{}.now();
  return parse_rfc3339(now);
}

void print_error(const Common& common, const Error& error) {
  if (common.json) {
    print_json(nlohmann::json{{"error", {{"code", std::string(to_string(error.code()))}, {"message", error.what()}}}});
  } else {
    std::cerr << "dpgcert: " << to_string(error.code()) << ": " << term(error.what()) << '\n';
  }
}

std::string relative_days(Time t, Time now) {
  const auto secs = (t - now).count();
  const long long days = secs >= 0 ? secs / 86400 : -((-secs) / 86400);
  if (days == 0) return secs >= 0 ? "today" : "today (passed)";
  if (days > 0) return "in " + std::to_string(days) + (days == 1 ? " day" : " days");
  return std::to_string(-days) + (days == -1 ? " day ago" : " days ago");
}

void print_json(const nlohmann::json& j) { std::cout << detail::dump_json(j, 2) << '\n'; }

nlohmann::json certificate_json(const Certificate& cert) {
  nlohmann::json j = to_json(cert);
  j["oces"] = oces::to_json(oces::identify(cert));
  return j;
}

namespace {
bool g_wide = false;
}  // namespace

void set_wide_output(bool wide) noexcept { g_wide = wide; }

std::optional<std::size_t> output_width() {
  if (g_wide || ::isatty(STDOUT_FILENO) != 1) return std::nullopt;
  if (const char* c = std::getenv("COLUMNS"); c != nullptr && *c != '\0') {
    char* end = nullptr;
    const long n = std::strtol(c, &end, 10);
    if (*end == '\0' && n >= 40 && n <= 10000) return static_cast<std::size_t>(n);
  }
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40) return ws.ws_col;
  return 80;
}

void print_row(std::string_view label, std::string_view raw_value) {
  const std::string escaped = term(raw_value);  // a value from a file, a certificate or the store
  std::string_view value = escaped;
  // "  Label               value": on a terminal, values wrap at its width onto lines indented
  // like the value, after a comma, a space or a "+" where possible (names, lists), else hard
  // (fingerprints). Piped, a value stays on its line.
  constexpr std::size_t kIndent = 22;
  const std::size_t kWidth = output_width().value_or(value.size() + kIndent + 1) - kIndent;
  std::cout << "  " << label;
  for (std::size_t i = label.size(); i < 20; ++i) std::cout << ' ';
  if (label.size() >= 20) std::cout << ' ';
  bool first = true;
  while (true) {
    if (!first) std::cout << std::string(kIndent, ' ');
    first = false;
    if (value.size() <= kWidth) {
      std::cout << value << '\n';
      return;
    }
    std::size_t cut = value.substr(0, kWidth).find_last_of(", +");
    cut = (cut == std::string_view::npos || cut < kWidth / 4) ? kWidth : cut + 1;
    std::string_view line = value.substr(0, cut);
    while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
    std::cout << line << '\n';
    value.remove_prefix(cut);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
}

void print_identity_rows(const Certificate& cert) {
  const oces::Identity id = oces::identify(cert);
  if (!id.is_oces()) {
    print_row("OCES", "not an OCES certificate");
    return;
  }
  print_row("OCES", std::string(oces::to_string(id.generation)) + " " +
                        std::string(oces::display_name(id.type)) + ", " + std::string(oces::to_string(id.environment)));
  if (id.cvr) print_row("CVR", *id.cvr + (id.cvr_valid.value_or(true) ? "" : " (check digit does not match)"));
  if (id.organisation) print_row("Organisation", *id.organisation);
  if (id.common_name) print_row("Name", *id.common_name);
  if (id.uid) print_row("UID", *id.uid);
  if (id.fid) print_row("FID", *id.fid);
  if (id.rid) print_row("RID", *id.rid);
  if (id.pid) print_row("PID", *id.pid);
  if (id.uuid) print_row("UUID", *id.uuid);
  if (id.email) print_row("E-mail", *id.email);
  if (id.issuing_ca) print_row("Issuing CA", *id.issuing_ca);
  for (const auto& w : id.warnings) print_row("Warning", w);
}

}  // namespace dpgcert::cli
