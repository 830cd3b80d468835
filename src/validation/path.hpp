// Private: path validation with OpenSSL (path.cpp), judged by the checks of validate() (validator.cpp).
#pragma once

#include <dpgcert/validation.hpp>

#include <string>
#include <vector>

namespace dpgcert::detail {

/// What X509_verify_cert found: every error it reported, the chain it built.
struct VerifyOutcome {
  std::vector<ChainError> errors;
  std::vector<Certificate> chain;
  bool ran = false;               ///< X509_verify_cert ran to a result.
  std::string internal_problem;   ///< Why it could not run, if it could not.
  bool crl_checked = false;       ///< CRL checking was on.
};

/// True for an X509_V_ERR_* code that belongs to the revocation check (CRL errors, a revoked certificate).
[[nodiscard]] bool is_revocation_error(int code);
/// True for an error that fails the chain: neither a revocation error nor the leaf's own validity period.
[[nodiscard]] bool is_chain_error(const ChainError& e);

/// Runs X509_verify_cert on `leaf` with `pool` as untrusted certificates, `anchors` as the trust store and
/// `crls` when the policy asks for revocation, at the time `at`. Throws Error(invalid_argument) for an
/// initial policy that is not a dotted OID, Error(internal) when OpenSSL cannot set up the verification.
[[nodiscard]] VerifyOutcome run_openssl(const Certificate& leaf, const std::vector<const Certificate*>& pool,
                                        const TrustAnchors& anchors, const std::vector<Crl>& crls, const ValidationPolicy& policy,
                                        Time at, const Context& ctx);

}  // namespace dpgcert::detail
