// The lifecycle layer: renewal policies, stages, renewal events delivered reliably through an outbox
// to sinks, a per-organisation digest and Prometheus metrics. See docs/lifecycle.md.
//
// A certificate is announced once per threshold it crosses (90, 60, 30, 14, 7, 1 and 0 days before
// its effective expiry by default), once when a newer certificate supersedes it, once when it is
// revoked, once when it was forced in past a failing validation. Events are written to the store's
// outbox in the same transaction as the stage they announce, and delivered afterwards, at least
// once, to every sink configured when they were emitted; a sink that fails is retried with backoff.
#pragma once

#include <dpgcert/export.hpp>
#include <dpgcert/store.hpp>
#include <dpgcert/validation.hpp>
#include <dpgcert/time.hpp>

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <span>
#include <utility>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dpgcert {

// ---- the vocabulary: policies, kinds, severities, tracked certificates, the outbox, sinks ----

/// The days before expiry at which renewal events are emitted. A threshold of 0 means "expired".
struct RenewalPolicy {
  /// Strictly descending, each 0..3650 days, 1..32 of them.
  std::vector<int> thresholds_days{90, 60, 30, 14, 7, 1, 0};
  /// 90, 60, 30, 14, 7, 1 and 0 days.
  [[nodiscard]] static RenewalPolicy defaults() { return {}; }
  bool operator==(const RenewalPolicy&) const = default;
};

/// Throws Error(invalid_argument) unless the policy has 1..32 thresholds, strictly descending
/// (no duplicates), each between 0 and 3650 days.
DPGCERT_API void validate(const RenewalPolicy& policy);
/// "120,90,60,30,14,7,1,0" (days; spaces allowed) to a validated policy. Error(invalid_argument).
[[nodiscard]] DPGCERT_API RenewalPolicy parse_renewal_policy(std::string_view text);
/// "90,60,30,14,7,1,0".
[[nodiscard]] DPGCERT_API std::string to_string(const RenewalPolicy& policy);

/// A stored renewal policy: an organisation's override, or the store's default.
struct RenewalPolicyEntry {
  std::optional<std::string> cvr;  ///< Absent: the store's default, for organisations without their own.
  RenewalPolicy policy;
  Time updated_at{};
  std::string updated_by;
};

/// What a renewal event announces.
enum class EventKind {
  expiring,           ///< A threshold before expiry was crossed (the event carries the stage).
  expired,            ///< The threshold 0 was crossed: the certificate has expired.
  renewed,            ///< A newer certificate of its lineage superseded it.
  revoked,            ///< Its status became revoked.
  validation_failed,  ///< An active certificate whose stored validation report failed (a forced import).
};

/// "expiring", "expired", "renewed", "revoked", "validation_failed".
[[nodiscard]] DPGCERT_API std::string_view to_string(EventKind kind) noexcept;
/// The inverse of to_string(); std::nullopt for other text.
[[nodiscard]] DPGCERT_API std::optional<EventKind> parse_event_kind(std::string_view text) noexcept;

/// How urgent a certificate's stage is (monitoring-plugin style).
enum class Severity {
  none = 0,      ///< No threshold crossed.
  warning = 1,   ///< Within a warning stage.
  critical = 2,  ///< Expired, or within the policy's last stage before expiry.
};

/// "none", "warning", "critical".
[[nodiscard]] DPGCERT_API std::string_view to_string(Severity severity) noexcept;

/// A certificate as the lifecycle layer tracks it: the summary plus what events and metrics need.
struct TrackedCertificate : CertificateSummary {
  std::string issuer;  ///< RFC 4514.
  std::string serial;  ///< Lowercase hex.
  std::optional<std::string> organisation_name;
  /// The earliest notAfter of the leaf and the chain it was imported with (an expiring issuing CA
  /// ends the leaf's usefulness too). Certificates stored before the lifecycle layer: the leaf's.
  Time effective_not_after{};
  std::optional<int> stage;         ///< The last threshold announced (days); absent: none yet.
  Severity severity = Severity::none;  ///< Of the recorded stage.
  /// When the next threshold is crossed; the epoch for "evaluate at the next check" (new imports,
  /// changed policies); absent when nothing is left to announce or the certificate is not active.
  std::optional<Time> next_due_at;
};

/// Which tracked certificates to read: keyset-paged by record id.
struct TrackedQuery {
  std::optional<std::string> organisation_cvr;  ///< Attached to this organisation.
  bool active_only = true;
  std::int64_t after_id = 0;  ///< Only ids greater than this (the last id of the previous page).
  std::size_t limit = 1000;   ///< Page size (1..100,000).
};

/// A status change waiting to be announced (recorded by import and set_status).
struct PendingStatusChange {
  TrackedCertificate certificate;
  EventKind kind = EventKind::renewed;       ///< renewed, revoked or validation_failed.
  Time since{};                              ///< When the status changed.
  std::optional<std::string> superseded_by;  ///< For renewed: the successor's fingerprint.
};

/// An event in the outbox.
struct OutboxEvent {
  std::int64_t seq = 0;  ///< The store's order of emission (set by the store).
  std::string id;        ///< The stable idempotency key: one event per id, ever.
  EventKind kind = EventKind::expiring;
  std::optional<int> stage_days;
  std::int64_t certificate_id = 0;
  Time created_at{};
  std::string payload;  ///< The event as compact JSON; never secrets.
};

/// One change the lifecycle layer records, with the event it emits (if any).
struct LifecycleChange {
  enum class Cause {
    stage,    ///< A certificate's stage bookkeeping changes.
    pending,  ///< A pending status change is announced (and removed).
  };
  Cause cause = Cause::stage;
  std::int64_t certificate_id = 0;
  // Cause::stage: applied only while the stored stage and next_due_at are still the expected ones
  // (another process may have moved them meanwhile); then both are replaced.
  std::optional<int> expected_stage;
  std::optional<Time> expected_next_due_at;
  std::optional<int> stage;
  Severity severity = Severity::none;
  std::optional<Time> next_due_at;
  // Cause::pending: applied only while this kind is still pending for the certificate.
  EventKind pending_kind = EventKind::renewed;
  /// Written to the outbox with one delivery per configured sink, unless its id is there already.
  std::optional<OutboxEvent> event;
};

/// What committing a batch of LifecycleChange did.
struct LifecycleCommitResult {
  std::vector<std::size_t> emitted;  ///< Indices of the changes whose event is new in the outbox.
  std::size_t applied = 0;           ///< Changes applied.
  std::size_t skipped = 0;           ///< Changes skipped: their expectation no longer held.
};

/// A configured sink. Events emitted while it is configured get a delivery to it.
struct SinkConfig {
  std::string name;             ///< 1-64 of [A-Za-z0-9._-]; the key.
  /// How it delivers: a kind registered with the sink registry (sink_kinds(): "jsonl", "command",
  /// "callback", ...). The store keeps it as text: 1 to 32 of a-z, 0-9, '_'.
  std::string kind = "jsonl";
  std::string settings = "{}";  ///< A JSON object; its members depend on the kind (docs/lifecycle.md).
  // Set by the store:
  Time created_at{};
  std::string created_by;
};

/// One delivery of an event to a sink, claimed for an attempt.
struct Delivery {
  std::string sink;
  OutboxEvent event;
  int attempts = 0;  ///< Attempts so far, this one included.
};

/// The outcome of one delivery attempt.
struct DeliveryOutcome {
  std::int64_t event_seq = 0;
  std::string sink;
  bool delivered = false;
  Time retry_at{};    ///< Not delivered: when to try again (unless abandoned).
  std::string error;  ///< Not delivered: why (never secrets).
  bool abandoned = false;  ///< Not delivered and never attempted again (SinkResult::give_up).
};

/// Where a sink's deliveries stand.
struct SinkStats {
  std::string sink;
  std::size_t pending = 0;    ///< Deliveries not yet acknowledged.
  std::size_t delivered = 0;  ///< Deliveries acknowledged.
  std::optional<Time> next_attempt_at;  ///< The earliest pending delivery's.
  std::optional<std::string> last_error;  ///< Of the most recently failed pending delivery.
};

/// The lifecycle layer's counters; they only grow (metrics expose them as Prometheus counters).
struct LifecycleCounters {
  std::vector<std::pair<std::string, std::uint64_t>> emitted;    ///< By event kind.
  std::vector<std::pair<std::string, std::uint64_t>> delivered;  ///< By sink.
  std::vector<std::pair<std::string, std::uint64_t>> failed;     ///< Failed attempts, by sink.
};

/// How many active certificates are in a warning or critical stage.
struct SeverityCounts {
  std::size_t warning = 0;
  std::size_t critical = 0;
};

// ---- the policy arithmetic ------------------------------------------------------------------

/// The stage of a certificate at `now`: the smallest threshold T of the policy whose moment,
/// effective_not_after - T days, has come (now >= that moment); std::nullopt when none has.
/// Stage 0 means expired (now >= effective_not_after).
[[nodiscard]] DPGCERT_API std::optional<int> stage_at(const RenewalPolicy& policy, Time effective_not_after, Time now);

/// When the first threshold after `stage` (the most severe one still to come) is crossed:
/// effective_not_after minus that many days; std::nullopt when `stage` is the policy's last.
/// With no stage yet, the policy's first threshold.
[[nodiscard]] DPGCERT_API std::optional<Time> next_due_at(const RenewalPolicy& policy, Time effective_not_after,
                                                          std::optional<int> stage);

/// How urgent a stage is: none without a stage; critical for 0 (expired) and for any stage at or
/// below the policy's smallest positive threshold (its last stage before expiry); else warning.
[[nodiscard]] DPGCERT_API Severity severity_of(const RenewalPolicy& policy, std::optional<int> stage);

/// Whole days from `now` to `t`, rounded towards the past: 0 on the last day, -1 the day after.
[[nodiscard]] DPGCERT_API long long days_until(Time t, Time now);

// ---- events ---------------------------------------------------------------------------------

/// A renewal event: what the sinks receive. Never holds a secret.
struct Event {
  /// The idempotency key: event_id(fingerprint, kind, stage). The same event has the same id on
  /// every delivery attempt; a receiver deduplicates on it.
  std::string id;
  EventKind kind = EventKind::expiring;
  std::optional<int> stage_days;  ///< expiring and expired: the threshold crossed.
  Time at{};                      ///< When it was emitted (the check's `now`).
  long long days_left = 0;        ///< days_until(effective_not_after, at); negative once expired.
  Time effective_not_after{};
  /// The certificate as it was at `at`. Its bookkeeping members (id, stage, severity,
  /// next_due_at: the state before the event) are not part of the event's JSON, so a sink
  /// receives them default-valued.
  TrackedCertificate certificate;
  /// The organisation it is attached to: CVR, name and contacts (absent when attached to none).
  std::optional<Organisation> organisation;
  std::optional<std::string> superseded_by;  ///< renewed: the successor's fingerprint.
  /// validation_failed: the ids of the checks that failed (e.g. "chain", "revocation").
  std::vector<std::string> failed_checks;

  /// The CVR to act for: the organisation's, else the certificate's own.
  [[nodiscard]] std::optional<std::string> cvr() const {
    return organisation ? std::optional<std::string>(organisation->cvr) : certificate.cvr;
  }
};

/// The stable id of an event: the first 32 hex digits of SHA-256("<fingerprint>|<kind>|<stage>"),
/// the stage empty for kinds without one.
[[nodiscard]] DPGCERT_API std::string event_id(std::string_view fingerprint, EventKind kind, std::optional<int> stage);

/// An event as JSON (the payload sinks receive; schema in docs/lifecycle.md): id, kind,
/// stage_days, at, days_left, effective_not_after, fingerprint_sha256, cvr, mailbox, certificate,
/// organisation, superseded_by, failed_checks.
[[nodiscard]] DPGCERT_API nlohmann::json to_json(const Event& event);
/// The inverse of to_json(Event). Error(malformed) when a required member is missing or wrong.
[[nodiscard]] DPGCERT_API Event event_from_json(const nlohmann::json& json);

// ---- sinks ----------------------------------------------------------------------------------

/// What a sink says about one event.
struct SinkResult {
  bool delivered = false;
  std::string error;  ///< When not delivered: why (kept with the delivery; never secrets).
  /// When not delivered: how long to wait before the next attempt, as the target asked
  /// (Retry-After) or the sink chose (backoff with jitter); absent: retry_delay() of the attempts.
  std::optional<std::chrono::seconds> retry_after;
  /// When not delivered: trying again cannot help (the receiver refused the event for good, or the
  /// sink's attempts ran out). The delivery stays in the outbox with its error, pending but never
  /// attempted again (sink_stats() counts it as pending, without a next attempt).
  bool give_up = false;
  [[nodiscard]] static SinkResult ok() { return {true, {}, std::nullopt, false}; }
  [[nodiscard]] static SinkResult retry(std::string why) { return {false, std::move(why), std::nullopt, false}; }
  /// Retry, not before `after` from now.
  [[nodiscard]] static SinkResult retry_in(std::string why, std::chrono::seconds after) {
    return {false, std::move(why), after, false};
  }
  /// Not delivered, and never attempted again.
  [[nodiscard]] static SinkResult abandon(std::string why) { return {false, std::move(why), std::nullopt, true}; }
};

/// An in-process sink: called once per delivery attempt, on the thread that runs check() or
/// deliver(). Returning retry (or throwing) leaves the event for a later run.
using EventCallback = std::function<SinkResult(const Event&)>;

/// A sink that calls the function registered under `name` (Lifecycle::register_callback). Events
/// for it wait in the outbox while no process has the function registered.
[[nodiscard]] DPGCERT_API SinkConfig callback_sink(std::string name);
/// A sink that appends each event as one JSON line to `path` ("-": standard output), created mode
/// 0640 when missing, and fsyncs before acknowledging. A relative path is made absolute now.
[[nodiscard]] DPGCERT_API SinkConfig jsonl_sink(std::string name, const std::string& path);
/// A sink that runs `argv` (argv[0] found on PATH when it has no '/') once per event with the event
/// as JSON on stdin and DPGCERT_EVENT_ID, DPGCERT_EVENT_KIND, DPGCERT_STAGE_DAYS, DPGCERT_DAYS_LEFT,
/// DPGCERT_FINGERPRINT, DPGCERT_CVR, DPGCERT_MAILBOX, DPGCERT_NOT_AFTER in its environment; of
/// this process's environment only what command_hook_inherits() allows (so no passphrase or token
/// in any variable reaches a hook). Exit status 0 acknowledges; any other status, a signal or running past `timeout` (the process group
/// is killed) means "retry later".
[[nodiscard]] DPGCERT_API SinkConfig command_sink(std::string name, std::vector<std::string> argv,
                                                  std::chrono::seconds timeout = std::chrono::seconds(30));
/// Whether a command hook inherits this process's environment variable `name`: only PATH, HOME,
/// LANG, TZ and LC_* do. A program that reads a secret from a variable should not use one of these
/// names (the tool refuses them for passphrases).
[[nodiscard]] DPGCERT_API bool command_hook_inherits(std::string_view name) noexcept;
/// Checks a sink's kind-specific settings. Error(invalid_argument), also for a kind not in the
/// sink registry.
DPGCERT_API void validate_sink(const SinkConfig& sink);

/// One member of a sink kind's settings object, described for the tool's options and the
/// configuration file. The tool offers every option of every kind as `--<flag>` on `dpgcert sink
/// add` and as the member `<config_key>` of a sink in its configuration file, and builds the
/// settings from the values given with sink_from_options(); the type says how.
struct SinkOption {
  enum class Type {
    string,   ///< One text: settings[key] = "text".
    path,     ///< One file: made absolute against the current folder ("-" stays "-"; the tool's
              ///< configuration file resolves it against the file's folder first).
    strings,  ///< Repeatable: each value appended to the array settings[key], after a `program`'s.
    seconds,  ///< A whole number of seconds, at least 1: settings[key] = n.
    program,  ///< One program (found on PATH without a '/'): settings[key] = [program], followed
              ///< by the values of the kind's `strings` options with the same key (its arguments).
    flag,     ///< A switch without a value (`--contacts`): settings[key] = true when given. As text
              ///< (SinkOptionValues) "true" or "false".
  };
  std::string key;   ///< The member of the settings JSON object ("path", "argv").
  Type type = Type::string;
  std::string help;  ///< One line, as `dpgcert sink add --help` shows it.
  bool required = false;
  std::string flag;           ///< The tool's option, without "--" (empty: the key, '_' as '-').
  std::string config_key;     ///< The member in the tool's configuration file (empty: the flag).
  std::string default_value;  ///< The value used when none is given (empty: none).
};

/// A sink kind of the registry: its name (SinkConfig::kind), a summary and its settings. The tool
/// chooses a kind by the option named after it (`--jsonl PATH`, `--command PROG`); a kind without
/// such an option gets a flag of that name (`--callback`), described by `flag_help`.
struct SinkKindInfo {
  std::string name;
  std::string summary;
  std::vector<SinkOption> options;  ///< As sink_kinds() returns them, flag and config_key are set.
  std::string flag_help;            ///< The help of the `--<name>` flag when no option is named so.
};

/// The sink kinds built into this dpgcert, in the order the tool lists them ("jsonl", "command",
/// "callback").
[[nodiscard]] DPGCERT_API std::vector<SinkKindInfo> sink_kinds();

/// Values for a sink kind's options as the tool's command line and configuration file give
/// them: (SinkOption::flag, the value as text) in the order given; a `strings` option may appear
/// several times, seconds are decimal. The kind's own flag (`--callback`) carries no value.
using SinkOptionValues = std::vector<std::pair<std::string, std::string>>;

/// A sink of `kind` built from option values (see SinkOption::Type); an option not given takes its
/// default_value. Error(invalid_argument) for a kind not in the registry, a value for an option the
/// kind does not have, a missing required option, several values for a single one, seconds that
/// are not a whole number from 1, and whatever validate_sink() refuses.
[[nodiscard]] DPGCERT_API SinkConfig sink_from_options(std::string name, std::string_view kind,
                                                       const SinkOptionValues& values);

/// Where a sink delivers, in one line for people ("/var/log/dpgcert/events.jsonl", "open-ticket
/// --queue=pki (timeout 30 s)"). Never throws: odd settings show as "?".
[[nodiscard]] DPGCERT_API std::string describe_sink(const SinkConfig& sink);

/// How Lifecycle::add_sink() adds a sink.
struct AddSinkOptions {
  /// Queue for the new sink every event in the outbox that no configured sink has a delivery for:
  /// the events emitted while no sink was configured (or whose only sinks were removed since). With
  /// false, the sink receives only events emitted from now on, and those events keep waiting.
  bool backlog = true;
};

/// What Lifecycle::add_sink() did.
struct AddedSink {
  SinkConfig sink;          ///< As stored.
  std::size_t backlog = 0;  ///< Events of the backlog queued for it.
};

// ---- check ----------------------------------------------------------------------------------

/// How check() refreshes the revocation of stored active certificates (docs/lifecycle.md,
/// "Revocation refresh"): validate()'s online revocation check over each one's path (OCSP first, CRLs
/// kept in the store, so a CRL is fetched at most once per its validity), at most once per
/// `interval` for the store (the time of the last refresh is a store setting). A certificate whose
/// path holds a revoked certificate becomes `revoked` (as Store::set_status() does, audited), so
/// the same check emits its `revoked` event. What could not be had is in the result, and the
/// check goes on.
struct RevocationRefreshOptions {
  /// Refresh in this run (when due). Off: only when the store's setting asks for it
  /// (Lifecycle::set_revocation_refresh()).
  bool enabled = false;
  /// At most this often; absent: the store's setting, else a day.
  std::optional<std::chrono::seconds> interval;
  /// Anchors to build the paths to; absent: TrustAnchors::oces_builtin().
  std::optional<TrustAnchors> anchors;
  /// Untrusted CA certificates for path building (the anchors' intermediates are offered too).
  std::vector<Certificate> intermediates;
  /// Timeouts, sizes, OCSP nonce; and whether to ask OCSP at all.
  FetchOptions fetch;
  bool use_ocsp = true;
};

/// How check() and deliver() run.
struct CheckOptions {
  /// Deliver only to these sinks this run (empty: to every configured one). The others' deliveries
  /// wait for a later run.
  std::vector<std::string> sinks;
  /// Deliver after recording (false: only record; a later run delivers).
  bool deliver = true;
  /// Certificates evaluated, and deliveries claimed, per transaction.
  std::size_t batch = 1000;
  /// How long a claimed delivery is reserved for this run: a run that dies mid-delivery leaves it
  /// to runs after this.
  std::chrono::seconds lease{15 * 60};
  /// One logical run at a time across processes and nodes: the check takes the store's run lock
  /// "lifecycle.check" (PostgreSQL: an advisory lock of the database; SQLite: a lock file beside
  /// it) without waiting, and when another run holds it returns at once with `skipped` set.
  bool exclusive = false;
  /// The last-run rule, for every node's timer on one store: a check skips (`skipped`, with a
  /// `skip_reason`) when the last check recorded in the store (by any node, this one included, and
  /// by non-exclusive runs too) ended less than this long ago by the store's wall clock
  /// (StoreOptions::wall_clock), in whole seconds: a run whose end reads 10:00:05 lets the next
  /// one start from 10:00:05 + min_interval. The record is read after taking the run lock, so a
  /// positive interval implies `exclusive`. A record dated more than the interval in the future
  /// (a node whose clock ran ahead) is ignored rather than blocking checks until then. 0 s: no
  /// rule. Error(invalid_argument) when negative.
  std::chrono::seconds min_interval{0};
  /// Names this node in the last-run record (Lifecycle::last_check()); empty: "<host name>:<process id>".
  std::string node;
  /// After delivering, prune the outbox: events older than the store's retention
  /// (Lifecycle::outbox_retention()) whose every delivery went through are deleted with their
  /// deliveries. Events without a delivery (waiting for a sink's backlog) and those with a pending
  /// or abandoned delivery stay. The audit log and the counters are not touched.
  bool prune = true;
  /// Revocation refresh of the stored active certificates (off unless asked for here or by the
  /// store's setting).
  RevocationRefreshOptions revocation;
};

/// How long delivered events stay in the outbox when the store sets nothing
/// (Lifecycle::set_outbox_retention()): a year.
inline constexpr std::chrono::days kDefaultOutboxRetention{365};

/// The delay before the next attempt after `attempts` failed ones: 1 minute doubled per attempt,
/// at most a day.
[[nodiscard]] DPGCERT_API std::chrono::seconds retry_delay(int attempts) noexcept;

/// One delivery attempt of a run.
struct DeliveryAttempt {
  std::string sink;
  std::string event_id;
  int attempt = 0;  ///< 1 for the first.
  bool delivered = false;
  std::string error;
  std::optional<Time> retry_at;  ///< When not delivered and not abandoned.
  bool abandoned = false;        ///< Not delivered, and the sink gave up on it (SinkResult::give_up).
};

/// A stored certificate whose revocation could not be had in a refresh.
struct RevocationRefreshProblem {
  std::string fingerprint;
  std::string subject;  ///< RFC 4514, of the stored certificate.
  std::string message;  ///< The revocation check's message (every reason, with the URLs).
  std::vector<RevocationError> errors;  ///< Each failed attempt (empty when the path could not be built).
};

/// What the revocation refresh of one check() did.
struct RevocationRefreshResult {
  bool ran = false;          ///< Refreshed in this run.
  std::string skip_reason;   ///< Why not, when enabled but not run (interval not passed).
  std::size_t checked = 0;   ///< Active certificates asked about.
  std::size_t good = 0;      ///< Whose whole path was found not revoked.
  std::vector<std::string> revoked;  ///< Fingerprints that turned up revoked and became `revoked`.
  std::vector<RevocationRefreshProblem> problems;  ///< Left unanswered (transport, stale, ...).
  std::optional<Time> next_due;  ///< When the next refresh is due.
};

/// What one check() did.
struct CheckResult {
  Time at{};
  std::vector<Event> emitted;               ///< New events, in emission order.
  std::vector<DeliveryAttempt> deliveries;  ///< This run's attempts.
  std::size_t evaluated = 0;                ///< Certificates evaluated (due ones).
  SeverityCounts state;                     ///< Active certificates by severity, after the run.
  /// The monitoring-plugin verdict: the worst of the emitted events (expiring in a warning stage
  /// and validation_failed: warning; expired, revoked and expiring in the last stage: critical;
  /// renewed: none) and of the state of the active certificates after the run; at least warning
  /// when the revocation refresh left certificates unanswered.
  Severity worst = Severity::none;
  /// An exclusive check did nothing: another run held the run lock, or the last run ended less
  /// than CheckOptions::min_interval ago.
  bool skipped = false;
  /// Why it was skipped, in one line for people ("another check holds the store's run lock", "the
  /// last check ended ... on node ..."); empty when it ran.
  std::string skip_reason;
  /// No sink is configured: the events of this run (and any before) wait in the outbox for the
  /// first sink added (AddSinkOptions::backlog). The tool warns about it.
  bool no_sink = false;
  /// Events in the outbox that no configured sink has a delivery for, after the run.
  std::size_t undelivered_backlog = 0;
  /// Delivered events this run pruned from the outbox (CheckOptions::prune).
  std::size_t pruned = 0;
  /// The revocation refresh (CheckOptions::revocation); `ran` false when none was due or asked for.
  RevocationRefreshResult revocation;

  [[nodiscard]] DPGCERT_API std::size_t delivered() const;
  [[nodiscard]] DPGCERT_API std::size_t failed() const;
};

/// The last-run record: the last check that ran to its end on this store, on any node (the store's
/// wall clock, whole seconds; written under the run lock at the end of the run).
struct CheckRun {
  Time started{};     ///< When it began (after taking the run lock, for an exclusive check).
  Time ended{};       ///< When it ended.
  std::string node;   ///< CheckOptions::node of the node that ran it ("<host name>:<process id>" by default).
  bool success = false;  ///< Every delivery it attempted went through.
};

// ---- digest ---------------------------------------------------------------------------------

/// One certificate in a digest.
struct DigestCertificate {
  TrackedCertificate certificate;
  long long days_left = 0;     ///< To the effective expiry.
  std::optional<int> stage;    ///< The stage at the digest's time (whether announced yet or not).
  Severity severity = Severity::none;
};

/// What an organisation has to renew, and whom to tell.
struct OrganisationDigest {
  /// Absent for certificates attached to no organisation.
  std::optional<Organisation> organisation;
  RenewalPolicy policy;
  std::vector<DigestCertificate> certificates;  ///< Active ones, soonest effective expiry first.
};

/// The digest for humans: per organisation, what expires when, who to contact.
struct Digest {
  Time at{};
  std::vector<OrganisationDigest> organisations;  ///< By CVR; the unattached last.
};

/// A revocation refresh as JSON: {"revocation": {ran, skip_reason, checked, good, revoked,
/// problems: [{fingerprint, subject, message, errors: [{kind, reason, url}]}], next_due}}, the
/// line `dpgcert check --json` prints after the events (docs/cli-json.md).
[[nodiscard]] DPGCERT_API nlohmann::json to_json(const RevocationRefreshResult& result);

/// The digest as JSON (docs/cli-json.md).
[[nodiscard]] DPGCERT_API nlohmann::json to_json(const Digest& digest);
/// The digest as text, one block per organisation; values escaped for a terminal as to_text(const
/// ValidationReport&) does.
[[nodiscard]] DPGCERT_API std::string to_text(const Digest& digest);

// ---- the lifecycle handle -------------------------------------------------------------------

/// Runs the renewal tracking over a store.
///
/// Every call takes the time (`now`); nothing reads the clock. Several processes may run check()
/// over one store at once: stage changes are guarded by the stage they were computed from, and an
/// event id is written to the outbox at most once.
///
/// Thread safety: register callbacks first; after that, calls may come from several threads (they
/// serialise on the store). The store must outlive the Lifecycle.
class DPGCERT_API Lifecycle final {
 public:
  explicit Lifecycle(Store& store);
  ~Lifecycle();
  Lifecycle(const Lifecycle&) = delete;
  Lifecycle& operator=(const Lifecycle&) = delete;

  /// Registers the function of a callback sink (replacing one registered before). The sink must
  /// also be configured in the store (callback_sink(name), add_sink) for events to be
  /// queued for it.
  void register_callback(const std::string& name, EventCallback callback);

  /// Evaluates the certificates due at `now` and the pending status changes, records the new
  /// stages with their events in the outbox, then (unless options.deliver is false) delivers what
  /// is due to the sinks. Errors: those of the store; a failing sink is an outcome, not an error.
  CheckResult check(Time now, const CheckOptions& options = {});
  /// Delivers what is due at `now` without evaluating anything.
  std::vector<DeliveryAttempt> deliver(Time now, const CheckOptions& options = {});

  // -- renewal policies (kept in the store) --
  /// Sets (or with std::nullopt removes) the renewal policy of an organisation, or with no CVR the
  /// store's default. Certificates it applies to are evaluated again at the next check (no event
  /// is repeated: a stage already announced stays announced). Error(not_found) for an unknown
  /// organisation, Error(invalid_argument) for an invalid policy.
  void set_renewal_policy(std::optional<std::string_view> cvr, const std::optional<RenewalPolicy>& policy,
                          std::string_view actor = {});
  /// Every stored policy: the store's default first (if set), then organisations by CVR.
  [[nodiscard]] std::vector<RenewalPolicyEntry> renewal_policies() const;

  // -- sinks (kept in the store) --
  /// Adds a sink. Error(conflict) when the name exists, Error(invalid_argument) for a bad name or
  /// settings that are not a JSON object. Events in the outbox that no configured sink has a
  /// delivery for (emitted while none was configured) are queued for it (AddSinkOptions::backlog).
  SinkConfig add_sink(const SinkConfig& sink, std::string_view actor = {});
  /// As add_sink(sink, actor), choosing whether the sink receives the backlog; says how many
  /// events were queued for it.
  AddedSink add_sink(const SinkConfig& sink, const AddSinkOptions& options, std::string_view actor = {});
  /// Removes a sink with its pending deliveries. Error(not_found).
  void remove_sink(std::string_view name, std::string_view actor = {});
  /// Every sink, by name.
  [[nodiscard]] std::vector<SinkConfig> sinks() const;
  /// Per sink: pending and delivered deliveries, the next attempt, the last error.
  [[nodiscard]] std::vector<SinkStats> sink_stats() const;

  // -- outbox retention (kept in the store) --
  /// How long delivered events stay in the outbox (counted from their creation); std::nullopt:
  /// forever. kDefaultOutboxRetention when the store sets nothing.
  [[nodiscard]] std::optional<std::chrono::days> outbox_retention() const;
  /// Sets the retention (std::nullopt: keep every event), recorded in the audit log
  /// ("lifecycle.retention"). Error(invalid_argument) for less than one day or more than 100 years.
  void set_outbox_retention(std::optional<std::chrono::days> retention, std::string_view actor = {});
  /// Deletes delivered events created before now - outbox_retention() with their deliveries (see
  /// CheckOptions::prune), `batch` per transaction; how many. check() calls it.
  std::size_t prune_outbox(Time now, std::size_t batch = 1000);

  // -- revocation refresh (kept in the store) --
  /// The interval of the scheduled revocation refresh: when set, every check() refreshes the
  /// revocation of the active certificates at most this often (RevocationRefreshOptions);
  /// std::nullopt: only checks that ask. Audited ("lifecycle.revocation_refresh").
  /// Error(invalid_argument) below 60 s or above a year.
  void set_revocation_refresh(std::optional<std::chrono::seconds> interval, std::string_view actor = {});
  [[nodiscard]] std::optional<std::chrono::seconds> revocation_refresh() const;
  /// When the last revocation refresh ran; std::nullopt before the first.
  [[nodiscard]] std::optional<Time> last_revocation_refresh() const;

  // -- what is recorded --
  /// Tracked certificates in record-id order, one page (see TrackedQuery).
  [[nodiscard]] std::vector<TrackedCertificate> tracked(const TrackedQuery& query) const;
  /// Events in the outbox with seq > after_seq, oldest first, at most `limit` (0: all).
  [[nodiscard]] std::vector<OutboxEvent> events(std::int64_t after_seq = 0, std::size_t limit = 0) const;
  /// Events emitted by kind, deliveries and failed attempts by sink.
  [[nodiscard]] LifecycleCounters counters() const;
  /// Active certificates by the severity of their recorded stage.
  [[nodiscard]] SeverityCounts severity_counts() const;
  /// The last check that ran to its end (CheckOptions::min_interval counts from its `ended`);
  /// std::nullopt before the first. Records older than the node and start fields show them empty
  /// (the node) and equal to `ended` (the start).
  [[nodiscard]] std::optional<CheckRun> last_check() const;

  /// The policy that applies to an organisation (its own, else the store's default, else the
  /// built-in one); with no CVR, the store's default.
  [[nodiscard]] RenewalPolicy policy_for(std::optional<std::string_view> cvr) const;

  /// The digest of every organisation, or of one (Error(not_found) for an unknown CVR).
  [[nodiscard]] Digest digest(Time now, std::optional<std::string_view> cvr = std::nullopt) const;

  /// Writes the metrics in the Prometheus text exposition format (version 0.0.4): the
  /// x509-certificate-exporter's per-certificate gauges for every active certificate and
  /// dpgcert's counters (docs/lifecycle.md).
  void write_metrics(std::ostream& out, Time now) const;
  /// write_metrics() into `path` atomically: a temporary file beside it, fsynced, renamed over it
  /// (mode 0644; node_exporter's textfile collector never sees half a file). Error(io).
  void write_metrics_file(const std::filesystem::path& path, Time now) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dpgcert
