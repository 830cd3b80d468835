// The PostgreSQL server the store tests run against, and a fresh database on it per test.
//
// Which server: $DPGCERT_TEST_POSTGRESQL (an admin URI of a server to use as is), else the one the
// ctest fixture started ($DPGCERT_TEST_POSTGRESQL_DIR/uri, see tests/store/pg_server.sh), else one
// this process starts on first use (initdb into a temporary folder) and stops when it exits.
#pragma once

#include <optional>
#include <string>

namespace dpgcert::testing {

/// The admin URI of the test server ("postgresql://postgres@127.0.0.1:PORT/postgres"), or
/// std::nullopt with `why` set when there is none (no PostgreSQL binaries, server failed).
[[nodiscard]] std::optional<std::string> postgresql_server(std::string* why = nullptr);

/// A new, empty database on the test server (its own name, so tests can run in parallel) and
/// its URI; std::nullopt when there is no server.
[[nodiscard]] std::optional<std::string> postgresql_database(std::string* why = nullptr);

/// Runs SQL on the test server's admin database, or on the database `uri` names, as the
/// server's superuser; returns the first column of the first row ("" when none). Throws
/// std::runtime_error on failure.
std::string postgresql_admin(const std::string& sql, const std::string& uri = {});

/// The folder of the test server's data and its pg_ctl, for tests that restart it; empty when the
/// server is not one these tests started.
[[nodiscard]] std::string postgresql_server_dir();

/// A PostgreSQL server of one test's own, for tests that restart it: the shared one serves tests
/// that run at the same time. Started (about 2 s) by the constructor, stopped by the destructor.
class PrivateServer final {
 public:
  PrivateServer();
  ~PrivateServer();
  PrivateServer(const PrivateServer&) = delete;
  PrivateServer& operator=(const PrivateServer&) = delete;

  /// Whether it runs; why not, when it does not.
  [[nodiscard]] bool running() const noexcept { return !uri_.empty(); }
  [[nodiscard]] const std::string& why() const noexcept { return why_; }
  /// A new, empty database on it and its URI.
  [[nodiscard]] std::string database();
  /// A fast restart on the same port (pg_ctl restart -m fast): every session ends. Throws
  /// std::runtime_error when it fails.
  void restart();

 private:
  std::string tmp_;
  std::string dir_;
  std::string uri_;
  std::string why_;
  int databases_ = 0;
};

}  // namespace dpgcert::testing
