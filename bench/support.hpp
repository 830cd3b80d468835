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

}  // namespace dpgcert::bench
