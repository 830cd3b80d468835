// dpgcert's own DER reading of certificates against OpenSSL's (the reference reader kept in the
// library: Certificate::Impl::openssl_reference reads every field from d2i_X509's X509, as
// dpgcert did before it had a reader of its own). Every field of every certificate of ../shared
// and the synthetic PKI must read the same; inputs OpenSSL refuses must be refused with the same
// code, and inputs OpenSSL takes must be taken unless they are BER (refused on purpose).
#include "support/test_support.hpp"
#include "x509/certificate_impl.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/pkcs12.hpp>
#include <dpgcert/x509.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <set>
#include <thread>

using namespace dpgcert;
namespace fs = std::filesystem;

namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

std::string join(const std::vector<std::string>& v) {
  std::string out = "[";
  for (const auto& s : v) {
    out += s;
    out += '|';
  }
  return out + "]";
}

/// Joins pieces by appending (GCC 12 -O3 warns falsely, -Wrestrict, on operator+ chains).
std::string cat(std::initializer_list<std::string> pieces) {
  std::string out;
  for (const auto& p : pieces) out += p;
  return out;
}

std::string hex_or_none(const std::optional<std::vector<std::byte>>& v) { return v ? to_hex(*v) : "none"; }

std::string name_text(const DistinguishedName& dn) {
  std::string out = dn.to_string();
  out += " {";
  for (const auto& rdn : dn.rdns()) {
    out += '(';
    for (const auto& a : rdn) {
      out += a.oid;
      out += '/';
      out += a.short_name;
      out += '=';
      out += a.value;
      out += ';';
    }
    out += ')';
  }
  return out + "}";
}

/// Every value a Certificate exposes, as text; a getter that throws gives its error code.
Fields read_all(const Certificate& c) {
  Fields out;
  const auto add = [&](const char* what, const std::function<std::string()>& f) {
    try {
      out.emplace_back(what, f());
    } catch (const Error& e) {
      out.emplace_back(what, "error:" + std::string(to_string(e.code())));
    }
  };
  add("version", [&] { return std::to_string(c.version()); });
  add("subject", [&] { return name_text(c.subject()); });
  add("issuer", [&] { return name_text(c.issuer()); });
  add("serial", [&] { return c.serial_hex(); });
  add("not_before", [&] { return std::to_string(to_unix(c.not_before())); });
  add("not_after", [&] { return std::to_string(to_unix(c.not_after())); });
  add("fingerprint", [&] { return c.fingerprint_hex(); });
  add("key", [&] {
    const auto& k = c.public_key();
    return cat({k.algorithm, "/", std::to_string(k.bits), "/", k.curve.value_or("-")});
  });
  add("signature_algorithm", [&] { return c.signature_algorithm(); });
  add("signature_digest", [&] { return c.signature_digest(); });
  add("key_usage", [&] {
    const auto& ku = c.key_usage();
    return ku ? cat({join(ku->names()), ku->critical ? "critical" : ""}) : std::string("none");
  });
  add("eku", [&] { return join(c.extended_key_usage()); });
  add("san", [&] {
    const auto& s = c.subject_alt_names();
    return cat({join(s.emails), join(s.dns), join(s.uris)});
  });
  add("policies", [&] { return join(c.policies()); });
  add("aia", [&] { return cat({join(c.authority_info_access().ocsp), join(c.authority_info_access().ca_issuers)}); });
  add("crl_dps", [&] { return join(c.crl_distribution_points()); });
  add("basic_constraints", [&] {
    const auto& bc = c.basic_constraints();
    if (!bc) return std::string("none");
    return cat({bc->ca ? "ca" : "leaf", "/", bc->path_length ? std::to_string(*bc->path_length) : "-",
                bc->critical ? "/critical" : ""});
  });
  add("is_ca", [&] { return std::string(c.is_ca() ? "yes" : "no"); });
  add("ski", [&] { return hex_or_none(c.subject_key_id()); });
  add("aki", [&] { return hex_or_none(c.authority_key_id()); });
  add("self_issued", [&] { return std::string(c.is_self_issued() ? "yes" : "no"); });
  add("pem", [&] { return c.to_pem(); });
  return out;
}

struct Tally {
  int compared = 0;       ///< read by both, every field compared
  int refused_both = 0;   ///< refused by both with the same code
  int refused_ber = 0;    ///< taken by OpenSSL, refused by dpgcert as not DER (on purpose)
  int native = 0;         ///< read by dpgcert's own reader (not handed to OpenSSL)
};

bool native_reading(std::span<const std::byte> der) {
  return Certificate::Impl::verdict(der) == detail::DerVerdict::ok;
}

/// Reads `der` both ways and compares.
void compare(std::span<const std::byte> der, const std::string& where, Tally& tally) {
  CAPTURE(where);
  const Context& ctx = Context::shared();
  std::optional<Certificate> mine, reference;
  std::optional<ErrorCode> mine_error, reference_error;
  try {
    mine = Certificate::from_der(der, ctx);
  } catch (const Error& e) {
    mine_error = e.code();
  }
  try {
    reference = Certificate::Impl::openssl_reference(der, ctx);
  } catch (const Error& e) {
    reference_error = e.code();
  }
  if (!mine && !reference) {
    CHECK(*mine_error == *reference_error);
    ++tally.refused_both;
    return;
  }
  if (!mine) {
    // Only BER (which OpenSSL takes) may be refused where OpenSSL reads it.
    CHECK(Certificate::Impl::verdict(der) == detail::DerVerdict::not_der);
    CHECK(*mine_error == ErrorCode::malformed);
    ++tally.refused_ber;
    return;
  }
  REQUIRE_MESSAGE(reference.has_value(), "dpgcert read a certificate OpenSSL refuses");
  if (native_reading(der)) ++tally.native;
  const Fields a = read_all(*mine);
  const Fields b = read_all(*reference);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CAPTURE(a[i].first);
    CHECK(a[i].second == b[i].second);
  }
  ++tally.compared;
}

void compare_file(const fs::path& p, Tally& tally) {
  const auto data = test::read_file(p);
  if (data.empty()) return;
  if (data.front() == std::byte{0x30}) {
    compare(data, p.string(), tally);
    return;
  }
  // PEM or base64: each certificate's DER.
  std::vector<Certificate> certs;
  try {
    certs = load_certificates(data);
  } catch (const Error&) {
    return;
  }
  for (const auto& c : certs) compare(c.der(), p.string(), tally);
}

void compare_pkcs12(const fs::path& p, Tally& tally) {
  static const char* const passwords[] = {"Test1234", "", "foo", "cryptography", "password", "12345", "v3-certs",
                                          "Hello, 世界", "σύνθημα γνώρισμα"};
  const auto data = test::read_file(p);
  for (const char* pw : passwords) {
    try {
      const auto bundle = load_pkcs12(data, SecretBytes::from_text(pw));
      for (const auto& c : bundle.certificates()) compare(c.certificate.der(), p.string(), tally);
      return;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::bad_password) return;
    }
  }
}

void compare_tree(const fs::path& dir, Tally& tally) {
  if (!fs::exists(dir)) return;
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& p : files) {
    const auto ext = p.extension().string();
    if (ext == ".p12" || ext == ".pfx") {
      compare_pkcs12(p, tally);
    } else if (ext == ".pem" || ext == ".cer" || ext == ".crt" || ext == ".der") {
      compare_file(p, tally);
    }
  }
}

void report(const char* what, const Tally& t) {
  // Appended piece by piece: GCC 12 -O3 warns (falsely, -Wrestrict) on long operator+ chains.
  std::string line = what;
  line += ": ";
  line += std::to_string(t.compared);
  line += " read by both and compared field by field (";
  line += std::to_string(t.native);
  line += " by dpgcert's own reader), ";
  line += std::to_string(t.refused_both);
  line += " refused by both, ";
  line += std::to_string(t.refused_ber);
  line += " BER refused on purpose";
  MESSAGE(line);
}

}  // namespace

TEST_SUITE("x509") {
  TEST_CASE("own DER reading equals OpenSSL's on the samples, PKITS and PKCS#12 vectors") {
    DPGCERT_REQUIRE_SHARED(shared);
    Tally t;
    compare_tree(shared / "samples", t);
    compare_tree(shared / "vectors/pkits", t);
    compare_tree(shared / "vectors/pkcs12", t);
    report("samples, PKITS, PKCS#12", t);
    CHECK(t.compared > 400);
    CHECK(t.native > t.compared * 9 / 10);  // the reader does not hand the ordinary ones to OpenSSL
  }

  TEST_CASE("own DER reading equals OpenSSL's on x509-limbo") {
    DPGCERT_REQUIRE_SHARED(shared);
    const auto path = shared / "vectors/limbo/limbo.json";
    REQUIRE(fs::exists(path));
    std::ifstream in(path);
    const auto limbo = nlohmann::json::parse(in);
    Tally t;
    std::set<std::string> seen;
    for (const auto& tc : limbo.at("testcases")) {
      std::vector<std::string> pems;
      for (const auto& key : {"trusted_certs", "untrusted_intermediates"}) {
        for (const auto& p : tc.at(key)) pems.push_back(p.get<std::string>());
      }
      pems.push_back(tc.at("peer_certificate").get<std::string>());
      for (const auto& pem : pems) {
        if (!seen.insert(pem).second) continue;
        std::vector<Certificate> certs;
        try {
          certs = load_certificates_pem(pem);
        } catch (const Error&) {
          continue;  // refused as before: the field comparison is about what reads
        }
        for (const auto& c : certs) compare(c.der(), tc.at("id").get<std::string>(), t);
      }
    }
    report("limbo", t);
    CHECK(t.compared > 300);
  }

  TEST_CASE("own DER reading equals OpenSSL's on the synthetic PKI") {
    const auto dir = test::test_data_dir();
    if (!fs::exists(dir / "manifest.json")) {
      MESSAGE("skipped: the synthetic PKI is not generated (run through ctest)");
      return;
    }
    Tally t;
    compare_tree(dir, t);
    report("synthetic PKI", t);
    CHECK(t.compared > 20);
    CHECK(t.native == t.compared);
  }

  TEST_CASE("own DER reading refuses what OpenSSL refuses, on the fuzzing corpora") {
    DPGCERT_REQUIRE_SHARED(shared);
    Tally t;
    for (const char* dir : {"corpora/pyca-x509", "corpora/boringssl", "corpora/openssl-fuzz-corpora"}) {
      if (!fs::exists(shared / dir)) continue;
      for (const auto& e : fs::recursive_directory_iterator(shared / dir)) {
        if (!e.is_regular_file() || e.file_size() == 0 || e.file_size() > 64 * 1024) continue;
        const auto data = test::read_file(e.path());
        if (data.front() != std::byte{0x30}) continue;
        compare(data, e.path().string(), t);
      }
    }
    report("corpora", t);
    CHECK(t.compared + t.refused_both > 100);
  }

  TEST_CASE("own DER reading: BER, non-minimal lengths and trailing bytes") {
    DPGCERT_REQUIRE_SHARED(shared);
    const auto der = test::read_file(shared / "samples/oces/oces2-ca/TRUST2408-OCES-CA-V.cert.der");
    REQUIRE(native_reading(der));
    // The outer SEQUENCE's length in a longer form than needed: OpenSSL takes it, dpgcert does not.
    REQUIRE(der[1] == std::byte{0x82});
    std::vector<std::byte> long_len = {der[0], std::byte{0x83}, std::byte{0}};
    long_len.insert(long_len.end(), der.begin() + 2, der.end());
    CHECK(test::code_of([&] { (void)Certificate::from_der(long_len); }) == ErrorCode::malformed);
    CHECK_NOTHROW((void)Certificate::Impl::openssl_reference(long_len, Context::shared()));
    // Indefinite length on the outer SEQUENCE (with its end-of-contents).
    std::vector<std::byte> indefinite = {der[0], std::byte{0x80}};
    indefinite.insert(indefinite.end(), der.begin() + 4, der.end());
    indefinite.push_back(std::byte{0});
    indefinite.push_back(std::byte{0});
    CHECK(test::code_of([&] { (void)Certificate::from_der(indefinite); }) == ErrorCode::malformed);
    // Trailing bytes, truncation: refused by both.
    auto trailing = der;
    trailing.push_back(std::byte{0});
    CHECK(test::code_of([&] { (void)Certificate::from_der(trailing); }) == ErrorCode::malformed);
    CHECK(test::code_of([&] { (void)Certificate::from_der(std::span(der).first(der.size() - 1)); }) == ErrorCode::malformed);
    Tally t;
    compare(der, "CA-V", t);
    CHECK(t.compared == 1);
  }

  TEST_CASE("own DER reading: OpenSSL parses a certificate only when something needs it") {
    DPGCERT_REQUIRE_SHARED(shared);
    const auto der = test::read_file(shared / "samples/oces/oces2-ca/TRUST2408-OCES-CA-V.cert.der");
    const Certificate c = Certificate::from_der(der);
    // Every field dpgcert reads itself: no X509 yet.
    (void)c.not_after();
    (void)c.subject().to_string();
    (void)c.issuer();
    (void)c.fingerprint_hex();
    (void)c.serial_hex();
    (void)c.version();
    (void)c.public_key();
    (void)c.key_usage();
    (void)c.policies();
    (void)c.crl_distribution_points();
    (void)c.subject_key_id();
    (void)c.is_self_issued();
    (void)c.signature_algorithm();
    (void)c.to_pem();
    CHECK(c.impl().parsed == nullptr);
    // What needs OpenSSL's object makes it, once.
    X509* x = detail::native(c);
    REQUIRE(x != nullptr);
    CHECK(c.impl().parsed.get() == x);
    CHECK(detail::native(c) == x);
    // A certificate the reader leaves to OpenSSL (a UTCTime with seconds left out) is parsed at once.
    const std::byte utc[] = {std::byte{0x17}, std::byte{0x0d}};
    auto odd = der;
    auto at = std::search(odd.begin(), odd.end(), std::begin(utc), std::end(utc));
    REQUIRE(at != odd.end());
    CHECK(Certificate::Impl::verdict(odd) == detail::DerVerdict::ok);
    *(at + 14) = std::byte{'+'};  // the 'Z' of notBefore: a time the reader does not take
    CHECK(Certificate::Impl::verdict(odd) == detail::DerVerdict::unsure);
    const Certificate via_openssl = Certificate::from_der(odd);
    CHECK(via_openssl.impl().parsed != nullptr);
    Tally t;
    compare(odd, "odd time", t);
    CHECK(t.compared == 1);
  }

  TEST_CASE("own DER reading: lazily decoded fields are raced safely") {
    DPGCERT_REQUIRE_SHARED(shared);
    const auto der = test::read_file(shared / "samples/oces/oces2-ca/TRUST2408-OCES-CA-V.cert.der");
    for (int round = 0; round < 20; ++round) {
      const Certificate c = Certificate::from_der(der);
      std::vector<std::string> seen(4);
      std::vector<std::thread> threads;
      for (std::size_t i = 0; i < seen.size(); ++i) {
        threads.emplace_back([&, i] {
          seen[i] = cat({c.subject().to_string(), c.issuer().to_string(), std::to_string(c.policies().size()),
                         c.fingerprint_hex(), c.public_key().algorithm, std::to_string(c.key_usage().has_value()),
                         std::to_string(detail::native(c) != nullptr)});
        });
      }
      for (auto& th : threads) th.join();
      for (const auto& s : seen) CHECK(s == seen[0]);
    }
  }
}
