/*
 * Unit tests for src/mech/ec.c: ECDSA (raw and hashed), EdDSA and ECDH
 * called directly through mech_op_new / the family's derive.  Known answers
 * from NIST ACVP EDDSA-SigGen (Ed25519, Ed25519ph, Ed448, Ed448ph, with
 * contexts) and Wycheproof X25519; ECDSA cross-checked with OpenSSL used
 * directly, ECDH against OpenSSL-made peers and independently computed
 * X9.63 / SP 800-56C KDF outputs; every parameter and length error with its
 * precise CKR.
 */
#include "mech_util.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "mech/mech.h"
#include "object/attr.h"
#include "object/key.h"
#include "object/keyimport.h"

#define MAXB 1024

static struct config g_cfg;
static struct crypto *g_c;
static OSSL_LIB_CTX *g_lc;

/* ---- vectors -------------------------------------------------------------- */

struct ed_kat {
    int tc;
    bool ed448, ph;
    const char *d, *q, *msg, *ctx, *sig;
};

struct x_kat {
    int tc;
    bool zero; /* the shared secret is all zero: must be refused */
    const char *pub, *priv, *shared;
};

/* NIST ACVP EDDSA-SigGen-1.0 (first test of each group) and Wycheproof
 * x25519_test.json (tests/vectors). */
/* clang-format off */
static const struct ed_kat ed_kats[] = {
    {1, false, false,
     "60b9c57ea605c9147656883781ed28c847682faa3c7ad8fbe2fd9daf263c803c",
     "b3ebfe9ad81341a6c0eeea0b3f49115684d97f165535b2027cb5afce53ff944a",
     "f495660a1fc6a591b0e2fb90574e3a28e485152ecf6c5745c137e2c53e619832d58a5f101b3eeaf88887df1552ab16613e87aa4f38c91453a5824809be2e198ff84e3c6eaf79af8fd44ef7e4c0fdc70941a0f457f1908011f80e89cbcebe47806c9f131ab5580132de9be0b9db0d622f4d16c805ae852f0b68f1c6b1ab8e2bb4",
     "",
     "f9593859640fd47fa3a67f6cf00184b9696a2928f0013a72411325d7356af72460c26ddeb3b6a6c1bc89224179f72f75c8e3be6d2f9ef6002f29bce680c0b203",
    },
    {13, false, true,
     "2af03e7691051d68c7423e541d62b99983c21207f18ac0226681f01b4c26a7cd",
     "67becded71a8e11186f7ff68dff8a974464f641d70ba7f8b60f5902992f0daf2",
     "c34e91875c75585e408bc1c8de15c78d035e03fa9a0107b029b901ad1ae993ce98f5f716e6e76ececdaf1473be4ff50b0726a9b6d72877ba64776ecb43260e55ff7f18d420ceb3ac14db2212bb6c28988545d3283e934eb0c918e59a9483a9efc2d0e0e7e87b50da4fe84926d840d34912024fed16d025e067004f71a902955e",
     "095a0bbf22098f82",
     "b4b3cc3ffc6ce520690ed843a91fb6785c36cfc435683e3dbd80e9640349f298c80705962107c1176015208ae2834d0cb19b2335091882648076e00d8b0cf809",
    },
    {22, true, false,
     "e9c5e12cb16f99f0a66e41d9e5a9af21d2780d0f63b20eb02e117f13e51c4a946964bb3c8263e96bc75553fe384b12f281e99bf5dd9a65a403",
     "64a4dd82cc08b2d0c86e37989ea825796629ace07ca61ad880f82d3da2545eece991498daccbbedb24e685701d28d16925b63cd782ef4d2a80",
     "72b1f4dd6275c5eb975f3ec0dbb3dbfdbca035ed84041387280269f5e43e1a9415f824e8ee97d3018593eadd0510ec778cde69ab84fd219699e27435764b7e813c43d1c82b67db254cb9eaa59aad6a9d37e04062bf56d8e6c04f50cabd1fba7039858a6fad2457cd4029025ce4e1e5eaad315430bbb706c6b27eec82351c4f4e",
     "cc980ee5c97ee8ea0d97f92b91efe829",
     "0786c7780f2f3f2b86e016c9db23e561fe294add6f849be07ea25323033d4f5034ba68db3929040571d7fbcea4814d93c33aafebbcd88e158066df90e0b396fcbd6d51a235fe9c752fab9a32e681a967a622f2131bdcc022f2d0eeaf86ab269daf3b3861226031e7b0a3b4d79b4a43d52c00",
    },
    {34, true, true,
     "0e1436c3fc2ecc27eea411f88f52eaccdbbe122e42e2fdcbef293d56bb07f227119af9018de6ad9bf9bedc3a36fe1a4d1073aef98c439b0716",
     "61f622b100e87cc5c9ff4a122487f1035f75f69fe491ecbc9bb0a676faf05fe7ce73d36d7de4cdade359edd1d9c1870859c3e586acf3077000",
     "0738bcd0e5bb68edf8e66b220e732a6469d1be9d3b2a5f2d832247bd1ed80fc6d61898ab6a263a4d6cebaf3c4dad26389c13c6ba062b189fe427f61f09d5d8a823b9cf35acc678308bc4c854c943547a425092f780337fa64d4472e356c512353f7980a22768892f0b47ed85d166e3560a4ce51b0a1822a45bf69e35f5837779",
     "f1def5eeaa3f5400",
     "2187d80f7a33788920dde81fbba72ba7205a6b1883d133e0a5c76d35d2878f9ace5b33b59aedfd917552b04001124f98c0b14f14804692a880cbbf81fbbacbab848b2ae839e7203a4611bcc0575fa1e0a518d873d2dc4714a3636a96f751983b68458f26e5a8b7831e8a8fd9ff1c192a1c00",
    },
    {41, false, false,
     "69ccc759711a22b26e7d245375c68ce79eeeafee36c4ce8b253bda5134db0650",
     "5f9cf54332d80fb53e38510cd008de93b250d07208ba83c280941c25c01d8301",
     "6b9639cc",
     "",
     "3e48268c7308c4ab67968f05231c6a3d3761011be3085481f84bd877546267cf0266d9953ecc5bcb7b7abb8f9d56e3ffade1bc41d620da58a1993b1f64fb2603",
    },
    {73, true, false,
     "f4db055f09ec668e00e592d9f94256145acd481b7451a57729a5c04c4e434f0a1a9091f708d76062c7303e1e9182ae5499609e850e0a1085d3",
     "3dd8c7b1221f4bbd4af45bb6af16a47db541b2713894e4bdf1f713dbb19bb30fe19cf19af1e6096c7bd782db595a376b15b125e6d0414f9d80",
     "5b3604f0",
     "ed453d7a9f0d607f8eee52980de03a222e493dd56ceded07e980de90ed548397b71ad438e49954ed",
     "85b73af967b4cc9e7bc31252c40681e19158d0b3a8913bb3b54d1ef0296235d0cb3148c86c0dc359b2cf733f25a872e86c5f179ea429f24e8067775b1f3495571389d3c13931bc4e94f680d6a305b0bf9d4cf33ffcb213ce6f169dc3be2d0d038d8b1dfff45e7a3a8fc69727ecadd1493a00",
    },
    {105, false, true,
     "21a49a6e5069dbc5ef87591e71d6385cd47f25cde889f168d41730f3f14f0a1a",
     "454086ed09f364b590c5b0c5bdba0e206048769de01642dcc16c4ee280c2ba2e",
     "577c0d96",
     "735238ba6c3139343455624d624a2bf7999eb402f8b806eda5ca56d328b4f7834d59b5f1231bdb0a066177affefffd02493cb9957d53b629435cd6483b4095ab05604d5f4c743453343256aee24a497b129213be60fce49bb90165576f103c5c1059fa477b0f945dfb199261ee6f2aa9b34558789ca605ffa8c96fe1d12f6dc694441e0cf3fdc16a0ab06465fc8c6428e23787dcd6d1a02f",
     "e7d12afb7e607ab07f0f6d4c665453e96b61875588bc1ed056880158b2af0e5880a03787e8b012aedfa9ed574f65fc44fe99bfabcc0e38dd2ef769f9cf767c00",
    },
    {137, true, true,
     "980253f38fe81b2c2efa4ab27679a274a9afc47cdf1e2dfd875bf353130ff2fa8acb60c235c9050f14684a88c2c36d54535fe48f6c2ecbf9c6",
     "48f1dc2fd7de96a0991f932ffc13e9581e78555933dc81efef810f07ec461714dbe5dc1a836e8d940347d6569a0a16ff97316133444b77b900",
     "16eed86c",
     "08f69d3b7bc34bf24231fcfbb6f5835818d9c30e03e3f9343c27a8b12e4962290af6cf0dc9cc1049ed3c9905ce79f55b6fd686dc1f85fcd80466088c0c392fdc36ca75ab51f22e9eb5e39400bbfd9a45b3b4ea5d2599f480a12100f76bc62c813d550369bea9105a33ab7513059ef905",
     "9559ebcaa91d9b262e3d2a9d4ae17dbcb120eb567f63930983667d43ba824b37f4666f54481febdc713183dd25208d40073cc2bd85fc4ead800fb4a97c393728307cb3e439cda275304c11299d502ab2a689ab216f48c9044723abab12586a7a96271df5dddbb4eaf2733a7bd24947721b00",
    },
};
static const struct x_kat x25519_kats[] = {
    {1, false, "504a36999f489cd2fdbc08baff3d88fa00569ba986cba22548ffde80f9806829",
     "c8a9d5a91091ad851c668b0736c1c9a02936c0d3ad62670858088047ba057475",
     "436a2c040cf45fea9b29a0cb81b1f41458f863d0d61b453d0a982720d6d61320"},
    {32, true, "0000000000000000000000000000000000000000000000000000000000000000",
     "88227494038f2bb811d47805bcdf04a2ac585ada7f2f23389bfd4658f9ddd45e",
     "0000000000000000000000000000000000000000000000000000000000000000"},
    {34, false, "0400000000000000000000000000000000000000000000000000000000000000",
     "a8386f7f16c50731d64f82e6a170b142a4e34f31fd7768fcb8902925e7d1e25a",
     "34b7e4fa53264420d9f943d15513902342b386b172a0b0b7c8b8f2dd3d669f59"},
    {69, true, "0000000000000000000000000000000000000000000000000000000000000000",
     "786a33a4f7af297a20e7642925932bf509e7070fa1bc36986af1eb13f4f50b55",
     "0000000000000000000000000000000000000000000000000000000000000000"},
    {89, false, "f1ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
     "88dd14e2711ebd0b0026c651264ca965e7e3da5082789fbab7e24425e7b4377e",
     "6919992d6a591e77b3f2bacbd74caf3aea4be4802b18b2bc07eb09ade3ad6662"},
    {100, false, "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
     "a046e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449a44",
     "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
    {101, false, "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a413",
     "4866e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba4d",
     "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
    {104, false, "3b18df1e50b899ebd588c3161cbd3bf98ebcc2c1f7df53b811bd0e91b4d5153d",
     "60a3a4f130b98a5be4b1cedb7cb85584a3520e142d474dc9ccb909a073a9767f",
     "0900000000000000000000000000000000000000000000000000000000000000"},
    {120, false, "1200000000000000000000000000000000000000000000000000000000000000",
     "0840a8af5bc4c48da8850e973d7e14220f45c192cea4020d377eecd25c7c3643",
     "77557137a2a2a651c49627a9b239ac1f2bf78b8a3e72168ccecc10a51fc5ae66"},
    {513, false, "3e3e7708ef72a6dd78d858025089765b1c30a19715ac19e8d917067d208e0666",
     "4855555555555555555555555555555555555555555555555555555555555555",
     "63ef7d1c586476ec78bb7f747e321e01102166bf967a9ea9ba9741f49d439510"},
};
/* clang-format on */

static const unsigned char OID_P256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                         0xce, 0x3d, 0x03, 0x01, 0x07};
static const unsigned char OID_P384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const unsigned char OID_P521[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};
static const unsigned char OID_K256[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a};
static const unsigned char OID_ED25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
static const unsigned char OID_ED448[] = {0x06, 0x03, 0x2b, 0x65, 0x71};
static const unsigned char OID_X25519[] = {0x06, 0x03, 0x2b, 0x65, 0x6e};
static const unsigned char OID_X448[] = {0x06, 0x03, 0x2b, 0x65, 0x6f};

struct ec_curve {
    const char *group;
    const unsigned char *oid;
    size_t oid_len;
    size_t flen; /* field = order bytes */
};

static const struct ec_curve ec_curves[] = {
    {"prime256v1", OID_P256, sizeof(OID_P256), 32},
    {"secp384r1", OID_P384, sizeof(OID_P384), 48},
    {"secp521r1", OID_P521, sizeof(OID_P521), 66},
    {"secp256k1", OID_K256, sizeof(OID_K256), 32},
};

/* ---- helpers --------------------------------------------------------------- */

static size_t unhex(const char *h, unsigned char *out, size_t cap)
{
    size_t n = strlen(h) / 2;
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
        out[i] = (unsigned char)v;
    }
    return n;
}

/* The uncompressed public point of an OpenSSL EC key. */
static size_t ec_point(EVP_PKEY *pk, unsigned char *out, size_t cap)
{
    size_t n = 0;
    assert_int_equal(EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, out, cap, &n), 1);
    assert_int_equal(out[0], 0x04);
    return n;
}

struct eckey {
    EVP_PKEY *pkey;
    struct key *priv, *pub;
};

static void ec_make(const struct ec_curve *cv, struct eckey *k)
{
    unsigned char buf[MAXB];
    BIGNUM *d = NULL;
    k->pkey = EVP_PKEY_Q_keygen(g_lc, NULL, "EC", cv->group);
    assert_non_null(k->pkey);
    assert_int_equal(EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d), 1);
    assert_int_equal(BN_bn2binpad(d, buf, (int)cv->flen), (int)cv->flen);
    BN_clear_free(d);
    k->priv = mu_ec_key(g_c, CKK_EC, cv->oid, cv->oid_len, CKO_PRIVATE_KEY, buf, cv->flen);
    OPENSSL_cleanse(buf, sizeof(buf));
    size_t n = ec_point(k->pkey, buf, sizeof(buf));
    k->pub = mu_ec_key(g_c, CKK_EC, cv->oid, cv->oid_len, CKO_PUBLIC_KEY, buf, n);
}

static void ecx_make(const char *alg, CK_KEY_TYPE kt, const unsigned char *oid, size_t oid_len,
                     struct eckey *k)
{
    unsigned char buf[128];
    size_t n = sizeof(buf);
    k->pkey = EVP_PKEY_Q_keygen(g_lc, NULL, alg);
    assert_non_null(k->pkey);
    assert_int_equal(EVP_PKEY_get_raw_private_key(k->pkey, buf, &n), 1);
    k->priv = mu_ec_key(g_c, kt, oid, oid_len, CKO_PRIVATE_KEY, buf, n);
    n = sizeof(buf);
    assert_int_equal(EVP_PKEY_get_raw_public_key(k->pkey, buf, &n), 1);
    k->pub = mu_ec_key(g_c, kt, oid, oid_len, CKO_PUBLIC_KEY, buf, n);
}

static void key_free(struct eckey *k)
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

/* ---- operations ------------------------------------------------------------ */

static CK_RV sign(CK_MECHANISM_TYPE mt, const void *param, CK_ULONG plen, struct key *k,
                  const void *in, size_t inlen, unsigned char *out, CK_ULONG *outlen)
{
    return mu_find_oneshot(&g_cfg, g_c, mt, param, plen, CKF_SIGN, k, in, inlen, out, outlen);
}

static CK_RV verify(CK_MECHANISM_TYPE mt, const void *param, CK_ULONG plen, struct key *k,
                    const void *in, size_t inlen, const unsigned char *sig, size_t siglen)
{
    return mu_find_verify(&g_cfg, g_c, mt, param, plen, k, in, inlen, sig, siglen);
}

/* Multi-part: parts of at most step bytes. */
static CK_RV sign_parts(CK_MECHANISM_TYPE mt, const void *param, CK_ULONG plen, struct key *k,
                        const unsigned char *in, size_t inlen, size_t step, unsigned char *out,
                        CK_ULONG *outlen)
{
    struct mech_op *op = mu_find_start_ok(&g_cfg, g_c, mt, param, plen, CKF_SIGN, k);
    CK_RV rv = CKR_OK;
    for (size_t i = 0; i < inlen && rv == CKR_OK; i += step)
        rv = op->ops->update(op, in + i, (CK_ULONG)(inlen - i < step ? inlen - i : step), NULL,
                             NULL);
    if (rv == CKR_OK)
        rv = op->ops->final(op, out, outlen);
    mech_op_free(op);
    return rv;
}

static CK_RV verify_parts(CK_MECHANISM_TYPE mt, const void *param, CK_ULONG plen, struct key *k,
                          const unsigned char *in, size_t inlen, size_t step,
                          const unsigned char *sig, size_t siglen)
{
    struct mech_op *op = mu_find_start_ok(&g_cfg, g_c, mt, param, plen, CKF_VERIFY, k);
    CK_RV rv = CKR_OK;
    for (size_t i = 0; i < inlen && rv == CKR_OK; i += step)
        rv = op->ops->update(op, in + i, (CK_ULONG)(inlen - i < step ? inlen - i : step), NULL,
                             NULL);
    if (rv == CKR_OK)
        rv = op->ops->verify_final(op, sig, (CK_ULONG)siglen);
    mech_op_free(op);
    return rv;
}

/* r || s -> DER, and back, with OpenSSL. */
static size_t raw_to_der(const unsigned char *raw, size_t half, unsigned char *der)
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    assert_non_null(s);
    assert_int_equal(
        ECDSA_SIG_set0(s, BN_bin2bn(raw, (int)half, NULL), BN_bin2bn(raw + half, (int)half, NULL)),
        1);
    unsigned char *p = der;
    int n = i2d_ECDSA_SIG(s, &p);
    ECDSA_SIG_free(s);
    assert_true(n > 0);
    return (size_t)n;
}

static void der_to_raw(const unsigned char *der, size_t len, size_t half, unsigned char *raw)
{
    const unsigned char *p = der;
    const BIGNUM *r, *s;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    assert_non_null(sig);
    ECDSA_SIG_get0(sig, &r, &s);
    assert_int_equal(BN_bn2binpad(r, raw, (int)half), (int)half);
    assert_int_equal(BN_bn2binpad(s, raw + half, (int)half), (int)half);
    ECDSA_SIG_free(sig);
}

static int ossl_verify_hash(EVP_PKEY *pk, const unsigned char *der, size_t derlen,
                            const unsigned char *h, size_t hlen)
{
    EVP_PKEY_CTX *x = EVP_PKEY_CTX_new_from_pkey(g_lc, pk, NULL);
    int r = EVP_PKEY_verify_init(x) == 1 && EVP_PKEY_verify(x, der, derlen, h, hlen) == 1;
    EVP_PKEY_CTX_free(x);
    ERR_clear_error();
    return r;
}

static size_t ossl_sign_hash(EVP_PKEY *pk, const unsigned char *h, size_t hlen, unsigned char *der)
{
    EVP_PKEY_CTX *x = EVP_PKEY_CTX_new_from_pkey(g_lc, pk, NULL);
    size_t n = 200;
    assert_int_equal(EVP_PKEY_sign_init(x), 1);
    assert_int_equal(EVP_PKEY_sign(x, der, &n, h, hlen), 1);
    EVP_PKEY_CTX_free(x);
    return n;
}

static int ossl_digest_verify(EVP_PKEY *pk, const char *md, const unsigned char *der, size_t derlen,
                              const unsigned char *msg, size_t len)
{
    EVP_MD_CTX *x = EVP_MD_CTX_new();
    int r = EVP_DigestVerifyInit_ex(x, NULL, md, g_lc, NULL, pk, NULL) == 1 &&
            EVP_DigestVerify(x, der, derlen, msg, len) == 1;
    EVP_MD_CTX_free(x);
    ERR_clear_error();
    return r;
}

static size_t ossl_digest_sign(EVP_PKEY *pk, const char *md, const unsigned char *msg, size_t len,
                               unsigned char *der)
{
    EVP_MD_CTX *x = EVP_MD_CTX_new();
    size_t n = 200;
    assert_int_equal(EVP_DigestSignInit_ex(x, NULL, md, g_lc, NULL, pk, NULL), 1);
    assert_int_equal(EVP_DigestSign(x, der, &n, msg, len), 1);
    EVP_MD_CTX_free(x);
    return n;
}

/* ---- ECDSA ------------------------------------------------------------------ */

/* CKM_ECDSA on every curve, hashes shorter than, equal to and longer than
 * the order: our signatures verify in OpenSSL, OpenSSL's verify here. */
static void test_ecdsa_raw(void **state)
{
    (void)state;
    static const size_t hlens[] = {1, 20, 32, 48, 64, 100, 1024};
    unsigned char h[1024], sig[200], der[200], raw[200];
    for (size_t i = 0; i < sizeof(h); i++)
        h[i] = (unsigned char)(i * 7 + 1);
    for (size_t ci = 0; ci < ARRAY_SIZE(ec_curves); ci++) {
        const struct ec_curve *cv = &ec_curves[ci];
        struct eckey k;
        ec_make(cv, &k);
        for (size_t hi = 0; hi < ARRAY_SIZE(hlens); hi++) {
            size_t hl = hlens[hi];
            CK_ULONG n = sizeof(sig);
            assert_int_equal(sign(CKM_ECDSA, NULL, 0, k.priv, h, hl, sig, &n), CKR_OK);
            assert_int_equal(n, 2 * cv->flen);
            size_t dl = raw_to_der(sig, cv->flen, der);
            assert_true(ossl_verify_hash(k.pkey, der, dl, h, hl));
            assert_int_equal(verify(CKM_ECDSA, NULL, 0, k.pub, h, hl, sig, n), CKR_OK);
            /* OpenSSL's signature, converted, verifies here */
            dl = ossl_sign_hash(k.pkey, h, hl, der);
            der_to_raw(der, dl, cv->flen, raw);
            assert_int_equal(verify(CKM_ECDSA, NULL, 0, k.pub, h, hl, raw, 2 * cv->flen), CKR_OK);
            /* damaged: signature, hash */
            raw[cv->flen - 1] ^= 0x01;
            assert_int_equal(verify(CKM_ECDSA, NULL, 0, k.pub, h, hl, raw, 2 * cv->flen),
                             CKR_SIGNATURE_INVALID);
            h[0] ^= 0x80;
            assert_int_equal(verify(CKM_ECDSA, NULL, 0, k.pub, h, hl, sig, n),
                             CKR_SIGNATURE_INVALID);
            h[0] ^= 0x80;
        }
        key_free(&k);
    }
}

static void test_ecdsa_raw_errors(void **state)
{
    (void)state;
    struct eckey k, ed;
    unsigned char h[1025] = {1}, sig[200];
    CK_ULONG n = sizeof(sig);
    struct mech_op *op = NULL;
    ec_make(&ec_curves[0], &k);
    ecx_make("ED25519", CKK_EC_EDWARDS, OID_ED25519, sizeof(OID_ED25519), &ed);

    /* input length: empty, over 1024 */
    assert_int_equal(sign(CKM_ECDSA, NULL, 0, k.priv, h, 0, sig, &n), CKR_DATA_LEN_RANGE);
    assert_int_equal(sign(CKM_ECDSA, NULL, 0, k.priv, h, 1025, sig, &n), CKR_DATA_LEN_RANGE);
    assert_int_equal(verify(CKM_ECDSA, NULL, 0, k.pub, h, 0, sig, 64), CKR_DATA_LEN_RANGE);
    assert_int_equal(verify(CKM_ECDSA, NULL, 0, k.pub, h, 1025, sig, 64), CKR_DATA_LEN_RANGE);
    /* signature length */
    assert_int_equal(sign(CKM_ECDSA, NULL, 0, k.priv, h, 32, sig, &n), CKR_OK);
    assert_int_equal(verify(CKM_ECDSA, NULL, 0, k.pub, h, 32, sig, 63), CKR_SIGNATURE_LEN_RANGE);
    assert_int_equal(verify(CKM_ECDSA, NULL, 0, k.pub, h, 32, sig, 65), CKR_SIGNATURE_LEN_RANGE);
    assert_int_equal(verify(CKM_ECDSA, NULL, 0, k.pub, h, 32, sig, 0), CKR_SIGNATURE_LEN_RANGE);
    /* r = 0, s = 0, r = n (all ones is >= n) */
    memset(sig, 0, 64);
    assert_int_equal(verify(CKM_ECDSA, NULL, 0, k.pub, h, 32, sig, 64), CKR_SIGNATURE_INVALID);
    memset(sig, 0xff, 64);
    assert_int_equal(verify(CKM_ECDSA, NULL, 0, k.pub, h, 32, sig, 64), CKR_SIGNATURE_INVALID);

    /* output convention: size query and short buffer keep the operation */
    op = mu_find_start_ok(&g_cfg, g_c, CKM_ECDSA, NULL, 0, CKF_SIGN, k.priv);
    assert_null(op->ops->update); /* single-part only */
    n = 0;
    assert_int_equal(op->ops->oneshot(op, h, 32, NULL, &n), CKR_OK);
    assert_int_equal(n, 64);
    n = 63;
    assert_int_equal(op->ops->oneshot(op, h, 32, sig, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 64);
    n = sizeof(sig);
    assert_int_equal(op->ops->oneshot(op, h, 32, sig, &n), CKR_OK);
    assert_int_equal(n, 64);
    mech_op_free(op);
    assert_int_equal(verify(CKM_ECDSA, NULL, 0, k.pub, h, 32, sig, 64), CKR_OK);

    /* parameters: none allowed */
    CK_ULONG junk = 0;
    assert_int_equal(
        mu_find_start(&g_cfg, g_c, CKM_ECDSA, &junk, sizeof(junk), CKF_SIGN, k.priv, &op),
        CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(
        mu_find_start(&g_cfg, g_c, CKM_ECDSA_SHA256, &junk, sizeof(junk), CKF_SIGN, k.priv, &op),
        CKR_MECHANISM_PARAM_INVALID);
    /* keys: wrong class, wrong type */
    assert_int_equal(mu_find_start(&g_cfg, g_c, CKM_ECDSA, NULL, 0, CKF_SIGN, k.pub, &op),
                     CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(mu_find_start(&g_cfg, g_c, CKM_ECDSA, NULL, 0, CKF_VERIFY, k.priv, &op),
                     CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(mu_find_start(&g_cfg, g_c, CKM_ECDSA, NULL, 0, CKF_SIGN, ed.priv, &op),
                     CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(mu_find_start(&g_cfg, g_c, CKM_ECDSA_SHA256, NULL, 0, CKF_SIGN, ed.priv, &op),
                     CKR_KEY_TYPE_INCONSISTENT);
    /* ECDH is not a signature */
    assert_int_equal(mu_find_start(&g_cfg, g_c, CKM_ECDH1_DERIVE, NULL, 0, CKF_SIGN, k.priv, &op),
                     CKR_MECHANISM_INVALID);
    key_free(&k);
    key_free(&ed);
}

struct hashed {
    CK_MECHANISM_TYPE mech;
    const char *md;
};

static const struct hashed hashed[] = {
    {CKM_ECDSA_SHA1, "SHA1"},         {CKM_ECDSA_SHA224, "SHA2-224"},
    {CKM_ECDSA_SHA256, "SHA2-256"},   {CKM_ECDSA_SHA384, "SHA2-384"},
    {CKM_ECDSA_SHA512, "SHA2-512"},   {CKM_ECDSA_SHA3_224, "SHA3-224"},
    {CKM_ECDSA_SHA3_256, "SHA3-256"}, {CKM_ECDSA_SHA3_384, "SHA3-384"},
    {CKM_ECDSA_SHA3_512, "SHA3-512"},
};

/* Hash-and-sign, single- and multi-part, both ways with OpenSSL. */
static void test_ecdsa_hashed(void **state)
{
    (void)state;
    unsigned char msg[3000], sig[200], der[200], raw[200];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (unsigned char)(i ^ (i >> 8));
    for (size_t ci = 0; ci < ARRAY_SIZE(ec_curves); ci++) {
        const struct ec_curve *cv = &ec_curves[ci];
        const size_t sl = 2 * cv->flen;
        struct eckey k;
        ec_make(cv, &k);
        for (size_t hi = 0; hi < ARRAY_SIZE(hashed); hi++) {
            const struct hashed *hm = &hashed[hi];
            CK_ULONG n = sizeof(sig);
            assert_int_equal(sign(hm->mech, NULL, 0, k.priv, msg, sizeof(msg), sig, &n), CKR_OK);
            assert_int_equal(n, sl);
            size_t dl = raw_to_der(sig, cv->flen, der);
            assert_true(ossl_digest_verify(k.pkey, hm->md, der, dl, msg, sizeof(msg)));
            assert_int_equal(verify(hm->mech, NULL, 0, k.pub, msg, sizeof(msg), sig, n), CKR_OK);
            assert_int_equal(verify_parts(hm->mech, NULL, 0, k.pub, msg, sizeof(msg), 1000, sig, n),
                             CKR_OK);
            /* multi-part signing, odd part sizes */
            n = sizeof(sig);
            assert_int_equal(sign_parts(hm->mech, NULL, 0, k.priv, msg, sizeof(msg), 77, sig, &n),
                             CKR_OK);
            dl = raw_to_der(sig, cv->flen, der);
            assert_true(ossl_digest_verify(k.pkey, hm->md, der, dl, msg, sizeof(msg)));
            /* OpenSSL's signatures verify here; damaged ones do not */
            dl = ossl_digest_sign(k.pkey, hm->md, msg, sizeof(msg), der);
            der_to_raw(der, dl, cv->flen, raw);
            assert_int_equal(verify(hm->mech, NULL, 0, k.pub, msg, sizeof(msg), raw, sl), CKR_OK);
            assert_int_equal(verify(hm->mech, NULL, 0, k.pub, msg, sizeof(msg) - 1, raw, sl),
                             CKR_SIGNATURE_INVALID);
            raw[sl - 1] ^= 0x40;
            assert_int_equal(verify_parts(hm->mech, NULL, 0, k.pub, msg, sizeof(msg), 512, raw, sl),
                             CKR_SIGNATURE_INVALID);
            assert_int_equal(verify(hm->mech, NULL, 0, k.pub, msg, sizeof(msg), raw, sl - 1),
                             CKR_SIGNATURE_LEN_RANGE);
            assert_int_equal(verify_parts(hm->mech, NULL, 0, k.pub, msg, 10, 5, raw, sl + 1),
                             CKR_SIGNATURE_LEN_RANGE);
        }
        /* the empty message is a message */
        CK_ULONG n = sizeof(sig);
        assert_int_equal(sign(CKM_ECDSA_SHA256, NULL, 0, k.priv, NULL, 0, sig, &n), CKR_OK);
        assert_int_equal(verify(CKM_ECDSA_SHA256, NULL, 0, k.pub, msg, 0, sig, n), CKR_OK);
        key_free(&k);
    }
}

static void test_ecdsa_hashed_output(void **state)
{
    (void)state;
    struct eckey k;
    unsigned char msg[100] = {3}, sig[200];
    CK_ULONG n;
    ec_make(&ec_curves[2], &k); /* P-521: 132-byte signatures */
    struct mech_op *op = mu_find_start_ok(&g_cfg, g_c, CKM_ECDSA_SHA512, NULL, 0, CKF_SIGN, k.priv);
    assert_int_equal(op->ops->update(op, msg, 50, NULL, NULL), CKR_OK);
    n = 0;
    assert_int_equal(op->ops->final(op, NULL, &n), CKR_OK);
    assert_int_equal(n, 132);
    n = 131;
    assert_int_equal(op->ops->final(op, sig, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 132);
    assert_int_equal(op->ops->update(op, msg + 50, 50, NULL, NULL), CKR_OK);
    n = sizeof(sig);
    assert_int_equal(op->ops->final(op, sig, &n), CKR_OK);
    assert_int_equal(n, 132);
    mech_op_free(op);
    assert_int_equal(verify(CKM_ECDSA_SHA512, NULL, 0, k.pub, msg, sizeof(msg), sig, n), CKR_OK);

    op = mu_find_start_ok(&g_cfg, g_c, CKM_ECDSA_SHA512, NULL, 0, CKF_SIGN, k.priv);
    n = 10;
    assert_int_equal(op->ops->oneshot(op, msg, sizeof(msg), sig, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 132);
    n = 132;
    assert_int_equal(op->ops->oneshot(op, msg, sizeof(msg), sig, &n), CKR_OK);
    mech_op_free(op);
    assert_int_equal(verify(CKM_ECDSA_SHA512, NULL, 0, k.pub, msg, sizeof(msg), sig, n), CKR_OK);
    key_free(&k);
}

/* ---- EdDSA ------------------------------------------------------------------- */

static void test_eddsa_acvp(void **state)
{
    (void)state;
    unsigned char d[64], q[64], msg[512], ctx[256], sig[128], out[128];
    for (size_t i = 0; i < ARRAY_SIZE(ed_kats); i++) {
        const struct ed_kat *t = &ed_kats[i];
        const unsigned char *oid = t->ed448 ? OID_ED448 : OID_ED25519;
        size_t dl = unhex(t->d, d, sizeof(d)), ql = unhex(t->q, q, sizeof(q));
        size_t ml = unhex(t->msg, msg, sizeof(msg)), cl = unhex(t->ctx, ctx, sizeof(ctx));
        size_t sl = unhex(t->sig, sig, sizeof(sig));
        struct key *priv =
            mu_ec_key(g_c, CKK_EC_EDWARDS, oid, sizeof(OID_ED25519), CKO_PRIVATE_KEY, d, dl);
        struct key *pub =
            mu_ec_key(g_c, CKK_EC_EDWARDS, oid, sizeof(OID_ED25519), CKO_PUBLIC_KEY, q, ql);
        CK_EDDSA_PARAMS p = {t->ph ? CK_TRUE : CK_FALSE, (CK_ULONG)cl, cl > 0 ? ctx : NULL};
        print_message("# EDDSA tcId %d (%s%s, context %zu)\n", t->tc,
                      t->ed448 ? "Ed448" : "Ed25519", t->ph ? "ph" : "", cl);

        CK_ULONG n = sizeof(out);
        assert_int_equal(sign(CKM_EDDSA, &p, sizeof(p), priv, msg, ml, out, &n), CKR_OK);
        assert_int_equal(n, sl);
        assert_memory_equal(out, sig, sl);
        n = sizeof(out);
        assert_int_equal(sign_parts(CKM_EDDSA, &p, sizeof(p), priv, msg, ml, 3, out, &n), CKR_OK);
        assert_memory_equal(out, sig, sl);
        assert_int_equal(verify(CKM_EDDSA, &p, sizeof(p), pub, msg, ml, sig, sl), CKR_OK);
        assert_int_equal(verify_parts(CKM_EDDSA, &p, sizeof(p), pub, msg, ml, 7, sig, sl), CKR_OK);
        if (!t->ph && cl == 0) { /* pure: also without a parameter */
            n = sizeof(out);
            assert_int_equal(sign(CKM_EDDSA, NULL, 0, priv, msg, ml, out, &n), CKR_OK);
            assert_memory_equal(out, sig, sl);
            assert_int_equal(verify(CKM_EDDSA, NULL, 0, pub, msg, ml, sig, sl), CKR_OK);
        }
        /* the variant is bound: other flag, other context, other message */
        CK_EDDSA_PARAMS other = p;
        other.phFlag = t->ph ? CK_FALSE : CK_TRUE;
        assert_int_equal(verify(CKM_EDDSA, &other, sizeof(other), pub, msg, ml, sig, sl),
                         CKR_SIGNATURE_INVALID);
        if (cl > 0) {
            ctx[0] ^= 1;
            assert_int_equal(verify(CKM_EDDSA, &p, sizeof(p), pub, msg, ml, sig, sl),
                             CKR_SIGNATURE_INVALID);
            ctx[0] ^= 1;
        }
        msg[ml - 1] ^= 1;
        assert_int_equal(verify(CKM_EDDSA, &p, sizeof(p), pub, msg, ml, sig, sl),
                         CKR_SIGNATURE_INVALID);
        assert_int_equal(verify(CKM_EDDSA, &p, sizeof(p), pub, msg, ml, sig, sl - 1),
                         CKR_SIGNATURE_LEN_RANGE);
        assert_int_equal(verify_parts(CKM_EDDSA, &p, sizeof(p), pub, msg, ml, 9, sig, sl + 1),
                         CKR_SIGNATURE_LEN_RANGE);
        key_unref(priv);
        key_unref(pub);
    }
}

/* Ed25519ctx (not in the ACVP file) and pure EdDSA against OpenSSL. */
static int ossl_ed_verify(EVP_PKEY *pk, const char *instance, const unsigned char *ctx, size_t cl,
                          const unsigned char *sig, size_t sl, const unsigned char *msg, size_t ml)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_INSTANCE, (char *)instance, 0),
        OSSL_PARAM_construct_octet_string(OSSL_SIGNATURE_PARAM_CONTEXT_STRING, (void *)ctx, cl),
        OSSL_PARAM_construct_end(),
    };
    if (cl == 0)
        params[1] = OSSL_PARAM_construct_end();
    EVP_MD_CTX *x = EVP_MD_CTX_new();
    int r = EVP_DigestVerifyInit_ex(x, NULL, NULL, g_lc, NULL, pk, params) == 1 &&
            EVP_DigestVerify(x, sig, sl, msg, ml) == 1;
    EVP_MD_CTX_free(x);
    ERR_clear_error();
    return r;
}

static void test_eddsa_variants(void **state)
{
    (void)state;
    struct eckey k25, k448;
    unsigned char msg[1000], ctx[255], sig[128];
    CK_ULONG n;
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (unsigned char)(i * 13);
    memset(ctx, 0x5a, sizeof(ctx));
    ecx_make("ED25519", CKK_EC_EDWARDS, OID_ED25519, sizeof(OID_ED25519), &k25);
    ecx_make("ED448", CKK_EC_EDWARDS, OID_ED448, sizeof(OID_ED448), &k448);

    static const struct {
        bool ed448, ph;
        size_t cl;
        const char *instance;
    } v[] = {
        {false, false, 0, "Ed25519"},      {false, false, 1, "Ed25519ctx"},
        {false, false, 255, "Ed25519ctx"}, {false, true, 0, "Ed25519ph"},
        {false, true, 255, "Ed25519ph"},   {true, false, 0, "Ed448"},
        {true, false, 255, "Ed448"},       {true, true, 0, "Ed448ph"},
        {true, true, 9, "Ed448ph"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
        struct eckey *k = v[i].ed448 ? &k448 : &k25;
        CK_EDDSA_PARAMS p = {v[i].ph ? CK_TRUE : CK_FALSE, (CK_ULONG)v[i].cl, ctx};
        n = sizeof(sig);
        assert_int_equal(sign(CKM_EDDSA, &p, sizeof(p), k->priv, msg, sizeof(msg), sig, &n),
                         CKR_OK);
        assert_int_equal(n, v[i].ed448 ? 114 : 64);
        assert_true(ossl_ed_verify(k->pkey, v[i].instance, ctx, v[i].cl, sig, n, msg, sizeof(msg)));
        assert_int_equal(verify(CKM_EDDSA, &p, sizeof(p), k->pub, msg, sizeof(msg), sig, n),
                         CKR_OK);
    }
    /* the empty message */
    n = sizeof(sig);
    assert_int_equal(sign(CKM_EDDSA, NULL, 0, k25.priv, NULL, 0, sig, &n), CKR_OK);
    assert_int_equal(verify(CKM_EDDSA, NULL, 0, k25.pub, NULL, 0, sig, n), CKR_OK);
    n = sizeof(sig);
    assert_int_equal(sign_parts(CKM_EDDSA, NULL, 0, k448.priv, msg, 0, 1, sig, &n), CKR_OK);
    assert_int_equal(verify(CKM_EDDSA, NULL, 0, k448.pub, msg, 0, sig, n), CKR_OK);
    key_free(&k25);
    key_free(&k448);
}

static void test_eddsa_errors(void **state)
{
    (void)state;
    struct eckey k, ec;
    unsigned char ctx[256] = {0}, msg[32] = {1}, sig[128];
    struct mech_op *op = NULL;
    CK_ULONG n;
    ecx_make("ED25519", CKK_EC_EDWARDS, OID_ED25519, sizeof(OID_ED25519), &k);
    ec_make(&ec_curves[0], &ec);

    CK_EDDSA_PARAMS p = {CK_FALSE, 256, ctx};
    assert_int_equal(mu_find_start(&g_cfg, g_c, CKM_EDDSA, &p, sizeof(p), CKF_SIGN, k.priv, &op),
                     CKR_MECHANISM_PARAM_INVALID);
    p = (CK_EDDSA_PARAMS){CK_FALSE, 4, NULL};
    assert_int_equal(mu_find_start(&g_cfg, g_c, CKM_EDDSA, &p, sizeof(p), CKF_SIGN, k.priv, &op),
                     CKR_MECHANISM_PARAM_INVALID);
    p = (CK_EDDSA_PARAMS){CK_TRUE, 0, NULL};
    assert_int_equal(
        mu_find_start(&g_cfg, g_c, CKM_EDDSA, &p, sizeof(p) - 1, CKF_SIGN, k.priv, &op),
        CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(
        mu_find_start(&g_cfg, g_c, CKM_EDDSA, &p, sizeof(p) + 1, CKF_VERIFY, k.pub, &op),
        CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(mu_find_start(&g_cfg, g_c, CKM_EDDSA, NULL, 0, CKF_SIGN, ec.priv, &op),
                     CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(mu_find_start(&g_cfg, g_c, CKM_EDDSA, NULL, 0, CKF_SIGN, k.pub, &op),
                     CKR_KEY_TYPE_INCONSISTENT);

    /* output convention, one-shot and multi-part */
    op = mu_find_start_ok(&g_cfg, g_c, CKM_EDDSA, NULL, 0, CKF_SIGN, k.priv);
    n = 0;
    assert_int_equal(op->ops->oneshot(op, msg, sizeof(msg), NULL, &n), CKR_OK);
    assert_int_equal(n, 64);
    n = 63;
    assert_int_equal(op->ops->oneshot(op, msg, sizeof(msg), sig, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 64);
    assert_int_equal(op->ops->oneshot(op, msg, sizeof(msg), sig, &n), CKR_OK);
    mech_op_free(op);
    assert_int_equal(verify(CKM_EDDSA, NULL, 0, k.pub, msg, sizeof(msg), sig, n), CKR_OK);
    op = mu_find_start_ok(&g_cfg, g_c, CKM_EDDSA, NULL, 0, CKF_SIGN, k.priv);
    assert_int_equal(op->ops->update(op, msg, 10, NULL, NULL), CKR_OK);
    n = 1;
    assert_int_equal(op->ops->final(op, sig, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(op->ops->update(op, msg + 10, 22, NULL, NULL), CKR_OK);
    n = 64;
    assert_int_equal(op->ops->final(op, sig, &n), CKR_OK);
    mech_op_free(op);
    assert_int_equal(verify(CKM_EDDSA, NULL, 0, k.pub, msg, sizeof(msg), sig, n), CKR_OK);
    /* the buffer limit */
    op = mu_find_start_ok(&g_cfg, g_c, CKM_EDDSA, NULL, 0, CKF_SIGN, k.priv);
    assert_int_equal(op->ops->update(op, msg, sizeof(msg), NULL, NULL), CKR_OK);
    assert_int_equal(op->ops->update(op, msg, (CK_ULONG)MECH_MAX_BUFFER, NULL, NULL),
                     CKR_DATA_LEN_RANGE);
    mech_op_free(op);
    key_free(&k);
    key_free(&ec);
}

/* ---- ECDH --------------------------------------------------------------------- */

static CK_RV derive(CK_MECHANISM_TYPE mt, const void *param, CK_ULONG plen, struct key *k,
                    size_t len, unsigned char **out, size_t *outlen)
{
    const struct mech_desc *d = mech_find(mt);
    assert_non_null(d);
    CK_MECHANISM m = {mt, (void *)param, plen};
    *out = NULL;
    *outlen = 0;
    CK_RV rv = d->family->derive(d, &m, k, g_c, &g_cfg, len, out, outlen);
    assert_true((rv == CKR_OK) == (*out != NULL));
    return rv;
}

/* OpenSSL's Z of priv with peer. */
static size_t ossl_z(EVP_PKEY *priv, EVP_PKEY *peer, unsigned char *z)
{
    EVP_PKEY_CTX *x = EVP_PKEY_CTX_new_from_pkey(g_lc, priv, NULL);
    size_t n = 200;
    assert_int_equal(EVP_PKEY_derive_init(x), 1);
    assert_int_equal(EVP_PKEY_derive_set_peer(x, peer), 1);
    assert_int_equal(EVP_PKEY_derive(x, z, &n), 1);
    EVP_PKEY_CTX_free(x);
    return n;
}

/* ANSI X9.63 (counter after Z) or SP 800-56C one-step (counter first) by
 * hand with EVP_Digest. */
static void kdf_by_hand(const char *md, bool sp800, const unsigned char *z, size_t zl,
                        const unsigned char *info, size_t il, unsigned char *out, size_t len)
{
    EVP_MD *m = EVP_MD_fetch(g_lc, md, NULL);
    size_t hl = (size_t)EVP_MD_get_size(m), done = 0;
    for (uint32_t ctr = 1; done < len; ctr++) {
        unsigned char c[4] = {(unsigned char)(ctr >> 24), (unsigned char)(ctr >> 16),
                              (unsigned char)(ctr >> 8), (unsigned char)ctr};
        unsigned char h[64];
        EVP_MD_CTX *x = EVP_MD_CTX_new();
        assert_int_equal(EVP_DigestInit_ex2(x, m, NULL), 1);
        if (sp800)
            assert_int_equal(EVP_DigestUpdate(x, c, 4), 1);
        assert_int_equal(EVP_DigestUpdate(x, z, zl), 1);
        if (!sp800)
            assert_int_equal(EVP_DigestUpdate(x, c, 4), 1);
        assert_int_equal(EVP_DigestUpdate(x, info, il), 1);
        assert_int_equal(EVP_DigestFinal_ex(x, h, NULL), 1);
        EVP_MD_CTX_free(x);
        size_t take = len - done < hl ? len - done : hl;
        memcpy(out + done, h, take);
        done += take;
    }
    EVP_MD_free(m);
}

/* DER OCTET STRING of v. */
static size_t wrap(const unsigned char *v, size_t len, unsigned char *out)
{
    size_t hdr = len < 0x80 ? 2 : 3;
    out[0] = 0x04;
    out[1] = len < 0x80 ? (unsigned char)len : 0x81;
    out[2] = (unsigned char)len;
    memcpy(out + hdr, v, len);
    return hdr + len;
}

static void test_ecdh_curves(void **state)
{
    (void)state;
    unsigned char pt[200], der[200], z[200], want[200], info[40];
    unsigned char *out = NULL;
    size_t outlen = 0;
    memset(info, 0xa5, sizeof(info));
    for (size_t ci = 0; ci < ARRAY_SIZE(ec_curves); ci++) {
        const struct ec_curve *cv = &ec_curves[ci];
        struct eckey k, peer;
        ec_make(cv, &k);
        ec_make(cv, &peer);
        size_t pl = ec_point(peer.pkey, pt, sizeof(pt)), dl = wrap(pt, pl, der);
        size_t zl = ossl_z(peer.pkey, k.pkey, z);
        assert_int_equal(zl, cv->flen);

        for (int cof = 0; cof < 2; cof++) {
            CK_MECHANISM_TYPE mt = cof ? CKM_ECDH1_COFACTOR_DERIVE : CKM_ECDH1_DERIVE;
            /* CKD_NULL, raw and DER point: Z; truncated */
            CK_ECDH1_DERIVE_PARAMS p = {CKD_NULL, 0, NULL, (CK_ULONG)pl, pt};
            assert_int_equal(derive(mt, &p, sizeof(p), k.priv, 0, &out, &outlen), CKR_OK);
            assert_int_equal(outlen, zl);
            assert_memory_equal(out, z, zl);
            crypto_secret_free(out, outlen);
            p.pPublicData = der;
            p.ulPublicDataLen = (CK_ULONG)dl;
            assert_int_equal(derive(mt, &p, sizeof(p), k.priv, 16, &out, &outlen), CKR_OK);
            assert_int_equal(outlen, 16);
            assert_memory_equal(out, z, 16);
            crypto_secret_free(out, outlen);
            assert_int_equal(derive(mt, &p, sizeof(p), k.priv, zl, &out, &outlen), CKR_OK);
            assert_memory_equal(out, z, zl);
            crypto_secret_free(out, outlen);
            assert_int_equal(derive(mt, &p, sizeof(p), k.priv, zl + 1, &out, &outlen),
                             CKR_KEY_SIZE_RANGE);
        }
        /* KDFs: X9.63 and SP 800-56C, with and without shared data, one
         * and two blocks, the natural length */
        static const struct {
            CK_EC_KDF_TYPE kdf;
            const char *md;
            bool sp800;
        } kdfs[] = {
            {CKD_SHA1_KDF, "SHA1", false},
            {CKD_SHA224_KDF, "SHA2-224", false},
            {CKD_SHA256_KDF, "SHA2-256", false},
            {CKD_SHA384_KDF, "SHA2-384", false},
            {CKD_SHA512_KDF, "SHA2-512", false},
            {CKD_SHA3_256_KDF, "SHA3-256", false},
            {CKD_SHA256_KDF_SP800, "SHA2-256", true},
            {CKD_SHA3_512_KDF_SP800, "SHA3-512", true},
        };
        for (size_t i = 0; i < ARRAY_SIZE(kdfs); i++) {
            static const size_t lens[] = {16, 32, 100};
            for (size_t li = 0; li < ARRAY_SIZE(lens); li++) {
                for (size_t il = 0; il <= sizeof(info); il += sizeof(info)) {
                    CK_ECDH1_DERIVE_PARAMS p = {kdfs[i].kdf, (CK_ULONG)il, il ? info : NULL,
                                                (CK_ULONG)pl, pt};
                    assert_int_equal(
                        derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.priv, lens[li], &out, &outlen),
                        CKR_OK);
                    kdf_by_hand(kdfs[i].md, kdfs[i].sp800, z, zl, info, il, want, lens[li]);
                    assert_int_equal(outlen, lens[li]);
                    assert_memory_equal(out, want, lens[li]);
                    crypto_secret_free(out, outlen);
                }
            }
            CK_ECDH1_DERIVE_PARAMS p = {kdfs[i].kdf, 0, NULL, (CK_ULONG)pl, pt};
            assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.priv, 0, &out, &outlen),
                             CKR_OK);
            EVP_MD *m = EVP_MD_fetch(g_lc, kdfs[i].md, NULL);
            assert_int_equal(outlen, (size_t)EVP_MD_get_size(m));
            EVP_MD_free(m);
            crypto_secret_free(out, outlen);
        }
        key_free(&k);
        key_free(&peer);
    }
}

static void test_ecdh_errors(void **state)
{
    (void)state;
    struct eckey k, peer, other, x, ed;
    unsigned char pt[200], buf[200], info[8] = {0};
    unsigned char *out = NULL;
    size_t outlen = 0;
    ec_make(&ec_curves[0], &k);
    ec_make(&ec_curves[0], &peer);
    ec_make(&ec_curves[1], &other);
    ecx_make("X25519", CKK_EC_MONTGOMERY, OID_X25519, sizeof(OID_X25519), &x);
    ecx_make("ED25519", CKK_EC_EDWARDS, OID_ED25519, sizeof(OID_ED25519), &ed);
    size_t pl = ec_point(peer.pkey, pt, sizeof(pt));
    CK_ECDH1_DERIVE_PARAMS p = {CKD_NULL, 0, NULL, (CK_ULONG)pl, pt};
    const CK_RV bad = CKR_MECHANISM_PARAM_INVALID;

    /* the parameter itself */
    assert_int_equal(derive(CKM_ECDH1_DERIVE, NULL, 0, k.priv, 0, &out, &outlen), bad);
    assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p) - 1, k.priv, 0, &out, &outlen), bad);
    p.kdf = CKD_SHA1_KDF_ASN1;
    assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.priv, 0, &out, &outlen), bad);
    p.kdf = 0x12345678;
    assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.priv, 0, &out, &outlen), bad);
    p.kdf = CKD_NULL; /* CKD_NULL takes no shared data */
    p.ulSharedDataLen = sizeof(info);
    p.pSharedData = info;
    assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.priv, 0, &out, &outlen), bad);
    p.kdf = CKD_SHA256_KDF;
    p.pSharedData = NULL;
    assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.priv, 0, &out, &outlen), bad);
    p = (CK_ECDH1_DERIVE_PARAMS){CKD_NULL, 0, NULL, (CK_ULONG)pl, NULL};
    assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.priv, 0, &out, &outlen), bad);
    p.pPublicData = pt;
    p.ulPublicDataLen = 0;
    assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.priv, 0, &out, &outlen), bad);

    /* the peer's point: lengths, off the curve, another curve, infinity, bad DER */
    for (size_t len = 1; len < pl + 4; len++) {
        if (len == 33 || len == pl)
            continue; /* compressed and uncompressed */
        p.ulPublicDataLen = (CK_ULONG)len;
        assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.priv, 0, &out, &outlen), bad);
    }
    p.ulPublicDataLen = (CK_ULONG)pl;
    pt[pl - 1] ^= 1;
    assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.priv, 0, &out, &outlen), bad);
    pt[pl - 1] ^= 1;
    pt[0] = 0x05;
    assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.priv, 0, &out, &outlen), bad);
    pt[0] = 0x04;
    size_t ol = ec_point(other.pkey, buf, sizeof(buf));
    p.pPublicData = buf;
    p.ulPublicDataLen = (CK_ULONG)ol;
    assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.priv, 0, &out, &outlen), bad);
    buf[0] = 0x00; /* the point at infinity */
    p.ulPublicDataLen = 1;
    assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.priv, 0, &out, &outlen), bad);
    size_t dl = wrap(pt, pl, buf);
    buf[1]++; /* DER length one too many */
    p.ulPublicDataLen = (CK_ULONG)dl;
    assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.priv, 0, &out, &outlen), bad);
    buf[1]--;
    buf[0] = 0x03; /* BIT STRING */
    assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.priv, 0, &out, &outlen), bad);
    /* a compressed point is an X9.62 encoding too */
    unsigned char cp[40];
    memcpy(cp + 1, pt + 1, 32);
    cp[0] = (unsigned char)(0x02 | (pt[64] & 1));
    p.pPublicData = cp;
    p.ulPublicDataLen = 33;
    assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.priv, 0, &out, &outlen), CKR_OK);
    crypto_secret_free(out, outlen);

    /* keys: public, Edwards, Montgomery with the cofactor variant */
    p = (CK_ECDH1_DERIVE_PARAMS){CKD_NULL, 0, NULL, (CK_ULONG)pl, pt};
    assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.pub, 0, &out, &outlen),
                     CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), ed.priv, 0, &out, &outlen),
                     CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(derive(CKM_ECDH1_COFACTOR_DERIVE, &p, sizeof(p), x.priv, 0, &out, &outlen),
                     CKR_KEY_TYPE_INCONSISTENT);
    /* the EC point given to an X25519 key */
    assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), x.priv, 0, &out, &outlen), bad);
    /* output length bound */
    p.kdf = CKD_SHA256_KDF;
    assert_int_equal(
        derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.priv, ATTR_MAX_VALUE + 1, &out, &outlen),
        CKR_KEY_SIZE_RANGE);

    key_free(&k);
    key_free(&peer);
    key_free(&other);
    key_free(&x);
    key_free(&ed);
}

static void test_x25519_wycheproof(void **state)
{
    (void)state;
    unsigned char pub[64], priv[64], shared[64], der[80];
    unsigned char *out = NULL;
    size_t outlen = 0;
    for (size_t i = 0; i < ARRAY_SIZE(x25519_kats); i++) {
        const struct x_kat *t = &x25519_kats[i];
        size_t pl = unhex(t->pub, pub, sizeof(pub)), kl = unhex(t->priv, priv, sizeof(priv));
        size_t sl = unhex(t->shared, shared, sizeof(shared));
        struct key *k = mu_ec_key(g_c, CKK_EC_MONTGOMERY, OID_X25519, sizeof(OID_X25519),
                                  CKO_PRIVATE_KEY, priv, kl);
        print_message("# X25519 tcId %d\n", t->tc);
        CK_ECDH1_DERIVE_PARAMS p = {CKD_NULL, 0, NULL, (CK_ULONG)pl, pub};
        CK_RV rv = derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k, 0, &out, &outlen);
        if (t->zero) {
            assert_int_equal(rv, CKR_MECHANISM_PARAM_INVALID);
        } else {
            assert_int_equal(rv, CKR_OK);
            assert_int_equal(outlen, sl);
            assert_memory_equal(out, shared, sl);
            crypto_secret_free(out, outlen);
            p.ulPublicDataLen = (CK_ULONG)wrap(pub, pl, der);
            p.pPublicData = der;
            assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k, 0, &out, &outlen), CKR_OK);
            assert_memory_equal(out, shared, sl);
            crypto_secret_free(out, outlen);
        }
        key_unref(k);
    }
}

static void test_montgomery(void **state)
{
    (void)state;
    static const struct {
        const char *alg;
        const unsigned char *oid;
        size_t len;
    } m[] = {{"X25519", OID_X25519, 32}, {"X448", OID_X448, 56}};
    unsigned char pub[64], z[64], der[80], want[64];
    unsigned char *out = NULL;
    size_t outlen = 0;
    for (size_t i = 0; i < ARRAY_SIZE(m); i++) {
        struct eckey k, peer;
        ecx_make(m[i].alg, CKK_EC_MONTGOMERY, m[i].oid, sizeof(OID_X25519), &k);
        ecx_make(m[i].alg, CKK_EC_MONTGOMERY, m[i].oid, sizeof(OID_X25519), &peer);
        size_t pl = sizeof(pub);
        assert_int_equal(EVP_PKEY_get_raw_public_key(peer.pkey, pub, &pl), 1);
        size_t zl = ossl_z(peer.pkey, k.pkey, z);
        assert_int_equal(zl, m[i].len);
        CK_ECDH1_DERIVE_PARAMS p = {CKD_NULL, 0, NULL, (CK_ULONG)pl, pub};
        assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.priv, 0, &out, &outlen), CKR_OK);
        assert_int_equal(outlen, zl);
        assert_memory_equal(out, z, zl);
        crypto_secret_free(out, outlen);
        /* X9.63 SHA-256 over a DER-wrapped key */
        p.kdf = CKD_SHA256_KDF;
        p.ulPublicDataLen = (CK_ULONG)wrap(pub, pl, der);
        p.pPublicData = der;
        assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.priv, 24, &out, &outlen),
                         CKR_OK);
        kdf_by_hand("SHA2-256", false, z, zl, NULL, 0, want, 24);
        assert_memory_equal(out, want, 24);
        crypto_secret_free(out, outlen);
        /* wrong lengths, the other curve's size */
        p.kdf = CKD_NULL;
        p.pPublicData = pub;
        p.ulPublicDataLen = (CK_ULONG)(pl - 1);
        assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.priv, 0, &out, &outlen),
                         CKR_MECHANISM_PARAM_INVALID);
        p.ulPublicDataLen = (CK_ULONG)(m[i].len == 32 ? 56 : 32);
        assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.priv, 0, &out, &outlen),
                         CKR_MECHANISM_PARAM_INVALID);
        /* the all-zero point gives an all-zero secret */
        memset(pub, 0, sizeof(pub));
        p.ulPublicDataLen = (CK_ULONG)m[i].len;
        assert_int_equal(derive(CKM_ECDH1_DERIVE, &p, sizeof(p), k.priv, 0, &out, &outlen),
                         CKR_MECHANISM_PARAM_INVALID);
        key_free(&k);
        key_free(&peer);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ecdsa_raw, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_ecdsa_raw_errors, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_ecdsa_hashed, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_ecdsa_hashed_output, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_eddsa_acvp, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_eddsa_variants, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_eddsa_errors, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_ecdh_curves, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_ecdh_errors, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_x25519_wycheproof, setup, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_montgomery, setup, mu_check_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
