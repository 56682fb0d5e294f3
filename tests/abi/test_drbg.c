/*
 * The module's DRBG through the ABI: request sizes, C_SeedRandom, fork
 * (children that re-initialise draw their own streams; one that does not is
 * refused), and the entropy source's health tests putting the module in its
 * error state (test builds: CRATON_TEST_ENTROPY_STUCK).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/wait.h>

#include "abi_util.h"

#define EQ(a, b)       assert_int_equal((a), (b))
#define RV(call, want) assert_int_equal((call), (want))
#define OK(call)       RV(call, CKR_OK)

#define CFG      "[token]\npersist_objects = false\n" ABI_FAST_CONFIG
#define DRAW     32
#define MIB      (1024 * 1024)
#define CHILDREN 2

static struct abi A;
static CK_FUNCTION_LIST_3_2 *f;

static int setup(void **state)
{
    (void)state;
    if (abi_scratch(&A, CFG) != 0 || abi_open(&A) != 0)
        return -1;
    f = A.f;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unsetenv("CRATON_TEST_ENTROPY_STUCK");
    if (f != NULL)
        f->C_Finalize(NULL);
    abi_close(&A);
    abi_rm_scratch(&A);
    f = NULL;
    return 0;
}

/* C_Initialize, and the (memory-only) token initialised. */
static CK_RV start(void)
{
    static CK_UTF8CHAR label[32] = "DRBG ABI                        ";
    CK_RV rv = f->C_Initialize(NULL);
    if (rv == CKR_OK)
        rv = f->C_InitToken(0, (CK_UTF8CHAR_PTR) "12345678", 8, label);
    return rv;
}

static CK_SESSION_HANDLE session(void)
{
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    OK(f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s));
    return s;
}

/* ---- sizes and C_SeedRandom ---------------------------------------------- */

static void test_sizes(void **state)
{
    (void)state;
    OK(start());
    CK_SESSION_HANDLE s = session();
    unsigned char small[DRAW];
    memset(small, 0xee, sizeof(small));
    OK(f->C_GenerateRandom(s, NULL, 0));
    OK(f->C_GenerateRandom(s, small, 0));
    for (size_t i = 0; i < sizeof(small); i++)
        EQ(small[i], 0xee); /* 0 bytes: nothing written */
    RV(f->C_GenerateRandom(s, NULL, 1), CKR_ARGUMENTS_BAD);

    /* 1 MiB: 16 times the HMAC-DRBG's largest request (65536 bytes). */
    unsigned char *big = calloc(1, MIB);
    assert_non_null(big);
    OK(f->C_GenerateRandom(s, big, MIB));
    size_t zeros = 0;
    for (size_t i = 0; i < MIB; i++)
        zeros += big[i] == 0;
    /* Expected 4096 (sd 64): a block left unwritten would push it up. */
    assert_true(zeros > 3500 && zeros < 4700);
    for (size_t blk = 1; blk < MIB / 65536; blk++)
        assert_memory_not_equal(big, big + blk * 65536, 64);
    static const unsigned char nil[64];
    assert_memory_not_equal(big + MIB - 64, nil, 64);
    free(big);
    OK(f->C_CloseSession(s));
}

/* C_SeedRandom mixes data in; it never replaces the entropy source, so the
 * same seed in two module instances still gives different streams. */
static void test_seed_random(void **state)
{
    (void)state;
    static const char seed[] = "the same seed every time";
    unsigned char a[DRAW], b[DRAW], c[DRAW];
    OK(start());
    CK_SESSION_HANDLE s = session();
    OK(f->C_GenerateRandom(s, a, sizeof(a)));
    OK(f->C_SeedRandom(s, (CK_BYTE_PTR)seed, sizeof(seed)));
    OK(f->C_GenerateRandom(s, b, sizeof(b)));
    assert_memory_not_equal(a, b, sizeof(a));
    OK(f->C_SeedRandom(s, NULL, 0));
    RV(f->C_SeedRandom(s, NULL, 1), CKR_ARGUMENTS_BAD);
    OK(f->C_Finalize(NULL));

    OK(start());
    s = session();
    OK(f->C_SeedRandom(s, (CK_BYTE_PTR)seed, sizeof(seed)));
    OK(f->C_GenerateRandom(s, c, sizeof(c)));
    assert_memory_not_equal(b, c, sizeof(b));
    OK(f->C_Finalize(NULL));
}

/* ---- fork ---------------------------------------------------------------- */

/* The child's side: its own config (own audit log), C_Initialize, two
 * draws to fd.  Reports with the exit status; never returns. */
static void child_draw(int fd, int index)
{
    char path[PATH_MAX + 32], body[256];
    unsigned char out[2 * DRAW];
    CK_SESSION_HANDLE s;
    int status = 1;
    snprintf(path, sizeof(path), "%s/child-%d.toml", A.dir, index);
    snprintf(body, sizeof(body), "%s[audit]\nlog_path = \"audit-child-%d.jsonl\"\n", CFG, index);
    FILE *cf = fopen(path, "w");
    if (cf == NULL)
        _exit(2);
    fputs(body, cf);
    fclose(cf);
    chmod(path, 0600);
    setenv("CRATON_HSM_CONFIG", path, 1);
    if (start() != CKR_OK)
        _exit(3);
    if (f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK)
        _exit(4);
    if (f->C_GenerateRandom(s, out, DRAW) != CKR_OK ||
        f->C_GenerateRandom(s, out + DRAW, DRAW) != CKR_OK)
        _exit(5);
    if (write(fd, out, sizeof(out)) == (ssize_t)sizeof(out))
        status = 0;
    f->C_Finalize(NULL);
    _exit(status);
}

static void read_all(int fd, unsigned char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = read(fd, buf, len);
        assert_true(n > 0);
        buf += n;
        len -= (size_t)n;
    }
}

static void wait_ok(pid_t pid)
{
    int status = 0;
    EQ(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    EQ(WEXITSTATUS(status), 0);
}

/* Two children re-initialise and draw; the parent draws after the fork:
 * the six 32-byte outputs are pairwise different. */
static void test_fork_children_reseed(void **state)
{
    (void)state;
    unsigned char out[CHILDREN + 1][2 * DRAW], before[DRAW];
    int fds[CHILDREN][2];
    pid_t pids[CHILDREN];
    OK(start());
    CK_SESSION_HANDLE s = session();
    /* The parent's DRBG is instantiated and in use before the fork. */
    OK(f->C_GenerateRandom(s, before, sizeof(before)));
    for (int i = 0; i < CHILDREN; i++) {
        assert_int_equal(pipe(fds[i]), 0);
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(fds[i][0]);
            child_draw(fds[i][1], i);
        }
        close(fds[i][1]);
    }
    OK(f->C_GenerateRandom(s, out[CHILDREN], DRAW));
    OK(f->C_GenerateRandom(s, out[CHILDREN] + DRAW, DRAW));
    for (int i = 0; i < CHILDREN; i++) {
        read_all(fds[i][0], out[i], sizeof(out[i]));
        close(fds[i][0]);
        wait_ok(pids[i]);
    }
    /* Every 32-byte draw differs from every other one. */
    const unsigned char *draws[2 * (CHILDREN + 1) + 1];
    size_t n = 0;
    for (int i = 0; i <= CHILDREN; i++) {
        draws[n++] = out[i];
        draws[n++] = out[i] + DRAW;
    }
    draws[n++] = before;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            assert_memory_not_equal(draws[i], draws[j], DRAW);
    OK(f->C_CloseSession(s));
}

/* A child that does not call C_Initialize is not initialised (PKCS#11
 * 5.1: a forked child must re-initialise); the parent carries on. */
static void test_fork_without_reinit_refused(void **state)
{
    (void)state;
    unsigned char buf[DRAW];
    OK(start());
    CK_SESSION_HANDLE s = session();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        CK_SESSION_HANDLE s2;
        CK_RV a = f->C_GenerateRandom(s, buf, sizeof(buf));
        CK_RV b = f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s2);
        CK_RV c = f->C_SeedRandom(s, buf, 1);
        _exit(a == CKR_CRYPTOKI_NOT_INITIALIZED && b == CKR_CRYPTOKI_NOT_INITIALIZED &&
                      c == CKR_CRYPTOKI_NOT_INITIALIZED
                  ? 0
                  : 1);
    }
    wait_ok(pid);
    OK(f->C_GenerateRandom(s, buf, sizeof(buf)));
    OK(f->C_CloseSession(s));
}

/* ---- entropy source failure ---------------------------------------------- */

#ifdef CRATON_TEST_HOOKS
/* The source turns constant after a healthy start: the reseed C_SeedRandom
 * forces fails the repetition count test, and the module is in its error
 * state until C_Finalize + C_Initialize. */
static void test_stuck_source_error_state(void **state)
{
    (void)state;
    unsigned char buf[DRAW];
    OK(start());
    CK_SESSION_HANDLE s = session();
    OK(f->C_GenerateRandom(s, buf, sizeof(buf)));
    setenv("CRATON_TEST_ENTROPY_STUCK", "1", 1);
    assert_int_not_equal(f->C_SeedRandom(s, buf, sizeof(buf)), CKR_OK);
    unsetenv("CRATON_TEST_ENTROPY_STUCK");
    RV(f->C_GenerateRandom(s, buf, sizeof(buf)), CKR_GENERAL_ERROR);
    CK_SESSION_HANDLE s2;
    RV(f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s2), CKR_GENERAL_ERROR);
    CK_INFO info;
    RV(f->C_GetInfo(&info), CKR_GENERAL_ERROR);
    OK(f->C_Finalize(NULL));
    /* A new instance has a new source with a new start-up test. */
    OK(start());
    s = session();
    OK(f->C_GenerateRandom(s, buf, sizeof(buf)));
    OK(f->C_Finalize(NULL));
}

/* Key generation reseeds with prediction resistance: a stuck source makes
 * it fail, and the module enters the error state. */
static void test_stuck_source_keygen(void **state)
{
    (void)state;
    CK_MECHANISM mech = {CKM_AES_KEY_GEN, NULL, 0};
    CK_ULONG len = 32;
    CK_BBOOL no = CK_FALSE;
    CK_ATTRIBUTE tmpl[] = {{CKA_VALUE_LEN, &len, sizeof(len)},
                           {CKA_TOKEN, &no, sizeof(no)},
                           {CKA_PRIVATE, &no, sizeof(no)}};
    CK_OBJECT_HANDLE k;
    OK(start());
    CK_SESSION_HANDLE s = session();
    OK(f->C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR) "12345678", 8));
    OK(f->C_InitPIN(s, (CK_UTF8CHAR_PTR) "87654321", 8));
    OK(f->C_Logout(s));
    OK(f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) "87654321", 8));
    OK(f->C_GenerateKey(s, &mech, tmpl, 3, &k));
    setenv("CRATON_TEST_ENTROPY_STUCK", "1", 1);
    assert_int_not_equal(f->C_GenerateKey(s, &mech, tmpl, 3, &k), CKR_OK);
    unsetenv("CRATON_TEST_ENTROPY_STUCK");
    RV(f->C_GenerateKey(s, &mech, tmpl, 3, &k), CKR_GENERAL_ERROR);
    OK(f->C_Finalize(NULL));
}

/* Stuck from the start: the start-up test fails C_Initialize itself. */
static void test_stuck_source_at_start(void **state)
{
    (void)state;
    setenv("CRATON_TEST_ENTROPY_STUCK", "1", 1);
    assert_int_not_equal(start(), CKR_OK);
    unsetenv("CRATON_TEST_ENTROPY_STUCK");
    f->C_Finalize(NULL);
    OK(start());
    OK(f->C_Finalize(NULL));
}
#endif

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_sizes),
        T(test_seed_random),
        T(test_fork_children_reseed),
        T(test_fork_without_reinit_refused),
#ifdef CRATON_TEST_HOOKS
        T(test_stuck_source_error_state),
        T(test_stuck_source_keygen),
        T(test_stuck_source_at_start),
#endif
    };
#undef T
    return cmocka_run_group_tests_name("abi-drbg", tests, NULL, NULL);
}
