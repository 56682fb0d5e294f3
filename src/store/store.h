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

/* ---- whole-token images and backups (store_backup.c) ----
 *
 * A backup file (format in docs/security-model.md, "Backups"):
 *   header   "CRATONBK", format version, KDF id, iterations, salt, cipher
 *            id, nonce and tag lengths, payload length  (the GCM AAD)
 *   sealed   12-byte nonce || AES-256-GCM(payload) || 16-byte tag, under
 *            PBKDF2-HMAC-SHA256(passphrase, salt, iterations)
 * The payload is the token's image: serial, source slot, creation time,
 * token record, OMK, PIN records as stored and every object row as stored
 * (sealed parts stay sealed under the OMK). */

#define STORE_BACKUP_MAGIC          "CRATONBK"
#define STORE_BACKUP_FORMAT         1
#define STORE_BACKUP_KDF_PBKDF2     1 /* PBKDF2-HMAC-SHA256 */
#define STORE_BACKUP_CIPHER_AES_GCM 1 /* AES-256-GCM */
#define STORE_BACKUP_MIN_ITERATIONS 600000UL
#define STORE_BACKUP_MAX_ITERATIONS 10000000UL
#define STORE_BACKUP_PASSPHRASE_MIN 8
#define STORE_BACKUP_PASSPHRASE_MAX 1024
#define STORE_BACKUP_SERIAL_MAX     16
#define STORE_BACKUP_MAX_BYTES      ((size_t)1 << 30) /* whole file */
#define STORE_BACKUP_MAX_OBJECTS    10000000UL

/* A token's whole content as stored.  Owns everything it points to: objects'
 * buffers in the ordinary heap, omk in the secure heap (NULL until set). */
struct store_image {
    char serial[STORE_BACKUP_SERIAL_MAX + 1];
    CK_SLOT_ID slot;            /* the slot the image was taken from */
    unsigned long long created; /* seconds since the epoch, UTC */
    struct store_token tok;     /* record, PIN records and counters as stored */
    unsigned char *omk;         /* CRYPTO_KEY_LEN bytes */
    struct store_object *objects;
    size_t count;
};

/* Wipes and frees what img owns and zeroes it (NULL-safe, idempotent). */
void store_image_free(struct store_image *img);

/* Reads the token record and every object row of st in one read
 * transaction into img (zeroed first; serial, slot, created and omk are the
 * caller's to set).  CKR_OK, CKR_HOST_MEMORY or CKR_DEVICE_ERROR; on failure
 * img is freed. */
CK_RV store_export(struct store *st, struct store_image *img) WARN_UNUSED;

/* Replaces st's whole content with tok and img's objects in one
 * transaction (all or nothing).  img's own tok is not used: the caller
 * passes the record to write.  CKR_OK or CKR_DEVICE_ERROR. */
CK_RV store_import(struct store *st, const struct store_token *tok,
                   const struct store_image *img) WARN_UNUSED;

/* Deletes every row (token record, PIN records, counters, objects) in one
 * transaction, then truncates the write-ahead log, so the slot reads as a
 * fresh, uninitialised store (secure_delete zeroes the freed pages).
 * CKR_OK or CKR_DEVICE_ERROR. */
CK_RV store_wipe(struct store *st) WARN_UNUSED;

/* Bytes of the backup of img (header, nonce, payload, tag). */
size_t store_backup_size(const struct store_image *img);

/* Writes the backup of img (img->omk set) sealed under a key derived from
 * passphrase with iterations (STORE_BACKUP_MIN..MAX_ITERATIONS) into
 * out[*out_len].  Output convention of PKCS#11: out NULL sets *out_len;
 * CKR_BUFFER_TOO_SMALL when *out_len is short (nothing derived then).  The
 * derived key and the plaintext payload are wiped.  CKR_OK,
 * CKR_ARGUMENTS_BAD (iterations out of range, image too big),
 * CKR_HOST_MEMORY or CKR_DEVICE_ERROR. */
CK_RV store_backup_seal(struct crypto *c, const struct store_image *img,
                        const unsigned char *passphrase, size_t passphrase_len,
                        unsigned long iterations, unsigned char *out, size_t *out_len) WARN_UNUSED;

/* Parses in[len], derives the key from passphrase, authenticates and
 * decodes the payload into img (zeroed first; omk in the secure heap).
 * Every malformation, a wrong passphrase and any changed byte give
 * CKR_ENCRYPTED_DATA_INVALID; otherwise CKR_OK, CKR_HOST_MEMORY or
 * CKR_DEVICE_ERROR.  On failure img is freed. */
CK_RV store_backup_open(struct crypto *c, const unsigned char *in, size_t len,
                        const unsigned char *passphrase, size_t passphrase_len,
                        struct store_image *img) WARN_UNUSED;

#endif
