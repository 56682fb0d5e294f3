/*
 * Unit tests for src/mech/keygen.c: C_GenerateKey and C_GenerateKeyPair
 * through the family's generate / generate_pair.  Generated material must
 * pass keyimport_check and key_build as the p11 layer will run them, have
 * the stored formats (DER OCTET STRING points, padded scalars, raw
 * Edwards/Montgomery keys, minimal RSA integers) and work: pairs sign and
 * verify / agree through the ec family, and the public half matches the
 * private one (same CKA_PUBLIC_KEY_INFO).  Template errors give their
 * precise CKR.
 */
#include "mech_util.h"

#include <openssl/param_build.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "mech/mech.h"
#include "object/attr.h"
#include "object/key.h"
#include "object/keyimport.h"

static struct config g_cfg;
static struct crypto *g_c;
static OSSL_LIB_CTX *g_lc;

static const unsigned char OID_P256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                         0xce, 0x3d, 0x03, 0x01, 0x07};
static const unsigned char OID_P384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const unsigned char OID_P521[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};
static const unsigned char OID_K256[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a};
static const unsigned char OID_ED25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
static const unsigned char OID_ED448[] = {0x06, 0x03, 0x2b, 0x65, 0x71};
static const unsigned char OID_X25519[] = {0x06, 0x03, 0x2b, 0x65, 0x6e};
static const unsigned char OID_X448[] = {0x06, 0x03, 0x2b, 0x65, 0x6f};
/* brainpoolP256r1: well-formed, not supported */
static const unsigned char OID_BP256[] = {0x06, 0x09, 0x2b, 0x24, 0x03, 0x03,
                                          0x02, 0x08, 0x01, 0x01, 0x07};

static int group_setup(void **state)
{
    (void)state;
    if (mu_fixture_init(&g_cfg, &g_c) != 0)
        return -1;
    g_lc = (OSSL_LIB_CTX *)mech_libctx(g_c);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    mu_fixture_free(&g_cfg, g_c);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    config_free(&g_cfg);
    ERR_clear_error();
    return config_defaults(&g_cfg);
}

/* ---- helpers --------------------------------------------------------------- */

static CK_RV gen(CK_MECHANISM_TYPE mt, struct attrs *t)
{
    const struct mech_desc *d = mech_find(mt);
    assert_non_null(d);
    CK_MECHANISM m = {mt, NULL, 0};
    return d->family->generate(d, &m, g_c, &g_cfg, t);
}

static void same_spki(const struct attrs *pub, const struct attrs *priv)
{
    const struct attr *a = mu_need(pub, CKA_PUBLIC_KEY_INFO),
                      *b = mu_need(priv, CKA_PUBLIC_KEY_INFO);
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->value, b->value, a->len);
}

static void sign_verify(CK_MECHANISM_TYPE mt, struct key *priv, struct key *pub)
{
    const struct mech_desc *d = mech_find(mt);
    CK_MECHANISM m = {mt, NULL, 0};
    unsigned char msg[48] = "generated key pair, used through the mechanisms", sig[1024];
    CK_ULONG n = sizeof(sig);
    struct mech_op *op = NULL;
    assert_int_equal(mech_op_new(d, &m, CKF_SIGN, priv, g_c, &g_cfg, &op), CKR_OK);
    assert_int_equal(op->ops->oneshot(op, msg, sizeof(msg), sig, &n), CKR_OK);
    mech_op_free(op);
    assert_int_equal(mech_op_new(d, &m, CKF_VERIFY, pub, g_c, &g_cfg, &op), CKR_OK);
    assert_int_equal(op->ops->verify_oneshot(op, msg, sizeof(msg), sig, n), CKR_OK);
    mech_op_free(op);
    msg[0] ^= 1;
    assert_int_equal(mech_op_new(d, &m, CKF_VERIFY, pub, g_c, &g_cfg, &op), CKR_OK);
    assert_int_equal(op->ops->verify_oneshot(op, msg, sizeof(msg), sig, n), CKR_SIGNATURE_INVALID);
    mech_op_free(op);
}

/* ---- secret keys ------------------------------------------------------------ */

static void test_secret_lengths(void **state)
{
    (void)state;
    static const struct {
        CK_MECHANISM_TYPE mech;
        CK_ULONG len;  /* CKA_VALUE_LEN given; 0: none */
        CK_ULONG want; /* bytes generated */
    } cases[] = {
        {CKM_GENERIC_SECRET_KEY_GEN, 1, 1},
        {CKM_GENERIC_SECRET_KEY_GEN, 33, 33},
        {CKM_GENERIC_SECRET_KEY_GEN, ATTR_MAX_VALUE, ATTR_MAX_VALUE},
        {CKM_AES_KEY_GEN, 16, 16},
        {CKM_AES_KEY_GEN, 24, 24},
        {CKM_AES_KEY_GEN, 32, 32},
        {CKM_DES3_KEY_GEN, 0, 24},
        {CKM_DES3_KEY_GEN, 24, 24},
        {CKM_SHA_1_KEY_GEN, 0, 20},
        {CKM_SHA224_KEY_GEN, 0, 28},
        {CKM_SHA256_KEY_GEN, 0, 32},
        {CKM_SHA384_KEY_GEN, 0, 48},
        {CKM_SHA512_KEY_GEN, 0, 64},
        {CKM_SHA3_224_KEY_GEN, 0, 28},
        {CKM_SHA3_256_KEY_GEN, 0, 32},
        {CKM_SHA3_384_KEY_GEN, 0, 48},
        {CKM_SHA3_512_KEY_GEN, 0, 64},
        {CKM_HKDF_KEY_GEN, 0, 32},
        {CKM_SHA256_KEY_GEN, 17, 17},
        {CKM_HKDF_KEY_GEN, 100, 100},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct mech_desc *d = mech_find(cases[i].mech);
        struct attrs t, u;
        mu_tmpl(&t, CKO_SECRET_KEY, d->key_type);
        mu_tmpl(&u, CKO_SECRET_KEY, d->key_type);
        if (cases[i].len != 0) {
            assert_int_equal(attrs_set_ulong(&t, CKA_VALUE_LEN, cases[i].len), CKR_OK);
            assert_int_equal(attrs_set_ulong(&u, CKA_VALUE_LEN, cases[i].len), CKR_OK);
        }
        assert_int_equal(gen(cases[i].mech, &t), CKR_OK);
        assert_int_equal(gen(cases[i].mech, &u), CKR_OK);
        const struct attr *v = mu_need(&t, CKA_VALUE), *w = mu_need(&u, CKA_VALUE);
        assert_int_equal(v->len, cases[i].want);
        assert_true(v->secret);
        CK_ULONG len = 0;
        assert_int_equal(attrs_get_ulong(&t, CKA_VALUE_LEN, &len), CKR_OK);
        assert_int_equal(len, cases[i].want);
        /* two keys differ (1-byte keys may collide: 1/256) */
        if (cases[i].want > 1)
            assert_memory_not_equal(v->value, w->value, v->len);
        struct key *k = mu_finish(g_c, &t, CKO_SECRET_KEY, d->key_type);
        assert_int_equal(k->secret_len, cases[i].want);
        key_unref(k);
        attrs_free(&t);
        attrs_free(&u);
    }
}

static unsigned ones(unsigned char b)
{
    unsigned n = 0;
    for (; b != 0; b >>= 1)
        n += b & 1;
    return n;
}

static void test_des3(void **state)
{
    (void)state;
    for (int round = 0; round < 200; round++) {
        struct attrs t;
        mu_tmpl(&t, CKO_SECRET_KEY, CKK_DES3);
        assert_int_equal(gen(CKM_DES3_KEY_GEN, &t), CKR_OK);
        const struct attr *v = mu_need(&t, CKA_VALUE);
        assert_int_equal(v->len, 24);
        for (size_t i = 0; i < 24; i++)
            assert_int_equal(ones(v->value[i]) & 1, 1);
        assert_memory_not_equal(v->value, v->value + 8, 8);
        assert_memory_not_equal(v->value + 8, v->value + 16, 8);
        /* usable by OpenSSL as DES-EDE3 */
        EVP_CIPHER *ciph = EVP_CIPHER_fetch(g_lc, "DES-EDE3-ECB", NULL);
        EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
        assert_non_null(ciph);
        assert_int_equal(EVP_EncryptInit_ex2(x, ciph, v->value, NULL, NULL), 1);
        EVP_CIPHER_CTX_free(x);
        EVP_CIPHER_free(ciph);
        attrs_free(&t);
    }
}

static void test_secret_errors(void **state)
{
    (void)state;
    static const struct {
        CK_MECHANISM_TYPE mech;
        CK_KEY_TYPE kt;
        bool set;
        CK_ULONG len;
        CK_RV rv;
    } cases[] = {
        {CKM_GENERIC_SECRET_KEY_GEN, CKK_GENERIC_SECRET, false, 0, CKR_TEMPLATE_INCOMPLETE},
        {CKM_GENERIC_SECRET_KEY_GEN, CKK_GENERIC_SECRET, true, 0, CKR_ATTRIBUTE_VALUE_INVALID},
        {CKM_GENERIC_SECRET_KEY_GEN, CKK_GENERIC_SECRET, true, ATTR_MAX_VALUE + 1,
         CKR_KEY_SIZE_RANGE},
        {CKM_AES_KEY_GEN, CKK_AES, false, 0, CKR_TEMPLATE_INCOMPLETE},
        {CKM_AES_KEY_GEN, CKK_AES, true, 0, CKR_KEY_SIZE_RANGE},
        {CKM_AES_KEY_GEN, CKK_AES, true, 15, CKR_KEY_SIZE_RANGE},
        {CKM_AES_KEY_GEN, CKK_AES, true, 64, CKR_KEY_SIZE_RANGE},
        {CKM_DES3_KEY_GEN, CKK_DES3, true, 16, CKR_KEY_SIZE_RANGE},
        {CKM_SHA256_KEY_GEN, CKK_SHA256_HMAC, true, 0, CKR_ATTRIBUTE_VALUE_INVALID},
        {CKM_HKDF_KEY_GEN, CKK_HKDF, true, ATTR_MAX_VALUE + 1, CKR_KEY_SIZE_RANGE},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct attrs t;
        mu_tmpl(&t, CKO_SECRET_KEY, cases[i].kt);
        if (cases[i].set)
            assert_int_equal(attrs_set_ulong(&t, CKA_VALUE_LEN, cases[i].len), CKR_OK);
        assert_int_equal(gen(cases[i].mech, &t), cases[i].rv);
        assert_null(attrs_find(&t, CKA_VALUE));
        attrs_free(&t);
    }
    /* a malformed CKA_VALUE_LEN; a parameter */
    struct attrs t;
    mu_tmpl(&t, CKO_SECRET_KEY, CKK_AES);
    assert_int_equal(attrs_set(&t, CKO_SECRET_KEY, CKA_VALUE_LEN, "\x10", 1), CKR_OK);
    assert_int_equal(gen(CKM_AES_KEY_GEN, &t), CKR_ATTRIBUTE_VALUE_INVALID);
    attrs_free(&t);
    mu_tmpl(&t, CKO_SECRET_KEY, CKK_AES);
    assert_int_equal(attrs_set_ulong(&t, CKA_VALUE_LEN, 16), CKR_OK);
    const struct mech_desc *d = mech_find(CKM_AES_KEY_GEN);
    CK_ULONG junk = 0;
    CK_MECHANISM m = {CKM_AES_KEY_GEN, &junk, sizeof(junk)};
    assert_int_equal(d->family->generate(d, &m, g_c, &g_cfg, &t), CKR_MECHANISM_PARAM_INVALID);
    assert_null(attrs_find(&t, CKA_VALUE));
    attrs_free(&t);
}

/* ---- RSA -------------------------------------------------------------------- */

static void rsa_tmpl(struct attrs *pub, struct attrs *priv, CK_ULONG bits, const void *e,
                     size_t elen)
{
    mu_tmpl(pub, CKO_PUBLIC_KEY, CKK_RSA);
    mu_tmpl(priv, CKO_PRIVATE_KEY, CKK_RSA);
    if (bits != 0)
        assert_int_equal(attrs_set_ulong(pub, CKA_MODULUS_BITS, bits), CKR_OK);
    if (e != NULL)
        assert_int_equal(attrs_set(pub, CKO_PUBLIC_KEY, CKA_PUBLIC_EXPONENT, e, (CK_ULONG)elen),
                         CKR_OK);
}

static void rsa_check(struct attrs *pub, struct attrs *priv, CK_ULONG bits, const void *e,
                      size_t elen)
{
    static const CK_ATTRIBUTE_TYPE secret[] = {CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
                                               CKA_PRIME_2,          CKA_EXPONENT_1,
                                               CKA_EXPONENT_2,       CKA_COEFFICIENT};
    const struct attr *n = mu_need(pub, CKA_MODULUS), *pe = mu_need(pub, CKA_PUBLIC_EXPONENT);
    assert_int_equal(n->len, (bits + 7) / 8);
    assert_true(n->value[0] != 0);
    assert_int_equal(pe->len, elen);
    assert_memory_equal(pe->value, e, elen);
    assert_false(n->secret);
    const struct attr *n2 = mu_need(priv, CKA_MODULUS), *e2 = mu_need(priv, CKA_PUBLIC_EXPONENT);
    assert_int_equal(n2->len, n->len);
    assert_memory_equal(n2->value, n->value, n->len);
    assert_int_equal(e2->len, elen);
    for (size_t i = 0; i < ARRAY_SIZE(secret); i++) {
        const struct attr *a = mu_need(priv, secret[i]);
        assert_true(a->len > 0 && a->value[0] != 0); /* minimal big-endian */
        assert_true(a->secret);
        assert_null(attrs_find(pub, secret[i]));
    }
    struct key *kpub = mu_finish(g_c, pub, CKO_PUBLIC_KEY, CKK_RSA);
    struct key *kpriv = mu_finish(g_c, priv, CKO_PRIVATE_KEY, CKK_RSA);
    assert_int_equal(kpub->bits, bits);
    same_spki(pub, priv);
    /* the pair works (OpenSSL directly: the RSA family is tested elsewhere) */
    unsigned char msg[32] = "rsa pair", sig[1024];
    size_t sl = sizeof(sig);
    EVP_MD_CTX *x = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit_ex(x, NULL, "SHA2-256", g_lc, NULL, kpriv->pkey, NULL), 1);
    assert_int_equal(EVP_DigestSign(x, sig, &sl, msg, sizeof(msg)), 1);
    EVP_MD_CTX_reset(x);
    assert_int_equal(EVP_DigestVerifyInit_ex(x, NULL, "SHA2-256", g_lc, NULL, kpub->pkey, NULL), 1);
    assert_int_equal(EVP_DigestVerify(x, sig, sl, msg, sizeof(msg)), 1);
    EVP_MD_CTX_free(x);
    key_unref(kpub);
    key_unref(kpriv);
}

static const unsigned char E_65537[] = {0x01, 0x00, 0x01};

static void test_rsa(void **state)
{
    (void)state;
    struct attrs pub, priv;
    rsa_tmpl(&pub, &priv, 2048, NULL, 0);
    assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_RSA_PKCS_KEY_PAIR_GEN, &pub, &priv), CKR_OK);
    rsa_check(&pub, &priv, 2048, E_65537, sizeof(E_65537));
    attrs_free(&pub);
    attrs_free(&priv);

    /* a given exponent (leading zeros are not part of the stored value), an
     * odd modulus size */
    static const unsigned char e_given[] = {0x00, 0x00, 0x01, 0x00, 0x03};
    rsa_tmpl(&pub, &priv, 2050, e_given, sizeof(e_given));
    assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_RSA_PKCS_KEY_PAIR_GEN, &pub, &priv), CKR_OK);
    rsa_check(&pub, &priv, 2050, e_given + 2, 3);
    attrs_free(&pub);
    attrs_free(&priv);

    /* the exponent in the private template only */
    static const unsigned char e_big[] = {0x01, 0x00, 0x00, 0x00, 0x01};
    rsa_tmpl(&pub, &priv, 2048, NULL, 0);
    assert_int_equal(attrs_set(&priv, CKO_PRIVATE_KEY, CKA_PUBLIC_EXPONENT, e_big, sizeof(e_big)),
                     CKR_OK);
    assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_RSA_PKCS_KEY_PAIR_GEN, &pub, &priv), CKR_OK);
    rsa_check(&pub, &priv, 2048, e_big, sizeof(e_big));
    attrs_free(&pub);
    attrs_free(&priv);

    /* 1024 bits only with allow_weak_rsa */
    rsa_tmpl(&pub, &priv, 1024, NULL, 0);
    assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_RSA_PKCS_KEY_PAIR_GEN, &pub, &priv),
                     CKR_KEY_SIZE_RANGE);
    g_cfg.allow_weak_rsa = true;
    assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_RSA_PKCS_KEY_PAIR_GEN, &pub, &priv), CKR_OK);
    rsa_check(&pub, &priv, 1024, E_65537, sizeof(E_65537));
    attrs_free(&pub);
    attrs_free(&priv);
}

static void test_rsa_errors(void **state)
{
    (void)state;
    static const unsigned char e3[] = {0x03}, e_even[] = {0x01, 0x00, 0x00},
                               e_small[] = {0xff, 0xff};
    unsigned char e_huge[33];
    memset(e_huge, 0, sizeof(e_huge));
    e_huge[0] = 0x01; /* 2^256 + 1 */
    e_huge[32] = 0x01;
    static const struct {
        CK_ULONG bits;
        const unsigned char *e;
        size_t elen;
        CK_RV rv;
    } cases[] = {
        {0, NULL, 0, CKR_TEMPLATE_INCOMPLETE},
        {1024, NULL, 0, CKR_KEY_SIZE_RANGE},
        {2047, NULL, 0, CKR_KEY_SIZE_RANGE},
        {8193, NULL, 0, CKR_KEY_SIZE_RANGE},
        {16384, NULL, 0, CKR_KEY_SIZE_RANGE},
        {2048, e3, sizeof(e3), CKR_ATTRIBUTE_VALUE_INVALID},
        {2048, e_even, sizeof(e_even), CKR_ATTRIBUTE_VALUE_INVALID},
        {2048, e_small, sizeof(e_small), CKR_ATTRIBUTE_VALUE_INVALID},
    };
    struct attrs pub, priv;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        rsa_tmpl(&pub, &priv, cases[i].bits, cases[i].e, cases[i].elen);
        assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_RSA_PKCS_KEY_PAIR_GEN, &pub, &priv),
                         cases[i].rv);
        assert_null(attrs_find(&priv, CKA_PRIVATE_EXPONENT));
        assert_null(attrs_find(&pub, CKA_MODULUS));
        attrs_free(&pub);
        attrs_free(&priv);
    }
    rsa_tmpl(&pub, &priv, 2048, e_huge, sizeof(e_huge));
    assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_RSA_PKCS_KEY_PAIR_GEN, &pub, &priv),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    attrs_free(&pub);
    attrs_free(&priv);
    /* public and private exponents disagree */
    rsa_tmpl(&pub, &priv, 2048, E_65537, sizeof(E_65537));
    static const unsigned char e_other[] = {0x01, 0x00, 0x03};
    assert_int_equal(
        attrs_set(&priv, CKO_PRIVATE_KEY, CKA_PUBLIC_EXPONENT, e_other, sizeof(e_other)), CKR_OK);
    assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_RSA_PKCS_KEY_PAIR_GEN, &pub, &priv),
                     CKR_TEMPLATE_INCONSISTENT);
    attrs_free(&pub);
    attrs_free(&priv);
    /* a parameter */
    rsa_tmpl(&pub, &priv, 2048, NULL, 0);
    const struct mech_desc *d = mech_find(CKM_RSA_PKCS_KEY_PAIR_GEN);
    CK_ULONG junk = 0;
    CK_MECHANISM m = {d->type, &junk, sizeof(junk)};
    assert_int_equal(d->family->generate_pair(d, &m, g_c, &g_cfg, &pub, &priv),
                     CKR_MECHANISM_PARAM_INVALID);
    attrs_free(&pub);
    attrs_free(&priv);
}

/* ---- curves ----------------------------------------------------------------- */

/* CKA_EC_PARAMS as DER PrintableString. */
static size_t printable(const char *name, unsigned char *out)
{
    size_t n = strlen(name);
    out[0] = 0x13;
    out[1] = (unsigned char)n;
    memcpy(out + 2, name, n);
    return n + 2;
}

struct curve_case {
    CK_MECHANISM_TYPE mech;
    CK_KEY_TYPE kt;
    const unsigned char *oid;
    size_t oid_len;
    const char *name;
    size_t point_len; /* inside the OCTET STRING */
    size_t value_len;
};

static const struct curve_case curve_cases[] = {
    {CKM_EC_KEY_PAIR_GEN, CKK_EC, OID_P256, sizeof(OID_P256), "P-256", 65, 32},
    {CKM_EC_KEY_PAIR_GEN, CKK_EC, OID_P384, sizeof(OID_P384), "secp384r1", 97, 48},
    {CKM_EC_KEY_PAIR_GEN, CKK_EC, OID_P521, sizeof(OID_P521), "P-521", 133, 66},
    {CKM_EC_KEY_PAIR_GEN, CKK_EC, OID_K256, sizeof(OID_K256), "secp256k1", 65, 32},
    {CKM_EC_EDWARDS_KEY_PAIR_GEN, CKK_EC_EDWARDS, OID_ED25519, sizeof(OID_ED25519), "edwards25519",
     32, 32},
    {CKM_EC_EDWARDS_KEY_PAIR_GEN, CKK_EC_EDWARDS, OID_ED448, sizeof(OID_ED448), "edwards448", 57,
     57},
    {CKM_EC_MONTGOMERY_KEY_PAIR_GEN, CKK_EC_MONTGOMERY, OID_X25519, sizeof(OID_X25519),
     "curve25519", 32, 32},
    {CKM_EC_MONTGOMERY_KEY_PAIR_GEN, CKK_EC_MONTGOMERY, OID_X448, sizeof(OID_X448), "curve448", 56,
     56},
};

struct pair {
    struct attrs pub, priv;
    struct key *kpub, *kpriv;
};

/* Generates with CKA_EC_PARAMS = ec in pub (where 1), priv (2) or both (3). */
static CK_RV curve_gen(const struct curve_case *cc, const unsigned char *ec, size_t ec_len,
                       int where, struct pair *p)
{
    memset(p, 0, sizeof(*p));
    mu_tmpl(&p->pub, CKO_PUBLIC_KEY, cc->kt);
    mu_tmpl(&p->priv, CKO_PRIVATE_KEY, cc->kt);
    if (where & 1)
        assert_int_equal(attrs_set(&p->pub, CKO_PUBLIC_KEY, CKA_EC_PARAMS, ec, (CK_ULONG)ec_len),
                         CKR_OK);
    if (where & 2)
        assert_int_equal(attrs_set(&p->priv, CKO_PRIVATE_KEY, CKA_EC_PARAMS, ec, (CK_ULONG)ec_len),
                         CKR_OK);
    return mu_gen_pair(&g_cfg, g_c, cc->mech, &p->pub, &p->priv);
}

static void pair_check(const struct curve_case *cc, struct pair *p)
{
    const struct attr *a = mu_need(&p->pub, CKA_EC_PARAMS), *b = mu_need(&p->priv, CKA_EC_PARAMS);
    assert_int_equal(a->len, cc->oid_len);
    assert_memory_equal(a->value, cc->oid, cc->oid_len);
    assert_int_equal(b->len, cc->oid_len);
    assert_memory_equal(b->value, cc->oid, cc->oid_len);
    const struct attr *pt = mu_need(&p->pub, CKA_EC_POINT);
    size_t hdr = cc->point_len < 0x80 ? 2 : 3;
    assert_int_equal(pt->len, hdr + cc->point_len);
    assert_int_equal(pt->value[0], 0x04);
    if (hdr == 3)
        assert_int_equal(pt->value[1], 0x81);
    assert_int_equal(pt->value[hdr - 1], cc->point_len);
    if (cc->kt == CKK_EC)
        assert_int_equal(pt->value[hdr], 0x04);
    const struct attr *v = mu_need(&p->priv, CKA_VALUE);
    assert_int_equal(v->len, cc->value_len);
    assert_true(v->secret);
    assert_null(attrs_find(&p->pub, CKA_VALUE));
    assert_null(attrs_find(&p->priv, CKA_EC_POINT));
    p->kpub = mu_finish(g_c, &p->pub, CKO_PUBLIC_KEY, cc->kt);
    p->kpriv = mu_finish(g_c, &p->priv, CKO_PRIVATE_KEY, cc->kt);
    same_spki(&p->pub, &p->priv);
}

static void pair_free(struct pair *p)
{
    key_unref(p->kpub);
    key_unref(p->kpriv);
    attrs_free(&p->pub);
    attrs_free(&p->priv);
    memset(p, 0, sizeof(*p));
}

/* X25519/X448: two generated pairs agree through the ec family. */
static void agree(struct pair *a, struct pair *b)
{
    const struct mech_desc *d = mech_find(CKM_ECDH1_DERIVE);
    unsigned char *z1 = NULL, *z2 = NULL;
    size_t l1 = 0, l2 = 0;
    const struct attr *pa = mu_need(&a->pub, CKA_EC_POINT), *pb = mu_need(&b->pub, CKA_EC_POINT);
    CK_ECDH1_DERIVE_PARAMS p1 = {CKD_NULL, 0, NULL, pb->len, pb->value};
    CK_ECDH1_DERIVE_PARAMS p2 = {CKD_NULL, 0, NULL, pa->len, pa->value};
    CK_MECHANISM m1 = {CKM_ECDH1_DERIVE, &p1, sizeof(p1)}, m2 = {CKM_ECDH1_DERIVE, &p2, sizeof(p2)};
    assert_int_equal(d->family->derive(d, &m1, a->kpriv, g_c, &g_cfg, 0, &z1, &l1), CKR_OK);
    assert_int_equal(d->family->derive(d, &m2, b->kpriv, g_c, &g_cfg, 0, &z2, &l2), CKR_OK);
    assert_int_equal(l1, l2);
    assert_memory_equal(z1, z2, l1);
    crypto_secret_free(z1, l1);
    crypto_secret_free(z2, l2);
}

static void test_curves(void **state)
{
    (void)state;
    unsigned char name[64];
    for (size_t i = 0; i < ARRAY_SIZE(curve_cases); i++) {
        const struct curve_case *cc = &curve_cases[i];
        struct pair p, q;
        print_message("# %s\n", cc->name);
        /* OID in the public template */
        assert_int_equal(curve_gen(cc, cc->oid, cc->oid_len, 1, &p), CKR_OK);
        pair_check(cc, &p);
        /* the name in the private template only, then in both */
        size_t nl = printable(cc->name, name);
        assert_int_equal(curve_gen(cc, name, nl, 2, &q), CKR_OK);
        pair_check(cc, &q);
        assert_memory_not_equal(mu_need(&p.priv, CKA_VALUE)->value,
                                mu_need(&q.priv, CKA_VALUE)->value, cc->value_len);
        if (cc->kt == CKK_EC)
            sign_verify(CKM_ECDSA_SHA256, p.kpriv, p.kpub);
        else if (cc->kt == CKK_EC_EDWARDS)
            sign_verify(CKM_EDDSA, p.kpriv, p.kpub);
        else
            agree(&p, &q);
        pair_free(&p);
        pair_free(&q);
        assert_int_equal(curve_gen(cc, name, nl, 3, &p), CKR_OK);
        pair_check(cc, &p);
        pair_free(&p);
    }
}

static void test_curve_errors(void **state)
{
    (void)state;
    const struct curve_case *p256 = &curve_cases[0], *ed = &curve_cases[4], *x = &curve_cases[6];
    unsigned char buf[64];
    struct pair p;

    /* missing */
    assert_int_equal(curve_gen(p256, NULL, 0, 0, &p), CKR_TEMPLATE_INCOMPLETE);
    pair_free(&p);
    /* unknown curves: another OID, a name, explicit parameters, implicitlyCA */
    assert_int_equal(curve_gen(p256, OID_BP256, sizeof(OID_BP256), 1, &p), CKR_CURVE_NOT_SUPPORTED);
    pair_free(&p);
    size_t n = printable("brainpoolP256r1", buf);
    assert_int_equal(curve_gen(p256, buf, n, 1, &p), CKR_CURVE_NOT_SUPPORTED);
    pair_free(&p);
    static const unsigned char explicit_params[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    assert_int_equal(curve_gen(p256, explicit_params, sizeof(explicit_params), 1, &p),
                     CKR_CURVE_NOT_SUPPORTED);
    pair_free(&p);
    static const unsigned char implicit_ca[] = {0x05, 0x00};
    assert_int_equal(curve_gen(p256, implicit_ca, sizeof(implicit_ca), 1, &p),
                     CKR_CURVE_NOT_SUPPORTED);
    pair_free(&p);
    /* malformed: truncated, trailing bytes, bad OID encoding, not printable */
    assert_int_equal(curve_gen(p256, OID_P256, sizeof(OID_P256) - 1, 1, &p),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    pair_free(&p);
    memcpy(buf, OID_P256, sizeof(OID_P256));
    buf[sizeof(OID_P256)] = 0;
    assert_int_equal(curve_gen(p256, buf, sizeof(OID_P256) + 1, 1, &p),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    pair_free(&p);
    static const unsigned char bad_oid[] = {0x06, 0x02, 0x80, 0x01};
    assert_int_equal(curve_gen(p256, bad_oid, sizeof(bad_oid), 1, &p), CKR_ATTRIBUTE_VALUE_INVALID);
    pair_free(&p);
    static const unsigned char bad_name[] = {0x13, 0x03, 'P', '*', '1'};
    assert_int_equal(curve_gen(p256, bad_name, sizeof(bad_name), 1, &p),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    pair_free(&p);
    static const unsigned char utf8[] = {0x0c, 0x05, 'P', '-', '2', '5', '6'};
    assert_int_equal(curve_gen(p256, utf8, sizeof(utf8), 1, &p), CKR_ATTRIBUTE_VALUE_INVALID);
    pair_free(&p);
    /* the curve of another key type */
    assert_int_equal(curve_gen(p256, OID_ED25519, sizeof(OID_ED25519), 1, &p),
                     CKR_TEMPLATE_INCONSISTENT);
    pair_free(&p);
    assert_int_equal(curve_gen(ed, OID_X25519, sizeof(OID_X25519), 1, &p),
                     CKR_TEMPLATE_INCONSISTENT);
    pair_free(&p);
    assert_int_equal(curve_gen(x, OID_P256, sizeof(OID_P256), 1, &p), CKR_TEMPLATE_INCONSISTENT);
    pair_free(&p);
    /* public and private templates name different curves; the same curve
     * in two forms is fine */
    memset(&p, 0, sizeof(p));
    mu_tmpl(&p.pub, CKO_PUBLIC_KEY, CKK_EC);
    mu_tmpl(&p.priv, CKO_PRIVATE_KEY, CKK_EC);
    assert_int_equal(attrs_set(&p.pub, CKO_PUBLIC_KEY, CKA_EC_PARAMS, OID_P256, sizeof(OID_P256)),
                     CKR_OK);
    assert_int_equal(attrs_set(&p.priv, CKO_PRIVATE_KEY, CKA_EC_PARAMS, OID_P384, sizeof(OID_P384)),
                     CKR_OK);
    assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_EC_KEY_PAIR_GEN, &p.pub, &p.priv),
                     CKR_TEMPLATE_INCONSISTENT);
    assert_null(attrs_find(&p.priv, CKA_VALUE));
    n = printable("prime256v1", buf);
    assert_int_equal(attrs_set(&p.priv, CKO_PRIVATE_KEY, CKA_EC_PARAMS, buf, (CK_ULONG)n), CKR_OK);
    assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_EC_KEY_PAIR_GEN, &p.pub, &p.priv), CKR_OK);
    pair_check(p256, &p);
    pair_free(&p);
}

/* A key pair whose halves do not match: the public part of one generated
 * key with the private part of another. */
static EVP_PKEY *mismatched(const char *alg, const char *group)
{
    OSSL_LIB_CTX *lc = (OSSL_LIB_CTX *)mech_libctx(g_c);
    EVP_PKEY *a =
        group != NULL ? EVP_PKEY_Q_keygen(lc, NULL, alg, group) : EVP_PKEY_Q_keygen(lc, NULL, alg);
    EVP_PKEY *b =
        group != NULL ? EVP_PKEY_Q_keygen(lc, NULL, alg, group) : EVP_PKEY_Q_keygen(lc, NULL, alg);
    assert_non_null(a);
    assert_non_null(b);
    OSSL_PARAM *pa = NULL, *pb = NULL;
    assert_int_equal(EVP_PKEY_todata(a, EVP_PKEY_PUBLIC_KEY, &pa), 1);
    assert_int_equal(EVP_PKEY_todata(b, EVP_PKEY_KEYPAIR, &pb), 1);
    OSSL_PARAM *priv = OSSL_PARAM_locate(pb, OSSL_PKEY_PARAM_PRIV_KEY);
    assert_non_null(priv);
    OSSL_PARAM both[] = {OSSL_PARAM_END, OSSL_PARAM_END, OSSL_PARAM_END, OSSL_PARAM_END};
    size_t n = 0;
    for (OSSL_PARAM *p = pa; p->key != NULL && n < 2; p++)
        both[n++] = *p;
    both[n] = *priv;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(lc, alg, NULL);
    EVP_PKEY *out = NULL;
    assert_non_null(pc);
    assert_int_equal(EVP_PKEY_fromdata_init(pc), 1);
    if (EVP_PKEY_fromdata(pc, &out, EVP_PKEY_KEYPAIR, both) != 1) {
        out = NULL; /* OpenSSL refuses to build such a pair itself */
        ERR_clear_error();
    }
    EVP_PKEY_CTX_free(pc);
    OSSL_PARAM_free(pa);
    OSSL_PARAM_free(pb); /* wipes its secure part */
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    return out;
}

/* The pairwise consistency test accepts a real pair and rejects halves of
 * two different keys, for every key type it covers. */
static void test_pairwise_check(void **state)
{
    (void)state;
    OSSL_LIB_CTX *lc = (OSSL_LIB_CTX *)mech_libctx(g_c);
    static const struct {
        const char *alg, *group;
        CK_KEY_TYPE kt;
    } kinds[] = {
        {"EC", "P-256", CKK_EC},
        {"ED25519", NULL, CKK_EC_EDWARDS},
        {"X25519", NULL, CKK_EC_MONTGOMERY},
    };
    size_t rejected = 0;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        EVP_PKEY *good = kinds[i].group != NULL
                             ? EVP_PKEY_Q_keygen(lc, NULL, kinds[i].alg, kinds[i].group)
                             : EVP_PKEY_Q_keygen(lc, NULL, kinds[i].alg);
        assert_int_equal(mech_pairwise_check(g_c, good, kinds[i].kt), CKR_OK);
        EVP_PKEY *bad = mismatched(kinds[i].alg, kinds[i].group);
        print_message("# %s: a mismatched pair %s\n", kinds[i].alg,
                      bad != NULL ? "is rejected" : "cannot even be built");
        if (bad != NULL)
            assert_int_equal(mech_pairwise_check(g_c, bad, kinds[i].kt), CKR_DEVICE_ERROR);
        rejected += bad != NULL;
        EVP_PKEY_free(good);
        EVP_PKEY_free(bad);
    }
    assert_true(rejected >=
                1); /* EdDSA and X25519 pairs can be mismatched; EC ones OpenSSL refuses to build */
    /* RSA: n, e of one key with d of another (no CRT: the sign uses d). */
    EVP_PKEY *a = EVP_PKEY_Q_keygen(lc, NULL, "RSA", (size_t)2048);
    EVP_PKEY *b = EVP_PKEY_Q_keygen(lc, NULL, "RSA", (size_t)2048);
    BIGNUM *n = NULL, *e = NULL, *d = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(a, OSSL_PKEY_PARAM_RSA_N, &n), 1);
    assert_int_equal(EVP_PKEY_get_bn_param(a, OSSL_PKEY_PARAM_RSA_E, &e), 1);
    assert_int_equal(EVP_PKEY_get_bn_param(b, OSSL_PKEY_PARAM_RSA_D, &d), 1);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n), 1);
    assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e), 1);
    assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d), 1);
    OSSL_PARAM *ps = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(lc, "RSA", NULL);
    EVP_PKEY *bad = NULL;
    assert_int_equal(EVP_PKEY_fromdata_init(pc), 1);
    assert_int_equal(EVP_PKEY_fromdata(pc, &bad, EVP_PKEY_KEYPAIR, ps), 1);
    assert_int_equal(mech_pairwise_check(g_c, a, CKK_RSA), CKR_OK);
    assert_int_equal(mech_pairwise_check(g_c, bad, CKK_RSA), CKR_DEVICE_ERROR);
    EVP_PKEY_CTX_free(pc);
    OSSL_PARAM_free(ps);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    BN_clear_free(d);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    EVP_PKEY_free(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_secret_lengths, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_des3, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_secret_errors, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_rsa, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_rsa_errors, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_curves, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_curve_errors, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_pairwise_check, setup, mu_check_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
