/* Known answers of the RSA mechanisms through the ABI: PKCS#1 v1.5
 * signatures (sign and verify), PSS verification, OAEP and PKCS#1 v1.5
 * decryption, from Wycheproof and NIST ACVP (tests/vectors/README.md).
 * Keys are session objects made with C_CreateObject; private keys come from
 * the vectors' PKCS#8 DER, split into components with OpenSSL.  The elliptic
 * curve families are in test_kat_ec.c; helpers in kat_util.h. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "kat_util.h"

#define RSA_MAX_BYTES 1024 /* 8192-bit moduli; the vectors have 2048 */

static CK_OBJECT_CLASS c_pub = CKO_PUBLIC_KEY, c_priv = CKO_PRIVATE_KEY;
static CK_KEY_TYPE k_rsa = CKK_RSA;

/* ---- keys ------------------------------------------------------------------ */

static CK_RV rsa_public(const unsigned char *n, size_t nlen, const unsigned char *e, size_t elen,
                        CK_OBJECT_HANDLE *h)
{
    kat_strip(&n, &nlen);
    kat_strip(&e, &elen);
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &c_pub, sizeof(c_pub)},        {CKA_KEY_TYPE, &k_rsa, sizeof(k_rsa)},
        {CKA_TOKEN, &kat_false, sizeof(CK_BBOOL)}, {CKA_VERIFY, &kat_true, sizeof(CK_BBOOL)},
        {CKA_MODULUS, (void *)n, (CK_ULONG)nlen},  {CKA_PUBLIC_EXPONENT, (void *)e, (CK_ULONG)elen},
    };
    return kat_create(t, KAT_N(t), h);
}

/* The public key of a Wycheproof verify group ("publicKey": modulus and
 * publicExponent in hex). */
static CK_RV rsa_public_wp(const json_t *g, CK_OBJECT_HANDLE *h)
{
    const json_t *pk = json_object_get(g, "publicKey");
    size_t nlen, elen;
    unsigned char *n = kat_hexreq(pk, "modulus", &nlen),
                  *e = kat_hexreq(pk, "publicExponent", &elen);
    CK_RV rv = rsa_public(n, nlen, e, elen, h);
    free(n);
    free(e);
    return rv;
}

static const char *const rsa_params[] = {
    OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,           OSSL_PKEY_PARAM_RSA_D,
    OSSL_PKEY_PARAM_RSA_FACTOR1,   OSSL_PKEY_PARAM_RSA_FACTOR2,     OSSL_PKEY_PARAM_RSA_EXPONENT1,
    OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
static const CK_ATTRIBUTE_TYPE rsa_attrs[] = {
    CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
    CKA_PRIME_2, CKA_EXPONENT_1,      CKA_EXPONENT_2,       CKA_COEFFICIENT};
#define RSA_NPARAMS (sizeof(rsa_attrs) / sizeof(rsa_attrs[0]))

/* The private key of a Wycheproof group ("privateKeyPkcs8") with every CRT
 * component; *klen = the modulus length in bytes. */
static CK_RV rsa_private_pkcs8(const json_t *g, CK_OBJECT_HANDLE *h, size_t *klen)
{
    size_t len;
    unsigned char *der = kat_hexreq(g, "privateKeyPkcs8", &len);
    const unsigned char *p = der;
    EVP_PKEY *pk = d2i_AutoPrivateKey(NULL, &p, (long)len);
    CK_ATTRIBUTE t[5 + RSA_NPARAMS] = {
        {CKA_CLASS, &c_priv, sizeof(c_priv)},       {CKA_KEY_TYPE, &k_rsa, sizeof(k_rsa)},
        {CKA_TOKEN, &kat_false, sizeof(CK_BBOOL)},  {CKA_SIGN, &kat_true, sizeof(CK_BBOOL)},
        {CKA_DECRYPT, &kat_true, sizeof(CK_BBOOL)},
    };

    assert_non_null(pk);
    for (size_t i = 0; i < RSA_NPARAMS; i++) {
        BIGNUM *bn = NULL;
        assert_int_equal(EVP_PKEY_get_bn_param(pk, rsa_params[i], &bn), 1);
        int n = BN_num_bytes(bn);
        unsigned char *v = malloc(n > 0 ? (size_t)n : 1);
        assert_non_null(v);
        BN_bn2bin(bn, v);
        BN_clear_free(bn);
        t[5 + i] = (CK_ATTRIBUTE){rsa_attrs[i], v, (CK_ULONG)n};
    }
    *klen = t[5].ulValueLen;
    CK_RV rv = kat_create(t, KAT_N(t), h);
    for (size_t i = 0; i < RSA_NPARAMS; i++) {
        OPENSSL_cleanse(t[5 + i].pValue, t[5 + i].ulValueLen);
        free(t[5 + i].pValue);
    }
    EVP_PKEY_free(pk);
    OPENSSL_cleanse(der, len);
    free(der);
    return rv;
}

/* Counts a group whose key did not import: each test is a failure, a skip
 * (SoftHSM lacking something) or, when a rejection is allowed, a pass. */
static void key_refused(struct kat *k, const char *src, const json_t *tests, CK_RV rv)
{
    size_t i;
    json_t *t;
    json_array_foreach(tests, i, t)
    {
        if (kat_unsupported(rv))
            kat_skip(k, "key import refused");
        else if (kat_expect_of(t) != KAT_VALID)
            kat_pass(k);
        else
            kat_fail(k, src, kat_int(t, "tcId"), "key import: %s", kat_rv_name(rv));
    }
}

/* ---- PKCS#1 v1.5 signatures --------------------------------------------------- */

#define WP_SIGN "wycheproof/rsa_pkcs1_2048_sig_gen_test.json"

/* Signing is deterministic: the signature must be the vector's, byte for
 * byte (padded to the modulus length).  "acceptable" (SHA-1, e = 3): the
 * module may also refuse. */
static void test_rsa_pkcs1_sign(void **state)
{
    (void)state;
    struct kat k;
    json_t *root = kat_load(WP_SIGN), *g, *t;
    size_t gi, ti;
    kat_begin(&k, "RSA PKCS#1 v1.5 sign");
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const struct kat_hash *h = kat_hash_find(kat_str(g, "sha"));
        const json_t *tests = json_object_get(g, "tests");
        CK_OBJECT_HANDLE key;
        size_t klen = 0;
        assert_non_null(h);
        unsigned ntests = (unsigned)json_array_size(tests);
        k.vectors += ntests;
        CK_RV rv = rsa_private_pkcs8(g, &key, &klen);
        if (rv != CKR_OK) {
            key_refused(&k, WP_SIGN, tests, rv);
            continue;
        }
        CK_MECHANISM m = {h->rsa_pkcs, NULL, 0};
        json_array_foreach(tests, ti, t)
        {
            long tc = kat_int(t, "tcId");
            enum kat_expect want = kat_expect_of(t);
            if (want == KAT_VALID && !kat_mech(&k, m.mechanism, h->wycheproof, 1))
                continue;
            size_t mlen, slen, olen = RSA_MAX_BYTES;
            unsigned char *msg = kat_hexreq(t, "msg", &mlen), *sig = kat_hexreq(t, "sig", &slen);
            unsigned char out[RSA_MAX_BYTES], exp[RSA_MAX_BYTES] = {0};
            assert_true(slen <= klen);
            memcpy(exp + klen - slen, sig, slen);
            rv = kat_sign_rv(key, &m, msg, mlen, out, &olen);
            if (rv == CKR_OK && olen == klen && memcmp(out, exp, klen) == 0)
                kat_pass(&k);
            else if (rv != CKR_OK && want == KAT_EITHER)
                kat_pass(&k); /* a refusal is acceptable here */
            else if (kat_unsupported(rv))
                kat_skip(&k, "signing refused");
            else if (rv != CKR_OK)
                kat_fail(&k, WP_SIGN, tc, "C_Sign (%s): %s", h->wycheproof, kat_rv_name(rv));
            else
                kat_fail(&k, WP_SIGN, tc, "signature differs (%lu bytes)", (unsigned long)olen);
            free(msg);
            free(sig);
        }
        kat_destroy(key);
    }
    json_decref(root);
    kat_end(&k);
}

/* ACVP RSA SigVer / SigGen groups of sigType type ("pkcs1v1.5" or "pss"),
 * verified with a public key made of the group's n and e.  SigGen gives no
 * private key (no d), so its signatures are used as valid verify vectors;
 * its SP800-106 groups sign a randomized message and are left out. */
static void rsa_acvp_verify(struct kat *k, const char *file, const char *type)
{
    json_t *root = kat_load(file), *g, *t;
    size_t gi, ti;
    const bool siggen = strstr(file, "SigGen") != NULL;
    const bool pss = strcmp(type, "pss") == 0;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const json_t *tests = json_object_get(g, "tests");
        const char *conf = kat_str(g, "conformance"), *hname = kat_str(g, "hashAlg");
        const struct kat_hash *h = kat_hash_find(hname);
        unsigned ntests = (unsigned)json_array_size(tests);
        char why[128];
        if (strcmp(kat_str(g, "sigType"), type) != 0)
            continue;
        k->vectors += ntests;
        assert_non_null(h);
        CK_MECHANISM_TYPE mt = pss ? h->rsa_pss : h->rsa_pkcs;
        if (mt == 0) {
            snprintf(why, sizeof(why), "%s %s: no PKCS#11 mechanism", type, hname);
            kat_na(k, ntests, why);
            continue;
        }
        if (siggen && conf != NULL && conf[0] != '\0') {
            snprintf(why, sizeof(why), "SigGen %s (randomized message)", conf);
            kat_na(k, ntests, why);
            continue;
        }
        if (!kat_mech(k, mt, hname, ntests))
            continue;
        size_t nlen, elen;
        unsigned char *n = kat_hexreq(g, "n", &nlen), *e = kat_hexreq(g, "e", &elen);
        CK_OBJECT_HANDLE key;
        CK_RV rv = rsa_public(n, nlen, e, elen, &key);
        free(n);
        free(e);
        if (rv != CKR_OK) {
            key_refused(k, file, tests, rv);
            continue;
        }
        CK_RSA_PKCS_PSS_PARAMS pp = {h->digest, h->mgf, (CK_ULONG)kat_int(g, "saltLen")};
        CK_MECHANISM m = {mt, pss ? &pp : NULL, pss ? sizeof(pp) : 0};
        json_array_foreach(tests, ti, t)
        {
            size_t mlen, slen;
            unsigned char *msg = kat_hexreq(t, "message", &mlen);
            unsigned char *sig = kat_hexreq(t, "signature", &slen);
            kat_check_verify(k, file, kat_int(t, "tcId"), siggen ? KAT_VALID : kat_expect_of(t),
                             key, &m, msg, mlen, sig, slen);
            free(msg);
            free(sig);
        }
        kat_destroy(key);
    }
    json_decref(root);
}

#define WP_PKCS1_VERIFY "wycheproof/rsa_signature_2048_sha256_test.json"
#define ACVP_SIGVER     "acvp/RSA-SigVer-FIPS186-5/internalProjection.json"
#define ACVP_SIGGEN     "acvp/RSA-SigGen-FIPS186-5/internalProjection.json"

/* Valid -> CKR_OK; invalid -> CKR_SIGNATURE_INVALID or _LEN_RANGE;
 * acceptable (e.g. a DigestInfo without its NULL) -> either. */
static void test_rsa_pkcs1_verify(void **state)
{
    (void)state;
    struct kat k;
    json_t *root = kat_load(WP_PKCS1_VERIFY), *g, *t;
    size_t gi, ti;
    kat_begin(&k, "RSA PKCS#1 v1.5 verify");
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const struct kat_hash *h = kat_hash_find(kat_str(g, "sha"));
        const json_t *tests = json_object_get(g, "tests");
        CK_OBJECT_HANDLE key;
        assert_non_null(h);
        unsigned ntests = (unsigned)json_array_size(tests);
        k.vectors += ntests;
        if (!kat_mech(&k, h->rsa_pkcs, h->wycheproof, ntests))
            continue;
        CK_RV rv = rsa_public_wp(g, &key);
        if (rv != CKR_OK) {
            key_refused(&k, WP_PKCS1_VERIFY, tests, rv);
            continue;
        }
        CK_MECHANISM m = {h->rsa_pkcs, NULL, 0};
        json_array_foreach(tests, ti, t)
        {
            size_t mlen, slen;
            unsigned char *msg = kat_hexreq(t, "msg", &mlen), *sig = kat_hexreq(t, "sig", &slen);
            kat_check_verify(&k, WP_PKCS1_VERIFY, kat_int(t, "tcId"), kat_expect_of(t), key, &m,
                             msg, mlen, sig, slen);
            free(msg);
            free(sig);
        }
        kat_destroy(key);
    }
    json_decref(root);
    rsa_acvp_verify(&k, ACVP_SIGVER, "pkcs1v1.5");
    rsa_acvp_verify(&k, ACVP_SIGGEN, "pkcs1v1.5");
    kat_end(&k);
}

/* ---- PSS ------------------------------------------------------------------- */

#define WP_PSS "wycheproof/rsa_pss_2048_sha256_mgf1_32_test.json"

/* CK_RSA_PKCS_PSS_PARAMS {hashAlg, CKG_MGF1_<mgf hash>, sLen}.  ACVP's
 * SHAKE-128/256 PSS groups have no PKCS#11 mechanism and are not run. */
static void test_rsa_pss_verify(void **state)
{
    (void)state;
    struct kat k;
    json_t *root = kat_load(WP_PSS), *g, *t;
    size_t gi, ti;
    kat_begin(&k, "RSA PSS verify");
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const struct kat_hash *h = kat_hash_find(kat_str(g, "sha"));
        const struct kat_hash *mh = kat_hash_find(kat_str(g, "mgfSha"));
        const json_t *tests = json_object_get(g, "tests");
        CK_OBJECT_HANDLE key;
        assert_non_null(h);
        assert_non_null(mh);
        assert_string_equal(kat_str(g, "mgf"), "MGF1");
        unsigned ntests = (unsigned)json_array_size(tests);
        k.vectors += ntests;
        if (!kat_mech(&k, h->rsa_pss, h->wycheproof, ntests))
            continue;
        CK_RV rv = rsa_public_wp(g, &key);
        if (rv != CKR_OK) {
            key_refused(&k, WP_PSS, tests, rv);
            continue;
        }
        CK_RSA_PKCS_PSS_PARAMS pp = {h->digest, mh->mgf, (CK_ULONG)kat_int(g, "sLen")};
        CK_MECHANISM m = {h->rsa_pss, &pp, sizeof(pp)};
        json_array_foreach(tests, ti, t)
        {
            size_t mlen, slen;
            unsigned char *msg = kat_hexreq(t, "msg", &mlen), *sig = kat_hexreq(t, "sig", &slen);
            kat_check_verify(&k, WP_PSS, kat_int(t, "tcId"), kat_expect_of(t), key, &m, msg, mlen,
                             sig, slen);
            free(msg);
            free(sig);
        }
        kat_destroy(key);
    }
    json_decref(root);
    rsa_acvp_verify(&k, ACVP_SIGVER, "pss");
    rsa_acvp_verify(&k, ACVP_SIGGEN, "pss");
    kat_end(&k);
}

/* ---- decryption ---------------------------------------------------------------- */

/* C_DecryptInit + C_Decrypt into out (*olen: its size in, length out). */
static CK_RV rsa_decrypt(CK_OBJECT_HANDLE key, CK_MECHANISM *m, const unsigned char *ct,
                         size_t clen, unsigned char *out, size_t *olen)
{
    CK_ULONG l = (CK_ULONG)*olen;
    CK_RV rv = KAT.f->C_DecryptInit(KAT.s, m, key);
    if (rv != CKR_OK)
        return rv;
    rv = KAT.f->C_Decrypt(KAT.s, (CK_BYTE_PTR)ct, (CK_ULONG)clen, out, &l);
    *olen = l;
    return rv;
}

/* One decryption of the Wycheproof test t with mechanism m.  Valid: the
 * plaintext.  Invalid: CKR_ENCRYPTED_DATA_INVALID, or _LEN_RANGE when the
 * ciphertext is not as long as the modulus.  With implicit_ok (PKCS#1 v1.5:
 * implicit rejection, as OpenSSL >= 3.2 does it, answers a bad padding with
 * a synthetic plaintext instead of an error, closing the padding oracle),
 * CKR_OK with a plaintext other than the message also counts as rejected
 * for a ciphertext of the right length below the modulus. */
static void rsa_check_decrypt(struct kat *k, const char *src, const json_t *t, CK_OBJECT_HANDLE key,
                              CK_MECHANISM *m, size_t klen, bool implicit_ok, unsigned *synthetic)
{
    long tc = kat_int(t, "tcId");
    enum kat_expect want = kat_expect_of(t);
    size_t mlen, clen, olen = RSA_MAX_BYTES;
    unsigned char *msg = kat_hexreq(t, "msg", &mlen), *ct = kat_hexreq(t, "ct", &clen);
    unsigned char out[RSA_MAX_BYTES];
    CK_RV rv = rsa_decrypt(key, m, ct, clen, out, &olen);
    bool same = rv == CKR_OK && olen == mlen && memcmp(out, msg, mlen) == 0;
    bool rejected = rv == CKR_ENCRYPTED_DATA_INVALID || rv == CKR_ENCRYPTED_DATA_LEN_RANGE;

    if (kat_unsupported(rv)) {
        kat_skip(k, "decryption parameters refused");
    } else if (want == KAT_VALID) {
        if (same)
            kat_pass(k);
        else if (rv != CKR_OK)
            kat_fail(k, src, tc, "C_Decrypt: %s", kat_rv_name(rv));
        else
            kat_fail(k, src, tc, "plaintext differs (%lu bytes)", (unsigned long)olen);
    } else if (rejected) {
        kat_pass(k);
    } else if (implicit_ok && rv == CKR_OK && !same && clen == klen) {
        (*synthetic)++;
        kat_pass(k);
    } else {
        kat_fail(k, src, tc, "C_Decrypt: %s%s, expected CKR_ENCRYPTED_DATA_INVALID/LEN_RANGE",
                 kat_rv_name(rv), same ? " with the message" : "");
    }
    free(msg);
    free(ct);
}

#define WP_OAEP "wycheproof/rsa_oaep_2048_sha256_mgf1sha256_test.json"

/* CK_RSA_PKCS_OAEP_PARAMS {hash, CKG_MGF1_<mgf hash>, CKZ_DATA_SPECIFIED,
 * label}. */
static void test_rsa_oaep_decrypt(void **state)
{
    (void)state;
    struct kat k;
    json_t *root = kat_load(WP_OAEP), *g, *t;
    size_t gi, ti;
    unsigned synthetic = 0;
    kat_begin(&k, "RSA OAEP decrypt");
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const struct kat_hash *h = kat_hash_find(kat_str(g, "sha"));
        const struct kat_hash *mh = kat_hash_find(kat_str(g, "mgfSha"));
        const json_t *tests = json_object_get(g, "tests");
        CK_OBJECT_HANDLE key;
        size_t klen = 0;
        assert_non_null(h);
        assert_non_null(mh);
        unsigned ntests = (unsigned)json_array_size(tests);
        k.vectors += ntests;
        if (!kat_mech(&k, CKM_RSA_PKCS_OAEP, "CKM_RSA_PKCS_OAEP", ntests))
            continue;
        CK_RV rv = rsa_private_pkcs8(g, &key, &klen);
        if (rv != CKR_OK) {
            key_refused(&k, WP_OAEP, tests, rv);
            continue;
        }
        json_array_foreach(tests, ti, t)
        {
            size_t llen;
            unsigned char *label = kat_hexreq(t, "label", &llen);
            CK_RSA_PKCS_OAEP_PARAMS op = {h->digest, mh->mgf, CKZ_DATA_SPECIFIED,
                                          llen > 0 ? label : NULL, (CK_ULONG)llen};
            CK_MECHANISM m = {CKM_RSA_PKCS_OAEP, &op, sizeof(op)};
            rsa_check_decrypt(&k, WP_OAEP, t, key, &m, klen, false, &synthetic);
            free(label);
        }
        kat_destroy(key);
    }
    json_decref(root);
    kat_end(&k);
}

#define WP_PKCS1_DEC "wycheproof/rsa_pkcs1_2048_test.json"

/* CKM_RSA_PKCS decryption, padding-oracle style invalid cases included; see
 * rsa_check_decrypt for implicit rejection. */
static void test_rsa_pkcs1_decrypt(void **state)
{
    (void)state;
    struct kat k;
    json_t *root = kat_load(WP_PKCS1_DEC), *g, *t;
    size_t gi, ti;
    unsigned synthetic = 0;
    kat_begin(&k, "RSA PKCS#1 v1.5 decrypt");
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const json_t *tests = json_object_get(g, "tests");
        CK_OBJECT_HANDLE key;
        size_t klen = 0;
        unsigned ntests = (unsigned)json_array_size(tests);
        k.vectors += ntests;
        if (!kat_mech(&k, CKM_RSA_PKCS, "CKM_RSA_PKCS", ntests))
            continue;
        CK_RV rv = rsa_private_pkcs8(g, &key, &klen);
        if (rv != CKR_OK) {
            key_refused(&k, WP_PKCS1_DEC, tests, rv);
            continue;
        }
        CK_MECHANISM m = {CKM_RSA_PKCS, NULL, 0};
        json_array_foreach(tests, ti, t)
        {
            rsa_check_decrypt(&k, WP_PKCS1_DEC, t, key, &m, klen, true, &synthetic);
        }
        kat_destroy(key);
    }
    json_decref(root);
    if (synthetic > 0) {
        char note[96];
        snprintf(note, sizeof(note), "%u invalid ciphertexts answered by implicit rejection",
                 synthetic);
        kat_note(&k, note);
    }
    kat_end(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rsa_pkcs1_sign),    cmocka_unit_test(test_rsa_pkcs1_verify),
        cmocka_unit_test(test_rsa_pss_verify),    cmocka_unit_test(test_rsa_oaep_decrypt),
        cmocka_unit_test(test_rsa_pkcs1_decrypt),
    };
    return cmocka_run_group_tests(tests, kat_group_setup, kat_group_teardown);
}
