/*
 * Persistence of one slot's token: a SQLite database in WAL mode with
 * synchronous=FULL, every change one transaction.  Plus the advisory lock
 * that keeps a second process out of storage_path.
 *
 * Layout (documented in the README):
 *   <storage_path>/craton_hsm.lock      exclusive flock, holder's PID inside
 *   <storage_path>/token.db             slot 0 when slot_count = 1
 *   <storage_path>/slot-<N>/token.db    slot N when slot_count > 1
 * Directories 0700, files 0600.
 */
#ifndef CRATON_STORE_H
#define CRATON_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/util.h"
#include "crypto/crypto.h"
#include "pkcs11/pkcs11.h"

#define STORE_SCHEMA_VERSION    2
#define STORE_SALT_LEN          32
#define STORE_VERIFIER_LEN      32
#define STORE_KDF_PBKDF2_SHA256 "pbkdf2-hmac-sha256"
#define STORE_ERR_MAX           512

enum store_role {
    STORE_ROLE_SO = 0,
    STORE_ROLE_USER = 1,
};

/* One PIN's verifier record.  The wrapped OMK is the token's object master key
 * under the key-encryption key derived together with the verifier. */
struct store_pin {
    bool set;
    unsigned long iterations;
    unsigned char salt[STORE_SALT_LEN];
    unsigned char verifier[STORE_VERIFIER_LEN];
    unsigned char wrapped_omk[CRYPTO_WRAPPED_KEY_LEN];
    unsigned long failed; /* consecutive failures; locked when >= max_failed_logins */
};

struct store_token {
    bool initialized;
    CK_UTF8CHAR label[32];
    struct store_pin pin[2]; /* indexed by enum store_role */
};

struct store;
struct store_lock;

/* Takes the exclusive advisory lock on <dir>/craton_hsm.lock (creating dir
 * 0700 and the file 0600 if needed) and writes our PID into it.  On failure
 * returns CKR_GENERAL_ERROR (held by another process: err names the path and
 * the holder's PID when known) or CKR_DEVICE_ERROR, with err filled. */
CK_RV store_lock_acquire(const char *dir, struct store_lock **out, char err[STORE_ERR_MAX]);

/* Releases and frees the lock (NULL-safe). */
void store_lock_release(struct store_lock *lock);

/* In a child after fork(): the lock's open file description is shared with
 * the parent, so the child holds it too.  Forgets the record without
 * unlocking (NULL-safe) and returns the inherited lock for reuse. */
struct store_lock *store_lock_inherit(struct store_lock *lock);

/* Opens (creating if needed) the token database at <dir>/token.db, creating
 * dir 0700.  Returns CKR_OK and *out, or CKR_DEVICE_ERROR with err filled. */
CK_RV store_open(const char *dir, struct store **out, char err[STORE_ERR_MAX]);

/* Closes the database (NULL-safe). */
void store_close(struct store *st);

/* Reads the token record; a fresh database gives initialized = false.
 * Returns CKR_OK or CKR_DEVICE_ERROR. */
CK_RV store_load_token(struct store *st, struct store_token *out);

/* Replaces the whole token record in one transaction. */
CK_RV store_save_token(struct store *st, const struct store_token *tok);

/* Atomically adds one to role's failure counter and returns the new value
 * (the counter is on disk before this returns). */
CK_RV store_count_failure(struct store *st, enum store_role role, unsigned long *failed);

/* Sets role's failure counter to zero. */
CK_RV store_reset_failures(struct store *st, enum store_role role);


/* ---- token objects ---- */

#define STORE_UID_LEN 16

/* One persisted object as stored: see STORE_OBJECTS_TABLE. */
struct store_object {
    unsigned char uid[STORE_UID_LEN];
    CK_OBJECT_CLASS cls;
    bool is_private;
    const unsigned char *public_attrs; /* may be NULL */
    size_t public_len;
    const unsigned char *sealed; /* may be NULL */
    size_t sealed_len;
};

/* Inserts or replaces one object in one transaction.  CKR_OK or
 * CKR_DEVICE_ERROR. */
CK_RV store_object_put(struct store *st, const struct store_object *o) WARN_UNUSED;

/* Deletes one object (absent is not an error). */
CK_RV store_object_delete(struct store *st, const unsigned char uid[STORE_UID_LEN]) WARN_UNUSED;

/* Calls cb for every stored object (the pointers are valid only during the
 * call); stops and returns cb's result when it is not CKR_OK. */
CK_RV store_object_foreach(struct store *st, CK_RV (*cb)(void *ctx, const struct store_object *o),
                           void *ctx) WARN_UNUSED;

/* C_InitToken: replaces the token record and deletes every object, in one
 * transaction. */
CK_RV store_reset_token(struct store *st, const struct store_token *tok) WARN_UNUSED;

#endif
