/* Helpers shared by the mechanism families. */
#include "mech/mech.h"

struct ossl_lib_ctx_st *mech_libctx(struct crypto *c)
{
    return crypto_libctx(c);
}

const char *mech_digest_name(CK_MECHANISM_TYPE digest)
{
    switch (digest) {
    case CKM_SHA_1:
        return "SHA1";
    case CKM_SHA224:
        return "SHA2-224";
    case CKM_SHA256:
        return "SHA2-256";
    case CKM_SHA384:
        return "SHA2-384";
    case CKM_SHA512:
        return "SHA2-512";
    case CKM_SHA512_224:
        return "SHA2-512/224";
    case CKM_SHA512_256:
        return "SHA2-512/256";
    case CKM_SHA3_224:
        return "SHA3-224";
    case CKM_SHA3_256:
        return "SHA3-256";
    case CKM_SHA3_384:
        return "SHA3-384";
    case CKM_SHA3_512:
        return "SHA3-512";
    default:
        return NULL;
    }
}

const char *mech_mgf_digest_name(CK_RSA_PKCS_MGF_TYPE mgf)
{
    switch (mgf) {
    case CKG_MGF1_SHA1:
        return "SHA1";
    case CKG_MGF1_SHA224:
        return "SHA2-224";
    case CKG_MGF1_SHA256:
        return "SHA2-256";
    case CKG_MGF1_SHA384:
        return "SHA2-384";
    case CKG_MGF1_SHA512:
        return "SHA2-512";
    case CKG_MGF1_SHA3_224:
        return "SHA3-224";
    case CKG_MGF1_SHA3_256:
        return "SHA3-256";
    case CKG_MGF1_SHA3_384:
        return "SHA3-384";
    case CKG_MGF1_SHA3_512:
        return "SHA3-512";
    default:
        return NULL;
    }
}

CK_RV mech_param(const CK_MECHANISM *m, size_t size, const void **out)
{
    if (m->pParameter == NULL || m->ulParameterLen != size)
        return CKR_MECHANISM_PARAM_INVALID;
    *out = m->pParameter;
    return CKR_OK;
}

CK_RV mech_out(unsigned char *out, CK_ULONG *outlen, size_t need, bool *done)
{
    *done = false;
    if (out == NULL) {
        *outlen = need;
        *done = true;
        return CKR_OK;
    }
    if (*outlen < need) {
        *outlen = need;
        *done = true;
        return CKR_BUFFER_TOO_SMALL;
    }
    return CKR_OK;
}
