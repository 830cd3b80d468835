// The PostgreSQL backend's schema, migration by migration (a schema_version table as in SQLite).
// Private to the store layer.
#pragma once

#include <span>
#include <string_view>

namespace dpgcert::postgresql {

struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

/// The migrations in order. A PostgreSQL store starts at version 4, the SQLite schema version the
/// backend arrived with (the same tables; 1 to 3 never existed here); later versions of both
/// backends carry the same numbers, so a version names one model whatever the backend.
[[nodiscard]] std::span<const Migration> migrations() noexcept;
[[nodiscard]] int latest_schema_version() noexcept;

}  // namespace dpgcert::postgresql
