/*
 * Unit tests for src/mech/pqc_sig.c (ML-DSA, SLH-DSA), the post-quantum
 * part of src/object/keyexport.c and of mech_pairwise_check (keygen.c):
 *  - keyexport_attrs of OpenSSL-made ML-KEM / ML-DSA / SLH-DSA keys passes
 *    keyimport_check and key_build unchanged, for every parameter set;
 *  - key pair generation for every parameter set and its template errors;
 *  - known answers from NIST ACVP (tests/vectors/acvp, read from
 *    $CRATON_VECTORS): ML-DSA keyGen (CKA_SEED import; the keygen seed hook
 *    in test builds), ML-DSA and SLH-DSA sigGen through CKM_ML_DSA /
 *    CKM_SLH_DSA, CKM_HASH_*_<hash> and CKM_HASH_* (deterministic ones
 *    always, hedged ones with the test-entropy hooks), ML-DSA sigVer;
 *  - multi-part signing, hedging, cross-checks with OpenSSL EVP, bad
 *    parameters and the pairwise test refusing mismatched pairs.
 * SLH-DSA is slow (and a hundred times slower under valgrind): every run
 * covers SLH-DSA-SHA2-128f and -SHAKE-128f; the ten other SLH-DSA sets
 * (generation, export, keyGen KATs) and the 128s sigGen KATs run with
 * CRATON_SLOW_TESTS=1.
 */
#include "mech_util.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "craton/pkcs11_craton.h"
#include "mech/mech.h"
#include "object/attr.h"
#include "object/key.h"
#include "object/keyexport.h"
#include "object/keyimport.h"

#define SIG_MAX 49856 /* SLH-DSA-*-256f */

static struct config g_cfg;
static struct crypto *g_c;
static OSSL_LIB_CTX *g_lc;
static unsigned char g_sig[SIG_MAX], g_sig2[SIG_MAX];

static const struct pq {
    const char *name;
    CK_KEY_TYPE kt;
    CK_ULONG set;
    size_t pub, priv, seed;
} pqs[] = {
    {"ML-KEM-512", CKK_ML_KEM, CKP_ML_KEM_512, 800, 1632, 64},
    {"ML-KEM-768", CKK_ML_KEM, CKP_ML_KEM_768, 1184, 2400, 64},
    {"ML-KEM-1024", CKK_ML_KEM, CKP_ML_KEM_1024, 1568, 3168, 64},
    {"ML-DSA-44", CKK_ML_DSA, CKP_ML_DSA_44, 1312, 2560, 32},
    {"ML-DSA-65", CKK_ML_DSA, CKP_ML_DSA_65, 1952, 4032, 32},
    {"ML-DSA-87", CKK_ML_DSA, CKP_ML_DSA_87, 2592, 4896, 32},
    {"SLH-DSA-SHA2-128s", CKK_SLH_DSA, CKP_SLH_DSA_SHA2_128S, 32, 64, 0},
    {"SLH-DSA-SHAKE-128s", CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_128S, 32, 64, 0},
    {"SLH-DSA-SHA2-128f", CKK_SLH_DSA, CKP_SLH_DSA_SHA2_128F, 32, 64, 0},
    {"SLH-DSA-SHAKE-128f", CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_128F, 32, 64, 0},
    {"SLH-DSA-SHA2-192s", CKK_SLH_DSA, CKP_SLH_DSA_SHA2_192S, 48, 96, 0},
    {"SLH-DSA-SHAKE-192s", CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_192S, 48, 96, 0},
    {"SLH-DSA-SHA2-192f", CKK_SLH_DSA, CKP_SLH_DSA_SHA2_192F, 48, 96, 0},
    {"SLH-DSA-SHAKE-192f", CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_192F, 48, 96, 0},
    {"SLH-DSA-SHA2-256s", CKK_SLH_DSA, CKP_SLH_DSA_SHA2_256S, 64, 128, 0},
    {"SLH-DSA-SHAKE-256s", CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_256S, 64, 128, 0},
    {"SLH-DSA-SHA2-256f", CKK_SLH_DSA, CKP_SLH_DSA_SHA2_256F, 64, 128, 0},
    {"SLH-DSA-SHAKE-256f", CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_256F, 64, 128, 0},
};

/* ACVP hash names: the CKM_ digest, the hashing mechanisms, the length. */
static const struct hashalg {
    const char *name;
    CK_MECHANISM_TYPE digest, ml, slh;
    size_t len;
} hashes[] = {
    {"SHA2-224", CKM_SHA224, CKM_HASH_ML_DSA_SHA224, CKM_HASH_SLH_DSA_SHA224, 28},
    {"SHA2-256", CKM_SHA256, CKM_HASH_ML_DSA_SHA256, CKM_HASH_SLH_DSA_SHA256, 32},
    {"SHA2-384", CKM_SHA384, CKM_HASH_ML_DSA_SHA384, CKM_HASH_SLH_DSA_SHA384, 48},
    {"SHA2-512", CKM_SHA512, CKM_HASH_ML_DSA_SHA512, CKM_HASH_SLH_DSA_SHA512, 64},
    {"SHA2-512/224", CKM_SHA512_224, 0, 0, 28},
    {"SHA2-512/256", CKM_SHA512_256, 0, 0, 32},
    {"SHA3-224", CKM_SHA3_224, CKM_HASH_ML_DSA_SHA3_224, CKM_HASH_SLH_DSA_SHA3_224, 28},
    {"SHA3-256", CKM_SHA3_256, CKM_HASH_ML_DSA_SHA3_256, CKM_HASH_SLH_DSA_SHA3_256, 32},
    {"SHA3-384", CKM_SHA3_384, CKM_HASH_ML_DSA_SHA3_384, CKM_HASH_SLH_DSA_SHA3_384, 48},
    {"SHA3-512", CKM_SHA3_512, CKM_HASH_ML_DSA_SHA3_512, CKM_HASH_SLH_DSA_SHA3_512, 64},
    {"SHAKE-128", 0, CKM_HASH_ML_DSA_SHAKE128, CKM_HASH_SLH_DSA_SHAKE128, 32},
    {"SHAKE-256", 0, CKM_HASH_ML_DSA_SHAKE256, CKM_HASH_SLH_DSA_SHAKE256, 64},
};

static int group_setup(void **state)
{
    (void)state;
    if (mu_fixture_init(&g_cfg, &g_c) != 0)
        return -1;
    g_lc = (OSSL_LIB_CTX *)mech_libctx(g_c);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    mu_fixture_free(&g_cfg, g_c);
    return 0;
}

/* ---- helpers --------------------------------------------------------------- */

static bool slow(void)
{
    const char *e = getenv("CRATON_SLOW_TESTS");
    return e != NULL && strcmp(e, "1") == 0;
}

static const struct pq *pq_named(const char *name, size_t n)
{
    for (size_t i = 0; i < ARRAY_SIZE(pqs); i++)
        if (strlen(pqs[i].name) == n && memcmp(pqs[i].name, name, n) == 0)
            return &pqs[i];
    fail_msg("unknown parameter set %.*s", (int)n, name);
    return NULL;
}

/* An SLH-DSA "s" set (slow signing). */
static bool small_sig(const struct pq *p)
{
    return p->kt == CKK_SLH_DSA && p->name[strlen(p->name) - 1] == 's';
}

/* Sets whose generation (SLH-DSA: the top tree, and the pairwise test's
 * signature) is worth its time in every run: ML-KEM, ML-DSA and the two
 * SLH-DSA-128f; the others with CRATON_SLOW_TESTS=1 (valgrind multiplies
 * SLH-DSA's hashing a hundredfold). */
static bool every_run(const struct pq *p)
{
    return slow() || p->kt != CKK_SLH_DSA || strstr(p->name, "-128f") != NULL;
}

static const struct hashalg *hash_named(const char *name, size_t n)
{
    for (size_t i = 0; i < ARRAY_SIZE(hashes); i++)
        if (strlen(hashes[i].name) == n && memcmp(hashes[i].name, name, n) == 0)
            return &hashes[i];
    fail_msg("unknown hash %.*s", (int)n, name);
    return NULL;
}

/* A key object of p from one attribute (CKA_VALUE or CKA_SEED). */
static struct key *import_key(const struct pq *p, CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE type,
                              const unsigned char *v, size_t n)
{
    struct attrs t;
    mu_tmpl(&t, cls, p->kt);
    assert_int_equal(attrs_set_ulong(&t, CKA_PARAMETER_SET, p->set), CKR_OK);
    assert_int_equal(attrs_set(&t, cls, type, v, (CK_ULONG)n), CKR_OK);
    struct key *k = mu_finish(g_c, &t, cls, p->kt);
    attrs_free(&t);
    return k;
}

/* The public key object of a private key, through keyexport_attrs. */
static struct key *public_of(const struct key *priv)
{
    struct attrs t;
    mu_tmpl(&t, CKO_PUBLIC_KEY, priv->type);
    assert_int_equal(keyexport_attrs(priv->pkey, priv->type, &t, NULL), CKR_OK);
    struct key *k = mu_finish(g_c, &t, CKO_PUBLIC_KEY, priv->type);
    attrs_free(&t);
    return k;
}

static CK_RV op_new(CK_MECHANISM_TYPE mt, const void *param, CK_ULONG plen, mech_fn fn,
                    struct key *k, struct mech_op **op)
{
    const struct mech_desc *d = mech_find(mt);
    assert_non_null(d);
    CK_MECHANISM m = {mt, (void *)param, plen};
    return mech_op_new(d, &m, fn, k, g_c, &g_cfg, op);
}

/* Single-part sign into g_sig. */
static CK_RV sign1(CK_MECHANISM_TYPE mt, const void *param, CK_ULONG plen, struct key *k,
                   const unsigned char *msg, size_t len, CK_ULONG *siglen)
{
    struct mech_op *op = NULL;
    CK_RV rv = op_new(mt, param, plen, CKF_SIGN, k, &op);
    if (rv != CKR_OK)
        return rv;
    *siglen = sizeof(g_sig);
    rv = op->ops->oneshot(op, msg, (CK_ULONG)len, g_sig, siglen);
    mech_op_free(op);
    return rv;
}

/* Update with msg in two parts, cut at cut. */
static CK_RV absorb(struct mech_op *op, const unsigned char *msg, size_t len, size_t cut)
{
    CK_RV rv = op->ops->update(op, msg, (CK_ULONG)cut, NULL, NULL);
    return rv == CKR_OK ? op->ops->update(op, msg + cut, (CK_ULONG)(len - cut), NULL, NULL) : rv;
}

/* Multi-part sign into g_sig2. */
static CK_RV sign_parts(CK_MECHANISM_TYPE mt, const void *param, CK_ULONG plen, struct key *k,
                        const unsigned char *msg, size_t len, size_t cut, CK_ULONG *siglen)
{
    struct mech_op *op = NULL;
    CK_RV rv = op_new(mt, param, plen, CKF_SIGN, k, &op);
    *siglen = sizeof(g_sig2);
    if (rv == CKR_OK && (rv = absorb(op, msg, len, cut)) == CKR_OK)
        rv = op->ops->final(op, g_sig2, siglen);
    mech_op_free(op);
    return rv;
}

static CK_RV verify1(CK_MECHANISM_TYPE mt, const void *param, CK_ULONG plen, struct key *k,
                     const unsigned char *msg, size_t len, const unsigned char *sig,
                     CK_ULONG siglen)
{
    struct mech_op *op = NULL;
    CK_RV rv = op_new(mt, param, plen, CKF_VERIFY, k, &op);
    if (rv != CKR_OK)
        return rv;
    rv = op->ops->verify_oneshot(op, msg, (CK_ULONG)len, sig, siglen);
    mech_op_free(op);
    return rv;
}

static CK_RV verify_parts(CK_MECHANISM_TYPE mt, const void *param, CK_ULONG plen, struct key *k,
                          const unsigned char *msg, size_t len, const unsigned char *sig,
                          CK_ULONG siglen)
{
    struct mech_op *op = NULL;
    CK_RV rv = op_new(mt, param, plen, CKF_VERIFY, k, &op);
    if (rv == CKR_OK && (rv = absorb(op, msg, len, len / 3)) == CKR_OK)
        rv = op->ops->verify_final(op, sig, siglen);
    mech_op_free(op);
    return rv;
}

/* PH(M) with OpenSSL: its length. */
static unsigned int digest(const char *name, const unsigned char *msg, size_t len,
                           unsigned char *out)
{
    unsigned int n = 0;
    EVP_MD *md = EVP_MD_fetch(g_lc, name, NULL);
    assert_int_equal(EVP_Digest(msg, len, out, &n, md, NULL), 1);
    EVP_MD_free(md);
    return n;
}

/* OpenSSL's own verification of a pure signature with context ctx. */
static int ossl_verify(EVP_PKEY *pkey, const unsigned char *ctx, size_t ctxlen,
                       const unsigned char *msg, size_t len, const unsigned char *sig,
                       size_t siglen)
{
    EVP_SIGNATURE *alg = EVP_SIGNATURE_fetch(g_lc, EVP_PKEY_get0_type_name(pkey), NULL);
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(g_lc, pkey, NULL);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_SIGNATURE_PARAM_CONTEXT_STRING, (void *)ctx, ctxlen),
        OSSL_PARAM_construct_end(),
    };
    if (ctxlen == 0)
        params[0] = OSSL_PARAM_construct_end();
    int r = EVP_PKEY_verify_message_init(pc, alg, params) == 1 &&
            EVP_PKEY_verify(pc, sig, siglen, msg, len) == 1;
    EVP_PKEY_CTX_free(pc);
    EVP_SIGNATURE_free(alg);
    ERR_clear_error();
    return r;
}

/* Shorthands: parameters and messages as argument pairs; SIGN signs
 * into g_sig (length n). */
#define SIGN(...)   sign1(__VA_ARGS__, &n)
#define VERIFY(...) verify1(__VA_ARGS__)
#define SP          &sp, sizeof(sp)
#define HP          &hp, sizeof(hp)
#define NP          NULL, 0
#define MSG         msg, sizeof(msg)
#define BAD_PARAM   CKR_MECHANISM_PARAM_INVALID
#define BAD_KEY     CKR_KEY_TYPE_INCONSISTENT

/* ---- ACVP files ------------------------------------------------------------ */

struct vf {
    char *buf;
};

/* Loads $CRATON_VECTORS/acvp/<dir>/<name>; skips the test without it. */
static void vf_load(struct vf *f, const char *dir, const char *name)
{
    const char *root = getenv("CRATON_VECTORS");
    char path[PATH_MAX];
    if (root == NULL) {
        print_message("# CRATON_VECTORS not set: known-answer test skipped\n");
        skip();
    }
    snprintf(path, sizeof(path), "%s/acvp/%s/%s", root, dir, name);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    long n = ftell(fp);
    assert_true(n > 0);
    rewind(fp);
    f->buf = malloc((size_t)n + 1);
    assert_non_null(f->buf);
    assert_int_equal(fread(f->buf, 1, (size_t)n, fp), (size_t)n);
    f->buf[n] = '\0';
    fclose(fp);
}

/* The next test case after *pos (its "tcId"), or NULL. */
static const char *vf_next(const struct vf *f, const char *pos, long *tcid)
{
    const char *p = strstr(pos != NULL ? pos + 1 : f->buf, "\"tcId\": ");
    if (p != NULL)
        *tcid = strtol(p + 8, NULL, 10);
    return p;
}

static const char *vf_find(const struct vf *f, long tcid)
{
    char pat[32];
    snprintf(pat, sizeof(pat), "\"tcId\": %ld,", tcid);
    const char *p = strstr(f->buf, pat);
    if (p == NULL)
        fail_msg("tcId %ld not found", tcid);
    return p;
}

/* Value of key in the (flat) object around pos: strings without quotes. */
static bool vf_get(const struct vf *f, const char *pos, const char *key, const char **v, size_t *n)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\": ", key);
    const char *start = pos, *end = strchr(pos, '}');
    while (start > f->buf && *start != '{')
        start--;
    const char *p = strstr(start, pat);
    if (p == NULL || end == NULL || p > end)
        return false;
    p += strlen(pat);
    if (*p == '"') {
        *v = p + 1;
        *n = (size_t)(strchr(p + 1, '"') - (p + 1));
    } else {
        *v = p;
        *n = strcspn(p, ",\n}");
    }
    return true;
}

/* Value of a group field (the last occurrence before the test). */
static bool vf_group(const struct vf *f, const char *pos, const char *key, const char **v,
                     size_t *n)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\": ", key);
    const char *last = NULL;
    for (const char *p = strstr(f->buf, pat); p != NULL && p < pos; p = strstr(p + 1, pat))
        last = p;
    if (last == NULL)
        return false;
    return vf_get(f, last, key, v, n);
}

/* Is the group field (group) or the test's field key want? */
static bool vf_is(const struct vf *f, const char *pos, const char *key, const char *want,
                  bool group)
{
    const char *v;
    size_t n;
    bool found = group ? vf_group(f, pos, key, &v, &n) : vf_get(f, pos, key, &v, &n);
    return found && n == strlen(want) && memcmp(v, want, n) == 0;
}

/* Hex field key of the test at pos, decoded (malloc; *len bytes). */
static unsigned char *vf_hex(const struct vf *f, const char *pos, const char *key, size_t *len)
{
    const char *v;
    size_t n;
    if (!vf_get(f, pos, key, &v, &n))
        fail_msg("field %s missing", key);
    unsigned char *out = malloc(n / 2 + 1);
    assert_non_null(out);
    for (size_t i = 0; i < n / 2; i++) {
        unsigned int b;
        assert_int_equal(sscanf(v + 2 * i, "%2x", &b), 1);
        out[i] = (unsigned char)b;
    }
    *len = n / 2;
    return out;
}

#ifdef CRATON_TEST_HOOKS
/* CRATON_TEST_<name> = the hex field key of the test at pos. */
static void vf_setenv(const struct vf *f, const char *pos, const char *key, const char *name)
{
    const char *v;
    size_t n;
    char var[64];
    assert_true(vf_get(f, pos, key, &v, &n));
    char *hex = strndup(v, n);
    assert_non_null(hex);
    snprintf(var, sizeof(var), "CRATON_TEST_%s", name);
    assert_int_equal(setenv(var, hex, 1), 0);
    free(hex);
}
#endif

/* ---- key export ------------------------------------------------------------ */

static void test_export_roundtrip(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(pqs); i++) {
        const struct pq *p = &pqs[i];
        if (!every_run(p))
            continue;
        EVP_PKEY *pkey = EVP_PKEY_Q_keygen(g_lc, NULL, p->name);
        assert_non_null(pkey);
        struct attrs pub, priv;
        mu_tmpl(&pub, CKO_PUBLIC_KEY, p->kt);
        mu_tmpl(&priv, CKO_PRIVATE_KEY, p->kt);
        assert_int_equal(keyexport_attrs(pkey, p->kt, &pub, &priv), CKR_OK);
        CK_ULONG set = 0;
        assert_int_equal(attrs_get_ulong(&pub, CKA_PARAMETER_SET, &set), CKR_OK);
        assert_int_equal(set, p->set);
        assert_int_equal(attrs_get_ulong(&priv, CKA_PARAMETER_SET, &set), CKR_OK);
        assert_int_equal(set, p->set);
        assert_int_equal(mu_need(&pub, CKA_VALUE)->len, p->pub);
        assert_int_equal(mu_need(&priv, CKA_VALUE)->len, p->priv);
        if (p->seed > 0)
            assert_int_equal(mu_need(&priv, CKA_SEED)->len, p->seed);
        else
            assert_null(attrs_find(&priv, CKA_SEED));
        /* the derived attribute as keyimport_check computes it */
        const struct attr *spki = mu_need(&pub, CKA_PUBLIC_KEY_INFO);
        assert_int_equal(spki->len, mu_need(&priv, CKA_PUBLIC_KEY_INFO)->len);
        struct key *kpub = mu_finish(g_c, &pub, CKO_PUBLIC_KEY, p->kt);
        struct key *kpriv = mu_finish(g_c, &priv, CKO_PRIVATE_KEY, p->kt);
        assert_int_equal(kpub->parameter_set, p->set);
        assert_int_equal(kpriv->parameter_set, p->set);
        assert_true(EVP_PKEY_eq(kpub->pkey, pkey) == 1);
        assert_true(EVP_PKEY_eq(kpriv->pkey, pkey) == 1);
        /* the wrong family is refused */
        assert_int_equal(
            keyexport_attrs(pkey, p->kt == CKK_ML_DSA ? CKK_SLH_DSA : CKK_ML_DSA, &pub, NULL),
            CKR_KEY_TYPE_INCONSISTENT);
        /* a private key known by its expanded form only has no CKA_SEED
         * (SLH-DSA has none anyway, and its import recomputes the root) */
        if (p->seed > 0) {
            struct attrs again;
            mu_tmpl(&again, CKO_PRIVATE_KEY, p->kt);
            struct key *expanded = import_key(p, CKO_PRIVATE_KEY, CKA_VALUE,
                                              mu_need(&priv, CKA_VALUE)->value, p->priv);
            assert_int_equal(keyexport_attrs(expanded->pkey, p->kt, NULL, &again), CKR_OK);
            assert_null(attrs_find(&again, CKA_SEED));
            assert_memory_equal(mu_need(&again, CKA_VALUE)->value, mu_need(&priv, CKA_VALUE)->value,
                                p->priv);
            key_unref(expanded);
            attrs_free(&again);
        }
        key_unref(kpub);
        key_unref(kpriv);
        attrs_free(&pub);
        attrs_free(&priv);
        EVP_PKEY_free(pkey);
    }
}

/* ---- key pair generation ---------------------------------------------------- */

/* Generates a pair of p (public template: CKA_PARAMETER_SET). */
static void generate(const struct pq *p, struct key **kpub, struct key **kpriv)
{
    struct attrs pub, priv;
    mu_tmpl(&pub, CKO_PUBLIC_KEY, p->kt);
    mu_tmpl(&priv, CKO_PRIVATE_KEY, p->kt);
    assert_int_equal(attrs_set_ulong(&pub, CKA_PARAMETER_SET, p->set), CKR_OK);
    CK_MECHANISM_TYPE mt = p->kt == CKK_ML_DSA ? CKM_ML_DSA_KEY_PAIR_GEN : CKM_SLH_DSA_KEY_PAIR_GEN;
    assert_int_equal(mu_gen_pair(&g_cfg, g_c, mt, &pub, &priv), CKR_OK);
    assert_int_equal(mu_need(&pub, CKA_VALUE)->len, p->pub);
    assert_int_equal(mu_need(&priv, CKA_VALUE)->len, p->priv);
    if (p->seed > 0)
        assert_int_equal(mu_need(&priv, CKA_SEED)->len, p->seed);
    *kpub = mu_finish(g_c, &pub, CKO_PUBLIC_KEY, p->kt);
    *kpriv = mu_finish(g_c, &priv, CKO_PRIVATE_KEY, p->kt);
    attrs_free(&pub);
    attrs_free(&priv);
}

static void test_generate_all(void **state)
{
    (void)state;
    static const unsigned char msg[] = "generated post-quantum key pair";
    for (size_t i = 0; i < ARRAY_SIZE(pqs); i++) {
        const struct pq *p = &pqs[i];
        if (p->kt == CKK_ML_KEM || !every_run(p))
            continue;
        struct key *pub = NULL, *priv = NULL;
        generate(p, &pub, &priv);
        CK_MECHANISM_TYPE mt = p->kt == CKK_ML_DSA ? CKM_ML_DSA : CKM_SLH_DSA;
        CK_ULONG n = 0;
        assert_int_equal(sign1(mt, NULL, 0, priv, msg, sizeof(msg), &n), CKR_OK);
        assert_int_equal(n, (CK_ULONG)EVP_PKEY_get_size(priv->pkey));
        assert_int_equal(verify1(mt, NULL, 0, pub, msg, sizeof(msg), g_sig, n), CKR_OK);
        assert_true(ossl_verify(pub->pkey, NULL, 0, msg, sizeof(msg), g_sig, n));
        g_sig[n / 2] ^= 1;
        assert_int_equal(verify1(mt, NULL, 0, pub, msg, sizeof(msg), g_sig, n),
                         CKR_SIGNATURE_INVALID);
        key_unref(pub);
        key_unref(priv);
    }
}

static void test_generate_errors(void **state)
{
    (void)state;
    struct attrs pub, priv;
    const CK_MECHANISM_TYPE ml = CKM_ML_DSA_KEY_PAIR_GEN, alias = CKM_CRATON_ML_DSA_65;
    const struct {
        CK_MECHANISM_TYPE mt;
        CK_ULONG vpub, vpriv; /* CKA_PARAMETER_SET; 0: absent */
        bool param;           /* a mechanism parameter */
        CK_RV want;
    } cases[] = {
        {ml, 0, 0, false, CKR_TEMPLATE_INCOMPLETE},
        {ml, 9, 0, false, CKR_PARAMETER_SET_NOT_SUPPORTED},
        {ml, 0, CKP_ML_DSA_65, false, CKR_TEMPLATE_INCOMPLETE},
        {ml, CKP_ML_DSA_65, CKP_ML_DSA_44, false, CKR_TEMPLATE_INCONSISTENT},
        {ml, CKP_ML_DSA_65, 0, true, CKR_MECHANISM_PARAM_INVALID},
        {CKM_SLH_DSA_KEY_PAIR_GEN, 13, 0, false, CKR_PARAMETER_SET_NOT_SUPPORTED},
        {alias, CKP_ML_DSA_44, 0, false, CKR_TEMPLATE_INCONSISTENT},
        {alias, 0, CKP_ML_DSA_87, false, CKR_TEMPLATE_INCONSISTENT},
        {CKM_CRATON_SLH_DSA_SHA2_128S, CKP_SLH_DSA_SHA2_128F, 0, false, CKR_TEMPLATE_INCONSISTENT},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct mech_desc *d = mech_find(cases[i].mt);
        CK_ULONG junk = 0;
        CK_MECHANISM m = {cases[i].mt, cases[i].param ? &junk : NULL, cases[i].param ? 8 : 0};
        mu_tmpl(&pub, CKO_PUBLIC_KEY, d->key_type);
        mu_tmpl(&priv, CKO_PRIVATE_KEY, d->key_type);
        if (cases[i].vpub != 0)
            assert_int_equal(attrs_set_ulong(&pub, CKA_PARAMETER_SET, cases[i].vpub), CKR_OK);
        if (cases[i].vpriv != 0)
            assert_int_equal(attrs_set_ulong(&priv, CKA_PARAMETER_SET, cases[i].vpriv), CKR_OK);
        assert_int_equal(d->family->generate_pair(d, &m, g_c, &g_cfg, &pub, &priv), cases[i].want);
        assert_null(attrs_find(&pub, CKA_VALUE));
        assert_null(attrs_find(&priv, CKA_VALUE));
        attrs_free(&pub);
        attrs_free(&priv);
    }
    /* the vendor alias: no template parameter set needed, the alias's is used */
    mu_tmpl(&pub, CKO_PUBLIC_KEY, CKK_ML_DSA);
    mu_tmpl(&priv, CKO_PRIVATE_KEY, CKK_ML_DSA);
    assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_CRATON_ML_DSA_44, &pub, &priv), CKR_OK);
    CK_ULONG set = 0, set2 = 0;
    assert_int_equal(attrs_get_ulong(&pub, CKA_PARAMETER_SET, &set), CKR_OK);
    assert_int_equal(attrs_get_ulong(&priv, CKA_PARAMETER_SET, &set2), CKR_OK);
    assert_true(set == CKP_ML_DSA_44 && set2 == CKP_ML_DSA_44);
    assert_int_equal(mu_need(&pub, CKA_VALUE)->len, 1312);
    attrs_free(&pub);
    attrs_free(&priv);
}

/* ---- known answers: key generation --------------------------------------- */

static void test_mldsa_keygen_kat(void **state)
{
    (void)state;
    struct vf f = {0};
    vf_load(&f, "ML-DSA-keyGen-FIPS204", "internalProjection.json");
    size_t count = 0;
    long tc = 0;
    for (const char *t = vf_next(&f, NULL, &tc); t != NULL; t = vf_next(&f, t, &tc)) {
        const char *ps;
        size_t psn, seedlen, pklen, sklen;
        assert_true(vf_group(&f, t, "parameterSet", &ps, &psn));
        const struct pq *p = pq_named(ps, psn);
        unsigned char *seed = vf_hex(&f, t, "seed", &seedlen);
        unsigned char *pk = vf_hex(&f, t, "pk", &pklen);
        unsigned char *sk = vf_hex(&f, t, "sk", &sklen);
        /* CKA_SEED import: keyimport expands it (FIPS 204 ML-DSA.KeyGen_internal) */
        struct key *k = import_key(p, CKO_PRIVATE_KEY, CKA_SEED, seed, seedlen);
        struct attrs pub, priv;
        mu_tmpl(&pub, CKO_PUBLIC_KEY, p->kt);
        mu_tmpl(&priv, CKO_PRIVATE_KEY, p->kt);
        assert_int_equal(keyexport_attrs(k->pkey, p->kt, &pub, &priv), CKR_OK);
        assert_int_equal(mu_need(&pub, CKA_VALUE)->len, pklen);
        assert_memory_equal(mu_need(&pub, CKA_VALUE)->value, pk, pklen);
        assert_memory_equal(mu_need(&priv, CKA_VALUE)->value, sk, sklen);
        attrs_free(&pub);
        attrs_free(&priv);
        key_unref(k);
#ifdef CRATON_TEST_HOOKS
        /* C_GenerateKeyPair with the seed fixed */
        vf_setenv(&f, t, "seed", "MLDSA_KEYGEN_SEED");
        mu_tmpl(&pub, CKO_PUBLIC_KEY, p->kt);
        mu_tmpl(&priv, CKO_PRIVATE_KEY, p->kt);
        assert_int_equal(attrs_set_ulong(&pub, CKA_PARAMETER_SET, p->set), CKR_OK);
        assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_ML_DSA_KEY_PAIR_GEN, &pub, &priv), CKR_OK);
        unsetenv("CRATON_TEST_MLDSA_KEYGEN_SEED");
        assert_memory_equal(mu_need(&pub, CKA_VALUE)->value, pk, pklen);
        assert_memory_equal(mu_need(&priv, CKA_VALUE)->value, sk, sklen);
        assert_memory_equal(mu_need(&priv, CKA_SEED)->value, seed, seedlen);
        attrs_free(&pub);
        attrs_free(&priv);
#endif
        free(seed);
        free(pk);
        free(sk);
        count++;
    }
    print_message("# ML-DSA keyGen: %zu vectors\n", count);
    assert_int_equal(count, 9);
    free(f.buf);
}

static void test_slhdsa_keygen_kat(void **state)
{
    (void)state;
#ifndef CRATON_TEST_HOOKS
    print_message("# SLH-DSA keyGen needs the test hooks (the keygen seed): skipped\n");
    skip();
#else
    struct vf f = {0};
    vf_load(&f, "SLH-DSA-keyGen-FIPS205", "internalProjection.json");
    size_t count = 0, done = 0;
    long tc = 0;
    const struct pq *last = NULL;
    for (const char *t = vf_next(&f, NULL, &tc); t != NULL; t = vf_next(&f, t, &tc)) {
        const char *ps;
        size_t psn, n[5];
        assert_true(vf_group(&f, t, "parameterSet", &ps, &psn));
        const struct pq *p = pq_named(ps, psn);
        count++;
        /* one vector per set; all of them (and the "s" sets) when slow */
        if (!every_run(p) || (!slow() && p == last))
            continue;
        last = p;
        unsigned char *a = vf_hex(&f, t, "skSeed", &n[0]), *b = vf_hex(&f, t, "skPrf", &n[1]);
        unsigned char *c = vf_hex(&f, t, "pkSeed", &n[2]);
        unsigned char *pk = vf_hex(&f, t, "pk", &n[3]), *sk = vf_hex(&f, t, "sk", &n[4]);
        char hex[2 * 96 + 1] = "";
        for (size_t i = 0; i < n[0] + n[1] + n[2]; i++) {
            unsigned char byte = i < n[0]          ? a[i]
                                 : i < n[0] + n[1] ? b[i - n[0]]
                                                   : c[i - n[0] - n[1]];
            snprintf(hex + 2 * i, 3, "%02X", byte);
        }
        assert_int_equal(setenv("CRATON_TEST_SLHDSA_KEYGEN_SEED", hex, 1), 0);
        struct attrs pub, priv;
        mu_tmpl(&pub, CKO_PUBLIC_KEY, p->kt);
        mu_tmpl(&priv, CKO_PRIVATE_KEY, p->kt);
        assert_int_equal(attrs_set_ulong(&pub, CKA_PARAMETER_SET, p->set), CKR_OK);
        assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_SLH_DSA_KEY_PAIR_GEN, &pub, &priv), CKR_OK);
        unsetenv("CRATON_TEST_SLHDSA_KEYGEN_SEED");
        assert_int_equal(mu_need(&pub, CKA_VALUE)->len, n[3]);
        assert_memory_equal(mu_need(&pub, CKA_VALUE)->value, pk, n[3]);
        assert_memory_equal(mu_need(&priv, CKA_VALUE)->value, sk, n[4]);
        attrs_free(&pub);
        attrs_free(&priv);
        free(a);
        free(b);
        free(c);
        free(pk);
        free(sk);
        done++;
    }
    print_message("# SLH-DSA keyGen: %zu of %zu vectors\n", done, count);
    assert_true(done >= 2);
    free(f.buf);
#endif
}

/* ---- known answers: signatures -------------------------------------------- */

/* One ACVP sigGen case on key k (private) and kpub: the expected signature
 * from every mechanism that computes it (single- and multi-part). */
static void siggen_case(const struct vf *f, const char *t, const struct pq *p, struct key *k,
                        struct key *kpub, bool det, const unsigned char *want, size_t wantlen)
{
    const bool ml = p->kt == CKK_ML_DSA;
    size_t mlen = 0, clen = 0;
    unsigned char *msg = vf_hex(f, t, "message", &mlen);
    unsigned char *ctx = vf_hex(f, t, "context", &clen);
    CK_HEDGE_TYPE hedge = det ? CKH_DETERMINISTIC_REQUIRED : CKH_HEDGE_REQUIRED;
    CK_SIGN_ADDITIONAL_CONTEXT sp = {hedge, clen > 0 ? ctx : NULL, (CK_ULONG)clen};
    CK_ULONG n = 0;
    if (vf_is(f, t, "preHash", "preHash", true)) {
        const char *h;
        size_t hn;
        assert_true(vf_get(f, t, "hashAlg", &h, &hn));
        const struct hashalg *ha = hash_named(h, hn);
        CK_MECHANISM_TYPE mt = ml ? ha->ml : ha->slh;
        if (mt != 0) { /* the module hashes */
            assert_int_equal(SIGN(mt, SP, k, msg, mlen), CKR_OK);
            assert_int_equal(n, wantlen);
            assert_memory_equal(g_sig, want, wantlen);
            assert_int_equal(VERIFY(mt, SP, kpub, msg, mlen, want, n), CKR_OK);
            /* hedged: the hook gives every operation the same randomness */
            assert_int_equal(sign_parts(mt, SP, k, msg, mlen, mlen / 2, &n), CKR_OK);
            assert_memory_equal(g_sig2, want, wantlen);
            assert_int_equal(verify_parts(mt, SP, kpub, msg, mlen, want, n), CKR_OK);
        }
        if (ha->digest != 0) { /* the caller hashes: CKM_HASH_ML_DSA / CKM_HASH_SLH_DSA */
            unsigned char ph[64];
            unsigned int phlen = digest(ha->name, msg, mlen, ph);
            CK_HASH_SIGN_ADDITIONAL_CONTEXT hp = {hedge, sp.pContext, sp.ulContextLen, ha->digest};
            mt = ml ? CKM_HASH_ML_DSA : CKM_HASH_SLH_DSA;
            assert_int_equal(SIGN(mt, HP, k, ph, phlen), CKR_OK);
            assert_memory_equal(g_sig, want, wantlen);
            assert_int_equal(VERIFY(mt, HP, kpub, ph, phlen, want, n), CKR_OK);
            ph[0] ^= 1;
            assert_int_equal(VERIFY(mt, HP, kpub, ph, phlen, want, n), CKR_SIGNATURE_INVALID);
        }
    } else {
        CK_MECHANISM_TYPE mt = ml ? CKM_ML_DSA : CKM_SLH_DSA;
        assert_int_equal(SIGN(mt, SP, k, msg, mlen), CKR_OK);
        assert_int_equal(n, wantlen);
        assert_memory_equal(g_sig, want, wantlen);
        assert_int_equal(VERIFY(mt, SP, kpub, msg, mlen, want, n), CKR_OK);
        assert_true(ossl_verify(kpub->pkey, ctx, clen, msg, mlen, want, wantlen));
        if (ml) { /* multi-part through mu */
            assert_int_equal(sign_parts(mt, SP, k, msg, mlen, mlen / 2, &n), CKR_OK);
            assert_memory_equal(g_sig2, want, wantlen);
            assert_int_equal(verify_parts(mt, SP, kpub, msg, mlen, want, n), CKR_OK);
        }
        msg[0] ^= 1;
        assert_int_equal(VERIFY(mt, SP, kpub, msg, mlen, want, n), CKR_SIGNATURE_INVALID);
    }
    free(msg);
    free(ctx);
}

/* The sigGen file in dir (prompt.json + expectedResults.json): external
 * interface cases; the private key is "sk" or, in the tr1 files, "seed". */
static size_t siggen_file(const char *dir, bool *hedged_done)
{
    struct vf pf = {0}, ef = {0};
    vf_load(&pf, dir, "prompt.json");
    vf_load(&ef, dir, "expectedResults.json");
    size_t count = 0;
    long tc = 0;
    *hedged_done = false;
    for (const char *t = vf_next(&pf, NULL, &tc); t != NULL; t = vf_next(&pf, t, &tc)) {
        const char *ps;
        size_t psn, klen, wantlen;
        if (!vf_is(&pf, t, "signatureInterface", "external", true))
            continue; /* internal / external-mu: no PKCS#11 3.2 mechanism */
        assert_true(vf_group(&pf, t, "parameterSet", &ps, &psn));
        const struct pq *p = pq_named(ps, psn);
        const bool det = vf_is(&pf, t, "deterministic", "true", true);
        if (small_sig(p) && !slow())
            continue;
#ifndef CRATON_TEST_HOOKS
        if (!det)
            continue; /* the hedged randomness cannot be given */
#endif
        const bool seeded = vf_is(&pf, t, "keyFormat", "seed", true);
        unsigned char *kv = vf_hex(&pf, t, seeded ? "seed" : "sk", &klen);
        struct key *k = import_key(p, CKO_PRIVATE_KEY, seeded ? CKA_SEED : CKA_VALUE, kv, klen);
        struct key *kpub = public_of(k);
        unsigned char *want = vf_hex(&ef, vf_find(&ef, tc), "signature", &wantlen);
#ifdef CRATON_TEST_HOOKS
        if (!det) {
            if (p->kt == CKK_ML_DSA)
                vf_setenv(&pf, t, "rnd", "MLDSA_RND");
            else
                vf_setenv(&pf, t, "additionalRandomness", "SLHDSA_ADDRND");
            *hedged_done = true;
        }
#endif
        siggen_case(&pf, t, p, k, kpub, det, want, wantlen);
        unsetenv("CRATON_TEST_MLDSA_RND");
        unsetenv("CRATON_TEST_SLHDSA_ADDRND");
        free(want);
        free(kv);
        key_unref(k);
        key_unref(kpub);
        count++;
    }
    free(pf.buf);
    free(ef.buf);
    return count;
}

static void test_mldsa_siggen_kat(void **state)
{
    (void)state;
    bool hedged = false, hedged_tr1 = false;
    size_t n = siggen_file("ML-DSA-sigGen-FIPS204", &hedged);
    size_t n1 = siggen_file("ML-DSA-sigGen-FIPS204-tr1", &hedged_tr1);
    print_message("# ML-DSA sigGen: %zu + %zu (seed keys) external cases%s\n", n, n1,
                  hedged ? ", hedged ones included" : ", deterministic only");
    assert_true(n >= 10 && n1 >= 8);
}

static void test_slhdsa_siggen_kat(void **state)
{
    (void)state;
    bool hedged = false;
    size_t n = siggen_file("SLH-DSA-sigGen-FIPS205", &hedged);
    print_message("# SLH-DSA sigGen: %zu external cases%s%s\n", n,
                  hedged ? ", hedged ones included" : ", deterministic only",
                  slow() ? "" : " (128f; 128s with CRATON_SLOW_TESTS=1)");
    assert_true(n >= 4);
}

static void test_mldsa_sigver_kat(void **state)
{
    (void)state;
    struct vf f = {0};
    vf_load(&f, "ML-DSA-sigVer-FIPS204", "internalProjection.json");
    size_t count = 0, invalid = 0;
    long tc = 0;
    for (const char *t = vf_next(&f, NULL, &tc); t != NULL; t = vf_next(&f, t, &tc)) {
        const char *ps, *h;
        size_t psn, hn, pklen, mlen, clen, slen;
        if (!vf_is(&f, t, "signatureInterface", "external", true))
            continue;
        assert_true(vf_group(&f, t, "parameterSet", &ps, &psn));
        const struct pq *p = pq_named(ps, psn);
        const bool pass = vf_is(&f, t, "testPassed", "true", false);
        unsigned char *pk = vf_hex(&f, t, "pk", &pklen), *msg = vf_hex(&f, t, "message", &mlen);
        unsigned char *ctx = vf_hex(&f, t, "context", &clen),
                      *sig = vf_hex(&f, t, "signature", &slen);
        struct key *k = import_key(p, CKO_PUBLIC_KEY, CKA_VALUE, pk, pklen);
        CK_SIGN_ADDITIONAL_CONTEXT sp = {CKH_HEDGE_PREFERRED, clen > 0 ? ctx : NULL,
                                         (CK_ULONG)clen};
        CK_MECHANISM_TYPE mt = CKM_ML_DSA;
        const struct hashalg *ha = NULL;
        if (vf_is(&f, t, "preHash", "preHash", true)) {
            assert_true(vf_get(&f, t, "hashAlg", &h, &hn));
            mt = (ha = hash_named(h, hn))->ml;
        }
        if (mt != 0) {
            CK_RV rv = verify1(mt, &sp, sizeof(sp), k, msg, mlen, sig, (CK_ULONG)slen);
            assert_int_equal(rv, pass ? CKR_OK : CKR_SIGNATURE_INVALID);
            count++;
            invalid += !pass;
        }
        if (ha != NULL && ha->digest != 0) { /* the caller hashes */
            unsigned char ph[64];
            unsigned int phlen = digest(ha->name, msg, mlen, ph);
            CK_HASH_SIGN_ADDITIONAL_CONTEXT hp = {0, sp.pContext, sp.ulContextLen, ha->digest};
            CK_RV rv = verify1(CKM_HASH_ML_DSA, &hp, sizeof(hp), k, ph, phlen, sig, (CK_ULONG)slen);
            assert_int_equal(rv, pass ? CKR_OK : CKR_SIGNATURE_INVALID);
            count++;
        }
        key_unref(k);
        free(pk);
        free(msg);
        free(ctx);
        free(sig);
    }
    print_message("# ML-DSA sigVer: %zu external cases, %zu invalid\n", count, invalid);
    assert_true(count >= 10 && invalid >= 4);
    free(f.buf);
}

/* ---- behaviour ------------------------------------------------------------- */

static struct key *g_pub, *g_priv, *g_slh_pub, *g_slh_priv;

static void pairs(void)
{
    if (g_pub == NULL)
        generate(pq_named("ML-DSA-65", 9), &g_pub, &g_priv);
    if (g_slh_pub == NULL)
        generate(pq_named("SLH-DSA-SHAKE-128f", 18), &g_slh_pub, &g_slh_priv);
}

static void test_multipart(void **state)
{
    (void)state;
    pairs();
    unsigned char msg[3000];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (unsigned char)(i * 7);
    CK_SIGN_ADDITIONAL_CONTEXT sp = {CKH_DETERMINISTIC_REQUIRED, (CK_BYTE_PTR) "ctx", 3};
    CK_ULONG n = 0, n2 = 0;
    /* pure ML-DSA: mu streamed == one shot */
    assert_int_equal(SIGN(CKM_ML_DSA, SP, g_priv, MSG), CKR_OK);
    assert_int_equal(sign_parts(CKM_ML_DSA, SP, g_priv, MSG, 1000, &n2), CKR_OK);
    assert_int_equal(n, n2);
    assert_memory_equal(g_sig, g_sig2, n);
    assert_int_equal(verify_parts(CKM_ML_DSA, SP, g_pub, MSG, g_sig, n), CKR_OK);
    assert_int_equal(verify_parts(CKM_ML_DSA, SP, g_pub, msg, sizeof(msg) - 1, g_sig, n),
                     CKR_SIGNATURE_INVALID);
    /* Final without Update: the empty message */
    struct mech_op *op = NULL;
    assert_int_equal(op_new(CKM_ML_DSA, SP, CKF_SIGN, g_priv, &op), CKR_OK);
    n2 = sizeof(g_sig2);
    assert_int_equal(op->ops->final(op, g_sig2, &n2), CKR_OK);
    mech_op_free(op);
    assert_int_equal(VERIFY(CKM_ML_DSA, SP, g_pub, NULL, 0, g_sig2, n2), CKR_OK);
    /* HashML-DSA with hashing */
    assert_int_equal(SIGN(CKM_HASH_ML_DSA_SHA3_384, SP, g_priv, MSG), CKR_OK);
    assert_int_equal(sign_parts(CKM_HASH_ML_DSA_SHA3_384, SP, g_priv, MSG, 1, &n2), CKR_OK);
    assert_memory_equal(g_sig, g_sig2, n);
    /* SLH-DSA pure and the pre-hash with a given hash: single-part */
    CK_HASH_SIGN_ADDITIONAL_CONTEXT hp = {CKH_HEDGE_PREFERRED, NULL, 0, CKM_SHA256};
    assert_int_equal(op_new(CKM_SLH_DSA, NP, CKF_SIGN, g_slh_priv, &op), CKR_OK);
    assert_null(op->ops->update);
    mech_op_free(op);
    assert_int_equal(op_new(CKM_SLH_DSA, NP, CKF_VERIFY, g_slh_pub, &op), CKR_OK);
    assert_null(op->ops->update);
    mech_op_free(op);
    assert_int_equal(op_new(CKM_HASH_ML_DSA, HP, CKF_SIGN, g_priv, &op), CKR_OK);
    assert_null(op->ops->update);
    mech_op_free(op);
    /* SLH-DSA with hashing streams */
    assert_int_equal(sign_parts(CKM_HASH_SLH_DSA_SHAKE256, SP, g_slh_priv, MSG, 7, &n2), CKR_OK);
    assert_int_equal(VERIFY(CKM_HASH_SLH_DSA_SHAKE256, SP, g_slh_pub, MSG, g_sig2, n2), CKR_OK);
}

static void test_hedging_and_openssl(void **state)
{
    (void)state;
    pairs();
    static const unsigned char msg[] = "hedged or deterministic";
    CK_SIGN_ADDITIONAL_CONTEXT sp = {CKH_HEDGE_REQUIRED, NULL, 0};
    struct key *keys[2][2] = {{g_priv, g_pub}, {g_slh_priv, g_slh_pub}};
    CK_MECHANISM_TYPE mts[2] = {CKM_ML_DSA, CKM_SLH_DSA};
    for (size_t i = 0; i < 2; i++) {
        CK_ULONG n = 0;
        for (int det = 0; det < 2; det++) { /* two signatures: different when hedged */
            sp.hedgeVariant = det ? CKH_DETERMINISTIC_REQUIRED : CKH_HEDGE_REQUIRED;
            assert_int_equal(SIGN(mts[i], SP, keys[i][0], MSG), CKR_OK);
            memcpy(g_sig2, g_sig, n);
            assert_int_equal(SIGN(mts[i], SP, keys[i][0], MSG), CKR_OK);
            assert_int_equal(memcmp(g_sig, g_sig2, n) == 0, det);
            assert_true(ossl_verify(keys[i][1]->pkey, NULL, 0, MSG, g_sig, n));
        }
        /* OpenSSL signs, the module verifies */
        EVP_SIGNATURE *alg =
            EVP_SIGNATURE_fetch(g_lc, EVP_PKEY_get0_type_name(keys[i][0]->pkey), NULL);
        EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(g_lc, keys[i][0]->pkey, NULL);
        size_t len = sizeof(g_sig);
        assert_int_equal(EVP_PKEY_sign_message_init(pc, alg, NULL), 1);
        assert_int_equal(EVP_PKEY_sign(pc, g_sig, &len, MSG), 1);
        assert_int_equal(VERIFY(mts[i], NP, keys[i][1], MSG, g_sig, len), CKR_OK);
        EVP_PKEY_CTX_free(pc);
        EVP_SIGNATURE_free(alg);
    }
}

static void test_output_convention(void **state)
{
    (void)state;
    pairs();
    static const unsigned char msg[] = "sizes";
    struct mech_op *op = NULL;
    assert_int_equal(op_new(CKM_ML_DSA, NULL, 0, CKF_SIGN, g_priv, &op), CKR_OK);
    CK_ULONG n = 0;
    assert_int_equal(op->ops->oneshot(op, msg, sizeof(msg), NULL, &n), CKR_OK);
    assert_int_equal(n, 3309);
    n = 100;
    assert_int_equal(op->ops->oneshot(op, msg, sizeof(msg), g_sig, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 3309);
    assert_int_equal(op->ops->oneshot(op, msg, sizeof(msg), g_sig, &n), CKR_OK);
    mech_op_free(op);
    assert_int_equal(verify1(CKM_ML_DSA, NULL, 0, g_pub, msg, sizeof(msg), g_sig, n), CKR_OK);
    /* multi-part: the size query keeps the state */
    assert_int_equal(op_new(CKM_ML_DSA, NULL, 0, CKF_SIGN, g_priv, &op), CKR_OK);
    assert_int_equal(op->ops->update(op, msg, sizeof(msg), NULL, NULL), CKR_OK);
    n = 0;
    assert_int_equal(op->ops->final(op, NULL, &n), CKR_OK);
    n = 10;
    assert_int_equal(op->ops->final(op, g_sig, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(op->ops->final(op, g_sig, &n), CKR_OK);
    mech_op_free(op);
    assert_int_equal(verify1(CKM_ML_DSA, NULL, 0, g_pub, msg, sizeof(msg), g_sig, n), CKR_OK);
    /* SLH-DSA-SHAKE-128f */
    assert_int_equal(op_new(CKM_SLH_DSA, NULL, 0, CKF_SIGN, g_slh_priv, &op), CKR_OK);
    n = 0;
    assert_int_equal(op->ops->oneshot(op, msg, sizeof(msg), NULL, &n), CKR_OK);
    assert_int_equal(n, 17088);
    mech_op_free(op);
}

static void test_bad_params(void **state)
{
    (void)state;
    pairs();
    static const unsigned char msg[] = "parameters";
    unsigned char ctx[256] = {0}, ph[64] = {0};
    CK_ULONG n = 0;
    CK_SIGN_ADDITIONAL_CONTEXT sp = {CKH_HEDGE_PREFERRED, ctx, 256};
    /* context of 256 bytes; 255 is fine, and part of the signature */
    assert_int_equal(SIGN(CKM_ML_DSA, SP, g_priv, MSG), BAD_PARAM);
    assert_int_equal(VERIFY(CKM_SLH_DSA, SP, g_slh_pub, MSG, g_sig, 1), BAD_PARAM);
    sp.ulContextLen = 255;
    assert_int_equal(SIGN(CKM_ML_DSA, SP, g_priv, MSG), CKR_OK);
    assert_int_equal(VERIFY(CKM_ML_DSA, SP, g_pub, MSG, g_sig, n), CKR_OK);
    sp.ulContextLen = 254;
    assert_int_equal(VERIFY(CKM_ML_DSA, SP, g_pub, MSG, g_sig, n), CKR_SIGNATURE_INVALID);
    /* NULL context with a length; wrong parameter size */
    sp.pContext = NULL;
    assert_int_equal(SIGN(CKM_ML_DSA, SP, g_priv, MSG), BAD_PARAM);
    sp.pContext = ctx;
    assert_int_equal(SIGN(CKM_ML_DSA, &sp, sizeof(sp) - 1, g_priv, MSG), BAD_PARAM);
    /* hedge values: checked when signing, ignored when verifying */
    sp.hedgeVariant = 3;
    sp.ulContextLen = 0;
    assert_int_equal(SIGN(CKM_ML_DSA, SP, g_priv, MSG), BAD_PARAM);
    assert_int_equal(SIGN(CKM_HASH_SLH_DSA_SHA256, SP, g_slh_priv, MSG), BAD_PARAM);
    sp.hedgeVariant = CKH_HEDGE_PREFERRED;
    assert_int_equal(SIGN(CKM_ML_DSA, SP, g_priv, MSG), CKR_OK);
    sp.hedgeVariant = 3;
    assert_int_equal(VERIFY(CKM_ML_DSA, SP, g_pub, MSG, g_sig, n), CKR_OK);
    /* CKM_HASH_ML_DSA: the parameter required, the hash known, the input its length */
    CK_HASH_SIGN_ADDITIONAL_CONTEXT hp = {CKH_HEDGE_PREFERRED, NULL, 0, CKM_SHA384};
    assert_int_equal(SIGN(CKM_HASH_ML_DSA, NP, g_priv, ph, 48), BAD_PARAM);
    assert_int_equal(SIGN(CKM_HASH_ML_DSA, HP, g_priv, ph, 32), CKR_DATA_LEN_RANGE);
    assert_int_equal(SIGN(CKM_HASH_ML_DSA, HP, g_priv, ph, 48), CKR_OK);
    assert_int_equal(VERIFY(CKM_HASH_ML_DSA, HP, g_pub, ph, 47, g_sig, n), CKR_DATA_LEN_RANGE);
    assert_int_equal(VERIFY(CKM_HASH_ML_DSA, HP, g_pub, ph, 48, g_sig, n), CKR_OK);
    hp.hash = CKM_SHA_1;
    assert_int_equal(SIGN(CKM_HASH_ML_DSA, HP, g_priv, ph, 20), BAD_PARAM);
    hp.hash = CKM_AES_ECB;
    assert_int_equal(SIGN(CKM_HASH_SLH_DSA, HP, g_slh_priv, ph, 32), BAD_PARAM);
    hp.hash = CKM_SHA512_256;
    assert_int_equal(SIGN(CKM_HASH_SLH_DSA, HP, g_slh_priv, ph, 32), CKR_OK);
    /* signature lengths */
    const CK_RV len_range = CKR_SIGNATURE_LEN_RANGE;
    assert_int_equal(VERIFY(CKM_HASH_SLH_DSA, HP, g_slh_pub, ph, 32, g_sig, n - 1), len_range);
    assert_int_equal(VERIFY(CKM_HASH_SLH_DSA, HP, g_slh_pub, ph, 32, g_sig, n + 1), len_range);
    assert_int_equal(VERIFY(CKM_HASH_SLH_DSA, HP, g_slh_pub, ph, 32, g_sig, n), CKR_OK);
    assert_int_equal(VERIFY(CKM_ML_DSA, NP, g_pub, MSG, g_sig, 0), len_range);
    /* keys: class, family, the aliases' parameter set; the aliases take no parameter */
    assert_int_equal(SIGN(CKM_ML_DSA, NP, g_pub, MSG), BAD_KEY);
    assert_int_equal(SIGN(CKM_SLH_DSA, NP, g_priv, MSG), BAD_KEY);
    assert_int_equal(SIGN(CKM_CRATON_ML_DSA_44, NP, g_priv, MSG), BAD_KEY);
    assert_int_equal(SIGN(CKM_CRATON_SLH_DSA_SHA2_128S, NP, g_slh_priv, MSG), BAD_KEY);
    assert_int_equal(SIGN(CKM_CRATON_ML_DSA_65, SP, g_priv, MSG), BAD_PARAM);
    assert_int_equal(SIGN(CKM_CRATON_ML_DSA_65, NP, g_priv, MSG), CKR_OK);
    assert_int_equal(VERIFY(CKM_ML_DSA, NP, g_pub, MSG, g_sig, n), CKR_OK);
    /* not a signing function */
    struct mech_op *op = NULL;
    const struct mech_desc *d = mech_find(CKM_ML_DSA);
    CK_MECHANISM m = {CKM_ML_DSA, NULL, 0};
    assert_int_equal(d->family->init(&op, d, &m, CKF_ENCRYPT, g_pub, g_c, &g_cfg),
                     CKR_MECHANISM_INVALID);
    assert_null(op);
}

/* ---- pairwise test --------------------------------------------------------- */

/* A key pair from priv's private key bytes changed by edit (NULL when
 * OpenSSL refuses it). */
static EVP_PKEY *tampered(EVP_PKEY *priv, void (*edit)(unsigned char *sk, size_t n))
{
    unsigned char *sk = OPENSSL_malloc(4896);
    size_t n = 0;
    assert_int_equal(EVP_PKEY_get_octet_string_param(priv, OSSL_PKEY_PARAM_PRIV_KEY, sk, 4896, &n),
                     1);
    edit(sk, n);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, sk, n),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(g_lc, EVP_PKEY_get0_type_name(priv), NULL);
    EVP_PKEY *out = NULL;
    if (EVP_PKEY_fromdata_init(pc) != 1 ||
        EVP_PKEY_fromdata(pc, &out, EVP_PKEY_KEYPAIR, params) != 1)
        out = NULL;
    EVP_PKEY_CTX_free(pc);
    OPENSSL_clear_free(sk, 4896);
    ERR_clear_error();
    return out;
}

/* ML-KEM-768 dk = dk_PKE || ek || H(ek) || z: another key's ek, its hash. */
static void kem_other_ek(unsigned char *sk, size_t n)
{
    EVP_PKEY *other = EVP_PKEY_Q_keygen(g_lc, NULL, "ML-KEM-768");
    size_t eklen = 0;
    unsigned int hlen = 0;
    assert_int_equal(n, 2400);
    assert_int_equal(
        EVP_PKEY_get_octet_string_param(other, OSSL_PKEY_PARAM_PUB_KEY, sk + 1152, 1184, &eklen),
        1);
    EVP_MD *sha3 = EVP_MD_fetch(g_lc, "SHA3-256", NULL);
    assert_int_equal(EVP_Digest(sk + 1152, eklen, sk + 1152 + 1184, &hlen, sha3, NULL), 1);
    EVP_MD_free(sha3);
    EVP_PKEY_free(other);
}

/* ML-DSA sk = rho || K || tr || s1 || s2 || t0: s1 changed. */
static void dsa_s1(unsigned char *sk, size_t n)
{
    (void)n;
    sk[32 + 32 + 64 + 5] ^= 0x01;
}

/* SLH-DSA sk = SK.seed || SK.prf || PK.seed || PK.root: another root. */
static void slh_root(unsigned char *sk, size_t n)
{
    sk[n - 1] ^= 0x01;
}

static void test_pairwise_check(void **state)
{
    (void)state;
    static const struct {
        const char *alg;
        CK_KEY_TYPE kt;
        void (*edit)(unsigned char *, size_t);
    } kinds[] = {
        {"ML-KEM-768", CKK_ML_KEM, kem_other_ek},
        {"ML-DSA-65", CKK_ML_DSA, dsa_s1},
        {"SLH-DSA-SHA2-128f", CKK_SLH_DSA, slh_root},
    };
    size_t rejected = 0;
    for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
        EVP_PKEY *good = EVP_PKEY_Q_keygen(g_lc, NULL, kinds[i].alg);
        assert_int_equal(mech_pairwise_check(g_c, good, kinds[i].kt), CKR_OK);
        /* a key of another type than said */
        assert_int_equal(mech_pairwise_check(g_c, good, kinds[(i + 1) % 3].kt), CKR_DEVICE_ERROR);
        EVP_PKEY *bad = tampered(good, kinds[i].edit);
        print_message("# %s: a mismatched pair %s\n", kinds[i].alg,
                      bad != NULL ? "is rejected" : "cannot even be built (OpenSSL checks)");
        if (bad != NULL)
            assert_int_equal(mech_pairwise_check(g_c, bad, kinds[i].kt), CKR_DEVICE_ERROR);
        rejected += bad != NULL;
        EVP_PKEY_free(bad);
        EVP_PKEY_free(good);
    }
    assert_true(rejected >= 1); /* SLH-DSA: OpenSSL does not recompute the root */
    assert_int_equal(ERR_peek_error(), 0);
}

static int cleanup_pairs(void **state)
{
    key_unref(g_pub);
    key_unref(g_priv);
    key_unref(g_slh_pub);
    key_unref(g_slh_priv);
    g_pub = g_priv = g_slh_pub = g_slh_priv = NULL;
    return group_teardown(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_export_roundtrip, mu_clear_errors, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_generate_all, mu_clear_errors, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_generate_errors, mu_clear_errors, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_mldsa_keygen_kat, mu_clear_errors, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_slhdsa_keygen_kat, mu_clear_errors, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_mldsa_siggen_kat, mu_clear_errors, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_slhdsa_siggen_kat, mu_clear_errors, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_mldsa_sigver_kat, mu_clear_errors, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_multipart, mu_clear_errors, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_hedging_and_openssl, mu_clear_errors, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_output_convention, mu_clear_errors, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_bad_params, mu_clear_errors, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_pairwise_check, mu_clear_errors, mu_check_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, cleanup_pairs);
}
