// CRLs fetched online and kept in the store (schema 9): reused while current, refetched when stale,
// conditionally with the server's validators. The network is used outside the store's lock and
// outside any transaction, so a slow CRL server never holds up other users of the store.
#include "store/store_impl.hpp"
#include "validation/validation_impl.hpp"

#include <dpgcert/revocation.hpp>

namespace dpgcert {
namespace {

// Without a nextUpdate a kept CRL is asked for again after this long.
constexpr std::chrono::hours kNoNextUpdateReuse{24};

bool current(const store::CachedCrlRow& row, Time at) {
  if (row.next_update == Time{}) return row.checked_at + kNoNextUpdateReuse > at;
  return row.next_update > at;
}

}  // namespace

CrlFetch Store::fetch_crl(const std::string& url, const Certificate& subject, const Certificate& issuer,
                          const FetchOptions& options) {
  Impl& s = *impl_;
  const Context& ctx = s.ctx != nullptr ? *s.ctx : Context::shared();
  const std::string issuer_fp = to_hex(issuer.fingerprint_sha256());
  Time at{};
  std::optional<store::CachedCrlRow> kept;
  {
    std::lock_guard lock(s.mu);
    at = s.now();
    kept = s.transact(false, [&](store::Transaction& tx) { return tx.cached_crl(url); });
  }
  if (kept && kept->issuer_fingerprint != issuer_fp) kept.reset();  // another CA's: never reused
  auto stored_crl = [&]() -> std::optional<Crl> {
    try {
      return detail::crl_from_der(kept->der, ctx.limits().max_crl_bytes, ctx);
    } catch (const Error&) {
      return std::nullopt;  // unreadable: fetched anew
    }
  };
  if (kept && current(*kept, at)) {
    if (std::optional<Crl> crl = stored_crl()) {
      CrlFetch out;
      out.url = url;
      out.crl = std::move(crl);
      out.from_store = true;
      out.validators = {kept->etag, kept->last_modified};
      return out;
    }
    kept.reset();
  }
  CrlValidators validators;
  if (kept) validators = {kept->etag, kept->last_modified};
  CrlFetch fetched = dpgcert::fetch_crl(url, subject, issuer, at, options, validators, ctx);
  if (!fetched.ok()) return fetched;
  store::CachedCrlRow row;
  if (fetched.not_modified) {
    std::optional<Crl> crl = kept ? stored_crl() : std::nullopt;
    if (!crl) {
      fetched.error = RevocationError{RevocationFailure::malformed, "the server answered 304, and no CRL is kept", url};
      return fetched;
    }
    if (crl->next_update() && *crl->next_update() + options.clock_skew < at) {
      fetched.error = RevocationError{RevocationFailure::stale,
                                      "the server has no newer CRL than the kept one, whose nextUpdate " +
                                          format_rfc3339(*crl->next_update()) + " has passed",
                                      url};
      return fetched;
    }
    row = *kept;
    fetched.crl = std::move(crl);
    fetched.from_store = true;
  } else {
    row.url = url;
    row.issuer_fingerprint = issuer_fp;
    const auto der = fetched.crl->der();
    row.der.assign(der.begin(), der.end());
    row.this_update = fetched.crl->this_update();
    row.next_update = fetched.crl->next_update().value_or(Time{});
    row.fetched_at = at;
  }
  if (!fetched.validators.etag.empty()) row.etag = fetched.validators.etag;
  if (!fetched.validators.last_modified.empty()) row.last_modified = fetched.validators.last_modified;
  row.checked_at = at;
  {
    std::lock_guard lock(s.mu);
    s.transact(true, [&](store::Transaction& tx) { tx.put_crl(row); });
  }
  return fetched;
}

}  // namespace dpgcert
