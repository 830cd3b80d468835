// The inspect and verify commands (CLI11 definitions; the commands are in inspect.cpp and verify.cpp).
#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <memory>

namespace dpgcert::cli {

void add_inspect_commands(CLI::App& app, const Config& config, CommandRuns& runs) {
  const auto inspect = std::make_shared<InspectOptions>();
  auto* inspect_cmd = app.add_subcommand("inspect", "Show what a PKCS#12, PEM or DER file holds");
  inspect_cmd->add_option("FILE", inspect->file, "The file to inspect")->required();
  add_password(*inspect_cmd, inspect->password);
  add_common(*inspect_cmd, inspect->common);
  inspect_cmd->footer(
      "Examples:\n"
      "  dpgcert inspect kunde.p12 --password-file kunde.pw\n"
      "  DPG_PW=... dpgcert inspect kunde.p12 --password-env DPG_PW --json\n"
      "  dpgcert inspect ca.pem");
  runs.emplace_back(inspect_cmd, [inspect] { return run_inspect(*inspect); });

  const auto verify = std::make_shared<VerifyOptions>();
  auto* verify_cmd = app.add_subcommand(
      "verify", "Check whether a certificate or PKCS#12 file can be used: chain, validity, profile, revocation");
  verify_cmd->add_option("FILE", verify->file, "The PKCS#12, PEM or DER file to check")->required();
  add_password(*verify_cmd, verify->password);
  verify_cmd->add_option("--trust", verify->trust,
                         "Trust these anchor certificates (file or folder; repeatable). Default: the built-in OCES catalogue");
  verify_cmd->add_option("--untrusted", verify->untrusted,
                         "Offer these intermediate CA certificates for path building (file or folder; repeatable)");
  verify_cmd->add_option("--crl", verify->crls, "Check revocation against these CRLs (DER or PEM, file or folder; repeatable)");
  verify_cmd->add_option("--at", verify->at, "Validate at this RFC 3339 time (default: now)")
      ->check(CLI::Validator(check_rfc3339, "RFC3339"));
  verify_cmd->add_option("--environment", verify->environment, "Require a production or a test certificate")
      ->check(CLI::IsMember({"production", "test"}));
  verify_cmd->add_option("--expect-cvr", verify->expect_cvr, "Require this CVR number (8 digits)")
      ->check([](const std::string& v) {
        const bool ok = v.size() == 8 && v.find_first_not_of("0123456789") == std::string::npos;
        return ok ? std::string() : std::string("a CVR number is 8 digits");
      });
  verify_cmd->add_option("--min-days", verify->min_days, "Warn when fewer days of validity are left (default 30)")
      ->check(CLI::NonNegativeNumber);
  add_common(*verify_cmd, verify->common);
  verify_cmd->footer(
      "Exit codes: 0 every check passed, 1 warnings only, 2 a check failed, 3 could not run, 64 usage.\n"
      "Examples:\n"
      "  dpgcert verify kunde.p12 --password-file kunde.pw --environment production --expect-cvr 12345674\n"
      "  dpgcert verify kunde.p12 --password-env DPG_PW --crl oces-ca-v.crl --json\n"
      "  dpgcert verify leaf.pem --trust my-root.pem --untrusted my-ca.pem --at 2025-06-01T00:00:00Z");
  runs.emplace_back(verify_cmd, [&config, verify] {
    if (verify->trust.empty()) verify->trust = config.trust;
    if (verify->untrusted.empty()) verify->untrusted = config.untrusted;
    if (verify->crls.empty()) verify->crls = config.crls;
    return run_verify(*verify);
  });
}

}  // namespace dpgcert::cli
