/*
 * Unit tests of the power-on self-tests (src/crypto/selftest.c): every KAT
 * passes with the module's library context; the test hook
 * CRATON_TEST_POST_FAIL=<name> makes exactly that test fail; the integrity
 * check fails closed (no sidecar beside a test executable, malformed or wrong
 * sidecar) and passes with a sidecar computed here from the ELF file, the
 * way scripts/integrity.py does it.
 */
#include "unit_util.h"

#include <dlfcn.h>
#include <elf.h>
#include <time.h>

#include <openssl/evp.h>

#include "crypto/selftest.h"

/* Must match st_integrity_key (src/crypto/selftest.c) and
 * scripts/integrity.py. */
static const char integrity_key[] = "craton-hsm module integrity v1";

static struct crypto *crypto;

static int setup(void **state)
{
    Dl_info info;
    char sidecar[PATH_MAX + 8];
    (void)state;
    unsetenv("CRATON_TEST_POST_FAIL");
    /* A sidecar left by an interrupted run of test_integrity_sidecar. */
    if (dladdr(integrity_key, &info) != 0 && info.dli_fname != NULL &&
        snprintf(sidecar, sizeof(sidecar), "%s.hmac", info.dli_fname) < (int)sizeof(sidecar))
        unlink(sidecar);
    if (crypto_global_init(0) != CKR_OK || crypto_new(&crypto) != CKR_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    crypto_free(crypto);
    crypto = NULL;
    unsetenv("CRATON_TEST_POST_FAIL");
    return 0;
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(selftest_name(0), "integrity");
    for (size_t i = 0; i < SELFTEST_COUNT; i++) {
        assert_non_null(selftest_name(i));
        assert_non_null(selftest_source(i));
        assert_true(strlen(selftest_source(i)) > 0);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(selftest_name(i), selftest_name(j));
    }
    assert_null(selftest_name(SELFTEST_COUNT));
    assert_null(selftest_source(SELFTEST_COUNT));
    struct selftest_result r;
    assert_int_equal(selftest_run_one(crypto, SELFTEST_COUNT, &r), CKR_GENERAL_ERROR);
    assert_false(r.passed);
}

/* Each KAT 1..16 passes on its own. */
static void test_each_kat_passes(void **state)
{
    (void)state;
    for (size_t i = 1; i < SELFTEST_COUNT; i++) {
        struct selftest_result r;
        CK_RV rv = selftest_run_one(crypto, i, &r);
        if (rv != CKR_OK)
            print_message("%s: %s\n", selftest_name(i), r.why);
        assert_int_equal(rv, CKR_OK);
        assert_true(r.passed);
        assert_string_equal(r.name, selftest_name(i));
        assert_string_equal(r.why, "");
        assert_true(r.ms >= 0);
    }
}

/* In a unit-test executable there is no sidecar: integrity fails (closed),
 * the other 16 pass, and run_all reports the failure. */
static void test_run_all_integrity_fails_without_sidecar(void **state)
{
    (void)state;
    struct selftest_result r[SELFTEST_COUNT];
    assert_int_equal(selftest_run_all(crypto, r), CKR_GENERAL_ERROR);
    assert_false(r[0].passed);
    assert_non_null(strstr(r[0].why, ".hmac"));
    for (size_t i = 1; i < SELFTEST_COUNT; i++) {
        if (!r[i].passed)
            print_message("%s: %s\n", r[i].name, r[i].why);
        assert_true(r[i].passed);
    }
}

/* CRATON_TEST_POST_FAIL=<name> makes exactly that test fail, with a reason. */
static void test_hook_fails_exactly_one(void **state)
{
    (void)state;
    for (size_t i = 1; i < SELFTEST_COUNT; i++) {
        struct selftest_result r[SELFTEST_COUNT];
        assert_int_equal(setenv("CRATON_TEST_POST_FAIL", selftest_name(i), 1), 0);
        assert_int_equal(selftest_run_all(crypto, r), CKR_GENERAL_ERROR);
        for (size_t j = 1; j < SELFTEST_COUNT; j++) {
            if (r[j].passed != (j != i))
                print_message("hook %s: %s passed=%d (%s)\n", selftest_name(i), r[j].name,
                              r[j].passed, r[j].why);
            assert_true(r[j].passed == (j != i));
        }
        assert_true(strlen(r[i].why) > 0);
        printf("# hook %s: %s\n", selftest_name(i), r[i].why);
        /* The same test alone, and a name that is no test. */
        struct selftest_result one;
        assert_int_equal(selftest_run_one(crypto, i, &one), CKR_GENERAL_ERROR);
        assert_true(strlen(one.why) > 0);
    }
    assert_int_equal(setenv("CRATON_TEST_POST_FAIL", "no-such-test", 1), 0);
    struct selftest_result r[SELFTEST_COUNT];
    assert_int_equal(selftest_run_all(crypto, r), CKR_GENERAL_ERROR); /* integrity only */
    for (size_t j = 1; j < SELFTEST_COUNT; j++)
        assert_true(r[j].passed);
    unsetenv("CRATON_TEST_POST_FAIL");
}

/* ---- integrity with a sidecar beside this executable ------------------- */

/* The path of this executable as the self-test sees it (dladdr). */
static void exe_path(char out[PATH_MAX])
{
    Dl_info info;
    assert_true(dladdr(integrity_key, &info) != 0);
    assert_non_null(info.dli_fname);
    assert_true(strlen(info.dli_fname) > 0 && strlen(info.dli_fname) < PATH_MAX - 8);
    strcpy(out, info.dli_fname);
}

/* HMAC-SHA256 of the file's non-writable PT_LOAD segments (independent of
 * the module's code: reads the file, not memory), as lowercase hex. */
static void file_mac_hex(const char *path, char hex[65])
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size > (long)sizeof(Elf64_Ehdr));
    unsigned char *data = malloc((size_t)size);
    assert_non_null(data);
    rewind(f);
    assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    Elf64_Ehdr eh;
    memcpy(&eh, data, sizeof(eh));
    assert_int_equal(eh.e_ident[EI_CLASS], ELFCLASS64);
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    assert_int_equal(
        EVP_MAC_init(ctx, (const unsigned char *)integrity_key, strlen(integrity_key), params), 1);
    size_t segments = 0;
    for (size_t i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        assert_true(eh.e_phoff + (i + 1) * sizeof(ph) <= (size_t)size);
        memcpy(&ph, data + eh.e_phoff + i * eh.e_phentsize, sizeof(ph));
        if (ph.p_type != PT_LOAD || (ph.p_flags & PF_W) != 0)
            continue;
        assert_true(ph.p_offset + ph.p_filesz <= (size_t)size);
        assert_int_equal(EVP_MAC_update(ctx, data + ph.p_offset, ph.p_filesz), 1);
        segments++;
    }
    assert_true(segments > 0);
    unsigned char out[32];
    size_t out_len = 0;
    assert_int_equal(EVP_MAC_final(ctx, out, &out_len, sizeof(out)), 1);
    for (size_t i = 0; i < sizeof(out); i++)
        snprintf(hex + 2 * i, 3, "%02x", out[i]);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    free(data);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void expect_integrity(CK_RV want, const char *why_part)
{
    char why[SELFTEST_WHY_MAX];
    CK_RV rv = selftest_integrity(crypto, why);
    if (rv != want)
        print_message("integrity: rv %lu, why \"%s\"\n", rv, why);
    assert_int_equal(rv, want);
    if (want == CKR_OK)
        assert_string_equal(why, "");
    else if (why_part != NULL && strstr(why, why_part) == NULL)
        fail_msg("why \"%s\" lacks \"%s\"", why, why_part);
}

static void test_integrity_sidecar(void **state)
{
    (void)state;
    char exe[PATH_MAX], sidecar[PATH_MAX + 8], hex[65], text[80];
    exe_path(exe);
    snprintf(sidecar, sizeof(sidecar), "%s.hmac", exe);
    unlink(sidecar);
    expect_integrity(CKR_GENERAL_ERROR, "cannot open");

    file_mac_hex(exe, hex);
    snprintf(text, sizeof(text), "%s\n", hex);
    write_text(sidecar, text);
    expect_integrity(CKR_OK, NULL); /* memory == file for the read-only segments */
    write_text(sidecar, hex);       /* no newline is fine too */
    expect_integrity(CKR_OK, NULL);
    for (size_t i = 0; hex[i] != '\0'; i++) /* upper case hex is accepted */
        text[i] = (char)(hex[i] >= 'a' ? hex[i] - 'a' + 'A' : hex[i]);
    text[64] = '\0';
    write_text(sidecar, text);
    expect_integrity(CKR_OK, NULL);

    /* The hook corrupts the expected value: the real comparison fails. */
    setenv("CRATON_TEST_POST_FAIL", "integrity", 1);
    expect_integrity(CKR_GENERAL_ERROR, "differs");
    struct selftest_result r[SELFTEST_COUNT];
    assert_int_equal(selftest_run_all(crypto, r), CKR_GENERAL_ERROR);
    assert_false(r[0].passed);
    for (size_t i = 1; i < SELFTEST_COUNT; i++)
        assert_true(r[i].passed);
    unsetenv("CRATON_TEST_POST_FAIL");
    assert_int_equal(selftest_run_all(crypto, r), CKR_OK); /* all 17 with the sidecar */

    /* A wrong value (one hex digit changed in every position in turn would
     * be slow; the first, a middle and the last digit). */
    static const size_t pos[] = {0, 31, 63};
    for (size_t k = 0; k < sizeof(pos) / sizeof(pos[0]); k++) {
        snprintf(text, sizeof(text), "%s\n", hex);
        text[pos[k]] = text[pos[k]] == '0' ? '1' : '0';
        write_text(sidecar, text);
        expect_integrity(CKR_GENERAL_ERROR, "differs");
    }
    /* Malformed sidecars fail closed. */
    static const char *const bad[] = {
        "",         /* empty */
        "00112233", /* short */
        "zz",       /* not hex */
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        write_text(sidecar, bad[k]);
        expect_integrity(CKR_GENERAL_ERROR, "malformed");
    }
    snprintf(text, sizeof(text), "%s\n\n", hex); /* trailing garbage */
    write_text(sidecar, text);
    expect_integrity(CKR_GENERAL_ERROR, "malformed");
    snprintf(text, sizeof(text), "%.63sg\n", hex); /* one non-hex digit */
    write_text(sidecar, text);
    expect_integrity(CKR_GENERAL_ERROR, "malformed");
    snprintf(text, sizeof(text), " %s", hex); /* leading space */
    write_text(sidecar, text);
    expect_integrity(CKR_GENERAL_ERROR, "malformed");
    /* Unreadable: a directory in its place. */
    unlink(sidecar);
    assert_int_equal(mkdir(sidecar, 0700), 0);
    expect_integrity(CKR_GENERAL_ERROR, NULL);
    rmdir(sidecar);
    expect_integrity(CKR_GENERAL_ERROR, "cannot open");
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Timing (TAP comments, not assertions): per test, the median of 9 runs
 * in a fresh context each (the first run of a context pays for fetching). */
#define TIMING_RUNS 9

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void test_timing(void **state)
{
    (void)state;
    double ms[SELFTEST_COUNT][TIMING_RUNS], total[TIMING_RUNS];
    for (size_t k = 0; k < TIMING_RUNS; k++) {
        struct crypto *c = NULL;
        struct selftest_result r[SELFTEST_COUNT];
        assert_int_equal(crypto_new(&c), CKR_OK);
        double start = now_ms();
        CK_RV rv = selftest_run_all(c, r); /* integrity fails here: no sidecar */
        (void)rv;
        total[k] = now_ms() - start;
        for (size_t i = 0; i < SELFTEST_COUNT; i++)
            ms[i][k] = r[i].ms;
        crypto_free(c);
    }
    for (size_t i = 0; i < SELFTEST_COUNT; i++) {
        qsort(ms[i], TIMING_RUNS, sizeof(double), cmp_double);
        printf("# %-18s %7.3f ms (median of %d)\n", selftest_name(i), ms[i][TIMING_RUNS / 2],
               TIMING_RUNS);
    }
    qsort(total, TIMING_RUNS, sizeof(double), cmp_double);
    printf("# selftest_run_all  %7.3f ms (median; integrity without sidecar)\n",
           total[TIMING_RUNS / 2]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_each_kat_passes),
        cmocka_unit_test(test_run_all_integrity_fails_without_sidecar),
        cmocka_unit_test(test_hook_fails_exactly_one),
        cmocka_unit_test(test_integrity_sidecar),
        cmocka_unit_test(test_timing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
