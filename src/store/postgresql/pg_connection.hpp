// A thin RAII layer over one libpq connection: owners for PGconn and PGresult, statements
// prepared once per connection, parameters bound by type (bytea in binary), typed columns, error
// translation by SQLSTATE, and the redaction of passwords from locations. Private to the store
// layer; no libpq type leaves src/store/postgresql/.
#pragma once

#include <dpgcert/error.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct pg_conn;
struct pg_result;

namespace dpgcert::postgresql {

/// A serialisation failure or a deadlock (SQLSTATE 40001, 40P01): the transaction was rolled back
/// and the whole body may run again. Never leaves the store layer.
struct Retry final : std::exception {
  [[nodiscard]] const char* what() const noexcept override { return "serialisation failure"; }
};

/// The connection broke (the server restarted, the network went): whatever the open transaction
/// did is rolled back by the server. Never leaves the store layer.
struct ConnectionLost final : std::exception {
  explicit ConnectionLost(std::string message) : message_(std::move(message)) {}
  [[nodiscard]] const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

struct ConnDeleter {
  void operator()(pg_conn* conn) const noexcept;
};
struct ResultDeleter {
  void operator()(pg_result* result) const noexcept;
};
using ConnPtr = std::unique_ptr<pg_conn, ConnDeleter>;
using ResultPtr = std::unique_ptr<pg_result, ResultDeleter>;

/// A text[] parameter in text form: {"a","b"}, each element quoted with '"' and '\\' escaped.
[[nodiscard]] std::string text_array(std::span<const std::string> items);

/// The parameters of one statement, $1 first: text in text format, bytes (bytea) in binary.
class Params final {
 public:
  Params& add(std::int64_t value);
  Params& add(int value) { return add(static_cast<std::int64_t>(value)); }
  Params& add(std::string_view text);
  Params& add(const char* text) { return add(std::string_view(text)); }
  Params& add(const std::string& text) { return add(std::string_view(text)); }
  Params& add(std::span<const std::byte> bytes);
  Params& add(const std::vector<std::byte>& bytes) { return add(std::span<const std::byte>(bytes)); }
  Params& add(const std::optional<std::string>& text) { return text ? add(std::string_view(*text)) : add_null(); }
  Params& add(const std::optional<std::int64_t>& value) { return value ? add(*value) : add_null(); }
  Params& add(std::nullopt_t) { return add_null(); }
  Params& add_null();

  [[nodiscard]] int size() const noexcept { return static_cast<int>(formats_.size()); }
  /// Pointers into the stored values (valid while this object lives and is not changed).
  void pointers(std::vector<const char*>& values) const;
  [[nodiscard]] const int* lengths() const noexcept { return lengths_.data(); }
  [[nodiscard]] const int* formats() const noexcept { return formats_.data(); }

 private:
  std::vector<std::string> values_;
  std::vector<bool> null_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

/// The rows of one statement (text format). Columns are 0-based, rows too.
class Result final {
 public:
  explicit Result(ResultPtr result);

  [[nodiscard]] int rows() const noexcept { return rows_; }
  [[nodiscard]] bool empty() const noexcept { return rows_ == 0; }
  /// How many rows an INSERT, UPDATE or DELETE changed.
  [[nodiscard]] std::int64_t affected() const;

  [[nodiscard]] bool is_null(int row, int column) const;
  [[nodiscard]] std::int64_t integer(int row, int column) const;
  [[nodiscard]] std::string text(int row, int column) const;
  /// The text of a cell without copying it (valid while this Result lives).
  [[nodiscard]] std::string_view view(int row, int column) const;
  [[nodiscard]] std::optional<std::string> optional_text(int row, int column) const;
  [[nodiscard]] std::optional<std::int64_t> optional_integer(int row, int column) const;
  /// A bytea cell (hex output format).
  [[nodiscard]] std::vector<std::byte> bytes(int row, int column) const;
  /// How many columns; a column's name and type (the pg_type OID).
  [[nodiscard]] int columns() const noexcept;
  [[nodiscard]] std::string column_name(int column) const;
  [[nodiscard]] unsigned column_type(int column) const noexcept;

 private:
  ResultPtr result_;
  int rows_ = 0;
};

/// One connection. Not thread-safe: the store serialises access.
class Connection final {
 public:
  /// Connects with `conninfo` (a URI or keyword string; libpq reads PGHOST, PGPASSFILE, service
  /// files, sslmode). `shown` is the location without its password, for messages.
  /// Error(io) when the server cannot be reached, with libpq's reason.
  Connection(std::string conninfo, std::string shown);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  /// Runs one statement with parameters (prepared once per connection and cached). Statements
  /// queued by send() go to the server with it, in the same round trip.
  Result query(std::string_view sql, const Params& params = {});
  /// As query(), unprepared: planned for these values and the tables' current size (for lookups
  /// whose best plan changes as a new store fills: a plan cached when a table was empty would
  /// scan it whole for ever after).
  Result query_fresh(std::string_view sql, const Params& params = {});
  template <class... A>
  Result query_fresh_with(std::string_view sql, const A&... args) {
    Params p;
    (p.add(args), ...);
    return query_fresh(sql, p);
  }
  /// Queues a statement whose rows are not needed (INSERT, UPDATE, DELETE, a NOTIFY) in libpq's
  /// pipeline: it reaches the server with the next statement that needs an answer (query(),
  /// exec(), sync()), so a transaction's writes cost one round trip, not one each. Its error, if
  /// any, is thrown there, and the transaction is aborted as it would have been at once.
  void send(std::string_view sql, const Params& params = {});
  template <class... A>
  void send_with(std::string_view sql, const A&... args) {
    Params p;
    (p.add(args), ...);
    send(sql, p);
  }
  /// Queues one statement without parameters, unprepared (BEGIN).
  void send_simple(std::string_view sql);
  /// Sends what send() queued and waits for it; throws the first error among it.
  void sync();
  /// Whether statements are queued.
  [[nodiscard]] bool queued() const noexcept { return pipeline_; }
  template <class... A>
  Result query_with(std::string_view sql, const A&... args) {
    Params p;
    (p.add(args), ...);
    return query(sql, p);
  }
  /// Runs one or more statements without parameters, unprepared (DDL, BEGIN, COMMIT; DECLARE
  /// and FETCH of a cursor, which cannot be prepared); the last statement's rows. A single
  /// statement goes with the queued ones.
  Result exec(std::string_view sql);
  /// Rolls back an open transaction, ignoring errors.
  void rollback_quietly() noexcept;
  /// Whether the connection is usable; reconnect() otherwise.
  [[nodiscard]] bool ok() const noexcept;
  /// Connects again (the statement cache goes). Throws ConnectionLost when the server stays away.
  void reconnect();
  /// Drops the prepared statements (after a schema change).
  void clear_cache();
  /// LISTEN/NOTIFY: reads what the socket has, then the next notification, if any.
  [[nodiscard]] std::optional<std::pair<std::string, std::string>> next_notification();
  /// The socket, for poll(); -1 when not connected.
  [[nodiscard]] int socket() const noexcept;
  [[nodiscard]] pg_conn* handle() const noexcept { return conn_.get(); }
  [[nodiscard]] const std::string& shown() const noexcept { return shown_; }

 private:
  void connect();
  void enter_pipeline();
  /// Queues a statement: prepared (cached) when `prepared`, else unnamed.
  void queue(std::string_view sql, const Params& params, bool prepared);
  /// Sends the queue with a sync point, reads every result; the last statement's rows.
  Result drain();

  std::string conninfo_;
  std::string shown_;
  ConnPtr conn_;
  std::unordered_map<std::string, std::string> cache_;  ///< SQL -> prepared statement name.
  /// Queued statements at most before they are sent and their results read.
  static constexpr std::size_t kMaxQueued = 64;
  unsigned next_name_ = 0;
  bool pipeline_ = false;
  std::vector<std::string> queued_;       ///< What each queued statement is (for messages).
  std::vector<std::string> new_names_;    ///< Statements prepared in the queue (forgotten on error).
};

/// Throws Retry, ConnectionLost or Error with a code fitting the SQLSTATE of `result` (or of the
/// connection when there is no result): unique, foreign key, check and trigger violations:
/// conflict; privileges, resources, files: io; limits: limit_exceeded; data exceptions: malformed;
/// else internal. `what` says which operation failed.
[[noreturn]] void throw_pg(pg_conn* conn, const pg_result* result, std::string_view what);

/// A PostgreSQL location as it may be shown (dpgcert::display_location); never throws.
[[nodiscard]] std::string redact_location(std::string_view location) noexcept;

/// `message` with every occurrence of `secret` (when not empty) replaced by "***".
[[nodiscard]] std::string scrub(std::string message, std::string_view secret);

}  // namespace dpgcert::postgresql
