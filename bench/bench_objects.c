/*
 * Object benchmarks through the real ABI: dlopen $CRATON_MODULE, take the
 * 3.2 function list from C_GetInterface and time, in a scratch directory,
 *
 *  - C_CreateObject of token objects (each one durable transaction),
 *  - start-up with the objects on disk: C_Initialize, and the first
 *    C_FindObjectsInit after C_Login (which opens the private records),
 *  - C_FindObjectsInit + C_FindObjects + C_FindObjectsFinal by CKA_ID, by
 *    CKA_LABEL, by CKA_CLASS + CKA_LABEL,
 *  - C_GetAttributeValue of CKA_LABEL,
 *  - extras: a find by the unindexed CKA_OBJECT_ID (a scan, for contrast)
 *    and C_SetAttributeValue of CKA_LABEL (durable).
 *
 * The token holds N public data objects (CKO_DATA: CKA_LABEL "obj-%06d",
 * an 8-byte CKA_OBJECT_ID, a 32-byte CKA_VALUE; BENCH_OBJECTS overrides N =
 * 100000) and 1,000 private objects.  Data objects have no CKA_ID (PKCS#11
 * 3.2 section 4.5; the module answers CKR_ATTRIBUTE_TYPE_INVALID), so the
 * private objects are the ones carrying CKA_ID: generic secret keys
 * (CKA_LABEL "key-%06d", 8-byte CKA_ID, 32-byte CKA_VALUE, CKA_PRIVATE).
 *
 * Prints a Markdown table | benchmark | value | unit | on stdout; progress
 * goes to stderr.  Numbers, not pass/fail: exits non-zero only when a call
 * fails.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "pkcs11/pkcs11.h"

#define SO_PIN   "12345678"
#define USER_PIN "87654321"
#define PIN(s)   (CK_UTF8CHAR_PTR)(s), (CK_ULONG)(sizeof(s) - 1)

#define DEFAULT_OBJECTS 100000
#define PRIVATE_OBJECTS 1000
#define LOOKUPS         1000
#define STARTUP_RUNS    3
#define SET_SAMPLES     200

static CK_FUNCTION_LIST_3_2 *F;
static char g_dir[PATH_MAX];

static CK_OBJECT_CLASS cls_data = CKO_DATA, cls_secret = CKO_SECRET_KEY;
static CK_KEY_TYPE kt_generic = CKK_GENERIC_SECRET;
static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

static __attribute__((format(printf, 1, 2), noreturn)) void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_objects: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void check(CK_RV rv, const char *what)
{
    if (rv != CKR_OK)
        die("%s: rv %#lx", what, (unsigned long)rv);
}

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static uint64_t rng_state = 0x243f6a8885a308d3ULL;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v; median and 99th percentile (nearest rank). */
static void percentiles(double *v, size_t n, double *median, double *p99)
{
    qsort(v, n, sizeof(*v), cmp_double);
    *median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    size_t rank = (size_t)((99 * n + 99) / 100); /* ceil(0.99 n) */
    *p99 = v[rank > 0 ? rank - 1 : 0];
}

static void row(const char *name, double value, const char *unit, int decimals)
{
    printf("| %s | %.*f | %s |\n", name, decimals, value, unit);
}

/* ---- set-up ---------------------------------------------------------------- */

static void load_module(void)
{
    const char *path = getenv("CRATON_MODULE");
    if (path == NULL || *path == '\0')
        path = "build/lib/libcraton_hsm.so";
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL)
        die("dlopen %s: %s", path, dlerror());
    CK_C_GetInterface gi = (CK_C_GetInterface)dlsym(dl, "C_GetInterface");
    CK_INTERFACE_PTR itf = NULL;
    if (gi == NULL || gi(NULL, NULL, &itf, 0) != CKR_OK)
        die("%s: no C_GetInterface / PKCS#11 3.2 interface", path);
    F = (CK_FUNCTION_LIST_3_2 *)itf->pFunctionList;
}

static void make_scratch(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof(g_dir), "%s/craton-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(g_dir) == NULL || chdir(g_dir) != 0)
        die("scratch directory %s: %s", g_dir, strerror(errno));
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/craton_hsm.toml", g_dir);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        die("%s: %s", path, strerror(errno));
    /* The floor of pbkdf2_iterations keeps the logins short; the objects
     * are what is measured. */
    fputs("[security]\npbkdf2_iterations = 100000\n", f);
    fclose(f);
    chmod(path, 0600);
    setenv("CRATON_HSM_CONFIG", path, 1);
}

static void remove_scratch(void)
{
    char cmd[PATH_MAX + 16];
    if (getenv("BENCH_KEEP") != NULL) {
        fprintf(stderr, "bench_objects: kept %s\n", g_dir);
        return;
    }
    if (chdir("/") == 0) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_objects: cannot remove %s\n", g_dir);
    }
}

static CK_SESSION_HANDLE open_rw(void)
{
    CK_SESSION_HANDLE s;
    check(F->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s),
          "C_OpenSession");
    return s;
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* ---- the objects ------------------------------------------------------------- */

static void obj_label(size_t i, char out[32])
{
    snprintf(out, 32, "obj-%06zu", i);
}

static void key_label(size_t i, char out[32])
{
    snprintf(out, 32, "key-%06zu", i);
}

/* 8 bytes derived from (kind, i): distinct for every object. */
static void id8(char kind, size_t i, unsigned char out[8])
{
    uint64_t v = ((uint64_t)(unsigned char)kind << 56) | (uint64_t)i;
    for (int k = 7; k >= 0; k--) {
        out[k] = (unsigned char)v;
        v >>= 8;
    }
}

static void value32(size_t i, unsigned char out[32])
{
    for (size_t k = 0; k < 32; k++)
        out[k] = (unsigned char)(i * 31 + k * 7);
}

static double create_public(CK_SESSION_HANDLE s, size_t n)
{
    double t0 = now_us(), last = t0;
    for (size_t i = 0; i < n; i++) {
        char label[32];
        unsigned char oid[8], value[32];
        obj_label(i, label);
        id8('D', i, oid);
        value32(i, value);
        CK_ATTRIBUTE t[] = {
            {CKA_CLASS, &cls_data, sizeof(cls_data)},
            {CKA_TOKEN, &yes, sizeof(yes)},
            {CKA_PRIVATE, &no, sizeof(no)},
            {CKA_LABEL, label, strlen(label)},
            {CKA_OBJECT_ID, oid, sizeof(oid)},
            {CKA_VALUE, value, sizeof(value)},
        };
        CK_OBJECT_HANDLE h;
        check(F->C_CreateObject(s, t, sizeof(t) / sizeof(t[0]), &h), "C_CreateObject(data)");
        double now = now_us();
        if (now - last > 10e6) {
            fprintf(stderr, "bench_objects: %zu/%zu public objects, %.0f/s\n", i + 1, n,
                    (double)(i + 1) / ((now - t0) / 1e6));
            last = now;
        }
    }
    return now_us() - t0;
}

static double create_private(CK_SESSION_HANDLE s, size_t n)
{
    double t0 = now_us();
    for (size_t i = 0; i < n; i++) {
        char label[32];
        unsigned char id[8], value[32];
        key_label(i, label);
        id8('K', i, id);
        value32(i + 7777, value);
        CK_ATTRIBUTE t[] = {
            {CKA_CLASS, &cls_secret, sizeof(cls_secret)},
            {CKA_KEY_TYPE, &kt_generic, sizeof(kt_generic)},
            {CKA_TOKEN, &yes, sizeof(yes)},
            {CKA_PRIVATE, &yes, sizeof(yes)},
            {CKA_LABEL, label, strlen(label)},
            {CKA_ID, id, sizeof(id)},
            {CKA_VALUE, value, sizeof(value)},
        };
        CK_OBJECT_HANDLE h;
        check(F->C_CreateObject(s, t, sizeof(t) / sizeof(t[0]), &h), "C_CreateObject(key)");
    }
    return now_us() - t0;
}

/* ---- lookups ------------------------------------------------------------------ */

enum by { BY_ID, BY_LABEL, BY_CLASS_LABEL, BY_OBJECT_ID };

/* One find of object i (a key for BY_ID, a data object otherwise); returns
 * the time in µs and the handle found (exactly one or die). */
static double find_one(CK_SESSION_HANDLE s, enum by by, size_t i, CK_OBJECT_HANDLE *out)
{
    char label[32];
    unsigned char id[8];
    CK_ATTRIBUTE t[2];
    CK_ULONG n = 0;
    switch (by) {
    case BY_ID:
        id8('K', i, id);
        t[n++] = (CK_ATTRIBUTE){CKA_ID, id, sizeof(id)};
        break;
    case BY_OBJECT_ID:
        id8('D', i, id);
        t[n++] = (CK_ATTRIBUTE){CKA_OBJECT_ID, id, sizeof(id)};
        break;
    case BY_CLASS_LABEL:
        t[n++] = (CK_ATTRIBUTE){CKA_CLASS, &cls_data, sizeof(cls_data)};
        /* fall through */
    case BY_LABEL:
        obj_label(i, label);
        t[n++] = (CK_ATTRIBUTE){CKA_LABEL, label, strlen(label)};
        break;
    }
    CK_OBJECT_HANDLE h[2];
    CK_ULONG got = 0;
    double t0 = now_us();
    CK_RV rv = F->C_FindObjectsInit(s, t, n);
    if (rv == CKR_OK)
        rv = F->C_FindObjects(s, h, 2, &got);
    CK_RV rv2 = F->C_FindObjectsFinal(s);
    double dt = now_us() - t0;
    check(rv, "C_FindObjectsInit/C_FindObjects");
    check(rv2, "C_FindObjectsFinal");
    if (got != 1)
        die("lookup %d of object %zu found %lu objects, expected 1", (int)by, i,
            (unsigned long)got);
    if (out != NULL)
        *out = h[0];
    return dt;
}

static void lookups(CK_SESSION_HANDLE s, enum by by, size_t population, const char *name,
                    double *times)
{
    double med, p99;
    for (size_t k = 0; k < LOOKUPS; k++)
        times[k] = find_one(s, by, (size_t)(rnd() % population), NULL);
    percentiles(times, LOOKUPS, &med, &p99);
    char label[160];
    snprintf(label, sizeof(label), "%s: median", name);
    row(label, med, "µs", 1);
    snprintf(label, sizeof(label), "%s: p99", name);
    row(label, p99, "µs", 1);
}

/* ---- main ------------------------------------------------------------------------ */

static void machine(char *out, size_t len)
{
    char model[256] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f != NULL) {
        char line[512];
        while (fgets(line, sizeof(line), f) != NULL) {
            if (strncmp(line, "model name", 10) == 0) {
                char *colon = strchr(line, ':');
                if (colon != NULL) {
                    snprintf(model, sizeof(model), "%s", colon + 2);
                    model[strcspn(model, "\n")] = '\0';
                }
                break;
            }
        }
        fclose(f);
    }
    struct utsname u;
    if (uname(&u) != 0)
        snprintf(u.release, sizeof(u.release), "?");
    snprintf(out, len, "%s, Linux %s", model, u.release);
}

int main(void)
{
    size_t n = DEFAULT_OBJECTS;
    const char *env = getenv("BENCH_OBJECTS");
    if (env != NULL && *env != '\0') {
        char *end;
        unsigned long v = strtoul(env, &end, 10);
        if (*end != '\0' || v < 1 || v > 10000000)
            die("BENCH_OBJECTS=%s: want 1..10000000", env);
        n = (size_t)v;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    char mach[512];
    machine(mach, sizeof(mach));
    load_module();
    make_scratch();
    fprintf(stderr, "bench_objects: %zu public + %d private token objects in %s\n", n,
            PRIVATE_OBJECTS, g_dir);

    /* Token, user PIN, user session. */
    check(F->C_Initialize(NULL), "C_Initialize");
    check(F->C_InitToken(0, PIN(SO_PIN), (CK_UTF8CHAR_PTR) "bench                           "),
          "C_InitToken");
    CK_SESSION_HANDLE s = open_rw();
    check(F->C_Login(s, CKU_SO, PIN(SO_PIN)), "C_Login(SO)");
    check(F->C_InitPIN(s, PIN(USER_PIN)), "C_InitPIN");
    check(F->C_Logout(s), "C_Logout");
    check(F->C_Login(s, CKU_USER, PIN(USER_PIN)), "C_Login(USER)");

    double t_pub = create_public(s, n);
    double t_priv = create_private(s, PRIVATE_OBJECTS);
    double t_fin0 = now_us();
    check(F->C_Finalize(NULL), "C_Finalize");
    double t_fin = now_us() - t_fin0;
    fprintf(stderr, "bench_objects: created in %.1f s; C_Finalize %.1f s\n",
            (t_pub + t_priv) / 1e6, t_fin / 1e6);
    long long db = file_size("craton_hsm_store/token.db") +
                   file_size("craton_hsm_store/token.db-wal");

    /* Start-up with the objects on disk (page cache warm). */
    double init[STARTUP_RUNS], first_find[STARTUP_RUNS], login[STARTUP_RUNS], med, p99;
    double fini[STARTUP_RUNS + 1];
    for (int r = 0; r < STARTUP_RUNS; r++) {
        double t0 = now_us();
        check(F->C_Initialize(NULL), "C_Initialize");
        init[r] = now_us() - t0;
        s = open_rw();
        t0 = now_us();
        check(F->C_Login(s, CKU_USER, PIN(USER_PIN)), "C_Login(USER)");
        login[r] = now_us() - t0;
        unsigned char id[8];
        id8('K', (size_t)(rnd() % PRIVATE_OBJECTS), id);
        CK_ATTRIBUTE t = {CKA_ID, id, sizeof(id)};
        t0 = now_us();
        check(F->C_FindObjectsInit(s, &t, 1), "first C_FindObjectsInit");
        first_find[r] = now_us() - t0;
        CK_OBJECT_HANDLE h;
        CK_ULONG got = 0;
        check(F->C_FindObjects(s, &h, 1, &got), "C_FindObjects");
        check(F->C_FindObjectsFinal(s), "C_FindObjectsFinal");
        if (got != 1)
            die("the first lookup after login found %lu objects", (unsigned long)got);
        if (r + 1 < STARTUP_RUNS) {
            t0 = now_us();
            check(F->C_Finalize(NULL), "C_Finalize");
            fini[r] = now_us() - t0;
        }
    }

    printf("Craton HSM object benchmarks: %s\n\n", mach);
    printf("| benchmark | value | unit |\n");
    printf("|---|---:|---|\n");
    row("machine: online CPUs (nproc)", (double)ncpu, "cores", 0);
    row("N: public token data objects", (double)n, "objects", 0);
    row("private token objects (generic secret keys)", PRIVATE_OBJECTS, "objects", 0);
    row("create public data object (durable, 1 transaction each)", (double)n / (t_pub / 1e6),
        "objects/s", 0);
    row("create private secret key (durable, sealed)",
        PRIVATE_OBJECTS / (t_priv / 1e6), "objects/s", 0);
    row("store size on disk (token.db + WAL)", (double)db / (1024.0 * 1024.0), "MiB", 1);
    percentiles(init, STARTUP_RUNS, &med, &p99);
    row("start-up: C_Initialize with all objects on disk (median of 3)", med / 1000, "ms", 1);
    percentiles(login, STARTUP_RUNS, &med, &p99);
    row("start-up: C_Login(CKU_USER), PBKDF2 100,000 iterations (median of 3)", med / 1000,
        "ms", 1);
    percentiles(first_find, STARTUP_RUNS, &med, &p99);
    row("start-up: first C_FindObjectsInit after login, opens the private records (median of 3)",
        med / 1000, "ms", 1);
    fflush(stdout);

    double *times = malloc(LOOKUPS * sizeof(*times));
    CK_OBJECT_HANDLE *hs = malloc(LOOKUPS * sizeof(*hs));
    if (times == NULL || hs == NULL)
        die("out of memory");
    lookups(s, BY_ID, PRIVATE_OBJECTS, "find by CKA_ID (1 of 1,000 keys)", times);
    lookups(s, BY_LABEL, n, "find by CKA_LABEL", times);
    lookups(s, BY_CLASS_LABEL, n, "find by CKA_CLASS + CKA_LABEL", times);
    lookups(s, BY_OBJECT_ID, n,
            "extra: find by CKA_OBJECT_ID (not indexed: scans every object)", times);
    fflush(stdout);

    /* C_GetAttributeValue(CKA_LABEL) of random public objects. */
    for (size_t k = 0; k < LOOKUPS; k++)
        (void)find_one(s, BY_LABEL, (size_t)(rnd() % n), &hs[k]);
    for (size_t k = 0; k < LOOKUPS; k++) {
        char label[64];
        CK_ATTRIBUTE t = {CKA_LABEL, label, sizeof(label)};
        double t0 = now_us();
        check(F->C_GetAttributeValue(s, hs[k], &t, 1), "C_GetAttributeValue");
        times[k] = now_us() - t0;
    }
    percentiles(times, LOOKUPS, &med, &p99);
    row("C_GetAttributeValue(CKA_LABEL): median", med, "µs", 2);
    row("C_GetAttributeValue(CKA_LABEL): p99", p99, "µs", 2);

    /* Extra: C_SetAttributeValue(CKA_LABEL) of random public objects (the
     * same label again: one durable transaction, index entries redone). */
    for (size_t k = 0; k < SET_SAMPLES; k++) {
        size_t i = (size_t)(rnd() % n);
        char label[32];
        obj_label(i, label);
        (void)find_one(s, BY_LABEL, i, &hs[0]);
        CK_ATTRIBUTE t = {CKA_LABEL, label, strlen(label)};
        double t0 = now_us();
        check(F->C_SetAttributeValue(s, hs[0], &t, 1), "C_SetAttributeValue");
        times[k] = now_us() - t0;
    }
    percentiles(times, SET_SAMPLES, &med, &p99);
    row("extra: C_SetAttributeValue(CKA_LABEL), durable: median", med, "µs", 1);
    row("extra: C_SetAttributeValue(CKA_LABEL), durable: p99", p99, "µs", 1);

    double t0 = now_us();
    check(F->C_Finalize(NULL), "C_Finalize");
    fini[STARTUP_RUNS - 1] = now_us() - t0;
    fini[STARTUP_RUNS] = t_fin;
    percentiles(fini, STARTUP_RUNS + 1, &med, &p99);
    row("extra: C_Finalize with all objects loaded (median of 4)", med / 1000, "ms", 1);
    free(times);
    free(hs);
    remove_scratch();
    return 0;
}
