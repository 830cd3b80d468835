// The validation layer of the _dpgcert module: Check, ValidationReport, CHECK_IDS, validate.
#include "module.hpp"

#include <dpgcert/pkcs12.hpp>
#include <dpgcert/validation_json.hpp>

#include <nlohmann/json.hpp>

namespace dpgcert::python {

void bind_validation(py::module_& m) {
  // ---- validation ----
  py::class_<Check>(m, "Check", "One line of a validation report: id, status ('pass', 'warn', 'fail', 'skip'), message.")
      .def_readonly("id", &Check::id)
      .def_property_readonly("status", [](const Check& c) { return std::string(to_string(c.status)); })
      .def_readonly("message", &Check::message)
      .def("__eq__", equality<Check>([](const auto& a, const auto& b) {
             return a.id == b.id && a.status == b.status && a.message == b.message;
           }))
      .def("__hash__", [](const Check& c) {
        return py::hash(py::make_tuple(c.id, std::string(to_string(c.status)), c.message));
      })
      .def("__repr__", [](const Check& c) {
        return "<Check " + c.id + " " + std::string(to_string(c.status)) + " " + repr_text(c.message) + ">";
      });

  py::class_<ValidationReport>(m, "ValidationReport",
                               "The outcome of a validation: every check with pass/warn/fail/skip and a reason. "
                               "A failed validation is a report, not an exception.")
      .def_property_readonly("verdict", [](const ValidationReport& r) { return std::string(to_string(r.verdict)); })
      .def_property_readonly("ok", &ValidationReport::ok)
      .def_property_readonly("at", [](const ValidationReport& r) { return to_datetime(r.at); })
      .def_readonly("checks", &ValidationReport::checks)
      .def_readonly("certificate", &ValidationReport::certificate)
      .def_readonly("identity", &ValidationReport::identity)
      .def_readonly("chain", &ValidationReport::chain)
      .def_readonly("openssl_error", &ValidationReport::openssl_error)
      .def_property_readonly(
          "error_code",
          [](const ValidationReport& r) -> std::optional<std::string> {
            if (!r.open_error) return std::nullopt;
            return std::string(to_string(*r.open_error));
          },
          "Why a file did not open ('bad_password', 'unsupported') when that failed pkcs12_opened; else None.")
      .def(
          "find", [](const ValidationReport& r, std::string_view id) -> std::optional<Check> {
            if (const Check* c = r.find(id)) return *c;
            return std::nullopt;
          },
          py::arg("id"), "The check with this id, or None.")
      .def_property_readonly(
          "revocation",
          [](const ValidationReport& r) {
            py::list out;
            for (const auto& st : r.revocation) {
              py::list problems;
              for (const auto& p : st.problems) {
                py::dict d;
                d["kind"] = std::string(to_string(p.kind));
                d["reason"] = p.reason;
                d["url"] = p.url;
                problems.append(d);
              }
              py::dict d;
              d["depth"] = st.depth;
              d["subject"] = st.subject;
              d["serial"] = st.serial;
              d["status"] = st.status;
              d["source"] = st.source.empty() ? py::object(py::none()) : py::object(py::str(st.source));
              d["url"] = st.url.empty() ? py::object(py::none()) : py::object(py::str(st.url));
              d["revocation_time"] = st.revocation_time ? to_datetime(*st.revocation_time) : py::object(py::none());
              d["reason"] = st.reason ? py::object(py::str(std::string(to_string(*st.reason)))) : py::object(py::none());
              d["problems"] = problems;
              if (!st.crl_signer.empty()) {
                py::dict signer;
                signer["subject"] = st.crl_signer;
                signer["serial"] = st.crl_signer_serial;
                d["crl_signer"] = signer;
              }
              out.append(d);
            }
            return out;
          },
          "Online revocation only: per certificate in scope (the leaf first) a dict with depth, subject, serial, "
          "status ('good', 'revoked', 'unavailable'), source ('ocsp', 'crl' or None), url, revocation_time, reason, "
          "problems (each failed attempt: kind, reason, url), and crl_signer (subject, serial) when the CRL was "
          "signed by a separate CRL-signing certificate of the CA. Empty offline.")
      .def("to_json", [](const ValidationReport& r) { return to_json(r).dump(); },
           "The report as a JSON object (text), as `dpgcert verify --json` prints it.")
      .def("to_text", [](const ValidationReport& r) { return to_text(r); },
           "The report as a checklist for people.")
      .def("__repr__", [](const ValidationReport& r) {
        return "<ValidationReport " + std::string(to_string(r.verdict)) +
               (r.certificate ? " subject=" + repr_text(r.certificate->subject().to_string()) : "") +
               " at=" + rfc3339(r.at) + ">";
      });

  std::vector<std::string> ids{std::string(check_id::pkcs12_opened),    std::string(check_id::key_matches_certificate),
                               std::string(check_id::pkcs12_profile),   std::string(check_id::chain),
                               std::string(check_id::validity),         std::string(check_id::revocation),
                               std::string(check_id::signature_algorithm), std::string(check_id::key_strength),
                               std::string(check_id::key_usage),        std::string(check_id::certificate_type),
                               std::string(check_id::environment),      std::string(check_id::cvr)};
  m.attr("CHECK_IDS") = py::tuple(py::cast(ids));

  m.def(
      "validate",
      [](const py::object& subject, const py::object& at, const py::object& password, std::string policy,
         std::optional<std::string> environment, std::optional<std::string> expected_cvr, std::optional<int> min_days,
         std::optional<std::vector<Certificate>> trust, std::vector<Certificate> intermediates,
         const py::iterable& crls, std::optional<std::vector<std::string>> policies, bool explicit_policy,
         bool inhibit_policy_mapping, bool inhibit_any_policy, std::optional<std::vector<std::string>> eku,
         std::optional<int> max_depth, std::optional<int> min_key_bits, std::optional<std::string> revocation,
         bool require_revocation, std::string stale_crl, std::string revocation_mode,
         std::optional<double> revocation_timeout) {
        if (at.is_none()) throw py::type_error("validate() needs the validation time: at=datetime(..., tzinfo=timezone.utc)");
        ValidationArgs args(at, std::move(policy), std::move(environment), std::move(expected_cvr), min_days,
                            std::move(trust), std::move(intermediates), crls);
        PathArgs& path = args.path;
        if (policies) path.policies = std::move(*policies);
        path.explicit_policy = explicit_policy;
        path.inhibit_policy_mapping = inhibit_policy_mapping;
        path.inhibit_any_policy = inhibit_any_policy;
        if (eku) path.eku = std::move(*eku);
        path.max_depth = max_depth;
        path.min_key_bits = min_key_bits;
        path.revocation = std::move(revocation);
        path.require_revocation = require_revocation;
        if (stale_crl != "warn" && stale_crl != "fail") throw py::value_error("stale_crl must be 'warn' or 'fail'");
        path.stale_crl_fails = stale_crl == "fail";
        args.revocation_mode = std::move(revocation_mode);
        args.revocation_timeout = revocation_timeout;
        if (py::isinstance<Certificate>(subject) || py::isinstance<Pkcs12Bundle>(subject)) {
          if (!password.is_none()) throw py::type_error("password applies only to bytes input");
        }
        if (py::isinstance<Certificate>(subject)) {
          const Certificate cert = subject.cast<Certificate>();
          py::gil_scoped_release unlocked;
          return validate(cert, args.input());
        }
        if (py::isinstance<Pkcs12Bundle>(subject)) {
          const Pkcs12Bundle& bundle = subject.cast<const Pkcs12Bundle&>();
          py::gil_scoped_release unlocked;
          return validate(bundle, args.input());
        }
        const Buffer data(subject, "subject");
        std::optional<SecretBytes> pw;
        if (!password.is_none()) pw = password_from(password, "password");
        py::gil_scoped_release unlocked;
        return validate_bytes(data.bytes(), pw ? &*pw : nullptr, args.input());
      },
      py::arg("subject"), py::kw_only(), py::arg("at"), py::arg("password") = py::none(),
      py::arg("policy") = "oces_gateway", py::arg("environment") = py::none(), py::arg("expected_cvr") = py::none(),
      py::arg("min_days") = py::none(), py::arg("trust") = py::none(),
      py::arg("intermediates") = std::vector<Certificate>{}, py::arg("crls") = py::tuple(),
      py::arg("policies") = py::none(), py::arg("explicit_policy") = false, py::arg("inhibit_policy_mapping") = false,
      py::arg("inhibit_any_policy") = false, py::arg("eku") = py::none(), py::arg("max_depth") = py::none(),
      py::arg("min_key_bits") = py::none(), py::arg("revocation") = py::none(), py::arg("require_revocation") = false,
      py::arg("stale_crl") = "warn", py::arg("revocation_mode") = "offline", py::arg("revocation_timeout") = py::none(),
      "Validates a Certificate, a Pkcs12Bundle, or a file's bytes (PKCS#12 with `password`, or a certificate) "
      "at the aware datetime `at`, and returns a ValidationReport. Path options as `dpgcert verify`'s: "
      "policies (initial policy set), explicit_policy, inhibit_policy_mapping, inhibit_any_policy, eku, "
      "max_depth, min_key_bits, revocation ('off', 'leaf', 'chain'), require_revocation, stale_crl ('warn', 'fail'), "
      "revocation_mode ('offline', the default, or 'online': OCSP from the AIA first, CRLs from the CDP as fallback, "
      "for every certificate in scope; no answer warns, or fails with require_revocation), revocation_timeout "
      "(seconds per request, online).");
}

}  // namespace dpgcert::python
