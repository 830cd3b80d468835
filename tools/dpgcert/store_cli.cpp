// The store commands: store init, store info (CLI11 definitions; the commands are in
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
}

}  // namespace dpgcert::cli
