/* Key management (section 5.15) and random numbers (5.16).  New keys
 * follow one path: the application's template, the class and key type the
 * mechanism makes, the attribute rules, the mechanism's key material, the
 * import checks (which add the derived attributes), the object store. */
#include <stdio.h>
#include <string.h>

#include "object/keyexport.h"
#include "object/keyimport.h"
#include "object/rules.h"
#include "p11/p11.h"

/* Puts the class and key type a mechanism makes into t; a different value
 * given by the application is CKR_TEMPLATE_INCONSISTENT. */
CK_RV p11_impose(struct attrs *t, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt)
{
    CK_ULONG v;
    if (attrs_get_ulong(t, CKA_CLASS, &v) == CKR_OK && v != cls)
        return CKR_TEMPLATE_INCONSISTENT;
    if (attrs_get_ulong(t, CKA_KEY_TYPE, &v) == CKR_OK && v != kt)
        return CKR_TEMPLATE_INCONSISTENT;
    CK_RV rv = attrs_set_ulong(t, CKA_CLASS, cls);
    if (rv == CKR_OK)
        rv = attrs_set_ulong(t, CKA_KEY_TYPE, kt);
    return rv;
}

/* The key type of a new secret key: the mechanism's, else the template's,
 * else a generic secret. */
CK_KEY_TYPE p11_secret_type(const struct mech_desc *d, const struct attrs *t)
{
    CK_ULONG kt = CKK_GENERIC_SECRET;
    if (d != NULL && d->key_type != CK_UNAVAILABLE_INFORMATION)
        return d->key_type;
    (void)attrs_get_ulong(t, CKA_KEY_TYPE, &kt);
    return kt;
}

/* The last steps of every new key: import checks (skipped for a key pair
 * the module just generated: keyexport_attrs wrote it from the key that
 * passed the pairwise test, derived attributes included), then the store. */
CK_RV p11_add_key(struct p11_call *c, struct attrs *t, CK_SESSION_HANDLE hSession,
                  bool generated_pair, CK_OBJECT_HANDLE *out)
{
    CK_ULONG cls = 0, kt = 0;
    (void)attrs_get_ulong(t, CKA_CLASS, &cls);
    (void)attrs_get_ulong(t, CKA_KEY_TYPE, &kt);
    CK_RV rv = generated_pair ? CKR_OK : keyimport_check(c->h->crypto, cls, kt, t);
    if (rv == CKR_ATTRIBUTE_VALUE_INVALID || rv == CKR_TEMPLATE_INCOMPLETE)
        rv = CKR_DEVICE_ERROR; /* the module made this material: a bug, not the caller's */
    if (rv == CKR_OK)
        rv = objects_add(c->objs, t, hSession, &c->v, out);
    return rv;
}

/* 5.15 */
CK_RV C_GenerateKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                    CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phKey)
{
    struct p11_call c;
    struct attrs t = {0};
    const struct mech_desc *d = NULL;
    CK_RV rv = p11_call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    if (pMechanism == NULL || phKey == NULL || (pTemplate == NULL && ulCount > 0))
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK)
        rv = mech_lookup(&c.h->cfg, pMechanism, CKF_GENERATE, &d);
    if (rv == CKR_OK && d->family->generate == NULL)
        rv = CKR_MECHANISM_INVALID;
    if (rv == CKR_OK)
        rv = attrs_from_template(pTemplate, ulCount, CKO_SECRET_KEY, &t);
    if (rv == CKR_OK)
        rv = p11_impose(&t, CKO_SECRET_KEY, p11_secret_type(d, &t));
    if (rv == CKR_OK)
        rv = rules_complete_new(RULES_GENERATE, &t, pMechanism->mechanism, false, false);
    if (rv == CKR_OK)
        rv = p11_may_hold(&c, &t);
    if (rv == CKR_OK)
        rv = d->family->generate(d, pMechanism, c.h->crypto, &c.h->cfg, &t);
    if (rv == CKR_OK)
        rv = p11_add_key(&c, &t, hSession, false, phKey);
    p11_audit_key(&c, "key_generate", pMechanism, rv == CKR_OK ? *phKey : CK_INVALID_HANDLE, NULL,
                  rv);
    attrs_free(&t);
    p11_call_end(&c);
    return rv;
}

/* 5.15: both halves or neither. */
CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                        CK_ATTRIBUTE_PTR pPublicKeyTemplate, CK_ULONG ulPublicKeyAttributeCount,
                        CK_ATTRIBUTE_PTR pPrivateKeyTemplate, CK_ULONG ulPrivateKeyAttributeCount,
                        CK_OBJECT_HANDLE_PTR phPublicKey, CK_OBJECT_HANDLE_PTR phPrivateKey)
{
    struct p11_call c;
    struct attrs pub = {0}, priv = {0};
    const struct mech_desc *d = NULL;
    CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE;
    CK_RV rv = p11_call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    if (pMechanism == NULL || phPublicKey == NULL || phPrivateKey == NULL ||
        (pPublicKeyTemplate == NULL && ulPublicKeyAttributeCount > 0) ||
        (pPrivateKeyTemplate == NULL && ulPrivateKeyAttributeCount > 0))
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK)
        rv = mech_lookup(&c.h->cfg, pMechanism, CKF_GENERATE_KEY_PAIR, &d);
    if (rv == CKR_OK && d->family->generate_pair == NULL)
        rv = CKR_MECHANISM_INVALID;
    if (rv == CKR_OK)
        rv = attrs_from_template(pPublicKeyTemplate, ulPublicKeyAttributeCount, CKO_PUBLIC_KEY,
                                 &pub);
    if (rv == CKR_OK)
        rv = attrs_from_template(pPrivateKeyTemplate, ulPrivateKeyAttributeCount, CKO_PRIVATE_KEY,
                                 &priv);
    /* The reference's aliases name the parameter set themselves. */
    if (rv == CKR_OK && (d->policy & MECH_VENDOR_PQC) && d->arg != 0 &&
        attrs_find(&pub, CKA_PARAMETER_SET) == NULL)
        rv = attrs_set_ulong(&pub, CKA_PARAMETER_SET, d->arg);
    if (rv == CKR_OK)
        rv = p11_impose(&pub, CKO_PUBLIC_KEY, d->key_type);
    if (rv == CKR_OK)
        rv = p11_impose(&priv, CKO_PRIVATE_KEY, d->key_type);
    if (rv == CKR_OK)
        rv = rules_complete_new(RULES_GENERATE, &pub, pMechanism->mechanism, false, false);
    if (rv == CKR_OK)
        rv = rules_complete_new(RULES_GENERATE, &priv, pMechanism->mechanism, false, false);
    if (rv == CKR_OK)
        rv = p11_may_hold(&c, &pub);
    if (rv == CKR_OK)
        rv = p11_may_hold(&c, &priv);
    if (rv == CKR_OK)
        rv = d->family->generate_pair(d, pMechanism, c.h->crypto, &c.h->cfg, &pub, &priv);
    if (rv == CKR_OK)
        rv = p11_add_key(&c, &pub, hSession, true, &hpub);
    if (rv == CKR_OK) {
        rv = p11_add_key(&c, &priv, hSession, true, phPrivateKey);
        if (rv != CKR_OK && objects_destroy(c.objs, hpub, &c.v) != CKR_OK)
            util_log("C_GenerateKeyPair: could not remove the public half %lu", hpub);
        else
            *phPublicKey = hpub;
    }
    if (audit_wants(c.h->audit, AUDIT_CRYPTO)) {
        char detail[40] = "";
        if (rv == CKR_OK)
            snprintf(detail, sizeof(detail), "public key %lu", (unsigned long)*phPublicKey);
        p11_audit_key(&c, "key_pair_generate", pMechanism,
                      rv == CKR_OK ? *phPrivateKey : CK_INVALID_HANDLE, detail, rv);
    }
    attrs_free(&pub);
    attrs_free(&priv);
    p11_call_end(&c);
    return rv;
}

/* Reads CK_BBOOL attributes of a visible object (false when absent). */
void p11_object_bools(struct p11_call *c, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t1, bool *v1,
                      CK_ATTRIBUTE_TYPE t2, bool *v2)
{
    CK_BBOOL b1 = CK_FALSE, b2 = CK_FALSE;
    CK_ATTRIBUTE q[] = {{t1, &b1, sizeof(b1)}, {t2, &b2, sizeof(b2)}};
    CK_RV rv = objects_get_attributes(c->objs, h, &c->v, q, 2);
    (void)rv; /* an absent attribute reads as false */
    *v1 = q[0].ulValueLen == sizeof(b1) && b1;
    *v2 = q[1].ulValueLen == sizeof(b2) && b2;
}

/* The length of a derived key: CKA_VALUE_LEN, else the key type's only
 * length, else 0 (the mechanism's natural length). */
CK_RV p11_derived_len(const struct attrs *t, CK_KEY_TYPE kt, size_t *len)
{
    CK_ULONG v = 0;
    *len = 0;
    if (attrs_find(t, CKA_VALUE_LEN) != NULL) {
        CK_RV rv = attrs_get_ulong(t, CKA_VALUE_LEN, &v);
        if (rv != CKR_OK)
            return rv;
        if (v == 0 || v > ATTR_MAX_VALUE)
            return CKR_ATTRIBUTE_VALUE_INVALID;
        *len = v;
    } else if (kt == CKK_DES3) {
        *len = 24;
    }
    return CKR_OK;
}

/* 5.15 */
CK_RV C_DeriveKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                  CK_OBJECT_HANDLE hBaseKey, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount,
                  CK_OBJECT_HANDLE_PTR phKey)
{
    struct p11_call c;
    struct attrs t = {0};
    const struct mech_desc *d = NULL;
    struct key *k = NULL;
    unsigned char *value = NULL;
    size_t len = 0, value_len = 0;
    CK_RV rv = p11_call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    if (pMechanism == NULL || phKey == NULL || (pTemplate == NULL && ulAttributeCount > 0))
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK)
        rv = mech_lookup(&c.h->cfg, pMechanism, CKF_DERIVE, &d);
    if (rv == CKR_OK && d->family->derive == NULL)
        rv = CKR_MECHANISM_INVALID;
    if (rv == CKR_OK)
        rv =
            objects_key(c.objs, hBaseKey, &c.v, CKA_DERIVE, pMechanism->mechanism, p11_today(), &k);
    if (rv == CKR_OK)
        rv = mech_check_key(d, CKF_DERIVE, k, &c.h->cfg);
    if (rv == CKR_OK)
        rv = attrs_from_template(pTemplate, ulAttributeCount, CKO_SECRET_KEY, &t);
    CK_KEY_TYPE kt = p11_secret_type(NULL, &t);
    if (rv == CKR_OK)
        rv = p11_impose(&t, CKO_SECRET_KEY, kt);
    if (rv == CKR_OK)
        rv = p11_derived_len(&t, kt, &len);
    if (rv == CKR_OK) {
        bool always_sensitive, never_extractable;
        p11_object_bools(&c, hBaseKey, CKA_ALWAYS_SENSITIVE, &always_sensitive,
                         CKA_NEVER_EXTRACTABLE, &never_extractable);
        rv = rules_complete_new(RULES_DERIVE, &t, pMechanism->mechanism, always_sensitive,
                                never_extractable);
    }
    if (rv == CKR_OK)
        rv = p11_may_hold(&c, &t);
    if (rv == CKR_OK)
        rv = d->family->derive(d, pMechanism, k, c.h->crypto, &c.h->cfg, len, &value, &value_len);
    if (rv == CKR_OK)
        rv = attrs_set(&t, CKO_SECRET_KEY, CKA_VALUE, value, (CK_ULONG)value_len);
    if (rv == CKR_OK)
        rv = p11_add_key(&c, &t, hSession, false, phKey);
    p11_audit_new_key(&c, "derive", pMechanism, hBaseKey, phKey, rv);
    crypto_secret_free(value, value_len);
    key_unref(k);
    attrs_free(&t);
    p11_call_end(&c);
    return rv;
}

/* The codes of wrapping / unwrapping keys (5.15) for those of keys. */
static CK_RV wrapping_code(CK_RV rv, bool unwrap)
{
    switch (rv) {
    case CKR_KEY_HANDLE_INVALID:
        return unwrap ? CKR_UNWRAPPING_KEY_HANDLE_INVALID : CKR_WRAPPING_KEY_HANDLE_INVALID;
    case CKR_KEY_TYPE_INCONSISTENT:
        return unwrap ? CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT : CKR_WRAPPING_KEY_TYPE_INCONSISTENT;
    case CKR_KEY_SIZE_RANGE:
        return unwrap ? CKR_UNWRAPPING_KEY_SIZE_RANGE : CKR_WRAPPING_KEY_SIZE_RANGE;
    default:
        return rv;
    }
}

/* The bytes C_WrapKey encrypts: a secret key's value, a private key's
 * PKCS#8 PrivateKeyInfo (secure heap, the caller frees). */
static CK_RV wrappable_bytes(struct p11_call *c, CK_OBJECT_HANDLE hKey, unsigned char **out,
                             size_t *len)
{
    struct key *k = NULL;
    bool extractable, wrap_with_trusted;
    CK_RV rv = objects_key(c->objs, hKey, &c->v, 0, CK_UNAVAILABLE_INFORMATION, p11_today(), &k);
    if (rv == CKR_KEY_FUNCTION_NOT_PERMITTED)
        rv = CKR_OK; /* dates limit the key's use, not its wrapping */
    if (rv != CKR_OK)
        return rv;
    p11_object_bools(c, hKey, CKA_EXTRACTABLE, &extractable, CKA_WRAP_WITH_TRUSTED,
                     &wrap_with_trusted);
    if (!extractable) {
        rv = CKR_KEY_UNEXTRACTABLE;
    } else if (k->cls == CKO_SECRET_KEY) {
        *out = crypto_secret_alloc(k->secret_len);
        if (*out == NULL) {
            rv = CKR_HOST_MEMORY;
        } else {
            memcpy(*out, k->secret, k->secret_len);
            *len = k->secret_len;
        }
    } else if (k->cls == CKO_PRIVATE_KEY) {
        rv = keyexport_pkcs8(k, out, len);
    } else {
        rv = CKR_KEY_NOT_WRAPPABLE;
    }
    key_unref(k);
    return rv;
}

/* 5.15 */
CK_RV C_WrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                CK_OBJECT_HANDLE hWrappingKey, CK_OBJECT_HANDLE hKey, CK_BYTE_PTR pWrappedKey,
                CK_ULONG_PTR pulWrappedKeyLen)
{
    struct p11_call c;
    const struct mech_desc *d = NULL;
    struct key *wk = NULL;
    struct mech_op *op = NULL;
    unsigned char *bytes = NULL;
    size_t len = 0;
    CK_RV rv = p11_call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    if (pMechanism == NULL || pulWrappedKeyLen == NULL)
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK)
        rv = mech_lookup(&c.h->cfg, pMechanism, CKF_WRAP, &d);
    if (rv == CKR_OK)
        rv = wrapping_code(objects_key(c.objs, hWrappingKey, &c.v, CKA_WRAP, pMechanism->mechanism,
                                       p11_today(), &wk),
                           false);
    if (rv == CKR_OK)
        rv = wrappable_bytes(&c, hKey, &bytes, &len);
    if (rv == CKR_OK) {
        bool trusted, wrap_with_trusted, ignored;
        p11_object_bools(&c, hKey, CKA_WRAP_WITH_TRUSTED, &wrap_with_trusted, CKA_TRUSTED,
                         &ignored);
        p11_object_bools(&c, hWrappingKey, CKA_TRUSTED, &trusted, CKA_TRUSTED, &ignored);
        if (wrap_with_trusted && !trusted)
            rv = CKR_KEY_NOT_WRAPPABLE;
    }
    if (rv == CKR_OK)
        rv = wrapping_code(mech_op_new(d, pMechanism, CKF_WRAP, wk, c.h->crypto, &c.h->cfg, &op),
                           false);
    if (rv == CKR_OK)
        rv = op->ops->oneshot != NULL
                 ? op->ops->oneshot(op, bytes, (CK_ULONG)len, pWrappedKey, pulWrappedKeyLen)
                 : CKR_MECHANISM_INVALID;
    if (rv == CKR_DATA_LEN_RANGE)
        rv = CKR_KEY_SIZE_RANGE; /* the key does not fit the mechanism */
    if (rv != CKR_BUFFER_TOO_SMALL && !(rv == CKR_OK && pWrappedKey == NULL) &&
        audit_wants(c.h->audit, AUDIT_CRYPTO)) {
        char detail[40];
        snprintf(detail, sizeof(detail), "wrapped object %lu", (unsigned long)hKey);
        p11_audit_key(&c, "wrap", pMechanism, hWrappingKey, detail, rv);
    }
    mech_op_free(op);
    crypto_secret_free(bytes, len);
    key_unref(wk);
    p11_call_end(&c);
    return rv;
}

/* Decrypts a wrapped key with op into the secure heap. */
static CK_RV unwrap_bytes(struct mech_op *op, const CK_BYTE *in, CK_ULONG inlen,
                          unsigned char **out, CK_ULONG *len)
{
    *out = NULL;
    *len = 0;
    if (op->ops->oneshot == NULL)
        return CKR_MECHANISM_INVALID;
    CK_ULONG cap = 0;
    CK_RV rv = op->ops->oneshot(op, in, inlen, NULL, &cap);
    if (rv != CKR_OK)
        return rv;
    *out = crypto_secret_alloc(cap > 0 ? cap : 1);
    if (*out == NULL)
        return CKR_HOST_MEMORY;
    *len = cap;
    rv = op->ops->oneshot(op, in, inlen, *out, len);
    if (rv != CKR_OK) {
        crypto_secret_free(*out, cap > 0 ? cap : 1);
        *out = NULL;
        *len = 0;
        return rv;
    }
    /* Keep the allocation size for the free: shrink by copying. */
    unsigned char *exact = crypto_secret_alloc(*len > 0 ? *len : 1);
    if (exact == NULL) {
        crypto_secret_free(*out, cap > 0 ? cap : 1);
        *out = NULL;
        return CKR_HOST_MEMORY;
    }
    memcpy(exact, *out, *len);
    crypto_secret_free(*out, cap > 0 ? cap : 1);
    *out = exact;
    return CKR_OK;
}

static CK_RV unwrapped_code(CK_RV rv)
{
    switch (rv) {
    case CKR_ENCRYPTED_DATA_INVALID:
        return CKR_WRAPPED_KEY_INVALID;
    case CKR_ENCRYPTED_DATA_LEN_RANGE:
    case CKR_DATA_LEN_RANGE:
        return CKR_WRAPPED_KEY_LEN_RANGE;
    default:
        return rv;
    }
}

/* 5.15 */
CK_RV C_UnwrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                  CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey,
                  CK_ULONG ulWrappedKeyLen, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount,
                  CK_OBJECT_HANDLE_PTR phKey)
{
    struct p11_call c;
    struct attrs t = {0};
    const struct mech_desc *d = NULL;
    struct key *uk = NULL;
    struct mech_op *op = NULL;
    unsigned char *bytes = NULL;
    CK_ULONG len = 0, held = 0, cls = 0, kt = 0;
    CK_RV rv = p11_call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    if (pMechanism == NULL || pWrappedKey == NULL || phKey == NULL ||
        (pTemplate == NULL && ulAttributeCount > 0))
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK)
        rv = mech_lookup(&c.h->cfg, pMechanism, CKF_UNWRAP, &d);
    if (rv == CKR_OK)
        rv = wrapping_code(objects_key(c.objs, hUnwrappingKey, &c.v, CKA_UNWRAP,
                                       pMechanism->mechanism, p11_today(), &uk),
                           true);
    if (rv == CKR_OK)
        rv = attrs_from_template(pTemplate, ulAttributeCount, CK_UNAVAILABLE_INFORMATION, &t);
    if (rv == CKR_OK && (attrs_get_ulong(&t, CKA_CLASS, &cls) != CKR_OK ||
                         attrs_get_ulong(&t, CKA_KEY_TYPE, &kt) != CKR_OK))
        rv = CKR_TEMPLATE_INCOMPLETE;
    if (rv == CKR_OK && cls != CKO_SECRET_KEY && cls != CKO_PRIVATE_KEY)
        rv = CKR_TEMPLATE_INCONSISTENT;
    if (rv == CKR_OK) {
        /* Re-read with the class known, so secret values land in the
         * secure heap. */
        attrs_free(&t);
        rv = attrs_from_template(pTemplate, ulAttributeCount, cls, &t);
    }
    if (rv == CKR_OK)
        rv = rules_complete_new(RULES_UNWRAP, &t, CK_UNAVAILABLE_INFORMATION, false, false);
    if (rv == CKR_OK)
        rv = p11_may_hold(&c, &t);
    if (rv == CKR_OK)
        rv = wrapping_code(mech_op_new(d, pMechanism, CKF_UNWRAP, uk, c.h->crypto, &c.h->cfg, &op),
                           true);
    if (rv == CKR_OK)
        rv = unwrapped_code(unwrap_bytes(op, pWrappedKey, ulWrappedKeyLen, &bytes, &len));
    held = len;
    if (rv == CKR_OK && cls == CKO_SECRET_KEY) {
        CK_ULONG want = len;
        if (attrs_find(&t, CKA_VALUE_LEN) != NULL &&
            attrs_get_ulong(&t, CKA_VALUE_LEN, &want) == CKR_OK && want < len)
            len = want; /* unpadded modes: the template says how long the key is */
        rv = attrs_set(&t, CKO_SECRET_KEY, CKA_VALUE, bytes, len);
    } else if (rv == CKR_OK) {
        rv = keyexport_from_pkcs8(c.h->crypto, bytes, len, kt, &t);
    }
    if (rv == CKR_OK) {
        CK_RV r = keyimport_check(c.h->crypto, cls, kt, &t);
        rv = r == CKR_ATTRIBUTE_VALUE_INVALID ? CKR_WRAPPED_KEY_INVALID : r;
    }
    if (rv == CKR_OK)
        rv = objects_add(c.objs, &t, hSession, &c.v, phKey);
    p11_audit_new_key(&c, "unwrap", pMechanism, hUnwrappingKey, phKey, rv);
    crypto_secret_free(bytes, held > 0 ? held : 1);
    mech_op_free(op);
    key_unref(uk);
    attrs_free(&t);
    p11_call_end(&c);
    return rv;
}

P11_UNSUPPORTED(C_WrapKeyAuthenticated, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                                         CK_OBJECT_HANDLE hWrappingKey, CK_OBJECT_HANDLE hKey,
                                         CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen,
                                         CK_BYTE_PTR pWrappedKey, CK_ULONG_PTR pulWrappedKeyLen))
P11_UNSUPPORTED(C_UnwrapKeyAuthenticated,
                (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                 CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey, CK_ULONG ulWrappedKeyLen,
                 CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount, CK_BYTE_PTR pAssociatedData,
                 CK_ULONG ulAssociatedDataLen, CK_OBJECT_HANDLE_PTR phKey))

#define P11_SEED_MAX (64UL * 1024) /* bytes C_SeedRandom takes at once */

/* 5.16: the data is mixed into the DRBG as additional input of a reseed
 * from the entropy source; it never replaces that source, so a constant
 * seed cannot make the output predictable. */
CK_RV C_SeedRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen)
{
    struct hsm *h;
    struct session *s;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    if ((pSeed == NULL && ulSeedLen != 0) || ulSeedLen > P11_SEED_MAX)
        rv = CKR_ARGUMENTS_BAD;
    else if (ulSeedLen > 0)
        rv = crypto_seed(h->crypto, pSeed, ulSeedLen);
    session_put(s);
    return rv;
}

#define P11_RANDOM_MAX (64UL * 1024 * 1024) /* one call's output at most */

/* 5.16: bytes from the module's DRBG. */
CK_RV C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR RandomData, CK_ULONG ulRandomLen)
{
    struct hsm *h;
    struct session *s;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    if (RandomData == NULL && ulRandomLen != 0)
        rv = CKR_ARGUMENTS_BAD;
    else if (ulRandomLen > P11_RANDOM_MAX)
        rv = CKR_DATA_LEN_RANGE;
    else
        rv = crypto_random(h->crypto, RandomData, ulRandomLen, false);
    session_put(s);
    return rv;
}
