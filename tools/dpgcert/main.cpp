// dpgcert: the command-line tool. This is the one translation unit that compiles CLI11.
#include "cli.hpp"
#include "lifecycle_cli.hpp"
#include "cli_docs.hpp"
#include "config.hpp"
#include "store_cli.hpp"

#include <CLI/CLI.hpp>

#include <functional>
#include <iostream>
#include <string>

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

  // ---- store commands (issue 6): BEGIN -------------------------------------------------------
  // Global --store / --actor; subcommands store, org, mailbox, import, list, show, export, retire,
  // key, audit (store_cli.hpp, store_commands.cpp). Dispatch: the loop over store_runs below.
  StoreGlobal store_global;
  app.add_option("--store", store_global.store,
                 "The store database (default: $XDG_DATA_HOME/dpgcert/store.db, i.e. ~/.local/share/dpgcert/store.db)")
      ->envname("DPGCERT_STORE");
  app.add_option("--actor", store_global.actor, "Who makes the change, for the audit log (default: the OS user)");
  std::string config_path;
  app.add_option("--config", config_path,
                 "Configuration file (JSON; default: $DPGCERT_CONFIG, ~/.config/dpgcert/config.json, /etc/dpgcert/config.json)");
  std::vector<std::pair<CLI::App*, std::function<int()>>> store_runs;
  auto store_cmd = [&](CLI::App& parent, const char* name, const char* help) {
    CLI::App* c = parent.add_subcommand(name, help);
    c->fallthrough();  // --store and --actor may follow the command too
    return c;
  };
  auto* store_grp = store_cmd(app, "store", "Create and describe the inventory store");
  store_grp->require_subcommand(1);
  StoreInitOptions store_init;
  auto* store_init_cmd = store_cmd(*store_grp, "init", "Create a new store sealed under a master key");
  auto* init_kf = store_init_cmd->add_option("--key-file", store_init.key_file,
                                             "Master key file (32 random bytes, created 0600 when missing; default: <store>.key)");
  auto* init_pp = store_init_cmd->add_option("--passphrase-env", store_init.passphrase_env,
                                             "Derive the master key from the passphrase in this environment variable (Argon2id)");
  init_kf->excludes(init_pp);
  store_init_cmd->add_option("--argon2-memory", store_init.argon2_memory_kib, "Argon2id memory in KiB (default 65536)");
  store_init_cmd->add_option("--argon2-iterations", store_init.argon2_iterations, "Argon2id passes (default 3)");
  store_init_cmd->add_option("--argon2-parallelism", store_init.argon2_parallelism, "Argon2id lanes (default 1)");
  add_common(*store_init_cmd, store_init.common);
  store_init_cmd->footer(
      "The store remembers where its key comes from (a path or \"passphrase\", never the key); later\n"
      "commands need no key option. DPGCERT_KEY_FILE or DPGCERT_PASSPHRASE override it.\n"
      "Examples:\n"
      "  dpgcert --store /srv/dpgcert/store.db store init --key-file /etc/dpgcert/master.key\n"
      "  DPGCERT_PASSPHRASE=... dpgcert store init --passphrase-env DPGCERT_PASSPHRASE");
  store_runs.emplace_back(store_init_cmd, [&] { return run_store_init(store_global, store_init); });
  StoreInfoOptions store_info;
  auto* store_info_cmd = store_cmd(*store_grp, "info", "Show the store's location, schema, key source and counts");
  add_common(*store_info_cmd, store_info.common);
  store_info_cmd->footer("Example:\n  dpgcert store info --json");
  store_runs.emplace_back(store_info_cmd, [&] { return run_store_info(store_global, store_info); });

  auto* org_grp = store_cmd(app, "org", "Organisations (CVR numbers)");
  org_grp->require_subcommand(1);
  OrgAddOptions org_add;
  auto* org_add_cmd = store_cmd(*org_grp, "add", "Add an organisation");
  org_add_cmd->add_option("CVR", org_add.cvr, "CVR number (8 digits)")->required();
  org_add_cmd->add_option("--name", org_add.name, "Name")->required();
  org_add_cmd->add_option("--contact", org_add.contacts, "Contact: \"Name <email>\" or \"Name <email> (role)\" (repeatable)");
  org_add_cmd->add_option("--notes", org_add.notes, "Free-text notes");
  add_common(*org_add_cmd, org_add.common);
  org_add_cmd->footer(
      "Example:\n  dpgcert org add 12345674 --name \"Kunde A/S\" --contact \"IT-drift <it@kunde.dk> (renewals)\"");
  store_runs.emplace_back(org_add_cmd, [&] { return run_org_add(store_global, org_add); });
  OrgListOptions org_list;
  auto* org_list_cmd = store_cmd(*org_grp, "list", "List organisations");
  add_common(*org_list_cmd, org_list.common);
  org_list_cmd->footer("Example:\n  dpgcert org list --json");
  store_runs.emplace_back(org_list_cmd, [&] { return run_org_list(store_global, org_list); });
  OrgShowOptions org_show;
  auto* org_show_cmd = store_cmd(*org_grp, "show", "Show an organisation with its mailboxes and certificates");
  org_show_cmd->add_option("CVR", org_show.cvr, "CVR number")->required();
  add_common(*org_show_cmd, org_show.common);
  org_show_cmd->footer("Example:\n  dpgcert org show 12345674");
  store_runs.emplace_back(org_show_cmd, [&] { return run_org_show(store_global, org_show); });

  auto* mailbox_grp = store_cmd(app, "mailbox", "Function mailboxes");
  mailbox_grp->require_subcommand(1);
  MailboxAddOptions mailbox_add;
  auto* mailbox_add_cmd = store_cmd(*mailbox_grp, "add", "Add a function mailbox to an organisation");
  mailbox_add_cmd->add_option("ADDRESS", mailbox_add.address, "E-mail address, e.g. sikkerpost@kunde.dk")->required();
  mailbox_add_cmd->add_option("--org", mailbox_add.org, "The organisation's CVR number")->required();
  mailbox_add_cmd->add_option("--ad-group", mailbox_add.ad_group, "Active Directory group whose users may use it");
  add_common(*mailbox_add_cmd, mailbox_add.common);
  mailbox_add_cmd->footer(
      "Example:\n  dpgcert mailbox add sikkerpost@kunde.dk --org 12345674 --ad-group GG-Sikkerpost-Kunde");
  store_runs.emplace_back(mailbox_add_cmd, [&] { return run_mailbox_add(store_global, mailbox_add); });
  MailboxListOptions mailbox_list;
  auto* mailbox_list_cmd = store_cmd(*mailbox_grp, "list", "List mailboxes with their current certificate");
  mailbox_list_cmd->add_option("--org", mailbox_list.org, "Only this organisation's (CVR)");
  add_common(*mailbox_list_cmd, mailbox_list.common);
  mailbox_list_cmd->footer("Example:\n  dpgcert mailbox list --org 12345674");
  store_runs.emplace_back(mailbox_list_cmd, [&] { return run_mailbox_list(store_global, mailbox_list); });

  ImportCliOptions import_opts;
  auto* import_cmd = store_cmd(app, "import", "Validate PKCS#12 files and store them with their password, sealed");
  import_cmd->add_option("PATH", import_opts.files, "PKCS#12 files, or folders whose .p12/.pfx files to import")->required();
  add_password(*import_cmd, import_opts.password);
  import_cmd->add_option("--password-map", import_opts.password_map,
                         "CSV or JSON map: file name -> password source (pass:, file:, env:), org, mailbox");
  import_cmd->add_option("--jobs,-j", import_opts.jobs, "Worker threads (default: one per core)");
  import_cmd->add_flag("--quiet,-q", import_opts.quiet, "No progress bar");
  import_cmd->add_option("--org", import_opts.org, "Attach to this organisation (CVR; created when missing)");
  import_cmd->add_option("--mailbox", import_opts.mailbox, "Attach to this mailbox (created when missing)");
  import_cmd->add_flag("--force", import_opts.force, "Import even when validation fails (the failing report is kept)");
  import_cmd->add_option("--trust", import_opts.trust, "Trust anchors (file or folder; repeatable). Default: built-in OCES");
  import_cmd->add_option("--untrusted", import_opts.untrusted, "Extra intermediate CA certificates (repeatable)");
  import_cmd->add_option("--crl", import_opts.crls, "CRLs to check revocation against (repeatable)");
  add_common(*import_cmd, import_opts.common);
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
  store_runs.emplace_back(import_cmd, [&] { return run_import(store_global, import_opts); });

  ListOptions list_opts;
  auto* list_cmd = store_cmd(app, "list", "List stored certificates, soonest expiry first");
  list_cmd->add_option("--org", list_opts.org, "Only this organisation's (CVR)");
  list_cmd->add_option("--mailbox", list_opts.mailbox, "Only this mailbox's");
  list_cmd->add_option("--expiring-within", list_opts.expiring_within,
                       "Only those whose validity ends within DAYS (expired ones included; implies --status active)");
  list_cmd->add_option("--status", list_opts.status, "active, superseded, revoked or retired")
      ->check(CLI::IsMember({"active", "superseded", "revoked", "retired"}));
  list_cmd->add_option("--limit", list_opts.limit, "At most this many (default: all)");
  list_cmd->add_option("--offset", list_opts.offset, "Skip this many first");
  add_common(*list_cmd, list_opts.common);
  list_cmd->footer(
      "Examples:\n"
      "  dpgcert list --expiring-within 90\n"
      "  dpgcert list --org 12345674 --status active --json\n"
      "  dpgcert list --status superseded --limit 20 --offset 40");
  store_runs.emplace_back(list_cmd, [&] { return run_list(store_global, list_opts); });

  ShowOptions show_opts;
  auto* show_cmd = store_cmd(app, "show", "Show everything stored about a certificate (never its secrets)");
  show_cmd->add_option("FINGERPRINT", show_opts.fingerprint, "SHA-256 fingerprint or a unique prefix (8+ hex digits)")
      ->required();
  add_common(*show_cmd, show_opts.common);
  show_cmd->footer("Example:\n  dpgcert show a4fab4b0 --json");
  store_runs.emplace_back(show_cmd, [&] { return run_show(store_global, show_opts); });

  ExportOptions export_opts;
  auto* export_cmd = store_cmd(app, "export", "Write a stored bundle as a new PKCS#12 file with a new password");
  export_cmd->add_option("FINGERPRINT", export_opts.fingerprint, "SHA-256 fingerprint or a unique prefix")->required();
  export_cmd->add_option("--out", export_opts.out, "The new file (created 0600; never overwritten)")->required();
  export_cmd->add_option("--profile", export_opts.profile, "modern (AES-256, default) or legacy (3DES/RC2 for old software)")
      ->check(CLI::IsMember({"modern", "legacy"}));
  add_password(*export_cmd, export_opts.password);
  add_common(*export_cmd, export_opts.common);
  export_cmd->footer(
      "Examples:\n"
      "  dpgcert export a4fab4b0 --out kunde-gateway.p12 --password-file new.pw\n"
      "  dpgcert export a4fab4b0 --out old-system.p12 --profile legacy --password-env NEW_PW");
  store_runs.emplace_back(export_cmd, [&] { return run_export(store_global, export_opts); });

  RetireOptions retire_opts;
  auto* retire_cmd = store_cmd(app, "retire", "Take a certificate out of service");
  retire_cmd->add_option("FINGERPRINT", retire_opts.fingerprint, "SHA-256 fingerprint or a unique prefix")->required();
  retire_cmd->add_option("--reason", retire_opts.reason, "Why, for the audit log");
  add_common(*retire_cmd, retire_opts.common);
  retire_cmd->footer("Example:\n  dpgcert retire a4fab4b0 --reason \"customer left the gateway\"");
  store_runs.emplace_back(retire_cmd, [&] { return run_retire(store_global, retire_opts); });

  auto* key_grp = store_cmd(app, "key", "The store's master key");
  key_grp->require_subcommand(1);
  KeyRotateOptions key_rotate;
  auto* key_rotate_cmd = store_cmd(*key_grp, "rotate", "Re-wrap every data key under a new master key");
  auto* rot_kf = key_rotate_cmd->add_option("--new-key-file", key_rotate.new_key_file,
                                            "New key file (created when missing; default: a new file beside the old one)");
  auto* rot_pp = key_rotate_cmd->add_option("--new-passphrase-env", key_rotate.new_passphrase_env,
                                            "Switch to the passphrase in this environment variable");
  rot_kf->excludes(rot_pp);
  key_rotate_cmd->add_option("--argon2-memory", key_rotate.argon2_memory_kib, "Argon2id memory in KiB (default 65536)");
  key_rotate_cmd->add_option("--argon2-iterations", key_rotate.argon2_iterations, "Argon2id passes (default 3)");
  key_rotate_cmd->add_option("--argon2-parallelism", key_rotate.argon2_parallelism, "Argon2id lanes (default 1)");
  add_common(*key_rotate_cmd, key_rotate.common);
  key_rotate_cmd->footer(
      "Examples:\n"
      "  dpgcert key rotate --new-key-file /etc/dpgcert/master-2027.key\n"
      "  dpgcert key rotate --new-passphrase-env NEW_PASSPHRASE");
  store_runs.emplace_back(key_rotate_cmd, [&] { return run_key_rotate(store_global, key_rotate); });

  AuditOptions audit_opts;
  auto* audit_cmd = store_cmd(app, "audit", "Show the latest lines of the store's audit log");
  audit_cmd->add_option("--limit", audit_opts.limit, "How many (default 50; 0: all)");
  add_common(*audit_cmd, audit_opts.common);
  audit_cmd->footer("Examples:\n  dpgcert audit\n  dpgcert audit --limit 0 --json");
  store_runs.emplace_back(audit_cmd, [&] { return run_audit(store_global, audit_opts); });
  // ---- store commands (issue 6): END ---------------------------------------------------------

  // ---- lifecycle commands (issue 7): BEGIN ---------------------------------------------------
  // check, digest, metrics, sink add/list/remove, org policy (lifecycle_cli.hpp,
  // lifecycle_commands.cpp). Dispatched with the store commands (store_runs).
  CheckCliOptions check_opts;
  auto* check_cmd = store_cmd(app, "check", "Announce certificates that crossed a renewal threshold; deliver the events");
  check_cmd->add_option("--at", check_opts.at, "Check at this RFC 3339 time (default: --now, else now)");
  check_cmd->add_option("--sink", check_opts.sinks, "Deliver only to this configured sink this run (repeatable)");
  check_cmd->add_flag("--no-deliver", check_opts.no_deliver, "Record the events only; a later run delivers them");
  add_common(*check_cmd, check_opts.common);
  check_cmd->footer(
      "--json prints one JSON line per event emitted (docs/cli-json.md). Each threshold is announced once;\n"
      "failed deliveries are retried by later runs with backoff.\n"
      "Exit codes (a monitoring plugin's): 0 nothing due, 1 something in a warning stage, 2 something expired,\n"
      "revoked or in its last stage, 3 could not run.\n"
      "Examples:\n"
      "  dpgcert check\n"
      "  dpgcert check --json --at 2026-11-15T00:00:00Z");
  store_runs.emplace_back(check_cmd, [&] { return run_check(store_global, check_opts); });

  DigestOptions digest_opts;
  auto* digest_cmd = store_cmd(app, "digest", "Per organisation: what expires when, and whom to contact");
  digest_cmd->add_option("--org", digest_opts.org, "Only this organisation (CVR)");
  add_common(*digest_cmd, digest_opts.common);
  digest_cmd->footer("Examples:\n  dpgcert digest\n  dpgcert digest --org 12345674 --json");
  store_runs.emplace_back(digest_cmd, [&] { return run_digest(store_global, digest_opts); });

  MetricsOptions metrics_opts;
  auto* metrics_cmd = store_cmd(app, "metrics", "Prometheus metrics (x509-certificate-exporter names, dpgcert counters)");
  metrics_cmd->add_option("--out", metrics_opts.out,
                          "Write this file atomically, e.g. for node_exporter's textfile collector (default: stdout)");
  metrics_cmd->add_option("--now", metrics_opts.common.now, "Pretend the current time is this RFC 3339 time");
  metrics_cmd->footer("Example:\n  dpgcert metrics --out /var/lib/prometheus/node-exporter/dpgcert.prom");
  store_runs.emplace_back(metrics_cmd, [&] { return run_metrics(store_global, metrics_opts); });

  auto* sink_grp = store_cmd(app, "sink", "Where renewal events are delivered");
  sink_grp->require_subcommand(1);
  SinkAddOptions sink_add;
  auto* sink_add_cmd = store_cmd(*sink_grp, "add", "Add a sink: JSON Lines, a command hook, or an in-process callback");
  sink_add_cmd->add_option("NAME", sink_add.name, "The sink's name (A-Z, a-z, 0-9, '.', '_', '-')")->required();
  auto* sink_jsonl = sink_add_cmd->add_option("--jsonl", sink_add.jsonl, "Append events as JSON Lines to FILE ('-': stdout)");
  auto* sink_command = sink_add_cmd->add_option("--command", sink_add.command,
                                                "Run PROG per event: the event as JSON on stdin, DPGCERT_* variables");
  auto* sink_callback = sink_add_cmd->add_flag("--callback", sink_add.callback,
                                               "A function the embedding program registers under NAME");
  sink_jsonl->excludes(sink_command)->excludes(sink_callback);
  sink_command->excludes(sink_callback);
  sink_add_cmd->add_option("--arg", sink_add.args, "An argument for --command (repeatable)");
  sink_add_cmd->add_option("--timeout", sink_add.timeout, "Seconds the command may run (default 30)");
  add_common(*sink_add_cmd, sink_add.common);
  sink_add_cmd->footer(
      "Examples:\n"
      "  dpgcert sink add log --jsonl /var/log/dpgcert/events.jsonl\n"
      "  dpgcert sink add ticket --command /usr/local/bin/open-ticket --arg --queue=pki --timeout 60");
  store_runs.emplace_back(sink_add_cmd, [&] { return run_sink_add(store_global, sink_add); });
  SinkListOptions sink_list;
  auto* sink_list_cmd = store_cmd(*sink_grp, "list", "List sinks with their pending and delivered events");
  add_common(*sink_list_cmd, sink_list.common);
  sink_list_cmd->footer("Example:\n  dpgcert sink list --json");
  store_runs.emplace_back(sink_list_cmd, [&] { return run_sink_list(store_global, sink_list); });
  SinkRemoveOptions sink_remove;
  auto* sink_remove_cmd = store_cmd(*sink_grp, "remove", "Remove a sink and its pending deliveries");
  sink_remove_cmd->add_option("NAME", sink_remove.name, "The sink's name")->required();
  add_common(*sink_remove_cmd, sink_remove.common);
  sink_remove_cmd->footer("Example:\n  dpgcert sink remove ticket");
  store_runs.emplace_back(sink_remove_cmd, [&] { return run_sink_remove(store_global, sink_remove); });

  OrgPolicyOptions org_policy;
  auto* org_policy_cmd = store_cmd(*org_grp, "policy", "Show or set the renewal thresholds of an organisation (or the default)");
  org_policy_cmd->add_option("CVR", org_policy.cvr, "CVR number, or 'default' for the store's default")->required();
  auto* policy_set = org_policy_cmd->add_option("--thresholds", org_policy.thresholds,
                                                "Days before expiry, descending, e.g. 120,90,60,30,14,7,1,0 (0: expired)");
  auto* policy_reset = org_policy_cmd->add_flag("--reset", org_policy.reset, "Remove the override");
  policy_set->excludes(policy_reset);
  add_common(*org_policy_cmd, org_policy.common);
  org_policy_cmd->footer(
      "Examples:\n"
      "  dpgcert org policy 12345674\n"
      "  dpgcert org policy 12345674 --thresholds 120,90,60,30,14,7,1,0\n"
      "  dpgcert org policy default --thresholds 90,30,7,0\n"
      "  dpgcert org policy 12345674 --reset");
  store_runs.emplace_back(org_policy_cmd, [&] { return run_org_policy(store_global, org_policy); });
  // ---- lifecycle commands (issue 7): END -----------------------------------------------------

  // Hidden: the man page and the bash completion, generated from the definitions above (the build
  // runs these; see tools/dpgcert/CMakeLists.txt).
  auto* generate_cmd = app.add_subcommand("generate", "Write the man page or the bash completion to stdout")->group("");
  generate_cmd->require_subcommand(1);
  auto* generate_man = generate_cmd->add_subcommand("man", "The man page (roff)");
  auto* generate_bash = generate_cmd->add_subcommand("bash-completion", "The bash completion script");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : exit_usage;
  }
  if (generate_man->parsed()) {
    docs::write_man_page(std::cout, app, DPGCERT_TOOL_VERSION);
    return exit_ok;
  }
  if (generate_bash->parsed()) {
    docs::write_bash_completion(std::cout, app);
    return exit_ok;
  }
  // The configuration file fills in what neither the command line nor the environment gave.
  try {
    const Config config = load_config(config_path);
    if (store_global.store.empty() && config.store) store_global.store = *config.store;
    if (store_global.actor.empty() && config.actor) store_global.actor = *config.actor;
    store_global.key_file = config.key_file.value_or("");
    store_global.passphrase_env = config.passphrase_env.value_or("");
    store_global.thresholds = config.thresholds;
    for (const auto& js : config.sinks) {
      StoreGlobal::Sink sink;
      sink.name = js["name"].get<std::string>();
      if (js.contains("jsonl")) {
        sink.jsonl = js["jsonl"].get<std::string>();
      } else {
        sink.argv.push_back(js["command"].get<std::string>());
        if (js.contains("args")) {
          if (!js["args"].is_array()) throw dpgcert::Error(dpgcert::ErrorCode::invalid_argument, "configuration: sink \"" + sink.name + "\": \"args\" must be a list of strings");
          for (const auto& a : js["args"]) {
            if (!a.is_string()) throw dpgcert::Error(dpgcert::ErrorCode::invalid_argument, "configuration: sink \"" + sink.name + "\": \"args\" must be a list of strings");
            sink.argv.push_back(a.get<std::string>());
          }
        }
        if (js.contains("timeout")) {
          if (!js["timeout"].is_number_integer() || js["timeout"].get<int>() <= 0) {
            throw dpgcert::Error(dpgcert::ErrorCode::invalid_argument, "configuration: sink \"" + sink.name + "\": \"timeout\" is seconds > 0");
          }
          sink.timeout = js["timeout"].get<int>();
        }
      }
      store_global.sinks.push_back(std::move(sink));
    }
    if (verify.trust.empty()) verify.trust = config.trust;
    if (verify.untrusted.empty()) verify.untrusted = config.untrusted;
    if (verify.crls.empty()) verify.crls = config.crls;
    if (import_opts.trust.empty()) import_opts.trust = config.trust;
    if (import_opts.untrusted.empty()) import_opts.untrusted = config.untrusted;
    if (import_opts.crls.empty()) import_opts.crls = config.crls;
    if (import_opts.jobs == 0 && config.jobs) import_opts.jobs = *config.jobs;
  } catch (const dpgcert::Error& e) {
    std::cerr << "dpgcert: " << to_string(e.code()) << ": " << e.what() << '\n';
    return e.code() == dpgcert::ErrorCode::invalid_argument ? exit_usage : exit_unreadable;
  }
  if (inspect_cmd->parsed()) return run_inspect(inspect);
  if (verify_cmd->parsed()) return run_verify(verify);
  for (const auto& [cmd, run] : store_runs) {  // store commands (issue 6)
    if (cmd->parsed()) return run();
  }
  return exit_usage;
}
