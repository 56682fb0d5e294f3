/*
 * From OpenSSL keys to PKCS#11 attributes and back to bytes: the key
 * material of a generated or unwrapped key as the attributes we store
 * (keyimport.h documents the formats), and a private key as PKCS#8 for
 * C_WrapKey.
 */
#ifndef CRATON_OBJECT_KEYEXPORT_H
#define CRATON_OBJECT_KEYEXPORT_H

#include <stddef.h>

#include "crypto/crypto.h"
#include "object/attr.h"
#include "object/key.h"
#include "pkcs11/pkcs11.h"

struct evp_pkey_st;

/* Sets the key material of pkey (of PKCS#11 key type kt) in pub (public
 * components: CKA_MODULUS + CKA_PUBLIC_EXPONENT, CKA_EC_PARAMS +
 * CKA_EC_POINT) and priv (everything a private key object holds: the RSA
 * CRT components, CKA_EC_PARAMS + CKA_VALUE); either may be NULL.  Used
 * for generated key pairs (mech/keygen.c) and unwrapped private keys.
 * Formats: RSA components minimal big-endian; CKA_EC_PARAMS the DER of the
 * curve's OBJECT IDENTIFIER (replacing any value there: for the curves of
 * object/curve.h the same bytes as curve->oid); CKA_EC_POINT a DER OCTET
 * STRING of the encoded point (EC, uncompressed for a generated key) or of
 * the raw public key (Edwards, Montgomery); CKA_VALUE the private scalar
 * padded to the order's size (the field size for every curve of curve.h)
 * or the raw private key.  ML-KEM, ML-DSA, SLH-DSA: CKA_PARAMETER_SET on
 * both halves (from OpenSSL's algorithm name), CKA_VALUE the raw FIPS 203 /
 * 204 / 205 encoding (public key; expanded private key), and on an ML-KEM /
 * ML-DSA private key CKA_SEED (d || z, xi) when OpenSSL still holds the seed
 * (not for a key made from its expanded form alone).  Both halves also get
 * CKA_PUBLIC_KEY_INFO (and an RSA public key CKA_MODULUS_BITS), as
 * keyimport_check would compute them; the result passes keyimport_check.
 * Returns CKR_OK, CKR_HOST_MEMORY, CKR_KEY_TYPE_INCONSISTENT (pkey is not a
 * kt key) or CKR_DEVICE_ERROR. */
CK_RV keyexport_attrs(struct evp_pkey_st *pkey, CK_KEY_TYPE kt, struct attrs *pub,
                      struct attrs *priv) WARN_UNUSED;

/* The PKCS#8 PrivateKeyInfo DER of private key k: *der in the secure heap
 * (crypto_secret_free(*der, *len)).  CKR_OK, CKR_HOST_MEMORY,
 * CKR_KEY_NOT_WRAPPABLE (no PKCS#8 form). */
CK_RV keyexport_pkcs8(const struct key *k, unsigned char **der, size_t *len) WARN_UNUSED;

/* Parses a PKCS#8 PrivateKeyInfo (an unwrapped private key) of key type kt
 * into priv's key material.  CKR_WRAPPED_KEY_INVALID when it does not parse
 * or is not a kt key. */
CK_RV keyexport_from_pkcs8(struct crypto *c, const unsigned char *der, size_t len, CK_KEY_TYPE kt,
                           struct attrs *priv) WARN_UNUSED;

#endif
