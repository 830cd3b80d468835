// Test-only raw access to a store's SQLite file, for what the Store API rightly does not offer:
// tampering (swapped ciphertexts), downgrading the schema, reading raw columns, bulk-filling a
// million rows for a benchmark. libsqlite3 is already loaded as a dependency of libdpgcert; the
// few functions needed are looked up with dlsym, so the test and benchmark targets need no
// extra link dependency.
#pragma once

#include <sqlite3.h>

#include <dlfcn.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace dpgcert::testing {

class RawSqlite {
 public:
  /// Opens an existing database (`create`: or makes a new one).
  explicit RawSqlite(const std::string& path, bool create = false) {
    lib_ = ::dlopen("libsqlite3.so.0", RTLD_NOW | RTLD_NOLOAD);
    if (lib_ == nullptr) lib_ = ::dlopen("libsqlite3.so.0", RTLD_NOW);
    if (lib_ == nullptr) throw std::runtime_error("raw sqlite: cannot load libsqlite3.so.0");
    load(open_, "sqlite3_open_v2");
    load(close_, "sqlite3_close_v2");
    load(exec_, "sqlite3_exec");
    load(free_, "sqlite3_free");
    load(errmsg_, "sqlite3_errmsg");
    load(prepare_, "sqlite3_prepare_v2");
    load(step_, "sqlite3_step");
    load(finalize_, "sqlite3_finalize");
    load(column_count_, "sqlite3_column_count");
    load(column_blob_, "sqlite3_column_blob");
    load(column_bytes_, "sqlite3_column_bytes");
    load(bind_blob_, "sqlite3_bind_blob");
    load(bind_int64_, "sqlite3_bind_int64");
    load(bind_text_, "sqlite3_bind_text");
    load(busy_timeout_, "sqlite3_busy_timeout");
    load(reset_, "sqlite3_reset");
    load(column_int64_, "sqlite3_column_int64");
    if (open_(path.c_str(), &db_, SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0), nullptr) != SQLITE_OK) {
      throw std::runtime_error("raw sqlite: cannot open " + path);
    }
    busy_timeout_(db_, 10000);
  }
  ~RawSqlite() {
    if (db_ != nullptr) close_(db_);
    if (lib_ != nullptr) ::dlclose(lib_);
  }
  RawSqlite(const RawSqlite&) = delete;
  RawSqlite& operator=(const RawSqlite&) = delete;

  /// Runs statements; throws with SQLite's message on failure.
  void exec(const std::string& sql) {
    char* err = nullptr;
    if (exec_(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err != nullptr ? err : "?";
      free_(err);
      throw std::runtime_error("raw sqlite: " + msg);
    }
  }

  /// Whether the statements fail (e.g. a trigger refusing them).
  bool fails(const std::string& sql) {
    char* err = nullptr;
    const bool failed = exec_(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK;
    free_(err);
    return failed;
  }

  using Row = std::vector<std::vector<std::byte>>;
  /// Every row of a query, each column as bytes (text without its terminator).
  std::vector<Row> rows(const std::string& sql) {
    sqlite3_stmt* st = prepare(sql);
    std::vector<Row> out;
    int rc;
    while ((rc = step_(st)) == SQLITE_ROW) {
      Row row;
      for (int i = 0; i < column_count_(st); ++i) {
        const auto* p = static_cast<const std::byte*>(column_blob_(st, i));
        const int n = column_bytes_(st, i);
        row.emplace_back(p, p + (p != nullptr ? n : 0));
      }
      out.push_back(std::move(row));
    }
    finalize_(st);
    if (rc != SQLITE_DONE) throw std::runtime_error("raw sqlite: step failed in " + sql);
    return out;
  }

  /// The first column of the first row as text ("" when none).
  std::string text(const std::string& sql) {
    const auto r = rows(sql);
    if (r.empty() || r[0].empty()) return {};
    return std::string(reinterpret_cast<const char*>(r[0][0].data()), r[0][0].size());
  }

  /// A prepared statement for repeated use (bind, step, reset); finalized on destruction.
  class Statement {
   public:
    Statement(RawSqlite& db, const std::string& sql) : db_(db), st_(db.prepare(sql)) {}
    ~Statement() { db_.finalize_(st_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    void bind(int i, long long v) { db_.bind_int64_(st_, i, v); }
    void bind(int i, const std::string& v) { db_.bind_text_(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
    void bind(int i, const void* data, std::size_t n) { db_.bind_blob_(st_, i, data, static_cast<int>(n), SQLITE_TRANSIENT); }
    /// Steps once; true for a row. Throws on errors.
    bool step() {
      const int rc = db_.step_(st_);
      if (rc == SQLITE_ROW) return true;
      if (rc == SQLITE_DONE) return false;
      throw std::runtime_error(std::string("raw sqlite: ") + db_.errmsg_(db_.db_));
    }
    void reset() { db_.reset_(st_); }
    [[nodiscard]] long long integer(int i) const { return db_.column_int64_(st_, i); }
    [[nodiscard]] std::string text(int i) const {
      const auto* p = static_cast<const char*>(db_.column_blob_(st_, i));
      return p != nullptr ? std::string(p, static_cast<std::size_t>(db_.column_bytes_(st_, i))) : std::string();
    }

   private:
    RawSqlite& db_;
    sqlite3_stmt* st_;
  };

  /// Sets one blob column of one row.
  void set_blob(const std::string& table, const std::string& column, const std::string& key_column,
                long long key, const std::vector<std::byte>& value) {
    sqlite3_stmt* st = prepare("UPDATE " + table + " SET " + column + " = ? WHERE " + key_column + " = ?");
    bind_blob_(st, 1, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    bind_int64_(st, 2, key);
    const int rc = step_(st);
    finalize_(st);
    if (rc != SQLITE_DONE) throw std::runtime_error("raw sqlite: update failed");
  }

 private:
  template <class F>
  void load(F& fn, const char* name) {
    fn = reinterpret_cast<F>(::dlsym(lib_, name));
    if (fn == nullptr) throw std::runtime_error(std::string("raw sqlite: no symbol ") + name);
  }

  sqlite3_stmt* prepare(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (prepare_(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("raw sqlite: ") + errmsg_(db_) + " in " + sql);
    }
    return st;
  }

  void* lib_ = nullptr;
  sqlite3* db_ = nullptr;
  decltype(&sqlite3_open_v2) open_ = nullptr;
  decltype(&sqlite3_close_v2) close_ = nullptr;
  decltype(&sqlite3_exec) exec_ = nullptr;
  decltype(&sqlite3_free) free_ = nullptr;
  decltype(&sqlite3_errmsg) errmsg_ = nullptr;
  decltype(&sqlite3_prepare_v2) prepare_ = nullptr;
  decltype(&sqlite3_step) step_ = nullptr;
  decltype(&sqlite3_finalize) finalize_ = nullptr;
  decltype(&sqlite3_column_count) column_count_ = nullptr;
  decltype(&sqlite3_column_blob) column_blob_ = nullptr;
  decltype(&sqlite3_column_bytes) column_bytes_ = nullptr;
  decltype(&sqlite3_bind_blob) bind_blob_ = nullptr;
  decltype(&sqlite3_bind_int64) bind_int64_ = nullptr;
  decltype(&sqlite3_bind_text) bind_text_ = nullptr;
  decltype(&sqlite3_busy_timeout) busy_timeout_ = nullptr;
  decltype(&sqlite3_reset) reset_ = nullptr;
  decltype(&sqlite3_column_int64) column_int64_ = nullptr;
};

}  // namespace dpgcert::testing
