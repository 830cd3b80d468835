// The X.509 layer of the _dpgcert module: Certificate, load_certificates.
#include "module.hpp"

#include <dpgcert/json.hpp>
#include <dpgcert/oces_json.hpp>

#include <nlohmann/json.hpp>

namespace dpgcert::python {
namespace {

/// Inputs up to this size are read with the GIL held (see load_certificates).
constexpr std::size_t kReleaseGilAbove = 64 * 1024;

nlohmann::json certificate_json(const Certificate& c) {
  nlohmann::json j = to_json(c);
  j["oces"] = oces::to_json(oces::identify(c));
  return j;
}

}  // namespace

void bind_x509(py::module_& m) {
  // ---- certificates ----
  py::class_<Certificate>(m, "Certificate",
                          "An X.509 certificate: an immutable value, equal to another with the same DER, "
                          "safe to share between threads.")
      .def_property_readonly("subject", [](const Certificate& c) { return c.subject().to_string(); })
      .def_property_readonly("issuer", [](const Certificate& c) { return c.issuer().to_string(); })
      .def_property_readonly("serial_number", [](const Certificate& c) {
        return py::reinterpret_steal<py::int_>(PyLong_FromString(c.serial_hex().c_str(), nullptr, 16));
      })
      .def_property_readonly("not_valid_before_utc", [](const Certificate& c) { return to_datetime(c.not_before()); })
      .def_property_readonly("not_valid_after_utc", [](const Certificate& c) { return to_datetime(c.not_after()); })
      .def_property_readonly("fingerprint_sha256", &Certificate::fingerprint_hex)
      .def_property_readonly("der", [](const Certificate& c) { return to_bytes(c.der()); })
      .def_property_readonly("pem", &Certificate::to_pem)
      .def_property_readonly("version", &Certificate::version)
      .def_property_readonly("key_algorithm", [](const Certificate& c) { return c.public_key().algorithm; })
      .def_property_readonly("key_bits", [](const Certificate& c) { return c.public_key().bits; })
      .def_property_readonly("signature_algorithm", &Certificate::signature_algorithm)
      .def_property_readonly("is_ca", &Certificate::is_ca)
      .def_property_readonly("key_usage", [](const Certificate& c) -> std::optional<std::vector<std::string>> {
        if (!c.key_usage()) return std::nullopt;
        return c.key_usage()->names();
      })
      .def_property_readonly("extended_key_usage", [](const Certificate& c) { return c.extended_key_usage(); })
      .def_property_readonly("email_addresses", [](const Certificate& c) { return c.subject_alt_names().emails; })
      .def_property_readonly("oces", [](const Certificate& c) { return oces::identify(c); })
      .def("to_json", [](const Certificate& c) { return certificate_json(c).dump(); },
           "The certificate as a JSON object (text), with its OCES identity under 'oces'.")
      .def("__eq__", equality<Certificate>([](const auto& a, const auto& b) { return a == b; }))
      .def("__hash__", [](const Certificate& c) { return py::hash(py::str(c.fingerprint_hex())); })
      .def("__repr__", [](const Certificate& c) {
        return "<Certificate subject=" + repr_text(c.subject().to_string()) +
               " not_valid_after=" + rfc3339(c.not_after()) + " sha256=" + c.fingerprint_hex().substr(0, 16) + ">";
      });

  m.def(
      "load_certificates",
      [](const py::object& data) {
        const Buffer b(data, "data");
        // Certificates are checked, not decoded: each field is read when its property is (see
        // docs/x509.md). That takes microseconds, less than handing the GIL over and back, which
        // can wait a whole switch interval when other threads run; a large input (a bundle of
        // many PEM certificates) lets the other threads run meanwhile.
        std::vector<Certificate> certs;
        if (b.bytes().size() > kReleaseGilAbove) {
          py::gil_scoped_release unlocked;
          certs = load_certificates(b.bytes());
        } else {
          certs = load_certificates(b.bytes());
        }
        py::list out(certs.size());
        for (std::size_t i = 0; i < certs.size(); ++i) {
          PyList_SET_ITEM(out.ptr(), static_cast<Py_ssize_t>(i), py::cast(std::move(certs[i])).release().ptr());
        }
        return out;
      },
      py::arg("data"),
      "Parses every certificate in DER, PEM (several blocks) or bare base64 input.\n\n"
      "Raises MalformedError when there is none or one is broken, LimitExceededError past the limits.");
}

}  // namespace dpgcert::python
