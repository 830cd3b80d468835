// A throwaway PostgreSQL server for the benchmarks: initdb into a private temporary folder, the
// server listening only on a Unix socket in that folder (no TCP port is opened), stopped by the PID
// it wrote when the object goes. As root the server runs as the user "postgres" (initdb refuses
// root). Server settings are PostgreSQL's defaults (fsync on, synchronous_commit on) unless the
// caller adds some.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dpgcert::bench {

class PgBenchServer final {
 public:
  /// Starts a server with `settings` ("name=value" each, passed as -c); std::nullopt with `why`
  /// set when there are no PostgreSQL server binaries or the server does not start.
  [[nodiscard]] static std::optional<PgBenchServer> start(const std::vector<std::string>& settings, std::string& why);

  PgBenchServer(PgBenchServer&& other) noexcept;
  PgBenchServer& operator=(PgBenchServer&&) = delete;
  PgBenchServer(const PgBenchServer&) = delete;
  PgBenchServer& operator=(const PgBenchServer&) = delete;
  /// Stops the server (SIGINT: PostgreSQL's fast shutdown) and removes its folder (its log copied
  /// to $DPGCERT_BENCH_PG_LOG first when that is set).
  ~PgBenchServer();

  /// A libpq URI of database `name` over the server's Unix socket, as user "postgres".
  [[nodiscard]] std::string uri(const std::string& name = "postgres") const;
  /// Runs `sql` (several statements allowed) as the superuser on database `db`; returns the first
  /// column of the first row of the last result ("" when none). Throws std::runtime_error.
  std::string exec(const std::string& sql, const std::string& db = "postgres") const;
  /// Creates database `name` and returns its URI.
  std::string create_database(const std::string& name) const;
  /// CPU time (user + system, seconds) the server's processes serving database `db` have used so
  /// far, other than the connection asking: the server's share of the work, which wall-clock time
  /// on a shared machine hides. Read from /proc (the server runs on this machine).
  [[nodiscard]] double backend_cpu_seconds(const std::string& db) const;
  /// The server's version string ("PostgreSQL 15.x ...").
  [[nodiscard]] std::string version() const { return exec("SELECT version()"); }

 private:
  PgBenchServer() = default;
  std::filesystem::path dir_;  // the temporary folder: data/, the socket, the log
  int port_ = 0;
};

}  // namespace dpgcert::bench
