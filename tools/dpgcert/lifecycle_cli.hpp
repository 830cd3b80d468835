// Options of the lifecycle commands: check, digest, metrics, sink add/list/remove and
// org policy. The CLI11 wiring is in lifecycle_cli.cpp; the commands are in lifecycle_commands.cpp.
#pragma once

#include "store_cli.hpp"

#include <string>
#include <vector>

namespace dpgcert::cli {

struct CheckCliOptions {
  Common common;                   ///< --json: one JSON line per event emitted.
  std::string at;                  ///< --at: check at this RFC 3339 time (default --now, else now).
  std::vector<std::string> sinks;  ///< --sink: deliver only to these configured sinks this run.
  bool no_deliver = false;         ///< --no-deliver: record events; a later run delivers them.
  bool no_prune = false;           ///< --no-prune: leave delivered events past the retention in the outbox.
  bool exclusive = false;          ///< --exclusive: one run at a time across processes and nodes.
  std::string min_interval;        ///< --min-interval: the last-run rule (a duration; empty: the configuration's, else none).
  bool revocation = false;         ///< --revocation: refresh revocation this run (when due).
  std::string revocation_interval; ///< --revocation-interval: at most this often (a duration; empty: the store's, else 1d).
  int revocation_timeout = 0;      ///< --revocation-timeout: seconds per OCSP/CRL request (0: 15).
  std::vector<std::string> trust;      ///< --trust (default: the configuration's, else built-in OCES).
  std::vector<std::string> untrusted;  ///< --untrusted (default: the configuration's).
};

struct DigestOptions {
  Common common;
  std::string org;  ///< --org: only this organisation (CVR).
};

struct MetricsOptions {
  Common common;
  std::string out;  ///< --out: write this file atomically (default: standard output).
};

/// One option of `sink add` that a sink kind describes (sink_kinds()): the tool defines no option
/// of its own for a kind. Kinds naming the same flag share it.
struct SinkKindOption {
  std::string flag;                ///< Without "--".
  std::vector<std::string> kinds;  ///< The kinds that have it.
  bool chooses = false;            ///< Named after kinds[0]: giving it chooses that kind.
  bool given = false;              ///< Set after parsing.
  std::vector<std::string> values; ///< As typed (several for a repeatable option; none for a flag).
};

struct SinkAddOptions {
  Common common;
  std::string name;
  std::vector<SinkKindOption> kind_options;  ///< In the order of --help.
  bool no_backlog = false;  ///< Do not queue the events that waited for a sink.
};

struct SinkListOptions {
  Common common;
};

struct SinkRemoveOptions {
  Common common;
  std::string name;
};

struct OrgPolicyOptions {
  Common common;
  std::string cvr;         ///< An organisation's CVR, or "default" for the store's default.
  std::string thresholds;  ///< --thresholds 120,90,...: set; empty: show.
  bool reset = false;      ///< --reset: remove the override.
};

/// `dpgcert check`: exits 0 nothing due, 1 a warning stage, 2 expired / revoked / the last stage,
/// 3 could not run (a monitoring plugin's codes).
int run_check(const StoreGlobal& global, const CheckCliOptions& options);
int run_digest(const StoreGlobal& global, const DigestOptions& options);
int run_metrics(const StoreGlobal& global, const MetricsOptions& options);
int run_sink_add(const StoreGlobal& global, const SinkAddOptions& options);
int run_sink_list(const StoreGlobal& global, const SinkListOptions& options);
int run_sink_remove(const StoreGlobal& global, const SinkRemoveOptions& options);
int run_org_policy(const StoreGlobal& global, const OrgPolicyOptions& options);

}  // namespace dpgcert::cli
