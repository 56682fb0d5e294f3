/* Encryption, decryption and the dual-function updates (sections 5.8, 5.9, 5.14): implemented by a
 * later layer; each checks initialisation and the session, then returns CKR_FUNCTION_NOT_SUPPORTED.
 */
#include "p11/p11.h"

P11_UNSUPPORTED(C_EncryptInit,
                (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey))
P11_UNSUPPORTED(C_Encrypt, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                            CK_BYTE_PTR pEncryptedData, CK_ULONG_PTR pulEncryptedDataLen))
P11_UNSUPPORTED(C_EncryptUpdate, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
                                  CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen))
P11_UNSUPPORTED(C_EncryptFinal, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastEncryptedPart,
                                 CK_ULONG_PTR pulLastEncryptedPartLen))
P11_UNSUPPORTED(C_DecryptInit,
                (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey))
P11_UNSUPPORTED(C_Decrypt,
                (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData,
                 CK_ULONG ulEncryptedDataLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen))
P11_UNSUPPORTED(C_DecryptUpdate,
                (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
                 CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen))
P11_UNSUPPORTED(C_DecryptFinal,
                (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastPart, CK_ULONG_PTR pulLastPartLen))
P11_UNSUPPORTED(C_DigestEncryptUpdate,
                (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
                 CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen))
P11_UNSUPPORTED(C_DecryptDigestUpdate,
                (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
                 CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen))
P11_UNSUPPORTED(C_SignEncryptUpdate,
                (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
                 CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen))
P11_UNSUPPORTED(C_DecryptVerifyUpdate,
                (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
                 CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen))
