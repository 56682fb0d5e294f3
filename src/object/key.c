#include "object/key.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "object/curve.h"
#include "object/keyimport.h"

static const char *curve_name(EVP_PKEY *pkey)
{
    static const char *const names[] = {"prime256v1", "secp384r1", "secp521r1", "secp256k1",
                                        "ED25519",    "ED448",     "X25519",    "X448"};
    char buf[64];
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, "group", buf, sizeof(buf), &len) != 1)
        snprintf(buf, sizeof(buf), "%s", EVP_PKEY_get0_type_name(pkey));
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(buf, names[i]) == 0)
            return names[i];
    return NULL;
}

/* The usage attributes, by KEY_USE bit. */
static const CK_ATTRIBUTE_TYPE USAGE[] = {
    CKA_ENCRYPT, CKA_DECRYPT, CKA_SIGN,   CKA_VERIFY,      CKA_SIGN_RECOVER, CKA_VERIFY_RECOVER,
    CKA_WRAP,    CKA_UNWRAP,  CKA_DERIVE, CKA_ENCAPSULATE, CKA_DECAPSULATE,
};
#define NUSAGE (sizeof(USAGE) / sizeof(USAGE[0]))

long key_date(const struct attr *a)
{
    if (a == NULL || a->len != sizeof(CK_DATE))
        return -1;
    long v = 0;
    for (size_t i = 0; i < 8; i++) {
        if (a->value[i] < '0' || a->value[i] > '9')
            return -1;
        v = v * 10 + (a->value[i] - '0');
    }
    return v;
}

/* Copies the use policy of attributes a into k. */
static CK_RV use_policy(struct key *k, const struct attrs *a)
{
    for (size_t i = 0; i < NUSAGE; i++)
        if (attrs_bool(a, USAGE[i], false))
            k->usage |= 1u << i;
    k->start = key_date(attrs_find(a, CKA_START_DATE));
    k->end = key_date(attrs_find(a, CKA_END_DATE));
    const struct attr *al = attrs_find(a, CKA_ALLOWED_MECHANISMS);
    if (al == NULL || al->len < sizeof(CK_MECHANISM_TYPE))
        return CKR_OK;
    k->nallowed = al->len / sizeof(CK_MECHANISM_TYPE);
    k->allowed = malloc(k->nallowed * sizeof(CK_MECHANISM_TYPE));
    if (k->allowed == NULL)
        return CKR_HOST_MEMORY;
    memcpy(k->allowed, al->value, k->nallowed * sizeof(CK_MECHANISM_TYPE));
    return CKR_OK;
}

CK_RV key_permits(const struct key *k, CK_ATTRIBUTE_TYPE usage, CK_MECHANISM_TYPE mech, long today)
{
    if (usage != 0) {
        size_t i = 0;
        while (i < NUSAGE && USAGE[i] != usage)
            i++;
        if (i == NUSAGE || !(k->usage & (1u << i)))
            return CKR_KEY_FUNCTION_NOT_PERMITTED;
    }
    if ((k->start >= 0 && today < k->start) || (k->end >= 0 && today > k->end))
        return CKR_KEY_FUNCTION_NOT_PERMITTED;
    if (k->allowed != NULL && mech != CK_UNAVAILABLE_INFORMATION) {
        for (size_t i = 0; i < k->nallowed; i++)
            if (k->allowed[i] == mech)
                return CKR_OK;
        return CKR_MECHANISM_INVALID;
    }
    return CKR_OK;
}

#define KEY_RSA_APPROVED_MIN    2048UL /* SP 800-131A r2: 112-bit security */
#define KEY_SECRET_APPROVED_MIN 112UL  /* bits: HMAC keys, SP 800-131A r2 table 9 */

CK_RV key_approved_params(CK_KEY_TYPE kt, CK_ULONG bits, const char *curve)
{
    CK_RV rv = CKR_OK;
    switch (kt) {
    case CKK_RSA:
        if (bits < KEY_RSA_APPROVED_MIN)
            rv = CKR_KEY_SIZE_RANGE;
        break;
    case CKK_EC:
    case CKK_EC_EDWARDS:
    case CKK_EC_MONTGOMERY:
        if (!curve_name_approved(curve))
            rv = CKR_CURVE_NOT_SUPPORTED;
        break;
    case CKK_AES:
        if (bits != 128 && bits != 192 && bits != 256)
            rv = CKR_KEY_SIZE_RANGE;
        break;
    case CKK_GENERIC_SECRET:
    case CKK_SHA_1_HMAC:
    case CKK_SHA224_HMAC:
    case CKK_SHA256_HMAC:
    case CKK_SHA384_HMAC:
    case CKK_SHA512_HMAC:
    case CKK_SHA512_224_HMAC:
    case CKK_SHA512_256_HMAC:
    case CKK_SHA3_224_HMAC:
    case CKK_SHA3_256_HMAC:
    case CKK_SHA3_384_HMAC:
    case CKK_SHA3_512_HMAC:
    case CKK_HKDF:
        if (bits < KEY_SECRET_APPROVED_MIN)
            rv = CKR_KEY_SIZE_RANGE;
        break;
    case CKK_ML_KEM:
    case CKK_ML_DSA:
    case CKK_SLH_DSA:
        break; /* every parameter set is approved */
    default:
        rv = CKR_KEY_TYPE_INCONSISTENT;
        break;
    }
    return rv;
}

CK_RV key_approved(const struct key *k)
{
    return key_approved_params(k->type, k->bits, k->curve);
}

/* Bits of a big-endian unsigned integer. */
static CK_ULONG be_bits(const struct attr *a)
{
    size_t i = 0;
    if (a == NULL)
        return 0;
    while (i < a->len && a->value[i] == 0)
        i++;
    if (i == a->len)
        return 0;
    CK_ULONG bits = (CK_ULONG)(a->len - i) * 8;
    for (unsigned char top = a->value[i]; (top & 0x80) == 0; top <<= 1)
        bits--;
    return bits;
}

CK_FLAGS key_validation_flags(const struct attrs *a)
{
    CK_ULONG cls = 0, kt = 0, bits = 0;
    const char *curve = NULL;
    if (attrs_get_ulong(a, CKA_CLASS, &cls) != CKR_OK ||
        attrs_get_ulong(a, CKA_KEY_TYPE, &kt) != CKR_OK ||
        (cls != CKO_SECRET_KEY && cls != CKO_PUBLIC_KEY && cls != CKO_PRIVATE_KEY))
        return 0;
    if (cls == CKO_SECRET_KEY) {
        CK_ULONG len = 0;
        const struct attr *v = attrs_find(a, CKA_VALUE);
        if (attrs_get_ulong(a, CKA_VALUE_LEN, &len) != CKR_OK)
            len = v != NULL ? v->len : 0;
        bits = len * 8;
    } else if (kt == CKK_RSA) {
        bits = be_bits(attrs_find(a, CKA_MODULUS));
    } else if (kt == CKK_EC || kt == CKK_EC_EDWARDS || kt == CKK_EC_MONTGOMERY) {
        const struct attr *p = attrs_find(a, CKA_EC_PARAMS);
        const struct curve *cv = NULL;
        if (p != NULL && curve_from_params(p, &cv) == CKR_OK)
            curve = cv->name;
    }
    return key_approved_params(kt, bits, curve) == CKR_OK ? KEY_VALIDATION_APPROVED : 0;
}

CK_RV key_build(struct crypto *c, const struct attrs *a, struct key **out)
{
    CK_ULONG cls = 0, kt = 0;
    *out = NULL;
    if (attrs_get_ulong(a, CKA_CLASS, &cls) != CKR_OK ||
        attrs_get_ulong(a, CKA_KEY_TYPE, &kt) != CKR_OK ||
        (cls != CKO_SECRET_KEY && cls != CKO_PUBLIC_KEY && cls != CKO_PRIVATE_KEY))
        return CKR_KEY_TYPE_INCONSISTENT;

    struct key *k = calloc(1, sizeof(*k));
    if (k == NULL)
        return CKR_HOST_MEMORY;
    atomic_init(&k->refs, 1);
    k->cls = cls;
    k->type = kt;
    k->always_authenticate = attrs_bool(a, CKA_ALWAYS_AUTHENTICATE, false);
    (void)attrs_get_ulong(a, CKA_PARAMETER_SET, &k->parameter_set);
    const struct attr *id = attrs_find(a, CKA_ID), *label = attrs_find(a, CKA_LABEL);
    if (id != NULL && id->len > 0) {
        k->id_len = id->len < KEY_NOTE_MAX ? id->len : KEY_NOTE_MAX;
        memcpy(k->id, id->value, k->id_len);
    }
    if (label != NULL && label->len > 0) {
        k->label_len = label->len < KEY_NOTE_MAX ? label->len : KEY_NOTE_MAX;
        memcpy(k->label, label->value, k->label_len);
    }

    CK_RV rv = use_policy(k, a);
    if (rv != CKR_OK) {
        key_unref(k);
        return rv;
    }
    if (cls == CKO_SECRET_KEY) {
        const struct attr *v = attrs_find(a, CKA_VALUE);
        if (v == NULL || v->len == 0) {
            rv = CKR_DEVICE_ERROR;
        } else if ((k->secret = crypto_secret_alloc(v->len)) == NULL) {
            rv = CKR_HOST_MEMORY;
        } else {
            memcpy(k->secret, v->value, v->len);
            k->secret_len = v->len;
            k->bits = (CK_ULONG)v->len * 8;
        }
    } else {
        EVP_PKEY *pkey = NULL;
        rv = keyimport_pkey(c, cls, kt, a, &pkey);
        if (rv == CKR_HOST_MEMORY)
            ;
        else if (rv != CKR_OK)
            rv = CKR_DEVICE_ERROR;
        else {
            k->pkey = pkey;
            k->bits = (CK_ULONG)EVP_PKEY_get_bits(pkey);
            if (kt == CKK_EC || kt == CKK_EC_EDWARDS || kt == CKK_EC_MONTGOMERY)
                k->curve = curve_name(pkey);
        }
    }
    if (rv != CKR_OK) {
        key_unref(k);
        return rv;
    }
    *out = k;
    return CKR_OK;
}

struct key *key_ref(struct key *k)
{
    atomic_fetch_add(&k->refs, 1);
    return k;
}

void key_unref(struct key *k)
{
    if (k == NULL || atomic_fetch_sub(&k->refs, 1) != 1)
        return;
    crypto_secret_free(k->secret, k->secret_len);
    EVP_PKEY_free(k->pkey);
    free(k->allowed);
    free(k);
}
