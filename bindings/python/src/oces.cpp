// The OCES layer of the _dpgcert module: Identity.
#include "module.hpp"

#include <dpgcert/oces_json.hpp>

#include <nlohmann/json.hpp>

namespace dpgcert::python {

void bind_oces(py::module_& m) {
  // ---- OCES identity ----
  py::class_<oces::Identity>(m, "Identity", "The Danish OCES identity of a certificate. An immutable value.")
      .def_property_readonly("generation", [](const oces::Identity& i) { return std::string(oces::to_string(i.generation)); })
      .def_property_readonly("type", [](const oces::Identity& i) { return std::string(oces::to_string(i.type)); })
      .def_property_readonly("environment", [](const oces::Identity& i) { return std::string(oces::to_string(i.environment)); })
      .def_property_readonly("is_oces", &oces::Identity::is_oces)
      .def_readonly("cvr", &oces::Identity::cvr)
      .def_readonly("cvr_valid", &oces::Identity::cvr_valid)
      .def_readonly("subject_serial", &oces::Identity::subject_serial)
      .def_readonly("uid", &oces::Identity::uid)
      .def_readonly("fid", &oces::Identity::fid)
      .def_readonly("rid", &oces::Identity::rid)
      .def_readonly("pid", &oces::Identity::pid)
      .def_readonly("uuid", &oces::Identity::uuid)
      .def_property_readonly("id", [](const oces::Identity& i) { return i.id(); })
      .def_readonly("organisation", &oces::Identity::organisation)
      .def_readonly("common_name", &oces::Identity::common_name)
      .def_readonly("email", &oces::Identity::email)
      .def_readonly("issuing_ca", &oces::Identity::issuing_ca)
      .def_property_readonly("warnings", [](const oces::Identity& i) { return i.warnings; })
      .def_property_readonly("summary", [](const oces::Identity& i) { return oces::summary(i); })
      .def("to_json", [](const oces::Identity& i) { return oces::to_json(i).dump(); },
           "The identity as a JSON object (text).")
      .def("__eq__", equality<oces::Identity>([](const auto& a, const auto& b) { return a == b; }))
      .def("__hash__", [](const oces::Identity& i) { return py::hash(py::str(oces::to_json(i).dump())); })
      .def("__repr__", [](const oces::Identity& i) { return "<Identity " + repr_text(oces::summary(i)) + ">"; });
}

}  // namespace dpgcert::python
