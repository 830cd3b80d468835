// Shared pieces of the dpgcert tool: options every command has, password sources, output.
#pragma once

#include "verify_settings.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/secret.hpp>
#include <dpgcert/time.hpp>
#include <dpgcert/x509.hpp>

#include <nlohmann/json_fwd.hpp>

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dpgcert::cli {

/// Exit codes documented in the README and --help.
enum Exit : int {
  exit_ok = 0,
  exit_warn = 1,
  exit_fail = 2,
  exit_unreadable = 3,
  exit_usage = 64,
};

/// Where a password comes from; never the command line itself.
struct PasswordSource {
  std::string file;      ///< --password-file: first line, trailing newline removed.
  std::string env;       ///< --password-env: the named environment variable.
  bool stdin_ = false;   ///< --password-stdin: all of stdin, trailing newline removed.

  [[nodiscard]] bool given() const { return !file.empty() || !env.empty() || stdin_; }
  /// Reads the password. Throws Error(io) / Error(invalid_argument) with a message naming the
  /// source (never the password).
  [[nodiscard]] SecretBytes read() const;
};

/// Options shared by every command.
struct Common {
  bool json = false;
  std::string now;  ///< --now: pretend it is this time (RFC 3339); default: the system clock.
  [[nodiscard]] Time now_time() const;
};

struct InspectOptions {
  Common common;
  PasswordSource password;
  std::string file;
};

/// `dpgcert inspect`: prints what a file is. Returns the exit code.
int run_inspect(const InspectOptions& options);

struct VerifyOptions {
  Common common;
  PasswordSource password;
  std::string file;
  std::vector<std::string> trust;      ///< --trust: anchor files/folders (default: the OCES catalogue).
  std::vector<std::string> untrusted;  ///< --untrusted: intermediate files/folders.
  std::vector<std::string> crls;       ///< --crl: CRL files/folders (DER or PEM).
  std::string at;                      ///< --at: validation time (RFC 3339); default: now.
  std::string environment;             ///< --environment: "production" or "test"; default: not checked.
  std::string expect_cvr;              ///< --expect-cvr: the CVR the certificate must carry.
  int min_days = -1;                   ///< --min-days: warn below this many days left (-1: the default, 30).
  VerifySettings settings;             ///< --profile, --policy, --eku, --revocation, ... (over the configuration's).
};

/// `dpgcert verify`: the onboarding checklist. Returns 0 pass, 1 warnings, 2 failed checks,
/// 3 could not run, 64 usage.
int run_verify(const VerifyOptions& options);

/// Prints {"error": {...}} (JSON mode) or "dpgcert: error (code): message" to stderr, the message
/// escaped for the terminal.
void print_error(const Common& common, const Error& error);

/// "in 12 days", "3 days ago", "today".
[[nodiscard]] std::string relative_days(Time t, Time now);

/// A certificate as the tool prints it in JSON: dpgcert::to_json(cert) plus "oces" (the identity
/// from the built-in catalogue; all null for a non-OCES certificate). Shared by every command.
[[nodiscard]] nlohmann::json certificate_json(const Certificate& cert);

/// Prints the OCES identity rows an operator reads first (type, CVR, ids, environment, issuer).
void print_identity_rows(const Certificate& cert);

/// --wide: never cut or wrap output, even on a terminal.
void set_wide_output(bool wide) noexcept;
/// How wide the human output may be: on a terminal (stdout) without --wide, its width ($COLUMNS,
/// else the terminal's, else 80); std::nullopt otherwise: piped output is never cut or wrapped,
/// so `dpgcert list | grep ...` finds every value whole.
[[nodiscard]] std::optional<std::size_t> output_width();

/// One "  Label               value" row of the human output; the value is escaped for the
/// terminal (term()); on a terminal, long values wrap at its width.
void print_row(std::string_view label, std::string_view value);

/// Prints a JSON document to stdout, indented, with a trailing newline. Strings that are not UTF-8
/// are escaped (detail::dump_json), so printing never throws on their bytes.
void print_json(const nlohmann::json& j);

}  // namespace dpgcert::cli
