// A thin RAII layer over one SQLite connection: prepared-statement cache, typed binding and
// columns, error translation. Private to the store layer.
#pragma once

#include <dpgcert/error.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace dpgcert::sqlite {

/// Lock contention (SQLITE_BUSY / SQLITE_LOCKED): the caller rolls back and retries the whole
/// transaction. Never leaves the store layer.
struct Busy final : std::exception {
  [[nodiscard]] const char* what() const noexcept override { return "database is busy"; }
};

/// One prepared statement, borrowed from the connection's cache; reset and unbound when it goes.
class Statement final {
 public:
  explicit Statement(sqlite3_stmt* stmt, sqlite3* db) noexcept : stmt_(stmt), db_(db) {}
  Statement(Statement&& other) noexcept : stmt_(other.stmt_), db_(other.db_) { other.stmt_ = nullptr; }
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binding, 1-based as in SQLite. Returns *this for chaining.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, std::span<const std::byte> blob);
  Statement& bind(int index, const std::vector<std::byte>& blob) { return bind(index, std::span<const std::byte>(blob)); }
  Statement& bind(int index, const std::optional<std::string>& text);
  Statement& bind(int index, const std::optional<std::int64_t>& value);
  Statement& bind_null(int index);

  /// Steps once: true when a row is available, false when done.
  bool step();
  /// Steps to completion, expecting no rows.
  void run();

  [[nodiscard]] bool is_null(int column) const;
  [[nodiscard]] std::int64_t integer(int column) const;
  [[nodiscard]] std::string text(int column) const;
  /// The text of a column without copying it; valid until the next step or reset.
  [[nodiscard]] std::string_view view(int column) const;
  [[nodiscard]] std::optional<std::string> optional_text(int column) const;
  [[nodiscard]] std::optional<std::int64_t> optional_integer(int column) const;
  [[nodiscard]] std::vector<std::byte> blob(int column) const;

 private:
  sqlite3_stmt* stmt_;
  sqlite3* db_;
};

/// One connection. Not thread-safe: the store serialises access.
class Connection final {
 public:
  enum class Mode { open_existing, create };
  Connection(const std::filesystem::path& path, Mode mode);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// A cached prepared statement for `sql` (which must be one statement).
  [[nodiscard]] Statement prepare(std::string_view sql);
  /// Runs one or more statements without results (DDL, BEGIN, COMMIT, PRAGMA x=y).
  void exec(std::string_view sql);
  /// Rolls back an open transaction, ignoring errors; no-op outside one.
  void rollback_quietly() noexcept;
  [[nodiscard]] bool in_transaction() const noexcept;
  [[nodiscard]] sqlite3* handle() const noexcept { return db_; }
  /// Drops every cached statement (needed before the schema changes under them, and on close).
  void clear_cache() noexcept;

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

/// Throws Busy, or Error with a code fitting `rc` (constraint: conflict; corrupt or not a
/// database: malformed; I/O, full, cannot open, read-only: io; else internal). `what` says which
/// operation failed; SQLite's message is appended.
[[noreturn]] void throw_sqlite(sqlite3* db, int rc, std::string_view what);

}  // namespace dpgcert::sqlite
