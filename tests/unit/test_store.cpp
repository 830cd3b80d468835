#include "support/test_support.hpp"
#include "store/cert_factory.hpp"
#include "store/old_layouts.hpp"
#include "store/sqlite_shim.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/store.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <thread>

#include <sys/stat.h>

using namespace dpgcert;
namespace fs = std::filesystem;

namespace {

const Time kNow = parse_rfc3339("2025-06-01T00:00:00Z");
constexpr std::int64_t kDay = 86400;

using test::code_of;

using test::TempDir;

StoreOptions options_in(const TempDir& dir, std::shared_ptr<FixedClock> clock = nullptr) {
  StoreOptions o;
  o.path = dir.path() / "store.db";
  o.actor = "tester";
  o.clock = clock ? std::move(clock) : std::make_shared<FixedClock>(kNow);
  return o;
}

std::unique_ptr<Store> new_store(const TempDir& dir, std::shared_ptr<FixedClock> clock = nullptr) {
  return Store::create(options_in(dir, std::move(clock)), vault::KeySource::key_file(dir.path() / "store.key"));
}

/// A report that passes, as a caller that validated beforehand would pass it.
ValidationReport passing(const Certificate& c) { return testing::passing_report(c, kNow); }

/// Imports a factory-made leaf with a passing report.
ImportResult put(Store& s, testing::CertFactory& f, const testing::LeafSpec& spec, ImportOptions o = {},
                 std::string_view password = "Test1234") {
  const SecretBytes pw = test::pw(password);
  testing::Made m = f.made(spec, pw);
  if (!o.report) o.report = passing(m.certificate);
  return s.import(m.bundle, m.pkcs12, pw, o);
}

testing::LeafSpec plain(const std::string& cn, std::int64_t nb_days, std::int64_t na_days) {
  testing::LeafSpec s;
  s.common_name = cn;
  s.not_before = to_unix(kNow) + nb_days * kDay;
  s.not_after = to_unix(kNow) + na_days * kDay;
  return s;
}

std::vector<std::byte> file_bytes(const fs::path& p) {
  std::error_code ec;
  if (!fs::exists(p, ec)) return {};
  return test::read_file(p);
}

bool contains(const std::vector<std::byte>& hay, std::span<const std::byte> needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

std::size_t audit_count(const Store& s) { return s.audit_log().size(); }

}  // namespace

TEST_SUITE("store") {
  TEST_CASE("create, reopen and describe a store - refuse to create twice or open what is not one") {
    TempDir dir;
    {
      auto s = new_store(dir);
      const StoreInfo i = s->info();
      CHECK(i.backend == "sqlite");
      CHECK(i.schema_version == Store::current_schema_version());
      CHECK(i.key_kind == "key_file");
      CHECK(nlohmann::json::parse(i.key_params)["path"] == (dir.path() / "store.key").string());
      CHECK(i.created_at == kNow);
      CHECK(i.certificates == 0);
      const auto log = s->audit_log();
      REQUIRE(log.size() == 1);
      CHECK(log[0].action == "store.init");
      CHECK(log[0].actor == "tester");
    }
    struct stat st {};
    REQUIRE(::stat((dir.path() / "store.db").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat((dir.path() / "store.key").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    auto again = Store::open(options_in(dir));
    CHECK(again->info().schema_version == Store::current_schema_version());
    CHECK(code_of([&] { (void)new_store(dir); }) == ErrorCode::conflict);

    StoreOptions missing = options_in(dir);
    missing.path = dir.path() / "nothing.db";
    CHECK(code_of([&] { (void)Store::open(std::move(missing)); }) == ErrorCode::not_found);
    std::ofstream(dir.path() / "junk.db") << std::string(8192, 'x');
    StoreOptions junk = options_in(dir);
    junk.path = dir.path() / "junk.db";
    CHECK(code_of([&] { (void)Store::open(std::move(junk)); }) == ErrorCode::malformed);
    StoreOptions pg = options_in(dir);
    pg.path = "postgresql://db.invalid/dpgcert";  // a server, never a file: unreachable or not built in
    const ErrorCode pg_code = code_of([&] { (void)Store::open(std::move(pg)); });
    CHECK((pg_code == ErrorCode::io || pg_code == ErrorCode::unsupported));
  }

  TEST_CASE("organisations and mailboxes: add, find, list, update, with audit lines") {
    TempDir dir;
    auto s = new_store(dir);
    Organisation o;
    o.cvr = "12345674";
    o.name = "Kunde A/S";
    o.contacts = {{"Ida IT", "it@kunde.dk", "IT"}, {"Bo Bogholder", "bo@kunde.dk", ""}};
    o.notes = "onboarded 2025";
    const Organisation added = s->add_organisation(o);
    CHECK(added.created_by == "tester");
    CHECK(added.created_at == kNow);
    CHECK(added.contacts == o.contacts);
    CHECK(code_of([&] { (void)s->add_organisation(o); }) == ErrorCode::conflict);
    Organisation bad = o;
    bad.cvr = "1234";
    CHECK(code_of([&] { (void)s->add_organisation(bad); }) == ErrorCode::invalid_argument);
    bad = o;
    bad.contacts = {{"x", "no-at-sign", ""}};
    CHECK(code_of([&] { (void)s->add_organisation(bad); }) == ErrorCode::invalid_argument);

    o.name = "Kunde ApS";
    o.contacts = {{"Ny", "ny@kunde.dk", "IT"}};
    const Organisation updated = s->update_organisation(o, "admin-2");
    CHECK(updated.name == "Kunde ApS");
    CHECK(updated.contacts.size() == 1);
    Organisation ghost = o;
    ghost.cvr = "87654321";
    CHECK(code_of([&] { (void)s->update_organisation(ghost); }) == ErrorCode::not_found);
    CHECK(s->find_organisation("12345674")->notes == "onboarded 2025");
    CHECK_FALSE(s->find_organisation("87654321").has_value());

    Organisation other;
    other.cvr = "25313763";
    other.name = "Anden A/S";
    (void)s->add_organisation(other);
    const auto orgs = s->list_organisations();
    REQUIRE(orgs.size() == 2);
    CHECK(orgs[0].cvr == "12345674");
    CHECK(orgs[1].cvr == "25313763");

    Mailbox m;
    m.address = "SikkerPost@Kunde.dk";
    m.ad_group = "GG-SikkerPost";
    m.organisation_cvr = "12345674";
    const Mailbox mb = s->add_mailbox(m);
    CHECK(mb.address == "sikkerpost@kunde.dk");
    CHECK(code_of([&] { (void)s->add_mailbox(m); }) == ErrorCode::conflict);
    Mailbox orphan = m;
    orphan.address = "x@y.dk";
    orphan.organisation_cvr = "11111111";
    CHECK(code_of([&] { (void)s->add_mailbox(orphan); }) == ErrorCode::not_found);
    orphan.address = "not an address";
    orphan.organisation_cvr = "12345674";
    CHECK(code_of([&] { (void)s->add_mailbox(orphan); }) == ErrorCode::invalid_argument);
    Mailbox second;
    second.address = "post@anden.dk";
    second.organisation_cvr = "25313763";
    (void)s->add_mailbox(second);
    CHECK(s->list_mailboxes().size() == 2);
    CHECK(s->list_mailboxes(std::string_view("25313763")).at(0).address == "post@anden.dk");
    m.ad_group = "GG-Ny";
    CHECK(s->update_mailbox(m).ad_group == "GG-Ny");
    CHECK(s->find_mailbox("SIKKERPOST@kunde.dk")->ad_group == "GG-Ny");

    std::vector<std::string> actions;
    for (const auto& e : s->audit_log()) actions.push_back(e.action);
    CHECK(actions == std::vector<std::string>{"store.init", "organisation.add", "organisation.update",
                                              "organisation.add", "mailbox.add", "mailbox.add", "mailbox.update"});
    CHECK(s->audit_log(0, 2).size() == 2);
    CHECK(s->audit_log(s->audit_log().back().id).empty());
  }

  TEST_CASE("import of a real bundle: validated first, attached, idempotent by fingerprint") {
    TempDir dir;
    auto s = new_store(dir);
    const fs::path data = test::test_data_dir();
    const auto bytes = test::read_file(data / "oces2-prod/foces.p12");
    const SecretBytes pw = test::pw("Test1234");
    const Pkcs12Bundle b = load_pkcs12(bytes, pw);
    ImportOptions o;
    o.mailbox = "sikkerpost@kunde.dk";
    o.source = "oces2-prod/foces.p12";
    o.actor = "importer";
    o.validation.anchors = TrustAnchors::from_files(std::vector<fs::path>{data / "oces2-prod/root.crt.pem"});
    o.validation.at = kNow;
    const ImportResult r = s->import(b, bytes, pw, o);
    REQUIRE(r.report.has_value());
    INFO(to_text(*r.report));
    REQUIRE(r.outcome == ImportOutcome::imported);
    REQUIRE(r.record.has_value());
    const CertificateRecord& rec = *r.record;
    CHECK(rec.fingerprint == b.leaf()->fingerprint_hex());
    CHECK(rec.status == CertificateStatus::active);
    CHECK(rec.type == oces::CertificateType::foces);
    CHECK(rec.generation == oces::Generation::oces2);
    CHECK(rec.cvr == "12345674");
    CHECK(rec.oces_id == "94731315");
    CHECK(rec.organisation_cvr == "12345674");  // created from the certificate's CVR
    CHECK(rec.mailbox == "sikkerpost@kunde.dk");
    CHECK(rec.added_by == "importer");
    CHECK(rec.source == "oces2-prod/foces.p12");
    CHECK(rec.not_after == b.leaf()->not_after());
    CHECK(rec.certificate == *b.leaf());
    CHECK(rec.serial == b.leaf()->serial_hex());
    CHECK_FALSE(rec.forced);
    CHECK(rec.validation_report_json.find("\"checks\"") != std::string::npos);
    CHECK(rec.pkcs12_profile_json.find("\"bags\"") != std::string::npos);
    CHECK(s->find_organisation("12345674")->name.find("NETS") == std::string::npos);  // named after O
    const std::size_t lines = audit_count(*s);

    // The same file again: nothing changes, no validation.
    const ImportResult again = s->import(b, bytes, pw, o);
    CHECK(again.outcome == ImportOutcome::already_present);
    CHECK(again.record->id == rec.id);
    CHECK_FALSE(again.report.has_value());
    CHECK(audit_count(*s) == lines);
    // ... but not into another mailbox.
    ImportOptions elsewhere = o;
    elsewhere.mailbox = "andet@kunde.dk";
    CHECK(code_of([&] { (void)s->import(b, bytes, pw, elsewhere); }) == ErrorCode::conflict);
    CHECK(s->count({}) == 1);

    // Legacy re-export of the same certificate is the same fingerprint.
    const auto legacy = test::read_file(data / "oces2-prod/foces-legacy.p12");
    const Pkcs12Bundle lb = load_pkcs12(legacy, pw);
    CHECK(s->import(lb, legacy, pw, o).outcome == ImportOutcome::already_present);
  }

  TEST_CASE("a failing report is refused unless forced - a forced import keeps its failing report") {
    TempDir dir;
    auto s = new_store(dir);
    const fs::path data = test::test_data_dir();
    const auto bytes = test::read_file(data / "oces2-prod/voces.p12");
    const SecretBytes pw = test::pw("Test1234");
    const Pkcs12Bundle b = load_pkcs12(bytes, pw);
    ImportOptions o;  // the built-in anchors: the synthetic PKI does not chain to them
    const ImportResult refused = s->import(b, bytes, pw, o);
    CHECK(refused.outcome == ImportOutcome::refused);
    REQUIRE(refused.report.has_value());
    CHECK(refused.report->status(check_id::chain) == CheckStatus::fail);
    CHECK_FALSE(refused.record.has_value());
    CHECK(s->count({}) == 0);
    CHECK(audit_count(*s) == 1);

    o.force = true;
    const ImportResult forced = s->import(b, bytes, pw, o);
    CHECK(forced.outcome == ImportOutcome::imported);
    REQUIRE(forced.record.has_value());
    CHECK(forced.record->forced);
    CHECK(forced.record->validation_verdict == CheckStatus::fail);
    CHECK(forced.record->validation_report_json.find("\"verdict\":\"fail\"") != std::string::npos);
    CHECK(forced.record->status == CertificateStatus::active);
    const auto log = s->audit_log();
    CHECK(log.back().action == "certificate.import");
    CHECK(log.back().details.find("\"forced\":true") != std::string::npos);

    // A revoked certificate, forced in, is stored as revoked.
    const auto rbytes = test::read_file(data / "odd/foces-revoked.p12");
    const Pkcs12Bundle rb = load_pkcs12(rbytes, pw);
    ImportOptions ro;
    ro.force = true;
    ro.validation.at = kNow;
    ro.validation.anchors = TrustAnchors::from_files(std::vector<fs::path>{data / "oces2-prod/root.crt.pem"});
    ro.validation.crls = load_crl_files(std::vector<fs::path>{data / "oces2-prod/crl-current.crl.pem"});
    const ImportResult revoked = s->import(rb, rbytes, pw, ro);
    REQUIRE(revoked.outcome == ImportOutcome::imported);
    CHECK(revoked.report->status(check_id::revocation) == CheckStatus::fail);
    CHECK(revoked.record->status == CertificateStatus::revoked);
  }

  TEST_CASE("lineage: a newer certificate of the same mailbox supersedes the older and is linked to it") {
    TempDir dir;
    auto s = new_store(dir);
    testing::CertFactory f;
    Organisation org;
    org.cvr = "12345674";
    org.name = "Kunde A/S";
    (void)s->add_organisation(org);
    ImportOptions o;
    o.organisation_cvr = "12345674";
    o.mailbox = "sikkerpost@kunde.dk";
    const ImportResult first = put(*s, f, plain("gateway 2022", -900, 200), o);
    const ImportResult second = put(*s, f, plain("gateway 2025", -10, 1085), o);
    REQUIRE(second.outcome == ImportOutcome::imported);
    CHECK(second.superseded == std::vector<std::string>{first.fingerprint});
    const auto old = s->find(first.fingerprint);
    CHECK(old->status == CertificateStatus::superseded);
    CHECK(old->superseded_by == second.fingerprint);
    CHECK(old->lineage_id == first.record->id);
    CHECK(second.record->lineage_id == first.record->id);
    CHECK(s->find(second.fingerprint)->supersedes == std::vector<std::string>{first.fingerprint});
    // Another mailbox of the same organisation is another lineage.
    o.mailbox = "faktura@kunde.dk";
    const ImportResult third = put(*s, f, plain("invoices", 0, 1000), o);
    CHECK(third.superseded.empty());
    CHECK(third.record->lineage_id == third.record->id);
    // An older certificate arriving late is superseded at once by the newest of its lineage.
    o.mailbox = "sikkerpost@kunde.dk";
    const ImportResult late = put(*s, f, plain("gateway 2019", -2000, -900), o);
    CHECK(late.record->status == CertificateStatus::superseded);
    CHECK(late.record->superseded_by == second.fingerprint);
    CHECK(s->find(second.fingerprint)->status == CertificateStatus::active);
    CHECK(s->check_integrity().ok());
    const auto supersedes = s->audit_log();
    CHECK(std::count_if(supersedes.begin(), supersedes.end(),
                        [](const AuditEntry& e) { return e.action == "certificate.supersede"; }) == 1);
  }

  TEST_CASE("lineage: same CVR and OCES2 FID - same OCES3 subject") {
    TempDir dir;
    auto s = new_store(dir);
    testing::CertFactory f;
    const auto t = to_unix(kNow);
    SUBCASE("OCES2 FOCES, no mailbox: CVR + FID decide") {
      const ImportResult a = put(*s, f, testing::foces_spec("12345674", "1111", t - 1000 * kDay, t + 95 * kDay));
      REQUIRE(a.record->type == oces::CertificateType::foces);
      CHECK(a.record->organisation_cvr == "12345674");
      const ImportResult other_fid = put(*s, f, testing::foces_spec("12345674", "2222", t - 10 * kDay, t + 1000 * kDay));
      CHECK(other_fid.superseded.empty());
      const ImportResult other_cvr = put(*s, f, testing::foces_spec("25313763", "1111", t - 10 * kDay, t + 1000 * kDay));
      CHECK(other_cvr.superseded.empty());
      const ImportResult b = put(*s, f, testing::foces_spec("12345674", "1111", t - 5 * kDay, t + 1090 * kDay));
      CHECK(b.superseded == std::vector<std::string>{a.fingerprint});
      CHECK(s->find(a.fingerprint)->status == CertificateStatus::superseded);
      CHECK(s->find(other_fid.fingerprint)->status == CertificateStatus::active);
    }
    SUBCASE("OCES3 organisation: the same subject decides") {
      const std::string uuid = "3f6c2a8e-5b1d-4c7e-9a02-6e8d4b1f7c35";
      const ImportResult a = put(*s, f, testing::oces3_spec("12345674", uuid, t - 1000 * kDay, t + 20 * kDay));
      REQUIRE(a.record->generation == oces::Generation::oces3);
      const ImportResult other =
          put(*s, f, testing::oces3_spec("12345674", "00000000-5b1d-4c7e-9a02-6e8d4b1f7c35", t, t + 1000 * kDay));
      CHECK(other.superseded.empty());
      const ImportResult b = put(*s, f, testing::oces3_spec("12345674", uuid, t - kDay, t + 1000 * kDay));
      CHECK(b.superseded == std::vector<std::string>{a.fingerprint});
      CHECK(s->find(a.fingerprint)->superseded_by == b.fingerprint);
    }
  }

  TEST_CASE("queries: by fingerprint, organisation, mailbox, status, expiring before - paging - the index is used") {
    TempDir dir;
    auto s = new_store(dir);
    testing::CertFactory f;
    for (const char* cvr : {"12345674", "25313763"}) {
      Organisation o;
      o.cvr = cvr;
      o.name = std::string("Org ") + cvr;
      (void)s->add_organisation(o);
    }
    std::vector<ImportResult> all;
    for (int i = 0; i < 30; ++i) {
      ImportOptions o;
      o.organisation_cvr = i % 2 == 0 ? "12345674" : "25313763";
      if (i % 3 == 0) o.mailbox = "mb" + std::to_string(i) + "@kunde.dk";
      all.push_back(put(*s, f, plain("cert " + std::to_string(i), -100, -20 + 7 * i), o));
    }
    (void)s->set_status(all[5].fingerprint, CertificateStatus::retired, "replaced by hand");
    CHECK(s->count({}) == 30);

    // Fingerprint: exact, uppercase with colons, unique prefix, unknown.
    const std::string fp = all[7].fingerprint;
    CHECK(s->find(fp)->id == all[7].record->id);
    std::string upper;
    for (std::size_t i = 0; i < fp.size(); ++i) {
      if (i > 0 && i % 2 == 0) upper += ':';
      upper += static_cast<char>(std::toupper(static_cast<unsigned char>(fp[i])));
    }
    CHECK(s->find(upper)->id == all[7].record->id);
    CHECK(s->find(fp.substr(0, 16))->id == all[7].record->id);
    CHECK_FALSE(s->find(std::string(64, '0')).has_value());
    CHECK(code_of([&] { (void)s->find("abc"); }) == ErrorCode::invalid_argument);
    CHECK(code_of([&] { (void)s->find("not-hex-at-all"); }) == ErrorCode::invalid_argument);

    CertificateQuery by_org;
    by_org.organisation_cvr = "25313763";
    CHECK(s->count(by_org) == 15);
    CertificateQuery by_mb;
    by_mb.mailbox = "MB9@kunde.dk";
    const auto mb = s->query(by_mb);
    REQUIRE(mb.size() == 1);
    CHECK(mb[0].fingerprint == all[9].fingerprint);
    CHECK(mb[0].mailbox == "mb9@kunde.dk");
    CertificateQuery retired;
    retired.status = CertificateStatus::retired;
    CHECK(s->query(retired).at(0).fingerprint == all[5].fingerprint);

    // Expiring within 30 days (expired included), active only, ordered by not_after.
    const auto expiring = s->query(CertificateQuery::expiring_before(kNow + std::chrono::days(30)));
    // not_after = now + (7i - 20) days < now + 30 days  <=>  i <= 7; minus the retired #5.
    REQUIRE(expiring.size() == 7);
    CHECK(std::is_sorted(expiring.begin(), expiring.end(),
                         [](const auto& a, const auto& b) { return a.not_after < b.not_after; }));
    CHECK(std::none_of(expiring.begin(), expiring.end(), [&](const auto& e) { return e.fingerprint == all[5].fingerprint; }));
    CertificateQuery upcoming = CertificateQuery::expiring_before(kNow + std::chrono::days(30));
    upcoming.not_after_from = kNow;
    CHECK(s->count(upcoming) == 4);  // i = 3, 4, 6, 7

    const std::string plan = s->query_plan(CertificateQuery::expiring_before(kNow));
    INFO(plan);
    CHECK(plan.find("USING COVERING INDEX certificates_active_expiry") != std::string::npos);
    CHECK(plan.find("SCAN c") == std::string::npos);
    CHECK(plan.find("TEMP B-TREE") == std::string::npos);

    // Paging: pages concatenate to the whole, in order.
    std::vector<std::string> paged;
    CertificateQuery page;
    page.limit = 7;
    for (page.offset = 0;; page.offset += page.limit) {
      const auto rows = s->query(page);
      for (const auto& r : rows) paged.push_back(r.fingerprint);
      if (rows.size() < page.limit) break;
    }
    std::vector<std::string> whole;
    for (const auto& r : s->query({})) whole.push_back(r.fingerprint);
    CHECK(paged == whole);
    CHECK(whole.size() == 30);
  }

  TEST_CASE("the gateway's call: the current active bundle of a mailbox, unsealed - retire - unseal by fingerprint") {
    TempDir dir;
    auto s = new_store(dir);
    testing::CertFactory f;
    Organisation org;
    org.cvr = "12345674";
    org.name = "Kunde A/S";
    (void)s->add_organisation(org);
    ImportOptions o;
    o.organisation_cvr = "12345674";
    o.mailbox = "sikkerpost@kunde.dk";
    const SecretBytes pw_old = test::pw("old password");
    const SecretBytes pw_new = test::pw("Sikker-æøå-2024");
    testing::Made m1 = f.made(plain("old", -800, 100), pw_old);
    testing::Made m2 = f.made(plain("new", -1, 1000), pw_new);
    o.report = passing(m1.certificate);
    (void)s->import(m1.bundle, m1.pkcs12, pw_old, o);
    o.report = passing(m2.certificate);
    (void)s->import(m2.bundle, m2.pkcs12, pw_new, o);

    auto current = s->current_bundle("SikkerPost@kunde.dk");
    REQUIRE(current.has_value());
    CHECK(current->record.fingerprint == m2.certificate.fingerprint_hex());
    CHECK(current->password.view() == pw_new.view());
    CHECK(std::equal(current->pkcs12.bytes().begin(), current->pkcs12.bytes().end(), m2.pkcs12.begin(), m2.pkcs12.end()));
    REQUIRE(current->bundle.leaf().has_value());
    CHECK(*current->bundle.leaf() == m2.certificate);
    CHECK(current->bundle.key_matches());

    const UnsealedBundle old = s->unseal(m1.certificate.fingerprint_hex());
    CHECK(old.password.view() == pw_old.view());
    CHECK(old.record.status == CertificateStatus::superseded);

    const CertificateRecord retired = s->set_status(m2.certificate.fingerprint_hex(), CertificateStatus::retired, "left");
    CHECK(retired.status == CertificateStatus::retired);
    CHECK(s->audit_log().back().action == "certificate.status");
    CHECK_FALSE(s->current_bundle("sikkerpost@kunde.dk").has_value());
    CHECK(code_of([&] { (void)s->current_bundle("nobody@kunde.dk"); }) == ErrorCode::not_found);
    CHECK(code_of([&] { (void)s->unseal(std::string(64, 'a')); }) == ErrorCode::not_found);
    CHECK(code_of([&] { (void)s->set_status(m1.certificate.fingerprint_hex(), CertificateStatus::active); }) ==
          ErrorCode::invalid_argument);
  }

  TEST_CASE("a wrong master key is a clear bad_password error - the key is needed only to seal or unseal") {
    TempDir dir;
    testing::CertFactory f;
    std::string fp;
    {
      auto s = new_store(dir);
      fp = put(*s, f, plain("x", -1, 100)).fingerprint;
    }
    (void)vault::MasterKey::create_key_file(dir.path() / "other.key");
    StoreOptions o = options_in(dir);
    o.unlock.key_file = dir.path() / "other.key";
    auto s = Store::open(std::move(o));
    CHECK(s->find(fp).has_value());  // reading the inventory needs no key
    CHECK(code_of([&] { s->verify_master_key(); }) == ErrorCode::bad_password);
    CHECK(code_of([&] { (void)s->unseal(fp); }) == ErrorCode::bad_password);
    CHECK(code_of([&] { (void)put(*s, f, plain("y", -1, 100)); }) == ErrorCode::bad_password);
    CHECK(s->count({}) == 1);
    // Without the override the remembered key file is used.
    auto right = Store::open(options_in(dir));
    CHECK(right->unseal(fp).password.view() == "Test1234");
  }

  TEST_CASE("passphrase stores: Argon2id parameters stored, passphrase needed to seal, wrong one refused") {
    TempDir dir;
    testing::CertFactory f;
    std::string fp;
    {
      StoreOptions o = options_in(dir);
      auto s = Store::create(std::move(o), vault::KeySource::passphrase(test::pw("lang hemmelig frase"),
                                                                         vault::Argon2Params::for_tests()));
      const StoreInfo i = s->info();
      CHECK(i.key_kind == "passphrase");
      CHECK(nlohmann::json::parse(i.key_params)["memory_kib"] == vault::Argon2Params::for_tests().memory_kib);
      CHECK_FALSE(nlohmann::json::parse(i.key_params).contains("path"));
      fp = put(*s, f, plain("x", -1, 100)).fingerprint;
    }
    {
      auto s = Store::open(options_in(dir));
      CHECK(s->count({}) == 1);
      CHECK(code_of([&] { (void)s->unseal(fp); }) == ErrorCode::invalid_argument);
    }
    {
      StoreOptions o = options_in(dir);
      o.unlock.passphrase = test::pw("lang hemmelig fras");
      auto s = Store::open(std::move(o));
      CHECK(code_of([&] { (void)s->unseal(fp); }) == ErrorCode::bad_password);
    }
    StoreOptions o = options_in(dir);
    o.unlock.passphrase = test::pw("lang hemmelig frase");
    auto s = Store::open(std::move(o));
    CHECK(s->unseal(fp).password.view() == "Test1234");
  }

  TEST_CASE("ciphertexts swapped between rows do not open (the record id is bound)") {
    TempDir dir;
    testing::CertFactory f;
    auto s = new_store(dir);
    const ImportResult a = put(*s, f, plain("a", -1, 100), {}, "password A");
    const ImportResult b = put(*s, f, plain("b", -1, 100), {}, "password B");
    {
      testing::RawSqlite raw((dir.path() / "store.db").string());
      const auto rows = raw.rows("SELECT certificate_id, pkcs12_key, pkcs12, password_key, password FROM secrets ORDER BY certificate_id");
      REQUIRE(rows.size() == 2);
      const long long ida = a.record->id;
      const long long idb = b.record->id;
      // Whole sealed password (wrapped key and ciphertext) swapped.
      raw.set_blob("secrets", "password_key", "certificate_id", ida, rows[1][3]);
      raw.set_blob("secrets", "password", "certificate_id", ida, rows[1][4]);
      raw.set_blob("secrets", "password_key", "certificate_id", idb, rows[0][3]);
      raw.set_blob("secrets", "password", "certificate_id", idb, rows[0][4]);
      // Only the PKCS#12 ciphertext of b replaced by a's, b keeping its wrapped key.
      raw.set_blob("secrets", "pkcs12", "certificate_id", idb, rows[0][2]);
    }
    CHECK(code_of([&] { (void)s->unseal(a.fingerprint); }) == ErrorCode::malformed);
    CHECK(code_of([&] { (void)s->unseal(b.fingerprint); }) == ErrorCode::malformed);
    CHECK(s->check_integrity().ok());  // the database is fine; the secrets are not
  }

  TEST_CASE("master-key rotation re-wraps data keys - ciphertexts stay byte for byte") {
    TempDir dir;
    testing::CertFactory f;
    std::vector<std::string> fps;
    auto s = new_store(dir);
    for (int i = 0; i < 3; ++i) fps.push_back(put(*s, f, plain("r" + std::to_string(i), -1, 100 + i)).fingerprint);
    const std::string q = "SELECT pkcs12_key, pkcs12, password_key, password FROM secrets ORDER BY certificate_id";
    const auto before = testing::RawSqlite((dir.path() / "store.db").string()).rows(q);

    const RotationResult r = s->rotate_master_key(vault::KeySource::key_file(dir.path() / "new.key"), "rotator");
    CHECK(r.rewrapped == 6);
    const auto after = testing::RawSqlite((dir.path() / "store.db").string()).rows(q);
    REQUIRE(after.size() == before.size());
    for (std::size_t i = 0; i < before.size(); ++i) {
      CHECK(after[i][1] == before[i][1]);  // PKCS#12 ciphertext untouched
      CHECK(after[i][3] == before[i][3]);  // password ciphertext untouched
      CHECK(after[i][0] != before[i][0]);  // wrapped keys changed
      CHECK(after[i][2] != before[i][2]);
    }
    CHECK(s->unseal(fps[1]).password.view() == "Test1234");
    CHECK(nlohmann::json::parse(s->info().key_params)["path"] == (dir.path() / "new.key").string());
    CHECK(s->info().key_rotated_at == kNow);
    CHECK(s->audit_log().back().action == "key.rotate");
    CHECK(code_of([&] { (void)s->rotate_master_key(vault::KeySource::key_file(dir.path() / "new.key")); }) ==
          ErrorCode::invalid_argument);

    // A new handle finds the new key by itself; the old key file is now the wrong key.
    CHECK(Store::open(options_in(dir))->unseal(fps[0]).password.view() == "Test1234");
    StoreOptions old = options_in(dir);
    old.unlock.key_file = dir.path() / "store.key";
    CHECK(code_of([&] { (void)Store::open(std::move(old))->unseal(fps[0]); }) == ErrorCode::bad_password);

    // Rotating to a passphrase works the same way.
    (void)s->rotate_master_key(vault::KeySource::passphrase(test::pw("frase"), vault::Argon2Params::for_tests()));
    StoreOptions p = options_in(dir);
    p.unlock.passphrase = test::pw("frase");
    CHECK(Store::open(std::move(p))->unseal(fps[2]).password.view() == "Test1234");
  }

  TEST_CASE("a store that another handle rotated is noticed before anything is sealed") {
    TempDir dir;
    testing::CertFactory f;
    auto a = new_store(dir);
    auto b = Store::open(options_in(dir));
    (void)put(*b, f, plain("before", -1, 100));  // b has unlocked the old key
    (void)a->rotate_master_key(vault::KeySource::key_file(dir.path() / "rotated.key"));
    const std::string fp = put(*b, f, plain("after", -1, 100)).fingerprint;  // b reloads the new key
    CHECK(a->unseal(fp).password.view() == "Test1234");
  }

  TEST_CASE("the store file holds no plaintext password or private key (db, -wal and -shm searched)") {
    TempDir dir;
    testing::CertFactory f;
    const std::string password = "Pw-7f3Q-unmistakable-secret";
    const auto& key = f.leaf_key_pkcs8();
    // A distinctive chunk of the PKCS#8 key DER: the private scalar sits in its second half.
    const auto chunk = key.bytes().subspan(key.size() / 2, 24);
    const fs::path db = dir.path() / "store.db";
    auto scan = [&] {
      for (const char* suffix : {"", "-wal", "-shm"}) {
        const auto bytes = file_bytes(db.string() + suffix);
        INFO("file " << db.string() + suffix << " (" << bytes.size() << " bytes)");
        CHECK_FALSE(contains(bytes, std::as_bytes(std::span(password.data(), password.size()))));
        CHECK_FALSE(contains(bytes, chunk));
      }
    };
    {
      auto s = new_store(dir);
      for (int i = 0; i < 5; ++i) (void)put(*s, f, plain("secret " + std::to_string(i), -1, 100), {}, password);
      CHECK(file_bytes(db.string() + "-wal").size() > 0);
      scan();  // while the changes are still in the WAL
      // Sanity check of the search itself: the plaintext PKCS#8 really contains the chunk.
      CHECK(contains(std::vector<std::byte>(key.bytes().begin(), key.bytes().end()), chunk));
    }
    scan();  // after the last connection closed (checkpointed into the main file)
  }

  TEST_CASE("migrations: an older schema is migrated on open - a newer one is refused") {
    TempDir dir;
    testing::CertFactory f;
    std::string fp;
    {
      auto s = new_store(dir);
      fp = put(*s, f, plain("kept", -1, 100)).fingerprint;
    }
    {
      // Turn the file back into schema version 1 (what the first release wrote).
      testing::RawSqlite raw((dir.path() / "store.db").string());
      testing::to_schema_3_layout(raw);
      raw.exec(
          "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"
          "DELETE FROM schema_version WHERE version > 1;");
      CHECK(raw.text("SELECT MAX(version) FROM schema_version") == "1");
    }
    {
      auto s = Store::open(options_in(dir));
      CHECK(s->info().schema_version == Store::current_schema_version());
      CHECK(s->find(fp).has_value());
      CHECK(s->audit_log().back().action == "store.migrate");
      CHECK(s->check_integrity().ok());
    }
    testing::RawSqlite raw((dir.path() / "store.db").string());
    CHECK(raw.text("SELECT count(*) FROM sqlite_master WHERE name = 'audit_log_no_update'") == "1");
    // The audit log is append-only in the database itself.
    CHECK(raw.fails("UPDATE audit_log SET actor = 'mallory'"));
    CHECK(raw.fails("DELETE FROM audit_log"));
    raw.exec("INSERT INTO schema_version (version, applied_at, description) VALUES (99, 0, 'future')");
    CHECK(code_of([&] { (void)Store::open(options_in(dir)); }) == ErrorCode::unsupported);
  }

  TEST_CASE("migrations: a version-4 store gets settings (environment any) and audit lines with a command time") {
    TempDir dir;
    testing::CertFactory f;
    std::string fp;
    {
      auto s = new_store(dir);
      fp = put(*s, f, plain("kept", -1, 100)).fingerprint;
    }
    {
      testing::RawSqlite raw((dir.path() / "store.db").string());
      testing::to_schema_4_layout(raw);
      raw.exec("DELETE FROM schema_version WHERE version > 4;");
      CHECK(raw.fails("SELECT command_time FROM audit_log"));
    }
    auto s = Store::open(options_in(dir));
    CHECK(s->info().schema_version == Store::current_schema_version());
    CHECK(s->info().environment == EnvironmentPolicy::any);
    CHECK(s->find(fp).has_value());
    const auto log = s->audit_log();
    CHECK(log.back().action == "store.migrate");
    CHECK_FALSE(log.front().command_time);  // written before version 5
    s->set_environment_policy(EnvironmentPolicy::production);
    CHECK(s->info().environment == EnvironmentPolicy::production);
    CHECK(s->check_integrity().ok());
  }

  TEST_CASE("migrations: a version-5 store gets the outbox's due index in claiming order") {
    TempDir dir;
    testing::CertFactory f;
    std::string fp;
    {
      auto s = new_store(dir);
      fp = put(*s, f, plain("kept", -1, 100)).fingerprint;
    }
    const std::string db = (dir.path() / "store.db").string();
    auto columns = [&] {
      testing::RawSqlite raw(db);
      return raw.text("SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info('deliveries_due') ORDER BY seqno)");
    };
    CHECK(columns() == "next_attempt_at,event_seq");
    {
      // Version 5's index: the due time only.
      testing::RawSqlite raw(db);
      raw.exec("DROP INDEX deliveries_due;"
               "CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';"
               "DELETE FROM schema_version WHERE version > 5;");
    }
    CHECK(columns() == "next_attempt_at");
    auto s = Store::open(options_in(dir));
    CHECK(s->info().schema_version == Store::current_schema_version());  // 6 and every later migration
    CHECK(columns() == "next_attempt_at,event_seq");
    CHECK(s->find(fp).has_value());
    CHECK(s->audit_log().back().action == "store.migrate");
    CHECK(s->check_integrity().ok());
  }

  TEST_CASE("migrations: a version-3 store keeps its key (file or passphrase), sinks and deliveries") {
    for (const bool passphrase : {false, true}) {
      CAPTURE(passphrase);
      TempDir dir;
      testing::CertFactory f;
      std::string fp;
      auto unlocked = [&] {
        StoreOptions o = options_in(dir);
        if (passphrase) o.unlock.passphrase = test::pw("frase");
        return o;
      };
      {
        auto s = passphrase ? Store::create(unlocked(), vault::KeySource::passphrase(test::pw("frase"),
                                                                                     vault::Argon2Params::for_tests()))
                            : new_store(dir);
        fp = put(*s, f, plain("kept", -1, 100)).fingerprint;
      }
      {
        testing::RawSqlite raw((dir.path() / "store.db").string());
        raw.exec(
            "INSERT INTO sinks (id, name, kind, settings, created_at, created_by) VALUES (7, 'log', 'jsonl', "
            "'{\"path\":\"/tmp/x.jsonl\"}', 0, 't');"
            "INSERT INTO events (seq, id, kind, certificate_id, created_at, payload) VALUES (1, 'e1', 'expiring', 1, 0, '{}');"
            "INSERT INTO deliveries (event_seq, sink_id, state) VALUES (1, 7, 'pending');");
        testing::to_schema_3_layout(raw);
        raw.exec("DELETE FROM schema_version WHERE version > 3;");
        CHECK(raw.fails("INSERT INTO sinks (name, kind, created_at, created_by) VALUES ('w', 'webhook', 0, 't')"));
      }
      {
        auto s = Store::open(unlocked());
        CHECK(s->info().schema_version == Store::current_schema_version());
        CHECK(s->info().key_kind == (passphrase ? "passphrase" : "key_file"));
        const auto params = nlohmann::json::parse(s->info().key_params);
        if (passphrase) {
          CHECK(params["memory_kib"] == vault::Argon2Params::for_tests().memory_kib);
          CHECK(params["salt"].get<std::string>().size() == 32);
        } else {
          CHECK(params["path"] == (dir.path() / "store.key").string());
        }
        CHECK(s->unseal(fp).password.view() == "Test1234");
        CHECK(s->check_integrity().ok());
      }
      testing::RawSqlite raw((dir.path() / "store.db").string());
      CHECK(raw.text("SELECT count(*) FROM deliveries WHERE sink_id = 7") == "1");
      CHECK(raw.text("SELECT kind FROM sinks WHERE id = 7") == "jsonl");
      // A kind added later can be stored now.
      raw.exec("INSERT INTO sinks (name, kind, created_at, created_by) VALUES ('w', 'webhook', 0, 't')");
    }
  }

  TEST_CASE("one handle from several threads at once") {
    TempDir dir;
    auto s = new_store(dir);
    std::vector<testing::Made> made;
    testing::CertFactory f;
    const SecretBytes pw = test::pw("Test1234");
    for (int i = 0; i < 40; ++i) made.push_back(f.made(plain(test::numbered("t", i), -1, 10 + i), pw));
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        try {
          for (int i = t; i < 40; i += 4) {
            ImportOptions o;
            o.report = passing(made[static_cast<std::size_t>(i)].certificate);
            (void)s->import(made[static_cast<std::size_t>(i)].bundle, made[static_cast<std::size_t>(i)].pkcs12, pw, o);
            (void)s->query(CertificateQuery::expiring_before(kNow + std::chrono::days(30)));
          }
        } catch (const std::exception&) {
          ++errors;
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(errors == 0);
    CHECK(s->count({}) == 40);
    CHECK(s->check_integrity().ok());
  }
}
