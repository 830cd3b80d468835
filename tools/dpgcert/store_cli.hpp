// Options of the store commands: store, org, mailbox, import, list, show, export, retire,
// key, audit. The CLI11 wiring is in store_cli.cpp, inventory_cli.cpp, import_cli.cpp and
// certificate_cli.cpp; the commands are in the matching *_commands.cpp files.
#pragma once

#include "cli.hpp"
#include "verify_settings.hpp"

#include <cstddef>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dpgcert {
class Store;
}

namespace dpgcert::cli {

/// Options of the whole tool that the store commands use.
struct StoreGlobal {
  /// --store / DPGCERT_STORE. Empty: $XDG_DATA_HOME/dpgcert/store.db (~/.local/share/dpgcert/store.db).
  std::string store;
  /// --actor: who makes the change, for the audit log. Empty: the OS user.
  std::string actor;
  /// From the configuration file: the master key file or the variable holding the passphrase,
  /// used when DPGCERT_KEY_FILE / DPGCERT_PASSPHRASE are not set (empty: what the store remembers).
  std::string key_file;
  std::string passphrase_env;
  /// --pin-file / --pin-env: where a token's user PIN is (default DPGCERT_PIN, else a prompt).
  std::string pin_file;
  std::string pin_env;
  /// From the configuration file, for `check`: the store's default thresholds, and sinks to add
  /// to the store when missing (the file states what should be; check makes it so first).
  std::optional<std::vector<int>> thresholds;
  struct Sink {
    std::string name;
    std::string kind;  ///< A kind of sink_kinds().
    /// Its option values as sink_from_options() takes them: (flag, value), paths absolute.
    std::vector<std::pair<std::string, std::string>> options;
    /// Added with the events that waited for a sink ("backlog": false in the file: without).
    bool backlog = true;
  };
  std::vector<Sink> sinks;
  /// From the configuration file, for `check`: the last-run rule ("min_interval"), unless
  /// --min-interval is given.
  std::optional<std::chrono::seconds> min_interval;
  /// From the configuration file: the store's revocation refresh interval ("revocation_refresh";
  /// inner nullopt: "off"), and the anchors and intermediates `check` builds paths with.
  std::optional<std::optional<std::chrono::seconds>> revocation_refresh;
  std::vector<std::string> trust;
  std::vector<std::string> untrusted;
};

struct StoreInitOptions {
  Common common;
  std::string key_file;        ///< --key-file (created 0600 when missing). Default: <store>.key beside the store.
  std::string passphrase_env;  ///< --passphrase-env VAR: the passphrase is in $VAR.
  std::string key_source;      ///< --key-source pkcs11:...: the master key on a token.
  std::uint32_t argon2_memory_kib = 64 * 1024;
  std::uint32_t argon2_iterations = 3;
  std::uint32_t argon2_parallelism = 1;
  std::string environment = "any";  ///< --environment: production, test or any.
};

struct StoreEnvironmentOptions {
  Common common;
  std::string environment;  ///< production, test or any; empty: show it.
};

struct StoreRetentionOptions {
  Common common;
  std::string retention;  ///< days or "off"; empty: show it.
};

struct StoreBackupOptions {
  Common common;
  std::string file;  ///< backup: --out FILE; restore: FILE.
};

struct StoreInfoOptions {
  Common common;
};

struct StoreCopyOptions {
  Common common;
  std::string from;  ///< --from: the source location (default: the store of --store / DPGCERT_STORE).
  std::string to;    ///< --to: the destination location (must hold no store).
};

struct OrgAddOptions {
  Common common;
  std::string cvr;
  std::string name;
  std::vector<std::string> contacts;  ///< "Name <email>" or "email"; optionally " (role)" after.
  std::string notes;
  std::string language = "da";  ///< --language da|en
};

struct OrgListOptions {
  Common common;
};

struct OrgShowOptions {
  Common common;
  std::string cvr;
};

struct MailboxAddOptions {
  Common common;
  std::string address;
  std::string org;
  std::string ad_group;
};

struct MailboxListOptions {
  Common common;
  std::string org;
};

struct OrgEditOptions {
  Common common;
  std::string cvr;
  std::optional<std::string> name;   ///< --name (org rename, org edit)
  std::optional<std::string> notes;  ///< --notes (org edit)
  std::optional<std::string> language;  ///< --language (org edit)
};

struct OrgRemoveOptions {
  Common common;
  std::string cvr;
  bool retire_certificates = false;
  std::string reason;
};

struct ContactOptions {
  Common common;
  std::string cvr;
  std::string contact;  ///< add: "Name <email> (role)"; remove: the e-mail address.
};

struct MailboxEditOptions {
  Common common;
  std::string address;
  std::optional<std::string> ad_group;  ///< --ad-group (mailbox edit)
  std::string org;                      ///< --org (mailbox move)
};

struct MailboxRemoveOptions {
  Common common;
  std::string address;
  bool retire_certificates = false;
  std::string reason;
};

struct ImportCliOptions {
  Common common;
  PasswordSource password;
  std::vector<std::string> files;
  std::string org;
  std::string mailbox;
  bool force = false;
  std::vector<std::string> trust;      ///< Anchors (files or folders); default: the built-in OCES catalogue.
  std::vector<std::string> untrusted;  ///< Extra intermediates.
  std::vector<std::string> crls;
  std::string password_map;  ///< --password-map: CSV or JSON, file name -> password source (onboarding.hpp).
  unsigned jobs = 0;         ///< --jobs: worker threads; 0: one per core.
  bool quiet = false;        ///< --quiet: no progress bar.
  /// --online, --require-revocation, --revocation-timeout; the configuration file's
  /// "validation" revocation_mode / require_revocation / revocation_timeout below them.
  RevocationSettings revocation;
};

struct ListOptions {
  Common common;
  std::string org;
  std::string mailbox;
  std::optional<int> expiring_within;  ///< Days; implies --status active unless --status is given.
  std::string status;
  std::size_t limit = 0;
  std::size_t offset = 0;
};

struct ShowOptions {
  Common common;
  std::string fingerprint;
};

struct ExportOptions {
  Common common;
  PasswordSource password;  ///< The new file's password (required).
  std::string fingerprint;
  std::string out;
  std::string profile = "modern";  ///< "modern" or "legacy".
};

struct RetireOptions {
  Common common;
  std::string fingerprint;
  std::string reason;
};

struct KeyRotateOptions {
  Common common;
  std::string new_key_file;
  std::string new_passphrase_env;
  std::string new_key_source;  ///< --new-key-source pkcs11:...
  std::uint32_t argon2_memory_kib = 64 * 1024;
  std::uint32_t argon2_iterations = 3;
  std::uint32_t argon2_parallelism = 1;
};

struct AuditOptions {
  Common common;
  std::size_t limit = 50;
};

/// Opens the store the global options name, with --now as its clock and the DPGCERT_KEY_FILE /
/// DPGCERT_PASSPHRASE overrides (shared by the lifecycle commands).
[[nodiscard]] std::unique_ptr<Store> open_cli_store(const StoreGlobal& global, const Common& common);
/// Runs a command body; a dpgcert::Error becomes a message (with a hint where one helps) and exit
/// code 3 (64 for invalid_argument).
int run_guarded(const Common& common, const std::function<int()>& body);

// Each returns the exit code: 0 done, 2 refused (import without --force), 3 could not run, 64 usage.
int run_store_init(const StoreGlobal& global, const StoreInitOptions& options);
int run_store_environment(const StoreGlobal& global, const StoreEnvironmentOptions& options);
int run_store_retention(const StoreGlobal& global, const StoreRetentionOptions& options);
int run_store_backup(const StoreGlobal& global, const StoreBackupOptions& options);
int run_store_restore(const StoreGlobal& global, const StoreBackupOptions& options);
int run_store_info(const StoreGlobal& global, const StoreInfoOptions& options);
int run_store_copy(const StoreGlobal& global, const StoreCopyOptions& options);
int run_org_add(const StoreGlobal& global, const OrgAddOptions& options);
int run_org_list(const StoreGlobal& global, const OrgListOptions& options);
int run_org_show(const StoreGlobal& global, const OrgShowOptions& options);
int run_org_edit(const StoreGlobal& global, const OrgEditOptions& options);
int run_org_remove(const StoreGlobal& global, const OrgRemoveOptions& options);
int run_contact_add(const StoreGlobal& global, const ContactOptions& options);
int run_contact_remove(const StoreGlobal& global, const ContactOptions& options);
int run_mailbox_edit(const StoreGlobal& global, const MailboxEditOptions& options);
int run_mailbox_move(const StoreGlobal& global, const MailboxEditOptions& options);
int run_mailbox_remove(const StoreGlobal& global, const MailboxRemoveOptions& options);
int run_mailbox_add(const StoreGlobal& global, const MailboxAddOptions& options);
int run_mailbox_list(const StoreGlobal& global, const MailboxListOptions& options);
int run_import(const StoreGlobal& global, const ImportCliOptions& options);
int run_list(const StoreGlobal& global, const ListOptions& options);
int run_show(const StoreGlobal& global, const ShowOptions& options);
int run_export(const StoreGlobal& global, const ExportOptions& options);
int run_retire(const StoreGlobal& global, const RetireOptions& options);
int run_key_rotate(const StoreGlobal& global, const KeyRotateOptions& options);

/// token import / remove: a stored certificate's key and a token.
struct TokenImportOptions {
  Common common;
  std::string fingerprint;
  std::string token;  ///< --token pkcs11:token=LABEL (or serial=)
};

/// token list: the certificates on a token.
struct TokenListOptions {
  Common common;
  std::string token;  ///< --token; empty: every token p11-kit finds
};

int run_token_import(const StoreGlobal& global, const TokenImportOptions& options);
int run_token_remove(const StoreGlobal& global, const TokenImportOptions& options);
int run_token_list(const StoreGlobal& global, const TokenListOptions& options);
int run_audit(const StoreGlobal& global, const AuditOptions& options);

}  // namespace dpgcert::cli
