// JSON form of validation reports and CRLs.
#include "core/text.hpp"
#include <dpgcert/json.hpp>
#include <dpgcert/oces_json.hpp>
#include <dpgcert/validation.hpp>
#include <dpgcert/validation_json.hpp>

#include <nlohmann/json.hpp>

namespace dpgcert {

nlohmann::json to_json(const ValidationReport& report) {
  nlohmann::json j;
  j["ok"] = report.ok();
  j["verdict"] = std::string(to_string(report.verdict));
  j["validation_time"] = format_rfc3339(report.at);
  if (report.open_error) j["error_code"] = std::string(to_string(*report.open_error));
  j["checks"] = nlohmann::json::array();
  for (const auto& c : report.checks) {
    j["checks"].push_back({{"id", c.id}, {"status", std::string(to_string(c.status))}, {"message", c.message}});
  }
  if (report.certificate) {
    nlohmann::json cert = to_json(*report.certificate);
    cert["oces"] = report.identity ? oces::to_json(*report.identity) : nlohmann::json(nullptr);
    j["certificate"] = std::move(cert);
  } else {
    j["certificate"] = nullptr;
  }
  j["chain"] = nlohmann::json::array();
  for (const auto& c : report.chain) {
    j["chain"].push_back({{"subject", c.subject().to_string()},
                          {"fingerprint_sha256", c.fingerprint_hex()},
                          {"not_after", format_rfc3339(c.not_after())}});
  }
  if (report.openssl_error != 0) {
    j["openssl"] = {{"error", report.openssl_error},
                    {"depth", report.openssl_error_depth},
                    {"reason", [&] {
                       for (const auto& e : report.openssl_errors) {
                         if (e.code == report.openssl_error && e.depth == report.openssl_error_depth) return e.reason;
                       }
                       return std::string();
                     }()}};
  } else {
    j["openssl"] = nullptr;
  }
  j["openssl_errors"] = nlohmann::json::array();
  for (const auto& e : report.openssl_errors) {
    j["openssl_errors"].push_back({{"code", e.code},
                                   {"depth", e.depth},
                                   {"reason", e.reason},
                                   {"subject", e.subject ? nlohmann::json(*e.subject) : nlohmann::json(nullptr)}});
  }
  // Online revocation only: what was asked about each certificate (absent offline, so stored
  // reports of offline validations keep their form).
  if (!report.revocation.empty()) {
    j["revocation"] = nlohmann::json::array();
    for (const auto& st : report.revocation) {
      nlohmann::json problems = nlohmann::json::array();
      for (const auto& p : st.problems) {
        problems.push_back({{"kind", std::string(to_string(p.kind))}, {"reason", p.reason}, {"url", p.url}});
      }
      j["revocation"].push_back(
          {{"depth", st.depth},
           {"subject", st.subject},
           {"serial", st.serial},
           {"status", st.status},
           {"source", st.source.empty() ? nlohmann::json(nullptr) : nlohmann::json(st.source)},
           {"url", st.url.empty() ? nlohmann::json(nullptr) : nlohmann::json(st.url)},
           {"revocation_time", st.revocation_time ? nlohmann::json(format_rfc3339(*st.revocation_time)) : nlohmann::json(nullptr)},
           {"reason", st.reason ? nlohmann::json(std::string(to_string(*st.reason))) : nlohmann::json(nullptr)},
           {"problems", std::move(problems)}});
      if (!st.crl_signer.empty()) {
        j["revocation"].back()["crl_signer"] = {{"subject", st.crl_signer}, {"serial", st.crl_signer_serial}};
      }
    }
  }
  return detail::json_safe(std::move(j));
}

nlohmann::json to_json(const Crl& crl) {
  nlohmann::json j;
  j["issuer"] = crl.issuer().to_string();
  j["this_update"] = format_rfc3339(crl.this_update());
  j["next_update"] = crl.next_update() ? nlohmann::json(format_rfc3339(*crl.next_update())) : nlohmann::json(nullptr);
  j["delta"] = crl.is_delta();
  j["revoked"] = nlohmann::json::array();
  for (const auto& r : crl.revoked()) {
    j["revoked"].push_back({{"serial", r.serial_hex()},
                            {"revocation_date", format_rfc3339(r.revocation_date)},
                            {"reason", r.reason ? nlohmann::json(std::string(to_string(*r.reason))) : nlohmann::json(nullptr)}});
  }
  return detail::json_safe(std::move(j));
}

}  // namespace dpgcert
