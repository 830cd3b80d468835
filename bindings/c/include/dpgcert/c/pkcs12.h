/* dpgcert C API: opened PKCS#12 bundles (leaf, chain, private key, protection profile).
 * Part of <dpgcert/dpgcert.h>; include that header (its comment has the conventions). */
#ifndef DPGCERT_C_PKCS12_H
#define DPGCERT_C_PKCS12_H

#include <dpgcert/c/certificate.h>
#include <dpgcert/c/export.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- PKCS#12 ----------------------------------------------------------------------------- */

typedef struct dpgcert_pkcs12 dpgcert_pkcs12;                     /**< An opened PKCS#12 bundle (holds a private key). */

/** Opens a PKCS#12 file (legacy RC2/3DES or modern AES/PBKDF2) with its password; password NULL
 *  with password_len 0 is the empty password. The key derivation runs here, so this is the
 *  expensive call (milliseconds).
 *  Errors: DPGCERT_E_BAD_PASSWORD (wrong password), DPGCERT_E_MALFORMED (not PKCS#12, truncated,
 *  trailing bytes), DPGCERT_E_UNSUPPORTED (an algorithm that is not available),
 *  DPGCERT_E_LIMIT_EXCEEDED (size, iteration count, bags: refused before any key derivation),
 *  DPGCERT_E_INVALID_ARGUMENT (a NUL byte in the password), DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_pkcs12_load(dpgcert_pkcs12 **out, const uint8_t *data, size_t len, const uint8_t *password,
                                      size_t password_len);
/** Frees the bundle and wipes its private key. */
DPGCERT_C_API void dpgcert_pkcs12_free(dpgcert_pkcs12 *bundle);
/** The end-entity certificate. DPGCERT_E_NOT_FOUND when the file has none (e.g. only CA certificates). */
DPGCERT_C_API int dpgcert_pkcs12_leaf(dpgcert_certificate **out, const dpgcert_pkcs12 *bundle);
/** The number of other certificates (the chain, from the leaf's issuer towards the root). */
DPGCERT_C_API int dpgcert_pkcs12_chain_count(const dpgcert_pkcs12 *bundle, size_t *count);
/** A new handle to the chain certificate at `index`. DPGCERT_E_OUT_OF_RANGE past the end. */
DPGCERT_C_API int dpgcert_pkcs12_chain_get(dpgcert_certificate **out, const dpgcert_pkcs12 *bundle, size_t index);
/** 1 when the private key matches the leaf, else 0 (also when either is absent). */
DPGCERT_C_API int dpgcert_pkcs12_key_matches(const dpgcert_pkcs12 *bundle, int *out);
/** The private key as PKCS#8 DER (a secret: wipe the buffer after use). DPGCERT_E_NOT_FOUND
 *  when the file has no key. */
DPGCERT_C_API int dpgcert_pkcs12_private_key(const dpgcert_pkcs12 *bundle, uint8_t *buf, size_t *len);
/** The friendly name of the key (or else the leaf). DPGCERT_E_NOT_FOUND when there is none. */
DPGCERT_C_API int dpgcert_pkcs12_friendly_name(const dpgcert_pkcs12 *bundle, char *buf, size_t *len);
/** 1 when the file used legacy protection (RC2, 3DES, SHA-1 MAC, few iterations), else 0. */
DPGCERT_C_API int dpgcert_pkcs12_legacy(const dpgcert_pkcs12 *bundle, int *out);
/** How the file was protected, as JSON: legacy, legacy_reasons, mac, iterations, bags. */
DPGCERT_C_API int dpgcert_pkcs12_profile_json(const dpgcert_pkcs12 *bundle, char *buf, size_t *len);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DPGCERT_C_PKCS12_H */
