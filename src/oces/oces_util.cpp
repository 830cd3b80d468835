#include "oces/oces_util.hpp"

#include "x509/certificate_impl.hpp"

#include <openssl/x509v3.h>

#include <algorithm>

namespace dpgcert::oces::detail {
namespace {

constexpr char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
constexpr bool is_letter(char c) noexcept { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

std::span<const std::byte> octets(const ASN1_OCTET_STRING* s) noexcept {
  if (s == nullptr || ASN1_STRING_length(s) <= 0) return {};
  return {reinterpret_cast<const std::byte*>(ASN1_STRING_get0_data(s)),
          static_cast<std::size_t>(ASN1_STRING_length(s))};
}

}  // namespace

const std::string* find_attribute(const DistinguishedName& name, std::string_view oid) noexcept {
  for (const auto& rdn : name.rdns()) {
    for (const auto& attr : rdn) {
      if (attr.oid == oid) return &attr.value;
    }
  }
  return nullptr;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

bool istarts_with(std::string_view text, std::string_view prefix) noexcept {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

bool icontains(std::string_view text, std::string_view needle) noexcept {
  if (needle.size() > text.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= text.size(); ++i) {
    if (iequals(text.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

bool is_test_unit(std::string_view ou) noexcept {
  return istarts_with(ou, "test") && (ou.size() == 4 || !is_letter(ou[4]));
}

std::span<const std::byte> subject_key_id(const Certificate& cert) noexcept {
  // X509_get0_*_key_id cache OpenSSL's view of the extensions under the X509's own lock.
  X509* x = dpgcert::detail::native_or_null(cert);  // a deferred certificate may fail to parse
  return x == nullptr ? std::span<const std::byte>{} : octets(X509_get0_subject_key_id(x));
}

std::span<const std::byte> authority_key_id(const Certificate& cert) noexcept {
  X509* x = dpgcert::detail::native_or_null(cert);
  return x == nullptr ? std::span<const std::byte>{} : octets(X509_get0_authority_key_id(x));
}

CaGuess guess_ca(const DistinguishedName& subject) noexcept {
  CaGuess guess;
  const std::string* o = find_attribute(subject, oid_organisation);
  if (o == nullptr) return guess;
  const std::string* cn = find_attribute(subject, oid_common_name);
  if (*o == "TRUST2408") {
    guess.generation = Generation::oces2;
    guess.environment = cn != nullptr && icontains(*cn, "systemtest") ? Environment::test : Environment::production;
  } else if (*o == "Den Danske Stat") {
    guess.generation = Generation::oces3;
    guess.environment = Environment::production;
    for (const auto& rdn : subject.rdns()) {
      for (const auto& attr : rdn) {
        if (attr.oid == oid_organisational_unit && is_test_unit(attr.value)) guess.environment = Environment::test;
      }
    }
  }
  return guess;
}

}  // namespace dpgcert::oces::detail
