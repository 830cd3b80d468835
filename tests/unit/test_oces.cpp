#include "support/test_support.hpp"

#include "x509/certificate_impl.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/oces.hpp>
#include <dpgcert/oces_json.hpp>
#include <dpgcert/x509.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <openssl/x509.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <unistd.h>

using namespace dpgcert;
using namespace dpgcert::oces;
namespace fs = std::filesystem;

namespace {

/// A private temporary folder, removed at the end of the scope.
struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = fs::temp_directory_path() /
           ("dpgcert-oces-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

Certificate load_one(const fs::path& file) {
  auto certs = load_certificates(test::read_file(file));
  REQUIRE(certs.size() == 1);
  return certs.front();
}

/// The certificates of a PKCS#12 sample, by the openssl CLI (a third party): the leaf and the CAs.
struct P12Certs {
  std::optional<Certificate> leaf;
  std::vector<Certificate> cas;
};
P12Certs p12_certificates(const fs::path& p12, const std::string& password) {
  TempDir tmp;
  P12Certs out;
  for (const char* which : {"-clcerts", "-cacerts"}) {
    const fs::path pem = tmp.path / (std::string(which + 1) + ".pem");
    const std::string cmd = "openssl pkcs12 -legacy -nokeys " + std::string(which) + " -passin pass:" + password +
                            " -in " + shell_quote(p12.string()) + " -out " + shell_quote(pem.string()) +
                            " 2>/dev/null";
    REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, cmd);
    auto certs = load_certificates(test::read_file(pem));
    if (std::string_view(which) == "-clcerts") {
      REQUIRE(certs.size() == 1);
      out.leaf = certs.front();
    } else {
      out.cas = std::move(certs);
    }
  }
  return out;
}

/// What a sample must be identified as; empty strings mean "absent".
struct Expected {
  Generation generation = Generation::none;
  CertificateType type = CertificateType::none;
  Environment environment = Environment::unknown;
  std::string cvr;
  std::string id;  ///< uid/fid/rid/pid/uuid as the type says
  std::string organisation;
  std::string common_name;
  std::string email;
  std::string issuing_ca;
  std::string subject_serial;
};

/// The project's source folder: $DPGCERT_SOURCE_DIR, else found from this file's path.
fs::path source_dir() {
  if (const char* env = std::getenv("DPGCERT_SOURCE_DIR"); env != nullptr && *env != '\0') return env;
  return fs::path(__FILE__).parent_path().parent_path().parent_path();
}

std::optional<std::string> opt(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

void check_identity(const Identity& id, const Expected& e) {
  CHECK(id.generation == e.generation);
  CHECK(id.type == e.type);
  CHECK(id.environment == e.environment);
  CHECK(id.cvr == opt(e.cvr));
  if (e.cvr.empty()) {
    CHECK_FALSE(id.cvr_valid.has_value());
  } else {
    CHECK(id.cvr_valid == std::optional<bool>(cvr_checksum_valid(e.cvr)));
  }
  CHECK(id.id() == opt(e.id));
  // Only the field of the type is set.
  int ids = 0;
  for (const auto* f : {&id.uid, &id.fid, &id.rid, &id.pid, &id.uuid}) ids += f->has_value() ? 1 : 0;
  CHECK(ids == (e.id.empty() ? 0 : 1));
  CHECK(id.organisation == opt(e.organisation));
  CHECK(id.common_name == opt(e.common_name));
  CHECK(id.email == opt(e.email));
  CHECK(id.issuing_ca == opt(e.issuing_ca));
  CHECK(id.subject_serial == opt(e.subject_serial));
}

Expected oces2_test_leaf(CertificateType type, const std::string& id, const std::string& cn, const std::string& email,
                         const std::string& issuer) {
  const std::string marker = type == CertificateType::voces ? "UID" : type == CertificateType::foces ? "FID" : "RID";
  return Expected{Generation::oces2, type, Environment::test, "30808460", id, "NETS DANID A/S", cn, email, issuer,
                  "CVR:30808460-" + marker + ":" + id};
}

Expected ca(Generation g, Environment env, CertificateType type, const std::string& o, const std::string& cn,
            const std::string& issuer) {
  return Expected{g, type, env, "", "", o, cn, "", issuer, ""};
}

Expected oces3_org(Environment env, const std::string& cvr, const std::string& uuid, const std::string& o,
                   const std::string& cn) {
  return Expected{Generation::oces3, CertificateType::organisation, env, cvr, uuid, o, cn, "",
                  env == Environment::test ? "Den Danske Stat OCES udstedende-CA 1 (test)"
                                           : "Den Danske Stat OCES udstedende-CA 1",
                  "UI:DK-O:G:" + uuid};
}

constexpr auto o2 = Generation::oces2;
constexpr auto o3 = Generation::oces3;
constexpr auto prod = Environment::production;
constexpr auto test_env = Environment::test;
constexpr auto root_t = CertificateType::root_ca;
constexpr auto issuing_t = CertificateType::issuing_ca;

/// Every file under ../shared/samples/oces and what it is.
std::map<std::string, Expected> real_samples() {
  const std::string xix = "TRUST2408 Systemtest XIX CA";
  const std::string viii = "TRUST2408 Systemtest VIII CA";
  const std::string vii = "TRUST2408 Systemtest VII Primary CA";
  const std::string primary = "TRUST2408 OCES Primary CA";
  const auto foces = CertificateType::foces;
  const auto moces = CertificateType::moces;
  const auto voces = CertificateType::voces;
  const std::string mail = "tu-support@danid.dk";
  return {
      // OCES2 test PKCS#12 (password Test1234): the leaf.
      {"oces2-preprod/FOCES_gyldig.p12",
       oces2_test_leaf(foces, "94731315", "TU GENEREL FOCES gyldig (funktionscertifikat)", "", xix)},
      {"oces2-preprod/FOCES_spaerret.p12",
       oces2_test_leaf(foces, "45327473", "TU GENEREL FOCES spærret (funktionscertifikat)", "", xix)},
      {"oces2-preprod/FOCES_udloebet.p12",
       oces2_test_leaf(foces, "50912949", "TU GENEREL FOCES udløbet PremExp1d1h (funktionscertifikat)", "", viii)},
      {"oces2-preprod/MOCES_cpr_gyldig.p12", oces2_test_leaf(moces, "42634739", "TU GENEREL MOCES M CPR gyldig", mail, xix)},
      {"oces2-preprod/MOCES_gyldig.p12", oces2_test_leaf(moces, "45490598", "TU GENEREL MOCES gyldig", mail, xix)},
      {"oces2-preprod/MOCES_spaerret.p12", oces2_test_leaf(moces, "83408167", "TU GENEREL MOCES spærret", mail, xix)},
      {"oces2-preprod/MOCES_udloebet.p12",
       oces2_test_leaf(moces, "97517995", "TU GENEREL MOCES udløbet PremExp1d1h", mail, viii)},
      {"oces2-preprod/VOCES_avanceret.p12",
       oces2_test_leaf(voces, "25652084", "NETS DANID A/S - TU VOCES avanceret", "", xix)},
      {"oces2-preprod/VOCES_gyldig.p12", oces2_test_leaf(voces, "25351738", "NETS DANID A/S - TU VOCES gyldig", mail, xix)},
      {"oces2-preprod/VOCES_spaerret.p12",
       oces2_test_leaf(voces, "79909515", "NETS DANID A/S - TU VOCES spærret", mail, xix)},
      {"oces2-preprod/VOCES_udloebet.p12",
       oces2_test_leaf(voces, "76488567", "NETS DANID A/S - Udløbet PremExp1d1h", mail, viii)},
      // A DER root certificate saved under a .p12 name.
      {"oces2-preprod/system_vii.p12", ca(o2, test_env, root_t, "TRUST2408", vii, vii)},
      // OCES2 CAs.
      {"oces2-ca/PreproductionCertificateOcesII.pem", ca(o2, test_env, root_t, "TRUST2408", vii, vii)},
      {"oces2-ca/ProductionCertificateOcesII.pem", ca(o2, prod, root_t, "TRUST2408", primary, primary)},
      {"oces2-ca/TDCOCESSTEST2.cer", Expected{}},  // OCES1 (TDC) test root: not OCES2/OCES3
      {"oces2-ca/TRUST2408-OCES-CA-III.cert.pem", ca(o2, prod, issuing_t, "TRUST2408", "TRUST2408 OCES CA III", primary)},
      {"oces2-ca/TRUST2408-OCES-CA-IV.cert.der", ca(o2, prod, issuing_t, "TRUST2408", "TRUST2408 OCES CA IV", primary)},
      {"oces2-ca/TRUST2408-OCES-CA-IV.cert.pem", ca(o2, prod, issuing_t, "TRUST2408", "TRUST2408 OCES CA IV", primary)},
      {"oces2-ca/TRUST2408-OCES-CA-V.cert.der", ca(o2, prod, issuing_t, "TRUST2408", "TRUST2408 OCES CA V", primary)},
      {"oces2-ca/TRUST2408-OCES-CA-V.cert.pem", ca(o2, prod, issuing_t, "TRUST2408", "TRUST2408 OCES CA V", primary)},
      {"oces2-ca/TRUST2408-OCES-Primary-CA.cert.pem", ca(o2, prod, root_t, "TRUST2408", primary, primary)},
      {"oces2-ca/TRUST2408-Systemtest-VII-Primary-CA.cert.pem", ca(o2, test_env, root_t, "TRUST2408", vii, vii)},
      {"oces2-ca/TRUST2408-Systemtest-VIII-CA.cert.der", ca(o2, test_env, issuing_t, "TRUST2408", viii, vii)},
      {"oces2-ca/TRUST2408-Systemtest-VIII-CA.cert.pem", ca(o2, test_env, issuing_t, "TRUST2408", viii, vii)},
      {"oces2-ca/TRUST2408-Systemtest-XXII-CA.cert.pem",
       ca(o2, test_env, issuing_t, "TRUST2408", "TRUST2408 Systemtest XXII CA", vii)},
      {"oces2-ca/TRUST2408-Systemtest-XXXIV-CA.cer.pem",
       ca(o2, test_env, issuing_t, "TRUST2408", "TRUST2408 Systemtest XXXIV CA", vii)},
      {"oces2-ca/oces-issuing01-ca.cer", ca(o2, prod, issuing_t, "TRUST2408", "TRUST2408 OCES CA I", primary)},
      {"oces2-ca/oces-issuing02-ca.cer", ca(o2, prod, issuing_t, "TRUST2408", "TRUST2408 OCES CA II", primary)},
      // Issued by Systemtest IX Primary CA, which nobody has: OCES2 test by its name, issuer unknown.
      {"oces2-ca/systemtest10-ca.cer", ca(o2, test_env, issuing_t, "TRUST2408", "TRUST2408 Systemtest X CA", "")},
      // OCES3 CAs.
      {"oces3-ca/TEST-cti_Den_Danske_Stat_OCES_rod-CA.pem",
       ca(o3, test_env, root_t, "Den Danske Stat", "Den Danske Stat OCES rod-CA", "Den Danske Stat OCES rod-CA (test)")},
      {"oces3-ca/TEST-cti_Den_Danske_Stat_OCES_udstedende-CA_1.pem",
       ca(o3, test_env, issuing_t, "Den Danske Stat", "Den Danske Stat OCES udstedende-CA 1",
          "Den Danske Stat OCES rod-CA (test)")},
      {"oces3-ca/prod-Den_Danske_Stat_OCES_rod-CA.cer",
       ca(o3, prod, root_t, "Den Danske Stat", "Den Danske Stat OCES rod-CA", "Den Danske Stat OCES rod-CA")},
      {"oces3-ca/prod-Den_Danske_Stat_OCES_udstedende-CA_1.cer",
       ca(o3, prod, issuing_t, "Den Danske Stat", "Den Danske Stat OCES udstedende-CA 1", "Den Danske Stat OCES rod-CA")},
      // OCES3 organisation certificates ("EXTTEST" in a name does not make a test certificate: the issuer does).
      {"oces3-certs/ADG_EXTTEST_Adgangsstyring_2.cer",
       oces3_org(prod, "19435075", "9b499a4d-4374-41de-8540-504682ec1e46", "KOMBIT A/S", "ADG_EXTTEST_Adgangsstyring_2")},
      {"oces3-certs/SP_EXTTEST_Signing_1.cer",
       oces3_org(prod, "19435075", "9160962c-1494-4f77-9f02-b5e4657ec46f", "KOMBIT A/S", "SP_EXTTEST_Signing_1")},
      {"oces3-certs/emcs-b2b-server-prod-2023-04-27.pem",
       oces3_org(prod, "19552101", "bf204036-6f12-4d62-bcc7-5930618355c6", "Skatteforvaltningen",
                 "Skatteforvaltningen - B2B gateway TSE")},
      {"oces3-certs/emcs-b2b-server-prod-2025-02-24.pem",
       oces3_org(prod, "19552101", "caa765bd-2d71-44d5-9eb9-6c1b776d795d", "Skatteforvaltningen", "EMCS-SP-Prod")},
      {"oces3-certs/emcs-b2b-server-test-2023-04-11.pem",
       oces3_org(test_env, "19552101", "5e50b9bb-22fd-483d-baf7-fd077ed975f5", "Skatteforvaltningen",
                 "Skatteministeriet - B2B gateway TSE TEST")},
      {"oces3-certs/emcs-b2b-server-test-2024-11-13.pem",
       oces3_org(test_env, "19552101", "11d3c526-1b39-4507-97ea-a7b853c16721", "Skatteforvaltningen", "EMCS-SP-Test")},
      // An ordinary TLS certificate.
      {"oces3-certs/star.serviceplatformen.cer", Expected{}},
  };
}

bool is_pkcs12_sample(const std::string& rel) {
  return rel.ends_with(".p12") && rel.find("system_vii") == std::string::npos;
}

/// Verifies `cert`'s signature with `issuer`'s public key (OpenSSL as the referee).
bool signed_by(const Certificate& cert, const Certificate& issuer) {
  EVP_PKEY* key = X509_get0_pubkey(detail::native(issuer));
  return key != nullptr && X509_verify(detail::native(cert), key) == 1;
}

// ---- the synthetic PKI of tests/data (manifest.json) ----------------------------------------------

struct ManifestCert {
  std::string path;
  std::string role;  ///< "root", "issuing", "leaf"
  std::string hierarchy;
  Generation generation = Generation::none;
  Environment environment = Environment::unknown;
  CertificateType type = CertificateType::none;
  std::optional<std::string> cvr;
  std::optional<bool> cvr_valid;
  std::optional<std::string> id_kind, id;
  std::string notes;
};

std::optional<std::string> json_opt(const nlohmann::json& e, const char* key) {
  const auto it = e.find(key);
  if (it == e.end() || it->is_null()) return std::nullopt;
  return it->get<std::string>();
}

/// The certificate files (PEM, DER, bare base64) listed in the manifest.
std::vector<ManifestCert> manifest_certificates() {
  const auto manifest = nlohmann::json::parse(test::read_text(test::test_data_dir() / "manifest.json"));
  std::vector<ManifestCert> out;
  for (const auto& f : manifest.at("files")) {
    const std::string kind = f.at("kind").get<std::string>();
    if (kind != "cert_pem" && kind != "cert_der" && kind != "cert_b64") continue;
    ManifestCert m;
    m.path = f.at("path").get<std::string>();
    m.role = f.at("role").get<std::string>();
    m.hierarchy = f.at("hierarchy").get<std::string>();
    m.generation = parse_generation(f.at("generation").get<std::string>()).value();
    if (const auto env = json_opt(f, "environment")) m.environment = parse_environment(*env).value();
    if (m.role == "root") {
      m.type = CertificateType::root_ca;
    } else if (m.role == "issuing") {
      m.type = CertificateType::issuing_ca;
    } else if (const auto t = json_opt(f, "type")) {
      m.type = parse_certificate_type(*t).value();
    }
    if (m.generation == Generation::none) m.type = CertificateType::none;
    m.cvr = json_opt(f, "cvr");
    if (f.contains("cvr_valid") && !f["cvr_valid"].is_null()) m.cvr_valid = f["cvr_valid"].get<bool>();
    m.id_kind = json_opt(f, "id_kind");
    m.id = json_opt(f, "id");
    m.notes = json_opt(f, "notes").value_or("");
    out.push_back(std::move(m));
  }
  return out;
}

const std::optional<std::string>& id_field(const Identity& id, const std::string& kind) {
  if (kind == "uid") return id.uid;
  if (kind == "fid") return id.fid;
  if (kind == "rid") return id.rid;
  if (kind == "pid") return id.pid;
  REQUIRE(kind == "uuid");
  return id.uuid;
}

Certificate synthetic(const std::string& rel) { return load_one(test::test_data_dir() / rel); }

/// A catalogue of the synthetic PKI's CAs, as a user would supply their own.
Catalogue synthetic_catalogue() {
  std::vector<CatalogueEntry> entries;
  for (const auto& m : manifest_certificates()) {
    if ((m.role != "root" && m.role != "issuing") || m.generation == Generation::none || !m.path.ends_with(".pem")) {
      continue;
    }
    entries.push_back(CatalogueEntry{"synthetic " + m.hierarchy + " " + m.role, m.generation, m.environment,
                                     m.role == "root" ? CaRole::root : CaRole::issuing, synthetic(m.path)});
  }
  return Catalogue(std::move(entries));
}

}  // namespace

TEST_SUITE("oces") {
  TEST_CASE("oces: CVR modulus-11 check") {
    for (const char* good : {"30808460", "19552101", "19435075", "12345674", "25313763", "00000000"}) {
      CAPTURE(good);
      CHECK(cvr_checksum_valid(good));
    }
    for (const char* bad : {"12345678", "30808461", "1234567", "123456740", "1234567a", "", "3080846O", " 2345674",
                            "-2345674"}) {
      CAPTURE(bad);
      CHECK_FALSE(cvr_checksum_valid(bad));
    }
  }

  TEST_CASE("oces: enum names are lowercase and round-trip") {
    CHECK(to_string(Generation::none) == "none");
    CHECK(to_string(Generation::oces2) == "oces2");
    CHECK(to_string(Generation::oces3) == "oces3");
    CHECK(to_string(CertificateType::voces) == "voces");
    CHECK(to_string(CertificateType::organisation) == "organisation");
    CHECK(to_string(CertificateType::issuing_ca) == "issuing_ca");
    CHECK(to_string(Environment::production) == "production");
    CHECK(to_string(Environment::test) == "test");
    CHECK(to_string(Environment::unknown) == "unknown");
    CHECK(to_string(CaRole::root) == "root");
    for (auto g : {Generation::none, Generation::oces2, Generation::oces3}) CHECK(parse_generation(to_string(g)) == g);
    for (auto t : {CertificateType::none, CertificateType::voces, CertificateType::foces, CertificateType::moces,
                   CertificateType::poces, CertificateType::organisation, CertificateType::employee,
                   CertificateType::root_ca, CertificateType::issuing_ca}) {
      CHECK(parse_certificate_type(to_string(t)) == t);
    }
    for (auto e : {Environment::unknown, Environment::production, Environment::test}) {
      CHECK(parse_environment(to_string(e)) == e);
    }
    for (auto r : {CaRole::root, CaRole::issuing}) CHECK(parse_ca_role(to_string(r)) == r);
    CHECK_FALSE(parse_generation("OCES2").has_value());
    CHECK_FALSE(parse_environment("prod").has_value());
    CHECK(display_name(CertificateType::foces) == "FOCES (function)");
  }

  TEST_CASE("oces: the built-in catalogue: every entry parses, roots are self-signed, issuing CAs chain to a root") {
    const Catalogue& cat = Catalogue::builtin();
    CHECK(&cat == &Catalogue::builtin());
    REQUIRE(cat.size() == 15);
    std::set<std::string> names;
    std::set<std::string> fingerprints;
    for (const auto& e : cat.entries()) {
      CAPTURE(e.name);
      CHECK(names.insert(e.name).second);
      CHECK(fingerprints.insert(e.certificate.fingerprint_hex()).second);
      CHECK(e.generation != Generation::none);
      CHECK(e.environment != Environment::unknown);
      CHECK(e.certificate.is_ca());
      CHECK(cat.find(e.name) == &e);
      CHECK(cat.find(e.certificate) == &e);
      // The catalogue's classification agrees with what the certificate says about itself.
      const auto described = CatalogueEntry::describe(e.certificate);
      CHECK(described.generation == e.generation);
      CHECK(described.environment == e.environment);
      CHECK(described.role == e.role);
      CHECK(described.name == e.name);
      if (e.role == CaRole::root) {
        CHECK(e.certificate.is_self_issued());
        CHECK(signed_by(e.certificate, e.certificate));
        CHECK(cat.find_issuer(e.certificate) == &e);
      } else {
        CHECK_FALSE(e.certificate.is_self_issued());
        const CatalogueEntry* root = cat.find_issuer(e.certificate);
        REQUIRE(root != nullptr);
        CHECK(root->role == CaRole::root);
        CHECK(root->generation == e.generation);
        CHECK(root->environment == e.environment);
        CHECK(root->certificate.subject() == e.certificate.issuer());
        CHECK(signed_by(e.certificate, root->certificate));
      }
    }
    CHECK(cat.anchors().size() == 4);
    CHECK(cat.intermediates().size() == 11);
    const auto oces2_prod = cat.anchors(Generation::oces2, Environment::production);
    REQUIRE(oces2_prod.size() == 1);
    CHECK(oces2_prod[0].subject().first("CN") == "TRUST2408 OCES Primary CA");
    const auto oces3_test = cat.anchors(Generation::oces3, Environment::test);
    REQUIRE(oces3_test.size() == 1);
    CHECK(oces3_test[0].subject().first("OU") == "Test - cti");
    CHECK(cat.anchors(Generation::oces3).size() == 2);
    CHECK(cat.anchors(std::nullopt, Environment::test).size() == 2);
    CHECK(cat.intermediates(Generation::oces2, Environment::production).size() == 5);
    CHECK(cat.intermediates(Generation::oces2, Environment::test).size() == 4);
    CHECK(cat.intermediates(Generation::oces3).size() == 2);
    CHECK(cat.anchors(Generation::none).empty());
    CHECK(cat.find("no such CA") == nullptr);
    // The production and test OCES3 CAs share a CN; key identifiers tell them apart.
    const auto* prod_ica = cat.find("Den Danske Stat OCES udstedende-CA 1");
    const auto* test_ica = cat.find("Den Danske Stat OCES udstedende-CA 1 (test)");
    REQUIRE(prod_ica != nullptr);
    REQUIRE(test_ica != nullptr);
    CHECK(prod_ica->environment == Environment::production);
    CHECK(test_ica->environment == Environment::test);
    CHECK(cat.find_by_subject(test_ica->certificate.subject()) == test_ica);
  }

  TEST_CASE("oces: the built-in catalogue equals data/oces-ca as loaded from disk") {
    const Catalogue disk = Catalogue::load_directory(source_dir() / "data/oces-ca");
    const Catalogue& builtin = Catalogue::builtin();
    REQUIRE(disk.size() == builtin.size());
    for (std::size_t i = 0; i < disk.size(); ++i) {
      const auto& a = disk.entries()[i];
      const auto& b = builtin.entries()[i];
      CHECK(a.name == b.name);
      CHECK(a.generation == b.generation);
      CHECK(a.environment == b.environment);
      CHECK(a.role == b.role);
      CHECK(a.certificate == b.certificate);
    }
  }

  TEST_CASE("oces: load_directory rejects broken catalogues") {
    const fs::path data = source_dir() / "data/oces-ca";
    const auto code_of = [](const fs::path& dir) {
      try {
        (void)Catalogue::load_directory(dir);
      } catch (const Error& e) {
        return e.code();
      }
      FAIL("expected dpgcert::Error");
      return ErrorCode::internal;
    };
    TempDir tmp;
    CHECK(code_of(tmp.path) == ErrorCode::io);  // no catalogue.json
    const auto write = [&](const std::string& name, const std::string& text) {
      std::ofstream(tmp.path / name, std::ios::binary) << text;
    };
    write("catalogue.json", "{ not json");
    CHECK(code_of(tmp.path) == ErrorCode::malformed);
    write("catalogue.json", R"({"entries": [{"file": "x.pem", "name": "X", "generation": "oces4",
                                "environment": "test", "role": "root"}]})");
    CHECK(code_of(tmp.path) == ErrorCode::malformed);
    write("catalogue.json", R"({"entries": [{"file": "../x.pem", "name": "X", "generation": "oces2",
                                "environment": "test", "role": "root"}]})");
    CHECK(code_of(tmp.path) == ErrorCode::malformed);
    write("catalogue.json", R"({"entries": [{"file": "missing.pem", "name": "X", "generation": "oces2",
                                "environment": "test", "role": "root"}]})");
    CHECK(code_of(tmp.path) == ErrorCode::io);
    write("two.pem", test::read_text(data / "oces2-production-root-trust2408-oces-primary-ca.pem") +
                         test::read_text(data / "oces2-production-issuing-trust2408-oces-ca-v.pem"));
    write("catalogue.json", R"({"entries": [{"file": "two.pem", "name": "X", "generation": "oces2",
                                "environment": "production", "role": "root"}]})");
    CHECK(code_of(tmp.path) == ErrorCode::malformed);
    // A good one-entry catalogue loads.
    fs::copy_file(data / "oces3-test-root-den-danske-stat-oces-rod-ca.pem", tmp.path / "root.pem");
    write("catalogue.json", R"({"entries": [{"file": "root.pem", "name": "My root", "generation": "oces3",
                                "environment": "test", "role": "root"}]})");
    const auto cat = Catalogue::load_directory(tmp.path);
    REQUIRE(cat.size() == 1);
    CHECK(cat.entries()[0].name == "My root");
  }

  TEST_CASE("oces: every real sample is identified right") {
    DPGCERT_REQUIRE_SHARED(shared);
    const fs::path root = shared / "samples/oces";
    const auto expected = real_samples();
    // The table covers every file in the samples, and nothing else.
    std::set<std::string> on_disk;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      if (entry.is_regular_file()) on_disk.insert(fs::relative(entry.path(), root).generic_string());
    }
    std::set<std::string> listed;
    for (const auto& [rel, e] : expected) listed.insert(rel);
    CHECK(on_disk == listed);

    for (const auto& kv : expected) {  // (clang 14 cannot capture structured bindings)
      const auto& rel = kv.first;
      const auto& e = kv.second;
      CAPTURE(rel);
      if (is_pkcs12_sample(rel)) {
        const auto certs = p12_certificates(root / rel, "Test1234");
        REQUIRE(certs.leaf.has_value());
        const Identity id = identify(*certs.leaf);
        check_identity(id, e);
        CHECK(id.cvr_valid == true);
        CHECK(id.warnings.empty());
        // The chain in the file: the issuing CA and the Systemtest VII root, both known.
        REQUIRE(certs.cas.size() == 2);
        for (const auto& c : certs.cas) {
          const Identity ca_id = identify(c);
          CHECK(ca_id.generation == Generation::oces2);
          CHECK(ca_id.environment == Environment::test);
          CHECK(ca_id.issuing_ca.has_value());
        }
      } else {
        const Identity id = identify(load_one(root / rel));
        check_identity(id, e);
        CHECK(id.warnings.empty());
        if (e.generation == Generation::none) {
          CHECK(id == Identity{});
          CHECK(summary(id) == "not an OCES certificate");
        }
      }
    }
  }

  TEST_CASE("oces: a real FOCES summary and JSON") {
    DPGCERT_REQUIRE_SHARED(shared);
    const auto certs = p12_certificates(shared / "samples/oces/oces2-preprod/FOCES_gyldig.p12", "Test1234");
    const Identity id = identify(*certs.leaf);
    CHECK(summary(id) == "OCES2 FOCES (function), test, CVR 30808460, FID 94731315, NETS DANID A/S");
    const nlohmann::json j = to_json(id);
    const auto expected = nlohmann::json::parse(R"json({
      "generation": "oces2", "type": "foces", "cvr": "30808460", "cvr_valid": true,
      "subject_serial": "CVR:30808460-FID:94731315", "uid": null, "fid": "94731315", "rid": null, "pid": null,
      "uuid": null, "organisation": "NETS DANID A/S",
      "common_name": "TU GENEREL FOCES gyldig (funktionscertifikat)", "email": null, "environment": "test",
      "issuing_ca": "TRUST2408 Systemtest XIX CA", "warnings": []})json");
    CHECK(j == expected);
    const nlohmann::json implicit = id;  // nlohmann's ADL conversion
    CHECK(implicit == j);

    const Identity tls = identify(load_one(shared / "samples/oces/oces3-certs/star.serviceplatformen.cer"));
    const nlohmann::json none = to_json(tls);
    CHECK(none.size() == 16);
    for (const auto& kv : none.items()) {  // (clang 14 cannot capture structured bindings)
      const auto& key = kv.key();
      const auto& value = kv.value();
      CAPTURE(key);
      if (key == "warnings") CHECK(value == nlohmann::json::array());
      else CHECK(value.is_null());
    }
  }

  TEST_CASE("oces: an OCES3 summary") {
    DPGCERT_REQUIRE_SHARED(shared);
    const Identity id = identify(load_one(shared / "samples/oces/oces3-certs/emcs-b2b-server-test-2024-11-13.pem"));
    CHECK(summary(id) ==
          "OCES3 organisation, test, CVR 19552101, UUID 11d3c526-1b39-4507-97ea-a7b853c16721, Skatteforvaltningen");
    const auto j = to_json(id);
    CHECK(j["generation"] == "oces3");
    CHECK(j["type"] == "organisation");
    CHECK(j["uuid"] == "11d3c526-1b39-4507-97ea-a7b853c16721");
    CHECK(j["environment"] == "test");
    CHECK(j["issuing_ca"] == "Den Danske Stat OCES udstedende-CA 1 (test)");
  }

  TEST_CASE("oces: a user-supplied catalogue replaces the built-in one") {
    DPGCERT_REQUIRE_SHARED(shared);
    const Certificate leaf = load_one(shared / "samples/oces/oces3-certs/emcs-b2b-server-prod-2025-02-24.pem");
    const Certificate test_leaf = load_one(shared / "samples/oces/oces3-certs/emcs-b2b-server-test-2024-11-13.pem");
    // An empty catalogue: OCES3 is still recognised (policy), the environment comes from the issuer name.
    const Catalogue empty;
    CHECK(empty.empty());
    const Identity a = identify(leaf, empty);
    CHECK(a.generation == Generation::oces3);
    CHECK(a.environment == Environment::production);
    CHECK_FALSE(a.issuing_ca.has_value());
    const Identity b = identify(test_leaf, empty);
    CHECK(b.environment == Environment::test);
    // The user's own catalogue: names and classification are the user's.
    const Certificate ica = load_one(shared / "samples/oces/oces3-ca/prod-Den_Danske_Stat_OCES_udstedende-CA_1.cer");
    const Catalogue mine({CatalogueEntry{"Our trusted OCES3 CA", Generation::oces3, Environment::production,
                                         CaRole::issuing, ica}});
    CHECK(identify(leaf, mine).issuing_ca == "Our trusted OCES3 CA");
    CHECK_FALSE(identify(test_leaf, mine).issuing_ca.has_value());
    CHECK(mine.anchors().empty());
    REQUIRE(mine.intermediates().size() == 1);
    // from_certificates describes each CA itself.
    const Certificate test_root = load_one(shared / "samples/oces/oces3-ca/TEST-cti_Den_Danske_Stat_OCES_rod-CA.pem");
    const Certificate tdc = load_one(shared / "samples/oces/oces2-ca/TDCOCESSTEST2.cer");
    const std::vector<Certificate> cas{ica, test_root, tdc};
    const Catalogue described = Catalogue::from_certificates(cas);
    REQUIRE(described.size() == 3);
    CHECK(described.entries()[0].name == "Den Danske Stat OCES udstedende-CA 1");
    CHECK(described.entries()[0].role == CaRole::issuing);
    CHECK(described.entries()[1].name == "Den Danske Stat OCES rod-CA (test)");
    CHECK(described.entries()[1].role == CaRole::root);
    CHECK(described.entries()[1].environment == Environment::test);
    CHECK(described.entries()[2].generation == Generation::none);
    CHECK(described.entries()[2].environment == Environment::unknown);
    CHECK(described.anchors(Generation::oces3).size() == 1);
    // Copies share the entries.
    const Catalogue copy = described;
    CHECK(&copy.entries() == &described.entries());
  }

  TEST_CASE("oces: the synthetic PKI: every certificate as the manifest says") {
    const auto certs = manifest_certificates();
    REQUIRE(certs.size() > 20);
    const Catalogue own = synthetic_catalogue();
    REQUIRE(own.size() == 8);
    std::set<std::pair<std::string, std::string>> seen;  // (type, environment) of leaves
    for (const auto& m : certs) {
      CAPTURE(m.path);
      CAPTURE(m.notes);
      const Certificate cert = synthetic(m.path);
      for (const Catalogue* cat : {&Catalogue::builtin(), &own}) {
        const Identity id = identify(cert, *cat);
        CHECK(id.generation == m.generation);
        CHECK(id.type == m.type);
        CHECK(id.environment == m.environment);
        CHECK(id.cvr == m.cvr);
        CHECK(id.cvr_valid == m.cvr_valid);
        if (m.id_kind) {
          CHECK(id_field(id, *m.id_kind) == m.id);
          CHECK(id.id() == m.id);
        } else {
          CHECK_FALSE(id.id().has_value());
        }
        if (cat == &Catalogue::builtin()) {
          // Synthetic CAs carry OU=dpgcert synthetic and their own keys: never taken for the real ones.
          CHECK_FALSE(id.issuing_ca.has_value());
        } else if (m.generation != Generation::none) {
          REQUIRE(id.issuing_ca.has_value());
          CHECK(id.issuing_ca->starts_with("synthetic " + m.hierarchy));
        }
      }
      if (m.role == "leaf" && m.generation != Generation::none) {
        seen.emplace(std::string(to_string(m.type)), std::string(to_string(m.environment)));
      }
    }
    // Every type in the synthetic PKI, both environments where the PKI has them.
    for (const auto& kv : std::set<std::pair<std::string, std::string>>{
             {"voces", "production"}, {"foces", "production"}, {"moces", "production"}, {"poces", "production"},
             {"voces", "test"}, {"foces", "test"}, {"organisation", "production"}, {"organisation", "test"},
             {"employee", "production"}}) {  // (clang 14 cannot capture structured bindings)
      const auto& t = kv.first;
      const auto& e = kv.second;
      CAPTURE(t);
      CAPTURE(e);
      CHECK(seen.count({t, e}) == 1);
    }
  }

  TEST_CASE("oces: the synthetic PKI: odd cases") {
    SUBCASE("serialNumber before CN in the multi-valued RDN") {
      const Certificate c = synthetic("odd/foces-serial-first.crt.pem");
      REQUIRE(c.subject().rdns().back().size() == 2);
      CHECK(c.subject().rdns().back().front().short_name == "serialNumber");
      const Identity id = identify(c);
      CHECK(id.type == CertificateType::foces);
      CHECK(id.fid == "51234567");
      CHECK(id.common_name == "Testfirma A/S - funktionscertifikat til fakturering");
      CHECK(id.organisation == "Testfirma A/S");
      CHECK(id.subject_serial == "CVR:12345674-FID:51234567");
      CHECK(id.warnings.empty());
      // And CN first (the usual order) gives the same identity.
      const Certificate cn_first = synthetic("oces2-prod/foces.crt.pem");
      CHECK(cn_first.subject().rdns().back().front().short_name == "CN");
      CHECK(identify(cn_first).fid == "94731315");
      CHECK(identify(cn_first).email == "sikkerpost@testfirma.dk");
    }
    SUBCASE("UTF-8 names") {
      for (const char* file : {"odd/voces-utf8.crt.pem", "odd/voces-utf8.crt.der"}) {
        CAPTURE(file);
        const Identity id = identify(synthetic(file));
        CHECK(id.organisation == "Ærø Æbleværk ApS");
        CHECK(id.common_name == "Ærø Æbleværk ApS - blåbær og æbler");
        CHECK(id.cvr == "25313763");
        CHECK(id.cvr_valid == true);
        CHECK(id.uid == "2531376300001");
        CHECK(to_json(id)["organisation"] == "Ærø Æbleværk ApS");
      }
    }
    SUBCASE("no O: the CVR comes from the serialNumber alone") {
      const Identity id = identify(synthetic("odd/voces-no-o.crt.pem"));
      CHECK(id.generation == Generation::oces2);
      CHECK_FALSE(id.organisation.has_value());
      CHECK(id.cvr == "12345674");
      CHECK(id.cvr_valid == true);
      CHECK(id.environment == Environment::production);
    }
    SUBCASE("POCES without O or CVR") {
      const Identity id = identify(synthetic("oces2-prod/poces.crt.pem"));
      CHECK(id.type == CertificateType::poces);
      CHECK(id.pid == "9208-2002-2-123456789012");
      CHECK_FALSE(id.cvr.has_value());
      CHECK_FALSE(id.cvr_valid.has_value());
      CHECK_FALSE(id.organisation.has_value());
    }
    SUBCASE("a bad CVR check digit is a warning, not a failure") {
      const Identity id = identify(synthetic("odd/voces-bad-cvr.crt.pem"));
      CHECK(id.generation == Generation::oces2);
      CHECK(id.type == CertificateType::voces);
      CHECK(id.cvr == "12345678");
      CHECK(id.cvr_valid == false);
      REQUIRE(id.warnings.size() == 1);
      CHECK(id.warnings[0].find("modulus-11") != std::string::npos);
      CHECK(summary(id).find("CVR 12345678 (check digit wrong)") != std::string::npos);
      CHECK(to_json(id)["cvr_valid"] == false);
    }
    SUBCASE("a non-OCES certificate with CVR-like text is not OCES") {
      const Certificate c = synthetic("other/server.crt.pem");
      REQUIRE(c.subject().first("O") == "Some Co CVR:12345674");
      const Identity id = identify(c);
      CHECK(id == Identity{});
      const Identity root = identify(synthetic("other/root.crt.pem"));
      CHECK(root == Identity{});
    }
    SUBCASE("OCES3 employee") {
      const Identity id = identify(synthetic("oces3-prod/employee.crt.pem"));
      CHECK(id.generation == Generation::oces3);
      CHECK(id.type == CertificateType::employee);
      CHECK(id.uuid == "b2e4d6f8-1a3c-4e5f-8a7b-9c0d1e2f3a4b");
      CHECK(id.subject_serial == "UI:DK-E:G:b2e4d6f8-1a3c-4e5f-8a7b-9c0d1e2f3a4b");
      CHECK(id.cvr == "12345674");
      CHECK(id.environment == Environment::production);
    }
    SUBCASE("OCES3 test: the issuer's OU=Test - cti decides") {
      const Identity id = identify(synthetic("oces3-test/organisation.crt.pem"));
      CHECK(id.environment == Environment::test);
      CHECK(id.uuid == "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f");
      for (const char* file : {"oces3-prod/organisation.crt.der", "oces3-prod/organisation.cer"}) {
        CAPTURE(file);
        CHECK(identify(synthetic(file)).environment == Environment::production);
      }
    }
  }

  TEST_CASE("oces: identification is thread-safe (its cost is measured in bench/bench_oces.cpp)") {
    DPGCERT_REQUIRE_SHARED(shared);
    const Certificate cert = load_one(shared / "samples/oces/oces3-certs/emcs-b2b-server-test-2024-11-13.pem");
    const Identity first = identify(cert);
    REQUIRE(first.generation == Generation::oces3);
    const Certificate fresh = load_one(shared / "samples/oces/oces3-certs/emcs-b2b-server-test-2024-11-13.pem");
    std::vector<std::thread> threads;
    std::atomic<int> mismatches{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 200; ++i) {
          if (identify(fresh) != first) mismatches.fetch_add(1);
        }
      });
    }
    for (auto& t : threads) t.join();
    CHECK(mismatches.load() == 0);
  }
}
