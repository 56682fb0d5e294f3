/* Slot and token management (PKCS#11 3.2 section 5.5). */
#include <string.h>

#include "core/hsm.h"
#include "p11/p11.h"

/* 5.5 */
CK_RV C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount)
{
    struct hsm *h;
    CK_RV rv = hsm_enter(&h);
    (void)tokenPresent; /* every slot holds a token, initialised or not */
    if (rv != CKR_OK)
        return rv;
    if (pulCount == NULL)
        return CKR_ARGUMENTS_BAD;
    if (pSlotList == NULL) {
        *pulCount = h->slot_count;
        return CKR_OK;
    }
    if (*pulCount < h->slot_count) {
        *pulCount = h->slot_count;
        return CKR_BUFFER_TOO_SMALL;
    }
    for (size_t i = 0; i < h->slot_count; i++)
        pSlotList[i] = i;
    *pulCount = h->slot_count;
    return CKR_OK;
}

/* 5.5 */
CK_RV C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
    struct hsm *h;
    struct token *t;
    CK_RV rv = p11_token(slotID, &h, &t);
    if (rv != CKR_OK)
        return rv;
    if (pInfo == NULL)
        return CKR_ARGUMENTS_BAD;
    token_slot_info(t, pInfo);
    return CKR_OK;
}

/* 5.5 */
CK_RV C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo)
{
    struct hsm *h;
    struct token *t;
    CK_RV rv = p11_token(slotID, &h, &t);
    if (rv != CKR_OK)
        return rv;
    if (pInfo == NULL)
        return CKR_ARGUMENTS_BAD;
    token_info(t, pInfo);
    return CKR_OK;
}

/* 5.5: no slot events ever happen (slots and tokens are fixed). */
CK_RV C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pRserved)
{
    struct hsm *h;
    CK_RV rv = hsm_enter(&h);
    if (rv != CKR_OK)
        return rv;
    if (pSlot == NULL || pRserved != NULL)
        return CKR_ARGUMENTS_BAD;
    return (flags & CKF_DONT_BLOCK) ? CKR_NO_EVENT : CKR_FUNCTION_NOT_SUPPORTED;
}

/* 5.5: the mechanism table arrives with the mechanism layer; none yet. */
CK_RV C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList,
                         CK_ULONG_PTR pulCount)
{
    struct hsm *h;
    struct token *t;
    CK_RV rv = p11_token(slotID, &h, &t);
    if (rv != CKR_OK)
        return rv;
    if (pulCount == NULL)
        return CKR_ARGUMENTS_BAD;
    return mech_list(&h->cfg, pMechanismList, pulCount);
}

/* 5.5 */
CK_RV C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo)
{
    struct hsm *h;
    struct token *t;
    CK_RV rv = p11_token(slotID, &h, &t);
    if (rv != CKR_OK)
        return rv;
    if (pInfo == NULL)
        return CKR_ARGUMENTS_BAD;
    return mech_info(&h->cfg, type, pInfo);
}

/* 5.5 */
CK_RV C_InitToken(CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen,
                  CK_UTF8CHAR_PTR pLabel)
{
    struct hsm *h;
    struct token *t;
    CK_RV rv = p11_token(slotID, &h, &t);
    if (rv != CKR_OK)
        return rv;
    /* No protected authentication path: the PIN must be given. */
    if (pPin == NULL || pLabel == NULL)
        return CKR_ARGUMENTS_BAD;
    rv = token_init(t, pPin, ulPinLen, pLabel);
    p11_audit_user(h, "token_init", AUDIT_ADMIN, slotID, AUDIT_NONE, CKU_SO, NULL, rv, true);
    return rv;
}

/* 5.5: the SO sets (or resets) the user PIN. */
CK_RV C_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
    struct hsm *h;
    struct session *s;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    if (pPin == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else if (session_state(s) != CKS_RW_SO_FUNCTIONS)
        rv = CKR_USER_NOT_LOGGED_IN;
    if (rv == CKR_OK) {
        /* Setting a locked user PIN again is the SO's reset of it. */
        CK_TOKEN_INFO info;
        token_info(session_token(s), &info);
        const char *event = (info.flags & CKF_USER_PIN_LOCKED) ? "pin_reset" : "pin_init";
        rv = token_init_pin(session_token(s), pPin, ulPinLen);
        p11_audit_user(h, event, AUDIT_ADMIN, session_slot(s), hSession, CKU_SO, NULL, rv, true);
    }
    session_put(s);
    return rv;
}

/* 5.5 */
CK_RV C_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen,
               CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen)
{
    struct hsm *h;
    struct session *s;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    if (pOldPin == NULL || pNewPin == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else
        rv =
            token_set_pin(session_token(s), session_is_rw(s), pOldPin, ulOldLen, pNewPin, ulNewLen);
    if (rv != CKR_ARGUMENTS_BAD) {
        CK_STATE st = session_state(s);
        CK_USER_TYPE who = st == CKS_RW_SO_FUNCTIONS ? CKU_SO : CKU_USER;
        p11_audit_user(h, "pin_change", AUDIT_ADMIN, session_slot(s), hSession, who, NULL, rv,
                       true);
    }
    session_put(s);
    return rv;
}
