// Turns parts of a store back into the table layouts earlier releases wrote, for migration tests.
#pragma once

#include "store/sqlite_shim.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace dpgcert::testing {

/// The master-key header in the layout of schema versions 1-3: fixed key-file and Argon2id
/// columns, a CHECK on the kind.
inline void key_header_to_schema_3(RawSqlite& raw) {
  const auto params = nlohmann::json::parse(raw.text("SELECT params FROM master_key"));
  const std::string salt = params.contains("salt") ? "X'" + params["salt"].get<std::string>() + "'" : "NULL";
  raw.exec(
      "CREATE TABLE master_key_v1 (id INTEGER PRIMARY KEY CHECK (id = 1),"
      " kind TEXT NOT NULL CHECK (kind IN ('key_file', 'passphrase')), key_file TEXT, argon2_memory_kib INTEGER,"
      " argon2_iterations INTEGER, argon2_parallelism INTEGER, salt BLOB, check_value BLOB NOT NULL,"
      " created_at INTEGER NOT NULL, rotated_at INTEGER);"
      "INSERT INTO master_key_v1 SELECT id, kind, json_extract(params, '$.path'), json_extract(params, '$.memory_kib'),"
      " json_extract(params, '$.iterations'), json_extract(params, '$.parallelism'), " +
      salt +
      ", check_value, created_at, rotated_at FROM master_key;"
      "DROP TABLE master_key; ALTER TABLE master_key_v1 RENAME TO master_key;");
}

/// The layout of schema version 6: organisations without a language (migration 8), no token_keys
/// (migration 7).
inline void to_schema_6_layout(RawSqlite& raw) {
  raw.exec("ALTER TABLE organisations DROP COLUMN language; DROP TABLE IF EXISTS token_keys;");
}

/// The layout of schema version 4: no settings table, no audit_log.command_time (SQLite >= 3.35
/// drops a column; the append-only triggers do not name it), and what later versions added undone.
inline void to_schema_4_layout(RawSqlite& raw) {
  to_schema_6_layout(raw);
  raw.exec("DROP TABLE IF EXISTS settings; ALTER TABLE audit_log DROP COLUMN command_time;");
}

/// The key header and the sinks table in the layout of schema version 3 (CHECKs on both kinds),
/// and what version 5 added undone.
inline void to_schema_3_layout(RawSqlite& raw) {
  to_schema_4_layout(raw);
  key_header_to_schema_3(raw);
  raw.exec(
      "PRAGMA foreign_keys = OFF; PRAGMA legacy_alter_table = ON;"
      "CREATE TABLE sinks_v3 (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
      " kind TEXT NOT NULL CHECK (kind IN ('callback', 'jsonl', 'command')), settings TEXT NOT NULL DEFAULT '{}',"
      " created_at INTEGER NOT NULL, created_by TEXT NOT NULL);"
      "INSERT INTO sinks_v3 SELECT * FROM sinks; DROP TABLE sinks; ALTER TABLE sinks_v3 RENAME TO sinks;");
}

}  // namespace dpgcert::testing
