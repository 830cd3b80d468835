/* dpgcert C API: change notifications of a PostgreSQL store. A gateway learns that the current
 * bundle of one of its mailboxes may have changed without polling: every committed import, status
 * change, mailbox move or removal is announced (identifiers only, never secrets) to the listeners
 * of that store's database; a rolled-back change is never announced. Part of <dpgcert/dpgcert.h>;
 * include that header (its comment has the conventions). */
#ifndef DPGCERT_C_CHANGES_H
#define DPGCERT_C_CHANGES_H

#include <dpgcert/c/export.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dpgcert_store;

typedef struct dpgcert_change_listener dpgcert_change_listener; /**< Listens for a store's changes. */

/** What kind of change was committed. */
typedef enum dpgcert_change_kind {
  DPGCERT_CHANGE_CERTIFICATE_IMPORTED = 1, /**< a certificate was imported */
  DPGCERT_CHANGE_CERTIFICATE_STATUS = 2,   /**< a certificate was superseded, retired or revoked */
  DPGCERT_CHANGE_MAILBOX_MOVED = 3,        /**< a mailbox moved to another organisation */
  DPGCERT_CHANGE_MAILBOX_REMOVED = 4,      /**< a mailbox was removed */
  /** changes may have been missed (the listener's connection was lost and is back): reload
   *  everything kept from the store */
  DPGCERT_CHANGE_RELOAD = 5
} dpgcert_change_kind;

/** Called once per change, on the thread calling dpgcert_change_listener_poll(). `kind` is a
 *  dpgcert_change_kind; `mailbox` (lowercase) and `fingerprint` (SHA-256, hex) are NULL where they
 *  do not apply, and valid only during the call. Return 0 to go on; any other value stops the poll
 *  after this change (the changes not handed over yet stay for the next poll). */
typedef int (*dpgcert_change_callback)(int kind, const char *mailbox, const char *fingerprint, void *payload);

/** Opens a listener for the changes committed to the store from now on, by any handle, process or
 *  node, on a database connection of its own (it does not need the store handle to stay open).
 *  Errors: DPGCERT_E_UNSUPPORTED (a SQLite store: it sends no notifications; read the current
 *  bundle again instead), DPGCERT_E_IO (the server cannot be reached), DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_store_listen(dpgcert_change_listener **out, const struct dpgcert_store *store);
DPGCERT_C_API void dpgcert_change_listener_free(dpgcert_change_listener *listener);

/** Waits up to `timeout_ms` (0: does not wait) for a change, then hands it and every change that
 *  has already arrived to `callback`. On success *handed (if not NULL) is the number of changes
 *  handed over (0: none came in time). After a lost connection the listener connects again and the
 *  first change it hands over is DPGCERT_CHANGE_RELOAD. Errors: DPGCERT_E_IO (the connection is
 *  lost and could not be made again within `timeout_ms`; the listener stays usable),
 *  DPGCERT_E_INVALID_ARGUMENT (a negative timeout), DPGCERT_E_NULL_ARGUMENT. A listener is used by
 *  one thread at a time. */
DPGCERT_C_API int dpgcert_change_listener_poll(dpgcert_change_listener *listener, int64_t timeout_ms,
                                               dpgcert_change_callback callback, void *payload, size_t *handed);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DPGCERT_C_CHANGES_H */
