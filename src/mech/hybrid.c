/*
 * The hybrid vendor mechanisms (include/craton/pkcs11_craton.h), on OpenSSL
 * 3.5 EVP in the module's library context with the keys' cached EVP_PKEYs.
 * Both combine two ordinary key objects: the post-quantum key is the
 * operation's key, the classical one arrives resolved by the p11 layer as
 * struct mech_two_keys (the application names it in CK_CRATON_HYBRID_PARAMS).
 *
 *  - CKM_CRATON_XWING: X-Wing, draft-connolly-cfrg-xwing-kem-10 (the
 *    algorithms are unchanged since -05; its appendix C vectors are the
 *    -08 ones), through C_EncapsulateKey / C_DecapsulateKey.  The
 *    ML-KEM-768 key (CKK_ML_KEM, CKP_ML_KEM_768) is hKey, the X25519 key
 *    (CKK_EC_MONTGOMERY) of the same side is hClassicKey.
 *      encapsulate: eseed = 64 random bytes; (ss_M, ct_M) = ML-KEM-768
 *        encapsulation with m = eseed[0:32]; ct_X = X25519(eseed[32:64], 9),
 *        ss_X = X25519(eseed[32:64], pk_X)
 *      decapsulate: ss_M = ML-KEM-768 decapsulation of ct_M (implicit
 *        rejection), ss_X = X25519(sk_X, ct_X), pk_X derived from sk_X
 *      ss = SHA3-256(ss_M || ss_X || ct_X || pk_X || "\./" "/^\")
 *    Ciphertext ct_M (1088) || ct_X (32); shared secret 32 bytes.
 *    X-Wing's own private key is a 32-byte seed expanded by SHAKE-256 into
 *    both halves; the module does not keep X-Wing keys as one object.  To
 *    use an X-Wing seed sk: expanded = SHAKE-256(sk, 96 bytes); import the
 *    ML-KEM-768 private key with CKA_SEED = expanded[0:64] (d || z, FIPS
 *    203's seed form; C_CreateObject also wants the CKA_VALUE it expands
 *    to) and the X25519 private key with CKA_VALUE = expanded[64:96]
 *    (their public keys: the ML-KEM-768 encapsulation key = pk[0:1184] and
 *    the X25519 key = pk[1184:1216] of the X-Wing public key).  A
 *    ciphertext whose X25519 half is a small-order point (all-zero X25519
 *    output, which OpenSSL refuses) gives CKR_ENCRYPTED_DATA_INVALID at
 *    decapsulation; such a public key gives CKR_PUBLIC_KEY_INVALID at
 *    encapsulation.  Wrong ciphertext length: CKR_ENCRYPTED_DATA_LEN_RANGE.
 *  - CKM_CRATON_ML_DSA_65_ECDSA_P256: sign/verify with an ML-DSA-65 key
 *    (hKey) and a P-256 key (hClassicKey) of the same class.  Signature =
 *    ML-DSA-65 pure signature of the message (empty context, hedged: 3309
 *    bytes) || ECDSA-SHA256 signature of the message as raw r || s (64
 *    bytes).  Verification checks both halves, always both, and succeeds
 *    only when both do.  Multi-part: the ECDSA half streams; OpenSSL 3.5
 *    signs ML-DSA messages in one shot only, so the message is also
 *    collected (up to MECH_MAX_BUFFER) for the ML-DSA half.
 * Expected failures (bad signature, forged ciphertext) leave nothing in the
 * thread's OpenSSL error queue.
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>

#include "craton/pkcs11_craton.h"
#include "mech/mech.h"

/* ---- X-Wing ------------------------------------------------------------------ */

#define XWING_CT_M_LEN  1088 /* ML-KEM-768 ciphertext */
#define XWING_X_LEN     32   /* X25519 keys, ciphertext and shared secret */
#define XWING_SS_M_LEN  32   /* ML-KEM shared secret */
#define XWING_CT_LEN    (XWING_CT_M_LEN + XWING_X_LEN)
#define XWING_SS_LEN    32
#define XWING_M_LEN     32 /* eseed[0:32]: ML-KEM's m */
#define XWING_ESEED_LEN (XWING_M_LEN + XWING_X_LEN)
#define XWING_LABEL_LEN 6

/* The combiner's input, in the order the draft hashes it. */
enum {
    XW_SS_M = 0,
    XW_SS_X = XW_SS_M + XWING_SS_M_LEN,
    XW_CT_X = XW_SS_X + XWING_X_LEN,
    XW_PK_X = XW_CT_X + XWING_X_LEN,
    XW_LABEL = XW_PK_X + XWING_X_LEN,
    XW_IN_LEN = XW_LABEL + XWING_LABEL_LEN,
};

/* XWingLabel: the ASCII art "\./" "/^\". */
static const unsigned char xwing_label[XWING_LABEL_LEN] = {0x5c, 0x2e, 0x2f, 0x2f, 0x5e, 0x5c};

/* What an encapsulation or decapsulation holds secret (secure heap). */
struct xwing_scratch {
    unsigned char eseed[XWING_ESEED_LEN];
    unsigned char in[XW_IN_LEN];
};

/* The classical key of a hybrid's parameter (CKR_MECHANISM_PARAM_INVALID
 * when the p11 layer did not resolve one). */
static CK_RV two_keys_classic(const CK_MECHANISM *m, struct key **classic)
{
    const struct mech_two_keys *tk = NULL;
    CK_RV rv = mech_param(m, sizeof(*tk), (const void **)&tk);
    if (rv == CKR_OK && tk->classic == NULL)
        rv = CKR_MECHANISM_PARAM_INVALID;
    if (rv == CKR_OK)
        *classic = tk->classic;
    return rv;
}

static bool curve_is(const struct key *k, const char *name)
{
    return k->curve != NULL && strcmp(k->curve, name) == 0;
}

/* X-Wing's keys for one side (priv: decapsulation): k an ML-KEM-768 key
 * and the classical key an X25519 key, both of class cls. */
static CK_RV xwing_keys(const struct mech_desc *d, const CK_MECHANISM *m, struct key *k, bool priv,
                        struct key **classic)
{
    const CK_OBJECT_CLASS cls = priv ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY;
    const struct key *x;
    CK_RV rv = CKR_MECHANISM_INVALID;
    if (d->type != CKM_CRATON_XWING)
        goto out;
    if ((rv = two_keys_classic(m, classic)) != CKR_OK)
        goto out;
    x = *classic;
    rv = CKR_KEY_TYPE_INCONSISTENT;
    if (k == NULL || k->pkey == NULL || k->cls != cls || k->type != CKK_ML_KEM ||
        k->parameter_set != CKP_ML_KEM_768 || !EVP_PKEY_is_a(k->pkey, "ML-KEM-768"))
        goto out;
    if (x->pkey == NULL || x->cls != cls || x->type != CKK_EC_MONTGOMERY || !curve_is(x, "X25519"))
        goto out;
    rv = CKR_OK;
out:
    return rv;
}

/* eseed: the DRBG's, or in test builds the known-answer test's. */
static CK_RV xwing_eseed(struct crypto *c, unsigned char eseed[XWING_ESEED_LEN])
{
#ifdef CRATON_TEST_HOOKS
    if (crypto_test_entropy("XWING_ESEED", eseed, XWING_ESEED_LEN) == XWING_ESEED_LEN)
        return CKR_OK;
#endif
    return crypto_random(c, eseed, XWING_ESEED_LEN, false);
}

/* The raw X25519 public key of pkey into out[XWING_X_LEN]. */
static CK_RV x25519_public(EVP_PKEY *pkey, unsigned char *out)
{
    size_t n = XWING_X_LEN;
    if (EVP_PKEY_get_raw_public_key(pkey, out, &n) != 1 || n != XWING_X_LEN)
        return CKR_DEVICE_ERROR;
    return CKR_OK;
}

/* out[XWING_X_LEN] = X25519(priv, peer); a small-order peer (all-zero
 * result, refused by OpenSSL) or any other failure gives bad_peer. */
static CK_RV x25519(OSSL_LIB_CTX *lc, EVP_PKEY *priv, EVP_PKEY *peer, unsigned char *out,
                    CK_RV bad_peer)
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(lc, priv, NULL);
    size_t n = XWING_X_LEN;
    CK_RV rv = CKR_HOST_MEMORY;
    if (pc == NULL)
        goto out;
    rv = CKR_DEVICE_ERROR;
    if (EVP_PKEY_derive_init(pc) != 1)
        goto out;
    rv = bad_peer;
    if (EVP_PKEY_derive_set_peer_ex(pc, peer, 1) != 1 || EVP_PKEY_derive(pc, out, &n) != 1 ||
        n != XWING_X_LEN)
        goto out;
    rv = CKR_OK;
out:
    EVP_PKEY_CTX_free(pc);
    return rv;
}

/* *ss = SHA3-256 of the combiner input (secure heap). */
static CK_RV xwing_combine(struct crypto *c, unsigned char *in, unsigned char **ss, size_t *sslen)
{
    const EVP_MD *md = crypto_md(c, "SHA3-256");
    unsigned char *out = NULL;
    unsigned int n = 0;
    CK_RV rv = CKR_DEVICE_ERROR;
    if (md == NULL)
        goto out;
    rv = CKR_HOST_MEMORY;
    if ((out = crypto_secret_alloc(XWING_SS_LEN)) == NULL)
        goto out;
    memcpy(in + XW_LABEL, xwing_label, XWING_LABEL_LEN);
    rv = CKR_DEVICE_ERROR;
    if (EVP_Digest(in, XW_IN_LEN, out, &n, md, NULL) != 1 || n != XWING_SS_LEN)
        goto out;
    *ss = out;
    *sslen = XWING_SS_LEN;
    out = NULL;
    rv = CKR_OK;
out:
    crypto_secret_free(out, XWING_SS_LEN);
    return rv;
}

/* C_EncapsulateKey (public ML-KEM-768 key k, public X25519 key in m). */
static CK_RV xwing_encapsulate(const struct mech_desc *d, const CK_MECHANISM *m, struct key *k,
                               struct crypto *c, const struct config *cfg, unsigned char *ct,
                               CK_ULONG *ctlen, unsigned char **ss, size_t *sslen)
{
    OSSL_LIB_CTX *lc = (OSSL_LIB_CTX *)mech_libctx(c);
    struct key *classic = NULL;
    struct xwing_scratch *s = NULL;
    EVP_PKEY *eph = NULL;
    EVP_PKEY_CTX *kc = NULL;
    size_t ctm = XWING_CT_M_LEN, ssm = XWING_SS_M_LEN;
    bool done;
    CK_RV rv;

    (void)cfg;
    ERR_set_mark();
    if ((rv = xwing_keys(d, m, k, false, &classic)) != CKR_OK)
        goto out;
    rv = mech_out(ct, ctlen, XWING_CT_LEN, &done);
    if (done)
        goto out;
    rv = CKR_ARGUMENTS_BAD; /* a ciphertext is made: the secret needs a home */
    if (ss == NULL || sslen == NULL)
        goto out;
    rv = CKR_HOST_MEMORY;
    if ((s = crypto_secret_alloc(sizeof(*s))) == NULL)
        goto out;
    if ((rv = xwing_eseed(c, s->eseed)) != CKR_OK)
        goto out;
    /* X25519 half: the ephemeral key ek_X = eseed[32:64], ct_X its public key. */
    rv = CKR_DEVICE_ERROR;
    eph = EVP_PKEY_new_raw_private_key_ex(lc, "X25519", NULL, s->eseed + XWING_M_LEN, XWING_X_LEN);
    if (eph == NULL)
        goto out;
    if ((rv = x25519_public(eph, s->in + XW_CT_X)) != CKR_OK ||
        (rv = x25519_public(classic->pkey, s->in + XW_PK_X)) != CKR_OK ||
        (rv = x25519(lc, eph, classic->pkey, s->in + XW_SS_X, CKR_PUBLIC_KEY_INVALID)) != CKR_OK)
        goto out;
    /* ML-KEM-768 half with m = eseed[0:32] (FIPS 203 algorithm 17). */
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KEM_PARAM_IKME, s->eseed, XWING_M_LEN),
        OSSL_PARAM_construct_end(),
    };
    rv = CKR_HOST_MEMORY;
    if ((kc = EVP_PKEY_CTX_new_from_pkey(lc, k->pkey, NULL)) == NULL)
        goto out;
    rv = CKR_DEVICE_ERROR;
    if (EVP_PKEY_encapsulate_init(kc, params) != 1 ||
        EVP_PKEY_encapsulate(kc, ct, &ctm, s->in + XW_SS_M, &ssm) != 1 || ctm != XWING_CT_M_LEN ||
        ssm != XWING_SS_M_LEN)
        goto out;
    memcpy(ct + XWING_CT_M_LEN, s->in + XW_CT_X, XWING_X_LEN);
    if ((rv = xwing_combine(c, s->in, ss, sslen)) != CKR_OK)
        goto out;
    *ctlen = XWING_CT_LEN;
out:
    EVP_PKEY_CTX_free(kc);
    EVP_PKEY_free(eph);
    crypto_secret_free(s, sizeof(*s));
    ERR_pop_to_mark();
    return rv;
}

/* C_DecapsulateKey (private ML-KEM-768 key k, private X25519 key in m). */
static CK_RV xwing_decapsulate(const struct mech_desc *d, const CK_MECHANISM *m, struct key *k,
                               struct crypto *c, const struct config *cfg, const unsigned char *ct,
                               CK_ULONG ctlen, unsigned char **ss, size_t *sslen)
{
    OSSL_LIB_CTX *lc = (OSSL_LIB_CTX *)mech_libctx(c);
    struct key *classic = NULL;
    struct xwing_scratch *s = NULL;
    EVP_PKEY *peer = NULL;
    EVP_PKEY_CTX *kc = NULL;
    size_t ssm = XWING_SS_M_LEN;
    CK_RV rv;

    (void)cfg;
    ERR_set_mark();
    if ((rv = xwing_keys(d, m, k, true, &classic)) != CKR_OK)
        goto out;
    rv = CKR_ENCRYPTED_DATA_LEN_RANGE;
    if (ct == NULL || ctlen != XWING_CT_LEN)
        goto out;
    rv = CKR_ARGUMENTS_BAD;
    if (ss == NULL || sslen == NULL)
        goto out;
    rv = CKR_HOST_MEMORY;
    if ((s = crypto_secret_alloc(sizeof(*s))) == NULL)
        goto out;
    memcpy(s->in + XW_CT_X, ct + XWING_CT_M_LEN, XWING_X_LEN);
    if ((rv = x25519_public(classic->pkey, s->in + XW_PK_X)) != CKR_OK)
        goto out;
    rv = CKR_HOST_MEMORY;
    if ((peer = EVP_PKEY_new_raw_public_key_ex(lc, "X25519", NULL, s->in + XW_CT_X, XWING_X_LEN)) ==
        NULL)
        goto out;
    if ((rv = x25519(lc, classic->pkey, peer, s->in + XW_SS_X, CKR_ENCRYPTED_DATA_INVALID)) !=
        CKR_OK)
        goto out;
    /* A forged ct_M gives ML-KEM's implicit-rejection secret, not an error. */
    rv = CKR_HOST_MEMORY;
    if ((kc = EVP_PKEY_CTX_new_from_pkey(lc, k->pkey, NULL)) == NULL)
        goto out;
    rv = CKR_DEVICE_ERROR;
    if (EVP_PKEY_decapsulate_init(kc, NULL) != 1 ||
        EVP_PKEY_decapsulate(kc, s->in + XW_SS_M, &ssm, ct, XWING_CT_M_LEN) != 1 ||
        ssm != XWING_SS_M_LEN)
        goto out;
    rv = xwing_combine(c, s->in, ss, sslen);
out:
    EVP_PKEY_CTX_free(kc);
    EVP_PKEY_free(peer);
    crypto_secret_free(s, sizeof(*s));
    ERR_pop_to_mark();
    return rv;
}

/* ---- ML-DSA-65 + ECDSA P-256 ------------------------------------------------- */

#define MLDSA65_SIG_LEN 3309
#define P256_HALF       32 /* bytes of r and of s */
#define HYB_SIG_LEN     (MLDSA65_SIG_LEN + 2 * P256_HALF)
#define P256_DER_MAX    (3 + 2 * (3 + P256_HALF)) /* DER ECDSA-Sig-Value */
#define HYB_BUF_MIN     4096
#define MLDSA_RND_LEN   32

struct hyb_op {
    struct mech_op head;
    struct key *classic; /* the P-256 key: our own reference */
    EVP_PKEY_CTX *pq;    /* ML-DSA-65 message signing / verification */
    EVP_MD_CTX *ec;      /* ECDSA-SHA256 DigestSign / DigestVerify */
    unsigned char *msg;  /* multi-part: the message so far, for ML-DSA */
    size_t msg_len, msg_cap;
};

static const unsigned char hyb_empty[1];

/* Appends a part of the message to the buffer (the old copy is wiped:
 * what is signed may be confidential). */
static CK_RV hyb_collect(struct hyb_op *h, const unsigned char *in, size_t inlen)
{
    CK_RV rv = CKR_DATA_LEN_RANGE;
    if (inlen > MECH_MAX_BUFFER - h->msg_len)
        goto out;
    size_t need = h->msg_len + inlen;
    if (need > h->msg_cap) {
        size_t cap = h->msg_cap < HYB_BUF_MIN ? HYB_BUF_MIN : h->msg_cap;
        while (cap < need)
            cap = cap > MECH_MAX_BUFFER / 2 ? MECH_MAX_BUFFER : cap * 2;
        unsigned char *p = malloc(cap);
        rv = CKR_HOST_MEMORY;
        if (p == NULL)
            goto out;
        if (h->msg != NULL) {
            memcpy(p, h->msg, h->msg_len);
            OPENSSL_cleanse(h->msg, h->msg_len);
            free(h->msg);
        }
        h->msg = p;
        h->msg_cap = cap;
    }
    memcpy(h->msg + h->msg_len, in, inlen);
    h->msg_len = need;
    rv = CKR_OK;
out:
    return rv;
}

/* The ECDSA half absorbs a part of the message. */
static CK_RV hyb_ec_update(struct hyb_op *h, const unsigned char *in, size_t inlen)
{
    if (inlen == 0)
        return CKR_OK;
    int r = h->head.fn == CKF_SIGN ? EVP_DigestSignUpdate(h->ec, in, inlen)
                                   : EVP_DigestVerifyUpdate(h->ec, in, inlen);
    return r == 1 ? CKR_OK : CKR_DEVICE_ERROR;
}

static CK_RV hyb_update(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                        unsigned char *out, CK_ULONG *outlen)
{
    struct hyb_op *h = (struct hyb_op *)op;
    CK_RV rv = CKR_OK;
    (void)out;
    (void)outlen;
    if (inlen == 0)
        goto out;
    rv = CKR_ARGUMENTS_BAD;
    if (in == NULL)
        goto out;
    if ((rv = hyb_collect(h, in, inlen)) != CKR_OK)
        goto out;
    ERR_set_mark();
    rv = hyb_ec_update(h, in, inlen);
    ERR_pop_to_mark();
out:
    return rv;
}

/* Both signatures of msg (the ECDSA half has absorbed it already) into
 * out[HYB_SIG_LEN]. */
static CK_RV hyb_sign_msg(struct hyb_op *h, const unsigned char *msg, size_t len,
                          unsigned char *out)
{
    unsigned char der[P256_DER_MAX];
    size_t n = MLDSA65_SIG_LEN, derlen = sizeof(der);
    CK_RV rv = CKR_DEVICE_ERROR;
    ERR_set_mark();
    if (EVP_PKEY_sign(h->pq, out, &n, msg != NULL ? msg : hyb_empty, len) != 1 ||
        n != MLDSA65_SIG_LEN)
        goto out;
    if (EVP_DigestSignFinal(h->ec, der, &derlen) != 1)
        goto out;
    rv = mech_ecdsa_from_der(der, derlen, P256_HALF, out + MLDSA65_SIG_LEN);
out:
    ERR_pop_to_mark();
    return rv;
}

static CK_RV hyb_final(struct mech_op *op, unsigned char *out, CK_ULONG *outlen)
{
    struct hyb_op *h = (struct hyb_op *)op;
    bool done;
    CK_RV rv = mech_out(out, outlen, HYB_SIG_LEN, &done);
    if (done)
        return rv;
    if ((rv = hyb_sign_msg(h, h->msg, h->msg_len, out)) == CKR_OK)
        *outlen = HYB_SIG_LEN;
    return rv;
}

static CK_RV hyb_sign(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                      unsigned char *out, CK_ULONG *outlen)
{
    struct hyb_op *h = (struct hyb_op *)op;
    bool done;
    CK_RV rv = mech_out(out, outlen, HYB_SIG_LEN, &done);
    if (done)
        goto out;
    rv = CKR_ARGUMENTS_BAD;
    if (in == NULL && inlen > 0)
        goto out;
    ERR_set_mark();
    rv = hyb_ec_update(h, in, inlen);
    ERR_pop_to_mark();
    if (rv == CKR_OK)
        rv = hyb_sign_msg(h, in, inlen, out);
    if (rv == CKR_OK)
        *outlen = HYB_SIG_LEN;
out:
    return rv;
}

/* Checks both halves of sig over msg (the ECDSA half has absorbed it);
 * both run whatever the first one says. */
static CK_RV hyb_verify_msg(struct hyb_op *h, const unsigned char *msg, size_t len,
                            const unsigned char *sig, CK_ULONG siglen)
{
    unsigned char *der = NULL;
    size_t derlen = 0;
    CK_RV rv = CKR_SIGNATURE_LEN_RANGE;
    ERR_set_mark();
    if (sig == NULL || siglen != HYB_SIG_LEN)
        goto out;
    const bool pq_ok =
        EVP_PKEY_verify(h->pq, sig, MLDSA65_SIG_LEN, msg != NULL ? msg : hyb_empty, len) == 1;
    if ((rv = mech_ecdsa_to_der(sig + MLDSA65_SIG_LEN, P256_HALF, &der, &derlen)) != CKR_OK)
        goto out;
    const bool ec_ok = EVP_DigestVerifyFinal(h->ec, der, derlen) == 1;
    rv = pq_ok && ec_ok ? CKR_OK : CKR_SIGNATURE_INVALID;
out:
    OPENSSL_free(der);
    ERR_pop_to_mark();
    return rv;
}

static CK_RV hyb_verify_final(struct mech_op *op, const unsigned char *sig, CK_ULONG siglen)
{
    struct hyb_op *h = (struct hyb_op *)op;
    return hyb_verify_msg(h, h->msg, h->msg_len, sig, siglen);
}

static CK_RV hyb_verify(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                        const unsigned char *sig, CK_ULONG siglen)
{
    struct hyb_op *h = (struct hyb_op *)op;
    CK_RV rv = CKR_SIGNATURE_LEN_RANGE;
    if (sig == NULL || siglen != HYB_SIG_LEN)
        goto out;
    rv = CKR_ARGUMENTS_BAD;
    if (in == NULL && inlen > 0)
        goto out;
    ERR_set_mark();
    rv = hyb_ec_update(h, in, inlen);
    ERR_pop_to_mark();
    if (rv == CKR_OK)
        rv = hyb_verify_msg(h, in, inlen, sig, siglen);
out:
    return rv;
}

static void hyb_free(struct mech_op *op)
{
    struct hyb_op *h = (struct hyb_op *)op;
    EVP_PKEY_CTX_free(h->pq);
    EVP_MD_CTX_free(h->ec);
    if (h->msg != NULL)
        OPENSSL_cleanse(h->msg, h->msg_len);
    free(h->msg);
    key_unref(h->classic);
}

/* [0 = sign, 1 = verify] */
static const struct mech_op_ops hyb_ops[2] = {
    {.update = hyb_update, .final = hyb_final, .oneshot = hyb_sign, .free = hyb_free},
    {.update = hyb_update,
     .verify_final = hyb_verify_final,
     .verify_oneshot = hyb_verify,
     .free = hyb_free},
};

/* The two contexts: ML-DSA-65 pure (empty context, hedged; in test builds
 * the known-answer test may fix the signing randomness) and ECDSA with
 * SHA-256. */
static CK_RV hyb_contexts(struct hyb_op *h, OSSL_LIB_CTX *lc, EVP_PKEY *pq, EVP_PKEY *ec)
{
    const bool sign = h->head.fn == CKF_SIGN;
    EVP_SIGNATURE *alg = EVP_SIGNATURE_fetch(lc, "ML-DSA-65", NULL);
    OSSL_PARAM params[2] = {OSSL_PARAM_END, OSSL_PARAM_END};
    CK_RV rv = CKR_DEVICE_ERROR;
    int r;

#ifdef CRATON_TEST_HOOKS
    unsigned char rnd[MLDSA_RND_LEN];
    if (sign && crypto_test_entropy("MLDSA_RND", rnd, sizeof(rnd)) == sizeof(rnd))
        params[0] =
            OSSL_PARAM_construct_octet_string(OSSL_SIGNATURE_PARAM_TEST_ENTROPY, rnd, sizeof(rnd));
#endif
    if (alg == NULL)
        goto out;
    rv = CKR_HOST_MEMORY;
    if ((h->pq = EVP_PKEY_CTX_new_from_pkey(lc, pq, NULL)) == NULL ||
        (h->ec = EVP_MD_CTX_new()) == NULL)
        goto out;
    rv = CKR_DEVICE_ERROR;
    r = sign ? EVP_PKEY_sign_message_init(h->pq, alg, params)
             : EVP_PKEY_verify_message_init(h->pq, alg, params);
    if (r != 1)
        goto out;
    r = sign ? EVP_DigestSignInit_ex(h->ec, NULL, "SHA2-256", lc, NULL, ec, NULL)
             : EVP_DigestVerifyInit_ex(h->ec, NULL, "SHA2-256", lc, NULL, ec, NULL);
    if (r != 1)
        goto out;
    /* The operation ends with its final call: no copy of the context. */
    EVP_MD_CTX_set_flags(h->ec, EVP_MD_CTX_FLAG_FINALISE);
    rv = CKR_OK;
out:
#ifdef CRATON_TEST_HOOKS
    OPENSSL_cleanse(rnd, sizeof(rnd));
#endif
    EVP_SIGNATURE_free(alg);
    return rv;
}

/* C_SignInit / C_VerifyInit (and the 3.2 C_VerifySignatureInit). */
static CK_RV hyb_init(struct mech_op **out, const struct mech_desc *d, const CK_MECHANISM *m,
                      mech_fn fn, struct key *k, struct crypto *c, const struct config *cfg)
{
    OSSL_LIB_CTX *lc = (OSSL_LIB_CTX *)mech_libctx(c);
    struct hyb_op *h = NULL;
    struct key *classic = NULL;
    CK_RV rv = CKR_MECHANISM_INVALID;

    (void)cfg;
    *out = NULL;
    if (d->type != CKM_CRATON_ML_DSA_65_ECDSA_P256 || (fn != CKF_SIGN && fn != CKF_VERIFY))
        goto out;
    const CK_OBJECT_CLASS cls = fn == CKF_SIGN ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY;
    if ((rv = two_keys_classic(m, &classic)) != CKR_OK)
        goto out;
    rv = CKR_KEY_TYPE_INCONSISTENT;
    if (k == NULL || k->pkey == NULL || k->cls != cls || k->type != CKK_ML_DSA ||
        k->parameter_set != CKP_ML_DSA_65 || !EVP_PKEY_is_a(k->pkey, "ML-DSA-65"))
        goto out;
    if (classic->pkey == NULL || classic->cls != cls || classic->type != CKK_EC ||
        !curve_is(classic, "prime256v1"))
        goto out;
    rv = CKR_HOST_MEMORY;
    if ((h = mech_op_alloc(sizeof(*h), &hyb_ops[fn == CKF_VERIFY], d, fn, k, c)) == NULL)
        goto out;
    h->classic = key_ref(classic);
    ERR_set_mark();
    rv = hyb_contexts(h, lc, k->pkey, classic->pkey);
    ERR_pop_to_mark();
    if (rv != CKR_OK)
        goto out;
    *out = &h->head;
    h = NULL;
out:
    mech_op_free(h != NULL ? &h->head : NULL);
    return rv;
}

const struct mech_family mech_hybrid_family = {
    .name = "hybrid",
    .init = hyb_init,
    .encapsulate = xwing_encapsulate,
    .decapsulate = xwing_decapsulate,
};
