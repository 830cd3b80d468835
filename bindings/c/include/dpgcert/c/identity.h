/* dpgcert C API: the OCES identity of a certificate (generation, type, environment, CVR and ids).
 * Part of <dpgcert/dpgcert.h>; include that header (its comment has the conventions). */
#ifndef DPGCERT_C_IDENTITY_H
#define DPGCERT_C_IDENTITY_H

#include <dpgcert/c/export.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- OCES identity ----------------------------------------------------------------------- */

/** OCES generation. */
typedef enum dpgcert_generation {
  DPGCERT_GENERATION_NONE = 0,
  DPGCERT_GENERATION_OCES2 = 1,
  DPGCERT_GENERATION_OCES3 = 2,
  DPGCERT_GENERATION_OCES1 = 3 /**< The retired first generation (TDC): recognised, never accepted. */
} dpgcert_generation;

/** OCES certificate type. */
typedef enum dpgcert_certificate_type {
  DPGCERT_TYPE_NONE = 0,
  DPGCERT_TYPE_VOCES = 1,
  DPGCERT_TYPE_FOCES = 2,
  DPGCERT_TYPE_MOCES = 3,
  DPGCERT_TYPE_POCES = 4,
  DPGCERT_TYPE_ORGANISATION = 5,
  DPGCERT_TYPE_EMPLOYEE = 6,
  DPGCERT_TYPE_ROOT_CA = 7,
  DPGCERT_TYPE_ISSUING_CA = 8
} dpgcert_certificate_type;

/** Production or test. */
typedef enum dpgcert_environment {
  DPGCERT_ENVIRONMENT_UNKNOWN = 0,
  DPGCERT_ENVIRONMENT_PRODUCTION = 1,
  DPGCERT_ENVIRONMENT_TEST = 2
} dpgcert_environment;

typedef struct dpgcert_identity dpgcert_identity;                 /**< The OCES identity of a certificate. */

/** The fields of an identity. The integer ones are read with dpgcert_identity_int(), the text
 *  ones with dpgcert_identity_text(); the other function gives DPGCERT_E_INVALID_ARGUMENT. */
typedef enum dpgcert_identity_field {
  /* integers */
  DPGCERT_IDENTITY_GENERATION = 1,  /**< dpgcert_generation */
  DPGCERT_IDENTITY_TYPE = 2,        /**< dpgcert_certificate_type */
  DPGCERT_IDENTITY_ENVIRONMENT = 3, /**< dpgcert_environment */
  DPGCERT_IDENTITY_CVR_VALID = 4,   /**< 1 when the CVR's check digit is right, else 0; absent without a CVR */
  /* text; absent (DPGCERT_E_NOT_FOUND) where it does not apply */
  DPGCERT_IDENTITY_CVR = 20,
  DPGCERT_IDENTITY_ID = 21,             /**< the id that goes with the type: UID, FID, RID, PID or UUID */
  DPGCERT_IDENTITY_UID = 22,
  DPGCERT_IDENTITY_FID = 23,
  DPGCERT_IDENTITY_RID = 24,
  DPGCERT_IDENTITY_PID = 25,
  DPGCERT_IDENTITY_UUID = 26,
  DPGCERT_IDENTITY_SUBJECT_SERIAL = 27, /**< the subject's serialNumber in full */
  DPGCERT_IDENTITY_ORGANISATION = 28,
  DPGCERT_IDENTITY_COMMON_NAME = 29,
  DPGCERT_IDENTITY_EMAIL = 30,
  DPGCERT_IDENTITY_ISSUING_CA = 31,     /**< the catalogue name of the issuing CA */
  /* text, always present */
  DPGCERT_IDENTITY_SUMMARY = 40, /**< one line for people, e.g. "OCES2 FOCES (function), test, CVR ..." */
  DPGCERT_IDENTITY_JSON = 41     /**< the identity as JSON, warnings included */
} dpgcert_identity_field;

DPGCERT_C_API void dpgcert_identity_free(dpgcert_identity *identity);
/** An integer field. DPGCERT_E_NOT_FOUND when absent, DPGCERT_E_INVALID_ARGUMENT for a text field. */
DPGCERT_C_API int dpgcert_identity_int(const dpgcert_identity *identity, int field, int *out);
/** A text field. DPGCERT_E_NOT_FOUND when absent, DPGCERT_E_INVALID_ARGUMENT for an integer field. */
DPGCERT_C_API int dpgcert_identity_text(const dpgcert_identity *identity, int field, char *buf, size_t *len);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DPGCERT_C_IDENTITY_H */
