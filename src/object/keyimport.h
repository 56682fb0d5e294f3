/*
 * Validation of key material given by the application (C_CreateObject,
 * and later C_UnwrapKey / C_DeriveKey results) with OpenSSL, and the
 * attributes the module computes from it.
 */
#ifndef CRATON_OBJECT_KEYIMPORT_H
#define CRATON_OBJECT_KEYIMPORT_H

#include "crypto/crypto.h"
#include "object/attr.h"
#include "pkcs11/pkcs11.h"

/*
 * Checks the key of a complete template t (after rules_complete_new) of
 * class cls and key type kt, and adds what the module derives:
 *  - CKO_SECRET_KEY: CKA_VALUE present; AES 16/24/32 bytes, DES3 24,
 *    GENERIC_SECRET and the SHA*-HMAC types 1..ATTR_MAX_VALUE bytes;
 *    CKA_VALUE_LEN, when given, must equal the length (else
 *    CKR_TEMPLATE_INCONSISTENT), and is added otherwise.
 *  - CKK_RSA private keys: CKA_MODULUS, CKA_PUBLIC_EXPONENT,
 *    CKA_PRIVATE_EXPONENT required; with the CRT components (CKA_PRIME_1/2,
 *    CKA_EXPONENT_1/2, CKA_COEFFICIENT: all or none) the key is checked for
 *    consistency with OpenSSL (EVP_PKEY_private_check / pairwise);
 *    public keys: CKA_MODULUS and CKA_PUBLIC_EXPONENT; CKA_MODULUS_BITS is
 *    set from the modulus (a given one must match).
 *  - CKK_EC: CKA_EC_PARAMS as DER of a named-curve OID (P-256, P-384, P-521,
 *    secp256k1) or of a PrintableString name ("prime256v1", "secp384r1", ...)
 *    -> normalised to the OID; unknown curve -> CKR_CURVE_NOT_SUPPORTED;
 *    private: CKA_VALUE (the scalar, in range); public: CKA_EC_POINT (DER
 *    OCTET STRING of the uncompressed point, also accepted raw) on the curve.
 *  - CKK_EC_EDWARDS / CKK_EC_MONTGOMERY: CKA_EC_PARAMS naming Ed25519/Ed448
 *    or X25519/X448 (OID or PrintableString "edwards25519", "curve25519",
 *    ...); private CKA_VALUE / public CKA_EC_POINT of the right length.
 *  - CKK_ML_KEM / CKK_ML_DSA / CKK_SLH_DSA: CKA_PARAMETER_SET required and
 *    supported (CKR_PARAMETER_SET_NOT_SUPPORTED... as the PQC issue says);
 *    CKA_VALUE of the exact FIPS 203/204/205 length, parsed by OpenSSL.
 *  - Every asymmetric key (public and private): CKA_PUBLIC_KEY_INFO, the DER
 *    SubjectPublicKeyInfo, computed (a given one must match).
 * Malformed or inconsistent material: CKR_ATTRIBUTE_VALUE_INVALID or
 * CKR_TEMPLATE_INCONSISTENT, never a crash.  Missing required attribute:
 * CKR_TEMPLATE_INCOMPLETE.  Data objects, certificates, profiles: CKR_OK
 * (a certificate's CKA_VALUE must parse as X.509 DER when
 * CKA_CERTIFICATE_TYPE is CKC_X_509: else CKR_ATTRIBUTE_VALUE_INVALID; its
 * CKA_SUBJECT / CKA_ISSUER / CKA_SERIAL_NUMBER are filled in when absent).
 */
CK_RV keyimport_check(struct crypto *c, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt,
                      struct attrs *t) WARN_UNUSED;

/* The OpenSSL key of an asymmetric key object's attributes a (complete, as
 * stored), validated as keyimport_check does; *out is the caller's
 * (EVP_PKEY_free).  Same return codes as keyimport_check. */
struct evp_pkey_st;
CK_RV keyimport_pkey(struct crypto *c, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, const struct attrs *a,
                     struct evp_pkey_st **out) WARN_UNUSED;

#endif
