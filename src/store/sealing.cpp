// The store's master key: unlocking it (once, outside the write lock), noticing a rotation by
// another process, unsealing bundles (the gateway's current_bundle call), rotating the key.
#include "store/import_plan.hpp"
#include "store/store_impl.hpp"
#include "pkcs12/bundle_impl.hpp"

#include <dpgcert/error.hpp>

#include <nlohmann/json.hpp>

namespace dpgcert {
namespace {

using store_detail::seal_context;

/// An unsealed secret pair, before the bundle is loaded (outside the lock).
struct Unsealed {
  CertificateRecord record;
  SecretBytes pkcs12;
  SecretBytes password;
  std::optional<std::string> key_uri;  ///< The key is on a token (token_keys).
};

vault::KeyHeader header_of(store::Transaction& tx) {
  auto h = tx.key_header();
  if (!h) throw Error(ErrorCode::malformed, "store: the store has no master-key header");
  return std::move(*h);
}

Unsealed unseal_in(const Store::Impl& s, store::Transaction& tx, std::int64_t id) {
  CertificateRecord rec = tx.record(id, nullptr, *s.ctx);
  const auto sealed = tx.secrets(id);
  if (!sealed) throw Error(ErrorCode::not_found, "store: certificate " + rec.fingerprint + " has no sealed secret");
  const vault::Vault& v = s.vault_in(tx);
  try {
    SecretBytes p12 = v.open(sealed->pkcs12, seal_context(id, rec.fingerprint, "pkcs12"));
    SecretBytes pw = v.open(sealed->password, seal_context(id, rec.fingerprint, "password"));
    return Unsealed{std::move(rec), std::move(p12), std::move(pw), std::nullopt};
  } catch (const Error&) {
    throw Error(ErrorCode::malformed, "store: the sealed secret of certificate " + rec.fingerprint +
                                          " does not open under this store's master key: it was altered or moved "
                                          "from another record");
  }
}

UnsealedBundle load(const Store::Impl& s, Unsealed u) {
  Pkcs12Bundle bundle = load_pkcs12(u.pkcs12.bytes(), u.password, *s.ctx);
  return UnsealedBundle{std::move(u.record), std::move(bundle), std::move(u.pkcs12), std::move(u.password), std::nullopt};
}

}  // namespace

void Store::Impl::ensure_vault(bool recheck) const {
  if (unlocked && !recheck) return;  // vault_in() notices a rotation
  const vault::KeyHeader h = transact(false, [&](store::Transaction& tx) { return header_of(tx); });
  if (unlocked && vault_check == h.check) return;
  unlocked.emplace(vault::open_key(h, options.unlock));
  vault_check = h.check;
}

const vault::Vault& Store::Impl::vault_in(store::Transaction& tx) const {
  const auto check = tx.key_check();
  if (!check) throw Error(ErrorCode::malformed, "store: the store has no master-key header");
  if (!unlocked || *check != vault_check) {
    const vault::KeyHeader h = header_of(tx);
    unlocked.emplace(vault::open_key(h, options.unlock));
    vault_check = h.check;
  }
  return *unlocked;
}

std::optional<UnsealedBundle> Store::current_bundle(std::string_view mailbox) const {
  const std::string address = store_detail::lowercase(mailbox);
  const Impl& s = *impl_;
  std::optional<Unsealed> u;
  {
    std::lock_guard lock(s.mu);
    s.ensure_vault();
    u = s.transact(false, [&](store::Transaction& tx) -> std::optional<Unsealed> {
      const auto row = tx.mailbox_ref(address);
      if (!row) throw Error(ErrorCode::not_found, "store: no mailbox " + address);
      const auto id = tx.current_for_mailbox(row->id);
      if (!id) return std::nullopt;
      Unsealed un = unseal_in(s, tx, *id);
      if (const auto on_token = tx.token_key(*id)) un.key_uri = on_token->key_uri;
      return un;
    });
  }
  if (!u) return std::nullopt;
  if (!u->key_uri) return load(s, std::move(*u));
  // The key is on a token: the gateway gets its URI, the certificate and the chain, never the
  // key (it is wiped with the loaded bundle here).
  Pkcs12Bundle loaded = load_pkcs12(u->pkcs12.bytes(), u->password, *s.ctx);
  auto impl = std::make_unique<Pkcs12Bundle::Impl>();
  impl->leaf = loaded.leaf();
  impl->chain = loaded.chain();
  impl->certificates = loaded.certificates();
  impl->friendly_name = loaded.friendly_name();
  impl->profile = loaded.profile();
  return UnsealedBundle{std::move(u->record), Pkcs12Bundle(std::move(impl)), SecretBytes{}, SecretBytes{},
                        std::move(u->key_uri)};
}

UnsealedBundle Store::unseal(std::string_view fingerprint) const {
  const std::string fp = store_detail::normalise_fingerprint(fingerprint);
  const Impl& s = *impl_;
  std::optional<Unsealed> u;
  {
    std::lock_guard lock(s.mu);
    s.ensure_vault();
    u = s.transact(false, [&](store::Transaction& tx) -> std::optional<Unsealed> {
      const auto id = store_detail::resolve_fingerprint(tx, fp);
      if (!id) throw Error(ErrorCode::not_found, "store: no certificate " + std::string(fingerprint));
      return unseal_in(s, tx, *id);
    });
  }
  return load(s, std::move(*u));
}

RotationResult Store::rotate_master_key(const vault::KeySource& next, std::string_view actor) {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  s.ensure_vault(true);
  vault::EstablishedKey est = vault::establish_key(next);
  if (s.unlocked->wrapper().same_key(*est.wrapper)) {
    throw Error(ErrorCode::invalid_argument, "store: the new master key is the current one");
  }
  const vault::Vault target(est.wrapper);
  const Time t = s.now();
  const std::string who = s.actor_or_default(actor);
  const vault::KeyHeader old = s.transact(false, [&](store::Transaction& tx) { return header_of(tx); });
  RotationResult r = s.transact(true, [&](store::Transaction& tx) {
    RotationResult res;
    const vault::Vault& current = s.vault_in(tx);
    std::int64_t after = 0;
    for (;;) {
      const std::vector<store::WrappedKeys> rows = tx.wrapped_keys(after, 1000);
      if (rows.empty()) break;
      for (const store::WrappedKeys& row : rows) {
        std::vector<std::byte> p12k;
        std::vector<std::byte> pwk;
        try {
          p12k = current.rewrap(row.pkcs12_key, seal_context(row.certificate_id, row.fingerprint, "pkcs12"), target);
          pwk = current.rewrap(row.password_key, seal_context(row.certificate_id, row.fingerprint, "password"), target);
        } catch (const Error&) {
          throw Error(ErrorCode::malformed, "store: the sealed secret of certificate " + row.fingerprint +
                                                " does not open: it was altered or moved from another record");
        }
        tx.update_wrapped_keys(row.certificate_id, p12k, pwk);
        res.rewrapped += 2;
        after = row.certificate_id;
      }
    }
    tx.write_key_header(est.header, t, true);
    s.audit(tx, t, who, "key.rotate", "key", "master",
                {{"from", old.kind},
                 {"to", est.header.kind},
                 {"params", nlohmann::json::parse(est.header.params)},
                 {"rewrapped", res.rewrapped}});
    return res;
  });
  s.unlocked.emplace(est.wrapper);
  s.vault_check = est.header.check;
  return r;
}

void Store::verify_master_key() const {
  const Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  s.ensure_vault(true);
}

}  // namespace dpgcert
