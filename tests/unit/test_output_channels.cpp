// Bytes from files, certificates and the store on their way out: JSON output stays well-formed
// UTF-8 and never throws, terminal output carries no control characters (docs/output.md).
#include "support/test_support.hpp"
#include "core/text.hpp"
#include "store/cert_factory.hpp"

#include <dpgcert/json.hpp>
#include <dpgcert/oces_json.hpp>
#include <dpgcert/validation.hpp>
#include <dpgcert/validation_json.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>

using namespace dpgcert;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string q(const fs::path& p) { return test::shell_quote(p.string()); }

/// Whether `s` holds a byte a terminal acts on: C0 (newline allowed where `newlines`), DEL, or a
/// C1 control in either of its forms (a raw byte 0x80..0x9F after no lead byte, or U+0080..U+009F).
bool has_terminal_controls(std::string_view s, bool newlines = false) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\n' && newlines) continue;
    if (c < 0x20 || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
      return true;
    }
  }
  return !detail::is_utf8(s);
}

// An organisation name that clears the screen, sets the window title, holds a bare CR (a fake
// table row) and a C1 control (CSI as U+009B). (Name values are read as UTF-8; one that is not is
// shown as '#' and hex, so the bytes that are not UTF-8 come in the e-mail address.)
const std::string kHostileOrg = "Evil\x1b[2J\x1b]0;pwned\x07 A/S\rFAKE ROW \xc2\x9b" "31m";
const std::string kHostileEmail = std::string("x\xff@evil.example\x1b[5m", 19);

testing::LeafSpec hostile_spec() {
  testing::LeafSpec s;
  s.common_name = "CN\x1b[31m red\xc2\x85";
  s.organisation = kHostileOrg;
  s.raw_names = true;
  s.san_emails = {kHostileEmail};
  return s;
}

}  // namespace

TEST_SUITE("core text") {
  TEST_CASE("is_utf8 follows RFC 3629: no overlong forms, surrogates or code points above U+10FFFF") {
    CHECK(detail::is_utf8(""));
    CHECK(detail::is_utf8("plain ASCII"));
    CHECK(detail::is_utf8("Ærø \xe2\x98\xba \xf0\x9f\x98\x80"));  // 2-, 3- and 4-byte forms
    CHECK_FALSE(detail::is_utf8("\xff"));
    CHECK_FALSE(detail::is_utf8("\xc0\xaf"));          // overlong '/'
    CHECK_FALSE(detail::is_utf8("\xe0\x80\xaf"));      // overlong '/'
    CHECK_FALSE(detail::is_utf8("\xed\xa0\x80"));      // a surrogate
    CHECK_FALSE(detail::is_utf8("\xf4\x90\x80\x80"));  // U+110000
    CHECK_FALSE(detail::is_utf8("\xe2\x98"));          // cut short
    CHECK_FALSE(detail::is_utf8("\x80"));              // a lone continuation byte
  }

  TEST_CASE("utf8_text writes each byte that is not UTF-8 as \\xHH and keeps the rest") {
    CHECK(detail::utf8_text("Ærø") == "Ærø");
    CHECK(detail::utf8_text("a\xff" "b") == "a\\xFFb");
    CHECK(detail::utf8_text("\xe2\x98") == "\\xE2\\x98");
    CHECK(detail::utf8_text("\xc0\xaf") == "\\xC0\\xAF");
    CHECK(detail::utf8_text(std::string("a\0b", 3)) == std::string("a\0b", 3));  // valid; JSON escapes it
    CHECK(detail::is_utf8(detail::utf8_text("\xed\xa0\x80\xf4\x90\x80\x80")));
  }

  TEST_CASE("make_json_safe fixes strings and keys at any depth, so dump() cannot throw") {
    json j = {{"a", "ok"}, {"b", {std::string("x\xff"), {{"c", std::string("\xfe")}}}}};
    j[std::string("key\xff")] = 1;
    CHECK_THROWS(static_cast<void>(j.dump()));  // what nlohmann::json does with such bytes
    detail::make_json_safe(j);
    const std::string text = j.dump();
    CHECK(json::parse(text)["b"][0] == "x\\xFF");
    CHECK(json::parse(text)["b"][1]["c"] == "\\xFE");
    CHECK(json::parse(text)["key\\xFF"] == 1);
    CHECK(json::parse(text)["a"] == "ok");
    CHECK(json::parse(detail::dump_json(json(std::string("\x80")), 2)) == "\\x80");
  }

  TEST_CASE("terminal_text escapes C0, DEL, C1, ESC, CR, bidirectional controls and bad bytes") {
    CHECK(detail::terminal_text("Testfirma A/S, Ærø") == "Testfirma A/S, Ærø");
    CHECK(detail::terminal_text("a\x1b[2Jb") == "a\\x1B[2Jb");
    CHECK(detail::terminal_text("row\rFAKE\nrow\t") == "row\\x0DFAKE\\x0Arow\\x09");
    CHECK(detail::terminal_text(std::string("nul\0", 4)) == "nul\\x00");
    CHECK(detail::terminal_text("del\x7f") == "del\\x7F");
    CHECK(detail::terminal_text("csi\xc2\x9b" "31m") == "csi\\u009B31m");
    CHECK(detail::terminal_text("raw\x9b") == "raw\\x9B");
    CHECK(detail::terminal_text("rlo\xe2\x80\xae" "txt") == "rlo\\u202Etxt");
    CHECK(detail::terminal_text("a\\b") == "a\\b");  // a backslash stays
    // Escaping twice changes nothing: the output is printable ASCII where it changed anything.
    const std::string once = detail::terminal_text(kHostileOrg);
    CHECK(detail::terminal_text(once) == once);
    CHECK_FALSE(has_terminal_controls(once));
  }
}

TEST_SUITE("output channels") {
  TEST_CASE("every to_json of a certificate with hostile names dumps well-formed UTF-8") {
    testing::CertFactory f;
    const Certificate c = f.leaf(hostile_spec());
    const json cert = to_json(c);
    const std::string text = cert.dump();  // would throw type_error 316 on a raw byte
    CHECK(detail::is_utf8(text));
    CHECK(json::parse(text)["subject_alt_names"]["email"][0] == "x\\xFF@evil.example\x1b[5m");
    CHECK(cert["subject"].get<std::string>().find("O=Evil\x1b[2J\x1b]0\\;pwned") != std::string::npos);
    CHECK(detail::is_utf8(oces::to_json(oces::identify(c)).dump()));

    ValidationInput in;
    in.at = from_unix(1750000000);
    in.anchors = TrustAnchors::from_certificates({f.ca()});
    const ValidationReport report = validate(c, in, Context::shared());
    CHECK(detail::is_utf8(to_json(report).dump()));
    const std::string shown = to_text(report);
    CHECK_FALSE(has_terminal_controls(shown, true));
    CHECK(shown.find("Evil\\x1B[2J") != std::string::npos);
    CHECK(detail::is_utf8(to_json(Error(ErrorCode::malformed, std::string("bad label \xff"))).dump()));
  }

  TEST_CASE("the tool: a file name that is not UTF-8 and hostile certificate fields") {
    DPGCERT_REQUIRE_TOOL();
    test::TempDir tmp{"dpgcert-output"};
    testing::CertFactory f;
    const SecretBytes password = test::pw("Test1234");
    const testing::Made made = f.made(hostile_spec(), password);
    const fs::path name = tmp.path() / std::string("evil-\xff\x1b[2J.p12");
    test::write_text(name, std::string_view(reinterpret_cast<const char*>(made.pkcs12.data()), made.pkcs12.size()));
    const fs::path pem = tmp.path() / std::string("cert-\xfe.pem");
    test::write_text(pem, made.certificate.to_pem());
    const fs::path pwf = tmp.path() / "pw";
    test::write_text(pwf, "Test1234\n");

    SUBCASE("inspect --json and verify --json print valid JSON, the name escaped") {
      const auto r = test::run_tool("inspect --json --password-file " + q(pwf) + " " + q(name));
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      const json j = json::parse(r.out);
      CHECK(j["file"].get<std::string>().ends_with("evil-\\xFF\x1b[2J.p12"));
      CHECK(j["certificate"]["subject_alt_names"]["email"][0] == "x\\xFF@evil.example\x1b[5m");
      const auto v = test::run_tool("verify --json " + q(pem));
      CHECK(v.exit_code <= 3);
      CHECK(json::accept(v.out));
    }
    SUBCASE("inspect and verify in text mode print no control characters") {
      const auto r = test::run_tool("inspect --password-file " + q(pwf) + " " + q(name));
      REQUIRE(r.exit_code == 0);
      CHECK_FALSE(has_terminal_controls(r.out, true));
      CHECK(r.out.find("O=Evil\\x1B[2J\\x1B]0\\;pwned\\x07") != std::string::npos);  // (rows wrap at spaces)
      CHECK(r.out.find("A/S\\x0DFAKE") != std::string::npos);
      CHECK(r.out.find("\\u009B31m") != std::string::npos);
      const auto v = test::run_tool("verify " + q(pem));
      CHECK_FALSE(has_terminal_controls(v.out, true));
      const auto missing = test::run_tool("inspect " + q(tmp.path() / "no\x1b[2Jsuch\rfile"));
      CHECK(missing.exit_code == 3);
      CHECK_FALSE(has_terminal_controls(missing.err, true));
    }
    SUBCASE("import of a file named in bytes: JSON, text, and the store's values in tables") {
      const auto store = "--store " + q(tmp.path() / "s.db") + " ";
      REQUIRE(test::run_tool(store + "store init --key-file " + q(tmp.path() / "k")).exit_code == 0);
      const auto r = test::run_tool(store + "import --json --force --password-file " + q(pwf) + " " + q(name));
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      const json j = json::parse(r.out);
      CHECK(j[0]["outcome"] == "imported");
      CHECK(j[0]["file"].get<std::string>().ends_with("evil-\\xFF\x1b[2J.p12"));
      // The organisation named from the certificate's O, in the tables and in JSON.
      const auto orgs = test::run_tool(store + "org list");
      CHECK_FALSE(has_terminal_controls(orgs.out, true));
      const auto orgs_json = test::run_tool(store + "org list --json");
      CHECK(json::accept(orgs_json.out));
      const auto list = test::run_tool(store + "list");
      CHECK_FALSE(has_terminal_controls(list.out, true));
      const auto audit = test::run_tool(store + "audit");
      CHECK_FALSE(has_terminal_controls(audit.out, true));
      CHECK(json::accept(test::run_tool(store + "audit --json").out));
      const auto again = test::run_tool(store + "import --force --password-file " + q(pwf) + " " + q(name));
      CHECK(again.exit_code == 0);
      CHECK_FALSE(has_terminal_controls(again.out, true));
    }
  }
}
