// Helpers for the benchmarks: finding test data and reading files.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace dpgcert::bench {

/// The synthetic PKI: $DPGCERT_TEST_DATA, else build/release/testdata made on demand by
/// tests/data/make_pki.sh.
std::filesystem::path test_data();
std::vector<std::byte> read_file(const std::filesystem::path& p);

/// A fresh private folder under the temporary directory, removed with everything in it.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace dpgcert::bench
