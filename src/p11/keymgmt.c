/* Key management and random numbers (sections 5.15-5.16): implemented by a later layer; each checks
 * initialisation and the session, then returns CKR_FUNCTION_NOT_SUPPORTED. */
#include "p11/p11.h"

P11_UNSUPPORTED(C_GenerateKey,
                (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                 CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phKey))
P11_UNSUPPORTED(C_GenerateKeyPair,
                (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                 CK_ATTRIBUTE_PTR pPublicKeyTemplate, CK_ULONG ulPublicKeyAttributeCount,
                 CK_ATTRIBUTE_PTR pPrivateKeyTemplate, CK_ULONG ulPrivateKeyAttributeCount,
                 CK_OBJECT_HANDLE_PTR phPublicKey, CK_OBJECT_HANDLE_PTR phPrivateKey))
P11_UNSUPPORTED(C_WrapKey, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                            CK_OBJECT_HANDLE hWrappingKey, CK_OBJECT_HANDLE hKey,
                            CK_BYTE_PTR pWrappedKey, CK_ULONG_PTR pulWrappedKeyLen))
P11_UNSUPPORTED(C_UnwrapKey,
                (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                 CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey, CK_ULONG ulWrappedKeyLen,
                 CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey))
P11_UNSUPPORTED(C_DeriveKey,
                (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hBaseKey,
                 CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey))
P11_UNSUPPORTED(C_SeedRandom, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen))
P11_UNSUPPORTED(C_WrapKeyAuthenticated, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                                         CK_OBJECT_HANDLE hWrappingKey, CK_OBJECT_HANDLE hKey,
                                         CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen,
                                         CK_BYTE_PTR pWrappedKey, CK_ULONG_PTR pulWrappedKeyLen))
P11_UNSUPPORTED(C_UnwrapKeyAuthenticated,
                (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                 CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey, CK_ULONG ulWrappedKeyLen,
                 CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount, CK_BYTE_PTR pAssociatedData,
                 CK_ULONG ulAssociatedDataLen, CK_OBJECT_HANDLE_PTR phKey))

#define P11_RANDOM_MAX (64UL * 1024 * 1024) /* one call's output at most */

/* 5.16: bytes from the module's DRBG. */
CK_RV C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR RandomData, CK_ULONG ulRandomLen)
{
    struct hsm *h;
    struct session *s;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    if (RandomData == NULL && ulRandomLen != 0)
        rv = CKR_ARGUMENTS_BAD;
    else if (ulRandomLen > P11_RANDOM_MAX)
        rv = CKR_DATA_LEN_RANGE;
    else
        rv = crypto_random(h->crypto, RandomData, ulRandomLen, false);
    session_put(s);
    return rv;
}
