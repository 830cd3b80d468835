// The PostgreSQL backend: one libpq connection per Store, write transactions SERIALIZABLE (the
// same serial order SQLite's single writer gives, without one global lock), reads REPEATABLE READ
// READ ONLY (a snapshot, as a SQLite read transaction), the outbox's claims READ COMMITTED with
// FOR UPDATE SKIP LOCKED; serialisation failures and deadlocks retried as a whole transaction; a
// lost connection retried as a whole transaction unless it broke during COMMIT. Private to the
// store layer.
#pragma once

#include "store/backend.hpp"
#include "store/backend_registry.hpp"
#include "store/postgresql/pg_connection.hpp"

#include <dpgcert/store.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dpgcert::postgresql {

/// The rows of one PostgreSQL database, inside a transaction the backend opens on the first
/// statement (so that relax_isolation() can still choose its isolation level).
/// Defined across pg_backend.cpp (meta), pg_inventory.cpp and pg_lifecycle.cpp.
class PgTransaction final : public store::Transaction {
 public:
  PgTransaction(Connection& db, bool write) noexcept : db_(db), write_(write) {}

  void relax_isolation() override { relaxed_ = true; }

  // savepoints: queued with the request's writes; released with a sync, so that an error of the
  // request surfaces while it can still be undone alone.
  void savepoint() override { db().send_simple("SAVEPOINT dpgcert_request"); }
  void release_savepoint() override {
    db().send_simple("RELEASE SAVEPOINT dpgcert_request");
    db_.sync();
  }
  void rollback_to_savepoint() override;
  void flush() override { db_.sync(); }

  // meta (pg_backend.cpp)
  int schema_version() override;
  void create_schema(Time at) override;
  void migrate(int from, Time at) override;
  std::optional<vault::KeyHeader> key_header() override;
  std::optional<std::vector<std::byte>> key_check() override;
  void write_key_header(const vault::KeyHeader& header, Time at, bool rotation) override;
  store::KeyDates key_dates() override;
  store::RowCounts counts() override;
  void database_problems(std::vector<std::string>& problems) override;

  // inventory (pg_inventory.cpp)
  std::optional<std::int64_t> organisation_id(std::string_view cvr) override;
  std::optional<std::string> organisation_cvr(std::int64_t id) override;
  std::int64_t insert_organisation(const Organisation& organisation, Time at, std::string_view who) override;
  void update_organisation(std::int64_t id, const Organisation& organisation, Time at) override;
  std::optional<Organisation> organisation(std::string_view cvr) override;
  std::vector<std::string> organisation_cvrs() override;
  std::optional<store::MailboxRef> mailbox_ref(std::string_view address) override;
  std::int64_t insert_mailbox(std::string_view address, std::string_view ad_group, std::int64_t organisation_id,
                              Time at, std::string_view who) override;
  void update_mailbox(std::int64_t id, std::string_view ad_group) override;
  void move_mailbox(std::int64_t id, std::int64_t organisation_id) override;
  void delete_mailbox(std::int64_t id) override;
  void delete_organisation(std::int64_t id) override;
  std::optional<std::string> setting(std::string_view name) override;
  void set_setting(std::string_view name, std::string_view value, Time at) override;
  [[nodiscard]] std::optional<store::CachedCrlRow> cached_crl(std::string_view url) override;
  void put_crl(const store::CachedCrlRow& row) override;
  std::optional<Mailbox> mailbox(std::string_view address) override;
  std::vector<Mailbox> mailboxes(std::optional<std::string_view> organisation_cvr) override;
  std::optional<std::int64_t> certificate_id(std::string_view fingerprint) override;
  std::vector<std::string> stored_fingerprints(std::span<const std::string> fingerprints) override;
  std::vector<std::int64_t> certificate_ids_by_prefix(std::string_view prefix, std::size_t limit) override;
  std::int64_t next_certificate_id() override;
  CertificateRecord record(std::int64_t id, const Certificate* known, const Context& ctx) override;
  std::vector<CertificateSummary> summaries(const CertificateQuery& query) override;
  std::size_t count(const CertificateQuery& query) override;
  std::string plan(const CertificateQuery& query) override;
  void active_by_mailbox(std::int64_t mailbox_id, std::vector<store::LineageCandidate>& out) override;
  void active_by_oces2_id(std::string_view cvr, std::string_view id_kind, std::string_view id,
                          std::vector<store::LineageCandidate>& out) override;
  void active_by_oces3_subject(std::string_view subject, std::vector<store::LineageCandidate>& out) override;
  void insert_certificate(const store::CertificateInsert& row) override;
  void set_status(std::int64_t id, CertificateStatus status, std::optional<std::int64_t> superseded_by,
                  Time at) override;
  std::optional<std::int64_t> current_for_mailbox(std::int64_t mailbox_id) override;
  void insert_secrets(std::int64_t certificate_id, const store::SealedSecrets& secrets) override;
  std::optional<store::SealedSecrets> secrets(std::int64_t certificate_id) override;
  std::vector<store::WrappedKeys> wrapped_keys(std::int64_t after_id, std::size_t limit) override;
  void update_wrapped_keys(std::int64_t certificate_id, std::span<const std::byte> pkcs12_key,
                           std::span<const std::byte> password_key) override;
  void put_token_key(const store::TokenKeyRow& row) override;
  std::optional<store::TokenKeyRow> token_key(std::int64_t certificate_id) override;
  std::vector<store::TokenKeyRow> token_keys() override;
  bool delete_token_key(std::int64_t certificate_id) override;
  void append_audit(const AuditEntry& entry) override;
  std::vector<AuditEntry> audit_log(std::int64_t after_id, std::size_t limit) override;
  std::vector<std::string> certificates_lacking(store::Lack what, std::size_t limit) override;

  // lifecycle rows (pg_lifecycle.cpp)
  void insert_tracking(std::int64_t certificate_id, Time effective_not_after, std::optional<Time> next_due_at) override;
  void stop_tracking(std::int64_t certificate_id) override;
  void add_pending(std::int64_t certificate_id, std::string_view kind, Time since) override;
  bool drop_pending(std::int64_t certificate_id, std::string_view kind) override;
  void replace_policy(std::optional<std::int64_t> organisation_id, const std::optional<std::string>& thresholds,
                      Time at, std::string_view who) override;
  void reevaluate_policy_scope(std::optional<std::int64_t> organisation_id) override;
  std::vector<store::PolicyRow> policies() override;
  std::vector<store::TrackedRow> tracked(const store::TrackedFilter& filter) override;
  std::vector<store::TrackedRow> due(Time now, std::size_t limit) override;
  std::vector<store::PendingRow> pending(std::size_t limit) override;
  bool apply_stage(const store::StageUpdate& update) override;
  bool insert_event(const store::EventRow& event) override;
  std::vector<std::pair<std::int64_t, std::size_t>> severity_counts() override;
  std::vector<store::EventRow> events(std::int64_t after_seq, std::size_t limit) override;
  std::optional<std::int64_t> sink_id(std::string_view name) override;
  void insert_sink(const store::SinkRow& sink) override;
  bool delete_sink(std::string_view name) override;
  std::vector<store::SinkRow> sinks() override;
  std::vector<store::DeliveryRow> claim(Time now, Time lease_until, std::span<const std::string> sinks,
                                        std::size_t limit) override;
  bool settle_delivered(std::int64_t event_seq, std::int64_t sink_id, Time at) override;
  bool settle_failed(std::int64_t event_seq, std::int64_t sink_id, std::optional<Time> retry_at,
                     std::string_view error) override;
  std::size_t queue_backlog(std::int64_t sink_id) override;
  [[nodiscard]] std::size_t backlog_size() override;
  std::size_t prune_delivered(Time before, std::size_t limit) override;
  void bump_counter(std::string_view metric, std::string_view label) override;
  std::vector<store::SinkStatsRow> sink_stats() override;
  std::vector<store::CounterRow> counters() override;
  void tracking_problems(std::vector<std::string>& problems) override;

  /// Whether create_schema() or migrate() ran (the statement cache must go after the commit).
  [[nodiscard]] bool schema_changed() const noexcept { return schema_changed_; }
  /// Whether a statement ran (BEGIN was sent).
  [[nodiscard]] bool begun() const noexcept { return begun_; }
  /// Writes the counter increments bump_counter() gathered (one statement per counter, at the end
  /// of the transaction, so that concurrent settlers hold a counter's row lock only briefly).
  void flush_counters();

  // change notifications (pg_changes.cpp): NOTIFY on kChangeChannel inside this transaction,
  // delivered by the server only when it commits; payload ids only (docs/store.md).
  /// Notifies `kind` for the certificate `id` with its fingerprint and its mailbox's address.
  void notify_certificate(ChangeKind kind, std::int64_t id);
  /// Notifies `kind` for the mailbox `id` (before it is deleted).
  void notify_mailbox(ChangeKind kind, std::int64_t id);
  /// Notifies a reload: listeners are to read everything again.
  void notify_reload();

  // whole tables (pg_copy.cpp)
  std::vector<std::string> table_names() override;
  void read_table(std::string_view table, std::size_t batch,
                  const std::function<void(const store::TableRows&)>& f) override;
  void begin_copy() override;
  void write_rows(std::string_view table, const store::TableRows& rows) override;
  void end_copy() override;

 private:
  enum class QueryKind { rows, count, plan };
  /// Sends BEGIN before the first statement; every query goes through here.
  Connection& db();
  template <class... A>
  Result q(std::string_view sql, const A&... args) {
    return db().query_with(sql, args...);
  }
  /// A write whose result is not needed: queued, sent with the next statement that needs an answer.
  template <class... A>
  void w(std::string_view sql, const A&... args) {
    db().send_with(sql, args...);
  }
  [[nodiscard]] bool has_table(std::string_view name);
  [[nodiscard]] Result run_query(const CertificateQuery& q, QueryKind kind);
  void collect(const Result& r, std::vector<store::LineageCandidate>& out);

  Connection& db_;
  bool write_;
  bool relaxed_ = false;
  bool begun_ = false;
  bool schema_changed_ = false;
  std::map<std::pair<std::string, std::string>, std::int64_t> counter_increments_;
  std::vector<std::int64_t> id_pool_;  ///< Certificate ids drawn and not yet used, largest first.
  std::int64_t id_block_ = 1;          ///< How many next_certificate_id() draws next.
};

/// One PostgreSQL database.
class PgBackend final : public store::Backend {
 public:
  /// Connects; `conninfo` is the libpq URI or keyword string, `shown` the same without password.
  PgBackend(std::string conninfo, std::string shown);

  std::string_view name() const noexcept override { return "postgresql"; }
  std::string location() const override { return shown_; }
  int latest_schema_version() const noexcept override;
  void run(bool write, store::TransactionBody body) override;
  void abandon() noexcept override;
  /// A run lock is a session-level advisory lock (pg_try_advisory_lock) of this database.
  bool try_lock_run(std::string_view name) override;
  /// PostgreSQL stores are backed up with pg_dump and restored with pg_restore (docs/store.md).
  void backup_to(const std::filesystem::path& file) override;
  void restore_from(const std::filesystem::path& file) override;
  void unlock_run(std::string_view name) noexcept override;
  /// A PgChangeFeed on a new connection (pg_changes.cpp).
  std::unique_ptr<store::ChangeFeed> listen() const override;

  /// How often a transaction runs at most (serialisation failures, lost connections).
  static constexpr unsigned kMaxAttempts = 30;

 private:
  std::string conninfo_;
  std::string shown_;
  std::unique_ptr<Connection> db_;
};

/// The channel every change notification of a store's database is sent on.
inline constexpr std::string_view kChangeChannel = "dpgcert_changes";

/// The statement that notifies a change of the certificates in `rows` (a table or a CTE with
/// the columns fingerprint and mailbox_id, named c), the channel and the kind being parameters
/// number `channel` and `kind` (pg_changes.cpp).
std::string certificate_notify_sql(int channel, int kind, std::string_view rows);

/// The libpq connection string of a "postgresql"/"postgres" location: the URI as given
/// ("postgresql://...") or the keyword string after the scheme ("postgresql:host=... dbname=...").
[[nodiscard]] std::string conninfo_of(const store::Location& location);

}  // namespace dpgcert::postgresql
