// Delivery to people and ticket systems: the webhook sink against a real local receiver
// (tests/delivery/webhook_receiver.py on 127.0.0.1, port 0, stopped by PID), and no event
// announced to nowhere (the backlog waits for the first sink). Nothing here reaches beyond 127.0.0.1.
#include "delivery/local_server.hpp"
#include "support/test_support.hpp"
#include "store/backends.hpp"
#include "store/cert_factory.hpp"
#include "lifecycle/lifecycle_impl.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/lifecycle.hpp>
#include <dpgcert/store.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <ctime>
#include <fstream>

#include <sys/stat.h>

using namespace dpgcert;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const Time kT0 = parse_rfc3339("2025-01-01T00:00:00Z");
constexpr std::int64_t kDay = 86400;
// 32 bytes, base64, as Standard Webhooks hands them out.
const std::string kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

using test::code_of;
using test::LocalServer;
using test::TempDir;

/// A store in a temporary folder with a fixed clock and a certificate factory.
struct Env {
  TempDir dir;
  std::shared_ptr<FixedClock> clock = std::make_shared<FixedClock>(kT0);
  testing::CertFactory factory;
  SecretBytes password = test::pw("Hemmeligt-Kodeord-42");
  std::unique_ptr<Store> store;
  Env() { store = Store::create(options(), vault::KeySource::key_file(dir.path() / "store.key")); }
  /// A store at `location` (a backend of testing::testable_backends()).
  explicit Env(const std::string& location) {
    StoreOptions o = options();
    o.path.clear();
    o.location = location;
    store = Store::create(std::move(o), vault::KeySource::key_file(dir.path() / "store.key"));
  }
  [[nodiscard]] StoreOptions options() const {
    StoreOptions o;
    o.path = dir.path() / "store.db";
    o.actor = "tester";
    o.clock = clock;
    return o;
  }
  /// A certificate expiring `days` after kT0: one event at the first check.
  void put(const std::string& cn, std::int64_t days) {
    testing::LeafSpec s;
    s.common_name = cn;
    s.not_after = to_unix(kT0) + days * kDay;
    s.not_before = s.not_after - 1095 * kDay;
    const Certificate leaf = factory.leaf(s);
    ImportOptions o;
    o.report = testing::passing_report(leaf, kT0);
    REQUIRE(store->import(factory.bundle(leaf), leaf.der(), password, o).outcome == ImportOutcome::imported);
  }
  /// The secret in a private file.
  [[nodiscard]] fs::path secret_file(const std::string& text = kSecret) const {
    const fs::path p = dir.path() / "webhook.secret";
    test::write_text(p, text + "\n");
    fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
    return p;
  }
};

std::string script(const std::string& name) {
  return (fs::path(DPGCERT_SOURCE_DIR) / "tests" / "delivery" / name).string();
}

/// The receiver, answering with `plan` in turn; its log in `log`.
std::unique_ptr<LocalServer> receiver(const fs::path& log, const std::string& plan, const std::string& retry_after = "",
                                      const std::string& delay = "0") {
  std::vector<std::string> argv{"/usr/bin/python3", script("webhook_receiver.py"), "--secret", kSecret, "--plan", plan,
                                "--log", log.string(), "--delay", delay};
  if (!retry_after.empty()) {
    argv.push_back("--retry-after");
    argv.push_back(retry_after);
  }
  return std::make_unique<LocalServer>(argv);
}

std::vector<json> lines_of(const fs::path& path) {
  std::vector<json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

SinkConfig webhook(const std::string& url, const fs::path& secret, const SinkOptionValues& extra = {}) {
  SinkOptionValues v{{"webhook", url}, {"secret-file", secret.string()}};
  v.insert(v.end(), extra.begin(), extra.end());
  return sink_from_options("hook", "webhook", v);
}

std::string url_of(const LocalServer& s) {
  std::string url = "http://127.0.0.1:";  // appended: GCC 12 -O3's false -Wrestrict
  url += std::to_string(s.port());
  url += "/hooks/dpgcert";
  return url;
}

}  // namespace

TEST_SUITE("delivery") {
  TEST_CASE("webhook: a receiver failing twice before 204 gets exactly 3 signed requests with one webhook-id") {
    Env env;
    const fs::path log = env.dir.path() / "requests.jsonl";
    const auto server = receiver(log, "503,503,204");
    Lifecycle lifecycle(*env.store);
    (void)lifecycle.add_sink(webhook(url_of(*server), env.secret_file()));
    env.put("c1", 10);

    const CheckResult first = lifecycle.check(kT0);
    REQUIRE(first.emitted.size() == 1);
    const std::string id = first.emitted[0].id;
    REQUIRE(first.deliveries.size() == 1);
    CHECK_FALSE(first.deliveries[0].delivered);
    CHECK_FALSE(first.deliveries[0].abandoned);
    CHECK(first.deliveries[0].error.find("HTTP 503") != std::string::npos);
    // Backoff with jitter: between half and the whole of retry_delay(1) (60 s).
    REQUIRE(first.deliveries[0].retry_at.has_value());
    const auto wait = *first.deliveries[0].retry_at - kT0;
    CHECK(wait >= std::chrono::seconds(30));
    CHECK(wait <= std::chrono::seconds(60));
    // Not before its time.
    CHECK(lifecycle.deliver(kT0 + std::chrono::seconds(29)).empty());

    const auto second = lifecycle.deliver(kT0 + std::chrono::minutes(10));
    REQUIRE(second.size() == 1);
    CHECK(second[0].attempt == 2);
    CHECK_FALSE(second[0].delivered);
    const auto third = lifecycle.deliver(kT0 + std::chrono::hours(1));
    REQUIRE(third.size() == 1);
    CHECK(third[0].attempt == 3);
    CHECK(third[0].delivered);
    CHECK(lifecycle.deliver(kT0 + std::chrono::hours(48)).empty());

    const std::vector<json> requests = lines_of(log);
    REQUIRE(requests.size() == 3);
    for (const json& r : requests) {
      CHECK(r["id"] == id);  // the same webhook-id on every attempt: the receiver deduplicates on it
      CHECK(r["body_id"] == id);
      CHECK(r["signature_ok"] == true);
      CHECK(r["fresh"] == true);
      CHECK(r["content_type"] == "application/json");
    }
    const auto stats = lifecycle.sink_stats();
    REQUIRE(stats.size() == 1);
    CHECK(stats[0].delivered == 1);
    CHECK(stats[0].pending == 0);
  }

  TEST_CASE("webhook: other 4xx are not retried - Retry-After is honoured - attempts are capped") {
    Env env;
    env.put("c1", 10);
    const fs::path secret = env.secret_file();
    Lifecycle lifecycle(*env.store);

    SUBCASE("400: given up at once, kept in the outbox with its error, never sent again") {
      const fs::path log = env.dir.path() / "r400.jsonl";
      const auto server = receiver(log, "400");
      (void)lifecycle.add_sink(webhook(url_of(*server), secret));
      const CheckResult r = lifecycle.check(kT0);
      REQUIRE(r.deliveries.size() == 1);
      CHECK_FALSE(r.deliveries[0].delivered);
      CHECK(r.deliveries[0].abandoned);
      CHECK_FALSE(r.deliveries[0].retry_at.has_value());
      CHECK(lifecycle.deliver(kT0 + std::chrono::days(30)).empty());
      CHECK(lines_of(log).size() == 1);
      const auto stats = lifecycle.sink_stats();
      CHECK(stats[0].pending == 1);
      CHECK_FALSE(stats[0].next_attempt_at.has_value());
      REQUIRE(stats[0].last_error.has_value());
      CHECK(stats[0].last_error->find("HTTP 400") != std::string::npos);
    }
    SUBCASE("503 with Retry-After in seconds: the next attempt exactly then") {
      const fs::path log = env.dir.path() / "r503.jsonl";
      const auto server = receiver(log, "503", "7200");
      (void)lifecycle.add_sink(webhook(url_of(*server), secret));
      const CheckResult r = lifecycle.check(kT0);
      REQUIRE(r.deliveries.size() == 1);
      REQUIRE(r.deliveries[0].retry_at.has_value());
      CHECK(*r.deliveries[0].retry_at == kT0 + std::chrono::seconds(7200));
      CHECK(lifecycle.deliver(kT0 + std::chrono::seconds(7199)).empty());
      CHECK(lifecycle.deliver(kT0 + std::chrono::seconds(7200)).size() == 1);
      CHECK(lines_of(log).size() == 2);
    }
    SUBCASE("429 with Retry-After as an HTTP date, two minutes ahead") {
      const std::time_t later = std::time(nullptr) + 120;
      std::tm tm{};
      ::gmtime_r(&later, &tm);
      char date[64];
      REQUIRE(std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0);
      const fs::path log = env.dir.path() / "r429.jsonl";
      const auto server = receiver(log, "429", date);
      (void)lifecycle.add_sink(webhook(url_of(*server), secret));
      const CheckResult r = lifecycle.check(kT0);
      REQUIRE(r.deliveries.size() == 1);
      REQUIRE(r.deliveries[0].retry_at.has_value());
      const auto wait = *r.deliveries[0].retry_at - kT0;
      CHECK(wait >= std::chrono::seconds(100));
      CHECK(wait <= std::chrono::seconds(120));
    }
    SUBCASE("500 on every attempt: given up after max_attempts") {
      const fs::path log = env.dir.path() / "r500.jsonl";
      const auto server = receiver(log, "500");
      (void)lifecycle.add_sink(webhook(url_of(*server), secret, {{"max-attempts", "2"}}));
      const CheckResult r = lifecycle.check(kT0);
      REQUIRE(r.deliveries.size() == 1);
      CHECK_FALSE(r.deliveries[0].abandoned);
      const auto again = lifecycle.deliver(kT0 + std::chrono::hours(1));
      REQUIRE(again.size() == 1);
      CHECK(again[0].attempt == 2);
      CHECK(again[0].abandoned);
      CHECK(again[0].error.find("gave up after 2 attempt(s)") != std::string::npos);
      CHECK(lifecycle.deliver(kT0 + std::chrono::days(30)).empty());
      CHECK(lines_of(log).size() == 2);
    }
  }

  TEST_CASE("webhook: URLs and secrets are checked - the secret never reaches a message or the settings") {
    Env env;
    const fs::path secret = env.secret_file();
    for (const char* bad : {"http://example.com/hook", "http://127.example.net/hook", "ftp://127.0.0.1/x",
                                   "https://user:pw@example.com/hook", "not a url", ""}) {
      CAPTURE(bad);
      CHECK(code_of([&] { (void)webhook(bad, secret); }) == ErrorCode::invalid_argument);
    }
    for (const char* good : {"https://tickets.example.com/hook", "http://127.0.0.1:8080/x", "http://localhost/x",
                                    "http://[::1]:9/x"}) {
      CAPTURE(good);
      const SinkConfig s = webhook(good, secret);
      CHECK(json::parse(s.settings)["url"] == good);
    }
    // One place for the secret, not none and not two.
    CHECK(code_of([&] { (void)sink_from_options("h", "webhook", {{"webhook", "https://x.example/h"}}); }) ==
          ErrorCode::invalid_argument);
    CHECK(code_of([&] {
            (void)sink_from_options("h", "webhook",
                                    {{"webhook", "https://x.example/h"}, {"secret-file", secret.string()}, {"secret-env", "X"}});
          }) == ErrorCode::invalid_argument);

    const SinkConfig good = webhook("http://127.0.0.1:1/x", secret);
    CHECK(good.settings.find("MfKQ9r8G") == std::string::npos);
    CHECK(describe_sink(good).find("MfKQ9r8G") == std::string::npos);
    CHECK(describe_sink(good).find(secret.string()) != std::string::npos);

    Delivery d;
    d.sink = "hook";
    d.event.seq = 1;
    d.event.id = "0123456789abcdef0123456789abcdef";
    d.event.payload = R"({"id":"0123456789abcdef0123456789abcdef"})";
    d.attempts = 1;
    // Nobody listens on port 1: a transport error, retried with jitter.
    {
      const auto r = lifecycle_detail::make_runner(good, nullptr)->deliver(std::vector<Delivery>{d});
      REQUIRE(r.size() == 1);
      CHECK_FALSE(r[0].delivered);
      CHECK_FALSE(r[0].give_up);
      CHECK_FALSE(r[0].error.empty());
      REQUIRE(r[0].retry_after.has_value());
      CHECK(r[0].retry_after->count() >= 30);
      CHECK(r[0].retry_after->count() <= 60);
    }
    // A secret file others may read, a secret that is not base64, one too short, a missing
    // variable: the runner fails with a reason that names the place, never the content.
    const std::string odd = "whsec_this is not base64 at all!";
    struct Case {
      std::string text;
      fs::perms perms;
      std::string says;
    };
    for (const Case& c : {Case{kSecret, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read, "accessible by others"},
                          Case{odd, fs::perms::owner_read, "not base64"}, Case{"whsec_c2hvcnQ=", fs::perms::owner_read, "24 to 64"}}) {
      CAPTURE(c.says);
      const fs::path p = env.dir.path() / "odd.secret";
      fs::remove(p);
      test::write_text(p, c.text);
      fs::permissions(p, c.perms);
      const auto r = lifecycle_detail::make_runner(webhook("http://127.0.0.1:1/x", p), nullptr)->deliver(std::vector<Delivery>{d});
      REQUIRE(r.size() == 1);
      CHECK_FALSE(r[0].delivered);
      CHECK(r[0].error.find(c.says) != std::string::npos);
      CHECK(r[0].error.find("this is not") == std::string::npos);
      CHECK(r[0].error.find("MfKQ9r8G") == std::string::npos);
    }
    const SinkConfig from_env =
        sink_from_options("h", "webhook", {{"webhook", "http://127.0.0.1:1/x"}, {"secret-env", "DPGCERT_TEST_WEBHOOK_SECRET"}});
    {
      test::ScopedEnv unset("DPGCERT_TEST_WEBHOOK_SECRET", std::nullopt);
      const auto r = lifecycle_detail::make_runner(from_env, nullptr)->deliver(std::vector<Delivery>{d});
      CHECK(r[0].error.find("$DPGCERT_TEST_WEBHOOK_SECRET is not set") != std::string::npos);
    }
  }

  TEST_CASE("webhook: a receiver slower than the timeout is a timeout after that many seconds - retried") {
    Env env;
    const fs::path log = env.dir.path() / "slow.jsonl";
    const auto server = receiver(log, "204", "", "3");
    Lifecycle lifecycle(*env.store);
    (void)lifecycle.add_sink(webhook(url_of(*server), env.secret_file(), {{"timeout", "1"}}));
    env.put("c1", 10);
    const auto start = std::chrono::steady_clock::now();
    const CheckResult r = lifecycle.check(kT0);
    const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    REQUIRE(r.deliveries.size() == 1);
    CHECK_FALSE(r.deliveries[0].delivered);
    CHECK_FALSE(r.deliveries[0].abandoned);
    CHECK(r.deliveries[0].error == "timed out after 1 s");
    CHECK(r.deliveries[0].retry_at.has_value());
    CHECK(took >= 0.9);
    CHECK(took < 1.6);  // the timeout, plus the check's own work
  }

  TEST_CASE("webhook: the secret from the environment signs as the file does") {
    Env env;
    const fs::path log = env.dir.path() / "requests.jsonl";
    const auto server = receiver(log, "204");
    test::ScopedEnv secret("DPGCERT_TEST_WEBHOOK_SECRET", kSecret);
    Lifecycle lifecycle(*env.store);
    (void)lifecycle.add_sink(
        sink_from_options("hook", "webhook", {{"webhook", url_of(*server)}, {"secret-env", "DPGCERT_TEST_WEBHOOK_SECRET"}}));
    env.put("c1", 10);
    const CheckResult r = lifecycle.check(kT0);
    REQUIRE(r.deliveries.size() == 1);
    CHECK(r.deliveries[0].delivered);
    const auto requests = lines_of(log);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0]["signature_ok"] == true);
  }

  TEST_CASE("no sink: check says so and the events wait in the outbox for the first sink added") {
    Env env;
    env.put("c1", 10);
    env.put("c2", 20);
    Lifecycle lifecycle(*env.store);
    const CheckResult r = lifecycle.check(kT0);
    CHECK(r.emitted.size() == 2);
    CHECK(r.no_sink);
    CHECK(r.undelivered_backlog == 2);
    CHECK(r.deliveries.empty());

    // A sink added without the backlog gets only what comes after; the backlog keeps waiting.
    AddSinkOptions without;
    without.backlog = false;
    const AddedSink late = lifecycle.add_sink(callback_sink("late"), without);
    CHECK(late.backlog == 0);
    std::vector<std::string> late_got;
    lifecycle.register_callback("late", [&](const Event& e) {
      late_got.push_back(e.id);
      return SinkResult::ok();
    });
    const CheckResult r2 = lifecycle.check(kT0 + std::chrono::hours(1));
    CHECK_FALSE(r2.no_sink);
    CHECK(r2.undelivered_backlog == 2);
    CHECK(late_got.empty());

    // The next sink added with the backlog (the default) receives both events, once.
    const AddedSink first = lifecycle.add_sink(callback_sink("first"), AddSinkOptions{});
    CHECK(first.backlog == 2);
    std::vector<std::string> got;
    lifecycle.register_callback("first", [&](const Event& e) {
      got.push_back(e.id);
      return SinkResult::ok();
    });
    const CheckResult r3 = lifecycle.check(kT0 + std::chrono::hours(2));
    CHECK(r3.undelivered_backlog == 0);
    CHECK(got.size() == 2);
    CHECK(std::find(got.begin(), got.end(), r.emitted[0].id) != got.end());
    CHECK(std::find(got.begin(), got.end(), r.emitted[1].id) != got.end());
    CHECK(late_got.empty());
    // A third sink finds no backlog: every event has its deliveries.
    CHECK(lifecycle.add_sink(callback_sink("third"), AddSinkOptions{}).backlog == 0);
  }

  TEST_CASE("on every backend: the backlog waits for a sink - a delivery given up stays without a next attempt") {
    for (const std::string& backend : testing::testable_backends()) {
      INFO("backend: ", backend);
      TempDir where;
      Env env(*testing::location_for(backend, where));
      env.put("c1", 10);
      Lifecycle lifecycle(*env.store);
      const CheckResult r = lifecycle.check(kT0);
      REQUIRE(r.emitted.size() == 1);
      CHECK(r.no_sink);
      CHECK(r.undelivered_backlog == 1);
      const AddedSink added = lifecycle.add_sink(callback_sink("refuser"), AddSinkOptions{});
      CHECK(added.backlog == 1);
      int calls = 0;
      lifecycle.register_callback("refuser", [&](const Event&) {
        ++calls;
        return SinkResult::abandon("refused for good");
      });
      const auto attempts = lifecycle.deliver(kT0 + std::chrono::minutes(1));
      REQUIRE(attempts.size() == 1);
      CHECK(attempts[0].abandoned);
      CHECK_FALSE(attempts[0].retry_at.has_value());
      CHECK(lifecycle.deliver(kT0 + std::chrono::days(30)).empty());
      CHECK(calls == 1);
      const auto stats = lifecycle.sink_stats();
      REQUIRE(stats.size() == 1);
      CHECK(stats[0].pending == 1);
      CHECK_FALSE(stats[0].next_attempt_at.has_value());
      CHECK(stats[0].last_error == std::optional<std::string>("refused for good"));
      // The event has its delivery: no backlog for the next sink.
      CHECK(lifecycle.add_sink(callback_sink("next"), AddSinkOptions{}).backlog == 0);
      CHECK(lifecycle.check(kT0 + std::chrono::hours(1)).undelivered_backlog == 0);
    }
  }
}
