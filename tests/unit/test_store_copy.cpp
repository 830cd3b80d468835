// Store::copy_to: a whole inventory moved between locations and backends (every pair this build
// can provide), sealed secrets as they are, all or nothing.
#include "support/test_support.hpp"
#include "store/backends.hpp"
#include "store/cert_factory.hpp"
#include "store/sqlite_shim.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/lifecycle.hpp>
#include <dpgcert/store.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

using namespace dpgcert;

namespace {

const Time kNow = parse_rfc3339("2025-06-01T00:00:00Z");
constexpr std::int64_t kDay = 86400;

using test::code_of;
using test::TempDir;

StoreOptions options_at(const std::string& location, const std::filesystem::path& key = {}) {
  StoreOptions o;
  o.location = location;
  o.actor = "tester";
  o.clock = std::make_shared<FixedClock>(kNow);
  if (!key.empty()) o.unlock.key_file = key;
  return o;
}

testing::LeafSpec spec(const std::string& cn, std::int64_t nb_days, std::int64_t na_days) {
  testing::LeafSpec s;
  s.common_name = cn;
  s.not_before = to_unix(kNow) + nb_days * kDay;
  s.not_after = to_unix(kNow) + na_days * kDay;
  return s;
}

/// A source store holding a bit of everything: an organisation with contacts, two mailboxes, a
/// renewal (the older certificate names a successor with a larger id), a revoked certificate, a
/// policy, a sink with delivered events and counters.
struct Populated {
  testing::CertFactory factory;
  std::unique_ptr<Store> store;
  std::vector<std::string> fingerprints;

  Populated(const std::string& location, const std::filesystem::path& key) {
    store = Store::create(options_at(location), vault::KeySource::key_file(key));
    Organisation o;
    o.cvr = "12345674";
    o.name = "Kunde A/S";
    o.contacts = {{"Ib Hansen", "ib@kunde.dk", "IT"}, {"Bo Berg", "bo@kunde.dk", ""}};
    o.notes = "kunde siden 2019";
    (void)store->add_organisation(o);
    for (const char* address : {"sikkerpost@kunde.dk", "post@kunde.dk"}) {
      Mailbox m;
      m.address = address;
      m.ad_group = "SG-Sikkerpost";
      m.organisation_cvr = "12345674";
      (void)store->add_mailbox(m);
    }
    put("Gammel", "sikkerpost@kunde.dk", -1000, 20, "Pass-Gammel");
    put("Ny", "sikkerpost@kunde.dk", -1, 1000, "Pass-Ny");
    put("Anden", "post@kunde.dk", -10, 30, "Pass-Anden");
    (void)store->set_status(fingerprints[2], CertificateStatus::revoked, "key compromise");
    put("Tredje", "post@kunde.dk", -5, 900, "Pass-Tredje");
    Lifecycle lifecycle(*store);
    lifecycle.set_renewal_policy(std::nullopt, parse_renewal_policy("2000,60,0"));
    lifecycle.register_callback("cb", [](const Event&) { return SinkResult::ok(); });
    (void)lifecycle.add_sink(callback_sink("cb"));
    REQUIRE_FALSE(lifecycle.check(kNow).emitted.empty());
  }

  void put(const std::string& cn, const std::string& mailbox, std::int64_t nb, std::int64_t na, const std::string& password) {
    const SecretBytes pw = test::pw(password);
    testing::Made made = factory.made(spec(cn, nb, na), pw);
    ImportOptions o;
    o.mailbox = mailbox;
    o.report = testing::passing_report(made.certificate, kNow);
    fingerprints.push_back(store->import(made.bundle, made.pkcs12, pw, o).fingerprint);
  }
};

std::vector<std::string> audit_lines(const Store& s) {
  std::vector<std::string> out;
  for (const AuditEntry& e : s.audit_log()) {
    std::string line = std::to_string(e.id);
    for (const std::string* part : {&e.actor, &e.action, &e.object_kind, &e.object_key, &e.details}) {
      line += '|';
      line += *part;
    }
    out.push_back(line);
  }
  return out;
}

std::vector<std::string> summary_lines(const Store& s) {
  std::vector<std::string> out;
  for (const CertificateSummary& c : s.query({})) {
    std::string line = c.fingerprint;
    line += '|';
    line += to_string(c.status);
    line += '|';
    line += c.mailbox.value_or("-");
    out.push_back(line);
  }
  return out;
}

}  // namespace

TEST_SUITE("store_copy") {
  TEST_CASE("a copy to every backend holds every row, opens with the same key and goes on working") {
    for (const std::string& from : testing::testable_backends()) {
      for (const std::string& to : testing::testable_backends()) {
        INFO("from ", from, " to ", to);
        TempDir dir;
        TempDir other;
        const std::filesystem::path key = dir.path() / "store.key";
        Populated p(*testing::location_for(from, dir), key);
        const std::string destination = *testing::location_for(to, other);
        const CopyResult r = p.store->copy_to(options_at(destination));
        CHECK(r.certificates == 4);
        CHECK(r.fingerprint_digest.size() == 64);
        REQUIRE_FALSE(r.tables.empty());
        CHECK(r.tables.front().name == "master_key");
        std::size_t secrets = 0;
        std::size_t events = 0;
        for (const CopiedTable& t : r.tables) {
          if (t.name == "secrets") secrets = t.rows;
          if (t.name == "events") events = t.rows;
        }
        CHECK(secrets == 4);
        CHECK(events > 0);

        auto copy = Store::open(options_at(destination, key));
        const StoreInfo a = p.store->info();
        const StoreInfo b = copy->info();
        CHECK(b.backend == to);
        CHECK(b.key_kind == a.key_kind);
        CHECK(b.key_params == a.key_params);
        CHECK(b.organisations == 1);
        CHECK(b.mailboxes == 2);
        CHECK(b.certificates == 4);
        CHECK(summary_lines(*copy) == summary_lines(*p.store));
        const auto org = copy->find_organisation("12345674");
        REQUIRE(org);
        CHECK(org->contacts == p.store->find_organisation("12345674")->contacts);
        CHECK(org->notes == "kunde siden 2019");
        // The audit log is the source's, then one line for the copy.
        std::vector<std::string> expected = audit_lines(*p.store);
        const std::vector<std::string> copied = audit_lines(*copy);
        REQUIRE(copied.size() == expected.size() + 1);
        CHECK(std::vector<std::string>(copied.begin(), copied.end() - 1) == expected);
        CHECK(copy->audit_log().back().action == "store.copy");
        // Superseded and revoked as they were; the secrets open under the same key.
        CHECK(copy->find(p.fingerprints[0])->status == CertificateStatus::superseded);
        CHECK(copy->find(p.fingerprints[2])->status == CertificateStatus::revoked);
        const auto current = copy->current_bundle("sikkerpost@kunde.dk");
        REQUIRE(current);
        CHECK(current->record.fingerprint == p.fingerprints[1]);
        CHECK(current->password.view() == test::pw("Pass-Ny").view());
        CHECK(copy->unseal(p.fingerprints[2]).password.view() == test::pw("Pass-Anden").view());
        // The lifecycle's rows: policy, sink, events, counters; nothing is announced again.
        Lifecycle was(*p.store);
        Lifecycle lifecycle(*copy);
        lifecycle.register_callback("cb", [](const Event&) { return SinkResult::ok(); });
        CHECK(lifecycle.renewal_policies().size() == 1);
        CHECK(lifecycle.sinks().size() == 1);
        CHECK(lifecycle.events().size() == was.events().size());
        CHECK(lifecycle.counters().emitted == was.counters().emitted);
        CHECK(lifecycle.check(kNow).emitted.empty());
        CHECK(copy->check_integrity().ok());
        // Ids go on after the copied ones: a new import and a new audit line work.
        testing::Made made = p.factory.made(spec("Efter", -1, 700), test::pw("Pass-Efter"));
        ImportOptions o;
        o.mailbox = "post@kunde.dk";
        o.report = testing::passing_report(made.certificate, kNow);
        (void)copy->import(made.bundle, made.pkcs12, test::pw("Pass-Efter"), o);
        CHECK(copy->info().certificates == 5);
        CHECK(copy->check_integrity().ok());
      }
    }
  }

  TEST_CASE("a copy refuses an occupied destination and itself, and changes neither") {
    for (const std::string& backend : testing::testable_backends()) {
      INFO("backend: ", backend);
      TempDir dir;
      TempDir other;
      const std::string source = *testing::location_for(backend, dir);
      Populated p(source, dir.path() / "store.key");
      const std::string occupied = *testing::location_for(backend, other);
      auto existing = Store::create(options_at(occupied), vault::KeySource::key_file(other.path() / "k.key"));
      const std::vector<std::string> before = audit_lines(*existing);
      try {
        (void)p.store->copy_to(options_at(occupied));
        FAIL("a copy into an existing store succeeded");
      } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::conflict);
        CHECK(std::string(e.what()).find("already") != std::string::npos);
      }
      CHECK(audit_lines(*existing) == before);
      CHECK(existing->info().certificates == 0);
      CHECK(code_of([&] { (void)p.store->copy_to(options_at(source)); }) == ErrorCode::invalid_argument);
      if (backend == "sqlite") {  // the same file, spelt another way
        const std::string plain = (dir.path() / "." / "store.db").string();
        CHECK(code_of([&] { (void)p.store->copy_to(options_at(plain)); }) == ErrorCode::invalid_argument);
      }
      CHECK(p.store->info().certificates == 4);
    }
  }

  TEST_CASE("a copy that fails at the commit leaves no destination behind") {
    TempDir dir;
    const std::string source = (dir.path() / "source.db").string();
    Populated p("sqlite:" + source, dir.path() / "store.key");
    // A contact naming an organisation that does not exist (the raw connection enforces no foreign
    // keys): every row is written, the commit's foreign-key check fails.
    testing::RawSqlite(source).exec(
        "INSERT INTO contacts (organisation_id, position, name, email, role) VALUES (999, 0, 'X', 'x@y.dk', '')");
    const std::filesystem::path target = dir.path() / "copy.db";
    CHECK(code_of([&] { (void)p.store->copy_to(options_at("sqlite:" + target.string())); }) == ErrorCode::conflict);
    CHECK_FALSE(std::filesystem::exists(target));
    CHECK_FALSE(std::filesystem::exists(target.string() + "-wal"));
    // A destination folder that does not exist: not_found (as for Store::create), nothing made.
    CHECK(code_of([&] { (void)p.store->copy_to(options_at("sqlite:" + (dir.path() / "no" / "c.db").string())); }) ==
          ErrorCode::not_found);
    CHECK_FALSE(std::filesystem::exists(dir.path() / "no"));
  }
}
