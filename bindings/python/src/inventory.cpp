// The inventory of the _dpgcert module: Organisation, Contact, Mailbox, RemovalResult, and the
// Store methods that add, read, edit, move and remove organisations, contacts and mailboxes.
#include "module.hpp"

namespace dpgcert::python {
namespace {

/// Runs `f(Store&)` with the GIL released.
template <class F>
auto without_gil(const PyStore& self, F&& f) {
  const auto store = self.get();
  py::gil_scoped_release unlocked;
  return f(*store);
}

RemovalOptions removal(bool retire_certificates, const std::optional<std::string>& reason) {
  RemovalOptions o;
  o.retire_certificates = retire_certificates;
  if (reason) o.reason = *reason;
  return o;
}

}  // namespace

void bind_inventory(py::module_& m) {
  py::class_<Contact>(m, "Contact", "A person to tell about an organisation's certificates.")
      .def(py::init([](std::string name, std::string email, std::string role) {
             return Contact{std::move(name), std::move(email), std::move(role)};
           }),
           py::arg("name"), py::arg("email"), py::arg("role") = "")
      .def_readonly("name", &Contact::name)
      .def_readonly("email", &Contact::email)
      .def_readonly("role", &Contact::role)
      .def("__eq__", equality<Contact>([](const Contact& a, const Contact& b) { return a == b; }))
      .def("__hash__", [](const Contact& c) { return py::hash(py::make_tuple(c.name, c.email, c.role)); })
      .def("__repr__", [](const Contact& c) {
        return "<Contact " + repr_text(c.name) + " " + repr_text(c.email) + ">";
      });

  py::class_<Organisation>(m, "Organisation", "A customer's legal entity, keyed by its CVR number.")
      .def_readonly("cvr", &Organisation::cvr)
      .def_readonly("name", &Organisation::name)
      .def_readonly("notes", &Organisation::notes)
      .def_readonly("language", &Organisation::language)
      .def_property_readonly("contacts", [](const Organisation& o) { return py::tuple(py::cast(o.contacts)); })
      .def_property_readonly("created_at", [](const Organisation& o) { return to_datetime(o.created_at); })
      .def_readonly("created_by", &Organisation::created_by)
      .def_property_readonly("updated_at", [](const Organisation& o) { return to_datetime(o.updated_at); })
      .def("__repr__", [](const Organisation& o) {
        return "<Organisation cvr=" + o.cvr + " name=" + repr_text(o.name) + ">";
      });

  py::class_<Mailbox>(m, "Mailbox", "A function mailbox of an organisation.")
      .def_readonly("address", &Mailbox::address)
      .def_readonly("ad_group", &Mailbox::ad_group)
      .def_readonly("organisation_cvr", &Mailbox::organisation_cvr)
      .def_property_readonly("created_at", [](const Mailbox& mb) { return to_datetime(mb.created_at); })
      .def_readonly("created_by", &Mailbox::created_by)
      .def("__repr__", [](const Mailbox& mb) {
        return "<Mailbox " + mb.address + " organisation_cvr=" + mb.organisation_cvr + ">";
      });

  py::class_<RemovalResult>(m, "RemovalResult", "What a removal did.")
      .def_property_readonly("retired", [](const RemovalResult& r) { return py::tuple(py::cast(r.retired)); })
      .def_readonly("detached", &RemovalResult::detached)
      .def("__repr__", [](const RemovalResult& r) {
        return "<RemovalResult retired=" + std::to_string(r.retired.size()) + " detached=" + std::to_string(r.detached) +
               ">";
      });

  using OptText = std::optional<std::string>;
  py::reinterpret_borrow<py::class_<PyStore>>(m.attr("Store"))
      .def(
          "add_organisation",
          [](const PyStore& self, const std::string& cvr, const std::string& name, const std::vector<Contact>& contacts,
             const std::string& notes, const std::string& language) {
            Organisation o;
            o.cvr = cvr;
            o.name = name;
            o.contacts = contacts;
            o.notes = notes;
            o.language = language;
            return without_gil(self, [&](Store& s) { return s.add_organisation(o); });
          },
          py::arg("cvr"), py::kw_only(), py::arg("name"), py::arg("contacts") = std::vector<Contact>{},
          py::arg("notes") = "", py::arg("language") = "da",
          "Adds an organisation (language: 'da' or 'en', of the mail to its contacts). ConflictError when the CVR exists.")
      .def(
          "organisation",
          [](const PyStore& self, const std::string& cvr) {
            return without_gil(self, [&](Store& s) { return s.find_organisation(cvr); });
          },
          py::arg("cvr"), "The organisation with this CVR, or None.")
      .def(
          "organisations", [](const PyStore& self) { return without_gil(self, [](Store& s) { return s.list_organisations(); }); },
          "Every organisation, by CVR.")
      .def(
          "edit_organisation",
          [](const PyStore& self, const std::string& cvr, const OptText& name, const OptText& notes,
             const OptText& language) {
            OrganisationEdit e;
            e.name = name;
            e.notes = notes;
            e.language = language;
            return without_gil(self, [&](Store& s) { return s.edit_organisation(cvr, e); });
          },
          py::arg("cvr"), py::kw_only(), py::arg("name") = py::none(), py::arg("notes") = py::none(),
          py::arg("language") = py::none(),
          "Changes the name, notes and/or language ('da' or 'en'; None keeps one). NotFoundError, "
          "InvalidArgumentError for an empty name or another language.")
      .def(
          "add_contact",
          [](const PyStore& self, const std::string& cvr, const Contact& c) {
            return without_gil(self, [&](Store& s) { return s.add_contact(cvr, c); });
          },
          py::arg("cvr"), py::arg("contact"), "Adds a contact. ConflictError when its e-mail address is there.")
      .def(
          "remove_contact",
          [](const PyStore& self, const std::string& cvr, const std::string& email) {
            return without_gil(self, [&](Store& s) { return s.remove_contact(cvr, email); });
          },
          py::arg("cvr"), py::arg("email"), "Removes the contact with this e-mail address. NotFoundError.")
      .def(
          "remove_organisation",
          [](const PyStore& self, const std::string& cvr, bool retire, const OptText& reason) {
            const RemovalOptions o = removal(retire, reason);
            return without_gil(self, [&](Store& s) { return s.remove_organisation(cvr, o); });
          },
          py::arg("cvr"), py::kw_only(), py::arg("retire_certificates") = false, py::arg("reason") = py::none(),
          "Removes an organisation. ConflictError while it has mailboxes, or active certificates unless "
          "retire_certificates.")
      .def(
          "add_mailbox",
          [](const PyStore& self, const std::string& address, const std::string& organisation_cvr,
             const std::string& ad_group) {
            Mailbox mb;
            mb.address = address;
            mb.organisation_cvr = organisation_cvr;
            mb.ad_group = ad_group;
            return without_gil(self, [&](Store& s) { return s.add_mailbox(mb); });
          },
          py::arg("address"), py::kw_only(), py::arg("organisation_cvr"), py::arg("ad_group") = "",
          "Adds a mailbox to an organisation.")
      .def(
          "mailbox",
          [](const PyStore& self, const std::string& address) {
            return without_gil(self, [&](Store& s) { return s.find_mailbox(address); });
          },
          py::arg("address"), "The mailbox with this address, or None.")
      .def(
          "mailboxes",
          [](const PyStore& self, const OptText& organisation_cvr) {
            return without_gil(self, [&](Store& s) {
              return organisation_cvr ? s.list_mailboxes(std::string_view(*organisation_cvr)) : s.list_mailboxes();
            });
          },
          py::kw_only(), py::arg("organisation_cvr") = py::none(), "Every mailbox, or one organisation's.")
      .def(
          "edit_mailbox",
          [](const PyStore& self, const std::string& address, const std::string& ad_group) {
            return without_gil(self, [&](Store& s) {
              auto mb = s.find_mailbox(address);
              if (!mb) throw Error(ErrorCode::not_found, "no mailbox " + address);
              mb->ad_group = ad_group;
              return s.update_mailbox(*mb);
            });
          },
          py::arg("address"), py::kw_only(), py::arg("ad_group"), "Changes a mailbox's AD group. NotFoundError.")
      .def(
          "move_mailbox",
          [](const PyStore& self, const std::string& address, const std::string& organisation_cvr) {
            return without_gil(self, [&](Store& s) { return s.move_mailbox(address, organisation_cvr); });
          },
          py::arg("address"), py::kw_only(), py::arg("organisation_cvr"),
          "Moves a mailbox, with its certificates, to another organisation. NotFoundError.")
      .def(
          "remove_mailbox",
          [](const PyStore& self, const std::string& address, bool retire, const OptText& reason) {
            const RemovalOptions o = removal(retire, reason);
            return without_gil(self, [&](Store& s) { return s.remove_mailbox(address, o); });
          },
          py::arg("address"), py::kw_only(), py::arg("retire_certificates") = false, py::arg("reason") = py::none(),
          "Removes a mailbox. ConflictError while active certificates hang on it, unless retire_certificates.");
}

}  // namespace dpgcert::python
