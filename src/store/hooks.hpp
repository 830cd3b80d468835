// Hooks of the layers above the store into its own write transactions: the lifecycle layer keeps
// its rows in step with imports and status changes without the store knowing what they mean.
// Private to the store layer and the layers above it.
#pragma once

#include "store/backend.hpp"

#include <dpgcert/store.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace dpgcert::store {

/// A certificate just inserted by an import, inside the import's write transaction.
struct ImportedCertificate {
  std::int64_t id = 0;
  const Certificate& leaf;
  const std::vector<Certificate>& bundle_chain;  ///< The chain the PKCS#12 file carried.
  const std::vector<Certificate>& report_chain;  ///< The path the validation built.
  CertificateStatus status = CertificateStatus::active;
  bool forced = false;  ///< Imported past a failing validation report.
  Time at{};
};

/// Called by the store inside its write transactions; a hook that throws rolls the change back.
class StoreHooks {
 public:
  virtual ~StoreHooks() = default;
  /// After a certificate row is inserted (before the certificates it supersedes change status).
  virtual void on_import(Transaction& tx, const ImportedCertificate& certificate) = 0;
  /// After a certificate's status changed (superseded by an import, or set_status).
  virtual void on_status_change(Transaction& tx, std::int64_t certificate_id, CertificateStatus status, Time at) = 0;
  /// Adds the hook owner's problems to Store::check_integrity() (inside its read transaction).
  virtual void check(Transaction& tx, std::vector<std::string>& problems) = 0;
};

/// Adds hooks for every store of this process. `hooks` must live as long as the process (a static
/// object of the registering layer); registering the same object twice has no effect.
void register_hooks(StoreHooks& hooks);

/// The registered hooks, in registration order.
[[nodiscard]] const std::vector<StoreHooks*>& registered_hooks() noexcept;

}  // namespace dpgcert::store
