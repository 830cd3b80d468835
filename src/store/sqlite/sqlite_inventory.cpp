// The SQLite backend's inventory rows: organisations, contacts, mailboxes, certificates with their
// documents, sealed secrets, the audit log, and the model's integrity queries.
#include "store/sqlite/sqlite_backend.hpp"
#include "store/sqlite/sqlite_summary.hpp"

#include <dpgcert/error.hpp>

#include <sqlite3.h>

#include <algorithm>

namespace dpgcert::sqlite {
namespace {

std::int64_t to_i64(std::size_t n) { return static_cast<std::int64_t>(n); }

Mailbox mailbox_from(const Statement& st) {
  Mailbox m;
  m.address = st.text(0);
  m.ad_group = st.text(1);
  m.organisation_cvr = st.text(2);
  m.created_at = from_unix(st.integer(3));
  m.created_by = st.text(4);
  return m;
}

void write_contacts(Connection& db, std::int64_t org, const std::vector<Contact>& contacts) {
  int position = 0;
  for (const auto& c : contacts) {
    db.prepare("INSERT INTO contacts (organisation_id, position, name, email, role) VALUES (?, ?, ?, ?, ?)")
        .bind(1, org)
        .bind(2, position++)
        .bind(3, c.name)
        .bind(4, c.email)
        .bind(5, c.role)
        .run();
  }
}

/// "pass", "warn", "fail", "skip" back to CheckStatus (fail for anything else).
CheckStatus parse_check_status(std::string_view text) noexcept {
  if (text == "pass") return CheckStatus::pass;
  if (text == "warn") return CheckStatus::warn;
  if (text == "skip") return CheckStatus::skip;
  return CheckStatus::fail;
}

}  // namespace

// ---- organisations and mailboxes ------------------------------------------------------------

std::optional<std::int64_t> SqliteTransaction::organisation_id(std::string_view cvr) {
  auto st = db_.prepare("SELECT id FROM organisations WHERE cvr = ?");
  st.bind(1, cvr);
  if (!st.step()) return std::nullopt;
  return st.integer(0);
}

std::optional<std::string> SqliteTransaction::organisation_cvr(std::int64_t id) {
  auto st = db_.prepare("SELECT cvr FROM organisations WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return st.text(0);
}

std::int64_t SqliteTransaction::insert_organisation(const Organisation& org, Time at, std::string_view who) {
  db_.prepare(
         "INSERT INTO organisations (cvr, name, notes, created_at, created_by, updated_at, language) "
         "VALUES (?, ?, ?, ?, ?, ?, ?)")
      .bind(1, org.cvr)
      .bind(2, org.name)
      .bind(3, org.notes)
      .bind(4, to_unix(at))
      .bind(5, who)
      .bind(6, to_unix(at))
      .bind(7, org.language)
      .run();
  const std::int64_t id = sqlite3_last_insert_rowid(db_.handle());
  write_contacts(db_, id, org.contacts);
  return id;
}

void SqliteTransaction::update_organisation(std::int64_t id, const Organisation& org, Time at) {
  db_.prepare("UPDATE organisations SET name = ?, notes = ?, updated_at = ?, language = ? WHERE id = ?")
      .bind(1, org.name)
      .bind(2, org.notes)
      .bind(3, to_unix(at))
      .bind(4, org.language)
      .bind(5, id)
      .run();
  db_.prepare("DELETE FROM contacts WHERE organisation_id = ?").bind(1, id).run();
  write_contacts(db_, id, org.contacts);
}

std::optional<Organisation> SqliteTransaction::organisation(std::string_view cvr) {
  Organisation o;
  std::int64_t id = 0;
  {
    auto st = db_.prepare(
        "SELECT id, cvr, name, notes, created_at, created_by, updated_at, language FROM organisations WHERE cvr = ?");
    st.bind(1, cvr);
    if (!st.step()) return std::nullopt;
    id = st.integer(0);
    o.cvr = st.text(1);
    o.name = st.text(2);
    o.notes = st.text(3);
    o.created_at = from_unix(st.integer(4));
    o.created_by = st.text(5);
    o.updated_at = from_unix(st.integer(6));
    o.language = st.text(7);
  }
  auto st = db_.prepare("SELECT name, email, role FROM contacts WHERE organisation_id = ? ORDER BY position");
  st.bind(1, id);
  while (st.step()) o.contacts.push_back({st.text(0), st.text(1), st.text(2)});
  return o;
}

std::vector<std::string> SqliteTransaction::organisation_cvrs() {
  auto st = db_.prepare("SELECT cvr FROM organisations ORDER BY cvr");
  std::vector<std::string> cvrs;
  while (st.step()) cvrs.push_back(st.text(0));
  return cvrs;
}

std::optional<store::MailboxRef> SqliteTransaction::mailbox_ref(std::string_view address) {
  auto st = db_.prepare("SELECT id, organisation_id FROM mailboxes WHERE address = ?");
  st.bind(1, address);
  if (!st.step()) return std::nullopt;
  return store::MailboxRef{st.integer(0), st.integer(1)};
}

std::int64_t SqliteTransaction::insert_mailbox(std::string_view address, std::string_view ad_group,
                                               std::int64_t organisation_id, Time at, std::string_view who) {
  db_.prepare(
         "INSERT INTO mailboxes (address, ad_group, organisation_id, created_at, created_by) VALUES (?, ?, ?, ?, ?)")
      .bind(1, address)
      .bind(2, ad_group)
      .bind(3, organisation_id)
      .bind(4, to_unix(at))
      .bind(5, who)
      .run();
  return sqlite3_last_insert_rowid(db_.handle());
}

void SqliteTransaction::update_mailbox(std::int64_t id, std::string_view ad_group) {
  db_.prepare("UPDATE mailboxes SET ad_group = ? WHERE id = ?").bind(1, ad_group).bind(2, id).run();
}

std::optional<Mailbox> SqliteTransaction::mailbox(std::string_view address) {
  auto st = db_.prepare(
      "SELECT m.address, m.ad_group, o.cvr, m.created_at, m.created_by FROM mailboxes m "
      "JOIN organisations o ON o.id = m.organisation_id WHERE m.address = ?");
  st.bind(1, address);
  if (!st.step()) return std::nullopt;
  return mailbox_from(st);
}

std::vector<Mailbox> SqliteTransaction::mailboxes(std::optional<std::string_view> organisation_cvr) {
  std::string sql =
      "SELECT m.address, m.ad_group, o.cvr, m.created_at, m.created_by FROM mailboxes m "
      "JOIN organisations o ON o.id = m.organisation_id";
  if (organisation_cvr) sql += " WHERE o.cvr = ?";
  sql += " ORDER BY m.address";
  auto st = db_.prepare(sql);
  if (organisation_cvr) st.bind(1, *organisation_cvr);
  std::vector<Mailbox> out;
  while (st.step()) out.push_back(mailbox_from(st));
  return out;
}

void SqliteTransaction::move_mailbox(std::int64_t id, std::int64_t organisation_id) {
  db_.prepare("UPDATE mailboxes SET organisation_id = ? WHERE id = ?").bind(1, organisation_id).bind(2, id).run();
  db_.prepare("UPDATE certificates SET organisation_id = ? WHERE mailbox_id = ?")
      .bind(1, organisation_id)
      .bind(2, id)
      .run();
}

void SqliteTransaction::delete_mailbox(std::int64_t id) {
  db_.prepare("UPDATE certificates SET mailbox_id = NULL WHERE mailbox_id = ?").bind(1, id).run();
  db_.prepare("DELETE FROM mailboxes WHERE id = ?").bind(1, id).run();
}

void SqliteTransaction::delete_organisation(std::int64_t id) {
  db_.prepare("UPDATE certificates SET organisation_id = NULL WHERE organisation_id = ?").bind(1, id).run();
  db_.prepare("DELETE FROM renewal_policies WHERE organisation_id = ?").bind(1, id).run();
  db_.prepare("DELETE FROM contacts WHERE organisation_id = ?").bind(1, id).run();
  db_.prepare("DELETE FROM organisations WHERE id = ?").bind(1, id).run();
}

// ---- certificates ---------------------------------------------------------------------------

std::optional<std::int64_t> SqliteTransaction::certificate_id(std::string_view fingerprint) {
  auto st = db_.prepare("SELECT id FROM certificates WHERE fingerprint = ?");
  st.bind(1, fingerprint);
  if (!st.step()) return std::nullopt;
  return st.integer(0);
}

std::vector<std::int64_t> SqliteTransaction::certificate_ids_by_prefix(std::string_view prefix, std::size_t limit) {
  auto st = db_.prepare("SELECT id FROM certificates WHERE fingerprint >= ? AND fingerprint < ? LIMIT ?");
  st.bind(1, prefix).bind(2, std::string(prefix) + "g").bind(3, to_i64(limit));
  std::vector<std::int64_t> out;
  while (st.step()) out.push_back(st.integer(0));
  return out;
}

std::int64_t SqliteTransaction::next_certificate_id() {
  auto st = db_.prepare("SELECT COALESCE(MAX(id), 0) + 1 FROM certificates");
  st.step();
  return st.integer(0);
}

CertificateRecord SqliteTransaction::record(std::int64_t id, const Certificate* known, const Context& ctx) {
  auto st = db_.prepare(
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
  const bool reuse = known != nullptr && known->fingerprint_hex() == st.view(1);
  CertificateRecord r(reuse ? *known : Certificate::from_der(st.blob(k), ctx));
  read_summary(st, r);
  r.issuer = st.text(k + 1);
  r.serial = st.text(k + 2);
  r.key_algorithm = st.text(k + 3);
  r.key_bits = static_cast<int>(st.integer(k + 4));
  r.pkcs12_profile_json = st.text(k + 5);
  r.pkcs12_legacy = st.integer(k + 6) != 0;
  r.source = st.text(k + 7);
  r.validation_verdict = parse_check_status(st.view(k + 8));
  r.forced = st.integer(k + 9) != 0;
  r.validation_report_json = st.text(k + 10);
  r.lineage_id = st.integer(k + 11);
  r.superseded_by = st.optional_text(k + 12);
  r.added_at = from_unix(st.integer(k + 13));
  r.added_by = st.text(k + 14);
  r.status_changed_at = from_unix(st.integer(k + 15));
  r.subject = st.text(k + 16);
  auto sup = db_.prepare("SELECT fingerprint FROM certificates WHERE superseded_by = ? ORDER BY id");
  sup.bind(1, id);
  while (sup.step()) r.supersedes.push_back(sup.text(0));
  return r;
}

Statement SqliteTransaction::prepare_query(const CertificateQuery& q, QueryKind kind) {
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
  auto st = db_.prepare(sql);
  int i = 1;
  if (q.organisation_cvr) st.bind(i++, *q.organisation_cvr);
  if (q.mailbox) {
    std::string address(*q.mailbox);
    for (char& c : address) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    st.bind(i++, address);
  }
  if (q.status && *q.status != CertificateStatus::active) st.bind(i++, to_string(*q.status));
  if (q.not_after_before) st.bind(i++, to_unix(*q.not_after_before));
  if (q.not_after_from) st.bind(i++, to_unix(*q.not_after_from));
  if (kind != QueryKind::count && (q.limit > 0 || q.offset > 0)) {
    st.bind(i++, q.limit > 0 ? to_i64(q.limit) : std::int64_t{-1});
    st.bind(i++, to_i64(q.offset));
  }
  return st;
}

std::vector<CertificateSummary> SqliteTransaction::summaries(const CertificateQuery& q) {
  auto st = prepare_query(q, QueryKind::rows);
  std::vector<CertificateSummary> out;
  if (q.limit > 0) out.reserve(std::min<std::size_t>(q.limit, 10000));
  while (st.step()) {
    CertificateSummary s;
    read_summary(st, s);
    out.push_back(std::move(s));
  }
  return out;
}

std::size_t SqliteTransaction::count(const CertificateQuery& q) {
  auto st = prepare_query(q, QueryKind::count);
  return st.step() ? static_cast<std::size_t>(st.integer(0)) : std::size_t{0};
}

std::string SqliteTransaction::plan(const CertificateQuery& q) {
  auto st = prepare_query(q, QueryKind::plan);
  std::string out;
  while (st.step()) {
    out += st.text(3);
    out += '\n';
  }
  return out;
}

void SqliteTransaction::collect(Statement& st, std::vector<store::LineageCandidate>& out) {
  while (st.step()) out.push_back({st.integer(0), st.text(1), st.integer(2), st.integer(3), st.integer(4)});
}

constexpr std::string_view kCandidateColumns =
    "SELECT id, fingerprint, not_before, not_after, lineage_id FROM certificates ";

void SqliteTransaction::active_by_mailbox(std::int64_t mailbox_id, std::vector<store::LineageCandidate>& out) {
  auto st = db_.prepare(std::string(kCandidateColumns) + "WHERE mailbox_id = ? AND status = 'active'");
  st.bind(1, mailbox_id);
  collect(st, out);
}

void SqliteTransaction::active_by_oces2_id(std::string_view cvr, std::string_view id_kind, std::string_view id,
                                           std::vector<store::LineageCandidate>& out) {
  auto st = db_.prepare(std::string(kCandidateColumns) +
                        "WHERE cvr = ? AND oces_id_kind = ? AND oces_id = ? AND status = 'active' "
                        "AND generation = 'oces2'");
  st.bind(1, cvr).bind(2, id_kind).bind(3, id);
  collect(st, out);
}

void SqliteTransaction::active_by_oces3_subject(std::string_view subject, std::vector<store::LineageCandidate>& out) {
  auto st = db_.prepare(std::string(kCandidateColumns) + "WHERE generation = 'oces3' AND subject = ? AND status = 'active'");
  st.bind(1, subject);
  collect(st, out);
}

void SqliteTransaction::insert_certificate(const store::CertificateInsert& row) {
  const store_detail::PreparedCertificate& p = *row.prepared;
  auto st = db_.prepare(
      "INSERT INTO certificates (id, fingerprint, organisation_id, mailbox_id, status, status_changed_at, "
      "superseded_by, lineage_id, generation, type, environment, cvr, oces_id_kind, oces_id, common_name, "
      "organisation_name, email, subject, issuer, serial, not_before, not_after, key_algorithm, key_bits, "
      "pkcs12_legacy, validation_verdict, forced, source, added_at, added_by) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, "
      "?22, ?23, ?24, ?27, ?28, ?30, ?31, ?32, ?33)");
  st.bind(1, row.id).bind(2, p.fingerprint);
  st.bind(3, row.organisation_id).bind(4, row.mailbox_id);
  st.bind(5, to_string(row.status)).bind(6, to_unix(row.added_at)).bind(7, row.superseded_by).bind(8, row.lineage_id);
  st.bind(9, p.generation).bind(10, p.type).bind(11, p.environment).bind(12, p.cvr);
  st.bind(13, p.oces_id_kind).bind(14, p.oces_id).bind(15, p.common_name).bind(16, p.organisation_name);
  st.bind(17, p.email).bind(18, p.subject).bind(19, p.issuer).bind(20, p.serial);
  st.bind(21, p.not_before).bind(22, p.not_after).bind(23, p.key_algorithm).bind(24, p.key_bits);
  st.bind(27, p.pkcs12_legacy ? 1 : 0);
  st.bind(28, to_string(p.verdict)).bind(30, p.forced ? 1 : 0);
  st.bind(31, p.source).bind(32, to_unix(row.added_at)).bind(33, row.added_by);
  st.run();
  db_.prepare(
         "INSERT INTO certificate_documents (certificate_id, der, pkcs12_profile, validation_report) "
         "VALUES (?, ?, ?, ?)")
      .bind(1, row.id)
      .bind(2, p.der)
      .bind(3, p.pkcs12_profile_json)
      .bind(4, p.report_json)
      .run();
}

void SqliteTransaction::set_status(std::int64_t id, CertificateStatus status, std::optional<std::int64_t> superseded_by,
                                   Time at) {
  if (superseded_by) {
    db_.prepare("UPDATE certificates SET status = ?, superseded_by = ?, status_changed_at = ? WHERE id = ?")
        .bind(1, to_string(status))
        .bind(2, *superseded_by)
        .bind(3, to_unix(at))
        .bind(4, id)
        .run();
  } else {
    db_.prepare("UPDATE certificates SET status = ?, status_changed_at = ? WHERE id = ?")
        .bind(1, to_string(status))
        .bind(2, to_unix(at))
        .bind(3, id)
        .run();
  }
}

std::optional<std::int64_t> SqliteTransaction::current_for_mailbox(std::int64_t mailbox_id) {
  auto st = db_.prepare(
      "SELECT id FROM certificates WHERE mailbox_id = ? AND status = 'active' "
      "ORDER BY not_before DESC, not_after DESC, id DESC LIMIT 1");
  st.bind(1, mailbox_id);
  if (!st.step()) return std::nullopt;
  return st.integer(0);
}

// ---- sealed secrets -------------------------------------------------------------------------

void SqliteTransaction::insert_secrets(std::int64_t certificate_id, const store::SealedSecrets& s) {
  db_.prepare("INSERT INTO secrets (certificate_id, pkcs12_key, pkcs12, password_key, password) VALUES (?, ?, ?, ?, ?)")
      .bind(1, certificate_id)
      .bind(2, s.pkcs12.wrapped_key)
      .bind(3, s.pkcs12.ciphertext)
      .bind(4, s.password.wrapped_key)
      .bind(5, s.password.ciphertext)
      .run();
}

std::optional<store::SealedSecrets> SqliteTransaction::secrets(std::int64_t certificate_id) {
  auto st = db_.prepare("SELECT pkcs12_key, pkcs12, password_key, password FROM secrets WHERE certificate_id = ?");
  st.bind(1, certificate_id);
  if (!st.step()) return std::nullopt;
  store::SealedSecrets s;
  s.pkcs12 = {st.blob(0), st.blob(1)};
  s.password = {st.blob(2), st.blob(3)};
  return s;
}

std::vector<store::WrappedKeys> SqliteTransaction::wrapped_keys(std::int64_t after_id, std::size_t limit) {
  auto st = db_.prepare(
      "SELECT s.certificate_id, c.fingerprint, s.pkcs12_key, s.password_key FROM secrets s "
      "JOIN certificates c ON c.id = s.certificate_id WHERE s.certificate_id > ? "
      "ORDER BY s.certificate_id LIMIT ?");
  st.bind(1, after_id).bind(2, to_i64(limit));
  std::vector<store::WrappedKeys> rows;
  while (st.step()) rows.push_back({st.integer(0), st.text(1), st.blob(2), st.blob(3)});
  return rows;
}

void SqliteTransaction::update_wrapped_keys(std::int64_t certificate_id, std::span<const std::byte> pkcs12_key,
                                            std::span<const std::byte> password_key) {
  db_.prepare("UPDATE secrets SET pkcs12_key = ?, password_key = ? WHERE certificate_id = ?")
      .bind(1, pkcs12_key)
      .bind(2, password_key)
      .bind(3, certificate_id)
      .run();
}

// ---- audit log and integrity ----------------------------------------------------------------

void SqliteTransaction::append_audit(const AuditEntry& e) {
  std::optional<std::int64_t> command_time;
  if (e.command_time) command_time = to_unix(*e.command_time);
  db_.prepare(
         "INSERT INTO audit_log (at, actor, action, object_kind, object_key, details, command_time) "
         "VALUES (?, ?, ?, ?, ?, ?, ?)")
      .bind(1, to_unix(e.at))
      .bind(2, e.actor)
      .bind(3, e.action)
      .bind(4, e.object_kind)
      .bind(5, e.object_key)
      .bind(6, e.details)
      .bind(7, command_time)
      .run();
}

std::optional<std::string> SqliteTransaction::setting(std::string_view name) {
  auto st = db_.prepare("SELECT value FROM settings WHERE name = ?");
  st.bind(1, name);
  if (!st.step()) return std::nullopt;
  return st.text(0);
}

void SqliteTransaction::set_setting(std::string_view name, std::string_view value, Time at) {
  db_.prepare(
         "INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?) "
         "ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at")
      .bind(1, name)
      .bind(2, value)
      .bind(3, to_unix(at))
      .run();
}

std::optional<store::CachedCrlRow> SqliteTransaction::cached_crl(std::string_view url) {
  auto st = db_.prepare(
      "SELECT issuer_fingerprint, der, this_update, next_update, etag, last_modified, fetched_at, checked_at "
      "FROM revocation_crls WHERE url = ?");
  st.bind(1, url);
  if (!st.step()) return std::nullopt;
  store::CachedCrlRow r;
  r.url = std::string(url);
  r.issuer_fingerprint = st.text(0);
  r.der = st.blob(1);
  r.this_update = from_unix(st.integer(2));
  r.next_update = from_unix(st.integer(3));
  r.etag = st.text(4);
  r.last_modified = st.text(5);
  r.fetched_at = from_unix(st.integer(6));
  r.checked_at = from_unix(st.integer(7));
  return r;
}

void SqliteTransaction::put_crl(const store::CachedCrlRow& r) {
  db_.prepare(
         "INSERT INTO revocation_crls (url, issuer_fingerprint, der, this_update, next_update, etag, last_modified, "
         "fetched_at, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET "
         "issuer_fingerprint = excluded.issuer_fingerprint, der = excluded.der, this_update = excluded.this_update, "
         "next_update = excluded.next_update, etag = excluded.etag, last_modified = excluded.last_modified, "
         "fetched_at = excluded.fetched_at, checked_at = excluded.checked_at")
      .bind(1, r.url)
      .bind(2, r.issuer_fingerprint)
      .bind(3, std::span<const std::byte>(r.der))
      .bind(4, to_unix(r.this_update))
      .bind(5, to_unix(r.next_update))
      .bind(6, r.etag)
      .bind(7, r.last_modified)
      .bind(8, to_unix(r.fetched_at))
      .bind(9, to_unix(r.checked_at))
      .run();
}

std::vector<AuditEntry> SqliteTransaction::audit_log(std::int64_t after_id, std::size_t limit) {
  auto st = db_.prepare(
      "SELECT id, at, actor, action, object_kind, object_key, details, command_time FROM audit_log WHERE id > ? "
      "ORDER BY id LIMIT ?");
  st.bind(1, after_id).bind(2, limit == 0 ? std::int64_t{-1} : to_i64(limit));
  std::vector<AuditEntry> out;
  while (st.step()) {
    AuditEntry e;
    e.id = st.integer(0);
    e.at = from_unix(st.integer(1));
    if (const auto c = st.optional_integer(7)) e.command_time = from_unix(*c);
    e.actor = st.text(2);
    e.action = st.text(3);
    e.object_kind = st.text(4);
    e.object_key = st.text(5);
    e.details = st.text(6);
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::string> SqliteTransaction::certificates_lacking(store::Lack what, std::size_t limit) {
  std::string_view sql;
  switch (what) {
    case store::Lack::secret:
      sql = "SELECT fingerprint FROM certificates c WHERE NOT EXISTS "
            "(SELECT 1 FROM secrets s WHERE s.certificate_id = c.id) LIMIT ?";
      break;
    case store::Lack::documents:
      sql = "SELECT fingerprint FROM certificates c WHERE NOT EXISTS "
            "(SELECT 1 FROM certificate_documents d WHERE d.certificate_id = c.id) LIMIT ?";
      break;
    case store::Lack::import_line:
      sql = "SELECT fingerprint FROM certificates WHERE fingerprint NOT IN (SELECT object_key FROM audit_log "
            "WHERE action = 'certificate.import') LIMIT ?";
      break;
    case store::Lack::successor:
      sql = "SELECT fingerprint FROM certificates WHERE status = 'superseded' AND superseded_by IS NULL LIMIT ?";
      break;
  }
  auto st = db_.prepare(sql);
  st.bind(1, to_i64(limit));
  std::vector<std::string> out;
  while (st.step()) out.push_back(st.text(0));
  return out;
}

}  // namespace dpgcert::sqlite

namespace dpgcert::sqlite {
namespace {

store::TokenKeyRow token_key_row(const Statement& st) {
  store::TokenKeyRow r;
  r.certificate_id = st.integer(0);
  r.token_uri = st.text(1);
  r.key_uri = st.text(2);
  r.certificate_uri = st.text(3);
  r.object_id = st.text(4);
  r.imported_at = from_unix(st.integer(5));
  r.imported_by = st.text(6);
  return r;
}

constexpr const char* kTokenKeyColumns =
    "SELECT certificate_id, token_uri, key_uri, certificate_uri, object_id, imported_at, imported_by FROM token_keys";

}  // namespace

void SqliteTransaction::put_token_key(const store::TokenKeyRow& row) {
  db_.prepare(
         "INSERT INTO token_keys (certificate_id, token_uri, key_uri, certificate_uri, object_id, imported_at, "
         "imported_by) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (certificate_id) DO UPDATE SET "
         "token_uri = excluded.token_uri, key_uri = excluded.key_uri, certificate_uri = excluded.certificate_uri, "
         "object_id = excluded.object_id, imported_at = excluded.imported_at, imported_by = excluded.imported_by")
      .bind(1, row.certificate_id)
      .bind(2, row.token_uri)
      .bind(3, row.key_uri)
      .bind(4, row.certificate_uri)
      .bind(5, row.object_id)
      .bind(6, to_unix(row.imported_at))
      .bind(7, row.imported_by)
      .run();
}

std::optional<store::TokenKeyRow> SqliteTransaction::token_key(std::int64_t certificate_id) {
  auto st = db_.prepare(std::string(kTokenKeyColumns) + " WHERE certificate_id = ?");
  st.bind(1, certificate_id);
  if (!st.step()) return std::nullopt;
  return token_key_row(st);
}

std::vector<store::TokenKeyRow> SqliteTransaction::token_keys() {
  auto st = db_.prepare(std::string(kTokenKeyColumns) + " ORDER BY certificate_id");
  std::vector<store::TokenKeyRow> out;
  while (st.step()) out.push_back(token_key_row(st));
  return out;
}

bool SqliteTransaction::delete_token_key(std::int64_t certificate_id) {
  auto st = db_.prepare("DELETE FROM token_keys WHERE certificate_id = ? RETURNING certificate_id");
  st.bind(1, certificate_id);
  const bool found = st.step();
  while (found && st.step()) {
  }
  return found;
}

}  // namespace dpgcert::sqlite
