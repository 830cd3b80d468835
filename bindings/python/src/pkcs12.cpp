// The PKCS#12 layer of the _dpgcert module: Pkcs12Bundle, load_pkcs12.
#include "module.hpp"

#include <dpgcert/json.hpp>
#include <dpgcert/pkcs12.hpp>

#include <nlohmann/json.hpp>

namespace dpgcert::python {

void bind_pkcs12(py::module_& m) {
  // ---- PKCS#12 ----
  py::class_<Pkcs12Bundle>(m, "Pkcs12Bundle",
                           "An opened PKCS#12 file: leaf, private key, chain and how the file was protected. "
                           "The private key never leaves the object.")
      .def_property_readonly("leaf", [](const Pkcs12Bundle& b) { return b.leaf(); })
      .def_property_readonly("chain", [](const Pkcs12Bundle& b) { return b.chain(); })
      .def_property_readonly("certificates", [](const Pkcs12Bundle& b) {
        std::vector<Certificate> all;
        for (const auto& c : b.certificates()) all.push_back(c.certificate);
        return all;
      })
      .def_property_readonly("friendly_name", [](const Pkcs12Bundle& b) { return b.friendly_name(); })
      .def_property_readonly("has_private_key", [](const Pkcs12Bundle& b) { return b.private_key() != nullptr; })
      .def_property_readonly("key_matches", &Pkcs12Bundle::key_matches)
      .def_property_readonly("legacy", [](const Pkcs12Bundle& b) { return b.profile().legacy; })
      .def_property_readonly("legacy_reasons", [](const Pkcs12Bundle& b) { return b.profile().legacy_reasons; })
      .def("profile_json", [](const Pkcs12Bundle& b) { return to_json(b.profile()).dump(); },
           "How the file was protected, as a JSON object (text): legacy, legacy_reasons, mac, iterations, bags.")
      .def("__repr__", [](const Pkcs12Bundle& b) {
        return std::string("<Pkcs12Bundle leaf=") + (b.leaf() ? repr_text(b.leaf()->subject().to_string()) : "None") +
               " chain=" + std::to_string(b.chain().size()) + " key=" + (b.private_key() ? "yes" : "no") +
               " legacy=" + (b.profile().legacy ? "True" : "False") + ">";
      });

  m.def(
      "load_pkcs12",
      [](const py::object& data, const py::object& password) {
        const Buffer b(data, "data");
        const SecretBytes pw = password_from(password, "password");
        std::unique_ptr<Pkcs12Bundle> bundle;
        {
          py::gil_scoped_release unlocked;  // the key derivation takes milliseconds to seconds
          bundle = std::make_unique<Pkcs12Bundle>(load_pkcs12(b.bytes(), pw));
        }
        return bundle;
      },
      py::arg("data"), py::arg("password"),
      "Opens a PKCS#12 file (legacy RC2/3DES or modern AES/PBKDF2) with its password (bytes or str).\n\n"
      "Raises BadPasswordError, MalformedError, UnsupportedError, LimitExceededError.");
}

}  // namespace dpgcert::python
