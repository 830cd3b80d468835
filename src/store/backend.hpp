// The store's backend interface: a row-level, transactional view of one database. The store
// (src/store/store.cpp and its neighbours) holds the domain logic once and calls only this; a
// backend (src/store/sqlite/, later postgresql/) implements it. Private to the store layer and the
// layers above it (the lifecycle reaches its own rows through it).
//
// A backend knows tables and indexes, never policy: the lifecycle's rows are strings, integers,
// times and JSON text whose meaning belongs to the lifecycle layer.
#pragma once

#include "store/import_plan.hpp"

#include <dpgcert/store.hpp>
#include <dpgcert/vault.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace dpgcert::store {

// ---- inventory rows -------------------------------------------------------------------------

/// A mailbox's id and its organisation's id.
struct MailboxRef {
  std::int64_t id = 0;
  std::int64_t organisation_id = 0;
};

/// An active certificate that a new one may replace (or be replaced by).
struct LineageCandidate {
  std::int64_t id = 0;
  std::string fingerprint;
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
  std::int64_t lineage_id = 0;
};

/// A new certificate row with its documents (DER, profile, report).
struct CertificateInsert {
  std::int64_t id = 0;
  const store_detail::PreparedCertificate* prepared = nullptr;
  std::optional<std::int64_t> organisation_id;
  std::optional<std::int64_t> mailbox_id;
  CertificateStatus status = CertificateStatus::active;
  std::optional<std::int64_t> superseded_by;
  std::int64_t lineage_id = 0;
  Time added_at{};
  std::string added_by;
};

/// The two sealed secrets of a certificate.
struct SealedSecrets {
  vault::SealedSecret pkcs12;
  vault::SealedSecret password;
};

/// The wrapped data keys of a certificate, for re-wrapping.
struct WrappedKeys {
  std::int64_t certificate_id = 0;
  std::string fingerprint;
  std::vector<std::byte> pkcs12_key;
  std::vector<std::byte> password_key;
};

/// When the master key was set up and last rotated.
struct KeyDates {
  Time created_at{};
  std::optional<Time> rotated_at;
};

/// How many rows the inventory holds.
struct RowCounts {
  std::size_t organisations = 0;
  std::size_t mailboxes = 0;
  std::size_t certificates = 0;
};

/// Certificates the model requires something of, found lacking (Store::check_integrity).
enum class Lack {
  secret,       ///< No sealed secret row.
  documents,    ///< No documents row.
  import_line,  ///< No "certificate.import" line in the audit log.
  successor,    ///< Superseded, but superseded_by is empty.
};

// ---- the lifecycle layer's neutral rows -----------------------------------------------------

/// A certificate with its tracking row (absent members: no tracking row).
struct TrackedRow : CertificateSummary {
  std::string issuer;
  std::string serial;
  std::optional<std::string> organisation_name;
  std::optional<Time> effective_not_after;
  std::optional<std::int64_t> stage;
  std::int64_t severity = 0;
  std::optional<Time> next_due_at;
};

/// Which tracked rows to read: keyset-paged by certificate id.
struct TrackedFilter {
  std::optional<std::string> organisation_cvr;
  bool active_only = true;
  std::int64_t after_id = 0;
  std::size_t limit = 1000;
};

/// A status change waiting for the lifecycle to announce it.
struct PendingRow {
  TrackedRow certificate;
  std::string kind;
  Time since{};
  std::optional<std::string> superseded_by;  ///< The successor's fingerprint.
};

/// A guarded update of a tracking row: applied only when stage and next_due_at still hold the
/// expected values.
struct StageUpdate {
  std::int64_t certificate_id = 0;
  std::optional<std::int64_t> stage;
  std::int64_t severity = 0;
  std::optional<Time> next_due_at;
  std::optional<Time> stage_at;  ///< Absent: keep the stored one.
  std::optional<std::int64_t> expected_stage;
  std::optional<Time> expected_next_due_at;
};

/// An outbox row.
struct EventRow {
  std::int64_t seq = 0;
  std::string id;
  std::string kind;
  std::optional<std::int64_t> stage_days;
  std::int64_t certificate_id = 0;
  Time created_at{};
  std::string payload;
};

/// A stored renewal policy: thresholds as text; no CVR for the store's default.
struct PolicyRow {
  std::optional<std::string> cvr;
  std::string thresholds;
  Time updated_at{};
  std::string updated_by;
};

/// A certificate's key on a PKCS#11 token (table token_keys, migration 7): where Store::import_to_token
/// put it. URIs only; nothing secret.
struct TokenKeyRow {
  std::int64_t certificate_id = 0;
  std::string token_uri;        ///< The token (label and serial).
  std::string key_uri;          ///< The private key object.
  std::string certificate_uri;  ///< The certificate object.
  std::string object_id;        ///< CKA_ID, lowercase hex.
  Time imported_at{};
  std::string imported_by;
};

/// A configured sink: kind and settings as text.
struct SinkRow {
  std::string name;
  std::string kind;
  std::string settings;
  Time created_at{};
  std::string created_by;
};

/// A delivery claimed for an attempt.
struct DeliveryRow {
  std::string sink;
  EventRow event;
  int attempts = 0;  ///< This one included.
};

/// Where a sink's deliveries stand.
struct SinkStatsRow {
  std::string sink;
  std::size_t pending = 0;
  std::size_t delivered = 0;
  std::optional<Time> next_attempt_at;
  std::optional<std::string> last_error;
};

/// A counter that only grows.
struct CounterRow {
  std::string metric;
  std::string label;
  std::uint64_t value = 0;
};

// ---- whole tables, for copying a store between backends ---------------------------------------

/// One value of a row, in the types every backend stores: NULL, integer, text, bytes.
using Cell = std::variant<std::monostate, std::int64_t, std::string, std::vector<std::byte>>;

/// A batch of rows of one table; columns named as in the schema (the same in every backend).
struct TableRows {
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;
};

// ---- the interface --------------------------------------------------------------------------

/// A CRL fetched online and kept between runs (table revocation_crls, schema 9): refetched when
/// stale, conditionally with the validators the server gave.
struct CachedCrlRow {
  std::string url;
  std::string issuer_fingerprint;  ///< SHA-256 hex of the CA certificate the CRL was checked against.
  std::vector<std::byte> der;
  Time this_update{};
  Time next_update{};  ///< The epoch when the CRL has none.
  std::string etag;
  std::string last_modified;
  Time fetched_at{};  ///< When the CRL itself was last downloaded.
  Time checked_at{};  ///< When the server was last asked (a 304 counts).
};

/// One open transaction. Every call runs inside it; nothing commits until the function given to
/// Backend::run() returns. Errors: Error (conflict for a violated uniqueness, io, malformed).
class Transaction {
 public:
  virtual ~Transaction() = default;

  /// Declares, before the first call, that this transaction writes only rows it claims with row
  /// locks or changes by idempotent, guarded updates (the outbox's claims and settlements): a
  /// backend may then run it below serialisable isolation, so that concurrent claimers skip one
  /// another's rows instead of aborting one another. SQLite ignores it (one writer at a time).
  virtual void relax_isolation() {}

  // -- savepoints (Store::import_many: one request's failure undoes only that request) --
  /// Marks a point inside the transaction that it can go back to (not nested).
  virtual void savepoint() = 0;
  /// Keeps what was done since savepoint() and forgets the point; an error of what was done
  /// since (a write the backend had not yet sent) is thrown here at the latest.
  virtual void release_savepoint() = 0;
  /// Undoes what was done since savepoint() and forgets the point; the transaction goes on.
  virtual void rollback_to_savepoint() = 0;
  /// Sends what the backend has queued and waits for it: an error of a write not yet sent is
  /// thrown here at the latest (nothing to do for a backend that writes at once).
  virtual void flush() {}

  // -- meta --
  /// The schema version, -1 when the database holds no dpgcert schema.
  [[nodiscard]] virtual int schema_version() = 0;
  /// Creates the whole schema in an empty database (Error(conflict) when it is not empty).
  virtual void create_schema(Time at) = 0;
  /// Applies the migrations after `from`.
  virtual void migrate(int from, Time at) = 0;
  [[nodiscard]] virtual std::optional<vault::KeyHeader> key_header() = 0;
  /// Only the check value of the key header (cheap; read before every seal).
  [[nodiscard]] virtual std::optional<std::vector<std::byte>> key_check() = 0;
  virtual void write_key_header(const vault::KeyHeader& header, Time at, bool rotation) = 0;
  [[nodiscard]] virtual KeyDates key_dates() = 0;
  /// A store-wide setting by name (e.g. "environment"); std::nullopt when never set.
  [[nodiscard]] virtual std::optional<std::string> setting(std::string_view name) = 0;
  /// Sets (inserts or replaces) a store-wide setting.
  virtual void set_setting(std::string_view name, std::string_view value, Time at) = 0;
  /// The CRL fetched from `url` (schema 9), if one is kept.
  [[nodiscard]] virtual std::optional<CachedCrlRow> cached_crl(std::string_view url) = 0;
  /// Keeps (inserts or replaces) the CRL fetched from row.url.
  virtual void put_crl(const CachedCrlRow& row) = 0;
  [[nodiscard]] virtual RowCounts counts() = 0;

  // -- organisations and mailboxes --
  [[nodiscard]] virtual std::optional<std::int64_t> organisation_id(std::string_view cvr) = 0;
  [[nodiscard]] virtual std::optional<std::string> organisation_cvr(std::int64_t id) = 0;
  virtual std::int64_t insert_organisation(const Organisation& organisation, Time at, std::string_view who) = 0;
  virtual void update_organisation(std::int64_t id, const Organisation& organisation, Time at) = 0;
  [[nodiscard]] virtual std::optional<Organisation> organisation(std::string_view cvr) = 0;
  [[nodiscard]] virtual std::vector<std::string> organisation_cvrs() = 0;
  [[nodiscard]] virtual std::optional<MailboxRef> mailbox_ref(std::string_view address) = 0;
  virtual std::int64_t insert_mailbox(std::string_view address, std::string_view ad_group, std::int64_t organisation_id,
                                      Time at, std::string_view who) = 0;
  virtual void update_mailbox(std::int64_t id, std::string_view ad_group) = 0;
  [[nodiscard]] virtual std::optional<Mailbox> mailbox(std::string_view address) = 0;
  [[nodiscard]] virtual std::vector<Mailbox> mailboxes(std::optional<std::string_view> organisation_cvr) = 0;
  /// Moves a mailbox and every certificate attached to it (any status) to another organisation.
  virtual void move_mailbox(std::int64_t id, std::int64_t organisation_id) = 0;
  /// Deletes a mailbox row; its certificates keep their organisation and get no mailbox (NULL).
  virtual void delete_mailbox(std::int64_t id) = 0;
  /// Deletes an organisation row with its contacts and its renewal policy; its certificates get no
  /// organisation (NULL). The store has made sure no mailbox belongs to it.
  virtual void delete_organisation(std::int64_t id) = 0;

  // -- certificates --
  [[nodiscard]] virtual std::optional<std::int64_t> certificate_id(std::string_view fingerprint) = 0;
  /// Which of `fingerprints` (lowercase hex) are stored. The default asks certificate_id() for
  /// each; a backend with a round trip per statement answers them in one.
  [[nodiscard]] virtual std::vector<std::string> stored_fingerprints(std::span<const std::string> fingerprints) {
    std::vector<std::string> out;
    for (const std::string& fp : fingerprints) {
      if (certificate_id(fp)) out.push_back(fp);
    }
    return out;
  }
  /// Ids of certificates whose fingerprint starts with `prefix`, at most `limit`.
  [[nodiscard]] virtual std::vector<std::int64_t> certificate_ids_by_prefix(std::string_view prefix,
                                                                           std::size_t limit) = 0;
  [[nodiscard]] virtual std::int64_t next_certificate_id() = 0;
  /// The full record; `known` is the parsed certificate when the caller holds it (parsing costs
  /// more than the query). Error(not_found).
  [[nodiscard]] virtual CertificateRecord record(std::int64_t id, const Certificate* known, const Context& ctx) = 0;
  [[nodiscard]] virtual std::vector<CertificateSummary> summaries(const CertificateQuery& query) = 0;
  [[nodiscard]] virtual std::size_t count(const CertificateQuery& query) = 0;
  [[nodiscard]] virtual std::string plan(const CertificateQuery& query) = 0;
  /// Active certificates of a mailbox, of an OCES2 identity (CVR, id kind, id), of an OCES3 subject.
  virtual void active_by_mailbox(std::int64_t mailbox_id, std::vector<LineageCandidate>& out) = 0;
  virtual void active_by_oces2_id(std::string_view cvr, std::string_view id_kind, std::string_view id,
                                  std::vector<LineageCandidate>& out) = 0;
  virtual void active_by_oces3_subject(std::string_view subject, std::vector<LineageCandidate>& out) = 0;
  virtual void insert_certificate(const CertificateInsert& row) = 0;
  /// Sets status and status_changed_at, and superseded_by when given.
  virtual void set_status(std::int64_t id, CertificateStatus status, std::optional<std::int64_t> superseded_by,
                          Time at) = 0;
  /// The newest active certificate of a mailbox (by notBefore, notAfter, id).
  [[nodiscard]] virtual std::optional<std::int64_t> current_for_mailbox(std::int64_t mailbox_id) = 0;

  // -- sealed secrets --
  virtual void insert_secrets(std::int64_t certificate_id, const SealedSecrets& secrets) = 0;
  [[nodiscard]] virtual std::optional<SealedSecrets> secrets(std::int64_t certificate_id) = 0;
  /// Wrapped keys of certificates with id > after_id, in id order, at most `limit`.
  [[nodiscard]] virtual std::vector<WrappedKeys> wrapped_keys(std::int64_t after_id, std::size_t limit) = 0;
  virtual void update_wrapped_keys(std::int64_t certificate_id, std::span<const std::byte> pkcs12_key,
                                   std::span<const std::byte> password_key) = 0;

  // -- keys on tokens (migration 7) --
  /// Records (or replaces) where a certificate's key is on a token.
  virtual void put_token_key(const TokenKeyRow& row) = 0;
  [[nodiscard]] virtual std::optional<TokenKeyRow> token_key(std::int64_t certificate_id) = 0;
  /// Every recorded token key, by certificate id.
  [[nodiscard]] virtual std::vector<TokenKeyRow> token_keys() = 0;
  /// Forgets a certificate's token key; false when none was recorded.
  virtual bool delete_token_key(std::int64_t certificate_id) = 0;

  // -- audit log --
  /// Appends a line (its id is the backend's; command_time may be absent).
  virtual void append_audit(const AuditEntry& entry) = 0;
  [[nodiscard]] virtual std::vector<AuditEntry> audit_log(std::int64_t after_id, std::size_t limit) = 0;

  // -- integrity --
  /// Problems of the database itself (SQLite: integrity_check, foreign_key_check).
  virtual void database_problems(std::vector<std::string>& problems) = 0;
  /// Fingerprints of certificates lacking `what`, at most `limit`.
  [[nodiscard]] virtual std::vector<std::string> certificates_lacking(Lack what, std::size_t limit) = 0;

  // -- the lifecycle layer's rows --
  virtual void insert_tracking(std::int64_t certificate_id, Time effective_not_after, std::optional<Time> next_due_at) = 0;
  /// Clears next_due_at and severity of a certificate's tracking row.
  virtual void stop_tracking(std::int64_t certificate_id) = 0;
  /// Adds a pending status change unless the same (certificate, kind) is pending.
  virtual void add_pending(std::int64_t certificate_id, std::string_view kind, Time since) = 0;
  /// Removes a pending status change; whether there was one.
  virtual bool drop_pending(std::int64_t certificate_id, std::string_view kind) = 0;
  /// Replaces (nullopt thresholds: removes) the policy of an organisation or the default.
  virtual void replace_policy(std::optional<std::int64_t> organisation_id, const std::optional<std::string>& thresholds,
                              Time at, std::string_view who) = 0;
  /// Sets next_due_at to the epoch for the active certificates the policy of `organisation_id`
  /// (none: the default, for organisations without their own) governs.
  virtual void reevaluate_policy_scope(std::optional<std::int64_t> organisation_id) = 0;
  [[nodiscard]] virtual std::vector<PolicyRow> policies() = 0;
  [[nodiscard]] virtual std::vector<TrackedRow> tracked(const TrackedFilter& filter) = 0;
  /// Tracked rows with next_due_at <= now, soonest first.
  [[nodiscard]] virtual std::vector<TrackedRow> due(Time now, std::size_t limit) = 0;
  [[nodiscard]] virtual std::vector<PendingRow> pending(std::size_t limit) = 0;
  /// Whether the guarded update applied.
  virtual bool apply_stage(const StageUpdate& update) = 0;
  /// Inserts the event with one pending delivery per configured sink (due at its created_at);
  /// false when its id is in the outbox already.
  virtual bool insert_event(const EventRow& event) = 0;
  /// (severity, count) of tracking rows with severity > 0.
  [[nodiscard]] virtual std::vector<std::pair<std::int64_t, std::size_t>> severity_counts() = 0;
  [[nodiscard]] virtual std::vector<EventRow> events(std::int64_t after_seq, std::size_t limit) = 0;
  [[nodiscard]] virtual std::optional<std::int64_t> sink_id(std::string_view name) = 0;
  virtual void insert_sink(const SinkRow& sink) = 0;
  /// Removes a sink and its deliveries; whether it existed.
  virtual bool delete_sink(std::string_view name) = 0;
  [[nodiscard]] virtual std::vector<SinkRow> sinks() = 0;
  /// Claims pending deliveries due at `now` (to the named sinks, all when empty): attempts grow,
  /// next attempt at `lease_until`.
  [[nodiscard]] virtual std::vector<DeliveryRow> claim(Time now, Time lease_until, std::span<const std::string> sinks,
                                                       std::size_t limit) = 0;
  /// Marks a pending delivery delivered; whether it was pending.
  virtual bool settle_delivered(std::int64_t event_seq, std::int64_t sink_id, Time at) = 0;
  /// Schedules a pending delivery's next attempt (none: it stays pending, never claimed again);
  /// whether it was pending.
  virtual bool settle_failed(std::int64_t event_seq, std::int64_t sink_id, std::optional<Time> retry_at,
                             std::string_view error) = 0;
  /// Queues a pending delivery to the sink for every event no sink has a delivery for (due at the
  /// event's created_at); how many.
  virtual std::size_t queue_backlog(std::int64_t sink_id) = 0;
  /// How many events no sink has a delivery for.
  [[nodiscard]] virtual std::size_t backlog_size() = 0;
  /// Deletes, with their deliveries, up to `limit` events created before `before` whose every
  /// delivery is delivered (events without a delivery wait for a sink's backlog and stay, as do
  /// those with a pending or abandoned one), oldest first; how many.
  virtual std::size_t prune_delivered(Time before, std::size_t limit) = 0;
  virtual void bump_counter(std::string_view metric, std::string_view label) = 0;
  [[nodiscard]] virtual std::vector<SinkStatsRow> sink_stats() = 0;
  [[nodiscard]] virtual std::vector<CounterRow> counters() = 0;
  /// Lifecycle problems: certificates without a tracking row, active ones not tracked, inactive
  /// ones still tracked.
  virtual void tracking_problems(std::vector<std::string>& problems) = 0;

  // -- whole tables (Store::copy_to) --
  /// The tables holding data, any order; the schema version's own table excluded.
  [[nodiscard]] virtual std::vector<std::string> table_names() = 0;
  /// Reads every row of `table` in primary-key order, handing them to `f` `batch` rows at a time.
  virtual void read_table(std::string_view table, std::size_t batch,
                          const std::function<void(const TableRows&)>& f) = 0;
  /// Prepares this freshly created, empty database for write_rows(): foreign keys are checked
  /// at the commit instead of per row (a certificate may name a successor copied after it).
  virtual void begin_copy() = 0;
  /// Inserts rows as they are, ids included (no trigger or default may change a value).
  virtual void write_rows(std::string_view table, const TableRows& rows) = 0;
  /// Ends a copy: generated ids continue after the largest one copied (SQLite: nothing to do).
  virtual void end_copy() = 0;
};

/// A non-owning reference to a callable (no allocation per transaction).
class TransactionBody {
 public:
  template <class F>
  TransactionBody(F& f) noexcept  // NOLINT(google-explicit-constructor)
      : object_(&f), call_([](void* o, Transaction& tx) { (*static_cast<F*>(o))(tx); }) {}
  void operator()(Transaction& tx) const { call_(object_, tx); }

 private:
  void* object_;
  void (*call_)(void*, Transaction&);
};

/// The receiving end of a backend's change notifications (Store::listen(), ChangeListener): a
/// connection of its own. Not thread-safe.
///
/// A backend that sends notifications does so from inside its own Transaction methods, in the
/// writing transaction (so a rollback sends nothing): the PostgreSQL backend notifies from
/// insert_certificate, set_status, move_mailbox, delete_mailbox and end_copy (a reload).
class ChangeFeed {
 public:
  virtual ~ChangeFeed() = default;
  /// Waits up to `timeout` for the next change (ChangeListener::next()).
  [[nodiscard]] virtual std::optional<Change> next(std::chrono::milliseconds timeout) = 0;
};

/// One database. Not thread-safe: the store serialises calls (one at a time per Backend).
class Backend {
 public:
  virtual ~Backend() = default;
  /// "sqlite", "postgresql".
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
  /// Where the data lives, for messages and StoreInfo (a path; never a password).
  [[nodiscard]] virtual std::string location() const = 0;
  /// The schema version this backend writes.
  [[nodiscard]] virtual int latest_schema_version() const noexcept = 0;
  /// Runs `body` in a transaction (a write transaction takes the write lock up front) and commits;
  /// rolls back when it throws. Lock contention is retried inside (the body may run again) until
  /// the backend's deadline, then Error(io).
  virtual void run(bool write, TransactionBody body) = 0;
  /// Takes the named run lock of this database for this handle, without waiting: false when
  /// another handle (of any process or node) holds it. Held until unlock_run() or until the handle
  /// (PostgreSQL: its session) ends, so a crashed holder never blocks the others.
  [[nodiscard]] virtual bool try_lock_run(std::string_view name) = 0;
  /// Releases a run lock this handle holds.
  virtual void unlock_run(std::string_view name) noexcept = 0;
  /// Store::create failed after the backend was opened for creation: closes it and removes what
  /// creating it made (a new database file). The backend is unusable afterwards.
  virtual void abandon() noexcept = 0;
  /// Writes a consistent copy of the whole database to a new file (mode 0600) while other
  /// connections keep reading and writing. Error(conflict) when `file` exists; Error(unsupported)
  /// for a backend whose copies are made by its own tools (PostgreSQL: pg_dump).
  virtual void backup_to(const std::filesystem::path& file) = 0;
  /// Replaces the database's whole content with a copy made by backup_to(), in one step (other
  /// connections see it at their next transaction). Error(malformed) when `file` is not a dpgcert
  /// store, Error(unsupported) when it is newer than this backend or the backend cannot.
  virtual void restore_from(const std::filesystem::path& file) = 0;
  /// Opens a feed of the changes committed from now on, on a connection of its own.
  /// Error(unsupported) for a backend that sends no notifications (SQLite:
  /// no_change_notifications()). Pure, like every other virtual here: Backend then has no key
  /// function, so its type information is emitted wherever it is used (UBSan's vptr check in
  /// the tests needs it, and the library hides its symbols).
  [[nodiscard]] virtual std::unique_ptr<ChangeFeed> listen() const = 0;
};

/// What listen() does for a backend that sends no change notifications: Error(unsupported),
/// naming the backend.
[[noreturn]] void no_change_notifications(std::string_view backend);

/// Runs `f(Transaction&)` in a transaction and returns its result.
template <class F>
auto transact(Backend& backend, bool write, F&& f) -> std::invoke_result_t<F&, Transaction&> {
  using R = std::invoke_result_t<F&, Transaction&>;
  if constexpr (std::is_void_v<R>) {
    auto body = [&](Transaction& tx) { f(tx); };
    backend.run(write, body);
  } else {
    std::optional<R> result;
    auto body = [&](Transaction& tx) { result.emplace(f(tx)); };
    backend.run(write, body);
    return std::move(*result);
  }
}

}  // namespace dpgcert::store
