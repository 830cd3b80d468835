/* dpgcert's C API: a stable C ABI over the C++ library, for gateways written in C or in any
 * language with a C foreign-function interface.
 *
 * Conventions (libgit2 and Botan's FFI are the models; docs/c-api.md has examples):
 *
 * - Names are dpgcert_<noun>_<verb>. Objects are opaque handles; a function that makes one takes
 *   the `**out` pointer first, sets *out to NULL before doing anything else, and sets it to a new
 *   handle on success. Every handle is released with its _free() function; _free(NULL) does
 *   nothing.
 * - Functions return an int: DPGCERT_OK (0) on success, a negative dpgcert_status otherwise.
 *   Codes -1 to -9 are the kinds of dpgcert::ErrorCode (bad password, malformed, ...); codes from
 *   -100 on are the C layer's own (a NULL argument, a buffer too small, ...). A failed call leaves
 *   its output untouched except as documented, and sets a message for dpgcert_error_last().
 * - Bytes go in as (const uint8_t *data, size_t len). Bytes and text come out into the caller's
 *   buffer: `*len` holds the buffer's size on entry and, on return, the number of bytes written
 *   (text: including the terminating NUL) or, with DPGCERT_E_BUFFER_TOO_SMALL, the number needed.
 *   Calling with buf NULL and *len 0 asks for the size.
 * - Times are int64_t seconds since 1970-01-01T00:00:00Z (UTC).
 * - Option structs start with a `version` field; initialise them with their _INIT macro and then
 *   change fields. A NULL options pointer means the defaults.
 * - Passwords are UTF-8 without NUL bytes, given as (bytes, length). The library copies them into
 *   memory it wipes; the caller's copy is the caller's to wipe.
 * - Text returned is UTF-8. Text passed in is NUL-terminated UTF-8.
 *
 * Thread safety: every function may be called from any thread. Certificates, identities, reports,
 * lists and import results are read-only values and may be shared between threads. A store handle
 * may be used by several threads at once. A PKCS#12 handle (it holds a private key) is to be used
 * by one thread at a time. dpgcert_error_last() is per thread.
 *
 * Secrets (passwords, keys) never appear in an error message, a JSON document or a report.
 */
#ifndef DPGCERT_DPGCERT_H
#define DPGCERT_DPGCERT_H

#include <stddef.h>
#include <stdint.h>

#include <dpgcert/c/export.h>

/* The sections on certificates, change notifications, OCES identities, the inventory, PKCS#12 and
 * validation, each in its own header. */
#include <dpgcert/c/certificate.h>
#include <dpgcert/c/changes.h>
#include <dpgcert/c/identity.h>
#include <dpgcert/c/inventory.h>
#include <dpgcert/c/pkcs12.h>
#include <dpgcert/c/validation.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- versions ----------------------------------------------------------------------------- */

/** The version of the C ABI this header describes. It grows by one whenever a function, a struct
 *  layout or a constant's meaning changes incompatibly; adding functions or constants, or fields at
 *  the end of a versioned option struct, does not change it. The shared library's SONAME carries
 *  it (libdpgcert-c.so.1). */
#define DPGCERT_C_ABI_VERSION 1

/** The dpgcert library version, "MAJOR.MINOR.PATCH" (semantic versioning). */
DPGCERT_C_API const char *dpgcert_version(void);

/** The C ABI version of the library loaded at run time; compare with DPGCERT_C_ABI_VERSION. */
DPGCERT_C_API int dpgcert_abi_version(void);

/* ---- status codes and errors ------------------------------------------------------------- */

/** Return codes. 0 is success; the values are part of the ABI and never change. */
typedef enum dpgcert_status {
  DPGCERT_OK = 0,
  /* -1 to -9: what went wrong in the library (dpgcert::ErrorCode, negated). */
  DPGCERT_E_BAD_PASSWORD = -1,     /**< A password did not open the file, or the store's key is wrong. */
  DPGCERT_E_MALFORMED = -2,        /**< Not the expected format, truncated, damaged. */
  DPGCERT_E_UNSUPPORTED = -3,      /**< Well-formed, but uses something that is not available. */
  DPGCERT_E_LIMIT_EXCEEDED = -4,   /**< Larger or costlier than the configured limits allow. */
  DPGCERT_E_NOT_FOUND = -5,        /**< A named object does not exist, or an optional value is absent. */
  DPGCERT_E_CONFLICT = -6,         /**< The change conflicts with what is stored. */
  DPGCERT_E_IO = -7,               /**< A file or the operating system failed. */
  DPGCERT_E_INVALID_ARGUMENT = -8, /**< An argument that cannot be right (a bad field id, a NUL in a password, ...). */
  DPGCERT_E_INTERNAL = -9,         /**< A bug or an unexpected failure (including running out of memory). */
  DPGCERT_E_LOCKED = -10,          /**< A token's PIN is locked after too many wrong tries. */
  /* -100 and below: how the C API was called. */
  DPGCERT_E_NULL_ARGUMENT = -100,    /**< A required pointer argument was NULL. */
  DPGCERT_E_BUFFER_TOO_SMALL = -101, /**< The output buffer is too small; *len holds the size needed. */
  DPGCERT_E_OUT_OF_RANGE = -102,     /**< An index past the end of a list. */
  DPGCERT_E_VERSION = -103          /**< An option struct's version this library does not know. */
} dpgcert_status;

/** The message of the last call on this thread that failed, or "" when the last call succeeded.
 *  Never NULL. The text is valid until the next dpgcert call on the same thread. */
DPGCERT_C_API const char *dpgcert_error_last(void);

/** The fixed name of a status code: "ok", "bad_password", "malformed", ..., "null_argument",
 *  "buffer_too_small", "out_of_range", "version"; "unknown" for other values. */
DPGCERT_C_API const char *dpgcert_error_name(int code);

/* ---- enumerations ------------------------------------------------------------------------ */

/* dpgcert_generation, dpgcert_certificate_type and dpgcert_environment are in <dpgcert/c/identity.h>,
 * dpgcert_check_status is in <dpgcert/c/validation.h>. */

/** Where a certificate stands in a store. */
typedef enum dpgcert_certificate_status {
  DPGCERT_STATUS_ANY = -1, /**< In a query: any status. */
  DPGCERT_STATUS_ACTIVE = 0,
  DPGCERT_STATUS_SUPERSEDED = 1,
  DPGCERT_STATUS_REVOKED = 2,
  DPGCERT_STATUS_RETIRED = 3
} dpgcert_certificate_status;

/** What an import did. */
typedef enum dpgcert_import_outcome {
  DPGCERT_IMPORT_IMPORTED = 0,
  DPGCERT_IMPORT_ALREADY_PRESENT = 1,
  DPGCERT_IMPORT_REFUSED = 2
} dpgcert_import_outcome;

/** What a renewal event announces. */
typedef enum dpgcert_event_kind {
  DPGCERT_EVENT_KIND_EXPIRING = 0,         /**< A threshold before expiry was crossed. */
  DPGCERT_EVENT_KIND_EXPIRED = 1,          /**< The threshold 0 was crossed: it has expired. */
  DPGCERT_EVENT_KIND_RENEWED = 2,          /**< A newer certificate of its lineage superseded it. */
  DPGCERT_EVENT_KIND_REVOKED = 3,          /**< Its status became revoked. */
  DPGCERT_EVENT_KIND_VALIDATION_FAILED = 4 /**< It was forced in past a failing validation. */
} dpgcert_event_kind;

/** How urgent a certificate's renewal stage is (monitoring-plugin style). */
typedef enum dpgcert_severity {
  DPGCERT_SEVERITY_NONE = 0,
  DPGCERT_SEVERITY_WARNING = 1,
  DPGCERT_SEVERITY_CRITICAL = 2
} dpgcert_severity;

/** Which enumeration dpgcert_enum_name() names. */
typedef enum dpgcert_enum {
  DPGCERT_ENUM_GENERATION = 1,
  DPGCERT_ENUM_CERTIFICATE_TYPE = 2,
  DPGCERT_ENUM_ENVIRONMENT = 3,
  DPGCERT_ENUM_CHECK_STATUS = 4,
  DPGCERT_ENUM_CERTIFICATE_STATUS = 5,
  DPGCERT_ENUM_IMPORT_OUTCOME = 6,
  DPGCERT_ENUM_EVENT_KIND = 7,
  DPGCERT_ENUM_SEVERITY = 8
} dpgcert_enum;

/** The fixed lowercase name of a value, as the C++ API and the JSON spell it ("oces2", "foces",
 *  "production", "warn", "superseded", "already_present", ...); NULL for an unknown kind or value
 *  (DPGCERT_STATUS_ANY has no name). */
DPGCERT_C_API const char *dpgcert_enum_name(int kind, int value);

/** A time that is not given (in dpgcert_query). */
#define DPGCERT_NO_TIME INT64_MIN

/* ---- opaque handles ---------------------------------------------------------------------- */

/* dpgcert_certificate, dpgcert_certificate_list, dpgcert_identity, dpgcert_pkcs12 and dpgcert_report are
 * declared with their functions in <dpgcert/c/certificate.h>, identity.h, pkcs12.h and validation.h. */

typedef struct dpgcert_store dpgcert_store;                       /**< An inventory store. */
typedef struct dpgcert_import_result dpgcert_import_result;       /**< What an import did. */
typedef struct dpgcert_summary_list dpgcert_summary_list;         /**< Certificates a store query found. */
typedef struct dpgcert_check_result dpgcert_check_result;         /**< What a renewal check did. */
typedef struct dpgcert_event dpgcert_event;                       /**< A renewal event (borrowed, see below). */

/* ---- the store --------------------------------------------------------------------------- */

#define DPGCERT_STORE_OPTIONS_VERSION 1

/** How to open or create a store. */
typedef struct dpgcert_store_options {
  unsigned int version; /**< DPGCERT_STORE_OPTIONS_VERSION */
  /** Open: read this key file instead of the one the store remembers. Create: the key file of a
   *  new key-file store (made, mode 0600, when missing). NULL: as remembered / not a key file. */
  const char *key_file;
  /** The passphrase of a passphrase store (create: makes one); NULL: none. */
  const uint8_t *passphrase;
  size_t passphrase_len;
  /** Who makes changes, for the audit log; NULL: the OS user. */
  const char *actor;
  /** 0: the system clock. Otherwise the store's clock stands still at this time (what-if runs, tests). */
  int64_t now;
  /** Argon2id cost when creating a passphrase store; 0: the default (64 MiB, 3 passes, 1 lane). */
  uint32_t argon2_memory_kib;
  uint32_t argon2_iterations;
  uint32_t argon2_parallelism;
} dpgcert_store_options;

#define DPGCERT_STORE_OPTIONS_INIT { DPGCERT_STORE_OPTIONS_VERSION, NULL, NULL, 0, NULL, 0, 0, 0, 0 }

/** Creates a new SQLite store at `path` (its folder must exist), sealed under a master key from
 *  options->passphrase if given, else from options->key_file. Errors: DPGCERT_E_CONFLICT (a store
 *  exists there), DPGCERT_E_NOT_FOUND (the folder does not exist), DPGCERT_E_INVALID_ARGUMENT
 *  (neither a key file nor a passphrase), DPGCERT_E_IO, DPGCERT_E_NULL_ARGUMENT, DPGCERT_E_VERSION. */
DPGCERT_C_API int dpgcert_store_create(dpgcert_store **out, const char *path, const dpgcert_store_options *options);
/** Opens an existing store. Errors: DPGCERT_E_NOT_FOUND (no store there), DPGCERT_E_MALFORMED
 *  (not a dpgcert store), DPGCERT_E_UNSUPPORTED (a newer schema), DPGCERT_E_IO,
 *  DPGCERT_E_NULL_ARGUMENT, DPGCERT_E_VERSION. The master key is read only when first needed (a
 *  wrong or unreadable one then gives DPGCERT_E_BAD_PASSWORD or DPGCERT_E_IO). */
DPGCERT_C_API int dpgcert_store_open(dpgcert_store **out, const char *path, const dpgcert_store_options *options);
DPGCERT_C_API void dpgcert_store_free(dpgcert_store *store);
/** Copies everything the store holds to a new store at `location` (a path, "sqlite:PATH" or another
 *  backend's location), sealed secrets as they are: the copy opens with this store's master key.
 *  All or nothing; verified before and after its commit (docs/store.md). On success *certificates
 *  (if not NULL) is the number of certificates copied. Errors: DPGCERT_E_CONFLICT (a store exists
 *  there), DPGCERT_E_INVALID_ARGUMENT (the same store), DPGCERT_E_NOT_FOUND (the destination's
 *  folder does not exist), DPGCERT_E_UNSUPPORTED (a backend not built in), DPGCERT_E_IO,
 *  DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_store_copy(const dpgcert_store *store, const char *location, size_t *certificates);

#define DPGCERT_IMPORT_OPTIONS_VERSION 1

/** How to import a PKCS#12 file into a store. */
typedef struct dpgcert_import_options {
  unsigned int version;         /**< DPGCERT_IMPORT_OPTIONS_VERSION */
  const char *organisation_cvr; /**< Attach to this organisation (created when missing); NULL: the certificate's CVR. */
  const char *mailbox;          /**< Attach to this mailbox (created when missing); NULL: none. */
  int force;                    /**< Non-zero: import even when the validation fails. */
  const char *actor;            /**< Who imports; NULL: the store's actor. */
  const char *source;           /**< Where the file came from (kept with the record); NULL: "api". */
  /** What to validate against; NULL: the defaults at the store clock's now. */
  const dpgcert_validate_options *validation;
} dpgcert_import_options;

#define DPGCERT_IMPORT_OPTIONS_INIT { DPGCERT_IMPORT_OPTIONS_VERSION, NULL, NULL, 0, NULL, NULL, NULL }

/** Opens a PKCS#12 file with its password, validates it and stores it with the file and the
 *  password sealed. Idempotent by fingerprint (DPGCERT_IMPORT_ALREADY_PRESENT); a failing
 *  validation is DPGCERT_IMPORT_REFUSED unless forced (not an error). A newer certificate of the
 *  same lineage supersedes older ones. Errors: as dpgcert_pkcs12_load() for the file,
 *  DPGCERT_E_BAD_PASSWORD also for a wrong master key, DPGCERT_E_CONFLICT (the fingerprint is
 *  stored for another organisation or mailbox), DPGCERT_E_INVALID_ARGUMENT (a bundle without a
 *  key or leaf, a bad CVR or mailbox), DPGCERT_E_IO, DPGCERT_E_VERSION, DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_store_import(dpgcert_import_result **out, dpgcert_store *store, const uint8_t *pkcs12,
                                       size_t len, const uint8_t *password, size_t password_len,
                                       const dpgcert_import_options *options);

DPGCERT_C_API void dpgcert_import_result_free(dpgcert_import_result *result);
/** The outcome (dpgcert_import_outcome). */
DPGCERT_C_API int dpgcert_import_result_outcome(const dpgcert_import_result *result, int *out);
/** The certificate's fingerprint (64 lowercase hex digits). */
DPGCERT_C_API int dpgcert_import_result_fingerprint(const dpgcert_import_result *result, char *buf, size_t *len);
/** The validation report. DPGCERT_E_NOT_FOUND for an already present certificate (not validated again). */
DPGCERT_C_API int dpgcert_import_result_report(dpgcert_report **out, const dpgcert_import_result *result);
/** How many certificates this import superseded. */
DPGCERT_C_API int dpgcert_import_result_superseded_count(const dpgcert_import_result *result, size_t *count);
/** The fingerprint of the superseded certificate at `index`. */
DPGCERT_C_API int dpgcert_import_result_superseded(const dpgcert_import_result *result, size_t index, char *buf,
                                                   size_t *len);

/** One PKCS#12 file for dpgcert_store_import_files(). */
typedef struct dpgcert_bulk_item {
  const char *path;             /**< The file (read by a worker; bounded by the input limit). */
  const uint8_t *password;      /**< Its password, UTF-8 without NUL bytes; NULL with 0: the empty one. */
  size_t password_len;
  const char *organisation_cvr; /**< Where to attach it; NULL: the options' default. */
  const char *mailbox;          /**< NULL: the options' default. */
} dpgcert_bulk_item;

typedef struct dpgcert_bulk_result dpgcert_bulk_result; /**< What became of each file of a bulk import. */

/** Called after each file with the number done so far, the total and the file's index, from the
 *  worker threads, never two at once. The file's outcome is read from the result once the call
 *  has returned. */
typedef void (*dpgcert_bulk_progress)(size_t done, size_t total, size_t index, void *payload);

#define DPGCERT_BULK_OPTIONS_VERSION 1

/** How to run dpgcert_store_import_files(). */
typedef struct dpgcert_bulk_options {
  unsigned int version;                    /**< DPGCERT_BULK_OPTIONS_VERSION */
  unsigned int threads;                    /**< Worker threads; 0: one per core. */
  const dpgcert_import_options *defaults;  /**< For every file (its `source` is the file's path); NULL: the defaults. */
  dpgcert_bulk_progress progress;          /**< NULL: none. */
  void *payload;                           /**< Handed to `progress`. */
} dpgcert_bulk_options;

#define DPGCERT_BULK_OPTIONS_INIT { DPGCERT_BULK_OPTIONS_VERSION, 0, NULL, NULL, NULL }

/** Onboards `count` PKCS#12 files: each worker reads, opens and validates files, and the store
 *  writes them in batches, one transaction each (docs/store.md). One file's failure (a wrong
 *  password, an unreadable or malformed file, a conflict) never stops the others and leaves
 *  nothing of that file stored: it is reported in the result, in input order. Errors of the call
 *  itself: DPGCERT_E_VERSION, DPGCERT_E_NULL_ARGUMENT (also an item without a path, or with a NULL
 *  password of non-zero length), DPGCERT_E_INVALID_ARGUMENT (a password with a NUL byte). */
DPGCERT_C_API int dpgcert_store_import_files(dpgcert_bulk_result **out, dpgcert_store *store,
                                             const dpgcert_bulk_item *items, size_t count,
                                             const dpgcert_bulk_options *options);
DPGCERT_C_API void dpgcert_bulk_result_free(dpgcert_bulk_result *result);
/** How many files (the `count` given). */
DPGCERT_C_API int dpgcert_bulk_result_count(const dpgcert_bulk_result *result, size_t *count);
/** What became of file `index`: *error is DPGCERT_OK when it was offered to the store (its result:
 *  dpgcert_bulk_result_import()), else the file's error code (DPGCERT_E_BAD_PASSWORD,
 *  DPGCERT_E_IO, DPGCERT_E_MALFORMED, DPGCERT_E_CONFLICT, ...). Errors: DPGCERT_E_OUT_OF_RANGE,
 *  DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_bulk_result_error(const dpgcert_bulk_result *result, size_t index, int *error);
/** The message of file `index`'s error (never its password). DPGCERT_E_NOT_FOUND when the file
 *  has none. */
DPGCERT_C_API int dpgcert_bulk_result_message(const dpgcert_bulk_result *result, size_t index, char *buf,
                                              size_t *len);
/** File `index`'s import result, as a new handle (outcome, fingerprint, report, superseded).
 *  DPGCERT_E_NOT_FOUND when the file failed before reaching the store. */
DPGCERT_C_API int dpgcert_bulk_result_import(dpgcert_import_result **out, const dpgcert_bulk_result *result,
                                             size_t index);

#define DPGCERT_QUERY_VERSION 1

/** A filter over a store's certificates; every given field must match. Results are ordered by
 *  not_after, then fingerprint. */
typedef struct dpgcert_query {
  unsigned int version;         /**< DPGCERT_QUERY_VERSION */
  const char *organisation_cvr; /**< NULL: any. */
  const char *mailbox;          /**< NULL: any. */
  int status;                   /**< dpgcert_certificate_status; DPGCERT_STATUS_ANY: any. */
  int64_t not_after_before;     /**< not_after < this; DPGCERT_NO_TIME: no bound. */
  int64_t not_after_from;       /**< not_after >= this; DPGCERT_NO_TIME: no bound. */
  size_t limit;                 /**< 0: no limit. */
  size_t offset;
} dpgcert_query;

#define DPGCERT_QUERY_INIT \
  { DPGCERT_QUERY_VERSION, NULL, NULL, DPGCERT_STATUS_ANY, DPGCERT_NO_TIME, DPGCERT_NO_TIME, 0, 0 }

/** The renewal question as a query: active certificates whose validity ends before `t`, expired
 *  ones included (an index range, never a scan). Fill it in, then change other fields if needed. */
#define DPGCERT_QUERY_EXPIRING_BEFORE(t) \
  { DPGCERT_QUERY_VERSION, NULL, NULL, DPGCERT_STATUS_ACTIVE, (t), DPGCERT_NO_TIME, 0, 0 }

/** The certificates matching `query` (NULL: all). Errors: DPGCERT_E_INVALID_ARGUMENT (an unknown
 *  status), DPGCERT_E_IO, DPGCERT_E_VERSION, DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_store_query(dpgcert_summary_list **out, const dpgcert_store *store,
                                      const dpgcert_query *query);
/** How many certificates match `query` (NULL: all; limit and offset are ignored). */
DPGCERT_C_API int dpgcert_store_count(const dpgcert_store *store, const dpgcert_query *query, size_t *count);

/** The fields of a certificate summary. Integer ones are read with dpgcert_summary_list_int(),
 *  text ones with dpgcert_summary_list_text(). */
typedef enum dpgcert_summary_field {
  /* integers */
  DPGCERT_SUMMARY_ID = 1,          /**< the store's record id */
  DPGCERT_SUMMARY_STATUS = 2,      /**< dpgcert_certificate_status */
  DPGCERT_SUMMARY_NOT_BEFORE = 3,  /**< Unix seconds */
  DPGCERT_SUMMARY_NOT_AFTER = 4,   /**< Unix seconds */
  DPGCERT_SUMMARY_GENERATION = 5,  /**< dpgcert_generation */
  DPGCERT_SUMMARY_TYPE = 6,        /**< dpgcert_certificate_type */
  DPGCERT_SUMMARY_ENVIRONMENT = 7, /**< dpgcert_environment */
  /* text; absent (DPGCERT_E_NOT_FOUND) where it does not apply, except the fingerprint */
  DPGCERT_SUMMARY_FINGERPRINT = 20,
  DPGCERT_SUMMARY_ORGANISATION_CVR = 21, /**< the organisation it is attached to */
  DPGCERT_SUMMARY_MAILBOX = 22,
  DPGCERT_SUMMARY_CVR = 23,              /**< the CVR in the certificate */
  DPGCERT_SUMMARY_OCES_ID = 24,          /**< UID / FID / RID / PID / UUID */
  DPGCERT_SUMMARY_COMMON_NAME = 25
} dpgcert_summary_field;

DPGCERT_C_API void dpgcert_summary_list_free(dpgcert_summary_list *list);
DPGCERT_C_API int dpgcert_summary_list_count(const dpgcert_summary_list *list, size_t *count);
/** An integer field of the certificate at `index`. DPGCERT_E_INVALID_ARGUMENT for a text field. */
DPGCERT_C_API int dpgcert_summary_list_int(const dpgcert_summary_list *list, size_t index, int field, int64_t *out);
/** A text field of the certificate at `index`. DPGCERT_E_NOT_FOUND when absent,
 *  DPGCERT_E_INVALID_ARGUMENT for an integer field. */
DPGCERT_C_API int dpgcert_summary_list_text(const dpgcert_summary_list *list, size_t index, int field, char *buf,
                                            size_t *len);

/** The gateway's call: the active certificate of a mailbox (the newest if there are several),
 *  unsealed and opened. On success *out is NULL when the mailbox has no active certificate.
 *  Errors: DPGCERT_E_NOT_FOUND (no such mailbox), DPGCERT_E_BAD_PASSWORD (wrong master key),
 *  DPGCERT_E_INVALID_ARGUMENT (a passphrase store opened without its passphrase),
 *  DPGCERT_E_MALFORMED (damaged sealed data), DPGCERT_E_IO (e.g. an unreadable key file),
 *  DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_store_current_bundle(dpgcert_pkcs12 **out, const dpgcert_store *store, const char *mailbox);

/* ---- keys on PKCS#11 tokens ---------------------------------------------------------------- */

/* A certificate's private key on an HSM, smart card or SoftHSM2 token (docs/tokens.md), reached
 * through p11-kit and named by RFC 7512 pkcs11: URIs. The key never leaves the token: sign and
 * decrypt run there. */

/** A logged-in session with one token. Free with dpgcert_token_free(); may be used from several
 *  threads (calls take turns). */
typedef struct dpgcert_token dpgcert_token;

#define DPGCERT_TOKEN_OPTIONS_VERSION 1
/** How to open a token. */
typedef struct {
  unsigned int version; /**< DPGCERT_TOKEN_OPTIONS_VERSION */
  const uint8_t *pin;   /**< The user PIN (not NUL-terminated); NULL: none (a token without login or
                             with a PIN pad). Copied; the caller may wipe it after the call. */
  size_t pin_len;
} dpgcert_token_options;
#define DPGCERT_TOKEN_OPTIONS_INIT { DPGCERT_TOKEN_OPTIONS_VERSION, NULL, 0 }

/** Signature schemes: SHA-256 computed in process, the RSA operation in the token. */
typedef enum {
  DPGCERT_SIGN_RSA_PKCS1V15_SHA256 = 1,
  DPGCERT_SIGN_RSA_PSS_SHA256 = 2 /**< MGF1-SHA-256, 32-byte salt */
} dpgcert_sign_scheme;

/** Decryption schemes (OAEP with MGF1 of the same hash; PKCS#1 v1.5 as older S/MIME senders use). */
typedef enum {
  DPGCERT_DECRYPT_RSA_OAEP_SHA256 = 1,
  DPGCERT_DECRYPT_RSA_OAEP_SHA1 = 2,
  DPGCERT_DECRYPT_RSA_PKCS1V15 = 3
} dpgcert_decrypt_scheme;

/** Opens the token `uri` names (pkcs11:token=LABEL or serial=SERIAL; a module by ?module-name= or
 *  ?module-path=, else every module registered with p11-kit) and logs in. `options` may be NULL (no
 *  PIN). Errors: DPGCERT_E_MALFORMED (not a pkcs11: URI), DPGCERT_E_INVALID_ARGUMENT (a PIN or slot
 *  in the URI, or a login needed and no PIN), DPGCERT_E_NOT_FOUND (no such token),
 *  DPGCERT_E_CONFLICT (two match), DPGCERT_E_BAD_PASSWORD (wrong PIN), DPGCERT_E_LOCKED,
 *  DPGCERT_E_IO, DPGCERT_E_VERSION. */
DPGCERT_C_API int dpgcert_token_open(dpgcert_token **out, const char *uri, const dpgcert_token_options *options);
/** Frees a token session; NULL is a no-op. */
DPGCERT_C_API void dpgcert_token_free(dpgcert_token *token);

/** Signs `message` with the private key `key_uri` names (id= or object= on this token) into `sig`
 *  (*sig_len: its size in, the signature's size out; DPGCERT_E_BUFFER_TOO_SMALL with the size needed
 *  when too small: the modulus size). Errors: DPGCERT_E_NOT_FOUND (no such key), DPGCERT_E_CONFLICT
 *  (two match), DPGCERT_E_UNSUPPORTED (the token refuses the scheme), DPGCERT_E_INVALID_ARGUMENT (an
 *  unknown scheme), DPGCERT_E_IO. */
DPGCERT_C_API int dpgcert_token_sign(const dpgcert_token *token, const char *key_uri, int scheme,
                                     const uint8_t *message, size_t message_len, uint8_t *sig, size_t *sig_len);
/** Decrypts `ciphertext` in the token with the private key `key_uri` names into `out` (*out_len as
 *  for dpgcert_token_sign; the plaintext is at most the modulus size). Errors as dpgcert_token_sign,
 *  and DPGCERT_E_BAD_PASSWORD when the ciphertext does not decrypt under the key with this scheme. */
DPGCERT_C_API int dpgcert_token_decrypt(const dpgcert_token *token, const char *key_uri, int scheme,
                                        const uint8_t *ciphertext, size_t ciphertext_len, uint8_t *out,
                                        size_t *out_len);

/** Puts a stored certificate's private key (sensitive, not extractable), public key and certificate
 *  on `token` and records it in the store (idempotent; nothing is left on the token when it fails).
 *  From then on dpgcert_store_current_bundle() gives the bundle without its key and
 *  dpgcert_store_current_key_uri() the key's URI. `created` (may be NULL): objects created (0: all
 *  were there). Errors: DPGCERT_E_NOT_FOUND (no such certificate), DPGCERT_E_UNSUPPORTED (not an RSA
 *  key), DPGCERT_E_CONFLICT, the token's errors. */
DPGCERT_C_API int dpgcert_store_import_to_token(const dpgcert_store *store, const char *fingerprint,
                                                const dpgcert_token *token, size_t *created);
/** The key reference of a mailbox's current certificate: the pkcs11: URI of its private key when the
 *  key is on a token, else "" (the key is in the bundle dpgcert_store_current_bundle() gives).
 *  Text out as everywhere (buf, *len). Errors: DPGCERT_E_NOT_FOUND (no such mailbox, or no active
 *  certificate). */
DPGCERT_C_API int dpgcert_store_current_key_uri(const dpgcert_store *store, const char *mailbox, char *buf,
                                                size_t *len);

/* ---- renewal tracking ---------------------------------------------------------------------- */

/* The lifecycle layer (docs/lifecycle.md): a check at a given time records which renewal threshold
 * (by default 90, 60, 30, 14, 7, 1 and 0 days before expiry) each active certificate has crossed
 * and emits one event per threshold, plus one when a certificate is renewed, revoked or was forced
 * in past a failing validation. Events go to the store's outbox in the same transaction and are
 * delivered, at least once, to the sinks configured in the store: JSON Lines files, command hooks
 * (`dpgcert sink add`), and in-process callbacks such as the one dpgcert_store_check() takes. */

/** Adds an in-process callback sink named `name` (1-64 of [A-Za-z0-9._-]) to the store: events
 *  emitted from now on are queued for it and handed to the callback that a dpgcert_store_check()
 *  names it with. Errors: DPGCERT_E_CONFLICT (a sink of that name exists),
 *  DPGCERT_E_INVALID_ARGUMENT (a bad name), DPGCERT_E_IO, DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_store_add_callback_sink(dpgcert_store *store, const char *name);

/** Adds a sink of any kind in the sink registry (`jsonl`, `command`, `webhook`, `callback`, ...),
 *  from `count` option values as `dpgcert sink add` takes them: flags[i] is the option without
 *  "--" (`webhook`, `secret-file`, `timeout`, ...) and values[i] its value as text (docs/lifecycle.md).
 *  With `backlog` non-zero, the events that waited for a sink (emitted while none was configured)
 *  are queued for it too; `*queued` (may be NULL) receives how many. Errors:
 *  DPGCERT_E_CONFLICT (a sink of that name exists), DPGCERT_E_INVALID_ARGUMENT (an unknown kind or
 *  option, a missing or bad value, a bad name), DPGCERT_E_IO, DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_store_add_sink(dpgcert_store *store, const char *name, const char *kind,
                                         const char *const *flags, const char *const *values, size_t count,
                                         int backlog, size_t *queued);

/** How long delivered events stay in the outbox, in days (0: forever; 365 when the store sets
 *  nothing): a check deletes older ones whose every delivery went through. */
DPGCERT_C_API int dpgcert_store_outbox_retention(dpgcert_store *store, int64_t *days);
/** Sets the outbox retention in days (0: keep every event; audited). DPGCERT_E_INVALID_ARGUMENT
 *  outside 0..36525. */
DPGCERT_C_API int dpgcert_store_set_outbox_retention(dpgcert_store *store, int64_t days, const char *actor);

/** Called once per delivery of an event to the callback sink, on the thread running the check.
 *  The event is valid only during the call. Return 0 when the event was handled; any other value
 *  leaves it in the outbox, to be offered again by a later check (with backoff: 1 minute, doubled
 *  per failed attempt, at most a day). A receiver deduplicates on the event id. */
typedef int (*dpgcert_event_callback)(const dpgcert_event *event, void *payload);

#define DPGCERT_CHECK_OPTIONS_VERSION 3

/** How a check runs. */
typedef struct dpgcert_check_options {
  unsigned int version;      /**< DPGCERT_CHECK_OPTIONS_VERSION */
  /** The callback sink the callback serves (see dpgcert_store_add_callback_sink); required with a
   *  callback. NULL without one. */
  const char *callback_sink;
  /** Non-zero: deliver to the sinks after recording (the default). 0: record only. */
  int deliver;
  /** Since version 2. Non-zero: one run at a time across processes and nodes (the store's run
   *  lock, taken without waiting): when another run holds it the check does nothing
   *  (DPGCERT_CHECK_RESULT_SKIPPED, dpgcert_check_result_skip_reason()). */
  int exclusive;
  /** Since version 2. The last-run rule, in seconds (implies exclusive): the check does nothing
   *  when the last check on the store, on any node, ended less than this long ago by the wall
   *  clock (docs/lifecycle.md). 0: no rule; negative: DPGCERT_E_INVALID_ARGUMENT. */
  int64_t min_interval;
  /** Since version 3. Non-zero: refresh the revocation of the active certificates this run, when
   *  due (always on when the store's revocation refresh setting is set): OCSP, then CRLs kept in
   *  the store; a certificate found revoked becomes revoked and is announced by this check
   *  (docs/lifecycle.md, "Revocation refresh"). */
  int refresh_revocation;
  /** Since version 3. At most this often, in seconds; 0: the store's setting, else a day. */
  int64_t revocation_interval;
  /** Since version 3. Trust anchors (DER or PEM) for the refresh's paths; NULL: the built-in OCES roots. */
  const uint8_t *revocation_trust;
  size_t revocation_trust_len;
  /** Since version 3. Milliseconds per OCSP or CRL request; 0: 15000. */
  int64_t revocation_timeout_ms;
} dpgcert_check_options;

#define DPGCERT_CHECK_OPTIONS_INIT { DPGCERT_CHECK_OPTIONS_VERSION, NULL, 1, 0, 0, 0, 0, NULL, 0, 0 }

/** Evaluates the certificates due at `now` and the pending status changes, records new stages and
 *  their events in the outbox, then delivers what is due to the store's sinks - to `callback` for
 *  the callback sink options->callback_sink (callback and payload may be NULL: no callback). A
 *  failing sink or callback is an outcome (DPGCERT_CHECK_RESULT_FAILED), not an error. Errors:
 *  DPGCERT_E_NOT_FOUND (the store has no callback sink named options->callback_sink),
 *  DPGCERT_E_INVALID_ARGUMENT (a callback without a sink name, or a sink name without a callback),
 *  DPGCERT_E_IO, DPGCERT_E_VERSION, DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_store_check(dpgcert_check_result **out, dpgcert_store *store, int64_t now,
                                      const dpgcert_check_options *options, dpgcert_event_callback callback,
                                      void *payload);

/** The numbers of a check. */
typedef enum dpgcert_check_result_field {
  DPGCERT_CHECK_RESULT_AT = 1,        /**< the check's time */
  DPGCERT_CHECK_RESULT_EVALUATED = 2, /**< certificates evaluated (those due) */
  DPGCERT_CHECK_RESULT_EMITTED = 3,   /**< new events */
  DPGCERT_CHECK_RESULT_DELIVERED = 4, /**< deliveries acknowledged by the sinks in this run */
  DPGCERT_CHECK_RESULT_FAILED = 5,    /**< delivery attempts that failed (to be retried) */
  DPGCERT_CHECK_RESULT_WARNING = 6,   /**< active certificates in a warning stage afterwards */
  DPGCERT_CHECK_RESULT_CRITICAL = 7,  /**< active certificates in a critical stage afterwards */
  DPGCERT_CHECK_RESULT_WORST = 8,     /**< dpgcert_severity: the worst of the new events and of the state */
  DPGCERT_CHECK_RESULT_SKIPPED = 9,   /**< 1: an exclusive check did nothing (see dpgcert_check_result_skip_reason), else 0 */
  DPGCERT_CHECK_RESULT_NO_SINK = 10,  /**< 1: no sink is configured (the events wait for the first one added), else 0 */
  DPGCERT_CHECK_RESULT_BACKLOG = 11,  /**< events in the outbox that no configured sink has a delivery for */
  DPGCERT_CHECK_RESULT_PRUNED = 12,   /**< delivered events pruned from the outbox (older than the retention) */
  DPGCERT_CHECK_RESULT_REVOCATION_RAN = 13,      /**< 1: the revocation refresh ran in this check, else 0 */
  DPGCERT_CHECK_RESULT_REVOCATION_CHECKED = 14,  /**< active certificates asked about */
  DPGCERT_CHECK_RESULT_REVOCATION_REVOKED = 15,  /**< of those, found revoked (now revoked, announced) */
  DPGCERT_CHECK_RESULT_REVOCATION_PROBLEMS = 16  /**< of those, left without an answer (see dpgcert_check_result_revocation_json) */
} dpgcert_check_result_field;

DPGCERT_C_API void dpgcert_check_result_free(dpgcert_check_result *result);
/** A number of the check (dpgcert_check_result_field). DPGCERT_E_INVALID_ARGUMENT for an unknown field. */
DPGCERT_C_API int dpgcert_check_result_int(const dpgcert_check_result *result, int field, int64_t *out);
/** Why an exclusive check did nothing, in one line for people (UTF-8): another run held the run
 *  lock, or the last run ended less than min_interval ago (naming when and on which node).
 *  DPGCERT_E_NOT_FOUND when the check ran. */
DPGCERT_C_API int dpgcert_check_result_skip_reason(const dpgcert_check_result *result, char *buf, size_t *len);
/** The revocation refresh as JSON (the line `dpgcert check --json` prints: {"revocation": {ran,
 *  skip_reason, checked, good, revoked, problems: [{fingerprint, subject, message, errors}],
 *  next_due}}; docs/cli-json.md), with each failure's reason. */
DPGCERT_C_API int dpgcert_check_result_revocation_json(const dpgcert_check_result *result, char *buf, size_t *len);
/** Sets (interval_seconds > 0) or clears (0) the store's revocation refresh interval: when set,
 *  every check refreshes revocation at most this often. DPGCERT_E_INVALID_ARGUMENT below 60 s. */
DPGCERT_C_API int dpgcert_store_set_revocation_refresh(dpgcert_store *store, int64_t interval_seconds);
/** The new event at `index` (0 to DPGCERT_CHECK_RESULT_EMITTED - 1, in emission order), owned by the
 *  result: valid until dpgcert_check_result_free(). DPGCERT_E_OUT_OF_RANGE past the end. */
DPGCERT_C_API int dpgcert_check_result_event(const dpgcert_check_result *result, size_t index,
                                             const dpgcert_event **event);

/** The fields of an event. Integer ones are read with dpgcert_event_int(), text ones with
 *  dpgcert_event_text(). */
typedef enum dpgcert_event_field {
  /* integers */
  DPGCERT_EVENT_KIND = 1,                /**< dpgcert_event_kind */
  DPGCERT_EVENT_STAGE_DAYS = 2,          /**< the threshold crossed; absent for renewed, revoked, validation_failed */
  DPGCERT_EVENT_DAYS_LEFT = 3,           /**< whole days to the effective expiry; negative once expired */
  DPGCERT_EVENT_AT = 4,                  /**< when it was emitted (the check's time), Unix seconds */
  DPGCERT_EVENT_EFFECTIVE_NOT_AFTER = 5, /**< the earliest notAfter of the certificate and its issuers */
  DPGCERT_EVENT_NOT_AFTER = 6,           /**< the certificate's own notAfter */
  DPGCERT_EVENT_CERTIFICATE_ID = 7,      /**< the store's record id */
  /* text; absent (DPGCERT_E_NOT_FOUND) where it does not apply */
  DPGCERT_EVENT_ID = 20,                 /**< the idempotency key: the same on every delivery */
  DPGCERT_EVENT_FINGERPRINT = 21,        /**< the certificate's SHA-256 fingerprint (hex) */
  DPGCERT_EVENT_CVR = 22,                /**< the CVR to act for: the organisation's, else the certificate's */
  DPGCERT_EVENT_MAILBOX = 23,
  DPGCERT_EVENT_COMMON_NAME = 24,
  DPGCERT_EVENT_ORGANISATION_NAME = 25,
  DPGCERT_EVENT_SUPERSEDED_BY = 26,      /**< renewed: the successor's fingerprint */
  DPGCERT_EVENT_JSON = 27                /**< the event as the sinks receive it (docs/lifecycle.md) */
} dpgcert_event_field;

/** An integer field of an event. DPGCERT_E_NOT_FOUND when absent, DPGCERT_E_INVALID_ARGUMENT for a
 *  text field. */
DPGCERT_C_API int dpgcert_event_int(const dpgcert_event *event, int field, int64_t *out);
/** A text field of an event. DPGCERT_E_NOT_FOUND when absent, DPGCERT_E_INVALID_ARGUMENT for an
 *  integer field. */
DPGCERT_C_API int dpgcert_event_text(const dpgcert_event *event, int field, char *buf, size_t *len);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DPGCERT_DPGCERT_H */
