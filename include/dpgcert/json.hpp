// JSON renderings of dpgcert's values (the schema the CLI and bindings print; docs/cli-json.md).
// Every to_json() of dpgcert returns strings that are well-formed UTF-8, so dump() never throws on
// them: a byte of a certificate field, a file name or a message that is not part of a well-formed
// UTF-8 sequence is written as the four characters \xHH (docs/output.md).
#pragma once

#include <dpgcert/export.hpp>

#include <nlohmann/json_fwd.hpp>

namespace dpgcert {

class Certificate;
class Error;
struct Pkcs12Profile;

/// A certificate as JSON: subject, issuer, serial (hex), not_before/not_after (RFC 3339 UTC),
/// fingerprint_sha256, key {algorithm, bits[, curve]}, signature_algorithm, key_usage,
/// extended_key_usage, subject_alt_names, policies, authority_info_access,
/// crl_distribution_points, basic_constraints. Never contains secrets.
[[nodiscard]] DPGCERT_API nlohmann::json to_json(const Certificate& cert);

/// A PKCS#12 profile as JSON: legacy, legacy_reasons, mac {digest, iterations, salt_length} or
/// null, iterations (the largest), bags [{type, encryption, kdf, iterations, salt_length,
/// friendly_name, local_key_id}].
[[nodiscard]] DPGCERT_API nlohmann::json to_json(const Pkcs12Profile& profile);

/// An error as JSON: {"code": "bad_password", "message": "..."}.
[[nodiscard]] DPGCERT_API nlohmann::json to_json(const Error& error);

}  // namespace dpgcert
