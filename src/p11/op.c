/* What the chapters' entry points share: the call context on a session and
 * the life cycle of a cryptographic operation (Init, Update, Final,
 * single-part), with the spec's rules on when an operation ends (5.2). */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "craton/pkcs11_craton.h"
#include "p11/p11.h"

CK_RV p11_call_begin(CK_SESSION_HANDLE hSession, struct p11_call *c)
{
    CK_RV rv = p11_session(hSession, &c->h, &c->s);
    if (rv != CKR_OK)
        return rv;
    c->objs = token_objects(session_token(c->s));
    token_view(session_token(c->s), &c->v, c->omk);
    return CKR_OK;
}

void p11_call_end(struct p11_call *c)
{
    crypto_wipe(c->omk, sizeof(c->omk));
    session_put(c->s);
}

CK_RV p11_may_hold(const struct p11_call *c, const struct attrs *a)
{
    CK_ULONG cls = 0;
    (void)attrs_get_ulong(a, CKA_CLASS, &cls);
    if (attrs_bool(a, CKA_TOKEN, false) && !session_is_rw(c->s))
        return CKR_SESSION_READ_ONLY;
    if (attrs_bool(a, CKA_PRIVATE, false) && !c->v.user)
        return CKR_USER_NOT_LOGGED_IN;
    if ((cls == CKO_PRIVATE_KEY || cls == CKO_SECRET_KEY) && c->v.omk == NULL)
        return CKR_USER_NOT_LOGGED_IN;
    return CKR_OK;
}

/* The date changes once a day: gmtime_r (which takes glibc's time zone
 * lock) runs only then.  Packed as day number << 32 | YYYYMMDD. */
static atomic_uint_fast64_t g_today;

long p11_today(void)
{
    time_t now = time(NULL);
    uint64_t day = (uint64_t)(now / 86400);
    uint64_t cached = atomic_load_explicit(&g_today, memory_order_relaxed);
    if (cached >> 32 == day && cached != 0)
        return (long)(cached & 0xffffffffu);
    struct tm tm;
    if (gmtime_r(&now, &tm) == NULL)
        return 0;
    long v = (long)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
    atomic_store_explicit(&g_today, day << 32 | (uint64_t)v, memory_order_relaxed);
    return v;
}

CK_RV p11_two_keys(struct p11_call *c, const struct mech_desc *d, const CK_MECHANISM *m,
                   CK_ATTRIBUTE_TYPE usage, struct mech_two_keys *tk, CK_MECHANISM *inner,
                   struct key **classic)
{
    *classic = NULL;
    *inner = *m;
    if (!(d->policy & MECH_TWO_KEYS))
        return CKR_OK;
    const CK_CRATON_HYBRID_PARAMS *hp = NULL;
    CK_RV rv = mech_param(m, sizeof(*hp), (const void **)&hp);
    if (rv != CKR_OK)
        return rv;
    rv = objects_key(c->objs, hp->hClassicKey, &c->v, usage, CK_UNAVAILABLE_INFORMATION,
                     p11_today(), classic);
    if (rv != CKR_OK)
        return rv;
    tk->classic = *classic;
    inner->pParameter = tk;
    inner->ulParameterLen = sizeof(*tk);
    return CKR_OK;
}

/* An operation of the session ends with rv: when it ran to completion
 * (CKR_OK, or a verification that found the signature invalid) its
 * validation flags become the session's (C_GetSessionValidationFlags). */
static void record_validation(struct session *s, const struct mech_op *op, CK_RV rv)
{
    if (rv == CKR_OK || rv == CKR_SIGNATURE_INVALID)
        session_set_validation(s, mech_op_validation(op));
}

/* The audit event of an operation kind (NULL: not a key use). */
static const char *const op_events[SESSION_OP_COUNT] = {
    [SESSION_OP_ENCRYPT] = "encrypt",
    [SESSION_OP_DECRYPT] = "decrypt",
    [SESSION_OP_DIGEST] = NULL,
    [SESSION_OP_SIGN] = "sign",
    [SESSION_OP_VERIFY] = "verify",
    [SESSION_OP_SIGN_RECOVER] = "sign_recover",
    [SESSION_OP_VERIFY_RECOVER] = "verify_recover",
    [SESSION_OP_VERIFY_SIGNATURE] = "verify",
    [SESSION_OP_MSG_ENCRYPT] = "encrypt_message",
    [SESSION_OP_MSG_DECRYPT] = "decrypt_message",
    [SESSION_OP_MSG_SIGN] = "sign_message",
    [SESSION_OP_MSG_VERIFY] = "verify_message",
};

/* The record of one use of key (object hkey) by an operation of kind k
 * with mechanism type that ended with rv. */
static void audit_use(struct p11_call *c, enum session_op k, CK_MECHANISM_TYPE type,
                      const struct key *key, CK_OBJECT_HANDLE hkey, CK_RV rv)
{
    const char *event = op_events[k];
    if (event == NULL || key == NULL || !audit_wants(c->h->audit, AUDIT_CRYPTO))
        return;
    struct audit_event e;
    audit_event_init(&e, event, AUDIT_CRYPTO);
    e.slot = session_slot(c->s);
    e.session = session_handle(c->s);
    e.mechanism = type;
    e.object = hkey != CK_INVALID_HANDLE ? hkey : AUDIT_NONE;
    e.obj_class = key->cls;
    e.key_id = key->id;
    e.key_id_len = key->id_len;
    e.label = key->label;
    e.label_len = key->label_len;
    e.rv = rv;
    audit_log(c->h->audit, &e);
}

void p11_op_done(struct p11_call *c, enum session_op k, const struct mech_op *op,
                 CK_OBJECT_HANDLE hkey, CK_RV rv)
{
    record_validation(c->s, op, rv);
    audit_use(c, k, op->desc->type, op->key, hkey, rv);
}

void p11_op_refused(struct p11_call *c, enum session_op k, const CK_MECHANISM *m,
                    CK_OBJECT_HANDLE hkey, CK_RV rv)
{
    const char *event = op_events[k];
    if (event == NULL || m == NULL || rv == CKR_OK || !audit_wants(c->h->audit, AUDIT_CRYPTO))
        return;
    struct p11_audit_obj ao;
    p11_audit_obj_from_object(&ao, c, hkey);
    p11_audit_object(c, event, AUDIT_CRYPTO, hkey, m->mechanism, &ao, rv);
}

/* Does this return end the operation (5.2)? */
static bool ends(CK_RV rv, const CK_BYTE *out)
{
    return !(rv == CKR_BUFFER_TOO_SMALL || (rv == CKR_OK && out == NULL));
}

/* A single-part-only mechanism used with Update: its input is collected
 * (up to MECH_MAX_BUFFER) and processed by Final. */
static bool buffered(const struct mech_op *op)
{
    return op->ops->update == NULL;
}

static CK_RV buffer_append(struct session_slot *slot, const CK_BYTE *in, CK_ULONG inlen)
{
    if (inlen == 0)
        return CKR_OK;
    if (slot->blob_len + inlen > MECH_MAX_BUFFER || slot->blob_len + inlen < inlen)
        return CKR_DATA_LEN_RANGE;
    /* The data may be plaintext: a grown buffer is a new one and the old
     * copy is wiped (never realloc'd away unwiped); doubling keeps the
     * copies linear. */
    if (slot->blob_len + inlen > slot->blob_cap) {
        size_t cap = slot->blob_cap > 0 ? slot->blob_cap : 256;
        while (cap < slot->blob_len + inlen)
            cap *= 2;
        if (cap > MECH_MAX_BUFFER)
            cap = MECH_MAX_BUFFER;
        unsigned char *p = malloc(cap);
        if (p == NULL)
            return CKR_HOST_MEMORY;
        if (slot->blob != NULL) {
            memcpy(p, slot->blob, slot->blob_len);
            crypto_wipe(slot->blob, slot->blob_len);
            free(slot->blob);
        }
        slot->blob = p;
        slot->blob_cap = cap;
    }
    memcpy(slot->blob + slot->blob_len, in, inlen);
    slot->blob_len += inlen;
    return CKR_OK;
}

CK_RV p11_op_init(CK_SESSION_HANDLE hSession, enum session_op k, mech_fn fn,
                  CK_ATTRIBUTE_TYPE usage, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
    struct p11_call c;
    struct key *key = NULL;
    const struct mech_desc *d = NULL;
    CK_RV rv = p11_call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    session_lock(c.s);
    struct session_slot *slot = session_op_slot(c.s, k);
    if (pMechanism == NULL) { /* 3.0: cancels the active operation */
        session_slot_clear(slot);
        goto out;
    }
    if (slot->op != NULL || slot->active) {
        rv = CKR_OPERATION_ACTIVE;
        goto out;
    }
    rv = mech_lookup(&c.h->cfg, pMechanism, fn, &d);
    if (rv == CKR_OK && k != SESSION_OP_DIGEST)
        rv = objects_key(c.objs, hKey, &c.v, usage, pMechanism->mechanism, p11_today(), &key);
    struct mech_two_keys tk;
    CK_MECHANISM inner;
    struct key *classic = NULL;
    if (rv == CKR_OK)
        rv = p11_two_keys(&c, d, pMechanism, usage, &tk, &inner, &classic);
    if (rv == CKR_OK)
        rv = mech_op_new(d, &inner, fn, key, c.h->crypto, &c.h->cfg, &slot->op);
    key_unref(classic);
    /* 4.9: a key that must be re-authenticated for each use. */
    if (rv == CKR_OK && key != NULL && key->always_authenticate && key->cls == CKO_PRIVATE_KEY)
        slot->needs_login = true;
    if (rv == CKR_OK)
        slot->key_handle = hKey;
    else if (rv != CKR_OPERATION_ACTIVE)
        p11_op_refused(&c, k, pMechanism, hKey, rv);
out:
    key_unref(key);
    session_unlock(c.s);
    p11_call_end(&c);
    return rv;
}

CK_RV p11_slot_update(struct session_slot *slot, const CK_BYTE *in, CK_ULONG inlen, CK_BYTE_PTR out,
                      CK_ULONG_PTR outlen, bool transforms)
{
    struct mech_op *op = slot->op;
    CK_RV rv;
    if ((in == NULL && inlen > 0) || (transforms && outlen == NULL)) {
        rv = CKR_ARGUMENTS_BAD;
    } else if (buffered(op)) {
        /* Nothing comes out before Final. */
        if (transforms && out == NULL) {
            *outlen = 0;
            return CKR_OK;
        }
        rv = buffer_append(slot, in, inlen);
        if (rv == CKR_OK && transforms)
            *outlen = 0;
    } else {
        rv = op->ops->update(op, in, inlen, transforms ? out : NULL, transforms ? outlen : NULL);
        if (!transforms && rv == CKR_BUFFER_TOO_SMALL)
            rv = CKR_GENERAL_ERROR; /* absorbing writes nothing: a family bug */
    }
    if (rv == CKR_OK && (!transforms || out != NULL))
        op->updated = true;
    if (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL) /* an error ends the operation */
        session_slot_clear(slot);
    return rv;
}

/* Looks up the session's operation of kind k and locks the session; on
 * CKR_OK the caller ends the call with op_end.  An operation under way
 * needs no object view (its key is its own reference): only h and s of c
 * are set. */
static CK_RV op_begin(CK_SESSION_HANDLE hSession, enum session_op k, struct p11_call *c,
                      struct session_slot **slot)
{
    CK_RV rv = p11_session(hSession, &c->h, &c->s);
    if (rv != CKR_OK)
        return rv;
    session_lock(c->s);
    *slot = session_op_slot(c->s, k);
    rv = CKR_OK;
    if ((*slot)->op == NULL)
        rv = CKR_OPERATION_NOT_INITIALIZED;
    else if ((*slot)->needs_login)
        rv = CKR_USER_NOT_LOGGED_IN; /* the operation waits for the context login */
    if (rv != CKR_OK) {
        session_unlock(c->s);
        session_put(c->s);
    }
    return rv;
}

static void op_end(struct p11_call *c)
{
    session_unlock(c->s);
    session_put(c->s);
}

CK_RV p11_op_update(CK_SESSION_HANDLE hSession, enum session_op k, const CK_BYTE *in,
                    CK_ULONG inlen, CK_BYTE_PTR out, CK_ULONG_PTR outlen, bool transforms)
{
    struct p11_call c;
    struct session_slot *slot;
    CK_RV rv = op_begin(hSession, k, &c, &slot);
    if (rv != CKR_OK)
        return rv;
    /* An error ends (and frees) the operation: what its record needs is
     * taken first. */
    struct key *key = NULL;
    CK_MECHANISM_TYPE type = slot->op->desc->type;
    CK_OBJECT_HANDLE hkey = slot->key_handle;
    if (op_events[k] != NULL && audit_wants(c.h->audit, AUDIT_CRYPTO))
        key = slot->op->key != NULL ? key_ref(slot->op->key) : NULL;
    rv = p11_slot_update(slot, in, inlen, out, outlen, transforms);
    if (key != NULL && rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL)
        audit_use(&c, k, type, key, hkey, rv);
    key_unref(key);
    op_end(&c);
    return rv;
}

/* Single-part on op: the family's oneshot, or (absorbing families) update
 * then final after the size is known. */
CK_RV p11_run_oneshot(struct mech_op *op, const CK_BYTE *in, CK_ULONG inlen, CK_BYTE_PTR out,
                      CK_ULONG_PTR outlen)
{
    if (op->ops->oneshot != NULL)
        return op->ops->oneshot(op, in, inlen, out, outlen);
    if (op->ops->final == NULL)
        return CKR_FUNCTION_NOT_SUPPORTED;
    CK_ULONG need = 0;
    CK_RV rv = op->ops->final(op, NULL, &need);
    if (rv != CKR_OK)
        return rv;
    if (out == NULL || *outlen < need) {
        *outlen = need;
        return out == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
    }
    rv = op->ops->update(op, in, inlen, NULL, NULL);
    if (rv == CKR_OK)
        rv = op->ops->final(op, out, outlen);
    return rv;
}

CK_RV p11_op_final(CK_SESSION_HANDLE hSession, enum session_op k, CK_BYTE_PTR out,
                   CK_ULONG_PTR outlen)
{
    struct p11_call c;
    struct session_slot *slot;
    CK_RV rv = op_begin(hSession, k, &c, &slot);
    if (rv != CKR_OK)
        return rv;
    struct mech_op *op = slot->op;
    if (outlen == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else if (buffered(op))
        rv = op->ops->oneshot != NULL
                 ? op->ops->oneshot(op, slot->blob, slot->blob_len, out, outlen)
                 : CKR_FUNCTION_NOT_SUPPORTED;
    else if (op->ops->final == NULL)
        rv = CKR_FUNCTION_NOT_SUPPORTED;
    else
        rv = op->ops->final(op, out, outlen);
    if (ends(rv, out)) {
        p11_op_done(&c, k, op, slot->key_handle, rv);
        session_slot_clear(slot);
    }
    op_end(&c);
    return rv;
}

CK_RV p11_op_oneshot(CK_SESSION_HANDLE hSession, enum session_op k, const CK_BYTE *in,
                     CK_ULONG inlen, CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
    struct p11_call c;
    struct session_slot *slot;
    CK_RV rv = op_begin(hSession, k, &c, &slot);
    if (rv != CKR_OK)
        return rv;
    struct mech_op *op = slot->op;
    if (op->updated) {
        rv = CKR_OPERATION_ACTIVE; /* a multi-part operation is under way */
        op_end(&c);
        return rv;
    }
    if (outlen == NULL || (in == NULL && inlen > 0))
        rv = CKR_ARGUMENTS_BAD;
    else
        rv = p11_run_oneshot(op, in, inlen, out, outlen);
    if (ends(rv, out)) {
        p11_op_done(&c, k, op, slot->key_handle, rv);
        session_slot_clear(slot);
    }
    op_end(&c);
    return rv;
}

CK_RV p11_run_verify(struct mech_op *op, const CK_BYTE *in, CK_ULONG inlen, const CK_BYTE *sig,
                     CK_ULONG siglen)
{
    CK_RV rv;
    if (op->ops->verify_oneshot != NULL)
        return op->ops->verify_oneshot(op, in, inlen, sig, siglen);
    if (op->ops->update == NULL || op->ops->verify_final == NULL)
        return CKR_FUNCTION_NOT_SUPPORTED;
    rv = op->ops->update(op, in, inlen, NULL, NULL);
    return rv == CKR_OK ? op->ops->verify_final(op, sig, siglen) : rv;
}

CK_RV p11_op_verify(CK_SESSION_HANDLE hSession, enum session_op k, const CK_BYTE *in,
                    CK_ULONG inlen, const CK_BYTE *sig, CK_ULONG siglen)
{
    struct p11_call c;
    struct session_slot *slot;
    CK_RV rv = op_begin(hSession, k, &c, &slot);
    if (rv != CKR_OK)
        return rv;
    struct mech_op *op = slot->op;
    if (op->updated) {
        rv = CKR_OPERATION_ACTIVE;
        op_end(&c);
        return rv;
    }
    if ((in == NULL && inlen > 0) || (sig == NULL && siglen > 0))
        rv = CKR_ARGUMENTS_BAD;
    else
        rv = p11_run_verify(op, in, inlen, sig, siglen);
    p11_op_done(&c, k, op, slot->key_handle, rv);
    session_slot_clear(slot); /* C_Verify always ends the operation */
    op_end(&c);
    return rv;
}

CK_RV p11_op_verify_final(CK_SESSION_HANDLE hSession, enum session_op k, const CK_BYTE *sig,
                          CK_ULONG siglen)
{
    struct p11_call c;
    struct session_slot *slot;
    CK_RV rv = op_begin(hSession, k, &c, &slot);
    if (rv != CKR_OK)
        return rv;
    struct mech_op *op = slot->op;
    if (sig == NULL && siglen > 0)
        rv = CKR_ARGUMENTS_BAD;
    else if (buffered(op))
        rv = op->ops->verify_oneshot != NULL
                 ? op->ops->verify_oneshot(op, slot->blob, slot->blob_len, sig, siglen)
                 : CKR_FUNCTION_NOT_SUPPORTED;
    else if (op->ops->verify_final == NULL)
        rv = CKR_FUNCTION_NOT_SUPPORTED;
    else
        rv = op->ops->verify_final(op, sig, siglen);
    p11_op_done(&c, k, op, slot->key_handle, rv);
    session_slot_clear(slot);
    op_end(&c);
    return rv;
}
