// Private: SQL text for the whole-table seam (store copy) that both backends share: quoted table and
// column names, and the INSERT of a batch's columns.
#pragma once

#include "store/backend.hpp"

#include <dpgcert/error.hpp>

#include <algorithm>
#include <string>
#include <string_view>

namespace dpgcert::store {

/// A table or column name as SQL: only the plain lowercase names the schema uses are accepted.
inline std::string sql_name(std::string_view name) {
  const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (!plain) throw Error(ErrorCode::invalid_argument, std::string("store copy: '").append(name).append("' is not a table name"));
  std::string out = "\"";  // appended piece by piece: GCC 12 -O3 sees a false -Wrestrict in "x" + string&&
  out.append(name);
  out += '"';
  return out;
}

/// "INSERT INTO t (a, b) VALUES (<m>1, <m>2)" for a batch's columns; `marker` is the backend's
/// numbered-parameter sign ('?' for SQLite, '$' for PostgreSQL).
inline std::string insert_sql(std::string_view table, const TableRows& rows, char marker) {
  std::string sql = "INSERT INTO ";
  sql.append(sql_name(table)).append(" (");
  std::string values;
  for (std::size_t i = 0; i < rows.columns.size(); ++i) {
    if (i > 0) sql += ", ", values += ", ";
    sql += sql_name(rows.columns[i]);
    values += marker;
    values += std::to_string(i + 1);
  }
  sql += ") VALUES (";
  sql += values;
  sql += ')';
  return sql;
}

}  // namespace dpgcert::store
