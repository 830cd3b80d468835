// The lifecycle layer's rows in the store, as the lifecycle's own types: renewal policies,
// tracking rows, pending status changes, the outbox, sinks, deliveries and counters. Reaches the
// store's backend through its private side (store_detail::Access). Private to the lifecycle layer.
#pragma once

#include <dpgcert/export.hpp>
#include <dpgcert/lifecycle.hpp>
#include <dpgcert/store.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dpgcert::lifecycle_detail {

void set_renewal_policy(Store& store, std::optional<std::string_view> cvr, const std::optional<RenewalPolicy>& policy,
                        std::string_view actor);
[[nodiscard]] std::vector<RenewalPolicyEntry> renewal_policies(const Store& store);

/// Tracked certificates in record-id order, one page. Error(invalid_argument) for a page size
/// outside 1..100,000.
[[nodiscard]] std::vector<TrackedCertificate> tracked(const Store& store, const TrackedQuery& query);
/// Certificates whose next_due_at <= now, soonest first, at most `limit`: an index range.
[[nodiscard]] std::vector<TrackedCertificate> due(const Store& store, Time now, std::size_t limit);
/// Status changes waiting to be announced, oldest first, at most `limit`.
[[nodiscard]] std::vector<PendingStatusChange> pending(const Store& store, std::size_t limit);
/// Records stage changes and announced status changes with their events (and one delivery per
/// configured sink) in one transaction: the outbox. Changes whose expectation no longer holds
/// are skipped with their events; an event id already in the outbox is not written again.
LifecycleCommitResult commit(Store& store, std::span<const LifecycleChange> changes);
[[nodiscard]] SeverityCounts severity_counts(const Store& store);
[[nodiscard]] std::vector<OutboxEvent> events(const Store& store, std::int64_t after_seq, std::size_t limit);

/// Adds a sink; with options.backlog, queues for it the events no sink has a delivery for.
AddedSink add_sink(Store& store, const SinkConfig& sink, const AddSinkOptions& options, std::string_view actor);
/// How many events in the outbox no configured sink has a delivery for.
[[nodiscard]] std::size_t backlog_size(const Store& store);
void remove_sink(Store& store, std::string_view name, std::string_view actor);
[[nodiscard]] std::vector<SinkConfig> sinks(const Store& store);
/// Claims up to `limit` pending deliveries due at `now` to the named sinks (all when empty):
/// each one's attempt count grows and it is not due again before now + lease, so a process
/// that dies mid-delivery leaves it to a later run, and concurrent runs do not share it.
/// Error(invalid_argument) for a lease that is not positive. Exported for the tests.
[[nodiscard]] DPGCERT_API std::vector<Delivery> claim_deliveries(Store& store, Time now, std::chrono::seconds lease,
                                                     std::span<const std::string> sinks, std::size_t limit);
/// Records delivery outcomes (acknowledged, or failed with the next attempt's time) and the
/// counters, in one transaction.
void settle_deliveries(Store& store, std::span<const DeliveryOutcome> outcomes, Time now);
[[nodiscard]] std::vector<SinkStats> sink_stats(const Store& store);
[[nodiscard]] LifecycleCounters counters(const Store& store);
/// Records the end of a check now (the store's wall clock): when it started, which node ran it and
/// whether it delivered everything it tried, in one transaction (store-wide settings
/// "lifecycle.last_check" (the end), "lifecycle.last_check_started", "lifecycle.last_check_node",
/// "lifecycle.last_check_success").
void record_check(Store& store, const CheckRun& run);
/// The store's outbox retention setting ("lifecycle.outbox_retention_days"; "off": forever).
[[nodiscard]] std::optional<std::chrono::days> outbox_retention(const Store& store);
void set_outbox_retention(Store& store, std::optional<std::chrono::days> retention, std::string_view actor);
/// Deletes up to `limit` delivered events created before `before`, in one transaction; how many.
std::size_t prune_delivered(Store& store, Time before, std::size_t limit);
/// The last check recorded, if any.
[[nodiscard]] std::optional<CheckRun> last_check(const Store& store);
/// The store's wall clock (StoreOptions::wall_clock).
[[nodiscard]] Time wall_now(const Store& store);

/// The earliest notAfter of the leaf and of its issuers, found by name in the bundle's chain and in
/// the path the report's validation built (which may add the trust anchor): an issuing CA that
/// expires first ends the leaf's usefulness too. Unrelated certificates in the bundle do not count.
[[nodiscard]] Time effective_not_after(const Certificate& leaf, const std::vector<Certificate>& bundle_chain,
                                       const std::vector<Certificate>& report_chain);

}  // namespace dpgcert::lifecycle_detail
