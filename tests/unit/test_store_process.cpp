// Process-level tests of the store, on every backend this environment provides: SIGKILL during
// imports, and several processes at once.
// Children are fork()ed from the test process; they report through pipes and never return into
// doctest (they end with _exit).
#include "support/test_support.hpp"
#include "store/backends.hpp"
#include "store/cert_factory.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/store.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <csignal>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace dpgcert;
namespace fs = std::filesystem;

namespace {

const Time kNow = parse_rfc3339("2025-06-01T00:00:00Z");
constexpr std::int64_t kDay = 86400;

using test::TempDir;

StoreOptions options_in(const std::string& location) {
  StoreOptions o;
  o.location = location;
  o.actor = "process-test";
  o.clock = std::make_shared<FixedClock>(kNow);
  return o;
}

ValidationReport passing(const Certificate& c) { return testing::passing_report(c, kNow); }

testing::LeafSpec spec(const std::string& cn, int i) {
  testing::LeafSpec s;
  s.common_name = cn;
  // Later items are newer, so items sharing a mailbox supersede one another.
  s.not_before = to_unix(kNow) - 1000 * kDay + i * 60;
  s.not_after = to_unix(kNow) + (i % 400) * kDay;
  return s;
}

void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t w = ::write(fd, s.data() + off, s.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    off += static_cast<std::size_t>(w);
  }
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    out.append(buf, static_cast<std::size_t>(r));
  }
  return out;
}

/// $DPGCERT_STRESS_SECONDS, else 30 s on SQLite and 10 s on a server backend (whose own
/// concurrency control PostgreSQL has proven elsewhere; CI time is shared).
int stress_seconds(const std::string& backend) {
  const char* env = std::getenv("DPGCERT_STRESS_SECONDS");
  if (env != nullptr && *env != '\0') return std::max(1, std::atoi(env));
  return backend == "sqlite" ? 30 : 10;
}

}  // namespace

TEST_SUITE("store_process") {
  TEST_CASE("crash safety: SIGKILL of an importing process at random points, 50 times") {
    for (const std::string& backend : testing::testable_backends()) {
      INFO("backend: ", backend);
      TempDir dir;
      const std::string location = *testing::location_for(backend, dir);
      testing::CertFactory f;
      const SecretBytes pw = test::pw("Test1234");
      {
        auto s = Store::create(options_in(location), vault::KeySource::key_file(dir.path() / "store.key"));
        Organisation o;
        o.cvr = "12345674";
        o.name = "Kunde A/S";
        (void)s->add_organisation(o);
      }
      // Made before forking: the children import them in order, five mailboxes taking turns.
      std::vector<testing::Made> items;
      for (int i = 0; i < 2500; ++i) items.push_back(f.made(spec("crash " + std::to_string(i), i), pw));

      std::mt19937 rng(20250601);
      std::set<std::string> acknowledged;
      int kills_during_work = 0;
      const auto started = std::chrono::steady_clock::now();
      for (int round = 0; round < 50; ++round) {
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
          ::close(fds[0]);
          try {
            auto s = Store::open(options_in(location));
            // Items go in strictly in order, so what is stored is a prefix: resume after it.
            for (std::size_t i = s->count({}); i < items.size(); ++i) {
              ImportOptions o;
              o.organisation_cvr = "12345674";
              o.mailbox = "mb" + std::to_string(i % 5) + "@kunde.dk";
              o.report = passing(items[i].certificate);
              const ImportResult r = s->import(items[i].bundle, items[i].pkcs12, pw, o);
              if (r.outcome == ImportOutcome::imported) write_all(fds[1], r.fingerprint + "\n");
            }
            write_all(fds[1], "DONE\n");
          } catch (const std::exception& e) {
            write_all(fds[1], std::string("ERROR ") + e.what() + "\n");
            ::_exit(3);
          }
          for (;;) ::pause();
        }
        ::close(fds[1]);
        // Odd rounds: kill at a random time from the start (it may hit opening the store). Even rounds:
        // wait for the first acknowledged import, then kill at a random time (it hits import work,
        // however slow the machine, e.g. under sanitizers).
        std::string out;
        if (round % 2 == 0) {
          const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
          while (out.find('\n') == std::string::npos && std::chrono::steady_clock::now() < give_up) {
            pollfd pfd{fds[0], POLLIN, 0};
            if (::poll(&pfd, 1, 100) > 0) {
              char buf[4096];
              const ssize_t r = ::read(fds[0], buf, sizeof buf);
              if (r <= 0) break;
              out.append(buf, static_cast<std::size_t>(r));
            }
          }
        }
        std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(1000, 100000)(rng)));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        out += read_all(fds[0]);
        ::close(fds[0]);
        const auto error_at = out.find("ERROR");
        REQUIRE_MESSAGE(error_at == std::string::npos, out.substr(std::min(error_at, out.size())));
        CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
        if (out.find("DONE") == std::string::npos) ++kills_during_work;
        std::istringstream lines(out);
        for (std::string line; std::getline(lines, line);) {
          if (line.size() == 64) acknowledged.insert(line);
        }

        // After each kill: the database is sound, every acknowledged import is there and whole, and
        // whatever else is there (committed, not yet acknowledged) is whole too.
        auto s = Store::open(options_in(location));
        const IntegrityReport integrity = s->check_integrity();
        std::string problems;
        for (const auto& p : integrity.problems) problems += p + "\n";
        REQUIRE_MESSAGE(integrity.ok(), "round " << round << ": " << problems);
        std::set<std::string> stored;
        for (const auto& c : s->query({})) stored.insert(c.fingerprint);
        for (const auto& fp : acknowledged) REQUIRE_MESSAGE(stored.count(fp) == 1, "acknowledged import lost: " << fp);
        CHECK(stored.size() <= acknowledged.size() + static_cast<std::size_t>(round + 1));
        for (const auto& fp : stored) {
          if (acknowledged.count(fp) == 0) CHECK(s->unseal(fp).password.view() == "Test1234");
        }
        if (!acknowledged.empty()) CHECK(s->unseal(*acknowledged.rbegin()).password.view() == "Test1234");
        // At most one active certificate per mailbox, whatever point the kill hit.
        for (int m = 0; m < 5; ++m) {
          CertificateQuery q;
          q.mailbox = "mb" + std::to_string(m) + "@kunde.dk";
          q.status = CertificateStatus::active;
          CHECK(s->count(q) <= 1);
        }
      }
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      MESSAGE("crash safety: 50 kills (" << kills_during_work << " while importing), " << acknowledged.size()
                                          << " acknowledged imports, " << secs << " s");
      CHECK(kills_during_work >= 25);
      CHECK(acknowledged.size() >= 25);
    }
  }

  TEST_CASE("concurrency: 4 processes importing, listing and querying at once - no error reaches a caller") {
    for (const std::string& backend : testing::testable_backends()) {
      INFO("backend: ", backend);
      TempDir dir;
      const std::string location = *testing::location_for(backend, dir);
      testing::CertFactory f;
      const SecretBytes pw = test::pw("Test1234");
      {
        auto s = Store::create(options_in(location), vault::KeySource::key_file(dir.path() / "store.key"));
        Organisation o;
        o.cvr = "12345674";
        o.name = "Kunde A/S";
        (void)s->add_organisation(o);
        // Seed every mailbox so the gateway has something from the first second.
        for (int m = 0; m < 4; ++m) {
          testing::Made made = f.made(spec("seed " + std::to_string(m), m), pw);
          ImportOptions io;
          io.organisation_cvr = "12345674";
          io.mailbox = "mb" + std::to_string(m) + "@kunde.dk";
          io.report = passing(made.certificate);
          (void)s->import(made.bundle, made.pkcs12, pw, io);
        }
      }
      const int seconds = stress_seconds(backend);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
      const char* roles[] = {"importer-a", "importer-b", "lister", "gateway"};
      std::vector<pid_t> pids;
      std::vector<int> pipes;
      for (int role = 0; role < 4; ++role) {
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
          ::close(fds[0]);
          long ops = 0;
          long errors = 0;
          std::string first_error;
          try {
            auto s = Store::open(options_in(location));
            std::mt19937 rng(static_cast<unsigned>(::getpid()));
            int i = 0;
            while (std::chrono::steady_clock::now() < deadline) {
              try {
                if (role < 2) {
                  testing::Made made = f.made(spec(std::string(roles[role]) + " " + std::to_string(i), 10 + i), pw);
                  ImportOptions io;
                  io.organisation_cvr = "12345674";
                  io.mailbox = "mb" + std::to_string(i % 4) + "@kunde.dk";
                  io.report = passing(made.certificate);
                  io.actor = roles[role];
                  const ImportResult r = s->import(made.bundle, made.pkcs12, pw, io);
                  if (r.outcome != ImportOutcome::imported) throw std::runtime_error("not imported");
                  ++i;
                } else if (role == 2) {
                  CertificateQuery q;
                  q.limit = 50;
                  q.offset = std::uniform_int_distribution<std::size_t>(0, 200)(rng);
                  (void)s->query(q);
                  (void)s->count({});
                  (void)s->query(CertificateQuery::expiring_before(kNow + std::chrono::days(30)));
                  (void)s->list_organisations();
                  (void)s->list_mailboxes();
                  (void)s->audit_log(0, 20);
                } else {
                  const std::string mb = "mb" + std::to_string(std::uniform_int_distribution<int>(0, 3)(rng)) + "@kunde.dk";
                  auto b = s->current_bundle(mb);
                  if (!b || !b->bundle.key_matches() || b->password.view() != "Test1234") {
                    throw std::runtime_error("gateway: no usable bundle for " + mb);
                  }
                  if (!s->find(b->record.fingerprint)) throw std::runtime_error("gateway: find failed");
                }
                ++ops;
              } catch (const std::exception& e) {
                if (errors++ == 0) first_error = e.what();
              }
            }
          } catch (const std::exception& e) {
            ++errors;
            first_error = e.what();
          }
          write_all(fds[1], std::to_string(ops) + " " + std::to_string(errors) + " " + first_error + "\n");
          ::_exit(errors == 0 ? 0 : 1);
        }
        ::close(fds[1]);
        pids.push_back(pid);
        pipes.push_back(fds[0]);
      }
      long total_imports = 0;
      for (int role = 0; role < 4; ++role) {
        const std::string out = read_all(pipes[static_cast<std::size_t>(role)]);
        ::close(pipes[static_cast<std::size_t>(role)]);
        int status = 0;
        ::waitpid(pids[static_cast<std::size_t>(role)], &status, 0);
        std::istringstream in(out);
        long ops = -1;
        long errors = -1;
        in >> ops >> errors;
        std::string first;
        std::getline(in, first);
        MESSAGE(std::string(roles[role]) << ": " << ops << " operations, " << errors << " errors" << first);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
        CHECK(errors == 0);
        CHECK(ops > 0);
        if (role < 2) total_imports += ops;
      }
      auto s = Store::open(options_in(location));
      CHECK(s->check_integrity().ok());
      CHECK(s->count({}) == static_cast<std::size_t>(total_imports + 4));
      for (int m = 0; m < 4; ++m) {
        CertificateQuery q;
        q.mailbox = "mb" + std::to_string(m) + "@kunde.dk";
        q.status = CertificateStatus::active;
        CHECK(s->count(q) == 1);
      }
      MESSAGE("concurrency: " << seconds << " s, " << total_imports << " imports by two processes");
    }
  }
}
