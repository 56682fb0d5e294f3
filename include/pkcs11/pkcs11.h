/*
 * PKCS#11 3.2 interface for Craton HSM.
 *
 * Written for this project from the OASIS PKCS#11 3.2 specification's facts
 * (spec/pkcs11-3.2-*.tsv, spec/pkcs11-3.2-structs.md).  The constants, the
 * structures and the function lists are generated from those tables by
 * scripts/gen_pkcs11.py; this file holds the scalar types and assembles the
 * function-list structures from the generated X-macros.
 *
 * Natural alignment (no packing), as every Linux PKCS#11 consumer expects.
 */
#ifndef CRATON_PKCS11_H
#define CRATON_PKCS11_H

#ifdef __cplusplus
extern "C" {
#endif

#ifndef CK_PTR
#define CK_PTR *
#endif
#ifndef CK_DECLARE_FUNCTION
#define CK_DECLARE_FUNCTION(rv, name) rv name
#endif
#ifndef CK_DECLARE_FUNCTION_POINTER
#define CK_DECLARE_FUNCTION_POINTER(rv, name) rv(*name)
#endif
#ifndef CK_CALLBACK_FUNCTION
#define CK_CALLBACK_FUNCTION(rv, name) rv(*name)
#endif
#ifndef NULL_PTR
#define NULL_PTR 0
#endif

/* Scalar types (pkcs11t.h). */
typedef unsigned char CK_BYTE;
typedef CK_BYTE CK_CHAR;
typedef CK_BYTE CK_UTF8CHAR;
typedef CK_BYTE CK_BBOOL;
typedef unsigned long int CK_ULONG;
typedef long int CK_LONG;
typedef CK_ULONG CK_FLAGS;
typedef CK_BYTE CK_PTR CK_BYTE_PTR;
typedef CK_CHAR CK_PTR CK_CHAR_PTR;
typedef CK_UTF8CHAR CK_PTR CK_UTF8CHAR_PTR;
typedef CK_ULONG CK_PTR CK_ULONG_PTR;
typedef CK_FLAGS CK_PTR CK_FLAGS_PTR;
typedef void CK_PTR CK_VOID_PTR;
typedef CK_VOID_PTR CK_PTR CK_VOID_PTR_PTR;

typedef CK_ULONG CK_NOTIFICATION;
typedef CK_ULONG CK_SLOT_ID;
typedef CK_SLOT_ID CK_PTR CK_SLOT_ID_PTR;
typedef CK_ULONG CK_SESSION_HANDLE;
typedef CK_SESSION_HANDLE CK_PTR CK_SESSION_HANDLE_PTR;
typedef CK_ULONG CK_USER_TYPE;
typedef CK_ULONG CK_STATE;
typedef CK_ULONG CK_OBJECT_HANDLE;
typedef CK_OBJECT_HANDLE CK_PTR CK_OBJECT_HANDLE_PTR;
typedef CK_ULONG CK_OBJECT_CLASS;
typedef CK_OBJECT_CLASS CK_PTR CK_OBJECT_CLASS_PTR;
typedef CK_ULONG CK_HW_FEATURE_TYPE;
typedef CK_ULONG CK_KEY_TYPE;
typedef CK_ULONG CK_CERTIFICATE_TYPE;
typedef CK_ULONG CK_ATTRIBUTE_TYPE;
typedef CK_ULONG CK_MECHANISM_TYPE;
typedef CK_MECHANISM_TYPE CK_PTR CK_MECHANISM_TYPE_PTR;
typedef CK_ULONG CK_RV;
typedef CK_ULONG CK_PROFILE_ID;
typedef CK_ULONG CK_JAVA_MIDP_SECURITY_DOMAIN;
typedef CK_ULONG CK_CERTIFICATE_CATEGORY;
typedef CK_ULONG CK_RSA_PKCS_MGF_TYPE;
typedef CK_ULONG CK_RSA_PKCS_OAEP_SOURCE_TYPE;
typedef CK_ULONG CK_EC_KDF_TYPE;
typedef CK_ULONG CK_MAC_GENERAL_PARAMS; /* the MAC length in bytes (the *_GENERAL MACs) */
typedef CK_MAC_GENERAL_PARAMS CK_PTR CK_MAC_GENERAL_PARAMS_PTR;
typedef CK_ULONG CK_EXTRACT_PARAMS;
typedef CK_EXTRACT_PARAMS CK_PTR CK_EXTRACT_PARAMS_PTR;
typedef CK_ULONG CK_X9_42_DH_KDF_TYPE;
typedef CK_ULONG CK_PKCS5_PBKDF2_SALT_SOURCE_TYPE;
typedef CK_ULONG CK_PKCS5_PBKD2_PSEUDO_RANDOM_FUNCTION_TYPE;
typedef CK_ULONG CK_OTP_PARAM_TYPE;
typedef CK_ULONG CK_GENERATOR_FUNCTION;
typedef CK_ULONG CK_SP800_108_DKM_LENGTH_METHOD;
typedef CK_MECHANISM_TYPE CK_SP800_108_PRF_TYPE;
typedef CK_ULONG CK_PRF_DATA_TYPE;
typedef CK_ULONG CK_X3DH_KDF_TYPE;
typedef CK_ULONG CK_X2RATCHET_KDF_TYPE;
typedef CK_ULONG CK_XEDDSA_HASH_TYPE;
typedef CK_ULONG CK_HSS_LEVELS;
typedef CK_ULONG CK_LMS_TYPE;
typedef CK_ULONG CK_LMOTS_TYPE;
typedef CK_ULONG CK_HEDGE_TYPE;
typedef CK_ULONG CK_ML_KEM_PARAMETER_SET_TYPE;
typedef CK_ULONG CK_ML_DSA_PARAMETER_SET_TYPE;
typedef CK_ULONG CK_SLH_DSA_PARAMETER_SET_TYPE;
typedef CK_ULONG CK_SESSION_VALIDATION_FLAGS_TYPE;
typedef CK_ULONG CK_VALIDATION_TYPE;
typedef CK_ULONG CK_VALIDATION_AUTHORITY_TYPE;

typedef CK_CALLBACK_FUNCTION(CK_RV, CK_NOTIFY)(CK_SESSION_HANDLE hSession, CK_NOTIFICATION event,
                                               CK_VOID_PTR pApplication);
typedef CK_CALLBACK_FUNCTION(CK_RV, CK_CREATEMUTEX)(CK_VOID_PTR_PTR ppMutex);
typedef CK_CALLBACK_FUNCTION(CK_RV, CK_DESTROYMUTEX)(CK_VOID_PTR pMutex);
typedef CK_CALLBACK_FUNCTION(CK_RV, CK_LOCKMUTEX)(CK_VOID_PTR pMutex);
typedef CK_CALLBACK_FUNCTION(CK_RV, CK_UNLOCKMUTEX)(CK_VOID_PTR pMutex);

#include "pkcs11/pkcs11_constants.h"
#include "pkcs11/pkcs11_structs.h"
#include "pkcs11/pkcs11_functions.h"

typedef struct CK_FUNCTION_LIST CK_FUNCTION_LIST;
typedef struct CK_FUNCTION_LIST_3_0 CK_FUNCTION_LIST_3_0;
typedef struct CK_FUNCTION_LIST_3_2 CK_FUNCTION_LIST_3_2;
typedef CK_FUNCTION_LIST CK_PTR CK_FUNCTION_LIST_PTR;
typedef CK_FUNCTION_LIST_PTR CK_PTR CK_FUNCTION_LIST_PTR_PTR;
typedef CK_FUNCTION_LIST_3_0 CK_PTR CK_FUNCTION_LIST_3_0_PTR;
typedef CK_FUNCTION_LIST_3_0_PTR CK_PTR CK_FUNCTION_LIST_3_0_PTR_PTR;
typedef CK_FUNCTION_LIST_3_2 CK_PTR CK_FUNCTION_LIST_3_2_PTR;
typedef CK_FUNCTION_LIST_3_2_PTR CK_PTR CK_FUNCTION_LIST_3_2_PTR_PTR;

/* Prototypes and CK_C_<name> pointer types of all 104 functions. */
#define CK_X_PROTOTYPE(name, params, args) extern CK_DECLARE_FUNCTION(CK_RV, name) params;
#define CK_X_POINTER(name, params, args) \
    typedef CK_DECLARE_FUNCTION_POINTER(CK_RV, CK_##name) params;
#define CK_X_MEMBER(name, params, args) CK_##name name;
CK_FUNCTIONS_2_40(CK_X_PROTOTYPE)
CK_FUNCTIONS_3_0(CK_X_PROTOTYPE)
CK_FUNCTIONS_3_2(CK_X_PROTOTYPE)
CK_FUNCTIONS_2_40(CK_X_POINTER)
CK_FUNCTIONS_3_0(CK_X_POINTER)
CK_FUNCTIONS_3_2(CK_X_POINTER)

struct CK_FUNCTION_LIST {
    CK_VERSION version;
    CK_FUNCTIONS_2_40(CK_X_MEMBER)
};

struct CK_FUNCTION_LIST_3_0 {
    CK_VERSION version;
    CK_FUNCTIONS_2_40(CK_X_MEMBER)
    CK_FUNCTIONS_3_0(CK_X_MEMBER)
};

struct CK_FUNCTION_LIST_3_2 {
    CK_VERSION version;
    CK_FUNCTIONS_2_40(CK_X_MEMBER)
    CK_FUNCTIONS_3_0(CK_X_MEMBER)
    CK_FUNCTIONS_3_2(CK_X_MEMBER)
};
#undef CK_X_PROTOTYPE
#undef CK_X_POINTER
#undef CK_X_MEMBER

#ifdef __cplusplus
}
#endif

#endif /* CRATON_PKCS11_H */
