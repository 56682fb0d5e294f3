/*
 * Unit tests for src/mech/rsa.c: the RSA family called directly through
 * mech_op_new and the operation functions.  Known answers from Wycheproof
 * (PKCS#1 v1.5 is deterministic), round trips of PSS / OAEP / X.509 /
 * recover, cross-checks against OpenSSL used directly, and every parameter
 * and length error with its precise CKR.
 */
#include "mech_util.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "mech/mech.h"
#include "object/attr.h"
#include "object/key.h"
#include "object/keyimport.h"

#define KLEN     256  /* 2048-bit modulus bytes */
#define ODD_BITS 2049 /* emLen = k - 1: the PSS salt bound's corner */
#define MAXB     1024

struct rsakey {
    EVP_PKEY *pkey;
    struct key *priv, *pub;
};

static struct config g_cfg;
static struct crypto *g_c;
static OSSL_LIB_CTX *g_lc;
static struct rsakey g_k;   /* 2048 bits, CRT */
static struct rsakey g_odd; /* ODD_BITS */

/* ---- keys ------------------------------------------------------------------ */

static void put_bignum(struct attrs *t, CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE type,
                       const BIGNUM *bn)
{
    unsigned char buf[MAXB];
    int n = BN_bn2bin(bn, buf);
    assert_int_equal(attrs_set(t, cls, type, buf, (CK_ULONG)n), CKR_OK);
    OPENSSL_cleanse(buf, sizeof(buf));
}

static void put_bn(struct attrs *t, CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE type, EVP_PKEY *pk,
                   const char *param)
{
    BIGNUM *bn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(pk, param, &bn), 1);
    put_bignum(t, cls, type, bn);
    BN_clear_free(bn);
}

static struct key *build(struct attrs *t, CK_OBJECT_CLASS cls)
{
    return mu_build(g_c, t, cls, CKK_RSA);
}

static struct key *key_of(EVP_PKEY *pk, CK_OBJECT_CLASS cls)
{
    struct attrs t = {0};
    put_bn(&t, cls, CKA_MODULUS, pk, OSSL_PKEY_PARAM_RSA_N);
    put_bn(&t, cls, CKA_PUBLIC_EXPONENT, pk, OSSL_PKEY_PARAM_RSA_E);
    if (cls == CKO_PRIVATE_KEY) {
        put_bn(&t, cls, CKA_PRIVATE_EXPONENT, pk, OSSL_PKEY_PARAM_RSA_D);
        put_bn(&t, cls, CKA_PRIME_1, pk, OSSL_PKEY_PARAM_RSA_FACTOR1);
        put_bn(&t, cls, CKA_PRIME_2, pk, OSSL_PKEY_PARAM_RSA_FACTOR2);
        put_bn(&t, cls, CKA_EXPONENT_1, pk, OSSL_PKEY_PARAM_RSA_EXPONENT1);
        put_bn(&t, cls, CKA_EXPONENT_2, pk, OSSL_PKEY_PARAM_RSA_EXPONENT2);
        put_bn(&t, cls, CKA_COEFFICIENT, pk, OSSL_PKEY_PARAM_RSA_COEFFICIENT1);
    }
    return build(&t, cls);
}

static int make_key(struct rsakey *k, size_t bits)
{
    k->pkey = EVP_PKEY_Q_keygen(g_lc, NULL, "RSA", bits);
    if (k->pkey == NULL)
        return -1;
    k->priv = key_of(k->pkey, CKO_PRIVATE_KEY);
    k->pub = key_of(k->pkey, CKO_PUBLIC_KEY);
    return 0;
}

/* OpenSSL's key generation makes only moduli of an even number of bits
 * (two primes of half the size each): an odd size is built here from a
 * 1025-bit and a 1024-bit prime.  k->pkey is a reference to the private
 * key's EVP_PKEY. */
static int make_odd_key(struct rsakey *k)
{
    BN_CTX *bc = BN_CTX_new_ex(g_lc); /* the module's DRBG, not the default one */
    BIGNUM *p = BN_new(), *q = BN_new(), *n = BN_new(), *e = BN_new(), *d = BN_new();
    BIGNUM *p1 = BN_new(), *q1 = BN_new(), *l = BN_new(), *g = BN_new();
    BIGNUM *dp = BN_new(), *dq = BN_new(), *qi = BN_new();
    struct attrs t = {0};
    assert_non_null(qi);
    assert_int_equal(BN_set_word(e, 65537), 1);
    do {
        assert_int_equal(BN_generate_prime_ex2(p, ODD_BITS / 2 + 1, 0, NULL, NULL, NULL, bc), 1);
        assert_int_equal(BN_generate_prime_ex2(q, ODD_BITS / 2, 0, NULL, NULL, NULL, bc), 1);
        assert_int_equal(BN_mul(n, p, q, bc), 1);
        assert_int_equal(BN_sub(p1, p, BN_value_one()), 1);
        assert_int_equal(BN_sub(q1, q, BN_value_one()), 1);
        assert_int_equal(BN_gcd(g, p1, q1, bc), 1);
        assert_int_equal(BN_mul(l, p1, q1, bc), 1);
        assert_int_equal(BN_div(l, NULL, l, g, bc), 1);
    } while (BN_num_bits(n) != ODD_BITS || BN_mod_inverse(d, e, l, bc) == NULL);
    assert_int_equal(BN_mod(dp, d, p1, bc), 1);
    assert_int_equal(BN_mod(dq, d, q1, bc), 1);
    assert_non_null(BN_mod_inverse(qi, q, p, bc));
    put_bignum(&t, CKO_PRIVATE_KEY, CKA_MODULUS, n);
    put_bignum(&t, CKO_PRIVATE_KEY, CKA_PUBLIC_EXPONENT, e);
    put_bignum(&t, CKO_PRIVATE_KEY, CKA_PRIVATE_EXPONENT, d);
    put_bignum(&t, CKO_PRIVATE_KEY, CKA_PRIME_1, p);
    put_bignum(&t, CKO_PRIVATE_KEY, CKA_PRIME_2, q);
    put_bignum(&t, CKO_PRIVATE_KEY, CKA_EXPONENT_1, dp);
    put_bignum(&t, CKO_PRIVATE_KEY, CKA_EXPONENT_2, dq);
    put_bignum(&t, CKO_PRIVATE_KEY, CKA_COEFFICIENT, qi);
    k->priv = build(&t, CKO_PRIVATE_KEY);
    put_bignum(&t, CKO_PUBLIC_KEY, CKA_MODULUS, n);
    put_bignum(&t, CKO_PUBLIC_KEY, CKA_PUBLIC_EXPONENT, e);
    k->pub = build(&t, CKO_PUBLIC_KEY);
    k->pkey = k->priv->pkey;
    assert_int_equal(EVP_PKEY_up_ref(k->pkey), 1);
    BIGNUM *all[] = {p, q, n, e, d, p1, q1, l, g, dp, dq, qi};
    for (size_t i = 0; i < ARRAY_SIZE(all); i++)
        BN_clear_free(all[i]);
    BN_CTX_free(bc);
    return 0;
}

static void free_key(struct rsakey *k)
{
    key_unref(k->priv);
    key_unref(k->pub);
    EVP_PKEY_free(k->pkey);
    memset(k, 0, sizeof(*k));
}

static int group_setup(void **state)
{
    (void)state;
    if (mu_fixture_init(&g_cfg, &g_c) != 0)
        return -1;
    g_lc = (OSSL_LIB_CTX *)mech_libctx(g_c);
    if (make_key(&g_k, 2048) != 0 || make_odd_key(&g_odd) != 0)
        return -1;
    ERR_clear_error();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    free_key(&g_k);
    free_key(&g_odd);
    mu_fixture_free(&g_cfg, g_c);
    return 0;
}

/* Each test starts from the defaults and must leave OpenSSL's queue empty. */
static int setup(void **state)
{
    (void)state;
    config_free(&g_cfg);
    return config_defaults(&g_cfg);
}

/* ---- operations ---------------------------------------------------------- */

/* Single-part sign / encrypt / decrypt / recover with a fresh operation. */
static CK_RV run(CK_MECHANISM_TYPE mt, const void *param, CK_ULONG plen, mech_fn fn, struct key *k,
                 const void *in, size_t inlen, unsigned char *out, CK_ULONG *outlen)
{
    return mu_find_oneshot(&g_cfg, g_c, mt, param, plen, fn, k, in, inlen, out, outlen);
}

static CK_RV verify(CK_MECHANISM_TYPE mt, const void *param, CK_ULONG plen, struct key *k,
                    const void *in, size_t inlen, const unsigned char *sig, size_t siglen)
{
    return mu_find_verify(&g_cfg, g_c, mt, param, plen, k, in, inlen, sig, siglen);
}

/* ---- OpenSSL directly ------------------------------------------------------ */

struct oparams {
    int pad;
    const char *md, *mgf1;
    int saltlen;
    const unsigned char *label;
    size_t label_len;
    OSSL_PARAM p[6];
};

static OSSL_PARAM *oparams(struct oparams *o)
{
    OSSL_PARAM *p = o->p;
    *p++ = OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PAD_MODE, &o->pad);
    if (o->md != NULL)
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, (char *)o->md, 0);
    if (o->mgf1 != NULL)
        *p++ =
            OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, (char *)o->mgf1, 0);
    if (o->pad == RSA_PKCS1_PSS_PADDING)
        *p++ = OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, &o->saltlen);
    if (o->label != NULL)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL,
                                                 (void *)o->label, o->label_len);
    *p = OSSL_PARAM_construct_end();
    return o->p;
}

enum { O_SIGN, O_VERIFY, O_ENCRYPT, O_DECRYPT };

/* One EVP_PKEY operation; returns OpenSSL's result. */
static int ossl(int what, EVP_PKEY *pk, struct oparams *o, const unsigned char *in, size_t inlen,
                unsigned char *out, size_t *outlen)
{
    EVP_PKEY_CTX *x = EVP_PKEY_CTX_new_from_pkey(g_lc, pk, NULL);
    OSSL_PARAM *p = oparams(o);
    int r = 0;
    assert_non_null(x);
    switch (what) {
    case O_SIGN:
        r = EVP_PKEY_sign_init_ex(x, p) == 1 && EVP_PKEY_sign(x, out, outlen, in, inlen) == 1;
        break;
    case O_VERIFY: /* out / *outlen: the signature */
        r = EVP_PKEY_verify_init_ex(x, p) == 1 && EVP_PKEY_verify(x, out, *outlen, in, inlen) == 1;
        break;
    case O_ENCRYPT:
        r = EVP_PKEY_encrypt_init_ex(x, p) == 1 && EVP_PKEY_encrypt(x, out, outlen, in, inlen) == 1;
        break;
    default:
        r = EVP_PKEY_decrypt_init_ex(x, p) == 1 && EVP_PKEY_decrypt(x, out, outlen, in, inlen) == 1;
        break;
    }
    EVP_PKEY_CTX_free(x);
    ERR_clear_error();
    return r;
}

/* Hash-and-sign with OpenSSL (o: pad mode and PSS parameters). */
static int ossl_digest(bool sign, EVP_PKEY *pk, const char *md, struct oparams *o,
                       const unsigned char *msg, size_t len, unsigned char *sig, size_t *siglen)
{
    EVP_MD_CTX *x = EVP_MD_CTX_new();
    OSSL_PARAM *p = oparams(o);
    int r;
    assert_non_null(x);
    if (sign)
        r = EVP_DigestSignInit_ex(x, NULL, md, g_lc, NULL, pk, p) == 1 &&
            EVP_DigestSign(x, sig, siglen, msg, len) == 1;
    else
        r = EVP_DigestVerifyInit_ex(x, NULL, md, g_lc, NULL, pk, p) == 1 &&
            EVP_DigestVerify(x, sig, *siglen, msg, len) == 1;
    EVP_MD_CTX_free(x);
    ERR_clear_error();
    return r;
}

static void digest(const char *md, const void *msg, size_t len, unsigned char *out, size_t *outlen)
{
    unsigned int n = 0;
    EVP_MD *m = EVP_MD_fetch(g_lc, md, NULL);
    assert_non_null(m);
    assert_int_equal(EVP_Digest(msg, len, out, &n, m, NULL), 1);
    EVP_MD_free(m);
    *outlen = n;
}

static size_t unhex(const char *h, unsigned char *out)
{
    size_t n = strlen(h) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned int v;
        assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
        out[i] = (unsigned char)v;
    }
    return n;
}

static const unsigned char MSG[] = "The quick brown fox jumps over the lazy dog, 3 times.";

/* ---- Wycheproof rsa_pkcs1_2048_sig_gen_test.json, the SHA-256 groups ------ */
/* Group 0 (e = 010001), tcId 81 (valid). */
static const char WP0_N[] =
    "00a2b451a07d0aa5f96e455671513550514a8a5b462ebef717094fa1fee82224e637f9746d3f7caf"
    "d31878d80325b6ef5a1700f65903b469429e89d6eac8845097b5ab393189db92512ed8a7711a1253"
    "facd20f79c15e8247f3d3e42e46e48c98e254a2fe9765313a03eff8f17e1a029397a1fa26a8dce26"
    "f490ed81299615d9814c22da610428e09c7d9658594266f5c021d0fceca08d945a12be82de4d1ece"
    "6b4c03145b5d3495d4ed5411eb878daf05fd7afc3e09ada0f1126422f590975a1969816f48698bcb"
    "ba1b4d9cae79d460d8f9f85e7975005d9bc22c4e5ac0f7c1a45d12569a62807d3b9a02e5a530e773"
    "066f453d1f5b4c2e9cf7820283f742b9d5";
static const char WP0_E[] = "010001";
static const char WP0_D[] =
    "7627eef3567b2a27268e52053ecd31c3a7172ccb9ddcee819b306a5b3c66b7573ca4fa88efc6f3c4"
    "a00bfa0ae7139f64543a4dac3d05823f6ff477cfcec84fe2ac7a68b17204b390232e110310c4e899"
    "c4e7c10967db4acde042dbbf19dbe00b4b4741de1020aaaaffb5054c797c9f136f7d93ac3fc8caff"
    "6654242d7821ebee517bf537f44366a0fdd45ae05b9909c2e6cc1ed9281eff4399f76c96b96233ec"
    "29ae0bbf0d752b234fc197389f51050aa1acd01c074c3ac8fbdb9ea8b651a95995e8db4ad5c43b6c"
    "8673e5a126e7ee94b8dff4c5afc01259bc8da76950bae6f8bae715f50985b0d6f66d04c6fef3b700"
    "720eecdcdf171bb7b1ecbe7289c467c1";
static const char WP0_MSG[] = "";
static const char WP0_SIG[] =
    "840f5dac53106dd1f9c57219224cf51289290c42f20466875ba8e830ac5690e541536fcc8ab03b73"
    "1f82bf66d83f194e7e180b3963ec7a2f3f7904a7ce49aed47da4d4b79421eaf937d301b3e6961692"
    "97b797c32c076a12be4de0b58e003c5123051a84a10c62f8dac2f42a8640008eb3c7cccd6760ff5b"
    "51b689763922582845f048fb8150e5a7a6ca2eccc7bdc85349ad5b26c52137a79fa3fe5c29ab5cd7"
    "615013219c1941b6708e9c3c23feff5febaf0c8ebca5750b54e3e6e99a3e876b396f27860b7f3ec4"
    "e9191703c6332d944f6f69751167680c79c4f6b57f1cc8755d24b6ec158ccdbacdb23107a33cb6b3"
    "32516c13274d1f9dccc21dced869e486";
/* Group 1 (e = 03), tcId 154 (acceptable). */
static const char WP1_N[] =
    "0090a5d7aba2c8dc828e616fc1fc45c7c52130c8589dcbe2913da187572f6c23217b89a5186b6f90"
    "cbe053abfb0885a91f141dbe106ce6ad303904a5941df26ced10478cb56a7bd6cf1313c4966d9cf7"
    "c4509d9dc63566aa323e110af219f3398c04e79bb486de8703793473136f5c9051af24bd2c0208ea"
    "1bf9321a3e8f24af00aaca1216842eab248d58cf46ac786c49fd3ca8557e9b53993a4b9718cdc5c4"
    "74bf1cfe58c07ad97b2c5acb7d86accc0fc7bed147adb2e77b8697d80150948117714b806ff76f9d"
    "88147d84e93987b724bf4870429e85a7a7b51486a78d8a88f1688f60e215d43d06221e2b993b5c12"
    "a607b80e9e0122472b29945f76b55737c1";
static const char WP1_E[] = "03";
static const char WP1_D[] =
    "606e8fc7c1db3dac5eeb9fd6a82e852e162085906932970b7e6baf8f74f2c216525bc3659cf50b32"
    "958d1d5205ae70bf62be7eb59def1e202603190d694c489e0ada5dce46fd39df620d2db99e68a52d"
    "8b13be84239086852f24c979a99d874c48d0811c669eac06ddcdd44c80f42a7555f0d435246647d2"
    "e2c8cce1b05ea3a1e3db39733feea95f0719c4836f66f8ddf24c2eb90a3b9afcad3fade8a8d0b93e"
    "81a54c42e84112b943c316480aff80d56c9143e8d9859b0fbf7a1e46ce02585721d629662f1d5947"
    "38895addc28a89a74d2d34cc7bf13a5bdcebf3b8053fb3a30c6638504311c1a4c1cd1e16fca63bae"
    "b74ac2f7292b84cfe79f56ab347e08e3";
static const char WP1_MSG[] = "33363730";
static const char WP1_SIG[] =
    "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000989e7ff72e67e680bd21d5f966e4ad8a48c3592dbacc4a2f035b4ef4d17"
    "a2f25f8a9fef7e78eb99d76d68629ed02d67c43c4b7ec8c3badc32e3d0a524c326537739b0fde156"
    "723b27c23ae2b09895e470c64d700f5c";

/* DigestInfo prefix of SHA-256 (RFC 8017 9.2 note 1). */
static const unsigned char DI_SHA256[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                          0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                          0x01, 0x05, 0x00, 0x04, 0x20};

static struct key *wp_key(const char *nh, const char *eh, const char *dh, CK_OBJECT_CLASS cls)
{
    struct attrs t = {0};
    unsigned char buf[MAXB];
    size_t n = unhex(nh, buf);
    assert_int_equal(attrs_set(&t, cls, CKA_MODULUS, buf, (CK_ULONG)n), CKR_OK);
    n = unhex(eh, buf);
    assert_int_equal(attrs_set(&t, cls, CKA_PUBLIC_EXPONENT, buf, (CK_ULONG)n), CKR_OK);
    if (cls == CKO_PRIVATE_KEY) {
        n = unhex(dh, buf);
        assert_int_equal(attrs_set(&t, cls, CKA_PRIVATE_EXPONENT, buf, (CK_ULONG)n), CKR_OK);
    }
    return build(&t, cls);
}

static void wp_group(const char *nh, const char *eh, const char *dh, const char *msgh,
                     const char *sigh)
{
    struct key *priv = wp_key(nh, eh, dh, CKO_PRIVATE_KEY);
    struct key *pub = wp_key(nh, eh, dh, CKO_PUBLIC_KEY);
    unsigned char msg[64], want[KLEN], sig[KLEN], di[64], rec[KLEN];
    size_t mlen = unhex(msgh, msg), hlen = 0;
    CK_ULONG slen = sizeof(sig);
    assert_int_equal(unhex(sigh, want), KLEN);

    /* Hash-and-sign, single-part and in parts. */
    assert_int_equal(run(CKM_SHA256_RSA_PKCS, NULL, 0, CKF_SIGN, priv, msg, mlen, sig, &slen),
                     CKR_OK);
    assert_int_equal(slen, KLEN);
    assert_memory_equal(sig, want, KLEN);
    struct mech_op *op =
        mu_find_start_ok(&g_cfg, g_c, CKM_SHA256_RSA_PKCS, NULL, 0, CKF_SIGN, priv);
    for (size_t i = 0; i < mlen; i++)
        assert_int_equal(op->ops->update(op, msg + i, 1, NULL, NULL), CKR_OK);
    memset(sig, 0, sizeof(sig));
    slen = sizeof(sig);
    assert_int_equal(op->ops->final(op, sig, &slen), CKR_OK);
    assert_memory_equal(sig, want, KLEN);
    mech_op_free(op);

    /* CKM_RSA_PKCS over the DigestInfo gives the same signature. */
    memcpy(di, DI_SHA256, sizeof(DI_SHA256));
    digest("SHA2-256", msg, mlen, di + sizeof(DI_SHA256), &hlen);
    size_t dilen = sizeof(DI_SHA256) + hlen;
    slen = sizeof(sig);
    assert_int_equal(run(CKM_RSA_PKCS, NULL, 0, CKF_SIGN, priv, di, dilen, sig, &slen), CKR_OK);
    assert_memory_equal(sig, want, KLEN);
    slen = sizeof(sig);
    assert_int_equal(run(CKM_RSA_PKCS, NULL, 0, CKF_SIGN_RECOVER, priv, di, dilen, sig, &slen),
                     CKR_OK);
    assert_memory_equal(sig, want, KLEN);

    /* Verification of the known answer by every route. */
    assert_int_equal(verify(CKM_SHA256_RSA_PKCS, NULL, 0, pub, msg, mlen, want, KLEN), CKR_OK);
    assert_int_equal(verify(CKM_RSA_PKCS, NULL, 0, pub, di, dilen, want, KLEN), CKR_OK);
    CK_ULONG rlen = sizeof(rec);
    assert_int_equal(run(CKM_RSA_PKCS, NULL, 0, CKF_VERIFY_RECOVER, pub, want, KLEN, rec, &rlen),
                     CKR_OK);
    assert_int_equal(rlen, dilen);
    assert_memory_equal(rec, di, dilen);
    want[KLEN - 1] ^= 1;
    assert_int_equal(verify(CKM_SHA256_RSA_PKCS, NULL, 0, pub, msg, mlen, want, KLEN),
                     CKR_SIGNATURE_INVALID);
    key_unref(priv);
    key_unref(pub);
}

static void test_wycheproof_pkcs1(void **state)
{
    (void)state;
    wp_group(WP0_N, WP0_E, WP0_D, WP0_MSG, WP0_SIG);
    wp_group(WP1_N, WP1_E, WP1_D, WP1_MSG, WP1_SIG); /* leading zero bytes kept */
}

/* ---- hash-and-sign ------------------------------------------------------- */

struct hashed {
    CK_MECHANISM_TYPE pkcs, pss, hash;
    CK_RSA_PKCS_MGF_TYPE mgf;
    const char *md;
    size_t hlen;
};

static const struct hashed hashed[] = {
    {CKM_SHA1_RSA_PKCS, CKM_SHA1_RSA_PKCS_PSS, CKM_SHA_1, CKG_MGF1_SHA1, "SHA1", 20},
    {CKM_SHA224_RSA_PKCS, CKM_SHA224_RSA_PKCS_PSS, CKM_SHA224, CKG_MGF1_SHA224, "SHA2-224", 28},
    {CKM_SHA256_RSA_PKCS, CKM_SHA256_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA256, "SHA2-256", 32},
    {CKM_SHA384_RSA_PKCS, CKM_SHA384_RSA_PKCS_PSS, CKM_SHA384, CKG_MGF1_SHA384, "SHA2-384", 48},
    {CKM_SHA512_RSA_PKCS, CKM_SHA512_RSA_PKCS_PSS, CKM_SHA512, CKG_MGF1_SHA512, "SHA2-512", 64},
    {CKM_SHA3_224_RSA_PKCS, CKM_SHA3_224_RSA_PKCS_PSS, CKM_SHA3_224, CKG_MGF1_SHA3_224, "SHA3-224",
     28},
    {CKM_SHA3_256_RSA_PKCS, CKM_SHA3_256_RSA_PKCS_PSS, CKM_SHA3_256, CKG_MGF1_SHA3_256, "SHA3-256",
     32},
    {CKM_SHA3_384_RSA_PKCS, CKM_SHA3_384_RSA_PKCS_PSS, CKM_SHA3_384, CKG_MGF1_SHA3_384, "SHA3-384",
     48},
    {CKM_SHA3_512_RSA_PKCS, CKM_SHA3_512_RSA_PKCS_PSS, CKM_SHA3_512, CKG_MGF1_SHA3_512, "SHA3-512",
     64},
};

/* Signs MSG in three parts with mt (param p) and returns the signature. */
static void sign_parts(CK_MECHANISM_TYPE mt, const void *p, CK_ULONG plen, unsigned char *sig)
{
    struct mech_op *op = mu_find_start_ok(&g_cfg, g_c, mt, p, plen, CKF_SIGN, g_k.priv);
    size_t n = sizeof(MSG);
    assert_int_equal(op->ops->update(op, MSG, 5, NULL, NULL), CKR_OK);
    assert_int_equal(op->ops->update(op, MSG + 5, 0, NULL, NULL), CKR_OK);
    assert_int_equal(op->ops->update(op, MSG + 5, (CK_ULONG)(n - 5), NULL, NULL), CKR_OK);
    CK_ULONG slen = KLEN;
    assert_int_equal(op->ops->final(op, sig, &slen), CKR_OK);
    assert_int_equal(slen, KLEN);
    mech_op_free(op);
}

static CK_RV verify_parts(CK_MECHANISM_TYPE mt, const void *p, CK_ULONG plen,
                          const unsigned char *sig, size_t siglen)
{
    struct mech_op *op = mu_find_start_ok(&g_cfg, g_c, mt, p, plen, CKF_VERIFY, g_k.pub);
    assert_int_equal(op->ops->update(op, MSG, 7, NULL, NULL), CKR_OK);
    assert_int_equal(op->ops->update(op, MSG + 7, sizeof(MSG) - 7, NULL, NULL), CKR_OK);
    CK_RV rv = op->ops->verify_final(op, sig, (CK_ULONG)siglen);
    mech_op_free(op);
    return rv;
}

static void test_hashed_round_trips(void **state)
{
    (void)state;
    unsigned char sig[KLEN], sig2[KLEN];
    size_t olen;
    for (size_t i = 0; i < ARRAY_SIZE(hashed); i++) {
        const struct hashed *h = &hashed[i];
        struct oparams pk = {.pad = RSA_PKCS1_PADDING};
        struct oparams ps = {.pad = RSA_PKCS1_PSS_PADDING, .mgf1 = h->md, .saltlen = (int)h->hlen};
        CK_RSA_PKCS_PSS_PARAMS pp = {h->hash, h->mgf, h->hlen};

        /* PKCS#1 v1.5: deterministic, parts == one shot == OpenSSL. */
        sign_parts(h->pkcs, NULL, 0, sig);
        CK_ULONG slen = KLEN;
        assert_int_equal(run(h->pkcs, NULL, 0, CKF_SIGN, g_k.priv, MSG, sizeof(MSG), sig2, &slen),
                         CKR_OK);
        assert_memory_equal(sig, sig2, KLEN);
        olen = KLEN;
        assert_int_equal(ossl_digest(true, g_k.pkey, h->md, &pk, MSG, sizeof(MSG), sig2, &olen), 1);
        assert_memory_equal(sig, sig2, KLEN);
        assert_int_equal(verify(h->pkcs, NULL, 0, g_k.pub, MSG, sizeof(MSG), sig, KLEN), CKR_OK);
        assert_int_equal(verify_parts(h->pkcs, NULL, 0, sig, KLEN), CKR_OK);
        assert_int_equal(verify(h->pkcs, NULL, 0, g_k.pub, MSG, sizeof(MSG) - 1, sig, KLEN),
                         CKR_SIGNATURE_INVALID);

        /* PSS: randomised; each side verifies the other's. */
        sign_parts(h->pss, &pp, sizeof(pp), sig);
        olen = KLEN;
        assert_int_equal(ossl_digest(false, g_k.pkey, h->md, &ps, MSG, sizeof(MSG), sig, &olen), 1);
        olen = KLEN;
        assert_int_equal(ossl_digest(true, g_k.pkey, h->md, &ps, MSG, sizeof(MSG), sig2, &olen), 1);
        assert_int_equal(verify(h->pss, &pp, sizeof(pp), g_k.pub, MSG, sizeof(MSG), sig2, KLEN),
                         CKR_OK);
        assert_int_equal(verify_parts(h->pss, &pp, sizeof(pp), sig, KLEN), CKR_OK);
        sig[0] ^= 0x80;
        assert_int_equal(verify_parts(h->pss, &pp, sizeof(pp), sig, KLEN), CKR_SIGNATURE_INVALID);
        /* A different salt length does not verify. */
        CK_RSA_PKCS_PSS_PARAMS p0 = {h->hash, h->mgf, 0};
        assert_int_equal(verify(h->pss, &p0, sizeof(p0), g_k.pub, MSG, sizeof(MSG), sig2, KLEN),
                         CKR_SIGNATURE_INVALID);
    }
}

/* ---- CKM_RSA_PKCS_PSS over a hash ------------------------------------------ */

static void test_pss_raw(void **state)
{
    (void)state;
    unsigned char h[64], sig[MAXB];
    size_t hlen = 0, olen;
    CK_ULONG slen;
    digest("SHA2-256", MSG, sizeof(MSG), h, &hlen);

    /* Hash SHA-256, MGF1 SHA-384 (they may differ), salt 20. */
    CK_RSA_PKCS_PSS_PARAMS pp = {CKM_SHA256, CKG_MGF1_SHA384, 20};
    struct oparams o = {
        .pad = RSA_PKCS1_PSS_PADDING, .md = "SHA2-256", .mgf1 = "SHA2-384", .saltlen = 20};
    slen = sizeof(sig);
    assert_int_equal(
        run(CKM_RSA_PKCS_PSS, &pp, sizeof(pp), CKF_SIGN, g_k.priv, h, hlen, sig, &slen), CKR_OK);
    assert_int_equal(slen, KLEN);
    olen = slen;
    assert_int_equal(ossl(O_VERIFY, g_k.pkey, &o, h, hlen, sig, &olen), 1);
    assert_int_equal(verify(CKM_RSA_PKCS_PSS, &pp, sizeof(pp), g_k.pub, h, hlen, sig, KLEN),
                     CKR_OK);
    olen = KLEN;
    assert_int_equal(ossl(O_SIGN, g_k.pkey, &o, h, hlen, sig, &olen), 1);
    assert_int_equal(verify(CKM_RSA_PKCS_PSS, &pp, sizeof(pp), g_k.pub, h, hlen, sig, KLEN),
                     CKR_OK);
    sig[10] ^= 1;
    assert_int_equal(verify(CKM_RSA_PKCS_PSS, &pp, sizeof(pp), g_k.pub, h, hlen, sig, KLEN),
                     CKR_SIGNATURE_INVALID);

    /* The input must be exactly the hash. */
    slen = sizeof(sig);
    assert_int_equal(
        run(CKM_RSA_PKCS_PSS, &pp, sizeof(pp), CKF_SIGN, g_k.priv, h, hlen - 1, sig, &slen),
        CKR_DATA_LEN_RANGE);
    assert_int_equal(
        run(CKM_RSA_PKCS_PSS, &pp, sizeof(pp), CKF_SIGN, g_k.priv, h, hlen + 1, sig, &slen),
        CKR_DATA_LEN_RANGE);
    assert_int_equal(verify(CKM_RSA_PKCS_PSS, &pp, sizeof(pp), g_k.pub, h, hlen - 1, sig, KLEN),
                     CKR_DATA_LEN_RANGE);

    /* Salt bound: emLen - hLen - 2, with emLen = 256 for a 2049-bit
     * modulus of 257 bytes (and 256 for 2048 bits). */
    for (int odd = 0; odd < 2; odd++) {
        struct rsakey *k = odd ? &g_odd : &g_k;
        size_t klen = odd ? 257 : 256, em = 256;
        CK_RSA_PKCS_PSS_PARAMS pm = {CKM_SHA256, CKG_MGF1_SHA256, em - 32 - 2};
        struct oparams om = {.pad = RSA_PKCS1_PSS_PADDING,
                             .md = "SHA2-256",
                             .mgf1 = "SHA2-256",
                             .saltlen = (int)pm.sLen};
        slen = sizeof(sig);
        assert_int_equal(
            run(CKM_RSA_PKCS_PSS, &pm, sizeof(pm), CKF_SIGN, k->priv, h, hlen, sig, &slen), CKR_OK);
        assert_int_equal(slen, klen);
        olen = slen;
        assert_int_equal(ossl(O_VERIFY, k->pkey, &om, h, hlen, sig, &olen), 1);
        assert_int_equal(verify(CKM_RSA_PKCS_PSS, &pm, sizeof(pm), k->pub, h, hlen, sig, klen),
                         CKR_OK);
        pm.sLen++;
        struct mech_op *op = NULL;
        assert_int_equal(
            mu_find_start(&g_cfg, g_c, CKM_RSA_PKCS_PSS, &pm, sizeof(pm), CKF_SIGN, k->priv, &op),
            CKR_MECHANISM_PARAM_INVALID);
        assert_int_equal(mu_find_start(&g_cfg, g_c, CKM_SHA256_RSA_PKCS_PSS, &pm, sizeof(pm),
                                       CKF_VERIFY, k->pub, &op),
                         CKR_MECHANISM_PARAM_INVALID);
    }
}

static void test_pss_params(void **state)
{
    (void)state;
    struct mech_op *op = NULL;
    CK_RSA_PKCS_PSS_PARAMS ok = {CKM_SHA256, CKG_MGF1_SHA256, 32};
    struct {
        CK_MECHANISM_TYPE mt;
        CK_RSA_PKCS_PSS_PARAMS p;
    } bad[] = {
        {CKM_RSA_PKCS_PSS, {CKM_MD5, CKG_MGF1_SHA256, 0}},
        {CKM_RSA_PKCS_PSS, {CKM_SHA256_HMAC, CKG_MGF1_SHA256, 0}},
        {CKM_RSA_PKCS_PSS, {CKM_SHA256, 0, 0}},
        {CKM_RSA_PKCS_PSS, {CKM_SHA256, 0x7f, 0}},
        {CKM_RSA_PKCS_PSS, {CKM_SHA256, CKG_MGF1_SHA256, (CK_ULONG)-1}},
        {CKM_SHA256_RSA_PKCS_PSS, {CKM_SHA384, CKG_MGF1_SHA256, 0}},
        {CKM_SHA3_256_RSA_PKCS_PSS, {CKM_SHA256, CKG_MGF1_SHA256, 0}},
        {CKM_SHA256_RSA_PKCS_PSS, {CKM_SHA3_256, CKG_MGF1_SHA256, 0}},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        for (int f = 0; f < 2; f++)
            assert_int_equal(mu_find_start(&g_cfg, g_c, bad[i].mt, &bad[i].p, sizeof(bad[i].p),
                                           f ? CKF_VERIFY : CKF_SIGN, f ? g_k.pub : g_k.priv, &op),
                             CKR_MECHANISM_PARAM_INVALID);
    CK_MECHANISM_TYPE pss[] = {CKM_RSA_PKCS_PSS, CKM_SHA256_RSA_PKCS_PSS};
    for (size_t i = 0; i < ARRAY_SIZE(pss); i++) {
        /* Required, exact length, no NULL with a length. */
        assert_int_equal(mu_find_start(&g_cfg, g_c, pss[i], NULL, 0, CKF_SIGN, g_k.priv, &op),
                         CKR_MECHANISM_PARAM_INVALID);
        assert_int_equal(
            mu_find_start(&g_cfg, g_c, pss[i], NULL, sizeof(ok), CKF_SIGN, g_k.priv, &op),
            CKR_MECHANISM_PARAM_INVALID);
        assert_int_equal(
            mu_find_start(&g_cfg, g_c, pss[i], &ok, sizeof(ok) - 1, CKF_SIGN, g_k.priv, &op),
            CKR_MECHANISM_PARAM_INVALID);
        assert_int_equal(
            mu_find_start(&g_cfg, g_c, pss[i], &ok, sizeof(ok) + 1, CKF_VERIFY, g_k.pub, &op),
            CKR_MECHANISM_PARAM_INVALID);
        op = mu_find_start_ok(&g_cfg, g_c, pss[i], &ok, sizeof(ok), CKF_SIGN, g_k.priv);
        mech_op_free(op);
    }
    /* Mechanisms without a parameter refuse one. */
    CK_MECHANISM_TYPE none[] = {CKM_RSA_PKCS, CKM_RSA_X_509, CKM_SHA256_RSA_PKCS};
    for (size_t i = 0; i < ARRAY_SIZE(none); i++)
        assert_int_equal(
            mu_find_start(&g_cfg, g_c, none[i], &ok, sizeof(ok), CKF_SIGN, g_k.priv, &op),
            CKR_MECHANISM_PARAM_INVALID);
}

/* CKM_RSA_PKCS_PSS with a SHA-1 hash signs only with allow_sha1_signing;
 * verification and SHA-1 as the MGF1 hash are always fine. */
static void test_pss_sha1_policy(void **state)
{
    (void)state;
    struct mech_op *op = NULL;
    CK_RSA_PKCS_PSS_PARAMS s1 = {CKM_SHA_1, CKG_MGF1_SHA1, 20};
    CK_RSA_PKCS_PSS_PARAMS mgf1 = {CKM_SHA256, CKG_MGF1_SHA1, 32};
    unsigned char h[20] = {1, 2, 3}, sig[KLEN];
    CK_ULONG slen = sizeof(sig);
    assert_false(g_cfg.allow_sha1_signing);
    assert_int_equal(
        mu_find_start(&g_cfg, g_c, CKM_RSA_PKCS_PSS, &s1, sizeof(s1), CKF_SIGN, g_k.priv, &op),
        CKR_MECHANISM_PARAM_INVALID);
    mech_op_free(
        mu_find_start_ok(&g_cfg, g_c, CKM_RSA_PKCS_PSS, &s1, sizeof(s1), CKF_VERIFY, g_k.pub));
    mech_op_free(
        mu_find_start_ok(&g_cfg, g_c, CKM_RSA_PKCS_PSS, &mgf1, sizeof(mgf1), CKF_SIGN, g_k.priv));
    g_cfg.allow_sha1_signing = true;
    assert_int_equal(run(CKM_RSA_PKCS_PSS, &s1, sizeof(s1), CKF_SIGN, g_k.priv, h, 20, sig, &slen),
                     CKR_OK);
    assert_int_equal(verify(CKM_RSA_PKCS_PSS, &s1, sizeof(s1), g_k.pub, h, 20, sig, KLEN), CKR_OK);
}

/* ---- OAEP ---------------------------------------------------------------------- */

static void oaep_case(CK_MECHANISM_TYPE hash, CK_RSA_PKCS_MGF_TYPE mgf, const char *md,
                      const char *mgfmd, size_t hlen, const unsigned char *label, size_t llen)
{
    CK_RSA_PKCS_OAEP_PARAMS p = {hash, mgf, CKZ_DATA_SPECIFIED, (void *)label, llen};
    struct oparams o = {
        .pad = RSA_PKCS1_OAEP_PADDING, .md = md, .mgf1 = mgfmd, .label = label, .label_len = llen};
    unsigned char ct[KLEN], pt[KLEN], big[KLEN];
    size_t max = KLEN - 2 * hlen - 2, olen;
    CK_ULONG clen = sizeof(ct), plen;
    memset(big, 0x5a, sizeof(big));

    /* Ours -> ours and OpenSSL, with the longest message. */
    for (int wrap = 0; wrap < 2; wrap++) {
        clen = sizeof(ct);
        assert_int_equal(run(CKM_RSA_PKCS_OAEP, &p, sizeof(p), wrap ? CKF_WRAP : CKF_ENCRYPT,
                             g_k.pub, big, max, ct, &clen),
                         CKR_OK);
        assert_int_equal(clen, KLEN);
        plen = sizeof(pt);
        assert_int_equal(run(CKM_RSA_PKCS_OAEP, &p, sizeof(p), wrap ? CKF_UNWRAP : CKF_DECRYPT,
                             g_k.priv, ct, clen, pt, &plen),
                         CKR_OK);
        assert_int_equal(plen, max);
        assert_memory_equal(pt, big, max);
    }
    olen = sizeof(pt);
    assert_int_equal(ossl(O_DECRYPT, g_k.pkey, &o, ct, clen, pt, &olen), 1);
    assert_int_equal(olen, max);
    /* OpenSSL -> ours, an empty message. */
    olen = sizeof(ct);
    assert_int_equal(ossl(O_ENCRYPT, g_k.pkey, &o, MSG, 0, ct, &olen), 1);
    plen = sizeof(pt);
    assert_int_equal(
        run(CKM_RSA_PKCS_OAEP, &p, sizeof(p), CKF_DECRYPT, g_k.priv, ct, olen, pt, &plen), CKR_OK);
    assert_int_equal(plen, 0);
    /* One byte too many. */
    clen = sizeof(ct);
    assert_int_equal(
        run(CKM_RSA_PKCS_OAEP, &p, sizeof(p), CKF_ENCRYPT, g_k.pub, big, max + 1, ct, &clen),
        CKR_DATA_LEN_RANGE);
}

static void test_oaep(void **state)
{
    (void)state;
    static const unsigned char label[] = "a label";
    oaep_case(CKM_SHA256, CKG_MGF1_SHA256, "SHA2-256", "SHA2-256", 32, NULL, 0);
    oaep_case(CKM_SHA_1, CKG_MGF1_SHA1, "SHA1", "SHA1", 20, label, sizeof(label));
    oaep_case(CKM_SHA512, CKG_MGF1_SHA1, "SHA2-512", "SHA1", 64, label, 1);
    oaep_case(CKM_SHA3_256, CKG_MGF1_SHA3_384, "SHA3-256", "SHA3-384", 32, label, 3);
    oaep_case(CKM_SHA224, CKG_MGF1_SHA224, "SHA2-224", "SHA2-224", 28, label, 0);
}

static void test_oaep_decrypt_errors(void **state)
{
    (void)state;
    static const unsigned char label[] = "label";
    CK_RSA_PKCS_OAEP_PARAMS p = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, (void *)label, 5};
    CK_RSA_PKCS_OAEP_PARAMS other = p;
    other.ulSourceDataLen = 4;
    unsigned char ct[KLEN + 1], pt[KLEN];
    CK_ULONG clen = KLEN, plen;
    assert_int_equal(
        run(CKM_RSA_PKCS_OAEP, &p, sizeof(p), CKF_ENCRYPT, g_k.pub, MSG, 20, ct, &clen), CKR_OK);

    /* Short buffer: the exact length, the operation kept; then the data. */
    struct mech_op *op =
        mu_find_start_ok(&g_cfg, g_c, CKM_RSA_PKCS_OAEP, &p, sizeof(p), CKF_DECRYPT, g_k.priv);
    plen = 0;
    assert_int_equal(op->ops->oneshot(op, ct, KLEN, NULL, &plen), CKR_OK);
    assert_int_equal(plen, KLEN); /* an upper bound */
    plen = 19;
    assert_int_equal(op->ops->oneshot(op, ct, KLEN, pt, &plen), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(plen, 20);
    assert_int_equal(op->ops->oneshot(op, ct, KLEN, pt, &plen), CKR_OK);
    assert_int_equal(plen, 20);
    assert_memory_equal(pt, MSG, 20);
    mech_op_free(op);

    plen = sizeof(pt);
    assert_int_equal(
        run(CKM_RSA_PKCS_OAEP, &other, sizeof(other), CKF_DECRYPT, g_k.priv, ct, KLEN, pt, &plen),
        CKR_ENCRYPTED_DATA_INVALID);
    ct[100] ^= 4;
    plen = sizeof(pt);
    assert_int_equal(
        run(CKM_RSA_PKCS_OAEP, &p, sizeof(p), CKF_DECRYPT, g_k.priv, ct, KLEN, pt, &plen),
        CKR_ENCRYPTED_DATA_INVALID);
    memset(ct, 0xff, sizeof(ct)); /* above the modulus */
    assert_int_equal(
        run(CKM_RSA_PKCS_OAEP, &p, sizeof(p), CKF_DECRYPT, g_k.priv, ct, KLEN, pt, &plen),
        CKR_ENCRYPTED_DATA_INVALID);
    assert_int_equal(
        run(CKM_RSA_PKCS_OAEP, &p, sizeof(p), CKF_DECRYPT, g_k.priv, ct, KLEN - 1, pt, &plen),
        CKR_ENCRYPTED_DATA_LEN_RANGE);
    assert_int_equal(
        run(CKM_RSA_PKCS_OAEP, &p, sizeof(p), CKF_UNWRAP, g_k.priv, ct, KLEN + 1, pt, &plen),
        CKR_ENCRYPTED_DATA_LEN_RANGE);
}

static void test_oaep_params(void **state)
{
    (void)state;
    static unsigned char label[KLEN + 1];
    struct mech_op *op = NULL;
    CK_RSA_PKCS_OAEP_PARAMS ok = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
    CK_RSA_PKCS_OAEP_PARAMS bad[] = {
        {CKM_MD5, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0},
        {CKM_SHA256_HMAC, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0},
        {CKM_SHA256, 0, CKZ_DATA_SPECIFIED, NULL, 0},
        {CKM_SHA256, 42, CKZ_DATA_SPECIFIED, NULL, 0},
        {CKM_SHA256, CKG_MGF1_SHA256, 2, NULL, 0},
        {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 1},
        {CKM_SHA256, CKG_MGF1_SHA256, 0, label, 1},
        {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, label, KLEN + 1},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        for (int f = 0; f < 2; f++)
            assert_int_equal(mu_find_start(&g_cfg, g_c, CKM_RSA_PKCS_OAEP, &bad[i], sizeof(bad[i]),
                                           f ? CKF_DECRYPT : CKF_ENCRYPT, f ? g_k.priv : g_k.pub,
                                           &op),
                             CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(
        mu_find_start(&g_cfg, g_c, CKM_RSA_PKCS_OAEP, NULL, 0, CKF_ENCRYPT, g_k.pub, &op),
        CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(mu_find_start(&g_cfg, g_c, CKM_RSA_PKCS_OAEP, &ok, sizeof(ok) - 1, CKF_ENCRYPT,
                                   g_k.pub, &op),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(
        mu_find_start(&g_cfg, g_c, CKM_RSA_PKCS_OAEP, NULL, sizeof(ok), CKF_ENCRYPT, g_k.pub, &op),
        CKR_MECHANISM_PARAM_INVALID);
    /* Accepted: source 0 without a label, a label as long as the modulus. */
    CK_RSA_PKCS_OAEP_PARAMS z = {CKM_SHA256, CKG_MGF1_SHA256, 0, NULL, 0};
    mech_op_free(
        mu_find_start_ok(&g_cfg, g_c, CKM_RSA_PKCS_OAEP, &z, sizeof(z), CKF_ENCRYPT, g_k.pub));
    CK_RSA_PKCS_OAEP_PARAMS l = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, label, KLEN};
    mech_op_free(
        mu_find_start_ok(&g_cfg, g_c, CKM_RSA_PKCS_OAEP, &l, sizeof(l), CKF_DECRYPT, g_k.priv));
    /* OAEP signs nothing. */
    assert_int_equal(
        mu_find_start(&g_cfg, g_c, CKM_RSA_PKCS_OAEP, &ok, sizeof(ok), CKF_SIGN, g_k.priv, &op),
        CKR_MECHANISM_INVALID);

    /* SHA-512 OAEP needs k >= 130: a 1024-bit key is too small. */
    g_cfg.allow_weak_rsa = true;
    struct rsakey small = {0};
    assert_int_equal(make_key(&small, 1024), 0);
    CK_RSA_PKCS_OAEP_PARAMS s512 = {CKM_SHA512, CKG_MGF1_SHA512, CKZ_DATA_SPECIFIED, NULL, 0};
    assert_int_equal(mu_find_start(&g_cfg, g_c, CKM_RSA_PKCS_OAEP, &s512, sizeof(s512), CKF_ENCRYPT,
                                   small.pub, &op),
                     CKR_KEY_SIZE_RANGE);
    mech_op_free(
        mu_find_start_ok(&g_cfg, g_c, CKM_RSA_PKCS_OAEP, &ok, sizeof(ok), CKF_ENCRYPT, small.pub));
    free_key(&small);
}

/* ---- PKCS#1 v1.5 encryption ------------------------------------------------- */

/* A ciphertext whose plaintext block is blk (klen bytes) via raw RSA. */
static void raw_encrypt(const unsigned char *blk, unsigned char *ct)
{
    CK_ULONG clen = KLEN;
    assert_int_equal(run(CKM_RSA_X_509, NULL, 0, CKF_ENCRYPT, g_k.pub, blk, KLEN, ct, &clen),
                     CKR_OK);
}

static void test_pkcs1_encrypt(void **state)
{
    (void)state;
    unsigned char ct[KLEN], pt[KLEN], big[KLEN], blk[KLEN];
    CK_ULONG clen = sizeof(ct), plen = sizeof(pt);
    size_t olen;
    struct oparams o = {.pad = RSA_PKCS1_PADDING};
    memset(big, 0xa5, sizeof(big));

    assert_int_equal(run(CKM_RSA_PKCS, NULL, 0, CKF_ENCRYPT, g_k.pub, big, KLEN - 11, ct, &clen),
                     CKR_OK);
    assert_int_equal(clen, KLEN);
    assert_int_equal(run(CKM_RSA_PKCS, NULL, 0, CKF_DECRYPT, g_k.priv, ct, KLEN, pt, &plen),
                     CKR_OK);
    assert_int_equal(plen, KLEN - 11);
    assert_memory_equal(pt, big, KLEN - 11);
    olen = sizeof(pt);
    assert_int_equal(ossl(O_DECRYPT, g_k.pkey, &o, ct, KLEN, pt, &olen), 1);
    assert_int_equal(olen, KLEN - 11);
    olen = sizeof(ct);
    assert_int_equal(ossl(O_ENCRYPT, g_k.pkey, &o, MSG, 16, ct, &olen), 1);
    plen = sizeof(pt);
    assert_int_equal(run(CKM_RSA_PKCS, NULL, 0, CKF_UNWRAP, g_k.priv, ct, KLEN, pt, &plen), CKR_OK);
    assert_int_equal(plen, 16);
    assert_memory_equal(pt, MSG, 16);
    clen = sizeof(ct);
    assert_int_equal(run(CKM_RSA_PKCS, NULL, 0, CKF_WRAP, g_k.pub, big, KLEN - 10, ct, &clen),
                     CKR_DATA_LEN_RANGE);

    /* Bad paddings are reported, never answered with a synthetic message
     * (implicit rejection is off). */
    for (int i = 0; i < 4; i++) {
        memset(blk, 0x33, sizeof(blk));
        blk[0] = 0;
        blk[1] = 2;
        if (i == 0)
            blk[1] = 1; /* block type 1 */
        else if (i == 1)
            blk[0] = 1; /* leading byte */
        else if (i == 2)
            blk[5] = 0; /* padding string shorter than 8 */
        /* i == 3: no zero separator at all */
        raw_encrypt(blk, ct);
        plen = sizeof(pt);
        assert_int_equal(run(CKM_RSA_PKCS, NULL, 0, CKF_DECRYPT, g_k.priv, ct, KLEN, pt, &plen),
                         CKR_ENCRYPTED_DATA_INVALID);
    }
    plen = sizeof(pt);
    assert_int_equal(run(CKM_RSA_PKCS, NULL, 0, CKF_DECRYPT, g_k.priv, ct, KLEN - 1, pt, &plen),
                     CKR_ENCRYPTED_DATA_LEN_RANGE);

    /* Approved-only: PKCS#1 v1.5 encryption refused, signatures kept. */
    g_cfg.fips_approved_only = true;
    struct mech_op *op = NULL;
    const mech_fn fns[] = {CKF_ENCRYPT, CKF_DECRYPT, CKF_WRAP, CKF_UNWRAP};
    for (size_t i = 0; i < ARRAY_SIZE(fns); i++)
        assert_int_equal(
            mu_find_start(&g_cfg, g_c, CKM_RSA_PKCS, NULL, 0, fns[i],
                          fns[i] == CKF_ENCRYPT || fns[i] == CKF_WRAP ? g_k.pub : g_k.priv, &op),
            CKR_MECHANISM_INVALID);
    mech_op_free(mu_find_start_ok(&g_cfg, g_c, CKM_RSA_PKCS, NULL, 0, CKF_SIGN, g_k.priv));
    CK_RSA_PKCS_OAEP_PARAMS p = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
    mech_op_free(
        mu_find_start_ok(&g_cfg, g_c, CKM_RSA_PKCS_OAEP, &p, sizeof(p), CKF_DECRYPT, g_k.priv));
}

/* ---- CKM_RSA_PKCS signatures and recovery ----------------------------------- */

static void test_pkcs1_sign_raw(void **state)
{
    (void)state;
    unsigned char big[KLEN], sig[KLEN], rec[KLEN];
    CK_ULONG slen = sizeof(sig), rlen;
    size_t olen;
    struct oparams o = {.pad = RSA_PKCS1_PADDING};
    memset(big, 0x11, sizeof(big));

    assert_int_equal(run(CKM_RSA_PKCS, NULL, 0, CKF_SIGN, g_k.priv, big, KLEN - 11, sig, &slen),
                     CKR_OK);
    olen = KLEN;
    assert_int_equal(ossl(O_VERIFY, g_k.pkey, &o, big, KLEN - 11, sig, &olen), 1);
    assert_int_equal(verify(CKM_RSA_PKCS, NULL, 0, g_k.pub, big, KLEN - 11, sig, KLEN), CKR_OK);
    assert_int_equal(verify(CKM_RSA_PKCS, NULL, 0, g_k.pub, big, KLEN - 12, sig, KLEN),
                     CKR_SIGNATURE_INVALID);
    assert_int_equal(verify(CKM_RSA_PKCS, NULL, 0, g_k.pub, big, KLEN - 11, sig, KLEN - 1),
                     CKR_SIGNATURE_LEN_RANGE);
    assert_int_equal(verify(CKM_RSA_PKCS, NULL, 0, g_k.pub, big, KLEN - 10, sig, KLEN),
                     CKR_DATA_LEN_RANGE);
    slen = sizeof(sig);
    assert_int_equal(run(CKM_RSA_PKCS, NULL, 0, CKF_SIGN, g_k.priv, big, KLEN - 10, sig, &slen),
                     CKR_DATA_LEN_RANGE);
    olen = KLEN;
    assert_int_equal(ossl(O_SIGN, g_k.pkey, &o, MSG, 30, sig, &olen), 1);
    assert_int_equal(verify(CKM_RSA_PKCS, NULL, 0, g_k.pub, MSG, 30, sig, KLEN), CKR_OK);

    /* Sign-recover and verify-recover, with a short buffer on the way. */
    slen = sizeof(sig);
    assert_int_equal(run(CKM_RSA_PKCS, NULL, 0, CKF_SIGN_RECOVER, g_k.priv, MSG, 30, sig, &slen),
                     CKR_OK);
    struct mech_op *op =
        mu_find_start_ok(&g_cfg, g_c, CKM_RSA_PKCS, NULL, 0, CKF_VERIFY_RECOVER, g_k.pub);
    assert_null(op->ops->update);
    rlen = 0;
    assert_int_equal(op->ops->oneshot(op, sig, KLEN, NULL, &rlen), CKR_OK);
    assert_int_equal(rlen, KLEN);
    rlen = 29;
    assert_int_equal(op->ops->oneshot(op, sig, KLEN, rec, &rlen), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(rlen, 30);
    assert_int_equal(op->ops->oneshot(op, sig, KLEN, rec, &rlen), CKR_OK);
    assert_int_equal(rlen, 30);
    assert_memory_equal(rec, MSG, 30);
    mech_op_free(op);
    sig[3] ^= 8;
    rlen = sizeof(rec);
    assert_int_equal(run(CKM_RSA_PKCS, NULL, 0, CKF_VERIFY_RECOVER, g_k.pub, sig, KLEN, rec, &rlen),
                     CKR_SIGNATURE_INVALID);
    assert_int_equal(
        run(CKM_RSA_PKCS, NULL, 0, CKF_VERIFY_RECOVER, g_k.pub, sig, KLEN + 1, rec, &rlen),
        CKR_SIGNATURE_LEN_RANGE);
    assert_int_equal(verify(CKM_RSA_PKCS, NULL, 0, g_k.pub, MSG, 30, sig, KLEN),
                     CKR_SIGNATURE_INVALID);
}

/* ---- CKM_RSA_X_509 ---------------------------------------------------------- */

static void test_x509(void **state)
{
    (void)state;
    unsigned char ct[KLEN], pt[KLEN], want[KLEN], n[KLEN], sig[KLEN], rec[KLEN];
    CK_ULONG clen = sizeof(ct), plen = sizeof(pt), slen, rlen;
    size_t olen;
    struct oparams o = {.pad = RSA_NO_PADDING};
    BIGNUM *bn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(g_k.pkey, OSSL_PKEY_PARAM_RSA_N, &bn), 1);
    assert_int_equal(BN_bn2binpad(bn, n, KLEN), KLEN);
    BN_free(bn);

    /* Short input: zero-padded on the left; decryption gives the block. */
    memset(want, 0, sizeof(want));
    memcpy(want + KLEN - 20, MSG, 20);
    assert_int_equal(run(CKM_RSA_X_509, NULL, 0, CKF_ENCRYPT, g_k.pub, MSG, 20, ct, &clen), CKR_OK);
    assert_int_equal(clen, KLEN);
    olen = sizeof(pt);
    assert_int_equal(ossl(O_DECRYPT, g_k.pkey, &o, ct, KLEN, pt, &olen), 1);
    assert_int_equal(olen, KLEN);
    assert_memory_equal(pt, want, KLEN);
    assert_int_equal(run(CKM_RSA_X_509, NULL, 0, CKF_DECRYPT, g_k.priv, ct, KLEN, pt, &plen),
                     CKR_OK);
    assert_int_equal(plen, KLEN);
    assert_memory_equal(pt, want, KLEN);
    /* A ciphertext given without its leading zero bytes. */
    size_t z = 0;
    while (ct[z] == 0)
        z++;
    plen = sizeof(pt);
    assert_int_equal(run(CKM_RSA_X_509, NULL, 0, CKF_UNWRAP, g_k.priv, ct + z, KLEN - z, pt, &plen),
                     CKR_OK);
    assert_memory_equal(pt, want, KLEN);

    /* Sign = the private operation; verify and recover undo it. */
    slen = sizeof(sig);
    assert_int_equal(run(CKM_RSA_X_509, NULL, 0, CKF_SIGN, g_k.priv, MSG, 20, sig, &slen), CKR_OK);
    assert_int_equal(slen, KLEN);
    assert_int_equal(verify(CKM_RSA_X_509, NULL, 0, g_k.pub, MSG, 20, sig, KLEN), CKR_OK);
    assert_int_equal(verify(CKM_RSA_X_509, NULL, 0, g_k.pub, want, KLEN, sig, KLEN), CKR_OK);
    assert_int_equal(verify(CKM_RSA_X_509, NULL, 0, g_k.pub, MSG, 19, sig, KLEN),
                     CKR_SIGNATURE_INVALID);
    assert_int_equal(verify(CKM_RSA_X_509, NULL, 0, g_k.pub, MSG, 20, sig, KLEN - 1),
                     CKR_SIGNATURE_LEN_RANGE);
    rlen = sizeof(rec);
    assert_int_equal(
        run(CKM_RSA_X_509, NULL, 0, CKF_VERIFY_RECOVER, g_k.pub, sig, KLEN, rec, &rlen), CKR_OK);
    assert_int_equal(rlen, KLEN);
    assert_memory_equal(rec, want, KLEN);
    slen = sizeof(sig);
    assert_int_equal(run(CKM_RSA_X_509, NULL, 0, CKF_SIGN_RECOVER, g_k.priv, MSG, 20, rec, &slen),
                     CKR_OK);
    assert_memory_equal(rec, sig, KLEN);

    /* n and above: CKR_DATA_INVALID; n - 1 is fine; longer: _LEN_RANGE. */
    clen = sizeof(ct);
    assert_int_equal(run(CKM_RSA_X_509, NULL, 0, CKF_ENCRYPT, g_k.pub, n, KLEN, ct, &clen),
                     CKR_DATA_INVALID);
    slen = sizeof(sig);
    assert_int_equal(run(CKM_RSA_X_509, NULL, 0, CKF_SIGN, g_k.priv, n, KLEN, sig, &slen),
                     CKR_DATA_INVALID);
    unsigned char n1[KLEN + 1];
    memcpy(n1, n, KLEN);
    n1[KLEN - 1] -= 1; /* n is odd */
    assert_int_equal(run(CKM_RSA_X_509, NULL, 0, CKF_SIGN, g_k.priv, n1, KLEN, sig, &slen), CKR_OK);
    assert_int_equal(run(CKM_RSA_X_509, NULL, 0, CKF_SIGN, g_k.priv, n1, KLEN + 1, sig, &slen),
                     CKR_DATA_LEN_RANGE);
    assert_int_equal(run(CKM_RSA_X_509, NULL, 0, CKF_WRAP, g_k.pub, n1, KLEN + 1, ct, &clen),
                     CKR_DATA_LEN_RANGE);
    plen = sizeof(pt);
    assert_int_equal(run(CKM_RSA_X_509, NULL, 0, CKF_DECRYPT, g_k.priv, n, KLEN, pt, &plen),
                     CKR_ENCRYPTED_DATA_INVALID);
    assert_int_equal(run(CKM_RSA_X_509, NULL, 0, CKF_DECRYPT, g_k.priv, n1, KLEN + 1, pt, &plen),
                     CKR_ENCRYPTED_DATA_LEN_RANGE);
    assert_int_equal(verify(CKM_RSA_X_509, NULL, 0, g_k.pub, MSG, 20, n, KLEN),
                     CKR_SIGNATURE_INVALID);
    assert_int_equal(verify(CKM_RSA_X_509, NULL, 0, g_k.pub, n1, KLEN + 1, sig, KLEN),
                     CKR_DATA_LEN_RANGE);
}

/* ---- output convention and verification lengths ------------------------------ */

static void test_output_convention(void **state)
{
    (void)state;
    unsigned char sig[KLEN], sig2[KLEN];
    CK_ULONG len;

    /* Hash-and-sign: size query and a short buffer keep the operation. */
    struct mech_op *op =
        mu_find_start_ok(&g_cfg, g_c, CKM_SHA256_RSA_PKCS, NULL, 0, CKF_SIGN, g_k.priv);
    assert_int_equal(op->ops->update(op, MSG, sizeof(MSG), NULL, NULL), CKR_OK);
    len = 0;
    assert_int_equal(op->ops->final(op, NULL, &len), CKR_OK);
    assert_int_equal(len, KLEN);
    len = KLEN - 1;
    assert_int_equal(op->ops->final(op, sig, &len), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(len, KLEN);
    assert_int_equal(op->ops->final(op, sig, &len), CKR_OK);
    mech_op_free(op);
    op = mu_find_start_ok(&g_cfg, g_c, CKM_SHA256_RSA_PKCS, NULL, 0, CKF_SIGN, g_k.priv);
    len = 0;
    assert_int_equal(op->ops->oneshot(op, MSG, sizeof(MSG), NULL, &len), CKR_OK);
    assert_int_equal(len, KLEN);
    len = 1;
    assert_int_equal(op->ops->oneshot(op, MSG, sizeof(MSG), sig2, &len), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(len, KLEN);
    len = KLEN + 7;
    assert_int_equal(op->ops->oneshot(op, MSG, sizeof(MSG), sig2, &len), CKR_OK);
    assert_int_equal(len, KLEN);
    assert_memory_equal(sig, sig2, KLEN);
    mech_op_free(op);

    /* Single-part sign and encrypt. */
    const struct {
        CK_MECHANISM_TYPE mt;
        mech_fn fn;
        struct key *k;
    } cases[] = {{CKM_RSA_PKCS, CKF_SIGN, g_k.priv},
                 {CKM_RSA_X_509, CKF_SIGN, g_k.priv},
                 {CKM_RSA_PKCS, CKF_ENCRYPT, g_k.pub},
                 {CKM_RSA_X_509, CKF_WRAP, g_k.pub}};
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        op = mu_find_start_ok(&g_cfg, g_c, cases[i].mt, NULL, 0, cases[i].fn, cases[i].k);
        assert_null(op->ops->update);
        len = 0;
        assert_int_equal(op->ops->oneshot(op, MSG, 32, NULL, &len), CKR_OK);
        assert_int_equal(len, KLEN);
        len = KLEN - 1;
        assert_int_equal(op->ops->oneshot(op, MSG, 32, sig, &len), CKR_BUFFER_TOO_SMALL);
        assert_int_equal(len, KLEN);
        assert_int_equal(op->ops->oneshot(op, MSG, 32, sig, &len), CKR_OK);
        assert_int_equal(len, KLEN);
        mech_op_free(op);
    }

    /* Verification: wrong lengths and wrong signatures. */
    op = mu_find_start_ok(&g_cfg, g_c, CKM_SHA256_RSA_PKCS, NULL, 0, CKF_VERIFY, g_k.pub);
    assert_int_equal(op->ops->update(op, MSG, sizeof(MSG), NULL, NULL), CKR_OK);
    assert_int_equal(op->ops->verify_final(op, sig2, KLEN - 1), CKR_SIGNATURE_LEN_RANGE);
    mech_op_free(op);
    op = mu_find_start_ok(&g_cfg, g_c, CKM_SHA256_RSA_PKCS, NULL, 0, CKF_VERIFY, g_k.pub);
    assert_int_equal(op->ops->update(op, MSG, sizeof(MSG), NULL, NULL), CKR_OK);
    assert_int_equal(op->ops->verify_final(op, sig2, KLEN), CKR_OK);
    mech_op_free(op);
    assert_int_equal(verify(CKM_SHA256_RSA_PKCS, NULL, 0, g_k.pub, MSG, sizeof(MSG), sig2, 0),
                     CKR_SIGNATURE_LEN_RANGE);
    assert_int_equal(
        verify(CKM_SHA256_RSA_PKCS, NULL, 0, g_k.pub, MSG, sizeof(MSG), sig2, KLEN + 1),
        CKR_SIGNATURE_LEN_RANGE);
    memset(sig2, 0xff, sizeof(sig2)); /* above the modulus */
    assert_int_equal(verify(CKM_SHA256_RSA_PKCS, NULL, 0, g_k.pub, MSG, sizeof(MSG), sig2, KLEN),
                     CKR_SIGNATURE_INVALID);
    memset(sig2, 0, sizeof(sig2));
    assert_int_equal(verify(CKM_SHA256_RSA_PKCS, NULL, 0, g_k.pub, MSG, sizeof(MSG), sig2, KLEN),
                     CKR_SIGNATURE_INVALID);
}

/* Key class and function checks before the family; the functions each
 * mechanism offers. */
static void test_keys_and_functions(void **state)
{
    (void)state;
    struct mech_op *op = NULL;
    CK_RSA_PKCS_PSS_PARAMS pp = {CKM_SHA256, CKG_MGF1_SHA256, 32};
    assert_int_equal(
        mu_find_start(&g_cfg, g_c, CKM_SHA256_RSA_PKCS, NULL, 0, CKF_SIGN, g_k.pub, &op),
        CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(mu_find_start(&g_cfg, g_c, CKM_RSA_PKCS, NULL, 0, CKF_ENCRYPT, g_k.priv, &op),
                     CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(
        mu_find_start(&g_cfg, g_c, CKM_RSA_PKCS_PSS, &pp, sizeof(pp), CKF_ENCRYPT, g_k.pub, &op),
        CKR_MECHANISM_INVALID);
    assert_int_equal(
        mu_find_start(&g_cfg, g_c, CKM_SHA256_RSA_PKCS, NULL, 0, CKF_SIGN_RECOVER, g_k.priv, &op),
        CKR_MECHANISM_INVALID);
    assert_int_equal(mu_find_start(&g_cfg, g_c, CKM_SHA256_RSA_PKCS, NULL, 0, CKF_SIGN | CKF_VERIFY,
                                   g_k.priv, &op),
                     CKR_MECHANISM_INVALID);

    /* Single-part mechanisms have no update; hash-and-sign streams. */
    op = mu_find_start_ok(&g_cfg, g_c, CKM_RSA_PKCS_PSS, &pp, sizeof(pp), CKF_VERIFY, g_k.pub);
    assert_null(op->ops->update);
    assert_non_null(op->ops->verify_oneshot);
    mech_op_free(op);
    op = mu_find_start_ok(&g_cfg, g_c, CKM_SHA384_RSA_PKCS, NULL, 0, CKF_VERIFY, g_k.pub);
    assert_non_null(op->ops->update);
    assert_non_null(op->ops->verify_final);
    mech_op_free(op);

    /* An operation keeps its key alive. */
    struct key *k = key_of(g_k.pkey, CKO_PUBLIC_KEY);
    op = mu_find_start_ok(&g_cfg, g_c, CKM_SHA256_RSA_PKCS, NULL, 0, CKF_VERIFY, k);
    key_unref(k);
    assert_int_equal(op->ops->update(op, MSG, 3, NULL, NULL), CKR_OK);
    mech_op_free(op);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wycheproof_pkcs1, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_hashed_round_trips, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_pss_raw, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_pss_params, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_pss_sha1_policy, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_oaep, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_oaep_decrypt_errors, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_oaep_params, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_pkcs1_encrypt, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_pkcs1_sign_raw, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_x509, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_output_convention, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_keys_and_functions, setup, mu_check_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
