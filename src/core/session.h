/*
 * Sessions: a handle table (hash map under a reader/writer lock, lookups in
 * parallel) of reference-counted sessions, each with its own lock for the
 * operation state later layers keep in it.
 */
#ifndef CRATON_CORE_SESSION_H
#define CRATON_CORE_SESSION_H

#include <stdbool.h>

#include "common/util.h"
#include "core/token.h"
#include "pkcs11/pkcs11.h"

struct session;
struct session_table;

/* Creates an empty table.  Returns CKR_OK or CKR_HOST_MEMORY. */
CK_RV session_table_new(struct session_table **out) WARN_UNUSED;

/* Closes every session and frees the table (NULL-safe). */
void session_table_free(struct session_table *tab);

/* Opens a session on token t of slot (C_OpenSession rules, spec 5.7). */
CK_RV session_open(struct session_table *tab, struct token *t, CK_SLOT_ID slot, CK_FLAGS flags,
                   CK_SESSION_HANDLE *out) WARN_UNUSED;

/* Looks h up and takes a reference: CKR_SESSION_HANDLE_INVALID when unknown.
 * Release with session_put. */
CK_RV session_get(struct session_table *tab, CK_SESSION_HANDLE h, struct session **out) WARN_UNUSED;
void session_put(struct session *s);

/* C_CloseSession / C_CloseAllSessions. */
CK_RV session_close(struct session_table *tab, CK_SESSION_HANDLE h) WARN_UNUSED;
void session_close_all(struct session_table *tab, CK_SLOT_ID slot);

struct token *session_token(const struct session *s);
CK_SLOT_ID session_slot(const struct session *s);
bool session_is_rw(const struct session *s);

/* CKS_* state from the R/W flag and the token's login state. */
CK_STATE session_state(const struct session *s);
void session_info(const struct session *s, CK_SESSION_INFO *info);
CK_SESSION_HANDLE session_handle(const struct session *s);

/* The validation flags (PKCS#11 3.2 C_GetSessionValidationFlags,
 * CKS_LAST_VALIDATION_OK) of the last operation that completed in the
 * session (mech_op_validation; 0 before any).  Atomic: no lock needed, so
 * the setter may run under session_lock. */
void session_set_validation(struct session *s, CK_FLAGS flags);
CK_FLAGS session_validation(const struct session *s);

/* The session's search (C_FindObjects*).  find_begin takes ownership of
 * handles (malloc'd; freed by find_end or when the session goes) or returns
 * CKR_OPERATION_ACTIVE; find_next / find_end return
 * CKR_OPERATION_NOT_INITIALIZED without an active search. */
bool session_finding(struct session *s);
CK_RV session_find_begin(struct session *s, CK_OBJECT_HANDLE *handles, size_t n) WARN_UNUSED;
CK_RV session_find_next(struct session *s, CK_OBJECT_HANDLE *out, CK_ULONG max,
                        CK_ULONG *count) WARN_UNUSED;
CK_RV session_find_end(struct session *s) WARN_UNUSED;

/* The session's cryptographic operations, one slot per kind (the spec lets
 * one of each run at a time; dual-function calls use two). */
enum session_op {
    SESSION_OP_ENCRYPT,
    SESSION_OP_DECRYPT,
    SESSION_OP_DIGEST,
    SESSION_OP_SIGN,
    SESSION_OP_VERIFY,
    SESSION_OP_SIGN_RECOVER,
    SESSION_OP_VERIFY_RECOVER,
    SESSION_OP_VERIFY_SIGNATURE, /* 3.2 C_VerifySignature*: blob = the signature */
    SESSION_OP_MSG_ENCRYPT,
    SESSION_OP_MSG_DECRYPT,
    SESSION_OP_MSG_SIGN, /* mech = the Init mechanism; op = the current message's */
    SESSION_OP_MSG_VERIFY,
    SESSION_OP_COUNT
};

struct mech_op;
struct key;

/* One operation slot.  op NULL: no operation of this kind. */
struct session_slot {
    struct mech_op *op;
    bool active;       /* message APIs: Init done (op is per message) */
    CK_MECHANISM mech; /* message APIs: the Init mechanism, parameter copied */
    struct key *key;   /* message APIs: the Init key (a reference) */
    bool needs_login;  /* CKA_ALWAYS_AUTHENTICATE key: C_Login(CKU_CONTEXT_SPECIFIC) first */
    CK_OBJECT_HANDLE key_handle; /* the Init key's object (for the audit log) */
    unsigned char *blob;         /* C_VerifySignatureInit: the signature; a single-part
                                    mechanism's Update input (wiped when freed) */
    CK_ULONG blob_len;
    size_t blob_cap; /* bytes allocated at blob */
};

/* Serialises the calls on one session (sessions run in parallel): held for
 * the whole of an operation call. */
void session_lock(struct session *s);
void session_unlock(struct session *s);

/* The slot of kind k; caller holds session_lock. */
struct session_slot *session_op_slot(struct session *s, enum session_op k);

/* Ends what slot holds (frees the operation, the copies, the key
 * reference); caller holds session_lock. */
void session_slot_clear(struct session_slot *slot);

/* C_SessionCancel: ends the operations whose function flags (CKF_ENCRYPT,
 * CKF_DECRYPT, CKF_DIGEST, CKF_SIGN, CKF_VERIFY, CKF_SIGN_RECOVER,
 * CKF_VERIFY_RECOVER, CKF_MESSAGE_*, CKF_FIND_OBJECTS) are in flags. */
void session_cancel(struct session *s, CK_FLAGS flags);

#endif
