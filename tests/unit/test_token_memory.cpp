// A store whose master key is on a token never has the key's bytes in its process (issue 16: "the
// store file and process memory dumps hold no master key"). A token normally makes its own key,
// which nobody can read; here the test puts an AES key with a value it chose on a SoftHSM2 token
// (C_CreateObject, sensitive and not extractable like a generated one), keeps that value only
// masked (XOR with a constant), and after a store used it (create, import, unseal, reopen as a
// restarted process would, unseal again) reads all of its own readable memory through
// /proc/self/mem, as a core dump would hold it, looking for the value. The same scan finds the
// master key of a key-file store, which the process must hold: the control that the scan sees the
// heap where a wrapper keeps its key.
#include "support/softhsm.hpp"
#include "support/test_support.hpp"
#include "store/cert_factory.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/store.hpp>

#include <doctest/doctest.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <unistd.h>

using namespace dpgcert;
using test::SoftHsmToken;
using test::TempDir;

namespace {

const Time kNow = parse_rfc3339("2025-06-01T00:00:00Z");
constexpr std::int64_t kDay = 86400;
constexpr unsigned char kMask = 0xA5;

using MaskedKey = std::array<unsigned char, 32>;

/// How often the key whose bytes XOR kMask are `masked` occurs in `data` (compared byte by byte
/// through the mask, so that the scan itself never holds the key).
std::size_t count_in(const unsigned char* data, std::size_t n, const MaskedKey& masked) {
  std::size_t found = 0;
  if (n < masked.size()) return 0;
  for (std::size_t i = 0; i + masked.size() <= n; ++i) {
    if (static_cast<unsigned char>(data[i] ^ kMask) != masked[0]) continue;
    std::size_t k = 1;
    while (k < masked.size() && static_cast<unsigned char>(data[i + k] ^ kMask) == masked[k]) ++k;
    if (k == masked.size()) ++found;
  }
  return found;
}

/// The occurrences of the masked key in this process's readable memory: every readable mapping
/// of /proc/self/maps read through /proc/self/mem (what a core dump would write). Mappings of
/// more than 4 GiB are reservations, not data (a sanitizer's shadow memory), and are passed over.
std::size_t occurrences_in_memory(const MaskedKey& masked, std::size_t& bytes_read) {
  std::ifstream maps("/proc/self/maps");
  REQUIRE(maps.good());
  struct Range {
    unsigned long long begin;
    unsigned long long end;
  };
  std::vector<Range> ranges;
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long long b = 0;
    unsigned long long e = 0;
    char perms[8] = {};
    if (std::sscanf(line.c_str(), "%llx-%llx %7s", &b, &e, perms) != 3 || perms[0] != 'r') continue;
    if (line.find("[vvar]") != std::string::npos || line.find("[vsyscall]") != std::string::npos) continue;
    if (e - b > (4ULL << 30)) continue;
    ranges.push_back({b, e});
  }
  const int fd = ::open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  constexpr std::size_t kChunk = 1 << 20;
  std::vector<unsigned char> buf(kChunk);
  std::size_t found = 0;
  bytes_read = 0;
  for (const Range& r : ranges) {
    // Chunks overlap by the key's length less one, so a key across a chunk border is seen once.
    for (unsigned long long at = r.begin; at < r.end;) {
      const std::size_t want = static_cast<std::size_t>(std::min<unsigned long long>(kChunk, r.end - at));
      const ssize_t got = ::pread(fd, buf.data(), want, static_cast<off_t>(at));
      if (got <= 0) break;  // a guard page or a mapping that went away: nothing to read there
      bytes_read += static_cast<std::size_t>(got);
      found += count_in(buf.data(), static_cast<std::size_t>(got), masked);
      if (static_cast<std::size_t>(got) < masked.size() || at + static_cast<unsigned long long>(got) >= r.end) break;
      at += static_cast<unsigned long long>(got) - (masked.size() - 1);
    }
  }
  ::close(fd);
  OPENSSL_cleanse(buf.data(), buf.size());
  return found;
}

std::size_t occurrences_in_file(const std::filesystem::path& p, const MaskedKey& masked) {
  std::error_code ec;
  if (!std::filesystem::exists(p, ec)) return 0;
  const std::string text = test::read_text(p);
  return count_in(reinterpret_cast<const unsigned char*>(text.data()), text.size(), masked);
}

/// A store, an organisation with a mailbox, and one imported certificate; returns its fingerprint.
std::string fill(Store& store) {
  Organisation org;
  org.cvr = "12345674";
  org.name = "Kunde A/S";
  (void)store.add_organisation(org);
  Mailbox mb;
  mb.address = "sikkerpost@kunde.dk";
  mb.organisation_cvr = "12345674";
  (void)store.add_mailbox(mb);
  testing::CertFactory factory(2048);
  testing::LeafSpec s;
  s.common_name = "Gateway memory";
  s.not_before = to_unix(kNow) - 10 * kDay;
  s.not_after = to_unix(kNow) + 300 * kDay;
  const SecretBytes pw = test::pw("Test1234");
  testing::Made m = factory.made(s, pw);
  ImportOptions io;
  io.mailbox = "sikkerpost@kunde.dk";
  io.report = testing::passing_report(m.certificate, kNow);
  return store.import(m.bundle, m.pkcs12, pw, io).record->fingerprint;
}

StoreOptions options_for(const std::filesystem::path& db) {
  StoreOptions o;
  o.location = db.string();
  o.actor = "tester";
  o.clock = std::make_shared<FixedClock>(kNow);
  return o;
}

}  // namespace

TEST_SUITE("token memory") {
  TEST_CASE("a store whose master key is on the token holds no byte of it in process memory or in the store file") {
    DPGCERT_REQUIRE_SOFTHSM();
    SoftHsmToken token("memory");
    // The key's value, held masked; its plain form exists only for the C_CreateObject call.
    MaskedKey masked{};
    REQUIRE(RAND_bytes(masked.data(), static_cast<int>(masked.size())) == 1);
    {
      std::array<unsigned char, 32> plain{};
      for (std::size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<unsigned char>(masked[i] ^ kMask);
      token.create_aes_key("known-master", std::as_bytes(std::span(plain)));
      OPENSSL_cleanse(plain.data(), plain.size());
    }
    std::size_t scanned = 0;
    // SoftHSM2 runs in this process: it must not keep the plain value around either, or the
    // test could not tell its copy from the store's.
    REQUIRE(occurrences_in_memory(masked, scanned) == 0);

    TempDir dir;
    const auto db = dir.path() / "store.db";
    const std::string uri = token.uri() + ";object=known-master";
    std::string fp;
    {
      auto store = Store::create(options_for(db), vault::KeySource::pkcs11(uri, test::pw(test::kTestPin)));
      CHECK(store->info().key_kind == "pkcs11");
      fp = fill(*store);
      CHECK(store->unseal(fp).bundle.private_key() != nullptr);
      CHECK(occurrences_in_memory(masked, scanned) == 0);
    }
    {
      // A restarted process: the store opened afresh, unlocked with the PIN only.
      StoreOptions o = options_for(db);
      o.unlock.pin.pin = test::pw(test::kTestPin);
      auto store = Store::open(std::move(o));
      const auto current = store->current_bundle("sikkerpost@kunde.dk");
      REQUIRE(current.has_value());
      CHECK(current->bundle.private_key() != nullptr);
      CHECK(store->unseal(fp).bundle.leaf()->fingerprint_hex() == fp);
      CHECK(occurrences_in_memory(masked, scanned) == 0);
    }
    CHECK(occurrences_in_memory(masked, scanned) == 0);
    // The scan read the process's memory, not a few pages of it.
    CHECK(scanned > (8U << 20));
    // The store file (and any journal beside it) holds no byte of the key either.
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      INFO(entry.path().string());
      CHECK(occurrences_in_file(entry.path(), masked) == 0);
    }
  }

  TEST_CASE("the memory scan finds the master key a key-file store holds - the control for the token case") {
    TempDir dir;
    const auto key_file = dir.path() / "store.key";
    const auto db = dir.path() / "store.db";
    auto store = Store::create(options_for(db), vault::KeySource::key_file(key_file));
    (void)fill(*store);
    MaskedKey masked{};
    {
      std::string raw = test::read_text(key_file);
      REQUIRE(raw.size() == masked.size());
      for (std::size_t i = 0; i < masked.size(); ++i) masked[i] = static_cast<unsigned char>(raw[i] ^ kMask);
      OPENSSL_cleanse(raw.data(), raw.size());
    }
    std::size_t scanned = 0;
    // The software wrapper keeps the key to wrap and unwrap: the scan must see it.
    CHECK(occurrences_in_memory(masked, scanned) >= 1);
    CHECK(occurrences_in_file(key_file, masked) == 1);
    CHECK(occurrences_in_file(db, masked) == 0);
  }
}
