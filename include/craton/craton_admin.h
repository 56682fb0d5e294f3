/*
 * Craton HSM's administrative vendor interface: what PKCS#11 cannot
 * express, for craton-admin and other operator tools.  Reached through
 * C_GetInterface("Craton HSM Admin", NULL, &itf, 0): itf->pFunctionList
 * points to a CK_CRATON_ADMIN_FUNCTION_LIST.  Include after pkcs11.h.
 *
 * Every function validates its arguments and returns a CKR code like a
 * PKCS#11 function.  Unless said otherwise, the module must be initialised
 * (C_Initialize) and not in its error state.
 */
#ifndef CRATON_CRATON_ADMIN_H
#define CRATON_CRATON_ADMIN_H

#include "pkcs11/pkcs11.h"

#define CRATON_ADMIN_INTERFACE_NAME "Craton HSM Admin"
#define CRATON_ADMIN_VERSION_MAJOR 1
#define CRATON_ADMIN_VERSION_MINOR 0

#define CRATON_PATH_MAX   4096
#define CRATON_REASON_MAX 512

/* One power-on self-test's result. */
typedef struct CK_CRATON_SELFTEST_RESULT {
    char name[32];                  /* "integrity", "SHA-256", ... */
    char source[96];                /* where the vector comes from */
    CK_BBOOL passed;
    CK_ULONG micros;                /* time it took */
    char why[CRATON_REASON_MAX];    /* "" when passed */
} CK_CRATON_SELFTEST_RESULT;

#define CRATON_SELFTEST_COUNT 17

/* The module's state, for `craton-admin status`. */
typedef struct CK_CRATON_STATUS {
    CK_BBOOL initialized;
    CK_BBOOL error_state;                /* every call returns CKR_GENERAL_ERROR */
    char error_reason[CRATON_REASON_MAX];
    char config_path[CRATON_PATH_MAX];   /* "" when the defaults are in use */
    char storage_path[CRATON_PATH_MAX];
    char audit_path[CRATON_PATH_MAX];    /* "" when the audit log is off */
    char audit_level[16];                /* "all", ..., "none" */
    CK_BBOOL audit_keyed;                /* [audit] hmac_key_file is set */
    CK_BBOOL fips_approved_only;
    CK_BBOOL persist_objects;
    CK_ULONG slot_count;
    CK_ULONG sessions;                   /* open sessions, all slots */
    CK_ULONG post_micros;                /* the last power-on self-tests */
} CK_CRATON_STATUS;

/* The result of verifying an audit log (and its rotated predecessors). */
typedef struct CK_CRATON_AUDIT_VERIFY {
    CK_ULONG records;                    /* lines checked */
    CK_ULONG first_seq;                  /* seq of the oldest line */
    CK_ULONG bad_line;                   /* 0 when intact; 1-based, in bad_file */
    char bad_file[CRATON_PATH_MAX];
    char why[CRATON_REASON_MAX];
} CK_CRATON_AUDIT_VERIFY;

/* CRATON_RestoreToken flags. */
#define CRATON_RESTORE_FORCE 0x1UL /* accept a backup of a different token */

typedef struct CK_CRATON_ADMIN_FUNCTION_LIST {
    CK_VERSION version; /* CRATON_ADMIN_VERSION_MAJOR.MINOR */

    /* Fills *status.  Works before C_Initialize (initialized false, the
     * rest empty) and in the error state. */
    CK_RV (*CRATON_GetStatus)(CK_CRATON_STATUS *status);

    /* Runs the 17 power-on self-tests again now and reports each
     * (results[CRATON_SELFTEST_COUNT]; output convention of PKCS#11: results
     * NULL sets *count to 17, a smaller *count gives CKR_BUFFER_TOO_SMALL).
     * CKR_OK when all passed; a failure returns CKR_GENERAL_ERROR (results
     * filled) and puts the module in its error state.  Audited
     * ("self_test"). */
    CK_RV (*CRATON_SelfTest)(CK_CRATON_SELFTEST_RESULT *results, CK_ULONG_PTR count);

    /* Loads and validates the configuration file path (NULL: the one
     * C_Initialize would use) without initialising anything, and writes the
     * effective values as TOML into out (output convention of PKCS#11: out
     * NULL gives the length; *outlen counts the terminating NUL).  An
     * invalid or missing file gives CKR_ARGUMENTS_BAD and the message
     * ("file:line: key: what is allowed") in err[errlen], cut to fit (err
     * may be NULL when errlen is 0).  Works without C_Initialize. */
    CK_RV (*CRATON_ConfigCheck)(const char *path, char *out, CK_ULONG_PTR outlen, char *err,
                                CK_ULONG errlen);

    /* Verifies the audit log path (NULL: the configured one) with the HMAC
     * key in key_file (NULL: the configured one, if any; "" forces the
     * plain SHA-256 chain).  CKR_OK when intact, CKR_SIGNATURE_INVALID when
     * tampered (*result names the first bad line), CKR_GENERAL_ERROR when
     * a file or the key cannot be read (result->why).  Works without
     * C_Initialize (the configuration is then loaded for the path and key,
     * and a private OpenSSL context made for the call); when initialised,
     * the queued records are flushed first. */
    CK_RV (*CRATON_AuditVerify)(const char *path, const char *key_file,
                                CK_CRATON_AUDIT_VERIFY *result);

    /* Destroys slot's token store on disk (every object, both PINs) and
     * leaves the slot uninitialised: the only remedy for a locked SO PIN.
     * The authority is access to storage_path (this process opened it).
     * CKR_SESSION_EXISTS while a session is open on the slot,
     * CKR_SLOT_ID_INVALID; audited ("token_wipe").  With persist_objects =
     * false only the in-memory token is reset. */
    CK_RV (*CRATON_WipeToken)(CK_SLOT_ID slot);

    /* A whole-token backup: the token's identity, its OMK and every record,
     * sealed (AES-256-GCM) under a key derived with PBKDF2-HMAC-SHA256
     * (>= 600,000 iterations) from passphrase (8 to 1024 bytes, else
     * CKR_PIN_LEN_RANGE).  hSession must be an SO session of the token
     * (CKR_USER_NOT_LOGGED_IN).  Output convention of PKCS#11 for out (a
     * size query derives nothing).  CKR_FUNCTION_NOT_SUPPORTED with
     * persist_objects = false.  Format: docs/security-model.md, "Backups". */
    CK_RV (*CRATON_BackupToken)(CK_SESSION_HANDLE hSession, const CK_UTF8CHAR *passphrase,
                                CK_ULONG passphrase_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len);

    /* Restores a backup into slot (no session may be open on it).  An
     * initialised slot needs its current SO PIN (so_pin); an uninitialised
     * one takes the backup's own SO PIN, which so_pin must match.  A backup
     * of a different token (serial number) is refused with
     * CKR_TOKEN_NOT_RECOGNIZED unless flags has CRATON_RESTORE_FORCE.  A
     * wrong passphrase or a corrupted backup gives CKR_ENCRYPTED_DATA_INVALID
     * and changes nothing; a wrong so_pin gives CKR_PIN_INCORRECT (counted
     * like a failed C_Login on an initialised slot).  Everything is replaced
     * in one transaction.  Afterwards: the backup's label, OMK and objects;
     * the SO PIN is so_pin; the user PIN is the backup's when the backup
     * comes from the same slot number, else unset (the SO sets one with
     * C_InitPIN; the objects are kept); the serial stays the slot's.
     * Audited ("token_restore"). */
    CK_RV (*CRATON_RestoreToken)(CK_SLOT_ID slot, const CK_UTF8CHAR *so_pin, CK_ULONG so_pin_len,
                                 const CK_UTF8CHAR *passphrase, CK_ULONG passphrase_len,
                                 const CK_BYTE *in, CK_ULONG in_len, CK_FLAGS flags);
} CK_CRATON_ADMIN_FUNCTION_LIST;

#endif
