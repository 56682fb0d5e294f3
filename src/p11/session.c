/* Session management (PKCS#11 3.2 section 5.6) and the 3.2 async/validation
 * queries. */
#include <stdbool.h>
#include <string.h>

#include "core/hsm.h"

#include "p11/p11.h"

/* 5.6 */
CK_RV C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication, CK_NOTIFY Notify,
                    CK_SESSION_HANDLE_PTR phSession)
{
    struct hsm *h;
    struct token *t;
    (void)pApplication; /* no callbacks are ever made */
    (void)Notify;
    CK_RV rv = p11_token(slotID, &h, &t);
    if (rv != CKR_OK)
        return rv;
    if (phSession == NULL)
        return CKR_ARGUMENTS_BAD;
    if (!(flags & CKF_SERIAL_SESSION))
        return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
    if (flags & CKF_ASYNC_SESSION)
        return CKR_FUNCTION_NOT_SUPPORTED;
    rv = session_open(h->sessions, t, slotID, flags, phSession);
    p11_audit(h, "session_open", AUDIT_SESSION, slotID, rv == CKR_OK ? *phSession : AUDIT_NONE, rv);
    return rv;
}

/* 5.6 */
CK_RV C_CloseSession(CK_SESSION_HANDLE hSession)
{
    struct hsm *h;
    CK_RV rv = hsm_enter(&h);
    if (rv != CKR_OK)
        return rv;
    CK_SLOT_ID slot = AUDIT_NONE;
    struct session *s;
    if (audit_wants(h->audit, AUDIT_SESSION) && session_get(h->sessions, hSession, &s) == CKR_OK) {
        slot = session_slot(s);
        session_put(s);
    }
    rv = session_close(h->sessions, hSession);
    p11_audit(h, "session_close", AUDIT_SESSION, slot, hSession, rv);
    return rv;
}

/* 5.6 */
CK_RV C_CloseAllSessions(CK_SLOT_ID slotID)
{
    struct hsm *h;
    struct token *t;
    CK_RV rv = p11_token(slotID, &h, &t);
    if (rv != CKR_OK)
        return rv;
    session_close_all(h->sessions, slotID);
    p11_audit(h, "session_close_all", AUDIT_SESSION, slotID, AUDIT_NONE, CKR_OK);
    return CKR_OK;
}

/* 5.6 */
CK_RV C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo)
{
    struct hsm *h;
    struct session *s;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    if (pInfo == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else
        session_info(s, pInfo);
    session_put(s);
    return rv;
}

/* CKU_CONTEXT_SPECIFIC (4.9): authorises the session's operation that uses
 * a CKA_ALWAYS_AUTHENTICATE key. */
static CK_RV context_login(struct session *s, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
    CK_RV rv = CKR_OPERATION_NOT_INITIALIZED;
    session_lock(s);
    for (int k = 0; k < SESSION_OP_COUNT; k++) {
        struct session_slot *slot = session_op_slot(s, k);
        if (!slot->needs_login)
            continue;
        rv = token_verify_context(session_token(s), pin, len);
        if (rv == CKR_OK)
            slot->needs_login = false;
        break;
    }
    session_unlock(s);
    return rv;
}

/* The PIN's lock flag of the role that logs in. */
static bool pin_locked(struct token *t, CK_USER_TYPE user)
{
    CK_TOKEN_INFO info;
    token_info(t, &info);
    CK_FLAGS flag = user == CKU_SO ? CKF_SO_PIN_LOCKED : CKF_USER_PIN_LOCKED;
    return (info.flags & flag) != 0;
}

/* A login attempt (never the PIN), and the lockout a failure caused. */
static void audit_login(struct hsm *h, struct session *s, CK_USER_TYPE user, CK_RV rv)
{
    CK_SLOT_ID slot = session_slot(s);
    CK_SESSION_HANDLE sh = session_handle(s);
    p11_audit_user(h, "login", AUDIT_AUTH, slot, sh, user, NULL, rv, false);
    if (rv == CKR_PIN_INCORRECT && user != CKU_CONTEXT_SPECIFIC &&
        audit_wants(h->audit, AUDIT_AUTH) && pin_locked(session_token(s), user))
        p11_audit_user(h, "lockout", AUDIT_AUTH, slot, sh, user, NULL, CKR_PIN_LOCKED, true);
}

/* 5.6 */
CK_RV C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin,
              CK_ULONG ulPinLen)
{
    struct hsm *h;
    struct session *s;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    if (userType != CKU_SO && userType != CKU_USER && userType != CKU_CONTEXT_SPECIFIC)
        rv = CKR_USER_TYPE_INVALID;
    else if (pPin == NULL && ulPinLen != 0)
        rv = CKR_ARGUMENTS_BAD;
    else if (userType == CKU_CONTEXT_SPECIFIC)
        rv = context_login(s, pPin, ulPinLen);
    else
        rv = token_login(session_token(s), userType, pPin, ulPinLen);
    if (rv != CKR_USER_TYPE_INVALID && rv != CKR_ARGUMENTS_BAD)
        audit_login(h, s, userType, rv);
    session_put(s);
    return rv;
}

/* 5.6: one user per token; the name is not used. */
CK_RV C_LoginUser(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin,
                  CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pUsername, CK_ULONG ulUsernameLen)
{
    if (pUsername == NULL && ulUsernameLen != 0) {
        struct hsm *h;
        CK_RV rv = hsm_enter(&h);
        return rv != CKR_OK ? rv : CKR_ARGUMENTS_BAD;
    }
    return C_Login(hSession, userType, pPin, ulPinLen);
}

/* 5.6 */
CK_RV C_Logout(CK_SESSION_HANDLE hSession)
{
    struct hsm *h;
    struct session *s;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    rv = token_logout(session_token(s));
    p11_audit(h, "logout", AUDIT_AUTH, session_slot(s), hSession, rv);
    session_put(s);
    return rv;
}

/* 5.6 (3.0): ends the operations named by flags. */
CK_RV C_SessionCancel(CK_SESSION_HANDLE hSession, CK_FLAGS flags)
{
    struct hsm *h;
    struct session *s;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    session_cancel(s, flags);
    session_put(s);
    return CKR_OK;
}

/* 5.6 (3.2): bit 0x1 (KEY_VALIDATION_APPROVED) when the last operation
 * that completed in the session used an approved mechanism with an approved
 * key (docs/mechanisms.md; a policy of this module, not a CMVP
 * validation); 0 before any operation. */
CK_RV C_GetSessionValidationFlags(CK_SESSION_HANDLE hSession, CK_SESSION_VALIDATION_FLAGS_TYPE type,
                                  CK_FLAGS_PTR pFlags)
{
    struct hsm *h;
    struct session *s;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    if (pFlags == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else if (type != CKS_LAST_VALIDATION_OK)
        rv = CKR_ARGUMENTS_BAD;
    else
        *pFlags = session_validation(s);
    session_put(s);
    return rv;
}

/* Legacy parallel functions (5.17). */
CK_RV C_GetFunctionStatus(CK_SESSION_HANDLE hSession)
{
    struct hsm *h;
    struct session *s;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    session_put(s);
    return CKR_FUNCTION_NOT_PARALLEL;
}

CK_RV C_CancelFunction(CK_SESSION_HANDLE hSession)
{
    return C_GetFunctionStatus(hSession);
}

/* 5.6: only a digest operation's state can be saved (the states of
 * keyed operations would carry key material out of the module); it stays
 * valid in this process (see src/mech/digest.c). */
CK_RV C_GetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState,
                          CK_ULONG_PTR pulOperationStateLen)
{
    struct hsm *h;
    struct session *s;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    if (pulOperationStateLen == NULL) {
        session_put(s);
        return CKR_ARGUMENTS_BAD;
    }
    session_lock(s);
    struct mech_op *digest = session_op_slot(s, SESSION_OP_DIGEST)->op;
    bool others = false;
    for (int k = 0; k < SESSION_OP_COUNT; k++)
        others = others || (k != SESSION_OP_DIGEST && session_op_slot(s, k)->op != NULL);
    if (others)
        rv = CKR_STATE_UNSAVEABLE;
    else if (digest == NULL)
        rv = CKR_OPERATION_NOT_INITIALIZED;
    else if (digest->ops->get_state == NULL)
        rv = CKR_STATE_UNSAVEABLE;
    else
        rv = digest->ops->get_state(digest, pOperationState, pulOperationStateLen);
    session_unlock(s);
    session_put(s);
    return rv;
}

/* 5.6 */
CK_RV C_SetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState,
                          CK_ULONG ulOperationStateLen, CK_OBJECT_HANDLE hEncryptionKey,
                          CK_OBJECT_HANDLE hAuthenticationKey)
{
    struct hsm *h;
    struct session *s;
    struct mech_op *op = NULL;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    if (pOperationState == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else if (hEncryptionKey != CK_INVALID_HANDLE || hAuthenticationKey != CK_INVALID_HANDLE)
        rv = CKR_KEY_NOT_NEEDED;
    else
        rv = mech_digest_restore(h->crypto, &h->cfg, pOperationState, ulOperationStateLen, &op);
    if (rv == CKR_OK) {
        session_lock(s);
        struct session_slot *slot = session_op_slot(s, SESSION_OP_DIGEST);
        session_slot_clear(slot); /* the restored state replaces what was active */
        slot->op = op;
        session_unlock(s);
    }
    session_put(s);
    return rv;
}

/* Asynchronous sessions (3.2) are not offered: C_OpenSession refuses
 * CKF_ASYNC_SESSION, so no call can be pending. */
P11_UNSUPPORTED(C_AsyncComplete, (CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pFunctionName,
                                  CK_ASYNC_DATA_PTR pResult))
P11_UNSUPPORTED(C_AsyncGetID,
                (CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pFunctionName, CK_ULONG_PTR pulID))
P11_UNSUPPORTED(C_AsyncJoin, (CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pFunctionName,
                              CK_ULONG ulID, CK_BYTE_PTR pData, CK_ULONG ulData))
