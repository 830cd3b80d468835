// The SQLite backend: WAL, foreign keys, migrations, one transaction per logical change, lock
// contention retried inside (BEGIN IMMEDIATE for writes, busy timeout, whole-transaction retry).
#include "store/sqlite_store.hpp"

#include "store/import_plan.hpp"
#include "store/schema.hpp"
#include "store/sqlite_db.hpp"
#include "store/sqlite_lifecycle.hpp"
#include "store/sqlite_summary.hpp"

#include <dpgcert/error.hpp>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <system_error>
#include <thread>
#include <type_traits>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dpgcert::sqlite {
namespace {

using store_detail::is_cvr;
using store_detail::lowercase;
using store_detail::seal_context;

using Clock_ = std::chrono::steady_clock;

bool is_hex(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::int64_t to_i64(std::size_t n) { return static_cast<std::int64_t>(n); }

/// A candidate predecessor in a lineage.
struct Candidate {
  std::int64_t id = 0;
  std::string fingerprint;
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
  std::int64_t lineage_id = 0;
};

/// A sealed secret read back, still sealed.
struct SealedRow {
  vault::SealedSecret pkcs12;
  vault::SealedSecret password;
};

/// An unsealed secret pair, before the bundle is loaded (outside the lock).
struct Unsealed {
  CertificateRecord record;
  SecretBytes pkcs12;
  SecretBytes password;
};

class SqliteStore final : public Store {
 public:
  SqliteStore(StoreOptions options, Connection::Mode mode)
      : options_(std::move(options)),
        clock_(options_.clock ? options_.clock : std::make_shared<SystemClock>()),
        ctx_(options_.context != nullptr ? options_.context : &Context::shared()),
        default_actor_(options_.actor.empty() ? os_user_name() : options_.actor),
        db_(std::make_unique<Connection>(options_.path, mode)) {
    configure();
  }

  /// A new store: schema, master-key header and the first audit line, in one transaction.
  void initialise(const vault::EstablishedKey& key) {
    std::lock_guard lock(mu_);
    const Time t = now();
    transact(true, [&] {
      if (has_table("master_key") && db_->prepare("SELECT 1 FROM master_key").step()) {
        throw Error(ErrorCode::conflict, "store: '" + options_.path.string() + "' already holds a store");
      }
      if (has_table("schema_version") || !is_empty_database()) {
        throw Error(ErrorCode::conflict, "store: '" + options_.path.string() + "' is a database but not an empty one");
      }
      migrate_in_transaction(0, t);
      write_key_header(key.header, t, false);
      audit(t, default_actor_, "store.init", "store", options_.path.string(),
            {{"schema_version", latest_schema_version()}, {"key_source", key.header.kind}});
    });
    vault_.emplace(key.wrapper);
    vault_check_ = key.header.check;
  }

  /// An existing store: check it is one, migrate to the current schema.
  void check_and_migrate() {
    std::lock_guard lock(mu_);
    const int version = transact(false, [&] { return schema_version_in_transaction(); });
    if (version < 0) {
      throw Error(ErrorCode::malformed, "store: '" + options_.path.string() + "' is not a dpgcert store");
    }
    if (version > latest_schema_version()) {
      throw Error(ErrorCode::unsupported, "store: '" + options_.path.string() + "' has schema version " +
                                              std::to_string(version) + ", newer than this dpgcert knows (" +
                                              std::to_string(latest_schema_version()) + ")");
    }
    if (version < latest_schema_version()) {
      const Time t = now();
      transact(true, [&] {
        const int v = schema_version_in_transaction();  // another process may have migrated meanwhile
        if (v < latest_schema_version()) {
          migrate_in_transaction(v, t);
          audit(t, default_actor_, "store.migrate", "store", options_.path.string(),
                {{"from", v}, {"to", latest_schema_version()}});
        }
      });
      db_->clear_cache();
    }
  }

  // ---- organisations ----------------------------------------------------------------------

  Organisation add_organisation(const Organisation& org, std::string_view actor) override {
    check_organisation(org);
    std::lock_guard lock(mu_);
    const Time t = now();
    const std::string who = actor_or_default(actor);
    return transact(true, [&] {
      if (organisation_id(org.cvr)) {
        throw Error(ErrorCode::conflict, "store: an organisation with CVR " + org.cvr + " exists");
      }
      const std::int64_t id = insert_organisation(org.cvr, org.name, org.notes, t, who);
      write_contacts(id, org.contacts);
      audit(t, who, "organisation.add", "organisation", org.cvr,
            {{"name", org.name}, {"contacts", org.contacts.size()}});
      return *read_organisation(org.cvr);
    });
  }

  Organisation update_organisation(const Organisation& org, std::string_view actor) override {
    check_organisation(org);
    std::lock_guard lock(mu_);
    const Time t = now();
    const std::string who = actor_or_default(actor);
    return transact(true, [&] {
      const auto id = organisation_id(org.cvr);
      if (!id) throw Error(ErrorCode::not_found, "store: no organisation with CVR " + org.cvr);
      db_->prepare("UPDATE organisations SET name = ?, notes = ?, updated_at = ? WHERE id = ?")
          .bind(1, org.name)
          .bind(2, org.notes)
          .bind(3, to_unix(t))
          .bind(4, *id)
          .run();
      db_->prepare("DELETE FROM contacts WHERE organisation_id = ?").bind(1, *id).run();
      write_contacts(*id, org.contacts);
      audit(t, who, "organisation.update", "organisation", org.cvr,
            {{"name", org.name}, {"contacts", org.contacts.size()}});
      return *read_organisation(org.cvr);
    });
  }

  std::optional<Organisation> find_organisation(std::string_view cvr) const override {
    std::lock_guard lock(mu_);
    return transact(false, [&] { return read_organisation(cvr); });
  }

  std::vector<Organisation> list_organisations() const override {
    std::lock_guard lock(mu_);
    return transact(false, [&] {
      std::vector<std::string> cvrs;
      {
        auto st = db_->prepare("SELECT cvr FROM organisations ORDER BY cvr");
        while (st.step()) cvrs.push_back(st.text(0));
      }
      std::vector<Organisation> out;
      out.reserve(cvrs.size());
      for (const auto& cvr : cvrs) out.push_back(*read_organisation(cvr));
      return out;
    });
  }

  // ---- mailboxes --------------------------------------------------------------------------

  Mailbox add_mailbox(const Mailbox& mailbox, std::string_view actor) override {
    const std::string address = check_address(mailbox.address);
    std::lock_guard lock(mu_);
    const Time t = now();
    const std::string who = actor_or_default(actor);
    return transact(true, [&] {
      const auto org = organisation_id(mailbox.organisation_cvr);
      if (!org) throw Error(ErrorCode::not_found, "store: no organisation with CVR " + mailbox.organisation_cvr);
      if (mailbox_row(address)) throw Error(ErrorCode::conflict, "store: mailbox " + address + " exists");
      insert_mailbox(address, mailbox.ad_group, *org, t, who);
      audit(t, who, "mailbox.add", "mailbox", address,
            {{"organisation", mailbox.organisation_cvr}, {"ad_group", mailbox.ad_group}});
      return *read_mailbox(address);
    });
  }

  Mailbox update_mailbox(const Mailbox& mailbox, std::string_view actor) override {
    const std::string address = lowercase(mailbox.address);
    std::lock_guard lock(mu_);
    const Time t = now();
    const std::string who = actor_or_default(actor);
    return transact(true, [&] {
      const auto row = mailbox_row(address);
      if (!row) throw Error(ErrorCode::not_found, "store: no mailbox " + address);
      db_->prepare("UPDATE mailboxes SET ad_group = ? WHERE id = ?").bind(1, mailbox.ad_group).bind(2, row->first).run();
      audit(t, who, "mailbox.update", "mailbox", address, {{"ad_group", mailbox.ad_group}});
      return *read_mailbox(address);
    });
  }

  std::optional<Mailbox> find_mailbox(std::string_view address) const override {
    std::lock_guard lock(mu_);
    return transact(false, [&] { return read_mailbox(lowercase(address)); });
  }

  std::vector<Mailbox> list_mailboxes(std::optional<std::string_view> organisation_cvr) const override {
    std::lock_guard lock(mu_);
    return transact(false, [&] {
      std::string sql =
          "SELECT m.address, m.ad_group, o.cvr, m.created_at, m.created_by FROM mailboxes m "
          "JOIN organisations o ON o.id = m.organisation_id";
      if (organisation_cvr) sql += " WHERE o.cvr = ?";
      sql += " ORDER BY m.address";
      auto st = db_->prepare(sql);
      if (organisation_cvr) st.bind(1, *organisation_cvr);
      std::vector<Mailbox> out;
      while (st.step()) out.push_back(mailbox_from(st));
      return out;
    });
  }

  // ---- certificates -----------------------------------------------------------------------

  ImportResult import(const Pkcs12Bundle& bundle, std::span<const std::byte> pkcs12, const SecretBytes& password,
                      const ImportOptions& options) override {
    if (!bundle.leaf()) throw Error(ErrorCode::invalid_argument, "store: the bundle has no end-entity certificate");
    if (bundle.private_key() == nullptr) throw Error(ErrorCode::invalid_argument, "store: the bundle has no private key");
    if (pkcs12.empty()) throw Error(ErrorCode::invalid_argument, "store: the PKCS#12 bytes are empty");
    if (options.organisation_cvr && !is_cvr(*options.organisation_cvr)) {
      throw Error(ErrorCode::invalid_argument, "store: a CVR number is 8 digits, not '" + *options.organisation_cvr + "'");
    }
    std::optional<std::string> address;
    if (options.mailbox) address = check_address(*options.mailbox);
    const std::string fp = bundle.leaf()->fingerprint_hex();
    const std::string who = actor_or_default(options.actor);

    // Idempotent: a known fingerprint changes nothing (and costs no validation). With a report
    // given there is no validation to spare, and the write transaction checks again anyway.
    if (!options.report) {
      std::lock_guard lock(mu_);
      auto existing = transact(false, [&] { return existing_import(fp, options, address); });
      if (existing) return std::move(*existing);
    }

    ImportResult result;
    result.fingerprint = fp;
    ValidationReport report = options.report ? *options.report
                                             : store_detail::validate_for_import(bundle, options, now(), *ctx_);
    if (!report.ok() && !options.force) {
      result.outcome = ImportOutcome::refused;
      result.report = std::move(report);
      return result;
    }
    const store_detail::PreparedCertificate prep = store_detail::prepare_certificate(bundle, report, options);
    result.report = std::move(report);

    std::lock_guard lock(mu_);
    ensure_vault();  // unlocking (maybe Argon2id) happens before the write lock is taken
    const Time t = now();
    struct Done {
      std::optional<ImportResult> existing;
      std::optional<CertificateRecord> record;
      std::vector<std::string> superseded;
    };
    Done done = transact(true, [&] {
      Done d;
      if (auto again = existing_import(fp, options, address)) {  // imported meanwhile by another process
        d.existing = std::move(again);
        return d;
      }
      auto org = resolve_organisation(options, prep, t, who);
      const auto mailbox = resolve_mailbox(address, org, t, who);
      const std::int64_t id = next_certificate_id();

      // Lineage: which active certificates does this one replace (or is it itself replaced)?
      std::map<std::int64_t, Candidate> candidates;
      if (prep.initial_status == CertificateStatus::active) find_lineage(prep, mailbox, candidates);
      CertificateStatus status = prep.initial_status;
      std::optional<std::int64_t> superseded_by;
      std::int64_t lineage_id = id;
      const Candidate* newest = nullptr;
      for (const auto& [cid, c] : candidates) {
        if (newest == nullptr || store_detail::newer(c.not_before, c.not_after, newest->not_before, newest->not_after)) {
          newest = &c;
        }
      }
      if (newest != nullptr) {
        lineage_id = newest->lineage_id;
        if (!store_detail::newer(prep.not_before, prep.not_after, newest->not_before, newest->not_after)) {
          status = CertificateStatus::superseded;  // an older certificate arriving late
          superseded_by = newest->id;
        }
      }
      insert_certificate(id, prep, org, mailbox, status, superseded_by, lineage_id, t, who);
      lifecycle_sql::on_import(*db_, id, prep.effective_not_after, status, prep.forced, to_unix(t));
      if (status == CertificateStatus::active) {
        for (const auto& [cid, c] : candidates) {
          db_->prepare(
                 "UPDATE certificates SET status = 'superseded', superseded_by = ?, status_changed_at = ? WHERE id = ?")
              .bind(1, id)
              .bind(2, to_unix(t))
              .bind(3, cid)
              .run();
          lifecycle_sql::on_status_change(*db_, cid, CertificateStatus::superseded, to_unix(t));
          audit(t, who, "certificate.supersede", "certificate", c.fingerprint, {{"superseded_by", fp}});
          d.superseded.push_back(c.fingerprint);
        }
      }
      const vault::Vault& v = vault_in_transaction();
      const vault::SealedSecret sealed_p12 = v.seal(pkcs12, seal_context(id, fp, "pkcs12"));
      const vault::SealedSecret sealed_pw = v.seal(password.bytes(), seal_context(id, fp, "password"));
      db_->prepare(
             "INSERT INTO secrets (certificate_id, pkcs12_key, pkcs12, password_key, password) VALUES (?, ?, ?, ?, ?)")
          .bind(1, id)
          .bind(2, sealed_p12.wrapped_key)
          .bind(3, sealed_p12.ciphertext)
          .bind(4, sealed_pw.wrapped_key)
          .bind(5, sealed_pw.ciphertext)
          .run();
      nlohmann::json details{{"status", to_string(status)},
                             {"organisation", org ? nlohmann::json(org->second) : nlohmann::json(nullptr)},
                             {"mailbox", address ? nlohmann::json(*address) : nlohmann::json(nullptr)},
                             {"verdict", to_string(prep.verdict)},
                             {"forced", prep.forced},
                             {"source", prep.source},
                             {"superseded", d.superseded}};
      if (superseded_by) details["superseded_by"] = newest->fingerprint;
      audit(t, who, "certificate.import", "certificate", fp, details);
      d.record = read_record(id, &*bundle.leaf());
      return d;
    });
    if (done.existing) return std::move(*done.existing);
    result.outcome = ImportOutcome::imported;
    result.record = std::move(done.record);
    result.superseded = std::move(done.superseded);
    return result;
  }

  std::optional<CertificateRecord> find(std::string_view fingerprint) const override {
    const std::string fp = normalise_fingerprint(fingerprint);
    std::lock_guard lock(mu_);
    return transact(false, [&]() -> std::optional<CertificateRecord> {
      const auto id = resolve_fingerprint(fp);
      if (!id) return std::nullopt;
      return read_record(*id);
    });
  }

  std::vector<CertificateSummary> query(const CertificateQuery& q) const override {
    std::lock_guard lock(mu_);
    return transact(false, [&] {
      auto st = prepare_query(q, QueryKind::rows);
      std::vector<CertificateSummary> out;
      if (q.limit > 0) out.reserve(std::min<std::size_t>(q.limit, 10000));
      while (st.step()) {
        CertificateSummary s;
        read_summary(st, s);
        out.push_back(std::move(s));
      }
      return out;
    });
  }

  std::size_t count(const CertificateQuery& q) const override {
    std::lock_guard lock(mu_);
    return transact(false, [&] {
      auto st = prepare_query(q, QueryKind::count);
      return st.step() ? static_cast<std::size_t>(st.integer(0)) : std::size_t{0};
    });
  }

  std::string query_plan(const CertificateQuery& q) const override {
    std::lock_guard lock(mu_);
    return transact(false, [&] {
      auto st = prepare_query(q, QueryKind::plan);
      std::string out;
      while (st.step()) {
        out += st.text(3);
        out += '\n';
      }
      return out;
    });
  }

  CertificateRecord set_status(std::string_view fingerprint, CertificateStatus status, std::string_view reason,
                               std::string_view actor) override {
    if (status != CertificateStatus::retired && status != CertificateStatus::revoked) {
      throw Error(ErrorCode::invalid_argument, "store: a certificate can only be set to retired or revoked");
    }
    const std::string fp = normalise_fingerprint(fingerprint);
    std::lock_guard lock(mu_);
    const Time t = now();
    const std::string who = actor_or_default(actor);
    return transact(true, [&] {
      const auto id = resolve_fingerprint(fp);
      if (!id) throw Error(ErrorCode::not_found, "store: no certificate " + std::string(fingerprint));
      CertificateRecord before = read_record(*id);
      if (before.status == status) return before;
      db_->prepare("UPDATE certificates SET status = ?, status_changed_at = ? WHERE id = ?")
          .bind(1, to_string(status))
          .bind(2, to_unix(t))
          .bind(3, *id)
          .run();
      lifecycle_sql::on_status_change(*db_, *id, status, to_unix(t));
      audit(t, who, "certificate.status", "certificate", before.fingerprint,
            {{"from", to_string(before.status)}, {"to", to_string(status)}, {"reason", reason}});
      return read_record(*id);
    });
  }

  std::optional<UnsealedBundle> current_bundle(std::string_view mailbox) const override {
    const std::string address = lowercase(mailbox);
    std::optional<Unsealed> u;
    {
      std::lock_guard lock(mu_);
      ensure_vault();
      u = transact(false, [&]() -> std::optional<Unsealed> {
        const auto row = mailbox_row(address);
        if (!row) throw Error(ErrorCode::not_found, "store: no mailbox " + address);
        auto st = db_->prepare(
            "SELECT id FROM certificates WHERE mailbox_id = ? AND status = 'active' "
            "ORDER BY not_before DESC, not_after DESC, id DESC LIMIT 1");
        st.bind(1, row->first);
        if (!st.step()) return std::nullopt;
        const std::int64_t id = st.integer(0);
        return unseal_in_transaction(id);
      });
    }
    if (!u) return std::nullopt;
    return load(std::move(*u));
  }

  UnsealedBundle unseal(std::string_view fingerprint) const override {
    const std::string fp = normalise_fingerprint(fingerprint);
    std::optional<Unsealed> u;
    {
      std::lock_guard lock(mu_);
      ensure_vault();
      u = transact(false, [&]() -> std::optional<Unsealed> {
        const auto id = resolve_fingerprint(fp);
        if (!id) throw Error(ErrorCode::not_found, "store: no certificate " + std::string(fingerprint));
        return unseal_in_transaction(*id);
      });
    }
    return load(std::move(*u));
  }

  // ---- lifecycle bookkeeping ---------------------------------------------------------------

  void set_renewal_policy(std::optional<std::string_view> cvr, const std::optional<RenewalPolicy>& policy,
                          std::string_view actor) override {
    if (policy) validate(*policy);
    std::lock_guard lock(mu_);
    const Time t = now();
    const std::string who = actor_or_default(actor);
    transact(true, [&] {
      std::optional<std::int64_t> org;
      if (cvr) {
        org = organisation_id(*cvr);
        if (!org) throw Error(ErrorCode::not_found, "store: no organisation with CVR " + std::string(*cvr));
      }
      lifecycle_sql::set_policy(*db_, org, policy, to_unix(t), who);
      audit(t, who, policy ? "policy.set" : "policy.reset", cvr ? "organisation" : "store",
            cvr ? std::string(*cvr) : options_.path.string(),
            {{"thresholds", policy ? nlohmann::json(policy->thresholds_days) : nlohmann::json(nullptr)}});
    });
  }

  std::vector<RenewalPolicyEntry> renewal_policies() const override {
    std::lock_guard lock(mu_);
    return transact(false, [&] { return lifecycle_sql::policies(*db_); });
  }

  std::vector<TrackedCertificate> tracked(const TrackedQuery& q) const override {
    std::lock_guard lock(mu_);
    return transact(false, [&] { return lifecycle_sql::tracked(*db_, q); });
  }

  std::vector<TrackedCertificate> lifecycle_due(Time at, std::size_t limit) const override {
    std::lock_guard lock(mu_);
    return transact(false, [&] { return lifecycle_sql::due(*db_, to_unix(at), limit); });
  }

  std::vector<PendingStatusChange> lifecycle_pending(std::size_t limit) const override {
    std::lock_guard lock(mu_);
    return transact(false, [&] { return lifecycle_sql::pending(*db_, limit); });
  }

  LifecycleCommitResult lifecycle_commit(std::span<const LifecycleChange> changes) override {
    if (changes.empty()) return {};
    std::lock_guard lock(mu_);
    return transact(true, [&] { return lifecycle_sql::commit(*db_, changes); });
  }

  SeverityCounts severity_counts() const override {
    std::lock_guard lock(mu_);
    return transact(false, [&] { return lifecycle_sql::severity_counts(*db_); });
  }

  std::vector<OutboxEvent> events(std::int64_t after_seq, std::size_t limit) const override {
    std::lock_guard lock(mu_);
    return transact(false, [&] { return lifecycle_sql::events(*db_, after_seq, limit); });
  }

  SinkConfig add_sink(const SinkConfig& sink, std::string_view actor) override {
    lifecycle_sql::check_sink(sink);
    std::lock_guard lock(mu_);
    const Time t = now();
    const std::string who = actor_or_default(actor);
    return transact(true, [&] {
      SinkConfig added = lifecycle_sql::add_sink(*db_, sink, to_unix(t), who);
      audit(t, who, "sink.add", "sink", added.name,
            {{"kind", added.kind}, {"settings", nlohmann::json::parse(added.settings)}});
      return added;
    });
  }

  void remove_sink(std::string_view name, std::string_view actor) override {
    std::lock_guard lock(mu_);
    const Time t = now();
    const std::string who = actor_or_default(actor);
    transact(true, [&] {
      lifecycle_sql::remove_sink(*db_, name);
      audit(t, who, "sink.remove", "sink", name, nlohmann::json::object());
    });
  }

  std::vector<SinkConfig> sinks() const override {
    std::lock_guard lock(mu_);
    return transact(false, [&] { return lifecycle_sql::sinks(*db_); });
  }

  std::vector<Delivery> claim_deliveries(Time at, std::chrono::seconds lease, std::span<const std::string> sink_names,
                                         std::size_t limit) override {
    if (lease.count() <= 0) throw Error(ErrorCode::invalid_argument, "store: a delivery lease must be positive");
    std::lock_guard lock(mu_);
    return transact(true, [&] { return lifecycle_sql::claim(*db_, to_unix(at), lease.count(), sink_names, limit); });
  }

  void settle_deliveries(std::span<const DeliveryOutcome> outcomes, Time at) override {
    if (outcomes.empty()) return;
    std::lock_guard lock(mu_);
    transact(true, [&] { lifecycle_sql::settle(*db_, outcomes, to_unix(at)); });
  }

  std::vector<SinkStats> sink_stats() const override {
    std::lock_guard lock(mu_);
    return transact(false, [&] { return lifecycle_sql::sink_stats(*db_); });
  }

  LifecycleCounters lifecycle_counters() const override {
    std::lock_guard lock(mu_);
    return transact(false, [&] { return lifecycle_sql::counters(*db_); });
  }

  // ---- key, log, store ---------------------------------------------------------------------

  RotationResult rotate_master_key(const vault::KeySource& next, std::string_view actor) override {
    std::lock_guard lock(mu_);
    ensure_vault(true);
    vault::EstablishedKey est = vault::establish_key(next);
    if (vault_->wrapper().same_key(*est.wrapper)) {
      throw Error(ErrorCode::invalid_argument, "store: the new master key is the current one");
    }
    const vault::Vault target(est.wrapper);
    const Time t = now();
    const std::string who = actor_or_default(actor);
    const vault::KeyHeader old = transact(false, [&] { return read_key_header(); });
    RotationResult r = transact(true, [&] {
      RotationResult res;
      const vault::Vault& current = vault_in_transaction();
      std::int64_t after = 0;
      for (;;) {
        struct Row {
          std::int64_t id;
          std::string fp;
          std::vector<std::byte> pkcs12_key;
          std::vector<std::byte> password_key;
        };
        std::vector<Row> rows;
        {
          auto st = db_->prepare(
              "SELECT s.certificate_id, c.fingerprint, s.pkcs12_key, s.password_key FROM secrets s "
              "JOIN certificates c ON c.id = s.certificate_id WHERE s.certificate_id > ? "
              "ORDER BY s.certificate_id LIMIT 1000");
          st.bind(1, after);
          while (st.step()) rows.push_back({st.integer(0), st.text(1), st.blob(2), st.blob(3)});
        }
        if (rows.empty()) break;
        for (const Row& row : rows) {
          std::vector<std::byte> p12k;
          std::vector<std::byte> pwk;
          try {
            p12k = current.rewrap(row.pkcs12_key, seal_context(row.id, row.fp, "pkcs12"), target);
            pwk = current.rewrap(row.password_key, seal_context(row.id, row.fp, "password"), target);
          } catch (const Error&) {
            throw Error(ErrorCode::malformed, "store: the sealed secret of certificate " + row.fp +
                                                  " does not open: it was altered or moved from another record");
          }
          db_->prepare("UPDATE secrets SET pkcs12_key = ?, password_key = ? WHERE certificate_id = ?")
              .bind(1, p12k)
              .bind(2, pwk)
              .bind(3, row.id)
              .run();
          res.rewrapped += 2;
          after = row.id;
        }
      }
      write_key_header(est.header, t, true);
      audit(t, who, "key.rotate", "key", "master",
            {{"from", old.kind},
             {"to", est.header.kind},
             {"params", nlohmann::json::parse(est.header.params)},
             {"rewrapped", res.rewrapped}});
      return res;
    });
    vault_.emplace(est.wrapper);
    vault_check_ = est.header.check;
    return r;
  }

  void verify_master_key() const override {
    std::lock_guard lock(mu_);
    ensure_vault(true);
  }

  std::vector<AuditEntry> audit_log(std::int64_t after_id, std::size_t limit) const override {
    std::lock_guard lock(mu_);
    return transact(false, [&] {
      auto st = db_->prepare(
          "SELECT id, at, actor, action, object_kind, object_key, details FROM audit_log WHERE id > ? "
          "ORDER BY id LIMIT ?");
      st.bind(1, after_id).bind(2, limit == 0 ? std::int64_t{-1} : to_i64(limit));
      std::vector<AuditEntry> out;
      while (st.step()) {
        out.push_back({st.integer(0), from_unix(st.integer(1)), st.text(2), st.text(3), st.text(4), st.text(5),
                       st.text(6)});
      }
      return out;
    });
  }

  StoreInfo info() const override {
    std::lock_guard lock(mu_);
    return transact(false, [&] {
      StoreInfo i;
      i.backend = "sqlite";
      i.location = options_.path.string();
      i.schema_version = schema_version_in_transaction();
      const vault::KeyHeader h = read_key_header();
      i.key_kind = h.kind;
      i.key_params = h.params;
      auto st = db_->prepare("SELECT created_at, rotated_at FROM master_key WHERE id = 1");
      if (st.step()) {
        i.created_at = from_unix(st.integer(0));
        if (!st.is_null(1)) i.key_rotated_at = from_unix(st.integer(1));
      }
      i.organisations = count_rows("SELECT count(*) FROM organisations");
      i.mailboxes = count_rows("SELECT count(*) FROM mailboxes");
      i.certificates = count_rows("SELECT count(*) FROM certificates");
      return i;
    });
  }

  IntegrityReport check_integrity() const override {
    std::lock_guard lock(mu_);
    return transact(false, [&] {
      IntegrityReport r;
      {
        auto st = db_->prepare("PRAGMA integrity_check");
        while (st.step()) {
          const std::string line = st.text(0);
          if (line != "ok") r.problems.push_back("integrity_check: " + line);
        }
      }
      {
        auto st = db_->prepare("PRAGMA foreign_key_check");
        while (st.step()) {
          r.problems.push_back("foreign_key_check: " + st.text(0) + " row " + std::to_string(st.integer(1)) +
                               " refers to a missing " + st.text(2));
        }
      }
      {
        auto st = db_->prepare(
            "SELECT fingerprint FROM certificates c WHERE NOT EXISTS "
            "(SELECT 1 FROM secrets s WHERE s.certificate_id = c.id) LIMIT 100");
        while (st.step()) r.problems.push_back("certificate " + st.text(0) + " has no sealed secret");
      }
      {
        auto st = db_->prepare(
            "SELECT fingerprint FROM certificates c WHERE NOT EXISTS "
            "(SELECT 1 FROM certificate_documents d WHERE d.certificate_id = c.id) LIMIT 100");
        while (st.step()) r.problems.push_back("certificate " + st.text(0) + " has no documents (DER, report)");
      }
      {
        auto st = db_->prepare(
            "SELECT fingerprint FROM certificates WHERE fingerprint NOT IN (SELECT object_key FROM audit_log "
            "WHERE action = 'certificate.import') LIMIT 100");
        while (st.step()) r.problems.push_back("certificate " + st.text(0) + " has no import line in the audit log");
      }
      {
        auto st = db_->prepare(
            "SELECT fingerprint FROM certificates WHERE status = 'superseded' AND superseded_by IS NULL LIMIT 100");
        while (st.step()) r.problems.push_back("certificate " + st.text(0) + " is superseded by nothing");
      }
      lifecycle_sql::check(*db_, r.problems);
      return r;
    });
  }

 private:
  enum class QueryKind { rows, count, plan };

  // -- plumbing --

  Time now() const { return clock_->now(); }

  std::string actor_or_default(std::string_view actor) const {
    return actor.empty() ? default_actor_ : std::string(actor);
  }

  void configure() {
    sqlite3_busy_timeout(db_->handle(), static_cast<int>(options_.busy_timeout.count()));
    db_->exec("PRAGMA foreign_keys = ON");
    db_->exec(options_.durable_commits ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
    // Checkpoints run on a thread of their own (see Checkpointer), never in a committing call, and
    // every ~40 MB of WAL rather than SQLite's default 4 MB: an import dirties a dozen index pages,
    // and a checkpoint writes and syncs each page once however often it changed. The hook replaces
    // SQLite's automatic checkpoint. The WAL file is cut back to 64 MB after a checkpoint.
    sqlite3_wal_hook(db_->handle(), &SqliteStore::on_wal_commit, this);
    db_->exec("PRAGMA journal_size_limit = 67108864");
    // Read through a memory map (no read system call per page) and keep 16 MiB of pages.
    db_->exec("PRAGMA mmap_size = 268435456");
    db_->exec("PRAGMA cache_size = -16384");
    // WAL is a property of the file, set once; switching needs a moment without other connections.
    const auto deadline = Clock_::now() + options_.lock_deadline;
    for (unsigned attempt = 0;; ++attempt) {
      try {
        std::string mode;
        {
          auto st = db_->prepare("PRAGMA journal_mode");
          if (st.step()) mode = lowercase(st.text(0));
        }  // reset before switching: a pending statement is an open transaction
        if (mode == "wal") break;
        db_->exec("PRAGMA journal_mode = WAL");
      } catch (const Busy&) {
        if (Clock_::now() >= deadline) throw locked_error();
        backoff(attempt);
      }
    }
    db_->clear_cache();
  }

  Error locked_error() const {
    return Error(ErrorCode::io, "store: '" + options_.path.string() + "' stayed locked by another process for " +
                                    std::to_string(options_.lock_deadline.count() / 1000) + " s");
  }

  static void backoff(unsigned attempt) {
    thread_local std::minstd_rand rng(static_cast<unsigned>(::getpid()) ^
                                      static_cast<unsigned>(Clock_::now().time_since_epoch().count()));
    const unsigned cap = 1u << std::min(attempt, 6u);  // 1 .. 64 ms
    std::uniform_int_distribution<unsigned> dist(cap * 500u, cap * 1000u);
    std::this_thread::sleep_for(std::chrono::microseconds(dist(rng)));
  }

  /// Runs `f` in a transaction (BEGIN IMMEDIATE for writes, so the write lock is taken up front and
  /// never needs upgrading), retrying the whole transaction on lock contention until the deadline.
  template <class F>
  auto transact(bool write, F&& f) const -> std::invoke_result_t<F&> {
    using R = std::invoke_result_t<F&>;
    const auto deadline = Clock_::now() + options_.lock_deadline;
    for (unsigned attempt = 0;; ++attempt) {
      try {
        db_->prepare(write ? "BEGIN IMMEDIATE" : "BEGIN").run();
        if constexpr (std::is_void_v<R>) {
          f();
          db_->prepare("COMMIT").run();
          return;
        } else {
          R result = f();
          db_->prepare("COMMIT").run();
          return result;
        }
      } catch (const Busy&) {
        db_->rollback_quietly();
        if (Clock_::now() >= deadline) throw locked_error();
        backoff(attempt);
      } catch (...) {
        db_->rollback_quietly();
        throw;
      }
    }
  }

  bool has_table(std::string_view name) const {
    auto st = db_->prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    st.bind(1, name);
    return st.step();
  }

  bool is_empty_database() const {
    auto st = db_->prepare("SELECT count(*) FROM sqlite_master");
    return st.step() && st.integer(0) == 0;
  }

  /// -1 when the database has no schema_version table.
  int schema_version_in_transaction() const {
    if (!has_table("schema_version")) return -1;
    auto st = db_->prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version");
    return st.step() ? static_cast<int>(st.integer(0)) : 0;
  }

  void migrate_in_transaction(int from, Time t) {
    for (const Migration& m : migrations()) {
      if (m.version <= from) continue;
      db_->exec(m.sql);
      db_->prepare("INSERT INTO schema_version (version, applied_at, description) VALUES (?, ?, ?)")
          .bind(1, m.version)
          .bind(2, to_unix(t))
          .bind(3, m.description)
          .run();
    }
  }

  std::size_t count_rows(std::string_view sql) const {
    auto st = db_->prepare(sql);
    return st.step() ? static_cast<std::size_t>(st.integer(0)) : 0;
  }

  void audit(Time t, std::string_view actor, std::string_view action, std::string_view kind, std::string_view key,
             const nlohmann::json& details) {
    db_->prepare(
           "INSERT INTO audit_log (at, actor, action, object_kind, object_key, details) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(1, to_unix(t))
        .bind(2, actor)
        .bind(3, action)
        .bind(4, kind)
        .bind(5, key)
        .bind(6, details.dump())
        .run();
  }

  // -- master key --

  vault::KeyHeader read_key_header() const {
    auto st = db_->prepare("SELECT kind, params, check_value FROM master_key WHERE id = 1");
    if (!st.step()) throw Error(ErrorCode::malformed, "store: the store has no master-key header");
    return {st.text(0), st.text(1), st.blob(2)};
  }

  void write_key_header(const vault::KeyHeader& h, Time t, bool rotation) {
    db_->prepare(rotation ? "UPDATE master_key SET kind = ?1, params = ?2, check_value = ?3, rotated_at = ?4 WHERE id = 1"
                          : "INSERT INTO master_key (id, kind, params, check_value, created_at) VALUES (1, ?1, ?2, ?3, ?4)")
        .bind(1, h.kind)
        .bind(2, h.params)
        .bind(3, h.check)
        .bind(4, to_unix(t))
        .run();
  }

  /// Unlocks the master key on first use (outside any write transaction: Argon2id may take a
  /// second). With `recheck`, also when another process has rotated it since.
  void ensure_vault(bool recheck = false) const {
    if (vault_ && !recheck) return;  // vault_in_transaction() notices a rotation
    const vault::KeyHeader h = transact(false, [&] { return read_key_header(); });
    if (vault_ && vault_check_ == h.check) return;
    vault_.emplace(vault::open_key(h, options_.unlock));
    vault_check_ = h.check;
  }

  /// The vault, checked against the header inside the current transaction: a key rotated by
  /// another process since ensure_vault() is noticed here, before anything is sealed.
  const vault::Vault& vault_in_transaction() const {
    auto st = db_->prepare("SELECT check_value FROM master_key WHERE id = 1");
    if (!st.step()) throw Error(ErrorCode::malformed, "store: the store has no master-key header");
    const auto check = st.blob(0);
    if (!vault_ || check != vault_check_) {
      const vault::KeyHeader h = read_key_header();
      vault_.emplace(vault::open_key(h, options_.unlock));
      vault_check_ = h.check;
    }
    return *vault_;
  }

  // -- organisations and mailboxes --

  static void check_organisation(const Organisation& org) {
    if (!is_cvr(org.cvr)) throw Error(ErrorCode::invalid_argument, "store: a CVR number is 8 digits, not '" + org.cvr + "'");
    if (org.name.empty()) throw Error(ErrorCode::invalid_argument, "store: the organisation needs a name");
    for (const auto& c : org.contacts) {
      if (c.email.find('@') == std::string::npos) {
        throw Error(ErrorCode::invalid_argument, "store: contact e-mail '" + c.email + "' has no '@'");
      }
    }
  }

  static std::string check_address(std::string_view address) {
    const std::string a = lowercase(address);
    const auto at = a.find('@');
    if (at == std::string::npos || at == 0 || at + 1 == a.size() ||
        a.find_first_of(" \t\r\n<>,;") != std::string::npos) {
      throw Error(ErrorCode::invalid_argument, "store: '" + std::string(address) + "' is not a mailbox address");
    }
    return a;
  }

  std::optional<std::int64_t> organisation_id(std::string_view cvr) const {
    auto st = db_->prepare("SELECT id FROM organisations WHERE cvr = ?");
    st.bind(1, cvr);
    if (!st.step()) return std::nullopt;
    return st.integer(0);
  }

  std::int64_t insert_organisation(std::string_view cvr, std::string_view name, std::string_view notes, Time t,
                                   std::string_view who) {
    db_->prepare(
           "INSERT INTO organisations (cvr, name, notes, created_at, created_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(1, cvr)
        .bind(2, name)
        .bind(3, notes)
        .bind(4, to_unix(t))
        .bind(5, who)
        .bind(6, to_unix(t))
        .run();
    return sqlite3_last_insert_rowid(db_->handle());
  }

  void write_contacts(std::int64_t org, const std::vector<Contact>& contacts) {
    int position = 0;
    for (const auto& c : contacts) {
      db_->prepare("INSERT INTO contacts (organisation_id, position, name, email, role) VALUES (?, ?, ?, ?, ?)")
          .bind(1, org)
          .bind(2, position++)
          .bind(3, c.name)
          .bind(4, c.email)
          .bind(5, c.role)
          .run();
    }
  }

  std::optional<Organisation> read_organisation(std::string_view cvr) const {
    Organisation o;
    std::int64_t id = 0;
    {
      auto st = db_->prepare(
          "SELECT id, cvr, name, notes, created_at, created_by, updated_at FROM organisations WHERE cvr = ?");
      st.bind(1, cvr);
      if (!st.step()) return std::nullopt;
      id = st.integer(0);
      o.cvr = st.text(1);
      o.name = st.text(2);
      o.notes = st.text(3);
      o.created_at = from_unix(st.integer(4));
      o.created_by = st.text(5);
      o.updated_at = from_unix(st.integer(6));
    }
    auto st = db_->prepare("SELECT name, email, role FROM contacts WHERE organisation_id = ? ORDER BY position");
    st.bind(1, id);
    while (st.step()) o.contacts.push_back({st.text(0), st.text(1), st.text(2)});
    return o;
  }

  /// (id, organisation id) of a mailbox.
  std::optional<std::pair<std::int64_t, std::int64_t>> mailbox_row(std::string_view address) const {
    auto st = db_->prepare("SELECT id, organisation_id FROM mailboxes WHERE address = ?");
    st.bind(1, address);
    if (!st.step()) return std::nullopt;
    return std::make_pair(st.integer(0), st.integer(1));
  }

  void insert_mailbox(std::string_view address, std::string_view ad_group, std::int64_t org, Time t,
                      std::string_view who) {
    db_->prepare(
           "INSERT INTO mailboxes (address, ad_group, organisation_id, created_at, created_by) VALUES (?, ?, ?, ?, ?)")
        .bind(1, address)
        .bind(2, ad_group)
        .bind(3, org)
        .bind(4, to_unix(t))
        .bind(5, who)
        .run();
  }

  static Mailbox mailbox_from(const Statement& st) {
    Mailbox m;
    m.address = st.text(0);
    m.ad_group = st.text(1);
    m.organisation_cvr = st.text(2);
    m.created_at = from_unix(st.integer(3));
    m.created_by = st.text(4);
    return m;
  }

  std::optional<Mailbox> read_mailbox(std::string_view address) const {
    auto st = db_->prepare(
        "SELECT m.address, m.ad_group, o.cvr, m.created_at, m.created_by FROM mailboxes m "
        "JOIN organisations o ON o.id = m.organisation_id WHERE m.address = ?");
    st.bind(1, address);
    if (!st.step()) return std::nullopt;
    return mailbox_from(st);
  }

  // -- import --

  /// For an already stored fingerprint: the already_present result, or Error(conflict) when the
  /// options attach it elsewhere than it is.
  std::optional<ImportResult> existing_import(const std::string& fp, const ImportOptions& options,
                                              const std::optional<std::string>& address) const {
    auto st = db_->prepare("SELECT id FROM certificates WHERE fingerprint = ?");
    st.bind(1, fp);
    if (!st.step()) return std::nullopt;
    const std::int64_t id = st.integer(0);
    CertificateRecord rec = read_record(id);
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
  std::optional<std::pair<std::int64_t, std::string>> resolve_organisation(const ImportOptions& options,
                                                                           const store_detail::PreparedCertificate& p,
                                                                           Time t, const std::string& who) {
    std::optional<std::string> cvr = options.organisation_cvr;
    if (!cvr && p.cvr && is_cvr(*p.cvr)) cvr = p.cvr;
    if (!cvr) return std::nullopt;
    if (auto id = organisation_id(*cvr)) return std::make_pair(*id, *cvr);
    const std::string name = p.organisation_display_name.empty() ? "CVR " + *cvr : p.organisation_display_name;
    const std::int64_t id = insert_organisation(*cvr, name, "", t, who);
    audit(t, who, "organisation.add", "organisation", *cvr, {{"name", name}, {"contacts", 0}, {"automatic", true}});
    return std::make_pair(id, *cvr);
  }

  /// The mailbox id to attach to, created (under the organisation) when missing. May fill in the
  /// organisation from the mailbox.
  std::optional<std::int64_t> resolve_mailbox(const std::optional<std::string>& address,
                                              std::optional<std::pair<std::int64_t, std::string>>& org, Time t,
                                              const std::string& who) {
    if (!address) return std::nullopt;
    if (auto row = mailbox_row(*address)) {
      if (org && org->first != row->second) {
        throw Error(ErrorCode::conflict, "store: mailbox " + *address + " belongs to another organisation than CVR " +
                                             org->second);
      }
      if (!org) {
        auto st = db_->prepare("SELECT cvr FROM organisations WHERE id = ?");
        st.bind(1, row->second);
        if (st.step()) org = std::make_pair(row->second, st.text(0));
      }
      return row->first;
    }
    if (!org) {
      throw Error(ErrorCode::invalid_argument, "store: mailbox " + *address +
                                                   " does not exist and no organisation is known to create it under");
    }
    insert_mailbox(*address, "", org->first, t, who);
    const std::int64_t id = sqlite3_last_insert_rowid(db_->handle());
    audit(t, who, "mailbox.add", "mailbox", *address, {{"organisation", org->second}, {"ad_group", ""}, {"automatic", true}});
    return id;
  }

  std::int64_t next_certificate_id() const {
    auto st = db_->prepare("SELECT COALESCE(MAX(id), 0) + 1 FROM certificates");
    st.step();
    return st.integer(0);
  }

  void collect(Statement& st, std::map<std::int64_t, Candidate>& out) const {
    while (st.step()) {
      Candidate c{st.integer(0), st.text(1), st.integer(2), st.integer(3), st.integer(4)};
      out.emplace(c.id, std::move(c));
    }
  }

  void find_lineage(const store_detail::PreparedCertificate& p, std::optional<std::int64_t> mailbox,
                    std::map<std::int64_t, Candidate>& out) const {
    constexpr std::string_view cols = "SELECT id, fingerprint, not_before, not_after, lineage_id FROM certificates ";
    if (mailbox) {
      auto st = db_->prepare(std::string(cols) + "WHERE mailbox_id = ? AND status = 'active'");
      st.bind(1, *mailbox);
      collect(st, out);
    }
    if (p.generation == "oces2" && p.cvr && p.oces_id && p.oces_id_kind &&
        (*p.oces_id_kind == "uid" || *p.oces_id_kind == "fid")) {
      auto st = db_->prepare(std::string(cols) +
                             "WHERE cvr = ? AND oces_id_kind = ? AND oces_id = ? AND status = 'active' "
                             "AND generation = 'oces2'");
      st.bind(1, *p.cvr).bind(2, *p.oces_id_kind).bind(3, *p.oces_id);
      collect(st, out);
    }
    if (p.generation == "oces3") {
      auto st = db_->prepare(std::string(cols) + "WHERE generation = 'oces3' AND subject = ? AND status = 'active'");
      st.bind(1, p.subject);
      collect(st, out);
    }
  }

  void insert_certificate(std::int64_t id, const store_detail::PreparedCertificate& p,
                          const std::optional<std::pair<std::int64_t, std::string>>& org,
                          std::optional<std::int64_t> mailbox, CertificateStatus status,
                          std::optional<std::int64_t> superseded_by, std::int64_t lineage_id, Time t,
                          const std::string& who) {
    auto st = db_->prepare(
        "INSERT INTO certificates (id, fingerprint, organisation_id, mailbox_id, status, status_changed_at, "
        "superseded_by, lineage_id, generation, type, environment, cvr, oces_id_kind, oces_id, common_name, "
        "organisation_name, email, subject, issuer, serial, not_before, not_after, key_algorithm, key_bits, "
        "pkcs12_legacy, validation_verdict, forced, source, added_at, added_by) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, "
        "?22, ?23, ?24, ?27, ?28, ?30, ?31, ?32, ?33)");
    st.bind(1, id).bind(2, p.fingerprint);
    st.bind(3, org ? std::optional<std::int64_t>(org->first) : std::nullopt).bind(4, mailbox);
    st.bind(5, to_string(status)).bind(6, to_unix(t)).bind(7, superseded_by).bind(8, lineage_id);
    st.bind(9, p.generation).bind(10, p.type).bind(11, p.environment).bind(12, p.cvr);
    st.bind(13, p.oces_id_kind).bind(14, p.oces_id).bind(15, p.common_name).bind(16, p.organisation_name);
    st.bind(17, p.email).bind(18, p.subject).bind(19, p.issuer).bind(20, p.serial);
    st.bind(21, p.not_before).bind(22, p.not_after).bind(23, p.key_algorithm).bind(24, p.key_bits);
    st.bind(27, p.pkcs12_legacy ? 1 : 0);
    st.bind(28, to_string(p.verdict)).bind(30, p.forced ? 1 : 0);
    st.bind(31, p.source).bind(32, to_unix(t)).bind(33, who);
    st.run();
    db_->prepare(
           "INSERT INTO certificate_documents (certificate_id, der, pkcs12_profile, validation_report) "
           "VALUES (?, ?, ?, ?)")
        .bind(1, id)
        .bind(2, p.der)
        .bind(3, p.pkcs12_profile_json)
        .bind(4, p.report_json)
        .run();
  }

  // -- reading certificates --

  static std::string normalise_fingerprint(std::string_view fingerprint) {
    std::string fp;
    for (char c : fingerprint) {
      if (c == ':') continue;  // "AB:CD:..." as some tools print it
      fp += c;
    }
    fp = lowercase(fp);
    if (!is_hex(fp) || fp.size() > 64) {
      throw Error(ErrorCode::invalid_argument, "store: '" + std::string(fingerprint) + "' is not a SHA-256 fingerprint");
    }
    if (fp.size() < 8) {
      throw Error(ErrorCode::invalid_argument, "store: a fingerprint prefix needs at least 8 hex digits");
    }
    return fp;
  }

  std::optional<std::int64_t> resolve_fingerprint(const std::string& fp) const {
    if (fp.size() == 64) {
      auto st = db_->prepare("SELECT id FROM certificates WHERE fingerprint = ?");
      st.bind(1, fp);
      if (!st.step()) return std::nullopt;
      return st.integer(0);
    }
    auto st = db_->prepare("SELECT id, fingerprint FROM certificates WHERE fingerprint >= ? AND fingerprint < ? LIMIT 2");
    st.bind(1, fp).bind(2, fp + "g");
    if (!st.step()) return std::nullopt;
    const std::int64_t id = st.integer(0);
    if (st.step()) throw Error(ErrorCode::conflict, "store: fingerprint prefix " + fp + " is ambiguous");
    return id;
  }

  /// The record with this id. `known`: the certificate when the caller holds it already parsed
  /// (parsing costs more than the whole query).
  CertificateRecord read_record(std::int64_t id, const Certificate* known = nullptr) const {
    auto st = db_->prepare(
        std::string(kSummarySelect) +
        ", d.der, c.issuer, c.serial, c.key_algorithm, c.key_bits, d.pkcs12_profile, c.pkcs12_legacy, c.source, "
        "c.validation_verdict, c.forced, d.validation_report, c.lineage_id, s.fingerprint, c.added_at, c.added_by, "
        "c.status_changed_at, c.subject" +
        std::string(kSummaryFrom) +
        " JOIN certificate_documents d ON d.certificate_id = c.id"
        " LEFT JOIN certificates s ON s.id = c.superseded_by WHERE c.id = ?");
    st.bind(1, id);
    if (!st.step()) throw Error(ErrorCode::not_found, "store: no certificate with id " + std::to_string(id));
    constexpr int k = kSummaryColumns;
    const bool reuse = known != nullptr && known->fingerprint_hex() == st.text(1);
    CertificateRecord r(reuse ? *known : Certificate::from_der(st.blob(k), *ctx_));
    read_summary(st, r);
    r.issuer = st.text(k + 1);
    r.serial = st.text(k + 2);
    r.key_algorithm = st.text(k + 3);
    r.key_bits = static_cast<int>(st.integer(k + 4));
    r.pkcs12_profile_json = st.text(k + 5);
    r.pkcs12_legacy = st.integer(k + 6) != 0;
    r.source = st.text(k + 7);
    r.validation_verdict = store_detail::parse_check_status(st.text(k + 8));
    r.forced = st.integer(k + 9) != 0;
    r.validation_report_json = st.text(k + 10);
    r.lineage_id = st.integer(k + 11);
    r.superseded_by = st.optional_text(k + 12);
    r.added_at = from_unix(st.integer(k + 13));
    r.added_by = st.text(k + 14);
    r.status_changed_at = from_unix(st.integer(k + 15));
    r.subject = st.text(k + 16);
    auto sup = db_->prepare("SELECT fingerprint FROM certificates WHERE superseded_by = ? ORDER BY id");
    sup.bind(1, id);
    while (sup.step()) r.supersedes.push_back(sup.text(0));
    return r;
  }

  Statement prepare_query(const CertificateQuery& q, QueryKind kind) const {
    std::string sql;
    if (kind == QueryKind::count) {
      sql = "SELECT count(*) FROM certificates c";
    } else {
      sql = std::string(kind == QueryKind::plan ? "EXPLAIN QUERY PLAN " : "") + std::string(kSummarySelect) +
            std::string(kSummaryFrom);
    }
    // Only the conditions given, so the plan can use the indexes (no "? IS NULL OR ..." tricks).
    std::vector<std::string> where;
    if (q.organisation_cvr) where.emplace_back("c.organisation_id = (SELECT id FROM organisations WHERE cvr = ?)");
    if (q.mailbox) where.emplace_back("c.mailbox_id = (SELECT id FROM mailboxes WHERE address = ?)");
    // Active as a literal: the planner can then use the partial index of active certificates.
    if (q.status) where.emplace_back(*q.status == CertificateStatus::active ? "c.status = 'active'" : "c.status = ?");
    if (q.not_after_before) where.emplace_back("c.not_after < ?");
    if (q.not_after_from) where.emplace_back("c.not_after >= ?");
    for (std::size_t i = 0; i < where.size(); ++i) sql += (i == 0 ? " WHERE " : " AND ") + where[i];
    if (kind != QueryKind::count) {
      sql += " ORDER BY c.not_after, c.fingerprint";
      if (q.limit > 0 || q.offset > 0) sql += " LIMIT ? OFFSET ?";
    }
    auto st = db_->prepare(sql);
    int i = 1;
    if (q.organisation_cvr) st.bind(i++, *q.organisation_cvr);
    if (q.mailbox) st.bind(i++, lowercase(*q.mailbox));
    if (q.status && *q.status != CertificateStatus::active) st.bind(i++, to_string(*q.status));
    if (q.not_after_before) st.bind(i++, to_unix(*q.not_after_before));
    if (q.not_after_from) st.bind(i++, to_unix(*q.not_after_from));
    if (kind != QueryKind::count && (q.limit > 0 || q.offset > 0)) {
      st.bind(i++, q.limit > 0 ? to_i64(q.limit) : std::int64_t{-1});
      st.bind(i++, to_i64(q.offset));
    }
    return st;
  }

  // -- unsealing --

  Unsealed unseal_in_transaction(std::int64_t id) const {
    CertificateRecord rec = read_record(id);
    SealedRow row;
    {
      auto st = db_->prepare(
          "SELECT pkcs12_key, pkcs12, password_key, password FROM secrets WHERE certificate_id = ?");
      st.bind(1, id);
      if (!st.step()) {
        throw Error(ErrorCode::not_found, "store: certificate " + rec.fingerprint + " has no sealed secret");
      }
      row.pkcs12 = {st.blob(0), st.blob(1)};
      row.password = {st.blob(2), st.blob(3)};
    }
    const vault::Vault& v = vault_in_transaction();
    try {
      SecretBytes p12 = v.open(row.pkcs12, seal_context(id, rec.fingerprint, "pkcs12"));
      SecretBytes pw = v.open(row.password, seal_context(id, rec.fingerprint, "password"));
      return Unsealed{std::move(rec), std::move(p12), std::move(pw)};
    } catch (const Error&) {
      throw Error(ErrorCode::malformed, "store: the sealed secret of certificate " + rec.fingerprint +
                                            " does not open under this store's master key: it was altered or moved "
                                            "from another record");
    }
  }

  UnsealedBundle load(Unsealed u) const {
    Pkcs12Bundle bundle = load_pkcs12(u.pkcs12.bytes(), u.password, *ctx_);
    return UnsealedBundle{std::move(u.record), std::move(bundle), std::move(u.pkcs12), std::move(u.password)};
  }

  /// Called by SQLite after every commit with the number of frames in the WAL.
  static int on_wal_commit(void* self, sqlite3*, const char*, int frames) {
    auto* store = static_cast<SqliteStore*>(self);
    if (frames >= kCheckpointFrames) store->checkpointer_.request(store->options_.path);
    return SQLITE_OK;
  }

  /// Copies the WAL back into the database on a thread of its own, with its own connection, when a
  /// commit finds the WAL past kCheckpointFrames. PASSIVE: it never waits for, nor blocks, readers
  /// and writers of this or any other process. Started on first need; stopped by the destructor.
  /// (A process that forks must not use a Store in the child: SQLite connections do not survive a
  /// fork either.)
  class Checkpointer {
   public:
    Checkpointer() = default;
    Checkpointer(const Checkpointer&) = delete;
    Checkpointer& operator=(const Checkpointer&) = delete;
    ~Checkpointer() { stop(); }

    void request(const std::filesystem::path& path) {
      std::lock_guard lock(mu_);
      pending_ = true;
      if (!thread_.joinable()) {
        try {
          thread_ = std::thread([this, path] { run(path); });
        } catch (const std::system_error&) {
          pending_ = false;  // no thread: SQLite checkpoints when the last connection closes
        }
      }
      cv_.notify_one();
    }

    void stop() noexcept {
      {
        std::lock_guard lock(mu_);
        stopping_ = true;
      }
      cv_.notify_one();
      if (thread_.joinable()) thread_.join();
    }

   private:
    void run(const std::filesystem::path& path) noexcept {
      sqlite3* db = nullptr;
      if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
        sqlite3_close_v2(db);
        return;
      }
      sqlite3_busy_timeout(db, 100);
      std::unique_lock lock(mu_);
      for (;;) {
        cv_.wait(lock, [this] { return pending_ || stopping_; });
        if (stopping_) break;
        pending_ = false;
        lock.unlock();
        // Failure (busy, I/O) is harmless: the WAL keeps the data, and the next request retries.
        (void)sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        lock.lock();
      }
      lock.unlock();
      sqlite3_close_v2(db);
    }

    std::mutex mu_;
    std::condition_variable cv_;
    bool pending_ = false;
    bool stopping_ = false;
    std::thread thread_;
  };

  static constexpr int kCheckpointFrames = 10000;

  StoreOptions options_;
  std::shared_ptr<const Clock> clock_;
  const Context* ctx_;
  std::string default_actor_;
  mutable std::mutex mu_;
  std::unique_ptr<Connection> db_;
  mutable std::optional<vault::Vault> vault_;
  mutable std::vector<std::byte> vault_check_;
  // Declared last: stopped (joined) first, while the store's connection is still open.
  Checkpointer checkpointer_;
};

/// Creates the database file exclusively with mode 0600 (SQLite gives -wal and -shm the same mode).
/// Returns whether this call created it.
bool create_database_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0) {
    (void)::fchmod(fd, 0600);
    ::close(fd);
    return true;
  }
  const int err = errno;
  if (err == EEXIST) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && st.st_size == 0) return false;  // an empty file: use it
    throw Error(ErrorCode::conflict, "store: '" + path.string() + "' already exists");
  }
  throw Error(err == ENOENT ? ErrorCode::not_found : ErrorCode::io,
              "store: cannot create '" + path.string() + "': " + std::strerror(err));
}

void remove_database_files(const std::filesystem::path& path) noexcept {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    ::unlink((path.string() + suffix).c_str());
  }
}

}  // namespace

std::unique_ptr<Store> create_store(StoreOptions options, const vault::KeySource& key) {
  const std::filesystem::path path = options.path;
  const bool created = create_database_file(path);  // first: an existing store must not cost a key file
  try {
    const vault::EstablishedKey established = vault::establish_key(key);
    auto store = std::make_unique<SqliteStore>(std::move(options), Connection::Mode::create);
    store->initialise(established);
    return store;
  } catch (...) {
    if (created) remove_database_files(path);
    throw;
  }
}

std::unique_ptr<Store> open_store(StoreOptions options) {
  std::error_code ec;
  if (!std::filesystem::exists(options.path, ec)) {
    throw Error(ErrorCode::not_found, "store: there is no store at '" + options.path.string() +
                                          "' (create one with `dpgcert store init`)");
  }
  auto store = std::make_unique<SqliteStore>(std::move(options), Connection::Mode::open_existing);
  store->check_and_migrate();
  return store;
}

}  // namespace dpgcert::sqlite
