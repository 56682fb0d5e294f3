/*
 * ML-DSA (FIPS 204) and SLH-DSA (FIPS 205) on OpenSSL 3.5, in the module's
 * library context, with the key's cached EVP_PKEY (never re-parsed):
 *  - C_GenerateKeyPair with CKM_ML_DSA_KEY_PAIR_GEN / CKM_SLH_DSA_KEY_PAIR_GEN
 *    (CKA_PARAMETER_SET of the public template) and the reference's vendor
 *    aliases CKM_CRATON_ML_DSA_* / CKM_CRATON_SLH_DSA_* (the parameter set is
 *    the mechanism's).  Pairwise test before anything is handed out.
 *  - Pure signatures, CKM_ML_DSA / CKM_SLH_DSA (and the aliases: pure, empty
 *    context, no parameter), with the optional CK_SIGN_ADDITIONAL_CONTEXT
 *    (hedging, context string).  OpenSSL 3.5 signs ML-DSA and SLH-DSA in one
 *    shot only.  ML-DSA is multi-part all the same through the external-mu
 *    interface OpenSSL offers (OSSL_SIGNATURE_PARAM_MU): Update absorbs the
 *    message into mu = SHAKE256(tr || 0 || |ctx| || ctx || M, 64), with
 *    tr = SHAKE256(pk, 64) (FIPS 204 algorithm 7 step 6 / algorithm 8 step
 *    7), and Final signs mu.  SLH-DSA hashes the message with a randomiser
 *    computed from it first, so it cannot stream: single-part, the p11
 *    layer buffers what Update gives.
 *  - HashML-DSA / HashSLH-DSA (FIPS 204 5.4, FIPS 205 10.2): CKM_HASH_ML_DSA /
 *    CKM_HASH_SLH_DSA sign a given PH(M) (single-part; its length must be the
 *    hash's), CKM_HASH_*_<hash> hash the message themselves (multi-part).
 *    OpenSSL 3.5 has no pre-hash mode, so the module builds
 *    M' = 0x01 || |ctx| || ctx || DER(OID of the hash) || PH(M) and signs
 *    it through the internal interface (message-encoding 0), exactly as the
 *    standards define HashML-DSA.Sign / HashSLH-DSA.Sign.  SHAKE128 and
 *    SHAKE256 pre-hashes are 256 and 512 bits long (FIPS 204 5.4.1).
 * Hedged signing draws from the library context's DRBG (the module's);
 * CKH_DETERMINISTIC_REQUIRED uses the deterministic variants.  Test builds
 * (CRATON_TEST_HOOKS only) may fix the randomness of key generation and
 * signing for known-answer tests.  Expected failures (bad signature) leave
 * nothing in the thread's OpenSSL error queue.
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <string.h>

#include "mech/mech.h"
#include "object/keyexport.h"

#define PQS_CONTEXT_MAX 255 /* FIPS 204 / 205: context strings up to 255 bytes */
#define PQS_MU_LEN      64  /* ML-DSA mu and tr */
#define PQS_PH_MAX      64  /* SHA-512, SHA3-512, SHAKE256 with 512 bits */
#define PQS_OID_MAX     16  /* DER of a NIST hash OID: 11 bytes */
#define PQS_MPRIME_MAX  (2 + PQS_CONTEXT_MAX + PQS_OID_MAX + PQS_PH_MAX)
#define PQS_PUB_MAX     2592 /* ML-DSA-87 public key */
#define PQS_RND_MAX     32   /* ML-DSA rnd; SLH-DSA opt_rand (n <= 32) */
#define PQS_SEED_MAX    96   /* SLH-DSA-256 keygen seed: 3n */

enum pqs_kind {
    PQS_PURE,      /* CKM_ML_DSA, CKM_SLH_DSA, the vendor aliases */
    PQS_PREHASHED, /* CKM_HASH_ML_DSA, CKM_HASH_SLH_DSA: the input is PH(M) */
    PQS_HASHING,   /* CKM_HASH_*_<hash>: the module computes PH(M) */
};

struct pqs_op {
    struct mech_op head;
    enum pqs_kind kind;
    bool slh;           /* SLH-DSA (else ML-DSA) */
    EVP_PKEY_CTX *pctx; /* EVP_PKEY_sign_message_init / verify_message_init done */
    size_t siglen;      /* the parameter set's signature bytes */
    unsigned char context[PQS_CONTEXT_MAX];
    size_t context_len;
    const EVP_MD *md; /* pre-hash (borrowed from crypto_md) */
    size_t ph_len;
    unsigned char oid[PQS_OID_MAX]; /* DER of the pre-hash's OID */
    size_t oid_len;
    EVP_MD_CTX *mdctx; /* PQS_HASHING: PH(M); pure ML-DSA multi-part: mu */
};

/* ---- parameter sets ------------------------------------------------------- */

struct pqs_set {
    CK_KEY_TYPE kt;
    CK_ULONG set;
    const char *name; /* OpenSSL algorithm */
    size_t seed_len;  /* the keygen seed: xi (ML-DSA), skSeed||skPrf||pkSeed (SLH-DSA) */
};

static const struct pqs_set pqs_sets[] = {
    {CKK_ML_DSA, CKP_ML_DSA_44, "ML-DSA-44", 32},
    {CKK_ML_DSA, CKP_ML_DSA_65, "ML-DSA-65", 32},
    {CKK_ML_DSA, CKP_ML_DSA_87, "ML-DSA-87", 32},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHA2_128S, "SLH-DSA-SHA2-128s", 48},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_128S, "SLH-DSA-SHAKE-128s", 48},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHA2_128F, "SLH-DSA-SHA2-128f", 48},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_128F, "SLH-DSA-SHAKE-128f", 48},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHA2_192S, "SLH-DSA-SHA2-192s", 72},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_192S, "SLH-DSA-SHAKE-192s", 72},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHA2_192F, "SLH-DSA-SHA2-192f", 72},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_192F, "SLH-DSA-SHAKE-192f", 72},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHA2_256S, "SLH-DSA-SHA2-256s", 96},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_256S, "SLH-DSA-SHAKE-256s", 96},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHA2_256F, "SLH-DSA-SHA2-256f", 96},
    {CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_256F, "SLH-DSA-SHAKE-256f", 96},
};

static const struct pqs_set *pqs_set_find(CK_KEY_TYPE kt, CK_ULONG set)
{
    for (size_t i = 0; i < ARRAY_SIZE(pqs_sets); i++)
        if (pqs_sets[i].kt == kt && pqs_sets[i].set == set)
            return &pqs_sets[i];
    return NULL;
}

/* ---- signing and verifying ------------------------------------------------ */

static const unsigned char pqs_empty[1]; /* an empty message's address */

/* Signs (or verifies sig over) msg with the operation's context: the
 * message itself (pure), M' (pre-hash, internal interface) or mu. */
static CK_RV pqs_sign_raw(struct pqs_op *s, const unsigned char *msg, size_t len,
                          unsigned char *out, CK_ULONG *outlen)
{
    size_t n = s->siglen;
    if (msg == NULL)
        msg = pqs_empty;
    ERR_set_mark();
    CK_RV rv = EVP_PKEY_sign(s->pctx, out, &n, msg, len) == 1 && n == s->siglen ? CKR_OK
                                                                                : CKR_DEVICE_ERROR;
    ERR_pop_to_mark();
    if (rv == CKR_OK)
        *outlen = (CK_ULONG)n;
    else
        OPENSSL_cleanse(out, s->siglen);
    return rv;
}

static CK_RV pqs_verify_raw(struct pqs_op *s, const unsigned char *msg, size_t len,
                            const unsigned char *sig, CK_ULONG siglen)
{
    if (sig == NULL || siglen != s->siglen)
        return CKR_SIGNATURE_LEN_RANGE;
    if (msg == NULL)
        msg = pqs_empty;
    ERR_set_mark();
    int r = EVP_PKEY_verify(s->pctx, sig, siglen, msg, len);
    ERR_pop_to_mark();
    return r == 1 ? CKR_OK : CKR_SIGNATURE_INVALID;
}

/* M' = 0x01 || |ctx| || ctx || DER(OID) || PH(M) (FIPS 204 algorithm 4
 * step 23, FIPS 205 algorithm 23 step 23) into out[PQS_MPRIME_MAX]. */
static size_t pqs_mprime(const struct pqs_op *s, const unsigned char *ph, unsigned char *out)
{
    size_t n = 0;
    out[n++] = 0x01;
    out[n++] = (unsigned char)s->context_len;
    memcpy(out + n, s->context, s->context_len);
    n += s->context_len;
    memcpy(out + n, s->oid, s->oid_len);
    n += s->oid_len;
    memcpy(out + n, ph, s->ph_len);
    return n + s->ph_len;
}

/* Finishes PH(M) (PQS_HASHING) or mu (pure ML-DSA) into out. */
static CK_RV pqs_digest_final(EVP_MD_CTX *mdctx, unsigned char *out, size_t len)
{
    unsigned int n = 0;
    int r = EVP_MD_xof(EVP_MD_CTX_get0_md(mdctx)) ? EVP_DigestFinalXOF(mdctx, out, len)
                                                  : EVP_DigestFinal_ex(mdctx, out, &n);
    return r == 1 && (n == 0 || n == len) ? CKR_OK : CKR_DEVICE_ERROR;
}

/* C_Sign with the whole message (pure) or PH(M) (pre-hashed). */
static CK_RV pqs_sign(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                      unsigned char *out, CK_ULONG *outlen)
{
    struct pqs_op *s = (struct pqs_op *)op;
    unsigned char mp[PQS_MPRIME_MAX];
    bool done;
    CK_RV rv = CKR_DATA_LEN_RANGE;
    if (s->kind == PQS_PREHASHED && inlen != s->ph_len)
        goto out;
    rv = mech_out(out, outlen, s->siglen, &done);
    if (done)
        goto out;
    if (s->kind == PQS_PREHASHED)
        rv = pqs_sign_raw(s, mp, pqs_mprime(s, in, mp), out, outlen);
    else
        rv = pqs_sign_raw(s, in, inlen, out, outlen);
out:
    return rv;
}

static CK_RV pqs_verify(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                        const unsigned char *sig, CK_ULONG siglen)
{
    struct pqs_op *s = (struct pqs_op *)op;
    unsigned char mp[PQS_MPRIME_MAX];
    if (s->kind != PQS_PREHASHED)
        return pqs_verify_raw(s, in, inlen, sig, siglen);
    if (inlen != s->ph_len)
        return CKR_DATA_LEN_RANGE;
    return pqs_verify_raw(s, mp, pqs_mprime(s, in, mp), sig, siglen);
}

/* ---- multi-part ------------------------------------------------------------ */

/* Pure ML-DSA: starts mu = SHAKE256(tr || 0 || |ctx| || ctx || M) with
 * tr = SHAKE256(pk, 64). */
static CK_RV pqs_mu_start(struct pqs_op *s)
{
    const EVP_MD *shake = crypto_md(s->head.crypto, "SHAKE-256");
    unsigned char *pk = NULL, tr[PQS_MU_LEN];
    const unsigned char prefix[2] = {0x00, (unsigned char)s->context_len};
    size_t pklen = 0;
    CK_RV rv = CKR_HOST_MEMORY;
    if ((pk = OPENSSL_malloc(PQS_PUB_MAX)) == NULL || (s->mdctx = EVP_MD_CTX_new()) == NULL)
        goto out;
    rv = CKR_DEVICE_ERROR;
    if (shake == NULL ||
        EVP_PKEY_get_octet_string_param(s->head.key->pkey, OSSL_PKEY_PARAM_PUB_KEY, pk, PQS_PUB_MAX,
                                        &pklen) != 1 ||
        EVP_DigestInit_ex2(s->mdctx, shake, NULL) != 1 ||
        EVP_DigestUpdate(s->mdctx, pk, pklen) != 1 ||
        EVP_DigestFinalXOF(s->mdctx, tr, sizeof(tr)) != 1 ||
        EVP_DigestInit_ex2(s->mdctx, shake, NULL) != 1 ||
        EVP_DigestUpdate(s->mdctx, tr, sizeof(tr)) != 1 ||
        EVP_DigestUpdate(s->mdctx, prefix, sizeof(prefix)) != 1 ||
        EVP_DigestUpdate(s->mdctx, s->context, s->context_len) != 1)
        goto out;
    rv = CKR_OK;
out:
    if (rv != CKR_OK) {
        EVP_MD_CTX_free(s->mdctx);
        s->mdctx = NULL;
    }
    OPENSSL_free(pk);
    return rv;
}

static CK_RV pqs_update(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                        unsigned char *out, CK_ULONG *outlen)
{
    struct pqs_op *s = (struct pqs_op *)op;
    CK_RV rv = CKR_OK;
    (void)out;
    (void)outlen;
    ERR_set_mark();
    if (s->mdctx == NULL) /* pure ML-DSA's mu starts with the first part */
        rv = pqs_mu_start(s);
    if (rv == CKR_OK && inlen > 0 && EVP_DigestUpdate(s->mdctx, in, inlen) != 1)
        rv = CKR_DEVICE_ERROR;
    ERR_pop_to_mark();
    return rv;
}

/* What the multi-part operation signs: mu (pure ML-DSA) or M'. */
static CK_RV pqs_tbs(struct pqs_op *s, unsigned char *buf, size_t *len)
{
    unsigned char ph[PQS_PH_MAX];
    CK_RV rv = CKR_OK;
    ERR_set_mark();
    if (s->mdctx == NULL) /* C_SignFinal without Update: the empty message */
        rv = pqs_mu_start(s);
    if (rv == CKR_OK && s->kind == PQS_PURE) {
        rv = pqs_digest_final(s->mdctx, buf, PQS_MU_LEN);
        *len = PQS_MU_LEN;
        if (rv == CKR_OK) {
            int one = 1;
            OSSL_PARAM params[] = {
                OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_MU, &one),
                OSSL_PARAM_construct_end(),
            };
            rv = EVP_PKEY_CTX_set_params(s->pctx, params) == 1 ? CKR_OK : CKR_DEVICE_ERROR;
        }
    } else if (rv == CKR_OK) {
        rv = pqs_digest_final(s->mdctx, ph, s->ph_len);
        if (rv == CKR_OK)
            *len = pqs_mprime(s, ph, buf);
    }
    ERR_pop_to_mark();
    return rv;
}

static CK_RV pqs_final(struct mech_op *op, unsigned char *out, CK_ULONG *outlen)
{
    struct pqs_op *s = (struct pqs_op *)op;
    unsigned char tbs[PQS_MPRIME_MAX];
    size_t len = 0;
    bool done;
    CK_RV rv = mech_out(out, outlen, s->siglen, &done);
    if (done)
        return rv;
    if ((rv = pqs_tbs(s, tbs, &len)) != CKR_OK)
        return rv;
    return pqs_sign_raw(s, tbs, len, out, outlen);
}

static CK_RV pqs_verify_final(struct mech_op *op, const unsigned char *sig, CK_ULONG siglen)
{
    struct pqs_op *s = (struct pqs_op *)op;
    unsigned char tbs[PQS_MPRIME_MAX];
    size_t len = 0;
    if (sig == NULL || siglen != s->siglen)
        return CKR_SIGNATURE_LEN_RANGE;
    CK_RV rv = pqs_tbs(s, tbs, &len);
    if (rv != CKR_OK)
        return rv;
    return pqs_verify_raw(s, tbs, len, sig, siglen);
}

/* CKM_HASH_*_<hash> in one call: hash, then sign M'. */
static CK_RV pqs_hash_sign(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                           unsigned char *out, CK_ULONG *outlen)
{
    struct pqs_op *s = (struct pqs_op *)op;
    bool done;
    CK_RV rv = mech_out(out, outlen, s->siglen, &done);
    if (done)
        return rv;
    if ((rv = pqs_update(op, in, inlen, NULL, NULL)) != CKR_OK)
        return rv;
    return pqs_final(op, out, outlen);
}

static CK_RV pqs_hash_verify(struct mech_op *op, const unsigned char *in, CK_ULONG inlen,
                             const unsigned char *sig, CK_ULONG siglen)
{
    struct pqs_op *s = (struct pqs_op *)op;
    if (sig == NULL || siglen != s->siglen)
        return CKR_SIGNATURE_LEN_RANGE;
    CK_RV rv = pqs_update(op, in, inlen, NULL, NULL);
    return rv == CKR_OK ? pqs_verify_final(op, sig, siglen) : rv;
}

static void pqs_free(struct mech_op *op)
{
    struct pqs_op *s = (struct pqs_op *)op;
    EVP_PKEY_CTX_free(s->pctx);
    EVP_MD_CTX_free(s->mdctx);
}

/* [kind][0 = sign, 1 = verify] for ML-DSA; SLH-DSA's pure kind has no
 * update (single-part: the p11 layer buffers). */
static const struct mech_op_ops pqs_ops[3][2] = {
    [PQS_PURE] = {{.update = pqs_update, .final = pqs_final, .oneshot = pqs_sign, .free = pqs_free},
                  {.update = pqs_update,
                   .verify_final = pqs_verify_final,
                   .verify_oneshot = pqs_verify,
                   .free = pqs_free}},
    [PQS_PREHASHED] = {{.oneshot = pqs_sign, .free = pqs_free},
                       {.verify_oneshot = pqs_verify, .free = pqs_free}},
    [PQS_HASHING] =
        {{.update = pqs_update, .final = pqs_final, .oneshot = pqs_hash_sign, .free = pqs_free},
         {.update = pqs_update,
          .verify_final = pqs_verify_final,
          .verify_oneshot = pqs_hash_verify,
          .free = pqs_free}},
};
static const struct mech_op_ops slh_pure_ops[2] = {
    {.oneshot = pqs_sign, .free = pqs_free},
    {.verify_oneshot = pqs_verify, .free = pqs_free},
};

/* ---- C_SignInit / C_VerifyInit ---------------------------------------------- */

/* The pre-hash named hash: its EVP_MD, output length and DER OID. */
static CK_RV pqs_hash(struct pqs_op *s, const char *name)
{
    s->md = crypto_md(s->head.crypto, name);
    if (s->md == NULL)
        return CKR_MECHANISM_PARAM_INVALID;
    if (EVP_MD_xof(s->md)) /* FIPS 204 5.4.1: SHAKE128-256, SHAKE256-512 */
        s->ph_len = EVP_MD_is_a(s->md, "SHAKE-128") ? 32 : 64;
    else
        s->ph_len = (size_t)EVP_MD_get_size(s->md);
    ASN1_OBJECT *obj = OBJ_nid2obj(EVP_MD_get_type(s->md));
    int n = obj != NULL ? i2d_ASN1_OBJECT(obj, NULL) : -1;
    if (n <= 0 || (size_t)n > sizeof(s->oid) || s->ph_len == 0 || s->ph_len > PQS_PH_MAX)
        return CKR_MECHANISM_PARAM_INVALID;
    unsigned char *p = s->oid;
    s->oid_len = (size_t)i2d_ASN1_OBJECT(obj, &p);
    return s->oid_len == (size_t)n ? CKR_OK : CKR_DEVICE_ERROR;
}

/* Parses m's parameter into s (context, pre-hash) and *det (sign only:
 * CKH_DETERMINISTIC_REQUIRED; the hedge is ignored on verification). */
static CK_RV pqs_params(struct pqs_op *s, const struct mech_desc *d, const CK_MECHANISM *m,
                        bool *det)
{
    CK_HEDGE_TYPE hedge = CKH_HEDGE_PREFERRED;
    const CK_BYTE *context = NULL;
    CK_ULONG context_len = 0;
    const char *hash = d->alg;
    CK_RV rv = CKR_OK;

    if (d->type == CKM_HASH_ML_DSA || d->type == CKM_HASH_SLH_DSA) {
        const CK_HASH_SIGN_ADDITIONAL_CONTEXT *p = NULL;
        if ((rv = mech_param(m, sizeof(*p), (const void **)&p)) != CKR_OK)
            return rv;
        hedge = p->hedgeVariant;
        context = p->pContext;
        context_len = p->ulContextLen;
        /* SHA-1 is no approved pre-hash for a signature */
        hash = p->hash == CKM_SHA_1 ? NULL : mech_digest_name(p->hash);
        if (hash == NULL)
            return CKR_MECHANISM_PARAM_INVALID;
    } else if (m->ulParameterLen != 0) {
        const CK_SIGN_ADDITIONAL_CONTEXT *p = NULL;
        if (d->arg != 0) /* the vendor aliases take no parameter */
            return CKR_MECHANISM_PARAM_INVALID;
        if ((rv = mech_param(m, sizeof(*p), (const void **)&p)) != CKR_OK)
            return rv;
        hedge = p->hedgeVariant;
        context = p->pContext;
        context_len = p->ulContextLen;
    }
    if (context_len > PQS_CONTEXT_MAX || (context_len > 0 && context == NULL))
        return CKR_MECHANISM_PARAM_INVALID;
    if (context_len > 0)
        memcpy(s->context, context, context_len);
    s->context_len = context_len;
    *det = false;
    if (s->head.fn == CKF_SIGN) {
        if (hedge == CKH_DETERMINISTIC_REQUIRED)
            *det = true;
        else if (hedge != CKH_HEDGE_PREFERRED && hedge != CKH_HEDGE_REQUIRED)
            return CKR_MECHANISM_PARAM_INVALID;
    }
    if (hash != NULL && (rv = pqs_hash(s, hash)) != CKR_OK)
        return rv;
    if (s->kind == PQS_HASHING) {
        if ((s->mdctx = EVP_MD_CTX_new()) == NULL)
            return CKR_HOST_MEMORY;
        if (EVP_DigestInit_ex2(s->mdctx, s->md, NULL) != 1)
            return CKR_DEVICE_ERROR;
    }
    return CKR_OK;
}

/* The OpenSSL context: pure (context string) or internal (M', mu)
 * message encoding, deterministic or hedged. */
static CK_RV pqs_context(struct pqs_op *s, OSSL_LIB_CTX *lc, EVP_PKEY *pkey, bool det)
{
    OSSL_PARAM params[5], *p = params;
    int encoding = s->kind == PQS_PURE ? 1 : 0, one = 1;
    EVP_SIGNATURE *alg = NULL;
    CK_RV rv = CKR_HOST_MEMORY;
#ifdef CRATON_TEST_HOOKS
    unsigned char rnd[PQS_RND_MAX];
    /* SLH-DSA: n bytes, n = half the public key (EVP_PKEY_get_bits / 16) */
    size_t want = s->slh ? (size_t)EVP_PKEY_get_bits(pkey) / 16 : 32;
    size_t got = 0;
#endif

    *p++ = OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_MESSAGE_ENCODING, &encoding);
    if (s->kind == PQS_PURE && s->context_len > 0)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_SIGNATURE_PARAM_CONTEXT_STRING, s->context,
                                                 s->context_len);
    if (det)
        *p++ = OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_DETERMINISTIC, &one);
#ifdef CRATON_TEST_HOOKS
    else if (s->head.fn == CKF_SIGN && want <= sizeof(rnd) &&
             (got = crypto_test_entropy(s->slh ? "SLHDSA_ADDRND" : "MLDSA_RND", rnd, want)) == want)
        /* SLH-DSA 3.5 reads its opt_rand under this name too */
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_SIGNATURE_PARAM_TEST_ENTROPY, rnd, got);
#endif
    *p = OSSL_PARAM_construct_end();

    if ((s->pctx = EVP_PKEY_CTX_new_from_pkey(lc, pkey, NULL)) == NULL)
        goto out;
    rv = CKR_DEVICE_ERROR;
    if ((alg = EVP_SIGNATURE_fetch(lc, EVP_PKEY_get0_type_name(pkey), NULL)) == NULL)
        goto out;
    int r = s->head.fn == CKF_SIGN ? EVP_PKEY_sign_message_init(s->pctx, alg, params)
                                   : EVP_PKEY_verify_message_init(s->pctx, alg, params);
    if (r != 1)
        goto out;
    size_t size = (size_t)EVP_PKEY_get_size(pkey);
    if (size == 0)
        goto out;
    s->siglen = size;
    rv = CKR_OK;
out:
    EVP_SIGNATURE_free(alg);
#ifdef CRATON_TEST_HOOKS
    OPENSSL_cleanse(rnd, sizeof(rnd));
#endif
    return rv;
}

static CK_RV pqs_init(struct mech_op **out, const struct mech_desc *d, const CK_MECHANISM *m,
                      mech_fn fn, struct key *k, struct crypto *c, const struct config *cfg)
{
    OSSL_LIB_CTX *lc = (OSSL_LIB_CTX *)mech_libctx(c);
    struct pqs_op *s = NULL;
    enum pqs_kind kind = PQS_PURE;
    bool det = false;
    CK_RV rv = CKR_MECHANISM_INVALID;

    (void)cfg; /* ML-DSA and SLH-DSA are approved: nothing for fips_approved_only */
    *out = NULL;
    if (fn != CKF_SIGN && fn != CKF_VERIFY)
        return rv;
    if (d->type == CKM_ML_DSA_KEY_PAIR_GEN || d->type == CKM_SLH_DSA_KEY_PAIR_GEN)
        return rv;
    if (d->type == CKM_HASH_ML_DSA || d->type == CKM_HASH_SLH_DSA)
        kind = PQS_PREHASHED;
    else if (d->alg != NULL)
        kind = PQS_HASHING;
    if (k == NULL || k->pkey == NULL || k->type != d->key_type ||
        k->cls != (fn == CKF_SIGN ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY) ||
        (d->arg != 0 && k->parameter_set != d->arg))
        return CKR_KEY_TYPE_INCONSISTENT;
    const bool slh = d->key_type == CKK_SLH_DSA;
    const struct mech_op_ops *ops = slh && kind == PQS_PURE ? &slh_pure_ops[fn == CKF_VERIFY]
                                                            : &pqs_ops[kind][fn == CKF_VERIFY];
    if ((s = mech_op_alloc(sizeof(*s), ops, d, fn, k, c)) == NULL)
        return CKR_HOST_MEMORY;
    s->kind = kind;
    s->slh = slh;
    ERR_set_mark();
    rv = pqs_params(s, d, m, &det);
    if (rv == CKR_OK)
        rv = pqs_context(s, lc, k->pkey, det);
    ERR_pop_to_mark();
    if (rv != CKR_OK) {
        mech_op_free(&s->head);
        return rv;
    }
    *out = &s->head;
    return CKR_OK;
}

/* ---- C_GenerateKeyPair -------------------------------------------------------- */

/* C_GenerateKeyPair with CKM_ML_DSA_KEY_PAIR_GEN, CKM_SLH_DSA_KEY_PAIR_GEN or
 * an alias of the reference's. */
static CK_RV pqs_generate_pair(const struct mech_desc *d, const CK_MECHANISM *m, struct crypto *c,
                               const struct config *cfg, struct attrs *pub, struct attrs *priv)
{
    CK_ULONG set = 0;
    (void)cfg;
    CK_RV rv = mech_pqc_pair_set(d, pub, priv, &set);
    if (rv != CKR_OK)
        return rv;
    const struct pqs_set *ps = pqs_set_find(d->key_type, set);
    if (ps == NULL)
        return CKR_PARAMETER_SET_NOT_SUPPORTED;
    return mech_pqc_generate(c, d, m, ps->name,
                             d->key_type == CKK_ML_DSA ? "MLDSA_KEYGEN_SEED" : "SLHDSA_KEYGEN_SEED",
                             ps->seed_len, pub, priv);
}

const struct mech_family mech_pqc_sig_family = {
    .name = "pqc_sig",
    .init = pqs_init,
    .generate_pair = pqs_generate_pair,
};
