#include "support/test_support.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <sys/wait.h>
#include <unistd.h>

namespace dpgcert::test {

std::filesystem::path test_data_dir() {
  const char* env = std::getenv("DPGCERT_TEST_DATA");
  if (env == nullptr || *env == '\0') return DPGCERT_TEST_DATA_DEFAULT;
  return env;
}

std::optional<std::filesystem::path> shared_dir() {
  const char* env = std::getenv("DPGCERT_SHARED");
  std::filesystem::path p = (env == nullptr || *env == '\0') ? std::filesystem::path(DPGCERT_SHARED_DEFAULT) : env;
  std::error_code ec;
  if (!std::filesystem::is_directory(p / "samples", ec)) return std::nullopt;
  return p;
}

std::vector<std::byte> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open test file " + path.string());
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(chars.size());
  for (std::size_t i = 0; i < chars.size(); ++i) out[i] = static_cast<std::byte>(chars[i]);
  return out;
}

void write_text(const std::filesystem::path& path, std::string_view text) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  if (!out.write(text.data(), static_cast<std::streamsize>(text.size()))) {
    throw std::runtime_error("cannot write test file " + path.string());
  }
}

TempDir::TempDir(std::string_view prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ScopedEnv::ScopedEnv(const char* name, const std::optional<std::string>& value) : name_(name) {
  if (const char* old = std::getenv(name)) old_ = old;
  if (value) {
    ::setenv(name, value->c_str(), 1);
  } else {
    ::unsetenv(name);
  }
}

ScopedEnv::~ScopedEnv() {
  if (old_) {
    ::setenv(name_, old_->c_str(), 1);
  } else {
    ::unsetenv(name_);
  }
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open test file " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::optional<std::filesystem::path> tool_path() {
#ifdef DPGCERT_TOOL_PATH
  std::error_code ec;
  if (std::filesystem::exists(DPGCERT_TOOL_PATH, ec)) return std::filesystem::path(DPGCERT_TOOL_PATH);
#endif
  return std::nullopt;
}

std::string numbered(std::string_view prefix, long long n) {
  std::string out(prefix);
  out += std::to_string(n);
  return out;
}

std::string shell_quote(std::string_view arg) {
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

ToolResult run_tool(const std::string& args, const std::string& input) {
  const auto tool = tool_path();
  if (!tool) throw std::runtime_error("the dpgcert tool is not built");
  const auto dir = std::filesystem::temp_directory_path() /
                   ("dpgcert-tool-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream in(dir / "stdin", std::ios::binary);
    in << input;
  }
  const std::string cmd = shell_quote(tool->string()) + " " + args + " <" + shell_quote((dir / "stdin").string()) +
                          " >" + shell_quote((dir / "stdout").string()) + " 2>" + shell_quote((dir / "stderr").string());
  const int status = std::system(cmd.c_str());
  ToolResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(dir / "stdout");
  r.err = read_text(dir / "stderr");
  std::filesystem::remove_all(dir);
  return r;
}

ToolResult run_tool_on_terminal(const std::string& args, int columns) {
  const auto tool = tool_path();
  if (!tool) throw std::runtime_error("the dpgcert tool is not built");
  const auto dir = std::filesystem::temp_directory_path() /
                   ("dpgcert-tty-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
  std::filesystem::create_directories(dir);
  std::string inner = "NO_COLOR=1 COLUMNS=";
  inner += std::to_string(columns);
  inner += " " + shell_quote(tool->string()) + " " + args + " 2>" + shell_quote((dir / "stderr").string());
  const std::string cmd = "script -qefc " + shell_quote(inner) + " /dev/null </dev/null >" +
                          shell_quote((dir / "stdout").string());
  const int status = std::system(cmd.c_str());
  ToolResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(dir / "stdout");
  std::erase(r.out, '\r');
  r.err = read_text(dir / "stderr");
  std::filesystem::remove_all(dir);
  return r;
}

}  // namespace dpgcert::test
