/*
 * Unit tests for src/common/ck_names: the generated value -> name tables of
 * PKCS#11 constants and their lookup helpers.
 */
#include "unit_util.h"

#include <errno.h>
#include <pthread.h>

#include "common/ck_names.h"

static const char *const KINDS[] = {
    "CKR", "CKM", "CKA", "CKO", "CKK", "CKU", "CKS", "CKC", "CKD", "CKG", "CKZ", "CKH",
};

/* ---- helpers ------------------------------------------------------------ */

/* "CKR_0x0000ABCD": the prefix, "_0x" and exactly the value in hex. */
static void assert_hex_name(const char *name, const char *kind, CK_ULONG value)
{
    size_t k = strlen(kind);
    assert_non_null(name);
    assert_memory_equal(name, kind, k);
    assert_memory_equal(name + k, "_0x", 3);
    char *end = NULL;
    errno = 0;
    unsigned long parsed = strtoul(name + k + 3, &end, 16);
    assert_int_equal(errno, 0);
    assert_true(end != name + k + 3);
    assert_int_equal(*end, '\0');
    assert_int_equal(parsed, value);
}

static void *format_in_thread(void *arg)
{
    const char *name = ck_rv_name(0x00ABCDEFUL);
    strcpy(arg, name); /* 32 bytes is ample for "CKR_0x00ABCDEF" */
    return NULL;
}

/* ---- tests -------------------------------------------------------------- */

static void test_rv_names(void **state)
{
    (void)state;
    assert_string_equal(ck_rv_name(CKR_OK), "CKR_OK");
    assert_string_equal(ck_rv_name(CKR_PIN_LOCKED), "CKR_PIN_LOCKED");
    assert_string_equal(ck_rv_name(CKR_PIN_INCORRECT), "CKR_PIN_INCORRECT");
    assert_string_equal(ck_rv_name(CKR_SESSION_READ_WRITE_SO_EXISTS),
                        "CKR_SESSION_READ_WRITE_SO_EXISTS");
    assert_string_equal(ck_rv_name(CKR_VENDOR_DEFINED), "CKR_VENDOR_DEFINED");
    assert_string_equal(ck_name("CKR", CKR_DEVICE_ERROR), "CKR_DEVICE_ERROR");
}

static void test_unknown_values_format_as_hex(void **state)
{
    (void)state;
    assert_null(ck_name("CKR", 0x00000004UL)); /* a gap in the CKR_* numbers */
    assert_hex_name(ck_rv_name(0x00000004UL), "CKR", 0x00000004UL);
    assert_hex_name(ck_rv_name(0x7FFFFFF1UL), "CKR", 0x7FFFFFF1UL);
    assert_hex_name(ck_mechanism_name(0x7FFFFFF2UL), "CKM", 0x7FFFFFF2UL);
    assert_hex_name(ck_attribute_name(0x7FFFFFF3UL), "CKA", 0x7FFFFFF3UL);
    assert_string_equal(ck_rv_name(0x12345UL), "CKR_0x00012345");
}

static void test_hex_buffer_is_per_thread(void **state)
{
    (void)state;
    char other[32] = "";
    const char *mine = ck_rv_name(0x00000111UL);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, format_in_thread, other), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_string_equal(other, "CKR_0x00ABCDEF");
    assert_string_equal(mine, "CKR_0x00000111");
}

static void test_mechanism_and_attribute_names(void **state)
{
    (void)state;
    assert_string_equal(ck_mechanism_name(CKM_ML_DSA), "CKM_ML_DSA");
    assert_string_equal(ck_mechanism_name(CKM_SHA256), "CKM_SHA256");
    /* Where the spec keeps a deprecated alias, the current name wins. */
    assert_string_equal(ck_attribute_name(CKA_EC_PARAMS), "CKA_EC_PARAMS");
    assert_string_equal(ck_mechanism_name(CKM_EC_KEY_PAIR_GEN), "CKM_EC_KEY_PAIR_GEN");
    assert_string_equal(ck_name("CKK", CKK_EC), "CKK_EC");
    assert_string_equal(ck_attribute_name(CKA_VALUE), "CKA_VALUE");
    assert_string_equal(ck_name("CKU", CKU_SO), "CKU_SO");
    assert_string_equal(ck_name("CKS", CKS_RW_SO_FUNCTIONS), "CKS_RW_SO_FUNCTIONS");
    assert_string_equal(ck_name("CKO", CKO_SECRET_KEY), "CKO_SECRET_KEY");
}

static void test_tables_sorted_and_prefixed(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(KINDS); i++) {
        const struct ck_name_table *t = ck_name_table_for(KINDS[i]);
        assert_non_null(t);
        assert_string_equal(t->kind, KINDS[i]);
        assert_non_null(t->entries);
        assert_true(t->count > 0);
        size_t k = strlen(KINDS[i]);
        for (size_t j = 0; j < t->count; j++) {
            const struct ck_name *e = &t->entries[j];
            assert_non_null(e->name);
            assert_memory_equal(e->name, KINDS[i], k);
            assert_int_equal(e->name[k], '_');
            if (j > 0 && t->entries[j - 1].value >= e->value)
                print_message("%s: %s (0x%lx) after %s (0x%lx)\n", KINDS[i], e->name,
                              (unsigned long)e->value, t->entries[j - 1].name,
                              (unsigned long)t->entries[j - 1].value);
            assert_true(j == 0 || t->entries[j - 1].value < e->value);
            /* The lookup finds every entry through the binary search. */
            assert_ptr_equal(ck_name(KINDS[i], e->value), e->name);
        }
    }
}

static void test_unknown_table(void **state)
{
    (void)state;
    assert_null(ck_name_table_for("XYZ"));
    assert_null(ck_name_table_for(""));
    assert_null(ck_name_table_for("CK"));
    assert_null(ck_name_table_for("CKRX"));
    assert_null(ck_name_table_for("ckr"));
    assert_null(ck_name("XYZ", CKR_OK));
    assert_ptr_equal(ck_name_table_for("CKR"), ck_name_table_for("CKR"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rv_names),
        cmocka_unit_test(test_unknown_values_format_as_hex),
        cmocka_unit_test(test_hex_buffer_is_per_thread),
        cmocka_unit_test(test_mechanism_and_attribute_names),
        cmocka_unit_test(test_tables_sorted_and_prefixed),
        cmocka_unit_test(test_unknown_table),
    };
    return cmocka_run_group_tests_name("names", tests, NULL, NULL);
}
