// The store's everyday inventory edits, written once over the backend interface: editing an
// organisation and its contacts, moving and removing mailboxes, removing organisations. Each is one
// write transaction with its audit line(s).
#include "store/store_impl.hpp"

#include "store/hooks.hpp"
#include "store/import_plan.hpp"

#include <dpgcert/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace dpgcert {
namespace {

using store_detail::lowercase;

Error no_organisation(std::string_view cvr) {
  std::string m = "store: no organisation with CVR ";
  m += cvr;
  return Error(ErrorCode::not_found, m);
}

Error no_mailbox(std::string_view address) {
  std::string m = "store: no mailbox ";
  m += address;
  return Error(ErrorCode::not_found, m);
}

/// The active certificates a query selects.
std::vector<CertificateSummary> active_of(store::Transaction& tx, CertificateQuery q) {
  q.status = CertificateStatus::active;
  return tx.summaries(q);
}

/// Retires `active` (each with its hooks and audit line), or refuses with Error(conflict) naming
/// how many hang on `what` and how to go on.
std::vector<std::string> retire_or_refuse(const Store::Impl& s, store::Transaction& tx, const std::vector<CertificateSummary>& active,
                                          const RemovalOptions& options, std::string_view what,
                                          std::string_view default_reason, Time t, const std::string& who) {
  std::vector<std::string> retired;
  if (active.empty()) return retired;
  if (!options.retire_certificates) {
    std::string m = "store: ";
    m += std::to_string(active.size());
    m += active.size() == 1 ? " active certificate hangs on " : " active certificates hang on ";
    m += what;
    m += " (";
    m += active.front().fingerprint.substr(0, 16);
    m += active.size() > 1 ? ", ...)" : ")";
    m += "; retire them first, or let the removal retire them";
    throw Error(ErrorCode::conflict, m);
  }
  const std::string reason = options.reason.empty() ? std::string(default_reason) : options.reason;
  for (const auto& c : active) {
    tx.set_status(c.id, CertificateStatus::retired, std::nullopt, t);
    for (store::StoreHooks* h : store::registered_hooks()) h->on_status_change(tx, c.id, CertificateStatus::retired, t);
    s.audit(tx, t, who, "certificate.status", "certificate", c.fingerprint,
                       {{"from", "active"}, {"to", "retired"}, {"reason", reason}});
    retired.push_back(c.fingerprint);
  }
  return retired;
}

/// Reads an organisation, lets `change` edit it (returning the audit details), writes it back and
/// audits `action`, all in one write transaction.
template <class F>
Organisation edit_organisation_with(Store::Impl& s, std::string_view cvr, std::string_view actor,
                                    std::string_view action, F&& change) {
  std::lock_guard lock(s.mu);
  const Time t = s.now();
  const std::string who = s.actor_or_default(actor);
  return s.transact(true, [&](store::Transaction& tx) {
    const auto id = tx.organisation_id(cvr);
    if (!id) throw no_organisation(cvr);
    Organisation org = *tx.organisation(cvr);
    const nlohmann::json details = change(org);
    tx.update_organisation(*id, org, t);
    s.audit(tx, t, who, action, "organisation", org.cvr, details);
    return *tx.organisation(cvr);
  });
}

}  // namespace

Organisation Store::edit_organisation(std::string_view cvr, const OrganisationEdit& edit, std::string_view actor) {
  if (edit.name && edit.name->empty()) throw Error(ErrorCode::invalid_argument, "store: the organisation needs a name");
  if (edit.language && *edit.language != "da" && *edit.language != "en") {
    throw Error(ErrorCode::invalid_argument, "store: an organisation's language is da or en");
  }
  return edit_organisation_with(*impl_, cvr, actor, "organisation.edit", [&](Organisation& org) {
    nlohmann::json details = nlohmann::json::object();
    if (edit.name && *edit.name != org.name) {
      details["name"] = {{"from", org.name}, {"to", *edit.name}};
      org.name = *edit.name;
    }
    if (edit.notes && *edit.notes != org.notes) {
      details["notes_changed"] = true;
      org.notes = *edit.notes;
    }
    if (edit.language && *edit.language != org.language) {
      details["language"] = {{"from", org.language}, {"to", *edit.language}};
      org.language = *edit.language;
    }
    return details;
  });
}

Organisation Store::add_contact(std::string_view cvr, const Contact& contact, std::string_view actor) {
  if (contact.email.find('@') == std::string::npos) {
    throw Error(ErrorCode::invalid_argument, "store: contact e-mail '" + contact.email + "' has no '@'");
  }
  return edit_organisation_with(*impl_, cvr, actor, "organisation.contact.add", [&](Organisation& org) {
    const std::string email = lowercase(contact.email);
    for (const auto& c : org.contacts) {
      if (lowercase(c.email) == email) {
        throw Error(ErrorCode::conflict, "store: organisation " + org.cvr + " has a contact " + c.email);
      }
    }
    org.contacts.push_back(contact);
    return nlohmann::json{{"name", contact.name}, {"email", contact.email}, {"role", contact.role}};
  });
}

Organisation Store::remove_contact(std::string_view cvr, std::string_view email, std::string_view actor) {
  return edit_organisation_with(*impl_, cvr, actor, "organisation.contact.remove", [&](Organisation& org) {
    const std::string wanted = lowercase(email);
    const auto it = std::find_if(org.contacts.begin(), org.contacts.end(),
                                 [&](const Contact& c) { return lowercase(c.email) == wanted; });
    if (it == org.contacts.end()) {
      std::string m = "store: organisation " + org.cvr + " has no contact ";
      m += email;
      throw Error(ErrorCode::not_found, m);
    }
    nlohmann::json details{{"name", it->name}, {"email", it->email}};
    org.contacts.erase(it);
    return details;
  });
}

RemovalResult Store::remove_organisation(std::string_view cvr, const RemovalOptions& options, std::string_view actor) {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  const Time t = s.now();
  const std::string who = s.actor_or_default(actor);
  return s.transact(true, [&](store::Transaction& tx) {
    const auto id = tx.organisation_id(cvr);
    if (!id) throw no_organisation(cvr);
    const std::vector<Mailbox> mailboxes = tx.mailboxes(cvr);
    if (!mailboxes.empty()) {
      std::string m = "store: organisation ";
      m += cvr;
      m += " still has ";
      m += std::to_string(mailboxes.size());
      m += mailboxes.size() == 1 ? " mailbox (" : " mailboxes (";
      m += mailboxes.front().address;
      m += mailboxes.size() > 1 ? ", ...)" : ")";
      m += "; move or remove them first";
      throw Error(ErrorCode::conflict, m);
    }
    CertificateQuery q;
    q.organisation_cvr = std::string(cvr);
    RemovalResult r;
    std::string what = "organisation ";
    what += cvr;
    r.retired = retire_or_refuse(s, tx, active_of(tx, q), options, what,
                                 "removed with its organisation", t, who);
    r.detached = tx.count(q);
    tx.delete_organisation(*id);
    s.audit(tx, t, who, "organisation.remove", "organisation", cvr,
                {{"retired", r.retired}, {"detached_certificates", r.detached}});
    return r;
  });
}

Mailbox Store::move_mailbox(std::string_view address, std::string_view organisation_cvr, std::string_view actor) {
  const std::string a = lowercase(address);
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  const Time t = s.now();
  const std::string who = s.actor_or_default(actor);
  return s.transact(true, [&](store::Transaction& tx) {
    const auto ref = tx.mailbox_ref(a);
    if (!ref) throw no_mailbox(a);
    const auto to = tx.organisation_id(organisation_cvr);
    if (!to) throw no_organisation(organisation_cvr);
    const std::string from = tx.organisation_cvr(ref->organisation_id).value_or("");
    if (*to == ref->organisation_id) return *tx.mailbox(a);
    CertificateQuery q;
    q.mailbox = a;
    const std::size_t moved = tx.count(q);
    tx.move_mailbox(ref->id, *to);
    // The moved certificates now fall under the new organisation's renewal policy.
    tx.reevaluate_policy_scope(*to);
    s.audit(tx, t, who, "mailbox.move", "mailbox", a,
                {{"from", from}, {"to", organisation_cvr}, {"certificates", moved}});
    return *tx.mailbox(a);
  });
}

RemovalResult Store::remove_mailbox(std::string_view address, const RemovalOptions& options, std::string_view actor) {
  const std::string a = lowercase(address);
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  const Time t = s.now();
  const std::string who = s.actor_or_default(actor);
  return s.transact(true, [&](store::Transaction& tx) {
    const auto ref = tx.mailbox_ref(a);
    if (!ref) throw no_mailbox(a);
    CertificateQuery q;
    q.mailbox = a;
    RemovalResult r;
    r.retired = retire_or_refuse(s, tx, active_of(tx, q), options, "mailbox " + a, "removed with its mailbox", t, who);
    r.detached = tx.count(q);
    tx.delete_mailbox(ref->id);
    s.audit(tx, t, who, "mailbox.remove", "mailbox", a,
                {{"organisation", tx.organisation_cvr(ref->organisation_id).value_or("")},
                 {"retired", r.retired},
                 {"detached_certificates", r.detached}});
    return r;
  });
}

}  // namespace dpgcert
