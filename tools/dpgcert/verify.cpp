// dpgcert verify: can the gateway use this certificate? The onboarding checklist.
#include "cli.hpp"
#include "core/file_io.hpp"
#include "onboarding.hpp"
#include "terminal.hpp"

#include <dpgcert/context.hpp>
#include <dpgcert/oces.hpp>
#include <dpgcert/validation.hpp>
#include <dpgcert/validation_json.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>

namespace dpgcert::cli {
namespace {

std::vector<std::filesystem::path> as_paths(const std::vector<std::string>& v) {
  return {v.begin(), v.end()};
}

int exit_code(CheckStatus verdict) {
  switch (verdict) {
    case CheckStatus::pass: return exit_ok;
    case CheckStatus::warn: return exit_warn;
    default: return exit_fail;
  }
}

}  // namespace

int run_verify(const VerifyOptions& options) {
  const Context& ctx = Context::shared();
  try {
    ValidationInput input;
    input.at = options.at.empty() ? options.common.now_time() : parse_rfc3339(options.at);
    input.policy = options.settings.policy();
    options.settings.apply_revocation_mode(input);
    if (!options.environment.empty()) {
      const auto env = oces::parse_environment(options.environment);
      if (!env || *env == oces::Environment::unknown) {
        throw Error(ErrorCode::invalid_argument, "--environment must be production or test");
      }
      input.policy.expected_environment = *env;
    }
    if (!options.expect_cvr.empty()) input.policy.expected_cvr = options.expect_cvr;
    if (options.min_days >= 0) input.policy.min_days = options.min_days;
    if (!options.trust.empty()) input.anchors = TrustAnchors::from_files(as_paths(options.trust), ctx);
    if (!options.untrusted.empty()) input.intermediates = load_certificate_files(as_paths(options.untrusted), ctx);
    if (!options.crls.empty()) input.crls = load_crl_files(as_paths(options.crls), ctx);

    const auto data = detail::read_file(options.file, {.limit = ctx.limits().max_input_bytes});
    const std::optional<SecretBytes> password = password_for(options.password, data, options.file);
    const ValidationReport report = validate_bytes(data, password ? &*password : nullptr, input, ctx);

    if (options.common.json) {
      nlohmann::json j = to_json(report);
      j["file"] = options.file;
      print_json(j);
    } else {
      std::cout << term(options.file) << '\n' << to_text(report);
    }
    return exit_code(report.verdict);
  } catch (const Error& e) {
    print_error(options.common, e);
    return e.code() == ErrorCode::invalid_argument ? exit_usage : exit_unreadable;
  }
}

}  // namespace dpgcert::cli
