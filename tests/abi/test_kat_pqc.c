/* Known answers of the post-quantum mechanisms through the ABI: ML-KEM
 * (FIPS 203), ML-DSA (FIPS 204) and SLH-DSA (FIPS 205) from NIST ACVP and
 * Wycheproof (tests/vectors/README.md, notes 1, 2 and 5).
 *
 * Keys are session objects made with C_CreateObject (CKA_PARAMETER_SET with
 * CKA_VALUE or CKA_SEED) or, for key generation, with C_GenerateKeyPair fed
 * the vector's seed through the module's test hooks (CRATON_TEST_<name>,
 * compiled only into test builds: without them those checks are counted as
 * not applicable).  Randomised operations (ML-KEM encapsulation, hedged
 * ML-DSA / SLH-DSA signatures) get the vector's randomness the same way.
 *
 * Mapping to PKCS#11 3.2: ACVP external/pure = CKM_ML_DSA / CKM_SLH_DSA with
 * CK_SIGN_ADDITIONAL_CONTEXT; external/preHash = CKM_HASH_*_<hash> (the
 * token hashes) and CKM_HASH_* with CK_HASH_SIGN_ADDITIONAL_CONTEXT (the
 * caller hashes); deterministic = CKH_DETERMINISTIC_REQUIRED, hedged =
 * CKH_HEDGE_REQUIRED.  The internal interface and externalMu have no
 * PKCS#11 3.2 mechanism: not applicable.
 *
 * SLH-DSA "s" signing is slow (about 0.5 s a signature): by default only the
 * first vector of each group is signed (every parameter set and mechanism
 * still runs); CRATON_SLOW_TESTS=1 signs them all.  Every expected
 * signature is verified, and rejected once tampered, either way. */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "kat_util.h"

#define PQC_MAX_OUT 50000 /* the largest signature: SLH-DSA-*-256f, 49856 bytes */

static CK_OBJECT_CLASS c_pub = CKO_PUBLIC_KEY, c_priv = CKO_PRIVATE_KEY;

/* ---- parameter sets ------------------------------------------------------ */

struct pset {
    const char *name; /* ACVP parameterSet */
    CK_KEY_TYPE kt;
    CK_ULONG set;
    CK_MECHANISM_TYPE gen, pure; /* key pair generation; CKM_ML_KEM / CKM_ML_DSA / CKM_SLH_DSA */
    size_t pk, sk, out;          /* public, private key; ciphertext or signature */
};

// clang-format off
static const struct pset psets[] = {
    {"ML-KEM-512", CKK_ML_KEM, CKP_ML_KEM_512, CKM_ML_KEM_KEY_PAIR_GEN, CKM_ML_KEM, 800, 1632, 768},
    {"ML-KEM-768", CKK_ML_KEM, CKP_ML_KEM_768, CKM_ML_KEM_KEY_PAIR_GEN, CKM_ML_KEM, 1184, 2400, 1088},
    {"ML-KEM-1024", CKK_ML_KEM, CKP_ML_KEM_1024, CKM_ML_KEM_KEY_PAIR_GEN, CKM_ML_KEM, 1568, 3168, 1568},
    {"ML-DSA-44", CKK_ML_DSA, CKP_ML_DSA_44, CKM_ML_DSA_KEY_PAIR_GEN, CKM_ML_DSA, 1312, 2560, 2420},
    {"ML-DSA-65", CKK_ML_DSA, CKP_ML_DSA_65, CKM_ML_DSA_KEY_PAIR_GEN, CKM_ML_DSA, 1952, 4032, 3309},
    {"ML-DSA-87", CKK_ML_DSA, CKP_ML_DSA_87, CKM_ML_DSA_KEY_PAIR_GEN, CKM_ML_DSA, 2592, 4896, 4627},
#define SLH(n, set, pk, sig) {n, CKK_SLH_DSA, set, CKM_SLH_DSA_KEY_PAIR_GEN, CKM_SLH_DSA, pk, 2 * (pk), sig}
    SLH("SLH-DSA-SHA2-128s", CKP_SLH_DSA_SHA2_128S, 32, 7856),
    SLH("SLH-DSA-SHAKE-128s", CKP_SLH_DSA_SHAKE_128S, 32, 7856),
    SLH("SLH-DSA-SHA2-128f", CKP_SLH_DSA_SHA2_128F, 32, 17088),
    SLH("SLH-DSA-SHAKE-128f", CKP_SLH_DSA_SHAKE_128F, 32, 17088),
    SLH("SLH-DSA-SHA2-192s", CKP_SLH_DSA_SHA2_192S, 48, 16224),
    SLH("SLH-DSA-SHAKE-192s", CKP_SLH_DSA_SHAKE_192S, 48, 16224),
    SLH("SLH-DSA-SHA2-192f", CKP_SLH_DSA_SHA2_192F, 48, 35664),
    SLH("SLH-DSA-SHAKE-192f", CKP_SLH_DSA_SHAKE_192F, 48, 35664),
    SLH("SLH-DSA-SHA2-256s", CKP_SLH_DSA_SHA2_256S, 64, 29792),
    SLH("SLH-DSA-SHAKE-256s", CKP_SLH_DSA_SHAKE_256S, 64, 29792),
    SLH("SLH-DSA-SHA2-256f", CKP_SLH_DSA_SHA2_256F, 64, 49856),
    SLH("SLH-DSA-SHAKE-256f", CKP_SLH_DSA_SHAKE_256F, 64, 49856),
#undef SLH
};

/* The pre-hash mechanisms of each hash (ACVP hashAlg), 0: none in 3.2. */
static const struct {
    const char *acvp;
    CK_MECHANISM_TYPE mldsa, slhdsa;
} prehash[] = {
    {"SHA2-224", CKM_HASH_ML_DSA_SHA224, CKM_HASH_SLH_DSA_SHA224},
    {"SHA2-256", CKM_HASH_ML_DSA_SHA256, CKM_HASH_SLH_DSA_SHA256},
    {"SHA2-384", CKM_HASH_ML_DSA_SHA384, CKM_HASH_SLH_DSA_SHA384},
    {"SHA2-512", CKM_HASH_ML_DSA_SHA512, CKM_HASH_SLH_DSA_SHA512},
    {"SHA2-512/224", 0, 0},
    {"SHA2-512/256", 0, 0},
    {"SHA3-224", CKM_HASH_ML_DSA_SHA3_224, CKM_HASH_SLH_DSA_SHA3_224},
    {"SHA3-256", CKM_HASH_ML_DSA_SHA3_256, CKM_HASH_SLH_DSA_SHA3_256},
    {"SHA3-384", CKM_HASH_ML_DSA_SHA3_384, CKM_HASH_SLH_DSA_SHA3_384},
    {"SHA3-512", CKM_HASH_ML_DSA_SHA3_512, CKM_HASH_SLH_DSA_SHA3_512},
    {"SHAKE-128", CKM_HASH_ML_DSA_SHAKE128, CKM_HASH_SLH_DSA_SHAKE128},
    {"SHAKE-256", CKM_HASH_ML_DSA_SHAKE256, CKM_HASH_SLH_DSA_SHAKE256},
};
// clang-format on

static const struct pset *pset_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < KAT_N(psets); i++)
        if (strcmp(psets[i].name, name) == 0)
            return &psets[i];
    return NULL;
}

/* One vector t of group g (parameter set ps) of a vector file; ti: its
 * index in the group; ctx: the caller's. */
typedef void vec_fn(struct kat_vec *v, const struct pset *ps, const json_t *g, const json_t *t,
                    size_t ti, void *ctx);

/* Calls one for every test of every group of the vector file file (each
 * group's parameterSet known), after kat_vec_start(v, src, t). */
static void each_vector(struct kat_vec *v, const char *file, const char *src, vec_fn *one,
                        void *ctx)
{
    json_t *root = kat_load(file), *g, *t;
    size_t gi, ti;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const struct pset *ps = pset_find(kat_str(g, "parameterSet"));
        assert_non_null(ps);
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            kat_vec_start(v, src, t);
            one(v, ps, g, t, ti, ctx);
        }
    }
    json_decref(root);
}

/* The family name: every vector of file through one (see each_vector). */
static void run_family(const char *name, const char *file, const char *src, vec_fn *one, void *ctx)
{
    struct kat k;
    struct kat_vec v = {.k = &k};
    kat_begin(&k, name);
    each_vector(&v, file, src, one, ctx);
    kat_vec_free(&v);
    kat_end(&k);
}

static bool is_dsa(const struct pset *ps)
{
    return ps->kt == CKK_ML_DSA;
}

/* The hash mechanism of hashAlg for ps's family (0: none). */
static CK_MECHANISM_TYPE prehash_mech(const struct pset *ps, const char *alg)
{
    for (size_t i = 0; alg != NULL && i < KAT_N(prehash); i++)
        if (strcmp(prehash[i].acvp, alg) == 0)
            return is_dsa(ps) ? prehash[i].mldsa : prehash[i].slhdsa;
    return 0;
}

/* Return values kat_rv_name does not know. */
static const char *rvn(CK_RV rv)
{
    switch (rv) {
    case CKR_PARAMETER_SET_NOT_SUPPORTED:
        return "CKR_PARAMETER_SET_NOT_SUPPORTED";
    case CKR_TEMPLATE_INCOMPLETE:
        return "CKR_TEMPLATE_INCOMPLETE";
    default:
        return kat_rv_name(rv);
    }
}

/* ---- the module's test hooks ---------------------------------------------- */

/* Does the module under test carry the test hooks (crypto_test_entropy's
 * "CRATON_TEST_%s")?  Read once from the module file. */
static bool hooks_on(void)
{
    static int known = -1;
    if (known >= 0)
        return known == 1;
    known = 0;
    FILE *fp = fopen(abi_module_path(), "rb");
    if (fp == NULL)
        return false;
    static const char needle[] = "CRATON_TEST_%s";
    char buf[1 << 16];
    size_t keep = 0, n;
    while (known == 0 && (n = fread(buf + keep, 1, sizeof(buf) - keep, fp)) > 0) {
        size_t have = keep + n;
        for (size_t i = 0; i + sizeof(needle) - 1 <= have && known == 0; i++)
            if (memcmp(buf + i, needle, sizeof(needle) - 1) == 0)
                known = 1;
        keep = have < sizeof(needle) ? have : sizeof(needle) - 1;
        memmove(buf, buf + have - keep, keep);
    }
    fclose(fp);
    return known == 1;
}

/* CRATON_TEST_<name> = hex a || hex b (b may be NULL); unset with NULL a. */
static void hook_set(const char *name, const char *a, const char *b)
{
    char var[64];
    snprintf(var, sizeof(var), "CRATON_TEST_%s", name);
    if (a == NULL) {
        unsetenv(var);
        return;
    }
    size_t n = strlen(a) + (b != NULL ? strlen(b) : 0) + 1;
    char *v = malloc(n);
    assert_non_null(v);
    snprintf(v, n, "%s%s", a, b != NULL ? b : "");
    setenv(var, v, 1);
    free(v);
}

/* ---- keys ------------------------------------------------------------------ */

/* Usage flags and readability of a key made here. */
enum { K_OPEN = 1, K_DERIVE = 2 };

/* A session key of parameter set ps: class cls, value in attribute what
 * (CKA_VALUE or CKA_SEED).  K_OPEN: CKA_SENSITIVE false, CKA_EXTRACTABLE
 * true (the private value can be read back). */
static CK_RV pqc_key(const struct pset *ps, CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE what,
                     const unsigned char *val, size_t n, unsigned flags, CK_OBJECT_HANDLE *h)
{
    CK_OBJECT_CLASS *cp = cls == CKO_PUBLIC_KEY ? &c_pub : &c_priv;
    CK_KEY_TYPE kt = ps->kt;
    CK_ULONG set = ps->set;
    CK_ATTRIBUTE_TYPE use = ps->kt == CKK_ML_KEM
                                ? (cls == CKO_PUBLIC_KEY ? CKA_ENCAPSULATE : CKA_DECAPSULATE)
                            : cls == CKO_PUBLIC_KEY ? CKA_VERIFY
                                                    : CKA_SIGN;
    CK_ATTRIBUTE t[8] = {
        {CKA_CLASS, cp, sizeof(*cp)},
        {CKA_KEY_TYPE, &kt, sizeof(kt)},
        {CKA_TOKEN, &kat_false, sizeof(CK_BBOOL)},
        {CKA_PARAMETER_SET, &set, sizeof(set)},
        {what, (void *)val, (CK_ULONG)n},
        {use, &kat_true, sizeof(CK_BBOOL)},
    };
    CK_ULONG c = 6;
    if ((flags & K_OPEN) && cls == CKO_PRIVATE_KEY) {
        t[c++] = (CK_ATTRIBUTE){CKA_SENSITIVE, &kat_false, sizeof(CK_BBOOL)};
        t[c++] = (CK_ATTRIBUTE){CKA_EXTRACTABLE, &kat_true, sizeof(CK_BBOOL)};
    }
    return kat_create(t, c, h);
}

/* Attribute type of h, owned by v; NULL (and *rv) when it cannot be read. */
static unsigned char *attr_get(struct kat_vec *v, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
                               CK_ULONG *len, CK_RV *rv)
{
    CK_ATTRIBUTE a = {type, NULL, 0};
    *len = 0;
    *rv = KAT.f->C_GetAttributeValue(KAT.s, h, &a, 1);
    if (*rv != CKR_OK)
        return NULL;
    if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
        *rv = CKR_ATTRIBUTE_SENSITIVE;
        return NULL;
    }
    a.pValue = kat_vec_alloc(v, a.ulValueLen);
    *rv = KAT.f->C_GetAttributeValue(KAT.s, h, &a, 1);
    if (*rv != CKR_OK)
        return NULL;
    *len = a.ulValueLen;
    return a.pValue;
}

/* A check that attribute type of h equals want[0..n). */
static void check_attr(struct kat_vec *v, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
                       const char *what, const unsigned char *want, CK_ULONG n)
{
    CK_ULONG len;
    CK_RV rv;
    unsigned char *got = attr_get(v, h, type, &len, &rv);
    if (got == NULL)
        kat_check(v, false, "%s: C_GetAttributeValue: %s", what, rvn(rv));
    else
        kat_check(v, len == n && memcmp(got, want, n) == 0, "%s differs (%lu bytes, want %lu)",
                  what, (unsigned long)len, (unsigned long)n);
}

/* A check that the public key in h's CKA_PUBLIC_KEY_INFO is want[0..n). */
static void check_spki(struct kat_vec *v, CK_OBJECT_HANDLE h, const unsigned char *want, CK_ULONG n)
{
    CK_ULONG len;
    CK_RV rv;
    unsigned char *der = attr_get(v, h, CKA_PUBLIC_KEY_INFO, &len, &rv);
    if (der == NULL) {
        kat_check(v, false, "CKA_PUBLIC_KEY_INFO: %s", rvn(rv));
        return;
    }
    const unsigned char *p = der;
    EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)len);
    unsigned char *raw = kat_vec_alloc(v, n + 64);
    size_t got = 0;
    bool ok = pk != NULL &&
              EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, raw, n + 64, &got) == 1;
    EVP_PKEY_free(pk);
    kat_check(v, ok && got == n && memcmp(raw, want, n) == 0,
              "public key in CKA_PUBLIC_KEY_INFO differs (%s, %zu bytes)",
              ok ? "decoded" : "not decodable", got);
}

/* C_GenerateKeyPair of ps (CKA_PARAMETER_SET in the public template), the
 * private key readable. */
static CK_RV pqc_generate(const struct pset *ps, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
    CK_MECHANISM m = {ps->gen, NULL, 0};
    CK_ULONG set = ps->set;
    CK_ATTRIBUTE tpub[] = {{CKA_TOKEN, &kat_false, sizeof(CK_BBOOL)},
                           {CKA_PARAMETER_SET, &set, sizeof(set)}};
    CK_ATTRIBUTE tpriv[] = {{CKA_TOKEN, &kat_false, sizeof(CK_BBOOL)},
                            {CKA_SENSITIVE, &kat_false, sizeof(CK_BBOOL)},
                            {CKA_EXTRACTABLE, &kat_true, sizeof(CK_BBOOL)}};
    *pub = *priv = CK_INVALID_HANDLE;
    return KAT.f->C_GenerateKeyPair(KAT.s, &m, tpub, KAT_N(tpub), tpriv, KAT_N(tpriv), pub, priv);
}

/* Key generation from the hook seed (hex a || b): the public value, the
 * private value and (ML-KEM, ML-DSA) the private CKA_SEED are checked. */
static void keygen_hook(struct kat_vec *v, const struct pset *ps, const char *hook, const char *a,
                        const char *b, const unsigned char *pk, const unsigned char *sk,
                        const unsigned char *seed, CK_ULONG seedlen)
{
    CK_OBJECT_HANDLE pub, priv;
    if (!hooks_on()) {
        kat_na(v->k, 1, "key generation from a seed needs the test hooks (not in this build)");
        return;
    }
    hook_set(hook, a, b);
    CK_RV rv = pqc_generate(ps, &pub, &priv);
    hook_set(hook, NULL, NULL);
    if (!kat_check(v, rv == CKR_OK, "C_GenerateKeyPair (%s): %s", ps->name, rvn(rv)))
        return;
    check_attr(v, pub, CKA_VALUE, "generated public key", pk, (CK_ULONG)ps->pk);
    check_attr(v, priv, CKA_VALUE, "generated private key", sk, (CK_ULONG)ps->sk);
    if (seed != NULL)
        check_attr(v, priv, CKA_SEED, "generated CKA_SEED", seed, seedlen);
    kat_destroy(pub);
    kat_destroy(priv);
}

/* Is rv a refusal of a malformed key at C_CreateObject? */
static bool key_refusal(CK_RV rv)
{
    return rv == CKR_ATTRIBUTE_VALUE_INVALID || rv == CKR_TEMPLATE_INCONSISTENT ||
           rv == CKR_TEMPLATE_INCOMPLETE;
}

/* ---- ML-KEM ------------------------------------------------------------------ */

#define ACVP_KEM_KEYGEN "acvp/ML-KEM-keyGen-FIPS203/internalProjection.json"
#define ACVP_KEM        "acvp/ML-KEM-encapDecap-FIPS203/internalProjection.json"
#define ACVP_KEM_TR1    "acvp/ML-KEM-encapDecap-FIPS203-tr1/internalProjection.json"
#define WP_KEM_KEYGEN   "wycheproof/mlkem_768_keygen_seed_test.json"
#define WP_KEM_ENCAPS   "wycheproof/mlkem_768_encaps_test.json"
#define WP_KEM_DECAPS   "wycheproof/mlkem_768_test.json"
#define WP_KEM_SEMI     "wycheproof/mlkem_768_semi_expanded_decaps_test.json"

/* C_EncapsulateKey (CKM_ML_KEM) into ct; *out the new readable secret. */
static CK_RV encaps(CK_OBJECT_HANDLE pub, unsigned char *ct, CK_ULONG *ctlen, CK_OBJECT_HANDLE *out)
{
    CK_MECHANISM m = {CKM_ML_KEM, NULL, 0};
    CK_ATTRIBUTE t[6];
    CK_ULONG n = kat_open_template(t, NULL);
    *out = CK_INVALID_HANDLE;
    return KAT.f->C_EncapsulateKey(KAT.s, &m, pub, t, n, ct, ctlen, out);
}

static CK_RV decaps(CK_OBJECT_HANDLE priv, const unsigned char *ct, CK_ULONG ctlen,
                    CK_OBJECT_HANDLE *out)
{
    CK_MECHANISM m = {CKM_ML_KEM, NULL, 0};
    CK_ATTRIBUTE t[6];
    CK_ULONG n = kat_open_template(t, NULL);
    *out = CK_INVALID_HANDLE;
    return KAT.f->C_DecapsulateKey(KAT.s, &m, priv, t, n, (CK_BYTE_PTR)ct, ctlen, out);
}

/* Decapsulation of ct with priv gives the secret want (32 bytes). */
static void check_decaps(struct kat_vec *v, CK_OBJECT_HANDLE priv, const unsigned char *ct,
                         CK_ULONG ctlen, const unsigned char *want, CK_ULONG wlen)
{
    CK_OBJECT_HANDLE key;
    CK_RV rv = decaps(priv, ct, ctlen, &key);
    if (kat_check(v, rv == CKR_OK, "C_DecapsulateKey: %s", rvn(rv))) {
        check_attr(v, key, CKA_VALUE, "decapsulated secret", want, wlen);
        kat_destroy(key);
    }
}

/* Encapsulation to pub with the hook's m gives ciphertext c and secret k. */
static void check_encaps(struct kat_vec *v, CK_OBJECT_HANDLE pub, const char *mhex,
                         const unsigned char *c, CK_ULONG clen, const unsigned char *k,
                         CK_ULONG klen)
{
    CK_OBJECT_HANDLE key;
    CK_ULONG len = clen + 16;
    unsigned char *ct = kat_vec_alloc(v, len);
    if (!hooks_on()) {
        kat_na(v->k, 1, "encapsulation with a fixed m needs the test hooks (not in this build)");
        return;
    }
    hook_set("MLKEM_ENCAPS_M", mhex, NULL);
    CK_RV rv = encaps(pub, ct, &len, &key);
    hook_set("MLKEM_ENCAPS_M", NULL, NULL);
    if (!kat_check(v, rv == CKR_OK, "C_EncapsulateKey: %s", rvn(rv)))
        return;
    kat_check(v, len == clen && memcmp(ct, c, clen) == 0, "ciphertext differs (%lu bytes)",
              (unsigned long)len);
    check_attr(v, key, CKA_VALUE, "encapsulated secret", k, klen);
    kat_destroy(key);
}

/* ML-KEM key generation: d || z imported as CKA_SEED gives dk (CKA_VALUE)
 * and ek (CKA_PUBLIC_KEY_INFO); the hook gives the same through
 * C_GenerateKeyPair. */
static void kem_keygen_one(struct kat_vec *v, const struct pset *ps, const char *dhex,
                           const char *zhex, const unsigned char *ek, const unsigned char *dk)
{
    size_t n1, n2;
    unsigned char *d = kat_vec_keep(v, kat_unhex(dhex, &n1));
    unsigned char *seed = d;
    if (zhex != NULL) {
        unsigned char *z = kat_vec_keep(v, kat_unhex(zhex, &n2));
        seed = kat_vec_cat(v, d, (CK_ULONG)n1, z, (CK_ULONG)n2);
        n1 += n2;
    }
    CK_OBJECT_HANDLE priv;
    CK_RV rv = pqc_key(ps, CKO_PRIVATE_KEY, CKA_SEED, seed, n1, K_OPEN, &priv);
    if (kat_check(v, rv == CKR_OK, "C_CreateObject (CKA_SEED, %s): %s", ps->name, rvn(rv))) {
        check_attr(v, priv, CKA_VALUE, "private key from CKA_SEED", dk, (CK_ULONG)ps->sk);
        check_spki(v, priv, ek, (CK_ULONG)ps->pk);
        kat_destroy(priv);
    }
    keygen_hook(v, ps, "MLKEM_KEYGEN_SEED", dhex, zhex, ek, dk, seed, (CK_ULONG)n1);
}

/* An ML-KEM keyGen vector: ACVP's (d, z; *acvp true) or Wycheproof's
 * (seed). */
static void kem_keygen_vec(struct kat_vec *v, const struct pset *ps, const json_t *g,
                           const json_t *t, size_t ti, void *acvp)
{
    CK_ULONG n1, n2;
    const bool is_acvp = *(const bool *)acvp;
    (void)g;
    (void)ti;
    if (is_acvp && !kat_mech(v->k, ps->gen, "ML-KEM key pair generation", 1))
        return;
    unsigned char *ek = kat_vec_hex(v, t, "ek", &n1), *dk = kat_vec_hex(v, t, "dk", &n2);
    if (ek != NULL && dk != NULL)
        kem_keygen_one(v, ps, kat_str(t, is_acvp ? "d" : "seed"), is_acvp ? kat_str(t, "z") : NULL,
                       ek, dk);
}

static void test_mlkem_keygen(void **state)
{
    (void)state;
    static bool acvp = true, wycheproof = false;
    struct kat k;
    struct kat_vec v = {.k = &k};
    kat_begin(&k, "ML-KEM keyGen");
    each_vector(&v, ACVP_KEM_KEYGEN, ACVP_KEM_KEYGEN, kem_keygen_vec, &acvp);
    each_vector(&v, WP_KEM_KEYGEN, WP_KEM_KEYGEN, kem_keygen_vec, &wycheproof);
    kat_vec_free(&v);
    kat_end(&k);
}

/* One ACVP encapDecap test of group g (counted under CKM_ML_KEM). */
static void kem_acvp_one(struct kat_vec *v, const struct pset *ps, const json_t *g, const json_t *t,
                         size_t ti, void *ctx)
{
    (void)ti;
    (void)ctx;
    if (!kat_mech(v->k, CKM_ML_KEM, "CKM_ML_KEM", 1))
        return;
    const char *fn = kat_str(g, "function");
    CK_ULONG eklen, dklen, clen = 0, klen = 0;
    unsigned char *ek = kat_vec_hex(v, t, "ek", &eklen), *dk = kat_vec_hex(v, t, "dk", &dklen);
    unsigned char *c = json_object_get(t, "c") ? kat_vec_hex(v, t, "c", &clen) : NULL;
    unsigned char *k = json_object_get(t, "k") ? kat_vec_hex(v, t, "k", &klen) : NULL;
    CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
    CK_RV rv;
    if (ek == NULL || dk == NULL)
        return;
    if (strcmp(fn, "encapsulationKeyCheck") == 0 || strcmp(fn, "decapsulationKeyCheck") == 0) {
        bool pubk = fn[0] == 'e';
        rv = pubk ? pqc_key(ps, CKO_PUBLIC_KEY, CKA_VALUE, ek, eklen, 0, &pub)
                  : pqc_key(ps, CKO_PRIVATE_KEY, CKA_VALUE, dk, dklen, 0, &priv);
        if (kat_passed(t))
            kat_check(v, rv == CKR_OK, "%s: valid key refused: %s", fn, rvn(rv));
        else
            kat_check(v, key_refusal(rv), "%s (%s): C_CreateObject %s, want a refusal", fn,
                      kat_str(t, "reason"), rvn(rv));
    } else if (strcmp(fn, "encapsulation") == 0 && c != NULL && k != NULL) {
        rv = pqc_key(ps, CKO_PUBLIC_KEY, CKA_VALUE, ek, eklen, 0, &pub);
        if (kat_check(v, rv == CKR_OK, "C_CreateObject (ek): %s", rvn(rv)))
            check_encaps(v, pub, kat_str(t, "m"), c, clen, k, klen);
        rv = pqc_key(ps, CKO_PRIVATE_KEY, CKA_VALUE, dk, dklen, 0, &priv);
        if (kat_check(v, rv == CKR_OK, "C_CreateObject (dk): %s", rvn(rv)))
            check_decaps(v, priv, c, clen, k, klen);
    } else if (strcmp(fn, "decapsulation") == 0 && c != NULL && k != NULL) {
        if (kat_is(g, "keyFormat", "seed")) {
            CK_ULONG dl, zl;
            unsigned char *d = kat_vec_hex(v, t, "d", &dl), *z = kat_vec_hex(v, t, "z", &zl);
            if (d == NULL || z == NULL)
                return;
            rv = pqc_key(ps, CKO_PRIVATE_KEY, CKA_SEED, kat_vec_cat(v, d, dl, z, zl), dl + zl,
                         K_OPEN, &priv);
            if (kat_check(v, rv == CKR_OK, "C_CreateObject (CKA_SEED): %s", rvn(rv)))
                check_attr(v, priv, CKA_VALUE, "private key from CKA_SEED", dk, dklen);
        } else {
            rv = pqc_key(ps, CKO_PRIVATE_KEY, CKA_VALUE, dk, dklen, 0, &priv);
            kat_check(v, rv == CKR_OK, "C_CreateObject (dk): %s", rvn(rv));
        }
        if (priv != CK_INVALID_HANDLE)
            check_decaps(v, priv, c, clen, k, klen); /* implicit rejection included */
    } else {
        kat_check(v, false, "unknown ML-KEM test function %s", fn);
    }
    kat_destroy(pub);
    kat_destroy(priv);
}

/* The family name: every vector of files[0..n) through one (its file as
 * ctx). */
static void kem_files(const char *name, const char *const *files, size_t n, vec_fn *one)
{
    struct kat k;
    struct kat_vec v = {.k = &k};
    kat_begin(&k, name);
    for (size_t i = 0; i < n; i++)
        each_vector(&v, files[i], files[i], one, (void *)files[i]);
    kat_vec_free(&v);
    kat_end(&k);
}

static void test_mlkem_encap_decap(void **state)
{
    (void)state;
    static const char *const files[] = {ACVP_KEM, ACVP_KEM_TR1};
    kem_files("ML-KEM encapDecap", files, KAT_N(files), kem_acvp_one);
}

/* Wycheproof ML-KEM-768: encapsulation with m, decapsulation from a seed
 * or an expanded key; invalid keys refused at C_CreateObject, a ciphertext
 * of the wrong length with CKR_ENCRYPTED_DATA_LEN_RANGE. */
static void kem_wp_one(struct kat_vec *v, const struct pset *ps, const json_t *g, const json_t *t,
                       size_t ti, void *ctx)
{
    const char *file = ctx;
    (void)g;
    (void)ti;
    if (!kat_mech(v->k, CKM_ML_KEM, "CKM_ML_KEM", 1))
        return;
    const bool valid = kat_expect_of(t) == KAT_VALID;
    CK_ULONG eklen = 0, clen = 0, klen = 0, sl = 0;
    unsigned char *ek = kat_str(t, "ek") ? kat_vec_hex(v, t, "ek", &eklen) : NULL;
    unsigned char *c = kat_str(t, "c") ? kat_vec_hex(v, t, "c", &clen) : NULL;
    unsigned char *kk = kat_str(t, "K") ? kat_vec_hex(v, t, "K", &klen) : NULL;
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_RV rv;
    if (valid && (c == NULL || kk == NULL)) {
        kat_check(v, false, "valid test without c and K");
        return;
    }
    if (strcmp(file, WP_KEM_ENCAPS) == 0) {
        rv = pqc_key(ps, CKO_PUBLIC_KEY, CKA_VALUE, ek, eklen, 0, &h);
        if (valid && kat_check(v, rv == CKR_OK, "C_CreateObject (ek): %s", rvn(rv)))
            check_encaps(v, h, kat_str(t, "m"), c, clen, kk, klen);
        else if (!valid)
            kat_check(v, key_refusal(rv), "invalid ek (%s): C_CreateObject %s, want a refusal",
                      kat_str(t, "comment") ? kat_str(t, "comment") : "", rvn(rv));
    } else {
        const bool semi = strcmp(file, WP_KEM_SEMI) == 0;
        unsigned char *key = kat_vec_hex(v, t, semi ? "dk" : "seed", &sl);
        rv = pqc_key(ps, CKO_PRIVATE_KEY, semi ? CKA_VALUE : CKA_SEED, key, sl, 0, &h);
        if (kat_has_flag(t, "IncorrectCiphertextLength")) {
            CK_OBJECT_HANDLE out = CK_INVALID_HANDLE;
            if (kat_check(v, rv == CKR_OK, "C_CreateObject: %s", rvn(rv))) {
                rv = decaps(h, c, clen, &out);
                kat_check(v, rv == CKR_ENCRYPTED_DATA_LEN_RANGE,
                          "ciphertext of %lu bytes: %s, want CKR_ENCRYPTED_DATA_LEN_RANGE",
                          (unsigned long)clen, rvn(rv));
                kat_destroy(out);
            }
        } else if (valid) {
            if (kat_check(v, rv == CKR_OK, "C_CreateObject: %s", rvn(rv))) {
                check_decaps(v, h, c, clen, kk, klen);
                if (ek != NULL)
                    check_spki(v, h, ek, eklen);
            }
        } else {
            kat_check(v, key_refusal(rv), "invalid key (%s): C_CreateObject %s, want a refusal",
                      kat_str(t, "comment") ? kat_str(t, "comment") : "", rvn(rv));
        }
    }
    kat_destroy(h);
}

static void test_mlkem_wycheproof(void **state)
{
    (void)state;
    static const char *const files[] = {WP_KEM_ENCAPS, WP_KEM_DECAPS, WP_KEM_SEMI};
    kem_files("ML-KEM-768 Wycheproof", files, KAT_N(files), kem_wp_one);
}

/* ---- signatures: one vector ---------------------------------------------------- */

/* A signature vector in PKCS#11 terms. */
struct sigv {
    const struct pset *ps;
    const unsigned char *msg, *ctx;
    CK_ULONG mlen, clen;
    const char *hash;  /* ACVP hashAlg of a preHash vector; NULL: pure */
    const char *rnd;   /* hex randomness of a hedged vector; NULL: deterministic */
    const char *label; /* e.g. "pure" or "preHash SHA2-256" */
};

/* The mechanism (and its parameter, filled into sc / hc) of form f of v:
 * 0 pure or CKM_HASH_*_<hash> (token hashes); 1 CKM_HASH_* (caller hashes:
 * *data becomes PH(M), owned by kv).  Returns 0 when there is none. */
static CK_MECHANISM_TYPE sig_mech(struct kat_vec *kv, const struct sigv *v, int f,
                                  CK_HEDGE_TYPE hedge, CK_SIGN_ADDITIONAL_CONTEXT *sc,
                                  CK_HASH_SIGN_ADDITIONAL_CONTEXT *hc, CK_MECHANISM *m,
                                  const unsigned char **data, CK_ULONG *dlen)
{
    *sc = (CK_SIGN_ADDITIONAL_CONTEXT){hedge, (CK_BYTE_PTR)v->ctx, v->clen};
    *data = v->msg;
    *dlen = v->mlen;
    if (v->hash == NULL || f == 0) {
        CK_MECHANISM_TYPE t = v->hash == NULL ? v->ps->pure : prehash_mech(v->ps, v->hash);
        *m = (CK_MECHANISM){t, sc, sizeof(*sc)};
        return t;
    }
    const struct kat_hash *h = kat_hash_find(v->hash);
    if (h == NULL || h->digest == 0) /* SHAKE: no PKCS#11 digest mechanism to name */
        return 0;
    unsigned char *ph = kat_vec_alloc(kv, h->len);
    kat_digest(h, v->msg, v->mlen, ph);
    *data = ph;
    *dlen = (CK_ULONG)h->len;
    *hc = (CK_HASH_SIGN_ADDITIONAL_CONTEXT){hedge, (CK_BYTE_PTR)v->ctx, v->clen, h->digest};
    *m = (CK_MECHANISM){is_dsa(v->ps) ? CKM_HASH_ML_DSA : CKM_HASH_SLH_DSA, hc, sizeof(*hc)};
    return m->mechanism;
}

static const char *form_name(const struct sigv *v, int f)
{
    return v->hash == NULL ? "pure" : f == 0 ? "token-hashed" : "caller-hashed";
}

/* Signs v with priv in every form and compares with want. */
static void sign_check(struct kat_vec *kv, const struct sigv *v, CK_OBJECT_HANDLE priv,
                       const unsigned char *want, CK_ULONG wlen)
{
    const char *hook = is_dsa(v->ps) ? "MLDSA_RND" : "SLHDSA_ADDRND";
    unsigned char *sig = kat_vec_alloc(kv, PQC_MAX_OUT);
    for (int f = 0; f < (v->hash != NULL ? 2 : 1); f++) {
        CK_SIGN_ADDITIONAL_CONTEXT sc;
        CK_HASH_SIGN_ADDITIONAL_CONTEXT hc;
        CK_MECHANISM m;
        const unsigned char *data;
        CK_ULONG dlen;
        char why[128];
        CK_HEDGE_TYPE hedge = v->rnd != NULL ? CKH_HEDGE_REQUIRED : CKH_DETERMINISTIC_REQUIRED;
        if (sig_mech(kv, v, f, hedge, &sc, &hc, &m, &data, &dlen) == 0) {
            snprintf(why, sizeof(why), "%s (%s): no PKCS#11 3.2 mechanism or digest", v->label,
                     form_name(v, f));
            kat_na(kv->k, 1, why);
            continue;
        }
        if (v->rnd != NULL && !hooks_on()) {
            kat_na(kv->k, 1, "hedged signatures with fixed randomness need the test hooks");
            continue;
        }
        if (!kat_mech(kv->k, m.mechanism, v->label, 1))
            continue;
        size_t slen = PQC_MAX_OUT;
        if (v->rnd != NULL)
            hook_set(hook, v->rnd, NULL);
        CK_RV rv = kat_sign_rv(priv, &m, data, dlen, sig, &slen);
        hook_set(hook, NULL, NULL);
        if (f == 1 && rv == CKR_MECHANISM_PARAM_INVALID && v->hash != NULL &&
            strstr(v->hash, "512/") != NULL) {
            kat_na(kv->k, 1, "CKM_HASH_*_DSA with CKM_SHA512_224/256 refused by the module");
            continue;
        }
        if (kat_check(kv, rv == CKR_OK, "C_Sign (%s, %s, 0x%lx): %s", v->label, form_name(v, f),
                      (unsigned long)m.mechanism, rvn(rv)))
            kat_check(kv, slen == wlen && memcmp(sig, want, wlen) == 0,
                      "%s %s signature differs (%zu bytes)", v->label, form_name(v, f), slen);
    }
}

/* Verifies v's signature sig with pub in every form: want valid or not. */
static void verify_check(struct kat_vec *kv, const struct sigv *v, CK_OBJECT_HANDLE pub,
                         const unsigned char *sig, CK_ULONG slen, bool valid)
{
    for (int f = 0; f < (v->hash != NULL ? 2 : 1); f++) {
        CK_SIGN_ADDITIONAL_CONTEXT sc;
        CK_HASH_SIGN_ADDITIONAL_CONTEXT hc;
        CK_MECHANISM m;
        const unsigned char *data;
        CK_ULONG dlen;
        if (sig_mech(kv, v, f, CKH_HEDGE_PREFERRED, &sc, &hc, &m, &data, &dlen) == 0) {
            kat_na(kv->k, 1, "verify: no PKCS#11 3.2 mechanism or digest for the hash");
            continue;
        }
        if (!kat_mech(kv->k, m.mechanism, v->label, 1))
            continue;
        CK_RV rv = kat_verify_rv(pub, &m, data, dlen, sig, slen);
        if (f == 1 && rv == CKR_MECHANISM_PARAM_INVALID && v->hash != NULL &&
            strstr(v->hash, "512/") != NULL) {
            kat_na(kv->k, 1, "CKM_HASH_*_DSA with CKM_SHA512_224/256 refused by the module");
            continue;
        }
        if (valid)
            kat_check(kv, rv == CKR_OK, "C_Verify (%s, %s) of a valid signature: %s", v->label,
                      form_name(v, f), rvn(rv));
        else
            kat_check(kv, rv == CKR_SIGNATURE_INVALID || rv == CKR_SIGNATURE_LEN_RANGE,
                      "C_Verify (%s, %s) of an invalid signature: %s", v->label, form_name(v, f),
                      rvn(rv));
    }
}

/* Fills v from an ACVP test (message, context, hash, randomness field
 * rndkey); false when the group has no PKCS#11 interface (counted). */
static bool sigv_acvp(struct kat_vec *kv, struct sigv *v, const struct pset *ps, const json_t *g,
                      const json_t *t, const char *rndkey, char *label, size_t lsize)
{
    memset(v, 0, sizeof(*v));
    v->ps = ps;
    if (!kat_is(g, "signatureInterface", "external") || kat_bool(g, "externalMu")) {
        kat_na(kv->k, 1, "internal interface / externalMu: no PKCS#11 3.2 mechanism (note 5)");
        return false;
    }
    v->msg = kat_vec_hex(kv, t, "message", &v->mlen);
    v->ctx = kat_vec_hex(kv, t, "context", &v->clen);
    if (kat_is(g, "preHash", "preHash"))
        v->hash = kat_str(t, "hashAlg") != NULL ? kat_str(t, "hashAlg") : kat_str(g, "hashAlg");
    if (json_object_get(g, "deterministic") != NULL && !kat_bool(g, "deterministic"))
        v->rnd = kat_str(t, rndkey);
    snprintf(label, lsize, "%s %s%s%s", ps->name, v->rnd != NULL ? "hedged " : "",
             v->hash != NULL ? "preHash " : "pure", v->hash != NULL ? v->hash : "");
    v->label = label;
    return v->msg != NULL && v->ctx != NULL;
}

/* ---- ML-DSA ---------------------------------------------------------------- */

#define ACVP_DSA_KEYGEN "acvp/ML-DSA-keyGen-FIPS204/internalProjection.json"
#define ACVP_DSA_SIG    "acvp/ML-DSA-sigGen-FIPS204"
#define ACVP_DSA_SIG1   "acvp/ML-DSA-sigGen-FIPS204-tr1"
#define ACVP_DSA_VER    "acvp/ML-DSA-sigVer-FIPS204/internalProjection.json"
#define WP_DSA_NOSEED   "wycheproof/mldsa_65_sign_noseed_test.json"
#define WP_DSA_SEED     "wycheproof/mldsa_65_sign_seed_test.json"
#define WP_DSA_VERIFY   "wycheproof/mldsa_65_verify_test.json"

/* An ML-DSA keyGen vector: the key from its seed matches pk and sk. */
static void mldsa_keygen_vec(struct kat_vec *v, const struct pset *ps, const json_t *g,
                             const json_t *t, size_t ti, void *ctx)
{
    CK_ULONG n1, n2, n3;
    CK_OBJECT_HANDLE priv;
    (void)g;
    (void)ti;
    (void)ctx;
    if (!kat_mech(v->k, ps->gen, "ML-DSA key pair generation", 1))
        return;
    unsigned char *pk = kat_vec_hex(v, t, "pk", &n1), *sk = kat_vec_hex(v, t, "sk", &n2),
                  *seed = kat_vec_hex(v, t, "seed", &n3);
    if (pk == NULL || sk == NULL || seed == NULL)
        return;
    CK_RV rv = pqc_key(ps, CKO_PRIVATE_KEY, CKA_SEED, seed, n3, K_OPEN, &priv);
    if (kat_check(v, rv == CKR_OK, "C_CreateObject (CKA_SEED): %s", rvn(rv))) {
        check_attr(v, priv, CKA_VALUE, "private key from CKA_SEED", sk, n2);
        check_spki(v, priv, pk, n1);
        kat_destroy(priv);
    }
    keygen_hook(v, ps, "MLDSA_KEYGEN_SEED", kat_str(t, "seed"), NULL, pk, sk, seed, n3);
}

static void test_mldsa_keygen(void **state)
{
    (void)state;
    run_family("ML-DSA keyGen", ACVP_DSA_KEYGEN, ACVP_DSA_KEYGEN, mldsa_keygen_vec, NULL);
}

/* An ACVP ML-DSA sigGen vector; ctx: the expected results. */
static void mldsa_siggen_vec(struct kat_vec *v, const struct pset *ps, const json_t *g,
                             const json_t *t, size_t ti, void *ctx)
{
    const json_t *res = ctx;
    const bool seeded = kat_is(g, "keyFormat", "seed");
    char label[96];
    struct sigv sv;
    CK_ULONG sklen, slen;
    CK_OBJECT_HANDLE priv;
    (void)ti;
    if (!sigv_acvp(v, &sv, ps, g, t, "rnd", label, sizeof(label)))
        return;
    const json_t *r = kat_acvp_result(res, kat_int(g, "tgId"), kat_int(t, "tcId"));
    unsigned char *sk = kat_vec_hex(v, t, seeded ? "seed" : "sk", &sklen);
    unsigned char *want = r != NULL ? kat_vec_hex(v, r, "signature", &slen) : NULL;
    if (sk == NULL || want == NULL)
        return;
    CK_RV rv = pqc_key(ps, CKO_PRIVATE_KEY, seeded ? CKA_SEED : CKA_VALUE, sk, sklen, 0, &priv);
    if (!kat_check(v, rv == CKR_OK, "C_CreateObject (%s): %s", seeded ? "seed" : "sk", rvn(rv)))
        return;
    sign_check(v, &sv, priv, want, slen);
    kat_destroy(priv);
}

/* ACVP sigGen (dir: FIPS204 with expanded keys, or -tr1 with seeds). */
static void mldsa_siggen(struct kat *k, const char *dir)
{
    char prompt[128], expected[128];
    struct kat_vec v = {.k = k};
    snprintf(prompt, sizeof(prompt), "%s/prompt.json", dir);
    snprintf(expected, sizeof(expected), "%s/expectedResults.json", dir);
    json_t *res = kat_load(expected);
    each_vector(&v, prompt, prompt, mldsa_siggen_vec, res);
    json_decref(res);
    kat_vec_free(&v);
}

static void test_mldsa_siggen(void **state)
{
    (void)state;
    struct kat k;
    kat_begin(&k, "ML-DSA sigGen");
    mldsa_siggen(&k, ACVP_DSA_SIG);
    mldsa_siggen(&k, ACVP_DSA_SIG1);
    kat_end(&k);
}

/* An ACVP ML-DSA sigVer vector. */
static void mldsa_sigver_vec(struct kat_vec *v, const struct pset *ps, const json_t *g,
                             const json_t *t, size_t ti, void *ctx)
{
    char label[96];
    struct sigv sv;
    CK_ULONG pklen, slen;
    CK_OBJECT_HANDLE pub;
    (void)ti;
    (void)ctx;
    if (!sigv_acvp(v, &sv, ps, g, t, "rnd", label, sizeof(label)))
        return;
    unsigned char *pk = kat_vec_hex(v, t, "pk", &pklen),
                  *sig = kat_vec_hex(v, t, "signature", &slen);
    if (pk == NULL || sig == NULL)
        return;
    CK_RV rv = pqc_key(ps, CKO_PUBLIC_KEY, CKA_VALUE, pk, pklen, 0, &pub);
    if (!kat_check(v, rv == CKR_OK, "C_CreateObject (pk): %s", rvn(rv)))
        return;
    verify_check(v, &sv, pub, sig, slen, kat_passed(t));
    kat_destroy(pub);
}

static void test_mldsa_sigver(void **state)
{
    (void)state;
    run_family("ML-DSA sigVer", ACVP_DSA_VER, ACVP_DSA_VER, mldsa_sigver_vec, NULL);
}

static void mldsa_wp_sign(struct kat *k, const char *file, bool seeded)
{
    static const struct pset *ps = &psets[4]; /* ML-DSA-65 */
    struct kat_vec v = {.k = k};
    json_t *root = kat_load(file), *g, *t;
    size_t gi, ti;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        CK_ULONG klen = 0;
        CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE;
        size_t kn = 0;
        unsigned char *key = kat_hexfield(g, seeded ? "privateSeed" : "privateKey", &kn);
        assert_non_null(key);
        klen = (CK_ULONG)kn;
        CK_RV krv =
            pqc_key(ps, CKO_PRIVATE_KEY, seeded ? CKA_SEED : CKA_VALUE, key, klen, 0, &priv);
        free(key);
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            CK_ULONG mlen = 0, clen = 0, slen = 0;
            kat_vec_start(&v, file, t);
            const bool valid = kat_expect_of(t) == KAT_VALID;
            if (kat_str(t, "msg") == NULL || kat_has_flag(t, "Internal")) {
                kat_na(k, 1, "Wycheproof mu-only / internal tests: no PKCS#11 3.2 mechanism");
                continue;
            }
            if (krv != CKR_OK) {
                if (valid)
                    kat_check(&v, false, "C_CreateObject of a valid key: %s", rvn(krv));
                else
                    kat_check(&v, key_refusal(krv),
                              "invalid key: C_CreateObject %s, want a "
                              "refusal",
                              rvn(krv));
                continue;
            }
            struct sigv sv = {.ps = ps, .rnd = kat_str(t, "rnd"), .label = "ML-DSA-65 pure"};
            sv.msg = kat_vec_hex(&v, t, "msg", &mlen);
            sv.mlen = mlen;
            sv.ctx = kat_str(t, "ctx") != NULL ? kat_vec_hex(&v, t, "ctx", &clen) : NULL;
            sv.clen = clen;
            unsigned char *want = kat_vec_hex(&v, t, "sig", &slen);
            if (kat_has_flag(t, "InvalidContext")) {
                CK_SIGN_ADDITIONAL_CONTEXT sc = {CKH_DETERMINISTIC_REQUIRED, (CK_BYTE_PTR)sv.ctx,
                                                 clen};
                CK_MECHANISM m = {CKM_ML_DSA, &sc, sizeof(sc)};
                CK_RV rv = KAT.f->C_SignInit(KAT.s, &m, priv);
                kat_check(&v, rv == CKR_MECHANISM_PARAM_INVALID,
                          "context of %lu bytes: C_SignInit %s, want CKR_MECHANISM_PARAM_INVALID",
                          (unsigned long)clen, rvn(rv));
                if (rv == CKR_OK)
                    KAT.f->C_SignInit(KAT.s, NULL, priv);
            } else if (valid && sv.msg != NULL && want != NULL) {
                sign_check(&v, &sv, priv, want, slen);
            } else {
                kat_check(&v, false, "invalid signing test with a valid key: not understood");
            }
        }
        kat_destroy(priv);
    }
    json_decref(root);
    kat_vec_free(&v);
}

static void mldsa_wp_verify(struct kat *k)
{
    static const struct pset *ps = &psets[4];
    struct kat_vec v = {.k = k};
    json_t *root = kat_load(WP_DSA_VERIFY), *g, *t;
    size_t gi, ti;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE;
        size_t kn = 0;
        unsigned char *key = kat_hexfield(g, "publicKey", &kn);
        assert_non_null(key);
        CK_RV krv = pqc_key(ps, CKO_PUBLIC_KEY, CKA_VALUE, key, kn, 0, &pub);
        free(key);
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            CK_ULONG mlen = 0, clen = 0, slen = 0;
            kat_vec_start(&v, WP_DSA_VERIFY, t);
            const bool valid = kat_expect_of(t) == KAT_VALID;
            if (krv != CKR_OK) {
                kat_check(&v, !valid && key_refusal(krv), "public key: C_CreateObject %s (%s)",
                          rvn(krv), valid ? "valid test" : "want a refusal");
                continue;
            }
            struct sigv sv = {.ps = ps, .label = "ML-DSA-65 pure"};
            sv.msg = kat_vec_hex(&v, t, "msg", &mlen);
            sv.mlen = mlen;
            sv.ctx = kat_str(t, "ctx") != NULL ? kat_vec_hex(&v, t, "ctx", &clen) : NULL;
            sv.clen = clen;
            unsigned char *sig = kat_vec_hex(&v, t, "sig", &slen);
            if (kat_has_flag(t, "InvalidContext")) {
                CK_SIGN_ADDITIONAL_CONTEXT sc = {CKH_HEDGE_PREFERRED, (CK_BYTE_PTR)sv.ctx, clen};
                CK_MECHANISM m = {CKM_ML_DSA, &sc, sizeof(sc)};
                CK_RV rv = KAT.f->C_VerifyInit(KAT.s, &m, pub);
                kat_check(&v, rv == CKR_MECHANISM_PARAM_INVALID,
                          "context of %lu bytes: C_VerifyInit %s, want CKR_MECHANISM_PARAM_INVALID",
                          (unsigned long)clen, rvn(rv));
                if (rv == CKR_OK)
                    KAT.f->C_VerifyInit(KAT.s, NULL, pub);
            } else if (sv.msg != NULL && sig != NULL) {
                verify_check(&v, &sv, pub, sig, slen, valid);
            }
        }
        kat_destroy(pub);
    }
    json_decref(root);
    kat_vec_free(&v);
}

static void test_mldsa_wycheproof(void **state)
{
    (void)state;
    struct kat k;
    kat_begin(&k, "ML-DSA-65 Wycheproof");
    if (kat_mech(&k, CKM_ML_DSA, "CKM_ML_DSA", 1)) {
        mldsa_wp_sign(&k, WP_DSA_NOSEED, false);
        mldsa_wp_sign(&k, WP_DSA_SEED, true);
        mldsa_wp_verify(&k);
    }
    kat_end(&k);
}

/* ---- SLH-DSA ---------------------------------------------------------------- */

#define ACVP_SLH_KEYGEN "acvp/SLH-DSA-keyGen-FIPS205/internalProjection.json"
#define ACVP_SLH_SIG    "acvp/SLH-DSA-sigGen-FIPS205"
#define ACVP_SLH_VER    "acvp/SLH-DSA-sigVer-FIPS205-2024/internalProjection.json"

static bool slow_tests(void)
{
    const char *s = getenv("CRATON_SLOW_TESTS");
    return s != NULL && strcmp(s, "1") == 0;
}

/* SLH-DSA key generation: the hook seed skSeed || skPrf || pkSeed gives pk
 * and sk.  By default one vector per parameter set (key generation runs
 * the pairwise test, a signature); all with CRATON_SLOW_TESTS=1.  The
 * expanded sk is also imported and its public half compared. */
static void slhdsa_keygen_vec(struct kat_vec *v, const struct pset *ps, const json_t *g,
                              const json_t *t, size_t ti, void *ctx)
{
    CK_ULONG pkl, skl;
    CK_OBJECT_HANDLE priv;
    (void)g;
    (void)ctx;
    if (!kat_mech(v->k, ps->gen, "SLH-DSA key pair generation", 1))
        return;
    unsigned char *pk = kat_vec_hex(v, t, "pk", &pkl), *sk = kat_vec_hex(v, t, "sk", &skl);
    if (pk == NULL || sk == NULL)
        return;
    CK_RV rv = pqc_key(ps, CKO_PRIVATE_KEY, CKA_VALUE, sk, skl, K_OPEN, &priv);
    if (kat_check(v, rv == CKR_OK, "C_CreateObject (sk): %s", rvn(rv))) {
        check_spki(v, priv, pk, pkl);
        kat_destroy(priv);
    }
    if (ti > 0 && !slow_tests()) {
        kat_na(v->k, 1, "further SLH-DSA key generations with CRATON_SLOW_TESTS=1");
        return;
    }
    char *seed = malloc(strlen(kat_str(t, "skSeed")) * 3 + 1);
    assert_non_null(seed);
    sprintf(seed, "%s%s%s", kat_str(t, "skSeed"), kat_str(t, "skPrf"), kat_str(t, "pkSeed"));
    keygen_hook(v, ps, "SLHDSA_KEYGEN_SEED", seed, NULL, pk, sk, NULL, 0);
    free(seed);
}

static void test_slhdsa_keygen(void **state)
{
    (void)state;
    run_family("SLH-DSA keyGen", ACVP_SLH_KEYGEN, ACVP_SLH_KEYGEN, slhdsa_keygen_vec, NULL);
}

/* SLH-DSA sigGen: every expected signature verified with the public half
 * of sk (and rejected with a bit flipped: note 2 of the vectors' README);
 * signed by the token for the first vector of each group (all with
 * CRATON_SLOW_TESTS=1).  ctx: the expected results. */
static void slhdsa_siggen_vec(struct kat_vec *v, const struct pset *ps, const json_t *g,
                              const json_t *t, size_t ti, void *ctx)
{
    const json_t *res = ctx;
    char label[96];
    struct sigv sv;
    CK_ULONG skl, slen;
    CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE, pub = CK_INVALID_HANDLE;
    if (!sigv_acvp(v, &sv, ps, g, t, "additionalRandomness", label, sizeof(label)))
        return;
    const json_t *r = kat_acvp_result(res, kat_int(g, "tgId"), kat_int(t, "tcId"));
    unsigned char *sk = kat_vec_hex(v, t, "sk", &skl);
    unsigned char *want = r != NULL ? kat_vec_hex(v, r, "signature", &slen) : NULL;
    if (sk == NULL || want == NULL)
        return;
    CK_RV rv = pqc_key(ps, CKO_PUBLIC_KEY, CKA_VALUE, sk + skl / 2, skl / 2, 0, &pub);
    if (kat_check(v, rv == CKR_OK, "C_CreateObject (pk): %s", rvn(rv))) {
        verify_check(v, &sv, pub, want, slen, true);
        verify_check(v, &sv, pub, kat_vec_flip(v, want, slen), slen, false);
    }
    kat_destroy(pub);
    if (ti > 0 && !slow_tests()) {
        kat_na(v->k, 1, "further SLH-DSA signatures with CRATON_SLOW_TESTS=1");
        return;
    }
    rv = pqc_key(ps, CKO_PRIVATE_KEY, CKA_VALUE, sk, skl, 0, &priv);
    if (kat_check(v, rv == CKR_OK, "C_CreateObject (sk): %s", rvn(rv)))
        sign_check(v, &sv, priv, want, slen);
    kat_destroy(priv);
}

static void test_slhdsa_siggen(void **state)
{
    (void)state;
    struct kat k;
    struct kat_vec v = {.k = &k};
    json_t *res = kat_load(ACVP_SLH_SIG "/expectedResults.json");
    kat_begin(&k, "SLH-DSA sigGen+sigVer");
    each_vector(&v, ACVP_SLH_SIG "/prompt.json", ACVP_SLH_SIG, slhdsa_siggen_vec, res);
    json_decref(res);
    kat_vec_free(&v);
    kat_end(&k);
}

/* The 2024 sigVer file tests the internal interface only (no context, no
 * message encoding): no PKCS#11 mechanism verifies that; counted. */
static void test_slhdsa_sigver_2024(void **state)
{
    (void)state;
    struct kat k;
    json_t *root = kat_load(ACVP_SLH_VER), *g, *t;
    size_t gi, ti;
    kat_begin(&k, "SLH-DSA sigVer-2024");
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            k.vectors++;
            kat_na(&k, 1, "internal interface (SLH-DSA sign_internal): no PKCS#11 3.2 mechanism");
        }
    }
    json_decref(root);
    print_message("# %s: %u vectors, %u not applicable -- %s\n", k.name, k.vectors, k.na, k.notes);
    assert_int_equal(k.failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mlkem_keygen),     cmocka_unit_test(test_mlkem_encap_decap),
        cmocka_unit_test(test_mlkem_wycheproof), cmocka_unit_test(test_mldsa_keygen),
        cmocka_unit_test(test_mldsa_siggen),     cmocka_unit_test(test_mldsa_sigver),
        cmocka_unit_test(test_mldsa_wycheproof), cmocka_unit_test(test_slhdsa_keygen),
        cmocka_unit_test(test_slhdsa_siggen),    cmocka_unit_test(test_slhdsa_sigver_2024),
    };
    print_message("# module test hooks: %s\n", hooks_on() ? "present" : "absent");
    return cmocka_run_group_tests(tests, kat_group_setup, kat_group_teardown);
}
