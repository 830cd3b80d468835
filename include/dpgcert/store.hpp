// The inventory: organisations, mailboxes and certificates with their PKCS#12 file and password
// sealed at rest, an append-only audit log, expiry queries, and the bookkeeping of the lifecycle
// layer (stages, outbox, sinks). One backend-neutral interface; the embedded default backend is
// SQLite (see docs/store.md and docs/lifecycle.md).
#pragma once

#include <dpgcert/context.hpp>
#include <dpgcert/export.hpp>
#include <dpgcert/oces.hpp>
#include <dpgcert/pkcs12.hpp>
#include <dpgcert/secret.hpp>
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
  Time at{};
  std::string actor;        ///< The OS user or the caller-given actor.
  std::string action;       ///< E.g. "certificate.import", "certificate.supersede", "key.rotate".
  std::string object_kind;  ///< "store", "organisation", "mailbox", "certificate", "key".
  std::string object_key;   ///< CVR, address, fingerprint, ...
  std::string details;      ///< Compact JSON object; never secrets.
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

/// A bundle out of the store, unsealed. Move-only; owned by one thread at a time.
struct UnsealedBundle {
  CertificateRecord record;
  Pkcs12Bundle bundle;    ///< Loaded from `pkcs12` with `password`.
  SecretBytes pkcs12;     ///< The PKCS#12 file as it was imported.
  SecretBytes password;   ///< Its password.
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

/// What a store holds and how it is set up.
struct StoreInfo {
  std::string backend;   ///< "sqlite".
  std::string location;  ///< The database file.
  int schema_version = 0;
  std::string key_kind;            ///< The key wrapper's kind: "key_file", "passphrase", ...
  std::string key_params = "{}";   ///< What the store records to re-open it (a JSON object; no secret):
                                   ///< key_file {"path"}; passphrase {"algorithm", "memory_kib",
                                   ///< "iterations", "parallelism", "salt"}.
  Time created_at{};
  std::optional<Time> key_rotated_at;
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

// ---- the lifecycle layer's bookkeeping ------------------------------------------------------
// What <dpgcert/lifecycle.hpp> keeps in the store: renewal policies, each certificate's stage,
// status changes waiting to be announced, the outbox of events with one delivery per sink, and
// counters. Applications use dpgcert::Lifecycle; the Store methods below are its primitives.

/// The days before expiry at which renewal events are emitted. A threshold of 0 means "expired".
struct RenewalPolicy {
  /// Strictly descending, each 0..3650 days, 1..32 of them.
  std::vector<int> thresholds_days{90, 60, 30, 14, 7, 1, 0};
  /// 90, 60, 30, 14, 7, 1 and 0 days.
  [[nodiscard]] static RenewalPolicy defaults() { return {}; }
  bool operator==(const RenewalPolicy&) const = default;
};

/// Throws Error(invalid_argument) unless the policy has 1..32 thresholds, strictly descending
/// (no duplicates), each between 0 and 3650 days.
DPGCERT_API void validate(const RenewalPolicy& policy);
/// "120,90,60,30,14,7,1,0" (days; spaces allowed) to a validated policy. Error(invalid_argument).
[[nodiscard]] DPGCERT_API RenewalPolicy parse_renewal_policy(std::string_view text);
/// "90,60,30,14,7,1,0".
[[nodiscard]] DPGCERT_API std::string to_string(const RenewalPolicy& policy);

/// A stored renewal policy: an organisation's override, or the store's default.
struct RenewalPolicyEntry {
  std::optional<std::string> cvr;  ///< Absent: the store's default, for organisations without their own.
  RenewalPolicy policy;
  Time updated_at{};
  std::string updated_by;
};

/// What a renewal event announces.
enum class EventKind {
  expiring,           ///< A threshold before expiry was crossed (the event carries the stage).
  expired,            ///< The threshold 0 was crossed: the certificate has expired.
  renewed,            ///< A newer certificate of its lineage superseded it.
  revoked,            ///< Its status became revoked.
  validation_failed,  ///< An active certificate whose stored validation report failed (a forced import).
};

/// "expiring", "expired", "renewed", "revoked", "validation_failed".
[[nodiscard]] DPGCERT_API std::string_view to_string(EventKind kind) noexcept;
/// The inverse of to_string(); std::nullopt for other text.
[[nodiscard]] DPGCERT_API std::optional<EventKind> parse_event_kind(std::string_view text) noexcept;

/// How urgent a certificate's stage is (monitoring-plugin style).
enum class Severity {
  none = 0,      ///< No threshold crossed.
  warning = 1,   ///< Within a warning stage.
  critical = 2,  ///< Expired, or within the policy's last stage before expiry.
};

/// "none", "warning", "critical".
[[nodiscard]] DPGCERT_API std::string_view to_string(Severity severity) noexcept;

/// A certificate as the lifecycle layer tracks it: the summary plus what events and metrics need.
struct TrackedCertificate : CertificateSummary {
  std::string issuer;  ///< RFC 4514.
  std::string serial;  ///< Lowercase hex.
  std::optional<std::string> organisation_name;
  /// The earliest notAfter of the leaf and the chain it was imported with (an expiring issuing CA
  /// ends the leaf's usefulness too). Certificates stored before the lifecycle layer: the leaf's.
  Time effective_not_after{};
  std::optional<int> stage;         ///< The last threshold announced (days); absent: none yet.
  Severity severity = Severity::none;  ///< Of the recorded stage.
  /// When the next threshold is crossed; the epoch for "evaluate at the next check" (new imports,
  /// changed policies); absent when nothing is left to announce or the certificate is not active.
  std::optional<Time> next_due_at;
};

/// Which tracked certificates to read: keyset-paged by record id.
struct TrackedQuery {
  std::optional<std::string> organisation_cvr;  ///< Attached to this organisation.
  bool active_only = true;
  std::int64_t after_id = 0;  ///< Only ids greater than this (the last id of the previous page).
  std::size_t limit = 1000;   ///< Page size (1..100,000).
};

/// A status change waiting to be announced (recorded by import and set_status).
struct PendingStatusChange {
  TrackedCertificate certificate;
  EventKind kind = EventKind::renewed;       ///< renewed, revoked or validation_failed.
  Time since{};                              ///< When the status changed.
  std::optional<std::string> superseded_by;  ///< For renewed: the successor's fingerprint.
};

/// An event in the outbox.
struct OutboxEvent {
  std::int64_t seq = 0;  ///< The store's order of emission (set by the store).
  std::string id;        ///< The stable idempotency key: one event per id, ever.
  EventKind kind = EventKind::expiring;
  std::optional<int> stage_days;
  std::int64_t certificate_id = 0;
  Time created_at{};
  std::string payload;  ///< The event as compact JSON; never secrets.
};

/// One change the lifecycle layer records, with the event it emits (if any).
struct LifecycleChange {
  enum class Cause {
    stage,    ///< A certificate's stage bookkeeping changes.
    pending,  ///< A pending status change is announced (and removed).
  };
  Cause cause = Cause::stage;
  std::int64_t certificate_id = 0;
  // Cause::stage: applied only while the stored stage and next_due_at are still the expected ones
  // (another process may have moved them meanwhile); then both are replaced.
  std::optional<int> expected_stage;
  std::optional<Time> expected_next_due_at;
  std::optional<int> stage;
  Severity severity = Severity::none;
  std::optional<Time> next_due_at;
  // Cause::pending: applied only while this kind is still pending for the certificate.
  EventKind pending_kind = EventKind::renewed;
  /// Written to the outbox with one delivery per configured sink, unless its id is there already.
  std::optional<OutboxEvent> event;
};

/// What lifecycle_commit() did.
struct LifecycleCommitResult {
  std::vector<std::size_t> emitted;  ///< Indices of the changes whose event is new in the outbox.
  std::size_t applied = 0;           ///< Changes applied.
  std::size_t skipped = 0;           ///< Changes skipped: their expectation no longer held.
};

/// A configured sink. Events emitted while it is configured get a delivery to it.
struct SinkConfig {
  std::string name;             ///< 1-64 of [A-Za-z0-9._-]; the key.
  /// How it delivers: a kind registered with the lifecycle's sink registry (sink_kinds():
  /// "jsonl", "command", "callback", ...). The store keeps it as text: 1 to 32 of a-z, 0-9, '_'.
  std::string kind = "jsonl";
  std::string settings = "{}";  ///< A JSON object; its members depend on the kind (docs/lifecycle.md).
  // Set by the store:
  Time created_at{};
  std::string created_by;
};

/// One delivery of an event to a sink, claimed for an attempt.
struct Delivery {
  std::string sink;
  OutboxEvent event;
  int attempts = 0;  ///< Attempts so far, this one included.
};

/// The outcome of one delivery attempt.
struct DeliveryOutcome {
  std::int64_t event_seq = 0;
  std::string sink;
  bool delivered = false;
  Time retry_at{};    ///< Not delivered: when to try again.
  std::string error;  ///< Not delivered: why (never secrets).
};

/// Where a sink's deliveries stand.
struct SinkStats {
  std::string sink;
  std::size_t pending = 0;    ///< Deliveries not yet acknowledged.
  std::size_t delivered = 0;  ///< Deliveries acknowledged.
  std::optional<Time> next_attempt_at;  ///< The earliest pending delivery's.
  std::optional<std::string> last_error;  ///< Of the most recently failed pending delivery.
};

/// The lifecycle layer's counters; they only grow (metrics expose them as Prometheus counters).
struct LifecycleCounters {
  std::vector<std::pair<std::string, std::uint64_t>> emitted;    ///< By event kind.
  std::vector<std::pair<std::string, std::uint64_t>> delivered;  ///< By sink.
  std::vector<std::pair<std::string, std::uint64_t>> failed;     ///< Failed attempts, by sink.
};

/// How many active certificates are in a warning or critical stage.
struct SeverityCounts {
  std::size_t warning = 0;
  std::size_t critical = 0;
};

// ---- opening --------------------------------------------------------------------------------

/// How to open (or create) a store.
struct StoreOptions {
  /// The SQLite database file (its -wal and -shm files live beside it).
  std::filesystem::path path;
  /// Unlocking overrides (e.g. from DPGCERT_KEY_FILE / DPGCERT_PASSPHRASE); by default the store
  /// reads the key file it remembers, and a passphrase store needs `unlock.passphrase`. The key is
  /// needed only to seal or unseal (import, unseal, current_bundle, rotation), and is checked
  /// against the stored check value the first time.
  vault::Unlock unlock;
  /// The actor recorded in the audit log when a call gives none; empty: the OS user name.
  std::string actor;
  /// The source of "now" for timestamps; null: the system clock.
  std::shared_ptr<const Clock> clock;
  /// The crypto context for validation and for re-loading bundles; null: Context::shared().
  /// Must outlive the store.
  const Context* context = nullptr;
  /// How long one statement waits for another process's lock before the store retries the whole
  /// transaction; the store keeps retrying up to `lock_deadline` before Error(io) reaches the caller.
  std::chrono::milliseconds busy_timeout{2000};
  std::chrono::milliseconds lock_deadline{60000};
  /// SQLite synchronous=FULL: survive power loss, at a cost per transaction. Default NORMAL in WAL
  /// mode: a crash of the process never loses a committed change; a power cut may lose the last ones.
  bool durable_commits = false;
};

/// The inventory of organisations, mailboxes and certificates.
///
/// A handle to one store; the concrete backend is private (SQLite today; a PostgreSQL backend will
/// implement the same interface). Every change is one transaction with its audit-log lines;
/// several processes may use one store at once (lock contention is retried inside, never surfaced).
///
/// Thread safety: a Store may be used from several threads at once.
///
/// Errors: Error(not_found) for a named object that does not exist, Error(conflict) for a change
/// that conflicts with what is stored, Error(invalid_argument) for bad input, Error(bad_password)
/// when the master key is wrong, Error(malformed) for damaged data (a sealed secret that does not
/// authenticate), Error(io) when the database cannot be used (or stayed locked past the deadline).
class DPGCERT_API Store {
 public:
  virtual ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  /// Creates a new store at `options.path` (mode 0600; its folder must exist) sealed under a
  /// master key from `key` (a missing key file is created, mode 0600). Throws Error(conflict) when
  /// a store already exists there.
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
  virtual Organisation add_organisation(const Organisation& organisation, std::string_view actor = {}) = 0;
  /// Replaces name, notes and contacts of an existing organisation. Error(not_found).
  virtual Organisation update_organisation(const Organisation& organisation, std::string_view actor = {}) = 0;
  [[nodiscard]] virtual std::optional<Organisation> find_organisation(std::string_view cvr) const = 0;
  [[nodiscard]] virtual std::vector<Organisation> list_organisations() const = 0;

  /// Adds a mailbox to an existing organisation. Error(conflict) when the address exists,
  /// Error(not_found) for an unknown organisation, Error(invalid_argument) for an address without '@'.
  virtual Mailbox add_mailbox(const Mailbox& mailbox, std::string_view actor = {}) = 0;
  /// Changes a mailbox's AD group. Error(not_found).
  virtual Mailbox update_mailbox(const Mailbox& mailbox, std::string_view actor = {}) = 0;
  [[nodiscard]] virtual std::optional<Mailbox> find_mailbox(std::string_view address) const = 0;
  /// Every mailbox, or those of one organisation.
  [[nodiscard]] virtual std::vector<Mailbox> list_mailboxes(std::optional<std::string_view> organisation_cvr = {}) const = 0;

  // -- certificates --
  /// Imports a bundle with the PKCS#12 file it was loaded from and its password (both sealed).
  /// Validates first (unless options.report is given); a failing report is refused unless
  /// forced. Idempotent by fingerprint. Lineage: an active certificate of the same mailbox, of the
  /// same CVR and OCES2 UID/FID, or with the same OCES3 subject becomes `superseded` by the newer
  /// one (by notBefore, then notAfter) — which may be an existing one when an older certificate
  /// arrives late. A forced import whose revocation check failed is stored as `revoked`.
  /// The bundle must have a leaf and a private key (Error(invalid_argument)); the bytes are
  /// trusted to be the file the bundle came from.
  virtual ImportResult import(const Pkcs12Bundle& bundle, std::span<const std::byte> pkcs12,
                              const SecretBytes& password, const ImportOptions& options) = 0;

  /// The record with this fingerprint (lowercase or uppercase hex; a unique prefix of at least 8
  /// digits also works). Error(conflict) when a prefix is ambiguous.
  [[nodiscard]] virtual std::optional<CertificateRecord> find(std::string_view fingerprint) const = 0;
  /// Matching certificates, ordered by not_after then fingerprint.
  [[nodiscard]] virtual std::vector<CertificateSummary> query(const CertificateQuery& query) const = 0;
  /// How many certificates match (limit and offset ignored).
  [[nodiscard]] virtual std::size_t count(const CertificateQuery& query) const = 0;
  /// The backend's plan for a query (SQLite: EXPLAIN QUERY PLAN lines), for diagnostics.
  [[nodiscard]] virtual std::string query_plan(const CertificateQuery& query) const = 0;

  /// Sets the status of a certificate to retired or revoked (the other states come from imports).
  /// Returns the updated record. Error(not_found); Error(invalid_argument) for active/superseded.
  virtual CertificateRecord set_status(std::string_view fingerprint, CertificateStatus status,
                                       std::string_view reason = {}, std::string_view actor = {}) = 0;

  /// The gateway's call: the active certificate of a mailbox (the newest if there are several),
  /// unsealed and loaded. std::nullopt when the mailbox has none; Error(not_found) for an unknown
  /// mailbox.
  [[nodiscard]] virtual std::optional<UnsealedBundle> current_bundle(std::string_view mailbox) const = 0;
  /// Any certificate's bundle, unsealed (e.g. to export it). Error(not_found).
  [[nodiscard]] virtual UnsealedBundle unseal(std::string_view fingerprint) const = 0;

  // -- the lifecycle layer's bookkeeping (primitives of <dpgcert/lifecycle.hpp>) --
  /// Sets (or with std::nullopt removes) the renewal policy of an organisation, or with no CVR the
  /// store's default. Certificates it applies to are evaluated again at the next check (no event
  /// is repeated: a stage already announced stays announced). Error(not_found) for an unknown
  /// organisation, Error(invalid_argument) for an invalid policy.
  virtual void set_renewal_policy(std::optional<std::string_view> cvr, const std::optional<RenewalPolicy>& policy,
                                  std::string_view actor = {}) = 0;
  /// Every stored policy: the store's default first (if set), then organisations by CVR.
  [[nodiscard]] virtual std::vector<RenewalPolicyEntry> renewal_policies() const = 0;

  /// Tracked certificates in record-id order, one page (see TrackedQuery).
  [[nodiscard]] virtual std::vector<TrackedCertificate> tracked(const TrackedQuery& query) const = 0;
  /// Certificates whose next_due_at <= now, soonest first, at most `limit`: an index range, so a
  /// check with nothing due reads next to nothing.
  [[nodiscard]] virtual std::vector<TrackedCertificate> lifecycle_due(Time now, std::size_t limit) const = 0;
  /// Status changes waiting to be announced, oldest first, at most `limit`.
  [[nodiscard]] virtual std::vector<PendingStatusChange> lifecycle_pending(std::size_t limit) const = 0;
  /// Records stage changes and announced status changes with their events (and one delivery per
  /// configured sink) in one transaction: the outbox. Changes whose expectation no longer holds
  /// are skipped with their events; an event id already in the outbox is not written again.
  virtual LifecycleCommitResult lifecycle_commit(std::span<const LifecycleChange> changes) = 0;
  /// Active certificates by the severity of their recorded stage.
  [[nodiscard]] virtual SeverityCounts severity_counts() const = 0;
  /// Events in the outbox with seq > after_seq, oldest first, at most `limit` (0: all).
  [[nodiscard]] virtual std::vector<OutboxEvent> events(std::int64_t after_seq = 0, std::size_t limit = 0) const = 0;

  /// Adds a sink. Error(conflict) when the name exists, Error(invalid_argument) for a bad name or
  /// settings that are not a JSON object.
  virtual SinkConfig add_sink(const SinkConfig& sink, std::string_view actor = {}) = 0;
  /// Removes a sink with its pending deliveries. Error(not_found).
  virtual void remove_sink(std::string_view name, std::string_view actor = {}) = 0;
  /// Every sink, by name.
  [[nodiscard]] virtual std::vector<SinkConfig> sinks() const = 0;
  /// Claims up to `limit` pending deliveries due at `now` to the named sinks (all when empty):
  /// each one's attempt count grows and it is not due again before now + lease, so a process
  /// that dies mid-delivery leaves it to a later run, and concurrent runs do not share it.
  virtual std::vector<Delivery> claim_deliveries(Time now, std::chrono::seconds lease, std::span<const std::string> sinks,
                                                 std::size_t limit) = 0;
  /// Records delivery outcomes (acknowledged, or failed with the next attempt's time) and the
  /// counters, in one transaction.
  virtual void settle_deliveries(std::span<const DeliveryOutcome> outcomes, Time now) = 0;
  /// Per sink: pending and delivered deliveries, the next attempt, the last error.
  [[nodiscard]] virtual std::vector<SinkStats> sink_stats() const = 0;
  /// Events emitted by kind, deliveries and failed attempts by sink.
  [[nodiscard]] virtual LifecycleCounters lifecycle_counters() const = 0;

  // -- the master key, the log, the store --
  /// Re-wraps every data key under a new master key in one transaction; ciphertexts are not
  /// touched. The store then remembers the new source. Needs the current key.
  virtual RotationResult rotate_master_key(const vault::KeySource& next, std::string_view actor = {}) = 0;
  /// Checks that the current key unlocks the store (Error(bad_password) otherwise).
  virtual void verify_master_key() const = 0;

  /// Audit-log lines with id > after_id, oldest first, at most `limit` (0: all).
  [[nodiscard]] virtual std::vector<AuditEntry> audit_log(std::int64_t after_id = 0, std::size_t limit = 0) const = 0;

  [[nodiscard]] virtual StoreInfo info() const = 0;
  /// Checks the database (SQLite: integrity_check, foreign_key_check) and the model: every
  /// certificate has its documents (DER, reports), its sealed secret and an import line in the
  /// audit log; no superseded certificate lacks its successor.
  [[nodiscard]] virtual IntegrityReport check_integrity() const = 0;

 protected:
  Store() = default;
};

/// The OS user name of this process (for audit lines), e.g. "root"; "uid:<n>" when it has none.
[[nodiscard]] DPGCERT_API std::string os_user_name();

}  // namespace dpgcert
