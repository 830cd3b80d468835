// The lifecycle layer: renewal policy arithmetic, stages recorded once per threshold, status events,
// the outbox and its sinks, digest, metrics - and a simulation of two years of daily checks.
#include "support/prometheus_text.hpp"
#include "support/test_support.hpp"
#include "store/cert_factory.hpp"
#include "store/old_layouts.hpp"
#include "store/sqlite_shim.hpp"

#include "lifecycle/lifecycle_impl.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/lifecycle.hpp>
#include <dpgcert/store.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <openssl/bn.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace dpgcert;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const Time kT0 = parse_rfc3339("2025-01-01T00:00:00Z");
constexpr std::int64_t kDay = 86400;

Time days(std::int64_t n) { return kT0 + std::chrono::days(n); }

using test::code_of;

using test::TempDir;

ValidationReport passing(const Certificate& c) { return testing::passing_report(c, kT0); }

testing::LeafSpec leaf_until(const std::string& cn, Time not_after, std::int64_t life_days = 1095) {
  testing::LeafSpec s;
  s.common_name = cn;
  s.not_after = to_unix(not_after);
  s.not_before = s.not_after - life_days * kDay;
  return s;
}

ImportOptions into(const std::string& mailbox) {
  ImportOptions o;
  o.mailbox = mailbox;
  return o;
}

/// A store in a temporary folder with a fixed clock and a certificate factory.
struct Env {
  TempDir dir;
  std::shared_ptr<FixedClock> clock = std::make_shared<FixedClock>(kT0);
  testing::CertFactory factory;
  SecretBytes password = test::pw("Hemmeligt-Kodeord-42");
  std::unique_ptr<Store> store;

  Env() { store = Store::create(options(), vault::KeySource::key_file(dir.path() / "store.key")); }

  [[nodiscard]] StoreOptions options() const {
    StoreOptions o;
    o.path = dir.path() / "store.db";
    o.actor = "tester";
    o.clock = clock;
    return o;
  }

  void org(const std::string& cvr, std::vector<Contact> contacts = {}) {
    Organisation o;
    o.cvr = cvr;
    o.name = "Kunde " + cvr + " A/S";
    o.contacts = std::move(contacts);
    (void)store->add_organisation(o);
  }

  void mailbox(const std::string& address, const std::string& cvr) {
    Mailbox m;
    m.address = address;
    m.organisation_cvr = cvr;
    (void)store->add_mailbox(m);
  }

  /// Imports a factory-made leaf (the DER stands in for the PKCS#12 bytes: nothing is unsealed).
  CertificateRecord put(const testing::LeafSpec& spec, ImportOptions o = {}) {
    const Certificate leaf = factory.leaf(spec);
    if (!o.report) o.report = passing(leaf);
    const ImportResult r = store->import(factory.bundle(leaf), leaf.der(), password, o);
    REQUIRE(r.outcome == ImportOutcome::imported);
    return *r.record;
  }

  /// Imports with the bundle's chain given explicitly.
  CertificateRecord put_with_chain(const testing::LeafSpec& spec, std::vector<Certificate> chain) {
    const Certificate leaf = factory.leaf(spec);
    const Pkcs12Bundle bundle =
        Pkcs12Bundle::from_parts(PrivateKey::from_pkcs8_der(factory.leaf_key_pkcs8().clone()), leaf, std::move(chain), "t");
    ImportOptions o;
    o.report = passing(leaf);
    const ImportResult r = store->import(bundle, leaf.der(), password, o);
    REQUIRE(r.outcome == ImportOutcome::imported);
    return *r.record;
  }
};

/// Collects what a callback sink receives; fails when `fail` says so.
struct Collector {
  std::vector<Event> received;
  std::function<bool(const Event&)> fail = [](const Event&) { return false; };
  EventCallback callback() {
    return [this](const Event& e) {
      received.push_back(e);
      return fail(e) ? SinkResult::retry("collector says no") : SinkResult::ok();
    };
  }
};

std::vector<std::string> ids_of(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const Event& e : events) out.push_back(e.id);
  return out;
}

/// "kind/stage" of each event, for compact comparisons.
std::vector<std::string> kinds_of(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const Event& e : events) {
    std::string kind(to_string(e.kind));
    if (e.stage_days) {
      kind += '/';
      kind += std::to_string(*e.stage_days);
    }
    out.push_back(std::move(kind));
  }
  return out;
}

std::string sha256_prefix(const std::string& text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  REQUIRE(EVP_Digest(text.data(), text.size(), md, &n, EVP_sha256(), nullptr) == 1);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < 16; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

std::string write_script(const fs::path& path, const std::string& body) {
  std::ofstream(path) << "#!/bin/sh\n" << body;
  fs::permissions(path, fs::perms::owner_all);
  return path.string();
}

bool process_gone(pid_t pid) {
  // Dead, or a zombie waiting for a reaper (PID 1 in a container may never reap it).
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

}  // namespace

TEST_SUITE("lifecycle") {
  TEST_CASE("policy arithmetic: stages, next due time, severity, days left, retry delays") {
    const RenewalPolicy p = RenewalPolicy::defaults();
    CHECK(p.thresholds_days == std::vector<int>{90, 60, 30, 14, 7, 1, 0});
    const Time end = days(200);
    CHECK_FALSE(stage_at(p, end, end - std::chrono::days(90) - std::chrono::seconds(1)).has_value());
    CHECK(stage_at(p, end, end - std::chrono::days(90)) == 90);  // the moment itself counts
    CHECK(stage_at(p, end, end - std::chrono::days(31)) == 60);
    CHECK(stage_at(p, end, end - std::chrono::days(30)) == 30);
    CHECK(stage_at(p, end, end - std::chrono::hours(1)) == 1);
    CHECK(stage_at(p, end, end) == 0);
    CHECK(stage_at(p, end, end + std::chrono::days(400)) == 0);

    CHECK(next_due_at(p, end, std::nullopt) == end - std::chrono::days(90));
    CHECK(next_due_at(p, end, 90) == end - std::chrono::days(60));
    CHECK(next_due_at(p, end, 1) == end);
    CHECK_FALSE(next_due_at(p, end, 0).has_value());
    // A stage that is not in the policy (the policy changed): the next smaller threshold.
    CHECK(next_due_at(p, end, 45) == end - std::chrono::days(30));

    CHECK(severity_of(p, std::nullopt) == Severity::none);
    CHECK(severity_of(p, 90) == Severity::warning);
    CHECK(severity_of(p, 7) == Severity::warning);
    CHECK(severity_of(p, 1) == Severity::critical);
    CHECK(severity_of(p, 0) == Severity::critical);
    const RenewalPolicy coarse{{60, 30}};
    CHECK(severity_of(coarse, 60) == Severity::warning);
    CHECK(severity_of(coarse, 30) == Severity::critical);  // its last stage

    CHECK(days_until(end, end) == 0);
    CHECK(days_until(end, end - std::chrono::hours(23)) == 0);
    CHECK(days_until(end, end - std::chrono::hours(25)) == 1);
    CHECK(days_until(end, end + std::chrono::seconds(1)) == -1);
    CHECK(days_until(end, end + std::chrono::days(2)) == -2);

    CHECK(retry_delay(1) == std::chrono::minutes(1));
    CHECK(retry_delay(2) == std::chrono::minutes(2));
    CHECK(retry_delay(5) == std::chrono::minutes(16));
    CHECK(retry_delay(11) == std::chrono::minutes(1024));
    CHECK(retry_delay(12) == std::chrono::hours(24));  // capped at a day
    CHECK(retry_delay(1000) == std::chrono::hours(24));
    CHECK(retry_delay(0) == std::chrono::minutes(1));
  }

  TEST_CASE("renewal policies are validated: descending, no repeats, 0 to 3650 days") {
    CHECK_NOTHROW(validate(RenewalPolicy::defaults()));
    CHECK_NOTHROW(validate(RenewalPolicy{{120, 90, 60, 30, 14, 7, 1, 0}}));
    CHECK_NOTHROW(validate(RenewalPolicy{{30}}));
    CHECK(code_of([] { validate(RenewalPolicy{{}}); }) == ErrorCode::invalid_argument);
    CHECK(code_of([] { validate(RenewalPolicy{{30, 60}}); }) == ErrorCode::invalid_argument);
    CHECK(code_of([] { validate(RenewalPolicy{{30, 30, 0}}); }) == ErrorCode::invalid_argument);
    CHECK(code_of([] { validate(RenewalPolicy{{30, -1}}); }) == ErrorCode::invalid_argument);
    CHECK(code_of([] { validate(RenewalPolicy{{4000, 30}}); }) == ErrorCode::invalid_argument);
    std::vector<int> many;
    for (int d = 40; d >= 0; --d) many.push_back(d);
    CHECK(code_of([&] { validate(RenewalPolicy{many}); }) == ErrorCode::invalid_argument);

    CHECK(parse_renewal_policy("120, 90,60,30,14,7,1,0").thresholds_days == std::vector<int>{120, 90, 60, 30, 14, 7, 1, 0});
    CHECK(to_string(RenewalPolicy::defaults()) == "90,60,30,14,7,1,0");
    for (const char* bad : {"", "90,,30", "90,abc", "90;30", "30,60", "7,7", "-1", "90,30,", "1e3"}) {
      CAPTURE(bad);
      CHECK(code_of([&] { (void)parse_renewal_policy(bad); }) == ErrorCode::invalid_argument);
    }
  }

  TEST_CASE("the next due time always lies after now for the stage at now (random policies and times)") {
    std::mt19937_64 rng(7);
    for (int i = 0; i < 20000; ++i) {
      std::set<int, std::greater<>> t;
      const int n = 1 + static_cast<int>(rng() % 8);
      while (static_cast<int>(t.size()) < n) t.insert(static_cast<int>(rng() % 400));
      const RenewalPolicy p{{t.begin(), t.end()}};
      const Time end = days(static_cast<std::int64_t>(rng() % 1000));
      const Time now = kT0 + std::chrono::seconds(static_cast<std::int64_t>(rng() % (1500 * kDay)));
      const auto stage = stage_at(p, end, now);
      const auto next = next_due_at(p, end, stage);
      if (next) {
        CHECK(*next > now);
        // Crossing it gives a more severe stage.
        const auto later = stage_at(p, end, *next);
        REQUIRE(later.has_value());
        CHECK((!stage || *later < *stage));
      } else {
        REQUIRE(stage.has_value());
        CHECK(*stage == p.thresholds_days.back());
      }
    }
  }

  TEST_CASE("event ids are stable, distinct per fingerprint, kind and stage, and are SHA-256 prefixes") {
    const std::string fp(64, 'a');
    const std::string id = event_id(fp, EventKind::expiring, 30);
    CHECK(id.size() == 32);
    CHECK(id == event_id(fp, EventKind::expiring, 30));
    CHECK(id == sha256_prefix(fp + "|expiring|30"));
    CHECK(event_id(fp, EventKind::renewed, std::nullopt) == sha256_prefix(fp + "|renewed|"));
    std::set<std::string> ids{id, event_id(fp, EventKind::expiring, 14), event_id(fp, EventKind::expired, 0),
                              event_id(fp, EventKind::renewed, std::nullopt),
                              event_id(fp, EventKind::revoked, std::nullopt),
                              event_id(std::string(64, 'b'), EventKind::expiring, 30)};
    CHECK(ids.size() == 6);
  }

  TEST_CASE("events round-trip through JSON - malformed event JSON is refused") {
    Event e;
    e.id = "0123456789abcdef0123456789abcdef";
    e.kind = EventKind::renewed;
    e.at = days(3);
    e.days_left = 12;
    e.effective_not_after = days(15);
    e.certificate.fingerprint = std::string(64, 'c');
    e.certificate.status = CertificateStatus::superseded;
    e.certificate.common_name = "Sikker post";
    e.certificate.issuer = "CN=TRUST2408 OCES CA V,O=TRUST2408,C=DK";
    e.certificate.serial = "5a10";
    e.certificate.not_before = days(-1000);
    e.certificate.not_after = days(20);
    e.certificate.effective_not_after = days(15);
    e.certificate.generation = oces::Generation::oces2;
    e.certificate.type = oces::CertificateType::foces;
    e.certificate.environment = oces::Environment::production;
    e.certificate.cvr = "12345674";
    e.certificate.organisation_cvr = "12345674";
    e.certificate.mailbox = "sikkerpost@kunde.dk";
    e.organisation = Organisation{};
    e.organisation->cvr = "12345674";
    e.organisation->name = "Kunde A/S";
    e.organisation->contacts = {{"Ida", "ida@kunde.dk", "IT"}};
    e.superseded_by = std::string(64, 'd');
    const json j = to_json(e);
    CHECK(j["id"] == e.id);
    CHECK(j["kind"] == "renewed");
    CHECK(j["stage_days"].is_null());
    CHECK(j["cvr"] == "12345674");
    CHECK(j["mailbox"] == "sikkerpost@kunde.dk");
    CHECK(j["fingerprint_sha256"] == e.certificate.fingerprint);
    CHECK(j["certificate"]["issuer_common_name"] == "TRUST2408 OCES CA V");
    const Event back = event_from_json(j);
    CHECK(to_json(back) == j);
    CHECK(back.organisation->contacts == e.organisation->contacts);
    CHECK(back.certificate.type == oces::CertificateType::foces);

    for (const char* member : {"id", "kind", "at", "days_left", "certificate", "organisation", "failed_checks"}) {
      json broken = j;
      broken.erase(member);
      CAPTURE(member);
      CHECK(code_of([&] { (void)event_from_json(broken); }) == ErrorCode::malformed);
    }
    json bad_kind = j;
    bad_kind["kind"] = "exploded";
    CHECK(code_of([&] { (void)event_from_json(bad_kind); }) == ErrorCode::malformed);
    json bad_time = j;
    bad_time["at"] = "yesterday";
    CHECK(code_of([&] { (void)event_from_json(bad_time); }) == ErrorCode::malformed);
    CHECK(code_of([] { (void)event_from_json(json::array()); }) == ErrorCode::malformed);
  }

  TEST_CASE("metric label helpers: RFC 4514 attributes and decimal serial numbers") {
    using lifecycle_detail::hex_to_decimal;
    using lifecycle_detail::rfc4514_first;
    CHECK(rfc4514_first("CN=TRUST2408 OCES CA V,O=TRUST2408,C=DK", "CN") == "TRUST2408 OCES CA V");
    CHECK(rfc4514_first("CN=a+serialNumber=CVR:1-FID:2,O=x", "serialNumber") == "CVR:1-FID:2");
    CHECK(rfc4514_first("O=Kunde\\, A/S,CN=Sikker \\+ post", "cn") == "Sikker + post");
    CHECK(rfc4514_first("O=Kunde\\, A/S,CN=x", "O") == "Kunde, A/S");
    CHECK(rfc4514_first("CN=\\C3\\A6bler", "CN") == "\xC3\xA6" "bler");
    CHECK_FALSE(rfc4514_first("O=x,C=DK", "CN").has_value());
    CHECK(hex_to_decimal("") == "0");
    CHECK(hex_to_decimal("0") == "0");
    CHECK(hex_to_decimal("ff") == "255");
    CHECK(hex_to_decimal("5a100002") == "1510998018");
    // Cross-checked with OpenSSL's bignums on long serials.
    std::mt19937_64 rng(3);
    for (int i = 0; i < 200; ++i) {
      std::string hex;
      const int len = 1 + static_cast<int>(rng() % 40);
      for (int k = 0; k < len; ++k) hex += "0123456789abcdef"[rng() % 16];
      BIGNUM* bn = nullptr;
      REQUIRE(BN_hex2bn(&bn, hex.c_str()) > 0);
      char* dec = BN_bn2dec(bn);
      CHECK(hex_to_decimal(hex) == std::string(dec));
      OPENSSL_free(dec);
      BN_free(bn);
    }
  }

  TEST_CASE("check announces each threshold once - a rerun at the same stage is silent") {
    Env env;
    const Time end = days(100) + std::chrono::hours(5);
    const CertificateRecord rec = env.put(leaf_until("Sikker post", end));
    Lifecycle lifecycle(*env.store);

    const CheckResult first = lifecycle.check(kT0);
    CHECK(first.emitted.empty());
    CHECK(first.evaluated == 1);  // a new import is evaluated once
    CHECK(first.worst == Severity::none);
    CHECK(lifecycle.check(kT0).evaluated == 0);  // then it is not due until its first threshold

    std::vector<Event> all;
    std::vector<Severity> worst;
    for (int k = 100; k >= -5; --k) {
      const Time now = end - std::chrono::days(k);
      for (int again = 0; again < 2; ++again) {
        CheckResult r = lifecycle.check(now);
        if (again == 1) CHECK(r.emitted.empty());
        if (!r.emitted.empty()) worst.push_back(r.worst);
        all.insert(all.end(), r.emitted.begin(), r.emitted.end());
      }
    }
    CHECK(kinds_of(all) == std::vector<std::string>{"expiring/90", "expiring/60", "expiring/30", "expiring/14",
                                                    "expiring/7", "expiring/1", "expired/0"});
    for (const Event& e : all) {
      CHECK(e.days_left == *e.stage_days);  // each check ran exactly at its threshold's moment
      CHECK(e.certificate.fingerprint == rec.fingerprint);
      CHECK(e.id == event_id(rec.fingerprint, e.kind, e.stage_days));
      CHECK(e.effective_not_after == end);
    }
    CHECK(worst == std::vector<Severity>{Severity::warning, Severity::warning, Severity::warning, Severity::warning,
                                         Severity::warning, Severity::critical, Severity::critical});
    CHECK(Lifecycle(*env.store).events().size() == 7);
    const auto counters = Lifecycle(*env.store).counters();
    REQUIRE(counters.emitted.size() == 2);
    CHECK(counters.emitted[0] == std::make_pair(std::string("expired"), std::uint64_t{1}));
    CHECK(counters.emitted[1] == std::make_pair(std::string("expiring"), std::uint64_t{6}));
    // Expired and announced: nothing is due any more, but the state stays critical.
    const CheckResult later = lifecycle.check(end + std::chrono::days(300));
    CHECK(later.emitted.empty());
    CHECK(later.evaluated == 0);
    CHECK(later.state.critical == 1);
    CHECK(later.worst == Severity::critical);
    CHECK(env.store->check_integrity().ok());
  }

  TEST_CASE("after days without a run only the current stage is announced, no burst of stale ones") {
    Env env;
    const Time end = days(120);
    const CertificateRecord rec = env.put(leaf_until("gap", end));
    Lifecycle lifecycle(*env.store);
    CHECK(lifecycle.check(end - std::chrono::days(95)).emitted.empty());
    CHECK(kinds_of(lifecycle.check(end - std::chrono::days(10)).emitted) == std::vector<std::string>{"expiring/14"});
    const CheckResult r = lifecycle.check(end - std::chrono::days(3));
    REQUIRE(r.emitted.size() == 1);
    CHECK(r.emitted[0].stage_days == 7);
    CHECK(r.emitted[0].days_left == 3);
    CHECK(kinds_of(lifecycle.check(end + std::chrono::days(30)).emitted) == std::vector<std::string>{"expired/0"});
    CHECK(Lifecycle(*env.store).events().size() == 3);
    (void)rec;
  }

  TEST_CASE("effective expiry: an issuing CA that expires before the leaf is what counts") {
    Env env;
    // A CA certificate with the factory CA's name, expiring in 60 days; the leaf lasts 400.
    testing::LeafSpec ca_spec;
    ca_spec.common_name = "dpgcert Store Test CA";
    ca_spec.organisation = "dpgcert tests";
    ca_spec.not_before = to_unix(days(-3000));
    ca_spec.not_after = to_unix(days(60));
    const Certificate early_ca = env.factory.leaf(ca_spec);
    // An unrelated certificate in the bundle expiring even sooner must not count.
    const Certificate stray = env.factory.leaf(leaf_until("stray", days(10)));
    const CertificateRecord rec = env.put_with_chain(leaf_until("leaf", days(400)), {stray, early_ca});
    const CertificateRecord plain = env.put_with_chain(leaf_until("leaf2", days(400)), {stray});

    TrackedQuery q;
    const auto tracked = Lifecycle(*env.store).tracked(q);
    REQUIRE(tracked.size() == 2);
    CHECK(tracked[0].fingerprint == rec.fingerprint);
    CHECK(tracked[0].effective_not_after == days(60));
    CHECK(tracked[0].not_after == days(400));
    CHECK(tracked[1].effective_not_after == days(400));

    Lifecycle lifecycle(*env.store);
    const CheckResult r = lifecycle.check(kT0);
    REQUIRE(r.emitted.size() == 1);
    CHECK(r.emitted[0].certificate.fingerprint == rec.fingerprint);
    CHECK(r.emitted[0].stage_days == 60);
    CHECK(r.emitted[0].days_left == 60);
    CHECK(r.emitted[0].effective_not_after == days(60));
    const std::string text = to_text(lifecycle.digest(kT0));
    CHECK(text.find("an issuing CA expires first") != std::string::npos);
    (void)plain;
  }

  TEST_CASE("renewal: the superseded certificate is announced once as renewed and never again as expiring") {
    Env env;
    env.org("12345674");
    env.mailbox("sikkerpost@kunde.dk", "12345674");
    env.clock->set(days(-30));
    const CertificateRecord old = env.put(leaf_until("old", days(50)), into("sikkerpost@kunde.dk"));
    Lifecycle lifecycle(*env.store);
    CHECK(kinds_of(lifecycle.check(kT0).emitted) == std::vector<std::string>{"expiring/60"});

    env.clock->set(days(1));
    testing::LeafSpec next = leaf_until("new", days(1 + 1095));
    next.not_before = to_unix(days(1)) - 3600;
    const CertificateRecord renewed = env.put(next, into("sikkerpost@kunde.dk"));
    REQUIRE(env.store->find(old.fingerprint)->status == CertificateStatus::superseded);

    const CheckResult r = lifecycle.check(days(1));
    REQUIRE(r.emitted.size() == 1);
    const Event& e = r.emitted[0];
    CHECK(e.kind == EventKind::renewed);
    CHECK_FALSE(e.stage_days.has_value());
    CHECK(e.id == event_id(old.fingerprint, EventKind::renewed, std::nullopt));
    CHECK(e.superseded_by == renewed.fingerprint);
    CHECK(e.certificate.fingerprint == old.fingerprint);
    CHECK(e.days_left == 49);
    CHECK(r.worst == Severity::none);  // the new one is far from expiry: all is well again
    for (int d = 2; d <= 80; ++d) CHECK(lifecycle.check(days(d)).emitted.empty());
    CHECK(Lifecycle(*env.store).events().size() == 2);
  }

  TEST_CASE("revoked and retired certificates: revoked is announced once, retired is silent") {
    Env env;
    const CertificateRecord revoked = env.put(leaf_until("revoked", days(40)));
    const CertificateRecord retired = env.put(leaf_until("retired", days(40)));
    (void)env.store->set_status(revoked.fingerprint, CertificateStatus::revoked, "key compromise");
    (void)env.store->set_status(retired.fingerprint, CertificateStatus::retired, "customer left");
    Lifecycle lifecycle(*env.store);
    const CheckResult r = lifecycle.check(kT0);
    REQUIRE(r.emitted.size() == 1);
    CHECK(r.emitted[0].kind == EventKind::revoked);
    CHECK(r.emitted[0].certificate.fingerprint == revoked.fingerprint);
    CHECK(r.emitted[0].certificate.status == CertificateStatus::revoked);
    CHECK(r.worst == Severity::critical);
    for (int d = 1; d <= 60; ++d) CHECK(lifecycle.check(days(d)).emitted.empty());
    CHECK(lifecycle.check(days(60)).worst == Severity::none);
  }

  TEST_CASE("a forced import past a failing validation is announced once with the failed checks") {
    Env env;
    const Certificate leaf = env.factory.leaf(leaf_until("forced", days(500)));
    ValidationReport report = passing(leaf);
    report.verdict = CheckStatus::fail;
    report.checks = {{"chain", CheckStatus::fail, "no path to a trusted OCES root"},
                     {"validity", CheckStatus::pass, "valid"},
                     {"key_usage", CheckStatus::fail, "no digitalSignature"}};
    ImportOptions o;
    o.report = report;
    o.force = true;
    const ImportResult imported = env.store->import(env.factory.bundle(leaf), leaf.der(), env.password, o);
    REQUIRE(imported.outcome == ImportOutcome::imported);
    REQUIRE(imported.record->status == CertificateStatus::active);
    Lifecycle lifecycle(*env.store);
    const CheckResult r = lifecycle.check(kT0);
    REQUIRE(r.emitted.size() == 1);
    CHECK(r.emitted[0].kind == EventKind::validation_failed);
    CHECK(r.emitted[0].failed_checks == std::vector<std::string>{"chain", "key_usage"});
    CHECK(r.worst == Severity::warning);
    CHECK(lifecycle.check(days(1)).emitted.empty());

    // Forced, then superseded before any check: the failure is no longer news, the renewal is.
    env.org("12345674");
    env.mailbox("sikkerpost@kunde.dk", "12345674");
    const Certificate bad = env.factory.leaf(leaf_until("bad", days(600)));
    ImportOptions f = into("sikkerpost@kunde.dk");
    f.report = report;
    f.report->certificate = bad;
    f.force = true;
    const ImportResult forced = env.store->import(env.factory.bundle(bad), bad.der(), env.password, f);
    REQUIRE(forced.outcome == ImportOutcome::imported);
    testing::LeafSpec good_spec = leaf_until("good", days(700));
    good_spec.not_before = to_unix(kT0);
    const CertificateRecord good = env.put(good_spec, into("sikkerpost@kunde.dk"));
    const CheckResult after = lifecycle.check(days(2));
    REQUIRE(after.emitted.size() == 1);
    CHECK(after.emitted[0].kind == EventKind::renewed);
    CHECK(after.emitted[0].certificate.fingerprint == forced.fingerprint);
    CHECK(after.emitted[0].superseded_by == good.fingerprint);
  }

  TEST_CASE("per-organisation policies: overrides, the store default, reset - unknown organisations are refused") {
    Env env;
    env.org("11111111");
    env.org("22222222");
    const CertificateRecord a = env.put(leaf_until("a", days(99)), [] {
      ImportOptions o;
      o.organisation_cvr = "11111111";
      return o;
    }());
    const CertificateRecord b = env.put(leaf_until("b", days(99)), [] {
      ImportOptions o;
      o.organisation_cvr = "22222222";
      return o;
    }());
    Lifecycle(*env.store).set_renewal_policy(std::string_view("11111111"), RenewalPolicy{{120, 45, 0}});
    Lifecycle lifecycle(*env.store);
    CHECK(lifecycle.policy_for(std::string_view("11111111")).thresholds_days == std::vector<int>{120, 45, 0});
    CHECK(lifecycle.policy_for(std::string_view("22222222")) == RenewalPolicy::defaults());

    CheckResult r = lifecycle.check(kT0);
    REQUIRE(r.emitted.size() == 1);
    CHECK(r.emitted[0].certificate.fingerprint == a.fingerprint);
    CHECK(r.emitted[0].stage_days == 120);

    // A store default for everyone without an override: b is evaluated again, a is not touched.
    Lifecycle(*env.store).set_renewal_policy(std::nullopt, RenewalPolicy{{100, 30, 0}});
    r = lifecycle.check(kT0);
    CHECK(r.evaluated == 1);
    REQUIRE(r.emitted.size() == 1);
    CHECK(r.emitted[0].certificate.fingerprint == b.fingerprint);
    CHECK(r.emitted[0].stage_days == 100);
    const auto policies = Lifecycle(*env.store).renewal_policies();
    REQUIRE(policies.size() == 2);
    CHECK_FALSE(policies[0].cvr.has_value());
    CHECK(policies[0].policy.thresholds_days == std::vector<int>{100, 30, 0});
    CHECK(policies[1].cvr == "11111111");
    CHECK(policies[1].updated_by == "tester");

    // Back to the built-in default: announced stages stay announced, nothing repeats.
    Lifecycle(*env.store).set_renewal_policy(std::nullopt, std::nullopt);
    CHECK(lifecycle.check(kT0).emitted.empty());
    CHECK(kinds_of(lifecycle.check(days(39)).emitted) == std::vector<std::string>{"expiring/60"});  // b
    CHECK(kinds_of(lifecycle.check(days(54)).emitted) == std::vector<std::string>{"expiring/45"});  // a

    const std::size_t audit = env.store->audit_log().size();
    CHECK(code_of([&] { Lifecycle(*env.store).set_renewal_policy(std::string_view("99999999"), RenewalPolicy::defaults()); }) ==
          ErrorCode::not_found);
    CHECK(code_of([&] { Lifecycle(*env.store).set_renewal_policy(std::string_view("11111111"), RenewalPolicy{{30, 60}}); }) ==
          ErrorCode::invalid_argument);
    CHECK(code_of([&] { Lifecycle(*env.store).set_renewal_policy(std::nullopt, RenewalPolicy{{}}); }) == ErrorCode::invalid_argument);
    CHECK(env.store->audit_log().size() == audit);  // refused changes leave no trace
    const auto log = env.store->audit_log();
    CHECK(std::count_if(log.begin(), log.end(), [](const AuditEntry& e) { return e.action == "policy.set"; }) == 2);
    CHECK(std::count_if(log.begin(), log.end(), [](const AuditEntry& e) { return e.action == "policy.reset"; }) == 1);
  }

  TEST_CASE("events carry organisation, CVR, mailbox and contacts - never a secret") {
    Env env;
    env.org("12345674", {{"Ida IT", "it@kunde.dk", "renewals"}, {"Bo", "bo@kunde.dk", ""}});
    env.mailbox("sikkerpost@kunde.dk", "12345674");
    const CertificateRecord rec = env.put(leaf_until("Sikker post", days(20)), into("sikkerpost@kunde.dk"));
    Lifecycle lifecycle(*env.store);
    const CheckResult r = lifecycle.check(kT0);
    REQUIRE(r.emitted.size() == 1);
    const Event& e = r.emitted[0];
    CHECK(e.cvr() == "12345674");
    CHECK(e.certificate.mailbox == "sikkerpost@kunde.dk");
    REQUIRE(e.organisation.has_value());
    CHECK(e.organisation->name == "Kunde 12345674 A/S");
    CHECK(e.organisation->contacts.size() == 2);
    CHECK(e.certificate.issuer.find("dpgcert Store Test CA") != std::string::npos);
    CHECK(e.certificate.serial == rec.serial);

    const auto outbox = Lifecycle(*env.store).events();
    REQUIRE(outbox.size() == 1);
    const json payload = json::parse(outbox[0].payload);
    CHECK(payload["organisation"]["contacts"][0]["email"] == "it@kunde.dk");
    CHECK(payload["cvr"] == "12345674");
    CHECK(outbox[0].payload.find("Hemmeligt-Kodeord-42") == std::string::npos);
    const auto key = env.factory.leaf_key_pkcs8().bytes();
    const std::string key_text(reinterpret_cast<const char*>(key.data()), key.size());
    CHECK(outbox[0].payload.find(key_text.substr(key_text.size() - 32)) == std::string::npos);
    CHECK(outbox[0].payload.find("BEGIN") == std::string::npos);
  }

  TEST_CASE("the outbox: events recorded but not delivered (a crash after the commit) go out on the next run") {
    Env env;
    (void)Lifecycle(*env.store).add_sink(callback_sink("cb"));
    for (int i = 0; i < 5; ++i) (void)env.put(leaf_until(test::numbered("c", i), days(10 + i)));
    std::vector<std::string> recorded;
    {
      Lifecycle first(*env.store);  // a process that dies between commit and delivery
      CheckOptions o;
      o.deliver = false;
      const CheckResult r = first.check(kT0, o);
      CHECK(r.emitted.size() == 5);
      CHECK(r.deliveries.empty());
      recorded = ids_of(r.emitted);
    }
    CHECK(Lifecycle(*env.store).sink_stats()[0].pending == 5);
    // The next run, in another process with its own store handle.
    auto reopened = Store::open(env.options());
    Lifecycle next(*reopened);
    Collector got;
    next.register_callback("cb", got.callback());
    const CheckResult r = next.check(kT0 + std::chrono::hours(1));
    CHECK(r.emitted.empty());
    CHECK(r.delivered() == 5);
    std::vector<std::string> delivered = ids_of(got.received);
    std::sort(delivered.begin(), delivered.end());
    std::sort(recorded.begin(), recorded.end());
    CHECK(delivered == recorded);
    CHECK(Lifecycle(*reopened).sink_stats()[0].pending == 0);
    CHECK(Lifecycle(*reopened).sink_stats()[0].delivered == 5);
  }

  TEST_CASE("a run that dies after claiming deliveries leaves them to a run after the lease, same ids") {
    Env env;
    (void)Lifecycle(*env.store).add_sink(callback_sink("cb"));
    (void)env.put(leaf_until("c", days(10)));
    Lifecycle lifecycle(*env.store);
    CheckOptions record_only;
    record_only.deliver = false;
    const CheckResult r = lifecycle.check(kT0, record_only);
    REQUIRE(r.emitted.size() == 1);
    const std::vector<std::string> names{"cb"};
    const auto claimed = lifecycle_detail::claim_deliveries(*env.store, kT0, std::chrono::minutes(15), names, 100);
    REQUIRE(claimed.size() == 1);
    CHECK(claimed[0].attempts == 1);
    CHECK(claimed[0].event.id == r.emitted[0].id);
    // ... and the process dies here, before settling.
    Collector got;
    lifecycle.register_callback("cb", got.callback());
    CHECK(lifecycle.deliver(kT0 + std::chrono::minutes(5)).empty());  // still leased
    const auto attempts = lifecycle.deliver(kT0 + std::chrono::minutes(16));
    REQUIRE(attempts.size() == 1);
    CHECK(attempts[0].delivered);
    CHECK(attempts[0].attempt == 2);
    REQUIRE(got.received.size() == 1);
    CHECK(got.received[0].id == r.emitted[0].id);
    CHECK(to_json(got.received[0]) == to_json(r.emitted[0]));
    CHECK(lifecycle.deliver(kT0 + std::chrono::days(5)).empty());  // acknowledged: never again
    CHECK(code_of([&] { (void)lifecycle_detail::claim_deliveries(*env.store, kT0, std::chrono::seconds(0), names, 1); }) ==
          ErrorCode::invalid_argument);
  }

  TEST_CASE("a sink that fails half the time receives every event once as a logical event") {
    Env env;
    (void)Lifecycle(*env.store).add_sink(callback_sink("flaky"));
    std::mt19937 rng(42);
    for (int i = 0; i < 150; ++i) {
      (void)env.put(leaf_until(test::numbered("c", i), days(20 + static_cast<int>(rng() % 100)) + std::chrono::seconds(rng() % kDay)));
    }
    Lifecycle lifecycle(*env.store);
    Collector got;
    std::mt19937 coin(99);
    std::size_t failures = 0;
    got.fail = [&](const Event&) {
      const bool fail = coin() % 2 == 0;
      failures += fail ? 1 : 0;
      return fail;
    };
    lifecycle.register_callback("flaky", got.callback());
    std::vector<Event> emitted;
    for (int d = 0; d <= 130; ++d) {
      const CheckResult r = lifecycle.check(days(d));
      emitted.insert(emitted.end(), r.emitted.begin(), r.emitted.end());
    }
    // Enough runs after the last event: hourly, then until nothing is pending.
    Time t = days(130);
    for (int run = 0; run < 200 && Lifecycle(*env.store).sink_stats()[0].pending > 0; ++run) {
      t += std::chrono::hours(1);
      (void)lifecycle.deliver(t);
    }
    CHECK(Lifecycle(*env.store).sink_stats()[0].pending == 0);
    CHECK(failures > emitted.size() / 3);  // it really failed about half the time

    // Every event received, duplicates only with the same id and the same content.
    std::map<std::string, json> first_seen;
    for (const Event& e : got.received) {
      const auto [it, fresh] = first_seen.emplace(e.id, to_json(e));
      if (!fresh) CHECK(it->second == to_json(e));
    }
    std::set<std::string> emitted_ids;
    for (const Event& e : emitted) emitted_ids.insert(e.id);
    CHECK(emitted_ids.size() == emitted.size());
    std::set<std::string> received_ids;
    for (const auto& [id, j] : first_seen) received_ids.insert(id);
    CHECK(received_ids == emitted_ids);
    CHECK(got.received.size() == emitted.size() + failures);  // one success per event, the rest retries
    const auto counters = Lifecycle(*env.store).counters();
    REQUIRE(counters.delivered.size() == 1);
    CHECK(counters.delivered[0].second == emitted.size());
    REQUIRE(counters.failed.size() == 1);
    CHECK(counters.failed[0].second == failures);
  }

  TEST_CASE("failed deliveries back off: not retried before their time, then retried") {
    Env env;
    (void)Lifecycle(*env.store).add_sink(callback_sink("cb"));
    (void)env.put(leaf_until("c", days(10)));
    Lifecycle lifecycle(*env.store);
    Collector got;
    bool down = true;
    got.fail = [&](const Event&) { return down; };
    lifecycle.register_callback("cb", got.callback());
    const CheckResult r = lifecycle.check(kT0);
    REQUIRE(r.deliveries.size() == 1);
    CHECK_FALSE(r.deliveries[0].delivered);
    CHECK(r.deliveries[0].error == "collector says no");
    CHECK(r.deliveries[0].retry_at == kT0 + std::chrono::minutes(1));
    CHECK(r.failed() == 1);
    const auto stats = Lifecycle(*env.store).sink_stats();
    CHECK(stats[0].pending == 1);
    CHECK(stats[0].last_error == "collector says no");
    CHECK(stats[0].next_attempt_at == kT0 + std::chrono::minutes(1));

    CHECK(lifecycle.deliver(kT0 + std::chrono::seconds(30)).empty());
    auto a = lifecycle.deliver(kT0 + std::chrono::minutes(1));
    REQUIRE(a.size() == 1);
    CHECK(a[0].attempt == 2);
    CHECK(a[0].retry_at == kT0 + std::chrono::minutes(3));
    CHECK(lifecycle.deliver(kT0 + std::chrono::minutes(2)).empty());
    down = false;
    a = lifecycle.deliver(kT0 + std::chrono::minutes(3));
    REQUIRE(a.size() == 1);
    CHECK(a[0].delivered);
    CHECK(a[0].attempt == 3);
    CHECK(got.received.size() == 3);
    CHECK(Lifecycle(*env.store).sink_stats()[0].pending == 0);
    CHECK_FALSE(Lifecycle(*env.store).sink_stats()[0].last_error.has_value());
  }

  TEST_CASE("callback sinks: deliveries wait while no function is registered - a throwing callback is retried") {
    Env env;
    (void)Lifecycle(*env.store).add_sink(callback_sink("cb"));
    for (int i = 0; i < 3; ++i) (void)env.put(leaf_until(test::numbered("c", i), days(10)));
    Lifecycle without(*env.store);
    const CheckResult r = without.check(kT0);
    CHECK(r.emitted.size() == 3);
    CHECK(r.deliveries.empty());  // not attempted, not failed: waiting for a process that has it
    CHECK(Lifecycle(*env.store).sink_stats()[0].pending == 3);
    CHECK(Lifecycle(*env.store).counters().failed.empty());

    Lifecycle throwing(*env.store);
    throwing.register_callback("cb", [](const Event&) -> SinkResult { throw std::runtime_error("mail server down"); });
    const auto failed = throwing.deliver(kT0);
    REQUIRE(failed.size() == 3);
    CHECK(failed[0].error == "the callback threw: mail server down");
    CHECK(code_of([&] { throwing.register_callback("cb", EventCallback{}); }) == ErrorCode::invalid_argument);

    Lifecycle with(*env.store);
    Collector got;
    with.register_callback("cb", got.callback());
    CHECK(with.deliver(kT0 + std::chrono::minutes(1)).size() == 3);
    CHECK(got.received.size() == 3);
  }

  TEST_CASE("JSON Lines sink: one line per event, appended and synced - an unwritable path fails and is retried") {
    Env env;
    const fs::path file = env.dir.path() / "events.jsonl";
    const fs::path blocker = env.dir.path() / "not-a-folder";
    std::ofstream(blocker) << "a file where a folder should be";
    (void)Lifecycle(*env.store).add_sink(jsonl_sink("log", file.string()));
    (void)Lifecycle(*env.store).add_sink(jsonl_sink("broken", (blocker / "events.jsonl").string()));
    (void)env.put(leaf_until("a", days(20)));
    (void)env.put(leaf_until("b", days(80)));
    Lifecycle lifecycle(*env.store);
    const CheckResult r = lifecycle.check(kT0);
    REQUIRE(r.emitted.size() == 2);
    CHECK(r.delivered() == 2);
    CHECK(r.failed() == 2);
    for (const DeliveryAttempt& a : r.deliveries) {
      if (a.sink == "broken") CHECK(a.error.find("Not a directory") != std::string::npos);
    }
    auto lines = [&] {
      std::vector<json> out;
      std::ifstream in(file);
      for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
      return out;
    };
    REQUIRE(lines().size() == 2);
    CHECK(lines()[0]["id"] == r.emitted[0].id);
    CHECK(lines()[1]["id"] == r.emitted[1].id);
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);

    const CheckResult more = lifecycle.check(days(51));
    REQUIRE(more.emitted.size() == 2);  // a: 30 days, b: 30 days
    REQUIRE(lines().size() == 4);
    CHECK(lines()[0]["id"] == r.emitted[0].id);  // appended, earlier lines intact

    // Fixed: the retry (after its backoff) delivers what waited, once.
    fs::remove(blocker);
    fs::create_directory(blocker);
    const auto retried = lifecycle.deliver(days(60));
    CHECK(retried.size() == 4);
    CHECK(std::all_of(retried.begin(), retried.end(), [](const DeliveryAttempt& a) { return a.delivered; }));
    std::ifstream in(blocker / "events.jsonl");
    std::set<std::string> ids;
    for (std::string line; std::getline(in, line);) ids.insert(json::parse(line)["id"].get<std::string>());
    CHECK(ids.size() == 4);
  }

  TEST_CASE("command hook: the event on stdin, key fields in the environment, no DPGCERT_ secret inherited") {
    Env env;
    env.org("12345674");
    env.mailbox("sikkerpost@kunde.dk", "12345674");
    const fs::path out = env.dir.path() / "hook-out";
    fs::create_directory(out);
    const std::string hook = write_script(env.dir.path() / "hook.sh",
                                          "cat > '" + out.string() + "'/\"$DPGCERT_EVENT_ID\".json\n"
                                          "env > '" + out.string() + "'/\"$DPGCERT_EVENT_ID\".env\n");
    (void)Lifecycle(*env.store).add_sink(command_sink("hook", {hook}, std::chrono::seconds(10)));
    const CertificateRecord rec = env.put(leaf_until("Sikker post", days(25)), into("sikkerpost@kunde.dk"));
    ::setenv("DPGCERT_PASSPHRASE", "do-not-leak-this", 1);
    ::setenv("DPGCERT_KEY_FILE", "/secret/path.key", 1);
    Lifecycle lifecycle(*env.store);
    const CheckResult r = lifecycle.check(kT0);
    ::unsetenv("DPGCERT_PASSPHRASE");
    ::unsetenv("DPGCERT_KEY_FILE");
    REQUIRE(r.emitted.size() == 1);
    REQUIRE(r.deliveries.size() == 1);
    CHECK(r.deliveries[0].delivered);
    const std::string id = r.emitted[0].id;
    const json stdin_json = json::parse(test::read_text(out / (id + ".json")));
    CHECK(stdin_json == to_json(r.emitted[0]));
    const std::string env_text = test::read_text(out / (id + ".env"));
    for (const std::string& line :
         {"DPGCERT_EVENT_ID=" + id, std::string("DPGCERT_EVENT_KIND=expiring"), std::string("DPGCERT_STAGE_DAYS=30"),
          std::string("DPGCERT_DAYS_LEFT=25"), "DPGCERT_FINGERPRINT=" + rec.fingerprint, std::string("DPGCERT_CVR=12345674"),
          std::string("DPGCERT_MAILBOX=sikkerpost@kunde.dk"), "DPGCERT_NOT_AFTER=" + format_rfc3339(days(25))}) {
      CAPTURE(line);
      CHECK(env_text.find(line + "\n") != std::string::npos);
    }
    CHECK(env_text.find("do-not-leak-this") == std::string::npos);
    CHECK(env_text.find("DPGCERT_KEY_FILE") == std::string::npos);
    CHECK(env_text.find("PATH=") != std::string::npos);  // the rest of the environment is there
  }

  TEST_CASE("command hook: only PATH, HOME, LANG, TZ and LC_* of the caller's environment are passed on") {
    Env env;
    const fs::path out = env.dir.path() / "hook.env";
    const std::string hook = write_script(env.dir.path() / "hook.sh", "env > '" + out.string() + "'\n");
    (void)Lifecycle(*env.store).add_sink(command_sink("hook", {hook}, std::chrono::seconds(10)));
    (void)env.put(leaf_until("Sikker post", days(25)));
    // A passphrase in a variable of the operator's choosing (--passphrase-env MY_STORE_PW), a token.
    test::ScopedEnv pw("MY_STORE_PW", std::string("do-not-leak-this"));
    test::ScopedEnv token("GITHUB_TOKEN", std::string("ghp_secret"));
    test::ScopedEnv lang("LANG", std::string("da_DK.UTF-8"));
    test::ScopedEnv tz("TZ", std::string("Europe/Copenhagen"));
    test::ScopedEnv lc("LC_TIME", std::string("C.UTF-8"));
    const CheckResult r = Lifecycle(*env.store).check(kT0);
    REQUIRE(r.deliveries.size() == 1);
    REQUIRE(r.deliveries[0].delivered);
    const std::string env_text = test::read_text(out);
    CHECK(env_text.find("do-not-leak-this") == std::string::npos);
    CHECK(env_text.find("MY_STORE_PW") == std::string::npos);
    CHECK(env_text.find("ghp_secret") == std::string::npos);
    CHECK(env_text.find("LANG=da_DK.UTF-8\n") != std::string::npos);
    CHECK(env_text.find("TZ=Europe/Copenhagen\n") != std::string::npos);
    CHECK(env_text.find("LC_TIME=C.UTF-8\n") != std::string::npos);
    CHECK(env_text.find("DPGCERT_EVENT_KIND=expiring\n") != std::string::npos);
    CHECK(command_hook_inherits("PATH"));
    CHECK(command_hook_inherits("LC_ALL"));
    CHECK_FALSE(command_hook_inherits("MY_STORE_PW"));
    CHECK_FALSE(command_hook_inherits("DPGCERT_PASSPHRASE"));
    CHECK_FALSE(command_hook_inherits("PATHX"));
  }

  TEST_CASE("command hook: a non-zero exit and a missing program mean retry later - a hook that ignores stdin is fine") {
    Env env;
    const std::string failing = write_script(env.dir.path() / "fail.sh", "cat >/dev/null\nexit 3\n");
    const std::string deaf = write_script(env.dir.path() / "deaf.sh", "exec true\n");
    (void)Lifecycle(*env.store).add_sink(command_sink("fails", {failing}));
    (void)Lifecycle(*env.store).add_sink(command_sink("missing", {(env.dir.path() / "no-such-hook").string()}));
    (void)Lifecycle(*env.store).add_sink(command_sink("deaf", {deaf}));
    (void)Lifecycle(*env.store).add_sink(command_sink("onpath", {"true"}));
    (void)env.put(leaf_until("a", days(20)));
    Lifecycle lifecycle(*env.store);
    const CheckResult r = lifecycle.check(kT0);
    REQUIRE(r.deliveries.size() == 4);
    std::map<std::string, DeliveryAttempt> by_sink;
    for (const auto& a : r.deliveries) by_sink[a.sink] = a;
    CHECK_FALSE(by_sink["fails"].delivered);
    CHECK(by_sink["fails"].error.find("exited with status 3") != std::string::npos);
    CHECK_FALSE(by_sink["missing"].delivered);
    CHECK(by_sink["missing"].error.find("cannot run") != std::string::npos);
    CHECK(by_sink["deaf"].delivered);
    CHECK(by_sink["onpath"].delivered);
    const auto stats = Lifecycle(*env.store).sink_stats();
    for (const SinkStats& s : stats) {
      CAPTURE(s.sink);
      CHECK(s.pending == ((s.sink == "fails" || s.sink == "missing") ? 1u : 0u));
    }
  }

  TEST_CASE("command hook: a hook past its timeout is killed with its children and retried") {
    Env env;
    const fs::path pid_file = env.dir.path() / "child.pid";
    const std::string slow =
        write_script(env.dir.path() / "slow.sh", "sleep 60 &\necho $! > '" + pid_file.string() + "'\nwait\n");
    (void)Lifecycle(*env.store).add_sink(command_sink("slow", {slow}, std::chrono::seconds(1)));
    (void)env.put(leaf_until("a", days(20)));
    Lifecycle lifecycle(*env.store);
    const auto started = std::chrono::steady_clock::now();
    const CheckResult r = lifecycle.check(kT0);
    const auto took = std::chrono::steady_clock::now() - started;
    REQUIRE(r.deliveries.size() == 1);
    CHECK_FALSE(r.deliveries[0].delivered);
    CHECK(r.deliveries[0].error.find("did not finish within 1 s") != std::string::npos);
    CHECK(took < std::chrono::seconds(10));
    const pid_t child = static_cast<pid_t>(std::stol(test::read_text(pid_file)));
    for (int i = 0; i < 100 && !process_gone(child); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(process_gone(child));
    CHECK(Lifecycle(*env.store).sink_stats()[0].pending == 1);
  }

  TEST_CASE("sinks: names and settings are validated - unknown sinks for a run are refused - removal drops pending") {
    Env env;
    CHECK(code_of([&] { (void)Lifecycle(*env.store).add_sink(jsonl_sink("", "/tmp/x")); }) == ErrorCode::invalid_argument);
    CHECK(code_of([&] { (void)Lifecycle(*env.store).add_sink(jsonl_sink("has space", "/tmp/x")); }) == ErrorCode::invalid_argument);
    CHECK(code_of([&] { (void)Lifecycle(*env.store).add_sink(jsonl_sink(std::string(65, 'a'), "/tmp/x")); }) ==
          ErrorCode::invalid_argument);
    CHECK(code_of([] { (void)jsonl_sink("x", ""); }) == ErrorCode::invalid_argument);
    CHECK(code_of([] { (void)command_sink("x", {}); }) == ErrorCode::invalid_argument);
    CHECK(code_of([] { (void)command_sink("x", {""}); }) == ErrorCode::invalid_argument);
    CHECK(code_of([] { (void)command_sink("x", {"true"}, std::chrono::seconds(0)); }) == ErrorCode::invalid_argument);
    CHECK(code_of([] { (void)command_sink("x", {"true"}, std::chrono::seconds(7200)); }) == ErrorCode::invalid_argument);
    SinkConfig raw;
    raw.name = "raw";
    raw.kind = "jsonl";
    raw.settings = "[1,2]";
    CHECK(code_of([&] { (void)Lifecycle(*env.store).add_sink(raw); }) == ErrorCode::invalid_argument);
    raw.settings = "{\"path\": 3}";
    CHECK(code_of([&] { validate_sink(raw); }) == ErrorCode::invalid_argument);

    const SinkConfig added = Lifecycle(*env.store).add_sink(jsonl_sink("log", "relative/events.jsonl"));
    CHECK(json::parse(added.settings)["path"].get<std::string>().front() == '/');  // made absolute
    CHECK(added.created_by == "tester");
    CHECK(code_of([&] { (void)Lifecycle(*env.store).add_sink(callback_sink("log")); }) == ErrorCode::conflict);
    CHECK(code_of([&] { Lifecycle(*env.store).remove_sink("nope"); }) == ErrorCode::not_found);

    (void)Lifecycle(*env.store).add_sink(callback_sink("cb"));
    (void)env.put(leaf_until("a", days(20)));
    Lifecycle lifecycle(*env.store);
    CheckOptions only;
    only.sinks = {"nope"};
    CHECK(code_of([&] { (void)lifecycle.check(kT0, only); }) == ErrorCode::not_found);
    CheckOptions record;
    record.deliver = false;
    (void)lifecycle.check(kT0, record);
    CHECK(Lifecycle(*env.store).sink_stats().size() == 2);
    Lifecycle(*env.store).remove_sink("cb");
    const auto stats = Lifecycle(*env.store).sink_stats();
    REQUIRE(stats.size() == 1);
    CHECK(stats[0].sink == "log");
    testing::RawSqlite raw_db((env.dir.path() / "store.db").string());
    CHECK(raw_db.text("SELECT count(*) FROM deliveries") == "1");
    const auto log = env.store->audit_log();
    CHECK(std::count_if(log.begin(), log.end(), [](const AuditEntry& e) { return e.action == "sink.add"; }) == 2);
    CHECK(std::count_if(log.begin(), log.end(), [](const AuditEntry& e) { return e.action == "sink.remove"; }) == 1);
  }

  TEST_CASE("--sink for one run: only that sink is served, the others wait") {
    Env env;
    (void)Lifecycle(*env.store).add_sink(callback_sink("a"));
    (void)Lifecycle(*env.store).add_sink(callback_sink("b"));
    (void)env.put(leaf_until("x", days(20)));
    Lifecycle lifecycle(*env.store);
    Collector got_a;
    Collector got_b;
    lifecycle.register_callback("a", got_a.callback());
    lifecycle.register_callback("b", got_b.callback());
    CheckOptions only_a;
    only_a.sinks = {"a"};
    const CheckResult r = lifecycle.check(kT0, only_a);
    CHECK(r.delivered() == 1);
    CHECK(got_a.received.size() == 1);
    CHECK(got_b.received.empty());
    (void)lifecycle.deliver(kT0);
    CHECK(got_b.received.size() == 1);
    CHECK(got_a.received.size() == 1);
  }

  TEST_CASE("digest: per organisation, soonest first, with contacts - an unknown organisation is not_found") {
    Env env;
    env.org("12345674", {{"Ida IT", "it@kunde.dk", "renewals"}});
    env.org("25313763");
    env.mailbox("a@kunde.dk", "12345674");
    env.mailbox("b@kunde.dk", "12345674");
    const CertificateRecord later = env.put(leaf_until("later", days(200)), into("a@kunde.dk"));
    const CertificateRecord sooner = env.put(leaf_until("sooner", days(10)), into("b@kunde.dk"));
    const CertificateRecord loose = env.put(leaf_until("loose", days(-2)));
    Lifecycle(*env.store).set_renewal_policy(std::string_view("12345674"), RenewalPolicy{{250, 30, 0}});
    Lifecycle lifecycle(*env.store);

    const Digest d = lifecycle.digest(kT0);
    REQUIRE(d.organisations.size() == 3);
    CHECK(d.organisations[0].organisation->cvr == "12345674");
    CHECK(d.organisations[0].policy.thresholds_days == std::vector<int>{250, 30, 0});
    REQUIRE(d.organisations[0].certificates.size() == 2);
    CHECK(d.organisations[0].certificates[0].certificate.fingerprint == sooner.fingerprint);
    CHECK(d.organisations[0].certificates[0].stage == 30);
    CHECK(d.organisations[0].certificates[0].severity == Severity::critical);
    CHECK(d.organisations[0].certificates[0].days_left == 10);
    CHECK(d.organisations[0].certificates[1].certificate.fingerprint == later.fingerprint);
    CHECK(d.organisations[0].certificates[1].stage == 250);
    CHECK(d.organisations[1].organisation->cvr == "25313763");
    CHECK(d.organisations[1].certificates.empty());
    CHECK_FALSE(d.organisations[2].organisation.has_value());
    REQUIRE(d.organisations[2].certificates.size() == 1);
    CHECK(d.organisations[2].certificates[0].certificate.fingerprint == loose.fingerprint);
    CHECK(d.organisations[2].certificates[0].stage == 0);
    CHECK(d.organisations[2].certificates[0].days_left == -2);

    const std::string text = to_text(d);
    CHECK(text.find("Kunde 12345674 A/S - CVR 12345674") != std::string::npos);
    CHECK(text.find("Ida IT <it@kunde.dk> (renewals)") != std::string::npos);
    CHECK(text.find("Policy:   250, 30, 0 days before expiry") != std::string::npos);
    CHECK(text.find("(no active certificates)") != std::string::npos);
    CHECK(text.find("Certificates attached to no organisation") != std::string::npos);
    CHECK(text.find("2 days ago") != std::string::npos);
    CHECK(text.find("expired") != std::string::npos);
    CHECK(text.find(sooner.fingerprint.substr(0, 16)) < text.find(later.fingerprint.substr(0, 16)));

    const json j = to_json(lifecycle.digest(kT0, std::string_view("12345674")));
    REQUIRE(j["organisations"].size() == 1);
    CHECK(j["organisations"][0]["contacts"][0]["email"] == "it@kunde.dk");
    CHECK(j["organisations"][0]["certificates"][0]["mailbox"] == "b@kunde.dk");
    CHECK(j["organisations"][0]["certificates"][0]["stage_days"] == 30);
    CHECK(j["organisations"][0]["certificates"][0]["announced_stage_days"].is_null());  // no check has run
    CHECK(code_of([&] { (void)lifecycle.digest(kT0, std::string_view("99999999")); }) == ErrorCode::not_found);
  }

  TEST_CASE("metrics: the exposition parses strictly, with the exporter's names and labels, escaped") {
    Env env;
    env.org("12345674");
    env.mailbox("sikkerpost@kunde.dk", "12345674");
    const std::string odd_cn = "Quote \" back\\slash\nnew line";
    const CertificateRecord odd = env.put(leaf_until(odd_cn, days(30)), into("sikkerpost@kunde.dk"));
    const CertificateRecord expired = env.put(leaf_until("expired", days(-1)));
    env.clock->set(days(1));
    const CertificateRecord replaced = env.put(leaf_until("replaced", days(40)));
    (void)env.store->set_status(replaced.fingerprint, CertificateStatus::retired);
    (void)Lifecycle(*env.store).add_sink(callback_sink("cb"));
    Lifecycle lifecycle(*env.store);
    Collector got;
    lifecycle.register_callback("cb", got.callback());
    (void)lifecycle.check(days(1));

    std::ostringstream out;
    lifecycle.write_metrics(out, days(1));
    const test::PromExposition m = test::PromParser::parse(out.str());
    for (const char* name : {"x509_cert_not_before", "x509_cert_not_after", "x509_cert_expired",
                             "x509_cert_expires_in_seconds", "dpgcert_cert_effective_not_after"}) {
      CAPTURE(name);
      const auto& f = m.family(name);
      CHECK(f.type == "gauge");
      CHECK(f.samples.size() == 2);  // the active ones: not the retired certificate
    }
    const auto& not_after = m.family("x509_cert_not_after");
    const test::PromSample* s = nullptr;
    for (const auto& sample : not_after.samples) {
      if (sample.labels.at("subject_CN") == odd_cn) s = &sample;
    }
    REQUIRE(s != nullptr);  // the escapes came back as the original text
    CHECK(s->labels.at("issuer_CN") == "dpgcert Store Test CA");
    CHECK(s->labels.at("serial_number") == lifecycle_detail::hex_to_decimal(odd.serial));
    CHECK(s->labels.at("cvr") == "12345674");
    CHECK(s->labels.at("mailbox") == "sikkerpost@kunde.dk");
    CHECK(s->labels.at("oces_type") == "");
    CHECK(s->labels.size() == 6);
    CHECK(s->value == static_cast<double>(to_unix(days(30))));
    for (const auto& sample : m.family("x509_cert_expired").samples) {
      CHECK(sample.value == (sample.labels.at("subject_CN") == "expired" ? 1.0 : 0.0));
    }
    for (const auto& sample : m.family("x509_cert_expires_in_seconds").samples) {
      if (sample.labels.at("subject_CN") == "expired") CHECK(sample.value == static_cast<double>(-2 * kDay));
    }
    const auto& emitted = m.family("dpgcert_events_emitted_total");
    CHECK(emitted.type == "counter");
    CHECK(emitted.samples.size() == 5);
    std::map<std::string, double> by_kind;
    for (const auto& sample : emitted.samples) by_kind[sample.labels.at("kind")] = sample.value;
    CHECK(by_kind["expiring"] == 1);
    CHECK(by_kind["expired"] == 1);
    CHECK(by_kind["renewed"] == 0);
    CHECK(m.family("dpgcert_events_delivered_total").samples.at(0).value == 2);
    CHECK(m.family("dpgcert_events_delivered_total").samples.at(0).labels.at("sink") == "cb");
    CHECK(m.family("dpgcert_events_failed_total").samples.at(0).value == 0);
    CHECK(m.family("dpgcert_deliveries_pending").type == "gauge");
    CHECK(m.has("dpgcert_certificates_in_stage"));
    (void)expired;

    // The parser is strict: it refuses what Prometheus refuses.
    for (const char* bad : {"x 1\n", "# HELP x h\n# TYPE x gauge\nx{a=\"b\\t\"} 1\n",
                            "# HELP x h\n# TYPE x gauge\nx 1\n# HELP y h\n# TYPE y gauge\ny 1\nx 2\n",
                            "# HELP x h\n# TYPE x gauge\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n",
                            "# HELP x h\n# TYPE x counter\nx 1\n", "# HELP x h\n# TYPE x gauge\nx one\n",
                            "# HELP x h\n# TYPE x gauge\nx{1a=\"b\"} 1\n", "# HELP x h\n# TYPE x gauge\nx 1"}) {
      CAPTURE(bad);
      CHECK_THROWS_AS((void)test::PromParser::parse(bad), std::runtime_error);
    }
  }

  TEST_CASE("metrics file: replaced atomically, mode 0644, no temporary left - an unwritable folder is an io error") {
    Env env;
    (void)env.put(leaf_until("a", days(30)));
    Lifecycle lifecycle(*env.store);
    const fs::path dir = env.dir.path() / "textfile";
    fs::create_directory(dir);
    const fs::path file = dir / "dpgcert.prom";
    std::ofstream(file) << "old content\n";
    lifecycle.write_metrics_file(file, kT0);
    const std::string first = test::read_text(file);
    CHECK(first.find("old content") == std::string::npos);
    CHECK_NOTHROW((void)test::PromParser::parse(first));
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0644);
    std::size_t entries = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
      (void)e;
      ++entries;
    }
    CHECK(entries == 1);
    (void)env.put(leaf_until("b", days(40)));
    lifecycle.write_metrics_file(file, kT0);
    CHECK(test::PromParser::parse(test::read_text(file)).family("x509_cert_not_after").samples.size() == 2);
    CHECK(code_of([&] { lifecycle.write_metrics_file(env.dir.path() / "missing" / "x.prom", kT0); }) == ErrorCode::io);
  }

  TEST_CASE("two processes checking at once emit each event once") {
    Env env;
    std::mt19937 rng(5);
    for (int i = 0; i < 120; ++i) {
      (void)env.put(leaf_until(test::numbered("c", i), days(5 + static_cast<int>(rng() % 60)) + std::chrono::seconds(rng() % kDay)));
    }
    auto other = Store::open(env.options());
    std::vector<Event> a;
    std::vector<Event> b;
    std::thread ta([&] {
      Lifecycle l(*env.store);
      for (int d = 0; d <= 70; ++d) {
        auto r = l.check(days(d));
        a.insert(a.end(), r.emitted.begin(), r.emitted.end());
      }
    });
    std::thread tb([&] {
      Lifecycle l(*other);
      for (int d = 0; d <= 70; ++d) {
        auto r = l.check(days(d));
        b.insert(b.end(), r.emitted.begin(), r.emitted.end());
      }
    });
    ta.join();
    tb.join();
    std::set<std::string> ids;
    for (const Event& e : a) ids.insert(e.id);
    for (const Event& e : b) CHECK(ids.insert(e.id).second);  // nobody announced what the other did
    CHECK(ids.size() == Lifecycle(*env.store).events().size());
    // Per certificate: stages strictly descending, without repeats.
    std::map<std::string, std::vector<int>> stages;
    for (const auto& e : Lifecycle(*env.store).events()) stages[json::parse(e.payload)["fingerprint_sha256"]].push_back(*e.stage_days);
    for (const auto& kv : stages) {  // (clang 14 cannot capture structured bindings)
      const auto& fp = kv.first;
      const auto& v = kv.second;
      CAPTURE(fp);
      CHECK(std::adjacent_find(v.begin(), v.end(), std::less_equal<>()) == v.end());
    }
    CHECK(stages.size() == 120);
  }

  TEST_CASE("the due query is a range of the partial index, and the integrity check covers the lifecycle rows") {
    Env env;
    const CertificateRecord a = env.put(leaf_until("a", days(30)));
    const CertificateRecord b = env.put(leaf_until("b", days(300)));
    Lifecycle lifecycle(*env.store);
    (void)lifecycle.check(kT0);
    CHECK(env.store->check_integrity().ok());
    testing::RawSqlite raw((env.dir.path() / "store.db").string());
    // The shape of the store's due query: SQLite reads a range of lifecycle_due, never the table.
    std::string plan;
    for (const auto& row : raw.rows("EXPLAIN QUERY PLAN SELECT c.id FROM lifecycle l JOIN certificates c ON "
                                    "c.id = l.certificate_id WHERE l.next_due_at <= 1735689600 "
                                    "ORDER BY l.next_due_at, l.certificate_id LIMIT 1000")) {
      plan += std::string(reinterpret_cast<const char*>(row[3].data()), row[3].size()) + "\n";
    }
    CAPTURE(plan);
    CHECK(plan.find("INDEX lifecycle_due (next_due_at<?)") != std::string::npos);
    CHECK(plan.find("SCAN l") == std::string::npos);
    // What the bookkeeping says: a waits for its 14-day threshold, b for its 90-day one.
    CHECK(raw.text("SELECT next_due_at FROM lifecycle WHERE certificate_id = " + std::to_string(a.id)) ==
          std::to_string(to_unix(days(30 - 14))));
    CHECK(raw.text("SELECT stage FROM lifecycle WHERE certificate_id = " + std::to_string(a.id)) == "30");
    CHECK(raw.text("SELECT next_due_at FROM lifecycle WHERE certificate_id = " + std::to_string(b.id)) ==
          std::to_string(to_unix(days(300 - 90))));

    raw.exec("UPDATE lifecycle SET next_due_at = NULL, stage = NULL WHERE certificate_id = " + std::to_string(a.id));
    raw.exec("DELETE FROM lifecycle WHERE certificate_id = " + std::to_string(b.id));
    const IntegrityReport report = env.store->check_integrity();
    REQUIRE(report.problems.size() == 2);
    CHECK(report.problems[0] == "certificate " + b.fingerprint + " has no lifecycle row");
    CHECK(report.problems[1] == "active certificate " + a.fingerprint + " is not tracked for expiry");
  }

  TEST_CASE("migration 3: certificates stored before the lifecycle layer are tracked from their notAfter") {
    TempDir dir;
    auto clock = std::make_shared<FixedClock>(days(-10));
    auto options = [&] {
      StoreOptions o;
      o.path = dir.path() / "store.db";
      o.clock = clock;
      o.actor = "tester";
      return o;
    };
    testing::CertFactory factory;
    const SecretBytes pw = test::pw("x");
    std::string active_fp;
    std::string superseded_fp;
    std::string forced_fp;
    {
      auto store = Store::create(options(), vault::KeySource::key_file(dir.path() / "store.key"));
      Organisation org;
      org.cvr = "12345674";
      org.name = "Kunde";
      (void)store->add_organisation(org);
      (void)store->add_mailbox(Mailbox{"mb@kunde.dk", "", "12345674", {}, {}});
      auto put = [&](const testing::LeafSpec& spec, ImportOptions io, bool fail) {
        const Certificate leaf = factory.leaf(spec);
        io.report = passing(leaf);
        if (fail) {
          io.report->verdict = CheckStatus::fail;
          io.report->checks = {{"chain", CheckStatus::fail, "untrusted"}};
          io.force = true;
        }
        return store->import(factory.bundle(leaf), leaf.der(), pw, io).fingerprint;
      };
      superseded_fp = put(leaf_until("old", days(20)), into("mb@kunde.dk"), false);
      active_fp = put(leaf_until("new", days(45), 1000), into("mb@kunde.dk"), false);
      forced_fp = put(leaf_until("forced", days(800)), {}, true);
    }
    {
      // Back to what the previous release wrote: schema 2, no lifecycle tables.
      testing::RawSqlite raw((dir.path() / "store.db").string());
      testing::to_schema_4_layout(raw);
      testing::key_header_to_schema_3(raw);
      raw.exec("DROP TABLE lifecycle_counters; DROP TABLE deliveries; DROP TABLE sinks; DROP TABLE events;"
               "DROP TABLE lifecycle_pending; DROP TABLE lifecycle; DROP TABLE renewal_policies;"
               "DELETE FROM schema_version WHERE version >= 3;");
    }
    clock->set(kT0);
    auto store = Store::open(options());
    CHECK(store->info().schema_version == Store::current_schema_version());
    CHECK(store->check_integrity().ok());
    TrackedQuery all;
    all.active_only = false;
    const auto tracked = Lifecycle(*store).tracked(all);
    REQUIRE(tracked.size() == 3);
    for (const auto& t : tracked) CHECK(t.effective_not_after == t.not_after);
    Lifecycle lifecycle(*store);
    const CheckResult r = lifecycle.check(kT0);
    std::set<std::string> got;
    for (const Event& e : r.emitted) got.insert(std::string(to_string(e.kind)) + ":" + e.certificate.fingerprint);
    // The active one's current stage, the forced one's failure; the old supersession is history.
    CHECK(got == std::set<std::string>{"expiring:" + active_fp, "validation_failed:" + forced_fp});
    (void)superseded_fp;
    // Opening again runs nothing twice.
    store.reset();
    auto again = Store::open(options());
    CHECK(Lifecycle(*again).events().size() == 2);
    CHECK(again->check_integrity().ok());
  }

  TEST_CASE("simulation: 1,000 certificates over two years of daily checks with renewals, revocations and a 10-day gap") {
    // A simple model of the specification, independent of the implementation, says which events
    // each day's check must emit; the real store and lifecycle run the same two years.
    constexpr int kMailboxes = 1000;
    constexpr int kOrgs = 50;
    constexpr int kDays = 730;
    constexpr int kGapFirst = 300;  // the job does not run on days 300..309
    constexpr int kGapLast = 309;
    constexpr int kPolicyChangeDay = 400;
    Env env;
    std::mt19937_64 rng(2025);
    auto uniform = [&](std::int64_t lo, std::int64_t hi) {
      return lo + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(hi - lo + 1));
    };
    auto cvr_of = [](int org) { return std::to_string(10000000 + org); };
    auto mailbox_of = [](int m) { return "mb" + std::to_string(m) + "@org" + std::to_string(m % kOrgs) + ".dk"; };
    for (int o = 0; o < kOrgs; ++o) env.org(cvr_of(o), {{"IT", "it@org" + std::to_string(o) + ".dk", "renewals"}});
    for (int m = 0; m < kMailboxes; ++m) env.mailbox(mailbox_of(m), cvr_of(m % kOrgs));
    const RenewalPolicy custom{{120, 60, 30, 7, 0}};
    const RenewalPolicy changed{{100, 50, 20, 10, 5, 2, 0}};
    for (int o = 3; o < kOrgs; o += 10) Lifecycle(*env.store).set_renewal_policy(std::string_view(cvr_of(o)), custom);
    auto policy_of = [&](int org, int day) {
      if ((org == 7 || org == 17) && day >= kPolicyChangeDay) return changed;
      return org % 10 == 3 ? custom : RenewalPolicy::defaults();
    };
    (void)Lifecycle(*env.store).add_sink(callback_sink("collector"));

    // ---- the model ----
    enum class St { active, superseded, revoked, retired };
    struct Cert {
      std::string fp;
      int mailbox = 0;
      Time not_after{};
      St status = St::active;
      std::optional<int> announced;
      std::set<EventKind> pending;
    };
    enum class Act { renew, revoke, retire, replace };
    struct Action {
      Act act;
      int mailbox;
      std::size_t cert;
    };
    std::vector<Cert> certs;
    std::vector<std::size_t> current(kMailboxes);
    std::map<int, std::vector<Action>> actions;

    // What the customer will do about a certificate imported on `day`.
    auto plan = [&](std::size_t ci, int day) {
      const std::int64_t end_day = (to_unix(certs[ci].not_after) - to_unix(kT0)) / kDay;
      const int b = static_cast<int>(rng() % 100);
      std::int64_t when = 0;
      Act act = Act::renew;
      if (b < 60) {
        when = end_day - uniform(10, 80);  // in good time
      } else if (b < 80) {
        when = end_day - uniform(0, 9);  // at the last moment
      } else if (b < 90) {
        when = end_day + uniform(1, 20);  // after it expired
      } else if (b < 95) {
        return;  // never: it expires and stays in use
      } else {
        act = b < 97 ? Act::retire : Act::revoke;
        when = end_day - uniform(100, 400);
      }
      when = std::max<std::int64_t>(when, day + 1);
      if (when < kDays) actions[static_cast<int>(when)].push_back({act, certs[ci].mailbox, ci});
    };

    // Imports into the store and applies what the store does to the model (lineage by mailbox).
    auto import_cert = [&](int mailbox, Time at, Time not_before, Time not_after, bool forced) {
      env.clock->set(at);
      testing::LeafSpec spec = leaf_until("mb" + std::to_string(mailbox), not_after);
      spec.not_before = to_unix(not_before);
      const Certificate leaf = env.factory.leaf(spec);
      ImportOptions o = into(mailbox_of(mailbox));
      o.report = passing(leaf);
      if (forced) {
        o.report->verdict = CheckStatus::fail;
        o.report->checks = {{"chain", CheckStatus::fail, "no path to a trusted root"}};
        o.force = true;
      }
      const ImportResult r = env.store->import(env.factory.bundle(leaf), leaf.der(), env.password, o);
      REQUIRE(r.outcome == ImportOutcome::imported);
      if (!certs.empty()) {
        Cert& prev = certs[current[static_cast<std::size_t>(mailbox)]];
        if (prev.status == St::active && prev.mailbox == mailbox && prev.fp != r.fingerprint) {
          prev.status = St::superseded;
          prev.pending.erase(EventKind::validation_failed);
          prev.pending.insert(EventKind::renewed);
        }
      }
      Cert c;
      c.fp = r.fingerprint;
      c.mailbox = mailbox;
      c.not_after = not_after;
      if (forced) c.pending.insert(EventKind::validation_failed);
      certs.push_back(std::move(c));
      current[static_cast<std::size_t>(mailbox)] = certs.size() - 1;
      return certs.size() - 1;
    };
    auto renew = [&](int mailbox, int day) {
      const Time at = days(day) + std::chrono::hours(2);
      const std::int64_t validity = rng() % 3 == 0 ? 365 : 1095;
      const Time not_after = at + std::chrono::days(validity) + std::chrono::seconds(uniform(0, kDay));
      const std::size_t ci = import_cert(mailbox, at, at - std::chrono::hours(1), not_after, rng() % 33 == 0);
      plan(ci, day);
    };

    // Day -1: the inventory as it stands, not_after spread over the next three years.
    for (int m = 0; m < kMailboxes; ++m) {
      const Time not_after = kT0 + std::chrono::seconds(uniform(3600, 1095 * kDay));
      const std::size_t ci =
          import_cert(m, days(-1), not_after - std::chrono::days(1095), not_after, false);
      plan(ci, 0);
    }

    Lifecycle lifecycle(*env.store);
    Collector collector;
    lifecycle.register_callback("collector", collector.callback());
    using Row = std::tuple<int, std::string, std::string, int, long long>;  // day, fp, kind, stage, days left
    std::vector<Row> expected;
    std::vector<Row> actual;
    std::vector<std::string> emitted_ids;
    std::size_t pruned = 0;
    Time last_check{};

    for (int d = 0; d < kDays; ++d) {
      // Customers and operators act before the morning check, on gap days too.
      const std::vector<Action> today = actions[d];
      for (const Action& a : today) {
        Cert& c = certs[a.cert];
        switch (a.act) {
          case Act::renew:
            if (current[static_cast<std::size_t>(a.mailbox)] == a.cert) renew(a.mailbox, d);
            break;
          case Act::revoke:
          case Act::retire: {
            if (c.status != St::active) break;
            env.clock->set(days(d) + std::chrono::hours(3));
            const bool revoke = a.act == Act::revoke;
            (void)env.store->set_status(c.fp, revoke ? CertificateStatus::revoked : CertificateStatus::retired);
            c.status = revoke ? St::revoked : St::retired;
            c.pending.erase(EventKind::validation_failed);
            if (revoke) c.pending.insert(EventKind::revoked);
            if (d + 3 < kDays) actions[d + 3].push_back({Act::replace, a.mailbox, a.cert});
            break;
          }
          case Act::replace:
            renew(a.mailbox, d);
            break;
        }
      }
      if (d == kPolicyChangeDay) {
        for (int o : {7, 17}) Lifecycle(*env.store).set_renewal_policy(std::string_view(cvr_of(o)), changed);
      }
      if (d >= kGapFirst && d <= kGapLast) continue;

      const Time tc = days(d) + std::chrono::hours(6);
      for (Cert& c : certs) {
        const auto left = static_cast<long long>(std::floor(static_cast<double>(to_unix(c.not_after) - to_unix(tc)) / kDay));
        for (EventKind k : c.pending) expected.emplace_back(d, c.fp, std::string(to_string(k)), -1, left);
        c.pending.clear();
        if (c.status != St::active) continue;
        std::optional<int> stage;  // the smallest threshold whose moment has come
        for (int t : policy_of(c.mailbox % kOrgs, d).thresholds_days) {
          if (to_unix(tc) >= to_unix(c.not_after) - t * kDay) stage = t;
        }
        if (stage && (!c.announced || *stage < *c.announced)) {
          expected.emplace_back(d, c.fp, *stage == 0 ? "expired" : "expiring", *stage, left);
          c.announced = stage;
        }
      }
      const CheckResult r = lifecycle.check(tc);
      pruned += r.pruned;
      last_check = tc;
      for (const Event& e : r.emitted) {
        actual.emplace_back(d, e.certificate.fingerprint, std::string(to_string(e.kind)), e.stage_days.value_or(-1),
                            e.days_left);
        CHECK(e.id == event_id(e.certificate.fingerprint, e.kind, e.stage_days));
        emitted_ids.push_back(e.id);
      }
      CHECK(r.failed() == 0);
    }

    std::sort(expected.begin(), expected.end());
    std::sort(actual.begin(), actual.end());
    CHECK(actual.size() == expected.size());
    const auto mismatch = std::mismatch(expected.begin(), expected.end(), actual.begin(), actual.end());
    if (mismatch.first != expected.end() || mismatch.second != actual.end()) {
      auto describe = [](const std::vector<Row>& v, std::vector<Row>::const_iterator it) {
        if (it == v.end()) return std::string("(end)");
        return "day " + std::to_string(std::get<0>(*it)) + " " + std::get<1>(*it).substr(0, 12) + " " + std::get<2>(*it) +
               " stage " + std::to_string(std::get<3>(*it)) + " days left " + std::to_string(std::get<4>(*it));
      };
      FAIL_CHECK("first difference: expected " << describe(expected, mismatch.first) << ", got "
                                               << describe(actual, mismatch.second));
    }

    // No duplicate, none missed, each delivered once, the outbox holds exactly these.
    std::set<std::string> unique_ids(emitted_ids.begin(), emitted_ids.end());
    CHECK(unique_ids.size() == emitted_ids.size());
    // Two years of checks with the default retention (a year): the delivered events older than it
    // were pruned, the rest are exactly the emitted ones since.
    const std::vector<OutboxEvent> left = Lifecycle(*env.store).events();
    CHECK(pruned > 0);
    CHECK(left.size() + pruned == emitted_ids.size());
    for (const OutboxEvent& e : left) {
      CHECK(unique_ids.count(e.id) == 1);
      CHECK(e.created_at >= last_check - kDefaultOutboxRetention);
    }
    CHECK(collector.received.size() == emitted_ids.size());
    std::set<std::string> received;
    for (const Event& e : collector.received) received.insert(e.id);
    CHECK(received == unique_ids);

    // The scenario exercised what it claims to.
    std::map<std::string, int> by_kind;
    for (const Row& row : expected) ++by_kind[std::get<2>(row)];
    MESSAGE("simulation: " << expected.size() << " events: " << by_kind["expiring"] << " expiring, " << by_kind["expired"]
                           << " expired, " << by_kind["renewed"] << " renewed, " << by_kind["revoked"] << " revoked, "
                           << by_kind["validation_failed"] << " validation_failed");
    CHECK(expected.size() > 3000);
    CHECK(by_kind["renewed"] > 500);
    CHECK(by_kind["expired"] > 50);
    CHECK(by_kind["revoked"] > 5);
    CHECK(by_kind["validation_failed"] > 5);
    int after_gap = 0;
    int renewed_in_gap = 0;
    for (const Row& row : expected) {
      if (std::get<0>(row) != kGapLast + 1) continue;
      if (std::get<2>(row) == "renewed") ++renewed_in_gap;
      if (std::get<3>(row) >= 0) ++after_gap;
    }
    MESSAGE("the day after the gap: " << after_gap << " threshold events, " << renewed_in_gap << " renewals");
    CHECK(after_gap > 10);
    CHECK(renewed_in_gap > 5);
    // After the gap some certificate crossed two thresholds and heard only of the second.
    std::map<std::string, std::vector<Row>> per_cert;
    for (const Row& row : expected) per_cert[std::get<1>(row)].push_back(row);
    int skipped = 0;
    for (const auto& [fp, rows] : per_cert) {
      for (std::size_t i = 1; i < rows.size(); ++i) {
        if (std::get<0>(rows[i]) == kGapLast + 1 && std::get<3>(rows[i]) >= 0 && std::get<3>(rows[i - 1]) >= 0) {
          const auto& t = RenewalPolicy::defaults().thresholds_days;
          const auto prev = std::find(t.begin(), t.end(), std::get<3>(rows[i - 1]));
          if (prev != t.end() && prev + 1 != t.end() && *(prev + 1) != std::get<3>(rows[i])) ++skipped;
        }
      }
    }
    MESSAGE(skipped << " certificates crossed more than one threshold during the gap");
    CHECK(skipped > 0);
    CHECK(env.store->check_integrity().ok());
  }
  TEST_CASE("the last-run rule: min_interval counts from the end of the last run on the store, in whole seconds of the wall clock") {
    Env env;
    (void)env.put(leaf_until("interval", days(20)));
    const auto wall = std::make_shared<FixedClock>(kT0 + std::chrono::hours(5));
    StoreOptions so = env.options();
    so.wall_clock = wall;
    auto store = Store::open(std::move(so));
    Lifecycle lifecycle(*store);
    CHECK_FALSE(lifecycle.last_check().has_value());
    CheckOptions o;
    o.min_interval = std::chrono::seconds(60);
    o.node = "gw1";
    // No record yet: it runs, and records its start, end and node.
    const CheckResult first = lifecycle.check(kT0, o);
    CHECK_FALSE(first.skipped);
    CHECK(first.skip_reason.empty());
    CHECK(first.emitted.size() == 1);
    const Time ended = wall->now();
    std::optional<CheckRun> last = lifecycle.last_check();
    REQUIRE(last.has_value());
    CHECK(last->node == "gw1");
    CHECK(last->started == ended);
    CHECK(last->ended == ended);
    CHECK(last->success);
    // 59 s after its end: skipped (whatever `now` the check is for), saying when and where.
    wall->set(ended + std::chrono::seconds(59));
    o.node = "gw2";
    const CheckResult early = lifecycle.check(kT0 + std::chrono::days(30), o);
    CHECK(early.skipped);
    CHECK(early.emitted.empty());
    CHECK(early.evaluated == 0);
    CHECK(early.skip_reason == "the last check ended at " + format_rfc3339(ended) +
                                   " on node gw1 (59 s ago); the minimum interval is 60 s");
    CHECK(lifecycle.last_check()->node == "gw1");  // a skipped check records nothing
    // 60 s after: it runs (on gw2), and the next interval counts from its end.
    wall->set(ended + std::chrono::seconds(60));
    const CheckResult due = lifecycle.check(kT0 + std::chrono::days(30), o);
    CHECK_FALSE(due.skipped);
    CHECK(due.emitted.size() == 1);  // expired meanwhile
    last = lifecycle.last_check();
    REQUIRE(last.has_value());
    CHECK(last->node == "gw2");
    CHECK(last->ended == ended + std::chrono::seconds(60));
    // A check without the rule runs regardless, and counts as the last run too.
    wall->set(ended + std::chrono::seconds(61));
    o.min_interval = std::chrono::seconds(0);
    o.node.clear();
    CHECK_FALSE(lifecycle.check(kT0 + std::chrono::days(30), o).skipped);
    last = lifecycle.last_check();
    REQUIRE(last.has_value());
    CHECK(last->node.find(':') != std::string::npos);  // "<host name>:<process id>"
    CHECK(last->ended == ended + std::chrono::seconds(61));
    // A node whose clock lags behind the record's: within the interval it waits ...
    o.min_interval = std::chrono::seconds(60);
    wall->set(ended + std::chrono::seconds(61) - std::chrono::seconds(59));
    CHECK(lifecycle.check(kT0 + std::chrono::days(30), o).skipped);
    // ... but a record more than the interval in the future does not block every check.
    wall->set(ended + std::chrono::seconds(61) - std::chrono::seconds(60));
    CHECK_FALSE(lifecycle.check(kT0 + std::chrono::days(30), o).skipped);
    // A negative interval is a mistake.
    o.min_interval = std::chrono::seconds(-1);
    CHECK_THROWS_AS((void)lifecycle.check(kT0, o), Error);
  }
}
