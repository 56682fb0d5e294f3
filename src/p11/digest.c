/* Message digesting (section 5.10) and the digest operation's saved state
 * (5.6: C_GetOperationState / C_SetOperationState live in session.c). */
#include "p11/p11.h"

/* 5.10 */
CK_RV C_DigestInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism)
{
    return p11_op_init(hSession, SESSION_OP_DIGEST, CKF_DIGEST, 0, pMechanism, CK_INVALID_HANDLE);
}

/* 5.10 */
CK_RV C_Digest(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
               CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
    return p11_op_oneshot(hSession, SESSION_OP_DIGEST, pData, ulDataLen, pDigest, pulDigestLen);
}

/* 5.10 */
CK_RV C_DigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    return p11_op_update(hSession, SESSION_OP_DIGEST, pPart, ulPartLen, NULL, NULL, false);
}

/* 5.10: the value of a secret key is digested (never an asymmetric key:
 * CKR_KEY_INDIGESTIBLE). */
CK_RV C_DigestKey(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hKey)
{
    struct p11_call c;
    struct key *k = NULL;
    CK_RV rv = p11_call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    session_lock(c.s);
    struct session_slot *slot = session_op_slot(c.s, SESSION_OP_DIGEST);
    if (slot->op == NULL) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
        goto out;
    }
    rv = objects_key(c.objs, hKey, &c.v, 0, CK_UNAVAILABLE_INFORMATION, p11_today(), &k);
    if (rv == CKR_OK && k->cls != CKO_SECRET_KEY)
        rv = CKR_KEY_INDIGESTIBLE;
    if (rv == CKR_OK)
        rv = p11_slot_update(slot, k->secret, (CK_ULONG)k->secret_len, NULL, NULL, false);
    else
        session_slot_clear(slot);
out:
    key_unref(k);
    session_unlock(c.s);
    p11_call_end(&c);
    return rv;
}

/* 5.10 */
CK_RV C_DigestFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
    return p11_op_final(hSession, SESSION_OP_DIGEST, pDigest, pulDigestLen);
}
