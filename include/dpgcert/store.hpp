// The inventory: organisations, mailboxes and certificates with their PKCS#12 file and password
// sealed at rest, an append-only audit log, expiry queries. One backend-neutral class over
// private backends chosen by the store's location; the embedded default backend is SQLite (see
// docs/store.md). The lifecycle layer (<dpgcert/lifecycle.hpp>) keeps its own rows in the store.
#pragma once

#include <dpgcert/context.hpp>
#include <dpgcert/error.hpp>
#include <dpgcert/export.hpp>
#include <dpgcert/oces.hpp>
#include <dpgcert/pkcs12.hpp>
#include <dpgcert/revocation.hpp>
#include <dpgcert/secret.hpp>
#include <dpgcert/store_changes.hpp>
#include <dpgcert/time.hpp>
#include <dpgcert/validation.hpp>
#include <dpgcert/vault.hpp>
#include <dpgcert/x509.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dpgcert {

// ---- the model ------------------------------------------------------------------------------

/// Where a certificate stands in the inventory.
enum class CertificateStatus {
  active,      ///< In use (or ready to be) for its mailbox / organisation.
  superseded,  ///< A newer certificate of the same lineage replaced it (see superseded_by).
  revoked,     ///< Revoked by its CA (imported with a failing revocation check, or marked so).
  retired,     ///< Taken out of service by an operator.
};

/// "active", "superseded", "revoked", "retired".
[[nodiscard]] DPGCERT_API std::string_view to_string(CertificateStatus status) noexcept;
/// The inverse of to_string(); std::nullopt for other text.
[[nodiscard]] DPGCERT_API std::optional<CertificateStatus> parse_certificate_status(std::string_view text) noexcept;

/// A person to tell about an organisation's certificates.
struct Contact {
  std::string name;
  std::string email;
  std::string role;  ///< Free text, e.g. "IT", "billing"; may be empty.
  bool operator==(const Contact&) const = default;
};

/// A customer's legal entity, keyed by its CVR number.
struct Organisation {
  std::string cvr;  ///< 8 digits; the key.
  std::string name;
  std::vector<Contact> contacts;
  std::string notes;
  /// The language of what dpgcert writes to its people (the smtp sink's mail): "da" (the default)
  /// or "en".
  std::string language = "da";
  // Set by the store:
  Time created_at{};
  std::string created_by;
  Time updated_at{};
};

/// A function mailbox (e.g. sikkerpost@kunde.dk) of an organisation.
struct Mailbox {
  std::string address;           ///< The key; stored and compared in lowercase.
  std::string ad_group;          ///< The Active Directory group whose members may use it.
  std::string organisation_cvr;  ///< The organisation it belongs to.
  // Set by the store:
  Time created_at{};
  std::string created_by;
};

/// A certificate as lists show it: what the queries return, cheap to read in bulk (every field
/// comes from one index, so a query never reads the table).
struct CertificateSummary {
  std::int64_t id = 0;              ///< The store's record id (stable; bound into the sealed secret).
  std::string fingerprint;          ///< SHA-256 of the DER, lowercase hex: the key.
  CertificateStatus status = CertificateStatus::active;
  Time not_before{};
  Time not_after{};
  std::optional<std::string> organisation_cvr;  ///< The organisation it is attached to.
  std::optional<std::string> mailbox;           ///< The mailbox it serves.
  std::optional<std::string> cvr;               ///< The CVR in the certificate (oces::Identity::cvr).
  oces::Generation generation = oces::Generation::none;
  oces::CertificateType type = oces::CertificateType::none;
  oces::Environment environment = oces::Environment::unknown;
  std::optional<std::string> oces_id;  ///< UID / FID / RID / PID / UUID (oces::Identity::id()).
  std::optional<std::string> common_name;
};

/// Everything the store keeps about a certificate except its sealed secret.
struct CertificateRecord : CertificateSummary {
  Certificate certificate;  ///< Parsed from the stored DER.
  std::string subject;      ///< RFC 4514.
  std::string issuer;       ///< RFC 4514.
  std::string serial;       ///< Lowercase hex.
  std::string key_algorithm;
  int key_bits = 0;
  /// The PKCS#12 file's protection (to_json(Pkcs12Profile), as compact JSON text) and its verdict.
  std::string pkcs12_profile_json;
  bool pkcs12_legacy = false;
  std::string source;  ///< Where it came from (a file name, "api", ...).
  /// The validation at import: verdict, whether the import was forced past a failing report, and
  /// the report (to_json(ValidationReport) without its `certificate` member, compact JSON text).
  CheckStatus validation_verdict = CheckStatus::fail;
  bool forced = false;
  std::string validation_report_json;
  /// Lineage: the id shared by every certificate of one lineage (the first one's id), the
  /// certificate that replaced this one, and those this one replaced.
  std::int64_t lineage_id = 0;
  std::optional<std::string> superseded_by;
  std::vector<std::string> supersedes;
  Time added_at{};
  std::string added_by;
  Time status_changed_at{};

  explicit CertificateRecord(Certificate cert) : certificate(std::move(cert)) {}
};

/// One line of the audit log. The log is append-only: the store never changes or deletes a line.
struct AuditEntry {
  std::int64_t id = 0;  ///< Increasing.
  /// When the change was made: the wall clock (StoreOptions::wall_clock), whatever the store's
  /// clock says.
  Time at{};
  /// The time the change was made *for* when the store runs on a clock of its own
  /// (StoreOptions::clock, e.g. `dpgcert --now`): a what-if run shows here, not in `at`.
  /// std::nullopt on the system clock, and for lines written before schema version 5.
  std::optional<Time> command_time;
  std::string actor;        ///< The OS user or the caller-given actor.
  std::string action;       ///< E.g. "certificate.import", "certificate.supersede", "key.rotate".
  std::string object_kind;  ///< "store", "organisation", "mailbox", "certificate", "key".
  std::string object_key;   ///< CVR, address, fingerprint, ...
  std::string details;      ///< Compact JSON object; never secrets.
};

/// What Store::edit_organisation() changes; absent members stay as they are.
struct OrganisationEdit {
  std::optional<std::string> name;   ///< A new name (not empty).
  std::optional<std::string> notes;  ///< New notes (empty clears them).
  std::optional<std::string> language;  ///< "da" or "en" (Organisation::language).
};

/// How Store::remove_mailbox() and Store::remove_organisation() treat active certificates.
struct RemovalOptions {
  /// Retire the active certificates attached to what is removed (each audited as a status change)
  /// instead of refusing the removal.
  bool retire_certificates = false;
  /// The reason recorded with each retirement; empty: "removed with its mailbox/organisation".
  std::string reason;
};

/// What a removal did.
struct RemovalResult {
  /// Fingerprints of the certificates it retired (RemovalOptions::retire_certificates).
  std::vector<std::string> retired;
  /// How many certificates (of any status) it left attached to nothing: their records, history
  /// and sealed files stay in the store.
  std::size_t detached = 0;
};

// ---- import ---------------------------------------------------------------------------------

/// How to import a bundle.
struct ImportOptions {
  /// Attach to the organisation with this CVR (created, named after the certificate, when missing).
  /// Absent: the certificate's own CVR, if it has one. When given and the validation policy has
  /// no expected CVR, the policy expects this one.
  std::optional<std::string> organisation_cvr;
  /// Attach to this mailbox (created under the organisation when missing).
  std::optional<std::string> mailbox;
  /// Import even when the validation report fails; the failing report is kept with the record.
  bool force = false;
  /// Who imports; empty: the store's actor (StoreOptions::actor).
  std::string actor;
  /// Where the bundle came from, kept with the record ("api" when empty).
  std::string source;
  /// What to validate against. `at` unset (the epoch): the store clock's now.
  ValidationInput validation;
  /// A report the caller already made for this bundle: used as is instead of validating again.
  std::optional<ValidationReport> report;
};

/// What import() did.
enum class ImportOutcome {
  imported,         ///< A new record.
  already_present,  ///< The fingerprint was already in the store: nothing changed (idempotent).
  refused,          ///< The report failed and `force` was not set: nothing stored.
};

/// "imported", "already_present", "refused".
[[nodiscard]] DPGCERT_API std::string_view to_string(ImportOutcome outcome) noexcept;

/// The result of import().
struct ImportResult {
  ImportOutcome outcome = ImportOutcome::refused;
  std::string fingerprint;
  /// The validation report (absent for already_present: nothing was validated).
  std::optional<ValidationReport> report;
  /// The stored record (absent when refused).
  std::optional<CertificateRecord> record;
  /// Fingerprints of the certificates this import superseded.
  std::vector<std::string> superseded;
};

/// One bundle for Store::import_many(): what import() takes. The bundle, the bytes and the
/// password are borrowed and must outlive the call.
struct ImportRequest {
  const Pkcs12Bundle* bundle = nullptr;
  std::span<const std::byte> pkcs12;
  const SecretBytes* password = nullptr;
  ImportOptions options;
};

/// What Store::import_many() did with one request: its result, or the error that kept it out.
struct ImportAttempt {
  std::optional<ImportResult> result;
  std::optional<Error> error;
};

/// A bundle out of the store, unsealed. Move-only; owned by one thread at a time.
struct UnsealedBundle {
  CertificateRecord record;
  Pkcs12Bundle bundle;    ///< Loaded from `pkcs12` with `password`.
  SecretBytes pkcs12;     ///< The PKCS#12 file as it was imported.
  SecretBytes password;   ///< Its password.
  /// From Store::current_bundle() for a certificate whose key is on a PKCS#11 token
  /// (Store::import_to_token()): the `pkcs11:` URI of the private key, to sign and decrypt with
  /// through token::Token. Then `bundle` holds the certificate and chain but no private key, and
  /// `pkcs12` and `password` are empty. Absent otherwise.
  std::optional<std::string> key_uri;
};

/// Where a certificate's private key is on a PKCS#11 token (Store::import_to_token()). URIs only,
/// nothing secret. A value.
struct TokenKeyRecord {
  std::string fingerprint;
  std::string token_uri;        ///< The token, with its label and serial.
  std::string key_uri;          ///< The private key object (id=, object=, type=private).
  std::string certificate_uri;  ///< The certificate object.
  std::string object_id;        ///< CKA_ID of the key, public key and certificate, lowercase hex.
  Time imported_at{};
  std::string imported_by;
  std::size_t created = 0;      ///< From import_to_token(): objects created by that call (0: all were there).
};

// ---- queries --------------------------------------------------------------------------------

/// A filter over certificates; every given field must match. Results are ordered by not_after,
/// then fingerprint, and paged with limit/offset.
struct CertificateQuery {
  std::optional<std::string> organisation_cvr;  ///< Attached to this organisation.
  std::optional<std::string> mailbox;
  std::optional<CertificateStatus> status;
  std::optional<Time> not_after_before;  ///< not_after < this (exclusive).
  std::optional<Time> not_after_from;    ///< not_after >= this.
  std::size_t limit = 0;                 ///< 0: no limit.
  std::size_t offset = 0;

  /// Active certificates whose validity ends before `t` (expired ones included): the renewal
  /// question. An index range on not_after over active certificates, never a scan.
  [[nodiscard]] static CertificateQuery expiring_before(Time t) {
    CertificateQuery q;
    q.status = CertificateStatus::active;
    q.not_after_before = t;
    return q;
  }
};

/// Which certificates a store accepts, by the OCES environment they were issued in.
enum class EnvironmentPolicy {
  any,         ///< Production and test certificates alike (the default).
  production,  ///< Production certificates only: a test (or unknown) certificate is refused.
  test,        ///< Test certificates only: a production (or unknown) certificate is refused.
};

/// "any", "production", "test".
[[nodiscard]] DPGCERT_API std::string_view to_string(EnvironmentPolicy policy) noexcept;
/// The inverse of to_string(); std::nullopt for other text.
[[nodiscard]] DPGCERT_API std::optional<EnvironmentPolicy> parse_environment_policy(std::string_view text) noexcept;

/// What a store holds and how it is set up.
struct StoreInfo {
  std::string backend;   ///< The backend's name: "sqlite".
  std::string location;  ///< Where the data lives (SQLite: the database file).
  int schema_version = 0;
  std::string key_kind;            ///< The key wrapper's kind: "key_file", "passphrase", ...
  std::string key_params = "{}";   ///< What the store records to re-open it (a JSON object; no secret):
                                   ///< key_file {"path"}; passphrase {"algorithm", "memory_kib",
                                   ///< "iterations", "parallelism", "salt"}.
  Time created_at{};
  std::optional<Time> key_rotated_at;
  EnvironmentPolicy environment = EnvironmentPolicy::any;  ///< What import accepts.
  std::size_t organisations = 0;
  std::size_t mailboxes = 0;
  std::size_t certificates = 0;
};

/// The result of Store::check_integrity(): empty `problems` means all is well.
struct IntegrityReport {
  std::vector<std::string> problems;
  [[nodiscard]] bool ok() const noexcept { return problems.empty(); }
};

/// The result of a master-key rotation.
struct RotationResult {
  std::size_t rewrapped = 0;  ///< Data keys re-wrapped (two per certificate: PKCS#12 and password).
};

/// One table of a copy and the rows it carried.
struct CopiedTable {
  std::string name;
  std::size_t rows = 0;
};

/// The result of Store::copy_to().
struct CopyResult {
  std::string destination;           ///< Where the copy is (never a password).
  std::vector<CopiedTable> tables;   ///< In the order they were copied.
  std::size_t certificates = 0;
  std::string fingerprint_digest;    ///< SHA-256 over the certificates' fingerprints in id order
                                     ///< (hex), the same read from source and copy.
};

// ---- opening --------------------------------------------------------------------------------

/// Settings of the SQLite backend.
struct SqliteOptions {
  /// How long one statement waits for another process's lock before the store retries the whole
  /// transaction; the store keeps retrying up to `lock_deadline` before Error(io) reaches the caller.
  std::chrono::milliseconds busy_timeout{2000};
  std::chrono::milliseconds lock_deadline{60000};
  /// synchronous=FULL: survive power loss, at a cost per transaction. Default NORMAL in WAL mode:
  /// a crash of the process never loses a committed change; a power cut may lose the last ones.
  bool durable_commits = false;
};

/// How to open (or create) a store.
struct StoreOptions {
  /// Where the store is: a path (the SQLite database file; its -wal and -shm files live beside
  /// it), "sqlite:PATH" (or "sqlite:///abs/path"), or a location of another backend
  /// ("postgresql://..."; Error(unsupported) when that backend is not built in). Empty: `path`.
  std::string location;
  /// The SQLite database file, when `location` is empty (kept for callers that set a path).
  std::filesystem::path path;
  /// Unlocking overrides (e.g. from DPGCERT_KEY_FILE / DPGCERT_PASSPHRASE); by default the store
  /// reads the key file it remembers, and a passphrase store needs `unlock.passphrase`. The key is
  /// needed only to seal or unseal (import, unseal, current_bundle, rotation), and is checked
  /// against the stored check value the first time.
  vault::Unlock unlock;
  /// The actor recorded in the audit log when a call gives none; empty: the OS user name.
  std::string actor;
  /// The source of "now" for timestamps; null: the system clock. A clock given here (a what-if
  /// run, `dpgcert --now`) is recorded in audit lines as their command_time.
  std::shared_ptr<const Clock> clock;
  /// The wall clock of the audit log's `at`; null: the system clock (tests fix it).
  std::shared_ptr<const Clock> wall_clock;
  /// create(): the store's environment policy (changed later with set_environment_policy()).
  EnvironmentPolicy environment = EnvironmentPolicy::any;
  /// The crypto context for validation and for re-loading bundles; null: Context::shared().
  /// Must outlive the store.
  const Context* context = nullptr;
  /// Settings used when the location is a SQLite database.
  SqliteOptions sqlite;
};

/// The SQLite database file a store location names ("PATH", "sqlite:PATH", "sqlite:///abs/path"), or
/// std::nullopt when the location belongs to another backend ("postgresql://..."), e.g. to create
/// the file's folder or to put a key file beside it. Error(invalid_argument) for an empty location
/// or a sqlite: URI with a host.
[[nodiscard]] DPGCERT_API std::optional<std::filesystem::path> sqlite_file_of(std::string_view location);

/// A store location as it may be shown (messages, logs, StoreInfo): the password of a PostgreSQL
/// URI (`user:PASSWORD@`, `?password=`) or keyword string (`password=...`) replaced by "***";
/// other locations as they are. Never throws for any text but out of memory.
[[nodiscard]] DPGCERT_API std::string display_location(std::string_view location);

namespace store_detail {
struct Access;
}  // namespace store_detail

namespace token {
class Token;
}  // namespace token

/// The inventory of organisations, mailboxes and certificates.
///
/// A handle to one store; the backend is private and chosen by the location (SQLite today; a
/// PostgreSQL backend will implement the same private interface). Every change is one transaction with its audit-log lines;
/// several processes may use one store at once (lock contention is retried inside, never surfaced).
///
/// Thread safety: a Store may be used from several threads at once.
///
/// Errors: Error(not_found) for a named object that does not exist, Error(conflict) for a change
/// that conflicts with what is stored, Error(invalid_argument) for bad input, Error(bad_password)
/// when the master key is wrong, Error(malformed) for damaged data (a sealed secret that does not
/// authenticate), Error(io) when the database cannot be used (or stayed locked past the deadline).
class DPGCERT_API Store final {
 public:
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  /// Creates a new store at the options' location (SQLite: a file of mode 0600 whose folder must
  /// exist) sealed under a master key from `key` (a missing key file is created, mode 0600).
  /// Throws Error(conflict) when a store already exists there, Error(unsupported) for a backend
  /// that is not built in.
  [[nodiscard]] static std::unique_ptr<Store> create(StoreOptions options, const vault::KeySource& key);
  /// Opens an existing store, migrating its schema to the current version. Throws
  /// Error(not_found) when there is none, Error(malformed) for a file that is not a dpgcert store,
  /// Error(unsupported) for a schema newer than this library knows.
  [[nodiscard]] static std::unique_ptr<Store> open(StoreOptions options);

  /// The schema version this library writes.
  [[nodiscard]] static int current_schema_version() noexcept;

  // -- organisations and mailboxes --
  /// Adds an organisation (created_* fields are set by the store). Error(conflict) when the CVR exists,
  /// Error(invalid_argument) for a CVR that is not 8 digits or an empty name.
  Organisation add_organisation(const Organisation& organisation, std::string_view actor = {});
  /// Replaces name, notes and contacts of an existing organisation. Error(not_found).
  Organisation update_organisation(const Organisation& organisation, std::string_view actor = {});
  /// Changes the name and/or notes of an organisation in one audited step ("organisation.edit",
  /// with the old and new name). Error(not_found), Error(invalid_argument) for an empty name.
  Organisation edit_organisation(std::string_view cvr, const OrganisationEdit& edit, std::string_view actor = {});
  /// Adds a contact to an organisation ("organisation.contact.add"). Error(conflict) when a contact
  /// with that e-mail address (compared without case) is there, Error(not_found),
  /// Error(invalid_argument) for an address without '@'.
  Organisation add_contact(std::string_view cvr, const Contact& contact, std::string_view actor = {});
  /// Removes the contact with this e-mail address (compared without case;
  /// "organisation.contact.remove"). Error(not_found) for an unknown organisation or contact.
  Organisation remove_contact(std::string_view cvr, std::string_view email, std::string_view actor = {});
  /// Removes an organisation with its contacts and its renewal policy ("organisation.remove").
  /// Its inactive certificates stay in the store, attached to no organisation. Error(conflict)
  /// while it has mailboxes (move or remove them first), and while active certificates are
  /// attached to it unless options.retire_certificates. Error(not_found).
  RemovalResult remove_organisation(std::string_view cvr, const RemovalOptions& options = {},
                                    std::string_view actor = {});
  [[nodiscard]] std::optional<Organisation> find_organisation(std::string_view cvr) const;
  [[nodiscard]] std::vector<Organisation> list_organisations() const;

  /// Adds a mailbox to an existing organisation. Error(conflict) when the address exists,
  /// Error(not_found) for an unknown organisation, Error(invalid_argument) for an address without '@'.
  Mailbox add_mailbox(const Mailbox& mailbox, std::string_view actor = {});
  /// Changes a mailbox's AD group. Error(not_found).
  Mailbox update_mailbox(const Mailbox& mailbox, std::string_view actor = {});
  /// Moves a mailbox, with the certificates attached to it, to another organisation
  /// ("mailbox.move", with both CVRs); the lifecycle re-evaluates the moved certificates under
  /// their new organisation's renewal policy at the next check. Error(not_found) for an unknown
  /// mailbox or organisation.
  Mailbox move_mailbox(std::string_view address, std::string_view organisation_cvr, std::string_view actor = {});
  /// Removes a mailbox ("mailbox.remove"). Its inactive certificates stay in the store, attached to
  /// its organisation but to no mailbox. Error(conflict) while active certificates hang on it,
  /// unless options.retire_certificates. Error(not_found).
  RemovalResult remove_mailbox(std::string_view address, const RemovalOptions& options = {},
                               std::string_view actor = {});
  [[nodiscard]] std::optional<Mailbox> find_mailbox(std::string_view address) const;
  /// Every mailbox, or those of one organisation.
  [[nodiscard]] std::vector<Mailbox> list_mailboxes(std::optional<std::string_view> organisation_cvr = {}) const;

  // -- certificates --
  /// Imports a bundle with the PKCS#12 file it was loaded from and its password (both sealed).
  /// Validates first (unless options.report is given); a failing report is refused unless
  /// forced. Idempotent by fingerprint. Lineage: an active certificate of the same mailbox, of the
  /// same CVR and OCES2 UID/FID, or with the same OCES3 subject becomes `superseded` by the newer
  /// one (by notBefore, then notAfter) — which may be an existing one when an older certificate
  /// arrives late. A forced import whose revocation check failed is stored as `revoked`.
  /// A certificate of another OCES environment than the store's policy (set_environment_policy())
  /// fails the report's environment check, so it is refused unless forced.
  /// The bundle must have a leaf and a private key (Error(invalid_argument)); the bytes are
  /// trusted to be the file the bundle came from.
  ImportResult import(const Pkcs12Bundle& bundle, std::span<const std::byte> pkcs12,
                              const SecretBytes& password, const ImportOptions& options);

  /// Imports several bundles as import() would, in order, in one write transaction: one commit
  /// (one disk flush) for all, which is what makes bulk onboarding fast on PostgreSQL. A request
  /// that fails (an invalid request, a conflict) is undone alone and reported in its
  /// ImportAttempt, the others are stored (the call is then written again with a savepoint per
  /// request; without a failure it needs none). Results are in the
  /// order of the requests. Validation (when no report is given) happens before the transaction.
  /// Errors that concern the whole store (I/O, a lost connection) are thrown, and then nothing of
  /// the call is stored.
  [[nodiscard]] std::vector<ImportAttempt> import_many(std::span<const ImportRequest> requests);

  /// The record with this fingerprint (lowercase or uppercase hex; a unique prefix of at least 8
  /// digits also works). Error(conflict) when a prefix is ambiguous.
  [[nodiscard]] std::optional<CertificateRecord> find(std::string_view fingerprint) const;
  /// Matching certificates, ordered by not_after then fingerprint.
  [[nodiscard]] std::vector<CertificateSummary> query(const CertificateQuery& query) const;
  /// How many certificates match (limit and offset ignored).
  [[nodiscard]] std::size_t count(const CertificateQuery& query) const;
  /// The backend's plan for a query (SQLite: EXPLAIN QUERY PLAN lines), for diagnostics.
  [[nodiscard]] std::string query_plan(const CertificateQuery& query) const;

  /// Sets the status of a certificate to retired or revoked (the other states come from imports).
  /// Returns the updated record. Error(not_found); Error(invalid_argument) for active/superseded.
  CertificateRecord set_status(std::string_view fingerprint, CertificateStatus status,
                                       std::string_view reason = {}, std::string_view actor = {});

  /// The gateway's call: the active certificate of a mailbox (the newest if there are several),
  /// unsealed and loaded. std::nullopt when the mailbox has none; Error(not_found) for an unknown
  /// mailbox.
  [[nodiscard]] std::optional<UnsealedBundle> current_bundle(std::string_view mailbox) const;
  /// Any certificate's bundle, unsealed (e.g. to export it). Error(not_found).
  [[nodiscard]] UnsealedBundle unseal(std::string_view fingerprint) const;

  // -- keys on PKCS#11 tokens (docs/tokens.md) --
  /// Puts a certificate's private key (sensitive, not extractable), public key and certificate on
  /// `token` (token::Token::import_key(): idempotent, all or nothing) and records the URIs
  /// ("certificate.token_import" in the audit log, unless nothing changed). From then on
  /// current_bundle() returns the key's URI instead of the key. The certificate keeps its
  /// lifecycle tracking; its successor is imported beside it. Needs the master key (to unseal
  /// the PKCS#12). Error(not_found) for an unknown certificate; the token's errors as
  /// token::Token says.
  TokenKeyRecord import_to_token(std::string_view fingerprint, const token::Token& token, std::string_view actor = {});
  /// Where a certificate's key is on a token; std::nullopt when it is not. Error(not_found) for an
  /// unknown certificate.
  [[nodiscard]] std::optional<TokenKeyRecord> token_key(std::string_view fingerprint) const;
  /// Every certificate whose key is on a token, in the order they were stored.
  [[nodiscard]] std::vector<TokenKeyRecord> token_keys() const;
  /// Removes a certificate's objects from `token` (the token it was imported to) and forgets
  /// them ("certificate.token_remove"); returns how many objects were destroyed. Only for a
  /// certificate that is no longer active (retired, superseded or revoked): Error(conflict) for an
  /// active one, Error(not_found) when its key is on no token, Error(invalid_argument) when
  /// `token` is another token than the recorded one.
  std::size_t remove_from_token(std::string_view fingerprint, const token::Token& token, std::string_view actor = {});

  // -- the master key, the log, the store --
  /// Re-wraps every data key under a new master key in one transaction; ciphertexts are not
  /// touched. The store then remembers the new source. Needs the current key.
  RotationResult rotate_master_key(const vault::KeySource& next, std::string_view actor = {});
  /// Checks that the current key unlocks the store (Error(bad_password) otherwise).
  void verify_master_key() const;

  /// Writes a consistent copy of the whole store to a new file `file` (mode 0600) while other
  /// handles and processes keep working (SQLite's online backup API; the copy is one snapshot),
  /// after a "store.backup" audit line. The copy is itself a store that opens with the same
  /// master key; returns its StoreInfo. Error(conflict) when `file` exists, Error(unsupported)
  /// for a backend whose backups are made by its own tools (PostgreSQL: pg_dump, docs/store.md).
  StoreInfo backup(const std::filesystem::path& file, std::string_view actor = {});
  /// Replaces everything in this store with the content of a backup made by backup(), in one
  /// step, then migrates it if it is older and adds a "store.restore" audit line. Other handles
  /// see the restored store at their next call. The master key is read again (a backup made before
  /// a key rotation needs the key it was sealed under). Error(not_found) when there is no file,
  /// Error(malformed) when it is not a dpgcert store, Error(unsupported) when it is newer.
  void restore(const std::filesystem::path& file, std::string_view actor = {});

  /// Changes which certificates import() accepts ("store.environment" in the audit log, with the
  /// old and new policy). Certificates already stored are not touched.
  void set_environment_policy(EnvironmentPolicy policy, std::string_view actor = {});

  // -- online revocation: CRLs kept between runs --

  /// The CRL at `url` for `subject`, issued by `issuer`, at the store clock's time: the one kept in
  /// the store while it is current (before its nextUpdate; without one, for a day after it was
  /// asked for), else fetched with dpgcert::fetch_crl() — conditionally, with the ETag /
  /// Last-Modified the server gave last time — and kept. A 304 keeps the stored CRL (and fails as
  /// stale when that CRL is past its nextUpdate). A CRL kept for another issuer is never reused.
  /// Failures are in the result, as with fetch_crl(); the network is used outside the store's lock.
  [[nodiscard]] CrlFetch fetch_crl(const std::string& url, const Certificate& subject, const Certificate& issuer,
                                   const FetchOptions& options = {});

  /// Audit-log lines with id > after_id, oldest first, at most `limit` (0: all).
  [[nodiscard]] std::vector<AuditEntry> audit_log(std::int64_t after_id = 0, std::size_t limit = 0) const;

  /// Copies everything this store holds to a new store at `destination`, of this or another
  /// backend: every row as it is, ids included; the sealed secrets stay sealed and the master-key
  /// header goes along, so the copy opens with this store's key source and no key is needed here.
  /// All or nothing: one write transaction of the destination, which is compared table by table
  /// with the source (row count and an order-free digest of every row) before it commits, then
  /// read back (counts and fingerprints) after; a destination this call created is removed when
  /// anything fails. The destination gets a "store.copy" audit line. Error(conflict) when the
  /// destination holds a store already, Error(unsupported) when its backend cannot hold a table
  /// that has rows here, Error(invalid_argument) when it is this store.
  CopyResult copy_to(const StoreOptions& destination, std::string_view actor = {}) const;

  /// Opens a listener for the changes committed to this store from now on (<dpgcert/store_changes.hpp>),
  /// on a connection of its own. PostgreSQL only: Error(unsupported) for a SQLite store (it
  /// sends no notifications; poll current_bundle() there). Error(io) when the server cannot be
  /// reached.
  [[nodiscard]] ChangeListener listen() const;

  [[nodiscard]] StoreInfo info() const;
  /// Checks the database (SQLite: integrity_check, foreign_key_check) and the model: every
  /// certificate has its documents (DER, reports), its sealed secret and an import line in the
  /// audit log; no superseded certificate lacks its successor; the lifecycle layer's rows agree.
  [[nodiscard]] IntegrityReport check_integrity() const;

  /// The state behind the handle; defined privately by the library.
  struct Impl;

 private:
  friend struct store_detail::Access;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// The OS user name of this process (for audit lines), e.g. "root"; "uid:<n>" when it has none.
[[nodiscard]] DPGCERT_API std::string os_user_name();

}  // namespace dpgcert
