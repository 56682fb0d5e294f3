/*
 * Key import: validation of application-supplied key material with the
 * module's own OpenSSL library context, and the attributes derived from it
 * (CKA_VALUE_LEN, CKA_MODULUS_BITS, CKA_PUBLIC_KEY_INFO, the normalised
 * CKA_EC_PARAMS / CKA_EC_POINT, a certificate's subject, issuer, serial and
 * CKA_PUBLIC_KEY_INFO).
 *
 * Every OpenSSL object is fetched from crypto_libctx(c) with a NULL property
 * query, so the process-wide default context is never touched.  Secret
 * temporaries (BIGNUMs of private components, decoded encodings) live in the
 * secure heap and are wiped on every path.
 */
#include "object/keyimport.h"

#include "object/curve.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/x509.h>

#include <string.h>

#define KI_RSA_MIN_BITS 1024  /* the policy layer may ask for more */
#define KI_RSA_MAX_BITS 16384 /* OPENSSL_RSA_MAX_MODULUS_BITS */
#define KI_EC_POINT_MAX 133   /* uncompressed P-521 point */

/* ---- small helpers -------------------------------------------------------- */

/* The attribute when present with a non-empty value, else NULL (an empty
 * value is what rules_complete_new leaves for an absent byte array). */
static const struct attr *given(const struct attrs *t, CK_ATTRIBUTE_TYPE type)
{
    const struct attr *a = attrs_find(t, type);
    return a != NULL && a->len > 0 ? a : NULL;
}

static bool same_bytes(const struct attr *a, const void *v, size_t len)
{
    return a->len == len && CRYPTO_memcmp(a->value, v, len) == 0;
}

/* Sets type to the DER OCTET STRING holding len (< 256) bytes of v. */
static CK_RV set_octet_string(struct attrs *t, CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE type,
                              const unsigned char *v, size_t len)
{
    unsigned char der[3 + KI_EC_POINT_MAX];
    size_t hdr = len < 0x80 ? 2 : 3;
    if (len > KI_EC_POINT_MAX)
        return CKR_GENERAL_ERROR;
    der[0] = 0x04;
    der[1] = len < 0x80 ? (unsigned char)len : 0x81;
    der[2] = (unsigned char)len;
    memcpy(der + hdr, v, len);
    const struct attr *cur = attrs_find(t, type);
    if (cur != NULL && same_bytes(cur, der, hdr + len))
        return CKR_OK;
    return attrs_set(t, cls, type, der, (CK_ULONG)(hdr + len));
}

/* A big-endian integer attribute as a BIGNUM (secure heap when secret). */
static CK_RV attr_bn(const struct attr *a, bool secret, BIGNUM **out)
{
    BIGNUM *bn = secret ? BN_secure_new() : BN_new();
    if (bn == NULL)
        return CKR_HOST_MEMORY;
    if (BN_bin2bn(a->value, (int)a->len, bn) == NULL) {
        BN_clear_free(bn);
        return CKR_HOST_MEMORY;
    }
    if (secret)
        BN_set_flags(bn, BN_FLG_CONSTTIME);
    *out = bn;
    return CKR_OK;
}

/* EVP_PKEY_fromdata for algorithm alg; a rejected key is
 * CKR_ATTRIBUTE_VALUE_INVALID. */
static CK_RV pkey_fromdata(OSSL_LIB_CTX *lc, const char *alg, int selection, OSSL_PARAM *params,
                           EVP_PKEY **out)
{
    CK_RV rv = CKR_HOST_MEMORY;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(lc, alg, NULL);
    if (pc == NULL)
        goto out;
    rv = CKR_DEVICE_ERROR;
    if (EVP_PKEY_fromdata_init(pc) != 1)
        goto out;
    rv = CKR_ATTRIBUTE_VALUE_INVALID;
    if (EVP_PKEY_fromdata(pc, out, selection, params) != 1)
        goto out;
    rv = CKR_OK;
out:
    EVP_PKEY_CTX_free(pc);
    return rv;
}

/* Same, from a parameter builder (freed here; its block may hold secrets). */
static CK_RV pkey_from_bld(OSSL_LIB_CTX *lc, const char *alg, int selection, OSSL_PARAM_BLD *bld,
                           EVP_PKEY **out)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    OSSL_PARAM_BLD_free(bld);
    if (params == NULL)
        return CKR_HOST_MEMORY;
    CK_RV rv = pkey_fromdata(lc, alg, selection, params, out);
    OSSL_PARAM_free(params); /* the secure part is wiped */
    return rv;
}

/* Runs one of EVP_PKEY_check / _public_check / _pairwise_check; fail is
 * returned when the key does not pass. */
static CK_RV pkey_check(OSSL_LIB_CTX *lc, EVP_PKEY *pkey, int (*check)(EVP_PKEY_CTX *), CK_RV fail)
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(lc, pkey, NULL);
    if (pc == NULL)
        return CKR_HOST_MEMORY;
    int r = check(pc);
    EVP_PKEY_CTX_free(pc);
    return r == 1 ? CKR_OK : fail;
}

/* CKA_PUBLIC_KEY_INFO: computed, or compared with the one given. */
static CK_RV set_spki(struct attrs *t, CK_OBJECT_CLASS cls, EVP_PKEY *pkey)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(pkey, &der);
    if (n <= 0)
        return CKR_DEVICE_ERROR;
    CK_RV rv = CKR_OK;
    const struct attr *a = given(t, CKA_PUBLIC_KEY_INFO);
    if (a != NULL)
        rv = same_bytes(a, der, (size_t)n) ? CKR_OK : CKR_TEMPLATE_INCONSISTENT;
    else
        rv = attrs_set(t, cls, CKA_PUBLIC_KEY_INFO, der, (CK_ULONG)n);
    OPENSSL_free(der);
    return rv;
}

/* ---- secret keys ---------------------------------------------------------- */

static bool secret_len_ok(CK_KEY_TYPE kt, CK_ULONG len)
{
    switch (kt) {
    case CKK_AES:
        return len == 16 || len == 24 || len == 32;
    case CKK_AES_XTS:
        return len == 32 || len == 64;
    case CKK_DES3:
        return len == 24;
    case CKK_CHACHA20:
    case CKK_POLY1305:
    case CKK_SALSA20:
        return len == 32;
    default: /* generic secret, HMAC, HKDF: any non-empty length */
        return len >= 1 && len <= ATTR_MAX_VALUE;
    }
}

static CK_RV check_secret(CK_KEY_TYPE kt, struct attrs *t)
{
    const struct attr *v = attrs_find(t, CKA_VALUE);
    if (v == NULL)
        return CKR_TEMPLATE_INCOMPLETE;
    if (!secret_len_ok(kt, v->len)) /* an empty value included */
        return CKR_ATTRIBUTE_VALUE_INVALID;
    if (attrs_find(t, CKA_VALUE_LEN) == NULL)
        return attrs_set_ulong(t, CKA_VALUE_LEN, v->len);
    CK_ULONG len = 0;
    CK_RV rv = attrs_get_ulong(t, CKA_VALUE_LEN, &len);
    if (rv != CKR_OK)
        return rv;
    return len == v->len ? CKR_OK : CKR_TEMPLATE_INCONSISTENT;
}

/* ---- RSA ------------------------------------------------------------------ */

static const CK_ATTRIBUTE_TYPE rsa_crt_types[5] = {
    CKA_PRIME_1, CKA_PRIME_2, CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT,
};
static const char *const rsa_crt_params[5] = {
    OSSL_PKEY_PARAM_RSA_FACTOR1,   OSSL_PKEY_PARAM_RSA_FACTOR2,      OSSL_PKEY_PARAM_RSA_EXPONENT1,
    OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
};

/* Without the CRT components OpenSSL cannot run its pairwise test, so check
 * (m^e)^d == m (mod n) for a random m instead. */
static CK_RV rsa_roundtrip(OSSL_LIB_CTX *lc, const BIGNUM *n, const BIGNUM *e, const BIGNUM *d)
{
    CK_RV rv = CKR_HOST_MEMORY;
    BN_CTX *bc = BN_CTX_secure_new_ex(lc);
    BIGNUM *m = BN_secure_new(), *c = BN_secure_new(), *r = BN_secure_new();
    if (bc == NULL || m == NULL || c == NULL || r == NULL)
        goto out;
    BN_set_flags(r, BN_FLG_CONSTTIME);
    rv = CKR_DEVICE_ERROR;
    if (BN_priv_rand_range_ex(m, n, 0, bc) != 1 ||
        (BN_cmp(m, BN_value_one()) <= 0 && BN_set_word(m, 2) != 1) ||
        BN_mod_exp(c, m, e, n, bc) != 1 || BN_mod_exp_mont_consttime(r, c, d, n, bc, NULL) != 1)
        goto out;
    rv = BN_cmp(r, m) == 0 ? CKR_OK : CKR_TEMPLATE_INCONSISTENT;
out:
    BN_clear_free(m);
    BN_clear_free(c);
    BN_clear_free(r);
    BN_CTX_free(bc);
    return rv;
}

/* CKA_MODULUS_BITS: a given value must match; public keys get it added. */
static CK_RV rsa_modulus_bits(struct attrs *t, CK_OBJECT_CLASS cls, int bits)
{
    if (attrs_find(t, CKA_MODULUS_BITS) == NULL)
        return cls == CKO_PUBLIC_KEY ? attrs_set_ulong(t, CKA_MODULUS_BITS, (CK_ULONG)bits)
                                     : CKR_OK;
    CK_ULONG given_bits = 0;
    CK_RV rv = attrs_get_ulong(t, CKA_MODULUS_BITS, &given_bits);
    if (rv != CKR_OK)
        return rv;
    return given_bits == (CK_ULONG)bits ? CKR_OK : CKR_TEMPLATE_INCONSISTENT;
}

static CK_RV check_rsa(OSSL_LIB_CTX *lc, CK_OBJECT_CLASS cls, struct attrs *t, EVP_PKEY **out)
{
    const bool priv = cls == CKO_PRIVATE_KEY;
    const struct attr *an = given(t, CKA_MODULUS), *ae = given(t, CKA_PUBLIC_EXPONENT);
    const struct attr *ad = given(t, CKA_PRIVATE_EXPONENT), *acrt[5] = {NULL};
    BIGNUM *n = NULL, *e = NULL, *d = NULL, *crt[5] = {NULL};
    OSSL_PARAM_BLD *bld = NULL;
    size_t ncrt = 0;
    int bits = 0;
    CK_RV rv = CKR_TEMPLATE_INCOMPLETE;

    if (an == NULL || ae == NULL || (priv && ad == NULL))
        goto out;
    if (priv) {
        for (size_t i = 0; i < ARRAY_SIZE(rsa_crt_types); i++)
            ncrt += (acrt[i] = given(t, rsa_crt_types[i])) != NULL;
        rv = CKR_TEMPLATE_INCONSISTENT;
        if (ncrt != 0 && ncrt != ARRAY_SIZE(rsa_crt_types))
            goto out;
    }
    if ((rv = attr_bn(an, false, &n)) != CKR_OK || (rv = attr_bn(ae, false, &e)) != CKR_OK)
        goto out;
    bits = BN_num_bits(n);
    rv = CKR_ATTRIBUTE_VALUE_INVALID;
    if (bits < KI_RSA_MIN_BITS || bits > KI_RSA_MAX_BITS || !BN_is_odd(n) || !BN_is_odd(e) ||
        BN_is_one(e) || BN_cmp(e, n) >= 0)
        goto out;

    rv = CKR_HOST_MEMORY;
    if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1)
        goto out;
    if (priv) {
        if ((rv = attr_bn(ad, true, &d)) != CKR_OK)
            goto out;
        rv = CKR_ATTRIBUTE_VALUE_INVALID;
        if (BN_is_zero(d) || BN_cmp(d, n) >= 0)
            goto out;
        rv = CKR_HOST_MEMORY;
        if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d) != 1)
            goto out;
        for (size_t i = 0; i < ncrt; i++) {
            if ((rv = attr_bn(acrt[i], true, &crt[i])) != CKR_OK)
                goto out;
            rv = CKR_HOST_MEMORY;
            if (OSSL_PARAM_BLD_push_BN(bld, rsa_crt_params[i], crt[i]) != 1)
                goto out;
        }
    }
    rv = pkey_from_bld(lc, "RSA", priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, bld, out);
    bld = NULL;
    if (rv != CKR_OK)
        goto out;
    /* n odd, no small factors, not a prime power; e odd and > 1. */
    if ((rv = pkey_check(lc, *out, EVP_PKEY_public_check, CKR_ATTRIBUTE_VALUE_INVALID)) != CKR_OK)
        goto out;
    if (priv && ncrt > 0) /* 0 < d < n; p, q prime, n = pq, de = 1 mod lcm, the CRT values */
        rv = pkey_check(lc, *out, EVP_PKEY_check, CKR_TEMPLATE_INCONSISTENT);
    else if (priv)
        rv = rsa_roundtrip(lc, n, e, d);
    /* Last: adding an attribute invalidates the attr pointers above. */
    if (rv == CKR_OK)
        rv = rsa_modulus_bits(t, cls, bits);
out:
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    BN_clear_free(d);
    for (size_t i = 0; i < ARRAY_SIZE(crt); i++)
        BN_clear_free(crt[i]);
    return rv;
}

/* ---- curves --------------------------------------------------------------- */

/* CKA_EC_PARAMS -> a curve of key type kt; the attribute is replaced by the
 * curve's OID.  Well-formed but unknown (other OID or name, explicit
 * parameters, implicitlyCA): CKR_CURVE_NOT_SUPPORTED. */
static CK_RV ec_curve(struct attrs *t, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt,
                      const struct curve **out)
{
    const struct attr *a = given(t, CKA_EC_PARAMS);
    const struct curve *cv = NULL;

    if (a == NULL)
        return CKR_TEMPLATE_INCOMPLETE;
    CK_RV rv = curve_from_params(a, &cv);
    if (rv != CKR_OK)
        return rv;
    if (cv->kt != kt) /* e.g. CKK_EC with Ed25519 */
        return CKR_TEMPLATE_INCONSISTENT;
    *out = cv;
    if (same_bytes(a, cv->oid, cv->oid_len))
        return CKR_OK;
    return attrs_set(t, cls, CKA_EC_PARAMS, cv->oid, (CK_ULONG)cv->oid_len);
}

/* CKA_EC_POINT as DER OCTET STRING (tried first) or raw octets; must decode
 * to a finite point on the curve. */
static bool ec_point_decode(const EC_GROUP *g, const struct attr *a, EC_POINT *pt, BN_CTX *bc)
{
    const unsigned char *v;
    unsigned char tag;
    size_t vlen;
    bool ok = curve_der_tlv(a->value, a->len, &tag, &v, &vlen) && tag == 0x04 &&
              EC_POINT_oct2point(g, pt, v, vlen, bc) == 1;
    if (!ok)
        ok = EC_POINT_oct2point(g, pt, a->value, a->len, bc) == 1;
    return ok && EC_POINT_is_at_infinity(g, pt) == 0 && EC_POINT_is_on_curve(g, pt, bc) == 1;
}

/* CKK_EC: private keys get their public point computed from the scalar so
 * that OpenSSL holds (and checks) a complete key pair. */
static CK_RV check_ec(OSSL_LIB_CTX *lc, CK_OBJECT_CLASS cls, struct attrs *t,
                      const struct curve *cv, EVP_PKEY **out)
{
    const bool priv = cls == CKO_PRIVATE_KEY;
    const struct attr *a = given(t, priv ? CKA_VALUE : CKA_EC_POINT);
    EC_GROUP *g = NULL;
    EC_POINT *pt = NULL;
    BN_CTX *bc = NULL;
    BIGNUM *d = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    unsigned char *pub = NULL;
    size_t publen = 0;
    CK_RV rv = CKR_TEMPLATE_INCOMPLETE;

    if (a == NULL)
        goto out;
    rv = CKR_HOST_MEMORY;
    if ((g = EC_GROUP_new_by_curve_name_ex(lc, NULL, cv->nid)) == NULL ||
        (pt = EC_POINT_new(g)) == NULL || (bc = BN_CTX_secure_new_ex(lc)) == NULL)
        goto out;
    if (priv) {
        if ((rv = attr_bn(a, true, &d)) != CKR_OK)
            goto out;
        rv = CKR_ATTRIBUTE_VALUE_INVALID;
        if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(g)) >= 0)
            goto out;
        rv = CKR_DEVICE_ERROR;
        if (EC_POINT_mul(g, pt, d, NULL, NULL, bc) != 1)
            goto out;
    } else if (!ec_point_decode(g, a, pt, bc)) {
        rv = CKR_ATTRIBUTE_VALUE_INVALID;
        goto out;
    }
    rv = CKR_HOST_MEMORY;
    publen = EC_POINT_point2buf(g, pt, POINT_CONVERSION_UNCOMPRESSED, &pub, bc);
    if (publen == 0 || publen > KI_EC_POINT_MAX || (bld = OSSL_PARAM_BLD_new()) == NULL ||
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, cv->name, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, publen) != 1 ||
        (priv && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1))
        goto out;
    rv = pkey_from_bld(lc, "EC", priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, bld, out);
    bld = NULL;
    if (rv != CKR_OK)
        goto out;
    rv = pkey_check(lc, *out, priv ? EVP_PKEY_check : EVP_PKEY_public_check,
                    CKR_ATTRIBUTE_VALUE_INVALID);
    if (rv == CKR_OK && !priv)
        rv = set_octet_string(t, cls, CKA_EC_POINT, pub, publen);
out:
    OSSL_PARAM_BLD_free(bld);
    OPENSSL_free(pub);
    BN_clear_free(d);
    BN_CTX_free(bc);
    EC_POINT_free(pt);
    EC_GROUP_free(g);
    return rv;
}

/* CKK_EC_EDWARDS / CKK_EC_MONTGOMERY: raw keys of the curve's length; the
 * public CKA_EC_POINT is accepted raw or as DER OCTET STRING and stored as
 * the latter. */
static CK_RV check_ecx(OSSL_LIB_CTX *lc, CK_OBJECT_CLASS cls, struct attrs *t,
                       const struct curve *cv, EVP_PKEY **out)
{
    const bool priv = cls == CKO_PRIVATE_KEY;
    const struct attr *a = given(t, priv ? CKA_VALUE : CKA_EC_POINT);
    const unsigned char *raw = NULL;
    unsigned char tag;
    size_t len = 0;

    if (a == NULL)
        return CKR_TEMPLATE_INCOMPLETE;
    if (a->len == cv->len) {
        raw = a->value;
        len = a->len;
    } else if (priv || !curve_der_tlv(a->value, a->len, &tag, &raw, &len) || tag != 0x04 ||
               len != cv->len) {
        return CKR_ATTRIBUTE_VALUE_INVALID;
    }
    if (priv)
        *out = EVP_PKEY_new_raw_private_key_ex(lc, cv->name, NULL, raw, len);
    else
        *out = EVP_PKEY_new_raw_public_key_ex(lc, cv->name, NULL, raw, len);
    if (*out == NULL)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    CK_RV rv = pkey_check(lc, *out, priv ? EVP_PKEY_pairwise_check : EVP_PKEY_public_check,
                          CKR_ATTRIBUTE_VALUE_INVALID);
    if (rv == CKR_OK && !priv)
        rv = set_octet_string(t, cls, CKA_EC_POINT, raw, len);
    return rv;
}

/* ---- ML-KEM, ML-DSA, SLH-DSA -------------------------------------------- */

struct pqc_set {
    CK_KEY_TYPE kt;
    CK_ULONG set;     /* CKA_PARAMETER_SET */
    const char *name; /* OpenSSL algorithm */
    size_t pub_len, priv_len;
    size_t seed_len; /* CKA_SEED of the private key; 0: none */
};

/* FIPS 203 table 3, FIPS 204 table 2, FIPS 205 table 2 (pk 2n, sk 4n). */
static const struct pqc_set pqc_sets[] = {
    {CKK_ML_KEM, CKP_ML_KEM_512, "ML-KEM-512", 800, 1632, 64},
    {CKK_ML_KEM, CKP_ML_KEM_768, "ML-KEM-768", 1184, 2400, 64},
    {CKK_ML_KEM, CKP_ML_KEM_1024, "ML-KEM-1024", 1568, 3168, 64},
    {CKK_ML_DSA, CKP_ML_DSA_44, "ML-DSA-44", 1312, 2560, 32},
    {CKK_ML_DSA, CKP_ML_DSA_65, "ML-DSA-65", 1952, 4032, 32},
    {CKK_ML_DSA, CKP_ML_DSA_87, "ML-DSA-87", 2592, 4896, 32},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHA2_128S, "SLH-DSA-SHA2-128s", 32, 64, 0},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_128S, "SLH-DSA-SHAKE-128s", 32, 64, 0},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHA2_128F, "SLH-DSA-SHA2-128f", 32, 64, 0},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_128F, "SLH-DSA-SHAKE-128f", 32, 64, 0},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHA2_192S, "SLH-DSA-SHA2-192s", 48, 96, 0},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_192S, "SLH-DSA-SHAKE-192s", 48, 96, 0},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHA2_192F, "SLH-DSA-SHA2-192f", 48, 96, 0},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_192F, "SLH-DSA-SHAKE-192f", 48, 96, 0},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHA2_256S, "SLH-DSA-SHA2-256s", 64, 128, 0},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_256S, "SLH-DSA-SHAKE-256s", 64, 128, 0},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHA2_256F, "SLH-DSA-SHA2-256f", 64, 128, 0},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_256F, "SLH-DSA-SHAKE-256f", 64, 128, 0},
};

/* A CKA_VALUE of the wrong length: one that fits another parameter set of
 * the same family contradicts CKA_PARAMETER_SET; anything else is simply
 * not a key. */
static CK_RV pqc_bad_len(CK_KEY_TYPE kt, bool priv, size_t len)
{
    for (size_t i = 0; i < ARRAY_SIZE(pqc_sets); i++)
        if (pqc_sets[i].kt == kt && len == (priv ? pqc_sets[i].priv_len : pqc_sets[i].pub_len))
            return CKR_TEMPLATE_INCONSISTENT;
    return CKR_ATTRIBUTE_VALUE_INVALID;
}

/* ML-KEM / ML-DSA key generation from the CKA_SEED of a private key. */
static CK_RV pqc_from_seed(OSSL_LIB_CTX *lc, const struct pqc_set *ps, const struct attr *seed,
                           EVP_PKEY **out)
{
    if (seed->len != ps->seed_len)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    OSSL_PARAM params[] = {
        /* OSSL_PKEY_PARAM_ML_KEM_SEED is the same name, "seed" */
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_ML_DSA_SEED, seed->value, seed->len),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(lc, ps->name, NULL);
    if (pc == NULL)
        return CKR_HOST_MEMORY;
    CK_RV rv = CKR_DEVICE_ERROR;
    if (EVP_PKEY_keygen_init(pc) == 1 && EVP_PKEY_CTX_set_params(pc, params) == 1 &&
        EVP_PKEY_generate(pc, out) == 1)
        rv = CKR_OK;
    EVP_PKEY_CTX_free(pc);
    return rv;
}

/* With a seed: CKA_VALUE, when given, must be the key the seed expands to;
 * otherwise it is filled in from the seed. */
static CK_RV pqc_seed(OSSL_LIB_CTX *lc, CK_OBJECT_CLASS cls, struct attrs *t,
                      const struct pqc_set *ps, const struct attr *seed, EVP_PKEY **out)
{
    EVP_PKEY *pkey = NULL;
    size_t len = 0;
    unsigned char *enc = OPENSSL_secure_malloc(ps->priv_len);
    CK_RV rv = CKR_HOST_MEMORY;
    if (enc == NULL)
        goto out;
    if ((rv = pqc_from_seed(lc, ps, seed, &pkey)) != CKR_OK)
        goto out;
    rv = CKR_DEVICE_ERROR;
    int ok =
        EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, enc, ps->priv_len, &len);
    if (ok != 1 || len != ps->priv_len)
        goto out;
    const struct attr *v = given(t, CKA_VALUE);
    if (v != NULL)
        rv = same_bytes(v, enc, len) ? CKR_OK : CKR_TEMPLATE_INCONSISTENT;
    else
        rv = attrs_set(t, cls, CKA_VALUE, enc, (CK_ULONG)len);
    if (rv == CKR_OK && *out == NULL) {
        *out = pkey;
        pkey = NULL;
    }
out:
    OPENSSL_secure_clear_free(enc, ps->priv_len);
    EVP_PKEY_free(pkey);
    return rv;
}

static CK_RV check_pqc(OSSL_LIB_CTX *lc, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, struct attrs *t,
                       EVP_PKEY **out)
{
    const bool priv = cls == CKO_PRIVATE_KEY;
    const struct pqc_set *ps = NULL;
    CK_ULONG set = 0;
    CK_RV rv = attrs_get_ulong(t, CKA_PARAMETER_SET, &set);
    if (rv != CKR_OK)
        return rv;
    for (size_t i = 0; i < ARRAY_SIZE(pqc_sets) && ps == NULL; i++)
        if (pqc_sets[i].kt == kt && pqc_sets[i].set == set)
            ps = &pqc_sets[i];
    if (ps == NULL)
        return CKR_PARAMETER_SET_NOT_SUPPORTED;

    const struct attr *v = given(t, CKA_VALUE);
    const struct attr *seed = priv && ps->seed_len > 0 ? given(t, CKA_SEED) : NULL;
    if (v == NULL && seed == NULL)
        return CKR_TEMPLATE_INCOMPLETE;
    if (v != NULL) {
        if (v->len != (priv ? ps->priv_len : ps->pub_len))
            return pqc_bad_len(kt, priv, v->len);
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_octet_string(
                priv ? OSSL_PKEY_PARAM_PRIV_KEY : OSSL_PKEY_PARAM_PUB_KEY, v->value, v->len),
            OSSL_PARAM_construct_end(),
        };
        rv =
            pkey_fromdata(lc, ps->name, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params, out);
        if (rv != CKR_OK)
            return rv;
    }
    if (seed != NULL && (rv = pqc_seed(lc, cls, t, ps, seed, out)) != CKR_OK)
        return rv;
    return pkey_check(lc, *out, priv ? EVP_PKEY_pairwise_check : EVP_PKEY_public_check,
                      CKR_ATTRIBUTE_VALUE_INVALID);
}

/* ---- certificates --------------------------------------------------------- */

typedef int (*i2d_fn)(const void *, unsigned char **);

/* Sets type to the DER of obj when the template has no (non-empty) value. */
static CK_RV fill_der(struct attrs *t, CK_ATTRIBUTE_TYPE type, const void *obj, i2d_fn i2d)
{
    if (given(t, type) != NULL)
        return CKR_OK;
    unsigned char *der = NULL;
    int n = obj != NULL ? i2d(obj, &der) : -1;
    if (n <= 0)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    CK_RV rv = attrs_set(t, CKO_CERTIFICATE, type, der, (CK_ULONG)n);
    OPENSSL_free(der);
    return rv;
}

static int i2d_name(const void *name, unsigned char **out)
{
    return i2d_X509_NAME(name, out);
}

static int i2d_integer(const void *i, unsigned char **out)
{
    return i2d_ASN1_INTEGER(i, out);
}

static int i2d_spki(const void *spki, unsigned char **out)
{
    return i2d_X509_PUBKEY(spki, out);
}

static CK_RV check_certificate(OSSL_LIB_CTX *lc, struct attrs *t)
{
    CK_ULONG type = 0;
    CK_RV rv = attrs_get_ulong(t, CKA_CERTIFICATE_TYPE, &type);
    if (rv != CKR_OK)
        return rv;
    if (type != CKC_X_509)
        return CKR_OK;
    const struct attr *v = given(t, CKA_VALUE);
    if (v == NULL) /* a certificate by reference (PKCS#11 3.0 4.6.3) */
        return given(t, CKA_URL) != NULL ? CKR_OK : CKR_TEMPLATE_INCOMPLETE;

    X509 *x = X509_new_ex(lc, NULL);
    if (x == NULL)
        return CKR_HOST_MEMORY;
    const unsigned char *p = v->value;
    rv = CKR_ATTRIBUTE_VALUE_INVALID;
    if (d2i_X509(&x, &p, (long)v->len) == NULL || p != v->value + v->len)
        goto out;
    if ((rv = fill_der(t, CKA_SUBJECT, X509_get_subject_name(x), i2d_name)) != CKR_OK ||
        (rv = fill_der(t, CKA_ISSUER, X509_get_issuer_name(x), i2d_name)) != CKR_OK)
        goto out;
    if ((rv = fill_der(t, CKA_SERIAL_NUMBER, X509_get0_serialNumber(x), i2d_integer)) != CKR_OK)
        goto out;
    rv = fill_der(t, CKA_PUBLIC_KEY_INFO, X509_get_X509_PUBKEY(x), i2d_spki);
out:
    X509_free(x); /* NULL when d2i_X509 failed and freed it */
    return rv;
}

/* ---- entry point ---------------------------------------------------------- */

/* Validates t and builds its EVP_PKEY (*out; NULL on error). */
static CK_RV build_asymmetric(OSSL_LIB_CTX *lc, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt,
                              struct attrs *t, EVP_PKEY **out)
{
    const struct curve *cv = NULL;
    EVP_PKEY *pkey = NULL;
    CK_RV rv;

    switch (kt) {
    case CKK_RSA:
        rv = check_rsa(lc, cls, t, &pkey);
        break;
    case CKK_EC:
    case CKK_EC_EDWARDS:
    case CKK_EC_MONTGOMERY:
        rv = ec_curve(t, cls, kt, &cv);
        if (rv == CKR_OK)
            rv = kt == CKK_EC ? check_ec(lc, cls, t, cv, &pkey) : check_ecx(lc, cls, t, cv, &pkey);
        break;
    case CKK_ML_KEM:
    case CKK_ML_DSA:
    case CKK_SLH_DSA:
        rv = check_pqc(lc, cls, kt, t, &pkey);
        break;
    default: /* a key type we cannot validate is not accepted */
        rv = CKR_ATTRIBUTE_VALUE_INVALID;
        break;
    }
    if (rv != CKR_OK) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    *out = pkey;
    return rv;
}

static CK_RV check_asymmetric(OSSL_LIB_CTX *lc, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt,
                              struct attrs *t)
{
    EVP_PKEY *pkey = NULL;
    CK_RV rv = build_asymmetric(lc, cls, kt, t, &pkey);
    if (rv == CKR_OK)
        rv = set_spki(t, cls, pkey);
    EVP_PKEY_free(pkey);
    return rv;
}

CK_RV keyimport_pkey(struct crypto *c, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, const struct attrs *a,
                     EVP_PKEY **out)
{
    struct attrs t = {0};
    *out = NULL;
    CK_RV rv = attrs_copy(a, &t);
    if (rv != CKR_OK)
        return rv;
    ERR_set_mark();
    rv = build_asymmetric((OSSL_LIB_CTX *)crypto_libctx(c), cls, kt, &t, out);
    ERR_pop_to_mark();
    attrs_free(&t);
    return rv;
}

CK_RV keyimport_check(struct crypto *c, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, struct attrs *t)
{
    if (c == NULL || t == NULL)
        return CKR_ARGUMENTS_BAD;
    OSSL_LIB_CTX *lc = (OSSL_LIB_CTX *)crypto_libctx(c);
    CK_RV rv = CKR_OK;

    /* Our failures must not leave entries in the thread's error queue. */
    ERR_set_mark();
    switch (cls) {
    case CKO_SECRET_KEY:
        rv = check_secret(kt, t);
        break;
    case CKO_PUBLIC_KEY:
    case CKO_PRIVATE_KEY:
        rv = check_asymmetric(lc, cls, kt, t);
        break;
    case CKO_CERTIFICATE:
        rv = check_certificate(lc, t);
        break;
    default: /* data objects, profiles, ...: nothing to validate */
        break;
    }
    ERR_pop_to_mark();
    return rv;
}
