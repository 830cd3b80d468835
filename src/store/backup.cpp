// Backups of a store: a consistent copy made while the store is in use, and a restore that puts
// one back in place of the store's content (both by the backend: SQLite's online backup API).
#include "store/store_impl.hpp"

#include <dpgcert/error.hpp>

#include <nlohmann/json.hpp>

namespace dpgcert {

StoreInfo Store::backup(const std::filesystem::path& file, std::string_view actor) {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  const Time t = s.now();
  const std::string who = s.actor_or_default(actor);
  // The line is written first, so the copy holds its own making (and a failed copy leaves it,
  // which says an attempt was made).
  s.transact(true, [&](store::Transaction& tx) {
    s.audit(tx, t, who, "store.backup", "store", s.backend->location(), {{"file", file.string()}});
  });
  s.backend->backup_to(file);
  StoreOptions o;
  o.path = file;  // only SQLite makes backup files; other backends refuse above
  return Store::open(std::move(o))->info();
}

void Store::restore(const std::filesystem::path& file, std::string_view actor) {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  const Time t = s.now();
  const std::string who = s.actor_or_default(actor);
  const std::string location = s.backend->location();
  s.backend->restore_from(file);
  s.unlocked.reset();  // the backup may be sealed under another key (made before a rotation)
  s.vault_check.clear();
  const int latest = s.backend->latest_schema_version();
  s.transact(true, [&](store::Transaction& tx) {
    const int v = tx.schema_version();
    if (v < latest) {
      tx.migrate(v, t);
      s.audit(tx, t, who, "store.migrate", "store", location, {{"from", v}, {"to", latest}});
    }
    s.audit(tx, t, who, "store.restore", "store", location, {{"file", file.string()}});
  });
}

}  // namespace dpgcert
