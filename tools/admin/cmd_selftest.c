/* craton-admin selftest */
#include "admin.h"

#include <stdio.h>
#include <string.h>

static const char help_selftest[] =
    "Usage: craton-admin selftest [--json]\n\n"
    "Runs the module's power-on self-tests again (module integrity and the\n"
    "known-answer tests) and prints each one: name, PASS/FAIL, time, the source of\n"
    "its vector.  A failure puts the module in its error state (see 'status') and\n"
    "exits 1.\n\n"
    "Examples:\n"
    "  craton-admin selftest\n"
    "  craton-admin --json selftest\n";

int cmd_selftest(struct admin *a, int argc, char **argv)
{
    CK_CRATON_SELFTEST_RESULT res[CRATON_SELFTEST_COUNT];
    CK_ULONG n = CRATON_SELFTEST_COUNT;
    memset(res, 0, sizeof(res));
    int rc = adm_parse(a, "selftest", help_selftest, argc, argv, NULL, NULL, 0, NULL);
    if (rc != ADM_OK)
        return rc;
    if ((rc = adm_load(a, true)) != ADM_OK)
        return rc;
    CK_CRATON_ADMIN_FUNCTION_LIST *v = adm_vendor(a, "selftest");
    if (v == NULL)
        return ADM_FAIL;
    CK_RV rv = v->CRATON_SelfTest(res, &n);
    if (rv != CKR_OK && rv != CKR_GENERAL_ERROR)
        return adm_ck_error(a, rv, (CK_USER_TYPE)-1, "CRATON_SelfTest");
    if (n > CRATON_SELFTEST_COUNT)
        n = CRATON_SELFTEST_COUNT;
    CK_ULONG passed = 0;
    json_t *arr = a->json ? json_array() : NULL;
    for (CK_ULONG i = 0; i < n; i++) {
        char name[sizeof(res[i].name) + 1], src[sizeof(res[i].source) + 1],
            why[sizeof(res[i].why) + 1];
        snprintf(name, sizeof(name), "%.*s", (int)sizeof(res[i].name), res[i].name);
        snprintf(src, sizeof(src), "%.*s", (int)sizeof(res[i].source), res[i].source);
        snprintf(why, sizeof(why), "%.*s", (int)sizeof(res[i].why), res[i].why);
        bool ok = res[i].passed == CK_TRUE;
        passed += ok;
        if (a->json) {
            json_array_append_new(arr, json_pack("{s:s, s:b, s:f, s:s, s:s?}", "name", name,
                                                 "passed", ok, "ms", res[i].micros / 1000.0,
                                                 "source", src, "why", ok ? NULL : why));
        } else {
            printf("%-20s %-4s %9.3f ms  %s\n", name, ok ? "pass" : "FAIL", res[i].micros / 1000.0,
                   src);
            if (!ok)
                printf("%-20s      %s\n", "", why);
        }
    }
    if (a->json)
        adm_json_print(json_pack("{s:I, s:I, s:o}", "passed", (json_int_t)passed, "total",
                                 (json_int_t)n, "tests", arr));
    else
        printf("%lu of %lu self-tests passed.\n", (unsigned long)passed, (unsigned long)n);
    if (rv != CKR_OK || passed != n) {
        adm_error("a self-test failed: the module is now in its error state (every call "
                  "returns CKR_GENERAL_ERROR); see '%s status' for the reason; a new "
                  "C_Initialize (restart the application) runs the tests again",
                  ADM_PROG);
        return ADM_FAIL;
    }
    return ADM_OK;
}
