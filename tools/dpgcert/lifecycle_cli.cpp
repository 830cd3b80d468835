// The lifecycle commands: check, digest, metrics, sink add/list/remove, org policy (CLI11
// definitions; the commands are in lifecycle_commands.cpp).
#include "commands.hpp"
#include "lifecycle_cli.hpp"

#include <dpgcert/lifecycle.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <deque>
#include <memory>

namespace dpgcert::cli {
namespace {

/// Where CLI11 stores one sink kind option's value, and the option it parsed.
struct KindOptionSlot {
  enum class Form { flag, on_off, one, many, number } form = Form::one;
  std::string text;
  std::vector<std::string> texts;
  int number = 0;
  bool on = false;
  CLI::Option* option = nullptr;
};

/// The options of every sink kind in sink_kinds(): first the one choosing each kind (--jsonl,
/// --command, --callback), mutually exclusive, then the others in the kinds' order.
std::vector<SinkKindOption> sink_kind_options() {
  std::vector<SinkKindOption> out;
  auto find = [&](const std::string& flag) {
    return std::find_if(out.begin(), out.end(), [&](const SinkKindOption& o) { return o.flag == flag; });
  };
  const std::vector<SinkKindInfo> kinds = sink_kinds();
  for (const SinkKindInfo& k : kinds) {
    SinkKindOption o;
    o.flag = k.name;
    o.kinds = {k.name};
    o.chooses = true;
    out.push_back(o);
  }
  for (const SinkKindInfo& k : kinds) {
    for (const SinkOption& so : k.options) {
      if (so.flag == k.name) continue;
      if (const auto it = find(so.flag); it != out.end()) {
        it->kinds.push_back(k.name);
        continue;
      }
      SinkKindOption o;
      o.flag = so.flag;
      o.kinds = {k.name};
      out.push_back(o);
    }
  }
  return out;
}

/// The description of `flag` in the first kind that has it.
const SinkOption* describe_option(const std::vector<SinkKindInfo>& kinds, const SinkKindOption& o) {
  for (const SinkKindInfo& k : kinds) {
    if (std::find(o.kinds.begin(), o.kinds.end(), k.name) == o.kinds.end()) continue;
    for (const SinkOption& so : k.options) {
      if (so.flag == o.flag) return &so;
    }
  }
  return nullptr;
}

/// Adds the sink kinds' options to `sink add`; `slots` receive the values.
void add_sink_kind_options(CLI::App& cmd, std::vector<SinkKindOption>& options, std::deque<KindOptionSlot>& slots) {
  const std::vector<SinkKindInfo> kinds = sink_kinds();
  std::vector<CLI::Option*> choosers;
  for (const SinkKindOption& o : options) {
    KindOptionSlot& slot = slots.emplace_back();
    const std::string name = "--" + o.flag;
    const SinkOption* so = describe_option(kinds, o);
    if (so == nullptr) {
      const auto k = std::find_if(kinds.begin(), kinds.end(), [&](const SinkKindInfo& i) { return i.name == o.kinds[0]; });
      slot.form = KindOptionSlot::Form::flag;
      slot.option = cmd.add_flag(name, slot.on, k->flag_help.empty() ? k->summary : k->flag_help);
    } else if (so->type == SinkOption::Type::flag) {
      slot.form = KindOptionSlot::Form::on_off;
      slot.option = cmd.add_flag(name, slot.on, so->help);
    } else if (so->type == SinkOption::Type::strings) {
      slot.form = KindOptionSlot::Form::many;
      slot.option = cmd.add_option(name, slot.texts, so->help);
    } else if (so->type == SinkOption::Type::seconds) {
      slot.form = KindOptionSlot::Form::number;
      slot.option = cmd.add_option(name, slot.number, so->help);
    } else {
      slot.option = cmd.add_option(name, slot.text, so->help);
    }
    if (o.chooses) choosers.push_back(slot.option);
  }
  for (std::size_t i = 0; i < choosers.size(); ++i) {
    for (std::size_t j = i + 1; j < choosers.size(); ++j) choosers[i]->excludes(choosers[j]);
  }
}

/// Copies what was parsed into the options (after CLI11 has parsed the command line).
void collect_sink_kind_options(std::vector<SinkKindOption>& options, const std::deque<KindOptionSlot>& slots) {
  for (std::size_t i = 0; i < options.size(); ++i) {
    const KindOptionSlot& slot = slots[i];
    SinkKindOption& o = options[i];
    o.given = slot.option->count() > 0;
    o.values.clear();
    if (!o.given) continue;
    switch (slot.form) {
      case KindOptionSlot::Form::flag: break;
      case KindOptionSlot::Form::on_off: o.values = {"true"}; break;
      case KindOptionSlot::Form::one: o.values = {slot.text}; break;
      case KindOptionSlot::Form::many: o.values = slot.texts; break;
      case KindOptionSlot::Form::number: o.values = {std::to_string(slot.number)}; break;
    }
  }
}

}  // namespace

std::vector<std::string> sink_options_without_files() {
  std::vector<std::string> out;
  for (const SinkKindInfo& k : sink_kinds()) {
    for (const SinkOption& so : k.options) {
      const bool file = so.type == SinkOption::Type::path || so.type == SinkOption::Type::program;
      if (!file && std::find(out.begin(), out.end(), "--" + so.flag) == out.end()) out.push_back("--" + so.flag);
    }
  }
  return out;
}

void add_lifecycle_commands(CLI::App& app, const StoreGlobal& global, CommandRuns& runs) {
  const auto check_opts = std::make_shared<CheckCliOptions>();
  auto* check_cmd = add_store_command(app, "check", "Announce certificates that crossed a renewal threshold; deliver the events");
  check_cmd->add_option("--at", check_opts->at, "Check at this RFC 3339 time (default: --now, else now)")
      ->check(CLI::Validator(check_rfc3339, "RFC3339"));
  check_cmd->add_option("--sink", check_opts->sinks, "Deliver only to this configured sink this run (repeatable)");
  check_cmd->add_flag("--no-deliver", check_opts->no_deliver, "Record the events only; a later run delivers them");
  check_cmd->add_flag("--no-prune", check_opts->no_prune,
                      "Keep delivered events older than the store's retention (dpgcert store retention) this run");
  check_cmd->add_flag("--exclusive", check_opts->exclusive,
                      "One run at a time across processes and nodes: when another check holds the store's run lock,\n"
                      "do nothing and exit 0 (PostgreSQL: an advisory lock; SQLite: a lock file beside the database)");
  check_cmd->add_option("--min-interval", check_opts->min_interval,
                        "The last-run rule (implies --exclusive): do nothing and exit 0 when the last check on this\n"
                        "store, on any node, ended less than DURATION ago (90s, 15m, 1h, 1d; a number is seconds)")
      ->type_name("DURATION")
      ->check(CLI::Validator(
          [](const std::string& v) { return parse_duration(v) ? std::string() : "not a duration (90s, 15m, 1h, 1d): " + v; },
          "DURATION"));
  check_cmd->add_flag("--revocation", check_opts->revocation,
                      "Refresh the revocation of the active certificates (OCSP, then CRLs kept in the store) when due;\n"
                      "revoked ones become revoked and are announced (always on with the configuration's revocation_refresh)");
  check_cmd->add_option("--revocation-interval", check_opts->revocation_interval,
                        "Refresh revocation at most this often (default: the store's setting, else 1d)")
      ->type_name("DURATION")
      ->check(CLI::Validator(
          [](const std::string& v) { return parse_duration(v) ? std::string() : "not a duration (90s, 15m, 1h, 1d): " + v; },
          "DURATION"));
  check_cmd->add_option("--revocation-timeout", check_opts->revocation_timeout,
                        "Seconds per OCSP or CRL request in the revocation refresh (default 15)")
      ->check(CLI::PositiveNumber);
  check_cmd->add_option("--trust", check_opts->trust,
                        "Revocation refresh: anchors to build paths to (default: the configuration's, else built-in OCES)");
  check_cmd->add_option("--untrusted", check_opts->untrusted, "Revocation refresh: extra intermediate CA certificates");
  add_common(*check_cmd, check_opts->common);
  check_cmd->get_option("--json")->description("Print JSON Lines: one JSON object per event emitted, errors as {\"error\": ...}");
  check_cmd->footer(
      "--json prints one JSON line per event emitted (docs/cli-json.md). Each threshold is announced once;\n"
      "failed deliveries are retried by later runs with backoff.\n"
      "Exit codes (a monitoring plugin's): 0 nothing due, 1 something in a warning stage, 2 something expired,\n"
      "revoked or in its last stage, 3 could not run.\n"
      "Examples:\n"
      "  dpgcert check\n"
      "  dpgcert check --json --at 2026-11-15T00:00:00Z\n"
      "  dpgcert check --exclusive      # the timer of every gateway node, one shared store\n"
      "  dpgcert check --min-interval 20h   # the same, once a day whichever node's timer fires first\n"
      "  dpgcert check --revocation --revocation-interval 6h   # also ask OCSP / the CRLs, at most every 6 hours");
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
  add_common(*metrics_cmd, metrics_opts->common);
  metrics_cmd->get_option("--json")->description(
      "Print the metrics as one JSON object {\"metrics\": [{name, type, help, samples}]} instead");
  metrics_cmd->footer("Example:\n  dpgcert metrics --out /var/lib/prometheus/node-exporter/dpgcert.prom");
  runs.emplace_back(metrics_cmd, [&global, metrics_opts] { return run_metrics(global, *metrics_opts); });

  auto* sink_grp = add_store_command(app, "sink", "Where renewal events are delivered");
  sink_grp->require_subcommand(1);
  const auto sink_add = std::make_shared<SinkAddOptions>();
  const auto sink_slots = std::make_shared<std::deque<KindOptionSlot>>();
  auto* sink_add_cmd = add_store_command(*sink_grp, "add", "Add a sink: JSON Lines, a command hook, or an in-process callback");
  sink_add_cmd->add_option("NAME", sink_add->name, "The sink's name (A-Z, a-z, 0-9, '.', '_', '-')")->required();
  // Every option of every sink kind, from the kinds' own descriptions (sink_kinds()).
  sink_add->kind_options = sink_kind_options();
  add_sink_kind_options(*sink_add_cmd, sink_add->kind_options, *sink_slots);
  sink_add_cmd->add_flag("--no-backlog", sink_add->no_backlog,
                         "Deliver only events emitted from now on, not those that waited for a sink");
  add_common(*sink_add_cmd, sink_add->common);
  sink_add_cmd->footer(
      "Examples:\n"
      "  dpgcert sink add log --jsonl /var/log/dpgcert/events.jsonl\n"
      "  dpgcert sink add ticket --command /usr/local/bin/open-ticket --arg --queue=pki --timeout 60");
  runs.emplace_back(sink_add_cmd, [&global, sink_add, sink_slots] {
    collect_sink_kind_options(sink_add->kind_options, *sink_slots);
    return run_sink_add(global, *sink_add);
  });
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
