#include "x509/name_util.hpp"

#include <openssl/objects.h>
#include <openssl/x509.h>

#include <algorithm>
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

}  // namespace detail
}  // namespace dpgcert
