/*
 * The module's own OpenSSL: a private library context with explicitly loaded
 * providers, its DRBG, PBKDF2, AES-256-GCM key wrapping and secure memory.
 * Nothing outside src/crypto/ touches OpenSSL's global state.
 */
#ifndef CRATON_CRYPTO_H
#define CRATON_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "common/util.h"
#include "pkcs11/pkcs11.h"

#define CRYPTO_KEY_LEN         32 /* AES-256 keys: OMK and KEKs */
#define CRYPTO_GCM_IV_LEN      12
#define CRYPTO_GCM_TAG_LEN     16
#define CRYPTO_WRAPPED_KEY_LEN (CRYPTO_GCM_IV_LEN + CRYPTO_KEY_LEN + CRYPTO_GCM_TAG_LEN)

struct crypto;

/* One-time, process-wide OpenSSL set-up of this module's private copy: no
 * configuration file read (the host's OPENSSL_CONF is ignored), no atexit
 * handler, and OpenSSL's secure heap of secure_heap_size bytes (a power of
 * two; 0 means the default, 1 MiB).  The heap exists once per process image:
 * a later call keeps the first heap and warns (util_log) if the size
 * differs.  When mlock is refused the heap works unlocked, and without any
 * heap secrets live in ordinary memory (wiped after use); both warn and
 * still return CKR_OK.  Returns CKR_OK, or CKR_GENERAL_ERROR (OpenSSL
 * cannot start, or the size is not a power of two).  Serialised by the
 * caller (C_Initialize's lock). */
CK_RV crypto_global_init(size_t secure_heap_size) WARN_UNUSED;

/* Releases everything crypto_global_init set up; only from the module's
 * unload destructor (OpenSSL cannot be initialised again afterwards in this
 * image). */
void crypto_global_cleanup(void);

/* Creates a library context with the default provider and an HMAC-DRBG
 * (SHA-256) chain as its random generator, seeded only by the module's
 * health-tested entropy source (seed.h: SP 800-90B repetition count and
 * adaptive proportion tests; a failure calls crypto_fail and makes every
 * later reseed fail).  The chain is instantiated here, so a broken source
 * fails this call.  Returns CKR_OK and *out, or CKR_HOST_MEMORY /
 * CKR_GENERAL_ERROR. */
CK_RV crypto_new(struct crypto **out) WARN_UNUSED;

/* Frees c (NULL-safe). */
void crypto_free(struct crypto *c);

/* The module's private OpenSSL library context, for the layers that use
 * OpenSSL objects directly (key import, mechanisms).  Owned by c. */
struct ossl_lib_ctx_st;
struct ossl_lib_ctx_st *crypto_libctx(struct crypto *c);

/* Algorithms of the module's library context by OpenSSL name, fetched
 * once per context and kept until crypto_free (borrowed: never free them;
 * passing one to EVP_*Init is fine).  NULL when unknown.  Lock-free after
 * the first fetch of a name. */
struct evp_md_st;
struct evp_cipher_st;
struct evp_mac_st;
const struct evp_md_st *crypto_md(struct crypto *c, const char *name);
const struct evp_cipher_st *crypto_cipher(struct crypto *c, const char *name);
const struct evp_mac_st *crypto_mac(struct crypto *c, const char *name);

/* Fills buf with len bytes from the module DRBG (private instance).
 * prediction_resistance reseeds from the entropy source first (key
 * generation).  Returns CKR_OK or CKR_DEVICE_ERROR. */
CK_RV crypto_random(struct crypto *c, void *buf, size_t len,
                    bool prediction_resistance) WARN_UNUSED;

/* C_SeedRandom: mixes len bytes of caller data into the DRBGs as
 * additional input of a reseed (never replacing the entropy source).
 * CKR_OK or CKR_DEVICE_ERROR. */
CK_RV crypto_seed(struct crypto *c, const void *buf, size_t len) WARN_UNUSED;

/* PBKDF2-HMAC-SHA256(secret, salt, iterations) -> out[outlen].  Returns
 * CKR_OK, CKR_HOST_MEMORY or CKR_DEVICE_ERROR.  out is the caller's to wipe. */
CK_RV crypto_pbkdf2_sha256(struct crypto *c, const void *secret, size_t secret_len,
                           const unsigned char *salt, size_t salt_len, unsigned long iterations,
                           unsigned char *out, size_t outlen) WARN_UNUSED;

/* Wraps a CRYPTO_KEY_LEN-byte key under kek with AES-256-GCM, a fresh random
 * IV and aad as additional data: out = IV || ciphertext || tag. */
CK_RV crypto_wrap_key(struct crypto *c, const unsigned char kek[CRYPTO_KEY_LEN],
                      const unsigned char key[CRYPTO_KEY_LEN], const void *aad, size_t aad_len,
                      unsigned char out[CRYPTO_WRAPPED_KEY_LEN]) WARN_UNUSED;

/* Inverse of crypto_wrap_key.  Returns CKR_OK, or CKR_DEVICE_ERROR when the
 * tag does not verify (wrong KEK or tampered record); key is wiped then. */
CK_RV crypto_unwrap_key(struct crypto *c, const unsigned char kek[CRYPTO_KEY_LEN],
                        const unsigned char in[CRYPTO_WRAPPED_KEY_LEN], const void *aad,
                        size_t aad_len, unsigned char key[CRYPTO_KEY_LEN]) WARN_UNUSED;

/* AES-256-GCM sealing of a record: out[CRYPTO_SEAL_OVERHEAD + len] = fresh
 * random nonce || ciphertext || tag, aad authenticated.  CKR_OK,
 * CKR_HOST_MEMORY or CKR_DEVICE_ERROR. */
#define CRYPTO_SEAL_OVERHEAD (CRYPTO_GCM_IV_LEN + CRYPTO_GCM_TAG_LEN)
CK_RV crypto_seal(struct crypto *c, const unsigned char key[CRYPTO_KEY_LEN], const void *aad,
                  size_t aad_len, const unsigned char *in, size_t len,
                  unsigned char *out) WARN_UNUSED;

/* Opens what crypto_seal made: in_len >= CRYPTO_SEAL_OVERHEAD, out gets
 * in_len - CRYPTO_SEAL_OVERHEAD bytes.  CKR_ENCRYPTED_DATA_INVALID when the
 * tag does not verify (out wiped), else as crypto_seal. */
CK_RV crypto_open(struct crypto *c, const unsigned char key[CRYPTO_KEY_LEN], const void *aad,
                  size_t aad_len, const unsigned char *in, size_t in_len,
                  unsigned char *out) WARN_UNUSED;

/* Secret memory: OpenSSL's secure heap when available (mlocked, guarded),
 * zeroed on allocation; crypto_secret_free wipes before freeing (NULL-safe). */
void *crypto_secret_alloc(size_t len);
void crypto_secret_free(void *p, size_t len);

/* Conditional-test failures (a pairwise test after key generation, the
 * entropy source's continuous health tests): crypto_fail(reason) calls the
 * hook the core registered (which puts the module in its error state), or
 * only prints reason when none is set.  Thread-safe. */
void crypto_set_failure_hook(void (*hook)(const char *reason));
void crypto_fail(const char *reason);

/* Wipes len bytes at p in a way the compiler cannot elide. */
void crypto_wipe(void *p, size_t len);

/* Constant-time equality of two len-byte buffers. */
bool crypto_equal(const void *a, const void *b, size_t len);

#ifdef CRATON_TEST_HOOKS
/* Test builds only (meson -Dtest_hooks=true, never a release build): the
 * fixed randomness a known-answer test supplies as hex in the environment
 * variable CRATON_TEST_<name> (e.g. CRATON_TEST_MLKEM_ENCAPS_M,
 * CRATON_TEST_MLDSA_RND), decoded into buf (at most max bytes).  Returns
 * the number of bytes, 0 when unset or malformed (then the DRBG is used as
 * always). */
size_t crypto_test_entropy(const char *name, unsigned char *buf, size_t max);
#endif

#endif
