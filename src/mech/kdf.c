/* Key derivation: HKDF (CKM_HKDF_DERIVE, CKM_HKDF_DATA), the SP 800-108
 * counter-mode KDF, PBKDF2 key generation (CKM_PKCS5_PBKD2) and the simple
 * string mechanisms (concatenation, XOR), in the module's library context.
 *
 * Lengths: a derive's len comes from the new key's template (0: none
 * given).  A length the mechanism cannot produce (more than HKDF's
 * 255 * HashLen, an extract-only PRK of another size, more than the
 * concatenation holds, more than an SP 800-108 counter or DKM field can
 * count) is CKR_TEMPLATE_INCONSISTENT; len 0 where the mechanism has no
 * natural length (SP 800-108) is CKR_TEMPLATE_INCOMPLETE.
 *
 * Not resolvable in this layer (no object handles here), refused with
 * CKR_MECHANISM_PARAM_INVALID: HKDF salt from a key (CKF_HKDF_SALT_KEY),
 * CKM_CONCATENATE_BASE_AND_KEY, SP 800-108 CK_SP800_108_KEY_HANDLE data and
 * additional derived keys. */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mech/mech.h"

#define KDF_MAX_OUT         ATTR_MAX_VALUE /* bytes a derive may produce (one attribute) */
#define HKDF_MAX_INFO       (32UL * 1024)  /* OpenSSL's HKDF info limit */
#define HKDF_MAX_SALT       ATTR_MAX_VALUE
#define KBKDF_MAX_PARAMS    32              /* CK_PRF_DATA_PARAM entries */
#define KBKDF_MAX_FIXED     MECH_MAX_BUFFER /* bytes of one byte-array entry */
#define STRING_MAX_DATA     ATTR_MAX_VALUE  /* CK_KEY_DERIVATION_STRING_DATA bytes */
#define PBKDF2_MAX_ITER     10000000UL
#define PBKDF2_MAX_SALT     ATTR_MAX_VALUE
#define PBKDF2_MAX_PASSWORD 0x10000UL /* bytes of password */

/* A new secure-heap buffer of len bytes for *out. */
static CK_RV secret_new(size_t len, unsigned char **out)
{
    *out = crypto_secret_alloc(len);
    return *out != NULL ? CKR_OK : CKR_HOST_MEMORY;
}

/* Is k a usable secret (a secret key with a value)? */
static bool has_secret(const struct key *k)
{
    return k != NULL && k->secret != NULL && k->secret_len > 0;
}

/* ---- HKDF (RFC 5869) ------------------------------------------------------ */

/* May the KDFs use the hash or MAC row pd as their PRF under cfg?  When it
 * is enabled, and in approved-only mode not SHA-1: NIST still allows it in
 * HKDF, SP 800-108 and PBKDF2, but Craton derives no new keys with SHA-1
 * there (NIST withdraws SHA-1 by 2030; docs/mechanisms.md). */
static bool prf_allowed(const struct mech_desc *pd, const struct config *cfg)
{
    return mech_enabled(pd, cfg) &&
           !(cfg->fips_approved_only && pd->alg != NULL && strcmp(pd->alg, "SHA1") == 0);
}
/* Base keys: CKK_GENERIC_SECRET or CKK_HKDF secret keys.  CKM_HKDF_DATA
 * derives a data object from the same kind of base; a data object given as
 * the base (cls CKO_DATA with its value in secret) is accepted too, should
 * the p11 layer build one. */
static bool hkdf_base_ok(const struct mech_desc *d, const struct key *k)
{
    if (!has_secret(k))
        return false;
    if (d->type == CKM_HKDF_DATA && k->cls == CKO_DATA)
        return true;
    return k->cls == CKO_SECRET_KEY && (k->type == CKK_GENERIC_SECRET || k->type == CKK_HKDF);
}

static CK_RV hkdf_derive(const struct mech_desc *d, const CK_MECHANISM *m, struct key *k,
                         struct crypto *c, const struct config *cfg, size_t len,
                         unsigned char **out, size_t *outlen)
{
    CK_HKDF_PARAMS p;
    const void *pp = NULL;
    const struct mech_desc *hd = NULL;
    EVP_MD *md = NULL;
    EVP_KDF *kdf = NULL;
    EVP_KDF_CTX *kctx = NULL;
    OSSL_PARAM params[6], *q = params;
    unsigned char *buf = NULL;
    size_t hlen = 0;
    int mode;
    CK_RV rv = mech_param(m, sizeof(p), &pp);

    if (rv != CKR_OK)
        goto out;
    memcpy(&p, pp, sizeof(p));
    rv = CKR_MECHANISM_PARAM_INVALID;
    if (!p.bExtract && !p.bExpand)
        goto out;
    hd = mech_find(p.prfHashMechanism);
    if (hd == NULL || hd->family != &mech_digest_family || !prf_allowed(hd, cfg))
        goto out;
    if (p.bExtract) {
        switch (p.ulSaltType) {
        case CKF_HKDF_SALT_NULL:
            break;
        case CKF_HKDF_SALT_DATA:
            if ((p.pSalt == NULL && p.ulSaltLen != 0) || p.ulSaltLen > HKDF_MAX_SALT)
                goto out;
            break;
        default: /* CKF_HKDF_SALT_KEY: the salt key's handle is not resolvable here */
            goto out;
        }
    }
    if (p.bExpand && ((p.pInfo == NULL && p.ulInfoLen != 0) || p.ulInfoLen > HKDF_MAX_INFO))
        goto out;
    rv = CKR_KEY_TYPE_INCONSISTENT;
    if (!hkdf_base_ok(d, k))
        goto out;

    rv = CKR_HOST_MEMORY;
    if ((md = EVP_MD_fetch(mech_libctx(c), hd->alg, NULL)) == NULL)
        goto out;
    rv = CKR_DEVICE_ERROR;
    if (EVP_MD_get_size(md) <= 0)
        goto out;
    hlen = (size_t)EVP_MD_get_size(md);

    rv = CKR_TEMPLATE_INCONSISTENT;
    if (p.bExtract && !p.bExpand) {
        mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
        if (len != 0 && len != hlen) /* the output is the PRK */
            goto out;
        len = hlen;
    } else {
        mode = p.bExtract ? EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND : EVP_KDF_HKDF_MODE_EXPAND_ONLY;
        if (len == 0)
            len = hlen;
        if (len > 255 * hlen || len > KDF_MAX_OUT)
            goto out;
    }

    *q++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    *q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)hd->alg, 0);
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, k->secret, k->secret_len);
    /* An empty salt is the same as none (HashLen zero bytes, RFC 5869 2.2). */
    if (p.bExtract && p.ulSaltType == CKF_HKDF_SALT_DATA && p.ulSaltLen > 0)
        *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, p.pSalt, p.ulSaltLen);
    if (p.bExpand && p.ulInfoLen > 0)
        *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, p.pInfo, p.ulInfoLen);
    *q = OSSL_PARAM_construct_end();

    rv = CKR_HOST_MEMORY;
    if ((kdf = EVP_KDF_fetch(mech_libctx(c), "HKDF", NULL)) == NULL ||
        (kctx = EVP_KDF_CTX_new(kdf)) == NULL)
        goto out;
    if ((rv = secret_new(len, &buf)) != CKR_OK)
        goto out;
    rv = CKR_DEVICE_ERROR;
    if (EVP_KDF_derive(kctx, buf, len, params) != 1)
        goto out;
    *out = buf;
    *outlen = len;
    buf = NULL;
    rv = CKR_OK;
out:
    crypto_secret_free(buf, len);
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    EVP_MD_free(md);
    return rv;
}

/* ---- SP 800-108 counter mode ------------------------------------------------
 *
 * K(i) = PRF(K_in, data[0] || data[1] || ...) for i = 1..n, each data entry
 * in the caller's order: the counter i (the one iteration variable), byte
 * arrays, the DKM length L.  Built here on EVP_MAC because OpenSSL's KBKDF
 * fixes the layout (counter || label || 0x00 || context || L). */

struct kbkdf {
    CK_PRF_DATA_PARAM dp[KBKDF_MAX_PARAMS]; /* the caller's entries, copied */
    CK_ULONG n;
    CK_SP800_108_COUNTER_FORMAT ctr; /* of the iteration variable */
    bool has_dkm;
    CK_SP800_108_DKM_LENGTH_FORMAT dkm;
    uint64_t L;      /* the DKM value, bits */
    const char *mac; /* "HMAC" or "CMAC" */
    const char *alg; /* HMAC digest */
    size_t h;        /* PRF output bytes */
};

/* The big- or little-endian encoding of v in width bits (a multiple of 8,
 * at most 64) into buf. */
static size_t encode_uint(uint64_t v, CK_ULONG width, bool little, unsigned char buf[8])
{
    size_t n = width / 8;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)(v >> (8 * i));
        buf[little ? i : n - 1 - i] = b;
    }
    return n;
}

/* Checks the data entries and copies them into kb. */
static CK_RV kbkdf_data(struct kbkdf *kb, const CK_PRF_DATA_PARAM *dp, CK_ULONG n)
{
    bool has_iter = false;
    if (dp == NULL || n == 0 || n > KBKDF_MAX_PARAMS)
        return CKR_MECHANISM_PARAM_INVALID;
    memcpy(kb->dp, dp, n * sizeof(*dp));
    kb->n = n;
    for (CK_ULONG i = 0; i < n; i++) {
        const CK_PRF_DATA_PARAM *e = &kb->dp[i];
        switch (e->type) {
        case CK_SP800_108_ITERATION_VARIABLE:
            if (has_iter || e->pValue == NULL ||
                e->ulValueLen != sizeof(CK_SP800_108_COUNTER_FORMAT))
                return CKR_MECHANISM_PARAM_INVALID;
            memcpy(&kb->ctr, e->pValue, sizeof(kb->ctr));
            if (kb->ctr.ulWidthInBits == 0 || kb->ctr.ulWidthInBits > 32 ||
                kb->ctr.ulWidthInBits % 8 != 0)
                return CKR_MECHANISM_PARAM_INVALID;
            has_iter = true;
            break;
        case CK_SP800_108_BYTE_ARRAY:
            if ((e->pValue == NULL && e->ulValueLen != 0) || e->ulValueLen > KBKDF_MAX_FIXED)
                return CKR_MECHANISM_PARAM_INVALID;
            break;
        case CK_SP800_108_DKM_LENGTH:
            if (kb->has_dkm || e->pValue == NULL ||
                e->ulValueLen != sizeof(CK_SP800_108_DKM_LENGTH_FORMAT))
                return CKR_MECHANISM_PARAM_INVALID;
            memcpy(&kb->dkm, e->pValue, sizeof(kb->dkm));
            if ((kb->dkm.dkmLengthMethod != CK_SP800_108_DKM_LENGTH_SUM_OF_KEYS &&
                 kb->dkm.dkmLengthMethod != CK_SP800_108_DKM_LENGTH_SUM_OF_SEGMENTS) ||
                kb->dkm.ulWidthInBits == 0 || kb->dkm.ulWidthInBits > 64 ||
                kb->dkm.ulWidthInBits % 8 != 0)
                return CKR_MECHANISM_PARAM_INVALID;
            kb->has_dkm = true;
            break;
        default: /* an optional counter (feedback modes only), a key handle, unknown */
            return CKR_MECHANISM_PARAM_INVALID;
        }
    }
    return has_iter ? CKR_OK : CKR_MECHANISM_PARAM_INVALID;
}

/* The PRF of prf (an HMAC or AES-CMAC mechanism enabled under cfg). */
static CK_RV kbkdf_prf(struct kbkdf *kb, CK_MECHANISM_TYPE prf, const struct config *cfg)
{
    const struct mech_desc *pd = mech_find(prf);
    if (pd == NULL || pd->family != &mech_mac_family || pd->arg != 0 || !prf_allowed(pd, cfg))
        return CKR_MECHANISM_PARAM_INVALID;
    kb->mac = pd->alg != NULL ? "HMAC" : "CMAC";
    kb->alg = pd->alg;
    return CKR_OK;
}

static CK_RV kbkdf_run(struct kbkdf *kb, const struct key *k, struct crypto *c, unsigned char *out,
                       size_t len)
{
    EVP_MAC *mac = NULL;
    EVP_MAC_CTX *base = NULL, *ctx = NULL;
    OSSL_PARAM params[2];
    unsigned char block[EVP_MAX_MD_SIZE], enc[8];
    const char *cipher = NULL;
    CK_RV rv = CKR_KEY_SIZE_RANGE;

    if (kb->alg != NULL) {
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)kb->alg, 0);
    } else {
        switch (k->secret_len) {
        case 16:
            cipher = "AES-128-CBC";
            break;
        case 24:
            cipher = "AES-192-CBC";
            break;
        case 32:
            cipher = "AES-256-CBC";
            break;
        default:
            goto out;
        }
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)cipher, 0);
    }
    params[1] = OSSL_PARAM_construct_end();

    rv = CKR_HOST_MEMORY;
    if ((mac = EVP_MAC_fetch(mech_libctx(c), kb->mac, NULL)) == NULL ||
        (base = EVP_MAC_CTX_new(mac)) == NULL)
        goto out;
    rv = CKR_DEVICE_ERROR;
    if (EVP_MAC_init(base, k->secret, k->secret_len, params) != 1)
        goto out;
    kb->h = EVP_MAC_CTX_get_mac_size(base);
    if (kb->h == 0 || kb->h > sizeof(block))
        goto out;

    /* The number of blocks must fit the counter; L must fit its field. */
    size_t blocks = (len + kb->h - 1) / kb->h;
    rv = CKR_TEMPLATE_INCONSISTENT;
    if ((uint64_t)blocks >= (uint64_t)1 << kb->ctr.ulWidthInBits)
        goto out;
    if (kb->has_dkm) {
        kb->L = kb->dkm.dkmLengthMethod == CK_SP800_108_DKM_LENGTH_SUM_OF_KEYS
                    ? (uint64_t)len * 8
                    : (uint64_t)blocks * kb->h * 8;
        if (kb->dkm.ulWidthInBits < 64 && kb->L >> kb->dkm.ulWidthInBits != 0)
            goto out;
    }

    rv = CKR_DEVICE_ERROR;
    for (size_t i = 1, done = 0; i <= blocks; i++) {
        if ((ctx = EVP_MAC_CTX_dup(base)) == NULL) {
            rv = CKR_HOST_MEMORY;
            goto out;
        }
        for (CK_ULONG j = 0; j < kb->n; j++) {
            const CK_PRF_DATA_PARAM *e = &kb->dp[j];
            const unsigned char *data = e->pValue;
            size_t n = e->ulValueLen;
            if (e->type == CK_SP800_108_ITERATION_VARIABLE) {
                n = encode_uint(i, kb->ctr.ulWidthInBits, kb->ctr.bLittleEndian, enc);
                data = enc;
            } else if (e->type == CK_SP800_108_DKM_LENGTH) {
                n = encode_uint(kb->L, kb->dkm.ulWidthInBits, kb->dkm.bLittleEndian, enc);
                data = enc;
            }
            if (n > 0 && EVP_MAC_update(ctx, data, n) != 1)
                goto out;
        }
        size_t got = 0;
        if (EVP_MAC_final(ctx, block, &got, sizeof(block)) != 1 || got != kb->h)
            goto out;
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;
        size_t take = len - done < kb->h ? len - done : kb->h;
        memcpy(out + done, block, take);
        done += take;
    }
    rv = CKR_OK;
out:
    OPENSSL_cleanse(block, sizeof(block));
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_CTX_free(base);
    EVP_MAC_free(mac);
    return rv;
}

static CK_RV kbkdf_derive(const struct mech_desc *d, const CK_MECHANISM *m, struct key *k,
                          struct crypto *c, const struct config *cfg, size_t len,
                          unsigned char **out, size_t *outlen)
{
    (void)d;
    CK_SP800_108_KDF_PARAMS p;
    const void *pp = NULL;
    struct kbkdf *kb = NULL;
    unsigned char *buf = NULL;
    CK_RV rv = mech_param(m, sizeof(p), &pp);

    if (rv != CKR_OK)
        goto out;
    memcpy(&p, pp, sizeof(p));
    rv = CKR_HOST_MEMORY;
    if ((kb = calloc(1, sizeof(*kb))) == NULL)
        goto out;
    if ((rv = kbkdf_prf(kb, p.prfType, cfg)) != CKR_OK ||
        (rv = kbkdf_data(kb, p.pDataParams, p.ulNumberOfDataParams)) != CKR_OK)
        goto out;
    rv = CKR_MECHANISM_PARAM_INVALID;
    if (p.ulAdditionalDerivedKeys != 0) /* their templates and handles live above */
        goto out;
    rv = CKR_KEY_TYPE_INCONSISTENT;
    if (!has_secret(k) || k->cls != CKO_SECRET_KEY)
        goto out;
    rv = CKR_TEMPLATE_INCOMPLETE;
    if (len == 0) /* no natural length: the template must say */
        goto out;
    rv = CKR_TEMPLATE_INCONSISTENT;
    if (len > KDF_MAX_OUT)
        goto out;
    if ((rv = secret_new(len, &buf)) != CKR_OK)
        goto out;
    if ((rv = kbkdf_run(kb, k, c, buf, len)) != CKR_OK)
        goto out;
    *out = buf;
    *outlen = len;
    buf = NULL;
out:
    crypto_secret_free(buf, len);
    free(kb);
    return rv;
}

/* ---- concatenation and XOR (PKCS#11 3.2 section 6.38) ---------------------- */

static CK_RV string_derive(const struct mech_desc *d, const CK_MECHANISM *m, struct key *k,
                           size_t len, unsigned char **out, size_t *outlen)
{
    CK_KEY_DERIVATION_STRING_DATA p;
    const void *pp = NULL;
    unsigned char *buf = NULL;
    size_t natural = 0;
    CK_RV rv = CKR_MECHANISM_PARAM_INVALID;

    if (d->type == CKM_CONCATENATE_BASE_AND_KEY) /* the second key's handle: not here */
        goto out;
    if ((rv = mech_param(m, sizeof(p), &pp)) != CKR_OK)
        goto out;
    memcpy(&p, pp, sizeof(p));
    rv = CKR_MECHANISM_PARAM_INVALID;
    if ((p.pData == NULL && p.ulLen != 0) || p.ulLen > STRING_MAX_DATA)
        goto out;
    rv = CKR_KEY_TYPE_INCONSISTENT;
    if (!has_secret(k) || k->cls != CKO_SECRET_KEY)
        goto out;
    if (d->type == CKM_XOR_BASE_AND_DATA) {
        natural = k->secret_len < p.ulLen ? k->secret_len : p.ulLen;
        rv = CKR_MECHANISM_PARAM_INVALID;
        if (natural == 0) /* no data: nothing to derive */
            goto out;
    } else {
        natural = k->secret_len + p.ulLen;
    }
    rv = CKR_TEMPLATE_INCONSISTENT;
    if (len > natural)
        goto out;
    if (len == 0)
        len = natural;
    rv = CKR_KEY_SIZE_RANGE;
    if (len > KDF_MAX_OUT)
        goto out;
    if ((rv = secret_new(len, &buf)) != CKR_OK)
        goto out;

    /* The first len bytes of the result. */
    const unsigned char *data = p.pData;
    switch (d->type) {
    case CKM_XOR_BASE_AND_DATA:
        for (size_t i = 0; i < len; i++)
            buf[i] = k->secret[i] ^ data[i];
        break;
    case CKM_CONCATENATE_BASE_AND_DATA: {
        size_t a = len < k->secret_len ? len : k->secret_len;
        memcpy(buf, k->secret, a);
        if (len > a)
            memcpy(buf + a, data, len - a);
        break;
    }
    default: { /* CKM_CONCATENATE_DATA_AND_BASE */
        size_t a = len < p.ulLen ? len : p.ulLen;
        if (a > 0)
            memcpy(buf, data, a);
        if (len > a)
            memcpy(buf + a, k->secret, len - a);
        break;
    }
    }
    *out = buf;
    *outlen = len;
    buf = NULL;
    rv = CKR_OK;
out:
    crypto_secret_free(buf, len);
    return rv;
}

static CK_RV kdf_derive(const struct mech_desc *d, const CK_MECHANISM *m, struct key *k,
                        struct crypto *c, const struct config *cfg, size_t len, unsigned char **out,
                        size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    if (m == NULL)
        return CKR_ARGUMENTS_BAD;
    switch (d->type) {
    case CKM_HKDF_DERIVE:
    case CKM_HKDF_DATA:
        return hkdf_derive(d, m, k, c, cfg, len, out, outlen);
    case CKM_SP800_108_COUNTER_KDF:
        return kbkdf_derive(d, m, k, c, cfg, len, out, outlen);
    case CKM_CONCATENATE_BASE_AND_KEY:
    case CKM_CONCATENATE_BASE_AND_DATA:
    case CKM_CONCATENATE_DATA_AND_BASE:
    case CKM_XOR_BASE_AND_DATA:
        return string_derive(d, m, k, len, out, outlen);
    default:
        return CKR_MECHANISM_INVALID;
    }
}

/* ---- PBKDF2 (PKCS #5 v2.1) key generation ----------------------------------- */

_Static_assert(sizeof(CK_PKCS5_PBKD2_PARAMS2) == sizeof(CK_PKCS5_PBKD2_PARAMS),
               "the 2.40 and 3.x PBKDF2 parameters are told apart by content, not size");

/* The HMAC mechanism of a CKP_PKCS5_PBKD2_HMAC_* PRF, or
 * CK_UNAVAILABLE_INFORMATION. */
static CK_MECHANISM_TYPE pbkdf2_prf(CK_PKCS5_PBKD2_PSEUDO_RANDOM_FUNCTION_TYPE prf)
{
    switch (prf) {
    case CKP_PKCS5_PBKD2_HMAC_SHA1:
        return CKM_SHA_1_HMAC;
    case CKP_PKCS5_PBKD2_HMAC_SHA224:
        return CKM_SHA224_HMAC;
    case CKP_PKCS5_PBKD2_HMAC_SHA256:
        return CKM_SHA256_HMAC;
    case CKP_PKCS5_PBKD2_HMAC_SHA384:
        return CKM_SHA384_HMAC;
    case CKP_PKCS5_PBKD2_HMAC_SHA512:
        return CKM_SHA512_HMAC;
    case CKP_PKCS5_PBKD2_HMAC_SHA512_224:
        return CKM_SHA512_224_HMAC;
    case CKP_PKCS5_PBKD2_HMAC_SHA512_256:
        return CKM_SHA512_256_HMAC;
    default:
        return CK_UNAVAILABLE_INFORMATION;
    }
}

/* The length of the key to generate, from t's CKA_KEY_TYPE and
 * CKA_VALUE_LEN (required except for fixed-length types). */
static CK_RV pbkdf2_keylen(const struct attrs *t, size_t *len)
{
    CK_ULONG kt = 0, vl = 0;
    CK_RV rv = attrs_get_ulong(t, CKA_KEY_TYPE, &kt);
    if (rv != CKR_OK)
        return rv;
    rv = attrs_get_ulong(t, CKA_VALUE_LEN, &vl);
    if (rv == CKR_TEMPLATE_INCOMPLETE && kt == CKK_DES3) {
        *len = 24;
        return CKR_OK;
    }
    if (rv != CKR_OK)
        return rv;
    switch (kt) {
    case CKK_AES:
        if (vl != 16 && vl != 24 && vl != 32)
            return CKR_ATTRIBUTE_VALUE_INVALID;
        break;
    case CKK_DES3:
        if (vl != 24)
            return CKR_ATTRIBUTE_VALUE_INVALID;
        break;
    default:
        if (vl == 0 || vl > KDF_MAX_OUT)
            return CKR_ATTRIBUTE_VALUE_INVALID;
        break;
    }
    *len = vl;
    return CKR_OK;
}

static CK_RV pbkdf2_generate(const struct mech_desc *d, const CK_MECHANISM *m, struct crypto *c,
                             const struct config *cfg, struct attrs *t)
{
    static unsigned char empty[1]; /* a non-NULL pointer for empty salts / passwords */
    CK_PKCS5_PBKD2_PARAMS2 p;
    const void *pp = NULL;
    const struct mech_desc *hd = NULL;
    EVP_KDF *kdf = NULL;
    EVP_KDF_CTX *kctx = NULL;
    OSSL_PARAM params[6];
    unsigned char *buf = NULL;
    size_t len = 0;
    CK_ULONG pwlen = 0;
    uint64_t iter = 0;
    int pkcs5 = 1;
    CK_RV rv = CKR_MECHANISM_INVALID;

    if (d->type != CKM_PKCS5_PBKD2 || m == NULL || t == NULL)
        goto out;
    if ((rv = mech_param(m, sizeof(p), &pp)) != CKR_OK)
        goto out;
    memcpy(&p, pp, sizeof(p));

    /* PKCS#11 2.40's CK_PKCS5_PBKD2_PARAMS had ulPasswordLen as a
     * CK_ULONG_PTR in the same place (same size): it cannot be told apart
     * from CK_PKCS5_PBKD2_PARAMS2 without dereferencing a value that may not
     * be a pointer, so only the 3.x structure is accepted; a 2.40 caller's
     * pointer is a length over PBKDF2_MAX_PASSWORD and refused below. */
    rv = CKR_MECHANISM_PARAM_INVALID;
    pwlen = p.ulPasswordLen;
    if (pwlen > PBKDF2_MAX_PASSWORD)
        goto out;
    if (p.saltSource != CKZ_SALT_SPECIFIED ||
        (p.pSaltSourceData == NULL && p.ulSaltSourceDataLen != 0) ||
        p.ulSaltSourceDataLen > PBKDF2_MAX_SALT)
        goto out;
    if (p.iterations < 1 || p.iterations > PBKDF2_MAX_ITER)
        goto out;
    hd = mech_find(pbkdf2_prf(p.prf));
    if (hd == NULL || hd->family != &mech_mac_family || !prf_allowed(hd, cfg) ||
        p.ulPrfDataLen != 0) /* pPrfData: GOST only */
        goto out;
    if (pwlen > PBKDF2_MAX_PASSWORD || (p.pPassword == NULL && pwlen != 0))
        goto out;
    if ((rv = pbkdf2_keylen(t, &len)) != CKR_OK)
        goto out;

    iter = p.iterations;
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
                                                  pwlen > 0 ? (void *)p.pPassword : empty, pwlen);
    params[1] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_SALT, p.ulSaltSourceDataLen > 0 ? p.pSaltSourceData : empty,
        p.ulSaltSourceDataLen);
    params[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_ITER, &iter);
    params[3] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)hd->alg, 0);
    /* No SP 800-132 lower bounds (salt >= 16 bytes, >= 1000 iterations,
     * key >= 14 bytes): the caller's choice; approved-only mode is the
     * policy layer's concern. */
    params[4] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_PKCS5, &pkcs5);
    params[5] = OSSL_PARAM_construct_end();

    rv = CKR_HOST_MEMORY;
    if ((kdf = EVP_KDF_fetch(mech_libctx(c), "PBKDF2", NULL)) == NULL ||
        (kctx = EVP_KDF_CTX_new(kdf)) == NULL)
        goto out;
    if ((rv = secret_new(len, &buf)) != CKR_OK)
        goto out;
    rv = CKR_DEVICE_ERROR;
    if (EVP_KDF_derive(kctx, buf, len, params) != 1)
        goto out;
    rv = attrs_set(t, CKO_SECRET_KEY, CKA_VALUE, buf, len);
out:
    crypto_secret_free(buf, len);
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    return rv;
}

const struct mech_family mech_kdf_family = {
    .name = "kdf",
    .generate = pbkdf2_generate,
    .derive = kdf_derive,
};
