// Metrics in the Prometheus text exposition format (0.0.4), with the per-certificate gauges of the
// widely used x509-certificate-exporter (same names and label names, so existing dashboards and
// alerts work) plus dpgcert's own counters. For node_exporter's textfile collector or a scrape.
#include "core/file_io.hpp"
#include "lifecycle/lifecycle_impl.hpp"

#include <dpgcert/error.hpp>

#include <ostream>
#include <set>

namespace dpgcert {
namespace {

constexpr std::size_t kPage = 10000;

/// A label value with backslash, double quote and line feed escaped (the format's three escapes).
void escape_label(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

void label(std::string& out, std::string_view name, std::string_view value, bool first = false) {
  if (!first) out += ',';
  out += name;
  out += "=\"";
  escape_label(out, value);
  out += '"';
}

/// The label set of a certificate: the exporter's subject_CN, issuer_CN, serial_number (decimal,
/// as the exporter prints it), and dpgcert's cvr, mailbox and oces_type ("" where absent, as the
/// exporter does for labels that do not apply).
std::string certificate_labels(const TrackedCertificate& c) {
  std::string out = "{";
  label(out, "subject_CN", c.common_name.value_or(""), true);
  label(out, "issuer_CN", lifecycle_detail::rfc4514_first(c.issuer, "CN").value_or(""));
  label(out, "serial_number", lifecycle_detail::hex_to_decimal(c.serial));
  label(out, "cvr", c.organisation_cvr ? *c.organisation_cvr : c.cvr.value_or(""));
  label(out, "mailbox", c.mailbox.value_or(""));
  label(out, "oces_type", c.type == oces::CertificateType::none ? "" : std::string(oces::to_string(c.type)));
  out += '}';
  return out;
}

void family(std::ostream& out, std::string_view name, std::string_view type, std::string_view help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

/// One family of per-certificate gauges: a pass over the active certificates (every sample of a
/// family must be together, and a million certificates are not held in memory).
template <class Value>
void certificate_family(std::ostream& out, const Store& store, std::string_view name, std::string_view help,
                        Value value) {
  family(out, name, "gauge", help);
  TrackedQuery q;
  q.limit = kPage;
  for (;;) {
    const std::vector<TrackedCertificate> page = lifecycle_detail::tracked(store, q);
    if (page.empty()) break;
    q.after_id = page.back().id;
    for (const TrackedCertificate& c : page) out << name << certificate_labels(c) << ' ' << value(c) << '\n';
    if (page.size() < kPage) break;
  }
}

void labelled_counter(std::ostream& out, std::string_view name, std::string_view type, std::string_view help,
                      std::string_view label_name, const std::set<std::string>& keys,
                      const std::vector<std::pair<std::string, std::uint64_t>>& values) {
  family(out, name, type, help);
  for (const std::string& key : keys) {
    std::uint64_t v = 0;
    for (const auto& [k, n] : values) {
      if (k == key) v = n;
    }
    std::string labels = "{";
    label(labels, label_name, key, true);
    labels += '}';
    out << name << labels << ' ' << v << '\n';
  }
}

}  // namespace

void Lifecycle::write_metrics(std::ostream& out, Time now) const {
  const Store& store = impl_->store;
  const std::int64_t t = to_unix(now);
  certificate_family(out, store, "x509_cert_not_before",
                     "The date before which the certificate is not valid, as Unix time (active certificates).",
                     [](const TrackedCertificate& c) { return to_unix(c.not_before); });
  certificate_family(out, store, "x509_cert_not_after",
                     "The date after which the certificate expires, as Unix time (active certificates).",
                     [](const TrackedCertificate& c) { return to_unix(c.not_after); });
  certificate_family(out, store, "x509_cert_expired", "1 if the certificate has expired, else 0.",
                     [t](const TrackedCertificate& c) { return t > to_unix(c.not_after) ? 1 : 0; });
  certificate_family(out, store, "x509_cert_expires_in_seconds",
                     "Seconds until the certificate expires (negative once expired).",
                     [t](const TrackedCertificate& c) { return to_unix(c.not_after) - t; });
  certificate_family(out, store, "dpgcert_cert_effective_not_after",
                     "The earliest notAfter of the certificate and its issuing chain, as Unix time.",
                     [](const TrackedCertificate& c) { return to_unix(c.effective_not_after); });

  // Counters: every kind and every sink gets a series, zero included, so rate() works from the
  // start. A removed sink keeps its series: counters never go back.
  const LifecycleCounters counters = lifecycle_detail::counters(store);
  std::set<std::string> kinds;
  for (EventKind k : {EventKind::expiring, EventKind::expired, EventKind::renewed, EventKind::revoked,
                      EventKind::validation_failed}) {
    kinds.emplace(to_string(k));
  }
  labelled_counter(out, "dpgcert_events_emitted_total", "counter", "Renewal events written to the outbox, by kind.",
                   "kind", kinds, counters.emitted);
  const std::vector<SinkStats> stats = lifecycle_detail::sink_stats(store);
  std::set<std::string> sinks;
  for (const SinkStats& s : stats) sinks.insert(s.sink);
  for (const auto& [name, n] : counters.delivered) sinks.insert(name);
  for (const auto& [name, n] : counters.failed) sinks.insert(name);
  labelled_counter(out, "dpgcert_events_delivered_total", "counter",
                   "Event deliveries acknowledged by a sink, by sink.", "sink", sinks, counters.delivered);
  labelled_counter(out, "dpgcert_events_failed_total", "counter",
                   "Event delivery attempts that failed and will be retried, by sink.", "sink", sinks,
                   counters.failed);
  std::vector<std::pair<std::string, std::uint64_t>> pending;
  std::set<std::string> configured;
  for (const SinkStats& s : stats) {
    pending.emplace_back(s.sink, s.pending);
    configured.insert(s.sink);
  }
  labelled_counter(out, "dpgcert_deliveries_pending", "gauge", "Event deliveries waiting for a sink, by sink.",
                   "sink", configured, pending);
  if (const auto last = lifecycle_detail::last_check(store)) {
    out << "# HELP dpgcert_last_check_timestamp_seconds When the last renewal check (dpgcert check) ran to its end, as Unix time.\n"
           "# TYPE dpgcert_last_check_timestamp_seconds gauge\n"
           "dpgcert_last_check_timestamp_seconds "
        << to_unix(last->ended)
        << "\n# HELP dpgcert_last_check_success 1 if every delivery the last renewal check attempted succeeded, else 0.\n"
           "# TYPE dpgcert_last_check_success gauge\n"
           "dpgcert_last_check_success "
        << (last->success ? 1 : 0) << '\n';
  }
  const SeverityCounts sev = lifecycle_detail::severity_counts(store);
  labelled_counter(out, "dpgcert_certificates_in_stage", "gauge",
                   "Active certificates whose announced stage is a warning or critical one.", "severity",
                   {"critical", "warning"}, {{"critical", sev.critical}, {"warning", sev.warning}});
}

void Lifecycle::write_metrics_file(const std::filesystem::path& path, Time now) const {
  // Readable by the collector whatever the umask; a reader never sees half a file.
  detail::replace_file(
      path, [&](std::ostream& out) { write_metrics(out, now); }, {.mode = 0644, .what = "metrics file"});
}

}  // namespace dpgcert
