/* Encryption, decryption (sections 5.8, 5.9) and the dual-function updates
 * (5.14).  The mechanisms are src/mech's; this file checks and routes. */
#include "p11/p11.h"

/* 5.8 */
CK_RV C_EncryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
    return p11_op_init(hSession, SESSION_OP_ENCRYPT, CKF_ENCRYPT, CKA_ENCRYPT, pMechanism, hKey);
}

/* 5.8 */
CK_RV C_Encrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                CK_BYTE_PTR pEncryptedData, CK_ULONG_PTR pulEncryptedDataLen)
{
    return p11_op_oneshot(hSession, SESSION_OP_ENCRYPT, pData, ulDataLen, pEncryptedData,
                          pulEncryptedDataLen);
}

/* 5.8 */
CK_RV C_EncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
                      CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
    return p11_op_update(hSession, SESSION_OP_ENCRYPT, pPart, ulPartLen, pEncryptedPart,
                         pulEncryptedPartLen, true);
}

/* 5.8 */
CK_RV C_EncryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastEncryptedPart,
                     CK_ULONG_PTR pulLastEncryptedPartLen)
{
    return p11_op_final(hSession, SESSION_OP_ENCRYPT, pLastEncryptedPart, pulLastEncryptedPartLen);
}

/* 5.9 */
CK_RV C_DecryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
    return p11_op_init(hSession, SESSION_OP_DECRYPT, CKF_DECRYPT, CKA_DECRYPT, pMechanism, hKey);
}

/* 5.9 */
CK_RV C_Decrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData, CK_ULONG ulEncryptedDataLen,
                CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
    return p11_op_oneshot(hSession, SESSION_OP_DECRYPT, pEncryptedData, ulEncryptedDataLen, pData,
                          pulDataLen);
}

/* 5.9 */
CK_RV C_DecryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
                      CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
    return p11_op_update(hSession, SESSION_OP_DECRYPT, pEncryptedPart, ulEncryptedPartLen, pPart,
                         pulPartLen, true);
}

/* 5.9 */
CK_RV C_DecryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastPart, CK_ULONG_PTR pulLastPartLen)
{
    return p11_op_final(hSession, SESSION_OP_DECRYPT, pLastPart, pulLastPartLen);
}

/* A dual-function update (5.14): the transforming operation `first` runs on
 * the input; the absorbing one `second` takes the input (absorb_input) or
 * the transformed output.  Both must be active. */
static CK_RV dual(CK_SESSION_HANDLE hSession, enum session_op first, enum session_op second,
                  bool absorb_input, CK_BYTE_PTR in, CK_ULONG inlen, CK_BYTE_PTR out,
                  CK_ULONG_PTR outlen)
{
    struct p11_call c;
    CK_RV rv = p11_call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    session_lock(c.s);
    struct session_slot *t = session_op_slot(c.s, first), *a = session_op_slot(c.s, second);
    if (t->op == NULL || a->op == NULL) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
    } else if (t->needs_login || a->needs_login) {
        rv = CKR_USER_NOT_LOGGED_IN;
    } else if (absorb_input) {
        rv = p11_slot_update(t, in, inlen, out, outlen, true);
        if (rv == CKR_OK && out != NULL)
            rv = p11_slot_update(a, in, inlen, NULL, NULL, false);
    } else {
        rv = p11_slot_update(t, in, inlen, out, outlen, true);
        if (rv == CKR_OK && out != NULL)
            rv = p11_slot_update(a, out, *outlen, NULL, NULL, false);
    }
    session_unlock(c.s);
    p11_call_end(&c);
    return rv;
}

/* 5.14 */
CK_RV C_DigestEncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
                            CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
    return dual(hSession, SESSION_OP_ENCRYPT, SESSION_OP_DIGEST, true, pPart, ulPartLen,
                pEncryptedPart, pulEncryptedPartLen);
}

/* 5.14 */
CK_RV C_DecryptDigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
                            CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
    return dual(hSession, SESSION_OP_DECRYPT, SESSION_OP_DIGEST, false, pEncryptedPart,
                ulEncryptedPartLen, pPart, pulPartLen);
}

/* 5.14 */
CK_RV C_SignEncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
                          CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
    return dual(hSession, SESSION_OP_ENCRYPT, SESSION_OP_SIGN, true, pPart, ulPartLen,
                pEncryptedPart, pulEncryptedPartLen);
}

/* 5.14 */
CK_RV C_DecryptVerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
                            CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
    return dual(hSession, SESSION_OP_DECRYPT, SESSION_OP_VERIFY, false, pEncryptedPart,
                ulEncryptedPartLen, pPart, pulPartLen);
}
