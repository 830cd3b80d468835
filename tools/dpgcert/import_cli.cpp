// The import command (CLI11 definitions; the command is in import_commands.cpp).
#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <memory>

namespace dpgcert::cli {

void add_import_commands(CLI::App& app, const StoreGlobal& global, const Config& config, CommandRuns& runs) {
  const auto import_opts = std::make_shared<ImportCliOptions>();
  auto* import_cmd = add_store_command(app, "import", "Validate PKCS#12 files and store them with their password, sealed");
  import_cmd->add_option("PATH", import_opts->files, "PKCS#12 files, or folders whose .p12/.pfx files to import")->required();
  add_password(*import_cmd, import_opts->password);
  import_cmd->add_option("--password-map", import_opts->password_map,
                         "CSV or JSON map: file name -> password source (pass:, file:, env:), org, mailbox");
  import_cmd->add_option("--jobs,-j", import_opts->jobs, "Worker threads (default: one per core)");
  import_cmd->add_flag("--quiet,-q", import_opts->quiet, "No progress bar");
  import_cmd->add_option("--org", import_opts->org, "Attach to this organisation (CVR; created when missing)");
  import_cmd->add_option("--mailbox", import_opts->mailbox, "Attach to this mailbox (created when missing)");
  import_cmd->add_flag("--force", import_opts->force, "Import even when validation fails (the failing report is kept)");
  import_cmd->add_option("--trust", import_opts->trust, "Trust anchors (file or folder; repeatable). Default: built-in OCES");
  import_cmd->add_option("--untrusted", import_opts->untrusted, "Extra intermediate CA certificates (repeatable)");
  import_cmd->add_option("--crl", import_opts->crls, "CRLs to check revocation against (repeatable)");
  import_cmd->add_flag_callback("--online", [import_opts] { import_opts->revocation.mode = "online"; },
                                "Check revocation over the network (OCSP first, CRLs kept in the store as fallback) for "
                                "every certificate of the path (default: offline, or the configuration's revocation_mode)");
  import_cmd->add_flag_callback("--require-revocation", [import_opts] { import_opts->revocation.require = true; },
                                "Refuse a file when the revocation of a certificate in scope cannot be checked");
  import_cmd->add_option_function<int>("--revocation-timeout",
                                       [import_opts](const int& v) { import_opts->revocation.timeout_seconds = v; },
                                       "Online: seconds per OCSP or CRL request (default 15)")
      ->check(CLI::PositiveNumber);
  add_common(*import_cmd, import_opts->common);
  import_cmd->footer(
      "Files the password map does not name use --password-file/--password-env/--password-stdin, or\n"
      "a password typed at a prompt (without echo) when on a terminal. The summary lists every file.\n"
      "Exit codes (the worst file decides): 0 imported, already present or forced, 2 refused by\n"
      "validation, 3 a file could not be read, 64 usage error.\n"
      "Examples:\n"
      "  dpgcert import kunde.p12 --org 12345674 --mailbox sikkerpost@kunde.dk --password-file kunde.pw\n"
      "  dpgcert import onboarding/ --password-map onboarding/passwords.csv\n"
      "  passwords.csv:  file,password,org,mailbox\n"
      "                  kunde.p12,file:kunde.pw,12345674,sikkerpost@kunde.dk\n"
      "                  filial.p12,env:FILIAL_PW,25313763,");
  runs.emplace_back(import_cmd, [&global, &config, import_opts] {
    if (import_opts->trust.empty()) import_opts->trust = config.trust;
    if (import_opts->untrusted.empty()) import_opts->untrusted = config.untrusted;
    if (import_opts->crls.empty()) import_opts->crls = config.crls;
    if (import_opts->jobs == 0 && config.jobs) import_opts->jobs = *config.jobs;
    VerifySettings from_config;
    from_config.revocation.mode = config.verify.revocation.mode;
    from_config.revocation.require = config.verify.revocation.require;
    from_config.revocation.timeout_seconds = config.verify.revocation.timeout_seconds;
    VerifySettings from_line;
    from_line.revocation = import_opts->revocation;
    import_opts->revocation = from_config.overlaid_by(from_line).revocation;
    return run_import(global, *import_opts);
  });
}

}  // namespace dpgcert::cli
