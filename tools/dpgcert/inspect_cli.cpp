// The inspect and verify commands (CLI11 definitions; the commands are in inspect.cpp and verify.cpp).
#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <memory>

namespace dpgcert::cli {
namespace {

/// The path-validation options (VerifySettings): profile, policies, EKU, depth, key size, revocation.
void add_verify_settings(CLI::App& cmd, VerifySettings& s) {
  cmd.add_option_function<std::string>("--profile", [&s](const std::string& v) { s.profile = v; },
                                       "oces-gateway (default: the onboarding checklist) or generic (RFC 5280 path validation)")
      ->check(CLI::IsMember({"oces-gateway", "generic"}));
  cmd.add_option("--policy", s.policies,
                 "An OID of the initial policy set (repeatable; default anyPolicy); turns policy processing on");
  cmd.add_flag_callback("--explicit-policy", [&s] { s.explicit_policy = true; }, "Require an acceptable policy (initial-explicit-policy)");
  cmd.add_flag_callback("--inhibit-policy-mapping", [&s] { s.inhibit_policy_mapping = true; },
                        "Inhibit policy mapping (initial-policy-mapping-inhibit)");
  cmd.add_flag_callback("--inhibit-any-policy", [&s] { s.inhibit_any_policy = true; },
                        "Do not let anyPolicy match (initial-any-policy-inhibit)");
  cmd.add_option("--eku", s.ekus,
                 "Require this extended key usage of the leaf: a dotted OID or serverAuth, clientAuth, emailProtection, "
                 "codeSigning, OCSPSigning, timeStamping (repeatable)");
  cmd.add_option_function<int>("--max-depth", [&s](const int& v) { s.max_depth = v; },
                               "Allow at most N intermediate CA certificates in the path")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option_function<int>("--min-key-bits", [&s](const int& v) { s.min_key_bits = v; },
                               "Fail any certificate of the path, anchors included, with an RSA/DSA key below N bits or an "
                               "EC key of less strength (default 2048; 0: off)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--accept-digest", s.accept_digests,
                 "Do not fail a leaf signed with this digest (SHA1, MD5; repeatable), e.g. for old test suites");
  cmd.add_option_function<std::string>("--revocation", [&s](const std::string& v) { s.revocation.scope = v; },
                                       "Check revocation of nothing, the leaf, or every certificate of the path "
                                       "(default: chain for oces-gateway, leaf for generic)")
      ->check(CLI::IsMember({"off", "leaf", "chain"}));
  cmd.add_flag_callback("--require-revocation", [&s] { s.revocation.require = true; },
                        "Fail when a certificate in scope has no usable CRL (online: no OCSP or CRL answer)");
  cmd.add_flag_callback("--online", [&s] { s.revocation.mode = "online"; },
                        "Ask about revocation over the network: OCSP (AIA) first, the CRL (CDP) as fallback, for every "
                        "certificate in scope; an answer that cannot be had warns with the reason (default: offline)");
  cmd.add_option_function<int>("--revocation-timeout", [&s](const int& v) { s.revocation.timeout_seconds = v; },
                               "Online: seconds per OCSP or CRL request, redirects included (default 15)")
      ->check(CLI::PositiveNumber);
  cmd.add_option_function<std::string>("--stale-crl", [&s](const std::string& v) { s.revocation.stale = v; },
                                       "A CRL past its nextUpdate warns (default) or fails")
      ->check(CLI::IsMember({"warn", "fail"}));
}

}  // namespace

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
  add_verify_settings(*verify_cmd, verify->settings);
  add_common(*verify_cmd, verify->common);
  verify_cmd->footer(
      "Exit codes: 0 every check passed, 1 warnings only, 2 a check failed, 3 could not run, 64 usage.\n"
      "Examples:\n"
      "  dpgcert verify kunde.p12 --password-file kunde.pw --environment production --expect-cvr 12345674\n"
      "  dpgcert verify kunde.p12 --password-env DPG_PW --crl oces-ca-v.crl --json\n"
      "  dpgcert verify kunde.p12 --password-file kunde.pw --online --require-revocation\n"
      "  dpgcert verify leaf.pem --trust my-root.pem --untrusted my-ca.pem --at 2025-06-01T00:00:00Z\n"
      "  dpgcert verify server.pem --profile generic --trust roots/ --eku serverAuth --revocation chain --crl crls/");
  runs.emplace_back(verify_cmd, [&config, verify] {
    if (verify->trust.empty()) verify->trust = config.trust;
    if (verify->untrusted.empty()) verify->untrusted = config.untrusted;
    if (verify->crls.empty()) verify->crls = config.crls;
    verify->settings = config.verify.overlaid_by(verify->settings);
    return run_verify(*verify);
  });
}

}  // namespace dpgcert::cli
