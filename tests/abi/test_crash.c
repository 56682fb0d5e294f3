/*
 * Crash safety through the real ABI.
 *
 * The test process never loads the module itself.  Every round forks a
 * fresh writer child that dlopens the module, initialises it, logs in as the
 * user and runs random operations on token objects (create public and
 * private data objects, change CKA_LABEL and/or CKA_VALUE, destroy).  Before
 * each operation the child sends an "intent" record through a pipe, after
 * CKR_OK an "ack" record.  The parent SIGKILLs the child 0-30 ms after it
 * says it is ready (most rounds: ready once logged in, so kills land in
 * operations and commits; some rounds: ready before C_Initialize, so kills
 * land in start-up and in PBKDF2).  Then a second forked child (the prober)
 * reopens the store and lists every object, and the parent checks:
 *
 *  - C_Initialize and the user login succeed;
 *  - the objects are exactly the acknowledged state, or the acknowledged
 *    state plus the one operation that was in flight (intent, no ack);
 *  - PRAGMA integrity_check says "ok", both on a copy of the store exactly
 *    as the kill left it (token.db + its WAL) and on the store after the
 *    module reopened it; sqlite3 touches a store only while no process holds
 *    it.
 *
 * Objects: CKA_APPLICATION "crash-<id>" (identity, never changed),
 * CKA_LABEL "L<id>.<seq>" and CKA_VALUE "V<id>.<seq>:" + 24..2071 bytes
 * derived from (id, seq), where seq numbers operations.
 *
 * CRATON_CRASH_KILLS (default 200) sets the number of kills of the main
 * loop, CRATON_CRASH_SEED the random seed (printed in a TAP diagnostic).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "abi_util.h"

#define SO_PIN   "12345678"
#define USER_PIN "87654321"
#define LEN(s)   ((CK_ULONG)(sizeof(s) - 1))
#define PIN(s)   (CK_UTF8CHAR_PTR)(s), LEN(s)

#define CRASH_KILLS_DEFAULT   200   /* CRATON_CRASH_KILLS overrides */
#define CRASH_DELAY_MAX_US    30000 /* kill 0..30 ms after "ready" */
#define CRASH_EARLY_PERCENT   20    /* rounds whose child is ready before C_Initialize */
#define INIT_TOKEN_KILLS      12
#define INIT_TOKEN_DELAY_US   160000 /* C_InitToken .. C_CreateObject: ~5 PBKDF2 runs */
#define FRESH_STORE_KILLS     12
#define FRESH_STORE_DELAY_US  80000
#define UPGRADE_KILLS         20
#define READY_TIMEOUT_MS      30000
#define VALUE_MAX             2100
#define LIVE_LOW              60
#define LIVE_HIGH             180
#define STORE_DB              "craton_hsm_store/token.db"
#define RV_NOT_TRIED          ((uint64_t)~0ULL)
#define RV_DLOPEN             ((uint64_t)~1ULL)

static const char CONFIG[] = ABI_FAST_CONFIG;

#include "crash_prober.h"

/* ---- records from the writers --------------------------------------------- */

enum rec_type { REC_READY = 1, REC_LOGGED_IN, REC_INTENT, REC_ACK, REC_ERROR };
enum op_kind { OP_CREATE = 1, OP_SET_LABEL, OP_SET_VALUE, OP_SET_BOTH, OP_DESTROY };

#define REC_MAGIC 0x43524153u /* "CRAS" */

struct rec {
    uint32_t magic, type;
    uint32_t kind, obj; /* op_kind and object id; REC_ERROR: source line */
    uint32_t seq, priv;
    uint64_t rv;
    char what[24]; /* REC_ERROR: the failing call */
};

static void send_rec(int fd, uint32_t type, uint32_t kind, uint32_t obj, uint32_t seq,
                     uint32_t priv, uint64_t rv, const char *what)
{
    struct rec r;
    memset(&r, 0, sizeof(r));
    r.magic = REC_MAGIC;
    r.type = type;
    r.kind = kind;
    r.obj = obj;
    r.seq = seq;
    r.priv = priv;
    r.rv = rv;
    if (what != NULL)
        snprintf(r.what, sizeof(r.what), "%s", what);
    if (!write_all(fd, &r, sizeof(r)))
        _exit(4);
}

#define CHILD_FAIL(fd, call, rv)                                                                  \
    do {                                                                                          \
        send_rec((fd), REC_ERROR, 0, __LINE__, 0, 0, (uint64_t)(rv), (call));                     \
        _exit(3);                                                                                 \
    } while (0)

/* Parsed records of one writer run. */
struct run {
    struct rec *acks; /* acknowledged operations, in order */
    size_t nacks;
    struct rec inflight; /* intent without ack (type 0: none) */
    bool ready, logged_in;
    struct rec error; /* REC_ERROR (type 0: none) */
    bool malformed;
};

static void run_free(struct run *r)
{
    free(r->acks);
    memset(r, 0, sizeof(*r));
}

/* Parses whole records of b (a torn tail is not acknowledged). */
static void parse_records(const struct buf *b, struct run *out)
{
    size_t n = b->n / sizeof(struct rec);
    free(out->acks);
    memset(out, 0, sizeof(*out));
    out->acks = calloc(n ? n : 1, sizeof(struct rec));
    for (size_t i = 0; i < n; i++) {
        struct rec r;
        memcpy(&r, b->p + i * sizeof(r), sizeof(r));
        if (r.magic != REC_MAGIC) {
            out->malformed = true;
            return;
        }
        switch (r.type) {
        case REC_READY:
            out->ready = true;
            break;
        case REC_LOGGED_IN:
            out->logged_in = true;
            break;
        case REC_INTENT:
            if (out->inflight.type != 0)
                out->malformed = true;
            out->inflight = r;
            break;
        case REC_ACK:
            if (out->inflight.type != REC_INTENT || out->inflight.seq != r.seq ||
                out->inflight.obj != r.obj || out->inflight.kind != r.kind)
                out->malformed = true;
            out->acks[out->nacks++] = r;
            memset(&out->inflight, 0, sizeof(out->inflight));
            break;
        case REC_ERROR:
            out->error = r;
            break;
        default:
            out->malformed = true;
        }
    }
}

/* ---- the model: what the store must hold ---------------------------------- */

struct mobj {
    bool exists, priv;
    uint32_t lver, vver;
};

struct model {
    struct mobj *o;
    uint32_t n;    /* ids handed out */
    uint32_t live; /* existing objects */
    uint32_t next_seq;
};

static void model_reserve(struct model *m, uint32_t n)
{
    if (n <= m->n)
        return;
    struct mobj *o = realloc(m->o, (size_t)n * sizeof(*o));
    assert_non_null(o);
    memset(o + m->n, 0, (size_t)(n - m->n) * sizeof(*o));
    m->o = o;
    m->n = n;
}

static void model_clone(struct model *dst, const struct model *src)
{
    *dst = *src;
    dst->o = malloc((size_t)(src->n ? src->n : 1) * sizeof(*dst->o));
    assert_non_null(dst->o);
    if (src->n > 0)
        memcpy(dst->o, src->o, (size_t)src->n * sizeof(*dst->o));
}

/* Hands out the id and sequence number of r for good (also for an
 * operation that may not have happened). */
static void model_claim(struct model *m, const struct rec *r)
{
    if (r->kind == OP_CREATE)
        model_reserve(m, r->obj + 1);
    if (r->seq + 1 > m->next_seq)
        m->next_seq = r->seq + 1;
}

static void model_apply(struct model *m, const struct rec *r)
{
    model_claim(m, r);
    struct mobj *o = &m->o[r->obj];
    switch (r->kind) {
    case OP_CREATE:
        o->exists = true;
        o->priv = r->priv != 0;
        o->lver = o->vver = r->seq;
        m->live++;
        break;
    case OP_SET_LABEL:
        o->lver = r->seq;
        break;
    case OP_SET_VALUE:
        o->vver = r->seq;
        break;
    case OP_SET_BOTH:
        o->lver = o->vver = r->seq;
        break;
    case OP_DESTROY:
        o->exists = false;
        m->live--;
        break;
    default:
        break;
    }
}

static size_t make_value(uint32_t id, uint32_t ver, unsigned char out[VALUE_MAX])
{
    uint64_t s = ((uint64_t)id << 32) ^ ver ^ 0x5eedULL;
    size_t len = 24 + (size_t)(splitmix(&s) % 2048);
    int n = snprintf((char *)out, VALUE_MAX, "V%" PRIu32 ".%" PRIu32 ":", id, ver);
    for (size_t i = (size_t)n; i < len; i++)
        out[i] = (unsigned char)splitmix(&s);
    return len;
}

static int make_label(uint32_t id, uint32_t ver, char out[64])
{
    return snprintf(out, 64, "L%" PRIu32 ".%" PRIu32, id, ver);
}

static int make_app(uint32_t id, char out[64])
{
    return snprintf(out, 64, "crash-%" PRIu32, id);
}

static bool parse_app(const char *app, uint32_t *id)
{
    char *end;
    if (strncmp(app, "crash-", 6) != 0 || app[6] < '0' || app[6] > '9')
        return false;
    unsigned long v = strtoul(app + 6, &end, 10);
    if (*end != '\0' || v > UINT32_MAX)
        return false;
    *id = (uint32_t)v;
    return true;
}

static const char *kind_name(uint32_t k)
{
    switch (k) {
    case OP_CREATE: return "create";
    case OP_SET_LABEL: return "set CKA_LABEL";
    case OP_SET_VALUE: return "set CKA_VALUE";
    case OP_SET_BOTH: return "set CKA_LABEL+CKA_VALUE";
    case OP_DESTROY: return "destroy";
    default: return "?";
    }
}

/* Does what the prober saw equal model m exactly?  First difference in why. */
static bool model_matches(const struct model *m, const struct probe *p, char *why, size_t len)
{
    bool ok = false;
    unsigned char *seen = calloc(m->n ? m->n : 1, 1);
    unsigned char want[VALUE_MAX];
    char lab[64];
    assert_non_null(seen);
    for (size_t i = 0; i < p->n; i++) {
        const struct pobj *o = &p->o[i];
        uint32_t id;
        if (o->cls == CKO_PROFILE)
            continue; /* made by the module, never stored */
        if (o->cls != CKO_DATA || !o->token || !parse_app(o->app, &id)) {
            snprintf(why, len, "unexpected object (class %#lx, token %d, application '%s')",
                     (unsigned long)o->cls, o->token, o->app);
            goto out;
        }
        if (id >= m->n || !m->o[id].exists) {
            snprintf(why, len, "object %" PRIu32 " exists (label '%s') but should not", id,
                     o->label);
            goto out;
        }
        if (seen[id]) {
            snprintf(why, len, "object %" PRIu32 " appears twice", id);
            goto out;
        }
        seen[id] = 1;
        const struct mobj *mo = &m->o[id];
        if (o->priv != mo->priv) {
            snprintf(why, len, "object %" PRIu32 ": CKA_PRIVATE %d, expected %d", id, o->priv,
                     mo->priv);
            goto out;
        }
        make_label(id, mo->lver, lab);
        if (strcmp(lab, o->label) != 0) {
            snprintf(why, len, "object %" PRIu32 ": CKA_LABEL '%s', expected '%s'", id, o->label,
                     lab);
            goto out;
        }
        size_t vlen = make_value(id, mo->vver, want);
        if (vlen != o->value_len || memcmp(want, o->value, vlen) != 0) {
            snprintf(why, len,
                     "object %" PRIu32 ": CKA_VALUE (%zu bytes, '%.12s...') is not version %" PRIu32
                     " (%zu bytes)",
                     id, o->value_len, o->value_len ? (const char *)o->value : "", mo->vver,
                     vlen);
            goto out;
        }
    }
    for (uint32_t id = 0; id < m->n; id++) {
        if (m->o[id].exists && !seen[id]) {
            make_label(id, m->o[id].lver, lab);
            snprintf(why, len, "object %" PRIu32 " (%s, label '%s') is missing", id,
                     m->o[id].priv ? "private" : "public", lab);
            goto out;
        }
    }
    ok = true;
out:
    free(seen);
    return ok;
}

/* ---- the writer ----------------------------------------------------------- */

struct writer_arg {
    const struct model *m;
    uint64_t seed;
    bool ready_early; /* "ready" before C_Initialize (else once logged in) */
};

static CK_OBJECT_CLASS data_class = CKO_DATA;
static CK_BBOOL ck_true = CK_TRUE, ck_false = CK_FALSE;

static void writer(int fd, void *varg)
{
    const struct writer_arg *arg = varg;
    struct model m;
    struct abi a = {0};
    uint64_t rng = arg->seed;
    model_clone(&m, arg->m);
    CK_OBJECT_HANDLE *handle = calloc(m.n + 1, sizeof(*handle));
    uint32_t *live = calloc(m.n + 1, sizeof(*live));
    uint32_t nlive = 0;
    if (handle == NULL || live == NULL)
        CHILD_FAIL(fd, "calloc", 0);
    if (arg->ready_early)
        send_rec(fd, REC_READY, 0, 0, 0, 0, 0, NULL);
    if (abi_open(&a) != 0)
        CHILD_FAIL(fd, "dlopen", 0);
    CK_FUNCTION_LIST_3_2 *f = a.f;
    CK_RV rv = f->C_Initialize(NULL);
    if (rv != CKR_OK)
        CHILD_FAIL(fd, "C_Initialize", rv);
    CK_SESSION_HANDLE s;
    rv = f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
    if (rv != CKR_OK)
        CHILD_FAIL(fd, "C_OpenSession", rv);
    rv = f->C_Login(s, CKU_USER, PIN(USER_PIN));
    if (rv != CKR_OK)
        CHILD_FAIL(fd, "C_Login", rv);
    send_rec(fd, REC_LOGGED_IN, 0, 0, 0, 0, 0, NULL);

    /* Map ids to handles. */
    CK_OBJECT_HANDLE hs[64];
    CK_ULONG got;
    rv = f->C_FindObjectsInit(s, NULL, 0);
    if (rv != CKR_OK)
        CHILD_FAIL(fd, "C_FindObjectsInit", rv);
    do {
        rv = f->C_FindObjects(s, hs, 64, &got);
        if (rv != CKR_OK)
            CHILD_FAIL(fd, "C_FindObjects", rv);
        for (CK_ULONG i = 0; i < got; i++) {
            char app[64] = {0};
            CK_OBJECT_CLASS cls = 0;
            CK_ATTRIBUTE c = {CKA_CLASS, &cls, sizeof(cls)};
            CK_ATTRIBUTE t = {CKA_APPLICATION, app, sizeof(app) - 1};
            uint32_t id;
            rv = f->C_GetAttributeValue(s, hs[i], &c, 1);
            if (rv != CKR_OK)
                CHILD_FAIL(fd, "C_GetAttributeValue", rv);
            if (cls == CKO_PROFILE)
                continue; /* made by the module */
            rv = f->C_GetAttributeValue(s, hs[i], &t, 1);
            if (rv != CKR_OK)
                CHILD_FAIL(fd, "C_GetAttributeValue", rv);
            app[t.ulValueLen] = '\0';
            if (!parse_app(app, &id) || id >= m.n || !m.o[id].exists)
                CHILD_FAIL(fd, "unknown object", 0);
            handle[id] = hs[i];
        }
    } while (got > 0);
    (void)f->C_FindObjectsFinal(s);
    for (uint32_t id = 0; id < m.n; id++) {
        if (!m.o[id].exists)
            continue;
        if (handle[id] == CK_INVALID_HANDLE)
            CHILD_FAIL(fd, "object not found", id);
        live[nlive++] = id;
    }
    if (!arg->ready_early)
        send_rec(fd, REC_READY, 0, 0, 0, 0, 0, NULL);

    for (;;) {
        unsigned pc = nlive < LIVE_LOW ? 55 : nlive > LIVE_HIGH ? 15 : 33;
        unsigned pd = nlive < LIVE_LOW ? 10 : nlive > LIVE_HIGH ? 50 : 30;
        unsigned r = (unsigned)rnd_below(&rng, 100);
        struct rec op;
        memset(&op, 0, sizeof(op));
        op.seq = m.next_seq;
        size_t pick = 0;
        if (nlive == 0 || r < pc) {
            op.kind = OP_CREATE;
            op.obj = m.n;
            op.priv = rnd_below(&rng, 100) < 40;
        } else {
            pick = (size_t)rnd_below(&rng, nlive);
            op.obj = live[pick];
            if (r < pc + pd)
                op.kind = OP_DESTROY;
            else
                op.kind = OP_SET_LABEL + (uint32_t)rnd_below(&rng, 3);
        }
        char label[64], app[64];
        unsigned char value[VALUE_MAX];
        CK_ULONG llen = (CK_ULONG)make_label(op.obj, op.seq, label);
        CK_ULONG vlen = (CK_ULONG)make_value(op.obj, op.seq, value);
        send_rec(fd, REC_INTENT, op.kind, op.obj, op.seq, op.priv, 0, NULL);
        switch (op.kind) {
        case OP_CREATE: {
            CK_ULONG alen = (CK_ULONG)make_app(op.obj, app);
            CK_ATTRIBUTE t[] = {
                {CKA_CLASS, &data_class, sizeof(data_class)},
                {CKA_TOKEN, &ck_true, sizeof(CK_BBOOL)},
                {CKA_PRIVATE, op.priv ? &ck_true : &ck_false, sizeof(CK_BBOOL)},
                {CKA_APPLICATION, app, alen},
                {CKA_LABEL, label, llen},
                {CKA_VALUE, value, vlen},
            };
            CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
            rv = f->C_CreateObject(s, t, 6, &h);
            if (rv != CKR_OK)
                CHILD_FAIL(fd, "C_CreateObject", rv);
            CK_OBJECT_HANDLE *nh = realloc(handle, (size_t)(m.n + 2) * sizeof(*nh));
            uint32_t *nl = realloc(live, (size_t)(m.n + 2) * sizeof(*nl));
            if (nh == NULL || nl == NULL)
                CHILD_FAIL(fd, "realloc", 0);
            handle = nh;
            live = nl;
            handle[op.obj] = h;
            live[nlive++] = op.obj;
            break;
        }
        case OP_DESTROY:
            rv = f->C_DestroyObject(s, handle[op.obj]);
            if (rv != CKR_OK)
                CHILD_FAIL(fd, "C_DestroyObject", rv);
            live[pick] = live[--nlive];
            break;
        default: {
            CK_ATTRIBUTE t[2];
            CK_ULONG n = 0;
            if (op.kind != OP_SET_VALUE)
                t[n++] = (CK_ATTRIBUTE){CKA_LABEL, label, llen};
            if (op.kind != OP_SET_LABEL)
                t[n++] = (CK_ATTRIBUTE){CKA_VALUE, value, vlen};
            rv = f->C_SetAttributeValue(s, handle[op.obj], t, n);
            if (rv != CKR_OK)
                CHILD_FAIL(fd, "C_SetAttributeValue", rv);
            break;
        }
        }
        send_rec(fd, REC_ACK, op.kind, op.obj, op.seq, op.priv, 0, NULL);
        model_apply(&m, &op);
    }
}

/* ---- the main loop -------------------------------------------------------- */

/* One-off setup in a child: token, user PIN (the test process never holds
 * the module). */
static void init_token_child(int fd, void *arg)
{
    CK_UTF8CHAR label[32];
    struct abi a = {0};
    CK_SESSION_HANDLE s;
    CK_RV rv;
    memset(label, ' ', sizeof(label));
    memcpy(label, arg, strnlen(arg, sizeof(label)));
    if (abi_open(&a) != 0)
        CHILD_FAIL(fd, "dlopen", 0);
    CK_FUNCTION_LIST_3_2 *f = a.f;
    if ((rv = f->C_Initialize(NULL)) != CKR_OK)
        CHILD_FAIL(fd, "C_Initialize", rv);
    if ((rv = f->C_InitToken(0, PIN(SO_PIN), label)) != CKR_OK)
        CHILD_FAIL(fd, "C_InitToken", rv);
    if ((rv = f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s)) != CKR_OK)
        CHILD_FAIL(fd, "C_OpenSession", rv);
    if ((rv = f->C_Login(s, CKU_SO, PIN(SO_PIN))) != CKR_OK)
        CHILD_FAIL(fd, "C_Login(SO)", rv);
    if ((rv = f->C_InitPIN(s, PIN(USER_PIN))) != CKR_OK)
        CHILD_FAIL(fd, "C_InitPIN", rv);
    (void)f->C_Finalize(NULL);
    send_rec(fd, REC_INTENT, 0, 0, 0, 0, 0, NULL);
    send_rec(fd, REC_ACK, 0, 0, 0, 0, 0, NULL);
    _exit(0);
}

/* Runs fn to completion in a child; false with why when it fails. */
static bool run_to_end(void (*fn)(int, void *), void *arg, char *why, size_t len)
{
    int fd;
    struct buf b = {0};
    struct run r = {0};
    pid_t pid = spawn(&fd, fn, arg);
    if (pid < 0)
        return false;
    (void)buf_read(&b, fd, -1);
    close(fd);
    int status = wait_child(pid);
    parse_records(&b, &r);
    bool ok = status == 0 && r.error.type == 0 && r.nacks > 0;
    if (!ok) {
        char st[64];
        describe_status(status, st, sizeof(st));
        snprintf(why, len, "%s: %s failed: rv %#" PRIx64 " (line %" PRIu32 ")", st, r.error.what,
                 r.error.rv, r.error.obj);
    }
    buf_free(&b);
    run_free(&r);
    return ok;
}

struct stats {
    unsigned long kills, acked, creates, updates, destroys;
    unsigned long inflight_applied, inflight_not_applied;
    unsigned long during_startup, mid_operation, between_operations;
};

/* Starts a writer, kills it after a random delay once it is ready, and
 * returns its records; false with why if it misbehaved. */
static bool kill_round(void (*fn)(int, void *), void *arg, uint64_t delay_us, struct run *r,
                       char *why, size_t len)
{
    int fd;
    struct buf b = {0};
    bool ok = false;
    pid_t pid = spawn(&fd, fn, arg);
    if (pid < 0) {
        snprintf(why, len, "fork: %s", strerror(errno));
        return false;
    }
    /* Wait for "ready" (or the child's end). */
    double deadline = now_s() + READY_TIMEOUT_MS / 1000.0;
    int rr = 1;
    for (;;) {
        parse_records(&b, r);
        if (r->ready || r->error.type != 0 || rr <= 0 || now_s() > deadline)
            break;
        rr = buf_read(&b, fd, 100);
    }
    if (r->ready && r->error.type == 0)
        sleep_us(delay_us);
    kill(pid, SIGKILL);
    (void)buf_read(&b, fd, -1);
    close(fd);
    int status = wait_child(pid);
    parse_records(&b, r);
    char st[64];
    describe_status(status, st, sizeof(st));
    if (r->error.type != 0)
        snprintf(why, len, "the writer failed: %s returned rv %#" PRIx64 " (test line %" PRIu32
                 ", %s)", r->error.what, r->error.rv, r->error.obj, st);
    else if (!r->ready)
        snprintf(why, len, "the writer never became ready (%s)", st);
    else if (r->malformed)
        snprintf(why, len, "the writer's records are malformed");
    else if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
        snprintf(why, len, "the writer ended on its own before the kill (%s)", st);
    else
        ok = true;
    buf_free(&b);
    return ok;
}

static int setup(void **state)
{
    struct abi *a = calloc(1, sizeof(*a));
    if (a == NULL || abi_scratch(a, CONFIG) != 0) {
        free(a);
        return -1;
    }
    *state = a;
    return 0;
}

static int teardown(void **state)
{
    struct abi *a = *state;
    abi_rm_scratch(a);
    free(a);
    return 0;
}

static uint64_t g_seed;

static void test_kill_loop(void **state)
{
    (void)state;
    char why[512], why2[512];
    unsigned long kills = env_count("CRATON_CRASH_KILLS", CRASH_KILLS_DEFAULT);
    uint64_t rng = g_seed;
    struct model m = {0};
    struct stats st = {0};
    struct run r = {0};
    struct probe_opts popts = {false, false};
    double t0 = now_s();

    if (!run_to_end(init_token_child, "crash test", why, sizeof(why)))
        fail_msg("setting up the token: %s", why);

    for (unsigned long round = 0; round < kills; round++) {
        struct writer_arg wa = {
            .m = &m,
            .seed = splitmix(&rng),
            .ready_early = rnd_below(&rng, 100) < CRASH_EARLY_PERCENT,
        };
        uint64_t delay = rnd_below(&rng, CRASH_DELAY_MAX_US + 1);
        bool ok = kill_round(writer, &wa, delay, &r, why, sizeof(why));
        if (!ok)
            fail_msg("round %lu: %s", round, why);
        st.kills++;
        if (!r.logged_in)
            st.during_startup++;
        else if (r.inflight.type != 0)
            st.mid_operation++;
        else
            st.between_operations++;

        /* The acknowledged state, and the alternative with the in-flight
         * operation applied. */
        for (size_t i = 0; i < r.nacks; i++) {
            model_apply(&m, &r.acks[i]);
            st.acked++;
            if (r.acks[i].kind == OP_CREATE)
                st.creates++;
            else if (r.acks[i].kind == OP_DESTROY)
                st.destroys++;
            else
                st.updates++;
        }
        struct model alt = {0};
        bool has_alt = r.inflight.type != 0;
        if (has_alt) {
            model_claim(&m, &r.inflight);
            model_clone(&alt, &m);
            model_apply(&alt, &r.inflight);
        }

        /* The store as the kill left it. */
        if (!raw_integrity_ok(why, sizeof(why)))
            fail_msg("round %lu (after the kill, before reopening): %s", round, why);

        struct probe p;
        if (!run_probe(&popts, &p, why, sizeof(why)))
            fail_msg("round %lu: %s", round, why);
        if (probe_problem(&p, why, sizeof(why)) != NULL)
            fail_msg("round %lu: %s", round, why);
        if (!(p.h.flags & CKF_TOKEN_INITIALIZED) || p.h.rv_user_login != CKR_OK)
            fail_msg("round %lu: the token lost its initialisation or user PIN (flags %#" PRIx64
                     ")", round, p.h.flags);
        bool same = model_matches(&m, &p, why, sizeof(why));
        if (!same && has_alt && model_matches(&alt, &p, why2, sizeof(why2))) {
            free(m.o);
            m = alt;
            alt.o = NULL;
            st.inflight_applied++;
        } else if (!same) {
            fail_msg("round %lu: after %zu acknowledged operations (in flight: %s), the store "
                     "does not match: %s%s%s",
                     round, r.nacks,
                     has_alt ? kind_name(r.inflight.kind) : "none", why,
                     has_alt ? "; with the in-flight operation applied: " : "",
                     has_alt ? why2 : "");
        } else if (has_alt) {
            st.inflight_not_applied++;
        }
        free(alt.o);
        probe_free(&p);

        /* The store after the module reopened and closed it. */
        if (!integrity_ok(STORE_DB, why, sizeof(why)))
            fail_msg("round %lu (after reopening): %s", round, why);
    }
    run_free(&r);
    printf("# crash: %lu kills, %lu acknowledged operations verified (%lu creates, %lu updates, "
           "%lu destroys), in flight at the kill: %lu applied, %lu not applied; kills during "
           "start-up/login %lu, mid-operation %lu, between operations %lu; %lu objects live, "
           "%" PRIu32 " ever created; %.1f s; seed %" PRIu64 "\n",
           st.kills, st.acked, st.creates, st.updates, st.destroys, st.inflight_applied,
           st.inflight_not_applied, st.during_startup, st.mid_operation, st.between_operations,
           (unsigned long)m.live, m.n, now_s() - t0, g_seed);
    fflush(stdout);
    assert_true(st.acked > st.kills); /* the kills did land among operations */
    free(m.o);
}

/* ---- C_InitToken killed -------------------------------------------------- */

struct reinit_arg {
    unsigned gen; /* the new generation */
};

static void gen_label(unsigned gen, CK_UTF8CHAR out[32])
{
    char s[40];
    snprintf(s, sizeof(s), "gen-%-28u", gen);
    memcpy(out, s, 32);
}

static void gen_app(unsigned gen, char out[64])
{
    snprintf(out, 64, "marker-%u", gen);
}

/* C_InitToken (wipes the objects, new OMK), SO sets the user PIN, the user
 * creates this generation's marker; each step acknowledged. */
static void reinit_writer(int fd, void *varg)
{
    const struct reinit_arg *arg = varg;
    struct abi a = {0};
    CK_SESSION_HANDLE s;
    CK_UTF8CHAR label[32];
    char app[64];
    CK_RV rv;
    if (abi_open(&a) != 0)
        CHILD_FAIL(fd, "dlopen", 0);
    CK_FUNCTION_LIST_3_2 *f = a.f;
    if ((rv = f->C_Initialize(NULL)) != CKR_OK)
        CHILD_FAIL(fd, "C_Initialize", rv);
    send_rec(fd, REC_READY, 0, 0, 0, 0, 0, NULL);
    gen_label(arg->gen, label);
    if ((rv = f->C_InitToken(0, PIN(SO_PIN), label)) != CKR_OK)
        CHILD_FAIL(fd, "C_InitToken", rv);
    send_rec(fd, REC_INTENT, 1, 0, 1, 0, 0, NULL);
    send_rec(fd, REC_ACK, 1, 0, 1, 0, 0, NULL);
    if ((rv = f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s)) != CKR_OK)
        CHILD_FAIL(fd, "C_OpenSession", rv);
    if ((rv = f->C_Login(s, CKU_SO, PIN(SO_PIN))) != CKR_OK)
        CHILD_FAIL(fd, "C_Login(SO)", rv);
    if ((rv = f->C_InitPIN(s, PIN(USER_PIN))) != CKR_OK)
        CHILD_FAIL(fd, "C_InitPIN", rv);
    send_rec(fd, REC_INTENT, 2, 0, 2, 0, 0, NULL);
    send_rec(fd, REC_ACK, 2, 0, 2, 0, 0, NULL);
    (void)f->C_Logout(s);
    if ((rv = f->C_Login(s, CKU_USER, PIN(USER_PIN))) != CKR_OK)
        CHILD_FAIL(fd, "C_Login(USER)", rv);
    gen_app(arg->gen, app);
    CK_ULONG alen = (CK_ULONG)strlen(app);
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &data_class, sizeof(data_class)},
        {CKA_TOKEN, &ck_true, sizeof(CK_BBOOL)},
        {CKA_PRIVATE, &ck_true, sizeof(CK_BBOOL)},
        {CKA_APPLICATION, app, alen},
        {CKA_VALUE, app, alen},
    };
    CK_OBJECT_HANDLE h;
    if ((rv = f->C_CreateObject(s, t, 5, &h)) != CKR_OK)
        CHILD_FAIL(fd, "C_CreateObject", rv);
    send_rec(fd, REC_INTENT, 3, 0, 3, 0, 0, NULL);
    send_rec(fd, REC_ACK, 3, 0, 3, 0, 0, NULL);
    for (;;)
        pause();
}

/* A store killed anywhere in C_InitToken (and the steps after it) opens,
 * holds either the old token with its objects or the new one without them,
 * and the SO PIN works. */
static void test_kill_during_init_token(void **state)
{
    (void)state;
    char why[512];
    uint64_t rng = g_seed ^ 0x1217;
    struct run r = {0};
    struct probe_opts popts = {true, true};
    unsigned gen = 0;
    bool marker = false; /* the current generation's marker exists */
    CK_UTF8CHAR want_old[32], want_new[32];
    char app_old[64], app_new[64];

    if (!run_to_end(init_token_child, "gen-0", why, sizeof(why)))
        fail_msg("setting up the token: %s", why);
    for (unsigned k = 0; k < INIT_TOKEN_KILLS; k++) {
        struct reinit_arg ra = {gen + 1};
        if (!kill_round(reinit_writer, &ra, rnd_below(&rng, INIT_TOKEN_DELAY_US + 1), &r, why,
                        sizeof(why)))
            fail_msg("kill %u: %s", k, why);
        size_t steps = r.nacks;
        if (!raw_integrity_ok(why, sizeof(why)))
            fail_msg("kill %u (after the kill, before reopening): %s", k, why);
        struct probe p;
        if (!run_probe(&popts, &p, why, sizeof(why)))
            fail_msg("kill %u: %s", k, why);
        if (probe_problem(&p, why, sizeof(why)) != NULL)
            fail_msg("kill %u after %zu acknowledged steps: %s", k, steps, why);
        gen_label(gen, want_old);
        gen_label(gen + 1, want_new);
        gen_app(gen, app_old);
        gen_app(gen + 1, app_new);
        assert_true(p.h.flags & CKF_TOKEN_INITIALIZED);
        bool is_new = memcmp(p.h.label, want_new, 32) == 0;
        if (!is_new && memcmp(p.h.label, want_old, 32) != 0)
            fail_msg("kill %u: token label '%.32s', expected gen %u or %u", k, p.h.label, gen,
                     gen + 1);
        if (!is_new && steps > 0)
            fail_msg("kill %u: C_InitToken was acknowledged but the old token is back", k);
        if (steps >= 2 && !(p.h.flags & CKF_USER_PIN_INITIALIZED))
            fail_msg("kill %u: C_InitPIN was acknowledged but the token has no user PIN", k);
        assert_true(p.h.flags_after & CKF_USER_PIN_INITIALIZED);
        bool have_new = false, have_old = false;
        for (size_t i = 0; i < p.n; i++) {
            if (p.o[i].cls == CKO_PROFILE)
                continue;
            if (strcmp(p.o[i].app, app_new) == 0 && is_new)
                have_new = true;
            else if (strcmp(p.o[i].app, app_old) == 0 && !is_new)
                have_old = true;
            else
                fail_msg("kill %u: unexpected object '%s' on token gen %u", k, p.o[i].app,
                         is_new ? gen + 1 : gen);
        }
        if (!is_new && have_old != marker)
            fail_msg("kill %u: the old token's marker is %s", k, marker ? "gone" : "back");
        if (is_new && steps >= 3 && !have_new)
            fail_msg("kill %u: the acknowledged marker of gen %u is missing", k, gen + 1);
        probe_free(&p);
        if (!integrity_ok(STORE_DB, why, sizeof(why)))
            fail_msg("kill %u (after reopening): %s", k, why);
        if (is_new) {
            gen++;
            marker = have_new;
        } else {
            marker = have_old;
        }
    }
    run_free(&r);
    printf("# init-token: %u kills, token re-initialised %u times\n", INIT_TOKEN_KILLS, gen);
}

/* ---- a fresh store killed while being created ----------------------------- */

static void fresh_writer(int fd, void *arg)
{
    (void)arg;
    struct abi a = {0};
    CK_SESSION_HANDLE s;
    CK_RV rv;
    send_rec(fd, REC_READY, 0, 0, 0, 0, 0, NULL);
    if (abi_open(&a) != 0)
        CHILD_FAIL(fd, "dlopen", 0);
    CK_FUNCTION_LIST_3_2 *f = a.f;
    if ((rv = f->C_Initialize(NULL)) != CKR_OK)
        CHILD_FAIL(fd, "C_Initialize", rv);
    if ((rv = f->C_InitToken(0, PIN(SO_PIN), (CK_UTF8CHAR_PTR) "fresh                           ")) !=
        CKR_OK)
        CHILD_FAIL(fd, "C_InitToken", rv);
    send_rec(fd, REC_INTENT, 1, 0, 1, 0, 0, NULL);
    send_rec(fd, REC_ACK, 1, 0, 1, 0, 0, NULL);
    if ((rv = f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s)) != CKR_OK)
        CHILD_FAIL(fd, "C_OpenSession", rv);
    if ((rv = f->C_Login(s, CKU_SO, PIN(SO_PIN))) != CKR_OK)
        CHILD_FAIL(fd, "C_Login(SO)", rv);
    if ((rv = f->C_InitPIN(s, PIN(USER_PIN))) != CKR_OK)
        CHILD_FAIL(fd, "C_InitPIN", rv);
    send_rec(fd, REC_INTENT, 2, 0, 2, 0, 0, NULL);
    send_rec(fd, REC_ACK, 2, 0, 2, 0, 0, NULL);
    for (;;)
        pause();
}

/* The first C_Initialize creates the schema, C_InitToken the token record:
 * a kill anywhere there leaves a store that opens, uninitialised or
 * initialised with working PINs. */
static void test_kill_fresh_store(void **state)
{
    (void)state;
    char why[512];
    uint64_t rng = g_seed ^ 0xf7e5;
    struct run r = {0};
    struct probe_opts popts = {true, false};
    unsigned initialised = 0;
    for (unsigned k = 0; k < FRESH_STORE_KILLS; k++) {
        if (system("rm -rf craton_hsm_store") != 0)
            fail_msg("cannot remove the store");
        if (!kill_round(fresh_writer, NULL, rnd_below(&rng, FRESH_STORE_DELAY_US + 1), &r, why,
                        sizeof(why)))
            fail_msg("kill %u: %s", k, why);
        size_t steps = r.nacks;
        if (access(STORE_DB, F_OK) == 0 && !raw_integrity_ok(why, sizeof(why)))
            fail_msg("kill %u (after the kill, before reopening): %s", k, why);
        struct probe p;
        if (!run_probe(&popts, &p, why, sizeof(why)))
            fail_msg("kill %u: %s", k, why);
        if (probe_problem(&p, why, sizeof(why)) != NULL)
            fail_msg("kill %u after %zu acknowledged steps: %s", k, steps, why);
        bool init = (p.h.flags & CKF_TOKEN_INITIALIZED) != 0;
        if (steps >= 1 && !init)
            fail_msg("kill %u: C_InitToken was acknowledged but the token is not initialised", k);
        if (steps >= 2 && !(p.h.flags & CKF_USER_PIN_INITIALIZED))
            fail_msg("kill %u: C_InitPIN was acknowledged but the token has no user PIN", k);
        if (init && memcmp(p.h.label, "fresh ", 6) != 0)
            fail_msg("kill %u: label '%.32s'", k, p.h.label);
        for (size_t i = 0; i < p.n; i++)
            if (p.o[i].cls != CKO_PROFILE)
                fail_msg("kill %u: unexpected object (class %#lx, application '%s')", k,
                         (unsigned long)p.o[i].cls, p.o[i].app);
        initialised += init;
        probe_free(&p);
        if (!integrity_ok(STORE_DB, why, sizeof(why)))
            fail_msg("kill %u (after reopening): %s", k, why);
    }
    run_free(&r);
    printf("# fresh-store: %u kills, %u left an initialised token\n", FRESH_STORE_KILLS,
           initialised);
}

/* ---- the schema upgrade killed -------------------------------------------- */

static void open_writer(int fd, void *arg)
{
    (void)arg;
    struct abi a = {0};
    CK_RV rv;
    if (abi_open(&a) != 0)
        CHILD_FAIL(fd, "dlopen", 0);
    send_rec(fd, REC_READY, 0, 0, 0, 0, 0, NULL);
    double t0 = now_s();
    if ((rv = a.f->C_Initialize(NULL)) != CKR_OK)
        CHILD_FAIL(fd, "C_Initialize", rv);
    uint64_t us = (uint64_t)((now_s() - t0) * 1e6);
    send_rec(fd, REC_INTENT, 1, 0, 1, 0, 0, NULL);
    send_rec(fd, REC_ACK, 1, 0, 1, 0, us, NULL); /* rv: how long C_Initialize took */
    for (;;)
        pause();
}

/* C_Initialize upgrades a schema version 1 store (no objects table) by
 * migrating a copy and renaming it over the original: a kill anywhere in it
 * leaves a store that opens with its token and PINs, upgraded afterwards. */
static void test_kill_during_upgrade(void **state)
{
    (void)state;
    char why[512];
    uint64_t rng = g_seed ^ 0x09a7;
    struct run r = {0};
    struct probe_opts popts = {true, false};
    unsigned raw_v1 = 0, raw_v2 = 0, leftovers = 0;
    if (!run_to_end(init_token_child, "upgrade", why, sizeof(why)))
        fail_msg("setting up the token: %s", why);
    if (schema_version(STORE_DB) != 2) {
        printf("# upgrade: schema version is %d, not 2: the v1 recipe no longer applies\n",
               schema_version(STORE_DB));
        skip();
    }
    /* Calibration: one upgrade left to finish tells how long C_Initialize
     * takes here (sanitizers and load change it); kills then land in
     * 0..1.3 times that. */
    static const char downgrade[] =
        "BEGIN; DROP TABLE objects; UPDATE schema_version SET version = 1; COMMIT";
    if (!exec_sql(STORE_DB, downgrade, why, sizeof(why)))
        fail_msg("making a version 1 store: %s", why);
    if (!kill_round(open_writer, NULL, 3000000, &r, why, sizeof(why)) || r.nacks != 1)
        fail_msg("upgrading a version 1 store: %s", r.nacks != 1 ? "no C_Initialize" : why);
    uint64_t max_delay = r.acks[0].rv * 13 / 10 + 500;
    if (schema_version(STORE_DB) != 2)
        fail_msg("C_Initialize did not upgrade the store");
    for (unsigned k = 0; k < UPGRADE_KILLS; k++) {
        /* Schema version 1: version 2 without the objects table. */
        if (!exec_sql(STORE_DB, downgrade, why, sizeof(why)))
            fail_msg("kill %u: making a version 1 store: %s", k, why);
        if (!kill_round(open_writer, NULL, rnd_below(&rng, max_delay + 1), &r, why,
                        sizeof(why)))
            fail_msg("kill %u: %s", k, why);
        int v = -1;
        leftovers += access(STORE_DB ".upgrade", F_OK) == 0;
        if (!raw_integrity_ok_v(why, sizeof(why), &v))
            fail_msg("kill %u (after the kill, before reopening): %s", k, why);
        if (v != 1 && v != 2)
            fail_msg("kill %u: schema version %d after the kill", k, v);
        if (r.nacks > 0 && v != 2)
            fail_msg("kill %u: C_Initialize returned but the store is still version %d", k, v);
        raw_v1 += v == 1;
        raw_v2 += v == 2;
        struct probe p;
        if (!run_probe(&popts, &p, why, sizeof(why)))
            fail_msg("kill %u: %s", k, why);
        if (probe_problem(&p, why, sizeof(why)) != NULL)
            fail_msg("kill %u: %s", k, why);
        if (!(p.h.flags & CKF_TOKEN_INITIALIZED) || memcmp(p.h.label, "upgrade ", 8) != 0 ||
            p.h.rv_user_login != CKR_OK)
            fail_msg("kill %u: token lost (flags %#" PRIx64 ", label '%.32s')", k, p.h.flags,
                     p.h.label);
        probe_free(&p);
        if (schema_version(STORE_DB) != 2)
            fail_msg("kill %u: the store was not upgraded on reopening", k);
        if (access(STORE_DB ".upgrade", F_OK) == 0)
            fail_msg("kill %u: %s.upgrade left behind after reopening", k, STORE_DB);
        if (!integrity_ok(STORE_DB, why, sizeof(why)))
            fail_msg("kill %u (after reopening): %s", k, why);
    }
    run_free(&r);
    printf("# upgrade: %u kills in 0..%" PRIu64 " us; left as version 1: %u, version 2: %u; "
           "with a half-made copy: %u\n",
           UPGRADE_KILLS, max_delay, raw_v1, raw_v2, leftovers);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const char *s = getenv("CRATON_CRASH_SEED");
    g_seed = s != NULL && *s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid();
    printf("# crash: seed %" PRIu64 " (CRATON_CRASH_SEED), module %s\n", g_seed,
           abi_module_path());
    const struct CMUnitTest tests[] = {
        T(test_kill_fresh_store),
        T(test_kill_during_init_token),
        T(test_kill_during_upgrade),
        T(test_kill_loop),
    };
    return cmocka_run_group_tests_name("crash", tests, NULL, NULL);
}
