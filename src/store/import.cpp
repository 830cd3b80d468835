// Store::import: validate → lineage → seal → audit, in one write transaction, idempotent by
// fingerprint; the registered hooks (the lifecycle layer) see the new row in the same transaction.
#include "store/hooks.hpp"
#include "store/import_plan.hpp"
#include "store/store_impl.hpp"

#include <dpgcert/error.hpp>

#include <nlohmann/json.hpp>

#include <map>
#include <unordered_map>
#include <unordered_set>

namespace dpgcert {
namespace {

using store_detail::is_cvr;
using store_detail::seal_context;

using OrgRef = std::optional<std::pair<std::int64_t, std::string>>;

/// What one write transaction of import_many() has looked up already, so that each request does
/// not ask again (a statement and a round trip each on PostgreSQL): which of its fingerprints were
/// stored when it began (one statement for all of them), which its requests have written since,
/// and the organisations and mailboxes resolved or created. Forgotten, but for what was read at
/// the start, when a request is undone.
struct Lookups {
  std::unordered_set<std::string> stored;
  std::unordered_set<std::string> written;
  std::unordered_map<std::string, std::int64_t> organisations;  ///< CVR -> id
  std::unordered_map<std::string, store::MailboxRef> mailboxes;  ///< address -> row
};

/// For an already stored fingerprint: the already_present result, or Error(conflict) when the
/// options attach it elsewhere than it is.
std::optional<ImportResult> existing_import(store::Transaction& tx, const Context& ctx, const std::string& fp,
                                            const ImportOptions& options, const std::optional<std::string>& address,
                                            const Lookups* known = nullptr) {
  if (known != nullptr && !known->stored.contains(fp) && !known->written.contains(fp)) return std::nullopt;
  const auto id = tx.certificate_id(fp);
  if (!id) return std::nullopt;
  CertificateRecord rec = tx.record(*id, nullptr, ctx);
  if (options.organisation_cvr && rec.organisation_cvr != options.organisation_cvr) {
    throw Error(ErrorCode::conflict, "store: certificate " + fp + " is already stored, attached to " +
                                         (rec.organisation_cvr ? "CVR " + *rec.organisation_cvr : "no organisation"));
  }
  if (address && rec.mailbox != address) {
    throw Error(ErrorCode::conflict, "store: certificate " + fp + " is already stored, attached to " +
                                         (rec.mailbox ? "mailbox " + *rec.mailbox : "no mailbox"));
  }
  ImportResult r;
  r.outcome = ImportOutcome::already_present;
  r.fingerprint = fp;
  r.record = std::move(rec);
  return r;
}

/// (id, CVR) of the organisation to attach to, created when missing.
OrgRef resolve_organisation(const Store::Impl& s, store::Transaction& tx, const ImportOptions& options,
                            const store_detail::PreparedCertificate& p, Time t, const std::string& who,
                            Lookups* known) {
  std::optional<std::string> cvr = options.organisation_cvr;
  if (!cvr && p.cvr && is_cvr(*p.cvr)) cvr = p.cvr;
  if (!cvr) return std::nullopt;
  if (known != nullptr) {
    if (const auto it = known->organisations.find(*cvr); it != known->organisations.end()) {
      return std::make_pair(it->second, *cvr);
    }
  }
  const auto remember = [&](std::int64_t id) {
    if (known != nullptr) known->organisations.emplace(*cvr, id);
    return std::make_pair(id, *cvr);
  };
  if (auto id = tx.organisation_id(*cvr)) return remember(*id);
  Organisation org;
  org.cvr = *cvr;
  org.name = p.organisation_display_name.empty() ? "CVR " + *cvr : p.organisation_display_name;
  const std::int64_t id = tx.insert_organisation(org, t, who);
  s.audit(tx, t, who, "organisation.add", "organisation", *cvr,
                     {{"name", org.name}, {"contacts", 0}, {"automatic", true}});
  return remember(id);
}

/// The mailbox id to attach to, created (under the organisation) when missing. May fill in the
/// organisation from the mailbox.
std::optional<std::int64_t> resolve_mailbox(const Store::Impl& s, store::Transaction& tx, const std::optional<std::string>& address,
                                            OrgRef& org, Time t, const std::string& who, Lookups* known) {
  if (!address) return std::nullopt;
  std::optional<store::MailboxRef> row;
  if (known != nullptr) {
    if (const auto it = known->mailboxes.find(*address); it != known->mailboxes.end()) row = it->second;
  }
  if (!row) {
    row = tx.mailbox_ref(*address);
    if (row && known != nullptr) known->mailboxes.emplace(*address, *row);
  }
  if (row) {
    if (org && org->first != row->organisation_id) {
      throw Error(ErrorCode::conflict, "store: mailbox " + *address + " belongs to another organisation than CVR " +
                                           org->second);
    }
    if (!org) {
      if (auto cvr = tx.organisation_cvr(row->organisation_id)) org = std::make_pair(row->organisation_id, *cvr);
    }
    return row->id;
  }
  if (!org) {
    throw Error(ErrorCode::invalid_argument, "store: mailbox " + *address +
                                                 " does not exist and no organisation is known to create it under");
  }
  const std::int64_t id = tx.insert_mailbox(*address, "", org->first, t, who);
  s.audit(tx, t, who, "mailbox.add", "mailbox", *address,
                     {{"organisation", org->second}, {"ad_group", ""}, {"automatic", true}});
  if (known != nullptr) known->mailboxes.emplace(*address, store::MailboxRef{id, org->first});
  return id;
}

/// The active certificates of the same lineage: of the same mailbox, of the same CVR and OCES2
/// UID/FID, or with the same OCES3 subject.
std::map<std::int64_t, store::LineageCandidate> find_lineage(store::Transaction& tx,
                                                             const store_detail::PreparedCertificate& p,
                                                             std::optional<std::int64_t> mailbox) {
  std::vector<store::LineageCandidate> found;
  if (mailbox) tx.active_by_mailbox(*mailbox, found);
  if (p.generation == "oces2" && p.cvr && p.oces_id && p.oces_id_kind &&
      (*p.oces_id_kind == "uid" || *p.oces_id_kind == "fid")) {
    tx.active_by_oces2_id(*p.cvr, *p.oces_id_kind, *p.oces_id, found);
  }
  if (p.generation == "oces3") tx.active_by_oces3_subject(p.subject, found);
  std::map<std::int64_t, store::LineageCandidate> out;
  for (auto& c : found) out.emplace(c.id, std::move(c));
  return out;
}


/// The record of the certificate store_staged() has just written, built from what it wrote
/// instead of read back (a joined read of four tables per import): the values as a read gives
/// them - times in whole seconds, the classification parsed from its stored text. The
/// conformance suite compares it with get() on every backend.
CertificateRecord written_record(const store::CertificateInsert& row, const store_detail::PreparedCertificate& p,
                                 const Certificate& leaf, const OrgRef& org, const std::optional<std::string>& address,
                                 std::optional<std::string> superseded_by, std::vector<std::string> supersedes) {
  CertificateRecord rec(leaf);
  rec.id = row.id;
  rec.fingerprint = p.fingerprint;
  rec.status = row.status;
  rec.not_before = from_unix(p.not_before);
  rec.not_after = from_unix(p.not_after);
  if (org) rec.organisation_cvr = org->second;
  if (row.mailbox_id) rec.mailbox = address;
  rec.cvr = p.cvr;
  rec.generation = oces::parse_generation(p.generation).value_or(oces::Generation::none);
  rec.type = oces::parse_certificate_type(p.type).value_or(oces::CertificateType::none);
  rec.environment = oces::parse_environment(p.environment).value_or(oces::Environment::unknown);
  rec.oces_id = p.oces_id;
  rec.common_name = p.common_name;
  rec.subject = p.subject;
  rec.issuer = p.issuer;
  rec.serial = p.serial;
  rec.key_algorithm = p.key_algorithm;
  rec.key_bits = p.key_bits;
  rec.pkcs12_profile_json = p.pkcs12_profile_json;
  rec.pkcs12_legacy = p.pkcs12_legacy;
  rec.source = p.source;
  rec.validation_verdict = p.verdict;
  rec.forced = p.forced;
  rec.validation_report_json = p.report_json;
  rec.lineage_id = row.lineage_id;
  rec.superseded_by = std::move(superseded_by);
  rec.supersedes = std::move(supersedes);
  rec.added_at = from_unix(to_unix(row.added_at));
  rec.added_by = row.added_by;
  rec.status_changed_at = rec.added_at;
  return rec;
}

/// An import checked, validated and prepared outside the write transaction.
struct Staged {
  const Pkcs12Bundle* bundle = nullptr;
  std::span<const std::byte> pkcs12;
  const SecretBytes* password = nullptr;
  const ImportOptions* options = nullptr;
  std::string fp;
  std::string who;
  std::optional<std::string> address;
  std::optional<store_detail::PreparedCertificate> prep;
  ImportResult result;  ///< Final when `prep` is empty (already present, refused).
};

struct Done {
  std::optional<ImportResult> existing;
  std::optional<CertificateRecord> record;
  std::vector<std::string> superseded;
};

/// The checks of the arguments (Error(invalid_argument)), before anything is read.
void check_request(const Pkcs12Bundle& bundle, std::span<const std::byte> pkcs12, const ImportOptions& options) {
  if (!bundle.leaf()) throw Error(ErrorCode::invalid_argument, "store: the bundle has no end-entity certificate");
  if (bundle.private_key() == nullptr) throw Error(ErrorCode::invalid_argument, "store: the bundle has no private key");
  if (pkcs12.empty()) throw Error(ErrorCode::invalid_argument, "store: the PKCS#12 bytes are empty");
  if (options.organisation_cvr && !is_cvr(*options.organisation_cvr)) {
    throw Error(ErrorCode::invalid_argument, "store: a CVR number is 8 digits, not '" + *options.organisation_cvr + "'");
  }
}

/// The first part of staging, without any I/O: the checks of the arguments, the fingerprint, the
/// actor and the mailbox address.
Staged begin_stage(const Store::Impl& s, const Pkcs12Bundle& bundle, std::span<const std::byte> pkcs12,
                   const SecretBytes& password, const ImportOptions& options) {
  check_request(bundle, pkcs12, options);
  Staged st;
  st.bundle = &bundle;
  st.pkcs12 = pkcs12;
  st.password = &password;
  st.options = &options;
  if (options.mailbox) st.address = store_detail::check_address(*options.mailbox);
  st.fp = bundle.leaf()->fingerprint_hex();
  st.who = s.actor_or_default(options.actor);
  st.result.fingerprint = st.fp;
  return st;
}

/// Idempotent: a known fingerprint changes nothing (and costs no validation). With a report given
/// there is no validation to spare, and the write transaction checks again anyway. Inside a read
/// transaction; true when `st` is final (already present).
bool stage_existing(const Store::Impl& s, store::Transaction& tx, Staged& st) {
  if (st.options->report) return false;
  auto existing = existing_import(tx, *s.ctx, st.fp, *st.options, st.address);
  if (!existing) return false;
  st.result = std::move(*existing);
  return true;
}

/// The rest of staging, outside any lock: validates (unless a report is given) and prepares the
/// stored fields. `environment` is the store's policy, read once per call of import()/import_many().
void finish_stage(Store& store, const Store::Impl& s, Staged& st, EnvironmentPolicy environment) {
  const Pkcs12Bundle& bundle = *st.bundle;
  const ImportOptions& options = *st.options;
  ValidationReport report =
      options.report ? *options.report : store_detail::validate_for_import(bundle, options, s.now(), *s.ctx, &store);
  store_detail::enforce_environment(report, environment, *bundle.leaf());
  if (!report.ok() && !options.force) {
    st.result.outcome = ImportOutcome::refused;
    st.result.report = std::move(report);
    return;
  }
  st.prep = store_detail::prepare_certificate(bundle, report, options);
  st.result.report = std::move(report);
}

/// The write of one staged import inside the write transaction `tx`, sealing with `v`
/// (Store::Impl::vault_in(tx): once per transaction, as only a key rotation - a write
/// transaction of its own - changes it).
/// `known`: what import_many()'s transaction has looked up (nullptr: nothing, one import).
Done store_staged(const Store::Impl& s, store::Transaction& tx, const vault::Vault& v, const Staged& st, Time t,
                  Lookups* known = nullptr) {
  const Pkcs12Bundle& bundle = *st.bundle;
  const ImportOptions& options = *st.options;
  const store_detail::PreparedCertificate& prep = *st.prep;
  const std::string& fp = st.fp;
  const std::string& who = st.who;
  const std::optional<std::string>& address = st.address;
  Done d;
  if (auto again = existing_import(tx, *s.ctx, fp, options, address, known)) {  // imported meanwhile by another process
    d.existing = std::move(again);
    return d;
  }
  auto org = resolve_organisation(s, tx, options, prep, t, who, known);
  const auto mailbox = resolve_mailbox(s, tx, address, org, t, who, known);
  const std::int64_t id = tx.next_certificate_id();

  // Lineage: which active certificates does this one replace (or is it itself replaced)?
  std::map<std::int64_t, store::LineageCandidate> candidates;
  if (prep.initial_status == CertificateStatus::active) candidates = find_lineage(tx, prep, mailbox);
  store::CertificateInsert row;
  row.id = id;
  row.prepared = &prep;
  row.status = prep.initial_status;
  row.lineage_id = id;
  row.added_at = t;
  row.added_by = who;
  if (org) row.organisation_id = org->first;
  row.mailbox_id = mailbox;
  const store::LineageCandidate* newest = nullptr;
  for (const auto& [cid, c] : candidates) {
    if (newest == nullptr || store_detail::newer(c.not_before, c.not_after, newest->not_before, newest->not_after)) {
      newest = &c;
    }
  }
  if (newest != nullptr) {
    row.lineage_id = newest->lineage_id;
    if (!store_detail::newer(prep.not_before, prep.not_after, newest->not_before, newest->not_after)) {
      row.status = CertificateStatus::superseded;  // an older certificate arriving late
      row.superseded_by = newest->id;
    }
  }
  tx.insert_certificate(row);
  const std::vector<Certificate>& report_chain = st.result.report->chain;
  const store::ImportedCertificate imported{id, *bundle.leaf(), bundle.chain(), report_chain, row.status, prep.forced, t};
  for (store::StoreHooks* h : store::registered_hooks()) h->on_import(tx, imported);
  if (row.status == CertificateStatus::active) {
    for (const auto& [cid, c] : candidates) {
      tx.set_status(cid, CertificateStatus::superseded, id, t);
      for (store::StoreHooks* h : store::registered_hooks()) h->on_status_change(tx, cid, CertificateStatus::superseded, t);
      s.audit(tx, t, who, "certificate.supersede", "certificate", c.fingerprint, {{"superseded_by", fp}});
      d.superseded.push_back(c.fingerprint);
    }
  }
  store::SealedSecrets sealed;
  sealed.pkcs12 = v.seal(st.pkcs12, seal_context(id, fp, "pkcs12"));
  sealed.password = v.seal(st.password->bytes(), seal_context(id, fp, "password"));
  tx.insert_secrets(id, sealed);
  nlohmann::json details{{"status", to_string(row.status)},
                         {"organisation", org ? nlohmann::json(org->second) : nlohmann::json(nullptr)},
                         {"mailbox", address ? nlohmann::json(*address) : nlohmann::json(nullptr)},
                         {"verdict", to_string(prep.verdict)},
                         {"forced", prep.forced},
                         {"source", prep.source},
                         {"superseded", d.superseded}};
  if (row.superseded_by) details["superseded_by"] = newest->fingerprint;
  s.audit(tx, t, who, "certificate.import", "certificate", fp, details);
  d.record = written_record(row, prep, *bundle.leaf(), org, address,
                            row.superseded_by ? std::optional<std::string>(newest->fingerprint) : std::nullopt,
                            d.superseded);
  return d;
}

/// The result of a staged import once its write is done.
ImportResult finish(Staged& st, Done& done) {
  if (done.existing) return std::move(*done.existing);
  ImportResult result = std::move(st.result);
  result.outcome = ImportOutcome::imported;
  result.record = std::move(done.record);
  result.superseded = std::move(done.superseded);
  return result;
}

}  // namespace

ImportResult Store::import(const Pkcs12Bundle& bundle, std::span<const std::byte> pkcs12, const SecretBytes& password,
                           const ImportOptions& options) {
  Impl& s = *impl_;
  Staged st = begin_stage(s, bundle, pkcs12, password, options);
  if (options.report) {
    // A report given: no validation to spare for a certificate already present, so no read
    // transaction before the write one (stage_existing skips such imports anyway). The
    // environment policy is read, and enforced, inside the write transaction; a refusal writes
    // nothing. ~5 % of an import of a parsed bundle (bench_store).
    std::lock_guard lock(s.mu);
    s.ensure_vault();
    const Time t = s.now();
    std::optional<Done> done;
    s.transact(true, [&](store::Transaction& tx) {
      // A retried transaction starts again from the staged request.
      done.reset();
      st.prep.reset();
      st.result = ImportResult{};
      st.result.fingerprint = st.fp;
      finish_stage(*this, s, st, store_detail::environment_policy(tx));
      if (st.prep) done = store_staged(s, tx, s.vault_in(tx), st, t);
    });
    if (!done) return std::move(st.result);
    return finish(st, *done);
  }
  // One read transaction for the environment policy and the idempotency check.
  EnvironmentPolicy environment{};
  {
    std::lock_guard lock(s.mu);
    const bool present = s.transact(false, [&](store::Transaction& tx) {
      environment = store_detail::environment_policy(tx);
      return stage_existing(s, tx, st);
    });
    if (present) return std::move(st.result);
  }
  finish_stage(*this, s, st, environment);
  if (!st.prep) return std::move(st.result);
  std::lock_guard lock(s.mu);
  s.ensure_vault();  // unlocking (maybe Argon2id) happens before the write lock is taken
  const Time t = s.now();
  Done done = s.transact(true, [&](store::Transaction& tx) { return store_staged(s, tx, s.vault_in(tx), st, t); });
  return finish(st, done);
}

namespace store_detail {

/// import_many() in two halves (bulk_import.hpp's workers stage their own batches in parallel and
/// write them in input order).
struct StagedImports {
  std::vector<ImportAttempt> out;
  std::vector<std::optional<Staged>> staged;
  bool any = false;
};

void StagedImportsDeleter::operator()(StagedImports* p) const noexcept { delete p; }

StagedImportsPtr stage_imports(Store& store, std::span<const ImportRequest> requests) {
  Store::Impl& s = Access::impl(store);
  StagedImportsPtr si(new StagedImports);
  std::vector<ImportAttempt>& out = si->out;
  std::vector<std::optional<Staged>>& staged = si->staged;
  out.resize(requests.size());
  staged.resize(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const ImportRequest& r = requests[i];
    try {
      if (r.bundle == nullptr || r.password == nullptr) {
        throw Error(ErrorCode::invalid_argument, "store: an import request without a bundle or a password");
      }
      staged[i] = begin_stage(s, *r.bundle, r.pkcs12, *r.password, r.options);
    } catch (const Error& e) {
      out[i].error = e;
    }
  }
  // One read transaction for the environment policy and every request's idempotency check.
  EnvironmentPolicy environment{};
  {
    std::lock_guard lock(s.mu);
    s.transact(false, [&](store::Transaction& tx) {
      environment = store_detail::environment_policy(tx);
      for (std::size_t i = 0; i < requests.size(); ++i) {
        out[i].result.reset();
        if (!staged[i] || out[i].error) continue;
        try {
          if (stage_existing(s, tx, *staged[i])) out[i].result = staged[i]->result;
        } catch (const Error& e) {
          out[i].error = e;
        }
      }
    });
  }
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (!staged[i] || out[i].error || out[i].result) {
      staged[i].reset();
      continue;
    }
    try {
      finish_stage(store, s, *staged[i], environment);
      if (!staged[i]->prep) {
        out[i].result = std::move(staged[i]->result);
        staged[i].reset();
      } else {
        si->any = true;
      }
    } catch (const Error& e) {
      out[i].error = e;
      staged[i].reset();
    }
  }
  return si;
}

std::vector<ImportAttempt> write_imports(Store& store, StagedImports& si) {
  Store::Impl& s = Access::impl(store);
  std::vector<ImportAttempt>& out = si.out;
  std::vector<std::optional<Staged>>& staged = si.staged;
  if (!si.any) return std::move(out);
  const std::size_t n = staged.size();
  std::lock_guard lock(s.mu);
  s.ensure_vault();
  const Time t = s.now();
  // One write transaction, one commit. First every request straight after the other; when one
  // fails, that attempt is undone whole and the list written again with each request inside a
  // savepoint of its own, so that the failing one is undone alone. A savepoint costs two
  // statements, a subtransaction and (PostgreSQL) a round trip per request: 15-20 % of an
  // import on PostgreSQL (bench_store_postgresql), paid only by a batch with a failing request.
  // A retried transaction starts the list again.
  struct RequestFailed {};
  std::vector<std::optional<Done>> done(n);
  std::vector<std::optional<Error>> failed(n);
  bool isolated = false;
  for (;;) {
    try {
      s.transact(true, [&](store::Transaction& tx) {
        const vault::Vault& v = s.vault_in(tx);
        Lookups known;
        std::vector<std::string> fingerprints;
        for (const auto& st : staged) {
          if (st) fingerprints.push_back(st->fp);
        }
        for (std::string& fp : tx.stored_fingerprints(fingerprints)) known.stored.insert(std::move(fp));
        for (std::size_t i = 0; i < n; ++i) {
          done[i].reset();
          failed[i].reset();
          if (!staged[i]) continue;
          if (isolated) tx.savepoint();
          try {
            done[i] = store_staged(s, tx, v, *staged[i], t, &known);
            if (isolated) tx.release_savepoint();
            if (done[i]->record) known.written.insert(staged[i]->fp);
          } catch (const Error& e) {
            if (!isolated) throw RequestFailed{};
            tx.rollback_to_savepoint();
            done[i].reset();
            failed[i] = e;
            // What the request created is gone with it.
            known.organisations.clear();
            known.mailboxes.clear();
          }
        }
        // An error of a write still queued is one request's too.
        if (!isolated) {
          try {
            tx.flush();
          } catch (const Error&) {
            throw RequestFailed{};
          }
        }
      });
      break;
    } catch (const RequestFailed&) {
      isolated = true;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (failed[i]) {
      out[i].error = std::move(failed[i]);
    } else if (done[i]) {
      out[i].result = finish(*staged[i], *done[i]);
    }
  }
  return std::move(out);
}

}  // namespace store_detail

std::vector<ImportAttempt> Store::import_many(std::span<const ImportRequest> requests) {
  store_detail::StagedImportsPtr staged = store_detail::stage_imports(*this, requests);
  return store_detail::write_imports(*this, *staged);
}

}  // namespace dpgcert
