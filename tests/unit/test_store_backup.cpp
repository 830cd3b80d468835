// Store backups (SQLite's online backup API): a copy made while another handle keeps writing is
// one consistent store that opens with the same master key; a restore puts a copy back.
#include "support/test_support.hpp"
#include "store/cert_factory.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/store.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <utility>
#include <vector>

using namespace dpgcert;
using test::code_of;
using test::TempDir;

namespace {

const Time kNow = parse_rfc3339("2025-06-01T00:00:00Z");

std::string cvr_number(int n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08d", 10000000 + n);
  return buf;
}

}  // namespace

TEST_SUITE("store_backup") {
  TEST_CASE("backup with a concurrent writer: each copy is consistent and opens with the same key - restore") {
    TempDir dir;
    const std::string location = "sqlite:" + (dir.path() / "store.db").string();
    StoreOptions o;
    o.location = location;
    o.actor = "tester";
    auto store = Store::create(std::move(o), vault::KeySource::key_file(dir.path() / "store.key"));
    Organisation org;
    org.cvr = "12345674";
    org.name = "Kunde A/S";
    (void)store->add_organisation(org);
    testing::CertFactory factory;
    testing::LeafSpec spec;
    spec.common_name = "Sikkerpost";
    spec.not_before = to_unix(kNow) - 86400;
    spec.not_after = to_unix(kNow) + 300 * 86400;
    const SecretBytes pw = test::pw("Backup-Pass-1");
    testing::Made made = factory.made(spec, pw);
    ImportOptions io;
    io.organisation_cvr = "12345674";
    io.report = testing::passing_report(made.certificate, kNow);
    const ImportResult imported = store->import(made.bundle, made.pkcs12, pw, io);
    REQUIRE(imported.outcome == ImportOutcome::imported);

    // Another handle (its own connection) adds organisations as fast as it can meanwhile.
    std::atomic<bool> stop{false};
    std::atomic<int> written{0};
    std::thread writer([&] {
      StoreOptions wo;
      wo.location = location;
      wo.actor = "writer";
      auto w = Store::open(std::move(wo));
      for (int i = 0; !stop; ++i) {
        Organisation x;
        x.cvr = cvr_number(i);
        x.name = "Skriver " + std::to_string(i);
        (void)w->add_organisation(x);
        written = i + 1;
      }
    });
    while (written < 5) std::this_thread::yield();
    std::vector<std::size_t> seen;
    for (int k = 0; k < 4; ++k) {
      const auto file = dir.path() / ("backup-" + std::to_string(k) + ".db");
      const StoreInfo copy = store->backup(file, "ops");
      // The copy: a whole store at one moment, with the same key source and the import's secret.
      StoreOptions co;
      co.path = file;
      auto opened = Store::open(std::move(co));
      const StoreInfo info = opened->info();
      CHECK(info.organisations == copy.organisations);
      CHECK(info.key_kind == "key_file");
      CHECK(opened->check_integrity().ok());
      CHECK(opened->unseal(imported.fingerprint).password.view() == pw.view());
      // Every organisation line in the copy's log has its row, and the other way round; the copy
      // holds its own backup line (and those of the copies before it).
      std::size_t added = 0;
      std::size_t backups = 0;
      for (const AuditEntry& e : opened->audit_log()) {
        if (e.action == "organisation.add") ++added;
        if (e.action == "store.backup") ++backups;
      }
      CHECK(added == info.organisations);
      CHECK(backups == static_cast<std::size_t>(k) + 1);
      seen.push_back(info.organisations);
    }
    stop = true;
    writer.join();
    for (std::size_t i = 1; i < seen.size(); ++i) CHECK(seen[i] >= seen[i - 1]);
    CHECK(store->info().organisations == 1 + static_cast<std::size_t>(written.load()));
    CHECK(store->info().organisations > seen.front());
    CHECK(code_of([&] { (void)store->backup(dir.path() / "backup-0.db"); }) == ErrorCode::conflict);

    // Restore the first copy: what the writer added after it is gone, for every handle.
    store->restore(dir.path() / "backup-0.db", "ops");
    CHECK(store->info().organisations == seen.front());
    CHECK(store->audit_log().back().action == "store.restore");
    CHECK(store->unseal(imported.fingerprint).password.view() == pw.view());
    CHECK(store->check_integrity().ok());
    StoreOptions again;
    again.location = location;
    CHECK(Store::open(std::move(again))->info().organisations == seen.front());

    // Not a store, no file.
    test::write_text(dir.path() / "junk.db", "not a database at all, just text\n");
    CHECK(code_of([&] { store->restore(dir.path() / "junk.db"); }) == ErrorCode::malformed);
    CHECK(code_of([&] { store->restore(dir.path() / "absent.db"); }) == ErrorCode::not_found);
    CHECK(store->info().organisations == seen.front());
  }
}
