/*
 * AES-GCM and AES-CCM (PKCS#11 3.2 current mechanisms), single- and
 * multi-part (C_Encrypt*, C_Decrypt*, C_WrapKey, C_UnwrapKey) and the 3.0
 * message API (C_EncryptMessage*, C_DecryptMessage*), on OpenSSL EVP with
 * one EVP_CIPHER_CTX per operation.
 *
 * Encryption outputs ciphertext || tag.  GCM encryption streams: updates
 * output the ciphertext as it comes, the final outputs the tag.
 *
 * Decryption (C_Decrypt, C_DecryptUpdate + C_DecryptFinal, C_UnwrapKey)
 * never releases plaintext before the tag has verified: updates output
 * nothing and keep the input (ciphertext || tag; at most MECH_MAX_BUFFER
 * bytes in all, beyond -> CKR_ENCRYPTED_DATA_LEN_RANGE), the final (or
 * C_Decrypt) decrypts into a private buffer, checks the tag and only then
 * copies the plaintext out.  A wrong tag gives CKR_ENCRYPTED_DATA_INVALID
 * (CKR_WRAPPED_KEY_INVALID when unwrapping) and leaves the caller's buffer
 * untouched.  Streaming decryption is what the message API is for.
 *
 * CCM must know the payload length before any data (CK_CCM_PARAMS.
 * ulDataLen; a decryption's input is ulDataLen + ulMACLen bytes, other
 * totals -> CKR_DATA_LEN_RANGE / CKR_ENCRYPTED_DATA_LEN_RANGE) and OpenSSL's
 * CCM takes the whole payload in one call, so multi-part CCM buffers the
 * parts (plaintext wiped when done) and processes them at the final / last
 * part; ulDataLen is capped at MECH_MAX_BUFFER.  The AAD is absorbed at
 * init / message begin, for both modes.
 *
 * Parameters: GCM IV 1..128 bytes (OpenSSL's limit; ulIvBits 0 or 8 *
 * ulIvLen), tag 32..128 bits in steps of 8; CCM nonce 7..13 bytes, MAC
 * 4..16 bytes, even; malformed -> CKR_MECHANISM_PARAM_INVALID.
 *
 * Message API (fn CKF_MESSAGE_ENCRYPT / CKF_MESSAGE_DECRYPT; the init
 * parameter is ignored).  Each message takes a CK_GCM_MESSAGE_PARAMS /
 * CK_CCM_MESSAGE_PARAMS (malformed -> CKR_ARGUMENTS_BAD).  Encryption uses
 * the caller's IV (CKG_NO_GENERATE) or generates what follows its first
 * ulIvFixedBits bits and writes it back into pIv / pNonce:
 * CKG_GENERATE_RANDOM and CKG_GENERATE from the module DRBG,
 * CKG_GENERATE_COUNTER from a counter the operation keeps (starting at 0;
 * CKR_FUNCTION_FAILED once the generated field is exhausted).  Decryption
 * takes the IV as given.  The tag goes to pTag / pMAC at the last part of
 * an encryption; a decryption checks it from there at its last part.  GCM
 * decryption parts stream: plaintext is output as it comes (the 3.0
 * design: the caller must discard it unless the last part succeeds); the
 * last part's own plaintext is released only once the tag verified.  CCM
 * parts are buffered as above.  A message must be begun before its parts
 * (else CKR_OPERATION_NOT_INITIALIZED), except for a size query of a
 * whole message (msg_next with out NULL and last, no message begun: what
 * C_EncryptMessage asks first), answered from the parameter without any
 * state.  A second begin before the last part -> CKR_OPERATION_ACTIVE.  A
 * part that fails ends its message.
 */
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mech/mech.h"

#define GCM_IV_MAX                                                         \
    128 /* bytes: OpenSSL's GCM_IV_MAX_SIZE (SP 800-38D allows more; 12 is \
            what anyone should use) */
#define GCM_IV_STD    12
#define GCM_BLOCK     16
#define TAG_MAX       16
#define CCM_NONCE_MIN 7
#define CCM_NONCE_MAX 13
#define EVP_CHUNK     (1 << 30) /* bytes per EVP call (int lengths) */
#define BUF_START     256

struct aead_op {
    struct mech_op head;
    EVP_CIPHER_CTX *ctx;
    bool gcm, enc, message;
    size_t taglen;      /* bytes */
    size_t ivlen;       /* GCM: the IV length the context is set for */
    size_t data_len;    /* CCM: the payload length */
    unsigned char *buf; /* buffered input (see the head comment) */
    size_t len, cap;
    /* Message API. */
    bool in_msg;      /* begun, last part not yet processed */
    uint64_t counter; /* CKG_GENERATE_COUNTER */
};

static CK_RV len_error(const struct aead_op *o)
{
    if (o->head.fn == CKF_UNWRAP)
        return CKR_WRAPPED_KEY_LEN_RANGE;
    return o->enc ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE;
}

static CK_RV data_error(const struct aead_op *o)
{
    return o->head.fn == CKF_UNWRAP ? CKR_WRAPPED_KEY_INVALID : CKR_ENCRYPTED_DATA_INVALID;
}

/* ---- buffered input ------------------------------------------------------ */

/* Appends n bytes, the total staying within limit (else the length error). */
static CK_RV buf_add(struct aead_op *o, const unsigned char *in, size_t n, size_t limit)
{
    CK_RV rv = CKR_OK;
    if (n == 0)
        goto out;
    if (o->len > limit || n > limit - o->len) {
        rv = len_error(o);
        goto out;
    }
    if (o->len + n > o->cap) {
        size_t cap = o->cap != 0 ? o->cap : BUF_START;
        while (cap < o->len + n)
            cap = cap > limit / 2 ? limit : cap * 2;
        unsigned char *p = OPENSSL_clear_realloc(o->buf, o->len, cap);
        if (p == NULL) {
            rv = CKR_HOST_MEMORY;
            goto out;
        }
        o->buf = p;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, in, n);
    o->len += n;
out:
    return rv;
}

/* Wipes and frees the buffer. */
static void buf_clear(struct aead_op *o)
{
    OPENSSL_clear_free(o->buf, o->len);
    o->buf = NULL;
    o->len = o->cap = 0;
}

/* ---- OpenSSL ------------------------------------------------------------- */

/* EVP_CipherUpdate over any length: *n = bytes written (out NULL: AAD). */
static CK_RV evp_update(EVP_CIPHER_CTX *ctx, unsigned char *out, size_t *n, const unsigned char *in,
                        size_t len)
{
    CK_RV rv = CKR_OK;
    size_t done = 0;
    while (len > 0) {
        int chunk = len > EVP_CHUNK ? EVP_CHUNK : (int)len, got = 0;
        if (EVP_CipherUpdate(ctx, out != NULL ? out + done : NULL, &got, in, chunk) != 1 ||
            got < 0) {
            rv = CKR_DEVICE_ERROR;
            goto out;
        }
        done += (size_t)got;
        in += chunk;
        len -= (size_t)chunk;
    }
out:
    if (n != NULL)
        *n = done;
    return rv;
}

/* GCM: a message under iv, then its AAD.  cipher and key (when not NULL)
 * set up the context in the same call (one init per single-part
 * operation). */
static CK_RV gcm_start(struct aead_op *o, EVP_CIPHER *cipher, const unsigned char *key,
                       const unsigned char *iv, size_t ivlen, const unsigned char *aad,
                       size_t aadlen)
{
    CK_RV rv = CKR_DEVICE_ERROR;
    /* OpenSSL applies an init's IV length before taking the IV. */
    size_t l = ivlen;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &l),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_CipherInit_ex2(o->ctx, cipher, key, iv, o->enc, ivlen != o->ivlen ? params : NULL) != 1)
        goto out;
    o->ivlen = ivlen;
    rv = evp_update(o->ctx, NULL, NULL, aad, aadlen);
out:
    return rv;
}

/* GCM decryption of ct (n bytes, the context having absorbed everything
 * before it) checked against tag, into out: when the tag does not verify
 * the bytes written are wiped (zeroed) before returning, so no
 * unauthenticated plaintext is ever released. */
static CK_RV gcm_open(struct aead_op *o, const unsigned char *ct, size_t n,
                      const unsigned char *tag, unsigned char *out)
{
    CK_RV rv;
    size_t k = 0;
    int fin = 0;
    unsigned char none[1];
    if ((rv = evp_update(o->ctx, n > 0 ? out : none, &k, ct, n)) != CKR_OK)
        goto out;
    rv = CKR_DEVICE_ERROR;
    if (EVP_CIPHER_CTX_ctrl(o->ctx, EVP_CTRL_AEAD_SET_TAG, (int)o->taglen, (void *)tag) != 1)
        goto out;
    if (EVP_CipherFinal_ex(o->ctx, n > 0 ? out + k : none, &fin) != 1) {
        ERR_clear_error();
        rv = data_error(o);
        goto out;
    }
    rv = CKR_OK;
out:
    /* explicit_bzero: glibc's vectorised memset, not elided (OPENSSL_cleanse
     * stores 8 bytes at a time). */
    if (rv != CKR_OK && n > 0)
        explicit_bzero(out, n);
    return rv;
}

/* GCM encryption's end: the tag into tag. */
static CK_RV gcm_seal(struct aead_op *o, unsigned char *tag)
{
    unsigned char none[TAG_MAX];
    int fin = 0;
    if (EVP_CipherFinal_ex(o->ctx, none, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(o->ctx, EVP_CTRL_AEAD_GET_TAG, (int)o->taglen, tag) != 1)
        return CKR_DEVICE_ERROR;
    return CKR_OK;
}

/* CCM: a message of datalen bytes under nonce (re-keyed: the tag and nonce
 * lengths are fixed when the key is set), then its AAD (one call: CCM
 * encodes the AAD's length in front of it). */
static CK_RV ccm_start(struct aead_op *o, const unsigned char *nonce, size_t nlen,
                       const unsigned char *aad, size_t aadlen, size_t datalen)
{
    CK_RV rv = CKR_DEVICE_ERROR;
    size_t l = nlen;
    int n = 0;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &l),
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, NULL, o->taglen),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_CIPHER_CTX_set_params(o->ctx, params) != 1 ||
        EVP_CipherInit_ex2(o->ctx, NULL, o->head.key->secret, nonce, o->enc, NULL) != 1 ||
        EVP_CipherUpdate(o->ctx, NULL, &n, NULL, (int)datalen) != 1 ||
        (aadlen > 0 && EVP_CipherUpdate(o->ctx, NULL, &n, aad, (int)aadlen) != 1))
        goto out;
    rv = CKR_OK;
out:
    return rv;
}

/* CCM: the whole payload in (data_len bytes).  Encryption: ciphertext to
 * out, the MAC to tag_out.  Decryption: checked against tag_in, out gets
 * the plaintext only when it verifies. */
static CK_RV ccm_finish(struct aead_op *o, const unsigned char *in, unsigned char *out,
                        unsigned char *tag_out, const unsigned char *tag_in)
{
    static const unsigned char empty[1]; /* CCM needs non-NULL data even when empty */
    CK_RV rv = CKR_HOST_MEMORY;
    size_t n = o->data_len;
    unsigned char none[TAG_MAX];
    unsigned char *tmp = NULL;
    int got = 0, fin = 0;
    if (n == 0)
        in = empty;
    if (o->enc) {
        rv = CKR_DEVICE_ERROR;
        if (EVP_CipherUpdate(o->ctx, n > 0 ? out : none, &got, in, (int)n) != 1 ||
            EVP_CipherFinal_ex(o->ctx, none, &fin) != 1 ||
            EVP_CIPHER_CTX_ctrl(o->ctx, EVP_CTRL_AEAD_GET_TAG, (int)o->taglen, tag_out) != 1)
            goto out;
        rv = CKR_OK;
        goto out;
    }
    if (n > 0 && (tmp = OPENSSL_malloc(n)) == NULL)
        goto out;
    rv = CKR_DEVICE_ERROR;
    if (EVP_CIPHER_CTX_ctrl(o->ctx, EVP_CTRL_AEAD_SET_TAG, (int)o->taglen, (void *)tag_in) != 1)
        goto out;
    if (EVP_CipherUpdate(o->ctx, tmp != NULL ? tmp : none, &got, in, (int)n) != 1) {
        ERR_clear_error();
        rv = data_error(o);
        goto out;
    }
    if (n > 0)
        memcpy(out, tmp, n);
    rv = CKR_OK;
out:
    OPENSSL_clear_free(tmp, n);
    return rv;
}

/* ---- single- and multi-part ------------------------------------------------ */

static CK_RV aead_update(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                         unsigned char *out, CK_ULONG *outlen)
{
    struct aead_op *o = (struct aead_op *)op;
    CK_RV rv = CKR_ARGUMENTS_BAD;
    size_t n = 0;
    bool done;
    if (in == NULL && inlen > 0)
        goto out;
    if (o->gcm && o->enc) {
        rv = mech_out(out, outlen, inlen, &done);
        if (done)
            goto out;
        if ((rv = evp_update(o->ctx, out, &n, in, inlen)) == CKR_OK)
            *outlen = (CK_ULONG)n;
        goto out;
    }
    /* Kept until the final: nothing to output now. */
    size_t limit = o->gcm ? MECH_MAX_BUFFER : o->enc ? o->data_len : o->data_len + o->taglen;
    if (o->len > limit || inlen > limit - o->len) {
        rv = len_error(o);
        goto out;
    }
    rv = mech_out(out, outlen, 0, &done);
    if (done)
        goto out;
    if ((rv = buf_add(o, in, inlen, limit)) == CKR_OK)
        *outlen = 0;
out:
    return rv;
}

/* The whole input in (n bytes: all of it, or the buffered parts) at once. */
static CK_RV aead_all(struct aead_op *o, const unsigned char *in, size_t n, unsigned char *out,
                      CK_ULONG *outlen)
{
    CK_RV rv = CKR_OK;
    size_t need = 0, k = 0;
    bool done;
    if (o->gcm && o->enc) {
        need = n + o->taglen;
    } else if (o->gcm) {
        if (n < o->taglen)
            rv = len_error(o);
        else
            need = n - o->taglen;
    } else if (o->enc) {
        if (n != o->data_len)
            rv = len_error(o);
        need = n + o->taglen;
    } else {
        if (n != o->data_len + o->taglen)
            rv = len_error(o);
        need = o->data_len;
    }
    if (rv != CKR_OK)
        goto out;
    rv = mech_out(out, outlen, need, &done);
    if (done)
        goto out;
    if (o->gcm && o->enc) {
        if ((rv = evp_update(o->ctx, out, &k, in, n)) == CKR_OK)
            rv = gcm_seal(o, out + k);
    } else if (o->gcm) {
        rv = gcm_open(o, in, need, in + need, out);
    } else if (o->enc) {
        rv = ccm_finish(o, in, out, out + n, NULL);
    } else {
        rv = ccm_finish(o, in, out, NULL, in + o->data_len);
    }
    if (rv == CKR_OK)
        *outlen = (CK_ULONG)need;
out:
    return rv;
}

static CK_RV aead_final(struct mech_op *op, unsigned char *out, CK_ULONG *outlen)
{
    struct aead_op *o = (struct aead_op *)op;
    CK_RV rv;
    bool done;
    if (o->gcm && o->enc) {
        rv = mech_out(out, outlen, o->taglen, &done);
        if (done)
            goto out;
        if ((rv = gcm_seal(o, out)) == CKR_OK)
            *outlen = (CK_ULONG)o->taglen;
        goto out;
    }
    rv = aead_all(o, o->buf, o->len, out, outlen);
    if (rv != CKR_BUFFER_TOO_SMALL && out != NULL)
        buf_clear(o);
out:
    return rv;
}

static CK_RV aead_oneshot(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                          unsigned char *out, CK_ULONG *outlen)
{
    struct aead_op *o = (struct aead_op *)op;
    if (in == NULL && inlen > 0)
        return CKR_ARGUMENTS_BAD;
    return aead_all(o, in, inlen, out, outlen);
}

/* ---- message API ----------------------------------------------------------- */

/* Fills what follows the first `fixed` bits of iv[len] per generator g
 * (encryption only; decryption takes the IV as given). */
static CK_RV gen_iv(struct aead_op *o, CK_GENERATOR_FUNCTION g, unsigned char *iv, size_t len,
                    CK_ULONG fixed)
{
    CK_RV rv = CKR_OK;
    unsigned char gen[GCM_IV_MAX];
    if (!o->enc || g == CKG_NO_GENERATE)
        goto out;
    size_t free_bits = len * 8 - fixed; /* > 0: checked by the caller */
    switch (g) {
    case CKG_GENERATE:
    case CKG_GENERATE_RANDOM:
        if ((rv = crypto_random(o->head.crypto, gen, len, false)) != CKR_OK)
            goto out;
        break;
    case CKG_GENERATE_COUNTER:
        if (free_bits < 64 && (o->counter >> free_bits) != 0) {
            rv = CKR_FUNCTION_FAILED; /* every IV of the field has been used */
            goto out;
        }
        memset(gen, 0, len);
        for (size_t i = 0; i < 8 && i < len; i++)
            gen[len - 1 - i] = (unsigned char)(o->counter >> (8 * i));
        o->counter++;
        break;
    default:
        rv = CKR_ARGUMENTS_BAD;
        goto out;
    }
    for (size_t i = 0; i < len; i++) {
        size_t bit = i * 8;
        if (bit + 8 <= fixed)
            continue;
        if (bit >= fixed) {
            iv[i] = gen[i];
        } else {
            unsigned char keep = (unsigned char)(0xffu << (8 - (fixed - bit)));
            iv[i] = (unsigned char)((iv[i] & keep) | (gen[i] & ~keep));
        }
    }
out:
    crypto_wipe(gen, sizeof(gen));
    return rv;
}

/* One message's parameters, checked. */
struct msg_param {
    unsigned char *iv; /* IV / nonce (the caller's; generated into) */
    size_t ivlen;
    CK_ULONG fixed; /* bits */
    CK_GENERATOR_FUNCTION gen;
    unsigned char *tag; /* pTag / pMAC */
    size_t taglen;
    size_t datalen; /* CCM */
};

static CK_RV msg_param(const struct aead_op *o, const void *param, CK_ULONG paramlen,
                       struct msg_param *p)
{
    if (o->gcm) {
        const CK_GCM_MESSAGE_PARAMS *g = param;
        if (g == NULL || paramlen != sizeof(*g) || g->pIv == NULL || g->ulIvLen == 0 ||
            g->ulIvLen > GCM_IV_MAX || g->pTag == NULL || g->ulTagBits % 8 != 0 ||
            g->ulTagBits < 32 || g->ulTagBits > 128)
            return CKR_ARGUMENTS_BAD;
        *p = (struct msg_param){
            g->pIv, g->ulIvLen, g->ulIvFixedBits, g->ivGenerator, g->pTag, g->ulTagBits / 8, 0};
    } else {
        const CK_CCM_MESSAGE_PARAMS *c = param;
        if (c == NULL || paramlen != sizeof(*c) || c->pNonce == NULL ||
            c->ulNonceLen < CCM_NONCE_MIN || c->ulNonceLen > CCM_NONCE_MAX || c->pMAC == NULL ||
            c->ulMACLen < 4 || c->ulMACLen > 16 || c->ulMACLen % 2 != 0 ||
            c->ulDataLen > MECH_MAX_BUFFER ||
            (15 - c->ulNonceLen < 8 && c->ulDataLen >> (8 * (15 - c->ulNonceLen)) != 0))
            return CKR_ARGUMENTS_BAD;
        *p = (struct msg_param){c->pNonce, c->ulNonceLen, c->ulNonceFixedBits, c->nonceGenerator,
                                c->pMAC,   c->ulMACLen,   c->ulDataLen};
    }
    if (o->enc && p->gen != CKG_NO_GENERATE && p->fixed >= p->ivlen * 8)
        return CKR_ARGUMENTS_BAD; /* nothing left to generate */
    return CKR_OK;
}

/* Ends the current message (wiping what it kept). */
static void msg_end(struct aead_op *o)
{
    buf_clear(o);
    o->in_msg = false;
}

static CK_RV aead_msg_begin(struct mech_op *op, void *param, CK_ULONG paramlen,
                            const unsigned char *aad, CK_ULONG aadlen)
{
    struct aead_op *o = (struct aead_op *)op;
    struct msg_param p;
    CK_RV rv = CKR_OPERATION_ACTIVE;
    if (o->in_msg)
        goto out;
    rv = CKR_ARGUMENTS_BAD;
    if ((aad == NULL && aadlen > 0) || (!o->gcm && aadlen > INT_MAX))
        goto out;
    if ((rv = msg_param(o, param, paramlen, &p)) != CKR_OK ||
        (rv = gen_iv(o, p.gen, p.iv, p.ivlen, p.fixed)) != CKR_OK)
        goto out;
    o->taglen = p.taglen;
    o->data_len = p.datalen;
    rv = o->gcm ? gcm_start(o, NULL, NULL, p.iv, p.ivlen, aad, aadlen)
                : ccm_start(o, p.iv, p.ivlen, aad, aadlen, p.datalen);
    if (rv == CKR_OK)
        o->in_msg = true;
out:
    return rv;
}

/* The last part of a GCM message. */
static CK_RV gcm_last(struct aead_op *o, const struct msg_param *p, const unsigned char *in,
                      size_t inlen, unsigned char *out)
{
    size_t n = 0;
    if (!o->enc)
        return gcm_open(o, in, inlen, p->tag, out);
    CK_RV rv = evp_update(o->ctx, out, &n, in, inlen);
    return rv == CKR_OK ? gcm_seal(o, p->tag) : rv;
}

/* A whole message's output size, no message begun (C_EncryptMessage's
 * first question): from the parameter alone. */
static CK_RV msg_size(struct aead_op *o, const struct msg_param *p, CK_ULONG inlen,
                      CK_ULONG *outlen)
{
    if (!o->gcm && p->datalen != inlen)
        return len_error(o);
    *outlen = inlen;
    return CKR_OK;
}

static CK_RV aead_msg_next(struct mech_op *op, void *param, CK_ULONG paramlen,
                           const unsigned char *in, CK_ULONG inlen, unsigned char *out,
                           CK_ULONG *outlen, bool last)
{
    struct aead_op *o = (struct aead_op *)op;
    struct msg_param p;
    size_t n = 0, need = inlen;
    bool done = false;
    CK_RV rv = CKR_ARGUMENTS_BAD;
    if ((in == NULL && inlen > 0) || (rv = msg_param(o, param, paramlen, &p)) != CKR_OK)
        goto out;
    if (!o->in_msg) {
        rv = out == NULL && last ? msg_size(o, &p, inlen, outlen) : CKR_OPERATION_NOT_INITIALIZED;
        goto out;
    }
    if (p.taglen != o->taglen || (!o->gcm && p.datalen != o->data_len)) {
        rv = CKR_ARGUMENTS_BAD;
        goto out;
    }
    if (!o->gcm) {
        if (o->len > o->data_len || inlen > o->data_len - o->len ||
            (last && o->len + inlen != o->data_len)) {
            rv = len_error(o);
            goto out;
        }
        need = last ? o->data_len : 0;
    }
    rv = mech_out(out, outlen, need, &done);
    if (done)
        goto out;
    if (o->gcm && !last) {
        rv = evp_update(o->ctx, out, &n, in, inlen);
    } else if (o->gcm) {
        rv = gcm_last(o, &p, in, inlen, out);
    } else if (!last) {
        rv = buf_add(o, in, inlen, o->data_len);
    } else {
        const unsigned char *all = in;
        if (o->len > 0) {
            rv = buf_add(o, in, inlen, o->data_len);
            all = o->buf;
        }
        if (rv == CKR_OK)
            rv = ccm_finish(o, all, out, o->enc ? p.tag : NULL, o->enc ? NULL : p.tag);
    }
    if (rv == CKR_OK)
        *outlen = (CK_ULONG)need;
    if (last)
        msg_end(o);
out:
    if (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL && o->in_msg)
        msg_end(o);
    return rv;
}

/* ---- operations ------------------------------------------------------------ */

static void aead_free(struct mech_op *op)
{
    struct aead_op *o = (struct aead_op *)op;
    EVP_CIPHER_CTX_free(o->ctx);
    buf_clear(o);
}

static const struct mech_op_ops aead_ops = {
    .update = aead_update,
    .final = aead_final,
    .oneshot = aead_oneshot,
    .free = aead_free,
};

static const struct mech_op_ops aead_msg_ops = {
    .msg_begin = aead_msg_begin,
    .msg_next = aead_msg_next,
    .free = aead_free,
};

/* The single-part parameter: IV/nonce, AAD, tag length, CCM data length. */
struct aead_param {
    const unsigned char *iv, *aad;
    size_t ivlen, aadlen, taglen, datalen;
};

static CK_RV aead_param(bool gcm, const CK_MECHANISM *m, struct aead_param *a)
{
    const void *v = NULL;
    CK_RV rv;
    if (gcm) {
        if ((rv = mech_param(m, sizeof(CK_GCM_PARAMS), &v)) != CKR_OK)
            return rv;
        const CK_GCM_PARAMS *g = v;
        if (g->pIv == NULL || g->ulIvLen == 0 || g->ulIvLen > GCM_IV_MAX ||
            (g->ulIvBits != 0 && g->ulIvBits != 8 * g->ulIvLen) ||
            (g->pAAD == NULL && g->ulAADLen > 0) || g->ulTagBits % 8 != 0 || g->ulTagBits < 32 ||
            g->ulTagBits > 128)
            return CKR_MECHANISM_PARAM_INVALID;
        *a = (struct aead_param){g->pIv, g->pAAD, g->ulIvLen, g->ulAADLen, g->ulTagBits / 8, 0};
    } else {
        if ((rv = mech_param(m, sizeof(CK_CCM_PARAMS), &v)) != CKR_OK)
            return rv;
        const CK_CCM_PARAMS *c = v;
        if (c->pNonce == NULL || c->ulNonceLen < CCM_NONCE_MIN || c->ulNonceLen > CCM_NONCE_MAX ||
            (c->pAAD == NULL && c->ulAADLen > 0) || c->ulAADLen > INT_MAX || c->ulMACLen < 4 ||
            c->ulMACLen > 16 || c->ulMACLen % 2 != 0 || c->ulDataLen > MECH_MAX_BUFFER ||
            (15 - c->ulNonceLen < 8 && c->ulDataLen >> (8 * (15 - c->ulNonceLen)) != 0))
            return CKR_MECHANISM_PARAM_INVALID;
        *a = (struct aead_param){c->pNonce,   c->pAAD,     c->ulNonceLen,
                                 c->ulAADLen, c->ulMACLen, c->ulDataLen};
    }
    return CKR_OK;
}

/* The EVP name of AES-GCM / AES-CCM for a key of keylen bytes (16/24/32). */
static const char *cipher_name(size_t keylen, bool gcm)
{
    switch (keylen) {
    case 16:
        return gcm ? "AES-128-GCM" : "AES-128-CCM";
    case 24:
        return gcm ? "AES-192-GCM" : "AES-192-CCM";
    default:
        return gcm ? "AES-256-GCM" : "AES-256-CCM";
    }
}

static CK_RV aead_init(struct mech_op **out, const struct mech_desc *d, const CK_MECHANISM *m,
                       mech_fn fn, struct key *k, struct crypto *c, const struct config *cfg)
{
    (void)cfg;
    struct aead_op *o = NULL;
    EVP_CIPHER *cipher = NULL;
    struct aead_param a = {0};
    bool gcm = d->type == CKM_AES_GCM;
    bool message = fn == CKF_MESSAGE_ENCRYPT || fn == CKF_MESSAGE_DECRYPT;
    bool enc = fn == CKF_ENCRYPT || fn == CKF_WRAP || fn == CKF_MESSAGE_ENCRYPT;
    CK_RV rv = CKR_MECHANISM_INVALID;

    *out = NULL;
    if ((!gcm && d->type != CKM_AES_CCM) ||
        (!enc && fn != CKF_DECRYPT && fn != CKF_UNWRAP && fn != CKF_MESSAGE_DECRYPT))
        goto out;
    rv = CKR_KEY_TYPE_INCONSISTENT;
    if (k == NULL || k->secret == NULL || k->type != CKK_AES)
        goto out;
    rv = CKR_KEY_SIZE_RANGE;
    if (k->secret_len != 16 && k->secret_len != 24 && k->secret_len != 32)
        goto out;
    if (!message && (rv = aead_param(gcm, m, &a)) != CKR_OK)
        goto out;

    rv = CKR_HOST_MEMORY;
    o = mech_op_alloc(sizeof(*o), message ? &aead_msg_ops : &aead_ops, d, fn, k, c);
    if (o == NULL)
        goto out;
    o->gcm = gcm;
    o->enc = enc;
    o->message = message;
    o->taglen = a.taglen;
    o->data_len = a.datalen;
    o->ivlen = GCM_IV_STD;
    if ((cipher = (EVP_CIPHER *)crypto_cipher(c, cipher_name(k->secret_len, gcm))) == NULL) {
        ERR_clear_error();
        rv = CKR_MECHANISM_INVALID; /* not offered by the library context */
        goto out;
    }
    if ((o->ctx = EVP_CIPHER_CTX_new()) == NULL)
        goto out;
    if (gcm && !message) {
        rv = gcm_start(o, cipher, k->secret, a.iv, a.ivlen, a.aad, a.aadlen);
    } else {
        /* GCM messages: keyed once; CCM: keyed per message (below / begin). */
        rv = EVP_CipherInit_ex2(o->ctx, cipher, gcm ? k->secret : NULL, NULL, enc, NULL) == 1
                 ? CKR_OK
                 : CKR_DEVICE_ERROR;
        if (rv == CKR_OK && !gcm && !message)
            rv = ccm_start(o, a.iv, a.ivlen, a.aad, a.aadlen, a.datalen);
    }
    if (rv != CKR_OK)
        goto out;
    *out = &o->head;
    o = NULL;
out:
    mech_op_free(o != NULL ? &o->head : NULL);
    return rv;
}

const struct mech_family mech_aead_family = {
    .name = "aead",
    .init = aead_init,
};
