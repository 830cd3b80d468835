// The lifecycle commands: check, digest, metrics, sink add/list/remove, org policy (CLI11
// definitions; the commands are in lifecycle_commands.cpp).
#include "commands.hpp"
#include "lifecycle_cli.hpp"

#include <CLI/CLI.hpp>

#include <memory>

namespace dpgcert::cli {

void add_lifecycle_commands(CLI::App& app, const StoreGlobal& global, CommandRuns& runs) {
  const auto check_opts = std::make_shared<CheckCliOptions>();
  auto* check_cmd = add_store_command(app, "check", "Announce certificates that crossed a renewal threshold; deliver the events");
  check_cmd->add_option("--at", check_opts->at, "Check at this RFC 3339 time (default: --now, else now)");
  check_cmd->add_option("--sink", check_opts->sinks, "Deliver only to this configured sink this run (repeatable)");
  check_cmd->add_flag("--no-deliver", check_opts->no_deliver, "Record the events only; a later run delivers them");
  add_common(*check_cmd, check_opts->common);
  check_cmd->footer(
      "--json prints one JSON line per event emitted (docs/cli-json.md). Each threshold is announced once;\n"
      "failed deliveries are retried by later runs with backoff.\n"
      "Exit codes (a monitoring plugin's): 0 nothing due, 1 something in a warning stage, 2 something expired,\n"
      "revoked or in its last stage, 3 could not run.\n"
      "Examples:\n"
      "  dpgcert check\n"
      "  dpgcert check --json --at 2026-11-15T00:00:00Z");
  runs.emplace_back(check_cmd, [&global, check_opts] { return run_check(global, *check_opts); });

  const auto digest_opts = std::make_shared<DigestOptions>();
  auto* digest_cmd = add_store_command(app, "digest", "Per organisation: what expires when, and whom to contact");
  digest_cmd->add_option("--org", digest_opts->org, "Only this organisation (CVR)");
  add_common(*digest_cmd, digest_opts->common);
  digest_cmd->footer("Examples:\n  dpgcert digest\n  dpgcert digest --org 12345674 --json");
  runs.emplace_back(digest_cmd, [&global, digest_opts] { return run_digest(global, *digest_opts); });

  const auto metrics_opts = std::make_shared<MetricsOptions>();
  auto* metrics_cmd = add_store_command(app, "metrics", "Prometheus metrics (x509-certificate-exporter names, dpgcert counters)");
  metrics_cmd->add_option("--out", metrics_opts->out,
                          "Write this file atomically, e.g. for node_exporter's textfile collector (default: stdout)");
  metrics_cmd->add_option("--now", metrics_opts->common.now, "Pretend the current time is this RFC 3339 time");
  metrics_cmd->footer("Example:\n  dpgcert metrics --out /var/lib/prometheus/node-exporter/dpgcert.prom");
  runs.emplace_back(metrics_cmd, [&global, metrics_opts] { return run_metrics(global, *metrics_opts); });

  auto* sink_grp = add_store_command(app, "sink", "Where renewal events are delivered");
  sink_grp->require_subcommand(1);
  const auto sink_add = std::make_shared<SinkAddOptions>();
  auto* sink_add_cmd = add_store_command(*sink_grp, "add", "Add a sink: JSON Lines, a command hook, or an in-process callback");
  sink_add_cmd->add_option("NAME", sink_add->name, "The sink's name (A-Z, a-z, 0-9, '.', '_', '-')")->required();
  auto* sink_jsonl = sink_add_cmd->add_option("--jsonl", sink_add->jsonl, "Append events as JSON Lines to FILE ('-': stdout)");
  auto* sink_command = sink_add_cmd->add_option("--command", sink_add->command,
                                                "Run PROG per event: the event as JSON on stdin, DPGCERT_* variables");
  auto* sink_callback = sink_add_cmd->add_flag("--callback", sink_add->callback,
                                               "A function the embedding program registers under NAME");
  sink_jsonl->excludes(sink_command)->excludes(sink_callback);
  sink_command->excludes(sink_callback);
  sink_add_cmd->add_option("--arg", sink_add->args, "An argument for --command (repeatable)");
  sink_add_cmd->add_option("--timeout", sink_add->timeout, "Seconds the command may run (default 30)");
  add_common(*sink_add_cmd, sink_add->common);
  sink_add_cmd->footer(
      "Examples:\n"
      "  dpgcert sink add log --jsonl /var/log/dpgcert/events.jsonl\n"
      "  dpgcert sink add ticket --command /usr/local/bin/open-ticket --arg --queue=pki --timeout 60");
  runs.emplace_back(sink_add_cmd, [&global, sink_add] { return run_sink_add(global, *sink_add); });
  const auto sink_list = std::make_shared<SinkListOptions>();
  auto* sink_list_cmd = add_store_command(*sink_grp, "list", "List sinks with their pending and delivered events");
  add_common(*sink_list_cmd, sink_list->common);
  sink_list_cmd->footer("Example:\n  dpgcert sink list --json");
  runs.emplace_back(sink_list_cmd, [&global, sink_list] { return run_sink_list(global, *sink_list); });
  const auto sink_remove = std::make_shared<SinkRemoveOptions>();
  auto* sink_remove_cmd = add_store_command(*sink_grp, "remove", "Remove a sink and its pending deliveries");
  sink_remove_cmd->add_option("NAME", sink_remove->name, "The sink's name")->required();
  add_common(*sink_remove_cmd, sink_remove->common);
  sink_remove_cmd->footer("Example:\n  dpgcert sink remove ticket");
  runs.emplace_back(sink_remove_cmd, [&global, sink_remove] { return run_sink_remove(global, *sink_remove); });

  CLI::App* org_grp = app.get_subcommand("org");
  const auto org_policy = std::make_shared<OrgPolicyOptions>();
  auto* org_policy_cmd = add_store_command(*org_grp, "policy", "Show or set the renewal thresholds of an organisation (or the default)");
  org_policy_cmd->add_option("CVR", org_policy->cvr, "CVR number, or 'default' for the store's default")->required();
  auto* policy_set = org_policy_cmd->add_option("--thresholds", org_policy->thresholds,
                                                "Days before expiry, descending, e.g. 120,90,60,30,14,7,1,0 (0: expired)");
  auto* policy_reset = org_policy_cmd->add_flag("--reset", org_policy->reset, "Remove the override");
  policy_set->excludes(policy_reset);
  add_common(*org_policy_cmd, org_policy->common);
  org_policy_cmd->footer(
      "Examples:\n"
      "  dpgcert org policy 12345674\n"
      "  dpgcert org policy 12345674 --thresholds 120,90,60,30,14,7,1,0\n"
      "  dpgcert org policy default --thresholds 90,30,7,0\n"
      "  dpgcert org policy 12345674 --reset");
  runs.emplace_back(org_policy_cmd, [&global, org_policy] { return run_org_policy(global, *org_policy); });
}

}  // namespace dpgcert::cli
