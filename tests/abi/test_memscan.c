/*
 * Memory scan: after C_DestroyObject, C_Logout and C_Finalize no copy of a
 * key value (or, after finalisation, of a PIN) may remain anywhere in the
 * process.
 *
 * The scanner reads every readable mapping listed in /proc/self/maps
 * through pread(/proc/self/mem) into an mmap'ed buffer that is itself left
 * out of the scan, and looks for each value as given (big-endian) and
 * byte-reversed (OpenSSL BIGNUM limbs are little-endian).  The test keeps
 * no plain copy: the values are derived at run time from a random seed and
 * kept XOR-masked; a value is unmasked into one buffer only to pass it to
 * the module, and that buffer is wiped (explicit_bzero) right after the
 * call.  The search compares masked bytes on the fly.
 *
 * Positive controls: a value planted in a malloc'ed buffer is found (as
 * given and reversed), and each key is found while the module legitimately
 * holds it, so a scanner that reads nothing would fail.
 *
 * Under ASan freed memory waits in the quarantine unwiped, so a residue
 * there is a real missing wipe.  CRATON_MEMSCAN_DEBUG=1 prints every hit
 * (and, under ASan, the allocation that holds it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <sys/mman.h>
#include <time.h>

#include "abi_util.h"

#define EQ(a, b)       assert_int_equal((a), (b))
#define RV(call, want) assert_int_equal((call), (want))
#define OK(call)       RV(call, CKR_OK)
#define N(a)           ((CK_ULONG)(sizeof(a) / sizeof((a)[0])))

#define CFG        ABI_FAST_CONFIG
#define MASK       0x5a
#define PIN_LEN    16
#define VALUE_MAX  32
#define SCAN_CHUNK (4UL * 1024 * 1024)
/* Larger mappings are reservations (ASan's shadow spans terabytes), not data. */
#define SCAN_MAPPING_MAX (4UL * 1024 * 1024 * 1024)

enum secret_id {
    S_SESSION_AES, /* CKA_TOKEN false */
    S_SESSION_EC,
    S_TOKEN_AES, /* CKA_TOKEN true, kept; gone at C_Logout */
    S_TOKEN_EC,
    S_TOKEN_AES_DESTROYED, /* CKA_TOKEN true, destroyed */
    S_CONTROL,             /* planted by the test itself */
    S_CONTROL_FREED,       /* planted, then freed unwiped (stays: never scanned for later) */
    S_GEN_AES,             /* generated in the module, read out once (non-sensitive) */
    S_GEN_EC,
    S_USER_PIN,
    S_SO_PIN,
    S_COUNT,
};

struct secret {
    const char *name;
    size_t len;
    bool reversed_too; /* keys: also look for the byte-reversed form */
    unsigned char masked[VALUE_MAX];
};

static struct secret g_sec[S_COUNT] = {
    [S_SESSION_AES] = {"session AES key", 32, true, {0}},
    [S_SESSION_EC] = {"session EC scalar", 32, true, {0}},
    [S_TOKEN_AES] = {"token AES key", 32, true, {0}},
    [S_TOKEN_EC] = {"token EC scalar", 32, true, {0}},
    [S_TOKEN_AES_DESTROYED] = {"destroyed token AES key", 32, true, {0}},
    [S_CONTROL] = {"control value", 32, true, {0}},
    [S_CONTROL_FREED] = {"freed control value", 32, true, {0}},
    [S_GEN_AES] = {"generated AES key", 32, true, {0}},
    [S_GEN_EC] = {"generated EC scalar", 32, true, {0}},
    [S_USER_PIN] = {"user PIN", PIN_LEN, false, {0}},
    [S_SO_PIN] = {"SO PIN", PIN_LEN, false, {0}},
};

static struct abi A;
static CK_FUNCTION_LIST_3_2 *f;
static unsigned char g_plain[VALUE_MAX]; /* the one unmasked copy, wiped after each use */
static unsigned char *g_scan;            /* mmap'ed, left out of the scan */
static int g_mem = -1;                   /* /proc/self/mem */
static CK_SESSION_HANDLE g_s = CK_INVALID_HANDLE;
static CK_OBJECT_HANDLE g_obj[S_COUNT];

/* ---- values ------------------------------------------------------------- */

static uint64_t g_rng;

static uint64_t next_rand(void)
{
    /* xorshift64*: good enough to make values no file or library holds. */
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 0x2545f4914f6cdd1dULL;
}

static void derive_secrets(void)
{
    static const char alnum[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    g_rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40) ^
            (uint64_t)(uintptr_t)&ts;
    if (g_rng == 0)
        g_rng = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < S_COUNT; i++) {
        struct secret *s = &g_sec[i];
        for (size_t j = 0; j < s->len; j++) {
            unsigned char b = (unsigned char)(next_rand() >> 32);
            if (i == S_USER_PIN || i == S_SO_PIN)
                b = (unsigned char)alnum[b % (sizeof(alnum) - 1)];
            s->masked[j] = b ^ MASK;
        }
    }
    /* EC scalars: 0 < d < n (n = 0xffffffff00000000...), top byte 0x10..0x7f. */
    static const enum secret_id scalars[] = {S_SESSION_EC, S_TOKEN_EC};
    for (size_t i = 0; i < 2; i++) {
        unsigned char *m0 = &g_sec[scalars[i]].masked[0];
        *m0 = (unsigned char)((0x10 | ((*m0 ^ MASK) & 0x6f)) ^ MASK);
    }
}

/* Unmasks secret id into g_plain (wipe with wipe_plain after the call). */
static unsigned char *plain(enum secret_id id)
{
    for (size_t j = 0; j < g_sec[id].len; j++)
        g_plain[j] = g_sec[id].masked[j] ^ MASK;
    return g_plain;
}

static void wipe_plain(void)
{
    explicit_bzero(g_plain, sizeof(g_plain));
}

/* ---- the scanner -------------------------------------------------------- */

struct hits {
    size_t forward, reversed;
    uint64_t bytes; /* scanned */
};

static void describe_hit(const struct secret *s, uintptr_t addr, bool rev, const char *map)
{
    static const char *debug;
    if (debug == NULL)
        debug = getenv("CRATON_MEMSCAN_DEBUG") != NULL ? "1" : "";
    if (debug[0] == '\0')
        return;
    fprintf(stderr, "# %s%s at %#" PRIxPTR " in %s\n", s->name, rev ? " (reversed)" : "", addr,
            map);
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEMSCAN_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(MEMSCAN_ASAN)
    extern void __asan_describe_address(void *);
    __asan_describe_address((void *)addr);
#endif
}

/* Occurrences of s in buf[n] (which starts at address base of the process):
 * compared through the mask, never unmasking the value into memory. */
static void search(const struct secret *s, const unsigned char *buf, size_t n, uintptr_t base,
                   const char *map, struct hits *h)
{
    if (n < s->len)
        return;
    for (int rev = 0; rev <= (s->reversed_too ? 1 : 0); rev++) {
        unsigned char first = (unsigned char)(s->masked[rev ? s->len - 1 : 0] ^ MASK);
        const unsigned char *p = buf, *end = buf + n - s->len + 1;
        while (p < end && (p = memchr(p, first, (size_t)(end - p))) != NULL) {
            size_t j = 1;
            for (; j < s->len; j++) {
                unsigned char want = s->masked[rev ? s->len - 1 - j : j];
                if ((unsigned char)(p[j] ^ MASK) != want)
                    break;
            }
            if (j == s->len) {
                if (rev)
                    h->reversed++;
                else
                    h->forward++;
                describe_hit(s, base + (uintptr_t)(p - buf), rev, map);
            }
            p++;
        }
    }
}

/* Scans [start, end) of the process for every secret in ids. */
static void scan_range(uintptr_t start, uintptr_t end, const char *map, const enum secret_id *ids,
                       size_t nids, struct hits *h)
{
    const size_t overlap = VALUE_MAX - 1;
    for (uintptr_t at = start; at < end;) {
        size_t want = end - at > SCAN_CHUNK ? SCAN_CHUNK : (size_t)(end - at);
        ssize_t got = pread(g_mem, g_scan, want, (off_t)at);
        if (got <= 0) {
            /* Unreadable page ([vvar], a guard page): skip one page. */
            at = (at + 4096) & ~(uintptr_t)4095;
            continue;
        }
        for (size_t i = 0; i < nids; i++) {
            h[i].bytes += (uint64_t)got;
            search(&g_sec[ids[i]], g_scan, (size_t)got, at, map, &h[i]);
        }
        if ((uintptr_t)got < want || at + (uintptr_t)got >= end)
            at += (uintptr_t)got;
        else
            at += (uintptr_t)got - overlap; /* a value may straddle two chunks */
    }
}

/* One pass over every readable mapping for the secrets in ids. */
static void scan(const enum secret_id *ids, size_t nids, struct hits *h)
{
    memset(h, 0, nids * sizeof(*h));
    FILE *maps = fopen("/proc/self/maps", "re");
    assert_non_null(maps);
    /* Read the list first: scanning allocates nothing, but keep it simple. */
    static char lines[8192][160];
    size_t n = 0;
    while (n < 8192 && fgets(lines[n], sizeof(lines[n]), maps) != NULL)
        n++;
    fclose(maps);
    uintptr_t skip_lo = (uintptr_t)g_scan, skip_hi = skip_lo + SCAN_CHUNK;
    for (size_t i = 0; i < n; i++) {
        uintptr_t lo, hi;
        char perms[8] = "", path[128] = "";
        if (sscanf(lines[i], "%" SCNxPTR "-%" SCNxPTR " %7s %*s %*s %*s %127[^\n]", &lo, &hi, perms,
                   path) < 3)
            continue;
        if (perms[0] != 'r' || hi - lo > SCAN_MAPPING_MAX)
            continue;
        const char *map = path[0] != '\0' ? path : "[anonymous]";
        if (lo < skip_lo)
            scan_range(lo, hi < skip_lo ? hi : skip_lo, map, ids, nids, h);
        if (hi > skip_hi)
            scan_range(lo > skip_hi ? lo : skip_hi, hi, map, ids, nids, h);
    }
    explicit_bzero(g_scan, SCAN_CHUNK);
}

static size_t found(enum secret_id id)
{
    struct hits h;
    scan(&id, 1, &h);
    assert_true(h.bytes > 1024 * 1024); /* the scan did read the process */
    return h.forward + h.reversed;
}

/* Fails (after naming every residue) unless none of ids is in memory. */
static void expect_gone(const char *phase, const enum secret_id *ids, size_t nids)
{
    struct hits h[S_COUNT];
    bool clean = true;
    scan(ids, nids, h);
    for (size_t i = 0; i < nids; i++) {
        if (h[i].forward + h[i].reversed == 0)
            continue;
        clean = false;
        fprintf(stderr, "# after %s: %s still in memory (%zu as given, %zu reversed)\n", phase,
                g_sec[ids[i]].name, h[i].forward, h[i].reversed);
    }
    assert_true(clean);
}

/* ---- module helpers ----------------------------------------------------- */

static CK_RV login(CK_USER_TYPE who, enum secret_id pin)
{
    CK_RV rv = f->C_Login(g_s, who, plain(pin), PIN_LEN);
    wipe_plain();
    return rv;
}

static CK_OBJECT_HANDLE create_aes(enum secret_id id, CK_BBOOL token)
{
    static CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    static CK_KEY_TYPE kt = CKK_AES;
    static CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &kt, sizeof(kt)},
        {CKA_TOKEN, &token, sizeof(token)},
        {CKA_PRIVATE, &yes, sizeof(yes)},
        {CKA_SENSITIVE, &yes, sizeof(yes)},
        {CKA_ENCRYPT, &yes, sizeof(yes)},
        {CKA_DECRYPT, &yes, sizeof(yes)},
        {CKA_LABEL, (void *)g_sec[id].name, strlen(g_sec[id].name)},
        {CKA_VALUE, plain(id), 32},
    };
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_RV rv = f->C_CreateObject(g_s, t, N(t), &h);
    wipe_plain();
    OK(rv);
    return h;
}

static CK_OBJECT_HANDLE create_ec(enum secret_id id, CK_BBOOL token)
{
    static CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    static CK_KEY_TYPE kt = CKK_EC;
    static CK_BBOOL yes = CK_TRUE;
    static CK_BYTE p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &kt, sizeof(kt)},
        {CKA_TOKEN, &token, sizeof(token)},
        {CKA_PRIVATE, &yes, sizeof(yes)},
        {CKA_SENSITIVE, &yes, sizeof(yes)},
        {CKA_SIGN, &yes, sizeof(yes)},
        {CKA_EC_PARAMS, p256, sizeof(p256)},
        {CKA_LABEL, (void *)g_sec[id].name, strlen(g_sec[id].name)},
        {CKA_VALUE, plain(id), 32},
    };
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_RV rv = f->C_CreateObject(g_s, t, N(t), &h);
    wipe_plain();
    OK(rv);
    return h;
}

static void use_aes(CK_OBJECT_HANDLE k)
{
    CK_BYTE iv[12] = {1, 2, 3}, aad[4] = {9}, msg[48] = {7}, out[64], back[64];
    CK_GCM_PARAMS gp = {iv, sizeof(iv), 96, aad, sizeof(aad), 128};
    CK_MECHANISM m = {CKM_AES_GCM, &gp, sizeof(gp)};
    CK_ULONG n = sizeof(out), nb = sizeof(back);
    OK(f->C_EncryptInit(g_s, &m, k));
    OK(f->C_Encrypt(g_s, msg, sizeof(msg), out, &n));
    EQ(n, sizeof(msg) + 16);
    OK(f->C_DecryptInit(g_s, &m, k));
    OK(f->C_Decrypt(g_s, out, n, back, &nb));
    assert_memory_equal(back, msg, sizeof(msg));
}

static void use_ec(CK_OBJECT_HANDLE k)
{
    CK_BYTE hash[32] = {0x42, 0x17}, sig[72];
    CK_ULONG n = sizeof(sig);
    CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
    OK(f->C_SignInit(g_s, &m, k));
    OK(f->C_Sign(g_s, hash, sizeof(hash), sig, &n));
    EQ(n, 64);
}

/* The one object labelled with id's name (token object handles change when
 * private objects are reloaded at login). */
static CK_OBJECT_HANDLE by_label(enum secret_id id)
{
    CK_ATTRIBUTE q[] = {{CKA_LABEL, (void *)g_sec[id].name, strlen(g_sec[id].name)}};
    CK_OBJECT_HANDLE k[2];
    CK_ULONG n = 0;
    OK(f->C_FindObjectsInit(g_s, q, N(q)));
    OK(f->C_FindObjects(g_s, k, 2, &n));
    OK(f->C_FindObjectsFinal(g_s));
    EQ(n, 1);
    return k[0];
}

/* ---- fixture ------------------------------------------------------------ */

static int group_setup(void **state)
{
    (void)state;
    static CK_UTF8CHAR label[32] = "memscan                         ";
    derive_secrets();
    g_scan = mmap(NULL, SCAN_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
    if (g_scan == MAP_FAILED || g_mem < 0 || abi_scratch(&A, CFG) != 0 || abi_open(&A) != 0)
        return -1;
    f = A.f;
    /* A token with distinctive SO and user PINs, and a user session. */
    CK_RV rv = f->C_Initialize(NULL);
    if (rv == CKR_OK)
        rv = f->C_InitToken(0, plain(S_SO_PIN), PIN_LEN, label);
    wipe_plain();
    if (rv == CKR_OK)
        rv = f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &g_s);
    if (rv == CKR_OK)
        rv = login(CKU_SO, S_SO_PIN);
    if (rv == CKR_OK)
        rv = f->C_InitPIN(g_s, plain(S_USER_PIN), PIN_LEN);
    wipe_plain();
    if (rv == CKR_OK)
        rv = f->C_Logout(g_s);
    if (rv == CKR_OK)
        rv = login(CKU_USER, S_USER_PIN);
    if (rv != CKR_OK)
        fprintf(stderr, "# set-up failed: rv 0x%lx\n", rv);
    return rv == CKR_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    if (f != NULL)
        f->C_Finalize(NULL);
    abi_close(&A);
    abi_rm_scratch(&A);
    if (g_mem >= 0)
        close(g_mem);
    if (g_scan != NULL && g_scan != MAP_FAILED)
        munmap(g_scan, SCAN_CHUNK);
    return 0;
}

/* ---- tests (in order: they share one module instance) ------------------- */

/* The scanner finds a planted value, as given and reversed, and stops
 * finding it once wiped. */
static void test_scanner_finds_planted_value(void **state)
{
    (void)state;
    EQ(found(S_CONTROL), 0);
    unsigned char *heap = malloc(64);
    assert_non_null(heap);
    memcpy(heap + 5, plain(S_CONTROL), 32);
    wipe_plain();
    struct hits h;
    enum secret_id id = S_CONTROL;
    scan(&id, 1, &h);
    EQ(h.forward, 1);
    EQ(h.reversed, 0);
    for (int i = 0; i < 16; i++) { /* reverse in place */
        unsigned char t = heap[5 + i];
        heap[5 + i] = heap[5 + 31 - i];
        heap[5 + 31 - i] = t;
    }
    scan(&id, 1, &h);
    EQ(h.forward, 0);
    EQ(h.reversed, 1);
    explicit_bzero(heap, 64);
    free(heap);
    EQ(found(S_CONTROL), 0);
}

/* A buffer freed without a wipe is what the scan is for: it finds one (in
 * the malloc free lists, or ASan's quarantine). */
static void test_scanner_finds_freed_value(void **state)
{
    (void)state;
    EQ(found(S_CONTROL_FREED), 0);
    unsigned char *heap = malloc(3000);
    assert_non_null(heap);
    memcpy(heap + 2000, plain(S_CONTROL_FREED), 32);
    wipe_plain();
    free(heap); /* deliberately not wiped */
    EQ(found(S_CONTROL_FREED), 1);
}

/* Session keys: present while they exist, gone after C_DestroyObject. */
static void test_session_keys_destroyed(void **state)
{
    (void)state;
    g_obj[S_SESSION_AES] = create_aes(S_SESSION_AES, CK_FALSE);
    g_obj[S_SESSION_EC] = create_ec(S_SESSION_EC, CK_FALSE);
    use_aes(g_obj[S_SESSION_AES]);
    use_ec(g_obj[S_SESSION_EC]);
    assert_true(found(S_SESSION_AES) > 0); /* control: the module holds them */
    assert_true(found(S_SESSION_EC) > 0);
    OK(f->C_DestroyObject(g_s, g_obj[S_SESSION_AES]));
    OK(f->C_DestroyObject(g_s, g_obj[S_SESSION_EC]));
    static const enum secret_id ids[] = {S_SESSION_AES, S_SESSION_EC};
    expect_gone("C_DestroyObject of session keys", ids, N(ids));
}

/* A token key destroyed while logged in is gone at once. */
static void test_token_key_destroyed(void **state)
{
    (void)state;
    CK_OBJECT_HANDLE k = create_aes(S_TOKEN_AES_DESTROYED, CK_TRUE);
    use_aes(k);
    assert_true(found(S_TOKEN_AES_DESTROYED) > 0);
    OK(f->C_DestroyObject(g_s, k));
    static const enum secret_id ids[] = {S_TOKEN_AES_DESTROYED};
    expect_gone("C_DestroyObject of a token key", ids, N(ids));
}

/* Private token keys stay on the token but leave memory at C_Logout, and
 * come back (decrypted from the store) at the next login. */
static void test_token_keys_logout(void **state)
{
    (void)state;
    g_obj[S_TOKEN_AES] = create_aes(S_TOKEN_AES, CK_TRUE);
    g_obj[S_TOKEN_EC] = create_ec(S_TOKEN_EC, CK_TRUE);
    use_aes(g_obj[S_TOKEN_AES]);
    use_ec(g_obj[S_TOKEN_EC]);
    assert_true(found(S_TOKEN_AES) > 0);
    assert_true(found(S_TOKEN_EC) > 0);
    OK(f->C_Logout(g_s));
    static const enum secret_id ids[] = {S_TOKEN_AES, S_TOKEN_EC, S_USER_PIN, S_SO_PIN};
    expect_gone("C_Logout", ids, N(ids));
    /* Again after a second login and use. */
    OK(login(CKU_USER, S_USER_PIN));
    use_aes(by_label(S_TOKEN_AES));
    use_ec(by_label(S_TOKEN_EC));
    assert_true(found(S_TOKEN_AES) > 0);
    OK(f->C_Logout(g_s));
    expect_gone("the second C_Logout", ids, N(ids));
    OK(login(CKU_USER, S_USER_PIN));
    use_aes(by_label(S_TOKEN_AES));
}

/* After C_Finalize nothing is left: keys, PINs. */
static void test_finalize_leaves_nothing(void **state)
{
    (void)state;
    OK(f->C_Finalize(NULL));
    static const enum secret_id ids[] = {
        S_SESSION_AES, S_SESSION_EC, S_TOKEN_AES, S_TOKEN_EC, S_TOKEN_AES_DESTROYED,
        S_GEN_AES,     S_GEN_EC,     S_USER_PIN,  S_SO_PIN,   S_CONTROL};
    expect_gone("C_Finalize", ids, N(ids));
    /* The token keys are still on the token. */
    OK(f->C_Initialize(NULL));
    OK(f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &g_s));
    OK(login(CKU_USER, S_USER_PIN));
    use_ec(by_label(S_TOKEN_EC));
}

/* Reads key k's CKA_VALUE (32 bytes) straight into the masked slot of id:
 * the plain bytes live only in g_plain, wiped at once. */
static void capture(CK_OBJECT_HANDLE k, enum secret_id id)
{
    CK_ATTRIBUTE a = {CKA_VALUE, g_plain, sizeof(g_plain)};
    CK_RV rv = f->C_GetAttributeValue(g_s, k, &a, 1);
    for (size_t j = 0; j < 32; j++)
        g_sec[id].masked[j] = g_plain[j] ^ MASK;
    wipe_plain();
    OK(rv);
    EQ(a.ulValueLen, 32);
}

/* Keys made inside the module (key generation, a copy): the same after
 * C_DestroyObject of every object holding them. */
static void test_generated_keys_destroyed(void **state)
{
    (void)state;
    static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    static CK_ULONG len = 32;
    static CK_BYTE p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    CK_MECHANISM kg = {CKM_AES_KEY_GEN, NULL, 0}, ekg = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE aes_t[] = {
        {CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_TOKEN, &no, sizeof(no)},
        {CKA_SENSITIVE, &no, sizeof(no)},   {CKA_EXTRACTABLE, &yes, sizeof(yes)},
        {CKA_ENCRYPT, &yes, sizeof(yes)},   {CKA_DECRYPT, &yes, sizeof(yes)}};
    CK_ATTRIBUTE pub_t[] = {{CKA_EC_PARAMS, p256, sizeof(p256)},
                            {CKA_TOKEN, &no, sizeof(no)},
                            {CKA_VERIFY, &yes, sizeof(yes)}};
    CK_ATTRIBUTE priv_t[] = {{CKA_TOKEN, &no, sizeof(no)},
                             {CKA_SENSITIVE, &no, sizeof(no)},
                             {CKA_EXTRACTABLE, &yes, sizeof(yes)},
                             {CKA_SIGN, &yes, sizeof(yes)}};
    CK_OBJECT_HANDLE aes, copy, pub, priv;
    OK(f->C_GenerateKey(g_s, &kg, aes_t, N(aes_t), &aes));
    OK(f->C_GenerateKeyPair(g_s, &ekg, pub_t, N(pub_t), priv_t, N(priv_t), &pub, &priv));
    capture(aes, S_GEN_AES);
    capture(priv, S_GEN_EC);
    OK(f->C_CopyObject(g_s, aes, NULL, 0, &copy));
    use_aes(aes);
    use_aes(copy);
    use_ec(priv);
    assert_true(found(S_GEN_AES) > 0);
    assert_true(found(S_GEN_EC) > 0);
    OK(f->C_DestroyObject(g_s, aes));
    OK(f->C_DestroyObject(g_s, copy));
    OK(f->C_DestroyObject(g_s, priv));
    OK(f->C_DestroyObject(g_s, pub));
    static const enum secret_id ids[] = {S_GEN_AES, S_GEN_EC};
    expect_gone("C_DestroyObject of generated keys", ids, N(ids));
}

int main(void)
{
    /* meson test sets MALLOC_PERTURB_, which makes glibc overwrite freed
     * memory: that would hide exactly the unwiped frees this test looks
     * for (and defeat its positive control). */
    mallopt(M_PERTURB, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scanner_finds_planted_value),
        cmocka_unit_test(test_scanner_finds_freed_value),
        cmocka_unit_test(test_session_keys_destroyed),
        cmocka_unit_test(test_token_key_destroyed),
        cmocka_unit_test(test_generated_keys_destroyed),
        cmocka_unit_test(test_token_keys_logout),
        cmocka_unit_test(test_finalize_leaves_nothing),
    };
    return cmocka_run_group_tests_name("abi-memscan", tests, group_setup, group_teardown);
}
