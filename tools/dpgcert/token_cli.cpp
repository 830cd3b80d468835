// The token commands: token import, token list, token remove (CLI11 definitions; the commands
// are in token_commands.cpp). See docs/tokens.md.
#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <memory>

namespace dpgcert::cli {

void add_token_commands(CLI::App& app, const StoreGlobal& global, CommandRuns& runs) {
  auto* grp = add_store_command(app, "token", "Private keys on PKCS#11 tokens (HSMs, smart cards, SoftHSM2)");
  grp->require_subcommand(1);

  const auto import_opts = std::make_shared<TokenImportOptions>();
  auto* import_cmd = add_store_command(*grp, "import",
                                       "Put a stored certificate's private key (non-extractable), public key and "
                                       "certificate on a token");
  import_cmd->add_option("FINGERPRINT", import_opts->fingerprint, "SHA-256 fingerprint or a unique prefix")->required();
  import_cmd->add_option("--token", import_opts->token, "The token: pkcs11:token=LABEL (or serial=SERIAL)")->required();
  add_common(*import_cmd, import_opts->common);
  import_cmd->footer(
      "The PIN comes from --pin-file, --pin-env or DPGCERT_PIN (else a prompt). A second import of the same\n"
      "certificate creates nothing. From then on the gateway's current-bundle call returns the key's URI.\n"
      "Example:\n"
      "  dpgcert --pin-file /etc/dpgcert/token.pin token import a4fab4b0 --token 'pkcs11:token=gateway'");
  runs.emplace_back(import_cmd, [&global, import_opts] { return run_token_import(global, *import_opts); });

  const auto list_opts = std::make_shared<TokenListOptions>();
  auto* list_cmd = add_store_command(*grp, "list", "List the certificates on a token (URI, subject, serial, notAfter)");
  list_cmd->add_option("--token", list_opts->token, "The token (default: every token p11-kit finds)");
  add_common(*list_cmd, list_opts->common);
  list_cmd->footer("Example:\n  dpgcert --pin-env TOKEN_PIN token list --token 'pkcs11:token=gateway' --json");
  runs.emplace_back(list_cmd, [&global, list_opts] { return run_token_list(global, *list_opts); });

  const auto remove_opts = std::make_shared<TokenImportOptions>();
  auto* remove_cmd = add_store_command(*grp, "remove",
                                       "Remove a retired or superseded certificate's objects from its token");
  remove_cmd->add_option("FINGERPRINT", remove_opts->fingerprint, "SHA-256 fingerprint or a unique prefix")->required();
  remove_cmd->add_option("--token", remove_opts->token, "The token it was imported to")->required();
  add_common(*remove_cmd, remove_opts->common);
  remove_cmd->footer(
      "An active certificate's objects stay (retire it, or import and activate its successor, first).\n"
      "Example:\n"
      "  dpgcert --pin-file /etc/dpgcert/token.pin token remove 0b1c2d3e --token 'pkcs11:token=gateway'");
  runs.emplace_back(remove_cmd, [&global, remove_opts] { return run_token_remove(global, *remove_opts); });
}

}  // namespace dpgcert::cli
