/*
 * Power-on self-tests through the built module: C_Initialize passes with
 * the integrity sidecar; each of the 17 tests forced to fail (test hook
 * CRATON_TEST_POST_FAIL=<name>) makes C_Initialize fail, names the test on
 * stderr and leaves the module in its error state until C_Finalize; a
 * module copy with one byte of read-only data changed, or without its
 * sidecar, does not initialise.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "abi_util.h"

/* The table of src/crypto/selftest.c, in order (the module exports only the
 * PKCS#11 entry points, so the names are repeated here: a renamed test
 * makes the hook miss and this test fail). */
static const char *const post_names[] = {
    "integrity",         "SHA-256",       "SHA-384/SHA-512", "SHA3-256",   "HMAC-SHA256",
    "AES-256-GCM",       "AES-256-CBC",   "AES-256-KW",      "RSA-2048",   "ECDSA-P256",
    "Ed25519",           "ECDH-P256",     "HMAC-DRBG",       "ML-KEM-768", "ML-DSA-65",
    "SLH-DSA-SHA2-128s", "PBKDF2-SHA256",
};
#define POST_COUNT (sizeof(post_names) / sizeof(post_names[0]))

/* A string constant of the module that only the self-test table holds (in
 * .rodata, a read-only segment that is not code). */
static const char rodata_marker[] = "GCM specification test case 16; modified tag rejected";

struct fixture {
    struct abi a;
    CK_SLOT_ID slot;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (fx == NULL)
        return -1;
    unsetenv("CRATON_TEST_POST_FAIL");
    if (abi_scratch(&fx->a, ABI_FAST_CONFIG) != 0 || abi_open(&fx->a) != 0) {
        abi_close(&fx->a);
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    unsetenv("CRATON_TEST_POST_FAIL");
    if (fx->a.f != NULL)
        fx->a.f->C_Finalize(NULL);
    abi_close(&fx->a);
    abi_rm_scratch(&fx->a);
    free(fx);
    return 0;
}

/* ---- stderr capture ------------------------------------------------------ */

struct capture {
    int saved;
    int fd;
};

static void capture_start(struct capture *c, const char *dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/stderr-XXXXXX", dir);
    c->fd = mkstemp(path);
    assert_true(c->fd >= 0);
    unlink(path);
    fflush(stderr);
    c->saved = dup(STDERR_FILENO);
    assert_true(c->saved >= 0);
    assert_true(dup2(c->fd, STDERR_FILENO) >= 0);
}

/* Restores stderr; returns what was written (malloc'd, NUL-terminated) and
 * echoes it to the real stderr. */
static char *capture_end(struct capture *c)
{
    fflush(stderr);
    assert_true(dup2(c->saved, STDERR_FILENO) >= 0);
    close(c->saved);
    off_t size = lseek(c->fd, 0, SEEK_END);
    assert_true(size >= 0);
    char *text = calloc(1, (size_t)size + 1);
    assert_non_null(text);
    assert_int_equal(pread(c->fd, text, (size_t)size, 0), (ssize_t)size);
    close(c->fd);
    fputs(text, stderr);
    return text;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* C_Initialize and a few calls work; remembers the first slot. */
static void expect_working(struct fixture *fx)
{
    CK_FUNCTION_LIST_3_2 *f = fx->a.f;
    CK_INFO info;
    CK_ULONG n = 0;
    assert_int_equal(f->C_GetInfo(&info), CKR_OK);
    assert_int_equal(f->C_GetSlotList(CK_FALSE, NULL, &n), CKR_OK);
    assert_true(n >= 1);
    CK_SLOT_ID slots[8];
    n = 8;
    assert_int_equal(f->C_GetSlotList(CK_FALSE, slots, &n), CKR_OK);
    fx->slot = slots[0];
    CK_TOKEN_INFO ti;
    assert_int_equal(f->C_GetTokenInfo(fx->slot, &ti), CKR_OK);
}

static void test_initialize_passes(void **state)
{
    struct fixture *fx = *state;
    double start = now_ms();
    assert_int_equal(fx->a.f->C_Initialize(NULL), CKR_OK);
    double ms = now_ms() - start;
    expect_working(fx);
    assert_int_equal(fx->a.f->C_Finalize(NULL), CKR_OK);
    printf("# C_Initialize with the 17 self-tests: %.1f ms (this build)\n", ms);
}

/* For each test: forced failure -> C_Initialize fails naming it, every call
 * returns CKR_GENERAL_ERROR, C_Finalize leaves the state, and the next
 * C_Initialize (hook off) tests again and works. */
static void test_each_failure_enters_error_state(void **state)
{
    struct fixture *fx = *state;
    CK_FUNCTION_LIST_3_2 *f = fx->a.f;
    assert_int_equal(f->C_Initialize(NULL), CKR_OK);
    expect_working(fx);
    assert_int_equal(f->C_Finalize(NULL), CKR_OK);
    for (size_t i = 0; i < POST_COUNT; i++) {
        struct capture cap;
        assert_int_equal(setenv("CRATON_TEST_POST_FAIL", post_names[i], 1), 0);
        capture_start(&cap, fx->a.dir);
        CK_RV rv = f->C_Initialize(NULL);
        char *err = capture_end(&cap);
        if (rv != CKR_GENERAL_ERROR)
            fail_msg("%s: C_Initialize returned 0x%lx", post_names[i], rv);
        /* stderr names the failed test, and no other. */
        char line[128];
        snprintf(line, sizeof(line), "self-test %s failed", post_names[i]);
        if (strstr(err, line) == NULL)
            fail_msg("stderr lacks \"%s\":\n%s", line, err);
        for (size_t j = 0; j < POST_COUNT; j++) {
            snprintf(line, sizeof(line), "self-test %s failed", post_names[j]);
            if (j != i && strstr(err, line) != NULL)
                fail_msg("hook %s also failed %s", post_names[i], post_names[j]);
        }
        free(err);

        CK_INFO info;
        CK_ULONG n = 0;
        CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
        assert_int_equal(f->C_GetSlotList(CK_FALSE, NULL, &n), CKR_GENERAL_ERROR);
        assert_int_equal(f->C_GetInfo(&info), CKR_GENERAL_ERROR);
        assert_int_equal(f->C_OpenSession(fx->slot, CKF_SERIAL_SESSION, NULL, NULL, &h),
                         CKR_GENERAL_ERROR);
        assert_int_equal(f->C_Finalize(NULL), CKR_OK);

        assert_int_equal(unsetenv("CRATON_TEST_POST_FAIL"), 0);
        assert_int_equal(f->C_Initialize(NULL), CKR_OK);
        expect_working(fx);
        /* (the token is not initialised: CKR_TOKEN_NOT_RECOGNIZED, not the
         * error state's CKR_GENERAL_ERROR) */
        assert_int_equal(f->C_OpenSession(fx->slot, CKF_SERIAL_SESSION, NULL, NULL, &h),
                         CKR_TOKEN_NOT_RECOGNIZED);
        assert_int_equal(f->C_Finalize(NULL), CKR_OK);
    }
}

/* ---- integrity of module copies ---------------------------------------- */

static unsigned char *read_all(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    unsigned char *buf = malloc((size_t)st.st_size + 1);
    assert_non_null(buf);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        assert_true(r > 0);
        got += (size_t)r;
    }
    close(fd);
    *len = got;
    return buf;
}

static void write_all(const char *path, const unsigned char *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    assert_true(fd >= 0);
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, buf + done, len - done);
        assert_true(w > 0);
        done += (size_t)w;
    }
    assert_int_equal(close(fd), 0);
}

/* Offset of the marker string in the module file, checked to lie inside a
 * PT_LOAD segment that is neither writable nor executable. */
static size_t marker_offset(const unsigned char *so, size_t len)
{
    const unsigned char *p = memmem(so, len, rodata_marker, sizeof(rodata_marker));
    assert_non_null(p);
    size_t off = (size_t)(p - so);
    assert_null(memmem(p + 1, len - off - 1, rodata_marker, sizeof(rodata_marker)));
    Elf64_Ehdr eh;
    memcpy(&eh, so, sizeof(eh));
    bool inside = false;
    for (size_t i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, so + eh.e_phoff + i * eh.e_phentsize, sizeof(ph));
        if (ph.p_type == PT_LOAD && off >= ph.p_offset && off < ph.p_offset + ph.p_filesz) {
            assert_int_equal(ph.p_flags & (PF_W | PF_X), 0);
            inside = true;
        }
    }
    assert_true(inside);
    return off;
}

/* dlopens the module copy at path (relative to dir when it does not start
 * with '/': the working directory then changes to "/" before C_Initialize),
 * runs C_Initialize, returns its result (with what it wrote to stderr in
 * *err), then C_Finalize and dlclose. */
static CK_RV init_copy(const char *dir, const char *path, char **err)
{
    assert_int_equal(chdir(dir), 0);
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(dl);
    if (path[0] != '/')
        assert_int_equal(chdir("/"), 0);
    CK_C_GetInterface gi = (CK_C_GetInterface)dlsym(dl, "C_GetInterface");
    assert_non_null(gi);
    CK_INTERFACE_PTR itf = NULL;
    assert_int_equal(gi(NULL, NULL, &itf, 0), CKR_OK);
    CK_FUNCTION_LIST_3_2 *f = (CK_FUNCTION_LIST_3_2 *)itf->pFunctionList;
    struct capture cap;
    capture_start(&cap, dir);
    CK_RV rv = f->C_Initialize(NULL);
    *err = capture_end(&cap);
    if (rv == CKR_OK) {
        CK_INFO info;
        assert_int_equal(f->C_GetInfo(&info), CKR_OK);
    } else {
        CK_ULONG n = 0;
        assert_int_equal(f->C_GetSlotList(CK_FALSE, NULL, &n), CKR_GENERAL_ERROR);
    }
    assert_int_equal(f->C_Finalize(NULL), CKR_OK);
    dlclose(dl);
    assert_int_equal(chdir(dir), 0);
    return rv;
}

/* Copies the module (and its sidecar when with_hmac) to dir/name/; flips
 * the lowest bit of the byte at flip (when flip != 0). */
static void make_copy(const char *dir, const char *name, bool with_hmac, size_t flip,
                      char out[PATH_MAX])
{
    char sub[PATH_MAX], src_hmac[PATH_MAX], dst_hmac[PATH_MAX];
    snprintf(sub, sizeof(sub), "%s/%s", dir, name);
    assert_int_equal(mkdir(sub, 0700), 0);
    int n = snprintf(out, PATH_MAX, "%s/libcraton_hsm.so", sub);
    assert_true(n > 0 && n < PATH_MAX);
    size_t len = 0;
    unsigned char *so = read_all(abi_module_path(), &len);
    if (flip != 0)
        so[flip] ^= 0x01;
    write_all(out, so, len);
    free(so);
    if (with_hmac) {
        snprintf(src_hmac, sizeof(src_hmac), "%s.hmac", abi_module_path());
        snprintf(dst_hmac, sizeof(dst_hmac), "%s.hmac", out);
        unsigned char *h = read_all(src_hmac, &len);
        write_all(dst_hmac, h, len);
        free(h);
    }
}

static void test_integrity_of_copies(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    char *err = NULL;
    size_t len = 0;
    unsigned char *so = read_all(abi_module_path(), &len);
    size_t off = marker_offset(so, len);
    free(so);

    /* The intact copy with its sidecar initialises. */
    make_copy(fx->a.dir, "intact", true, 0, path);
    assert_int_equal(init_copy(fx->a.dir, path, &err), CKR_OK);
    free(err);

    /* Loaded by a relative path, initialised after a chdir: the sidecar is
     * still found (the path is made absolute when the module loads). */
    make_copy(fx->a.dir, "relative", true, 0, path);
    assert_int_equal(init_copy(fx->a.dir, "relative/libcraton_hsm.so", &err), CKR_OK);
    free(err);

    /* One bit of read-only data changed: integrity fails. */
    make_copy(fx->a.dir, "tampered", true, off, path);
    assert_int_equal(init_copy(fx->a.dir, path, &err), CKR_GENERAL_ERROR);
    if (strstr(err, "self-test integrity failed") == NULL || strstr(err, "differs") == NULL)
        fail_msg("stderr does not report the integrity failure:\n%s", err);
    free(err);

    /* No sidecar: fails closed. */
    make_copy(fx->a.dir, "nohmac", false, 0, path);
    assert_int_equal(init_copy(fx->a.dir, path, &err), CKR_GENERAL_ERROR);
    if (strstr(err, "self-test integrity failed") == NULL || strstr(err, ".hmac") == NULL)
        fail_msg("stderr does not report the missing sidecar:\n%s", err);
    free(err);

    /* The module under test itself is untouched by all this. */
    assert_int_equal(fx->a.f->C_Initialize(NULL), CKR_OK);
    expect_working(fx);
    assert_int_equal(fx->a.f->C_Finalize(NULL), CKR_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_initialize_passes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_failure_enters_error_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_integrity_of_copies, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
