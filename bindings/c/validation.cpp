// C API: validation and its reports.
#include "c_api.hpp"

#include <dpgcert/validation_json.hpp>

#include <nlohmann/json.hpp>

namespace dpgcert::capi {

namespace {

std::vector<std::string> strings(const char* const* items, std::size_t count, const char* what) {
  std::vector<std::string> out;
  if (items == nullptr) return out;
  for (std::size_t i = 0; i < count; ++i) {
    if (items[i] == nullptr) throw Error(ErrorCode::invalid_argument, std::string(what) + " holds a NULL entry");
    out.emplace_back(items[i]);
  }
  return out;
}

/// The version 2 fields: policies, EKU, depth, key size, revocation.
void path_options(const dpgcert_validate_options& o, ValidationPolicy& policy) {
  if (auto set = strings(o.policies, o.policy_count, "policies"); !set.empty()) policy.initial_policy_set = std::move(set);
  policy.explicit_policy = o.explicit_policy != 0;
  policy.inhibit_policy_mapping = o.inhibit_policy_mapping != 0;
  policy.inhibit_any_policy = o.inhibit_any_policy != 0;
  if (auto ekus = strings(o.ekus, o.eku_count, "ekus"); !ekus.empty()) policy.required_extended_key_usage = std::move(ekus);
  if (o.max_depth >= 0) policy.max_depth = o.max_depth;
  if (o.min_key_bits >= 0) policy.set_min_key_bits(o.min_key_bits);
  switch (o.revocation) {
    case DPGCERT_REVOCATION_DEFAULT: break;
    case DPGCERT_REVOCATION_OFF: policy.revocation = RevocationScope::none; break;
    case DPGCERT_REVOCATION_LEAF: policy.revocation = RevocationScope::leaf; break;
    case DPGCERT_REVOCATION_CHAIN: policy.revocation = RevocationScope::chain; break;
    default: throw Error(ErrorCode::invalid_argument, "unknown revocation scope " + std::to_string(o.revocation));
  }
  policy.require_revocation_data = o.require_revocation != 0;
  policy.stale_crl_fails = o.stale_crl_fails != 0;
}

}  // namespace

ValidationInput validation_input(const dpgcert_validate_options* options) {
  const dpgcert_validate_options defaults = DPGCERT_VALIDATE_OPTIONS_INIT;
  const dpgcert_validate_options& o = options != nullptr ? *options : defaults;
  check_version(o.version, DPGCERT_VALIDATE_OPTIONS_VERSION, "dpgcert_validate_options");

  ValidationInput input;
  input.at = from_unix(o.at);
  switch (o.policy) {
    case DPGCERT_POLICY_OCES_GATEWAY: input.policy = ValidationPolicy::oces_gateway(); break;
    case DPGCERT_POLICY_GENERIC: input.policy = ValidationPolicy::generic(); break;
    default: throw Error(ErrorCode::invalid_argument, "unknown policy " + std::to_string(o.policy));
  }
  if (const auto env = environment_from_c(o.environment); env != oces::Environment::unknown) {
    input.policy.expected_environment = env;
  }
  if (o.expected_cvr != nullptr) input.policy.expected_cvr = std::string(o.expected_cvr);
  if (o.min_days >= 0) input.policy.min_days = o.min_days;
  if (o.trust != nullptr) {
    input.anchors = TrustAnchors::from_certificates(load_certificates(in_bytes(o.trust, o.trust_len, "trust")));
  }
  if (o.intermediates != nullptr) {
    input.intermediates = load_certificates(in_bytes(o.intermediates, o.intermediates_len, "intermediates"));
  }
  if (o.crls != nullptr) input.crls = load_crls(in_bytes(o.crls, o.crls_len, "crls"));
  if (o.version >= 2) path_options(o, input.policy);
  if (o.version >= 3) {
    switch (o.revocation_mode) {
      case DPGCERT_REVOCATION_OFFLINE: input.revocation_mode = RevocationMode::offline; break;
      case DPGCERT_REVOCATION_ONLINE: input.revocation_mode = RevocationMode::online; break;
      default: throw Error(ErrorCode::invalid_argument, "unknown revocation mode " + std::to_string(o.revocation_mode));
    }
    if (o.revocation_timeout_ms < 0) throw Error(ErrorCode::invalid_argument, "revocation_timeout_ms must not be negative");
    if (o.revocation_timeout_ms > 0) input.online.fetch.timeout = std::chrono::milliseconds(o.revocation_timeout_ms);
  }
  return input;
}

}  // namespace dpgcert::capi

using namespace dpgcert;
using namespace dpgcert::capi;

namespace {

const Check& check_at(const dpgcert_report* report, std::size_t index) {
  require(report, "report");
  check_index(index, report->report.checks.size());
  return report->report.checks[index];
}

}  // namespace

extern "C" {

int dpgcert_validate_certificate(dpgcert_report** out, const dpgcert_certificate* cert,
                                 const dpgcert_validate_options* options) {
  return guarded(__func__, [&] {
    reset_out(out);
    require(cert, "cert");
    return make_handle(out, validate(cert->cert, validation_input(options)));
  });
}

int dpgcert_validate_pkcs12(dpgcert_report** out, const dpgcert_pkcs12* bundle, const dpgcert_validate_options* options) {
  return guarded(__func__, [&] {
    reset_out(out);
    require(bundle, "bundle");
    return make_handle(out, validate(bundle->bundle, validation_input(options)));
  });
}

int dpgcert_validate_bytes(dpgcert_report** out, const uint8_t* data, size_t len, const uint8_t* password,
                           size_t password_len, const dpgcert_validate_options* options) {
  return guarded(__func__, [&] {
    reset_out(out);
    const auto bytes = in_bytes(data, len, "data");
    std::optional<SecretBytes> pw;
    if (password != nullptr || password_len != 0) pw = in_password(password, password_len, "password");
    return make_handle(out, validate_bytes(bytes, pw ? &*pw : nullptr, validation_input(options)));
  });
}

void dpgcert_report_free(dpgcert_report* report) { delete report; }

int dpgcert_report_verdict(const dpgcert_report* report, int* out) {
  return guarded(__func__, [&] {
    require(report, "report");
    return out_value(out, to_c(report->report.verdict));
  });
}

int dpgcert_report_check_count(const dpgcert_report* report, size_t* count) {
  return guarded(__func__, [&] {
    require(report, "report");
    return out_value(count, report->report.checks.size(), "count");
  });
}

int dpgcert_report_check_id(const dpgcert_report* report, size_t index, char* buf, size_t* len) {
  return guarded(__func__, [&] { return out_text(check_at(report, index).id, buf, len); });
}

int dpgcert_report_check_status(const dpgcert_report* report, size_t index, int* out) {
  return guarded(__func__, [&] { return out_value(out, to_c(check_at(report, index).status)); });
}

int dpgcert_report_check_message(const dpgcert_report* report, size_t index, char* buf, size_t* len) {
  return guarded(__func__, [&] { return out_text(check_at(report, index).message, buf, len); });
}

int dpgcert_report_find(const dpgcert_report* report, const char* id, size_t* index) {
  return guarded(__func__, [&] {
    require(report, "report");
    const std::string_view wanted = in_text(id, "id");
    require(index, "index");
    const auto& checks = report->report.checks;
    for (std::size_t i = 0; i < checks.size(); ++i) {
      if (checks[i].id == wanted) return out_value(index, i, "index");
    }
    throw Error(ErrorCode::not_found, "the report has no check '" + std::string(wanted) + "'");
  });
}

int dpgcert_report_certificate(dpgcert_certificate** out, const dpgcert_report* report) {
  return guarded(__func__, [&] {
    reset_out(out);
    require(report, "report");
    const auto& cert = report->report.certificate;
    if (!cert) throw Error(ErrorCode::not_found, "the report has no certificate (the file did not open)");
    return make_handle(out, *cert);
  });
}

int dpgcert_report_json(const dpgcert_report* report, char* buf, size_t* len) {
  return guarded(__func__, [&] {
    require(report, "report");
    return out_text(to_json(report->report).dump(), buf, len);
  });
}

int dpgcert_report_text(const dpgcert_report* report, char* buf, size_t* len) {
  return guarded(__func__, [&] {
    require(report, "report");
    return out_text(to_text(report->report), buf, len);
  });
}

}  // extern "C"
