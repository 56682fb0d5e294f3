/*
 * Start-up benchmark through the real ABI: dlopen $CRATON_MODULE, take the
 * 3.2 function list from C_GetInterface and time C_Initialize + C_Finalize
 * cycles in a scratch directory with a default configuration (one token,
 * initialised once, persist_objects = true), with the audit log on (the
 * default) and off.
 *
 * C_Initialize runs the 17 power-on self-tests (integrity + 16 KATs); the
 * module writes their duration to the audit log ("... self-tests passed in
 * X ms"), which this program reads back for the "of which POST" row.
 *
 * Prints a Markdown table | benchmark | value | unit | on stdout; progress
 * goes to stderr.  Numbers, not pass/fail: exits non-zero only when a call
 * fails.  BENCH_INIT_RUNS overrides the number of cycles (default 50).
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pkcs11/pkcs11.h"

#define SO_PIN       "12345678"
#define PIN(s)       (CK_UTF8CHAR_PTR)(s), (CK_ULONG)(sizeof(s) - 1)
#define DEFAULT_RUNS 50
#define MAX_RUNS     10000

static CK_FUNCTION_LIST_3_2 *F;

static __attribute__((format(printf, 1, 2), noreturn)) void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_init: ", stderr);
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

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts v[n] and returns the value at quantile q (0.5 = median). */
static double quantile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof(*v), cmp_double);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i];
}

static void row(const char *name, double value, const char *unit, int decimals)
{
    printf("| %s | %.*f | %s |\n", name, decimals, value, unit);
}

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
        die("C_GetInterface failed");
    F = (CK_FUNCTION_LIST_3_2 *)itf->pFunctionList;
}

/* A fresh scratch directory with craton_hsm.toml; CRATON_HSM_CONFIG names
 * it.  Its path goes to dir[PATH_MAX]. */
static void make_scratch(char dir[PATH_MAX], bool audit)
{
    const char *tmp = getenv("TMPDIR");
    char path[PATH_MAX + 32];
    snprintf(dir, PATH_MAX, "%s/craton-bench-init-XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        die("mkdtemp %s failed", dir);
    snprintf(path, sizeof(path), "%s/craton_hsm.toml", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        die("cannot write %s", path);
    fprintf(f,
            "[token]\npersist_objects = true\nslot_count = 1\n"
            "[security]\npbkdf2_iterations = 100000\n"
            "[audit]\nenabled = %s\n",
            audit ? "true" : "false");
    fclose(f);
    chmod(path, 0600);
    setenv("CRATON_HSM_CONFIG", path, 1);
}

static void remove_scratch(const char *dir)
{
    char cmd[PATH_MAX + 16];
    if (getenv("BENCH_KEEP") != NULL)
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_init: cannot remove %s\n", dir);
}

/* The POST durations the module logged ("... passed in X ms"), in order;
 * returns how many were found (at most max). */
static size_t post_times(const char *dir, double *out, size_t max)
{
    char path[PATH_MAX + 32], line[4096];
    size_t n = 0;
    snprintf(path, sizeof(path), "%s/craton_hsm_audit.jsonl", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    while (n < max && fgets(line, sizeof(line), f) != NULL) {
        const char *p = strstr(line, "self-tests passed in ");
        if (p != NULL && sscanf(p, "self-tests passed in %lf ms", &out[n]) == 1)
            n++;
    }
    fclose(f);
    return n;
}

struct timing {
    double init_med, init_p90, fin_med, post_med;
    size_t post_n;
};

static void run(bool audit, size_t runs, struct timing *t)
{
    char dir[PATH_MAX];
    double *init = calloc(runs, sizeof(double)), *fin = calloc(runs, sizeof(double));
    double *post = calloc(runs + 2, sizeof(double));
    if (init == NULL || fin == NULL || post == NULL)
        die("out of memory");
    make_scratch(dir, audit);
    fprintf(stderr, "bench_init: %zu cycles, audit %s, in %s\n", runs, audit ? "on" : "off", dir);
    /* One token, initialised once (C_Initialize then opens its store). */
    check(F->C_Initialize(NULL), "C_Initialize");
    check(F->C_InitToken(0, PIN(SO_PIN), (CK_UTF8CHAR_PTR) "bench                           "),
          "C_InitToken");
    check(F->C_Finalize(NULL), "C_Finalize");
    for (size_t i = 0; i < runs; i++) {
        double t0 = now_ms();
        check(F->C_Initialize(NULL), "C_Initialize");
        double t1 = now_ms();
        check(F->C_Finalize(NULL), "C_Finalize");
        init[i] = t1 - t0;
        fin[i] = now_ms() - t1;
    }
    t->init_med = quantile(init, runs, 0.5);
    t->init_p90 = quantile(init, runs, 0.9);
    t->fin_med = quantile(fin, runs, 0.5);
    t->post_n = audit ? post_times(dir, post, runs + 2) : 0;
    t->post_med = t->post_n > 0 ? quantile(post, t->post_n, 0.5) : 0;
    remove_scratch(dir);
    free(init);
    free(fin);
    free(post);
}

int main(void)
{
    size_t runs = DEFAULT_RUNS;
    const char *env = getenv("BENCH_INIT_RUNS");
    if (env != NULL && *env != '\0') {
        char *end;
        unsigned long v = strtoul(env, &end, 10);
        if (*end != '\0' || v < 1 || v > MAX_RUNS)
            die("BENCH_INIT_RUNS=%s: want 1..%d", env, MAX_RUNS);
        runs = (size_t)v;
    }
    load_module();
    struct timing on, off;
    run(true, runs, &on);
    run(false, runs, &off);

    char label[160];
    printf("Craton HSM start-up (C_Initialize runs the 17 power-on self-tests)\n\n");
    printf("| benchmark | value | unit |\n");
    printf("|---|---:|---|\n");
    snprintf(label, sizeof(label), "C_Initialize, audit on: median of %zu", runs);
    row(label, on.init_med, "ms", 2);
    snprintf(label, sizeof(label), "C_Initialize, audit on: p90 of %zu", runs);
    row(label, on.init_p90, "ms", 2);
    if (on.post_n > 0) {
        snprintf(label, sizeof(label), "of which POST (17 self-tests, from the audit log): median");
        row(label, on.post_med, "ms", 2);
    } else {
        printf("| of which POST (17 self-tests, from the audit log) | n/a | ms |\n");
    }
    snprintf(label, sizeof(label), "C_Finalize, audit on: median of %zu", runs);
    row(label, on.fin_med, "ms", 2);
    snprintf(label, sizeof(label), "C_Initialize, audit off: median of %zu", runs);
    row(label, off.init_med, "ms", 2);
    snprintf(label, sizeof(label), "C_Finalize, audit off: median of %zu", runs);
    row(label, off.fin_med, "ms", 2);
    return 0;
}
