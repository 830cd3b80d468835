/* dpgcert C API: validation of certificates, PKCS#12 bundles and files, and the reports.
 * Part of <dpgcert/dpgcert.h>; include that header (its comment has the conventions). */
#ifndef DPGCERT_C_VALIDATION_H
#define DPGCERT_C_VALIDATION_H

#include <dpgcert/c/certificate.h>
#include <dpgcert/c/export.h>
#include <dpgcert/c/identity.h>
#include <dpgcert/c/pkcs12.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- validation -------------------------------------------------------------------------- */

/** The verdict of one validation check. */
typedef enum dpgcert_check_status {
  DPGCERT_CHECK_PASS = 0,
  DPGCERT_CHECK_WARN = 1,
  DPGCERT_CHECK_FAIL = 2,
  DPGCERT_CHECK_SKIP = 3
} dpgcert_check_status;

typedef struct dpgcert_report dpgcert_report;                     /**< A validation report. */

/** Which policy a validation starts from. */
typedef enum dpgcert_policy {
  DPGCERT_POLICY_OCES_GATEWAY = 0, /**< An organisation/function certificate for a secure-mail gateway. */
  DPGCERT_POLICY_GENERIC = 1       /**< Any PKI: no OCES profile, RFC 5280 policy processing. */
} dpgcert_policy;

/** Which certificates' revocation is checked against the CRLs given. */
typedef enum dpgcert_revocation {
  DPGCERT_REVOCATION_DEFAULT = -1, /**< The policy's: chain for the OCES gateway, leaf for generic. */
  DPGCERT_REVOCATION_OFF = 0,
  DPGCERT_REVOCATION_LEAF = 1,
  DPGCERT_REVOCATION_CHAIN = 2     /**< Every certificate of the path. */
} dpgcert_revocation;

/** Where revocation data comes from (ValidationInput::revocation_mode). */
typedef enum dpgcert_revocation_mode {
  DPGCERT_REVOCATION_OFFLINE = 0, /**< Only the CRLs given (the default). */
  DPGCERT_REVOCATION_ONLINE = 1   /**< OCSP (AIA) first, CRLs (CDP) as fallback, for each certificate in scope. */
} dpgcert_revocation_mode;

#define DPGCERT_VALIDATE_OPTIONS_VERSION 3

/** What to validate against. */
typedef struct dpgcert_validate_options {
  unsigned int version; /**< DPGCERT_VALIDATE_OPTIONS_VERSION */
  /** The validation time; required by the validate functions (0 is refused with
   *  DPGCERT_E_INVALID_ARGUMENT). In an import, 0 means the store clock's now. */
  int64_t at;
  int policy;              /**< dpgcert_policy */
  int environment;         /**< Required environment; DPGCERT_ENVIRONMENT_UNKNOWN: not checked. */
  const char *expected_cvr; /**< The CVR the certificate must carry; NULL: not checked. */
  int min_days;            /**< Fewer days left than this warns; negative: the policy's default (30). */
  /** Trust anchors: DER or PEM certificates (several PEM blocks allowed); NULL: the built-in OCES
   *  roots. */
  const uint8_t *trust;
  size_t trust_len;
  /** Untrusted intermediate CA certificates offered for path building (DER or PEM); NULL: none. */
  const uint8_t *intermediates;
  size_t intermediates_len;
  /** CRLs (DER, or several PEM blocks); NULL: revocation is not checked. */
  const uint8_t *crls;
  size_t crls_len;
  /* ---- version 2: path validation (docs/validation.md; `dpgcert verify` has the same options) ---- */
  /** The initial policy set: dotted OIDs; NULL or 0 entries: anyPolicy. */
  const char *const *policies;
  size_t policy_count;
  int explicit_policy;        /**< Non-zero: initial-explicit-policy. */
  int inhibit_policy_mapping; /**< Non-zero: initial-policy-mapping-inhibit. */
  int inhibit_any_policy;     /**< Non-zero: initial-any-policy-inhibit. */
  /** Extended key usages the leaf must allow: dotted OIDs or names ("serverAuth"); NULL: the policy's. */
  const char *const *ekus;
  size_t eku_count;
  int max_depth;          /**< At most this many intermediate CAs; negative: OpenSSL's default. */
  int min_key_bits;       /**< RSA/DSA bits (EC by strength) for every certificate; negative: the policy's (2048). */
  int revocation;         /**< dpgcert_revocation */
  int require_revocation; /**< Non-zero: a certificate in scope without a usable CRL fails. */
  int stale_crl_fails;    /**< Non-zero: a CRL past its nextUpdate fails instead of warning. */
  /* ---- version 3: online revocation (docs/validation.md, "Online revocation") ---- */
  /** dpgcert_revocation_mode. Online: an answer that cannot be had warns with the reason, or fails
   *  with require_revocation. In an import, CRLs are kept in the store. */
  int revocation_mode;
  /** Online: milliseconds per OCSP or CRL request, redirects included; 0: 15000. */
  int64_t revocation_timeout_ms;
} dpgcert_validate_options;

#define DPGCERT_VALIDATE_OPTIONS_INIT                                                                     \
  { DPGCERT_VALIDATE_OPTIONS_VERSION, 0, DPGCERT_POLICY_OCES_GATEWAY, DPGCERT_ENVIRONMENT_UNKNOWN, NULL, -1, \
    NULL, 0, NULL, 0, NULL, 0, NULL, 0, 0, 0, 0, NULL, 0, -1, -1, DPGCERT_REVOCATION_DEFAULT, 0, 0,   \
    DPGCERT_REVOCATION_OFFLINE, 0 }

/** Validates a certificate (the PKCS#12 checks are skipped). A failed validation is a report with
 *  verdict DPGCERT_CHECK_FAIL, not an error. Errors: DPGCERT_E_INVALID_ARGUMENT (no time, an
 *  unknown policy or environment), DPGCERT_E_MALFORMED / DPGCERT_E_LIMIT_EXCEEDED (trust,
 *  intermediates or CRL input), DPGCERT_E_VERSION, DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_validate_certificate(dpgcert_report **out, const dpgcert_certificate *cert,
                                               const dpgcert_validate_options *options);
/** Validates an opened bundle: its leaf, its key and its protection; its chain joins the
 *  intermediates. Errors as dpgcert_validate_certificate(). */
DPGCERT_C_API int dpgcert_validate_pkcs12(dpgcert_report **out, const dpgcert_pkcs12 *bundle,
                                          const dpgcert_validate_options *options);
/** Validates a file's bytes as an onboarding check: a PKCS#12 file (a wrong password is a report
 *  whose "pkcs12_opened" check fails) or a DER/PEM certificate. password NULL with password_len 0:
 *  the empty and the absent password are tried. Errors as dpgcert_validate_certificate(), plus
 *  DPGCERT_E_MALFORMED / DPGCERT_E_LIMIT_EXCEEDED for input that is neither. */
DPGCERT_C_API int dpgcert_validate_bytes(dpgcert_report **out, const uint8_t *data, size_t len,
                                         const uint8_t *password, size_t password_len,
                                         const dpgcert_validate_options *options);

DPGCERT_C_API void dpgcert_report_free(dpgcert_report *report);
/** The worst status of the checks: DPGCERT_CHECK_FAIL, _WARN or _PASS. Pass and warn mean usable. */
DPGCERT_C_API int dpgcert_report_verdict(const dpgcert_report *report, int *out);
/** The number of checks; every report lists every check, in a fixed order. */
DPGCERT_C_API int dpgcert_report_check_count(const dpgcert_report *report, size_t *count);
/** The id of the check at `index` ("pkcs12_opened", "chain", "validity", ...). */
DPGCERT_C_API int dpgcert_report_check_id(const dpgcert_report *report, size_t index, char *buf, size_t *len);
/** The status (dpgcert_check_status) of the check at `index`. */
DPGCERT_C_API int dpgcert_report_check_status(const dpgcert_report *report, size_t index, int *out);
/** The message (a plain sentence saying why) of the check at `index`. */
DPGCERT_C_API int dpgcert_report_check_message(const dpgcert_report *report, size_t index, char *buf, size_t *len);
/** The index of the check with this id. DPGCERT_E_NOT_FOUND for an unknown id. */
DPGCERT_C_API int dpgcert_report_find(const dpgcert_report *report, const char *id, size_t *index);
/** The certificate validated. DPGCERT_E_NOT_FOUND when there was none (e.g. a wrong password). */
DPGCERT_C_API int dpgcert_report_certificate(dpgcert_certificate **out, const dpgcert_report *report);
/** The report as JSON (docs/validation.md). */
DPGCERT_C_API int dpgcert_report_json(const dpgcert_report *report, char *buf, size_t *len);
/** The report as a checklist for people (lines of at most 80 columns). */
DPGCERT_C_API int dpgcert_report_text(const dpgcert_report *report, char *buf, size_t *len);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DPGCERT_C_VALIDATION_H */
