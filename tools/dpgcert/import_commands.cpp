// dpgcert import: validate PKCS#12 files and store them sealed.
#include "store_support.hpp"

#include "onboarding.hpp"
#include "terminal.hpp"

#include <dpgcert/bulk_import.hpp>
#include <dpgcert/context.hpp>
#include <dpgcert/json.hpp>
#include <dpgcert/pkcs12.hpp>
#include <dpgcert/validation.hpp>
#include <dpgcert/validation_json.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>

namespace dpgcert::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<fs::path> paths_of(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

/// A folder entry named like a PKCS#12 file that is not one to open, and why.
struct Skipped {
  fs::path path;
  std::string why;
};

/// Why a folder entry is not opened (a dangling or looping link, a FIFO, a device, a folder), or
/// "" for a regular file. Decided from the entry's status alone: such an entry is never opened (a
/// FIFO would block, a device could act on open).
std::string not_a_file(const fs::directory_entry& e) {
  std::error_code ec;
  const fs::file_status link = e.symlink_status(ec);
  const fs::file_status st = e.status(ec);
  if (ec) {
    if (ec == std::errc::too_many_symbolic_link_levels) return "skipped: a symbolic link loop";
    if (fs::is_symlink(link) && ec == std::errc::no_such_file_or_directory) return "skipped: a dangling symbolic link";
    return "skipped: " + ec.message();
  }
  if (fs::is_regular_file(st)) return "";
  if (fs::is_fifo(st)) return "skipped: a FIFO, not a regular file";
  if (fs::is_block_file(st) || fs::is_character_file(st)) return "skipped: a device, not a regular file";
  if (fs::is_directory(st)) return "skipped: a folder (folders are not entered)";
  if (fs::is_socket(st)) return "skipped: a socket, not a regular file";
  return "skipped: not a regular file";
}

/// The PKCS#12 files a list of paths stands for: files as given (so a typo is reported), and the
/// .p12/.pfx files of folders in name order (hidden files skipped; one level: not recursive).
/// Entries of a folder that are named so but are not regular files go to `skipped`.
std::vector<fs::path> expand_import_paths(const std::vector<std::string>& paths, std::vector<Skipped>& skipped) {
  std::vector<fs::path> out;
  for (const auto& p : paths) {
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
      out.emplace_back(p);
      continue;
    }
    std::vector<fs::path> found;
    for (auto it = fs::directory_iterator(p, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      const fs::directory_entry& e = *it;
      const std::string name = e.path().filename().string();
      std::string ext = e.path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (name.starts_with(".") || (ext != ".p12" && ext != ".pfx")) continue;
      if (std::string why = not_a_file(e); !why.empty()) {
        skipped.push_back({e.path(), std::move(why)});
      } else {
        found.push_back(e.path());
      }
    }
    if (ec) throw Error(ErrorCode::io, "cannot list folder '" + p + "': " + ec.message());
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  std::sort(skipped.begin(), skipped.end(), [](const Skipped& a, const Skipped& b) { return a.path < b.path; });
  return out;
}

/// The failing (and warning) check ids of a report, e.g. "validity, revocation".
std::string failing_checks(const ValidationReport& report, CheckStatus which) {
  std::string out;
  for (const auto& c : report.checks) {
    if (c.status == which) out += (out.empty() ? "" : ", ") + c.id;
  }
  return out;
}

/// Whether an error means the file itself could not be read (as opposed to a store conflict).
bool unreadable(ErrorCode code) {
  return code == ErrorCode::bad_password || code == ErrorCode::malformed || code == ErrorCode::unsupported ||
         code == ErrorCode::limit_exceeded || code == ErrorCode::io;
}

/// Escapes `value` for the terminal and, on a terminal, cuts it to at most `width` characters, marking the cut with "~" (file names keep
/// their end; the last column gets the terminal's columns beyond 80). Whole when piped or --wide.
std::string fit(const std::string& value, std::size_t width, bool keep_end = false) {
  const std::string s = term(value);  // escaped before it is measured
  const auto w = output_width();
  if (!w) return s;
  if (!keep_end) return last_cell(s, width);
  if (s.size() <= width) return s;
  return keep_end ? "~" + s.substr(s.size() - (width - 1)) : s.substr(0, width - 1) + "~";
}

}  // namespace

int run_import(const StoreGlobal& global, const ImportCliOptions& options) {
  return guarded(options.common, [&] {
    const Context& ctx = Context::shared();
    const Time now = options.common.now_time();
    std::vector<Skipped> skipped;
    const std::vector<fs::path> files = expand_import_paths(options.files, skipped);
    if (files.empty() && skipped.empty()) {
      throw Error(ErrorCode::invalid_argument, "no PKCS#12 files (.p12, .pfx) in the given folders");
    }
    std::optional<PasswordMap> map;
    if (!options.password_map.empty()) map = PasswordMap::load(options.password_map);

    // The password for files the map does not name: the given source, else a prompt on a terminal
    // (asked once, only when some file needs it), else the empty password (tried as OpenSSL does).
    SecretBytes fallback = options.password.read();  // once: stdin can be read once
    const bool need_fallback = std::any_of(files.begin(), files.end(), [&](const fs::path& f) { return !map || !map->find(f); });
    if (need_fallback && !options.password.given() && stdin_is_terminal()) {
      fallback = prompt_password(map ? "Password for the files not in the password map: " : "PKCS#12 password: ");
    }

    BulkImportOptions bulk;
    bulk.threads = options.jobs;
    ImportOptions& base = bulk.defaults;
    if (!options.org.empty()) base.organisation_cvr = options.org;
    if (!options.mailbox.empty()) base.mailbox = options.mailbox;
    base.force = options.force;
    base.actor = global.actor;
    base.validation.at = now;
    if (!options.trust.empty()) base.validation.anchors = TrustAnchors::from_files(paths_of(options.trust), ctx);
    if (!options.untrusted.empty()) base.validation.intermediates = load_certificate_files(paths_of(options.untrusted), ctx);
    if (!options.crls.empty()) base.validation.crls = load_crl_files(paths_of(options.crls), ctx);
    {
      VerifySettings revocation;
      revocation.revocation = options.revocation;
      revocation.apply_revocation_mode(base.validation);
      if (options.revocation.require) base.validation.policy.require_revocation_data = *options.revocation.require;
    }

    std::vector<BulkImportItem> items(files.size());
    for (std::size_t i = 0; i < files.size(); ++i) {
      items[i].path = files[i];
      if (const MapEntry* e = map ? map->find(files[i]) : nullptr) {
        items[i].password = e->password.clone();
        items[i].organisation_cvr = e->org;
        items[i].mailbox = e->mailbox;
      } else {
        items[i].password = fallback.clone();
      }
    }
    if (map && !options.common.json) {
      for (const auto& k : map->unused()) std::cerr << "dpgcert: warning: password map entry '" << term(k) << "' matches no file\n";
    }
    auto store = open_store(global, options.common);
    store->verify_master_key();  // a wrong or missing key is one error up front, not one per file

    ProgressBar bar(files.size(), !options.quiet && !options.common.json);
    std::size_t n_imported = 0, n_present = 0, n_refused = 0, n_unreadable = 0;
    bulk.progress = [&](std::size_t done, std::size_t, const BulkImportResult& r) {
      if (r.error) {
        ++n_unreadable;
      } else if (r.import->outcome == ImportOutcome::imported) {
        ++n_imported;
      } else if (r.import->outcome == ImportOutcome::already_present) {
        ++n_present;
      } else {
        ++n_refused;
      }
      bar.update(done, "imported " + std::to_string(n_imported) + ", already there " + std::to_string(n_present) +
                           ", refused " + std::to_string(n_refused) + ", unreadable " + std::to_string(n_unreadable));
    };
    auto results = import_files(*store, std::move(items), bulk, ctx);
    bar.finish();
    // Entries of a folder that were not opened: reported like files that could not be read.
    for (const Skipped& s : skipped) {
      BulkImportResult r;
      r.index = results.size();
      r.path = s.path;
      r.error = Error(ErrorCode::io, s.why);
      ++n_unreadable;
      results.push_back(std::move(r));
    }

    // Exit code: the worst outcome (a usage error in a file's mapping, an unreadable file, a refusal).
    int rc = exit_ok;
    const auto worse = [&](int code) {
      static constexpr int order[] = {exit_ok, exit_fail, exit_unreadable, exit_usage};
      const auto rank = [&](int c) { return std::find(std::begin(order), std::end(order), c) - std::begin(order); };
      if (rank(code) > rank(rc)) rc = code;
    };
    json out = json::array();
    for (const auto& r : results) {
      json j{{"file", r.path.string()}, {"outcome", nullptr}, {"fingerprint_sha256", nullptr}, {"status", nullptr},
             {"superseded", json::array()}, {"report", nullptr}, {"error", nullptr}};
      if (r.error) {
        j["error"] = to_json(*r.error);
        worse(r.error->code() == ErrorCode::invalid_argument ? exit_usage : exit_unreadable);
      } else {
        const ImportResult& res = *r.import;
        j["outcome"] = std::string(to_string(res.outcome));
        j["fingerprint_sha256"] = res.fingerprint;
        if (res.record) j["status"] = std::string(to_string(res.record->status));
        j["superseded"] = res.superseded;
        if (res.report) j["report"] = to_json(*res.report);
        if (res.outcome == ImportOutcome::refused) worse(exit_fail);
      }
      out.push_back(std::move(j));
    }
    if (options.common.json) {
      print_json(out);
      return rc;
    }

    // The summary table: one row per file, 80 columns.
    const bool colour = colour_stdout();
    std::cout << pad("FILE", 22) << pad("OUTCOME", 14) << "DETAILS\n";
    for (const auto& r : results) {
      std::string outcome;
      std::string details;
      Colour c = Colour::green;
      if (r.error) {
        outcome = unreadable(r.error->code()) ? "unreadable" : "error";
        c = Colour::red;
        details = std::string(to_string(r.error->code())) + ": " + r.error->what();
      } else {
        const ImportResult& res = *r.import;
        if (res.outcome == ImportOutcome::refused) {
          outcome = "refused";
          c = Colour::red;
          details = "failed: " + failing_checks(*res.report, CheckStatus::fail);
        } else if (res.outcome == ImportOutcome::already_present) {
          outcome = "already there";
          details = res.fingerprint.substr(0, 8) + " " + std::string(to_string(res.record->status));
        } else {
          outcome = res.record->forced ? "forced" : "imported";
          c = res.record->forced ? Colour::yellow : Colour::green;
          details = res.fingerprint.substr(0, 8) + " until " + date_only(res.record->not_after) + " (" +
                    relative_days(res.record->not_after, now) + ")";
          if (!res.superseded.empty()) details += ", replaces " + std::to_string(res.superseded.size());
        }
      }
      std::cout << pad(fit(r.path.filename().string(), 21, true), 22) << paint(pad(outcome, 14), c, colour)
                << fit(details, 44) << '\n';
      // Why a file was refused, check by check (e.g. both CVRs when the CVR does not match).
      if (!r.error && r.import->outcome == ImportOutcome::refused) {
        for (const auto& check : r.import->report->checks) {
          if (check.status == CheckStatus::fail) std::cout << "    " << fit(check.id + ": " + check.message, 76) << '\n';
        }
      }
    }
    std::cout << "\n" << results.size() << " files: " << n_imported << " imported, " << n_present << " already there, "
              << n_refused << " refused, " << n_unreadable << " unreadable or failed\n";
    if (n_refused > 0) std::cout << "Refused: failed validation (see 'dpgcert verify FILE'; --force imports anyway).\n";
    return rc;
  });
}

}  // namespace dpgcert::cli
