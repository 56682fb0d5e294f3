/* Signing and MACing (5.11), verifying (5.13), with and without recovery,
 * and 3.2's verification with the signature given at Init (5.13). */
#include <stdlib.h>
#include <string.h>

#include "p11/p11.h"

/* 5.11 */
CK_RV C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
    return p11_op_init(hSession, SESSION_OP_SIGN, CKF_SIGN, CKA_SIGN, pMechanism, hKey);
}

/* 5.11 */
CK_RV C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
             CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
    return p11_op_oneshot(hSession, SESSION_OP_SIGN, pData, ulDataLen, pSignature, pulSignatureLen);
}

/* 5.11 */
CK_RV C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    return p11_op_update(hSession, SESSION_OP_SIGN, pPart, ulPartLen, NULL, NULL, false);
}

/* 5.11 */
CK_RV C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
    return p11_op_final(hSession, SESSION_OP_SIGN, pSignature, pulSignatureLen);
}

/* 5.12 */
CK_RV C_SignRecoverInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                        CK_OBJECT_HANDLE hKey)
{
    return p11_op_init(hSession, SESSION_OP_SIGN_RECOVER, CKF_SIGN_RECOVER, CKA_SIGN_RECOVER,
                       pMechanism, hKey);
}

/* 5.12 */
CK_RV C_SignRecover(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                    CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
    return p11_op_oneshot(hSession, SESSION_OP_SIGN_RECOVER, pData, ulDataLen, pSignature,
                          pulSignatureLen);
}

/* 5.13 */
CK_RV C_VerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
    return p11_op_init(hSession, SESSION_OP_VERIFY, CKF_VERIFY, CKA_VERIFY, pMechanism, hKey);
}

/* 5.13 */
CK_RV C_Verify(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
               CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
    return p11_op_verify(hSession, SESSION_OP_VERIFY, pData, ulDataLen, pSignature, ulSignatureLen);
}

/* 5.13 */
CK_RV C_VerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    return p11_op_update(hSession, SESSION_OP_VERIFY, pPart, ulPartLen, NULL, NULL, false);
}

/* 5.13 */
CK_RV C_VerifyFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
    return p11_op_verify_final(hSession, SESSION_OP_VERIFY, pSignature, ulSignatureLen);
}

/* 5.13 */
CK_RV C_VerifyRecoverInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                          CK_OBJECT_HANDLE hKey)
{
    return p11_op_init(hSession, SESSION_OP_VERIFY_RECOVER, CKF_VERIFY_RECOVER, CKA_VERIFY_RECOVER,
                       pMechanism, hKey);
}

/* 5.13: pSignature in, the recovered data out. */
CK_RV C_VerifyRecover(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen,
                      CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
    return p11_op_oneshot(hSession, SESSION_OP_VERIFY_RECOVER, pSignature, ulSignatureLen, pData,
                          pulDataLen);
}

/* 5.13 (3.2): the signature comes with Init and is kept in the slot. */
CK_RV C_VerifySignatureInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                            CK_OBJECT_HANDLE hKey, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
    struct p11_call c;
    if (pMechanism != NULL && (pSignature == NULL || ulSignatureLen > MECH_MAX_BUFFER)) {
        CK_RV rv = p11_call_begin(hSession, &c);
        if (rv == CKR_OK)
            p11_call_end(&c);
        return rv != CKR_OK ? rv : CKR_ARGUMENTS_BAD;
    }
    CK_RV rv = p11_op_init(hSession, SESSION_OP_VERIFY_SIGNATURE, CKF_VERIFY, CKA_VERIFY,
                           pMechanism, hKey);
    if (rv != CKR_OK || pMechanism == NULL)
        return rv;
    rv = p11_call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    session_lock(c.s);
    struct session_slot *slot = session_op_slot(c.s, SESSION_OP_VERIFY_SIGNATURE);
    slot->blob = malloc(ulSignatureLen > 0 ? ulSignatureLen : 1);
    if (slot->blob == NULL) {
        session_slot_clear(slot);
        rv = CKR_HOST_MEMORY;
    } else {
        memcpy(slot->blob, pSignature, ulSignatureLen);
        slot->blob_len = ulSignatureLen;
    }
    session_unlock(c.s);
    p11_call_end(&c);
    return rv;
}

/* Checks the signature kept by C_VerifySignatureInit: over data
 * (single-part) or over what C_VerifySignatureUpdate gave. */
static CK_RV verify_signature(CK_SESSION_HANDLE hSession, const CK_BYTE *data, CK_ULONG len,
                              bool single)
{
    struct p11_call c;
    CK_RV rv = p11_call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    session_lock(c.s);
    struct session_slot *slot = session_op_slot(c.s, SESSION_OP_VERIFY_SIGNATURE);
    struct mech_op *op = slot->op;
    if (op == NULL) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
    } else if (single && op->updated) {
        rv = CKR_OPERATION_ACTIVE;
    } else if (single && data == NULL && len > 0) {
        rv = CKR_ARGUMENTS_BAD;
        session_slot_clear(slot);
    } else {
        unsigned char *sig = slot->blob; /* freed here, not by the slot */
        CK_ULONG siglen = slot->blob_len;
        slot->blob = NULL;
        slot->blob_len = 0;
        if (single && op->ops->verify_oneshot != NULL) {
            rv = op->ops->verify_oneshot(op, data, len, sig, siglen);
        } else if (op->ops->update != NULL && op->ops->verify_final != NULL) {
            rv = single ? op->ops->update(op, data, len, NULL, NULL) : CKR_OK;
            if (rv == CKR_OK)
                rv = op->ops->verify_final(op, sig, siglen);
        } else {
            rv = CKR_FUNCTION_NOT_SUPPORTED;
        }
        free(sig);
        p11_op_done(&c, SESSION_OP_VERIFY_SIGNATURE, op, slot->key_handle, rv);
        session_slot_clear(slot);
    }
    session_unlock(c.s);
    p11_call_end(&c);
    return rv;
}

/* 5.13 (3.2) */
CK_RV C_VerifySignature(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen)
{
    return verify_signature(hSession, pData, ulDataLen, true);
}

/* 5.13 (3.2): streaming mechanisms only; a single-part one (CKM_ECDSA,
 * CKM_RSA_PKCS, ...) needs C_VerifySignature. */
CK_RV C_VerifySignatureUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    struct p11_call c;
    CK_RV rv = p11_call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    session_lock(c.s);
    struct session_slot *slot = session_op_slot(c.s, SESSION_OP_VERIFY_SIGNATURE);
    if (slot->op == NULL) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
    } else if (slot->op->ops->update == NULL) {
        rv = CKR_FUNCTION_NOT_SUPPORTED; /* single-part mechanism: use C_VerifySignature */
        session_slot_clear(slot);
    } else {
        rv = p11_slot_update(slot, pPart, ulPartLen, NULL, NULL, false);
    }
    session_unlock(c.s);
    p11_call_end(&c);
    return rv;
}

/* 5.13 (3.2) */
CK_RV C_VerifySignatureFinal(CK_SESSION_HANDLE hSession)
{
    return verify_signature(hSession, NULL, 0, false);
}
