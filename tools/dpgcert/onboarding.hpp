// Bulk onboarding in the tool: the password map, password prompts and the terminal's progress bar.
#pragma once

#include "cli.hpp"

#include <dpgcert/secret.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dpgcert::cli {

/// Where one file's password comes from, and where the file belongs (a row of the password map).
struct MapEntry {
  SecretBytes password;
  std::optional<std::string> org;
  std::optional<std::string> mailbox;
};

/// The password map of `dpgcert import --password-map FILE`: file name -> password source
/// (`pass:TEXT`, `file:PATH`, `env:VAR`, as `openssl -passin` takes them) and optionally the
/// organisation (CVR) and mailbox the file belongs to.
///
/// CSV (RFC 4180 quoting) with a header row naming the columns `file`, `password`, `org`,
/// `mailbox` (only `file` and `password` required, any order); or JSON: an object
/// `{"kunde.p12": "env:KUNDE_PW", "other.p12": {"password": "file:other.pw", "org": "12345674",
/// "mailbox": "sikkerpost@kunde.dk"}}`. A `file:` path is relative to the map's folder. Keys match a
/// file by the path as given on the command line or by its file name.
class PasswordMap {
 public:
  /// Reads and resolves every source at once (so a missing variable is reported before any import).
  /// Throws Error(invalid_argument) naming the line or key of a bad entry (never its password),
  /// Error(io) when the map or a password file cannot be read.
  [[nodiscard]] static PasswordMap load(const std::filesystem::path& path);

  /// The entry for a file, if the map has one.
  [[nodiscard]] const MapEntry* find(const std::filesystem::path& file) const;
  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
  /// Keys that matched no file (probably a typo in the map).
  [[nodiscard]] std::vector<std::string> unused() const;

 private:
  std::map<std::string, MapEntry> entries_;
  mutable std::map<std::string, bool> used_;
};

/// Resolves `pass:TEXT`, `file:PATH` (relative to `base`) or `env:VAR` to the password.
[[nodiscard]] SecretBytes resolve_password_source(std::span<const std::byte> source, const std::filesystem::path& base,
                                                  const std::string& where);

/// Whether standard input is a terminal someone could type a password into.
[[nodiscard]] bool stdin_is_terminal();
/// Asks for a password on the terminal without echo; throws Error(io) when there is no terminal.
[[nodiscard]] SecretBytes prompt_password(const std::string& prompt);

/// The password for one file: from `source` when given; else, when the file turns out to need one
/// (it is PKCS#12 and the empty password does not open it) and standard input is a terminal, typed
/// at a prompt without echo; else none.
[[nodiscard]] std::optional<SecretBytes> password_for(const PasswordSource& source, std::span<const std::byte> data,
                                                      const std::string& file);

/// Whether to use colour on stdout: a terminal, and NO_COLOR unset or empty.
[[nodiscard]] bool colour_stdout();
enum class Colour { green, yellow, red, bold };
/// `text` in colour when `on`, else unchanged.
[[nodiscard]] std::string paint(std::string_view text, Colour colour, bool on);

/// A one-line progress bar on stderr, redrawn in place; shown only when stderr is a terminal.
class ProgressBar {
 public:
  ProgressBar(std::size_t total, bool enabled);
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  ~ProgressBar();
  /// Redraws with `done` of the total and a short status text.
  void update(std::size_t done, std::string_view status);
  /// Removes the bar from the terminal.
  void finish();

 private:
  std::size_t total_;
  bool enabled_;
  bool drawn_ = false;
};

}  // namespace dpgcert::cli
