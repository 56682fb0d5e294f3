/*
 * The audit log through the built module: a scripted PKCS#11 session gives
 * the expected records in order with the expected fields; every line is
 * JSON (jansson), in the documented field order, with an RFC 3339 UTC
 * timestamp in microseconds, seq 1..N, this process's pid, and prev_hash
 * chaining each line to the previous one (SHA-256, or HMAC-SHA256 with
 * [audit] hmac_key_file), recomputed here with OpenSSL.  Also: no PIN or
 * key value in the file, the chain continuing across C_Finalize and
 * C_Initialize, the log_level ladder, a key file readable by others, the
 * error state (forced self-test and pairwise-test failures), a torn last
 * line cut at the next start, and a symlinked log path refused.
 *
 * Key-use records (sign, verify, encrypt, decrypt, ...) follow the
 * contract of src/p11/op.c: one per operation that ends (not per Update,
 * not for size queries or CKR_BUFFER_TOO_SMALL), and one for a failed
 * *Init that names a key; digests without a key are not logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "abi_util.h"

#define SO_PIN   "so-Pin-4431-x"
#define USER_PIN "usr-Pin-9928-y"
#define BAD_PIN  "bad-Pin-0001-z"
#define NEW_PIN  "new-Pin-7766-w"
#define LEN(s)   ((CK_ULONG)(sizeof(s) - 1))
#define PIN(s)   (CK_UTF8CHAR_PTR)(s), LEN(s)
#define N(a)     ((CK_ULONG)(sizeof(a) / sizeof((a)[0])))

#define EQ(a, b)       assert_int_equal((a), (b))
#define RV(call, want) assert_int_equal((call), (want))
#define OK(call)       RV(call, CKR_OK)

#define LOG_NAME "craton_hsm_audit.jsonl"
#define KEY_NAME "audit.key"
#define HASH_HEX 64
#define GENESIS  "0000000000000000000000000000000000000000000000000000000000000000"
#define WANT_MAX 64

/* Labels that must survive JSON escaping: a quote and a newline, a
 * backslash, and a non-ASCII character (UTF-8). */
static const char LABEL1[] = "aes \"quoted\"\nline 2";
static const char LABEL2[] = "renamed \\ key\t!";
static const char LABEL3[] = "copy \xc3\xbc";
static const char EC_LABEL[] = "ec key";
static const CK_BYTE AES_ID[] = {0xde, 0xad, 0xbe, 0xef, 0x01};
#define AES_ID_HEX "deadbeef01"
static const CK_BYTE EC_ID[] = {0x0e, 0xc1};
#define EC_ID_HEX "0ec1"

/* Looked for in the log (raw and as hex): must never be there. */
static const CK_BYTE AES_KEY[32] = {
    0x3c, 0x91, 0x5a, 0xe7, 0x08, 0xb4, 0x6f, 0x22, 0xd9, 0x1e, 0x87, 0x4b, 0xc0, 0x35, 0xfa, 0x69,
    0x12, 0xab, 0x7d, 0x40, 0xe3, 0x9c, 0x56, 0x0b, 0xf4, 0x28, 0x81, 0xcd, 0x67, 0x1a, 0xb2, 0x5f};

/* P-256: 1.2.840.10045.3.1.7 */
static const CK_BYTE P256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

/* [audit] log_level, and the level from which each class of event is kept
 * (src/audit/audit.h: none < admin < auth < crypto < all). */
enum level { L_NONE, L_ADMIN, L_AUTH, L_CRYPTO, L_ALL };
#define C_SYSTEM  L_ADMIN
#define C_ADMIN   L_ADMIN
#define C_AUTH    L_AUTH
#define C_CRYPTO  L_CRYPTO
#define C_SESSION L_ALL

/* ---- fixture -------------------------------------------------------------- */

struct fixture {
    struct abi a;
    CK_FUNCTION_LIST_3_2 *f;
    char log[PATH_MAX + 32];
    char cfg[PATH_MAX + 32];
};

static void unset_hooks(void)
{
    unsetenv("CRATON_TEST_POST_FAIL");
    unsetenv("CRATON_TEST_PCT_FAIL");
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (fx == NULL)
        return -1;
    unset_hooks();
    if (abi_scratch(&fx->a, ABI_FAST_CONFIG) != 0 || abi_open(&fx->a) != 0) {
        abi_close(&fx->a);
        free(fx);
        return -1;
    }
    fx->f = fx->a.f;
    snprintf(fx->log, sizeof(fx->log), "%s/%s", fx->a.dir, LOG_NAME);
    snprintf(fx->cfg, sizeof(fx->cfg), "%s/craton_hsm.toml", fx->a.dir);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    unset_hooks();
    if (fx->f != NULL)
        fx->f->C_Finalize(NULL);
    abi_close(&fx->a);
    abi_rm_scratch(&fx->a);
    free(fx);
    return 0;
}

/* Rewrites the config: the fast PBKDF2 setting plus extra (an [audit]
 * table, or ""). */
static void write_config(struct fixture *fx, const char *extra)
{
    FILE *f = fopen(fx->cfg, "w");
    assert_non_null(f);
    fputs(ABI_FAST_CONFIG, f);
    fputs(extra, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(fx->cfg, 0600), 0);
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static unsigned char *read_all(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fail_msg("cannot open %s: %s", path, strerror(errno));
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    unsigned char *buf = malloc((size_t)st.st_size + 1);
    assert_non_null(buf);
    assert_int_equal(pread(fd, buf, (size_t)st.st_size, 0), (ssize_t)st.st_size);
    close(fd);
    buf[st.st_size] = '\0';
    *len = (size_t)st.st_size;
    return buf;
}

static void append_bytes(const char *path, const char *bytes)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, strlen(bytes)), (ssize_t)strlen(bytes));
    close(fd);
}

static void hex(const unsigned char *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

/* ---- reading and checking the log ------------------------------------------- */

struct rec {
    json_t *j;
    const char *line; /* into log.buf, without its '\n' */
    size_t len;
};

struct log {
    unsigned char *buf;
    size_t len;
    struct rec *r;
    size_t n;
};

static void log_free(struct log *l)
{
    for (size_t i = 0; i < l->n; i++)
        json_decref(l->r[i].j);
    free(l->r);
    free(l->buf);
    memset(l, 0, sizeof(*l));
}

/* The chain's hash of line: hex SHA-256, or HMAC-SHA256 under key. */
static void chain_hash(const unsigned char *key, size_t key_len, const void *line, size_t len,
                       char out[HASH_HEX + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t n = 0;
    if (key == NULL) {
        unsigned int k = 0;
        assert_int_equal(EVP_Digest(line, len, md, &k, EVP_sha256(), NULL), 1);
        n = k;
    } else {
        assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, line, len, md,
                                  sizeof(md), &n));
    }
    assert_int_equal(n, 32);
    hex(md, n, out);
}

/* The fields of a record, in the only order they may appear. */
static const char *const field_order[] = {
    "ts",     "seq",   "pid",    "event", "slot",   "session", "user",      "mechanism",
    "object", "class", "key_id", "label", "detail", "result",  "prev_hash",
};

static void check_shape(json_t *j, size_t lineno, const char *line)
{
    size_t next = 0;
    for (void *it = json_object_iter(j); it != NULL; it = json_object_iter_next(j, it)) {
        const char *k = json_object_iter_key(it);
        size_t i = next;
        while (i < N(field_order) && strcmp(field_order[i], k) != 0)
            i++;
        if (i == N(field_order))
            fail_msg("line %zu: field \"%s\" unknown or out of order: %s", lineno, k, line);
        next = i + 1;
        json_t *v = json_object_iter_value(it);
        bool num = !strcmp(k, "seq") || !strcmp(k, "pid") || !strcmp(k, "slot") ||
                   !strcmp(k, "session") || !strcmp(k, "object");
        if (num ? !json_is_integer(v) : !json_is_string(v))
            fail_msg("line %zu: field \"%s\" has the wrong type: %s", lineno, k, line);
    }
    static const char *const required[] = {"ts", "seq", "pid", "event", "result", "prev_hash"};
    for (size_t i = 0; i < N(required); i++)
        if (json_object_get(j, required[i]) == NULL)
            fail_msg("line %zu lacks \"%s\": %s", lineno, required[i], line);
}

/* Loads path and checks every line: JSON, the field order and types, ts
 * (RFC 3339 UTC, microseconds, never going back), seq 1..N, pid, and the
 * chain (genesis, then the hash of the previous line under key). */
static void log_load(const char *path, const unsigned char *key, size_t key_len, struct log *l)
{
    regex_t ts_re;
    char want[HASH_HEX + 1] = GENESIS;
    const char *last_ts = "";

    memset(l, 0, sizeof(*l));
    assert_int_equal(
        regcomp(&ts_re,
                "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):"
                "[0-5][0-9]:[0-5][0-9]\\.[0-9]{6}Z$",
                REG_EXTENDED | REG_NOSUB),
        0);
    l->buf = read_all(path, &l->len);
    if (l->len > 0 && l->buf[l->len - 1] != '\n')
        fail_msg("%s does not end with a newline", path);
    size_t lines = 0;
    for (size_t i = 0; i < l->len; i++)
        lines += l->buf[i] == '\n';
    l->r = calloc(lines + 1, sizeof(*l->r));
    assert_non_null(l->r);
    for (size_t off = 0; off < l->len;) {
        const char *line = (const char *)l->buf + off;
        const char *nl = memchr(line, '\n', l->len - off);
        size_t len = (size_t)(nl - line);
        size_t lineno = l->n + 1;
        json_error_t err;
        json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
        if (j == NULL || !json_is_object(j))
            fail_msg("line %zu is not a JSON object (%s): %.*s", lineno, err.text, (int)len, line);
        l->r[l->n++] = (struct rec){j, line, len};
        check_shape(j, lineno, line);

        const char *ts = json_string_value(json_object_get(j, "ts"));
        if (regexec(&ts_re, ts, 0, NULL, 0) != 0)
            fail_msg("line %zu: ts \"%s\" is not RFC 3339 UTC with microseconds", lineno, ts);
        if (strcmp(ts, last_ts) < 0)
            fail_msg("line %zu: ts %s goes back from %s", lineno, ts, last_ts);
        last_ts = ts;
        json_int_t seq = json_integer_value(json_object_get(j, "seq"));
        if (seq != (json_int_t)lineno)
            fail_msg("line %zu has seq %lld", lineno, (long long)seq);
        json_int_t pid = json_integer_value(json_object_get(j, "pid"));
        if (pid != (json_int_t)getpid())
            fail_msg("line %zu has pid %lld, not %ld", lineno, (long long)pid, (long)getpid());
        const char *prev = json_string_value(json_object_get(j, "prev_hash"));
        if (strcmp(prev, want) != 0)
            fail_msg("line %zu: prev_hash %s, expected %s (%s of line %zu)", lineno, prev, want,
                     key != NULL ? "HMAC-SHA256" : "SHA-256", lineno - 1);
        chain_hash(key, key_len, line, len, want);
        off += len + 1;
    }
    regfree(&ts_re);
}

static const char *str_field(const struct rec *r, const char *k)
{
    return json_string_value(json_object_get(r->j, k));
}

static const char *event_of(const struct rec *r)
{
    return str_field(r, "event");
}

/* Index of the first record from start on with event, or l->n. */
static size_t find_event(const struct log *l, size_t start, const char *event)
{
    size_t i = start;
    while (i < l->n && strcmp(event_of(&l->r[i]), event) != 0)
        i++;
    return i;
}

/* ---- expectations ------------------------------------------------------------- */

/* One expected record: each member of j must be in the record with that
 * value, except a null member (must be absent) and "detail~" (a substring
 * of detail).  Members not named are not checked. */
struct want {
    int cls;
    json_t *j;
};

struct wants {
    struct want w[WANT_MAX];
    size_t n;
};

static void wants_free(struct wants *ws)
{
    for (size_t i = 0; i < ws->n; i++)
        json_decref(ws->w[i].j);
    ws->n = 0;
}

static json_t *want_add(struct wants *ws, int cls, const char *event, const char *result)
{
    assert_true(ws->n < WANT_MAX);
    json_t *j = json_pack("{s:s, s:s}", "event", event, "result", result);
    assert_non_null(j);
    ws->w[ws->n++] = (struct want){cls, j};
    return j;
}

static void set_int(json_t *j, const char *k, CK_ULONG v)
{
    assert_int_equal(json_object_set_new(j, k, json_integer((json_int_t)v)), 0);
}

static void set_str(json_t *j, const char *k, const char *v)
{
    assert_int_equal(json_object_set_new(j, k, v != NULL ? json_string(v) : json_null()), 0);
}

static void set_bytes(json_t *j, const char *k, const char *v, size_t n)
{
    assert_int_equal(json_object_set_new(j, k, json_stringn(v, n)), 0);
}

/* The handles of one run of the script. */
struct ids {
    CK_SLOT_ID slot;
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE aes, pub, priv, copy;
};

static json_t *want_session(struct wants *ws, int cls, const char *event, const struct ids *d,
                            const char *result)
{
    json_t *j = want_add(ws, cls, event, result);
    set_int(j, "slot", d->slot);
    set_int(j, "session", d->s);
    return j;
}

/* A record about an object (or a key use): its handle, class, id, label. */
static json_t *want_object(struct wants *ws, int cls, const char *event, const struct ids *d,
                           CK_OBJECT_HANDLE h, const char *oclass, const char *key_id,
                           const char *label, size_t label_len, const char *result)
{
    json_t *j = want_session(ws, cls, event, d, result);
    set_int(j, "object", h);
    set_str(j, "class", oclass);
    set_str(j, "key_id", key_id);
    set_bytes(j, "label", label, label_len);
    return j;
}

static void want_start(struct wants *ws)
{
    json_t *j = want_add(ws, C_SYSTEM, "self_test", "CKR_OK");
    set_str(j, "detail~", "17 of 17 power-on self-tests passed");
    j = want_add(ws, C_SYSTEM, "initialize", "CKR_OK");
    set_str(j, "detail~", "craton_hsm.toml");
}

static void want_finalize(struct wants *ws)
{
    (void)want_add(ws, C_SYSTEM, "finalize", "CKR_OK");
}

/* What run_script (between C_Initialize and C_Finalize) must log. */
static void want_script(struct wants *ws, const struct ids *d)
{
    char detail[64];
    json_t *j;

    j = want_add(ws, C_ADMIN, "token_init", "CKR_OK");
    set_int(j, "slot", d->slot);
    set_str(j, "session", NULL);
    set_str(j, "user", "SO");
    (void)want_session(ws, C_SESSION, "session_open", d, "CKR_OK");
    set_str(want_session(ws, C_AUTH, "login", d, "CKR_OK"), "user", "SO");
    set_str(want_session(ws, C_ADMIN, "pin_init", d, "CKR_OK"), "user", "SO");
    (void)want_session(ws, C_AUTH, "logout", d, "CKR_OK");
    set_str(want_session(ws, C_AUTH, "login", d, "CKR_PIN_INCORRECT"), "user", "USER");
    set_str(want_session(ws, C_AUTH, "login", d, "CKR_OK"), "user", "USER");
    j = want_object(ws, C_ADMIN, "object_create", d, d->aes, "CKO_SECRET_KEY", AES_ID_HEX, LABEL1,
                    LEN(LABEL1), "CKR_OK");
    set_str(j, "mechanism", NULL);

    j = want_object(ws, C_CRYPTO, "key_pair_generate", d, d->priv, "CKO_PRIVATE_KEY", EC_ID_HEX,
                    EC_LABEL, LEN(EC_LABEL), "CKR_OK");
    set_str(j, "mechanism", "CKM_EC_KEY_PAIR_GEN");
    snprintf(detail, sizeof(detail), "public key %lu", (unsigned long)d->pub);
    set_str(j, "detail~", detail);
    /* Key use: one record per operation that ends. */
    set_str(want_object(ws, C_CRYPTO, "sign", d, d->priv, "CKO_PRIVATE_KEY", EC_ID_HEX, EC_LABEL,
                        LEN(EC_LABEL), "CKR_OK"),
            "mechanism", "CKM_ECDSA");
    set_str(want_object(ws, C_CRYPTO, "sign", d, d->priv, "CKO_PRIVATE_KEY", EC_ID_HEX, EC_LABEL,
                        LEN(EC_LABEL), "CKR_OK"),
            "mechanism", "CKM_ECDSA_SHA256");
    set_str(want_object(ws, C_CRYPTO, "verify", d, d->pub, "CKO_PUBLIC_KEY", EC_ID_HEX, EC_LABEL,
                        LEN(EC_LABEL), "CKR_SIGNATURE_INVALID"),
            "mechanism", "CKM_ECDSA");
    set_str(want_object(ws, C_CRYPTO, "encrypt", d, d->aes, "CKO_SECRET_KEY", AES_ID_HEX, LABEL1,
                        LEN(LABEL1), "CKR_OK"),
            "mechanism", "CKM_AES_GCM");
    set_str(want_object(ws, C_CRYPTO, "decrypt", d, d->aes, "CKO_SECRET_KEY", AES_ID_HEX, LABEL1,
                        LEN(LABEL1), "CKR_OK"),
            "mechanism", "CKM_AES_GCM");
    set_str(want_object(ws, C_CRYPTO, "encrypt_message", d, d->aes, "CKO_SECRET_KEY", AES_ID_HEX,
                        LABEL1, LEN(LABEL1), "CKR_OK"),
            "mechanism", "CKM_AES_GCM");
    set_str(want_object(ws, C_CRYPTO, "decrypt_message", d, d->aes, "CKO_SECRET_KEY", AES_ID_HEX,
                        LABEL1, LEN(LABEL1), "CKR_OK"),
            "mechanism", "CKM_AES_GCM");
    set_str(want_object(ws, C_CRYPTO, "sign", d, d->aes, "CKO_SECRET_KEY", AES_ID_HEX, LABEL1,
                        LEN(LABEL1), "CKR_KEY_FUNCTION_NOT_PERMITTED"),
            "mechanism", "CKM_AES_CMAC");

    j = want_object(ws, C_ADMIN, "object_set_attributes", d, d->aes, "CKO_SECRET_KEY", AES_ID_HEX,
                    LABEL2, LEN(LABEL2), "CKR_OK");
    set_str(j, "detail", "CKA_LABEL");
    j = want_object(ws, C_ADMIN, "object_copy", d, d->copy, "CKO_SECRET_KEY", AES_ID_HEX, LABEL3,
                    LEN(LABEL3), "CKR_OK");
    snprintf(detail, sizeof(detail), "copy of object %lu", (unsigned long)d->aes);
    set_str(j, "detail", detail);
    (void)want_object(ws, C_ADMIN, "object_destroy", d, d->copy, "CKO_SECRET_KEY", AES_ID_HEX,
                      LABEL3, LEN(LABEL3), "CKR_OK");
    set_str(want_session(ws, C_ADMIN, "pin_change", d, "CKR_OK"), "user", "USER");
    (void)want_session(ws, C_AUTH, "logout", d, "CKR_OK");
    j = want_add(ws, C_SESSION, "session_close", "CKR_OK");
    set_int(j, "session", d->s);
}

/* Keeps the expectations that log_level lets through. */
static void wants_filter(struct wants *ws, enum level level)
{
    size_t k = 0;
    for (size_t i = 0; i < ws->n; i++) {
        if (level != L_NONE && (int)level >= ws->w[i].cls)
            ws->w[k++] = ws->w[i];
        else
            json_decref(ws->w[i].j);
    }
    ws->n = k;
}

/* Why record r does not match w (NULL when it does); buf holds the text. */
static const char *mismatch(const struct rec *r, json_t *w, char *buf, size_t size)
{
    const char *k;
    json_t *v;
    json_object_foreach(w, k, v)
    {
        if (strcmp(k, "detail~") == 0) {
            const char *d = str_field(r, "detail");
            if (d == NULL || strstr(d, json_string_value(v)) == NULL) {
                snprintf(buf, size, "detail lacks \"%s\"", json_string_value(v));
                return buf;
            }
            continue;
        }
        json_t *got = json_object_get(r->j, k);
        if (json_is_null(v) && got != NULL) {
            snprintf(buf, size, "has \"%s\", expected none", k);
            return buf;
        }
        if (!json_is_null(v) && (got == NULL || !json_equal(got, v))) {
            char *want = json_dumps(v, JSON_ENCODE_ANY);
            snprintf(buf, size, "\"%s\" is %s, expected %s", k,
                     got != NULL ? "different" : "absent", want != NULL ? want : "?");
            free(want);
            return buf;
        }
    }
    return NULL;
}

/* Records [start, start + ws->n) must match ws in order, and (when
 * to_end) be the last ones.  Prints both event lists on a mismatch. */
static void expect_records(const struct log *l, size_t start, const struct wants *ws, bool to_end)
{
    char why[512];
    size_t failed_at = SIZE_MAX;
    const char *reason = NULL;
    size_t have = l->n > start ? l->n - start : 0;

    for (size_t i = 0; i < ws->n && i < have; i++) {
        const char *want_ev = json_string_value(json_object_get(ws->w[i].j, "event"));
        if (strcmp(event_of(&l->r[start + i]), want_ev) != 0) {
            snprintf(why, sizeof(why), "event \"%s\", expected \"%s\"", event_of(&l->r[start + i]),
                     want_ev);
            reason = why;
        } else {
            reason = mismatch(&l->r[start + i], ws->w[i].j, why, sizeof(why));
        }
        if (reason != NULL) {
            failed_at = i;
            break;
        }
    }
    if (failed_at == SIZE_MAX && (have < ws->n || (to_end && have != ws->n))) {
        failed_at = have < ws->n ? have : ws->n;
        snprintf(why, sizeof(why), "%zu records from line %zu, expected %zu", have, start + 1,
                 ws->n);
        reason = why;
    }
    if (reason == NULL)
        return;
    print_error("expected events:");
    for (size_t i = 0; i < ws->n; i++)
        print_error(" %s", json_string_value(json_object_get(ws->w[i].j, "event")));
    print_error("\nlogged events:  ");
    for (size_t i = start; i < l->n; i++)
        print_error(" %s", event_of(&l->r[i]));
    print_error("\n");
    if (start + failed_at < l->n)
        fail_msg("line %zu: %s: %.*s", start + failed_at + 1, reason,
                 (int)l->r[start + failed_at].len, l->r[start + failed_at].line);
    fail_msg("%s", reason);
}

/* ---- the scripted session -------------------------------------------------- */

static CK_SLOT_ID first_slot(CK_FUNCTION_LIST_3_2 *f)
{
    CK_SLOT_ID slots[8];
    CK_ULONG n = N(slots);
    OK(f->C_GetSlotList(CK_FALSE, slots, &n));
    assert_true(n >= 1);
    return slots[0];
}

static CK_OBJECT_HANDLE create_aes(CK_FUNCTION_LIST_3_2 *f, CK_SESSION_HANDLE s)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &kt, sizeof(kt)},
        {CKA_VALUE, (void *)AES_KEY, sizeof(AES_KEY)},
        {CKA_ID, (void *)AES_ID, sizeof(AES_ID)},
        {CKA_LABEL, (void *)LABEL1, LEN(LABEL1)},
        {CKA_ENCRYPT, &yes, sizeof(yes)},
        {CKA_DECRYPT, &yes, sizeof(yes)},
        {CKA_SIGN, &no, sizeof(no)},
    };
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    OK(f->C_CreateObject(s, t, N(t), &h));
    return h;
}

static void generate_ec(CK_FUNCTION_LIST_3_2 *f, CK_SESSION_HANDLE s, CK_RV want,
                        CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
    CK_MECHANISM m = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pt[] = {
        {CKA_EC_PARAMS, (void *)P256, sizeof(P256)},
        {CKA_VERIFY, &yes, sizeof(yes)},
        {CKA_ID, (void *)EC_ID, sizeof(EC_ID)},
        {CKA_LABEL, (void *)EC_LABEL, LEN(EC_LABEL)},
    };
    CK_ATTRIBUTE st[] = {
        {CKA_SIGN, &yes, sizeof(yes)},
        {CKA_ID, (void *)EC_ID, sizeof(EC_ID)},
        {CKA_LABEL, (void *)EC_LABEL, LEN(EC_LABEL)},
    };
    RV(f->C_GenerateKeyPair(s, &m, pt, N(pt), st, N(st), pub, priv), want);
}

/* Token set-up up to the user's login. */
static void init_and_login(CK_FUNCTION_LIST_3_2 *f, struct ids *d, bool wrong_pin_first)
{
    CK_UTF8CHAR label[32];
    memset(label, ' ', sizeof(label));
    memcpy(label, "audit", 5);
    d->slot = first_slot(f);
    OK(f->C_InitToken(d->slot, PIN(SO_PIN), label));
    OK(f->C_OpenSession(d->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &d->s));
    OK(f->C_Login(d->s, CKU_SO, PIN(SO_PIN)));
    OK(f->C_InitPIN(d->s, PIN(USER_PIN)));
    OK(f->C_Logout(d->s));
    if (wrong_pin_first)
        RV(f->C_Login(d->s, CKU_USER, PIN(BAD_PIN)), CKR_PIN_INCORRECT);
    OK(f->C_Login(d->s, CKU_USER, PIN(USER_PIN)));
}

/* Everything want_script expects, between C_Initialize and C_Finalize. */
static void run_script(CK_FUNCTION_LIST_3_2 *f, struct ids *d)
{
    static const CK_BYTE hash[32] = "0123456789abcdef0123456789abcdef";
    static const CK_BYTE msg[] = "a message signed in two parts";
    static const CK_BYTE pt[] = "audited plaintext";
    CK_BYTE sig[128], ct[64], out[64];
    CK_ULONG n, sig_len, ct_len;

    memset(d, 0, sizeof(*d));
    init_and_login(f, d, true);
    d->aes = create_aes(f, d->s);
    generate_ec(f, d->s, CKR_OK, &d->pub, &d->priv);

    /* ECDSA: a size query and a too small buffer log nothing; the
     * signature does. */
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    OK(f->C_SignInit(d->s, &ecdsa, d->priv));
    n = 0;
    OK(f->C_Sign(d->s, (CK_BYTE_PTR)hash, sizeof(hash), NULL, &n));
    EQ(n, 64);
    n = 1;
    RV(f->C_Sign(d->s, (CK_BYTE_PTR)hash, sizeof(hash), sig, &n), CKR_BUFFER_TOO_SMALL);
    sig_len = sizeof(sig);
    OK(f->C_Sign(d->s, (CK_BYTE_PTR)hash, sizeof(hash), sig, &sig_len));
    EQ(sig_len, 64);

    /* Multi-part: one record at the end, none per update. */
    CK_MECHANISM ecdsa_sha256 = {CKM_ECDSA_SHA256, NULL, 0};
    CK_BYTE sig2[128];
    OK(f->C_SignInit(d->s, &ecdsa_sha256, d->priv));
    OK(f->C_SignUpdate(d->s, (CK_BYTE_PTR)msg, 10));
    OK(f->C_SignUpdate(d->s, (CK_BYTE_PTR)msg + 10, sizeof(msg) - 10));
    n = 0;
    OK(f->C_SignFinal(d->s, NULL, &n));
    n = sizeof(sig2);
    OK(f->C_SignFinal(d->s, sig2, &n));

    /* A bad signature. */
    sig[5] ^= 0x40;
    OK(f->C_VerifyInit(d->s, &ecdsa, d->pub));
    RV(f->C_Verify(d->s, (CK_BYTE_PTR)hash, sizeof(hash), sig, sig_len), CKR_SIGNATURE_INVALID);

    /* A digest (no key) logs nothing. */
    CK_MECHANISM sha = {CKM_SHA256, NULL, 0};
    OK(f->C_DigestInit(d->s, &sha));
    n = sizeof(out);
    OK(f->C_Digest(d->s, (CK_BYTE_PTR)pt, sizeof(pt), out, &n));

    /* AES-GCM both ways. */
    CK_BYTE iv[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, aad[4] = {0xaa, 0xbb, 0xcc, 0xdd};
    CK_GCM_PARAMS gp = {iv, sizeof(iv), 96, aad, sizeof(aad), 128};
    CK_MECHANISM gcm = {CKM_AES_GCM, &gp, sizeof(gp)};
    OK(f->C_EncryptInit(d->s, &gcm, d->aes));
    ct_len = 0;
    OK(f->C_Encrypt(d->s, (CK_BYTE_PTR)pt, sizeof(pt), NULL, &ct_len));
    EQ(ct_len, sizeof(pt) + 16);
    ct_len = sizeof(ct);
    OK(f->C_Encrypt(d->s, (CK_BYTE_PTR)pt, sizeof(pt), ct, &ct_len));
    OK(f->C_DecryptInit(d->s, &gcm, d->aes));
    n = sizeof(out);
    OK(f->C_Decrypt(d->s, ct, ct_len, out, &n));
    EQ(n, sizeof(pt));
    assert_memory_equal(out, pt, sizeof(pt));

    /* Message-based (3.0): one record per message; size queries and the
     * Init and Final calls log nothing. */
    CK_BYTE tag[16], ct2[64];
    CK_GCM_MESSAGE_PARAMS mp = {iv, sizeof(iv), 0, CKG_NO_GENERATE, tag, 128};
    CK_MECHANISM gcm0 = {CKM_AES_GCM, NULL, 0};
    OK(f->C_MessageEncryptInit(d->s, &gcm0, d->aes));
    n = 0;
    OK(f->C_EncryptMessage(d->s, &mp, sizeof(mp), aad, sizeof(aad), (CK_BYTE_PTR)pt, sizeof(pt),
                           NULL, &n));
    EQ(n, sizeof(pt));
    n = sizeof(ct2);
    OK(f->C_EncryptMessage(d->s, &mp, sizeof(mp), aad, sizeof(aad), (CK_BYTE_PTR)pt, sizeof(pt),
                           ct2, &n));
    assert_memory_equal(ct2, ct, sizeof(pt)); /* same key, IV and AAD as C_Encrypt */
    OK(f->C_MessageEncryptFinal(d->s));
    OK(f->C_MessageDecryptInit(d->s, &gcm0, d->aes));
    OK(f->C_DecryptMessageBegin(d->s, &mp, sizeof(mp), aad, sizeof(aad)));
    n = sizeof(out);
    OK(f->C_DecryptMessageNext(d->s, &mp, sizeof(mp), ct2, 5, out, &n, 0));
    n = sizeof(out) - 5;
    OK(f->C_DecryptMessageNext(d->s, &mp, sizeof(mp), ct2 + 5, sizeof(pt) - 5, out + 5, &n,
                               CKF_END_OF_MESSAGE));
    OK(f->C_MessageDecryptFinal(d->s));

    /* The AES key has CKA_SIGN false. */
    CK_MECHANISM cmac = {CKM_AES_CMAC, NULL, 0};
    RV(f->C_SignInit(d->s, &cmac, d->aes), CKR_KEY_FUNCTION_NOT_PERMITTED);

    CK_ATTRIBUTE relabel[] = {{CKA_LABEL, (void *)LABEL2, LEN(LABEL2)}};
    OK(f->C_SetAttributeValue(d->s, d->aes, relabel, N(relabel)));
    CK_ATTRIBUTE copy_label[] = {{CKA_LABEL, (void *)LABEL3, LEN(LABEL3)}};
    OK(f->C_CopyObject(d->s, d->aes, copy_label, N(copy_label), &d->copy));
    OK(f->C_DestroyObject(d->s, d->copy));
    OK(f->C_SetPIN(d->s, PIN(USER_PIN), PIN(NEW_PIN)));
    OK(f->C_Logout(d->s));
    OK(f->C_CloseSession(d->s));
}

/* C_Initialize, the script, C_Finalize; the records it must give at
 * level into ws. */
static void scripted_run(struct fixture *fx, enum level level, struct wants *ws, struct ids *d)
{
    OK(fx->f->C_Initialize(NULL));
    run_script(fx->f, d);
    OK(fx->f->C_Finalize(NULL));
    ws->n = 0;
    want_start(ws);
    want_script(ws, d);
    want_finalize(ws);
    wants_filter(ws, level);
}

static const char *const crypto_events[] = {
    "key_generate", "key_pair_generate", "sign",           "verify",          "encrypt",
    "decrypt",      "sign_recover",      "verify_recover", "encrypt_message", "decrypt_message",
    "sign_message", "verify_message",    "wrap",           "unwrap",          "derive",
    "encapsulate",  "decapsulate",
};

/* No record of the log is of one of the events listed. */
static void expect_none_of(const struct log *l, const char *const *events, size_t n,
                           const char *why)
{
    for (size_t i = 0; i < l->n; i++)
        for (size_t k = 0; k < n; k++)
            if (strcmp(event_of(&l->r[i]), events[k]) == 0)
                fail_msg("line %zu: a %s record %s: %.*s", i + 1, events[k], why, (int)l->r[i].len,
                         l->r[i].line);
}

static bool has_event(const struct log *l, const char *event)
{
    return find_event(l, 0, event) < l->n;
}

/* ---- tests ------------------------------------------------------------------ */

/* 1: the scripted session, in order and field by field, chain intact. */
static void test_scripted_session(void **state)
{
    struct fixture *fx = *state;
    struct wants ws = {0};
    struct ids d;
    struct log l;
    scripted_run(fx, L_ALL, &ws, &d);
    log_load(fx->log, NULL, 0, &l);
    expect_records(&l, 0, &ws, true);
    /* Labels went through JSON escaping and back byte for byte. */
    size_t i = find_event(&l, 0, "object_create");
    assert_true(i < l.n);
    static const char escaped[] = "aes \\\"quoted\\\"\\u000aline 2";
    assert_non_null(memmem(l.r[i].line, l.r[i].len, escaped, LEN(escaped)));
    struct stat st;
    assert_int_equal(stat(fx->log, &st), 0);
    EQ(st.st_mode & 0777, 0600);
    log_free(&l);
    wants_free(&ws);
}

/* 2: no PIN and no key value, raw or hex, anywhere in the file. */
static void test_no_secrets(void **state)
{
    struct fixture *fx = *state;
    struct wants ws = {0};
    struct ids d;
    scripted_run(fx, L_ALL, &ws, &d);
    wants_free(&ws);
    size_t len;
    unsigned char *buf = read_all(fx->log, &len);
    assert_true(len > 0);
    static const char *const pins[] = {SO_PIN, USER_PIN, BAD_PIN, NEW_PIN};
    char hx[2 * sizeof(AES_KEY) + 1];
    for (size_t i = 0; i < N(pins); i++) {
        if (memmem(buf, len, pins[i], strlen(pins[i])) != NULL)
            fail_msg("the PIN %s is in the log", pins[i]);
        hex((const unsigned char *)pins[i], strlen(pins[i]), hx);
        if (memmem(buf, len, hx, strlen(hx)) != NULL)
            fail_msg("the PIN %s is in the log as hex", pins[i]);
    }
    /* Any 8 consecutive bytes of the key, raw or as hex. */
    for (size_t off = 0; off + 8 <= sizeof(AES_KEY); off++) {
        if (memmem(buf, len, AES_KEY + off, 8) != NULL)
            fail_msg("bytes %zu..%zu of the AES key are in the log", off, off + 7);
        hex(AES_KEY + off, 8, hx);
        if (memmem(buf, len, hx, 16) != NULL)
            fail_msg("bytes %zu..%zu of the AES key are in the log as hex", off, off + 7);
    }
    /* The search itself works: the key's id is there as hex. */
    assert_non_null(memmem(buf, len, AES_ID_HEX, strlen(AES_ID_HEX)));
    free(buf);
}

/* 3: a second C_Initialize appends; seq and the chain continue. */
static void test_restart_continues_chain(void **state)
{
    struct fixture *fx = *state;
    struct wants ws = {0};
    struct ids d;
    struct log l;
    scripted_run(fx, L_ALL, &ws, &d);
    size_t first = ws.n;
    log_load(fx->log, NULL, 0, &l);
    EQ(l.n, first);
    char last_hash[HASH_HEX + 1];
    chain_hash(NULL, 0, l.r[l.n - 1].line, l.r[l.n - 1].len, last_hash);
    log_free(&l);
    wants_free(&ws);

    /* A short second run: log in again with the changed PIN. */
    CK_SESSION_HANDLE s;
    OK(fx->f->C_Initialize(NULL));
    CK_SLOT_ID slot = first_slot(fx->f);
    OK(fx->f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s));
    OK(fx->f->C_Login(s, CKU_USER, PIN(NEW_PIN)));
    OK(fx->f->C_Finalize(NULL));

    log_load(fx->log, NULL, 0, &l); /* seq 1..N and the chain across both runs */
    want_start(&ws);
    struct ids d2 = {.slot = slot, .s = s};
    (void)want_session(&ws, C_SESSION, "session_open", &d2, "CKR_OK");
    set_str(want_session(&ws, C_AUTH, "login", &d2, "CKR_OK"), "user", "USER");
    want_finalize(&ws);
    expect_records(&l, first, &ws, true);
    EQ(json_integer_value(json_object_get(l.r[first].j, "seq")), (json_int_t)first + 1);
    assert_string_equal(str_field(&l.r[first], "prev_hash"), last_hash);
    log_free(&l);
    wants_free(&ws);
}

/* 4: the log_level ladder; each level keeps exactly its classes. */
static void ladder(struct fixture *fx, const char *level_name, enum level level)
{
    char cfg[128];
    struct wants ws = {0};
    struct ids d;
    struct log l;
    snprintf(cfg, sizeof(cfg), "[audit]\nlog_level = \"%s\"\n", level_name);
    write_config(fx, cfg);
    scripted_run(fx, level, &ws, &d);
    log_load(fx->log, NULL, 0, &l);
    expect_records(&l, 0, &ws, true);
    static const char *const sessions[] = {"session_open", "session_close", "session_close_all"};
    static const char *const auth[] = {"login", "logout", "lockout"};
    if (level < L_ALL)
        expect_none_of(&l, sessions, N(sessions), "below log_level \"all\"");
    if (level < L_CRYPTO)
        expect_none_of(&l, crypto_events, N(crypto_events), "below log_level \"crypto\"");
    if (level < L_AUTH)
        expect_none_of(&l, auth, N(auth), "below log_level \"auth\"");
    /* What the level keeps is there. */
    assert_true(has_event(&l, "token_init") && has_event(&l, "object_create") &&
                has_event(&l, "pin_change") && has_event(&l, "initialize"));
    if (level >= L_AUTH)
        assert_true(has_event(&l, "login") && has_event(&l, "logout"));
    if (level >= L_CRYPTO)
        assert_true(has_event(&l, "key_pair_generate"));
    log_free(&l);
    wants_free(&ws);
}

static void test_level_crypto(void **state)
{
    ladder(*state, "crypto", L_CRYPTO);
}

static void test_level_auth(void **state)
{
    ladder(*state, "auth", L_AUTH);
}

static void test_level_admin(void **state)
{
    ladder(*state, "admin", L_ADMIN);
}

/* "none" and enabled = false: no file at all. */
static void no_file(struct fixture *fx, const char *cfg)
{
    struct wants ws = {0};
    struct ids d;
    write_config(fx, cfg);
    scripted_run(fx, L_NONE, &ws, &d);
    EQ(ws.n, 0);
    if (exists(fx->log))
        fail_msg("%s exists with config:\n%s", fx->log, cfg);
}

static void test_level_none(void **state)
{
    no_file(*state, "[audit]\nlog_level = \"none\"\n");
}

static void test_disabled(void **state)
{
    no_file(*state, "[audit]\nenabled = false\n");
}

/* 5: HMAC-SHA256 chain under a key file; a key file readable by others
 * stops C_Initialize. */
static void write_key(struct fixture *fx, unsigned char key[32], mode_t mode)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/%s", fx->a.dir, KEY_NAME);
    assert_int_equal(RAND_bytes(key, 32), 1);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, key, 32), 32);
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

static void short_run(struct fixture *fx)
{
    struct ids d;
    OK(fx->f->C_Initialize(NULL));
    init_and_login(fx->f, &d, false);
    OK(fx->f->C_Logout(d.s));
    OK(fx->f->C_Finalize(NULL));
}

static void test_keyed_chain(void **state)
{
    struct fixture *fx = *state;
    unsigned char key[32];
    struct log l;
    write_config(fx, "[audit]\nhmac_key_file = \"" KEY_NAME "\"\n");
    write_key(fx, key, 0600);
    short_run(fx);
    log_load(fx->log, key, sizeof(key), &l);
    assert_true(l.n >= 5);
    /* Not the plain chain: line 2's prev_hash is not SHA-256 of line 1. */
    char plain[HASH_HEX + 1];
    chain_hash(NULL, 0, l.r[0].line, l.r[0].len, plain);
    if (strcmp(str_field(&l.r[1], "prev_hash"), plain) == 0)
        fail_msg("with hmac_key_file the chain is still plain SHA-256");
    size_t before = l.len;
    log_free(&l);

    /* Group- and other-readable key: refused, the log untouched. */
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/%s", fx->a.dir, KEY_NAME);
    assert_int_equal(chmod(path, 0644), 0);
    RV(fx->f->C_Initialize(NULL), CKR_GENERAL_ERROR);
    (void)fx->f->C_Finalize(NULL);
    assert_int_equal(chmod(path, 0640), 0); /* group-readable is refused too */
    RV(fx->f->C_Initialize(NULL), CKR_GENERAL_ERROR);
    (void)fx->f->C_Finalize(NULL);
    size_t len;
    free(read_all(fx->log, &len));
    EQ(len, before);

    /* Fixed: the keyed chain continues. */
    assert_int_equal(chmod(path, 0600), 0);
    OK(fx->f->C_Initialize(NULL));
    OK(fx->f->C_Finalize(NULL));
    log_load(fx->log, key, sizeof(key), &l);
    assert_true(l.len > before);
    log_free(&l);
    OPENSSL_cleanse(key, sizeof(key));
}

/* 6a: a failed power-on self-test is in the log, with the error state. */
static void test_post_failure_logged(void **state)
{
    struct fixture *fx = *state;
    struct log l;
    assert_int_equal(setenv("CRATON_TEST_POST_FAIL", "SHA-256", 1), 0);
    RV(fx->f->C_Initialize(NULL), CKR_GENERAL_ERROR);
    CK_ULONG n = 0;
    RV(fx->f->C_GetSlotList(CK_FALSE, NULL, &n), CKR_GENERAL_ERROR);
    assert_int_equal(unsetenv("CRATON_TEST_POST_FAIL"), 0);
    OK(fx->f->C_Finalize(NULL));
    OK(fx->f->C_Initialize(NULL));
    OK(fx->f->C_GetSlotList(CK_FALSE, NULL, &n));
    OK(fx->f->C_Finalize(NULL));

    log_load(fx->log, NULL, 0, &l);
    /* The failed start: the test named, the summary, the error state,
     * initialize failing; then a clean start. */
    size_t i = find_event(&l, 0, "self_test");
    assert_true(i < l.n);
    assert_string_equal(str_field(&l.r[i], "result"), "CKR_GENERAL_ERROR");
    const char *detail = str_field(&l.r[i], "detail");
    assert_non_null(detail);
    if (strncmp(detail, "SHA-256:", 8) != 0)
        fail_msg("the failed self-test record does not name SHA-256: %s", detail);
    size_t failed_tests = 0;
    for (size_t k = 0; k < l.n; k++)
        failed_tests += strcmp(event_of(&l.r[k]), "self_test") == 0 &&
                        strcmp(str_field(&l.r[k], "result"), "CKR_GENERAL_ERROR") == 0 &&
                        str_field(&l.r[k], "detail") != NULL &&
                        strstr(str_field(&l.r[k], "detail"), "of 17") == NULL;
    EQ(failed_tests, 1);
    size_t e = find_event(&l, i, "error_state");
    assert_true(e < l.n);
    assert_string_equal(str_field(&l.r[e], "result"), "CKR_GENERAL_ERROR");
    size_t init = find_event(&l, i, "initialize");
    assert_true(init < l.n && init > e);
    assert_string_equal(str_field(&l.r[init], "result"), "CKR_GENERAL_ERROR");
    struct wants ws = {0};
    want_start(&ws);
    want_finalize(&ws);
    expect_records(&l, init + 1, &ws, true);
    log_free(&l);
    wants_free(&ws);
}

/* 6b: a failed pairwise consistency test enters the error state, logged. */
static void test_pct_failure_logged(void **state)
{
    struct fixture *fx = *state;
    struct ids d;
    struct log l;
    CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
    CK_ULONG n = 0;
    OK(fx->f->C_Initialize(NULL));
    init_and_login(fx->f, &d, false);
    assert_int_equal(setenv("CRATON_TEST_PCT_FAIL", "1", 1), 0);
    generate_ec(fx->f, d.s, CKR_GENERAL_ERROR, &pub, &priv);
    RV(fx->f->C_GetSlotList(CK_FALSE, NULL, &n), CKR_GENERAL_ERROR);
    OK(fx->f->C_Finalize(NULL));
    assert_int_equal(unsetenv("CRATON_TEST_PCT_FAIL"), 0);
    OK(fx->f->C_Initialize(NULL));
    OK(fx->f->C_GetSlotList(CK_FALSE, NULL, &n));
    OK(fx->f->C_Finalize(NULL));

    log_load(fx->log, NULL, 0, &l);
    size_t e = find_event(&l, 0, "error_state");
    assert_true(e < l.n);
    assert_string_equal(str_field(&l.r[e], "result"), "CKR_GENERAL_ERROR");
    assert_non_null(strstr(str_field(&l.r[e], "detail"), "pairwise"));
    /* The key generation's own record says it failed. */
    size_t g = find_event(&l, 0, "key_pair_generate");
    assert_true(g < l.n);
    assert_string_equal(str_field(&l.r[g], "result"), "CKR_GENERAL_ERROR");
    assert_string_equal(str_field(&l.r[g], "mechanism"), "CKM_EC_KEY_PAIR_GEN");
    assert_null(json_object_get(l.r[g].j, "object"));
    /* One error state only, then finalize and a clean start. */
    EQ(find_event(&l, e + 1, "error_state"), l.n);
    size_t fin = find_event(&l, e, "finalize");
    assert_true(fin < l.n);
    struct wants ws = {0};
    want_start(&ws);
    want_finalize(&ws);
    expect_records(&l, fin + 1, &ws, true);
    log_free(&l);
    wants_free(&ws);
}

/* 7: a torn last line is cut at the next start, and the cut recorded. */
static void test_torn_line_recovered(void **state)
{
    struct fixture *fx = *state;
    struct log l;
    static const char torn[] = "{\"ts\":\"2026-01-01T00:00:00.0";
    OK(fx->f->C_Initialize(NULL));
    OK(fx->f->C_Finalize(NULL));
    log_load(fx->log, NULL, 0, &l);
    size_t first = l.n;
    size_t first_len = l.len;
    log_free(&l);
    append_bytes(fx->log, torn);

    OK(fx->f->C_Initialize(NULL));
    OK(fx->f->C_Finalize(NULL));
    log_load(fx->log, NULL, 0, &l); /* every line whole, chain intact */
    /* The first run's lines are as they were; the torn bytes are gone. */
    assert_true(l.n > first);
    assert_memory_equal(l.r[first].line, "{\"ts\":", 6);
    EQ((size_t)(l.r[first].line - (const char *)l.buf), first_len);
    struct wants ws = {0};
    char detail[64];
    snprintf(detail, sizeof(detail), "cut %zu bytes", sizeof(torn) - 1);
    set_str(want_add(&ws, C_SYSTEM, "audit_recovered", "CKR_OK"), "detail~", detail);
    want_start(&ws);
    want_finalize(&ws);
    expect_records(&l, first, &ws, true);
    log_free(&l);
    wants_free(&ws);
}

/* 8: a log path that is a symlink (to a file, or dangling) is refused. */
static void test_symlink_refused(void **state)
{
    struct fixture *fx = *state;
    char target[PATH_MAX + 32];
    snprintf(target, sizeof(target), "%s/elsewhere.jsonl", fx->a.dir);
    int fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(symlink("elsewhere.jsonl", fx->log), 0);
    RV(fx->f->C_Initialize(NULL), CKR_GENERAL_ERROR);
    (void)fx->f->C_Finalize(NULL);
    struct stat st;
    assert_int_equal(stat(target, &st), 0);
    EQ(st.st_size, 0);

    assert_int_equal(unlink(target), 0); /* dangling now */
    RV(fx->f->C_Initialize(NULL), CKR_GENERAL_ERROR);
    (void)fx->f->C_Finalize(NULL);
    assert_false(exists(target));

    /* The control: the same config without the link works. */
    assert_int_equal(unlink(fx->log), 0);
    OK(fx->f->C_Initialize(NULL));
    OK(fx->f->C_Finalize(NULL));
    assert_int_equal(lstat(fx->log, &st), 0);
    assert_true(S_ISREG(st.st_mode) && st.st_size > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scripted_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_secrets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_continues_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_crypto, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_admin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyed_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_failure_logged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pct_failure_logged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_line_recovered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
