/* Message-based encryption and signing (PKCS#11 3.0 sections 5.8-5.13's
 * message functions).  Encryption: one operation object per session whose
 * family keeps per-message state (msg_begin / msg_next).  Signing: the
 * Init mechanism and key are kept; every message gets a fresh operation. */
#include <stdlib.h>
#include <string.h>

#include "p11/p11.h"

/* ---- encryption and decryption ---------------------------------------- */

static CK_RV msg_begin_call(CK_SESSION_HANDLE hSession, enum session_op k, struct p11_call *c,
                            struct mech_op **op)
{
    CK_RV rv = p11_call_begin(hSession, c);
    if (rv != CKR_OK)
        return rv;
    session_lock(c->s);
    *op = session_op_slot(c->s, k)->op;
    if (*op == NULL) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
    } else if ((*op)->ops->msg_begin == NULL || (*op)->ops->msg_next == NULL) {
        rv = CKR_FUNCTION_NOT_SUPPORTED;
    }
    if (rv != CKR_OK) {
        session_unlock(c->s);
        p11_call_end(c);
    }
    return rv;
}

static void msg_end_call(struct p11_call *c)
{
    session_unlock(c->s);
    p11_call_end(c);
}

/* A whole message: size first (the family answers without state), then
 * begin + the last part. */
static CK_RV crypt_message(CK_SESSION_HANDLE hSession, enum session_op k, CK_VOID_PTR pParameter,
                           CK_ULONG ulParameterLen, CK_BYTE_PTR pAssociatedData,
                           CK_ULONG ulAssociatedDataLen, CK_BYTE_PTR in, CK_ULONG inlen,
                           CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
    struct p11_call c;
    struct mech_op *op;
    CK_RV rv = msg_begin_call(hSession, k, &c, &op);
    if (rv != CKR_OK)
        return rv;
    CK_ULONG need = 0;
    if (outlen == NULL || (in == NULL && inlen > 0) ||
        (pAssociatedData == NULL && ulAssociatedDataLen > 0))
        rv = CKR_ARGUMENTS_BAD;
    else
        rv = op->ops->msg_next(op, pParameter, ulParameterLen, in, inlen, NULL, &need, true);
    if (rv == CKR_OK && (out == NULL || *outlen < need)) {
        rv = out == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
        *outlen = need;
    } else if (rv == CKR_OK) {
        rv = op->ops->msg_begin(op, pParameter, ulParameterLen, pAssociatedData,
                                ulAssociatedDataLen);
        if (rv == CKR_OK)
            rv = op->ops->msg_next(op, pParameter, ulParameterLen, in, inlen, out, outlen, true);
        p11_op_done(&c, k, op, session_op_slot(c.s, k)->key_handle, rv);
    }
    msg_end_call(&c);
    return rv;
}

static CK_RV crypt_begin(CK_SESSION_HANDLE hSession, enum session_op k, CK_VOID_PTR pParameter,
                         CK_ULONG ulParameterLen, CK_BYTE_PTR pAssociatedData,
                         CK_ULONG ulAssociatedDataLen)
{
    struct p11_call c;
    struct mech_op *op;
    CK_RV rv = msg_begin_call(hSession, k, &c, &op);
    if (rv != CKR_OK)
        return rv;
    if (pAssociatedData == NULL && ulAssociatedDataLen > 0)
        rv = CKR_ARGUMENTS_BAD;
    else
        rv = op->ops->msg_begin(op, pParameter, ulParameterLen, pAssociatedData,
                                ulAssociatedDataLen);
    msg_end_call(&c);
    return rv;
}

static CK_RV crypt_next(CK_SESSION_HANDLE hSession, enum session_op k, CK_VOID_PTR pParameter,
                        CK_ULONG ulParameterLen, CK_BYTE_PTR in, CK_ULONG inlen, CK_BYTE_PTR out,
                        CK_ULONG_PTR outlen, CK_FLAGS flags)
{
    struct p11_call c;
    struct mech_op *op;
    CK_RV rv = msg_begin_call(hSession, k, &c, &op);
    if (rv != CKR_OK)
        return rv;
    if (outlen == NULL || (in == NULL && inlen > 0) || (flags & ~(CK_FLAGS)CKF_END_OF_MESSAGE))
        rv = CKR_ARGUMENTS_BAD;
    else
        rv = op->ops->msg_next(op, pParameter, ulParameterLen, in, inlen, out, outlen,
                               (flags & CKF_END_OF_MESSAGE) != 0);
    /* A message ends with its last part (not a size query), or an error. */
    if ((rv == CKR_OK && (flags & CKF_END_OF_MESSAGE) && out != NULL) ||
        (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL && rv != CKR_ARGUMENTS_BAD))
        p11_op_done(&c, k, op, session_op_slot(c.s, k)->key_handle, rv);
    msg_end_call(&c);
    return rv;
}

static CK_RV msg_final(CK_SESSION_HANDLE hSession, enum session_op k)
{
    struct p11_call c;
    CK_RV rv = p11_call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    session_lock(c.s);
    struct session_slot *slot = session_op_slot(c.s, k);
    if (slot->op == NULL && !slot->active)
        rv = CKR_OPERATION_NOT_INITIALIZED;
    else
        session_slot_clear(slot);
    session_unlock(c.s);
    p11_call_end(&c);
    return rv;
}

CK_RV C_MessageEncryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                           CK_OBJECT_HANDLE hKey)
{
    return p11_op_init(hSession, SESSION_OP_MSG_ENCRYPT, CKF_MESSAGE_ENCRYPT, CKA_ENCRYPT,
                       pMechanism, hKey);
}

CK_RV C_EncryptMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                       CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen,
                       CK_BYTE_PTR pPlaintext, CK_ULONG ulPlaintextLen, CK_BYTE_PTR pCiphertext,
                       CK_ULONG_PTR pulCiphertextLen)
{
    return crypt_message(hSession, SESSION_OP_MSG_ENCRYPT, pParameter, ulParameterLen,
                         pAssociatedData, ulAssociatedDataLen, pPlaintext, ulPlaintextLen,
                         pCiphertext, pulCiphertextLen);
}

CK_RV C_EncryptMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                            CK_ULONG ulParameterLen, CK_BYTE_PTR pAssociatedData,
                            CK_ULONG ulAssociatedDataLen)
{
    return crypt_begin(hSession, SESSION_OP_MSG_ENCRYPT, pParameter, ulParameterLen,
                       pAssociatedData, ulAssociatedDataLen);
}

CK_RV C_EncryptMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                           CK_ULONG ulParameterLen, CK_BYTE_PTR pPlaintextPart,
                           CK_ULONG ulPlaintextPartLen, CK_BYTE_PTR pCiphertextPart,
                           CK_ULONG_PTR pulCiphertextPartLen, CK_FLAGS flags)
{
    return crypt_next(hSession, SESSION_OP_MSG_ENCRYPT, pParameter, ulParameterLen, pPlaintextPart,
                      ulPlaintextPartLen, pCiphertextPart, pulCiphertextPartLen, flags);
}

CK_RV C_MessageEncryptFinal(CK_SESSION_HANDLE hSession)
{
    return msg_final(hSession, SESSION_OP_MSG_ENCRYPT);
}

CK_RV C_MessageDecryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                           CK_OBJECT_HANDLE hKey)
{
    return p11_op_init(hSession, SESSION_OP_MSG_DECRYPT, CKF_MESSAGE_DECRYPT, CKA_DECRYPT,
                       pMechanism, hKey);
}

CK_RV C_DecryptMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                       CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen,
                       CK_BYTE_PTR pCiphertext, CK_ULONG ulCiphertextLen, CK_BYTE_PTR pPlaintext,
                       CK_ULONG_PTR pulPlaintextLen)
{
    return crypt_message(hSession, SESSION_OP_MSG_DECRYPT, pParameter, ulParameterLen,
                         pAssociatedData, ulAssociatedDataLen, pCiphertext, ulCiphertextLen,
                         pPlaintext, pulPlaintextLen);
}

CK_RV C_DecryptMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                            CK_ULONG ulParameterLen, CK_BYTE_PTR pAssociatedData,
                            CK_ULONG ulAssociatedDataLen)
{
    return crypt_begin(hSession, SESSION_OP_MSG_DECRYPT, pParameter, ulParameterLen,
                       pAssociatedData, ulAssociatedDataLen);
}

CK_RV C_DecryptMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                           CK_ULONG ulParameterLen, CK_BYTE_PTR pCiphertextPart,
                           CK_ULONG ulCiphertextPartLen, CK_BYTE_PTR pPlaintextPart,
                           CK_ULONG_PTR pulPlaintextPartLen, CK_FLAGS flags)
{
    return crypt_next(hSession, SESSION_OP_MSG_DECRYPT, pParameter, ulParameterLen, pCiphertextPart,
                      ulCiphertextPartLen, pPlaintextPart, pulPlaintextPartLen, flags);
}

CK_RV C_MessageDecryptFinal(CK_SESSION_HANDLE hSession)
{
    return msg_final(hSession, SESSION_OP_MSG_DECRYPT);
}

/* ---- signing and verifying --------------------------------------------- */

static CK_RV msg_sign_init(CK_SESSION_HANDLE hSession, enum session_op k, mech_fn fn,
                           CK_ATTRIBUTE_TYPE usage, CK_MECHANISM_PTR pMechanism,
                           CK_OBJECT_HANDLE hKey)
{
    struct p11_call c;
    const struct mech_desc *d = NULL;
    struct key *key = NULL;
    struct mech_op *probe = NULL;
    CK_RV rv = p11_call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    session_lock(c.s);
    struct session_slot *slot = session_op_slot(c.s, k);
    if (pMechanism == NULL) {
        session_slot_clear(slot);
        goto out;
    }
    if (slot->active) {
        rv = CKR_OPERATION_ACTIVE;
        goto out;
    }
    rv = mech_lookup(&c.h->cfg, pMechanism, fn, &d);
    if (rv == CKR_OK)
        rv = objects_key(c.objs, hKey, &c.v, usage, pMechanism->mechanism, p11_today(), &key);
    if (rv == CKR_OK) /* checks key and parameter now, as an Init must */
        rv = mech_op_new(d, pMechanism, fn, key, c.h->crypto, &c.h->cfg, &probe);
    if (rv == CKR_OK && pMechanism->ulParameterLen > 0) {
        slot->mech.pParameter = malloc(pMechanism->ulParameterLen);
        if (slot->mech.pParameter == NULL)
            rv = CKR_HOST_MEMORY;
        else
            memcpy(slot->mech.pParameter, pMechanism->pParameter, pMechanism->ulParameterLen);
    }
    if (rv == CKR_OK) {
        slot->mech.mechanism = pMechanism->mechanism;
        slot->mech.ulParameterLen = pMechanism->ulParameterLen;
        slot->needs_login = key->always_authenticate && key->cls == CKO_PRIVATE_KEY;
        slot->key = key;
        key = NULL;
        slot->active = true;
        slot->key_handle = hKey;
    } else {
        session_slot_clear(slot);
        p11_op_refused(&c, k, pMechanism, hKey, rv);
    }
out:
    mech_op_free(probe);
    key_unref(key);
    session_unlock(c.s);
    p11_call_end(&c);
    return rv;
}

/* A fresh operation for one message: the Init mechanism, or its type with
 * the message's own parameter when one is given. */
static CK_RV message_op(struct p11_call *c, struct session_slot *slot, mech_fn fn,
                        CK_VOID_PTR pParameter, CK_ULONG ulParameterLen, struct mech_op **op)
{
    const struct mech_desc *d = mech_find(slot->mech.mechanism);
    CK_MECHANISM m = slot->mech;
    if (pParameter != NULL && ulParameterLen > 0) {
        m.pParameter = pParameter;
        m.ulParameterLen = ulParameterLen;
    } else if (pParameter == NULL && ulParameterLen > 0) {
        return CKR_ARGUMENTS_BAD;
    }
    if (d == NULL)
        return CKR_GENERAL_ERROR;
    return mech_op_new(d, &m, fn, slot->key, c->h->crypto, &c->h->cfg, op);
}

/* Locks the session and finds an initialised message signing slot. */
static CK_RV sign_call(CK_SESSION_HANDLE hSession, enum session_op k, struct p11_call *c,
                       struct session_slot **slot)
{
    CK_RV rv = p11_call_begin(hSession, c);
    if (rv != CKR_OK)
        return rv;
    session_lock(c->s);
    *slot = session_op_slot(c->s, k);
    rv = !(*slot)->active       ? CKR_OPERATION_NOT_INITIALIZED
         : (*slot)->needs_login ? CKR_USER_NOT_LOGGED_IN
                                : CKR_OK;
    if (rv != CKR_OK) {
        session_unlock(c->s);
        p11_call_end(c);
    }
    return rv;
}

CK_RV C_MessageSignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                        CK_OBJECT_HANDLE hKey)
{
    return msg_sign_init(hSession, SESSION_OP_MSG_SIGN, CKF_SIGN, CKA_SIGN, pMechanism, hKey);
}

CK_RV C_SignMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                    CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
                    CK_ULONG_PTR pulSignatureLen)
{
    struct p11_call c;
    struct session_slot *slot;
    struct mech_op *op = NULL;
    CK_RV rv = sign_call(hSession, SESSION_OP_MSG_SIGN, &c, &slot);
    if (rv != CKR_OK)
        return rv;
    if (slot->op != NULL)
        rv = CKR_OPERATION_ACTIVE; /* a multi-part message is under way */
    else if (pulSignatureLen == NULL || (pData == NULL && ulDataLen > 0))
        rv = CKR_ARGUMENTS_BAD;
    else
        rv = message_op(&c, slot, CKF_SIGN, pParameter, ulParameterLen, &op);
    if (rv == CKR_OK) {
        rv = p11_run_oneshot(op, pData, ulDataLen, pSignature, pulSignatureLen);
        if (rv != CKR_BUFFER_TOO_SMALL && !(rv == CKR_OK && pSignature == NULL))
            p11_op_done(&c, SESSION_OP_MSG_SIGN, op, slot->key_handle, rv);
    }
    mech_op_free(op);
    session_unlock(c.s);
    p11_call_end(&c);
    return rv;
}

CK_RV C_SignMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                         CK_ULONG ulParameterLen)
{
    struct p11_call c;
    struct session_slot *slot;
    CK_RV rv = sign_call(hSession, SESSION_OP_MSG_SIGN, &c, &slot);
    if (rv != CKR_OK)
        return rv;
    if (slot->op != NULL)
        rv = CKR_OPERATION_ACTIVE;
    else
        rv = message_op(&c, slot, CKF_SIGN, pParameter, ulParameterLen, &slot->op);
    if (rv == CKR_OK && slot->op->ops->update == NULL) {
        mech_op_free(slot->op); /* a single-part mechanism: C_SignMessage only */
        slot->op = NULL;
        rv = CKR_FUNCTION_NOT_SUPPORTED;
    }
    session_unlock(c.s);
    p11_call_end(&c);
    return rv;
}

/* pulSignatureLen NULL: a part; otherwise the last part and the signature
 * (a size query keeps the message going). */
CK_RV C_SignMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                        CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
                        CK_ULONG_PTR pulSignatureLen)
{
    (void)pParameter;
    (void)ulParameterLen;
    struct p11_call c;
    struct session_slot *slot;
    CK_RV rv = sign_call(hSession, SESSION_OP_MSG_SIGN, &c, &slot);
    if (rv != CKR_OK)
        return rv;
    struct mech_op *op = slot->op;
    if (op == NULL) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
    } else if (pData == NULL && ulDataLen > 0) {
        rv = CKR_ARGUMENTS_BAD;
    } else if (pulSignatureLen == NULL) {
        rv = op->ops->update(op, pData, ulDataLen, NULL, NULL);
    } else {
        CK_ULONG need = 0;
        rv = op->ops->final(op, NULL, &need);
        if (rv == CKR_OK && (pSignature == NULL || *pulSignatureLen < need)) {
            rv = pSignature == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
            *pulSignatureLen = need;
        } else if (rv == CKR_OK) {
            rv = op->ops->update(op, pData, ulDataLen, NULL, NULL);
            if (rv == CKR_OK)
                rv = op->ops->final(op, pSignature, pulSignatureLen);
        }
    }
    if (op != NULL && rv != CKR_BUFFER_TOO_SMALL && rv != CKR_ARGUMENTS_BAD &&
        (rv != CKR_OK || (pulSignatureLen != NULL && pSignature != NULL)))
        p11_op_done(&c, SESSION_OP_MSG_SIGN, op, slot->key_handle, rv);
    if (op != NULL && rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL) {
        mech_op_free(slot->op); /* the message failed; the session's Init stays */
        slot->op = NULL;
    } else if (op != NULL && pulSignatureLen != NULL && pSignature != NULL && rv == CKR_OK) {
        mech_op_free(slot->op);
        slot->op = NULL;
    }
    session_unlock(c.s);
    p11_call_end(&c);
    return rv;
}

CK_RV C_MessageSignFinal(CK_SESSION_HANDLE hSession)
{
    return msg_final(hSession, SESSION_OP_MSG_SIGN);
}

CK_RV C_MessageVerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                          CK_OBJECT_HANDLE hKey)
{
    return msg_sign_init(hSession, SESSION_OP_MSG_VERIFY, CKF_VERIFY, CKA_VERIFY, pMechanism, hKey);
}

CK_RV C_VerifyMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                      CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
                      CK_ULONG ulSignatureLen)
{
    struct p11_call c;
    struct session_slot *slot;
    struct mech_op *op = NULL;
    CK_RV rv = sign_call(hSession, SESSION_OP_MSG_VERIFY, &c, &slot);
    if (rv != CKR_OK)
        return rv;
    if (slot->op != NULL)
        rv = CKR_OPERATION_ACTIVE;
    else if ((pData == NULL && ulDataLen > 0) || (pSignature == NULL && ulSignatureLen > 0))
        rv = CKR_ARGUMENTS_BAD;
    else
        rv = message_op(&c, slot, CKF_VERIFY, pParameter, ulParameterLen, &op);
    if (rv == CKR_OK) {
        rv = p11_run_verify(op, pData, ulDataLen, pSignature, ulSignatureLen);
        p11_op_done(&c, SESSION_OP_MSG_VERIFY, op, slot->key_handle, rv);
    }
    mech_op_free(op);
    session_unlock(c.s);
    p11_call_end(&c);
    return rv;
}

CK_RV C_VerifyMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                           CK_ULONG ulParameterLen)
{
    struct p11_call c;
    struct session_slot *slot;
    CK_RV rv = sign_call(hSession, SESSION_OP_MSG_VERIFY, &c, &slot);
    if (rv != CKR_OK)
        return rv;
    if (slot->op != NULL)
        rv = CKR_OPERATION_ACTIVE;
    else
        rv = message_op(&c, slot, CKF_VERIFY, pParameter, ulParameterLen, &slot->op);
    if (rv == CKR_OK && slot->op->ops->update == NULL) {
        mech_op_free(slot->op);
        slot->op = NULL;
        rv = CKR_FUNCTION_NOT_SUPPORTED;
    }
    session_unlock(c.s);
    p11_call_end(&c);
    return rv;
}

/* pSignature NULL: a part; otherwise the last part, checked. */
CK_RV C_VerifyMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                          CK_ULONG ulParameterLen, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                          CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
    (void)pParameter;
    (void)ulParameterLen;
    struct p11_call c;
    struct session_slot *slot;
    CK_RV rv = sign_call(hSession, SESSION_OP_MSG_VERIFY, &c, &slot);
    if (rv != CKR_OK)
        return rv;
    struct mech_op *op = slot->op;
    if (op == NULL) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
    } else if (pData == NULL && ulDataLen > 0) {
        rv = CKR_ARGUMENTS_BAD;
    } else {
        rv = op->ops->update(op, pData, ulDataLen, NULL, NULL);
        if (rv == CKR_OK && pSignature != NULL)
            rv = op->ops->verify_final(op, pSignature, ulSignatureLen);
    }
    if (op != NULL && rv != CKR_ARGUMENTS_BAD && (rv != CKR_OK || pSignature != NULL))
        p11_op_done(&c, SESSION_OP_MSG_VERIFY, op, slot->key_handle, rv);
    if (op != NULL && (rv != CKR_OK || pSignature != NULL)) {
        mech_op_free(slot->op);
        slot->op = NULL;
    }
    session_unlock(c.s);
    p11_call_end(&c);
    return rv;
}

CK_RV C_MessageVerifyFinal(CK_SESSION_HANDLE hSession)
{
    return msg_final(hSession, SESSION_OP_MSG_VERIFY);
}
