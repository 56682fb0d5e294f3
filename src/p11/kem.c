/* Key encapsulation (3.2): implemented by a later layer; each checks initialisation and the
 * session, then returns CKR_FUNCTION_NOT_SUPPORTED. */
#include "p11/p11.h"

P11_UNSUPPORTED(C_EncapsulateKey, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                                   CK_OBJECT_HANDLE hPublicKey, CK_ATTRIBUTE_PTR pTemplate,
                                   CK_ULONG ulAttributeCount, CK_BYTE_PTR pCiphertext,
                                   CK_ULONG_PTR pulCiphertextLen, CK_OBJECT_HANDLE_PTR phKey))
P11_UNSUPPORTED(C_DecapsulateKey, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                                   CK_OBJECT_HANDLE hPrivateKey, CK_ATTRIBUTE_PTR pTemplate,
                                   CK_ULONG ulAttributeCount, CK_BYTE_PTR pCiphertext,
                                   CK_ULONG ulCiphertextLen, CK_OBJECT_HANDLE_PTR phKey))
