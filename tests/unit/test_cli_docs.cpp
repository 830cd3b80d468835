// The tool's own documentation (issue 8): --help of every command with examples, the man page and
// the bash completion generated from the same definitions.
#include "support/test_support.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

using namespace dpgcert;
namespace fs = std::filesystem;

namespace {

/// Every command path the man page documents ("dpgcert store init", ...).
std::vector<std::string> documented_commands(const std::string& man) {
  std::vector<std::string> out;
  std::istringstream in(man);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(".SS \"", 0) == 0) {
      std::string path = line.substr(5, line.size() - 6);
      std::string plain;
      for (std::size_t i = 0; i < path.size(); ++i) {
        if (path[i] == '\\' && i + 1 < path.size() && path[i + 1] == '-') continue;  // roff's \-
        plain += path[i];
      }
      out.push_back(plain);
    }
  }
  return out;
}

/// Runs bash completion for `line` (the words typed so far, the last one being completed).
std::string complete(const fs::path& script, const std::string& words, int cword) {
  const fs::path out = fs::temp_directory_path() / ("dpgcert-complete-" + std::to_string(::getpid()));
  const std::string cmd = "bash -c " + test::shell_quote("source " + test::shell_quote(script.string()) + "; COMP_WORDS=(" + words +
                                                         "); COMP_CWORD=" + std::to_string(cword) +
                                                         "; _dpgcert; printf '%s\\n' \"${COMPREPLY[@]}\"") +
                          " > " + test::shell_quote(out.string());
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::string text = test::read_text(out);
  fs::remove(out);
  return text;
}

}  // namespace

TEST_SUITE("cli docs") {
  TEST_CASE("every command's --help works and shows examples") {
    DPGCERT_REQUIRE_TOOL();
    const auto man = test::run_tool("generate man");
    REQUIRE(man.exit_code == 0);
    const auto commands = documented_commands(man.out);
    REQUIRE(commands.size() >= 20);
    const auto top = test::run_tool("--help");
    CHECK(top.exit_code == 0);
    CHECK(top.out.find("Passwords are never taken as arguments") != std::string::npos);
    std::set<std::string> groups;  // commands that only hold subcommands (store, org, ...)
    for (const auto& c : commands) {
      const auto space = c.find(' ', 8);
      if (space != std::string::npos) groups.insert(c.substr(0, space));
    }
    for (const auto& c : commands) {
      CAPTURE(c);
      const std::string args = c.substr(8);  // without "dpgcert "
      const auto r = test::run_tool(args + " --help");
      CHECK(r.exit_code == 0);
      const std::string first = args.substr(0, args.find(' '));
      CHECK(top.out.find(first) != std::string::npos);
      if (groups.contains(c)) continue;
      CHECK_MESSAGE(r.out.find("Example") != std::string::npos, "no example in: dpgcert " << args << " --help");
    }
    // The hidden generator is not advertised.
    CHECK(top.out.find("generate") == std::string::npos);
  }

  TEST_CASE("the man page is valid roff and documents every command, option and variable") {
    DPGCERT_REQUIRE_TOOL();
    const auto man = test::run_tool("generate man");
    REQUIRE(man.exit_code == 0);
    CHECK(man.out.rfind(".\\\" Generated", 0) == 0);
    CHECK(man.out.find(".TH DPGCERT 1") != std::string::npos);
    for (const char* s : {".SH NAME", ".SH SYNOPSIS", ".SH COMMANDS", ".SH ENVIRONMENT", ".SH EXIT STATUS",
                          "DPGCERT_STORE", "DPGCERT_PASSPHRASE", "NO_COLOR", "\\-\\-password\\-map", "\\-\\-expiring\\-within"}) {
      CHECK_MESSAGE(man.out.find(s) != std::string::npos, s);
    }
    // No unescaped hyphen starts a word in running text, and no text line starts with a dot
    // or quote that roff would read as a request.
    std::istringstream in(man.out);
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '.') continue;
      CHECK_MESSAGE(line.find(" --") == std::string::npos, line);
      CHECK(line[0] != '\'');
    }
    // groff, when present, renders it without warnings.
    if (std::system("command -v groff >/dev/null 2>&1") == 0) {
      const fs::path page = fs::temp_directory_path() / ("dpgcert-" + std::to_string(::getpid()) + ".1");
      std::ofstream(page) << man.out;
      const std::string cmd = "groff -man -Tutf8 -ww -z " + test::shell_quote(page.string()) + " 2>" +
                              test::shell_quote(page.string() + ".err");
      CHECK(std::system(cmd.c_str()) == 0);
      CHECK(test::read_text(page.string() + ".err").empty());
      fs::remove(page);
      fs::remove(page.string() + ".err");
    } else {
      MESSAGE("groff is not installed: the man page was checked as text only");
    }
  }

  TEST_CASE("the bash completion completes commands, subcommands and options") {
    DPGCERT_REQUIRE_TOOL();
    const auto r = test::run_tool("generate bash-completion");
    REQUIRE(r.exit_code == 0);
    const fs::path script = fs::temp_directory_path() / ("dpgcert-completion-" + std::to_string(::getpid()));
    std::ofstream(script) << r.out;
    CHECK(std::system(("bash -n " + test::shell_quote(script.string())).c_str()) == 0);
    CHECK(complete(script, "dpgcert im", 1) == "import\n");
    const std::string store = complete(script, "dpgcert store ''", 2);
    CHECK(store.find("init\n") != std::string::npos);
    CHECK(store.find("info\n") != std::string::npos);
    CHECK(store.find("README") == std::string::npos);  // a group takes no files
    const std::string opts = complete(script, "dpgcert --store x.db import --pass", 4);
    CHECK(opts.find("--password-file\n") != std::string::npos);
    CHECK(opts.find("--password-map\n") != std::string::npos);
    CHECK(complete(script, "dpgcert org add --co", 3) == "--contact\n");
    CHECK(complete(script, "dpgcert list --org ''", 3) == "\n");  // a CVR, not a file name: nothing offered
    fs::remove(script);
  }
}

TEST_SUITE("cli docs") {
  TEST_CASE("human output of inspect and verify fits an 80-column terminal") {
    DPGCERT_REQUIRE_TOOL();
    const fs::path d = test::test_data_dir();
    const fs::path pw = fs::temp_directory_path() / ("dpgcert-80-" + std::to_string(::getpid()));
    std::ofstream(pw) << "Test1234";
    for (const char* f : {"oces2-prod/foces.p12", "oces2-prod/voces-legacy.p12", "oces3-prod/organisation.p12",
                          "odd/voces-utf8.p12", "odd/foces-expired.p12", "oces2-prod/chain.pem"}) {
      for (const std::string cmd : {"inspect", "verify"}) {
        CAPTURE(f);
        CAPTURE(cmd);
        const auto r = test::run_tool_on_terminal(cmd + " " + test::shell_quote((d / f).string()) + " --password-file " +
                                                  test::shell_quote(pw.string()) + " --now 2025-06-01T00:00:00Z");
        CHECK(r.exit_code != 64);
        std::istringstream lines(r.out);
        const std::string path = (d / f).string();
        for (std::string line; std::getline(lines, line);) {
          // The input's path is as long as the checkout's: it counts as a short name.
          if (const auto at = line.find(path); at != std::string::npos) line.replace(at, path.size(), f);
          // Columns, not bytes: UTF-8 continuation bytes take no column.
          std::size_t columns = 0;
          for (unsigned char c : line) columns += (c & 0xC0) == 0x80 ? 0 : 1;
          CHECK_MESSAGE(columns <= 80, line);
        }
      }
    }
    fs::remove(pw);
  }
}
