// Several nodes on one store, on every backend this environment provides: the renewal check as
// one logical run at a time (exclusive checks never overlap, no threshold is announced twice; with
// the last-run rule, 3 nodes ticking every second for 10 s run exactly the expected checks), and
// the outbox drained by several processes at once (each delivery claimed once; a process killed
// mid-batch loses nothing, and the repeat carries the same event id). Children are fork()ed and
// end with _exit; they report through files. The outbox runs 2,000 events unless
// DPGCERT_NODES_EVENTS says otherwise (20000 is the full size of the requirement).
#include "support/test_support.hpp"
#include "store/backends.hpp"
#include "store/cert_factory.hpp"
#include "store/store_impl.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/lifecycle.hpp>
#include <dpgcert/store.hpp>

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <fcntl.h>
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
  o.actor = "node-test";
  o.clock = std::make_shared<FixedClock>(kNow);
  return o;
}

/// A store with one certificate (events refer to it) and the callback sink "count".
std::int64_t prepare(const std::string& location, const TempDir& dir) {
  auto s = Store::create(options_in(location), vault::KeySource::key_file(dir.path() / "store.key"));
  testing::CertFactory f;
  testing::LeafSpec spec;
  spec.common_name = "outbox";
  spec.not_before = to_unix(kNow) - 10 * kDay;
  spec.not_after = to_unix(kNow) + 300 * kDay;
  const SecretBytes pw = test::pw("Test1234");
  testing::Made made = f.made(spec, pw);
  ImportOptions o;
  o.report = testing::passing_report(made.certificate, kNow);
  const ImportResult r = s->import(made.bundle, made.pkcs12, pw, o);
  Lifecycle lifecycle(*s);
  (void)lifecycle.add_sink(callback_sink("count"));
  return r.record->id;
}

/// Writes `count` events (ids "<prefix>-N") into the outbox, with a pending delivery each.
void emit(const std::string& location, std::int64_t certificate_id, const std::string& prefix, int count) {
  auto s = Store::open(options_in(location));
  Store::Impl& impl = store_detail::Access::impl(*s);
  std::lock_guard lock(impl.mu);
  for (int first = 0; first < count; first += 500) {
    impl.transact(true, [&](store::Transaction& tx) {
      for (int i = first; i < std::min(count, first + 500); ++i) {
        Event e;
        e.id = prefix + "-" + std::to_string(i);
        e.kind = EventKind::expiring;
        e.stage_days = 30;
        e.at = kNow;
        e.certificate.id = certificate_id;
        e.certificate.fingerprint = "f";
        store::EventRow row;
        row.id = e.id;
        row.kind = "expiring";
        row.stage_days = 30;
        row.certificate_id = certificate_id;
        row.created_at = kNow;
        row.payload = to_json(e).dump();
        REQUIRE(tx.insert_event(row));
      }
    });
  }
}

/// The events 4 processes drain from one outbox: $DPGCERT_NODES_EVENTS (the full size of the
/// requirement is 20000: a drain of 17-22 s on SQLite and 25-40 s on PostgreSQL on a busy 2-core machine),
/// else 2,000, which CI can afford on both backends.
int drain_events() {
  const char* env = std::getenv("DPGCERT_NODES_EVENTS");
  if (env != nullptr && *env != '\0') return std::max(100, std::atoi(env));
  return 2000;
}

/// The attempt number of each delivery a node reported (its ".attempts" file), by event id.
std::map<std::string, int> attempts_of(const fs::path& out) {
  std::map<std::string, int> attempts;
  std::ifstream in(out.string() + ".attempts");
  std::string id;
  int attempt = 0;
  int delivered = 0;
  while (in >> id >> attempt >> delivered) {
    if (delivered == 1) attempts[id] = attempt;
  }
  return attempts;
}

std::vector<std::string> lines_of(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

/// What a child process reported failing with (its ".error" file), or "" when it did not.
std::string error_of(const fs::path& out) {
  const std::vector<std::string> lines = lines_of(out.string() + ".error");
  return lines.empty() ? std::string() : lines.front();
}

/// A node: waits for the start signal, drains the outbox to "count" (one line per event into
/// `out`); with `die_after` > 0 it SIGKILLs itself in the middle of a batch after that many.
pid_t node(const std::string& location, const fs::path& out, int start_fd, int die_after, Time now) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  try {
    auto s = Store::open(options_in(location));
    Lifecycle lifecycle(*s);
    std::ofstream file(out, std::ios::app);
    int seen = 0;
    lifecycle.register_callback("count", [&](const Event& e) {
      file << e.id << '\n' << std::flush;
      if (die_after > 0 && ++seen == die_after) ::raise(SIGKILL);
      return SinkResult::ok();
    });
    char go = 0;
    if (::read(start_fd, &go, 1) != 1) ::_exit(4);
    CheckOptions o;
    o.batch = 50;
    const std::vector<DeliveryAttempt> attempts = lifecycle.deliver(now, o);
    std::ofstream log(out.string() + ".attempts");
    for (const DeliveryAttempt& a : attempts) log << a.event_id << ' ' << a.attempt << ' ' << a.delivered << '\n';
  } catch (const std::exception& e) {
    std::ofstream(out.string() + ".error") << e.what() << '\n';
    ::_exit(3);
  }
  ::_exit(0);
}

}  // namespace

TEST_SUITE("store_nodes") {
  TEST_CASE("several nodes: 4 processes drain one outbox - each event delivered once, each process did some, a kill mid-batch loses nothing") {
    for (const std::string& backend : testing::testable_backends()) {
      INFO("backend: ", backend);
      TempDir dir;
      const std::string location = *testing::location_for(backend, dir);
      const std::int64_t cert = prepare(location, dir);
      const int kEvents = drain_events();
      emit(location, cert, "ev", kEvents);

      int start[2];
      REQUIRE(::pipe(start) == 0);
      std::vector<pid_t> pids;
      for (int n = 0; n < 4; ++n) pids.push_back(node(location, dir.path() / ("node" + std::to_string(n)), start[0], 0, kNow));
      const auto began = std::chrono::steady_clock::now();
      REQUIRE(::write(start[1], "GGGG", 4) == 4);
      for (const pid_t pid : pids) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
      }
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
      std::map<std::string, int> delivered;
      for (int n = 0; n < 4; ++n) {
        const fs::path out = dir.path() / ("node" + std::to_string(n));
        const std::string error = error_of(out);
        CHECK_MESSAGE(error.empty(), error);
        const auto ids = lines_of(out);
        MESSAGE("node " << n << ": " << ids.size() << " events");
        // Each process did some: on PostgreSQL, whose claims skip each other's rows. SQLite has
        // one writer at a time and its lock is not fair: under load one process can find the
        // outbox empty by the time it first gets the lock (seen once in CI: 0 of 2,000 in 0.64 s).
        if (backend == "postgresql") CHECK(!ids.empty());
        for (const auto& id : ids) ++delivered[id];
      }
      MESSAGE(backend << ": " << kEvents << " events drained by 4 processes in " << secs << " s");
      CHECK(delivered.size() == static_cast<std::size_t>(kEvents));
      int twice = 0;
      for (const auto& [id, times] : delivered) twice += times > 1 ? 1 : 0;
      CHECK(twice == 0);

      // A node killed in the middle of a batch: what it had claimed waits for its lease, then
      // another node delivers it - with the same event id, as attempt 2.
      emit(location, cert, "late", 200);
      const fs::path victim_out = dir.path() / "victim";
      const pid_t victim = node(location, victim_out, start[0], 10, kNow);
      REQUIRE(::write(start[1], "G", 1) == 1);
      int status = 0;
      ::waitpid(victim, &status, 0);
      CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
      const auto seen_by_victim = lines_of(victim_out);
      CHECK(seen_by_victim.size() == 10);
      // Before the lease ends, the rest of the outbox is delivered, but not the victim's batch.
      const Time after_lease = kNow + CheckOptions{}.lease + std::chrono::seconds(1);
      const pid_t early = node(location, dir.path() / "early", start[0], 0, kNow);
      REQUIRE(::write(start[1], "G", 1) == 1);
      ::waitpid(early, &status, 0);
      const auto early_ids = lines_of(dir.path() / "early");
      const pid_t late = node(location, dir.path() / "late", start[0], 0, after_lease);
      REQUIRE(::write(start[1], "G", 1) == 1);
      ::waitpid(late, &status, 0);
      const auto late_ids = lines_of(dir.path() / "late");
      ::close(start[0]);
      ::close(start[1]);
      std::set<std::string> all(early_ids.begin(), early_ids.end());
      all.insert(late_ids.begin(), late_ids.end());
      CHECK(all.size() == 200);  // nothing lost
      for (const auto& id : seen_by_victim) {
        CHECK(std::count(early_ids.begin(), early_ids.end(), id) == 0);  // still leased
        CHECK(std::count(late_ids.begin(), late_ids.end(), id) == 1);    // repeated, same id
      }
      CHECK(early_ids.size() + late_ids.size() == 200);
      // The repeat is the same event (the id a receiver deduplicates on), as the second attempt of
      // its delivery; what the early node took was a first attempt.
      const std::map<std::string, int> late_attempts = attempts_of(dir.path() / "late");
      const std::map<std::string, int> early_attempts = attempts_of(dir.path() / "early");
      CHECK(late_attempts.size() == late_ids.size());  // the victim's whole claimed batch
      for (const auto& entry : late_attempts) CHECK(entry.second == 2);
      for (const auto& id : seen_by_victim) CHECK(late_attempts.count(id) == 1);
      CHECK(early_attempts.size() == early_ids.size());
      for (const auto& entry : early_attempts) CHECK(entry.second == 1);
      auto s = Store::open(options_in(location));
      Lifecycle lifecycle(*s);
      const auto stats = lifecycle.sink_stats();
      REQUIRE(stats.size() == 1);
      CHECK(stats[0].pending == 0);
      CHECK(stats[0].delivered == static_cast<std::size_t>(kEvents + 200));
    }
  }

  TEST_CASE("several nodes: 3 processes ticking exclusive checks never overlap and never announce a threshold twice") {
    for (const std::string& backend : testing::testable_backends()) {
      INFO("backend: ", backend);
      TempDir dir;
      const std::string location = *testing::location_for(backend, dir);
      {
        auto s = Store::create(options_in(location), vault::KeySource::key_file(dir.path() / "store.key"));
        testing::CertFactory f;
        const SecretBytes pw = test::pw("Test1234");
        for (int i = 0; i < 12; ++i) {
          testing::LeafSpec spec;
          spec.common_name = "tick " + std::to_string(i);
          spec.not_before = to_unix(kNow) - 10 * kDay;
          spec.not_after = to_unix(kNow) + (3 + i) * kDay;  // thresholds 14, 7, 1, 0 fall inside the ticks
          testing::Made made = f.made(spec, pw);
          ImportOptions o;
          o.report = testing::passing_report(made.certificate, kNow);
          (void)s->import(made.bundle, made.pkcs12, pw, o);
        }
        Lifecycle lifecycle(*s);
        (void)lifecycle.add_sink(callback_sink("count"));
      }
      // Scaled down from "every second for 10 s": every 100 ms for 2 s, the store's clock a day
      // further on each tick, the same tick at the same moment on every node. A slow sink makes
      // each run last long enough for unguarded runs to overlap.
      constexpr int kTicks = 20;
      const auto t0 = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
      std::vector<pid_t> pids;
      for (int n = 0; n < 3; ++n) {
        const fs::path out = dir.path() / ("tick" + std::to_string(n));
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
          try {
            auto s = Store::open(options_in(location));
            Lifecycle lifecycle(*s);
            std::ofstream file(out);
            // Inside a run (deliveries happen under the run lock): a marker file that only one run
            // at a time can create; finding it taken means two runs overlap.
            const fs::path marker = dir.path() / "inside-a-run";
            lifecycle.register_callback("count", [&](const Event& e) {
              const int fd = ::open(marker.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600);
              if (fd < 0) {
                file << "overlap " << e.id << '\n';
              } else {
                ::close(fd);
              }
              file << "delivered " << e.id << '\n';
              std::this_thread::sleep_for(std::chrono::milliseconds(5));
              if (fd >= 0) ::unlink(marker.c_str());
              return SinkResult::ok();
            });
            for (int k = 0; k < kTicks; ++k) {
              std::this_thread::sleep_until(t0 + k * std::chrono::milliseconds(100));
              CheckOptions o;
              o.exclusive = true;
              const auto start = std::chrono::steady_clock::now();
              const CheckResult r = lifecycle.check(kNow + std::chrono::days(k), o);
              const auto end = std::chrono::steady_clock::now();
              if (r.skipped) {
                file << "skipped\n";
                continue;
              }
              for (const Event& e : r.emitted) file << "emitted " << e.id << '\n';
              // Outer bounds of the run (the lock is taken after `start` and released before `end`).
              file << "run " << start.time_since_epoch().count() << ' ' << end.time_since_epoch().count() << '\n';
            }
            file.flush();
          } catch (const std::exception& e) {
            std::ofstream(out.string() + ".error") << e.what() << '\n';
            ::_exit(3);
          }
          ::_exit(0);
        }
        pids.push_back(pid);
      }
      for (const pid_t pid : pids) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
      }
      std::vector<std::pair<long long, long long>> runs;
      std::map<std::string, int> emitted;
      int skipped = 0;
      int overlaps = 0;
      for (int n = 0; n < 3; ++n) {
        const fs::path out = dir.path() / ("tick" + std::to_string(n));
        const std::string error = error_of(out);
        CHECK_MESSAGE(error.empty(), error);
        for (const std::string& line : lines_of(out)) {
          std::istringstream in(line);
          std::string what;
          in >> what;
          if (what == "run") {
            long long a = 0;
            long long b = 0;
            in >> a >> b;
            runs.emplace_back(a, b);
          } else if (what == "emitted") {
            std::string id;
            in >> id;
            ++emitted[id];
          } else if (what == "skipped") {
            ++skipped;
          } else if (what == "overlap") {
            ++overlaps;
          }
        }
      }
      // Runs whose outer bounds are disjoint: most, unless the machine is very slow.
      std::sort(runs.begin(), runs.end());
      int disjoint = 0;
      for (std::size_t i = 1; i < runs.size(); ++i) disjoint += runs[i].first >= runs[i - 1].second ? 1 : 0;
      MESSAGE(backend << ": " << disjoint << " of " << runs.size() << " runs apart by their outer bounds");
      MESSAGE(backend << ": " << runs.size() << " runs, " << skipped << " skipped, " << emitted.size() << " events");
      CHECK(overlaps == 0);
      // Most ticks ran somewhere; under load a run can outlast a tick, and a tick that finds the lock
      // held skips by design (19 of 20 were seen on a loaded 2-core machine).
      CHECK(runs.size() >= static_cast<std::size_t>(kTicks) / 2);
      CHECK(skipped > 0);
      for (const auto& entry : emitted) CHECK_MESSAGE(entry.second == 1, entry.first);
      auto s = Store::open(options_in(location));
      Lifecycle lifecycle(*s);
      CHECK(lifecycle.events().size() == emitted.size());
      CHECK(emitted.size() >= 12 * 3);  // at least the 7, 1 and 0 day stages of each certificate
    }
  }
  TEST_CASE("several nodes: 3 processes ticking every second for 10 s with the last-run rule - exactly the expected runs, never overlapping, no threshold announced twice") {
    for (const std::string& backend : testing::testable_backends()) {
      INFO("backend: ", backend);
      TempDir dir;
      const std::string location = *testing::location_for(backend, dir);
      {
        auto s = Store::create(options_in(location), vault::KeySource::key_file(dir.path() / "store.key"));
        testing::CertFactory f;
        const SecretBytes pw = test::pw("Test1234");
        for (int i = 0; i < 12; ++i) {
          testing::LeafSpec spec;
          spec.common_name = "interval " + std::to_string(i);
          spec.not_before = to_unix(kNow) - 10 * kDay;
          spec.not_after = to_unix(kNow) + (1 + i) * kDay;  // each run (a day on per tick) crosses thresholds
          testing::Made made = f.made(spec, pw);
          ImportOptions o;
          o.report = testing::passing_report(made.certificate, kNow);
          (void)s->import(made.bundle, made.pkcs12, pw, o);
        }
        Lifecycle lifecycle(*s);
        (void)lifecycle.add_sink(callback_sink("count"));
      }
      // Every node's timer fires at the same moments, every second, 10 ticks. The wall clock the
      // rule reads (whole seconds) is injected: at tick k every node's reads the tick's second, as
      // clocks kept in step by NTP would, so what runs does not depend on how long a run takes
      // on a loaded machine. With a minimum interval of 3 s, the run at tick k lets the next
      // start at tick k + 3: runs at ticks 0, 3, 6 and 9, each on one node; every other tick of
      // every node skips (by the lock while the tick's run is on, else by the record).
      constexpr int kTicks = 10;
      constexpr std::chrono::seconds kInterval{3};
      const auto t0 = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
      const auto nanos = [](std::chrono::steady_clock::time_point t) {
        return static_cast<long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
      };
      std::vector<pid_t> pids;
      for (int n = 0; n < 3; ++n) {
        const fs::path out = dir.path() / ("node" + std::to_string(n));
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
          try {
            const auto wall = std::make_shared<FixedClock>(kNow);
            StoreOptions so = options_in(location);
            so.wall_clock = wall;
            auto s = Store::open(std::move(so));
            Lifecycle lifecycle(*s);
            std::ofstream file(out);
            const fs::path marker = dir.path() / "inside-a-run";
            // Deliveries happen inside the run: each is timed (the monotonic clock, shared by the
            // processes), and a marker file only one run at a time can hold catches an overlap.
            lifecycle.register_callback("count", [&](const Event& e) {
              const int fd = ::open(marker.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600);
              if (fd < 0) file << "overlap " << e.id << '\n';
              file << "delivered " << e.id << ' ' << nanos(std::chrono::steady_clock::now()) << '\n';
              std::this_thread::sleep_for(std::chrono::milliseconds(2));
              if (fd >= 0) {
                ::close(fd);
                ::unlink(marker.c_str());
              }
              return SinkResult::ok();
            });
            for (int k = 0; k < kTicks; ++k) {
              std::this_thread::sleep_until(t0 + k * std::chrono::seconds(1));
              wall->set(kNow + std::chrono::seconds(k));
              CheckOptions o;
              o.min_interval = kInterval;
              o.node = "node-" + std::to_string(n);
              const auto start = std::chrono::steady_clock::now();
              const CheckResult r = lifecycle.check(kNow + std::chrono::days(k), o);
              const auto end = std::chrono::steady_clock::now();
              if (r.skipped) {
                file << "skipped " << k << ' ' << (r.skip_reason.empty() ? "-" : r.skip_reason) << '\n';
                continue;
              }
              for (const Event& e : r.emitted) file << "emitted " << e.id << '\n';
              file << "run " << k << ' ' << nanos(start) << ' ' << nanos(end) << '\n';
            }
            file.flush();
          } catch (const std::exception& e) {
            std::ofstream(out.string() + ".error") << e.what() << '\n';
            ::_exit(3);
          }
          ::_exit(0);
        }
        pids.push_back(pid);
      }
      for (const pid_t pid : pids) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
      }
      struct Run {
        int tick = 0;
        long long start = 0;
        long long end = 0;
        int node = 0;
      };
      std::vector<Run> runs;
      std::vector<long long> deliveries;
      std::map<std::string, int> emitted;
      std::map<std::string, int> delivered;
      int skipped_by_lock = 0;
      int skipped_by_interval = 0;
      int overlaps = 0;
      for (int n = 0; n < 3; ++n) {
        const fs::path out = dir.path() / ("node" + std::to_string(n));
        const std::string error = error_of(out);
        CHECK_MESSAGE(error.empty(), error);
        for (const std::string& line : lines_of(out)) {
          std::istringstream in(line);
          std::string what;
          in >> what;
          if (what == "run") {
            Run r;
            r.node = n;
            in >> r.tick >> r.start >> r.end;
            runs.push_back(r);
          } else if (what == "emitted") {
            std::string id;
            in >> id;
            ++emitted[id];
          } else if (what == "delivered") {
            std::string id;
            long long at = 0;
            in >> id >> at;
            ++delivered[id];
            deliveries.push_back(at);
          } else if (what == "skipped") {
            int tick = 0;
            std::string reason;
            in >> tick >> std::ws;
            std::getline(in, reason);
            if (reason == "another check holds the store's run lock") {
              ++skipped_by_lock;
            } else if (reason.rfind("the last check ended at ", 0) == 0 &&
                       reason.find("the minimum interval is 3 s") != std::string::npos) {
              ++skipped_by_interval;
            } else {
              FAIL_CHECK("unexpected skip reason: " << reason);
            }
          } else if (what == "overlap") {
            ++overlaps;
          }
        }
      }
      std::sort(runs.begin(), runs.end(), [](const Run& a, const Run& b) { return a.start < b.start; });
      std::ostringstream shape;
      for (const Run& r : runs) shape << " tick " << r.tick << " on node-" << r.node << " (" << (r.end - r.start) / 1000000 << " ms)";
      MESSAGE(backend << ": " << runs.size() << " runs:" << shape.str() << "; " << skipped_by_lock << " skipped by the lock, "
                      << skipped_by_interval << " by the interval; " << emitted.size() << " events");
      // Exactly the expected runs: ticks 0, 3, 6, 9, one node each; the other 26 ticks skipped.
      REQUIRE(runs.size() == 4);
      for (std::size_t i = 0; i < runs.size(); ++i) CHECK(runs[i].tick == static_cast<int>(3 * i));
      CHECK(skipped_by_lock + skipped_by_interval == 3 * kTicks - 4);
      CHECK(skipped_by_interval > 0);
      // Never overlapping: the runs' outer bounds are disjoint, every delivery falls inside one run.
      CHECK(overlaps == 0);
      for (std::size_t i = 1; i < runs.size(); ++i) CHECK(runs[i].start >= runs[i - 1].end);
      for (const long long at : deliveries) {
        const bool inside = std::any_of(runs.begin(), runs.end(), [&](const Run& r) { return at >= r.start && at <= r.end; });
        CHECK(inside);
      }
      // Never announced twice, and everything announced was delivered once.
      for (const auto& entry : emitted) CHECK_MESSAGE(entry.second == 1, entry.first);
      CHECK(delivered.size() == emitted.size());
      for (const auto& entry : delivered) CHECK_MESSAGE(entry.second == 1, entry.first);
      auto s = Store::open(options_in(location));
      Lifecycle lifecycle(*s);
      CHECK(lifecycle.events().size() == emitted.size());
      CHECK(emitted.size() >= 12 * 2);
      // The last-run record names the node of the last run.
      const std::optional<CheckRun> last = lifecycle.last_check();
      REQUIRE(last.has_value());
      CHECK(last->node == "node-" + std::to_string(runs.back().node));
      CHECK(last->started == kNow + std::chrono::seconds(runs.back().tick));
      CHECK(last->ended == last->started);
      CHECK(last->success);
    }
  }
}
