// dpgcert org add / list / show / rename / edit / remove, org contact add / remove, mailbox add / list /
// edit / move / remove.
#include "store_support.hpp"
#include "terminal.hpp"

#include <iostream>

namespace dpgcert::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json organisation_json(const Organisation& o) {
  json contacts = json::array();
  for (const auto& c : o.contacts) contacts.push_back({{"name", c.name}, {"email", c.email}, {"role", c.role}});
  return {{"cvr", o.cvr},
          {"name", o.name},
          {"notes", o.notes},
          {"language", o.language},
          {"contacts", contacts},
          {"created_at", format_rfc3339(o.created_at)},
          {"created_by", o.created_by},
          {"updated_at", format_rfc3339(o.updated_at)}};
}

json mailbox_json(const Mailbox& m, const std::optional<CertificateSummary>& current) {
  return {{"address", m.address},
          {"ad_group", m.ad_group},
          {"organisation_cvr", m.organisation_cvr},
          {"current_certificate", current ? json(current->fingerprint) : json(nullptr)},
          {"current_not_after", current ? json(format_rfc3339(current->not_after)) : json(nullptr)},
          {"created_at", format_rfc3339(m.created_at)},
          {"created_by", m.created_by}};
}

std::optional<CertificateSummary> current_of(const Store& s, const std::string& address) {
  CertificateQuery q;
  q.mailbox = address;
  q.status = CertificateStatus::active;
  auto rows = s.query(q);
  if (rows.empty()) return std::nullopt;
  return rows.back();  // ordered by not_after: the last lasts longest
}

/// "Name <email> (role)", "<email>", "email".
Contact parse_contact(const std::string& text) {
  Contact c;
  std::string rest = text;
  if (const auto open = rest.rfind(" ("); open != std::string::npos && rest.ends_with(")")) {
    c.role = rest.substr(open + 2, rest.size() - open - 3);
    rest = rest.substr(0, open);
  }
  const auto lt = rest.find('<');
  const auto gt = rest.find('>');
  if (lt != std::string::npos && gt != std::string::npos && gt > lt) {
    c.email = rest.substr(lt + 1, gt - lt - 1);
    c.name = rest.substr(0, lt);
    while (!c.name.empty() && c.name.back() == ' ') c.name.pop_back();
  } else {
    c.email = rest;
  }
  if (c.email.find('@') == std::string::npos) {
    throw Error(ErrorCode::invalid_argument, "contact '" + text + "' needs an e-mail address: \"Name <email>\"");
  }
  return c;
}

/// "expired" for a negative count of days, else the count as "(12d)". Appended piece by piece: GCC 12 at -O3
/// raises a false -Wrestrict inside `"(" + std::to_string(n)` (GCC bug 105651).
std::string days_in_brackets(long long days) {
  if (days < 0) return "expired";
  std::string out = "(";
  out += std::to_string(days);
  out += "d)";
  return out;
}

}  // namespace

// ---- organisations and mailboxes ----------------------------------------------------------------

int run_org_add(const StoreGlobal& global, const OrgAddOptions& options) {
  return guarded(options.common, [&] {
    Organisation o;
    o.cvr = options.cvr;
    o.name = options.name;
    o.notes = options.notes;
    o.language = options.language;
    for (const auto& c : options.contacts) o.contacts.push_back(parse_contact(c));
    auto store = open_store(global, options.common);
    const Organisation added = store->add_organisation(o);
    if (options.common.json) {
      print_json(organisation_json(added));
    } else {
      std::cout << "Added organisation " << term(added.cvr) << " (" << term(added.name) << ")\n";
    }
    return static_cast<int>(exit_ok);
  });
}

int run_org_list(const StoreGlobal& global, const OrgListOptions& options) {
  return guarded(options.common, [&] {
    auto store = open_store(global, options.common);
    const auto orgs = store->list_organisations();
    if (options.common.json) {
      json arr = json::array();
      for (const auto& o : orgs) arr.push_back(organisation_json(o));
      print_json(arr);
      return static_cast<int>(exit_ok);
    }
    std::cout << pad("CVR", 10) << pad("CONTACTS", 10) << "NAME\n";
    for (const auto& o : orgs) std::cout << pad(o.cvr, 10) << pad(std::to_string(o.contacts.size()), 10) << last_cell(o.name, 60) << '\n';
    return static_cast<int>(exit_ok);
  });
}

int run_org_show(const StoreGlobal& global, const OrgShowOptions& options) {
  return guarded(options.common, [&] {
    auto store = open_store(global, options.common);
    const Time now = options.common.now_time();
    const auto org = store->find_organisation(options.cvr);
    if (!org) throw Error(ErrorCode::not_found, "no organisation with CVR " + options.cvr);
    const auto mailboxes = store->list_mailboxes(std::string_view(options.cvr));
    CertificateQuery q;
    q.organisation_cvr = options.cvr;
    const auto certs = store->query(q);
    if (options.common.json) {
      json mbs = json::array();
      for (const auto& m : mailboxes) mbs.push_back(mailbox_json(m, current_of(*store, m.address)));
      json cs = json::array();
      for (const auto& c : certs) cs.push_back(summary_json(c, now));
      print_json({{"organisation", organisation_json(*org)}, {"mailboxes", mbs}, {"certificates", cs}});
      return static_cast<int>(exit_ok);
    }
    print_row("CVR", org->cvr);
    print_row("Name", org->name);
    for (const auto& c : org->contacts) {
      print_row("Contact", (c.name.empty() ? "" : c.name + " ") + "<" + c.email + ">" + (c.role.empty() ? "" : " (" + c.role + ")"));
    }
    if (!org->notes.empty()) print_row("Notes", org->notes);
    print_row("Language", org->language);
    print_row("Added", format_rfc3339(org->created_at) + " by " + org->created_by);
    std::cout << "Mailboxes\n";
    for (const auto& m : mailboxes) print_row(m.address, m.ad_group.empty() ? "-" : "AD group " + m.ad_group);
    std::cout << "Certificates\n";
    print_summary_table(certs, now);
    return static_cast<int>(exit_ok);
  });
}

int run_mailbox_add(const StoreGlobal& global, const MailboxAddOptions& options) {
  return guarded(options.common, [&] {
    Mailbox m;
    m.address = options.address;
    m.organisation_cvr = options.org;
    m.ad_group = options.ad_group;
    auto store = open_store(global, options.common);
    const Mailbox added = store->add_mailbox(m);
    if (options.common.json) {
      print_json(mailbox_json(added, std::nullopt));
    } else {
      std::cout << "Added mailbox " << term(added.address) << " to organisation " << term(added.organisation_cvr) << '\n';
    }
    return static_cast<int>(exit_ok);
  });
}

int run_mailbox_list(const StoreGlobal& global, const MailboxListOptions& options) {
  return guarded(options.common, [&] {
    auto store = open_store(global, options.common);
    const auto mailboxes = options.org.empty() ? store->list_mailboxes() : store->list_mailboxes(std::string_view(options.org));
    if (options.common.json) {
      json arr = json::array();
      for (const auto& m : mailboxes) arr.push_back(mailbox_json(m, current_of(*store, m.address)));
      print_json(arr);
      return static_cast<int>(exit_ok);
    }
    const Time now = options.common.now_time();
    std::cout << pad("ADDRESS", 27) << pad("CVR", 9) << pad("AD GROUP", 18) << "CURRENT CERTIFICATE\n";
    for (const auto& m : mailboxes) {
      const auto cur = current_of(*store, m.address);
      std::cout << pad(cell(m.address, 26), 27) << pad(m.organisation_cvr, 9)
                << pad(cell(m.ad_group.empty() ? "-" : m.ad_group, 17), 18)
                << (cur ? cur->fingerprint.substr(0, 8) + " " + date_only(cur->not_after) + " " +
                              days_in_brackets(days_left(cur->not_after, now))
                        : std::string("none"))
                << '\n';
    }
    return static_cast<int>(exit_ok);
  });
}

// ---- edits --------------------------------------------------------------------------------------

namespace {

json removal_json(const RemovalResult& r) { return {{"retired", r.retired}, {"detached_certificates", r.detached}}; }

/// The text lines of a removal: what was retired, what stays.
void print_removal(const std::string& what, const RemovalResult& r) {
  std::cout << "Removed " << term(what) << '\n';
  for (const auto& fp : r.retired) std::cout << "  retired " << fp << '\n';
  if (r.detached > 0) {
    std::cout << "  " << r.detached << (r.detached == 1 ? " certificate stays" : " certificates stay")
              << " in the store (dpgcert list --status retired)\n";
  }
}

/// The conflict of a removal while active certificates hang on it, with the flag that goes on.
int removal_guarded(const Common& common, const std::function<int()>& body) {
  return guarded(common, [&] {
    try {
      return body();
    } catch (const Error& e) {
      if (e.code() != ErrorCode::conflict || std::string_view(e.what()).find("active certificate") == std::string_view::npos) {
        throw;
      }
      print_error(common, e);
      if (!common.json) std::cerr << "dpgcert: hint: add --retire-certificates to retire them with it\n";
      return static_cast<int>(exit_unreadable);
    }
  });
}

}  // namespace

int run_org_edit(const StoreGlobal& global, const OrgEditOptions& options) {
  return guarded(options.common, [&] {
    if (!options.name && !options.notes && !options.language) {
      throw Error(ErrorCode::invalid_argument, "nothing to change: give --name, --notes or --language");
    }
    OrganisationEdit e;
    e.name = options.name;
    e.notes = options.notes;
    e.language = options.language;
    auto store = open_store(global, options.common);
    const Organisation o = store->edit_organisation(options.cvr, e, global.actor);
    if (options.common.json) {
      print_json(organisation_json(o));
    } else {
      std::cout << "Organisation " << term(o.cvr) << " is now " << term(o.name) << '\n';
    }
    return static_cast<int>(exit_ok);
  });
}

int run_org_remove(const StoreGlobal& global, const OrgRemoveOptions& options) {
  return removal_guarded(options.common, [&] {
    RemovalOptions r;
    r.retire_certificates = options.retire_certificates;
    r.reason = options.reason;
    auto store = open_store(global, options.common);
    const RemovalResult done = store->remove_organisation(options.cvr, r, global.actor);
    if (options.common.json) {
      json j = removal_json(done);
      j["cvr"] = options.cvr;
      print_json(j);
    } else {
      print_removal("organisation " + options.cvr, done);
    }
    return static_cast<int>(exit_ok);
  });
}

int run_contact_add(const StoreGlobal& global, const ContactOptions& options) {
  return guarded(options.common, [&] {
    const Contact c = parse_contact(options.contact);
    auto store = open_store(global, options.common);
    const Organisation o = store->add_contact(options.cvr, c, global.actor);
    if (options.common.json) {
      print_json(organisation_json(o));
    } else {
      std::cout << "Added contact " << term(c.email) << " to organisation " << term(o.cvr) << '\n';
    }
    return static_cast<int>(exit_ok);
  });
}

int run_contact_remove(const StoreGlobal& global, const ContactOptions& options) {
  return guarded(options.common, [&] {
    auto store = open_store(global, options.common);
    const Organisation o = store->remove_contact(options.cvr, options.contact, global.actor);
    if (options.common.json) {
      print_json(organisation_json(o));
    } else {
      std::cout << "Removed contact " << term(options.contact) << " from organisation " << term(o.cvr) << '\n';
    }
    return static_cast<int>(exit_ok);
  });
}

int run_mailbox_edit(const StoreGlobal& global, const MailboxEditOptions& options) {
  return guarded(options.common, [&] {
    if (!options.ad_group) throw Error(ErrorCode::invalid_argument, "nothing to change: give --ad-group");
    auto store = open_store(global, options.common);
    const auto before = store->find_mailbox(options.address);
    if (!before) throw Error(ErrorCode::not_found, "no mailbox " + options.address);
    Mailbox m = *before;
    m.ad_group = *options.ad_group;
    const Mailbox after = store->update_mailbox(m, global.actor);
    if (options.common.json) {
      print_json(mailbox_json(after, current_of(*store, after.address)));
    } else {
      std::cout << "Mailbox " << term(after.address) << ": AD group " << (after.ad_group.empty() ? "-" : term(after.ad_group)) << '\n';
    }
    return static_cast<int>(exit_ok);
  });
}

int run_mailbox_move(const StoreGlobal& global, const MailboxEditOptions& options) {
  return guarded(options.common, [&] {
    auto store = open_store(global, options.common);
    const Mailbox m = store->move_mailbox(options.address, options.org, global.actor);
    if (options.common.json) {
      print_json(mailbox_json(m, current_of(*store, m.address)));
    } else {
      std::cout << "Moved mailbox " << term(m.address) << " to organisation " << term(m.organisation_cvr) << '\n';
    }
    return static_cast<int>(exit_ok);
  });
}

int run_mailbox_remove(const StoreGlobal& global, const MailboxRemoveOptions& options) {
  return removal_guarded(options.common, [&] {
    RemovalOptions r;
    r.retire_certificates = options.retire_certificates;
    r.reason = options.reason;
    auto store = open_store(global, options.common);
    const RemovalResult done = store->remove_mailbox(options.address, r, global.actor);
    if (options.common.json) {
      json j = removal_json(done);
      j["address"] = options.address;
      print_json(j);
    } else {
      print_removal("mailbox " + options.address, done);
    }
    return static_cast<int>(exit_ok);
  });
}

}  // namespace dpgcert::cli
