// The password map, password prompts, colour and the progress bar of the tool.
#include "onboarding.hpp"
#include "terminal.hpp"

#include "core/file_io.hpp"

#include <dpgcert/pkcs12.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>

#include <fcntl.h>
#include <termios.h>
#include <csignal>
#include <unistd.h>

namespace dpgcert::cli {
namespace {

namespace fs = std::filesystem;
constexpr std::size_t kMaxMapBytes = 16 * 1024 * 1024;

SecretBytes read_secret_file(const fs::path& path, std::string_view what) {
  return detail::read_secret_file(path, {.limit = kMaxMapBytes, .what = what});
}

/// Without one trailing "\n" or "\r\n".
std::span<const std::byte> without_newline(std::span<const std::byte> s) {
  if (!s.empty() && s.back() == std::byte{'\n'}) s = s.first(s.size() - 1);
  if (!s.empty() && s.back() == std::byte{'\r'}) s = s.first(s.size() - 1);
  return s;
}

bool starts_with(std::span<const std::byte> s, std::string_view prefix) {
  return s.size() >= prefix.size() && std::memcmp(s.data(), prefix.data(), prefix.size()) == 0;
}

std::string text_of(std::span<const std::byte> s) { return {reinterpret_cast<const char*>(s.data()), s.size()}; }

/// One CSV field: its bytes (a view into the map's buffer or, when it had doubled quotes, into
/// `unquoted`, which is wiped with the map).
struct CsvRow {
  std::vector<SecretBytes> fields;
  std::size_t line = 0;
};

/// RFC 4180: fields separated by commas, optionally in double quotes with "" for a quote; rows
/// end with LF or CRLF. Fields are copied straight into wiped buffers.
std::vector<CsvRow> parse_csv(std::span<const std::byte> in) {
  std::vector<CsvRow> rows;
  std::size_t i = 0;
  std::size_t line = 1;
  const auto at = [&](std::size_t k) { return static_cast<char>(in[k]); };
  while (i < in.size()) {
    CsvRow row;
    row.line = line;
    for (;;) {
      std::vector<std::byte> field;  // moved into a SecretBytes, then wiped below
      if (i < in.size() && at(i) == '"') {
        ++i;
        for (;;) {
          if (i >= in.size()) {
            secure_wipe(field);
            throw Error(ErrorCode::invalid_argument, "password map: unterminated quote on line " + std::to_string(row.line));
          }
          if (at(i) == '"') {
            if (i + 1 < in.size() && at(i + 1) == '"') {
              field.push_back(std::byte{'"'});
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (at(i) == '\n') ++line;
          field.push_back(in[i++]);
        }
      } else {
        while (i < in.size() && at(i) != ',' && at(i) != '\n' && at(i) != '\r') field.push_back(in[i++]);
      }
      row.fields.emplace_back(SecretBytes(field));
      secure_wipe(field);
      if (i < in.size() && at(i) == ',') {
        ++i;
        continue;
      }
      if (i < in.size() && at(i) == '\r') ++i;
      if (i < in.size() && at(i) == '\n') {
        ++i;
        ++line;
      } else if (i < in.size()) {
        throw Error(ErrorCode::invalid_argument, "password map: text after a closing quote on line " + std::to_string(row.line));
      }
      break;
    }
    const bool blank = row.fields.size() == 1 && row.fields[0].size() == 0;
    if (!blank) rows.push_back(std::move(row));
  }
  return rows;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::optional<std::string> non_empty(std::string s) {
  if (s.empty()) return std::nullopt;
  return s;
}

}  // namespace

SecretBytes resolve_password_source(std::span<const std::byte> source, const fs::path& base, const std::string& where) {
  if (starts_with(source, "pass:")) return SecretBytes(source.subspan(5));
  if (starts_with(source, "env:")) {
    const std::string var = text_of(source.subspan(4));
    const char* v = var.empty() ? nullptr : std::getenv(var.c_str());
    if (v == nullptr) throw Error(ErrorCode::invalid_argument, where + ": environment variable '" + var + "' is not set");
    return SecretBytes::from_text(v);
  }
  if (starts_with(source, "file:")) {
    fs::path p = text_of(source.subspan(5));
    if (p.is_relative()) p = base / p;
    const SecretBytes content = read_secret_file(p, "password file");
    return SecretBytes(without_newline(content.bytes()));
  }
  throw Error(ErrorCode::invalid_argument, where + ": a password source is pass:TEXT, file:PATH or env:VAR");
}

PasswordMap PasswordMap::load(const fs::path& path) {
  const SecretBytes content = read_secret_file(path, "password map");
  const fs::path base = path.has_parent_path() ? path.parent_path() : fs::path(".");
  PasswordMap map;
  const auto bytes = content.bytes();
  std::size_t first = 0;
  while (first < bytes.size() && std::isspace(static_cast<unsigned char>(bytes[first]))) ++first;
  const bool is_json = lower(path.extension().string()) == ".json" ||
                       (first < bytes.size() && static_cast<char>(bytes[first]) == '{');
  if (is_json) {
    // JSON maps name sources only (file:, env:): nlohmann's parser copies strings into buffers
    // that are not wiped, so a password itself is never read through it. Use CSV for pass:.
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(reinterpret_cast<const char*>(bytes.data()),
                                reinterpret_cast<const char*>(bytes.data()) + bytes.size());
    } catch (const nlohmann::json::parse_error& e) {
      throw Error(ErrorCode::invalid_argument, "password map '" + path.string() + "' is not valid JSON (byte " +
                                                   std::to_string(e.byte) + ")");
    } catch (const nlohmann::json::exception&) {
      // Well-formed but not representable, e.g. a number that overflows a double (out_of_range 406).
      throw Error(ErrorCode::invalid_argument, "password map '" + path.string() + "' is not valid JSON (a number out of range)");
    }
    if (!j.is_object()) throw Error(ErrorCode::invalid_argument, "password map: a JSON map is an object of file names");
    for (const auto& [file, v] : j.items()) {
      const std::string where = "password map entry '" + file + "'";
      std::string source;
      MapEntry e;
      if (v.is_string()) {
        source = v.get<std::string>();
      } else if (v.is_object() && v.contains("password") && v["password"].is_string()) {
        source = v["password"].get<std::string>();
        if (v.contains("org") && v["org"].is_string()) e.org = non_empty(v["org"].get<std::string>());
        if (v.contains("mailbox") && v["mailbox"].is_string()) e.mailbox = non_empty(v["mailbox"].get<std::string>());
      } else {
        throw Error(ErrorCode::invalid_argument, where + ": give a source string or {\"password\": source, ...}");
      }
      if (source.rfind("pass:", 0) == 0) {
        throw Error(ErrorCode::invalid_argument, where + ": a JSON map takes file: or env: sources, not pass: (use a CSV map)");
      }
      e.password = resolve_password_source(std::as_bytes(std::span(source.data(), source.size())), base, where);
      map.entries_[file] = std::move(e);
    }
    return map;
  }

  const auto rows = parse_csv(bytes);
  if (rows.empty()) throw Error(ErrorCode::invalid_argument, "password map '" + path.string() + "' is empty");
  std::map<std::string, std::size_t> col;
  for (std::size_t c = 0; c < rows[0].fields.size(); ++c) col[lower(text_of(rows[0].fields[c].bytes()))] = c;
  if (!col.contains("file") || !col.contains("password")) {
    throw Error(ErrorCode::invalid_argument, "password map: the first line names the columns: file,password[,org][,mailbox]");
  }
  const auto get = [&](const CsvRow& r, const char* name) -> std::optional<std::span<const std::byte>> {
    const auto it = col.find(name);
    if (it == col.end() || it->second >= r.fields.size()) return std::nullopt;
    return r.fields[it->second].bytes();
  };
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const std::string where = "password map line " + std::to_string(rows[r].line);
    const auto file = get(rows[r], "file");
    const auto pw = get(rows[r], "password");
    if (!file || file->empty() || !pw) throw Error(ErrorCode::invalid_argument, where + ": needs a file and a password");
    MapEntry e;
    e.password = resolve_password_source(*pw, base, where);
    if (const auto org = get(rows[r], "org")) e.org = non_empty(text_of(*org));
    if (const auto mb = get(rows[r], "mailbox")) e.mailbox = non_empty(text_of(*mb));
    const std::string key = text_of(*file);
    if (map.entries_.contains(key)) throw Error(ErrorCode::invalid_argument, where + ": '" + key + "' is listed twice");
    map.entries_[key] = std::move(e);
  }
  return map;
}

const MapEntry* PasswordMap::find(const fs::path& file) const {
  for (const std::string& key : {file.string(), file.filename().string()}) {
    const auto it = entries_.find(key);
    if (it != entries_.end()) {
      used_[key] = true;
      return &it->second;
    }
  }
  return nullptr;
}

std::vector<std::string> PasswordMap::unused() const {
  std::vector<std::string> out;
  for (const auto& [k, e] : entries_) {
    if (!used_.contains(k)) out.push_back(k);
  }
  return out;
}

bool stdin_is_terminal() { return ::isatty(STDIN_FILENO) == 1; }

namespace {

// The terminal settings to put back when a signal ends the process during a prompt (Ctrl-C,
// Ctrl-\\, a kill): the handler may only use async-signal-safe calls.
termios g_prompt_saved{};
volatile sig_atomic_t g_prompt_fd = -1;
constexpr int kPromptSignals[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP};
struct sigaction g_prompt_old[std::size(kPromptSignals)];

extern "C" void restore_terminal_and_reraise(int sig) {
  const int fd = g_prompt_fd;
  if (fd >= 0) {
    (void)::tcsetattr(fd, TCSANOW, &g_prompt_saved);
    (void)!::write(fd, "\n", 1);
  }
  for (std::size_t i = 0; i < std::size(kPromptSignals); ++i) {
    if (kPromptSignals[i] == sig) (void)::sigaction(sig, &g_prompt_old[i], nullptr);
  }
  (void)::raise(sig);
}

/// Turns the terminal's echo off for a prompt and back on when it ends: normally, by an exception,
/// or by a signal that ends the process (the default action of SIGINT then runs as usual).
class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    on_ = ::tcgetattr(fd, &g_prompt_saved) == 0;
    if (!on_) return;
    g_prompt_fd = fd;
    struct sigaction sa {};
    sa.sa_handler = restore_terminal_and_reraise;
    sigemptyset(&sa.sa_mask);
    for (std::size_t i = 0; i < std::size(kPromptSignals); ++i) {
      (void)::sigaction(kPromptSignals[i], &sa, &g_prompt_old[i]);
    }
    termios quiet = g_prompt_saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    (void)::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  ~EchoOff() {
    if (!on_) return;
    (void)::tcsetattr(fd_, TCSAFLUSH, &g_prompt_saved);
    g_prompt_fd = -1;
    for (std::size_t i = 0; i < std::size(kPromptSignals); ++i) (void)::sigaction(kPromptSignals[i], &g_prompt_old[i], nullptr);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  int fd_;
  bool on_ = false;
};

}  // namespace

SecretBytes prompt_password(const std::string& prompt) {
  const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) throw Error(ErrorCode::io, "no terminal to ask for a password on: use --password-file, --password-env or --password-stdin");
  std::optional<EchoOff> quiet;
  quiet.emplace(fd);
  (void)!::write(fd, prompt.data(), prompt.size());
  SecretBytes buf = SecretBytes::zeroed(4096);
  std::size_t n = 0;
  char c = 0;
  while (n < buf.size() && ::read(fd, &c, 1) == 1 && c != '\n') buf.data()[n++] = static_cast<std::byte>(c);
  c = 0;
  quiet.reset();
  ::close(fd);
  if (n > 0 && buf.data()[n - 1] == std::byte{'\r'}) --n;
  return SecretBytes(buf.bytes().first(n));
}

std::optional<SecretBytes> password_for(const PasswordSource& source, std::span<const std::byte> data,
                                        const std::string& file) {
  if (source.given()) return source.read();
  if (!stdin_is_terminal()) return std::nullopt;
  try {
    (void)load_any(data, nullptr);  // the empty and the absent password are tried as OpenSSL does
    return std::nullopt;
  } catch (const Error& e) {
    if (e.code() != ErrorCode::bad_password) return std::nullopt;  // the real load reports it
  }
  return prompt_password("Password for " + file + ": ");
}

bool colour_stdout() {
  const char* no = std::getenv("NO_COLOR");
  return (no == nullptr || *no == '\0') && ::isatty(STDOUT_FILENO) == 1;
}

std::string paint(std::string_view text, Colour colour, bool on) {
  if (!on) return std::string(text);
  const char* code = colour == Colour::green ? "32" : colour == Colour::yellow ? "33" : colour == Colour::red ? "31" : "1";
  return std::string("\x1b[") + code + "m" + std::string(text) + "\x1b[0m";
}

ProgressBar::ProgressBar(std::size_t total, bool enabled) : total_(total), enabled_(enabled && ::isatty(STDERR_FILENO) == 1) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(std::size_t done, std::string_view status) {
  if (!enabled_ || total_ == 0) return;
  constexpr std::size_t kWidth = 24;
  const std::size_t filled = done * kWidth / total_;
  std::string line = "\r[" + std::string(filled, '#') + std::string(kWidth - filled, '-') + "] " + std::to_string(done) +
                     "/" + std::to_string(total_) + " " + term(status);
  if (line.size() > 79) line.resize(79);
  line += "\x1b[K";  // clear the rest of the line
  std::cerr << line << std::flush;
  drawn_ = true;
}

void ProgressBar::finish() {
  if (drawn_) std::cerr << "\r\x1b[K" << std::flush;
  drawn_ = false;
}

}  // namespace dpgcert::cli
