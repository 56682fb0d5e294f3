/*
 * Unit tests for src/object/attr.c: copying application templates (bounds
 * and errors), the sorted list, secret placement, typed getters, deep copy,
 * matching, the flat form of nested attribute templates and the
 * reference's key-type numbers read as the standard ones.
 */
#include "unit_util.h"

#include <openssl/crypto.h>

#include "craton/pkcs11_craton.h"
#include "object/attr.h"

/* ---- helpers ------------------------------------------------------------ */

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

static int setup_crypto(void **state)
{
    (void)state;
    return crypto_global_init(0) == CKR_OK ? 0 : -1;
}

static void assert_sorted(const struct attrs *a)
{
    for (size_t i = 1; i < a->n; i++)
        assert_true(a->v[i - 1].type < a->v[i].type);
}

static void assert_empty(const struct attrs *a)
{
    assert_int_equal(a->n, 0);
    assert_null(a->v);
}

/* Big-endian reads of the flat nested form. */
static uint64_t be(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* ---- templates ---------------------------------------------------------- */

static void test_template_count_bounds(void **state)
{
    (void)state;
    struct attrs a = {0};
    static CK_ATTRIBUTE big[ATTR_MAX_TEMPLATE + 1];

    assert_int_equal(attrs_from_template(NULL, 0, CKO_DATA, &a), CKR_OK);
    assert_empty(&a);
    assert_int_equal(attrs_from_template(NULL, 1, CKO_DATA, &a), CKR_ARGUMENTS_BAD);
    assert_empty(&a);

    for (CK_ULONG i = 0; i < ARRAY_SIZE(big); i++)
        big[i] = (CK_ATTRIBUTE){CKA_VENDOR_DEFINED + i, &yes, 1};
    assert_int_equal(attrs_from_template(big, ATTR_MAX_TEMPLATE + 1, CKO_DATA, &a),
                     CKR_ARGUMENTS_BAD);
    assert_empty(&a);
    assert_int_equal(attrs_from_template(big, ATTR_MAX_TEMPLATE, CKO_DATA, &a), CKR_OK);
    assert_int_equal(a.n, ATTR_MAX_TEMPLATE);
    assert_sorted(&a);
    attrs_free(&a);
    assert_empty(&a);
}

static void test_template_value_bounds(void **state)
{
    (void)state;
    struct attrs a = {0};
    unsigned char *big = calloc(1, ATTR_MAX_VALUE + 1);
    assert_non_null(big);

    CK_ATTRIBUTE null_value[] = {{CKA_LABEL, "x", 1}, {CKA_VALUE, NULL, 4}};
    assert_int_equal(attrs_from_template(null_value, 2, CKO_DATA, &a), CKR_ATTRIBUTE_VALUE_INVALID);
    assert_empty(&a);

    CK_ATTRIBUTE too_long[] = {{CKA_VALUE, big, ATTR_MAX_VALUE + 1}};
    assert_int_equal(attrs_from_template(too_long, 1, CKO_DATA, &a), CKR_ATTRIBUTE_VALUE_INVALID);
    CK_ATTRIBUTE unavailable[] = {{CKA_VALUE, big, CK_UNAVAILABLE_INFORMATION}};
    assert_int_equal(attrs_from_template(unavailable, 1, CKO_DATA, &a),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    assert_empty(&a);

    big[ATTR_MAX_VALUE - 1] = 0xAB;
    CK_ATTRIBUTE max[] = {{CKA_VALUE, big, ATTR_MAX_VALUE}, {CKA_LABEL, NULL, 0}};
    assert_int_equal(attrs_from_template(max, 2, CKO_DATA, &a), CKR_OK);
    const struct attr *v = attrs_find(&a, CKA_VALUE);
    assert_non_null(v);
    assert_int_equal(v->len, ATTR_MAX_VALUE);
    assert_int_equal(v->value[ATTR_MAX_VALUE - 1], 0xAB);
    const struct attr *l = attrs_find(&a, CKA_LABEL);
    assert_non_null(l);
    assert_int_equal(l->len, 0);
    assert_null(l->value);
    attrs_free(&a);
    free(big);
}

static void test_template_duplicate_and_first_error(void **state)
{
    (void)state;
    struct attrs a = {0};

    CK_ATTRIBUTE dup[] = {{CKA_TOKEN, &yes, 1}, {CKA_LABEL, "a", 1}, {CKA_TOKEN, &no, 1}};
    assert_int_equal(attrs_from_template(dup, 3, CKO_DATA, &a), CKR_TEMPLATE_INCONSISTENT);
    assert_empty(&a);

    /* The first offending entry in template order decides the code. */
    CK_ATTRIBUTE dup_first[] = {{CKA_TOKEN, &yes, 1}, {CKA_TOKEN, &no, 1}, {CKA_VALUE, NULL, 3}};
    assert_int_equal(attrs_from_template(dup_first, 3, CKO_DATA, &a), CKR_TEMPLATE_INCONSISTENT);
    CK_ATTRIBUTE bad_first[] = {{CKA_VALUE, NULL, 3}, {CKA_TOKEN, &yes, 1}, {CKA_TOKEN, &no, 1}};
    assert_int_equal(attrs_from_template(bad_first, 3, CKO_DATA, &a), CKR_ATTRIBUTE_VALUE_INVALID);
    assert_empty(&a);
}

static void test_template_sorted_and_copied(void **state)
{
    (void)state;
    struct attrs a = {0};
    char label[] = "label";
    CK_ULONG cls = CKO_DATA;
    CK_ATTRIBUTE t[] = {
        {CKA_VALUE, "abc", 3},
        {CKA_LABEL, label, 5},
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_TOKEN, &yes, 1},
    };
    assert_int_equal(attrs_from_template(t, ARRAY_SIZE(t), CK_UNAVAILABLE_INFORMATION, &a), CKR_OK);
    assert_int_equal(a.n, 4);
    assert_sorted(&a);
    assert_int_equal(a.v[0].type, CKA_CLASS);
    label[0] = 'X'; /* the list owns its copy */
    const struct attr *l = attrs_find(&a, CKA_LABEL);
    assert_non_null(l);
    assert_memory_equal(l->value, "label", 5);
    assert_true((void *)l->value != (void *)label);
    assert_null(attrs_find(&a, CKA_ID));
    attrs_free(&a);
}

/* ---- secrets ------------------------------------------------------------ */

static void test_is_secret(void **state)
{
    (void)state;
    assert_true(attr_is_secret(CKO_SECRET_KEY, CKA_VALUE));
    assert_true(attr_is_secret(CKO_PRIVATE_KEY, CKA_VALUE));
    assert_false(attr_is_secret(CKO_PUBLIC_KEY, CKA_VALUE));
    assert_false(attr_is_secret(CKO_DATA, CKA_VALUE));
    assert_false(attr_is_secret(CKO_CERTIFICATE, CKA_VALUE));
    assert_false(attr_is_secret(CK_UNAVAILABLE_INFORMATION, CKA_VALUE));
    static const CK_ATTRIBUTE_TYPE components[] = {
        CKA_PRIVATE_EXPONENT, CKA_PRIME_1,     CKA_PRIME_2, CKA_EXPONENT_1,
        CKA_EXPONENT_2,       CKA_COEFFICIENT, CKA_SEED,
    };
    for (size_t i = 0; i < ARRAY_SIZE(components); i++) {
        assert_true(attr_is_secret(CKO_PRIVATE_KEY, components[i]));
        assert_true(attr_is_secret(CK_UNAVAILABLE_INFORMATION, components[i]));
    }
    assert_false(attr_is_secret(CKO_PRIVATE_KEY, CKA_MODULUS));
    assert_false(attr_is_secret(CKO_PRIVATE_KEY, CKA_PUBLIC_EXPONENT));
    assert_false(attr_is_secret(CKO_SECRET_KEY, CKA_LABEL));
    assert_false(attr_is_secret(CKO_SECRET_KEY, CKA_CHECK_VALUE));
}

/* Secret values are in OpenSSL's secure heap, the others are not. */
static void assert_placement(const struct attrs *a, CK_ATTRIBUTE_TYPE type, bool secret)
{
    const struct attr *e = attrs_find(a, type);
    assert_non_null(e);
    assert_int_equal(e->secret, secret);
    assert_non_null(e->value);
    assert_int_equal(CRYPTO_secure_allocated(e->value) != 0, secret);
}

static void test_template_secret_placement(void **state)
{
    (void)state;
    struct attrs a = {0};
    CK_ULONG priv = CKO_PRIVATE_KEY, data = CKO_DATA;
    unsigned char key[32] = {1, 2, 3};

    /* Class given by the caller. */
    CK_ATTRIBUTE t1[] = {{CKA_VALUE, key, 32}, {CKA_LABEL, "k", 1}};
    assert_int_equal(attrs_from_template(t1, 2, CKO_SECRET_KEY, &a), CKR_OK);
    assert_placement(&a, CKA_VALUE, true);
    assert_placement(&a, CKA_LABEL, false);
    assert_memory_equal(attrs_find(&a, CKA_VALUE)->value, key, 32);
    attrs_free(&a);

    /* Class from the template. */
    CK_ATTRIBUTE t2[] = {{CKA_VALUE, key, 32}, {CKA_CLASS, &priv, sizeof(priv)}};
    assert_int_equal(attrs_from_template(t2, 2, CK_UNAVAILABLE_INFORMATION, &a), CKR_OK);
    assert_placement(&a, CKA_VALUE, true);
    attrs_free(&a);
    CK_ATTRIBUTE t3[] = {{CKA_VALUE, key, 32}, {CKA_CLASS, &data, sizeof(data)}};
    assert_int_equal(attrs_from_template(t3, 2, CK_UNAVAILABLE_INFORMATION, &a), CKR_OK);
    assert_placement(&a, CKA_VALUE, false);
    attrs_free(&a);

    /* No class at all: only private-key components are secret. */
    CK_ATTRIBUTE t4[] = {{CKA_VALUE, key, 32}, {CKA_PRIME_1, key, 16}};
    assert_int_equal(attrs_from_template(t4, 2, CK_UNAVAILABLE_INFORMATION, &a), CKR_OK);
    assert_placement(&a, CKA_VALUE, false);
    assert_placement(&a, CKA_PRIME_1, true);
    attrs_free(&a);
}

static void test_class_argument_decides(void **state)
{
    (void)state;
    struct attrs a = {0};
    CK_ULONG secret = CKO_SECRET_KEY;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &secret, sizeof(secret)}, {CKA_VALUE, "abcd", 4}, {CKA_ID, "id", 0}};
    /* A known class wins over what the template says. */
    assert_int_equal(attrs_from_template(t, 3, CKO_DATA, &a), CKR_OK);
    assert_placement(&a, CKA_VALUE, false);
    assert_null(attrs_find(&a, CKA_ID)->value); /* length 0: no bytes, pointer ignored */
    attrs_free(&a);
    /* A malformed CKA_CLASS decides nothing. */
    t[0].ulValueLen = 4;
    assert_int_equal(attrs_from_template(t, 3, CK_UNAVAILABLE_INFORMATION, &a), CKR_OK);
    assert_placement(&a, CKA_VALUE, false);
    attrs_free(&a);
}

/* ---- the list ----------------------------------------------------------- */

static void test_set_replace_remove_keep_order(void **state)
{
    (void)state;
    struct attrs a = {0};
    static const CK_ATTRIBUTE_TYPE order[] = {CKA_VALUE, CKA_CLASS,          CKA_LABEL,  CKA_ID,
                                              CKA_TOKEN, CKA_VENDOR_DEFINED, CKA_SUBJECT};
    for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
        CK_ULONG v = i;
        assert_int_equal(attrs_set(&a, CKO_DATA, order[i], &v, sizeof(v)), CKR_OK);
        assert_sorted(&a);
    }
    assert_int_equal(a.n, ARRAY_SIZE(order));

    /* Replace: same count, new value, order kept. */
    assert_int_equal(attrs_set(&a, CKO_DATA, CKA_LABEL, "new label", 9), CKR_OK);
    assert_int_equal(a.n, ARRAY_SIZE(order));
    assert_sorted(&a);
    assert_int_equal(attrs_find(&a, CKA_LABEL)->len, 9);
    assert_memory_equal(attrs_find(&a, CKA_LABEL)->value, "new label", 9);

    /* Replace with a value taken from the entry itself. */
    const struct attr *l = attrs_find(&a, CKA_LABEL);
    assert_int_equal(attrs_set(&a, CKO_DATA, CKA_LABEL, l->value + 4, 5), CKR_OK);
    assert_memory_equal(attrs_find(&a, CKA_LABEL)->value, "label", 5);

    /* Replace with empty. */
    assert_int_equal(attrs_set(&a, CKO_DATA, CKA_ID, NULL, 0), CKR_OK);
    assert_int_equal(attrs_find(&a, CKA_ID)->len, 0);
    assert_null(attrs_find(&a, CKA_ID)->value);
    assert_int_equal(attrs_set(&a, CKO_DATA, CKA_ID, NULL, 1), CKR_ARGUMENTS_BAD);

    attrs_remove(&a, CKA_LABEL);
    assert_null(attrs_find(&a, CKA_LABEL));
    assert_int_equal(a.n, ARRAY_SIZE(order) - 1);
    assert_sorted(&a);
    attrs_remove(&a, CKA_LABEL);          /* absent: nothing happens */
    attrs_remove(&a, CKA_CLASS);          /* first */
    attrs_remove(&a, CKA_VENDOR_DEFINED); /* last */
    assert_int_equal(a.n, ARRAY_SIZE(order) - 3);
    assert_sorted(&a);
    assert_non_null(attrs_find(&a, CKA_TOKEN));
    assert_non_null(attrs_find(&a, CKA_SUBJECT));
    attrs_free(&a);
    attrs_free(&a); /* idempotent */
    attrs_free(NULL);
    attrs_remove(&a, CKA_TOKEN);
    assert_null(attrs_find(&a, CKA_TOKEN));
}

static void test_set_secret_placement(void **state)
{
    (void)state;
    struct attrs a = {0};
    assert_int_equal(attrs_set(&a, CKO_SECRET_KEY, CKA_VALUE, "0123456789abcdef", 16), CKR_OK);
    assert_placement(&a, CKA_VALUE, true);
    assert_int_equal(attrs_set(&a, CKO_PUBLIC_KEY, CKA_MODULUS, "\x01\x02", 2), CKR_OK);
    assert_placement(&a, CKA_MODULUS, false);
    assert_int_equal(attrs_set(&a, CKO_PRIVATE_KEY, CKA_COEFFICIENT, "\x05", 1), CKR_OK);
    assert_placement(&a, CKA_COEFFICIENT, true);
    /* Typed setters never hold secrets. */
    assert_int_equal(attrs_set_bool(&a, CKA_SENSITIVE, true), CKR_OK);
    assert_placement(&a, CKA_SENSITIVE, false);
    attrs_free(&a);
}

static void test_typed_getters(void **state)
{
    (void)state;
    struct attrs a = {0};
    bool b = false;
    CK_ULONG u = 0;
    unsigned char two = 2;

    assert_int_equal(attrs_set_bool(&a, CKA_TOKEN, true), CKR_OK);
    assert_int_equal(attrs_set_bool(&a, CKA_PRIVATE, false), CKR_OK);
    assert_int_equal(attrs_set_ulong(&a, CKA_CLASS, CKO_SECRET_KEY), CKR_OK);
    assert_int_equal(attrs_set(&a, CKO_DATA, CKA_SENSITIVE, &two, 1), CKR_OK);
    assert_int_equal(attrs_set(&a, CKO_DATA, CKA_LABEL, "ab", 2), CKR_OK);
    assert_int_equal(attrs_find(&a, CKA_TOKEN)->len, sizeof(CK_BBOOL));
    assert_int_equal(attrs_find(&a, CKA_CLASS)->len, sizeof(CK_ULONG));

    assert_int_equal(attrs_get_bool(&a, CKA_TOKEN, &b), CKR_OK);
    assert_true(b);
    assert_int_equal(attrs_get_bool(&a, CKA_PRIVATE, &b), CKR_OK);
    assert_false(b);
    assert_int_equal(attrs_get_bool(&a, CKA_SENSITIVE, &b), CKR_OK); /* non-zero = true */
    assert_true(b);
    assert_int_equal(attrs_get_bool(&a, CKA_LABEL, &b), CKR_ATTRIBUTE_VALUE_INVALID);
    assert_int_equal(attrs_get_bool(&a, CKA_CLASS, &b), CKR_ATTRIBUTE_VALUE_INVALID);
    assert_int_equal(attrs_get_bool(&a, CKA_ID, &b), CKR_TEMPLATE_INCOMPLETE);

    assert_int_equal(attrs_get_ulong(&a, CKA_CLASS, &u), CKR_OK);
    assert_int_equal(u, CKO_SECRET_KEY);
    assert_int_equal(attrs_get_ulong(&a, CKA_TOKEN, &u), CKR_ATTRIBUTE_VALUE_INVALID);
    assert_int_equal(attrs_get_ulong(&a, CKA_KEY_TYPE, &u), CKR_TEMPLATE_INCOMPLETE);

    assert_true(attrs_bool(&a, CKA_TOKEN, false));
    assert_false(attrs_bool(&a, CKA_PRIVATE, true));
    assert_true(attrs_bool(&a, CKA_ID, true)); /* absent */
    assert_false(attrs_bool(&a, CKA_ID, false));
    assert_true(attrs_bool(&a, CKA_LABEL, true)); /* malformed */
    assert_false(attrs_bool(&a, CKA_LABEL, false));
    attrs_free(&a);
}

static void test_copy_deep(void **state)
{
    (void)state;
    struct attrs src = {0}, dst = {0}, empty = {0};
    assert_int_equal(attrs_set(&src, CKO_SECRET_KEY, CKA_VALUE, "0123456789abcdef", 16), CKR_OK);
    assert_int_equal(attrs_set(&src, CKO_SECRET_KEY, CKA_LABEL, "lbl", 3), CKR_OK);
    assert_int_equal(attrs_set(&src, CKO_SECRET_KEY, CKA_ID, NULL, 0), CKR_OK);
    assert_int_equal(attrs_set_ulong(&src, CKA_CLASS, CKO_SECRET_KEY), CKR_OK);

    assert_int_equal(attrs_copy(&src, &dst), CKR_OK);
    assert_int_equal(dst.n, src.n);
    for (size_t i = 0; i < src.n; i++) {
        assert_int_equal(dst.v[i].type, src.v[i].type);
        assert_int_equal(dst.v[i].len, src.v[i].len);
        assert_int_equal(dst.v[i].secret, src.v[i].secret);
        if (src.v[i].len > 0) {
            assert_true(dst.v[i].value != src.v[i].value);
            assert_memory_equal(dst.v[i].value, src.v[i].value, src.v[i].len);
        } else {
            assert_null(dst.v[i].value);
        }
    }
    assert_placement(&dst, CKA_VALUE, true);
    assert_placement(&dst, CKA_LABEL, false);
    src.v[0].value[0] ^= 0xFF; /* CKA_CLASS: the copy does not change */
    assert_true(attrs_match(&dst, &dst));
    assert_false(attrs_match(&dst, &src));
    attrs_free(&src);
    assert_memory_equal(attrs_find(&dst, CKA_VALUE)->value, "0123456789abcdef", 16);
    attrs_free(&dst);

    assert_int_equal(attrs_copy(&empty, &dst), CKR_OK);
    assert_int_equal(dst.n, 0);
    attrs_free(&dst);
}

static void test_match(void **state)
{
    (void)state;
    struct attrs obj = {0}, t = {0};
    assert_int_equal(attrs_set_ulong(&obj, CKA_CLASS, CKO_SECRET_KEY), CKR_OK);
    assert_int_equal(attrs_set(&obj, CKO_SECRET_KEY, CKA_LABEL, "abc", 3), CKR_OK);
    assert_int_equal(attrs_set(&obj, CKO_SECRET_KEY, CKA_ID, NULL, 0), CKR_OK);
    assert_int_equal(attrs_set(&obj, CKO_SECRET_KEY, CKA_VALUE, "k1k2", 4), CKR_OK);

    assert_true(attrs_match(&obj, &t)); /* empty template matches everything */
    assert_int_equal(attrs_set_ulong(&t, CKA_CLASS, CKO_SECRET_KEY), CKR_OK);
    assert_true(attrs_match(&obj, &t));
    assert_int_equal(attrs_set(&t, CKO_DATA, CKA_LABEL, "abc", 3), CKR_OK);
    assert_true(attrs_match(&obj, &t));
    assert_int_equal(attrs_set(&t, CKO_DATA, CKA_LABEL, "ab", 2), CKR_OK); /* prefix */
    assert_false(attrs_match(&obj, &t));
    assert_int_equal(attrs_set(&t, CKO_DATA, CKA_LABEL, "abd", 3), CKR_OK);
    assert_false(attrs_match(&obj, &t));
    assert_int_equal(attrs_set(&t, CKO_DATA, CKA_LABEL, "abc", 3), CKR_OK);
    assert_int_equal(attrs_set(&t, CKO_DATA, CKA_ID, NULL, 0), CKR_OK); /* empty = empty */
    assert_true(attrs_match(&obj, &t));
    assert_int_equal(attrs_set(&t, CKO_SECRET_KEY, CKA_VALUE, "k1k2", 4), CKR_OK);
    assert_true(attrs_match(&obj, &t));
    assert_int_equal(attrs_set(&t, CKO_SECRET_KEY, CKA_VALUE, "k1k3", 4), CKR_OK);
    assert_false(attrs_match(&obj, &t));
    attrs_remove(&t, CKA_VALUE);
    assert_int_equal(attrs_set_bool(&t, CKA_TOKEN, false), CKR_OK); /* absent in obj */
    assert_false(attrs_match(&obj, &t));
    attrs_free(&obj);
    attrs_free(&t);
}

/* ---- nested templates --------------------------------------------------- */

static void test_nested_copy(void **state)
{
    (void)state;
    struct attrs a = {0}, b = {0};
    CK_ULONG kt = CKK_AES;
    CK_ATTRIBUTE inner[] = {
        {CKA_SENSITIVE, &yes, 1}, {CKA_KEY_TYPE, &kt, sizeof(kt)}, {CKA_LABEL, NULL, 0}};
    CK_ATTRIBUTE t[] = {{CKA_WRAP_TEMPLATE, inner, sizeof(inner)}, {CKA_TOKEN, &yes, 1}};
    assert_int_equal(attrs_from_template(t, 2, CKO_SECRET_KEY, &a), CKR_OK);

    const struct attr *w = attrs_find(&a, CKA_WRAP_TEMPLATE);
    assert_non_null(w);
    assert_false(w->secret);
    /* count | (type, len, value) sorted by type: LABEL(3), KEY_TYPE(0x100), SENSITIVE(0x103) */
    assert_int_equal(w->len, 4 + 3 * 12 + 0 + sizeof(CK_ULONG) + 1);
    const unsigned char *p = w->value;
    assert_int_equal(be(p, 4), 3);
    p += 4;
    assert_int_equal(be(p, 8), CKA_LABEL);
    assert_int_equal(be(p + 8, 4), 0);
    p += 12;
    assert_int_equal(be(p, 8), CKA_KEY_TYPE);
    assert_int_equal(be(p + 8, 4), sizeof(CK_ULONG));
    assert_memory_equal(p + 12, &kt, sizeof(kt));
    p += 12 + sizeof(CK_ULONG);
    assert_int_equal(be(p, 8), CKA_SENSITIVE);
    assert_int_equal(be(p + 8, 4), 1);
    assert_int_equal(p[12], CK_TRUE);

    /* Self-contained: the application's memory can go away. */
    const CK_ULONG aes = CKK_AES;
    kt = CKK_DES3;
    inner[0].pValue = &no;
    assert_memory_equal(w->value + 4 + 12 + 12, &aes, sizeof(aes));
    assert_int_equal(w->value[w->len - 1], CK_TRUE);

    /* The same template in another order has the same form, and matches. */
    kt = CKK_AES;
    CK_ATTRIBUTE inner2[] = {
        {CKA_LABEL, NULL, 0}, {CKA_SENSITIVE, &yes, 1}, {CKA_KEY_TYPE, &kt, sizeof(kt)}};
    CK_ATTRIBUTE t2[] = {{CKA_WRAP_TEMPLATE, inner2, sizeof(inner2)}};
    assert_int_equal(attrs_from_template(t2, 1, CKO_SECRET_KEY, &b), CKR_OK);
    assert_true(attrs_match(&a, &b));
    attrs_free(&b);
    inner2[1].pValue = &no;
    assert_int_equal(attrs_from_template(t2, 1, CKO_SECRET_KEY, &b), CKR_OK);
    assert_false(attrs_match(&a, &b));
    attrs_free(&b);

    /* An empty array: count 0. */
    CK_ATTRIBUTE t3[] = {{CKA_DERIVE_TEMPLATE, NULL, 0}, {CKA_UNWRAP_TEMPLATE, inner, 0}};
    assert_int_equal(attrs_from_template(t3, 2, CKO_SECRET_KEY, &b), CKR_OK);
    assert_int_equal(attrs_find(&b, CKA_DERIVE_TEMPLATE)->len, 4);
    assert_int_equal(be(attrs_find(&b, CKA_DERIVE_TEMPLATE)->value, 4), 0);
    assert_int_equal(attrs_find(&b, CKA_UNWRAP_TEMPLATE)->len, 4);
    attrs_free(&b);

    /* Deep copy keeps the form. */
    assert_int_equal(attrs_copy(&a, &b), CKR_OK);
    assert_true(attrs_match(&b, &a));
    attrs_free(&b);
    attrs_free(&a);
}

static void test_nested_bounds(void **state)
{
    (void)state;
    struct attrs a = {0};
    CK_ATTRIBUTE inner[ATTR_MAX_NESTED + 1];
    for (size_t i = 0; i < ARRAY_SIZE(inner); i++)
        inner[i] = (CK_ATTRIBUTE){CKA_VENDOR_DEFINED + i, &yes, 1};

    CK_ATTRIBUTE t[] = {{CKA_WRAP_TEMPLATE, inner, sizeof(CK_ATTRIBUTE) * ATTR_MAX_NESTED}};
    assert_int_equal(attrs_from_template(t, 1, CKO_SECRET_KEY, &a), CKR_OK);
    assert_int_equal(be(attrs_find(&a, CKA_WRAP_TEMPLATE)->value, 4), ATTR_MAX_NESTED);
    attrs_free(&a);

    t[0].ulValueLen = sizeof(CK_ATTRIBUTE) * (ATTR_MAX_NESTED + 1);
    assert_int_equal(attrs_from_template(t, 1, CKO_SECRET_KEY, &a), CKR_ATTRIBUTE_VALUE_INVALID);
    t[0].ulValueLen = sizeof(CK_ATTRIBUTE) + 1; /* not a whole number of entries */
    assert_int_equal(attrs_from_template(t, 1, CKO_SECRET_KEY, &a), CKR_ATTRIBUTE_VALUE_INVALID);
    t[0].ulValueLen = sizeof(CK_ATTRIBUTE) * 2;

    inner[1] = (CK_ATTRIBUTE){CKA_LABEL, NULL, 2}; /* NULL value with a length */
    assert_int_equal(attrs_from_template(t, 1, CKO_SECRET_KEY, &a), CKR_ATTRIBUTE_VALUE_INVALID);
    inner[1] = (CK_ATTRIBUTE){CKA_LABEL, "x", ATTR_MAX_VALUE + 1};
    assert_int_equal(attrs_from_template(t, 1, CKO_SECRET_KEY, &a), CKR_ATTRIBUTE_VALUE_INVALID);
    inner[1] = inner[0]; /* duplicate type */
    assert_int_equal(attrs_from_template(t, 1, CKO_SECRET_KEY, &a), CKR_TEMPLATE_INCONSISTENT);
    inner[1] = (CK_ATTRIBUTE){CKA_UNWRAP_TEMPLATE, inner, sizeof(CK_ATTRIBUTE)}; /* nesting */
    assert_int_equal(attrs_from_template(t, 1, CKO_SECRET_KEY, &a), CKR_ATTRIBUTE_VALUE_INVALID);
    assert_empty(&a);

    /* The flat form must itself fit in one attribute value. */
    unsigned char *big = calloc(1, ATTR_MAX_VALUE);
    assert_non_null(big);
    inner[0] = (CK_ATTRIBUTE){CKA_VALUE, big, ATTR_MAX_VALUE / 2};
    inner[1] = (CK_ATTRIBUTE){CKA_LABEL, big, ATTR_MAX_VALUE / 2};
    assert_int_equal(attrs_from_template(t, 1, CKO_SECRET_KEY, &a), CKR_ATTRIBUTE_VALUE_INVALID);
    inner[1].ulValueLen = ATTR_MAX_VALUE / 2 - 4 - 2 * 12;
    assert_int_equal(attrs_from_template(t, 1, CKO_SECRET_KEY, &a), CKR_OK);
    assert_int_equal(attrs_find(&a, CKA_WRAP_TEMPLATE)->len, ATTR_MAX_VALUE);
    attrs_free(&a);
    free(big);
}

/* ---- the reference's key-type numbers ------------------------------------ */

static void test_key_type_aliases(void **state)
{
    (void)state;
    static const struct {
        CK_KEY_TYPE given, stored;
    } map[] = {
        {CKK_CRATON_ML_KEM, CKK_ML_KEM},
        {CKK_CRATON_ML_DSA, CKK_ML_DSA},
        {CKK_CRATON_SLH_DSA, CKK_SLH_DSA},
        {CKK_ML_KEM, CKK_ML_KEM},
        {CKK_AES, CKK_AES},
        {CKK_VENDOR_DEFINED, CKK_VENDOR_DEFINED},
        {CKK_CRATON_SLH_DSA + 1, CKK_CRATON_SLH_DSA + 1},
    };
    for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
        struct attrs a = {0};
        CK_KEY_TYPE kt = map[i].given;
        CK_ULONG v = 0;
        CK_ATTRIBUTE t[] = {{CKA_KEY_TYPE, &kt, sizeof(kt)}, {CKA_TOKEN, &yes, 1}};
        assert_int_equal(attrs_from_template(t, 2, CKO_PUBLIC_KEY, &a), CKR_OK);
        assert_int_equal(attrs_get_ulong(&a, CKA_KEY_TYPE, &v), CKR_OK);
        assert_int_equal(v, map[i].stored);
        assert_int_equal(kt, map[i].given); /* the application's template is untouched */
        attrs_free(&a);
    }

    /* Only CKA_KEY_TYPE, and only a CK_ULONG-sized value. */
    struct attrs a = {0};
    CK_ULONG alias = CKK_CRATON_ML_KEM;
    unsigned char raw[sizeof(CK_ULONG) + 1] = {0};
    memcpy(raw, &alias, sizeof(alias));
    CK_ATTRIBUTE other[] = {{CKA_PARAMETER_SET, &alias, sizeof(alias)},
                            {CKA_CERTIFICATE_TYPE, &alias, sizeof(alias)},
                            {CKA_KEY_TYPE, raw, sizeof(raw)}};
    assert_int_equal(attrs_from_template(other, 3, CK_UNAVAILABLE_INFORMATION, &a), CKR_OK);
    CK_ULONG v = 0;
    assert_int_equal(attrs_get_ulong(&a, CKA_PARAMETER_SET, &v), CKR_OK);
    assert_int_equal(v, CKK_CRATON_ML_KEM);
    assert_int_equal(attrs_get_ulong(&a, CKA_CERTIFICATE_TYPE, &v), CKR_OK);
    assert_int_equal(v, CKK_CRATON_ML_KEM);
    assert_int_equal(attrs_find(&a, CKA_KEY_TYPE)->len, sizeof(raw));
    assert_memory_equal(attrs_find(&a, CKA_KEY_TYPE)->value, raw, sizeof(raw));
    assert_int_equal(attrs_get_ulong(&a, CKA_KEY_TYPE, &v), CKR_ATTRIBUTE_VALUE_INVALID);
    attrs_free(&a);

    /* An unaligned value in the application's memory. */
    unsigned char buf[sizeof(CK_ULONG) + 1];
    memcpy(buf + 1, &alias, sizeof(alias));
    CK_ATTRIBUTE odd[] = {{CKA_KEY_TYPE, buf + 1, sizeof(CK_ULONG)}};
    assert_int_equal(attrs_from_template(odd, 1, CKO_PRIVATE_KEY, &a), CKR_OK);
    assert_int_equal(attrs_get_ulong(&a, CKA_KEY_TYPE, &v), CKR_OK);
    assert_int_equal(v, CKK_ML_KEM);
    attrs_free(&a);

    /* Inside an attribute array too: a search or unwrap template with the
     * alias matches an object holding the standard number. */
    CK_ULONG dsa = CKK_CRATON_ML_DSA, std = CKK_ML_DSA;
    CK_ATTRIBUTE inner[] = {{CKA_KEY_TYPE, &dsa, sizeof(dsa)}, {CKA_SIGN, &yes, 1}};
    CK_ATTRIBUTE t[] = {{CKA_UNWRAP_TEMPLATE, inner, sizeof(inner)}};
    assert_int_equal(attrs_from_template(t, 1, CKO_SECRET_KEY, &a), CKR_OK);
    const struct attr *w = attrs_find(&a, CKA_UNWRAP_TEMPLATE);
    assert_non_null(w);
    assert_int_equal(be(w->value, 4), 2);
    assert_int_equal(be(w->value + 4, 8), CKA_KEY_TYPE);
    assert_memory_equal(w->value + 4 + 12, &std, sizeof(std));
    assert_int_equal(dsa, CKK_CRATON_ML_DSA);
    attrs_free(&a);

    struct attrs obj = {0}, find = {0};
    CK_ULONG cls = CKO_PRIVATE_KEY, kem = CKK_ML_KEM;
    CK_ATTRIBUTE o[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &kem, sizeof(kem)}};
    CK_ATTRIBUTE f[] = {{CKA_KEY_TYPE, &alias, sizeof(alias)}};
    assert_int_equal(attrs_from_template(o, 2, CK_UNAVAILABLE_INFORMATION, &obj), CKR_OK);
    assert_int_equal(attrs_from_template(f, 1, CK_UNAVAILABLE_INFORMATION, &find), CKR_OK);
    assert_true(attrs_match(&obj, &find));
    attrs_free(&obj);
    attrs_free(&find);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_template_count_bounds),
        cmocka_unit_test(test_template_value_bounds),
        cmocka_unit_test(test_template_duplicate_and_first_error),
        cmocka_unit_test(test_template_sorted_and_copied),
        cmocka_unit_test(test_is_secret),
        cmocka_unit_test(test_template_secret_placement),
        cmocka_unit_test(test_class_argument_decides),
        cmocka_unit_test(test_set_replace_remove_keep_order),
        cmocka_unit_test(test_set_secret_placement),
        cmocka_unit_test(test_typed_getters),
        cmocka_unit_test(test_copy_deep),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_nested_copy),
        cmocka_unit_test(test_nested_bounds),
        cmocka_unit_test(test_key_type_aliases),
    };
    return cmocka_run_group_tests_name("attr", tests, setup_crypto, NULL);
}
