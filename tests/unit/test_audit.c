/*
 * Unit tests for src/audit: the line layout and its escaping, the hash
 * chain (plain and HMAC), the verifier's findings on tampered logs, restart
 * and torn-line recovery, rotation, level filtering, back-pressure, several
 * writers on one file (two logs in one process, and fork), the refusals of
 * audit_open and audit_load_key, and the failure path.
 *
 * Hashes are recomputed here with OpenSSL's one-shot calls, independently
 * of the module's hasher, so a chain built with the wrong algorithm fails.
 */
#include "unit_util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/file.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>

#include <openssl/evp.h>

#include "audit/audit.h"
#include "common/ck_names.h"

#define TS_LEN     27 /* 2026-11-27T17:45:51.123456Z */
#define HEX_DIGITS "0123456789abcdef"
#define KEY_BYTES  32

/* ---- fixture ------------------------------------------------------------ */

struct fx {
    struct ut_env *env;
    char path[PATH_MAX]; /* <dir>/audit.jsonl, the config's log_path */
};

static void set_log_path(struct fx *f, const char *name)
{
    ut_join(f->path, f->env->dir, name);
    free(f->env->cfg.audit_log_path);
    f->env->cfg.audit_log_path = strdup(f->path);
    assert_non_null(f->env->cfg.audit_log_path);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    f->env = ut_env_new();
    set_log_path(f, "audit.jsonl");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    ut_env_free(f->env);
    free(f);
    return 0;
}

static struct audit *open_log(struct fx *f)
{
    struct audit *a = NULL;
    char err[AUDIT_ERR_MAX] = "";
    CK_RV rv = audit_open(&f->env->cfg, f->env->crypto, NULL, NULL, &a, err);
    if (rv != CKR_OK)
        print_message("audit_open: %s\n", err);
    assert_int_equal(rv, CKR_OK);
    assert_non_null(a);
    return a;
}

/* audit_open must fail; returns its message. */
static void open_fails(struct fx *f, char err[AUDIT_ERR_MAX])
{
    struct audit *a = (struct audit *)1;
    err[0] = '\0';
    assert_int_equal(audit_open(&f->env->cfg, f->env->crypto, NULL, NULL, &a, err),
                     CKR_GENERAL_ERROR);
    assert_null(a);
    assert_true(err[0] != '\0');
}

/* Logs event name #i with a detail naming i. */
static void log_n(struct audit *a, const char *name, unsigned long i)
{
    struct audit_event e;
    char detail[64];
    snprintf(detail, sizeof(detail), "record %lu", i);
    audit_event_init(&e, name, AUDIT_SYSTEM);
    e.detail = detail;
    audit_log(a, &e);
}

/* A closed log of n records "r" at f->path. */
static void make_log(struct fx *f, unsigned long n)
{
    struct audit *a = open_log(f);
    for (unsigned long i = 1; i <= n; i++)
        log_n(a, "r", i);
    assert_int_equal(audit_flush(a), CKR_OK);
    audit_close(a);
}

/* ---- reading and rewriting a log ---------------------------------------- */

struct lines {
    char *data;
    size_t size;
    size_t n;
    char **v; /* NUL-terminated lines (the '\n' replaced) */
    size_t *len;
};

static void lines_read(const char *path, struct lines *L)
{
    struct stat st;
    memset(L, 0, sizeof(*L));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    L->size = (size_t)st.st_size;
    L->data = malloc(L->size + 1);
    assert_non_null(L->data);
    size_t got = 0;
    while (got < L->size) {
        ssize_t k = read(fd, L->data + got, L->size - got);
        assert_true(k > 0);
        got += (size_t)k;
    }
    close(fd);
    L->data[L->size] = '\0';
    size_t cap = 16;
    L->v = malloc(cap * sizeof(*L->v));
    L->len = malloc(cap * sizeof(*L->len));
    assert_true(L->v != NULL && L->len != NULL);
    for (size_t i = 0; i < L->size;) {
        char *nl = memchr(L->data + i, '\n', L->size - i);
        size_t end = nl != NULL ? (size_t)(nl - L->data) : L->size;
        if (L->n == cap) {
            cap *= 2;
            L->v = realloc(L->v, cap * sizeof(*L->v));
            L->len = realloc(L->len, cap * sizeof(*L->len));
            assert_true(L->v != NULL && L->len != NULL);
        }
        L->data[end] = '\0';
        L->v[L->n] = L->data + i;
        L->len[L->n] = end - i;
        L->n++;
        i = end + 1;
    }
}

static void lines_free(struct lines *L)
{
    free(L->data);
    free(L->v);
    free(L->len);
    memset(L, 0, sizeof(*L));
}

/* Writes lines v[0..n) (each + '\n') to path, replacing it. */
static void lines_write(const char *path, char *const *v, const size_t *len, size_t n)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(fwrite(v[i], 1, len[i], fp), len[i]);
        assert_int_not_equal(fputc('\n', fp), EOF);
    }
    assert_int_equal(fclose(fp), 0);
}

static size_t count_lines(const char *path)
{
    struct lines L;
    lines_read(path, &L);
    size_t n = L.n;
    lines_free(&L);
    return n;
}

/* The raw text of a numeric field ("seq", "pid", ...) as a number. */
static unsigned long num_field(const char *line, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    const char *p = strstr(line, pat);
    assert_non_null(p);
    return strtoul(p + strlen(pat), NULL, 10);
}

/* The text between the quotes of a string field (escapes left as they are). */
static void str_field(const char *line, const char *key, char *out, size_t cap)
{
    char pat[32];
    snprintf(pat, sizeof(pat), "\"%s\":\"", key);
    const char *p = strstr(line, pat);
    assert_non_null(p);
    p += strlen(pat);
    size_t n = 0;
    while (p[n] != '\0' && !(p[n] == '"' && (n == 0 || p[n - 1] != '\\')))
        n++;
    assert_true(n < cap);
    memcpy(out, p, n);
    out[n] = '\0';
}

static void hex(const unsigned char *in, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = HEX_DIGITS[in[i] >> 4];
        out[2 * i + 1] = HEX_DIGITS[in[i] & 15];
    }
    out[2 * len] = '\0';
}

/* SHA-256 or HMAC-SHA256 of a line, by OpenSSL's one-shot calls. */
static void chain_hash(const unsigned char *key, size_t key_len, const char *line, size_t len,
                       char out[AUDIT_HASH_HEX + 1])
{
    unsigned char md[32];
    size_t mdlen = 0;
    if (key == NULL)
        assert_int_equal(EVP_Q_digest(NULL, "SHA256", NULL, line, len, md, &mdlen), 1);
    else
        assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len,
                                  (const unsigned char *)line, len, md, sizeof(md), &mdlen));
    assert_int_equal(mdlen, 32);
    hex(md, 32, out);
}

/* Every line of L: the shape, seq first..first+n-1, and each prev_hash
 * recomputed here from the line before (genesis for seq 1). */
static void check_chain(const struct lines *L, const unsigned char *key, size_t key_len,
                        unsigned long first)
{
    char want[AUDIT_HASH_HEX + 1];
    for (size_t i = 0; i < L->n; i++) {
        unsigned long seq;
        const char *prev;
        const char *why = audit_line_parse(L->v[i], L->len[i], &seq, &prev);
        if (why != NULL)
            print_message("line %zu: %s: %s\n", i + 1, why, L->v[i]);
        assert_null(why);
        assert_true(L->len[i] <= AUDIT_LINE_MAX);
        assert_int_equal(seq, first + i);
        if (i == 0 && seq == 1)
            snprintf(want, sizeof(want), "%s", AUDIT_GENESIS);
        else if (i > 0)
            chain_hash(key, key_len, L->v[i - 1], L->len[i - 1], want);
        else
            continue; /* an anchor: nothing before it here */
        assert_memory_equal(prev, want, AUDIT_HASH_HEX);
    }
}

static void expect_intact(struct crypto *c, const char *path, const unsigned char *key,
                          size_t key_len, unsigned long records, unsigned long first_seq)
{
    struct audit_verify_result r;
    int ret = audit_verify(c, path, key, key_len, &r);
    if (ret != 0)
        print_message("verify: %s: %s\n", r.bad_file, r.why);
    assert_int_equal(ret, 0);
    assert_int_equal(r.records, records);
    assert_int_equal(r.first_seq, first_seq);
    assert_int_equal(r.bad_line, 0);
    assert_string_equal(r.why, "");
}

/* Verification must name file:line and a reason containing why. */
static void expect_bad(struct crypto *c, const char *path, const unsigned char *key, size_t key_len,
                       const char *file, unsigned long line, const char *why)
{
    struct audit_verify_result r;
    assert_int_equal(audit_verify(c, path, key, key_len, &r), 1);
    if (r.bad_line != line || strstr(r.why, why) == NULL)
        print_message("verify: %s: %s\n", r.bad_file, r.why);
    assert_int_equal(r.bad_line, line);
    assert_string_equal(r.bad_file, file);
    assert_non_null(strstr(r.why, why));
}

/* ---- the line ------------------------------------------------------------ */

static bool ts_shape(const char *ts)
{
    static const char pattern[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";
    for (size_t k = 0; k < TS_LEN; k++) {
        bool digit = ts[k] >= '0' && ts[k] <= '9';
        if (pattern[k] == 'd' ? !digit : ts[k] != pattern[k])
            return false;
    }
    return true;
}

/* Line i of L is {"ts":"<now>", then exactly rest. */
static void expect_line(const struct lines *L, size_t i, const char *rest)
{
    const char *line = L->v[i];
    assert_true(strncmp(line, "{\"ts\":\"", 7) == 0);
    assert_true(ts_shape(line + 7));
    /* Within a minute of now (UTC). */
    struct tm tm = {0};
    assert_non_null(strptime(line + 7, "%Y-%m-%dT%H:%M:%S", &tm));
    time_t t = timegm(&tm);
    assert_true(llabs((long long)(t - time(NULL))) < 60);
    if (strcmp(line + 7 + TS_LEN, rest) != 0)
        print_message("got  %s\nwant %s\n", line + 7 + TS_LEN, rest);
    assert_string_equal(line + 7 + TS_LEN, rest);
}

static void test_line_layout(void **state)
{
    struct fx *f = *state;
    struct audit *a = open_log(f);
    struct audit_event e;
    struct lines L;
    char want[2 * AUDIT_LINE_MAX], h[AUDIT_HASH_HEX + 1];
    long pid = (long)getpid();
    static const unsigned char id[] = {0x0a, 0x1b};
    /* quote, backslash, newline, a lone 0xff, a bad 2-byte start, é, DEL */
    static const char label[] = "a\"b\\c\nd\xff\xc3(\xc3\xa9\x7f";

    audit_event_init(&e, "sign", AUDIT_CRYPTO);
    e.slot = 0;
    e.session = 3;
    e.user = CKU_USER;
    e.mechanism = CKM_ECDSA;
    e.object = 17;
    e.obj_class = CKO_PRIVATE_KEY;
    e.key_id = id;
    e.key_id_len = sizeof(id);
    e.label = "k1";
    e.label_len = 2;
    e.detail = "ok";
    audit_log(a, &e);

    audit_event_init(&e, "login", AUDIT_AUTH);
    e.user = CKU_SO;
    e.rv = CKR_PIN_INCORRECT;
    e.label = label;
    e.label_len = sizeof(label) - 1;
    audit_log(a, &e);

    audit_event_init(&e, "login", AUDIT_AUTH);
    e.user = CKU_CONTEXT_SPECIFIC;
    e.mechanism = CKM_VENDOR_DEFINED | 0x1234;
    e.obj_class = CKO_VENDOR_DEFINED | 7;
    audit_log(a, &e);

    audit_event_init(&e, "x", AUDIT_SESSION);
    e.user = 7;
    e.key_id = id; /* present but empty */
    e.key_id_len = 0;
    audit_log_sync(a, &e);
    /* audit_log_sync returned: the record is on disk without a flush. */
    lines_read(f->path, &L);
    assert_int_equal(L.n, 4);
    lines_free(&L);
    audit_close(a);

    lines_read(f->path, &L);
    assert_int_equal(L.n, 4);
    check_chain(&L, NULL, 0, 1);
    snprintf(want, sizeof(want),
             "\",\"seq\":1,\"pid\":%ld,\"event\":\"sign\",\"slot\":0,\"session\":3,\"user\":"
             "\"USER\",\"mechanism\":\"CKM_ECDSA\",\"object\":17,\"class\":\"CKO_PRIVATE_KEY\","
             "\"key_id\":\"0a1b\",\"label\":\"k1\",\"detail\":\"ok\",\"result\":\"CKR_OK\","
             "\"prev_hash\":\"%s\"}",
             pid, AUDIT_GENESIS);
    expect_line(&L, 0, want);
    chain_hash(NULL, 0, L.v[0], L.len[0], h);
    snprintf(want, sizeof(want),
             "\",\"seq\":2,\"pid\":%ld,\"event\":\"login\",\"user\":\"SO\",\"label\":"
             "\"a\\\"b\\\\c\\u000ad\\ufffd\\ufffd(\xc3\xa9\\u007f\",\"result\":"
             "\"CKR_PIN_INCORRECT\",\"prev_hash\":\"%s\"}",
             pid, h);
    expect_line(&L, 1, want);
    chain_hash(NULL, 0, L.v[1], L.len[1], h);
    snprintf(want, sizeof(want),
             "\",\"seq\":3,\"pid\":%ld,\"event\":\"login\",\"user\":\"CONTEXT_SPECIFIC\","
             "\"mechanism\":\"%s\",\"class\":\"CKO_0x80000007\",\"result\":\"CKR_OK\","
             "\"prev_hash\":\"%s\"}",
             pid, ck_mechanism_name(CKM_VENDOR_DEFINED | 0x1234), h);
    expect_line(&L, 2, want);
    assert_non_null(strstr(L.v[2], "\"mechanism\":\"CKM_"));
    chain_hash(NULL, 0, L.v[2], L.len[2], h);
    snprintf(want, sizeof(want),
             "\",\"seq\":4,\"pid\":%ld,\"event\":\"x\",\"user\":7,\"key_id\":\"\",\"result\":"
             "\"CKR_OK\",\"prev_hash\":\"%s\"}",
             pid, h);
    expect_line(&L, 3, want);
    /* Timestamps follow seq. */
    for (size_t i = 1; i < L.n; i++)
        assert_true(strncmp(L.v[i - 1] + 7, L.v[i] + 7, TS_LEN) <= 0);
    lines_free(&L);
    expect_intact(f->env->crypto, f->path, NULL, 0, 4, 1);
}

/* Fields longer than the limits are cut; the worst-case escaping still
 * fits a line. */
static void test_long_fields(void **state)
{
    struct fx *f = *state;
    struct audit *a = open_log(f);
    struct audit_event e;
    struct lines L;
    unsigned char id[100], label[100];
    char detail[300], event[80], got[2 * AUDIT_LINE_MAX];

    for (size_t i = 0; i < sizeof(id); i++)
        id[i] = (unsigned char)i;
    memset(label, 'L', sizeof(label));
    memset(detail, 'D', sizeof(detail) - 1);
    detail[sizeof(detail) - 1] = '\0';
    audit_event_init(&e, "long", AUDIT_ADMIN);
    e.key_id = id;
    e.key_id_len = sizeof(id);
    e.label = label;
    e.label_len = sizeof(label);
    e.detail = detail;
    audit_log(a, &e);

    /* Every byte escaped to six: event, label and detail at their limits. */
    memset(event, 0x01, sizeof(event) - 1);
    event[sizeof(event) - 1] = '\0';
    memset(label, 0x02, sizeof(label));
    memset(detail, 0x03, sizeof(detail) - 1);
    audit_event_init(&e, event, AUDIT_ADMIN);
    e.key_id = id;
    e.key_id_len = sizeof(id);
    e.label = label;
    e.label_len = sizeof(label);
    e.detail = detail;
    e.slot = e.session = e.object = AUDIT_NONE - 1;
    e.mechanism = CKM_VENDOR_DEFINED | 1;
    e.obj_class = CKO_VENDOR_DEFINED | 1;
    e.user = AUDIT_NONE - 1;
    audit_log(a, &e);
    audit_close(a);

    lines_read(f->path, &L);
    assert_int_equal(L.n, 2);
    check_chain(&L, NULL, 0, 1);
    str_field(L.v[0], "key_id", got, sizeof(got));
    assert_int_equal(strlen(got), 2 * AUDIT_ID_MAX);
    assert_true(strncmp(got, "000102030405", 12) == 0);
    str_field(L.v[0], "label", got, sizeof(got));
    assert_int_equal(strlen(got), AUDIT_LABEL_MAX);
    str_field(L.v[0], "detail", got, sizeof(got));
    assert_int_equal(strlen(got), AUDIT_DETAIL_MAX);
    assert_true(L.len[1] <= AUDIT_LINE_MAX);
    str_field(L.v[1], "label", got, sizeof(got));
    assert_int_equal(strlen(got), 6 * AUDIT_LABEL_MAX);
    str_field(L.v[1], "detail", got, sizeof(got));
    assert_true(strlen(got) > 0 && strlen(got) % 6 == 0); /* cut at an escape */
    lines_free(&L);
    expect_intact(f->env->crypto, f->path, NULL, 0, 2, 1);
}

/* ---- the chain under concurrency ----------------------------------------- */

struct producer {
    struct audit *a;
    unsigned long n;
    unsigned id;
    atomic_ulong *done; /* audit_log calls returned, across producers */
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    struct audit_event e;
    char detail[64];
    for (unsigned long i = 0; i < p->n; i++) {
        snprintf(detail, sizeof(detail), "thread %u record %lu", p->id, i);
        audit_event_init(&e, "sign", AUDIT_CRYPTO);
        e.session = p->id;
        e.detail = detail;
        audit_log(p->a, &e);
        if (p->done != NULL)
            atomic_fetch_add(p->done, 1);
    }
    return NULL;
}

static void run_producers(struct audit *const *logs, size_t nlogs, unsigned threads,
                          unsigned long each, atomic_ulong *done)
{
    pthread_t t[8];
    struct producer p[8];
    assert_true(threads <= 8);
    for (unsigned i = 0; i < threads; i++) {
        p[i] = (struct producer){logs[i % nlogs], each, i, done};
        assert_int_equal(pthread_create(&t[i], NULL, produce, &p[i]), 0);
    }
    for (unsigned i = 0; i < threads; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
}

static void test_chain_threads(void **state)
{
    struct fx *f = *state;
    struct audit *a = open_log(f);
    struct lines L;
    run_producers(&a, 1, 4, 2000, NULL);
    assert_int_equal(audit_flush(a), CKR_OK);
    audit_close(a);
    lines_read(f->path, &L);
    assert_int_equal(L.n, 8000);
    check_chain(&L, NULL, 0, 1);
    /* Each thread's records are in its own order. */
    unsigned long next[4] = {0};
    for (size_t i = 0; i < L.n; i++) {
        unsigned s = (unsigned)num_field(L.v[i], "session");
        assert_true(s < 4);
        char d[64], w[64];
        str_field(L.v[i], "detail", d, sizeof(d));
        snprintf(w, sizeof(w), "thread %u record %lu", s, next[s]++);
        assert_string_equal(d, w);
    }
    lines_free(&L);
    expect_intact(f->env->crypto, f->path, NULL, 0, 8000, 1);
}

struct backpressure {
    struct audit *a;
    atomic_ulong done;
};

/* With the writer stuck (another holder of the file lock), producers fill
 * the queue and then wait: exactly AUDIT_QUEUE_MAX calls return, nothing
 * is dropped, and all of them land once the lock is released. */
static void test_queue_full(void **state)
{
    struct fx *f = *state;
    struct audit *a = open_log(f);
    atomic_ulong done = 0;
    pthread_t t[4];
    struct producer p[4];
    const unsigned long each = 3000; /* 12000 > AUDIT_QUEUE_MAX */

    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX), 0);
    for (unsigned i = 0; i < 4; i++) {
        p[i] = (struct producer){a, each, i, &done};
        assert_int_equal(pthread_create(&t[i], NULL, produce, &p[i]), 0);
    }
    for (int ms = 0; ms < 30000 && atomic_load(&done) < AUDIT_QUEUE_MAX; ms += 10)
        usleep(10000);
    usleep(200000);
    assert_int_equal(atomic_load(&done), AUDIT_QUEUE_MAX);
    assert_int_equal(count_lines(f->path), 0);
    assert_int_equal(flock(fd, LOCK_UN), 0);
    close(fd);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_int_equal(audit_flush(a), CKR_OK);
    audit_close(a);
    assert_int_equal(count_lines(f->path), 4 * each);
    expect_intact(f->env->crypto, f->path, NULL, 0, 4 * each, 1);
}

/* Two logs on one file (as two processes would have): alternating
 * batches, then concurrent ones; one chain. */
static void test_two_writers(void **state)
{
    struct fx *f = *state;
    struct audit *logs[2] = {open_log(f), open_log(f)};
    struct lines L;
    for (unsigned long round = 0; round < 50; round++) {
        for (int w = 0; w < 2; w++) {
            for (int k = 0; k < 3; k++)
                log_n(logs[w], w == 0 ? "first" : "second", round);
            assert_int_equal(audit_flush(logs[w]), CKR_OK);
        }
    }
    run_producers(logs, 2, 4, 500, NULL);
    assert_int_equal(audit_flush(logs[0]), CKR_OK);
    assert_int_equal(audit_flush(logs[1]), CKR_OK);
    audit_close(logs[0]);
    audit_close(logs[1]);
    lines_read(f->path, &L);
    assert_int_equal(L.n, 300 + 2000);
    check_chain(&L, NULL, 0, 1);
    /* The alternation shows in the file: 3 of one, 3 of the other. */
    for (size_t i = 0; i < 300; i++) {
        char ev[16];
        str_field(L.v[i], "event", ev, sizeof(ev));
        assert_string_equal(ev, (i / 3) % 2 == 0 ? "first" : "second");
    }
    lines_free(&L);
    expect_intact(f->env->crypto, f->path, NULL, 0, 2300, 1);
}

/* A forked child and its parent append to one file at the same time. */
static void test_fork_writers(void **state)
{
    struct fx *f = *state;
    struct lines L;
    const unsigned long n = 400;

    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct audit *a = NULL;
        char err[AUDIT_ERR_MAX];
        int code = 0;
        if (audit_open(&f->env->cfg, f->env->crypto, NULL, NULL, &a, err) != CKR_OK)
            _exit(2);
        for (unsigned long i = 0; i < n; i++) {
            log_n(a, "child", i);
            if (i % 10 == 9 && audit_flush(a) != CKR_OK)
                code = 3;
        }
        if (audit_flush(a) != CKR_OK)
            code = 3;
        audit_close(a);
        _exit(code);
    }
    struct audit *a = open_log(f);
    for (unsigned long i = 0; i < n; i++) {
        log_n(a, "parent", i);
        if (i % 10 == 9)
            assert_int_equal(audit_flush(a), CKR_OK);
    }
    assert_int_equal(audit_flush(a), CKR_OK);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    audit_close(a);

    lines_read(f->path, &L);
    assert_int_equal(L.n, 2 * n);
    check_chain(&L, NULL, 0, 1);
    unsigned long parent = 0, kid = 0;
    for (size_t i = 0; i < L.n; i++) {
        long pid = (long)num_field(L.v[i], "pid");
        if (pid == (long)getpid())
            parent++;
        else if (pid == (long)child)
            kid++;
    }
    assert_int_equal(parent, n);
    assert_int_equal(kid, n);
    lines_free(&L);
    expect_intact(f->env->crypto, f->path, NULL, 0, 2 * n, 1);
}

/* A child forked while a log is open: audit_close on the inherited copy
 * returns at once (no writer thread there), and a new log in the child
 * joins the parent's chain. */
static void test_fork_inherited(void **state)
{
    struct fx *f = *state;
    struct audit *a = open_log(f);
    for (unsigned long i = 0; i < 100; i++)
        log_n(a, "before", i);

    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct audit *b = NULL;
        char err[AUDIT_ERR_MAX];
        alarm(30); /* a hang fails the test instead of blocking it */
        audit_close(a);
        if (audit_open(&f->env->cfg, f->env->crypto, NULL, NULL, &b, err) != CKR_OK)
            _exit(2);
        log_n(b, "child", 0);
        if (audit_flush(b) != CKR_OK)
            _exit(3);
        audit_close(b);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    log_n(a, "after", 0);
    audit_close(a);

    struct lines L;
    lines_read(f->path, &L);
    assert_int_equal(L.n, 102);
    check_chain(&L, NULL, 0, 1);
    unsigned long kids = 0;
    for (size_t i = 0; i < L.n; i++)
        kids += num_field(L.v[i], "pid") == (unsigned long)child;
    assert_int_equal(kids, 1);
    lines_free(&L);
    expect_intact(f->env->crypto, f->path, NULL, 0, 102, 1);
}

/* ---- the verifier --------------------------------------------------------- */

/* Builds a 10-record log, applies edit to its lines, rewrites the file. */
typedef void (*edit_fn)(struct lines *L, char *scratch);

static void tampered(struct fx *f, edit_fn edit)
{
    struct lines L;
    char scratch[4 * AUDIT_LINE_MAX];
    assert_int_equal(unlink(f->path) == 0 || errno == ENOENT, 1);
    make_log(f, 10);
    lines_read(f->path, &L);
    assert_int_equal(L.n, 10);
    edit(&L, scratch);
    lines_write(f->path, L.v, L.len, L.n);
    lines_free(&L);
}

static void edit_detail_5(struct lines *L, char *scratch)
{
    (void)scratch;
    char *p = strstr(L->v[4], "record 5");
    assert_non_null(p);
    p[7] = '6'; /* "record 6": same length */
}

static void edit_seq_5(struct lines *L, char *scratch)
{
    char *p = strstr(L->v[4], "\"seq\":5,");
    assert_non_null(p);
    size_t head = (size_t)(p - L->v[4]);
    snprintf(scratch, 4 * AUDIT_LINE_MAX, "%.*s\"seq\":15,%s", (int)head, L->v[4], p + 8);
    L->v[4] = scratch;
    L->len[4] = strlen(scratch);
}

static void delete_line_4(struct lines *L, char *scratch)
{
    (void)scratch;
    memmove(&L->v[3], &L->v[4], 6 * sizeof(*L->v));
    memmove(&L->len[3], &L->len[4], 6 * sizeof(*L->len));
    L->n--;
}

static void insert_copy_of_3_after_7(struct lines *L, char *scratch)
{
    (void)scratch;
    L->v = realloc(L->v, 11 * sizeof(*L->v));
    L->len = realloc(L->len, 11 * sizeof(*L->len));
    assert_true(L->v != NULL && L->len != NULL);
    memmove(&L->v[8], &L->v[7], 3 * sizeof(*L->v));
    memmove(&L->len[8], &L->len[7], 3 * sizeof(*L->len));
    L->v[7] = L->v[2];
    L->len[7] = L->len[2];
    L->n++;
}

/* A forged line 8 with the right seq and a correct plain-SHA-256 link:
 * the original line 8 after it no longer links. */
static void insert_forged_after_7(struct lines *L, char *scratch)
{
    char h[AUDIT_HASH_HEX + 1];
    chain_hash(NULL, 0, L->v[6], L->len[6], h);
    snprintf(scratch, 4 * AUDIT_LINE_MAX,
             "{\"ts\":\"2026-01-01T00:00:00.000000Z\",\"seq\":8,\"pid\":1,\"event\":\"forged\","
             "\"result\":\"CKR_OK\",\"prev_hash\":\"%s\"}",
             h);
    insert_copy_of_3_after_7(L, NULL);
    L->v[7] = scratch;
    L->len[7] = strlen(scratch);
    /* The old line 8 (now 9) keeps seq 8: renumber it and the rest. */
    for (size_t i = 8; i < L->n; i++) {
        char *p = strstr(L->v[i], "\"seq\":");
        assert_non_null(p);
        char *q = scratch + 2 * AUDIT_LINE_MAX + (i - 8) * 600;
        unsigned long seq = strtoul(p + 6, NULL, 10);
        snprintf(q, 600, "%.*s\"seq\":%lu%s", (int)(p - L->v[i]), L->v[i], seq + 1,
                 strchr(p + 6, ','));
        L->v[i] = q;
        L->len[i] = strlen(q);
    }
}

static void swap_6_7(struct lines *L, char *scratch)
{
    (void)scratch;
    char *v = L->v[5];
    size_t n = L->len[5];
    L->v[5] = L->v[6], L->len[5] = L->len[6];
    L->v[6] = v, L->len[6] = n;
}

static void garbage_line_3(struct lines *L, char *scratch)
{
    (void)scratch;
    L->v[2] = "hello";
    L->len[2] = 5;
}

static void edit_genesis(struct lines *L, char *scratch)
{
    (void)scratch;
    char *p = strstr(L->v[0], AUDIT_GENESIS);
    assert_non_null(p);
    p[0] = '1';
}

static void delete_line_1(struct lines *L, char *scratch)
{
    (void)scratch;
    memmove(&L->v[0], &L->v[1], 9 * sizeof(*L->v));
    memmove(&L->len[0], &L->len[1], 9 * sizeof(*L->len));
    L->n--;
}

static void test_verify_tamper(void **state)
{
    struct fx *f = *state;
    struct crypto *c = f->env->crypto;

    make_log(f, 10);
    expect_intact(c, f->path, NULL, 0, 10, 1);

    tampered(f, edit_detail_5);
    expect_bad(c, f->path, NULL, 0, f->path, 6,
               "line 6: prev_hash does not match line 5 (line 5 was changed");
    tampered(f, edit_seq_5);
    expect_bad(c, f->path, NULL, 0, f->path, 5, "line 5: seq 15 follows seq 4");
    tampered(f, delete_line_4);
    expect_bad(c, f->path, NULL, 0, f->path, 4, "line 4: seq 5 follows seq 3");
    tampered(f, insert_copy_of_3_after_7);
    expect_bad(c, f->path, NULL, 0, f->path, 8, "line 8: seq 3 follows seq 7");
    tampered(f, insert_forged_after_7);
    expect_bad(c, f->path, NULL, 0, f->path, 9, "line 9: prev_hash does not match line 8");
    tampered(f, swap_6_7);
    expect_bad(c, f->path, NULL, 0, f->path, 6, "line 6: seq 7 follows seq 5");
    tampered(f, garbage_line_3);
    expect_bad(c, f->path, NULL, 0, f->path, 3, "line 3: not an audit record");
    tampered(f, edit_genesis);
    expect_bad(c, f->path, NULL, 0, f->path, 1, "line 1: seq 1 but prev_hash is not the genesis");

    /* A cut last line (no '\n' at the end). */
    assert_int_equal(unlink(f->path), 0);
    make_log(f, 10);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(truncate(f->path, st.st_size - 10), 0);
    expect_bad(c, f->path, NULL, 0, f->path, 10, "line 10: incomplete last line");

    /* Older lines removed: the first one left is the anchor (intact). */
    tampered(f, delete_line_1);
    expect_intact(c, f->path, NULL, 0, 9, 2);

    /* A missing log cannot be read. */
    struct audit_verify_result r;
    char missing[PATH_MAX];
    ut_join(missing, f->env->dir, "none.jsonl");
    assert_int_equal(audit_verify(c, missing, NULL, 0, &r), -1);
    assert_non_null(strstr(r.why, "none.jsonl"));
}

/* ---- HMAC chain ------------------------------------------------------------- */

static void write_key(const char *path, const unsigned char *key, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, key, len), (ssize_t)len);
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_hmac_chain(void **state)
{
    struct fx *f = *state;
    struct crypto *c = f->env->crypto;
    unsigned char key[KEY_BYTES], wrong[KEY_BYTES];
    char key_path[PATH_MAX], plain[PATH_MAX];
    struct lines L;

    for (size_t i = 0; i < sizeof(key); i++) {
        key[i] = (unsigned char)(i * 7 + 1);
        wrong[i] = key[i];
    }
    wrong[31] ^= 1;
    ut_join(key_path, f->env->dir, "audit.key");
    write_key(key_path, key, sizeof(key), 0600);

    /* The same events, once plain, once keyed. */
    ut_join(plain, f->env->dir, "plain.jsonl");
    set_log_path(f, "plain.jsonl");
    make_log(f, 5);
    set_log_path(f, "keyed.jsonl");
    f->env->cfg.audit_hmac_key_file = strdup(key_path);
    assert_non_null(f->env->cfg.audit_hmac_key_file);
    make_log(f, 5);

    lines_read(f->path, &L);
    assert_int_equal(L.n, 5);
    check_chain(&L, key, sizeof(key), 1);
    lines_free(&L);
    expect_intact(c, f->path, key, sizeof(key), 5, 1);
    expect_bad(c, f->path, NULL, 0, f->path, 2, "prev_hash does not match line 1");
    expect_bad(c, f->path, wrong, sizeof(wrong), f->path, 2, "prev_hash does not match line 1");
    /* A chain rebuilt with plain SHA-256 fails under the key. */
    expect_intact(c, plain, NULL, 0, 5, 1);
    expect_bad(c, plain, key, sizeof(key), plain, 2, "prev_hash does not match line 1");

    /* Restart in keyed mode continues the keyed chain. */
    make_log(f, 3);
    expect_intact(c, f->path, key, sizeof(key), 8, 1);
}

static void test_key_rules(void **state)
{
    struct fx *f = *state;
    unsigned char key[64];
    unsigned char *got = NULL;
    size_t len = 0;
    char path[PATH_MAX], link[PATH_MAX], err[AUDIT_ERR_MAX];

    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (unsigned char)(0xa0 + i);
    ut_join(path, f->env->dir, "k");
    write_key(path, key, sizeof(key), 0600);
    assert_int_equal(audit_load_key(path, &got, &len, err), CKR_OK);
    assert_int_equal(len, sizeof(key));
    assert_memory_equal(got, key, sizeof(key));
    crypto_secret_free(got, len);

    /* Readable by others. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(audit_load_key(path, &got, &len, err), CKR_GENERAL_ERROR);
    assert_null(got);
    assert_non_null(strstr(err, "chmod 600"));
    assert_non_null(strstr(err, path));
    f->env->cfg.audit_hmac_key_file = strdup(path);
    assert_non_null(f->env->cfg.audit_hmac_key_file);
    open_fails(f, err);
    assert_non_null(strstr(err, "chmod 600"));
    /* Group-writable only is refused too. */
    assert_int_equal(chmod(path, 0620), 0);
    assert_int_equal(audit_load_key(path, &got, &len, err), CKR_GENERAL_ERROR);

    /* Too short. */
    write_key(path, key, 31, 0600);
    assert_int_equal(audit_load_key(path, &got, &len, err), CKR_GENERAL_ERROR);
    assert_non_null(strstr(err, "31 bytes"));
    write_key(path, key, 32, 0600);
    assert_int_equal(audit_load_key(path, &got, &len, err), CKR_OK);
    crypto_secret_free(got, len);

    /* A symlink to a good key. */
    ut_join(link, f->env->dir, "k-link");
    assert_int_equal(symlink(path, link), 0);
    assert_int_equal(audit_load_key(link, &got, &len, err), CKR_GENERAL_ERROR);
    assert_non_null(strstr(err, "symbolic link"));

    /* Missing. */
    ut_join(link, f->env->dir, "absent");
    assert_int_equal(audit_load_key(link, &got, &len, err), CKR_GENERAL_ERROR);
    assert_non_null(strstr(err, "absent"));
}

/* ---- restart, recovery, refusals -------------------------------------------- */

static void test_restart(void **state)
{
    struct fx *f = *state;
    struct lines L;
    make_log(f, 5);
    make_log(f, 5);
    struct audit *a = open_log(f); /* opened and closed with nothing logged */
    audit_close(a);
    make_log(f, 2);
    lines_read(f->path, &L);
    assert_int_equal(L.n, 12);
    check_chain(&L, NULL, 0, 1);
    lines_free(&L);
    expect_intact(f->env->crypto, f->path, NULL, 0, 12, 1);
}

static void append(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void test_torn_tail(void **state)
{
    struct fx *f = *state;
    struct lines L;
    char d[128];

    make_log(f, 5);
    append(f->path, "{\"ts\":\"2026-11"); /* 14 bytes, no '\n': a crash mid-write */
    expect_bad(f->env->crypto, f->path, NULL, 0, f->path, 6, "incomplete last line");
    struct audit *a = open_log(f);
    log_n(a, "after", 6);
    audit_close(a);
    lines_read(f->path, &L);
    assert_int_equal(L.n, 7);
    check_chain(&L, NULL, 0, 1);
    str_field(L.v[5], "event", d, sizeof(d));
    assert_string_equal(d, "audit_recovered");
    str_field(L.v[5], "detail", d, sizeof(d));
    assert_string_equal(d, "cut 14 bytes of an incomplete last line");
    str_field(L.v[6], "event", d, sizeof(d));
    assert_string_equal(d, "after");
    lines_free(&L);
    expect_intact(f->env->crypto, f->path, NULL, 0, 7, 1);

    /* A file holding only a torn first line starts the chain afresh. */
    set_log_path(f, "torn-only.jsonl");
    append(f->path, "{\"ts\"");
    make_log(f, 1);
    lines_read(f->path, &L);
    assert_int_equal(L.n, 2);
    check_chain(&L, NULL, 0, 1);
    str_field(L.v[0], "detail", d, sizeof(d));
    assert_string_equal(d, "cut 5 bytes of an incomplete last line");
    lines_free(&L);
}

static void test_refusals(void **state)
{
    struct fx *f = *state;
    char err[AUDIT_ERR_MAX], target[PATH_MAX];
    struct stat st;

    /* A symlink, even to a valid log. */
    ut_join(target, f->env->dir, "real.jsonl");
    set_log_path(f, "real.jsonl");
    make_log(f, 2);
    set_log_path(f, "link.jsonl");
    assert_int_equal(symlink(target, f->path), 0);
    open_fails(f, err);
    assert_non_null(strstr(err, f->path));
    assert_non_null(strstr(err, "symbolic link"));
    /* A dangling symlink: nothing is created at its target. */
    set_log_path(f, "dangling.jsonl");
    ut_join(target, f->env->dir, "nowhere.jsonl");
    assert_int_equal(symlink(target, f->path), 0);
    open_fails(f, err);
    assert_int_equal(lstat(target, &st), -1);

    /* A FIFO (must not hang) and a directory. */
    set_log_path(f, "fifo.jsonl");
    assert_int_equal(mkfifo(f->path, 0600), 0);
    open_fails(f, err);
    assert_non_null(strstr(err, "not a regular file"));
    set_log_path(f, "dir.jsonl");
    assert_int_equal(mkdir(f->path, 0700), 0);
    open_fails(f, err);
    assert_non_null(strstr(err, "not a regular file"));

    /* A missing directory is not created. */
    set_log_path(f, "missing/audit.jsonl");
    open_fails(f, err);
    assert_non_null(strstr(err, f->path));
    assert_non_null(strstr(err, "does not exist"));
    ut_join(target, f->env->dir, "missing");
    assert_int_equal(lstat(target, &st), -1);

    /* A last line that is not ours: refused, naming file and line. */
    set_log_path(f, "foreign.jsonl");
    make_log(f, 3);
    append(f->path, "{\"hello\":1}\n");
    open_fails(f, err);
    assert_non_null(strstr(err, f->path));
    assert_non_null(strstr(err, "line 4"));
    /* ... and a last line longer than any record. */
    set_log_path(f, "long.jsonl");
    make_log(f, 1);
    char big[3000];
    memset(big, 'x', sizeof(big) - 2);
    big[sizeof(big) - 2] = '\n';
    big[sizeof(big) - 1] = '\0';
    append(f->path, big);
    open_fails(f, err);
    assert_non_null(strstr(err, "line 2"));

    /* The created file is private. */
    set_log_path(f, "new.jsonl");
    make_log(f, 1);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

/* ---- rotation ----------------------------------------------------------------- */

static void rotated(const struct fx *f, int k, char out[PATH_MAX])
{
    int n = snprintf(out, PATH_MAX, "%s.%d", f->path, k);
    assert_true(n > 0 && n < PATH_MAX);
}

static void test_rotation(void **state)
{
    struct fx *f = *state;
    struct crypto *c = f->env->crypto;
    char p1[PATH_MAX], p2[PATH_MAX], p3[PATH_MAX], detail[AUDIT_DETAIL_MAX];
    struct audit_event e;
    struct stat st;
    struct lines L1, L2, L0;
    const unsigned long total = 800; /* ~330 bytes each: 4 rotations of 64 KiB */

    f->env->cfg.audit_rotate_size = CONFIG_AUDIT_ROTATE_MIN;
    f->env->cfg.audit_rotate_keep = 2;
    memset(detail, 'x', sizeof(detail) - 1);
    detail[sizeof(detail) - 1] = '\0';
    struct audit *a = open_log(f);
    for (unsigned long i = 1; i <= total; i++) {
        audit_event_init(&e, "rot", AUDIT_SYSTEM);
        e.object = i;
        e.detail = detail;
        audit_log(a, &e);
        if (i % 50 == 0)
            assert_int_equal(audit_flush(a), CKR_OK);
    }
    audit_close(a);

    rotated(f, 1, p1);
    rotated(f, 2, p2);
    rotated(f, 3, p3);
    assert_int_equal(stat(p1, &st), 0);
    assert_true(st.st_size >= (off_t)CONFIG_AUDIT_ROTATE_MIN &&
                st.st_size < (off_t)(CONFIG_AUDIT_ROTATE_MIN + AUDIT_LINE_MAX));
    assert_int_equal(stat(p2, &st), 0);
    assert_true(st.st_size >= (off_t)CONFIG_AUDIT_ROTATE_MIN &&
                st.st_size < (off_t)(CONFIG_AUDIT_ROTATE_MIN + AUDIT_LINE_MAX));
    assert_int_equal(stat(p3, &st), -1);
    assert_int_equal(stat(f->path, &st), 0);
    assert_true(st.st_size < (off_t)CONFIG_AUDIT_ROTATE_MIN);

    lines_read(p2, &L2);
    lines_read(p1, &L1);
    lines_read(f->path, &L0);
    unsigned long first = num_field(L2.v[0], "seq");
    /* With keep 2, a path.2 not starting at seq 1 took 3 rotations. */
    assert_true(first > 1);
    assert_int_equal(first + L2.n + L1.n + L0.n - 1, total);
    assert_int_equal(num_field(L0.v[L0.n - 1], "seq"), total);
    assert_int_equal(num_field(L0.v[L0.n - 1], "object"), total);
    check_chain(&L2, NULL, 0, first);
    check_chain(&L1, NULL, 0, first + L2.n);
    check_chain(&L0, NULL, 0, first + L2.n + L1.n);
    /* Across files: the first line of the newer links to the last of the older. */
    char h[AUDIT_HASH_HEX + 1];
    chain_hash(NULL, 0, L1.v[L1.n - 1], L1.len[L1.n - 1], h);
    assert_non_null(strstr(L0.v[0], h));
    size_t n2 = L2.n, n1 = L1.n, n0 = L0.n;
    expect_intact(c, f->path, NULL, 0, n2 + n1 + n0, first);

    /* Tampering in a rotated file is found there; across the file border
     * the first line of the newer file is named. */
    char *p = strstr(L2.v[2], "xxxx");
    assert_non_null(p);
    p[0] = 'y';
    lines_write(p2, L2.v, L2.len, L2.n);
    expect_bad(c, f->path, NULL, 0, p2, 4, "line 4: prev_hash does not match line 3");
    p[0] = 'x';
    lines_write(p2, L2.v, L2.len, L2.n);
    expect_intact(c, f->path, NULL, 0, n2 + n1 + n0, first);
    p = strstr(L1.v[n1 - 1], "xxxx");
    assert_non_null(p);
    p[0] = 'y';
    lines_write(p1, L1.v, L1.len, L1.n);
    expect_bad(c, f->path, NULL, 0, f->path, 1, "line 1: prev_hash does not match the last line");
    p[0] = 'x';
    lines_write(p1, L1.v, L1.len, L1.n);
    lines_free(&L2);
    lines_free(&L1);
    lines_free(&L0);

    /* Restart after rotation continues the chain. */
    make_log(f, 1);
    expect_intact(c, f->path, NULL, 0, n2 + n1 + n0 + 1, first);
}

/* Empty current file after a rotation (a crash before the first write):
 * the chain continues from path.1. */
static void test_empty_after_rotation(void **state)
{
    struct fx *f = *state;
    char p1[PATH_MAX];
    make_log(f, 4);
    rotated(f, 1, p1);
    assert_int_equal(rename(f->path, p1), 0);
    append(f->path, "");
    make_log(f, 2);
    assert_int_equal(count_lines(f->path), 2);
    expect_intact(f->env->crypto, f->path, NULL, 0, 6, 1);
}

/* ---- levels ----------------------------------------------------------------------- */

static void test_levels(void **state)
{
    struct fx *f = *state;
    static const char *const names[] = {"system", "admin", "auth", "crypto", "session"};
    static const struct {
        enum config_log_level level;
        unsigned keep; /* classes kept: a prefix of the ladder */
    } cases[] = {
        {CONFIG_LOG_ALL, 5},   {CONFIG_LOG_CRYPTO, 4}, {CONFIG_LOG_AUTH, 3},
        {CONFIG_LOG_ADMIN, 2}, {CONFIG_LOG_NONE, 0},
    };
    struct audit_event e;
    struct lines L;

    assert_false(audit_wants(NULL, AUDIT_SYSTEM));
    audit_event_init(&e, "x", AUDIT_SYSTEM);
    audit_log(NULL, &e);
    audit_log_sync(NULL, &e);
    assert_int_equal(audit_flush(NULL), CKR_OK);
    audit_close(NULL);

    for (size_t k = 0; k < ARRAY_SIZE(cases); k++) {
        char name[32];
        snprintf(name, sizeof(name), "level-%zu.jsonl", k);
        set_log_path(f, name);
        f->env->cfg.audit_log_level = cases[k].level;
        struct audit *a = open_log(f);
        for (unsigned cls = AUDIT_SYSTEM; cls <= AUDIT_SESSION; cls++) {
            assert_int_equal(audit_wants(a, (enum audit_class)cls), cls < cases[k].keep);
            audit_event_init(&e, names[cls], (enum audit_class)cls);
            audit_log(a, &e);
        }
        assert_int_equal(audit_flush(a), CKR_OK);
        audit_close(a);
        lines_read(f->path, &L);
        assert_int_equal(L.n, cases[k].keep);
        for (size_t i = 0; i < L.n; i++) {
            char ev[16];
            str_field(L.v[i], "event", ev, sizeof(ev));
            assert_string_equal(ev, names[i]);
        }
        lines_free(&L);
    }
}

/* ---- write failure ------------------------------------------------------------------ */

static atomic_int failures;
static char failure_reason[AUDIT_ERR_MAX];

static void on_failure(void *arg, const char *reason)
{
    (void)arg;
    snprintf(failure_reason, sizeof(failure_reason), "%s", reason);
    atomic_fetch_add(&failures, 1);
}

/* Writes fail once the file reaches RLIMIT_FSIZE (EFBIG; SIGXFSZ ignored):
 * done in a forked child so the limit stays there.  The flush reports
 * CKR_DEVICE_ERROR, on_failure fires once, later records do not block. */
static void test_write_failure(void **state)
{
    struct fx *f = *state;
    struct lines L;

    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct rlimit lim = {8192, 8192};
        struct audit *a = NULL;
        char err[AUDIT_ERR_MAX], detail[151];
        signal(SIGXFSZ, SIG_IGN);
        if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
            _exit(2);
        if (audit_open(&f->env->cfg, f->env->crypto, on_failure, NULL, &a, err) != CKR_OK)
            _exit(3);
        memset(detail, 'z', sizeof(detail) - 1);
        detail[sizeof(detail) - 1] = '\0';
        struct audit_event e;
        audit_event_init(&e, "w", AUDIT_SYSTEM);
        e.detail = detail;
        for (int i = 0; i < 10; i++)
            audit_log(a, &e);
        if (audit_flush(a) != CKR_OK) /* 10 lines fit */
            _exit(4);
        for (int i = 0; i < 100; i++)
            audit_log(a, &e);
        if (audit_flush(a) != CKR_DEVICE_ERROR)
            _exit(5);
        for (int i = 0; i < 2 * AUDIT_QUEUE_MAX; i++)
            audit_log(a, &e);
        audit_log_sync(a, &e);
        if (audit_flush(a) != CKR_DEVICE_ERROR)
            _exit(6);
        audit_close(a);
        if (atomic_load(&failures) != 1)
            _exit(7);
        if (strstr(failure_reason, f->path) == NULL || strstr(failure_reason, "write") == NULL)
            _exit(8);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    /* The child's file stopped at the limit: the 10 good lines, the lines
     * of the failed batch that fitted, and a torn one; reopening cuts the
     * torn line, records the cut, and the chain goes on. */
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_size, 8192);
    lines_read(f->path, &L);
    bool torn = L.data[L.size - 1] != '\0'; /* lines_read replaced each '\n' */
    size_t before = L.n - (torn ? 1 : 0);
    lines_free(&L);
    assert_true(before > 10);
    make_log(f, 1);
    lines_read(f->path, &L);
    size_t n = L.n;
    assert_int_equal(n, before + (torn ? 1 : 0) + 1);
    check_chain(&L, NULL, 0, 1);
    char ev[32];
    if (torn) {
        str_field(L.v[n - 2], "event", ev, sizeof(ev));
        assert_string_equal(ev, "audit_recovered");
    }
    str_field(L.v[n - 1], "event", ev, sizeof(ev));
    assert_string_equal(ev, "r");
    lines_free(&L);
    expect_intact(f->env->crypto, f->path, NULL, 0, n, 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_line_layout),    T(test_long_fields),   T(test_chain_threads),
        T(test_queue_full),     T(test_two_writers),   T(test_fork_writers),
        T(test_fork_inherited), T(test_verify_tamper), T(test_hmac_chain),
        T(test_key_rules),      T(test_restart),       T(test_torn_tail),
        T(test_refusals),       T(test_rotation),      T(test_empty_after_rotation),
        T(test_levels),         T(test_write_failure),
    };
#undef T
    return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
