// The tool's configuration file (issue 8): where it is found, what it sets, and that flags and
// the environment win over it.
#include "support/test_support.hpp"

#include <dpgcert/lifecycle.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>

using namespace dpgcert;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string q(const fs::path& p) { return test::shell_quote(p.string()); }
struct Workspace {
  test::TempDir tmp{"dpgcert-config"};
  fs::path dir = tmp.path();
  // No configuration of the machine or the user may leak into these tests.
  test::ScopedEnv no_config{"DPGCERT_CONFIG", std::nullopt};
  test::ScopedEnv no_store{"DPGCERT_STORE", std::nullopt};
  test::ScopedEnv xdg{"XDG_CONFIG_HOME", (dir / "xdg").string()};
  Workspace() { test::write_text(dir / "pw", "Test1234"); }
};

json parse_or_fail(const test::ToolResult& r) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE_FALSE(r.out.empty());
  return json::parse(r.out);
}

constexpr const char* kNow = "2025-06-01T00:00:00Z";

}  // namespace

TEST_SUITE("cli config") {
  TEST_CASE("a configuration file sets the store, key, actor and validation defaults") {
    DPGCERT_REQUIRE_TOOL();
    Workspace w;
    const fs::path d = test::test_data_dir();
    // Paths in the file are relative to its folder.
    test::write_text(w.dir / "etc" / "config.json",
               json{{"store", "../data/store.db"},
                    {"key_file", "../keys/master.key"},
                    {"actor", "renewal-job"},
                    {"jobs", 1},
                    {"validation", {{"trust", {(d / "oces2-prod/root.crt.pem").string()}}, {"crls", {(d / "oces2-prod/crl-current.crl.pem").string()}}}}}
                   .dump());
    fs::create_directories(w.dir / "data");
    fs::create_directories(w.dir / "keys");
    const std::string cfg = "--config " + q(w.dir / "etc" / "config.json") + " ";
    // store init honours the configured store path; its key file is given here.
    REQUIRE(test::run_tool(cfg + "store init --key-file " + q(w.dir / "keys" / "master.key")).exit_code == 0);
    CHECK(fs::exists(w.dir / "data" / "store.db"));
    // The synthetic root is trusted only through the configuration: the import passes validation.
    const json imp = parse_or_fail(test::run_tool(cfg + "import " + q(d / "oces2-prod/voces.p12") + " " +
                                                  q(d / "odd/foces-revoked.p12") + " --password-file " + q(w.dir / "pw") +
                                                  " --now " + kNow + " --json"));
    CHECK(imp[0]["outcome"] == "imported");
    CHECK(imp[1]["outcome"] == "refused");  // the configured CRL is used
    const json audit = parse_or_fail(test::run_tool(cfg + "audit --json"));
    CHECK(audit.back()["actor"] == "renewal-job");

    // The key file named in the configuration wins over the one the store remembers.
    fs::rename(w.dir / "keys" / "master.key", w.dir / "keys" / "moved.key");
    CHECK(test::run_tool(cfg + "export " + imp[0]["fingerprint_sha256"].get<std::string>() + " --out " + q(w.dir / "x.p12") +
                         " --password-file " + q(w.dir / "pw"))
              .exit_code == 3);
    test::write_text(w.dir / "etc" / "config.json", json{{"store", "../data/store.db"}, {"key_file", "../keys/moved.key"}}.dump());
    CHECK(test::run_tool(cfg + "export " + imp[0]["fingerprint_sha256"].get<std::string>() + " --out " + q(w.dir / "x.p12") +
                         " --password-file " + q(w.dir / "pw"))
              .exit_code == 0);

    // Found through $DPGCERT_CONFIG and through $XDG_CONFIG_HOME/dpgcert/config.json, too.
    {
      const test::ScopedEnv env("DPGCERT_CONFIG", (w.dir / "etc" / "config.json").string());
      CHECK(parse_or_fail(test::run_tool("list --json")).size() == 1);
    }
    fs::create_directories(w.dir / "xdg" / "dpgcert");
    fs::copy_file(w.dir / "etc" / "config.json", w.dir / "xdg" / "dpgcert" / "config.json");
    test::write_text(w.dir / "xdg" / "dpgcert" / "config.json",
               json{{"store", (w.dir / "data" / "store.db").string()}, {"key_file", (w.dir / "keys" / "moved.key").string()}}.dump());
    CHECK(parse_or_fail(test::run_tool("list --json")).size() == 1);
  }

  TEST_CASE("flags and environment variables win over the configuration file") {
    DPGCERT_REQUIRE_TOOL();
    Workspace w;
    test::write_text(w.dir / "config.json", json{{"store", (w.dir / "configured.db").string()}, {"actor", "from-config"}}.dump());
    const std::string cfg = "--config " + q(w.dir / "config.json") + " ";
    REQUIRE(test::run_tool(cfg + "--store " + q(w.dir / "flag.db") + " store init --key-file " + q(w.dir / "k")).exit_code == 0);
    CHECK(fs::exists(w.dir / "flag.db"));
    CHECK_FALSE(fs::exists(w.dir / "configured.db"));
    {
      const test::ScopedEnv env("DPGCERT_STORE", (w.dir / "flag.db").string());
      const json org = parse_or_fail(test::run_tool(cfg + "--actor from-flag org add 12345674 --name Testfirma --json"));
      CHECK(org["created_by"] == "from-flag");
      CHECK(parse_or_fail(test::run_tool(cfg + "org list --json")).size() == 1);
    }
    CHECK_FALSE(fs::exists(w.dir / "configured.db"));
  }

  TEST_CASE("a bad configuration file is a clear usage error naming the file") {
    DPGCERT_REQUIRE_TOOL();
    Workspace w;
    const std::map<std::string, std::string> bad{
        {"unknown.json", R"({"stor": "x.db"})"},
        {"broken.json", R"({"store": )"},
        {"type.json", R"({"store": 42})"},
        {"both.json", R"({"key_file": "k", "passphrase_env": "P"})"},
        {"thresholds.json", R"({"thresholds": [90, -1]})"},
        {"sink.json", R"({"sinks": [{"name": "x"}]})"},
        {"validation.json", R"({"validation": {"trusted": []}})"},
        {"array.json", R"([1, 2])"},
    };
    for (const auto& entry : bad) {
      const std::string& name = entry.first;  // (clang 14 cannot capture a structured binding)
      const std::string& text = entry.second;
      CAPTURE(name);
      test::write_text(w.dir / name, text);
      const auto r = test::run_tool("--config " + q(w.dir / name) + " list");
      CHECK(r.exit_code == 64);
      CHECK(r.err.find(name) != std::string::npos);
    }
    const auto missing = test::run_tool("--config " + q(w.dir / "nope.json") + " list");
    CHECK(missing.exit_code == 3);
    CHECK(missing.err.find("nope.json") != std::string::npos);
    // --help and the generators never read it.
    CHECK(test::run_tool("--config " + q(w.dir / "broken.json") + " list --help").exit_code == 0);
  }
}

TEST_SUITE("cli config") {
  TEST_CASE("check applies the configuration's thresholds and sinks to the store") {
    DPGCERT_REQUIRE_TOOL();
    Workspace w;
    const fs::path d = test::test_data_dir();
    const fs::path events = w.dir / "events.jsonl";
    test::write_text(w.dir / "config.json",
                     json{{"store", "store.db"},
                          {"thresholds", {600, 30, 0}},
                          {"validation", {{"trust", {(d / "oces2-prod/root.crt.pem").string()}}}},
                          {"sinks", {{{"name", "log"}, {"jsonl", "events.jsonl"}}}}}
                         .dump());
    const std::string cfg = "--config " + q(w.dir / "config.json") + " ";
    REQUIRE(test::run_tool(cfg + "store init --key-file " + q(w.dir / "k")).exit_code == 0);
    const json imp = parse_or_fail(test::run_tool(cfg + "import " + q(d / "oces2-prod/foces.p12") + " --password-file " +
                                                  q(w.dir / "pw") + " --now " + kNow + " --json"));
    REQUIRE(imp[0]["outcome"] == "imported");
    // 579 days before expiry: past the configured 600-day threshold, not the built-in 90.
    const auto r = test::run_tool(cfg + "check --json --at " + kNow);
    CHECK(r.exit_code == 1);
    const json event = parse_or_fail(r);
    CHECK(event["kind"] == "expiring");
    CHECK(event["stage_days"] == 600);
    // Delivered to the configured sink, which is now one of the store's.
    const std::string delivered = test::read_text(events);
    CHECK(json::parse(delivered.substr(0, delivered.find('\n')))["id"] == event["id"]);
    const json sinks = parse_or_fail(test::run_tool(cfg + "sink list --json"));
    CHECK(sinks.dump().find("\"log\"") != std::string::npos);
    const json policy = parse_or_fail(test::run_tool(cfg + "org policy default --json"));
    CHECK(policy.dump().find("600") != std::string::npos);
    // Again: nothing new, nothing added twice.
    const auto again = test::run_tool(cfg + "check --json --at " + kNow);
    CHECK(again.exit_code == 1);
    CHECK(again.out.empty());
    // A sink of the same name but other settings is a conflict, not a silent change.
    test::write_text(w.dir / "config.json",
                     json{{"store", "store.db"}, {"sinks", {{{"name", "log"}, {"jsonl", "other.jsonl"}}}}}.dump());
    const auto conflict = test::run_tool(cfg + "check --json --at " + kNow);
    CHECK(conflict.exit_code == 3);
    CHECK(parse_or_fail(conflict)["error"]["code"] == "conflict");
  }
}

TEST_SUITE("cli config") {
  TEST_CASE("sink add --help, the man page and the completion offer the options of every sink kind") {
    DPGCERT_REQUIRE_TOOL();
    const auto help = test::run_tool("sink add --help");
    REQUIRE(help.exit_code == 0);
    const auto man = test::run_tool("generate man");
    REQUIRE(man.exit_code == 0);
    const auto completion = test::run_tool("generate bash-completion");
    REQUIRE(completion.exit_code == 0);
    const std::string add_words = completion.out.substr(completion.out.find("\"sink add\") words="));
    auto roff = [](std::string s) {
      std::string out;
      for (char c : s) out += c == '-' ? std::string("\\-") : std::string(1, c);
      return out;
    };
    const auto kinds = sink_kinds();
    REQUIRE(kinds.size() >= 3);
    for (const SinkKindInfo& k : kinds) {
      CAPTURE(k.name);
      // Every kind is chosen by an option named after it.
      CHECK(help.out.find("--" + k.name + " ") != std::string::npos);
      CHECK(add_words.find("--" + k.name + " ") != std::string::npos);
      CHECK(man.out.find(".B " + roff("--" + k.name)) != std::string::npos);
      for (const SinkOption& o : k.options) {
        CAPTURE(o.flag);
        CHECK_FALSE(o.flag.empty());
        CHECK_FALSE(o.config_key.empty());
        CHECK(help.out.find("--" + o.flag + " ") != std::string::npos);
        CHECK(help.out.find(o.help) != std::string::npos);
        CHECK(add_words.find("--" + o.flag + " ") != std::string::npos);
        CHECK(man.out.find(".B " + roff("--" + o.flag)) != std::string::npos);
        // Kinds naming the same option mean the same type by it.
        for (const SinkKindInfo& other : kinds) {
          for (const SinkOption& p : other.options) {
            if (p.flag == o.flag) CHECK(p.type == o.type);
          }
        }
      }
    }
  }

  TEST_CASE("a configuration-file sink of every sink kind round-trips through the store, as sink add makes it") {
    DPGCERT_REQUIRE_TOOL();
    Workspace w;
    // Every option of every kind, with a value of its type; the file names each kind by its member.
    json sinks = json::array();
    std::map<std::string, SinkConfig> expected;
    std::map<std::string, std::string> command_lines;
    for (const SinkKindInfo& k : sink_kinds()) {
      json entry{{"name", "cfg-" + k.name}};
      SinkOptionValues values;
      std::string args;
      if (std::none_of(k.options.begin(), k.options.end(), [&](const SinkOption& o) { return o.flag == k.name; })) {
        entry[k.name] = true;
        args += " --" + k.name;
      }
      for (const SinkOption& o : k.options) {
        // A webhook's secret comes from a file or a variable, not both: the file is given.
        if (k.name == "webhook" && o.flag == "secret-env") continue;
        if (k.name == "smtp" && o.flag == "auth-env") continue;  // the same for SMTP credentials
        std::vector<std::string> given;
        switch (o.type) {
          case SinkOption::Type::path: given = {(w.dir / (k.name + "-" + o.flag)).string()}; break;
          case SinkOption::Type::program: given = {"/bin/true"}; break;
          case SinkOption::Type::strings: given = {"first", "second"}; break;
          case SinkOption::Type::seconds: given = {"7"}; break;
          case SinkOption::Type::string: given = {"text"}; break;
          case SinkOption::Type::flag: given = {"true"}; break;
        }
        if (k.name == "webhook" && o.flag == "webhook") given = {"https://tickets.example.com/hooks/dpgcert"};
        if (k.name == "smtp" && o.flag == "smtp") given = {"smtps://mail.example.dk:465"};
        if (k.name == "smtp" && o.flag == "from") given = {"pki@service.example.dk"};
        if (k.name == "smtp" && o.flag == "to") given = {"one@kunde.example.dk", "two@kunde.example.dk"};
        if (k.name == "smtp" && o.flag == "starttls") given = {"required"};
        if (o.type == SinkOption::Type::strings) {
          entry[o.config_key] = given;
        } else if (o.type == SinkOption::Type::seconds) {
          entry[o.config_key] = 7;
        } else if (o.type == SinkOption::Type::flag) {
          entry[o.config_key] = true;
        } else {
          entry[o.config_key] = given[0];
        }
        for (const std::string& v : given) {
          values.emplace_back(o.flag, v);
          // Piece by piece: GCC 12 at -O3 reads `" --" + o.flag` as an overlapping memcpy (-Wrestrict).
          args += " --";
          args += o.flag;
          if (o.type != SinkOption::Type::flag) {  // a switch takes no value
            args += ' ';
            args += test::shell_quote(v);
          }
        }
      }
      sinks.push_back(entry);
      expected["cfg-" + k.name] = sink_from_options("cfg-" + k.name, k.name, values);
      command_lines["cli-" + k.name] = args;
      expected["cli-" + k.name] = sink_from_options("cli-" + k.name, k.name, values);
    }
    test::write_text(w.dir / "config.json", json{{"store", "store.db"}, {"sinks", sinks}}.dump());
    const std::string cfg = "--config " + q(w.dir / "config.json") + " ";
    REQUIRE(test::run_tool(cfg + "store init --key-file " + q(w.dir / "k")).exit_code == 0);
    // check makes the store hold what the file says; a second run finds it so (no conflict).
    CHECK(test::run_tool(cfg + "check --json --at " + kNow).exit_code == 0);
    CHECK(test::run_tool(cfg + "check --json --at " + kNow).exit_code == 0);
    // sink add with the same values on the command line makes the same settings.
    for (const auto& line : command_lines) {
      const auto& name = line.first;  // not structured bindings: clang 14 cannot CAPTURE those
      const auto& args = line.second;
      CAPTURE(args);
      CHECK(test::run_tool(cfg + "sink add " + name + args).exit_code == 0);
    }
    const json listed = parse_or_fail(test::run_tool(cfg + "sink list --json"));
    REQUIRE(listed.size() == expected.size());
    for (const json& s : listed) {
      CAPTURE(s.dump());
      const SinkConfig& want = expected.at(s["name"].get<std::string>());
      CHECK(s["kind"] == want.kind);
      CHECK(s["settings"] == json::parse(want.settings));
    }
  }
}
