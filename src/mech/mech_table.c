/* The mechanism table and what derives from it: the mechanism list and
 * info, policy, key checks and the operation objects' common part. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "craton/pkcs11_craton.h"
#include "mech/mech.h"

#define ENC_DEC     (CKF_ENCRYPT | CKF_DECRYPT)
#define WRAP_UNWRAP (CKF_WRAP | CKF_UNWRAP)
#define SIGN_VERIFY (CKF_SIGN | CKF_VERIFY)
#define RECOVER     (CKF_SIGN_RECOVER | CKF_VERIFY_RECOVER)
#define EC_FLAGS    (CKF_EC_F_P | CKF_EC_OID | CKF_EC_UNCOMPRESS)
#define NONE        CK_UNAVAILABLE_INFORMATION
#define A           MECH_APPROVED
#define P           MECH_PQC
#define V           MECH_VENDOR_PQC

#define HMAC_MIN 8UL                    /* bits: a 1-byte key */
#define HMAC_MAX (ATTR_MAX_VALUE * 8UL) /* bits */
#define RSA_MIN  1024UL                 /* with allow_weak_rsa; else 2048 */
#define RSA_MAX  8192UL

/* clang-format off */
static const struct mech_desc table[] = {
    /* Digests (min/max: not applicable).  Approved: SHA-2 (FIPS 180-4),
     * SHA-3 (FIPS 202), and SHA-1 for non-signature use (SP 800-131A r2
     * table 9: its signing rows below are separate). */
    {CKM_SHA_1,        0, 0, CKF_DIGEST, A, NONE, &mech_digest_family, "SHA1", 0},
    {CKM_SHA224,       0, 0, CKF_DIGEST, A, NONE, &mech_digest_family, "SHA2-224", 0},
    {CKM_SHA256,       0, 0, CKF_DIGEST, A, NONE, &mech_digest_family, "SHA2-256", 0},
    {CKM_SHA384,       0, 0, CKF_DIGEST, A, NONE, &mech_digest_family, "SHA2-384", 0},
    {CKM_SHA512,       0, 0, CKF_DIGEST, A, NONE, &mech_digest_family, "SHA2-512", 0},
    {CKM_SHA512_224,   0, 0, CKF_DIGEST, A, NONE, &mech_digest_family, "SHA2-512/224", 0},
    {CKM_SHA512_256,   0, 0, CKF_DIGEST, A, NONE, &mech_digest_family, "SHA2-512/256", 0},
    {CKM_SHA3_224,     0, 0, CKF_DIGEST, A, NONE, &mech_digest_family, "SHA3-224", 0},
    {CKM_SHA3_256,     0, 0, CKF_DIGEST, A, NONE, &mech_digest_family, "SHA3-256", 0},
    {CKM_SHA3_384,     0, 0, CKF_DIGEST, A, NONE, &mech_digest_family, "SHA3-384", 0},
    {CKM_SHA3_512,     0, 0, CKF_DIGEST, A, NONE, &mech_digest_family, "SHA3-512", 0},

    /* HMAC (generic secret or CKK_SHA*_HMAC keys; sizes in bits).  Approved
     * (FIPS 198-1) with SHA-1, SHA-2 and SHA-3 and keys of >= 112 bits
     * (SP 800-131A r2 table 10: HMAC-SHA-1 is not a signature). */
    {CKM_SHA_1_HMAC,           HMAC_MIN, HMAC_MAX, SIGN_VERIFY, A, NONE, &mech_mac_family, "SHA1", 0},
    {CKM_SHA_1_HMAC_GENERAL,   HMAC_MIN, HMAC_MAX, SIGN_VERIFY, A, NONE, &mech_mac_family, "SHA1", 1},
    {CKM_SHA224_HMAC,          HMAC_MIN, HMAC_MAX, SIGN_VERIFY, A, NONE, &mech_mac_family, "SHA2-224", 0},
    {CKM_SHA224_HMAC_GENERAL,  HMAC_MIN, HMAC_MAX, SIGN_VERIFY, A, NONE, &mech_mac_family, "SHA2-224", 1},
    {CKM_SHA256_HMAC,          HMAC_MIN, HMAC_MAX, SIGN_VERIFY, A, NONE, &mech_mac_family, "SHA2-256", 0},
    {CKM_SHA256_HMAC_GENERAL,  HMAC_MIN, HMAC_MAX, SIGN_VERIFY, A, NONE, &mech_mac_family, "SHA2-256", 1},
    {CKM_SHA384_HMAC,          HMAC_MIN, HMAC_MAX, SIGN_VERIFY, A, NONE, &mech_mac_family, "SHA2-384", 0},
    {CKM_SHA384_HMAC_GENERAL,  HMAC_MIN, HMAC_MAX, SIGN_VERIFY, A, NONE, &mech_mac_family, "SHA2-384", 1},
    {CKM_SHA512_HMAC,          HMAC_MIN, HMAC_MAX, SIGN_VERIFY, A, NONE, &mech_mac_family, "SHA2-512", 0},
    {CKM_SHA512_HMAC_GENERAL,  HMAC_MIN, HMAC_MAX, SIGN_VERIFY, A, NONE, &mech_mac_family, "SHA2-512", 1},
    {CKM_SHA512_224_HMAC,      HMAC_MIN, HMAC_MAX, SIGN_VERIFY, A, NONE, &mech_mac_family, "SHA2-512/224", 0},
    {CKM_SHA512_224_HMAC_GENERAL, HMAC_MIN, HMAC_MAX, SIGN_VERIFY, A, NONE, &mech_mac_family, "SHA2-512/224", 1},
    {CKM_SHA512_256_HMAC,      HMAC_MIN, HMAC_MAX, SIGN_VERIFY, A, NONE, &mech_mac_family, "SHA2-512/256", 0},
    {CKM_SHA512_256_HMAC_GENERAL, HMAC_MIN, HMAC_MAX, SIGN_VERIFY, A, NONE, &mech_mac_family, "SHA2-512/256", 1},
    {CKM_SHA3_224_HMAC,        HMAC_MIN, HMAC_MAX, SIGN_VERIFY, A, NONE, &mech_mac_family, "SHA3-224", 0},
    {CKM_SHA3_224_HMAC_GENERAL,HMAC_MIN, HMAC_MAX, SIGN_VERIFY, A, NONE, &mech_mac_family, "SHA3-224", 1},
    {CKM_SHA3_256_HMAC,        HMAC_MIN, HMAC_MAX, SIGN_VERIFY, A, NONE, &mech_mac_family, "SHA3-256", 0},
    {CKM_SHA3_256_HMAC_GENERAL,HMAC_MIN, HMAC_MAX, SIGN_VERIFY, A, NONE, &mech_mac_family, "SHA3-256", 1},
    {CKM_SHA3_384_HMAC,        HMAC_MIN, HMAC_MAX, SIGN_VERIFY, A, NONE, &mech_mac_family, "SHA3-384", 0},
    {CKM_SHA3_384_HMAC_GENERAL,HMAC_MIN, HMAC_MAX, SIGN_VERIFY, A, NONE, &mech_mac_family, "SHA3-384", 1},
    {CKM_SHA3_512_HMAC,        HMAC_MIN, HMAC_MAX, SIGN_VERIFY, A, NONE, &mech_mac_family, "SHA3-512", 0},
    {CKM_SHA3_512_HMAC_GENERAL,HMAC_MIN, HMAC_MAX, SIGN_VERIFY, A, NONE, &mech_mac_family, "SHA3-512", 1},
    /* CMAC (AES keys; sizes in bytes).  Approved: SP 800-38B. */
    {CKM_AES_CMAC,         16, 32, SIGN_VERIFY, A, CKK_AES, &mech_mac_family, NULL, 0},
    {CKM_AES_CMAC_GENERAL, 16, 32, SIGN_VERIFY, A, CKK_AES, &mech_mac_family, NULL, 1},

    /* Secret key generation.  Approved (SP 800-133 r2: DRBG output) for the
     * approved key types; Triple DES is not (SP 800-131A r2). */
    {CKM_GENERIC_SECRET_KEY_GEN, HMAC_MIN, HMAC_MAX, CKF_GENERATE, A, CKK_GENERIC_SECRET, &mech_keygen_family, NULL, 0},
    {CKM_AES_KEY_GEN,    16, 32, CKF_GENERATE, A, CKK_AES, &mech_keygen_family, NULL, 0},
    {CKM_DES3_KEY_GEN,   24, 24, CKF_GENERATE, MECH_LEGACY, CKK_DES3, &mech_keygen_family, NULL, 0},
    {CKM_SHA_1_KEY_GEN,  HMAC_MIN, HMAC_MAX, CKF_GENERATE, A, CKK_SHA_1_HMAC, &mech_keygen_family, NULL, 20},
    {CKM_SHA224_KEY_GEN, HMAC_MIN, HMAC_MAX, CKF_GENERATE, A, CKK_SHA224_HMAC, &mech_keygen_family, NULL, 28},
    {CKM_SHA256_KEY_GEN, HMAC_MIN, HMAC_MAX, CKF_GENERATE, A, CKK_SHA256_HMAC, &mech_keygen_family, NULL, 32},
    {CKM_SHA384_KEY_GEN, HMAC_MIN, HMAC_MAX, CKF_GENERATE, A, CKK_SHA384_HMAC, &mech_keygen_family, NULL, 48},
    {CKM_SHA512_KEY_GEN, HMAC_MIN, HMAC_MAX, CKF_GENERATE, A, CKK_SHA512_HMAC, &mech_keygen_family, NULL, 64},
    {CKM_SHA3_224_KEY_GEN, HMAC_MIN, HMAC_MAX, CKF_GENERATE, A, CKK_SHA3_224_HMAC, &mech_keygen_family, NULL, 28},
    {CKM_SHA3_256_KEY_GEN, HMAC_MIN, HMAC_MAX, CKF_GENERATE, A, CKK_SHA3_256_HMAC, &mech_keygen_family, NULL, 32},
    {CKM_SHA3_384_KEY_GEN, HMAC_MIN, HMAC_MAX, CKF_GENERATE, A, CKK_SHA3_384_HMAC, &mech_keygen_family, NULL, 48},
    {CKM_SHA3_512_KEY_GEN, HMAC_MIN, HMAC_MAX, CKF_GENERATE, A, CKK_SHA3_512_HMAC, &mech_keygen_family, NULL, 64},
    {CKM_HKDF_KEY_GEN,   HMAC_MIN, HMAC_MAX, CKF_GENERATE, A, CKK_HKDF, &mech_keygen_family, NULL, 32},

    /* AES (sizes in bytes).  Approved: FIPS 197 with SP 800-38A (ECB, CBC,
     * CTR; CBC-PAD is CBC with PKCS#7 padding), SP 800-38A addendum (CTS),
     * SP 800-38C (CCM), SP 800-38D (GCM), SP 800-38F (KW, KWP). */
    {CKM_AES_ECB,      16, 32, ENC_DEC | WRAP_UNWRAP, A, CKK_AES, &mech_cipher_family, NULL, 0},
    {CKM_AES_CBC,      16, 32, ENC_DEC | WRAP_UNWRAP, A, CKK_AES, &mech_cipher_family, NULL, 0},
    {CKM_AES_CBC_PAD,  16, 32, ENC_DEC | WRAP_UNWRAP, A, CKK_AES, &mech_cipher_family, NULL, 0},
    {CKM_AES_CTR,      16, 32, ENC_DEC | WRAP_UNWRAP, A, CKK_AES, &mech_cipher_family, NULL, 0},
    {CKM_AES_CTS,      16, 32, ENC_DEC, A, CKK_AES, &mech_cipher_family, NULL, 0},
    {CKM_AES_GCM,      16, 32, ENC_DEC | WRAP_UNWRAP | CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT,
                       A, CKK_AES, &mech_aead_family, NULL, 0},
    {CKM_AES_CCM,      16, 32, ENC_DEC | WRAP_UNWRAP | CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT,
                       A, CKK_AES, &mech_aead_family, NULL, 0},
    {CKM_AES_KEY_WRAP,     16, 32, ENC_DEC | WRAP_UNWRAP, A, CKK_AES, &mech_kw_family, NULL, 0},
    {CKM_AES_KEY_WRAP_KWP, 16, 32, ENC_DEC | WRAP_UNWRAP, A, CKK_AES, &mech_kw_family, NULL, 0},
    /* Triple DES for legacy interop (sizes in bytes).  Not approved:
     * TDEA encryption is disallowed after 2023 (SP 800-131A r2). */
    {CKM_DES3_ECB,     24, 24, ENC_DEC | WRAP_UNWRAP, MECH_LEGACY, CKK_DES3, &mech_cipher_family, NULL, 0},
    {CKM_DES3_CBC,     24, 24, ENC_DEC | WRAP_UNWRAP, MECH_LEGACY, CKK_DES3, &mech_cipher_family, NULL, 0},
    {CKM_DES3_CBC_PAD, 24, 24, ENC_DEC | WRAP_UNWRAP, MECH_LEGACY, CKK_DES3, &mech_cipher_family, NULL, 0},

    /* RSA (modulus bits; approved only from 2048 bits, SP 800-131A r2).
     * Approved: key generation and PSS / PKCS#1 v1.5 signatures (FIPS
     * 186-5), OAEP (SP 800-56B r2).  Not approved: PKCS#1 v1.5 encryption
     * (disallowed after 2023, SP 800-131A r2) and raw X.509 RSA, nor
     * signing with SHA-1 (verification stays: legacy use). */
    {CKM_RSA_PKCS_KEY_PAIR_GEN, RSA_MIN, RSA_MAX, CKF_GENERATE_KEY_PAIR, A, CKK_RSA, &mech_keygen_family, NULL, 0},
    {CKM_RSA_PKCS,     RSA_MIN, RSA_MAX, ENC_DEC | SIGN_VERIFY | RECOVER | WRAP_UNWRAP, A | MECH_APPROVED_SIGN, CKK_RSA, &mech_rsa_family, NULL, 0},
    {CKM_RSA_X_509,    RSA_MIN, RSA_MAX, ENC_DEC | SIGN_VERIFY | RECOVER | WRAP_UNWRAP, 0, CKK_RSA, &mech_rsa_family, NULL, 0},
    {CKM_RSA_PKCS_OAEP, RSA_MIN, RSA_MAX, ENC_DEC | WRAP_UNWRAP, A, CKK_RSA, &mech_rsa_family, NULL, 0},
    {CKM_RSA_PKCS_PSS, RSA_MIN, RSA_MAX, SIGN_VERIFY, A, CKK_RSA, &mech_rsa_family, NULL, 0},
    {CKM_SHA1_RSA_PKCS,   RSA_MIN, RSA_MAX, SIGN_VERIFY, A | MECH_SHA1_SIGN, CKK_RSA, &mech_rsa_family, "SHA1", 0},
    {CKM_SHA224_RSA_PKCS, RSA_MIN, RSA_MAX, SIGN_VERIFY, A, CKK_RSA, &mech_rsa_family, "SHA2-224", 0},
    {CKM_SHA256_RSA_PKCS, RSA_MIN, RSA_MAX, SIGN_VERIFY, A, CKK_RSA, &mech_rsa_family, "SHA2-256", 0},
    {CKM_SHA384_RSA_PKCS, RSA_MIN, RSA_MAX, SIGN_VERIFY, A, CKK_RSA, &mech_rsa_family, "SHA2-384", 0},
    {CKM_SHA512_RSA_PKCS, RSA_MIN, RSA_MAX, SIGN_VERIFY, A, CKK_RSA, &mech_rsa_family, "SHA2-512", 0},
    {CKM_SHA3_224_RSA_PKCS, RSA_MIN, RSA_MAX, SIGN_VERIFY, A, CKK_RSA, &mech_rsa_family, "SHA3-224", 0},
    {CKM_SHA3_256_RSA_PKCS, RSA_MIN, RSA_MAX, SIGN_VERIFY, A, CKK_RSA, &mech_rsa_family, "SHA3-256", 0},
    {CKM_SHA3_384_RSA_PKCS, RSA_MIN, RSA_MAX, SIGN_VERIFY, A, CKK_RSA, &mech_rsa_family, "SHA3-384", 0},
    {CKM_SHA3_512_RSA_PKCS, RSA_MIN, RSA_MAX, SIGN_VERIFY, A, CKK_RSA, &mech_rsa_family, "SHA3-512", 0},
    {CKM_SHA1_RSA_PKCS_PSS,   RSA_MIN, RSA_MAX, SIGN_VERIFY, A | MECH_SHA1_SIGN, CKK_RSA, &mech_rsa_family, "SHA1", 1},
    {CKM_SHA224_RSA_PKCS_PSS, RSA_MIN, RSA_MAX, SIGN_VERIFY, A, CKK_RSA, &mech_rsa_family, "SHA2-224", 1},
    {CKM_SHA256_RSA_PKCS_PSS, RSA_MIN, RSA_MAX, SIGN_VERIFY, A, CKK_RSA, &mech_rsa_family, "SHA2-256", 1},
    {CKM_SHA384_RSA_PKCS_PSS, RSA_MIN, RSA_MAX, SIGN_VERIFY, A, CKK_RSA, &mech_rsa_family, "SHA2-384", 1},
    {CKM_SHA512_RSA_PKCS_PSS, RSA_MIN, RSA_MAX, SIGN_VERIFY, A, CKK_RSA, &mech_rsa_family, "SHA2-512", 1},
    {CKM_SHA3_224_RSA_PKCS_PSS, RSA_MIN, RSA_MAX, SIGN_VERIFY, A, CKK_RSA, &mech_rsa_family, "SHA3-224", 1},
    {CKM_SHA3_256_RSA_PKCS_PSS, RSA_MIN, RSA_MAX, SIGN_VERIFY, A, CKK_RSA, &mech_rsa_family, "SHA3-256", 1},
    {CKM_SHA3_384_RSA_PKCS_PSS, RSA_MIN, RSA_MAX, SIGN_VERIFY, A, CKK_RSA, &mech_rsa_family, "SHA3-384", 1},
    {CKM_SHA3_512_RSA_PKCS_PSS, RSA_MIN, RSA_MAX, SIGN_VERIFY, A, CKK_RSA, &mech_rsa_family, "SHA3-512", 1},

    /* Elliptic curves (field bits: P-256 .. P-521, secp256k1).  Approved on
     * P-256/384/521 only (the key's curve is checked, mech_check_key):
     * ECDSA (FIPS 186-5, SHA-1 signing excepted), ECDH and cofactor ECDH
     * (SP 800-56A r3); secp256k1 is in neither. */
    {CKM_EC_KEY_PAIR_GEN, 256, 521, CKF_GENERATE_KEY_PAIR | EC_FLAGS, A, CKK_EC, &mech_keygen_family, NULL, 0},
    {CKM_ECDSA,         256, 521, SIGN_VERIFY | EC_FLAGS, A, CKK_EC, &mech_ec_family, NULL, 0},
    {CKM_ECDSA_SHA1,    256, 521, SIGN_VERIFY | EC_FLAGS, A | MECH_SHA1_SIGN, CKK_EC, &mech_ec_family, "SHA1", 0},
    {CKM_ECDSA_SHA224,  256, 521, SIGN_VERIFY | EC_FLAGS, A, CKK_EC, &mech_ec_family, "SHA2-224", 0},
    {CKM_ECDSA_SHA256,  256, 521, SIGN_VERIFY | EC_FLAGS, A, CKK_EC, &mech_ec_family, "SHA2-256", 0},
    {CKM_ECDSA_SHA384,  256, 521, SIGN_VERIFY | EC_FLAGS, A, CKK_EC, &mech_ec_family, "SHA2-384", 0},
    {CKM_ECDSA_SHA512,  256, 521, SIGN_VERIFY | EC_FLAGS, A, CKK_EC, &mech_ec_family, "SHA2-512", 0},
    {CKM_ECDSA_SHA3_224, 256, 521, SIGN_VERIFY | EC_FLAGS, A, CKK_EC, &mech_ec_family, "SHA3-224", 0},
    {CKM_ECDSA_SHA3_256, 256, 521, SIGN_VERIFY | EC_FLAGS, A, CKK_EC, &mech_ec_family, "SHA3-256", 0},
    {CKM_ECDSA_SHA3_384, 256, 521, SIGN_VERIFY | EC_FLAGS, A, CKK_EC, &mech_ec_family, "SHA3-384", 0},
    {CKM_ECDSA_SHA3_512, 256, 521, SIGN_VERIFY | EC_FLAGS, A, CKK_EC, &mech_ec_family, "SHA3-512", 0},
    {CKM_ECDH1_DERIVE,  255, 521, CKF_DERIVE | EC_FLAGS, A, NONE, &mech_ec_family, NULL, 0},
    {CKM_ECDH1_COFACTOR_DERIVE, 256, 521, CKF_DERIVE | EC_FLAGS, A, CKK_EC, &mech_ec_family, NULL, 0},
    /* Edwards and Montgomery curves (key bits: 255 and 448).  Approved:
     * EdDSA on Ed25519 / Ed448 (FIPS 186-5).  Not approved: X25519 / X448
     * (not SP 800-56A r3 curves). */
    {CKM_EC_EDWARDS_KEY_PAIR_GEN,   255, 448, CKF_GENERATE_KEY_PAIR | CKF_EC_OID, A, CKK_EC_EDWARDS, &mech_keygen_family, NULL, 0},
    {CKM_EDDSA,                     255, 448, SIGN_VERIFY | CKF_EC_OID, A, CKK_EC_EDWARDS, &mech_ec_family, NULL, 0},
    {CKM_EC_MONTGOMERY_KEY_PAIR_GEN, 255, 448, CKF_GENERATE_KEY_PAIR | CKF_EC_OID, 0, CKK_EC_MONTGOMERY, &mech_keygen_family, NULL, 0},

    /* Post-quantum (FIPS 203/204/205; PKCS#11 3.2 numbers).  ML-DSA and
     * SLH-DSA sizes: public key bytes, as 3.2 says; ML-KEM likewise.
     * Approved: ML-KEM, ML-DSA, HashML-DSA, SLH-DSA, HashSLH-DSA, every
     * parameter set (FIPS 203, 204, 205). */
    {CKM_ML_KEM_KEY_PAIR_GEN, 800, 1568, CKF_GENERATE_KEY_PAIR, A | P, CKK_ML_KEM, &mech_pqc_kem_family, NULL, 0},
    {CKM_ML_KEM,              800, 1568, CKF_ENCAPSULATE | CKF_DECAPSULATE, A | P, CKK_ML_KEM, &mech_pqc_kem_family, NULL, 0},
    {CKM_ML_DSA_KEY_PAIR_GEN, 1312, 2592, CKF_GENERATE_KEY_PAIR, A | P, CKK_ML_DSA, &mech_pqc_sig_family, NULL, 0},
    {CKM_ML_DSA,              1312, 2592, SIGN_VERIFY, A | P, CKK_ML_DSA, &mech_pqc_sig_family, NULL, 0},
    {CKM_HASH_ML_DSA,         1312, 2592, SIGN_VERIFY, A | P, CKK_ML_DSA, &mech_pqc_sig_family, NULL, 0},
    {CKM_HASH_ML_DSA_SHA224,  1312, 2592, SIGN_VERIFY, A | P, CKK_ML_DSA, &mech_pqc_sig_family, "SHA2-224", 0},
    {CKM_HASH_ML_DSA_SHA256,  1312, 2592, SIGN_VERIFY, A | P, CKK_ML_DSA, &mech_pqc_sig_family, "SHA2-256", 0},
    {CKM_HASH_ML_DSA_SHA384,  1312, 2592, SIGN_VERIFY, A | P, CKK_ML_DSA, &mech_pqc_sig_family, "SHA2-384", 0},
    {CKM_HASH_ML_DSA_SHA512,  1312, 2592, SIGN_VERIFY, A | P, CKK_ML_DSA, &mech_pqc_sig_family, "SHA2-512", 0},
    {CKM_HASH_ML_DSA_SHA3_224, 1312, 2592, SIGN_VERIFY, A | P, CKK_ML_DSA, &mech_pqc_sig_family, "SHA3-224", 0},
    {CKM_HASH_ML_DSA_SHA3_256, 1312, 2592, SIGN_VERIFY, A | P, CKK_ML_DSA, &mech_pqc_sig_family, "SHA3-256", 0},
    {CKM_HASH_ML_DSA_SHA3_384, 1312, 2592, SIGN_VERIFY, A | P, CKK_ML_DSA, &mech_pqc_sig_family, "SHA3-384", 0},
    {CKM_HASH_ML_DSA_SHA3_512, 1312, 2592, SIGN_VERIFY, A | P, CKK_ML_DSA, &mech_pqc_sig_family, "SHA3-512", 0},
    {CKM_HASH_ML_DSA_SHAKE128, 1312, 2592, SIGN_VERIFY, A | P, CKK_ML_DSA, &mech_pqc_sig_family, "SHAKE-128", 0},
    {CKM_HASH_ML_DSA_SHAKE256, 1312, 2592, SIGN_VERIFY, A | P, CKK_ML_DSA, &mech_pqc_sig_family, "SHAKE-256", 0},
    {CKM_SLH_DSA_KEY_PAIR_GEN, 32, 64, CKF_GENERATE_KEY_PAIR, A | P, CKK_SLH_DSA, &mech_pqc_sig_family, NULL, 0},
    {CKM_SLH_DSA,              32, 64, SIGN_VERIFY, A | P, CKK_SLH_DSA, &mech_pqc_sig_family, NULL, 0},
    {CKM_HASH_SLH_DSA,         32, 64, SIGN_VERIFY, A | P, CKK_SLH_DSA, &mech_pqc_sig_family, NULL, 0},
    {CKM_HASH_SLH_DSA_SHA224,  32, 64, SIGN_VERIFY, A | P, CKK_SLH_DSA, &mech_pqc_sig_family, "SHA2-224", 0},
    {CKM_HASH_SLH_DSA_SHA256,  32, 64, SIGN_VERIFY, A | P, CKK_SLH_DSA, &mech_pqc_sig_family, "SHA2-256", 0},
    {CKM_HASH_SLH_DSA_SHA384,  32, 64, SIGN_VERIFY, A | P, CKK_SLH_DSA, &mech_pqc_sig_family, "SHA2-384", 0},
    {CKM_HASH_SLH_DSA_SHA512,  32, 64, SIGN_VERIFY, A | P, CKK_SLH_DSA, &mech_pqc_sig_family, "SHA2-512", 0},
    {CKM_HASH_SLH_DSA_SHA3_224, 32, 64, SIGN_VERIFY, A | P, CKK_SLH_DSA, &mech_pqc_sig_family, "SHA3-224", 0},
    {CKM_HASH_SLH_DSA_SHA3_256, 32, 64, SIGN_VERIFY, A | P, CKK_SLH_DSA, &mech_pqc_sig_family, "SHA3-256", 0},
    {CKM_HASH_SLH_DSA_SHA3_384, 32, 64, SIGN_VERIFY, A | P, CKK_SLH_DSA, &mech_pqc_sig_family, "SHA3-384", 0},
    {CKM_HASH_SLH_DSA_SHA3_512, 32, 64, SIGN_VERIFY, A | P, CKK_SLH_DSA, &mech_pqc_sig_family, "SHA3-512", 0},
    {CKM_HASH_SLH_DSA_SHAKE128, 32, 64, SIGN_VERIFY, A | P, CKK_SLH_DSA, &mech_pqc_sig_family, "SHAKE-128", 0},
    {CKM_HASH_SLH_DSA_SHAKE256, 32, 64, SIGN_VERIFY, A | P, CKK_SLH_DSA, &mech_pqc_sig_family, "SHAKE-256", 0},
    /* The reference implementation's vendor numbers (include/craton/pkcs11_craton.h):
     * accepted always, listed only with craton_vendor_pqc; arg = the parameter set.
     * Approved: the same FIPS 203/204 algorithms under other numbers. */
    {CKM_CRATON_ML_KEM_512,  800, 800, CKF_GENERATE_KEY_PAIR | CKF_DERIVE, A | P | V, CKK_ML_KEM, &mech_pqc_kem_family, NULL, CKP_ML_KEM_512},
    {CKM_CRATON_ML_KEM_768,  1184, 1184, CKF_GENERATE_KEY_PAIR | CKF_DERIVE, A | P | V, CKK_ML_KEM, &mech_pqc_kem_family, NULL, CKP_ML_KEM_768},
    {CKM_CRATON_ML_KEM_1024, 1568, 1568, CKF_GENERATE_KEY_PAIR | CKF_DERIVE, A | P | V, CKK_ML_KEM, &mech_pqc_kem_family, NULL, CKP_ML_KEM_1024},
    {CKM_CRATON_ML_DSA_44, 1312, 1312, CKF_GENERATE_KEY_PAIR | SIGN_VERIFY, A | P | V, CKK_ML_DSA, &mech_pqc_sig_family, NULL, CKP_ML_DSA_44},
    {CKM_CRATON_ML_DSA_65, 1952, 1952, CKF_GENERATE_KEY_PAIR | SIGN_VERIFY, A | P | V, CKK_ML_DSA, &mech_pqc_sig_family, NULL, CKP_ML_DSA_65},
    {CKM_CRATON_ML_DSA_87, 2592, 2592, CKF_GENERATE_KEY_PAIR | SIGN_VERIFY, A | P | V, CKK_ML_DSA, &mech_pqc_sig_family, NULL, CKP_ML_DSA_87},
    {CKM_CRATON_SLH_DSA_SHA2_128S, 32, 32, CKF_GENERATE_KEY_PAIR | SIGN_VERIFY, A | P | V, CKK_SLH_DSA, &mech_pqc_sig_family, NULL, CKP_SLH_DSA_SHA2_128S},
    {CKM_CRATON_SLH_DSA_SHA2_256S, 64, 64, CKF_GENERATE_KEY_PAIR | SIGN_VERIFY, A | P | V, CKK_SLH_DSA, &mech_pqc_sig_family, NULL, CKP_SLH_DSA_SHA2_256S},
    /* Hybrids (vendor): a post-quantum key with a classical one.  Not
     * approved: vendor composites (X-Wing's X25519 half, the
     * ML-DSA-65 + ECDSA concatenation) that no NIST standard describes. */
    {CKM_CRATON_XWING, 1184, 1184, CKF_ENCAPSULATE | CKF_DECAPSULATE, P | MECH_TWO_KEYS, CKK_ML_KEM, &mech_hybrid_family, NULL, 0},
    {CKM_CRATON_ML_DSA_65_ECDSA_P256, 1952, 1952, SIGN_VERIFY, P | MECH_TWO_KEYS, CKK_ML_DSA, &mech_hybrid_family, NULL, 0},

    /* Key derivation (base key sizes in bits; 0: any).  Approved: HKDF
     * (SP 800-56C r2), SP 800-108 r1 counter mode, PBKDF2 (SP 800-132);
     * in approved-only mode kdf.c takes SHA-2 / SHA-3 PRFs only.  Not
     * approved: concatenation and XOR (no NIST KDF). */
    {CKM_HKDF_DERIVE,            0, 0, CKF_DERIVE, A, NONE, &mech_kdf_family, NULL, 0},
    {CKM_HKDF_DATA,              0, 0, CKF_DERIVE, A, NONE, &mech_kdf_family, NULL, 0},
    {CKM_SP800_108_COUNTER_KDF,  0, 0, CKF_DERIVE, A, NONE, &mech_kdf_family, NULL, 0},
    {CKM_PKCS5_PBKD2,            0, 0, CKF_GENERATE, A, NONE, &mech_kdf_family, NULL, 0},
    {CKM_CONCATENATE_BASE_AND_KEY,  0, 0, CKF_DERIVE, 0, NONE, &mech_kdf_family, NULL, 0},
    {CKM_CONCATENATE_BASE_AND_DATA, 0, 0, CKF_DERIVE, 0, NONE, &mech_kdf_family, NULL, 0},
    {CKM_CONCATENATE_DATA_AND_BASE, 0, 0, CKF_DERIVE, 0, NONE, &mech_kdf_family, NULL, 0},
    {CKM_XOR_BASE_AND_DATA,         0, 0, CKF_DERIVE, 0, NONE, &mech_kdf_family, NULL, 0},
};
/* clang-format on */

#define NTABLE (sizeof(table) / sizeof(table[0]))

/* The rows sorted by type, for a binary search (the table itself stays in
 * the order C_GetMechanismList reports). */
static const struct mech_desc *by_type[NTABLE];
static pthread_once_t by_type_once = PTHREAD_ONCE_INIT;

static int cmp_type(const void *a, const void *b)
{
    CK_MECHANISM_TYPE x = (*(const struct mech_desc *const *)a)->type;
    CK_MECHANISM_TYPE y = (*(const struct mech_desc *const *)b)->type;
    return x < y ? -1 : x > y;
}

static void sort_by_type(void)
{
    for (size_t i = 0; i < NTABLE; i++)
        by_type[i] = &table[i];
    qsort(by_type, NTABLE, sizeof(by_type[0]), cmp_type);
}

const struct mech_desc *mech_find(CK_MECHANISM_TYPE type)
{
    pthread_once(&by_type_once, sort_by_type);
    size_t lo = 0, hi = NTABLE;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (by_type[mid]->type < type)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < NTABLE && by_type[lo]->type == type ? by_type[lo] : NULL;
}

bool mech_enabled(const struct mech_desc *d, const struct config *cfg)
{
    if ((d->policy & MECH_PQC) && !cfg->enable_pqc)
        return false;
    if (cfg->fips_approved_only && !(d->policy & MECH_APPROVED))
        return false;
    return true;
}

static bool listed(const struct mech_desc *d, const struct config *cfg)
{
    return mech_enabled(d, cfg) && (!(d->policy & MECH_VENDOR_PQC) || cfg->craton_vendor_pqc);
}

/* The functions MECH_APPROVED_SIGN keeps in the approved set. */
#define APPROVED_SIGN_FNS (CKF_SIGN | CKF_VERIFY | CKF_MESSAGE_SIGN | CKF_MESSAGE_VERIFY)
#define SIGN_FNS          (CKF_SIGN | CKF_SIGN_RECOVER | CKF_MESSAGE_SIGN)

bool mech_approved(const struct mech_desc *d, mech_fn fn)
{
    if (!(d->policy & MECH_APPROVED))
        return false;
    if ((d->policy & MECH_SHA1_SIGN) && (fn & SIGN_FNS))
        return false;
    if ((d->policy & MECH_APPROVED_SIGN) && (fn & ~(CK_FLAGS)APPROVED_SIGN_FNS))
        return false;
    return true;
}

/* The flags d has under cfg: SHA-1 signing withdrawn unless allowed; in
 * approved-only mode the functions mech_approved refuses (the config
 * already forces allow_sha1_signing off there). */
static CK_FLAGS flags_under(const struct mech_desc *d, const struct config *cfg)
{
    CK_FLAGS f = d->flags;
    if ((d->policy & MECH_SHA1_SIGN) && !cfg->allow_sha1_signing)
        f &= ~(CK_FLAGS)SIGN_FNS;
    if ((d->policy & MECH_APPROVED_SIGN) && cfg->fips_approved_only)
        f &= ~(CK_FLAGS)(ENC_DEC | WRAP_UNWRAP | RECOVER);
    return f;
}

/* The smallest key d takes under cfg (CK_MECHANISM_INFO's ulMinKeySize):
 * RSA 2048 bits without allow_weak_rsa; in approved-only mode HMAC and
 * generic secrets 112 bits and ECDH 256 (no X25519: 255). */
static CK_ULONG min_under(const struct mech_desc *d, const struct config *cfg)
{
    CK_ULONG min = d->min;
    if (d->key_type == CKK_RSA && !cfg->allow_weak_rsa)
        min = 2048;
    if (cfg->fips_approved_only && d->min == HMAC_MIN)
        min = 112;
    if (cfg->fips_approved_only && d->type == CKM_ECDH1_DERIVE)
        min = 256;
    return min;
}

CK_RV mech_list(const struct config *cfg, CK_MECHANISM_TYPE *list, CK_ULONG *count)
{
    CK_ULONG n = 0;
    for (size_t i = 0; i < NTABLE; i++)
        n += listed(&table[i], cfg);
    if (list == NULL) {
        *count = n;
        return CKR_OK;
    }
    if (*count < n) {
        *count = n;
        return CKR_BUFFER_TOO_SMALL;
    }
    n = 0;
    for (size_t i = 0; i < NTABLE; i++)
        if (listed(&table[i], cfg))
            list[n++] = table[i].type;
    *count = n;
    return CKR_OK;
}

CK_RV mech_info(const struct config *cfg, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info)
{
    const struct mech_desc *d = mech_find(type);
    if (d == NULL || !mech_enabled(d, cfg))
        return CKR_MECHANISM_INVALID;
    info->ulMinKeySize = min_under(d, cfg);
    info->ulMaxKeySize = d->max;
    info->flags = flags_under(d, cfg);
    return CKR_OK;
}

CK_RV mech_lookup(const struct config *cfg, const CK_MECHANISM *m, mech_fn fn,
                  const struct mech_desc **out)
{
    if (m == NULL)
        return CKR_ARGUMENTS_BAD;
    const struct mech_desc *d = mech_find(m->mechanism);
    if (d == NULL || !mech_enabled(d, cfg) || !(flags_under(d, cfg) & fn))
        return CKR_MECHANISM_INVALID;
    if (m->pParameter == NULL && m->ulParameterLen != 0)
        return CKR_MECHANISM_PARAM_INVALID;
    *out = d;
    return CKR_OK;
}

static bool asymmetric(CK_KEY_TYPE kt)
{
    switch (kt) {
    case CKK_RSA:
    case CKK_EC:
    case CKK_EC_EDWARDS:
    case CKK_EC_MONTGOMERY:
    case CKK_ML_KEM:
    case CKK_ML_DSA:
    case CKK_SLH_DSA:
        return true;
    default:
        return false;
    }
}

/* The key class function fn needs for a key of type kt. */
static bool class_fits(mech_fn fn, const struct key *k)
{
    if (!asymmetric(k->type))
        return k->cls == CKO_SECRET_KEY;
    switch (fn) {
    case CKF_ENCRYPT:
    case CKF_WRAP:
    case CKF_VERIFY:
    case CKF_VERIFY_RECOVER:
    case CKF_MESSAGE_VERIFY:
    case CKF_ENCAPSULATE:
        return k->cls == CKO_PUBLIC_KEY;
    default:
        return k->cls == CKO_PRIVATE_KEY;
    }
}

CK_RV mech_check_key(const struct mech_desc *d, mech_fn fn, const struct key *k,
                     const struct config *cfg)
{
    CK_RV rv = CKR_KEY_TYPE_INCONSISTENT;
    if (!class_fits(fn, k) || (d->key_type != NONE && d->key_type != k->type))
        goto out;
    rv = CKR_KEY_SIZE_RANGE;
    CK_ULONG size = k->bits;
    bool sized = true; /* else fixed by the curve / parameter set, or any length */
    switch (k->type) {
    case CKK_AES:
    case CKK_DES3:
        size = k->bits / 8; /* the table's unit for these is bytes */
        break;
    case CKK_RSA:
        if (k->bits < 2048 && !cfg->allow_weak_rsa)
            goto out;
        break;
    case CKK_EC:
        break;
    default:
        sized = false;
        break;
    }
    if (sized && d->max != 0 && (size < d->min || size > d->max))
        goto out;
    rv = cfg->fips_approved_only ? key_approved(k) : CKR_OK;
out:
    return rv;
}

CK_FLAGS mech_op_validation(const struct mech_op *op)
{
    bool ok = mech_approved(op->desc, op->fn) && !op->unapproved &&
              (op->key == NULL || key_approved(op->key) == CKR_OK);
    return ok ? KEY_VALIDATION_APPROVED : 0;
}

void *mech_op_alloc(size_t size, const struct mech_op_ops *ops, const struct mech_desc *d,
                    mech_fn fn, struct key *k, struct crypto *c)
{
    struct mech_op *op = calloc(1, size);
    if (op == NULL)
        return NULL;
    op->ops = ops;
    op->desc = d;
    op->fn = fn;
    op->key = k != NULL ? key_ref(k) : NULL;
    op->crypto = c;
    return op;
}

void mech_op_free(struct mech_op *op)
{
    if (op == NULL)
        return;
    struct key *k = op->key;
    if (op->ops != NULL && op->ops->free != NULL)
        op->ops->free(op);
    free(op);
    key_unref(k);
}

CK_RV mech_op_new(const struct mech_desc *d, const CK_MECHANISM *m, mech_fn fn, struct key *k,
                  struct crypto *c, const struct config *cfg, struct mech_op **out)
{
    *out = NULL;
    if (d->family->init == NULL)
        return CKR_MECHANISM_INVALID;
    if (k != NULL) {
        CK_RV rv = mech_check_key(d, fn, k, cfg);
        if (rv != CKR_OK)
            return rv;
    }
    return d->family->init(out, d, m, fn, k, c, cfg);
}
