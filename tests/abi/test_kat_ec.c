/* Known answers of the elliptic-curve mechanisms through the ABI: ECDSA
 * (verify, sign, key pairs), EdDSA (sign, verify), ECDH on the NIST curves
 * and X25519 / X448, from Wycheproof and NIST ACVP (tests/vectors/README.md).
 * Keys are session objects made with C_CreateObject: CKA_EC_PARAMS is the
 * DER OID of the curve, CKA_EC_POINT a DER OCTET STRING, private keys
 * CKA_VALUE.  OpenSSL checks what the module signs.  The RSA families are
 * in test_kat_asym.c; helpers in kat_util.h. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "kat_util.h"

#define EC_MAX_FIELD 66                     /* P-521 */
#define EC_MAX_POINT (1 + 2 * EC_MAX_FIELD) /* uncompressed */
#define EC_MAX_SIG   (2 * EC_MAX_FIELD)     /* r || s; Ed448: 114 */

static CK_OBJECT_CLASS c_pub = CKO_PUBLIC_KEY, c_priv = CKO_PRIVATE_KEY, c_secret = CKO_SECRET_KEY;
static CK_KEY_TYPE k_generic = CKK_GENERIC_SECRET;

/* ---- curves and keys ----------------------------------------------------------- */

struct curve {
    const char *acvp, *wycheproof, *ossl;
    CK_KEY_TYPE kt;
    size_t flen; /* field bytes; Edwards / Montgomery: key bytes */
    unsigned char oid[10];
    size_t oid_len;
    bool required; /* our module must support it */
};

// clang-format off
static const struct curve curves[] = {
    {"P-192", "secp192r1", "prime192v1", CKK_EC, 24,
     {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x01}, 10, false},
    {"P-224", "secp224r1", "secp224r1", CKK_EC, 28, {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x21}, 7,
     false},
    {"P-256", "secp256r1", "prime256v1", CKK_EC, 32,
     {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}, 10, true},
    {"P-384", "secp384r1", "secp384r1", CKK_EC, 48, {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}, 7,
     true},
    {"P-521", "secp521r1", "secp521r1", CKK_EC, 66, {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23}, 7,
     true},
    {"ED-25519", "edwards25519", "ED25519", CKK_EC_EDWARDS, 32, {0x06, 0x03, 0x2b, 0x65, 0x70}, 5,
     true},
    {"ED-448", "edwards448", "ED448", CKK_EC_EDWARDS, 57, {0x06, 0x03, 0x2b, 0x65, 0x71}, 5, true},
    {"Curve25519", "curve25519", "X25519", CKK_EC_MONTGOMERY, 32, {0x06, 0x03, 0x2b, 0x65, 0x6e},
     5, true},
    {"Curve448", "curve448", "X448", CKK_EC_MONTGOMERY, 56, {0x06, 0x03, 0x2b, 0x65, 0x6f}, 5,
     true},
};
// clang-format on

static const struct curve *curve_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < KAT_N(curves); i++)
        if (strcmp(name, curves[i].acvp) == 0 || strcmp(name, curves[i].wycheproof) == 0)
            return &curves[i];
    fail_msg("unknown curve %s", name != NULL ? name : "(none)");
    return NULL;
}

/* The big-endian integer in[0..n) as exactly flen bytes; false if larger. */
static bool fixlen(const unsigned char *in, size_t n, size_t flen, unsigned char *out)
{
    kat_strip(&in, &n);
    if (n > flen)
        return false;
    memset(out, 0, flen - n);
    memcpy(out + flen - n, in, n);
    return true;
}

/* DER OCTET STRING of v[0..n), n < 256, into out; its length. */
static size_t der_octets(const unsigned char *v, size_t n, unsigned char *out)
{
    size_t hdr = n < 0x80 ? 2 : 3;
    assert_true(n < 0x100);
    out[0] = 0x04;
    if (hdr == 2) {
        out[1] = (unsigned char)n;
    } else {
        out[1] = 0x81;
        out[2] = (unsigned char)n;
    }
    memcpy(out + hdr, v, n);
    return hdr + n;
}

/* 04 || X || Y of the hex fields x and y of o, each padded to the field. */
static size_t ec_point(const struct curve *c, const json_t *o, const char *x, const char *y,
                       unsigned char *out)
{
    size_t xl, yl;
    unsigned char *xb = kat_hexreq(o, x, &xl), *yb = kat_hexreq(o, y, &yl);
    out[0] = 0x04;
    assert_true(fixlen(xb, xl, c->flen, out + 1) && fixlen(yb, yl, c->flen, out + 1 + c->flen));
    free(xb);
    free(yb);
    return 1 + 2 * c->flen;
}

/* A private key: Weierstrass d padded to the field, Edwards / Montgomery raw
 * bytes; use is CKA_SIGN or CKA_DERIVE. */
static CK_RV ec_private(const struct curve *c, const unsigned char *d, size_t dlen,
                        CK_ATTRIBUTE_TYPE use, CK_OBJECT_HANDLE *h)
{
    unsigned char v[EC_MAX_FIELD + 1];
    CK_KEY_TYPE kt = c->kt;
    if (c->kt == CKK_EC) {
        if (!fixlen(d, dlen, c->flen, v))
            return CKR_ATTRIBUTE_VALUE_INVALID; /* larger than the field: cannot be d */
        dlen = c->flen;
    } else {
        assert_true(dlen <= sizeof(v));
        memcpy(v, d, dlen);
    }
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &c_priv, sizeof(c_priv)},
        {CKA_KEY_TYPE, &kt, sizeof(kt)},
        {CKA_TOKEN, &kat_false, sizeof(CK_BBOOL)},
        {use, &kat_true, sizeof(CK_BBOOL)},
        {CKA_EC_PARAMS, (void *)c->oid, (CK_ULONG)c->oid_len},
        {CKA_VALUE, v, (CK_ULONG)dlen},
    };
    CK_RV rv = kat_create(t, KAT_N(t), h);
    OPENSSL_cleanse(v, sizeof(v));
    return rv;
}

/* A public key with CKA_EC_POINT = DER OCTET STRING of pt (Weierstrass:
 * the uncompressed point; Edwards: the raw key). */
static CK_RV ec_public(const struct curve *c, const unsigned char *pt, size_t len,
                       CK_OBJECT_HANDLE *h)
{
    unsigned char der[EC_MAX_POINT + 3];
    CK_KEY_TYPE kt = c->kt;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &c_pub, sizeof(c_pub)},
        {CKA_KEY_TYPE, &kt, sizeof(kt)},
        {CKA_TOKEN, &kat_false, sizeof(CK_BBOOL)},
        {CKA_VERIFY, &kat_true, sizeof(CK_BBOOL)},
        {CKA_EC_PARAMS, (void *)c->oid, (CK_ULONG)c->oid_len},
        {CKA_EC_POINT, der, (CK_ULONG)der_octets(pt, len, der)},
    };
    return kat_create(t, KAT_N(t), h);
}

/* A key on curve c did not import for n checks: not applicable on a curve
 * our module need not support, skipped when SoftHSM lacks it, else failed. */
static void curve_refused(struct kat *k, const char *src, long tc, const struct curve *c, CK_RV rv,
                          unsigned n)
{
    char why[96];
    if (!c->required) {
        snprintf(why, sizeof(why), "%s keys: %s", c->acvp, kat_rv_name(rv));
        kat_na(k, n, why);
        return;
    }
    snprintf(why, sizeof(why), "%s key refused", c->acvp);
    while (n-- > 0) {
        if (kat_unsupported(rv))
            kat_skip(k, why);
        else
            kat_fail(k, src, tc, "%s key import: %s", c->acvp, kat_rv_name(rv));
    }
}

/* ---- OpenSSL's view ------------------------------------------------------------ */

static EVP_PKEY *ossl_ec_public(const struct curve *c, const unsigned char *pt, size_t len)
{
    OSSL_PARAM p[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)c->ossl, 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pt, len),
        OSSL_PARAM_END,
    };
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pk = NULL;
    assert_non_null(ctx);
    if (EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, p) != 1)
        pk = NULL;
    EVP_PKEY_CTX_free(ctx);
    return pk;
}

/* Does OpenSSL accept r || s (rslen bytes) as an ECDSA signature of the
 * digest dg under pub? */
static bool ossl_ecdsa_verify(EVP_PKEY *pub, const unsigned char *dg, size_t dlen,
                              const unsigned char *rs, size_t rslen)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, (int)(rslen / 2), NULL);
    BIGNUM *s = BN_bin2bn(rs + rslen / 2, (int)(rslen / 2), NULL);
    unsigned char *der = NULL;
    int dl;
    bool ok = false;
    assert_true(sig != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(sig, r, s) == 1);
    dl = i2d_ECDSA_SIG(sig, &der);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
    if (dl > 0 && ctx != NULL && EVP_PKEY_verify_init(ctx) == 1)
        ok = EVP_PKEY_verify(ctx, der, (size_t)dl, dg, dlen) == 1;
    EVP_PKEY_CTX_free(ctx);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    return ok;
}

/* A strict DER ECDSA-Sig-Value to r || s of 2 * flen bytes: false when the
 * encoding is not DER (BER, trailing bytes, negative or oversized
 * integers), which a caller rejects without asking the module. */
static bool der_to_rs(const unsigned char *der, size_t len, size_t flen, unsigned char *rs)
{
    const unsigned char *p = der;
    unsigned char *again = NULL;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    bool ok = sig != NULL && (size_t)(p - der) == len;
    if (ok) {
        int n = i2d_ECDSA_SIG(sig, &again);
        ok = n == (int)len && memcmp(again, der, len) == 0;
    }
    if (ok) {
        const BIGNUM *r = ECDSA_SIG_get0_r(sig), *s = ECDSA_SIG_get0_s(sig);
        ok = !BN_is_negative(r) && !BN_is_negative(s) && BN_bn2binpad(r, rs, (int)flen) > 0 &&
             BN_bn2binpad(s, rs + flen, (int)flen) > 0;
    }
    OPENSSL_free(again);
    ECDSA_SIG_free(sig);
    return ok;
}

/* ---- ECDSA verification ---------------------------------------------------------- */

/* msg and r || s under key: with CKM_ECDSA_<hash> when PKCS#11 has one,
 * and with CKM_ECDSA over the hash computed by OpenSSL. */
static void ecdsa_verify_both(struct kat *k, const char *src, long tc, enum kat_expect want,
                              CK_OBJECT_HANDLE key, const struct kat_hash *h,
                              const unsigned char *msg, size_t mlen, const unsigned char *sig,
                              size_t slen)
{
    char mname[40];
    unsigned char dg[64];
    snprintf(mname, sizeof(mname), "ECDSA with %s", h->acvp);
    if (h->ecdsa != 0 && kat_mech(k, h->ecdsa, mname, 1)) {
        CK_MECHANISM m = {h->ecdsa, NULL, 0};
        kat_check_verify(k, src, tc, want, key, &m, msg, mlen, sig, slen);
    }
    if (kat_mech(k, CKM_ECDSA, "CKM_ECDSA", 1)) {
        CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
        kat_digest(h, msg, mlen, dg);
        kat_check_verify(k, src, tc, want, key, &m, dg, h->len, sig, slen);
    }
}

/* Wycheproof ECDSA verify files: signatures raw r || s (P1363) or DER. */
static void ecdsa_wycheproof(struct kat *k, const char *file, bool der)
{
    json_t *root = kat_load(file), *g, *t;
    size_t gi, ti;
    unsigned before_module = 0;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const json_t *pk = json_object_get(g, "publicKey"), *tests = json_object_get(g, "tests");
        const struct curve *c = curve_find(kat_str(pk, "curve"));
        const struct kat_hash *h = kat_hash_find(kat_str(g, "sha"));
        unsigned ntests = (unsigned)json_array_size(tests);
        size_t plen;
        unsigned char *pt = kat_hexreq(pk, "uncompressed", &plen);
        CK_OBJECT_HANDLE key;
        assert_non_null(h);
        k->vectors += ntests;
        CK_RV rv = ec_public(c, pt, plen, &key);
        free(pt);
        if (rv != CKR_OK) {
            curve_refused(k, file, -1, c, rv, ntests);
            continue;
        }
        json_array_foreach(tests, ti, t)
        {
            long tc = kat_int(t, "tcId");
            enum kat_expect want = kat_expect_of(t);
            size_t mlen, slen;
            unsigned char *msg = kat_hexreq(t, "msg", &mlen), *sig = kat_hexreq(t, "sig", &slen);
            unsigned char rs[EC_MAX_SIG];
            if (!der) {
                ecdsa_verify_both(k, file, tc, want, key, h, msg, mlen, sig, slen);
            } else if (der_to_rs(sig, slen, c->flen, rs)) {
                ecdsa_verify_both(k, file, tc, want, key, h, msg, mlen, rs, 2 * c->flen);
            } else if (want != KAT_VALID) {
                before_module++;
                kat_pass(k);
            } else {
                kat_fail(k, file, tc, "valid signature is not DER");
            }
            free(msg);
            free(sig);
        }
        kat_destroy(key);
    }
    json_decref(root);
    if (before_module > 0) {
        char note[96];
        snprintf(note, sizeof(note), "%u non-DER signatures rejected before the module",
                 before_module);
        kat_note(k, note);
    }
}

#define ACVP_ECDSA_VER "acvp/ECDSA-SigVer-FIPS186-5/internalProjection.json"

/* ACVP SigVer: a key per test, r and s padded to the field. */
static void ecdsa_acvp_verify(struct kat *k)
{
    json_t *root = kat_load(ACVP_ECDSA_VER), *g, *t;
    size_t gi, ti;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const struct curve *c = curve_find(kat_str(g, "curve"));
        const struct kat_hash *h = kat_hash_find(kat_str(g, "hashAlg"));
        assert_non_null(h);
        if (h->ecdsa == 0)
            kat_note(k, "SHA2-512/256 and SHAKE: CKM_ECDSA over the hash only");
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            long tc = kat_int(t, "tcId");
            enum kat_expect want = kat_expect_of(t);
            unsigned char pt[EC_MAX_POINT], rs[EC_MAX_SIG];
            size_t plen = ec_point(c, t, "qx", "qy", pt), mlen, rl, sl;
            unsigned char *msg = kat_hexreq(t, "message", &mlen);
            unsigned char *r = kat_hexreq(t, "r", &rl), *s = kat_hexreq(t, "s", &sl);
            CK_OBJECT_HANDLE key;
            k->vectors++;
            CK_RV rv = ec_public(c, pt, plen, &key);
            if (rv != CKR_OK) {
                curve_refused(k, ACVP_ECDSA_VER, tc, c, rv, 1);
            } else if (fixlen(r, rl, c->flen, rs) && fixlen(s, sl, c->flen, rs + c->flen)) {
                ecdsa_verify_both(k, ACVP_ECDSA_VER, tc, want, key, h, msg, mlen, rs, 2 * c->flen);
            } else if (want != KAT_VALID) {
                kat_pass(k); /* r or s wider than the field */
            } else {
                kat_fail(k, ACVP_ECDSA_VER, tc, "r or s wider than the field");
            }
            if (rv == CKR_OK)
                kat_destroy(key);
            free(msg);
            free(r);
            free(s);
        }
    }
    json_decref(root);
}

/* Valid -> CKR_OK, invalid -> CKR_SIGNATURE_INVALID / _LEN_RANGE, with
 * CKM_ECDSA_<hash> and with CKM_ECDSA on the hash. */
static void test_ecdsa_verify(void **state)
{
    (void)state;
    struct kat k;
    kat_begin(&k, "ECDSA verify");
    ecdsa_wycheproof(&k, "wycheproof/ecdsa_secp256r1_sha256_p1363_test.json", false);
    ecdsa_wycheproof(&k, "wycheproof/ecdsa_secp256r1_sha256_test.json", true);
    ecdsa_acvp_verify(&k);
    kat_end(&k);
}

/* ---- ECDSA signing ------------------------------------------------------------- */

/* Signs in (the message, or its hash for CKM_ECDSA) with mechanism m; the
 * signature must be r || s of 2 * flen bytes that OpenSSL accepts for the
 * hash dg and that C_Verify accepts with the public key. */
static void ecdsa_sign_check(struct kat *k, const char *src, long tc, const struct curve *c,
                             CK_OBJECT_HANDLE priv, CK_OBJECT_HANDLE pub, EVP_PKEY *opub,
                             CK_MECHANISM *m, const unsigned char *in, size_t inlen,
                             const unsigned char *dg, size_t dlen)
{
    unsigned char sig[EC_MAX_SIG + 8];
    size_t slen = sizeof(sig);
    CK_RV rv = kat_sign_rv(priv, m, in, inlen, sig, &slen);
    if (kat_unsupported(rv)) {
        kat_skip(k, "ECDSA signing refused");
        return;
    }
    if (rv != CKR_OK) {
        kat_fail(k, src, tc, "C_Sign (0x%lx): %s", (unsigned long)m->mechanism, kat_rv_name(rv));
        return;
    }
    if (slen != 2 * c->flen) {
        kat_fail(k, src, tc, "signature of %lu bytes, expected %lu", (unsigned long)slen,
                 (unsigned long)(2 * c->flen));
        return;
    }
    if (!ossl_ecdsa_verify(opub, dg, dlen, sig, slen)) {
        kat_fail(k, src, tc, "OpenSSL rejects the signature (mechanism 0x%lx)",
                 (unsigned long)m->mechanism);
        return;
    }
    rv = kat_verify_rv(pub, m, in, inlen, sig, slen);
    if (rv != CKR_OK)
        kat_fail(k, src, tc, "C_Verify of its own signature: %s", kat_rv_name(rv));
    else
        kat_pass(k);
}

/* ACVP SigGen / DetECDSA SigGen: k is not ours to choose (and the module
 * may sign hedged), so each signature is checked, not compared.  The
 * vector's own r, s must verify too, except in SP800-106 groups, whose
 * message is randomized first. */
static void ecdsa_sign_file(struct kat *k, const char *file)
{
    json_t *root = kat_load(file), *g, *t;
    size_t gi, ti;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const struct curve *c = curve_find(kat_str(g, "curve"));
        const struct kat_hash *h = kat_hash_find(kat_str(g, "hashAlg"));
        const json_t *tests = json_object_get(g, "tests");
        const char *conf = kat_str(g, "conformance");
        const bool plain = conf == NULL || conf[0] == '\0';
        unsigned ntests = (unsigned)json_array_size(tests);
        unsigned char pt[EC_MAX_POINT];
        size_t plen = ec_point(c, g, "qx", "qy", pt), dlen;
        unsigned char *d = kat_hexreq(g, "d", &dlen);
        CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE, pub = CK_INVALID_HANDLE;
        EVP_PKEY *opub = ossl_ec_public(c, pt, plen);
        char mname[40];
        assert_non_null(h);
        assert_non_null(opub);
        k->vectors += ntests;
        CK_RV rv = ec_private(c, d, dlen, CKA_SIGN, &priv);
        if (rv == CKR_OK)
            rv = ec_public(c, pt, plen, &pub);
        free(d);
        if (rv != CKR_OK) {
            curve_refused(k, file, -1, c, rv, ntests);
        } else {
            if (!plain)
                kat_note(k, "SP800-106 groups: r, s of a randomized message not checked");
            snprintf(mname, sizeof(mname), "ECDSA with %s", h->acvp);
            CK_MECHANISM hm = {h->ecdsa, NULL, 0}, raw = {CKM_ECDSA, NULL, 0};
            json_array_foreach(tests, ti, t)
            {
                long tc = kat_int(t, "tcId");
                size_t mlen;
                unsigned char *msg = kat_hexreq(t, "message", &mlen), dg[64];
                kat_digest(h, msg, mlen, dg);
                if (h->ecdsa != 0 && kat_mech(k, h->ecdsa, mname, 1))
                    ecdsa_sign_check(k, file, tc, c, priv, pub, opub, &hm, msg, mlen, dg, h->len);
                if (kat_mech(k, CKM_ECDSA, "CKM_ECDSA", 1))
                    ecdsa_sign_check(k, file, tc, c, priv, pub, opub, &raw, dg, h->len, dg, h->len);
                if (plain) {
                    unsigned char rs[EC_MAX_SIG];
                    size_t rl, sl;
                    unsigned char *r = kat_hexreq(t, "r", &rl), *s = kat_hexreq(t, "s", &sl);
                    assert_true(fixlen(r, rl, c->flen, rs) && fixlen(s, sl, c->flen, rs + c->flen));
                    ecdsa_verify_both(k, file, tc, KAT_VALID, pub, h, msg, mlen, rs, 2 * c->flen);
                    free(r);
                    free(s);
                }
                free(msg);
            }
        }
        kat_destroy(priv);
        kat_destroy(pub);
        EVP_PKEY_free(opub);
    }
    json_decref(root);
}

static void test_ecdsa_sign(void **state)
{
    (void)state;
    struct kat k;
    kat_begin(&k, "ECDSA sign");
    ecdsa_sign_file(&k, "acvp/ECDSA-SigGen-FIPS186-5/internalProjection.json");
    ecdsa_sign_file(&k, "acvp/DetECDSA-SigGen-FIPS186-5/internalProjection.json");
    kat_end(&k);
}

#define ACVP_ECDSA_KEYGEN "acvp/ECDSA-KeyGen-FIPS186-5/internalProjection.json"

/* OpenSSL: is Q = d G? */
static bool ossl_ec_pair(const struct curve *c, const unsigned char *d, size_t dlen,
                         const unsigned char *pt, size_t plen)
{
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    BIGNUM *bn = BN_bin2bn(d, (int)dlen, NULL);
    OSSL_PARAM *p = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL), *chk = NULL;
    EVP_PKEY *pk = NULL;
    bool ok = false;
    assert_true(b != NULL && bn != NULL && ctx != NULL);
    if (OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, c->ossl, 0) == 1 &&
        OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, bn) == 1 &&
        OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt, plen) == 1 &&
        (p = OSSL_PARAM_BLD_to_param(b)) != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_KEYPAIR, p) == 1 &&
        (chk = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) != NULL)
        ok = EVP_PKEY_pairwise_check(chk) == 1;
    EVP_PKEY_CTX_free(chk);
    EVP_PKEY_free(pk);
    OSSL_PARAM_free(p);
    EVP_PKEY_CTX_free(ctx);
    BN_clear_free(bn);
    OSSL_PARAM_BLD_free(b);
    return ok;
}

/* ACVP KeyGen, kept short: the module need not show the point of a private
 * key, so d and Q import as two objects (after OpenSSL confirms Q = d G)
 * and a CKM_ECDSA signature by the one verifies with the other. */
static void test_ecdsa_keygen(void **state)
{
    (void)state;
    struct kat k;
    json_t *root = kat_load(ACVP_ECDSA_KEYGEN), *g, *t;
    size_t gi, ti;
    static const unsigned char dg[32] = {0x4b, 0x41, 0x54};
    kat_begin(&k, "ECDSA key pairs");
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const struct curve *c = curve_find(kat_str(g, "curve"));
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            long tc = kat_int(t, "tcId");
            unsigned char pt[EC_MAX_POINT], sig[EC_MAX_SIG];
            size_t plen = ec_point(c, t, "qx", "qy", pt), dlen, slen = sizeof(sig);
            unsigned char *d = kat_hexreq(t, "d", &dlen);
            CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE, pub = CK_INVALID_HANDLE;
            CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
            k.vectors++;
            assert_true(ossl_ec_pair(c, d, dlen, pt, plen));
            CK_RV rv = ec_private(c, d, dlen, CKA_SIGN, &priv);
            if (rv == CKR_OK)
                rv = ec_public(c, pt, plen, &pub);
            if (rv != CKR_OK)
                curve_refused(&k, ACVP_ECDSA_KEYGEN, tc, c, rv, 1);
            else if (!kat_mech(&k, CKM_ECDSA, "CKM_ECDSA", 1))
                ;
            else if ((rv = kat_sign_rv(priv, &m, dg, sizeof(dg), sig, &slen)) != CKR_OK ||
                     (rv = kat_verify_rv(pub, &m, dg, sizeof(dg), sig, slen)) != CKR_OK)
                kat_fail(&k, ACVP_ECDSA_KEYGEN, tc, "sign with d, verify with Q: %s",
                         kat_rv_name(rv));
            else
                kat_pass(&k);
            kat_destroy(priv);
            kat_destroy(pub);
            OPENSSL_cleanse(d, dlen);
            free(d);
        }
    }
    json_decref(root);
    kat_end(&k);
}

/* ---- EdDSA --------------------------------------------------------------------- */

/* CKM_EDDSA: no parameter for pure Ed25519 / Ed448 without a context,
 * else CK_EDDSA_PARAMS {phFlag, context} (Ed25519ctx, Ed25519ph, Ed448,
 * Ed448ph).  The data is always the message: the token pre-hashes. */
static void eddsa_mech(bool ph, unsigned char *ctx, size_t clen, CK_EDDSA_PARAMS *p,
                       CK_MECHANISM *m)
{
    m->mechanism = CKM_EDDSA;
    m->pParameter = NULL;
    m->ulParameterLen = 0;
    if (!ph && clen == 0)
        return;
    p->phFlag = ph ? CK_TRUE : CK_FALSE;
    p->ulContextDataLen = (CK_ULONG)clen;
    p->pContextData = clen > 0 ? ctx : NULL;
    m->pParameter = p;
    m->ulParameterLen = sizeof(*p);
}

/* SoftHSM 2.6 takes CK_EDDSA_PARAMS but ignores them (it signs plain
 * Ed25519 / Ed448): with KAT_ALLOW_SKIP those checks are skipped. */
static bool eddsa_skipped(struct kat *k, const CK_MECHANISM *m)
{
    if (m->pParameter == NULL || !KAT.softhsm || !KAT.allow_skip)
        return false;
    kat_skip(k, "SoftHSM ignores CK_EDDSA_PARAMS");
    return true;
}

#define ACVP_EDDSA_GEN "acvp/EDDSA-SigGen-1.0/internalProjection.json"

/* One SigGen vector with its group's keys.  EdDSA is deterministic: the
 * signature must be the vector's, and the vector's must verify. */
static void eddsa_sign_one(struct kat *k, const struct curve *c, bool ph, CK_OBJECT_HANDLE priv,
                           CK_OBJECT_HANDLE pub, const json_t *t)
{
    long tc = kat_int(t, "tcId");
    size_t mlen, clen, elen, slen = EC_MAX_SIG;
    unsigned char *msg = kat_hexreq(t, "message", &mlen);
    unsigned char *ctx = kat_hexreq(t, "context", &clen);
    unsigned char *exp = kat_hexreq(t, "signature", &elen), sig[EC_MAX_SIG];
    CK_EDDSA_PARAMS p;
    CK_MECHANISM m;
    eddsa_mech(ph, ctx, clen, &p, &m);
    if (eddsa_skipped(k, &m)) {
        kat_skip(k, ""); /* and its verification */
    } else {
        CK_RV rv = kat_sign_rv(priv, &m, msg, mlen, sig, &slen);
        if (kat_unsupported(rv))
            kat_skip(k, ph ? "EdDSA pre-hash refused" : "EdDSA context refused");
        else if (rv != CKR_OK)
            kat_fail(k, ACVP_EDDSA_GEN, tc, "C_Sign (%s%s): %s", c->acvp, ph ? " ph" : "",
                     kat_rv_name(rv));
        else if (slen != elen || memcmp(sig, exp, elen) != 0)
            kat_fail(k, ACVP_EDDSA_GEN, tc, "signature differs (%s%s, context %lu bytes)", c->acvp,
                     ph ? " ph" : "", (unsigned long)clen);
        else
            kat_pass(k);
        kat_check_verify(k, ACVP_EDDSA_GEN, tc, KAT_VALID, pub, &m, msg, mlen, exp, elen);
    }
    free(msg);
    free(ctx);
    free(exp);
}

static void test_eddsa_sign(void **state)
{
    (void)state;
    struct kat k;
    json_t *root = kat_load(ACVP_EDDSA_GEN), *g, *t;
    size_t gi, ti;
    kat_begin(&k, "EdDSA sign");
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const struct curve *c = curve_find(kat_str(g, "curve"));
        const json_t *tests = json_object_get(g, "tests");
        unsigned ntests = (unsigned)json_array_size(tests);
        size_t dlen, qlen;
        unsigned char *d = kat_hexreq(g, "d", &dlen), *q = kat_hexreq(g, "q", &qlen);
        CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE, pub = CK_INVALID_HANDLE;
        k.vectors += ntests;
        if (kat_mech(&k, CKM_EDDSA, "CKM_EDDSA", 2 * ntests)) {
            CK_RV rv = ec_private(c, d, dlen, CKA_SIGN, &priv);
            if (rv == CKR_OK)
                rv = ec_public(c, q, qlen, &pub);
            if (rv != CKR_OK) {
                curve_refused(&k, ACVP_EDDSA_GEN, -1, c, rv, 2 * ntests);
            } else {
                json_array_foreach(tests, ti, t)
                {
                    eddsa_sign_one(&k, c, kat_bool(g, "preHash"), priv, pub, t);
                }
            }
        }
        kat_destroy(priv);
        kat_destroy(pub);
        OPENSSL_cleanse(d, dlen);
        free(d);
        free(q);
    }
    json_decref(root);
    kat_end(&k);
}

#define ACVP_EDDSA_VER "acvp/EDDSA-SigVer-1.0/internalProjection.json"
#define WP_ED25519     "wycheproof/ed25519_test.json"

/* One EdDSA verification; a public key that does not import counts as a
 * rejection of an invalid vector ("modify key"). */
static void eddsa_verify_one(struct kat *k, const char *src, long tc, enum kat_expect want,
                             const struct curve *c, bool ph, const unsigned char *q, size_t qlen,
                             const unsigned char *msg, size_t mlen, const unsigned char *sig,
                             size_t slen)
{
    CK_OBJECT_HANDLE pub;
    CK_EDDSA_PARAMS p;
    CK_MECHANISM m;
    CK_RV rv = ec_public(c, q, qlen, &pub);
    if (rv != CKR_OK && want != KAT_VALID) {
        kat_pass(k);
        return;
    }
    if (rv != CKR_OK) {
        curve_refused(k, src, tc, c, rv, 1);
        return;
    }
    eddsa_mech(ph, NULL, 0, &p, &m);
    if (!eddsa_skipped(k, &m))
        kat_check_verify(k, src, tc, want, pub, &m, msg, mlen, sig, slen);
    kat_destroy(pub);
}

static void test_eddsa_verify(void **state)
{
    (void)state;
    struct kat k;
    json_t *root = kat_load(ACVP_EDDSA_VER), *g, *t;
    size_t gi, ti;
    kat_begin(&k, "EdDSA verify");
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const struct curve *c = curve_find(kat_str(g, "curve"));
        const json_t *tests = json_object_get(g, "tests");
        unsigned ntests = (unsigned)json_array_size(tests);
        k.vectors += ntests;
        if (!kat_mech(&k, CKM_EDDSA, "CKM_EDDSA", ntests))
            continue;
        json_array_foreach(tests, ti, t)
        {
            size_t mlen, qlen, slen;
            unsigned char *msg = kat_hexreq(t, "message", &mlen), *q = kat_hexreq(t, "q", &qlen);
            unsigned char *sig = kat_hexreq(t, "signature", &slen);
            eddsa_verify_one(&k, ACVP_EDDSA_VER, kat_int(t, "tcId"), kat_expect_of(t), c,
                             kat_bool(g, "preHash"), q, qlen, msg, mlen, sig, slen);
            free(msg);
            free(q);
            free(sig);
        }
    }
    json_decref(root);
    root = kat_load(WP_ED25519);
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const json_t *pk = json_object_get(g, "publicKey"), *tests = json_object_get(g, "tests");
        const struct curve *c = curve_find(kat_str(pk, "curve"));
        unsigned ntests = (unsigned)json_array_size(tests);
        size_t qlen;
        unsigned char *q = kat_hexreq(pk, "pk", &qlen);
        k.vectors += ntests;
        if (kat_mech(&k, CKM_EDDSA, "CKM_EDDSA", ntests)) {
            json_array_foreach(tests, ti, t)
            {
                size_t mlen, slen;
                unsigned char *msg = kat_hexreq(t, "msg", &mlen);
                unsigned char *sig = kat_hexreq(t, "sig", &slen);
                eddsa_verify_one(&k, WP_ED25519, kat_int(t, "tcId"), kat_expect_of(t), c, false, q,
                                 qlen, msg, mlen, sig, slen);
                free(msg);
                free(sig);
            }
        }
        free(q);
    }
    json_decref(root);
    kat_end(&k);
}

/* ---- key agreement ------------------------------------------------------------- */

/* CKM_ECDH1_DERIVE {CKD_NULL, no shared data, pub} from base key priv into
 * an extractable generic secret of len bytes, read back into out. */
static CK_RV ecdh_derive(CK_OBJECT_HANDLE priv, const unsigned char *pub, size_t publen,
                         unsigned char *out, size_t len)
{
    CK_ECDH1_DERIVE_PARAMS p = {CKD_NULL, 0, NULL, (CK_ULONG)publen, (CK_BYTE_PTR)pub};
    CK_MECHANISM m = {CKM_ECDH1_DERIVE, &p, sizeof(p)};
    CK_ULONG vlen = (CK_ULONG)len;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &c_secret, sizeof(c_secret)},
        {CKA_KEY_TYPE, &k_generic, sizeof(k_generic)},
        {CKA_TOKEN, &kat_false, sizeof(CK_BBOOL)},
        {CKA_VALUE_LEN, &vlen, sizeof(vlen)},
        {CKA_EXTRACTABLE, &kat_true, sizeof(CK_BBOOL)},
        {CKA_SENSITIVE, &kat_false, sizeof(CK_BBOOL)},
    };
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_RV rv = KAT.f->C_DeriveKey(KAT.s, &m, priv, t, KAT_N(t), &h);
    if (rv != CKR_OK)
        return rv;
    CK_ATTRIBUTE v = {CKA_VALUE, out, (CK_ULONG)len};
    rv = KAT.f->C_GetAttributeValue(KAT.s, h, &v, 1);
    kat_destroy(h);
    if (rv == CKR_OK && v.ulValueLen != len)
        rv = CKR_KEY_SIZE_RANGE; /* reported as a mismatch */
    return rv;
}

/* One derivation on curve c with private key d and peer key pub.  Valid:
 * the shared secret.  Invalid: any error (shown).  Acceptable: an error,
 * or the shared secret. */
static void ecdh_check(struct kat *k, const char *src, long tc, enum kat_expect want,
                       const struct curve *c, const unsigned char *d, size_t dlen,
                       const unsigned char *pub, size_t publen, const unsigned char *shared,
                       size_t slen)
{
    CK_OBJECT_HANDLE priv;
    unsigned char out[EC_MAX_FIELD];
    CK_RV rv = ec_private(c, d, dlen, CKA_DERIVE, &priv);
    if (rv != CKR_OK) {
        curve_refused(k, src, tc, c, rv, 1);
        return;
    }
    rv = ecdh_derive(priv, pub, publen, out, c->flen);
    kat_destroy(priv);
    bool same = rv == CKR_OK && slen == c->flen && memcmp(out, shared, slen) == 0;
    if (kat_unsupported(rv) && want != KAT_INVALID) {
        kat_skip(k, "ECDH refused");
    } else if (want == KAT_INVALID || (want == KAT_EITHER && rv != CKR_OK)) {
        if (rv == CKR_OK) {
            kat_fail(k, src, tc, "C_DeriveKey accepted an invalid public key");
        } else {
            print_message("# %s: %s tcId %ld rejected: %s\n", k->name, src, tc, kat_rv_name(rv));
            kat_pass(k);
        }
    } else if (same) {
        kat_pass(k);
    } else {
        kat_fail(k, src, tc, "%s", rv == CKR_OK ? "shared secret differs" : kat_rv_name(rv));
    }
}

/* The EC point in a SubjectPublicKeyInfo, only for a named P-256 key;
 * NULL for anything else (not DER, another algorithm or curve, explicit
 * parameters), which the caller counts as rejected.  The point itself is
 * not checked here: that is the module's job. */
static unsigned char *spki_p256_point(const unsigned char *der, size_t len, size_t *plen)
{
    const unsigned char *p = der, *pk = NULL;
    X509_PUBKEY *xp = d2i_X509_PUBKEY(NULL, &p, (long)len);
    ASN1_OBJECT *alg = NULL;
    X509_ALGOR *a = NULL;
    const void *param = NULL;
    int pklen = 0, ptype = 0;
    unsigned char *out = NULL;
    if (xp != NULL && (size_t)(p - der) == len &&
        X509_PUBKEY_get0_param(&alg, &pk, &pklen, &a, xp) == 1 &&
        OBJ_obj2nid(alg) == NID_X9_62_id_ecPublicKey) {
        X509_ALGOR_get0(NULL, &ptype, &param, a);
        if (ptype == V_ASN1_OBJECT && OBJ_obj2nid(param) == NID_X9_62_prime256v1) {
            out = malloc(pklen > 0 ? (size_t)pklen : 1);
            assert_non_null(out);
            if (pklen > 0)
                memcpy(out, pk, (size_t)pklen);
            *plen = pklen > 0 ? (size_t)pklen : 0;
        }
    }
    X509_PUBKEY_free(xp);
    return out;
}

/* Wycheproof ECDH: the peer key as a raw point (ecpoint) or as an SPKI. */
static void ecdh_wycheproof(struct kat *k, const char *file, bool spki)
{
    json_t *root = kat_load(file), *g, *t;
    size_t gi, ti;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const struct curve *c = curve_find(kat_str(g, "curve"));
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            long tc = kat_int(t, "tcId");
            enum kat_expect want = kat_expect_of(t);
            size_t dlen, plen, slen;
            unsigned char *d = kat_hexreq(t, "private", &dlen);
            unsigned char *pub = kat_hexreq(t, "public", &plen);
            unsigned char *shared = kat_hexreq(t, "shared", &slen);
            k->vectors++;
            if (spki) {
                unsigned char *pt = spki_p256_point(pub, plen, &plen);
                free(pub);
                pub = pt;
            }
            if (pub == NULL && want == KAT_VALID)
                kat_fail(k, file, tc, "valid SPKI not understood");
            else if (pub == NULL)
                kat_pass(k); /* rejected before the module */
            else if (kat_mech(k, CKM_ECDH1_DERIVE, "CKM_ECDH1_DERIVE", 1))
                ecdh_check(k, file, tc, want, c, d, dlen, pub, plen, shared, slen);
            OPENSSL_cleanse(d, dlen);
            free(d);
            free(pub);
            free(shared);
        }
    }
    json_decref(root);
}

/* ACVP KAS-ECC component and scheme tests: the IUT's private key, the
 * server's public point, z = the x coordinate.  In the scheme tests
 * (noKdfNoKc) z is always the true secret: testPassed = false marks a
 * changed tag hashZIut = H(z), which is protocol logic, not the module's;
 * it is only checked as the sanity of the vector. */
static void ecdh_acvp(struct kat *k, const char *file, const char *dname, const char *xname,
                      const char *yname)
{
    json_t *root = kat_load(file), *g, *t;
    size_t gi, ti;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const struct curve *c = curve_find(kat_str(g, "curve"));
        const struct kat_hash *h = kat_hash_find(kat_str(g, "hashAlg"));
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            unsigned char pt[EC_MAX_POINT], tag[64];
            size_t plen = ec_point(c, t, xname, yname, pt), dlen, zlen, hlen;
            unsigned char *d = kat_hexreq(t, dname, &dlen), *z = kat_hexreq(t, "z", &zlen);
            unsigned char *hz = kat_hexfield(t, "hashZIut", &hlen);
            k->vectors++;
            if (hz != NULL) {
                assert_non_null(h);
                kat_digest(h, z, zlen, tag);
                assert_int_equal(hlen == h->len && memcmp(tag, hz, hlen) == 0,
                                 kat_bool(t, "testPassed"));
            }
            if (kat_mech(k, CKM_ECDH1_DERIVE, "CKM_ECDH1_DERIVE", 1))
                ecdh_check(k, file, kat_int(t, "tcId"), KAT_VALID, c, d, dlen, pt, plen, z, zlen);
            OPENSSL_cleanse(d, dlen);
            free(d);
            free(z);
            free(hz);
        }
    }
    json_decref(root);
}

static void test_ecdh(void **state)
{
    (void)state;
    struct kat k;
    kat_begin(&k, "ECDH");
    ecdh_wycheproof(&k, "wycheproof/ecdh_secp256r1_ecpoint_test.json", false);
    ecdh_wycheproof(&k, "wycheproof/ecdh_secp256r1_test.json", true);
    ecdh_acvp(&k, "acvp/KAS-ECC-CDH-Component-Sp800-56Ar3/internalProjection.json", "privateIut",
              "publicServerX", "publicServerY");
    ecdh_acvp(&k, "acvp/KAS-ECC-1.0/internalProjection.json", "ephemeralPrivateIut",
              "ephemeralPublicServerX", "ephemeralPublicServerY");
    kat_end(&k);
}

/* X25519 / X448: CKK_EC_MONTGOMERY keys, the peer's raw u-coordinate as the
 * public data.  An all-zero shared secret (low-order peer key) must not be
 * derived; Wycheproof marks those acceptable, an error is what we expect. */
static void test_xdh(void **state)
{
    (void)state;
    struct kat k;
    json_t *root = kat_load("wycheproof/x25519_test.json"), *g, *t;
    size_t gi, ti;
    kat_begin(&k, "X25519 / X448");
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const struct curve *c = curve_find(kat_str(g, "curve"));
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            long tc = kat_int(t, "tcId");
            size_t dlen, plen, slen;
            unsigned char *d = kat_hexreq(t, "private", &dlen);
            unsigned char *pub = kat_hexreq(t, "public", &plen);
            unsigned char *shared = kat_hexreq(t, "shared", &slen);
            enum kat_expect want = kat_expect_of(t);
            k.vectors++;
            if (kat_has_flag(t, "ZeroSharedSecret"))
                want = KAT_INVALID;
            if (kat_mech(&k, CKM_ECDH1_DERIVE, "CKM_ECDH1_DERIVE", 1))
                ecdh_check(&k, "wycheproof/x25519_test.json", tc, want, c, d, dlen, pub, plen,
                           shared, slen);
            OPENSSL_cleanse(d, dlen);
            free(d);
            free(pub);
            free(shared);
        }
    }
    json_decref(root);
    root = kat_load("acvp/XECDH-SSC-RFC7748/internalProjection.json");
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const struct curve *c = curve_find(kat_str(g, "curve"));
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            size_t dlen, plen, zlen;
            unsigned char *d = kat_hexreq(t, "privateIut", &dlen);
            unsigned char *pub = kat_hexreq(t, "publicServer", &plen);
            unsigned char *z = kat_hexreq(t, "z", &zlen);
            k.vectors++;
            if (kat_mech(&k, CKM_ECDH1_DERIVE, "CKM_ECDH1_DERIVE", 1))
                ecdh_check(&k, "acvp/XECDH-SSC-RFC7748", kat_int(t, "tcId"), kat_expect_of(t), c, d,
                           dlen, pub, plen, z, zlen);
            OPENSSL_cleanse(d, dlen);
            free(d);
            free(pub);
            free(z);
        }
    }
    json_decref(root);
    kat_end(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ecdsa_verify), cmocka_unit_test(test_ecdsa_sign),
        cmocka_unit_test(test_ecdsa_keygen), cmocka_unit_test(test_eddsa_sign),
        cmocka_unit_test(test_eddsa_verify), cmocka_unit_test(test_ecdh),
        cmocka_unit_test(test_xdh),
    };
    return cmocka_run_group_tests(tests, kat_group_setup, kat_group_teardown);
}
