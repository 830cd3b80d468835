// The SQLite backend's connection, transactions, lock retries, checkpoints, schema and key header,
// and its registration under the scheme "sqlite" (also what a plain path means).
#include "store/sqlite/sqlite_backend.hpp"

#include "core/file_io.hpp"

#include "store/backend_registry.hpp"
#include "store/sqlite/schema.hpp"

#include <dpgcert/error.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <system_error>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dpgcert::sqlite {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void backoff(unsigned attempt) {
  thread_local std::minstd_rand rng(static_cast<unsigned>(::getpid()) ^
                                    static_cast<unsigned>(SteadyClock::now().time_since_epoch().count()));
  const unsigned cap = 1u << std::min(attempt, 6u);  // 1 .. 64 ms
  std::uniform_int_distribution<unsigned> dist(cap * 500u, cap * 1000u);
  std::this_thread::sleep_for(std::chrono::microseconds(dist(rng)));
}

}  // namespace

/// "sqlite:PATH", "sqlite:///abs/path" (a URI without a host) or a plain path.
std::filesystem::path path_of(const store::Location& location) {
  std::string_view rest = location.rest;
  if (rest.starts_with("//")) {
    rest.remove_prefix(2);
    if (!rest.starts_with("/")) {
      throw Error(ErrorCode::invalid_argument, "store: a sqlite: location names a file (sqlite:///abs/path or "
                                               "sqlite:PATH), not a host");
    }
  }
  if (rest.empty()) throw Error(ErrorCode::invalid_argument, "store: no store path given");
  return std::filesystem::path(rest);
}

namespace {

std::unique_ptr<store::Backend> make_backend(const store::Location& location, const StoreOptions& options,
                                             bool create) {
  const std::filesystem::path path = path_of(location);
  if (create) {
    const bool created = create_database_file(path);  // first: an existing store must not cost a key file
    try {
      auto backend = std::make_unique<SqliteBackend>(path, options.sqlite, Connection::Mode::create);
      if (created) backend->set_created();
      return backend;
    } catch (...) {
      if (created) remove_database_files(path);
      throw;
    }
  }
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw Error(ErrorCode::not_found, "store: there is no store at '" + path.string() +
                                          "' (create one with `dpgcert store init`)");
  }
  return std::make_unique<SqliteBackend>(path, options.sqlite, Connection::Mode::open_existing);
}

const store::BackendRegistration registration("sqlite", &make_backend);

}  // namespace

// ---- the backend ----------------------------------------------------------------------------

SqliteBackend::SqliteBackend(std::filesystem::path path, const SqliteOptions& options, Connection::Mode mode)
    : path_(std::move(path)), options_(options), db_(std::make_unique<Connection>(path_, mode)) {
  configure();
}

int SqliteBackend::latest_schema_version() const noexcept { return sqlite::latest_schema_version(); }

void SqliteBackend::configure() {
  sqlite3_busy_timeout(db_->handle(), static_cast<int>(options_.busy_timeout.count()));
  db_->exec("PRAGMA foreign_keys = ON");
  db_->exec(options_.durable_commits ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
  // Checkpoints run on a thread of their own (see Checkpointer), never in a committing call, and
  // every ~40 MB of WAL rather than SQLite's default 4 MB: an import dirties a dozen index pages,
  // and a checkpoint writes and syncs each page once however often it changed. The hook replaces
  // SQLite's automatic checkpoint. The WAL file is cut back to 64 MB after a checkpoint.
  sqlite3_wal_hook(db_->handle(), &SqliteBackend::on_wal_commit, this);
  db_->exec("PRAGMA journal_size_limit = 67108864");
  // Read through a memory map (no read system call per page) and keep 16 MiB of pages.
  db_->exec("PRAGMA mmap_size = 268435456");
  db_->exec("PRAGMA cache_size = -16384");
  // WAL is a property of the file, set once; switching needs a moment without other connections.
  const auto deadline = SteadyClock::now() + options_.lock_deadline;
  for (unsigned attempt = 0;; ++attempt) {
    try {
      std::string mode;
      {
        auto st = db_->prepare("PRAGMA journal_mode");
        if (st.step()) mode = lowercase(st.text(0));
      }  // reset before switching: a pending statement is an open transaction
      if (mode == "wal") break;
      db_->exec("PRAGMA journal_mode = WAL");
    } catch (const Busy&) {
      if (SteadyClock::now() >= deadline) throw locked_error();
      backoff(attempt);
    }
  }
  db_->clear_cache();
}

Error SqliteBackend::locked_error() const {
  return Error(ErrorCode::io, "store: '" + path_.string() + "' stayed locked by another process for " +
                                  std::to_string(options_.lock_deadline.count() / 1000) + " s");
}

void SqliteBackend::run(bool write, store::TransactionBody body) {
  if (!db_) throw Error(ErrorCode::internal, "store: the backend was abandoned");
  const auto deadline = SteadyClock::now() + options_.lock_deadline;
  for (unsigned attempt = 0;; ++attempt) {
    SqliteTransaction tx(*db_, path_.native());
    if (write) checkpointer_.wait_for_restart();
    try {
      // BEGIN IMMEDIATE for writes: the write lock is taken up front and never needs upgrading.
      db_->prepare(write ? "BEGIN IMMEDIATE" : "BEGIN").run();
      body(tx);
      db_->prepare("COMMIT").run();
      if (tx.schema_changed()) db_->clear_cache();
      return;
    } catch (const Busy&) {
      db_->rollback_quietly();
      if (tx.schema_changed()) db_->clear_cache();
      if (SteadyClock::now() >= deadline) throw locked_error();
      backoff(attempt);
    } catch (...) {
      db_->rollback_quietly();
      if (tx.schema_changed()) db_->clear_cache();
      throw;
    }
  }
}

SqliteBackend::~SqliteBackend() {
  for (const auto& [name, fd] : run_locks_) ::close(fd);
}

bool SqliteBackend::try_lock_run(std::string_view name) {
  if (run_locks_.count(name) != 0) return true;
  const std::string file = path_.string() + "-" + std::string(name) + ".lock";
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw Error(ErrorCode::io, "store: cannot open the lock file '" + file + "': " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) return false;
    throw Error(ErrorCode::io, "store: cannot lock '" + file + "': " + std::strerror(err));
  }
  run_locks_.emplace(std::string(name), fd);
  return true;
}

void SqliteBackend::unlock_run(std::string_view name) noexcept {
  const auto it = run_locks_.find(name);
  if (it == run_locks_.end()) return;
  ::close(it->second);  // releases the flock
  run_locks_.erase(it);
}

void SqliteBackend::abandon() noexcept {
  checkpointer_.stop();
  db_.reset();
  if (created_) remove_database_files(path_);
}

int SqliteBackend::on_wal_commit(void* self, sqlite3*, const char*, int frames) {
  auto* backend = static_cast<SqliteBackend*>(self);
  if (frames >= kCheckpointFrames) backend->checkpointer_.request(backend->path_);
  return SQLITE_OK;
}

// ---- checkpoints ----------------------------------------------------------------------------

void Checkpointer::request(const std::filesystem::path& path) {
  std::lock_guard lock(mu_);
  pending_ = true;
  if (!thread_.joinable() && !stopping_) {
    try {
      thread_ = std::thread([this, path] { run(path); });
    } catch (const std::system_error&) {
      pending_ = false;  // no thread: SQLite checkpoints when the last connection closes
    }
  }
  cv_.notify_one();
}

void Checkpointer::stop() noexcept {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

namespace {

/// The checkpointer connection's busy handler: retries every 200 µs for up to 100 ms (SQLite's own
/// handler sleeps 1, 2, 5, 10 ms...: it would miss the short gaps between the writes of another
/// process, and keep this process's writers waiting at the gate longer than the RESTART takes).
int checkpoint_busy(void*, int attempts) {
  if (attempts >= 500) return 0;
  std::this_thread::sleep_for(std::chrono::microseconds(200));
  return 1;
}

}  // namespace

void Checkpointer::run(const std::filesystem::path& path) noexcept {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    sqlite3_close_v2(db);
    return;
  }
  sqlite3_busy_handler(db, &checkpoint_busy, nullptr);
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return pending_ || stopping_; });
    if (stopping_) break;
    pending_ = false;
    lock.unlock();
    // Failure (busy, I/O) is harmless: the WAL keeps the data, and the next request retries.
    // A connection learns that the database is in WAL mode, and opens the WAL, when it first
    // reads: before that a checkpoint call does nothing at all (it reports -1 frames).
    (void)sqlite3_exec(db, "SELECT 1 FROM sqlite_master LIMIT 1", nullptr, nullptr, nullptr);
    const int rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    if (rc == SQLITE_OK) {
      std::lock_guard gate(gate_);
      restarting_.store(true, std::memory_order_release);
      (void)sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr);
      restarting_.store(false, std::memory_order_release);
    }
    lock.lock();
  }
  lock.unlock();
  sqlite3_close_v2(db);
}

// ---- files ----------------------------------------------------------------------------------

bool create_database_file(const std::filesystem::path& path) {
  if (detail::try_create_file(path, {}, {.mode = 0600, .if_missing = ErrorCode::not_found, .what = "store"})) return true;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && st.st_size == 0) return false;  // an empty file: use it
  throw Error(ErrorCode::conflict, "store: '" + path.string() + "' already exists");
}

void remove_database_files(const std::filesystem::path& path) noexcept {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    ::unlink((path.string() + suffix).c_str());
  }
}

// ---- meta rows ------------------------------------------------------------------------------

bool SqliteTransaction::has_table(std::string_view name) {
  auto st = db_.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
  st.bind(1, name);
  return st.step();
}

int SqliteTransaction::schema_version() {
  if (!has_table("schema_version")) return -1;
  auto st = db_.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version");
  return st.step() ? static_cast<int>(st.integer(0)) : 0;
}

void SqliteTransaction::create_schema(Time at) {
  const std::string file(location_);
  if (has_table("master_key") && db_.prepare("SELECT 1 FROM master_key").step()) {
    throw Error(ErrorCode::conflict, "store: '" + file + "' already holds a store");
  }
  bool empty = false;
  {
    auto st = db_.prepare("SELECT count(*) FROM sqlite_master");
    empty = st.step() && st.integer(0) == 0;
  }
  if (has_table("schema_version") || !empty) {
    throw Error(ErrorCode::conflict, "store: '" + file + "' is a database but not an empty one");
  }
  migrate(0, at);
}

void SqliteTransaction::migrate(int from, Time at) {
  schema_changed_ = true;
  for (const Migration& m : migrations()) {
    if (m.version <= from) continue;
    db_.exec(m.sql);
    db_.prepare("INSERT INTO schema_version (version, applied_at, description) VALUES (?, ?, ?)")
        .bind(1, m.version)
        .bind(2, to_unix(at))
        .bind(3, m.description)
        .run();
  }
}

std::optional<vault::KeyHeader> SqliteTransaction::key_header() {
  auto st = db_.prepare("SELECT kind, params, check_value FROM master_key WHERE id = 1");
  if (!st.step()) return std::nullopt;
  return vault::KeyHeader{st.text(0), st.text(1), st.blob(2)};
}

std::optional<std::vector<std::byte>> SqliteTransaction::key_check() {
  auto st = db_.prepare("SELECT check_value FROM master_key WHERE id = 1");
  if (!st.step()) return std::nullopt;
  return st.blob(0);
}

void SqliteTransaction::write_key_header(const vault::KeyHeader& h, Time at, bool rotation) {
  db_.prepare(rotation ? "UPDATE master_key SET kind = ?1, params = ?2, check_value = ?3, rotated_at = ?4 WHERE id = 1"
                       : "INSERT INTO master_key (id, kind, params, check_value, created_at) VALUES (1, ?1, ?2, ?3, ?4)")
      .bind(1, h.kind)
      .bind(2, h.params)
      .bind(3, h.check)
      .bind(4, to_unix(at))
      .run();
}

store::KeyDates SqliteTransaction::key_dates() {
  store::KeyDates d;
  auto st = db_.prepare("SELECT created_at, rotated_at FROM master_key WHERE id = 1");
  if (st.step()) {
    d.created_at = from_unix(st.integer(0));
    if (!st.is_null(1)) d.rotated_at = from_unix(st.integer(1));
  }
  return d;
}

store::RowCounts SqliteTransaction::counts() {
  const auto count_rows = [&](std::string_view sql) {
    auto st = db_.prepare(sql);
    return st.step() ? static_cast<std::size_t>(st.integer(0)) : std::size_t{0};
  };
  store::RowCounts c;
  c.organisations = count_rows("SELECT count(*) FROM organisations");
  c.mailboxes = count_rows("SELECT count(*) FROM mailboxes");
  c.certificates = count_rows("SELECT count(*) FROM certificates");
  return c;
}

void SqliteTransaction::database_problems(std::vector<std::string>& problems) {
  {
    auto st = db_.prepare("PRAGMA integrity_check");
    while (st.step()) {
      const std::string line = st.text(0);
      if (line != "ok") problems.push_back("integrity_check: " + line);
    }
  }
  auto st = db_.prepare("PRAGMA foreign_key_check");
  while (st.step()) {
    problems.push_back("foreign_key_check: " + st.text(0) + " row " + std::to_string(st.integer(1)) +
                       " refers to a missing " + st.text(2));
  }
}

}  // namespace dpgcert::sqlite

namespace dpgcert {

std::optional<std::filesystem::path> sqlite_file_of(std::string_view location) {
  StoreOptions o;
  o.location = std::string(location);
  const store::Location parsed = store::parse_location(o);
  if (parsed.scheme != "sqlite") return std::nullopt;
  return sqlite::path_of(parsed);
}

}  // namespace dpgcert
