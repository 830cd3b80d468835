// The tool's configuration file (JSON): defaults for the store, its master key, validation and
// the renewal check, so a scheduled job's command line stays short. Command-line flags win over
// environment variables, which win over the file.
#pragma once

#include "store_cli.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dpgcert::cli {

/// What a configuration file may say. Relative paths are relative to the file's folder.
///
///   {
///     "store": "/srv/dpgcert/store.db",
///     "key_file": "/etc/dpgcert/master.key",          // or "passphrase_env": "DPGCERT_PASSPHRASE"
///     "actor": "renewal-job",
///     "validation": {"trust": ["roots/"], "untrusted": [], "crls": ["crls/"]},
///     "jobs": 2,
///     "thresholds": [90, 60, 30, 14, 7, 1, 0],
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
  std::optional<unsigned> jobs;
  std::optional<std::vector<int>> thresholds;  ///< Days before expiry, for `check` (the store's default otherwise).
  std::vector<StoreGlobal::Sink> sinks;  ///< Sinks `check` delivers to besides the store's own.
};

/// The configuration: `explicit_path` (--config) when given, else $DPGCERT_CONFIG, else the first of
/// $XDG_CONFIG_HOME/dpgcert/config.json (~/.config/dpgcert/config.json) and /etc/dpgcert/config.json
/// that exists; an empty Config when there is none. Throws Error(io) when a named file cannot be
/// read and Error(invalid_argument) for bad JSON, an unknown key or a value of the wrong type.
[[nodiscard]] Config load_config(const std::string& explicit_path);

}  // namespace dpgcert::cli
