#include "store/sqlite_lifecycle.hpp"

#include "store/sqlite_summary.hpp"

#include <dpgcert/error.hpp>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <map>

namespace dpgcert::sqlite::lifecycle_sql {
namespace {

// The columns after the summary in every tracked-certificate read (kSummaryColumns + 0..7).
constexpr std::string_view kTrackedColumns =
    ", c.issuer, c.serial, o.name, l.effective_not_after, l.stage, l.severity, l.next_due_at";
constexpr int kTrackedColumnCount = kSummaryColumns + 7;

void read_tracked(const Statement& st, TrackedCertificate& t) {
  read_summary(st, t);
  constexpr int k = kSummaryColumns;
  t.issuer = st.text(k);
  t.serial = st.text(k + 1);
  t.organisation_name = st.optional_text(k + 2);
  // A certificate without a lifecycle row (LEFT JOIN) counts with its own notAfter.
  t.effective_not_after = st.is_null(k + 3) ? t.not_after : from_unix(st.integer(k + 3));
  if (const auto stage = st.optional_integer(k + 4)) t.stage = static_cast<int>(*stage);
  const std::int64_t severity = st.optional_integer(k + 5).value_or(0);
  t.severity = severity >= 2 ? Severity::critical : severity == 1 ? Severity::warning : Severity::none;
  if (const auto due = st.optional_integer(k + 6)) t.next_due_at = from_unix(*due);
}

std::int64_t changes(Connection& db) { return sqlite3_changes64(db.handle()); }

std::int64_t to_i64(std::size_t n) { return static_cast<std::int64_t>(n); }

void bump(Connection& db, std::string_view metric, std::string_view label) {
  db.prepare(
        "INSERT INTO lifecycle_counters (metric, label, value) VALUES (?, ?, 1) "
        "ON CONFLICT (metric, label) DO UPDATE SET value = value + 1")
      .bind(1, metric)
      .bind(2, label)
      .run();
}

void add_pending(Connection& db, std::int64_t id, std::string_view kind, std::int64_t at) {
  db.prepare("INSERT OR IGNORE INTO lifecycle_pending (certificate_id, kind, since) VALUES (?, ?, ?)")
      .bind(1, id)
      .bind(2, kind)
      .bind(3, at)
      .run();
}

void drop_pending(Connection& db, std::int64_t id, std::string_view kind) {
  db.prepare("DELETE FROM lifecycle_pending WHERE certificate_id = ? AND kind = ?").bind(1, id).bind(2, kind).run();
}

Statement& bind_optional(Statement& st, int index, const std::optional<int>& v) {
  return v ? st.bind(index, *v) : st.bind_null(index);
}

Statement& bind_optional(Statement& st, int index, const std::optional<Time>& v) {
  return v ? st.bind(index, to_unix(*v)) : st.bind_null(index);
}

bool apply_stage(Connection& db, const LifecycleChange& c) {
  auto st = db.prepare(
      "UPDATE lifecycle SET stage = ?1, severity = ?2, next_due_at = ?3, stage_at = COALESCE(?4, stage_at) "
      "WHERE certificate_id = ?5 AND stage IS ?6 AND next_due_at IS ?7");
  bind_optional(st, 1, c.stage);
  st.bind(2, static_cast<int>(c.severity));
  bind_optional(st, 3, c.next_due_at);
  // The stage is "announced at" the event's time; a re-evaluation without an event keeps it.
  bind_optional(st, 4, c.event ? std::optional<Time>(c.event->created_at) : std::nullopt);
  st.bind(5, c.certificate_id);
  bind_optional(st, 6, c.expected_stage);
  bind_optional(st, 7, c.expected_next_due_at);
  st.run();
  return changes(db) == 1;
}

bool apply_pending(Connection& db, const LifecycleChange& c) {
  if (c.pending_kind != EventKind::renewed && c.pending_kind != EventKind::revoked &&
      c.pending_kind != EventKind::validation_failed) {
    throw Error(ErrorCode::invalid_argument, "store: only renewed, revoked and validation_failed are pending kinds");
  }
  drop_pending(db, c.certificate_id, to_string(c.pending_kind));
  return changes(db) == 1;
}

/// Writes the event and its deliveries; false when its id is in the outbox already.
bool write_event(Connection& db, const OutboxEvent& e) {
  auto st = db.prepare(
      "INSERT OR IGNORE INTO events (id, kind, stage_days, certificate_id, created_at, payload) "
      "VALUES (?, ?, ?, ?, ?, ?)");
  st.bind(1, e.id).bind(2, to_string(e.kind));
  bind_optional(st, 3, e.stage_days);
  st.bind(4, e.certificate_id).bind(5, to_unix(e.created_at)).bind(6, e.payload);
  st.run();
  if (changes(db) != 1) return false;
  const std::int64_t seq = sqlite3_last_insert_rowid(db.handle());
  db.prepare(
        "INSERT INTO deliveries (event_seq, sink_id, state, attempts, next_attempt_at) "
        "SELECT ?, id, 'pending', 0, ? FROM sinks")
      .bind(1, seq)
      .bind(2, to_unix(e.created_at))
      .run();
  bump(db, "emitted", to_string(e.kind));
  return true;
}

OutboxEvent read_event(const Statement& st, int first) {
  OutboxEvent e;
  e.seq = st.integer(first);
  e.id = st.text(first + 1);
  e.kind = parse_event_kind(st.view(first + 2)).value_or(EventKind::expiring);
  if (const auto stage = st.optional_integer(first + 3)) e.stage_days = static_cast<int>(*stage);
  e.certificate_id = st.integer(first + 4);
  e.created_at = from_unix(st.integer(first + 5));
  e.payload = st.text(first + 6);
  return e;
}

RenewalPolicy stored_policy(std::string_view text) {
  try {
    return parse_renewal_policy(text);
  } catch (const Error&) {
    throw Error(ErrorCode::malformed, "store: a stored renewal policy is damaged: '" + std::string(text) + "'");
  }
}

bool valid_sink_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

std::optional<std::int64_t> sink_id(Connection& db, std::string_view name) {
  auto st = db.prepare("SELECT id FROM sinks WHERE name = ?");
  st.bind(1, name);
  if (!st.step()) return std::nullopt;
  return st.integer(0);
}

}  // namespace

// ---- hooks ----------------------------------------------------------------------------------

void on_import(Connection& db, std::int64_t id, std::int64_t effective_not_after, CertificateStatus status,
               bool failed_validation, std::int64_t at) {
  auto st = db.prepare("INSERT INTO lifecycle (certificate_id, effective_not_after, next_due_at) VALUES (?, ?, ?)");
  st.bind(1, id).bind(2, effective_not_after);
  // 0: evaluated at the next check, under whatever policy then applies to it.
  if (status == CertificateStatus::active) {
    st.bind(3, std::int64_t{0});
  } else {
    st.bind_null(3);
  }
  st.run();
  if (status == CertificateStatus::active && failed_validation) add_pending(db, id, "validation_failed", at);
  if (status == CertificateStatus::revoked) add_pending(db, id, "revoked", at);
}

void on_status_change(Connection& db, std::int64_t id, CertificateStatus status, std::int64_t at) {
  if (status == CertificateStatus::active) return;
  db.prepare("UPDATE lifecycle SET next_due_at = NULL, severity = 0 WHERE certificate_id = ?").bind(1, id).run();
  // A failing validation of a certificate no longer in use is no longer news.
  drop_pending(db, id, "validation_failed");
  if (status == CertificateStatus::superseded) add_pending(db, id, "renewed", at);
  if (status == CertificateStatus::revoked) add_pending(db, id, "revoked", at);
}

// ---- policies -------------------------------------------------------------------------------

void set_policy(Connection& db, std::optional<std::int64_t> organisation_id, const std::optional<RenewalPolicy>& policy,
                std::int64_t at, std::string_view who) {
  db.prepare("DELETE FROM renewal_policies WHERE ifnull(organisation_id, 0) = ?")
      .bind(1, organisation_id.value_or(0))
      .run();
  if (policy) {
    auto st = db.prepare(
        "INSERT INTO renewal_policies (organisation_id, thresholds, updated_at, updated_by) VALUES (?, ?, ?, ?)");
    st.bind(1, organisation_id).bind(2, to_string(*policy)).bind(3, at).bind(4, who);
    st.run();
  }
  // Evaluate what the policy governs again at the next check (it keeps every announced stage).
  if (organisation_id) {
    db.prepare(
          "UPDATE lifecycle SET next_due_at = 0 WHERE certificate_id IN "
          "(SELECT id FROM certificates WHERE organisation_id = ? AND status = 'active')")
        .bind(1, *organisation_id)
        .run();
  } else {
    db.prepare(
          "UPDATE lifecycle SET next_due_at = 0 WHERE certificate_id IN "
          "(SELECT id FROM certificates WHERE status = 'active' AND (organisation_id IS NULL OR organisation_id NOT IN "
          "(SELECT organisation_id FROM renewal_policies WHERE organisation_id IS NOT NULL)))")
        .run();
  }
}

std::vector<RenewalPolicyEntry> policies(Connection& db) {
  auto st = db.prepare(
      "SELECT o.cvr, p.thresholds, p.updated_at, p.updated_by FROM renewal_policies p "
      "LEFT JOIN organisations o ON o.id = p.organisation_id ORDER BY p.organisation_id IS NOT NULL, o.cvr");
  std::vector<RenewalPolicyEntry> out;
  while (st.step()) {
    RenewalPolicyEntry e;
    e.cvr = st.optional_text(0);
    e.policy = stored_policy(st.view(1));
    e.updated_at = from_unix(st.integer(2));
    e.updated_by = st.text(3);
    out.push_back(std::move(e));
  }
  return out;
}

// ---- tracking -------------------------------------------------------------------------------

std::vector<TrackedCertificate> tracked(Connection& db, const TrackedQuery& q) {
  if (q.limit == 0 || q.limit > 100000) {
    throw Error(ErrorCode::invalid_argument, "store: a page of tracked certificates is 1 to 100,000 rows");
  }
  std::string sql = std::string(kSummarySelect) + std::string(kTrackedColumns);
  if (q.organisation_cvr) {
    // One organisation: its index (organisation_id, not_after), then the page sorted by id.
    sql += std::string(kSummaryFrom) + " LEFT JOIN lifecycle l ON l.certificate_id = c.id"
           " WHERE c.organisation_id = (SELECT id FROM organisations WHERE cvr = ?3) AND c.id > ?1";
  } else {
    // Everything: walk the table in id order. "+c.status" keeps the planner off the partial
    // expiry index, which would have to be read whole and sorted for every page.
    sql += " FROM certificates c LEFT JOIN lifecycle l ON l.certificate_id = c.id"
           " LEFT JOIN organisations o ON o.id = c.organisation_id LEFT JOIN mailboxes m ON m.id = c.mailbox_id"
           " WHERE c.id > ?1";
  }
  if (q.active_only) sql += " AND +c.status = 'active'";
  sql += " ORDER BY c.id LIMIT ?2";
  auto st = db.prepare(sql);
  st.bind(1, q.after_id).bind(2, to_i64(q.limit));
  if (q.organisation_cvr) st.bind(3, *q.organisation_cvr);
  std::vector<TrackedCertificate> out;
  out.reserve(std::min<std::size_t>(q.limit, 10000));
  while (st.step()) {
    TrackedCertificate t;
    read_tracked(st, t);
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<TrackedCertificate> due(Connection& db, std::int64_t now, std::size_t limit) {
  // A range of the partial index lifecycle_due: nothing due reads one index page.
  auto st = db.prepare(std::string(kSummarySelect) + std::string(kTrackedColumns) +
                       " FROM lifecycle l JOIN certificates c ON c.id = l.certificate_id"
                       " LEFT JOIN organisations o ON o.id = c.organisation_id"
                       " LEFT JOIN mailboxes m ON m.id = c.mailbox_id"
                       " WHERE l.next_due_at <= ?1 ORDER BY l.next_due_at, l.certificate_id LIMIT ?2");
  st.bind(1, now).bind(2, to_i64(limit));
  std::vector<TrackedCertificate> out;
  while (st.step()) {
    TrackedCertificate t;
    read_tracked(st, t);
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<PendingStatusChange> pending(Connection& db, std::size_t limit) {
  auto st = db.prepare(std::string(kSummarySelect) + std::string(kTrackedColumns) +
                       ", p.kind, p.since, s.fingerprint"
                       " FROM lifecycle_pending p JOIN certificates c ON c.id = p.certificate_id"
                       " LEFT JOIN lifecycle l ON l.certificate_id = c.id"
                       " LEFT JOIN organisations o ON o.id = c.organisation_id"
                       " LEFT JOIN mailboxes m ON m.id = c.mailbox_id"
                       " LEFT JOIN certificates s ON s.id = c.superseded_by"
                       " ORDER BY p.since, p.certificate_id, p.kind LIMIT ?");
  st.bind(1, to_i64(limit));
  std::vector<PendingStatusChange> out;
  while (st.step()) {
    PendingStatusChange p;
    read_tracked(st, p.certificate);
    const auto kind = parse_event_kind(st.view(kTrackedColumnCount));
    if (!kind) throw Error(ErrorCode::malformed, "store: unknown pending status change '" + st.text(kTrackedColumnCount) + "'");
    p.kind = *kind;
    p.since = from_unix(st.integer(kTrackedColumnCount + 1));
    p.superseded_by = st.optional_text(kTrackedColumnCount + 2);
    out.push_back(std::move(p));
  }
  return out;
}

LifecycleCommitResult commit(Connection& db, std::span<const LifecycleChange> changes_) {
  LifecycleCommitResult r;
  for (std::size_t i = 0; i < changes_.size(); ++i) {
    const LifecycleChange& c = changes_[i];
    const bool applied = c.cause == LifecycleChange::Cause::stage ? apply_stage(db, c) : apply_pending(db, c);
    if (!applied) {
      ++r.skipped;
      continue;
    }
    ++r.applied;
    if (c.event && write_event(db, *c.event)) r.emitted.push_back(i);
  }
  return r;
}

SeverityCounts severity_counts(Connection& db) {
  auto st = db.prepare("SELECT severity, count(*) FROM lifecycle WHERE severity > 0 GROUP BY severity");
  SeverityCounts out;
  while (st.step()) {
    const auto n = static_cast<std::size_t>(st.integer(1));
    if (st.integer(0) >= 2) {
      out.critical += n;
    } else {
      out.warning += n;
    }
  }
  return out;
}

std::vector<OutboxEvent> events(Connection& db, std::int64_t after_seq, std::size_t limit) {
  auto st = db.prepare(
      "SELECT seq, id, kind, stage_days, certificate_id, created_at, payload FROM events WHERE seq > ? "
      "ORDER BY seq LIMIT ?");
  st.bind(1, after_seq).bind(2, limit == 0 ? std::int64_t{-1} : to_i64(limit));
  std::vector<OutboxEvent> out;
  while (st.step()) out.push_back(read_event(st, 0));
  return out;
}

// ---- sinks and deliveries -------------------------------------------------------------------

void check_sink(const SinkConfig& sink) {
  if (!valid_sink_name(sink.name)) {
    throw Error(ErrorCode::invalid_argument,
                "store: a sink name is 1 to 64 of A-Z, a-z, 0-9, '.', '_', '-', not '" + sink.name + "'");
  }
  const bool kind_ok = !sink.kind.empty() && sink.kind.size() <= 32 &&
                       std::all_of(sink.kind.begin(), sink.kind.end(), [](char c) {
                         return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                       });
  if (!kind_ok) {
    throw Error(ErrorCode::invalid_argument, "store: a sink kind is 1 to 32 of a-z, 0-9, '_', not '" + sink.kind + "'");
  }
  const nlohmann::json settings = nlohmann::json::parse(sink.settings, nullptr, false);
  if (settings.is_discarded() || !settings.is_object()) {
    throw Error(ErrorCode::invalid_argument, "store: the settings of sink '" + sink.name + "' are not a JSON object");
  }
}

SinkConfig add_sink(Connection& db, const SinkConfig& sink, std::int64_t at, std::string_view who) {
  if (sink_id(db, sink.name)) throw Error(ErrorCode::conflict, "store: a sink named '" + sink.name + "' exists");
  // Stored compact, whatever spacing the caller used.
  const std::string settings = nlohmann::json::parse(sink.settings).dump();
  db.prepare("INSERT INTO sinks (name, kind, settings, created_at, created_by) VALUES (?, ?, ?, ?, ?)")
      .bind(1, sink.name)
      .bind(2, sink.kind)
      .bind(3, settings)
      .bind(4, at)
      .bind(5, who)
      .run();
  SinkConfig out = sink;
  out.settings = settings;
  out.created_at = from_unix(at);
  out.created_by = std::string(who);
  return out;
}

void remove_sink(Connection& db, std::string_view name) {
  // Its deliveries go with it (ON DELETE CASCADE); its counters stay (counters only grow).
  db.prepare("DELETE FROM sinks WHERE name = ?").bind(1, name).run();
  if (changes(db) == 0) throw Error(ErrorCode::not_found, "store: no sink named '" + std::string(name) + "'");
}

std::vector<SinkConfig> sinks(Connection& db) {
  auto st = db.prepare("SELECT name, kind, settings, created_at, created_by FROM sinks ORDER BY name");
  std::vector<SinkConfig> out;
  while (st.step()) {
    SinkConfig s;
    s.name = st.text(0);
    s.kind = st.text(1);  // a kind this build does not know is the lifecycle's to report
    s.settings = st.text(2);
    s.created_at = from_unix(st.integer(3));
    s.created_by = st.text(4);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<Delivery> claim(Connection& db, std::int64_t now, std::int64_t lease_seconds,
                            std::span<const std::string> sink_names, std::size_t limit) {
  std::string sql =
      "SELECT d.event_seq, d.sink_id, s.name, d.attempts, e.seq, e.id, e.kind, e.stage_days, e.certificate_id, "
      "e.created_at, e.payload FROM deliveries d JOIN sinks s ON s.id = d.sink_id JOIN events e ON e.seq = d.event_seq "
      "WHERE d.state = 'pending' AND d.next_attempt_at <= ?1";
  if (!sink_names.empty()) {
    sql += " AND s.name IN (";
    // Numbered: an anonymous '?' here would take number 2, LIMIT's.
    for (std::size_t i = 0; i < sink_names.size(); ++i) sql += (i == 0 ? "?" : ", ?") + std::to_string(i + 3);
    sql += ")";
  }
  sql += " ORDER BY d.next_attempt_at, d.event_seq, s.name LIMIT ?2";
  struct Claimed {
    std::int64_t sink_id;
    Delivery delivery;
  };
  std::vector<Claimed> claimed;
  {
    auto st = db.prepare(sql);
    st.bind(1, now).bind(2, to_i64(limit));
    for (std::size_t i = 0; i < sink_names.size(); ++i) st.bind(static_cast<int>(i) + 3, sink_names[i]);
    while (st.step()) {
      Claimed c;
      c.sink_id = st.integer(1);
      c.delivery.sink = st.text(2);
      c.delivery.attempts = static_cast<int>(st.integer(3)) + 1;
      c.delivery.event = read_event(st, 4);
      claimed.push_back(std::move(c));
    }
  }
  std::vector<Delivery> out;
  out.reserve(claimed.size());
  for (Claimed& c : claimed) {
    db.prepare(
          "UPDATE deliveries SET attempts = attempts + 1, last_attempt_at = ?1, next_attempt_at = ?2 "
          "WHERE event_seq = ?3 AND sink_id = ?4")
        .bind(1, now)
        .bind(2, now + lease_seconds)
        .bind(3, c.delivery.event.seq)
        .bind(4, c.sink_id)
        .run();
    out.push_back(std::move(c.delivery));
  }
  return out;
}

void settle(Connection& db, std::span<const DeliveryOutcome> outcomes, std::int64_t now) {
  std::map<std::string, std::optional<std::int64_t>, std::less<>> ids;
  for (const DeliveryOutcome& o : outcomes) {
    auto it = ids.find(o.sink);
    if (it == ids.end()) it = ids.emplace(o.sink, sink_id(db, o.sink)).first;
    if (!it->second) continue;  // removed meanwhile: its deliveries went with it
    if (o.delivered) {
      db.prepare(
            "UPDATE deliveries SET state = 'delivered', delivered_at = ?1, next_attempt_at = NULL, last_error = NULL "
            "WHERE event_seq = ?2 AND sink_id = ?3 AND state = 'pending'")
          .bind(1, now)
          .bind(2, o.event_seq)
          .bind(3, *it->second)
          .run();
    } else {
      db.prepare(
            "UPDATE deliveries SET next_attempt_at = ?1, last_error = ?2 "
            "WHERE event_seq = ?3 AND sink_id = ?4 AND state = 'pending'")
          .bind(1, to_unix(o.retry_at))
          .bind(2, o.error.substr(0, 1000))
          .bind(3, o.event_seq)
          .bind(4, *it->second)
          .run();
    }
    if (changes(db) == 1) bump(db, o.delivered ? "delivered" : "failed", o.sink);
  }
}

std::vector<SinkStats> sink_stats(Connection& db) {
  auto st = db.prepare(
      "SELECT s.name,"
      " (SELECT count(*) FROM deliveries d WHERE d.sink_id = s.id AND d.state = 'pending'),"
      " (SELECT count(*) FROM deliveries d WHERE d.sink_id = s.id AND d.state = 'delivered'),"
      " (SELECT min(next_attempt_at) FROM deliveries d WHERE d.sink_id = s.id AND d.state = 'pending'),"
      " (SELECT last_error FROM deliveries d WHERE d.sink_id = s.id AND d.state = 'pending'"
      "  AND d.last_error IS NOT NULL ORDER BY d.last_attempt_at DESC LIMIT 1)"
      " FROM sinks s ORDER BY s.name");
  std::vector<SinkStats> out;
  while (st.step()) {
    SinkStats s;
    s.sink = st.text(0);
    s.pending = static_cast<std::size_t>(st.integer(1));
    s.delivered = static_cast<std::size_t>(st.integer(2));
    if (const auto next = st.optional_integer(3)) s.next_attempt_at = from_unix(*next);
    s.last_error = st.optional_text(4);
    out.push_back(std::move(s));
  }
  return out;
}

LifecycleCounters counters(Connection& db) {
  auto st = db.prepare("SELECT metric, label, value FROM lifecycle_counters ORDER BY metric, label");
  LifecycleCounters out;
  while (st.step()) {
    const std::string_view metric = st.view(0);
    auto entry = std::make_pair(st.text(1), static_cast<std::uint64_t>(st.integer(2)));
    if (metric == "emitted") {
      out.emitted.push_back(std::move(entry));
    } else if (metric == "delivered") {
      out.delivered.push_back(std::move(entry));
    } else if (metric == "failed") {
      out.failed.push_back(std::move(entry));
    }
  }
  return out;
}

// ---- integrity ------------------------------------------------------------------------------

void check(Connection& db, std::vector<std::string>& problems) {
  {
    auto st = db.prepare(
        "SELECT fingerprint FROM certificates c WHERE NOT EXISTS "
        "(SELECT 1 FROM lifecycle l WHERE l.certificate_id = c.id) LIMIT 100");
    while (st.step()) problems.push_back("certificate " + st.text(0) + " has no lifecycle row");
  }
  {
    // An active certificate always has a next threshold, unless its last one was announced.
    auto st = db.prepare(
        "SELECT c.fingerprint FROM certificates c JOIN lifecycle l ON l.certificate_id = c.id "
        "WHERE c.status = 'active' AND l.next_due_at IS NULL AND l.stage IS NULL LIMIT 100");
    while (st.step()) problems.push_back("active certificate " + st.text(0) + " is not tracked for expiry");
  }
  {
    auto st = db.prepare(
        "SELECT c.fingerprint FROM lifecycle l JOIN certificates c ON c.id = l.certificate_id "
        "WHERE l.next_due_at IS NOT NULL AND c.status <> 'active' LIMIT 100");
    while (st.step()) problems.push_back("certificate " + st.text(0) + " is tracked for expiry but not active");
  }
}

}  // namespace dpgcert::sqlite::lifecycle_sql
