// The lifecycle layer's bookkeeping in the SQLite backend (tables of migration 3): renewal
// policies, stages, pending status changes, the outbox, sinks and counters. Every function runs
// inside a transaction the store opened (and serialised); none opens one itself. Private to the
// store layer.
#pragma once

#include "store/sqlite_db.hpp"

#include <dpgcert/store.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dpgcert::sqlite::lifecycle_sql {

// -- hooks of the inventory's own changes (inside their write transactions) --

/// A new certificate row: its lifecycle row (active ones evaluated at the next check) and the
/// status changes to announce (revoked at import; active but forced past a failing validation).
void on_import(Connection& db, std::int64_t id, std::int64_t effective_not_after, CertificateStatus status,
               bool failed_validation, std::int64_t at);
/// A certificate left the active state (superseded, revoked, retired): it stops being tracked,
/// and the change is queued to be announced (renewed, revoked; nothing for retired).
void on_status_change(Connection& db, std::int64_t id, CertificateStatus status, std::int64_t at);

// -- renewal policies --

/// Replaces (or removes) the policy of an organisation (`organisation_id`) or the store default
/// (std::nullopt) and marks the certificates it governs for evaluation at the next check.
void set_policy(Connection& db, std::optional<std::int64_t> organisation_id, const std::optional<RenewalPolicy>& policy,
                std::int64_t at, std::string_view who);
[[nodiscard]] std::vector<RenewalPolicyEntry> policies(Connection& db);

// -- tracking --

[[nodiscard]] std::vector<TrackedCertificate> tracked(Connection& db, const TrackedQuery& query);
[[nodiscard]] std::vector<TrackedCertificate> due(Connection& db, std::int64_t now, std::size_t limit);
[[nodiscard]] std::vector<PendingStatusChange> pending(Connection& db, std::size_t limit);
[[nodiscard]] LifecycleCommitResult commit(Connection& db, std::span<const LifecycleChange> changes);
[[nodiscard]] SeverityCounts severity_counts(Connection& db);
[[nodiscard]] std::vector<OutboxEvent> events(Connection& db, std::int64_t after_seq, std::size_t limit);

// -- sinks and deliveries --

/// Checks a sink's name and settings (Error(invalid_argument)) before any transaction.
void check_sink(const SinkConfig& sink);
/// Error(conflict) when the name exists.
[[nodiscard]] SinkConfig add_sink(Connection& db, const SinkConfig& sink, std::int64_t at, std::string_view who);
/// Error(not_found) when there is no such sink.
void remove_sink(Connection& db, std::string_view name);
[[nodiscard]] std::vector<SinkConfig> sinks(Connection& db);
[[nodiscard]] std::vector<Delivery> claim(Connection& db, std::int64_t now, std::int64_t lease_seconds,
                                          std::span<const std::string> sink_names, std::size_t limit);
void settle(Connection& db, std::span<const DeliveryOutcome> outcomes, std::int64_t now);
[[nodiscard]] std::vector<SinkStats> sink_stats(Connection& db);
[[nodiscard]] LifecycleCounters counters(Connection& db);

// -- integrity --

/// Lifecycle problems for Store::check_integrity(): certificates without a lifecycle row, active
/// certificates that are not tracked, inactive ones that still are.
void check(Connection& db, std::vector<std::string>& problems);

}  // namespace dpgcert::sqlite::lifecycle_sql
