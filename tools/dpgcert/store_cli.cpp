// The store commands: store init, store info, store copy (CLI11 definitions; the commands are in
// store_commands.cpp).
#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <memory>

namespace dpgcert::cli {

void add_store_commands(CLI::App& app, const StoreGlobal& global, CommandRuns& runs) {
  auto* store_grp = add_store_command(app, "store", "Create and describe the inventory store");
  store_grp->require_subcommand(1);
  const auto store_init = std::make_shared<StoreInitOptions>();
  auto* store_init_cmd = add_store_command(*store_grp, "init", "Create a new store sealed under a master key");
  auto* init_kf = store_init_cmd->add_option("--key-file", store_init->key_file,
                                             "Master key file (32 random bytes, created 0600 when missing; default: <store>.key)");
  auto* init_pp = store_init_cmd->add_option("--passphrase-env", store_init->passphrase_env,
                                             "Derive the master key from the passphrase in this environment variable (Argon2id)");
  auto* init_ks = store_init_cmd->add_option("--key-source", store_init->key_source,
                                             "The master key on a PKCS#11 token: pkcs11:token=LABEL;object=NAME (made there, "
                                             "non-extractable, when missing; PIN from --pin-file, --pin-env or DPGCERT_PIN)");
  init_kf->excludes(init_pp);
  init_ks->excludes(init_kf)->excludes(init_pp);
  store_init_cmd->add_option("--argon2-memory", store_init->argon2_memory_kib, "Argon2id memory in KiB (default 65536)");
  store_init_cmd->add_option("--argon2-iterations", store_init->argon2_iterations, "Argon2id passes (default 3)");
  store_init_cmd->add_option("--argon2-parallelism", store_init->argon2_parallelism, "Argon2id lanes (default 1)");
  store_init_cmd->add_option("--environment", store_init->environment,
                             "Which certificates import accepts: production, test or any (default any)")
      ->check(CLI::IsMember({"production", "test", "any"}));
  add_common(*store_init_cmd, store_init->common);
  store_init_cmd->footer(
      "The store remembers where its key comes from (a path or \"passphrase\", never the key); later\n"
      "commands need no key option. DPGCERT_KEY_FILE or DPGCERT_PASSPHRASE override it.\n"
      "Examples:\n"
      "  dpgcert --store /srv/dpgcert/store.db store init --key-file /etc/dpgcert/master.key --environment production\n"
      "  DPGCERT_PASSPHRASE=... dpgcert store init --passphrase-env DPGCERT_PASSPHRASE\n"
      "  dpgcert --pin-file /etc/dpgcert/token.pin store init --key-source 'pkcs11:token=gateway;object=dpgcert-master'");
  runs.emplace_back(store_init_cmd, [&global, store_init] { return run_store_init(global, *store_init); });
  const auto store_info = std::make_shared<StoreInfoOptions>();
  auto* store_info_cmd = add_store_command(*store_grp, "info", "Show the store's location, schema, key source and counts");
  add_common(*store_info_cmd, store_info->common);
  store_info_cmd->footer("Example:\n  dpgcert store info --json");
  runs.emplace_back(store_info_cmd, [&global, store_info] { return run_store_info(global, *store_info); });
  const auto store_copy = std::make_shared<StoreCopyOptions>();
  auto* store_copy_cmd =
      add_store_command(*store_grp, "copy", "Copy a whole store to another location or backend, secrets still sealed");
  store_copy_cmd->add_option("--from", store_copy->from, "Source store location (default: --store / DPGCERT_STORE)");
  store_copy_cmd->add_option("--to", store_copy->to, "Destination location; must hold no store yet")->required();
  add_common(*store_copy_cmd, store_copy->common);
  store_copy_cmd->footer(
      "Every row is copied as it is (ids, audit log, outbox, sealed secrets, the master-key header) in one\n"
      "transaction of the destination: all or nothing. No key is needed; the copy opens with the source's key.\n"
      "Examples:\n"
      "  dpgcert store copy --from /srv/dpgcert/store.db --to postgresql://dpgcert@db.internal/dpgcert\n"
      "  dpgcert store copy --to sqlite:/backup/dpgcert-copy.db --json");
  runs.emplace_back(store_copy_cmd, [&global, store_copy] { return run_store_copy(global, *store_copy); });

  const auto store_env = std::make_shared<StoreEnvironmentOptions>();
  auto* store_env_cmd =
      add_store_command(*store_grp, "environment", "Show or change which certificates import accepts (audited)");
  store_env_cmd->add_option("POLICY", store_env->environment, "production, test or any (absent: show it)")
      ->check(CLI::IsMember({"production", "test", "any"}));
  add_common(*store_env_cmd, store_env->common);
  store_env_cmd->footer(
      "A production store refuses test certificates at import (and a test store production ones), as a\n"
      "failing environment check; --force imports anyway. Stored certificates are not touched.\n"
      "Example:\n  dpgcert store environment production");
  runs.emplace_back(store_env_cmd, [&global, store_env] { return run_store_environment(global, *store_env); });

  const auto store_ret = std::make_shared<StoreRetentionOptions>();
  auto* store_ret_cmd = add_store_command(*store_grp, "retention",
                                          "Show or change how long delivered events stay in the outbox (audited)");
  store_ret_cmd->add_option("DAYS", store_ret->retention, "Days (1 to 36525), or off to keep every event (absent: show it)")
      ->check(CLI::Validator(
          [](const std::string& v) {
            if (v == "off") return std::string();
            const bool digits = !v.empty() && v.size() <= 5 && v.find_first_not_of("0123456789") == std::string::npos;
            return digits && std::stoi(v) >= 1 && std::stoi(v) <= 36525 ? std::string()
                                                                         : std::string("days from 1 to 36525, or off");
          },
          "DAYS|off"));
  add_common(*store_ret_cmd, store_ret->common);
  store_ret_cmd->footer(
      "Each check deletes events older than this whose every delivery went through, with their delivery\n"
      "records (365 days when never set). Events still waiting for a sink, or whose delivery failed or was\n"
      "given up, stay. The audit log and the counters (dpgcert metrics) are never pruned.\n"
      "Example:\n  dpgcert store retention 90");
  runs.emplace_back(store_ret_cmd, [&global, store_ret] { return run_store_retention(global, *store_ret); });

  const auto backup = std::make_shared<StoreBackupOptions>();
  auto* backup_cmd = add_store_command(*store_grp, "backup", "Write a consistent copy of the store while it is in use");
  backup_cmd->add_option("--out", backup->file, "The new file (never overwritten; mode 0600)")->required();
  add_common(*backup_cmd, backup->common);
  backup_cmd->footer(
      "SQLite's online backup API: other commands and processes keep working meanwhile. The copy is itself\n"
      "a store that opens with the same master key; keep the key (file or passphrase) apart from it.\n"
      "PostgreSQL stores are backed up with pg_dump (docs/store.md).\n"
      "Example:\n  dpgcert store backup --out /var/backups/dpgcert/store-$(date +%F).db");
  runs.emplace_back(backup_cmd, [&global, backup] { return run_store_backup(global, *backup); });
  const auto restore = std::make_shared<StoreBackupOptions>();
  auto* restore_cmd = add_store_command(*store_grp, "restore", "Replace the store's content with a backup's");
  restore_cmd->add_option("FILE", restore->file, "A file written by `dpgcert store backup`")->required();
  add_common(*restore_cmd, restore->common);
  restore_cmd->footer(
      "In one step: other processes see the restored store at their next command. A backup from before a\n"
      "key rotation needs the key it was sealed under (DPGCERT_KEY_FILE / DPGCERT_PASSPHRASE).\n"
      "Example:\n  dpgcert store restore /var/backups/dpgcert/store-2026-12-01.db");
  runs.emplace_back(restore_cmd, [&global, restore] { return run_store_restore(global, *restore); });
}

}  // namespace dpgcert::cli
