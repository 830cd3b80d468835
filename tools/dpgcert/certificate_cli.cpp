// The certificate commands: list, show, export, retire, and the store-wide key rotate and audit
// (CLI11 definitions; the commands are in certificate_commands.cpp and store_commands.cpp).
#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <memory>

namespace dpgcert::cli {

void add_certificate_commands(CLI::App& app, const StoreGlobal& global, CommandRuns& runs) {
  const auto list_opts = std::make_shared<ListOptions>();
  auto* list_cmd = add_store_command(app, "list", "List stored certificates, soonest expiry first");
  list_cmd->add_option("--org", list_opts->org, "Only this organisation's (CVR)");
  list_cmd->add_option("--mailbox", list_opts->mailbox, "Only this mailbox's");
  list_cmd->add_option("--expiring-within", list_opts->expiring_within,
                       "Only those whose validity ends within DAYS, e.g. 90 or 90d (expired ones included; implies "
                       "--status active)")
      ->transform(CLI::Validator(
          [](std::string& v) {
            if (v.size() > 1 && (v.back() == 'd' || v.back() == 'D')) v.pop_back();  // "90d": days
            if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) {
              return std::string("'") + v + "' is not a number of days (e.g. 90 or 90d)";
            }
            return std::string();
          },
          "DAYS"));
  list_cmd->add_option("--status", list_opts->status, "active, superseded, revoked or retired")
      ->check(CLI::IsMember({"active", "superseded", "revoked", "retired"}));
  list_cmd->add_option("--limit", list_opts->limit, "At most this many (default: all)");
  list_cmd->add_option("--offset", list_opts->offset, "Skip this many first");
  add_common(*list_cmd, list_opts->common);
  list_cmd->footer(
      "Examples:\n"
      "  dpgcert list --expiring-within 90d\n"
      "  dpgcert list --org 12345674 --status active --json\n"
      "  dpgcert list --status superseded --limit 20 --offset 40");
  runs.emplace_back(list_cmd, [&global, list_opts] { return run_list(global, *list_opts); });

  const auto show_opts = std::make_shared<ShowOptions>();
  auto* show_cmd = add_store_command(app, "show", "Show everything stored about a certificate (never its secrets)");
  show_cmd->add_option("FINGERPRINT", show_opts->fingerprint, "SHA-256 fingerprint or a unique prefix (8+ hex digits)")
      ->required();
  add_common(*show_cmd, show_opts->common);
  show_cmd->footer("Example:\n  dpgcert show a4fab4b0 --json");
  runs.emplace_back(show_cmd, [&global, show_opts] { return run_show(global, *show_opts); });

  const auto export_opts = std::make_shared<ExportOptions>();
  auto* export_cmd = add_store_command(app, "export", "Write a stored bundle as a new PKCS#12 file with a new password");
  export_cmd->add_option("FINGERPRINT", export_opts->fingerprint, "SHA-256 fingerprint or a unique prefix")->required();
  export_cmd->add_option("--out", export_opts->out, "The new file (created 0600; never overwritten)")->required();
  export_cmd->add_option("--profile", export_opts->profile, "modern (AES-256, default) or legacy (3DES/RC2 for old software)")
      ->check(CLI::IsMember({"modern", "legacy"}));
  add_password(*export_cmd, export_opts->password);
  add_common(*export_cmd, export_opts->common);
  export_cmd->footer(
      "Examples:\n"
      "  dpgcert export a4fab4b0 --out kunde-gateway.p12 --password-file new.pw\n"
      "  dpgcert export a4fab4b0 --out old-system.p12 --profile legacy --password-env NEW_PW");
  runs.emplace_back(export_cmd, [&global, export_opts] { return run_export(global, *export_opts); });

  const auto retire_opts = std::make_shared<RetireOptions>();
  auto* retire_cmd = add_store_command(app, "retire", "Take a certificate out of service");
  retire_cmd->add_option("FINGERPRINT", retire_opts->fingerprint, "SHA-256 fingerprint or a unique prefix")->required();
  retire_cmd->add_option("--reason", retire_opts->reason, "Why, for the audit log");
  add_common(*retire_cmd, retire_opts->common);
  retire_cmd->footer("Example:\n  dpgcert retire a4fab4b0 --reason \"customer left the gateway\"");
  runs.emplace_back(retire_cmd, [&global, retire_opts] { return run_retire(global, *retire_opts); });

  auto* key_grp = add_store_command(app, "key", "The store's master key");
  key_grp->require_subcommand(1);
  const auto key_rotate = std::make_shared<KeyRotateOptions>();
  auto* key_rotate_cmd = add_store_command(*key_grp, "rotate", "Re-wrap every data key under a new master key");
  auto* rot_kf = key_rotate_cmd->add_option("--new-key-file", key_rotate->new_key_file,
                                            "New key file (created when missing; default: a new file beside the old one)");
  auto* rot_pp = key_rotate_cmd->add_option("--new-passphrase-env", key_rotate->new_passphrase_env,
                                            "Switch to the passphrase in this environment variable");
  auto* rot_ks = key_rotate_cmd->add_option("--new-key-source", key_rotate->new_key_source,
                                            "Move the master key to a PKCS#11 token: pkcs11:token=LABEL;object=NAME");
  rot_kf->excludes(rot_pp);
  rot_ks->excludes(rot_kf)->excludes(rot_pp);
  key_rotate_cmd->add_option("--argon2-memory", key_rotate->argon2_memory_kib, "Argon2id memory in KiB (default 65536)");
  key_rotate_cmd->add_option("--argon2-iterations", key_rotate->argon2_iterations, "Argon2id passes (default 3)");
  key_rotate_cmd->add_option("--argon2-parallelism", key_rotate->argon2_parallelism, "Argon2id lanes (default 1)");
  add_common(*key_rotate_cmd, key_rotate->common);
  key_rotate_cmd->footer(
      "Examples:\n"
      "  dpgcert key rotate --new-key-file /etc/dpgcert/master-2027.key\n"
      "  dpgcert key rotate --new-passphrase-env NEW_PASSPHRASE\n"
      "  dpgcert --pin-env TOKEN_PIN key rotate --new-key-source 'pkcs11:token=gateway;object=dpgcert-master'");
  runs.emplace_back(key_rotate_cmd, [&global, key_rotate] { return run_key_rotate(global, *key_rotate); });

  const auto audit_opts = std::make_shared<AuditOptions>();
  auto* audit_cmd = add_store_command(app, "audit", "Show the latest lines of the store's audit log");
  audit_cmd->add_option("--limit", audit_opts->limit, "How many (default 50; 0: all)");
  add_common(*audit_cmd, audit_opts->common);
  audit_cmd->footer("Examples:\n  dpgcert audit\n  dpgcert audit --limit 0 --json");
  runs.emplace_back(audit_cmd, [&global, audit_opts] { return run_audit(global, *audit_opts); });
}

}  // namespace dpgcert::cli
