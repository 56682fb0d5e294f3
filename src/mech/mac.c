/* MACs: HMAC with SHA-1 / SHA-2 / SHA-3 (and their _GENERAL variants,
 * truncated output) and AES-CMAC (and CMAC_GENERAL), sign and verify, on
 * EVP_MAC in the module's library context.  The table row says which: alg
 * is the HMAC digest (NULL for CMAC), arg 1 marks a _GENERAL variant whose
 * parameter is a CK_MAC_GENERAL_PARAMS (the output length in bytes). */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>

#include "mech/mech.h"

#define MAC_MAX EVP_MAX_MD_SIZE /* bytes: the longest full MAC (HMAC-SHA-512) */

struct mac_op {
    struct mech_op head;
    EVP_MAC_CTX *ctx;
    size_t len;  /* bytes of output: the full MAC or the _GENERAL length */
    size_t full; /* bytes of the full MAC */
};

/* The CKK_*_HMAC key type matching HMAC digest alg (besides the always
 * accepted CKK_GENERIC_SECRET), or CK_UNAVAILABLE_INFORMATION. */
static CK_KEY_TYPE hmac_key_type(const char *alg)
{
    static const struct {
        const char *alg;
        CK_KEY_TYPE kt;
    } map[] = {
        {"SHA1", CKK_SHA_1_HMAC},
        {"SHA2-224", CKK_SHA224_HMAC},
        {"SHA2-256", CKK_SHA256_HMAC},
        {"SHA2-384", CKK_SHA384_HMAC},
        {"SHA2-512", CKK_SHA512_HMAC},
        {"SHA2-512/224", CKK_SHA512_224_HMAC},
        {"SHA2-512/256", CKK_SHA512_256_HMAC},
        {"SHA3-224", CKK_SHA3_224_HMAC},
        {"SHA3-256", CKK_SHA3_256_HMAC},
        {"SHA3-384", CKK_SHA3_384_HMAC},
        {"SHA3-512", CKK_SHA3_512_HMAC},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].alg, alg) == 0)
            return map[i].kt;
    return CK_UNAVAILABLE_INFORMATION;
}

/* The AES-CBC cipher CMAC runs on for a key of len bytes, or NULL. */
static const char *cmac_cipher(size_t len)
{
    switch (len) {
    case 16:
        return "AES-128-CBC";
    case 24:
        return "AES-192-CBC";
    case 32:
        return "AES-256-CBC";
    default:
        return NULL;
    }
}

static CK_RV mac_update(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                        unsigned char *out, CK_ULONG *outlen)
{
    (void)out;
    (void)outlen;
    struct mac_op *o = (struct mac_op *)op;
    if (inlen == 0)
        return CKR_OK;
    return EVP_MAC_update(o->ctx, in, inlen) == 1 ? CKR_OK : CKR_DEVICE_ERROR;
}

/* The full MAC of what was absorbed into mac[o->full]; the caller wipes. */
static CK_RV mac_compute(struct mac_op *o, unsigned char mac[MAC_MAX])
{
    size_t n = 0;
    if (EVP_MAC_final(o->ctx, mac, &n, MAC_MAX) != 1 || n != o->full)
        return CKR_DEVICE_ERROR;
    return CKR_OK;
}

static CK_RV mac_final(struct mech_op *op, unsigned char *out, CK_ULONG *outlen)
{
    struct mac_op *o = (struct mac_op *)op;
    unsigned char mac[MAC_MAX];
    bool done;
    CK_RV rv = mech_out(out, outlen, o->len, &done);
    if (done)
        return rv;
    rv = mac_compute(o, mac);
    if (rv != CKR_OK)
        goto out;
    memcpy(out, mac, o->len);
    *outlen = o->len;
out:
    OPENSSL_cleanse(mac, sizeof(mac));
    return rv;
}

static CK_RV mac_oneshot(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                         unsigned char *out, CK_ULONG *outlen)
{
    struct mac_op *o = (struct mac_op *)op;
    bool done;
    /* A size query must not absorb the data. */
    CK_RV rv = mech_out(out, outlen, o->len, &done);
    if (done)
        return rv;
    rv = mac_update(op, in, inlen, NULL, NULL);
    if (rv != CKR_OK)
        return rv;
    return mac_final(op, out, outlen);
}

static CK_RV mac_verify_final(struct mech_op *op, const unsigned char *sig, CK_ULONG siglen)
{
    struct mac_op *o = (struct mac_op *)op;
    unsigned char mac[MAC_MAX];
    CK_RV rv = CKR_SIGNATURE_LEN_RANGE;
    if (siglen != o->len)
        goto out;
    rv = CKR_SIGNATURE_INVALID;
    if (sig == NULL)
        goto out;
    rv = mac_compute(o, mac);
    if (rv != CKR_OK)
        goto out;
    rv = CRYPTO_memcmp(mac, sig, o->len) == 0 ? CKR_OK : CKR_SIGNATURE_INVALID;
out:
    OPENSSL_cleanse(mac, sizeof(mac));
    return rv;
}

static CK_RV mac_verify_oneshot(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                                const unsigned char *sig, CK_ULONG siglen)
{
    struct mac_op *o = (struct mac_op *)op;
    if (siglen != o->len)
        return CKR_SIGNATURE_LEN_RANGE;
    CK_RV rv = mac_update(op, in, inlen, NULL, NULL);
    if (rv != CKR_OK)
        return rv;
    return mac_verify_final(op, sig, siglen);
}

static void mac_free(struct mech_op *op)
{
    EVP_MAC_CTX_free(((struct mac_op *)op)->ctx); /* cleanses the keyed state */
}

static const struct mech_op_ops mac_ops = {
    .update = mac_update,
    .final = mac_final,
    .oneshot = mac_oneshot,
    .verify_final = mac_verify_final,
    .verify_oneshot = mac_verify_oneshot,
    .free = mac_free,
};

/* The output length m asks for: the full MAC, or for a _GENERAL variant
 * the CK_MAC_GENERAL_PARAMS value, 1..full. */
static CK_RV mac_length(const struct mech_desc *d, const CK_MECHANISM *m, size_t full, size_t *len)
{
    if (d->arg != 1) {
        if (m->ulParameterLen != 0)
            return CKR_MECHANISM_PARAM_INVALID;
        *len = full;
        return CKR_OK;
    }
    const void *p = NULL;
    /* CK_MAC_GENERAL_PARAMS is a CK_ULONG (our header has no typedef). */
    CK_RV rv = mech_param(m, sizeof(CK_ULONG), &p);
    if (rv != CKR_OK)
        return rv;
    CK_ULONG want;
    memcpy(&want, p, sizeof(want));
    if (want < 1 || want > full)
        return CKR_MECHANISM_PARAM_INVALID;
    *len = want;
    return CKR_OK;
}

static CK_RV mac_init(struct mech_op **out, const struct mech_desc *d, const CK_MECHANISM *m,
                      mech_fn fn, struct key *k, struct crypto *c, const struct config *cfg)
{
    (void)cfg;
    EVP_MAC *mac = NULL;
    struct mac_op *op = NULL;
    OSSL_PARAM params[2];
    size_t full = 0, len = 0;
    bool hmac = d->alg != NULL;
    CK_RV rv = CKR_KEY_TYPE_INCONSISTENT;

    *out = NULL;
    if (m == NULL)
        return CKR_ARGUMENTS_BAD;
    if (fn != CKF_SIGN && fn != CKF_VERIFY)
        return CKR_MECHANISM_INVALID;
    if (k == NULL || k->cls != CKO_SECRET_KEY || k->secret == NULL || k->secret_len == 0)
        goto out;
    if (hmac) {
        if (k->type != CKK_GENERIC_SECRET && k->type != hmac_key_type(d->alg))
            goto out;
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)d->alg, 0);
    } else {
        const char *cipher = cmac_cipher(k->secret_len);
        rv = CKR_KEY_SIZE_RANGE;
        if (cipher == NULL)
            goto out;
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)cipher, 0);
    }
    params[1] = OSSL_PARAM_construct_end();

    rv = CKR_HOST_MEMORY;
    mac = (EVP_MAC *)crypto_mac(c, hmac ? "HMAC" : "CMAC"); /* borrowed */
    if (mac == NULL)
        goto out;
    op = mech_op_alloc(sizeof(*op), &mac_ops, d, fn, k, c);
    if (op == NULL || (op->ctx = EVP_MAC_CTX_new(mac)) == NULL)
        goto out;
    rv = CKR_DEVICE_ERROR;
    if (EVP_MAC_init(op->ctx, k->secret, k->secret_len, params) != 1)
        goto out;
    full = EVP_MAC_CTX_get_mac_size(op->ctx);
    if (full == 0 || full > MAC_MAX)
        goto out;
    rv = mac_length(d, m, full, &len);
    if (rv != CKR_OK)
        goto out;
    op->full = full;
    op->len = len;
    *out = &op->head;
    op = NULL;
out:
    if (op != NULL)
        mech_op_free(&op->head);
    return rv;
}

const struct mech_family mech_mac_family = {
    .name = "mac",
    .init = mac_init,
};
