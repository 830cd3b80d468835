// dpgcert store / org / mailbox / import / list / show / export / retire / key / audit.
#include "store_cli.hpp"
#include "key_info.hpp"

#include "onboarding.hpp"

#include <dpgcert/bulk_import.hpp>
#include <dpgcert/context.hpp>
#include <dpgcert/json.hpp>
#include <dpgcert/pkcs12.hpp>
#include <dpgcert/store.hpp>
#include <dpgcert/validation.hpp>
#include <dpgcert/validation_json.hpp>
#include <dpgcert/vault.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dpgcert::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// ---- opening the store -----------------------------------------------------------------------

fs::path default_store_path() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg == '/') {
    return fs::path(xdg) / "dpgcert" / "store.db";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return fs::path(home) / ".local" / "share" / "dpgcert" / "store.db";
  }
  return "dpgcert.db";
}

fs::path store_path(const StoreGlobal& g) { return g.store.empty() ? default_store_path() : fs::path(g.store); }

StoreOptions store_options(const StoreGlobal& g, const Common& common) {
  StoreOptions o;
  o.path = store_path(g);
  o.actor = g.actor;
  if (!common.now.empty()) o.clock = std::make_shared<FixedClock>(parse_rfc3339(common.now));
  // Overrides of what the store remembers about its master key: the environment, else the
  // configuration file.
  if (const char* kf = std::getenv("DPGCERT_KEY_FILE"); kf != nullptr && *kf != '\0') {
    o.unlock.key_file = kf;
  } else if (!g.key_file.empty()) {
    o.unlock.key_file = g.key_file;
  }
  if (const char* pp = std::getenv("DPGCERT_PASSPHRASE"); pp != nullptr && *pp != '\0') {
    o.unlock.passphrase = SecretBytes::from_text(pp);
  } else if (!g.passphrase_env.empty()) {
    const char* v = std::getenv(g.passphrase_env.c_str());
    if (v == nullptr) {
      throw Error(ErrorCode::invalid_argument, "the configuration names " + g.passphrase_env +
                                                   " for the store's passphrase, and it is not set");
    }
    o.unlock.passphrase = SecretBytes::from_text(v);
  }
  return o;
}

std::unique_ptr<Store> open_store(const StoreGlobal& g, const Common& common) {
  return Store::open(store_options(g, common));
}

/// A hint for errors an operator can fix from the environment (text mode only).
void print_hint(const Common& common, const Error& e) {
  if (!common.json && std::string_view(e.what()).find("from a passphrase") != std::string_view::npos) {
    std::cerr << "dpgcert: hint: set DPGCERT_PASSPHRASE to the store's passphrase\n";
  }
}

/// Runs a command body; errors become a message and exit code 3 (64 for usage errors).
int guarded(const Common& common, const std::function<int()>& body) {
  try {
    return body();
  } catch (const Error& e) {
    print_error(common, e);
    print_hint(common, e);
    return e.code() == ErrorCode::invalid_argument ? exit_usage : exit_unreadable;
  }
}

SecretBytes passphrase_from_env(const std::string& var) {
  const char* v = std::getenv(var.c_str());
  if (v == nullptr || *v == '\0') {
    throw Error(ErrorCode::invalid_argument, "environment variable " + var + " is not set or empty");
  }
  return SecretBytes::from_text(v);
}

// ---- output helpers ----------------------------------------------------------------------------

json opt(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }


std::string date_only(Time t) { return format_rfc3339(t).substr(0, 10); }

/// `s` padded to `width`; a longer value keeps one space before the next column.
std::string pad(std::string s, std::size_t width) {
  s.append(s.size() < width ? width - s.size() : 1, ' ');
  return s;
}

long long days_left(Time not_after, Time now) {
  const auto secs = (not_after - now).count();
  return secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
}

json summary_json(const CertificateSummary& s, Time now) {
  json j;
  j["fingerprint_sha256"] = s.fingerprint;
  j["status"] = std::string(to_string(s.status));
  j["not_before"] = format_rfc3339(s.not_before);
  j["not_after"] = format_rfc3339(s.not_after);
  j["days_left"] = days_left(s.not_after, now);
  j["cvr"] = s.organisation_cvr ? json(*s.organisation_cvr) : opt(s.cvr);
  j["organisation_cvr"] = opt(s.organisation_cvr);
  j["certificate_cvr"] = opt(s.cvr);
  j["mailbox"] = opt(s.mailbox);
  j["type"] = s.type == oces::CertificateType::none ? json(nullptr) : json(std::string(oces::to_string(s.type)));
  j["generation"] = s.generation == oces::Generation::none ? json(nullptr) : json(std::string(oces::to_string(s.generation)));
  j["environment"] =
      s.environment == oces::Environment::unknown ? json(nullptr) : json(std::string(oces::to_string(s.environment)));
  j["oces_id"] = opt(s.oces_id);
  j["common_name"] = opt(s.common_name);
  return j;
}

json parse_or_text(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json(text) : j;
}

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

json organisation_json(const Organisation& o) {
  json contacts = json::array();
  for (const auto& c : o.contacts) contacts.push_back({{"name", c.name}, {"email", c.email}, {"role", c.role}});
  return {{"cvr", o.cvr},
          {"name", o.name},
          {"notes", o.notes},
          {"contacts", contacts},
          {"created_at", format_rfc3339(o.created_at)},
          {"created_by", o.created_by},
          {"updated_at", format_rfc3339(o.updated_at)}};
}

json mailbox_json(const Mailbox& m, const std::optional<CertificateSummary>& current) {
  return {{"address", m.address},
          {"ad_group", m.ad_group},
          {"organisation_cvr", m.organisation_cvr},
          {"current_certificate", current ? json(current->fingerprint) : json(nullptr)},
          {"current_not_after", current ? json(format_rfc3339(current->not_after)) : json(nullptr)},
          {"created_at", format_rfc3339(m.created_at)},
          {"created_by", m.created_by}};
}

std::optional<CertificateSummary> current_of(const Store& s, const std::string& address) {
  CertificateQuery q;
  q.mailbox = address;
  q.status = CertificateStatus::active;
  auto rows = s.query(q);
  if (rows.empty()) return std::nullopt;
  return rows.back();  // ordered by not_after: the last lasts longest
}

/// Cuts `s` to at most `width` characters (UTF-8 code points, never inside one), marking the cut
/// with "~".
std::string clip(const std::string& s, std::size_t width) {
  std::size_t chars = 0;
  std::size_t cut = std::string::npos;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;  // a continuation byte
    if (chars == width - 1) cut = i;
    if (++chars > width) return s.substr(0, cut) + "~";
  }
  return s;
}

/// The certificate table of list and org show: 80 columns, soonest expiry first, the fingerprint
/// cut to 8 digits (enough for show, export and retire), dates in UTC with how far away they are.
void print_summary_table(const std::vector<CertificateSummary>& rows, Time now) {
  const bool colour = colour_stdout();
  std::cout << pad("FP", 9) << pad("STATUS", 11) << pad("EXPIRES", 11) << pad("WHEN", 14) << pad("CVR", 9)
            << pad("TYPE", 9) << "MAILBOX OR NAME\n";
  for (const auto& r : rows) {
    const std::string cvr = r.organisation_cvr ? *r.organisation_cvr : r.cvr.value_or("-");
    const std::string type = r.type == oces::CertificateType::none ? "-"
                             : r.type == oces::CertificateType::organisation ? "org"
                                                                              : std::string(oces::to_string(r.type));
    const long long left = days_left(r.not_after, now);
    const Colour c = r.status != CertificateStatus::active ? Colour::bold
                     : left < 0                            ? Colour::red
                     : left <= 30                          ? Colour::yellow
                                                           : Colour::green;
    const bool paint_it = colour && (r.status == CertificateStatus::active);
    std::cout << pad(r.fingerprint.substr(0, 8), 9) << pad(std::string(to_string(r.status)), 11)
              << pad(date_only(r.not_after), 11) << paint(pad(relative_days(r.not_after, now), 14), c, paint_it)
              << pad(cvr, 9) << pad(type, 9) << clip(r.mailbox ? *r.mailbox : r.common_name.value_or("-"), 17) << '\n';
  }
}

/// "Name <email> (role)", "<email>", "email".
Contact parse_contact(const std::string& text) {
  Contact c;
  std::string rest = text;
  if (const auto open = rest.rfind(" ("); open != std::string::npos && rest.ends_with(")")) {
    c.role = rest.substr(open + 2, rest.size() - open - 3);
    rest = rest.substr(0, open);
  }
  const auto lt = rest.find('<');
  const auto gt = rest.find('>');
  if (lt != std::string::npos && gt != std::string::npos && gt > lt) {
    c.email = rest.substr(lt + 1, gt - lt - 1);
    c.name = rest.substr(0, lt);
    while (!c.name.empty() && c.name.back() == ' ') c.name.pop_back();
  } else {
    c.email = rest;
  }
  if (c.email.find('@') == std::string::npos) {
    throw Error(ErrorCode::invalid_argument, "contact '" + text + "' needs an e-mail address: \"Name <email>\"");
  }
  return c;
}

/// Writes a new file with mode 0600; never replaces an existing one.
void write_new_file(const std::string& path, std::span<const std::byte> data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    throw Error(err == EEXIST ? ErrorCode::conflict : ErrorCode::io,
                "cannot create '" + path + "': " + std::strerror(err));
  }
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t w = ::write(fd, data.data() + off, data.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(path.c_str());
      throw Error(ErrorCode::io, "cannot write '" + path + "': " + std::strerror(err));
    }
    off += static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) throw Error(ErrorCode::io, "cannot flush '" + path + "'");
}

std::vector<fs::path> paths_of(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

}  // namespace

std::unique_ptr<Store> open_cli_store(const StoreGlobal& global, const Common& common) {
  return open_store(global, common);
}

int run_guarded(const Common& common, const std::function<int()>& body) { return guarded(common, body); }

// ---- store ----------------------------------------------------------------------------------------

int run_store_init(const StoreGlobal& global, const StoreInitOptions& options) {
  return guarded(options.common, [&] {
    if (!options.key_file.empty() && !options.passphrase_env.empty()) {
      throw Error(ErrorCode::invalid_argument, "give --key-file or --passphrase-env, not both");
    }
    StoreOptions so = store_options(global, options.common);
    const fs::path path = so.path;
    std::error_code ec;
    if (!path.parent_path().empty() && !fs::exists(path.parent_path(), ec)) {
      fs::create_directories(path.parent_path(), ec);
      if (ec) throw Error(ErrorCode::io, "cannot create '" + path.parent_path().string() + "': " + ec.message());
      fs::permissions(path.parent_path(), fs::perms::owner_all, ec);
    }
    std::optional<vault::KeySource> source;
    fs::path key_file;
    bool key_created = false;
    if (!options.passphrase_env.empty()) {
      source = vault::KeySource::passphrase(passphrase_from_env(options.passphrase_env),
                                            vault::Argon2Params{options.argon2_memory_kib, options.argon2_iterations,
                                                                options.argon2_parallelism});
    } else {
      key_file = options.key_file.empty() ? fs::path(path).replace_extension(".key") : fs::path(options.key_file);
      key_created = !fs::exists(key_file, ec);
      source = vault::KeySource::key_file(key_file);
    }
    auto store = Store::create(std::move(so), *source);
    const StoreInfo info = store->info();
    if (options.common.json) {
      print_json({{"store", info.location},
                  {"schema_version", info.schema_version},
                  {"key_source", info.key_kind},
                  {"key_file", opt(key_file_of(info))},
                  {"key_file_created", key_created}});
    } else {
      std::cout << "Created store " << info.location << " (schema " << info.schema_version << ")\n";
      if (const auto kf = key_file_of(info)) {
        std::cout << "Master key: key file " << *kf << (key_created ? " (created, mode 0600)" : " (existing)")
                  << "\nKeep a copy of the key file apart from the store's backups: without it nothing sealed can be opened.\n";
      } else {
        std::cout << "Master key: passphrase (Argon2id " << options.argon2_memory_kib << " KiB, t="
                  << options.argon2_iterations << ", p=" << options.argon2_parallelism
                  << "); give it to later commands in DPGCERT_PASSPHRASE.\n";
      }
    }
    return static_cast<int>(exit_ok);
  });
}

int run_store_info(const StoreGlobal& global, const StoreInfoOptions& options) {
  return guarded(options.common, [&] {
    auto store = open_store(global, options.common);
    const StoreInfo i = store->info();
    if (options.common.json) {
      json j{{"store", i.location},
             {"backend", i.backend},
             {"schema_version", i.schema_version},
             {"key_source", i.key_kind},
             {"key_params", key_params(i)},
             {"key_file", opt(key_file_of(i))},
             {"argon2", argon2_of(i)},
             {"created_at", format_rfc3339(i.created_at)},
             {"key_rotated_at", i.key_rotated_at ? json(format_rfc3339(*i.key_rotated_at)) : json(nullptr)},
             {"organisations", i.organisations},
             {"mailboxes", i.mailboxes},
             {"certificates", i.certificates}};
      print_json(j);
      return static_cast<int>(exit_ok);
    }
    print_row("Store", i.location + " (" + i.backend + ", schema " + std::to_string(i.schema_version) + ")");
    print_row("Master key", describe_key(i));
    print_row("Created", format_rfc3339(i.created_at));
    if (i.key_rotated_at) print_row("Key rotated", format_rfc3339(*i.key_rotated_at));
    print_row("Organisations", std::to_string(i.organisations));
    print_row("Mailboxes", std::to_string(i.mailboxes));
    print_row("Certificates", std::to_string(i.certificates));
    return static_cast<int>(exit_ok);
  });
}

// ---- organisations and mailboxes ----------------------------------------------------------------

int run_org_add(const StoreGlobal& global, const OrgAddOptions& options) {
  return guarded(options.common, [&] {
    Organisation o;
    o.cvr = options.cvr;
    o.name = options.name;
    o.notes = options.notes;
    for (const auto& c : options.contacts) o.contacts.push_back(parse_contact(c));
    auto store = open_store(global, options.common);
    const Organisation added = store->add_organisation(o);
    if (options.common.json) {
      print_json(organisation_json(added));
    } else {
      std::cout << "Added organisation " << added.cvr << " (" << added.name << ")\n";
    }
    return static_cast<int>(exit_ok);
  });
}

int run_org_list(const StoreGlobal& global, const OrgListOptions& options) {
  return guarded(options.common, [&] {
    auto store = open_store(global, options.common);
    const auto orgs = store->list_organisations();
    if (options.common.json) {
      json arr = json::array();
      for (const auto& o : orgs) arr.push_back(organisation_json(o));
      print_json(arr);
      return static_cast<int>(exit_ok);
    }
    std::cout << pad("CVR", 10) << pad("CONTACTS", 10) << "NAME\n";
    for (const auto& o : orgs) std::cout << pad(o.cvr, 10) << pad(std::to_string(o.contacts.size()), 10) << clip(o.name, 60) << '\n';
    return static_cast<int>(exit_ok);
  });
}

int run_org_show(const StoreGlobal& global, const OrgShowOptions& options) {
  return guarded(options.common, [&] {
    auto store = open_store(global, options.common);
    const Time now = options.common.now_time();
    const auto org = store->find_organisation(options.cvr);
    if (!org) throw Error(ErrorCode::not_found, "no organisation with CVR " + options.cvr);
    const auto mailboxes = store->list_mailboxes(std::string_view(options.cvr));
    CertificateQuery q;
    q.organisation_cvr = options.cvr;
    const auto certs = store->query(q);
    if (options.common.json) {
      json mbs = json::array();
      for (const auto& m : mailboxes) mbs.push_back(mailbox_json(m, current_of(*store, m.address)));
      json cs = json::array();
      for (const auto& c : certs) cs.push_back(summary_json(c, now));
      print_json({{"organisation", organisation_json(*org)}, {"mailboxes", mbs}, {"certificates", cs}});
      return static_cast<int>(exit_ok);
    }
    print_row("CVR", org->cvr);
    print_row("Name", org->name);
    for (const auto& c : org->contacts) {
      print_row("Contact", (c.name.empty() ? "" : c.name + " ") + "<" + c.email + ">" + (c.role.empty() ? "" : " (" + c.role + ")"));
    }
    if (!org->notes.empty()) print_row("Notes", org->notes);
    print_row("Added", format_rfc3339(org->created_at) + " by " + org->created_by);
    std::cout << "Mailboxes\n";
    for (const auto& m : mailboxes) print_row(m.address, m.ad_group.empty() ? "-" : "AD group " + m.ad_group);
    std::cout << "Certificates\n";
    print_summary_table(certs, now);
    return static_cast<int>(exit_ok);
  });
}

int run_mailbox_add(const StoreGlobal& global, const MailboxAddOptions& options) {
  return guarded(options.common, [&] {
    Mailbox m;
    m.address = options.address;
    m.organisation_cvr = options.org;
    m.ad_group = options.ad_group;
    auto store = open_store(global, options.common);
    const Mailbox added = store->add_mailbox(m);
    if (options.common.json) {
      print_json(mailbox_json(added, std::nullopt));
    } else {
      std::cout << "Added mailbox " << added.address << " to organisation " << added.organisation_cvr << '\n';
    }
    return static_cast<int>(exit_ok);
  });
}

int run_mailbox_list(const StoreGlobal& global, const MailboxListOptions& options) {
  return guarded(options.common, [&] {
    auto store = open_store(global, options.common);
    const auto mailboxes = options.org.empty() ? store->list_mailboxes() : store->list_mailboxes(std::string_view(options.org));
    if (options.common.json) {
      json arr = json::array();
      for (const auto& m : mailboxes) arr.push_back(mailbox_json(m, current_of(*store, m.address)));
      print_json(arr);
      return static_cast<int>(exit_ok);
    }
    const Time now = options.common.now_time();
    std::cout << pad("ADDRESS", 27) << pad("CVR", 9) << pad("AD GROUP", 18) << "CURRENT CERTIFICATE\n";
    for (const auto& m : mailboxes) {
      const auto cur = current_of(*store, m.address);
      std::cout << pad(clip(m.address, 26), 27) << pad(m.organisation_cvr, 9)
                << pad(clip(m.ad_group.empty() ? "-" : m.ad_group, 17), 18)
                << (cur ? cur->fingerprint.substr(0, 8) + " " + date_only(cur->not_after) + " " +
                              (days_left(cur->not_after, now) < 0 ? "expired" : "(" + std::to_string(days_left(cur->not_after, now)) + "d)")
                        : std::string("none"))
                << '\n';
    }
    return static_cast<int>(exit_ok);
  });
}

// ---- certificates ---------------------------------------------------------------------------------

namespace {

/// The PKCS#12 files a list of paths stands for: files as given (so a typo is reported), and the
/// .p12/.pfx files of folders in name order (hidden files skipped; not recursive).
std::vector<fs::path> expand_import_paths(const std::vector<std::string>& paths) {
  std::vector<fs::path> out;
  for (const auto& p : paths) {
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
      out.emplace_back(p);
      continue;
    }
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(p, ec)) {
      const std::string name = e.path().filename().string();
      std::string ext = e.path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (!name.starts_with(".") && (ext == ".p12" || ext == ".pfx") && e.is_regular_file(ec)) found.push_back(e.path());
    }
    if (ec) throw Error(ErrorCode::io, "cannot list folder '" + p + "': " + ec.message());
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
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

/// Cuts `s` to at most `width` characters, marking the cut with "~" (file names keep their end).
std::string fit(const std::string& s, std::size_t width, bool keep_end = false) {
  if (s.size() <= width) return s;
  return keep_end ? "~" + s.substr(s.size() - (width - 1)) : s.substr(0, width - 1) + "~";
}

}  // namespace

int run_import(const StoreGlobal& global, const ImportCliOptions& options) {
  return guarded(options.common, [&] {
    const Context& ctx = Context::shared();
    const Time now = options.common.now_time();
    const std::vector<fs::path> files = expand_import_paths(options.files);
    if (files.empty()) throw Error(ErrorCode::invalid_argument, "no PKCS#12 files (.p12, .pfx) in the given folders");
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
      for (const auto& k : map->unused()) std::cerr << "dpgcert: warning: password map entry '" << k << "' matches no file\n";
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
    const auto results = import_files(*store, std::move(items), bulk, ctx);
    bar.finish();

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
    }
    std::cout << "\n" << results.size() << " files: " << n_imported << " imported, " << n_present << " already there, "
              << n_refused << " refused, " << n_unreadable << " unreadable or failed\n";
    if (n_refused > 0) std::cout << "Refused: failed validation (see 'dpgcert verify FILE'; --force imports anyway).\n";
    return rc;
  });
}

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
    write_new_file(options.out, bytes);
    if (options.common.json) {
      print_json({{"fingerprint_sha256", u.record.fingerprint}, {"file", options.out}, {"profile", options.profile}});
    } else {
      std::cout << "Exported " << u.record.fingerprint << " to " << options.out << " (" << options.profile
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

int run_key_rotate(const StoreGlobal& global, const KeyRotateOptions& options) {
  return guarded(options.common, [&] {
    if (!options.new_key_file.empty() && !options.new_passphrase_env.empty()) {
      throw Error(ErrorCode::invalid_argument, "give --new-key-file or --new-passphrase-env, not both");
    }
    auto store = open_store(global, options.common);
    const StoreInfo before = store->info();
    std::optional<vault::KeySource> next;
    if (!options.new_passphrase_env.empty()) {
      next = vault::KeySource::passphrase(passphrase_from_env(options.new_passphrase_env),
                                          vault::Argon2Params{options.argon2_memory_kib, options.argon2_iterations,
                                                              options.argon2_parallelism});
    } else if (!options.new_key_file.empty()) {
      next = vault::KeySource::key_file(options.new_key_file);
    } else if (const auto before_file = key_file_of(before)) {
      // A new key file beside the old one, named by the time: never overwrites the key in use.
      std::string stamp = format_rfc3339(options.common.now_time());
      std::erase_if(stamp, [](char c) { return c == '-' || c == ':'; });
      const fs::path old(*before_file);
      next = vault::KeySource::key_file(old.parent_path() / (old.stem().string() + "-" + stamp + ".key"));
    } else {
      throw Error(ErrorCode::invalid_argument,
                  "this store uses a passphrase: give the new one with --new-passphrase-env (or --new-key-file)");
    }
    const RotationResult r = store->rotate_master_key(*next);
    const StoreInfo after = store->info();
    if (options.common.json) {
      print_json({{"rewrapped", r.rewrapped},
                  {"key_source", after.key_kind},
                  {"key_file", opt(key_file_of(after))},
                  {"previous_key_file", opt(key_file_of(before))}});
    } else {
      std::cout << "Re-wrapped " << r.rewrapped << " data keys; no sealed data was rewritten.\n";
      if (const auto kf = key_file_of(after)) std::cout << "The store now uses key file " << *kf << '\n';
      else if (after.key_kind == "passphrase") std::cout << "The store now uses the new passphrase (give it in DPGCERT_PASSPHRASE)\n";
      else std::cout << "The store now uses " << describe_key(after) << '\n';
      if (const auto kf = key_file_of(before)) {
        std::cout << "The previous key file " << *kf
                  << " no longer opens this store; keep it only as long as older backups need it.\n";
      }
    }
    return static_cast<int>(exit_ok);
  });
}

int run_audit(const StoreGlobal& global, const AuditOptions& options) {
  return guarded(options.common, [&] {
    auto store = open_store(global, options.common);
    auto entries = store->audit_log();
    if (options.limit > 0 && entries.size() > options.limit) {
      entries.erase(entries.begin(), entries.end() - static_cast<std::ptrdiff_t>(options.limit));
    }
    if (options.common.json) {
      json arr = json::array();
      for (const auto& e : entries) {
        arr.push_back({{"id", e.id},
                       {"at", format_rfc3339(e.at)},
                       {"actor", e.actor},
                       {"action", e.action},
                       {"object_kind", e.object_kind},
                       {"object_key", e.object_key},
                       {"details", parse_or_text(e.details)}});
      }
      print_json(arr);
      return static_cast<int>(exit_ok);
    }
    for (const auto& e : entries) {
      std::cout << format_rfc3339(e.at) << "  " << pad(e.actor, 12) << pad(e.action, 24) << e.object_key << "  "
                << e.details << '\n';
    }
    return static_cast<int>(exit_ok);
  });
}

}  // namespace dpgcert::cli
