#include "crypto/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/seed.h"

/* Secure heap: the size when the caller passes 0 (the config default), and
 * the smallest allocation unit. */
#define CRYPTO_SECURE_HEAP_DEFAULT (1024 * 1024)
#define CRYPTO_SECURE_HEAP_MIN     16
/* Bytes per prediction-resistant request (each one reseeds first). */
#define CRYPTO_DRBG_CHUNK 4096

/*
 * Reseed limits of the DRBG chain (HMAC-DRBG with SHA-256).  SP 800-90A
 * Table 2 allows up to 2^48 requests between reseeds and 2^19 bits per
 * request; we stay far below both:
 * - primary (one per library context, seeded by the CRATON-SEED source):
 *   reseeds after 256 requests or 1 hour, whichever comes first;
 * - private/public (one each per thread, seeded by the primary): after
 *   65536 requests or 7 minutes.
 * These are OpenSSL 3.5's own defaults (PRIMARY_/SECONDARY_RESEED_INTERVAL
 * and _TIME_INTERVAL in crypto/rand/rand_local.h); crypto_new sets them
 * explicitly on the primary and on the calling thread's private DRBG (other
 * threads' DRBGs are created by OpenSSL with the same defaults).  A request
 * is at most 65536 bytes (2^19 bits, OpenSSL's HMAC-DRBG max_request;
 * EVP_RAND_generate splits larger ones).  Prediction resistance (key
 * generation: crypto_random(..., true)) reseeds the whole chain from the
 * entropy source before the output.
 */
#define CRYPTO_PRIMARY_RESEED_REQUESTS 256U
#define CRYPTO_PRIMARY_RESEED_SECONDS  3600
#define CRYPTO_THREAD_RESEED_REQUESTS  65536U
#define CRYPTO_THREAD_RESEED_SECONDS   420

/* Fetched algorithms, by kind: fetched once, then read without a lock. */
#define CRYPTO_FETCH_MAX  64
#define CRYPTO_FETCH_NAME 32

enum fetch_kind { FETCH_MD, FETCH_CIPHER, FETCH_MAC, FETCH_KINDS };

struct fetched {
    char name[CRYPTO_FETCH_NAME];
    void *alg;
};

struct crypto {
    OSSL_LIB_CTX *libctx;
    OSSL_PROVIDER *provider;
    OSSL_PROVIDER *seed; /* the health-tested entropy source (seed.c) */
    EVP_KDF *pbkdf2;
    EVP_CIPHER *aes256gcm;
    pthread_mutex_t fetch_lock; /* serialises additions */
    struct fetched fetched[FETCH_KINDS][CRYPTO_FETCH_MAX];
    atomic_size_t nfetched[FETCH_KINDS]; /* entries published */
};

static bool global_done;
static bool secure_heap;
static size_t secure_heap_size; /* as asked at the first call */

CK_RV crypto_global_init(size_t heap_size)
{
    if (heap_size == 0)
        heap_size = CRYPTO_SECURE_HEAP_DEFAULT;
    if ((heap_size & (heap_size - 1)) != 0)
        return CKR_GENERAL_ERROR;
    if (global_done) {
        /* OpenSSL sets its secure heap up once per process image. */
        if (heap_size != secure_heap_size)
            util_log("warning: security.secure_heap_size = %zu ignored: this process keeps its "
                     "secure heap of %zu bytes until it exits",
                     heap_size, secure_heap_size);
        return CKR_OK;
    }
    /* First OpenSSL call of this image: never read a config file, never
     * register an atexit handler (our code may be unloaded before exit). */
    uint64_t opts = OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT;
    if (OPENSSL_init_crypto(opts, NULL) != 1)
        return CKR_GENERAL_ERROR;
    switch (CRYPTO_secure_malloc_init(heap_size, CRYPTO_SECURE_HEAP_MIN)) {
    case 1:
        secure_heap = true;
        break;
    case 2:
        /* mmap worked, mlock did not (RLIMIT_MEMLOCK): guarded and wiped,
         * but the pages may be swapped out. */
        secure_heap = true;
        util_log("warning: the secure heap (%zu bytes) could not be locked in memory (mlock "
                 "refused; raise RLIMIT_MEMLOCK, e.g. systemd LimitMEMLOCK=): key material may "
                 "be swapped to disk",
                 heap_size);
        break;
    default:
        util_log("warning: no secure heap (%zu bytes could not be mapped): key material is kept "
                 "in ordinary memory, wiped after use",
                 heap_size);
        break;
    }
    secure_heap_size = heap_size;
    global_done = true;
    return CKR_OK;
}

void crypto_global_cleanup(void)
{
    if (!global_done)
        return;
    if (secure_heap)
        CRYPTO_secure_malloc_done();
    OPENSSL_cleanup();
    global_done = false;
}

/* Sets the reseed limits of one DRBG (see CRYPTO_*_RESEED_*). */
static CK_RV set_reseed_limits(EVP_RAND_CTX *drbg, unsigned int requests, time_t seconds)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_uint(OSSL_DRBG_PARAM_RESEED_REQUESTS, &requests),
        OSSL_PARAM_construct_time_t(OSSL_DRBG_PARAM_RESEED_TIME_INTERVAL, &seconds),
        OSSL_PARAM_construct_end(),
    };
    if (drbg == NULL || EVP_RAND_CTX_set_params(drbg, params) != 1)
        return CKR_GENERAL_ERROR;
    return CKR_OK;
}

CK_RV crypto_new(struct crypto **out)
{
    CK_RV rv = CKR_GENERAL_ERROR;
    struct crypto *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return CKR_HOST_MEMORY;
    pthread_mutex_init(&c->fetch_lock, NULL);
    c->libctx = OSSL_LIB_CTX_new();
    if (c->libctx == NULL)
        goto out;
    c->provider = OSSL_PROVIDER_load(c->libctx, "default");
    if (c->provider == NULL)
        goto out;
    /* Before the context's first random request: the chain's root. */
    if (seed_attach(c->libctx, &c->seed) != CKR_OK)
        goto out;
    if (RAND_set_DRBG_type(c->libctx, "HMAC-DRBG", NULL, NULL, "SHA256") != 1)
        goto out;
    c->pbkdf2 = EVP_KDF_fetch(c->libctx, OSSL_KDF_NAME_PBKDF2, NULL);
    c->aes256gcm = EVP_CIPHER_fetch(c->libctx, "AES-256-GCM", NULL);
    if (c->pbkdf2 == NULL || c->aes256gcm == NULL)
        goto out;
    /* Instantiate the DRBG chain now, so a broken entropy source fails
     * C_Initialize rather than the first key generation. */
    unsigned char probe[16];
    if (RAND_priv_bytes_ex(c->libctx, probe, sizeof(probe), 256) != 1)
        goto out;
    crypto_wipe(probe, sizeof(probe));
    /* OpenSSL quietly seeds the primary from its own source when the seed
     * source cannot be created: make sure ours fed the chain. */
    if (seed_delivered(c->seed) == 0)
        goto out;
    if (set_reseed_limits(RAND_get0_primary(c->libctx), CRYPTO_PRIMARY_RESEED_REQUESTS,
                          CRYPTO_PRIMARY_RESEED_SECONDS) != CKR_OK ||
        set_reseed_limits(RAND_get0_private(c->libctx), CRYPTO_THREAD_RESEED_REQUESTS,
                          CRYPTO_THREAD_RESEED_SECONDS) != CKR_OK)
        goto out;
    *out = c;
    c = NULL;
    rv = CKR_OK;
out:
    crypto_free(c);
    return rv;
}

void crypto_free(struct crypto *c)
{
    if (c == NULL)
        return;
    /* This thread's DRBGs of the context are thread-local: release them
     * now, not at thread exit (a host may initialise and finalise often). */
    if (c->libctx != NULL)
        OPENSSL_thread_stop_ex(c->libctx);
    for (size_t i = 0; i < atomic_load(&c->nfetched[FETCH_MD]); i++)
        EVP_MD_free(c->fetched[FETCH_MD][i].alg);
    for (size_t i = 0; i < atomic_load(&c->nfetched[FETCH_CIPHER]); i++)
        EVP_CIPHER_free(c->fetched[FETCH_CIPHER][i].alg);
    for (size_t i = 0; i < atomic_load(&c->nfetched[FETCH_MAC]); i++)
        EVP_MAC_free(c->fetched[FETCH_MAC][i].alg);
    pthread_mutex_destroy(&c->fetch_lock);
    EVP_CIPHER_free(c->aes256gcm);
    EVP_KDF_free(c->pbkdf2);
    if (c->seed != NULL)
        OSSL_PROVIDER_unload(c->seed);
    if (c->provider != NULL)
        OSSL_PROVIDER_unload(c->provider);
    OSSL_LIB_CTX_free(c->libctx);
    free(c);
}

OSSL_LIB_CTX *crypto_libctx(struct crypto *c)
{
    return c->libctx;
}

CK_RV crypto_random(struct crypto *c, void *buf, size_t len, bool prediction_resistance)
{
    if (len == 0)
        return CKR_OK;
    if (prediction_resistance) {
        EVP_RAND_CTX *drbg = RAND_get0_private(c->libctx);
        if (drbg == NULL)
            return CKR_DEVICE_ERROR;
        unsigned char *p = buf;
        const size_t max = CRYPTO_DRBG_CHUNK;
        while (len > 0) {
            size_t n = len < max ? len : max;
            if (EVP_RAND_generate(drbg, p, n, 256, 1, NULL, 0) != 1)
                return CKR_DEVICE_ERROR;
            p += n;
            len -= n;
        }
        return CKR_OK;
    }
    return RAND_priv_bytes_ex(c->libctx, buf, len, 256) == 1 ? CKR_OK : CKR_DEVICE_ERROR;
}

static void *do_fetch(OSSL_LIB_CTX *lc, enum fetch_kind kind, const char *name)
{
    switch (kind) {
    case FETCH_MD:
        return EVP_MD_fetch(lc, name, NULL);
    case FETCH_CIPHER:
        return EVP_CIPHER_fetch(lc, name, NULL);
    default:
        return EVP_MAC_fetch(lc, name, NULL);
    }
}

static void *find_fetched(struct crypto *c, enum fetch_kind kind, const char *name, size_t from,
                          size_t to)
{
    for (size_t i = from; i < to; i++)
        if (strcmp(c->fetched[kind][i].name, name) == 0)
            return c->fetched[kind][i].alg;
    return NULL;
}

/* The algorithm name of kind, fetched once per context; NULL when the
 * provider has none (or the cache is full and the fetch fails). */
static void *fetch(struct crypto *c, enum fetch_kind kind, const char *name)
{
    size_t n = atomic_load_explicit(&c->nfetched[kind], memory_order_acquire);
    void *alg = find_fetched(c, kind, name, 0, n);
    if (alg != NULL || strlen(name) >= CRYPTO_FETCH_NAME)
        return alg;
    pthread_mutex_lock(&c->fetch_lock);
    size_t m = atomic_load_explicit(&c->nfetched[kind], memory_order_relaxed);
    alg = find_fetched(c, kind, name, n, m); /* another thread may have added it */
    if (alg == NULL && m < CRYPTO_FETCH_MAX && (alg = do_fetch(c->libctx, kind, name)) != NULL) {
        struct fetched *f = &c->fetched[kind][m];
        snprintf(f->name, sizeof(f->name), "%s", name);
        f->alg = alg;
        atomic_store_explicit(&c->nfetched[kind], m + 1, memory_order_release);
    }
    pthread_mutex_unlock(&c->fetch_lock);
    return alg;
}

const struct evp_md_st *crypto_md(struct crypto *c, const char *name)
{
    return fetch(c, FETCH_MD, name);
}

const struct evp_cipher_st *crypto_cipher(struct crypto *c, const char *name)
{
    return fetch(c, FETCH_CIPHER, name);
}

const struct evp_mac_st *crypto_mac(struct crypto *c, const char *name)
{
    return fetch(c, FETCH_MAC, name);
}

CK_RV crypto_seed(struct crypto *c, const void *buf, size_t len)
{
    /* The primary DRBG takes the data as additional input to a reseed from
     * the entropy source; the calling thread's DRBG reseeds from it now,
     * the other threads' at their next request (OpenSSL propagates a
     * parent's reseed to its children). */
    EVP_RAND_CTX *primary = RAND_get0_primary(c->libctx);
    EVP_RAND_CTX *priv = RAND_get0_private(c->libctx);
    if (primary == NULL || priv == NULL)
        return CKR_DEVICE_ERROR;
    if (EVP_RAND_reseed(primary, 0, NULL, 0, buf, len) != 1 ||
        EVP_RAND_reseed(priv, 0, NULL, 0, buf, len) != 1)
        return CKR_DEVICE_ERROR;
    return CKR_OK;
}

CK_RV crypto_pbkdf2_sha256(struct crypto *c, const void *secret, size_t secret_len,
                           const unsigned char *salt, size_t salt_len, unsigned long iterations,
                           unsigned char *out, size_t outlen)
{
    EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(c->pbkdf2);
    if (kctx == NULL)
        return CKR_HOST_MEMORY;
    uint64_t iter = iterations;
    int no_check = 1; /* PINs shorter than SP 800-132's 112 bits are policy, not ours to refuse */
    static const char digest[] = "SHA256";
    unsigned char empty = 0;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
                                          secret_len ? (void *)secret : &empty, secret_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_ITER, &iter),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_PKCS5, &no_check),
        OSSL_PARAM_construct_end(),
    };
    CK_RV rv = EVP_KDF_derive(kctx, out, outlen, params) == 1 ? CKR_OK : CKR_DEVICE_ERROR;
    EVP_KDF_CTX_free(kctx);
    return rv;
}

static CK_RV gcm(struct crypto *c, int enc, const unsigned char key[CRYPTO_KEY_LEN],
                 const unsigned char iv[CRYPTO_GCM_IV_LEN], const void *aad, size_t aad_len,
                 const unsigned char *in, size_t len, unsigned char *out,
                 unsigned char tag[CRYPTO_GCM_TAG_LEN])
{
    CK_RV rv = CKR_DEVICE_ERROR;
    int n = 0, fin = 0;
    if (len > INT_MAX || aad_len > INT_MAX)
        return CKR_DATA_LEN_RANGE;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return CKR_HOST_MEMORY;
    if (EVP_CipherInit_ex2(ctx, c->aes256gcm, key, iv, enc, NULL) != 1)
        goto out;
    if (aad_len > 0 && EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
        goto out;
    n = 0;
    if (len > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1)
        goto out;
    if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_GCM_TAG_LEN, tag) != 1)
        goto out;
    if (EVP_CipherFinal_ex(ctx, out + n, &fin) != 1) {
        rv = enc ? CKR_DEVICE_ERROR : CKR_ENCRYPTED_DATA_INVALID;
        goto out;
    }
    if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_GCM_TAG_LEN, tag) != 1)
        goto out;
    rv = CKR_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    return rv;
}

CK_RV crypto_seal(struct crypto *c, const unsigned char key[CRYPTO_KEY_LEN], const void *aad,
                  size_t aad_len, const unsigned char *in, size_t len, unsigned char *out)
{
    CK_RV rv = crypto_random(c, out, CRYPTO_GCM_IV_LEN, false);
    if (rv != CKR_OK)
        return rv;
    return gcm(c, 1, key, out, aad, aad_len, in, len, out + CRYPTO_GCM_IV_LEN,
               out + CRYPTO_GCM_IV_LEN + len);
}

CK_RV crypto_open(struct crypto *c, const unsigned char key[CRYPTO_KEY_LEN], const void *aad,
                  size_t aad_len, const unsigned char *in, size_t in_len, unsigned char *out)
{
    unsigned char tag[CRYPTO_GCM_TAG_LEN];
    if (in_len < CRYPTO_SEAL_OVERHEAD)
        return CKR_ENCRYPTED_DATA_INVALID;
    size_t len = in_len - CRYPTO_SEAL_OVERHEAD;
    memcpy(tag, in + CRYPTO_GCM_IV_LEN + len, sizeof(tag));
    CK_RV rv = gcm(c, 0, key, in, aad, aad_len, in + CRYPTO_GCM_IV_LEN, len, out, tag);
    if (rv != CKR_OK)
        crypto_wipe(out, len);
    return rv;
}

CK_RV crypto_wrap_key(struct crypto *c, const unsigned char kek[CRYPTO_KEY_LEN],
                      const unsigned char key[CRYPTO_KEY_LEN], const void *aad, size_t aad_len,
                      unsigned char out[CRYPTO_WRAPPED_KEY_LEN])
{
    return crypto_seal(c, kek, aad, aad_len, key, CRYPTO_KEY_LEN, out);
}

CK_RV crypto_unwrap_key(struct crypto *c, const unsigned char kek[CRYPTO_KEY_LEN],
                        const unsigned char in[CRYPTO_WRAPPED_KEY_LEN], const void *aad,
                        size_t aad_len, unsigned char key[CRYPTO_KEY_LEN])
{
    CK_RV rv = crypto_open(c, kek, aad, aad_len, in, CRYPTO_WRAPPED_KEY_LEN, key);
    return rv == CKR_ENCRYPTED_DATA_INVALID ? CKR_DEVICE_ERROR : rv;
}

void *crypto_secret_alloc(size_t len)
{
    return OPENSSL_secure_zalloc(len);
}

void crypto_secret_free(void *p, size_t len)
{
    if (p != NULL)
        OPENSSL_secure_clear_free(p, len);
}

static _Atomic(void (*)(const char *)) failure_hook;

void crypto_set_failure_hook(void (*hook)(const char *reason))
{
    atomic_store(&failure_hook, hook);
}

void crypto_fail(const char *reason)
{
    void (*hook)(const char *) = atomic_load(&failure_hook);
    if (hook != NULL)
        hook(reason);
    else
        fprintf(stderr, "craton-hsm: %s\n", reason);
}

void crypto_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0)
        OPENSSL_cleanse(p, len);
}

bool crypto_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

#ifdef CRATON_TEST_HOOKS
size_t crypto_test_entropy(const char *name, unsigned char *buf, size_t max)
{
    char var[96];
    snprintf(var, sizeof(var), "CRATON_TEST_%s", name);
    const char *hex = getenv(var);
    size_t n = 0;
    if (hex == NULL)
        return 0;
    for (; n < max && hex[2 * n] != '\0' && hex[2 * n + 1] != '\0'; n++) {
        unsigned int byte;
        if (sscanf(hex + 2 * n, "%2x", &byte) != 1)
            return 0;
        buf[n] = (unsigned char)byte;
    }
    return n;
}
#endif
