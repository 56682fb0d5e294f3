/*
 * Shared helpers of the PKCS#11 entry points (the files of src/p11, one per
 * chapter of the spec).  The entry points are thin: check the arguments and
 * the session, call the core, return the most specific CKR.
 */
#ifndef CRATON_P11_H
#define CRATON_P11_H

#include "core/hsm.h"
#include "pkcs11/pkcs11.h"

#define P11_EXPORT __attribute__((visibility("default")))

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

#endif
