#include "pg_bench_server.hpp"

#include <libpq-fe.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dpgcert::bench {
namespace {

namespace fs = std::filesystem;

/// The folder of initdb and pg_ctl: $DPGCERT_PG_BIN, else the newest /usr/lib/postgresql/N/bin.
std::optional<fs::path> server_binaries() {
  if (const char* env = std::getenv("DPGCERT_PG_BIN"); env != nullptr && *env != '\0') {
    if (fs::exists(fs::path(env) / "initdb")) return fs::path(env);
  }
  std::optional<fs::path> best;
  int best_version = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const fs::path bin = entry.path() / "bin";
    if (!fs::exists(bin / "initdb") || !fs::exists(bin / "pg_ctl")) continue;
    const int v = std::atoi(entry.path().filename().c_str());
    if (v > best_version) {
      best_version = v;
      best = bin;
    }
  }
  return best;
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

std::string first_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

std::optional<PgBenchServer> PgBenchServer::start(const std::vector<std::string>& settings, std::string& why) {
  const auto bin = server_binaries();
  if (!bin) {
    why = "no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or $DPGCERT_PG_BIN; "
          "install the postgresql package";
    return std::nullopt;
  }
  const bool root = ::geteuid() == 0;
  const passwd* pg_user = root ? ::getpwnam("postgres") : nullptr;
  if (root && pg_user == nullptr) {
    why = "running as root and there is no user 'postgres' to run the server as";
    return std::nullopt;
  }
  std::string tmpl = (fs::temp_directory_path() / "dpgcert-bench-pg-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    why = "cannot make a temporary folder";
    return std::nullopt;
  }
  PgBenchServer server;
  server.dir_ = tmpl;
  ::chmod(tmpl.c_str(), 0700);
  if (root && ::chown(tmpl.c_str(), pg_user->pw_uid, pg_user->pw_gid) != 0) {
    why = "cannot hand the temporary folder to the user 'postgres'";
    return std::nullopt;
  }
  const std::string as = root ? "runuser -u postgres -- " : "";
  const std::string dir = server.dir_.string();
  const std::string log = dir + "/server.log";
  std::string cmd = as + quote((*bin / "initdb").string()) + " -D " + quote(dir + "/data") +
                    " -U postgres -A trust -E UTF8 --locale=C --no-sync >" + quote(dir + "/initdb.log") + " 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    why = "initdb failed: " + first_line(dir + "/initdb.log");
    return std::nullopt;
  }
  // Only the Unix socket in our folder: the port merely names the socket file, so no TCP port
  // can clash with another server on the machine.
  server.port_ = 5432;
  std::string opts = "-c listen_addresses= -p " + std::to_string(server.port_) + " -k " + dir;
  for (const auto& s : settings) opts.append(" -c ").append(s);
  cmd = as + quote((*bin / "pg_ctl").string()) + " -D " + quote(dir + "/data") + " -l " + quote(log) +
        " -w -t 60 -o " + quote(opts) + " start >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    why = "the server did not start: " + first_line(log);
    return std::nullopt;
  }
  return server;
}

PgBenchServer::PgBenchServer(PgBenchServer&& other) noexcept : dir_(std::move(other.dir_)), port_(other.port_) {
  other.dir_.clear();
}

PgBenchServer::~PgBenchServer() {
  if (dir_.empty()) return;
  const std::string pid_text = first_line(dir_ / "data" / "postmaster.pid");
  const pid_t pid = static_cast<pid_t>(std::atol(pid_text.c_str()));
  if (pid > 0 && ::kill(pid, SIGINT) == 0) {
    for (int i = 0; i < 600 && ::kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::error_code ec;
  if (const char* keep = std::getenv("DPGCERT_BENCH_PG_LOG"); keep != nullptr && *keep != '\0') {
    fs::copy_file(dir_ / "server.log", keep, fs::copy_options::overwrite_existing, ec);
  }
  fs::remove_all(dir_, ec);
}

std::string PgBenchServer::uri(const std::string& name) const {
  return "postgresql:///" + name + "?host=" + dir_.string() + "&port=" + std::to_string(port_) + "&user=postgres";
}

std::string PgBenchServer::exec(const std::string& sql, const std::string& db) const {
  PGconn* conn = PQconnectdb(uri(db).c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("cannot connect to the benchmark server: " + msg);
  }
  PGresult* r = PQexec(conn, sql.c_str());
  const ExecStatusType st = PQresultStatus(r);
  std::string msg = PQresultErrorMessage(r);
  std::string value = st == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
  PQclear(r);
  PQfinish(conn);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) throw std::runtime_error("benchmark server: " + msg);
  return value;
}

double PgBenchServer::backend_cpu_seconds(const std::string& db) const {
  std::istringstream pids(exec("SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE datname = '" + db +
                               "' AND pid <> pg_backend_pid()"));
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double total = 0;
  for (std::string pid; pids >> pid;) {
    std::ifstream in("/proc/" + pid + "/stat");
    std::string stat;
    std::getline(in, stat);
    const auto close = stat.rfind(')');  // the command name may hold spaces
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    // After the name: state is field 3; utime and stime are fields 14 and 15.
    for (int i = 3; i <= 13 && fields >> field; ++i) {
    }
    long long utime = 0;
    long long stime = 0;
    fields >> utime >> stime;
    total += static_cast<double>(utime + stime) / tick;
  }
  return total;
}

std::string PgBenchServer::create_database(const std::string& name) const {
  exec("CREATE DATABASE " + name);
  return uri(name);
}

}  // namespace dpgcert::bench
