// Shared helpers for dpgcert's tests: where test data lives, reading files, skipping cleanly.
#pragma once

#include <dpgcert/error.hpp>
#include <dpgcert/secret.hpp>

#include <doctest/doctest.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dpgcert::test {

/// The synthetic PKI made by tests/data/make_pki.sh ($DPGCERT_TEST_DATA, else the build tree's,
/// made by ctest's make_test_pki fixture).
std::filesystem::path test_data_dir();
/// ../shared beside the project ($DPGCERT_SHARED overrides), if present.
std::optional<std::filesystem::path> shared_dir();

std::vector<std::byte> read_file(const std::filesystem::path& path);
std::string read_text(const std::filesystem::path& path);
inline SecretBytes pw(std::string_view text) { return SecretBytes::from_text(text); }

/// The code of the dpgcert::Error that `fn` throws; fails the test when it throws none (any other
/// exception escapes, failing the test with its message).
template <class F>
ErrorCode code_of(F&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  }
  FAIL("expected dpgcert::Error");
  return ErrorCode::internal;
}

/// Writes `text` to `path` (binary), creating the parent folders.
void write_text(const std::filesystem::path& path, std::string_view text);

/// A fresh private folder under the temporary directory, removed with everything in it.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "dpgcert-test");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

/// Sets (a value) or unsets (nullopt) an environment variable for the object's lifetime; the tool
/// runs of run_tool() inherit it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::optional<std::string>& value);
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv();

 private:
  const char* name_;
  std::optional<std::string> old_;
};

/// What a run of the dpgcert tool gave.
struct ToolResult {
  int exit_code = -1;
  std::string out;  ///< standard output
  std::string err;  ///< standard error
};

/// The dpgcert tool built beside the tests, if any.
std::optional<std::filesystem::path> tool_path();
/// Runs the tool with `args` (already shell-quoted as needed), feeding `input` on stdin.
ToolResult run_tool(const std::string& args, const std::string& input = {});
/// Runs the tool with its standard output on a pseudo-terminal `columns` wide (script(1), with
/// $COLUMNS), as an admin at a terminal sees it; carriage returns are dropped from `out`. Standard
/// input is empty, standard error a file (so no progress bar is drawn); NO_COLOR is set, so lines
/// hold no escape sequences.
ToolResult run_tool_on_terminal(const std::string& args, int columns = 80);
/// Quotes one argument for the shell.
std::string shell_quote(std::string_view arg);
/// `prefix` followed by `n` in decimal ("c" and 7: "c7"). Built by appending: GCC 12 at -O2/-O3
/// raises a false -Wrestrict inside `"c" + std::to_string(n)` (GCC bug 105651).
std::string numbered(std::string_view prefix, long long n);

}  // namespace dpgcert::test

/// Skips the current test case with a message when the tool is not built.
#define DPGCERT_REQUIRE_TOOL()                                                        \
  if (!::dpgcert::test::tool_path()) {                                                \
    MESSAGE("skipped: the dpgcert tool is not built beside the tests");               \
    return;                                                                           \
  }

/// Skips the current test case with a message when ../shared is absent; yields its path.
#define DPGCERT_REQUIRE_SHARED(var)                                                   \
  const auto var##_opt = ::dpgcert::test::shared_dir();                               \
  if (!var##_opt) {                                                                   \
    MESSAGE("skipped: ../shared is absent (real samples and vectors live there)");   \
    return;                                                                           \
  }                                                                                   \
  const std::filesystem::path& var = *var##_opt
