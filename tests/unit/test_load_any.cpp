// Tests for load_any(): telling PKCS#12 from DER, PEM and base64 certificates.
#include <dpgcert/context.hpp>
#include <dpgcert/error.hpp>
#include <dpgcert/pkcs12.hpp>
#include <dpgcert/x509.hpp>

#include "support/test_support.hpp"

#include <doctest/doctest.h>

#include <openssl/evp.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

using namespace dpgcert;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<std::byte>;

std::optional<Error> load_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  return std::nullopt;
}

/// SHA-256 fingerprint of the one certificate the openssl CLI reads from `path` (DER or PEM).
std::string cli_fingerprint(const fs::path& path, const char* inform) {
  const std::string cmd = std::string("openssl x509 -noout -fingerprint -sha256 -inform ") + inform + " -in '" +
                          path.string() + "' 2>/dev/null";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return {};
  std::string out;
  char buf[512];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  pclose(pipe);
  std::string hex;
  const auto eq = out.find('=');
  if (eq == std::string::npos) return {};
  for (char c : out.substr(eq + 1)) {
    if (std::isxdigit(static_cast<unsigned char>(c)) != 0) hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return hex;
}

std::string base64(std::span<const std::byte> data, bool wrap) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  if (!wrap) return out;
  std::string wrapped;
  for (std::size_t i = 0; i < out.size(); i += 64) wrapped += out.substr(i, 64) + "\n";
  return wrapped;
}

Bytes as_bytes(std::string_view s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return {p, p + s.size()};
}

}  // namespace

TEST_SUITE("load_any") {
  TEST_CASE("a DER certificate saved as .p12 is a certificate, not a bad password") {
    DPGCERT_REQUIRE_SHARED(shared);
    const fs::path file = shared / "samples" / "oces" / "oces2-preprod" / "system_vii.p12";
    const SecretBytes pw = SecretBytes::from_text("Test1234");
    const auto loaded = load_any(test::read_file(file), &pw);
    CHECK(loaded.kind == FileKind::certificate);
    CHECK_FALSE(loaded.bundle.has_value());
    REQUIRE(loaded.certificates.size() == 1);
    CHECK(loaded.certificates[0].fingerprint_hex() == cli_fingerprint(file, "DER"));
    CHECK(loaded.certificates[0].subject().first("CN") == "TRUST2408 Systemtest VII Primary CA");
    const auto from_file = load_any_file(file);
    CHECK(from_file.kind == FileKind::certificate);
  }

  TEST_CASE("PKCS#12 files come back as bundles with their certificates") {
    DPGCERT_REQUIRE_SHARED(shared);
    const fs::path file = shared / "samples" / "oces" / "oces2-preprod" / "VOCES_gyldig.p12";
    const SecretBytes pw = SecretBytes::from_text("Test1234");
    const auto loaded = load_any(test::read_file(file), &pw);
    CHECK(loaded.kind == FileKind::pkcs12);
    REQUIRE(loaded.bundle.has_value());
    CHECK(loaded.bundle->key_matches());
    REQUIRE(loaded.certificates.size() == loaded.bundle->certificates().size());
    CHECK(loaded.certificates.size() == 3);
    // A wrong password stays bad_password: the file is recognised as PKCS#12 first.
    const SecretBytes wrong = SecretBytes::from_text("wrong");
    const auto e = load_error([&] { (void)load_any(test::read_file(file), &wrong); });
    REQUIRE(e);
    CHECK(e->code() == ErrorCode::bad_password);
    // No password means the empty (or absent) one.
    const auto e2 = load_error([&] { (void)load_any(test::read_file(file)); });
    REQUIRE(e2);
    CHECK(e2->code() == ErrorCode::bad_password);
    const auto empty = load_any_file(shared / "vectors" / "pkcs12" / "boringssl" / "empty_password.p12");
    CHECK(empty.kind == FileKind::pkcs12);
    CHECK(empty.bundle->key_matches());
  }

  TEST_CASE("PEM, several PEM blocks, bare base64 and base64 PKCS#12") {
    DPGCERT_REQUIRE_SHARED(shared);
    const fs::path ca = shared / "samples" / "oces" / "oces2-ca" / "TRUST2408-OCES-CA-V.cert.pem";
    const fs::path root = shared / "samples" / "oces" / "oces2-ca" / "TRUST2408-OCES-Primary-CA.cert.pem";
    const auto one = load_any(test::read_file(ca));
    CHECK(one.kind == FileKind::certificate);
    REQUIRE(one.certificates.size() == 1);
    CHECK(one.certificates[0].fingerprint_hex() == cli_fingerprint(ca, "PEM"));

    const std::string both = test::read_text(ca) + "\n" + test::read_text(root);
    const auto two = load_any(as_bytes(both));
    CHECK(two.kind == FileKind::certificate);
    CHECK(two.certificates.size() == 2);

    const auto der = one.certificates[0].der();
    const auto bare = load_any(as_bytes(base64(der, true)));
    CHECK(bare.kind == FileKind::certificate);
    REQUIRE(bare.certificates.size() == 1);
    CHECK(bare.certificates[0] == one.certificates[0]);

    const Bytes p12 = test::read_file(shared / "samples" / "oces" / "oces2-preprod" / "FOCES_gyldig.p12");
    const SecretBytes pw = SecretBytes::from_text("Test1234");
    for (bool wrap : {false, true}) {
      CAPTURE(wrap);
      const auto text = load_any(as_bytes(base64(p12, wrap)), &pw);
      CHECK(text.kind == FileKind::pkcs12);
      REQUIRE(text.bundle.has_value());
      CHECK(text.bundle->key_matches());
    }
  }

  TEST_CASE("broken input is malformed, and a broken PKCS#12 file is reported as PKCS#12") {
    DPGCERT_REQUIRE_SHARED(shared);
    const Bytes p12 = test::read_file(shared / "samples" / "oces" / "oces2-preprod" / "MOCES_gyldig.p12");
    const SecretBytes pw = SecretBytes::from_text("Test1234");
    const auto truncated = load_error([&] { (void)load_any(std::span(p12).first(p12.size() / 3), &pw); });
    REQUIRE(truncated);
    CHECK(truncated->code() == ErrorCode::malformed);
    CHECK(std::string(truncated->what()).rfind("PKCS#12", 0) == 0);

    for (const char* text : {"hello, this is not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n", "%%%"}) {
      CAPTURE(text);
      const auto e = load_error([&] { (void)load_any(as_bytes(text)); });
      REQUIRE(e);
      CHECK(e->code() == ErrorCode::malformed);
    }
    const auto empty = load_error([] { (void)load_any({}); });
    REQUIRE(empty);
    CHECK(empty->code() == ErrorCode::malformed);
  }

  TEST_CASE("load_any_file: io errors and the size limit before reading") {
    const auto missing = load_error([] { (void)load_any_file("/nonexistent/dpgcert/cert.p12"); });
    REQUIRE(missing);
    CHECK(missing->code() == ErrorCode::io);

    const fs::path big = fs::temp_directory_path() / "dpgcert-load-any-big.bin";
    {
      std::ofstream out(big, std::ios::binary);
      out << std::string(4096, '0');
    }
    Limits limits;
    limits.max_input_bytes = 1024;
    const Context ctx(limits);
    const auto e = load_error([&] { (void)load_any_file(big, nullptr, ctx); });
    std::error_code ec;
    fs::remove(big, ec);
    REQUIRE(e);
    CHECK(e->code() == ErrorCode::limit_exceeded);
    const Bytes data(2048, std::byte{0x30});
    const auto e2 = load_error([&] { (void)load_any(data, nullptr, ctx); });
    REQUIRE(e2);
    CHECK(e2->code() == ErrorCode::limit_exceeded);
  }
}
