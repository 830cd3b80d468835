// Certificates whose private key is on a PKCS#11 token: importing the key there, recording
// where it is (table token_keys, migration 7), and removing the objects of a certificate that is
// no longer in use. The store keeps the sealed PKCS#12 (export, backup); the gateway's
// current_bundle() hands out the key's URI instead of the key (sealing.cpp).
#include "store/store_impl.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/token.hpp>

#include <nlohmann/json.hpp>

namespace dpgcert {
namespace {

TokenKeyRecord record_of(const store::TokenKeyRow& row, std::string fingerprint) {
  TokenKeyRecord r;
  r.fingerprint = std::move(fingerprint);
  r.token_uri = row.token_uri;
  r.key_uri = row.key_uri;
  r.certificate_uri = row.certificate_uri;
  r.object_id = row.object_id;
  r.imported_at = row.imported_at;
  r.imported_by = row.imported_by;
  return r;
}

/// The serial= of a recorded URI (every recorded URI has one: Session::object_uri adds it).
std::string serial_of(const std::string& uri) { return token::TokenUri::parse(uri).serial.value_or(""); }

}  // namespace

TokenKeyRecord Store::import_to_token(std::string_view fingerprint, const token::Token& token, std::string_view actor) {
  const std::string fp = store_detail::normalise_fingerprint(fingerprint);
  // Unsealed outside the lock (as export does); the token import runs outside any transaction: a
  // token may be slow, and its objects are rolled back by the token layer on failure.
  const UnsealedBundle u = unseal(fp);
  const token::TokenImport put = token.import_key(u.bundle);
  const token::TokenInfo info = token.info();
  Impl& s = *impl_;
  const Time t = s.now();
  const std::string who = s.actor_or_default(actor);
  try {
    std::lock_guard lock(s.mu);
    return s.transact(true, [&](store::Transaction& tx) {
      const auto id = store_detail::resolve_fingerprint(tx, u.record.fingerprint);
      if (!id) throw Error(ErrorCode::not_found, "store: no certificate " + std::string(fingerprint));
      store::TokenKeyRow row;
      row.certificate_id = *id;
      row.token_uri = info.uri;
      row.key_uri = put.key_uri;
      row.certificate_uri = put.certificate_uri;
      row.object_id = put.id_hex;
      row.imported_at = t;
      row.imported_by = who;
      const auto before = tx.token_key(*id);
      if (before && before->key_uri == row.key_uri && before->certificate_uri == row.certificate_uri &&
          put.created == 0) {
        return record_of(*before, u.record.fingerprint);  // nothing new on the token or in the store
      }
      tx.put_token_key(row);
      s.audit(tx, t, who, "certificate.token_import", "certificate", u.record.fingerprint,
              {{"token", info.uri}, {"key", put.key_uri}, {"created", put.created}});
      TokenKeyRecord r = record_of(row, u.record.fingerprint);
      r.created = put.created;
      return r;
    });
  } catch (...) {
    // Not recorded: what this call put on the token goes again, so a retry starts clean.
    if (put.created == 3) {
      try {
        (void)token.remove_objects(token::TokenUri::parse(put.key_uri));
      } catch (const Error&) {  // the store's error is the one to report
      }
    }
    throw;
  }
}

std::optional<TokenKeyRecord> Store::token_key(std::string_view fingerprint) const {
  const std::string fp = store_detail::normalise_fingerprint(fingerprint);
  const Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) -> std::optional<TokenKeyRecord> {
    const auto id = store_detail::resolve_fingerprint(tx, fp);
    if (!id) throw Error(ErrorCode::not_found, "store: no certificate " + std::string(fingerprint));
    const auto row = tx.token_key(*id);
    if (!row) return std::nullopt;
    return record_of(*row, tx.record(*id, nullptr, *s.ctx).fingerprint);
  });
}

std::vector<TokenKeyRecord> Store::token_keys() const {
  const Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  return s.transact(false, [&](store::Transaction& tx) {
    std::vector<TokenKeyRecord> out;
    for (const auto& row : tx.token_keys()) {
      out.push_back(record_of(row, tx.record(row.certificate_id, nullptr, *s.ctx).fingerprint));
    }
    return out;
  });
}

std::size_t Store::remove_from_token(std::string_view fingerprint, const token::Token& token, std::string_view actor) {
  const std::string fp = store_detail::normalise_fingerprint(fingerprint);
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  const Time t = s.now();
  const std::string who = s.actor_or_default(actor);
  return s.transact(true, [&](store::Transaction& tx) {
    const auto id = store_detail::resolve_fingerprint(tx, fp);
    if (!id) throw Error(ErrorCode::not_found, "store: no certificate " + std::string(fingerprint));
    const CertificateRecord rec = tx.record(*id, nullptr, *s.ctx);
    const auto row = tx.token_key(*id);
    if (!row) throw Error(ErrorCode::not_found, "store: the key of certificate " + rec.fingerprint + " is on no token");
    if (rec.status == CertificateStatus::active) {
      throw Error(ErrorCode::conflict, "store: certificate " + rec.fingerprint +
                                           " is active: its token objects stay until it is retired or superseded");
    }
    if (serial_of(row->token_uri) != token.info().serial) {
      throw Error(ErrorCode::invalid_argument, "store: the key of certificate " + rec.fingerprint + " is on token " +
                                                   row->token_uri + ", not on " + token.info().uri);
    }
    // The token first: should the store's write fail, the row stays and a retry removes nothing
    // more on the token (0 objects) and forgets the row.
    token::TokenUri objects = token::TokenUri::parse(row->key_uri);
    objects.object_label.reset();  // the id alone names the three objects
    const std::size_t removed = token.remove_objects(objects);
    tx.delete_token_key(*id);
    s.audit(tx, t, who, "certificate.token_remove", "certificate", rec.fingerprint,
            {{"token", row->token_uri}, {"key", row->key_uri}, {"removed", removed}});
    return removed;
  });
}

}  // namespace dpgcert
