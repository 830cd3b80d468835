// The SQLite backend: WAL, foreign keys, migrations, prepared statements cached per connection,
// lock contention retried inside (BEGIN IMMEDIATE for writes, busy timeout, whole-transaction
// retry), checkpoints on a thread of their own. Private to the store layer.
#pragma once

#include "store/backend.hpp"
#include "store/backend_registry.hpp"
#include "store/sqlite/sqlite_db.hpp"

#include <dpgcert/store.hpp>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace dpgcert::sqlite {

/// The rows of one SQLite database, inside a transaction the backend opened.
/// Defined across sqlite_backend.cpp (meta), sqlite_inventory.cpp and sqlite_lifecycle.cpp.
class SqliteTransaction final : public store::Transaction {
 public:
  SqliteTransaction(Connection& db, std::string_view location) noexcept : db_(db), location_(location) {}

  void savepoint() override { db_.exec("SAVEPOINT dpgcert_request"); }
  void release_savepoint() override { db_.exec("RELEASE dpgcert_request"); }
  void rollback_to_savepoint() override {
    db_.exec("ROLLBACK TO dpgcert_request");
    db_.exec("RELEASE dpgcert_request");
  }

  // meta (sqlite_backend.cpp)
  int schema_version() override;
  void create_schema(Time at) override;
  void migrate(int from, Time at) override;
  std::optional<vault::KeyHeader> key_header() override;
  std::optional<std::vector<std::byte>> key_check() override;
  void write_key_header(const vault::KeyHeader& header, Time at, bool rotation) override;
  store::KeyDates key_dates() override;
  store::RowCounts counts() override;
  void database_problems(std::vector<std::string>& problems) override;

  // inventory (sqlite_inventory.cpp)
  std::optional<std::int64_t> organisation_id(std::string_view cvr) override;
  std::optional<std::string> organisation_cvr(std::int64_t id) override;
  std::optional<std::string> setting(std::string_view name) override;
  void set_setting(std::string_view name, std::string_view value, Time at) override;
  [[nodiscard]] std::optional<store::CachedCrlRow> cached_crl(std::string_view url) override;
  void put_crl(const store::CachedCrlRow& row) override;
  std::int64_t insert_organisation(const Organisation& organisation, Time at, std::string_view who) override;
  void update_organisation(std::int64_t id, const Organisation& organisation, Time at) override;
  std::optional<Organisation> organisation(std::string_view cvr) override;
  std::vector<std::string> organisation_cvrs() override;
  std::optional<store::MailboxRef> mailbox_ref(std::string_view address) override;
  std::int64_t insert_mailbox(std::string_view address, std::string_view ad_group, std::int64_t organisation_id,
                              Time at, std::string_view who) override;
  void update_mailbox(std::int64_t id, std::string_view ad_group) override;
  std::optional<Mailbox> mailbox(std::string_view address) override;
  std::vector<Mailbox> mailboxes(std::optional<std::string_view> organisation_cvr) override;
  void move_mailbox(std::int64_t id, std::int64_t organisation_id) override;
  void delete_mailbox(std::int64_t id) override;
  void delete_organisation(std::int64_t id) override;
  std::optional<std::int64_t> certificate_id(std::string_view fingerprint) override;
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

  // whole tables (sqlite_copy.cpp)
  std::vector<std::string> table_names() override;
  void read_table(std::string_view table, std::size_t batch,
                  const std::function<void(const store::TableRows&)>& f) override;
  void begin_copy() override;
  void write_rows(std::string_view table, const store::TableRows& rows) override;
  void end_copy() override;

  // lifecycle rows (sqlite_lifecycle.cpp)
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

 private:
  enum class QueryKind { rows, count, plan };
  [[nodiscard]] bool has_table(std::string_view name);
  [[nodiscard]] Statement prepare_query(const CertificateQuery& q, QueryKind kind);
  void collect(Statement& st, std::vector<store::LineageCandidate>& out);

  Connection& db_;
  std::string_view location_;  ///< The database file, for messages.
  bool schema_changed_ = false;
};

/// Copies the WAL back into the database on a thread of its own, with its own connection, when a
/// commit finds the WAL past kCheckpointFrames. PASSIVE first: it never waits for, nor blocks,
/// readers and writers of this or any other process. SQLite starts the WAL file again from its
/// beginning only when a write transaction begins with every frame copied, which a writer that
/// commits without a pause (an import of thousands) never lets happen: so a RESTART follows for
/// the frames committed meanwhile. During it this process's writers wait at the gate
/// (wait_for_restart(), a few milliseconds once per ~40 MB of WAL) instead of racing it for the
/// write lock; it waits up to 100 ms for another process's writer or readers, then gives up
/// until the next request. Started on first need; stopped by the destructor.
/// (A process that forks must not use a Store in the child: SQLite connections do not survive a
/// fork either.)
class Checkpointer final {
 public:
  Checkpointer() = default;
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;
  ~Checkpointer() { stop(); }

  void request(const std::filesystem::path& path);
  void stop() noexcept;
  /// Called before a write transaction begins: returns at once, or when a RESTART under way ends.
  void wait_for_restart() {
    if (restarting_.load(std::memory_order_acquire)) std::lock_guard gate(gate_);
  }

 private:
  void run(const std::filesystem::path& path) noexcept;

  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool stopping_ = false;
  std::mutex gate_;                      ///< Held by the checkpointer during a RESTART.
  std::atomic<bool> restarting_{false};  ///< Set while gate_ is held for a RESTART.
  std::thread thread_;
};

/// One SQLite database file.
class SqliteBackend final : public store::Backend {
 public:
  SqliteBackend(std::filesystem::path path, const SqliteOptions& options, Connection::Mode mode);
  SqliteBackend(const SqliteBackend&) = delete;
  SqliteBackend& operator=(const SqliteBackend&) = delete;
  ~SqliteBackend() override;

  std::string_view name() const noexcept override { return "sqlite"; }
  std::string location() const override { return path_.string(); }
  int latest_schema_version() const noexcept override;
  void run(bool write, store::TransactionBody body) override;
  void abandon() noexcept override;
  /// A run lock is an flock() on "<database>-<name>.lock" beside the database file.
  bool try_lock_run(std::string_view name) override;
  void unlock_run(std::string_view name) noexcept override;
  void backup_to(const std::filesystem::path& file) override;
  void restore_from(const std::filesystem::path& file) override;
  /// Error(unsupported): SQLite sends no change notifications.
  [[nodiscard]] std::unique_ptr<store::ChangeFeed> listen() const override { store::no_change_notifications(name()); }
  /// Marks the file as made by this backend (abandon() removes it).
  void set_created() noexcept { created_ = true; }

 private:
  void configure();
  [[nodiscard]] Error locked_error() const;
  static int on_wal_commit(void* self, sqlite3* db, const char* name, int frames);

  static constexpr int kCheckpointFrames = 10000;

  std::filesystem::path path_;
  SqliteOptions options_;
  std::unique_ptr<Connection> db_;
  bool created_ = false;
  std::map<std::string, int, std::less<>> run_locks_;  ///< name -> the locked file's descriptor
  // Declared last: stopped (joined) first, while the connection is still open.
  Checkpointer checkpointer_;
};

/// Creates the database file exclusively with mode 0600 (SQLite gives -wal and -shm the same
/// mode). Returns whether this call created it (false: an empty file was there).
bool create_database_file(const std::filesystem::path& path);
/// The database file of a "sqlite" location: "PATH", "sqlite:PATH" or "sqlite:///abs/path".
/// Error(invalid_argument) for an empty one or one with a host.
[[nodiscard]] std::filesystem::path path_of(const store::Location& location);
/// Removes the database and its -wal, -shm and -journal files.
void remove_database_files(const std::filesystem::path& path) noexcept;

}  // namespace dpgcert::sqlite
