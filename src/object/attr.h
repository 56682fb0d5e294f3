/*
 * Attribute lists: the module's own copy of a template or of an object's
 * attributes.  Values of attributes that are secret (CKA_VALUE of secret and
 * private keys, private-key components, seeds) live in the secure heap and
 * are wiped when freed.  Kept sorted by type, one entry per type.
 */
#ifndef CRATON_OBJECT_ATTR_H
#define CRATON_OBJECT_ATTR_H

#include <stdbool.h>
#include <stddef.h>

#include "common/util.h"
#include "pkcs11/pkcs11.h"

#define ATTR_MAX_TEMPLATE 256            /* attributes in one template */
#define ATTR_MAX_VALUE (64UL * 1024)     /* bytes in one attribute value */
#define ATTR_MAX_NESTED 32               /* attributes in a nested *_TEMPLATE */

struct attr {
    CK_ATTRIBUTE_TYPE type;
    CK_ULONG len;
    unsigned char *value; /* len bytes (NULL when len == 0); secure heap if secret */
    bool secret;
};

struct attrs {
    struct attr *v;
    size_t n, cap;
};

/* True for attribute types whose value is key material (stored in the
 * secure heap, encrypted at rest, never logged): CKA_VALUE of private and
 * secret keys, CKA_PRIVATE_EXPONENT, CKA_PRIME_1/2, CKA_EXPONENT_1/2,
 * CKA_COEFFICIENT, CKA_SEED, ... (class decides for CKA_VALUE). */
bool attr_is_secret(CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE type);

/* Copies an application template into out (which must be empty/zeroed).
 * Checks: pTemplate NULL with count > 0 -> CKR_ARGUMENTS_BAD; count >
 * ATTR_MAX_TEMPLATE -> CKR_ARGUMENTS_BAD; a value NULL with length > 0 ->
 * CKR_ATTRIBUTE_VALUE_INVALID; length > ATTR_MAX_VALUE ->
 * CKR_ATTRIBUTE_VALUE_INVALID; the same type twice ->
 * CKR_TEMPLATE_INCONSISTENT.  cls is the class the template creates (for
 * attr_is_secret), or CK_UNAVAILABLE_INFORMATION when not known yet (then
 * CKA_CLASS from the template decides; without it nothing counts as secret
 * except the private-key components).  Returns CKR_OK, CKR_HOST_MEMORY or
 * one of the codes above; out is empty on error. */
CK_RV attrs_from_template(const CK_ATTRIBUTE *tmpl, CK_ULONG count, CK_OBJECT_CLASS cls,
                          struct attrs *out) WARN_UNUSED;

/* Lookup; NULL when absent. */
const struct attr *attrs_find(const struct attrs *a, CK_ATTRIBUTE_TYPE type);

/* Sets (adds or replaces) type to len bytes of value (copied; secret
 * placement as attr_is_secret(cls, type)).  CKR_OK or CKR_HOST_MEMORY. */
CK_RV attrs_set(struct attrs *a, CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE type, const void *value,
                CK_ULONG len) WARN_UNUSED;
CK_RV attrs_set_bool(struct attrs *a, CK_ATTRIBUTE_TYPE type, bool v) WARN_UNUSED;
CK_RV attrs_set_ulong(struct attrs *a, CK_ATTRIBUTE_TYPE type, CK_ULONG v) WARN_UNUSED;

/* Removes type if present. */
void attrs_remove(struct attrs *a, CK_ATTRIBUTE_TYPE type);

/* Typed reads.  attrs_get_bool: CKR_OK and *v when present and exactly one
 * byte (any non-zero = true), CKR_ATTRIBUTE_VALUE_INVALID when present with
 * another length, CKR_TEMPLATE_INCOMPLETE when absent.  attrs_get_ulong: the
 * same with sizeof(CK_ULONG). */
CK_RV attrs_get_bool(const struct attrs *a, CK_ATTRIBUTE_TYPE type, bool *v);
CK_RV attrs_get_ulong(const struct attrs *a, CK_ATTRIBUTE_TYPE type, CK_ULONG *v);

/* Convenience: the boolean value of type, or dflt when absent or malformed. */
bool attrs_bool(const struct attrs *a, CK_ATTRIBUTE_TYPE type, bool dflt);

/* Deep copy (secret values stay in the secure heap). */
CK_RV attrs_copy(const struct attrs *src, struct attrs *dst) WARN_UNUSED;

/* Frees everything, wiping secret values; a is left empty.  NULL-safe. */
void attrs_free(struct attrs *a);

/* True for the attribute-array types (CKA_WRAP_TEMPLATE, ...). */
bool attr_is_array(CK_ATTRIBUTE_TYPE type);

/* C_GetAttributeValue of an attribute-array value a (spec 5.7): with
 * out->pValue NULL sets out->ulValueLen to the array's size in bytes;
 * otherwise out->pValue is the application's CK_ATTRIBUTE array of
 * out->ulValueLen bytes, whose entries get the types and, entry by entry, the
 * same treatment as top-level attributes (length query when pValue is NULL,
 * CKR_BUFFER_TOO_SMALL with CK_UNAVAILABLE_INFORMATION when short).  Returns
 * CKR_OK, CKR_BUFFER_TOO_SMALL (out->ulValueLen = CK_UNAVAILABLE_INFORMATION
 * when the array itself is too small) or CKR_DEVICE_ERROR (malformed). */
CK_RV attr_array_get(const struct attr *a, CK_ATTRIBUTE *out);

/* Does object attribute list obj match every entry of the search template
 * tmpl (same type, same length, same bytes)?  Absent type -> no match. */
bool attrs_match(const struct attrs *obj, const struct attrs *tmpl);

#endif
