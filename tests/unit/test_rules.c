/*
 * Unit tests for src/object/rules.c: the PKCS#11 3.2 attribute tables and the
 * checks of create / generate / unwrap / derive, C_SetAttributeValue,
 * C_CopyObject and C_GetAttributeValue derived from them.
 */
#include "unit_util.h"

#include "object/attr.h"
#include "object/rules.h"

/* ---- helpers ------------------------------------------------------------ */

#define MAX_T 48
#define MECH  0x1234UL /* any mechanism number: rules only record it */

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static const unsigned char blob[64] = {0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48};

static int setup_crypto(void **state)
{
    (void)state;
    return crypto_global_init(0) == CKR_OK ? 0 : -1;
}

/* A template under construction: CK_ULONG values live inside it. */
struct tmpl {
    CK_ATTRIBUTE a[MAX_T];
    CK_ULONG ul[MAX_T];
    CK_ULONG n;
};

static void t_add(struct tmpl *t, CK_ATTRIBUTE_TYPE type, const void *v, CK_ULONG len)
{
    assert_true(t->n < MAX_T);
    t->a[t->n++] = (CK_ATTRIBUTE){type, (void *)v, len};
}

static void t_ulong(struct tmpl *t, CK_ATTRIBUTE_TYPE type, CK_ULONG v)
{
    t->ul[t->n] = v;
    t_add(t, type, &t->ul[t->n], sizeof(CK_ULONG));
}

static void t_bool(struct tmpl *t, CK_ATTRIBUTE_TYPE type, bool v)
{
    t_add(t, type, v ? &yes : &no, 1);
}

/* CLASS, KEY_TYPE and, when material, the minimal key material to create. */
static void t_key(struct tmpl *t, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, bool material)
{
    t_ulong(t, CKA_CLASS, cls);
    t_ulong(t, CKA_KEY_TYPE, kt);
    if (!material)
        return;
    if (cls == CKO_SECRET_KEY) {
        t_add(t, CKA_VALUE, blob, 32);
    } else if (kt == CKK_RSA) {
        t_add(t, CKA_MODULUS, blob, 64);
        if (cls == CKO_PUBLIC_KEY) {
            t_add(t, CKA_PUBLIC_EXPONENT, "\x01\x00\x01", 3);
        } else {
            t_add(t, CKA_PRIVATE_EXPONENT, blob, 64);
        }
    } else if (kt == CKK_EC || kt == CKK_EC_EDWARDS || kt == CKK_EC_MONTGOMERY) {
        t_add(t, CKA_EC_PARAMS, blob, 9);
        t_add(t, cls == CKO_PUBLIC_KEY ? CKA_EC_POINT : CKA_VALUE, blob, 32);
    } else {
        t_ulong(t, CKA_PARAMETER_SET, 2);
        t_add(t, CKA_VALUE, blob, 64);
    }
}

/* attrs_from_template (must succeed) + rules_complete_new. */
static CK_RV complete4(enum rules_op op, const struct tmpl *t, struct attrs *out, bool base_as,
                       bool base_ne)
{
    memset(out, 0, sizeof(*out));
    assert_int_equal(attrs_from_template(t->a, t->n, CK_UNAVAILABLE_INFORMATION, out), CKR_OK);
    return rules_complete_new(op, out, MECH, base_as, base_ne);
}

static CK_RV complete(enum rules_op op, const struct tmpl *t, struct attrs *out)
{
    return complete4(op, t, out, false, false);
}

/* Completes t, expecting rv, and frees the result. */
static void expect(enum rules_op op, const struct tmpl *t, CK_RV rv)
{
    struct attrs a;
    CK_RV got = complete(op, t, &a);
    if (got != rv)
        print_message("op %d: got 0x%lx, expected 0x%lx\n", (int)op, got, rv);
    assert_int_equal(got, rv);
    attrs_free(&a);
}

/* C_SetAttributeValue (copy false) or C_CopyObject (copy true) with a
 * template of one attribute. */
static CK_RV change(const struct attrs *obj, bool copy, CK_ATTRIBUTE_TYPE type, const void *v,
                    CK_ULONG len)
{
    struct attrs c = {0};
    CK_ATTRIBUTE t = {type, (void *)v, len};
    assert_int_equal(attrs_from_template(&t, 1, CK_UNAVAILABLE_INFORMATION, &c), CKR_OK);
    CK_RV rv = copy ? rules_check_copy(obj, &c) : rules_check_set(obj, &c);
    attrs_free(&c);
    return rv;
}

/* One row of a set/copy table: the change and the expected answers. */
struct chg {
    CK_ATTRIBUTE_TYPE type;
    const void *v;
    CK_ULONG len;
    CK_RV set, copy;
};

#define B(x)  ((x) ? &yes : &no), 1
#define UL(x) &(const CK_ULONG){(x)}, sizeof(CK_ULONG)

static void check_changes(const struct attrs *obj, const struct chg *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        CK_RV set = change(obj, false, c[i].type, c[i].v, c[i].len);
        CK_RV copy = change(obj, true, c[i].type, c[i].v, c[i].len);
        if (set != c[i].set || copy != c[i].copy)
            print_message("row %zu (0x%lx): set 0x%lx copy 0x%lx, expected 0x%lx 0x%lx\n", i,
                          c[i].type, set, copy, c[i].set, c[i].copy);
        assert_int_equal(set, c[i].set);
        assert_int_equal(copy, c[i].copy);
    }
}

static void assert_bool_attr(const struct attrs *a, CK_ATTRIBUTE_TYPE type, bool v)
{
    bool got;
    CK_RV rv = attrs_get_bool(a, type, &got);
    if (rv != CKR_OK || got != v)
        print_message("attribute 0x%lx: rv 0x%lx value %d, expected %d\n", type, rv, (int)got,
                      (int)v);
    assert_int_equal(rv, CKR_OK);
    assert_int_equal(got, v);
}

static void assert_ulong_attr(const struct attrs *a, CK_ATTRIBUTE_TYPE type, CK_ULONG v)
{
    CK_ULONG got = 0;
    assert_int_equal(attrs_get_ulong(a, type, &got), CKR_OK);
    assert_int_equal(got, v);
}

static void assert_empty_attr(const struct attrs *a, CK_ATTRIBUTE_TYPE type)
{
    const struct attr *e = attrs_find(a, type);
    assert_non_null(e);
    assert_int_equal(e->len, 0);
}

/* The attributes every object gets by default. */
static void assert_common_defaults(const struct attrs *a, bool private_)
{
    assert_bool_attr(a, CKA_TOKEN, false);
    assert_bool_attr(a, CKA_PRIVATE, private_);
    assert_bool_attr(a, CKA_MODIFIABLE, true);
    assert_bool_attr(a, CKA_COPYABLE, true);
    assert_bool_attr(a, CKA_DESTROYABLE, true);
    assert_empty_attr(a, CKA_LABEL);
    assert_null(attrs_find(a, CKA_UNIQUE_ID)); /* the object store assigns it */
}

/* Usage flags of a created key: the ones in on[] true, the others false. */
static void assert_usage(const struct attrs *a, CK_OBJECT_CLASS cls, const CK_ATTRIBUTE_TYPE *on,
                         size_t n_on)
{
    static const CK_ATTRIBUTE_TYPE pub[] = {CKA_ENCRYPT, CKA_VERIFY, CKA_VERIFY_RECOVER,
                                            CKA_WRAP,    CKA_DERIVE, CKA_ENCAPSULATE};
    static const CK_ATTRIBUTE_TYPE priv[] = {CKA_DECRYPT, CKA_SIGN,   CKA_SIGN_RECOVER,
                                             CKA_UNWRAP,  CKA_DERIVE, CKA_DECAPSULATE};
    static const CK_ATTRIBUTE_TYPE sec[] = {CKA_ENCRYPT, CKA_DECRYPT, CKA_SIGN,  CKA_VERIFY,
                                            CKA_WRAP,    CKA_UNWRAP,  CKA_DERIVE};
    const CK_ATTRIBUTE_TYPE *all = cls == CKO_PUBLIC_KEY    ? pub
                                   : cls == CKO_PRIVATE_KEY ? priv
                                                            : sec;
    size_t n = cls == CKO_SECRET_KEY ? ARRAY_SIZE(sec) : ARRAY_SIZE(pub);
    for (size_t i = 0; i < n; i++) {
        bool want = false;
        for (size_t j = 0; j < n_on; j++)
            want = want || on[j] == all[i];
        assert_bool_attr(a, all[i], want);
    }
}

/* The key attributes of a created (not generated) key. */
static void assert_created_key(const struct attrs *a, CK_OBJECT_CLASS cls)
{
    assert_common_defaults(a, cls != CKO_PUBLIC_KEY);
    assert_empty_attr(a, CKA_ID);
    assert_empty_attr(a, CKA_START_DATE);
    assert_empty_attr(a, CKA_END_DATE);
    assert_bool_attr(a, CKA_LOCAL, false);
    assert_ulong_attr(a, CKA_KEY_GEN_MECHANISM, CK_UNAVAILABLE_INFORMATION);
    if (cls == CKO_PUBLIC_KEY) {
        assert_empty_attr(a, CKA_SUBJECT);
        assert_bool_attr(a, CKA_TRUSTED, false);
        assert_null(attrs_find(a, CKA_SENSITIVE));
        assert_null(attrs_find(a, CKA_ALWAYS_SENSITIVE));
        return;
    }
    assert_bool_attr(a, CKA_SENSITIVE, true);
    assert_bool_attr(a, CKA_EXTRACTABLE, false);
    assert_bool_attr(a, CKA_ALWAYS_SENSITIVE, false);
    assert_bool_attr(a, CKA_NEVER_EXTRACTABLE, false);
    assert_bool_attr(a, CKA_WRAP_WITH_TRUSTED, false);
    if (cls == CKO_PRIVATE_KEY) {
        assert_empty_attr(a, CKA_SUBJECT);
        assert_bool_attr(a, CKA_ALWAYS_AUTHENTICATE, false);
    } else {
        assert_bool_attr(a, CKA_TRUSTED, false);
    }
}

/* Creates a key of class cls / type kt with its minimal material. */
static void create_key(CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, struct attrs *a)
{
    struct tmpl t = {0};
    t_key(&t, cls, kt, true);
    assert_int_equal(complete(RULES_CREATE, &t, a), CKR_OK);
}

/* ---- creation: defaults per class and key type -------------------------- */

static void test_data_defaults(void **state)
{
    (void)state;
    struct tmpl t = {0};
    struct attrs a;
    t_ulong(&t, CKA_CLASS, CKO_DATA);
    assert_int_equal(complete(RULES_CREATE, &t, &a), CKR_OK);
    assert_common_defaults(&a, false);
    assert_empty_attr(&a, CKA_APPLICATION);
    assert_empty_attr(&a, CKA_OBJECT_ID);
    assert_empty_attr(&a, CKA_VALUE);
    assert_false(attrs_find(&a, CKA_VALUE)->secret);
    assert_null(attrs_find(&a, CKA_LOCAL));
    assert_null(attrs_find(&a, CKA_KEY_GEN_MECHANISM));
    assert_int_equal(a.n, 10); /* nothing else was added */
    attrs_free(&a);
}

static void test_certificate_defaults(void **state)
{
    (void)state;
    struct tmpl t = {0};
    struct attrs a;
    t_ulong(&t, CKA_CLASS, CKO_CERTIFICATE);
    t_ulong(&t, CKA_CERTIFICATE_TYPE, CKC_X_509);
    t_add(&t, CKA_VALUE, blob, sizeof(blob));
    assert_int_equal(complete(RULES_CREATE, &t, &a), CKR_OK);
    assert_common_defaults(&a, false);
    assert_bool_attr(&a, CKA_TRUSTED, false);
    assert_ulong_attr(&a, CKA_CERTIFICATE_CATEGORY, CK_CERTIFICATE_CATEGORY_UNSPECIFIED);
    assert_empty_attr(&a, CKA_START_DATE);
    assert_empty_attr(&a, CKA_END_DATE);
    assert_empty_attr(&a, CKA_ID);
    assert_null(attrs_find(&a, CKA_SUBJECT)); /* key import fills it in */
    assert_false(attrs_find(&a, CKA_VALUE)->secret);
    assert_null(attrs_find(&a, CKA_LOCAL));
    attrs_free(&a);
}

static void test_certificate_errors(void **state)
{
    (void)state;
    struct tmpl t = {0};
    t_ulong(&t, CKA_CLASS, CKO_CERTIFICATE);
    expect(RULES_CREATE, &t, CKR_TEMPLATE_INCOMPLETE); /* no CKA_CERTIFICATE_TYPE */
    t_ulong(&t, CKA_CERTIFICATE_TYPE, CKC_X_509);
    expect(RULES_CREATE, &t, CKR_TEMPLATE_INCOMPLETE); /* no CKA_VALUE */
    t.ul[1] = CKC_X_509_ATTR_CERT;
    expect(RULES_CREATE, &t, CKR_ATTRIBUTE_VALUE_INVALID);
    t.ul[1] = CKC_WTLS;
    expect(RULES_CREATE, &t, CKR_ATTRIBUTE_VALUE_INVALID);
    t.ul[1] = CKC_X_509;
    t.a[1].ulValueLen = 4;
    expect(RULES_CREATE, &t, CKR_ATTRIBUTE_VALUE_INVALID);
    t.a[1].ulValueLen = sizeof(CK_ULONG);
    t_add(&t, CKA_VALUE, blob, sizeof(blob));
    t_add(&t, CKA_SUBJECT, blob, 4);
    t_add(&t, CKA_URL, "https://example.org/c", 21);
    t_ulong(&t, CKA_CERTIFICATE_CATEGORY, CK_CERTIFICATE_CATEGORY_AUTHORITY);
    expect(RULES_CREATE, &t, CKR_OK);
    t_add(&t, CKA_MODULUS, blob, 4); /* not a certificate attribute */
    expect(RULES_CREATE, &t, CKR_ATTRIBUTE_TYPE_INVALID);
}

static void test_secret_key_types(void **state)
{
    (void)state;
    static const CK_KEY_TYPE types[] = {
        CKK_AES,           CKK_DES3,          CKK_GENERIC_SECRET, CKK_SHA_1_HMAC,
        CKK_SHA224_HMAC,   CKK_SHA256_HMAC,   CKK_SHA384_HMAC,    CKK_SHA512_HMAC,
        CKK_SHA3_224_HMAC, CKK_SHA3_256_HMAC, CKK_SHA3_384_HMAC,  CKK_SHA3_512_HMAC,
    };
    static const CK_ATTRIBUTE_TYPE on[] = {CKA_ENCRYPT, CKA_DECRYPT, CKA_SIGN, CKA_VERIFY};
    for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
        struct attrs a;
        create_key(CKO_SECRET_KEY, types[i], &a);
        assert_created_key(&a, CKO_SECRET_KEY);
        assert_usage(&a, CKO_SECRET_KEY, on, ARRAY_SIZE(on));
        assert_true(attrs_find(&a, CKA_VALUE)->secret);
        assert_null(attrs_find(&a, CKA_VALUE_LEN)); /* key import adds it */
        attrs_free(&a);
    }
}

static void test_asymmetric_defaults(void **state)
{
    (void)state;
#define NONE CK_UNAVAILABLE_INFORMATION
    /* The usage flags on by default (the decisions); all others are off. */
    static const struct {
        CK_KEY_TYPE kt;
        CK_ATTRIBUTE_TYPE pub_on[2], priv_on[2];
    } cases[] = {
        {CKK_RSA, {CKA_ENCRYPT, CKA_VERIFY}, {CKA_DECRYPT, CKA_SIGN}},
        {CKK_EC, {CKA_VERIFY, NONE}, {CKA_SIGN, NONE}},
        {CKK_EC_EDWARDS, {CKA_VERIFY, NONE}, {CKA_SIGN, NONE}},
        {CKK_EC_MONTGOMERY, {CKA_DERIVE, NONE}, {CKA_DERIVE, NONE}},
        {CKK_ML_KEM, {CKA_ENCAPSULATE, NONE}, {CKA_DECAPSULATE, NONE}},
        {CKK_ML_DSA, {CKA_VERIFY, NONE}, {CKA_SIGN, NONE}},
        {CKK_SLH_DSA, {CKA_VERIFY, NONE}, {CKA_SIGN, NONE}},
    };
#undef NONE
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct attrs a;
        create_key(CKO_PUBLIC_KEY, cases[i].kt, &a);
        assert_created_key(&a, CKO_PUBLIC_KEY);
        assert_usage(&a, CKO_PUBLIC_KEY, cases[i].pub_on, 2);
        attrs_free(&a);
        create_key(CKO_PRIVATE_KEY, cases[i].kt, &a);
        assert_created_key(&a, CKO_PRIVATE_KEY);
        assert_usage(&a, CKO_PRIVATE_KEY, cases[i].priv_on, 2);
        attrs_free(&a);
    }
}

static void test_key_material_placement(void **state)
{
    (void)state;
    struct attrs a;
    struct tmpl t = {0};
    t_key(&t, CKO_PRIVATE_KEY, CKK_RSA, true);
    t_add(&t, CKA_PUBLIC_EXPONENT, "\x03", 1);
    t_add(&t, CKA_PRIME_1, blob, 32);
    t_add(&t, CKA_PRIME_2, blob, 32);
    t_add(&t, CKA_EXPONENT_1, blob, 32);
    t_add(&t, CKA_EXPONENT_2, blob, 32);
    t_add(&t, CKA_COEFFICIENT, blob, 32);
    assert_int_equal(complete(RULES_CREATE, &t, &a), CKR_OK);
    static const CK_ATTRIBUTE_TYPE secret[] = {CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
                                               CKA_PRIME_2,          CKA_EXPONENT_1,
                                               CKA_EXPONENT_2,       CKA_COEFFICIENT};
    for (size_t i = 0; i < ARRAY_SIZE(secret); i++)
        assert_true(attrs_find(&a, secret[i])->secret);
    assert_false(attrs_find(&a, CKA_MODULUS)->secret);
    assert_false(attrs_find(&a, CKA_PUBLIC_EXPONENT)->secret);
    attrs_free(&a);

    struct tmpl k = {0};
    t_key(&k, CKO_PRIVATE_KEY, CKK_ML_KEM, true);
    t_add(&k, CKA_SEED, blob, 64);
    assert_int_equal(complete(RULES_CREATE, &k, &a), CKR_OK);
    assert_true(attrs_find(&a, CKA_VALUE)->secret);
    assert_true(attrs_find(&a, CKA_SEED)->secret);
    assert_ulong_attr(&a, CKA_PARAMETER_SET, 2);
    attrs_free(&a);
    create_key(CKO_PUBLIC_KEY, CKK_ML_DSA, &a); /* a public CKA_VALUE is public */
    assert_false(attrs_find(&a, CKA_VALUE)->secret);
    attrs_free(&a);
    create_key(CKO_PRIVATE_KEY, CKK_EC_EDWARDS, &a);
    assert_true(attrs_find(&a, CKA_VALUE)->secret);
    attrs_free(&a);
}

static void test_given_values_kept(void **state)
{
    (void)state;
    struct tmpl t = {0};
    struct attrs a;
    t_key(&t, CKO_SECRET_KEY, CKK_AES, true);
    t_bool(&t, CKA_SENSITIVE, false);
    t_bool(&t, CKA_EXTRACTABLE, true);
    t_bool(&t, CKA_PRIVATE, false);
    t_bool(&t, CKA_TOKEN, true);
    t_bool(&t, CKA_WRAP, true);
    t_bool(&t, CKA_TRUSTED, true);
    t_add(&t, CKA_LABEL, "my key", 6);
    t_ulong(&t, CKA_VALUE_LEN, 32);
    assert_int_equal(complete(RULES_CREATE, &t, &a), CKR_OK);
    assert_bool_attr(&a, CKA_SENSITIVE, false);
    assert_bool_attr(&a, CKA_EXTRACTABLE, true);
    assert_bool_attr(&a, CKA_PRIVATE, false);
    assert_bool_attr(&a, CKA_TOKEN, true);
    assert_bool_attr(&a, CKA_WRAP, true);
    assert_bool_attr(&a, CKA_TRUSTED, true);
    assert_int_equal(attrs_find(&a, CKA_LABEL)->len, 6);
    assert_bool_attr(&a, CKA_ALWAYS_SENSITIVE, false);
    assert_bool_attr(&a, CKA_NEVER_EXTRACTABLE, false);
    attrs_free(&a);

    /* A usage the key type does not default to may still be asked for. */
    struct tmpl e = {0};
    t_key(&e, CKO_PUBLIC_KEY, CKK_EC, true);
    t_bool(&e, CKA_ENCRYPT, true);
    assert_int_equal(complete(RULES_CREATE, &e, &a), CKR_OK);
    assert_bool_attr(&a, CKA_ENCRYPT, true);
    attrs_free(&a);
}

/* ---- creation: errors --------------------------------------------------- */

static void test_class_and_key_type_errors(void **state)
{
    (void)state;
    struct tmpl t = {0};
    t_add(&t, CKA_LABEL, "x", 1);
    expect(RULES_CREATE, &t, CKR_TEMPLATE_INCOMPLETE); /* no class */
    expect(RULES_GENERATE, &t, CKR_TEMPLATE_INCOMPLETE);

    struct tmpl bad = {0};
    t_add(&bad, CKA_CLASS, "\x04", 1);
    expect(RULES_CREATE, &bad, CKR_ATTRIBUTE_VALUE_INVALID);

    struct tmpl nokt = {0};
    t_ulong(&nokt, CKA_CLASS, CKO_SECRET_KEY);
    t_add(&nokt, CKA_VALUE, blob, 16);
    expect(RULES_CREATE, &nokt, CKR_TEMPLATE_INCOMPLETE);
    t_add(&nokt, CKA_KEY_TYPE, "\x1f", 1);
    expect(RULES_CREATE, &nokt, CKR_ATTRIBUTE_VALUE_INVALID);
}

static void test_unsupported_class_and_key_type(void **state)
{
    (void)state;
    static const CK_OBJECT_CLASS classes[] = {
        CKO_HW_FEATURE, CKO_DOMAIN_PARAMETERS, CKO_MECHANISM, CKO_OTP_KEY, CKO_VALIDATION,
        CKO_TRUST,      CKO_VENDOR_DEFINED};
    for (size_t i = 0; i < ARRAY_SIZE(classes); i++) {
        struct tmpl c = {0};
        t_ulong(&c, CKA_CLASS, classes[i]);
        expect(RULES_CREATE, &c, CKR_ATTRIBUTE_VALUE_INVALID);
    }
    static const struct {
        CK_OBJECT_CLASS cls;
        CK_KEY_TYPE kt;
    } keys[] = {
        {CKO_PUBLIC_KEY, CKK_DSA},
        {CKO_PRIVATE_KEY, CKK_DH},
        {CKO_SECRET_KEY, CKK_RSA},
        {CKO_PUBLIC_KEY, CKK_AES},
        {CKO_SECRET_KEY, CKK_DES},
        {CKO_SECRET_KEY, CKK_CHACHA20},
        {CKO_PRIVATE_KEY, CKK_VENDOR_DEFINED},
    };
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        struct tmpl k = {0};
        t_key(&k, keys[i].cls, keys[i].kt, false);
        expect(RULES_CREATE, &k, CKR_ATTRIBUTE_VALUE_INVALID);
        assert_int_equal(rules_class_supported(keys[i].cls, keys[i].kt),
                         CKR_ATTRIBUTE_VALUE_INVALID);
    }
}

static void test_class_supported(void **state)
{
    (void)state;
    assert_int_equal(rules_class_supported(CKO_DATA, CK_UNAVAILABLE_INFORMATION), CKR_OK);
    assert_int_equal(rules_class_supported(CKO_CERTIFICATE, CK_UNAVAILABLE_INFORMATION), CKR_OK);
    assert_int_equal(rules_class_supported(CKO_PROFILE, CK_UNAVAILABLE_INFORMATION), CKR_OK);
    assert_int_equal(rules_class_supported(CKO_SECRET_KEY, CKK_AES), CKR_OK);
    assert_int_equal(rules_class_supported(CKO_SECRET_KEY, CKK_SHA3_512_HMAC), CKR_OK);
    assert_int_equal(rules_class_supported(CKO_PUBLIC_KEY, CKK_SLH_DSA), CKR_OK);
    assert_int_equal(rules_class_supported(CKO_PRIVATE_KEY, CKK_EC_MONTGOMERY), CKR_OK);
    assert_int_equal(rules_class_supported(CKO_SECRET_KEY, CK_UNAVAILABLE_INFORMATION),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    assert_int_equal(rules_class_supported(CKO_OTP_KEY, CKK_HOTP), CKR_ATTRIBUTE_VALUE_INVALID);

    /* Only the module makes profile objects; mechanisms only make keys. */
    struct tmpl t = {0};
    t_ulong(&t, CKA_CLASS, CKO_PROFILE);
    expect(RULES_CREATE, &t, CKR_ATTRIBUTE_VALUE_INVALID);
    struct tmpl d = {0};
    t_ulong(&d, CKA_CLASS, CKO_DATA);
    expect(RULES_GENERATE, &d, CKR_TEMPLATE_INCONSISTENT);
    expect(RULES_UNWRAP, &d, CKR_TEMPLATE_INCONSISTENT);
    expect(RULES_DERIVE, &d, CKR_TEMPLATE_INCONSISTENT);
}

static void test_type_invalid_for_class(void **state)
{
    (void)state;
    static const struct {
        CK_OBJECT_CLASS cls;
        CK_KEY_TYPE kt;
        CK_ATTRIBUTE_TYPE type;
    } cases[] = {
        {CKO_SECRET_KEY, CKK_AES, CKA_MODULUS},       {CKO_SECRET_KEY, CKK_AES, CKA_SUBJECT},
        {CKO_SECRET_KEY, CKK_AES, CKA_ENCAPSULATE},   {CKO_PRIVATE_KEY, CKK_RSA, CKA_VALUE},
        {CKO_PRIVATE_KEY, CKK_RSA, CKA_MODULUS_BITS}, {CKO_PRIVATE_KEY, CKK_EC, CKA_EC_POINT},
        {CKO_PUBLIC_KEY, CKK_RSA, CKA_SENSITIVE},     {CKO_PUBLIC_KEY, CKK_EC, CKA_SIGN},
        {CKO_PUBLIC_KEY, CKK_ML_DSA, CKA_SEED},       {CKO_PUBLIC_KEY, CKK_ML_KEM, CKA_EC_PARAMS},
        {CKO_PRIVATE_KEY, CKK_EC, CKA_PARAMETER_SET}, {CKO_SECRET_KEY, CKK_AES, CKA_VENDOR_DEFINED},
        {CKO_SECRET_KEY, CKK_AES, CKA_OTP_FORMAT},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct tmpl t = {0};
        t_key(&t, cases[i].cls, cases[i].kt, true);
        t_add(&t, cases[i].type, &yes, 1);
        expect(RULES_CREATE, &t, CKR_ATTRIBUTE_TYPE_INVALID);
        assert_false(rules_known(cases[i].cls, cases[i].kt, cases[i].type));
    }
    struct tmpl d = {0};
    t_ulong(&d, CKA_CLASS, CKO_DATA);
    t_ulong(&d, CKA_KEY_TYPE, CKK_AES);
    expect(RULES_CREATE, &d, CKR_ATTRIBUTE_TYPE_INVALID);
}

/* Creates a secret key with one extra attribute; expects rv. */
static void expect_extra(CK_ATTRIBUTE_TYPE type, const void *v, CK_ULONG len, CK_RV rv)
{
    struct tmpl t = {0};
    t_key(&t, CKO_SECRET_KEY, CKK_AES, true);
    t_add(&t, type, v, len);
    expect(RULES_CREATE, &t, rv);
}

static void test_bool_and_ulong_values(void **state)
{
    (void)state;
    CK_ULONG ul = 1;
    expect_extra(CKA_TOKEN, "\x00", 1, CKR_OK);
    expect_extra(CKA_TOKEN, "\x01", 1, CKR_OK);
    expect_extra(CKA_TOKEN, "\x02", 1, CKR_ATTRIBUTE_VALUE_INVALID);
    expect_extra(CKA_TOKEN, "\xff", 1, CKR_ATTRIBUTE_VALUE_INVALID);
    expect_extra(CKA_TOKEN, "\x01\x00", 2, CKR_ATTRIBUTE_VALUE_INVALID);
    expect_extra(CKA_TOKEN, NULL, 0, CKR_ATTRIBUTE_VALUE_INVALID);
    expect_extra(CKA_SENSITIVE, &ul, sizeof(ul), CKR_ATTRIBUTE_VALUE_INVALID);
    expect_extra(CKA_VALUE_LEN, &ul, sizeof(ul), CKR_OK);
    expect_extra(CKA_VALUE_LEN, &ul, 4, CKR_ATTRIBUTE_VALUE_INVALID);
    expect_extra(CKA_VALUE_LEN, &yes, 1, CKR_ATTRIBUTE_VALUE_INVALID);
    expect_extra(CKA_ID, NULL, 0, CKR_OK);
    expect_extra(CKA_ID, blob, sizeof(blob), CKR_OK);
}

static void test_dates(void **state)
{
    (void)state;
    static const char *const good[] = {"19000101", "20240229", "20000229",
                                       "99991231", "20231130", "20230131"};
    static const char *const bad[] = {"18991231", "20230229", "19000229", "20231301", "20230001",
                                      "20230100", "20230431", "2023010a", " 2023010", "2023-1-1"};
    expect_extra(CKA_START_DATE, NULL, 0, CKR_OK);
    for (size_t i = 0; i < ARRAY_SIZE(good); i++)
        expect_extra(CKA_END_DATE, good[i], 8, CKR_OK);
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        expect_extra(CKA_START_DATE, bad[i], 8, CKR_ATTRIBUTE_VALUE_INVALID);
    expect_extra(CKA_START_DATE, "2023010", 7, CKR_ATTRIBUTE_VALUE_INVALID);
    expect_extra(CKA_START_DATE, "202301011", 9, CKR_ATTRIBUTE_VALUE_INVALID);
}

static void test_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool ok;
    } cases[] = {
        {"plain ascii", true},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91", true}, /* 2, 3 and 4 bytes */
        {"\xef\xbf\xbf", true},                              /* U+FFFF */
        {"\xf4\x8f\xbf\xbf", true},                          /* U+10FFFF */
        {"\xc3", false},                                     /* truncated */
        {"\xe2\x82", false},
        {"\xc0\xaf", false}, /* overlong '/' */
        {"\xe0\x80\xaf", false},
        {"\xf0\x80\x80\xaf", false},
        {"\xed\xa0\x80", false},     /* surrogate */
        {"\xf4\x90\x80\x80", false}, /* > U+10FFFF */
        {"\x80", false},             /* lone continuation */
        {"\xc3\x28", false},
        {"\xf8\x88\x80\x80\x80", false}, /* 5 bytes */
        {"\xff", false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CK_RV rv = cases[i].ok ? CKR_OK : CKR_ATTRIBUTE_VALUE_INVALID;
        expect_extra(CKA_LABEL, cases[i].s, strlen(cases[i].s), rv);
    }
    struct tmpl t = {0};
    t_ulong(&t, CKA_CLASS, CKO_DATA);
    t_add(&t, CKA_APPLICATION, "\xc3", 1);
    expect(RULES_CREATE, &t, CKR_ATTRIBUTE_VALUE_INVALID);
    t.a[1] = (CK_ATTRIBUTE){CKA_VALUE, "\xc3", 1}; /* bytes, not text */
    expect(RULES_CREATE, &t, CKR_OK);
}

static void test_arrays_and_category(void **state)
{
    (void)state;
    CK_MECHANISM_TYPE mechs[3] = {1, 2, 3};
    expect_extra(CKA_ALLOWED_MECHANISMS, mechs, sizeof(mechs), CKR_OK);
    expect_extra(CKA_ALLOWED_MECHANISMS, NULL, 0, CKR_OK);
    expect_extra(CKA_ALLOWED_MECHANISMS, mechs, sizeof(mechs) - 1, CKR_ATTRIBUTE_VALUE_INVALID);

    CK_ULONG cat = CK_CERTIFICATE_CATEGORY_OTHER_ENTITY;
    struct tmpl t = {0};
    t_ulong(&t, CKA_CLASS, CKO_CERTIFICATE);
    t_ulong(&t, CKA_CERTIFICATE_TYPE, CKC_X_509);
    t_add(&t, CKA_VALUE, blob, 10);
    t_add(&t, CKA_CERTIFICATE_CATEGORY, &cat, sizeof(cat));
    expect(RULES_CREATE, &t, CKR_OK);
    cat = 4;
    expect(RULES_CREATE, &t, CKR_ATTRIBUTE_VALUE_INVALID);
}

static void test_nested_template_values(void **state)
{
    (void)state;
    CK_ULONG kt = CKK_AES;
    CK_ATTRIBUTE inner[] = {{CKA_KEY_TYPE, &kt, sizeof(kt)}, {CKA_EXTRACTABLE, &no, 1}};
    expect_extra(CKA_WRAP_TEMPLATE, inner, sizeof(inner), CKR_OK);
    expect_extra(CKA_UNWRAP_TEMPLATE, inner, sizeof(inner), CKR_OK);
    expect_extra(CKA_DERIVE_TEMPLATE, NULL, 0, CKR_OK);
    unsigned char two = 2;
    inner[1].pValue = &two; /* a CK_BBOOL inside must be one too */
    expect_extra(CKA_WRAP_TEMPLATE, inner, sizeof(inner), CKR_ATTRIBUTE_VALUE_INVALID);
    inner[1].pValue = &no;

    struct tmpl t = {0};
    t_key(&t, CKO_PRIVATE_KEY, CKK_ML_KEM, true);
    t_add(&t, CKA_DECAPSULATE_TEMPLATE, inner, sizeof(inner));
    expect(RULES_CREATE, &t, CKR_OK);
    struct tmpl p = {0};
    t_key(&p, CKO_PUBLIC_KEY, CKK_ML_KEM, true);
    t_add(&p, CKA_ENCAPSULATE_TEMPLATE, inner, sizeof(inner));
    expect(RULES_CREATE, &p, CKR_OK);
}

static void test_nested_flat_form(void **state)
{
    (void)state;
    /* A flat form that did not come from attrs_from_template. */
    struct tmpl k = {0};
    struct attrs a;
    t_key(&k, CKO_SECRET_KEY, CKK_AES, true);
    static const unsigned char forms[][32] = {
        {0, 0, 0, 1},    /* count, no entry */
        {0, 0, 0, 0, 9}, /* trailing */
        {0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0,
         0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0},                            /* duplicate */
        {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 9, 'a'},                 /* value cut */
        {0, 0, 0, 1, 0, 0, 0, 0, 0x40, 0, 0x02, 0x11, 0, 0, 0, 4, 0, 0, 0, 0}, /* nested nest */
    };
    static const size_t lens[] = {4, 5, 28, 17, 20};
    for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
        memset(&a, 0, sizeof(a));
        assert_int_equal(attrs_from_template(k.a, k.n, CK_UNAVAILABLE_INFORMATION, &a), CKR_OK);
        assert_int_equal(attrs_set(&a, CKO_SECRET_KEY, CKA_WRAP_TEMPLATE, forms[i], lens[i]),
                         CKR_OK);
        assert_int_equal(rules_complete_new(RULES_CREATE, &a, MECH, false, false),
                         CKR_ATTRIBUTE_VALUE_INVALID);
        attrs_free(&a);
    }
    /* ... and a well-formed one: LABEL "a" */
    static const unsigned char good[] = {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 1, 'a'};
    memset(&a, 0, sizeof(a));
    assert_int_equal(attrs_from_template(k.a, k.n, CK_UNAVAILABLE_INFORMATION, &a), CKR_OK);
    assert_int_equal(attrs_set(&a, CKO_SECRET_KEY, CKA_WRAP_TEMPLATE, good, sizeof(good)), CKR_OK);
    assert_int_equal(rules_complete_new(RULES_CREATE, &a, MECH, false, false), CKR_OK);
    attrs_free(&a);
}

static void test_required_on_create(void **state)
{
    (void)state;
    static const struct {
        CK_OBJECT_CLASS cls;
        CK_KEY_TYPE kt;
        CK_ATTRIBUTE_TYPE drop;
    } cases[] = {
        {CKO_SECRET_KEY, CKK_AES, CKA_VALUE},
        {CKO_PUBLIC_KEY, CKK_RSA, CKA_MODULUS},
        {CKO_PUBLIC_KEY, CKK_RSA, CKA_PUBLIC_EXPONENT},
        {CKO_PRIVATE_KEY, CKK_RSA, CKA_PRIVATE_EXPONENT},
        {CKO_PUBLIC_KEY, CKK_EC, CKA_EC_POINT},
        {CKO_PRIVATE_KEY, CKK_EC_EDWARDS, CKA_EC_PARAMS},
        {CKO_PRIVATE_KEY, CKK_EC_MONTGOMERY, CKA_VALUE},
        {CKO_PUBLIC_KEY, CKK_ML_DSA, CKA_PARAMETER_SET},
        {CKO_PRIVATE_KEY, CKK_SLH_DSA, CKA_PARAMETER_SET}, /* CKA_VALUE or CKA_SEED: keyimport decides */
        {CKO_PRIVATE_KEY, CKK_ML_KEM, CKA_PARAMETER_SET},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct tmpl t = {0}, u = {0};
        t_key(&t, cases[i].cls, cases[i].kt, true);
        for (CK_ULONG j = 0; j < t.n; j++) {
            if (t.a[j].type != cases[i].drop)
                t_add(&u, t.a[j].type, t.a[j].pValue, t.a[j].ulValueLen);
        }
        assert_int_equal(u.n, t.n - 1);
        expect(RULES_CREATE, &t, CKR_OK);
        expect(RULES_CREATE, &u, CKR_TEMPLATE_INCOMPLETE);
    }
}

/* ---- module-maintained attributes and the other ops ---------------------- */

static void test_module_maintained_read_only(void **state)
{
    (void)state;
    static const CK_ATTRIBUTE_TYPE module[] = {CKA_LOCAL, CKA_ALWAYS_SENSITIVE,
                                               CKA_NEVER_EXTRACTABLE, CKA_KEY_GEN_MECHANISM,
                                               CKA_UNIQUE_ID};
    static const enum rules_op ops[] = {RULES_CREATE, RULES_GENERATE, RULES_UNWRAP, RULES_DERIVE};
    CK_ULONG ul = CKM_AES_KEY_GEN;
    for (size_t o = 0; o < ARRAY_SIZE(ops); o++) {
        for (size_t i = 0; i < ARRAY_SIZE(module); i++) {
            struct tmpl t = {0};
            t_key(&t, CKO_SECRET_KEY, CKK_AES, ops[o] == RULES_CREATE);
            if (module[i] == CKA_KEY_GEN_MECHANISM) {
                t_add(&t, module[i], &ul, sizeof(ul));
            } else if (module[i] == CKA_UNIQUE_ID) {
                t_add(&t, module[i], "id-1", 4);
            } else {
                t_bool(&t, module[i], true);
            }
            expect(ops[o], &t, CKR_ATTRIBUTE_READ_ONLY);
        }
    }
    struct tmpl d = {0};
    t_ulong(&d, CKA_CLASS, CKO_DATA);
    t_add(&d, CKA_UNIQUE_ID, "1", 1);
    expect(RULES_CREATE, &d, CKR_ATTRIBUTE_READ_ONLY);
}

static void test_generate_material_inconsistent(void **state)
{
    (void)state;
    static const struct {
        CK_OBJECT_CLASS cls;
        CK_KEY_TYPE kt;
        CK_ATTRIBUTE_TYPE type;
    } cases[] = {
        {CKO_SECRET_KEY, CKK_AES, CKA_VALUE},
        {CKO_PUBLIC_KEY, CKK_RSA, CKA_MODULUS},
        {CKO_PRIVATE_KEY, CKK_RSA, CKA_MODULUS},
        {CKO_PRIVATE_KEY, CKK_RSA, CKA_PRIVATE_EXPONENT},
        {CKO_PRIVATE_KEY, CKK_RSA, CKA_PRIME_1},
        {CKO_PRIVATE_KEY, CKK_RSA, CKA_PRIME_2},
        {CKO_PRIVATE_KEY, CKK_RSA, CKA_EXPONENT_1},
        {CKO_PRIVATE_KEY, CKK_RSA, CKA_EXPONENT_2},
        {CKO_PRIVATE_KEY, CKK_RSA, CKA_COEFFICIENT},
        {CKO_PUBLIC_KEY, CKK_EC, CKA_EC_POINT},
        {CKO_PRIVATE_KEY, CKK_EC, CKA_VALUE},
        {CKO_PUBLIC_KEY, CKK_ML_DSA, CKA_VALUE},
        {CKO_PRIVATE_KEY, CKK_ML_KEM, CKA_SEED},
        {CKO_PUBLIC_KEY, CKK_RSA, CKA_PUBLIC_KEY_INFO},
        {CKO_PRIVATE_KEY, CKK_EC, CKA_PUBLIC_KEY_INFO},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct tmpl t = {0};
        t_key(&t, cases[i].cls, cases[i].kt, false);
        t_add(&t, cases[i].type, blob, 16);
        expect(RULES_GENERATE, &t, CKR_TEMPLATE_INCONSISTENT);
        expect(RULES_UNWRAP, &t, CKR_TEMPLATE_INCONSISTENT);
        expect(RULES_DERIVE, &t, CKR_TEMPLATE_INCONSISTENT);
    }
    /* Key generation parameters are welcome. */
    struct tmpl ok = {0};
    t_key(&ok, CKO_PUBLIC_KEY, CKK_RSA, false);
    t_ulong(&ok, CKA_MODULUS_BITS, 2048);
    t_add(&ok, CKA_PUBLIC_EXPONENT, "\x01\x00\x01", 3);
    expect(RULES_GENERATE, &ok, CKR_OK);
    struct tmpl len = {0};
    t_key(&len, CKO_SECRET_KEY, CKK_AES, false);
    t_ulong(&len, CKA_VALUE_LEN, 32);
    expect(RULES_GENERATE, &len, CKR_OK);
    expect(RULES_UNWRAP, &len, CKR_OK);
    expect(RULES_DERIVE, &len, CKR_OK);
}

static void test_generate_required(void **state)
{
    (void)state;
    static const struct {
        CK_KEY_TYPE kt;
        CK_ATTRIBUTE_TYPE type;
    } cases[] = {
        {CKK_RSA, CKA_MODULUS_BITS},      {CKK_EC, CKA_EC_PARAMS},
        {CKK_EC_EDWARDS, CKA_EC_PARAMS},  {CKK_EC_MONTGOMERY, CKA_EC_PARAMS},
        {CKK_ML_KEM, CKA_PARAMETER_SET},  {CKK_ML_DSA, CKA_PARAMETER_SET},
        {CKK_SLH_DSA, CKA_PARAMETER_SET},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct tmpl t = {0};
        t_key(&t, CKO_PUBLIC_KEY, cases[i].kt, false);
        expect(RULES_GENERATE, &t, CKR_TEMPLATE_INCOMPLETE);
        expect(RULES_UNWRAP, &t, CKR_OK); /* only generation needs them */
        if (cases[i].type == CKA_EC_PARAMS) {
            t_add(&t, CKA_EC_PARAMS, blob, 9);
        } else {
            t_ulong(&t, cases[i].type, 1); /* presence only */
        }
        expect(RULES_GENERATE, &t, CKR_OK);
        /* The private half needs nothing. */
        struct tmpl p = {0};
        t_key(&p, CKO_PRIVATE_KEY, cases[i].kt, false);
        expect(RULES_GENERATE, &p, CKR_OK);
    }
    struct tmpl s = {0};
    t_key(&s, CKO_SECRET_KEY, CKK_GENERIC_SECRET, false);
    expect(RULES_GENERATE, &s, CKR_OK); /* no CKA_VALUE needed */
}

static void test_generate_module_attrs(void **state)
{
    (void)state;
    struct attrs a;
    struct tmpl t = {0};
    t_key(&t, CKO_SECRET_KEY, CKK_AES, false);
    assert_int_equal(complete(RULES_GENERATE, &t, &a), CKR_OK);
    assert_bool_attr(&a, CKA_LOCAL, true);
    assert_ulong_attr(&a, CKA_KEY_GEN_MECHANISM, MECH);
    assert_bool_attr(&a, CKA_ALWAYS_SENSITIVE, true);
    assert_bool_attr(&a, CKA_NEVER_EXTRACTABLE, true);
    assert_null(attrs_find(&a, CKA_VALUE));
    attrs_free(&a);

    t_bool(&t, CKA_SENSITIVE, false);
    t_bool(&t, CKA_EXTRACTABLE, true);
    assert_int_equal(complete(RULES_GENERATE, &t, &a), CKR_OK);
    assert_bool_attr(&a, CKA_ALWAYS_SENSITIVE, false);
    assert_bool_attr(&a, CKA_NEVER_EXTRACTABLE, false);
    attrs_free(&a);
}

static void test_generate_key_pair_module_attrs(void **state)
{
    (void)state;
    struct attrs a;
    struct tmpl p = {0};
    t_key(&p, CKO_PUBLIC_KEY, CKK_EC, false);
    t_add(&p, CKA_EC_PARAMS, blob, 9);
    assert_int_equal(complete(RULES_GENERATE, &p, &a), CKR_OK);
    assert_bool_attr(&a, CKA_LOCAL, true);
    assert_ulong_attr(&a, CKA_KEY_GEN_MECHANISM, MECH);
    assert_null(attrs_find(&a, CKA_ALWAYS_SENSITIVE));
    assert_null(attrs_find(&a, CKA_NEVER_EXTRACTABLE));
    attrs_free(&a);

    struct tmpl q = {0};
    t_key(&q, CKO_PRIVATE_KEY, CKK_EC, false);
    assert_int_equal(complete(RULES_GENERATE, &q, &a), CKR_OK);
    assert_bool_attr(&a, CKA_ALWAYS_SENSITIVE, true);
    assert_bool_attr(&a, CKA_NEVER_EXTRACTABLE, true);
    assert_bool_attr(&a, CKA_PRIVATE, true);
    attrs_free(&a);
}

static void test_create_module_attrs(void **state)
{
    (void)state;
    struct attrs a;
    /* Created keys never are: the module cannot know their history. */
    struct tmpl c = {0};
    t_key(&c, CKO_SECRET_KEY, CKK_AES, true);
    assert_int_equal(complete4(RULES_CREATE, &c, &a, true, true), CKR_OK);
    assert_bool_attr(&a, CKA_ALWAYS_SENSITIVE, false);
    assert_bool_attr(&a, CKA_NEVER_EXTRACTABLE, false);
    assert_bool_attr(&a, CKA_LOCAL, false);
    attrs_free(&a);
}

static void test_unwrap_derive_flags(void **state)
{
    (void)state;
    static const enum rules_op ops[] = {RULES_UNWRAP, RULES_DERIVE};
    for (size_t o = 0; o < ARRAY_SIZE(ops); o++) {
        struct attrs a;
        struct tmpl t = {0};
        t_key(&t, CKO_SECRET_KEY, CKK_GENERIC_SECRET, false);
        for (int base = 0; base < 4; base++) {
            bool as = base & 1, ne = base & 2;
            assert_int_equal(complete4(ops[o], &t, &a, as, ne), CKR_OK);
            assert_bool_attr(&a, CKA_ALWAYS_SENSITIVE, as);
            assert_bool_attr(&a, CKA_NEVER_EXTRACTABLE, ne);
            assert_bool_attr(&a, CKA_LOCAL, false);
            assert_ulong_attr(&a, CKA_KEY_GEN_MECHANISM, CK_UNAVAILABLE_INFORMATION);
            attrs_free(&a);
        }
        t_bool(&t, CKA_SENSITIVE, false);
        t_bool(&t, CKA_EXTRACTABLE, true);
        assert_int_equal(complete4(ops[o], &t, &a, true, true), CKR_OK);
        assert_bool_attr(&a, CKA_ALWAYS_SENSITIVE, false);
        assert_bool_attr(&a, CKA_NEVER_EXTRACTABLE, false);
        attrs_free(&a);
        t_add(&t, CKA_VALUE, blob, 16);
        expect(ops[o], &t, CKR_TEMPLATE_INCONSISTENT);
    }
}

static void test_error_order(void **state)
{
    (void)state;
    /* Attributes are judged in type order: the lowest offending type wins. */
    struct tmpl t = {0};
    t_key(&t, CKO_SECRET_KEY, CKK_AES, true);
    t_bool(&t, CKA_LOCAL, true);     /* 0x163: read-only */
    t_add(&t, CKA_MODULUS, blob, 4); /* 0x120: type invalid */
    expect(RULES_CREATE, &t, CKR_ATTRIBUTE_TYPE_INVALID);
    struct tmpl u = {0};
    t_key(&u, CKO_SECRET_KEY, CKK_AES, false); /* incomplete, too */
    t_add(&u, CKA_TOKEN, "\x07", 1);           /* 0x001: bad value */
    t_bool(&u, CKA_LOCAL, true);
    expect(RULES_CREATE, &u, CKR_ATTRIBUTE_VALUE_INVALID);
    /* Attribute errors come before missing attributes. */
    struct tmpl v = {0};
    t_key(&v, CKO_SECRET_KEY, CKK_AES, false);
    t_bool(&v, CKA_NEVER_EXTRACTABLE, false);
    expect(RULES_CREATE, &v, CKR_ATTRIBUTE_READ_ONLY);
}

/* ---- C_SetAttributeValue / C_CopyObject --------------------------------- */

#define OK  CKR_OK
#define RO  CKR_ATTRIBUTE_READ_ONLY
#define TI  CKR_ATTRIBUTE_TYPE_INVALID
#define VI  CKR_ATTRIBUTE_VALUE_INVALID
#define INC CKR_TEMPLATE_INCONSISTENT
#define AP  CKR_ACTION_PROHIBITED

static void test_set_copy_secret_key(void **state)
{
    (void)state;
    struct attrs k;
    CK_MECHANISM_TYPE mechs[] = {CKM_AES_KEY_GEN};
    create_key(CKO_SECRET_KEY, CKK_AES, &k); /* sensitive, not extractable */
    const struct chg c[] = {
        /* changeable */
        {CKA_LABEL, "new", 3, OK, OK},
        {CKA_ID, "\x01\x02", 2, OK, OK},
        {CKA_START_DATE, "20250101", 8, OK, OK},
        {CKA_END_DATE, NULL, 0, OK, OK},
        {CKA_ENCRYPT, B(false), OK, OK},
        {CKA_DECRYPT, B(false), OK, OK},
        {CKA_SIGN, B(false), OK, OK},
        {CKA_VERIFY, B(false), OK, OK},
        {CKA_WRAP, B(true), OK, OK},
        {CKA_UNWRAP, B(true), OK, OK},
        {CKA_DERIVE, B(true), OK, OK},
        {CKA_DESTROYABLE, B(false), OK, OK},
        /* only at copy */
        {CKA_TOKEN, B(true), RO, OK},
        {CKA_PRIVATE, B(false), RO, OK},
        /* one way only; the unchanged value is fine */
        {CKA_MODIFIABLE, B(false), OK, OK},
        {CKA_MODIFIABLE, B(true), OK, OK},
        {CKA_COPYABLE, B(false), OK, OK},
        {CKA_COPYABLE, B(true), OK, OK},
        {CKA_SENSITIVE, B(true), OK, OK},
        {CKA_SENSITIVE, B(false), RO, RO},
        {CKA_EXTRACTABLE, B(false), OK, OK},
        {CKA_EXTRACTABLE, B(true), RO, RO},
        {CKA_WRAP_WITH_TRUSTED, B(true), OK, OK},
        /* identity: never set, repeated unchanged at copy */
        {CKA_CLASS, UL(CKO_SECRET_KEY), RO, OK},
        {CKA_CLASS, UL(CKO_PRIVATE_KEY), RO, INC},
        {CKA_KEY_TYPE, UL(CKK_AES), RO, OK},
        {CKA_KEY_TYPE, UL(CKK_DES3), RO, INC},
        {CKA_KEY_TYPE, "\x1f\0\0\0", 4, RO, VI},
        /* read-only after creation */
        {CKA_VALUE, blob, 16, RO, RO},
        {CKA_VALUE_LEN, UL(16), RO, RO},
        {CKA_CHECK_VALUE, blob, 3, RO, RO},
        {CKA_ALLOWED_MECHANISMS, mechs, sizeof(mechs), RO, RO},
        {CKA_WRAP_TEMPLATE, NULL, 0, RO, RO},
        {CKA_TRUSTED, B(false), RO, RO},
        {CKA_LOCAL, B(false), RO, RO},
        {CKA_ALWAYS_SENSITIVE, B(true), RO, RO},
        {CKA_NEVER_EXTRACTABLE, B(true), RO, RO},
        {CKA_KEY_GEN_MECHANISM, UL(CKM_AES_KEY_GEN), RO, RO},
        {CKA_UNIQUE_ID, "1", 1, RO, RO},
        /* read-only wins over a malformed value */
        {CKA_TRUSTED, "\x05", 1, RO, RO},
        {CKA_TOKEN, "\x05", 1, RO, VI},
        /* malformed, unknown */
        {CKA_LABEL, "\xc3\x28", 2, VI, VI},
        {CKA_START_DATE, "20250230", 8, VI, VI},
        {CKA_SENSITIVE, "\x02", 1, VI, VI},
        {CKA_ENCRYPT, "\x01\x01", 2, VI, VI},
        {CKA_SUBJECT, B(true), TI, TI},
        {CKA_MODULUS, blob, 8, TI, TI},
        {CKA_VENDOR_DEFINED, "x", 1, TI, TI},
    };
    check_changes(&k, c, ARRAY_SIZE(c));

    /* Several at once: the first offending one decides. */
    CK_ATTRIBUTE many[] = {{CKA_LABEL, "x", 1}, {CKA_SIGN, &no, 1}, {CKA_ID, "i", 1}};
    struct attrs m = {0};
    assert_int_equal(attrs_from_template(many, 3, CKO_SECRET_KEY, &m), CKR_OK);
    assert_int_equal(rules_check_set(&k, &m), CKR_OK);
    attrs_free(&m);
    many[1] = (CK_ATTRIBUTE){CKA_EXTRACTABLE, &yes, 1};
    assert_int_equal(attrs_from_template(many, 3, CKO_SECRET_KEY, &m), CKR_OK);
    assert_int_equal(rules_check_set(&k, &m), RO);
    attrs_free(&m);
    attrs_free(&k);
}

static void test_set_copy_private_key(void **state)
{
    (void)state;
    struct attrs k;
    struct tmpl t = {0};
    t_key(&t, CKO_PRIVATE_KEY, CKK_EC, true);
    t_bool(&t, CKA_SENSITIVE, false);
    t_bool(&t, CKA_EXTRACTABLE, true);
    t_bool(&t, CKA_WRAP_WITH_TRUSTED, true);
    t_bool(&t, CKA_COPYABLE, false);
    assert_int_equal(complete(RULES_CREATE, &t, &k), CKR_OK);
    const struct chg c[] = {
        {CKA_SENSITIVE, B(true), OK, AP}, /* not copyable: no copy at all */
        {CKA_SENSITIVE, B(false), OK, AP},
        {CKA_EXTRACTABLE, B(false), OK, AP},
        {CKA_EXTRACTABLE, B(true), OK, AP},
        {CKA_WRAP_WITH_TRUSTED, B(false), RO, AP},
        {CKA_COPYABLE, B(true), RO, AP},
        {CKA_SUBJECT, blob, 8, OK, AP},
        {CKA_SIGN_RECOVER, B(true), OK, AP},
        {CKA_DECAPSULATE, B(true), OK, AP},
        {CKA_ALWAYS_AUTHENTICATE, B(true), RO, AP},
        {CKA_EC_PARAMS, blob, 9, RO, AP},
        {CKA_VALUE, blob, 32, RO, AP},
        {CKA_PUBLIC_KEY_INFO, blob, 9, RO, AP},
        {CKA_UNWRAP_TEMPLATE, NULL, 0, RO, AP},
        {CKA_ENCRYPT, B(true), TI, AP},
    };
    check_changes(&k, c, ARRAY_SIZE(c));
    struct attrs none = {0};
    assert_int_equal(rules_check_copy(&k, &none), AP);
    attrs_free(&k);
}

static void test_set_copy_public_key(void **state)
{
    (void)state;
    struct attrs k;
    create_key(CKO_PUBLIC_KEY, CKK_ML_KEM, &k);
    const struct chg pub[] = {
        {CKA_ENCAPSULATE, B(false), OK, OK},
        {CKA_VERIFY_RECOVER, B(true), OK, OK},
        {CKA_WRAP, B(true), OK, OK},
        {CKA_SUBJECT, blob, 4, OK, OK},
        {CKA_PARAMETER_SET, UL(1), RO, RO},
        {CKA_VALUE, blob, 8, RO, RO},
        {CKA_ENCAPSULATE_TEMPLATE, NULL, 0, RO, RO},
        {CKA_SIGN, B(true), TI, TI},
        {CKA_SENSITIVE, B(true), TI, TI},
    };
    check_changes(&k, pub, ARRAY_SIZE(pub));
    attrs_free(&k);
}

static void test_set_copy_data_and_certificate(void **state)
{
    (void)state;
    struct attrs d, x;

    struct tmpl t = {0};
    t_ulong(&t, CKA_CLASS, CKO_DATA);
    assert_int_equal(complete(RULES_CREATE, &t, &d), CKR_OK);
    const struct chg data[] = {
        {CKA_VALUE, "new value", 9, OK, OK},        {CKA_APPLICATION, "app", 3, OK, OK},
        {CKA_OBJECT_ID, "\x06\x01\x00", 3, OK, OK}, {CKA_CLASS, UL(CKO_DATA), RO, OK},
        {CKA_KEY_TYPE, UL(CKK_AES), TI, TI},
    };
    check_changes(&d, data, ARRAY_SIZE(data));
    attrs_free(&d);

    struct tmpl u = {0};
    t_ulong(&u, CKA_CLASS, CKO_CERTIFICATE);
    t_ulong(&u, CKA_CERTIFICATE_TYPE, CKC_X_509);
    t_add(&u, CKA_VALUE, blob, 10);
    assert_int_equal(complete(RULES_CREATE, &u, &x), CKR_OK);
    const struct chg cert[] = {
        {CKA_URL, "u", 1, OK, OK},
        {CKA_SUBJECT, blob, 4, OK, OK},
        {CKA_ID, blob, 4, OK, OK},
        {CKA_VALUE, blob, 12, RO, RO},
        {CKA_ISSUER, blob, 12, RO, RO},
        {CKA_CERTIFICATE_CATEGORY, UL(1), RO, RO},
        {CKA_CERTIFICATE_TYPE, UL(CKC_X_509), RO, OK},
        {CKA_CERTIFICATE_TYPE, UL(CKC_WTLS), RO, INC},
    };
    check_changes(&x, cert, ARRAY_SIZE(cert));
    attrs_free(&x);
}

static void test_set_copy_not_modifiable(void **state)
{
    (void)state;
    struct attrs k;
    struct tmpl t = {0};
    t_key(&t, CKO_SECRET_KEY, CKK_AES, true);
    t_bool(&t, CKA_MODIFIABLE, false);
    assert_int_equal(complete(RULES_CREATE, &t, &k), CKR_OK);
    /* C_SetAttributeValue: nothing; a copy may change only the copy
     * attributes, and never make itself modifiable. */
    const struct chg c[] = {
        {CKA_LABEL, "x", 1, AP, AP},         {CKA_EXTRACTABLE, B(false), AP, AP},
        {CKA_TOKEN, B(true), AP, OK},        {CKA_PRIVATE, B(false), AP, OK},
        {CKA_DESTROYABLE, B(false), AP, OK}, {CKA_MODIFIABLE, B(false), AP, OK},
        {CKA_MODIFIABLE, B(true), AP, RO},   {CKA_VALUE, blob, 16, AP, RO},
        {CKA_MODULUS, blob, 1, AP, TI},
    };
    check_changes(&k, c, ARRAY_SIZE(c));
    struct attrs none = {0};
    assert_int_equal(rules_check_set(&k, &none), AP);
    assert_int_equal(rules_check_copy(&k, &none), OK);
    attrs_free(&k);

    /* An object lacking the flags (made by the module) is neither. */
    struct attrs p = {0};
    assert_int_equal(attrs_set_ulong(&p, CKA_CLASS, CKO_PROFILE), CKR_OK);
    assert_int_equal(attrs_set_ulong(&p, CKA_PROFILE_ID, 1), CKR_OK);
    assert_int_equal(change(&p, false, CKA_LABEL, "x", 1), AP);
    assert_int_equal(change(&p, true, CKA_TOKEN, B(true)), AP);
    attrs_free(&p);
    /* No class: not an object of this layer. */
    assert_int_equal(change(&none, false, CKA_LABEL, "x", 1), CKR_GENERAL_ERROR);
}

/* ---- C_GetAttributeValue ------------------------------------------------ */

static void test_readable(void **state)
{
    (void)state;
    struct attrs k;
    create_key(CKO_SECRET_KEY, CKK_AES, &k);
    assert_int_equal(rules_readable(&k, CKA_LABEL), CKR_OK);
    assert_int_equal(rules_readable(&k, CKA_CLASS), CKR_OK);
    assert_int_equal(rules_readable(&k, CKA_VALUE), CKR_ATTRIBUTE_SENSITIVE);
    assert_int_equal(rules_readable(&k, CKA_MODULUS), CKR_ATTRIBUTE_TYPE_INVALID);
    assert_int_equal(rules_readable(&k, CKA_CHECK_VALUE), CKR_ATTRIBUTE_TYPE_INVALID);
    attrs_free(&k);
}

static void test_readable_needs_both_flags(void **state)
{
    (void)state;
    struct attrs k;
    /* Protected by either flag. */
    for (int f = 0; f < 4; f++) {
        bool sensitive = f & 1, extractable = f & 2;
        struct tmpl t = {0};
        t_key(&t, CKO_PRIVATE_KEY, CKK_RSA, true);
        t_add(&t, CKA_PRIME_1, blob, 32);
        t_bool(&t, CKA_SENSITIVE, sensitive);
        t_bool(&t, CKA_EXTRACTABLE, extractable);
        assert_int_equal(complete(RULES_CREATE, &t, &k), CKR_OK);
        CK_RV want = !sensitive && extractable ? CKR_OK : CKR_ATTRIBUTE_SENSITIVE;
        assert_int_equal(rules_readable(&k, CKA_PRIVATE_EXPONENT), want);
        assert_int_equal(rules_readable(&k, CKA_PRIME_1), want);
        assert_int_equal(rules_readable(&k, CKA_MODULUS), CKR_OK);
        assert_int_equal(rules_readable(&k, CKA_SENSITIVE), CKR_OK);
        assert_int_equal(rules_readable(&k, CKA_PRIME_2), CKR_ATTRIBUTE_TYPE_INVALID);
        attrs_free(&k);
    }
}

static void test_readable_public_values(void **state)
{
    (void)state;
    struct attrs p;
    create_key(CKO_PUBLIC_KEY, CKK_ML_DSA, &p); /* public CKA_VALUE is public */
    assert_int_equal(rules_readable(&p, CKA_VALUE), CKR_OK);
    attrs_free(&p);
    struct tmpl d = {0};
    t_ulong(&d, CKA_CLASS, CKO_DATA);
    t_add(&d, CKA_VALUE, "data", 4);
    assert_int_equal(complete(RULES_CREATE, &d, &p), CKR_OK);
    assert_int_equal(rules_readable(&p, CKA_VALUE), CKR_OK);
    attrs_free(&p);

    /* A secret value without any flags (should not happen) stays hidden. */
    struct attrs bare = {0};
    assert_int_equal(attrs_set(&bare, CKO_SECRET_KEY, CKA_VALUE, "k", 1), CKR_OK);
    assert_int_equal(rules_readable(&bare, CKA_VALUE), CKR_ATTRIBUTE_SENSITIVE);
    attrs_free(&bare);
}

static void test_known_and_kind_names(void **state)
{
    (void)state;
    assert_true(rules_known(CKO_SECRET_KEY, CKK_AES, CKA_VALUE));
    assert_true(rules_known(CKO_SECRET_KEY, CKK_AES, CKA_CLASS));
    assert_true(rules_known(CKO_PRIVATE_KEY, CKK_ML_DSA, CKA_SEED));
    assert_true(rules_known(CKO_PUBLIC_KEY, CKK_RSA, CKA_MODULUS_BITS));
    assert_true(rules_known(CKO_CERTIFICATE, CK_UNAVAILABLE_INFORMATION, CKA_URL));
    assert_true(rules_known(CKO_PROFILE, CK_UNAVAILABLE_INFORMATION, CKA_PROFILE_ID));
    assert_true(rules_known(CKO_DATA, CK_UNAVAILABLE_INFORMATION, CKA_UNIQUE_ID));
    assert_false(rules_known(CKO_DATA, CK_UNAVAILABLE_INFORMATION, CKA_KEY_TYPE));
    assert_false(rules_known(CKO_PUBLIC_KEY, CKK_RSA, CKA_PRIVATE_EXPONENT));
    assert_false(rules_known(CKO_HW_FEATURE, CK_UNAVAILABLE_INFORMATION, CKA_CLASS));

    assert_string_equal(rules_kind_name(CKA_TOKEN), "CK_BBOOL");
    assert_string_equal(rules_kind_name(CKA_CLASS), "CK_ULONG");
    assert_string_equal(rules_kind_name(CKA_VALUE), "byte array");
    assert_string_equal(rules_kind_name(CKA_LABEL), "UTF-8 string");
    assert_string_equal(rules_kind_name(CKA_URL), "UTF-8 string");
    assert_string_equal(rules_kind_name(CKA_END_DATE), "CK_DATE");
    assert_string_equal(rules_kind_name(CKA_DERIVE_TEMPLATE), "CK_ATTRIBUTE array");
    assert_string_equal(rules_kind_name(CKA_ALLOWED_MECHANISMS), "CK_MECHANISM_TYPE array");
    assert_string_equal(rules_kind_name(CKA_OTP_FORMAT), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_defaults),
        cmocka_unit_test(test_certificate_defaults),
        cmocka_unit_test(test_certificate_errors),
        cmocka_unit_test(test_secret_key_types),
        cmocka_unit_test(test_asymmetric_defaults),
        cmocka_unit_test(test_key_material_placement),
        cmocka_unit_test(test_given_values_kept),
        cmocka_unit_test(test_class_and_key_type_errors),
        cmocka_unit_test(test_unsupported_class_and_key_type),
        cmocka_unit_test(test_class_supported),
        cmocka_unit_test(test_type_invalid_for_class),
        cmocka_unit_test(test_bool_and_ulong_values),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_arrays_and_category),
        cmocka_unit_test(test_nested_template_values),
        cmocka_unit_test(test_nested_flat_form),
        cmocka_unit_test(test_required_on_create),
        cmocka_unit_test(test_module_maintained_read_only),
        cmocka_unit_test(test_generate_material_inconsistent),
        cmocka_unit_test(test_generate_required),
        cmocka_unit_test(test_generate_module_attrs),
        cmocka_unit_test(test_generate_key_pair_module_attrs),
        cmocka_unit_test(test_create_module_attrs),
        cmocka_unit_test(test_unwrap_derive_flags),
        cmocka_unit_test(test_error_order),
        cmocka_unit_test(test_set_copy_secret_key),
        cmocka_unit_test(test_set_copy_private_key),
        cmocka_unit_test(test_set_copy_public_key),
        cmocka_unit_test(test_set_copy_data_and_certificate),
        cmocka_unit_test(test_set_copy_not_modifiable),
        cmocka_unit_test(test_readable),
        cmocka_unit_test(test_readable_needs_both_flags),
        cmocka_unit_test(test_readable_public_values),
        cmocka_unit_test(test_known_and_kind_names),
    };
    return cmocka_run_group_tests_name("rules", tests, setup_crypto, NULL);
}
