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
#include <dpgcert/time.hpp>

#include <nlohmann/json_fwd.hpp>

#include <chrono>
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
  [[nodiscard]] static SinkResult ok() { return {true, {}}; }
  [[nodiscard]] static SinkResult retry(std::string why) { return {false, std::move(why)}; }
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
/// DPGCERT_FINGERPRINT, DPGCERT_CVR, DPGCERT_MAILBOX, DPGCERT_NOT_AFTER in its environment (and
/// no other DPGCERT_ variable of this process: DPGCERT_PASSPHRASE never reaches a hook). Exit
/// status 0 acknowledges; any other status, a signal or running past `timeout` (the process group
/// is killed) means "retry later".
[[nodiscard]] DPGCERT_API SinkConfig command_sink(std::string name, std::vector<std::string> argv,
                                                  std::chrono::seconds timeout = std::chrono::seconds(30));
/// Checks a sink's kind-specific settings. Error(invalid_argument), also for a kind not in the
/// sink registry.
DPGCERT_API void validate_sink(const SinkConfig& sink);

/// One member of a sink kind's settings object, described for the tool's options and the
/// configuration file.
struct SinkOption {
  enum class Type { string, path, strings, seconds };
  std::string key;   ///< The member of the settings JSON object ("path", "argv").
  Type type = Type::string;
  std::string help;  ///< One line.
  bool required = false;
};

/// A sink kind of the registry: its name (SinkConfig::kind), a summary and its settings.
struct SinkKindInfo {
  std::string name;
  std::string summary;
  std::vector<SinkOption> options;
};

/// The sink kinds built into this dpgcert, by name ("callback", "command", "jsonl").
[[nodiscard]] DPGCERT_API std::vector<SinkKindInfo> sink_kinds();

// ---- check ----------------------------------------------------------------------------------

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
};

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
  std::optional<Time> retry_at;  ///< When not delivered.
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
  /// renewed: none) and of the state of the active certificates after the run.
  Severity worst = Severity::none;

  [[nodiscard]] DPGCERT_API std::size_t delivered() const;
  [[nodiscard]] DPGCERT_API std::size_t failed() const;
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

/// The digest as JSON (docs/cli-json.md).
[[nodiscard]] DPGCERT_API nlohmann::json to_json(const Digest& digest);
/// The digest as text, one block per organisation.
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
  /// also be configured in the store (callback_sink(name), Store::add_sink) for events to be
  /// queued for it.
  void register_callback(const std::string& name, EventCallback callback);

  /// Evaluates the certificates due at `now` and the pending status changes, records the new
  /// stages with their events in the outbox, then (unless options.deliver is false) delivers what
  /// is due to the sinks. Errors: those of the store; a failing sink is an outcome, not an error.
  CheckResult check(Time now, const CheckOptions& options = {});
  /// Delivers what is due at `now` without evaluating anything.
  std::vector<DeliveryAttempt> deliver(Time now, const CheckOptions& options = {});

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
