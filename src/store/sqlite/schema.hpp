// The SQLite schema of the store as a list of migrations. Private to the store layer.
#pragma once

#include <span>
#include <string_view>

namespace dpgcert::sqlite {

/// One step of the schema. Applied in order, each in the same transaction as the version row
/// that records it. Never edit a migration that has shipped: add the next one.
struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

/// Every migration, in version order (1, 2, ...).
[[nodiscard]] std::span<const Migration> migrations() noexcept;

/// The highest version in migrations().
[[nodiscard]] int latest_schema_version() noexcept;

}  // namespace dpgcert::sqlite
