// dpgcert list / show / export / retire.
#include "store_support.hpp"
#include "terminal.hpp"

#include "core/file_io.hpp"

#include <dpgcert/context.hpp>
#include <dpgcert/json.hpp>
#include <dpgcert/pkcs12.hpp>

#include <filesystem>
#include <iostream>

namespace dpgcert::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json record_json(const CertificateRecord& r, Time now) {
  json j = summary_json(r, now);
  j["subject"] = r.subject;
  j["issuer"] = r.issuer;
  j["serial"] = r.serial;
  j["key"] = {{"algorithm", r.key_algorithm}, {"bits", r.key_bits}};
  j["pkcs12"] = {{"legacy", r.pkcs12_legacy}, {"profile", parse_or_text(r.pkcs12_profile_json)}};
  j["source"] = r.source;
  j["validation"] = {{"verdict", std::string(to_string(r.validation_verdict))},
                     {"forced", r.forced},
                     {"report", parse_or_text(r.validation_report_json)}};
  j["lineage"] = {{"id", r.lineage_id}, {"superseded_by", opt(r.superseded_by)}, {"supersedes", r.supersedes}};
  j["added_at"] = format_rfc3339(r.added_at);
  j["added_by"] = r.added_by;
  j["status_changed_at"] = format_rfc3339(r.status_changed_at);
  j["certificate"] = certificate_json(r.certificate);  // with "oces": the identity
  return j;
}

}  // namespace

// ---- certificates ---------------------------------------------------------------------------------

int run_list(const StoreGlobal& global, const ListOptions& options) {
  return guarded(options.common, [&] {
    const Time now = options.common.now_time();
    CertificateQuery q;
    if (!options.org.empty()) q.organisation_cvr = options.org;
    if (!options.mailbox.empty()) q.mailbox = options.mailbox;
    if (!options.status.empty()) {
      q.status = parse_certificate_status(options.status);
      if (!q.status) throw Error(ErrorCode::invalid_argument, "unknown status '" + options.status + "'");
    }
    if (options.expiring_within) {
      if (*options.expiring_within < 0) throw Error(ErrorCode::invalid_argument, "--expiring-within needs days >= 0");
      q.not_after_before = now + std::chrono::days(*options.expiring_within);
      if (!q.status) q.status = CertificateStatus::active;
    }
    q.limit = options.limit;
    q.offset = options.offset;
    auto store = open_store(global, options.common);
    const auto rows = store->query(q);
    if (options.common.json) {
      json arr = json::array();
      for (const auto& r : rows) arr.push_back(summary_json(r, now));
      print_json(arr);
    } else {
      print_summary_table(rows, now);
    }
    return static_cast<int>(exit_ok);
  });
}

int run_show(const StoreGlobal& global, const ShowOptions& options) {
  return guarded(options.common, [&] {
    const Time now = options.common.now_time();
    auto store = open_store(global, options.common);
    const auto rec = store->find(options.fingerprint);
    if (!rec) throw Error(ErrorCode::not_found, "no certificate " + options.fingerprint + " in the store");
    if (options.common.json) {
      print_json(record_json(*rec, now));
      return static_cast<int>(exit_ok);
    }
    print_row("Fingerprint", rec->fingerprint);
    print_row("Status", std::string(to_string(rec->status)) + " since " + format_rfc3339(rec->status_changed_at));
    print_row("Subject", rec->subject);
    print_row("Issuer", rec->issuer);
    print_row("Serial", rec->serial);
    print_row("Valid from", format_rfc3339(rec->not_before));
    print_row("Valid until", format_rfc3339(rec->not_after) + " (" + relative_days(rec->not_after, now) + ")");
    print_row("Identity", oces::summary(oces::identify(rec->certificate)));
    print_row("Key", rec->key_algorithm + " " + std::to_string(rec->key_bits) + " bits");
    print_row("Organisation", rec->organisation_cvr.value_or("-"));
    print_row("Mailbox", rec->mailbox.value_or("-"));
    print_row("PKCS#12", rec->pkcs12_legacy ? "legacy protection (re-wrap on export)" : "modern protection");
    print_row("Validation", std::string(to_string(rec->validation_verdict)) + (rec->forced ? " (imported with --force)" : ""));
    if (rec->superseded_by) print_row("Superseded by", *rec->superseded_by);
    for (const auto& s : rec->supersedes) print_row("Supersedes", s);
    print_row("Source", rec->source);
    print_row("Added", format_rfc3339(rec->added_at) + " by " + rec->added_by);
    return static_cast<int>(exit_ok);
  });
}

int run_export(const StoreGlobal& global, const ExportOptions& options) {
  return guarded(options.common, [&] {
    if (!options.password.given()) {
      throw Error(ErrorCode::invalid_argument,
                  "export needs the new file's password: --password-file, --password-env or --password-stdin");
    }
    if (options.profile != "modern" && options.profile != "legacy") {
      throw Error(ErrorCode::invalid_argument, "--profile is modern or legacy");
    }
    const SecretBytes password = options.password.read();
    auto store = open_store(global, options.common);
    const UnsealedBundle u = store->unseal(options.fingerprint);
    const Pkcs12WriteOptions wo =
        options.profile == "legacy" ? Pkcs12WriteOptions::legacy_compatible() : Pkcs12WriteOptions::modern();
    const auto bytes = write_pkcs12(u.bundle, password, wo);
    // A new file, mode 0600; never replaces (or follows) anything already there.
    detail::create_file(options.out, bytes, {.mode = 0600});
    if (options.common.json) {
      print_json({{"fingerprint_sha256", u.record.fingerprint}, {"file", options.out}, {"profile", options.profile}});
    } else {
      std::cout << "Exported " << u.record.fingerprint << " to " << term(options.out) << " (" << options.profile
                << " PKCS#12, mode 0600)\n";
    }
    return static_cast<int>(exit_ok);
  });
}

int run_retire(const StoreGlobal& global, const RetireOptions& options) {
  return guarded(options.common, [&] {
    auto store = open_store(global, options.common);
    const CertificateRecord r = store->set_status(options.fingerprint, CertificateStatus::retired, options.reason);
    if (options.common.json) {
      print_json(summary_json(r, options.common.now_time()));
    } else {
      std::cout << "Retired " << r.fingerprint << '\n';
    }
    return static_cast<int>(exit_ok);
  });
}

}  // namespace dpgcert::cli
