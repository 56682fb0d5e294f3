#include "object/key.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

    CK_RV rv = CKR_OK;
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
    free(k);
}
