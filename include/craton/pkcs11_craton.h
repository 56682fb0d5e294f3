/*
 * Craton HSM's vendor-defined PKCS#11 numbers (in CKM_VENDOR_DEFINED /
 * CKK_VENDOR_DEFINED space).  Applications include this after pkcs11.h.
 *
 * Compatibility aliases: the reference implementation's private numbers for
 * ML-KEM, ML-DSA and SLH-DSA (before PKCS#11 3.2 gave them official ones)
 * are accepted, so its users can switch without changing code; they are
 * listed by C_GetMechanismList only with [algorithms] craton_vendor_pqc =
 * true.  New code should use the standard CKM_ML_KEM_*, CKM_ML_DSA_*,
 * CKM_SLH_DSA_* and CKK_ML_* numbers.
 *
 * Hybrid mechanisms combine two ordinary key objects: the post-quantum key
 * is the operation's key (hKey / hPublicKey / hPrivateKey) and the
 * classical one is named by CK_CRATON_HYBRID_PARAMS.
 */
#ifndef CRATON_PKCS11_CRATON_H
#define CRATON_PKCS11_CRATON_H

#include "pkcs11/pkcs11.h"

/* ---- the reference's numbers (compatibility aliases) ---------------------- */

/* Mechanisms: key pair generation of that parameter set, and (ML-KEM)
 * decapsulation through C_DeriveKey with the ciphertext as the parameter,
 * (ML-DSA, SLH-DSA) pure signing with an empty context. */
#define CKM_CRATON_ML_KEM_512 0x80000001UL
#define CKM_CRATON_ML_KEM_768 0x80000002UL
#define CKM_CRATON_ML_KEM_1024 0x80000003UL
#define CKM_CRATON_ML_DSA_44 0x80000010UL
#define CKM_CRATON_ML_DSA_65 0x80000011UL
#define CKM_CRATON_ML_DSA_87 0x80000012UL
#define CKM_CRATON_SLH_DSA_SHA2_128S 0x80000020UL
#define CKM_CRATON_SLH_DSA_SHA2_256S 0x80000021UL

/* Key types: read as CKK_ML_KEM / CKK_ML_DSA / CKK_SLH_DSA (objects report
 * the standard value). */
#define CKK_CRATON_ML_KEM 0x80000001UL
#define CKK_CRATON_ML_DSA 0x80000002UL
#define CKK_CRATON_SLH_DSA 0x80000003UL

/* ---- hybrids -------------------------------------------------------------- */

/* X-Wing (draft-connolly-cfrg-xwing-kem): ML-KEM-768 + X25519 with the
 * SHA3-256 combiner, through C_EncapsulateKey / C_DecapsulateKey.  hKey is
 * the ML-KEM-768 key (public to encapsulate, private to decapsulate);
 * hClassicKey the X25519 (CKK_EC_MONTGOMERY) key of the same side.
 * Ciphertext: ML-KEM ciphertext (1088 bytes) || X25519 ephemeral public
 * key (32 bytes); shared secret 32 bytes. */
#define CKM_CRATON_XWING 0x80000140UL

/* ML-DSA-65 + ECDSA P-256 over SHA-256: the signature is the ML-DSA-65
 * signature (3309 bytes) followed by the raw ECDSA r || s (64 bytes); both
 * are verified.  hKey is the ML-DSA-65 key; hClassicKey the P-256 key
 * (private to sign, public to verify). */
#define CKM_CRATON_ML_DSA_65_ECDSA_P256 0x80000130UL

typedef struct CK_CRATON_HYBRID_PARAMS {
    CK_OBJECT_HANDLE hClassicKey;
} CK_CRATON_HYBRID_PARAMS;

#endif
