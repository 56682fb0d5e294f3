/* Value -> name tables for PKCS#11 constants (generated, see ck_names_gen.c). */
#ifndef CRATON_COMMON_CK_NAMES_H
#define CRATON_COMMON_CK_NAMES_H

#include <stddef.h>

#include "pkcs11/pkcs11.h"

struct ck_name {
    CK_ULONG value;
    const char *name;
};

struct ck_name_table {
    const char *kind;              /* "CKR", "CKM", "CKA", ... */
    const struct ck_name *entries; /* sorted by value, no duplicates */
    size_t count;
};

/* Returns the table of one prefix, or NULL.  Static data, never freed. */
const struct ck_name_table *ck_name_table_for(const char *kind);

/* Returns the spec name of value in the table of kind ("CKR", "CKM", ...),
 * or NULL when the value is not a known constant of that kind. */
const char *ck_name(const char *kind, CK_ULONG value);

/* Shorthands; they never return NULL ("CKR_0x...": formatted into a static
 * per-thread buffer). */
const char *ck_rv_name(CK_RV rv);
const char *ck_mechanism_name(CK_MECHANISM_TYPE mech);
const char *ck_attribute_name(CK_ATTRIBUTE_TYPE type);

#endif
