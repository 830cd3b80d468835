// The sink conformance suite: every kind in the sink registry must pass it. A new kind adds its
// fixture to fixture_for(); the suite fails until it does.
#include "delivery/local_server.hpp"
#include "support/test_support.hpp"
#include "lifecycle/lifecycle_impl.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/lifecycle.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <optional>

using namespace dpgcert;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using test::code_of;
using test::TempDir;

/// How the suite exercises one sink kind.
struct Fixture {
  std::string good_settings;                       ///< Settings that deliver.
  std::vector<std::string> bad_settings;           ///< Settings validate_sink refuses.
  std::string failing_settings;                    ///< Valid settings whose delivery fails (retry).
  std::function<std::size_t()> delivered;          ///< How many events reached the target.
  std::optional<EventCallback> callback;           ///< For kinds that call a function.
};

std::optional<Fixture> fixture_for(const std::string& kind, const fs::path& dir, std::size_t& calls) {
  if (kind == "jsonl") {
    const fs::path out = dir / "events.jsonl";
    return Fixture{json{{"path", out.string()}}.dump(),
                   {"{}", R"({"path": ""})", R"({"path": 3})", "[1]", "not json"},
                   json{{"path", (dir / "missing" / "x.jsonl").string()}}.dump(),
                   [out] {
                     std::ifstream in(out);
                     std::size_t n = 0;
                     for (std::string line; std::getline(in, line);) n += json::parse(line).contains("id") ? 1 : 0;
                     return n;
                   },
                   std::nullopt};
  }
  if (kind == "command") {
    const fs::path out = dir / "hook.out";
    return Fixture{json{{"argv", {"sh", "-c", "cat >> '" + out.string() + "'"}}, {"timeout_seconds", 10}}.dump(),
                   {"{}", R"({"argv": []})", R"({"argv": [""]})", R"({"argv": [1]})",
                    R"({"argv": ["true"], "timeout_seconds": 0})", R"({"argv": ["true"], "timeout_seconds": 7200})"},
                   json{{"argv", {"false"}}}.dump(),
                   [out] {
                     std::ifstream in(out);
                     std::size_t n = 0;
                     for (std::string line; std::getline(in, line);) n += json::parse(line).contains("id") ? 1 : 0;
                     return n;
                   },
                   std::nullopt};
  }
  if (kind == "webhook") {
    // A real receiver on 127.0.0.1 (it verifies the signatures; kept alive by the counter).
    const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const fs::path secret_file = dir / "webhook.secret";
    test::write_text(secret_file, secret);
    fs::permissions(secret_file, fs::perms::owner_read);
    const fs::path log = dir / "webhook.jsonl";
    const auto server = std::make_shared<test::LocalServer>(std::vector<std::string>{
        "/usr/bin/python3", (fs::path(DPGCERT_SOURCE_DIR) / "tests/delivery/webhook_receiver.py").string(), "--secret",
        secret, "--log", log.string()});
    std::string url = "http://127.0.0.1:";  // appended: GCC 12 -O3's false -Wrestrict
    url += std::to_string(server->port());
    url += "/h";
    return Fixture{json{{"url", url}, {"secret_file", secret_file.string()}}.dump(),
                   {"{}", json{{"url", url}}.dump(), json{{"url", "http://example.com/h"}, {"secret_file", "/x"}}.dump(),
                    json{{"url", url}, {"secret_file", "/x"}, {"timeout_seconds", 0}}.dump(),
                    json{{"url", url}, {"secret_file", "/x"}, {"max_attempts", "3"}}.dump(), "[1]"},
                   json{{"url", "http://127.0.0.1:1/h"}, {"secret_file", secret_file.string()}}.dump(),
                   [server, log] {
                     std::ifstream in(log);
                     std::size_t n = 0;
                     for (std::string line; std::getline(in, line);) {
                       const json r = json::parse(line);
                       n += r["signature_ok"] == true && r["body_id"] == r["id"] ? 1 : 0;
                     }
                     return n;
                   },
                   std::nullopt};
  }
  if (kind == "smtp") {
    // A real SMTP server on 127.0.0.1 (Debian's aiosmtpd); every event the digests list counts.
    const fs::path mail = dir / "mail";
    fs::create_directories(mail);
    const auto server = std::make_shared<test::LocalServer>(std::vector<std::string>{
        "/usr/bin/python3", (fs::path(DPGCERT_SOURCE_DIR) / "tests/delivery/smtp_receiver.py").string(), "--dir",
        mail.string()});
    std::string url = "smtp://127.0.0.1:";  // appended: GCC 12 -O3's false -Wrestrict
    url += std::to_string(server->port());
    const json good{{"url", url}, {"from", "pki@service.example.dk"}, {"to", {"ops@service.example.dk"}},
                    {"starttls", "opportunistic"}};
    json refused = good;
    refused["url"] = "smtp://127.0.0.1:1";
    return Fixture{good.dump(),
                   {"{}", json{{"url", url}, {"to", {"ops@service.example.dk"}}}.dump(),
                    json{{"url", url}, {"from", "pki@service.example.dk"}}.dump(),
                    json{{"url", "smtp://mail.example.dk"}, {"from", "pki@service.example.dk"}, {"to", {"ops@x.dk"}},
                         {"starttls", "opportunistic"}}.dump(),
                    json{{"url", url}, {"from", "pki@service.example.dk"}, {"to", {"not an address"}}}.dump(), "[1]"},
                   refused.dump(),
                   [server, mail] {
                     std::size_t n = 0;
                     for (const auto& e : fs::directory_iterator(mail)) {
                       if (e.path().extension() != ".eml") continue;
                       std::ifstream in(e.path(), std::ios::binary);
                       std::string raw{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
                       std::string b64 = raw.substr(raw.find("\r\n\r\n") + 4);
                       std::erase_if(b64, [](char c) { return c == '\r' || c == '\n'; });
                       std::string body(b64.size(), '\0');
                       const int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(body.data()),
                                                       reinterpret_cast<const unsigned char*>(b64.data()),
                                                       static_cast<int>(b64.size()));
                       body.resize(static_cast<std::size_t>(std::max(len, 0)));
                       for (std::size_t at = body.find("event-"); at != std::string::npos; at = body.find("event-", at + 1)) ++n;
                     }
                     return n;
                   },
                   std::nullopt};
  }
  if (kind == "callback") {
    return Fixture{"{}", {"[1]", "not json"}, "{}", [&calls] { return calls; },
                   EventCallback([&calls](const Event& e) {
                     if (e.id.empty()) return SinkResult::retry("no id");
                     ++calls;
                     return SinkResult::ok();
                   })};
  }
  return std::nullopt;
}

Delivery delivery(const std::string& sink, int n) {
  Event e;
  e.id = "event-" + std::to_string(n);
  e.kind = EventKind::expiring;
  e.stage_days = 30;
  e.certificate.fingerprint = std::string(64, 'a');
  Delivery d;
  d.sink = sink;
  d.event.seq = n;
  d.event.id = e.id;
  d.event.payload = to_json(e).dump();
  d.attempts = 1;
  return d;
}

}  // namespace

TEST_SUITE("sink conformance") {
  TEST_CASE("every sink kind in the registry passes the conformance suite") {
    const auto kinds = sink_kinds();
    REQUIRE(kinds.size() >= 3);
    for (const SinkKindInfo& info : kinds) {
      CAPTURE(info.name);
      TempDir dir;
      std::size_t calls = 0;
      const auto fx = fixture_for(info.name, dir.path(), calls);
      REQUIRE_MESSAGE(fx.has_value(), "no conformance fixture for sink kind '" << info.name << "'");
      CHECK_FALSE(info.summary.empty());
      for (const SinkOption& o : info.options) {
        CHECK_FALSE(o.key.empty());
        CHECK_FALSE(o.help.empty());
      }

      SinkConfig sink;
      sink.name = "conformance";
      sink.kind = info.name;
      sink.settings = fx->good_settings;
      validate_sink(sink);
      // Every required option is a member of the good settings.
      for (const SinkOption& o : info.options) {
        if (o.required) CHECK(json::parse(sink.settings).contains(o.key));
      }
      for (const std::string& bad : fx->bad_settings) {
        CAPTURE(bad);
        SinkConfig b = sink;
        b.settings = bad;
        CHECK(code_of([&] { validate_sink(b); }) == ErrorCode::invalid_argument);
        // A runner for unusable settings fails every delivery instead of throwing.
        const auto runner = lifecycle_detail::make_runner(b, fx->callback ? &*fx->callback : nullptr);
        const auto results = runner->deliver(std::vector<Delivery>{delivery(b.name, 1)});
        REQUIRE(results.size() == 1);
        CHECK_FALSE(results[0].delivered);
        CHECK_FALSE(results[0].error.empty());
      }

      // Delivery: one result per delivery, in order; each event reaches the target once.
      const std::vector<Delivery> batch{delivery(sink.name, 1), delivery(sink.name, 2), delivery(sink.name, 3)};
      const auto runner = lifecycle_detail::make_runner(sink, fx->callback ? &*fx->callback : nullptr);
      const auto results = runner->deliver(batch);
      REQUIRE(results.size() == batch.size());
      for (const SinkResult& r : results) CHECK(r.delivered);
      CHECK(fx->delivered() == batch.size());

      // A target that fails is "retry later" with a reason, never an exception.
      SinkConfig failing = sink;
      failing.settings = fx->failing_settings;
      const auto bad_runner = lifecycle_detail::make_runner(failing, nullptr);
      const auto failed = bad_runner->deliver(batch);
      REQUIRE(failed.size() == batch.size());
      for (const SinkResult& r : failed) {
        CHECK_FALSE(r.delivered);
        CHECK_FALSE(r.error.empty());
      }
    }
  }

  TEST_CASE("a kind not in the registry is refused by validate_sink and fails its deliveries") {
    SinkConfig s;
    s.name = "hook";
    s.kind = "pager";
    CHECK(code_of([&] { validate_sink(s); }) == ErrorCode::invalid_argument);
    const auto runner = lifecycle_detail::make_runner(s, nullptr);
    const auto r = runner->deliver(std::vector<Delivery>{delivery("hook", 1)});
    REQUIRE(r.size() == 1);
    CHECK_FALSE(r[0].delivered);
    CHECK(r[0].error.find("not built into this dpgcert") != std::string::npos);
  }
}

TEST_SUITE("sink conformance") {
  TEST_CASE("sink kinds describe their options for the tool - sink_from_options builds their settings") {
    for (const SinkKindInfo& info : sink_kinds()) {
      CAPTURE(info.name);
      std::vector<std::string> flags;
      for (const SinkOption& o : info.options) {
        CHECK_FALSE(o.flag.empty());
        CHECK_FALSE(o.config_key.empty());
        CHECK(std::find(flags.begin(), flags.end(), o.flag) == flags.end());  // one option per flag
        flags.push_back(o.flag);
      }
      // A kind without an option named after it is chosen by a bare flag, which has a help text.
      if (std::find(flags.begin(), flags.end(), info.name) == flags.end()) CHECK_FALSE(info.flag_help.empty());
    }
    // The same settings as the kinds' own constructors.
    CHECK(sink_from_options("log", "jsonl", {{"jsonl", "/var/log/x.jsonl"}}).settings == jsonl_sink("log", "/var/log/x.jsonl").settings);
    CHECK(sink_from_options("out", "jsonl", {{"jsonl", "-"}}).settings == jsonl_sink("out", "-").settings);
    CHECK(sink_from_options("rel", "jsonl", {{"jsonl", "x.jsonl"}}).settings == jsonl_sink("rel", "x.jsonl").settings);
    CHECK(sink_from_options("t", "command", {{"arg", "-v"}, {"command", "hook"}, {"arg", "--queue=pki"}}).settings ==
          command_sink("t", {"hook", "-v", "--queue=pki"}).settings);
    CHECK(sink_from_options("t", "command", {{"command", "hook"}, {"timeout", "60"}}).settings ==
          command_sink("t", {"hook"}, std::chrono::seconds(60)).settings);
    CHECK(sink_from_options("cb", "callback", {}).settings == callback_sink("cb").settings);
    CHECK(sink_from_options("cb", "callback", {{"callback", ""}}).settings == "{}");
    // Errors are invalid_argument.
    for (const auto& bad_case : std::vector<std::pair<std::string, SinkOptionValues>>{
             {"pager", {}},
             {"webhook", {}},
             {"jsonl", {}},
             {"jsonl", {{"jsonl", ""}}},
             {"jsonl", {{"jsonl", "a"}, {"jsonl", "b"}}},
             {"jsonl", {{"jsonl", "a"}, {"arg", "b"}}},
             {"command", {{"arg", "x"}}},
             {"command", {{"command", "true"}, {"timeout", "0"}}},
             {"command", {{"command", "true"}, {"timeout", "ten"}}},
             {"command", {{"command", "true"}, {"timeout", "7200"}}},
             {"callback", {{"jsonl", "x"}}},
         }) {
      const std::string& kind = bad_case.first;  // not structured bindings: clang 14 cannot capture those
      const SinkOptionValues& values = bad_case.second;
      CAPTURE(kind);
      CHECK(code_of([&] { (void)sink_from_options("x", kind, values); }) == ErrorCode::invalid_argument);
    }
    // describe_sink: one line, never an exception.
    CHECK(describe_sink(command_sink("t", {"hook", "-v"})) == "hook -v (timeout 30 s)");
    CHECK(describe_sink(jsonl_sink("log", "/var/log/x.jsonl")) == "/var/log/x.jsonl");
    CHECK(describe_sink(callback_sink("cb")) == "(a function registered by the program)");
    SinkConfig odd = jsonl_sink("log", "/x");
    odd.settings = "not json";
    CHECK(describe_sink(odd) == "?");
    odd.kind = "pager";
    CHECK(describe_sink(odd).find("not built in") != std::string::npos);
  }
}
