// The SQLite backend's backups: SQLite's online backup API copies the database page by page into a
// new file while other connections keep working (a consistent snapshot: the copy is one read
// transaction), and back again for a restore.
#include "store/sqlite/sqlite_backend.hpp"
#include "store/sqlite/schema.hpp"

#include <dpgcert/error.hpp>

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

namespace dpgcert::sqlite {
namespace {

/// An sqlite3 handle of a file other than the store's, closed on every path.
class Handle final {
 public:
  Handle(const std::filesystem::path& path, int flags) {
    if (sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      const std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close_v2(db_);
      db_ = nullptr;
      throw Error(ErrorCode::io, "store: cannot open '" + path.string() + "': " + why);
    }
  }
  ~Handle() { sqlite3_close_v2(db_); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  [[nodiscard]] sqlite3* get() const noexcept { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

/// Copies `from` into `to` (both "main") with the backup API, in one step; a busy or locked
/// database is waited for up to `deadline`.
void copy_database(sqlite3* to, sqlite3* from, std::chrono::milliseconds deadline, const std::string& what) {
  sqlite3_backup* b = sqlite3_backup_init(to, "main", from, "main");
  if (b == nullptr) throw Error(ErrorCode::io, "store: cannot " + what + ": " + sqlite3_errmsg(to));
  const auto until = std::chrono::steady_clock::now() + deadline;
  int rc = SQLITE_OK;
  do {
    rc = sqlite3_backup_step(b, -1);  // every page at once: one consistent read of the source
    if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    } else if (rc != SQLITE_OK) {
      break;
    }
  } while (rc != SQLITE_DONE);
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) {
    throw Error(ErrorCode::io, "store: cannot " + what + ": " + sqlite3_errstr(rc));
  }
}

/// The schema version of a store file, -1 when it holds no dpgcert store.
int schema_version_of(sqlite3* db) {
  sqlite3_stmt* st = nullptr;
  int version = -1;
  if (sqlite3_prepare_v2(db,
                         "SELECT (SELECT MAX(version) FROM schema_version) WHERE EXISTS (SELECT 1 FROM master_key)", -1,
                         &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
    version = sqlite3_column_int(st, 0);
  }
  sqlite3_finalize(st);
  return version;
}

}  // namespace

void SqliteBackend::backup_to(const std::filesystem::path& file) {
  if (!db_) throw Error(ErrorCode::internal, "store: the backend was abandoned");
  std::error_code ec;
  if (std::filesystem::exists(file, ec)) {
    throw Error(ErrorCode::conflict, "store: '" + file.string() + "' exists; a backup never overwrites a file");
  }
  (void)create_database_file(file);  // mode 0600, exclusively; SQLite gives -wal and -shm the same
  try {
    Handle out(file, SQLITE_OPEN_READWRITE);
    copy_database(out.get(), db_->handle(), options_.lock_deadline, "back up '" + path_.string() + "'");
    // The copy's pages are written; make them durable before saying so.
    if (sqlite3_exec(out.get(), "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr) != SQLITE_OK) {
      throw Error(ErrorCode::io, "store: cannot finish the backup '" + file.string() + "': " + sqlite3_errmsg(out.get()));
    }
  } catch (...) {
    remove_database_files(file);
    throw;
  }
}

void SqliteBackend::restore_from(const std::filesystem::path& file) {
  if (!db_) throw Error(ErrorCode::internal, "store: the backend was abandoned");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    throw Error(ErrorCode::not_found, "store: there is no backup at '" + file.string() + "'");
  }
  Handle in(file, SQLITE_OPEN_READONLY);
  const int version = schema_version_of(in.get());
  if (version < 0) throw Error(ErrorCode::malformed, "store: '" + file.string() + "' is not a dpgcert store");
  if (version > latest_schema_version()) {
    throw Error(ErrorCode::unsupported, "store: the backup '" + file.string() + "' has schema version " +
                                            std::to_string(version) + ", newer than this dpgcert knows");
  }
  copy_database(db_->handle(), in.get(), options_.lock_deadline, "restore '" + file.string() + "'");
  db_->clear_cache();  // the schema may differ (an older backup): prepared statements go
}

}  // namespace dpgcert::sqlite
