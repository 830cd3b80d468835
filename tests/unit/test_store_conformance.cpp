// The store conformance suite: the store's behaviour through the backend seam (locations, import,
// idempotency, lineage, sealing, audit, rotation, the lifecycle's outbox rows, a failed creation,
// concurrent handles), run once per backend built. A backend proves itself by passing it.
#include "support/test_support.hpp"
#include "store/backends.hpp"
#include "store/cert_factory.hpp"

#include "store/backend_registry.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/lifecycle.hpp>
#include <dpgcert/store.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <optional>
#include <thread>
#include <utility>

using namespace dpgcert;

namespace {

const Time kNow = parse_rfc3339("2025-06-01T00:00:00Z");
constexpr std::int64_t kDay = 86400;

using test::code_of;
using test::TempDir;

/// Runs `body(location)` once per registered backend this environment can provide (each failure
/// names its backend); the others must refuse to open with Error(unsupported).
void for_each_backend(const std::function<void(const std::string& backend, const TempDir& dir,
                                               const std::string& location)>& body) {
  for (const std::string& b : testing::testable_backends()) {
    INFO("backend: ", b);
    TempDir dir;
    body(b, dir, *testing::location_for(b, dir));
  }
}

StoreOptions options_at(const std::string& location, std::shared_ptr<FixedClock> clock) {
  StoreOptions o;
  o.location = location;
  o.actor = "tester";
  o.clock = std::move(clock);
  return o;
}

ValidationReport passing(const Certificate& c) { return testing::passing_report(c, kNow); }

testing::LeafSpec spec(const std::string& cn, std::int64_t nb_days, std::int64_t na_days) {
  testing::LeafSpec s;
  s.common_name = cn;
  s.not_before = to_unix(kNow) + nb_days * kDay;
  s.not_after = to_unix(kNow) + na_days * kDay;
  return s;
}

/// A store at `location` with an organisation and a mailbox.
struct Fixture {
  std::shared_ptr<FixedClock> clock = std::make_shared<FixedClock>(kNow);
  testing::CertFactory factory;
  std::unique_ptr<Store> store;

  Fixture(const TempDir& dir, const std::string& location) {
    store = Store::create(options_at(location, clock), vault::KeySource::key_file(dir.path() / "store.key"));
    Organisation o;
    o.cvr = "12345674";
    o.name = "Kunde A/S";
    (void)store->add_organisation(o);
    Mailbox m;
    m.address = "sikkerpost@kunde.dk";
    m.organisation_cvr = "12345674";
    (void)store->add_mailbox(m);
  }

  ImportResult put(const testing::LeafSpec& s, std::string_view password = "Test1234") {
    ImportOptions o;
    o.mailbox = "sikkerpost@kunde.dk";
    return put_with(s, std::move(o), password);
  }

  /// Imports a factory-made leaf with `o` and a passing report.
  ImportResult put_with(const testing::LeafSpec& s, ImportOptions o, std::string_view password = "Test1234") {
    const SecretBytes pw = test::pw(password);
    testing::Made made = factory.made(s, pw);
    o.report = passing(made.certificate);
    return store->import(made.bundle, made.pkcs12, pw, o);
  }

  [[nodiscard]] std::vector<std::string> actions() const {
    std::vector<std::string> out;
    for (const AuditEntry& e : store->audit_log()) out.push_back(e.action);
    return out;
  }
};

}  // namespace

TEST_SUITE("store_conformance") {
  TEST_CASE("locations: a path, sqlite:PATH and sqlite:///abs name one store - other schemes say what is missing") {
    TempDir dir;
    const std::string path = (dir.path() / "s.db").string();
    StoreOptions o;
    o.path = path;
    o.clock = std::make_shared<FixedClock>(kNow);
    (void)Store::create(std::move(o), vault::KeySource::key_file(dir.path() / "k.key"));
    for (const std::string& location : {path, "sqlite:" + path, "sqlite://" + path}) {
      CAPTURE(location);
      StoreOptions again;
      again.location = location;
      const StoreInfo info = Store::open(std::move(again))->info();
      CHECK(info.backend == "sqlite");
      CHECK(info.location == path);
    }
    for (const std::string scheme : {"postgresql", "postgres"}) {
      CAPTURE(scheme);
      StoreOptions pg;
      pg.location = scheme + "://dpgcert:Secret-Pw-1@nowhere.invalid:1/dpgcert?password=Secret-Pw-2";
      try {
        (void)Store::open(std::move(pg));
        FAIL("a postgresql:// location that names no server opened");
      } catch (const Error& e) {
        const std::string what = e.what();
        CAPTURE(what);
        if (testing::backend_built("postgresql")) {
          // Built in: the server cannot be reached; the message names it without the password.
          CHECK(e.code() == ErrorCode::io);
          CHECK(what.find(scheme + "://dpgcert:***@nowhere.invalid:1/dpgcert?password=***") != std::string::npos);
        } else {
          CHECK(e.code() == ErrorCode::unsupported);
          CHECK(what.find("store: backend 'postgresql' is not built into this dpgcert") != std::string::npos);
        }
        CHECK(what.find("Secret-Pw") == std::string::npos);
      }
    }
    StoreOptions other;
    other.location = "mongodb://x/y";
    CHECK(code_of([&] { (void)Store::create(std::move(other), vault::KeySource::key_file(dir.path() / "k2.key")); }) ==
          ErrorCode::unsupported);
    StoreOptions host;
    host.location = "sqlite://host/db";
    CHECK(code_of([&] { (void)Store::open(std::move(host)); }) == ErrorCode::invalid_argument);

    // What a tool needs to know before creating a store: which file, if any.
    CHECK(sqlite_file_of(path) == std::filesystem::path(path));
    CHECK(sqlite_file_of("sqlite:" + path) == std::filesystem::path(path));
    CHECK(sqlite_file_of("sqlite://" + path) == std::filesystem::path(path));
    CHECK(sqlite_file_of("sqlite:rel/s.db") == std::filesystem::path("rel/s.db"));
    CHECK_FALSE(sqlite_file_of("postgresql://db.example/dpgcert"));
    CHECK(code_of([&] { (void)sqlite_file_of("sqlite://host/db"); }) == ErrorCode::invalid_argument);
    CHECK(code_of([&] { (void)sqlite_file_of(""); }) == ErrorCode::invalid_argument);
  }

  TEST_CASE("import, idempotency, lineage, sealing and audit") {
    for_each_backend([](const std::string& backend, const TempDir& dir, const std::string& location) {
      Fixture f(dir, location);
      CHECK(f.store->info().backend == backend);
      const ImportResult old = f.put(spec("Gammel", -400, 200), "Old-Pass-1");
      REQUIRE(old.outcome == ImportOutcome::imported);
      const ImportResult renewed = f.put(spec("Ny", -10, 900), "New-Pass-2");
      REQUIRE(renewed.outcome == ImportOutcome::imported);
      CHECK(renewed.superseded == std::vector<std::string>{old.fingerprint});
      CHECK(renewed.record->lineage_id == old.record->lineage_id);

      const auto before = f.store->find(old.fingerprint);
      REQUIRE(before);
      CHECK(before->status == CertificateStatus::superseded);
      CHECK(before->superseded_by == renewed.fingerprint);

      // Idempotent by fingerprint: the same certificate again changes nothing.
      const SecretBytes pw = test::pw("Third-3");
      testing::Made third = f.factory.made(spec("Tredje", -5, 100), pw);
      ImportOptions o;
      o.report = passing(third.certificate);
      REQUIRE(f.store->import(third.bundle, third.pkcs12, pw, o).outcome == ImportOutcome::imported);
      const std::size_t lines = f.store->audit_log().size();
      CHECK(f.store->import(third.bundle, third.pkcs12, pw, o).outcome == ImportOutcome::already_present);
      CHECK(f.store->audit_log().size() == lines);
      const auto present = f.store->find(old.fingerprint.substr(0, 12));
      REQUIRE(present);
      CHECK(present->fingerprint == old.fingerprint);

      // Sealing: the gateway gets the newest bundle with its own password.
      const auto current = f.store->current_bundle("SIKKERPOST@kunde.dk");
      REQUIRE(current);
      CHECK(current->record.fingerprint == renewed.fingerprint);
      CHECK(current->password.view() == test::pw("New-Pass-2").view());
      const UnsealedBundle u = f.store->unseal(old.fingerprint);
      CHECK(u.password.view() == test::pw("Old-Pass-1").view());

      const auto actions = f.actions();
      CHECK(std::count(actions.begin(), actions.end(), "certificate.import") == 3);
      CHECK(std::count(actions.begin(), actions.end(), "certificate.supersede") == 1);
      CHECK(f.store->count(CertificateQuery::expiring_before(kNow + std::chrono::days(1000))) == 2);
      CHECK(f.store->check_integrity().ok());

      const CertificateRecord retired = f.store->set_status(renewed.fingerprint, CertificateStatus::retired, "test");
      CHECK(retired.status == CertificateStatus::retired);
      CHECK_FALSE(f.store->current_bundle("sikkerpost@kunde.dk"));
      CHECK(f.store->check_integrity().ok());
    });
  }

  TEST_CASE("an import's record is the record a read gives: fresh, renewal, late older, new organisation, forced") {
    for_each_backend([](const std::string&, const TempDir& dir, const std::string& location) {
      Fixture f(dir, location);
      // Every field, compared with the record find() reads back from the backend.
      const auto same_as_stored = [&f](const ImportResult& r) {
        REQUIRE(r.outcome == ImportOutcome::imported);
        REQUIRE(r.record);
        const CertificateRecord& a = *r.record;
        const auto b = f.store->find(r.fingerprint);
        REQUIRE(b);
        CAPTURE(a.common_name.value_or("-"));
        CHECK(a.id == b->id);
        CHECK(a.fingerprint == b->fingerprint);
        CHECK(a.status == b->status);
        CHECK(a.not_before == b->not_before);
        CHECK(a.not_after == b->not_after);
        CHECK(a.organisation_cvr == b->organisation_cvr);
        CHECK(a.mailbox == b->mailbox);
        CHECK(a.cvr == b->cvr);
        CHECK(a.generation == b->generation);
        CHECK(a.type == b->type);
        CHECK(a.environment == b->environment);
        CHECK(a.oces_id == b->oces_id);
        CHECK(a.common_name == b->common_name);
        CHECK(a.certificate == b->certificate);
        CHECK(a.subject == b->subject);
        CHECK(a.issuer == b->issuer);
        CHECK(a.serial == b->serial);
        CHECK(a.key_algorithm == b->key_algorithm);
        CHECK(a.key_bits == b->key_bits);
        CHECK(a.pkcs12_profile_json == b->pkcs12_profile_json);
        CHECK(a.pkcs12_legacy == b->pkcs12_legacy);
        CHECK(a.source == b->source);
        CHECK(a.validation_verdict == b->validation_verdict);
        CHECK(a.forced == b->forced);
        CHECK(a.validation_report_json == b->validation_report_json);
        CHECK(a.lineage_id == b->lineage_id);
        CHECK(a.superseded_by == b->superseded_by);
        CHECK(a.supersedes == b->supersedes);
        CHECK(a.added_at == b->added_at);
        CHECK(a.added_by == b->added_by);
        CHECK(a.status_changed_at == b->status_changed_at);
      };
      const ImportResult first = f.put(spec("Foerste", -400, 200));
      same_as_stored(first);
      CHECK(first.record->mailbox == "sikkerpost@kunde.dk");
      CHECK(first.record->organisation_cvr == "12345674");

      const ImportResult renewal = f.put(spec("Fornyet", -10, 900));
      same_as_stored(renewal);
      CHECK(renewal.record->supersedes == std::vector<std::string>{first.fingerprint});

      const ImportResult late = f.put(spec("Sen", -500, 100));  // older than the current one
      same_as_stored(late);
      CHECK(late.record->status == CertificateStatus::superseded);
      CHECK(late.record->superseded_by == renewal.fingerprint);

      // No mailbox: the organisation is created from the certificate's CVR.
      const ImportResult foces = f.put_with(testing::foces_spec("87654321", "4711", to_unix(kNow) - 10 * kDay,
                                                                to_unix(kNow) + 700 * kDay),
                                            ImportOptions{});
      same_as_stored(foces);
      CHECK(foces.record->organisation_cvr == "87654321");
      CHECK_FALSE(foces.record->mailbox);

      // Forced past a failing report.
      const SecretBytes pw = test::pw("Forced-9");
      testing::Made made = f.factory.made(spec("Tvunget", -1, 365), pw);
      ImportOptions o;
      o.report = passing(made.certificate);
      o.report->verdict = CheckStatus::fail;
      o.report->checks = {{"chain", CheckStatus::fail, "no path to a trusted OCES root"}};
      o.force = true;
      o.source = "forced.p12";
      const ImportResult forced = f.store->import(made.bundle, made.pkcs12, pw, o);
      same_as_stored(forced);
      CHECK(forced.record->forced);
      CHECK(forced.record->validation_verdict == CheckStatus::fail);

      // import_many writes the same records.
      const SecretBytes pw2 = test::pw("Many-10");
      testing::Made m1 = f.factory.made(spec("Mange", -2, 800), pw2);
      ImportRequest req;
      req.bundle = &m1.bundle;
      req.pkcs12 = m1.pkcs12;
      req.password = &pw2;
      req.options.mailbox = "sikkerpost@kunde.dk";
      req.options.report = passing(m1.certificate);
      const std::vector<ImportAttempt> many = f.store->import_many(std::span<const ImportRequest>(&req, 1));
      REQUIRE(many.size() == 1);
      REQUIRE(many[0].result);
      same_as_stored(*many[0].result);
      CHECK(many[0].result->record->supersedes == std::vector<std::string>{renewal.fingerprint});
    });
  }

  TEST_CASE("listings: a long listing (no organisation, mailbox or limit) has the rows, order and names of the filtered ones") {
    for_each_backend([](const std::string&, const TempDir& dir, const std::string& location) {
      Fixture f(dir, location);
      Organisation other;
      other.cvr = "25313763";
      other.name = "Anden A/S";
      (void)f.store->add_organisation(other);
      Mailbox second;
      second.address = "post@anden.dk";
      second.organisation_cvr = "25313763";
      (void)f.store->add_mailbox(second);
      // Six certificates: two with the first mailbox (one superseding the other), one with the
      // second organisation's mailbox, one of the second organisation without a mailbox, one with
      // no organisation or mailbox, and two with the same notAfter (ordered by fingerprint).
      const auto put = [&f](const testing::LeafSpec& s, std::optional<std::string> cvr, std::optional<std::string> mailbox) {
        ImportOptions o;
        o.organisation_cvr = std::move(cvr);
        o.mailbox = std::move(mailbox);
        const ImportResult r = f.put_with(s, std::move(o));
        REQUIRE(r.outcome == ImportOutcome::imported);
        return r.fingerprint;
      };
      (void)put(spec("A1", -400, 20), "12345674", "sikkerpost@kunde.dk");
      (void)put(spec("A2", -10, 25), "12345674", "sikkerpost@kunde.dk");
      (void)put(spec("B1", -10, 10), "25313763", "post@anden.dk");
      (void)put(spec("B2", -10, 15), "25313763", std::nullopt);
      (void)put(spec("Ingen", -10, 12), std::nullopt, std::nullopt);
      (void)put(spec("Samme-1", -10, 28), "25313763", std::nullopt);
      (void)put(spec("Samme-2", -10, 28), "25313763", std::nullopt);

      CertificateQuery all_active = CertificateQuery::expiring_before(kNow + std::chrono::days(30));
      const std::vector<CertificateSummary> whole = f.store->query(all_active);
      REQUIRE(whole.size() == 6);  // A1 is superseded, not active
      for (std::size_t i = 1; i < whole.size(); ++i) {
        const bool ordered = whole[i - 1].not_after < whole[i].not_after ||
                             (whole[i - 1].not_after == whole[i].not_after && whole[i - 1].fingerprint < whole[i].fingerprint);
        CHECK(ordered);
      }
      // The same rows through the filtered (joined) statements, and a limit, which is not long.
      std::vector<CertificateSummary> filtered;
      for (const char* cvr : {"12345674", "25313763"}) {
        CertificateQuery q = all_active;
        q.organisation_cvr = cvr;
        for (CertificateSummary& c : f.store->query(q)) filtered.push_back(std::move(c));
      }
      CertificateQuery limited = all_active;
      limited.limit = 100;
      const std::vector<CertificateSummary> paged = f.store->query(limited);
      REQUIRE(paged.size() == whole.size());
      std::size_t found = 0;
      for (std::size_t i = 0; i < whole.size(); ++i) {
        const CertificateSummary& w = whole[i];
        INFO("certificate ", w.common_name.value_or("?"));
        CHECK(paged[i].fingerprint == w.fingerprint);
        CHECK(paged[i].organisation_cvr == w.organisation_cvr);
        CHECK(paged[i].mailbox == w.mailbox);
        CHECK(paged[i].common_name == w.common_name);
        CHECK(paged[i].id == w.id);
        CHECK(paged[i].status == w.status);
        CHECK(paged[i].not_before == w.not_before);
        for (const CertificateSummary& x : filtered) {
          if (x.fingerprint != w.fingerprint) continue;
          ++found;
          CHECK(x.organisation_cvr == w.organisation_cvr);
          CHECK(x.mailbox == w.mailbox);
        }
      }
      CHECK(found == 5);  // every one but the certificate without an organisation
      const auto named = [&whole](const std::string& cn) {
        for (const CertificateSummary& w : whole) {
          if (w.common_name == cn) return w;
        }
        FAIL("no certificate named ", cn);
        return CertificateSummary{};
      };
      CHECK(named("A2").organisation_cvr == std::optional<std::string>("12345674"));
      CHECK(named("A2").mailbox == std::optional<std::string>("sikkerpost@kunde.dk"));
      CHECK(named("B1").mailbox == std::optional<std::string>("post@anden.dk"));
      CHECK(named("B1").organisation_cvr == std::optional<std::string>("25313763"));
      CHECK_FALSE(named("B2").mailbox);
      CHECK_FALSE(named("Ingen").organisation_cvr);
      CHECK_FALSE(named("Ingen").mailbox);
    });
  }

  TEST_CASE("import_many: in order, in one transaction - a failing request is undone alone and reported") {
    for_each_backend([](const std::string& backend, const TempDir& dir, const std::string& location) {
      Fixture f(dir, location);
      CHECK(f.store->info().backend == backend);
      const SecretBytes pw_a = test::pw("Batch-A-1");
      const SecretBytes pw_b = test::pw("Batch-B-2");
      const SecretBytes pw_c = test::pw("Batch-C-3");
      const SecretBytes pw_f = test::pw("Batch-F-4");
      testing::Made a = f.factory.made(spec("Gammel", -400, 200), pw_a);
      testing::Made b = f.factory.made(spec("Ny", -10, 900), pw_b);
      testing::Made c = f.factory.made(spec("Forkert", -10, 800), pw_c);
      testing::Made bad = f.factory.made(spec("Afvist", -10, 700), pw_f);
      auto request = [](const testing::Made& m, const SecretBytes& pw, ValidationReport report) {
        ImportRequest r;
        r.bundle = &m.bundle;
        r.pkcs12 = m.pkcs12;
        r.password = &pw;
        r.options.mailbox = "sikkerpost@kunde.dk";
        r.options.report = std::move(report);
        return r;
      };
      std::vector<ImportRequest> requests;
      requests.push_back(request(a, pw_a, passing(a.certificate)));
      requests.push_back(request(b, pw_b, passing(b.certificate)));  // supersedes a, in the same call
      // The mailbox belongs to CVR 12345674: attaching to another CVR creates that organisation,
      // then conflicts - and the organisation must go with the rest of the request.
      requests.push_back(request(c, pw_c, passing(c.certificate)));
      requests.back().options.organisation_cvr = "25313763";
      requests.push_back(ImportRequest{});                            // no bundle: invalid
      requests.push_back(request(a, pw_a, passing(a.certificate)));  // a again: already there
      ValidationReport failing = passing(bad.certificate);
      failing.verdict = CheckStatus::fail;
      requests.push_back(request(bad, pw_f, failing));  // refused, not forced
      const std::vector<ImportAttempt> out = f.store->import_many(requests);
      REQUIRE(out.size() == requests.size());
      REQUIRE(out[0].result);
      CHECK(out[0].result->outcome == ImportOutcome::imported);
      REQUIRE(out[1].result);
      CHECK(out[1].result->outcome == ImportOutcome::imported);
      CHECK(out[1].result->superseded == std::vector<std::string>{out[0].result->fingerprint});
      CHECK_FALSE(out[2].result);
      REQUIRE(out[2].error);
      CHECK(out[2].error->code() == ErrorCode::conflict);
      REQUIRE(out[3].error);
      CHECK(out[3].error->code() == ErrorCode::invalid_argument);
      REQUIRE(out[4].result);
      CHECK(out[4].result->outcome == ImportOutcome::already_present);
      REQUIRE(out[5].result);
      CHECK(out[5].result->outcome == ImportOutcome::refused);
      CHECK_FALSE(out[5].error);

      // What the conflicting request did is gone; the others are stored whole.
      CHECK_FALSE(f.store->find_organisation("25313763"));
      CHECK_FALSE(f.store->find(c.certificate.fingerprint_hex()));
      CHECK_FALSE(f.store->find(bad.certificate.fingerprint_hex()));
      const auto actions = f.actions();
      CHECK(std::count(actions.begin(), actions.end(), "certificate.import") == 2);
      CHECK(std::count(actions.begin(), actions.end(), "certificate.supersede") == 1);
      CHECK(std::count(actions.begin(), actions.end(), "organisation.add") == 1);  // the fixture's
      const auto current = f.store->current_bundle("sikkerpost@kunde.dk");
      REQUIRE(current);
      CHECK(current->record.fingerprint == out[1].result->fingerprint);
      CHECK(current->password.view() == pw_b.view());
      CHECK(f.store->unseal(out[0].result->fingerprint).password.view() == pw_a.view());
      CHECK(f.store->check_integrity().ok());

      // A call of nothing but failures writes nothing.
      const std::size_t lines = f.store->audit_log().size();
      std::vector<ImportRequest> none;
      none.push_back(ImportRequest{});
      none.push_back(request(c, pw_c, passing(c.certificate)));
      none.back().options.organisation_cvr = "25313763";
      const std::vector<ImportAttempt> failed = f.store->import_many(none);
      REQUIRE(failed.size() == 2);
      CHECK(failed[0].error);
      CHECK(failed[1].error);
      CHECK(f.store->audit_log().size() == lines);
      CHECK(f.store->import_many({}).empty());
    });
  }

  TEST_CASE("import_many: the same certificate twice in one call, an organisation made before a failing request") {
    for_each_backend([](const std::string&, const TempDir& dir, const std::string& location) {
      Fixture f(dir, location);
      const SecretBytes pw = test::pw("Batch-G-5");
      const std::int64_t nb = to_unix(kNow) - 10 * kDay;
      testing::Made first = f.factory.made(testing::foces_spec("25313763", "1001", nb, nb + 700 * kDay), pw);
      testing::Made clash = f.factory.made(spec("Konflikt", -10, 800), pw);
      testing::Made second = f.factory.made(testing::foces_spec("25313763", "1002", nb, nb + 600 * kDay), pw);
      auto request = [&pw](const testing::Made& m) {
        ImportRequest r;
        r.bundle = &m.bundle;
        r.pkcs12 = m.pkcs12;
        r.password = &pw;
        r.options.report = passing(m.certificate);
        return r;
      };
      std::vector<ImportRequest> requests;
      requests.push_back(request(first));  // creates the organisation 25313763 from its CVR
      requests.push_back(request(first));  // the same again, in the same call: already there
      requests.push_back(request(clash));  // the fixture's mailbox under another CVR: a conflict
      requests.back().options.mailbox = "sikkerpost@kunde.dk";
      requests.back().options.organisation_cvr = "25313763";
      requests.push_back(request(second));  // the organisation the first request made
      const std::vector<ImportAttempt> out = f.store->import_many(requests);
      REQUIRE(out.size() == 4);
      REQUIRE(out[0].result);
      CHECK(out[0].result->outcome == ImportOutcome::imported);
      REQUIRE(out[1].result);
      CHECK(out[1].result->outcome == ImportOutcome::already_present);
      CHECK(out[1].result->record->id == out[0].result->record->id);
      REQUIRE(out[2].error);
      CHECK(out[2].error->code() == ErrorCode::conflict);
      REQUIRE(out[3].result);
      CHECK(out[3].result->outcome == ImportOutcome::imported);
      CHECK(out[3].result->record->organisation_cvr == "25313763");
      const auto made = f.store->find_organisation("25313763");
      REQUIRE(made);
      CertificateQuery of_organisation;
      of_organisation.organisation_cvr = "25313763";
      CHECK(f.store->query(of_organisation).size() == 2);
      const auto actions = f.actions();
      CHECK(std::count(actions.begin(), actions.end(), "organisation.add") == 2);  // the fixture's and this one
      CHECK(std::count(actions.begin(), actions.end(), "certificate.import") == 2);
      CHECK_FALSE(f.store->find(clash.certificate.fingerprint_hex()));
      CHECK(f.store->check_integrity().ok());
    });
  }

  TEST_CASE("key rotation re-wraps every data key and the secrets still open") {
    for_each_backend([](const std::string&, const TempDir& dir, const std::string& location) {
      Fixture f(dir, location);
      const ImportResult a = f.put(spec("A", -10, 300), "Pass-A");
      const RotationResult r = f.store->rotate_master_key(vault::KeySource::key_file(dir.path() / "next.key"));
      CHECK(r.rewrapped == 2);
      CHECK(f.store->unseal(a.fingerprint).password.view() == test::pw("Pass-A").view());
      CHECK(f.store->info().key_rotated_at == kNow);
      CHECK(f.actions().back() == "key.rotate");
      // Another handle, given the new key, opens the secrets too.
      StoreOptions o = options_at(location, f.clock);
      o.unlock.key_file = dir.path() / "next.key";
      CHECK(Store::open(std::move(o))->unseal(a.fingerprint).password.view() == test::pw("Pass-A").view());
    });
  }

  TEST_CASE("the lifecycle's rows: tracking, pending changes, the outbox with deliveries, counters") {
    for_each_backend([](const std::string&, const TempDir& dir, const std::string& location) {
      Fixture f(dir, location);
      Lifecycle lifecycle(*f.store);
      std::vector<Event> received;
      lifecycle.register_callback("cb", [&](const Event& e) {
        received.push_back(e);
        return SinkResult::ok();
      });
      (void)lifecycle.add_sink(callback_sink("cb"));
      const ImportResult old = f.put(spec("Gammel", -1000, 20));
      (void)f.put(spec("Ny", -1, 1000));
      CHECK(lifecycle.tracked({}).size() == 1);  // active ones

      const CheckResult r = lifecycle.check(kNow);
      // The old one was superseded: announced as renewed; the new one is far from expiry.
      REQUIRE(r.emitted.size() == 1);
      CHECK(r.emitted[0].kind == EventKind::renewed);
      CHECK(r.emitted[0].certificate.fingerprint == old.fingerprint);
      CHECK(received.size() == 1);
      const auto events = lifecycle.events();
      REQUIRE(events.size() == 1);
      CHECK(events[0].id == r.emitted[0].id);
      const auto stats = lifecycle.sink_stats();
      REQUIRE(stats.size() == 1);
      CHECK(stats[0].delivered == 1);
      CHECK(stats[0].pending == 0);
      const LifecycleCounters counters = lifecycle.counters();
      REQUIRE(counters.emitted.size() == 1);
      CHECK(counters.emitted[0] == std::make_pair(std::string("renewed"), std::uint64_t{1}));

      // Nothing new on a second run: every event is written once.
      CHECK(lifecycle.check(kNow).emitted.empty());
      lifecycle.set_renewal_policy(std::nullopt, parse_renewal_policy("2000,0"));
      CHECK(lifecycle.renewal_policies().size() == 1);
      const CheckResult staged = lifecycle.check(kNow);
      REQUIRE(staged.emitted.size() == 1);
      CHECK(staged.emitted[0].stage_days == 2000);
      CHECK(lifecycle.severity_counts().critical == 1);  // 2000 is the last stage before expiry
      CHECK(f.store->check_integrity().ok());
      lifecycle.remove_sink("cb");
      CHECK(lifecycle.sinks().empty());
    });
  }

  TEST_CASE("a creation that fails leaves nothing behind - two handles import at once without errors") {
    for_each_backend([](const std::string&, const TempDir& dir, const std::string& location) {
      StoreOptions bad = options_at(location, std::make_shared<FixedClock>(kNow));
      // A key file in a folder that does not exist: the key cannot be established.
      CHECK(code_of([&] { (void)Store::create(std::move(bad), vault::KeySource::key_file(dir.path() / "no" / "k.key")); }) !=
            ErrorCode::conflict);
      Fixture f(dir, location);  // the location is free again
      auto other = Store::open(options_at(location, f.clock));
      std::atomic<int> errors{0};
      std::vector<testing::Made> made;
      const SecretBytes pw = test::pw("Test1234");
      for (int i = 0; i < 16; ++i) made.push_back(f.factory.made(spec(test::numbered("C", i), -i, 300 + i), pw));
      auto run = [&](Store& s, int first) {
        for (int i = first; i < 16; i += 2) {
          try {
            ImportOptions o;
            o.report = passing(made[static_cast<std::size_t>(i)].certificate);
            (void)s.import(made[static_cast<std::size_t>(i)].bundle, made[static_cast<std::size_t>(i)].pkcs12, pw, o);
          } catch (const std::exception&) {
            ++errors;
          }
        }
      };
      std::thread a([&] { run(*f.store, 0); });
      std::thread b([&] { run(*other, 1); });
      a.join();
      b.join();
      CHECK(errors == 0);
      CHECK(f.store->info().certificates == 16);
      CHECK(other->check_integrity().ok());
    });
  }
}

TEST_SUITE("store_conformance") {
  TEST_CASE("inventory edits: organisation name, notes and contacts - mailbox move and removal - organisation removal") {
    for_each_backend([](const std::string&, const TempDir& dir, const std::string& location) {
      Fixture f(dir, location);
      // Edit: name and notes in one audited step; an empty name and an unknown CVR refused.
      OrganisationEdit e;
      e.name = "Kunde Holding A/S";
      e.notes = "ring før fornyelse";
      const Organisation edited = f.store->edit_organisation("12345674", e, "ops");
      CHECK(edited.name == "Kunde Holding A/S");
      CHECK(edited.notes == "ring før fornyelse");
      CHECK(f.store->find_organisation("12345674")->name == "Kunde Holding A/S");
      const AuditEntry edit_line = f.store->audit_log().back();
      CHECK(edit_line.action == "organisation.edit");
      CHECK(edit_line.actor == "ops");
      CHECK(edit_line.details.find("\"from\":\"Kunde A/S\"") != std::string::npos);
      OrganisationEdit empty;
      empty.name = "";
      CHECK(code_of([&] { (void)f.store->edit_organisation("12345674", empty); }) == ErrorCode::invalid_argument);
      CHECK(code_of([&] { (void)f.store->edit_organisation("87654321", e); }) == ErrorCode::not_found);

      // Contacts: add, a duplicate address refused (without case), remove, an unknown one not found.
      const Organisation with = f.store->add_contact("12345674", {"IT-drift", "drift@kunde.dk", "renewals"});
      REQUIRE(with.contacts.size() == 1);
      CHECK(with.contacts[0].role == "renewals");
      CHECK(code_of([&] { (void)f.store->add_contact("12345674", {"X", "DRIFT@kunde.dk", ""}); }) == ErrorCode::conflict);
      CHECK(code_of([&] { (void)f.store->add_contact("12345674", {"X", "no-at", ""}); }) == ErrorCode::invalid_argument);
      (void)f.store->add_contact("12345674", {"Økonomi", "bogholderi@kunde.dk", ""});
      const Organisation without = f.store->remove_contact("12345674", "Drift@Kunde.dk");
      REQUIRE(without.contacts.size() == 1);
      CHECK(without.contacts[0].email == "bogholderi@kunde.dk");
      CHECK(code_of([&] { (void)f.store->remove_contact("12345674", "drift@kunde.dk"); }) == ErrorCode::not_found);
      CHECK(f.actions().back() == "organisation.contact.remove");

      // A mailbox with an active certificate moves with it to another organisation.
      const ImportResult a = f.put(spec("A", -10, 300));
      REQUIRE(a.outcome == ImportOutcome::imported);
      Organisation other;
      other.cvr = "11111111";
      other.name = "Søster ApS";
      (void)f.store->add_organisation(other);
      CHECK(code_of([&] { (void)f.store->move_mailbox("sikkerpost@kunde.dk", "22222222"); }) == ErrorCode::not_found);
      CHECK(code_of([&] { (void)f.store->move_mailbox("ingen@kunde.dk", "11111111"); }) == ErrorCode::not_found);
      const Mailbox moved = f.store->move_mailbox("SIKKERPOST@kunde.dk", "11111111");
      CHECK(moved.organisation_cvr == "11111111");
      CHECK(f.store->find(a.fingerprint)->organisation_cvr == "11111111");
      CHECK(f.actions().back() == "mailbox.move");
      CHECK(f.store->list_mailboxes(std::string_view("12345674")).empty());

      // The old organisation can go now (no mailboxes, nothing active attached).
      const RemovalResult gone = f.store->remove_organisation("12345674");
      CHECK(gone.retired.empty());
      CHECK_FALSE(f.store->find_organisation("12345674"));
      CHECK(f.actions().back() == "organisation.remove");
      // The other has a mailbox: refused until it is removed; that mailbox has an active
      // certificate: refused unless the removal retires it.
      CHECK(code_of([&] { (void)f.store->remove_organisation("11111111"); }) == ErrorCode::conflict);
      CHECK(code_of([&] { (void)f.store->remove_mailbox("sikkerpost@kunde.dk"); }) == ErrorCode::conflict);
      CHECK(f.store->find_mailbox("sikkerpost@kunde.dk"));
      RemovalOptions retire;
      retire.retire_certificates = true;
      const RemovalResult removed = f.store->remove_mailbox("sikkerpost@kunde.dk", retire, "ops");
      CHECK(removed.retired == std::vector<std::string>{a.fingerprint});
      CHECK(removed.detached == 1);
      CHECK_FALSE(f.store->find_mailbox("sikkerpost@kunde.dk"));
      const auto kept = f.store->find(a.fingerprint);
      REQUIRE(kept);
      CHECK(kept->status == CertificateStatus::retired);
      CHECK_FALSE(kept->mailbox);
      CHECK(kept->organisation_cvr == "11111111");
      const auto actions = f.actions();
      CHECK(actions[actions.size() - 2] == "certificate.status");
      CHECK(actions.back() == "mailbox.remove");
      CHECK(code_of([&] { (void)f.store->remove_mailbox("sikkerpost@kunde.dk"); }) == ErrorCode::not_found);
      // Now the organisation goes too; its retired certificate stays, attached to nothing.
      const RemovalResult last = f.store->remove_organisation("11111111");
      CHECK(last.detached == 1);
      CHECK_FALSE(f.store->find(a.fingerprint)->organisation_cvr);
      CHECK(f.store->unseal(a.fingerprint).password.view() == test::pw("Test1234").view());
      CHECK(f.store->check_integrity().ok());
    });
  }
}

TEST_SUITE("store_conformance") {
  TEST_CASE("environment policy: set at creation, enforced by import, changed with an audit line - audit times") {
    for_each_backend([](const std::string&, const TempDir& dir, const std::string& location) {
      const auto clock = std::make_shared<FixedClock>(kNow);
      const Time wall = parse_rfc3339("2026-12-04T12:00:00Z");
      StoreOptions o = options_at(location, clock);
      o.wall_clock = std::make_shared<FixedClock>(wall);
      o.environment = EnvironmentPolicy::production;
      auto store = Store::create(std::move(o), vault::KeySource::key_file(dir.path() / "env.key"));
      CHECK(store->info().environment == EnvironmentPolicy::production);

      // The factory's certificates are of no OCES environment: a production store refuses them
      // through the report's environment check, naming its policy; forced, they go in.
      testing::CertFactory factory;
      const SecretBytes pw = test::pw("Test1234");
      testing::Made made = factory.made(spec("Ukendt", -10, 300), pw);
      ImportOptions io;
      io.report = passing(made.certificate);
      const ImportResult refused = store->import(made.bundle, made.pkcs12, pw, io);
      CHECK(refused.outcome == ImportOutcome::refused);
      REQUIRE(refused.report);
      const Check* env = refused.report->find(check_id::environment);
      REQUIRE(env != nullptr);
      CHECK(env->status == CheckStatus::fail);
      CHECK(env->message.find("this store accepts production certificates only") != std::string::npos);
      io.force = true;
      CHECK(store->import(made.bundle, made.pkcs12, pw, io).outcome == ImportOutcome::imported);

      // Changing the policy is audited; setting the same again writes nothing.
      store->set_environment_policy(EnvironmentPolicy::any, "ops");
      CHECK(store->info().environment == EnvironmentPolicy::any);
      const std::size_t lines = store->audit_log().size();
      store->set_environment_policy(EnvironmentPolicy::any, "ops");
      CHECK(store->audit_log().size() == lines);
      const AuditEntry changed = store->audit_log().back();
      CHECK(changed.action == "store.environment");
      CHECK(changed.details.find("\"from\":\"production\"") != std::string::npos);
      CHECK(changed.details.find("\"to\":\"any\"") != std::string::npos);
      testing::Made other = factory.made(spec("Anden", -10, 300), pw);
      ImportOptions plain;
      plain.report = passing(other.certificate);
      CHECK(store->import(other.bundle, other.pkcs12, pw, plain).outcome == ImportOutcome::imported);

      // Every line carries the wall clock's time, and separately the store clock's (a what-if time).
      for (const AuditEntry& e : store->audit_log()) {
        CHECK(e.at == wall);
        REQUIRE(e.command_time);
        CHECK(*e.command_time == kNow);
      }
      // On the system clock there is no separate command time.
      StoreOptions plain_options;
      plain_options.location = location;
      auto reopened = Store::open(std::move(plain_options));
      reopened->set_environment_policy(EnvironmentPolicy::test);
      CHECK_FALSE(reopened->audit_log().back().command_time);
      CHECK(reopened->info().environment == EnvironmentPolicy::test);
      CHECK(reopened->check_integrity().ok());
    });
  }
  TEST_CASE("outbox retention: delivered events past it are pruned with their deliveries - waiting ones stay") {
    for_each_backend([](const std::string&, const TempDir& dir, const std::string& location) {
      Fixture f(dir, location);
      Lifecycle lifecycle(*f.store);
      CHECK(lifecycle.outbox_retention() == kDefaultOutboxRetention);
      // Out of range: refused, nothing recorded.
      const std::size_t lines = f.store->audit_log().size();
      CHECK(code_of([&] { lifecycle.set_outbox_retention(std::chrono::days(0)); }) == ErrorCode::invalid_argument);
      CHECK(code_of([&] { lifecycle.set_outbox_retention(std::chrono::days(36526)); }) == ErrorCode::invalid_argument);
      CHECK(f.store->audit_log().size() == lines);
      lifecycle.set_outbox_retention(std::chrono::days(30), "ops");
      CHECK(lifecycle.outbox_retention() == std::chrono::days(30));
      CHECK(f.store->audit_log().back().action == "lifecycle.retention");
      CHECK(f.store->audit_log().back().details.find("\"to\":\"30\"") != std::string::npos);

      // e0: emitted while no sink was configured (no delivery: it waits for a sink's backlog).
      (void)f.put(spec("Gammel", -1000, 20));
      (void)f.put(spec("Ny", -1, 1000));
      const CheckResult first = lifecycle.check(kNow);
      REQUIRE(first.emitted.size() == 1);
      const std::string e0 = first.emitted[0].id;
      // e1: delivered to the one sink there is.
      lifecycle.register_callback("cb", [](const Event&) { return SinkResult::ok(); });
      AddSinkOptions no_backlog;
      no_backlog.backlog = false;
      (void)lifecycle.add_sink(callback_sink("cb"), no_backlog);
      lifecycle.set_renewal_policy(std::nullopt, parse_renewal_policy("2000,0"));
      const CheckResult second = lifecycle.check(kNow);
      REQUIRE(second.emitted.size() == 1);
      const std::string e1 = second.emitted[0].id;
      CHECK(second.pruned == 0);
      // e2: delivered to cb, still pending for a callback sink no process serves.
      (void)lifecycle.add_sink(callback_sink("stuck"), no_backlog);
      Mailbox m;
      m.address = "post2@kunde.dk";
      m.organisation_cvr = "12345674";
      (void)f.store->add_mailbox(m);
      const SecretBytes pw = test::pw("Test1234");
      testing::Made made = f.factory.made(spec("Tredje", -1, 500), pw);
      ImportOptions io;
      io.mailbox = "post2@kunde.dk";
      io.report = passing(made.certificate);
      REQUIRE(f.store->import(made.bundle, made.pkcs12, pw, io).outcome == ImportOutcome::imported);
      const CheckResult third = lifecycle.check(kNow);
      REQUIRE(third.emitted.size() == 1);
      const std::string e2 = third.emitted[0].id;
      REQUIRE(lifecycle.events().size() == 3);

      const auto ids = [&] {
        std::vector<std::string> out;
        for (const OutboxEvent& e : lifecycle.events()) out.push_back(e.id);
        return out;
      };
      // Within the retention nothing goes; without pruning neither.
      CHECK(lifecycle.check(kNow + std::chrono::days(29)).pruned == 0);
      CheckOptions keep;
      keep.prune = false;
      CHECK(lifecycle.check(kNow + std::chrono::days(31), keep).pruned == 0);
      CHECK(ids().size() == 3);
      // Past it: e1 goes with its delivery; e0 (no delivery) and e2 (one pending) stay.
      const CheckResult later = lifecycle.check(kNow + std::chrono::days(31));
      CHECK(later.pruned == 1);
      CHECK(later.emitted.empty());  // the stage bookkeeping, not the outbox, says what was announced
      CHECK(ids() == std::vector<std::string>{e0, e2});
      const auto stats = lifecycle.sink_stats();
      REQUIRE(stats.size() == 2);
      CHECK(stats[0].sink == "cb");
      CHECK(stats[0].delivered == 1);  // e2's
      CHECK(stats[1].pending == 1);
      CHECK(lifecycle.counters().emitted.size() == 2);  // counters are never pruned
      CHECK(f.store->check_integrity().ok());
      // Once e2's last delivery goes through, it is pruned too; "off" keeps everything.
      lifecycle.set_outbox_retention(std::nullopt);
      CHECK_FALSE(lifecycle.outbox_retention());
      lifecycle.register_callback("stuck", [](const Event&) { return SinkResult::ok(); });
      CHECK(lifecycle.check(kNow + std::chrono::days(40)).pruned == 0);
      lifecycle.set_outbox_retention(std::chrono::days(30));
      CHECK(lifecycle.prune_outbox(kNow + std::chrono::days(40), 1) == 1);
      CHECK(ids() == std::vector<std::string>{e0});
      CHECK(f.store->check_integrity().ok());
    });
  }
}
