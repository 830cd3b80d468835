/* dpgcert C API: a store's organisations, contacts and mailboxes: add, edit, move, remove. Every
 * change is one transaction with its audit-log line. Part of <dpgcert/dpgcert.h>; include that
 * header (its comment has the conventions; the store handle is made by dpgcert_store_open()). */
#ifndef DPGCERT_C_INVENTORY_H
#define DPGCERT_C_INVENTORY_H

#include <dpgcert/c/export.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dpgcert_store;

/* ---- organisations and contacts ---------------------------------------------------------- */

/** Adds an organisation. Errors: DPGCERT_E_CONFLICT (the CVR exists), DPGCERT_E_INVALID_ARGUMENT
 *  (a CVR that is not 8 digits, an empty name), DPGCERT_E_IO, DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_store_add_organisation(struct dpgcert_store *store, const char *cvr, const char *name);
/** Changes an organisation's name and/or notes; NULL leaves one as it is. Errors:
 *  DPGCERT_E_NOT_FOUND, DPGCERT_E_INVALID_ARGUMENT (an empty name), DPGCERT_E_IO,
 *  DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_store_edit_organisation(struct dpgcert_store *store, const char *cvr, const char *name,
                                                  const char *notes);
/** The name of an organisation into a caller buffer (size negotiation as for all text).
 *  Errors: DPGCERT_E_NOT_FOUND, DPGCERT_E_BUFFER_TOO_SMALL, DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_store_organisation_name(const struct dpgcert_store *store, const char *cvr, char *buf,
                                                  size_t *len);
/** Sets the language of the mail an smtp sink sends to the organisation's contacts: "da" or "en".
 *  Errors: DPGCERT_E_NOT_FOUND, DPGCERT_E_INVALID_ARGUMENT (another language), DPGCERT_E_IO,
 *  DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_store_set_organisation_language(struct dpgcert_store *store, const char *cvr,
                                                          const char *language);
/** The organisation's language ("da" or "en") into a caller buffer (size negotiation as for all
 *  text). Errors: DPGCERT_E_NOT_FOUND, DPGCERT_E_BUFFER_TOO_SMALL, DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_store_organisation_language(const struct dpgcert_store *store, const char *cvr, char *buf,
                                                      size_t *len);
/** Adds a contact (name and role may be NULL). Errors: DPGCERT_E_CONFLICT (a contact with that
 *  e-mail address), DPGCERT_E_NOT_FOUND, DPGCERT_E_INVALID_ARGUMENT (no '@'), DPGCERT_E_IO,
 *  DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_store_add_contact(struct dpgcert_store *store, const char *cvr, const char *name,
                                            const char *email, const char *role);
/** Removes the contact with this e-mail address (compared without case). Errors:
 *  DPGCERT_E_NOT_FOUND (no such organisation or contact), DPGCERT_E_IO, DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_store_remove_contact(struct dpgcert_store *store, const char *cvr, const char *email);
/** How many contacts an organisation has. */
DPGCERT_C_API int dpgcert_store_contact_count(const struct dpgcert_store *store, const char *cvr, size_t *count);

/** A removal retires the active certificates attached to what it removes instead of refusing. */
#define DPGCERT_REMOVE_RETIRE_CERTIFICATES 1u

/** Removes an organisation with its contacts and renewal policy; its inactive certificates stay,
 *  attached to no organisation. `flags`: 0 or DPGCERT_REMOVE_RETIRE_CERTIFICATES. `retired`
 *  (may be NULL) receives how many certificates were retired. Errors: DPGCERT_E_CONFLICT (it
 *  still has mailboxes, or active certificates without the flag), DPGCERT_E_NOT_FOUND,
 *  DPGCERT_E_INVALID_ARGUMENT (an unknown flag), DPGCERT_E_IO, DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_store_remove_organisation(struct dpgcert_store *store, const char *cvr, unsigned int flags,
                                                    size_t *retired);

/* ---- mailboxes ---------------------------------------------------------------------------- */

/** Adds a mailbox to an organisation (ad_group may be NULL). Errors: DPGCERT_E_CONFLICT (the
 *  address exists), DPGCERT_E_NOT_FOUND (no such organisation), DPGCERT_E_INVALID_ARGUMENT (not
 *  an address), DPGCERT_E_IO, DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_store_add_mailbox(struct dpgcert_store *store, const char *address, const char *cvr,
                                            const char *ad_group);
/** Sets a mailbox's AD group ("" clears it). Errors: DPGCERT_E_NOT_FOUND, DPGCERT_E_IO,
 *  DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_store_set_mailbox_ad_group(struct dpgcert_store *store, const char *address,
                                                     const char *ad_group);
/** Moves a mailbox, with its certificates, to another organisation. Errors: DPGCERT_E_NOT_FOUND
 *  (no such mailbox or organisation), DPGCERT_E_IO, DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_store_move_mailbox(struct dpgcert_store *store, const char *address, const char *cvr);
/** The CVR of a mailbox's organisation into a caller buffer. Errors: DPGCERT_E_NOT_FOUND,
 *  DPGCERT_E_BUFFER_TOO_SMALL, DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_store_mailbox_organisation(const struct dpgcert_store *store, const char *address,
                                                     char *buf, size_t *len);
/** Removes a mailbox; its inactive certificates stay, attached to no mailbox. `flags` and
 *  `retired` as for dpgcert_store_remove_organisation(). Errors: DPGCERT_E_CONFLICT (active
 *  certificates hang on it and the flag is not given), DPGCERT_E_NOT_FOUND,
 *  DPGCERT_E_INVALID_ARGUMENT, DPGCERT_E_IO, DPGCERT_E_NULL_ARGUMENT. */
DPGCERT_C_API int dpgcert_store_remove_mailbox(struct dpgcert_store *store, const char *address, unsigned int flags,
                                               size_t *retired);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DPGCERT_C_INVENTORY_H */
