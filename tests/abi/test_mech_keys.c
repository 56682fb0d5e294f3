/*
 * Every mechanism family end to end through the real ABI, each result
 * checked by OpenSSL in the test: HMAC and CMAC, AES CBC-PAD / GCM / CTR,
 * Triple DES, secret key generation, key wrapping (KW, KWP), RSA (PKCS#1
 * v1.5, PSS, OAEP, recovery), ECDSA on P-256 / P-384, EdDSA, ECDH and
 * X25519, HKDF, PBKDF2, the 3.0 message functions and 3.2's
 * C_VerifySignature.  Life-cycle and policy rules are in test_mech.c.
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "mech_util.h"

#define OSSL(x) EQ((x), 1)

static CK_OBJECT_CLASS c_secret = CKO_SECRET_KEY;
static CK_KEY_TYPE k_generic = CKK_GENERIC_SECRET;

static const CK_BYTE AES_KEY[32] = {
    0x8f, 0x3a, 0xc1, 0x5e, 0x27, 0x9b, 0xd4, 0x60, 0x11, 0xee, 0x7c, 0x42, 0xa9, 0x05, 0xb3, 0x6d,
    0xf8, 0x24, 0x91, 0xcb, 0x3e, 0x57, 0x0a, 0xd6, 0x7b, 0x88, 0xe3, 0x19, 0x4c, 0xa0, 0x65, 0xbf};
static const CK_BYTE HMAC_KEY[] = "a generic secret for HMAC-SHA256";
static const CK_BYTE IV16[16] = {0xf0, 0xe1, 0xd2, 0xc3, 0xb4, 0xa5, 0x96, 0x87,
                                 0x78, 0x69, 0x5a, 0x4b, 0x3c, 0x2d, 0x1e, 0x0f};

/* Curves by DER OID. */
static const CK_BYTE OID_P256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const CK_BYTE OID_P384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const CK_BYTE OID_ED25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
static const CK_BYTE OID_ED448[] = {0x06, 0x03, 0x2b, 0x65, 0x71};
static const CK_BYTE OID_X25519[] = {0x06, 0x03, 0x2b, 0x65, 0x6e};
static const CK_BYTE OID_BRAINPOOL256[] = {0x06, 0x09, 0x2b, 0x24, 0x03, 0x03,
                                           0x02, 0x08, 0x01, 0x01, 0x07};

/* ---- fixture ------------------------------------------------------------ */

/* A store whose token has a user PIN, made once (group_setup) and copied by
 * every test (setup). */
MECH_FIXTURE(ABI_FAST_CONFIG, "Mechanism keys ABI              ")

static CK_SESSION_HANDLE S; /* the test's R/W session, user logged in */

/* A copy of the template's store in a fresh scratch directory, the module
 * initialised and S a logged-in R/W session. */
static int setup(void **state)
{
    (void)state;
    if (setup_cfg(ABI_FAST_CONFIG) != 0 || f->C_Initialize(NULL) != CKR_OK)
        return -1;
    S = mech_session(f, true);
    return 0;
}

/* ---- objects ------------------------------------------------------------ */

/* A session secret key of type kt, value v, with extra attributes. */
static CK_OBJECT_HANDLE secret(CK_KEY_TYPE kt, const void *v, CK_ULONG n, const CK_ATTRIBUTE *extra,
                               CK_ULONG nextra)
{
    return mech_secret(f, S, kt, v, n, extra, nextra);
}

/* Attribute type of h into a malloc'ed buffer (the caller frees). */
static unsigned char *attr(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, CK_ULONG *len)
{
    return mech_attr(f, S, h, type, len);
}

static CK_ULONG attr_ulong(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type)
{
    return mech_ulong(f, S, h, type);
}

/* CKA_VALUE of h equals want[0..n). */
static void want_value(CK_OBJECT_HANDLE h, const void *want, CK_ULONG n)
{
    CK_ULONG len = 0;
    unsigned char *v = attr(h, CKA_VALUE, &len);
    EQ(len, n);
    assert_memory_equal(v, want, n);
    free(v);
}

/* The public key of h (CKA_PUBLIC_KEY_INFO) as OpenSSL's. */
static EVP_PKEY *pkey_of(CK_OBJECT_HANDLE h)
{
    CK_ULONG len = 0;
    unsigned char *der = attr(h, CKA_PUBLIC_KEY_INFO, &len);
    const unsigned char *p = der;
    assert_true(len > 0);
    EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)len);
    assert_non_null(k);
    EQ(p - der, len);
    free(der);
    return k;
}

/* A session key pair by mech; pub / priv: the templates' extra parts. */
static void gen_pair(CK_MECHANISM_TYPE mech, const CK_ATTRIBUTE *pub, CK_ULONG npub,
                     const CK_ATTRIBUTE *priv, CK_ULONG npriv, CK_OBJECT_HANDLE *hpub,
                     CK_OBJECT_HANDLE *hpriv)
{
    CK_MECHANISM m = MECH0(mech);
    CK_ATTRIBUTE tp[12] = {A_BOOL(CKA_TOKEN, false)}, tk[12] = {A_BOOL(CKA_TOKEN, false)};
    assert_true(npub < 12 && npriv < 12);
    memcpy(tp + 1, pub, npub * sizeof(*pub));
    memcpy(tk + 1, priv, npriv * sizeof(*priv));
    *hpub = *hpriv = CK_INVALID_HANDLE;
    OK(f->C_GenerateKeyPair(S, &m, tp, npub + 1, tk, npriv + 1, hpub, hpriv));
    assert_int_not_equal(*hpub, CK_INVALID_HANDLE);
    assert_int_not_equal(*hpriv, CK_INVALID_HANDLE);
}

/* An EC-family key pair on the curve of DER OID oid (sign / verify /
 * derive allowed). */
static void ec_gen(CK_MECHANISM_TYPE mech, const CK_BYTE *oid, size_t oidlen, CK_OBJECT_HANDLE *pub,
                   CK_OBJECT_HANDLE *priv)
{
    CK_ATTRIBUTE tp[] = {A_BUF(CKA_EC_PARAMS, oid, oidlen)};
    CK_ATTRIBUTE tk[] = {A_BOOL(CKA_DERIVE, true)};
    gen_pair(mech, tp, N(tp), tk, N(tk), pub, priv);
}

/* C_SignInit + C_Sign of data with m and key k; the signature's length. */
static CK_ULONG sign(CK_MECHANISM *m, CK_OBJECT_HANDLE k, const void *data, CK_ULONG n,
                     unsigned char *sig, CK_ULONG cap)
{
    CK_ULONG len = 0;
    OK(f->C_SignInit(S, m, k));
    OK(f->C_Sign(S, (CK_BYTE_PTR)data, n, NULL, &len));
    assert_true(len <= cap);
    len = cap;
    OK(f->C_Sign(S, (CK_BYTE_PTR)data, n, sig, &len));
    return len;
}

static CK_RV verify(CK_MECHANISM *m, CK_OBJECT_HANDLE k, const void *data, CK_ULONG n,
                    const unsigned char *sig, CK_ULONG siglen)
{
    OK(f->C_VerifyInit(S, m, k));
    return f->C_Verify(S, (CK_BYTE_PTR)data, n, (CK_BYTE_PTR)sig, siglen);
}

/* Runs in through Encrypt/Decrypt Update in parts (sizes cycling through
 * parts[]), then Final; the output's length. */
static CK_ULONG crypt_parts(bool enc, CK_MECHANISM *m, CK_OBJECT_HANDLE k, const unsigned char *in,
                            CK_ULONG n, const size_t *parts, size_t nparts, unsigned char *out,
                            CK_ULONG cap)
{
    CK_ULONG off = 0, used = 0, len;
    OK(enc ? f->C_EncryptInit(S, m, k) : f->C_DecryptInit(S, m, k));
    for (size_t i = 0; off < n; i++) {
        CK_ULONG part = (CK_ULONG)parts[i % nparts];
        if (part > n - off)
            part = n - off;
        len = cap - used;
        OK(enc ? f->C_EncryptUpdate(S, (CK_BYTE_PTR)in + off, part, out + used, &len)
               : f->C_DecryptUpdate(S, (CK_BYTE_PTR)in + off, part, out + used, &len));
        assert_true(len <= cap - used);
        off += part;
        used += len;
    }
    len = cap - used;
    OK(enc ? f->C_EncryptFinal(S, out + used, &len) : f->C_DecryptFinal(S, out + used, &len));
    return used + len;
}

/* Single-part C_Encrypt / C_Decrypt after a size query. */
static CK_ULONG crypt_one(bool enc, CK_MECHANISM *m, CK_OBJECT_HANDLE k, const unsigned char *in,
                          CK_ULONG n, unsigned char *out, CK_ULONG cap)
{
    CK_ULONG len = 0;
    OK(enc ? f->C_EncryptInit(S, m, k) : f->C_DecryptInit(S, m, k));
    OK(enc ? f->C_Encrypt(S, (CK_BYTE_PTR)in, n, NULL, &len)
           : f->C_Decrypt(S, (CK_BYTE_PTR)in, n, NULL, &len));
    assert_true(len <= cap);
    len = cap;
    OK(enc ? f->C_Encrypt(S, (CK_BYTE_PTR)in, n, out, &len)
           : f->C_Decrypt(S, (CK_BYTE_PTR)in, n, out, &len));
    return len;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 13u + seed * 101u + (i >> 7));
}

/* ---- OpenSSL ------------------------------------------------------------ */

/* AES-256-GCM encryption with a 12-byte IV and a 16-byte tag. */
static void ossl_gcm(const unsigned char *key, const unsigned char *iv, const unsigned char *aad,
                     size_t aadlen, const unsigned char *in, size_t n, unsigned char *out,
                     unsigned char tag[16])
{
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int a = 0, b = 0;
    assert_non_null(c);
    assert_non_null(x);
    OSSL(EVP_EncryptInit_ex2(x, c, key, iv, NULL));
    if (aadlen > 0)
        OSSL(EVP_EncryptUpdate(x, NULL, &a, aad, (int)aadlen));
    OSSL(EVP_EncryptUpdate(x, out, &a, in, (int)n));
    OSSL(EVP_EncryptFinal_ex(x, out + a, &b));
    EQ(a + b, n);
    OSSL(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, tag));
    EVP_CIPHER_CTX_free(x);
    EVP_CIPHER_free(c);
}

/* mac ("HMAC" with digest, or "CMAC" with cipher) of data. */
static size_t ossl_mac(const char *mac, const char *digest, const char *cipher,
                       const unsigned char *key, size_t klen, const void *data, size_t n,
                       unsigned char *out)
{
    size_t len = 0;
    assert_non_null(EVP_Q_mac(NULL, mac, NULL, digest != NULL ? digest : cipher, NULL, key, klen,
                              data, n, out, 64, &len));
    return len;
}

/* Does OpenSSL accept sig over data (md NULL: data is the input to sign, as
 * for EdDSA or a precomputed hash with EVP_PKEY_verify)? */
static bool ossl_verify(EVP_PKEY *k, const char *md, const void *data, size_t n,
                        const unsigned char *sig, size_t siglen, int padding, int saltlen)
{
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    assert_non_null(mc);
    OSSL(EVP_DigestVerifyInit_ex(mc, &pc, md, NULL, NULL, k, NULL));
    if (padding != 0) {
        OSSL(EVP_PKEY_CTX_set_rsa_padding(pc, padding));
        if (padding == RSA_PKCS1_PSS_PADDING) {
            OSSL(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, saltlen));
            OSSL(EVP_PKEY_CTX_set_rsa_mgf1_md_name(pc, md, NULL));
        }
    }
    int r = EVP_DigestVerify(mc, sig, siglen, data, n);
    EVP_MD_CTX_free(mc);
    return r == 1;
}

/* A raw r || s ECDSA signature as DER (*der malloc'ed by OpenSSL). */
static int ecdsa_der(const unsigned char *sig, size_t len, unsigned char **der)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    assert_non_null(es);
    BIGNUM *r = BN_bin2bn(sig, (int)(len / 2), NULL),
           *s = BN_bin2bn(sig + len / 2, (int)(len / 2), NULL);
    assert_true(r != NULL && s != NULL);
    OSSL(ECDSA_SIG_set0(es, r, s));
    *der = NULL;
    int n = i2d_ECDSA_SIG(es, der);
    assert_true(n > 0);
    ECDSA_SIG_free(es);
    return n;
}

/* OpenSSL's key agreement of priv with peer; the secret's length. */
static size_t ossl_derive(EVP_PKEY *priv, EVP_PKEY *peer, unsigned char *out, size_t cap)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
    size_t len = cap;
    assert_non_null(c);
    OSSL(EVP_PKEY_derive_init(c));
    OSSL(EVP_PKEY_derive_set_peer(c, peer));
    OSSL(EVP_PKEY_derive(c, out, &len));
    EVP_PKEY_CTX_free(c);
    return len;
}

/* ---- MACs ---------------------------------------------------------------- */

static void test_hmac_cmac(void **state)
{
    (void)state;
    CK_MECHANISM hmac = MECH0(CKM_SHA256_HMAC), cmac = MECH0(CKM_AES_CMAC);
    unsigned char data[200], want[64], sig[64], bad[64];
    CK_ULONG len;
    CK_ATTRIBUTE use[] = {A_BOOL(CKA_SIGN, true), A_BOOL(CKA_VERIFY, true)};
    CK_OBJECT_HANDLE k = secret(CKK_GENERIC_SECRET, HMAC_KEY, LEN(HMAC_KEY), use, 2);
    CK_OBJECT_HANDLE ka = secret(CKK_AES, AES_KEY, 32, use, 2);
    fill(data, sizeof(data), 1);
    EQ(ossl_mac("HMAC", "SHA256", NULL, HMAC_KEY, LEN(HMAC_KEY), data, sizeof(data), want), 32);
    EQ(sign(&hmac, k, data, sizeof(data), sig, sizeof(sig)), 32);
    assert_memory_equal(sig, want, 32);
    /* A short buffer keeps the operation. */
    OK(f->C_SignInit(S, &hmac, k));
    len = 16;
    RV(f->C_Sign(S, data, sizeof(data), sig, &len), CKR_BUFFER_TOO_SMALL);
    EQ(len, 32);
    len = sizeof(sig);
    OK(f->C_Sign(S, data, sizeof(data), sig, &len));
    assert_memory_equal(sig, want, 32);
    /* Multi-part. */
    OK(f->C_SignInit(S, &hmac, k));
    OK(f->C_SignUpdate(S, data, 3));
    OK(f->C_SignUpdate(S, data + 3, 150));
    OK(f->C_SignUpdate(S, data + 153, sizeof(data) - 153));
    len = sizeof(sig);
    OK(f->C_SignFinal(S, sig, &len));
    EQ(len, 32);
    assert_memory_equal(sig, want, 32);
    /* Verify: good, wrong MAC, wrong length. */
    OK(verify(&hmac, k, data, sizeof(data), want, 32));
    memcpy(bad, want, 32);
    bad[31] ^= 1;
    RV(verify(&hmac, k, data, sizeof(data), bad, 32), CKR_SIGNATURE_INVALID);
    RV(verify(&hmac, k, data, sizeof(data), want, 31), CKR_SIGNATURE_LEN_RANGE);
    RV(verify(&hmac, k, data, sizeof(data), want, 33), CKR_SIGNATURE_LEN_RANGE);
    RV(verify(&hmac, k, data, sizeof(data) - 1, want, 32), CKR_SIGNATURE_INVALID);
    OK(f->C_VerifyInit(S, &hmac, k));
    OK(f->C_VerifyUpdate(S, data, 100));
    OK(f->C_VerifyUpdate(S, data + 100, 100));
    OK(f->C_VerifyFinal(S, want, 32));
    RV(f->C_VerifyFinal(S, want, 32), CKR_OPERATION_NOT_INITIALIZED); /* ended */
    /* AES-CMAC. */
    EQ(ossl_mac("CMAC", NULL, "AES-256-CBC", AES_KEY, 32, data, sizeof(data), want), 16);
    EQ(sign(&cmac, ka, data, sizeof(data), sig, sizeof(sig)), 16);
    assert_memory_equal(sig, want, 16);
    OK(verify(&cmac, ka, data, sizeof(data), want, 16));
    want[0] ^= 0x80;
    RV(verify(&cmac, ka, data, sizeof(data), want, 16), CKR_SIGNATURE_INVALID);
}

/* ---- symmetric ciphers --------------------------------------------------- */

static void test_aes_cbc_pad(void **state)
{
    (void)state;
    static const size_t odd[] = {1, 7, 15, 17, 33, 3};
    CK_MECHANISM m = MECH(CKM_AES_CBC_PAD, &IV16);
    unsigned char pt[100], want[128], ct[160], back[160];
    CK_ATTRIBUTE use[] = {A_BOOL(CKA_ENCRYPT, true), A_BOOL(CKA_DECRYPT, true)};
    CK_OBJECT_HANDLE k = secret(CKK_AES, AES_KEY, 32, use, 2);
    fill(pt, sizeof(pt), 2);
    EQ(mech_ossl_cipher("AES-256-CBC", AES_KEY, IV16, true, 1, pt, sizeof(pt), want), 112);
    EQ(crypt_parts(true, &m, k, pt, sizeof(pt), odd, N(odd), ct, sizeof(ct)), 112);
    assert_memory_equal(ct, want, 112);
    EQ(crypt_one(true, &m, k, pt, sizeof(pt), ct, sizeof(ct)), 112);
    assert_memory_equal(ct, want, 112);
    EQ(crypt_parts(false, &m, k, want, 112, odd, N(odd), back, sizeof(back)), 100);
    assert_memory_equal(back, pt, 100);
    EQ(crypt_one(false, &m, k, want, 112, back, sizeof(back)), 100);
    assert_memory_equal(back, pt, 100);
    /* An Update size query keeps the operation and loses nothing. */
    CK_ULONG len = 0, used;
    OK(f->C_EncryptInit(S, &m, k));
    OK(f->C_EncryptUpdate(S, pt, 40, NULL, &len));
    assert_true(len >= 32 && len <= sizeof(ct));
    len = sizeof(ct);
    OK(f->C_EncryptUpdate(S, pt, 40, ct, &len));
    used = len;
    len = sizeof(ct) - used;
    OK(f->C_EncryptUpdate(S, pt + 40, 60, ct + used, &len));
    used += len;
    len = sizeof(ct) - used;
    OK(f->C_EncryptFinal(S, ct + used, &len));
    EQ(used + len, 112);
    assert_memory_equal(ct, want, 112);
    /* A whole number of blocks gains a block of padding. */
    EQ(crypt_one(true, &m, k, pt, 96, ct, sizeof(ct)), 112);
    /* Ciphertext not a multiple of the block. */
    len = sizeof(back);
    OK(f->C_DecryptInit(S, &m, k));
    RV(f->C_Decrypt(S, want, 111, back, &len), CKR_ENCRYPTED_DATA_LEN_RANGE);
}

static void test_aes_gcm(void **state)
{
    (void)state;
    unsigned char iv[12] = {0xca, 0xfe, 0xba, 0xbe, 0xfa, 0xce, 0xdb, 0xad, 0xde, 0xca, 0xf8, 0x88};
    unsigned char aad[20], pt[61], want[61], tag[16], ct[128], back[128];
    CK_GCM_PARAMS p = {iv, sizeof(iv), 96, aad, sizeof(aad), 128};
    CK_MECHANISM m = MECH(CKM_AES_GCM, &p);
    CK_ULONG len;
    CK_ATTRIBUTE use[] = {A_BOOL(CKA_ENCRYPT, true), A_BOOL(CKA_DECRYPT, true)};
    CK_OBJECT_HANDLE k = secret(CKK_AES, AES_KEY, 32, use, 2);
    fill(aad, sizeof(aad), 3);
    fill(pt, sizeof(pt), 4);
    ossl_gcm(AES_KEY, iv, aad, sizeof(aad), pt, sizeof(pt), want, tag);
    EQ(crypt_one(true, &m, k, pt, sizeof(pt), ct, sizeof(ct)), sizeof(pt) + 16);
    assert_memory_equal(ct, want, sizeof(pt));
    assert_memory_equal(ct + sizeof(pt), tag, 16);
    EQ(crypt_one(false, &m, k, ct, sizeof(pt) + 16, back, sizeof(back)), sizeof(pt));
    assert_memory_equal(back, pt, sizeof(pt));
    /* A short buffer keeps the operation. */
    OK(f->C_EncryptInit(S, &m, k));
    len = 10;
    RV(f->C_Encrypt(S, pt, sizeof(pt), ct, &len), CKR_BUFFER_TOO_SMALL);
    EQ(len, sizeof(pt) + 16);
    len = sizeof(ct);
    OK(f->C_Encrypt(S, pt, sizeof(pt), ct, &len));
    EQ(len, sizeof(pt) + 16);
    assert_memory_equal(ct + sizeof(pt), tag, 16);
    /* Multi-part encryption gives the same. */
    static const size_t parts[] = {5, 16, 1, 30};
    memset(ct, 0, sizeof(ct));
    EQ(crypt_parts(true, &m, k, pt, sizeof(pt), parts, N(parts), ct, sizeof(ct)), sizeof(pt) + 16);
    assert_memory_equal(ct, want, sizeof(pt));
    assert_memory_equal(ct + sizeof(pt), tag, 16);
    /* A tampered tag, a tampered ciphertext, other AAD. */
    ct[sizeof(pt) + 15] ^= 1;
    OK(f->C_DecryptInit(S, &m, k));
    len = sizeof(back);
    RV(f->C_Decrypt(S, ct, sizeof(pt) + 16, back, &len), CKR_ENCRYPTED_DATA_INVALID);
    ct[sizeof(pt) + 15] ^= 1;
    ct[0] ^= 1;
    OK(f->C_DecryptInit(S, &m, k));
    len = sizeof(back);
    RV(f->C_Decrypt(S, ct, sizeof(pt) + 16, back, &len), CKR_ENCRYPTED_DATA_INVALID);
    ct[0] ^= 1;
    aad[0] ^= 1;
    OK(f->C_DecryptInit(S, &m, k));
    len = sizeof(back);
    RV(f->C_Decrypt(S, ct, sizeof(pt) + 16, back, &len), CKR_ENCRYPTED_DATA_INVALID);
    aad[0] ^= 1;
    /* Bad parameters. */
    CK_GCM_PARAMS badtag = {iv, sizeof(iv), 96, aad, sizeof(aad), 130};
    CK_MECHANISM mb = MECH(CKM_AES_GCM, &badtag);
    RV(f->C_EncryptInit(S, &mb, k), CKR_MECHANISM_PARAM_INVALID);
    CK_MECHANISM ms = {CKM_AES_GCM, &p, sizeof(p) - 1};
    RV(f->C_EncryptInit(S, &ms, k), CKR_MECHANISM_PARAM_INVALID);
}

static void test_aes_ctr(void **state)
{
    (void)state;
    static const size_t odd[] = {3, 17, 1, 40};
    CK_AES_CTR_PARAMS p = {128, {0}};
    CK_MECHANISM m = MECH(CKM_AES_CTR, &p);
    unsigned char pt[150], want[150], ct[160], back[160];
    CK_ATTRIBUTE use[] = {A_BOOL(CKA_ENCRYPT, true), A_BOOL(CKA_DECRYPT, true)};
    CK_OBJECT_HANDLE k = secret(CKK_AES, AES_KEY, 32, use, 2);
    memcpy(p.cb, IV16, 16);
    p.cb[15] = 0xfe; /* the counter carries into the next byte */
    fill(pt, sizeof(pt), 5);
    EQ(mech_ossl_cipher("AES-256-CTR", AES_KEY, p.cb, false, 1, pt, sizeof(pt), want), sizeof(pt));
    EQ(crypt_one(true, &m, k, pt, sizeof(pt), ct, sizeof(ct)), sizeof(pt));
    assert_memory_equal(ct, want, sizeof(pt));
    EQ(crypt_parts(true, &m, k, pt, sizeof(pt), odd, N(odd), ct, sizeof(ct)), sizeof(pt));
    assert_memory_equal(ct, want, sizeof(pt));
    EQ(crypt_parts(false, &m, k, want, sizeof(pt), odd, N(odd), back, sizeof(back)), sizeof(pt));
    assert_memory_equal(back, pt, sizeof(pt));
    CK_AES_CTR_PARAMS zero = {0, {0}};
    CK_MECHANISM mz = MECH(CKM_AES_CTR, &zero);
    RV(f->C_EncryptInit(S, &mz, k), CKR_MECHANISM_PARAM_INVALID);
}

static void test_des3_cbc(void **state)
{
    (void)state;
    static const CK_BYTE key[24] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                    0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
                                    0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67};
    static const size_t odd[] = {5, 11, 8, 19};
    CK_BYTE iv[8];
    CK_MECHANISM m = MECH(CKM_DES3_CBC, &iv);
    unsigned char pt[64], want[64], ct[80], back[80];
    CK_ATTRIBUTE use[] = {A_BOOL(CKA_ENCRYPT, true), A_BOOL(CKA_DECRYPT, true)};
    CK_OBJECT_HANDLE k = secret(CKK_DES3, key, sizeof(key), use, 2);
    memcpy(iv, IV16, 8);
    fill(pt, sizeof(pt), 6);
    EQ(mech_ossl_cipher("DES-EDE3-CBC", key, iv, false, 1, pt, sizeof(pt), want), sizeof(pt));
    EQ(crypt_one(true, &m, k, pt, sizeof(pt), ct, sizeof(ct)), sizeof(pt));
    assert_memory_equal(ct, want, sizeof(pt));
    EQ(crypt_parts(true, &m, k, pt, sizeof(pt), odd, N(odd), ct, sizeof(ct)), sizeof(pt));
    assert_memory_equal(ct, want, sizeof(pt));
    EQ(crypt_one(false, &m, k, want, sizeof(pt), back, sizeof(back)), sizeof(pt));
    assert_memory_equal(back, pt, sizeof(pt));
    CK_ULONG len = sizeof(ct);
    OK(f->C_EncryptInit(S, &m, k));
    RV(f->C_Encrypt(S, pt, 63, ct, &len), CKR_DATA_LEN_RANGE); /* not whole blocks */
}

/* ---- secret key generation and wrapping ----------------------------------- */

static void test_generate_aes(void **state)
{
    (void)state;
    CK_ULONG thirty_two = 32, len = 0, n = 0;
    CK_MECHANISM gen = MECH0(CKM_AES_KEY_GEN), ecb = MECH0(CKM_AES_ECB);
    CK_ATTRIBUTE t[] = {A_BOOL(CKA_TOKEN, false), A_VAR(CKA_VALUE_LEN, thirty_two),
                        A_BOOL(CKA_EXTRACTABLE, true), A_BOOL(CKA_SENSITIVE, false),
                        A_BOOL(CKA_ENCRYPT, true)};
    CK_OBJECT_HANDLE k1 = CK_INVALID_HANDLE, k2 = CK_INVALID_HANDLE;
    unsigned char pt[32], want[32], ct[48];
    OK(f->C_GenerateKey(S, &gen, t, N(t), &k1));
    OK(f->C_GenerateKey(S, &gen, t, N(t), &k2));
    EQ(attr_ulong(k1, CKA_CLASS), CKO_SECRET_KEY);
    EQ(attr_ulong(k1, CKA_KEY_TYPE), CKK_AES);
    EQ(attr_ulong(k1, CKA_VALUE_LEN), 32);
    EQ(attr_ulong(k1, CKA_KEY_GEN_MECHANISM), CKM_AES_KEY_GEN);
    unsigned char *v1 = attr(k1, CKA_VALUE, &len), *v2 = attr(k2, CKA_VALUE, &n);
    EQ(len, 32);
    EQ(n, 32);
    assert_memory_not_equal(v1, v2, 32);
    fill(pt, sizeof(pt), 7);
    EQ(mech_ossl_cipher("AES-256-ECB", v1, NULL, false, 1, pt, sizeof(pt), want), 32);
    EQ(crypt_one(true, &ecb, k1, pt, sizeof(pt), ct, sizeof(ct)), 32);
    assert_memory_equal(ct, want, 32);
    free(v1);
    free(v2);
    /* Sizes: 16 and 24 work, 20 does not; no length at all is incomplete. */
    CK_ULONG sizes[] = {16, 24, 20};
    CK_RV want_rv[] = {CKR_OK, CKR_OK, CKR_KEY_SIZE_RANGE};
    for (size_t i = 0; i < N(sizes); i++) {
        CK_ATTRIBUTE ts[] = {A_BOOL(CKA_TOKEN, false), A_VAR(CKA_VALUE_LEN, sizes[i])};
        CK_RV rv = f->C_GenerateKey(S, &gen, ts, N(ts), &k2);
        if (rv != want_rv[i] && !(want_rv[i] != CKR_OK && rv == CKR_ATTRIBUTE_VALUE_INVALID))
            fail_msg("C_GenerateKey AES %lu bytes: 0x%lx, want 0x%lx", sizes[i], rv, want_rv[i]);
    }
    CK_ATTRIBUTE none[] = {A_BOOL(CKA_TOKEN, false)};
    RV(f->C_GenerateKey(S, &gen, none, N(none), &k2), CKR_TEMPLATE_INCOMPLETE);
}

static void test_wrap_unwrap(void **state)
{
    (void)state;
    static const CK_BYTE gsecret[20] = "twenty bytes secret!";
    static const CK_BYTE aes16[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                      0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
    CK_MECHANISM kwp = MECH0(CKM_AES_KEY_WRAP_KWP), kw = MECH0(CKM_AES_KEY_WRAP);
    CK_KEY_TYPE kt_aes = CKK_AES;
    unsigned char wrapped[64], want[64];
    CK_ULONG len;
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_ATTRIBUTE kek_use[] = {A_BOOL(CKA_WRAP, true), A_BOOL(CKA_UNWRAP, true)};
    CK_ATTRIBUTE extractable[] = {A_BOOL(CKA_EXTRACTABLE, true)};
    CK_ATTRIBUTE fixed[] = {A_BOOL(CKA_EXTRACTABLE, false)};
    CK_OBJECT_HANDLE kek = secret(CKK_AES, AES_KEY, 32, kek_use, 2);
    CK_OBJECT_HANDLE g = secret(CKK_GENERIC_SECRET, gsecret, sizeof(gsecret), extractable, 1);
    CK_OBJECT_HANDLE a = secret(CKK_AES, aes16, sizeof(aes16), extractable, 1);
    CK_OBJECT_HANDLE stuck = secret(CKK_GENERIC_SECRET, gsecret, sizeof(gsecret), fixed, 1);
    CK_ATTRIBUTE tg[] = {A_VAR(CKA_CLASS, c_secret), A_VAR(CKA_KEY_TYPE, k_generic),
                         A_BOOL(CKA_TOKEN, false), A_BOOL(CKA_SENSITIVE, false),
                         A_BOOL(CKA_EXTRACTABLE, true)};
    CK_ATTRIBUTE ta[] = {A_VAR(CKA_CLASS, c_secret), A_VAR(CKA_KEY_TYPE, kt_aes),
                         A_BOOL(CKA_TOKEN, false), A_BOOL(CKA_SENSITIVE, false),
                         A_BOOL(CKA_EXTRACTABLE, true)};

    /* KWP of a 20-byte generic secret (RFC 5649). */
    len = 0;
    OK(f->C_WrapKey(S, &kwp, kek, g, NULL, &len));
    assert_true(len >= 32 && len <= sizeof(wrapped));
    len = sizeof(wrapped);
    OK(f->C_WrapKey(S, &kwp, kek, g, wrapped, &len));
    EQ(len, 32);
    EQ(mech_ossl_cipher("AES-256-WRAP-PAD", AES_KEY, NULL, false, 1, gsecret, sizeof(gsecret),
                        want),
       32);
    assert_memory_equal(wrapped, want, 32);
    OK(f->C_UnwrapKey(S, &kwp, kek, wrapped, len, tg, N(tg), &h));
    want_value(h, gsecret, sizeof(gsecret));
    EQ(attr_ulong(h, CKA_VALUE_LEN), sizeof(gsecret));
    wrapped[5] ^= 1;
    RV(f->C_UnwrapKey(S, &kwp, kek, wrapped, len, tg, N(tg), &h), CKR_WRAPPED_KEY_INVALID);

    /* KW of an AES key (RFC 3394). */
    len = sizeof(wrapped);
    OK(f->C_WrapKey(S, &kw, kek, a, wrapped, &len));
    EQ(len, 24);
    EQ(mech_ossl_cipher("AES-256-WRAP", AES_KEY, NULL, false, 1, aes16, sizeof(aes16), want), 24);
    assert_memory_equal(wrapped, want, 24);
    OK(f->C_UnwrapKey(S, &kw, kek, wrapped, len, ta, N(ta), &h));
    want_value(h, aes16, sizeof(aes16));
    EQ(attr_ulong(h, CKA_KEY_TYPE), CKK_AES);

    /* Refusals. */
    len = sizeof(wrapped);
    RV(f->C_WrapKey(S, &kwp, kek, stuck, wrapped, &len), CKR_KEY_UNEXTRACTABLE);
    len = sizeof(wrapped);
    RV(f->C_WrapKey(S, &kw, kek, g, wrapped, &len), CKR_KEY_SIZE_RANGE); /* 20: not 8k */
    len = sizeof(wrapped);
    CK_RV rv = f->C_WrapKey(S, &kwp, a, g, wrapped, &len); /* a: no CKA_WRAP */
    if (rv != CKR_KEY_FUNCTION_NOT_PERMITTED && rv != CKR_WRAPPING_KEY_HANDLE_INVALID)
        fail_msg("C_WrapKey with a key without CKA_WRAP: 0x%lx", rv);
}

/* ---- RSA ------------------------------------------------------------------ */

static void rsa_gen(CK_ULONG bits, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
    static const CK_BYTE e65537[] = {0x01, 0x00, 0x01};
    CK_ATTRIBUTE tp[] = {A_VAR(CKA_MODULUS_BITS, bits), A_BUF(CKA_PUBLIC_EXPONENT, e65537, 3),
                         A_BOOL(CKA_VERIFY, true), A_BOOL(CKA_ENCRYPT, true),
                         A_BOOL(CKA_VERIFY_RECOVER, true)};
    CK_ATTRIBUTE tk[] = {A_BOOL(CKA_SIGN, true), A_BOOL(CKA_DECRYPT, true),
                         A_BOOL(CKA_SIGN_RECOVER, true)};
    gen_pair(CKM_RSA_PKCS_KEY_PAIR_GEN, tp, N(tp), tk, N(tk), pub, priv);
}

static void test_rsa(void **state)
{
    (void)state;
    CK_OBJECT_HANDLE pub, priv;
    unsigned char msg[100], sig[512], out[512];
    CK_ULONG len, n;
    rsa_gen(2048, &pub, &priv);
    EQ(attr_ulong(pub, CKA_MODULUS_BITS), 2048);
    unsigned char *mod = attr(pub, CKA_MODULUS, &n);
    EQ(n, 256);
    free(mod);
    unsigned char *e = attr(pub, CKA_PUBLIC_EXPONENT, &n);
    assert_true(n >= 3 && e[n - 3] == 1 && e[n - 2] == 0 && e[n - 1] == 1);
    free(e);
    EVP_PKEY *pk = pkey_of(pub);
    EQ(EVP_PKEY_get_bits(pk), 2048);
    fill(msg, sizeof(msg), 8);

    /* PKCS #1 v1.5 with SHA-256. */
    CK_MECHANISM pkcs = MECH0(CKM_SHA256_RSA_PKCS);
    EQ(sign(&pkcs, priv, msg, sizeof(msg), sig, sizeof(sig)), 256);
    assert_true(ossl_verify(pk, "SHA256", msg, sizeof(msg), sig, 256, RSA_PKCS1_PADDING, 0));
    OK(verify(&pkcs, pub, msg, sizeof(msg), sig, 256));
    sig[100] ^= 4;
    RV(verify(&pkcs, pub, msg, sizeof(msg), sig, 256), CKR_SIGNATURE_INVALID);

    /* PSS, SHA-256, MGF1-SHA-256, 32-byte salt. */
    CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, 32};
    CK_MECHANISM mpss = MECH(CKM_SHA256_RSA_PKCS_PSS, &pss);
    EQ(sign(&mpss, priv, msg, sizeof(msg), sig, sizeof(sig)), 256);
    assert_true(ossl_verify(pk, "SHA256", msg, sizeof(msg), sig, 256, RSA_PKCS1_PSS_PADDING, 32));
    OK(verify(&mpss, pub, msg, sizeof(msg), sig, 256));
    CK_ULONG sig2 = sign(&mpss, priv, msg, sizeof(msg), out, sizeof(out));
    EQ(sig2, 256);
    assert_memory_not_equal(sig, out, 256); /* a random salt */
    CK_RSA_PKCS_PSS_PARAMS pss_bad = {CKM_SHA384, CKG_MGF1_SHA256, 32};
    CK_MECHANISM mpss_bad = MECH(CKM_SHA256_RSA_PKCS_PSS, &pss_bad);
    RV(f->C_SignInit(S, &mpss_bad, priv), CKR_MECHANISM_PARAM_INVALID);

    /* OAEP-SHA-256 with a label, encrypted by OpenSSL. */
    static const char label[] = "craton label";
    CK_RSA_PKCS_OAEP_PARAMS oaep = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, (void *)label,
                                    LEN(label)};
    CK_MECHANISM moaep = MECH(CKM_RSA_PKCS_OAEP, &oaep);
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    assert_non_null(pc);
    OSSL(EVP_PKEY_encrypt_init(pc));
    OSSL(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING));
    OSSL(EVP_PKEY_CTX_set_rsa_oaep_md_name(pc, "SHA256", NULL));
    OSSL(EVP_PKEY_CTX_set_rsa_mgf1_md_name(pc, "SHA256", NULL));
    void *lcopy = OPENSSL_memdup(label, LEN(label));
    assert_non_null(lcopy);
    OSSL(EVP_PKEY_CTX_set0_rsa_oaep_label(pc, lcopy, (int)LEN(label)));
    size_t clen = sizeof(sig);
    OSSL(EVP_PKEY_encrypt(pc, sig, &clen, msg, 50));
    EVP_PKEY_CTX_free(pc);
    EQ(clen, 256);
    EQ(crypt_one(false, &moaep, priv, sig, 256, out, sizeof(out)), 50);
    assert_memory_equal(out, msg, 50);
    CK_RSA_PKCS_OAEP_PARAMS other = oaep;
    other.ulSourceDataLen--; /* another label */
    CK_MECHANISM mother = MECH(CKM_RSA_PKCS_OAEP, &other);
    OK(f->C_DecryptInit(S, &mother, priv));
    len = sizeof(out);
    RV(f->C_Decrypt(S, sig, 256, out, &len), CKR_ENCRYPTED_DATA_INVALID);
    /* The module's own encryption with the public key handle. */
    EQ(crypt_one(true, &moaep, pub, msg, 60, sig, sizeof(sig)), 256);
    EQ(crypt_one(false, &moaep, priv, sig, 256, out, sizeof(out)), 60);
    assert_memory_equal(out, msg, 60);
    CK_MECHANISM v15 = MECH0(CKM_RSA_PKCS);
    EQ(crypt_one(true, &v15, pub, msg, 70, sig, sizeof(sig)), 256);
    EQ(crypt_one(false, &v15, priv, sig, 256, out, sizeof(out)), 70);
    assert_memory_equal(out, msg, 70);

    /* Signing with recovery: CKM_RSA_PKCS. */
    OK(f->C_SignRecoverInit(S, &v15, priv));
    len = sizeof(sig);
    OK(f->C_SignRecover(S, msg, 36, sig, &len));
    EQ(len, 256);
    pc = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    assert_non_null(pc);
    OSSL(EVP_PKEY_verify_recover_init(pc));
    OSSL(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING));
    size_t rlen = sizeof(out);
    OSSL(EVP_PKEY_verify_recover(pc, out, &rlen, sig, 256));
    EVP_PKEY_CTX_free(pc);
    EQ(rlen, 36);
    assert_memory_equal(out, msg, 36);
    OK(f->C_VerifyRecoverInit(S, &v15, pub));
    len = sizeof(out);
    OK(f->C_VerifyRecover(S, sig, 256, out, &len));
    EQ(len, 36);
    assert_memory_equal(out, msg, 36);
    sig[3] ^= 1;
    OK(f->C_VerifyRecoverInit(S, &v15, pub));
    len = sizeof(out);
    RV(f->C_VerifyRecover(S, sig, 256, out, &len), CKR_SIGNATURE_INVALID);
    EVP_PKEY_free(pk);
}

static void test_rsa_weak_keygen(void **state)
{
    (void)state;
    static const CK_BYTE e65537[] = {0x01, 0x00, 0x01};
    CK_ULONG bits = 1024;
    CK_MECHANISM m = MECH0(CKM_RSA_PKCS_KEY_PAIR_GEN);
    CK_ATTRIBUTE tp[] = {A_BOOL(CKA_TOKEN, false), A_VAR(CKA_MODULUS_BITS, bits),
                         A_BUF(CKA_PUBLIC_EXPONENT, e65537, 3)};
    CK_ATTRIBUTE tk[] = {A_BOOL(CKA_TOKEN, false)};
    CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
    RV(f->C_GenerateKeyPair(S, &m, tp, N(tp), tk, N(tk), &pub, &priv), CKR_KEY_SIZE_RANGE);
    EQ(pub, CK_INVALID_HANDLE);
    EQ(priv, CK_INVALID_HANDLE);
    RV(f->C_GenerateKeyPair(S, &m, tp + 2, 1, tk, N(tk), &pub, &priv), CKR_TEMPLATE_INCOMPLETE);
}

/* ---- elliptic curves ------------------------------------------------------ */

/* ECDSA on one curve: CKM_ECDSA over a SHA-256 hash, CKM_ECDSA_SHA384
 * multi-part; OpenSSL verifies both. */
static void ecdsa_on(const CK_BYTE *oid, size_t oidlen, size_t flen)
{
    CK_OBJECT_HANDLE pub, priv;
    CK_MECHANISM raw = MECH0(CKM_ECDSA), sha384 = MECH0(CKM_ECDSA_SHA384);
    unsigned char msg[300], hash[32], sig[160], *der = NULL;
    unsigned int hlen = 0;
    CK_ULONG len;
    ec_gen(CKM_EC_KEY_PAIR_GEN, oid, oidlen, &pub, &priv);
    EQ(attr_ulong(priv, CKA_KEY_TYPE), CKK_EC);
    EVP_PKEY *pk = pkey_of(pub);
    fill(msg, sizeof(msg), 9);
    OSSL(EVP_Digest(msg, sizeof(msg), hash, &hlen, EVP_sha256(), NULL));
    EQ(sign(&raw, priv, hash, 32, sig, sizeof(sig)), 2 * flen);
    int dlen = ecdsa_der(sig, 2 * flen, &der);
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    assert_non_null(pc);
    OSSL(EVP_PKEY_verify_init(pc));
    EQ(EVP_PKEY_verify(pc, der, (size_t)dlen, hash, 32), 1);
    EVP_PKEY_CTX_free(pc);
    OPENSSL_free(der);
    OK(verify(&raw, pub, hash, 32, sig, 2 * flen));
    /* Single-part only: with Update the input is collected for Final. */
    OK(f->C_SignInit(S, &raw, priv));
    OK(f->C_SignUpdate(S, hash, 10));
    OK(f->C_SignUpdate(S, hash + 10, 22));
    len = sizeof(sig);
    OK(f->C_SignFinal(S, sig, &len));
    EQ(len, 2 * flen);
    OK(f->C_VerifyInit(S, &raw, pub));
    OK(f->C_VerifyUpdate(S, hash, 31));
    OK(f->C_VerifyUpdate(S, hash + 31, 1));
    OK(f->C_VerifyFinal(S, sig, len));
    dlen = ecdsa_der(sig, 2 * flen, &der);
    pc = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    assert_non_null(pc);
    OSSL(EVP_PKEY_verify_init(pc));
    EQ(EVP_PKEY_verify(pc, der, (size_t)dlen, hash, 32), 1);
    EVP_PKEY_CTX_free(pc);
    OPENSSL_free(der);
    sig[1] ^= 1;
    RV(verify(&raw, pub, hash, 32, sig, 2 * flen), CKR_SIGNATURE_INVALID);
    RV(verify(&raw, pub, hash, 32, sig, 2 * flen - 1), CKR_SIGNATURE_LEN_RANGE);
    /* Hash-and-sign, multi-part. */
    OK(f->C_SignInit(S, &sha384, priv));
    OK(f->C_SignUpdate(S, msg, 1));
    OK(f->C_SignUpdate(S, msg + 1, 200));
    OK(f->C_SignUpdate(S, msg + 201, sizeof(msg) - 201));
    len = sizeof(sig);
    OK(f->C_SignFinal(S, sig, &len));
    EQ(len, 2 * flen);
    dlen = ecdsa_der(sig, len, &der);
    assert_true(ossl_verify(pk, "SHA384", msg, sizeof(msg), der, (size_t)dlen, 0, 0));
    OPENSSL_free(der);
    OK(f->C_VerifyInit(S, &sha384, pub));
    OK(f->C_VerifyUpdate(S, msg, 150));
    OK(f->C_VerifyUpdate(S, msg + 150, sizeof(msg) - 150));
    OK(f->C_VerifyFinal(S, sig, len));
    EVP_PKEY_free(pk);
}

static void test_ecdsa(void **state)
{
    (void)state;
    ecdsa_on(OID_P256, sizeof(OID_P256), 32);
    ecdsa_on(OID_P384, sizeof(OID_P384), 48);
}

static void test_ec_keygen_errors(void **state)
{
    (void)state;
    CK_MECHANISM m = MECH0(CKM_EC_KEY_PAIR_GEN);
    CK_ATTRIBUTE bp[] = {A_BOOL(CKA_TOKEN, false),
                         A_BUF(CKA_EC_PARAMS, OID_BRAINPOOL256, sizeof(OID_BRAINPOOL256))};
    CK_ATTRIBUTE tk[] = {A_BOOL(CKA_TOKEN, false)};
    CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
    RV(f->C_GenerateKeyPair(S, &m, bp, N(bp), tk, N(tk), &pub, &priv), CKR_CURVE_NOT_SUPPORTED);
    RV(f->C_GenerateKeyPair(S, &m, bp, 1, tk, N(tk), &pub, &priv), CKR_TEMPLATE_INCOMPLETE);
    EQ(pub, CK_INVALID_HANDLE);
    EQ(priv, CK_INVALID_HANDLE);
    /* An Edwards curve on the Weierstrass mechanism, and the reverse. */
    CK_ATTRIBUTE ed[] = {A_BOOL(CKA_TOKEN, false),
                         A_BUF(CKA_EC_PARAMS, OID_ED25519, sizeof(OID_ED25519))};
    CK_RV rv = f->C_GenerateKeyPair(S, &m, ed, N(ed), tk, N(tk), &pub, &priv);
    if (rv == CKR_OK)
        fail_msg("CKM_EC_KEY_PAIR_GEN made an Ed25519 key pair");
    CK_MECHANISM me = MECH0(CKM_EC_EDWARDS_KEY_PAIR_GEN);
    CK_ATTRIBUTE p256[] = {A_BOOL(CKA_TOKEN, false),
                           A_BUF(CKA_EC_PARAMS, OID_P256, sizeof(OID_P256))};
    rv = f->C_GenerateKeyPair(S, &me, p256, N(p256), tk, N(tk), &pub, &priv);
    if (rv == CKR_OK)
        fail_msg("CKM_EC_EDWARDS_KEY_PAIR_GEN made a P-256 key pair");
}

static void eddsa_on(const CK_BYTE *oid, size_t oidlen, CK_ULONG siglen)
{
    CK_OBJECT_HANDLE pub, priv;
    CK_MECHANISM m = MECH0(CKM_EDDSA);
    unsigned char msg[77], sig[128];
    ec_gen(CKM_EC_EDWARDS_KEY_PAIR_GEN, oid, oidlen, &pub, &priv);
    EQ(attr_ulong(pub, CKA_KEY_TYPE), CKK_EC_EDWARDS);
    EVP_PKEY *pk = pkey_of(pub);
    fill(msg, sizeof(msg), 10);
    EQ(sign(&m, priv, msg, sizeof(msg), sig, sizeof(sig)), siglen);
    assert_true(ossl_verify(pk, NULL, msg, sizeof(msg), sig, siglen, 0, 0));
    OK(verify(&m, pub, msg, sizeof(msg), sig, siglen));
    msg[0] ^= 1;
    assert_false(ossl_verify(pk, NULL, msg, sizeof(msg), sig, siglen, 0, 0));
    RV(verify(&m, pub, msg, sizeof(msg), sig, siglen), CKR_SIGNATURE_INVALID);
    EVP_PKEY_free(pk);
}

static void test_eddsa(void **state)
{
    (void)state;
    eddsa_on(OID_ED25519, sizeof(OID_ED25519), 64);
    eddsa_on(OID_ED448, sizeof(OID_ED448), 114);
}

/* Our key pair (mech, oid) and OpenSSL's peer of type / group agree on the
 * same secret through CKM_ECDH1_DERIVE (CKD_NULL, raw public point). */
static void ecdh_with(CK_MECHANISM_TYPE mech, const CK_BYTE *oid, size_t oidlen, const char *type,
                      const char *group, size_t zlen)
{
    CK_OBJECT_HANDLE pub, priv, h = CK_INVALID_HANDLE;
    unsigned char *peer_pub = NULL, want[80];
    CK_ULONG vlen = (CK_ULONG)zlen;
    ec_gen(mech, oid, oidlen, &pub, &priv);
    EVP_PKEY *ours = pkey_of(pub);
    EVP_PKEY *peer = group != NULL ? EVP_PKEY_Q_keygen(NULL, NULL, type, group)
                                   : EVP_PKEY_Q_keygen(NULL, NULL, type);
    assert_non_null(peer);
    size_t plen = EVP_PKEY_get1_encoded_public_key(peer, &peer_pub);
    assert_true(plen > 0);
    EQ(ossl_derive(peer, ours, want, sizeof(want)), zlen);
    CK_ECDH1_DERIVE_PARAMS p = {CKD_NULL, 0, NULL, (CK_ULONG)plen, peer_pub};
    CK_MECHANISM m = MECH(CKM_ECDH1_DERIVE, &p);
    CK_ATTRIBUTE t[] = {A_VAR(CKA_CLASS, c_secret),   A_VAR(CKA_KEY_TYPE, k_generic),
                        A_BOOL(CKA_TOKEN, false),     A_VAR(CKA_VALUE_LEN, vlen),
                        A_BOOL(CKA_SENSITIVE, false), A_BOOL(CKA_EXTRACTABLE, true)};
    OK(f->C_DeriveKey(S, &m, priv, t, N(t), &h));
    want_value(h, want, zlen);
    /* A peer point off the curve is refused. */
    peer_pub[plen - 1] ^= 1;
    if (plen == 65) { /* uncompressed P-256 point: y changed */
        CK_RV rv = f->C_DeriveKey(S, &m, priv, t, N(t), &h);
        if (rv == CKR_OK)
            fail_msg("CKM_ECDH1_DERIVE accepted a point that is not on the curve");
    }
    OPENSSL_free(peer_pub);
    EVP_PKEY_free(peer);
    EVP_PKEY_free(ours);
}

static void test_ecdh_p256(void **state)
{
    (void)state;
    ecdh_with(CKM_EC_KEY_PAIR_GEN, OID_P256, sizeof(OID_P256), "EC", "P-256", 32);
}

static void test_x25519(void **state)
{
    (void)state;
    ecdh_with(CKM_EC_MONTGOMERY_KEY_PAIR_GEN, OID_X25519, sizeof(OID_X25519), "X25519", NULL, 32);
}

/* ---- key derivation ------------------------------------------------------- */

static void test_hkdf(void **state)
{
    (void)state;
    static const CK_BYTE ikm[22] = {0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
                                    0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
                                    0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b};
    static const CK_BYTE salt[13] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
                                     0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c};
    static const CK_BYTE info[10] = {0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9};
    unsigned char want[64];
    CK_ULONG l42 = 42;
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_ATTRIBUTE derive[] = {A_BOOL(CKA_DERIVE, true)};
    CK_OBJECT_HANDLE base = secret(CKK_GENERIC_SECRET, ikm, sizeof(ikm), derive, 1);
    CK_HKDF_PARAMS p = {CK_TRUE,           CK_TRUE,      CKM_SHA256,        CKF_HKDF_SALT_DATA,
                        (CK_BYTE_PTR)salt, sizeof(salt), CK_INVALID_HANDLE, (CK_BYTE_PTR)info,
                        sizeof(info)};
    CK_MECHANISM m = MECH(CKM_HKDF_DERIVE, &p);
    CK_ATTRIBUTE t[] = {A_VAR(CKA_CLASS, c_secret),   A_VAR(CKA_KEY_TYPE, k_generic),
                        A_BOOL(CKA_TOKEN, false),     A_VAR(CKA_VALUE_LEN, l42),
                        A_BOOL(CKA_SENSITIVE, false), A_BOOL(CKA_EXTRACTABLE, true)};

    /* OpenSSL's HKDF (these are RFC 5869 test case 1's inputs). */
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kc = EVP_KDF_CTX_new(kdf);
    assert_non_null(kc);
    OSSL_PARAM op[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, sizeof(ikm)),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, sizeof(salt)),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, sizeof(info)),
        OSSL_PARAM_construct_end()};
    OSSL(EVP_KDF_derive(kc, want, 42, op));
    EVP_KDF_CTX_free(kc);
    EVP_KDF_free(kdf);
    static const CK_BYTE rfc5869_okm_head[4] = {0x3c, 0xb2, 0x5f, 0x25};
    assert_memory_equal(want, rfc5869_okm_head, 4);

    OK(f->C_DeriveKey(S, &m, base, t, N(t), &h));
    want_value(h, want, 42);
    /* Extract only: the PRK. */
    static const CK_BYTE prk_head[4] = {0x07, 0x77, 0x09, 0x36};
    CK_HKDF_PARAMS px = p;
    px.bExpand = CK_FALSE;
    CK_MECHANISM mx = MECH(CKM_HKDF_DERIVE, &px);
    OK(f->C_DeriveKey(S, &mx, base, t, 3, &h)); /* no CKA_VALUE_LEN: the hash length */
    EQ(attr_ulong(h, CKA_VALUE_LEN), 32);
    CK_ATTRIBUTE readable[] = {A_BOOL(CKA_SENSITIVE, false), A_BOOL(CKA_EXTRACTABLE, true)};
    CK_ATTRIBUTE tx[5] = {t[0], t[1], t[2], readable[0], readable[1]};
    OK(f->C_DeriveKey(S, &mx, base, tx, 5, &h));
    CK_ULONG n = 0;
    unsigned char *prk = attr(h, CKA_VALUE, &n);
    EQ(n, 32);
    assert_memory_equal(prk, prk_head, 4);
    free(prk);
    /* Refusals: neither step, no CKA_DERIVE. */
    CK_HKDF_PARAMS none = p;
    none.bExtract = none.bExpand = CK_FALSE;
    CK_MECHANISM mn = MECH(CKM_HKDF_DERIVE, &none);
    RV(f->C_DeriveKey(S, &mn, base, t, N(t), &h), CKR_MECHANISM_PARAM_INVALID);
    CK_ATTRIBUTE noderive[] = {A_BOOL(CKA_DERIVE, false)};
    CK_OBJECT_HANDLE nd = secret(CKK_GENERIC_SECRET, ikm, sizeof(ikm), noderive, 1);
    RV(f->C_DeriveKey(S, &m, nd, t, N(t), &h), CKR_KEY_FUNCTION_NOT_PERMITTED);
}

static void test_pbkdf2(void **state)
{
    (void)state;
    static const char pw[] = "correct horse battery staple";
    static const CK_BYTE salt[16] = "NaCl and pepper!";
    unsigned char want[32];
    CK_ULONG l32 = 32;
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_PKCS5_PBKD2_PARAMS2 p = {
        CKZ_SALT_SPECIFIED,  (void *)salt, sizeof(salt), 1000, CKP_PKCS5_PBKD2_HMAC_SHA256, NULL, 0,
        (CK_UTF8CHAR_PTR)pw, LEN(pw)};
    CK_MECHANISM m = MECH(CKM_PKCS5_PBKD2, &p);
    CK_ATTRIBUTE t[] = {A_VAR(CKA_CLASS, c_secret),   A_VAR(CKA_KEY_TYPE, k_generic),
                        A_BOOL(CKA_TOKEN, false),     A_VAR(CKA_VALUE_LEN, l32),
                        A_BOOL(CKA_SENSITIVE, false), A_BOOL(CKA_EXTRACTABLE, true)};
    OSSL(PKCS5_PBKDF2_HMAC(pw, (int)LEN(pw), salt, sizeof(salt), 1000, EVP_sha256(), 32, want));
    OK(f->C_GenerateKey(S, &m, t, N(t), &h));
    want_value(h, want, 32);
    /* Another PRF, another key. */
    p.prf = CKP_PKCS5_PBKD2_HMAC_SHA512;
    OSSL(PKCS5_PBKDF2_HMAC(pw, (int)LEN(pw), salt, sizeof(salt), 1000, EVP_sha512(), 32, want));
    OK(f->C_GenerateKey(S, &m, t, N(t), &h));
    want_value(h, want, 32);
    p.iterations = 0;
    RV(f->C_GenerateKey(S, &m, t, N(t), &h), CKR_MECHANISM_PARAM_INVALID);
}

/* ---- 3.0 message functions, 3.2 verify-signature ----------------------------- */

static void test_message_encrypt(void **state)
{
    (void)state;
    CK_MECHANISM gcm = MECH0(CKM_AES_GCM);
    CK_ATTRIBUTE use[] = {A_BOOL(CKA_ENCRYPT, true), A_BOOL(CKA_DECRYPT, true)};
    CK_OBJECT_HANDLE k = secret(CKK_AES, AES_KEY, 32, use, 2);
    unsigned char iv[2][12], pt[2][50], aad[2][9], ct[2][64], tag[2][16], want[64], wtag[16];
    unsigned char back[64];
    const CK_ULONG ptlen[2] = {50, 17}, aadlen[2] = {9, 0};
    CK_GCM_MESSAGE_PARAMS mp[2];
    CK_ULONG len = 0;
    for (int i = 0; i < 2; i++) {
        fill(iv[i], 12, 20 + (unsigned)i);
        fill(pt[i], 50, 30 + (unsigned)i);
        fill(aad[i], 9, 40 + (unsigned)i);
        mp[i] = (CK_GCM_MESSAGE_PARAMS){iv[i], 12, 0, CKG_NO_GENERATE, tag[i], 128};
    }
    RV(f->C_EncryptMessage(S, &mp[0], sizeof(mp[0]), aad[0], 9, pt[0], 50, ct[0], &len),
       CKR_OPERATION_NOT_INITIALIZED);
    OK(f->C_MessageEncryptInit(S, &gcm, k));
    /* A message in parts (Begin, Next, Next with CKF_END_OF_MESSAGE). */
    CK_ULONG used = 0;
    OK(f->C_EncryptMessageBegin(S, &mp[0], sizeof(mp[0]), aad[0], 9));
    len = sizeof(back);
    OK(f->C_EncryptMessageNext(S, &mp[0], sizeof(mp[0]), pt[0], 21, back, &len, 0));
    used = len;
    len = sizeof(back) - used;
    OK(f->C_EncryptMessageNext(S, &mp[0], sizeof(mp[0]), pt[0] + 21, 29, back + used, &len,
                               CKF_END_OF_MESSAGE));
    used += len;
    EQ(used, 50);
    ossl_gcm(AES_KEY, iv[0], aad[0], 9, pt[0], 50, want, wtag);
    assert_memory_equal(back, want, 50);
    assert_memory_equal(tag[0], wtag, 16);
    /* Whole messages. */
    for (int i = 0; i < 2; i++) {
        len = 0;
        OK(f->C_EncryptMessage(S, &mp[i], sizeof(mp[i]), aad[i], aadlen[i], pt[i], ptlen[i], NULL,
                               &len));
        assert_true(len >= ptlen[i] && len <= sizeof(ct[i]));
        len = sizeof(ct[i]);
        OK(f->C_EncryptMessage(S, &mp[i], sizeof(mp[i]), aad[i], aadlen[i], pt[i], ptlen[i], ct[i],
                               &len));
        EQ(len, ptlen[i]);
        ossl_gcm(AES_KEY, iv[i], aad[i], aadlen[i], pt[i], ptlen[i], want, wtag);
        assert_memory_equal(ct[i], want, ptlen[i]);
        assert_memory_equal(tag[i], wtag, 16);
    }
    OK(f->C_MessageEncryptFinal(S));
    len = sizeof(back);
    RV(f->C_EncryptMessage(S, &mp[0], sizeof(mp[0]), aad[0], 9, pt[0], 50, back, &len),
       CKR_OPERATION_NOT_INITIALIZED);

    OK(f->C_MessageDecryptInit(S, &gcm, k));
    for (int i = 1; i >= 0; i--) { /* in either order */
        len = sizeof(back);
        OK(f->C_DecryptMessage(S, &mp[i], sizeof(mp[i]), aad[i], aadlen[i], ct[i], ptlen[i], back,
                               &len));
        EQ(len, ptlen[i]);
        assert_memory_equal(back, pt[i], ptlen[i]);
    }
    tag[0][0] ^= 1;
    len = sizeof(back);
    RV(f->C_DecryptMessage(S, &mp[0], sizeof(mp[0]), aad[0], aadlen[0], ct[0], ptlen[0], back,
                           &len),
       CKR_ENCRYPTED_DATA_INVALID);
    OK(f->C_MessageDecryptFinal(S));
    RV(f->C_MessageDecryptFinal(S), CKR_OPERATION_NOT_INITIALIZED);
}

static void test_message_sign(void **state)
{
    (void)state;
    CK_MECHANISM hmac = MECH0(CKM_SHA256_HMAC);
    CK_ATTRIBUTE use[] = {A_BOOL(CKA_SIGN, true), A_BOOL(CKA_VERIFY, true)};
    CK_OBJECT_HANDLE k = secret(CKK_GENERIC_SECRET, HMAC_KEY, LEN(HMAC_KEY), use, 2);
    static const char m1[] = "first message", m2[] = "the second, longer message";
    unsigned char want1[64], want2[64], got[64];
    CK_ULONG len;
    EQ(sign(&hmac, k, m1, LEN(m1), want1, sizeof(want1)), 32);
    EQ(sign(&hmac, k, m2, LEN(m2), want2, sizeof(want2)), 32);
    OK(f->C_MessageSignInit(S, &hmac, k));
    len = 0;
    OK(f->C_SignMessage(S, NULL, 0, (CK_BYTE_PTR)m1, LEN(m1), NULL, &len));
    EQ(len, 32);
    len = sizeof(got);
    OK(f->C_SignMessage(S, NULL, 0, (CK_BYTE_PTR)m1, LEN(m1), got, &len));
    EQ(len, 32);
    assert_memory_equal(got, want1, 32);
    len = sizeof(got);
    OK(f->C_SignMessage(S, NULL, 0, (CK_BYTE_PTR)m2, LEN(m2), got, &len));
    EQ(len, 32);
    assert_memory_equal(got, want2, 32);
    OK(f->C_MessageSignFinal(S));
    len = sizeof(got);
    RV(f->C_SignMessage(S, NULL, 0, (CK_BYTE_PTR)m1, LEN(m1), got, &len),
       CKR_OPERATION_NOT_INITIALIZED);
    OK(f->C_MessageVerifyInit(S, &hmac, k));
    OK(f->C_VerifyMessage(S, NULL, 0, (CK_BYTE_PTR)m1, LEN(m1), want1, 32));
    RV(f->C_VerifyMessage(S, NULL, 0, (CK_BYTE_PTR)m2, LEN(m2), want1, 32), CKR_SIGNATURE_INVALID);
    OK(f->C_VerifyMessage(S, NULL, 0, (CK_BYTE_PTR)m2, LEN(m2), want2, 32));
    OK(f->C_MessageVerifyFinal(S));
}

static void test_verify_signature(void **state)
{
    (void)state;
    CK_MECHANISM hmac = MECH0(CKM_SHA256_HMAC), ecdsa = MECH0(CKM_ECDSA_SHA256);
    CK_ATTRIBUTE use[] = {A_BOOL(CKA_SIGN, true), A_BOOL(CKA_VERIFY, true)};
    CK_OBJECT_HANDLE k = secret(CKK_GENERIC_SECRET, HMAC_KEY, LEN(HMAC_KEY), use, 2);
    CK_OBJECT_HANDLE pub, priv;
    static const char msg[] = "verify me with the signature given first";
    unsigned char mac[64], sig[128];
    RV(f->C_VerifySignature(S, (CK_BYTE_PTR)msg, LEN(msg)), CKR_OPERATION_NOT_INITIALIZED);
    /* HMAC: single- and multi-part, good and bad. */
    EQ(sign(&hmac, k, msg, LEN(msg), mac, sizeof(mac)), 32);
    OK(f->C_VerifySignatureInit(S, &hmac, k, mac, 32));
    OK(f->C_VerifySignature(S, (CK_BYTE_PTR)msg, LEN(msg)));
    RV(f->C_VerifySignature(S, (CK_BYTE_PTR)msg, LEN(msg)), CKR_OPERATION_NOT_INITIALIZED);
    OK(f->C_VerifySignatureInit(S, &hmac, k, mac, 32));
    OK(f->C_VerifySignatureUpdate(S, (CK_BYTE_PTR)msg, 10));
    OK(f->C_VerifySignatureUpdate(S, (CK_BYTE_PTR)msg + 10, LEN(msg) - 10));
    OK(f->C_VerifySignatureFinal(S));
    mac[0] ^= 1;
    OK(f->C_VerifySignatureInit(S, &hmac, k, mac, 32));
    RV(f->C_VerifySignature(S, (CK_BYTE_PTR)msg, LEN(msg)), CKR_SIGNATURE_INVALID);
    OK(f->C_VerifySignatureInit(S, &hmac, k, mac, 32));
    OK(f->C_VerifySignatureUpdate(S, (CK_BYTE_PTR)msg, LEN(msg)));
    RV(f->C_VerifySignatureFinal(S), CKR_SIGNATURE_INVALID);
    RV(f->C_VerifySignatureInit(S, &hmac, k, NULL, 32), CKR_ARGUMENTS_BAD);
    /* ECDSA with SHA-256. */
    ec_gen(CKM_EC_KEY_PAIR_GEN, OID_P256, sizeof(OID_P256), &pub, &priv);
    EQ(sign(&ecdsa, priv, msg, LEN(msg), sig, sizeof(sig)), 64);
    OK(f->C_VerifySignatureInit(S, &ecdsa, pub, sig, 64));
    OK(f->C_VerifySignature(S, (CK_BYTE_PTR)msg, LEN(msg)));
    OK(f->C_VerifySignatureInit(S, &ecdsa, pub, sig, 64));
    OK(f->C_VerifySignatureUpdate(S, (CK_BYTE_PTR)msg, 5));
    OK(f->C_VerifySignatureUpdate(S, (CK_BYTE_PTR)msg + 5, LEN(msg) - 5));
    OK(f->C_VerifySignatureFinal(S));
    sig[40] ^= 2;
    OK(f->C_VerifySignatureInit(S, &ecdsa, pub, sig, 64));
    RV(f->C_VerifySignature(S, (CK_BYTE_PTR)msg, LEN(msg)), CKR_SIGNATURE_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hmac_cmac, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aes_cbc_pad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aes_gcm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aes_ctr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_des3_cbc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generate_aes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrap_unwrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rsa, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rsa_weak_keygen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ecdsa, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ec_keygen_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eddsa, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ecdh_p256, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x25519, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hkdf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pbkdf2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_message_encrypt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_message_sign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_signature, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
