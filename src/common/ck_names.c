#include "common/ck_names.h"

#include <stdio.h>

const char *ck_name(const char *kind, CK_ULONG value)
{
    const struct ck_name_table *t = ck_name_table_for(kind);
    if (t == NULL)
        return NULL;
    size_t lo = 0, hi = t->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->entries[mid].value == value)
            return t->entries[mid].name;
        if (t->entries[mid].value < value)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const char *name_or_hex(const char *kind, CK_ULONG value)
{
    static _Thread_local char buf[32];
    const char *n = ck_name(kind, value);
    if (n != NULL)
        return n;
    snprintf(buf, sizeof(buf), "%s_0x%08lX", kind, value);
    return buf;
}

const char *ck_rv_name(CK_RV rv)
{
    return name_or_hex("CKR", rv);
}

const char *ck_mechanism_name(CK_MECHANISM_TYPE mech)
{
    return name_or_hex("CKM", mech);
}

const char *ck_attribute_name(CK_ATTRIBUTE_TYPE type)
{
    return name_or_hex("CKA", type);
}
