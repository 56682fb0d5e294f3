/*
 * AES key wrap (PKCS#11 3.2 current mechanisms): CKM_AES_KEY_WRAP (RFC 3394
 * / SP 800-38F KW) and CKM_AES_KEY_WRAP_KWP (RFC 5649 / KWP) on OpenSSL's
 * AES-n-WRAP and AES-n-WRAP-PAD.  Single-part only (no update): C_WrapKey,
 * C_UnwrapKey, C_Encrypt, C_Decrypt.
 *
 * Parameter: none (the default IV: A6A6A6A6A6A6A6A6 for KW, A65959A6 for
 * KWP) or the IV itself (8 bytes for KW, 4 for KWP).
 *
 * Lengths: KW wraps a multiple of 8 bytes, at least 16; KWP any length
 * from 1; both at most MECH_MAX_BUFFER (else CKR_DATA_LEN_RANGE).  Wrapped
 * input: a multiple of 8 bytes, at least 24 (KW) / 16 (KWP), else
 * CKR_ENCRYPTED_DATA_LEN_RANGE (C_Decrypt) / CKR_WRAPPED_KEY_LEN_RANGE
 * (C_UnwrapKey); an integrity failure gives CKR_ENCRYPTED_DATA_INVALID /
 * CKR_WRAPPED_KEY_INVALID with nothing written.
 *
 * Sizes: wrapping outputs the input rounded up to 8 plus 8; unwrapping
 * outputs the input less 8 (KW) or up to that (KWP, whose exact length is
 * only known after unwrapping: the size query answers input - 8, and a
 * shorter buffer makes the operation unwrap into a private secure-heap
 * buffer first, answering CKR_BUFFER_TOO_SMALL with the exact size when it
 * still does not fit).  Unwrapped bytes (key material) only ever pass
 * through the secure heap before reaching the caller's buffer.
 *
 * OpenSSL 3 providers need no EVP_CIPHER_CTX_FLAG_WRAP_ALLOW (only legacy
 * EVP_CIPHERs check it).
 */
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <string.h>

#include "mech/mech.h"

#define KW_IV_LEN  8
#define KWP_IV_LEN 4
#define SEMIBLOCK  8

struct kw_op {
    struct mech_op head;
    EVP_CIPHER *cipher;
    bool pad, enc, has_iv;
    unsigned char iv[KW_IV_LEN];
};

static CK_RV len_error(const struct kw_op *o)
{
    switch (o->head.fn) {
    case CKF_DECRYPT:
        return CKR_ENCRYPTED_DATA_LEN_RANGE;
    case CKF_UNWRAP:
        return CKR_WRAPPED_KEY_LEN_RANGE;
    default:
        return CKR_DATA_LEN_RANGE;
    }
}

static CK_RV data_error(const struct kw_op *o)
{
    return o->head.fn == CKF_UNWRAP ? CKR_WRAPPED_KEY_INVALID : CKR_ENCRYPTED_DATA_INVALID;
}

/* A scratch buffer for unwrapped bytes: the secure heap, or (when that is
 * full: large C_Decrypt inputs) the ordinary heap, wiped either way. */
static unsigned char *scratch_alloc(size_t len, bool *secure)
{
    unsigned char *p = crypto_secret_alloc(len);
    *secure = p != NULL;
    if (p == NULL) {
        ERR_clear_error();
        p = OPENSSL_zalloc(len);
    }
    return p;
}

static void scratch_free(unsigned char *p, size_t len, bool secure)
{
    if (secure)
        crypto_secret_free(p, len);
    else
        OPENSSL_clear_free(p, len);
}

/* Runs the wrap cipher over in into out (room for the result): *n = bytes
 * written; false when OpenSSL refuses (unwrap: the integrity check). */
static bool kw_run(struct kw_op *o, const unsigned char *in, size_t inlen, unsigned char *out,
                   size_t *n)
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int got = 0, fin = 0;
    bool ok = x != NULL &&
              EVP_CipherInit_ex2(x, o->cipher, o->head.key->secret, o->has_iv ? o->iv : NULL,
                                 o->enc, NULL) == 1 &&
              EVP_CipherUpdate(x, out, &got, in, (int)inlen) == 1 && got > 0 &&
              EVP_CipherFinal_ex(x, out + got, &fin) == 1;
    if (!ok)
        ERR_clear_error();
    *n = ok ? (size_t)got + (size_t)fin : 0;
    EVP_CIPHER_CTX_free(x);
    return ok;
}

static CK_RV kw_wrap(struct kw_op *o, const unsigned char *in, size_t inlen, unsigned char *out,
                     CK_ULONG *outlen)
{
    CK_RV rv = len_error(o);
    size_t n = 0;
    bool done;
    if (inlen == 0 || inlen > MECH_MAX_BUFFER ||
        (!o->pad && (inlen < 2 * SEMIBLOCK || inlen % SEMIBLOCK != 0)))
        goto out;
    rv = mech_out(out, outlen, (inlen + SEMIBLOCK - 1) / SEMIBLOCK * SEMIBLOCK + SEMIBLOCK, &done);
    if (done)
        goto out;
    rv = CKR_DEVICE_ERROR;
    if (!kw_run(o, in, inlen, out, &n))
        goto out;
    *outlen = (CK_ULONG)n;
    rv = CKR_OK;
out:
    return rv;
}

static CK_RV kw_unwrap(struct kw_op *o, const unsigned char *in, size_t inlen, unsigned char *out,
                       CK_ULONG *outlen)
{
    CK_RV rv = len_error(o);
    unsigned char *tmp = NULL;
    size_t max = 0, n = 0;
    CK_ULONG room = out != NULL ? *outlen : 0;
    bool secure = false, done;
    if (inlen % SEMIBLOCK != 0 || inlen < (o->pad ? 2 : 3) * SEMIBLOCK ||
        inlen > MECH_MAX_BUFFER + SEMIBLOCK)
        goto out;
    /* KW: exactly max; KWP: max - 7 .. max, exact once unwrapped. */
    max = inlen - SEMIBLOCK;
    rv = mech_out(out, outlen, max, &done);
    if (done) {
        if (rv != CKR_BUFFER_TOO_SMALL || !o->pad || room < max - (SEMIBLOCK - 1))
            goto out;
        *outlen = room; /* it may fit: unwrap to know */
    }
    /* Room for all of in: OpenSSL's KWP wipes inlen bytes of its output
     * when the check fails. */
    rv = CKR_HOST_MEMORY;
    if ((tmp = scratch_alloc(inlen, &secure)) == NULL)
        goto out;
    if (!kw_run(o, in, inlen, tmp, &n) || n > max) {
        rv = data_error(o);
        goto out;
    }
    if (*outlen < n) {
        *outlen = (CK_ULONG)n;
        rv = CKR_BUFFER_TOO_SMALL;
        goto out;
    }
    memcpy(out, tmp, n);
    *outlen = (CK_ULONG)n;
    rv = CKR_OK;
out:
    scratch_free(tmp, tmp != NULL ? inlen : 0, secure);
    return rv;
}

static CK_RV kw_oneshot(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                        unsigned char *out, CK_ULONG *outlen)
{
    struct kw_op *o = (struct kw_op *)op;
    if (in == NULL && inlen > 0)
        return CKR_ARGUMENTS_BAD;
    return o->enc ? kw_wrap(o, in, inlen, out, outlen) : kw_unwrap(o, in, inlen, out, outlen);
}

static const struct mech_op_ops kw_ops = {
    .oneshot = kw_oneshot,
};

static CK_RV kw_init(struct mech_op **out, const struct mech_desc *d, const CK_MECHANISM *m,
                     mech_fn fn, struct key *k, struct crypto *c, const struct config *cfg)
{
    (void)cfg;
    struct kw_op *o = NULL;
    bool pad = d->type == CKM_AES_KEY_WRAP_KWP;
    bool enc = fn == CKF_ENCRYPT || fn == CKF_WRAP;
    size_t ivlen = pad ? KWP_IV_LEN : KW_IV_LEN;
    CK_RV rv = CKR_MECHANISM_INVALID;

    *out = NULL;
    if ((!pad && d->type != CKM_AES_KEY_WRAP) || (!enc && fn != CKF_DECRYPT && fn != CKF_UNWRAP))
        goto out;
    rv = CKR_KEY_TYPE_INCONSISTENT;
    if (k == NULL || k->secret == NULL || k->type != CKK_AES)
        goto out;
    rv = CKR_KEY_SIZE_RANGE;
    if (k->secret_len != 16 && k->secret_len != 24 && k->secret_len != 32)
        goto out;
    rv = CKR_MECHANISM_PARAM_INVALID;
    if (m->ulParameterLen != 0 && (m->pParameter == NULL || m->ulParameterLen != ivlen))
        goto out;

    rv = CKR_HOST_MEMORY;
    o = mech_op_alloc(sizeof(*o), &kw_ops, d, fn, k, c);
    if (o == NULL)
        goto out;
    o->pad = pad;
    o->enc = enc;
    o->has_iv = m->ulParameterLen != 0;
    if (o->has_iv)
        memcpy(o->iv, m->pParameter, ivlen);
    static const char *const names[2][3] = {
        {"AES-128-WRAP", "AES-192-WRAP", "AES-256-WRAP"},
        {"AES-128-WRAP-PAD", "AES-192-WRAP-PAD", "AES-256-WRAP-PAD"},
    };
    const char *name = names[pad][k->secret_len == 16 ? 0 : k->secret_len == 24 ? 1 : 2];
    if ((o->cipher = (EVP_CIPHER *)crypto_cipher(c, name)) == NULL) { /* borrowed */
        ERR_clear_error();
        rv = CKR_MECHANISM_INVALID; /* not offered by the library context */
        goto out;
    }
    *out = &o->head;
    o = NULL;
    rv = CKR_OK;
out:
    mech_op_free(o != NULL ? &o->head : NULL);
    return rv;
}

const struct mech_family mech_kw_family = {
    .name = "kw",
    .init = kw_init,
};
