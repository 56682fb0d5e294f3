/* Internals shared by the store's source files. */
#ifndef CRATON_STORE_PRIVATE_H
#define CRATON_STORE_PRIVATE_H

#include <sqlite3.h>

#include "store/store.h"

struct store {
    sqlite3 *db;
    char *path;
};

/* Objects: one row per token object.  public_attrs is the record codec of
 * the attributes readable before login (NULL for private objects); sealed is
 * nonce || AES-256-GCM(codec of the secret attributes, or of all attributes
 * of a private object) || tag under the token's OMK. */
#define STORE_OBJECTS_TABLE                                                                        \
    "CREATE TABLE objects("                                                                        \
    " uid BLOB PRIMARY KEY CHECK (length(uid) = 16),"                                              \
    " class INTEGER NOT NULL,"                                                                     \
    " private INTEGER NOT NULL,"                                                                   \
    " public_attrs BLOB,"                                                                          \
    " sealed BLOB) WITHOUT ROWID;"

/* Runs sql (no result rows); logs and returns CKR_DEVICE_ERROR on failure. */
CK_RV store_exec(struct store *st, const char *sql);

/* Reads the token record (with the PIN records and failure counters) inside
 * the caller's transaction.  CKR_OK or CKR_DEVICE_ERROR (logged; *tok
 * wiped). */
CK_RV store_read_token_locked(struct store *st, struct store_token *tok);

/* Replaces the token record, the PIN records and the failure counters
 * inside the caller's transaction (objects untouched).  CKR_OK or
 * CKR_DEVICE_ERROR (logged); the caller rolls back on failure. */
CK_RV store_write_token_locked(struct store *st, const struct store_token *tok);

#endif
