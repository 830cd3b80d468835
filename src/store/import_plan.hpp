// Backend-neutral parts of an import: validating, and turning a bundle and its report into the
// fields a backend stores. Private to the store layer.
#pragma once

#include <dpgcert/store.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <optional>
#include <string>
#include <vector>

namespace dpgcert::store_detail {

/// The columns of a certificate record, computed before any transaction.
struct PreparedCertificate {
  std::string fingerprint;
  std::string generation;   ///< oces::to_string()
  std::string type;
  std::string environment;
  std::optional<std::string> cvr;
  std::optional<std::string> oces_id_kind;  ///< "uid", "fid", "rid", "pid", "uuid"
  std::optional<std::string> oces_id;
  std::optional<std::string> common_name;
  std::optional<std::string> organisation_name;
  std::optional<std::string> email;
  std::string subject;
  std::string issuer;
  std::string serial;
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
  std::string key_algorithm;
  int key_bits = 0;
  std::vector<std::byte> der;
  std::string pkcs12_profile_json;
  bool pkcs12_legacy = false;
  CheckStatus verdict = CheckStatus::fail;
  bool forced = false;
  std::string report_json;
  CertificateStatus initial_status = CertificateStatus::active;  ///< revoked when revocation failed
  std::string source;
  /// The name to give an organisation created for this certificate.
  std::string organisation_display_name;
};

/// Runs validation as ImportOptions describes (time defaults to `now`; an organisation CVR becomes
/// the expected CVR when the policy has none). With online revocation and no CRL source of the
/// caller's, CRLs come through `store`'s fetch_crl() (kept between runs) when a store is given.
[[nodiscard]] ValidationReport validate_for_import(const Pkcs12Bundle& bundle, const ImportOptions& options,
                                                   Time now, const Context& ctx, Store* store = nullptr);

/// Computes the stored fields. The bundle must have a leaf.
[[nodiscard]] PreparedCertificate prepare_certificate(const Pkcs12Bundle& bundle, const ValidationReport& report,
                                                      const ImportOptions& options);

/// Whether a certificate valid [nb1, na1] is newer than one valid [nb2, na2]: later notBefore,
/// then later notAfter.
[[nodiscard]] inline bool newer(std::int64_t nb1, std::int64_t na1, std::int64_t nb2, std::int64_t na2) noexcept {
  return nb1 != nb2 ? nb1 > nb2 : na1 > na2;
}

/// Whether `cvr` is 8 ASCII digits.
[[nodiscard]] bool is_cvr(std::string_view cvr) noexcept;

/// Lowercase ASCII copy (mailbox addresses).
[[nodiscard]] std::string lowercase(std::string_view text);

/// Store::import_many() in two halves: staging (the checks, one read transaction for the
/// idempotency checks, validation; no lock held while validating) and the write (one transaction,
/// a savepoint per request). Bulk import stages its batches on its workers and writes them in
/// input order.
struct StagedImports;
struct StagedImportsDeleter {
  void operator()(StagedImports* p) const noexcept;
};
using StagedImportsPtr = std::unique_ptr<StagedImports, StagedImportsDeleter>;
/// The requests (and what they borrow) must outlive the write.
[[nodiscard]] StagedImportsPtr stage_imports(Store& store, std::span<const ImportRequest> requests);
/// Once per StagedImports. Throws what the transaction throws (then nothing of it is stored).
[[nodiscard]] std::vector<ImportAttempt> write_imports(Store& store, StagedImports& staged);

/// The context string bound into a sealed field of certificate `id` with `fingerprint`.
[[nodiscard]] std::string seal_context(std::int64_t id, std::string_view fingerprint, std::string_view field);

}  // namespace dpgcert::store_detail
