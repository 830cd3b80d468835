// dpgcert store init / store info / store copy / key rotate / audit.
#include "store_support.hpp"
#include "key_info.hpp"
#include "terminal.hpp"

#include <dpgcert/lifecycle.hpp>
#include <dpgcert/vault.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace dpgcert::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

SecretBytes passphrase_from_env(const std::string& var) {
  refuse_inherited_secret_variable(var);
  const char* v = std::getenv(var.c_str());
  if (v == nullptr || *v == '\0') {
    throw Error(ErrorCode::invalid_argument, "environment variable " + var + " is not set or empty");
  }
  return SecretBytes::from_text(v);
}

}  // namespace

// ---- store ----------------------------------------------------------------------------------------

int run_store_init(const StoreGlobal& global, const StoreInitOptions& options) {
  return guarded(options.common, [&] {
    if (!options.key_file.empty() && !options.passphrase_env.empty()) {
      throw Error(ErrorCode::invalid_argument, "give --key-file or --passphrase-env, not both");
    }
    StoreOptions so = store_options(global, options.common);
    so.environment = parse_environment_policy(options.environment).value_or(EnvironmentPolicy::any);
    // A SQLite store is a file: its folder is made here and its key file defaults to one beside it.
    // Another backend's store needs its key source named.
    const std::optional<fs::path> file = sqlite_file_of(so.location);
    if (!file && options.key_file.empty() && options.passphrase_env.empty() && options.key_source.empty()) {
      throw Error(ErrorCode::invalid_argument, "a store at '" + display_location(so.location) +
                                                   "' needs --key-file or --passphrase-env (no key file beside a database file)");
    }
    const fs::path path = file.value_or(fs::path());
    std::error_code ec;
    if (!path.parent_path().empty() && !fs::exists(path.parent_path(), ec)) {
      fs::create_directories(path.parent_path(), ec);
      if (ec) throw Error(ErrorCode::io, "cannot create '" + path.parent_path().string() + "': " + ec.message());
      fs::permissions(path.parent_path(), fs::perms::owner_all, ec);
    }
    std::optional<vault::KeySource> source;
    fs::path key_file;
    bool key_created = false;
    if (!options.key_source.empty()) {
      source = vault::KeySource::pkcs11(options.key_source, read_pin(global, options.key_source));
    } else if (!options.passphrase_env.empty()) {
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
                  {"key_file_created", key_created},
                  {"environment", to_string(info.environment)}});
    } else {
      std::cout << "Created store " << term(info.location) << " (schema " << info.schema_version << ", accepts "
                << (info.environment == EnvironmentPolicy::any ? std::string("production and test")
                                                               : std::string(to_string(info.environment)))
                << " certificates)\n";
      if (const auto kf = key_file_of(info)) {
        std::cout << "Master key: key file " << term(*kf) << (key_created ? " (created, mode 0600)" : " (existing)")
                  << "\nKeep a copy of the key file apart from the store's backups: without it nothing sealed can be opened.\n";
      } else if (info.key_kind == "pkcs11") {
        std::cout << "Master key: " << term(describe_key(info))
                  << " (on the token; it never leaves it). Give the token's PIN to later commands with --pin-file,\n"
                     "--pin-env or DPGCERT_PIN.\n";
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
             {"certificates", i.certificates},
             {"environment", to_string(i.environment)}};
      print_json(j);
      return static_cast<int>(exit_ok);
    }
    print_row("Store", i.location + " (" + i.backend + ", schema " + std::to_string(i.schema_version) + ")");
    print_row("Master key", describe_key(i));
    print_row("Created", format_rfc3339(i.created_at));
    print_row("Environment", i.environment == EnvironmentPolicy::any
                                 ? std::string("any (production and test certificates)")
                                 : std::string(to_string(i.environment)) + " certificates only");
    if (i.key_rotated_at) print_row("Key rotated", format_rfc3339(*i.key_rotated_at));
    print_row("Organisations", std::to_string(i.organisations));
    print_row("Mailboxes", std::to_string(i.mailboxes));
    print_row("Certificates", std::to_string(i.certificates));
    return static_cast<int>(exit_ok);
  });
}

int run_store_copy(const StoreGlobal& global, const StoreCopyOptions& options) {
  return guarded(options.common, [&] {
    StoreOptions from = store_options(global, options.common);
    if (!options.from.empty()) from.location = options.from;
    StoreOptions to;
    to.location = options.to;
    to.actor = from.actor;
    to.clock = from.clock;
    // A SQLite destination is a file: its folder is made here, as store init does.
    if (const auto file = sqlite_file_of(to.location); file && !file->parent_path().empty()) {
      std::error_code ec;
      if (!fs::exists(file->parent_path(), ec)) {
        fs::create_directories(file->parent_path(), ec);
        if (ec) throw Error(ErrorCode::io, "cannot create '" + file->parent_path().string() + "': " + ec.message());
        fs::permissions(file->parent_path(), fs::perms::owner_all, ec);
      }
    }
    auto store = Store::open(std::move(from));
    const StoreInfo source = store->info();
    const CopyResult r = store->copy_to(to);
    if (options.common.json) {
      json tables = json::object();
      for (const CopiedTable& t : r.tables) tables[t.name] = t.rows;
      print_json({{"from", source.location},
                  {"from_backend", source.backend},
                  {"to", r.destination},
                  {"certificates", r.certificates},
                  {"fingerprint_digest", r.fingerprint_digest},
                  {"tables", tables},
                  {"verified", true}});
      return static_cast<int>(exit_ok);
    }
    std::size_t rows = 0;
    for (const CopiedTable& t : r.tables) rows += t.rows;
    std::cout << "Copied " << term(source.location) << " (" << source.backend << ") to " << term(r.destination) << ": "
              << r.certificates << " certificates, " << rows << " rows in " << r.tables.size() << " tables.\n"
              << "Verified: every table row by row before the commit, counts and fingerprints after it.\n";
    if (const auto kf = key_file_of(source)) {
      std::cout << "The copy opens with the same master key (key file " << term(*kf) << ").\n";
    } else {
      std::cout << "The copy opens with the same master key (the same passphrase).\n";
    }
    return static_cast<int>(exit_ok);
  });
}

int run_store_environment(const StoreGlobal& global, const StoreEnvironmentOptions& options) {
  return guarded(options.common, [&] {
    auto store = open_store(global, options.common);
    const EnvironmentPolicy before = store->info().environment;
    if (!options.environment.empty()) {
      store->set_environment_policy(parse_environment_policy(options.environment).value_or(EnvironmentPolicy::any),
                                    global.actor);
    }
    const EnvironmentPolicy now = store->info().environment;
    if (options.common.json) {
      print_json({{"environment", to_string(now)}, {"previous", to_string(before)}, {"changed", before != now}});
    } else if (options.environment.empty()) {
      std::cout << "The store accepts " << (now == EnvironmentPolicy::any ? "production and test" : to_string(now))
                << " certificates\n";
    } else {
      std::cout << "The store's environment policy is " << to_string(now)
                << (before == now ? " (unchanged)" : " (was " + std::string(to_string(before)) + ")") << '\n';
    }
    return static_cast<int>(exit_ok);
  });
}

int run_store_retention(const StoreGlobal& global, const StoreRetentionOptions& options) {
  return guarded(options.common, [&] {
    auto store = open_store(global, options.common);
    Lifecycle lifecycle(*store);
    const std::optional<std::chrono::days> before = lifecycle.outbox_retention();
    if (!options.retention.empty()) {
      lifecycle.set_outbox_retention(options.retention == "off" ? std::nullopt
                                                                : std::optional<std::chrono::days>(std::stoi(options.retention)),
                                     global.actor);
    }
    const std::optional<std::chrono::days> now = lifecycle.outbox_retention();
    const auto json_days = [](std::optional<std::chrono::days> d) { return d ? nlohmann::json(d->count()) : nlohmann::json(); };
    const auto text = [](std::optional<std::chrono::days> d) { return d ? std::to_string(d->count()) + " days" : std::string("forever"); };
    if (options.common.json) {
      print_json({{"retention_days", json_days(now)}, {"previous", json_days(before)}, {"changed", before != now}});
    } else if (options.retention.empty()) {
      std::cout << "Delivered events stay in the outbox " << (now ? "for " : "") << text(now) << '\n';
    } else {
      std::cout << "Delivered events stay in the outbox " << (now ? "for " : "") << text(now)
                << (before == now ? " (unchanged)" : " (was " + text(before) + ")") << '\n';
    }
    return static_cast<int>(exit_ok);
  });
}

int run_store_backup(const StoreGlobal& global, const StoreBackupOptions& options) {
  return guarded(options.common, [&] {
    auto store = open_store(global, options.common);
    const StoreInfo copy = store->backup(options.file, global.actor);
    if (options.common.json) {
      print_json({{"backup", copy.location},
                  {"schema_version", copy.schema_version},
                  {"organisations", copy.organisations},
                  {"mailboxes", copy.mailboxes},
                  {"certificates", copy.certificates}});
    } else {
      std::cout << "Backed up to " << term(copy.location) << ": " << copy.organisations << " organisations, "
                << copy.mailboxes << " mailboxes, " << copy.certificates
                << " certificates.\nIt opens with the store's master key; keep the key apart from the backup.\n";
    }
    return static_cast<int>(exit_ok);
  });
}

int run_store_restore(const StoreGlobal& global, const StoreBackupOptions& options) {
  return guarded(options.common, [&] {
    auto store = open_store(global, options.common);
    store->restore(options.file, global.actor);
    store->verify_master_key();  // the restored store opens with the key at hand, or says so
    const StoreInfo i = store->info();
    if (options.common.json) {
      print_json({{"store", i.location},
                  {"restored_from", options.file},
                  {"schema_version", i.schema_version},
                  {"organisations", i.organisations},
                  {"mailboxes", i.mailboxes},
                  {"certificates", i.certificates}});
    } else {
      std::cout << "Restored " << term(i.location) << " from " << term(options.file) << ": " << i.organisations
                << " organisations, " << i.mailboxes << " mailboxes, " << i.certificates << " certificates.\n";
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
    if (!options.new_key_source.empty()) {
      next = vault::KeySource::pkcs11(options.new_key_source, read_pin(global, options.new_key_source));
    } else if (!options.new_passphrase_env.empty()) {
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
      else std::cout << "The store now uses " << term(describe_key(after)) << '\n';
      if (const auto kf = key_file_of(before)) {
        std::cout << "The previous key file " << term(*kf)
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
                       {"command_time", e.command_time ? json(format_rfc3339(*e.command_time)) : json(nullptr)},
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
      std::cout << format_rfc3339(e.at) << "  " << pad(e.actor, 12) << pad(e.action, 24) << term(e.object_key) << "  "
                << term(e.details);
      if (e.command_time) std::cout << "  (for --now " << format_rfc3339(*e.command_time) << ")";
      std::cout << '\n';
    }
    return static_cast<int>(exit_ok);
  });
}

}  // namespace dpgcert::cli
