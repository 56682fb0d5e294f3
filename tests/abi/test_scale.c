/*
 * No small cap on objects: one million objects in one token (session
 * objects, so the test is not bound by fsync; token objects share the same
 * collection and the store has no cap either), found by label, then freed
 * when the session closes.  CRATON_SCALE_OBJECTS overrides the count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "abi_util.h"

#define SCALE_DEFAULT 1000000UL

static void test_million_objects(void **state)
{
    (void)state;
    struct abi a;
    memset(&a, 0, sizeof(a));
    const char *env = getenv("CRATON_SCALE_OBJECTS");
    unsigned long count = env != NULL ? strtoul(env, NULL, 10) : SCALE_DEFAULT;
    assert_int_equal(abi_scratch(&a, "[token]\npersist_objects = false\n" ABI_FAST_CONFIG), 0);
    assert_int_equal(abi_open(&a), 0);
    CK_FUNCTION_LIST_3_2 *f = a.f;
    CK_UTF8CHAR label32[32];
    memset(label32, ' ', sizeof(label32));
    CK_SESSION_HANDLE h;
    assert_int_equal(f->C_Initialize(NULL), CKR_OK);
    assert_int_equal(f->C_InitToken(0, (CK_UTF8CHAR_PTR) "12345678", 8, label32), CKR_OK);
    assert_int_equal(f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h),
                     CKR_OK);
    CK_OBJECT_CLASS cls = CKO_DATA;
    char label[32];
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_LABEL, label, 0}};
    for (unsigned long i = 0; i < count; i++) {
        CK_OBJECT_HANDLE o;
        t[1].ulValueLen = (CK_ULONG)snprintf(label, sizeof(label), "o%lu", i);
        CK_RV rv = f->C_CreateObject(h, t, 2, &o);
        if (rv != CKR_OK)
            fail_msg("object %lu: C_CreateObject returned 0x%lx", i, rv);
    }
    for (unsigned long i = 0; i < count; i += count / 50 + 1) {
        CK_OBJECT_HANDLE found[2];
        CK_ULONG n = 0;
        t[1].ulValueLen = (CK_ULONG)snprintf(label, sizeof(label), "o%lu", i);
        assert_int_equal(f->C_FindObjectsInit(h, &t[1], 1), CKR_OK);
        assert_int_equal(f->C_FindObjects(h, found, 2, &n), CKR_OK);
        assert_int_equal(f->C_FindObjectsFinal(h), CKR_OK);
        assert_int_equal(n, 1);
    }
    /* Everything goes with the session. */
    assert_int_equal(f->C_CloseSession(h), CKR_OK);
    assert_int_equal(f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &h), CKR_OK);
    CK_OBJECT_HANDLE found[2];
    CK_ULONG n = 1;
    assert_int_equal(f->C_FindObjectsInit(h, &t[0], 1), CKR_OK);
    assert_int_equal(f->C_FindObjects(h, found, 2, &n), CKR_OK);
    assert_int_equal(n, 0);
    print_message("# %lu objects created, sampled and freed\n", count);
    assert_int_equal(f->C_Finalize(NULL), CKR_OK);
    abi_close(&a);
    abi_rm_scratch(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_million_objects),
    };
    return cmocka_run_group_tests_name("scale", tests, NULL, NULL);
}
