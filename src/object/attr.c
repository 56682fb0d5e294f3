#include "object/attr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "craton/pkcs11_craton.h"
#include "crypto/crypto.h"

/*
 * Attribute-array values (CKA_WRAP_TEMPLATE, CKA_UNWRAP_TEMPLATE,
 * CKA_DERIVE_TEMPLATE, CKA_ENCAPSULATE_TEMPLATE, CKA_DECAPSULATE_TEMPLATE)
 * arrive as an application's CK_ATTRIBUTE array, i.e. pointers into its
 * memory.  attrs_from_template deep-copies them into a flat, self-contained
 * form without pointers.  That form is what struct attr holds, what the
 * record codec stores and what attrs_match compares:
 *
 *   nested = count (u32 BE) | entry*count
 *   entry  = type (u64 BE) | len (u32 BE) | value (len bytes)
 *
 * Entries sorted by type, no duplicates (the same conventions as the record
 * codec), count <= ATTR_MAX_NESTED, each len <= ATTR_MAX_VALUE, the whole
 * form <= ATTR_MAX_VALUE (so it is an ordinary attribute value for the
 * codec), and an entry is never itself an attribute array (one level only).
 * An empty array (NULL, 0) is the 4-byte form with count 0.
 * rules.c validates this form when it checks an attribute-array value.
 */
#define NESTED_HDR   4       /* count */
#define NESTED_ENTRY (8 + 4) /* type + len */

bool attr_is_array(CK_ATTRIBUTE_TYPE type)
{
    switch (type) {
    case CKA_WRAP_TEMPLATE:
    case CKA_UNWRAP_TEMPLATE:
    case CKA_DERIVE_TEMPLATE:
    case CKA_ENCAPSULATE_TEMPLATE:
    case CKA_DECAPSULATE_TEMPLATE:
        return true;
    default:
        return false;
    }
}

bool attr_is_secret(CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE type)
{
    switch (type) {
    case CKA_VALUE:
        return cls == CKO_PRIVATE_KEY || cls == CKO_SECRET_KEY;
    case CKA_PRIVATE_EXPONENT:
    case CKA_PRIME_1:
    case CKA_PRIME_2:
    case CKA_EXPONENT_1:
    case CKA_EXPONENT_2:
    case CKA_COEFFICIENT:
    case CKA_SEED: /* only private keys have one */
        return true;
    default:
        return false;
    }
}

/* ---- values ------------------------------------------------------------- */

static void value_free(unsigned char *v, CK_ULONG len, bool secret)
{
    if (v == NULL)
        return;
    if (secret) {
        crypto_secret_free(v, len);
    } else {
        free(v);
    }
}

/* A copy of len bytes at src (NULL when len == 0) in *out. */
static CK_RV value_dup(const void *src, CK_ULONG len, bool secret, unsigned char **out)
{
    *out = NULL;
    if (len == 0)
        return CKR_OK;
    unsigned char *v = secret ? crypto_secret_alloc(len) : malloc(len);
    if (v == NULL)
        return CKR_HOST_MEMORY;
    memcpy(v, src, len);
    *out = v;
    return CKR_OK;
}

/* ---- the sorted list ---------------------------------------------------- */

/* Index of type, or of the place it would be inserted; *found says which. */
static size_t attrs_index(const struct attrs *a, CK_ATTRIBUTE_TYPE type, bool *found)
{
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->v[mid].type < type) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *found = lo < a->n && a->v[lo].type == type;
    return lo;
}

static CK_RV attrs_reserve(struct attrs *a, size_t n)
{
    if (n <= a->cap)
        return CKR_OK;
    size_t cap = a->cap ? a->cap : 8;
    while (cap < n)
        cap *= 2;
    struct attr *v = realloc(a->v, cap * sizeof(*v));
    if (v == NULL)
        return CKR_HOST_MEMORY;
    a->v = v;
    a->cap = cap;
    return CKR_OK;
}

/* Puts the prepared entry e at index i (taking ownership of its value on
 * success), replacing an entry of the same type when replace. */
static CK_RV attrs_put(struct attrs *a, size_t i, bool replace, const struct attr *e)
{
    if (replace) {
        value_free(a->v[i].value, a->v[i].len, a->v[i].secret);
        a->v[i] = *e;
        return CKR_OK;
    }
    CK_RV rv = attrs_reserve(a, a->n + 1);
    if (rv != CKR_OK)
        return rv;
    memmove(&a->v[i + 1], &a->v[i], (a->n - i) * sizeof(a->v[0]));
    a->v[i] = *e;
    a->n++;
    return CKR_OK;
}

const struct attr *attrs_find(const struct attrs *a, CK_ATTRIBUTE_TYPE type)
{
    bool found;
    if (a == NULL || a->n == 0)
        return NULL;
    size_t i = attrs_index(a, type, &found);
    return found ? &a->v[i] : NULL;
}

static CK_RV attrs_set_secret(struct attrs *a, CK_ATTRIBUTE_TYPE type, const void *value,
                              CK_ULONG len, bool secret)
{
    struct attr e = {.type = type, .len = len, .secret = secret};
    bool found;

    if (len > 0 && value == NULL)
        return CKR_ARGUMENTS_BAD; /* a caller bug: no bytes to copy */
    /* Copy first: value may point into the entry being replaced. */
    CK_RV rv = value_dup(value, len, secret, &e.value);
    if (rv != CKR_OK)
        return rv;
    size_t i = attrs_index(a, type, &found);
    rv = attrs_put(a, i, found, &e);
    if (rv != CKR_OK)
        value_free(e.value, len, secret);
    return rv;
}

CK_RV attrs_set(struct attrs *a, CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE type, const void *value,
                CK_ULONG len)
{
    return attrs_set_secret(a, type, value, len, attr_is_secret(cls, type));
}

CK_RV attrs_set_bool(struct attrs *a, CK_ATTRIBUTE_TYPE type, bool v)
{
    CK_BBOOL b = v ? CK_TRUE : CK_FALSE;
    return attrs_set_secret(a, type, &b, sizeof(b), false);
}

CK_RV attrs_set_ulong(struct attrs *a, CK_ATTRIBUTE_TYPE type, CK_ULONG v)
{
    return attrs_set_secret(a, type, &v, sizeof(v), false);
}

void attrs_remove(struct attrs *a, CK_ATTRIBUTE_TYPE type)
{
    bool found;
    if (a == NULL || a->n == 0)
        return;
    size_t i = attrs_index(a, type, &found);
    if (!found)
        return;
    value_free(a->v[i].value, a->v[i].len, a->v[i].secret);
    memmove(&a->v[i], &a->v[i + 1], (a->n - i - 1) * sizeof(a->v[0]));
    a->n--;
}

CK_RV attrs_get_bool(const struct attrs *a, CK_ATTRIBUTE_TYPE type, bool *v)
{
    const struct attr *e = attrs_find(a, type);
    if (e == NULL)
        return CKR_TEMPLATE_INCOMPLETE;
    if (e->len != sizeof(CK_BBOOL))
        return CKR_ATTRIBUTE_VALUE_INVALID;
    *v = e->value[0] != 0;
    return CKR_OK;
}

CK_RV attrs_get_ulong(const struct attrs *a, CK_ATTRIBUTE_TYPE type, CK_ULONG *v)
{
    const struct attr *e = attrs_find(a, type);
    if (e == NULL)
        return CKR_TEMPLATE_INCOMPLETE;
    if (e->len != sizeof(CK_ULONG))
        return CKR_ATTRIBUTE_VALUE_INVALID;
    memcpy(v, e->value, sizeof(*v));
    return CKR_OK;
}

bool attrs_bool(const struct attrs *a, CK_ATTRIBUTE_TYPE type, bool dflt)
{
    bool v;
    return attrs_get_bool(a, type, &v) == CKR_OK ? v : dflt;
}

CK_RV attrs_copy(const struct attrs *src, struct attrs *dst)
{
    CK_RV rv = attrs_reserve(dst, src->n);
    if (rv != CKR_OK)
        return rv;
    for (size_t i = 0; i < src->n; i++) {
        const struct attr *s = &src->v[i];
        struct attr *d = &dst->v[i];
        *d = *s;
        rv = value_dup(s->value, s->len, s->secret, &d->value);
        if (rv != CKR_OK) {
            attrs_free(dst);
            return rv;
        }
        dst->n = i + 1;
    }
    return CKR_OK;
}

void attrs_free(struct attrs *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->n; i++)
        value_free(a->v[i].value, a->v[i].len, a->v[i].secret);
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

bool attrs_match(const struct attrs *obj, const struct attrs *tmpl)
{
    for (size_t i = 0; i < tmpl->n; i++) {
        const struct attr *t = &tmpl->v[i];
        const struct attr *o = attrs_find(obj, t->type);
        if (o == NULL || o->len != t->len)
            return false;
        if (t->len == 0)
            continue;
        /* Key material is compared in constant time. */
        if (o->secret || t->secret) {
            if (!crypto_equal(o->value, t->value, t->len))
                return false;
        } else if (memcmp(o->value, t->value, t->len) != 0) {
            return false;
        }
    }
    return true;
}

/* ---- templates ---------------------------------------------------------- */

static void put_be(unsigned char *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
}

/* The reference implementation's key-type numbers read as the standard
 * ones (include/craton/pkcs11_craton.h): objects only ever hold and report
 * CKK_ML_KEM / CKK_ML_DSA / CKK_SLH_DSA.  v is the CKA_KEY_TYPE value. */
static CK_KEY_TYPE key_type_alias(CK_KEY_TYPE v)
{
    switch (v) {
    case CKK_CRATON_ML_KEM:
        return CKK_ML_KEM;
    case CKK_CRATON_ML_DSA:
        return CKK_ML_DSA;
    case CKK_CRATON_SLH_DSA:
        return CKK_SLH_DSA;
    default:
        return v;
    }
}

/* A copy of template entry e's value (as value_dup) with a CK_ULONG-sized
 * CKA_KEY_TYPE translated by key_type_alias; other values are copied as
 * given. */
static CK_RV entry_value_dup(const CK_ATTRIBUTE *e, bool secret, unsigned char **out)
{
    if (e->type == CKA_KEY_TYPE && e->pValue != NULL && e->ulValueLen == sizeof(CK_KEY_TYPE)) {
        CK_KEY_TYPE kt;
        memcpy(&kt, e->pValue, sizeof(kt)); /* the application's memory may be unaligned */
        kt = key_type_alias(kt);
        return value_dup(&kt, sizeof(kt), secret, out);
    }
    return value_dup(e->pValue, e->ulValueLen, secret, out);
}

/* The common checks of one template entry (outer or nested). */
static CK_RV entry_check(const CK_ATTRIBUTE *e)
{
    if (e->pValue == NULL && e->ulValueLen > 0)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    if (e->ulValueLen > ATTR_MAX_VALUE)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    return CKR_OK;
}

/* Deep-copies the CK_ATTRIBUTE array of attribute-array attribute e into
 * the flat form described at the top of this file (*out, *outlen). */
static CK_RV nested_from_template(const CK_ATTRIBUTE *e, unsigned char **out, CK_ULONG *outlen)
{
    CK_ATTRIBUTE sub[ATTR_MAX_NESTED];
    size_t n, total = NESTED_HDR;

    if (e->ulValueLen % sizeof(CK_ATTRIBUTE) != 0)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    n = e->ulValueLen / sizeof(CK_ATTRIBUTE);
    if (n > ATTR_MAX_NESTED)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    /* Insertion sort by type (n is small); the application's array may be
     * unaligned, so entries are copied out with memcpy. */
    for (size_t i = 0; i < n; i++) {
        CK_ATTRIBUTE cur;
        memcpy(&cur, (const unsigned char *)e->pValue + i * sizeof(CK_ATTRIBUTE), sizeof(cur));
        CK_RV rv = entry_check(&cur);
        if (rv != CKR_OK)
            return rv;
        if (attr_is_array(cur.type))
            return CKR_ATTRIBUTE_VALUE_INVALID; /* one level only */
        size_t j = i;
        while (j > 0 && sub[j - 1].type > cur.type) {
            sub[j] = sub[j - 1];
            j--;
        }
        if (j > 0 && sub[j - 1].type == cur.type)
            return CKR_TEMPLATE_INCONSISTENT;
        sub[j] = cur;
        total += NESTED_ENTRY + cur.ulValueLen;
        if (total > ATTR_MAX_VALUE)
            return CKR_ATTRIBUTE_VALUE_INVALID;
    }
    unsigned char *buf = malloc(total);
    if (buf == NULL)
        return CKR_HOST_MEMORY;
    unsigned char *p = buf;
    put_be(p, n, 4);
    p += NESTED_HDR;
    for (size_t i = 0; i < n; i++) {
        put_be(p, sub[i].type, 8);
        put_be(p + 8, sub[i].ulValueLen, 4);
        p += NESTED_ENTRY;
        if (sub[i].type == CKA_KEY_TYPE && sub[i].ulValueLen == sizeof(CK_KEY_TYPE)) {
            CK_KEY_TYPE kt;
            memcpy(&kt, sub[i].pValue, sizeof(kt));
            kt = key_type_alias(kt);
            memcpy(p, &kt, sizeof(kt));
        } else if (sub[i].ulValueLen > 0) {
            memcpy(p, sub[i].pValue, sub[i].ulValueLen);
        }
        p += sub[i].ulValueLen;
    }
    *out = buf;
    *outlen = (CK_ULONG)total;
    return CKR_OK;
}

/* The class a template creates, when it says so itself. */
static CK_OBJECT_CLASS template_class(const CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
    for (CK_ULONG i = 0; i < count; i++) {
        if (tmpl[i].type == CKA_CLASS && tmpl[i].pValue != NULL &&
            tmpl[i].ulValueLen == sizeof(CK_OBJECT_CLASS)) {
            CK_OBJECT_CLASS cls;
            memcpy(&cls, tmpl[i].pValue, sizeof(cls));
            return cls;
        }
    }
    return CK_UNAVAILABLE_INFORMATION;
}

/* Besides attr.h's contract: a CKA_KEY_TYPE holding one of the reference's
 * CKK_CRATON_* numbers is stored as the standard number, at the top level
 * and inside attribute arrays alike, so every template path (create,
 * generate, unwrap, find, copy) sees one key type. */
CK_RV attrs_from_template(const CK_ATTRIBUTE *tmpl, CK_ULONG count, CK_OBJECT_CLASS cls,
                          struct attrs *out)
{
    CK_RV rv = CKR_ARGUMENTS_BAD;

    if ((tmpl == NULL && count > 0) || count > ATTR_MAX_TEMPLATE)
        return CKR_ARGUMENTS_BAD;
    if (cls == CK_UNAVAILABLE_INFORMATION)
        cls = template_class(tmpl, count);
    rv = attrs_reserve(out, count);
    if (rv != CKR_OK)
        goto out;
    /* Errors are reported for the first offending entry in template order. */
    for (CK_ULONG i = 0; i < count; i++) {
        const CK_ATTRIBUTE *t = &tmpl[i];
        struct attr e = {.type = t->type, .secret = attr_is_secret(cls, t->type)};
        bool found;

        rv = entry_check(t);
        if (rv != CKR_OK)
            goto out;
        size_t at = attrs_index(out, t->type, &found);
        if (found) {
            rv = CKR_TEMPLATE_INCONSISTENT;
            goto out;
        }
        if (attr_is_array(t->type)) {
            e.secret = false;
            rv = nested_from_template(t, &e.value, &e.len);
        } else {
            e.len = t->ulValueLen;
            rv = entry_value_dup(t, e.secret, &e.value);
        }
        if (rv != CKR_OK)
            goto out;
        rv = attrs_put(out, at, false, &e); /* cannot fail: reserved */
        if (rv != CKR_OK) {
            value_free(e.value, e.len, e.secret);
            goto out;
        }
    }
    rv = CKR_OK;
out:
    if (rv != CKR_OK)
        attrs_free(out);
    return rv;
}

static uint64_t be_get(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

CK_RV attr_array_get(const struct attr *a, CK_ATTRIBUTE *out)
{
    if (a->len < NESTED_HDR)
        return CKR_DEVICE_ERROR;
    size_t count = (size_t)be_get(a->value, NESTED_HDR);
    if (count > ATTR_MAX_NESTED)
        return CKR_DEVICE_ERROR;
    if (out->pValue == NULL) {
        out->ulValueLen = count * sizeof(CK_ATTRIBUTE);
        return CKR_OK;
    }
    if (out->ulValueLen < count * sizeof(CK_ATTRIBUTE)) {
        out->ulValueLen = CK_UNAVAILABLE_INFORMATION;
        return CKR_BUFFER_TOO_SMALL;
    }
    CK_ATTRIBUTE *dst = out->pValue;
    CK_RV rv = CKR_OK;
    size_t off = NESTED_HDR;
    for (size_t i = 0; i < count; i++) {
        if (a->len - off < NESTED_ENTRY)
            return CKR_DEVICE_ERROR;
        CK_ATTRIBUTE_TYPE type = (CK_ATTRIBUTE_TYPE)be_get(a->value + off, 8);
        size_t len = (size_t)be_get(a->value + off + 8, 4);
        off += NESTED_ENTRY;
        if (a->len - off < len)
            return CKR_DEVICE_ERROR;
        dst[i].type = type;
        if (dst[i].pValue == NULL) {
            dst[i].ulValueLen = len;
        } else if (dst[i].ulValueLen < len) {
            dst[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
            rv = CKR_BUFFER_TOO_SMALL;
        } else {
            if (len > 0)
                memcpy(dst[i].pValue, a->value + off, len);
            dst[i].ulValueLen = len;
        }
        off += len;
    }
    out->ulValueLen = count * sizeof(CK_ATTRIBUTE);
    return rv;
}
