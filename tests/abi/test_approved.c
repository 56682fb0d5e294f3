/*
 * Approved-only mode ([algorithms] fips_approved_only) and the PKCS#11 3.2
 * validation indicators through the built module: what the mechanism list
 * and info hide, the exact code of every refused request (each one also
 * made under a permissive configuration, where it succeeds, so that a
 * policy which refuses nothing fails here), keys made before the switch,
 * CKA_OBJECT_VALIDATION_FLAGS and C_GetSessionValidationFlags.
 * docs/mechanisms.md ("Approved-only mode") is the policy tested.
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "craton/pkcs11_craton.h"
#include "mech_util.h"

#define CFG_FIPS ABI_FAST_CONFIG "[algorithms]\nfips_approved_only = true\n"
/* Everything the policy can allow: the other side of every refusal. */
#define CFG_OPEN ABI_FAST_CONFIG "[algorithms]\nallow_weak_rsa = true\nallow_sha1_signing = true\n"

static CK_OBJECT_CLASS c_secret = CKO_SECRET_KEY, c_pub = CKO_PUBLIC_KEY, c_priv = CKO_PRIVATE_KEY;
static CK_KEY_TYPE k_generic = CKK_GENERIC_SECRET, k_rsa = CKK_RSA, k_ec = CKK_EC;

static const CK_BYTE AES_KEY[32] = {
    0x8f, 0x3a, 0xc1, 0x5e, 0x27, 0x9b, 0xd4, 0x60, 0x11, 0xee, 0x7c, 0x42, 0xa9, 0x05, 0xb3, 0x6d,
    0xf8, 0x24, 0x91, 0xcb, 0x3e, 0x57, 0x0a, 0xd6, 0x7b, 0x88, 0xe3, 0x19, 0x4c, 0xa0, 0x65, 0xbf};
static const CK_BYTE DES3_KEY[24] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                     0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01,
                                     0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23};
static const CK_BYTE HMAC_KEY[] = "a generic secret for HMAC-SHA256"; /* 32 bytes */
static const CK_BYTE SHORT_KEY[8] = {1, 2, 3, 4, 5, 6, 7, 8};         /* 64 bits < 112 */
static const CK_BYTE IV16[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const CK_BYTE MSG[32] = "the message signed in this test";

/* Curves by DER OID. */
static const CK_BYTE OID_P256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const CK_BYTE OID_K256[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a}; /* secp256k1 */
static const CK_BYTE OID_ED25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
static const CK_BYTE OID_X25519[] = {0x06, 0x03, 0x2b, 0x65, 0x6e};

/* ---- fixture -------------------------------------------------------------- */

MECH_FIXTURE(ABI_FAST_CONFIG, "Approved-only ABI               ")

static CK_SESSION_HANDLE S; /* the test's R/W session, user logged in */

static int boot(const char *cfg)
{
    if (setup_cfg(cfg) != 0 || f->C_Initialize(NULL) != CKR_OK)
        return -1;
    S = mech_session(f, true);
    return 0;
}

static int setup_fips(void **state)
{
    (void)state;
    return boot(CFG_FIPS);
}

static int setup_open(void **state)
{
    (void)state;
    return boot(CFG_OPEN);
}

/* C_Finalize, config body cfg in place of the test's, C_Initialize and a new
 * logged-in session S (token objects stay in the store). */
static void restart(const char *cfg)
{
    char path[PATH_MAX + 32];
    OK(f->C_Finalize(NULL));
    snprintf(path, sizeof(path), "%s/craton_hsm.toml", A.dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(cfg, fp);
    fclose(fp);
    OK(f->C_Initialize(NULL));
    S = mech_session(f, true);
}

/* ---- helpers -------------------------------------------------------------- */

static CK_OBJECT_HANDLE secret(CK_KEY_TYPE kt, const void *v, CK_ULONG n)
{
    CK_ATTRIBUTE use[] = {A_BOOL(CKA_ENCRYPT, true),    A_BOOL(CKA_DECRYPT, true),
                          A_BOOL(CKA_SIGN, true),       A_BOOL(CKA_VERIFY, true),
                          A_BOOL(CKA_DERIVE, true),     A_BOOL(CKA_WRAP, true),
                          A_BOOL(CKA_EXTRACTABLE, true)};
    /* AES takes every usage; others only what their class has */
    return mech_secret(f, S, kt, v, n, use, N(use));
}

/* A key pair by mech; pub / priv: the templates' extra parts; token: a
 * token object pair labelled label. */
static CK_RV pair(CK_MECHANISM_TYPE mech, const CK_ATTRIBUTE *pub, CK_ULONG npub,
                  const CK_ATTRIBUTE *priv, CK_ULONG npriv, const char *label,
                  CK_OBJECT_HANDLE *hpub, CK_OBJECT_HANDLE *hpriv)
{
    CK_MECHANISM m = MECH0(mech);
    CK_ATTRIBUTE tp[12] = {A_BOOL(CKA_TOKEN, label != NULL)},
                 tk[12] = {A_BOOL(CKA_TOKEN, label != NULL)};
    CK_ULONG np = 1, nk = 1;
    assert_true(npub < 10 && npriv < 10);
    if (label != NULL) {
        tp[np++] = (CK_ATTRIBUTE)A_BUF(CKA_LABEL, label, strlen(label));
        tk[nk++] = (CK_ATTRIBUTE)A_BUF(CKA_LABEL, label, strlen(label));
    }
    memcpy(tp + np, pub, npub * sizeof(*pub));
    memcpy(tk + nk, priv, npriv * sizeof(*priv));
    *hpub = *hpriv = CK_INVALID_HANDLE;
    return f->C_GenerateKeyPair(S, &m, tp, np + npub, tk, nk + npriv, hpub, hpriv);
}

static CK_RV rsa_pair(CK_ULONG bits, const char *label, CK_OBJECT_HANDLE *pub,
                      CK_OBJECT_HANDLE *priv)
{
    CK_ATTRIBUTE tp[] = {A_VAR(CKA_MODULUS_BITS, bits), A_BOOL(CKA_VERIFY, true),
                         A_BOOL(CKA_ENCRYPT, true), A_BOOL(CKA_WRAP, true)};
    CK_ATTRIBUTE tk[] = {A_BOOL(CKA_SIGN, true), A_BOOL(CKA_DECRYPT, true)};
    return pair(CKM_RSA_PKCS_KEY_PAIR_GEN, tp, N(tp), tk, N(tk), label, pub, priv);
}

/* An EC-family pair on the curve of DER OID oid (derive allowed). */
static CK_RV ec_pair(CK_MECHANISM_TYPE mech, const CK_BYTE *oid, size_t oidlen, const char *label,
                     CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
    CK_ATTRIBUTE tp[] = {A_BUF(CKA_EC_PARAMS, oid, oidlen)};
    CK_ATTRIBUTE tk[] = {A_BOOL(CKA_DERIVE, true)};
    return pair(mech, tp, N(tp), tk, N(tk), label, pub, priv);
}

/* The token object of class cls labelled label. */
static CK_OBJECT_HANDLE find(CK_OBJECT_CLASS cls, const char *label)
{
    CK_ATTRIBUTE t[] = {A_VAR(CKA_CLASS, cls), A_BUF(CKA_LABEL, label, strlen(label))};
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_ULONG n = 0;
    OK(f->C_FindObjectsInit(S, t, N(t)));
    OK(f->C_FindObjects(S, &h, 1, &n));
    OK(f->C_FindObjectsFinal(S));
    EQ(n, 1);
    return h;
}

/* C_SignInit + C_Sign of MSG with m and k (into a buffer big enough for
 * RSA-8192); the signature's length. */
static CK_RV sign(CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE k, unsigned char *sig, CK_ULONG *len)
{
    CK_MECHANISM m = MECH0(mech);
    CK_RV rv = f->C_SignInit(S, &m, k);
    if (rv == CKR_OK)
        rv = f->C_Sign(S, (CK_BYTE_PTR)MSG, sizeof(MSG), sig, len);
    return rv;
}

static CK_RV sign_init(CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE k)
{
    static CK_RSA_PKCS_PSS_PARAMS pss1 = {CKM_SHA_1, CKG_MGF1_SHA1, 20};
    CK_MECHANISM m = MECH0(mech);
    if (mech == CKM_SHA1_RSA_PKCS_PSS)
        m = (CK_MECHANISM)MECH(mech, &pss1);
    CK_RV rv = f->C_SignInit(S, &m, k);
    if (rv == CKR_OK)
        OK(f->C_SignInit(S, NULL, k)); /* cancel (3.0) */
    return rv;
}

/* C_EncryptInit + C_Encrypt of 16 bytes with m and k. */
static CK_RV encrypt(CK_MECHANISM *m, CK_OBJECT_HANDLE k)
{
    unsigned char out[1024];
    CK_ULONG len = sizeof(out);
    CK_RV rv = f->C_EncryptInit(S, m, k);
    if (rv == CKR_OK)
        rv = f->C_Encrypt(S, (CK_BYTE_PTR)MSG, 16, out, &len);
    return rv;
}

/* The session's CKS_LAST_VALIDATION_OK flags. */
static CK_FLAGS last_ok(CK_SESSION_HANDLE s)
{
    CK_FLAGS fl = 0xdead;
    OK(f->C_GetSessionValidationFlags(s, CKS_LAST_VALIDATION_OK, &fl));
    return fl;
}

static CK_FLAGS vflags(CK_OBJECT_HANDLE h)
{
    return mech_ulong(f, S, h, CKA_OBJECT_VALIDATION_FLAGS);
}

/* The module's mechanism list (malloc'ed; *n entries). */
static CK_MECHANISM_TYPE *mechs(CK_ULONG *n)
{
    OK(f->C_GetMechanismList(0, NULL, n));
    CK_MECHANISM_TYPE *list = calloc(*n + 1, sizeof(*list));
    assert_non_null(list);
    OK(f->C_GetMechanismList(0, list, n));
    return list;
}

/* An X25519 public key from OpenSSL (raw 32 bytes into out). */
static void x25519_peer(unsigned char out[32])
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    size_t len = 32;
    assert_non_null(k);
    EQ(EVP_PKEY_get_raw_public_key(k, out, &len), 1);
    EQ(len, 32);
    EVP_PKEY_free(k);
}

/* An RSA-1024 public key from OpenSSL, imported with C_CreateObject. */
static CK_RV import_rsa1024(CK_OBJECT_HANDLE *h)
{
    EVP_PKEY *k = EVP_RSA_gen(1024);
    BIGNUM *n = NULL, *e = NULL;
    unsigned char nb[128], eb[8];
    assert_non_null(k);
    EQ(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n), 1);
    EQ(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e), 1);
    int nlen = BN_bn2bin(n, nb), elen = BN_bn2bin(e, eb);
    CK_ATTRIBUTE t[] = {A_VAR(CKA_CLASS, c_pub),      A_VAR(CKA_KEY_TYPE, k_rsa),
                        A_BOOL(CKA_TOKEN, false),     A_BOOL(CKA_VERIFY, true),
                        A_BUF(CKA_MODULUS, nb, nlen), A_BUF(CKA_PUBLIC_EXPONENT, eb, elen)};
    CK_RV rv = f->C_CreateObject(S, t, N(t), h);
    BN_free(n);
    BN_free(e);
    EVP_PKEY_free(k);
    return rv;
}

/* A secp256k1 private key (scalar 1..) imported with C_CreateObject. */
static CK_RV import_k256(CK_OBJECT_HANDLE *h)
{
    CK_BYTE d[32] = {0};
    d[31] = 0x2a;
    CK_ATTRIBUTE t[] = {A_VAR(CKA_CLASS, c_priv),
                        A_VAR(CKA_KEY_TYPE, k_ec),
                        A_BOOL(CKA_TOKEN, false),
                        A_BOOL(CKA_SIGN, true),
                        A_BUF(CKA_EC_PARAMS, OID_K256, sizeof(OID_K256)),
                        A_BUF(CKA_VALUE, d, sizeof(d))};
    return f->C_CreateObject(S, t, N(t), h);
}

/* C_DeriveKey (ECDH1, CKD_NULL) of a 32-byte generic secret from base with
 * peer public point / key peer. */
static CK_RV ecdh(CK_OBJECT_HANDLE base, unsigned char *peer, CK_ULONG peerlen)
{
    CK_ECDH1_DERIVE_PARAMS p = {CKD_NULL, 0, NULL, peerlen, peer};
    CK_MECHANISM m = MECH(CKM_ECDH1_DERIVE, &p);
    CK_ULONG vlen = 32;
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_ATTRIBUTE t[] = {A_VAR(CKA_CLASS, c_secret), A_VAR(CKA_KEY_TYPE, k_generic),
                        A_BOOL(CKA_TOKEN, false), A_VAR(CKA_VALUE_LEN, vlen)};
    return f->C_DeriveKey(S, &m, base, t, N(t), &h);
}

/* ---- 1. the mechanism list ------------------------------------------------ */

/* Not approved: never listed, no info, in approved-only mode. */
static const CK_MECHANISM_TYPE NOT_APPROVED[] = {
    CKM_DES3_CBC,
    CKM_DES3_ECB,
    CKM_DES3_CBC_PAD,
    CKM_DES3_KEY_GEN,
    CKM_RSA_X_509,
    CKM_EC_MONTGOMERY_KEY_PAIR_GEN,
    CKM_XOR_BASE_AND_DATA,
    CKM_CONCATENATE_BASE_AND_DATA,
    CKM_CONCATENATE_DATA_AND_BASE,
    CKM_CONCATENATE_BASE_AND_KEY,
    CKM_CRATON_XWING,
    CKM_CRATON_ML_DSA_65_ECDSA_P256,
};
/* Approved: listed in both modes. */
static const CK_MECHANISM_TYPE APPROVED[] = {
    CKM_AES_GCM,
    CKM_AES_CBC_PAD,
    CKM_AES_KEY_WRAP_KWP,
    CKM_AES_CMAC,
    CKM_SHA256,
    CKM_SHA3_256,
    CKM_SHA_1,
    CKM_SHA_1_HMAC,
    CKM_SHA256_HMAC,
    CKM_RSA_PKCS_KEY_PAIR_GEN,
    CKM_RSA_PKCS,
    CKM_RSA_PKCS_PSS,
    CKM_RSA_PKCS_OAEP,
    CKM_SHA256_RSA_PKCS,
    CKM_EC_KEY_PAIR_GEN,
    CKM_ECDSA,
    CKM_ECDSA_SHA384,
    CKM_ECDH1_DERIVE,
    CKM_EC_EDWARDS_KEY_PAIR_GEN,
    CKM_EDDSA,
    CKM_HKDF_DERIVE,
    CKM_SP800_108_COUNTER_KDF,
    CKM_PKCS5_PBKD2,
    CKM_ML_KEM_KEY_PAIR_GEN,
    CKM_ML_KEM,
    CKM_ML_DSA_KEY_PAIR_GEN,
    CKM_ML_DSA,
    CKM_HASH_ML_DSA_SHA256,
    CKM_SLH_DSA_KEY_PAIR_GEN,
    CKM_SLH_DSA,
};

static void test_list_fips(void **state)
{
    (void)state;
    CK_MECHANISM_INFO info;
    CK_ULONG n = 0;
    CK_MECHANISM_TYPE *list = mechs(&n);
    for (size_t i = 0; i < N(NOT_APPROVED); i++) {
        if (mech_in_list(list, n, NOT_APPROVED[i]))
            fail_msg("0x%lx listed in approved-only mode", (unsigned long)NOT_APPROVED[i]);
        RV(f->C_GetMechanismInfo(0, NOT_APPROVED[i], &info), CKR_MECHANISM_INVALID);
    }
    for (size_t i = 0; i < N(APPROVED); i++)
        if (!mech_in_list(list, n, APPROVED[i]))
            fail_msg("0x%lx not listed in approved-only mode", (unsigned long)APPROVED[i]);
    /* Every listed mechanism has info, and no function the policy refuses. */
    for (CK_ULONG i = 0; i < n; i++)
        OK(f->C_GetMechanismInfo(0, list[i], &info));
    free(list);
    /* PKCS#1 v1.5: signatures only (no encryption, wrapping, recovery). */
    info = mech_info(f, CKM_RSA_PKCS);
    EQ(info.flags & (CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP | CKF_SIGN_RECOVER |
                     CKF_VERIFY_RECOVER),
       0);
    EQ(info.flags & (CKF_SIGN | CKF_VERIFY), CKF_SIGN | CKF_VERIFY);
    EQ(info.ulMinKeySize, 2048);
    /* SHA-1 signatures: verification only (legacy use). */
    static const CK_MECHANISM_TYPE sha1sig[] = {CKM_SHA1_RSA_PKCS, CKM_SHA1_RSA_PKCS_PSS,
                                                CKM_ECDSA_SHA1};
    for (size_t i = 0; i < N(sha1sig); i++) {
        info = mech_info(f, sha1sig[i]);
        EQ(info.flags & (CKF_SIGN | CKF_VERIFY), CKF_VERIFY);
    }
    /* The approved floors. */
    EQ(mech_info(f, CKM_SHA256_HMAC).ulMinKeySize, 112);
    EQ(mech_info(f, CKM_GENERIC_SECRET_KEY_GEN).ulMinKeySize, 112);
    EQ(mech_info(f, CKM_ECDH1_DERIVE).ulMinKeySize, 256);
    EQ(mech_info(f, CKM_RSA_PKCS_KEY_PAIR_GEN).ulMinKeySize, 2048);
}

/* The same list under the permissive configuration: what approved-only
 * hides is there (so test_list_fips can fail). */
static void test_list_open(void **state)
{
    (void)state;
    CK_ULONG n = 0;
    CK_MECHANISM_TYPE *list = mechs(&n);
    for (size_t i = 0; i < N(NOT_APPROVED); i++) {
        if (NOT_APPROVED[i] == CKM_CONCATENATE_BASE_AND_KEY)
            continue; /* in the table, but no family implements it through the ABI */
        if (!mech_in_list(list, n, NOT_APPROVED[i]))
            fail_msg("0x%lx not listed in the permissive mode", (unsigned long)NOT_APPROVED[i]);
    }
    for (size_t i = 0; i < N(APPROVED); i++)
        assert_true(mech_in_list(list, n, APPROVED[i]));
    free(list);
    CK_MECHANISM_INFO info = mech_info(f, CKM_RSA_PKCS);
    EQ(info.flags & (CKF_ENCRYPT | CKF_WRAP), CKF_ENCRYPT | CKF_WRAP);
    EQ(info.ulMinKeySize, 1024);
    assert_true(mech_info(f, CKM_SHA1_RSA_PKCS).flags & CKF_SIGN);
    EQ(mech_info(f, CKM_SHA256_HMAC).ulMinKeySize, 8);
    EQ(mech_info(f, CKM_ECDH1_DERIVE).ulMinKeySize, 255);
}

/* ---- 2. refused requests, and the same requests allowed --------------------- */

/* Each request: refused with exactly its code in approved-only mode,
 * CKR_OK under CFG_OPEN. */
static void requests(bool fips)
{
#define WANT(call, code) RV(call, fips ? (code) : CKR_OK)
    CK_OBJECT_HANDLE pub, priv, k, h;
    unsigned char sig[1024];
    CK_ULONG len = sizeof(sig);

    /* Triple DES: C_EncryptInit, C_GenerateKey. */
    CK_MECHANISM des3 = {CKM_DES3_CBC, (void *)IV16, 8};
    k = secret(CKK_DES3, DES3_KEY, sizeof(DES3_KEY));
    WANT(f->C_EncryptInit(S, &des3, k), CKR_MECHANISM_INVALID);
    if (!fips)
        OK(f->C_EncryptInit(S, NULL, k));
    CK_MECHANISM des3gen = MECH0(CKM_DES3_KEY_GEN);
    CK_ATTRIBUTE t3[] = {A_BOOL(CKA_TOKEN, false)};
    WANT(f->C_GenerateKey(S, &des3gen, t3, N(t3), &h), CKR_MECHANISM_INVALID);

    /* X25519: key pair generation. */
    WANT(ec_pair(CKM_EC_MONTGOMERY_KEY_PAIR_GEN, OID_X25519, sizeof(OID_X25519), NULL, &pub, &priv),
         CKR_MECHANISM_INVALID);

    /* XOR and concatenation derivation. */
    CK_KEY_DERIVATION_STRING_DATA sd = {(CK_BYTE_PTR)MSG, 16};
    CK_MECHANISM xor = MECH(CKM_XOR_BASE_AND_DATA, &sd);
    CK_MECHANISM cat = MECH(CKM_CONCATENATE_BASE_AND_DATA, &sd);
    CK_ATTRIBUTE td[] = {A_VAR(CKA_CLASS, c_secret), A_VAR(CKA_KEY_TYPE, k_generic),
                         A_BOOL(CKA_TOKEN, false)};
    k = secret(CKK_GENERIC_SECRET, HMAC_KEY, 32);
    WANT(f->C_DeriveKey(S, &xor, k, td, N(td), &h), CKR_MECHANISM_INVALID);
    WANT(f->C_DeriveKey(S, &cat, k, td, N(td), &h), CKR_MECHANISM_INVALID);

    /* PKCS#1 v1.5 and raw RSA encryption, wrapping; SHA-1 signing. */
    OK(rsa_pair(2048, NULL, &pub, &priv));
    CK_MECHANISM v15 = MECH0(CKM_RSA_PKCS), raw = MECH0(CKM_RSA_X_509);
    WANT(f->C_EncryptInit(S, &v15, pub), CKR_MECHANISM_INVALID);
    if (!fips)
        OK(f->C_EncryptInit(S, NULL, pub));
    WANT(f->C_EncryptInit(S, &raw, pub), CKR_MECHANISM_INVALID);
    if (!fips)
        OK(f->C_EncryptInit(S, NULL, pub));
    WANT(f->C_DecryptInit(S, &v15, priv), CKR_MECHANISM_INVALID);
    if (!fips)
        OK(f->C_DecryptInit(S, NULL, priv));
    k = secret(CKK_AES, AES_KEY, 32);
    len = sizeof(sig);
    WANT(f->C_WrapKey(S, &v15, pub, k, sig, &len), CKR_MECHANISM_INVALID);
    WANT(sign_init(CKM_SHA1_RSA_PKCS, priv), CKR_MECHANISM_INVALID);
    WANT(sign_init(CKM_SHA1_RSA_PKCS_PSS, priv), CKR_MECHANISM_INVALID);
    OK(sign_init(CKM_SHA256_RSA_PKCS, priv)); /* approved: both modes */
    OK(sign_init(CKM_RSA_PKCS, priv));        /* v1.5 signatures are approved */

    /* RSA-1024: generation, import + use. */
    WANT(rsa_pair(1024, NULL, &pub, &priv), CKR_KEY_SIZE_RANGE);
    OK(import_rsa1024(&pub)); /* an object may exist; using it is refused */
    CK_MECHANISM sha256rsa = MECH0(CKM_SHA256_RSA_PKCS);
    WANT(f->C_VerifyInit(S, &sha256rsa, pub), CKR_KEY_SIZE_RANGE);
    if (!fips)
        OK(f->C_VerifyInit(S, NULL, pub));

    /* secp256k1: generation, import + use; ECDSA with SHA-1. */
    WANT(ec_pair(CKM_EC_KEY_PAIR_GEN, OID_K256, sizeof(OID_K256), NULL, &pub, &priv),
         CKR_CURVE_NOT_SUPPORTED);
    OK(import_k256(&priv));
    WANT(sign_init(CKM_ECDSA_SHA256, priv), CKR_CURVE_NOT_SUPPORTED);
    OK(ec_pair(CKM_EC_KEY_PAIR_GEN, OID_P256, sizeof(OID_P256), NULL, &pub, &priv));
    WANT(sign_init(CKM_ECDSA_SHA1, priv), CKR_MECHANISM_INVALID);
    OK(sign_init(CKM_ECDSA_SHA256, priv));
    /* ECDH on P-256 is approved in both modes. */
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    unsigned char *pt = NULL;
    size_t ptlen = EVP_PKEY_get1_encoded_public_key(pk, &pt);
    OK(ecdh(priv, pt, (CK_ULONG)ptlen));
    OPENSSL_free(pt);
    EVP_PKEY_free(pk);

    /* HMAC with a 64-bit key; generating one. */
    k = secret(CKK_GENERIC_SECRET, SHORT_KEY, sizeof(SHORT_KEY));
    WANT(sign_init(CKM_SHA256_HMAC, k), CKR_KEY_SIZE_RANGE);
    CK_MECHANISM gsgen = MECH0(CKM_GENERIC_SECRET_KEY_GEN);
    CK_ULONG eight = 8;
    CK_ATTRIBUTE tg[] = {A_BOOL(CKA_TOKEN, false), A_VAR(CKA_VALUE_LEN, eight)};
    WANT(f->C_GenerateKey(S, &gsgen, tg, N(tg), &h), CKR_KEY_SIZE_RANGE);

    /* SHA-1 as a digest and in HMAC stays (not a signature). */
    CK_MECHANISM sha1 = MECH0(CKM_SHA_1);
    unsigned char md[20];
    len = sizeof(md);
    OK(f->C_DigestInit(S, &sha1));
    OK(f->C_Digest(S, (CK_BYTE_PTR)MSG, sizeof(MSG), md, &len));
    k = secret(CKK_GENERIC_SECRET, HMAC_KEY, 32);
    OK(sign_init(CKM_SHA_1_HMAC, k));

    /* Hybrid KEM: refused before its key is even looked at. */
    CK_MECHANISM xwing = MECH0(CKM_CRATON_XWING);
    len = sizeof(sig);
    CK_RV rv = f->C_EncapsulateKey(S, &xwing, pub, td, N(td), sig, &len, &h);
    if (fips)
        EQ(rv, CKR_MECHANISM_INVALID);
    else
        assert_int_not_equal(rv, CKR_MECHANISM_INVALID);
#undef WANT
}

static void test_refused_fips(void **state)
{
    (void)state;
    requests(true);
}

static void test_allowed_open(void **state)
{
    (void)state;
    requests(false);
}

/* Keys made under the permissive configuration, then used after the switch
 * to approved-only mode: the keys stay, their use is refused. */
static void test_old_keys(void **state)
{
    (void)state;
    CK_OBJECT_HANDLE pub, priv;
    unsigned char peer[32], sig[512];
    CK_ULONG len = sizeof(sig);
    OK(rsa_pair(1024, "rsa1024", &pub, &priv));
    OK(ec_pair(CKM_EC_KEY_PAIR_GEN, OID_K256, sizeof(OID_K256), "k256", &pub, &priv));
    OK(ec_pair(CKM_EC_MONTGOMERY_KEY_PAIR_GEN, OID_X25519, sizeof(OID_X25519), "x25519", &pub,
               &priv));
    OK(ec_pair(CKM_EC_KEY_PAIR_GEN, OID_P256, sizeof(OID_P256), "p256", &pub, &priv));
    x25519_peer(peer);
    OK(ecdh(find(CKO_PRIVATE_KEY, "x25519"), peer, 32));
    OK(sign(CKM_SHA256_RSA_PKCS, find(CKO_PRIVATE_KEY, "rsa1024"), sig, &len));

    restart(CFG_FIPS);
    RV(sign_init(CKM_SHA256_RSA_PKCS, find(CKO_PRIVATE_KEY, "rsa1024")), CKR_KEY_SIZE_RANGE);
    RV(sign_init(CKM_ECDSA, find(CKO_PRIVATE_KEY, "k256")), CKR_CURVE_NOT_SUPPORTED);
    RV(ecdh(find(CKO_PRIVATE_KEY, "x25519"), peer, 32), CKR_CURVE_NOT_SUPPORTED);
    OK(sign_init(CKM_ECDSA, find(CKO_PRIVATE_KEY, "p256")));
    /* and back: usable again */
    restart(CFG_OPEN);
    OK(sign_init(CKM_ECDSA, find(CKO_PRIVATE_KEY, "k256")));
}

/* Approved services work in approved-only mode, and say so. */
static void test_approved_work(void **state)
{
    (void)state;
    CK_OBJECT_HANDLE pub, priv;
    unsigned char sig[8192];
    CK_ULONG len = sizeof(sig), set = CKP_ML_DSA_65;
    /* ML-DSA */
    CK_ATTRIBUTE tp[] = {A_VAR(CKA_PARAMETER_SET, set), A_BOOL(CKA_VERIFY, true)};
    CK_ATTRIBUTE tk[] = {A_BOOL(CKA_SIGN, true)};
    OK(pair(CKM_ML_DSA_KEY_PAIR_GEN, tp, N(tp), tk, N(tk), NULL, &pub, &priv));
    OK(sign(CKM_ML_DSA, priv, sig, &len));
    EQ(last_ok(S), 1);
    EQ(vflags(pub), 1);
    /* Ed25519 */
    OK(ec_pair(CKM_EC_EDWARDS_KEY_PAIR_GEN, OID_ED25519, sizeof(OID_ED25519), NULL, &pub, &priv));
    len = sizeof(sig);
    OK(sign(CKM_EDDSA, priv, sig, &len));
    EQ(last_ok(S), 1);
    /* RSA-OAEP */
    OK(rsa_pair(2048, NULL, &pub, &priv));
    CK_RSA_PKCS_OAEP_PARAMS op = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
    CK_MECHANISM oaep = MECH(CKM_RSA_PKCS_OAEP, &op);
    OK(encrypt(&oaep, pub));
    EQ(last_ok(S), 1);
}

/* ---- 3. validation indicators ----------------------------------------------- */

static void test_object_flags(void **state)
{
    (void)state;
    CK_OBJECT_HANDLE pub, priv, h;
    OK(rsa_pair(2048, NULL, &pub, &priv));
    EQ(vflags(pub), 1);
    EQ(vflags(priv), 1);
    OK(rsa_pair(1024, NULL, &pub, &priv));
    EQ(vflags(pub), 0);
    EQ(vflags(priv), 0);
    OK(ec_pair(CKM_EC_MONTGOMERY_KEY_PAIR_GEN, OID_X25519, sizeof(OID_X25519), NULL, &pub, &priv));
    EQ(vflags(pub), 0);
    EQ(vflags(priv), 0);
    OK(ec_pair(CKM_EC_KEY_PAIR_GEN, OID_K256, sizeof(OID_K256), NULL, &pub, &priv));
    EQ(vflags(pub), 0);
    EQ(vflags(priv), 0);
    OK(ec_pair(CKM_EC_KEY_PAIR_GEN, OID_P256, sizeof(OID_P256), NULL, &pub, &priv));
    EQ(vflags(pub), 1);
    EQ(vflags(priv), 1);
    OK(ec_pair(CKM_EC_EDWARDS_KEY_PAIR_GEN, OID_ED25519, sizeof(OID_ED25519), NULL, &pub, &priv));
    EQ(vflags(priv), 1);
    CK_OBJECT_HANDLE aes = secret(CKK_AES, AES_KEY, 32);
    EQ(vflags(aes), 1);
    EQ(vflags(secret(CKK_AES, AES_KEY, 16)), 1);
    EQ(vflags(secret(CKK_DES3, DES3_KEY, 24)), 0);
    EQ(vflags(secret(CKK_GENERIC_SECRET, HMAC_KEY, 32)), 1);
    EQ(vflags(secret(CKK_GENERIC_SECRET, HMAC_KEY, 14)), 1); /* 112 bits */
    EQ(vflags(secret(CKK_GENERIC_SECRET, HMAC_KEY, 13)), 0);
    EQ(vflags(secret(CKK_GENERIC_SECRET, SHORT_KEY, 8)), 0);

    /* Read-only: neither given at creation nor set. */
    CK_FLAGS one = 1;
    CK_ATTRIBUTE set[] = {A_VAR(CKA_OBJECT_VALIDATION_FLAGS, one)};
    RV(f->C_SetAttributeValue(S, aes, set, 1), CKR_ATTRIBUTE_READ_ONLY);
    CK_ATTRIBUTE t[] = {A_VAR(CKA_CLASS, c_secret), A_VAR(CKA_KEY_TYPE, k_generic),
                        A_BOOL(CKA_TOKEN, false), A_BUF(CKA_VALUE, SHORT_KEY, 8),
                        A_VAR(CKA_OBJECT_VALIDATION_FLAGS, one)};
    RV(f->C_CreateObject(S, t, N(t), &h), CKR_ATTRIBUTE_READ_ONLY);
    /* A search on it matches the computed value. */
    CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
    CK_FLAGS zero = 0;
    CK_ATTRIBUTE q1[] = {A_VAR(CKA_CLASS, cls), A_VAR(CKA_OBJECT_VALIDATION_FLAGS, one)};
    CK_ATTRIBUTE q0[] = {A_VAR(CKA_CLASS, cls), A_VAR(CKA_OBJECT_VALIDATION_FLAGS, zero)};
    CK_OBJECT_HANDLE found[16];
    CK_ULONG n = 0;
    OK(f->C_FindObjectsInit(S, q1, N(q1)));
    OK(f->C_FindObjects(S, found, 16, &n));
    OK(f->C_FindObjectsFinal(S));
    EQ(n, 3); /* RSA-2048, P-256, Ed25519 */
    OK(f->C_FindObjectsInit(S, q0, N(q0)));
    OK(f->C_FindObjects(S, found, 16, &n));
    OK(f->C_FindObjectsFinal(S));
    EQ(n, 3); /* RSA-1024, X25519, secp256k1 */
    /* Not a key: no such attribute. */
    CK_OBJECT_CLASS data = CKO_DATA;
    CK_ATTRIBUTE td[] = {A_VAR(CKA_CLASS, data), A_BOOL(CKA_TOKEN, false)};
    OK(f->C_CreateObject(S, td, N(td), &h));
    CK_ATTRIBUTE get = {CKA_OBJECT_VALIDATION_FLAGS, &one, sizeof(one)};
    RV(f->C_GetAttributeValue(S, h, &get, 1), CKR_ATTRIBUTE_TYPE_INVALID);
}

static void test_session_flags(void **state)
{
    (void)state;
    CK_SESSION_HANDLE other = mech_session(f, false);
    unsigned char iv[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, out[64], sig[512];
    CK_GCM_PARAMS gp = {iv, sizeof(iv), 96, NULL, 0, 128};
    CK_MECHANISM gcm = MECH(CKM_AES_GCM, &gp);
    CK_MECHANISM des3 = {CKM_DES3_CBC, (void *)IV16, 8};
    CK_ULONG len;
    CK_OBJECT_HANDLE pub, priv;

    EQ(last_ok(S), 0); /* fresh */
    OK(encrypt(&gcm, secret(CKK_AES, AES_KEY, 32)));
    EQ(last_ok(S), 1);
    EQ(last_ok(other), 0); /* per session */
    OK(encrypt(&des3, secret(CKK_DES3, DES3_KEY, 24)));
    EQ(last_ok(S), 0);
    /* a size query does not end the operation, nor change the flags */
    CK_MECHANISM sha256 = MECH0(CKM_SHA256);
    OK(f->C_DigestInit(S, &sha256));
    OK(f->C_DigestUpdate(S, (CK_BYTE_PTR)MSG, sizeof(MSG)));
    len = 0;
    OK(f->C_DigestFinal(S, NULL, &len));
    EQ(last_ok(S), 0);
    len = sizeof(out);
    OK(f->C_DigestFinal(S, out, &len));
    EQ(last_ok(S), 1);
    /* a refused Init changes nothing */
    OK(encrypt(&des3, secret(CKK_DES3, DES3_KEY, 24)));
    EQ(last_ok(S), 0);
    CK_MECHANISM bad = MECH0(CKM_SHA256);
    RV(f->C_EncryptInit(S, &bad, secret(CKK_AES, AES_KEY, 32)), CKR_MECHANISM_INVALID);
    EQ(last_ok(S), 0);
    /* approved mechanism, non-approved key: RSA-1024; SHA-1 signing */
    OK(rsa_pair(1024, NULL, &pub, &priv));
    len = sizeof(sig);
    OK(sign(CKM_SHA256_RSA_PKCS, priv, sig, &len));
    EQ(last_ok(S), 0);
    OK(rsa_pair(2048, NULL, &pub, &priv));
    CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, 32};
    CK_MECHANISM mpss = MECH(CKM_SHA256_RSA_PKCS_PSS, &pss);
    len = sizeof(sig);
    OK(f->C_SignInit(S, &mpss, priv));
    OK(f->C_Sign(S, (CK_BYTE_PTR)MSG, sizeof(MSG), sig, &len));
    EQ(last_ok(S), 1);
    CK_RSA_PKCS_PSS_PARAMS pss1 = {CKM_SHA_1, CKG_MGF1_SHA1, 20};
    CK_MECHANISM mpss1 = MECH(CKM_RSA_PKCS_PSS, &pss1);
    unsigned char h20[20] = {0};
    len = sizeof(sig);
    OK(f->C_SignInit(S, &mpss1, priv));
    OK(f->C_Sign(S, h20, sizeof(h20), sig, &len));
    EQ(last_ok(S), 0); /* SHA-1 in the PSS parameters */
    /* ECDSA P-256 sign: 1; with SHA-1: 0; its verification (legacy): 1 */
    OK(ec_pair(CKM_EC_KEY_PAIR_GEN, OID_P256, sizeof(OID_P256), NULL, &pub, &priv));
    len = sizeof(sig);
    OK(sign(CKM_ECDSA_SHA256, priv, sig, &len));
    EQ(last_ok(S), 1);
    len = sizeof(sig);
    OK(sign(CKM_ECDSA_SHA1, priv, sig, &len));
    EQ(last_ok(S), 0);
    CK_MECHANISM es1 = MECH0(CKM_ECDSA_SHA1);
    OK(f->C_VerifyInit(S, &es1, pub));
    OK(f->C_Verify(S, (CK_BYTE_PTR)MSG, sizeof(MSG), sig, len));
    EQ(last_ok(S), 1);
    /* a verification that finds the signature invalid completed too */
    OK(encrypt(&des3, secret(CKK_DES3, DES3_KEY, 24)));
    EQ(last_ok(S), 0);
    sig[0] ^= 1;
    OK(f->C_VerifyInit(S, &es1, pub));
    RV(f->C_Verify(S, (CK_BYTE_PTR)MSG, sizeof(MSG), sig, len), CKR_SIGNATURE_INVALID);
    EQ(last_ok(S), 1);
    /* an ECDSA signature on secp256k1 is not approved */
    OK(ec_pair(CKM_EC_KEY_PAIR_GEN, OID_K256, sizeof(OID_K256), NULL, &pub, &priv));
    len = sizeof(sig);
    OK(sign(CKM_ECDSA_SHA256, priv, sig, &len));
    EQ(last_ok(S), 0);
    OK(f->C_CloseSession(other));
}

static void test_session_flags_args(void **state)
{
    (void)state;
    CK_FLAGS fl = 0;
    RV(f->C_GetSessionValidationFlags(S, CKS_LAST_VALIDATION_OK, NULL), CKR_ARGUMENTS_BAD);
    RV(f->C_GetSessionValidationFlags(S, 0, &fl), CKR_ARGUMENTS_BAD);
    RV(f->C_GetSessionValidationFlags(S, 2, &fl), CKR_ARGUMENTS_BAD);
    RV(f->C_GetSessionValidationFlags(S + 1000, CKS_LAST_VALIDATION_OK, &fl),
       CKR_SESSION_HANDLE_INVALID);
    OK(f->C_GetSessionValidationFlags(S, CKS_LAST_VALIDATION_OK, &fl));
    EQ(fl, 0);
    OK(f->C_Finalize(NULL)); /* teardown's C_Finalize then just fails */
    RV(f->C_GetSessionValidationFlags(S, CKS_LAST_VALIDATION_OK, &fl),
       CKR_CRYPTOKI_NOT_INITIALIZED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_fips, setup_fips, teardown),
        cmocka_unit_test_setup_teardown(test_list_open, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_refused_fips, setup_fips, teardown),
        cmocka_unit_test_setup_teardown(test_allowed_open, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_old_keys, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_approved_work, setup_fips, teardown),
        cmocka_unit_test_setup_teardown(test_object_flags, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_session_flags, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_session_flags_args, setup_open, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
