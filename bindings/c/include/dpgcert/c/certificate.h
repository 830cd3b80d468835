/* dpgcert C API: X.509 certificates (loading, getters, JSON).
 * Part of <dpgcert/dpgcert.h>; include that header (its comment has the conventions). */
#ifndef DPGCERT_C_CERTIFICATE_H
#define DPGCERT_C_CERTIFICATE_H

#include <dpgcert/c/export.h>
#include <dpgcert/c/identity.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- certificates ------------------------------------------------------------------------ */

typedef struct dpgcert_certificate dpgcert_certificate;           /**< An X.509 certificate. */
typedef struct dpgcert_certificate_list dpgcert_certificate_list; /**< Certificates from a file. */

/** Parses every certificate in DER, PEM (several blocks allowed) or bare base64 input.
 *  Errors: DPGCERT_E_MALFORMED (no certificate, or a broken one), DPGCERT_E_LIMIT_EXCEEDED
 *  (input over 1 MiB or more than 32 certificates), DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_certificates_load(dpgcert_certificate_list **out, const uint8_t *data, size_t len);
DPGCERT_C_API void dpgcert_certificate_list_free(dpgcert_certificate_list *list);
/** The number of certificates in the list. */
DPGCERT_C_API int dpgcert_certificate_list_count(const dpgcert_certificate_list *list, size_t *count);
/** A new handle to the certificate at `index` (file order); free it with dpgcert_certificate_free().
 *  DPGCERT_E_OUT_OF_RANGE past the end. */
DPGCERT_C_API int dpgcert_certificate_list_get(dpgcert_certificate **out, const dpgcert_certificate_list *list,
                                               size_t index);

DPGCERT_C_API void dpgcert_certificate_free(dpgcert_certificate *cert);
/** The DER encoding. */
DPGCERT_C_API int dpgcert_certificate_der(const dpgcert_certificate *cert, uint8_t *buf, size_t *len);
/** PEM text ("-----BEGIN CERTIFICATE-----", 64-column base64, trailing newline). */
DPGCERT_C_API int dpgcert_certificate_pem(const dpgcert_certificate *cert, char *buf, size_t *len);
/** The subject as RFC 4514 text. */
DPGCERT_C_API int dpgcert_certificate_subject(const dpgcert_certificate *cert, char *buf, size_t *len);
/** The issuer as RFC 4514 text. */
DPGCERT_C_API int dpgcert_certificate_issuer(const dpgcert_certificate *cert, char *buf, size_t *len);
/** The serial number as lowercase hex without separators. */
DPGCERT_C_API int dpgcert_certificate_serial(const dpgcert_certificate *cert, char *buf, size_t *len);
/** The SHA-256 fingerprint of the DER as 64 lowercase hex digits (the key a store uses). */
DPGCERT_C_API int dpgcert_certificate_fingerprint(const dpgcert_certificate *cert, char *buf, size_t *len);
/** Start of the validity period. */
DPGCERT_C_API int dpgcert_certificate_not_before(const dpgcert_certificate *cert, int64_t *out);
/** End of the validity period. */
DPGCERT_C_API int dpgcert_certificate_not_after(const dpgcert_certificate *cert, int64_t *out);
/** The certificate as a JSON object (docs/cli-json.md), with its OCES identity under "oces". */
DPGCERT_C_API int dpgcert_certificate_json(const dpgcert_certificate *cert, char *buf, size_t *len);
/** The OCES identity of the certificate, recognising CAs by the built-in OCES catalogue. */
DPGCERT_C_API int dpgcert_certificate_identity(dpgcert_identity **out, const dpgcert_certificate *cert);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DPGCERT_C_CERTIFICATE_H */
