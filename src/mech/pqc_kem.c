/*
 * ML-KEM (FIPS 203; PKCS#11 3.2 "ML-KEM"): key pair generation
 * (CKM_ML_KEM_KEY_PAIR_GEN, parameter set from the public template) and
 * encapsulation / decapsulation (CKM_ML_KEM through C_EncapsulateKey /
 * C_DecapsulateKey), on OpenSSL 3.5's ML-KEM in the module's library
 * context.
 *
 * The reference implementation's vendor mechanisms CKM_CRATON_ML_KEM_512 /
 * _768 / _1024 (desc->arg = the parameter set) generate a pair of their
 * set, and decapsulate through C_DeriveKey: the base key is the private
 * key, the mechanism parameter the ciphertext, the new key the shared
 * secret (its first len bytes).
 *
 * Every generated pair passes mech_pairwise_check before its material is
 * exported (keyexport_attrs: CKA_PARAMETER_SET, CKA_VALUE = ek / dk, the
 * private key's CKA_SEED = d || z, CKA_PUBLIC_KEY_INFO).  Shared secrets
 * live in the secure heap.  Decapsulation of a forged ciphertext succeeds
 * with FIPS 203's implicit-rejection secret, as the standard requires: it
 * is not an error.
 *
 * Test builds (CRATON_TEST_HOOKS) can fix the randomness for known-answer
 * tests: CRATON_TEST_MLKEM_KEYGEN_SEED (d || z, 64 bytes) and
 * CRATON_TEST_MLKEM_ENCAPS_M (m, 32 bytes).
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>

#include "mech/mech.h"
#include "object/keyexport.h"

#define KEM_SS_LEN   32 /* FIPS 203: the shared secret K, every parameter set */
#define KEM_SEED_LEN 64 /* d || z */
#define KEM_M_LEN    32 /* the encapsulation randomness m */

/* FIPS 203 table 3: encapsulation key and ciphertext sizes. */
struct kem_set {
    CK_ULONG set;     /* CKA_PARAMETER_SET */
    const char *name; /* OpenSSL algorithm */
    size_t pub_len, ct_len;
};

static const struct kem_set kem_sets[] = {
    {CKP_ML_KEM_512, "ML-KEM-512", 800, 768},
    {CKP_ML_KEM_768, "ML-KEM-768", 1184, 1088},
    {CKP_ML_KEM_1024, "ML-KEM-1024", 1568, 1568},
};

/* The row of parameter set set, or NULL. */
static const struct kem_set *kem_set_of(CK_ULONG set)
{
    for (size_t i = 0; i < ARRAY_SIZE(kem_sets); i++)
        if (kem_sets[i].set == set)
            return &kem_sets[i];
    return NULL;
}

/* The parameter set of the key k used as cls (CKO_PUBLIC_KEY to
 * encapsulate, CKO_PRIVATE_KEY to decapsulate).  The p11 layer has already
 * checked class and type (mech_check_key); this is the family's own guard.
 * CKR_KEY_TYPE_INCONSISTENT when k is not such an ML-KEM key. */
static CK_RV kem_key(const struct key *k, CK_OBJECT_CLASS cls, const struct kem_set **out)
{
    if (k == NULL || k->pkey == NULL || k->type != CKK_ML_KEM || k->cls != cls)
        return CKR_KEY_TYPE_INCONSISTENT;
    *out = kem_set_of(k->parameter_set);
    return *out != NULL ? CKR_OK : CKR_KEY_TYPE_INCONSISTENT;
}

/* ---- key pair generation ---------------------------------------------------- */

/* C_GenerateKeyPair with CKM_ML_KEM_KEY_PAIR_GEN or CKM_CRATON_ML_KEM_*. */
static CK_RV kem_generate_pair(const struct mech_desc *d, const CK_MECHANISM *m, struct crypto *c,
                               const struct config *cfg, struct attrs *pub, struct attrs *priv)
{
    CK_ULONG set = 0;
    (void)cfg;
    if (d->type != CKM_ML_KEM_KEY_PAIR_GEN && d->arg == 0)
        return CKR_MECHANISM_INVALID; /* a row of this family that makes no pairs */
    CK_RV rv = mech_pqc_pair_set(d, pub, priv, &set);
    if (rv != CKR_OK)
        return rv;
    const struct kem_set *ks = kem_set_of(set);
    if (ks == NULL)
        return CKR_PARAMETER_SET_NOT_SUPPORTED;
    return mech_pqc_generate(c, d, m, ks->name, "MLKEM_KEYGEN_SEED", KEM_SEED_LEN, pub, priv);
}

/* ---- encapsulation and decapsulation ----------------------------------------- */

/* C_EncapsulateKey with CKM_ML_KEM and public key k: ML-KEM.Encaps. */
static CK_RV kem_encapsulate(const struct mech_desc *d, const CK_MECHANISM *m, struct key *k,
                             struct crypto *c, const struct config *cfg, unsigned char *ct,
                             CK_ULONG *ctlen, unsigned char **ss, size_t *sslen)
{
    const struct kem_set *ks = NULL;
    EVP_PKEY_CTX *pc = NULL;
    OSSL_PARAM *params = NULL;
    unsigned char *secret = NULL;
    size_t outlen = 0, slen = KEM_SS_LEN;
    bool done = false;
    CK_RV rv = CKR_MECHANISM_INVALID;
#ifdef CRATON_TEST_HOOKS
    unsigned char ikme[KEM_M_LEN];
    OSSL_PARAM hook[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KEM_PARAM_IKME, ikme, sizeof(ikme)),
        OSSL_PARAM_construct_end(),
    };
    if (crypto_test_entropy("MLKEM_ENCAPS_M", ikme, sizeof(ikme)) == sizeof(ikme))
        params = hook;
#endif

    (void)cfg;
    ERR_set_mark();
    if (d->type != CKM_ML_KEM)
        goto out;
    rv = CKR_MECHANISM_PARAM_INVALID; /* 3.2: "It has no parameters." */
    if (m->ulParameterLen != 0)
        goto out;
    if ((rv = kem_key(k, CKO_PUBLIC_KEY, &ks)) != CKR_OK)
        goto out;
    if ((rv = mech_out(ct, ctlen, ks->ct_len, &done)) != CKR_OK || done)
        goto out; /* a size query or a short buffer: no secret is made */
    rv = CKR_HOST_MEMORY;
    if ((secret = crypto_secret_alloc(KEM_SS_LEN)) == NULL ||
        (pc = EVP_PKEY_CTX_new_from_pkey((OSSL_LIB_CTX *)mech_libctx(c), k->pkey, NULL)) == NULL)
        goto out;
    rv = CKR_DEVICE_ERROR;
    outlen = ks->ct_len;
    if (EVP_PKEY_encapsulate_init(pc, params) != 1 ||
        EVP_PKEY_encapsulate(pc, ct, &outlen, secret, &slen) != 1 || outlen != ks->ct_len ||
        slen != KEM_SS_LEN)
        goto out;
    *ctlen = (CK_ULONG)outlen;
    *ss = secret;
    *sslen = KEM_SS_LEN;
    secret = NULL;
    rv = CKR_OK;
out:
#ifdef CRATON_TEST_HOOKS
    OPENSSL_cleanse(ikme, sizeof(ikme));
#endif
    crypto_secret_free(secret, KEM_SS_LEN);
    EVP_PKEY_CTX_free(pc);
    ERR_pop_to_mark();
    return rv;
}

/* ML-KEM.Decaps of ct (exactly ks's ciphertext size) with private key k:
 * the 32-byte secret into *ss (secure heap). */
static CK_RV kem_decaps(struct crypto *c, const struct key *k, const unsigned char *ct,
                        size_t ctlen, unsigned char **ss)
{
    EVP_PKEY_CTX *pc = NULL;
    unsigned char *secret = crypto_secret_alloc(KEM_SS_LEN);
    size_t slen = KEM_SS_LEN;
    CK_RV rv = CKR_HOST_MEMORY;

    if (secret == NULL ||
        (pc = EVP_PKEY_CTX_new_from_pkey((OSSL_LIB_CTX *)mech_libctx(c), k->pkey, NULL)) == NULL)
        goto out;
    rv = CKR_DEVICE_ERROR;
    if (EVP_PKEY_decapsulate_init(pc, NULL) != 1 ||
        EVP_PKEY_decapsulate(pc, secret, &slen, ct, ctlen) != 1 || slen != KEM_SS_LEN)
        goto out;
    *ss = secret;
    secret = NULL;
    rv = CKR_OK;
out:
    crypto_secret_free(secret, KEM_SS_LEN);
    EVP_PKEY_CTX_free(pc);
    return rv;
}

/* C_DecapsulateKey with CKM_ML_KEM and private key k. */
static CK_RV kem_decapsulate(const struct mech_desc *d, const CK_MECHANISM *m, struct key *k,
                             struct crypto *c, const struct config *cfg, const unsigned char *ct,
                             CK_ULONG ctlen, unsigned char **ss, size_t *sslen)
{
    const struct kem_set *ks = NULL;
    CK_RV rv = CKR_MECHANISM_INVALID;

    (void)cfg;
    *ss = NULL;
    *sslen = 0;
    ERR_set_mark();
    if (d->type != CKM_ML_KEM)
        goto out;
    rv = CKR_MECHANISM_PARAM_INVALID;
    if (m->ulParameterLen != 0)
        goto out;
    if ((rv = kem_key(k, CKO_PRIVATE_KEY, &ks)) != CKR_OK)
        goto out;
    rv = CKR_ENCRYPTED_DATA_LEN_RANGE;
    if (ct == NULL || ctlen != ks->ct_len)
        goto out;
    if ((rv = kem_decaps(c, k, ct, ctlen, ss)) == CKR_OK)
        *sslen = KEM_SS_LEN;
out:
    ERR_pop_to_mark();
    return rv;
}

/* C_DeriveKey with the reference's CKM_CRATON_ML_KEM_* (d->arg = the
 * parameter set): private base key k of that set, the ciphertext as the
 * mechanism parameter; the new key is the first len bytes of the shared
 * secret (len 0: all 32; more than 32: CKR_KEY_SIZE_RANGE).  A key of
 * another parameter set is outside the mechanism's key size range (its
 * CK_MECHANISM_INFO names one public key size): CKR_KEY_SIZE_RANGE. */
static CK_RV kem_derive(const struct mech_desc *d, const CK_MECHANISM *m, struct key *k,
                        struct crypto *c, const struct config *cfg, size_t len, unsigned char **out,
                        size_t *outlen)
{
    const struct kem_set *ks = NULL;
    unsigned char *secret = NULL, *key = NULL;
    CK_RV rv = CKR_MECHANISM_INVALID;

    (void)cfg;
    *out = NULL;
    *outlen = 0;
    ERR_set_mark();
    if (d->arg == 0)
        goto out;
    if ((rv = kem_key(k, CKO_PRIVATE_KEY, &ks)) != CKR_OK)
        goto out;
    rv = CKR_KEY_SIZE_RANGE;
    if (ks->set != d->arg || len > KEM_SS_LEN)
        goto out;
    rv = CKR_MECHANISM_PARAM_INVALID;
    if (m->pParameter == NULL || m->ulParameterLen != ks->ct_len)
        goto out;
    if ((rv = kem_decaps(c, k, m->pParameter, m->ulParameterLen, &secret)) != CKR_OK)
        goto out;
    if (len == 0 || len == KEM_SS_LEN) { /* hand the whole secret over */
        *out = secret;
        *outlen = KEM_SS_LEN;
        secret = NULL;
        goto out;
    }
    rv = CKR_HOST_MEMORY;
    if ((key = crypto_secret_alloc(len)) == NULL)
        goto out;
    memcpy(key, secret, len);
    *out = key;
    *outlen = len;
    rv = CKR_OK;
out:
    crypto_secret_free(secret, KEM_SS_LEN);
    ERR_pop_to_mark();
    return rv;
}

const struct mech_family mech_pqc_kem_family = {
    .name = "pqc_kem",
    .generate_pair = kem_generate_pair,
    .derive = kem_derive,
    .encapsulate = kem_encapsulate,
    .decapsulate = kem_decapsulate,
};
