// What a crash or an odd folder must not do: secrets are left out of core dumps; a folder import
// skips (and reports) entries that are not files instead of failing or hanging on them.
#include "support/test_support.hpp"
#include "store/cert_factory.hpp"

#include <dpgcert/secret.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

using namespace dpgcert;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string q(const fs::path& p) { return test::shell_quote(p.string()); }

/// The VmFlags of the mapping of this process that holds `address` (from /proc/self/smaps).
std::string vm_flags_of(const void* address) {
  const auto a = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t lo = 0;
    std::uintptr_t hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-' && line.find(':') > line.find(' ')) {
      inside = a >= lo && a < hi;
      continue;
    }
    if (inside && line.starts_with("VmFlags:")) return line;
  }
  return {};
}

}  // namespace

TEST_SUITE("core") {
  TEST_CASE("secret buffers are left out of core dumps (MADV_DONTDUMP) and plain memory is not") {
    const SecretBytes small = SecretBytes::from_text("correct horse battery staple");
    const SecretBytes big = SecretBytes::zeroed(100000);
    const SecretBytes copy = small.clone();
    for (const SecretBytes* s : {&small, &big, &copy}) {
      const std::string flags = vm_flags_of(s->data());
      CAPTURE(flags);
      REQUIRE_FALSE(flags.empty());
      CHECK(flags.find(" dd") != std::string::npos);
    }
    const std::string plain(100000, 'x');
    CHECK(vm_flags_of(plain.data()).find(" dd") == std::string::npos);
    CHECK(small.view() == "correct horse battery staple");
    CHECK(copy.view() == small.view());
  }
}

TEST_SUITE("cli store") {
  TEST_CASE("a folder import skips and reports loops, dangling links, FIFOs and folders, and imports the rest") {
    DPGCERT_REQUIRE_TOOL();
    test::TempDir tmp{"dpgcert-folder"};
    const fs::path dir = tmp.path() / "onboarding";
    fs::create_directories(dir);
    testing::CertFactory f;
    const testing::Made made = f.made(testing::foces_spec("12345674", "11111111", 1704067200, 1798761600), test::pw("pw"));
    test::write_text(dir / "good.p12", std::string_view(reinterpret_cast<const char*>(made.pkcs12.data()), made.pkcs12.size()));
    fs::create_symlink(dir / "loop-b.p12", dir / "loop-a.p12");
    fs::create_symlink(dir / "loop-a.p12", dir / "loop-b.p12");
    fs::create_symlink(dir / "gone.p12", dir / "dangling.p12");
    REQUIRE(::mkfifo((dir / "fifo.p12").c_str(), 0600) == 0);
    fs::create_directory(dir / "folder.pfx");
    test::write_text(tmp.path() / "pw", "pw\n");
    const std::string store = "--store " + q(tmp.path() / "s.db") + " ";
    REQUIRE(test::run_tool(store + "store init --key-file " + q(tmp.path() / "k")).exit_code == 0);

    const auto t0 = std::chrono::steady_clock::now();
    const auto r = test::run_tool(store + "import --json --force --password-file " + q(tmp.path() / "pw") + " " + q(dir));
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60));  // the FIFO is not waited on
    INFO(r.err);
    CHECK(r.exit_code == 3);  // the worst outcome: entries that could not be read
    const json j = json::parse(r.out);
    REQUIRE(j.size() == 6);
    std::map<std::string, json> by_name;
    for (const auto& e : j) by_name[fs::path(e["file"].get<std::string>()).filename().string()] = e;
    CHECK(by_name["good.p12"]["outcome"] == "imported");
    const auto why = [&](const std::string& name) {
      const json& e = by_name[name];
      CHECK(e["outcome"].is_null());
      return e["error"]["code"].get<std::string>() + ": " + e["error"]["message"].get<std::string>();
    };
    CHECK(why("loop-a.p12") == "io: skipped: a symbolic link loop");
    CHECK(why("loop-b.p12") == "io: skipped: a symbolic link loop");
    CHECK(why("dangling.p12") == "io: skipped: a dangling symbolic link");
    CHECK(why("fifo.p12") == "io: skipped: a FIFO, not a regular file");
    CHECK(why("folder.pfx") == "io: skipped: a folder (folders are not entered)");

    // The text summary lists them too, and counts them.
    const auto text = test::run_tool(store + "import --password-file " + q(tmp.path() / "pw") + " " + q(dir));
    CHECK(text.exit_code == 3);
    CHECK(text.out.find("fifo.p12") != std::string::npos);
    CHECK(text.out.find("6 files: 0 imported, 1 already there, 0 refused, 5 unreadable") != std::string::npos);
  }
}
