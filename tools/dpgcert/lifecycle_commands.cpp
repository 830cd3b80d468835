// dpgcert check / digest / metrics / sink / org policy: the lifecycle layer on the command line.
#include "config.hpp"
#include "lifecycle_cli.hpp"
#include "terminal.hpp"

#include "core/text.hpp"

#include <dpgcert/lifecycle.hpp>
#include <dpgcert/store.hpp>
#include <dpgcert/validation.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <sstream>

namespace dpgcert::cli {
namespace {

using nlohmann::json;

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s + ' ';
}

json opt(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

std::string date_only(Time t) { return format_rfc3339(t).substr(0, 10); }

/// "EXPIRING 30d", "EXPIRED", "RENEWED", ...
std::string event_label(const Event& e) {
  switch (e.kind) {
    case EventKind::expiring: return "EXPIRING " + std::to_string(e.stage_days.value_or(0)) + "d";
    case EventKind::expired: return "EXPIRED";
    case EventKind::renewed: return "RENEWED";
    case EventKind::revoked: return "REVOKED";
    case EventKind::validation_failed: return "INVALID";
  }
  return "EVENT";
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

void print_event_line(const Event& e) {
  const TrackedCertificate& c = e.certificate;
  std::cout << pad(event_label(e), 12) << pad("CVR " + e.cvr().value_or("-"), 12) << pad(c.mailbox.value_or("-"), 28)
            << term(c.common_name.value_or("-")) << " (" << c.fingerprint.substr(0, 16) << ")";
  switch (e.kind) {
    case EventKind::expiring:
      std::cout << " expires " << date_only(e.effective_not_after) << " (" << relative_days(e.effective_not_after, e.at)
                << ")";
      break;
    case EventKind::expired:
      std::cout << " expired " << date_only(e.effective_not_after);
      break;
    case EventKind::renewed:
      std::cout << " replaced by " << e.superseded_by.value_or("?").substr(0, 16);
      break;
    case EventKind::revoked:
      std::cout << " revoked - replace it";
      break;
    case EventKind::validation_failed:
      std::cout << " in use although validation failed: " << (e.failed_checks.empty() ? "?" : term(join(e.failed_checks, ", ")));
      break;
  }
  if (e.effective_not_after < c.not_after && (e.kind == EventKind::expiring || e.kind == EventKind::expired)) {
    std::cout << " - its issuing CA expires first";
  }
  std::cout << '\n';
}

int exit_for(Severity s) {
  switch (s) {
    case Severity::none: return exit_ok;
    case Severity::warning: return exit_warn;
    case Severity::critical: return exit_fail;
  }
  return exit_fail;
}

json sink_json(const SinkConfig& s, const std::optional<SinkStats>& stats) {
  json j{{"name", s.name},
         {"kind", s.kind},
         {"settings", json::parse(s.settings, nullptr, false)},
         {"created_at", format_rfc3339(s.created_at)},
         {"created_by", s.created_by}};
  j["pending"] = stats ? stats->pending : 0;
  j["delivered"] = stats ? stats->delivered : 0;
  j["next_attempt_at"] = stats && stats->next_attempt_at ? json(format_rfc3339(*stats->next_attempt_at)) : json(nullptr);
  j["last_error"] = stats ? opt(stats->last_error) : json(nullptr);
  return j;
}

/// "--a", "--a or --b", "--a, --b or --c".
std::string either(const std::vector<std::string>& flags) {
  std::string out;
  for (std::size_t i = 0; i < flags.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == flags.size() ? " or " : ", ") + ("--" + flags[i]);
  }
  return out;
}

/// The sink `sink add` describes: the kind its chosen option names, built from the kind's options.
SinkConfig sink_of(const SinkAddOptions& options) {
  std::vector<std::string> choosers;
  std::vector<std::string> chosen;
  for (const SinkKindOption& o : options.kind_options) {
    if (!o.chooses) continue;
    choosers.push_back(o.flag);
    if (o.given) chosen.push_back(o.kinds[0]);
  }
  if (chosen.size() != 1) throw Error(ErrorCode::invalid_argument, "give one of " + either(choosers));
  SinkOptionValues values;
  for (const SinkKindOption& o : options.kind_options) {
    if (!o.given) continue;
    if (std::find(o.kinds.begin(), o.kinds.end(), chosen[0]) == o.kinds.end()) {
      std::vector<std::string> with;
      for (const SinkKindOption& c : options.kind_options) {
        if (c.chooses && std::find(o.kinds.begin(), o.kinds.end(), c.kinds[0]) != o.kinds.end()) with.push_back(c.flag);
      }
      throw Error(ErrorCode::invalid_argument, "--" + o.flag + " goes with " + either(with));
    }
    for (const std::string& v : o.values) values.emplace_back(o.flag, v);
  }
  return sink_from_options(options.name, chosen[0], values);
}

}  // namespace

/// Makes the store what the configuration file says before a check: its default thresholds, and
/// its sinks (added when missing; one of the same name with other settings is an error, so a
/// check never silently delivers somewhere else than the file says).
void apply_configuration(Store& store, const StoreGlobal& global) {
  Lifecycle lifecycle(store);
  if (global.thresholds) {
    RenewalPolicy wanted;
    wanted.thresholds_days = *global.thresholds;
    validate(wanted);
    std::optional<RenewalPolicy> current;
    for (const RenewalPolicyEntry& e : lifecycle.renewal_policies()) {
      if (!e.cvr) current = e.policy;
    }
    if (current != wanted) lifecycle.set_renewal_policy(std::nullopt, wanted, global.actor);
  }
  if (global.revocation_refresh && lifecycle.revocation_refresh() != *global.revocation_refresh) {
    lifecycle.set_revocation_refresh(*global.revocation_refresh, global.actor);
  }
  if (global.sinks.empty()) return;
  const std::vector<SinkConfig> existing = lifecycle.sinks();
  for (const StoreGlobal::Sink& s : global.sinks) {
    const SinkConfig want = sink_from_options(s.name, s.kind, s.options);
    const auto it = std::find_if(existing.begin(), existing.end(), [&](const SinkConfig& e) { return e.name == s.name; });
    if (it == existing.end()) {
      AddSinkOptions add;
      add.backlog = s.backlog;
      (void)lifecycle.add_sink(want, add, global.actor);
    } else if (it->kind != want.kind || nlohmann::json::parse(it->settings) != nlohmann::json::parse(want.settings)) {
      throw Error(ErrorCode::conflict, "sink '" + s.name + "' in the configuration differs from the store's; " +
                                           "change one of them (dpgcert sink remove " + s.name + ")");
    }
  }
}

int run_check(const StoreGlobal& global, const CheckCliOptions& options) {
  // A monitoring plugin: whatever stops it from running is 3 (UNKNOWN), usage errors included.
  try {
    const Time now = options.at.empty() ? options.common.now_time() : parse_rfc3339(options.at);
    auto store = open_cli_store(global, options.common);
    apply_configuration(*store, global);
    Lifecycle lifecycle(*store);
    CheckOptions co;
    co.sinks = options.sinks;
    co.deliver = !options.no_deliver;
    co.prune = !options.no_prune;
    co.exclusive = options.exclusive;
    if (!options.min_interval.empty()) {
      co.min_interval = parse_duration(options.min_interval).value_or(std::chrono::seconds(0));
    } else if (global.min_interval) {
      co.min_interval = *global.min_interval;
    }
    co.revocation.enabled = options.revocation;
    if (!options.revocation_interval.empty()) co.revocation.interval = parse_duration(options.revocation_interval);
    if (options.revocation_timeout > 0) co.revocation.fetch.timeout = std::chrono::seconds(options.revocation_timeout);
    if (co.revocation.enabled || lifecycle.revocation_refresh()) {
      const Context& ctx = Context::shared();
      const std::vector<std::string>& trust = options.trust.empty() ? global.trust : options.trust;
      const std::vector<std::string>& untrusted = options.untrusted.empty() ? global.untrusted : options.untrusted;
      if (!trust.empty()) {
        const std::vector<std::filesystem::path> paths(trust.begin(), trust.end());
        co.revocation.anchors = TrustAnchors::from_files(paths, ctx);
      }
      if (!untrusted.empty()) {
        const std::vector<std::filesystem::path> paths(untrusted.begin(), untrusted.end());
        co.revocation.intermediates = load_certificate_files(paths, ctx);
      }
    }
    const CheckResult r = lifecycle.check(now, co);
    if (r.skipped) {
      if (options.common.json) {
        std::cout << detail::dump_json(nlohmann::json{{"skipped", true}, {"reason", r.skip_reason}}) << '\n';
      } else {
        std::cout << "This check did nothing: " << term(r.skip_reason) << ".\n";
      }
      std::cout.flush();
      return static_cast<int>(exit_ok);
    }
    for (const Event& e : r.emitted) {
      if (options.common.json) {
        std::cout << to_json(e).dump() << '\n';
      } else {
        print_event_line(e);
      }
    }
    for (const DeliveryAttempt& a : r.deliveries) {
      if (a.delivered) continue;
      std::cerr << "dpgcert: sink '" << term(a.sink) << "': event " << a.event_id << " not delivered (attempt "
                << a.attempt << "): " << term(a.error);
      if (a.abandoned) {
        std::cerr << "; given up (it stays in the outbox, not attempted again)\n";
      } else {
        std::cerr << "; retried from " << (a.retry_at ? format_rfc3339(*a.retry_at) : "the next run") << '\n';
      }
    }
    // The revocation refresh: what could not be had is said (a warning, never a silent pass).
    if (r.revocation.ran || !r.revocation.problems.empty()) {
      if (options.common.json) {
        std::cout << to_json(r.revocation).dump() << '\n';
      } else {
        std::cout << "Revocation refreshed for " << r.revocation.checked << " active certificate(s): " << r.revocation.good
                  << " not revoked, " << r.revocation.revoked.size() << " revoked, " << r.revocation.problems.size()
                  << " without an answer.\n";
      }
      for (const RevocationRefreshProblem& p : r.revocation.problems) {
        std::cerr << "dpgcert: warning: revocation of " << p.fingerprint.substr(0, 16) << " (" << term(p.subject)
                  << ") could not be checked: " << term(p.message) << '\n';
      }
    }
    // Nothing announced to nowhere: a warning, and the exit status stays the verdict's.
    if (r.no_sink) {
      std::cerr << "dpgcert: warning: no sink is configured: " << r.undelivered_backlog
                << " event(s) wait in the outbox for the first sink added (dpgcert sink add)\n";
    }
    if (!options.common.json) {
      std::cout << (r.emitted.empty() ? "Nothing new" : std::to_string(r.emitted.size()) + " event(s)") << " at "
                << format_rfc3339(now) << "; " << r.delivered() << " delivered, " << r.failed()
                << " delivery attempt(s) failed. Active certificates in a warning stage: " << r.state.warning
                << ", critical: " << r.state.critical << ".\n";
      if (r.pruned > 0) std::cout << r.pruned << " delivered event(s) older than the retention pruned from the outbox.\n";
    }
    std::cout.flush();
    return exit_for(r.worst);
  } catch (const Error& e) {
    print_error(options.common, e);
    return exit_unreadable;
  }
}

int run_digest(const StoreGlobal& global, const DigestOptions& options) {
  return run_guarded(options.common, [&] {
    const Time now = options.common.now_time();
    auto store = open_cli_store(global, options.common);
    const Lifecycle lifecycle(*store);
    const Digest d = options.org.empty() ? lifecycle.digest(now) : lifecycle.digest(now, options.org);
    if (options.common.json) {
      print_json(to_json(d));
    } else {
      std::cout << to_text(d);
    }
    return static_cast<int>(exit_ok);
  });
}

namespace {

/// A Prometheus label value or HELP text unescaped (\\, \", \n).
std::string unescape_prometheus(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      ++i;
      out += s[i] == 'n' ? '\n' : s[i];
    } else {
      out += s[i];
    }
  }
  return out;
}

/// The Prometheus text format dpgcert writes, as {"metrics": [{name, type, help, samples:
/// [{labels, value}]}]}.
json metrics_json(const std::string& text) {
  json metrics = json::array();
  std::istringstream in(text);
  std::string line;
  auto family = [&](const std::string& name) -> json& {
    for (auto& m : metrics) {
      if (m["name"] == name) return m;
    }
    metrics.push_back({{"name", name}, {"type", "untyped"}, {"help", ""}, {"samples", json::array()}});
    return metrics.back();
  };
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      const std::string rest = line.substr(7);
      const auto sp = rest.find(' ');
      const std::string name = rest.substr(0, sp);
      const std::string value = sp == std::string::npos ? "" : rest.substr(sp + 1);
      family(name)[line[2] == 'H' ? "help" : "type"] = line[2] == 'H' ? unescape_prometheus(value) : value;
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    const auto brace = line.find('{');
    const auto value_at = line.rfind(' ');
    std::string name = line.substr(0, std::min(brace, value_at));
    json labels = json::object();
    if (brace != std::string::npos && brace < value_at) {
      std::size_t i = brace + 1;
      while (i < line.size() && line[i] != '}') {
        const auto eq = line.find('=', i);
        const std::string key = line.substr(i, eq - i);
        std::size_t j = eq + 2;  // after ="
        std::string raw;
        while (j < line.size() && line[j] != '"') {
          if (line[j] == '\\' && j + 1 < line.size()) raw += line[j++];
          raw += line[j++];
        }
        labels[key] = unescape_prometheus(raw);
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
    }
    // A histogram's or summary's samples belong to the family without the suffix.
    std::string base = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (base.ends_with(suffix) && !base.empty()) {
        const std::string stem = base.substr(0, base.size() - std::string_view(suffix).size());
        for (const auto& m : metrics) {
          if (m["name"] == stem) base = stem;
        }
      }
    }
    json sample{{"labels", labels}, {"value", std::stod(line.substr(value_at + 1))}};
    if (base != name) sample["name"] = name;
    family(base)["samples"].push_back(sample);
  }
  return {{"metrics", metrics}};
}

}  // namespace

int run_metrics(const StoreGlobal& global, const MetricsOptions& options) {
  return run_guarded(options.common, [&] {
    const Time now = options.common.now_time();
    auto store = open_cli_store(global, options.common);
    const Lifecycle lifecycle(*store);
    if (options.common.json) {
      std::ostringstream text;
      lifecycle.write_metrics(text, now);
      if (!options.out.empty()) lifecycle.write_metrics_file(options.out, now);
      print_json(metrics_json(text.str()));
      return static_cast<int>(exit_ok);
    }
    if (options.out.empty()) {
      lifecycle.write_metrics(std::cout, now);
      std::cout.flush();
      if (!std::cout) throw Error(ErrorCode::io, "cannot write the metrics to standard output");
    } else {
      lifecycle.write_metrics_file(options.out, now);
    }
    return static_cast<int>(exit_ok);
  });
}

int run_sink_add(const StoreGlobal& global, const SinkAddOptions& options) {
  return run_guarded(options.common, [&] {
    const SinkConfig sink = sink_of(options);
    auto store = open_cli_store(global, options.common);
    AddSinkOptions add;
    add.backlog = !options.no_backlog;
    const AddedSink added = Lifecycle(*store).add_sink(sink, add, global.actor);
    if (options.common.json) {
      nlohmann::json j = sink_json(added.sink, std::nullopt);
      j["backlog"] = added.backlog;
      print_json(j);
    } else {
      std::cout << "Added sink " << term(added.sink.name) << " (" << added.sink.kind << ": "
                << term(describe_sink(added.sink)) << "). Events emitted from now on are delivered to it";
      if (added.backlog > 0) std::cout << ", and the " << added.backlog << " event(s) that waited for a sink";
      std::cout << ".\n";
    }
    return static_cast<int>(exit_ok);
  });
}

int run_sink_list(const StoreGlobal& global, const SinkListOptions& options) {
  return run_guarded(options.common, [&] {
    auto store = open_cli_store(global, options.common);
    const std::vector<SinkConfig> sinks = Lifecycle(*store).sinks();
    const std::vector<SinkStats> stats = Lifecycle(*store).sink_stats();
    auto stats_of = [&](const std::string& name) -> std::optional<SinkStats> {
      for (const SinkStats& s : stats) {
        if (s.sink == name) return s;
      }
      return std::nullopt;
    };
    if (options.common.json) {
      json arr = json::array();
      for (const SinkConfig& s : sinks) arr.push_back(sink_json(s, stats_of(s.name)));
      print_json(arr);
      return static_cast<int>(exit_ok);
    }
    std::cout << pad("NAME", 16) << pad("KIND", 9) << pad("PENDING", 8) << pad("DELIVERED", 10) << "TARGET\n";
    for (const SinkConfig& s : sinks) {
      const auto st = stats_of(s.name);
      std::cout << pad(s.name, 16) << pad(s.kind, 9) << pad(std::to_string(st ? st->pending : 0), 8)
                << pad(std::to_string(st ? st->delivered : 0), 10) << term(describe_sink(s)) << '\n';
      if (st && st->last_error) {
        std::cout << "    last error: " << term(*st->last_error);
        if (st->next_attempt_at) std::cout << " (next attempt " << format_rfc3339(*st->next_attempt_at) << ")";
        std::cout << '\n';
      }
    }
    return static_cast<int>(exit_ok);
  });
}

int run_sink_remove(const StoreGlobal& global, const SinkRemoveOptions& options) {
  return run_guarded(options.common, [&] {
    auto store = open_cli_store(global, options.common);
    Lifecycle(*store).remove_sink(options.name);
    if (options.common.json) {
      print_json({{"removed", options.name}});
    } else {
      std::cout << "Removed sink " << term(options.name) << " and its pending deliveries\n";
    }
    return static_cast<int>(exit_ok);
  });
}

int run_org_policy(const StoreGlobal& global, const OrgPolicyOptions& options) {
  return run_guarded(options.common, [&] {
    if (options.reset && !options.thresholds.empty()) {
      throw Error(ErrorCode::invalid_argument, "give --thresholds or --reset, not both");
    }
    const bool store_default = options.cvr == "default";
    const std::optional<std::string_view> cvr =
        store_default ? std::nullopt : std::optional<std::string_view>(options.cvr);
    auto store = open_cli_store(global, options.common);
    if (!options.thresholds.empty()) {
      Lifecycle(*store).set_renewal_policy(cvr, parse_renewal_policy(options.thresholds));
    } else if (options.reset) {
      Lifecycle(*store).set_renewal_policy(cvr, std::nullopt);
    } else if (cvr && !store->find_organisation(*cvr)) {
      throw Error(ErrorCode::not_found, "no organisation with CVR " + options.cvr);
    }
    // What applies now, and where it comes from.
    std::string source = "built-in";
    for (const RenewalPolicyEntry& e : Lifecycle(*store).renewal_policies()) {
      if (e.cvr && cvr && *e.cvr == *cvr) source = "organisation";
      if (!e.cvr && source == "built-in") source = "store default";
    }
    const RenewalPolicy applies = Lifecycle(*store).policy_for(cvr);
    if (options.common.json) {
      print_json({{"cvr", store_default ? json(nullptr) : json(options.cvr)},
                  {"thresholds", applies.thresholds_days},
                  {"source", source}});
    } else {
      std::cout << (store_default ? std::string("Store default") : "CVR " + options.cvr) << ": "
                << to_string(applies) << " days before expiry (" << source << ")\n";
    }
    return static_cast<int>(exit_ok);
  });
}

}  // namespace dpgcert::cli
