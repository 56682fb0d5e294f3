/*
 * The mechanisms: one table (mech_table.c) says for every mechanism its key
 * sizes, CK_MECHANISM_INFO flags, policy class and the family that
 * implements it; C_GetMechanismList, C_GetMechanismInfo and the policy
 * checks are all derived from it.  One file per family (digest.c, mac.c,
 * cipher.c, aead.c, kw.c, rsa.c, ec.c, kdf.c, keygen.c) implements the
 * operations on OpenSSL 3.5 EVP in the module's library context.
 *
 * Operations are objects: *Init makes one (struct mech_op, a family's own
 * struct embedding it first), the session keeps it, Update/Final use it and
 * the p11 layer frees it when the spec says the operation ends.
 *
 * Output convention of every function below that writes out and *outlen (the
 * PKCS#11 rule of 5.2): with out == NULL set *outlen to the size needed (an
 * upper bound is fine) and return CKR_OK without changing state; when
 * *outlen is smaller than needed set it to the size needed and return
 * CKR_BUFFER_TOO_SMALL without changing state; otherwise do the work, set
 * *outlen to the bytes written.  The p11 layer ends the operation on every
 * return except CKR_BUFFER_TOO_SMALL and (CKR_OK with out == NULL).
 */
#ifndef CRATON_MECH_H
#define CRATON_MECH_H

#include <stdbool.h>
#include <stddef.h>

#include "common/util.h"
#include "config/config.h"
#include "crypto/crypto.h"
#include "object/attr.h"
#include "object/key.h"
#include "pkcs11/pkcs11.h"

#define MECH_MAX_BUFFER (64UL * 1024 * 1024) /* data a mechanism may buffer */

/* Policy classes (mech_desc.policy bits). */
enum {
    MECH_APPROVED = 1u << 0,      /* allowed when fips_approved_only */
    MECH_SHA1_SIGN = 1u << 1,     /* SHA-1 signature: needs allow_sha1_signing */
    MECH_PQC = 1u << 2,           /* post-quantum: needs enable_pqc */
    MECH_VENDOR_PQC = 1u << 3,    /* reference's vendor alias: listed only with craton_vendor_pqc */
    MECH_LEGACY = 1u << 4,        /* Triple DES: never in approved-only mode */
    MECH_TWO_KEYS = 1u << 5,      /* hybrid: CK_CRATON_HYBRID_PARAMS names a second key */
    MECH_APPROVED_SIGN = 1u << 6, /* with MECH_APPROVED: approved for signatures only
                                     (encryption, wrapping, recovery withdrawn when
                                     fips_approved_only: PKCS#1 v1.5, SP 800-131A r2) */
};

struct mech_desc;
struct mech_op;

/* What an operation does (the CK_MECHANISM_INFO flag of its function). */
typedef CK_FLAGS mech_fn; /* CKF_ENCRYPT, CKF_DECRYPT, CKF_DIGEST, CKF_SIGN,
                             CKF_VERIFY, CKF_SIGN_RECOVER, CKF_VERIFY_RECOVER,
                             CKF_WRAP (encrypt a key), CKF_UNWRAP (decrypt one),
                             CKF_MESSAGE_ENCRYPT, ... */

/* An operation's functions (a family fills the ones its mechanisms need;
 * NULL ones are refused with CKR_FUNCTION_NOT_SUPPORTED or emulated as
 * noted). */
struct mech_op_ops {
    /* Encrypt/decrypt: process a part, writing what is ready (output
     * convention).  Digest/sign/verify: absorb a part (out NULL, outlen
     * NULL).  NULL: the mechanism is single-part only (the p11 layer then
     * returns CKR_FUNCTION_NOT_SUPPORTED and keeps the operation). */
    CK_RV(*update)
    (struct mech_op *op, const unsigned char *in, CK_ULONG inlen, unsigned char *out,
     CK_ULONG *outlen);
    /* Encrypt/decrypt: the last output; digest/sign: the digest/signature. */
    CK_RV (*final)(struct mech_op *op, unsigned char *out, CK_ULONG *outlen);
    /* Single-part (C_Encrypt, C_Sign, C_Digest, C_SignRecover,
     * C_VerifyRecover: out = recovered data).  NULL: update + final. */
    CK_RV(*oneshot)
    (struct mech_op *op, const unsigned char *in, CK_ULONG inlen, unsigned char *out,
     CK_ULONG *outlen);
    /* Verify: after updates, check sig.  CKR_OK, CKR_SIGNATURE_INVALID or
     * CKR_SIGNATURE_LEN_RANGE. */
    CK_RV (*verify_final)(struct mech_op *op, const unsigned char *sig, CK_ULONG siglen);
    /* Single-part verify; NULL: update + verify_final. */
    CK_RV(*verify_oneshot)
    (struct mech_op *op, const unsigned char *in, CK_ULONG inlen, const unsigned char *sig,
     CK_ULONG siglen);
    /* Digest state (C_GetOperationState / C_SetOperationState): serialise
     * (output convention) / restore.  NULL: CKR_STATE_UNSAVEABLE. */
    CK_RV (*get_state)(struct mech_op *op, unsigned char *out, CK_ULONG *outlen);
    CK_RV (*set_state)(struct mech_op *op, const unsigned char *in, CK_ULONG inlen);
    /* Message-based encryption (PKCS#11 3.0 C_EncryptMessage*,
     * C_DecryptMessage*; fn CKF_MESSAGE_ENCRYPT / CKF_MESSAGE_DECRYPT):
     * param is the per-message CK_GCM_MESSAGE_PARAMS / CK_CCM_MESSAGE_PARAMS
     * (the family checks it: CKR_ARGUMENTS_BAD when malformed; IV
     * generation and the tag go through it).  msg_begin starts one message (its AAD given whole);
     * msg_next processes a part (output convention) and, when last, ends
     * the message (tag written to / checked from param: decryption releases
     * nothing unauthenticated when the tag is wrong:
     * CKR_ENCRYPTED_DATA_INVALID).  C_EncryptMessage = begin + next(last). */
    CK_RV(*msg_begin)
    (struct mech_op *op, void *param, CK_ULONG paramlen, const unsigned char *aad, CK_ULONG aadlen);
    CK_RV(*msg_next)
    (struct mech_op *op, void *param, CK_ULONG paramlen, const unsigned char *in, CK_ULONG inlen,
     unsigned char *out, CK_ULONG *outlen, bool last);
    /* Frees the family's part (wiping secrets); the key reference is
     * dropped by mech_op_free. */
    void (*free)(struct mech_op *op);
};

/* The common head of every operation (a family's struct starts with it). */
struct mech_op {
    const struct mech_op_ops *ops;
    const struct mech_desc *desc;
    mech_fn fn;
    struct key *key; /* a reference, or NULL (digests) */
    struct crypto *crypto;
    bool updated;    /* an Update has happened: single-part calls now give
                        CKR_OPERATION_ACTIVE */
    bool unapproved; /* a family's parameter choice left the approved set
                        (e.g. SHA-1 in CKM_RSA_PKCS_PSS signing): the
                        operation's validation flag is 0 */
};

/* A generated key: the family fills these attribute lists (already
 * completed by the rules with CKA_CLASS / CKA_KEY_TYPE and the
 * application's template) with the key material (CKA_VALUE, CKA_MODULUS,
 * CKA_EC_POINT, ...).  keyimport_check is then run by the caller to add the
 * derived attributes (CKA_PUBLIC_KEY_INFO, CKA_VALUE_LEN, ...). */
struct mech_family {
    const char *name;
    /* Starts an operation of function fn with key k (NULL for digests):
     * parses m's parameter (CKR_MECHANISM_PARAM_INVALID when malformed:
     * wrong ulParameterLen, NULL pointer with length, bad values), checks
     * the key fits (CKR_KEY_TYPE_INCONSISTENT, CKR_KEY_SIZE_RANGE) and
     * returns a new operation in *out, allocated with mech_op_alloc (which
     * fills the head and takes a reference to k). */
    CK_RV(*init)
    (struct mech_op **out, const struct mech_desc *d, const CK_MECHANISM *m, mech_fn fn,
     struct key *k, struct crypto *c, const struct config *cfg);
    /* C_GenerateKey: fill t (class/key type set) with CKA_VALUE from the
     * DRBG per CKA_VALUE_LEN / the mechanism. */
    CK_RV(*generate)
    (const struct mech_desc *d, const CK_MECHANISM *m, struct crypto *c, const struct config *cfg,
     struct attrs *t);
    /* C_GenerateKeyPair: fill pub and priv; runs the pairwise consistency
     * test before returning (CKR_DEVICE_ERROR when it fails). */
    CK_RV(*generate_pair)
    (const struct mech_desc *d, const CK_MECHANISM *m, struct crypto *c, const struct config *cfg,
     struct attrs *pub, struct attrs *priv);
    /* C_DeriveKey: the new key's value, len bytes (len 0: the mechanism's
     * natural length, returned in *outlen) from base key k; *out in the
     * secure heap (crypto_secret_free(*out, *outlen)). */
    CK_RV(*derive)
    (const struct mech_desc *d, const CK_MECHANISM *m, struct key *k, struct crypto *c,
     const struct config *cfg, size_t len, unsigned char **out, size_t *outlen);
    /* C_EncapsulateKey with public key k: the ciphertext into ct (output
     * convention: ct NULL or short -> size only, and no secret made) and
     * the shared secret (*ss, secure heap, crypto_secret_free(*ss, *sslen)). */
    CK_RV(*encapsulate)
    (const struct mech_desc *d, const CK_MECHANISM *m, struct key *k, struct crypto *c,
     const struct config *cfg, unsigned char *ct, CK_ULONG *ctlen, unsigned char **ss,
     size_t *sslen);
    /* C_DecapsulateKey with private key k: the shared secret of ct
     * (CKR_ENCRYPTED_DATA_LEN_RANGE for a wrong length; ML-KEM's implicit
     * rejection gives a pseudo-random secret for a forged ciphertext, as
     * FIPS 203 says). */
    CK_RV(*decapsulate)
    (const struct mech_desc *d, const CK_MECHANISM *m, struct key *k, struct crypto *c,
     const struct config *cfg, const unsigned char *ct, CK_ULONG ctlen, unsigned char **ss,
     size_t *sslen);
};

/* Hybrid mechanisms (MECH_TWO_KEYS): the p11 layer resolves the
 * application's CK_CRATON_HYBRID_PARAMS (a handle) and hands the family this
 * parameter instead (ulParameterLen = sizeof(struct mech_two_keys)); the
 * family takes its own reference to classic if it keeps it. */
struct mech_two_keys {
    struct key *classic;
};

/* One mechanism (a row of the table). */
struct mech_desc {
    CK_MECHANISM_TYPE type;
    CK_ULONG min, max;    /* CK_MECHANISM_INFO: bits for RSA/EC/AES/DES3/HMAC
                             keys (the spec's units for each), 0 for digests */
    CK_FLAGS flags;       /* CK_MECHANISM_INFO flags */
    unsigned policy;      /* MECH_* */
    CK_KEY_TYPE key_type; /* the key type it takes (CK_UNAVAILABLE_INFORMATION: none
                             or several, the family checks) */
    const struct mech_family *family;
    const char *alg; /* family-specific: digest name ("SHA2-256"), cipher, ... */
    CK_ULONG arg;    /* family-specific: an extra number (e.g. a mode) */
};

/* The row of mechanism type, or NULL. */
const struct mech_desc *mech_find(CK_MECHANISM_TYPE type);

/* Is d offered under cfg (enable_pqc, fips_approved_only, vendor aliases
 * accepted even when not listed)? */
bool mech_enabled(const struct mech_desc *d, const struct config *cfg);

/* Is function fn (one CKF_* function flag) of d in the approved set
 * (docs/mechanisms.md)?  MECH_APPROVED rows, minus SHA-1 signing
 * (MECH_SHA1_SIGN: verification stays, as SP 800-131A r2's legacy use) and
 * minus everything but signing and verification for MECH_APPROVED_SIGN
 * rows.  Under fips_approved_only exactly these are listed and usable. */
bool mech_approved(const struct mech_desc *d, mech_fn fn);

/* The PKCS#11 3.2 validation flags of an operation that completed:
 * KEY_VALIDATION_APPROVED when mech_approved(op->desc, op->fn), its key
 * (if any) passes key_approved and no family marked it unapproved; else 0.
 * For C_GetSessionValidationFlags (CKS_LAST_VALIDATION_OK). */
CK_FLAGS mech_op_validation(const struct mech_op *op);

/* C_GetMechanismList: the types of the enabled, listed mechanisms in table
 * order (output convention with a count: list NULL -> *count set). */
CK_RV mech_list(const struct config *cfg, CK_MECHANISM_TYPE *list, CK_ULONG *count);

/* C_GetMechanismInfo: CKR_MECHANISM_INVALID when unknown or disabled. */
CK_RV mech_info(const struct config *cfg, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info);

/* Looks m up for function fn under cfg: CKR_ARGUMENTS_BAD when m is NULL,
 * CKR_MECHANISM_INVALID when unknown, disabled or fn not among its flags. */
CK_RV mech_lookup(const struct config *cfg, const CK_MECHANISM *m, mech_fn fn,
                  const struct mech_desc **out) WARN_UNUSED;

/* Key policy common to every family: key class for fn (public key for
 * verify/encrypt/wrap, private for sign/decrypt/unwrap, secret for
 * symmetric), key type (d->key_type), size within [min, max] and the
 * configuration's floors (RSA < 2048 bits without allow_weak_rsa; with
 * fips_approved_only the key must pass key_approved: RSA >= 2048, NIST
 * curves, secrets >= 112 bits).  Returns CKR_KEY_TYPE_INCONSISTENT,
 * CKR_KEY_SIZE_RANGE, CKR_CURVE_NOT_SUPPORTED (approved-only mode: a key on
 * another curve) or CKR_OK. */
CK_RV mech_check_key(const struct mech_desc *d, mech_fn fn, const struct key *k,
                     const struct config *cfg) WARN_UNUSED;

/* Starts an operation: mech_check_key (when k), then the family's init.
 * On CKR_OK *out holds a new reference to k. */
CK_RV mech_op_new(const struct mech_desc *d, const CK_MECHANISM *m, mech_fn fn, struct key *k,
                  struct crypto *c, const struct config *cfg, struct mech_op **out) WARN_UNUSED;

/* For families: allocates size bytes (>= sizeof(struct mech_op), zeroed)
 * and fills the head. */
void *mech_op_alloc(size_t size, const struct mech_op_ops *ops, const struct mech_desc *d,
                    mech_fn fn, struct key *k, struct crypto *c);

/* Frees an operation (NULL-safe): the family's free, the key reference. */
void mech_op_free(struct mech_op *op);

/* The families (one per file). */
extern const struct mech_family mech_digest_family;  /* digest.c */
extern const struct mech_family mech_mac_family;     /* mac.c: HMAC, CMAC */
extern const struct mech_family mech_cipher_family;  /* cipher.c: AES ECB/CBC/CTR/CTS, DES3 */
extern const struct mech_family mech_aead_family;    /* aead.c: AES GCM/CCM */
extern const struct mech_family mech_kw_family;      /* kw.c: AES KW/KWP */
extern const struct mech_family mech_rsa_family;     /* rsa.c */
extern const struct mech_family mech_ec_family;      /* ec.c: ECDSA, EdDSA, ECDH */
extern const struct mech_family mech_kdf_family;     /* kdf.c: HKDF, SP 800-108, PBKDF2, ... */
extern const struct mech_family mech_keygen_family;  /* keygen.c: key and key pair generation */
extern const struct mech_family mech_pqc_sig_family; /* pqc_sig.c: ML-DSA, SLH-DSA */
extern const struct mech_family mech_pqc_kem_family; /* pqc_kem.c: ML-KEM, PQC key generation */
extern const struct mech_family mech_hybrid_family;  /* hybrid.c: X-Wing, ML-DSA-65 + ECDSA */

/* The FIPS 140-3 pairwise consistency test (IG 10.3.A) of a freshly
 * generated key pair pkey of PKCS#11 key type kt, in c's library context
 * (keygen.c): RSA signs and verifies, then encrypts and decrypts (OAEP);
 * EC keys recompute Q = dG (SP 800-56A r3 5.6.2.1.4); Edwards, ML-DSA and
 * SLH-DSA keys sign and verify; Montgomery keys agree with a fresh peer both
 * ways; ML-KEM keys encapsulate and decapsulate.  Run before any of the
 * pair's material is handed out.
 * Returns CKR_OK when the pair passes, CKR_DEVICE_ERROR when it fails or
 * kt has no test (the pair must be discarded), or CKR_HOST_MEMORY.  pkey
 * stays the caller's. */
CK_RV mech_pairwise_check(struct crypto *c, struct evp_pkey_st *pkey, CK_KEY_TYPE kt) WARN_UNUSED;

/* The conditional test of a key pair the module just generated: a failing
 * pairwise test is a module failure (FIPS 140-3 IG 10.3.A), not a caller
 * error: crypto_fail() puts the module in its error state and the result
 * is CKR_GENERAL_ERROR.  Test builds: CRATON_TEST_PCT_FAIL=1 forces it.
 * CKR_OK, CKR_HOST_MEMORY or CKR_GENERAL_ERROR. */
CK_RV mech_generated_pair_check(struct crypto *c, struct evp_pkey_st *pkey,
                                CK_KEY_TYPE kt) WARN_UNUSED;

/* ECDSA signature encodings (ec.c): DER ECDSA-Sig-Value -> the PKCS#11
 * form r || s (half bytes each; CKR_DEVICE_ERROR when der does not parse
 * or a half does not fit), and back (*der: OPENSSL_free). */
CK_RV mech_ecdsa_from_der(const unsigned char *der, size_t derlen, size_t half,
                          unsigned char *out) WARN_UNUSED;
CK_RV mech_ecdsa_to_der(const unsigned char *in, size_t half, unsigned char **der,
                        size_t *derlen) WARN_UNUSED;

/* Post-quantum key pairs (pqc_keygen.c).  mech_pqc_pair_set: the
 * parameter set of a pair: the alias's (d->arg; a template naming another:
 * CKR_TEMPLATE_INCONSISTENT) or the public template's (absent:
 * CKR_TEMPLATE_INCOMPLETE), which the private one may repeat.
 * mech_pqc_generate: m must have no parameter; reseeds with prediction
 * resistance, generates OpenSSL algorithm alg (test builds: seeded from
 * CRATON_TEST_<hook> when it holds seed_len bytes), runs the pairwise test
 * and fills pub and priv (keyexport_attrs; nothing added on failure). */
CK_RV mech_pqc_pair_set(const struct mech_desc *d, const struct attrs *pub,
                        const struct attrs *priv, CK_ULONG *set) WARN_UNUSED;
CK_RV mech_pqc_generate(struct crypto *c, const struct mech_desc *d, const CK_MECHANISM *m,
                        const char *alg, const char *hook, size_t seed_len, struct attrs *pub,
                        struct attrs *priv) WARN_UNUSED;

/* C_SetOperationState: a new digest operation from a state saved by
 * get_state (CKR_SAVED_STATE_INVALID when unknown or expired). */
CK_RV mech_digest_restore(struct crypto *c, const struct config *cfg, const unsigned char *state,
                          CK_ULONG len, struct mech_op **out) WARN_UNUSED;

/* C_Finalize: releases what the families keep per process (saved digest
 * states). */
void mech_digest_cleanup(void);

/* Helpers shared by the families (mech_util.c). */

/* The module's library context as OpenSSL's type. */
struct ossl_lib_ctx_st *mech_libctx(struct crypto *c);

/* The EVP digest name of a CKM_SHA* / CKM_SHA3_* digest mechanism or a
 * CKG_MGF1_* / CKP_PKCS5_PBKD2_HMAC_* ... NULL when not a digest. */
const char *mech_digest_name(CK_MECHANISM_TYPE digest);
const char *mech_mgf_digest_name(CK_RSA_PKCS_MGF_TYPE mgf);

/* Reads m's parameter as a struct of exactly size bytes: CKR_OK and *out,
 * or CKR_MECHANISM_PARAM_INVALID (NULL, wrong length). */
CK_RV mech_param(const CK_MECHANISM *m, size_t size, const void **out) WARN_UNUSED;

/* The output convention: CKR_OK when out can take need bytes (out != NULL
 * and *outlen >= need); else sets *outlen = need and returns CKR_OK (out
 * NULL) or CKR_BUFFER_TOO_SMALL, with *done = true telling the caller to
 * return that now. */
CK_RV mech_out(unsigned char *out, CK_ULONG *outlen, size_t need, bool *done);

#endif
