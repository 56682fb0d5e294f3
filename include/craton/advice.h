/*
 * What a person should be told about a PKCS#11 result of a PIN operation:
 * shared by the module's stderr line when a PIN locks and the CLI's errors,
 * so both give the same remedy.
 */
#ifndef CRATON_ADVICE_H
#define CRATON_ADVICE_H

#include "pkcs11/pkcs11.h"

#define CRATON_ADVICE_SO_LOCKED                                                                    \
    "the SO PIN is locked and cannot be unlocked or reset: the only remedy is to re-initialise "   \
    "the token (craton-admin token init --wipe-locked), which destroys every object on the slot"
#define CRATON_ADVICE_USER_LOCKED                                                                  \
    "the user PIN is locked: the SO can set a new one with C_InitPIN in an SO session "            \
    "(craton-admin pin reset, or pkcs11-tool --login --login-type so --init-pin)"

/* Remedy text for rv returned to role (CKU_SO / CKU_USER), or NULL when there
 * is nothing more to say than the code's name. Static strings. */
static inline const char *craton_pin_advice(CK_RV rv, CK_USER_TYPE role)
{
    switch (rv) {
    case CKR_PIN_LOCKED:
        return role == CKU_SO ? CRATON_ADVICE_SO_LOCKED : CRATON_ADVICE_USER_LOCKED;
    case CKR_PIN_LEN_RANGE:
        return "the new PIN's length is outside [security] pin_min_length..pin_max_length";
    case CKR_USER_PIN_NOT_INITIALIZED:
        return "no user PIN is set yet: the SO sets it with C_InitPIN (craton-admin pin init)";
    case CKR_TOKEN_NOT_RECOGNIZED:
        return "the token is not initialised: run C_InitToken (craton-admin token init) first";
    case CKR_SESSION_EXISTS:
        return "close every session on the slot first (C_InitToken needs none open)";
    default:
        return NULL;
    }
}

#endif
