// JSON form of a validation report, for the command-line tool and the bindings.
#pragma once

#include <dpgcert/export.hpp>

#include <nlohmann/json_fwd.hpp>

namespace dpgcert {

struct ValidationReport;
class Crl;

/// A report as JSON (schema: docs/validation.md and docs/cli-json.md): `ok` (bool), `verdict`
/// ("pass" | "warn" | "fail"), `validation_time` (RFC 3339), `checks` ([{id, status, message}] in
/// report order), `certificate` (to_json(Certificate) plus `oces`, the oces::to_json() identity;
/// null when there was no certificate), `chain` ([{subject, fingerprint_sha256, not_after}], leaf
/// first), `openssl` ({error, depth, reason} of the error that failed the chain, or null) and
/// `openssl_errors` (every error reported: [{code, depth, reason, subject}]).
[[nodiscard]] DPGCERT_API nlohmann::json to_json(const ValidationReport& report);

/// A CRL as JSON: issuer, this_update, next_update (or null), delta (bool), revoked
/// ([{serial, revocation_date, reason}], reason null when absent).
[[nodiscard]] DPGCERT_API nlohmann::json to_json(const Crl& crl);

}  // namespace dpgcert
