// The PostgreSQL backend's connection, transactions, retries, schema and key header, and its
// registration under the schemes "postgresql" and "postgres".
#include "store/postgresql/pg_backend.hpp"

#include "store/backend_registry.hpp"
#include "store/postgresql/pg_schema.hpp"

#include <dpgcert/error.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include <unistd.h>

namespace dpgcert::postgresql {
namespace {

using SteadyClock = std::chrono::steady_clock;

/// 1, 2, 4 .. 64 ms with jitter: long enough for a conflicting transaction to commit.
void backoff(unsigned attempt) {
  thread_local std::minstd_rand rng(static_cast<unsigned>(::getpid()) ^
                                    static_cast<unsigned>(SteadyClock::now().time_since_epoch().count()));
  const unsigned cap = 1u << std::min(attempt, 6u);
  std::uniform_int_distribution<unsigned> dist(cap * 500u, cap * 1000u);
  std::this_thread::sleep_for(std::chrono::microseconds(dist(rng)));
}

std::unique_ptr<store::Backend> make_backend(const store::Location& location, const StoreOptions&, bool create) {
  const std::string conninfo = conninfo_of(location);
  auto backend = std::make_unique<PgBackend>(conninfo, redact_location(location.scheme + ":" + location.rest));
  if (!create) {
    // A database without the store's tables is no store yet: said the way a missing SQLite file is.
    const bool there = store::transact(*backend, false, [](store::Transaction& tx) { return tx.schema_version() >= 0; });
    if (!there) {
      throw Error(ErrorCode::not_found, "store: there is no store at '" + backend->location() +
                                            "' (create one with `dpgcert store init`)");
    }
  }
  return backend;
}

const store::BackendRegistration registration("postgresql", &make_backend);
const store::BackendRegistration alias("postgres", &make_backend);

}  // namespace

std::string conninfo_of(const store::Location& location) {
  if (location.rest.starts_with("//")) return location.scheme + ":" + location.rest;
  if (location.rest.empty()) {
    // "postgresql:" alone: everything from the environment (PGHOST, PGDATABASE, PGSERVICE...).
    return "";
  }
  return location.rest;
}

// ---- the backend ----------------------------------------------------------------------------

PgBackend::PgBackend(std::string conninfo, std::string shown)
    : conninfo_(std::move(conninfo)), shown_(std::move(shown)), db_(std::make_unique<Connection>(conninfo_, shown_)) {}

int PgBackend::latest_schema_version() const noexcept { return postgresql::latest_schema_version(); }

void PgBackend::run(bool write, store::TransactionBody body) {
  if (!db_) throw Error(ErrorCode::internal, "store: the backend was abandoned");
  std::string last;
  for (unsigned attempt = 1;; ++attempt) {
    PgTransaction tx(*db_, write);
    bool committing = false;
    try {
      if (!db_->ok()) db_->reconnect();
      body(tx);
      tx.flush_counters();
      if (tx.begun()) {
        // (With statements still queued, COMMIT goes with them and fails with their error.)
        if (!db_->queued() && PQtransactionStatus(db_->handle()) == PQTRANS_INERROR) {
          throw Error(ErrorCode::internal, "store: a statement failed inside a transaction that went on");
        }
        committing = true;
        db_->exec("COMMIT");
      }
      if (tx.schema_changed()) db_->clear_cache();
      return;
    } catch (const Retry&) {
      db_->rollback_quietly();
      if (tx.schema_changed()) db_->clear_cache();
      if (attempt >= kMaxAttempts) {
        throw Error(ErrorCode::io, "store: '" + shown_ + "': a transaction kept conflicting with concurrent ones (" +
                                       std::to_string(attempt) + " attempts)");
      }
      backoff(attempt);
    } catch (const ConnectionLost& e) {
      if (committing) {
        throw Error(ErrorCode::io, "store: the connection to '" + shown_ +
                                       "' broke during COMMIT: the change is stored whole or not at all; look before "
                                       "repeating it (" + std::string(e.what()) + ")");
      }
      if (attempt >= kMaxAttempts) {
        throw Error(ErrorCode::io, "store: lost the connection to '" + shown_ + "' and could not connect again: " +
                                       std::string(e.what()));
      }
      // The server rolled the transaction back; connect again (a restart takes a second or two).
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(50u * (attempt - 1), 1000u)));
    } catch (...) {
      db_->rollback_quietly();
      if (tx.schema_changed()) db_->clear_cache();
      throw;
    }
  }
}

void PgBackend::abandon() noexcept { db_.reset(); }

namespace {
constexpr std::string_view kLockKey = "hashtextextended('dpgcert:' || $1, 0)";
}  // namespace

void PgBackend::backup_to(const std::filesystem::path&) {
  throw Error(ErrorCode::unsupported,
              "store: a PostgreSQL store is backed up with the server's tools: pg_dump --format=custom (docs/store.md)");
}

void PgBackend::restore_from(const std::filesystem::path&) {
  throw Error(ErrorCode::unsupported,
              "store: a PostgreSQL store is restored with the server's tools: pg_restore --clean (docs/store.md)");
}

bool PgBackend::try_lock_run(std::string_view name) {
  if (!db_) throw Error(ErrorCode::internal, "store: the backend was abandoned");
  for (unsigned attempt = 1;; ++attempt) {
    try {
      if (!db_->ok()) db_->reconnect();
      // Outside any transaction: the lock belongs to the session, not to a transaction.
      return db_->query_with("SELECT pg_try_advisory_lock(" + std::string(kLockKey) + ")::int", name).integer(0, 0) == 1;
    } catch (const ConnectionLost& e) {
      if (attempt >= 3) throw Error(ErrorCode::io, "store: lost the connection to '" + shown_ + "': " + e.what());
    }
  }
}

void PgBackend::unlock_run(std::string_view name) noexcept {
  try {
    if (db_ && db_->ok()) (void)db_->query_with("SELECT pg_advisory_unlock(" + std::string(kLockKey) + ")::int", name);
  } catch (...) {
    // A lost session has released it already.
  }
}

// ---- the transaction ------------------------------------------------------------------------

Connection& PgTransaction::db() {
  if (!begun_) {
    // SERIALIZABLE for writes: PostgreSQL then guarantees the result of some serial order of the
    // concurrent transactions, as SQLite's single writer does; failures are retried whole.
    // Queued: it reaches the server with the transaction's first statement.
    db_.send_simple(!write_    ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                   : relaxed_ ? "BEGIN ISOLATION LEVEL READ COMMITTED"
                              : "BEGIN ISOLATION LEVEL SERIALIZABLE");
    begun_ = true;
  }
  return db_;
}

void PgTransaction::rollback_to_savepoint() {
  try {
    db_.sync();  // what is still queued goes first (and is undone with the rest)
  } catch (const Error&) {
    // The request's own failure, which the caller is handling already.
  }
  (void)db().exec("ROLLBACK TO SAVEPOINT dpgcert_request");
  (void)db().exec("RELEASE SAVEPOINT dpgcert_request");
}

bool PgTransaction::has_table(std::string_view name) {
  return !q("SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = $1", name).empty();
}

int PgTransaction::schema_version() {
  if (!has_table("schema_version")) return -1;
  const Result r = q("SELECT COALESCE(MAX(version), 0) FROM schema_version");
  return static_cast<int>(r.integer(0, 0));
}

void PgTransaction::create_schema(Time at) {
  const std::string& shown = db_.shown();
  if (has_table("master_key") && !q("SELECT 1 FROM master_key").empty()) {
    throw Error(ErrorCode::conflict, "store: '" + shown + "' already holds a store");
  }
  const Result tables = q("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()");
  if (tables.integer(0, 0) != 0) {
    throw Error(ErrorCode::conflict, "store: '" + shown + "' is a database but not an empty one");
  }
  migrate(0, at);
}

void PgTransaction::migrate(int from, Time at) {
  schema_changed_ = true;
  for (const Migration& m : migrations()) {
    if (m.version <= from) continue;
    db().exec(m.sql);
    w("INSERT INTO schema_version (version, applied_at, description) VALUES ($1, $2, $3)", m.version, to_unix(at),
      m.description);
  }
}

std::optional<vault::KeyHeader> PgTransaction::key_header() {
  const Result r = q("SELECT kind, params, check_value FROM master_key WHERE id = 1");
  if (r.empty()) return std::nullopt;
  return vault::KeyHeader{r.text(0, 0), r.text(0, 1), r.bytes(0, 2)};
}

std::optional<std::vector<std::byte>> PgTransaction::key_check() {
  const Result r = q("SELECT check_value FROM master_key WHERE id = 1");
  if (r.empty()) return std::nullopt;
  return r.bytes(0, 0);
}

void PgTransaction::write_key_header(const vault::KeyHeader& h, Time at, bool rotation) {
  w(rotation ? "UPDATE master_key SET kind = $1, params = $2, check_value = $3, rotated_at = $4 WHERE id = 1"
             : "INSERT INTO master_key (id, kind, params, check_value, created_at) VALUES (1, $1, $2, $3, $4)",
    h.kind, h.params, h.check, to_unix(at));
}

store::KeyDates PgTransaction::key_dates() {
  store::KeyDates d;
  const Result r = q("SELECT created_at, rotated_at FROM master_key WHERE id = 1");
  if (!r.empty()) {
    d.created_at = from_unix(r.integer(0, 0));
    if (!r.is_null(0, 1)) d.rotated_at = from_unix(r.integer(0, 1));
  }
  return d;
}

store::RowCounts PgTransaction::counts() {
  const Result r = q(
      "SELECT (SELECT count(*) FROM organisations), (SELECT count(*) FROM mailboxes), "
      "(SELECT count(*) FROM certificates)");
  store::RowCounts c;
  c.organisations = static_cast<std::size_t>(r.integer(0, 0));
  c.mailboxes = static_cast<std::size_t>(r.integer(0, 1));
  c.certificates = static_cast<std::size_t>(r.integer(0, 2));
  return c;
}

void PgTransaction::database_problems(std::vector<std::string>& problems) {
  // PostgreSQL enforces its constraints itself and checks its pages as it reads them; what can
  // be asked cheaply is whether every constraint of the store is in force.
  const Result r = q(
      "SELECT conrelid::regclass::text, conname FROM pg_catalog.pg_constraint c "
      "JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace "
      "WHERE n.nspname = current_schema() AND NOT c.convalidated");
  for (int i = 0; i < r.rows(); ++i) problems.push_back("constraint " + r.text(i, 1) + " of " + r.text(i, 0) + " is not validated");
}

}  // namespace dpgcert::postgresql
