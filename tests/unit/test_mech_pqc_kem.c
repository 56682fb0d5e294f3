/*
 * Unit tests for src/mech/pqc_kem.c: ML-KEM key pair generation
 * (CKM_ML_KEM_KEY_PAIR_GEN and the reference's CKM_CRATON_ML_KEM_*),
 * encapsulation / decapsulation (CKM_ML_KEM) and the reference's
 * decapsulation through C_DeriveKey, called directly through the family.
 * Known answers from NIST ACVP (tests/vectors/acvp, read at run time from
 * $CRATON_VECTORS): ML-KEM-keyGen-FIPS203 through the seed hook and through
 * CKA_SEED import, ML-KEM-encapDecap-FIPS203 (encapsulation with a fixed m
 * through the hook, decapsulation including implicit rejection, the
 * encapsulation / decapsulation key checks), ML-KEM-encapDecap-FIPS203-tr1
 * (decapsulation keys given as seeds).  Cross-checked with OpenSSL used
 * directly both ways; every template, parameter, length and key error with
 * its precise CKR.
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
#include "object/keyimport.h"

#define SS_LEN   32
#define SEED_LEN 64
#define CT_MAX   1568

static struct config g_cfg;
static struct crypto *g_c;
static OSSL_LIB_CTX *g_lc;

struct set {
    CK_ULONG set;
    const char *name;
    size_t pub_len, priv_len, ct_len;
    CK_MECHANISM_TYPE alias;
};

static const struct set sets[] = {
    {CKP_ML_KEM_512, "ML-KEM-512", 800, 1632, 768, CKM_CRATON_ML_KEM_512},
    {CKP_ML_KEM_768, "ML-KEM-768", 1184, 2400, 1088, CKM_CRATON_ML_KEM_768},
    {CKP_ML_KEM_1024, "ML-KEM-1024", 1568, 3168, 1568, CKM_CRATON_ML_KEM_1024},
};

static const struct set *set_named(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
        if (strcmp(sets[i].name, name) == 0)
            return &sets[i];
    fail_msg("unknown parameter set %s", name);
    return NULL;
}

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

static int teardown(void **state)
{
    unsetenv("CRATON_TEST_MLKEM_KEYGEN_SEED");
    unsetenv("CRATON_TEST_MLKEM_ENCAPS_M");
    return mu_check_errors(state);
}

/* ---- helpers --------------------------------------------------------------- */

static void tmpl(struct attrs *t, CK_OBJECT_CLASS cls)
{
    mu_tmpl(t, cls, CKK_ML_KEM);
}

static void assert_attr(const struct attrs *t, CK_ATTRIBUTE_TYPE type, const unsigned char *v,
                        size_t len)
{
    const struct attr *a = mu_need(t, type);
    assert_int_equal(a->len, len);
    assert_memory_equal(a->value, v, len);
}

/* The pair's templates of parameter set set (0: none given). */
static void pair_tmpl(struct attrs *pub, struct attrs *priv, CK_ULONG set)
{
    tmpl(pub, CKO_PUBLIC_KEY);
    tmpl(priv, CKO_PRIVATE_KEY);
    if (set != 0)
        assert_int_equal(attrs_set_ulong(pub, CKA_PARAMETER_SET, set), CKR_OK);
}

/* keyimport_check + key_build, as the p11 layer does with a new key. */
static struct key *finish(struct attrs *t, CK_OBJECT_CLASS cls)
{
    return mu_finish(g_c, t, cls, CKK_ML_KEM);
}

/* A key object of set from raw ek (public) or dk / seed (private). */
static struct key *import(CK_OBJECT_CLASS cls, const struct set *s, const unsigned char *value,
                          size_t len, const unsigned char *seed, struct attrs *out)
{
    struct attrs t;
    tmpl(&t, cls);
    assert_int_equal(attrs_set_ulong(&t, CKA_PARAMETER_SET, s->set), CKR_OK);
    if (value != NULL)
        assert_int_equal(attrs_set(&t, cls, CKA_VALUE, value, (CK_ULONG)len), CKR_OK);
    if (seed != NULL)
        assert_int_equal(attrs_set(&t, cls, CKA_SEED, seed, SEED_LEN), CKR_OK);
    struct key *k = finish(&t, cls);
    if (out != NULL)
        *out = t;
    else
        attrs_free(&t);
    return k;
}

static CK_RV encaps(CK_MECHANISM_TYPE mt, struct key *k, unsigned char *ct, CK_ULONG *ctlen,
                    unsigned char **ss, size_t *sslen)
{
    const struct mech_desc *d = mech_find(mt);
    CK_MECHANISM m = {mt, NULL, 0};
    return d->family->encapsulate(d, &m, k, g_c, &g_cfg, ct, ctlen, ss, sslen);
}

static CK_RV decaps(CK_MECHANISM_TYPE mt, struct key *k, const unsigned char *ct, CK_ULONG ctlen,
                    unsigned char **ss, size_t *sslen)
{
    const struct mech_desc *d = mech_find(mt);
    CK_MECHANISM m = {mt, NULL, 0};
    return d->family->decapsulate(d, &m, k, g_c, &g_cfg, ct, ctlen, ss, sslen);
}

/* The reference's path: C_DeriveKey with CKM_CRATON_ML_KEM_* and the
 * ciphertext as the parameter. */
static CK_RV derive(CK_MECHANISM_TYPE mt, struct key *k, const void *ct, CK_ULONG ctlen, size_t len,
                    unsigned char **out, size_t *outlen)
{
    const struct mech_desc *d = mech_find(mt);
    assert_non_null(d);
    CK_MECHANISM m = {mt, (void *)ct, ctlen};
    return d->family->derive(d, &m, k, g_c, &g_cfg, len, out, outlen);
}

/* Encapsulates to pub and decapsulates with priv: the same 32 bytes. */
static void round_trip(const struct set *s, struct key *pub, struct key *priv)
{
    unsigned char ct[CT_MAX];
    CK_ULONG ctlen = sizeof(ct);
    unsigned char *ss1 = NULL, *ss2 = NULL;
    size_t n1 = 0, n2 = 0;
    assert_int_equal(encaps(CKM_ML_KEM, pub, ct, &ctlen, &ss1, &n1), CKR_OK);
    assert_int_equal(ctlen, s->ct_len);
    assert_int_equal(n1, SS_LEN);
    if (CRYPTO_secure_malloc_initialized())
        assert_true(CRYPTO_secure_allocated(ss1));
    assert_int_equal(decaps(CKM_ML_KEM, priv, ct, ctlen, &ss2, &n2), CKR_OK);
    assert_int_equal(n2, SS_LEN);
    assert_memory_equal(ss1, ss2, SS_LEN);
    crypto_secret_free(ss2, n2);
    /* the reference's derive path gives the same secret */
    assert_int_equal(derive(s->alias, priv, ct, ctlen, 0, &ss2, &n2), CKR_OK);
    assert_int_equal(n2, SS_LEN);
    assert_memory_equal(ss1, ss2, SS_LEN);
    crypto_secret_free(ss2, n2);
    crypto_secret_free(ss1, n1);
}

#ifdef CRATON_TEST_HOOKS
/* Sets the test hook's environment variable name to the hex of v. */
static void hex_env(const char *name, const unsigned char *v, size_t len)
{
    char hex[2 * SEED_LEN + 1];
    assert_true(len <= SEED_LEN);
    for (size_t i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02X", v[i]);
    hex[2 * len] = '\0';
    assert_int_equal(setenv(name, hex, 1), 0);
}
#endif

/* ---- ACVP files ------------------------------------------------------------- */

/* The NUL-terminated text of $CRATON_VECTORS/acvp/<dir>/internalProjection.json. */
static char *acvp_load(const char *dir)
{
    const char *root = getenv("CRATON_VECTORS");
    char path[PATH_MAX];
    if (root == NULL)
        root = "../tests/vectors"; /* run by hand from build/ */
    snprintf(path, sizeof(path), "%s/acvp/%s/internalProjection.json", root, dir);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s (set CRATON_VECTORS)", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* One test case: its text [p, end) and its group's fields. */
struct acvp_case {
    const char *p, *end;
    int tc;
    const struct set *set;
    char function[32], key_format[16];
};

/* The string value of "name" in [p, end) into out (empty when absent). */
static void json_str(const char *p, const char *end, const char *name, char *out, size_t max)
{
    char key[48];
    snprintf(key, sizeof(key), "\"%s\": \"", name);
    out[0] = '\0';
    const char *v = strstr(p, key);
    if (v == NULL || v >= end)
        return;
    v += strlen(key);
    const char *q = strchr(v, '"');
    assert_non_null(q);
    size_t n = (size_t)(q - v);
    assert_true(n < max);
    memcpy(out, v, n);
    out[n] = '\0';
}

/* The hex value of "name" in case c, decoded (malloc'd; *len bytes). */
static unsigned char *json_hex(const struct acvp_case *c, const char *name, size_t *len)
{
    char key[48];
    snprintf(key, sizeof(key), "\"%s\": \"", name);
    const char *v = strstr(c->p, key);
    if (v == NULL || v >= c->end)
        fail_msg("tcId %d: no %s", c->tc, name);
    v += strlen(key);
    size_t n = strcspn(v, "\"");
    assert_int_equal(n % 2, 0);
    unsigned char *out = malloc(n / 2 + 1);
    assert_non_null(out);
    for (size_t i = 0; i < n / 2; i++) {
        unsigned b;
        assert_int_equal(sscanf(v + 2 * i, "%2x", &b), 1);
        out[i] = (unsigned char)b;
    }
    *len = n / 2;
    return out;
}

/* The last occurrence of needle in [buf, before), or NULL. */
static const char *last_before(const char *buf, const char *before, const char *needle)
{
    const char *found = NULL;
    for (const char *p = strstr(buf, needle); p != NULL && p < before; p = strstr(p + 1, needle))
        found = p;
    return found;
}

/* The next test case after *pos (NULL: none left). */
static bool acvp_next(const char *buf, const char **pos, struct acvp_case *c)
{
    const char *p = strstr(*pos, "\"tcId\": ");
    if (p == NULL)
        return false;
    memset(c, 0, sizeof(*c));
    c->p = p;
    c->end = strchr(p, '}'); /* test objects hold no nested objects */
    assert_non_null(c->end);
    c->tc = atoi(p + strlen("\"tcId\": "));
    const char *g = last_before(buf, p, "\"tgId\": ");
    assert_non_null(g);
    char name[32];
    json_str(g, p, "parameterSet", name, sizeof(name));
    c->set = set_named(name);
    json_str(g, p, "function", c->function, sizeof(c->function));
    json_str(g, p, "keyFormat", c->key_format, sizeof(c->key_format));
    *pos = c->end;
    return true;
}

/* ---- key pair generation ------------------------------------------------------ */

static void test_generate_all_sets(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
        const struct set *s = &sets[i];
        struct attrs pub, priv;
        CK_ULONG v = 0;
        pair_tmpl(&pub, &priv, s->set);
        assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_ML_KEM_KEY_PAIR_GEN, &pub, &priv), CKR_OK);
        assert_int_equal(mu_need(&pub, CKA_VALUE)->len, s->pub_len);
        assert_int_equal(mu_need(&priv, CKA_VALUE)->len, s->priv_len);
        assert_true(mu_need(&priv, CKA_VALUE)->secret);
        assert_int_equal(mu_need(&priv, CKA_SEED)->len, SEED_LEN);
        assert_true(mu_need(&priv, CKA_SEED)->secret);
        assert_null(attrs_find(&pub, CKA_SEED));
        assert_int_equal(attrs_get_ulong(&pub, CKA_PARAMETER_SET, &v), CKR_OK);
        assert_int_equal(v, s->set);
        assert_int_equal(attrs_get_ulong(&priv, CKA_PARAMETER_SET, &v), CKR_OK);
        assert_int_equal(v, s->set);
        const struct attr *a = mu_need(&pub, CKA_PUBLIC_KEY_INFO),
                          *b = mu_need(&priv, CKA_PUBLIC_KEY_INFO);
        assert_int_equal(a->len, b->len);
        assert_memory_equal(a->value, b->value, a->len);
        /* the material passes the import checks (seed and value agree) */
        struct key *kp = finish(&pub, CKO_PUBLIC_KEY), *kk = finish(&priv, CKO_PRIVATE_KEY);
        assert_int_equal(kp->parameter_set, s->set);
        round_trip(s, kp, kk);
        key_unref(kp);
        key_unref(kk);
        attrs_free(&pub);
        attrs_free(&priv);
    }
}

static void test_generate_two_pairs_differ(void **state)
{
    (void)state;
    struct attrs pub1, priv1, pub2, priv2;
    pair_tmpl(&pub1, &priv1, CKP_ML_KEM_768);
    pair_tmpl(&pub2, &priv2, CKP_ML_KEM_768);
    assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_ML_KEM_KEY_PAIR_GEN, &pub1, &priv1), CKR_OK);
    assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_ML_KEM_KEY_PAIR_GEN, &pub2, &priv2), CKR_OK);
    assert_memory_not_equal(mu_need(&priv1, CKA_SEED)->value, mu_need(&priv2, CKA_SEED)->value,
                            SEED_LEN);
    assert_memory_not_equal(mu_need(&pub1, CKA_VALUE)->value, mu_need(&pub2, CKA_VALUE)->value,
                            1184);
    attrs_free(&pub1);
    attrs_free(&priv1);
    attrs_free(&pub2);
    attrs_free(&priv2);
}

static void test_generate_vendor_aliases(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
        const struct set *s = &sets[i];
        struct attrs pub, priv;
        CK_ULONG v = 0;
        /* no parameter set given: the mechanism's */
        pair_tmpl(&pub, &priv, 0);
        assert_int_equal(mu_gen_pair(&g_cfg, g_c, s->alias, &pub, &priv), CKR_OK);
        assert_int_equal(attrs_get_ulong(&pub, CKA_PARAMETER_SET, &v), CKR_OK);
        assert_int_equal(v, s->set);
        assert_int_equal(attrs_get_ulong(&priv, CKA_PARAMETER_SET, &v), CKR_OK);
        assert_int_equal(v, s->set);
        assert_int_equal(mu_need(&pub, CKA_VALUE)->len, s->pub_len);
        struct key *kp = finish(&pub, CKO_PUBLIC_KEY), *kk = finish(&priv, CKO_PRIVATE_KEY);
        round_trip(s, kp, kk);
        key_unref(kp);
        key_unref(kk);
        attrs_free(&pub);
        attrs_free(&priv);

        /* the same one given, in either template: fine */
        pair_tmpl(&pub, &priv, s->set);
        assert_int_equal(attrs_set_ulong(&priv, CKA_PARAMETER_SET, s->set), CKR_OK);
        assert_int_equal(mu_gen_pair(&g_cfg, g_c, s->alias, &pub, &priv), CKR_OK);
        attrs_free(&pub);
        attrs_free(&priv);

        /* another one: inconsistent with the mechanism */
        const struct set *o = &sets[(i + 1) % ARRAY_SIZE(sets)];
        pair_tmpl(&pub, &priv, o->set);
        assert_int_equal(mu_gen_pair(&g_cfg, g_c, s->alias, &pub, &priv),
                         CKR_TEMPLATE_INCONSISTENT);
        assert_null(attrs_find(&pub, CKA_VALUE));
        attrs_free(&pub);
        attrs_free(&priv);
        pair_tmpl(&pub, &priv, 0);
        assert_int_equal(attrs_set_ulong(&priv, CKA_PARAMETER_SET, o->set), CKR_OK);
        assert_int_equal(mu_gen_pair(&g_cfg, g_c, s->alias, &pub, &priv),
                         CKR_TEMPLATE_INCONSISTENT);
        attrs_free(&pub);
        attrs_free(&priv);
    }
}

static void test_generate_template_errors(void **state)
{
    (void)state;
    struct attrs pub, priv;

    /* the public template names the set */
    pair_tmpl(&pub, &priv, 0);
    assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_ML_KEM_KEY_PAIR_GEN, &pub, &priv),
                     CKR_TEMPLATE_INCOMPLETE);
    /* ... the private one alone does not */
    assert_int_equal(attrs_set_ulong(&priv, CKA_PARAMETER_SET, CKP_ML_KEM_768), CKR_OK);
    assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_ML_KEM_KEY_PAIR_GEN, &pub, &priv),
                     CKR_TEMPLATE_INCOMPLETE);
    attrs_free(&pub);
    attrs_free(&priv);

    /* unknown sets, including ML-DSA's numbers being reused */
    const CK_ULONG unknown[] = {0, 4, 0x80000001UL, CK_UNAVAILABLE_INFORMATION};
    for (size_t i = 0; i < ARRAY_SIZE(unknown); i++) {
        pair_tmpl(&pub, &priv, unknown[i]);
        if (unknown[i] == 0)
            assert_int_equal(attrs_set_ulong(&pub, CKA_PARAMETER_SET, 0), CKR_OK);
        assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_ML_KEM_KEY_PAIR_GEN, &pub, &priv),
                         CKR_PARAMETER_SET_NOT_SUPPORTED);
        attrs_free(&pub);
        attrs_free(&priv);
    }

    /* the private template's must match */
    pair_tmpl(&pub, &priv, CKP_ML_KEM_768);
    assert_int_equal(attrs_set_ulong(&priv, CKA_PARAMETER_SET, CKP_ML_KEM_512), CKR_OK);
    assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_ML_KEM_KEY_PAIR_GEN, &pub, &priv),
                     CKR_TEMPLATE_INCONSISTENT);
    assert_null(attrs_find(&pub, CKA_VALUE));
    assert_null(attrs_find(&priv, CKA_VALUE));
    attrs_free(&pub);
    attrs_free(&priv);

    /* malformed values */
    pair_tmpl(&pub, &priv, 0);
    unsigned char one = CKP_ML_KEM_768;
    assert_int_equal(attrs_set(&pub, CKO_PUBLIC_KEY, CKA_PARAMETER_SET, &one, 1), CKR_OK);
    assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_ML_KEM_KEY_PAIR_GEN, &pub, &priv),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_CRATON_ML_KEM_768, &pub, &priv),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    attrs_free(&pub);
    attrs_free(&priv);
    pair_tmpl(&pub, &priv, CKP_ML_KEM_768);
    assert_int_equal(attrs_set(&priv, CKO_PRIVATE_KEY, CKA_PARAMETER_SET, &one, 1), CKR_OK);
    assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_ML_KEM_KEY_PAIR_GEN, &pub, &priv),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    attrs_free(&pub);
    attrs_free(&priv);

    /* "It does not have a parameter." */
    pair_tmpl(&pub, &priv, CKP_ML_KEM_768);
    const struct mech_desc *d = mech_find(CKM_ML_KEM_KEY_PAIR_GEN);
    CK_ULONG junk = 0;
    CK_MECHANISM m = {CKM_ML_KEM_KEY_PAIR_GEN, &junk, sizeof(junk)};
    assert_int_equal(d->family->generate_pair(d, &m, g_c, &g_cfg, &pub, &priv),
                     CKR_MECHANISM_PARAM_INVALID);
    d = mech_find(CKM_CRATON_ML_KEM_768);
    m.mechanism = CKM_CRATON_ML_KEM_768;
    assert_int_equal(d->family->generate_pair(d, &m, g_c, &g_cfg, &pub, &priv),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_null(attrs_find(&pub, CKA_VALUE));
    attrs_free(&pub);
    attrs_free(&priv);

    /* a row of this family that makes no pairs */
    pair_tmpl(&pub, &priv, CKP_ML_KEM_768);
    d = mech_find(CKM_ML_KEM);
    CK_MECHANISM kem = {CKM_ML_KEM, NULL, 0};
    assert_int_equal(d->family->generate_pair(d, &kem, g_c, &g_cfg, &pub, &priv),
                     CKR_MECHANISM_INVALID);
    attrs_free(&pub);
    attrs_free(&priv);
}

/* ---- ACVP known answers ---------------------------------------------------------- */

static void test_acvp_keygen(void **state)
{
    (void)state;
    char *buf = acvp_load("ML-KEM-keyGen-FIPS203");
    const char *pos = buf;
    struct acvp_case c;
    int n = 0;
    while (acvp_next(buf, &pos, &c)) {
        size_t dl, zl, ekl, dkl;
        unsigned char *d = json_hex(&c, "d", &dl), *z = json_hex(&c, "z", &zl);
        unsigned char *ek = json_hex(&c, "ek", &ekl), *dk = json_hex(&c, "dk", &dkl);
        unsigned char seed[SEED_LEN];
        assert_int_equal(dl + zl, SEED_LEN);
        memcpy(seed, d, dl);
        memcpy(seed + dl, z, zl);
        assert_int_equal(ekl, c.set->pub_len);
        assert_int_equal(dkl, c.set->priv_len);

        /* through CKA_SEED import: the value is filled in from the seed */
        struct attrs priv, pub;
        struct key *kk = import(CKO_PRIVATE_KEY, c.set, NULL, 0, seed, &priv);
        assert_attr(&priv, CKA_VALUE, dk, dkl);
        struct key *kp = import(CKO_PUBLIC_KEY, c.set, ek, ekl, NULL, &pub);
        assert_attr(&priv, CKA_PUBLIC_KEY_INFO, mu_need(&pub, CKA_PUBLIC_KEY_INFO)->value,
                    mu_need(&pub, CKA_PUBLIC_KEY_INFO)->len);
        round_trip(c.set, kp, kk);
        key_unref(kk);
        key_unref(kp);
        attrs_free(&priv);
        attrs_free(&pub);

#ifdef CRATON_TEST_HOOKS
        /* through key generation with the seed hook */
        hex_env("CRATON_TEST_MLKEM_KEYGEN_SEED", seed, sizeof(seed));
        pair_tmpl(&pub, &priv, c.set->set);
        assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_ML_KEM_KEY_PAIR_GEN, &pub, &priv), CKR_OK);
        assert_attr(&pub, CKA_VALUE, ek, ekl);
        assert_attr(&priv, CKA_VALUE, dk, dkl);
        assert_attr(&priv, CKA_SEED, seed, sizeof(seed));
        attrs_free(&pub);
        attrs_free(&priv);
        unsetenv("CRATON_TEST_MLKEM_KEYGEN_SEED");
#endif
        OPENSSL_cleanse(seed, sizeof(seed));
        free(d);
        free(z);
        free(ek);
        free(dk);
        n++;
    }
    assert_int_equal(n, 9);
    free(buf);
}

/* One encapsulation (AFT) case: fixed m through the hook -> c, k; and the
 * decapsulation key gives k back. */
static void acvp_encapsulation(const struct acvp_case *c)
{
    size_t ekl, dkl, cl, kl, ml;
    unsigned char *ek = json_hex(c, "ek", &ekl), *dk = json_hex(c, "dk", &dkl);
    unsigned char *ct = json_hex(c, "c", &cl), *k = json_hex(c, "k", &kl);
    unsigned char *m = json_hex(c, "m", &ml);
    unsigned char *ss = NULL;
    size_t sslen = 0;
    struct key *pub = import(CKO_PUBLIC_KEY, c->set, ek, ekl, NULL, NULL);
    struct key *priv = import(CKO_PRIVATE_KEY, c->set, dk, dkl, NULL, NULL);

#ifdef CRATON_TEST_HOOKS
    unsigned char out[CT_MAX];
    CK_ULONG outlen = sizeof(out);
    hex_env("CRATON_TEST_MLKEM_ENCAPS_M", m, ml);
    assert_int_equal(encaps(CKM_ML_KEM, pub, out, &outlen, &ss, &sslen), CKR_OK);
    assert_int_equal(outlen, cl);
    assert_memory_equal(out, ct, cl);
    assert_int_equal(sslen, kl);
    assert_memory_equal(ss, k, kl);
    crypto_secret_free(ss, sslen);
    unsetenv("CRATON_TEST_MLKEM_ENCAPS_M");
    /* without the hook: fresh randomness */
    outlen = sizeof(out);
    assert_int_equal(encaps(CKM_ML_KEM, pub, out, &outlen, &ss, &sslen), CKR_OK);
    assert_memory_not_equal(out, ct, cl);
    crypto_secret_free(ss, sslen);
#endif
    assert_int_equal(decaps(CKM_ML_KEM, priv, ct, (CK_ULONG)cl, &ss, &sslen), CKR_OK);
    assert_int_equal(sslen, kl);
    assert_memory_equal(ss, k, kl);
    crypto_secret_free(ss, sslen);
    key_unref(pub);
    key_unref(priv);
    free(ek);
    free(dk);
    free(ct);
    free(k);
    free(m);
}

/* One decapsulation (VAL) case, valid or modified ciphertext (implicit
 * rejection): k, through C_DecapsulateKey's and C_DeriveKey's paths.  dk
 * as the expanded key, or (seed) as d || z. */
static void acvp_decapsulation(const struct acvp_case *c, bool seed_format)
{
    size_t dkl, cl, kl, el;
    unsigned char *dk = json_hex(c, "dk", &dkl), *ct = json_hex(c, "c", &cl);
    unsigned char *k = json_hex(c, "k", &kl), *ek = json_hex(c, "ek", &el);
    unsigned char *ss = NULL;
    size_t sslen = 0;
    struct key *priv;
    if (seed_format) {
        size_t dl, zl;
        unsigned char *d = json_hex(c, "d", &dl), *z = json_hex(c, "z", &zl);
        unsigned char seed[SEED_LEN];
        assert_int_equal(dl + zl, SEED_LEN);
        memcpy(seed, d, dl);
        memcpy(seed + dl, z, zl);
        struct attrs t;
        priv = import(CKO_PRIVATE_KEY, c->set, NULL, 0, seed, &t);
        assert_attr(&t, CKA_VALUE, dk, dkl); /* the seed expands to the given dk */
        attrs_free(&t);
        OPENSSL_cleanse(seed, sizeof(seed));
        free(d);
        free(z);
    } else {
        priv = import(CKO_PRIVATE_KEY, c->set, dk, dkl, NULL, NULL);
    }
    assert_int_equal(cl, c->set->ct_len);
    assert_int_equal(decaps(CKM_ML_KEM, priv, ct, (CK_ULONG)cl, &ss, &sslen), CKR_OK);
    assert_int_equal(sslen, kl);
    assert_memory_equal(ss, k, kl);
    crypto_secret_free(ss, sslen);
    assert_int_equal(derive(c->set->alias, priv, ct, (CK_ULONG)cl, 0, &ss, &sslen), CKR_OK);
    assert_int_equal(sslen, kl);
    assert_memory_equal(ss, k, kl);
    crypto_secret_free(ss, sslen);
    key_unref(priv);
    free(dk);
    free(ct);
    free(k);
    free(ek);
}

/* One key check case: the import checks accept exactly the valid keys (so
 * no invalid key ever reaches the family). */
static void acvp_key_check(const struct acvp_case *c, bool decaps_key)
{
    size_t len;
    unsigned char *v = json_hex(c, decaps_key ? "dk" : "ek", &len);
    const bool passed = strstr(c->p, "\"testPassed\": true") != NULL &&
                        strstr(c->p, "\"testPassed\": true") < c->end;
    const CK_OBJECT_CLASS cls = decaps_key ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY;
    struct attrs t;
    tmpl(&t, cls);
    assert_int_equal(attrs_set_ulong(&t, CKA_PARAMETER_SET, c->set->set), CKR_OK);
    assert_int_equal(attrs_set(&t, cls, CKA_VALUE, v, (CK_ULONG)len), CKR_OK);
    CK_RV rv = keyimport_check(g_c, cls, CKK_ML_KEM, &t);
    if (passed)
        assert_int_equal(rv, CKR_OK);
    else
        assert_int_equal(rv, CKR_ATTRIBUTE_VALUE_INVALID);
    attrs_free(&t);
    free(v);
}

static void test_acvp_encap_decap(void **state)
{
    (void)state;
    char *buf = acvp_load("ML-KEM-encapDecap-FIPS203");
    const char *pos = buf;
    struct acvp_case c;
    int n = 0, enc = 0, dec = 0, rejected = 0;
    while (acvp_next(buf, &pos, &c)) {
        if (strcmp(c.function, "encapsulation") == 0) {
            acvp_encapsulation(&c);
            enc++;
        } else if (strcmp(c.function, "decapsulation") == 0) {
            acvp_decapsulation(&c, false);
            dec++;
            rejected += strstr(c.p, "modified ciphertext") != NULL &&
                        strstr(c.p, "modified ciphertext") < c.end;
        } else if (strcmp(c.function, "encapsulationKeyCheck") == 0) {
            acvp_key_check(&c, false);
        } else if (strcmp(c.function, "decapsulationKeyCheck") == 0) {
            acvp_key_check(&c, true);
        } else {
            fail_msg("tcId %d: unknown function %s", c.tc, c.function);
        }
        n++;
    }
    assert_int_equal(n, 28);
    assert_int_equal(enc, 7);
    assert_int_equal(dec, 7);
    assert_true(rejected >= 3); /* implicit rejection is exercised for every set */
    free(buf);
}

static void test_acvp_decap_seed_format(void **state)
{
    (void)state;
    char *buf = acvp_load("ML-KEM-encapDecap-FIPS203-tr1");
    const char *pos = buf;
    struct acvp_case c;
    int n = 0;
    while (acvp_next(buf, &pos, &c)) {
        assert_string_equal(c.function, "decapsulation");
        assert_string_equal(c.key_format, "seed");
        acvp_decapsulation(&c, true);
        n++;
    }
    assert_int_equal(n, 6);
    free(buf);
}

/* ---- OpenSSL cross-checks ------------------------------------------------------------ */

/* OpenSSL's own key pair of set s, and our key objects of it. */
static EVP_PKEY *ossl_pair(const struct set *s, struct key **pub, struct key **priv)
{
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(g_lc, NULL, s->name);
    assert_non_null(pkey);
    unsigned char ek[CT_MAX], *dk = OPENSSL_secure_malloc(s->priv_len);
    size_t el = 0, dl = 0;
    assert_non_null(dk);
    assert_int_equal(
        EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, ek, sizeof(ek), &el), 1);
    assert_int_equal(
        EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, dk, s->priv_len, &dl), 1);
    *pub = import(CKO_PUBLIC_KEY, s, ek, el, NULL, NULL);
    *priv = import(CKO_PRIVATE_KEY, s, dk, dl, NULL, NULL);
    OPENSSL_secure_clear_free(dk, s->priv_len);
    return pkey;
}

static void test_openssl_cross(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
        const struct set *s = &sets[i];
        struct key *pub = NULL, *priv = NULL;
        EVP_PKEY *pkey = ossl_pair(s, &pub, &priv);
        unsigned char ct[CT_MAX], theirs[SS_LEN], *ours = NULL;
        size_t ctlen = sizeof(ct), tl = sizeof(theirs), ol = 0;

        /* OpenSSL encapsulates to our key; we decapsulate */
        EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(g_lc, pkey, NULL);
        assert_non_null(pc);
        assert_int_equal(EVP_PKEY_encapsulate_init(pc, NULL), 1);
        assert_int_equal(EVP_PKEY_encapsulate(pc, ct, &ctlen, theirs, &tl), 1);
        EVP_PKEY_CTX_free(pc);
        assert_int_equal(ctlen, s->ct_len);
        assert_int_equal(decaps(CKM_ML_KEM, priv, ct, (CK_ULONG)ctlen, &ours, &ol), CKR_OK);
        assert_int_equal(ol, tl);
        assert_memory_equal(ours, theirs, tl);
        crypto_secret_free(ours, ol);

        /* we encapsulate; OpenSSL decapsulates */
        CK_ULONG cl = sizeof(ct);
        assert_int_equal(encaps(CKM_ML_KEM, pub, ct, &cl, &ours, &ol), CKR_OK);
        pc = EVP_PKEY_CTX_new_from_pkey(g_lc, pkey, NULL);
        assert_non_null(pc);
        tl = sizeof(theirs);
        assert_int_equal(EVP_PKEY_decapsulate_init(pc, NULL), 1);
        assert_int_equal(EVP_PKEY_decapsulate(pc, theirs, &tl, ct, cl), 1);
        EVP_PKEY_CTX_free(pc);
        assert_int_equal(tl, ol);
        assert_memory_equal(ours, theirs, tl);
        crypto_secret_free(ours, ol);

        OPENSSL_cleanse(theirs, sizeof(theirs));
        EVP_PKEY_free(pkey);
        key_unref(pub);
        key_unref(priv);
    }
}

/* Our generated pair works with OpenSSL: its public value encapsulates for
 * OpenSSL, our private key decapsulates. */
static void test_generated_with_openssl(void **state)
{
    (void)state;
    struct attrs pub, priv;
    pair_tmpl(&pub, &priv, CKP_ML_KEM_1024);
    assert_int_equal(mu_gen_pair(&g_cfg, g_c, CKM_ML_KEM_KEY_PAIR_GEN, &pub, &priv), CKR_OK);
    const struct attr *ek = mu_need(&pub, CKA_VALUE);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, ek->value, ek->len),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(g_lc, "ML-KEM-1024", NULL);
    EVP_PKEY *peer = NULL;
    assert_non_null(pc);
    assert_int_equal(EVP_PKEY_fromdata_init(pc), 1);
    assert_int_equal(EVP_PKEY_fromdata(pc, &peer, EVP_PKEY_PUBLIC_KEY, params), 1);
    EVP_PKEY_CTX_free(pc);

    unsigned char ct[CT_MAX], theirs[SS_LEN], *ours = NULL;
    size_t ctlen = sizeof(ct), tl = sizeof(theirs), ol = 0;
    pc = EVP_PKEY_CTX_new_from_pkey(g_lc, peer, NULL);
    assert_non_null(pc);
    assert_int_equal(EVP_PKEY_encapsulate_init(pc, NULL), 1);
    assert_int_equal(EVP_PKEY_encapsulate(pc, ct, &ctlen, theirs, &tl), 1);
    EVP_PKEY_CTX_free(pc);
    EVP_PKEY_free(peer);

    struct key *kk = finish(&priv, CKO_PRIVATE_KEY);
    assert_int_equal(decaps(CKM_ML_KEM, kk, ct, (CK_ULONG)ctlen, &ours, &ol), CKR_OK);
    assert_memory_equal(ours, theirs, SS_LEN);
    crypto_secret_free(ours, ol);
    key_unref(kk);
    attrs_free(&pub);
    attrs_free(&priv);
}

/* ---- behaviour and errors --------------------------------------------------------------- */

static void test_implicit_rejection(void **state)
{
    (void)state;
    const struct set *s = &sets[1];
    struct key *pub = NULL, *priv = NULL;
    EVP_PKEY *pkey = ossl_pair(s, &pub, &priv);
    unsigned char ct[CT_MAX], *good = NULL, *bad1 = NULL, *bad2 = NULL;
    CK_ULONG cl = sizeof(ct);
    size_t n = 0;
    assert_int_equal(encaps(CKM_ML_KEM, pub, ct, &cl, &good, &n), CKR_OK);
    ct[cl / 2] ^= 0x01;
    /* a forged ciphertext is not an error: a pseudo-random secret of the
     * key's z and the ciphertext, the same every time */
    assert_int_equal(decaps(CKM_ML_KEM, priv, ct, cl, &bad1, &n), CKR_OK);
    assert_int_equal(n, SS_LEN);
    assert_memory_not_equal(good, bad1, SS_LEN);
    assert_int_equal(decaps(CKM_ML_KEM, priv, ct, cl, &bad2, &n), CKR_OK);
    assert_memory_equal(bad1, bad2, SS_LEN);
    crypto_secret_free(bad2, n);
    assert_int_equal(derive(s->alias, priv, ct, cl, 0, &bad2, &n), CKR_OK);
    assert_memory_equal(bad1, bad2, SS_LEN);
    crypto_secret_free(bad2, n);
    crypto_secret_free(bad1, n);
    crypto_secret_free(good, n);
    EVP_PKEY_free(pkey);
    key_unref(pub);
    key_unref(priv);
}

static void test_encapsulate_output_convention(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
        const struct set *s = &sets[i];
        struct key *pub = NULL, *priv = NULL;
        EVP_PKEY *pkey = ossl_pair(s, &pub, &priv);
        unsigned char ct[CT_MAX + 1], *ss = NULL;
        CK_ULONG cl = 0;
        size_t n = 0;

        /* size query: the ciphertext size and no secret */
        assert_int_equal(encaps(CKM_ML_KEM, pub, NULL, &cl, NULL, NULL), CKR_OK);
        assert_int_equal(cl, s->ct_len);
        cl = 12345;
        assert_int_equal(encaps(CKM_ML_KEM, pub, NULL, &cl, &ss, &n), CKR_OK);
        assert_int_equal(cl, s->ct_len);
        assert_null(ss);
        /* short buffer */
        cl = (CK_ULONG)s->ct_len - 1;
        assert_int_equal(encaps(CKM_ML_KEM, pub, ct, &cl, &ss, &n), CKR_BUFFER_TOO_SMALL);
        assert_int_equal(cl, s->ct_len);
        assert_null(ss);
        cl = 0;
        assert_int_equal(encaps(CKM_ML_KEM, pub, ct, &cl, &ss, &n), CKR_BUFFER_TOO_SMALL);
        assert_int_equal(cl, s->ct_len);
        /* exact and larger buffers */
        cl = (CK_ULONG)s->ct_len;
        assert_int_equal(encaps(CKM_ML_KEM, pub, ct, &cl, &ss, &n), CKR_OK);
        assert_int_equal(cl, s->ct_len);
        assert_int_equal(n, SS_LEN);
        crypto_secret_free(ss, n);
        ss = NULL;
        cl = sizeof(ct);
        assert_int_equal(encaps(CKM_ML_KEM, pub, ct, &cl, &ss, &n), CKR_OK);
        assert_int_equal(cl, s->ct_len);
        crypto_secret_free(ss, n);
        EVP_PKEY_free(pkey);
        key_unref(pub);
        key_unref(priv);
    }
}

static void test_decapsulate_length_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
        const struct set *s = &sets[i];
        struct key *pub = NULL, *priv = NULL;
        EVP_PKEY *pkey = ossl_pair(s, &pub, &priv);
        unsigned char ct[CT_MAX + 1] = {0}, *ss = NULL;
        size_t n = 99;
        const CK_ULONG bad[] = {0,    1,   (CK_ULONG)s->ct_len - 1, (CK_ULONG)s->ct_len + 1, 768,
                                1088, 1568};
        for (size_t j = 0; j < ARRAY_SIZE(bad); j++) {
            if (bad[j] == s->ct_len)
                continue;
            assert_int_equal(decaps(CKM_ML_KEM, priv, ct, bad[j], &ss, &n),
                             CKR_ENCRYPTED_DATA_LEN_RANGE);
            assert_null(ss);
            assert_int_equal(n, 0);
            /* the derive path: the ciphertext is the mechanism parameter */
            assert_int_equal(derive(s->alias, priv, ct, bad[j], 0, &ss, &n),
                             CKR_MECHANISM_PARAM_INVALID);
            assert_null(ss);
        }
        assert_int_equal(derive(s->alias, priv, NULL, 0, 0, &ss, &n), CKR_MECHANISM_PARAM_INVALID);
        EVP_PKEY_free(pkey);
        key_unref(pub);
        key_unref(priv);
    }
}

static void test_parameter_given(void **state)
{
    (void)state;
    const struct set *s = &sets[0];
    struct key *pub = NULL, *priv = NULL;
    EVP_PKEY *pkey = ossl_pair(s, &pub, &priv);
    const struct mech_desc *d = mech_find(CKM_ML_KEM);
    CK_ULONG junk = 0;
    CK_MECHANISM m = {CKM_ML_KEM, &junk, sizeof(junk)};
    unsigned char ct[CT_MAX] = {0}, *ss = NULL;
    CK_ULONG cl = sizeof(ct);
    size_t n = 0;
    assert_int_equal(d->family->encapsulate(d, &m, pub, g_c, &g_cfg, ct, &cl, &ss, &n),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(d->family->encapsulate(d, &m, pub, g_c, &g_cfg, NULL, &cl, NULL, NULL),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_null(ss);
    assert_int_equal(d->family->decapsulate(d, &m, priv, g_c, &g_cfg, ct, 768, &ss, &n),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_null(ss);
    EVP_PKEY_free(pkey);
    key_unref(pub);
    key_unref(priv);
}

static void test_wrong_keys(void **state)
{
    (void)state;
    const struct set *s = &sets[1];
    struct key *pub = NULL, *priv = NULL;
    EVP_PKEY *pkey = ossl_pair(s, &pub, &priv);
    const struct mech_desc *d = mech_find(CKM_ML_KEM);
    unsigned char ct[CT_MAX] = {0}, *ss = NULL;
    CK_ULONG cl = sizeof(ct);
    size_t n = 0;

    /* the p11 layer's check: the class of each function */
    assert_int_equal(mech_check_key(d, CKF_ENCAPSULATE, pub, &g_cfg), CKR_OK);
    assert_int_equal(mech_check_key(d, CKF_DECAPSULATE, priv, &g_cfg), CKR_OK);
    assert_int_equal(mech_check_key(d, CKF_DECAPSULATE, pub, &g_cfg), CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(mech_check_key(d, CKF_ENCAPSULATE, priv, &g_cfg), CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(mech_check_key(mech_find(CKM_CRATON_ML_KEM_768), CKF_DERIVE, pub, &g_cfg),
                     CKR_KEY_TYPE_INCONSISTENT);

    /* what the family sees if it were called anyway */
    assert_int_equal(encaps(CKM_ML_KEM, priv, ct, &cl, &ss, &n), CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(decaps(CKM_ML_KEM, pub, ct, (CK_ULONG)s->ct_len, &ss, &n),
                     CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(derive(s->alias, pub, ct, (CK_ULONG)s->ct_len, 0, &ss, &n),
                     CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(encaps(CKM_ML_KEM, NULL, ct, &cl, &ss, &n), CKR_KEY_TYPE_INCONSISTENT);
    assert_null(ss);

    /* another key type, or a key without its OpenSSL form */
    struct key fake;
    memcpy(&fake, pub, sizeof(fake));
    fake.type = CKK_ML_DSA;
    assert_int_equal(encaps(CKM_ML_KEM, &fake, ct, &cl, &ss, &n), CKR_KEY_TYPE_INCONSISTENT);
    memcpy(&fake, pub, sizeof(fake));
    fake.pkey = NULL;
    assert_int_equal(encaps(CKM_ML_KEM, &fake, ct, &cl, &ss, &n), CKR_KEY_TYPE_INCONSISTENT);
    memcpy(&fake, priv, sizeof(fake));
    fake.parameter_set = CKP_ML_DSA_65 + 100;
    assert_int_equal(decaps(CKM_ML_KEM, &fake, ct, (CK_ULONG)s->ct_len, &ss, &n),
                     CKR_KEY_TYPE_INCONSISTENT);
    assert_null(ss);

    /* the reference's mechanisms take their own parameter set only */
    assert_int_equal(derive(CKM_CRATON_ML_KEM_512, priv, ct, 768, 0, &ss, &n), CKR_KEY_SIZE_RANGE);
    assert_int_equal(derive(CKM_CRATON_ML_KEM_1024, priv, ct, (CK_ULONG)s->ct_len, 0, &ss, &n),
                     CKR_KEY_SIZE_RANGE);
    assert_null(ss);

    /* the standard mechanism has no derive path; the aliases no encapsulation */
    assert_int_equal(derive(CKM_ML_KEM, priv, ct, (CK_ULONG)s->ct_len, 0, &ss, &n),
                     CKR_MECHANISM_INVALID);
    assert_int_equal(encaps(CKM_CRATON_ML_KEM_768, pub, ct, &cl, &ss, &n), CKR_MECHANISM_INVALID);
    assert_int_equal(decaps(CKM_CRATON_ML_KEM_768, priv, ct, (CK_ULONG)s->ct_len, &ss, &n),
                     CKR_MECHANISM_INVALID);
    assert_null(ss);
    EVP_PKEY_free(pkey);
    key_unref(pub);
    key_unref(priv);
}

static void test_derive_lengths(void **state)
{
    (void)state;
    const struct set *s = &sets[2];
    struct key *pub = NULL, *priv = NULL;
    EVP_PKEY *pkey = ossl_pair(s, &pub, &priv);
    unsigned char ct[CT_MAX], *ss = NULL, *out = NULL;
    CK_ULONG cl = sizeof(ct);
    size_t n = 0, on = 0;
    assert_int_equal(encaps(CKM_ML_KEM, pub, ct, &cl, &ss, &n), CKR_OK);

    const size_t lens[] = {0, 1, 16, 24, 31, 32};
    for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
        assert_int_equal(derive(s->alias, priv, ct, cl, lens[i], &out, &on), CKR_OK);
        assert_int_equal(on, lens[i] == 0 ? SS_LEN : lens[i]);
        assert_memory_equal(out, ss, on); /* the leading bytes of the secret */
        if (CRYPTO_secure_malloc_initialized())
            assert_true(CRYPTO_secure_allocated(out));
        crypto_secret_free(out, on);
        out = NULL;
    }
    assert_int_equal(derive(s->alias, priv, ct, cl, 33, &out, &on), CKR_KEY_SIZE_RANGE);
    assert_int_equal(derive(s->alias, priv, ct, cl, ATTR_MAX_VALUE + 1, &out, &on),
                     CKR_KEY_SIZE_RANGE);
    assert_null(out);
    assert_int_equal(on, 0);
    crypto_secret_free(ss, n);
    EVP_PKEY_free(pkey);
    key_unref(pub);
    key_unref(priv);
}

/* The table rows this family serves, as C_GetMechanismInfo reports them. */
static void test_mechanism_rows(void **state)
{
    (void)state;
    const struct mech_desc *d = mech_find(CKM_ML_KEM);
    assert_ptr_equal(d->family, &mech_pqc_kem_family);
    assert_int_equal(d->flags, CKF_ENCAPSULATE | CKF_DECAPSULATE);
    d = mech_find(CKM_ML_KEM_KEY_PAIR_GEN);
    assert_ptr_equal(d->family, &mech_pqc_kem_family);
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
        d = mech_find(sets[i].alias);
        assert_ptr_equal(d->family, &mech_pqc_kem_family);
        assert_int_equal(d->arg, sets[i].set);
        assert_int_equal(d->min, sets[i].pub_len);
        assert_int_equal(d->max, sets[i].pub_len);
    }
    assert_null(mech_pqc_kem_family.init); /* no multi-part operations */
    assert_non_null(mech_pqc_kem_family.encapsulate);
    assert_non_null(mech_pqc_kem_family.decapsulate);
    assert_non_null(mech_pqc_kem_family.derive);
    assert_non_null(mech_pqc_kem_family.generate_pair);
    assert_null(mech_pqc_kem_family.generate);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, mu_clear_errors, teardown)
    const struct CMUnitTest tests[] = {
        T(test_mechanism_rows),
        T(test_generate_all_sets),
        T(test_generate_two_pairs_differ),
        T(test_generate_vendor_aliases),
        T(test_generate_template_errors),
        T(test_acvp_keygen),
        T(test_acvp_encap_decap),
        T(test_acvp_decap_seed_format),
        T(test_openssl_cross),
        T(test_generated_with_openssl),
        T(test_implicit_rejection),
        T(test_encapsulate_output_convention),
        T(test_decapsulate_length_errors),
        T(test_parameter_given),
        T(test_wrong_keys),
        T(test_derive_lengths),
    };
#undef T
    return cmocka_run_group_tests_name("mech_pqc_kem", tests, group_setup, group_teardown);
}
