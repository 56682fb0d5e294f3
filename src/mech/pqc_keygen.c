/* Key pair generation shared by the post-quantum families (ML-KEM, ML-DSA,
 * SLH-DSA): the parameter set from the templates, a prediction-resistant
 * reseed, OpenSSL's key generation, the pairwise test, the export. */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "mech/mech.h"
#include "object/keyexport.h"

#define PQC_SEED_MAX 96 /* bytes: SLH-DSA-256's skSeed || skPrf || pkSeed */

/* The key material keyexport_attrs adds (removed again on failure). */
static const CK_ATTRIBUTE_TYPE material[] = {CKA_VALUE, CKA_SEED, CKA_PUBLIC_KEY_INFO};

/* CKA_PARAMETER_SET of t: *given false when absent or empty. */
static CK_RV tmpl_set(const struct attrs *t, CK_ULONG *set, bool *given)
{
    const struct attr *a = attrs_find(t, CKA_PARAMETER_SET);
    *given = a != NULL && a->len > 0;
    return *given ? attrs_get_ulong(t, CKA_PARAMETER_SET, set) : CKR_OK;
}

CK_RV mech_pqc_pair_set(const struct mech_desc *d, const struct attrs *pub,
                        const struct attrs *priv, CK_ULONG *set)
{
    CK_ULONG vpub = 0, vpriv = 0;
    bool gpub = false, gpriv = false;
    CK_RV rv;
    if ((rv = tmpl_set(pub, &vpub, &gpub)) != CKR_OK ||
        (rv = tmpl_set(priv, &vpriv, &gpriv)) != CKR_OK)
        return rv;
    if (d->arg != 0) {
        if ((gpub && vpub != d->arg) || (gpriv && vpriv != d->arg))
            return CKR_TEMPLATE_INCONSISTENT;
        vpub = d->arg;
    } else if (!gpub) {
        return CKR_TEMPLATE_INCOMPLETE;
    }
    *set = vpub;
    return gpriv && vpriv != vpub ? CKR_TEMPLATE_INCONSISTENT : CKR_OK;
}

/* EVP_PKEY_generate of alg (test builds: from the seed a known-answer test
 * gives in CRATON_TEST_<hook>, exactly seed_len bytes). */
static CK_RV keygen(OSSL_LIB_CTX *lc, const char *alg, const char *hook, size_t seed_len,
                    EVP_PKEY **out)
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(lc, alg, NULL);
    CK_RV rv = CKR_HOST_MEMORY;
    (void)hook;
    (void)seed_len;
    if (pc == NULL)
        goto out;
    rv = CKR_DEVICE_ERROR;
    if (EVP_PKEY_keygen_init(pc) != 1)
        goto out;
#ifdef CRATON_TEST_HOOKS
    unsigned char seed[PQC_SEED_MAX];
    size_t n = seed_len <= sizeof(seed) ? crypto_test_entropy(hook, seed, seed_len) : 0;
    OSSL_PARAM params[] = {
        /* ML-KEM, ML-DSA and SLH-DSA all name it "seed" */
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_ML_DSA_SEED, seed, n),
        OSSL_PARAM_construct_end(),
    };
    int ok = n != seed_len || EVP_PKEY_CTX_set_params(pc, params) == 1;
    OPENSSL_cleanse(seed, sizeof(seed));
    if (!ok)
        goto out;
#endif
    if (EVP_PKEY_generate(pc, out) != 1)
        goto out;
    rv = CKR_OK;
out:
    EVP_PKEY_CTX_free(pc);
    return rv;
}

CK_RV mech_pqc_generate(struct crypto *c, const struct mech_desc *d, const CK_MECHANISM *m,
                        const char *alg, const char *hook, size_t seed_len, struct attrs *pub,
                        struct attrs *priv)
{
    EVP_PKEY *pkey = NULL;
    bool exported = false;
    unsigned char fresh;
    CK_RV rv = CKR_MECHANISM_PARAM_INVALID; /* 3.2: "It does not have a parameter." */

    ERR_set_mark();
    if (m->ulParameterLen != 0)
        goto out;
    /* Prediction resistance: this thread's DRBG reseeds from the entropy
     * source, and OpenSSL's key generation draws from it next. */
    if ((rv = crypto_random(c, &fresh, 1, true)) != CKR_OK)
        goto out;
    if ((rv = keygen(mech_libctx(c), alg, hook, seed_len, &pkey)) != CKR_OK ||
        (rv = mech_generated_pair_check(c, pkey, d->key_type)) != CKR_OK)
        goto out;
    exported = true;
    rv = keyexport_attrs(pkey, d->key_type, pub, priv);
out:
    if (rv != CKR_OK && exported) {
        for (size_t i = 0; i < sizeof(material) / sizeof(material[0]); i++) {
            attrs_remove(pub, material[i]);
            attrs_remove(priv, material[i]);
        }
    }
    EVP_PKEY_free(pkey);
    ERR_pop_to_mark();
    return rv;
}
