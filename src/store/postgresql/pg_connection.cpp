#include "store/postgresql/pg_connection.hpp"

#include <dpgcert/store.hpp>

#include <libpq-fe.h>

#include <charconv>
#include <cstring>

namespace dpgcert::postgresql {

void ConnDeleter::operator()(pg_conn* conn) const noexcept { PQfinish(conn); }
void ResultDeleter::operator()(pg_result* result) const noexcept { PQclear(result); }

// ---- errors ---------------------------------------------------------------------------------

namespace {

bool starts(std::string_view s, std::string_view prefix) noexcept { return s.substr(0, prefix.size()) == prefix; }

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

void throw_pg(pg_conn* conn, const pg_result* result, std::string_view what) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string_view sqlstate = state != nullptr ? state : "";
  std::string detail = trimmed(result != nullptr && *PQresultErrorMessage(result) != '\0' ? PQresultErrorMessage(result)
                                                                                        : PQerrorMessage(conn));
  if (sqlstate == "40001" || sqlstate == "40P01") throw Retry{};
  if ((conn != nullptr && PQstatus(conn) == CONNECTION_BAD) || starts(sqlstate, "08") || sqlstate == "57P01" ||
      sqlstate == "57P02" || sqlstate == "57P03") {
    throw ConnectionLost(detail);
  }
  std::string msg = "store: ";
  msg += what;
  msg += ": ";
  msg += detail;
  if (starts(sqlstate, "23") || sqlstate == "P0001") throw Error(ErrorCode::conflict, msg);
  if (starts(sqlstate, "42501") || starts(sqlstate, "53") || starts(sqlstate, "58") || starts(sqlstate, "28")) {
    throw Error(ErrorCode::io, msg);
  }
  if (starts(sqlstate, "54")) throw Error(ErrorCode::limit_exceeded, msg);
  if (starts(sqlstate, "22")) throw Error(ErrorCode::malformed, msg);
  throw Error(ErrorCode::internal, msg);
}

std::string scrub(std::string message, std::string_view secret) {
  if (secret.empty()) return message;
  for (std::size_t at = message.find(secret); at != std::string::npos; at = message.find(secret, at + 3)) {
    message.replace(at, secret.size(), "***");
  }
  return message;
}

std::string redact_location(std::string_view location) noexcept {
  try {
    return display_location(location);
  } catch (...) {
    return "postgresql:(location hidden)";
  }
}

// ---- Params ---------------------------------------------------------------------------------

Params& Params::add(std::int64_t value) {
  values_.push_back(std::to_string(value));
  null_.push_back(false);
  lengths_.push_back(0);
  formats_.push_back(0);
  return *this;
}

Params& Params::add(std::string_view text) {
  values_.emplace_back(text);
  null_.push_back(false);
  lengths_.push_back(static_cast<int>(text.size()));
  formats_.push_back(0);
  return *this;
}

Params& Params::add(std::span<const std::byte> bytes) {
  values_.emplace_back(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  null_.push_back(false);
  lengths_.push_back(static_cast<int>(bytes.size()));
  formats_.push_back(1);
  return *this;
}

Params& Params::add_null() {
  values_.emplace_back();
  null_.push_back(true);
  lengths_.push_back(0);
  formats_.push_back(0);
  return *this;
}

void Params::pointers(std::vector<const char*>& values) const {
  values.resize(values_.size());
  for (std::size_t i = 0; i < values_.size(); ++i) values[i] = null_[i] ? nullptr : values_[i].data();
}

std::string text_array(std::span<const std::string> items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

// ---- Result ---------------------------------------------------------------------------------

Result::Result(ResultPtr result) : result_(std::move(result)), rows_(result_ ? PQntuples(result_.get()) : 0) {}

std::int64_t Result::affected() const {
  const char* n = PQcmdTuples(result_.get());
  std::int64_t v = 0;
  if (n != nullptr) std::from_chars(n, n + std::strlen(n), v);
  return v;
}

int Result::columns() const noexcept { return result_ ? PQnfields(result_.get()) : 0; }

std::string Result::column_name(int column) const {
  const char* n = PQfname(result_.get(), column);
  return n != nullptr ? n : "";
}

unsigned Result::column_type(int column) const noexcept { return PQftype(result_.get(), column); }

bool Result::is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }

std::string_view Result::view(int row, int column) const {
  const char* p = PQgetvalue(result_.get(), row, column);
  return std::string_view(p, static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

std::int64_t Result::integer(int row, int column) const {
  const std::string_view v = view(row, column);
  std::int64_t out = 0;
  if (v.empty()) return 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc{} || end != v.data() + v.size()) {
    throw Error(ErrorCode::malformed, "store: a column expected to hold an integer holds '" + std::string(v.substr(0, 40)) + "'");
  }
  return out;
}

std::string Result::text(int row, int column) const { return std::string(view(row, column)); }

std::optional<std::string> Result::optional_text(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return text(row, column);
}

std::optional<std::int64_t> Result::optional_integer(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return integer(row, column);
}

std::vector<std::byte> Result::bytes(int row, int column) const {
  const std::string_view v = view(row, column);
  if (!starts(v, "\\x") || v.size() % 2 != 0) {
    throw Error(ErrorCode::malformed, "store: a bytea column is not in hex output format");
  }
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::vector<std::byte> out((v.size() - 2) / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(v[2 + 2 * i]);
    const int lo = nibble(v[3 + 2 * i]);
    if (hi < 0 || lo < 0) throw Error(ErrorCode::malformed, "store: a bytea column holds a character that is not hex");
    out[i] = static_cast<std::byte>(hi * 16 + lo);
  }
  return out;
}

// ---- Connection -----------------------------------------------------------------------------

Connection::Connection(std::string conninfo, std::string shown) : conninfo_(std::move(conninfo)), shown_(std::move(shown)) {
  connect();
}

Connection::~Connection() = default;

void Connection::connect() {
  cache_.clear();
  pipeline_ = false;
  queued_.clear();
  new_names_.clear();
  conn_.reset(PQconnectdb(conninfo_.c_str()));
  if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
    std::string why = conn_ ? trimmed(PQerrorMessage(conn_.get())) : std::string("out of memory");
    // libpq does not print passwords, but a message quoting the connection string could.
    char* err = nullptr;
    if (PQconninfoOption* options = PQconninfoParse(conninfo_.c_str(), &err)) {
      for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
        if (std::strcmp(o->keyword, "password") == 0 && o->val != nullptr) why = scrub(why, o->val);
      }
      PQconninfoFree(options);
    }
    PQfreemem(err);
    conn_.reset();
    const ErrorCode code = why.find("does not exist") != std::string::npos ? ErrorCode::not_found : ErrorCode::io;
    throw Error(code, "store: cannot connect to '" + shown_ + "': " + why);
  }
  // Quiet: NOTICEs (e.g. "relation already exists, skipping") are not for the caller's stderr.
  PQsetNoticeProcessor(conn_.get(), [](void*, const char*) {}, nullptr);
}

bool Connection::ok() const noexcept { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }

void Connection::reconnect() {
  try {
    connect();
  } catch (const Error& e) {
    throw ConnectionLost(e.what());
  }
}

void Connection::clear_cache() {
  if (ok()) {
    for (const auto& [sql, name] : cache_) {
      const std::string drop = "DEALLOCATE " + name;
      ResultPtr r(PQexec(conn_.get(), drop.c_str()));
    }
  }
  cache_.clear();
}

int Connection::socket() const noexcept { return conn_ ? PQsocket(conn_.get()) : -1; }

Result Connection::query(std::string_view sql, const Params& params) {
  if (!conn_) throw ConnectionLost("not connected");
  if (pipeline_) {
    queue(sql, params, true);
    return drain();
  }
  auto it = cache_.find(std::string(sql));
  if (it == cache_.end()) {
    std::string name = "dpg" + std::to_string(++next_name_);
    const std::string text(sql);
    ResultPtr r(PQprepare(conn_.get(), name.c_str(), text.c_str(), 0, nullptr));
    if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) throw_pg(conn_.get(), r.get(), "prepare " + text.substr(0, 60));
    it = cache_.emplace(text, std::move(name)).first;
  }
  std::vector<const char*> values;
  params.pointers(values);
  ResultPtr r(PQexecPrepared(conn_.get(), it->second.c_str(), params.size(), values.data(), params.lengths(),
                             params.formats(), 0));
  const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) throw_pg(conn_.get(), r.get(), sql.substr(0, 60));
  return Result(std::move(r));
}

Result Connection::query_fresh(std::string_view sql, const Params& params) {
  if (!conn_) throw ConnectionLost("not connected");
  queue(sql, params, false);
  return drain();
}

void Connection::send(std::string_view sql, const Params& params) {
  if (!conn_) throw ConnectionLost("not connected");
  queue(sql, params, true);
  // A bounded queue: results wait in the socket until read, and a long one could fill it.
  if (queued_.size() >= kMaxQueued) (void)drain();
}

void Connection::send_simple(std::string_view sql) {
  if (!conn_) throw ConnectionLost("not connected");
  queue(sql, {}, false);
}

void Connection::sync() {
  if (pipeline_) (void)drain();
}

void Connection::enter_pipeline() {
  if (pipeline_) return;
  if (PQenterPipelineMode(conn_.get()) != 1) throw_pg(conn_.get(), nullptr, "entering pipeline mode");
  pipeline_ = true;
}

void Connection::queue(std::string_view sql, const Params& params, bool prepared) {
  enter_pipeline();
  const std::string text(sql);
  std::vector<const char*> values;
  params.pointers(values);
  int sent = 0;
  if (prepared) {
    auto it = cache_.find(text);
    if (it == cache_.end()) {
      std::string name = "dpg" + std::to_string(++next_name_);
      if (PQsendPrepare(conn_.get(), name.c_str(), text.c_str(), 0, nullptr) != 1) {
        throw_pg(conn_.get(), nullptr, "prepare " + text.substr(0, 60));
      }
      queued_.push_back("prepare " + text.substr(0, 60));
      new_names_.push_back(text);
      it = cache_.emplace(text, std::move(name)).first;
    }
    sent = PQsendQueryPrepared(conn_.get(), it->second.c_str(), params.size(), values.data(), params.lengths(),
                               params.formats(), 0);
  } else {
    sent = PQsendQueryParams(conn_.get(), text.c_str(), params.size(), nullptr, values.data(), params.lengths(),
                             params.formats(), 0);
  }
  if (sent != 1) throw_pg(conn_.get(), nullptr, text.substr(0, 60));
  queued_.push_back(text.substr(0, 60));
}

Result Connection::drain() {
  if (PQpipelineSync(conn_.get()) != 1) throw_pg(conn_.get(), nullptr, "sending queued statements");
  ResultPtr failed;
  std::size_t failed_at = 0;
  ResultPtr last;
  // Each statement's results end with a null; the sync point ends the queue.
  std::size_t item = 0;
  for (;;) {
    ResultPtr r(PQgetResult(conn_.get()));
    if (!r) {
      if (PQstatus(conn_.get()) == CONNECTION_BAD || ++item > queued_.size() + 1) {
        throw ConnectionLost(trimmed(PQerrorMessage(conn_.get())));
      }
      continue;
    }
    const ExecStatusType status = PQresultStatus(r.get());
    if (status == PGRES_PIPELINE_SYNC) break;
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      last = std::move(r);
    } else if (status != PGRES_PIPELINE_ABORTED && !failed) {
      failed = std::move(r);
      failed_at = item;
    }
  }
  std::vector<std::string> what;
  what.swap(queued_);
  if (PQexitPipelineMode(conn_.get()) != 1) throw ConnectionLost(trimmed(PQerrorMessage(conn_.get())));
  pipeline_ = false;
  if (failed) {
    // A statement prepared in this queue may not exist on the server: prepare it again next time.
    for (const std::string& sql : new_names_) cache_.erase(sql);
    new_names_.clear();
    throw_pg(conn_.get(), failed.get(), failed_at < what.size() ? what[failed_at] : "queued statement");
  }
  new_names_.clear();
  if (!last) throw Error(ErrorCode::internal, "store: queued statements gave no result");
  return Result(std::move(last));
}

Result Connection::exec(std::string_view sql) {
  if (!conn_) throw ConnectionLost("not connected");
  if (pipeline_) {
    if (sql.find(';') == std::string_view::npos) {
      queue(sql, {}, false);
      return drain();
    }
    (void)drain();
  }
  const std::string text(sql);
  ResultPtr r(PQexec(conn_.get(), text.c_str()));
  const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw_pg(conn_.get(), r.get(), text.substr(0, 40));
  return Result(std::move(r));
}

void Connection::rollback_quietly() noexcept {
  if (!ok()) return;
  if (pipeline_) {
    try {
      (void)drain();
    } catch (...) {
      // The error is the caller's already; what matters is to end the transaction.
    }
    if (pipeline_ || !ok()) return;
  }
  if (PQtransactionStatus(conn_.get()) == PQTRANS_IDLE) return;
  ResultPtr r(PQexec(conn_.get(), "ROLLBACK"));
}

std::optional<std::pair<std::string, std::string>> Connection::next_notification() {
  if (!conn_) throw ConnectionLost("not connected");
  if (PQconsumeInput(conn_.get()) == 0) throw ConnectionLost(trimmed(PQerrorMessage(conn_.get())));
  PGnotify* n = PQnotifies(conn_.get());
  if (n == nullptr) return std::nullopt;
  std::pair<std::string, std::string> out{n->relname != nullptr ? n->relname : "", n->extra != nullptr ? n->extra : ""};
  PQfreemem(n);
  return out;
}

}  // namespace dpgcert::postgresql
