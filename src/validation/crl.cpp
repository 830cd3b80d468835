// CRLs: parsing DER and PEM, entries with dates and reasons.
#include "core/der.hpp"
#include "validation/validation_impl.hpp"
#include "x509/base64.hpp"
#include "x509/name_util.hpp"

#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <ctime>
#include <utility>

namespace dpgcert {
namespace detail {

std::optional<Time> asn1_time_opt(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    clear_openssl_errors();
    return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day ymd{year{tm.tm_year + 1900}, month{static_cast<unsigned>(tm.tm_mon + 1)},
                           day{static_cast<unsigned>(tm.tm_mday)}};
  return time_point_cast<seconds>(sys_days{ymd}) + hours{tm.tm_hour} + minutes{tm.tm_min} + seconds{tm.tm_sec};
}

std::vector<std::byte> asn1_integer_bytes(const ASN1_INTEGER* i) {
  // The content octets of an INTEGER are two's complement; serials are positive, so the magnitude
  // is the content without its leading zero bytes.
  const auto* d = reinterpret_cast<const std::byte*>(ASN1_STRING_get0_data(i));
  std::size_t n = static_cast<std::size_t>(ASN1_STRING_length(i));
  std::size_t start = 0;
  while (start + 1 < n && d[start] == std::byte{0}) ++start;
  if (n == 0) return {std::byte{0}};
  return {d + start, d + n};
}

}  // namespace detail

namespace {

constexpr std::array<std::pair<RevocationReason, std::string_view>, 10> kReasonNames{{
    {RevocationReason::unspecified, "unspecified"},
    {RevocationReason::key_compromise, "keyCompromise"},
    {RevocationReason::ca_compromise, "cACompromise"},
    {RevocationReason::affiliation_changed, "affiliationChanged"},
    {RevocationReason::superseded, "superseded"},
    {RevocationReason::cessation_of_operation, "cessationOfOperation"},
    {RevocationReason::certificate_hold, "certificateHold"},
    {RevocationReason::remove_from_crl, "removeFromCRL"},
    {RevocationReason::privilege_withdrawn, "privilegeWithdrawn"},
    {RevocationReason::aa_compromise, "aACompromise"},
}};

RevokedCertificate entry_of(const X509_REVOKED* rev) {
  RevokedCertificate out;
  out.serial = detail::asn1_integer_bytes(X509_REVOKED_get0_serialNumber(rev));
  out.revocation_date = detail::asn1_time_opt(X509_REVOKED_get0_revocationDate(rev)).value_or(Time{});
  int crit = 0;
  auto* reason = static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, &crit, nullptr));
  if (reason != nullptr) {
    const long v = ASN1_ENUMERATED_get(reason);
    ASN1_ENUMERATED_free(reason);
    for (const auto& [r, name] : kReasonNames) {
      if (static_cast<long>(r) == v) out.reason = r;
    }
    if (!out.reason) out.reason = RevocationReason::unspecified;  // an unknown code
  }
  detail::clear_openssl_errors();
  return out;
}

void check_count(std::size_t n, const Context& ctx) {
  if (n > ctx.limits().max_certificates) {
    throw Error(ErrorCode::limit_exceeded,
                "more than " + std::to_string(ctx.limits().max_certificates) + " CRLs in one input");
  }
}

std::vector<Crl> from_concatenated_der(std::span<const std::byte> data, std::size_t limit, const Context& ctx) {
  std::vector<Crl> out;
  while (!data.empty()) {
    const std::size_t len = detail::der::element_length(data);
    if (len == 0) {
      throw Error(ErrorCode::malformed, out.empty() ? "CRL: not DER or PEM"
                                                    : "CRL: trailing bytes after CRL " + std::to_string(out.size()));
    }
    out.push_back(detail::crl_from_der(data.first(len), limit, ctx));
    check_count(out.size(), ctx);
    data = data.subspan(len);
  }
  return out;
}

std::vector<Crl> from_pem(std::string_view text, std::size_t limit, const Context& ctx) {
  static constexpr std::string_view kBegin = "-----BEGIN ";
  static constexpr std::string_view kDashes = "-----";
  std::vector<Crl> out;
  std::size_t pos = 0;
  while ((pos = text.find(kBegin, pos)) != std::string_view::npos) {
    const std::size_t label_start = pos + kBegin.size();
    const std::size_t label_end = text.find(kDashes, label_start);
    if (label_end == std::string_view::npos) throw Error(ErrorCode::malformed, "PEM: unterminated BEGIN line");
    const std::string_view label = text.substr(label_start, label_end - label_start);
    const std::string end_line = "-----END " + std::string(label) + "-----";
    const std::size_t body_start = label_end + kDashes.size();
    const std::size_t end = text.find(end_line, body_start);
    if (end == std::string_view::npos) {
      throw Error(ErrorCode::malformed, "PEM: block '" + std::string(label.substr(0, 40)) + "' has no END line (truncated?)");
    }
    pos = end + end_line.size();
    if (label != "X509 CRL") continue;
    const auto der = detail::base64_decode(text.substr(body_start, end - body_start));
    if (!der) throw Error(ErrorCode::malformed, "PEM: CRL " + std::to_string(out.size() + 1) + " is not valid base64");
    out.push_back(detail::crl_from_der(*der, limit, ctx));
    check_count(out.size(), ctx);
  }
  if (out.empty()) throw Error(ErrorCode::malformed, "CRL: no X509 CRL block in the PEM input");
  return out;
}

}  // namespace

std::string_view to_string(RevocationReason reason) noexcept {
  for (const auto& [r, name] : kReasonNames) {
    if (r == reason) return name;
  }
  return "unspecified";
}

Crl Crl::from_der(std::span<const std::byte> der, const Context& ctx) {
  return detail::crl_from_der(der, ctx.limits().max_input_bytes, ctx);
}

Crl detail::crl_from_der(std::span<const std::byte> der, std::size_t limit, const Context& ctx) {
  if (der.size() > limit) {
    throw Error(ErrorCode::limit_exceeded, "CRL: " + std::to_string(der.size()) +
                                               " bytes exceed the limit of " + std::to_string(limit));
  }
  if (der.empty()) throw Error(ErrorCode::malformed, "CRL: empty input");
  detail::X509CrlPtr crl(X509_CRL_new_ex(detail::x509_libctx(ctx), nullptr));
  if (!crl) detail::throw_openssl(ErrorCode::internal, "CRL: out of memory");
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509_CRL* raw = crl.get();
  if (der.size() > static_cast<std::size_t>(LONG_MAX) ||
      d2i_X509_CRL(&raw, &p, static_cast<long>(der.size())) == nullptr) {
    crl.release();  // d2i frees the object on failure
    detail::throw_openssl(ErrorCode::malformed, "CRL: not a DER X.509 CRL");
  }
  const auto used = static_cast<std::size_t>(p - reinterpret_cast<const unsigned char*>(der.data()));
  if (used != der.size()) {
    throw Error(ErrorCode::malformed,
                "CRL: " + std::to_string(der.size() - used) + " trailing bytes after the DER CRL");
  }
  auto impl = std::make_shared<Crl::Impl>();
  impl->issuer = detail::name_from_x509(X509_CRL_get_issuer(crl.get()));
  const auto this_update = detail::asn1_time_opt(X509_CRL_get0_lastUpdate(crl.get()));
  if (!this_update) throw Error(ErrorCode::malformed, "CRL: unreadable thisUpdate");
  impl->this_update = *this_update;
  if (const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl.get()); next != nullptr) {
    impl->next_update = detail::asn1_time_opt(next);
    if (!impl->next_update) throw Error(ErrorCode::malformed, "CRL: unreadable nextUpdate");
  }
  impl->delta = X509_CRL_get_ext_by_NID(crl.get(), NID_delta_crl, -1) >= 0;
  impl->der.assign(der.begin(), der.end());
  impl->crl = std::move(crl);
  detail::clear_openssl_errors();
  return Crl(std::move(impl));
}

std::span<const std::byte> Crl::der() const noexcept { return impl_->der; }
const DistinguishedName& Crl::issuer() const { return impl_->issuer; }
Time Crl::this_update() const { return impl_->this_update; }
std::optional<Time> Crl::next_update() const { return impl_->next_update; }
bool Crl::is_stale(Time at) const { return impl_->next_update && *impl_->next_update < at; }
bool Crl::is_delta() const { return impl_->delta; }

const std::vector<RevokedCertificate>& Crl::revoked() const {
  std::call_once(impl_->revoked_once, [this] {
    const STACK_OF(X509_REVOKED)* revs = X509_CRL_get_REVOKED(impl_->crl.get());
    const int n = sk_X509_REVOKED_num(revs);
    impl_->revoked.reserve(static_cast<std::size_t>(n < 0 ? 0 : n));
    for (int i = 0; i < n; ++i) impl_->revoked.push_back(entry_of(sk_X509_REVOKED_value(revs, i)));
  });
  return impl_->revoked;
}

std::optional<RevokedCertificate> Crl::find(std::span<const std::byte> serial) const {
  // A linear search over the decoded entries would cost O(n) per lookup on a large CRL; OpenSSL
  // keeps the entries sorted (thread-safely) for X509_CRL_get0_by_serial.
  detail::Owned<BIGNUM, BN_free> bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()),
                                              static_cast<int>(serial.size()), nullptr));
  if (!bn) return std::nullopt;
  detail::Owned<ASN1_INTEGER, ASN1_INTEGER_free> ai(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!ai) return std::nullopt;
  X509_REVOKED* rev = nullptr;
  const int rc = X509_CRL_get0_by_serial(impl_->crl.get(), &rev, ai.get());
  detail::clear_openssl_errors();
  // 1: listed; 2: listed with reason removeFromCRL (a delta CRL un-revoking it).
  if (rc == 0 || rev == nullptr) return std::nullopt;
  return entry_of(rev);
}

bool Crl::operator==(const Crl& other) const noexcept {
  return impl_ == other.impl_ || std::equal(impl_->der.begin(), impl_->der.end(), other.impl_->der.begin(),
                                            other.impl_->der.end());
}

std::vector<Crl> load_crls(std::span<const std::byte> data, const Context& ctx) {
  return detail::load_crls_up_to(data, ctx.limits().max_input_bytes, ctx);
}

std::vector<Crl> detail::load_crls_up_to(std::span<const std::byte> data, std::size_t limit, const Context& ctx) {
  if (data.size() > limit) {
    throw Error(ErrorCode::limit_exceeded, "CRL: input of " + std::to_string(data.size()) +
                                               " bytes exceeds the limit of " + std::to_string(limit));
  }
  if (data.empty()) throw Error(ErrorCode::malformed, "CRL: empty input");
  if (data.front() == std::byte{0x30}) return from_concatenated_der(data, limit, ctx);
  return from_pem({reinterpret_cast<const char*>(data.data()), data.size()}, limit, ctx);
}

}  // namespace dpgcert
