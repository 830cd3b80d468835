// The SQLite backend's rows of the lifecycle layer (tables of migration 3): renewal policies as
// text, tracking rows, pending status changes, the outbox with one delivery per sink, sinks and
// counters. Their meaning belongs to the lifecycle layer; here they are strings and integers.
#include "store/sqlite/sqlite_backend.hpp"
#include "store/sqlite/sqlite_summary.hpp"

#include <dpgcert/error.hpp>

#include <sqlite3.h>

#include <algorithm>

namespace dpgcert::sqlite {
namespace {

// The columns after the summary in every tracked-certificate read (kSummaryColumns + 0..6).
constexpr std::string_view kTrackedColumns =
    ", c.issuer, c.serial, o.name, l.effective_not_after, l.stage, l.severity, l.next_due_at";
constexpr int kTrackedColumnCount = kSummaryColumns + 7;

void read_tracked(const Statement& st, store::TrackedRow& t) {
  read_summary(st, t);
  constexpr int k = kSummaryColumns;
  t.issuer = st.text(k);
  t.serial = st.text(k + 1);
  t.organisation_name = st.optional_text(k + 2);
  if (const auto e = st.optional_integer(k + 3)) t.effective_not_after = from_unix(*e);
  t.stage = st.optional_integer(k + 4);
  t.severity = st.optional_integer(k + 5).value_or(0);
  if (const auto due = st.optional_integer(k + 6)) t.next_due_at = from_unix(*due);
}

std::int64_t changes(Connection& db) { return sqlite3_changes64(db.handle()); }

std::int64_t to_i64(std::size_t n) { return static_cast<std::int64_t>(n); }

Statement& bind_optional(Statement& st, int index, const std::optional<std::int64_t>& v) {
  return v ? st.bind(index, *v) : st.bind_null(index);
}

Statement& bind_optional(Statement& st, int index, const std::optional<Time>& v) {
  return v ? st.bind(index, to_unix(*v)) : st.bind_null(index);
}

store::EventRow read_event(const Statement& st, int first) {
  store::EventRow e;
  e.seq = st.integer(first);
  e.id = st.text(first + 1);
  e.kind = st.text(first + 2);
  e.stage_days = st.optional_integer(first + 3);
  e.certificate_id = st.integer(first + 4);
  e.created_at = from_unix(st.integer(first + 5));
  e.payload = st.text(first + 6);
  return e;
}

}  // namespace

// ---- tracking rows and pending changes ------------------------------------------------------

void SqliteTransaction::insert_tracking(std::int64_t certificate_id, Time effective_not_after,
                                        std::optional<Time> next_due_at) {
  auto st = db_.prepare("INSERT INTO lifecycle (certificate_id, effective_not_after, next_due_at) VALUES (?, ?, ?)");
  st.bind(1, certificate_id).bind(2, to_unix(effective_not_after));
  bind_optional(st, 3, next_due_at);
  st.run();
}

void SqliteTransaction::stop_tracking(std::int64_t certificate_id) {
  db_.prepare("UPDATE lifecycle SET next_due_at = NULL, severity = 0 WHERE certificate_id = ?")
      .bind(1, certificate_id)
      .run();
}

void SqliteTransaction::add_pending(std::int64_t certificate_id, std::string_view kind, Time since) {
  db_.prepare("INSERT OR IGNORE INTO lifecycle_pending (certificate_id, kind, since) VALUES (?, ?, ?)")
      .bind(1, certificate_id)
      .bind(2, kind)
      .bind(3, to_unix(since))
      .run();
}

bool SqliteTransaction::drop_pending(std::int64_t certificate_id, std::string_view kind) {
  db_.prepare("DELETE FROM lifecycle_pending WHERE certificate_id = ? AND kind = ?")
      .bind(1, certificate_id)
      .bind(2, kind)
      .run();
  return changes(db_) == 1;
}

// ---- policies -------------------------------------------------------------------------------

void SqliteTransaction::replace_policy(std::optional<std::int64_t> organisation_id,
                                       const std::optional<std::string>& thresholds, Time at, std::string_view who) {
  db_.prepare("DELETE FROM renewal_policies WHERE ifnull(organisation_id, 0) = ?")
      .bind(1, organisation_id.value_or(0))
      .run();
  if (thresholds) {
    auto st = db_.prepare(
        "INSERT INTO renewal_policies (organisation_id, thresholds, updated_at, updated_by) VALUES (?, ?, ?, ?)");
    st.bind(1, organisation_id).bind(2, *thresholds).bind(3, to_unix(at)).bind(4, who);
    st.run();
  }
}

void SqliteTransaction::reevaluate_policy_scope(std::optional<std::int64_t> organisation_id) {
  if (organisation_id) {
    db_.prepare(
           "UPDATE lifecycle SET next_due_at = 0 WHERE certificate_id IN "
           "(SELECT id FROM certificates WHERE organisation_id = ? AND status = 'active')")
        .bind(1, *organisation_id)
        .run();
  } else {
    db_.prepare(
           "UPDATE lifecycle SET next_due_at = 0 WHERE certificate_id IN "
           "(SELECT id FROM certificates WHERE status = 'active' AND (organisation_id IS NULL OR organisation_id NOT IN "
           "(SELECT organisation_id FROM renewal_policies WHERE organisation_id IS NOT NULL)))")
        .run();
  }
}

std::vector<store::PolicyRow> SqliteTransaction::policies() {
  auto st = db_.prepare(
      "SELECT o.cvr, p.thresholds, p.updated_at, p.updated_by FROM renewal_policies p "
      "LEFT JOIN organisations o ON o.id = p.organisation_id ORDER BY p.organisation_id IS NOT NULL, o.cvr");
  std::vector<store::PolicyRow> out;
  while (st.step()) out.push_back({st.optional_text(0), st.text(1), from_unix(st.integer(2)), st.text(3)});
  return out;
}

// ---- tracking -------------------------------------------------------------------------------

std::vector<store::TrackedRow> SqliteTransaction::tracked(const store::TrackedFilter& q) {
  std::string sql = std::string(kSummarySelect) + std::string(kTrackedColumns);
  if (q.organisation_cvr) {
    // One organisation: its index (organisation_id, not_after), then the page sorted by id.
    sql += std::string(kSummaryFrom) +
           " LEFT JOIN lifecycle l ON l.certificate_id = c.id"
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
  auto st = db_.prepare(sql);
  st.bind(1, q.after_id).bind(2, to_i64(q.limit));
  if (q.organisation_cvr) st.bind(3, *q.organisation_cvr);
  std::vector<store::TrackedRow> out;
  out.reserve(std::min<std::size_t>(q.limit, 10000));
  while (st.step()) {
    store::TrackedRow t;
    read_tracked(st, t);
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<store::TrackedRow> SqliteTransaction::due(Time now, std::size_t limit) {
  // A range of the partial index lifecycle_due: nothing due reads one index page.
  auto st = db_.prepare(std::string(kSummarySelect) + std::string(kTrackedColumns) +
                        " FROM lifecycle l JOIN certificates c ON c.id = l.certificate_id"
                        " LEFT JOIN organisations o ON o.id = c.organisation_id"
                        " LEFT JOIN mailboxes m ON m.id = c.mailbox_id"
                        " WHERE l.next_due_at <= ?1 ORDER BY l.next_due_at, l.certificate_id LIMIT ?2");
  st.bind(1, to_unix(now)).bind(2, to_i64(limit));
  std::vector<store::TrackedRow> out;
  while (st.step()) {
    store::TrackedRow t;
    read_tracked(st, t);
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<store::PendingRow> SqliteTransaction::pending(std::size_t limit) {
  auto st = db_.prepare(std::string(kSummarySelect) + std::string(kTrackedColumns) +
                        ", p.kind, p.since, s.fingerprint"
                        " FROM lifecycle_pending p JOIN certificates c ON c.id = p.certificate_id"
                        " LEFT JOIN lifecycle l ON l.certificate_id = c.id"
                        " LEFT JOIN organisations o ON o.id = c.organisation_id"
                        " LEFT JOIN mailboxes m ON m.id = c.mailbox_id"
                        " LEFT JOIN certificates s ON s.id = c.superseded_by"
                        " ORDER BY p.since, p.certificate_id, p.kind LIMIT ?");
  st.bind(1, to_i64(limit));
  std::vector<store::PendingRow> out;
  while (st.step()) {
    store::PendingRow p;
    read_tracked(st, p.certificate);
    p.kind = st.text(kTrackedColumnCount);
    p.since = from_unix(st.integer(kTrackedColumnCount + 1));
    p.superseded_by = st.optional_text(kTrackedColumnCount + 2);
    out.push_back(std::move(p));
  }
  return out;
}

bool SqliteTransaction::apply_stage(const store::StageUpdate& c) {
  auto st = db_.prepare(
      "UPDATE lifecycle SET stage = ?1, severity = ?2, next_due_at = ?3, stage_at = COALESCE(?4, stage_at) "
      "WHERE certificate_id = ?5 AND stage IS ?6 AND next_due_at IS ?7");
  bind_optional(st, 1, c.stage);
  st.bind(2, c.severity);
  bind_optional(st, 3, c.next_due_at);
  bind_optional(st, 4, c.stage_at);
  st.bind(5, c.certificate_id);
  bind_optional(st, 6, c.expected_stage);
  bind_optional(st, 7, c.expected_next_due_at);
  st.run();
  return changes(db_) == 1;
}

bool SqliteTransaction::insert_event(const store::EventRow& e) {
  auto st = db_.prepare(
      "INSERT OR IGNORE INTO events (id, kind, stage_days, certificate_id, created_at, payload) "
      "VALUES (?, ?, ?, ?, ?, ?)");
  st.bind(1, e.id).bind(2, e.kind);
  bind_optional(st, 3, e.stage_days);
  st.bind(4, e.certificate_id).bind(5, to_unix(e.created_at)).bind(6, e.payload);
  st.run();
  if (changes(db_) != 1) return false;
  const std::int64_t seq = sqlite3_last_insert_rowid(db_.handle());
  db_.prepare(
         "INSERT INTO deliveries (event_seq, sink_id, state, attempts, next_attempt_at) "
         "SELECT ?, id, 'pending', 0, ? FROM sinks")
      .bind(1, seq)
      .bind(2, to_unix(e.created_at))
      .run();
  return true;
}

std::vector<std::pair<std::int64_t, std::size_t>> SqliteTransaction::severity_counts() {
  auto st = db_.prepare("SELECT severity, count(*) FROM lifecycle WHERE severity > 0 GROUP BY severity");
  std::vector<std::pair<std::int64_t, std::size_t>> out;
  while (st.step()) out.emplace_back(st.integer(0), static_cast<std::size_t>(st.integer(1)));
  return out;
}

std::vector<store::EventRow> SqliteTransaction::events(std::int64_t after_seq, std::size_t limit) {
  auto st = db_.prepare(
      "SELECT seq, id, kind, stage_days, certificate_id, created_at, payload FROM events WHERE seq > ? "
      "ORDER BY seq LIMIT ?");
  st.bind(1, after_seq).bind(2, limit == 0 ? std::int64_t{-1} : to_i64(limit));
  std::vector<store::EventRow> out;
  while (st.step()) out.push_back(read_event(st, 0));
  return out;
}

// ---- sinks and deliveries -------------------------------------------------------------------

std::optional<std::int64_t> SqliteTransaction::sink_id(std::string_view name) {
  auto st = db_.prepare("SELECT id FROM sinks WHERE name = ?");
  st.bind(1, name);
  if (!st.step()) return std::nullopt;
  return st.integer(0);
}

void SqliteTransaction::insert_sink(const store::SinkRow& sink) {
  db_.prepare("INSERT INTO sinks (name, kind, settings, created_at, created_by) VALUES (?, ?, ?, ?, ?)")
      .bind(1, sink.name)
      .bind(2, sink.kind)
      .bind(3, sink.settings)
      .bind(4, to_unix(sink.created_at))
      .bind(5, sink.created_by)
      .run();
}

bool SqliteTransaction::delete_sink(std::string_view name) {
  // Its deliveries go with it (ON DELETE CASCADE); its counters stay (counters only grow).
  db_.prepare("DELETE FROM sinks WHERE name = ?").bind(1, name).run();
  return changes(db_) != 0;
}

std::vector<store::SinkRow> SqliteTransaction::sinks() {
  auto st = db_.prepare("SELECT name, kind, settings, created_at, created_by FROM sinks ORDER BY name");
  std::vector<store::SinkRow> out;
  while (st.step()) out.push_back({st.text(0), st.text(1), st.text(2), from_unix(st.integer(3)), st.text(4)});
  return out;
}

std::vector<store::DeliveryRow> SqliteTransaction::claim(Time now, Time lease_until,
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
    store::DeliveryRow delivery;
  };
  std::vector<Claimed> claimed;
  {
    auto st = db_.prepare(sql);
    st.bind(1, to_unix(now)).bind(2, to_i64(limit));
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
  std::vector<store::DeliveryRow> out;
  out.reserve(claimed.size());
  for (Claimed& c : claimed) {
    db_.prepare(
           "UPDATE deliveries SET attempts = attempts + 1, last_attempt_at = ?1, next_attempt_at = ?2 "
           "WHERE event_seq = ?3 AND sink_id = ?4")
        .bind(1, to_unix(now))
        .bind(2, to_unix(lease_until))
        .bind(3, c.delivery.event.seq)
        .bind(4, c.sink_id)
        .run();
    out.push_back(std::move(c.delivery));
  }
  return out;
}

bool SqliteTransaction::settle_delivered(std::int64_t event_seq, std::int64_t sink, Time at) {
  db_.prepare(
         "UPDATE deliveries SET state = 'delivered', delivered_at = ?1, next_attempt_at = NULL, last_error = NULL "
         "WHERE event_seq = ?2 AND sink_id = ?3 AND state = 'pending'")
      .bind(1, to_unix(at))
      .bind(2, event_seq)
      .bind(3, sink)
      .run();
  return changes(db_) == 1;
}

bool SqliteTransaction::settle_failed(std::int64_t event_seq, std::int64_t sink, std::optional<Time> retry_at,
                                      std::string_view error) {
  db_.prepare(
         "UPDATE deliveries SET next_attempt_at = ?1, last_error = ?2 "
         "WHERE event_seq = ?3 AND sink_id = ?4 AND state = 'pending'")
      .bind(1, retry_at ? std::optional<std::int64_t>(to_unix(*retry_at)) : std::nullopt)
      .bind(2, error)
      .bind(3, event_seq)
      .bind(4, sink)
      .run();
  return changes(db_) == 1;
}

std::size_t SqliteTransaction::queue_backlog(std::int64_t sink) {
  db_.prepare(
         "INSERT INTO deliveries (event_seq, sink_id, state, attempts, next_attempt_at) "
         "SELECT e.seq, ?1, 'pending', 0, e.created_at FROM events e "
         "WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq)")
      .bind(1, sink)
      .run();
  return static_cast<std::size_t>(changes(db_));
}

std::size_t SqliteTransaction::backlog_size() {
  auto st = db_.prepare(
      "SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq)");
  return st.step() ? static_cast<std::size_t>(st.integer(0)) : 0;
}

std::size_t SqliteTransaction::prune_delivered(Time before, std::size_t limit) {
  // Walks the events oldest first (the rowid) only up to the first one not old enough (events are
  // numbered in the order they were written, so the rest are younger: an everyday check with
  // nothing to prune reads a row or two, not the outbox), stops after `limit` matches; the
  // deliveries go by the foreign key's ON DELETE CASCADE.
  db_.prepare(
         "DELETE FROM events WHERE seq IN (SELECT e.seq FROM events e WHERE e.created_at < ?1"
         " AND e.seq < COALESCE((SELECT n.seq FROM events n WHERE n.created_at >= ?1 ORDER BY n.seq LIMIT 1),"
         " 9223372036854775807)"
         " AND EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq)"
         " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.state <> 'delivered')"
         " ORDER BY e.seq LIMIT ?2)")
      .bind(1, to_unix(before))
      .bind(2, static_cast<std::int64_t>(limit))
      .run();
  return static_cast<std::size_t>(changes(db_));
}

void SqliteTransaction::bump_counter(std::string_view metric, std::string_view label) {
  db_.prepare(
         "INSERT INTO lifecycle_counters (metric, label, value) VALUES (?, ?, 1) "
         "ON CONFLICT (metric, label) DO UPDATE SET value = value + 1")
      .bind(1, metric)
      .bind(2, label)
      .run();
}

std::vector<store::SinkStatsRow> SqliteTransaction::sink_stats() {
  auto st = db_.prepare(
      "SELECT s.name,"
      " (SELECT count(*) FROM deliveries d WHERE d.sink_id = s.id AND d.state = 'pending'),"
      " (SELECT count(*) FROM deliveries d WHERE d.sink_id = s.id AND d.state = 'delivered'),"
      " (SELECT min(next_attempt_at) FROM deliveries d WHERE d.sink_id = s.id AND d.state = 'pending'),"
      " (SELECT last_error FROM deliveries d WHERE d.sink_id = s.id AND d.state = 'pending'"
      "  AND d.last_error IS NOT NULL ORDER BY d.last_attempt_at DESC LIMIT 1)"
      " FROM sinks s ORDER BY s.name");
  std::vector<store::SinkStatsRow> out;
  while (st.step()) {
    store::SinkStatsRow s;
    s.sink = st.text(0);
    s.pending = static_cast<std::size_t>(st.integer(1));
    s.delivered = static_cast<std::size_t>(st.integer(2));
    if (const auto next = st.optional_integer(3)) s.next_attempt_at = from_unix(*next);
    s.last_error = st.optional_text(4);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<store::CounterRow> SqliteTransaction::counters() {
  auto st = db_.prepare("SELECT metric, label, value FROM lifecycle_counters ORDER BY metric, label");
  std::vector<store::CounterRow> out;
  while (st.step()) out.push_back({st.text(0), st.text(1), static_cast<std::uint64_t>(st.integer(2))});
  return out;
}

// ---- integrity ------------------------------------------------------------------------------

void SqliteTransaction::tracking_problems(std::vector<std::string>& problems) {
  {
    auto st = db_.prepare(
        "SELECT fingerprint FROM certificates c WHERE NOT EXISTS "
        "(SELECT 1 FROM lifecycle l WHERE l.certificate_id = c.id) LIMIT 100");
    while (st.step()) problems.push_back("certificate " + st.text(0) + " has no lifecycle row");
  }
  {
    // An active certificate always has a next threshold, unless its last one was announced.
    auto st = db_.prepare(
        "SELECT c.fingerprint FROM certificates c JOIN lifecycle l ON l.certificate_id = c.id "
        "WHERE c.status = 'active' AND l.next_due_at IS NULL AND l.stage IS NULL LIMIT 100");
    while (st.step()) problems.push_back("active certificate " + st.text(0) + " is not tracked for expiry");
  }
  auto st = db_.prepare(
      "SELECT c.fingerprint FROM lifecycle l JOIN certificates c ON c.id = l.certificate_id "
      "WHERE l.next_due_at IS NOT NULL AND c.status <> 'active' LIMIT 100");
  while (st.step()) problems.push_back("certificate " + st.text(0) + " is tracked for expiry but not active");
}

}  // namespace dpgcert::sqlite
