// The store's domain logic, written once over the backend interface: opening (backend by
// location), organisations, mailboxes, reading certificates, status changes, the audit log, info
// and integrity. Imports are in import.cpp; sealing, unsealing and key rotation in sealing.cpp.
#include "store/store_impl.hpp"

#include "core/text.hpp"
#include "store/backend_registry.hpp"
#include "store/hooks.hpp"
#include "store/import_plan.hpp"
#include "store/sqlite/schema.hpp"

#include <dpgcert/error.hpp>

#include <nlohmann/json.hpp>

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

namespace dpgcert {
namespace {

using store_detail::is_cvr;
using store_detail::lowercase;

void check_organisation(const Organisation& org) {
  if (!is_cvr(org.cvr)) throw Error(ErrorCode::invalid_argument, "store: a CVR number is 8 digits, not '" + org.cvr + "'");
  if (org.name.empty()) throw Error(ErrorCode::invalid_argument, "store: the organisation needs a name");
  if (org.language != "da" && org.language != "en") {
    throw Error(ErrorCode::invalid_argument, "store: an organisation's language is da or en, not '" + org.language + "'");
  }
  for (const auto& c : org.contacts) {
    if (c.email.find('@') == std::string::npos) {
      throw Error(ErrorCode::invalid_argument, "store: contact e-mail '" + c.email + "' has no '@'");
    }
  }
}

bool is_hex(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::vector<store::StoreHooks*>& hooks_list() noexcept {
  static std::vector<store::StoreHooks*> hooks;
  return hooks;
}

}  // namespace

// ---- names ----------------------------------------------------------------------------------

std::string_view to_string(CertificateStatus status) noexcept {
  switch (status) {
    case CertificateStatus::active: return "active";
    case CertificateStatus::superseded: return "superseded";
    case CertificateStatus::revoked: return "revoked";
    case CertificateStatus::retired: return "retired";
  }
  return "active";
}

std::optional<CertificateStatus> parse_certificate_status(std::string_view text) noexcept {
  if (text == "active") return CertificateStatus::active;
  if (text == "superseded") return CertificateStatus::superseded;
  if (text == "revoked") return CertificateStatus::revoked;
  if (text == "retired") return CertificateStatus::retired;
  return std::nullopt;
}

std::string_view to_string(ImportOutcome outcome) noexcept {
  switch (outcome) {
    case ImportOutcome::imported: return "imported";
    case ImportOutcome::already_present: return "already_present";
    case ImportOutcome::refused: return "refused";
  }
  return "refused";
}

std::string os_user_name() {
  const uid_t uid = ::geteuid();
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  if (size <= 0) size = 16384;
  std::vector<char> buf(static_cast<std::size_t>(size));
  struct passwd pw {};
  struct passwd* result = nullptr;
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &result) == 0 && result != nullptr && result->pw_name != nullptr &&
      *result->pw_name != '\0') {
    return result->pw_name;
  }
  return "uid:" + std::to_string(uid);
}

// ---- hooks ----------------------------------------------------------------------------------

void store::register_hooks(StoreHooks& hooks) {
  auto& list = hooks_list();
  if (std::find(list.begin(), list.end(), &hooks) == list.end()) list.push_back(&hooks);
}

const std::vector<store::StoreHooks*>& store::registered_hooks() noexcept { return hooks_list(); }

// ---- helpers --------------------------------------------------------------------------------

std::string store_detail::check_address(std::string_view address) {
  const std::string a = lowercase(address);
  const auto at = a.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == a.size() || a.find_first_of(" \t\r\n<>,;") != std::string::npos) {
    throw Error(ErrorCode::invalid_argument, "store: '" + std::string(address) + "' is not a mailbox address");
  }
  return a;
}

std::string store_detail::normalise_fingerprint(std::string_view fingerprint) {
  std::string fp;
  for (char c : fingerprint) {
    if (c == ':') continue;  // "AB:CD:..." as some tools print it
    fp += c;
  }
  fp = lowercase(fp);
  if (!is_hex(fp) || fp.size() > 64) {
    throw Error(ErrorCode::invalid_argument, "store: '" + std::string(fingerprint) + "' is not a SHA-256 fingerprint");
  }
  if (fp.size() < 8) throw Error(ErrorCode::invalid_argument, "store: a fingerprint prefix needs at least 8 hex digits");
  return fp;
}

std::optional<std::int64_t> store_detail::resolve_fingerprint(store::Transaction& tx, const std::string& fp) {
  if (fp.size() == 64) return tx.certificate_id(fp);
  const std::vector<std::int64_t> ids = tx.certificate_ids_by_prefix(fp, 2);
  if (ids.empty()) return std::nullopt;
  if (ids.size() > 1) throw Error(ErrorCode::conflict, "store: fingerprint prefix " + fp + " is ambiguous");
  return ids.front();
}

Store::Impl::Impl(StoreOptions opts, std::unique_ptr<store::Backend> b)
    : options(std::move(opts)),
      clock(options.clock ? options.clock : std::make_shared<SystemClock>()),
      wall_clock(options.wall_clock ? options.wall_clock : std::make_shared<SystemClock>()),
      own_clock(options.clock != nullptr),
      ctx(options.context != nullptr ? options.context : &Context::shared()),
      default_actor(options.actor.empty() ? os_user_name() : options.actor),
      backend(std::move(b)) {}

void Store::Impl::audit(store::Transaction& tx, Time at, std::string_view actor, std::string_view action,
                        std::string_view kind, std::string_view key, const nlohmann::json& details) const {
  AuditEntry e;
  e.at = wall_clock->now();
  if (own_clock) e.command_time = at;
  e.actor = std::string(actor);
  e.action = std::string(action);
  e.object_kind = std::string(kind);
  e.object_key = std::string(key);
  e.details = detail::dump_json(details);
  tx.append_audit(e);
}

// ---- opening --------------------------------------------------------------------------------

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Store::~Store() = default;

int Store::current_schema_version() noexcept { return sqlite::latest_schema_version(); }

std::unique_ptr<Store> Store::create(StoreOptions options, const vault::KeySource& key) {
  std::unique_ptr<store::Backend> backend = store::open_backend(options, true);
  std::unique_ptr<Impl> impl;
  try {
    const vault::EstablishedKey established = vault::establish_key(key);
    impl = std::make_unique<Impl>(std::move(options), std::move(backend));
    Impl& s = *impl;
    std::lock_guard lock(s.mu);
    const Time t = s.now();
    s.transact(true, [&](store::Transaction& tx) {
      tx.create_schema(t);
      tx.write_key_header(established.header, t, false);
      tx.set_setting(store_detail::kEnvironmentSetting, to_string(s.options.environment), t);
      s.audit(tx, t, s.default_actor, "store.init", "store", s.backend->location(),
              {{"schema_version", s.backend->latest_schema_version()},
               {"key_source", established.header.kind},
               {"environment", to_string(s.options.environment)}});
    });
    s.unlocked.emplace(established.wrapper);
    s.vault_check = established.header.check;
    return std::unique_ptr<Store>(new Store(std::move(impl)));
  } catch (...) {
    (impl ? *impl->backend : *backend).abandon();
    throw;
  }
}

std::unique_ptr<Store> Store::open(StoreOptions options) {
  std::unique_ptr<store::Backend> backend = store::open_backend(options, false);
  auto impl = std::make_unique<Impl>(std::move(options), std::move(backend));
  Impl& s = *impl;
  std::lock_guard lock(s.mu);
  const std::string location = s.backend->location();
  const int latest = s.backend->latest_schema_version();
  const int version = s.transact(false, [&](store::Transaction& tx) { return tx.schema_version(); });
  if (version < 0) throw Error(ErrorCode::malformed, "store: '" + location + "' is not a dpgcert store");
  if (version > latest) {
    throw Error(ErrorCode::unsupported, "store: '" + location + "' has schema version " + std::to_string(version) +
                                            ", newer than this dpgcert knows (" + std::to_string(latest) + ")");
  }
  if (version < latest) {
    const Time t = s.now();
    s.transact(true, [&](store::Transaction& tx) {
      const int v = tx.schema_version();  // another process may have migrated meanwhile
      if (v < latest) {
        tx.migrate(v, t);
        s.audit(tx, t, s.default_actor, "store.migrate", "store", location, {{"from", v}, {"to", latest}});
      }
    });
  }
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

// ---- organisations and mailboxes ------------------------------------------------------------

Organisation Store::add_organisation(const Organisation& org, std::string_view actor) {
  check_organisation(org);
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  const Time t = s.now();
  const std::string who = s.actor_or_default(actor);
  return s.transact(true, [&](store::Transaction& tx) {
    if (tx.organisation_id(org.cvr)) throw Error(ErrorCode::conflict, "store: an organisation with CVR " + org.cvr + " exists");
    (void)tx.insert_organisation(org, t, who);
    s.audit(tx, t, who, "organisation.add", "organisation", org.cvr,
                {{"name", org.name}, {"contacts", org.contacts.size()}});
    return *tx.organisation(org.cvr);
  });
}

Organisation Store::update_organisation(const Organisation& org, std::string_view actor) {
  check_organisation(org);
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  const Time t = s.now();
  const std::string who = s.actor_or_default(actor);
  return s.transact(true, [&](store::Transaction& tx) {
    const auto id = tx.organisation_id(org.cvr);
    if (!id) throw Error(ErrorCode::not_found, "store: no organisation with CVR " + org.cvr);
    tx.update_organisation(*id, org, t);
    s.audit(tx, t, who, "organisation.update", "organisation", org.cvr,
                {{"name", org.name}, {"contacts", org.contacts.size()}});
    return *tx.organisation(org.cvr);
  });
}

std::optional<Organisation> Store::find_organisation(std::string_view cvr) const {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) { return tx.organisation(cvr); });
}

std::vector<Organisation> Store::list_organisations() const {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) {
    const std::vector<std::string> cvrs = tx.organisation_cvrs();
    std::vector<Organisation> out;
    out.reserve(cvrs.size());
    for (const auto& cvr : cvrs) out.push_back(*tx.organisation(cvr));
    return out;
  });
}

Mailbox Store::add_mailbox(const Mailbox& mailbox, std::string_view actor) {
  const std::string address = store_detail::check_address(mailbox.address);
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  const Time t = s.now();
  const std::string who = s.actor_or_default(actor);
  return s.transact(true, [&](store::Transaction& tx) {
    const auto org = tx.organisation_id(mailbox.organisation_cvr);
    if (!org) throw Error(ErrorCode::not_found, "store: no organisation with CVR " + mailbox.organisation_cvr);
    if (tx.mailbox_ref(address)) throw Error(ErrorCode::conflict, "store: mailbox " + address + " exists");
    (void)tx.insert_mailbox(address, mailbox.ad_group, *org, t, who);
    s.audit(tx, t, who, "mailbox.add", "mailbox", address,
                {{"organisation", mailbox.organisation_cvr}, {"ad_group", mailbox.ad_group}});
    return *tx.mailbox(address);
  });
}

Mailbox Store::update_mailbox(const Mailbox& mailbox, std::string_view actor) {
  const std::string address = lowercase(mailbox.address);
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  const Time t = s.now();
  const std::string who = s.actor_or_default(actor);
  return s.transact(true, [&](store::Transaction& tx) {
    const auto row = tx.mailbox_ref(address);
    if (!row) throw Error(ErrorCode::not_found, "store: no mailbox " + address);
    tx.update_mailbox(row->id, mailbox.ad_group);
    s.audit(tx, t, who, "mailbox.update", "mailbox", address, {{"ad_group", mailbox.ad_group}});
    return *tx.mailbox(address);
  });
}

std::optional<Mailbox> Store::find_mailbox(std::string_view address) const {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) { return tx.mailbox(lowercase(address)); });
}

std::vector<Mailbox> Store::list_mailboxes(std::optional<std::string_view> organisation_cvr) const {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) { return tx.mailboxes(organisation_cvr); });
}

// ---- certificates ---------------------------------------------------------------------------

std::optional<CertificateRecord> Store::find(std::string_view fingerprint) const {
  const std::string fp = store_detail::normalise_fingerprint(fingerprint);
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) -> std::optional<CertificateRecord> {
    const auto id = store_detail::resolve_fingerprint(tx, fp);
    if (!id) return std::nullopt;
    return tx.record(*id, nullptr, *s.ctx);
  });
}

std::vector<CertificateSummary> Store::query(const CertificateQuery& q) const {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) { return tx.summaries(q); });
}

std::size_t Store::count(const CertificateQuery& q) const {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) { return tx.count(q); });
}

std::string Store::query_plan(const CertificateQuery& q) const {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) { return tx.plan(q); });
}

CertificateRecord Store::set_status(std::string_view fingerprint, CertificateStatus status, std::string_view reason,
                                    std::string_view actor) {
  if (status != CertificateStatus::retired && status != CertificateStatus::revoked) {
    throw Error(ErrorCode::invalid_argument, "store: a certificate can only be set to retired or revoked");
  }
  const std::string fp = store_detail::normalise_fingerprint(fingerprint);
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  const Time t = s.now();
  const std::string who = s.actor_or_default(actor);
  return s.transact(true, [&](store::Transaction& tx) {
    const auto id = store_detail::resolve_fingerprint(tx, fp);
    if (!id) throw Error(ErrorCode::not_found, "store: no certificate " + std::string(fingerprint));
    CertificateRecord before = tx.record(*id, nullptr, *s.ctx);
    if (before.status == status) return before;
    tx.set_status(*id, status, std::nullopt, t);
    for (store::StoreHooks* h : store::registered_hooks()) h->on_status_change(tx, *id, status, t);
    s.audit(tx, t, who, "certificate.status", "certificate", before.fingerprint,
                {{"from", to_string(before.status)}, {"to", to_string(status)}, {"reason", reason}});
    return tx.record(*id, &before.certificate, *s.ctx);
  });
}

// ---- the log, the store ---------------------------------------------------------------------

std::vector<AuditEntry> Store::audit_log(std::int64_t after_id, std::size_t limit) const {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) { return tx.audit_log(after_id, limit); });
}

StoreInfo Store::info() const {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) {
    StoreInfo i;
    i.backend = std::string(s.backend->name());
    i.location = s.backend->location();
    i.schema_version = tx.schema_version();
    const auto h = tx.key_header();
    if (!h) throw Error(ErrorCode::malformed, "store: the store has no master-key header");
    i.key_kind = h->kind;
    i.key_params = h->params;
    const store::KeyDates d = tx.key_dates();
    i.created_at = d.created_at;
    i.key_rotated_at = d.rotated_at;
    i.environment = store_detail::environment_policy(tx);
    const store::RowCounts c = tx.counts();
    i.organisations = c.organisations;
    i.mailboxes = c.mailboxes;
    i.certificates = c.certificates;
    return i;
  });
}

IntegrityReport Store::check_integrity() const {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) {
    IntegrityReport r;
    tx.database_problems(r.problems);
    for (const auto& fp : tx.certificates_lacking(store::Lack::secret, 100)) {
      r.problems.push_back("certificate " + fp + " has no sealed secret");
    }
    for (const auto& fp : tx.certificates_lacking(store::Lack::documents, 100)) {
      r.problems.push_back("certificate " + fp + " has no documents (DER, report)");
    }
    for (const auto& fp : tx.certificates_lacking(store::Lack::import_line, 100)) {
      r.problems.push_back("certificate " + fp + " has no import line in the audit log");
    }
    for (const auto& fp : tx.certificates_lacking(store::Lack::successor, 100)) {
      r.problems.push_back("certificate " + fp + " is superseded by nothing");
    }
    for (store::StoreHooks* h : store::registered_hooks()) h->check(tx, r.problems);
    return r;
  });
}

}  // namespace dpgcert
