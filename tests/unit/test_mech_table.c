/*
 * Unit tests of the mechanism table (src/mech/mech_table.c): it is what
 * C_GetMechanismList, C_GetMechanismInfo and policy derive from, so its rows
 * must be unique, findable, backed by the function their flags promise, and
 * filtered as the configuration says.
 */
#include "unit_util.h"

#include "mech/mech.h"

static struct config cfg;

static int setup(void **state)
{
    (void)state;
    return config_defaults(&cfg) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    config_free(&cfg);
    return 0;
}

static CK_MECHANISM_TYPE *list(const struct config *c, CK_ULONG *n)
{
    assert_int_equal(mech_list(c, NULL, n), CKR_OK);
    CK_MECHANISM_TYPE *v = calloc(*n + 1, sizeof(*v));
    assert_non_null(v);
    CK_ULONG short_n = *n - 1;
    assert_int_equal(mech_list(c, v, &short_n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(short_n, *n);
    assert_int_equal(mech_list(c, v, n), CKR_OK);
    return v;
}

/* Every listed type once, found by mech_find, with info and a family that
 * has the entry point its flags need. */
static void test_rows_consistent(void **state)
{
    (void)state;
    CK_ULONG n = 0;
    CK_MECHANISM_TYPE *v = list(&cfg, &n);
    assert_true(n > 80);
    for (CK_ULONG i = 0; i < n; i++) {
        for (CK_ULONG j = i + 1; j < n; j++)
            assert_int_not_equal(v[i], v[j]);
        const struct mech_desc *d = mech_find(v[i]);
        assert_non_null(d);
        assert_int_equal(d->type, v[i]);
        CK_MECHANISM_INFO info;
        assert_int_equal(mech_info(&cfg, v[i], &info), CKR_OK);
        assert_true(info.ulMinKeySize <= info.ulMaxKeySize);
        const CK_FLAGS ops = CKF_ENCRYPT | CKF_DECRYPT | CKF_DIGEST | CKF_SIGN | CKF_VERIFY |
                             CKF_SIGN_RECOVER | CKF_VERIFY_RECOVER | CKF_WRAP | CKF_UNWRAP |
                             CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT;
        if (d->flags & ops)
            assert_non_null(d->family->init);
        if (d->flags & CKF_GENERATE)
            assert_non_null(d->family->generate);
        if (d->flags & CKF_GENERATE_KEY_PAIR)
            assert_non_null(d->family->generate_pair);
        if (d->flags & CKF_DERIVE)
            assert_non_null(d->family->derive);
        if (d->flags & CKF_DIGEST)
            assert_non_null(d->alg);
    }
    assert_null(mech_find(CKM_MD5));
    assert_null(mech_find(CKM_DES_ECB));
    assert_null(mech_find(CKM_VENDOR_DEFINED | 0x12345));
    free(v);
}

/* Policy: approved-only drops the unapproved rows, SHA-1 signing is
 * verify-only by default, weak RSA changes the reported minimum. */
static void test_policy(void **state)
{
    (void)state;
    CK_MECHANISM_INFO info;
    const struct mech_desc *d = NULL;
    CK_MECHANISM m = {CKM_SHA1_RSA_PKCS, NULL, 0};
    assert_int_equal(mech_info(&cfg, CKM_SHA1_RSA_PKCS, &info), CKR_OK);
    assert_false(info.flags & CKF_SIGN);
    assert_true(info.flags & CKF_VERIFY);
    assert_int_equal(mech_lookup(&cfg, &m, CKF_SIGN, &d), CKR_MECHANISM_INVALID);
    assert_int_equal(mech_lookup(&cfg, &m, CKF_VERIFY, &d), CKR_OK);
    assert_int_equal(mech_info(&cfg, CKM_RSA_PKCS_PSS, &info), CKR_OK);
    assert_int_equal(info.ulMinKeySize, 2048);

    struct config c2 = cfg;
    c2.allow_sha1_signing = true;
    c2.allow_weak_rsa = true;
    assert_int_equal(mech_lookup(&c2, &m, CKF_SIGN, &d), CKR_OK);
    assert_int_equal(mech_info(&c2, CKM_RSA_PKCS_PSS, &info), CKR_OK);
    assert_int_equal(info.ulMinKeySize, 1024);

    struct config fips = cfg;
    fips.fips_approved_only = true;
    CK_ULONG n = 0, nall = 0;
    CK_MECHANISM_TYPE *v = list(&fips, &n), *all = list(&cfg, &nall);
    assert_true(n < nall);
    for (CK_ULONG i = 0; i < n; i++) {
        assert_true(mech_find(v[i])->policy & MECH_APPROVED);
        assert_int_not_equal(v[i], CKM_DES3_CBC);
        assert_int_not_equal(v[i], CKM_RSA_X_509); /* SHA-1 digests are approved */
    }
    m.mechanism = CKM_DES3_CBC;
    assert_int_equal(mech_lookup(&fips, &m, CKF_ENCRYPT, &d), CKR_MECHANISM_INVALID);
    assert_int_equal(mech_info(&fips, CKM_DES3_KEY_GEN, &info), CKR_MECHANISM_INVALID);
    free(v);
    free(all);
}

/* Lookup argument checks. */
static void test_lookup_args(void **state)
{
    (void)state;
    const struct mech_desc *d = NULL;
    CK_MECHANISM m = {CKM_SHA256, NULL, 4};
    assert_int_equal(mech_lookup(&cfg, NULL, CKF_DIGEST, &d), CKR_ARGUMENTS_BAD);
    assert_int_equal(mech_lookup(&cfg, &m, CKF_DIGEST, &d), CKR_MECHANISM_PARAM_INVALID);
    m.ulParameterLen = 0;
    assert_int_equal(mech_lookup(&cfg, &m, CKF_SIGN, &d), CKR_MECHANISM_INVALID);
    assert_int_equal(mech_lookup(&cfg, &m, CKF_DIGEST, &d), CKR_OK);
    assert_int_equal(d->type, CKM_SHA256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_consistent),
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_lookup_args),
    };
    return cmocka_run_group_tests_name("mech_table", tests, setup, teardown);
}
