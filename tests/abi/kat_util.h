/* Helpers of the known-answer tests (test_kat_*.c): vectors from
 * $CRATON_VECTORS read with jansson, the module under test ($CRATON_MODULE:
 * ours, or SoftHSMv2 to check the tests themselves) with an initialised
 * token and a logged-in user session, and a tally that reports the first few
 * mismatches of a family and fails it at the end.
 *
 * Shared by several test files: add to it, do not change what is here. */
#ifndef CRATON_TESTS_ABI_KAT_UTIL_H
#define CRATON_TESTS_ABI_KAT_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "abi_util.h"

#define KAT_SO_PIN     "12345678"
#define KAT_USER_PIN   "87654321"
#define KAT_MAX_REPORT 5   /* mismatches printed per family */
#define KAT_MAX_MECHS  64  /* mechanisms remembered as checked */
#define KAT_NOTES      768 /* bytes of skip notes per family */

#define KAT_N(a) ((CK_ULONG)(sizeof(a) / sizeof((a)[0])))

/* ---- the module and its session ------------------------------------------ */

struct kat_env {
    struct abi a;            /* a.dir: the scratch directory */
    CK_FUNCTION_LIST_3_2 *f; /* SoftHSM: its 2.40 list, only 2.40 calls are made */
    CK_SLOT_ID slot;         /* the initialised token */
    CK_SESSION_HANDLE s;     /* R/W, user logged in */
    bool softhsm;            /* basename of $CRATON_MODULE contains "softhsm" */
    bool allow_skip;         /* softhsm and KAT_ALLOW_SKIP=1 */
};

__attribute__((unused)) static struct kat_env KAT;

static inline bool kat_is_softhsm(const char *path)
{
    const char *base = strrchr(path, '/');
    return strstr(base != NULL ? base + 1 : path, "softhsm") != NULL;
}

/* SoftHSMv2: a scratch directory with softhsm2.conf and an empty token
 * directory (SOFTHSM2_CONF names it); the module through C_GetFunctionList,
 * as SoftHSM 2.6 has no C_GetInterface. */
static inline int kat_open_softhsm(struct kat_env *e)
{
    char path[PATH_MAX + 32];
    snprintf(e->a.dir, sizeof(e->a.dir), "/tmp/craton-kat-XXXXXX");
    if (mkdtemp(e->a.dir) == NULL || chdir(e->a.dir) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/tokens", e->a.dir);
    if (mkdir(path, 0700) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/softhsm2.conf", e->a.dir);
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        return -1;
    fprintf(fp, "directories.tokendir = %s/tokens\nobjectstore.backend = file\n", e->a.dir);
    fclose(fp);
    setenv("SOFTHSM2_CONF", path, 1);
    e->a.dl = dlopen(abi_module_path(), RTLD_NOW | RTLD_LOCAL);
    if (e->a.dl == NULL) {
        fprintf(stderr, "dlopen %s: %s\n", abi_module_path(), dlerror());
        return -1;
    }
    CK_C_GetFunctionList gfl = (CK_C_GetFunctionList)dlsym(e->a.dl, "C_GetFunctionList");
    CK_FUNCTION_LIST_PTR list = NULL;
    if (gfl == NULL || gfl(&list) != CKR_OK)
        return -1;
    /* The 3.x lists begin with the 2.40 one. */
    e->a.f = (CK_FUNCTION_LIST_3_2 *)(void *)list;
    return 0;
}

/* Opens the module, initialises the token of the first slot with a user PIN
 * and leaves a R/W session with the user logged in.  SoftHSM renumbers an
 * initialised token: its slot is found again among the slots with a token. */
static inline int kat_setup_env(struct kat_env *e)
{
    static const CK_UTF8CHAR label[32] = "Craton KAT                      ";
    CK_SLOT_ID slots[16];
    CK_ULONG n = KAT_N(slots);
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    const char *skip = getenv("KAT_ALLOW_SKIP");

    memset(e, 0, sizeof(*e));
    e->softhsm = kat_is_softhsm(abi_module_path());
    e->allow_skip = e->softhsm && skip != NULL && strcmp(skip, "1") == 0;
    if (e->softhsm ? kat_open_softhsm(e) != 0
                   : abi_scratch(&e->a, ABI_FAST_CONFIG) != 0 || abi_open(&e->a) != 0)
        return -1;
    e->f = e->a.f;
    if (e->f->C_Initialize(NULL) != CKR_OK || e->f->C_GetSlotList(CK_FALSE, slots, &n) != CKR_OK ||
        n == 0)
        return -1;
    e->slot = slots[0];
    if (e->f->C_InitToken(e->slot, (CK_UTF8CHAR_PTR)KAT_SO_PIN, 8, (CK_UTF8CHAR_PTR)label) !=
        CKR_OK)
        return -1;
    if (e->softhsm) {
        n = KAT_N(slots);
        if (e->f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
            return -1;
        for (CK_ULONG i = 0; i < n; i++) {
            CK_TOKEN_INFO ti;
            if (e->f->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
                (ti.flags & CKF_TOKEN_INITIALIZED) != 0 && memcmp(ti.label, label, 32) == 0)
                e->slot = slots[i];
        }
    }
    if (e->f->C_OpenSession(e->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s) !=
            CKR_OK ||
        e->f->C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR)KAT_SO_PIN, 8) != CKR_OK ||
        e->f->C_InitPIN(s, (CK_UTF8CHAR_PTR)KAT_USER_PIN, 8) != CKR_OK ||
        e->f->C_Logout(s) != CKR_OK ||
        e->f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)KAT_USER_PIN, 8) != CKR_OK)
        return -1;
    e->s = s;
    return 0;
}

static inline void kat_teardown_env(struct kat_env *e)
{
    if (e->f != NULL)
        e->f->C_Finalize(NULL);
    abi_close(&e->a);
    abi_rm_scratch(&e->a);
    e->f = NULL;
}

/* cmocka group fixture on the global KAT. */
static inline int kat_group_setup(void **state)
{
    (void)state;
    if (getenv("CRATON_VECTORS") == NULL) {
        fprintf(stderr, "CRATON_VECTORS is not set\n");
        return -1;
    }
    return kat_setup_env(&KAT);
}

static inline int kat_group_teardown(void **state)
{
    (void)state;
    kat_teardown_env(&KAT);
    return 0;
}

/* ---- vectors ---------------------------------------------------------------- */

/* $CRATON_VECTORS/rel parsed; fails the test when absent or malformed. */
static inline json_t *kat_load(const char *rel)
{
    char path[PATH_MAX];
    json_error_t err;
    const char *dir = getenv("CRATON_VECTORS");
    assert_non_null(dir);
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    json_t *root = json_load_file(path, 0, &err);
    if (root == NULL)
        fail_msg("%s: %s (line %d)", path, err.text, err.line);
    return root;
}

/* Hex (either case) to bytes: a malloc'ed buffer (at least one byte, so
 * an empty string gives a valid pointer) or NULL when not hex. */
static inline unsigned char *kat_unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    unsigned char *out = malloc(n / 2 + 1);
    assert_non_null(out);
    *len = 0;
    if (n % 2 != 0)
        goto bad;
    for (size_t i = 0; i < n; i += 2) {
        unsigned v = 0;
        for (size_t j = 0; j < 2; j++) {
            char c = hex[i + j];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= (unsigned)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v |= (unsigned)(c - 'A' + 10);
            else
                goto bad;
        }
        out[i / 2] = (unsigned char)v;
    }
    *len = n / 2;
    return out;
bad:
    free(out);
    return NULL;
}

static inline const char *kat_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static inline long kat_int(const json_t *o, const char *key)
{
    return (long)json_integer_value(json_object_get(o, key));
}

static inline bool kat_bool(const json_t *o, const char *key)
{
    return json_is_true(json_object_get(o, key));
}

/* Hex field key of o as bytes (see kat_unhex); NULL when absent. */
static inline unsigned char *kat_hexfield(const json_t *o, const char *key, size_t *len)
{
    const char *h = kat_str(o, key);
    *len = 0;
    return h != NULL ? kat_unhex(h, len) : NULL;
}

/* Like kat_hexfield but the field must be there and be hex. */
static inline unsigned char *kat_hexreq(const json_t *o, const char *key, size_t *len)
{
    unsigned char *p = kat_hexfield(o, key, len);
    if (p == NULL)
        fail_msg("vector field %s missing or not hex", key);
    return p;
}

/* A Wycheproof "flags" array contains flag? */
static inline bool kat_has_flag(const json_t *test, const char *flag)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(test, "flags"), i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), flag) == 0)
            return true;
    }
    return false;
}

/* ---- return values ---------------------------------------------------------- */

static inline const char *kat_rv_name(CK_RV rv)
{
    static char buf[24];
    switch (rv) {
#define KAT_RV(x) \
    case x:       \
        return #x;
        KAT_RV(CKR_OK)
        KAT_RV(CKR_HOST_MEMORY)
        KAT_RV(CKR_GENERAL_ERROR)
        KAT_RV(CKR_FUNCTION_FAILED)
        KAT_RV(CKR_ARGUMENTS_BAD)
        KAT_RV(CKR_ATTRIBUTE_READ_ONLY)
        KAT_RV(CKR_ATTRIBUTE_SENSITIVE)
        KAT_RV(CKR_ATTRIBUTE_TYPE_INVALID)
        KAT_RV(CKR_ATTRIBUTE_VALUE_INVALID)
        KAT_RV(CKR_DATA_INVALID)
        KAT_RV(CKR_DATA_LEN_RANGE)
        KAT_RV(CKR_DEVICE_ERROR)
        KAT_RV(CKR_DOMAIN_PARAMS_INVALID)
        KAT_RV(CKR_CURVE_NOT_SUPPORTED)
        KAT_RV(CKR_ENCRYPTED_DATA_INVALID)
        KAT_RV(CKR_ENCRYPTED_DATA_LEN_RANGE)
        KAT_RV(CKR_FUNCTION_NOT_SUPPORTED)
        KAT_RV(CKR_KEY_HANDLE_INVALID)
        KAT_RV(CKR_KEY_SIZE_RANGE)
        KAT_RV(CKR_KEY_TYPE_INCONSISTENT)
        KAT_RV(CKR_KEY_FUNCTION_NOT_PERMITTED)
        KAT_RV(CKR_MECHANISM_INVALID)
        KAT_RV(CKR_MECHANISM_PARAM_INVALID)
        KAT_RV(CKR_OPERATION_ACTIVE)
        KAT_RV(CKR_OPERATION_NOT_INITIALIZED)
        KAT_RV(CKR_SIGNATURE_INVALID)
        KAT_RV(CKR_SIGNATURE_LEN_RANGE)
        KAT_RV(CKR_TEMPLATE_INCOMPLETE)
        KAT_RV(CKR_TEMPLATE_INCONSISTENT)
        KAT_RV(CKR_USER_NOT_LOGGED_IN)
        KAT_RV(CKR_BUFFER_TOO_SMALL)
#undef KAT_RV
    default:
        snprintf(buf, sizeof(buf), "CKR_0x%lx", (unsigned long)rv);
        return buf;
    }
}

/* ---- the tally of one family ------------------------------------------------ */

struct kat {
    const char *name;
    unsigned vectors; /* test vectors read */
    unsigned checks;  /* module results compared with the expected one */
    unsigned failed;  /* checks that did not match */
    unsigned skipped; /* checks not run: unsupported by SoftHSM (KAT_ALLOW_SKIP) */
    unsigned na;      /* vectors with no PKCS#11 equivalent (see notes) */
    CK_MECHANISM_TYPE mech_seen[KAT_MAX_MECHS];
    bool mech_ok[KAT_MAX_MECHS];
    unsigned nmech;
    char notes[KAT_NOTES];
};

static inline void kat_begin(struct kat *k, const char *name)
{
    memset(k, 0, sizeof(*k));
    k->name = name;
}

/* Appends text to the notes once. */
static inline void kat_note(struct kat *k, const char *text)
{
    size_t used = strlen(k->notes);
    if (strstr(k->notes, text) != NULL || used + strlen(text) + 3 >= sizeof(k->notes))
        return;
    snprintf(k->notes + used, sizeof(k->notes) - used, "%s%s", used > 0 ? "; " : "", text);
}

/* One check that did not match: the first KAT_MAX_REPORT are printed
 * (tc < 0: not about one test case). */
__attribute__((format(printf, 4, 5))) static inline void kat_fail(struct kat *k, const char *src,
                                                                  long tc, const char *fmt, ...)
{
    k->checks++;
    if (k->failed++ >= KAT_MAX_REPORT)
        return;
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (tc < 0)
        print_message("# %s: %s: %s\n", k->name, src, msg);
    else
        print_message("# %s: %s tcId %ld: %s\n", k->name, src, tc, msg);
}

static inline void kat_pass(struct kat *k)
{
    k->checks++;
}

/* A check not run because the module (SoftHSM) lacks what it needs. */
static inline void kat_skip(struct kat *k, const char *why)
{
    k->skipped++;
    kat_note(k, why);
}

/* Vectors that have no PKCS#11 counterpart, counted and explained. */
static inline void kat_na(struct kat *k, unsigned n, const char *why)
{
    k->na += n;
    kat_note(k, why);
}

/* Prints the counts; fails on any mismatch, and when nothing could be run
 * (a skip only with KAT_ALLOW_SKIP). */
static inline void kat_end(struct kat *k)
{
    print_message("# %s: %u vectors, %u checks, %u failed, %u skipped, %u not applicable%s%s\n",
                  k->name, k->vectors, k->checks, k->failed, k->skipped, k->na,
                  k->notes[0] != '\0' ? " -- " : "", k->notes);
    if (k->failed > 0)
        fail_msg("%s: %u of %u checks failed", k->name, k->failed, k->checks);
    if (k->checks == 0 && k->skipped > 0 && KAT.allow_skip)
        skip();
    if (k->checks == 0)
        fail_msg("%s: no check ran", k->name);
}

/* Is rv SoftHSM telling us it lacks a mechanism, parameter, key type or
 * curve, and may the check be skipped for it (KAT_ALLOW_SKIP=1)? */
static inline bool kat_unsupported(CK_RV rv)
{
    if (!KAT.allow_skip)
        return false;
    switch (rv) {
    case CKR_MECHANISM_INVALID:
    case CKR_MECHANISM_PARAM_INVALID:
    case CKR_ARGUMENTS_BAD: /* SoftHSM: parameters it does not implement */
    case CKR_KEY_TYPE_INCONSISTENT:
    case CKR_CURVE_NOT_SUPPORTED:
    case CKR_DOMAIN_PARAMS_INVALID:
    case CKR_ATTRIBUTE_VALUE_INVALID:
    case CKR_ATTRIBUTE_TYPE_INVALID:
    case CKR_TEMPLATE_INCONSISTENT:
    case CKR_FUNCTION_NOT_SUPPORTED:
        return true;
    default:
        return false;
    }
}

/* Does the token list mechanism m (asked once per family)?  When it does
 * not, the n checks that need it are skipped with KAT_ALLOW_SKIP, else
 * failed (reported the first time).  Returns whether they may go on. */
static inline bool kat_mech(struct kat *k, CK_MECHANISM_TYPE m, const char *mname, unsigned n)
{
    unsigned i;
    char why[96];
    for (i = 0; i < k->nmech && k->mech_seen[i] != m; i++)
        ;
    bool first = i == k->nmech;
    if (first) {
        CK_MECHANISM_INFO info;
        assert_true(k->nmech < KAT_MAX_MECHS);
        k->mech_seen[i] = m;
        k->mech_ok[i] = KAT.f->C_GetMechanismInfo(KAT.slot, m, &info) == CKR_OK;
        k->nmech++;
    }
    if (k->mech_ok[i])
        return true;
    snprintf(why, sizeof(why), "no %s mechanism", mname);
    for (unsigned j = 0; j < n; j++) {
        if (KAT.allow_skip) {
            kat_skip(k, why);
        } else if (first && j == 0) {
            kat_fail(k, mname, -1, "mechanism 0x%lx not supported", (unsigned long)m);
        } else {
            k->checks++;
            k->failed++;
        }
    }
    return false;
}

/* ---- objects ---------------------------------------------------------------- */

__attribute__((unused)) static CK_BBOOL kat_true = CK_TRUE, kat_false = CK_FALSE;

/* C_CreateObject of a session object from template t[0..n). */
static inline CK_RV kat_create(CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_HANDLE *h)
{
    *h = CK_INVALID_HANDLE;
    return KAT.f->C_CreateObject(KAT.s, t, n, h);
}

static inline void kat_destroy(CK_OBJECT_HANDLE h)
{
    if (h != CK_INVALID_HANDLE)
        assert_int_equal(KAT.f->C_DestroyObject(KAT.s, h), CKR_OK);
}

/* A big-endian integer without its leading zero bytes (at least one byte). */
static inline void kat_strip(const unsigned char **p, size_t *n)
{
    while (*n > 1 && (*p)[0] == 0) {
        (*p)++;
        (*n)--;
    }
}

/* ---- hashes ------------------------------------------------------------------ */

/* One hash under its ACVP and Wycheproof names, with the PKCS#11 mechanisms
 * that combine it with RSA and ECDSA (0: none in PKCS#11 3.2). */
struct kat_hash {
    const char *acvp, *wycheproof, *ossl;
    size_t len;                 /* output bytes (SHAKE: as FIPS 186-5 uses it) */
    CK_MECHANISM_TYPE digest;   /* CKM_SHA256 ... ; 0 for SHAKE */
    CK_RSA_PKCS_MGF_TYPE mgf;   /* CKG_MGF1_*; 0: none */
    CK_MECHANISM_TYPE rsa_pkcs; /* CKM_SHA256_RSA_PKCS ... */
    CK_MECHANISM_TYPE rsa_pss;  /* CKM_SHA256_RSA_PKCS_PSS ... */
    CK_MECHANISM_TYPE ecdsa;    /* CKM_ECDSA_SHA256 ... */
};

// clang-format off
__attribute__((unused)) static const struct kat_hash kat_hashes[] = {
    {"SHA-1", "SHA-1", "SHA1", 20, CKM_SHA_1, CKG_MGF1_SHA1, CKM_SHA1_RSA_PKCS,
     CKM_SHA1_RSA_PKCS_PSS, CKM_ECDSA_SHA1},
    {"SHA2-224", "SHA-224", "SHA2-224", 28, CKM_SHA224, CKG_MGF1_SHA224, CKM_SHA224_RSA_PKCS,
     CKM_SHA224_RSA_PKCS_PSS, CKM_ECDSA_SHA224},
    {"SHA2-256", "SHA-256", "SHA2-256", 32, CKM_SHA256, CKG_MGF1_SHA256, CKM_SHA256_RSA_PKCS,
     CKM_SHA256_RSA_PKCS_PSS, CKM_ECDSA_SHA256},
    {"SHA2-384", "SHA-384", "SHA2-384", 48, CKM_SHA384, CKG_MGF1_SHA384, CKM_SHA384_RSA_PKCS,
     CKM_SHA384_RSA_PKCS_PSS, CKM_ECDSA_SHA384},
    {"SHA2-512", "SHA-512", "SHA2-512", 64, CKM_SHA512, CKG_MGF1_SHA512, CKM_SHA512_RSA_PKCS,
     CKM_SHA512_RSA_PKCS_PSS, CKM_ECDSA_SHA512},
    {"SHA2-512/224", "SHA-512/224", "SHA2-512/224", 28, CKM_SHA512_224, 0, 0, 0, 0},
    {"SHA2-512/256", "SHA-512/256", "SHA2-512/256", 32, CKM_SHA512_256, 0, 0, 0, 0},
    {"SHA3-224", "SHA3-224", "SHA3-224", 28, CKM_SHA3_224, CKG_MGF1_SHA3_224,
     CKM_SHA3_224_RSA_PKCS, CKM_SHA3_224_RSA_PKCS_PSS, CKM_ECDSA_SHA3_224},
    {"SHA3-256", "SHA3-256", "SHA3-256", 32, CKM_SHA3_256, CKG_MGF1_SHA3_256,
     CKM_SHA3_256_RSA_PKCS, CKM_SHA3_256_RSA_PKCS_PSS, CKM_ECDSA_SHA3_256},
    {"SHA3-384", "SHA3-384", "SHA3-384", 48, CKM_SHA3_384, CKG_MGF1_SHA3_384,
     CKM_SHA3_384_RSA_PKCS, CKM_SHA3_384_RSA_PKCS_PSS, CKM_ECDSA_SHA3_384},
    {"SHA3-512", "SHA3-512", "SHA3-512", 64, CKM_SHA3_512, CKG_MGF1_SHA3_512,
     CKM_SHA3_512_RSA_PKCS, CKM_SHA3_512_RSA_PKCS_PSS, CKM_ECDSA_SHA3_512},
    {"SHAKE-128", "SHAKE128", "SHAKE-128", 32, 0, 0, 0, 0, 0},
    {"SHAKE-256", "SHAKE256", "SHAKE-256", 64, 0, 0, 0, 0, 0},
};
// clang-format on

/* The hash called name by ACVP or Wycheproof; NULL when unknown. */
static inline const struct kat_hash *kat_hash_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < KAT_N(kat_hashes); i++)
        if (strcmp(name, kat_hashes[i].acvp) == 0 || strcmp(name, kat_hashes[i].wycheproof) == 0)
            return &kat_hashes[i];
    return NULL;
}

/* out (h->len bytes) = h(msg) with OpenSSL. */
static inline void kat_digest(const struct kat_hash *h, const unsigned char *msg, size_t len,
                              unsigned char *out)
{
    EVP_MD *md = EVP_MD_fetch(NULL, h->ossl, NULL);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    assert_non_null(md);
    assert_non_null(c);
    bool xof = (EVP_MD_get_flags(md) & EVP_MD_FLAG_XOF) != 0;
    unsigned int olen = 0;
    assert_int_equal(EVP_DigestInit_ex(c, md, NULL), 1);
    assert_int_equal(EVP_DigestUpdate(c, msg, len), 1);
    if (xof)
        assert_int_equal(EVP_DigestFinalXOF(c, out, h->len), 1);
    else
        assert_int_equal(EVP_DigestFinal_ex(c, out, &olen), 1);
    assert_true(xof || olen == h->len);
    EVP_MD_CTX_free(c);
    EVP_MD_free(md);
}

/* ---- signatures ----------------------------------------------------------- */

/* C_VerifyInit + C_Verify. */
static inline CK_RV kat_verify_rv(CK_OBJECT_HANDLE key, CK_MECHANISM *m, const unsigned char *msg,
                                  size_t mlen, const unsigned char *sig, size_t slen)
{
    CK_RV rv = KAT.f->C_VerifyInit(KAT.s, m, key);
    if (rv != CKR_OK)
        return rv;
    return KAT.f->C_Verify(KAT.s, (CK_BYTE_PTR)msg, (CK_ULONG)mlen, (CK_BYTE_PTR)sig,
                           (CK_ULONG)slen);
}

/* C_SignInit + C_Sign into sig (*slen: its size in, the length out). */
static inline CK_RV kat_sign_rv(CK_OBJECT_HANDLE key, CK_MECHANISM *m, const unsigned char *msg,
                                size_t mlen, unsigned char *sig, size_t *slen)
{
    CK_ULONG l = (CK_ULONG)*slen;
    CK_RV rv = KAT.f->C_SignInit(KAT.s, m, key);
    if (rv != CKR_OK)
        return rv;
    rv = KAT.f->C_Sign(KAT.s, (CK_BYTE_PTR)msg, (CK_ULONG)mlen, sig, &l);
    *slen = l;
    return rv;
}

/* Expected outcome of a verification. */
enum kat_expect { KAT_INVALID = 0, KAT_VALID = 1, KAT_EITHER = 2 };

/* Wycheproof "result" / ACVP testPassed as an expectation. */
static inline enum kat_expect kat_expect_of(const json_t *test)
{
    const char *r = kat_str(test, "result");
    if (r != NULL)
        return strcmp(r, "valid") == 0        ? KAT_VALID
               : strcmp(r, "acceptable") == 0 ? KAT_EITHER
                                              : KAT_INVALID;
    return kat_bool(test, "testPassed") ? KAT_VALID : KAT_INVALID;
}

/* One verification with its expected outcome: valid -> CKR_OK, invalid ->
 * CKR_SIGNATURE_INVALID or CKR_SIGNATURE_LEN_RANGE, either -> one of those. */
static inline void kat_check_verify(struct kat *k, const char *src, long tc, enum kat_expect want,
                                    CK_OBJECT_HANDLE key, CK_MECHANISM *m, const unsigned char *msg,
                                    size_t mlen, const unsigned char *sig, size_t slen)
{
    CK_RV rv = kat_verify_rv(key, m, msg, mlen, sig, slen);
    bool rejected = rv == CKR_SIGNATURE_INVALID || rv == CKR_SIGNATURE_LEN_RANGE;
    if (kat_unsupported(rv)) {
        char why[96];
        snprintf(why, sizeof(why), "mechanism 0x%lx: %s", (unsigned long)m->mechanism,
                 kat_rv_name(rv));
        kat_skip(k, why);
    } else if (rv == CKR_OK ? want != KAT_INVALID : rejected && want != KAT_VALID) {
        kat_pass(k);
    } else {
        kat_fail(k, src, tc, "C_Verify (mechanism 0x%lx): %s, expected %s",
                 (unsigned long)m->mechanism, kat_rv_name(rv),
                 want == KAT_VALID     ? "CKR_OK"
                 : want == KAT_INVALID ? "CKR_SIGNATURE_INVALID/LEN_RANGE"
                                       : "CKR_OK or a rejection");
    }
}

/* ---- ACVP fields, secret keys (added with test_kat_sym.c) ------------------- */

/* o[key] is the string want. */
static inline bool kat_is(const json_t *o, const char *key, const char *want)
{
    const char *s = kat_str(o, key);
    return s != NULL && strcmp(s, want) == 0;
}

/* An ACVP test's testPassed; absent means true (expectedResults.json files
 * carry it only for the failures). */
static inline bool kat_passed(const json_t *t)
{
    return json_object_get(t, "testPassed") == NULL || kat_bool(t, "testPassed");
}

/* Test tcId of group tgId in an ACVP file (the expectedResults.json beside a
 * prompt.json); NULL when absent. */
static inline const json_t *kat_acvp_result(const json_t *root, long tg, long tc)
{
    size_t i, j;
    json_t *g, *t;
    json_array_foreach(json_object_get(root, "testGroups"), i, g)
    {
        if (kat_int(g, "tgId") != tg)
            continue;
        json_array_foreach(json_object_get(g, "tests"), j, t)
        {
            if (kat_int(t, "tcId") == tc)
                return t;
        }
    }
    return NULL;
}

/* Usages of a key made by kat_secret (bits). */
enum kat_use {
    KAT_U_ENCRYPT = 1 << 0,
    KAT_U_DECRYPT = 1 << 1,
    KAT_U_SIGN = 1 << 2,
    KAT_U_VERIFY = 1 << 3,
    KAT_U_WRAP = 1 << 4,
    KAT_U_UNWRAP = 1 << 5,
    KAT_U_DERIVE = 1 << 6,
    KAT_U_OPEN = 1 << 7, /* CKA_EXTRACTABLE true, CKA_SENSITIVE false */
};

__attribute__((unused)) static CK_OBJECT_CLASS kat_c_secret = CKO_SECRET_KEY;
__attribute__((unused)) static CK_KEY_TYPE kat_k_generic = CKK_GENERIC_SECRET;

/* A session secret key of type kt, value val (n bytes), usages use. */
static inline CK_RV kat_secret(CK_KEY_TYPE kt, const unsigned char *val, CK_ULONG n, unsigned use,
                               CK_OBJECT_HANDLE *h)
{
    static const CK_ATTRIBUTE_TYPE flag[] = {CKA_ENCRYPT, CKA_DECRYPT, CKA_SIGN,  CKA_VERIFY,
                                             CKA_WRAP,    CKA_UNWRAP,  CKA_DERIVE};
    CK_ATTRIBUTE t[16] = {
        {CKA_CLASS, &kat_c_secret, sizeof(kat_c_secret)},
        {CKA_KEY_TYPE, &kt, sizeof(kt)},
        {CKA_TOKEN, &kat_false, sizeof(CK_BBOOL)},
        {CKA_VALUE, (void *)val, n},
    };
    CK_ULONG c = 4;
    for (size_t i = 0; i < KAT_N(flag); i++)
        if (use & (1u << i))
            t[c++] = (CK_ATTRIBUTE){flag[i], &kat_true, sizeof(CK_BBOOL)};
    if (use & KAT_U_OPEN) {
        t[c++] = (CK_ATTRIBUTE){CKA_EXTRACTABLE, &kat_true, sizeof(CK_BBOOL)};
        t[c++] = (CK_ATTRIBUTE){CKA_SENSITIVE, &kat_false, sizeof(CK_BBOOL)};
    }
    return kat_create(t, c, h);
}

/* Template of a readable session generic secret made by the module
 * (C_UnwrapKey, C_DeriveKey, C_GenerateKey), with CKA_VALUE_LEN = *len
 * unless len is NULL.  Returns the count (t has room for 6). */
static inline CK_ULONG kat_open_template(CK_ATTRIBUTE t[6], CK_ULONG *len)
{
    CK_ULONG c = 0;
    t[c++] = (CK_ATTRIBUTE){CKA_CLASS, &kat_c_secret, sizeof(kat_c_secret)};
    t[c++] = (CK_ATTRIBUTE){CKA_KEY_TYPE, &kat_k_generic, sizeof(kat_k_generic)};
    t[c++] = (CK_ATTRIBUTE){CKA_TOKEN, &kat_false, sizeof(CK_BBOOL)};
    t[c++] = (CK_ATTRIBUTE){CKA_EXTRACTABLE, &kat_true, sizeof(CK_BBOOL)};
    t[c++] = (CK_ATTRIBUTE){CKA_SENSITIVE, &kat_false, sizeof(CK_BBOOL)};
    if (len != NULL)
        t[c++] = (CK_ATTRIBUTE){CKA_VALUE_LEN, len, sizeof(*len)};
    return c;
}

/* CKA_VALUE of h: *out is malloc'ed (the caller frees it; NULL on error). */
static inline CK_RV kat_value(CK_OBJECT_HANDLE h, unsigned char **out, CK_ULONG *len)
{
    CK_ATTRIBUTE a = {CKA_VALUE, NULL, 0};
    CK_RV rv = KAT.f->C_GetAttributeValue(KAT.s, h, &a, 1);
    *out = NULL;
    *len = 0;
    if (rv != CKR_OK)
        return rv;
    if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
        return CKR_ATTRIBUTE_SENSITIVE;
    a.pValue = malloc(a.ulValueLen + 1);
    if (a.pValue == NULL)
        return CKR_HOST_MEMORY;
    rv = KAT.f->C_GetAttributeValue(KAT.s, h, &a, 1);
    if (rv != CKR_OK) {
        free(a.pValue);
        return rv;
    }
    *out = a.pValue;
    *len = a.ulValueLen;
    return CKR_OK;
}

/* ---- one vector and its buffers (added with test_kat_sym.c) --------------- */

#define KAT_VEC_BUFS 48

/* One vector of a family (struct kat): where it comes from, for the
 * messages, and the buffers read or made for it, freed together. */
struct kat_vec {
    struct kat *k;
    const char *src; /* file of the vector */
    long tc;         /* its tcId */
    void *bufs[KAT_VEC_BUFS];
    unsigned n;
};

/* Frees the vector's buffers (also after the last vector). */
static inline void kat_vec_free(struct kat_vec *v)
{
    for (unsigned i = 0; i < v->n; i++)
        free(v->bufs[i]);
    v->n = 0;
}

/* Starts vector t of file src (the previous vector's buffers are freed). */
static inline void kat_vec_start(struct kat_vec *v, const char *src, const json_t *t)
{
    kat_vec_free(v);
    v->src = src;
    v->tc = kat_int(t, "tcId");
    v->k->vectors++;
}

/* p (malloc'ed, not NULL) becomes the vector's, freed with it. */
static inline unsigned char *kat_vec_keep(struct kat_vec *v, void *p)
{
    assert_non_null(p);
    assert_true(v->n < KAT_VEC_BUFS);
    v->bufs[v->n++] = p;
    return p;
}

/* n zero bytes owned by v (a valid pointer also for n = 0). */
static inline unsigned char *kat_vec_alloc(struct kat_vec *v, size_t n)
{
    return kat_vec_keep(v, calloc(1, n + 1));
}

/* One check of the vector: ok, or a failure described by fmt. */
__attribute__((format(printf, 3, 4))) static inline bool kat_check(struct kat_vec *v, bool ok,
                                                                   const char *fmt, ...)
{
    if (ok) {
        kat_pass(v->k);
        return true;
    }
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    kat_fail(v->k, v->src, v->tc, "%s", msg);
    return false;
}

/* Hex field key of o, owned by v; NULL (a failed check) when absent or not
 * hex. */
static inline unsigned char *kat_vec_hex(struct kat_vec *v, const json_t *o, const char *key,
                                         CK_ULONG *len)
{
    size_t n = 0;
    unsigned char *p = kat_hexfield(o, key, &n);
    *len = (CK_ULONG)n;
    if (p == NULL) {
        kat_check(v, false, "vector field %s missing or not hex", key);
        return NULL;
    }
    return kat_vec_keep(v, p);
}

/* a || b, the vector's. */
static inline unsigned char *kat_vec_cat(struct kat_vec *v, const unsigned char *a, CK_ULONG an,
                                         const unsigned char *b, CK_ULONG bn)
{
    unsigned char *out = kat_vec_alloc(v, an + bn);
    memcpy(out, a, an);
    memcpy(out + an, b, bn);
    return out;
}

/* A copy of a with the last bit flipped (a tampered MAC or tag). */
static inline unsigned char *kat_vec_flip(struct kat_vec *v, const unsigned char *a, CK_ULONG n)
{
    unsigned char *out = kat_vec_alloc(v, n);
    memcpy(out, a, n);
    if (n > 0)
        out[n - 1] ^= 1;
    return out;
}

#endif
