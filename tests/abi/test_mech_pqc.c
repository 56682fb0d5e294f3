/*
 * The post-quantum mechanisms through the real ABI (dlopen of the built
 * module, the 3.2 function list): the mechanism list under three
 * configurations (default, craton_vendor_pqc, enable_pqc = false), key pair
 * generation of every ML-KEM / ML-DSA / SLH-DSA parameter set, the
 * C_EncapsulateKey / C_DecapsulateKey rules (PKCS#11 3.2 5.18), ML-DSA's
 * parameters and single/multi-part forms (C_VerifySignature* included),
 * token objects across C_Finalize, the reference's C_DeriveKey
 * decapsulation, and the two hybrids (X-Wing, ML-DSA-65 + ECDSA P-256).
 * OpenSSL 3.5 (linked into the test) checks the results independently:
 * signatures verified, ML-KEM and X-Wing secrets recomputed.
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "mech_util.h"
#include "craton/pkcs11_craton.h"

#define CFG_DEFAULT ABI_FAST_CONFIG
#define CFG_VENDOR  ABI_FAST_CONFIG "[algorithms]\ncraton_vendor_pqc = true\n"
#define CFG_NOPQC   ABI_FAST_CONFIG "[algorithms]\nenable_pqc = false\n"

#define SIG_MAX 50000 /* SLH-DSA-*-256f: 49856 bytes */

static CK_OBJECT_CLASS c_secret = CKO_SECRET_KEY, c_pub = CKO_PUBLIC_KEY;
static CK_KEY_TYPE k_generic = CKK_GENERIC_SECRET, k_aes = CKK_AES;
static const CK_BYTE P256_OID[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const CK_BYTE X25519_OID[] = {0x06, 0x03, 0x2b, 0x65, 0x6e};
static const CK_BYTE ED25519_OID[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
static const CK_BYTE MSG[] = "a message signed after the quantum computer";

struct pset {
    const char *ossl; /* OpenSSL algorithm name */
    CK_KEY_TYPE kt;
    CK_ULONG set;
    CK_MECHANISM_TYPE gen, op;
    CK_ULONG pk, sk, seed, out; /* public, private, CKA_SEED; ciphertext or signature */
    bool slow;                  /* SLH-DSA "s": signed only with CRATON_SLOW_TESTS=1 */
};

// clang-format off
static const struct pset psets[] = {
    {"ML-KEM-512", CKK_ML_KEM, CKP_ML_KEM_512, CKM_ML_KEM_KEY_PAIR_GEN, CKM_ML_KEM, 800, 1632, 64, 768, false},
    {"ML-KEM-768", CKK_ML_KEM, CKP_ML_KEM_768, CKM_ML_KEM_KEY_PAIR_GEN, CKM_ML_KEM, 1184, 2400, 64, 1088, false},
    {"ML-KEM-1024", CKK_ML_KEM, CKP_ML_KEM_1024, CKM_ML_KEM_KEY_PAIR_GEN, CKM_ML_KEM, 1568, 3168, 64, 1568, false},
    {"ML-DSA-44", CKK_ML_DSA, CKP_ML_DSA_44, CKM_ML_DSA_KEY_PAIR_GEN, CKM_ML_DSA, 1312, 2560, 32, 2420, false},
    {"ML-DSA-65", CKK_ML_DSA, CKP_ML_DSA_65, CKM_ML_DSA_KEY_PAIR_GEN, CKM_ML_DSA, 1952, 4032, 32, 3309, false},
    {"ML-DSA-87", CKK_ML_DSA, CKP_ML_DSA_87, CKM_ML_DSA_KEY_PAIR_GEN, CKM_ML_DSA, 2592, 4896, 32, 4627, false},
#define SLH(n, set, pk, sig, s) {n, CKK_SLH_DSA, set, CKM_SLH_DSA_KEY_PAIR_GEN, CKM_SLH_DSA, pk, 2 * (pk), 0, sig, s}
    SLH("SLH-DSA-SHA2-128s", CKP_SLH_DSA_SHA2_128S, 32, 7856, false),
    SLH("SLH-DSA-SHAKE-128s", CKP_SLH_DSA_SHAKE_128S, 32, 7856, true),
    SLH("SLH-DSA-SHA2-128f", CKP_SLH_DSA_SHA2_128F, 32, 17088, false),
    SLH("SLH-DSA-SHAKE-128f", CKP_SLH_DSA_SHAKE_128F, 32, 17088, false),
    SLH("SLH-DSA-SHA2-192s", CKP_SLH_DSA_SHA2_192S, 48, 16224, true),
    SLH("SLH-DSA-SHAKE-192s", CKP_SLH_DSA_SHAKE_192S, 48, 16224, true),
    SLH("SLH-DSA-SHA2-192f", CKP_SLH_DSA_SHA2_192F, 48, 35664, false),
    SLH("SLH-DSA-SHAKE-192f", CKP_SLH_DSA_SHAKE_192F, 48, 35664, false),
    SLH("SLH-DSA-SHA2-256s", CKP_SLH_DSA_SHA2_256S, 64, 29792, true),
    SLH("SLH-DSA-SHAKE-256s", CKP_SLH_DSA_SHAKE_256S, 64, 29792, true),
    SLH("SLH-DSA-SHA2-256f", CKP_SLH_DSA_SHA2_256F, 64, 49856, false),
    SLH("SLH-DSA-SHAKE-256f", CKP_SLH_DSA_SHAKE_256F, 64, 49856, false),
#undef SLH
};
// clang-format on

#define PS_KEM768 (&psets[1])
#define PS_DSA65  (&psets[4])

/* The 3.2 mechanisms (listed by default) and the reference's aliases
 * (listed only with craton_vendor_pqc). */
static const CK_MECHANISM_TYPE std_mechs[] = {
    CKM_ML_KEM_KEY_PAIR_GEN,
    CKM_ML_KEM,
    CKM_ML_DSA_KEY_PAIR_GEN,
    CKM_ML_DSA,
    CKM_HASH_ML_DSA,
    CKM_HASH_ML_DSA_SHA224,
    CKM_HASH_ML_DSA_SHA256,
    CKM_HASH_ML_DSA_SHA384,
    CKM_HASH_ML_DSA_SHA512,
    CKM_HASH_ML_DSA_SHA3_224,
    CKM_HASH_ML_DSA_SHA3_256,
    CKM_HASH_ML_DSA_SHA3_384,
    CKM_HASH_ML_DSA_SHA3_512,
    CKM_HASH_ML_DSA_SHAKE128,
    CKM_HASH_ML_DSA_SHAKE256,
    CKM_SLH_DSA_KEY_PAIR_GEN,
    CKM_SLH_DSA,
    CKM_HASH_SLH_DSA,
    CKM_HASH_SLH_DSA_SHA224,
    CKM_HASH_SLH_DSA_SHA256,
    CKM_HASH_SLH_DSA_SHA384,
    CKM_HASH_SLH_DSA_SHA512,
    CKM_HASH_SLH_DSA_SHA3_224,
    CKM_HASH_SLH_DSA_SHA3_256,
    CKM_HASH_SLH_DSA_SHA3_384,
    CKM_HASH_SLH_DSA_SHA3_512,
    CKM_HASH_SLH_DSA_SHAKE128,
    CKM_HASH_SLH_DSA_SHAKE256,
};
static const CK_MECHANISM_TYPE vendor_mechs[] = {
    CKM_CRATON_ML_KEM_512,        CKM_CRATON_ML_KEM_768,        CKM_CRATON_ML_KEM_1024,
    CKM_CRATON_ML_DSA_44,         CKM_CRATON_ML_DSA_65,         CKM_CRATON_ML_DSA_87,
    CKM_CRATON_SLH_DSA_SHA2_128S, CKM_CRATON_SLH_DSA_SHA2_256S,
};
static const CK_MECHANISM_TYPE hybrid_mechs[] = {CKM_CRATON_XWING, CKM_CRATON_ML_DSA_65_ECDSA_P256};

/* ---- fixture (as test_mech.c: a store with a user PIN, copied per test) --- */

MECH_FIXTURE(CFG_DEFAULT, "PQC mechanisms ABI              ")

MECH_SETUP(setup, CFG_DEFAULT)
MECH_SETUP(setup_vendor, CFG_VENDOR)
MECH_SETUP(setup_nopqc, CFG_NOPQC)

/* C_Initialize and a R/W user session on slot 0. */
static CK_SESSION_HANDLE boot(void)
{
    OK(f->C_Initialize(NULL));
    return mech_session(f, true);
}

static bool slow_tests(void)
{
    const char *s = getenv("CRATON_SLOW_TESTS");
    return s != NULL && strcmp(s, "1") == 0;
}

/* ---- helpers ------------------------------------------------------------ */

/* The number of objects the session sees. */
static CK_ULONG count_objects(CK_SESSION_HANDLE s)
{
    CK_OBJECT_HANDLE h[256];
    CK_ULONG n = 0;
    OK(f->C_FindObjectsInit(s, NULL, 0));
    OK(f->C_FindObjects(s, h, N(h), &n));
    OK(f->C_FindObjectsFinal(s));
    return n;
}

/* A key pair of ps; the private key readable (CKA_SENSITIVE false,
 * CKA_EXTRACTABLE true) when open, CKA_TOKEN tok, CKA_LABEL label. */
static CK_RV gen_pair(CK_SESSION_HANDLE s, const struct pset *ps, bool open, bool tok,
                      const char *label, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
    CK_MECHANISM m = MECH0(ps->gen);
    CK_ULONG set = ps->set;
    CK_ATTRIBUTE tpub[] = {A_BOOL(CKA_TOKEN, tok), A_VAR(CKA_PARAMETER_SET, set),
                           A_BUF(CKA_LABEL, label, strlen(label))};
    CK_ATTRIBUTE tpriv[] = {A_BOOL(CKA_TOKEN, tok), A_BOOL(CKA_SENSITIVE, !open),
                            A_BOOL(CKA_EXTRACTABLE, open), A_BUF(CKA_LABEL, label, strlen(label))};
    *pub = *priv = CK_INVALID_HANDLE;
    return f->C_GenerateKeyPair(s, &m, tpub, N(tpub), tpriv, N(tpriv), pub, priv);
}

/* A classical pair: EC P-256 (sign), X25519 or Ed25519; private readable. */
static void gen_classic(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE gen, const CK_BYTE *oid,
                        CK_ULONG oidlen, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
    CK_MECHANISM m = MECH0(gen);
    CK_ATTRIBUTE tpub[] = {A_BOOL(CKA_TOKEN, false), A_BUF(CKA_EC_PARAMS, oid, oidlen)};
    CK_ATTRIBUTE tpriv[] = {A_BOOL(CKA_TOKEN, false), A_BOOL(CKA_SENSITIVE, false),
                            A_BOOL(CKA_EXTRACTABLE, true)};
    OK(f->C_GenerateKeyPair(s, &m, tpub, N(tpub), tpriv, N(tpriv), pub, priv));
}

/* C_GenerateKeyPair with a vendor alias gen (its parameter set implied):
 * without CKA_PARAMETER_SET as the reference's applications call it.  When
 * the module wants one anyway, the pair is made with it (so the rest of the
 * test runs) and *bad keeps the first return value. */
static void gen_alias(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE gen, CK_ULONG set, bool derive,
                      CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv, CK_RV *bad)
{
    CK_MECHANISM m = MECH0(gen);
    CK_ATTRIBUTE tpub[] = {A_BOOL(CKA_TOKEN, false), A_VAR(CKA_PARAMETER_SET, set)};
    CK_ATTRIBUTE tpriv[] = {A_BOOL(CKA_TOKEN, false), A_BOOL(CKA_DERIVE, derive)};
    CK_RV rv = f->C_GenerateKeyPair(s, &m, tpub, 1, tpriv, derive ? 2 : 1, pub, priv);
    *bad = rv;
    if (rv != CKR_OK)
        OK(f->C_GenerateKeyPair(s, &m, tpub, 2, tpriv, derive ? 2 : 1, pub, priv));
}

/* The secret template: generic secret (len 0: no CKA_VALUE_LEN), readable. */
static CK_ULONG secret_tmpl(CK_ATTRIBUTE t[6], CK_KEY_TYPE *kt, CK_ULONG *len)
{
    CK_ULONG c = 0;
    t[c++] = (CK_ATTRIBUTE)A_VAR(CKA_CLASS, c_secret);
    t[c++] = (CK_ATTRIBUTE)A_BUF(CKA_KEY_TYPE, kt, sizeof(*kt));
    t[c++] = (CK_ATTRIBUTE)A_BOOL(CKA_TOKEN, false);
    t[c++] = (CK_ATTRIBUTE)A_BOOL(CKA_SENSITIVE, false);
    t[c++] = (CK_ATTRIBUTE)A_BOOL(CKA_EXTRACTABLE, true);
    if (len != NULL && *len != 0)
        t[c++] = (CK_ATTRIBUTE)A_BUF(CKA_VALUE_LEN, len, sizeof(*len));
    return c;
}

/* C_EncapsulateKey into ct (*ctlen in/out) making a readable generic secret. */
static CK_RV encaps(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE pub, CK_BYTE *ct,
                    CK_ULONG *ctlen, CK_OBJECT_HANDLE *key)
{
    CK_ATTRIBUTE t[6];
    CK_ULONG n = secret_tmpl(t, &k_generic, NULL);
    return f->C_EncapsulateKey(s, m, pub, t, n, ct, ctlen, key);
}

static CK_RV decaps(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE priv, const CK_BYTE *ct,
                    CK_ULONG ctlen, CK_OBJECT_HANDLE *key)
{
    CK_ATTRIBUTE t[6];
    CK_ULONG n = secret_tmpl(t, &k_generic, NULL);
    return f->C_DecapsulateKey(s, m, priv, t, n, (CK_BYTE_PTR)ct, ctlen, key);
}

/* Asserts that key's CKA_VALUE is want (n bytes). */
static void value_is(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, const unsigned char *want,
                     CK_ULONG n)
{
    CK_ULONG len;
    unsigned char *v = mech_attr(f, s, key, CKA_VALUE, &len);
    EQ(len, n);
    assert_memory_equal(v, want, n);
    free(v);
}

/* ---- OpenSSL side --------------------------------------------------------- */

/* An EVP_PKEY of algorithm name from a raw public (or private) key. */
static EVP_PKEY *ossl_key(const char *name, bool priv, const unsigned char *v, size_t n)
{
    OSSL_PARAM p[] = {OSSL_PARAM_construct_octet_string(
                          priv ? OSSL_PKEY_PARAM_PRIV_KEY : OSSL_PKEY_PARAM_PUB_KEY, (void *)v, n),
                      OSSL_PARAM_construct_end()};
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
    EVP_PKEY *k = NULL;
    assert_non_null(c);
    EQ(EVP_PKEY_fromdata_init(c), 1);
    EQ(EVP_PKEY_fromdata(c, &k, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, p), 1);
    EVP_PKEY_CTX_free(c);
    return k;
}

/* The token key h (CKA_VALUE) as an OpenSSL key. */
static EVP_PKEY *ossl_of(CK_SESSION_HANDLE s, const struct pset *ps, CK_OBJECT_HANDLE h, bool priv)
{
    CK_ULONG len;
    unsigned char *v = mech_attr(f, s, h, CKA_VALUE, &len);
    EQ(len, priv ? ps->sk : ps->pk);
    EVP_PKEY *k = ossl_key(ps->ossl, priv, v, len);
    OPENSSL_cleanse(v, len);
    free(v);
    return k;
}

/* OpenSSL verifies a pure ML-DSA / SLH-DSA signature with context ctx. */
static bool ossl_verify(EVP_PKEY *k, const unsigned char *ctx, size_t clen,
                        const unsigned char *msg, size_t mlen, const unsigned char *sig,
                        size_t slen)
{
    static unsigned char empty[1];
    OSSL_PARAM p[] = {OSSL_PARAM_construct_octet_string(OSSL_SIGNATURE_PARAM_CONTEXT_STRING,
                                                        ctx != NULL ? (void *)ctx : empty, clen),
                      OSSL_PARAM_construct_end()};
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
    EVP_SIGNATURE *alg = EVP_SIGNATURE_fetch(NULL, EVP_PKEY_get0_type_name(k), NULL);
    assert_non_null(c);
    assert_non_null(alg);
    bool ok = EVP_PKEY_verify_message_init(c, alg, p) == 1 &&
              EVP_PKEY_verify(c, sig, slen, msg, mlen) == 1;
    EVP_SIGNATURE_free(alg);
    EVP_PKEY_CTX_free(c);
    return ok;
}

/* OpenSSL's ML-KEM decapsulation (or, dec false, encapsulation) with k. */
static void ossl_kem(EVP_PKEY *k, bool dec, unsigned char *ct, size_t *ctlen, unsigned char *ss,
                     size_t *sslen)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
    assert_non_null(c);
    if (dec) {
        EQ(EVP_PKEY_decapsulate_init(c, NULL), 1);
        EQ(EVP_PKEY_decapsulate(c, ss, sslen, ct, *ctlen), 1);
    } else {
        EQ(EVP_PKEY_encapsulate_init(c, NULL), 1);
        EQ(EVP_PKEY_encapsulate(c, ct, ctlen, ss, sslen), 1);
    }
    EVP_PKEY_CTX_free(c);
}

/* ---- 1. mechanism lists ---------------------------------------------------- */

static CK_MECHANISM_TYPE *mech_list(CK_ULONG *n)
{
    CK_ULONG count = 0;
    OK(f->C_GetMechanismList(0, NULL, &count));
    CK_MECHANISM_TYPE *list = calloc(count + 1, sizeof(*list));
    assert_non_null(list);
    *n = count;
    OK(f->C_GetMechanismList(0, list, n));
    return list;
}

/* The 3.2 mechanisms and the hybrids listed with their flags and sizes
 * (public key bytes); the aliases not listed, yet working. */
static void test_list_default(void **state)
{
    (void)state;
    CK_ULONG n;
    CK_SESSION_HANDLE s = boot();
    CK_MECHANISM_TYPE *list = mech_list(&n);
    for (size_t i = 0; i < N(std_mechs); i++)
        if (!mech_in_list(list, n, std_mechs[i]))
            fail_msg("3.2 mechanism 0x%lx not listed", (unsigned long)std_mechs[i]);
    for (size_t i = 0; i < N(hybrid_mechs); i++)
        if (!mech_in_list(list, n, hybrid_mechs[i]))
            fail_msg("hybrid 0x%lx not listed", (unsigned long)hybrid_mechs[i]);
    for (size_t i = 0; i < N(vendor_mechs); i++)
        if (mech_in_list(list, n, vendor_mechs[i]))
            fail_msg("alias 0x%lx listed without craton_vendor_pqc",
                     (unsigned long)vendor_mechs[i]);
    free(list);

    CK_MECHANISM_INFO info = mech_info(f, CKM_ML_KEM);
    EQ(info.flags & (CKF_ENCAPSULATE | CKF_DECAPSULATE), CKF_ENCAPSULATE | CKF_DECAPSULATE);
    assert_false(info.flags & (CKF_ENCRYPT | CKF_DERIVE | CKF_SIGN));
    EQ(info.ulMinKeySize, 800);
    EQ(info.ulMaxKeySize, 1568);
    info = mech_info(f, CKM_ML_KEM_KEY_PAIR_GEN);
    assert_true(info.flags & CKF_GENERATE_KEY_PAIR);
    info = mech_info(f, CKM_ML_DSA);
    EQ(info.flags & (CKF_SIGN | CKF_VERIFY), CKF_SIGN | CKF_VERIFY);
    EQ(info.ulMinKeySize, 1312);
    EQ(info.ulMaxKeySize, 2592);
    info = mech_info(f, CKM_HASH_ML_DSA_SHA3_256);
    EQ(info.flags & (CKF_SIGN | CKF_VERIFY), CKF_SIGN | CKF_VERIFY);
    info = mech_info(f, CKM_SLH_DSA);
    EQ(info.flags & (CKF_SIGN | CKF_VERIFY), CKF_SIGN | CKF_VERIFY);
    EQ(info.ulMinKeySize, 32);
    EQ(info.ulMaxKeySize, 64);
    info = mech_info(f, CKM_CRATON_XWING);
    EQ(info.flags & (CKF_ENCAPSULATE | CKF_DECAPSULATE), CKF_ENCAPSULATE | CKF_DECAPSULATE);

    /* An alias works though unlisted: key generation of its set, pure signing. */
    CK_MECHANISM sig = MECH0(CKM_CRATON_ML_DSA_65), std = MECH0(CKM_ML_DSA);
    CK_OBJECT_HANDLE pub, priv;
    static CK_BYTE out[SIG_MAX];
    CK_ULONG len = sizeof(out);
    CK_RV bad;
    gen_alias(s, CKM_CRATON_ML_DSA_65, CKP_ML_DSA_65, false, &pub, &priv, &bad);
    EQ(mech_ulong(f, s, pub, CKA_KEY_TYPE), CKK_ML_DSA);
    EQ(mech_ulong(f, s, pub, CKA_PARAMETER_SET), CKP_ML_DSA_65);
    EQ(mech_ulong(f, s, priv, CKA_PARAMETER_SET), CKP_ML_DSA_65);
    OK(f->C_SignInit(s, &sig, priv));
    OK(f->C_Sign(s, (CK_BYTE_PTR)MSG, LEN(MSG), out, &len));
    EQ(len, PS_DSA65->out);
    OK(f->C_VerifyInit(s, &std, pub));
    OK(f->C_Verify(s, (CK_BYTE_PTR)MSG, LEN(MSG), out, len));
    if (bad != CKR_OK)
        fail_msg("C_GenerateKeyPair(CKM_CRATON_ML_DSA_65) without CKA_PARAMETER_SET: 0x%lx",
                 (unsigned long)bad);
}

static void test_list_vendor(void **state)
{
    (void)state;
    CK_ULONG n;
    boot();
    CK_MECHANISM_TYPE *list = mech_list(&n);
    for (size_t i = 0; i < N(vendor_mechs); i++)
        if (!mech_in_list(list, n, vendor_mechs[i]))
            fail_msg("alias 0x%lx not listed with craton_vendor_pqc",
                     (unsigned long)vendor_mechs[i]);
    for (size_t i = 0; i < N(std_mechs); i++)
        if (!mech_in_list(list, n, std_mechs[i]))
            fail_msg("3.2 mechanism 0x%lx not listed", (unsigned long)std_mechs[i]);
    free(list);
    CK_MECHANISM_INFO info = mech_info(f, CKM_CRATON_ML_KEM_768);
    EQ(info.flags & (CKF_GENERATE_KEY_PAIR | CKF_DERIVE), CKF_GENERATE_KEY_PAIR | CKF_DERIVE);
    EQ(info.ulMinKeySize, 1184);
    info = mech_info(f, CKM_CRATON_SLH_DSA_SHA2_128S);
    EQ(info.flags & (CKF_SIGN | CKF_VERIFY), CKF_SIGN | CKF_VERIFY);
}

/* enable_pqc = false: nothing post-quantum listed, nothing usable. */
static void test_list_nopqc(void **state)
{
    (void)state;
    CK_ULONG n;
    CK_MECHANISM_INFO info;
    CK_SESSION_HANDLE s = boot();
    CK_MECHANISM_TYPE *list = mech_list(&n);
    for (size_t i = 0; i < N(std_mechs); i++) {
        if (mech_in_list(list, n, std_mechs[i]))
            fail_msg("0x%lx listed with enable_pqc = false", (unsigned long)std_mechs[i]);
        RV(f->C_GetMechanismInfo(0, std_mechs[i], &info), CKR_MECHANISM_INVALID);
    }
    for (size_t i = 0; i < N(vendor_mechs); i++)
        assert_false(mech_in_list(list, n, vendor_mechs[i]));
    for (size_t i = 0; i < N(hybrid_mechs); i++)
        assert_false(mech_in_list(list, n, hybrid_mechs[i]));
    assert_true(mech_in_list(list, n, CKM_ECDSA)); /* the rest is there */
    free(list);
    CK_OBJECT_HANDLE pub, priv;
    RV(gen_pair(s, PS_DSA65, false, false, "x", &pub, &priv), CKR_MECHANISM_INVALID);
    RV(gen_pair(s, PS_KEM768, false, false, "x", &pub, &priv), CKR_MECHANISM_INVALID);
    RV(gen_pair(s, &psets[8], false, false, "x", &pub, &priv), CKR_MECHANISM_INVALID);
    CK_MECHANISM alias = MECH0(CKM_CRATON_ML_DSA_65);
    CK_ATTRIBUTE t[] = {A_BOOL(CKA_TOKEN, false)};
    RV(f->C_GenerateKeyPair(s, &alias, t, 1, t, 1, &pub, &priv), CKR_MECHANISM_INVALID);

    /* Keys made elsewhere: their operations are refused too. */
    EVP_PKEY *dsa = EVP_PKEY_Q_keygen(NULL, NULL, "ML-DSA-65");
    EVP_PKEY *kem = EVP_PKEY_Q_keygen(NULL, NULL, "ML-KEM-768");
    unsigned char raw[2048];
    size_t rl = 0;
    CK_KEY_TYPE kt = CKK_ML_DSA;
    CK_ULONG set = CKP_ML_DSA_65;
    assert_non_null(dsa);
    assert_non_null(kem);
    EQ(EVP_PKEY_get_octet_string_param(dsa, OSSL_PKEY_PARAM_PUB_KEY, raw, sizeof(raw), &rl), 1);
    CK_ATTRIBUTE tp[] = {A_VAR(CKA_CLASS, c_pub), A_VAR(CKA_KEY_TYPE, kt), A_BOOL(CKA_TOKEN, false),
                         A_VAR(CKA_PARAMETER_SET, set), A_BUF(CKA_VALUE, raw, rl)};
    CK_RV rv = f->C_CreateObject(s, tp, N(tp), &pub);
    if (rv == CKR_OK) {
        CK_MECHANISM m = MECH0(CKM_ML_DSA);
        RV(f->C_VerifyInit(s, &m, pub), CKR_MECHANISM_INVALID);
    }
    kt = CKK_ML_KEM;
    set = CKP_ML_KEM_768;
    EQ(EVP_PKEY_get_octet_string_param(kem, OSSL_PKEY_PARAM_PUB_KEY, raw, sizeof(raw), &rl), 1);
    tp[4].ulValueLen = rl;
    rv = f->C_CreateObject(s, tp, N(tp), &pub);
    if (rv == CKR_OK) {
        CK_MECHANISM m = MECH0(CKM_ML_KEM);
        CK_ULONG len = 0;
        CK_OBJECT_HANDLE key;
        RV(encaps(s, &m, pub, NULL, &len, &key), CKR_MECHANISM_INVALID);
        CK_CRATON_HYBRID_PARAMS hp = {pub};
        CK_MECHANISM xw = MECH(CKM_CRATON_XWING, &hp);
        RV(encaps(s, &xw, pub, NULL, &len, &key), CKR_MECHANISM_INVALID);
    }
    EVP_PKEY_free(dsa);
    EVP_PKEY_free(kem);
}

/* ---- 2. key pair generation ------------------------------------------------- */

/* Every parameter set: sizes, attributes, the seed (checked with OpenSSL)
 * and one operation, verified by OpenSSL for the signature schemes. */
static void test_keygen_all_sets(void **state)
{
    (void)state;
    CK_SESSION_HANDLE s = boot();
    for (size_t i = 0; i < N(psets); i++) {
        const struct pset *ps = &psets[i];
        CK_OBJECT_HANDLE pub, priv;
        CK_ULONG len;
        CK_RV rv = gen_pair(s, ps, true, false, ps->ossl, &pub, &priv);
        if (rv != CKR_OK)
            fail_msg("%s: C_GenerateKeyPair 0x%lx", ps->ossl, (unsigned long)rv);
        EQ(mech_ulong(f, s, pub, CKA_KEY_TYPE), ps->kt);
        EQ(mech_ulong(f, s, priv, CKA_KEY_TYPE), ps->kt);
        EQ(mech_ulong(f, s, pub, CKA_PARAMETER_SET), ps->set);
        EQ(mech_ulong(f, s, priv, CKA_PARAMETER_SET), ps->set);
        EQ(mech_ulong(f, s, priv, CKA_KEY_GEN_MECHANISM), ps->gen);
        unsigned char *pk = mech_attr(f, s, pub, CKA_VALUE, &len);
        EQ(len, ps->pk);
        unsigned char *sk = mech_attr(f, s, priv, CKA_VALUE, &len);
        EQ(len, ps->sk);
        if (ps->seed > 0) { /* FIPS 203 / 204: the seed expands to this pair */
            unsigned char *seed = mech_attr(f, s, priv, CKA_SEED, &len);
            EQ(len, ps->seed);
            OSSL_PARAM p[] = {
                OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_ML_DSA_SEED, seed, len),
                OSSL_PARAM_construct_end()};
            EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, ps->ossl, NULL);
            EVP_PKEY *k = NULL;
            unsigned char buf[4896];
            size_t bl = 0;
            assert_non_null(c);
            EQ(EVP_PKEY_keygen_init(c), 1);
            EQ(EVP_PKEY_CTX_set_params(c, p), 1);
            EQ(EVP_PKEY_generate(c, &k), 1);
            EQ(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PRIV_KEY, buf, sizeof(buf), &bl),
               1);
            EQ(bl, ps->sk);
            assert_memory_equal(buf, sk, bl);
            EQ(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof(buf), &bl),
               1);
            EQ(bl, ps->pk);
            assert_memory_equal(buf, pk, bl);
            EVP_PKEY_free(k);
            EVP_PKEY_CTX_free(c);
            free(seed);
        }
        if (ps->kt == CKK_ML_KEM) { /* ours encapsulates, OpenSSL decapsulates */
            CK_MECHANISM m = MECH0(CKM_ML_KEM);
            CK_BYTE ct[1568];
            CK_ULONG ctlen = sizeof(ct);
            CK_OBJECT_HANDLE key;
            unsigned char ss[32];
            size_t sl = sizeof(ss), cl;
            OK(encaps(s, &m, pub, ct, &ctlen, &key));
            EQ(ctlen, ps->out);
            EVP_PKEY *k = ossl_key(ps->ossl, true, sk, ps->sk);
            cl = ctlen;
            ossl_kem(k, true, ct, &cl, ss, &sl);
            value_is(s, key, ss, (CK_ULONG)sl);
            EVP_PKEY_free(k);
        } else if (!ps->slow || slow_tests()) {
            CK_SIGN_ADDITIONAL_CONTEXT sc = {CKH_HEDGE_PREFERRED, (CK_BYTE_PTR) "ctx", 3};
            CK_MECHANISM m = MECH(ps->op, &sc);
            static CK_BYTE sig[SIG_MAX];
            CK_ULONG sl = sizeof(sig);
            OK(f->C_SignInit(s, &m, priv));
            OK(f->C_Sign(s, (CK_BYTE_PTR)MSG, LEN(MSG), sig, &sl));
            EQ(sl, ps->out);
            OK(f->C_VerifyInit(s, &m, pub));
            OK(f->C_Verify(s, (CK_BYTE_PTR)MSG, LEN(MSG), sig, sl));
            EVP_PKEY *k = ossl_key(ps->ossl, false, pk, ps->pk);
            if (!ossl_verify(k, (const unsigned char *)"ctx", 3, MSG, LEN(MSG), sig, sl))
                fail_msg("%s: OpenSSL rejects the token's signature", ps->ossl);
            EVP_PKEY_free(k);
        }
        OPENSSL_cleanse(sk, ps->sk);
        free(sk);
        free(pk);
        OK(f->C_DestroyObject(s, pub));
        OK(f->C_DestroyObject(s, priv));
    }
}

static void test_keygen_template(void **state)
{
    (void)state;
    static const CK_MECHANISM_TYPE gens[] = {CKM_ML_KEM_KEY_PAIR_GEN, CKM_ML_DSA_KEY_PAIR_GEN,
                                             CKM_SLH_DSA_KEY_PAIR_GEN};
    CK_SESSION_HANDLE s = boot();
    CK_OBJECT_HANDLE pub, priv;
    CK_ULONG before = count_objects(s);
    for (size_t i = 0; i < N(gens); i++) {
        CK_MECHANISM m = MECH0(gens[i]);
        CK_ULONG bad = 42;
        CK_ATTRIBUTE none[] = {A_BOOL(CKA_TOKEN, false)};
        CK_ATTRIBUTE unknown[] = {A_BOOL(CKA_TOKEN, false), A_VAR(CKA_PARAMETER_SET, bad)};
        RV(f->C_GenerateKeyPair(s, &m, none, N(none), none, N(none), &pub, &priv),
           CKR_TEMPLATE_INCOMPLETE);
        RV(f->C_GenerateKeyPair(s, &m, unknown, N(unknown), none, N(none), &pub, &priv),
           CKR_PARAMETER_SET_NOT_SUPPORTED);
    }
    EQ(count_objects(s), before);
}

/* ---- 3. ML-KEM through C_EncapsulateKey / C_DecapsulateKey ------------------- */

static void test_kem_encapsulate(void **state)
{
    (void)state;
    CK_SESSION_HANDLE s = boot();
    CK_OBJECT_HANDLE pub, priv, k1, k2, k3;
    CK_MECHANISM m = MECH0(CKM_ML_KEM);
    CK_BYTE ct[1200], ct2[1200];
    CK_ULONG len, n0;
    OK(gen_pair(s, PS_KEM768, true, false, "kem", &pub, &priv));
    n0 = count_objects(s);

    /* Size query and short buffer: the length, and no key made. */
    len = 0;
    k1 = CK_INVALID_HANDLE;
    OK(encaps(s, &m, pub, NULL, &len, &k1));
    EQ(len, 1088);
    EQ(k1, CK_INVALID_HANDLE);
    len = 100;
    RV(encaps(s, &m, pub, ct, &len, &k1), CKR_BUFFER_TOO_SMALL);
    EQ(len, 1088);
    EQ(count_objects(s), n0);

    /* An AES-256 key from the secret, CKA_VALUE_LEN 32. */
    CK_ULONG l32 = 32, l48 = 48, l16 = 16;
    CK_ATTRIBUTE t[6];
    CK_ULONG tn = secret_tmpl(t, &k_aes, &l32);
    len = sizeof(ct);
    OK(f->C_EncapsulateKey(s, &m, pub, t, tn, ct, &len, &k1));
    EQ(len, 1088);
    EQ(mech_ulong(f, s, k1, CKA_KEY_TYPE), CKK_AES);
    EQ(mech_ulong(f, s, k1, CKA_VALUE_LEN), 32);
    CK_ULONG v1l;
    unsigned char *v1 = mech_attr(f, s, k1, CKA_VALUE, &v1l);
    EQ(v1l, 32);
    /* Decapsulation gives the same value (generic secret, all 32 bytes). */
    OK(decaps(s, &m, priv, ct, len, &k2));
    value_is(s, k2, v1, 32);
    /* CKA_VALUE_LEN 16: the first 16 bytes. */
    tn = secret_tmpl(t, &k_generic, &l16);
    OK(f->C_DecapsulateKey(s, &m, priv, t, tn, ct, len, &k3));
    value_is(s, k3, v1, 16);
    /* More than the KEM's 32 bytes: refused. */
    tn = secret_tmpl(t, &k_generic, &l48);
    CK_ULONG len2 = sizeof(ct2);
    n0 = count_objects(s);
    RV(f->C_EncapsulateKey(s, &m, pub, t, tn, ct2, &len2, &k3), CKR_TEMPLATE_INCONSISTENT);
    RV(f->C_DecapsulateKey(s, &m, priv, t, tn, ct, len, &k3), CKR_TEMPLATE_INCONSISTENT);
    EQ(count_objects(s), n0);

    /* Wrong ciphertext lengths; a forged ciphertext (implicit rejection). */
    RV(decaps(s, &m, priv, ct, len - 1, &k3), CKR_ENCRYPTED_DATA_LEN_RANGE);
    RV(decaps(s, &m, priv, ct, 1568, &k3), CKR_ENCRYPTED_DATA_LEN_RANGE);
    memcpy(ct2, ct, len);
    ct2[10] ^= 0x40;
    OK(decaps(s, &m, priv, ct2, len, &k3));
    CK_ULONG v3l;
    unsigned char *v3 = mech_attr(f, s, k3, CKA_VALUE, &v3l);
    EQ(v3l, 32);
    assert_memory_not_equal(v3, v1, 32);
    free(v3);

    /* OpenSSL encapsulates to our key, we decapsulate; and the reverse. */
    EVP_PKEY *opk = ossl_of(s, PS_KEM768, pub, false), *osk = ossl_of(s, PS_KEM768, priv, true);
    unsigned char oct[1088], oss[32];
    size_t ocl = sizeof(oct), osl = sizeof(oss);
    ossl_kem(opk, false, oct, &ocl, oss, &osl);
    OK(decaps(s, &m, priv, oct, (CK_ULONG)ocl, &k3));
    value_is(s, k3, oss, 32);
    ocl = len;
    osl = sizeof(oss);
    ossl_kem(osk, true, ct, &ocl, oss, &osl);
    assert_memory_equal(oss, v1, 32);
    EVP_PKEY_free(opk);
    EVP_PKEY_free(osk);
    free(v1);

    /* Usage and key type. */
    CK_ATTRIBUTE off[] = {A_BOOL(CKA_DECAPSULATE, false)},
                 offe[] = {A_BOOL(CKA_ENCAPSULATE, false)};
    OK(f->C_SetAttributeValue(s, priv, off, 1));
    RV(decaps(s, &m, priv, ct, len, &k3), CKR_KEY_FUNCTION_NOT_PERMITTED);
    OK(f->C_SetAttributeValue(s, pub, offe, 1));
    len2 = sizeof(ct2);
    RV(encaps(s, &m, pub, ct2, &len2, &k3), CKR_KEY_FUNCTION_NOT_PERMITTED);
    CK_OBJECT_HANDLE dpub, dpriv;
    OK(gen_pair(s, PS_DSA65, false, false, "dsa", &dpub, &dpriv));
    len2 = sizeof(ct2);
    CK_RV rv = encaps(s, &m, dpub, ct2, &len2, &k3);
    if (rv != CKR_KEY_TYPE_INCONSISTENT && rv != CKR_KEY_FUNCTION_NOT_PERMITTED)
        fail_msg("C_EncapsulateKey with an ML-DSA key: 0x%lx", (unsigned long)rv);
    RV(f->C_EncapsulateKey(s, NULL, pub, NULL, 0, NULL, &len2, &k3), CKR_ARGUMENTS_BAD);
}

/* The reference's decapsulation: C_DeriveKey(CKM_CRATON_ML_KEM_768) with
 * the ciphertext as the mechanism parameter. */
static void test_kem_vendor_derive(void **state)
{
    (void)state;
    CK_SESSION_HANDLE s = boot();
    CK_MECHANISM m = MECH0(CKM_ML_KEM);
    CK_OBJECT_HANDLE pub, priv, k1, k2;
    CK_BYTE ct[1088];
    CK_ULONG len = sizeof(ct), vl;
    CK_RV bad;
    gen_alias(s, CKM_CRATON_ML_KEM_768, CKP_ML_KEM_768, true, &pub, &priv, &bad);
    EQ(mech_ulong(f, s, pub, CKA_PARAMETER_SET), CKP_ML_KEM_768);
    OK(encaps(s, &m, pub, ct, &len, &k1));
    unsigned char *v = mech_attr(f, s, k1, CKA_VALUE, &vl);
    CK_MECHANISM d = {CKM_CRATON_ML_KEM_768, ct, len};
    CK_ATTRIBUTE t[6];
    CK_ULONG tn = secret_tmpl(t, &k_generic, NULL);
    OK(f->C_DeriveKey(s, &d, priv, t, tn, &k2));
    value_is(s, k2, v, vl);
    d.ulParameterLen = len - 1;
    CK_RV rv = f->C_DeriveKey(s, &d, priv, t, tn, &k2);
    if (rv != CKR_MECHANISM_PARAM_INVALID && rv != CKR_ENCRYPTED_DATA_LEN_RANGE)
        fail_msg("C_DeriveKey with a short ciphertext: 0x%lx", (unsigned long)rv);
    free(v);
    if (bad != CKR_OK)
        fail_msg("C_GenerateKeyPair(CKM_CRATON_ML_KEM_768) without CKA_PARAMETER_SET: 0x%lx",
                 (unsigned long)bad);
}

/* ---- 4. ML-DSA parameters and forms ---------------------------------------- */

static CK_RV sign(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE k, const CK_BYTE *msg,
                  CK_ULONG n, CK_BYTE *sig, CK_ULONG *sl)
{
    CK_RV rv = f->C_SignInit(s, m, k);
    return rv == CKR_OK ? f->C_Sign(s, (CK_BYTE_PTR)msg, n, sig, sl) : rv;
}

static CK_RV verify(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE k, const CK_BYTE *msg,
                    CK_ULONG n, const CK_BYTE *sig, CK_ULONG sl)
{
    CK_RV rv = f->C_VerifyInit(s, m, k);
    return rv == CKR_OK ? f->C_Verify(s, (CK_BYTE_PTR)msg, n, (CK_BYTE_PTR)sig, sl) : rv;
}

static void test_mldsa_params(void **state)
{
    (void)state;
    CK_SESSION_HANDLE s = boot();
    CK_OBJECT_HANDLE pub, priv;
    static CK_BYTE ctx[256], s1[4700], s2[4700];
    CK_ULONG l1 = sizeof(s1), l2 = sizeof(s2);
    memset(ctx, 'c', sizeof(ctx));
    OK(gen_pair(s, PS_DSA65, true, false, "dsa", &pub, &priv));

    /* Context: 255 bytes at most; hedge variant known; exact length. */
    CK_SIGN_ADDITIONAL_CONTEXT sc = {CKH_DETERMINISTIC_REQUIRED, ctx, 256};
    CK_MECHANISM m = MECH(CKM_ML_DSA, &sc);
    RV(f->C_SignInit(s, &m, priv), CKR_MECHANISM_PARAM_INVALID);
    RV(f->C_VerifyInit(s, &m, pub), CKR_MECHANISM_PARAM_INVALID);
    sc.ulContextLen = 10;
    sc.pContext = NULL;
    RV(f->C_SignInit(s, &m, priv), CKR_MECHANISM_PARAM_INVALID);
    sc.pContext = ctx;
    sc.hedgeVariant = 7;
    RV(f->C_SignInit(s, &m, priv), CKR_MECHANISM_PARAM_INVALID);
    CK_MECHANISM shortp = {CKM_ML_DSA, &sc, sizeof(sc) - 1};
    RV(f->C_SignInit(s, &shortp, priv), CKR_MECHANISM_PARAM_INVALID);
    sc.hedgeVariant = CKH_DETERMINISTIC_REQUIRED;
    sc.ulContextLen = 255;
    OK(sign(s, &m, priv, MSG, LEN(MSG), s1, &l1));
    EQ(l1, 3309);
    OK(verify(s, &m, pub, MSG, LEN(MSG), s1, l1));

    /* Deterministic: the same signature again, and by parts. */
    OK(sign(s, &m, priv, MSG, LEN(MSG), s2, &l2));
    assert_memory_equal(s1, s2, l1);
    OK(f->C_SignInit(s, &m, priv));
    OK(f->C_SignUpdate(s, (CK_BYTE_PTR)MSG, 5));
    OK(f->C_SignUpdate(s, (CK_BYTE_PTR)MSG + 5, 0));
    OK(f->C_SignUpdate(s, (CK_BYTE_PTR)MSG + 5, LEN(MSG) - 5));
    l2 = 0;
    OK(f->C_SignFinal(s, NULL, &l2)); /* size query keeps the operation */
    assert_true(l2 >= 3309);
    l2 = 100;
    RV(f->C_SignFinal(s, s2, &l2), CKR_BUFFER_TOO_SMALL);
    l2 = sizeof(s2);
    OK(f->C_SignFinal(s, s2, &l2));
    EQ(l2, l1);
    assert_memory_equal(s1, s2, l1);
    /* OpenSSL agrees (context of 255 bytes). */
    CK_ULONG pkl;
    unsigned char *pk = mech_attr(f, s, pub, CKA_VALUE, &pkl);
    EVP_PKEY *k = ossl_key("ML-DSA-65", false, pk, pkl);
    assert_true(ossl_verify(k, ctx, 255, MSG, LEN(MSG), s1, l1));
    assert_false(ossl_verify(k, ctx, 254, MSG, LEN(MSG), s1, l1));

    /* Hedged: two signatures differ, both verify. */
    sc.hedgeVariant = CKH_HEDGE_REQUIRED;
    l1 = l2 = sizeof(s1);
    OK(sign(s, &m, priv, MSG, LEN(MSG), s1, &l1));
    OK(sign(s, &m, priv, MSG, LEN(MSG), s2, &l2));
    assert_memory_not_equal(s1, s2, 3309);
    OK(verify(s, &m, pub, MSG, LEN(MSG), s2, l2));
    /* No parameter: empty context, hedge preferred. */
    CK_MECHANISM bare = MECH0(CKM_ML_DSA);
    l1 = sizeof(s1);
    OK(sign(s, &bare, priv, MSG, LEN(MSG), s1, &l1));
    assert_true(ossl_verify(k, NULL, 0, MSG, LEN(MSG), s1, l1));

    /* Rejections: tampered, other context, other length. */
    OK(verify(s, &bare, pub, MSG, LEN(MSG), s1, l1));
    s1[100] ^= 1;
    RV(verify(s, &bare, pub, MSG, LEN(MSG), s1, l1), CKR_SIGNATURE_INVALID);
    s1[100] ^= 1;
    RV(verify(s, &m, pub, MSG, LEN(MSG), s1, l1), CKR_SIGNATURE_INVALID);
    CK_RV rv = verify(s, &bare, pub, MSG, LEN(MSG), s1, l1 - 1);
    if (rv != CKR_SIGNATURE_LEN_RANGE && rv != CKR_SIGNATURE_INVALID)
        fail_msg("C_Verify of a short signature: 0x%lx", (unsigned long)rv);

    /* C_VerifySignatureInit / Update / Final and the single-part form. */
    OK(f->C_VerifySignatureInit(s, &bare, pub, s1, l1));
    OK(f->C_VerifySignatureUpdate(s, (CK_BYTE_PTR)MSG, 7));
    OK(f->C_VerifySignatureUpdate(s, (CK_BYTE_PTR)MSG + 7, LEN(MSG) - 7));
    OK(f->C_VerifySignatureFinal(s));
    OK(f->C_VerifySignatureInit(s, &bare, pub, s1, l1));
    OK(f->C_VerifySignature(s, (CK_BYTE_PTR)MSG, LEN(MSG)));
    OK(f->C_VerifySignatureInit(s, &bare, pub, s1, l1));
    RV(f->C_VerifySignature(s, (CK_BYTE_PTR)MSG, LEN(MSG) - 1), CKR_SIGNATURE_INVALID);

    /* HashML-DSA: the token hashes (CKM_HASH_ML_DSA_SHA256) or the caller
     * does (CKM_HASH_ML_DSA, hash CKM_SHA256): the same signature scheme. */
    CK_SIGN_ADDITIONAL_CONTEXT hs = {CKH_DETERMINISTIC_REQUIRED, ctx, 3};
    CK_HASH_SIGN_ADDITIONAL_CONTEXT hh = {CKH_DETERMINISTIC_REQUIRED, ctx, 3, CKM_SHA256};
    CK_MECHANISM tm = MECH(CKM_HASH_ML_DSA_SHA256, &hs), cm = MECH(CKM_HASH_ML_DSA, &hh);
    unsigned char ph[32];
    unsigned int phl = 0;
    EQ(EVP_Digest(MSG, LEN(MSG), ph, &phl, EVP_sha256(), NULL), 1);
    l1 = l2 = sizeof(s1);
    OK(sign(s, &tm, priv, MSG, LEN(MSG), s1, &l1));
    OK(sign(s, &cm, priv, ph, phl, s2, &l2));
    EQ(l1, l2);
    assert_memory_equal(s1, s2, l1);
    OK(verify(s, &cm, pub, ph, phl, s1, l1));
    OK(verify(s, &tm, pub, MSG, LEN(MSG), s2, l2));
    RV(verify(s, &bare, pub, MSG, LEN(MSG), s1, l1), CKR_SIGNATURE_INVALID); /* not pure */
    hh.hash = CKM_SHA256_HMAC;
    RV(f->C_SignInit(s, &cm, priv), CKR_MECHANISM_PARAM_INVALID);
    EVP_PKEY_free(k);
    free(pk);
}

/* ---- 5. token objects --------------------------------------------------------- */

static CK_OBJECT_HANDLE find_one(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const char *label)
{
    CK_ATTRIBUTE t[] = {A_VAR(CKA_CLASS, cls), A_BUF(CKA_LABEL, label, strlen(label))};
    CK_OBJECT_HANDLE h[2];
    CK_ULONG n = 0;
    OK(f->C_FindObjectsInit(s, t, N(t)));
    OK(f->C_FindObjects(s, h, 2, &n));
    OK(f->C_FindObjectsFinal(s));
    EQ(n, 1);
    return h[0];
}

static void test_token_objects(void **state)
{
    (void)state;
    CK_SESSION_HANDLE s = boot();
    CK_OBJECT_HANDLE pub, priv, kpub, kpriv, k1, k2;
    CK_MECHANISM m = MECH0(CKM_ML_DSA), km = MECH0(CKM_ML_KEM);
    static CK_BYTE sig[4700], ct[1088];
    CK_ULONG sl = sizeof(sig), cl = sizeof(ct), vl;
    OK(gen_pair(s, PS_DSA65, false, true, "pqc-sign", &pub, &priv));
    OK(gen_pair(s, PS_KEM768, false, true, "pqc-kem", &kpub, &kpriv));
    OK(encaps(s, &km, kpub, ct, &cl, &k1));
    unsigned char *v = mech_attr(f, s, k1, CKA_VALUE, &vl);
    OK(f->C_Finalize(NULL));

    s = boot();
    priv = find_one(s, CKO_PRIVATE_KEY, "pqc-sign");
    pub = find_one(s, CKO_PUBLIC_KEY, "pqc-sign");
    EQ(mech_ulong(f, s, priv, CKA_PARAMETER_SET), CKP_ML_DSA_65);
    OK(sign(s, &m, priv, MSG, LEN(MSG), sig, &sl));
    OK(verify(s, &m, pub, MSG, LEN(MSG), sig, sl));
    kpriv = find_one(s, CKO_PRIVATE_KEY, "pqc-kem");
    OK(decaps(s, &km, kpriv, ct, cl, &k2));
    value_is(s, k2, v, vl);
    free(v);
}

/* ---- 6. hybrids ---------------------------------------------------------------- */

/* The last 32 bytes of an X25519 key's CKA_EC_POINT (raw or DER-wrapped). */
static void x25519_point(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub, unsigned char out[32])
{
    CK_ULONG len;
    unsigned char *p = mech_attr(f, s, pub, CKA_EC_POINT, &len);
    assert_true(len == 32 || len == 34);
    memcpy(out, p + len - 32, 32);
    free(p);
}

static void test_hybrid_xwing(void **state)
{
    (void)state;
    CK_SESSION_HANDLE s = boot();
    CK_OBJECT_HANDLE mpub, mpriv, xpub, xpriv, epub, epriv, k1, k2;
    CK_BYTE ct[1200];
    CK_ULONG cl, vl, xl;
    OK(gen_pair(s, PS_KEM768, true, false, "xw", &mpub, &mpriv));
    gen_classic(s, CKM_EC_MONTGOMERY_KEY_PAIR_GEN, X25519_OID, sizeof(X25519_OID), &xpub, &xpriv);
    CK_CRATON_HYBRID_PARAMS hp = {xpub};
    CK_MECHANISM m = MECH(CKM_CRATON_XWING, &hp);
    cl = 0;
    OK(encaps(s, &m, mpub, NULL, &cl, &k1));
    EQ(cl, 1120);
    cl = sizeof(ct);
    OK(encaps(s, &m, mpub, ct, &cl, &k1));
    EQ(cl, 1120);
    unsigned char *v = mech_attr(f, s, k1, CKA_VALUE, &vl);
    EQ(vl, 32);
    hp.hClassicKey = xpriv;
    OK(decaps(s, &m, mpriv, ct, cl, &k2));
    value_is(s, k2, v, vl);
    RV(decaps(s, &m, mpriv, ct, cl - 1, &k2), CKR_ENCRYPTED_DATA_LEN_RANGE);

    /* The combiner recomputed: SHA3-256(ss_M || ss_X || ct_X || pk_X || label). */
    unsigned char in[32 * 4 + 6], *ssx = in + 32, *ctx = in + 64, *pkx = in + 96, out[32];
    static const unsigned char label[6] = {0x5c, 0x2e, 0x2f, 0x2f, 0x5e, 0x5c};
    size_t l = 32, cml = 1088;
    EVP_PKEY *mk = ossl_of(s, PS_KEM768, mpriv, true);
    ossl_kem(mk, true, ct, &cml, in, &l);
    unsigned char *xsk = mech_attr(f, s, xpriv, CKA_VALUE, &xl);
    EQ(xl, 32);
    memcpy(ctx, ct + 1088, 32);
    x25519_point(s, xpub, pkx);
    memcpy(in + 128, label, 6);
    EVP_PKEY *xk = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, xsk, 32);
    EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, ctx, 32);
    EVP_PKEY_CTX *dc = EVP_PKEY_CTX_new(xk, NULL);
    l = 32;
    assert_non_null(dc);
    EQ(EVP_PKEY_derive_init(dc), 1);
    EQ(EVP_PKEY_derive_set_peer(dc, peer), 1);
    EQ(EVP_PKEY_derive(dc, ssx, &l), 1);
    unsigned int ol = 0;
    EQ(EVP_Digest(in, sizeof(in), out, &ol, EVP_sha3_256(), NULL), 1);
    assert_memory_equal(out, v, 32);
    EVP_PKEY_CTX_free(dc);
    EVP_PKEY_free(peer);
    EVP_PKEY_free(xk);
    EVP_PKEY_free(mk);
    free(xsk);
    free(v);

    /* The classical key must be X25519; the parameter must be there. */
    gen_classic(s, CKM_EC_KEY_PAIR_GEN, P256_OID, sizeof(P256_OID), &epub, &epriv);
    hp.hClassicKey = epub;
    cl = sizeof(ct);
    RV(encaps(s, &m, mpub, ct, &cl, &k1), CKR_KEY_TYPE_INCONSISTENT);
    CK_MECHANISM bare = MECH0(CKM_CRATON_XWING);
    cl = sizeof(ct);
    RV(encaps(s, &bare, mpub, ct, &cl, &k1), CKR_MECHANISM_PARAM_INVALID);
    hp.hClassicKey = xpub; /* an ML-DSA key in place of ML-KEM-768 */
    CK_OBJECT_HANDLE dpub, dpriv;
    OK(gen_pair(s, PS_DSA65, false, false, "d", &dpub, &dpriv));
    cl = sizeof(ct);
    CK_RV rv = encaps(s, &m, dpub, ct, &cl, &k1);
    if (rv != CKR_KEY_TYPE_INCONSISTENT && rv != CKR_KEY_FUNCTION_NOT_PERMITTED)
        fail_msg("X-Wing with an ML-DSA key: 0x%lx", (unsigned long)rv);
}

static void test_hybrid_signature(void **state)
{
    (void)state;
    CK_SESSION_HANDLE s = boot();
    CK_OBJECT_HANDLE dpub, dpriv, epub, epriv, xpub, xpriv;
    static CK_BYTE sig[3400];
    CK_ULONG sl = sizeof(sig), len;
    OK(gen_pair(s, PS_DSA65, false, false, "hy", &dpub, &dpriv));
    gen_classic(s, CKM_EC_KEY_PAIR_GEN, P256_OID, sizeof(P256_OID), &epub, &epriv);
    CK_CRATON_HYBRID_PARAMS hp = {epriv};
    CK_MECHANISM m = MECH(CKM_CRATON_ML_DSA_65_ECDSA_P256, &hp);
    OK(sign(s, &m, dpriv, MSG, LEN(MSG), sig, &sl));
    EQ(sl, 3309 + 64);
    hp.hClassicKey = epub;
    OK(verify(s, &m, dpub, MSG, LEN(MSG), sig, sl));

    /* Each half checked by OpenSSL: ML-DSA-65 pure, ECDSA-SHA256 r || s. */
    unsigned char *pk = mech_attr(f, s, dpub, CKA_VALUE, &len);
    EVP_PKEY *k = ossl_key("ML-DSA-65", false, pk, len);
    assert_true(ossl_verify(k, NULL, 0, MSG, LEN(MSG), sig, 3309));
    EVP_PKEY_free(k);
    free(pk);
    unsigned char *pt = mech_attr(f, s, epub, CKA_EC_POINT, &len);
    assert_true(len == 67 && pt[0] == 0x04 && pt[1] == 0x41);
    OSSL_PARAM pp[] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0),
                       OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt + 2, 65),
                       OSSL_PARAM_construct_end()};
    EVP_PKEY_CTX *fc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *ek = NULL;
    EQ(EVP_PKEY_fromdata_init(fc), 1);
    EQ(EVP_PKEY_fromdata(fc, &ek, EVP_PKEY_PUBLIC_KEY, pp), 1);
    ECDSA_SIG *es = ECDSA_SIG_new();
    EQ(ECDSA_SIG_set0(es, BN_bin2bn(sig + 3309, 32, NULL), BN_bin2bn(sig + 3341, 32, NULL)), 1);
    unsigned char *der = NULL;
    int dl = i2d_ECDSA_SIG(es, &der);
    assert_true(dl > 0);
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    EQ(EVP_DigestVerifyInit(mc, NULL, EVP_sha256(), NULL, ek), 1);
    EQ(EVP_DigestVerify(mc, der, (size_t)dl, MSG, LEN(MSG)), 1);
    EVP_MD_CTX_free(mc);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    EVP_PKEY_free(ek);
    EVP_PKEY_CTX_free(fc);
    free(pt);

    /* Either half tampered: invalid.  Multi-part verification too. */
    sig[10] ^= 1;
    RV(verify(s, &m, dpub, MSG, LEN(MSG), sig, sl), CKR_SIGNATURE_INVALID);
    sig[10] ^= 1;
    sig[3330] ^= 1;
    RV(verify(s, &m, dpub, MSG, LEN(MSG), sig, sl), CKR_SIGNATURE_INVALID);
    sig[3330] ^= 1;
    OK(f->C_VerifyInit(s, &m, dpub));
    OK(f->C_VerifyUpdate(s, (CK_BYTE_PTR)MSG, 4));
    OK(f->C_VerifyUpdate(s, (CK_BYTE_PTR)MSG + 4, LEN(MSG) - 4));
    OK(f->C_VerifyFinal(s, sig, sl));

    /* The classical key must be P-256 ECDSA: an Ed25519 key is refused. */
    gen_classic(s, CKM_EC_EDWARDS_KEY_PAIR_GEN, ED25519_OID, sizeof(ED25519_OID), &xpub, &xpriv);
    hp.hClassicKey = xpriv;
    RV(f->C_SignInit(s, &m, dpriv), CKR_KEY_TYPE_INCONSISTENT);
    hp.hClassicKey = xpub;
    RV(f->C_VerifyInit(s, &m, dpub), CKR_KEY_TYPE_INCONSISTENT);
    CK_MECHANISM bare = MECH0(CKM_CRATON_ML_DSA_65_ECDSA_P256);
    RV(f->C_SignInit(s, &bare, dpriv), CKR_MECHANISM_PARAM_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_vendor, setup_vendor, teardown),
        cmocka_unit_test_setup_teardown(test_list_nopqc, setup_nopqc, teardown),
        cmocka_unit_test_setup_teardown(test_keygen_all_sets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keygen_template, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kem_encapsulate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kem_vendor_derive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mldsa_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hybrid_xwing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hybrid_signature, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
