// Online revocation (dpgcert/revocation.hpp) against real local servers started here on 127.0.0.1
// and stopped by PID: `openssl ocsp` as responder (the CA's delegated responder, and a rogue one),
// and tests/support/crl_server.py serving CRLs and misbehaving on request (stale, oversized,
// chunked, redirected, slow). The PKI is made by tests/support/make_revocation_pki.sh with the
// servers' ports in the leaves' CDP and AIA.
#include "delivery/local_server.hpp"
#include "store/backends.hpp"
#include "support/test_support.hpp"

#include <dpgcert/revocation.hpp>
#include <dpgcert/store.hpp>
#include <dpgcert/validation.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>

using namespace dpgcert;
namespace fs = std::filesystem;

namespace {

using test::LocalServer;
using test::TempDir;

std::string support(const std::string& name) { return (fs::path(DPGCERT_SOURCE_DIR) / "tests" / "support" / name).string(); }

Certificate cert(const fs::path& path) {
  const std::vector<fs::path> paths{path};
  return load_certificate_files(paths).at(0);
}

Time now() { return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()); }

/// The PKI, the CRL server and two OCSP responders (the CA's delegated one, with nextUpdate a day
/// ahead, and one whose signer has nothing to do with the CA).
struct Lab {
  TempDir dir{"dpgcert-revocation"};
  std::unique_ptr<LocalServer> crl_server;
  std::unique_ptr<LocalServer> ocsp;
  std::unique_ptr<LocalServer> rogue_ocsp;
  std::string crl_base;  ///< http://127.0.0.1:PORT
  std::string ocsp_url;
  std::string rogue_url;

  Lab() {
    const fs::path d = dir.path();
    const std::string script = "bash " + test::shell_quote(support("make_revocation_pki.sh")) + " " + test::shell_quote(d.string());
    REQUIRE(std::system((script + " cas").c_str()) == 0);
    crl_server = std::make_unique<LocalServer>(
        std::vector<std::string>{"/usr/bin/python3", support("crl_server.py"), "--dir", d.string(), "--log", (d / "requests.log").string()});
    auto responder = [&d](const std::string& signer) {
      return std::make_unique<LocalServer>(std::vector<std::string>{
          "/usr/bin/openssl", "ocsp", "-port", "0", "-index", (d / "index.txt").string(), "-CA", (d / "ca.pem").string(),
          "-rsigner", (d / (signer + ".pem")).string(), "-rkey", (d / (signer + ".key")).string(), "-ndays", "1"});
    };
    ocsp = responder("responder");
    rogue_ocsp = responder("rogue-responder");
    crl_base = "http://127.0.0.1:" + std::to_string(crl_server->port());
    ocsp_url = "http://127.0.0.1:" + std::to_string(ocsp->port()) + "/";
    rogue_url = "http://127.0.0.1:" + std::to_string(rogue_ocsp->port()) + "/";
    REQUIRE(std::system((script + " leaves " + std::to_string(crl_server->port()) + " " + std::to_string(ocsp->port())).c_str()) == 0);
  }
  [[nodiscard]] Certificate get(const std::string& name) const { return cert(dir.path() / (name + ".pem")); }
  /// How many requests the CRL server has had.
  [[nodiscard]] std::size_t requests() const {
    std::ifstream in(dir.path() / "requests.log");
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);) ++n;
    return n;
  }
};

std::string failure_of(const std::optional<RevocationError>& e) { return e ? std::string(to_string(e->kind)) + ": " + e->reason : "none"; }

}  // namespace

TEST_SUITE("revocation_online") {
  TEST_CASE("CRL fetch - checked CRLs, conditional GET, and each failure with its own reason") {
    Lab lab;
    const Certificate ca = lab.get("ca");
    const Certificate good = lab.get("good");
    const Certificate revoked = lab.get("revoked");
    const Time at = now();
    FetchOptions options;
    options.max_crl_bytes = 64 * 1024;
    options.timeout = std::chrono::milliseconds(1000);
    options.connect_timeout = std::chrono::milliseconds(1000);

    // From the CDP in the certificate (DER), the revoked leaf listed with its reason.
    const CrlFetch f = fetch_crl_for(revoked, ca, at, options);
    REQUIRE_MESSAGE(f.ok(), failure_of(f.error));
    REQUIRE(f.crl.has_value());
    CHECK(f.url == lab.crl_base + "/ca.crl");
    const auto entry = f.crl->find(revoked.serial());
    REQUIRE(entry.has_value());
    CHECK(entry->reason == RevocationReason::key_compromise);
    CHECK_FALSE(f.crl->find(good.serial()).has_value());
    CHECK_FALSE(f.validators.etag.empty());
    CHECK_FALSE(f.validators.last_modified.empty());

    // Conditional GET: the same ETag brings a 304 and no CRL; so does Last-Modified alone.
    const CrlFetch again = fetch_crl(f.url, good, ca, at, options, f.validators);
    CHECK_MESSAGE(again.ok(), failure_of(again.error));
    CHECK(again.not_modified);
    CHECK_FALSE(again.crl.has_value());
    const CrlFetch by_date = fetch_crl(f.url, good, ca, at, options, CrlValidators{"", f.validators.last_modified});
    CHECK(by_date.not_modified);
    const CrlFetch changed = fetch_crl(f.url, good, ca, at, options, CrlValidators{"\"other\"", ""});
    CHECK(changed.crl.has_value());

    // PEM as well as DER.
    CHECK_MESSAGE(fetch_crl(lab.crl_base + "/ca.pem.crl", good, ca, at, options).crl.has_value(), "PEM CRL");

    // Redirects: 3 followed, a 4th refused; a redirect to another scheme refused.
    const CrlFetch three = fetch_crl(lab.crl_base + "/redirect/3/ca.crl", good, ca, at, options);
    CHECK_MESSAGE(three.ok(), failure_of(three.error));
    auto kind_of = [&](const std::string& path, const FetchOptions& o, Time t) {
      const CrlFetch r = fetch_crl(lab.crl_base + path, good, ca, t, o);
      CHECK_FALSE(r.crl.has_value());
      REQUIRE_MESSAGE(r.error.has_value(), path);
      CHECK_FALSE(r.error->reason.empty());
      CHECK(r.error->url == lab.crl_base + path);
      return r.error->kind;
    };
    CHECK(kind_of("/redirect/4/ca.crl", options, at) == RevocationFailure::too_many_redirects);
    CHECK(kind_of("/to-ftp/ca.crl", options, at) == RevocationFailure::bad_url);

    // Size caps: announced by Content-Length, and chunked without one.
    CHECK(kind_of("/big/200000", options, at) == RevocationFailure::too_large);
    CHECK(kind_of("/chunked/200000", options, at) == RevocationFailure::too_large);
    FetchOptions roomy = options;
    roomy.max_crl_bytes = 300000;
    CHECK(kind_of("/chunked/200000", roomy, at) == RevocationFailure::malformed);  // under the cap, read whole: not a CRL

    // Checked before believed.
    CHECK(kind_of("/stale.crl", options, at) == RevocationFailure::stale);
    CHECK(kind_of("/ca.crl", options, at + std::chrono::hours(24 * 3)) == RevocationFailure::stale);
    CHECK(kind_of("/ca.crl", options, at - std::chrono::hours(3)) == RevocationFailure::not_yet_valid);
    CHECK(kind_of("/rogue.crl", options, at) == RevocationFailure::wrong_issuer);
    CHECK(kind_of("/badsig.crl", options, at) == RevocationFailure::bad_signature);
    CHECK(kind_of("/ca-idp-ca.crl", options, at) == RevocationFailure::wrong_scope);
    CHECK(kind_of("/missing.crl", options, at) == RevocationFailure::http_status);
    CHECK(fetch_crl("http://127.0.0.1:1/ca.crl", good, ca, at, options).error->kind == RevocationFailure::transport);
    CHECK(fetch_crl("file:///etc/passwd", good, ca, at, options).error->kind == RevocationFailure::bad_url);
    CHECK(fetch_crl_for(ca, ca, at, options).error->kind == RevocationFailure::no_url);

    // A slow server: the total timeout ends the fetch within +-20 % of the setting.
    const auto start = std::chrono::steady_clock::now();
    CHECK(kind_of("/slow/4/ca.crl", options, at) == RevocationFailure::timeout);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    CHECK(ms >= 800);
    CHECK(ms <= 1200);
  }

  TEST_CASE("OCSP - good, revoked, unknown, and a rogue responder, a replayed nonce, a stale answer refused") {
    Lab lab;
    const Certificate ca = lab.get("ca");
    const Time at = now();
    FetchOptions options;
    options.timeout = std::chrono::milliseconds(5000);

    const OcspAnswer good = query_ocsp(lab.get("good"), ca, at, options);  // the URL from the AIA
    REQUIRE_MESSAGE(good.ok(), failure_of(good.error));
    CHECK(good.url == lab.ocsp_url);
    CHECK(good.status == OcspStatus::good);
    CHECK(good.nonce_checked);
    REQUIRE(good.next_update.has_value());
    CHECK(*good.next_update > at);

    const OcspAnswer revoked = query_ocsp(lab.get("revoked"), ca, at, options);
    REQUIRE_MESSAGE(revoked.ok(), failure_of(revoked.error));
    CHECK(revoked.status == OcspStatus::revoked);
    CHECK(revoked.reason == RevocationReason::key_compromise);
    REQUIRE(revoked.revocation_time.has_value());
    CHECK(*revoked.revocation_time < at);

    const OcspAnswer unknown = query_ocsp(lab.get("unknown"), ca, at, options);
    REQUIRE_MESSAGE(unknown.ok(), failure_of(unknown.error));
    CHECK(unknown.status == OcspStatus::unknown);

    // A responder whose signer the CA never authorised.
    const OcspAnswer rogue = query_ocsp(lab.get("good"), ca, at, options, lab.rogue_url);
    REQUIRE(rogue.error.has_value());
    CHECK(rogue.error->kind == RevocationFailure::unauthorised_responder);
    CHECK(rogue.error->reason.find("not issued by") != std::string::npos);

    // A replayed answer: recorded by the openssl client (its own nonce), served for our request.
    const fs::path d = lab.dir.path();
    const std::string record = "openssl ocsp -issuer " + test::shell_quote((d / "ca.pem").string()) + " -cert " +
                               test::shell_quote((d / "good.pem").string()) + " -url " + lab.ocsp_url + " -noverify -respout " +
                               test::shell_quote((d / "replay.der").string()) + " >/dev/null 2>&1";
    REQUIRE(std::system(record.c_str()) == 0);
    const OcspAnswer replay = query_ocsp(lab.get("good"), ca, at, options, lab.crl_base + "/replay/replay.der");
    REQUIRE(replay.error.has_value());
    CHECK(replay.error->kind == RevocationFailure::wrong_nonce);

    // Past nextUpdate (a day ahead) plus the skew.
    const OcspAnswer stale = query_ocsp(lab.get("good"), ca, at + std::chrono::hours(48), options);
    REQUIRE(stale.error.has_value());
    CHECK(stale.error->kind == RevocationFailure::stale);

    // Not there at all, and no responder named.
    CHECK(query_ocsp(lab.get("good"), ca, at, options, "http://127.0.0.1:1/").error->kind == RevocationFailure::transport);
    CHECK(query_ocsp(ca, ca, at, options).error->kind == RevocationFailure::no_url);
  }

  TEST_CASE("CRLs kept in the store - reused while current, asked for conditionally when stale, copied with the store") {
    Lab lab;
    const Certificate ca = lab.get("ca");
    const Certificate good = lab.get("good");
    const std::string url = lab.crl_base + "/ca.crl";
    for (const std::string& backend : testing::testable_backends()) {
      CAPTURE(backend);
      TempDir dir;
      const auto location = testing::location_for(backend, dir);
      REQUIRE(location.has_value());
      const fs::path key = dir.path() / "store.key";
      auto clock = std::make_shared<FixedClock>(now());
      auto options_at = [&](const std::string& where) {
        StoreOptions o;
        o.location = where;
        o.actor = "tester";
        o.clock = clock;
        o.unlock.key_file = key;
        return o;
      };
      auto store = Store::create(options_at(*location), vault::KeySource::key_file(key));

      const std::size_t before = lab.requests();
      const CrlFetch first = store->fetch_crl(url, good, ca);
      REQUIRE_MESSAGE(first.ok(), failure_of(first.error));
      CHECK_FALSE(first.from_store);
      CHECK(lab.requests() == before + 1);

      // Current: from the store, the server not asked.
      const CrlFetch second = store->fetch_crl(url, good, ca);
      REQUIRE(second.ok());
      CHECK(second.from_store);
      REQUIRE(second.crl.has_value());
      CHECK(*second.crl == *first.crl);
      CHECK(lab.requests() == before + 1);

      // Another issuer's key never reuses it (and the server's CRL fails that issuer's check).
      const CrlFetch other = store->fetch_crl(url, good, lab.get("rogue-ca"));
      REQUIRE(other.error.has_value());
      CHECK(other.error->kind == RevocationFailure::wrong_issuer);
      CHECK(lab.requests() == before + 2);

      // Past nextUpdate: asked again with the ETag; the server has nothing newer (304), so stale.
      clock->advance(std::chrono::hours(48));
      const CrlFetch stale = store->fetch_crl(url, good, ca);
      CHECK(lab.requests() == before + 3);
      REQUIRE(stale.error.has_value());
      CHECK(stale.error->kind == RevocationFailure::stale);
      CHECK(stale.error->reason.find("no newer CRL") != std::string::npos);

      // The kept CRL goes along with store copy.
      clock->advance(-std::chrono::hours(48));
      TempDir copy_dir;
      const std::string dest = "sqlite:" + (copy_dir.path() / "copy.db").string();
      (void)store->copy_to(options_at(dest));
      auto copy = Store::open(options_at(dest));
      const CrlFetch copied = copy->fetch_crl(url, good, ca);
      REQUIRE(copied.ok());
      CHECK(copied.from_store);
      CHECK(lab.requests() == before + 3);
    }
  }

  TEST_CASE("CRLs for a whole path, fetched, fail a revoked leaf in validate() - a missing CRL is a named problem") {
    Lab lab;
    const Certificate ca = lab.get("ca");
    const Time at = now();
    ValidationPolicy policy = ValidationPolicy::generic();
    policy.revocation = RevocationScope::chain;
    policy.set_min_key_bits(0);
    for (const std::string name : {"good", "revoked"}) {
      CAPTURE(name);
      const Certificate leaf = lab.get(name);
      const std::vector<Certificate> chain{leaf, ca};
      const ChainCrls fetched = fetch_chain_crls(chain, at);
      CHECK(fetched.problems.empty());
      REQUIRE(fetched.crls.size() == 1);  // the root names no distribution point
      ValidationInput input;
      input.at = at;
      input.anchors = TrustAnchors::from_certificates({ca});
      input.crls = fetched.crls;
      input.policy = policy;
      const ValidationReport report = validate(leaf, input);
      const Check* revocation = nullptr;
      for (const Check& c : report.checks) {
        if (c.id == check_id::revocation) revocation = &c;
      }
      REQUIRE(revocation != nullptr);
      CHECK_MESSAGE(revocation->status == (name == "good" ? CheckStatus::pass : CheckStatus::fail), revocation->message);
    }
    // The rogue CA as the issuer: the CRL at the leaf's CDP is not its, and the problem names the leaf.
    const std::vector<Certificate> wrong{lab.get("good"), lab.get("rogue-ca")};
    const ChainCrls bad = fetch_chain_crls(wrong, at);
    CHECK(bad.crls.empty());
    REQUIRE(bad.problems.size() == 1);
    CHECK(bad.problems[0].kind == RevocationFailure::wrong_issuer);
    CHECK(bad.problems[0].reason.find("Revocation Test good") != std::string::npos);
  }
}
