// Whole tables of a PostgreSQL store, for copying it to or from another backend (Store::copy_to):
// rows read through a cursor in primary-key order and written as they are, ids included; the
// foreign keys are DEFERRABLE so a copy checks them at its commit.
#include "store/postgresql/pg_backend.hpp"
#include "store/table_sql.hpp"

#include <algorithm>

namespace dpgcert::postgresql {
namespace {

// pg_type OIDs of the column types the schema uses.
constexpr unsigned kBool = 16;
constexpr unsigned kBytea = 17;
constexpr unsigned kInt8 = 20;
constexpr unsigned kInt2 = 21;
constexpr unsigned kInt4 = 23;


store::Cell cell_of(const Result& r, int row, int column) {
  if (r.is_null(row, column)) return std::monostate{};
  switch (r.column_type(column)) {
    case kInt8:
    case kInt4:
    case kInt2: return r.integer(row, column);
    case kBool: return std::int64_t{r.view(row, column) == "t" ? 1 : 0};
    case kBytea: return r.bytes(row, column);
    default: return r.text(row, column);
  }
}

/// The identity columns and sequences the schema's generated ids come from.
struct IdSource {
  std::string_view table;
  std::string_view column;
  std::string_view sequence;  ///< Empty: the column's own identity sequence.
};
constexpr IdSource kIdSources[] = {
    {"organisations", "id", ""}, {"contacts", "id", ""},  {"mailboxes", "id", ""},
    {"certificates", "id", "certificates_id_seq"},         {"audit_log", "id", ""},
    {"renewal_policies", "id", ""}, {"events", "seq", ""}, {"sinks", "id", ""}};

}  // namespace

std::vector<std::string> PgTransaction::table_names() {
  const Result r = q(
      "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename <> "
      "'schema_version' ORDER BY tablename");
  std::vector<std::string> names;
  for (int i = 0; i < r.rows(); ++i) names.push_back(r.text(i, 0));
  return names;
}

void PgTransaction::read_table(std::string_view table, std::size_t batch,
                               const std::function<void(const store::TableRows&)>& f) {
  const std::string name = store::sql_name(table);
  // The primary key's columns in key order, for a stable order whatever the physical layout.
  const Result key = q(
      "SELECT a.attname FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid "
      "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass($1) AND i.indisprimary "
      "ORDER BY array_position(i.indkey::int2[], a.attnum)",
      std::string(table));
  std::string sql = "DECLARE dpgcert_copy NO SCROLL CURSOR FOR SELECT * FROM " + name;
  for (int i = 0; i < key.rows(); ++i) {
    sql += i == 0 ? " ORDER BY " : ", ";
    sql += store::sql_name(key.text(i, 0));
  }
  Connection& c = db();
  c.exec(sql);
  batch = std::clamp<std::size_t>(batch, 1, 100000);
  std::string fetch = "FETCH FORWARD ";
  fetch.append(std::to_string(batch)).append(" FROM dpgcert_copy");
  store::TableRows rows;
  for (;;) {
    const Result r = c.exec(fetch);
    if (rows.columns.empty()) {
      for (int col = 0; col < r.columns(); ++col) rows.columns.push_back(r.column_name(col));
    }
    if (r.empty()) break;
    rows.rows.clear();
    for (int i = 0; i < r.rows(); ++i) {
      auto& row = rows.rows.emplace_back();
      row.reserve(static_cast<std::size_t>(r.columns()));
      for (int col = 0; col < r.columns(); ++col) row.push_back(cell_of(r, i, col));
    }
    f(rows);
  }
  c.exec("CLOSE dpgcert_copy");
}

void PgTransaction::begin_copy() { db().exec("SET CONSTRAINTS ALL DEFERRED"); }

void PgTransaction::write_rows(std::string_view table, const store::TableRows& rows) {
  if (rows.rows.empty()) return;
  const std::string sql = store::insert_sql(table, rows, '$');
  for (const auto& row : rows.rows) {
    if (row.size() != rows.columns.size()) throw Error(ErrorCode::internal, "store copy: a row's width differs");
    Params p;
    for (const store::Cell& cell : row) {
      if (const auto* v = std::get_if<std::int64_t>(&cell)) {
        p.add(*v);
      } else if (const auto* t = std::get_if<std::string>(&cell)) {
        p.add(std::string_view(*t));
      } else if (const auto* b = std::get_if<std::vector<std::byte>>(&cell)) {
        p.add(std::span<const std::byte>(*b));
      } else {
        p.add_null();
      }
    }
    (void)db().query(sql, p);
  }
}

void PgTransaction::end_copy() {
  for (const IdSource& s : kIdSources) {
    const std::string table = store::sql_name(s.table);
    const std::string column = store::sql_name(s.column);
    std::string sequence;
    if (s.sequence.empty()) {
      sequence.append("pg_get_serial_sequence('").append(s.table).append("', '").append(s.column).append("')");
    } else {
      sequence.append("'").append(s.sequence).append("'");
    }
    // The next id is one past the largest copied (setval with is_called = false for an empty table).
    std::string sql = "SELECT setval(";
    sql.append(sequence).append(", COALESCE((SELECT max(").append(column).append(") FROM ").append(table);
    sql.append("), 0) + 1, false)");
    db().exec(sql);
  }
  notify_reload();  // a whole store arrived: whoever listens here reads it all
}

}  // namespace dpgcert::postgresql
