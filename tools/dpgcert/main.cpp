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

  VerifyOptions verify;
  auto* verify_cmd = app.add_subcommand(
      "verify", "Check whether a certificate or PKCS#12 file can be used: chain, validity, profile, revocation");
  verify_cmd->add_option("FILE", verify.file, "The PKCS#12, PEM or DER file to check")->required();
  add_password(*verify_cmd, verify.password);
  verify_cmd->add_option("--trust", verify.trust,
                         "Trust these anchor certificates (file or folder; repeatable). Default: the built-in OCES catalogue");
  verify_cmd->add_option("--untrusted", verify.untrusted,
                         "Offer these intermediate CA certificates for path building (file or folder; repeatable)");
  verify_cmd->add_option("--crl", verify.crls, "Check revocation against these CRLs (DER or PEM, file or folder; repeatable)");
  verify_cmd->add_option("--at", verify.at, "Validate at this RFC 3339 time (default: now)");
  verify_cmd->add_option("--environment", verify.environment, "Require a production or a test certificate")
      ->check(CLI::IsMember({"production", "test"}));
  verify_cmd->add_option("--expect-cvr", verify.expect_cvr, "Require this CVR number (8 digits)")
      ->check([](const std::string& v) {
        const bool ok = v.size() == 8 && v.find_first_not_of("0123456789") == std::string::npos;
        return ok ? std::string() : std::string("a CVR number is 8 digits");
      });
  verify_cmd->add_option("--min-days", verify.min_days, "Warn when fewer days of validity are left (default 30)")
      ->check(CLI::NonNegativeNumber);
  add_common(*verify_cmd, verify.common);
  verify_cmd->footer(
      "Exit codes: 0 every check passed, 1 warnings only, 2 a check failed, 3 could not run, 64 usage.\n"
      "Examples:\n"
      "  dpgcert verify kunde.p12 --password-file kunde.pw --environment production --expect-cvr 12345674\n"
      "  dpgcert verify kunde.p12 --password-env DPG_PW --crl oces-ca-v.crl --json\n"
      "  dpgcert verify leaf.pem --trust my-root.pem --untrusted my-ca.pem --at 2025-06-01T00:00:00Z");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : exit_usage;
  }
  if (inspect_cmd->parsed()) return run_inspect(inspect);
  if (verify_cmd->parsed()) return run_verify(verify);
  return exit_usage;
}
