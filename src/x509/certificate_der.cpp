// dpgcert's own reading of a certificate's DER: the checks d2i_X509 makes, and the fields
// Certificate exposes, without OpenSSL (whose d2i_X509 in 3.0 spends most of its time setting up
// a public-key decoder nobody asked for).
//
// The rule that keeps the values identical to OpenSSL's: what this reader accepts, OpenSSL accepts
// and reads the same way; whatever the reader is not sure of (an unusual string type, a time
// outside RFC 5280's two forms, an extension it does not decode), it leaves to OpenSSL rather than
// guessing. The differential test (tests/unit/test_x509_der.cpp) holds it to that on every
// certificate of ../shared, and the fuzz target replays its corpus through both.
#include "core/der.hpp"
#include "x509/certificate_impl.hpp"
#include "x509/name_util.hpp"

#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <cstdint>
#include <cstring>

namespace dpgcert::detail {
namespace {

using Bytes = std::span<const std::byte>;

constexpr std::size_t kMaxDepth = 32;

std::uint8_t u8(std::byte b) noexcept { return static_cast<std::uint8_t>(b); }

/// One element read by the strict reader.
struct Tlv {
  std::uint8_t cls = 0;  ///< 0 universal, 1 application, 2 context-specific, 3 private
  bool cons = false;
  std::uint32_t tag = 0;
  Bytes content;
  Bytes whole;
};

enum class Read { ok, end, not_der, bad };

/// Reads the element at the start of `in` in DER: low tag numbers only (certificates use no
/// other), definite lengths in their shortest form. `bad` for anything that does not fit.
Read read_tlv(Bytes in, Tlv& out) noexcept {
  if (in.empty()) return Read::end;
  if (in.size() < 2) return Read::bad;
  const std::uint8_t first = u8(in[0]);
  out.cls = static_cast<std::uint8_t>(first >> 6);
  out.cons = (first & 0x20) != 0;
  out.tag = first & 0x1fU;
  if (out.tag == 0x1f) return Read::bad;  // high tag numbers: none in a certificate
  const std::uint8_t l0 = u8(in[1]);
  std::size_t len = 0;
  std::size_t hdr = 2;
  if (l0 < 0x80) {
    len = l0;
  } else if (l0 == 0x80) {
    return out.cons ? Read::not_der : Read::bad;  // indefinite length: BER
  } else {
    const std::size_t n = l0 & 0x7fU;
    if (n > 4 || in.size() < 2 + n) return Read::bad;
    if (u8(in[2]) == 0) return Read::not_der;  // leading zero octet
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | u8(in[2 + i]);
    if (len < 0x80) return Read::not_der;  // long form for a short length
    hdr = 2 + n;
  }
  if (len > in.size() - hdr) return Read::bad;
  out.content = in.subspan(hdr, len);
  out.whole = in.first(hdr + len);
  return Read::ok;
}

/// Walks every element (recursing into constructed ones) checking DER framing.
Read framing(Bytes in, std::size_t depth) noexcept {
  while (!in.empty()) {
    Tlv t;
    const Read r = read_tlv(in, t);
    if (r != Read::ok) return r;
    if (t.cons) {
      if (t.cls == 0 && detail::der::is_string_tag(t.tag)) return Read::not_der;
      if (depth >= kMaxDepth) return Read::bad;
      const Read inner = framing(t.content, depth + 1);
      if (inner != Read::ok) return inner;
    }
    in = in.subspan(t.whole.size());
  }
  return Read::ok;
}

/// A cursor over content whose framing was checked already.
class Cursor {
 public:
  explicit Cursor(Bytes in) noexcept : in_(in) {}
  [[nodiscard]] bool empty() const noexcept { return in_.empty(); }
  /// The next element if it has this class, constructedness and tag.
  bool next(Tlv& t, std::uint8_t cls, bool cons, std::uint32_t tag) noexcept {
    if (!peek(t) || t.cls != cls || t.cons != cons || t.tag != tag) return false;
    in_ = in_.subspan(t.whole.size());
    return true;
  }
  bool next_any(Tlv& t) noexcept {
    if (!peek(t)) return false;
    in_ = in_.subspan(t.whole.size());
    return true;
  }
  bool peek(Tlv& t) const noexcept { return read_tlv(in_, t) == Read::ok; }

 private:
  Bytes in_;
};

// ---- primitive values, as OpenSSL's c2i functions check them --------------------------------

/// INTEGER content as c2i_ASN1_INTEGER accepts it: not empty, no redundant leading octet.
bool integer_ok(Bytes c) noexcept {
  if (c.empty()) return false;
  if (c.size() == 1) return true;
  const std::uint8_t a = u8(c[0]);
  const std::uint8_t b = u8(c[1]);
  return !((a == 0 && b < 0x80) || (a == 0xff && b >= 0x80));
}

/// OBJECT IDENTIFIER content as c2i_ASN1_OBJECT accepts it.
bool oid_ok(Bytes c) noexcept {
  if (c.empty() || (u8(c.back()) & 0x80) != 0) return false;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (u8(c[i]) == 0x80 && (i == 0 || (u8(c[i - 1]) & 0x80) == 0)) return false;
  }
  return true;
}

/// BIT STRING content as c2i_ASN1_BIT_STRING accepts it.
bool bits_ok(Bytes c) noexcept { return !c.empty() && u8(c[0]) <= 7; }

bool next_integer(Cursor& c, Tlv& t) noexcept { return c.next(t, 0, false, 2) && integer_ok(t.content); }
bool next_oid(Cursor& c, Tlv& t) noexcept { return c.next(t, 0, false, 6) && oid_ok(t.content); }

/// AlgorithmIdentifier with the parameters this reader is sure OpenSSL's ANY reads: none, NULL,
/// an OID, or a SEQUENCE (kept whole by OpenSSL, not looked into).
bool algorithm_ok(Bytes content) noexcept {
  Cursor c(content);
  Tlv t;
  if (!next_oid(c, t)) return false;
  if (c.empty()) return true;
  if (!c.next_any(t) || !c.empty() || t.cls != 0) return false;
  if (t.tag == 5) return !t.cons && t.content.empty();
  if (t.tag == 6) return !t.cons && oid_ok(t.content);
  return t.tag == 16 && t.cons;
}

// ---- strings -----------------------------------------------------------------------------

bool unicode_ok(std::uint32_t v) noexcept { return v <= 0x10ffff && !(v >= 0xd800 && v <= 0xdfff); }

void put_utf8(std::string& out, std::uint32_t v) {
  if (v < 0x80) {
    out += static_cast<char>(v);
  } else if (v < 0x800) {
    out += static_cast<char>(0xc0 | (v >> 6));
    out += static_cast<char>(0x80 | (v & 0x3f));
  } else if (v < 0x10000) {
    out += static_cast<char>(0xe0 | (v >> 12));
    out += static_cast<char>(0x80 | ((v >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (v & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (v >> 18));
    out += static_cast<char>(0x80 | ((v >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((v >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (v & 0x3f));
  }
}

/// Whether `c` is UTF-8 as ASN1_mbstring_copy accepts it (shortest forms, no surrogates, at most
/// U+10FFFF).
bool utf8_ok(Bytes c) noexcept {
  std::size_t i = 0;
  while (i < c.size()) {
    const std::uint8_t b = u8(c[i]);
    std::size_t n = 0;
    std::uint32_t v = 0;
    std::uint32_t min = 0;
    if (b < 0x80) {
      ++i;
      continue;
    }
    if ((b & 0xe0) == 0xc0) {
      n = 1, v = b & 0x1fU, min = 0x80;
    } else if ((b & 0xf0) == 0xe0) {
      n = 2, v = b & 0x0fU, min = 0x800;
    } else if ((b & 0xf8) == 0xf0) {
      n = 3, v = b & 0x07U, min = 0x10000;
    } else {
      return false;
    }
    if (c.size() - i <= n) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const std::uint8_t cb = u8(c[i + k]);
      if ((cb & 0xc0) != 0x80) return false;
      v = (v << 6) | (cb & 0x3fU);
    }
    if (v < min || !unicode_ok(v)) return false;
    i += n + 1;
  }
  return true;
}

/// The string types of a Name's attribute values this reader converts itself. OpenSSL's
/// X509_NAME decoding canonicalises them (ASN1_STRING_to_UTF8), which fails, and with it the
/// whole certificate, for the checks in string_ok.
bool is_name_string(std::uint32_t tag) noexcept {
  return tag == 12 || tag == 18 || tag == 19 || tag == 20 || tag == 22 || tag == 28 || tag == 30;
}

bool string_ok(std::uint32_t tag, Bytes c) noexcept {
  switch (tag) {
    case 12: return utf8_ok(c);
    case 30:
      if (c.size() % 2 != 0) return false;
      for (std::size_t i = 0; i < c.size(); i += 2) {
        if (!unicode_ok((static_cast<std::uint32_t>(u8(c[i])) << 8) | u8(c[i + 1]))) return false;
      }
      return true;
    case 28:
      if (c.size() % 4 != 0) return false;
      for (std::size_t i = 0; i < c.size(); i += 4) {
        const std::uint32_t v = (static_cast<std::uint32_t>(u8(c[i])) << 24) | (static_cast<std::uint32_t>(u8(c[i + 1])) << 16) |
                                (static_cast<std::uint32_t>(u8(c[i + 2])) << 8) | u8(c[i + 3]);
        if (!unicode_ok(v)) return false;
      }
      return true;
    default: return true;  // one octet per character (Latin-1 to OpenSSL)
  }
}

/// A checked string's value as UTF-8, as ASN1_STRING_to_UTF8 gives it.
std::string string_utf8(std::uint32_t tag, Bytes c) {
  std::string out;
  if (tag == 12) {
    out.assign(reinterpret_cast<const char*>(c.data()), c.size());
    return out;
  }
  out.reserve(c.size());
  if (tag == 30) {
    for (std::size_t i = 0; i + 1 < c.size(); i += 2) put_utf8(out, (static_cast<std::uint32_t>(u8(c[i])) << 8) | u8(c[i + 1]));
  } else if (tag == 28) {
    for (std::size_t i = 0; i + 3 < c.size(); i += 4) {
      put_utf8(out, (static_cast<std::uint32_t>(u8(c[i])) << 24) | (static_cast<std::uint32_t>(u8(c[i + 1])) << 16) |
                        (static_cast<std::uint32_t>(u8(c[i + 2])) << 8) | u8(c[i + 3]));
    }
  } else {
    for (std::byte b : c) put_utf8(out, u8(b));
  }
  return out;
}

/// A Name whose every attribute value is a string type this reader converts.
bool name_ok(Bytes whole) noexcept {
  Cursor outer(whole);
  Tlv seq;
  if (!outer.next(seq, 0, true, 16) || !outer.empty()) return false;
  Cursor rdns(seq.content);
  while (!rdns.empty()) {
    Tlv set;
    if (!rdns.next(set, 0, true, 17) || set.content.empty()) return false;  // an empty RDN: OpenSSL's call
    Cursor avas(set.content);
    while (!avas.empty()) {
      Tlv ava, oid, value;
      if (!avas.next(ava, 0, true, 16)) return false;
      Cursor f(ava.content);
      if (!next_oid(f, oid) || !f.next_any(value) || !f.empty()) return false;
      if (value.cls != 0 || value.cons || !is_name_string(value.tag) || !string_ok(value.tag, value.content)) return false;
    }
  }
  return true;
}

// ---- times -------------------------------------------------------------------------------

int digits(Bytes c, std::size_t at, std::size_t n) noexcept {
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t d = u8(c[at + i]);
    if (d < '0' || d > '9') return -1;
    v = v * 10 + (d - '0');
  }
  return v;
}

/// RFC 5280's forms (YYMMDDHHMMSSZ, YYYYMMDDHHMMSSZ) with fields in range; nullopt otherwise.
std::optional<Time> strict_time(std::uint32_t tag, Bytes c) noexcept {
  int year = 0;
  std::size_t at = 0;
  if (tag == 23 && c.size() == 13) {
    year = digits(c, 0, 2);
    if (year < 0) return std::nullopt;
    year += year < 50 ? 2000 : 1900;
    at = 2;
  } else if (tag == 24 && c.size() == 15) {
    year = digits(c, 0, 4);
    if (year < 0) return std::nullopt;
    at = 4;
  } else {
    return std::nullopt;
  }
  if (u8(c.back()) != 'Z') return std::nullopt;
  const int mon = digits(c, at, 2), day = digits(c, at + 2, 2), hour = digits(c, at + 4, 2),
            min = digits(c, at + 6, 2), sec = digits(c, at + 8, 2);
  if (mon < 1 || mon > 12 || day < 1 || hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 59) {
    return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year{year}, month{static_cast<unsigned>(mon)}, std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  return time_point_cast<seconds>(sys_days{ymd}) + hours{hour} + minutes{min} + seconds{sec};
}

bool time_ok(const Tlv& t) noexcept { return t.cls == 0 && !t.cons && strict_time(t.tag, t.content).has_value(); }

// ---- extensions --------------------------------------------------------------------------

/// Content octets of the OIDs dpgcert reads or must leave to OpenSSL.
template <std::size_t N>
bool is_oid(Bytes c, const std::uint8_t (&o)[N]) noexcept {
  return c.size() == N && std::memcmp(c.data(), o, N) == 0;
}
constexpr std::uint8_t kOidSki[] = {0x55, 0x1d, 0x0e};
constexpr std::uint8_t kOidKu[] = {0x55, 0x1d, 0x0f};
constexpr std::uint8_t kOidSan[] = {0x55, 0x1d, 0x11};
constexpr std::uint8_t kOidBc[] = {0x55, 0x1d, 0x13};
constexpr std::uint8_t kOidNc[] = {0x55, 0x1d, 0x1e};
constexpr std::uint8_t kOidCdp[] = {0x55, 0x1d, 0x1f};
constexpr std::uint8_t kOidPolicies[] = {0x55, 0x1d, 0x20};
constexpr std::uint8_t kOidAki[] = {0x55, 0x1d, 0x23};
constexpr std::uint8_t kOidEku[] = {0x55, 0x1d, 0x25};
constexpr std::uint8_t kOidAia[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01};
constexpr std::uint8_t kOidProxy[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x0e};
constexpr std::uint8_t kOidIpAddrBlock[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x07};
constexpr std::uint8_t kOidAsId[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x08};
constexpr std::uint8_t kOidNsCertType[] = {0x60, 0x86, 0x48, 0x01, 0x86, 0xf8, 0x42, 0x01, 0x01};
constexpr std::uint8_t kOidOcsp[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01};
constexpr std::uint8_t kOidCaIssuers[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02};
constexpr std::uint8_t kOidCps[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x02, 0x01};
constexpr std::uint8_t kOidUserNotice[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x02, 0x02};

/// Result of decoding one extension: fine, broken (OpenSSL's decoding fails too: the extension
/// reads as absent and may make the certificate invalid), or not for this reader.
enum class Ext { ok, broken, decline };

/// The single element an extension's OCTET STRING holds. OpenSSL ignores octets after it;
/// this reader leaves such values to OpenSSL.
Ext value_element(Bytes value, Tlv& t) noexcept {
  const Read r = read_tlv(value, t);
  if (r != Read::ok) return Ext::decline;
  if (t.whole.size() != value.size()) return Ext::decline;
  if (t.cons && framing(t.content, 1) != Read::ok) return Ext::decline;
  return Ext::ok;
}

std::string ia5_text(Bytes c) { return {reinterpret_cast<const char*>(c.data()), c.size()}; }

struct GeneralName {
  std::uint32_t tag = 0;
  Bytes content;
};

/// GeneralNames as OpenSSL's GENERAL_NAMES decodes them, for the choices this reader knows:
/// rfc822Name, dNSName, URI (IA5String, any octets), directoryName, iPAddress, registeredID.
Ext general_names(Bytes content, std::vector<GeneralName>& out) {
  Cursor c(content);
  while (!c.empty()) {
    Tlv t;
    if (!c.next_any(t) || t.cls != 2) return Ext::decline;
    switch (t.tag) {
      case 1: case 2: case 6: case 7:
        if (t.cons) return Ext::decline;
        break;
      case 8:
        if (t.cons || !oid_ok(t.content)) return Ext::decline;
        break;
      case 4: {
        if (!t.cons) return Ext::decline;
        Cursor inner(t.content);
        Tlv name;
        if (!inner.next_any(name) || !inner.empty() || !name_ok(name.whole)) return Ext::decline;
        break;
      }
      default: return Ext::decline;  // otherName, x400Address, ediPartyName
    }
    out.push_back({t.tag, t.content});
  }
  return Ext::ok;
}

/// SEQUENCE OF OBJECT IDENTIFIER (extended key usage).
Ext read_eku(const Tlv& v, std::vector<std::string>& out) {
  if (v.cls != 0 || !v.cons || v.tag != 16) return Ext::decline;
  Cursor c(v.content);
  std::vector<std::string> oids;
  while (!c.empty()) {
    Tlv o;
    if (!next_oid(c, o)) return Ext::decline;
    oids.push_back(oid_text_der(o.content));
  }
  out = std::move(oids);
  return Ext::ok;
}

Ext read_key_usage(const Tlv& v, KeyUsage& k, std::uint32_t& bits) {
  if (v.cls != 0 || v.cons || v.tag != 3 || !bits_ok(v.content)) return Ext::decline;
  const auto unused = u8(v.content[0]);
  std::vector<std::uint8_t> data;
  for (std::size_t i = 1; i < v.content.size(); ++i) data.push_back(u8(v.content[i]));
  if (!data.empty()) data.back() = static_cast<std::uint8_t>(data.back() & (0xffU << unused));
  bits = 0;
  if (!data.empty()) bits = data[0];
  if (data.size() > 1) bits |= static_cast<std::uint32_t>(data[1]) << 8;
  k.digital_signature = (bits & KU_DIGITAL_SIGNATURE) != 0;
  k.non_repudiation = (bits & KU_NON_REPUDIATION) != 0;
  k.key_encipherment = (bits & KU_KEY_ENCIPHERMENT) != 0;
  k.data_encipherment = (bits & KU_DATA_ENCIPHERMENT) != 0;
  k.key_agreement = (bits & KU_KEY_AGREEMENT) != 0;
  k.key_cert_sign = (bits & KU_KEY_CERT_SIGN) != 0;
  k.crl_sign = (bits & KU_CRL_SIGN) != 0;
  k.encipher_only = (bits & KU_ENCIPHER_ONLY) != 0;
  k.decipher_only = (bits & KU_DECIPHER_ONLY) != 0;
  return Ext::ok;
}

/// BasicConstraints. A path length without cA or a negative one is left to OpenSSL (its verdict
/// on such certificates has changed between releases).
Ext read_basic_constraints(const Tlv& v, BasicConstraints& b) {
  if (v.cls != 0 || !v.cons || v.tag != 16) return Ext::decline;
  Cursor c(v.content);
  Tlv t;
  if (c.peek(t) && t.cls == 0 && t.tag == 1) {
    if (t.cons || t.content.size() != 1) return Ext::decline;
    b.ca = u8(t.content[0]) != 0;
    (void)c.next_any(t);
  }
  if (!c.empty()) {
    if (!next_integer(c, t) || !c.empty()) return Ext::decline;
    if ((u8(t.content[0]) & 0x80) != 0 || !b.ca || t.content.size() > 4) return Ext::decline;
    long v2 = 0;
    for (std::byte x : t.content) v2 = (v2 << 8) | u8(x);
    b.path_length = static_cast<int>(v2);
  }
  return Ext::ok;
}

Ext read_san(const Tlv& v, AlternativeNames& out) {
  if (v.cls != 0 || !v.cons || v.tag != 16) return Ext::decline;
  std::vector<GeneralName> names;
  if (general_names(v.content, names) != Ext::ok) return Ext::decline;
  for (const auto& g : names) {
    if (g.tag == 1) out.emails.push_back(ia5_text(g.content));
    if (g.tag == 2) out.dns.push_back(ia5_text(g.content));
    if (g.tag == 6) out.uris.push_back(ia5_text(g.content));
  }
  return Ext::ok;
}

Ext read_aia(const Tlv& v, AuthorityInfoAccess& out) {
  if (v.cls != 0 || !v.cons || v.tag != 16) return Ext::decline;
  Cursor c(v.content);
  while (!c.empty()) {
    Tlv ad, method, loc;
    if (!c.next(ad, 0, true, 16)) return Ext::decline;
    Cursor f(ad.content);
    if (!next_oid(f, method) || !f.peek(loc)) return Ext::decline;
    std::vector<GeneralName> one;
    if (general_names(ad.content.subspan(method.whole.size()), one) != Ext::ok || one.size() != 1) return Ext::decline;
    if (one[0].tag != 6) continue;
    if (is_oid(method.content, kOidOcsp)) out.ocsp.push_back(ia5_text(one[0].content));
    if (is_oid(method.content, kOidCaIssuers)) out.ca_issuers.push_back(ia5_text(one[0].content));
  }
  return Ext::ok;
}

/// CRLDistributionPoints; OpenSSL's setup_dp deems a point with neither name nor CRL issuer
/// invalid (left to it), and a name relative to the issuer is left to it as well.
Ext read_cdp(const Tlv& v, std::vector<std::string>& out) {
  if (v.cls != 0 || !v.cons || v.tag != 16) return Ext::decline;
  Cursor c(v.content);
  while (!c.empty()) {
    Tlv dp;
    if (!c.next(dp, 0, true, 16)) return Ext::decline;
    Cursor f(dp.content);
    Tlv t;
    bool has_name = false;
    std::vector<GeneralName> full;
    if (f.peek(t) && t.cls == 2 && t.tag == 0) {
      (void)f.next_any(t);
      if (!t.cons) return Ext::decline;
      Cursor n(t.content);
      Tlv choice;
      if (!n.next(choice, 2, true, 0) || !n.empty()) return Ext::decline;  // fullName only
      if (general_names(choice.content, full) != Ext::ok) return Ext::decline;
      has_name = true;
    }
    if (f.peek(t) && t.cls == 2 && t.tag == 1) {
      (void)f.next_any(t);
      if (t.cons || !bits_ok(t.content)) return Ext::decline;
    }
    if (f.peek(t) && t.cls == 2 && t.tag == 2) {
      (void)f.next_any(t);
      std::vector<GeneralName> issuer;
      if (!t.cons || general_names(t.content, issuer) != Ext::ok) return Ext::decline;
    }
    if (!f.empty() || !has_name) return Ext::decline;
    for (const auto& g : full) {
      if (g.tag == 6) out.push_back(ia5_text(g.content));
    }
  }
  return Ext::ok;
}

/// DisplayText (IA5String, VisibleString, BMPString, UTF8String), as OpenSSL's DISPLAYTEXT
/// accepts it.
bool display_text_ok(const Tlv& t) noexcept {
  if (t.cls != 0 || t.cons) return false;
  if (t.tag == 22 || t.tag == 26 || t.tag == 12) return true;
  return t.tag == 30 && t.content.size() % 2 == 0;
}

/// certificatePolicies, with the CPS and user-notice qualifiers OpenSSL decodes.
Ext read_policies(const Tlv& v, std::vector<std::string>& out) {
  if (v.cls != 0 || !v.cons || v.tag != 16) return Ext::decline;
  Cursor c(v.content);
  while (!c.empty()) {
    Tlv info, id;
    if (!c.next(info, 0, true, 16)) return Ext::decline;
    Cursor f(info.content);
    if (!next_oid(f, id)) return Ext::decline;
    if (!f.empty()) {
      Tlv quals;
      if (!f.next(quals, 0, true, 16) || !f.empty()) return Ext::decline;
      Cursor q(quals.content);
      while (!q.empty()) {
        Tlv qi, qid, qv;
        if (!q.next(qi, 0, true, 16)) return Ext::decline;
        Cursor qf(qi.content);
        if (!next_oid(qf, qid) || !qf.next_any(qv) || !qf.empty()) return Ext::decline;
        if (is_oid(qid.content, kOidCps)) {
          if (qv.cls != 0 || qv.cons || qv.tag != 22) return Ext::decline;
        } else if (is_oid(qid.content, kOidUserNotice)) {
          if (qv.cls != 0 || !qv.cons || qv.tag != 16) return Ext::decline;
          Cursor un(qv.content);
          Tlv t;
          if (un.peek(t) && t.cls == 0 && t.cons && t.tag == 16) {  // noticeRef
            (void)un.next_any(t);
            Cursor nr(t.content);
            Tlv org, nums;
            if (!nr.next_any(org) || !display_text_ok(org) || !nr.next(nums, 0, true, 16) || !nr.empty()) return Ext::decline;
            Cursor ns(nums.content);
            while (!ns.empty()) {
              Tlv n;
              if (!next_integer(ns, n)) return Ext::decline;
            }
          }
          if (!un.empty()) {
            if (!un.next_any(t) || !display_text_ok(t) || !un.empty()) return Ext::decline;
          }
        } else {
          return Ext::decline;  // other qualifiers: OpenSSL's ANY
        }
      }
    }
    out.push_back(oid_text_der(id.content));
  }
  return Ext::ok;
}

Ext read_octets(const Tlv& v, std::vector<std::byte>& out) {
  if (v.cls != 0 || v.cons || v.tag != 4) return Ext::decline;
  out.assign(v.content.begin(), v.content.end());
  return Ext::ok;
}

/// AuthorityKeyIdentifier: [0] keyIdentifier, [1] authorityCertIssuer, [2] serial.
Ext read_aki(const Tlv& v, std::optional<std::vector<std::byte>>& out) {
  if (v.cls != 0 || !v.cons || v.tag != 16) return Ext::decline;
  Cursor c(v.content);
  Tlv t;
  if (c.peek(t) && t.cls == 2 && t.tag == 0) {
    (void)c.next_any(t);
    if (t.cons) return Ext::decline;
    out = std::vector<std::byte>(t.content.begin(), t.content.end());
  }
  if (c.peek(t) && t.cls == 2 && t.tag == 1) {
    (void)c.next_any(t);
    std::vector<GeneralName> names;
    if (!t.cons || general_names(t.content, names) != Ext::ok) return Ext::decline;
  }
  if (c.peek(t) && t.cls == 2 && t.tag == 2) {
    (void)c.next_any(t);
    if (t.cons || !integer_ok(t.content)) return Ext::decline;
  }
  if (!c.empty()) return Ext::decline;
  return Ext::ok;
}

}  // namespace

// ---- the certificate ----------------------------------------------------------------------

DerVerdict read_certificate_der(std::span<const std::byte> der, CertificateLayout& out) noexcept {
  out = CertificateLayout{};
  switch (framing(der, 0)) {
    case Read::ok: break;
    case Read::not_der: return DerVerdict::not_der;
    default: return DerVerdict::unsure;
  }
  Cursor top(der);
  Tlv cert, tbs, alg, sig, t;
  if (!top.next(cert, 0, true, 16) || !top.empty()) return DerVerdict::unsure;
  Cursor cc(cert.content);
  if (!cc.next(tbs, 0, true, 16) || !cc.next(alg, 0, true, 16) || !cc.next(sig, 0, false, 3) || !cc.empty()) {
    return DerVerdict::unsure;
  }
  if (!algorithm_ok(alg.content) || !bits_ok(sig.content)) return DerVerdict::unsure;
  out.signature_algorithm = alg.whole;
  out.signature = sig.whole;

  Cursor c(tbs.content);
  if (c.peek(t) && t.cls == 2 && t.tag == 0) {
    (void)c.next_any(t);
    Cursor v(t.content);
    Tlv ver;
    if (!t.cons || !next_integer(v, ver) || !v.empty()) return DerVerdict::unsure;
    out.version = ver.whole;
  }
  Tlv serial, talg, issuer, validity, subject, spki;
  if (!next_integer(c, serial) || !c.next(talg, 0, true, 16) || !algorithm_ok(talg.content) ||
      !c.next(issuer, 0, true, 16) || !name_ok(issuer.whole) || !c.next(validity, 0, true, 16) ||
      !c.next(subject, 0, true, 16) || !name_ok(subject.whole) || !c.next(spki, 0, true, 16)) {
    return DerVerdict::unsure;
  }
  Cursor val(validity.content);
  Tlv nb, na;
  if (!val.next_any(nb) || !val.next_any(na) || !val.empty() || !time_ok(nb) || !time_ok(na)) return DerVerdict::unsure;
  Cursor k(spki.content);
  Tlv kalg, kbits;
  if (!k.next(kalg, 0, true, 16) || !algorithm_ok(kalg.content) || !k.next(kbits, 0, false, 3) || !k.empty() ||
      !bits_ok(kbits.content)) {
    return DerVerdict::unsure;
  }
  for (std::uint32_t uid = 1; uid <= 2; ++uid) {
    if (c.peek(t) && t.cls == 2 && t.tag == uid) {
      (void)c.next_any(t);
      if (t.cons || !bits_ok(t.content)) return DerVerdict::unsure;
    }
  }
  if (c.peek(t) && t.cls == 2 && t.tag == 3) {
    (void)c.next_any(t);
    Cursor e(t.content);
    Tlv exts;
    if (!t.cons || !e.next(exts, 0, true, 16) || !e.empty()) return DerVerdict::unsure;
    Cursor list(exts.content);
    while (!list.empty()) {
      Tlv ext, oid, value;
      if (!list.next(ext, 0, true, 16)) return DerVerdict::unsure;
      Cursor f(ext.content);
      if (!next_oid(f, oid)) return DerVerdict::unsure;
      if (f.peek(t) && t.cls == 0 && t.tag == 1) {
        (void)f.next_any(t);
        if (t.cons || t.content.size() != 1) return DerVerdict::unsure;
      }
      if (!f.next(value, 0, false, 4) || !f.empty()) return DerVerdict::unsure;
    }
    out.extensions = exts.content;
  }
  if (!c.empty()) return DerVerdict::unsure;
  out.serial = serial.whole;
  out.issuer = issuer.whole;
  out.not_before = nb.whole;
  out.not_after = na.whole;
  out.subject = subject.whole;
  out.spki = spki.whole;
  return DerVerdict::ok;
}

std::optional<ExtensionValues> read_extensions_der(std::span<const std::byte> extensions) {
  ExtensionValues out;
  // Each extension dpgcert reads, with OpenSSL's rule for repeats (X509_get_ext_d2i: absent).
  struct Found {
    const std::uint8_t* oid;
    std::size_t oid_len;
    int count = 0;
    bool critical = false;
    Bytes value;
  };
  Found found[] = {{kOidSki, sizeof kOidSki, 0, false, {}}, {kOidKu, sizeof kOidKu, 0, false, {}},
                   {kOidSan, sizeof kOidSan, 0, false, {}}, {kOidBc, sizeof kOidBc, 0, false, {}},
                   {kOidCdp, sizeof kOidCdp, 0, false, {}}, {kOidPolicies, sizeof kOidPolicies, 0, false, {}},
                   {kOidAki, sizeof kOidAki, 0, false, {}}, {kOidEku, sizeof kOidEku, 0, false, {}},
                   {kOidAia, sizeof kOidAia, 0, false, {}}};
  enum { ski, ku, san, bc, cdp, pol, aki, eku, aia };
  Cursor list(extensions);
  while (!list.empty()) {
    Tlv ext, oid, t, value;
    if (!list.next(ext, 0, true, 16)) return std::nullopt;
    Cursor f(ext.content);
    if (!f.next(oid, 0, false, 6)) return std::nullopt;
    bool critical = false;
    if (f.peek(t) && t.cls == 0 && t.tag == 1) {
      (void)f.next_any(t);
      critical = u8(t.content[0]) != 0;
    }
    if (!f.next(value, 0, false, 4)) return std::nullopt;
    // Extensions OpenSSL weighs in its validity verdict that this reader does not decode.
    if (is_oid(oid.content, kOidNc) || is_oid(oid.content, kOidProxy) || is_oid(oid.content, kOidNsCertType) ||
        is_oid(oid.content, kOidIpAddrBlock) || is_oid(oid.content, kOidAsId)) {
      return std::nullopt;
    }
    for (auto& e : found) {
      if (oid.content.size() == e.oid_len && std::memcmp(oid.content.data(), e.oid, e.oid_len) == 0) {
        if (e.count++ == 0) {
          e.critical = critical;
          e.value = value.content;
        }
      }
    }
  }
  // Whether OpenSSL's ossl_x509v3_cache_extensions would flag the certificate invalid (a repeat
  // or an undecodable value of the extensions it caches, an empty key usage): X509_get_key_usage
  // then reads 0.
  bool invalid = false;
  KeyUsage k;
  std::uint32_t ku_bits = 0;
  bool have_ku = false;
  for (int which = 0; which < static_cast<int>(std::size(found)); ++which) {
    const Found& e = found[which];
    if (e.count == 0) continue;
    if (e.count > 1) {
      invalid = invalid || which == ski || which == ku || which == san || which == bc || which == cdp || which == aki ||
                which == eku;
      continue;
    }
    Tlv v;
    if (value_element(e.value, v) != Ext::ok) return std::nullopt;
    Ext r = Ext::ok;
    switch (which) {
      case ski: {
        std::vector<std::byte> id;
        r = read_octets(v, id);
        if (r == Ext::ok) out.subject_key_id = std::move(id);
        break;
      }
      case ku:
        r = read_key_usage(v, k, ku_bits);
        if (r == Ext::ok) {
          k.critical = e.critical;
          have_ku = true;
          if (ku_bits == 0) invalid = true;
        }
        break;
      case san: r = read_san(v, out.sans); break;
      case bc: {
        BasicConstraints b;
        r = read_basic_constraints(v, b);
        if (r == Ext::ok) {
          b.critical = e.critical;
          out.basic_constraints = b;
        }
        break;
      }
      case cdp: r = read_cdp(v, out.crl_dps); break;
      case pol: r = read_policies(v, out.policies); break;
      case aki: r = read_aki(v, out.authority_key_id); break;
      case eku: r = read_eku(v, out.eku); break;
      case aia: r = read_aia(v, out.aia); break;
      default: break;
    }
    if (r != Ext::ok) return std::nullopt;
  }
  if (invalid) {
    // X509_get0_subject_key_id and X509_get0_authority_key_id give nothing for such a certificate.
    out.subject_key_id.reset();
    out.authority_key_id.reset();
  }
  if (have_ku) {
    if (invalid) {
      const bool crit = k.critical;
      k = KeyUsage{};
      k.critical = crit;
    }
    out.key_usage = k;
  }
  return out;
}

namespace {

/// OpenSSL's text for OID content octets (it handles arcs of any size).
std::string oid_text_openssl(Bytes content) {
  std::vector<unsigned char> enc{0x06, 0x84};
  for (int s = 24; s >= 0; s -= 8) enc.push_back(static_cast<unsigned char>(content.size() >> s));
  for (std::byte x : content) enc.push_back(u8(x));
  const unsigned char* p = enc.data();
  ASN1_OBJECT* o = d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(enc.size()));
  std::string text = o != nullptr ? oid_text(o) : std::string();
  ASN1_OBJECT_free(o);
  clear_openssl_errors();
  return text;
}

/// OpenSSL's short names (OBJ_nid2sn) of the attributes names usually hold, to spare the lookup.
const char* common_short_name(Bytes c) noexcept {
  static constexpr std::uint8_t kPkcs9Email[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01};
  if (c.size() == 3 && u8(c[0]) == 0x55 && u8(c[1]) == 0x04) {
    switch (u8(c[2])) {
      case 3: return "CN";
      case 4: return "SN";
      case 5: return "serialNumber";
      case 6: return "C";
      case 7: return "L";
      case 8: return "ST";
      case 9: return "street";
      case 10: return "O";
      case 11: return "OU";
      case 12: return "title";
      case 17: return "postalCode";
      case 42: return "GN";
      case 97: return "organizationIdentifier";
      default: return nullptr;
    }
  }
  if (is_oid(c, kPkcs9Email)) return "emailAddress";
  return nullptr;
}

/// The short name OpenSSL gives an attribute type, else its dotted OID.
std::string short_name(const Tlv& oid, const std::string& dotted) {
  if (const char* sn = common_short_name(oid.content)) return sn;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(oid.whole.data());
  ASN1_OBJECT* obj = d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(oid.whole.size()));
  const int nid = obj != nullptr ? OBJ_obj2nid(obj) : NID_undef;
  ASN1_OBJECT_free(obj);
  clear_openssl_errors();
  const char* sn = nid != NID_undef ? OBJ_nid2sn(nid) : nullptr;
  return sn != nullptr ? sn : dotted;
}

}  // namespace

DistinguishedName read_name_der(std::span<const std::byte> name) {
  std::vector<Rdn> rdns;
  Cursor outer(name);
  Tlv seq;
  if (!outer.next(seq, 0, true, 16)) return {};
  Cursor sets(seq.content);
  Tlv set;
  while (sets.next(set, 0, true, 17)) {
    Rdn rdn;
    Cursor avas(set.content);
    Tlv ava;
    while (avas.next(ava, 0, true, 16)) {
      Cursor f(ava.content);
      Tlv oid, value;
      if (!f.next(oid, 0, false, 6) || !f.next_any(value)) break;
      NameAttribute attr;
      attr.oid = oid_text_der(oid.content);
      attr.short_name = short_name(oid, attr.oid);
      attr.value = string_utf8(value.tag, value.content);
      rdn.push_back(std::move(attr));
    }
    rdns.push_back(std::move(rdn));
  }
  return DistinguishedName(std::move(rdns));
}

Time read_time_der(std::span<const std::byte> element) {
  Tlv t;
  if (read_tlv(element, t) == Read::ok) {
    if (const auto v = strict_time(t.tag, t.content)) return *v;
  }
  return from_unix(0);
}

std::optional<PublicKeyInfo> read_public_key_der(std::span<const std::byte> spki) {
  static constexpr std::uint8_t kRsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
  Cursor top(spki);
  Tlv seq, alg, bits, oid, params;
  if (!top.next(seq, 0, true, 16)) return std::nullopt;
  Cursor s(seq.content);
  if (!s.next(alg, 0, true, 16) || !s.next(bits, 0, false, 3)) return std::nullopt;
  Cursor a(alg.content);
  if (!a.next(oid, 0, false, 6) || !is_oid(oid.content, kRsa)) return std::nullopt;
  if (!a.next(params, 0, false, 5) || !params.content.empty() || !a.empty()) return std::nullopt;
  if (bits.content.size() < 2 || u8(bits.content[0]) != 0) return std::nullopt;
  Tlv key, n, e;
  Cursor kc(bits.content.subspan(1));
  if (!kc.next(key, 0, true, 16) || !kc.empty() || framing(key.content, 1) != Read::ok) return std::nullopt;
  Cursor kf(key.content);
  if (!next_integer(kf, n) || !next_integer(kf, e) || !kf.empty()) return std::nullopt;
  if ((u8(n.content[0]) & 0x80) != 0 || (u8(e.content[0]) & 0x80) != 0) return std::nullopt;
  Bytes mag = n.content;
  while (mag.size() > 1 && u8(mag[0]) == 0) mag = mag.subspan(1);
  if (mag.size() == 1 && u8(mag[0]) == 0) return std::nullopt;
  int top_bits = 0;
  for (std::uint8_t b = u8(mag[0]); b != 0; b >>= 1) ++top_bits;
  PublicKeyInfo info;
  info.algorithm = "RSA";
  info.bits = static_cast<int>((mag.size() - 1) * 8) + top_bits;
  return info;
}

std::string oid_text_der(std::span<const std::byte> content) {
  std::string out;
  std::uint64_t v = 0;
  bool first = true;
  for (std::size_t i = 0; i < content.size(); ++i) {
    const std::uint8_t b = u8(content[i]);
    if (v > (UINT64_MAX >> 7)) return oid_text_openssl(content);  // an arc beyond 64 bits
    v = (v << 7) | (b & 0x7fU);
    if ((b & 0x80) != 0) continue;
    if (first) {
      first = false;
      if (v < 40) {
        out += "0.";
      } else if (v < 80) {
        out += "1.";
        v -= 40;
      } else {
        out += "2.";
        v -= 80;
      }
      out += std::to_string(v);
    } else {
      out += '.';
      out += std::to_string(v);
    }
    v = 0;
  }
  return out;
}

}  // namespace dpgcert::detail
