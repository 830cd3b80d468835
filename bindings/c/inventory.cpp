// C API: a store's organisations, contacts and mailboxes (conversion only; the store decides).
#include "c_api.hpp"

using namespace dpgcert;
using namespace dpgcert::capi;

namespace {

Store& store_of(dpgcert_store* store) {
  require(store, "store");
  return *store->store;
}

const Store& store_of(const dpgcert_store* store) {
  require(store, "store");
  return *store->store;
}

RemovalOptions removal(unsigned int flags) {
  if ((flags & ~DPGCERT_REMOVE_RETIRE_CERTIFICATES) != 0) {
    std::string m = "unknown removal flags ";
    m += std::to_string(flags);
    throw Error(ErrorCode::invalid_argument, m);
  }
  RemovalOptions o;
  o.retire_certificates = (flags & DPGCERT_REMOVE_RETIRE_CERTIFICATES) != 0;
  return o;
}

Organisation organisation_of(const Store& s, std::string_view cvr) {
  auto o = s.find_organisation(cvr);
  if (!o) {
    std::string m = "no organisation with CVR ";
    m += cvr;
    throw Error(ErrorCode::not_found, m);
  }
  return std::move(*o);
}

std::string no_mailbox(const char* address) {
  std::string m = "no mailbox ";
  m += address;
  return m;
}

int retired_out(size_t* retired, const RemovalResult& r) {
  if (retired != nullptr) *retired = r.retired.size();
  return DPGCERT_OK;
}

}  // namespace

extern "C" {

int dpgcert_store_add_organisation(dpgcert_store* store, const char* cvr, const char* name) {
  return guarded(__func__, [&] {
    Organisation o;
    o.cvr = std::string(in_text(cvr, "cvr"));
    o.name = std::string(in_text(name, "name"));
    (void)store_of(store).add_organisation(o);
    return DPGCERT_OK;
  });
}

int dpgcert_store_edit_organisation(dpgcert_store* store, const char* cvr, const char* name, const char* notes) {
  return guarded(__func__, [&] {
    OrganisationEdit e;
    if (name != nullptr) e.name = std::string(name);
    if (notes != nullptr) e.notes = std::string(notes);
    (void)store_of(store).edit_organisation(in_text(cvr, "cvr"), e);
    return DPGCERT_OK;
  });
}

int dpgcert_store_organisation_name(const dpgcert_store* store, const char* cvr, char* buf, size_t* len) {
  return guarded(__func__, [&] { return out_text(organisation_of(store_of(store), in_text(cvr, "cvr")).name, buf, len); });
}

int dpgcert_store_set_organisation_language(dpgcert_store* store, const char* cvr, const char* language) {
  return guarded(__func__, [&] {
    OrganisationEdit e;
    e.language = std::string(in_text(language, "language"));
    (void)store_of(store).edit_organisation(in_text(cvr, "cvr"), e);
    return DPGCERT_OK;
  });
}

int dpgcert_store_organisation_language(const dpgcert_store* store, const char* cvr, char* buf, size_t* len) {
  return guarded(__func__,
                 [&] { return out_text(organisation_of(store_of(store), in_text(cvr, "cvr")).language, buf, len); });
}

int dpgcert_store_add_contact(dpgcert_store* store, const char* cvr, const char* name, const char* email,
                              const char* role) {
  return guarded(__func__, [&] {
    Contact c;
    c.name = name != nullptr ? name : "";
    c.email = std::string(in_text(email, "email"));
    c.role = role != nullptr ? role : "";
    (void)store_of(store).add_contact(in_text(cvr, "cvr"), c);
    return DPGCERT_OK;
  });
}

int dpgcert_store_remove_contact(dpgcert_store* store, const char* cvr, const char* email) {
  return guarded(__func__, [&] {
    (void)store_of(store).remove_contact(in_text(cvr, "cvr"), in_text(email, "email"));
    return DPGCERT_OK;
  });
}

int dpgcert_store_contact_count(const dpgcert_store* store, const char* cvr, size_t* count) {
  return guarded(__func__, [&] {
    return out_value(count, organisation_of(store_of(store), in_text(cvr, "cvr")).contacts.size(), "count");
  });
}

int dpgcert_store_remove_organisation(dpgcert_store* store, const char* cvr, unsigned int flags, size_t* retired) {
  return guarded(__func__, [&] {
    const RemovalOptions o = removal(flags);
    return retired_out(retired, store_of(store).remove_organisation(in_text(cvr, "cvr"), o));
  });
}

int dpgcert_store_add_mailbox(dpgcert_store* store, const char* address, const char* cvr, const char* ad_group) {
  return guarded(__func__, [&] {
    Mailbox m;
    m.address = std::string(in_text(address, "address"));
    m.organisation_cvr = std::string(in_text(cvr, "cvr"));
    m.ad_group = ad_group != nullptr ? ad_group : "";
    (void)store_of(store).add_mailbox(m);
    return DPGCERT_OK;
  });
}

int dpgcert_store_set_mailbox_ad_group(dpgcert_store* store, const char* address, const char* ad_group) {
  return guarded(__func__, [&] {
    Store& s = store_of(store);
    auto m = s.find_mailbox(in_text(address, "address"));
    if (!m) throw Error(ErrorCode::not_found, no_mailbox(address));
    m->ad_group = std::string(in_text(ad_group, "ad_group"));
    (void)s.update_mailbox(*m);
    return DPGCERT_OK;
  });
}

int dpgcert_store_move_mailbox(dpgcert_store* store, const char* address, const char* cvr) {
  return guarded(__func__, [&] {
    (void)store_of(store).move_mailbox(in_text(address, "address"), in_text(cvr, "cvr"));
    return DPGCERT_OK;
  });
}

int dpgcert_store_mailbox_organisation(const dpgcert_store* store, const char* address, char* buf, size_t* len) {
  return guarded(__func__, [&] {
    const auto m = store_of(store).find_mailbox(in_text(address, "address"));
    if (!m) throw Error(ErrorCode::not_found, no_mailbox(address));
    return out_text(m->organisation_cvr, buf, len);
  });
}

int dpgcert_store_remove_mailbox(dpgcert_store* store, const char* address, unsigned int flags, size_t* retired) {
  return guarded(__func__, [&] {
    const RemovalOptions o = removal(flags);
    return retired_out(retired, store_of(store).remove_mailbox(in_text(address, "address"), o));
  });
}

}  // extern "C"
