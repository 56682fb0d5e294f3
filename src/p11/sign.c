/* Signing and verifying (sections 5.11-5.13): implemented by a later layer; each checks
 * initialisation and the session, then returns CKR_FUNCTION_NOT_SUPPORTED. */
#include "p11/p11.h"

P11_UNSUPPORTED(C_SignInit,
                (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey))
P11_UNSUPPORTED(C_Sign, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                         CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen))
P11_UNSUPPORTED(C_SignUpdate, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen))
P11_UNSUPPORTED(C_SignFinal,
                (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen))
P11_UNSUPPORTED(C_SignRecoverInit,
                (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey))
P11_UNSUPPORTED(C_SignRecover, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                                CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen))
P11_UNSUPPORTED(C_VerifyInit,
                (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey))
P11_UNSUPPORTED(C_Verify, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                           CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen))
P11_UNSUPPORTED(C_VerifyUpdate, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen))
P11_UNSUPPORTED(C_VerifyFinal,
                (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen))
P11_UNSUPPORTED(C_VerifyRecoverInit,
                (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey))
P11_UNSUPPORTED(C_VerifyRecover,
                (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen,
                 CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen))
P11_UNSUPPORTED(C_VerifySignatureInit,
                (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey,
                 CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen))
P11_UNSUPPORTED(C_VerifySignature,
                (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen))
P11_UNSUPPORTED(C_VerifySignatureUpdate,
                (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen))
P11_UNSUPPORTED(C_VerifySignatureFinal, (CK_SESSION_HANDLE hSession))
