// Tests for dpgcert/pkcs12.hpp: loading, limits, errors, profiles, writing, thread safety.
//
// Test files come from the openssl CLI: a small PKI made here once per run (mini_pki()), the
// synthetic OCES PKI of tests/data/make_pki.sh ($DPGCERT_TEST_DATA/manifest.json), the real
// samples and the third-party vectors in ../shared.
#include <dpgcert/context.hpp>
#include <dpgcert/error.hpp>
#include <dpgcert/pkcs12.hpp>
#include <dpgcert/x509.hpp>

#include "support/test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

using namespace dpgcert;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<std::byte>;
using Stopwatch = std::chrono::steady_clock;

// ---- small helpers --------------------------------------------------------------------------

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

struct CommandResult {
  int status = -1;
  std::string output;
};

/// Runs a shell command (stdout captured; stderr discarded unless the command redirects it).
CommandResult run(const std::string& command) {
  CommandResult r;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  r.status = pclose(pipe);
  return r;
}

void write_bytes(const fs::path& path, std::span<const std::byte> data) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

void write_text(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::optional<Error> error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  return std::nullopt;
}

double millis(Stopwatch::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("dpgcert-p12-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const fs::path& path() const noexcept { return path_; }

 private:
  fs::path path_;
};

Certificate cert_from_pem_file(const fs::path& path) {
  const auto certs = load_certificates(test::read_file(path));
  REQUIRE(certs.size() == 1);
  return certs.front();
}

// ---- a small PKI made by the openssl CLI, once per test run ---------------------------------

constexpr std::string_view kMiniPkiScript = R"SH(set -e
export OPENSSL_CONF=/dev/null
printf 'Test1234' > pw.txt
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key
openssl req -x509 -new -key ca.key -subj "/CN=dpgcert p12 test root" -days 3650 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out ca.pem
printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n' > leaf.ext
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key
openssl req -new -key rsa.key -subj "/CN=dpgcert p12 rsa leaf" -out rsa.csr
openssl x509 -req -in rsa.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 3650 -extfile leaf.ext -out rsa.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key
openssl req -new -key ec.key -subj "/CN=dpgcert p12 ec leaf" -out ec.csr
openssl x509 -req -in ec.csr -CA ca.pem -CAkey ca.key -set_serial 3 -days 3650 -extfile leaf.ext -out ec.pem
openssl pkcs8 -topk8 -nocrypt -in rsa.key -outform DER -out rsa.p8
openssl pkcs8 -topk8 -nocrypt -in ec.key -outform DER -out ec.p8
P="openssl pkcs12 -export -passout file:pw.txt"
$P -in rsa.pem -inkey rsa.key -certfile ca.pem -name "RSA leaf" -out modern.p12
$P -legacy -in rsa.pem -inkey rsa.key -certfile ca.pem -name "RSA leaf" -out legacy.p12
$P -nomac -in rsa.pem -inkey rsa.key -certfile ca.pem -out nomac.p12
$P -legacy -nomac -in rsa.pem -inkey rsa.key -certfile ca.pem -out nomac-legacy.p12
$P -in ec.pem -inkey ec.key -certfile ca.pem -name "EC leaf" -out ec.p12
$P -nokeys -in rsa.pem -certfile ca.pem -out certonly.p12
$P -nocerts -inkey rsa.key -iter 4096 -nomaciter -out keyonly-4096.p12
$P -keypbe NONE -certpbe NONE -in rsa.pem -inkey rsa.key -certfile ca.pem -out plain.p12
$P -iter 4096 -nomaciter -in rsa.pem -inkey rsa.key -certfile ca.pem -out iter4096.p12
$P -iter 100000 -in rsa.pem -inkey rsa.key -certfile ca.pem -out iter100000.p12
)SH";

struct MiniPki {
  TempDir dir;
  bool ok = false;
  [[nodiscard]] fs::path operator/(const std::string& name) const { return dir.path() / name; }
  [[nodiscard]] Bytes file(const std::string& name) const { return test::read_file(dir.path() / name); }
};

void make_mini_pki(MiniPki& p) {
  write_text(p.dir.path() / "gen.sh", kMiniPkiScript);
  const auto r = run("cd " + shell_quote(p.dir.path().string()) + " && bash gen.sh >gen.log 2>&1");
  p.ok = r.status == 0;
}

const MiniPki& mini_pki() {
  static MiniPki pki;
  static std::once_flag once;
  std::call_once(once, [] { make_mini_pki(pki); });
  REQUIRE_MESSAGE(pki.ok, "the openssl CLI could not make the test PKI");
  return pki;
}

const SecretBytes& password() {
  static const SecretBytes pw = SecretBytes::from_text("Test1234");
  return pw;
}

// ---- files built with OpenSSL's PKCS#12 API (a third party), for cases its CLI cannot make ---------

struct BuiltFile {
  Bytes data;
};

/// The RSA leaf of the mini PKI as a PKCS#12 file whose contents use `content_password` and
/// `pbe_nid` and whose MAC uses `mac_password`; optionally with a secretBag beside the certificate.
BuiltFile build_with_openssl(const MiniPki& pki, const Context& ctx, const char* content_password, int pbe_nid,
                             const char* mac_password, bool secret_bag = false) {
  OSSL_LIB_CTX* lib = static_cast<OSSL_LIB_CTX*>(ctx.native_handle());
  const std::string key_pem = test::read_text(pki / "rsa.key");
  const std::string cert_pem = test::read_text(pki / "rsa.pem");
  BIO* kb = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey_ex(kb, nullptr, nullptr, nullptr, lib, nullptr);
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO_free(kb);
  BIO_free(cb);
  REQUIRE(pkey != nullptr);
  REQUIRE(cert != nullptr);
  STACK_OF(PKCS12_SAFEBAG)* cert_bags = nullptr;
  STACK_OF(PKCS12_SAFEBAG)* key_bags = nullptr;
  STACK_OF(PKCS7)* safes = nullptr;
  REQUIRE(PKCS12_add_cert(&cert_bags, cert) != nullptr);
  if (secret_bag) {
    const unsigned char value[] = {1, 2, 3, 4};
    PKCS12_SAFEBAG* bag = PKCS12_SAFEBAG_create_secret(NID_pkcs7_data, V_ASN1_OCTET_STRING, value, sizeof value);
    REQUIRE(bag != nullptr);
    PKCS12_add_friendlyname_utf8(bag, "hemmelighed", -1);
    sk_PKCS12_SAFEBAG_push(cert_bags, bag);
  }
  REQUIRE(PKCS12_add_key_ex(&key_bags, pkey, 0, 2048, pbe_nid, content_password, lib, nullptr) != nullptr);
  REQUIRE(PKCS12_add_safe_ex(&safes, cert_bags, pbe_nid, 2048, content_password, lib, nullptr) == 1);
  REQUIRE(PKCS12_add_safe_ex(&safes, key_bags, -1, 0, nullptr, lib, nullptr) == 1);
  PKCS12* p12 = PKCS12_add_safes_ex(safes, NID_pkcs7_data, lib, nullptr);
  REQUIRE(p12 != nullptr);
  EVP_MD* sha1 = EVP_MD_fetch(lib, "SHA1", nullptr);
  REQUIRE(PKCS12_set_mac(p12, mac_password, -1, nullptr, 0, 2048, sha1) == 1);
  BuiltFile out;
  const int len = i2d_PKCS12(p12, nullptr);
  out.data.resize(static_cast<std::size_t>(len));
  auto* p = reinterpret_cast<unsigned char*>(out.data.data());
  i2d_PKCS12(p12, &p);
  EVP_MD_free(sha1);
  PKCS12_free(p12);
  sk_PKCS7_pop_free(safes, PKCS7_free);
  sk_PKCS12_SAFEBAG_pop_free(cert_bags, PKCS12_SAFEBAG_free);
  sk_PKCS12_SAFEBAG_pop_free(key_bags, PKCS12_SAFEBAG_free);
  X509_free(cert);
  EVP_PKEY_free(pkey);
  return out;
}

// ---- rewriting DER (for hostile variants of good files) --------------------------------------

/// A DER element; OCTET STRINGs that hold DER are opened too, so nested content can be changed.
struct Der {
  std::uint8_t tag = 0;
  Bytes value;
  std::vector<Der> children;
  bool nested = false;
};

Bytes encode(const std::vector<Der>& nodes);

void encode_one(const Der& d, Bytes& out) {
  const Bytes content = d.nested ? encode(d.children) : d.value;
  out.push_back(std::byte{d.tag});
  const std::size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<std::byte>(n));
  } else {
    std::size_t bytes = 0;
    for (std::size_t v = n; v != 0; v >>= 8) ++bytes;
    out.push_back(static_cast<std::byte>(0x80 | bytes));
    for (std::size_t i = bytes; i-- > 0;) out.push_back(static_cast<std::byte>((n >> (8 * i)) & 0xff));
  }
  out.insert(out.end(), content.begin(), content.end());
}

Bytes encode(const std::vector<Der>& nodes) {
  Bytes out;
  for (const auto& d : nodes) encode_one(d, out);
  return out;
}

bool parse_der(std::span<const std::byte> in, std::vector<Der>& out) {
  while (!in.empty()) {
    if (in.size() < 2) return false;
    Der d;
    d.tag = static_cast<std::uint8_t>(in[0]);
    if ((d.tag & 0x1f) == 0x1f) return false;
    std::size_t len = static_cast<std::size_t>(in[1]);
    std::size_t header = 2;
    if (len == 0x80) return false;
    if (len > 0x80) {
      const std::size_t count = len & 0x7f;
      if (count > 3 || in.size() < 2 + count) return false;
      len = 0;
      for (std::size_t i = 0; i < count; ++i) len = (len << 8) | static_cast<std::size_t>(in[2 + i]);
      header += count;
    }
    if (in.size() - header < len) return false;
    const auto content = in.subspan(header, len);
    if ((d.tag & 0x20) != 0) {
      if (!parse_der(content, d.children)) return false;
      d.nested = true;
    } else {
      d.value.assign(content.begin(), content.end());
      if (d.tag == 0x04 && !content.empty() && content[0] == std::byte{0x30}) {
        std::vector<Der> kids;
        if (parse_der(content, kids) && encode(kids) == d.value) {
          d.children = std::move(kids);
          d.nested = true;
        }
      }
    }
    out.push_back(std::move(d));
    in = in.subspan(header + len);
  }
  return true;
}

/// Replaces INTEGERs equal to `from` by `to`, for the occurrences (in file order) listed in `which`
/// (all when empty). Returns the number of INTEGERs equal to `from`.
int rewrite_integers(std::vector<Der>& nodes, const Bytes& from, const Bytes& to, const std::set<int>& which,
                     int& seen) {
  for (auto& d : nodes) {
    if (d.tag == 0x02 && !d.nested && d.value == from) {
      if (which.empty() || which.count(seen) != 0) d.value = to;
      ++seen;
    }
    if (d.nested) rewrite_integers(d.children, from, to, which, seen);
  }
  return seen;
}

Bytes with_iterations(const Bytes& file, std::uint32_t from, std::uint32_t to, const std::set<int>& which,
                      int* count = nullptr) {
  std::vector<Der> tree;
  REQUIRE(parse_der(file, tree));
  REQUIRE(encode(tree) == file);
  auto int_bytes = [](std::uint32_t v) {
    Bytes b;
    for (int i = 3; i >= 0; --i) b.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xff));
    while (b.size() > 1 && b[0] == std::byte{0} && (static_cast<unsigned>(b[1]) & 0x80U) == 0) b.erase(b.begin());
    return b;
  };
  int seen = 0;
  rewrite_integers(tree, int_bytes(from), int_bytes(to), which, seen);
  if (count != nullptr) *count = seen;
  return encode(tree);
}

/// Replaces the first (or every) occurrence of a byte pattern.
Bytes patch(Bytes data, std::initializer_list<int> from, std::initializer_list<int> to, bool all = false) {
  Bytes f, t;
  for (int v : from) f.push_back(static_cast<std::byte>(v));
  for (int v : to) t.push_back(static_cast<std::byte>(v));
  REQUIRE(f.size() == t.size());
  bool found = false;
  for (auto it = data.begin(); (it = std::search(it, data.end(), f.begin(), f.end())) != data.end();) {
    std::copy(t.begin(), t.end(), it);
    found = true;
    if (!all) break;
  }
  REQUIRE(found);
  return data;
}

// ---- the synthetic PKI's manifest -------------------------------------------------------------

std::optional<std::pair<fs::path, nlohmann::json>> manifest() {
  const char* env = std::getenv("DPGCERT_TEST_DATA");
  if (env == nullptr || *env == '\0') return std::nullopt;
  const fs::path dir(env);
  std::error_code ec;
  if (!fs::is_regular_file(dir / "manifest.json", ec)) return std::nullopt;
  return std::pair{dir, nlohmann::json::parse(test::read_text(dir / "manifest.json"))};
}

// ---- what the openssl CLI says ----------------------------------------------------------------

struct CliCert {
  std::string sha256;
  Time not_before{};
  Time not_after{};
};

/// Fingerprint and validity of the certificate(s) openssl x509 reads from a command's output.
std::optional<CliCert> cli_cert(const std::string& producer) {
  const auto r =
      run("(" + producer + ") 2>/dev/null | openssl x509 -noout -fingerprint -sha256 -dates -dateopt iso_8601 2>/dev/null");
  if (r.status != 0) return std::nullopt;
  CliCert c;
  std::istringstream lines(r.output);
  std::string line;
  auto to_time = [](std::string v) {
    std::replace(v.begin(), v.end(), ' ', 'T');
    return parse_rfc3339(v);
  };
  while (std::getline(lines, line)) {
    if (line.rfind("sha256 Fingerprint=", 0) == 0) {
      for (char ch : line.substr(19)) {
        if (ch != ':') c.sha256 += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      }
    } else if (line.rfind("notBefore=", 0) == 0) {
      c.not_before = to_time(line.substr(10));
    } else if (line.rfind("notAfter=", 0) == 0) {
      c.not_after = to_time(line.substr(9));
    }
  }
  if (c.sha256.empty()) return std::nullopt;
  return c;
}

}  // namespace

TEST_SUITE("pkcs12") {
  TEST_CASE("a modern file made by openssl loads with leaf, chain, key and profile") {
    const auto& pki = mini_pki();
    const Context ctx;
    const auto bundle = load_pkcs12(pki.file("modern.p12"), password(), ctx);
    const Certificate leaf = cert_from_pem_file(pki / "rsa.pem");
    const Certificate ca = cert_from_pem_file(pki / "ca.pem");
    REQUIRE(bundle.leaf());
    CHECK(*bundle.leaf() == leaf);
    REQUIRE(bundle.chain().size() == 1);
    CHECK(bundle.chain()[0] == ca);
    REQUIRE(bundle.certificates().size() == 2);
    CHECK(bundle.certificates()[0].certificate == leaf);
    CHECK(bundle.certificates()[0].friendly_name == "RSA leaf");
    CHECK(bundle.certificates()[0].local_key_id.has_value());
    REQUIRE(bundle.private_key() != nullptr);
    CHECK(bundle.key_matches());
    CHECK(bundle.friendly_name() == "RSA leaf");
    CHECK(bundle.private_key()->pkcs8_der().size() == pki.file("rsa.p8").size());
    CHECK(std::equal(bundle.private_key()->pkcs8_der().bytes().begin(),
                     bundle.private_key()->pkcs8_der().bytes().end(), pki.file("rsa.p8").begin()));

    const Pkcs12Profile& p = bundle.profile();
    CHECK(p.complete);
    CHECK_FALSE(p.legacy);
    CHECK(p.legacy_reasons.empty());
    REQUIRE(p.mac);
    CHECK(p.mac->digest == "SHA256");
    CHECK(p.mac->iterations == 2048);
    CHECK(p.mac->salt_length == 8);
    REQUIRE(p.containers.size() == 2);
    CHECK(p.containers[0].type == "encryptedData");
    CHECK(p.containers[0].encryption == "AES-256-CBC");
    CHECK(p.containers[0].kdf == "PBKDF2-HMAC-SHA256");
    CHECK(p.containers[0].bag_count == 2u);
    CHECK(p.containers[1].type == "data");
    CHECK(p.containers[1].encryption == "none");
    REQUIRE(p.bags.size() == 3);
    CHECK(p.bags[0].type == "certBag");
    CHECK(p.bags[0].encryption == "AES-256-CBC");
    CHECK(p.bags[0].container == 0);
    CHECK(p.bags[2].type == "pkcs8ShroudedKeyBag");
    CHECK(p.bags[2].encryption == "AES-256-CBC");
    CHECK(p.bags[2].kdf == "PBKDF2-HMAC-SHA256");
    CHECK(p.bags[2].iterations == 2048);
    CHECK(p.bags[2].salt_length == 8);
    CHECK(p.bags[2].friendly_name == "RSA leaf");
    CHECK(p.bags[2].container == 1);
    CHECK(p.max_iterations() == 2048);
  }

  TEST_CASE("a legacy RC2-40 file decrypts through dpgcert's context, not the process-global one") {
    const auto& pki = mini_pki();
    // Nothing in this process may have put the legacy provider into OpenSSL's default context.
    REQUIRE(OSSL_PROVIDER_available(nullptr, "legacy") == 0);
    const Context ctx;
    const auto bundle = load_pkcs12(pki.file("legacy.p12"), password(), ctx);
    CHECK(OSSL_PROVIDER_available(nullptr, "legacy") == 0);
    REQUIRE(bundle.leaf());
    CHECK(*bundle.leaf() == cert_from_pem_file(pki / "rsa.pem"));
    CHECK(bundle.key_matches());
    const auto& p = bundle.profile();
    CHECK(p.legacy);
    REQUIRE(p.containers.size() == 2);
    CHECK(p.containers[0].encryption == "RC2-40-CBC");
    CHECK(p.containers[0].kdf == "PKCS12KDF-SHA1");
    REQUIRE(p.bags.size() == 3);
    CHECK(p.bags[2].encryption == "DES-EDE3-CBC");
    REQUIRE(p.mac);
    CHECK(p.mac->digest == "SHA1");
    for (const char* reason : {"RC2-40-CBC encryption", "DES-EDE3-CBC encryption", "SHA1 MAC"}) {
      CAPTURE(reason);
      CHECK(std::find(p.legacy_reasons.begin(), p.legacy_reasons.end(), reason) != p.legacy_reasons.end());
    }
    // OpenSSL itself cannot do this without the legacy provider in its default context.
    const Bytes data = pki.file("legacy.p12");
    const auto* in = reinterpret_cast<const unsigned char*>(data.data());
    PKCS12* p12 = d2i_PKCS12(nullptr, &in, static_cast<long>(data.size()));
    REQUIRE(p12 != nullptr);
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    CHECK(PKCS12_parse(p12, "Test1234", &key, &cert, nullptr) == 0);
    EVP_PKEY_free(key);
    X509_free(cert);
    PKCS12_free(p12);
    ERR_clear_error();
    CHECK(OSSL_PROVIDER_available(nullptr, "legacy") == 0);
  }

  TEST_CASE("an EC file loads and its key matches by curve and point") {
    const auto& pki = mini_pki();
    const auto bundle = load_pkcs12(pki.file("ec.p12"), password());
    REQUIRE(bundle.leaf());
    CHECK(*bundle.leaf() == cert_from_pem_file(pki / "ec.pem"));
    REQUIRE(bundle.private_key() != nullptr);
    CHECK(bundle.private_key()->algorithm() == "EC");
    CHECK(bundle.private_key()->bits() == 256);
    CHECK(bundle.key_matches());
    CHECK_FALSE(bundle.private_key()->matches(cert_from_pem_file(pki / "rsa.pem")));
    CHECK_FALSE(bundle.private_key()->matches(cert_from_pem_file(pki / "ca.pem")));
  }

  TEST_CASE("PrivateKey keeps PKCS#8, reads RSA sizes and compares public parts") {
    const auto& pki = mini_pki();
    const Certificate rsa = cert_from_pem_file(pki / "rsa.pem");
    const Certificate ec = cert_from_pem_file(pki / "ec.pem");
    const auto key = PrivateKey::from_pkcs8_der(SecretBytes(pki.file("rsa.p8")));
    CHECK(key.algorithm() == "RSA");
    CHECK(key.bits() == 2048);
    CHECK(key.matches(rsa));
    CHECK_FALSE(key.matches(ec));
    CHECK_FALSE(key.matches(cert_from_pem_file(pki / "ca.pem")));
    const auto ec_key = PrivateKey::from_pkcs8_der(SecretBytes(pki.file("ec.p8")));
    CHECK(ec_key.matches(ec));
    CHECK_FALSE(ec_key.matches(rsa));

    Bytes garbage(100, std::byte{0x30});
    const auto e = error_of([&] { (void)PrivateKey::from_pkcs8_der(SecretBytes(garbage)); });
    REQUIRE(e);
    CHECK(e->code() == ErrorCode::malformed);
    Bytes trailing = pki.file("rsa.p8");
    trailing.push_back(std::byte{0});
    const auto e2 = error_of([&] { (void)PrivateKey::from_pkcs8_der(SecretBytes(trailing)); });
    REQUIRE(e2);
    CHECK(e2->code() == ErrorCode::malformed);
  }

  TEST_CASE("a wrong password is bad_password and the message does not contain it") {
    const auto& pki = mini_pki();
    for (const char* file : {"modern.p12", "legacy.p12"}) {
      CAPTURE(file);
      const auto e = error_of([&] { (void)load_pkcs12(pki.file(file), SecretBytes::from_text("Hemmelig-42")); });
      REQUIRE(e);
      CHECK(e->code() == ErrorCode::bad_password);
      CHECK(std::string(e->what()).find("PKCS#12: MAC verification failed") == 0);
      CHECK(std::string(e->what()).find("Hemmelig") == std::string::npos);
    }
    const auto empty = error_of([&] { (void)load_pkcs12(pki.file("modern.p12"), SecretBytes()); });
    REQUIRE(empty);
    CHECK(empty->code() == ErrorCode::bad_password);
  }

  TEST_CASE("without a MAC, a wrong password fails decryption as bad_password") {
    const auto& pki = mini_pki();
    for (const char* file : {"nomac.p12", "nomac-legacy.p12"}) {
      CAPTURE(file);
      const auto ok = load_pkcs12(pki.file(file), password());
      CHECK_FALSE(ok.profile().mac.has_value());
      CHECK(ok.key_matches());
      CHECK(ok.certificates().size() == 2);
      for (const char* wrong : {"wrong", "Test1235", ""}) {
        CAPTURE(wrong);
        const auto e = error_of([&] { (void)load_pkcs12(pki.file(file), SecretBytes::from_text(wrong)); });
        REQUIRE(e);
        CHECK(e->code() == ErrorCode::bad_password);
        CHECK(std::string(e->what()).find("decryption failed") != std::string::npos);
      }
    }
  }

  TEST_CASE("unencrypted bags and files without keys or certificates") {
    const auto& pki = mini_pki();
    const auto plain = load_pkcs12(pki.file("plain.p12"), password());
    CHECK(plain.key_matches());
    REQUIRE(plain.profile().bags.size() == 3);
    for (const auto& b : plain.profile().bags) CHECK(b.encryption == "none");

    const auto certs = load_pkcs12(pki.file("certonly.p12"), password());
    CHECK(certs.private_key() == nullptr);
    REQUIRE(certs.leaf());  // no key: the one non-CA certificate that issued no other
    CHECK(*certs.leaf() == cert_from_pem_file(pki / "rsa.pem"));
    REQUIRE(certs.chain().size() == 1);
    CHECK_FALSE(certs.key_matches());

    const auto key = load_pkcs12(pki.file("keyonly-4096.p12"), password());
    CHECK_FALSE(key.leaf());
    CHECK(key.certificates().empty());
    REQUIRE(key.private_key() != nullptr);
    CHECK(key.private_key()->matches(cert_from_pem_file(pki / "rsa.pem")));
    CHECK_FALSE(key.key_matches());
    CHECK(key.profile().legacy);  // MAC iteration count 1
  }

  TEST_CASE("files built with OpenSSL's own API: MAC and contents under different passwords") {
    const auto& pki = mini_pki();
    const Context ctx;
    const BuiltFile built = build_with_openssl(pki, ctx, "Indhold", NID_aes_256_cbc, "Kontrol");
    // The MAC opens with "Kontrol", but the contents need "Indhold".
    const auto e = error_of([&] { (void)load_pkcs12(built.data, SecretBytes::from_text("Kontrol"), ctx); });
    REQUIRE(e);
    CHECK(e->code() == ErrorCode::bad_password);
    CHECK(std::string(e->what()) ==
          "PKCS#12 container 1: decryption failed although the MAC verified (the contents use another password)");
    const auto e2 = error_of([&] { (void)load_pkcs12(built.data, SecretBytes::from_text("Indhold"), ctx); });
    REQUIRE(e2);
    CHECK(e2->code() == ErrorCode::bad_password);
    CHECK(std::string(e2->what()).find("MAC verification failed") != std::string::npos);
  }

  TEST_CASE("unknown bags are ignored but listed in the profile") {
    const auto& pki = mini_pki();
    const Context ctx;
    const BuiltFile built = build_with_openssl(pki, ctx, "Test1234", NID_aes_256_cbc, "Test1234", true);
    const auto bundle = load_pkcs12(built.data, password(), ctx);
    CHECK(bundle.key_matches());
    CHECK(bundle.certificates().size() == 1);
    const auto& bags = bundle.profile().bags;
    const auto secret = std::find_if(bags.begin(), bags.end(), [](const Pkcs12BagInfo& b) { return b.type == "secretBag"; });
    REQUIRE(secret != bags.end());
    CHECK(secret->friendly_name == "hemmelighed");
    CHECK(secret->encryption == "AES-256-CBC");  // it sat in the encrypted container
  }

  TEST_CASE("a non-ASCII password as OpenSSL before 1.1.0 encoded it still opens the file") {
    const auto& pki = mini_pki();
    const Context ctx;
    // "æ" is C3 A6 in UTF-8; old OpenSSL took each byte as a character (U+00C3 U+00A6), which is
    // the UTF-8 text C3 83 C2 A6 for today's OpenSSL. A file made that way:
    const BuiltFile built = build_with_openssl(pki, ctx, "\xC3\x83\xC2\xA6", NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
                                               "\xC3\x83\xC2\xA6");
    const auto bundle = load_pkcs12(built.data, SecretBytes::from_text("\xC3\xA6"), ctx);
    CHECK(bundle.key_matches());
    const auto e = error_of([&] { (void)load_pkcs12(built.data, SecretBytes::from_text("\xC3\xA5"), ctx); });
    REQUIRE(e);
    CHECK(e->code() == ErrorCode::bad_password);
  }

  TEST_CASE("truncated input is malformed") {
    const auto& pki = mini_pki();
    const Bytes data = pki.file("modern.p12");
    for (std::size_t keep : {std::size_t{1}, std::size_t{2}, std::size_t{4}, std::size_t{10}, data.size() / 2,
                             data.size() - 1}) {
      CAPTURE(keep);
      const auto e = error_of([&] { (void)load_pkcs12(std::span(data).first(keep), password()); });
      REQUIRE(e);
      CHECK(e->code() == ErrorCode::malformed);
      CHECK(std::string(e->what()).find("truncated") != std::string::npos);
    }
    const auto empty = error_of([&] { (void)load_pkcs12({}, password()); });
    REQUIRE(empty);
    CHECK(empty->code() == ErrorCode::malformed);
  }

  TEST_CASE("random bytes are malformed") {
    std::mt19937 rng(12345);
    for (int i = 0; i < 200; ++i) {
      Bytes data(1 + rng() % 3000);
      for (auto& b : data) b = static_cast<std::byte>(rng() & 0xff);
      if (i % 2 == 0) data[0] = std::byte{0x30};  // half of them look like a SEQUENCE
      const auto e = error_of([&] { (void)load_pkcs12(data, password()); });
      REQUIRE(e);
      CHECK(e->code() == ErrorCode::malformed);
    }
  }

  TEST_CASE("trailing garbage after the structure is malformed") {
    const auto& pki = mini_pki();
    Bytes data = pki.file("modern.p12");
    data.insert(data.end(), 17, std::byte{0xAB});
    const auto e = error_of([&] { (void)load_pkcs12(data, password()); });
    REQUIRE(e);
    CHECK(e->code() == ErrorCode::malformed);
    CHECK(std::string(e->what()) == "PKCS#12: trailing 17 bytes after the structure");
    const auto e2 = error_of([&] { (void)inspect_pkcs12_profile(data); });
    REQUIRE(e2);
    CHECK(e2->code() == ErrorCode::malformed);
  }

  TEST_CASE("a huge iteration count is refused in milliseconds, wherever it is") {
    const auto& pki = mini_pki();
    const Bytes good = pki.file("modern.p12");
    int count = 0;
    (void)with_iterations(good, 2048, 2048, {}, &count);
    REQUIRE(count == 3);  // encryptedData PBKDF2, key bag PBKDF2, MAC (file order)
    struct Case {
      std::set<int> which;
      const char* message;
    };
    for (const Case& c : {Case{{2}, "PKCS#12 MAC: iteration count 2147483647 exceeds the limit 1000000"},
                          Case{{0}, "PKCS#12 container 1: iteration count 2147483647 exceeds the limit 1000000"},
                          Case{{1}, "PKCS#12 container 2, bag 1: iteration count 2147483647 exceeds the limit 1000000"},
                          Case{{}, "PKCS#12 MAC: iteration count 2147483647 exceeds the limit 1000000"}}) {
      CAPTURE(c.message);
      const Bytes hostile = with_iterations(good, 2048, 2147483647U, c.which);
      const auto start = Stopwatch::now();
      const auto e = error_of([&] { (void)load_pkcs12(hostile, password()); });
      const auto elapsed = Stopwatch::now() - start;
      REQUIRE(e);
      CHECK(e->code() == ErrorCode::limit_exceeded);
      CHECK(std::string(e->what()) == c.message);
      CHECK(millis(elapsed) < 1000.0);  // it is ~0.1 ms; a 2^31 KDF would take hours
      const auto e2 = error_of([&] { (void)inspect_pkcs12_profile(hostile); });
      REQUIRE(e2);
      CHECK(e2->code() == ErrorCode::limit_exceeded);
    }
  }

  TEST_CASE("iteration limits come from the context") {
    const auto& pki = mini_pki();
    Limits limits;
    limits.max_iterations = 2048;
    const Context ctx(limits);
    CHECK_NOTHROW((void)load_pkcs12(pki.file("modern.p12"), password(), ctx));
    const auto e = error_of([&] { (void)load_pkcs12(pki.file("iter4096.p12"), password(), ctx); });
    REQUIRE(e);
    CHECK(e->code() == ErrorCode::limit_exceeded);
    CHECK(std::string(e->what()) == "PKCS#12 container 1: iteration count 4096 exceeds the limit 2048");
    const auto e2 = error_of([&] { (void)load_pkcs12(pki.file("keyonly-4096.p12"), password(), ctx); });
    REQUIRE(e2);
    CHECK(e2->code() == ErrorCode::limit_exceeded);
    CHECK(std::string(e2->what()) == "PKCS#12 container 1, bag 1: iteration count 4096 exceeds the limit 2048");
    // A bag inside an encrypted container is checked after the container is opened, before its own KDF.
    limits.max_iterations = 4096;
    const Context ctx2(limits);
    CHECK_NOTHROW((void)load_pkcs12(pki.file("iter4096.p12"), password(), ctx2));
  }

  TEST_CASE("oversize input is limit_exceeded before anything else") {
    const auto& pki = mini_pki();
    Limits limits;
    limits.max_input_bytes = 1000;
    const Context ctx(limits);
    const auto e = error_of([&] { (void)load_pkcs12(pki.file("modern.p12"), password(), ctx); });
    REQUIRE(e);
    CHECK(e->code() == ErrorCode::limit_exceeded);
    const Bytes big(1024 * 1024 + 1, std::byte{0x30});
    const auto e2 = error_of([&] { (void)load_pkcs12(big, password()); });
    REQUIRE(e2);
    CHECK(e2->code() == ErrorCode::limit_exceeded);
    CHECK(std::string(e2->what()).find("exceeds the limit of 1048576") != std::string::npos);
  }

  TEST_CASE("too many bags or certificates is limit_exceeded") {
    const auto& pki = mini_pki();
    Limits bags;
    bags.max_bags = 2;  // modern.p12 has a key bag and two certificate bags
    const auto e = error_of([&] { (void)load_pkcs12(pki.file("modern.p12"), password(), Context(bags)); });
    REQUIRE(e);
    CHECK(e->code() == ErrorCode::limit_exceeded);
    CHECK(std::string(e->what()) == "PKCS#12: more than 2 bags");
    bags.max_bags = 3;
    CHECK_NOTHROW((void)load_pkcs12(pki.file("modern.p12"), password(), Context(bags)));

    Limits certs;
    certs.max_certificates = 1;
    const auto e2 = error_of([&] { (void)load_pkcs12(pki.file("plain.p12"), password(), Context(certs)); });
    REQUIRE(e2);
    CHECK(e2->code() == ErrorCode::limit_exceeded);
    CHECK(std::string(e2->what()) == "PKCS#12: more than 1 certificates");
  }

  TEST_CASE("algorithms the context lacks are unsupported, found before the MAC") {
    const auto& pki = mini_pki();
    // AES-256-CBC (2.16.840.1.101.3.4.1.42) in the encryptedData becomes 2.16.840.1.101.3.4.1.99.
    const Bytes cipher = patch(pki.file("modern.p12"), {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2A},
                               {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x63});
    const auto e = error_of([&] { (void)load_pkcs12(cipher, password()); });
    REQUIRE(e);
    CHECK(e->code() == ErrorCode::unsupported);
    CHECK(std::string(e->what()).find("PKCS#12 container 1: encryption 2.16.840.1.101.3.4.1.99") == 0);
    // The profile still describes it.
    const auto profile = inspect_pkcs12_profile(cipher);
    CHECK(profile.containers[0].encryption == "2.16.840.1.101.3.4.1.99");

    // SHA-256 (2.16.840.1.101.3.4.2.1) as the MAC digest becomes an unknown OID.
    Bytes mac = pki.file("modern.p12");
    const Bytes sha256_oid{std::byte{0x60}, std::byte{0x86}, std::byte{0x48}, std::byte{0x01}, std::byte{0x65},
                           std::byte{0x03}, std::byte{0x04}, std::byte{0x02}, std::byte{0x01}};
    const auto last = std::find_end(mac.begin(), mac.end(), sha256_oid.begin(), sha256_oid.end());
    REQUIRE(last != mac.end());
    *(last + 8) = std::byte{0x63};
    const auto e2 = error_of([&] { (void)load_pkcs12(mac, password()); });
    REQUIRE(e2);
    CHECK(e2->code() == ErrorCode::unsupported);
    CHECK(std::string(e2->what()) == "PKCS#12 MAC: digest 2.16.840.1.101.3.4.2.99 is not supported");
  }

  TEST_CASE("a DER certificate is not a PKCS#12 file") {
    const auto& pki = mini_pki();
    const auto cert = cert_from_pem_file(pki / "rsa.pem");
    const Bytes der(cert.der().begin(), cert.der().end());
    const auto e = error_of([&] { (void)load_pkcs12(der, password()); });
    REQUIRE(e);
    CHECK(e->code() == ErrorCode::malformed);
    CHECK(std::string(e->what()).find("not a PKCS#12 file") != std::string::npos);
  }

  TEST_CASE("inspect_pkcs12_profile reads the protection without password or key derivation") {
    const auto& pki = mini_pki();
    const auto modern = inspect_pkcs12_profile(pki.file("modern.p12"));
    CHECK_FALSE(modern.complete);
    REQUIRE(modern.containers.size() == 2);
    CHECK(modern.containers[0].type == "encryptedData");
    CHECK(modern.containers[0].encryption == "AES-256-CBC");
    CHECK(modern.containers[0].iterations == 2048);
    CHECK_FALSE(modern.containers[0].bag_count.has_value());
    CHECK(modern.containers[1].bag_count == 1u);
    REQUIRE(modern.bags.size() == 1);  // the key bag; the certificates are still encrypted
    CHECK(modern.bags[0].type == "pkcs8ShroudedKeyBag");
    CHECK(modern.bags[0].friendly_name == "RSA leaf");
    REQUIRE(modern.mac);
    CHECK(modern.mac->digest == "SHA256");
    CHECK_FALSE(modern.legacy);

    const auto legacy = inspect_pkcs12_profile(pki.file("legacy.p12"));
    CHECK(legacy.legacy);
    CHECK(legacy.containers[0].encryption == "RC2-40-CBC");
    CHECK(std::find(legacy.legacy_reasons.begin(), legacy.legacy_reasons.end(), "RC2-40-CBC encryption") !=
          legacy.legacy_reasons.end());

    // No KDF: inspecting a 100,000-iteration file is far cheaper than opening it.
    const Bytes heavy = pki.file("iter100000.p12");
    const Context ctx;
    (void)inspect_pkcs12_profile(heavy, ctx);
    auto start = Stopwatch::now();
    const auto profile = inspect_pkcs12_profile(heavy, ctx);
    const double inspect_ms = millis(Stopwatch::now() - start);
    start = Stopwatch::now();
    (void)load_pkcs12(heavy, password(), ctx);
    const double load_ms = millis(Stopwatch::now() - start);
    MESSAGE("100,000 iterations: inspect " << inspect_ms << " ms, load " << load_ms << " ms");
    CHECK(profile.max_iterations() == 100000);
    CHECK(inspect_ms * 10 < load_ms);
  }

  TEST_CASE("from_parts checks the key against the leaf") {
    const auto& pki = mini_pki();
    const Certificate rsa = cert_from_pem_file(pki / "rsa.pem");
    const Certificate ca = cert_from_pem_file(pki / "ca.pem");
    const auto bundle = Pkcs12Bundle::from_parts(PrivateKey::from_pkcs8_der(SecretBytes(pki.file("rsa.p8"))), rsa,
                                                 {ca}, std::string("Made here"));
    CHECK(bundle.key_matches());
    CHECK(bundle.friendly_name() == "Made here");
    REQUIRE(bundle.leaf());
    CHECK(*bundle.leaf() == rsa);
    CHECK(bundle.chain().size() == 1);
    CHECK(bundle.certificates().size() == 2);
    const auto e = error_of([&] {
      (void)Pkcs12Bundle::from_parts(PrivateKey::from_pkcs8_der(SecretBytes(pki.file("ec.p8"))), rsa, {ca});
    });
    REQUIRE(e);
    CHECK(e->code() == ErrorCode::invalid_argument);
  }

  TEST_CASE("what write_pkcs12 writes is read by the openssl CLI") {
    const auto& pki = mini_pki();
    const auto loaded = load_pkcs12(pki.file("modern.p12"), password());
    TempDir tmp;
    write_text(tmp.path() / "pw.txt", "Ny kode æøå");
    const SecretBytes new_password = SecretBytes::from_text("Ny kode æøå");
    const std::string pass_arg = " -passin file:" + shell_quote((tmp.path() / "pw.txt").string());
    const std::string expected_pub = run("openssl x509 -noout -pubkey -in " + shell_quote((pki / "rsa.pem").string())).output;
    REQUIRE_FALSE(expected_pub.empty());

    SUBCASE("modern") {
      const Bytes out = write_pkcs12(loaded, new_password);
      const fs::path file = tmp.path() / "out.p12";
      write_bytes(file, out);
      const auto info = run("openssl pkcs12 -info -noout -in " + shell_quote(file.string()) + pass_arg + " 2>&1");
      CHECK(info.status == 0);
      INFO(info.output);
      CHECK(info.output.find("MAC: sha256, Iteration 100000") != std::string::npos);
      CHECK(info.output.find("PBES2, PBKDF2, AES-256-CBC, Iteration 100000, PRF hmacWithSHA256") != std::string::npos);
      const auto leaf = cli_cert("openssl pkcs12 -nokeys -clcerts -in " + shell_quote(file.string()) + pass_arg);
      REQUIRE(leaf);
      CHECK(leaf->sha256 == loaded.leaf()->fingerprint_hex());
      const auto pub = run("openssl pkcs12 -nocerts -nodes -in " + shell_quote(file.string()) + pass_arg +
                           " 2>/dev/null | openssl pkey -pubout");
      CHECK(pub.output == expected_pub);
      // And dpgcert reads it back: a modern profile, the same certificates and key.
      const auto again = load_pkcs12(out, new_password);
      CHECK(*again.leaf() == *loaded.leaf());
      CHECK(again.chain() == loaded.chain());
      CHECK(again.friendly_name() == "RSA leaf");
      CHECK(again.key_matches());
      CHECK_FALSE(again.profile().legacy);
      REQUIRE(again.profile().mac);
      CHECK(again.profile().mac->salt_length == 16);
    }
    SUBCASE("legacy_compatible") {
      const Bytes out = write_pkcs12(loaded, new_password, Pkcs12WriteOptions::legacy_compatible());
      const fs::path file = tmp.path() / "legacy.p12";
      write_bytes(file, out);
      const auto info =
          run("openssl pkcs12 -legacy -info -noout -in " + shell_quote(file.string()) + pass_arg + " 2>&1");
      CHECK(info.status == 0);
      INFO(info.output);
      CHECK(info.output.find("MAC: sha1, Iteration 2048") != std::string::npos);
      CHECK(info.output.find("pbeWithSHA1And40BitRC2-CBC, Iteration 2048") != std::string::npos);
      CHECK(info.output.find("pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048") != std::string::npos);
      const auto leaf =
          cli_cert("openssl pkcs12 -legacy -nokeys -clcerts -in " + shell_quote(file.string()) + pass_arg);
      REQUIRE(leaf);
      CHECK(leaf->sha256 == loaded.leaf()->fingerprint_hex());
      const auto again = load_pkcs12(out, new_password);
      CHECK(again.profile().legacy);
      CHECK(again.key_matches());
    }
    SUBCASE("friendly names outside Latin-1 survive, also ending in a three- or four-byte character") {
      // U+263A (three UTF-8 bytes) last, then U+1F600 (a UTF-16 surrogate pair) last.
      for (const std::string& name : {std::string("Postkasse \xE2\x98\xBA"), std::string("\xF0\x9F\x98\x80"),
                                     std::string("\xC3\xA6\xC3\xB8\xC3\xA5 \xF0\x9F\x98\x80 \xE2\x98\xBA")}) {
        CAPTURE(name);
        Pkcs12WriteOptions o;
        o.friendly_name = name;
        const auto again = load_pkcs12(write_pkcs12(loaded, new_password, o), new_password);
        CHECK(again.friendly_name() == name);
      }
    }
    SUBCASE("no encryption, no MAC, SHA-1 PRF") {
      Pkcs12WriteOptions o;
      o.certificate_encryption = "none";
      o.key_encryption = "AES-128-CBC";
      o.kdf_digest = "SHA1";
      o.mac_digest = "none";
      o.iterations = 2048;
      o.friendly_name = "Andet navn";
      const Bytes out = write_pkcs12(loaded, new_password, o);
      const auto again = load_pkcs12(out, new_password);
      CHECK_FALSE(again.profile().mac);
      CHECK(again.friendly_name() == "Andet navn");
      REQUIRE(again.profile().bags.size() == 3);
      CHECK(again.profile().bags[0].encryption == "none");
      CHECK(again.profile().bags[2].encryption == "AES-128-CBC");
      CHECK(again.profile().bags[2].kdf == "PBKDF2-HMAC-SHA1");
      CHECK(again.profile().bags[2].salt_length == 16);
      const fs::path file = tmp.path() / "plain.p12";
      write_bytes(file, out);
      const auto leaf = cli_cert("openssl pkcs12 -nokeys -clcerts -in " + shell_quote(file.string()) + pass_arg);
      REQUIRE(leaf);
      CHECK(leaf->sha256 == loaded.leaf()->fingerprint_hex());
    }
  }

  TEST_CASE("re-wrapping a legacy file gives a modern one") {
    const auto& pki = mini_pki();
    const auto legacy = load_pkcs12(pki.file("legacy.p12"), password());
    REQUIRE(legacy.profile().legacy);
    const Bytes modern = write_pkcs12(legacy, password());
    const auto again = load_pkcs12(modern, password());
    const auto& p = again.profile();
    CHECK_FALSE(p.legacy);
    CHECK(p.legacy_reasons.empty());
    REQUIRE(p.mac);
    CHECK(p.mac->digest == "SHA256");
    CHECK(p.mac->iterations == 100000);
    REQUIRE(p.bags.size() == 3);
    for (const auto& b : p.bags) {
      CHECK(b.encryption == "AES-256-CBC");
      CHECK(b.kdf == "PBKDF2-HMAC-SHA256");
      CHECK(b.iterations == 100000);
    }
    CHECK(*again.leaf() == *legacy.leaf());
    CHECK(again.chain() == legacy.chain());
    CHECK(again.key_matches());
    const auto& a = again.private_key()->pkcs8_der();
    const auto& b = legacy.private_key()->pkcs8_der();
    CHECK(std::equal(a.bytes().begin(), a.bytes().end(), b.bytes().begin(), b.bytes().end()));
  }

  TEST_CASE("a file written with an empty password opens with the empty password, also in openssl") {
    const auto& pki = mini_pki();
    const auto loaded = load_pkcs12(pki.file("modern.p12"), password());
    Pkcs12WriteOptions o;
    o.iterations = 2048;
    o.mac_iterations = 2048;
    const Bytes out = write_pkcs12(loaded, SecretBytes(), o);
    CHECK(load_pkcs12(out, SecretBytes()).key_matches());
    TempDir tmp;
    write_bytes(tmp.path() / "empty.p12", out);
    const auto leaf = cli_cert("openssl pkcs12 -nokeys -clcerts -passin pass: -in " +
                               shell_quote((tmp.path() / "empty.p12").string()));
    REQUIRE(leaf);
    CHECK(leaf->sha256 == loaded.leaf()->fingerprint_hex());
  }

  TEST_CASE("write_pkcs12 validates its inputs") {
    const auto& pki = mini_pki();
    const auto loaded = load_pkcs12(pki.file("modern.p12"), password());
    Pkcs12WriteOptions o;
    o.key_encryption = "ROT13";
    auto e = error_of([&] { (void)write_pkcs12(loaded, password(), o); });
    REQUIRE(e);
    CHECK(e->code() == ErrorCode::unsupported);
    o = Pkcs12WriteOptions::modern();
    o.mac_digest = "NOSUCHDIGEST";
    e = error_of([&] { (void)write_pkcs12(loaded, password(), o); });
    REQUIRE(e);
    CHECK(e->code() == ErrorCode::unsupported);
    o = Pkcs12WriteOptions::modern();
    o.iterations = 0;
    e = error_of([&] { (void)write_pkcs12(loaded, password(), o); });
    REQUIRE(e);
    CHECK(e->code() == ErrorCode::invalid_argument);
    o.iterations = 2'000'000;  // more than the context would read back
    e = error_of([&] { (void)write_pkcs12(loaded, password(), o); });
    REQUIRE(e);
    CHECK(e->code() == ErrorCode::invalid_argument);
    // Friendly names that are not UTF-8: a stray continuation byte, a truncated sequence, an
    // overlong '/', an encoded surrogate, a code point beyond U+10FFFF.
    for (const char* bad : {"a\x80", "\xE2\x98", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80"}) {
      CAPTURE(bad);
      o = Pkcs12WriteOptions::modern();
      o.friendly_name = bad;
      e = error_of([&] { (void)write_pkcs12(loaded, password(), o); });
      REQUIRE(e);
      CHECK(e->code() == ErrorCode::invalid_argument);
    }
    const auto certs_only = load_pkcs12(pki.file("certonly.p12"), password());
    e = error_of([&] { (void)write_pkcs12(certs_only, password()); });
    REQUIRE(e);
    CHECK(e->code() == ErrorCode::invalid_argument);
  }

  TEST_CASE("eight threads load through one shared Context") {
    const auto& pki = mini_pki();
    const Context ctx;
    const Bytes modern = pki.file("modern.p12");
    const Bytes legacy = pki.file("legacy.p12");
    const Bytes ec = pki.file("ec.p12");
    const std::string rsa_fp = cert_from_pem_file(pki / "rsa.pem").fingerprint_hex();
    const std::string ec_fp = cert_from_pem_file(pki / "ec.pem").fingerprint_hex();
    std::atomic<int> good{0};
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 6; ++i) {
          try {
            const int which = (t + i) % 3;
            const Bytes& data = which == 0 ? modern : which == 1 ? legacy : ec;
            const auto bundle = load_pkcs12(data, password(), ctx);
            const bool ok = bundle.leaf() && bundle.key_matches() &&
                            bundle.leaf()->fingerprint_hex() == (which == 2 ? ec_fp : rsa_fp) &&
                            bundle.profile().legacy == (which == 1);
            (ok ? good : bad).fetch_add(1);
          } catch (...) {
            bad.fetch_add(1);
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(bad.load() == 0);
    CHECK(good.load() == 48);
  }

  TEST_CASE("load_pkcs12_file reports io and size problems") {
    const auto e = error_of([] { (void)load_pkcs12_file("/nonexistent/dir/file.p12", password()); });
    REQUIRE(e);
    CHECK(e->code() == ErrorCode::io);
    const auto& pki = mini_pki();
    const auto bundle = load_pkcs12_file(pki / "modern.p12", password());
    CHECK(bundle.key_matches());
    Limits limits;
    limits.max_input_bytes = 100;
    const auto e2 = error_of([&] { (void)load_pkcs12_file(pki / "modern.p12", password(), Context(limits)); });
    REQUIRE(e2);
    CHECK(e2->code() == ErrorCode::limit_exceeded);
  }

  TEST_CASE("the synthetic OCES PKI: every PKCS#12 file matches its manifest entry") {
    const auto m = manifest();
    if (!m) {
      MESSAGE("skipped: $DPGCERT_TEST_DATA/manifest.json is absent (run through ctest)");
      return;
    }
    const auto& [dir, json] = *m;
    const Context ctx;
    int files = 0;
    for (const auto& f : json.at("files")) {
      if (f.at("kind") != "pkcs12") continue;
      ++files;
      const std::string path = f.at("path");
      CAPTURE(path);
      const auto pw = SecretBytes::from_text(f.at("password").get<std::string>());
      const auto bundle = load_pkcs12_file(dir / path, pw, ctx);
      REQUIRE(bundle.leaf());
      CHECK(bundle.leaf()->fingerprint_hex() == f.at("sha256").get<std::string>());
      CHECK(bundle.leaf()->not_before() == parse_rfc3339(f.at("not_before").get<std::string>()));
      CHECK(bundle.leaf()->not_after() == parse_rfc3339(f.at("not_after").get<std::string>()));
      CHECK(bundle.certificates().size() == f.at("cert_count").get<std::size_t>());
      CHECK(bundle.key_matches() == f.at("key_matches_cert").get<bool>());
      if (!f.at("friendly_name").is_null()) CHECK(bundle.friendly_name() == f.at("friendly_name").get<std::string>());
      if (f.contains("key_bits") && !f.at("key_bits").is_null() && bundle.key_matches()) {
        CHECK(bundle.private_key()->bits() == f.at("key_bits").get<int>());
      }
      const auto& p = bundle.profile();
      const bool weak = f.value("weak_iterations", false);
      CHECK(p.legacy == (f.at("legacy").get<bool>() || weak));
      REQUIRE(p.mac);
      CHECK(p.mac->digest == upper(f.at("p12_mac_alg").get<std::string>()));
      CHECK(p.mac->iterations == f.at("p12_mac_iter").get<std::uint64_t>());
      // The chain, leaf first in the manifest, is what dpgcert orders from the leaf's issuer up.
      const auto& chain = f.at("chain");
      REQUIRE(bundle.chain().size() + 1 == chain.size());
      for (std::size_t i = 1; i < chain.size(); ++i) {
        CHECK(bundle.chain()[i - 1] == cert_from_pem_file(dir / chain[i].get<std::string>()));
      }
      // Inspection agrees with loading on what it can see.
      const auto inspected = inspect_pkcs12_profile(test::read_file(dir / path), ctx);
      CHECK(inspected.mac->iterations == p.mac->iterations);
      CHECK(inspected.containers.size() == p.containers.size());
    }
    CHECK(files >= 10);
  }

  TEST_CASE("the real OCES samples open and agree with the openssl CLI") {
    DPGCERT_REQUIRE_SHARED(shared);
    const fs::path dir = shared / "samples" / "oces" / "oces2-preprod";
    const Context ctx;
    int opened = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() != ".p12") continue;
      const std::string name = entry.path().filename().string();
      CAPTURE(name);
      if (name == "system_vii.p12") {
        const auto e = error_of([&] { (void)load_pkcs12_file(entry.path(), password(), ctx); });
        REQUIRE(e);
        CHECK(e->code() == ErrorCode::malformed);  // a DER certificate with a .p12 name
        continue;
      }
      const auto bundle = load_pkcs12_file(entry.path(), password(), ctx);
      ++opened;
      const auto expected = cli_cert("openssl pkcs12 -legacy -nokeys -clcerts -passin pass:Test1234 -in " +
                                     shell_quote(entry.path().string()) + " 2>/dev/null");
      REQUIRE(expected);
      REQUIRE(bundle.leaf());
      CHECK(bundle.leaf()->fingerprint_hex() == expected->sha256);
      CHECK(bundle.leaf()->not_before() == expected->not_before);
      CHECK(bundle.leaf()->not_after() == expected->not_after);
      CHECK(bundle.key_matches());
      CHECK(bundle.certificates().size() == 3);
      CHECK(bundle.chain().size() == 2);
      CHECK(bundle.profile().legacy);  // SHA-1 MACs, 3DES or RC2-40, 1024 or 2000 iterations
      CHECK(bundle.private_key()->algorithm() == "RSA");
    }
    CHECK(opened == 11);
  }

  TEST_CASE("third-party vectors open or are refused as their descriptions say, and none crashes") {
    DPGCERT_REQUIRE_SHARED(shared);
    const fs::path root = shared / "vectors" / "pkcs12";
    // Failures the inventory lists, with the codes the descriptions imply.
    const std::map<std::string, std::set<ErrorCode>> refused{
        {"bad1.p12", {ErrorCode::malformed}},  // ContentInfo without content (CVE-2024-0727 style)
        {"bad2.p12", {ErrorCode::malformed}},
        {"bad3.p12", {ErrorCode::malformed}},
        {"empty_password_ber_nested.p12", {ErrorCode::malformed, ErrorCode::limit_exceeded}},
        {"garbage-pkcs12.p12", {ErrorCode::malformed}},
    };
    auto expect_encryption = [](const std::string& column, const Pkcs12BagInfo& bag) {
      CAPTURE(column);
      if (column == "none" || column == "plain KeyBag") {
        CHECK(bag.encryption == "none");
        return;
      }
      const auto at = column.find('@');
      REQUIRE(at != std::string::npos);
      std::string alg = column.substr(0, at);
      std::string rest = column.substr(at + 1);
      std::string prf;
      if (const auto slash = rest.find('/'); slash != std::string::npos) {
        prf = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
      }
      if (alg == "3DES") alg = "DES-EDE3-CBC";
      if (alg == "RC2-40") alg = "RC2-40-CBC";
      if (alg.rfind("PBES2/", 0) == 0) alg = alg.substr(6);
      CHECK(bag.encryption == alg);
      CHECK(bag.iterations == std::stoull(rest));
      if (!prf.empty()) CHECK(bag.kdf == "PBKDF2-HMAC-" + prf);
    };

    std::set<std::string> listed;
    std::istringstream tsv(test::read_text(root / "p12-inventory.tsv"));
    std::string line;
    std::getline(tsv, line);  // header
    const Context ctx;
    int rows = 0;
    while (std::getline(tsv, line)) {
      std::vector<std::string> col;
      std::stringstream ss(line);
      for (std::string c; std::getline(ss, c, '\t');) col.push_back(c);
      if (col.size() < 9) continue;
      ++rows;
      const fs::path file = root / col[0] / col[1];
      listed.insert((fs::path(col[0]) / col[1]).string());
      std::string pw = col[2];
      if (pw.size() >= 2 && pw.front() == '\'' && pw.back() == '\'') pw = pw.substr(1, pw.size() - 2);
      CAPTURE(file.string());
      const bool should_open = col[3] == "OK";
      std::optional<Pkcs12Bundle> bundle;
      std::optional<Error> error;
      try {
        bundle.emplace(load_pkcs12_file(file, SecretBytes::from_text(pw), ctx));
      } catch (const Error& e) {
        error = e;
      }
      if (!should_open) {
        REQUIRE(error);
        const auto it = refused.find(col[1]);
        REQUIRE(it != refused.end());
        CAPTURE(error->what());
        CHECK(it->second.count(error->code()) == 1);
        continue;
      }
      if (error) FAIL_CHECK(error->what());
      if (!bundle) continue;
      const std::size_t cert_bags = std::stoul(col[7]);
      const std::size_t key_bags = std::stoul(col[8]);
      CHECK(bundle->certificates().size() == cert_bags);
      CHECK((bundle->private_key() != nullptr) == (key_bags > 0));
      if (bundle->private_key() != nullptr && bundle->leaf()) CHECK(bundle->key_matches());
      if (key_bags > 0 && cert_bags > 0) CHECK(bundle->leaf().has_value());
      const auto& p = bundle->profile();
      const auto slash = col[4].find('/');
      REQUIRE(p.mac);
      CHECK(p.mac->digest == upper(col[4].substr(0, slash)));
      CHECK(p.mac->iterations == std::stoull(col[4].substr(slash + 1)));
      for (const auto& bag : p.bags) {
        if (bag.type == "certBag") expect_encryption(col[5], bag);
        if (bag.type == "keyBag" || bag.type == "pkcs8ShroudedKeyBag") expect_encryption(col[6], bag);
      }
    }
    CHECK(rows >= 56);
    // Files the inventory does not list: any outcome but a crash.
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      const auto ext = entry.path().extension();
      if (ext != ".p12" && ext != ".pfx") continue;
      if (listed.count(fs::relative(entry.path(), root).string()) != 0) continue;
      CAPTURE(entry.path().string());
      try {
        (void)load_pkcs12_file(entry.path(), SecretBytes(), ctx);
      } catch (const Error&) {
      }
    }
  }

  TEST_CASE("specific vectors: Unicode, empty and absent passwords, BER, friendly names") {
    DPGCERT_REQUIRE_SHARED(shared);
    const fs::path v = shared / "vectors" / "pkcs12";
    const Context ctx;
    // "Hello, 世界" as UTF-8, converted to a BMPString for the PKCS#12 KDF.
    const auto unicode = load_pkcs12_file(v / "boringssl" / "unicode_password.p12",
                                          SecretBytes::from_text("Hello, \xE4\xB8\x96\xE7\x95\x8C"), ctx);
    CHECK(unicode.key_matches());
    const auto wrong = error_of([&] {
      (void)load_pkcs12_file(v / "boringssl" / "unicode_password.p12", SecretBytes::from_text("Hello, "), ctx);
    });
    REQUIRE(wrong);
    CHECK(wrong->code() == ErrorCode::bad_password);
    for (const char* f : {"empty_password.p12", "null_password.p12", "empty_password_ber.p12"}) {
      CAPTURE(f);
      CHECK(load_pkcs12_file(v / "boringssl" / f, SecretBytes(), ctx).key_matches());
    }
    // The BER file nests constructed strings a little; a context allowing none refuses it.
    Limits flat;
    flat.max_nesting = 0;
    const auto e = error_of([&] { (void)load_pkcs12_file(v / "boringssl" / "empty_password_ber.p12", SecretBytes(), Context(flat)); });
    REQUIRE(e);
    CHECK(e->code() == ErrorCode::limit_exceeded);

    const auto names = load_pkcs12_file(v / "pyca-cryptography" / "name-all-pwd.p12", SecretBytes::from_text("password"), ctx);
    REQUIRE(names.certificates().size() == 3);
    CHECK(names.friendly_name() == "name");
    CHECK(names.certificates()[1].friendly_name == "name2");
    CHECK(names.certificates()[2].friendly_name == "name3");
    const auto uni = load_pkcs12_file(v / "pyca-cryptography" / "name-unicode-pwd.p12", SecretBytes::from_text("password"), ctx);
    REQUIRE(uni.friendly_name());
    CHECK(uni.friendly_name()->find('\xE2') != std::string::npos);  // non-ASCII, as UTF-8

    // Certificates only, no key: no leaf when two unrelated certificates issued nothing.
    const auto no_cert = load_pkcs12_file(v / "pyca-cryptography" / "no-cert-no-name-pwd.p12", SecretBytes::from_text("password"), ctx);
    CHECK_FALSE(no_cert.leaf());
    CHECK(no_cert.chain().size() == 2);

    const auto ber = load_pkcs12_file(v / "openssl-3.0.22" / "test-BER.p12", SecretBytes::from_text("12345"), ctx);
    CHECK(ber.certificates().size() == 3);
    CHECK(ber.key_matches());
    CHECK(ber.chain().size() == 2);

    const auto greek = load_pkcs12_file(v / "openssl-3.0.22" / "shibboleth.pfx",
                                        SecretBytes::from_text("\xCF\x83\xCF\x8D\xCE\xBD\xCE\xB8\xCE\xB7\xCE\xBC\xCE\xB1 "
                                                               "\xCE\xB3\xCE\xBD\xCF\x8E\xCF\x81\xCE\xB9\xCF\x83\xCE\xBC\xCE\xB1"),
                                        ctx);
    CHECK(greek.key_matches());
  }

  TEST_CASE("NIST PKITS key material: 405 files, each holding its certificate") {
    DPGCERT_REQUIRE_SHARED(shared);
    const fs::path dir = shared / "vectors" / "pkits" / "pkcs12";
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      MESSAGE("skipped: no PKITS PKCS#12 files");
      return;
    }
    const Context ctx;
    const auto pw = SecretBytes::from_text("password");
    int n = 0;
    int same = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() != ".p12") continue;
      ++n;
      const auto bundle = load_pkcs12_file(entry.path(), pw, ctx);
      const fs::path crt = shared / "vectors" / "pkits" / "certs" / (entry.path().stem().string() + ".crt");
      const auto expected = Certificate::from_der(test::read_file(crt), ctx);
      if (bundle.leaf() && *bundle.leaf() == expected && bundle.key_matches()) ++same;
    }
    CHECK(n == 405);
    CHECK(same == n);
  }
}
