/*
 * The mechanism layer through the real ABI (dlopen of the built module, the
 * 3.2 function list): the mechanism list and info under three
 * configurations, the digest operation's life cycle (5.2 rules, saved
 * state), C_SeedRandom, the key usage and policy checks of the Init
 * functions, the dual-function updates and signing from several threads at
 * once.  The end-to-end checks of each family are in test_mech_keys.c.
 * OpenSSL (linked into the test) computes the expected values.
 */
#include <pthread.h>
#include <time.h>

#include <openssl/evp.h>

#include "mech_util.h"

#define CFG_DEFAULT ABI_FAST_CONFIG
#define CFG_WEAK    ABI_FAST_CONFIG "[algorithms]\nallow_weak_rsa = true\n"
#define CFG_FIPS    ABI_FAST_CONFIG "[algorithms]\nfips_approved_only = true\n"

static CK_OBJECT_CLASS c_pub = CKO_PUBLIC_KEY, c_priv = CKO_PRIVATE_KEY;
static CK_KEY_TYPE k_ec = CKK_EC;

static const CK_BYTE AES_KEY[32] = {
    0x8f, 0x3a, 0xc1, 0x5e, 0x27, 0x9b, 0xd4, 0x60, 0x11, 0xee, 0x7c, 0x42, 0xa9, 0x05, 0xb3, 0x6d,
    0xf8, 0x24, 0x91, 0xcb, 0x3e, 0x57, 0x0a, 0xd6, 0x7b, 0x88, 0xe3, 0x19, 0x4c, 0xa0, 0x65, 0xbf};
static const CK_BYTE HMAC_KEY[] = "a generic secret for HMAC-SHA256";
static const CK_BYTE IV16[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* RFC 6979 A.2.5: a P-256 key pair. */
static const CK_BYTE EC_D[32] = {0xc9, 0xaf, 0xa9, 0xd8, 0x45, 0xba, 0x75, 0x16, 0x6b, 0x5c, 0x21,
                                 0x57, 0x67, 0xb1, 0xd6, 0x93, 0x4e, 0x50, 0xc3, 0xdb, 0x36, 0xe8,
                                 0x9b, 0x12, 0x7b, 0x8a, 0x62, 0x2b, 0x12, 0x0f, 0x67, 0x21};
/* CKA_EC_POINT: the DER OCTET STRING of 04 || X || Y. */
static const CK_BYTE EC_POINT_DER[67] = {
    0x04, 0x41, 0x04, 0x60, 0xfe, 0xd4, 0xba, 0x25, 0x5a, 0x9d, 0x31, 0xc9, 0x61, 0xeb,
    0x74, 0xc6, 0x35, 0x6d, 0x68, 0xc0, 0x49, 0xb8, 0x92, 0x3b, 0x61, 0xfa, 0x6c, 0xe6,
    0x69, 0x62, 0x2e, 0x60, 0xf2, 0x9f, 0xb6, 0x79, 0x03, 0xfe, 0x10, 0x08, 0xb8, 0xbc,
    0x99, 0xa4, 0x1a, 0xe9, 0xe9, 0x56, 0x28, 0xbc, 0x64, 0xf2, 0xf1, 0xb2, 0x0c, 0x2d,
    0x7e, 0x9f, 0x51, 0x77, 0xa3, 0xc2, 0x94, 0xd4, 0x46, 0x22, 0x99};
static const CK_BYTE P256_OID[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

/* SHA-256("abc"), FIPS 180-2 B.1. */
static const CK_BYTE SHA256_ABC[32] = {
    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
    0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};

/* ---- fixture ------------------------------------------------------------ */

/* A store whose token has a user PIN, made once (group_setup) and copied by
 * every test (setup_cfg). */
MECH_FIXTURE(CFG_DEFAULT, "Mechanisms ABI                  ")

MECH_SETUP(setup, CFG_DEFAULT)
MECH_SETUP(setup_weak, CFG_WEAK)
MECH_SETUP(setup_fips, CFG_FIPS)

static void boot(void)
{
    OK(f->C_Initialize(NULL));
}

/* A R/W session on slot 0, the user logged in when login. */
static CK_SESSION_HANDLE open_s(bool login)
{
    return mech_session(f, login);
}

/* ---- objects and OpenSSL ------------------------------------------------ */

/* A session secret key of type kt with value v and extra attributes. */
static CK_OBJECT_HANDLE secret(CK_SESSION_HANDLE s, CK_KEY_TYPE kt, const void *v, CK_ULONG n,
                               const CK_ATTRIBUTE *extra, CK_ULONG nextra)
{
    return mech_secret(f, s, kt, v, n, extra, nextra);
}

/* The RFC 6979 P-256 key pair as session objects (the private half
 * CKA_PRIVATE). */
static void ec_pair(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
    CK_ATTRIBUTE tpub[] = {A_VAR(CKA_CLASS, c_pub),
                           A_VAR(CKA_KEY_TYPE, k_ec),
                           A_BOOL(CKA_TOKEN, false),
                           A_BOOL(CKA_VERIFY, true),
                           A_BUF(CKA_EC_PARAMS, P256_OID, sizeof(P256_OID)),
                           A_BUF(CKA_EC_POINT, EC_POINT_DER, sizeof(EC_POINT_DER))};
    CK_ATTRIBUTE tpriv[] = {A_VAR(CKA_CLASS, c_priv),
                            A_VAR(CKA_KEY_TYPE, k_ec),
                            A_BOOL(CKA_TOKEN, false),
                            A_BOOL(CKA_PRIVATE, true),
                            A_BOOL(CKA_SIGN, true),
                            A_BUF(CKA_EC_PARAMS, P256_OID, sizeof(P256_OID)),
                            A_BUF(CKA_VALUE, EC_D, sizeof(EC_D))};
    OK(f->C_CreateObject(s, tpub, N(tpub), pub));
    OK(f->C_CreateObject(s, tpriv, N(tpriv), priv));
}

/* OpenSSL's digest name of data; its length. */
static size_t ossl_digest(const char *name, const void *data, size_t n, unsigned char *out)
{
    EVP_MD *md = EVP_MD_fetch(NULL, name, NULL);
    unsigned int len = 0;
    assert_non_null(md);
    EQ(EVP_Digest(data, n, out, &len, md, NULL), 1);
    EVP_MD_free(md);
    return len;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 31u + seed * 7u + (i >> 8));
}

/* ---- 1. mechanism list and info ------------------------------------------ */

/* The slot's mechanism list (malloc'ed), by the two-call idiom. */
static CK_MECHANISM_TYPE *mech_list(CK_ULONG *n)
{
    CK_ULONG count = 0, small;
    OK(f->C_GetMechanismList(0, NULL, &count));
    assert_true(count > 1);
    CK_MECHANISM_TYPE *list = calloc(count, sizeof(*list));
    assert_non_null(list);
    small = count - 1;
    RV(f->C_GetMechanismList(0, list, &small), CKR_BUFFER_TOO_SMALL);
    EQ(small, count);
    *n = count;
    OK(f->C_GetMechanismList(0, list, n));
    EQ(*n, count);
    return list;
}

static void test_mech_list_info(void **state)
{
    (void)state;
    // clang-format off
    static const CK_MECHANISM_TYPE required[] = {
        CKM_SHA256, CKM_SHA3_256, CKM_SHA256_HMAC, CKM_AES_CMAC, CKM_AES_GCM,
        CKM_AES_KEY_WRAP_KWP, CKM_RSA_PKCS_PSS, CKM_RSA_PKCS_OAEP, CKM_ECDSA_SHA256, CKM_EDDSA,
        CKM_ECDH1_DERIVE, CKM_EC_EDWARDS_KEY_PAIR_GEN, CKM_EC_MONTGOMERY_KEY_PAIR_GEN,
        CKM_HKDF_DERIVE, CKM_SP800_108_COUNTER_KDF, CKM_PKCS5_PBKD2};
    // clang-format on
    CK_MECHANISM_INFO info;
    CK_ULONG n = 0;
    boot();
    RV(f->C_GetMechanismList(0, NULL, NULL), CKR_ARGUMENTS_BAD);
    RV(f->C_GetMechanismList(42, NULL, &n), CKR_SLOT_ID_INVALID);
    CK_MECHANISM_TYPE *list = mech_list(&n);
    for (CK_ULONG i = 0; i < n; i++) {
        memset(&info, 0, sizeof(info));
        CK_RV rv = f->C_GetMechanismInfo(0, list[i], &info);
        if (rv != CKR_OK || info.flags == 0)
            fail_msg("listed mechanism 0x%lx: C_GetMechanismInfo 0x%lx, flags 0x%lx", list[i], rv,
                     info.flags);
        for (CK_ULONG j = 0; j < i; j++)
            if (list[j] == list[i])
                fail_msg("mechanism 0x%lx listed twice", list[i]);
    }
    for (size_t i = 0; i < N(required); i++)
        if (!mech_in_list(list, n, required[i]))
            fail_msg("mechanism 0x%lx not listed", required[i]);
    free(list);
    RV(f->C_GetMechanismInfo(0, CKM_DES_ECB, &info), CKR_MECHANISM_INVALID);
    RV(f->C_GetMechanismInfo(0, CKM_MD5, &info), CKR_MECHANISM_INVALID);
    RV(f->C_GetMechanismInfo(0, CKM_VENDOR_DEFINED | 0x7777, &info), CKR_MECHANISM_INVALID);
    RV(f->C_GetMechanismInfo(0, CKM_SHA256, NULL), CKR_ARGUMENTS_BAD);
    RV(f->C_GetMechanismInfo(42, CKM_SHA256, &info), CKR_SLOT_ID_INVALID);
    /* RSA: 2048 bits at least by default. */
    static const CK_MECHANISM_TYPE rsa[] = {CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_RSA_PKCS,
                                            CKM_RSA_PKCS_OAEP, CKM_SHA256_RSA_PKCS_PSS};
    for (size_t i = 0; i < N(rsa); i++) {
        info = mech_info(f, rsa[i]);
        EQ(info.ulMinKeySize, 2048);
        assert_true(info.ulMaxKeySize >= 4096);
    }
    /* AES: bytes. */
    static const CK_MECHANISM_TYPE aes[] = {CKM_AES_CBC, CKM_AES_GCM, CKM_AES_KEY_GEN,
                                            CKM_AES_KEY_WRAP, CKM_AES_CMAC};
    for (size_t i = 0; i < N(aes); i++) {
        info = mech_info(f, aes[i]);
        EQ(info.ulMinKeySize, 16);
        EQ(info.ulMaxKeySize, 32);
    }
    info = mech_info(f, CKM_AES_CBC);
    assert_true((info.flags & (CKF_ENCRYPT | CKF_DECRYPT)) == (CKF_ENCRYPT | CKF_DECRYPT));
    assert_false(info.flags & CKF_SIGN);
    info = mech_info(f, CKM_SHA256);
    assert_true(info.flags & CKF_DIGEST);
    /* SHA-1 signatures: verification only (allow_sha1_signing = false). */
    info = mech_info(f, CKM_SHA1_RSA_PKCS);
    assert_false(info.flags & CKF_SIGN);
    assert_true(info.flags & CKF_VERIFY);
    info = mech_info(f, CKM_ECDSA_SHA1);
    assert_false(info.flags & CKF_SIGN);
    assert_true(info.flags & CKF_VERIFY);
    info = mech_info(f, CKM_ECDSA);
    assert_true((info.flags & (CKF_SIGN | CKF_VERIFY | CKF_EC_OID)) ==
                (CKF_SIGN | CKF_VERIFY | CKF_EC_OID));
    info = mech_info(f, CKM_EC_KEY_PAIR_GEN);
    assert_true(info.flags & CKF_GENERATE_KEY_PAIR);
    info = mech_info(f, CKM_ECDH1_DERIVE);
    assert_true(info.flags & CKF_DERIVE);
    info = mech_info(f, CKM_PKCS5_PBKD2);
    assert_true(info.flags & CKF_GENERATE);
    info = mech_info(f, CKM_AES_GCM);
    assert_true(info.flags & CKF_MESSAGE_ENCRYPT);
}

static void test_mech_info_weak_rsa(void **state)
{
    (void)state;
    boot();
    static const CK_MECHANISM_TYPE rsa[] = {CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_RSA_PKCS,
                                            CKM_RSA_PKCS_OAEP, CKM_SHA256_RSA_PKCS};
    for (size_t i = 0; i < N(rsa); i++)
        EQ(mech_info(f, rsa[i]).ulMinKeySize, 1024);
    /* Other policy is unchanged. */
    assert_false(mech_info(f, CKM_SHA1_RSA_PKCS).flags & CKF_SIGN);
    EQ(mech_info(f, CKM_AES_CBC).ulMinKeySize, 16);
}

static void test_mech_list_fips(void **state)
{
    (void)state;
    static const CK_MECHANISM_TYPE absent[] = {CKM_DES3_CBC,  CKM_DES3_KEY_GEN,
                                               CKM_DES3_ECB,  CKM_XOR_BASE_AND_DATA,
                                               CKM_RSA_X_509, CKM_EC_MONTGOMERY_KEY_PAIR_GEN};
    static const CK_MECHANISM_TYPE present[] = {CKM_AES_GCM, CKM_SHA256, CKM_RSA_PKCS_PSS,
                                                CKM_ECDSA_SHA256, CKM_HKDF_DERIVE};
    CK_MECHANISM_INFO info;
    CK_ULONG n = 0;
    boot();
    CK_MECHANISM_TYPE *list = mech_list(&n);
    for (size_t i = 0; i < N(absent); i++) {
        if (mech_in_list(list, n, absent[i]))
            fail_msg("mechanism 0x%lx listed in approved-only mode", absent[i]);
        RV(f->C_GetMechanismInfo(0, absent[i], &info), CKR_MECHANISM_INVALID);
    }
    for (size_t i = 0; i < N(present); i++)
        if (!mech_in_list(list, n, present[i]))
            fail_msg("mechanism 0x%lx not listed in approved-only mode", present[i]);
    free(list);
    /* Not usable either. */
    CK_SESSION_HANDLE s = open_s(false);
    CK_MECHANISM des3 = MECH0(CKM_DES3_KEY_GEN), sha256 = MECH0(CKM_SHA256);
    CK_OBJECT_HANDLE h;
    RV(f->C_GenerateKey(s, &des3, NULL, 0, &h), CKR_MECHANISM_INVALID);
    OK(f->C_DigestInit(s, &sha256));
}

/* ---- 2. digests ---------------------------------------------------------- */

static void test_digest_single_part(void **state)
{
    (void)state;
    CK_MECHANISM m = MECH0(CKM_SHA256);
    CK_BYTE abc[] = "abc", out[64];
    CK_ULONG len;
    boot();
    CK_SESSION_HANDLE s = open_s(false);
    RV(f->C_Digest(s, abc, 3, out, &len), CKR_OPERATION_NOT_INITIALIZED);
    OK(f->C_DigestInit(s, &m));
    len = 0;
    OK(f->C_Digest(s, abc, 3, NULL, &len)); /* size query: the operation stays */
    EQ(len, 32);
    len = 31;
    RV(f->C_Digest(s, abc, 3, out, &len), CKR_BUFFER_TOO_SMALL); /* stays too */
    EQ(len, 32);
    len = sizeof(out);
    OK(f->C_Digest(s, abc, 3, out, &len));
    EQ(len, 32);
    assert_memory_equal(out, SHA256_ABC, 32);
    len = sizeof(out);
    RV(f->C_Digest(s, abc, 3, out, &len), CKR_OPERATION_NOT_INITIALIZED); /* ended */
    /* Multi-part: the same; Final's size query keeps it going. */
    OK(f->C_DigestInit(s, &m));
    OK(f->C_DigestUpdate(s, abc, 1));
    OK(f->C_DigestUpdate(s, NULL, 0));
    OK(f->C_DigestUpdate(s, abc + 1, 2));
    len = 0;
    OK(f->C_DigestFinal(s, NULL, &len));
    EQ(len, 32);
    len = 8;
    RV(f->C_DigestFinal(s, out, &len), CKR_BUFFER_TOO_SMALL);
    EQ(len, 32);
    OK(f->C_DigestFinal(s, out, &len));
    assert_memory_equal(out, SHA256_ABC, 32);
    RV(f->C_DigestFinal(s, out, &len), CKR_OPERATION_NOT_INITIALIZED);
    /* NULL length pointers end the operation with CKR_ARGUMENTS_BAD. */
    OK(f->C_DigestInit(s, &m));
    RV(f->C_Digest(s, abc, 3, out, NULL), CKR_ARGUMENTS_BAD);
    len = sizeof(out);
    RV(f->C_Digest(s, abc, 3, out, &len), CKR_OPERATION_NOT_INITIALIZED);
    OK(f->C_DigestInit(s, &m));
    OK(f->C_DigestUpdate(s, abc, 3));
    RV(f->C_DigestFinal(s, out, NULL), CKR_ARGUMENTS_BAD);
    RV(f->C_DigestUpdate(s, abc, 3), CKR_OPERATION_NOT_INITIALIZED);
    /* NULL data with a length. */
    OK(f->C_DigestInit(s, &m));
    RV(f->C_DigestUpdate(s, NULL, 3), CKR_ARGUMENTS_BAD);
    /* A parameter on a digest mechanism. */
    CK_ULONG p = 0;
    CK_MECHANISM withp = MECH(CKM_SHA256, &p);
    RV(f->C_DigestInit(s, &withp), CKR_MECHANISM_PARAM_INVALID);
    CK_MECHANISM nullp = {CKM_SHA256, NULL, 4};
    RV(f->C_DigestInit(s, &nullp), CKR_MECHANISM_PARAM_INVALID);
    CK_MECHANISM notdigest = MECH0(CKM_AES_ECB);
    RV(f->C_DigestInit(s, &notdigest), CKR_MECHANISM_INVALID);
    RV(f->C_DigestInit(s, NULL), CKR_OK); /* nothing active: a no-op cancel */
    OK(f->C_DigestInit(s, &m));
}

/* The OpenSSL name of every digest mechanism the module may list. */
static const struct {
    CK_MECHANISM_TYPE m;
    const char *name;
} digests[] = {
    {CKM_SHA_1, "SHA1"},
    {CKM_SHA224, "SHA2-224"},
    {CKM_SHA256, "SHA2-256"},
    {CKM_SHA384, "SHA2-384"},
    {CKM_SHA512, "SHA2-512"},
    {CKM_SHA512_224, "SHA2-512/224"},
    {CKM_SHA512_256, "SHA2-512/256"},
    {CKM_SHA3_224, "SHA3-224"},
    {CKM_SHA3_256, "SHA3-256"},
    {CKM_SHA3_384, "SHA3-384"},
    {CKM_SHA3_512, "SHA3-512"},
};

static void test_digest_all_mechanisms(void **state)
{
    (void)state;
    static const size_t parts[] = {1, 63, 64, 65, 0, 200, 7};
    unsigned char data[1024], want[64], one[64], multi[64];
    CK_ULONG n = 0, len, checked = 0;
    boot();
    CK_SESSION_HANDLE s = open_s(false);
    CK_MECHANISM_TYPE *list = mech_list(&n);
    fill(data, sizeof(data), 1);
    for (CK_ULONG i = 0; i < n; i++) {
        if (!(mech_info(f, list[i]).flags & CKF_DIGEST))
            continue;
        const char *name = NULL;
        for (size_t j = 0; j < N(digests); j++)
            if (digests[j].m == list[i])
                name = digests[j].name;
        if (name == NULL)
            fail_msg("digest mechanism 0x%lx has no OpenSSL counterpart here", list[i]);
        size_t wlen = ossl_digest(name, data, sizeof(data), want);
        CK_MECHANISM m = MECH0(list[i]);
        OK(f->C_DigestInit(s, &m));
        len = sizeof(one);
        OK(f->C_Digest(s, data, sizeof(data), one, &len));
        EQ(len, wlen);
        if (memcmp(one, want, wlen) != 0)
            fail_msg("%s: C_Digest differs from OpenSSL", name);
        OK(f->C_DigestInit(s, &m));
        size_t off = 0;
        for (size_t k = 0; k < N(parts); k++) {
            OK(f->C_DigestUpdate(s, data + off, (CK_ULONG)parts[k]));
            off += parts[k];
        }
        OK(f->C_DigestUpdate(s, data + off, (CK_ULONG)(sizeof(data) - off)));
        len = sizeof(multi);
        OK(f->C_DigestFinal(s, multi, &len));
        EQ(len, wlen);
        if (memcmp(multi, want, wlen) != 0)
            fail_msg("%s: multi-part digest differs from OpenSSL", name);
        /* The empty message. */
        OK(f->C_DigestInit(s, &m));
        len = sizeof(one);
        OK(f->C_Digest(s, NULL, 0, one, &len));
        ossl_digest(name, "", 0, want);
        if (memcmp(one, want, wlen) != 0)
            fail_msg("%s: digest of the empty message differs from OpenSSL", name);
        checked++;
    }
    free(list);
    assert_true(checked >= 11); /* SHA-1, SHA-2 (6), SHA-3 (4) */
}

static void test_digest_active_and_cancel(void **state)
{
    (void)state;
    CK_MECHANISM m = MECH0(CKM_SHA256), m384 = MECH0(CKM_SHA384);
    CK_BYTE abc[] = "abc", out[64];
    CK_ULONG len = sizeof(out);
    boot();
    CK_SESSION_HANDLE s = open_s(false), s2 = open_s(false);
    /* Single-part after Update: refused, the multi-part one goes on. */
    OK(f->C_DigestInit(s, &m));
    OK(f->C_DigestUpdate(s, abc, 2));
    RV(f->C_Digest(s, abc, 3, out, &len), CKR_OPERATION_ACTIVE);
    len = 0;
    RV(f->C_Digest(s, abc, 3, NULL, &len), CKR_OPERATION_ACTIVE);
    OK(f->C_DigestUpdate(s, abc + 2, 1));
    len = sizeof(out);
    OK(f->C_DigestFinal(s, out, &len));
    assert_memory_equal(out, SHA256_ABC, 32);
    /* Init while active: refused, the first one goes on. */
    OK(f->C_DigestInit(s, &m));
    OK(f->C_DigestUpdate(s, abc, 1));
    RV(f->C_DigestInit(s, &m384), CKR_OPERATION_ACTIVE);
    RV(f->C_DigestInit(s, &m), CKR_OPERATION_ACTIVE);
    OK(f->C_DigestUpdate(s, abc + 1, 2));
    len = sizeof(out);
    OK(f->C_DigestFinal(s, out, &len));
    EQ(len, 32);
    assert_memory_equal(out, SHA256_ABC, 32);
    /* Another session's operation is its own. */
    OK(f->C_DigestInit(s, &m));
    OK(f->C_DigestInit(s2, &m384));
    OK(f->C_DigestUpdate(s2, abc, 3));
    len = sizeof(out);
    OK(f->C_Digest(s, abc, 3, out, &len));
    assert_memory_equal(out, SHA256_ABC, 32);
    len = sizeof(out);
    OK(f->C_DigestFinal(s2, out, &len));
    EQ(len, 48);
    /* C_DigestInit(NULL) cancels. */
    OK(f->C_DigestInit(s, &m));
    OK(f->C_DigestUpdate(s, abc, 1));
    OK(f->C_DigestInit(s, NULL));
    RV(f->C_DigestUpdate(s, abc, 1), CKR_OPERATION_NOT_INITIALIZED);
    len = sizeof(out);
    RV(f->C_DigestFinal(s, out, &len), CKR_OPERATION_NOT_INITIALIZED);
    OK(f->C_DigestInit(s, &m)); /* a new one can start */
    len = sizeof(out);
    OK(f->C_Digest(s, abc, 3, out, &len));
    assert_memory_equal(out, SHA256_ABC, 32);
    /* C_SessionCancel(CKF_DIGEST) too; other flags leave it alone. */
    OK(f->C_DigestInit(s, &m));
    OK(f->C_DigestUpdate(s, abc, 1));
    OK(f->C_SessionCancel(s, CKF_ENCRYPT | CKF_SIGN));
    OK(f->C_DigestUpdate(s, abc + 1, 1));
    OK(f->C_SessionCancel(s, CKF_DIGEST));
    RV(f->C_DigestUpdate(s, abc, 1), CKR_OPERATION_NOT_INITIALIZED);
    OK(f->C_DigestInit(s, &m));
    RV(f->C_SessionCancel(CK_INVALID_HANDLE, CKF_DIGEST), CKR_SESSION_HANDLE_INVALID);
    /* Closing the session frees what it had going. */
    OK(f->C_DigestUpdate(s, abc, 1));
    OK(f->C_CloseSession(s));
    RV(f->C_DigestUpdate(s, abc, 1), CKR_SESSION_HANDLE_INVALID);
}

static void test_digest_key(void **state)
{
    (void)state;
    CK_MECHANISM m = MECH0(CKM_SHA256);
    CK_BYTE out[64], want[64], buf[64];
    CK_ULONG len = sizeof(out);
    CK_OBJECT_HANDLE pub, priv;
    boot();
    CK_SESSION_HANDLE s = open_s(true);
    CK_OBJECT_HANDLE k = secret(s, CKK_AES, AES_KEY, 32, NULL, 0); /* sensitive */
    ec_pair(s, &pub, &priv);
    RV(f->C_DigestKey(s, k), CKR_OPERATION_NOT_INITIALIZED);
    OK(f->C_DigestInit(s, &m));
    OK(f->C_DigestKey(s, k));
    OK(f->C_DigestFinal(s, out, &len));
    ossl_digest("SHA2-256", AES_KEY, 32, want);
    assert_memory_equal(out, want, 32);
    /* Mixed with data: prefix || key || suffix. */
    OK(f->C_DigestInit(s, &m));
    OK(f->C_DigestUpdate(s, (CK_BYTE_PTR) "pre", 3));
    OK(f->C_DigestKey(s, k));
    OK(f->C_DigestUpdate(s, (CK_BYTE_PTR) "post", 4));
    len = sizeof(out);
    OK(f->C_DigestFinal(s, out, &len));
    memcpy(buf, "pre", 3);
    memcpy(buf + 3, AES_KEY, 32);
    memcpy(buf + 35, "post", 4);
    ossl_digest("SHA2-256", buf, 39, want);
    assert_memory_equal(out, want, 32);
    /* Not a secret key: indigestible, and the operation ends. */
    OK(f->C_DigestInit(s, &m));
    RV(f->C_DigestKey(s, pub), CKR_KEY_INDIGESTIBLE);
    RV(f->C_DigestUpdate(s, out, 1), CKR_OPERATION_NOT_INITIALIZED);
    OK(f->C_DigestInit(s, &m));
    RV(f->C_DigestKey(s, priv), CKR_KEY_INDIGESTIBLE);
    OK(f->C_DigestInit(s, &m));
    RV(f->C_DigestKey(s, (CK_OBJECT_HANDLE)0x7ffffff1UL), CKR_KEY_HANDLE_INVALID);
}

static void test_digest_state(void **state)
{
    (void)state;
    CK_MECHANISM m = MECH0(CKM_SHA256), hmac = MECH0(CKM_SHA256_HMAC);
    unsigned char data[300], want[32], out[64], st[512], bad[512];
    CK_ULONG len, stlen;
    boot();
    CK_SESSION_HANDLE s = open_s(true), s2 = open_s(false), s3 = open_s(false);
    fill(data, sizeof(data), 2);
    ossl_digest("SHA2-256", data, sizeof(data), want);
    stlen = sizeof(st);
    RV(f->C_GetOperationState(s, st, &stlen), CKR_OPERATION_NOT_INITIALIZED);
    RV(f->C_GetOperationState(s, st, NULL), CKR_ARGUMENTS_BAD);
    OK(f->C_DigestInit(s, &m));
    OK(f->C_DigestUpdate(s, data, 100));
    stlen = 0;
    OK(f->C_GetOperationState(s, NULL, &stlen));
    assert_true(stlen > 0 && stlen <= sizeof(st));
    CK_ULONG need = stlen;
    if (need > 1) {
        stlen = 1;
        RV(f->C_GetOperationState(s, st, &stlen), CKR_BUFFER_TOO_SMALL);
        EQ(stlen, need);
    }
    stlen = sizeof(st);
    OK(f->C_GetOperationState(s, st, &stlen));
    /* Continued in another session: the same digest as uninterrupted. */
    OK(f->C_SetOperationState(s2, st, stlen, CK_INVALID_HANDLE, CK_INVALID_HANDLE));
    OK(f->C_DigestUpdate(s2, data + 100, sizeof(data) - 100));
    len = sizeof(out);
    OK(f->C_DigestFinal(s2, out, &len));
    EQ(len, 32);
    assert_memory_equal(out, want, 32);
    /* The original goes on too. */
    OK(f->C_DigestUpdate(s, data + 100, sizeof(data) - 100));
    len = sizeof(out);
    OK(f->C_DigestFinal(s, out, &len));
    assert_memory_equal(out, want, 32);
    /* The state replaces an active digest and can be restored twice. */
    CK_MECHANISM m512 = MECH0(CKM_SHA512);
    OK(f->C_DigestInit(s3, &m512));
    OK(f->C_SetOperationState(s3, st, stlen, CK_INVALID_HANDLE, CK_INVALID_HANDLE));
    OK(f->C_DigestUpdate(s3, data + 100, sizeof(data) - 100));
    len = sizeof(out);
    OK(f->C_DigestFinal(s3, out, &len));
    EQ(len, 32);
    assert_memory_equal(out, want, 32);
    /* Corrupted, truncated, keys given. */
    for (CK_ULONG i = 0; i < stlen; i++) {
        memcpy(bad, st, stlen);
        bad[i] ^= 0x40;
        CK_RV rv = f->C_SetOperationState(s2, bad, stlen, CK_INVALID_HANDLE, CK_INVALID_HANDLE);
        if (rv != CKR_SAVED_STATE_INVALID)
            fail_msg("state with byte %lu changed: 0x%lx, want CKR_SAVED_STATE_INVALID", i, rv);
    }
    RV(f->C_SetOperationState(s2, st, stlen - 1, CK_INVALID_HANDLE, CK_INVALID_HANDLE),
       CKR_SAVED_STATE_INVALID);
    RV(f->C_SetOperationState(s2, NULL, stlen, CK_INVALID_HANDLE, CK_INVALID_HANDLE),
       CKR_ARGUMENTS_BAD);
    RV(f->C_SetOperationState(s2, st, stlen, (CK_OBJECT_HANDLE)5, CK_INVALID_HANDLE),
       CKR_KEY_NOT_NEEDED);
    /* A keyed operation active as well: unsaveable. */
    CK_ATTRIBUTE sign[] = {A_BOOL(CKA_SIGN, true)};
    CK_OBJECT_HANDLE k = secret(s, CKK_GENERIC_SECRET, HMAC_KEY, LEN(HMAC_KEY), sign, 1);
    OK(f->C_DigestInit(s, &m));
    OK(f->C_DigestUpdate(s, data, 10));
    OK(f->C_SignInit(s, &hmac, k));
    stlen = sizeof(st);
    RV(f->C_GetOperationState(s, st, &stlen), CKR_STATE_UNSAVEABLE);
    OK(f->C_SignInit(s, NULL, CK_INVALID_HANDLE)); /* cancel the signing */
    stlen = sizeof(st);
    OK(f->C_GetOperationState(s, st, &stlen));
}

/* ---- 3. random numbers --------------------------------------------------- */

static void test_seed_random(void **state)
{
    (void)state;
    CK_BYTE seed[48], a[32], b[32];
    boot();
    CK_SESSION_HANDLE s = open_s(false);
    fill(seed, sizeof(seed), 3);
    OK(f->C_SeedRandom(s, seed, sizeof(seed)));
    OK(f->C_SeedRandom(s, seed, 0));
    RV(f->C_SeedRandom(s, NULL, 16), CKR_ARGUMENTS_BAD);
    RV(f->C_SeedRandom(CK_INVALID_HANDLE, seed, sizeof(seed)), CKR_SESSION_HANDLE_INVALID);
    OK(f->C_GenerateRandom(s, a, sizeof(a)));
    OK(f->C_SeedRandom(s, seed, sizeof(seed))); /* the same seed again */
    OK(f->C_GenerateRandom(s, b, sizeof(b)));
    assert_memory_not_equal(a, b, sizeof(a));
    RV(f->C_GenerateRandom(s, NULL, 8), CKR_ARGUMENTS_BAD);
    OK(f->C_GenerateRandom(s, a, 0));
}

/* ---- 4. key usage and policy --------------------------------------------- */

/* A CK_DATE of year y (month, day: 1 January). */
static CK_DATE date_of(int y)
{
    CK_DATE d;
    char buf[16];
    snprintf(buf, sizeof(buf), "%04d0101", y);
    memcpy(d.year, buf, 4);
    memcpy(d.month, buf + 4, 2);
    memcpy(d.day, buf + 6, 2);
    return d;
}

static int this_year(void)
{
    time_t now = time(NULL);
    struct tm tm;
    assert_non_null(gmtime_r(&now, &tm));
    return tm.tm_year + 1900;
}

static void test_key_usage_policy(void **state)
{
    (void)state;
    CK_MECHANISM hmac = MECH0(CKM_SHA256_HMAC), ecb = MECH0(CKM_AES_ECB),
                 cbc = MECH(CKM_AES_CBC, &IV16), gcm = MECH0(CKM_AES_GCM);
    CK_DATE past = date_of(this_year() - 2), future = date_of(this_year() + 2),
            long_ago = date_of(this_year() - 5);
    CK_MECHANISM_TYPE only_cbc[] = {CKM_AES_CBC};
    CK_BYTE iv15[15] = {0}, out[64];
    CK_ULONG len = sizeof(out);
    boot();
    CK_SESSION_HANDLE s = open_s(true);
    CK_ATTRIBUTE sign_no[] = {A_BOOL(CKA_SIGN, false), A_BOOL(CKA_VERIFY, false),
                              A_BOOL(CKA_ENCRYPT, true)};
    CK_ATTRIBUTE sign_yes[] = {A_BOOL(CKA_SIGN, true), A_BOOL(CKA_ENCRYPT, true)};
    CK_ATTRIBUTE allowed[] = {A_BOOL(CKA_ENCRYPT, true),
                              A_BUF(CKA_ALLOWED_MECHANISMS, only_cbc, sizeof(only_cbc))};
    CK_ATTRIBUTE expired[] = {A_BOOL(CKA_SIGN, true), A_BOOL(CKA_ENCRYPT, true),
                              A_VAR(CKA_START_DATE, long_ago), A_VAR(CKA_END_DATE, past)};
    CK_ATTRIBUTE not_yet[] = {A_BOOL(CKA_SIGN, true), A_BOOL(CKA_ENCRYPT, true),
                              A_VAR(CKA_START_DATE, future)};
    CK_ATTRIBUTE in_range[] = {A_BOOL(CKA_SIGN, true), A_VAR(CKA_START_DATE, past),
                               A_VAR(CKA_END_DATE, future)};
    CK_OBJECT_HANDLE g_nosign = secret(s, CKK_GENERIC_SECRET, HMAC_KEY, LEN(HMAC_KEY), sign_no, 3);
    CK_OBJECT_HANDLE g_sign = secret(s, CKK_GENERIC_SECRET, HMAC_KEY, LEN(HMAC_KEY), sign_yes, 2);
    CK_OBJECT_HANDLE a_sign = secret(s, CKK_AES, AES_KEY, 32, sign_yes, 2);
    CK_OBJECT_HANDLE a_cbc = secret(s, CKK_AES, AES_KEY, 32, allowed, 2);
    CK_OBJECT_HANDLE a_old = secret(s, CKK_AES, AES_KEY, 32, expired, 4);
    CK_OBJECT_HANDLE g_old = secret(s, CKK_GENERIC_SECRET, HMAC_KEY, LEN(HMAC_KEY), expired, 4);
    CK_OBJECT_HANDLE a_new = secret(s, CKK_AES, AES_KEY, 32, not_yet, 3);
    CK_OBJECT_HANDLE g_ok = secret(s, CKK_GENERIC_SECRET, HMAC_KEY, LEN(HMAC_KEY), in_range, 3);

    /* Usage attribute. */
    RV(f->C_SignInit(s, &hmac, g_nosign), CKR_KEY_FUNCTION_NOT_PERMITTED);
    RV(f->C_VerifyInit(s, &hmac, g_nosign), CKR_KEY_FUNCTION_NOT_PERMITTED);
    OK(f->C_SignInit(s, &hmac, g_sign));
    OK(f->C_SignInit(s, NULL, CK_INVALID_HANDLE));
    RV(f->C_Sign(s, out, 1, out, &len), CKR_OPERATION_NOT_INITIALIZED);
    OK(f->C_SignInit(s, NULL, CK_INVALID_HANDLE)); /* nothing active: still CKR_OK */
    /* The key's usable form is cached after a use: changing the attribute
     * must still count at the next Init (and when it comes back). */
    CK_ATTRIBUTE sign_off[] = {A_BOOL(CKA_SIGN, false)}, sign_on[] = {A_BOOL(CKA_SIGN, true)};
    OK(f->C_SignInit(s, &hmac, g_sign));
    len = sizeof(out);
    OK(f->C_Sign(s, out, 1, out, &len));
    OK(f->C_SetAttributeValue(s, g_sign, sign_off, 1));
    RV(f->C_SignInit(s, &hmac, g_sign), CKR_KEY_FUNCTION_NOT_PERMITTED);
    OK(f->C_SetAttributeValue(s, g_sign, sign_on, 1));
    OK(f->C_SignInit(s, &hmac, g_sign));
    OK(f->C_SignInit(s, NULL, CK_INVALID_HANDLE));
    len = sizeof(out);
    /* Key type. */
    RV(f->C_SignInit(s, &hmac, a_sign), CKR_KEY_TYPE_INCONSISTENT);
    RV(f->C_EncryptInit(s, &cbc, g_sign), CKR_KEY_TYPE_INCONSISTENT);
    RV(f->C_EncryptInit(s, &ecb, g_sign), CKR_KEY_TYPE_INCONSISTENT);
    /* CKA_ALLOWED_MECHANISMS. */
    RV(f->C_EncryptInit(s, &ecb, a_cbc), CKR_MECHANISM_INVALID);
    OK(f->C_EncryptInit(s, &cbc, a_cbc));
    OK(f->C_EncryptInit(s, NULL, CK_INVALID_HANDLE));
    /* Dates. */
    RV(f->C_SignInit(s, &hmac, g_old), CKR_KEY_FUNCTION_NOT_PERMITTED);
    RV(f->C_EncryptInit(s, &cbc, a_old), CKR_KEY_FUNCTION_NOT_PERMITTED);
    RV(f->C_EncryptInit(s, &cbc, a_new), CKR_KEY_FUNCTION_NOT_PERMITTED);
    OK(f->C_SignInit(s, &hmac, g_ok));
    OK(f->C_SignInit(s, NULL, CK_INVALID_HANDLE));
    /* Handles. */
    RV(f->C_SignInit(s, &hmac, (CK_OBJECT_HANDLE)0x7ffffff1UL), CKR_KEY_HANDLE_INVALID);
    RV(f->C_EncryptInit(s, &cbc, CK_INVALID_HANDLE), CKR_KEY_HANDLE_INVALID);
    RV(f->C_SignInit(CK_INVALID_HANDLE, &hmac, g_sign), CKR_SESSION_HANDLE_INVALID);
    /* Parameters. */
    CK_MECHANISM nullp = {CKM_AES_CBC, NULL, 4};
    RV(f->C_EncryptInit(s, &nullp, a_sign), CKR_MECHANISM_PARAM_INVALID);
    CK_MECHANISM short_iv = {CKM_AES_CBC, iv15, sizeof(iv15)};
    RV(f->C_EncryptInit(s, &short_iv, a_sign), CKR_MECHANISM_PARAM_INVALID);
    CK_MECHANISM no_iv = MECH0(CKM_AES_CBC);
    RV(f->C_EncryptInit(s, &no_iv, a_sign), CKR_MECHANISM_PARAM_INVALID);
    CK_MECHANISM hmacp = {CKM_SHA256_HMAC, iv15, 4};
    RV(f->C_SignInit(s, &hmacp, g_sign), CKR_MECHANISM_PARAM_INVALID);
    /* A mechanism without that function; an unknown one. */
    RV(f->C_SignInit(s, &gcm, a_sign), CKR_MECHANISM_INVALID);
    CK_MECHANISM sha = MECH0(CKM_SHA256);
    RV(f->C_SignInit(s, &sha, g_sign), CKR_MECHANISM_INVALID);
    CK_MECHANISM des = {CKM_DES_ECB, NULL, 0};
    RV(f->C_EncryptInit(s, &des, a_sign), CKR_MECHANISM_INVALID);
    /* After a failed Init nothing is active: a good Init works. */
    OK(f->C_EncryptInit(s, &cbc, a_sign));
    RV(f->C_EncryptInit(s, &cbc, a_sign), CKR_OPERATION_ACTIVE);
    OK(f->C_SessionCancel(s, CKF_ENCRYPT));
    /* A private key after C_Logout is not there. */
    CK_OBJECT_HANDLE pub, priv;
    CK_MECHANISM ecdsa = MECH0(CKM_ECDSA_SHA256);
    ec_pair(s, &pub, &priv);
    OK(f->C_SignInit(s, &ecdsa, priv));
    OK(f->C_SignInit(s, NULL, CK_INVALID_HANDLE));
    RV(f->C_SignInit(s, &ecdsa, pub), CKR_KEY_FUNCTION_NOT_PERMITTED); /* no CKA_SIGN */
    OK(f->C_Logout(s));
    RV(f->C_SignInit(s, &ecdsa, priv), CKR_KEY_HANDLE_INVALID);
    RV(f->C_SignInit(s, &hmac, g_sign), CKR_KEY_HANDLE_INVALID); /* private secret key */
    OK(f->C_VerifyInit(s, &ecdsa, pub));                         /* a public key still works */
}

/* ---- 6. dual-function updates -------------------------------------------- */

static void test_dual_function(void **state)
{
    (void)state;
    static const size_t parts[] = {10, 37, 17, 0, 32}; /* 96 bytes */
    CK_MECHANISM cbc = MECH(CKM_AES_CBC, &IV16), sha = MECH0(CKM_SHA256);
    unsigned char pt[96], want_ct[128], want_md[32], ct[128], back[128], md[64];
    CK_ULONG len, off, used;
    boot();
    CK_SESSION_HANDLE s = open_s(true);
    CK_ATTRIBUTE use[] = {A_BOOL(CKA_ENCRYPT, true), A_BOOL(CKA_DECRYPT, true)};
    CK_OBJECT_HANDLE k = secret(s, CKK_AES, AES_KEY, 32, use, 2);
    fill(pt, sizeof(pt), 4);
    EQ(mech_ossl_cipher("AES-256-CBC", AES_KEY, IV16, false, 1, pt, sizeof(pt), want_ct), 96);
    ossl_digest("SHA2-256", pt, sizeof(pt), want_md);

    /* Both operations must be active. */
    OK(f->C_DigestInit(s, &sha));
    len = sizeof(ct);
    RV(f->C_DigestEncryptUpdate(s, pt, 16, ct, &len), CKR_OPERATION_NOT_INITIALIZED);
    OK(f->C_EncryptInit(s, &cbc, k));
    off = used = 0;
    for (size_t i = 0; i < N(parts); i++) {
        len = sizeof(ct) - used;
        OK(f->C_DigestEncryptUpdate(s, pt + off, (CK_ULONG)parts[i], ct + used, &len));
        off += parts[i];
        used += len;
    }
    EQ(off, sizeof(pt));
    len = sizeof(ct) - used;
    OK(f->C_EncryptFinal(s, ct + used, &len));
    used += len;
    EQ(used, 96);
    assert_memory_equal(ct, want_ct, 96);
    len = sizeof(md);
    OK(f->C_DigestFinal(s, md, &len));
    EQ(len, 32);
    assert_memory_equal(md, want_md, 32);

    /* Decrypt and digest the plaintext. */
    OK(f->C_DecryptInit(s, &cbc, k));
    OK(f->C_DigestInit(s, &sha));
    off = used = 0;
    for (size_t i = 0; i < N(parts); i++) {
        len = sizeof(back) - used;
        OK(f->C_DecryptDigestUpdate(s, want_ct + off, (CK_ULONG)parts[i], back + used, &len));
        off += parts[i];
        used += len;
    }
    len = sizeof(back) - used;
    OK(f->C_DecryptFinal(s, back + used, &len));
    used += len;
    EQ(used, 96);
    assert_memory_equal(back, pt, 96);
    len = sizeof(md);
    OK(f->C_DigestFinal(s, md, &len));
    assert_memory_equal(md, want_md, 32);
}

/* ---- 7. many threads, one key -------------------------------------------- */

#define THREADS    4
#define SIGNATURES 200

struct worker {
    CK_OBJECT_HANDLE pub, priv;
    unsigned id;
    unsigned done;    /* signatures made and verified */
    CK_RV first_bad;  /* the first unexpected return */
    const char *what; /* its call */
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_MECHANISM m = MECH0(CKM_ECDSA_SHA256);
    unsigned char msg[40], sig[128];
    CK_RV rv = f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s);
    w->what = "C_OpenSession";
    for (unsigned i = 0; rv == CKR_OK && i < SIGNATURES; i++) {
        CK_ULONG len = sizeof(sig);
        memset(msg, 0, sizeof(msg));
        snprintf((char *)msg, sizeof(msg), "thread %u message %u", w->id, i);
        w->what = "C_SignInit";
        if ((rv = f->C_SignInit(s, &m, w->priv)) != CKR_OK)
            break;
        w->what = "C_Sign";
        if ((rv = f->C_Sign(s, msg, sizeof(msg), sig, &len)) != CKR_OK)
            break;
        w->what = "signature length";
        if (len != 64) {
            rv = CKR_GENERAL_ERROR;
            break;
        }
        w->what = "C_VerifyInit";
        if ((rv = f->C_VerifyInit(s, &m, w->pub)) != CKR_OK)
            break;
        w->what = "C_Verify";
        if ((rv = f->C_Verify(s, msg, sizeof(msg), sig, len)) != CKR_OK)
            break;
        /* A wrong message must fail. */
        msg[0] ^= 1;
        w->what = "C_VerifyInit (tampered)";
        if ((rv = f->C_VerifyInit(s, &m, w->pub)) != CKR_OK)
            break;
        w->what = "C_Verify (tampered)";
        rv = f->C_Verify(s, msg, sizeof(msg), sig, len);
        if (rv != CKR_SIGNATURE_INVALID) {
            rv = rv == CKR_OK ? CKR_GENERAL_ERROR : rv;
            break;
        }
        rv = CKR_OK;
        w->done++;
    }
    w->first_bad = rv;
    if (s != CK_INVALID_HANDLE)
        f->C_CloseSession(s);
    return NULL;
}

static void test_threads_one_key(void **state)
{
    (void)state;
    pthread_t th[THREADS];
    struct worker w[THREADS];
    CK_OBJECT_HANDLE pub, priv;
    boot();
    CK_SESSION_HANDLE s = open_s(true); /* holds the login and the session keys */
    ec_pair(s, &pub, &priv);
    for (unsigned i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.pub = pub, .priv = priv, .id = i};
        EQ(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
    }
    for (unsigned i = 0; i < THREADS; i++)
        EQ(pthread_join(th[i], NULL), 0);
    for (unsigned i = 0; i < THREADS; i++)
        if (w[i].done != SIGNATURES)
            fail_msg("thread %u: %u of %u signatures; %s returned 0x%lx", i, w[i].done, SIGNATURES,
                     w[i].what, (unsigned long)w[i].first_bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mech_list_info, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mech_info_weak_rsa, setup_weak, teardown),
        cmocka_unit_test_setup_teardown(test_mech_list_fips, setup_fips, teardown),
        cmocka_unit_test_setup_teardown(test_digest_single_part, setup, teardown),
        cmocka_unit_test_setup_teardown(test_digest_all_mechanisms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_digest_active_and_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_digest_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_digest_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_random, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_usage_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dual_function, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_one_key, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
