// Online revocation (dpgcert/revocation.hpp) against real local servers started here on 127.0.0.1
// and stopped by PID: `openssl ocsp` as responder (the CA's delegated responder, and a rogue one),
// and tests/support/crl_server.py serving CRLs and misbehaving on request (stale, oversized,
// chunked, redirected, slow). The PKI is made by tests/support/make_revocation_pki.sh with the
// servers' ports in the leaves' CDP and AIA.
#include "delivery/local_server.hpp"
#include "store/backends.hpp"
#include "support/test_support.hpp"

#include <dpgcert/lifecycle.hpp>
#include <dpgcert/pkcs12.hpp>
#include <dpgcert/revocation.hpp>
#include <dpgcert/store.hpp>
#include <dpgcert/validation.hpp>
#include <dpgcert/validation_json.hpp>

#include <nlohmann/json.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <memory>
#include <utility>

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

/// One Lab for the test cases that leave its servers running (all of them: the leaves `dead` and
/// `ocsp-dead` name 127.0.0.1:1, where nothing listens, for the cases without an answer), made on
/// first use: each Lab costs seconds of openssl runs.
Lab& shared_lab() {
  static Lab lab;
  return lab;
}

std::string failure_of(const std::optional<RevocationError>& e) { return e ? std::string(to_string(e->kind)) + ": " + e->reason : "none"; }

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

/// Online validation input for the lab's PKI: generic profile, chain scope, the lab's roots.
ValidationInput online_input(const Lab& lab, std::vector<Certificate> anchors, std::vector<Certificate> intermediates = {}) {
  ValidationInput input;
  input.at = now();
  input.anchors = TrustAnchors::from_certificates(std::move(anchors));
  input.intermediates = std::move(intermediates);
  input.policy = ValidationPolicy::generic();
  input.policy.revocation = RevocationScope::chain;
  input.policy.set_min_key_bits(0);
  input.revocation_mode = RevocationMode::online;
  input.online.fetch.timeout = std::chrono::milliseconds(3000);
  input.online.fetch.connect_timeout = std::chrono::milliseconds(1000);
  (void)lab;
  return input;
}

const RevocationStatus* status_at(const ValidationReport& r, int depth) {
  for (const auto& st : r.revocation) {
    if (st.depth == depth) return &st;
  }
  return nullptr;
}

/// NIST PKITS through the online path: the PKITS certificates name no CRL distribution point, so
/// their CRLs are served by the local CRL server (tests/support/crl_server.py over the PKITS crls
/// folder) and named through OnlineRevocationOptions::crl_urls (by the issuer's name); everything
/// else is what RevocationMode::online does for any path: each certificate below the anchor asked
/// about with its issuer, the CRL fetched over HTTP and checked (issuer, signature, scope, times)
/// before it is believed, then looked up.
struct PkitsOnline {
  fs::path pkits;
  TempDir dir{"dpgcert-pkits-online"};
  std::unique_ptr<LocalServer> server;
  std::string base;  ///< http://127.0.0.1:PORT/

  explicit PkitsOnline(const fs::path& shared) : pkits(shared / "vectors" / "pkits") {
    server = std::make_unique<LocalServer>(std::vector<std::string>{"/usr/bin/python3", support("crl_server.py"), "--dir", (pkits / "crls").string(),
                                                                    "--log", (dir.path() / "requests.log").string()});
    base = "http://127.0.0.1:" + std::to_string(server->port()) + "/";
  }
  [[nodiscard]] Certificate cert(const std::string& name) const {
    return Certificate::from_der(test::read_file(pkits / "certs" / (name + ".crt")));
  }
  /// The PKITS settings (at 2011-04-15, the Trust Anchor, chain scope, revocation data required),
  /// `cas` as the untrusted pool, CRLs only: the CRL of a certificate's issuer by the issuer's CN
  /// (the Trust Anchor's unless `crl_by_issuer_cn` names another).
  [[nodiscard]] ValidationInput input(const std::vector<std::string>& cas, std::map<std::string, std::string> crl_by_issuer_cn) const {
    ValidationInput in;
    in.at = parse_rfc3339("2011-04-15T00:00:00Z");
    in.anchors = TrustAnchors::from_certificates({cert("TrustAnchorRootCertificate")});
    for (const auto& c : cas) in.intermediates.push_back(cert(c));
    in.policy = ValidationPolicy::generic();
    in.policy.set_min_key_bits(1024);
    in.policy.weak_signature_digests.clear();
    in.policy.revocation = RevocationScope::chain;
    in.policy.require_revocation_data = true;
    in.revocation_mode = RevocationMode::online;
    in.online.use_ocsp = false;
    crl_by_issuer_cn.emplace("Trust Anchor", "TrustAnchorRootCRL.crl");
    in.online.crl_urls = [b = base, crl_by_issuer_cn](const Certificate& subject) {
      const auto cn = subject.issuer().first("CN");
      const auto it = cn ? crl_by_issuer_cn.find(*cn) : crl_by_issuer_cn.end();
      return it == crl_by_issuer_cn.end() ? std::vector<std::string>{} : std::vector<std::string>{b + it->second};
    };
    return in;
  }
};

}  // namespace

TEST_SUITE("revocation_online") {
  TEST_CASE("CRL fetch - checked CRLs, conditional GET, and each failure with its own reason") {
    Lab& lab = shared_lab();
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
    Lab& lab = shared_lab();
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
    Lab& lab = shared_lab();
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
    Lab& lab = shared_lab();
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

  TEST_CASE("validate online - OCSP first, the CRL as fallback, every certificate of the path, offline by default") {
    Lab& lab = shared_lab();
    const Certificate ca = lab.get("ca");

    // Offline is the default: nothing is asked, and without CRLs revocation is not checked.
    {
      ValidationInput offline = online_input(lab, {ca});
      offline.revocation_mode = RevocationMode::offline;
      const std::size_t before = lab.requests();
      const ValidationReport r = validate(lab.get("revoked"), offline);
      CHECK(r.status(check_id::revocation) == CheckStatus::skip);
      CHECK(r.revocation.empty());
      CHECK(lab.requests() == before);
      CHECK(ValidationInput{}.revocation_mode == RevocationMode::offline);
    }

    const ValidationInput input = online_input(lab, {ca});
    // Good: the OCSP responder the AIA names answers; the CRL server is not asked.
    {
      const std::size_t before = lab.requests();
      const ValidationReport r = validate(lab.get("good"), input);
      CAPTURE(to_text(r));
      CHECK(r.status(check_id::revocation) == CheckStatus::pass);
      REQUIRE(r.revocation.size() == 1);  // the anchor is trusted as given
      CHECK(r.revocation[0].status == "good");
      CHECK(r.revocation[0].source == "ocsp");
      CHECK(r.revocation[0].url == lab.ocsp_url);
      CHECK(lab.requests() == before);
      const nlohmann::json j = to_json(r);
      REQUIRE(j.contains("revocation"));
      CHECK(j["revocation"][0]["source"] == "ocsp");
    }
    // Revoked: OCSP says so, with the reason.
    {
      const ValidationReport r = validate(lab.get("revoked"), input);
      CAPTURE(to_text(r));
      CHECK(r.status(check_id::revocation) == CheckStatus::fail);
      CHECK_FALSE(r.ok());
      REQUIRE(r.revocation.size() == 1);
      CHECK(r.revocation[0].status == "revoked");
      CHECK(r.revocation[0].reason == RevocationReason::key_compromise);
      CHECK(contains(r.find(check_id::revocation)->message, "keyCompromise"));
    }
    // Unknown to the responder: the CRL decides (the leaf is not on it), the OCSP answer is kept as a problem.
    {
      const ValidationReport r = validate(lab.get("unknown"), input);
      CAPTURE(to_text(r));
      CHECK(r.status(check_id::revocation) == CheckStatus::pass);
      REQUIRE(r.revocation.size() == 1);
      CHECK(r.revocation[0].source == "crl");
      CHECK(r.revocation[0].url == lab.crl_base + "/ca.crl");
      REQUIRE(r.revocation[0].problems.size() == 1);
      CHECK(contains(r.revocation[0].problems[0].reason, "does not know"));
    }
    // CRLs only (use_ocsp off): the revoked leaf is found on the CRL.
    {
      ValidationInput crl_only = input;
      crl_only.online.use_ocsp = false;
      const ValidationReport r = validate(lab.get("revoked"), crl_only);
      CHECK(r.status(check_id::revocation) == CheckStatus::fail);
      REQUIRE(r.revocation.size() == 1);
      CHECK(r.revocation[0].source == "crl");
    }

    // A revoked issuing CA fails its leaf; a good path passes with an answer for each certificate.
    const Certificate top = lab.get("top");
    {
      const ValidationReport r = validate(lab.get("leaf-mid-revoked"), online_input(lab, {top}, {lab.get("mid-revoked")}));
      CAPTURE(to_text(r));
      CHECK(r.status(check_id::revocation) == CheckStatus::fail);
      REQUIRE(r.revocation.size() == 2);
      CHECK(status_at(r, 0)->status == "good");
      CHECK(status_at(r, 1)->status == "revoked");
      CHECK(status_at(r, 1)->reason == RevocationReason::ca_compromise);
      CHECK(contains(r.find(check_id::revocation)->message, "CA 'Revocation Test mid-revoked' was revoked"));
      // Only the leaf in scope: the revoked CA is not asked about.
      ValidationInput leaf_only = online_input(lab, {top}, {lab.get("mid-revoked")});
      leaf_only.policy.revocation = RevocationScope::leaf;
      const ValidationReport l = validate(lab.get("leaf-mid-revoked"), leaf_only);
      CHECK(l.status(check_id::revocation) == CheckStatus::pass);
      CHECK(l.revocation.size() == 1);
    }
    {
      const ValidationReport r = validate(lab.get("leaf-mid-good"), online_input(lab, {top}, {lab.get("mid-good")}));
      CAPTURE(to_text(r));
      CHECK(r.status(check_id::revocation) == CheckStatus::pass);
      REQUIRE(r.revocation.size() == 2);
      CHECK(status_at(r, 1)->source == "crl");
      CHECK(status_at(r, 1)->url == lab.crl_base + "/top.crl");
    }
    // The policy asks for no revocation check: nothing is asked.
    {
      ValidationInput none = input;
      none.policy.revocation = RevocationScope::none;
      const std::size_t before = lab.requests();
      CHECK(validate(lab.get("revoked"), none).status(check_id::revocation) == CheckStatus::skip);
      CHECK(lab.requests() == before);
    }
    CHECK(parse_revocation_mode("online") == RevocationMode::online);
    CHECK_THROWS_AS((void)parse_revocation_mode("sometimes"), Error);
  }

  TEST_CASE("validate online - no answer is a warning with the reason, or a failure when revocation data is required") {
    Lab& lab = shared_lab();
    const Certificate ca = lab.get("ca");
    ValidationInput input = online_input(lab, {ca});
    // The responder ocsp-dead's AIA names does not answer: the CRL does, and the OCSP failure is
    // kept as a problem.
    {
      const ValidationReport r = validate(lab.get("ocsp-dead"), input);
      CAPTURE(to_text(r));
      CHECK(r.status(check_id::revocation) == CheckStatus::pass);
      REQUIRE(r.revocation.size() == 1);
      CHECK(r.revocation[0].source == "crl");
      REQUIRE(r.revocation[0].problems.size() == 1);
      CHECK(r.revocation[0].problems[0].kind == RevocationFailure::transport);
      CHECK(r.revocation[0].problems[0].url == "http://127.0.0.1:1/");
      CHECK(contains(r.find(check_id::revocation)->message, "after transport"));
    }
    // Neither answers (dead's AIA and CDP): never a silent pass.
    {
      const ValidationReport r = validate(lab.get("dead"), input);
      CAPTURE(to_text(r));
      CHECK(r.status(check_id::revocation) == CheckStatus::warn);
      CHECK(r.verdict == CheckStatus::warn);
      CHECK(r.ok());
      REQUIRE(r.revocation.size() == 1);
      CHECK(r.revocation[0].status == "unavailable");
      CHECK(r.revocation[0].problems.size() == 2);  // OCSP, then the CRL
      const std::string& msg = r.find(check_id::revocation)->message;
      CHECK(contains(msg, "could not be checked"));
      CHECK(contains(msg, "transport"));
      CHECK(contains(msg, "http://127.0.0.1:1/ca.crl"));
      input.policy.require_revocation_data = true;
      const ValidationReport required = validate(lab.get("dead"), input);
      CHECK(required.status(check_id::revocation) == CheckStatus::fail);
      CHECK_FALSE(required.ok());
      CHECK(contains(required.find(check_id::revocation)->message, "requires revocation data"));
      // Required, and every certificate answers: a pass still.
      CHECK(validate(lab.get("good"), input).status(check_id::revocation) == CheckStatus::pass);
    }
    // A forged CRL is no answer either, though it lists the certificate: not believed, and said so.
    {
      ValidationInput forged = online_input(lab, {ca});
      forged.online.use_ocsp = false;
      const std::string bad = lab.crl_base + "/badsig.crl";
      forged.online.crl_urls = [bad](const Certificate&) { return std::vector<std::string>{bad}; };
      const ValidationReport r = validate(lab.get("revoked"), forged);
      CAPTURE(to_text(r));
      CHECK(r.status(check_id::revocation) == CheckStatus::warn);
      REQUIRE(r.revocation.size() == 1);
      REQUIRE(r.revocation[0].problems.size() == 1);
      CHECK(r.revocation[0].problems[0].kind == RevocationFailure::bad_signature);
      CHECK(contains(r.find(check_id::revocation)->message, "bad_signature"));
    }
    // A stale answer is no answer either: the CRL is past its nextUpdate two days on, and so is
    // the responder's answer (one day ahead).
    {
      ValidationInput later = online_input(lab, {ca});
      later.at = now() + std::chrono::hours(48);
      const ValidationReport r = validate(lab.get("good"), later);
      CAPTURE(to_text(r));
      CHECK(r.status(check_id::revocation) == CheckStatus::warn);
      REQUIRE(r.revocation.size() == 1);
      REQUIRE(r.revocation[0].problems.size() == 2);
      CHECK(r.revocation[0].problems[0].kind == RevocationFailure::stale);
      CHECK(r.revocation[0].problems[1].kind == RevocationFailure::stale);
    }
  }

  TEST_CASE("fetched CRLs have their own size limit (Limits::max_crl_bytes), separate from max_input_bytes") {
    Lab& lab = shared_lab();
    const Certificate ca = lab.get("ca");
    const Certificate good = lab.get("good");
    const std::string script = "bash " + test::shell_quote(support("make_revocation_pki.sh")) + " " +
                               test::shell_quote(lab.dir.path().string()) + " big";
    REQUIRE(std::system(script.c_str()) == 0);
    const std::string url = lab.crl_base + "/ca-big.crl";
    const auto size = fs::file_size(lab.dir.path() / "ca-big.crl");
    REQUIRE(size > Limits{}.max_input_bytes);  // a file this large is refused as input...
    CHECK(Limits{}.max_crl_bytes >= 8u * 1024 * 1024);
    const CrlFetch fetched = fetch_crl(url, good, ca, now());  // ...but fetched as a CRL
    REQUIRE_MESSAGE(fetched.ok(), failure_of(fetched.error));
    CHECK(fetched.crl->revoked().size() == 52000);
    CHECK_THROWS_AS((void)Crl::from_der(fetched.crl->der()), Error);  // the input limit still applies to files

    Limits small;
    small.max_crl_bytes = 512 * 1024;
    const Context tight(small);
    const CrlFetch refused = fetch_crl(url, good, ca, now(), {}, {}, tight);
    REQUIRE(refused.error.has_value());
    CHECK(refused.error->kind == RevocationFailure::too_large);
    // A per-call FetchOptions::max_crl_bytes overrides the context's.
    FetchOptions roomy;
    roomy.max_crl_bytes = 4 * 1024 * 1024;
    CHECK(fetch_crl(url, good, ca, now(), roomy, {}, tight).ok());
  }

  TEST_CASE("import with online revocation - revoked refused, CRLs kept in the store, no answer refused only when required") {
    Lab& lab = shared_lab();
    const Certificate ca = lab.get("ca");
    const SecretBytes password = SecretBytes::from_text("test");
    auto bytes_of = [&](const std::string& name) { return test::read_file(lab.dir.path() / (name + ".p12")); };
    for (const std::string& backend : testing::testable_backends()) {
      CAPTURE(backend);
      TempDir dir;
      const auto location = testing::location_for(backend, dir);
      REQUIRE(location.has_value());
      const fs::path key = dir.path() / "store.key";
      StoreOptions so;
      so.location = *location;
      so.actor = "tester";
      so.unlock.key_file = key;
      auto store = Store::create(std::move(so), vault::KeySource::key_file(key));
      ImportOptions o;
      o.validation = online_input(lab, {ca});
      o.validation.online.use_ocsp = false;  // CRLs, so the store keeps them
      o.source = "test";

      const auto good = bytes_of("good");
      const ImportResult imported = store->import(load_pkcs12(good, password), good, password, o);
      REQUIRE(imported.report.has_value());
      CAPTURE(to_text(*imported.report));
      CHECK(imported.outcome == ImportOutcome::imported);
      CHECK(imported.report->status(check_id::revocation) == CheckStatus::pass);
      // The CRL was kept: asked for again, it comes from the store.
      const std::size_t before = lab.requests();
      CHECK(store->fetch_crl(lab.crl_base + "/ca.crl", lab.get("good"), ca).from_store);
      CHECK(lab.requests() == before);

      const auto revoked = bytes_of("revoked");
      const ImportResult refused = store->import(load_pkcs12(revoked, password), revoked, password, o);
      CHECK(refused.outcome == ImportOutcome::refused);
      REQUIRE(refused.report.has_value());
      CHECK(refused.report->status(check_id::revocation) == CheckStatus::fail);
      CHECK(lab.requests() == before);  // the kept CRL answered
      ImportOptions forced = o;
      forced.force = true;
      const ImportResult in = store->import(load_pkcs12(revoked, password), revoked, password, forced);
      REQUIRE(in.outcome == ImportOutcome::imported);
      CHECK(store->find(in.fingerprint)->status == CertificateStatus::revoked);
    }
    // Without an answer (dead's responder and CRL are not there): imported with a warning; refused
    // with require_revocation_data; a forced import of it stays active (nothing says it is revoked).
    TempDir dir;
    const fs::path key = dir.path() / "store.key";
    StoreOptions so;
    so.location = "sqlite:" + (dir.path() / "s.db").string();
    so.unlock.key_file = key;
    auto store = Store::create(std::move(so), vault::KeySource::key_file(key));
    ImportOptions o;
    o.validation = online_input(lab, {ca});
    const auto dead = bytes_of("dead");
    const ImportResult warned = store->import(load_pkcs12(dead, password), dead, password, o);
    REQUIRE(warned.report.has_value());
    CHECK(warned.report->status(check_id::revocation) == CheckStatus::warn);
    CHECK(warned.outcome == ImportOutcome::imported);
    TempDir dir2;
    StoreOptions so2;
    so2.location = "sqlite:" + (dir2.path() / "s.db").string();
    so2.unlock.key_file = dir2.path() / "store.key";
    store = Store::create(std::move(so2), vault::KeySource::key_file(dir2.path() / "store.key"));
    o.validation.policy.require_revocation_data = true;
    const ImportResult refused = store->import(load_pkcs12(dead, password), dead, password, o);
    CHECK(refused.outcome == ImportOutcome::refused);
    o.force = true;
    const ImportResult forced = store->import(load_pkcs12(dead, password), dead, password, o);
    REQUIRE(forced.outcome == ImportOutcome::imported);
    CHECK(store->find(forced.fingerprint)->status == CertificateStatus::active);
  }

  TEST_CASE("check refreshes revocation - revoked found and announced, at most once per interval, failures reported") {
    const SecretBytes password = SecretBytes::from_text("test");
    Lab& lab = shared_lab();
    const Certificate ca = lab.get("ca");
    const std::vector<std::string> backends = testing::testable_backends();
    for (const std::string& backend : backends) {
      CAPTURE(backend);
      TempDir dir;
      const auto location = testing::location_for(backend, dir);
      REQUIRE(location.has_value());
      const fs::path key = dir.path() / "store.key";
      auto clock = std::make_shared<FixedClock>(now());
      StoreOptions so;
      so.location = *location;
      so.actor = "tester";
      so.clock = clock;
      so.unlock.key_file = key;
      auto store = Store::create(std::move(so), vault::KeySource::key_file(key));
      // Imported offline (no revocation data): both active.
      std::vector<std::string> fps;
      for (const std::string name : {"good", "revoked", "dead"}) {
        const auto bytes = test::read_file(lab.dir.path() / (name + ".p12"));
        ImportOptions o;
        o.validation = online_input(lab, {ca});
        o.validation.revocation_mode = RevocationMode::offline;
        const ImportResult r = store->import(load_pkcs12(bytes, password), bytes, password, o);
        REQUIRE(r.outcome == ImportOutcome::imported);
        CHECK(store->find(r.fingerprint)->status == CertificateStatus::active);
        fps.push_back(r.fingerprint);
      }
      Lifecycle lifecycle(*store);
      (void)lifecycle.add_sink(callback_sink("cb"));
      std::vector<Event> received;
      lifecycle.register_callback("cb", [&](const Event& e) {
        received.push_back(e);
        return SinkResult::ok();
      });

      // Not asked for: no refresh.
      const CheckResult plain = lifecycle.check(clock->now());
      CHECK_FALSE(plain.revocation.ran);
      CHECK_FALSE(lifecycle.last_revocation_refresh().has_value());

      CheckOptions co;
      co.revocation.enabled = true;
      co.revocation.anchors = TrustAnchors::from_certificates({ca});
      co.revocation.interval = std::chrono::hours(6);
      const CheckResult first = lifecycle.check(clock->now(), co);
      REQUIRE(first.revocation.ran);
      CHECK(first.revocation.checked == 3);
      CHECK(first.revocation.good == 1);
      REQUIRE(first.revocation.revoked.size() == 1);
      CHECK(first.revocation.revoked[0] == fps[1]);
      CHECK(store->find(fps[1])->status == CertificateStatus::revoked);
      CHECK(store->find(fps[0])->status == CertificateStatus::active);
      // No answer for `dead` (its responder and CRL are not there): in the result with the
      // reasons, the certificate left as it is, the others checked all the same.
      REQUIRE(first.revocation.problems.size() == 1);
      CHECK(first.revocation.problems[0].fingerprint == fps[2]);
      CHECK(first.revocation.problems[0].errors.size() == 2);
      CHECK(first.revocation.problems[0].errors[0].kind == RevocationFailure::transport);
      CHECK(contains(first.revocation.problems[0].message, "could not be checked"));
      CHECK(store->find(fps[2])->status == CertificateStatus::active);
      // The revoked event comes from this same check, and the change is audited.
      const auto revoked_event = std::find_if(first.emitted.begin(), first.emitted.end(),
                                              [](const Event& e) { return e.kind == EventKind::revoked; });
      REQUIRE(revoked_event != first.emitted.end());
      CHECK(revoked_event->certificate.fingerprint == fps[1]);
      CHECK(first.worst == Severity::critical);
      CHECK(std::any_of(received.begin(), received.end(), [](const Event& e) { return e.kind == EventKind::revoked; }));
      const auto log = store->audit_log();
      CHECK(std::any_of(log.begin(), log.end(), [&](const AuditEntry& a) {
        return a.action == "certificate.status" && a.object_key == fps[1] && contains(a.details, "revocation refresh");
      }));
      const nlohmann::json j = to_json(first.revocation);
      CHECK(j["revocation"]["checked"] == 3);
      CHECK(j["revocation"]["problems"][0]["errors"][1]["kind"] == "transport");
      CHECK(j["revocation"]["revoked"][0] == fps[1]);

      // Within the interval: not again, and nothing asked.
      const std::size_t before = lab.requests();
      clock->advance(std::chrono::hours(1));
      const CheckResult soon = lifecycle.check(clock->now(), co);
      CHECK_FALSE(soon.revocation.ran);
      CHECK(contains(soon.revocation.skip_reason, "next is due"));
      CHECK(lab.requests() == before);

      // The store's setting turns it on for every check (no option), with its interval.
      CHECK_THROWS_AS(lifecycle.set_revocation_refresh(std::chrono::seconds(10)), Error);
      lifecycle.set_revocation_refresh(std::chrono::hours(2), "tester");
      CHECK(lifecycle.revocation_refresh() == std::chrono::seconds(7200));
      clock->advance(std::chrono::hours(2));
      CheckOptions by_setting;
      by_setting.revocation.anchors = TrustAnchors::from_certificates({ca});
      const CheckResult scheduled = lifecycle.check(clock->now(), by_setting);
      CHECK(scheduled.revocation.ran);
      CHECK(scheduled.revocation.checked == 2);  // only the active ones
      CHECK(scheduled.revocation.good == 1);
      CHECK(scheduled.revocation.problems.size() == 1);
      CHECK(scheduled.worst >= Severity::warning);
    }
  }

  TEST_CASE("NIST PKITS 4.4.2 fails through chain-wide online revocation") {
    DPGCERT_REQUIRE_SHARED(shared);
    const PkitsOnline pk(shared);
    {
      // 4.4.1 for contrast: a valid path passes the same way.
      const ValidationInput in = pk.input({"GoodCACert"}, {{"Good CA", "GoodCACRL.crl"}});
      const ValidationReport ok = validate(pk.cert("ValidCertificatePathTest1EE"), in);
      CAPTURE(to_text(ok));
      CHECK(ok.status(check_id::revocation) == CheckStatus::pass);
      CHECK(ok.revocation.size() == 2);
    }
    {
      ValidationInput in = pk.input({"GoodCACert", "RevokedsubCACert"},
                                    {{"Good CA", "GoodCACRL.crl"}, {"Revoked subCA", "RevokedsubCACRL.crl"}});
      const Certificate ee = pk.cert("InvalidRevokedCATest2EE");
      const ValidationReport chain = validate(ee, in);
      CAPTURE(to_text(chain));
      CHECK(chain.status(check_id::revocation) == CheckStatus::fail);
      CHECK_FALSE(chain.ok());
      CHECK(contains(chain.find(check_id::revocation)->message, "CA 'Revoked subCA' was revoked"));
      REQUIRE(chain.revocation.size() == 3);
      CHECK(status_at(chain, 0)->status == "good");
      CHECK(status_at(chain, 1)->status == "revoked");
      in.policy.revocation = RevocationScope::leaf;  // the leaf itself is not revoked
      CHECK(validate(ee, in).ok());
    }
  }

  // PKITS 4.4.19-4.4.21: CA1 and CA2 sign certificates with one key and CRLs with another, certified
  // by a CRL-signing certificate of the same name that the Trust Anchor (the CAs' own issuer) issued,
  // given with the intermediates as PKITS passes its helpers. The CRL is believed when that signer is
  // certified as such and is itself not revoked (by the Trust Anchor's own CRL).
  TEST_CASE("NIST PKITS 4.4.19-4.4.21 - CRLs signed by a separate CRL-signing key, and its certificate checked") {
    DPGCERT_REQUIRE_SHARED(shared);
    const PkitsOnline pk(shared);
    const std::vector<std::string> ca1{"SeparateCertificateandCRLKeysCertificateSigningCACert", "SeparateCertificateandCRLKeysCRLSigningCert"};
    const std::map<std::string, std::string> ca1_crl{{"Separate Certificate and CRL Keys CA1", "SeparateCertificateandCRLKeysCRL.crl"}};
    const std::string ca1_url = pk.base + "SeparateCertificateandCRLKeysCRL.crl";
    {
      // 4.4.19: good, from the separately signed CRL; the CA itself from the Trust Anchor's CRL.
      const ValidationReport r = validate(pk.cert("ValidSeparateCertificateandCRLKeysTest19EE"), pk.input(ca1, ca1_crl));
      CAPTURE(to_text(r));
      CHECK(r.ok());
      CHECK(r.status(check_id::revocation) == CheckStatus::pass);
      REQUIRE(r.revocation.size() == 2);
      const RevocationStatus* leaf = status_at(r, 0);
      CHECK(leaf->status == "good");
      CHECK(leaf->source == "crl");
      CHECK(leaf->url == ca1_url);
      CHECK(leaf->problems.empty());
      CHECK(contains(leaf->crl_signer, "CN=Separate Certificate and CRL Keys CA1"));
      CHECK(leaf->crl_signer_serial == "66");
      CHECK(status_at(r, 1)->status == "good");
      CHECK(status_at(r, 1)->crl_signer.empty());  // the Trust Anchor signs its CRL itself
      CHECK(contains(r.find(check_id::revocation)->message, "separate CRL signer"));
      const nlohmann::json j = to_json(r);
      CHECK(j["revocation"][0]["crl_signer"]["serial"] == "66");
      CHECK_FALSE(j["revocation"][1].contains("crl_signer"));
    }
    {
      // 4.4.20: the leaf is on the separately signed CRL.
      const ValidationReport r = validate(pk.cert("InvalidSeparateCertificateandCRLKeysTest20EE"), pk.input(ca1, ca1_crl));
      CAPTURE(to_text(r));
      CHECK_FALSE(r.ok());
      CHECK(r.status(check_id::revocation) == CheckStatus::fail);
      CHECK(contains(r.find(check_id::revocation)->message, "the certificate was revoked"));
      REQUIRE(status_at(r, 0) != nullptr);
      CHECK(status_at(r, 0)->status == "revoked");
      CHECK(status_at(r, 0)->reason == RevocationReason::key_compromise);
      CHECK(status_at(r, 0)->url == ca1_url);
    }
    {
      // 4.4.21: CA2's CRL signer is revoked on the Trust Anchor's CRL, so CA2's CRL is unusable: the
      // leaf has no revocation data (a failure, as it is required), for that named reason.
      const ValidationInput in = pk.input(
          {"SeparateCertificateandCRLKeysCA2CertificateSigningCACert", "SeparateCertificateandCRLKeysCA2CRLSigningCert"},
          {{"Separate Certificate and CRL Keys CA2", "SeparateCertificateandCRLKeysCA2CRL.crl"}});
      const ValidationReport r = validate(pk.cert("InvalidSeparateCertificateandCRLKeysTest21EE"), in);
      CAPTURE(to_text(r));
      CHECK_FALSE(r.ok());
      CHECK(r.status(check_id::revocation) == CheckStatus::fail);
      const RevocationStatus* leaf = status_at(r, 0);
      REQUIRE(leaf != nullptr);
      CHECK(leaf->status == "unavailable");
      REQUIRE(leaf->problems.size() == 1);
      CHECK(leaf->problems[0].kind == RevocationFailure::crl_signer_revoked);
      CHECK(contains(leaf->problems[0].reason, "'CN=Separate Certificate and CRL Keys CA2,O=Test Certificates 2011,C=US' (serial 68)"));
      CHECK(contains(leaf->problems[0].reason, "reason: keyCompromise"));
      CHECK(contains(leaf->problems[0].reason, "TrustAnchorRootCRL.crl"));
      const std::string& msg = r.find(check_id::revocation)->message;
      CHECK(contains(msg, "crl_signer_revoked"));
      CHECK(contains(msg, "separate CRL signer"));
      CHECK(status_at(r, 1)->status == "good");  // CA2 itself is not revoked
      // Without require_revocation_data: a warning with the same reason, never a pass.
      ValidationInput lenient = in;
      lenient.policy.require_revocation_data = false;
      const ValidationReport w = validate(pk.cert("InvalidSeparateCertificateandCRLKeysTest21EE"), lenient);
      CHECK(w.status(check_id::revocation) == CheckStatus::warn);
      CHECK(contains(w.find(check_id::revocation)->message, "crl_signer_revoked"));
    }
    {
      // The signer's own status cannot be had (the Trust Anchor's CRL is not served): the CRL is
      // not believed, as crl_signer_unchecked (the leaf's scope alone: the CA is not asked about).
      ValidationInput in = pk.input(ca1, {{"Separate Certificate and CRL Keys CA1", "SeparateCertificateandCRLKeysCRL.crl"},
                                          {"Trust Anchor", "missing.crl"}});
      in.policy.revocation = RevocationScope::leaf;
      const ValidationReport r = validate(pk.cert("ValidSeparateCertificateandCRLKeysTest19EE"), in);
      CAPTURE(to_text(r));
      CHECK(r.status(check_id::revocation) == CheckStatus::fail);
      REQUIRE(r.revocation.size() == 1);
      REQUIRE(r.revocation[0].problems.size() == 1);
      CHECK(r.revocation[0].problems[0].kind == RevocationFailure::crl_signer_unchecked);
      CHECK(contains(r.revocation[0].problems[0].reason, "http_status"));
    }
    {
      // Without the signer's certificate the CRL is refused as before: not the CA's key.
      const ValidationReport r = validate(pk.cert("ValidSeparateCertificateandCRLKeysTest19EE"),
                                          pk.input({"SeparateCertificateandCRLKeysCertificateSigningCACert"}, ca1_crl));
      CAPTURE(to_text(r));
      CHECK(r.status(check_id::revocation) == CheckStatus::fail);
      REQUIRE_FALSE(status_at(r, 0)->problems.empty());
      CHECK(status_at(r, 0)->problems[0].kind == RevocationFailure::wrong_issuer);
    }
    {
      // Certificates for the signer's very key that are no CRL signer of CA1: one its issuer made
      // without cRLSign, one with cRLSign from another CA. CA1's CRL verifies with that key, and is
      // still refused, with the reason for each.
      TempDir fakes{"dpgcert-pkits-signers"};
      REQUIRE(std::system(("bash " + test::shell_quote(support("make_pkits_crl_signers.sh")) + " " +
                           test::shell_quote(fakes.path().string()) + " " + test::shell_quote(pk.pkits.string()))
                              .c_str()) == 0);
      const std::vector<std::string> names{"nocrlsign", "other-ca"};
      for (const std::string& name : names) {
        CAPTURE(name);
        ValidationInput in = pk.input({"SeparateCertificateandCRLKeysCertificateSigningCACert"}, ca1_crl);
        in.intermediates.push_back(cert(fakes.path() / (name + ".pem")));
        in.at = now();  // the made certificates are valid from now; the PKITS ones until 2030
        const ValidationReport r = validate(pk.cert("ValidSeparateCertificateandCRLKeysTest19EE"), in);
        CAPTURE(to_text(r));
        CHECK(r.status(check_id::revocation) == CheckStatus::fail);
        const RevocationStatus* leaf = status_at(r, 0);
        REQUIRE(leaf != nullptr);
        CHECK(leaf->status == "unavailable");
        CHECK(leaf->crl_signer.empty());
        REQUIRE(leaf->problems.size() == 1);
        CHECK(leaf->problems[0].kind == RevocationFailure::wrong_issuer);
        CHECK(contains(leaf->problems[0].reason, "is no CRL signer of the CA"));
        CHECK(contains(leaf->problems[0].reason, name == "nocrlsign" ? "cRLSign" : "issued neither by the CA nor by the CA's issuer"));
        CHECK(status_at(r, 1)->status == "good");  // the CA, on the Trust Anchor's CRL
      }
    }
  }

  TEST_CASE("dpgcert verify --online and --require-revocation") {
    DPGCERT_REQUIRE_TOOL();
    Lab& lab = shared_lab();
    const fs::path d = lab.dir.path();
    const std::string common = " --profile generic --min-key-bits 0 --min-days 0 --trust " + test::shell_quote((d / "ca.pem").string());
    auto verify = [&](const std::string& leaf, const std::string& extra) {
      return test::run_tool("verify " + test::shell_quote((d / (leaf + ".pem")).string()) + common + extra);
    };
    // Offline (the default): no revocation data, nothing asked.
    const std::size_t before = lab.requests();
    const auto offline = verify("revoked", " --json");
    CHECK(offline.exit_code == 0);
    CHECK(lab.requests() == before);
    const auto revoked = verify("revoked", " --online --json");
    CHECK(revoked.exit_code == 2);
    const nlohmann::json j = nlohmann::json::parse(revoked.out);
    REQUIRE(j.contains("revocation"));
    CHECK(j["revocation"][0]["status"] == "revoked");
    CHECK(verify("good", " --online").exit_code == 0);
    const auto warned = verify("dead", " --online --revocation-timeout 1 --json");
    CHECK(warned.exit_code == 1);
    const nlohmann::json w = nlohmann::json::parse(warned.out);
    for (const auto& c : w["checks"]) {
      if (c["id"] != "revocation") continue;
      CHECK(c["status"] == "warn");
      CHECK(contains(c["message"].get<std::string>(), "could not be checked"));
    }
    CHECK(w["revocation"][0]["problems"].size() == 2);
    CHECK(verify("dead", " --online --require-revocation --revocation-timeout 1").exit_code == 2);

    // import --online and check --revocation through the tool. The test leaves are no OCES
    // certificates (the import's profile refuses them), so they go in with --force: offline the
    // revoked one is stored active, online revoked.
    TempDir sdir{"dpgcert-online-cli"};
    const std::string store = "--store " + test::shell_quote((sdir.path() / "s.db").string()) + " ";
    REQUIRE(test::run_tool(store + "store init --key-file " + test::shell_quote((sdir.path() / "s.key").string())).exit_code == 0);
    const fs::path pw = sdir.path() / "pw";
    std::ofstream(pw) << "test\n";
    auto import = [&](const std::string& name, const std::string& extra) {
      return test::run_tool(store + "import " + test::shell_quote((d / (name + ".p12")).string()) + " --password-file " +
                            test::shell_quote(pw.string()) + " --trust " + test::shell_quote((d / "ca.pem").string()) +
                            " --force --json" + extra);
    };
    const auto online = import("revoked", " --online");
    CHECK(online.exit_code == 0);
    CHECK(contains(online.out, "\"revoked\""));
    CHECK(import("good", "").exit_code == 0);
    auto listed = [&](const std::string& status) {
      const auto r = test::run_tool(store + "list --status " + status + " --json");
      return nlohmann::json::parse(r.out);
    };
    CHECK(listed("revoked").size() == 1);
    CHECK(listed("active").size() == 1);
    const auto checked = test::run_tool(store + "check --json --revocation --trust " + test::shell_quote((d / "ca.pem").string()));
    CAPTURE(checked.out);
    CAPTURE(checked.err);
    bool saw = false;
    std::istringstream lines(checked.out);
    for (std::string line; std::getline(lines, line);) {
      const nlohmann::json row = nlohmann::json::parse(line);
      if (!row.contains("revocation")) continue;
      saw = true;
      CHECK(row["revocation"]["ran"] == true);
      CHECK(row["revocation"]["checked"] == 1);
      CHECK(row["revocation"]["good"] == 1);
    }
    CHECK(saw);
    // Within the day: not again, and no line.
    const auto again = test::run_tool(store + "check --json --revocation --trust " + test::shell_quote((d / "ca.pem").string()));
    CHECK_FALSE(contains(again.out, "\"revocation\":{"));
    CHECK(verify("good", " --online --revocation-timeout 0").exit_code == 64);
  }
}
