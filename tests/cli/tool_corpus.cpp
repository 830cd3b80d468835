// Every file of the public corpora and vectors in ../shared through `inspect --json`, `verify
// --json` and `import --json`, run in-process (the commands' bodies, without CLI11): no exit status
// above 3, no exception escaping, and standard output always one valid JSON document. Thousands of
// files in a few seconds, where a process per file would take minutes.
//
// Usage: dpgcert_tool_corpus [FOLDER...]; without folders, ../shared/corpora and ../shared/vectors
// ($DPGCERT_SHARED overrides ../shared). Exits 77 (skipped) when there is nothing to read.
#include "cli.hpp"
#include "store_cli.hpp"
#include "terminal.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace dpgcert::cli;

namespace {

constexpr int kSkip = 77;
constexpr std::size_t kImportBatch = 250;

/// What one command gave: its exit code and standard output, or the exception that escaped it.
struct Run {
  int rc = -1;
  std::string out;
  std::string escaped;
};

/// Runs `body` with std::cout and std::cerr captured.
Run capture(const std::function<int()>& body) {
  std::ostringstream out;
  std::ostringstream err;
  std::streambuf* old_out = std::cout.rdbuf(out.rdbuf());
  std::streambuf* old_err = std::cerr.rdbuf(err.rdbuf());
  Run r;
  try {
    r.rc = body();
  } catch (const std::exception& e) {
    r.escaped = e.what();
  } catch (...) {
    r.escaped = "unknown exception";
  }
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  r.out = out.str();
  return r;
}

struct Tally {
  std::size_t runs = 0;
  std::size_t failures = 0;
  std::map<int, std::size_t> exit_codes;
};

void check(const std::string& command, const std::string& what, const Run& r, Tally& tally) {
  ++tally.runs;
  ++tally.exit_codes[r.rc];
  std::string problem;
  if (!r.escaped.empty()) {
    problem = "an exception escaped: " + r.escaped;
  } else if (r.rc < 0 || r.rc > 3) {
    problem = "exit status " + std::to_string(r.rc);
  } else if (!nlohmann::json::accept(r.out)) {
    problem = "standard output is not one valid JSON document";
  }
  if (problem.empty()) return;
  ++tally.failures;
  if (tally.failures <= 20) std::cerr << "FAIL " << command << ' ' << what << ": " << problem << '\n';
}

std::vector<fs::path> files_under(const std::vector<fs::path>& roots) {
  std::vector<fs::path> files;
  for (const auto& root : roots) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_regular_file(ec)) files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

void print_tally(const std::string& command, const Tally& t) {
  std::cout << command << ": " << t.runs << " runs, " << t.failures << " failed; exit codes:";
  for (const auto& [code, n] : t.exit_codes) std::cout << ' ' << code << "x" << n;
  std::cout << '\n';
}

}  // namespace

/// `--hardening`: the tool's process hardening, checked in this process (1 check per property).
int check_hardening() {
  harden_process();
  rlimit core{};
  const bool no_core = ::getrlimit(RLIMIT_CORE, &core) == 0 && core.rlim_cur == 0 && core.rlim_max == 0;
  const bool undumpable = ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0;
  if (!no_core) std::cout << "FAIL: RLIMIT_CORE is not 0\n";
  if (!undumpable) std::cout << "FAIL: the process is still dumpable\n";
  const int failed = (no_core ? 0 : 1) + (undumpable ? 0 : 1);
  std::cout << (2 - failed) << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--hardening") return check_hardening();
  std::vector<fs::path> roots;
  for (int i = 1; i < argc; ++i) roots.emplace_back(argv[i]);
  if (roots.empty()) {
    const char* env = std::getenv("DPGCERT_SHARED");
    const fs::path shared = env != nullptr && *env != '\0' ? fs::path(env) : fs::path(DPGCERT_SHARED_DEFAULT);
    for (const char* sub : {"corpora", "vectors"}) {
      if (fs::is_directory(shared / sub)) roots.push_back(shared / sub);
    }
  }
  const std::vector<fs::path> files = files_under(roots);
  if (files.empty()) {
    std::cout << "SKIPPED: no corpus files (../shared/corpora and ../shared/vectors are absent; set DPGCERT_SHARED)\n";
    return kSkip;
  }

  // A private folder: an empty password file (so nothing prompts) and a store for the imports.
  char tmpl[] = "/tmp/dpgcert-corpus-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    std::cerr << "cannot make a temporary folder\n";
    return 1;
  }
  const fs::path tmp = tmpl;
  { std::ofstream(tmp / "empty.pw"); }
  PasswordSource password;
  password.file = (tmp / "empty.pw").string();
  Common common;
  common.json = true;
  common.now = "2026-06-01T00:00:00Z";

  Tally inspect_tally;
  Tally verify_tally;
  Tally import_tally;
  for (const auto& f : files) {
    InspectOptions io;
    io.common = common;
    io.password = password;
    io.file = f.string();
    check("inspect", f.string(), capture([&] { return run_inspect(io); }), inspect_tally);
    VerifyOptions vo;
    vo.common = common;
    vo.password = password;
    vo.file = f.string();
    check("verify", f.string(), capture([&] { return run_verify(vo); }), verify_tally);
  }

  StoreGlobal global;
  global.store = (tmp / "store.db").string();
  global.actor = "corpus-test";
  StoreInitOptions init;
  init.common = common;
  init.key_file = (tmp / "store.key").string();
  const Run created = capture([&] { return run_store_init(global, init); });
  if (created.rc != 0) {
    std::cerr << "cannot create the store: " << created.out << created.escaped << '\n';
    return 1;
  }
  for (std::size_t i = 0; i < files.size(); i += kImportBatch) {
    ImportCliOptions im;
    im.common = common;
    im.password = password;
    im.force = true;  // import what can be read, so that stored values reach the output too
    im.quiet = true;
    im.jobs = 1;
    for (std::size_t k = i; k < std::min(files.size(), i + kImportBatch); ++k) im.files.push_back(files[k].string());
    check("import", "batch from " + im.files.front(), capture([&] { return run_import(global, im); }), import_tally);
  }
  std::error_code ec;
  fs::remove_all(tmp, ec);

  std::cout << files.size() << " files\n";
  print_tally("inspect --json", inspect_tally);
  print_tally("verify --json", verify_tally);
  print_tally("import --json", import_tally);
  const std::size_t failed = inspect_tally.failures + verify_tally.failures + import_tally.failures;
  const std::size_t runs = inspect_tally.runs + verify_tally.runs + import_tally.runs;
  std::cout << (runs - failed) << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}
