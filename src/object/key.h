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
