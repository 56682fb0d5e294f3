/*
 * A token's objects: token objects (persisted in the slot's store, private
 * ones and every secret attribute sealed under the token's OMK) and session
 * objects (memory only, owned by the session that created them).
 *
 * Handles are per process and never reused.  Public token objects are
 * loaded at start; private ones stay sealed until a logged-in user first
 * needs them.  Searches on CKA_CLASS, CKA_ID and CKA_LABEL use hash indexes.
 *
 * Locking: the collection's reader/writer lock guards the handle table, the
 * indexes and every object's attribute list; callers never hold it.
 */
#ifndef CRATON_OBJECT_OBJECTS_H
#define CRATON_OBJECT_OBJECTS_H

#include <stdbool.h>

#include "crypto/crypto.h"
#include "object/attr.h"
#include "pkcs11/pkcs11.h"
#include "store/store.h"

#define OBJECTS_AAD_PREFIX     "craton-hsm/obj/v1"
#define OBJECTS_RECORD_VERSION 1
#define OBJECTS_AAD_LEN        (sizeof(OBJECTS_AAD_PREFIX) - 1 + 8 + STORE_UID_LEN + 1)

/* The GCM additional data of the sealed part of token object uid in slot:
 * prefix || slot (8 bytes, big-endian) || uid || record version.  For the
 * core's restore of a backup into another slot (re-sealing). */
void objects_record_aad(CK_SLOT_ID slot, const unsigned char uid[STORE_UID_LEN],
                        unsigned char aad[OBJECTS_AAD_LEN]);

struct objects;

/* What the calling application may see: user is true when CKU_USER is
 * logged in (private objects visible); omk is the token's object master
 * key when the user or the SO is logged in, else NULL. */
struct objects_view {
    bool user;
    const unsigned char *omk;
};

/* Creates the collection of slot and loads st's objects (st may be NULL:
 * memory only; st stays the caller's).  A record that cannot be decoded is
 * logged and skipped.  CKR_OK, CKR_HOST_MEMORY or CKR_DEVICE_ERROR. */
CK_RV objects_new(CK_SLOT_ID slot, struct crypto *c, struct store *st,
                  struct objects **out) WARN_UNUSED;
void objects_free(struct objects *o);

/* C_InitToken (the store has been wiped): forgets every object. */
void objects_clear(struct objects *o);

/* C_Logout (spec 5.6): every handle to a private object becomes invalid
 * for good, private session objects are destroyed, and the unsealed
 * attributes of token objects are wiped (they stay sealed in memory and get
 * new handles when the user logs in again). */
void objects_logout(struct objects *o);

/* C_CloseSession: destroys the session objects owned by session. */
void objects_session_closed(struct objects *o, CK_SESSION_HANDLE session);

/* Adds a new object whose attributes a (complete and validated) are taken
 * over (a is left empty).  CKA_TOKEN objects are written to the store
 * before this returns; sealing needs v->omk (CKR_USER_NOT_LOGGED_IN
 * without).  owner is the creating session (for session objects). */
CK_RV objects_add(struct objects *o, struct attrs *a, CK_SESSION_HANDLE owner,
                  const struct objects_view *v, CK_OBJECT_HANDLE *out) WARN_UNUSED;

/* C_DestroyObject: CKR_OBJECT_HANDLE_INVALID when h is not visible,
 * CKR_ACTION_PROHIBITED when not CKA_DESTROYABLE. */
CK_RV objects_destroy(struct objects *o, CK_OBJECT_HANDLE h,
                      const struct objects_view *v) WARN_UNUSED;

/* C_GetAttributeValue with the spec's per-attribute rules (5.7). */
CK_RV objects_get_attributes(struct objects *o, CK_OBJECT_HANDLE h, const struct objects_view *v,
                             CK_ATTRIBUTE *tmpl, CK_ULONG count) WARN_UNUSED;

/* C_SetAttributeValue: rules_check_set, then applied and re-persisted
 * atomically (all or nothing). */
CK_RV objects_set_attributes(struct objects *o, CK_OBJECT_HANDLE h, const struct objects_view *v,
                             const struct attrs *changes) WARN_UNUSED;

/* A deep copy of h's attributes (for C_CopyObject), visibility checked. */
CK_RV objects_snapshot(struct objects *o, CK_OBJECT_HANDLE h, const struct objects_view *v,
                       struct attrs *out) WARN_UNUSED;

/* C_GetObjectSize: bytes the object takes in the store (approximate). */
CK_RV objects_size(struct objects *o, CK_OBJECT_HANDLE h, const struct objects_view *v,
                   CK_ULONG *size) WARN_UNUSED;

/* Is h a visible private object / token object?  For the entry points'
 * session checks (R/W for token objects, login for private ones). */
CK_RV objects_flags(struct objects *o, CK_OBJECT_HANDLE h, const struct objects_view *v,
                    bool *is_token, bool *is_private) WARN_UNUSED;

/* C_FindObjectsInit: the handles of every visible object matching tmpl, in
 * a new array (*handles, free()), *n of them. */
CK_RV objects_find(struct objects *o, const struct attrs *tmpl, const struct objects_view *v,
                   CK_OBJECT_HANDLE **handles, size_t *n) WARN_UNUSED;

/* May key h be used for usage (CKA_SIGN, CKA_DECRYPT, ...) on day today
 * (YYYYMMDD as a number, UTC)?  CKR_KEY_HANDLE_INVALID (not visible or not a
 * key), CKR_KEY_FUNCTION_NOT_PERMITTED (the usage attribute is false, or
 * today is before CKA_START_DATE or after CKA_END_DATE: SP 800-57
 * cryptoperiods), CKR_OK.  For the mechanism layers' *Init functions. */
CK_RV objects_check_use(struct objects *o, CK_OBJECT_HANDLE h, const struct objects_view *v,
                        CK_ATTRIBUTE_TYPE usage, long today) WARN_UNUSED;

/* For the mechanisms' *Init functions: as objects_check_use, and mech must
 * be in the key's CKA_ALLOWED_MECHANISMS when it has one (else
 * CKR_MECHANISM_INVALID; CK_UNAVAILABLE_INFORMATION skips that check); usage
 * 0 skips the usage check.  A key whose secret opens only at login gives
 * CKR_USER_NOT_LOGGED_IN.  On CKR_OK *out is a reference to the key's usable
 * form, built on first use and cached in the object (key_unref). */
struct key;
CK_RV objects_key(struct objects *o, CK_OBJECT_HANDLE h, const struct objects_view *v,
                  CK_ATTRIBUTE_TYPE usage, CK_MECHANISM_TYPE mech, long today,
                  struct key **out) WARN_UNUSED;

/* Number of objects held (all kinds). */
size_t objects_count(struct objects *o);

#endif
