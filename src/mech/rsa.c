/*
 * RSA (PKCS#11 3.2 section 6.1): PKCS#1 v1.5 (CKM_RSA_PKCS), raw RSA
 * (CKM_RSA_X_509), PSS over a precomputed hash (CKM_RSA_PKCS_PSS), OAEP
 * (CKM_RSA_PKCS_OAEP) and hash-and-sign (CKM_SHA*_RSA_PKCS[_PSS],
 * CKM_SHA3_*_RSA_PKCS[_PSS]) on OpenSSL 3.5 EVP in the module's library
 * context.
 *
 * Every operation takes exactly one OpenSSL context from the key's cached
 * EVP_PKEY at init: an EVP_PKEY_CTX (single-part mechanisms) or an
 * EVP_MD_CTX set up with EVP_Digest{Sign,Verify}Init_ex (hash-and-sign,
 * streamed without buffering).  Nothing is parsed per operation and no lock
 * is taken.  OpenSSL's error queue is left as it was found: each entry point
 * sets a mark and pops to it on the way out.
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <string.h>

#include "mech/mech.h"

#define RSA_MAX_BYTES  (8192 / 8) /* the largest modulus the table allows */
#define PKCS1_OVERHEAD 11         /* PKCS#1 v1.5 padding: 00 0t PS(>= 8) 00 */

enum rsa_kind {
    RSA_KIND_PKCS,   /* CKM_RSA_PKCS */
    RSA_KIND_X509,   /* CKM_RSA_X_509 */
    RSA_KIND_PSS,    /* CKM_RSA_PKCS_PSS: the input is the hash */
    RSA_KIND_OAEP,   /* CKM_RSA_PKCS_OAEP */
    RSA_KIND_HASHED, /* CKM_SHA*_RSA_PKCS[_PSS]: EVP_DigestSign / Verify */
};

struct rsa_op {
    struct mech_op head;
    enum rsa_kind kind;
    size_t klen;                    /* modulus bytes: signature / ciphertext length */
    size_t maxin;                   /* most data bytes sign / encrypt take (PKCS, OAEP, X.509) */
    size_t hlen;                    /* PSS: the hash length the input must have */
    EVP_PKEY_CTX *pctx;             /* single-part mechanisms; owned */
    EVP_MD_CTX *mdctx;              /* hash-and-sign; owned (owns its EVP_PKEY_CTX) */
    unsigned char n[RSA_MAX_BYTES]; /* X.509: the modulus, big-endian, klen bytes */
};

/* ---- helpers ----------------------------------------------------------- */

/* The output length of a CKM_SHA* / CKM_SHA3_* digest mechanism, 0 when
 * it is not one. */
static size_t hash_len(CK_MECHANISM_TYPE h)
{
    switch (h) {
    case CKM_SHA_1:
        return 20;
    case CKM_SHA224:
    case CKM_SHA512_224:
    case CKM_SHA3_224:
        return 28;
    case CKM_SHA256:
    case CKM_SHA512_256:
    case CKM_SHA3_256:
        return 32;
    case CKM_SHA384:
    case CKM_SHA3_384:
        return 48;
    case CKM_SHA512:
    case CKM_SHA3_512:
        return 64;
    default:
        return 0;
    }
}

static bool fn_is_private(mech_fn fn)
{
    return fn == CKF_SIGN || fn == CKF_SIGN_RECOVER || fn == CKF_DECRYPT || fn == CKF_UNWRAP;
}

/* X.509: in (inlen <= klen) left-padded with zeros into buf[klen]. */
static void pad_left(const struct rsa_op *r, const unsigned char *in, size_t inlen,
                     unsigned char *buf)
{
    memset(buf, 0, r->klen - inlen);
    if (inlen > 0)
        memcpy(buf + r->klen - inlen, in, inlen);
}

/* X.509: is the klen-byte big-endian number buf below the modulus?  (Public
 * data only: not constant time.) */
static bool below_modulus(const struct rsa_op *r, const unsigned char *buf)
{
    return memcmp(buf, r->n, r->klen) < 0;
}

/* The data a sign or encrypt operation takes: CKR_OK or CKR_DATA_LEN_RANGE. */
static CK_RV check_data_len(const struct rsa_op *r, CK_ULONG inlen)
{
    if (r->kind == RSA_KIND_PSS)
        return inlen == r->hlen ? CKR_OK : CKR_DATA_LEN_RANGE;
    return inlen <= r->maxin ? CKR_OK : CKR_DATA_LEN_RANGE;
}

/* ---- single-part operations (EVP_PKEY_CTX) ------------------------------ */

/* C_Sign / C_SignRecover: PKCS#1 v1.5 type 1 over the data as given
 * (normally a DigestInfo), PSS over a hash, or raw RSA (the private-key
 * operation on the zero-padded input, done as a no-padding decryption). */
static CK_RV rsa_sign(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                      unsigned char *out, CK_ULONG *outlen)
{
    struct rsa_op *r = (struct rsa_op *)op;
    unsigned char buf[RSA_MAX_BYTES];
    size_t len = 0;
    bool done = false;
    CK_RV rv = check_data_len(r, inlen);

    ERR_set_mark();
    if (rv != CKR_OK)
        goto out;
    if (r->kind == RSA_KIND_X509) {
        pad_left(r, in, inlen, buf);
        if (!below_modulus(r, buf)) {
            rv = CKR_DATA_INVALID;
            goto out;
        }
    }
    rv = mech_out(out, outlen, r->klen, &done);
    if (done)
        goto out;
    len = *outlen;
    if (r->kind == RSA_KIND_X509) {
        if (EVP_PKEY_decrypt(r->pctx, out, &len, buf, r->klen) != 1 || len != r->klen)
            rv = CKR_DEVICE_ERROR;
    } else if (EVP_PKEY_sign(r->pctx, out, &len, in, inlen) != 1) {
        rv = CKR_DEVICE_ERROR;
    }
    if (rv == CKR_OK)
        *outlen = len;
out:
    if (r->kind == RSA_KIND_X509)
        crypto_wipe(buf, r->klen); /* raw RSA input may be anything, a secret too */
    ERR_pop_to_mark();
    return rv;
}

/* C_Verify: PKCS#1 v1.5 (the recovered block must equal the data), PSS, or
 * raw RSA (the public-key operation on the signature must equal the
 * zero-padded data). */
static CK_RV rsa_verify(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                        const unsigned char *sig, CK_ULONG siglen)
{
    struct rsa_op *r = (struct rsa_op *)op;
    unsigned char want[RSA_MAX_BYTES], got[RSA_MAX_BYTES];
    size_t len = sizeof(got);
    CK_RV rv = check_data_len(r, inlen);

    ERR_set_mark();
    if (rv != CKR_OK)
        goto out;
    if (siglen != r->klen) {
        rv = CKR_SIGNATURE_LEN_RANGE;
        goto out;
    }
    if (r->kind == RSA_KIND_X509) {
        pad_left(r, in, inlen, want);
        if (EVP_PKEY_encrypt(r->pctx, got, &len, sig, siglen) != 1 || len != r->klen ||
            CRYPTO_memcmp(got, want, r->klen) != 0)
            rv = CKR_SIGNATURE_INVALID;
    } else if (EVP_PKEY_verify(r->pctx, sig, siglen, in, inlen) != 1) {
        rv = CKR_SIGNATURE_INVALID;
    }
out:
    ERR_pop_to_mark();
    return rv;
}

/* C_VerifyRecover: in is the signature, out the data it carries (PKCS#1
 * v1.5 type 1 unpadded, or the whole block for raw RSA). */
static CK_RV rsa_recover(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                         unsigned char *out, CK_ULONG *outlen)
{
    struct rsa_op *r = (struct rsa_op *)op;
    unsigned char buf[RSA_MAX_BYTES];
    size_t len = sizeof(buf);
    CK_RV rv = CKR_OK;

    ERR_set_mark();
    if (inlen != r->klen) {
        rv = CKR_SIGNATURE_LEN_RANGE;
        goto out;
    }
    if (out == NULL) { /* size query: an upper bound */
        *outlen = r->klen;
        goto out;
    }
    if (r->kind == RSA_KIND_X509) {
        if (EVP_PKEY_encrypt(r->pctx, buf, &len, in, inlen) != 1 || len != r->klen)
            rv = CKR_SIGNATURE_INVALID;
    } else if (EVP_PKEY_verify_recover(r->pctx, buf, &len, in, inlen) != 1) {
        rv = CKR_SIGNATURE_INVALID;
    }
    if (rv != CKR_OK)
        goto out;
    if (*outlen < len) {
        *outlen = len;
        rv = CKR_BUFFER_TOO_SMALL;
        goto out;
    }
    memcpy(out, buf, len);
    *outlen = len;
out:
    ERR_pop_to_mark();
    return rv;
}

/* C_Encrypt / C_WrapKey: PKCS#1 v1.5 type 2, OAEP, or raw RSA. */
static CK_RV rsa_encrypt(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                         unsigned char *out, CK_ULONG *outlen)
{
    struct rsa_op *r = (struct rsa_op *)op;
    unsigned char *buf = NULL; /* X.509: the padded input (may be a key being wrapped) */
    size_t len = 0;
    bool done = false;
    CK_RV rv = check_data_len(r, inlen);

    ERR_set_mark();
    if (rv != CKR_OK)
        goto out;
    if (r->kind == RSA_KIND_X509) {
        if ((buf = crypto_secret_alloc(r->klen)) == NULL) {
            rv = CKR_HOST_MEMORY;
            goto out;
        }
        pad_left(r, in, inlen, buf);
        if (!below_modulus(r, buf)) {
            rv = CKR_DATA_INVALID;
            goto out;
        }
    }
    rv = mech_out(out, outlen, r->klen, &done);
    if (done)
        goto out;
    len = *outlen;
    if (EVP_PKEY_encrypt(r->pctx, out, &len, buf != NULL ? buf : in,
                         buf != NULL ? r->klen : inlen) != 1 ||
        len != r->klen)
        rv = CKR_DEVICE_ERROR;
    else
        *outlen = len;
out:
    crypto_secret_free(buf, r->klen);
    ERR_pop_to_mark();
    return rv;
}

/*
 * C_Decrypt / C_UnwrapKey.  The plaintext goes to a secure temporary first:
 * its exact length is known only afterwards, and a caller's buffer that is
 * too small gets CKR_BUFFER_TOO_SMALL with that length, the operation kept.
 * A size query (out NULL) answers the modulus length without decrypting.
 */
static CK_RV rsa_decrypt(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                         unsigned char *out, CK_ULONG *outlen)
{
    struct rsa_op *r = (struct rsa_op *)op;
    unsigned char pad[RSA_MAX_BYTES];
    unsigned char *buf = NULL;
    size_t len = r->klen;
    CK_RV rv = CKR_OK;

    ERR_set_mark();
    if (r->kind == RSA_KIND_X509 ? inlen > r->klen : inlen != r->klen) {
        rv = CKR_ENCRYPTED_DATA_LEN_RANGE;
        goto out;
    }
    if (out == NULL) { /* size query: an upper bound */
        *outlen = r->klen;
        goto out;
    }
    if (r->kind == RSA_KIND_X509) {
        pad_left(r, in, inlen, pad);
        in = pad;
        inlen = r->klen;
    }
    if ((buf = crypto_secret_alloc(r->klen)) == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    if (EVP_PKEY_decrypt(r->pctx, buf, &len, in, inlen) != 1) {
        rv = CKR_ENCRYPTED_DATA_INVALID;
        goto out;
    }
    if (*outlen < len) {
        *outlen = len;
        rv = CKR_BUFFER_TOO_SMALL;
        goto out;
    }
    memcpy(out, buf, len);
    *outlen = len;
out:
    crypto_secret_free(buf, r->klen);
    ERR_pop_to_mark();
    return rv;
}

/* ---- hash-and-sign (EVP_MD_CTX, streamed) ------------------------------- */

static CK_RV hashed_update(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                           unsigned char *out, CK_ULONG *outlen)
{
    (void)out;
    (void)outlen;
    struct rsa_op *r = (struct rsa_op *)op;
    CK_RV rv = CKR_OK;
    int ok;

    ERR_set_mark();
    if (op->fn == CKF_SIGN)
        ok = EVP_DigestSignUpdate(r->mdctx, in, inlen);
    else
        ok = EVP_DigestVerifyUpdate(r->mdctx, in, inlen);
    if (ok != 1)
        rv = CKR_DEVICE_ERROR;
    ERR_pop_to_mark();
    return rv;
}

static CK_RV hashed_sign_final(struct mech_op *op, unsigned char *out, CK_ULONG *outlen)
{
    struct rsa_op *r = (struct rsa_op *)op;
    size_t len = 0;
    bool done = false;
    CK_RV rv;

    ERR_set_mark();
    rv = mech_out(out, outlen, r->klen, &done);
    if (done)
        goto out;
    len = *outlen;
    if (EVP_DigestSignFinal(r->mdctx, out, &len) != 1)
        rv = CKR_DEVICE_ERROR;
    else
        *outlen = len;
out:
    ERR_pop_to_mark();
    return rv;
}

static CK_RV hashed_sign_oneshot(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                                 unsigned char *out, CK_ULONG *outlen)
{
    struct rsa_op *r = (struct rsa_op *)op;
    size_t len = 0;
    bool done = false;
    CK_RV rv;

    ERR_set_mark();
    rv = mech_out(out, outlen, r->klen, &done);
    if (done)
        goto out;
    len = *outlen;
    if (EVP_DigestSign(r->mdctx, out, &len, in, inlen) != 1)
        rv = CKR_DEVICE_ERROR;
    else
        *outlen = len;
out:
    ERR_pop_to_mark();
    return rv;
}

static CK_RV hashed_verify_final(struct mech_op *op, const unsigned char *sig, CK_ULONG siglen)
{
    struct rsa_op *r = (struct rsa_op *)op;
    CK_RV rv = CKR_OK;

    ERR_set_mark();
    if (siglen != r->klen)
        rv = CKR_SIGNATURE_LEN_RANGE;
    else if (EVP_DigestVerifyFinal(r->mdctx, sig, siglen) != 1)
        rv = CKR_SIGNATURE_INVALID;
    ERR_pop_to_mark();
    return rv;
}

static CK_RV hashed_verify_oneshot(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                                   const unsigned char *sig, CK_ULONG siglen)
{
    struct rsa_op *r = (struct rsa_op *)op;
    CK_RV rv = CKR_OK;

    ERR_set_mark();
    if (siglen != r->klen)
        rv = CKR_SIGNATURE_LEN_RANGE;
    else if (EVP_DigestVerify(r->mdctx, sig, siglen, in, inlen) != 1)
        rv = CKR_SIGNATURE_INVALID;
    ERR_pop_to_mark();
    return rv;
}

static void rsa_free(struct mech_op *op)
{
    struct rsa_op *r = (struct rsa_op *)op;
    EVP_PKEY_CTX_free(r->pctx);
    EVP_MD_CTX_free(r->mdctx);
}

/* Single-part mechanisms: update NULL (C_*Update -> CKR_FUNCTION_NOT_SUPPORTED). */
static const struct mech_op_ops sign_ops = {.oneshot = rsa_sign, .free = rsa_free};
static const struct mech_op_ops verify_ops = {.verify_oneshot = rsa_verify, .free = rsa_free};
static const struct mech_op_ops recover_ops = {.oneshot = rsa_recover, .free = rsa_free};
static const struct mech_op_ops encrypt_ops = {.oneshot = rsa_encrypt, .free = rsa_free};
static const struct mech_op_ops decrypt_ops = {.oneshot = rsa_decrypt, .free = rsa_free};
static const struct mech_op_ops hashed_sign_ops = {
    .update = hashed_update,
    .final = hashed_sign_final,
    .oneshot = hashed_sign_oneshot,
    .free = rsa_free,
};
static const struct mech_op_ops hashed_verify_ops = {
    .update = hashed_update,
    .verify_final = hashed_verify_final,
    .verify_oneshot = hashed_verify_oneshot,
    .free = rsa_free,
};

/* ---- parameters --------------------------------------------------------- */

/* What init learnt from the mechanism and its parameter. */
struct rsa_setup {
    int pad;                    /* RSA_*_PADDING */
    const char *md;             /* PSS / OAEP hash (EVP name) */
    const char *mgf1;           /* PSS / OAEP MGF1 hash */
    int saltlen;                /* PSS */
    const unsigned char *label; /* OAEP; the caller's, read during init only */
    size_t label_len;
};

/* CK_RSA_PKCS_PSS_PARAMS: for CKM_RSA_PKCS_PSS (alg NULL) any supported
 * hash; for the hash-and-sign rows the row's hash (alg). */
static CK_RV parse_pss(struct rsa_op *r, const CK_MECHANISM *m, const char *alg,
                       const struct config *cfg, struct rsa_setup *s)
{
    const CK_RSA_PKCS_PSS_PARAMS *p = NULL;
    CK_RV rv = mech_param(m, sizeof(*p), (const void **)&p);
    if (rv != CKR_OK)
        return rv;
    s->md = mech_digest_name(p->hashAlg);
    s->mgf1 = mech_mgf_digest_name(p->mgf);
    r->hlen = hash_len(p->hashAlg);
    if (s->md == NULL || s->mgf1 == NULL || r->hlen == 0)
        return CKR_MECHANISM_PARAM_INVALID;
    if (alg != NULL && strcmp(alg, s->md) != 0)
        return CKR_MECHANISM_PARAM_INVALID;
    /* SHA-1 PSS signatures follow the table's SHA-1 signing policy, and
     * are never approved (validation flag 0). */
    if (alg == NULL && p->hashAlg == CKM_SHA_1 && r->head.fn == CKF_SIGN) {
        if (!cfg->allow_sha1_signing)
            return CKR_MECHANISM_PARAM_INVALID;
        r->head.unapproved = true;
    }
    /* RFC 8017 9.1.1: emLen = ceil((modBits - 1) / 8) >= hLen + sLen + 2. */
    size_t em_len = (r->head.key->bits - 1 + 7) / 8;
    if (em_len < r->hlen + 2)
        return CKR_KEY_SIZE_RANGE;
    if (p->sLen > em_len - r->hlen - 2)
        return CKR_MECHANISM_PARAM_INVALID;
    s->pad = RSA_PKCS1_PSS_PADDING;
    s->saltlen = (int)p->sLen;
    return CKR_OK;
}

/* CK_RSA_PKCS_OAEP_PARAMS. */
static CK_RV parse_oaep(struct rsa_op *r, const CK_MECHANISM *m, struct rsa_setup *s)
{
    const CK_RSA_PKCS_OAEP_PARAMS *p = NULL;
    CK_RV rv = mech_param(m, sizeof(*p), (const void **)&p);
    if (rv != CKR_OK)
        return rv;
    s->md = mech_digest_name(p->hashAlg);
    s->mgf1 = mech_mgf_digest_name(p->mgf);
    size_t hlen = hash_len(p->hashAlg);
    if (s->md == NULL || s->mgf1 == NULL || hlen == 0)
        return CKR_MECHANISM_PARAM_INVALID;
    if (p->source != CKZ_DATA_SPECIFIED && p->source != 0)
        return CKR_MECHANISM_PARAM_INVALID;
    if (p->ulSourceDataLen != 0 &&
        (p->source == 0 || p->pSourceData == NULL || p->ulSourceDataLen > r->klen))
        return CKR_MECHANISM_PARAM_INVALID;
    /* RFC 8017 7.1.1: mLen <= k - 2hLen - 2. */
    if (r->klen < 2 * hlen + 2)
        return CKR_KEY_SIZE_RANGE;
    r->maxin = r->klen - 2 * hlen - 2;
    s->pad = RSA_PKCS1_OAEP_PADDING;
    s->label = p->ulSourceDataLen != 0 ? p->pSourceData : NULL;
    s->label_len = p->ulSourceDataLen;
    return CKR_OK;
}

/* The modulus of r's key, big-endian in r->n (X.509's range check). */
static CK_RV load_modulus(struct rsa_op *r)
{
    BIGNUM *n = NULL;
    CK_RV rv = CKR_OK;
    if (EVP_PKEY_get_bn_param(r->head.key->pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        BN_bn2binpad(n, r->n, (int)r->klen) != (int)r->klen)
        rv = CKR_DEVICE_ERROR;
    BN_free(n);
    return rv;
}

/* ---- init --------------------------------------------------------------- */

/* The OSSL_PARAM list for s, into params (room for 6). */
static void build_params(const struct rsa_setup *s, mech_fn fn, OSSL_PARAM *params,
                         unsigned int *no_implicit)
{
    OSSL_PARAM *p = params;
    /* pad-mode, digest, mgf1-digest and saltlen have the same names in the
     * signature and asymmetric-cipher interfaces. */
    *p++ = OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PAD_MODE, (int *)&s->pad);
    if (s->md != NULL)
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, (char *)s->md, 0);
    if (s->mgf1 != NULL)
        *p++ =
            OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, (char *)s->mgf1, 0);
    if (s->pad == RSA_PKCS1_PSS_PADDING)
        *p++ = OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, (int *)&s->saltlen);
    if (s->label != NULL)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL,
                                                 (void *)s->label, s->label_len);
    /*
     * PKCS#1 v1.5 decryption: OpenSSL >= 3.2 answers a bad padding with a
     * deterministic random message ("implicit rejection", closing the
     * Bleichenbacher padding oracle in the library).  A PKCS#11 token cannot
     * do that: C_Decrypt must report CKR_ENCRYPTED_DATA_INVALID, and
     * C_UnwrapKey would otherwise create a key from garbage.  So we turn it
     * off, and the padding check (constant time inside OpenSSL) becomes
     * observable through the return code: the oracle is the caller's to
     * avoid (prefer OAEP; approved-only mode refuses PKCS#1 v1.5 encryption).
     */
    if (s->pad == RSA_PKCS1_PADDING && (fn == CKF_DECRYPT || fn == CKF_UNWRAP)) {
        *no_implicit = 0;
        *p++ = OSSL_PARAM_construct_uint(OSSL_ASYM_CIPHER_PARAM_IMPLICIT_REJECTION, no_implicit);
    }
    *p = OSSL_PARAM_construct_end();
}

/* Sets up r->pctx for a single-part function. */
static CK_RV init_pkey_ctx(struct rsa_op *r, const struct rsa_setup *s, struct crypto *c)
{
    OSSL_PARAM params[7];
    unsigned int no_implicit = 0;
    mech_fn fn = r->head.fn;
    int ok;

    r->pctx = EVP_PKEY_CTX_new_from_pkey(mech_libctx(c), r->head.key->pkey, NULL);
    if (r->pctx == NULL)
        return CKR_HOST_MEMORY;
    build_params(s, fn, params, &no_implicit);
    if (r->kind == RSA_KIND_X509) /* raw RSA as no-padding encryption/decryption */
        ok = fn_is_private(fn) ? EVP_PKEY_decrypt_init_ex(r->pctx, params)
                               : EVP_PKEY_encrypt_init_ex(r->pctx, params);
    else if (fn == CKF_SIGN || fn == CKF_SIGN_RECOVER)
        ok = EVP_PKEY_sign_init_ex(r->pctx, params);
    else if (fn == CKF_VERIFY)
        ok = EVP_PKEY_verify_init_ex(r->pctx, params);
    else if (fn == CKF_VERIFY_RECOVER)
        ok = EVP_PKEY_verify_recover_init_ex(r->pctx, params);
    else if (fn == CKF_ENCRYPT || fn == CKF_WRAP)
        ok = EVP_PKEY_encrypt_init_ex(r->pctx, params);
    else
        ok = EVP_PKEY_decrypt_init_ex(r->pctx, params);
    return ok == 1 ? CKR_OK : CKR_DEVICE_ERROR;
}

/* Sets up r->mdctx for hash-and-sign with the row's digest. */
static CK_RV init_md_ctx(struct rsa_op *r, const struct rsa_setup *s, struct crypto *c)
{
    OSSL_PARAM params[7];
    unsigned int unused = 0;
    const char *alg = r->head.desc->alg;
    struct rsa_setup pss = *s;
    int ok;

    r->mdctx = EVP_MD_CTX_new();
    if (r->mdctx == NULL)
        return CKR_HOST_MEMORY;
    pss.md = NULL; /* the digest is DigestSignInit's argument */
    build_params(&pss, r->head.fn, params, &unused);
    /* PKCS#1 v1.5 is the RSA key's default: no parameters to set. */
    OSSL_PARAM *pp = s->pad == RSA_PKCS1_PSS_PADDING ? params : NULL;
    if (r->head.fn == CKF_SIGN)
        ok =
            EVP_DigestSignInit_ex(r->mdctx, NULL, alg, mech_libctx(c), NULL, r->head.key->pkey, pp);
    else
        ok = EVP_DigestVerifyInit_ex(r->mdctx, NULL, alg, mech_libctx(c), NULL, r->head.key->pkey,
                                     pp);
    /* Final may finalise in place: no copy of the context per signature
     * (each operation ends with its Final). */
    EVP_MD_CTX_set_flags(r->mdctx, EVP_MD_CTX_FLAG_FINALISE);
    return ok == 1 ? CKR_OK : CKR_DEVICE_ERROR;
}

static const struct mech_op_ops *ops_for(enum rsa_kind kind, mech_fn fn)
{
    switch (fn) {
    case CKF_SIGN:
        return kind == RSA_KIND_HASHED ? &hashed_sign_ops : &sign_ops;
    case CKF_SIGN_RECOVER:
        return &sign_ops;
    case CKF_VERIFY:
        return kind == RSA_KIND_HASHED ? &hashed_verify_ops : &verify_ops;
    case CKF_VERIFY_RECOVER:
        return &recover_ops;
    case CKF_ENCRYPT:
    case CKF_WRAP:
        return &encrypt_ops;
    default:
        return &decrypt_ops;
    }
}

static CK_RV rsa_init(struct mech_op **out, const struct mech_desc *d, const CK_MECHANISM *m,
                      mech_fn fn, struct key *k, struct crypto *c, const struct config *cfg)
{
    struct rsa_op *r = NULL;
    struct rsa_setup s = {.pad = RSA_PKCS1_PADDING};
    enum rsa_kind kind;
    CK_RV rv = CKR_OK;

    *out = NULL;
    ERR_set_mark();
    if (m == NULL || k == NULL || k->pkey == NULL || k->type != CKK_RSA) {
        rv = m == NULL ? CKR_ARGUMENTS_BAD : CKR_KEY_TYPE_INCONSISTENT;
        goto out;
    }
    /* The table's functions (mech_lookup checks them; this is for direct
     * callers). */
    if (!(d->flags & fn) || (fn & (fn - 1)) != 0) {
        rv = CKR_MECHANISM_INVALID;
        goto out;
    }
    switch (d->type) {
    case CKM_RSA_PKCS:
        kind = RSA_KIND_PKCS;
        /* PKCS#1 v1.5 encryption is not approved (SP 800-131A r2). */
        if (cfg->fips_approved_only &&
            (fn == CKF_ENCRYPT || fn == CKF_DECRYPT || fn == CKF_WRAP || fn == CKF_UNWRAP)) {
            rv = CKR_MECHANISM_INVALID;
            goto out;
        }
        break;
    case CKM_RSA_X_509:
        kind = RSA_KIND_X509;
        s.pad = RSA_NO_PADDING;
        break;
    case CKM_RSA_PKCS_PSS:
        kind = RSA_KIND_PSS;
        break;
    case CKM_RSA_PKCS_OAEP:
        kind = RSA_KIND_OAEP;
        break;
    default:
        if (d->alg == NULL) {
            rv = CKR_MECHANISM_INVALID;
            goto out;
        }
        kind = RSA_KIND_HASHED;
        break;
    }

    r = mech_op_alloc(sizeof(*r), ops_for(kind, fn), d, fn, k, c);
    if (r == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    r->kind = kind;
    r->klen = (k->bits + 7) / 8;
    if (r->klen < PKCS1_OVERHEAD + 1 || r->klen > RSA_MAX_BYTES) {
        rv = CKR_KEY_SIZE_RANGE;
        goto out;
    }
    r->maxin = kind == RSA_KIND_X509 ? r->klen : r->klen - PKCS1_OVERHEAD;

    if (kind == RSA_KIND_PSS || (kind == RSA_KIND_HASHED && d->arg == 1))
        rv = parse_pss(r, m, kind == RSA_KIND_HASHED ? d->alg : NULL, cfg, &s);
    else if (kind == RSA_KIND_OAEP)
        rv = parse_oaep(r, m, &s);
    else if (m->ulParameterLen != 0)
        rv = CKR_MECHANISM_PARAM_INVALID;
    if (rv == CKR_OK && kind == RSA_KIND_X509)
        rv = load_modulus(r);
    if (rv != CKR_OK)
        goto out;

    rv = kind == RSA_KIND_HASHED ? init_md_ctx(r, &s, c) : init_pkey_ctx(r, &s, c);
    if (rv != CKR_OK)
        goto out;
    *out = &r->head;
    r = NULL;
out:
    if (r != NULL)
        mech_op_free(&r->head);
    ERR_pop_to_mark();
    return rv;
}

const struct mech_family mech_rsa_family = {
    .name = "rsa",
    .init = rsa_init,
};
