/*
 * Elliptic-curve mechanisms on OpenSSL 3.5 EVP, in the module's library
 * context, with the key's cached EVP_PKEY (never re-parsed):
 *  - CKM_ECDSA: sign/verify of a precomputed hash (single-part only, as the
 *    spec's mechanism table says); CKM_ECDSA_SHA* / CKM_ECDSA_SHA3_*:
 *    hash-then-sign, multi-part.  Signatures in the PKCS#11 form r || s,
 *    each left-padded to the byte length of the group order; OpenSSL's DER
 *    ECDSA-Sig-Value is converted on the way out and in.
 *  - CKM_EDDSA: Ed25519, Ed25519ctx, Ed25519ph, Ed448, Ed448ph (RFC 8032)
 *    chosen by the optional CK_EDDSA_PARAMS.  Pure EdDSA hashes the whole
 *    message twice, so OpenSSL only signs in one shot: a multi-part
 *    operation buffers the message (up to MECH_MAX_BUFFER) and signs it at
 *    C_SignFinal / checks it at C_VerifyFinal.
 *  - C_DeriveKey with CKM_ECDH1_DERIVE (P-256/384/521, secp256k1, X25519,
 *    X448) and CKM_ECDH1_COFACTOR_DERIVE (Weierstrass curves): Z = the
 *    x-coordinate of the shared point (field-size bytes) or the X25519/X448
 *    output, then CKD_NULL (Z itself, truncated to the length asked), the
 *    ANSI X9.63 KDF (CKD_SHA*_KDF, CKD_SHA3_*_KDF) or the SP 800-56C
 *    one-step KDF (CKD_SHA*_KDF_SP800, CKD_SHA3_*_KDF_SP800) over the
 *    shared data.
 * Expected failures (bad signature, bad peer key) do not leave entries in
 * the thread's OpenSSL error queue.
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>

#include "mech/mech.h"

#define EC_HASH_MAX     1024UL                       /* CKM_ECDSA input bytes (a hash; generous) */
#define EC_ORDER_MAX    66                           /* bytes of the largest group order (P-521) */
#define EC_DER_SIG_MAX  (3 + 2 * (3 + EC_ORDER_MAX)) /* DER ECDSA-Sig-Value */
#define EC_FIELD_MAX    66  /* bytes of the largest field element (P-521) */
#define ED_CONTEXT_MAX  255 /* RFC 8032: context strings up to 255 bytes */
#define ED25519_SIG_LEN 64
#define ED448_SIG_LEN   114
#define X25519_LEN      32
#define X448_LEN        56
#define ECDH_SHARED_MAX ATTR_MAX_VALUE /* bytes of CK_ECDH1_DERIVE_PARAMS shared data */

enum ec_kind {
    EC_RAW,    /* CKM_ECDSA */
    EC_HASHED, /* CKM_ECDSA_SHA* */
    EC_EDDSA,  /* CKM_EDDSA */
};

struct ec_op {
    struct mech_op head;
    enum ec_kind kind;
    EVP_PKEY_CTX *pctx; /* EC_RAW: sign or verify context */
    EVP_MD_CTX *mdctx;  /* EC_HASHED, EC_EDDSA: DigestSign/DigestVerify context */
    size_t half;        /* ECDSA: bytes of r and of s */
    size_t siglen;      /* the signature's bytes */
    unsigned char *msg; /* EC_EDDSA multi-part: the buffered message */
    size_t msg_len, msg_cap;
};

/* ---- ECDSA signature encodings ------------------------------------------- */

CK_RV mech_ecdsa_from_der(const unsigned char *der, size_t derlen, size_t half, unsigned char *out)
{
    const unsigned char *p = der;
    const BIGNUM *r = NULL, *s = NULL;
    CK_RV rv = CKR_DEVICE_ERROR;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
    if (sig == NULL)
        goto out;
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_bn2binpad(r, out, (int)half) != (int)half ||
        BN_bn2binpad(s, out + half, (int)half) != (int)half)
        goto out;
    rv = CKR_OK;
out:
    ECDSA_SIG_free(sig);
    return rv;
}

CK_RV mech_ecdsa_to_der(const unsigned char *in, size_t half, unsigned char **der, size_t *derlen)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(in, (int)half, NULL), *s = BN_bin2bn(in + half, (int)half, NULL);
    CK_RV rv = CKR_HOST_MEMORY;
    int n;

    *der = NULL;
    if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1)
        goto out;
    r = s = NULL; /* owned by sig */
    if ((n = i2d_ECDSA_SIG(sig, der)) <= 0)
        goto out;
    *derlen = (size_t)n;
    rv = CKR_OK;
out:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return rv;
}

/* ---- CKM_ECDSA ------------------------------------------------------------ */

static CK_RV raw_sign(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                      unsigned char *out, CK_ULONG *outlen)
{
    struct ec_op *e = (struct ec_op *)op;
    unsigned char der[EC_DER_SIG_MAX];
    size_t derlen = sizeof(der);
    bool done;
    CK_RV rv = CKR_DATA_LEN_RANGE;

    if (inlen == 0 || inlen > EC_HASH_MAX)
        goto out;
    rv = mech_out(out, outlen, e->siglen, &done);
    if (done)
        goto out;
    /* OpenSSL truncates a hash longer than the order (FIPS 186-5 6.4.1). */
    ERR_set_mark();
    rv = EVP_PKEY_sign(e->pctx, der, &derlen, in, inlen) == 1
             ? mech_ecdsa_from_der(der, derlen, e->half, out)
             : CKR_DEVICE_ERROR;
    ERR_pop_to_mark();
    if (rv == CKR_OK)
        *outlen = e->siglen;
out:
    return rv;
}

static CK_RV raw_verify(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                        const unsigned char *sig, CK_ULONG siglen)
{
    struct ec_op *e = (struct ec_op *)op;
    unsigned char *der = NULL;
    size_t derlen = 0;
    CK_RV rv = CKR_DATA_LEN_RANGE;

    ERR_set_mark();
    if (inlen == 0 || inlen > EC_HASH_MAX)
        goto out;
    rv = CKR_SIGNATURE_LEN_RANGE;
    if (sig == NULL || siglen != e->siglen)
        goto out;
    if ((rv = mech_ecdsa_to_der(sig, e->half, &der, &derlen)) != CKR_OK)
        goto out;
    rv = EVP_PKEY_verify(e->pctx, der, derlen, in, inlen) == 1 ? CKR_OK : CKR_SIGNATURE_INVALID;
out:
    OPENSSL_free(der);
    ERR_pop_to_mark();
    return rv;
}

/* ---- CKM_ECDSA_SHA* --------------------------------------------------------- */

static CK_RV hashed_update(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                           unsigned char *out, CK_ULONG *outlen)
{
    struct ec_op *e = (struct ec_op *)op;
    (void)out;
    (void)outlen;
    if (inlen == 0)
        return CKR_OK;
    int r = op->fn == CKF_SIGN ? EVP_DigestSignUpdate(e->mdctx, in, inlen)
                               : EVP_DigestVerifyUpdate(e->mdctx, in, inlen);
    return r == 1 ? CKR_OK : CKR_DEVICE_ERROR;
}

static CK_RV hashed_final(struct mech_op *op, unsigned char *out, CK_ULONG *outlen)
{
    struct ec_op *e = (struct ec_op *)op;
    unsigned char der[EC_DER_SIG_MAX];
    size_t derlen = sizeof(der);
    bool done;
    CK_RV rv = mech_out(out, outlen, e->siglen, &done);
    if (done)
        goto out;
    ERR_set_mark();
    rv = EVP_DigestSignFinal(e->mdctx, der, &derlen) == 1
             ? mech_ecdsa_from_der(der, derlen, e->half, out)
             : CKR_DEVICE_ERROR;
    ERR_pop_to_mark();
    if (rv == CKR_OK)
        *outlen = e->siglen;
out:
    return rv;
}

static CK_RV hashed_sign(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                         unsigned char *out, CK_ULONG *outlen)
{
    struct ec_op *e = (struct ec_op *)op;
    bool done;
    CK_RV rv = mech_out(out, outlen, e->siglen, &done);
    if (done)
        return rv;
    if ((rv = hashed_update(op, in, inlen, NULL, NULL)) != CKR_OK)
        return rv;
    return hashed_final(op, out, outlen);
}

static CK_RV hashed_verify_final(struct mech_op *op, const unsigned char *sig, CK_ULONG siglen)
{
    struct ec_op *e = (struct ec_op *)op;
    unsigned char *der = NULL;
    size_t derlen = 0;
    CK_RV rv = CKR_SIGNATURE_LEN_RANGE;

    ERR_set_mark();
    if (sig == NULL || siglen != e->siglen)
        goto out;
    if ((rv = mech_ecdsa_to_der(sig, e->half, &der, &derlen)) != CKR_OK)
        goto out;
    rv = EVP_DigestVerifyFinal(e->mdctx, der, derlen) == 1 ? CKR_OK : CKR_SIGNATURE_INVALID;
out:
    OPENSSL_free(der);
    ERR_pop_to_mark();
    return rv;
}

static CK_RV hashed_verify(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                           const unsigned char *sig, CK_ULONG siglen)
{
    struct ec_op *e = (struct ec_op *)op;
    if (sig == NULL || siglen != e->siglen)
        return CKR_SIGNATURE_LEN_RANGE;
    CK_RV rv = hashed_update(op, in, inlen, NULL, NULL);
    if (rv != CKR_OK)
        return rv;
    return hashed_verify_final(op, sig, siglen);
}

/* ---- CKM_EDDSA ------------------------------------------------------------ */

static const unsigned char ed_empty[1];

/* Appends a part of the message to the buffer. */
static CK_RV eddsa_update(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                          unsigned char *out, CK_ULONG *outlen)
{
    struct ec_op *e = (struct ec_op *)op;
    (void)out;
    (void)outlen;
    if (inlen == 0)
        return CKR_OK;
    if (inlen > MECH_MAX_BUFFER - e->msg_len)
        return CKR_DATA_LEN_RANGE;
    size_t need = e->msg_len + inlen;
    if (need > e->msg_cap) {
        size_t cap = e->msg_cap < 4096 ? 4096 : e->msg_cap;
        while (cap < need)
            cap = cap > MECH_MAX_BUFFER / 2 ? MECH_MAX_BUFFER : cap * 2;
        unsigned char *p = realloc(e->msg, cap);
        if (p == NULL)
            return CKR_HOST_MEMORY;
        e->msg = p;
        e->msg_cap = cap;
    }
    memcpy(e->msg + e->msg_len, in, inlen);
    e->msg_len = need;
    return CKR_OK;
}

static CK_RV eddsa_sign(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                        unsigned char *out, CK_ULONG *outlen)
{
    struct ec_op *e = (struct ec_op *)op;
    size_t n = e->siglen;
    bool done;
    CK_RV rv = mech_out(out, outlen, e->siglen, &done);
    if (done)
        return rv;
    if (inlen > MECH_MAX_BUFFER)
        return CKR_DATA_LEN_RANGE;
    ERR_set_mark();
    rv = EVP_DigestSign(e->mdctx, out, &n, in != NULL ? in : ed_empty, inlen) == 1 && n == e->siglen
             ? CKR_OK
             : CKR_DEVICE_ERROR;
    ERR_pop_to_mark();
    if (rv == CKR_OK)
        *outlen = (CK_ULONG)n;
    return rv;
}

static CK_RV eddsa_final(struct mech_op *op, unsigned char *out, CK_ULONG *outlen)
{
    struct ec_op *e = (struct ec_op *)op;
    return eddsa_sign(op, e->msg, e->msg_len, out, outlen);
}

static CK_RV eddsa_verify(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                          const unsigned char *sig, CK_ULONG siglen)
{
    struct ec_op *e = (struct ec_op *)op;
    CK_RV rv = CKR_SIGNATURE_LEN_RANGE;
    ERR_set_mark();
    if (sig == NULL || siglen != e->siglen)
        goto out;
    rv = CKR_DATA_LEN_RANGE;
    if (inlen > MECH_MAX_BUFFER)
        goto out;
    rv = EVP_DigestVerify(e->mdctx, sig, siglen, in != NULL ? in : ed_empty, inlen) == 1
             ? CKR_OK
             : CKR_SIGNATURE_INVALID;
out:
    ERR_pop_to_mark();
    return rv;
}

static CK_RV eddsa_verify_final(struct mech_op *op, const unsigned char *sig, CK_ULONG siglen)
{
    struct ec_op *e = (struct ec_op *)op;
    return eddsa_verify(op, e->msg, e->msg_len, sig, siglen);
}

/* ---- operations ----------------------------------------------------------- */

static void ec_free(struct mech_op *op)
{
    struct ec_op *e = (struct ec_op *)op;
    EVP_PKEY_CTX_free(e->pctx);
    EVP_MD_CTX_free(e->mdctx);
    if (e->msg != NULL)
        OPENSSL_cleanse(e->msg, e->msg_len);
    free(e->msg);
}

/* [kind][0 = sign, 1 = verify].  CKM_ECDSA has no update: single-part. */
static const struct mech_op_ops ec_ops[3][2] = {
    [EC_RAW] = {{.oneshot = raw_sign, .free = ec_free},
                {.verify_oneshot = raw_verify, .free = ec_free}},
    [EC_HASHED] =
        {{.update = hashed_update, .final = hashed_final, .oneshot = hashed_sign, .free = ec_free},
         {.update = hashed_update,
          .verify_final = hashed_verify_final,
          .verify_oneshot = hashed_verify,
          .free = ec_free}},
    [EC_EDDSA] =
        {{.update = eddsa_update, .final = eddsa_final, .oneshot = eddsa_sign, .free = ec_free},
         {.update = eddsa_update,
          .verify_final = eddsa_verify_final,
          .verify_oneshot = eddsa_verify,
          .free = ec_free}},
};

/* The RFC 8032 variant of a CKM_EDDSA parameter for an Ed25519 (ed448
 * false) or Ed448 key, and its context string.  No parameter: pure Ed25519
 * / Ed448 (empty context).  phFlag: Ed25519ph / Ed448ph; a non-empty context
 * without phFlag: Ed25519ctx / Ed448 with that context (Ed25519ctx with an
 * empty context is not defined, RFC 8032 5.1: pure Ed25519 then). */
static CK_RV eddsa_params(const CK_MECHANISM *m, bool ed448, const char **instance,
                          const unsigned char **context, size_t *context_len)
{
    const CK_EDDSA_PARAMS *p = NULL;
    bool ph = false;
    *context = NULL;
    *context_len = 0;
    if (m->ulParameterLen != 0) {
        CK_RV rv = mech_param(m, sizeof(*p), (const void **)&p);
        if (rv != CKR_OK)
            return rv;
        if (p->ulContextDataLen > ED_CONTEXT_MAX ||
            (p->ulContextDataLen > 0 && p->pContextData == NULL))
            return CKR_MECHANISM_PARAM_INVALID;
        ph = p->phFlag != CK_FALSE;
        *context = p->pContextData;
        *context_len = p->ulContextDataLen;
    }
    if (ed448)
        *instance = ph ? "Ed448ph" : "Ed448";
    else
        *instance = ph ? "Ed25519ph" : *context_len > 0 ? "Ed25519ctx" : "Ed25519";
    return CKR_OK;
}

static CK_RV eddsa_init(struct ec_op *e, const CK_MECHANISM *m, OSSL_LIB_CTX *lc, EVP_PKEY *pkey)
{
    const bool ed448 = EVP_PKEY_is_a(pkey, "ED448");
    const unsigned char *context;
    const char *instance;
    size_t context_len;
    OSSL_PARAM params[3], *p = params;

    if (!ed448 && !EVP_PKEY_is_a(pkey, "ED25519"))
        return CKR_KEY_TYPE_INCONSISTENT;
    CK_RV rv = eddsa_params(m, ed448, &instance, &context, &context_len);
    if (rv != CKR_OK)
        return rv;
    e->siglen = ed448 ? ED448_SIG_LEN : ED25519_SIG_LEN;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_INSTANCE, (char *)instance, 0);
    if (context_len > 0)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_SIGNATURE_PARAM_CONTEXT_STRING,
                                                 (void *)context, context_len);
    *p = OSSL_PARAM_construct_end();
    if ((e->mdctx = EVP_MD_CTX_new()) == NULL)
        return CKR_HOST_MEMORY;
    int r = e->head.fn == CKF_SIGN
                ? EVP_DigestSignInit_ex(e->mdctx, NULL, NULL, lc, NULL, pkey, params)
                : EVP_DigestVerifyInit_ex(e->mdctx, NULL, NULL, lc, NULL, pkey, params);
    return r == 1 ? CKR_OK : CKR_DEVICE_ERROR;
}

static CK_RV ecdsa_init(struct ec_op *e, const struct mech_desc *d, const CK_MECHANISM *m,
                        OSSL_LIB_CTX *lc, struct key *k)
{
    const bool sign = e->head.fn == CKF_SIGN;
    int r;

    if (m->ulParameterLen != 0)
        return CKR_MECHANISM_PARAM_INVALID;
    if (!EVP_PKEY_is_a(k->pkey, "EC"))
        return CKR_KEY_TYPE_INCONSISTENT;
    /* EVP_PKEY_get_bits of an EC key is the bit length of the order. */
    e->half = ((size_t)EVP_PKEY_get_bits(k->pkey) + 7) / 8;
    e->siglen = 2 * e->half;
    if (e->half == 0 || e->half > EC_ORDER_MAX || EVP_PKEY_get_size(k->pkey) > EC_DER_SIG_MAX)
        return CKR_KEY_SIZE_RANGE;
    if (e->kind == EC_RAW) {
        if ((e->pctx = EVP_PKEY_CTX_new_from_pkey(lc, k->pkey, NULL)) == NULL)
            return CKR_HOST_MEMORY;
        r = sign ? EVP_PKEY_sign_init(e->pctx) : EVP_PKEY_verify_init(e->pctx);
        return r == 1 ? CKR_OK : CKR_DEVICE_ERROR;
    }
    if ((e->mdctx = EVP_MD_CTX_new()) == NULL)
        return CKR_HOST_MEMORY;
    r = sign ? EVP_DigestSignInit_ex(e->mdctx, NULL, d->alg, lc, NULL, k->pkey, NULL)
             : EVP_DigestVerifyInit_ex(e->mdctx, NULL, d->alg, lc, NULL, k->pkey, NULL);
    if (r != 1)
        return CKR_DEVICE_ERROR;
    /* The operation ends with its final call: OpenSSL need not copy the
     * context to keep it usable afterwards. */
    EVP_MD_CTX_set_flags(e->mdctx, EVP_MD_CTX_FLAG_FINALISE);
    return CKR_OK;
}

static CK_RV ec_init(struct mech_op **out, const struct mech_desc *d, const CK_MECHANISM *m,
                     mech_fn fn, struct key *k, struct crypto *c, const struct config *cfg)
{
    OSSL_LIB_CTX *lc = (OSSL_LIB_CTX *)mech_libctx(c);
    struct ec_op *e = NULL;
    enum ec_kind kind;
    CK_KEY_TYPE kt;
    CK_RV rv;

    (void)cfg;
    *out = NULL;
    switch (d->type) {
    case CKM_ECDSA:
        kind = EC_RAW;
        kt = CKK_EC;
        break;
    case CKM_EDDSA:
        kind = EC_EDDSA;
        kt = CKK_EC_EDWARDS;
        break;
    default:
        if (d->alg == NULL) /* ECDH: C_DeriveKey only */
            return CKR_MECHANISM_INVALID;
        kind = EC_HASHED;
        kt = CKK_EC;
        break;
    }
    if (fn != CKF_SIGN && fn != CKF_VERIFY)
        return CKR_MECHANISM_INVALID;
    if (k == NULL || k->pkey == NULL || k->type != kt ||
        k->cls != (fn == CKF_SIGN ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY))
        return CKR_KEY_TYPE_INCONSISTENT;
    if ((e = mech_op_alloc(sizeof(*e), &ec_ops[kind][fn == CKF_VERIFY], d, fn, k, c)) == NULL)
        return CKR_HOST_MEMORY;
    e->kind = kind;
    ERR_set_mark();
    rv = kind == EC_EDDSA ? eddsa_init(e, m, lc, k->pkey) : ecdsa_init(e, d, m, lc, k);
    ERR_pop_to_mark();
    if (rv != CKR_OK) {
        mech_op_free(&e->head);
        return rv;
    }
    *out = &e->head;
    return CKR_OK;
}

/* ---- ECDH ----------------------------------------------------------------- */

/* What a CK_EC_KDF_TYPE asks for: kdf NULL for CKD_NULL. */
struct ecdh_kdf {
    const char *kdf; /* OpenSSL EVP_KDF name */
    const char *md;  /* its digest */
};

static CK_RV ecdh_kdf_of(CK_EC_KDF_TYPE type, struct ecdh_kdf *out)
{
    static const struct {
        CK_EC_KDF_TYPE type;
        struct ecdh_kdf k;
    } kdfs[] = {
        {CKD_NULL, {NULL, NULL}},
        {CKD_SHA1_KDF, {OSSL_KDF_NAME_X963KDF, "SHA1"}},
        {CKD_SHA224_KDF, {OSSL_KDF_NAME_X963KDF, "SHA2-224"}},
        {CKD_SHA256_KDF, {OSSL_KDF_NAME_X963KDF, "SHA2-256"}},
        {CKD_SHA384_KDF, {OSSL_KDF_NAME_X963KDF, "SHA2-384"}},
        {CKD_SHA512_KDF, {OSSL_KDF_NAME_X963KDF, "SHA2-512"}},
        {CKD_SHA3_224_KDF, {OSSL_KDF_NAME_X963KDF, "SHA3-224"}},
        {CKD_SHA3_256_KDF, {OSSL_KDF_NAME_X963KDF, "SHA3-256"}},
        {CKD_SHA3_384_KDF, {OSSL_KDF_NAME_X963KDF, "SHA3-384"}},
        {CKD_SHA3_512_KDF, {OSSL_KDF_NAME_X963KDF, "SHA3-512"}},
        {CKD_SHA1_KDF_SP800, {OSSL_KDF_NAME_SSKDF, "SHA1"}},
        {CKD_SHA224_KDF_SP800, {OSSL_KDF_NAME_SSKDF, "SHA2-224"}},
        {CKD_SHA256_KDF_SP800, {OSSL_KDF_NAME_SSKDF, "SHA2-256"}},
        {CKD_SHA384_KDF_SP800, {OSSL_KDF_NAME_SSKDF, "SHA2-384"}},
        {CKD_SHA512_KDF_SP800, {OSSL_KDF_NAME_SSKDF, "SHA2-512"}},
        {CKD_SHA3_224_KDF_SP800, {OSSL_KDF_NAME_SSKDF, "SHA3-224"}},
        {CKD_SHA3_256_KDF_SP800, {OSSL_KDF_NAME_SSKDF, "SHA3-256"}},
        {CKD_SHA3_384_KDF_SP800, {OSSL_KDF_NAME_SSKDF, "SHA3-384"}},
        {CKD_SHA3_512_KDF_SP800, {OSSL_KDF_NAME_SSKDF, "SHA3-512"}},
    };
    for (size_t i = 0; i < ARRAY_SIZE(kdfs); i++) {
        if (kdfs[i].type == type) {
            *out = kdfs[i].k;
            return CKR_OK;
        }
    }
    return CKR_MECHANISM_PARAM_INVALID; /* CKD_SHA1_KDF_ASN1, _CONCATENATE, BLAKE2B, ... */
}

/* The value of a DER OCTET STRING spanning exactly len bytes (short or
 * one-octet long form, as points and raw keys need). */
static bool der_octet_string(const unsigned char *p, size_t len, const unsigned char **val,
                             size_t *vlen)
{
    if (len < 2 || p[0] != 0x04)
        return false;
    size_t l = p[1], hdr = 2;
    if (l == 0x81) {
        if (len < 3 || p[2] < 0x80)
            return false;
        l = p[2];
        hdr = 3;
    } else if (l > 0x7f) {
        return false;
    }
    if (l != len - hdr)
        return false;
    *val = p + hdr;
    *vlen = l;
    return true;
}

/* Is len bytes at p an X9.62 point encoding of a curve with field bytes f? */
static bool ec_point_shape(const unsigned char *p, size_t len, size_t f)
{
    return (len == 1 + 2 * f && p[0] == 0x04) || (len == 1 + f && (p[0] == 0x02 || p[0] == 0x03));
}

/* The peer's public key of pPublicData for base key k: Weierstrass curves
 * take the X9.62 point (uncompressed, or compressed) raw or wrapped in a DER
 * OCTET STRING; X25519/X448 the raw key, or it wrapped likewise.  A value
 * that is not a valid key of k's curve: CKR_MECHANISM_PARAM_INVALID (the
 * spec has no better code; SoftHSM says CKR_ARGUMENTS_BAD). */
static CK_RV ecdh_peer(OSSL_LIB_CTX *lc, const struct key *k, const unsigned char *pub,
                       size_t publen, EVP_PKEY **out)
{
    const unsigned char *v = pub;
    size_t vlen = publen;
    EVP_PKEY_CTX *pc = NULL;
    CK_RV rv = CKR_MECHANISM_PARAM_INVALID;

    *out = NULL;
    if (k->type == CKK_EC_MONTGOMERY) {
        const bool x448 = EVP_PKEY_is_a(k->pkey, "X448");
        const size_t raw = x448 ? X448_LEN : X25519_LEN;
        if (publen != raw && (!der_octet_string(pub, publen, &v, &vlen) || vlen != raw))
            goto out;
        if ((*out = EVP_PKEY_new_raw_public_key_ex(lc, x448 ? "X448" : "X25519", NULL, v, vlen)) ==
            NULL)
            goto out;
        rv = CKR_OK;
        goto out;
    }
    /* EVP_PKEY_get_bits of an EC key is the order's bit length, the same as
     * the field's for every curve we support. */
    const size_t f = ((size_t)EVP_PKEY_get_bits(k->pkey) + 7) / 8;
    if (k->curve == NULL || f == 0 || f > EC_FIELD_MAX)
        goto out;
    if (!ec_point_shape(pub, publen, f) &&
        (!der_octet_string(pub, publen, &v, &vlen) || !ec_point_shape(v, vlen, f)))
        goto out;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)k->curve, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)v, vlen),
        OSSL_PARAM_construct_end(),
    };
    rv = CKR_HOST_MEMORY;
    if ((pc = EVP_PKEY_CTX_new_from_name(lc, "EC", NULL)) == NULL)
        goto out;
    rv = CKR_DEVICE_ERROR;
    if (EVP_PKEY_fromdata_init(pc) != 1)
        goto out;
    /* Decoding checks the point is on the curve. */
    rv = EVP_PKEY_fromdata(pc, out, EVP_PKEY_PUBLIC_KEY, params) == 1 ? CKR_OK
                                                                      : CKR_MECHANISM_PARAM_INVALID;
out:
    EVP_PKEY_CTX_free(pc);
    return rv;
}

/* Z = the shared secret of k and peer, *z in the secure heap. */
static CK_RV ecdh_z(OSSL_LIB_CTX *lc, const struct key *k, EVP_PKEY *peer, bool cofactor,
                    unsigned char **z, size_t *zlen)
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(lc, k->pkey, NULL);
    size_t n = 0;
    CK_RV rv = CKR_HOST_MEMORY;

    *z = NULL;
    if (pc == NULL)
        goto out;
    rv = CKR_DEVICE_ERROR;
    if (EVP_PKEY_derive_init(pc) != 1 ||
        (cofactor && EVP_PKEY_CTX_set_ecdh_cofactor_mode(pc, 1) != 1))
        goto out;
    /* validate_peer: the full public-key check (on the curve, in the
     * subgroup, not the identity). */
    rv = CKR_MECHANISM_PARAM_INVALID;
    if (EVP_PKEY_derive_set_peer_ex(pc, peer, 1) != 1)
        goto out;
    rv = CKR_DEVICE_ERROR;
    if (EVP_PKEY_derive(pc, NULL, &n) != 1 || n == 0 || n > EC_FIELD_MAX)
        goto out;
    rv = CKR_HOST_MEMORY;
    if ((*z = crypto_secret_alloc(n)) == NULL)
        goto out;
    *zlen = n;
    /* X25519/X448 refuse an all-zero output (a small-order peer key). */
    if (EVP_PKEY_derive(pc, *z, zlen) != 1 || *zlen != n) {
        rv = k->type == CKK_EC_MONTGOMERY ? CKR_MECHANISM_PARAM_INVALID : CKR_DEVICE_ERROR;
        crypto_secret_free(*z, n);
        *z = NULL;
        goto out;
    }
    rv = CKR_OK;
out:
    EVP_PKEY_CTX_free(pc);
    return rv;
}

/* len bytes of kdf(Z, shared data) into out. */
static CK_RV ecdh_kdf_run(OSSL_LIB_CTX *lc, const struct ecdh_kdf *kd, const unsigned char *z,
                          size_t zlen, const unsigned char *info, size_t infolen,
                          unsigned char *out, size_t len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(lc, kd->kdf, NULL);
    EVP_KDF_CTX *kc = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[4], *p = params;
    CK_RV rv = CKR_HOST_MEMORY;

    if (kc == NULL)
        goto out;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)kd->md, 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)z, zlen);
    if (infolen > 0)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, infolen);
    *p = OSSL_PARAM_construct_end();
    rv = EVP_KDF_derive(kc, out, len, params) == 1 ? CKR_OK : CKR_DEVICE_ERROR;
out:
    EVP_KDF_CTX_free(kc);
    EVP_KDF_free(kdf);
    return rv;
}

/* The digest length of kd (len 0 with a KDF: one digest's worth). */
static CK_RV ecdh_kdf_natural(OSSL_LIB_CTX *lc, const struct ecdh_kdf *kd, size_t *len)
{
    EVP_MD *md = EVP_MD_fetch(lc, kd->md, NULL);
    if (md == NULL)
        return CKR_DEVICE_ERROR;
    int n = EVP_MD_get_size(md);
    EVP_MD_free(md);
    if (n <= 0)
        return CKR_DEVICE_ERROR;
    *len = (size_t)n;
    return CKR_OK;
}

/* C_DeriveKey with CKM_ECDH1_DERIVE / CKM_ECDH1_COFACTOR_DERIVE.  len 0:
 * |Z| with CKD_NULL, the digest length with a KDF.  CKD_NULL takes the
 * leading len bytes of Z (len > |Z|: CKR_KEY_SIZE_RANGE). */
static CK_RV ecdh_derive(const struct mech_desc *d, const CK_MECHANISM *m, struct key *k,
                         struct crypto *c, const struct config *cfg, size_t len,
                         unsigned char **out, size_t *outlen)
{
    OSSL_LIB_CTX *lc = (OSSL_LIB_CTX *)mech_libctx(c);
    const CK_ECDH1_DERIVE_PARAMS *p = NULL;
    const bool cofactor = d->type == CKM_ECDH1_COFACTOR_DERIVE;
    struct ecdh_kdf kd;
    EVP_PKEY *peer = NULL;
    unsigned char *z = NULL, *key = NULL;
    size_t zlen = 0;
    CK_RV rv = CKR_MECHANISM_INVALID;

    (void)cfg;
    *out = NULL;
    *outlen = 0;
    ERR_set_mark();
    if (d->type != CKM_ECDH1_DERIVE && !cofactor)
        goto out;
    rv = CKR_KEY_TYPE_INCONSISTENT;
    if (k == NULL || k->pkey == NULL || k->cls != CKO_PRIVATE_KEY ||
        !(k->type == CKK_EC || (k->type == CKK_EC_MONTGOMERY && !cofactor)))
        goto out;
    if ((rv = mech_param(m, sizeof(*p), (const void **)&p)) != CKR_OK ||
        (rv = ecdh_kdf_of(p->kdf, &kd)) != CKR_OK)
        goto out;
    rv = CKR_MECHANISM_PARAM_INVALID;
    if ((p->ulSharedDataLen > 0 && (p->pSharedData == NULL || kd.kdf == NULL)) ||
        p->ulSharedDataLen > ECDH_SHARED_MAX || p->pPublicData == NULL || p->ulPublicDataLen == 0)
        goto out;
    rv = CKR_KEY_SIZE_RANGE;
    if (len > ATTR_MAX_VALUE)
        goto out;
    if ((rv = ecdh_peer(lc, k, p->pPublicData, p->ulPublicDataLen, &peer)) != CKR_OK ||
        (rv = ecdh_z(lc, k, peer, cofactor, &z, &zlen)) != CKR_OK)
        goto out;
    if (kd.kdf == NULL) {
        rv = CKR_KEY_SIZE_RANGE;
        if (len > zlen)
            goto out;
        if (len == 0 || len == zlen) { /* hand Z over */
            *out = z;
            *outlen = zlen;
            z = NULL;
            rv = CKR_OK;
            goto out;
        }
    } else if (len == 0 && (rv = ecdh_kdf_natural(lc, &kd, &len)) != CKR_OK) {
        goto out;
    }
    rv = CKR_HOST_MEMORY;
    if ((key = crypto_secret_alloc(len)) == NULL)
        goto out;
    if (kd.kdf == NULL) {
        memcpy(key, z, len);
        rv = CKR_OK;
    } else {
        rv = ecdh_kdf_run(lc, &kd, z, zlen, p->pSharedData, p->ulSharedDataLen, key, len);
    }
    if (rv == CKR_OK) {
        *out = key;
        *outlen = len;
        key = NULL;
    }
out:
    crypto_secret_free(key, len);
    crypto_secret_free(z, zlen);
    EVP_PKEY_free(peer);
    ERR_pop_to_mark();
    return rv;
}

const struct mech_family mech_ec_family = {
    .name = "ec",
    .init = ec_init,
    .derive = ecdh_derive,
};
