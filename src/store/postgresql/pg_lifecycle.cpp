// The PostgreSQL backend's rows of the lifecycle layer: renewal policies as text, tracking rows,
// pending status changes, the outbox with one delivery per sink (claimed with FOR UPDATE SKIP
// LOCKED, so any number of nodes drain it, each delivery claimed once), sinks and counters.
#include "store/postgresql/pg_backend.hpp"
#include "store/postgresql/pg_summary.hpp"

#include <dpgcert/error.hpp>

#include <algorithm>

namespace dpgcert::postgresql {
namespace {

constexpr std::string_view kTrackedColumns =
    ", c.issuer, c.serial, o.name, l.effective_not_after, l.stage, l.severity, l.next_due_at";
constexpr int kTrackedColumnCount = kSummaryColumns + 7;

void read_tracked(const Result& r, int i, store::TrackedRow& t) {
  read_summary(r, i, t);
  constexpr int k = kSummaryColumns;
  t.issuer = r.text(i, k);
  t.serial = r.text(i, k + 1);
  t.organisation_name = r.optional_text(i, k + 2);
  if (const auto e = r.optional_integer(i, k + 3)) t.effective_not_after = from_unix(*e);
  t.stage = r.optional_integer(i, k + 4);
  t.severity = r.optional_integer(i, k + 5).value_or(0);
  if (const auto due = r.optional_integer(i, k + 6)) t.next_due_at = from_unix(*due);
}

std::vector<store::TrackedRow> tracked_rows(const Result& r) {
  std::vector<store::TrackedRow> out(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) read_tracked(r, i, out[static_cast<std::size_t>(i)]);
  return out;
}

std::optional<std::int64_t> unix_or_null(const std::optional<Time>& t) {
  if (!t) return std::nullopt;
  return to_unix(*t);
}

store::EventRow read_event(const Result& r, int i, int first) {
  store::EventRow e;
  e.seq = r.integer(i, first);
  e.id = r.text(i, first + 1);
  e.kind = r.text(i, first + 2);
  e.stage_days = r.optional_integer(i, first + 3);
  e.certificate_id = r.integer(i, first + 4);
  e.created_at = from_unix(r.integer(i, first + 5));
  e.payload = r.text(i, first + 6);
  return e;
}

}  // namespace

// ---- tracking rows and pending changes ------------------------------------------------------

void PgTransaction::insert_tracking(std::int64_t certificate_id, Time effective_not_after, std::optional<Time> next_due_at) {
  w("INSERT INTO lifecycle (certificate_id, effective_not_after, next_due_at) VALUES ($1, $2, $3)", certificate_id,
    to_unix(effective_not_after), unix_or_null(next_due_at));
}

void PgTransaction::stop_tracking(std::int64_t certificate_id) {
  w("UPDATE lifecycle SET next_due_at = NULL, severity = 0 WHERE certificate_id = $1", certificate_id);
}

void PgTransaction::add_pending(std::int64_t certificate_id, std::string_view kind, Time since) {
  w("INSERT INTO lifecycle_pending (certificate_id, kind, since) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    certificate_id, kind, to_unix(since));
}

bool PgTransaction::drop_pending(std::int64_t certificate_id, std::string_view kind) {
  return q("DELETE FROM lifecycle_pending WHERE certificate_id = $1 AND kind = $2", certificate_id, kind).affected() == 1;
}

// ---- policies -------------------------------------------------------------------------------

void PgTransaction::replace_policy(std::optional<std::int64_t> organisation_id,
                                   const std::optional<std::string>& thresholds, Time at, std::string_view who) {
  w("DELETE FROM renewal_policies WHERE COALESCE(organisation_id, 0) = $1", organisation_id.value_or(0));
  if (thresholds) {
    w("INSERT INTO renewal_policies (organisation_id, thresholds, updated_at, updated_by) VALUES ($1, $2, $3, $4)",
      organisation_id, *thresholds, to_unix(at), who);
  }
}

void PgTransaction::reevaluate_policy_scope(std::optional<std::int64_t> organisation_id) {
  if (organisation_id) {
    w("UPDATE lifecycle SET next_due_at = 0 WHERE certificate_id IN "
      "(SELECT id FROM certificates WHERE organisation_id = $1 AND status = 'active')",
      *organisation_id);
  } else {
    w("UPDATE lifecycle SET next_due_at = 0 WHERE certificate_id IN "
      "(SELECT id FROM certificates WHERE status = 'active' AND (organisation_id IS NULL OR organisation_id NOT IN "
      "(SELECT organisation_id FROM renewal_policies WHERE organisation_id IS NOT NULL)))");
  }
}

std::vector<store::PolicyRow> PgTransaction::policies() {
  const Result r = q(
      "SELECT o.cvr, p.thresholds, p.updated_at, p.updated_by FROM renewal_policies p "
      "LEFT JOIN organisations o ON o.id = p.organisation_id ORDER BY p.organisation_id IS NOT NULL, o.cvr");
  std::vector<store::PolicyRow> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({r.optional_text(i, 0), r.text(i, 1), from_unix(r.integer(i, 2)), r.text(i, 3)});
  }
  return out;
}

// ---- tracking -------------------------------------------------------------------------------

std::vector<store::TrackedRow> PgTransaction::tracked(const store::TrackedFilter& f) {
  std::string sql = std::string(kSummarySelect) + std::string(kTrackedColumns) + std::string(kSummaryFrom) +
                    " LEFT JOIN lifecycle l ON l.certificate_id = c.id WHERE c.id > $1";
  if (f.organisation_cvr) sql += " AND c.organisation_id = (SELECT id FROM organisations WHERE cvr = $3)";
  if (f.active_only) sql += " AND c.status = 'active'";
  sql += " ORDER BY c.id LIMIT $2";
  return tracked_rows(f.organisation_cvr ? q(sql, f.after_id, to_i64(f.limit), *f.organisation_cvr)
                                         : q(sql, f.after_id, to_i64(f.limit)));
}

std::vector<store::TrackedRow> PgTransaction::due(Time now, std::size_t limit) {
  return tracked_rows(q(std::string(kSummarySelect) + std::string(kTrackedColumns) +
                            " FROM lifecycle l JOIN certificates c ON c.id = l.certificate_id"
                            " LEFT JOIN organisations o ON o.id = c.organisation_id"
                            " LEFT JOIN mailboxes m ON m.id = c.mailbox_id"
                            " WHERE l.next_due_at <= $1 ORDER BY l.next_due_at, l.certificate_id LIMIT $2",
                        to_unix(now), to_i64(limit)));
}

std::vector<store::PendingRow> PgTransaction::pending(std::size_t limit) {
  const Result r = q(std::string(kSummarySelect) + std::string(kTrackedColumns) +
                         ", p.kind, p.since, s.fingerprint"
                         " FROM lifecycle_pending p JOIN certificates c ON c.id = p.certificate_id"
                         " LEFT JOIN lifecycle l ON l.certificate_id = c.id"
                         " LEFT JOIN organisations o ON o.id = c.organisation_id"
                         " LEFT JOIN mailboxes m ON m.id = c.mailbox_id"
                         " LEFT JOIN certificates s ON s.id = c.superseded_by"
                         " ORDER BY p.since, p.certificate_id, p.kind LIMIT $1",
                     to_i64(limit));
  std::vector<store::PendingRow> out(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    store::PendingRow& p = out[static_cast<std::size_t>(i)];
    read_tracked(r, i, p.certificate);
    p.kind = r.text(i, kTrackedColumnCount);
    p.since = from_unix(r.integer(i, kTrackedColumnCount + 1));
    p.superseded_by = r.optional_text(i, kTrackedColumnCount + 2);
  }
  return out;
}

bool PgTransaction::apply_stage(const store::StageUpdate& c) {
  Params p;
  p.add(c.stage).add(c.severity).add(unix_or_null(c.next_due_at)).add(unix_or_null(c.stage_at));
  p.add(c.certificate_id).add(c.expected_stage).add(unix_or_null(c.expected_next_due_at));
  return db()
             .query("UPDATE lifecycle SET stage = $1, severity = $2, next_due_at = $3, "
                    "stage_at = COALESCE($4, stage_at) WHERE certificate_id = $5 "
                    "AND stage IS NOT DISTINCT FROM $6 AND next_due_at IS NOT DISTINCT FROM $7",
                    p)
             .affected() == 1;
}

bool PgTransaction::insert_event(const store::EventRow& e) {
  const Result r = q(
      "INSERT INTO events (id, kind, stage_days, certificate_id, created_at, payload) VALUES ($1, $2, $3, $4, $5, $6) "
      "ON CONFLICT (id) DO NOTHING RETURNING seq",
      e.id, e.kind, e.stage_days, e.certificate_id, to_unix(e.created_at), e.payload);
  if (r.empty()) return false;
  w("INSERT INTO deliveries (event_seq, sink_id, state, attempts, next_attempt_at) "
    "SELECT $1, id, 'pending', 0, $2 FROM sinks",
    r.integer(0, 0), to_unix(e.created_at));
  return true;
}

std::vector<std::pair<std::int64_t, std::size_t>> PgTransaction::severity_counts() {
  const Result r = q("SELECT severity, count(*) FROM lifecycle WHERE severity > 0 GROUP BY severity ORDER BY severity");
  std::vector<std::pair<std::int64_t, std::size_t>> out;
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.integer(i, 0), static_cast<std::size_t>(r.integer(i, 1)));
  return out;
}

std::vector<store::EventRow> PgTransaction::events(std::int64_t after_seq, std::size_t limit) {
  const Result r = q(
      "SELECT seq, id, kind, stage_days, certificate_id, created_at, payload FROM events WHERE seq > $1 "
      "ORDER BY seq LIMIT $2",
      after_seq, limit == 0 ? std::optional<std::int64_t>() : std::optional<std::int64_t>(to_i64(limit)));
  std::vector<store::EventRow> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_event(r, i, 0));
  return out;
}

// ---- sinks and deliveries -------------------------------------------------------------------

std::optional<std::int64_t> PgTransaction::sink_id(std::string_view name) {
  const Result r = q("SELECT id FROM sinks WHERE name = $1", name);
  if (r.empty()) return std::nullopt;
  return r.integer(0, 0);
}

void PgTransaction::insert_sink(const store::SinkRow& sink) {
  w("INSERT INTO sinks (name, kind, settings, created_at, created_by) VALUES ($1, $2, $3, $4, $5)", sink.name,
    sink.kind, sink.settings, to_unix(sink.created_at), sink.created_by);
}

bool PgTransaction::delete_sink(std::string_view name) {
  return q("DELETE FROM sinks WHERE name = $1", name).affected() != 0;
}

std::vector<store::SinkRow> PgTransaction::sinks() {
  const Result r = q("SELECT name, kind, settings, created_at, created_by FROM sinks ORDER BY name");
  std::vector<store::SinkRow> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({r.text(i, 0), r.text(i, 1), r.text(i, 2), from_unix(r.integer(i, 3)), r.text(i, 4)});
  }
  return out;
}

std::vector<store::DeliveryRow> PgTransaction::claim(Time now, Time lease_until, std::span<const std::string> sink_names,
                                                     std::size_t limit) {
  // One statement: pick the due deliveries no other transaction holds (SKIP LOCKED), lock them,
  // move them past the lease. A concurrent claimer skips the locked rows; once this commits,
  // their next_attempt_at is in the future, so nobody claims them again before the lease ends.
  const Result r = q(
      "WITH picked AS ("
      " SELECT d.event_seq, d.sink_id, d.next_attempt_at AS due, s.name FROM deliveries d"
      " JOIN sinks s ON s.id = d.sink_id"
      " WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND ($4::text[] IS NULL OR s.name = ANY($4::text[]))"
      " ORDER BY d.next_attempt_at, d.event_seq, s.name LIMIT $2 FOR UPDATE OF d SKIP LOCKED),"
      " claimed AS ("
      " UPDATE deliveries d SET attempts = d.attempts + 1, last_attempt_at = $1, next_attempt_at = $3"
      " FROM picked WHERE d.event_seq = picked.event_seq AND d.sink_id = picked.sink_id"
      " RETURNING d.event_seq, picked.name, d.attempts, picked.due)"
      " SELECT c.name, c.attempts, e.seq, e.id, e.kind, e.stage_days, e.certificate_id, e.created_at, e.payload"
      " FROM claimed c JOIN events e ON e.seq = c.event_seq ORDER BY c.due, c.event_seq, c.name",
      to_unix(now), to_i64(limit), to_unix(lease_until),
      sink_names.empty() ? std::optional<std::string>() : std::optional<std::string>(text_array(sink_names)));
  std::vector<store::DeliveryRow> out(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    store::DeliveryRow& d = out[static_cast<std::size_t>(i)];
    d.sink = r.text(i, 0);
    d.attempts = static_cast<int>(r.integer(i, 1));
    d.event = read_event(r, i, 2);
  }
  return out;
}

bool PgTransaction::settle_delivered(std::int64_t event_seq, std::int64_t sink, Time at) {
  return q("UPDATE deliveries SET state = 'delivered', delivered_at = $1, next_attempt_at = NULL, last_error = NULL "
           "WHERE event_seq = $2 AND sink_id = $3 AND state = 'pending'",
           to_unix(at), event_seq, sink)
             .affected() == 1;
}

bool PgTransaction::settle_failed(std::int64_t event_seq, std::int64_t sink, std::optional<Time> retry_at,
                                  std::string_view error) {
  const std::optional<std::int64_t> at = retry_at ? std::optional<std::int64_t>(to_unix(*retry_at)) : std::nullopt;
  return q("UPDATE deliveries SET next_attempt_at = $1, last_error = $2 "
           "WHERE event_seq = $3 AND sink_id = $4 AND state = 'pending'",
           at, error, event_seq, sink)
             .affected() == 1;
}

std::size_t PgTransaction::queue_backlog(std::int64_t sink) {
  return static_cast<std::size_t>(
      q("INSERT INTO deliveries (event_seq, sink_id, state, attempts, next_attempt_at) "
        "SELECT e.seq, $1, 'pending', 0, e.created_at FROM events e "
        "WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq)",
        sink)
          .affected());
}

std::size_t PgTransaction::prune_delivered(Time before, std::size_t limit) {
  // As SQLite's: oldest first, only up to the first event not old enough (a walk of the primary
  // key that stops there); the deliveries go by the foreign key's ON DELETE CASCADE.
  return static_cast<std::size_t>(
      q("DELETE FROM events WHERE seq IN (SELECT e.seq FROM events e WHERE e.created_at < $1"
        " AND e.seq < COALESCE((SELECT n.seq FROM events n WHERE n.created_at >= $1 ORDER BY n.seq LIMIT 1),"
        " 9223372036854775807)"
        " AND EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq)"
        " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.state <> 'delivered')"
        " ORDER BY e.seq LIMIT $2)",
        to_unix(before), static_cast<std::int64_t>(limit))
          .affected());
}

std::size_t PgTransaction::backlog_size() {
  const Result r = q("SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq)");
  return r.rows() > 0 ? static_cast<std::size_t>(r.integer(0, 0)) : 0;
}

void PgTransaction::bump_counter(std::string_view metric, std::string_view label) {
  ++counter_increments_[{std::string(metric), std::string(label)}];
}

void PgTransaction::flush_counters() {
  for (const auto& [key, by] : counter_increments_) {
    w("INSERT INTO lifecycle_counters (metric, label, value) VALUES ($1, $2, $3) "
      "ON CONFLICT (metric, label) DO UPDATE SET value = lifecycle_counters.value + EXCLUDED.value",
      key.first, key.second, by);
  }
  counter_increments_.clear();
}

std::vector<store::SinkStatsRow> PgTransaction::sink_stats() {
  const Result r = q(
      "SELECT s.name,"
      " (SELECT count(*) FROM deliveries d WHERE d.sink_id = s.id AND d.state = 'pending'),"
      " (SELECT count(*) FROM deliveries d WHERE d.sink_id = s.id AND d.state = 'delivered'),"
      " (SELECT min(next_attempt_at) FROM deliveries d WHERE d.sink_id = s.id AND d.state = 'pending'),"
      " (SELECT last_error FROM deliveries d WHERE d.sink_id = s.id AND d.state = 'pending'"
      "  AND d.last_error IS NOT NULL ORDER BY d.last_attempt_at DESC LIMIT 1)"
      " FROM sinks s ORDER BY s.name");
  std::vector<store::SinkStatsRow> out;
  for (int i = 0; i < r.rows(); ++i) {
    store::SinkStatsRow s;
    s.sink = r.text(i, 0);
    s.pending = static_cast<std::size_t>(r.integer(i, 1));
    s.delivered = static_cast<std::size_t>(r.integer(i, 2));
    if (const auto next = r.optional_integer(i, 3)) s.next_attempt_at = from_unix(*next);
    s.last_error = r.optional_text(i, 4);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<store::CounterRow> PgTransaction::counters() {
  flush_counters();  // this transaction's own increments count too
  const Result r = q("SELECT metric, label, value FROM lifecycle_counters ORDER BY metric, label");
  std::vector<store::CounterRow> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({r.text(i, 0), r.text(i, 1), static_cast<std::uint64_t>(r.integer(i, 2))});
  }
  return out;
}

// ---- integrity ------------------------------------------------------------------------------

void PgTransaction::tracking_problems(std::vector<std::string>& problems) {
  {
    const Result r = q(
        "SELECT fingerprint FROM certificates c WHERE NOT EXISTS "
        "(SELECT 1 FROM lifecycle l WHERE l.certificate_id = c.id) LIMIT 100");
    for (int i = 0; i < r.rows(); ++i) problems.push_back("certificate " + r.text(i, 0) + " has no lifecycle row");
  }
  {
    const Result r = q(
        "SELECT c.fingerprint FROM certificates c JOIN lifecycle l ON l.certificate_id = c.id "
        "WHERE c.status = 'active' AND l.next_due_at IS NULL AND l.stage IS NULL LIMIT 100");
    for (int i = 0; i < r.rows(); ++i) problems.push_back("active certificate " + r.text(i, 0) + " is not tracked for expiry");
  }
  const Result r = q(
      "SELECT c.fingerprint FROM lifecycle l JOIN certificates c ON c.id = l.certificate_id "
      "WHERE l.next_due_at IS NOT NULL AND c.status <> 'active' LIMIT 100");
  for (int i = 0; i < r.rows(); ++i) problems.push_back("certificate " + r.text(i, 0) + " is tracked for expiry but not active");
}

}  // namespace dpgcert::postgresql
