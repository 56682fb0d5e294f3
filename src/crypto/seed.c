/*
 * The health-tested entropy source (SP 800-90B section 4.4) under the DRBG
 * chain, as a provider built into the module.  Parameters and their
 * derivation: seed.h.
 *
 * OpenSSL's chain in each library context is seed source -> primary DRBG ->
 * per-thread public/private DRBGs.  The primary DRBG takes its entropy input
 * (and nonce: SP 800-90A 8.6.7 allows drawing both in one request) from the
 * seed source's get_seed; every byte it gets has passed the repetition count
 * and adaptive proportion tests, and the start-up test ran before the first.
 * On a failure the source stays failed (the generate/get_seed calls return
 * 0, so the DRBG reseed or instantiate fails), and crypto_fail() puts the
 * module in its error state; a new library context (the next C_Initialize)
 * starts a new source with a new start-up test.
 */
#include "crypto/seed.h"

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "crypto/crypto.h"

/* What the source tells a DRBG that asks: a security strength as high as the
 * strongest DRBG (HMAC-DRBG with SHA-256: 256 bits) and the largest request
 * its generate serves in one piece (get_seed, the DRBG's path, has none). */
#define SEED_STRENGTH    256
#define SEED_MAX_REQUEST 4096

/* ---- health tests ------------------------------------------------------- */

void seed_health_init(struct seed_health *h)
{
    memset(h, 0, sizeof(*h));
}

/* SP 800-90B 4.4.1: a run of SEED_RCT_CUTOFF identical samples fails. */
static bool rct_sample(struct seed_health *h, unsigned char x)
{
    if (h->rct_count > 0 && x == h->rct_value) {
        h->rct_count++;
        return h->rct_count < SEED_RCT_CUTOFF;
    }
    h->rct_value = x;
    h->rct_count = 1;
    return true;
}

/* SP 800-90B 4.4.2: the first sample of each SEED_APT_WINDOW-sample window
 * must not occur SEED_APT_CUTOFF times in that window. */
static bool apt_sample(struct seed_health *h, unsigned char x)
{
    if (h->apt_seen == 0) {
        h->apt_value = x;
        h->apt_count = 1;
        h->apt_seen = 1;
        return true;
    }
    if (x == h->apt_value && ++h->apt_count >= SEED_APT_CUTOFF)
        return false;
    if (++h->apt_seen == SEED_APT_WINDOW)
        h->apt_seen = 0;
    return true;
}

enum seed_health_result seed_health_feed(struct seed_health *h, const unsigned char *buf,
                                         size_t len)
{
    for (size_t i = 0; i < len && h->failed == SEED_HEALTH_OK; i++) {
        if (!rct_sample(h, buf[i]))
            h->failed = SEED_HEALTH_RCT;
        else if (!apt_sample(h, buf[i]))
            h->failed = SEED_HEALTH_APT;
    }
    return h->failed;
}

/* ---- the raw source ----------------------------------------------------- */

#ifdef CRATON_TEST_HOOKS
/* CRATON_TEST_ENTROPY_STUCK=1: the source "breaks" into a constant. */
static bool test_stuck(void)
{
    const char *v = getenv("CRATON_TEST_ENTROPY_STUCK");
    return v != NULL && strcmp(v, "1") == 0;
}
#endif

int seed_os_read(unsigned char *buf, size_t len)
{
#ifdef CRATON_TEST_HOOKS
    if (test_stuck()) {
        memset(buf, 0x5c, len);
        return 0;
    }
#endif
    while (len > 0) {
        ssize_t n = getrandom(buf, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ---- the provider ------------------------------------------------------- */

/* One per library context (the provider's context): the sample stream of
 * every seed-source instance in it goes through one set of tests. */
struct seed_prov {
    pthread_mutex_t lock; /* guards the fields below but delivered */
    struct seed_health health;
    bool started;               /* the start-up test passed */
    bool failed;                /* a test (or the kernel) failed: stay failed */
    _Atomic uint64_t delivered; /* bytes handed out after passing the tests */
};

/* One EVP_RAND_CTX of "CRATON-SEED". */
struct seed_src {
    struct seed_prov *prov;
    int state; /* EVP_RAND_STATE_* */
};

static void report_failure(enum seed_health_result r, int err)
{
    char reason[160];
    if (r == SEED_HEALTH_RCT)
        snprintf(reason, sizeof(reason),
                 "entropy source health test failed: repetition count test (%d identical "
                 "samples in a row)",
                 SEED_RCT_CUTOFF);
    else if (r == SEED_HEALTH_APT)
        snprintf(reason, sizeof(reason),
                 "entropy source health test failed: adaptive proportion test (one value %d "
                 "times in a %d-sample window)",
                 SEED_APT_CUTOFF, SEED_APT_WINDOW);
    else
        snprintf(reason, sizeof(reason), "entropy source failed: getrandom: %s", strerror(err));
    crypto_fail(reason);
}

/* Reads len bytes and runs the tests on them: SEED_HEALTH_OK, a failure, or
 * SEED_HEALTH_OK with *err set when the kernel refused. */
static enum seed_health_result read_tested(struct seed_prov *p, unsigned char *out, size_t len,
                                           int *err)
{
    if (seed_os_read(out, len) != 0) {
        *err = errno != 0 ? errno : EIO;
        return SEED_HEALTH_OK;
    }
    return seed_health_feed(&p->health, out, len);
}

/* Fills out[len] with health-tested bytes; 1, or 0 (out wiped) when the
 * source has failed, now or before.  The start-up test runs first, once. */
static int prov_draw(struct seed_prov *p, unsigned char *out, size_t len)
{
    enum seed_health_result r = SEED_HEALTH_OK;
    int err = 0, ok = 0;
    bool report = false;
    pthread_mutex_lock(&p->lock);
    if (p->failed)
        goto out;
    if (!p->started) {
        unsigned char warm[SEED_STARTUP_SAMPLES];
        r = read_tested(p, warm, sizeof(warm), &err);
        crypto_wipe(warm, sizeof(warm));
        if (r != SEED_HEALTH_OK || err != 0)
            goto fail;
        p->started = true;
    }
    r = read_tested(p, out, len, &err);
    if (r != SEED_HEALTH_OK || err != 0)
        goto fail;
    atomic_fetch_add(&p->delivered, len);
    ok = 1;
    goto out;
fail:
    crypto_wipe(out, len);
    p->failed = true;
    report = true;
out:
    pthread_mutex_unlock(&p->lock);
    /* Outside our lock: the hook enters the module's error state. */
    if (report)
        report_failure(r, err);
    return ok;
}

static void *src_new(void *provctx, void *parent, const OSSL_DISPATCH *parent_calls)
{
    (void)parent_calls;
    if (parent != NULL) /* a seed source is the root of the chain */
        return NULL;
    struct seed_src *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->prov = provctx;
    s->state = EVP_RAND_STATE_UNINITIALISED;
    return s;
}

static void src_free(void *vs)
{
    free(vs);
}

static int src_instantiate(void *vs, unsigned int strength, int prediction_resistance,
                           const unsigned char *pstr, size_t pstr_len, const OSSL_PARAM params[])
{
    (void)strength, (void)prediction_resistance, (void)pstr, (void)pstr_len, (void)params;
    struct seed_src *s = vs;
    s->state = EVP_RAND_STATE_READY;
    return 1;
}

static int src_uninstantiate(void *vs)
{
    struct seed_src *s = vs;
    s->state = EVP_RAND_STATE_UNINITIALISED;
    return 1;
}

static int src_generate(void *vs, unsigned char *out, size_t outlen, unsigned int strength,
                        int prediction_resistance, const unsigned char *adin, size_t adin_len)
{
    (void)strength, (void)prediction_resistance, (void)adin, (void)adin_len;
    struct seed_src *s = vs;
    if (s->state != EVP_RAND_STATE_READY)
        return 0;
    if (!prov_draw(s->prov, out, outlen)) {
        s->state = EVP_RAND_STATE_ERROR;
        return 0;
    }
    return 1;
}

/* Nothing to reseed: every request reads the kernel afresh. */
static int src_reseed(void *vs, int prediction_resistance, const unsigned char *ent, size_t ent_len,
                      const unsigned char *adin, size_t adin_len)
{
    (void)prediction_resistance, (void)ent, (void)ent_len, (void)adin, (void)adin_len;
    struct seed_src *s = vs;
    return s->state == EVP_RAND_STATE_READY;
}

static int src_get_ctx_params(void *vs, OSSL_PARAM params[])
{
    struct seed_src *s = vs;
    OSSL_PARAM *p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_STATE);
    if (p != NULL && !OSSL_PARAM_set_int(p, s->state))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_STRENGTH);
    if (p != NULL && !OSSL_PARAM_set_uint(p, SEED_STRENGTH))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_MAX_REQUEST);
    if (p != NULL && !OSSL_PARAM_set_size_t(p, SEED_MAX_REQUEST))
        return 0;
    return 1;
}

static const OSSL_PARAM *src_gettable_ctx_params(void *vs, void *provctx)
{
    (void)vs, (void)provctx;
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_int(OSSL_RAND_PARAM_STATE, NULL),
        OSSL_PARAM_uint(OSSL_RAND_PARAM_STRENGTH, NULL),
        OSSL_PARAM_size_t(OSSL_RAND_PARAM_MAX_REQUEST, NULL),
        OSSL_PARAM_END,
    };
    return gettable;
}

/* The DRBG's request for entropy bits: entropy / H bytes (H = SEED_H_BITS
 * bits per byte, seed.h), at least min_len, in the secure heap. */
static size_t src_get_seed(void *vs, unsigned char **pout, int entropy, size_t min_len,
                           size_t max_len, int prediction_resistance, const unsigned char *adin,
                           size_t adin_len)
{
    size_t n = entropy > 0 ? ((size_t)entropy + SEED_H_BITS - 1) / SEED_H_BITS : 0;
    if (n < min_len)
        n = min_len;
    if (n > max_len || n == 0)
        return 0;
    unsigned char *p = OPENSSL_secure_malloc(n);
    if (p == NULL)
        return 0;
    if (!src_generate(vs, p, n, 0, prediction_resistance, adin, adin_len)) {
        OPENSSL_secure_clear_free(p, n);
        return 0;
    }
    *pout = p;
    return n;
}

static void src_clear_seed(void *vs, unsigned char *buf, size_t len)
{
    (void)vs;
    OPENSSL_secure_clear_free(buf, len);
}

/* prov_draw serialises the stream itself, so the DRBG's parent locking
 * around get_seed needs nothing more. */
static int src_enable_locking(void *vs)
{
    (void)vs;
    return 1;
}

static int src_lock(void *vs)
{
    (void)vs;
    return 1;
}

static void src_unlock(void *vs)
{
    (void)vs;
}

/* Holds no secret between calls. */
static int src_verify_zeroization(void *vs)
{
    (void)vs;
    return 1;
}

#define FN(id, f)               \
    {                           \
        id, (void (*)(void))(f) \
    }
static const OSSL_DISPATCH src_functions[] = {
    FN(OSSL_FUNC_RAND_NEWCTX, src_new),
    FN(OSSL_FUNC_RAND_FREECTX, src_free),
    FN(OSSL_FUNC_RAND_INSTANTIATE, src_instantiate),
    FN(OSSL_FUNC_RAND_UNINSTANTIATE, src_uninstantiate),
    FN(OSSL_FUNC_RAND_GENERATE, src_generate),
    FN(OSSL_FUNC_RAND_RESEED, src_reseed),
    FN(OSSL_FUNC_RAND_ENABLE_LOCKING, src_enable_locking),
    FN(OSSL_FUNC_RAND_LOCK, src_lock),
    FN(OSSL_FUNC_RAND_UNLOCK, src_unlock),
    FN(OSSL_FUNC_RAND_GETTABLE_CTX_PARAMS, src_gettable_ctx_params),
    FN(OSSL_FUNC_RAND_GET_CTX_PARAMS, src_get_ctx_params),
    FN(OSSL_FUNC_RAND_VERIFY_ZEROIZATION, src_verify_zeroization),
    FN(OSSL_FUNC_RAND_GET_SEED, src_get_seed),
    FN(OSSL_FUNC_RAND_CLEAR_SEED, src_clear_seed),
    {0, NULL},
};

static const OSSL_ALGORITHM prov_rands[] = {
    {SEED_RAND_NAME, "provider=" SEED_PROVIDER_NAME, src_functions,
     "getrandom(2) with SP 800-90B health tests"},
    {NULL, NULL, NULL, NULL},
};

static const OSSL_ALGORITHM *prov_query(void *provctx, int operation_id, int *no_store)
{
    (void)provctx;
    *no_store = 0;
    return operation_id == OSSL_OP_RAND ? prov_rands : NULL;
}

static void prov_teardown(void *provctx)
{
    struct seed_prov *p = provctx;
    pthread_mutex_destroy(&p->lock);
    crypto_wipe(&p->health, sizeof(p->health));
    free(p);
}

static const OSSL_DISPATCH prov_functions[] = {
    FN(OSSL_FUNC_PROVIDER_TEARDOWN, prov_teardown),
    FN(OSSL_FUNC_PROVIDER_QUERY_OPERATION, prov_query),
    {0, NULL},
};

static int prov_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                     const OSSL_DISPATCH **out, void **provctx)
{
    (void)handle, (void)in;
    struct seed_prov *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return 0;
    pthread_mutex_init(&p->lock, NULL);
    seed_health_init(&p->health);
    *out = prov_functions;
    *provctx = p;
    return 1;
}

CK_RV seed_attach(OSSL_LIB_CTX *libctx, OSSL_PROVIDER **out)
{
    CK_RV rv = CKR_GENERAL_ERROR;
    OSSL_PROVIDER *prov = NULL;
    if (OSSL_PROVIDER_add_builtin(libctx, SEED_PROVIDER_NAME, prov_init) != 1)
        goto out;
    prov = OSSL_PROVIDER_load(libctx, SEED_PROVIDER_NAME);
    if (prov == NULL)
        goto out;
    if (RAND_set_seed_source_type(libctx, SEED_RAND_NAME, NULL) != 1)
        goto out;
    *out = prov;
    prov = NULL;
    rv = CKR_OK;
out:
    if (prov != NULL)
        OSSL_PROVIDER_unload(prov);
    return rv;
}

uint64_t seed_delivered(OSSL_PROVIDER *prov)
{
    struct seed_prov *p = OSSL_PROVIDER_get0_provider_ctx(prov);
    return p != NULL ? atomic_load(&p->delivered) : 0;
}
