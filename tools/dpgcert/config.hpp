// The tool's configuration file (JSON): defaults for the store, its master key, validation and
// the renewal check, so a scheduled job's command line stays short. Command-line flags win over
// environment variables, which win over the file.
#pragma once

#include "store_cli.hpp"
#include "verify_settings.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dpgcert::cli {

/// What a configuration file may say. Relative paths are relative to the file's folder.
///
///   {
///     "store": "/srv/dpgcert/store.db",
///     "key_file": "/etc/dpgcert/master.key",          // or "passphrase_env": "DPGCERT_PASSPHRASE"
///     "actor": "renewal-job",
///     "validation": {"trust": ["roots/"], "untrusted": [], "crls": ["crls/"],
///                    "profile": "oces-gateway", "revocation": "chain", "require_revocation": false,
///                    "stale_crl": "warn", "policies": [], "explicit_policy": false, "eku": [],
///                    "max_depth": 5, "min_key_bits": 2048},   // as the verify options (docs/cli.md)
///     "jobs": 2,
///     "thresholds": [90, 60, 30, 14, 7, 1, 0],
///     "min_interval": "10m",                           // or a whole number of seconds
///     "revocation_refresh": "1d",                      // `check` refreshes revocation this often ("off": only with --revocation)
///     "sinks": [{"name": "log", "jsonl": "/var/log/dpgcert/events.jsonl"},
///               {"name": "ticket", "command": "/usr/local/bin/open-ticket", "args": ["--queue=pki"], "timeout": 60}]
///   }
///
/// A sink names its kind by the member of that name ("jsonl", "command", "callback": true); its
/// other members are the kind's options (SinkOption::config_key), typed as SinkOption::Type says.
struct Config {
  std::filesystem::path file;  ///< Where it was read from; empty when no file was found.
  std::optional<std::string> store;
  std::optional<std::string> key_file;
  std::optional<std::string> passphrase_env;
  std::optional<std::string> actor;
  std::vector<std::string> trust;
  std::vector<std::string> untrusted;
  std::vector<std::string> crls;
  VerifySettings verify;  ///< "validation": {"profile": ..., "policies": [...], "revocation": "chain", ...}
  std::optional<unsigned> jobs;
  std::optional<std::vector<int>> thresholds;  ///< Days before expiry, for `check` (the store's default otherwise).
  std::vector<StoreGlobal::Sink> sinks;  ///< Sinks `check` delivers to besides the store's own.
  std::optional<std::chrono::seconds> min_interval;  ///< For `check` (as --min-interval).
  /// "revocation_refresh": the store's revocation refresh interval `check` sets (inner nullopt: "off").
  std::optional<std::optional<std::chrono::seconds>> revocation_refresh;
};

/// A duration as the tool takes it: a whole number with an optional unit, "s" (the default), "m",
/// "h" or "d" ("90", "90s", "15m", "1h", "1d"), from 0 to 3650 days; std::nullopt for anything else.
[[nodiscard]] std::optional<std::chrono::seconds> parse_duration(std::string_view text);

/// The configuration: `explicit_path` (--config) when given, else $DPGCERT_CONFIG, else the first of
/// $XDG_CONFIG_HOME/dpgcert/config.json (~/.config/dpgcert/config.json) and /etc/dpgcert/config.json
/// that exists; an empty Config when there is none. Throws Error(io) when a named file cannot be
/// read and Error(invalid_argument) for bad JSON, an unknown key or a value of the wrong type.
[[nodiscard]] Config load_config(const std::string& explicit_path);

}  // namespace dpgcert::cli
