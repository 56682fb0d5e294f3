/* The crash test's utilities, the integrity check and the prober that
 * reopens a killed store (included by test_crash.c only). */
#ifndef CRATON_TESTS_ABI_CRASH_PROBER_H
#define CRATON_TESTS_ABI_CRASH_PROBER_H

/* ---- small utilities ------------------------------------------------------ */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t *s, uint64_t n)
{
    return n == 0 ? 0 : splitmix(s) % n;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_us(uint64_t us)
{
    struct timespec t = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

static unsigned long env_count(const char *name, unsigned long dflt)
{
    const char *s = getenv(name);
    if (s == NULL || *s == '\0')
        return dflt;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    return *end == '\0' ? v : dflt;
}

static bool write_all(int fd, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        b += w;
        n -= (size_t)w;
    }
    return true;
}

struct buf {
    unsigned char *p;
    size_t n, cap;
};

static bool buf_add(struct buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n)
            cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (q == NULL)
            return false;
        b->p = q;
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->p + b->n, p, n);
    b->n += n;
    return true;
}

static void buf_free(struct buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

/* Reads what is available (timeout_ms < 0: until EOF); returns -1 on error,
 * 0 on EOF, 1 if data may follow. */
static int buf_read(struct buf *b, int fd, int timeout_ms)
{
    unsigned char tmp[16384];
    for (;;) {
        if (timeout_ms >= 0) {
            struct pollfd pfd = {fd, POLLIN, 0};
            int r = poll(&pfd, 1, timeout_ms);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return r < 0 ? -1 : 1;
        }
        ssize_t n = read(fd, tmp, sizeof(tmp));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        if (!buf_add(b, tmp, (size_t)n))
            return -1;
        if (timeout_ms >= 0)
            return 1;
    }
}

/* A forked child must not run cmocka's handlers or return into the runner. */
static void child_signals(void)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGPIPE, SIGTERM};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        signal(sigs[i], SIG_DFL);
}

static pid_t spawn(int *rfd, void (*fn)(int wfd, void *arg), void *arg)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    (void)fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        close(p[0]);
        child_signals();
        fn(p[1], arg);
        _exit(0);
    }
    close(p[1]);
    *rfd = p[0];
    return pid;
}

static int wait_child(pid_t pid)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return status;
}

static void describe_status(int status, char *out, size_t len)
{
    if (WIFEXITED(status))
        snprintf(out, len, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, len, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(out, len, "status %#x", (unsigned)status);
}

/* ---- PRAGMA integrity_check ----------------------------------------------- */

/* Runs integrity_check on path; "ok" -> true, else the answer in why. */
static bool integrity_ok(const char *path, char *why, size_t len)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    bool ok = false;
    why[0] = '\0';
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        snprintf(why, len, "open %s: %s", path, db ? sqlite3_errmsg(db) : "no memory");
        goto out;
    }
    sqlite3_busy_timeout(db, 1000);
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL) != SQLITE_OK) {
        snprintf(why, len, "%s: %s", path, sqlite3_errmsg(db));
        goto out;
    }
    int rows = 0, step;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(q, 0);
        if (rows++ == 0)
            ok = t != NULL && strcmp(t, "ok") == 0;
        else
            ok = false;
        if (!ok && why[0] == '\0')
            snprintf(why, len, "%s: integrity_check: %s", path, t ? t : "(null)");
    }
    if (step != SQLITE_DONE) {
        ok = false;
        snprintf(why, len, "%s: integrity_check: %s", path, sqlite3_errmsg(db));
    }
out:
    sqlite3_finalize(q);
    sqlite3_close(db);
    return ok;
}

/* Runs sql on path (no module may hold it); false with why on error. */
static bool exec_sql(const char *path, const char *sql, char *why, size_t len)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    bool ok = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
              sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK;
    if (!ok)
        snprintf(why, len, "%s: %s: %s", path, sql, msg ? msg : db ? sqlite3_errmsg(db) : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
    return ok;
}

/* The store's schema version, -1 if it cannot be read. */
static int schema_version(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    int v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

static bool copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return errno == ENOENT; /* no WAL: nothing to copy */
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = out >= 0;
    unsigned char b[65536];
    ssize_t n;
    while (ok && (n = read(in, b, sizeof(b))) != 0)
        ok = n > 0 && write_all(out, b, (size_t)n);
    close(in);
    if (out >= 0)
        close(out);
    return ok;
}

/* integrity_check of the store exactly as a kill left it: on a copy of
 * token.db and token.db-wal (the -shm index is rebuilt), so the module still
 * reopens the untouched original. */
static bool raw_integrity_ok_v(char *why, size_t len, int *version)
{
    (void)unlink("raw.db-wal");
    (void)unlink("raw.db-shm");
    if (!copy_file(STORE_DB, "raw.db") || !copy_file(STORE_DB "-wal", "raw.db-wal")) {
        snprintf(why, len, "cannot copy %s: %s", STORE_DB, strerror(errno));
        return false;
    }
    bool ok = integrity_ok("raw.db", why, len);
    if (version != NULL)
        *version = schema_version("raw.db");
    (void)unlink("raw.db");
    (void)unlink("raw.db-wal");
    (void)unlink("raw.db-shm");
    return ok;
}

static bool raw_integrity_ok(char *why, size_t len)
{
    return raw_integrity_ok_v(why, len, NULL);
}

/* ---- the prober: reopens the store and reports what it sees --------------- */

struct probe_opts {
    bool so_login;         /* also log in as SO (resets the SO failure counter) */
    bool repair_user_pin;  /* SO sets the user PIN when the token has none */
};

struct probe_hdr {
    uint64_t rv_init, rv_info, rv_session, rv_so_login, rv_init_pin, rv_user_login, rv_find,
        rv_attr;
    uint64_t flags;       /* token flags at start-up */
    uint64_t flags_after; /* ... after the optional repair */
    unsigned char label[32];
    uint32_t nobj;
    uint32_t pad;
};

struct wire_obj {
    uint64_t cls;
    uint32_t app_len, label_len, value_len;
    uint8_t token, priv, pad[2];
};

struct pobj {
    CK_OBJECT_CLASS cls;
    bool token, priv;
    char app[64], label[64];
    unsigned char *value;
    size_t value_len;
};

struct probe {
    struct probe_hdr h;
    struct pobj *o;
    size_t n;
    char status[64]; /* prober's exit status when abnormal */
};

static void probe_free(struct probe *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->o[i].value);
    free(p->o);
    memset(p, 0, sizeof(*p));
}

/* Lists every object visible in session s into out (wire format). */
static CK_RV list_objects(CK_FUNCTION_LIST_3_2 *f, CK_SESSION_HANDLE s, struct buf *out,
                          uint32_t *count, uint64_t *rv_attr)
{
    CK_OBJECT_HANDLE hs[256];
    CK_ULONG got = 0;
    struct buf handles = {0};
    CK_RV rv = f->C_FindObjectsInit(s, NULL, 0);
    if (rv != CKR_OK)
        return rv;
    do {
        rv = f->C_FindObjects(s, hs, 256, &got);
        if (rv != CKR_OK)
            break;
        buf_add(&handles, hs, got * sizeof(hs[0]));
    } while (got > 0);
    CK_RV rv2 = f->C_FindObjectsFinal(s);
    if (rv == CKR_OK)
        rv = rv2;
    size_t n = handles.n / sizeof(CK_OBJECT_HANDLE);
    for (size_t i = 0; rv == CKR_OK && i < n; i++) {
        CK_OBJECT_HANDLE h;
        memcpy(&h, handles.p + i * sizeof(h), sizeof(h));
        CK_OBJECT_CLASS cls = 0;
        CK_BBOOL tok = 0, priv = 0;
        static unsigned char app[64], label[64], value[VALUE_MAX + 64];
        CK_ATTRIBUTE t[] = {
            {CKA_CLASS, &cls, sizeof(cls)},          {CKA_TOKEN, &tok, sizeof(tok)},
            {CKA_PRIVATE, &priv, sizeof(priv)},      {CKA_APPLICATION, app, sizeof(app)},
            {CKA_LABEL, label, sizeof(label)},       {CKA_VALUE, value, sizeof(value)},
        };
        /* Module-made objects (profiles) have only the common attributes. */
        CK_RV ra = f->C_GetAttributeValue(s, h, t, 3);
        if (ra == CKR_OK && cls == CKO_DATA)
            ra = f->C_GetAttributeValue(s, h, t + 3, 3);
        else
            t[3].ulValueLen = t[4].ulValueLen = t[5].ulValueLen = 0;
        if (ra != CKR_OK) {
            if (*rv_attr == RV_NOT_TRIED || *rv_attr == CKR_OK)
                *rv_attr = ra;
            for (size_t k = 3; k < 6; k++)
                if (t[k].ulValueLen == CK_UNAVAILABLE_INFORMATION)
                    t[k].ulValueLen = 0;
        }
        struct wire_obj w = {
            .cls = cls,
            .app_len = (uint32_t)t[3].ulValueLen,
            .label_len = (uint32_t)t[4].ulValueLen,
            .value_len = (uint32_t)t[5].ulValueLen,
            .token = tok,
            .priv = priv,
        };
        buf_add(out, &w, sizeof(w));
        buf_add(out, app, w.app_len);
        buf_add(out, label, w.label_len);
        buf_add(out, value, w.value_len);
        (*count)++;
    }
    buf_free(&handles);
    return rv;
}

static void prober(int fd, void *arg)
{
    const struct probe_opts *o = arg;
    struct probe_hdr h;
    struct buf objs = {0};
    struct abi a = {0};
    memset(&h, 0, sizeof(h));
    h.rv_init = h.rv_info = h.rv_session = h.rv_so_login = h.rv_init_pin = h.rv_user_login =
        h.rv_find = h.rv_attr = RV_NOT_TRIED;
    if (abi_open(&a) != 0) {
        h.rv_init = RV_DLOPEN;
        goto out;
    }
    CK_FUNCTION_LIST_3_2 *f = a.f;
    h.rv_init = f->C_Initialize(NULL);
    if (h.rv_init != CKR_OK)
        goto out;
    CK_TOKEN_INFO ti;
    h.rv_info = f->C_GetTokenInfo(0, &ti);
    if (h.rv_info != CKR_OK)
        goto fin;
    h.flags = h.flags_after = ti.flags;
    memcpy(h.label, ti.label, sizeof(h.label));
    if (!(ti.flags & CKF_TOKEN_INITIALIZED))
        goto fin;
    CK_SESSION_HANDLE s;
    h.rv_session = f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
    if (h.rv_session != CKR_OK)
        goto fin;
    if (o->so_login) {
        h.rv_so_login = f->C_Login(s, CKU_SO, PIN(SO_PIN));
        if (h.rv_so_login == CKR_OK) {
            if (o->repair_user_pin && !(ti.flags & CKF_USER_PIN_INITIALIZED))
                h.rv_init_pin = f->C_InitPIN(s, PIN(USER_PIN));
            (void)f->C_Logout(s);
        }
        if (f->C_GetTokenInfo(0, &ti) == CKR_OK)
            h.flags_after = ti.flags;
    }
    if (h.flags_after & CKF_USER_PIN_INITIALIZED)
        h.rv_user_login = f->C_Login(s, CKU_USER, PIN(USER_PIN));
    h.rv_find = list_objects(f, s, &objs, &h.nobj, &h.rv_attr);
    (void)f->C_CloseSession(s);
fin:
    (void)f->C_Finalize(NULL);
out:
    write_all(fd, &h, sizeof(h));
    write_all(fd, objs.p, objs.n);
    _exit(0);
}

/* Runs the prober in a fresh child; false (with why) if it did not report. */
static bool run_probe(const struct probe_opts *o, struct probe *p, char *why, size_t len)
{
    int fd;
    struct buf b = {0};
    memset(p, 0, sizeof(*p));
    pid_t pid = spawn(&fd, prober, (void *)o);
    if (pid < 0) {
        snprintf(why, len, "fork: %s", strerror(errno));
        return false;
    }
    int r = buf_read(&b, fd, -1);
    close(fd);
    int status = wait_child(pid);
    bool ok = false;
    if (r < 0 || status != 0 || b.n < sizeof(p->h)) {
        describe_status(status, p->status, sizeof(p->status));
        snprintf(why, len, "the prober failed (%s, %zu bytes of report)", p->status, b.n);
        goto out;
    }
    memcpy(&p->h, b.p, sizeof(p->h));
    size_t off = sizeof(p->h);
    p->o = calloc(p->h.nobj ? p->h.nobj : 1, sizeof(*p->o));
    for (uint32_t i = 0; i < p->h.nobj; i++) {
        struct wire_obj w;
        if (p->o == NULL || off + sizeof(w) > b.n)
            goto bad;
        memcpy(&w, b.p + off, sizeof(w));
        off += sizeof(w);
        if (w.app_len >= sizeof(p->o[i].app) || w.label_len >= sizeof(p->o[i].label) ||
            w.value_len > VALUE_MAX + 64 ||
            off + (size_t)w.app_len + w.label_len + w.value_len > b.n)
            goto bad;
        struct pobj *po = &p->o[p->n++];
        po->cls = (CK_OBJECT_CLASS)w.cls;
        po->token = w.token;
        po->priv = w.priv;
        memcpy(po->app, b.p + off, w.app_len);
        off += w.app_len;
        memcpy(po->label, b.p + off, w.label_len);
        off += w.label_len;
        po->value = malloc(w.value_len ? w.value_len : 1);
        if (po->value == NULL)
            goto bad;
        memcpy(po->value, b.p + off, w.value_len);
        po->value_len = w.value_len;
        off += w.value_len;
    }
    ok = true;
    goto out;
bad:
    snprintf(why, len, "the prober's report is malformed");
out:
    buf_free(&b);
    return ok;
}

/* The first problem of the prober's start-up, NULL if none. */
static const char *probe_problem(const struct probe *p, char *why, size_t len)
{
    if (p->h.rv_init == RV_DLOPEN)
        snprintf(why, len, "the prober cannot dlopen %s", abi_module_path());
    else if (p->h.rv_init != CKR_OK)
        snprintf(why, len, "C_Initialize after the kill: rv %#" PRIx64, p->h.rv_init);
    else if (p->h.rv_info != CKR_OK)
        snprintf(why, len, "C_GetTokenInfo: rv %#" PRIx64, p->h.rv_info);
    else if ((p->h.flags & CKF_TOKEN_INITIALIZED) && p->h.rv_session != CKR_OK)
        snprintf(why, len, "C_OpenSession: rv %#" PRIx64, p->h.rv_session);
    else if (p->h.rv_so_login != RV_NOT_TRIED && p->h.rv_so_login != CKR_OK)
        snprintf(why, len, "SO login: rv %#" PRIx64, p->h.rv_so_login);
    else if (p->h.rv_init_pin != RV_NOT_TRIED && p->h.rv_init_pin != CKR_OK)
        snprintf(why, len, "C_InitPIN: rv %#" PRIx64, p->h.rv_init_pin);
    else if (p->h.rv_user_login != RV_NOT_TRIED && p->h.rv_user_login != CKR_OK)
        snprintf(why, len, "user login: rv %#" PRIx64, p->h.rv_user_login);
    else if (p->h.rv_find != RV_NOT_TRIED && p->h.rv_find != CKR_OK)
        snprintf(why, len, "listing the objects: rv %#" PRIx64, p->h.rv_find);
    else if (p->h.rv_attr != RV_NOT_TRIED && p->h.rv_attr != CKR_OK)
        snprintf(why, len, "C_GetAttributeValue of a listed object: rv %#" PRIx64, p->h.rv_attr);
    else
        return NULL;
    return why;
}

#endif
