// dpgcert: the command-line tool. main() wires the command groups (commands.hpp) together.
// This file and the *_cli.cpp files are the only ones that compile CLI11.
#include "cli.hpp"
#include "cli_docs.hpp"
#include "commands.hpp"
#include "config.hpp"
#include "store_cli.hpp"
#include "terminal.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <exception>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

namespace dpgcert::cli {

void add_common(CLI::App& cmd, Common& common) {
  cmd.add_flag("--json", common.json, "Print JSON (schema: docs/cli-json.md); errors too, as {\"error\": ...}");
  cmd.add_option("--now", common.now, "Pretend the current time is this RFC 3339 time (for reports and tests)")
      ->check(CLI::Validator(check_rfc3339, "RFC3339"));
  cmd.add_flag_callback("--wide", [] { set_wide_output(true); }, "Never cut table cells, even on a terminal");
}

std::string check_rfc3339(const std::string& value) {
  try {
    (void)dpgcert::parse_rfc3339(value);
    return {};
  } catch (const dpgcert::Error&) {
    return "'" + value + "' is not an RFC 3339 time (e.g. 2027-01-01T00:00:00Z)";
  }
}

void add_password(CLI::App& cmd, PasswordSource& pw) {
  auto* file = cmd.add_option("--password-file", pw.file, "Read the password from this file (a trailing newline is dropped)");
  auto* env = cmd.add_option("--password-env", pw.env, "Read the password from this environment variable");
  auto* in = cmd.add_flag("--password-stdin", pw.stdin_, "Read the password from standard input");
  file->excludes(env)->excludes(in);
  env->excludes(in);
}

CLI::App* add_store_command(CLI::App& parent, const char* name, const char* help) {
  CLI::App* c = parent.add_subcommand(name, help);
  c->fallthrough();  // --store and --actor may follow the command too
  return c;
}

}  // namespace dpgcert::cli

namespace {

/// Fills in from the configuration file what neither the command line nor the environment gave.
void apply_config(dpgcert::cli::StoreGlobal& global, const dpgcert::cli::Config& config) {
  if (global.store.empty() && config.store) global.store = *config.store;
  if (global.actor.empty() && config.actor) global.actor = *config.actor;
  global.key_file = config.key_file.value_or("");
  global.passphrase_env = config.passphrase_env.value_or("");
  global.thresholds = config.thresholds;
  global.sinks = config.sinks;
  global.min_interval = config.min_interval;
  global.revocation_refresh = config.revocation_refresh;
  global.trust = config.trust;
  global.untrusted = config.untrusted;
}

int run_main(int argc, char** argv) {
  using namespace dpgcert::cli;
  CLI::App app{"dpgcert - lifecycle of Danish OCES organisation and function certificates"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("dpgcert ") + DPGCERT_TOOL_VERSION);
  app.footer(
      "Passwords are never taken as arguments: use --password-file, --password-env or --password-stdin.\n"
      "Exit codes: 0 success, 1 warnings, 2 failed checks, 3 could not read or run, 64 usage error.");
  StoreGlobal store_global;
  Config config;  // loaded after parsing; the commands read it when they run
  CommandRuns runs;
  add_inspect_commands(app, config, runs);
  // Global options: the store commands use --store and --actor; every command the configuration.
  app.add_option("--store", store_global.store,
                 "The store database (default: $XDG_DATA_HOME/dpgcert/store.db, i.e. ~/.local/share/dpgcert/store.db)")
      ->envname("DPGCERT_STORE");
  app.add_option("--actor", store_global.actor, "Who makes the change, for the audit log (default: the OS user)");
  auto* pin_file = app.add_option("--pin-file", store_global.pin_file,
                                  "A PKCS#11 token's user PIN is in this file (default: $DPGCERT_PIN, else a prompt)");
  auto* pin_env = app.add_option("--pin-env", store_global.pin_env,
                                 "A PKCS#11 token's user PIN is in this environment variable");
  pin_file->excludes(pin_env);
  std::string config_path;
  app.add_option("--config", config_path,
                 "Configuration file (JSON; default: $DPGCERT_CONFIG, ~/.config/dpgcert/config.json, /etc/dpgcert/config.json)");
  add_store_commands(app, store_global, runs);
  add_inventory_commands(app, store_global, runs);
  add_import_commands(app, store_global, config, runs);
  add_certificate_commands(app, store_global, runs);
  add_lifecycle_commands(app, store_global, runs);
  add_token_commands(app, store_global, runs);

  // Hidden: the man page and the bash completion, generated from the definitions above (the build
  // runs these; see tools/dpgcert/CMakeLists.txt).
  auto* generate_cmd = app.add_subcommand("generate", "Write the man page or the bash completion to stdout")->group("");
  generate_cmd->require_subcommand(1);
  auto* generate_man = generate_cmd->add_subcommand("man", "The man page (roff)");
  auto* generate_bash = generate_cmd->add_subcommand("bash-completion", "The bash completion script");

  std::vector<std::string> args(argv + 1, argv + argc);
  const bool json = std::find(args.begin(), args.end(), "--json") != args.end();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    return report_usage_error(explain_usage_error(app, e, args), json);
  }
  if (generate_man->parsed()) {
    docs::write_man_page(std::cout, app, DPGCERT_TOOL_VERSION);
    return exit_ok;
  }
  if (generate_bash->parsed()) {
    docs::write_bash_completion(std::cout, app, sink_options_without_files());
    return exit_ok;
  }
  try {
    config = load_config(config_path);
    apply_config(store_global, config);
  } catch (const dpgcert::Error& e) {
    Common common;
    common.json = json;
    print_error(common, e);
    return e.code() == dpgcert::ErrorCode::invalid_argument ? exit_usage : exit_unreadable;
  }
  for (const auto& [cmd, run] : runs) {
    if (cmd->parsed()) return run();
  }
  return exit_usage;
}

}  // namespace

int main(int argc, char** argv) {
  dpgcert::cli::harden_process();
  dpgcert::cli::install_terminate_handler();
  // The last line of defence: an exception no command turned into a message is still an error
  // message and exit 3, never std::terminate (whose core dump could hold secrets).
  try {
    return run_main(argc, argv);
  } catch (const std::exception& e) {
    return dpgcert::cli::report_escaped_exception(argc, argv, e.what());
  } catch (...) {
    return dpgcert::cli::report_escaped_exception(argc, argv, "unknown exception");
  }
}
