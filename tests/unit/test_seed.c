/* The entropy source's SP 800-90B health tests (src/crypto/seed.c): the
 * cutoffs against the spec's formulas, stuck and biased sources, a good
 * source, the start-up test, the DRBG chain's use of the source, and the
 * secure heap set-up. */
#include "unit_util.h"

#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include "crypto/seed.h"

#define MIB (1024 * 1024)

/* ---- cutoffs ------------------------------------------------------------ */

/* 1 + the smallest k with P[Binomial(n, p) > k] <= 2^-log2_alpha (Excel's
 * CRITBINOM(n, p, 1 - alpha) + 1), computed with doubles from the upper
 * tail (pmf(0) = (1-p)^n stays well above the double range's bottom for
 * n = 512, p >= 2^-8). */
static unsigned int apt_cutoff_formula(unsigned int n, double p, int log2_alpha)
{
    double pmf[1024];
    double alpha = 1.0;
    assert_true(n < 1024);
    for (int i = 0; i < log2_alpha; i++)
        alpha /= 2;
    pmf[0] = 1.0;
    for (unsigned int i = 0; i < n; i++)
        pmf[0] *= 1.0 - p;
    for (unsigned int k = 0; k < n; k++)
        pmf[k + 1] = pmf[k] * (double)(n - k) / (double)(k + 1) * p / (1.0 - p);
    double tail = 0.0; /* P[X > k] */
    unsigned int k = n;
    while (k > 0 && tail + pmf[k] <= alpha)
        tail += pmf[k--];
    return k + 1;
}

static void test_cutoffs_match_formulas(void **state)
{
    (void)state;
    /* RCT: C = 1 + ceil(-log2(alpha) / H). */
    assert_int_equal(SEED_RCT_CUTOFF, 1 + (SEED_ALPHA_LOG2 + SEED_H_BITS - 1) / SEED_H_BITS);
    /* APT: C = 1 + CRITBINOM(W, 2^-H, 1 - alpha). */
    double p = 1.0;
    for (int i = 0; i < SEED_H_BITS; i++)
        p /= 2;
    assert_int_equal(SEED_APT_CUTOFF, apt_cutoff_formula(SEED_APT_WINDOW, p, SEED_ALPHA_LOG2));
    /* The formula itself against SP 800-90B Table 2 (W = 512). */
    assert_int_equal(apt_cutoff_formula(512, 0.5, 20), 311);
    assert_int_equal(apt_cutoff_formula(512, 0.25, 20), 177);
    assert_int_equal(apt_cutoff_formula(512, 1.0 / 16, 20), 62);
    assert_int_equal(apt_cutoff_formula(512, 1.0 / 256, 20), 13);
    assert_true(SEED_STARTUP_SAMPLES >= 1024);
}

/* ---- repetition count test ---------------------------------------------- */

static void test_stuck_fails_rct_at_cutoff(void **state)
{
    (void)state;
    struct seed_health h;
    unsigned char run[SEED_RCT_CUTOFF];
    memset(run, 0x77, sizeof(run));
    seed_health_init(&h);
    /* C - 1 identical samples pass, one by one ... */
    for (int i = 0; i < SEED_RCT_CUTOFF - 1; i++)
        assert_int_equal(seed_health_feed(&h, run, 1), SEED_HEALTH_OK);
    /* ... the C-th fails. */
    assert_int_equal(seed_health_feed(&h, run, 1), SEED_HEALTH_RCT);
    /* Sticky: good data afterwards does not clear it. */
    unsigned char good[2] = {1, 2};
    assert_int_equal(seed_health_feed(&h, good, sizeof(good)), SEED_HEALTH_RCT);

    /* In one call: C samples fail, C - 1 followed by another value pass. */
    seed_health_init(&h);
    assert_int_equal(seed_health_feed(&h, run, SEED_RCT_CUTOFF), SEED_HEALTH_RCT);
    seed_health_init(&h);
    assert_int_equal(seed_health_feed(&h, run, SEED_RCT_CUTOFF - 1), SEED_HEALTH_OK);
    assert_int_equal(seed_health_feed(&h, good, 1), SEED_HEALTH_OK);
    assert_int_equal(seed_health_feed(&h, run, SEED_RCT_CUTOFF - 1), SEED_HEALTH_OK);
}

/* ---- adaptive proportion test ------------------------------------------- */

/* A window of SEED_APT_WINDOW samples starting with a, holding a `count`
 * times in runs of at most 2 (the RCT never fires), other samples distinct
 * from a. */
static void apt_window(unsigned char *w, unsigned char a, unsigned int count)
{
    unsigned int placed = 0;
    unsigned char other = 0;
    for (unsigned int i = 0; i < SEED_APT_WINDOW; i++) {
        /* Two a's, then one other value, while a's remain; then others. */
        if (placed < count && i % 3 != 2) {
            w[i] = a;
            placed++;
        } else {
            if (++other == a)
                other++;
            w[i] = other;
        }
    }
    assert_int_equal(placed, count);
}

static void test_apt_cutoff_exact(void **state)
{
    (void)state;
    unsigned char w[SEED_APT_WINDOW];
    struct seed_health h;
    /* C - 1 occurrences in a window pass, windows after windows. */
    apt_window(w, 0x42, SEED_APT_CUTOFF - 1);
    seed_health_init(&h);
    for (int i = 0; i < 8; i++)
        assert_int_equal(seed_health_feed(&h, w, sizeof(w)), SEED_HEALTH_OK);
    /* C occurrences fail. */
    apt_window(w, 0x42, SEED_APT_CUTOFF);
    seed_health_init(&h);
    assert_int_equal(seed_health_feed(&h, w, sizeof(w)), SEED_HEALTH_APT);
    /* The count restarts with each window: C spread over two windows passes. */
    unsigned char two[2 * SEED_APT_WINDOW];
    apt_window(two, 0x42, SEED_APT_CUTOFF - 1);
    apt_window(two + SEED_APT_WINDOW, 0x42, SEED_APT_CUTOFF - 1);
    seed_health_init(&h);
    assert_int_equal(seed_health_feed(&h, two, sizeof(two)), SEED_HEALTH_OK);
}

/* A biased source: 7 of 8 samples are 0x42 (runs of 7, far below the RCT
 * cutoff), the 8th counts up.  The APT must catch it, the RCT must not. */
static void test_biased_fails_apt(void **state)
{
    (void)state;
    unsigned char *buf = malloc(MIB);
    assert_non_null(buf);
    for (size_t i = 0; i < MIB; i++)
        buf[i] = i % 8 == 7 ? (unsigned char)(i / 8 % 255 + (i / 8 % 255 >= 0x42)) : 0x42;
    struct seed_health h;
    seed_health_init(&h);
    size_t i = 0;
    enum seed_health_result r = SEED_HEALTH_OK;
    for (; i < MIB && r == SEED_HEALTH_OK; i++)
        r = seed_health_feed(&h, buf + i, 1);
    assert_int_equal(r, SEED_HEALTH_APT);
    assert_true(i <= SEED_APT_WINDOW); /* caught in the first window */
    free(buf);
}

/* ---- the real source ---------------------------------------------------- */

static void test_good_source_passes_1mib(void **state)
{
    (void)state;
    unsigned char *buf = malloc(MIB);
    assert_non_null(buf);
    struct seed_health h;
    seed_health_init(&h);
    for (int round = 0; round < 4; round++) {
        assert_int_equal(seed_os_read(buf, MIB), 0);
        assert_int_equal(seed_health_feed(&h, buf, MIB), SEED_HEALTH_OK);
    }
    free(buf);
}

#ifdef CRATON_TEST_HOOKS
static void test_stuck_hook_reads_constant(void **state)
{
    (void)state;
    unsigned char buf[64];
    struct seed_health h;
    setenv("CRATON_TEST_ENTROPY_STUCK", "1", 1);
    assert_int_equal(seed_os_read(buf, sizeof(buf)), 0);
    unsetenv("CRATON_TEST_ENTROPY_STUCK");
    seed_health_init(&h);
    assert_int_equal(seed_health_feed(&h, buf, sizeof(buf)), SEED_HEALTH_RCT);
}
#endif

/* ---- the DRBG chain ----------------------------------------------------- */

static char g_reason[256];
static int g_failures;

static void record_failure(const char *reason)
{
    snprintf(g_reason, sizeof(g_reason), "%s", reason);
    g_failures++;
}

static int chain_setup(void **state)
{
    (void)state;
    g_reason[0] = '\0';
    g_failures = 0;
    crypto_set_failure_hook(record_failure);
    return crypto_global_init(0) == CKR_OK ? 0 : -1;
}

static int chain_teardown(void **state)
{
    (void)state;
    unsetenv("CRATON_TEST_ENTROPY_STUCK");
    crypto_set_failure_hook(NULL);
    return 0;
}

/* The DRBG's reseed limits (crypto.c: CRYPTO_*_RESEED_*). */
static void want_limits(EVP_RAND_CTX *drbg, unsigned int requests, time_t seconds)
{
    unsigned int r = 0;
    time_t t = 0;
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_uint(OSSL_DRBG_PARAM_RESEED_REQUESTS, &r),
        OSSL_PARAM_construct_time_t(OSSL_DRBG_PARAM_RESEED_TIME_INTERVAL, &t),
        OSSL_PARAM_construct_end(),
    };
    assert_non_null(drbg);
    assert_int_equal(EVP_RAND_CTX_get_params(drbg, p), 1);
    assert_int_equal(r, requests);
    assert_int_equal(t, seconds);
}

static void test_chain_uses_source(void **state)
{
    (void)state;
    struct crypto *c = NULL;
    unsigned char a[64], b[64];
    assert_int_equal(crypto_new(&c), CKR_OK);
    assert_true(OSSL_PROVIDER_available(crypto_libctx(c), SEED_PROVIDER_NAME));
    assert_int_equal(crypto_random(c, a, sizeof(a), false), CKR_OK);
    assert_int_equal(crypto_random(c, b, sizeof(b), true), CKR_OK);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_int_equal(crypto_seed(c, "extra", 5), CKR_OK);
    assert_int_equal(g_failures, 0);
    want_limits(RAND_get0_primary(crypto_libctx(c)), 256, 3600);
    want_limits(RAND_get0_private(crypto_libctx(c)), 65536, 420);
    assert_string_equal(
        EVP_RAND_get0_name(EVP_RAND_CTX_get0_rand(RAND_get0_primary(crypto_libctx(c)))),
        "HMAC-DRBG");
    crypto_free(c);
}

#ifdef CRATON_TEST_HOOKS
/* A source that breaks after start: the next reseed fails, the failure hook
 * hears "repetition count", and the source stays failed. */
static void test_chain_fails_on_stuck_source(void **state)
{
    (void)state;
    struct crypto *c = NULL;
    unsigned char buf[32];
    assert_int_equal(crypto_new(&c), CKR_OK);
    setenv("CRATON_TEST_ENTROPY_STUCK", "1", 1);
    assert_int_equal(crypto_seed(c, "x", 1), CKR_DEVICE_ERROR);
    assert_int_equal(g_failures, 1);
    assert_non_null(strstr(g_reason, "repetition count"));
    assert_int_equal(crypto_random(c, buf, sizeof(buf), true), CKR_DEVICE_ERROR);
    unsetenv("CRATON_TEST_ENTROPY_STUCK");
    /* Sticky, and reported once. */
    assert_int_equal(crypto_random(c, buf, sizeof(buf), true), CKR_DEVICE_ERROR);
    assert_int_equal(crypto_seed(c, "x", 1), CKR_DEVICE_ERROR);
    assert_int_equal(g_failures, 1);
    crypto_free(c);
    /* A new context starts a new source. */
    assert_int_equal(crypto_new(&c), CKR_OK);
    assert_int_equal(crypto_random(c, buf, sizeof(buf), true), CKR_OK);
    crypto_free(c);
}

/* A source that is stuck from the start fails the start-up test: the
 * context cannot be created (no silent fallback to another source). */
static void test_startup_test_blocks_chain(void **state)
{
    (void)state;
    struct crypto *c = NULL;
    setenv("CRATON_TEST_ENTROPY_STUCK", "1", 1);
    assert_int_not_equal(crypto_new(&c), CKR_OK);
    assert_null(c);
    assert_int_equal(g_failures, 1);
    assert_non_null(strstr(g_reason, "entropy source health test failed"));
}
#endif

/* ---- secure heap -------------------------------------------------------- */

static void test_secure_heap_once(void **state)
{
    (void)state;
    assert_int_equal(crypto_global_init(0), CKR_OK);
    assert_true(CRYPTO_secure_malloc_initialized());
    /* A later, different size keeps the first heap (and warns). */
    assert_int_equal(crypto_global_init(65536), CKR_OK);
    assert_true(CRYPTO_secure_malloc_initialized());
    assert_int_equal(crypto_global_init(65536 + 1), CKR_GENERAL_ERROR);
    void *p = crypto_secret_alloc(64);
    assert_non_null(p);
    assert_true(CRYPTO_secure_allocated(p));
    crypto_secret_free(p, 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cutoffs_match_formulas),
        cmocka_unit_test(test_stuck_fails_rct_at_cutoff),
        cmocka_unit_test(test_apt_cutoff_exact),
        cmocka_unit_test(test_biased_fails_apt),
        cmocka_unit_test(test_good_source_passes_1mib),
#ifdef CRATON_TEST_HOOKS
        cmocka_unit_test(test_stuck_hook_reads_constant),
#endif
        cmocka_unit_test_setup_teardown(test_chain_uses_source, chain_setup, chain_teardown),
#ifdef CRATON_TEST_HOOKS
        cmocka_unit_test_setup_teardown(test_chain_fails_on_stuck_source, chain_setup,
                                        chain_teardown),
        cmocka_unit_test_setup_teardown(test_startup_test_blocks_chain, chain_setup,
                                        chain_teardown),
#endif
        cmocka_unit_test_setup_teardown(test_secure_heap_once, chain_setup, chain_teardown),
    };
    return cmocka_run_group_tests_name("seed", tests, NULL, NULL);
}
