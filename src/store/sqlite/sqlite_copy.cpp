// Whole tables of an SQLite store, for copying it to another backend (Store::copy_to): rows are
// read and written column by column as SQLite holds them, ids included.
#include "store/sqlite/sqlite_backend.hpp"
#include "store/table_sql.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <utility>

namespace dpgcert::sqlite {
namespace {

/// An uncached statement (table names vary), finalised when it goes.
class OwnStatement final {
 public:
  OwnStatement(sqlite3* db, const std::string& sql) : db_(db) {
    const int rc = sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr);
    if (rc != SQLITE_OK) throw_sqlite(db, rc, "copy: prepare");
  }
  ~OwnStatement() { sqlite3_finalize(stmt_); }
  OwnStatement(const OwnStatement&) = delete;
  OwnStatement& operator=(const OwnStatement&) = delete;
  [[nodiscard]] sqlite3_stmt* get() const noexcept { return stmt_; }
  /// Steps once: true when a row is available.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw_sqlite(db_, rc, "copy: step");
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};


store::Cell cell_of(sqlite3_stmt* st, int column) {
  switch (sqlite3_column_type(st, column)) {
    case SQLITE_NULL: return std::monostate{};
    case SQLITE_INTEGER: return static_cast<std::int64_t>(sqlite3_column_int64(st, column));
    case SQLITE_TEXT: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, column));
      return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st, column)));
    }
    case SQLITE_BLOB: {
      const auto* p = static_cast<const std::byte*>(sqlite3_column_blob(st, column));
      return std::vector<std::byte>(p, p + sqlite3_column_bytes(st, column));
    }
    default: throw Error(ErrorCode::malformed, "store copy: a column holds a floating-point value");
  }
}

}  // namespace

std::vector<std::string> SqliteTransaction::table_names() {
  std::vector<std::string> names;
  auto st = db_.prepare(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
      "AND name <> 'schema_version' ORDER BY name");
  while (st.step()) names.push_back(st.text(0));
  return names;
}

void SqliteTransaction::read_table(std::string_view table, std::size_t batch,
                                   const std::function<void(const store::TableRows&)>& f) {
  const std::string name = store::sql_name(table);
  // Primary-key columns in key order (PRAGMA table_info numbers them from 1).
  std::vector<std::pair<int, std::string>> key;
  {
    OwnStatement info(db_.handle(), "PRAGMA table_info(" + name + ")");
    while (info.step()) {
      if (const int pk = sqlite3_column_int(info.get(), 5); pk > 0) {
        key.emplace_back(pk, reinterpret_cast<const char*>(sqlite3_column_text(info.get(), 1)));
      }
    }
  }
  std::sort(key.begin(), key.end());
  std::string sql = "SELECT * FROM " + name;
  for (std::size_t i = 0; i < key.size(); ++i) {
    sql += i == 0 ? " ORDER BY " : ", ";
    sql += store::sql_name(key[i].second);
  }
  OwnStatement st(db_.handle(), sql);
  store::TableRows rows;
  const int columns = sqlite3_column_count(st.get());
  for (int c = 0; c < columns; ++c) rows.columns.emplace_back(sqlite3_column_name(st.get(), c));
  batch = std::max<std::size_t>(batch, 1);
  rows.rows.reserve(batch);
  while (st.step()) {
    auto& row = rows.rows.emplace_back();
    row.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) row.push_back(cell_of(st.get(), c));
    if (rows.rows.size() == batch) {
      f(rows);
      rows.rows.clear();
    }
  }
  if (!rows.rows.empty()) f(rows);
}

void SqliteTransaction::begin_copy() { db_.exec("PRAGMA defer_foreign_keys = ON"); }

void SqliteTransaction::write_rows(std::string_view table, const store::TableRows& rows) {
  if (rows.rows.empty()) return;
  const std::string sql = store::insert_sql(table, rows, '?');
  for (const auto& row : rows.rows) {
    auto st = db_.prepare(sql);  // cached; reset and unbound again when it goes
    if (row.size() != rows.columns.size()) throw Error(ErrorCode::internal, "store copy: a row's width differs");
    for (std::size_t i = 0; i < row.size(); ++i) {
      const int at = static_cast<int>(i + 1);
      if (const auto* v = std::get_if<std::int64_t>(&row[i])) {
        st.bind(at, *v);
      } else if (const auto* t = std::get_if<std::string>(&row[i])) {
        st.bind(at, std::string_view(*t));
      } else if (const auto* b = std::get_if<std::vector<std::byte>>(&row[i])) {
        st.bind(at, std::span<const std::byte>(*b));
      } else {
        st.bind_null(at);
      }
    }
    st.run();
  }
}

void SqliteTransaction::end_copy() {}

}  // namespace dpgcert::sqlite
