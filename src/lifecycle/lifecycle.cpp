// check(): the due certificates and pending status changes become recorded stages and events in
// one transaction per batch (the outbox); deliver(): the outbox is drained to the sinks after the
// commit, each outcome acknowledged or scheduled for a retry with backoff.
#include "lifecycle/lifecycle_impl.hpp"
#include "lifecycle/revocation_refresh.hpp"

#include "store/store_impl.hpp"

#include <dpgcert/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <set>
#include <unordered_set>

#include <unistd.h>

namespace dpgcert {
namespace {

using lifecycle_detail::Policies;

/// Organisations (name, contacts) read once per run, for the events that name them.
class OrganisationCache {
 public:
  explicit OrganisationCache(const Store& store) : store_(store) {}
  const std::optional<Organisation>& get(const std::optional<std::string>& cvr) {
    static const std::optional<Organisation> none;
    if (!cvr) return none;
    auto it = cache_.find(*cvr);
    if (it == cache_.end()) it = cache_.emplace(*cvr, store_.find_organisation(*cvr)).first;
    return it->second;
  }

 private:
  const Store& store_;
  std::map<std::string, std::optional<Organisation>, std::less<>> cache_;
};

/// The ids of the checks that failed in a stored validation report (compact JSON).
std::vector<std::string> failed_checks(const std::string& report_json) {
  std::vector<std::string> out;
  const nlohmann::json r = nlohmann::json::parse(report_json, nullptr, false);
  if (r.is_discarded() || !r.contains("checks") || !r["checks"].is_array()) return out;
  for (const auto& c : r["checks"]) {
    if (c.is_object() && c.value("status", "") == "fail" && c.contains("id") && c["id"].is_string()) {
      out.push_back(c["id"].get<std::string>());
    }
  }
  return out;
}

Event make_event(const TrackedCertificate& c, EventKind kind, std::optional<int> stage, Time now,
                 OrganisationCache& orgs) {
  Event e;
  e.id = event_id(c.fingerprint, kind, stage);
  e.kind = kind;
  e.stage_days = stage;
  e.at = now;
  e.days_left = days_until(c.effective_not_after, now);
  e.effective_not_after = c.effective_not_after;
  e.certificate = c;
  e.organisation = orgs.get(c.organisation_cvr);
  return e;
}

OutboxEvent outbox_event(const Event& e) {
  OutboxEvent o;
  o.id = e.id;
  o.kind = e.kind;
  o.stage_days = e.stage_days;
  o.certificate_id = e.certificate.id;
  o.created_at = e.at;
  o.payload = to_json(e).dump();
  return o;
}

/// How bad an event is for the monitoring verdict.
Severity severity_of_event(const Event& e, const Policies& policies) {
  switch (e.kind) {
    case EventKind::expiring:
      return severity_of(policies.for_organisation(e.certificate.organisation_cvr), e.stage_days);
    case EventKind::expired:
    case EventKind::revoked:
      return Severity::critical;
    case EventKind::validation_failed:
      return Severity::warning;
    case EventKind::renewed:
      return Severity::none;
  }
  return Severity::none;
}

/// The change for one due certificate: announce the most severe threshold crossed since the
/// recorded stage (only that one: after a gap of days, no burst of stale stages), or just move
/// the bookkeeping on (a new import not yet in a stage, a changed policy).
LifecycleChange evaluate(const TrackedCertificate& c, const RenewalPolicy& policy, Time now, OrganisationCache& orgs,
                         std::optional<Event>& event) {
  LifecycleChange change;
  change.cause = LifecycleChange::Cause::stage;
  change.certificate_id = c.id;
  change.expected_stage = c.stage;
  change.expected_next_due_at = c.next_due_at;
  change.stage = c.stage;
  if (c.status != CertificateStatus::active) {
    // Not tracked any more (the store stops tracking at the status change; this heals a row left behind).
    change.severity = Severity::none;
    change.next_due_at = std::nullopt;
    return change;
  }
  const std::optional<int> now_stage = stage_at(policy, c.effective_not_after, now);
  if (now_stage && (!c.stage || *now_stage < *c.stage)) {
    change.stage = now_stage;
    const EventKind kind = *now_stage == 0 ? EventKind::expired : EventKind::expiring;
    event = make_event(c, kind, now_stage, now, orgs);
    change.event = outbox_event(*event);
  }
  change.severity = severity_of(policy, change.stage);
  change.next_due_at = next_due_at(policy, c.effective_not_after, change.stage);
  return change;
}

/// The store's named run lock, released when this goes.
class RunLock {
 public:
  RunLock(Store& store, std::string_view name) : impl_(store_detail::Access::impl(store)), name_(name) {}
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock() {
    if (!held_) return;
    std::lock_guard lock(impl_.mu);
    impl_.backend->unlock_run(name_);
  }
  [[nodiscard]] bool take() {
    std::lock_guard lock(impl_.mu);
    held_ = impl_.backend->try_lock_run(name_);
    return held_;
  }

 private:
  Store::Impl& impl_;
  std::string name_;
  bool held_ = false;
};

/// This node's name for the last-run record: "<host name>:<process id>".
std::string default_node() {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  std::string out(host.data());
  if (out.empty()) out.push_back('?');  // not = "?": GCC 12 -O3 raises a false -Wrestrict there
  out += ':';
  out += std::to_string(::getpid());
  return out;
}

/// Why a check under the last-run rule must wait, or nothing when it may run: the last run ended
/// less than `interval` before `now` (a record more than `interval` in the future is ignored).
std::optional<std::string> too_soon(const std::optional<CheckRun>& last, Time now, std::chrono::seconds interval) {
  if (!last) return std::nullopt;
  const std::chrono::seconds ago = now - last->ended;
  if (ago >= interval || ago <= -interval) return std::nullopt;
  std::string why = "the last check ended at ";
  why += format_rfc3339(last->ended);
  why += " on node ";
  why += last->node.empty() ? std::string("?") : last->node;
  why += " (";
  why += std::to_string(ago.count());
  why += " s ago); the minimum interval is ";
  why += std::to_string(interval.count());
  why += " s";
  return why;
}

}  // namespace

std::size_t CheckResult::delivered() const {
  return static_cast<std::size_t>(
      std::count_if(deliveries.begin(), deliveries.end(), [](const DeliveryAttempt& a) { return a.delivered; }));
}

std::size_t CheckResult::failed() const { return deliveries.size() - delivered(); }

Lifecycle::Lifecycle(Store& store) : impl_(std::make_unique<Impl>(store)) {}

Lifecycle::~Lifecycle() = default;

void Lifecycle::register_callback(const std::string& name, EventCallback callback) {
  if (!callback) throw Error(ErrorCode::invalid_argument, "lifecycle: the callback for '" + name + "' is empty");
  std::lock_guard lock(impl_->mu);
  impl_->callbacks[name] = std::move(callback);
}

void Lifecycle::set_renewal_policy(std::optional<std::string_view> cvr, const std::optional<RenewalPolicy>& policy,
                                   std::string_view actor) {
  lifecycle_detail::set_renewal_policy(impl_->store, cvr, policy, actor);
}

std::vector<RenewalPolicyEntry> Lifecycle::renewal_policies() const {
  return lifecycle_detail::renewal_policies(impl_->store);
}

SinkConfig Lifecycle::add_sink(const SinkConfig& sink, std::string_view actor) {
  return lifecycle_detail::add_sink(impl_->store, sink, AddSinkOptions{}, actor).sink;
}

AddedSink Lifecycle::add_sink(const SinkConfig& sink, const AddSinkOptions& options, std::string_view actor) {
  return lifecycle_detail::add_sink(impl_->store, sink, options, actor);
}

void Lifecycle::remove_sink(std::string_view name, std::string_view actor) {
  lifecycle_detail::remove_sink(impl_->store, name, actor);
}

std::vector<SinkConfig> Lifecycle::sinks() const { return lifecycle_detail::sinks(impl_->store); }

std::vector<SinkStats> Lifecycle::sink_stats() const { return lifecycle_detail::sink_stats(impl_->store); }

std::vector<TrackedCertificate> Lifecycle::tracked(const TrackedQuery& query) const {
  return lifecycle_detail::tracked(impl_->store, query);
}

std::vector<OutboxEvent> Lifecycle::events(std::int64_t after_seq, std::size_t limit) const {
  return lifecycle_detail::events(impl_->store, after_seq, limit);
}

LifecycleCounters Lifecycle::counters() const { return lifecycle_detail::counters(impl_->store); }

SeverityCounts Lifecycle::severity_counts() const { return lifecycle_detail::severity_counts(impl_->store); }

std::optional<CheckRun> Lifecycle::last_check() const { return lifecycle_detail::last_check(impl_->store); }

void Lifecycle::set_revocation_refresh(std::optional<std::chrono::seconds> interval, std::string_view actor) {
  lifecycle_detail::set_revocation_refresh(impl_->store, interval, actor);
}

std::optional<std::chrono::seconds> Lifecycle::revocation_refresh() const {
  return lifecycle_detail::revocation_refresh(impl_->store);
}

std::optional<Time> Lifecycle::last_revocation_refresh() const {
  return lifecycle_detail::last_revocation_refresh(impl_->store);
}

std::optional<std::chrono::days> Lifecycle::outbox_retention() const {
  return lifecycle_detail::outbox_retention(impl_->store);
}

void Lifecycle::set_outbox_retention(std::optional<std::chrono::days> retention, std::string_view actor) {
  lifecycle_detail::set_outbox_retention(impl_->store, retention, actor);
}

std::size_t Lifecycle::prune_outbox(Time now, std::size_t batch) {
  if (batch == 0) throw Error(ErrorCode::invalid_argument, "lifecycle: the batch size must be positive");
  const std::optional<std::chrono::days> retention = outbox_retention();
  if (!retention) return 0;
  const Time before = now - *retention;
  // One transaction per batch: a million events to prune do not hold the store's write lock for
  // the whole run, and a check that dies midway leaves what it pruned pruned.
  std::size_t pruned = 0;
  for (;;) {
    const std::size_t n = lifecycle_detail::prune_delivered(impl_->store, before, batch);
    pruned += n;
    if (n < batch) return pruned;
  }
}

RenewalPolicy Lifecycle::policy_for(std::optional<std::string_view> cvr) const {
  const Policies policies = Policies::load(impl_->store);
  if (!cvr) return policies.default_policy();
  return policies.for_organisation(std::string(*cvr));
}

CheckResult Lifecycle::check(Time now, const CheckOptions& options) {
  if (options.batch == 0) throw Error(ErrorCode::invalid_argument, "lifecycle: the batch size must be positive");
  Store& store = impl_->store;
  if (options.min_interval.count() < 0) {
    throw Error(ErrorCode::invalid_argument, "lifecycle: the minimum interval between checks must not be negative");
  }
  CheckResult result;
  result.at = now;
  RunLock run_lock(store, "lifecycle.check");
  const bool interval_rule = options.min_interval.count() > 0;
  if ((options.exclusive || interval_rule) && !run_lock.take()) {
    result.skipped = true;
    result.skip_reason = "another check holds the store's run lock";
    return result;
  }
  // Under the lock: the last run's record is final (it is written before its lock is released).
  CheckRun run;
  run.started = lifecycle_detail::wall_now(store);
  run.node = options.node.empty() ? default_node() : options.node;
  if (interval_rule) {
    if (auto why = too_soon(lifecycle_detail::last_check(store), run.started, options.min_interval)) {
      result.skipped = true;
      result.skip_reason = std::move(*why);
      return result;
    }
  }
  // 0. Revocation refresh (when asked for and due): a certificate found revoked becomes a pending
  // status change, announced by step 2 of this same run.
  result.revocation = lifecycle_detail::refresh_revocation(store, now, options.revocation, options.batch);

  const Policies policies = Policies::load(store);
  OrganisationCache orgs(store);

  // 1. Certificates whose next threshold has come: an index range, empty on most days. Each row
  // evaluated moves its next_due_at past `now` (or clears it), so the loop ends; `seen` guards
  // against a row that another process keeps moving back.
  std::unordered_set<std::int64_t> seen;
  for (;;) {
    const std::vector<TrackedCertificate> due = lifecycle_detail::due(store, now, options.batch);
    std::vector<LifecycleChange> changes;
    std::vector<std::optional<Event>> events;
    for (const TrackedCertificate& c : due) {
      if (!seen.insert(c.id).second) continue;
      std::optional<Event> event;
      changes.push_back(evaluate(c, policies.for_organisation(c.organisation_cvr), now, orgs, event));
      events.push_back(std::move(event));
    }
    if (changes.empty()) break;
    result.evaluated += changes.size();
    const LifecycleCommitResult committed = lifecycle_detail::commit(store, changes);
    for (std::size_t i : committed.emitted) result.emitted.push_back(std::move(*events[i]));
  }

  // 2. Status changes the inventory recorded: renewed, revoked, validation_failed.
  for (;;) {
    const std::vector<PendingStatusChange> pending = lifecycle_detail::pending(store, options.batch);
    if (pending.empty()) break;
    std::vector<LifecycleChange> changes;
    std::vector<Event> events;
    for (const PendingStatusChange& p : pending) {
      Event e = make_event(p.certificate, p.kind, std::nullopt, now, orgs);
      e.superseded_by = p.superseded_by;
      if (p.kind == EventKind::validation_failed) {
        if (const auto record = store.find(p.certificate.fingerprint)) e.failed_checks = failed_checks(record->validation_report_json);
      }
      LifecycleChange change;
      change.cause = LifecycleChange::Cause::pending;
      change.certificate_id = p.certificate.id;
      change.pending_kind = p.kind;
      change.event = outbox_event(e);
      changes.push_back(std::move(change));
      events.push_back(std::move(e));
    }
    const LifecycleCommitResult committed = lifecycle_detail::commit(store, changes);
    for (std::size_t i : committed.emitted) result.emitted.push_back(std::move(events[i]));
    if (committed.applied == 0) break;  // another process announced them meanwhile
  }

  // 3. After the commit: the sinks. With none configured, nothing is announced: the events wait
  // in the outbox for the first sink added, and the result says so.
  if (options.deliver) result.deliveries = deliver(now, options);
  if (options.prune) result.pruned = prune_outbox(now, options.batch);
  result.no_sink = lifecycle_detail::sinks(store).empty();
  result.undelivered_backlog = lifecycle_detail::backlog_size(store);

  // 4. The verdict: the events of this run and the state they leave.
  result.state = lifecycle_detail::severity_counts(store);
  Severity worst = result.state.critical > 0 ? Severity::critical
                   : result.state.warning > 0 ? Severity::warning
                                              : Severity::none;
  for (const Event& e : result.emitted) worst = std::max(worst, severity_of_event(e, policies));
  // Revocation that could not be had is not a silent pass: a warning.
  if (!result.revocation.problems.empty()) worst = std::max(worst, Severity::warning);
  result.worst = worst;
  // The last-run record, for monitoring and for the last-run rule of the next check on any node:
  // when this check began and ended (the wall clock: a what-if run at another `now` still shows
  // that checks run), on which node, and whether every delivery it attempted went through.
  // Written while the run lock (if taken) is still held.
  run.success = std::none_of(result.deliveries.begin(), result.deliveries.end(),
                             [](const DeliveryAttempt& d) { return !d.delivered; });
  run.ended = lifecycle_detail::wall_now(store);
  lifecycle_detail::record_check(store, run);
  return result;
}

std::vector<DeliveryAttempt> Lifecycle::deliver(Time now, const CheckOptions& options) {
  if (options.batch == 0) throw Error(ErrorCode::invalid_argument, "lifecycle: the batch size must be positive");
  Store& store = impl_->store;
  const std::vector<SinkConfig> configured = lifecycle_detail::sinks(store);
  for (const std::string& wanted : options.sinks) {
    const bool known = std::any_of(configured.begin(), configured.end(), [&](const SinkConfig& s) { return s.name == wanted; });
    if (!known) throw Error(ErrorCode::not_found, "lifecycle: no sink named '" + wanted + "'");
  }
  // The sinks to serve this run. A callback sink without its function in this process is left
  // alone: its deliveries wait for a process that has it, rather than fail here.
  std::map<std::string, std::unique_ptr<lifecycle_detail::SinkRunner>, std::less<>> runners;
  std::vector<std::string> names;
  {
    std::lock_guard lock(impl_->mu);
    for (const SinkConfig& s : configured) {
      if (!options.sinks.empty() && std::find(options.sinks.begin(), options.sinks.end(), s.name) == options.sinks.end()) {
        continue;
      }
      const auto cb = impl_->callbacks.find(s.name);
      if (s.kind == "callback" && cb == impl_->callbacks.end()) continue;
      runners.emplace(s.name, lifecycle_detail::make_runner(s, cb == impl_->callbacks.end() ? nullptr : &cb->second));
      names.push_back(s.name);
    }
  }
  std::vector<DeliveryAttempt> attempts;
  if (names.empty()) return attempts;
  // Claimed deliveries are not due again before now + lease, failed ones not before now + delay:
  // each is attempted at most once per run, and the loop ends.
  for (;;) {
    const std::vector<Delivery> claimed = lifecycle_detail::claim_deliveries(store, now, options.lease, names, options.batch);
    if (claimed.empty()) break;
    std::vector<DeliveryOutcome> outcomes(claimed.size());
    // Per sink, in claim order (a JSON Lines sink syncs once per batch).
    for (auto& [name, runner] : runners) {
      std::vector<Delivery> batch;
      std::vector<std::size_t> index;
      for (std::size_t i = 0; i < claimed.size(); ++i) {
        if (claimed[i].sink == name) {
          batch.push_back(claimed[i]);
          index.push_back(i);
        }
      }
      if (batch.empty()) continue;
      const std::vector<SinkResult> results = runner->deliver(batch);
      for (std::size_t k = 0; k < batch.size(); ++k) {
        const SinkResult r = k < results.size() ? results[k] : SinkResult::retry("the sink gave no result");
        DeliveryOutcome& o = outcomes[index[k]];
        o.event_seq = batch[k].event.seq;
        o.sink = name;
        o.delivered = r.delivered;
        if (!r.delivered) {
          o.error = r.error.empty() ? "failed" : r.error;
          o.abandoned = r.give_up;
          o.retry_at = now + (r.retry_after && r.retry_after->count() >= 0 ? *r.retry_after : retry_delay(batch[k].attempts));
        }
      }
    }
    lifecycle_detail::settle_deliveries(store, outcomes, now);
    for (std::size_t i = 0; i < claimed.size(); ++i) {
      DeliveryAttempt a;
      a.sink = claimed[i].sink;
      a.event_id = claimed[i].event.id;
      a.attempt = claimed[i].attempts;
      a.delivered = outcomes[i].delivered;
      a.error = outcomes[i].error;
      a.abandoned = outcomes[i].abandoned;
      if (!a.delivered && !a.abandoned) a.retry_at = outcomes[i].retry_at;
      attempts.push_back(std::move(a));
    }
  }
  return attempts;
}

}  // namespace dpgcert
