/*
 * The entropy source under the module's DRBG chain (internal to src/crypto):
 * getrandom(2) behind the SP 800-90B section 4.4 continuous health tests,
 * offered to OpenSSL as the EVP_RAND "CRATON-SEED" by a tiny provider built
 * into the module and loaded into each private library context.
 *
 * The health tests are plain functions (no OpenSSL) so unit tests can drive
 * them with stuck, biased and good sample streams.
 */
#ifndef CRATON_CRYPTO_SEED_H
#define CRATON_CRYPTO_SEED_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "pkcs11/pkcs11.h"

/*
 * Health-test parameters (SP 800-90B section 4.4, 8-bit samples).
 *
 * H, the assessed min-entropy per byte, is set to 1 bit, deliberately far
 * below the ~8 bits the kernel's conditioned output has: the tests run on
 * getrandom's output to catch a catastrophic failure (a stuck, hooked or
 * broken source), and a low H keeps the false-alarm probability of a healthy
 * source negligible (each alarm stops the module).  The DRBG is credited with
 * the same H: get_seed delivers entropy/H bytes (256 bytes for 256 bits).
 *
 * alpha = 2^-20 (the false-positive bound the spec recommends).
 *
 * Repetition Count Test (4.4.1): C = 1 + ceil(-log2(alpha) / H)
 *                                  = 1 + ceil(20 / 1) = 21 identical samples in a row.
 * Adaptive Proportion Test (4.4.2): window W = 512 (non-binary samples),
 *   C = 1 + CRITBINOM(W, 2^-H, 1 - alpha), i.e. 1 + the smallest k with
 *   P[Binomial(512, 1/2) <= k] >= 1 - 2^-20; k = 310, so C = 311 (the value
 *   in the spec's Table 2 for H = 1).  The test fails when the window's first
 *   sample occurs C times (itself included) within the W samples.
 * Start-up test (4.3): SEED_STARTUP_SAMPLES samples go through both tests,
 * and are then discarded, before the first output.
 */
#define SEED_H_BITS          1
#define SEED_ALPHA_LOG2      20
#define SEED_RCT_CUTOFF      21
#define SEED_APT_WINDOW      512
#define SEED_APT_CUTOFF      311
#define SEED_STARTUP_SAMPLES 1024

/* The EVP_RAND name, and the name of the built-in provider offering it. */
#define SEED_RAND_NAME     "CRATON-SEED"
#define SEED_PROVIDER_NAME "craton-seed"

enum seed_health_result {
    SEED_HEALTH_OK = 0,
    SEED_HEALTH_RCT, /* repetition count test failed */
    SEED_HEALTH_APT, /* adaptive proportion test failed */
};

/* The running state of both continuous tests over one sample stream. */
struct seed_health {
    unsigned int rct_count;         /* length of the current run (0: no sample yet) */
    unsigned int apt_count;         /* occurrences of apt_value in the window */
    unsigned int apt_seen;          /* samples of the window seen (0: none) */
    unsigned char rct_value;        /* the current run's sample */
    unsigned char apt_value;        /* the window's first sample */
    enum seed_health_result failed; /* sticky: the first failure */
};

/* Resets h to the state before the first sample. */
void seed_health_init(struct seed_health *h);

/* Runs both tests on len samples of buf, in order.  Returns SEED_HEALTH_OK,
 * or the first failure (sticky: every later call returns it again). */
enum seed_health_result seed_health_feed(struct seed_health *h, const unsigned char *buf,
                                         size_t len) WARN_UNUSED;

/* Fills buf with len bytes from getrandom(2) (retrying on EINTR and short
 * reads).  Returns 0, or -1 when the kernel refuses.  No health test here.
 * Test builds: CRATON_TEST_ENTROPY_STUCK=1 in the environment makes every
 * byte the same constant. */
int seed_os_read(unsigned char *buf, size_t len) WARN_UNUSED;

/* Registers the built-in provider in libctx, loads it and names its EVP_RAND
 * as libctx's seed source (before libctx's first random request).  Returns
 * CKR_OK and *out (unload with OSSL_PROVIDER_unload before freeing libctx),
 * or CKR_GENERAL_ERROR. */
struct ossl_lib_ctx_st;
struct ossl_provider_st;
CK_RV seed_attach(struct ossl_lib_ctx_st *libctx, struct ossl_provider_st **out) WARN_UNUSED;

/* Bytes the source of prov (from seed_attach) has delivered so far after
 * passing the health tests; lets crypto_new check that the DRBG chain really
 * draws from it (OpenSSL would silently fall back to its own source if the
 * seed source could not be created). */
uint64_t seed_delivered(struct ossl_provider_st *prov);

#endif
