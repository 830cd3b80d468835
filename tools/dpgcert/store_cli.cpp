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
  init_kf->excludes(init_pp);
  store_init_cmd->add_option("--argon2-memory", store_init->argon2_memory_kib, "Argon2id memory in KiB (default 65536)");
  store_init_cmd->add_option("--argon2-iterations", store_init->argon2_iterations, "Argon2id passes (default 3)");
  store_init_cmd->add_option("--argon2-parallelism", store_init->argon2_parallelism, "Argon2id lanes (default 1)");
  add_common(*store_init_cmd, store_init->common);
  store_init_cmd->footer(
      "The store remembers where its key comes from (a path or \"passphrase\", never the key); later\n"
      "commands need no key option. DPGCERT_KEY_FILE or DPGCERT_PASSPHRASE override it.\n"
      "Examples:\n"
      "  dpgcert --store /srv/dpgcert/store.db store init --key-file /etc/dpgcert/master.key\n"
      "  DPGCERT_PASSPHRASE=... dpgcert store init --passphrase-env DPGCERT_PASSPHRASE");
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
}

}  // namespace dpgcert::cli
