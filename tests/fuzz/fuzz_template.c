/*
 * libFuzzer target for attribute templates: attrs_from_template, the rules
 * (create / generate / unwrap / derive, set, copy, readable) and the record
 * codec on whatever they accept.
 *
 * Input: op (1 byte) | n1 (1 byte) | entry* -- the first n1 entries are the
 * template of a new object, the rest a template of changes for
 * C_SetAttributeValue / C_CopyObject.  An entry is
 *   sel (1 byte): 0x00..0xDF  a type from TYPES (sel % count)
 *                 0xE0..0xEF  CKA_CLASS with the value sel & 0x0F
 *                 0xF0..0xFE  CKA_KEY_TYPE with the value of the next byte
 *                 0xFF        a raw type: the next 8 bytes, big-endian
 *   len (1 byte): 0xFE = NULL value of length 0, 0xFF = NULL value of
 *                 length 5, else that many bytes of value (cut at the end)
 * A value of an attribute-array type is itself parsed as entries (n = all),
 * one level deep, into a real CK_ATTRIBUTE array.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude -Isrc \
 *       tests/fuzz/fuzz_template.c src/object/attr.c src/object/codec.c src/object/rules.c \
 *       -o fuzz_template
 *   ./fuzz_template CORPUS_COPY/
 *
 * The crypto_* memory functions are stubbed below with the plain heap.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "object/attr.h"
#include "object/codec.h"
#include "object/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The src/crypto functions come from tests/fuzz/crypto_stubs.c. */

/* ---- input -------------------------------------------------------------- */

static const CK_ATTRIBUTE_TYPE TYPES[] = {
    CKA_CLASS,
    CKA_TOKEN,
    CKA_PRIVATE,
    CKA_LABEL,
    CKA_UNIQUE_ID,
    CKA_APPLICATION,
    CKA_VALUE,
    CKA_OBJECT_ID,
    CKA_CERTIFICATE_TYPE,
    CKA_ISSUER,
    CKA_SERIAL_NUMBER,
    CKA_TRUSTED,
    CKA_CERTIFICATE_CATEGORY,
    CKA_JAVA_MIDP_SECURITY_DOMAIN,
    CKA_URL,
    CKA_HASH_OF_SUBJECT_PUBLIC_KEY,
    CKA_HASH_OF_ISSUER_PUBLIC_KEY,
    CKA_NAME_HASH_ALGORITHM,
    CKA_CHECK_VALUE,
    CKA_KEY_TYPE,
    CKA_SUBJECT,
    CKA_ID,
    CKA_SENSITIVE,
    CKA_ENCRYPT,
    CKA_DECRYPT,
    CKA_WRAP,
    CKA_UNWRAP,
    CKA_SIGN,
    CKA_SIGN_RECOVER,
    CKA_VERIFY,
    CKA_VERIFY_RECOVER,
    CKA_DERIVE,
    CKA_START_DATE,
    CKA_END_DATE,
    CKA_MODULUS,
    CKA_MODULUS_BITS,
    CKA_PUBLIC_EXPONENT,
    CKA_PRIVATE_EXPONENT,
    CKA_PRIME_1,
    CKA_PRIME_2,
    CKA_EXPONENT_1,
    CKA_EXPONENT_2,
    CKA_COEFFICIENT,
    CKA_PUBLIC_KEY_INFO,
    CKA_VALUE_LEN,
    CKA_EXTRACTABLE,
    CKA_LOCAL,
    CKA_NEVER_EXTRACTABLE,
    CKA_ALWAYS_SENSITIVE,
    CKA_KEY_GEN_MECHANISM,
    CKA_MODIFIABLE,
    CKA_COPYABLE,
    CKA_DESTROYABLE,
    CKA_EC_PARAMS,
    CKA_EC_POINT,
    CKA_ALWAYS_AUTHENTICATE,
    CKA_WRAP_WITH_TRUSTED,
    CKA_WRAP_TEMPLATE,
    CKA_UNWRAP_TEMPLATE,
    CKA_DERIVE_TEMPLATE,
    CKA_ALLOWED_MECHANISMS,
    CKA_PROFILE_ID,
    CKA_PARAMETER_SET,
    CKA_ENCAPSULATE_TEMPLATE,
    CKA_DECAPSULATE_TEMPLATE,
    CKA_ENCAPSULATE,
    CKA_DECAPSULATE,
    CKA_SEED,
};

#define MAX_ENTRIES 512 /* per template, nested ones included */
#define MAX_TOTAL   (4 * MAX_ENTRIES)

struct input {
    const uint8_t *p;
    size_t left;
    /* Storage the templates point into; lives for one run. */
    CK_ATTRIBUTE pool[MAX_TOTAL];
    size_t pool_used;
    CK_ULONG ulongs[MAX_TOTAL];
    size_t ul_used;
};

static bool take(struct input *in, size_t n, const uint8_t **out)
{
    if (in->left < n)
        return false;
    *out = in->p;
    in->p += n;
    in->left -= n;
    return true;
}

static bool is_array(CK_ATTRIBUTE_TYPE t)
{
    return t == CKA_WRAP_TEMPLATE || t == CKA_UNWRAP_TEMPLATE || t == CKA_DERIVE_TEMPLATE ||
           t == CKA_ENCAPSULATE_TEMPLATE || t == CKA_DECAPSULATE_TEMPLATE;
}

static CK_ULONG parse(struct input *in, size_t max, int depth, CK_ATTRIBUTE **out);

/* A CK_ULONG attribute with value v, stored in the input's pool. */
static bool ulong_entry(struct input *in, CK_ATTRIBUTE_TYPE type, CK_ULONG v, CK_ATTRIBUTE *e)
{
    if (in->ul_used >= MAX_TOTAL)
        return false;
    CK_ULONG *ul = &in->ulongs[in->ul_used++];
    *ul = v;
    *e = (CK_ATTRIBUTE){type, ul, sizeof(*ul)};
    return true;
}

/* One entry into *e; false at the end of the input. */
static bool parse_entry(struct input *in, int depth, CK_ATTRIBUTE *e)
{
    const uint8_t *b;
    if (!take(in, 1, &b))
        return false;
    uint8_t sel = b[0];
    if (sel >= 0xE0 && sel <= 0xEF)
        return ulong_entry(in, CKA_CLASS, sel & 0x0F, e);
    if (sel >= 0xF0 && sel <= 0xFE)
        return take(in, 1, &b) && ulong_entry(in, CKA_KEY_TYPE, b[0], e);
    CK_ATTRIBUTE_TYPE type = TYPES[sel % (sizeof(TYPES) / sizeof(TYPES[0]))];
    if (sel == 0xFF) {
        if (!take(in, 8, &b))
            return false;
        type = 0;
        for (int i = 0; i < 8; i++)
            type = (type << 8) | b[i];
    }
    if (!take(in, 1, &b))
        return false;
    size_t len = b[0];
    if (len >= 0xFE) {
        *e = (CK_ATTRIBUTE){type, NULL, len == 0xFE ? 0 : 5};
        return true;
    }
    if (len > in->left)
        len = in->left;
    if (!take(in, len, &b))
        return false;
    *e = (CK_ATTRIBUTE){type, (void *)b, len};
    if (!is_array(type))
        return true;
    if (depth >= 2) {
        /* never hand out value bytes as pointers */
        *e = (CK_ATTRIBUTE){type, NULL, 0};
        return true;
    }
    /* The value bytes describe the nested template. */
    const uint8_t *saved = in->p;
    size_t saved_left = in->left;
    CK_ATTRIBUTE *arr;
    in->p = b;
    in->left = len;
    CK_ULONG n = parse(in, MAX_ENTRIES, depth + 1, &arr);
    in->p = saved;
    in->left = saved_left;
    *e = (CK_ATTRIBUTE){type, arr, n * sizeof(CK_ATTRIBUTE)};
    return true;
}

/* Up to max entries into a fresh block of the pool (*out). */
static CK_ULONG parse(struct input *in, size_t max, int depth, CK_ATTRIBUTE **out)
{
    CK_ATTRIBUTE tmp[MAX_ENTRIES];
    CK_ULONG n = 0;
    while (n < max && n < MAX_ENTRIES && parse_entry(in, depth, &tmp[n]))
        n++;
    if (n > MAX_TOTAL - in->pool_used)
        n = MAX_TOTAL - in->pool_used;
    *out = &in->pool[in->pool_used];
    memcpy(*out, tmp, n * sizeof(CK_ATTRIBUTE));
    in->pool_used += n;
    return n;
}

/* ---- target ------------------------------------------------------------- */

static bool rv_in(CK_RV rv, const CK_RV *set, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (rv == set[i])
            return true;
    }
    return false;
}

static void check_round_trip(const struct attrs *obj)
{
    struct attrs back = {0};
    unsigned char *buf = NULL, *buf2 = NULL;
    size_t len = 0, len2 = 0;
    if (codec_encode(obj, &buf, &len) != CKR_OK)
        abort();
    if (codec_decode(buf, len, &back) != CKR_OK)
        abort();
    if (back.n != obj->n || !attrs_match(obj, &back) || !attrs_match(&back, obj))
        abort();
    for (size_t i = 0; i < obj->n; i++) {
        if (back.v[i].secret != obj->v[i].secret)
            abort();
    }
    if (codec_encode(&back, &buf2, &len2) != CKR_OK || len2 != len || memcmp(buf, buf2, len))
        abort();
    codec_buffer_free(buf, len);
    codec_buffer_free(buf2, len2);
    attrs_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const CK_RV from_template_rvs[] = {
        CKR_OK, CKR_ARGUMENTS_BAD, CKR_ATTRIBUTE_VALUE_INVALID, CKR_TEMPLATE_INCONSISTENT};
    static const CK_RV complete_rvs[] = {
        CKR_OK,
        CKR_TEMPLATE_INCOMPLETE,
        CKR_TEMPLATE_INCONSISTENT,
        CKR_ATTRIBUTE_TYPE_INVALID,
        CKR_ATTRIBUTE_VALUE_INVALID,
        CKR_ATTRIBUTE_READ_ONLY,
    };
    static const CK_RV change_rvs[] = {
        CKR_OK,
        CKR_ACTION_PROHIBITED,
        CKR_ATTRIBUTE_READ_ONLY,
        CKR_ATTRIBUTE_TYPE_INVALID,
        CKR_ATTRIBUTE_VALUE_INVALID,
        CKR_TEMPLATE_INCONSISTENT,
    };
    static struct input in;
    struct attrs obj = {0}, other = {0}, changes = {0};
    CK_ATTRIBUTE *t1, *t2;

    if (size < 2)
        return 0;
    in.p = data + 2;
    in.left = size - 2;
    in.pool_used = in.ul_used = 0;
    enum rules_op op = (enum rules_op)(data[0] % 4);
    CK_ULONG n1 = parse(&in, data[1], 0, &t1);
    CK_ULONG n2 = parse(&in, MAX_ENTRIES, 0, &t2);

    CK_RV rv = attrs_from_template(t1, n1, CK_UNAVAILABLE_INFORMATION, &obj);
    if (!rv_in(rv, from_template_rvs, 4) || (rv != CKR_OK && obj.n != 0))
        abort();
    if (rv != CKR_OK)
        return 0;
    if (attrs_copy(&obj, &other) != CKR_OK || !attrs_match(&obj, &other))
        abort();

    /* The same template through another op, for its own checks. */
    rv = rules_complete_new(op, &other, 0x1234, data[0] & 4, data[0] & 8);
    if (!rv_in(rv, complete_rvs, 6))
        abort();
    attrs_free(&other);

    rv = rules_complete_new(RULES_CREATE, &obj, CK_UNAVAILABLE_INFORMATION, false, false);
    if (!rv_in(rv, complete_rvs, 6))
        abort();
    if (rv != CKR_OK)
        goto out;
    /* A complete object: classed, sorted, everything known and readable or
     * sensitive, and it survives the store. */
    CK_OBJECT_CLASS cls;
    if (attrs_get_ulong(&obj, CKA_CLASS, &cls) != CKR_OK)
        abort();
    for (size_t i = 0; i < obj.n; i++) {
        if (i > 0 && obj.v[i - 1].type >= obj.v[i].type)
            abort();
        rv = rules_readable(&obj, obj.v[i].type);
        if (rv != CKR_OK && rv != CKR_ATTRIBUTE_SENSITIVE)
            abort();
        if (obj.v[i].secret != attr_is_secret(cls, obj.v[i].type))
            abort();
    }
    check_round_trip(&obj);

    rv = attrs_from_template(t2, n2, cls, &changes);
    if (!rv_in(rv, from_template_rvs, 4))
        abort();
    if (rv == CKR_OK) {
        if (!rv_in(rules_check_set(&obj, &changes), change_rvs, 6) ||
            !rv_in(rules_check_copy(&obj, &changes), change_rvs, 6))
            abort();
    }
out:
    attrs_free(&obj);
    attrs_free(&changes);
    return 0;
}
