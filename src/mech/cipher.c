/*
 * Block-cipher modes (PKCS#11 3.2 current mechanisms: AES ECB, CBC,
 * CBC_PAD, CTR, CTS; Triple DES ECB, CBC, CBC_PAD) on OpenSSL EVP, one
 * EVP_CIPHER_CTX per operation.  CKF_WRAP / CKF_UNWRAP behave as
 * encryption / decryption (length and integrity errors then carry the
 * CKR_WRAPPED_KEY_* codes).
 *
 * Streaming: every update outputs each block completed so far; only the
 * partial block stays inside OpenSSL's context.  CBC_PAD decryption keeps
 * the last full block back until the final (it holds the padding).  The
 * sizes are exact: update = the bytes completed now, final = what is left
 * (CBC_PAD decryption: up to one block less one byte; when the caller's
 * buffer is shorter than that, the padding is looked at first on a copy of
 * the context, so a buffer of exactly the plaintext's size is never
 * refused).
 *
 * CTR (CK_AES_CTR_PARAMS): the counter is the low ulCounterBits bits of cb.
 * OpenSSL increments the whole 128-bit block, which differs from PKCS#11
 * as soon as the counter field wraps into the bits above it, so an
 * operation that would use more counter blocks than the field has left
 * (2^bits - initial value) is refused with CKR_DATA_LEN_RANGE
 * (CKR_ENCRYPTED_DATA_LEN_RANGE when decrypting) before anything of that
 * part is processed.  With ulCounterBits = 128 both wrap modulo 2^128 and
 * nothing is refused.
 *
 * CTS is CBC ciphertext stealing with the last two blocks always swapped,
 * NIST SP 800-38A addendum "CS3" (the Kerberos variant, RFC 3962), which is
 * what PKCS#11 describes.  OpenSSL's AES-n-CBC-CTS is one-shot, so
 * multi-part CTS streams the leading blocks through plain CBC and keeps the
 * last 17..32 bytes back; the final runs them through the CTS cipher with
 * the CBC chaining value as IV (identical output: CS3 only changes the last
 * two blocks).  At least one block is needed in total (else
 * CKR_DATA_LEN_RANGE).
 */
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>

#include "mech/mech.h"

#define AES_BLOCK  16
#define DES3_BLOCK 8
#define DES3_KEY   24
#define EVP_CHUNK  (1 << 30) /* bytes per EVP call (int lengths); a multiple of every block */

__extension__ typedef unsigned __int128 u128;

enum mode { MODE_ECB, MODE_CBC, MODE_CBC_PAD, MODE_CTR, MODE_CTS };

struct cipher_op {
    struct mech_op head;
    EVP_CIPHER_CTX *ctx; /* ECB/CBC/CBC_PAD/CTR: the mode itself; CTS: plain CBC */
    EVP_CIPHER *cts;     /* CTS: AES-n-CBC-CTS for the tail */
    enum mode mode;
    bool enc;
    size_t bs;                   /* block size */
    size_t held;                 /* input not yet output: in ctx (block modes) or in tail (CTS) */
    u128 ctr_done;               /* CTR: bytes processed */
    u128 ctr_blocks;             /* CTR: counter blocks the field has left; 0: no limit */
    unsigned char iv[AES_BLOCK]; /* the initial IV (CBC family) */
    unsigned char tail[2 * AES_BLOCK]; /* CTS: the last bytes (plaintext when encrypting) */
};

/* The error for an input of the wrong length / failing its integrity
 * check, by function. */
static CK_RV len_error(const struct cipher_op *o)
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

static CK_RV data_error(const struct cipher_op *o)
{
    return o->head.fn == CKF_UNWRAP ? CKR_WRAPPED_KEY_INVALID : CKR_ENCRYPTED_DATA_INVALID;
}

/* EVP_CipherUpdate over any length (EVP counts in int): *n = bytes written. */
static CK_RV evp_update(EVP_CIPHER_CTX *ctx, unsigned char *out, size_t *n, const unsigned char *in,
                        size_t len)
{
    CK_RV rv = CKR_OK;
    size_t done = 0;
    while (len > 0) {
        int chunk = len > EVP_CHUNK ? EVP_CHUNK : (int)len, got = 0;
        if (EVP_CipherUpdate(ctx, out + done, &got, in, chunk) != 1 || got < 0) {
            rv = CKR_DEVICE_ERROR;
            goto out;
        }
        done += (size_t)got;
        in += chunk;
        len -= (size_t)chunk;
    }
out:
    *n = done;
    return rv;
}

/* CTR: may inlen more bytes be processed within the counter field? */
static CK_RV ctr_check(const struct cipher_op *o, size_t inlen)
{
    if (o->mode != MODE_CTR || o->ctr_blocks == 0)
        return CKR_OK;
    u128 blocks = (o->ctr_done + inlen + AES_BLOCK - 1) / AES_BLOCK;
    return blocks > o->ctr_blocks ? len_error(o) : CKR_OK;
}

/* The bytes an update of inlen outputs (block modes and CTR). */
static size_t stream_out(const struct cipher_op *o, size_t inlen)
{
    size_t t = o->held + inlen;
    if (o->mode == MODE_CTR)
        return inlen;
    if (o->mode == MODE_CBC_PAD && !o->enc) /* the last full block stays */
        return t == 0 ? 0 : (t - 1) / o->bs * o->bs;
    return t / o->bs * o->bs;
}

/* CTS: the bytes an update of inlen passes through CBC now (all but the
 * last 17..32). */
static size_t cts_out(const struct cipher_op *o, size_t inlen)
{
    size_t t = o->held + inlen;
    return t > 2 * o->bs ? (t - o->bs - 1) / o->bs * o->bs : 0;
}

/* CTS update: tail || in, all but the last 17..32 bytes through CBC. */
static CK_RV cts_update(struct cipher_op *o, const unsigned char *in, size_t inlen,
                        unsigned char *out, size_t *n)
{
    CK_RV rv = CKR_OK;
    size_t process = cts_out(o, inlen), done = 0, k = 0;
    if (process > 0) {
        size_t from_tail = o->held < process ? o->held : process;
        size_t from_in = process - from_tail;
        rv = evp_update(o->ctx, out, &k, o->tail, from_tail);
        done += k;
        if (rv == CKR_OK)
            rv = evp_update(o->ctx, out + done, &k, in, from_in);
        done += k;
        if (rv != CKR_OK)
            goto out;
        memmove(o->tail, o->tail + from_tail, o->held - from_tail);
        o->held -= from_tail;
        in += from_in;
        inlen -= from_in;
    }
    if (inlen > 0)
        memcpy(o->tail + o->held, in, inlen);
    o->held += inlen;
out:
    *n = done;
    return rv;
}

/* CBC-CS3 of in (len >= one block) with chaining value iv, in one call. */
static CK_RV cts_run(struct cipher_op *o, const unsigned char *iv, const unsigned char *in,
                     size_t len, unsigned char *out, size_t *n)
{
    CK_RV rv = CKR_DEVICE_ERROR;
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_CIPHER_PARAM_CTS_MODE, (char *)"CS3", 0),
        OSSL_PARAM_construct_end(),
    };
    int got = 0, fin = 0;
    *n = 0;
    if (x == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    if (len > INT_MAX) {
        rv = len_error(o);
        goto out;
    }
    if (EVP_CipherInit_ex2(x, o->cts, o->head.key->secret, iv, o->enc, params) != 1 ||
        EVP_CipherUpdate(x, out, &got, in, (int)len) != 1 ||
        EVP_CipherFinal_ex(x, out + got, &fin) != 1)
        goto out;
    *n = (size_t)got + (size_t)fin;
    rv = CKR_OK;
out:
    EVP_CIPHER_CTX_free(x);
    return rv;
}

/* CBC_PAD decryption: the plaintext bytes the block last (whose chaining
 * value is prev) gives, or CKR_ENCRYPTED_DATA_INVALID for bad padding.
 * Works on a copy of the context; the operation is unchanged. */
static CK_RV pad_peek(struct cipher_op *o, const unsigned char *prev, const unsigned char *last,
                      size_t *n)
{
    CK_RV rv = CKR_DEVICE_ERROR;
    unsigned char tmp[2 * AES_BLOCK];
    int got = 0, fin = 0;
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_dup(o->ctx);
    if (x == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    if (prev != NULL && (EVP_DecryptInit_ex2(x, NULL, NULL, prev, NULL) != 1 ||
                         EVP_DecryptUpdate(x, tmp, &got, last, (int)o->bs) != 1))
        goto out;
    if (EVP_DecryptFinal_ex(x, tmp + got, &fin) != 1) {
        ERR_clear_error();
        rv = data_error(o);
        goto out;
    }
    *n = (size_t)got + (size_t)fin;
    rv = CKR_OK;
out:
    crypto_wipe(tmp, sizeof(tmp));
    EVP_CIPHER_CTX_free(x);
    return rv;
}

static CK_RV cipher_update(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                           unsigned char *out, CK_ULONG *outlen)
{
    struct cipher_op *o = (struct cipher_op *)op;
    size_t n = 0;
    bool done;
    CK_RV rv = CKR_ARGUMENTS_BAD;
    if (in == NULL && inlen > 0)
        goto out;
    if ((rv = ctr_check(o, inlen)) != CKR_OK)
        goto out;
    size_t need = o->mode == MODE_CTS ? cts_out(o, inlen) : stream_out(o, inlen);
    rv = mech_out(out, outlen, need, &done);
    if (done)
        goto out;
    if (o->mode == MODE_CTS) {
        rv = cts_update(o, in, inlen, out, &n);
    } else {
        rv = evp_update(o->ctx, out, &n, in, inlen);
        o->held = o->held + inlen - n;
        o->ctr_done += inlen;
    }
    *outlen = (CK_ULONG)n;
out:
    return rv;
}

/* CBC_PAD decryption's final: the held block, unpadded. */
static CK_RV pad_final(struct cipher_op *o, unsigned char *out, CK_ULONG *outlen)
{
    CK_RV rv = CKR_OK;
    size_t n = 0;
    int fin = 0;
    if (o->held != o->bs) {
        rv = len_error(o);
        goto out;
    }
    if (out == NULL) {
        *outlen = (CK_ULONG)(o->bs - 1);
        goto out;
    }
    if (*outlen < o->bs - 1) {
        if ((rv = pad_peek(o, NULL, NULL, &n)) != CKR_OK)
            goto out;
        if (*outlen < n) {
            *outlen = (CK_ULONG)n;
            rv = CKR_BUFFER_TOO_SMALL;
            goto out;
        }
    }
    /* OpenSSL writes exactly the unpadded bytes (< one block). */
    if (EVP_DecryptFinal_ex(o->ctx, out, &fin) != 1) {
        ERR_clear_error();
        rv = data_error(o);
        goto out;
    }
    o->held = 0;
    *outlen = (CK_ULONG)fin;
out:
    return rv;
}

static CK_RV cipher_final(struct mech_op *op, unsigned char *out, CK_ULONG *outlen)
{
    struct cipher_op *o = (struct cipher_op *)op;
    CK_RV rv = CKR_OK;
    size_t need = 0, n = 0;
    unsigned char iv[AES_BLOCK];
    int fin = 0;
    bool done;

    switch (o->mode) {
    case MODE_CBC_PAD:
        if (!o->enc) {
            rv = pad_final(o, out, outlen);
            goto out;
        }
        need = o->bs;
        break;
    case MODE_CTS:
        if (o->held < o->bs) {
            rv = len_error(o);
            goto out;
        }
        need = o->held;
        break;
    case MODE_CTR:
        break;
    default:
        if (o->held != 0) {
            rv = len_error(o);
            goto out;
        }
        break;
    }
    rv = mech_out(out, outlen, need, &done);
    if (done)
        goto out;
    if (o->mode == MODE_CTS) {
        /* The chaining value: the CBC context's current IV. */
        if (EVP_CIPHER_CTX_get_updated_iv(o->ctx, iv, o->bs) != 1) {
            rv = CKR_DEVICE_ERROR;
            goto out;
        }
        rv = cts_run(o, iv, o->tail, o->held, out, &n);
        crypto_wipe(o->tail, sizeof(o->tail));
        o->held = 0;
        if (rv == CKR_OK)
            *outlen = (CK_ULONG)n;
        goto out;
    }
    if (EVP_CipherFinal_ex(o->ctx, out, &fin) != 1) {
        rv = CKR_DEVICE_ERROR;
        goto out;
    }
    o->held = 0;
    *outlen = (CK_ULONG)fin;
out:
    return rv;
}

/* Single part: the checks and sizes of update + final at once, then the
 * same processing (so the result equals the multi-part one). */
static CK_RV cipher_oneshot(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                            unsigned char *out, CK_ULONG *outlen)
{
    struct cipher_op *o = (struct cipher_op *)op;
    CK_RV rv = CKR_ARGUMENTS_BAD;
    size_t need = inlen, n = 0, m = 0;
    int fin = 0;
    bool done;

    if (in == NULL && inlen > 0)
        goto out;
    rv = CKR_OK;
    switch (o->mode) {
    case MODE_ECB:
    case MODE_CBC:
        if (inlen % o->bs != 0)
            rv = len_error(o);
        break;
    case MODE_CBC_PAD:
        if (o->enc) {
            need = inlen / o->bs * o->bs + o->bs;
            break;
        }
        if (inlen == 0 || inlen % o->bs != 0) {
            rv = len_error(o);
            break;
        }
        need = inlen - 1; /* at least one byte of padding */
        if (out != NULL && *outlen < need) {
            /* Exact size: unpad the last block alone. */
            const unsigned char *last = in + inlen - o->bs;
            rv = pad_peek(o, inlen > o->bs ? last - o->bs : o->iv, last, &m);
            need = inlen - o->bs + m;
        }
        break;
    case MODE_CTR:
        rv = ctr_check(o, inlen);
        break;
    case MODE_CTS:
        if (inlen < o->bs)
            rv = len_error(o);
        break;
    }
    if (rv != CKR_OK)
        goto out;
    rv = mech_out(out, outlen, need, &done);
    if (done)
        goto out;
    if (o->mode == MODE_CTS) {
        rv = cts_run(o, o->iv, in, inlen, out, &n);
    } else {
        if ((rv = evp_update(o->ctx, out, &n, in, inlen)) != CKR_OK)
            goto out;
        o->ctr_done += inlen;
        if (EVP_CipherFinal_ex(o->ctx, out + n, &fin) != 1) {
            ERR_clear_error();
            rv = o->mode == MODE_CBC_PAD && !o->enc ? data_error(o) : CKR_DEVICE_ERROR;
            goto out;
        }
        n += (size_t)fin;
    }
    if (rv == CKR_OK)
        *outlen = (CK_ULONG)n;
out:
    return rv;
}

static void cipher_free(struct mech_op *op)
{
    struct cipher_op *o = (struct cipher_op *)op;
    EVP_CIPHER_CTX_free(o->ctx);
    crypto_wipe(o->tail, sizeof(o->tail));
}

static const struct mech_op_ops cipher_ops = {
    .update = cipher_update,
    .final = cipher_final,
    .oneshot = cipher_oneshot,
    .free = cipher_free,
};

/* CTR: the counter blocks the low `bits` bits of cb have left, 0 for no
 * limit (bits = 128). */
static u128 ctr_room(const CK_BYTE cb[AES_BLOCK], CK_ULONG bits)
{
    if (bits >= 128)
        return 0;
    u128 v = 0, mask = ((u128)1 << bits) - 1;
    for (size_t i = 0; i < AES_BLOCK; i++)
        v = v << 8 | cb[i];
    return ((u128)1 << bits) - (v & mask);
}

/* EVP names by key length (16/24/32 bytes; DES3: 24). */
static const char *cipher_name(bool des3, enum mode mode, size_t keylen)
{
    static const char *const aes[3][3] = {
        {"AES-128-ECB", "AES-128-CBC", "AES-128-CTR"},
        {"AES-192-ECB", "AES-192-CBC", "AES-192-CTR"},
        {"AES-256-ECB", "AES-256-CBC", "AES-256-CTR"},
    };
    int m = mode == MODE_ECB ? 0 : mode == MODE_CTR ? 2 : 1; /* CBC, CBC_PAD, CTS: CBC */
    if (des3)
        return m == 0 ? "DES-EDE3-ECB" : "DES-EDE3-CBC";
    return aes[keylen == 16 ? 0 : keylen == 24 ? 1 : 2][m];
}

static const char *cts_name(size_t keylen)
{
    return keylen == 16 ? "AES-128-CBC-CTS" : keylen == 24 ? "AES-192-CBC-CTS" : "AES-256-CBC-CTS";
}

static CK_RV cipher_init(struct mech_op **out, const struct mech_desc *d, const CK_MECHANISM *m,
                         mech_fn fn, struct key *k, struct crypto *c, const struct config *cfg)
{
    (void)cfg;
    struct cipher_op *o = NULL;
    EVP_CIPHER *cipher = NULL;
    const unsigned char *iv = NULL;
    enum mode mode;
    bool des3 = false, enc = fn == CKF_ENCRYPT || fn == CKF_WRAP;
    CK_RV rv = CKR_MECHANISM_INVALID;

    *out = NULL;
    if (!enc && fn != CKF_DECRYPT && fn != CKF_UNWRAP)
        goto out;
    switch (d->type) {
    case CKM_DES3_ECB:
        des3 = true;
        /* fall through */
    case CKM_AES_ECB:
        mode = MODE_ECB;
        break;
    case CKM_DES3_CBC:
        des3 = true;
        /* fall through */
    case CKM_AES_CBC:
        mode = MODE_CBC;
        break;
    case CKM_DES3_CBC_PAD:
        des3 = true;
        /* fall through */
    case CKM_AES_CBC_PAD:
        mode = MODE_CBC_PAD;
        break;
    case CKM_AES_CTR:
        mode = MODE_CTR;
        break;
    case CKM_AES_CTS:
        mode = MODE_CTS;
        break;
    default:
        goto out;
    }
    rv = CKR_KEY_TYPE_INCONSISTENT;
    if (k == NULL || k->secret == NULL || k->type != (des3 ? CKK_DES3 : CKK_AES))
        goto out;
    rv = CKR_KEY_SIZE_RANGE;
    if (des3 ? k->secret_len != DES3_KEY
             : k->secret_len != 16 && k->secret_len != 24 && k->secret_len != 32)
        goto out;

    size_t bs = des3 ? DES3_BLOCK : AES_BLOCK;
    const CK_AES_CTR_PARAMS *ctr = NULL;
    const void *p = NULL;
    if (mode == MODE_ECB) {
        rv = m->ulParameterLen == 0 ? CKR_OK : CKR_MECHANISM_PARAM_INVALID;
    } else if (mode == MODE_CTR) {
        rv = mech_param(m, sizeof(*ctr), &p);
        ctr = p;
        if (rv == CKR_OK && (ctr->ulCounterBits == 0 || ctr->ulCounterBits > 128))
            rv = CKR_MECHANISM_PARAM_INVALID;
        if (rv == CKR_OK)
            iv = ctr->cb;
    } else {
        rv = mech_param(m, bs, &p);
        iv = p;
    }
    if (rv != CKR_OK)
        goto out;

    rv = CKR_HOST_MEMORY;
    o = mech_op_alloc(sizeof(*o), &cipher_ops, d, fn, k, c);
    if (o == NULL)
        goto out;
    o->mode = mode;
    o->enc = enc;
    o->bs = bs;
    if (iv != NULL)
        memcpy(o->iv, iv, bs);
    if (ctr != NULL)
        o->ctr_blocks = ctr_room(ctr->cb, ctr->ulCounterBits);

    cipher = (EVP_CIPHER *)crypto_cipher(c, cipher_name(des3, mode, k->secret_len));
    if (mode == MODE_CTS)
        o->cts = (EVP_CIPHER *)crypto_cipher(c, cts_name(k->secret_len)); /* borrowed */
    if (cipher == NULL || (mode == MODE_CTS && o->cts == NULL)) {
        ERR_clear_error();
        rv = CKR_MECHANISM_INVALID; /* not offered by the library context */
        goto out;
    }
    if ((o->ctx = EVP_CIPHER_CTX_new()) == NULL)
        goto out;
    rv = CKR_DEVICE_ERROR;
    if (EVP_CipherInit_ex2(o->ctx, cipher, k->secret, iv, enc, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(o->ctx, mode == MODE_CBC_PAD) != 1)
        goto out;
    *out = &o->head;
    o = NULL;
    rv = CKR_OK;
out:
    mech_op_free(o ? &o->head : NULL);
    return rv;
}

const struct mech_family mech_cipher_family = {
    .name = "cipher",
    .init = cipher_init,
};
