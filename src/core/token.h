/*
 * One slot and its token: PIN verifiers, lockout counters, the login state
 * of this application, session counts and the object master key (OMK).
 *
 * Locking: auth_lock serialises the PIN operations (login, PIN set/init,
 * token init), which run PBKDF2 outside the state lock; state_lock (a
 * reader/writer lock) guards everything else and is held only briefly.
 */
#ifndef CRATON_CORE_TOKEN_H
#define CRATON_CORE_TOKEN_H

#include <stdbool.h>

#include "common/util.h"
#include "config/config.h"
#include "crypto/crypto.h"
#include "pkcs11/pkcs11.h"
#include "object/objects.h"
#include "store/store.h"

#define TOKEN_PIN_ABI_MAX 256 /* longest PIN we look at, whatever the policy */

enum token_login {
    TOKEN_PUBLIC,
    TOKEN_USER,
    TOKEN_SO,
};

struct token;

/* Creates the token of slot id.  cfg and crypto must outlive the token; st
 * (NULL when persist_objects is false) becomes the token's.  Loads the
 * persisted record.  Returns CKR_OK, CKR_HOST_MEMORY or CKR_DEVICE_ERROR. */
CK_RV token_new(CK_SLOT_ID id, const struct config *cfg, struct crypto *crypto, struct store *st,
                struct token **out) WARN_UNUSED;

/* Frees the token, wiping its secrets and closing its store (NULL-safe). */
void token_free(struct token *t);

/* C_GetSlotInfo / C_GetTokenInfo contents. */
void token_slot_info(struct token *t, CK_SLOT_INFO *info);
void token_info(struct token *t, CK_TOKEN_INFO *info);

/* Current login state of this application on the token. */
enum token_login token_login_state(struct token *t);

/* Session bookkeeping, called by the session table.  token_session_opening
 * checks the limits and the SO/R-O rule and counts the session:
 * CKR_TOKEN_NOT_RECOGNIZED, CKR_SESSION_COUNT,
 * CKR_SESSION_READ_WRITE_SO_EXISTS.  token_session_closed uncounts it and
 * logs the application out when it was the last one. */
CK_RV token_session_opening(struct token *t, bool rw) WARN_UNUSED;
void token_session_closed(struct token *t, bool rw, CK_SESSION_HANDLE h);

/* The token's objects (owned by the token). */
struct objects *token_objects(struct token *t);

/* What this application may see of the objects now: fills v, copying the
 * OMK (when the user or SO is logged in) into omk, which the caller wipes
 * with crypto_wipe after use. */
void token_view(struct token *t, struct objects_view *v, unsigned char omk[CRYPTO_KEY_LEN]);

/* C_InitToken semantics (spec 5.6): verifies the current SO PIN before
 * destroying anything, needs no session open on the slot, then re-creates
 * the token under a fresh OMK.  label is 32 bytes as the spec says (read up
 * to a NUL, blank-padded). */
CK_RV token_init(struct token *t, const CK_UTF8CHAR *pin, CK_ULONG pin_len,
                 const CK_UTF8CHAR *label) WARN_UNUSED;

/* C_Login (spec 5.6) for CKU_SO / CKU_USER. */
CK_RV token_login(struct token *t, CK_USER_TYPE user, const CK_UTF8CHAR *pin,
                  CK_ULONG pin_len) WARN_UNUSED;

/* C_Login(CKU_CONTEXT_SPECIFIC): checks the user PIN again for a key with
 * CKA_ALWAYS_AUTHENTICATE (failures count towards the lockout like any
 * login).  CKR_USER_NOT_LOGGED_IN unless the user is logged in. */
CK_RV token_verify_context(struct token *t, const CK_UTF8CHAR *pin, CK_ULONG pin_len) WARN_UNUSED;

/* C_Logout: CKR_USER_NOT_LOGGED_IN when public. */
CK_RV token_logout(struct token *t) WARN_UNUSED;

/* C_InitPIN: the SO sets (or resets, unlocking) the user PIN. */
CK_RV token_init_pin(struct token *t, const CK_UTF8CHAR *pin, CK_ULONG pin_len) WARN_UNUSED;

/* C_SetPIN: changes the PIN of the logged-in role, or the user PIN when
 * public; session_rw is the calling session's R/W flag. */
CK_RV token_set_pin(struct token *t, bool session_rw, const CK_UTF8CHAR *old_pin, CK_ULONG old_len,
                    const CK_UTF8CHAR *new_pin, CK_ULONG new_len) WARN_UNUSED;

/* ---- the vendor interface's token operations (craton_admin.h) ---- */

/* The serial number shown in CK_TOKEN_INFO (NUL-terminated; lives as long
 * as t; made from the configuration, so it survives a wipe). */
const char *token_serial(const struct token *t);

/* Sessions open on the token now. */
unsigned long token_session_count(struct token *t);

/* CRATON_WipeToken: deletes the token's store content (record, both PINs,
 * every object; store_wipe) and resets the in-memory state to an
 * uninitialised token.  No authentication: the authority is access to
 * storage_path.  CKR_SESSION_EXISTS while a session is open; CKR_OK or
 * CKR_DEVICE_ERROR. */
CK_RV token_wipe(struct token *t) WARN_UNUSED;

/* CRATON_BackupToken: the sealed backup (store_backup_seal) of the token,
 * with PBKDF2 iterations max(600,000, cfg pbkdf2_iterations); the SO must
 * be logged in (CKR_USER_NOT_LOGGED_IN).  Output convention of PKCS#11 for
 * out / *out_len.  *objects gets the number of object records.
 * CKR_FUNCTION_NOT_SUPPORTED with persist_objects = false (no store). */
CK_RV token_backup(struct token *t, const CK_UTF8CHAR *passphrase, CK_ULONG passphrase_len,
                   CK_BYTE_PTR out, CK_ULONG_PTR out_len, unsigned long *objects) WARN_UNUSED;

/* What a restore found in the backup (for the audit record). */
struct token_restore_info {
    char serial[STORE_BACKUP_SERIAL_MAX + 1]; /* "" until the backup opened */
    CK_SLOT_ID from_slot;
    unsigned long objects;
    bool user_pin_restored; /* false when moved to another slot or never set */
};

/* CRATON_RestoreToken, in this order: opens the backup
 * (CKR_ENCRYPTED_DATA_INVALID), no session may be open
 * (CKR_SESSION_EXISTS), an initialised token must have the backup's serial
 * unless force (CKR_TOKEN_NOT_RECOGNIZED) and so_pin must be its SO PIN
 * (counted like C_Login: CKR_PIN_INCORRECT, CKR_PIN_LOCKED); an
 * uninitialised token takes so_pin checked against the backup's SO record
 * (CKR_PIN_INCORRECT).  Then replaces the store's content in one
 * transaction and reloads the objects.  Afterwards the SO PIN is so_pin
 * (re-wrapped over the backup's OMK), the user PIN the backup's when it
 * comes from the same slot number (its wrapping names the slot; from
 * another slot the SO sets a new one with C_InitPIN), the label and every
 * object the backup's; the serial stays the slot's.  info is filled as far
 * as the backup was read.  CKR_FUNCTION_NOT_SUPPORTED without a store. */
CK_RV token_restore(struct token *t, const CK_UTF8CHAR *so_pin, CK_ULONG so_pin_len,
                    const CK_UTF8CHAR *passphrase, CK_ULONG passphrase_len, const CK_BYTE *in,
                    CK_ULONG in_len, bool force, struct token_restore_info *info) WARN_UNUSED;

#endif
