/*
 * Unit tests for src/object/codec.c: the store's record format for attribute
 * lists (round trip, exact bytes, and every malformed form rejected with
 * CKR_DEVICE_ERROR).
 */
#include "unit_util.h"

#include <openssl/crypto.h>

#include "object/attr.h"
#include "object/codec.h"

/* ---- helpers ------------------------------------------------------------ */

static int setup_crypto(void **state)
{
    (void)state;
    return crypto_global_init(0) == CKR_OK ? 0 : -1;
}

/* A private key with secret and nested values, empty ones and integers. */
static void rich_list(struct attrs *a)
{
    static CK_BBOOL yes = CK_TRUE;
    static unsigned char key[48];
    CK_ULONG cls = CKO_PRIVATE_KEY, kt = CKK_EC;
    CK_ATTRIBUTE inner[] = {{CKA_EXTRACTABLE, &yes, 1}, {CKA_LABEL, "wrapped", 7}};
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (unsigned char)(0xA0 + i);
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &kt, sizeof(kt)},
        {CKA_LABEL, "r\xc3\xa9sum\xc3\xa9", 8},
        {CKA_ID, NULL, 0},
        {CKA_VALUE, key, sizeof(key)},
        {CKA_EC_PARAMS, "\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07", 10},
        {CKA_SENSITIVE, &yes, 1},
        {CKA_UNWRAP_TEMPLATE, inner, sizeof(inner)},
        {CKA_VENDOR_DEFINED | 0x7, "v", 1},
    };
    memset(a, 0, sizeof(*a));
    assert_int_equal(attrs_from_template(t, ARRAY_SIZE(t), CK_UNAVAILABLE_INFORMATION, a), CKR_OK);
}

static void assert_same(const struct attrs *x, const struct attrs *y)
{
    assert_int_equal(x->n, y->n);
    for (size_t i = 0; i < x->n; i++) {
        assert_int_equal(x->v[i].type, y->v[i].type);
        assert_int_equal(x->v[i].len, y->v[i].len);
        assert_int_equal(x->v[i].secret, y->v[i].secret);
        if (x->v[i].len > 0)
            assert_memory_equal(x->v[i].value, y->v[i].value, x->v[i].len);
        else
            assert_null(y->v[i].value);
    }
}

static void expect_bad(const unsigned char *buf, size_t len)
{
    struct attrs out = {0};
    assert_int_equal(codec_decode(buf, len, &out), CKR_DEVICE_ERROR);
    assert_int_equal(out.n, 0);
    assert_null(out.v);
}

/* A record built by hand: magic, count, then (type, flags, len, value)*. */
struct rec {
    unsigned char b[512];
    size_t n;
};

static void r_be(struct rec *r, uint64_t v, size_t n)
{
    assert_true(r->n + n <= sizeof(r->b));
    for (size_t i = 0; i < n; i++)
        r->b[r->n++] = (unsigned char)(v >> (8 * (n - 1 - i)));
}

static void r_start(struct rec *r, uint32_t count)
{
    memcpy(r->b, "CRA1", 4);
    r->n = 4;
    r_be(r, count, 4);
}

static void r_attr(struct rec *r, uint64_t type, unsigned flags, const void *v, uint32_t len)
{
    r_be(r, type, 8);
    r_be(r, flags, 1);
    r_be(r, len, 4);
    assert_true(r->n + len <= sizeof(r->b));
    memcpy(r->b + r->n, v, len);
    r->n += len;
}

/* A record of n empty attributes of types 0..n-1 (heap, *len bytes). */
static unsigned char *empty_attrs(size_t n, size_t *len)
{
    *len = 8 + n * 13;
    unsigned char *b = calloc(1, *len);
    assert_non_null(b);
    memcpy(b, "CRA1", 4);
    b[6] = (unsigned char)(n >> 8);
    b[7] = (unsigned char)n;
    for (size_t i = 0; i < n; i++) {
        b[8 + i * 13 + 6] = (unsigned char)(i >> 8);
        b[8 + i * 13 + 7] = (unsigned char)i;
    }
    return b;
}

/* ---- tests -------------------------------------------------------------- */

static void test_round_trip_rich(void **state)
{
    (void)state;
    struct attrs a, b = {0}, c = {0};
    unsigned char *buf = NULL, *buf2 = NULL;
    size_t len = 0, len2 = 0;
    rich_list(&a);
    assert_int_equal(codec_encode(&a, &buf, &len), CKR_OK);
    assert_memory_equal(buf, CODEC_MAGIC, 4);
    assert_true(CRYPTO_secure_allocated(buf)); /* it holds a secret */
    assert_int_equal(codec_decode(buf, len, &b), CKR_OK);
    assert_same(&a, &b);
    const struct attr *v = attrs_find(&b, CKA_VALUE);
    assert_true(v->secret);
    assert_true(CRYPTO_secure_allocated(v->value));
    assert_false(CRYPTO_secure_allocated(attrs_find(&b, CKA_LABEL)->value));
    assert_true(attrs_match(&a, &b) && attrs_match(&b, &a));

    /* Encoding is deterministic. */
    assert_int_equal(codec_encode(&b, &buf2, &len2), CKR_OK);
    assert_int_equal(len2, len);
    assert_memory_equal(buf2, buf, len);
    /* A copy of the bytes decodes the same (no hidden state). */
    unsigned char *plain = malloc(len);
    assert_non_null(plain);
    memcpy(plain, buf, len);
    codec_buffer_free(buf, len);
    codec_buffer_free(buf2, len2);
    assert_int_equal(codec_decode(plain, len, &c), CKR_OK);
    assert_same(&a, &c);
    free(plain);
    attrs_free(&a);
    attrs_free(&b);
    attrs_free(&c);
}

static void test_exact_bytes(void **state)
{
    (void)state;
    struct attrs a = {0};
    unsigned char *buf = NULL;
    size_t len = 0;
    assert_int_equal(attrs_set_bool(&a, CKA_TOKEN, true), CKR_OK);
    assert_int_equal(attrs_set(&a, CKO_SECRET_KEY, CKA_VALUE, "\xAA\xBB", 2), CKR_OK);
    assert_int_equal(attrs_set(&a, CKO_DATA, CKA_LABEL, NULL, 0), CKR_OK);
    static const unsigned char want[] = {
        'C', 'R', 'A', '1', 0, 0, 0, 3,                                  /* magic, count */
        0,   0,   0,   0,   0, 0, 0, 0x01, 0x00, 0, 0, 0, 1, 0x01,       /* TOKEN = true */
        0,   0,   0,   0,   0, 0, 0, 0x03, 0x00, 0, 0, 0, 0,             /* LABEL empty */
        0,   0,   0,   0,   0, 0, 0, 0x11, 0x01, 0, 0, 0, 2, 0xAA, 0xBB, /* VALUE, secret */
    };
    assert_int_equal(codec_encode(&a, &buf, &len), CKR_OK);
    assert_int_equal(len, sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));
    codec_buffer_free(buf, len);
    attrs_free(&a);

    /* The empty list, in ordinary memory. */
    assert_int_equal(codec_encode(&a, &buf, &len), CKR_OK);
    assert_int_equal(len, 8);
    assert_memory_equal(buf, "CRA1\0\0\0\0", 8);
    assert_false(CRYPTO_secure_allocated(buf));
    assert_int_equal(codec_decode(buf, len, &a), CKR_OK);
    assert_int_equal(a.n, 0);
    codec_buffer_free(buf, len);
    codec_buffer_free(NULL, 0);
    attrs_free(&a);
}

static void test_bad_magic(void **state)
{
    (void)state;
    struct rec r;
    r_start(&r, 0);
    for (size_t i = 0; i < 4; i++) {
        r.b[i] ^= 0x20; /* "cRA1", "CrA1", ... */
        expect_bad(r.b, r.n);
        r.b[i] ^= 0x20;
    }
    memcpy(r.b, "CRA2", 4); /* another version */
    expect_bad(r.b, r.n);
    expect_bad(NULL, 0);
    expect_bad((const unsigned char *)"", 0);
}

static void test_truncated_everywhere(void **state)
{
    (void)state;
    struct attrs a;
    unsigned char *buf = NULL;
    size_t len = 0;
    rich_list(&a);
    assert_int_equal(codec_encode(&a, &buf, &len), CKR_OK);
    for (size_t cut = 0; cut < len; cut++) {
        unsigned char *copy = malloc(cut + 1); /* exact size: ASan sees over-reads */
        assert_non_null(copy);
        memcpy(copy, buf, cut);
        expect_bad(copy, cut);
        free(copy);
    }
    codec_buffer_free(buf, len);
    attrs_free(&a);
}

static void test_count_bounds(void **state)
{
    (void)state;
    struct rec r;
    r_start(&r, CODEC_MAX_ATTRS + 1);
    expect_bad(r.b, r.n);
    r_start(&r, 0xFFFFFFFFu);
    expect_bad(r.b, r.n);
    /* A count larger than the attributes present. */
    r_start(&r, 2);
    r_attr(&r, CKA_TOKEN, 0, "\x01", 1);
    expect_bad(r.b, r.n);
    /* And smaller: the rest is trailing garbage. */
    r_start(&r, 1);
    r_attr(&r, CKA_TOKEN, 0, "\x01", 1);
    r_attr(&r, CKA_PRIVATE, 0, "\x01", 1);
    expect_bad(r.b, r.n);

    /* CODEC_MAX_ATTRS itself is fine, one more is not, even when all there. */
    size_t big_len = 0;
    unsigned char *big = empty_attrs(CODEC_MAX_ATTRS + 1, &big_len);
    expect_bad(big, big_len);
    free(big);
    big = empty_attrs(CODEC_MAX_ATTRS, &big_len);
    struct attrs out = {0};
    assert_int_equal(codec_decode(big, big_len, &out), CKR_OK);
    assert_int_equal(out.n, CODEC_MAX_ATTRS);
    attrs_free(&out);
    free(big);
}

static void test_value_length_bounds(void **state)
{
    (void)state;
    size_t n = 8 + 13 + ATTR_MAX_VALUE + 1;
    unsigned char *b = calloc(1, n);
    assert_non_null(b);
    memcpy(b, "CRA1\0\0\0\1", 8);
    /* type 0x11 (CKA_VALUE), flags 0, len ATTR_MAX_VALUE + 1 */
    b[8 + 7] = 0x11;
    uint32_t over = ATTR_MAX_VALUE + 1;
    b[8 + 9] = (unsigned char)(over >> 24);
    b[8 + 10] = (unsigned char)(over >> 16);
    b[8 + 11] = (unsigned char)(over >> 8);
    b[8 + 12] = (unsigned char)over;
    expect_bad(b, n);
    /* ATTR_MAX_VALUE is fine. */
    b[8 + 12] = (unsigned char)(over - 1);
    b[8 + 11] = (unsigned char)((over - 1) >> 8);
    struct attrs out = {0};
    assert_int_equal(codec_decode(b, n - 1, &out), CKR_OK);
    assert_int_equal(attrs_find(&out, CKA_VALUE)->len, ATTR_MAX_VALUE);
    attrs_free(&out);
    /* A length past the end of the buffer. */
    struct rec r;
    r_start(&r, 1);
    r_attr(&r, CKA_LABEL, 0, "abc", 3);
    r.b[8 + 12] = 4;
    expect_bad(r.b, r.n);
    r.b[8 + 9] = 0xFF; /* 0xFF000004 */
    expect_bad(r.b, r.n);
    free(b);
}

static void test_unsorted_and_duplicate(void **state)
{
    (void)state;
    struct rec r;
    r_start(&r, 2);
    r_attr(&r, CKA_LABEL, 0, "a", 1);
    r_attr(&r, CKA_TOKEN, 0, "\x01", 1);
    expect_bad(r.b, r.n);
    r_start(&r, 2);
    r_attr(&r, CKA_LABEL, 0, "a", 1);
    r_attr(&r, CKA_LABEL, 0, "b", 1);
    expect_bad(r.b, r.n);
    r_start(&r, 3);
    r_attr(&r, CKA_TOKEN, 0, "\x01", 1);
    r_attr(&r, CKA_VALUE, 0, "x", 1);
    r_attr(&r, CKA_LABEL, 0, "a", 1);
    expect_bad(r.b, r.n);
    /* Sorted is fine, with the largest possible type. */
    r_start(&r, 2);
    r_attr(&r, CKA_LABEL, 0, "a", 1);
    r_attr(&r, UINT64_MAX, 0, "b", 1);
    struct attrs out = {0};
    assert_int_equal(codec_decode(r.b, r.n, &out), CKR_OK);
    assert_non_null(attrs_find(&out, (CK_ATTRIBUTE_TYPE)UINT64_MAX));
    attrs_free(&out);
}

static void test_trailing_bytes(void **state)
{
    (void)state;
    struct rec r;
    r_start(&r, 1);
    r_attr(&r, CKA_LABEL, 0, "a", 1);
    struct attrs out = {0};
    assert_int_equal(codec_decode(r.b, r.n, &out), CKR_OK);
    attrs_free(&out);
    r.b[r.n++] = 0;
    expect_bad(r.b, r.n);
    r_start(&r, 0);
    r.b[r.n++] = 'x';
    expect_bad(r.b, r.n);
}

static void test_flags(void **state)
{
    (void)state;
    struct rec r;
    struct attrs out = {0};
    /* Unknown flag bits. */
    for (unsigned bit = 1; bit < 8; bit++) {
        r_start(&r, 1);
        r_attr(&r, CKA_LABEL, 1u << bit, "a", 1);
        expect_bad(r.b, r.n);
    }
    /* The secret flag is honoured on any type ... */
    r_start(&r, 1);
    r_attr(&r, CKA_LABEL, 1, "a", 1);
    assert_int_equal(codec_decode(r.b, r.n, &out), CKR_OK);
    assert_true(out.v[0].secret);
    assert_true(CRYPTO_secure_allocated(out.v[0].value));
    attrs_free(&out);
    /* ... and the class makes a value secret without it. */
    CK_ULONG cls = CKO_SECRET_KEY;
    r_start(&r, 2);
    r_attr(&r, CKA_CLASS, 0, &cls, sizeof(cls));
    r_attr(&r, CKA_VALUE, 0, "k", 1);
    assert_int_equal(codec_decode(r.b, r.n, &out), CKR_OK);
    assert_true(attrs_find(&out, CKA_VALUE)->secret);
    assert_false(attrs_find(&out, CKA_CLASS)->secret);
    attrs_free(&out);
    cls = CKO_DATA;
    r_start(&r, 2);
    r_attr(&r, CKA_CLASS, 0, &cls, sizeof(cls));
    r_attr(&r, CKA_VALUE, 0, "k", 1);
    assert_int_equal(codec_decode(r.b, r.n, &out), CKR_OK);
    assert_false(attrs_find(&out, CKA_VALUE)->secret);
    attrs_free(&out);
}

/* Found while writing the fuzz target's round-trip check: a record whose
 * class makes a value secret but which lacks the flag decodes as secret and
 * re-encodes with the flag set; nothing else changes. */
static void test_secret_flag_normalised(void **state)
{
    (void)state;
    struct rec r;
    struct attrs out = {0};
    unsigned char *buf = NULL;
    size_t len = 0;
    CK_ULONG cls = CKO_PRIVATE_KEY;
    r_start(&r, 3);
    r_attr(&r, CKA_CLASS, 0, &cls, sizeof(cls));
    r_attr(&r, CKA_VALUE, 0, "scalar", 6);
    r_attr(&r, CKA_SEED, 0, "seed", 4);
    assert_int_equal(codec_decode(r.b, r.n, &out), CKR_OK);
    assert_int_equal(codec_encode(&out, &buf, &len), CKR_OK);
    assert_int_equal(len, r.n);
    size_t value_flags = 8 + 13 + sizeof(CK_ULONG) + 8;
    size_t seed_flags = value_flags + 5 + 6 + 8;
    for (size_t i = 0; i < len; i++) {
        if (i == value_flags || i == seed_flags) {
            assert_int_equal(r.b[i], 0);
            assert_int_equal(buf[i], 1);
        } else {
            assert_int_equal(buf[i], r.b[i]);
        }
    }
    codec_buffer_free(buf, len);
    attrs_free(&out);
}

static void test_every_single_byte_flip(void **state)
{
    (void)state;
    /* Any one corrupted byte either decodes to something that encodes back
     * to exactly those bytes, or is rejected: never a crash or a leak. */
    struct attrs a;
    unsigned char *buf = NULL;
    size_t len = 0;
    rich_list(&a);
    assert_int_equal(codec_encode(&a, &buf, &len), CKR_OK);
    unsigned char *copy = malloc(len);
    assert_non_null(copy);
    size_t accepted = 0;
    for (size_t i = 0; i < len; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            struct attrs out = {0};
            memcpy(copy, buf, len);
            copy[i] ^= (unsigned char)(1u << bit);
            CK_RV rv = codec_decode(copy, len, &out);
            assert_true(rv == CKR_OK || rv == CKR_DEVICE_ERROR);
            if (rv == CKR_OK) {
                unsigned char *again = NULL;
                size_t again_len = 0;
                accepted++;
                assert_int_equal(codec_encode(&out, &again, &again_len), CKR_OK);
                assert_int_equal(again_len, len);
                codec_buffer_free(again, again_len);
            }
            attrs_free(&out);
        }
    }
    assert_true(accepted > 0); /* value bytes are opaque */
    free(copy);
    codec_buffer_free(buf, len);
    attrs_free(&a);
}

static void test_encode_refuses_undecodable(void **state)
{
    (void)state;
    /* Lists the decoder would refuse are never written. */
    struct attrs a = {0};
    unsigned char *buf = NULL;
    size_t len = 0;
    unsigned char *big = calloc(1, ATTR_MAX_VALUE + 1);
    assert_non_null(big);
    assert_int_equal(attrs_set(&a, CKO_DATA, CKA_VALUE, big, ATTR_MAX_VALUE + 1), CKR_OK);
    assert_int_equal(codec_encode(&a, &buf, &len), CKR_GENERAL_ERROR);
    assert_null(buf);
    attrs_free(&a);
    for (CK_ULONG i = 0; i <= CODEC_MAX_ATTRS; i++)
        assert_int_equal(attrs_set_bool(&a, CKA_VENDOR_DEFINED + i, true), CKR_OK);
    assert_int_equal(codec_encode(&a, &buf, &len), CKR_GENERAL_ERROR);
    attrs_remove(&a, CKA_VENDOR_DEFINED);
    assert_int_equal(codec_encode(&a, &buf, &len), CKR_OK);
    codec_buffer_free(buf, len);
    attrs_free(&a);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_rich),
        cmocka_unit_test(test_exact_bytes),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_count_bounds),
        cmocka_unit_test(test_value_length_bounds),
        cmocka_unit_test(test_unsorted_and_duplicate),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_secret_flag_normalised),
        cmocka_unit_test(test_every_single_byte_flip),
        cmocka_unit_test(test_encode_refuses_undecodable),
    };
    return cmocka_run_group_tests_name("codec", tests, setup_crypto, NULL);
}
