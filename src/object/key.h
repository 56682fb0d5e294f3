/*
 * A key object's usable form: what the mechanisms need, built once from the
 * object's attributes (OpenSSL parsing and validation happen here, not on
 * every operation) and cached in the object until its attributes change,
 * the object goes, or the user logs out.  Reference counted: an operation
 * keeps its key alive even if the object is destroyed meanwhile.
 */
#ifndef CRATON_OBJECT_KEY_H
#define CRATON_OBJECT_KEY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "crypto/crypto.h"
#include "object/attr.h"
#include "pkcs11/pkcs11.h"

struct evp_pkey_st;

#define KEY_NOTE_MAX 64

struct key {
    atomic_uint refs;
    CK_OBJECT_CLASS cls;      /* CKO_SECRET_KEY, CKO_PUBLIC_KEY, CKO_PRIVATE_KEY */
    CK_KEY_TYPE type;         /* CKK_* */
    CK_ULONG bits;            /* RSA modulus bits, EC field bits, Edwards/Montgomery
                                 key bits, secret key CKA_VALUE bytes * 8 */
    struct evp_pkey_st *pkey; /* asymmetric keys; owned */
    unsigned char *secret;    /* secret keys: CKA_VALUE, secure heap; owned */
    size_t secret_len;
    const char *curve;        /* EC, Edwards, Montgomery: OpenSSL group/key name */
    CK_ULONG parameter_set;   /* ML-KEM / ML-DSA / SLH-DSA: CKA_PARAMETER_SET */
    bool always_authenticate; /* CKA_ALWAYS_AUTHENTICATE (private keys) */
    /* CKA_ID and CKA_LABEL (cut at KEY_NOTE_MAX bytes): what the audit log
     * names a used key by, without an attribute lookup per operation. */
    unsigned char id[KEY_NOTE_MAX];
    size_t id_len;
    unsigned char label[KEY_NOTE_MAX];
    size_t label_len;
    /* The use policy, copied from the attributes (the cache goes when they
     * change): usage attributes that are true, as KEY_USE bits; the
     * cryptoperiod (YYYYMMDD, -1: open); CKA_ALLOWED_MECHANISMS (NULL: any). */
    unsigned usage;
    long start, end;
    CK_MECHANISM_TYPE *allowed;
    size_t nallowed;
};

/* A CK_DATE attribute as YYYYMMDD (which compares in date order), or -1
 * when absent, empty or malformed. */
long key_date(const struct attr *a);

/* objects_check_use's rules on a built key: usage (0: not checked) must be
 * true, today within [start, end], mech in the allowed list (unless
 * CK_UNAVAILABLE_INFORMATION).  CKR_OK, CKR_KEY_FUNCTION_NOT_PERMITTED or
 * CKR_MECHANISM_INVALID. */
CK_RV key_permits(const struct key *k, CK_ATTRIBUTE_TYPE usage, CK_MECHANISM_TYPE mech, long today);

/* The approved set of keys (docs/mechanisms.md, "Approved-only mode"),
 * one test behind algorithms.fips_approved_only and
 * CKA_OBJECT_VALIDATION_FLAGS.  A key of type kt, size bits (RSA: modulus
 * bits; secret keys: value bits; ignored for the other types) and curve
 * (EC, Edwards, Montgomery keys: the OpenSSL name, as struct key's curve;
 * NULL when unknown) is approved when it is: RSA of at least 2048 bits; EC
 * on P-256, P-384 or P-521; Edwards on Ed25519 or Ed448; AES of 128, 192 or
 * 256 bits; a generic secret, HMAC or HKDF key of at least 112 bits
 * (SP 800-131A r2); ML-KEM, ML-DSA or SLH-DSA (FIPS 203/204/205).
 * Returns CKR_OK; CKR_KEY_SIZE_RANGE (too short, or AES of another length);
 * CKR_CURVE_NOT_SUPPORTED (a curve key on another curve: secp256k1, X25519,
 * X448, unknown); CKR_KEY_TYPE_INCONSISTENT (another key type: Triple
 * DES, ...). */
CK_RV key_approved_params(CK_KEY_TYPE kt, CK_ULONG bits, const char *curve) WARN_UNUSED;

/* key_approved_params of a built key. */
CK_RV key_approved(const struct key *k) WARN_UNUSED;

/* The bit of CKA_OBJECT_VALIDATION_FLAGS (and of C_GetSessionValidationFlags'
 * CKS_LAST_VALIDATION_OK) that means "in Craton's approved set" - a policy
 * of this module, not a CMVP validation. */
#define KEY_VALIDATION_APPROVED 0x1UL

/* CKA_OBJECT_VALIDATION_FLAGS of an object with attributes a, computed (the
 * attribute is never stored): KEY_VALIDATION_APPROVED for a key whose type,
 * size and curve pass key_approved_params (size from CKA_MODULUS,
 * CKA_VALUE_LEN or CKA_VALUE; curve from CKA_EC_PARAMS), else 0 (other
 * keys, and objects that are not keys). */
CK_FLAGS key_validation_flags(const struct attrs *a);

/* Builds the key of an object of class cls (CKO_SECRET_KEY, CKO_PUBLIC_KEY
 * or CKO_PRIVATE_KEY) with attributes a.  Returns CKR_OK and *out (one
 * reference), CKR_KEY_TYPE_INCONSISTENT when a is not a key, CKR_HOST_MEMORY,
 * or CKR_DEVICE_ERROR when stored material does not parse. */
CK_RV key_build(struct crypto *c, const struct attrs *a, struct key **out) WARN_UNUSED;

/* Takes / drops a reference (key_unref is NULL-safe; the last one wipes the
 * secret and frees the EVP_PKEY). */
struct key *key_ref(struct key *k);
void key_unref(struct key *k);

#endif
