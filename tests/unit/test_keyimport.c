/*
 * Unit tests for src/object/keyimport: validation of imported key material
 * and the attributes derived from it.  Keys are generated here with OpenSSL
 * under the module's own library context, taken apart into templates, and
 * fed back; damaged copies must be refused with the precise CKR.
 */
#include "unit_util.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509.h>

#include "object/attr.h"
#include "object/keyimport.h"

#define RSA_BITS 2048

/* DER of the curve OIDs and of a few PrintableString names. */
static const unsigned char OID_P256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                         0xce, 0x3d, 0x03, 0x01, 0x07};
static const unsigned char OID_P384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const unsigned char OID_P521[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};
static const unsigned char OID_K256[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a};
static const unsigned char OID_ED25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
static const unsigned char OID_ED448[] = {0x06, 0x03, 0x2b, 0x65, 0x71};
static const unsigned char OID_X25519[] = {0x06, 0x03, 0x2b, 0x65, 0x6e};
static const unsigned char OID_X448[] = {0x06, 0x03, 0x2b, 0x65, 0x6f};
/* brainpoolP256r1, 1.3.36.3.3.2.8.1.1.7: well-formed, not supported */
static const unsigned char OID_BP256[] = {0x06, 0x09, 0x2b, 0x24, 0x03, 0x03,
                                          0x02, 0x08, 0x01, 0x01, 0x07};

struct curve_case {
    const char *group; /* OpenSSL group name for keygen */
    int nid;
    const unsigned char *oid;
    size_t oid_len;
    const char *names[3];
};

static const struct curve_case ec_cases[] = {
    {"P-256",
     NID_X9_62_prime256v1,
     OID_P256,
     sizeof(OID_P256),
     {"prime256v1", "P-256", "secp256r1"}},
    {"P-384", NID_secp384r1, OID_P384, sizeof(OID_P384), {"secp384r1", "P-384", NULL}},
    {"P-521", NID_secp521r1, OID_P521, sizeof(OID_P521), {"secp521r1", "P-521", NULL}},
    {"secp256k1", NID_secp256k1, OID_K256, sizeof(OID_K256), {"secp256k1", NULL, NULL}},
};

struct ecx_case {
    const char *alg;
    CK_KEY_TYPE kt;
    const unsigned char *oid;
    size_t oid_len;
    size_t len;
    const char *names[2];
};

static const struct ecx_case ecx_cases[] = {
    {"ED25519", CKK_EC_EDWARDS, OID_ED25519, sizeof(OID_ED25519), 32, {"edwards25519", "ed25519"}},
    {"ED448", CKK_EC_EDWARDS, OID_ED448, sizeof(OID_ED448), 57, {"edwards448", "ed448"}},
    {"X25519", CKK_EC_MONTGOMERY, OID_X25519, sizeof(OID_X25519), 32, {"curve25519", "x25519"}},
    {"X448", CKK_EC_MONTGOMERY, OID_X448, sizeof(OID_X448), 56, {"curve448", "x448"}},
};

struct pqc_case {
    const char *alg;
    CK_KEY_TYPE kt;
    CK_ULONG set, other_set; /* other_set: same family, other lengths */
    size_t pub_len, priv_len;
};

static const struct pqc_case pqc_cases[] = {
    {"ML-KEM-768", CKK_ML_KEM, CKP_ML_KEM_768, CKP_ML_KEM_512, 1184, 2400},
    {"ML-DSA-65", CKK_ML_DSA, CKP_ML_DSA_65, CKP_ML_DSA_44, 1952, 4032},
    {"SLH-DSA-SHA2-128s", CKK_SLH_DSA, CKP_SLH_DSA_SHA2_128S, CKP_SLH_DSA_SHA2_256S, 32, 64},
};

/* ---- fixture and helpers ----------------------------------------------- */

static struct crypto *g_c;
static OSSL_LIB_CTX *g_lc;
static EVP_PKEY *g_rsa; /* RSA_BITS, generated once */

static int group_setup(void **state)
{
    (void)state;
    if (crypto_global_init(0) != CKR_OK || crypto_new(&g_c) != CKR_OK)
        return -1;
    g_lc = (OSSL_LIB_CTX *)crypto_libctx(g_c);
    g_rsa = EVP_PKEY_Q_keygen(g_lc, NULL, "RSA", (size_t)RSA_BITS);
    return g_rsa != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(g_rsa);
    crypto_free(g_c);
    return 0;
}

static CK_RV check(CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, struct attrs *t)
{
    return keyimport_check(g_c, cls, kt, t);
}

static void put(struct attrs *t, CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE type, const void *v,
                size_t len)
{
    assert_int_equal(attrs_set(t, cls, type, v, (CK_ULONG)len), CKR_OK);
}

static void put_ulong(struct attrs *t, CK_ATTRIBUTE_TYPE type, CK_ULONG v)
{
    assert_int_equal(attrs_set_ulong(t, type, v), CKR_OK);
}

/* A BIGNUM parameter of pk as a big-endian attribute. */
static void put_bn(struct attrs *t, CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE type, EVP_PKEY *pk,
                   const char *param)
{
    BIGNUM *bn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(pk, param, &bn), 1);
    unsigned char buf[1024];
    int n = BN_bn2bin(bn, buf);
    assert_true(n > 0 && (size_t)n <= sizeof(buf));
    put(t, cls, type, buf, (size_t)n);
    BN_clear_free(bn);
    OPENSSL_cleanse(buf, sizeof(buf));
}

/* An octet-string parameter of pk; returns its length (buf of cap bytes). */
static size_t get_octets(EVP_PKEY *pk, const char *param, unsigned char *buf, size_t cap)
{
    size_t len = 0;
    assert_int_equal(EVP_PKEY_get_octet_string_param(pk, param, buf, cap, &len), 1);
    return len;
}

static void put_octets(struct attrs *t, CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE type, EVP_PKEY *pk,
                       const char *param)
{
    unsigned char buf[8192];
    size_t len = get_octets(pk, param, buf, sizeof(buf));
    put(t, cls, type, buf, len);
    OPENSSL_cleanse(buf, sizeof(buf));
}

/* Replaces type by a copy with byte idx xor-ed with mask. */
static void flip(struct attrs *t, CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE type, size_t idx,
                 unsigned char mask)
{
    const struct attr *a = attrs_find(t, type);
    assert_non_null(a);
    assert_true(idx < a->len);
    unsigned char *copy = malloc(a->len);
    assert_non_null(copy);
    memcpy(copy, a->value, a->len);
    copy[idx] ^= mask;
    CK_ULONG len = a->len;
    put(t, cls, type, copy, len);
    free(copy);
}

static void assert_attr(const struct attrs *t, CK_ATTRIBUTE_TYPE type, const void *v, size_t len)
{
    const struct attr *a = attrs_find(t, type);
    assert_non_null(a);
    assert_int_equal(a->len, len);
    assert_memory_equal(a->value, v, len);
}

static void assert_ulong_attr(const struct attrs *t, CK_ATTRIBUTE_TYPE type, CK_ULONG want)
{
    CK_ULONG v = 0;
    assert_int_equal(attrs_get_ulong(t, type, &v), CKR_OK);
    assert_int_equal(v, want);
}

/* CKA_PUBLIC_KEY_INFO equals i2d_PUBKEY of the original key. */
static void assert_spki(const struct attrs *t, EVP_PKEY *pk)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(pk, &der);
    assert_true(n > 0);
    assert_attr(t, CKA_PUBLIC_KEY_INFO, der, (size_t)n);
    OPENSSL_free(der);
}

/* DER OCTET STRING around len bytes of v into out; returns its length. */
static size_t der_octets(const unsigned char *v, size_t len, unsigned char *out)
{
    size_t hdr = len < 0x80 ? 2 : 3;
    out[0] = 0x04;
    out[1] = len < 0x80 ? (unsigned char)len : 0x81;
    out[2] = (unsigned char)len;
    memcpy(out + hdr, v, len);
    return hdr + len;
}

/* DER PrintableString of name into out; returns its length. */
static size_t printable(const char *name, unsigned char *out)
{
    size_t len = strlen(name);
    out[0] = 0x13;
    out[1] = (unsigned char)len;
    memcpy(out + 2, name, len);
    return len + 2;
}

/* ---- RSA templates --------------------------------------------------------- */

static void rsa_template(struct attrs *t, CK_OBJECT_CLASS cls, EVP_PKEY *pk, bool crt)
{
    put_bn(t, cls, CKA_MODULUS, pk, OSSL_PKEY_PARAM_RSA_N);
    put_bn(t, cls, CKA_PUBLIC_EXPONENT, pk, OSSL_PKEY_PARAM_RSA_E);
    if (cls != CKO_PRIVATE_KEY)
        return;
    put_bn(t, cls, CKA_PRIVATE_EXPONENT, pk, OSSL_PKEY_PARAM_RSA_D);
    if (!crt)
        return;
    put_bn(t, cls, CKA_PRIME_1, pk, OSSL_PKEY_PARAM_RSA_FACTOR1);
    put_bn(t, cls, CKA_PRIME_2, pk, OSSL_PKEY_PARAM_RSA_FACTOR2);
    put_bn(t, cls, CKA_EXPONENT_1, pk, OSSL_PKEY_PARAM_RSA_EXPONENT1);
    put_bn(t, cls, CKA_EXPONENT_2, pk, OSSL_PKEY_PARAM_RSA_EXPONENT2);
    put_bn(t, cls, CKA_COEFFICIENT, pk, OSSL_PKEY_PARAM_RSA_COEFFICIENT1);
}

/* ---- secret keys ------------------------------------------------------------ */

static void test_aes_lengths(void **state)
{
    (void)state;
    unsigned char key[64];
    memset(key, 0x5a, sizeof(key));
    for (size_t len = 1; len <= 40; len++) {
        struct attrs t = {0};
        put(&t, CKO_SECRET_KEY, CKA_VALUE, key, len);
        CK_RV want = (len == 16 || len == 24 || len == 32) ? CKR_OK : CKR_ATTRIBUTE_VALUE_INVALID;
        assert_int_equal(check(CKO_SECRET_KEY, CKK_AES, &t), want);
        if (want == CKR_OK)
            assert_ulong_attr(&t, CKA_VALUE_LEN, len);
        attrs_free(&t);
    }
}

static void test_secret_value_len(void **state)
{
    (void)state;
    unsigned char key[32] = {1, 2, 3};
    struct attrs t = {0};
    put(&t, CKO_SECRET_KEY, CKA_VALUE, key, 32);
    put_ulong(&t, CKA_VALUE_LEN, 32);
    assert_int_equal(check(CKO_SECRET_KEY, CKK_AES, &t), CKR_OK);
    put_ulong(&t, CKA_VALUE_LEN, 16);
    assert_int_equal(check(CKO_SECRET_KEY, CKK_AES, &t), CKR_TEMPLATE_INCONSISTENT);
    put(&t, CKO_SECRET_KEY, CKA_VALUE_LEN, key, 3); /* not a CK_ULONG */
    assert_int_equal(check(CKO_SECRET_KEY, CKK_AES, &t), CKR_ATTRIBUTE_VALUE_INVALID);
    attrs_free(&t);
}

static void test_secret_missing_value(void **state)
{
    (void)state;
    struct attrs t = {0};
    put_ulong(&t, CKA_VALUE_LEN, 16);
    assert_int_equal(check(CKO_SECRET_KEY, CKK_AES, &t), CKR_TEMPLATE_INCOMPLETE);
    put(&t, CKO_SECRET_KEY, CKA_VALUE, NULL, 0); /* empty: a value, and not a valid one */
    assert_int_equal(check(CKO_SECRET_KEY, CKK_GENERIC_SECRET, &t), CKR_ATTRIBUTE_VALUE_INVALID);
    attrs_free(&t);
}

static void test_generic_and_hmac_any_length(void **state)
{
    (void)state;
    static const CK_KEY_TYPE types[] = {CKK_GENERIC_SECRET, CKK_SHA256_HMAC, CKK_SHA512_HMAC,
                                        CKK_SHA3_256_HMAC, CKK_SHA_1_HMAC};
    static const size_t lens[] = {1, 7, 20, 64, 1000, 4096};
    unsigned char *key = calloc(1, 4096);
    assert_non_null(key);
    for (size_t i = 0; i < ARRAY_SIZE(types); i++)
        for (size_t j = 0; j < ARRAY_SIZE(lens); j++) {
            struct attrs t = {0};
            put(&t, CKO_SECRET_KEY, CKA_VALUE, key, lens[j]);
            assert_int_equal(check(CKO_SECRET_KEY, types[i], &t), CKR_OK);
            assert_ulong_attr(&t, CKA_VALUE_LEN, lens[j]);
            attrs_free(&t);
        }
    free(key);
}

static void test_des3_length(void **state)
{
    (void)state;
    unsigned char key[24] = {0};
    struct attrs t = {0};
    put(&t, CKO_SECRET_KEY, CKA_VALUE, key, 24);
    assert_int_equal(check(CKO_SECRET_KEY, CKK_DES3, &t), CKR_OK);
    put(&t, CKO_SECRET_KEY, CKA_VALUE, key, 16);
    assert_int_equal(check(CKO_SECRET_KEY, CKK_DES3, &t), CKR_ATTRIBUTE_VALUE_INVALID);
    attrs_free(&t);
}

/* ---- RSA ------------------------------------------------------------------- */

static void test_rsa_private_crt(void **state)
{
    (void)state;
    struct attrs t = {0};
    rsa_template(&t, CKO_PRIVATE_KEY, g_rsa, true);
    ERR_clear_error();
    assert_int_equal(check(CKO_PRIVATE_KEY, CKK_RSA, &t), CKR_OK);
    assert_spki(&t, g_rsa);
    assert_null(attrs_find(&t, CKA_MODULUS_BITS)); /* a public-key attribute */
    assert_int_equal(ERR_peek_error(), 0);
    attrs_free(&t);
}

static void test_rsa_private_no_crt(void **state)
{
    (void)state;
    struct attrs t = {0};
    rsa_template(&t, CKO_PRIVATE_KEY, g_rsa, false);
    assert_int_equal(check(CKO_PRIVATE_KEY, CKK_RSA, &t), CKR_OK);
    assert_spki(&t, g_rsa);
    attrs_free(&t);
}

static void test_rsa_public(void **state)
{
    (void)state;
    struct attrs t = {0};
    rsa_template(&t, CKO_PUBLIC_KEY, g_rsa, false);
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_RSA, &t), CKR_OK);
    assert_ulong_attr(&t, CKA_MODULUS_BITS, RSA_BITS);
    assert_spki(&t, g_rsa);
    /* A second pass sees its own results as given values: still fine. */
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_RSA, &t), CKR_OK);
    attrs_free(&t);
}

static void test_rsa_modulus_bits(void **state)
{
    (void)state;
    struct attrs t = {0};
    rsa_template(&t, CKO_PUBLIC_KEY, g_rsa, false);
    put_ulong(&t, CKA_MODULUS_BITS, RSA_BITS);
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_RSA, &t), CKR_OK);
    put_ulong(&t, CKA_MODULUS_BITS, RSA_BITS - 1);
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_RSA, &t), CKR_TEMPLATE_INCONSISTENT);
    unsigned char four[4] = {0, 0, 8, 0};
    put(&t, CKO_PUBLIC_KEY, CKA_MODULUS_BITS, four, sizeof(four));
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_RSA, &t), CKR_ATTRIBUTE_VALUE_INVALID);
    attrs_free(&t);
}

static void assert_rsa_refused(CK_RV rv)
{
    assert_true(rv == CKR_ATTRIBUTE_VALUE_INVALID || rv == CKR_TEMPLATE_INCONSISTENT);
}

static void test_rsa_inconsistent_d(void **state)
{
    (void)state;
    for (int crt = 0; crt <= 1; crt++) {
        struct attrs t = {0};
        rsa_template(&t, CKO_PRIVATE_KEY, g_rsa, crt != 0);
        flip(&t, CKO_PRIVATE_KEY, CKA_PRIVATE_EXPONENT, 100, 0x01);
        CK_RV rv = check(CKO_PRIVATE_KEY, CKK_RSA, &t);
        assert_rsa_refused(rv);
        assert_null(attrs_find(&t, CKA_PUBLIC_KEY_INFO));
        attrs_free(&t);
    }
}

static void test_rsa_inconsistent_crt(void **state)
{
    (void)state;
    static const CK_ATTRIBUTE_TYPE types[] = {CKA_PRIME_1,    CKA_PRIME_2,     CKA_EXPONENT_1,
                                              CKA_EXPONENT_2, CKA_COEFFICIENT, CKA_MODULUS};
    for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
        struct attrs t = {0};
        rsa_template(&t, CKO_PRIVATE_KEY, g_rsa, true);
        flip(&t, CKO_PRIVATE_KEY, types[i], 10, 0x10);
        assert_rsa_refused(check(CKO_PRIVATE_KEY, CKK_RSA, &t));
        attrs_free(&t);
    }
    /* Public exponent of another key: e.d != 1. */
    struct attrs t = {0};
    rsa_template(&t, CKO_PRIVATE_KEY, g_rsa, false);
    static const unsigned char e3[] = {0x03};
    put(&t, CKO_PRIVATE_KEY, CKA_PUBLIC_EXPONENT, e3, 1);
    assert_rsa_refused(check(CKO_PRIVATE_KEY, CKK_RSA, &t));
    attrs_free(&t);
}

static void test_rsa_partial_crt(void **state)
{
    (void)state;
    static const CK_ATTRIBUTE_TYPE types[] = {CKA_PRIME_1, CKA_PRIME_2, CKA_EXPONENT_1,
                                              CKA_EXPONENT_2, CKA_COEFFICIENT};
    for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
        struct attrs t = {0};
        rsa_template(&t, CKO_PRIVATE_KEY, g_rsa, true);
        attrs_remove(&t, types[i]);
        assert_int_equal(check(CKO_PRIVATE_KEY, CKK_RSA, &t), CKR_TEMPLATE_INCONSISTENT);
        attrs_free(&t);
        /* Only this one component. */
        rsa_template(&t, CKO_PRIVATE_KEY, g_rsa, false);
        put_bn(&t, CKO_PRIVATE_KEY, types[i], g_rsa,
               i == 0 ? OSSL_PKEY_PARAM_RSA_FACTOR1 : OSSL_PKEY_PARAM_RSA_FACTOR2);
        assert_int_equal(check(CKO_PRIVATE_KEY, CKK_RSA, &t), CKR_TEMPLATE_INCONSISTENT);
        attrs_free(&t);
    }
}

static void test_rsa_bad_values(void **state)
{
    (void)state;
    static const unsigned char even[] = {0x01, 0x00, 0x00}, one[] = {0x01};
    struct attrs t = {0};
    rsa_template(&t, CKO_PUBLIC_KEY, g_rsa, false);
    put(&t, CKO_PUBLIC_KEY, CKA_PUBLIC_EXPONENT, even, sizeof(even));
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_RSA, &t), CKR_ATTRIBUTE_VALUE_INVALID);
    put(&t, CKO_PUBLIC_KEY, CKA_PUBLIC_EXPONENT, one, sizeof(one));
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_RSA, &t), CKR_ATTRIBUTE_VALUE_INVALID);
    attrs_free(&t);

    /* Even modulus. */
    rsa_template(&t, CKO_PUBLIC_KEY, g_rsa, false);
    const struct attr *n = attrs_find(&t, CKA_MODULUS);
    flip(&t, CKO_PUBLIC_KEY, CKA_MODULUS, n->len - 1, 0x01);
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_RSA, &t), CKR_ATTRIBUTE_VALUE_INVALID);
    attrs_free(&t);

    /* d >= n. */
    rsa_template(&t, CKO_PRIVATE_KEY, g_rsa, false);
    n = attrs_find(&t, CKA_MODULUS);
    unsigned char big[RSA_BITS / 8 + 1];
    memset(big, 0xff, sizeof(big));
    put(&t, CKO_PRIVATE_KEY, CKA_PRIVATE_EXPONENT, big, sizeof(big));
    assert_int_equal(check(CKO_PRIVATE_KEY, CKK_RSA, &t), CKR_ATTRIBUTE_VALUE_INVALID);
    attrs_free(&t);

    /* Modulus below 1024 bits (a real 512-bit key). */
    EVP_PKEY *small = EVP_PKEY_Q_keygen(g_lc, NULL, "RSA", (size_t)512);
    assert_non_null(small);
    for (int priv = 0; priv <= 1; priv++) {
        CK_OBJECT_CLASS cls = priv ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY;
        rsa_template(&t, cls, small, true);
        assert_int_equal(check(cls, CKK_RSA, &t), CKR_ATTRIBUTE_VALUE_INVALID);
        attrs_free(&t);
    }
    EVP_PKEY_free(small);
}

static void test_rsa_missing(void **state)
{
    (void)state;
    static const CK_ATTRIBUTE_TYPE req[] = {CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT};
    for (size_t i = 0; i < ARRAY_SIZE(req); i++) {
        struct attrs t = {0};
        rsa_template(&t, CKO_PRIVATE_KEY, g_rsa, true);
        attrs_remove(&t, req[i]);
        assert_int_equal(check(CKO_PRIVATE_KEY, CKK_RSA, &t), CKR_TEMPLATE_INCOMPLETE);
        put(&t, CKO_PRIVATE_KEY, req[i], NULL, 0);
        assert_int_equal(check(CKO_PRIVATE_KEY, CKK_RSA, &t), CKR_TEMPLATE_INCOMPLETE);
        attrs_free(&t);
    }
}

/* ---- EC ---------------------------------------------------------------------- */

/* Private: the scalar padded to the order's length.  Public: the point,
 * DER-wrapped or raw. */
static void ec_template(struct attrs *t, CK_OBJECT_CLASS cls, EVP_PKEY *pk,
                        const unsigned char *params, size_t plen, bool der)
{
    put(t, cls, CKA_EC_PARAMS, params, plen);
    if (cls == CKO_PRIVATE_KEY) {
        BIGNUM *d = NULL;
        unsigned char buf[66];
        assert_int_equal(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &d), 1);
        int len = (EVP_PKEY_get_bits(pk) + 7) / 8;
        assert_int_equal(BN_bn2binpad(d, buf, len), len);
        put(t, cls, CKA_VALUE, buf, (size_t)len);
        BN_clear_free(d);
        OPENSSL_cleanse(buf, sizeof(buf));
        return;
    }
    unsigned char pt[200], wrapped[200];
    size_t len = get_octets(pk, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt));
    if (der)
        put(t, cls, CKA_EC_POINT, wrapped, der_octets(pt, len, wrapped));
    else
        put(t, cls, CKA_EC_POINT, pt, len);
}

static void assert_der_point(const struct attrs *t, EVP_PKEY *pk)
{
    unsigned char pt[200], wrapped[200];
    size_t len = get_octets(pk, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt));
    assert_attr(t, CKA_EC_POINT, wrapped, der_octets(pt, len, wrapped));
}

static void test_ec_private(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(ec_cases); i++) {
        const struct curve_case *cc = &ec_cases[i];
        EVP_PKEY *pk = EVP_PKEY_Q_keygen(g_lc, NULL, "EC", cc->group);
        assert_non_null(pk);
        struct attrs t = {0};
        ec_template(&t, CKO_PRIVATE_KEY, pk, cc->oid, cc->oid_len, false);
        assert_int_equal(check(CKO_PRIVATE_KEY, CKK_EC, &t), CKR_OK);
        assert_spki(&t, pk);
        assert_attr(&t, CKA_EC_PARAMS, cc->oid, cc->oid_len);
        attrs_free(&t);
        EVP_PKEY_free(pk);
    }
}

static void test_ec_public_der_and_raw(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(ec_cases); i++) {
        const struct curve_case *cc = &ec_cases[i];
        EVP_PKEY *pk = EVP_PKEY_Q_keygen(g_lc, NULL, "EC", cc->group);
        assert_non_null(pk);
        for (int der = 0; der <= 1; der++) {
            struct attrs t = {0};
            ec_template(&t, CKO_PUBLIC_KEY, pk, cc->oid, cc->oid_len, der != 0);
            assert_int_equal(check(CKO_PUBLIC_KEY, CKK_EC, &t), CKR_OK);
            assert_der_point(&t, pk); /* normalised to the DER form */
            assert_spki(&t, pk);
            attrs_free(&t);
        }
        EVP_PKEY_free(pk);
    }
}

static void test_ec_params_by_name(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(ec_cases); i++) {
        const struct curve_case *cc = &ec_cases[i];
        EVP_PKEY *pk = EVP_PKEY_Q_keygen(g_lc, NULL, "EC", cc->group);
        assert_non_null(pk);
        for (size_t j = 0; j < 3 && cc->names[j] != NULL; j++) {
            unsigned char params[40];
            size_t plen = printable(cc->names[j], params);
            for (int priv = 0; priv <= 1; priv++) {
                CK_OBJECT_CLASS cls = priv ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY;
                struct attrs t = {0};
                ec_template(&t, cls, pk, params, plen, true);
                assert_int_equal(check(cls, CKK_EC, &t), CKR_OK);
                assert_attr(&t, CKA_EC_PARAMS, cc->oid, cc->oid_len);
                assert_spki(&t, pk);
                attrs_free(&t);
            }
        }
        EVP_PKEY_free(pk);
    }
}

static void test_ec_scalar_range(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(ec_cases); i++) {
        const struct curve_case *cc = &ec_cases[i];
        EC_GROUP *g = EC_GROUP_new_by_curve_name_ex(g_lc, NULL, cc->nid);
        assert_non_null(g);
        const BIGNUM *order = EC_GROUP_get0_order(g);
        int len = BN_num_bytes(order);
        unsigned char buf[66];
        struct attrs t = {0};
        put(&t, CKO_PRIVATE_KEY, CKA_EC_PARAMS, cc->oid, cc->oid_len);

        memset(buf, 0, sizeof(buf)); /* zero */
        put(&t, CKO_PRIVATE_KEY, CKA_VALUE, buf, (size_t)len);
        assert_int_equal(check(CKO_PRIVATE_KEY, CKK_EC, &t), CKR_ATTRIBUTE_VALUE_INVALID);

        assert_int_equal(BN_bn2binpad(order, buf, len), len); /* the order */
        put(&t, CKO_PRIVATE_KEY, CKA_VALUE, buf, (size_t)len);
        assert_int_equal(check(CKO_PRIVATE_KEY, CKK_EC, &t), CKR_ATTRIBUTE_VALUE_INVALID);

        memset(buf, 0xff, sizeof(buf)); /* above it */
        put(&t, CKO_PRIVATE_KEY, CKA_VALUE, buf, (size_t)len);
        assert_int_equal(check(CKO_PRIVATE_KEY, CKK_EC, &t), CKR_ATTRIBUTE_VALUE_INVALID);

        BIGNUM *top = BN_dup(order); /* order - 1 is the largest valid scalar */
        assert_non_null(top);
        assert_int_equal(BN_sub_word(top, 1), 1);
        assert_int_equal(BN_bn2binpad(top, buf, len), len);
        put(&t, CKO_PRIVATE_KEY, CKA_VALUE, buf, (size_t)len);
        assert_int_equal(check(CKO_PRIVATE_KEY, CKK_EC, &t), CKR_OK);

        static const unsigned char one[] = {0x01}; /* 1, unpadded */
        attrs_remove(&t, CKA_PUBLIC_KEY_INFO);
        put(&t, CKO_PRIVATE_KEY, CKA_VALUE, one, 1);
        assert_int_equal(check(CKO_PRIVATE_KEY, CKK_EC, &t), CKR_OK);
        BN_free(top);
        attrs_free(&t);
        EC_GROUP_free(g);
    }
}

static void test_ec_point_invalid(void **state)
{
    (void)state;
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(g_lc, NULL, "EC", "P-256");
    assert_non_null(pk);
    struct attrs t = {0};

    ec_template(&t, CKO_PUBLIC_KEY, pk, OID_P256, sizeof(OID_P256), false);
    flip(&t, CKO_PUBLIC_KEY, CKA_EC_POINT, 64, 0x01); /* y off the curve */
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_EC, &t), CKR_ATTRIBUTE_VALUE_INVALID);
    attrs_free(&t);

    ec_template(&t, CKO_PUBLIC_KEY, pk, OID_P256, sizeof(OID_P256), true);
    flip(&t, CKO_PUBLIC_KEY, CKA_EC_POINT, 40, 0x80); /* x inside the DER */
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_EC, &t), CKR_ATTRIBUTE_VALUE_INVALID);
    attrs_free(&t);

    static const unsigned char inf[] = {0x00}, der_inf[] = {0x04, 0x01, 0x00};
    static const unsigned char trunc[] = {0x04, 0x01, 0x02, 0x03};
    const unsigned char *bad[] = {inf, der_inf, trunc};
    const size_t bad_len[] = {sizeof(inf), sizeof(der_inf), sizeof(trunc)};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        put(&t, CKO_PUBLIC_KEY, CKA_EC_PARAMS, OID_P256, sizeof(OID_P256));
        put(&t, CKO_PUBLIC_KEY, CKA_EC_POINT, bad[i], bad_len[i]);
        assert_int_equal(check(CKO_PUBLIC_KEY, CKK_EC, &t), CKR_ATTRIBUTE_VALUE_INVALID);
        attrs_free(&t);
    }

    /* A P-256 point with P-384 parameters. */
    ec_template(&t, CKO_PUBLIC_KEY, pk, OID_P384, sizeof(OID_P384), true);
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_EC, &t), CKR_ATTRIBUTE_VALUE_INVALID);
    attrs_free(&t);

    /* Absent point. */
    put(&t, CKO_PUBLIC_KEY, CKA_EC_PARAMS, OID_P256, sizeof(OID_P256));
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_EC, &t), CKR_TEMPLATE_INCOMPLETE);
    attrs_free(&t);
    EVP_PKEY_free(pk);
}

static void test_ec_compressed_point(void **state)
{
    (void)state;
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(g_lc, NULL, "EC", "P-384");
    assert_non_null(pk);
    EC_GROUP *g = EC_GROUP_new_by_curve_name_ex(g_lc, NULL, NID_secp384r1);
    EC_POINT *p = EC_POINT_new(g);
    unsigned char pt[200], comp[100];
    size_t len = get_octets(pk, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt));
    assert_int_equal(EC_POINT_oct2point(g, p, pt, len, NULL), 1);
    size_t clen = EC_POINT_point2oct(g, p, POINT_CONVERSION_COMPRESSED, comp, sizeof(comp), NULL);
    assert_int_equal(clen, 49);
    struct attrs t = {0};
    put(&t, CKO_PUBLIC_KEY, CKA_EC_PARAMS, OID_P384, sizeof(OID_P384));
    put(&t, CKO_PUBLIC_KEY, CKA_EC_POINT, comp, clen);
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_EC, &t), CKR_OK);
    assert_der_point(&t, pk);
    attrs_free(&t);
    EC_POINT_free(p);
    EC_GROUP_free(g);
    EVP_PKEY_free(pk);
}

static void test_ec_params_unsupported_and_garbage(void **state)
{
    (void)state;
    unsigned char name[40];
    static const unsigned char explicit_params[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    static const unsigned char implicit_ca[] = {0x05, 0x00};
    static const unsigned char oid_bad_len[] = {0x06, 0x09, 0x2a, 0x86, 0x48};
    static const unsigned char oid_trailing[] = {0x06, 0x03, 0x2b, 0x65, 0x70, 0x00};
    static const unsigned char oid_unterminated[] = {0x06, 0x03, 0x2b, 0x65, 0xf0};
    static const unsigned char oid_empty[] = {0x06, 0x00};
    static const unsigned char bad_printable[] = {0x13, 0x03, 'a', '\0', 'b'};
    static const unsigned char garbage[] = {0xde, 0xad, 0xbe, 0xef};
    static const unsigned char utf8[] = {0x0c, 0x05, 'P', '-', '2', '5', '6'};
    struct {
        const unsigned char *v;
        size_t len;
        CK_RV want;
    } cases[] = {
        {OID_BP256, sizeof(OID_BP256), CKR_CURVE_NOT_SUPPORTED},
        {name, printable("brainpoolP256r1", name), CKR_CURVE_NOT_SUPPORTED},
        {explicit_params, sizeof(explicit_params), CKR_CURVE_NOT_SUPPORTED},
        {implicit_ca, sizeof(implicit_ca), CKR_CURVE_NOT_SUPPORTED},
        {oid_bad_len, sizeof(oid_bad_len), CKR_ATTRIBUTE_VALUE_INVALID},
        {oid_trailing, sizeof(oid_trailing), CKR_ATTRIBUTE_VALUE_INVALID},
        {oid_unterminated, sizeof(oid_unterminated), CKR_ATTRIBUTE_VALUE_INVALID},
        {oid_empty, sizeof(oid_empty), CKR_ATTRIBUTE_VALUE_INVALID},
        {bad_printable, sizeof(bad_printable), CKR_ATTRIBUTE_VALUE_INVALID},
        {garbage, sizeof(garbage), CKR_ATTRIBUTE_VALUE_INVALID},
        {utf8, sizeof(utf8), CKR_ATTRIBUTE_VALUE_INVALID},
        {NULL, 0, CKR_TEMPLATE_INCOMPLETE},
    };
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(g_lc, NULL, "EC", "P-256");
    assert_non_null(pk);
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct attrs t = {0};
        ec_template(&t, CKO_PUBLIC_KEY, pk, OID_P256, sizeof(OID_P256), true);
        put(&t, CKO_PUBLIC_KEY, CKA_EC_PARAMS, cases[i].v, cases[i].len);
        assert_int_equal(check(CKO_PUBLIC_KEY, CKK_EC, &t), cases[i].want);
        attrs_free(&t);
    }
    struct attrs t = {0}; /* absent */
    ec_template(&t, CKO_PUBLIC_KEY, pk, OID_P256, sizeof(OID_P256), true);
    attrs_remove(&t, CKA_EC_PARAMS);
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_EC, &t), CKR_TEMPLATE_INCOMPLETE);
    attrs_free(&t);
    EVP_PKEY_free(pk);
}

static void test_ec_params_wrong_key_type(void **state)
{
    (void)state;
    static const unsigned char point[33] = {0x04, 0x1f};
    struct attrs t = {0};
    put(&t, CKO_PUBLIC_KEY, CKA_EC_PARAMS, OID_ED25519, sizeof(OID_ED25519));
    put(&t, CKO_PUBLIC_KEY, CKA_EC_POINT, point, sizeof(point));
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_EC, &t), CKR_TEMPLATE_INCONSISTENT);
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_EC_MONTGOMERY, &t), CKR_TEMPLATE_INCONSISTENT);
    put(&t, CKO_PUBLIC_KEY, CKA_EC_PARAMS, OID_P256, sizeof(OID_P256));
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_EC_EDWARDS, &t), CKR_TEMPLATE_INCONSISTENT);
    attrs_free(&t);
}

/* ---- Edwards and Montgomery ------------------------------------------------- */

static void test_ecx_keys(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(ecx_cases); i++) {
        const struct ecx_case *xc = &ecx_cases[i];
        EVP_PKEY *pk = EVP_PKEY_Q_keygen(g_lc, NULL, xc->alg);
        assert_non_null(pk);
        unsigned char priv[64], pub[64], der[70];
        size_t plen = sizeof(priv), qlen = sizeof(pub);
        assert_int_equal(EVP_PKEY_get_raw_private_key(pk, priv, &plen), 1);
        assert_int_equal(EVP_PKEY_get_raw_public_key(pk, pub, &qlen), 1);
        assert_int_equal(plen, xc->len);
        size_t dlen = der_octets(pub, qlen, der);

        /* Private, by OID and by both names. */
        for (size_t j = 0; j < 3; j++) {
            unsigned char params[40];
            size_t len = j == 0 ? xc->oid_len : printable(xc->names[j - 1], params);
            struct attrs t = {0};
            put(&t, CKO_PRIVATE_KEY, CKA_EC_PARAMS, j == 0 ? xc->oid : params, len);
            put(&t, CKO_PRIVATE_KEY, CKA_VALUE, priv, plen);
            assert_int_equal(check(CKO_PRIVATE_KEY, xc->kt, &t), CKR_OK);
            assert_attr(&t, CKA_EC_PARAMS, xc->oid, xc->oid_len);
            assert_spki(&t, pk);
            attrs_free(&t);
        }
        /* Public, raw and DER; stored as DER. */
        for (int d = 0; d <= 1; d++) {
            struct attrs t = {0};
            put(&t, CKO_PUBLIC_KEY, CKA_EC_PARAMS, xc->oid, xc->oid_len);
            put(&t, CKO_PUBLIC_KEY, CKA_EC_POINT, d ? der : pub, d ? dlen : qlen);
            assert_int_equal(check(CKO_PUBLIC_KEY, xc->kt, &t), CKR_OK);
            assert_attr(&t, CKA_EC_POINT, der, dlen);
            assert_spki(&t, pk);
            attrs_free(&t);
        }
        OPENSSL_cleanse(priv, sizeof(priv));
        EVP_PKEY_free(pk);
    }
}

static void test_ecx_wrong_lengths(void **state)
{
    (void)state;
    unsigned char buf[80] = {0x04};
    for (size_t i = 0; i < ARRAY_SIZE(ecx_cases); i++) {
        const struct ecx_case *xc = &ecx_cases[i];
        const size_t lens[] = {xc->len - 1, xc->len + 1, xc->len + 2, 1};
        for (size_t j = 0; j < ARRAY_SIZE(lens); j++) {
            for (int priv = 0; priv <= 1; priv++) {
                CK_OBJECT_CLASS cls = priv ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY;
                struct attrs t = {0};
                put(&t, cls, CKA_EC_PARAMS, xc->oid, xc->oid_len);
                put(&t, cls, priv ? CKA_VALUE : CKA_EC_POINT, buf, lens[j]);
                assert_int_equal(check(cls, xc->kt, &t), CKR_ATTRIBUTE_VALUE_INVALID);
                attrs_free(&t);
            }
        }
        /* A DER wrapper whose length byte lies. */
        struct attrs t = {0};
        buf[0] = 0x04;
        buf[1] = (unsigned char)(xc->len - 1);
        put(&t, CKO_PUBLIC_KEY, CKA_EC_PARAMS, xc->oid, xc->oid_len);
        put(&t, CKO_PUBLIC_KEY, CKA_EC_POINT, buf, xc->len + 2);
        assert_int_equal(check(CKO_PUBLIC_KEY, xc->kt, &t), CKR_ATTRIBUTE_VALUE_INVALID);
        attrs_free(&t);
    }
}

/* ---- ML-KEM, ML-DSA, SLH-DSA ----------------------------------------------- */

static void pqc_template(struct attrs *t, CK_OBJECT_CLASS cls, EVP_PKEY *pk, CK_ULONG set)
{
    put_ulong(t, CKA_PARAMETER_SET, set);
    put_octets(t, cls, CKA_VALUE, pk,
               cls == CKO_PRIVATE_KEY ? OSSL_PKEY_PARAM_PRIV_KEY : OSSL_PKEY_PARAM_PUB_KEY);
}

static void test_pqc_import(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(pqc_cases); i++) {
        const struct pqc_case *pc = &pqc_cases[i];
        EVP_PKEY *pk = EVP_PKEY_Q_keygen(g_lc, NULL, pc->alg);
        assert_non_null(pk);
        for (int priv = 0; priv <= 1; priv++) {
            CK_OBJECT_CLASS cls = priv ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY;
            struct attrs t = {0};
            pqc_template(&t, cls, pk, pc->set);
            assert_int_equal(attrs_find(&t, CKA_VALUE)->len, priv ? pc->priv_len : pc->pub_len);
            assert_int_equal(check(cls, pc->kt, &t), CKR_OK);
            assert_spki(&t, pk);
            attrs_free(&t);
        }
        EVP_PKEY_free(pk);
    }
}

static void test_pqc_wrong_lengths_and_sets(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(pqc_cases); i++) {
        const struct pqc_case *pc = &pqc_cases[i];
        EVP_PKEY *pk = EVP_PKEY_Q_keygen(g_lc, NULL, pc->alg);
        assert_non_null(pk);
        for (int priv = 0; priv <= 1; priv++) {
            CK_OBJECT_CLASS cls = priv ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY;
            struct attrs t = {0};
            pqc_template(&t, cls, pk, pc->set);
            const struct attr *v = attrs_find(&t, CKA_VALUE);
            unsigned char *copy = malloc(v->len + 1);
            assert_non_null(copy);
            memcpy(copy, v->value, v->len);
            copy[v->len] = 0;
            size_t len = v->len;

            put(&t, cls, CKA_VALUE, copy, len - 1); /* one byte short */
            assert_int_equal(check(cls, pc->kt, &t), CKR_ATTRIBUTE_VALUE_INVALID);
            put(&t, cls, CKA_VALUE, copy, len + 1); /* one byte long */
            assert_int_equal(check(cls, pc->kt, &t), CKR_ATTRIBUTE_VALUE_INVALID);
            put(&t, cls, CKA_VALUE, copy, len);

            put_ulong(&t, CKA_PARAMETER_SET, pc->other_set); /* a set of another size */
            assert_int_equal(check(cls, pc->kt, &t), CKR_TEMPLATE_INCONSISTENT);
            put_ulong(&t, CKA_PARAMETER_SET, 0x7777);
            assert_int_equal(check(cls, pc->kt, &t), CKR_PARAMETER_SET_NOT_SUPPORTED);
            put(&t, cls, CKA_PARAMETER_SET, copy, 3); /* not a CK_ULONG */
            assert_int_equal(check(cls, pc->kt, &t), CKR_ATTRIBUTE_VALUE_INVALID);
            attrs_remove(&t, CKA_PARAMETER_SET);
            assert_int_equal(check(cls, pc->kt, &t), CKR_TEMPLATE_INCOMPLETE);
            put_ulong(&t, CKA_PARAMETER_SET, pc->set);
            attrs_remove(&t, CKA_VALUE);
            assert_int_equal(check(cls, pc->kt, &t), CKR_TEMPLATE_INCOMPLETE);
            put(&t, cls, CKA_VALUE, copy, len); /* and back to good */
            assert_int_equal(check(cls, pc->kt, &t), CKR_OK);
            OPENSSL_cleanse(copy, len);
            free(copy);
            attrs_free(&t);
        }
        EVP_PKEY_free(pk);
    }
}

static void test_pqc_corrupted_private(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(pqc_cases); i++) {
        const struct pqc_case *pc = &pqc_cases[i];
        EVP_PKEY *pk = EVP_PKEY_Q_keygen(g_lc, NULL, pc->alg);
        assert_non_null(pk);
        struct attrs t = {0};
        pqc_template(&t, CKO_PRIVATE_KEY, pk, pc->set);
        /* ML-KEM: inside H(ek); ML-DSA: inside tr; SLH-DSA: PK.root. */
        size_t idx = pc->kt == CKK_ML_KEM   ? pc->priv_len - 40
                     : pc->kt == CKK_ML_DSA ? 70
                                            : pc->priv_len - 1;
        flip(&t, CKO_PRIVATE_KEY, CKA_VALUE, idx, 0x01);
        assert_int_equal(check(CKO_PRIVATE_KEY, pc->kt, &t), CKR_ATTRIBUTE_VALUE_INVALID);
        assert_null(attrs_find(&t, CKA_PUBLIC_KEY_INFO));
        attrs_free(&t);
        EVP_PKEY_free(pk);
    }
}

static void test_pqc_wrong_key_type(void **state)
{
    (void)state;
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(g_lc, NULL, "ML-KEM-768");
    assert_non_null(pk);
    struct attrs t = {0};
    pqc_template(&t, CKO_PUBLIC_KEY, pk, CKP_ML_KEM_768);
    /* CKP_ML_KEM_768 == CKP_ML_DSA_65 numerically: the lengths differ. */
    assert_int_not_equal(check(CKO_PUBLIC_KEY, CKK_ML_DSA, &t), CKR_OK);
    attrs_free(&t);
    EVP_PKEY_free(pk);
}

static void test_pqc_seed(void **state)
{
    (void)state;
    static const struct {
        const char *alg;
        CK_KEY_TYPE kt;
        CK_ULONG set;
        size_t seed_len;
    } cases[] = {
        {"ML-KEM-768", CKK_ML_KEM, CKP_ML_KEM_768, 64},
        {"ML-DSA-65", CKK_ML_DSA, CKP_ML_DSA_65, 32},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        EVP_PKEY *pk = EVP_PKEY_Q_keygen(g_lc, NULL, cases[i].alg);
        assert_non_null(pk);
        unsigned char priv[4096], seed[64];
        size_t plen = get_octets(pk, OSSL_PKEY_PARAM_PRIV_KEY, priv, sizeof(priv));
        assert_int_equal(get_octets(pk, OSSL_PKEY_PARAM_ML_KEM_SEED, seed, sizeof(seed)),
                         cases[i].seed_len);

        struct attrs t = {0}; /* seed only: CKA_VALUE is filled in */
        put_ulong(&t, CKA_PARAMETER_SET, cases[i].set);
        put(&t, CKO_PRIVATE_KEY, CKA_SEED, seed, cases[i].seed_len);
        assert_int_equal(check(CKO_PRIVATE_KEY, cases[i].kt, &t), CKR_OK);
        assert_attr(&t, CKA_VALUE, priv, plen);
        assert_spki(&t, pk);
        /* seed and value agree */
        assert_int_equal(check(CKO_PRIVATE_KEY, cases[i].kt, &t), CKR_OK);
        /* another seed */
        flip(&t, CKO_PRIVATE_KEY, CKA_SEED, 0, 0x01);
        assert_int_equal(check(CKO_PRIVATE_KEY, cases[i].kt, &t), CKR_TEMPLATE_INCONSISTENT);
        put(&t, CKO_PRIVATE_KEY, CKA_SEED, seed, cases[i].seed_len - 1);
        assert_int_equal(check(CKO_PRIVATE_KEY, cases[i].kt, &t), CKR_ATTRIBUTE_VALUE_INVALID);
        attrs_free(&t);
        OPENSSL_cleanse(priv, sizeof(priv));
        OPENSSL_cleanse(seed, sizeof(seed));
        EVP_PKEY_free(pk);
    }
}

/* ---- CKA_PUBLIC_KEY_INFO ----------------------------------------------------- */

static void test_spki_given(void **state)
{
    (void)state;
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(g_lc, NULL, "EC", "P-256");
    assert_non_null(pk);
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(pk, &der);
    assert_true(n > 0);

    struct attrs t = {0};
    ec_template(&t, CKO_PUBLIC_KEY, pk, OID_P256, sizeof(OID_P256), true);
    put(&t, CKO_PUBLIC_KEY, CKA_PUBLIC_KEY_INFO, der, (size_t)n);
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_EC, &t), CKR_OK);
    flip(&t, CKO_PUBLIC_KEY, CKA_PUBLIC_KEY_INFO, (size_t)n - 1, 0x01);
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_EC, &t), CKR_TEMPLATE_INCONSISTENT);
    put(&t, CKO_PUBLIC_KEY, CKA_PUBLIC_KEY_INFO, der, (size_t)n - 1);
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_EC, &t), CKR_TEMPLATE_INCONSISTENT);
    put(&t, CKO_PUBLIC_KEY, CKA_PUBLIC_KEY_INFO, NULL, 0); /* the empty default */
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_EC, &t), CKR_OK);
    assert_spki(&t, pk);
    attrs_free(&t);

    /* The SPKI of another key with an RSA private key. */
    rsa_template(&t, CKO_PRIVATE_KEY, g_rsa, true);
    put(&t, CKO_PRIVATE_KEY, CKA_PUBLIC_KEY_INFO, der, (size_t)n);
    assert_int_equal(check(CKO_PRIVATE_KEY, CKK_RSA, &t), CKR_TEMPLATE_INCONSISTENT);
    attrs_free(&t);
    OPENSSL_free(der);
    EVP_PKEY_free(pk);
}

/* ---- certificates ------------------------------------------------------------ */

/* A self-signed P-256 certificate; *der (OPENSSL_free) and the expected
 * subject and serial DER. */
static size_t make_cert(unsigned char **der)
{
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(g_lc, NULL, "EC", "P-256");
    X509 *x = X509_new_ex(g_lc, NULL);
    X509_NAME *name = X509_NAME_new();
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_true(pk != NULL && x != NULL && name != NULL && md != NULL);
    assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
    assert_int_equal(ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), 0x1234567890abcdefULL), 1);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                                (const unsigned char *)"Craton test", -1, -1, 0),
                     1);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                                (const unsigned char *)"Craton", -1, -1, 0),
                     1);
    assert_int_equal(X509_set_subject_name(x, name), 1);
    assert_int_equal(X509_set_issuer_name(x, name), 1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400L));
    assert_int_equal(X509_set_pubkey(x, pk), 1);
    assert_int_equal(EVP_DigestSignInit_ex(md, NULL, "SHA256", g_lc, NULL, pk, NULL), 1);
    assert_true(X509_sign_ctx(x, md) > 0);
    *der = NULL;
    int n = i2d_X509(x, der);
    assert_true(n > 0);
    EVP_MD_CTX_free(md);
    X509_NAME_free(name);
    X509_free(x);
    EVP_PKEY_free(pk);
    return (size_t)n;
}

static void test_cert_fields(void **state)
{
    (void)state;
    unsigned char *der = NULL;
    size_t len = make_cert(&der);
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    assert_non_null(x);
    unsigned char *subj = NULL, *serial = NULL;
    int slen = i2d_X509_NAME(X509_get_subject_name(x), &subj);
    int nlen = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &serial);
    assert_true(slen > 0 && nlen > 0);

    struct attrs t = {0};
    put_ulong(&t, CKA_CERTIFICATE_TYPE, CKC_X_509);
    put(&t, CKO_CERTIFICATE, CKA_VALUE, der, len);
    put(&t, CKO_CERTIFICATE, CKA_ISSUER, NULL, 0); /* empty default: filled in */
    assert_int_equal(check(CKO_CERTIFICATE, CK_UNAVAILABLE_INFORMATION, &t), CKR_OK);
    assert_attr(&t, CKA_SUBJECT, subj, (size_t)slen);
    assert_attr(&t, CKA_ISSUER, subj, (size_t)slen); /* self-signed */
    assert_attr(&t, CKA_SERIAL_NUMBER, serial, (size_t)nlen);
    static const unsigned char serial_der[] = {0x02, 0x08, 0x12, 0x34, 0x56,
                                               0x78, 0x90, 0xab, 0xcd, 0xef};
    assert_attr(&t, CKA_SERIAL_NUMBER, serial_der, sizeof(serial_der));
    unsigned char *spki = NULL;
    int klen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
    assert_true(klen > 0);
    assert_attr(&t, CKA_PUBLIC_KEY_INFO, spki, (size_t)klen);
    OPENSSL_free(spki);
    attrs_free(&t);

    /* A given subject is the application's and stays. */
    put_ulong(&t, CKA_CERTIFICATE_TYPE, CKC_X_509);
    put(&t, CKO_CERTIFICATE, CKA_VALUE, der, len);
    put(&t, CKO_CERTIFICATE, CKA_SUBJECT, "abc", 3);
    assert_int_equal(check(CKO_CERTIFICATE, CK_UNAVAILABLE_INFORMATION, &t), CKR_OK);
    assert_attr(&t, CKA_SUBJECT, "abc", 3);
    attrs_free(&t);

    OPENSSL_free(subj);
    OPENSSL_free(serial);
    X509_free(x);
    OPENSSL_free(der);
}

static void test_cert_garbage(void **state)
{
    (void)state;
    unsigned char *der = NULL;
    size_t len = make_cert(&der);
    unsigned char *buf = malloc(len + 1);
    assert_non_null(buf);
    memcpy(buf, der, len);
    buf[len] = 0;
    struct {
        size_t len;
        size_t flip; /* SIZE_MAX: none */
    } cases[] = {
        {len + 1, SIZE_MAX}, /* trailing byte */
        {len - 1, SIZE_MAX}, /* truncated */
        {len, 1},            /* outer length */
        {len, 0},            /* tag */
        {10, SIZE_MAX},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct attrs t = {0};
        put_ulong(&t, CKA_CERTIFICATE_TYPE, CKC_X_509);
        put(&t, CKO_CERTIFICATE, CKA_VALUE, buf, cases[i].len);
        if (cases[i].flip != SIZE_MAX)
            flip(&t, CKO_CERTIFICATE, CKA_VALUE, cases[i].flip, 0x40);
        assert_int_equal(check(CKO_CERTIFICATE, CK_UNAVAILABLE_INFORMATION, &t),
                         CKR_ATTRIBUTE_VALUE_INVALID);
        assert_null(attrs_find(&t, CKA_SUBJECT));
        attrs_free(&t);
    }
    static const char text[] = "-----BEGIN CERTIFICATE-----";
    struct attrs t = {0};
    put_ulong(&t, CKA_CERTIFICATE_TYPE, CKC_X_509);
    put(&t, CKO_CERTIFICATE, CKA_VALUE, text, sizeof(text) - 1);
    assert_int_equal(check(CKO_CERTIFICATE, CK_UNAVAILABLE_INFORMATION, &t),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    /* Not X.509: the value is not parsed. */
    put_ulong(&t, CKA_CERTIFICATE_TYPE, CKC_X_509_ATTR_CERT);
    assert_int_equal(check(CKO_CERTIFICATE, CK_UNAVAILABLE_INFORMATION, &t), CKR_OK);
    attrs_free(&t);
    free(buf);
    OPENSSL_free(der);
}

static void test_cert_value_or_url(void **state)
{
    (void)state;
    struct attrs t = {0};
    put_ulong(&t, CKA_CERTIFICATE_TYPE, CKC_X_509);
    assert_int_equal(check(CKO_CERTIFICATE, CK_UNAVAILABLE_INFORMATION, &t),
                     CKR_TEMPLATE_INCOMPLETE);
    put(&t, CKO_CERTIFICATE, CKA_VALUE, NULL, 0);
    assert_int_equal(check(CKO_CERTIFICATE, CK_UNAVAILABLE_INFORMATION, &t),
                     CKR_TEMPLATE_INCOMPLETE);
    put(&t, CKO_CERTIFICATE, CKA_URL, "https://example.org/c.der", 25);
    assert_int_equal(check(CKO_CERTIFICATE, CK_UNAVAILABLE_INFORMATION, &t), CKR_OK);
    attrs_free(&t);
}

/* ---- other classes and key types ---------------------------------------------- */

static void test_other_classes(void **state)
{
    (void)state;
    struct attrs t = {0};
    put(&t, CKO_DATA, CKA_VALUE, "\x01\x02", 2);
    assert_int_equal(check(CKO_DATA, CK_UNAVAILABLE_INFORMATION, &t), CKR_OK);
    assert_int_equal(check(CKO_PROFILE, CK_UNAVAILABLE_INFORMATION, &t), CKR_OK);
    assert_int_equal(t.n, 1); /* nothing added */
    attrs_free(&t);
    assert_int_equal(keyimport_check(NULL, CKO_DATA, 0, &t), CKR_ARGUMENTS_BAD);
    assert_int_equal(keyimport_check(g_c, CKO_DATA, 0, NULL), CKR_ARGUMENTS_BAD);
}

static void test_unknown_asymmetric_type(void **state)
{
    (void)state;
    struct attrs t = {0};
    put(&t, CKO_PUBLIC_KEY, CKA_VALUE, "\x01\x02", 2);
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_DSA, &t), CKR_ATTRIBUTE_VALUE_INVALID);
    assert_int_equal(check(CKO_PRIVATE_KEY, CKK_AES, &t), CKR_ATTRIBUTE_VALUE_INVALID);
    attrs_free(&t);
}

static void test_error_queue_clean(void **state)
{
    (void)state;
    struct attrs t = {0};
    rsa_template(&t, CKO_PRIVATE_KEY, g_rsa, true);
    flip(&t, CKO_PRIVATE_KEY, CKA_PRIME_1, 5, 0x02);
    ERR_clear_error();
    assert_int_not_equal(check(CKO_PRIVATE_KEY, CKK_RSA, &t), CKR_OK);
    assert_int_equal(ERR_peek_error(), 0);
    attrs_free(&t);
    put_ulong(&t, CKA_PARAMETER_SET, CKP_ML_KEM_768);
    unsigned char junk[1184];
    memset(junk, 0xff, sizeof(junk));
    put(&t, CKO_PUBLIC_KEY, CKA_VALUE, junk, sizeof(junk));
    assert_int_equal(check(CKO_PUBLIC_KEY, CKK_ML_KEM, &t), CKR_ATTRIBUTE_VALUE_INVALID);
    assert_int_equal(ERR_peek_error(), 0);
    attrs_free(&t);
}

/* ---- random templates ---------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_random_templates(void **state)
{
    (void)state;
    static const CK_OBJECT_CLASS classes[] = {CKO_SECRET_KEY, CKO_PUBLIC_KEY, CKO_PRIVATE_KEY,
                                              CKO_CERTIFICATE, CKO_DATA};
    static const CK_KEY_TYPE types[] = {
        CKK_RSA,     CKK_EC,  CKK_EC_EDWARDS,     CKK_EC_MONTGOMERY, CKK_ML_KEM, CKK_ML_DSA,
        CKK_SLH_DSA, CKK_AES, CKK_GENERIC_SECRET, CKK_DES3,          CKK_DSA};
    static const CK_ATTRIBUTE_TYPE attrs_pool[] = {
        CKA_VALUE,
        CKA_VALUE_LEN,
        CKA_MODULUS,
        CKA_PUBLIC_EXPONENT,
        CKA_PRIVATE_EXPONENT,
        CKA_PRIME_1,
        CKA_PRIME_2,
        CKA_EXPONENT_1,
        CKA_EXPONENT_2,
        CKA_COEFFICIENT,
        CKA_EC_PARAMS,
        CKA_EC_POINT,
        CKA_PARAMETER_SET,
        CKA_SEED,
        CKA_MODULUS_BITS,
        CKA_PUBLIC_KEY_INFO,
        CKA_CERTIFICATE_TYPE,
        CKA_SUBJECT,
        CKA_URL,
    };
    /* Lengths that get past the first length checks. */
    static const size_t lens[] = {0,  1,  2,  3,  8,   16,  24,  32,  33,   49,   56,   57,  59,
                                  64, 65, 67, 97, 128, 133, 256, 800, 1184, 1952, 2400, 4032};
    static const unsigned char *oids[] = {OID_P256,  OID_P384,   OID_P521, OID_K256, OID_ED25519,
                                          OID_ED448, OID_X25519, OID_X448, OID_BP256};
    static const size_t oid_lens[] = {sizeof(OID_P256),   sizeof(OID_P384),    sizeof(OID_P521),
                                      sizeof(OID_K256),   sizeof(OID_ED25519), sizeof(OID_ED448),
                                      sizeof(OID_X25519), sizeof(OID_X448),    sizeof(OID_BP256)};
    unsigned char *buf = malloc(4096);
    assert_non_null(buf);
    for (int iter = 0; iter < 200; iter++) {
        CK_OBJECT_CLASS cls = classes[rnd() % ARRAY_SIZE(classes)];
        CK_KEY_TYPE kt = types[rnd() % ARRAY_SIZE(types)];
        struct attrs t = {0};
        size_t count = 1 + rnd() % 8;
        for (size_t k = 0; k < count; k++) {
            CK_ATTRIBUTE_TYPE type = attrs_pool[rnd() % ARRAY_SIZE(attrs_pool)];
            size_t len = lens[rnd() % ARRAY_SIZE(lens)];
            for (size_t b = 0; b < len; b++)
                buf[b] = (unsigned char)rnd();
            if (type == CKA_EC_PARAMS && rnd() % 2 == 0) {
                size_t o = rnd() % ARRAY_SIZE(oids);
                put(&t, cls, type, oids[o], oid_lens[o]);
            } else if ((type == CKA_PARAMETER_SET || type == CKA_VALUE_LEN ||
                        type == CKA_MODULUS_BITS || type == CKA_CERTIFICATE_TYPE) &&
                       rnd() % 2 == 0) {
                put_ulong(&t, type, rnd() % 4);
            } else {
                if (type == CKA_EC_POINT && len > 2 && rnd() % 2 == 0) {
                    buf[0] = 0x04; /* looks like DER or an uncompressed point */
                    buf[1] = (unsigned char)(len - 2);
                }
                if (type == CKA_MODULUS && len > 0)
                    buf[len - 1] |= 1; /* odd: reaches OpenSSL's checks */
                put(&t, cls, type, buf, len);
            }
        }
        CK_RV rv = check(cls, kt, &t);
        bool known = rv == CKR_OK || rv == CKR_ATTRIBUTE_VALUE_INVALID ||
                     rv == CKR_TEMPLATE_INCONSISTENT || rv == CKR_TEMPLATE_INCOMPLETE ||
                     rv == CKR_CURVE_NOT_SUPPORTED || rv == CKR_PARAMETER_SET_NOT_SUPPORTED;
        if (!known)
            print_message("iteration %d: class %lu type %lu -> 0x%lx\n", iter, (unsigned long)cls,
                          (unsigned long)kt, (unsigned long)rv);
        assert_true(known);
        /* Asymmetric keys from random bytes never pass. */
        if (cls == CKO_PUBLIC_KEY || cls == CKO_PRIVATE_KEY)
            assert_int_not_equal(rv, CKR_OK);
        attrs_free(&t);
    }
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aes_lengths),
        cmocka_unit_test(test_secret_value_len),
        cmocka_unit_test(test_secret_missing_value),
        cmocka_unit_test(test_generic_and_hmac_any_length),
        cmocka_unit_test(test_des3_length),
        cmocka_unit_test(test_rsa_private_crt),
        cmocka_unit_test(test_rsa_private_no_crt),
        cmocka_unit_test(test_rsa_public),
        cmocka_unit_test(test_rsa_modulus_bits),
        cmocka_unit_test(test_rsa_inconsistent_d),
        cmocka_unit_test(test_rsa_inconsistent_crt),
        cmocka_unit_test(test_rsa_partial_crt),
        cmocka_unit_test(test_rsa_bad_values),
        cmocka_unit_test(test_rsa_missing),
        cmocka_unit_test(test_ec_private),
        cmocka_unit_test(test_ec_public_der_and_raw),
        cmocka_unit_test(test_ec_params_by_name),
        cmocka_unit_test(test_ec_scalar_range),
        cmocka_unit_test(test_ec_point_invalid),
        cmocka_unit_test(test_ec_compressed_point),
        cmocka_unit_test(test_ec_params_unsupported_and_garbage),
        cmocka_unit_test(test_ec_params_wrong_key_type),
        cmocka_unit_test(test_ecx_keys),
        cmocka_unit_test(test_ecx_wrong_lengths),
        cmocka_unit_test(test_pqc_import),
        cmocka_unit_test(test_pqc_wrong_lengths_and_sets),
        cmocka_unit_test(test_pqc_corrupted_private),
        cmocka_unit_test(test_pqc_wrong_key_type),
        cmocka_unit_test(test_pqc_seed),
        cmocka_unit_test(test_spki_given),
        cmocka_unit_test(test_cert_fields),
        cmocka_unit_test(test_cert_garbage),
        cmocka_unit_test(test_cert_value_or_url),
        cmocka_unit_test(test_other_classes),
        cmocka_unit_test(test_unknown_asymmetric_type),
        cmocka_unit_test(test_error_queue_clean),
        cmocka_unit_test(test_random_templates),
    };
    return cmocka_run_group_tests_name("keyimport", tests, group_setup, group_teardown);
}
