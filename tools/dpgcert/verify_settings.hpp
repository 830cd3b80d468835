// The path-validation settings of `dpgcert verify`: profile, certificate policies, extended key
// usage, depth, key strength and revocation, from the command line and the configuration file.
#pragma once

#include <dpgcert/validation.hpp>

#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dpgcert::cli {

/// Revocation scope and strictness, kept together: the sources of revocation data (CRL files
/// today) plug in beside them.
struct RevocationSettings {
  std::optional<std::string> scope;    ///< --revocation off|leaf|chain
  std::optional<bool> require;         ///< --require-revocation: no usable CRL fails
  std::optional<std::string> stale;    ///< --stale-crl warn|fail
  std::optional<std::string> mode;     ///< --online: "online"; configuration "revocation_mode": offline|online
  std::optional<int> timeout_seconds;  ///< --revocation-timeout N: per OCSP/CRL request (online)
};

/// Everything `verify` takes beyond files and the OCES expectations. Absent fields keep the
/// profile's value. A value; the command line's settings are laid over the configuration's.
struct VerifySettings {
  std::optional<std::string> profile;              ///< --profile oces-gateway|generic
  std::vector<std::string> policies;               ///< --policy OID (repeatable): the initial policy set
  std::optional<bool> explicit_policy;             ///< --explicit-policy
  std::optional<bool> inhibit_policy_mapping;      ///< --inhibit-policy-mapping
  std::optional<bool> inhibit_any_policy;          ///< --inhibit-any-policy
  std::vector<std::string> ekus;                   ///< --eku OID|name (repeatable)
  std::optional<int> max_depth;                    ///< --max-depth N
  std::optional<int> min_key_bits;                 ///< --min-key-bits N
  std::vector<std::string> accept_digests;         ///< --accept-digest NAME (repeatable): not weak here
  RevocationSettings revocation;

  /// These settings with every field that `over` sets taken from `over`.
  [[nodiscard]] VerifySettings overlaid_by(const VerifySettings& over) const;
  /// The policy they describe: the profile's starting point with the fields set here changed.
  /// Throws Error(invalid_argument) for an unknown profile, scope or stale-CRL mode.
  [[nodiscard]] ValidationPolicy policy() const;
  /// Sets the input's revocation mode and online fetch options (offline when nothing says online).
  /// Throws Error(invalid_argument) for an unknown mode or a timeout below 1 s.
  void apply_revocation_mode(ValidationInput& input) const;
};

/// Reads the settings from the configuration file's "validation" object (the keys other than
/// "trust", "untrusted" and "crls"). Throws Error(invalid_argument) naming `file` for an unknown key
/// or a value of the wrong type. Returns false when `key` is not one of them.
bool read_verify_setting(const std::string& key, const nlohmann::json& value, const std::filesystem::path& file,
                         VerifySettings& settings);

}  // namespace dpgcert::cli
