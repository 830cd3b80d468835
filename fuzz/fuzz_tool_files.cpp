// The tool's own input files: the password map (CSV or JSON) and the configuration file (JSON),
// each written to a private temporary file and read as the tool reads it.
#include "fuzz_common.hpp"

#include "config.hpp"
#include "onboarding.hpp"

#include <fstream>
#include <filesystem>
#include <string>

#include <unistd.h>

using namespace dpgcert;

namespace {

/// A private folder for the files, removed when the process exits normally.
struct Scratch {
  std::filesystem::path dir;
  Scratch() {
    // Memory-backed when the machine has /dev/shm: a file is written on every execution.
    std::error_code ec;
    std::string tmpl = std::filesystem::is_directory("/dev/shm", ec) ? "/dev/shm/dpgcert-fuzz-XXXXXX"
                                                                    : "/tmp/dpgcert-fuzz-XXXXXX";
    const char* made = ::mkdtemp(tmpl.data());
    if (made == nullptr) std::abort();
    dir = made;
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

const std::filesystem::path& scratch() {
  static const Scratch s;
  return s.dir;
}

void write(const std::filesystem::path& p, const std::uint8_t* data, std::size_t size) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The first byte picks the reader, so one corpus serves all three.
  if (size == 0) return 0;
  const std::uint8_t kind = data[0] % 3;
  ++data;
  --size;
  const std::filesystem::path p = scratch() / (kind == 0 ? "map.csv" : kind == 1 ? "map.json" : "config.json");
  write(p, data, size);
  fuzz::expect_errors_only([&] {
    if (kind == 2) {
      (void)cli::load_config(p.string());
    } else {
      const cli::PasswordMap map = cli::PasswordMap::load(p);
      for (const auto& k : map.unused()) fuzz::check_terminal(k);
    }
  });
  return 0;
}
