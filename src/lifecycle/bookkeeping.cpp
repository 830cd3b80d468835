// The lifecycle's rows in the store: its types to the backend's neutral rows and back, each call
// one transaction of the store's backend (serialised with the store's own calls).
#include "lifecycle/bookkeeping.hpp"
#include "lifecycle/sinks/sink_kind.hpp"

#include "store/backend.hpp"
#include "store/store_impl.hpp"

#include <dpgcert/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

namespace dpgcert::lifecycle_detail {
namespace {

using Impl = Store::Impl;

Impl& impl(const Store& store) { return store_detail::Access::impl(store); }

TrackedCertificate tracked_from(store::TrackedRow&& r) {
  TrackedCertificate t;
  static_cast<CertificateSummary&>(t) = std::move(static_cast<CertificateSummary&>(r));
  t.issuer = std::move(r.issuer);
  t.serial = std::move(r.serial);
  t.organisation_name = std::move(r.organisation_name);
  // A certificate without a tracking row counts with its own notAfter.
  t.effective_not_after = r.effective_not_after.value_or(t.not_after);
  if (r.stage) t.stage = static_cast<int>(*r.stage);
  t.severity = r.severity >= 2 ? Severity::critical : r.severity == 1 ? Severity::warning : Severity::none;
  t.next_due_at = r.next_due_at;
  return t;
}

OutboxEvent event_from(store::EventRow&& r) {
  OutboxEvent e;
  e.seq = r.seq;
  e.id = std::move(r.id);
  e.kind = parse_event_kind(r.kind).value_or(EventKind::expiring);
  if (r.stage_days) e.stage_days = static_cast<int>(*r.stage_days);
  e.certificate_id = r.certificate_id;
  e.created_at = r.created_at;
  e.payload = std::move(r.payload);
  return e;
}

store::EventRow event_row(const OutboxEvent& e) {
  store::EventRow r;
  r.id = e.id;
  r.kind = std::string(to_string(e.kind));
  if (e.stage_days) r.stage_days = *e.stage_days;
  r.certificate_id = e.certificate_id;
  r.created_at = e.created_at;
  r.payload = e.payload;
  return r;
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

std::optional<std::int64_t> optional_int(const std::optional<int>& v) {
  return v ? std::optional<std::int64_t>(*v) : std::nullopt;
}

bool apply(store::Transaction& tx, const LifecycleChange& c) {
  if (c.cause == LifecycleChange::Cause::stage) {
    store::StageUpdate u;
    u.certificate_id = c.certificate_id;
    u.stage = optional_int(c.stage);
    u.severity = static_cast<std::int64_t>(c.severity);
    u.next_due_at = c.next_due_at;
    // The stage is "announced at" the event's time; a re-evaluation without an event keeps it.
    if (c.event) u.stage_at = c.event->created_at;
    u.expected_stage = optional_int(c.expected_stage);
    u.expected_next_due_at = c.expected_next_due_at;
    return tx.apply_stage(u);
  }
  if (c.pending_kind != EventKind::renewed && c.pending_kind != EventKind::revoked &&
      c.pending_kind != EventKind::validation_failed) {
    throw Error(ErrorCode::invalid_argument, "store: only renewed, revoked and validation_failed are pending kinds");
  }
  return tx.drop_pending(c.certificate_id, to_string(c.pending_kind));
}

}  // namespace

// ---- policies -------------------------------------------------------------------------------

void set_renewal_policy(Store& store, std::optional<std::string_view> cvr, const std::optional<RenewalPolicy>& policy,
                        std::string_view actor) {
  if (policy) validate(*policy);
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  const Time t = s.now();
  const std::string who = s.actor_or_default(actor);
  s.transact(true, [&](store::Transaction& tx) {
    std::optional<std::int64_t> org;
    if (cvr) {
      org = tx.organisation_id(*cvr);
      if (!org) throw Error(ErrorCode::not_found, "store: no organisation with CVR " + std::string(*cvr));
    }
    tx.replace_policy(org, policy ? std::optional<std::string>(to_string(*policy)) : std::nullopt, t, who);
    // Evaluate what the policy governs again at the next check (it keeps every announced stage).
    tx.reevaluate_policy_scope(org);
    s.audit(tx, t, who, policy ? "policy.set" : "policy.reset", cvr ? "organisation" : "store",
                cvr ? std::string(*cvr) : s.backend->location(),
                {{"thresholds", policy ? nlohmann::json(policy->thresholds_days) : nlohmann::json(nullptr)}});
  });
}

std::vector<RenewalPolicyEntry> renewal_policies(const Store& store) {
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) {
    std::vector<RenewalPolicyEntry> out;
    for (store::PolicyRow& row : tx.policies()) {
      RenewalPolicyEntry e;
      e.cvr = std::move(row.cvr);
      e.policy = stored_policy(row.thresholds);
      e.updated_at = row.updated_at;
      e.updated_by = std::move(row.updated_by);
      out.push_back(std::move(e));
    }
    return out;
  });
}

// ---- tracking -------------------------------------------------------------------------------

std::vector<TrackedCertificate> tracked(const Store& store, const TrackedQuery& q) {
  if (q.limit == 0 || q.limit > 100000) {
    throw Error(ErrorCode::invalid_argument, "store: a page of tracked certificates is 1 to 100,000 rows");
  }
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) {
    std::vector<store::TrackedRow> rows = tx.tracked({q.organisation_cvr, q.active_only, q.after_id, q.limit});
    std::vector<TrackedCertificate> out;
    out.reserve(rows.size());
    for (auto& r : rows) out.push_back(tracked_from(std::move(r)));
    return out;
  });
}

std::vector<TrackedCertificate> due(const Store& store, Time now, std::size_t limit) {
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) {
    std::vector<store::TrackedRow> rows = tx.due(now, limit);
    std::vector<TrackedCertificate> out;
    out.reserve(rows.size());
    for (auto& r : rows) out.push_back(tracked_from(std::move(r)));
    return out;
  });
}

std::vector<PendingStatusChange> pending(const Store& store, std::size_t limit) {
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) {
    std::vector<PendingStatusChange> out;
    for (store::PendingRow& row : tx.pending(limit)) {
      PendingStatusChange p;
      const auto kind = parse_event_kind(row.kind);
      if (!kind) throw Error(ErrorCode::malformed, "store: unknown pending status change '" + row.kind + "'");
      p.kind = *kind;
      p.certificate = tracked_from(std::move(row.certificate));
      p.since = row.since;
      p.superseded_by = std::move(row.superseded_by);
      out.push_back(std::move(p));
    }
    return out;
  });
}

LifecycleCommitResult commit(Store& store, std::span<const LifecycleChange> changes) {
  if (changes.empty()) return {};
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  return s.transact(true, [&](store::Transaction& tx) {
    LifecycleCommitResult r;
    for (std::size_t i = 0; i < changes.size(); ++i) {
      const LifecycleChange& c = changes[i];
      if (!apply(tx, c)) {
        ++r.skipped;
        continue;
      }
      ++r.applied;
      if (c.event && tx.insert_event(event_row(*c.event))) {
        tx.bump_counter("emitted", to_string(c.event->kind));
        r.emitted.push_back(i);
      }
    }
    return r;
  });
}

SeverityCounts severity_counts(const Store& store) {
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) {
    SeverityCounts out;
    for (const auto& [severity, n] : tx.severity_counts()) {
      if (severity >= 2) {
        out.critical += n;
      } else {
        out.warning += n;
      }
    }
    return out;
  });
}

std::vector<OutboxEvent> events(const Store& store, std::int64_t after_seq, std::size_t limit) {
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) {
    std::vector<OutboxEvent> out;
    for (store::EventRow& r : tx.events(after_seq, limit)) out.push_back(event_from(std::move(r)));
    return out;
  });
}

// ---- sinks and deliveries -------------------------------------------------------------------

AddedSink add_sink(Store& store, const SinkConfig& sink, const AddSinkOptions& options, std::string_view actor) {
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
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  const Time t = s.now();
  const std::string who = s.actor_or_default(actor);
  return s.transact(true, [&](store::Transaction& tx) {
    if (tx.sink_id(sink.name)) throw Error(ErrorCode::conflict, "store: a sink named '" + sink.name + "' exists");
    // Stored compact, whatever spacing the caller used.
    const store::SinkRow row{sink.name, sink.kind, lifecycle_detail::settings_text(settings), t, who};
    tx.insert_sink(row);
    AddedSink out;
    if (options.backlog) {
      const auto id = tx.sink_id(row.name);
      if (id) out.backlog = tx.queue_backlog(*id);
    }
    s.audit(tx, t, who, "sink.add", "sink", row.name,
            {{"kind", row.kind}, {"settings", settings}, {"backlog", out.backlog}});
    out.sink = sink;
    out.sink.settings = row.settings;
    out.sink.created_at = t;
    out.sink.created_by = who;
    return out;
  });
}

void remove_sink(Store& store, std::string_view name, std::string_view actor) {
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  const Time t = s.now();
  const std::string who = s.actor_or_default(actor);
  s.transact(true, [&](store::Transaction& tx) {
    if (!tx.delete_sink(name)) throw Error(ErrorCode::not_found, "store: no sink named '" + std::string(name) + "'");
    s.audit(tx, t, who, "sink.remove", "sink", name, nlohmann::json::object());
  });
}

std::vector<SinkConfig> sinks(const Store& store) {
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) {
    std::vector<SinkConfig> out;
    for (store::SinkRow& row : tx.sinks()) {
      SinkConfig c;
      c.name = std::move(row.name);
      c.kind = std::move(row.kind);  // a kind this build does not know is the sink registry's to report
      c.settings = std::move(row.settings);
      c.created_at = row.created_at;
      c.created_by = std::move(row.created_by);
      out.push_back(std::move(c));
    }
    return out;
  });
}

std::vector<Delivery> claim_deliveries(Store& store, Time now, std::chrono::seconds lease,
                                       std::span<const std::string> names, std::size_t limit) {
  if (lease.count() <= 0) throw Error(ErrorCode::invalid_argument, "store: a delivery lease must be positive");
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  return s.transact(true, [&](store::Transaction& tx) {
    tx.relax_isolation();  // claims lock their rows and skip others' (FOR UPDATE SKIP LOCKED)
    std::vector<Delivery> out;
    for (store::DeliveryRow& row : tx.claim(now, now + lease, names, limit)) {
      out.push_back({std::move(row.sink), event_from(std::move(row.event)), row.attempts});
    }
    return out;
  });
}

void settle_deliveries(Store& store, std::span<const DeliveryOutcome> outcomes, Time now) {
  if (outcomes.empty()) return;
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  s.transact(true, [&](store::Transaction& tx) {
    tx.relax_isolation();  // guarded updates of claimed rows, counters incremented in place
    std::map<std::string, std::optional<std::int64_t>, std::less<>> ids;
    for (const DeliveryOutcome& o : outcomes) {
      auto it = ids.find(o.sink);
      if (it == ids.end()) it = ids.emplace(o.sink, tx.sink_id(o.sink)).first;
      if (!it->second) continue;  // removed meanwhile: its deliveries went with it
      const bool settled = o.delivered ? tx.settle_delivered(o.event_seq, *it->second, now)
                                       : tx.settle_failed(o.event_seq, *it->second,
                                                          o.abandoned ? std::nullopt : std::optional<Time>(o.retry_at),
                                                          o.error.substr(0, 1000));
      if (settled) tx.bump_counter(o.delivered ? "delivered" : "failed", o.sink);
    }
  });
}

std::size_t backlog_size(const Store& store) {
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) { return tx.backlog_size(); });
}

std::vector<SinkStats> sink_stats(const Store& store) {
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) {
    std::vector<SinkStats> out;
    for (store::SinkStatsRow& r : tx.sink_stats()) {
      out.push_back({std::move(r.sink), r.pending, r.delivered, r.next_attempt_at, std::move(r.last_error)});
    }
    return out;
  });
}

LifecycleCounters counters(const Store& store) {
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) {
    LifecycleCounters out;
    for (store::CounterRow& r : tx.counters()) {
      auto entry = std::make_pair(std::move(r.label), r.value);
      if (r.metric == "emitted") {
        out.emitted.push_back(std::move(entry));
      } else if (r.metric == "delivered") {
        out.delivered.push_back(std::move(entry));
      } else if (r.metric == "failed") {
        out.failed.push_back(std::move(entry));
      }
    }
    return out;
  });
}

void record_check(Store& store, const CheckRun& run) {
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  s.transact(true, [&](store::Transaction& tx) {
    tx.set_setting("lifecycle.last_check", std::to_string(to_unix(run.ended)), run.ended);
    tx.set_setting("lifecycle.last_check_started", std::to_string(to_unix(run.started)), run.ended);
    tx.set_setting("lifecycle.last_check_node", run.node, run.ended);
    tx.set_setting("lifecycle.last_check_success", run.success ? "1" : "0", run.ended);
  });
}

namespace {

constexpr std::string_view kRetentionSetting = "lifecycle.outbox_retention_days";

std::string retention_text(std::optional<std::chrono::days> r) { return r ? std::to_string(r->count()) : "off"; }

std::optional<std::chrono::days> read_retention(store::Transaction& tx) {
  const auto text = tx.setting(kRetentionSetting);
  if (!text) return kDefaultOutboxRetention;
  if (*text == "off") return std::nullopt;
  try {
    const long long days = std::stoll(*text);
    if (days > 0) return std::chrono::days(days);
  } catch (const std::exception&) {
  }
  // A value this code did not write: keep everything rather than guess.
  return std::nullopt;
}

}  // namespace

std::optional<std::chrono::days> outbox_retention(const Store& store) {
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) { return read_retention(tx); });
}

void set_outbox_retention(Store& store, std::optional<std::chrono::days> retention, std::string_view actor) {
  if (retention && (retention->count() < 1 || retention->count() > 36525)) {
    throw Error(ErrorCode::invalid_argument, "lifecycle: the outbox retention must be 1 to 36525 days, or off");
  }
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  const Time t = s.now();
  const std::string who = s.actor_or_default(actor);
  s.transact(true, [&](store::Transaction& tx) {
    const std::optional<std::chrono::days> before = read_retention(tx);
    if (before == retention && tx.setting(kRetentionSetting)) return;
    tx.set_setting(kRetentionSetting, retention_text(retention), t);
    s.audit(tx, t, who, "lifecycle.retention", "store", s.backend->location(),
            {{"from", retention_text(before)}, {"to", retention_text(retention)}});
  });
}

std::size_t prune_delivered(Store& store, Time before, std::size_t limit) {
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  return s.transact(true, [&](store::Transaction& tx) { return tx.prune_delivered(before, limit); });
}

std::optional<CheckRun> last_check(const Store& store) {
  Impl& s = impl(store);
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) -> std::optional<CheckRun> {
    const auto seconds = [&](std::string_view name) -> std::optional<Time> {
      const auto text = tx.setting(name);
      if (!text) return std::nullopt;
      try {
        return from_unix(std::stoll(*text));
      } catch (const std::exception&) {
        return std::nullopt;
      }
    };
    const auto ended = seconds("lifecycle.last_check");
    if (!ended) return std::nullopt;
    CheckRun c;
    c.ended = *ended;
    c.started = seconds("lifecycle.last_check_started").value_or(*ended);
    c.node = tx.setting("lifecycle.last_check_node").value_or("");
    c.success = tx.setting("lifecycle.last_check_success").value_or("0") == "1";
    return c;
  });
}

Time wall_now(const Store& store) { return impl(store).wall_clock->now(); }

}  // namespace dpgcert::lifecycle_detail
