#include "store/pg_test_server.hpp"

#ifdef DPGCERT_TEST_HAVE_LIBPQ
#include <libpq-fe.h>
#endif

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

#include <sys/stat.h>
#include <unistd.h>

namespace dpgcert::testing {
namespace {

namespace fs = std::filesystem;

std::string read_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string script() {
  const char* src = std::getenv("DPGCERT_SOURCE_DIR");
  return std::string(src != nullptr && *src != '\0' ? src : DPGCERT_SOURCE_DIR) + "/tests/store/pg_server.sh";
}

/// "bash 'SCRIPT' VERB 'DIR'" (appended piece by piece: GCC 12 -O3's false -Wrestrict).
std::string script_command(std::string_view verb, const std::string& dir) {
  std::string cmd = "bash '";
  cmd.append(script()).append("' ").append(verb).append(" '").append(dir).append("'");
  return cmd;
}

/// A server this process started; stopped (by its PID, through the script) when the process exits
/// normally. Forked children end with _exit and leave it alone.
struct OwnServer {
  fs::path dir;
  pid_t owner = ::getpid();
  ~OwnServer() {
    if (::getpid() != owner || dir.empty()) return;
    const std::string cmd = "bash '" + script() + "' stop '" + dir.string() + "' >/dev/null 2>&1";
    (void)std::system(cmd.c_str());
    std::error_code ec;
    fs::remove_all(dir.parent_path(), ec);  // the temporary folder with the start log
  }
};

struct State {
  std::mutex mu;
  bool looked = false;
  std::optional<std::string> uri;
  std::string why;
  std::string dir;
  std::unique_ptr<OwnServer> own;
};

State& state() {
  static State s;
  return s;
}

void find_server(State& s) {
  if (const char* env = std::getenv("DPGCERT_TEST_POSTGRESQL"); env != nullptr && *env != '\0') {
    s.uri = env;
    return;
  }
  if (const char* env = std::getenv("DPGCERT_TEST_POSTGRESQL_DIR"); env != nullptr && *env != '\0') {
    const fs::path dir(env);
    if (fs::exists(dir / "skipped")) {
      s.why = read_line(dir / "skipped");
      return;
    }
    if (fs::exists(dir / "uri")) {
      s.uri = read_line(dir / "uri");
      s.dir = dir.string();
      return;
    }
  }
  // Our own: a temporary folder (the server's user must reach it when we are root).
  char tmpl[] = "/tmp/dpgcert-pgtest-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    s.why = "cannot make a temporary folder";
    return;
  }
  ::chmod(tmpl, 0755);  // mkdtemp makes it 0700: the server's user (root runs it as "postgres") must enter
  const fs::path dir = fs::path(tmpl) / "server";
  const std::string cmd = "bash '" + script() + "' start '" + dir.string() + "' 2>'" + tmpl + "/start.log'";
  const int rc = std::system(cmd.c_str());
  if (rc == 0 && fs::exists(dir / "skipped")) {
    s.why = read_line(dir / "skipped");
    return;
  }
  if (rc != 0 || !fs::exists(dir / "uri")) {
    s.why = read_line(fs::path(tmpl) / "start.log");
    if (s.why.empty()) s.why = "the test server did not start";
    return;
  }
  s.own = std::make_unique<OwnServer>();
  s.own->dir = dir;
  s.uri = read_line(dir / "uri");
  s.dir = dir.string();
}

}  // namespace

std::optional<std::string> postgresql_server(std::string* why) {
  State& s = state();
  std::lock_guard lock(s.mu);
  if (!s.looked) {
    s.looked = true;
    find_server(s);
  }
  if (!s.uri && why != nullptr) *why = s.why;
  return s.uri;
}

std::string postgresql_server_dir() {
  (void)postgresql_server();
  State& s = state();
  std::lock_guard lock(s.mu);
  return s.dir;
}

std::string postgresql_admin(const std::string& sql, const std::string& target) {
  const auto server = target.empty() ? postgresql_server() : std::optional<std::string>(target);
  if (!server) throw std::runtime_error("no PostgreSQL test server");
  const std::string* uri = &*server;
#ifndef DPGCERT_TEST_HAVE_LIBPQ
  throw std::runtime_error("the tests were built without libpq: " + sql);
#else
  PGconn* conn = PQconnectdb(uri->c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string msg = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("cannot connect to the test server: " + msg);
  }
  PGresult* r = PQexec(conn, sql.c_str());
  const ExecStatusType st = PQresultStatus(r);
  const std::string msg = PQresultErrorMessage(r);
  const std::string value = st == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
  PQclear(r);
  PQfinish(conn);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) throw std::runtime_error(sql + ": " + msg);
  return value;
#endif
}

PrivateServer::PrivateServer() {
  char tmpl[] = "/tmp/dpgcert-pgown-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    why_ = "cannot make a temporary folder";
    return;
  }
  ::chmod(tmpl, 0755);
  tmp_ = tmpl;
  dir_ = tmp_ + "/server";
  const std::string cmd = script_command("start", dir_) + " 2>'" + tmp_ + "/start.log'";
  const int rc = std::system(cmd.c_str());
  if (rc == 0 && fs::exists(fs::path(dir_) / "skipped")) {
    why_ = read_line(fs::path(dir_) / "skipped");
  } else if (rc != 0 || !fs::exists(fs::path(dir_) / "uri")) {
    why_ = read_line(fs::path(tmp_) / "start.log");
    if (why_.empty()) why_ = "the private test server did not start";
  } else {
    uri_ = read_line(fs::path(dir_) / "uri");
  }
}

PrivateServer::~PrivateServer() {
  if (tmp_.empty()) return;
  const std::string cmd = script_command("stop", dir_) + " >/dev/null 2>&1";
  (void)std::system(cmd.c_str());
  std::error_code ec;
  fs::remove_all(tmp_, ec);
}

std::string PrivateServer::database() {
  if (!running()) throw std::runtime_error("the private test server is not running: " + why_);
  std::string name = "own";
  name.append(std::to_string(++databases_));
  postgresql_admin("CREATE DATABASE " + name, uri_);
  return uri_.substr(0, uri_.rfind('/') + 1) + name;
}

void PrivateServer::restart() {
  const std::string cmd = script_command("restart", dir_) + " 2>>'" + tmp_ + "/start.log'";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("pg_ctl restart failed; see " + tmp_ + "/start.log");
}

std::optional<std::string> postgresql_database(std::string* why) {
  const auto uri = postgresql_server(why);
  if (!uri) return std::nullopt;
  static std::atomic<int> counter{0};
  static const unsigned salt = std::random_device{}() % 1000000;
  std::string name = "t";  // appended: GCC 12 -O3 sees a false -Wrestrict in "t" + string&&
  name.append(std::to_string(::getpid())).append("_").append(std::to_string(salt)).append("_");
  name.append(std::to_string(++counter));
  postgresql_admin("CREATE DATABASE " + name);
  const auto slash = uri->rfind('/');
  const auto query = uri->find('?', slash);
  return uri->substr(0, slash + 1) + name + (query == std::string::npos ? "" : uri->substr(query));
}

}  // namespace dpgcert::testing
