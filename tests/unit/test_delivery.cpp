// Delivery to people and ticket systems: the webhook sink against a real local receiver
// (tests/delivery/webhook_receiver.py on 127.0.0.1, port 0, stopped by PID), the smtp sink against
// a real SMTP server (tests/delivery/smtp_receiver.py, Debian's aiosmtpd, the same way), and no event
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

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <map>

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

// ---- the smtp sink against a real SMTP server (tests/delivery/smtp_receiver.py, aiosmtpd) ---------

namespace {

/// The SMTP server, answering DATA with `plan` in turn; what it receives lands in `dir`.
std::unique_ptr<LocalServer> smtp_server(const fs::path& dir, const std::string& plan = "250",
                                         const std::string& auth = "") {
  fs::create_directories(dir);
  std::vector<std::string> argv{"/usr/bin/python3", script("smtp_receiver.py"), "--dir", dir.string(), "--plan", plan};
  if (!auth.empty()) {
    argv.push_back("--auth");
    argv.push_back(auth);
  }
  return std::make_unique<LocalServer>(argv);
}

std::string smtp_url(const LocalServer& s) {
  std::string url = "smtp://127.0.0.1:";  // appended: GCC 12 -O3's false -Wrestrict
  url += std::to_string(s.port());
  return url;
}

SinkConfig smtp_sink(const LocalServer& s, const SinkOptionValues& extra) {
  SinkOptionValues v{{"smtp", smtp_url(s)}, {"from", "pki@service.example.dk"}, {"starttls", "opportunistic"}};
  v.insert(v.end(), extra.begin(), extra.end());
  return sink_from_options("mail", "smtp", v);
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string base64_decoded(std::string text) {
  std::erase_if(text, [](char c) { return c == '\r' || c == '\n' || c == ' '; });
  std::string out(text.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  REQUIRE(n >= 0);
  out.resize(static_cast<std::size_t>(n));
  while (text.ends_with("=")) {  // EVP_DecodeBlock counts the padding as zero bytes
    text.pop_back();
    out.pop_back();
  }
  return out;
}

/// A received message: its header lines as sent (unfolded) and its body decoded.
struct Mail {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  [[nodiscard]] std::string header(const std::string& name) const {
    for (const auto& h : headers) {
      if (h.first == name) return h.second;
    }
    return {};
  }
  [[nodiscard]] std::size_t count(const std::string& name) const {
    return static_cast<std::size_t>(std::count_if(headers.begin(), headers.end(), [&](const auto& h) { return h.first == name; }));
  }
  /// The Subject with its RFC 2047 encoded-words ("=?UTF-8?B?...?=") decoded.
  [[nodiscard]] std::string subject() const {
    std::string s = header("Subject");
    std::string out;
    std::size_t i = 0;
    while (i < s.size()) {
      const auto start = s.find("=?UTF-8?B?", i);
      if (start == std::string::npos) {
        out += s.substr(i);
        break;
      }
      const std::string between = s.substr(i, start - i);
      if (between.find_first_not_of(' ') != std::string::npos) out += between;  // blanks between words vanish
      const auto end = s.find("?=", start + 10);
      REQUIRE(end != std::string::npos);
      out += base64_decoded(s.substr(start + 10, end - start - 10));
      i = end + 2;
    }
    return out;
  }
};

Mail parse_mail(const std::string& raw) {
  const auto split = raw.find("\r\n\r\n");
  REQUIRE(split != std::string::npos);
  Mail m;
  std::string head = raw.substr(0, split + 2);
  std::size_t at = 0;
  while (at < head.size()) {
    const auto end = head.find("\r\n", at);
    REQUIRE(end != std::string::npos);  // every line ends in CRLF: no bare CR or LF
    const std::string line = head.substr(at, end - at);
    CHECK(line.find_first_of("\r\n") == std::string::npos);
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      REQUIRE_FALSE(m.headers.empty());
      m.headers.back().second += line;  // a continuation line
    } else {
      const auto colon = line.find(": ");
      REQUIRE_MESSAGE(colon != std::string::npos, "not a header line: " << line);
      m.headers.emplace_back(line.substr(0, colon), line.substr(colon + 2));
    }
    at = end + 2;
  }
  REQUIRE(m.header("Content-Transfer-Encoding") == "base64");
  m.body = base64_decoded(raw.substr(split + 4));
  return m;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

/// The Message-ID the sink must give a digest of these events: 32 hex digits of SHA-256 over the
/// sorted ids, each followed by a newline, at the sender's domain.
std::string expected_message_id(const std::vector<std::string>& ids) {
  std::string text;
  for (const std::string& id : sorted(ids)) {
    text += id;
    text += '\n';
  }
  unsigned char md[32];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), md);
  std::string out = "<";
  static const char* hex = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  out += ".dpgcert@service.example.dk>";
  return out;
}

/// An organisation with contacts (e-mail addresses) and a language.
void add_org(Store& store, const std::string& cvr, const std::string& name, const std::vector<std::string>& emails,
             const std::string& language = "da") {
  Organisation o;
  o.cvr = cvr;
  o.name = name;
  o.language = language;
  for (const std::string& e : emails) o.contacts.push_back({"Kontakt", e, "IT"});
  (void)store.add_organisation(o);
}

/// A certificate named `cn` attached to organisation `cvr`, expiring `days` after kT0.
std::string put_for(Env& env, const std::string& cvr, const std::string& cn, std::int64_t days, bool raw = false) {
  testing::LeafSpec s;
  s.common_name = cn;
  s.raw_names = raw;
  s.not_after = to_unix(kT0) + days * kDay;
  s.not_before = s.not_after - 1095 * kDay;
  const Certificate leaf = env.factory.leaf(s);
  ImportOptions o;
  o.report = testing::passing_report(leaf, kT0);
  o.organisation_cvr = cvr;
  REQUIRE(env.store->import(env.factory.bundle(leaf), leaf.der(), env.password, o).outcome == ImportOutcome::imported);
  return to_hex(leaf.fingerprint_sha256());
}

std::vector<fs::path> files(const fs::path& dir, const std::string& prefix, const std::string& ext) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.starts_with(prefix) && n.ends_with(ext)) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> strings_of(const json& j) {
  std::vector<std::string> out;
  for (const json& e : j) out.push_back(e.get<std::string>());
  return out;
}

}  // namespace

TEST_SUITE("delivery") {
  TEST_CASE("smtp: one digest per organisation to its contacts and the fixed addresses, in its language") {
    Env env;
    const fs::path dir = env.dir.path() / "mail";
    const auto server = smtp_server(dir);
    add_org(*env.store, "11111111", "Sønderborg Vandværk A/S", {"it@vand.example.dk", "Drift@Vand.example.dk"});
    add_org(*env.store, "22222222", "Harbour Shipping ApS", {"pki@harbour.example.com"}, "en");
    Lifecycle lifecycle(*env.store);
    (void)lifecycle.add_sink(smtp_sink(*server, {{"contacts", "true"}, {"to", "ops@service.example.dk"}}));
    const std::string fp1 = put_for(env, "11111111", "Sikker post 1", 10);
    const std::string fp2 = put_for(env, "11111111", "Sikker post 2", 50);
    const std::string fp3 = put_for(env, "22222222", "Secure mail", 5);

    const CheckResult r = lifecycle.check(kT0);
    REQUIRE(r.emitted.size() == 3);
    REQUIRE(r.deliveries.size() == 3);
    for (const auto& d : r.deliveries) CHECK_MESSAGE(d.delivered, d.error);
    std::map<std::string, std::vector<std::string>> ids;  // by CVR
    for (const Event& e : r.emitted) ids[*e.cvr()].push_back(e.id);

    const auto mails = files(dir, "", ".eml");
    REQUIRE(mails.size() == 2);  // one per organisation, not one per event
    bool seen_da = false;
    bool seen_en = false;
    for (const fs::path& p : mails) {
      const Mail m = parse_mail(read_all(p));
      const json envelope = json::parse(read_all(fs::path(p).replace_extension(".json")));
      CHECK(envelope["mail_from"] == "pki@service.example.dk");
      CHECK(m.header("From") == "dpgcert <pki@service.example.dk>");
      CHECK(m.header("MIME-Version") == "1.0");
      CHECK(m.header("Content-Type") == "text/plain; charset=UTF-8");
      CHECK(m.header("Auto-Submitted") == "auto-generated");
      // RFC 5322 date: "Sat, 05 Dec 2026 03:01:00 +0000".
      const std::string date = m.header("Date");
      CHECK(date.size() == 31);
      CHECK(date.substr(3, 2) == ", ");
      CHECK(date.ends_with(" +0000"));
      if (m.header("Content-Language") == "da") {
        seen_da = true;
        CHECK(sorted(strings_of(envelope["rcpt_tos"])) ==
              std::vector<std::string>{"drift@vand.example.dk", "it@vand.example.dk", "ops@service.example.dk"});
        CHECK(m.header("To").find("it@vand.example.dk") != std::string::npos);
        // Not ASCII: RFC 2047 encoded-words, decoded back to the organisation's name.
        CHECK(m.header("Subject").starts_with("=?UTF-8?B?"));
        CHECK(m.subject() == "Certifikater kræver handling: Sønderborg Vandværk A/S (CVR 11111111) [2]");
        CHECK(m.header("Message-ID") == expected_message_id(ids["11111111"]));
        CHECK(m.body.starts_with("Hej,\r\n"));
        CHECK(m.body.find("Sikker post 1: udløber snart (grænse: 14 dage)") != std::string::npos);
        CHECK(m.body.find("Sikker post 2: udløber snart (grænse: 60 dage)") != std::string::npos);
        CHECK(m.body.find(fp1) != std::string::npos);
        CHECK(m.body.find(fp2) != std::string::npos);
        CHECK(m.body.find(fp3) == std::string::npos);  // the other organisation's certificate
        for (const std::string& id : ids["11111111"]) CHECK(m.body.find(id) != std::string::npos);
      } else {
        seen_en = true;
        CHECK(m.header("Content-Language") == "en");
        CHECK(sorted(strings_of(envelope["rcpt_tos"])) ==
              std::vector<std::string>{"ops@service.example.dk", "pki@harbour.example.com"});
        CHECK(m.subject() == "Certificates need attention: Harbour Shipping ApS (CVR 22222222) [1]");
        CHECK(m.header("Subject") == m.subject());  // ASCII goes as it is
        CHECK(m.header("Message-ID") == expected_message_id(ids["22222222"]));
        CHECK(m.body.starts_with("Hello,\r\n"));
        CHECK(m.body.find("Secure mail: expires soon (threshold: 7 days)") != std::string::npos);
        CHECK(m.body.find(fp3) != std::string::npos);
      }
      // Every line of the body ends in CRLF.
      CHECK(m.body.find('\n') == m.body.find("\r\n") + 1);
    }
    CHECK(seen_da);
    CHECK(seen_en);
  }

  TEST_CASE("smtp: 451 is retried with the same Message-ID, then delivered - 550 is not retried") {
    Env env;
    add_org(*env.store, "11111111", "Kunde A/S", {"it@kunde.example.dk"});
    put_for(env, "11111111", "c1", 10);
    put_for(env, "11111111", "c2", 10);
    SUBCASE("451, then 250") {
      const fs::path dir = env.dir.path() / "mail";
      const auto server = smtp_server(dir, "451,250");
      Lifecycle lifecycle(*env.store);
      (void)lifecycle.add_sink(smtp_sink(*server, {{"contacts", "true"}}));
      const CheckResult first = lifecycle.check(kT0);
      REQUIRE(first.deliveries.size() == 2);
      for (const auto& d : first.deliveries) {
        CHECK_FALSE(d.delivered);
        CHECK_FALSE(d.abandoned);
        CHECK(d.error.find("the SMTP server answered 451") != std::string::npos);
        REQUIRE(d.retry_at.has_value());
        CHECK(*d.retry_at - kT0 >= std::chrono::seconds(30));
        CHECK(*d.retry_at - kT0 <= std::chrono::seconds(60));
      }
      const auto second = lifecycle.deliver(kT0 + std::chrono::minutes(10));
      REQUIRE(second.size() == 2);
      for (const auto& d : second) {
        CHECK(d.attempt == 2);
        CHECK(d.delivered);
      }
      CHECK(lifecycle.deliver(kT0 + std::chrono::hours(48)).empty());
      const auto refused = files(dir, "refused-", ".eml");
      const auto accepted = files(dir, "", ".eml");
      REQUIRE(refused.size() == 1);
      REQUIRE(accepted.size() == 2);  // refused-0.eml and 1.eml
      // A resend is recognisable: the same Message-ID.
      const std::string id = parse_mail(read_all(refused[0])).header("Message-ID");
      CHECK(id.size() > 40);
      CHECK(parse_mail(read_all(dir / "1.eml")).header("Message-ID") == id);
      const auto stats = lifecycle.sink_stats();
      REQUIRE(stats.size() == 1);
      CHECK(stats[0].delivered == 2);
      CHECK(stats[0].pending == 0);
    }
    SUBCASE("550") {
      const fs::path dir = env.dir.path() / "mail";
      const auto server = smtp_server(dir, "550");
      Lifecycle lifecycle(*env.store);
      (void)lifecycle.add_sink(smtp_sink(*server, {{"contacts", "true"}}));
      const CheckResult first = lifecycle.check(kT0);
      REQUIRE(first.deliveries.size() == 2);
      for (const auto& d : first.deliveries) {
        CHECK_FALSE(d.delivered);
        CHECK(d.abandoned);
        CHECK(d.error.find("the SMTP server answered 550") != std::string::npos);
        CHECK(d.error.find("not retried") != std::string::npos);
        CHECK_FALSE(d.retry_at.has_value());
      }
      CHECK(lifecycle.deliver(kT0 + std::chrono::hours(48)).empty());
      CHECK(files(dir, "refused-", ".eml").size() == 1);
      const auto stats = lifecycle.sink_stats();
      REQUIRE(stats.size() == 1);
      CHECK(stats[0].pending == 2);
      CHECK_FALSE(stats[0].next_attempt_at.has_value());
    }
  }

  TEST_CASE("smtp: credentials from a file or the environment are used - wrong ones are a clear error without them") {
    Env env;
    add_org(*env.store, "11111111", "Kunde A/S", {});
    put_for(env, "11111111", "c1", 10);
    const fs::path dir = env.dir.path() / "mail";
    const auto server = smtp_server(dir, "250", "relay-user:S3cret-Relay-Pw");
    const fs::path auth = env.dir.path() / "smtp.auth";
    SUBCASE("wrong, then right, from a file") {
      test::write_text(auth, "relay-user:Wrong-Password-99\n");
      fs::permissions(auth, fs::perms::owner_read | fs::perms::owner_write);
      Lifecycle lifecycle(*env.store);
      const SinkConfig sink = smtp_sink(*server, {{"to", "ops@service.example.dk"}, {"auth-file", auth.string()}});
      CHECK(sink.settings.find("Wrong-Password") == std::string::npos);
      CHECK(describe_sink(sink).find(auth.string()) != std::string::npos);
      (void)lifecycle.add_sink(sink);
      const CheckResult first = lifecycle.check(kT0);
      REQUIRE(first.deliveries.size() == 1);
      CHECK_FALSE(first.deliveries[0].delivered);
      CHECK_FALSE(first.deliveries[0].abandoned);  // kept for when the credentials are fixed
      CHECK(first.deliveries[0].error.find("refused the credentials from " + auth.string()) != std::string::npos);
      CHECK(first.deliveries[0].error.find("Wrong-Password") == std::string::npos);
      CHECK(first.deliveries[0].error.find("relay-user") == std::string::npos);
      CHECK(files(dir, "", ".eml").empty());
      test::write_text(auth, "relay-user:S3cret-Relay-Pw\n");
      const auto second = lifecycle.deliver(kT0 + std::chrono::hours(1));
      REQUIRE(second.size() == 1);
      CHECK_MESSAGE(second[0].delivered, second[0].error);
      const json envelope = json::parse(read_all(dir / "0.json"));
      CHECK(envelope["authenticated"] == true);
      CHECK(envelope["login"] == "relay-user");
    }
    SUBCASE("a file others may read is refused") {
      test::write_text(auth, "relay-user:S3cret-Relay-Pw\n");
      fs::permissions(auth, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
      Lifecycle lifecycle(*env.store);
      (void)lifecycle.add_sink(smtp_sink(*server, {{"to", "ops@service.example.dk"}, {"auth-file", auth.string()}}));
      const CheckResult first = lifecycle.check(kT0);
      REQUIRE(first.deliveries.size() == 1);
      CHECK_FALSE(first.deliveries[0].delivered);
      CHECK(first.deliveries[0].error.find("S3cret") == std::string::npos);
      CHECK(files(dir, "", ".eml").empty());
    }
    SUBCASE("from the environment") {
      ::setenv("DPGCERT_TEST_SMTP_AUTH", "relay-user:S3cret-Relay-Pw", 1);
      Lifecycle lifecycle(*env.store);
      (void)lifecycle.add_sink(smtp_sink(*server, {{"to", "ops@service.example.dk"}, {"auth-env", "DPGCERT_TEST_SMTP_AUTH"}}));
      const CheckResult first = lifecycle.check(kT0);
      ::unsetenv("DPGCERT_TEST_SMTP_AUTH");
      REQUIRE(first.deliveries.size() == 1);
      CHECK_MESSAGE(first.deliveries[0].delivered, first.deliveries[0].error);
      CHECK(json::parse(read_all(dir / "0.json"))["login"] == "relay-user");
    }
    SUBCASE("none configured: the server requires AUTH and refuses") {
      Lifecycle lifecycle(*env.store);
      (void)lifecycle.add_sink(smtp_sink(*server, {{"to", "ops@service.example.dk"}}));
      const CheckResult first = lifecycle.check(kT0);
      REQUIRE(first.deliveries.size() == 1);
      CHECK_FALSE(first.deliveries[0].delivered);
      CHECK(first.deliveries[0].error.find("the SMTP server answered 530") != std::string::npos);
      CHECK(files(dir, "", ".eml").empty());
    }
  }

  TEST_CASE("smtp: CR, LF and controls in an organisation name or certificate subject make no header of their own") {
    Env env;
    const fs::path dir = env.dir.path() / "mail";
    const auto server = smtp_server(dir);
    add_org(*env.store, "11111111", "Evil A/S\r\nBcc: victim@evil.example\r\nX-Injected: yes", {"it@kunde.example.dk"});
    put_for(env, "11111111", "cn\r\n\r\nBcc: victim2@evil.example\r\nX-Injected-Too: yes", 10, true);
    Lifecycle lifecycle(*env.store);
    (void)lifecycle.add_sink(smtp_sink(*server, {{"contacts", "true"}}));
    const CheckResult r = lifecycle.check(kT0);
    REQUIRE(r.deliveries.size() == 1);
    CHECK_MESSAGE(r.deliveries[0].delivered, r.deliveries[0].error);
    const auto mails = files(dir, "", ".eml");
    REQUIRE(mails.size() == 1);
    const Mail m = parse_mail(read_all(mails[0]));  // every header line well-formed
    CHECK(m.count("Bcc") == 0);
    CHECK(m.count("X-Injected") == 0);
    CHECK(m.count("X-Injected-Too") == 0);
    CHECK(m.count("Subject") == 1);
    const std::string subject = m.subject();
    CHECK(subject.find_first_of("\r\n") == std::string::npos);
    CHECK(subject.find("Evil A/S  Bcc: victim@evil.example  X-Injected: yes") != std::string::npos);
    const json envelope = json::parse(read_all(fs::path(mails[0]).replace_extension(".json")));
    CHECK(strings_of(envelope["rcpt_tos"]) == std::vector<std::string>{"it@kunde.example.dk"});
    // In the body, the subject is one line too.
    CHECK(m.body.find("cn    Bcc: victim2@evil.example  X-Injected-Too: yes: ") != std::string::npos);
  }

  TEST_CASE("smtp: no contacts and no --to is a clear warning, not a silent drop - transport failures are retried") {
    Env env;
    add_org(*env.store, "11111111", "Kunde A/S", {});
    put_for(env, "11111111", "c1", 10);
    SUBCASE("no recipient") {
      const fs::path dir = env.dir.path() / "mail";
      const auto server = smtp_server(dir);
      Lifecycle lifecycle(*env.store);
      (void)lifecycle.add_sink(smtp_sink(*server, {{"contacts", "true"}}));
      const CheckResult r = lifecycle.check(kT0);
      REQUIRE(r.deliveries.size() == 1);
      CHECK_FALSE(r.deliveries[0].delivered);
      CHECK(r.deliveries[0].abandoned);
      CHECK(r.deliveries[0].error.find("no recipient: organisation 11111111 has no contact") != std::string::npos);
      CHECK(r.deliveries[0].error.find("no --to") != std::string::npos);
      CHECK(files(dir, "", ".eml").empty());
      const auto stats = lifecycle.sink_stats();
      REQUIRE(stats.size() == 1);
      CHECK(stats[0].pending == 1);  // kept with its reason
      REQUIRE(stats[0].last_error.has_value());
      CHECK(stats[0].last_error->find("no recipient") != std::string::npos);
    }
    SUBCASE("connection refused") {
      std::string url = "smtp://127.0.0.1:";
      {
        const auto gone = smtp_server(env.dir.path() / "gone");
        url += std::to_string(gone->port());
      }  // stopped: nothing listens there now
      Lifecycle lifecycle(*env.store);
      (void)lifecycle.add_sink(sink_from_options(
          "mail", "smtp",
          {{"smtp", url}, {"from", "pki@service.example.dk"},
           {"to", "ops@service.example.dk"}, {"starttls", "opportunistic"}, {"timeout", "5"}}));
      const auto started = std::chrono::steady_clock::now();
      const CheckResult r = lifecycle.check(kT0);
      CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(3));
      REQUIRE(r.deliveries.size() == 1);
      CHECK_FALSE(r.deliveries[0].delivered);
      CHECK_FALSE(r.deliveries[0].abandoned);
      CHECK(r.deliveries[0].retry_at.has_value());
      CHECK(r.deliveries[0].error.find("onnect") != std::string::npos);
    }
    SUBCASE("STARTTLS required but not offered") {
      const fs::path dir = env.dir.path() / "mail";
      const auto server = smtp_server(dir);
      Lifecycle lifecycle(*env.store);
      (void)lifecycle.add_sink(sink_from_options(
          "mail", "smtp", {{"smtp", smtp_url(*server)}, {"from", "pki@service.example.dk"}, {"to", "ops@service.example.dk"}}));
      const CheckResult r = lifecycle.check(kT0);
      REQUIRE(r.deliveries.size() == 1);
      CHECK_FALSE(r.deliveries[0].delivered);
      CHECK_FALSE(r.deliveries[0].abandoned);
      CHECK_MESSAGE(r.deliveries[0].error.find("SSL") != std::string::npos, r.deliveries[0].error);
      CHECK(files(dir, "", ".eml").empty());  // nothing went in the clear
    }
  }

  TEST_CASE("smtp: settings are checked - plain SMTP only to this host, recipients and one source of credentials") {
    auto code = [](const SinkOptionValues& v) {
      return code_of([&] { (void)sink_from_options("mail", "smtp", v); });
    };
    const SinkOptionValues base{{"from", "pki@service.example.dk"}, {"to", "ops@service.example.dk"}};
    auto with = [&](SinkOptionValues extra) {
      SinkOptionValues v = base;
      v.insert(v.end(), extra.begin(), extra.end());
      return v;
    };
    // Fine: STARTTLS required anywhere, implicit TLS anywhere, opportunistic on this host.
    CHECK_NOTHROW((void)sink_from_options("m", "smtp", with({{"smtp", "smtp://mail.example.dk:587"}})));
    CHECK_NOTHROW((void)sink_from_options("m", "smtp", with({{"smtp", "smtps://mail.example.dk:465"}})));
    CHECK_NOTHROW((void)sink_from_options("m", "smtp", with({{"smtp", "smtp://localhost:25"}, {"starttls", "opportunistic"}})));
    const SinkConfig flagged = sink_from_options("m", "smtp", with({{"smtp", "smtps://mail.example.dk"}, {"contacts", "true"}}));
    CHECK(json::parse(flagged.settings)["contacts"] == true);
    CHECK(describe_sink(flagged).find("contacts, ops@service.example.dk") != std::string::npos);
    // Refused.
    CHECK(code(with({{"smtp", "smtp://mail.example.dk:25"}, {"starttls", "opportunistic"}})) == ErrorCode::invalid_argument);
    CHECK(code(with({{"smtp", "smtp://127.0.0.1:25"}, {"starttls", "sometimes"}})) == ErrorCode::invalid_argument);
    CHECK(code(with({{"smtp", "http://mail.example.dk"}})) == ErrorCode::invalid_argument);
    CHECK(code(with({{"smtp", "smtps://user:pw@mail.example.dk"}})) == ErrorCode::invalid_argument);
    CHECK(code(with({{"smtp", "smtps://mail.example.dk"}, {"auth-file", "/x"}, {"auth-env", "X"}})) ==
          ErrorCode::invalid_argument);
    CHECK(code(with({{"smtp", "smtps://mail.example.dk"}, {"contacts", "maybe"}})) == ErrorCode::invalid_argument);
    CHECK(code({{"smtp", "smtps://mail.example.dk"}, {"from", "pki@service.example.dk"}}) == ErrorCode::invalid_argument);
    for (const char* bad : {"no-at-sign", "a@b@c", "a b@c.dk", "x@y.dk\r\nBcc: z@evil", "<x@y.dk>", "x@y.dk,z@w.dk"}) {
      CAPTURE(bad);
      CHECK(code({{"smtp", "smtps://mail.example.dk"}, {"from", bad}, {"to", "ops@service.example.dk"}}) ==
            ErrorCode::invalid_argument);
      CHECK(code({{"smtp", "smtps://mail.example.dk"}, {"from", "pki@service.example.dk"}, {"to", bad}}) ==
            ErrorCode::invalid_argument);
    }
  }
}
