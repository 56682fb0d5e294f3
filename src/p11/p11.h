/*
 * Shared helpers of the PKCS#11 entry points (the files of src/p11, one per
 * chapter of the spec).  The entry points are thin: check the arguments and
 * the session, call the core, return the most specific CKR.
 */
#ifndef CRATON_P11_H
#define CRATON_P11_H

#include "core/hsm.h"
#include "mech/mech.h"
#include "object/objects.h"
#include "pkcs11/pkcs11.h"

#define P11_EXPORT __attribute__((visibility("default")))

/* The "Craton HSM Admin" interface's function list (vendor.c), listed by
 * C_GetInterfaceList after the PKCS#11 lists. */
struct CK_CRATON_ADMIN_FUNCTION_LIST;
extern struct CK_CRATON_ADMIN_FUNCTION_LIST p11_admin_list;

/* For functions a later layer implements: the initialisation and session
 * checks, then CKR_FUNCTION_NOT_SUPPORTED. */
CK_RV p11_unsupported(CK_SESSION_HANDLE h);

/* clang-format off */
#define P11_UNSUPPORTED(name, params)                               \
    _Pragma("GCC diagnostic push")                                  \
    _Pragma("GCC diagnostic ignored \"-Wunused-parameter\"")       \
    CK_RV name params                                               \
    {                                                               \
        return p11_unsupported(hSession);                           \
    }                                                               \
    _Pragma("GCC diagnostic pop")
/* clang-format on */

/* hsm_enter + hsm_token in one: the core and slot's token, or
 * CKR_CRYPTOKI_NOT_INITIALIZED / CKR_SLOT_ID_INVALID. */
CK_RV p11_token(CK_SLOT_ID slot, struct hsm **hsm, struct token **t);

/* hsm_enter + session_get in one: on CKR_OK the caller owns a session
 * reference (session_put). */
CK_RV p11_session(CK_SESSION_HANDLE h, struct hsm **hsm, struct session **s);

/* One call on a session's objects: the session reference and the
 * application's view (with a copy of the OMK, wiped by p11_call_end). */
struct p11_call {
    struct hsm *h;
    struct session *s;
    struct objects *objs;
    struct objects_view v;
    unsigned char omk[CRYPTO_KEY_LEN];
};

CK_RV p11_call_begin(CK_SESSION_HANDLE hSession, struct p11_call *c);
void p11_call_end(struct p11_call *c);

/* Who may hold a new object with attributes a in the call's session:
 * CKA_TOKEN needs an R/W session, CKA_PRIVATE the user, private and secret
 * keys a login. */
CK_RV p11_may_hold(const struct p11_call *c, const struct attrs *a);

/* Audit records of the entry points (events.c); each is a no-op when the
 * log does not want the event's class (audit_wants: check it first before
 * gathering fields). */
void p11_audit(struct hsm *h, const char *event, enum audit_class cls, CK_SLOT_ID slot,
               CK_SESSION_HANDLE session, CK_RV rv);
/* With the role (AUDIT_NONE: none) and detail (NULL: none): login,
 * logout, PIN and token events; sync waits for the disk. */
void p11_audit_user(struct hsm *h, const char *event, enum audit_class cls, CK_SLOT_ID slot,
                    CK_SESSION_HANDLE session, CK_USER_TYPE user, const char *detail, CK_RV rv,
                    bool sync);
/* What an object event names: class, CKA_ID and CKA_LABEL (truncated). */
struct p11_audit_obj {
    CK_OBJECT_CLASS cls; /* AUDIT_NONE when unknown */
    unsigned char id[AUDIT_ID_MAX];
    size_t id_len;
    unsigned char label[AUDIT_LABEL_MAX];
    size_t label_len;
};
void p11_audit_obj_from_attrs(struct p11_audit_obj *o, const struct attrs *a);
void p11_audit_obj_from_object(struct p11_audit_obj *o, const struct p11_call *c,
                               CK_OBJECT_HANDLE h);
/* An event about object obj (CK_INVALID_HANDLE: none) of c's session, with
 * mechanism mech (AUDIT_NONE: none) and o (NULL: nothing about it). */
void p11_audit_object(const struct p11_call *c, const char *event, enum audit_class cls,
                      CK_OBJECT_HANDLE obj, CK_MECHANISM_TYPE mech, const struct p11_audit_obj *o,
                      CK_RV rv);

/* A key management event (generate, derive, wrap, unwrap, encapsulate,
 * ...) of class CRYPTO about key (CK_INVALID_HANDLE: none), with m's
 * mechanism (m may be NULL) and detail (may be NULL). */
void p11_audit_key(const struct p11_call *c, const char *event, const CK_MECHANISM *m,
                   CK_OBJECT_HANDLE key, const char *detail, CK_RV rv);

/* p11_audit_key about key used, which made the new key *out (read only
 * when rv is CKR_OK): derive, unwrap, encapsulate, decapsulate. */
void p11_audit_new_key(const struct p11_call *c, const char *event, const CK_MECHANISM *m,
                       CK_OBJECT_HANDLE used, const CK_OBJECT_HANDLE *out, CK_RV rv);

/* An operation of kind k on c's session ended with rv: the session's
 * validation flags (C_GetSessionValidationFlags) and the audit record of
 * the key use (key object hkey).  c's session is locked by the caller. */
void p11_op_done(struct p11_call *c, enum session_op k, const struct mech_op *op,
                 CK_OBJECT_HANDLE hkey, CK_RV rv);
/* A refused *Init of kind k with mechanism m and key hkey: its record. */
void p11_op_refused(struct p11_call *c, enum session_op k, const CK_MECHANISM *m,
                    CK_OBJECT_HANDLE hkey, CK_RV rv);

/* Today as YYYYMMDD (UTC), for CKA_START_DATE / CKA_END_DATE. */
long p11_today(void);

/* The operation entry points, shared by the chapters' files.  Each does
 * the session checks, locks the session for the call, and applies the
 * spec's rule on when an operation ends (every return but
 * CKR_BUFFER_TOO_SMALL and a successful size query).
 *  - p11_op_init: *Init of kind k for function fn with key hKey (checked for
 *    usage; CK_INVALID_HANDLE for digests); pMechanism NULL cancels an
 *    active operation of that kind (3.0).
 *  - p11_op_update: absorb (out/outlen NULL) or transform a part.
 *  - p11_op_final / p11_op_oneshot: output convention.
 *  - p11_op_verify / p11_op_verify_final: signature checks. */
CK_RV p11_op_init(CK_SESSION_HANDLE hSession, enum session_op k, mech_fn fn,
                  CK_ATTRIBUTE_TYPE usage, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey);
CK_RV p11_op_update(CK_SESSION_HANDLE hSession, enum session_op k, const CK_BYTE *in,
                    CK_ULONG inlen, CK_BYTE_PTR out, CK_ULONG_PTR outlen, bool transforms);
CK_RV p11_op_final(CK_SESSION_HANDLE hSession, enum session_op k, CK_BYTE_PTR out,
                   CK_ULONG_PTR outlen);
CK_RV p11_op_oneshot(CK_SESSION_HANDLE hSession, enum session_op k, const CK_BYTE *in,
                     CK_ULONG inlen, CK_BYTE_PTR out, CK_ULONG_PTR outlen);
CK_RV p11_op_verify(CK_SESSION_HANDLE hSession, enum session_op k, const CK_BYTE *in,
                    CK_ULONG inlen, const CK_BYTE *sig, CK_ULONG siglen);
CK_RV p11_op_verify_final(CK_SESSION_HANDLE hSession, enum session_op k, const CK_BYTE *sig,
                          CK_ULONG siglen);

/* Shared by the key-making entry points (keymgmt.c, kem.c). */
/* Puts class cls and key type kt into template t (a different value given
 * by the application: CKR_TEMPLATE_INCONSISTENT). */
CK_RV p11_impose(struct attrs *t, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt);
/* A new secret key's type: d's, else the template's, else generic secret. */
CK_KEY_TYPE p11_secret_type(const struct mech_desc *d, const struct attrs *t);
/* A derived secret's length: CKA_VALUE_LEN, the key type's only length, or
 * 0 (the mechanism's natural length). */
CK_RV p11_derived_len(const struct attrs *t, CK_KEY_TYPE kt, size_t *len);
/* Import checks (skipped for generated_pair), then the object store. */
CK_RV p11_add_key(struct p11_call *c, struct attrs *t, CK_SESSION_HANDLE hSession,
                  bool generated_pair, CK_OBJECT_HANDLE *out);
/* Two CK_BBOOL attributes of a visible object (false when absent). */
void p11_object_bools(struct p11_call *c, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t1, bool *v1,
                      CK_ATTRIBUTE_TYPE t2, bool *v2);

/* For a MECH_TWO_KEYS mechanism: resolves the application's
 * CK_CRATON_HYBRID_PARAMS (exact size, else CKR_MECHANISM_PARAM_INVALID)
 * into *classic (usage checked unless 0; CKR_KEY_HANDLE_INVALID...) and
 * sets *inner to the mechanism the family sees (parameter tk).  Other
 * mechanisms: *inner = *m.  The caller drops *classic (key_unref). */
CK_RV p11_two_keys(struct p11_call *c, const struct mech_desc *d, const CK_MECHANISM *m,
                   CK_ATTRIBUTE_TYPE usage, struct mech_two_keys *tk, CK_MECHANISM *inner,
                   struct key **classic);

/* Single-part sign/transform and verify on an operation (no session
 * rules: the caller applies them). */
CK_RV p11_run_oneshot(struct mech_op *op, const CK_BYTE *in, CK_ULONG inlen, CK_BYTE_PTR out,
                      CK_ULONG_PTR outlen);
CK_RV p11_run_verify(struct mech_op *op, const CK_BYTE *in, CK_ULONG inlen, const CK_BYTE *sig,
                     CK_ULONG siglen);

/* The same on a session already locked by the caller (dual-function
 * updates, message APIs).  slot is the operation's slot. */
CK_RV p11_slot_update(struct session_slot *slot, const CK_BYTE *in, CK_ULONG inlen, CK_BYTE_PTR out,
                      CK_ULONG_PTR outlen, bool transforms);

#endif
