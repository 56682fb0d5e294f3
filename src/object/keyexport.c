#include "object/keyexport.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <string.h>

#define EXPORT_MAX_BN 1024 /* bytes: an 8192-bit modulus */

/* Sets type to the big-endian bytes of BIGNUM parameter name (padded to
 * pad bytes when pad > 0). */
static CK_RV set_bn(struct attrs *a, CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE type, EVP_PKEY *pkey,
                    const char *name, size_t pad)
{
    BIGNUM *bn = NULL;
    unsigned char buf[EXPORT_MAX_BN];
    CK_RV rv = CKR_DEVICE_ERROR;
    if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
        goto out;
    int n = pad > 0 ? (pad <= sizeof(buf) ? BN_bn2binpad(bn, buf, (int)pad) : -1)
                    : (BN_num_bytes(bn) <= (int)sizeof(buf) ? BN_bn2bin(bn, buf) : -1);
    if (n < 0)
        goto out;
    if (n == 0) { /* zero: one zero byte, never an empty value */
        buf[0] = 0;
        n = 1;
    }
    rv = attrs_set(a, cls, type, buf, (CK_ULONG)n);
out:
    OPENSSL_cleanse(buf, sizeof(buf));
    BN_clear_free(bn);
    return rv;
}

static CK_RV rsa_attrs(EVP_PKEY *pkey, struct attrs *pub, struct attrs *priv)
{
    static const struct {
        CK_ATTRIBUTE_TYPE type;
        const char *name;
    } comps[] = {
        {CKA_MODULUS, OSSL_PKEY_PARAM_RSA_N},
        {CKA_PUBLIC_EXPONENT, OSSL_PKEY_PARAM_RSA_E},
        {CKA_PRIVATE_EXPONENT, OSSL_PKEY_PARAM_RSA_D},
        {CKA_PRIME_1, OSSL_PKEY_PARAM_RSA_FACTOR1},
        {CKA_PRIME_2, OSSL_PKEY_PARAM_RSA_FACTOR2},
        {CKA_EXPONENT_1, OSSL_PKEY_PARAM_RSA_EXPONENT1},
        {CKA_EXPONENT_2, OSSL_PKEY_PARAM_RSA_EXPONENT2},
        {CKA_COEFFICIENT, OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
    };
    CK_RV rv = CKR_OK;
    for (size_t i = 0; rv == CKR_OK && i < 2 && pub != NULL; i++)
        rv = set_bn(pub, CKO_PUBLIC_KEY, comps[i].type, pkey, comps[i].name, 0);
    for (size_t i = 0; rv == CKR_OK && i < ARRAY_SIZE(comps) && priv != NULL; i++)
        rv = set_bn(priv, CKO_PRIVATE_KEY, comps[i].type, pkey, comps[i].name, 0);
    return rv;
}

/* CKA_EC_PARAMS: the DER of the curve's OBJECT IDENTIFIER. */
static CK_RV set_oid(struct attrs *a, CK_OBJECT_CLASS cls, int nid)
{
    ASN1_OBJECT *obj = OBJ_nid2obj(nid);
    unsigned char *der = NULL;
    int n = obj != NULL ? i2d_ASN1_OBJECT(obj, &der) : -1;
    if (n <= 0)
        return CKR_DEVICE_ERROR;
    CK_RV rv = attrs_set(a, cls, CKA_EC_PARAMS, der, (CK_ULONG)n);
    OPENSSL_free(der);
    return rv;
}

/* CKA_EC_POINT: DER OCTET STRING of the encoded point / raw key. */
static CK_RV set_point(struct attrs *a, const unsigned char *p, size_t len)
{
    unsigned char buf[8 + 256];
    size_t h = 0;
    if (len > 256)
        return CKR_DEVICE_ERROR;
    buf[h++] = 0x04;
    if (len >= 128)
        buf[h++] = 0x81;
    buf[h++] = (unsigned char)len;
    memcpy(buf + h, p, len);
    return attrs_set(a, CKO_PUBLIC_KEY, CKA_EC_POINT, buf, (CK_ULONG)(h + len));
}

static CK_RV ec_attrs(EVP_PKEY *pkey, struct attrs *pub, struct attrs *priv)
{
    char group[64];
    unsigned char point[256];
    size_t glen = 0, plen = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &glen) != 1)
        return CKR_DEVICE_ERROR;
    int nid = OBJ_txt2nid(group);
    if (nid == NID_undef)
        nid = EC_curve_nist2nid(group);
    if (nid == NID_undef)
        return CKR_DEVICE_ERROR;
    CK_RV rv = CKR_OK;
    if (pub != NULL) {
        if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
                                            sizeof(point), &plen) != 1)
            return CKR_DEVICE_ERROR;
        rv = set_oid(pub, CKO_PUBLIC_KEY, nid);
        if (rv == CKR_OK)
            rv = set_point(pub, point, plen);
    }
    if (rv == CKR_OK && priv != NULL) {
        rv = set_oid(priv, CKO_PRIVATE_KEY, nid);
        if (rv == CKR_OK)
            rv = set_bn(priv, CKO_PRIVATE_KEY, CKA_VALUE, pkey, OSSL_PKEY_PARAM_PRIV_KEY,
                        ((size_t)EVP_PKEY_get_bits(pkey) + 7) / 8);
    }
    return rv;
}

static CK_RV ecx_attrs(EVP_PKEY *pkey, struct attrs *pub, struct attrs *priv)
{
    unsigned char raw[64];
    size_t len = sizeof(raw);
    int nid = EVP_PKEY_get_base_id(pkey);
    CK_RV rv = CKR_OK;
    if (pub != NULL) {
        if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1)
            return CKR_DEVICE_ERROR;
        rv = set_oid(pub, CKO_PUBLIC_KEY, nid);
        if (rv == CKR_OK)
            rv = set_point(pub, raw, len);
    }
    len = sizeof(raw);
    if (rv == CKR_OK && priv != NULL) {
        if (EVP_PKEY_get_raw_private_key(pkey, raw, &len) != 1)
            rv = CKR_DEVICE_ERROR;
        if (rv == CKR_OK)
            rv = set_oid(priv, CKO_PRIVATE_KEY, nid);
        if (rv == CKR_OK)
            rv = attrs_set(priv, CKO_PRIVATE_KEY, CKA_VALUE, raw, (CK_ULONG)len);
    }
    OPENSSL_cleanse(raw, sizeof(raw));
    return rv;
}

/* ML-KEM, ML-DSA, SLH-DSA: OpenSSL's algorithm name -> CKA_PARAMETER_SET
 * (the names and sizes of keyimport.c's pqc_sets). */
static const struct {
    CK_KEY_TYPE kt;
    CK_ULONG set;
    const char *name;
} pqc_names[] = {
    {CKK_ML_KEM, CKP_ML_KEM_512, "ML-KEM-512"},
    {CKK_ML_KEM, CKP_ML_KEM_768, "ML-KEM-768"},
    {CKK_ML_KEM, CKP_ML_KEM_1024, "ML-KEM-1024"},
    {CKK_ML_DSA, CKP_ML_DSA_44, "ML-DSA-44"},
    {CKK_ML_DSA, CKP_ML_DSA_65, "ML-DSA-65"},
    {CKK_ML_DSA, CKP_ML_DSA_87, "ML-DSA-87"},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHA2_128S, "SLH-DSA-SHA2-128s"},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_128S, "SLH-DSA-SHAKE-128s"},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHA2_128F, "SLH-DSA-SHA2-128f"},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_128F, "SLH-DSA-SHAKE-128f"},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHA2_192S, "SLH-DSA-SHA2-192s"},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_192S, "SLH-DSA-SHAKE-192s"},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHA2_192F, "SLH-DSA-SHA2-192f"},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_192F, "SLH-DSA-SHAKE-192f"},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHA2_256S, "SLH-DSA-SHA2-256s"},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_256S, "SLH-DSA-SHAKE-256s"},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHA2_256F, "SLH-DSA-SHA2-256f"},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_256F, "SLH-DSA-SHAKE-256f"},
};

#define EXPORT_PQC_PUB_MAX  2592 /* ML-DSA-87 public key */
#define EXPORT_PQC_PRIV_MAX 4896 /* ML-DSA-87 private key */
#define EXPORT_PQC_SEED_MAX 64   /* ML-KEM d || z */

/* An octet-string parameter of pkey as attribute type (buf: max bytes,
 * secure heap for private material). */
static CK_RV set_octets(struct attrs *a, CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE type,
                        EVP_PKEY *pkey, const char *name, unsigned char *buf, size_t max)
{
    size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(pkey, name, buf, max, &len) != 1 || len == 0 || len > max)
        return CKR_DEVICE_ERROR;
    return attrs_set(a, cls, type, buf, (CK_ULONG)len);
}

/* CKA_PARAMETER_SET + CKA_VALUE (raw FIPS 203/204/205 encodings) and, for
 * ML-KEM / ML-DSA private keys that still hold it, CKA_SEED. */
static CK_RV pqc_attrs(EVP_PKEY *pkey, CK_KEY_TYPE kt, struct attrs *pub, struct attrs *priv)
{
    CK_ULONG set = 0;
    unsigned char *buf = NULL;
    CK_RV rv = CKR_KEY_TYPE_INCONSISTENT;
    for (size_t i = 0; i < ARRAY_SIZE(pqc_names) && set == 0; i++)
        if (pqc_names[i].kt == kt && EVP_PKEY_is_a(pkey, pqc_names[i].name))
            set = pqc_names[i].set;
    if (set == 0)
        goto out;
    rv = CKR_HOST_MEMORY;
    if ((buf = crypto_secret_alloc(EXPORT_PQC_PRIV_MAX)) == NULL)
        goto out;
    if (pub != NULL) {
        if ((rv = attrs_set_ulong(pub, CKA_PARAMETER_SET, set)) != CKR_OK ||
            (rv = set_octets(pub, CKO_PUBLIC_KEY, CKA_VALUE, pkey, OSSL_PKEY_PARAM_PUB_KEY, buf,
                             EXPORT_PQC_PUB_MAX)) != CKR_OK)
            goto out;
    }
    if (priv != NULL) {
        if ((rv = attrs_set_ulong(priv, CKA_PARAMETER_SET, set)) != CKR_OK ||
            (rv = set_octets(priv, CKO_PRIVATE_KEY, CKA_VALUE, pkey, OSSL_PKEY_PARAM_PRIV_KEY, buf,
                             EXPORT_PQC_PRIV_MAX)) != CKR_OK)
            goto out;
        /* OSSL_PKEY_PARAM_ML_KEM_SEED is the same name.  A key made from
         * its expanded form alone has no seed: OpenSSL then leaves the
         * parameter unset and CKA_SEED stays as the template has it (key
         * material is never given to generation or unwrapping). */
        size_t len = 0;
        if (kt != CKK_SLH_DSA &&
            EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ML_DSA_SEED, buf,
                                            EXPORT_PQC_SEED_MAX, &len) == 1 &&
            len > 0 && len <= EXPORT_PQC_SEED_MAX &&
            (rv = attrs_set(priv, CKO_PRIVATE_KEY, CKA_SEED, buf, (CK_ULONG)len)) != CKR_OK)
            goto out;
    }
    rv = CKR_OK;
out:
    crypto_secret_free(buf, EXPORT_PQC_PRIV_MAX);
    return rv;
}

/* What keyimport_check would add: CKA_PUBLIC_KEY_INFO on both halves, an
 * RSA public key's CKA_MODULUS_BITS. */
static CK_RV derived_attrs(EVP_PKEY *pkey, CK_KEY_TYPE kt, struct attrs *pub, struct attrs *priv)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(pkey, &der);
    if (n <= 0)
        return CKR_DEVICE_ERROR;
    CK_RV rv = CKR_OK;
    if (pub != NULL)
        rv = attrs_set(pub, CKO_PUBLIC_KEY, CKA_PUBLIC_KEY_INFO, der, (CK_ULONG)n);
    if (rv == CKR_OK && priv != NULL)
        rv = attrs_set(priv, CKO_PRIVATE_KEY, CKA_PUBLIC_KEY_INFO, der, (CK_ULONG)n);
    OPENSSL_free(der);
    if (rv == CKR_OK && pub != NULL && kt == CKK_RSA && attrs_find(pub, CKA_MODULUS_BITS) == NULL)
        rv = attrs_set_ulong(pub, CKA_MODULUS_BITS, (CK_ULONG)EVP_PKEY_get_bits(pkey));
    return rv;
}

CK_RV keyexport_attrs(EVP_PKEY *pkey, CK_KEY_TYPE kt, struct attrs *pub, struct attrs *priv)
{
    int id = EVP_PKEY_get_base_id(pkey);
    CK_RV rv;
    ERR_set_mark();
    switch (kt) {
    case CKK_RSA:
        rv = EVP_PKEY_is_a(pkey, "RSA") ? rsa_attrs(pkey, pub, priv) : CKR_KEY_TYPE_INCONSISTENT;
        break;
    case CKK_EC:
        rv = EVP_PKEY_is_a(pkey, "EC") ? ec_attrs(pkey, pub, priv) : CKR_KEY_TYPE_INCONSISTENT;
        break;
    case CKK_EC_EDWARDS:
        rv = id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448 ? ecx_attrs(pkey, pub, priv)
                                                            : CKR_KEY_TYPE_INCONSISTENT;
        break;
    case CKK_EC_MONTGOMERY:
        rv = id == EVP_PKEY_X25519 || id == EVP_PKEY_X448 ? ecx_attrs(pkey, pub, priv)
                                                          : CKR_KEY_TYPE_INCONSISTENT;
        break;
    case CKK_ML_KEM:
    case CKK_ML_DSA:
    case CKK_SLH_DSA:
        rv = pqc_attrs(pkey, kt, pub, priv);
        break;
    default:
        rv = CKR_KEY_TYPE_INCONSISTENT;
        break;
    }
    if (rv == CKR_OK)
        rv = derived_attrs(pkey, kt, pub, priv);
    ERR_pop_to_mark();
    return rv;
}

CK_RV keyexport_pkcs8(const struct key *k, unsigned char **der, size_t *len)
{
    *der = NULL;
    *len = 0;
    if (k->cls != CKO_PRIVATE_KEY || k->pkey == NULL)
        return CKR_KEY_NOT_WRAPPABLE;
    PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(k->pkey);
    if (p8 == NULL)
        return CKR_KEY_NOT_WRAPPABLE;
    unsigned char *tmp = NULL;
    int n = i2d_PKCS8_PRIV_KEY_INFO(p8, &tmp);
    PKCS8_PRIV_KEY_INFO_free(p8);
    if (n <= 0)
        return CKR_KEY_NOT_WRAPPABLE;
    CK_RV rv = CKR_HOST_MEMORY;
    *der = crypto_secret_alloc((size_t)n);
    if (*der != NULL) {
        memcpy(*der, tmp, (size_t)n);
        *len = (size_t)n;
        rv = CKR_OK;
    }
    OPENSSL_clear_free(tmp, (size_t)n);
    return rv;
}

CK_RV keyexport_from_pkcs8(struct crypto *c, const unsigned char *der, size_t len, CK_KEY_TYPE kt,
                           struct attrs *priv)
{
    const unsigned char *p = der;
    ERR_set_mark();
    PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);
    EVP_PKEY *pkey = NULL;
    if (p8 != NULL && p == der + len)
        pkey = EVP_PKCS82PKEY_ex(p8, (OSSL_LIB_CTX *)crypto_libctx(c), NULL);
    PKCS8_PRIV_KEY_INFO_free(p8);
    ERR_pop_to_mark();
    if (pkey == NULL)
        return CKR_WRAPPED_KEY_INVALID;
    CK_RV rv = keyexport_attrs(pkey, kt, NULL, priv);
    EVP_PKEY_free(pkey);
    return rv == CKR_KEY_TYPE_INCONSISTENT ? CKR_WRAPPED_KEY_INVALID : rv;
}
