/* Key encapsulation (PKCS#11 3.2 section 5.18): the shared secret becomes a
 * new secret-key object made from the application's template, by the same
 * path as C_DeriveKey's keys. */
#include <string.h>

#include "object/rules.h"
#include "p11/p11.h"

/* The shared secret's object: template checked and completed before any
 * cryptography runs (a bad template costs no encapsulation). */
static CK_RV secret_template(struct p11_call *c, CK_MECHANISM_TYPE mech, CK_ATTRIBUTE_PTR tmpl,
                             CK_ULONG count, struct attrs *t, size_t *len)
{
    CK_RV rv = attrs_from_template(tmpl, count, CKO_SECRET_KEY, t);
    CK_KEY_TYPE kt = p11_secret_type(NULL, t);
    if (rv == CKR_OK)
        rv = p11_impose(t, CKO_SECRET_KEY, kt);
    if (rv == CKR_OK)
        rv = p11_derived_len(t, kt, len);
    if (rv == CKR_OK)
        rv = rules_complete_new(RULES_DERIVE, t, mech, false, false);
    if (rv == CKR_OK)
        rv = p11_may_hold(c, t);
    return rv;
}

/* Stores the first len bytes (0: all) of the shared secret ss as the new
 * key's value. */
static CK_RV make_key(struct p11_call *c, CK_SESSION_HANDLE hSession, struct attrs *t, size_t len,
                      const unsigned char *ss, size_t sslen, CK_OBJECT_HANDLE_PTR phKey)
{
    if (len == 0)
        len = sslen;
    if (len > sslen)
        return CKR_TEMPLATE_INCONSISTENT; /* more than the KEM's secret */
    CK_RV rv = attrs_set(t, CKO_SECRET_KEY, CKA_VALUE, ss, (CK_ULONG)len);
    if (rv == CKR_OK)
        rv = p11_add_key(c, t, hSession, false, phKey);
    return rv;
}

/* The key of an encapsulation (fn CKF_ENCAPSULATE, usage CKA_ENCAPSULATE)
 * or decapsulation, with the hybrid's second key resolved. */
static CK_RV kem_key(struct p11_call *c, CK_MECHANISM_PTR m, mech_fn fn, CK_OBJECT_HANDLE h,
                     const struct mech_desc **d, struct key **k, struct mech_two_keys *tk,
                     CK_MECHANISM *inner, struct key **classic)
{
    bool enc = fn == CKF_ENCAPSULATE;
    CK_RV rv = mech_lookup(&c->h->cfg, m, fn, d);
    if (rv == CKR_OK &&
        (enc ? (*d)->family->encapsulate == NULL : (*d)->family->decapsulate == NULL))
        rv = CKR_MECHANISM_INVALID;
    if (rv == CKR_OK)
        rv = objects_key(c->objs, h, &c->v, enc ? CKA_ENCAPSULATE : CKA_DECAPSULATE, m->mechanism,
                         p11_today(), k);
    if (rv == CKR_OK)
        rv = mech_check_key(*d, fn, *k, &c->h->cfg);
    if (rv == CKR_OK) /* the classical half of a hybrid: its public key needs no usage flag */
        rv = p11_two_keys(c, *d, m, enc ? 0 : CKA_DERIVE, tk, inner, classic);
    return rv;
}

/* 5.18 */
CK_RV C_EncapsulateKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                       CK_OBJECT_HANDLE hPublicKey, CK_ATTRIBUTE_PTR pTemplate,
                       CK_ULONG ulAttributeCount, CK_BYTE_PTR pCiphertext,
                       CK_ULONG_PTR pulCiphertextLen, CK_OBJECT_HANDLE_PTR phKey)
{
    struct p11_call c;
    struct attrs t = {0};
    const struct mech_desc *d = NULL;
    struct key *k = NULL, *classic = NULL;
    struct mech_two_keys tk;
    CK_MECHANISM inner;
    unsigned char *ss = NULL;
    size_t len = 0, sslen = 0;
    CK_RV rv = p11_call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    if (pMechanism == NULL || pulCiphertextLen == NULL || (pCiphertext != NULL && phKey == NULL) ||
        (pTemplate == NULL && ulAttributeCount > 0))
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK)
        rv = kem_key(&c, pMechanism, CKF_ENCAPSULATE, hPublicKey, &d, &k, &tk, &inner, &classic);
    if (rv == CKR_OK && pCiphertext == NULL) { /* size query: no key is made */
        rv = d->family->encapsulate(d, &inner, k, c.h->crypto, &c.h->cfg, NULL, pulCiphertextLen,
                                    NULL, NULL);
        goto out;
    }
    if (rv == CKR_OK)
        rv = secret_template(&c, pMechanism->mechanism, pTemplate, ulAttributeCount, &t, &len);
    if (rv == CKR_OK)
        rv = d->family->encapsulate(d, &inner, k, c.h->crypto, &c.h->cfg, pCiphertext,
                                    pulCiphertextLen, &ss, &sslen);
    if (rv == CKR_OK)
        rv = make_key(&c, hSession, &t, len, ss, sslen, phKey);
    p11_audit_new_key(&c, "encapsulate", pMechanism, hPublicKey, phKey, rv);
out:
    crypto_secret_free(ss, sslen);
    key_unref(classic);
    key_unref(k);
    attrs_free(&t);
    p11_call_end(&c);
    return rv;
}

/* 5.18 */
CK_RV C_DecapsulateKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                       CK_OBJECT_HANDLE hPrivateKey, CK_ATTRIBUTE_PTR pTemplate,
                       CK_ULONG ulAttributeCount, CK_BYTE_PTR pCiphertext, CK_ULONG ulCiphertextLen,
                       CK_OBJECT_HANDLE_PTR phKey)
{
    struct p11_call c;
    struct attrs t = {0};
    const struct mech_desc *d = NULL;
    struct key *k = NULL, *classic = NULL;
    struct mech_two_keys tk;
    CK_MECHANISM inner;
    unsigned char *ss = NULL;
    size_t len = 0, sslen = 0;
    CK_RV rv = p11_call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    if (pMechanism == NULL || pCiphertext == NULL || phKey == NULL ||
        (pTemplate == NULL && ulAttributeCount > 0))
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK)
        rv = kem_key(&c, pMechanism, CKF_DECAPSULATE, hPrivateKey, &d, &k, &tk, &inner, &classic);
    if (rv == CKR_OK)
        rv = secret_template(&c, pMechanism->mechanism, pTemplate, ulAttributeCount, &t, &len);
    if (rv == CKR_OK)
        rv = d->family->decapsulate(d, &inner, k, c.h->crypto, &c.h->cfg, pCiphertext,
                                    ulCiphertextLen, &ss, &sslen);
    if (rv == CKR_OK)
        rv = make_key(&c, hSession, &t, len, ss, sslen, phKey);
    p11_audit_new_key(&c, "decapsulate", pMechanism, hPrivateKey, phKey, rv);
    crypto_secret_free(ss, sslen);
    key_unref(classic);
    key_unref(k);
    attrs_free(&t);
    p11_call_end(&c);
    return rv;
}
