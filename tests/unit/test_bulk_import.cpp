// import_files(): many PKCS#12 files onboarded on several threads, one result per file, in order.
#include "support/test_support.hpp"

#include <dpgcert/bulk_import.hpp>
#include <dpgcert/store.hpp>
#include <dpgcert/validation.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace dpgcert;
namespace fs = std::filesystem;

namespace {

const Time kNow = parse_rfc3339("2025-06-01T00:00:00Z");

std::unique_ptr<Store> new_store(const test::TempDir& dir) {
  StoreOptions o;
  o.path = dir.path() / "store.db";
  o.actor = "tester";
  o.clock = std::make_shared<FixedClock>(kNow);
  return Store::create(std::move(o), vault::KeySource::key_file(dir.path() / "store.key"));
}

/// The synthetic roots as anchors, the current CRL of the OCES2 production CA, at the PKI's time.
ImportOptions defaults() {
  const Context& ctx = Context::shared();
  const fs::path d = test::test_data_dir();
  ImportOptions o;
  o.validation.at = kNow;
  o.validation.anchors = TrustAnchors::from_files(
      std::vector<fs::path>{d / "oces2-prod/root.crt.pem", d / "oces3-prod/root.crt.pem"}, ctx);
  o.validation.crls = load_crl_files(std::vector<fs::path>{d / "oces2-prod/crl-current.crl.pem"}, ctx);
  return o;
}

BulkImportItem item(const std::string& rel, std::string_view password = "Test1234") {
  BulkImportItem i;
  i.path = test::test_data_dir() / rel;
  i.password = test::pw(password);
  return i;
}

/// A mixed batch as a customer folder looks: good files, a wrong password, a legacy one, an
/// expired one, a renewal pair for one mailbox, a duplicate, a truncated file and a missing one.
std::vector<BulkImportItem> mixed_batch(const test::TempDir& dir) {
  const auto bytes = test::read_file(test::test_data_dir() / "oces2-prod/voces.p12");
  const fs::path truncated = dir.path() / "truncated.p12";
  std::ofstream(truncated, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                   static_cast<std::streamsize>(bytes.size() / 3));
  std::vector<BulkImportItem> v;
  v.push_back(item("oces2-prod/voces.p12"));
  v.push_back(item("oces2-prod/foces.p12", "not-the-password"));
  v.push_back(item("oces2-prod/foces-legacy.p12"));
  v.push_back(item("oces3-prod/organisation.p12"));
  v.push_back(item("odd/foces-expired.p12"));
  v.push_back(item("odd/foces-expiring-soon.p12"));
  v.back().mailbox = "sikkerpost@testfirma.dk";
  v.push_back(item("odd/foces-serial-first.p12"));
  v.back().mailbox = "sikkerpost@testfirma.dk";
  v.push_back(item("oces2-prod/voces-legacy.p12"));  // the same certificate as the first
  v.push_back(item("odd/foces-utf8pw.p12", "Sikker-\xc3\xa6\xc3\xb8\xc3\xa5-2024"));
  v.push_back(item("odd/foces-revoked.p12"));
  BulkImportItem t;
  t.path = truncated;
  t.password = test::pw("Test1234");
  v.push_back(std::move(t));
  BulkImportItem missing;
  missing.path = dir.path() / "missing.p12";
  v.push_back(std::move(missing));
  return v;
}

/// outcome name or error code name per file, in order.
std::vector<std::string> outcomes(const std::vector<BulkImportResult>& results) {
  std::vector<std::string> out;
  for (const auto& r : results) {
    if (r.error) {
      out.emplace_back("error:" + std::string(to_string(r.error->code())));
    } else {
      REQUIRE(r.import);
      out.emplace_back(to_string(r.import->outcome));
    }
  }
  return out;
}

}  // namespace

TEST_SUITE("bulk import") {
  TEST_CASE("a mixed folder gives one result per file, in input order, on one thread and on four") {
    std::map<unsigned, std::vector<std::string>> by_threads;
    std::map<unsigned, std::vector<std::string>> statuses;
    for (unsigned threads : {1U, 4U}) {
      CAPTURE(threads);
      test::TempDir dir{"dpgcert-bulk"};
      auto store = new_store(dir);
      BulkImportOptions o;
      o.threads = threads;
      o.defaults = defaults();
      const auto results = import_files(*store, mixed_batch(dir), o);
      REQUIRE(results.size() == 12);
      for (std::size_t i = 0; i < results.size(); ++i) CHECK(results[i].index == i);
      by_threads[threads] = outcomes(results);
      // Two certificates come twice (voces.p12 = voces-legacy.p12, foces-legacy.p12 =
      // foces-utf8pw.p12): which copy is "imported" and which "already present" depends on which
      // worker came first; exactly one of each pair is imported.
      for (const auto& [a, b] : {std::pair<std::size_t, std::size_t>{0, 7}, {2, 8}}) {
        auto& v = by_threads[threads];
        CHECK(((v[a] == "imported" && v[b] == "already_present") || (v[a] == "already_present" && v[b] == "imported")));
        v[a] = v[b] = "pair";
      }
      for (const auto& s : store->query(CertificateQuery{})) statuses[threads].push_back(s.fingerprint + ":" + std::string(to_string(s.status)));
      std::sort(statuses[threads].begin(), statuses[threads].end());

      // The renewal pair for one mailbox: the newer one (serial-first, valid to 2027) is active,
      // the expiring one superseded - whichever finished first.
      REQUIRE(results[5].import);
      REQUIRE(results[6].import);
      const auto old_rec = store->find(results[5].import->fingerprint);
      const auto new_rec = store->find(results[6].import->fingerprint);
      REQUIRE(old_rec);
      REQUIRE(new_rec);
      CHECK(old_rec->status == CertificateStatus::superseded);
      CHECK(new_rec->status == CertificateStatus::active);
      CHECK(old_rec->superseded_by == new_rec->fingerprint);
      // Sources are the absolute paths.
      CHECK(new_rec->source == fs::absolute(test::test_data_dir() / "odd/foces-serial-first.p12").string());
    }
    const std::vector<std::string> expected{"pair", "error:bad_password", "pair",    "imported",
                                            "refused", "imported",        "imported", "pair",
                                            "pair", "refused",            "error:malformed", "error:io"};
    for (unsigned threads : {1U, 4U}) {
      CAPTURE(threads);
      for (std::size_t i = 0; i < expected.size(); ++i) {
        CAPTURE(i);
        CHECK(by_threads[threads][i] == expected[i]);
      }
    }
    CHECK(statuses[1].size() == 5);
    CHECK(statuses[4].size() == statuses[1].size());
  }

  TEST_CASE("bulk import reports progress once per file and keeps going after failures") {
    test::TempDir dir{"dpgcert-bulk"};
    auto store = new_store(dir);
    BulkImportOptions o;
    o.threads = 3;
    o.defaults = defaults();
    std::mutex mu;
    std::vector<std::size_t> seen_done;
    std::set<std::size_t> seen_index;
    std::size_t concurrent = 0;
    std::size_t max_concurrent = 0;
    o.progress = [&](std::size_t done, std::size_t total, const BulkImportResult& r) {
      {
        std::lock_guard lock(mu);
        ++concurrent;
        max_concurrent = std::max(max_concurrent, concurrent);
        seen_done.push_back(done);
        seen_index.insert(r.index);
        CHECK(total == 12);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      std::lock_guard lock(mu);
      --concurrent;
      if (done == 5) throw std::runtime_error("a broken progress display");  // must not stop the batch
    };
    const auto results = import_files(*store, mixed_batch(dir), o);
    CHECK(results.size() == 12);
    CHECK(seen_done.size() == 12);
    CHECK(std::is_sorted(seen_done.begin(), seen_done.end()));
    CHECK(seen_done.back() == 12);
    CHECK(seen_index.size() == 12);
    CHECK(max_concurrent == 1);  // calls are serialised
    CHECK(store->count(CertificateQuery{}) == 5);
  }

  TEST_CASE("bulk import attaches items to their own organisation and mailbox over the defaults") {
    test::TempDir dir{"dpgcert-bulk"};
    auto store = new_store(dir);
    BulkImportOptions o;
    o.defaults = defaults();
    o.defaults.organisation_cvr = "12345674";
    std::vector<BulkImportItem> items;
    items.push_back(item("oces2-prod/voces.p12"));
    items.push_back(item("oces2-prod/foces.p12"));
    items.back().mailbox = "sikkerpost@testfirma.dk";
    items.push_back(item("odd/voces-utf8.p12"));
    items.back().organisation_cvr = "25313763";
    const auto results = import_files(*store, std::move(items), o);
    REQUIRE(results.size() == 3);
    for (const auto& r : results) {
      REQUIRE(r.import);
      CHECK(r.import->outcome == ImportOutcome::imported);
    }
    CHECK(results[0].import->record->organisation_cvr == "12345674");
    CHECK_FALSE(results[0].import->record->mailbox);
    CHECK(results[1].import->record->mailbox == "sikkerpost@testfirma.dk");
    CHECK(results[2].import->record->organisation_cvr == "25313763");
    CHECK(store->list_organisations().size() == 2);
  }

  TEST_CASE("an empty batch does nothing and a bad default fails each item with its own error") {
    test::TempDir dir{"dpgcert-bulk"};
    auto store = new_store(dir);
    BulkImportOptions o;
    CHECK(import_files(*store, {}, o).empty());
    o.defaults = defaults();
    o.defaults.organisation_cvr = "1234";  // not a CVR number
    std::vector<BulkImportItem> items;
    items.push_back(item("oces2-prod/voces.p12"));
    items.push_back(item("oces2-prod/foces.p12"));
    const auto results = import_files(*store, std::move(items), o);
    REQUIRE(results.size() == 2);
    for (const auto& r : results) {
      REQUIRE(r.error);
      CHECK(r.error->code() == ErrorCode::invalid_argument);
    }
    CHECK(store->count(CertificateQuery{}) == 0);
  }
}
