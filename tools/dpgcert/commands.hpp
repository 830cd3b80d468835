// The command definitions of the dpgcert tool: one add_<group>_commands per command group, each in
// <group>_cli.cpp. Those files and main.cpp are the only ones that include CLI11, and the build
// compiles them as one translation unit (CLI11 costs ~20 s per file; see CMakeLists.txt).
#pragma once

#include "cli.hpp"
#include "config.hpp"
#include "store_cli.hpp"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace CLI {
class App;
class ParseError;
}

namespace dpgcert::cli {

/// The commands main() dispatches: after parsing, the first parsed command's function runs and
/// its result is the exit code. The functions may read the configuration, which main() loads
/// after parsing and before running one.
using CommandRuns = std::vector<std::pair<CLI::App*, std::function<int()>>>;

/// --json and --now.
void add_common(CLI::App& cmd, Common& common);
/// --password-file, --password-env and --password-stdin (mutually exclusive).
void add_password(CLI::App& cmd, PasswordSource& pw);
/// A command that works on the store; --store and --actor may follow it too.
CLI::App* add_store_command(CLI::App& parent, const char* name, const char* help);

/// inspect, verify (inspect_cli.cpp).
void add_inspect_commands(CLI::App& app, const Config& config, CommandRuns& runs);
/// store init, store info (store_cli.cpp).
void add_store_commands(CLI::App& app, const StoreGlobal& global, CommandRuns& runs);
/// org add/list/show, mailbox add/list (inventory_cli.cpp).
void add_inventory_commands(CLI::App& app, const StoreGlobal& global, CommandRuns& runs);
/// import (import_cli.cpp).
void add_import_commands(CLI::App& app, const StoreGlobal& global, const Config& config, CommandRuns& runs);
/// list, show, export, retire, key rotate, audit (certificate_cli.cpp).
void add_certificate_commands(CLI::App& app, const StoreGlobal& global, CommandRuns& runs);
/// token import/list/remove (token_cli.cpp).
void add_token_commands(CLI::App& app, const StoreGlobal& global, CommandRuns& runs);
/// check, digest, metrics, sink add/list/remove, org policy (lifecycle_cli.cpp; after
/// add_inventory_commands, whose org group it extends).
void add_lifecycle_commands(CLI::App& app, const StoreGlobal& global, CommandRuns& runs);
/// A command line the tool cannot parse, explained: the message and a hint ("did you mean ...?",
/// where passwords come from), empty when there is none.
struct UsageProblem {
  std::string message;
  std::string hint;
};
/// Explains what CLI11 refused in `args` (argv without the program name) (usage_cli.cpp).
[[nodiscard]] UsageProblem explain_usage_error(const CLI::App& app, const CLI::ParseError& error,
                                               const std::vector<std::string>& args);
/// Prints a usage problem (text on stderr, or the documented JSON error on stdout); returns 64.
int report_usage_error(const UsageProblem& problem, bool json);
/// Whether a value is an RFC 3339 time: the CLI11 check of --now and --at ("" when it is).
[[nodiscard]] std::string check_rfc3339(const std::string& value);

/// The sink kinds' options of `sink add` whose values are not files ("--timeout", "--arg"), for
/// the bash completion (lifecycle_cli.cpp).
[[nodiscard]] std::vector<std::string> sink_options_without_files();

}  // namespace dpgcert::cli
