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
};

struct DigestOptions {
  Common common;
  std::string org;  ///< --org: only this organisation (CVR).
};

struct MetricsOptions {
  Common common;
  std::string out;  ///< --out: write this file atomically (default: standard output).
};

struct SinkAddOptions {
  Common common;
  std::string name;
  std::string jsonl;              ///< --jsonl FILE|-
  std::string command;            ///< --command PROG
  std::vector<std::string> args;  ///< --arg ARG (repeatable): the hook's arguments.
  int timeout = 30;               ///< --timeout S: the hook's time limit.
  bool callback = false;          ///< --callback: for a program that registers a function.
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
