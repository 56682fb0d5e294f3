/* Message-based encryption and signing (3.0): implemented by a later layer; each checks
 * initialisation and the session, then returns CKR_FUNCTION_NOT_SUPPORTED. */
#include "p11/p11.h"

P11_UNSUPPORTED(C_MessageEncryptInit,
                (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey))
P11_UNSUPPORTED(C_MessageEncryptFinal, (CK_SESSION_HANDLE hSession))
P11_UNSUPPORTED(C_MessageDecryptInit,
                (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey))
P11_UNSUPPORTED(C_DecryptMessage,
                (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                 CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen, CK_BYTE_PTR pCiphertext,
                 CK_ULONG ulCiphertextLen, CK_BYTE_PTR pPlaintext, CK_ULONG_PTR pulPlaintextLen))
P11_UNSUPPORTED(C_DecryptMessageBegin,
                (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                 CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen))
P11_UNSUPPORTED(C_DecryptMessageNext,
                (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                 CK_BYTE_PTR pCiphertextPart, CK_ULONG ulCiphertextPartLen,
                 CK_BYTE_PTR pPlaintextPart, CK_ULONG_PTR pulPlaintextPartLen, CK_FLAGS flags))
P11_UNSUPPORTED(C_MessageDecryptFinal, (CK_SESSION_HANDLE hSession))
P11_UNSUPPORTED(C_MessageSignInit,
                (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey))
P11_UNSUPPORTED(C_SignMessage, (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                CK_ULONG ulParameterLen, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                                CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen))
P11_UNSUPPORTED(C_SignMessageBegin,
                (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen))
P11_UNSUPPORTED(C_SignMessageNext, (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                    CK_ULONG ulParameterLen, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                                    CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen))
P11_UNSUPPORTED(C_MessageSignFinal, (CK_SESSION_HANDLE hSession))
P11_UNSUPPORTED(C_MessageVerifyInit,
                (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey))
P11_UNSUPPORTED(C_VerifyMessage, (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                  CK_ULONG ulParameterLen, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                                  CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen))
P11_UNSUPPORTED(C_VerifyMessageBegin,
                (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen))
P11_UNSUPPORTED(C_VerifyMessageNext,
                (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                 CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
                 CK_ULONG ulSignatureLen))
P11_UNSUPPORTED(C_MessageVerifyFinal, (CK_SESSION_HANDLE hSession))
P11_UNSUPPORTED(C_EncryptMessage,
                (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                 CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen, CK_BYTE_PTR pPlaintext,
                 CK_ULONG ulPlaintextLen, CK_BYTE_PTR pCiphertext, CK_ULONG_PTR pulCiphertextLen))
P11_UNSUPPORTED(C_EncryptMessageBegin,
                (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                 CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen))
P11_UNSUPPORTED(C_EncryptMessageNext,
                (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                 CK_BYTE_PTR pPlaintextPart, CK_ULONG ulPlaintextPartLen,
                 CK_BYTE_PTR pCiphertextPart, CK_ULONG_PTR pulCiphertextPartLen, CK_FLAGS flags))
