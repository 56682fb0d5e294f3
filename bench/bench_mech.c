/*
 * Mechanism benchmarks: each row of rows[] (at the end) timed in three
 * columns: ours ($CRATON_MODULE), SoftHSMv2 ($SOFTHSM_MODULE), and raw
 * OpenSSL EVP in this process, the baseline of an application that uses
 * OpenSSL itself: the key made once, a fresh EVP_PKEY_CTX / EVP_MD_CTX /
 * EVP_CIPHER_CTX per operation.  The modules are used through their ABI only
 * (dlopen, C_GetFunctionList, 2.40 functions; the 3.2 list from
 * C_GetInterface for C_EncapsulateKey / C_DecapsulateKey), each on a fresh
 * token in a
 * scratch directory, with session keys from C_GenerateKey(Pair) in a
 * logged-in R/W user session.  A cell warms up (a tenth of its budget, at
 * least one op), then runs its op for $BENCH_SECONDS (default 1.0; at least
 * one op) and reports ops/s; a row with threads > 1 runs that many copies of
 * the cell at once (own session each) and reports the sum.  A failing cell
 * prints "n/a (CKR_...)" and the run goes on.  Output: machine facts and a
 * Markdown table on stdout, errors on stderr; exit status 1 only when a
 * scratch directory cannot be made.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "pkcs11/pkcs11.h"

#define SO_PIN   "12345678"
#define USER_PIN "87654321"
#define PIN(s)   (CK_UTF8CHAR_PTR)(s), (CK_ULONG)(sizeof(s) - 1)
#define N(a)     (sizeof(a) / sizeof((a)[0]))

#define TOKEN_LABEL    "craton-bench-mech"
#define MSG_LEN        32   /* what is signed: 32 bytes (a SHA-256 hash for ECDSA) */
#define BULK_LEN       4096 /* what is encrypted and digested */
#define OUT_MAX        8192 /* signature (SLH-DSA-SHA2-128s: 7856), ciphertext||tag */
#define GCM_IV_LEN     12
#define GCM_TAG_LEN    16
#define AES_KEY_LEN    32
#define MAX_THREADS    8
#define WARMUP_SHARE   0.1
#define DEFAULT_BUDGET 1.0

enum column { COL_OURS, COL_SOFTHSM, COL_OPENSSL, NCOLS };

/* One PKCS#11 module, loaded and logged in once for the whole run. */
struct module {
    const char *title;
    char path[PATH_MAX];
    char dir[PATH_MAX]; /* scratch directory; "" when none was made */
    void *dl;
    CK_FUNCTION_LIST *f;
    CK_FUNCTION_LIST_3_2 *f32; /* the 3.2 list (KEM rows); NULL when the module has none */
    CK_SLOT_ID slot;
    CK_SESSION_HANDLE login; /* stays open: keeps the user logged in */
    bool initialized;
    bool audit_off; /* ours only: [audit] enabled = false */
    char why[48];   /* "" when usable, else the column's "n/a (...)" text */
};

/* The key a row needs, for both kinds of column. */
struct keyspec {
    CK_MECHANISM_TYPE gen; /* CKM_*_KEY_PAIR_GEN, or CKM_*_KEY_GEN */
    CK_ATTRIBUTE *pub;     /* public template; NULL for a secret key */
    CK_ULONG npub;
    CK_ATTRIBUTE *priv; /* private (or secret) key template */
    CK_ULONG npriv;
    const char *ossl_name;  /* EVP_PKEY algorithm; NULL: AES_KEY_LEN random bytes */
    unsigned int ossl_bits; /* "bits" keygen parameter, 0 if none */
    const char *ossl_group; /* "group" keygen parameter, NULL if none */
};

struct cell;
typedef CK_RV (*cell_fn)(struct cell *c);

struct impl {
    cell_fn setup;                    /* may be NULL */
    cell_fn op;                       /* the timed operation */
    void (*teardown)(struct cell *c); /* may be NULL */
};

struct row {
    const char *name;
    const struct keyspec *key;
    CK_MECHANISM_TYPE mech;    /* the op's mechanism (sign, digest, ...) */
    const EVP_MD *(*md)(void); /* OpenSSL digest (digest, hash-and-sign rows) */
    struct impl p11, ossl;
    unsigned int threads; /* threads running the op at once; 0 means 1 */
    double budget_scale;  /* times $BENCH_SECONDS; 0 means 1 */
};

/* The state of one cell (one thread of it).  Threads get a copy each. */
struct cell {
    const struct row *row;
    struct module *m; /* NULL in the OpenSSL column */
    unsigned int tid;
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE pub, priv; /* priv is the secret key for AES rows */
    EVP_PKEY *pkey;             /* owned by thread 0's cell */
    EVP_SIGNATURE *sigalg;      /* ML-DSA / SLH-DSA: fetched once, thread 0's */
    unsigned char aes[AES_KEY_LEN];
    unsigned char iv[GCM_IV_LEN];
    uint64_t counter;
    unsigned char msg[BULK_LEN];
    unsigned char out[OUT_MAX]; /* signature, ciphertext||tag, KEM ciphertext */
    size_t out_len;
    unsigned char back[BULK_LEN + GCM_TAG_LEN]; /* decrypted text, digest */
};

struct result {
    bool ok;
    double rate; /* ops/s */
    unsigned long ops;
    char why[48]; /* "n/a (...)" text when !ok */
};

#define F(c) ((c)->m->f)

/* Not a module's answer: the module said CKR_OK but the output was wrong. */
#define WRONG_RESULT (CKR_VENDOR_DEFINED | 0x0bad)

static double g_budget = DEFAULT_BUDGET;

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static CK_ULONG rsa_bits = 2048, aes_len = AES_KEY_LEN;
static CK_BYTE rsa_e[] = {0x01, 0x00, 0x01};
/* DER OBJECT IDENTIFIER 1.2.840.10045.3.1.7 (prime256v1) */
static CK_BYTE p256_oid[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

/* clang-format off */
#define ATTR(t, v) {(t), &(v), sizeof(v)}
#define ABUF(t, b) {(t), (b), sizeof(b)}
/* clang-format on */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- CKR names ------------------------------------------------------------- */

/* clang-format off */
#define RV_NAME(x) {x, #x}
static const struct {
    CK_RV rv;
    const char *name;
} rv_names[] = {
    RV_NAME(CKR_HOST_MEMORY), RV_NAME(CKR_SLOT_ID_INVALID), RV_NAME(CKR_GENERAL_ERROR),
    RV_NAME(CKR_FUNCTION_FAILED), RV_NAME(CKR_ARGUMENTS_BAD), RV_NAME(CKR_ATTRIBUTE_READ_ONLY),
    RV_NAME(CKR_ATTRIBUTE_TYPE_INVALID), RV_NAME(CKR_ATTRIBUTE_VALUE_INVALID),
    RV_NAME(CKR_DATA_LEN_RANGE), RV_NAME(CKR_DEVICE_ERROR), RV_NAME(CKR_DEVICE_MEMORY),
    RV_NAME(CKR_ENCRYPTED_DATA_INVALID), RV_NAME(CKR_FUNCTION_NOT_SUPPORTED),
    RV_NAME(CKR_KEY_HANDLE_INVALID), RV_NAME(CKR_KEY_SIZE_RANGE), RV_NAME(CKR_KEY_TYPE_INCONSISTENT),
    RV_NAME(CKR_KEY_FUNCTION_NOT_PERMITTED), RV_NAME(CKR_MECHANISM_INVALID),
    RV_NAME(CKR_MECHANISM_PARAM_INVALID), RV_NAME(CKR_OPERATION_ACTIVE),
    RV_NAME(CKR_PIN_INCORRECT), RV_NAME(CKR_SESSION_HANDLE_INVALID), RV_NAME(CKR_SIGNATURE_INVALID),
    RV_NAME(CKR_TEMPLATE_INCOMPLETE), RV_NAME(CKR_TEMPLATE_INCONSISTENT),
    RV_NAME(CKR_TOKEN_NOT_PRESENT), RV_NAME(CKR_USER_NOT_LOGGED_IN), RV_NAME(CKR_CURVE_NOT_SUPPORTED),
    RV_NAME(CKR_BUFFER_TOO_SMALL), RV_NAME(CKR_CRYPTOKI_ALREADY_INITIALIZED),
    RV_NAME(CKR_PARAMETER_SET_NOT_SUPPORTED), RV_NAME(CKR_ENCRYPTED_DATA_LEN_RANGE),
};
/* clang-format on */

/* Spec name of rv, or "CKR_0x........" in buf. */
static const char *rv_name(CK_RV rv, char *buf, size_t len)
{
    for (size_t i = 0; i < N(rv_names); i++)
        if (rv_names[i].rv == rv)
            return rv_names[i].name;
    if (rv == WRONG_RESULT)
        return "wrong output";
    snprintf(buf, len, "CKR_0x%08lX", (unsigned long)rv);
    return buf;
}

static void warn_rv(const struct module *m, const char *what, CK_RV rv)
{
    char buf[32];
    fprintf(stderr, "bench_mech: %s: %s: %s\n", m->title, what, rv_name(rv, buf, sizeof(buf)));
}

/* ---- PKCS#11 column -------------------------------------------------------- */

static CK_RV p11_destroy(struct cell *c)
{
    CK_RV rv = CKR_OK, r;
    CK_OBJECT_HANDLE *h[] = {&c->pub, &c->priv};
    for (size_t i = 0; i < N(h); i++) {
        if (*h[i] == CK_INVALID_HANDLE)
            continue;
        r = F(c)->C_DestroyObject(c->s, *h[i]);
        *h[i] = CK_INVALID_HANDLE;
        if (rv == CKR_OK)
            rv = r;
    }
    return rv;
}

/* C_GenerateKeyPair (or C_GenerateKey) of the row's key into c->pub/priv. */
static CK_RV p11_generate(struct cell *c)
{
    const struct keyspec *k = c->row->key;
    CK_MECHANISM mech = {k->gen, NULL, 0};
    if (k->pub == NULL)
        return F(c)->C_GenerateKey(c->s, &mech, k->priv, k->npriv, &c->priv);
    return F(c)->C_GenerateKeyPair(c->s, &mech, k->pub, k->npub, k->priv, k->npriv, &c->pub,
                                   &c->priv);
}

/* Timed key generation: generate, then destroy (both in the op). */
static CK_RV p11_keygen(struct cell *c)
{
    CK_RV rv = p11_generate(c);
    CK_RV r = p11_destroy(c);
    return rv != CKR_OK ? rv : r;
}

static CK_RV p11_sign(struct cell *c)
{
    CK_MECHANISM mech = {c->row->mech, NULL, 0};
    CK_ULONG len = sizeof(c->out);
    CK_RV rv = F(c)->C_SignInit(c->s, &mech, c->priv);
    if (rv == CKR_OK)
        rv = F(c)->C_Sign(c->s, c->msg, MSG_LEN, c->out, &len);
    c->out_len = len;
    return rv;
}

static CK_RV p11_verify(struct cell *c)
{
    CK_MECHANISM mech = {c->row->mech, NULL, 0};
    CK_RV rv = F(c)->C_VerifyInit(c->s, &mech, c->pub);
    if (rv == CKR_OK)
        rv = F(c)->C_Verify(c->s, c->msg, MSG_LEN, c->out, (CK_ULONG)c->out_len);
    return rv;
}

/* A fresh IV: the thread's number, then a 64-bit counter (big-endian). */
static void next_iv(struct cell *c)
{
    uint64_t n = ++c->counter;
    for (int i = 0; i < 4; i++)
        c->iv[i] = (unsigned char)(c->tid >> (24 - 8 * i));
    for (int i = 11; i >= 4; i--, n >>= 8)
        c->iv[i] = (unsigned char)n;
}

/* clang-format off */
#define GCM_PARAMS(c)                                                                        \
    {.pIv = (c)->iv, .ulIvLen = GCM_IV_LEN, .ulIvBits = GCM_IV_LEN * 8, .pAAD = NULL,         \
     .ulAADLen = 0, .ulTagBits = GCM_TAG_LEN * 8}
/* clang-format on */

/* msg under a fresh IV into out (ciphertext || tag). */
static CK_RV p11_encrypt(struct cell *c)
{
    CK_GCM_PARAMS gp = GCM_PARAMS(c);
    CK_MECHANISM mech = {c->row->mech, &gp, sizeof(gp)};
    CK_ULONG len = sizeof(c->out);
    next_iv(c);
    CK_RV rv = F(c)->C_EncryptInit(c->s, &mech, c->priv);
    if (rv == CKR_OK)
        rv = F(c)->C_Encrypt(c->s, c->msg, BULK_LEN, c->out, &len);
    c->out_len = len;
    return rv;
}

/* out back into msg, with the IV of the last encryption. */
static CK_RV p11_decrypt(struct cell *c)
{
    CK_GCM_PARAMS gp = GCM_PARAMS(c);
    CK_MECHANISM mech = {c->row->mech, &gp, sizeof(gp)};
    CK_ULONG len = sizeof(c->back);
    CK_RV rv = F(c)->C_DecryptInit(c->s, &mech, c->priv);
    if (rv == CKR_OK)
        rv = F(c)->C_Decrypt(c->s, c->out, (CK_ULONG)c->out_len, c->back, &len);
    if (rv == CKR_OK && (len != BULK_LEN || memcmp(c->back, c->msg, BULK_LEN) != 0))
        rv = WRONG_RESULT;
    return rv;
}

static CK_RV p11_digest(struct cell *c)
{
    CK_MECHANISM mech = {c->row->mech, NULL, 0};
    CK_ULONG len = sizeof(c->back);
    CK_RV rv = F(c)->C_DigestInit(c->s, &mech);
    if (rv == CKR_OK)
        rv = F(c)->C_Digest(c->s, c->msg, BULK_LEN, c->back, &len);
    return rv;
}

/* Setups: the row's key; plus one signature (for verify rows) or one
 * ciphertext (for decrypt rows), which also checks the key works. */
static CK_RV p11_setup_signed(struct cell *c)
{
    CK_RV rv = p11_generate(c);
    return rv == CKR_OK ? p11_sign(c) : rv;
}

static CK_RV p11_setup_sealed(struct cell *c)
{
    CK_RV rv = p11_generate(c);
    return rv == CKR_OK ? p11_encrypt(c) : rv;
}

static void p11_teardown(struct cell *c)
{
    CK_RV rv = p11_destroy(c);
    if (rv != CKR_OK)
        warn_rv(c->m, "C_DestroyObject", rv);
}

/* KEM rows (PKCS#11 3.2 C_EncapsulateKey / C_DecapsulateKey): the shared
 * secret becomes a session generic secret, destroyed in the same op (an
 * application ends up doing both). */
static CK_OBJECT_CLASS kem_class = CKO_SECRET_KEY;
static CK_KEY_TYPE kem_type = CKK_GENERIC_SECRET;
static CK_ATTRIBUTE kem_secret[] = {
    {CKA_CLASS, &kem_class, sizeof(kem_class)},
    {CKA_KEY_TYPE, &kem_type, sizeof(kem_type)},
    {CKA_TOKEN, &no, sizeof(no)},
};

/* A fresh shared secret to c->pub: the ciphertext into c->out. */
static CK_RV p11_encap(struct cell *c)
{
    CK_MECHANISM mech = {c->row->mech, NULL, 0};
    CK_ULONG len = sizeof(c->out);
    CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
    if (c->m->f32 == NULL)
        return CKR_FUNCTION_NOT_SUPPORTED;
    CK_RV rv = c->m->f32->C_EncapsulateKey(c->s, &mech, c->pub, kem_secret, N(kem_secret), c->out,
                                           &len, &key);
    c->out_len = len;
    if (rv == CKR_OK)
        rv = F(c)->C_DestroyObject(c->s, key);
    return rv;
}

/* The secret of the ciphertext in c->out, with c->priv. */
static CK_RV p11_decap(struct cell *c)
{
    CK_MECHANISM mech = {c->row->mech, NULL, 0};
    CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
    if (c->m->f32 == NULL)
        return CKR_FUNCTION_NOT_SUPPORTED;
    CK_RV rv = c->m->f32->C_DecapsulateKey(c->s, &mech, c->priv, kem_secret, N(kem_secret), c->out,
                                           (CK_ULONG)c->out_len, &key);
    if (rv == CKR_OK)
        rv = F(c)->C_DestroyObject(c->s, key);
    return rv;
}

static CK_RV p11_setup_encap(struct cell *c)
{
    CK_RV rv = c->m->f32 != NULL ? p11_generate(c) : CKR_FUNCTION_NOT_SUPPORTED;
    return rv == CKR_OK ? p11_encap(c) : rv;
}

/* ---- raw OpenSSL column ---------------------------------------------------- */

static CK_RV ossl_rv(int ok)
{
    if (ok)
        return CKR_OK;
    ERR_print_errors_fp(stderr);
    return CKR_FUNCTION_FAILED;
}

/* A fresh EVP_PKEY_CTX per key, as EVP_PKEY_Q_keygen would make. */
static CK_RV ossl_generate(const struct keyspec *k, EVP_PKEY **out)
{
    OSSL_PARAM params[3], *p = params;
    unsigned int bits = k->ossl_bits;
    if (bits != 0)
        *p++ = OSSL_PARAM_construct_uint(OSSL_PKEY_PARAM_BITS, &bits);
    if (k->ossl_group != NULL)
        *p++ =
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)k->ossl_group, 0);
    *p = OSSL_PARAM_construct_end();
    EVP_PKEY_CTX *x = EVP_PKEY_CTX_new_from_name(NULL, k->ossl_name, NULL);
    int ok = x != NULL && EVP_PKEY_keygen_init(x) == 1 && EVP_PKEY_CTX_set_params(x, params) == 1 &&
             EVP_PKEY_generate(x, out) == 1;
    EVP_PKEY_CTX_free(x);
    return ossl_rv(ok);
}

static CK_RV ossl_keygen(struct cell *c)
{
    const struct keyspec *k = c->row->key;
    if (k->ossl_name == NULL) { /* a secret key: random bytes */
        unsigned char key[AES_KEY_LEN];
        int ok = RAND_priv_bytes(key, sizeof(key)) == 1;
        OPENSSL_cleanse(key, sizeof(key));
        return ossl_rv(ok);
    }
    EVP_PKEY *pkey = NULL;
    CK_RV rv = ossl_generate(k, &pkey);
    EVP_PKEY_free(pkey);
    return rv;
}

static CK_RV ossl_sign(struct cell *c)
{
    size_t len = sizeof(c->out);
    int ok;
    if (c->row->md != NULL) { /* hash-and-sign: EVP_DigestSign */
        EVP_MD_CTX *x = EVP_MD_CTX_new();
        ok = x != NULL && EVP_DigestSignInit(x, NULL, c->row->md(), NULL, c->pkey) == 1 &&
             EVP_DigestSign(x, c->out, &len, c->msg, MSG_LEN) == 1;
        EVP_MD_CTX_free(x);
    } else { /* the input is the hash: EVP_PKEY_sign */
        EVP_PKEY_CTX *x = EVP_PKEY_CTX_new(c->pkey, NULL);
        ok = x != NULL && EVP_PKEY_sign_init(x) == 1 &&
             EVP_PKEY_sign(x, c->out, &len, c->msg, MSG_LEN) == 1;
        EVP_PKEY_CTX_free(x);
    }
    c->out_len = len;
    return ossl_rv(ok);
}

static CK_RV ossl_verify(struct cell *c)
{
    int ok;
    if (c->row->md != NULL) {
        EVP_MD_CTX *x = EVP_MD_CTX_new();
        ok = x != NULL && EVP_DigestVerifyInit(x, NULL, c->row->md(), NULL, c->pkey) == 1 &&
             EVP_DigestVerify(x, c->out, c->out_len, c->msg, MSG_LEN) == 1;
        EVP_MD_CTX_free(x);
    } else {
        EVP_PKEY_CTX *x = EVP_PKEY_CTX_new(c->pkey, NULL);
        ok = x != NULL && EVP_PKEY_verify_init(x) == 1 &&
             EVP_PKEY_verify(x, c->out, c->out_len, c->msg, MSG_LEN) == 1;
        EVP_PKEY_CTX_free(x);
    }
    return ossl_rv(ok);
}

static CK_RV ossl_encrypt(struct cell *c)
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int n = 0, fin = 0, ok;
    next_iv(c);
    ok = x != NULL && EVP_EncryptInit_ex(x, EVP_aes_256_gcm(), NULL, c->aes, c->iv) == 1 &&
         EVP_EncryptUpdate(x, c->out, &n, c->msg, BULK_LEN) == 1 &&
         EVP_EncryptFinal_ex(x, c->out + n, &fin) == 1 &&
         EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, GCM_TAG_LEN, c->out + n + fin) == 1;
    EVP_CIPHER_CTX_free(x);
    c->out_len = (size_t)(n + fin) + GCM_TAG_LEN;
    return ossl_rv(ok);
}

static CK_RV ossl_decrypt(struct cell *c)
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int n = 0, fin = 0, ok;
    int clen = (int)(c->out_len - GCM_TAG_LEN);
    ok = x != NULL && EVP_DecryptInit_ex(x, EVP_aes_256_gcm(), NULL, c->aes, c->iv) == 1 &&
         EVP_DecryptUpdate(x, c->back, &n, c->out, clen) == 1 &&
         EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, GCM_TAG_LEN, c->out + clen) == 1 &&
         EVP_DecryptFinal_ex(x, c->back + n, &fin) == 1 && n + fin == BULK_LEN &&
         memcmp(c->back, c->msg, BULK_LEN) == 0;
    EVP_CIPHER_CTX_free(x);
    return ossl_rv(ok);
}

static CK_RV ossl_digest(struct cell *c)
{
    EVP_MD_CTX *x = EVP_MD_CTX_new();
    unsigned int len = 0;
    int ok = x != NULL && EVP_DigestInit_ex(x, c->row->md(), NULL) == 1 &&
             EVP_DigestUpdate(x, c->msg, BULK_LEN) == 1 &&
             EVP_DigestFinal_ex(x, c->back, &len) == 1;
    EVP_MD_CTX_free(x);
    return ossl_rv(ok);
}

static CK_RV ossl_setup_key(struct cell *c)
{
    const struct keyspec *k = c->row->key;
    if (k->ossl_name == NULL)
        return ossl_rv(RAND_priv_bytes(c->aes, sizeof(c->aes)) == 1);
    return ossl_generate(k, &c->pkey);
}

static CK_RV ossl_setup_signed(struct cell *c)
{
    CK_RV rv = ossl_setup_key(c);
    return rv == CKR_OK ? ossl_sign(c) : rv;
}

static CK_RV ossl_setup_sealed(struct cell *c)
{
    CK_RV rv = ossl_setup_key(c);
    return rv == CKR_OK ? ossl_encrypt(c) : rv;
}

static void ossl_teardown(struct cell *c)
{
    EVP_PKEY_free(c->pkey);
    c->pkey = NULL;
    EVP_SIGNATURE_free(c->sigalg);
    c->sigalg = NULL;
    OPENSSL_cleanse(c->aes, sizeof(c->aes));
}

/* ML-DSA / SLH-DSA: pure message signing (empty context), the way OpenSSL
 * 3.5 offers it: EVP_PKEY_sign_message_init with the algorithm fetched once
 * at setup, a fresh EVP_PKEY_CTX per operation. */
static CK_RV ossl_msg_sign(struct cell *c)
{
    size_t len = sizeof(c->out);
    EVP_PKEY_CTX *x = EVP_PKEY_CTX_new_from_pkey(NULL, c->pkey, NULL);
    int ok = x != NULL && EVP_PKEY_sign_message_init(x, c->sigalg, NULL) == 1 &&
             EVP_PKEY_sign(x, c->out, &len, c->msg, MSG_LEN) == 1;
    EVP_PKEY_CTX_free(x);
    c->out_len = len;
    return ossl_rv(ok);
}

static CK_RV ossl_msg_verify(struct cell *c)
{
    EVP_PKEY_CTX *x = EVP_PKEY_CTX_new_from_pkey(NULL, c->pkey, NULL);
    int ok = x != NULL && EVP_PKEY_verify_message_init(x, c->sigalg, NULL) == 1 &&
             EVP_PKEY_verify(x, c->out, c->out_len, c->msg, MSG_LEN) == 1;
    EVP_PKEY_CTX_free(x);
    return ossl_rv(ok);
}

static CK_RV ossl_setup_msg_signed(struct cell *c)
{
    CK_RV rv = ossl_setup_key(c);
    if (rv != CKR_OK)
        return rv;
    c->sigalg = EVP_SIGNATURE_fetch(NULL, c->row->key->ossl_name, NULL);
    return c->sigalg != NULL ? ossl_msg_sign(c) : ossl_rv(0);
}

/* ML-KEM: EVP_PKEY_encapsulate / EVP_PKEY_decapsulate, a fresh context each. */
static CK_RV ossl_encap(struct cell *c)
{
    unsigned char ss[64];
    size_t len = sizeof(c->out), sslen = sizeof(ss);
    EVP_PKEY_CTX *x = EVP_PKEY_CTX_new_from_pkey(NULL, c->pkey, NULL);
    int ok = x != NULL && EVP_PKEY_encapsulate_init(x, NULL) == 1 &&
             EVP_PKEY_encapsulate(x, c->out, &len, ss, &sslen) == 1;
    EVP_PKEY_CTX_free(x);
    OPENSSL_cleanse(ss, sizeof(ss));
    c->out_len = len;
    return ossl_rv(ok);
}

static CK_RV ossl_decap(struct cell *c)
{
    unsigned char ss[64];
    size_t sslen = sizeof(ss);
    EVP_PKEY_CTX *x = EVP_PKEY_CTX_new_from_pkey(NULL, c->pkey, NULL);
    int ok = x != NULL && EVP_PKEY_decapsulate_init(x, NULL) == 1 &&
             EVP_PKEY_decapsulate(x, ss, &sslen, c->out, c->out_len) == 1;
    EVP_PKEY_CTX_free(x);
    OPENSSL_cleanse(ss, sizeof(ss));
    return ossl_rv(ok);
}

static CK_RV ossl_setup_encap(struct cell *c)
{
    CK_RV rv = ossl_setup_key(c);
    return rv == CKR_OK ? ossl_encap(c) : rv;
}

/* ---- modules --------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path) == 0 ? 0 : -1;
}

static int write_file(const char *path, const char *body)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int r = fputs(body, f) < 0 ? -1 : 0;
    return fclose(f) != 0 ? -1 : r;
}

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_EXCL, 0700);
    ssize_t n = -1;
    if (in >= 0 && out >= 0)
        while ((n = sendfile(out, in, NULL, 1 << 20)) > 0)
            continue;
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0)
        n = -1;
    return n == 0 ? 0 : -1;
}

/* Whether a and b name the same file (dlopen would return one instance). */
static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* Writes the module's configuration into m->dir and points its variable
 * (SOFTHSM2_CONF or CRATON_HSM_CONFIG) at it. */
static int module_config(struct module *m, bool softhsm)
{
    char path[PATH_MAX + 32], body[3 * PATH_MAX];
    if (softhsm) {
        snprintf(path, sizeof(path), "%s/tokens", m->dir);
        if (mkdir(path, 0700) != 0)
            return -1;
        snprintf(body, sizeof(body),
                 "directories.tokendir = %s/tokens\nobjectstore.backend = file\n"
                 "log.level = ERROR\n",
                 m->dir);
        snprintf(path, sizeof(path), "%s/softhsm2.conf", m->dir);
    } else { /* storage_path must be relative: the module resolves it
              * against the configuration file's directory, m->dir */
        snprintf(body, sizeof(body),
                 "[token]\nstorage_path = \"store\"\n[security]\npbkdf2_iterations = 100000\n"
                 "[audit]\nenabled = %s\n",
                 m->audit_off ? "false" : "true");
        snprintf(path, sizeof(path), "%s/craton_hsm.toml", m->dir);
    }
    if (write_file(path, body) != 0)
        return -1;
    return setenv(softhsm ? "SOFTHSM2_CONF" : "CRATON_HSM_CONFIG", path, 1);
}

/* C_InitToken on the first slot, then finds the initialised token's slot
 * (SoftHSM moves it to a new slot ID), sets the user PIN and logs in. */
static CK_RV module_token(struct module *m)
{
    CK_SLOT_ID slots[64];
    CK_ULONG n = N(slots);
    CK_UTF8CHAR label[32];
    CK_TOKEN_INFO ti;
    CK_SESSION_HANDLE s;
    const char *what = "C_GetSlotList";
    CK_RV rv;

    memset(label, ' ', sizeof(label));
    memcpy(label, TOKEN_LABEL, strlen(TOKEN_LABEL));
    if ((rv = m->f->C_GetSlotList(CK_FALSE, slots, &n)) != CKR_OK)
        goto out;
    rv = CKR_SLOT_ID_INVALID;
    if (n == 0)
        goto out;
    what = "C_InitToken";
    if ((rv = m->f->C_InitToken(slots[0], PIN(SO_PIN), label)) != CKR_OK)
        goto out;
    what = "C_GetSlotList(TRUE)";
    n = N(slots);
    if ((rv = m->f->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_OK)
        goto out;
    rv = CKR_TOKEN_NOT_PRESENT;
    for (CK_ULONG i = 0; i < n; i++) {
        if (m->f->C_GetTokenInfo(slots[i], &ti) == CKR_OK && (ti.flags & CKF_TOKEN_INITIALIZED) &&
            memcmp(ti.label, label, sizeof(label)) == 0) {
            m->slot = slots[i];
            rv = CKR_OK;
            break;
        }
    }
    if (rv != CKR_OK)
        goto out;
    what = "SO session";
    if ((rv = m->f->C_OpenSession(m->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s)) !=
        CKR_OK)
        goto out;
    rv = m->f->C_Login(s, CKU_SO, PIN(SO_PIN));
    if (rv == CKR_OK)
        rv = m->f->C_InitPIN(s, PIN(USER_PIN));
    if (rv == CKR_OK)
        rv = m->f->C_Logout(s);
    m->f->C_CloseSession(s);
    if (rv != CKR_OK)
        goto out;
    what = "user login";
    if ((rv = m->f->C_OpenSession(m->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
                                  &m->login)) != CKR_OK)
        goto out;
    rv = m->f->C_Login(m->login, CKU_USER, PIN(USER_PIN));
out:
    if (rv != CKR_OK)
        warn_rv(m, what, rv);
    return rv;
}

/* Loads, initialises and logs in one module; on failure m->why says why
 * and the column prints n/a.  other: the module loaded before, if any. */
static int module_open(struct module *m, const char *env, const char *dflt,
                       const struct module *other)
{
    const char *p = getenv(env), *tmp = getenv("TMPDIR"), *base;
    char load[PATH_MAX + 32], buf[32];
    CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
    CK_C_GetFunctionList gfl;
    CK_RV rv;

    snprintf(m->path, sizeof(m->path), "%s", p != NULL && *p != '\0' ? p : dflt);
    if (access(m->path, R_OK) != 0) {
        fprintf(stderr, "bench_mech: %s: %s: %s\n", m->title, m->path, strerror(errno));
        snprintf(m->why, sizeof(m->why), "n/a (not installed)");
        return 0;
    }
    snprintf(m->dir, sizeof(m->dir), "%s/craton-bench-mech-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(m->dir) == NULL) {
        fprintf(stderr, "bench_mech: mkdtemp %s: %s\n", m->dir, strerror(errno));
        m->dir[0] = '\0';
        return -1;
    }
    base = strrchr(m->path, '/');
    base = base != NULL ? base + 1 : m->path;
    if (module_config(m, strstr(base, "softhsm") != NULL) != 0) {
        fprintf(stderr, "bench_mech: config in %s: %s\n", m->dir, strerror(errno));
        return -1;
    }
    /* The same file twice (SoftHSM as both columns): load a private copy,
     * or dlopen would hand back the first, already initialised, instance. */
    snprintf(load, sizeof(load), "%s", m->path);
    if (other != NULL && other->dl != NULL && same_file(m->path, other->path)) {
        snprintf(load, sizeof(load), "%s/module-copy.so", m->dir);
        char sidecar[PATH_MAX + 48], copy_sidecar[PATH_MAX + 48];
        snprintf(sidecar, sizeof(sidecar), "%s.hmac", m->path);
        snprintf(copy_sidecar, sizeof(copy_sidecar), "%s.hmac", load);
        /* Our module checks its integrity against the sidecar beside it. */
        if (access(sidecar, R_OK) == 0 && copy_file(sidecar, copy_sidecar) != 0) {
            fprintf(stderr, "bench_mech: copy %s: %s\n", sidecar, strerror(errno));
            return -1;
        }
        if (copy_file(m->path, load) != 0) {
            fprintf(stderr, "bench_mech: copy %s: %s\n", m->path, strerror(errno));
            return -1;
        }
    }
    m->dl = dlopen(load, RTLD_NOW | RTLD_LOCAL);
    gfl = m->dl != NULL ? (CK_C_GetFunctionList)dlsym(m->dl, "C_GetFunctionList") : NULL;
    if (gfl == NULL || gfl(&m->f) != CKR_OK || m->f == NULL) {
        fprintf(stderr, "bench_mech: %s: %s: %s\n", m->title, load,
                m->dl == NULL ? dlerror() : "no C_GetFunctionList");
        m->f = NULL;
        snprintf(m->why, sizeof(m->why), "n/a (cannot load)");
        return 0;
    }
    /* The 3.2 list, for the KEM rows (SoftHSM 2.6 has no C_GetInterface). */
    CK_C_GetInterface gi = (CK_C_GetInterface)dlsym(m->dl, "C_GetInterface");
    CK_VERSION v32 = {3, 2};
    CK_INTERFACE_PTR itf = NULL;
    if (gi != NULL && gi((CK_UTF8CHAR_PTR) "PKCS 11", &v32, &itf, 0) == CKR_OK && itf != NULL)
        m->f32 = itf->pFunctionList;
    if ((rv = m->f->C_Initialize(&args)) != CKR_OK) {
        warn_rv(m, "C_Initialize", rv);
    } else {
        m->initialized = true;
        rv = module_token(m);
    }
    if (rv != CKR_OK)
        snprintf(m->why, sizeof(m->why), "n/a (%s)", rv_name(rv, buf, sizeof(buf)));
    return 0;
}

static void module_close(struct module *m)
{
    if (m->initialized) {
        CK_RV rv = m->f->C_Finalize(NULL);
        if (rv != CKR_OK)
            warn_rv(m, "C_Finalize", rv);
    }
    if (m->dl != NULL)
        dlclose(m->dl);
    if (m->dir[0] != '\0' && nftw(m->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "bench_mech: cannot remove %s\n", m->dir);
}

/* ---- running a cell ---------------------------------------------------------- */

struct run {
    struct cell cell;
    cell_fn op;
    double budget;
    pthread_barrier_t *start; /* NULL when single-threaded */
    unsigned long ops;
    double secs;
    CK_RV rv;
};

/* Warm-up, then the op until the budget is spent (at least one op). */
static void *run_ops(void *arg)
{
    struct run *r = arg;
    CK_RV rv;
    double t0 = now(), t;
    unsigned long n = 0;
    do {
        rv = r->op(&r->cell);
        t = now();
    } while (rv == CKR_OK && t - t0 < r->budget * WARMUP_SHARE);
    if (r->start != NULL)
        pthread_barrier_wait(r->start);
    t0 = t = now();
    while (rv == CKR_OK) {
        rv = r->op(&r->cell);
        n += rv == CKR_OK;
        t = now();
        if (t - t0 >= r->budget)
            break;
    }
    r->ops = n;
    r->secs = t - t0;
    r->rv = rv;
    return NULL;
}

static void fail(struct result *res, enum column col, CK_RV rv)
{
    char buf[32];
    res->ok = false;
    if (col == COL_OPENSSL)
        snprintf(res->why, sizeof(res->why), "n/a (OpenSSL error)");
    else
        snprintf(res->why, sizeof(res->why), "n/a (%s)", rv_name(rv, buf, sizeof(buf)));
}

static CK_RV open_session(struct cell *c)
{
    return F(c)->C_OpenSession(c->m->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &c->s);
}

static void close_session(struct cell *c)
{
    if (c->s != CK_INVALID_HANDLE)
        F(c)->C_CloseSession(c->s);
    c->s = CK_INVALID_HANDLE;
}

static struct result run_cell(const struct row *row, enum column col, struct module *m)
{
    static struct run runs[MAX_THREADS];
    struct result res = {.ok = false};
    const struct impl *im = col == COL_OPENSSL ? &row->ossl : &row->p11;
    unsigned int nt = row->threads > 0 ? row->threads : 1;
    unsigned int started = 0;
    pthread_t th[MAX_THREADS];
    pthread_barrier_t bar;
    struct cell *c = &runs[0].cell;
    CK_RV rv = CKR_OK;

    if (nt > MAX_THREADS)
        nt = MAX_THREADS;
    if (m != NULL && m->why[0] != '\0') {
        snprintf(res.why, sizeof(res.why), "%s", m->why);
        return res;
    }
    memset(runs, 0, sizeof(runs));
    c->row = row;
    c->m = m;
    c->s = c->pub = c->priv = CK_INVALID_HANDLE;
    for (size_t i = 0; i < BULK_LEN; i++)
        c->msg[i] = (unsigned char)(i * 131 + 7);
    if (m != NULL && (rv = open_session(c)) != CKR_OK)
        goto out;
    if (im->setup != NULL && (rv = im->setup(c)) != CKR_OK)
        goto out;
    /* Each thread: a copy of the cell (same key, own IV space), and its
     * own session in a module column. */
    for (unsigned int i = 0; i < nt; i++) {
        if (i > 0) {
            runs[i].cell = *c;
            runs[i].cell.tid = i;
            runs[i].cell.s = CK_INVALID_HANDLE;
            if (m != NULL && (rv = open_session(&runs[i].cell)) != CKR_OK)
                goto out;
        }
        runs[i].op = im->op;
        runs[i].budget = g_budget * (row->budget_scale > 0 ? row->budget_scale : 1);
        runs[i].start = nt > 1 ? &bar : NULL;
    }
    if (nt == 1) {
        run_ops(&runs[0]);
    } else {
        pthread_barrier_init(&bar, NULL, nt);
        for (; started < nt; started++)
            if (pthread_create(&th[started], NULL, run_ops, &runs[started]) != 0) {
                perror("bench_mech: pthread_create");
                abort(); /* the barrier would wait forever */
            }
        for (unsigned int i = 0; i < started; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&bar);
    }
    res.ok = true;
    for (unsigned int i = 0; i < nt; i++) {
        if (runs[i].rv != CKR_OK) {
            rv = runs[i].rv;
            res.ok = false;
        }
        res.ops += runs[i].ops;
        res.rate += runs[i].secs > 0 ? (double)runs[i].ops / runs[i].secs : 0;
    }
out:
    if (rv != CKR_OK)
        fail(&res, col, rv);
    for (unsigned int i = 1; i < nt && m != NULL; i++)
        close_session(&runs[i].cell);
    if (im->teardown != NULL)
        im->teardown(c);
    if (m != NULL)
        close_session(c);
    return res;
}

/* ---- the rows ------------------------------------------------------------------ */

/* clang-format off */
static CK_ATTRIBUTE rsa_pub[] = {ATTR(CKA_TOKEN, no), ATTR(CKA_VERIFY, yes),
                                 ATTR(CKA_MODULUS_BITS, rsa_bits), ABUF(CKA_PUBLIC_EXPONENT, rsa_e)};
static CK_ATTRIBUTE ec_pub[] = {ATTR(CKA_TOKEN, no), ATTR(CKA_VERIFY, yes),
                                ABUF(CKA_EC_PARAMS, p256_oid)};
static CK_ATTRIBUTE sign_priv[] = {ATTR(CKA_TOKEN, no), ATTR(CKA_PRIVATE, yes),
                                   ATTR(CKA_SENSITIVE, yes), ATTR(CKA_SIGN, yes)};
static CK_ATTRIBUTE aes_secret[] = {ATTR(CKA_TOKEN, no), ATTR(CKA_PRIVATE, yes),
                                    ATTR(CKA_SENSITIVE, yes), ATTR(CKA_VALUE_LEN, aes_len),
                                    ATTR(CKA_ENCRYPT, yes), ATTR(CKA_DECRYPT, yes)};

static const struct keyspec rsa2048 = {CKM_RSA_PKCS_KEY_PAIR_GEN, rsa_pub, N(rsa_pub), sign_priv,
                                       N(sign_priv), "RSA", 2048, NULL};
static const struct keyspec p256 = {CKM_EC_KEY_PAIR_GEN, ec_pub, N(ec_pub), sign_priv,
                                    N(sign_priv), "EC", 0, "P-256"};
static const struct keyspec aes256 = {CKM_AES_KEY_GEN, NULL, 0, aes_secret, N(aes_secret),
                                      NULL, 0, NULL};

/* Post-quantum keys: CKA_PARAMETER_SET in the public template. */
static CK_ULONG set_mlkem768 = CKP_ML_KEM_768, set_mldsa65 = CKP_ML_DSA_65,
                set_slh128s = CKP_SLH_DSA_SHA2_128S;
static CK_ATTRIBUTE mlkem_pub[] = {ATTR(CKA_TOKEN, no), ATTR(CKA_ENCAPSULATE, yes),
                                   ATTR(CKA_PARAMETER_SET, set_mlkem768)};
static CK_ATTRIBUTE mlkem_priv[] = {ATTR(CKA_TOKEN, no), ATTR(CKA_PRIVATE, yes),
                                    ATTR(CKA_SENSITIVE, yes), ATTR(CKA_DECAPSULATE, yes)};
static CK_ATTRIBUTE mldsa_pub[] = {ATTR(CKA_TOKEN, no), ATTR(CKA_VERIFY, yes),
                                   ATTR(CKA_PARAMETER_SET, set_mldsa65)};
static CK_ATTRIBUTE slh_pub[] = {ATTR(CKA_TOKEN, no), ATTR(CKA_VERIFY, yes),
                                 ATTR(CKA_PARAMETER_SET, set_slh128s)};

static const struct keyspec mlkem768 = {CKM_ML_KEM_KEY_PAIR_GEN, mlkem_pub, N(mlkem_pub),
                                        mlkem_priv, N(mlkem_priv), "ML-KEM-768", 0, NULL};
static const struct keyspec mldsa65 = {CKM_ML_DSA_KEY_PAIR_GEN, mldsa_pub, N(mldsa_pub),
                                       sign_priv, N(sign_priv), "ML-DSA-65", 0, NULL};
static const struct keyspec slh128s = {CKM_SLH_DSA_KEY_PAIR_GEN, slh_pub, N(slh_pub), sign_priv,
                                       N(sign_priv), "SLH-DSA-SHA2-128s", 0, NULL};

#define SIGN                                                                                 \
    .p11 = {p11_setup_signed, p11_sign, p11_teardown},                                       \
    .ossl = {ossl_setup_signed, ossl_sign, ossl_teardown}
#define VERIFY                                                                               \
    .p11 = {p11_setup_signed, p11_verify, p11_teardown},                                     \
    .ossl = {ossl_setup_signed, ossl_verify, ossl_teardown}
#define KEYGEN .p11 = {NULL, p11_keygen, p11_teardown}, .ossl = {NULL, ossl_keygen, NULL}
#define MSG_SIGN                                                                             \
    .p11 = {p11_setup_signed, p11_sign, p11_teardown},                                       \
    .ossl = {ossl_setup_msg_signed, ossl_msg_sign, ossl_teardown}
#define MSG_VERIFY                                                                           \
    .p11 = {p11_setup_signed, p11_verify, p11_teardown},                                     \
    .ossl = {ossl_setup_msg_signed, ossl_msg_verify, ossl_teardown}

/* A new row: a keyspec, and op functions where these do not fit. */
static const struct row rows[] = {
    {"RSA-2048 PKCS#1 v1.5 SHA-256 sign (32 B)", &rsa2048, CKM_SHA256_RSA_PKCS, EVP_sha256, SIGN},
    {"RSA-2048 PKCS#1 v1.5 SHA-256 verify (32 B)", &rsa2048, CKM_SHA256_RSA_PKCS, EVP_sha256,
     VERIFY},
    {"ECDSA P-256 sign (32-byte hash)", &p256, CKM_ECDSA, NULL, SIGN},
    {"ECDSA P-256 verify (32-byte hash)", &p256, CKM_ECDSA, NULL, VERIFY},
    {"AES-256-GCM encrypt 4 KiB", &aes256, CKM_AES_GCM, NULL,
     .p11 = {p11_setup_sealed, p11_encrypt, p11_teardown},
     .ossl = {ossl_setup_sealed, ossl_encrypt, ossl_teardown}},
    {"AES-256-GCM decrypt 4 KiB", &aes256, CKM_AES_GCM, NULL,
     .p11 = {p11_setup_sealed, p11_decrypt, p11_teardown},
     .ossl = {ossl_setup_sealed, ossl_decrypt, ossl_teardown}},
    {"SHA-256 4 KiB", NULL, CKM_SHA256, EVP_sha256, .p11 = {NULL, p11_digest, NULL},
     .ossl = {NULL, ossl_digest, NULL}},
    /* A few per second, each a random prime search: three budgets. */
    {"RSA-2048 key pair generation", &rsa2048, CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, KEYGEN,
     .budget_scale = 3},
    {"EC P-256 key pair generation", &p256, CKM_EC_KEY_PAIR_GEN, NULL, KEYGEN},
    {"AES-256 key generation", &aes256, CKM_AES_KEY_GEN, NULL, KEYGEN},
    {"ECDSA P-256 sign, 2 threads (total)", &p256, CKM_ECDSA, NULL, SIGN, .threads = 2},
    /* Post-quantum (PKCS#11 3.2; SoftHSM 2.6 has none of them). */
    {"ML-KEM-768 encapsulate", &mlkem768, CKM_ML_KEM, NULL,
     .p11 = {p11_setup_encap, p11_encap, p11_teardown},
     .ossl = {ossl_setup_encap, ossl_encap, ossl_teardown}},
    {"ML-KEM-768 decapsulate", &mlkem768, CKM_ML_KEM, NULL,
     .p11 = {p11_setup_encap, p11_decap, p11_teardown},
     .ossl = {ossl_setup_encap, ossl_decap, ossl_teardown}},
    {"ML-DSA-65 sign (32 B)", &mldsa65, CKM_ML_DSA, NULL, MSG_SIGN},
    {"ML-DSA-65 verify (32 B)", &mldsa65, CKM_ML_DSA, NULL, MSG_VERIFY},
    /* A few signatures per second: three budgets. */
    {"SLH-DSA-SHA2-128s sign (32 B)", &slh128s, CKM_SLH_DSA, NULL, MSG_SIGN, .budget_scale = 3},
    {"SLH-DSA-SHA2-128s verify (32 B)", &slh128s, CKM_SLH_DSA, NULL, MSG_VERIFY},
    {"ML-DSA-65 key pair generation", &mldsa65, CKM_ML_DSA_KEY_PAIR_GEN, NULL, KEYGEN},
};
/* clang-format on */

/* ---- output ------------------------------------------------------------------- */

static void trim_copy(char *dst, size_t len, const CK_UTF8CHAR *src, size_t n)
{
    while (n > 0 && src[n - 1] == ' ')
        n--;
    snprintf(dst, len, "%.*s", (int)n, (const char *)src);
}

static void print_module(const struct module *m)
{
    CK_INFO info;
    char man[40], desc[40];
    if (m->f == NULL || !m->initialized || m->f->C_GetInfo(&info) != CKR_OK) {
        printf("- %s: %s (%s)\n", m->title, m->path, m->why);
        return;
    }
    trim_copy(man, sizeof(man), info.manufacturerID, sizeof(info.manufacturerID));
    trim_copy(desc, sizeof(desc), info.libraryDescription, sizeof(info.libraryDescription));
    printf("- %s: %s (%s, %s %u.%u)%s%s\n", m->title, m->path, man, desc, info.libraryVersion.major,
           info.libraryVersion.minor, m->why[0] ? " " : "", m->why);
}

static void print_facts(const struct module *mods)
{
    char line[256], cpu[128] = "unknown";
    struct utsname u;
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
            snprintf(cpu, sizeof(cpu), "%s", colon + 2);
            cpu[strcspn(cpu, "\n")] = '\0';
            break;
        }
    }
    if (f != NULL)
        fclose(f);
    printf("## bench_mech\n\n");
    printf("- machine: %ld online CPUs (nproc), %s", sysconf(_SC_NPROCESSORS_ONLN), cpu);
    if (uname(&u) == 0)
        printf(", %s %s", u.sysname, u.release);
    printf("\n- OpenSSL column: %s (in process)\n", OpenSSL_version(OPENSSL_VERSION));
    /* The libcrypto SoftHSM brought in, if any (ours keeps its own hidden). */
    void *lc = dlopen("libcrypto.so.3", RTLD_LAZY | RTLD_NOLOAD);
    if (lc != NULL) {
        const char *(*ver)(int) = (const char *(*)(int))dlsym(lc, "OpenSSL_version");
        if (ver != NULL)
            printf("- shared libcrypto.so.3 (SoftHSM's): %s\n", ver(OPENSSL_VERSION));
        dlclose(lc);
    }
    for (int i = 0; i < 2; i++)
        print_module(&mods[i]);
    printf("- budget: %.2f s per cell after a %.2f s warm-up; ops/s (higher is better)\n\n",
           g_budget, g_budget * WARMUP_SHARE);
}

static void format_rate(char *buf, size_t len, const struct result *r)
{
    if (!r->ok)
        snprintf(buf, len, "%s", r->why);
    else if (r->rate >= 100)
        snprintf(buf, len, "%.0f", r->rate);
    else
        snprintf(buf, len, "%.1f (%lu op%s)", r->rate, r->ops, r->ops == 1 ? "" : "s");
}

static void format_ratio(char *buf, size_t len, const struct result *a, const struct result *b)
{
    if (a->ok && b->ok && b->rate > 0)
        snprintf(buf, len, "%.2f", a->rate / b->rate);
    else
        snprintf(buf, len, "n/a");
}

/* The cost of the audit log (log_level "all": every key use is a record):
 * the rows that use a key on the hot path, ours with the default audit
 * and ours (a private copy of the module) with [audit] enabled = false,
 * measured back to back. */
static void audit_overhead(struct module *ours, const char *only)
{
    static const char *const picks[] = {"AES-256-GCM", "ECDSA P-256 sign", "ECDSA P-256 verify"};
    struct module off = {.title = "ours, audit off", .audit_off = true};
    char r_on[48], r_off[48], ratio[16];
    if (ours->why[0] != '\0' || (only != NULL && *only != '\0'))
        return;
    if (module_open(&off, "CRATON_MODULE", "build/lib/libcraton_hsm.so", ours) != 0 ||
        off.why[0] != '\0') {
        fprintf(stderr, "bench_mech: no audit-off module: %s\n", off.why);
        module_close(&off);
        return;
    }
    printf("\n### Audit overhead (ours, [audit] log_level = \"all\" vs enabled = false)\n\n");
    printf("| row | audit on ops/s | audit off ops/s | on/off |\n|---|---:|---:|---:|\n");
    for (size_t i = 0; i < N(rows); i++) {
        bool pick = false;
        for (size_t j = 0; j < N(picks); j++)
            pick = pick || strstr(rows[i].name, picks[j]) != NULL;
        if (!pick)
            continue;
        struct result on = run_cell(&rows[i], COL_OURS, ours);
        struct result without = run_cell(&rows[i], COL_OURS, &off);
        format_rate(r_on, sizeof(r_on), &on);
        format_rate(r_off, sizeof(r_off), &without);
        format_ratio(ratio, sizeof(ratio), &on, &without);
        printf("| %s | %s | %s | %s |\n", rows[i].name, r_on, r_off, ratio);
        fflush(stdout);
    }
    module_close(&off);
}

int main(void)
{
    struct module mods[2] = {{.title = "ours"}, {.title = "SoftHSM"}};
    const char *b = getenv("BENCH_SECONDS"), *only = getenv("BENCH_ROWS");
    char rate[NCOLS][48], r1[16], r2[16];
    int status = 0;

    if (b != NULL && *b != '\0') {
        char *end;
        double v = strtod(b, &end);
        if (*end == '\0' && v > 0)
            g_budget = v;
        else
            fprintf(stderr, "bench_mech: BENCH_SECONDS=%s ignored\n", b);
    }
    if (module_open(&mods[0], "CRATON_MODULE", "build/lib/libcraton_hsm.so", NULL) != 0 ||
        module_open(&mods[1], "SOFTHSM_MODULE", "/usr/lib/softhsm/libsofthsm2.so", &mods[0]) != 0) {
        status = 1;
        goto out;
    }
    print_facts(mods);
    printf("| row | ours ops/s | SoftHSM ops/s | OpenSSL ops/s | ours/SoftHSM | ours/OpenSSL |\n");
    printf("|---|---:|---:|---:|---:|---:|\n");
    fflush(stdout);
    for (size_t i = 0; i < N(rows); i++) {
        struct result res[NCOLS];
        if (only != NULL && strstr(rows[i].name, only) == NULL)
            continue;
        for (int col = 0; col < NCOLS; col++) {
            res[col] = run_cell(&rows[i], (enum column)col, col == COL_OPENSSL ? NULL : &mods[col]);
            format_rate(rate[col], sizeof(rate[col]), &res[col]);
        }
        format_ratio(r1, sizeof(r1), &res[COL_OURS], &res[COL_SOFTHSM]);
        format_ratio(r2, sizeof(r2), &res[COL_OURS], &res[COL_OPENSSL]);
        printf("| %s | %s | %s | %s | %s | %s |\n", rows[i].name, rate[COL_OURS], rate[COL_SOFTHSM],
               rate[COL_OPENSSL], r1, r2);
        fflush(stdout);
    }
    audit_overhead(&mods[0], only);
out:
    module_close(&mods[1]);
    module_close(&mods[0]);
    return status;
}
