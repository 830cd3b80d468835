// dpgcert: the command-line tool. This is the one translation unit that compiles CLI11.
#include "cli.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace {

void add_common(CLI::App& cmd, dpgcert::cli::Common& common) {
  cmd.add_flag("--json", common.json, "Print one JSON object (schema: docs/cli-json.md)");
  cmd.add_option("--now", common.now, "Pretend the current time is this RFC 3339 time (for reports and tests)");
}

void add_password(CLI::App& cmd, dpgcert::cli::PasswordSource& pw) {
  auto* file = cmd.add_option("--password-file", pw.file, "Read the password from this file (a trailing newline is dropped)");
  auto* env = cmd.add_option("--password-env", pw.env, "Read the password from this environment variable");
  auto* in = cmd.add_flag("--password-stdin", pw.stdin_, "Read the password from standard input");
  file->excludes(env)->excludes(in);
  env->excludes(in);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace dpgcert::cli;
  CLI::App app{"dpgcert - lifecycle of Danish OCES organisation and function certificates"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("dpgcert ") + DPGCERT_TOOL_VERSION);
  app.footer(
      "Passwords are never taken as arguments: use --password-file, --password-env or --password-stdin.\n"
      "Exit codes: 0 success, 1 warnings, 2 failed checks, 3 could not read or run, 64 usage error.");

  InspectOptions inspect;
  auto* inspect_cmd = app.add_subcommand("inspect", "Show what a PKCS#12, PEM or DER file holds");
  inspect_cmd->add_option("FILE", inspect.file, "The file to inspect")->required();
  add_password(*inspect_cmd, inspect.password);
  add_common(*inspect_cmd, inspect.common);
  inspect_cmd->footer(
      "Examples:\n"
      "  dpgcert inspect kunde.p12 --password-file kunde.pw\n"
      "  DPG_PW=... dpgcert inspect kunde.p12 --password-env DPG_PW --json\n"
      "  dpgcert inspect ca.pem");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : exit_usage;
  }
  if (inspect_cmd->parsed()) return run_inspect(inspect);
  return exit_usage;
}
