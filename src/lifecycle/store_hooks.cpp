// The lifecycle's hooks into the store's write transactions: a tracking row for every imported
// certificate (its effective expiry computed here, not by the store), status changes queued to be
// announced, and the lifecycle's part of the store's integrity check. Registered for every store
// of the process when the library is loaded.
#include "lifecycle/bookkeeping.hpp"

#include "store/hooks.hpp"

#include <algorithm>

namespace dpgcert::lifecycle_detail {
namespace {

class LifecycleHooks final : public store::StoreHooks {
 public:
  void on_import(store::Transaction& tx, const store::ImportedCertificate& c) override {
    const Time effective = effective_not_after(c.leaf, c.bundle_chain, c.report_chain);
    // The epoch: evaluated at the next check, under whatever policy then applies to it.
    const bool active = c.status == CertificateStatus::active;
    tx.insert_tracking(c.id, effective, active ? std::optional<Time>(Time{}) : std::nullopt);
    if (active && c.forced) tx.add_pending(c.id, to_string(EventKind::validation_failed), c.at);
    if (c.status == CertificateStatus::revoked) tx.add_pending(c.id, to_string(EventKind::revoked), c.at);
  }

  void on_status_change(store::Transaction& tx, std::int64_t id, CertificateStatus status, Time at) override {
    if (status == CertificateStatus::active) return;
    tx.stop_tracking(id);
    // A failing validation of a certificate no longer in use is no longer news.
    (void)tx.drop_pending(id, to_string(EventKind::validation_failed));
    if (status == CertificateStatus::superseded) tx.add_pending(id, to_string(EventKind::renewed), at);
    if (status == CertificateStatus::revoked) tx.add_pending(id, to_string(EventKind::revoked), at);
  }

  void check(store::Transaction& tx, std::vector<std::string>& problems) override { tx.tracking_problems(problems); }
};

LifecycleHooks hooks;

// Runs when the library is loaded: every object file of the library is linked into it.
const bool registered = (store::register_hooks(hooks), true);

}  // namespace

Time effective_not_after(const Certificate& leaf, const std::vector<Certificate>& bundle_chain,
                         const std::vector<Certificate>& report_chain) {
  // Longer than any real path; a loop of certificates naming each other ends here too.
  constexpr int kMaxDepth = 16;
  Time earliest = leaf.not_after();
  const Certificate* current = &leaf;
  for (int depth = 0; depth < kMaxDepth && !current->is_self_issued(); ++depth) {
    const Certificate* issuer = nullptr;
    for (const auto* pool : {&bundle_chain, &report_chain}) {
      for (const Certificate& c : *pool) {
        if (!(c == *current) && c.subject() == current->issuer()) {
          issuer = &c;
          break;
        }
      }
      if (issuer != nullptr) break;
    }
    if (issuer == nullptr) break;
    earliest = std::min(earliest, issuer->not_after());
    current = issuer;
  }
  return earliest;
}

}  // namespace dpgcert::lifecycle_detail
