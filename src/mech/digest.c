/* Digests (SHA-1, SHA-2, SHA-3) on EVP_MD, multi-part and with saveable
 * state.  The EVP_MD is fetched once per mechanism and kept. */
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#include "mech/mech.h"

struct digest_op {
    struct mech_op head;
    EVP_MD_CTX *ctx;
    size_t len; /* digest bytes */
};

static CK_RV digest_update(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                           unsigned char *out, CK_ULONG *outlen)
{
    (void)out;
    (void)outlen;
    struct digest_op *d = (struct digest_op *)op;
    return EVP_DigestUpdate(d->ctx, in, inlen) == 1 ? CKR_OK : CKR_DEVICE_ERROR;
}

static CK_RV digest_final(struct mech_op *op, unsigned char *out, CK_ULONG *outlen)
{
    struct digest_op *d = (struct digest_op *)op;
    bool done;
    CK_RV rv = mech_out(out, outlen, d->len, &done);
    if (done)
        return rv;
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(d->ctx, out, &n) != 1)
        return CKR_DEVICE_ERROR;
    *outlen = n;
    return CKR_OK;
}

static CK_RV digest_oneshot(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                            unsigned char *out, CK_ULONG *outlen)
{
    struct digest_op *d = (struct digest_op *)op;
    bool done;
    CK_RV rv = mech_out(out, outlen, d->len, &done);
    if (done)
        return rv;
    if (EVP_DigestUpdate(d->ctx, in, inlen) != 1)
        return CKR_DEVICE_ERROR;
    return digest_final(op, out, outlen);
}

/* Saved state (C_GetOperationState).  OpenSSL has no public way to
 * serialise a digest context, so the state stays in the module: the blob
 * ("CRD1" || mechanism || 16 random bytes) names a private copy of the
 * context, valid in this process until STATE_MAX newer states were saved or
 * C_Finalize.  It holds no secret (a digest of data the caller has). */
#define STATE_MAGIC "CRD1"
#define STATE_MAX   32 /* saved states kept per process */

struct saved {
    unsigned char tag[16];
    CK_MECHANISM_TYPE mech;
    EVP_MD_CTX *ctx;
};

static pthread_mutex_t saved_lock = PTHREAD_MUTEX_INITIALIZER;
static struct saved saved[STATE_MAX];
static size_t saved_next;

#define STATE_LEN (4 + sizeof(CK_MECHANISM_TYPE) + 16)

static CK_RV digest_get_state(struct mech_op *op, unsigned char *out, CK_ULONG *outlen)
{
    struct digest_op *d = (struct digest_op *)op;
    bool done;
    CK_RV rv = mech_out(out, outlen, STATE_LEN, &done);
    if (done)
        return rv;
    EVP_MD_CTX *copy = EVP_MD_CTX_new();
    if (copy == NULL)
        return CKR_HOST_MEMORY;
    if (EVP_MD_CTX_copy_ex(copy, d->ctx) != 1) {
        EVP_MD_CTX_free(copy);
        return CKR_DEVICE_ERROR;
    }
    unsigned char tag[16];
    rv = crypto_random(op->crypto, tag, sizeof(tag), false);
    if (rv != CKR_OK) {
        EVP_MD_CTX_free(copy);
        return rv;
    }
    pthread_mutex_lock(&saved_lock);
    struct saved *s = &saved[saved_next++ % STATE_MAX]; /* the oldest goes */
    EVP_MD_CTX_free(s->ctx);
    memcpy(s->tag, tag, sizeof(tag));
    s->mech = op->desc->type;
    s->ctx = copy;
    pthread_mutex_unlock(&saved_lock);
    memcpy(out, STATE_MAGIC, 4);
    memcpy(out + 4, &op->desc->type, sizeof(CK_MECHANISM_TYPE));
    memcpy(out + 4 + sizeof(CK_MECHANISM_TYPE), tag, sizeof(tag));
    *outlen = STATE_LEN;
    return CKR_OK;
}

static CK_RV digest_set_state(struct mech_op *op, const unsigned char *in, CK_ULONG inlen)
{
    struct digest_op *d = (struct digest_op *)op;
    if (inlen != STATE_LEN || memcmp(in, STATE_MAGIC, 4) != 0)
        return CKR_SAVED_STATE_INVALID;
    CK_RV rv = CKR_SAVED_STATE_INVALID;
    pthread_mutex_lock(&saved_lock);
    for (size_t i = 0; i < STATE_MAX; i++) {
        struct saved *s = &saved[i];
        if (s->ctx != NULL && s->mech == op->desc->type &&
            crypto_equal(s->tag, in + 4 + sizeof(CK_MECHANISM_TYPE), sizeof(s->tag))) {
            rv = EVP_MD_CTX_copy_ex(d->ctx, s->ctx) == 1 ? CKR_OK : CKR_DEVICE_ERROR;
            break;
        }
    }
    pthread_mutex_unlock(&saved_lock);
    return rv;
}

static void digest_free(struct mech_op *op)
{
    EVP_MD_CTX_free(((struct digest_op *)op)->ctx);
}

static const struct mech_op_ops digest_ops = {
    .update = digest_update,
    .final = digest_final,
    .oneshot = digest_oneshot,
    .get_state = digest_get_state,
    .set_state = digest_set_state,
    .free = digest_free,
};

static CK_RV digest_init(struct mech_op **out, const struct mech_desc *d, const CK_MECHANISM *m,
                         mech_fn fn, struct key *k, struct crypto *c, const struct config *cfg)
{
    (void)cfg;
    if (m->ulParameterLen != 0)
        return CKR_MECHANISM_PARAM_INVALID;
    struct digest_op *op = mech_op_alloc(sizeof(*op), &digest_ops, d, fn, k, c);
    if (op == NULL)
        return CKR_HOST_MEMORY;
    const EVP_MD *md = crypto_md(c, d->alg);
    op->ctx = EVP_MD_CTX_new();
    CK_RV rv = CKR_OK;
    if (md == NULL || op->ctx == NULL)
        rv = CKR_HOST_MEMORY;
    else if (EVP_DigestInit_ex2(op->ctx, md, NULL) != 1)
        rv = CKR_DEVICE_ERROR;
    else
        op->len = (size_t)EVP_MD_get_size(md);
    if (rv != CKR_OK) {
        mech_op_free(&op->head);
        return rv;
    }
    *out = &op->head;
    return CKR_OK;
}

const struct mech_family mech_digest_family = {
    .name = "digest",
    .init = digest_init,
};

void mech_digest_cleanup(void)
{
    pthread_mutex_lock(&saved_lock);
    for (size_t i = 0; i < STATE_MAX; i++) {
        EVP_MD_CTX_free(saved[i].ctx);
        memset(&saved[i], 0, sizeof(saved[i]));
    }
    pthread_mutex_unlock(&saved_lock);
}

CK_RV mech_digest_restore(struct crypto *c, const struct config *cfg, const unsigned char *state,
                          CK_ULONG len, struct mech_op **out)
{
    CK_MECHANISM_TYPE type;
    *out = NULL;
    if (len != STATE_LEN || memcmp(state, STATE_MAGIC, 4) != 0)
        return CKR_SAVED_STATE_INVALID;
    memcpy(&type, state + 4, sizeof(type));
    const struct mech_desc *d = mech_find(type);
    if (d == NULL || d->family != &mech_digest_family || !mech_enabled(d, cfg))
        return CKR_SAVED_STATE_INVALID;
    CK_MECHANISM m = {type, NULL, 0};
    CK_RV rv = mech_op_new(d, &m, CKF_DIGEST, NULL, c, cfg, out);
    if (rv == CKR_OK) {
        rv = digest_set_state(*out, state, len);
        if (rv != CKR_OK) {
            mech_op_free(*out);
            *out = NULL;
        } else {
            (*out)->updated = true;
        }
    }
    return rv;
}
