#include "x509/name_util.hpp"
#include "core/der.hpp"

#include <openssl/objects.h>
#include <openssl/x509.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>
#include <cctype>

namespace dpgcert {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

void escape_value(std::string& out, std::string_view v) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    const bool special = c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';' ||
                         (i == 0 && (c == '#' || c == ' ')) || (i + 1 == v.size() && c == ' ');
    if (c == '\0') {
      out += "\\00";
    } else {
      if (special) out += '\\';
      out += c;
    }
  }
}

}  // namespace

std::string DistinguishedName::to_string() const {
  std::string out;
  for (auto it = rdns_.rbegin(); it != rdns_.rend(); ++it) {
    if (!out.empty()) out += ',';
    bool first = true;
    for (const auto& attr : *it) {
      if (!first) out += '+';
      first = false;
      out += attr.short_name;
      out += '=';
      escape_value(out, attr.value);
    }
  }
  return out;
}

std::vector<std::string> DistinguishedName::values(std::string_view name_or_oid) const {
  std::vector<std::string> out;
  for (const auto& rdn : rdns_) {
    for (const auto& attr : rdn) {
      if (attr.oid == name_or_oid || iequals(attr.short_name, name_or_oid)) out.push_back(attr.value);
    }
  }
  return out;
}

std::optional<std::string> DistinguishedName::first(std::string_view name_or_oid) const {
  for (const auto& rdn : rdns_) {
    for (const auto& attr : rdn) {
      if (attr.oid == name_or_oid || iequals(attr.short_name, name_or_oid)) return attr.value;
    }
  }
  return std::nullopt;
}

namespace detail {

std::string oid_text(const ASN1_OBJECT* obj) {
  char buf[128];
  const int n = OBJ_obj2txt(buf, sizeof buf, obj, 1);
  if (n <= 0) return {};
  if (static_cast<std::size_t>(n) < sizeof buf) return std::string(buf, static_cast<std::size_t>(n));
  std::string big(static_cast<std::size_t>(n) + 1, '\0');
  OBJ_obj2txt(big.data(), n + 1, obj, 1);
  big.resize(static_cast<std::size_t>(n));
  return big;
}

std::string asn1_string_utf8(const ASN1_STRING* s) {
  if (s == nullptr) return {};
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) {
    clear_openssl_errors();
    // Not a string type: '#' followed by hex of the content octets.
    std::string out = "#";
    static constexpr char hex[] = "0123456789abcdef";
    const unsigned char* d = ASN1_STRING_get0_data(s);
    for (int i = 0; i < ASN1_STRING_length(s); ++i) {
      out += hex[d[i] >> 4];
      out += hex[d[i] & 15];
    }
    return out;
  }
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

DistinguishedName name_from_x509(const X509_NAME* name) {
  std::vector<Rdn> rdns;
  const int count = X509_NAME_entry_count(name);
  int current_set = -1;
  for (int i = 0; i < count; ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    const int set = X509_NAME_ENTRY_set(e);
    if (set != current_set || rdns.empty()) {
      rdns.emplace_back();
      current_set = set;
    }
    const ASN1_OBJECT* obj = X509_NAME_ENTRY_get_object(e);
    NameAttribute attr;
    attr.oid = oid_text(obj);
    const int nid = OBJ_obj2nid(obj);
    const char* sn = nid != NID_undef ? OBJ_nid2sn(nid) : nullptr;
    attr.short_name = sn != nullptr ? sn : attr.oid;
    attr.value = asn1_string_utf8(X509_NAME_ENTRY_get_data(e));
    rdns.back().push_back(std::move(attr));
  }
  return DistinguishedName(std::move(rdns));
}

namespace {

using Bytes = std::span<const std::byte>;

bool is_space(unsigned char c) noexcept {  // as OpenSSL's ossl_isspace
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/// An ASCII string value in X509_NAME_cmp's canonical form: trimmed, inner runs of white space
/// collapsed to one space, lower case. nullopt when the value is not ASCII text of a string type
/// that OpenSSL canonicalizes as such (UTF8String, PrintableString, IA5String, VisibleString).
std::optional<std::string> canonical_ascii(Bytes value) {
  detail::der::Header h;
  if (detail::der::read_header(value, h) != detail::der::Status::ok || h.tag_class != 0 || h.constructed ||
      h.indefinite || !(h.tag == 12 || h.tag == 19 || h.tag == 22 || h.tag == 26)) {
    return std::nullopt;
  }
  std::string out;
  bool space = false;
  for (std::byte b : value.subspan(h.header_length, h.content_length)) {
    const auto c = static_cast<unsigned char>(b);
    if (c >= 0x80) return std::nullopt;
    if (is_space(c)) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return out;
}

/// One RDN of a Name: its complete encoding and the attributes (OID and value, as complete
/// encodings) it holds.
struct RawRdn {
  Bytes encoding;
  std::vector<std::pair<Bytes, Bytes>> attributes;
};

bool split_name(Bytes name, std::vector<RawRdn>& out) {
  detail::der::Reader outer(name);
  const auto seq = outer.read(detail::der::kSequence);
  if (!seq || !outer.empty()) return false;
  detail::der::Reader rdns(*seq);
  Bytes rest = *seq;
  while (!rdns.empty()) {
    const auto set_header = rdns.peek();
    const auto set = rdns.read(17, 0, true);
    if (!set_header || !set) return false;
    RawRdn rdn;
    rdn.encoding = rest.first(set_header->header_length + set_header->content_length);
    rest = rest.subspan(rdn.encoding.size());
    detail::der::Reader avas(*set);
    while (!avas.empty()) {
      const auto ava = avas.read(detail::der::kSequence);
      if (!ava) return false;
      detail::der::Reader fields(*ava);
      const auto oid_header = fields.peek();
      if (!oid_header || oid_header->tag != detail::der::kOid || oid_header->tag_class != 0 || !fields.skip()) return false;
      const auto value_header = fields.peek();
      if (!value_header) return false;
      const Bytes oid = ava->first(oid_header->header_length + oid_header->content_length);
      const Bytes value = ava->subspan(oid.size(), value_header->header_length + value_header->content_length);
      if (!fields.skip() || !fields.empty()) return false;
      rdn.attributes.emplace_back(oid, value);
    }
    if (rdn.attributes.empty()) return false;
    out.push_back(std::move(rdn));
  }
  return true;
}

bool same_bytes(Bytes a, Bytes b) noexcept { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

}  // namespace

NameVerdict compare_der_names(Bytes a, Bytes b) {
  if (same_bytes(a, b)) return NameVerdict::equal;
  std::vector<RawRdn> x, y;
  if (!split_name(a, x) || !split_name(b, y)) return NameVerdict::unknown;
  if (x.size() != y.size()) return NameVerdict::different;
  bool unknown = false;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (same_bytes(x[i].encoding, y[i].encoding)) continue;
    if (x[i].attributes.size() != y[i].attributes.size()) return NameVerdict::different;
    if (x[i].attributes.size() > 1) {
      unknown = true;  // a multi-valued RDN's canonical order depends on the folded values
      continue;
    }
    const auto& [oid_a, value_a] = x[i].attributes[0];
    const auto& [oid_b, value_b] = y[i].attributes[0];
    if (!same_bytes(oid_a, oid_b)) return NameVerdict::different;
    if (same_bytes(value_a, value_b)) continue;
    const auto ca = canonical_ascii(value_a);
    const auto cb = canonical_ascii(value_b);
    if (!ca || !cb) {
      unknown = true;  // keep looking for a difference that settles it
    } else if (*ca != *cb) {
      return NameVerdict::different;
    }
  }
  return unknown ? NameVerdict::unknown : NameVerdict::equal;
}

}  // namespace detail
}  // namespace dpgcert
