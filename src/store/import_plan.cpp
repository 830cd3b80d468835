#include "store/import_plan.hpp"

#include "core/text.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/json.hpp>
#include <dpgcert/validation_json.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace dpgcert::store_detail {
namespace {

std::optional<std::string> id_kind(oces::CertificateType type) {
  switch (type) {
    case oces::CertificateType::voces: return "uid";
    case oces::CertificateType::foces: return "fid";
    case oces::CertificateType::moces: return "rid";
    case oces::CertificateType::poces: return "pid";
    case oces::CertificateType::organisation:
    case oces::CertificateType::employee: return "uuid";
    default: return std::nullopt;
  }
}

}  // namespace

ValidationReport validate_for_import(const Pkcs12Bundle& bundle, const ImportOptions& options, Time now,
                                     const Context& ctx, Store* store) {
  ValidationInput input = options.validation;
  if (input.at == Time{}) input.at = now;
  if (input.revocation_mode == RevocationMode::online && !input.online.crl_source && store != nullptr) {
    input.online.crl_source = [store, fetch = input.online.fetch](const std::string& url, const Certificate& subject,
                                                                  const Certificate& issuer, Time) {
      return store->fetch_crl(url, subject, issuer, fetch);
    };
  }
  if (options.organisation_cvr && input.policy.oces_profile && !input.policy.expected_cvr) {
    input.policy.expected_cvr = options.organisation_cvr;
  }
  return validate(bundle, input, ctx);
}

PreparedCertificate prepare_certificate(const Pkcs12Bundle& bundle, const ValidationReport& report,
                                        const ImportOptions& options) {
  const Certificate& leaf = *bundle.leaf();
  const oces::Identity identity = report.identity ? *report.identity : oces::identify(leaf);
  PreparedCertificate p;
  p.fingerprint = leaf.fingerprint_hex();
  p.generation = std::string(oces::to_string(identity.generation));
  p.type = std::string(oces::to_string(identity.type));
  p.environment = std::string(oces::to_string(identity.environment));
  p.cvr = identity.cvr;
  p.oces_id = identity.id();
  if (p.oces_id) p.oces_id_kind = id_kind(identity.type);
  p.common_name = identity.common_name ? identity.common_name : leaf.subject().first("CN");
  p.organisation_name = identity.organisation ? identity.organisation : leaf.subject().first("O");
  p.email = identity.email;
  p.subject = leaf.subject().to_string();
  p.issuer = leaf.issuer().to_string();
  p.serial = leaf.serial_hex();
  p.not_before = to_unix(leaf.not_before());
  p.not_after = to_unix(leaf.not_after());
  p.key_algorithm = leaf.public_key().algorithm;
  p.key_bits = leaf.public_key().bits;
  p.der.assign(leaf.der().begin(), leaf.der().end());
  p.pkcs12_profile_json = detail::dump_json(to_json(bundle.profile()));
  p.pkcs12_legacy = bundle.profile().legacy;
  p.verdict = report.verdict;
  p.forced = !report.ok();
  // Without its certificate (the DER is stored beside it): not even rendered.
  ValidationReport lean = report;
  lean.certificate.reset();
  nlohmann::json r = to_json(lean);
  r.erase("certificate");
  p.report_json = detail::dump_json(std::move(r));
  p.initial_status = report.status(check_id::revocation) == CheckStatus::fail ? CertificateStatus::revoked
                                                                               : CertificateStatus::active;
  // Online, a failing revocation check may only mean that no answer could be had (with
  // require_revocation_data): revoked only when a certificate of the path was found revoked.
  if (!report.revocation.empty()) {
    const bool revoked = std::any_of(report.revocation.begin(), report.revocation.end(),
                                     [](const RevocationStatus& st) { return st.status == "revoked"; });
    p.initial_status = revoked ? CertificateStatus::revoked : CertificateStatus::active;
  }
  p.source = options.source.empty() ? "api" : options.source;
  if (p.organisation_name && !p.organisation_name->empty()) {
    p.organisation_display_name = *p.organisation_name;
  } else if (p.common_name && !p.common_name->empty()) {
    p.organisation_display_name = *p.common_name;
  }
  return p;
}

bool is_cvr(std::string_view cvr) noexcept {
  if (cvr.size() != 8) return false;
  for (char c : cvr) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string seal_context(std::int64_t id, std::string_view fingerprint, std::string_view field) {
  std::string out = "certificate:";
  out += std::to_string(id);
  out += ':';
  out += fingerprint;
  out += ':';
  out += field;
  return out;
}

}  // namespace dpgcert::store_detail
