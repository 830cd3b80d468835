#include "support/test_support.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

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

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open test file " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace dpgcert::test
