/*
 * The audit log writer (see audit.h for the contract and the line layout).
 *
 * Producers, any thread: copy the event into a slot of a bounded ring under
 * the mutex and take the timestamp there, so timestamps follow queue order;
 * wait only when the ring is full.  The writer thread, one per log: takes
 * every queued record as one batch, formats and hashes the lines, appends
 * them with one write and fsyncs, then wakes whoever waits for them.
 *
 * Several processes may append to one file (a forked child that
 * re-initialises, two applications sharing a config): each batch runs under
 * flock(LOCK_EX) on the file; when the file is not as this process left it
 * (its size changed, or the path names another file after someone else
 * rotated it) the writer re-reads the last line first, so the interleaved
 * batches still form one chain.
 */
#include "audit/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/ck_names.h"

#define EVENT_MAX     48    /* bytes of an event name kept */
#define NAME_OUT_MAX  64    /* bytes of a CKM/CKO/CKR name written */
#define TAIL_READ     65536 /* bytes read from the end of a log to find its last line */
#define TAIL_RESERVE  160   /* room kept for ,"result":"...","prev_hash":"..."} */
#define LOCK_RETRIES  100   /* times the log may be replaced under us while locking */
#define PATH_SUFFIX   24    /* room for ".<rotation number>" after the path */
#define RECOVERED_EVT "audit_recovered"

/* One queued event, copied out of the caller's buffers. */
struct record {
    struct timespec ts;
    CK_ULONG slot, session, user, mechanism, object, obj_class;
    CK_RV rv;
    bool has_key_id, has_label;
    unsigned char event_len, key_id_len, label_len;
    unsigned short detail_len; /* 0: no detail */
    char event[EVENT_MAX];
    unsigned char key_id[AUDIT_ID_MAX];
    unsigned char label[AUDIT_LABEL_MAX];
    char detail[AUDIT_DETAIL_MAX];
};

struct audit {
    /* Set by audit_open, read-only afterwards. */
    char *path;
    char *dir; /* fsynced after a rotation */
    enum config_log_level level;
    unsigned long rotate_size, rotate_keep;
    long pid;
    unsigned char *key; /* secure heap; NULL for the plain chain */
    size_t key_len;
    void (*on_failure)(void *arg, const char *reason);
    void *arg;

    /* The writer thread's own (audit_open's before the thread starts). */
    struct audit_hasher *hasher;
    int fd;                        /* -1 when closed */
    off_t size;                    /* file size as we left it; -1 unknown */
    unsigned long seq;             /* seq of the chain's last line (0: none) */
    char hash[AUDIT_HASH_HEX + 1]; /* hash of that line: the next prev_hash */
    char *buf;                     /* the batch's lines */
    size_t buf_len, buf_cap;
    bool broken; /* a write failed: records are dropped from then on */
    char why[AUDIT_ERR_MAX];

    /* Shared, under mu. */
    pthread_mutex_t mu;
    pthread_cond_t work;         /* writer: records queued, or stop */
    pthread_cond_t space;        /* producers: slots freed */
    pthread_cond_t done;         /* flushers: finished advanced */
    struct record *ring;         /* AUDIT_QUEUE_MAX slots */
    size_t head;                 /* next slot to fill */
    size_t count;                /* slots in use: queued or being formatted */
    unsigned long long queued;   /* records ever queued */
    unsigned long long finished; /* records ever written and fsynced, or dropped */
    struct timespec last_ts;
    bool stop, failed;
    unsigned waiters; /* threads in wait_for: write now, do not gather */
    bool sync_ready;  /* mu and the conditions are initialised */
    bool thread_started;
    pthread_t thread;
};

static bool fail(struct audit *a, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* Sets a->why; returns false for `return fail(...)`. */
static bool fail(struct audit *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->why, sizeof(a->why), fmt, ap);
    va_end(ap);
    return false;
}

void audit_event_init(struct audit_event *e, const char *event, enum audit_class cls)
{
    memset(e, 0, sizeof(*e));
    e->event = event;
    e->cls = cls;
    e->slot = AUDIT_NONE;
    e->session = AUDIT_NONE;
    e->user = AUDIT_NONE;
    e->mechanism = AUDIT_NONE;
    e->object = AUDIT_NONE;
    e->obj_class = AUDIT_NONE;
    e->rv = CKR_OK;
}

/* ---- formatting ---------------------------------------------------------- */

struct line {
    char b[AUDIT_LINE_MAX + 1];
    size_t n;
};

static void put(struct line *l, const void *s, size_t n)
{
    if (n > AUDIT_LINE_MAX - l->n) /* cannot happen: the budgets below */
        n = AUDIT_LINE_MAX - l->n;
    memcpy(l->b + l->n, s, n);
    l->n += n;
}

static void putf(struct line *l, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void putf(struct line *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(l->b + l->n, sizeof(l->b) - l->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        l->n += (size_t)k < AUDIT_LINE_MAX - l->n ? (size_t)k : AUDIT_LINE_MAX - l->n;
}

/* Length of the well-formed UTF-8 sequence at s[0..len), 0 when none
 * (stray continuation byte, overlong form, surrogate, beyond U+10FFFF,
 * cut short). */
static size_t utf8_len(const unsigned char *s, size_t len)
{
    unsigned long cp, min;
    size_t n;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2, cp = s[0] & 0x1fu, min = 0x80;
    } else if ((s[0] & 0xf0) == 0xe0) {
        n = 3, cp = s[0] & 0x0fu, min = 0x800;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4, cp = s[0] & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* A JSON string of s[len]: '"' and '\' escaped, control characters as
 * \u00XX, bytes that are not well-formed UTF-8 as \ufffd; at most max
 * bytes between the quotes (cut at a character boundary). */
static void put_str(struct line *l, const void *str, size_t len, size_t max)
{
    const unsigned char *s = str;
    size_t used = 0;
    put(l, "\"", 1);
    for (size_t i = 0; i < len;) {
        char esc[8];
        const void *out = esc;
        size_t olen, adv = 1;
        if (s[i] == '"' || s[i] == '\\') {
            esc[0] = '\\', esc[1] = (char)s[i], olen = 2;
        } else if (s[i] < 0x20 || s[i] == 0x7f) {
            olen = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", s[i]);
        } else if ((adv = utf8_len(s + i, len - i)) == 0) {
            memcpy(esc, "\\ufffd", 6), olen = 6, adv = 1;
        } else {
            out = s + i, olen = adv;
        }
        if (olen > max - used)
            break;
        put(l, out, olen);
        used += olen;
        i += adv;
    }
    put(l, "\"", 1);
}

static void put_name(struct line *l, const char *key, const char *name)
{
    put(l, key, strlen(key));
    put_str(l, name, strlen(name), NAME_OUT_MAX);
}

/* The line of r as record seq, chained to prev. */
static void format_record(const struct audit *a, const struct record *r, unsigned long seq,
                          const char *prev, struct line *l)
{
    static const char hex[] = "0123456789abcdef";
    struct tm tm;
    char name[40];

    l->n = 0;
    if (gmtime_r(&r->ts.tv_sec, &tm) == NULL)
        memset(&tm, 0, sizeof(tm));
    putf(l, "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ\",\"seq\":%lu,\"pid\":%ld,\"event\":",
         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
         r->ts.tv_nsec / 1000, seq, a->pid);
    put_str(l, r->event, r->event_len, EVENT_MAX * 6);
    if (r->slot != AUDIT_NONE)
        putf(l, ",\"slot\":%lu", r->slot);
    if (r->session != AUDIT_NONE)
        putf(l, ",\"session\":%lu", r->session);
    if (r->user == CKU_SO)
        put_name(l, ",\"user\":", "SO");
    else if (r->user == CKU_USER)
        put_name(l, ",\"user\":", "USER");
    else if (r->user == CKU_CONTEXT_SPECIFIC)
        put_name(l, ",\"user\":", "CONTEXT_SPECIFIC");
    else if (r->user != AUDIT_NONE)
        putf(l, ",\"user\":%lu", r->user);
    if (r->mechanism != AUDIT_NONE)
        put_name(l, ",\"mechanism\":", ck_mechanism_name(r->mechanism));
    if (r->object != AUDIT_NONE)
        putf(l, ",\"object\":%lu", r->object);
    if (r->obj_class != AUDIT_NONE) {
        const char *n = ck_name("CKO", r->obj_class);
        if (n == NULL) {
            snprintf(name, sizeof(name), "CKO_0x%08lX", r->obj_class);
            n = name;
        }
        put_name(l, ",\"class\":", n);
    }
    if (r->has_key_id) {
        put(l, ",\"key_id\":\"", 11);
        for (size_t i = 0; i < r->key_id_len; i++) {
            char h[2] = {hex[r->key_id[i] >> 4], hex[r->key_id[i] & 0x0f]};
            put(l, h, 2);
        }
        put(l, "\"", 1);
    }
    if (r->has_label) {
        put(l, ",\"label\":", 9);
        put_str(l, r->label, r->label_len, AUDIT_LABEL_MAX * 6);
    }
    if (r->detail_len > 0) {
        /* Everything before is bounded well below AUDIT_LINE_MAX -
         * TAIL_RESERVE; the detail gets what is left. */
        put(l, ",\"detail\":", 10);
        size_t room = AUDIT_LINE_MAX - TAIL_RESERVE - 2;
        put_str(l, r->detail, r->detail_len, room > l->n ? room - l->n : 0);
    }
    put_name(l, ",\"result\":", ck_rv_name(r->rv));
    putf(l, ",\"prev_hash\":\"%s\"}", prev);
}

/* ---- the file ------------------------------------------------------------ */

/* Opens a->path for appending into a->fd: created 0600, never through a
 * symlink, a regular file only (O_NONBLOCK: a FIFO must not hang us). */
static bool open_log(struct audit *a)
{
    struct stat st;
    int fd =
        open(a->path,
             O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0600);
    if (fd < 0) {
        int e = errno;
        if (e == ELOOP)
            return fail(a,
                        "%s is a symbolic link: refusing to follow it; point [audit] log_path "
                        "at the real file",
                        a->path);
        if (e == ENOENT || e == ENOTDIR)
            return fail(a,
                        "%s: directory %s does not exist: create it (mode 0700) or change "
                        "[audit] log_path",
                        a->path, a->dir);
        if (e == ENXIO || e == EISDIR)
            return fail(a, "%s is not a regular file: point [audit] log_path at a file", a->path);
        return fail(a, "cannot open %s: %s", a->path, strerror(e));
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(a, "%s is not a regular file: point [audit] log_path at a file", a->path);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        close(fd);
        return fail(a, "cannot open %s: %s", a->path, strerror(errno));
    }
    a->fd = fd;
    /* Probably just created: make its directory entry durable (best
     * effort; the lines themselves are fsynced with each batch). */
    if (st.st_size == 0) {
        int dfd = open(a->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
    }
    return true;
}

static bool pread_all(int fd, void *buf, size_t len, off_t off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t k = pread(fd, (char *)buf + got, len - got, off + (off_t)got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        got += (size_t)k;
    }
    return true;
}

/* Number of '\n' in the first end bytes of fd (for error messages). */
static unsigned long count_lines(int fd, off_t end)
{
    char chunk[4096];
    unsigned long n = 0;
    for (off_t off = 0; off < end;) {
        size_t want = end - off < (off_t)sizeof(chunk) ? (size_t)(end - off) : sizeof(chunk);
        if (!pread_all(fd, chunk, want, off))
            break;
        for (size_t i = 0; i < want; i++)
            n += chunk[i] == '\n';
        off += (off_t)want;
    }
    return n;
}

/* Finds the last complete line of file (fd, size bytes) from its last
 * TAIL_READ bytes: l gets it (l->n = 0 when the file holds none) and *torn
 * the bytes after its '\n'.  false with a->why when the tail is not ours. */
static bool tail_line(struct audit *a, int fd, const char *file, off_t size, struct line *l,
                      off_t *torn)
{
    bool ok = false;
    size_t want = size < TAIL_READ ? (size_t)size : TAIL_READ;
    char *t = malloc(want + 1);

    l->n = 0;
    *torn = 0;
    if (t == NULL) {
        fail(a, "out of memory reading %s", file);
        goto out;
    }
    errno = 0;
    if (!pread_all(fd, t, want, size - (off_t)want)) {
        fail(a, "cannot read %s: %s", file, errno ? strerror(errno) : "file shrank");
        goto out;
    }
    char *nl = memrchr(t, '\n', want);
    if (nl == NULL) {
        if ((off_t)want == size) { /* no complete line at all */
            *torn = size;
            ok = true;
        } else {
            fail(a,
                 "%s: line %lu is not an audit record (longer than any record): verify the "
                 "log, then move it aside to start a new one",
                 file, count_lines(fd, size) + 1);
        }
        goto out;
    }
    *torn = (off_t)(want - (size_t)(nl - t) - 1);
    char *start = memrchr(t, '\n', (size_t)(nl - t));
    start = start != NULL ? start + 1 : t;
    if ((size_t)(nl - start) > AUDIT_LINE_MAX || (start == t && (off_t)want < size)) {
        fail(a,
             "%s: line %lu is not an audit record (longer than any record): verify the log, "
             "then move it aside to start a new one",
             file, count_lines(fd, size - *torn));
        goto out;
    }
    l->n = (size_t)(nl - start);
    memcpy(l->b, start, l->n);
    ok = true;
out:
    free(t);
    return ok;
}

/* Sets a->seq and a->hash from the last line of file (fd, size bytes);
 * an empty file leaves them alone.  *torn as tail_line. */
static bool chain_from(struct audit *a, int fd, const char *file, off_t size, off_t *torn)
{
    struct line l;
    unsigned long seq;
    const char *prev;
    const char *why;

    if (!tail_line(a, fd, file, size, &l, torn))
        return false;
    if (l.n == 0)
        return true;
    if ((why = audit_line_parse(l.b, l.n, &seq, &prev)) != NULL)
        return fail(a,
                    "%s: line %lu is not an audit record (%s): the chain cannot continue from "
                    "it; verify the log, then move it aside to start a new one",
                    file, count_lines(fd, size - *torn), why);
    if (audit_hasher_hex(a->hasher, l.b, l.n, a->hash) != CKR_OK)
        return fail(a, "cannot hash the last line of %s", file);
    a->seq = seq;
    return true;
}

/* The file (fd, size bytes) is not as we left it: continue the chain from
 * its last line, cutting a torn last line (*cut: bytes cut); from the last
 * line of path.1 when it holds no line yet (just rotated by someone). */
static bool resync(struct audit *a, off_t size, off_t *cut)
{
    char prev[PATH_MAX];
    struct stat st, wst;
    off_t torn = 0, ptorn = 0;
    bool ok;

    a->seq = 0;
    memcpy(a->hash, AUDIT_GENESIS, sizeof(a->hash));
    /* a->fd is write-only: read through a second descriptor of the same
     * file (the path was checked to name it, under our lock). */
    int rfd = open(a->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
    if (rfd < 0)
        return fail(a, "cannot read %s: %s", a->path, strerror(errno));
    ok = fstat(rfd, &st) == 0 && fstat(a->fd, &wst) == 0 && st.st_dev == wst.st_dev &&
         st.st_ino == wst.st_ino;
    ok = ok ? chain_from(a, rfd, a->path, size, &torn)
            : fail(a, "%s was replaced while being opened", a->path);
    close(rfd);
    if (!ok)
        return false;
    if (torn > 0) {
        if (ftruncate(a->fd, size - torn) != 0 || fsync(a->fd) != 0)
            return fail(a, "cannot cut the incomplete last line of %s: %s", a->path,
                        strerror(errno));
        *cut += torn;
        size -= torn;
    }
    a->size = size;
    if (size > 0)
        return true;
    snprintf(prev, sizeof(prev), "%s.1", a->path);
    int fd = open(prev, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? true : fail(a, "cannot open %s: %s", prev, strerror(errno));
    ok = fstat(fd, &st) == 0 ? chain_from(a, fd, prev, st.st_size, &ptorn)
                             : fail(a, "cannot read %s: %s", prev, strerror(errno));
    close(fd);
    return ok;
}

/* Takes flock(LOCK_EX) on the current file, reopening when the path now
 * names another file, and resyncs when the file is not as we left it. */
static bool lock_log(struct audit *a, off_t *cut)
{
    struct stat fst, pst;
    for (int tries = 0;; tries++) {
        if (a->fd < 0 && !open_log(a))
            return false;
        while (flock(a->fd, LOCK_EX) != 0) {
            if (errno != EINTR)
                return fail(a, "cannot lock %s: %s", a->path, strerror(errno));
        }
        if (fstat(a->fd, &fst) != 0) {
            fail(a, "cannot stat %s: %s", a->path, strerror(errno));
            (void)flock(a->fd, LOCK_UN);
            return false;
        }
        if (stat(a->path, &pst) == 0 && pst.st_dev == fst.st_dev && pst.st_ino == fst.st_ino)
            break;
        /* Rotated (or removed) by someone else since we opened it. */
        close(a->fd);
        a->fd = -1;
        a->size = -1;
        if (tries == LOCK_RETRIES)
            return fail(a, "%s keeps being replaced while we write to it", a->path);
    }
    if (fst.st_size != a->size && !resync(a, fst.st_size, cut)) {
        (void)flock(a->fd, LOCK_UN);
        return false;
    }
    return true;
}

static void unlock_log(struct audit *a)
{
    if (a->fd >= 0)
        (void)flock(a->fd, LOCK_UN);
}

/* Writes the batch buffer (retrying short writes) and fsyncs. */
static bool flush_buf(struct audit *a)
{
    size_t off = 0;
    if (a->buf_len == 0)
        return true;
    while (off < a->buf_len) {
        ssize_t k = write(a->fd, a->buf + off, a->buf_len - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return fail(a, "cannot write %s: %s", a->path, k < 0 ? strerror(errno) : "no progress");
        off += (size_t)k;
    }
    if (fsync(a->fd) != 0)
        return fail(a, "cannot fsync %s: %s", a->path, strerror(errno));
    a->size += (off_t)a->buf_len;
    a->buf_len = 0;
    return true;
}

static bool fsync_dir(struct audit *a)
{
    int fd = open(a->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bool ok = fd >= 0 && (fsync(fd) == 0 || errno == EINVAL);
    if (!ok)
        fail(a, "cannot fsync directory %s: %s", a->dir, strerror(errno));
    if (fd >= 0)
        close(fd);
    return ok;
}

/* path.(keep-1) -> path.keep ... path -> path.1, then a new path, locked.
 * Called holding the lock on the full file with the batch flushed. */
static bool rotate(struct audit *a, off_t *cut)
{
    char from[PATH_MAX], to[PATH_MAX];
    for (unsigned long k = a->rotate_keep; k >= 2; k--) {
        snprintf(from, sizeof(from), "%s.%lu", a->path, k - 1);
        snprintf(to, sizeof(to), "%s.%lu", a->path, k);
        if (rename(from, to) != 0 && errno != ENOENT)
            return fail(a, "cannot rotate %s to %s: %s", from, to, strerror(errno));
    }
    snprintf(to, sizeof(to), "%s.1", a->path);
    if (rename(a->path, to) != 0)
        return fail(a, "cannot rotate %s to %s: %s", a->path, to, strerror(errno));
    if (!fsync_dir(a))
        return false;
    close(a->fd); /* drops the lock: waiters find the path renamed */
    a->fd = -1;
    a->size = 0; /* the chain continues in a new, empty file */
    return lock_log(a, cut);
}

/* Formats r as the next line of the chain into the batch buffer. */
static bool append_line(struct audit *a, const struct record *r)
{
    struct line l;
    format_record(a, r, a->seq + 1, a->hash, &l);
    if (a->buf_cap - a->buf_len < l.n + 1) {
        size_t cap = a->buf_cap ? a->buf_cap * 2 : 65536;
        while (cap - a->buf_len < l.n + 1)
            cap *= 2;
        char *b = realloc(a->buf, cap);
        if (b == NULL)
            return fail(a, "out of memory formatting the audit log");
        a->buf = b;
        a->buf_cap = cap;
    }
    memcpy(a->buf + a->buf_len, l.b, l.n);
    a->buf[a->buf_len + l.n] = '\n';
    a->buf_len += l.n + 1;
    if (audit_hasher_hex(a->hasher, l.b, l.n, a->hash) != CKR_OK)
        return fail(a, "cannot hash an audit record");
    a->seq++;
    return true;
}

/* A SYSTEM record noting that cut bytes of a torn line were removed. */
static void recovered_record(struct record *r, off_t cut)
{
    memset(r, 0, sizeof(*r));
    clock_gettime(CLOCK_REALTIME, &r->ts);
    r->slot = r->session = r->user = r->mechanism = r->object = r->obj_class = AUDIT_NONE;
    r->rv = CKR_OK;
    r->event_len = sizeof(RECOVERED_EVT) - 1;
    memcpy(r->event, RECOVERED_EVT, r->event_len);
    int n = snprintf(r->detail, sizeof(r->detail), "cut %lld bytes of an incomplete last line",
                     (long long)cut);
    r->detail_len = n > 0 ? (unsigned short)n : 0;
}

/* Rotates first when the file is full, then appends r. */
static bool add_line(struct audit *a, const struct record *r)
{
    off_t cut = 0;
    if (a->rotate_size > 0 && a->size + (off_t)a->buf_len > 0 &&
        (unsigned long)a->size + a->buf_len >= a->rotate_size) {
        if (!flush_buf(a) || !rotate(a, &cut))
            return false;
        if (cut > 0) {
            struct record rec;
            recovered_record(&rec, cut);
            if (!append_line(a, &rec))
                return false;
        }
    }
    return append_line(a, r);
}

/* Writes the n records from ring slot start on; frees their slots once
 * formatted.  false with a->why when the log failed (now or before). */
static bool write_batch(struct audit *a, size_t start, size_t n)
{
    bool ok = false, locked = false;
    off_t cut = 0;

    a->buf_len = 0;
    if (a->broken || !lock_log(a, &cut))
        goto release;
    locked = true;
    if (cut > 0) {
        struct record rec;
        recovered_record(&rec, cut);
        if (!append_line(a, &rec))
            goto release;
    }
    for (size_t i = 0; i < n; i++) {
        if (!add_line(a, &a->ring[(start + i) % AUDIT_QUEUE_MAX]))
            goto release;
    }
    ok = true;
release:
    pthread_mutex_lock(&a->mu);
    a->count -= n;
    pthread_cond_broadcast(&a->space);
    pthread_mutex_unlock(&a->mu);
    if (ok)
        ok = flush_buf(a);
    if (locked)
        unlock_log(a);
    if (!ok)
        a->broken = true;
    return ok;
}

/* fork() while a writer is inside a batch would leave the child with
 * whatever that thread held at that instant (OpenSSL's state during a
 * hash, a half-written buffer).  A fork handler waits until no writer is
 * in a batch and keeps them out until the fork is done; writers hold the
 * lock only around a batch, never while waiting for work. */
static pthread_mutex_t g_batch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_fork_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void)
{
    pthread_mutex_lock(&g_batch_lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&g_batch_lock);
}

static void fork_child(void)
{
    pthread_mutex_init(&g_batch_lock, NULL);
}

static void fork_watch(void)
{
    if (pthread_atfork(fork_prepare, fork_parent, fork_child) != 0)
        util_log("audit log: cannot register the fork handler");
}

/* Group commit: a batch costs a write and an fsync, whatever its size, and
 * on a busy module one fsync per record would eat the CPU the crypto path
 * needs.  So the writer waits up to AUDIT_BATCH_WAIT_NS for a batch to
 * reach AUDIT_BATCH_MIN records, unless the module is stopping or someone
 * waits for the disk (audit_log_sync, audit_flush).  A crash loses at most
 * what that window gathered.  Called with a->mu held. */
#define AUDIT_BATCH_MIN     256
#define AUDIT_BATCH_WAIT_NS 5000000L /* 5 ms */

static void gather(struct audit *a)
{
    struct timespec dl;
    if (a->count >= AUDIT_BATCH_MIN || a->stop || a->waiters > 0)
        return;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_nsec += AUDIT_BATCH_WAIT_NS;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    while (a->count < AUDIT_BATCH_MIN && !a->stop && a->waiters == 0)
        if (pthread_cond_timedwait(&a->work, &a->mu, &dl) != 0)
            break;
}

static void *writer_main(void *arg)
{
    struct audit *a = arg;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        while (a->count == 0 && !a->stop)
            pthread_cond_wait(&a->work, &a->mu);
        if (a->count == 0)
            break; /* stopping, and drained */
        gather(a);
        size_t n = a->count;
        size_t start = (a->head + AUDIT_QUEUE_MAX - n) % AUDIT_QUEUE_MAX;
        bool was_broken = a->broken;
        pthread_mutex_unlock(&a->mu);
        pthread_mutex_lock(&g_batch_lock);
        bool ok = write_batch(a, start, n);
        pthread_mutex_unlock(&g_batch_lock);
        pthread_mutex_lock(&a->mu);
        a->finished += n;
        if (!ok)
            a->failed = true;
        pthread_cond_broadcast(&a->done);
        if (!ok && !was_broken) {
            pthread_mutex_unlock(&a->mu);
            if (a->on_failure != NULL)
                a->on_failure(a->arg, a->why);
            else
                util_log("audit log: %s", a->why);
            pthread_mutex_lock(&a->mu);
        }
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* ---- the producers' side ------------------------------------------------- */

bool audit_wants(const struct audit *a, enum audit_class cls)
{
    if (a == NULL)
        return false;
    switch (a->level) {
    case CONFIG_LOG_ALL:
        return true;
    case CONFIG_LOG_CRYPTO:
        return cls <= AUDIT_CRYPTO;
    case CONFIG_LOG_AUTH:
        return cls <= AUDIT_AUTH;
    case CONFIG_LOG_ADMIN:
        return cls <= AUDIT_ADMIN;
    case CONFIG_LOG_NONE:
    default:
        return false;
    }
}

/* Queues e; returns its ticket (compare with finished), 0 when filtered. */
static unsigned long long enqueue(struct audit *a, const struct audit_event *e)
{
    struct timespec now;
    unsigned long long ticket;
    size_t event_len = e->event != NULL ? strnlen(e->event, EVENT_MAX) : 0;
    size_t detail_len = e->detail != NULL ? strnlen(e->detail, AUDIT_DETAIL_MAX) : 0;
    size_t id_len = e->key_id_len < AUDIT_ID_MAX ? e->key_id_len : AUDIT_ID_MAX;
    size_t label_len = e->label_len < AUDIT_LABEL_MAX ? e->label_len : AUDIT_LABEL_MAX;

    if (!audit_wants(a, e->cls))
        return 0;
    pthread_mutex_lock(&a->mu);
    while (a->count == AUDIT_QUEUE_MAX)
        pthread_cond_wait(&a->space, &a->mu);
    struct record *r = &a->ring[a->head];
    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec < a->last_ts.tv_sec ||
        (now.tv_sec == a->last_ts.tv_sec && now.tv_nsec < a->last_ts.tv_nsec))
        now = a->last_ts; /* the clock stepped back: keep ts in queue order */
    a->last_ts = now;
    r->ts = now;
    r->slot = e->slot;
    r->session = e->session;
    r->user = e->user;
    r->mechanism = e->mechanism;
    r->object = e->object;
    r->obj_class = e->obj_class;
    r->rv = e->rv;
    r->event_len = (unsigned char)event_len;
    memcpy(r->event, e->event != NULL ? e->event : "", event_len);
    r->has_key_id = e->key_id != NULL;
    r->key_id_len = r->has_key_id ? (unsigned char)id_len : 0;
    if (r->key_id_len > 0)
        memcpy(r->key_id, e->key_id, r->key_id_len);
    r->has_label = e->label != NULL;
    r->label_len = r->has_label ? (unsigned char)label_len : 0;
    if (r->label_len > 0)
        memcpy(r->label, e->label, r->label_len);
    r->detail_len = (unsigned short)detail_len;
    if (detail_len > 0)
        memcpy(r->detail, e->detail, detail_len);
    a->head = (a->head + 1) % AUDIT_QUEUE_MAX;
    a->count++;
    ticket = ++a->queued;
    /* The writer needs waking when work appears and when a batch is full
     * (it gathers in between); not for every record. */
    if (a->count == 1 || a->count == AUDIT_BATCH_MIN || a->count == AUDIT_QUEUE_MAX)
        pthread_cond_signal(&a->work);
    pthread_mutex_unlock(&a->mu);
    return ticket;
}

/* Waits until the records up to ticket are finished. */
static CK_RV wait_for(struct audit *a, unsigned long long ticket)
{
    CK_RV rv;
    pthread_mutex_lock(&a->mu);
    a->waiters++;
    pthread_cond_signal(&a->work); /* stop gathering: someone waits */
    while (a->finished < ticket)
        pthread_cond_wait(&a->done, &a->mu);
    a->waiters--;
    rv = a->failed ? CKR_DEVICE_ERROR : CKR_OK;
    pthread_mutex_unlock(&a->mu);
    return rv;
}

void audit_log(struct audit *a, const struct audit_event *e)
{
    if (a != NULL)
        (void)enqueue(a, e);
}

void audit_log_sync(struct audit *a, const struct audit_event *e)
{
    unsigned long long ticket = a != NULL ? enqueue(a, e) : 0;
    if (ticket != 0)
        (void)wait_for(a, ticket);
}

CK_RV audit_flush(struct audit *a)
{
    unsigned long long target;
    if (a == NULL)
        return CKR_OK;
    pthread_mutex_lock(&a->mu);
    target = a->queued;
    pthread_mutex_unlock(&a->mu);
    return wait_for(a, target);
}

/* ---- open and close ------------------------------------------------------ */

/* Frees a whose writer thread is not running (in this process); sync:
 * whether the mutex and conditions are ours to destroy. */
static void destroy(struct audit *a, bool sync)
{
    if (a == NULL)
        return;
    if (a->fd >= 0)
        close(a->fd);
    if (sync && a->sync_ready) {
        pthread_mutex_destroy(&a->mu);
        pthread_cond_destroy(&a->work);
        pthread_cond_destroy(&a->space);
        pthread_cond_destroy(&a->done);
    }
    audit_hasher_free(a->hasher);
    crypto_secret_free(a->key, a->key_len);
    crypto_wipe(a->hash, sizeof(a->hash));
    free(a->ring);
    free(a->buf);
    free(a->path);
    free(a->dir);
    free(a);
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

CK_RV audit_open(const struct config *cfg, struct crypto *c,
                 void (*on_failure)(void *arg, const char *reason), void *arg, struct audit **out,
                 char err[AUDIT_ERR_MAX])
{
    CK_RV rv = CKR_HOST_MEMORY;
    struct audit *a = calloc(1, sizeof(*a));
    off_t cut = 0;
    sigset_t all, old;

    *out = NULL;
    err[0] = '\0';
    if (a == NULL)
        goto out;
    a->fd = -1;
    a->size = -1;
    a->level = cfg->audit_log_level;
    a->rotate_size = cfg->audit_rotate_size;
    a->rotate_keep = cfg->audit_rotate_keep;
    a->pid = (long)getpid();
    a->on_failure = on_failure;
    a->arg = arg;
    memcpy(a->hash, AUDIT_GENESIS, sizeof(a->hash));
    if (cfg->audit_log_path == NULL || cfg->audit_log_path[0] == '\0') {
        rv = CKR_GENERAL_ERROR;
        snprintf(err, AUDIT_ERR_MAX, "[audit] log_path is empty");
        goto out;
    }
    if ((a->path = strdup(cfg->audit_log_path)) == NULL || (a->dir = dir_of(a->path)) == NULL ||
        (a->ring = calloc(AUDIT_QUEUE_MAX, sizeof(*a->ring))) == NULL)
        goto out;
    rv = CKR_GENERAL_ERROR;
    if (strlen(a->path) + PATH_SUFFIX >= PATH_MAX) {
        snprintf(err, AUDIT_ERR_MAX, "[audit] log_path is too long (%zu bytes)", strlen(a->path));
        goto out;
    }
    if (cfg->audit_hmac_key_file != NULL) {
        rv = audit_load_key(cfg->audit_hmac_key_file, &a->key, &a->key_len, err);
        if (rv != CKR_OK)
            goto out;
    }
    rv = audit_hasher_new(c, a->key, a->key_len, &a->hasher);
    if (rv != CKR_OK) {
        snprintf(err, AUDIT_ERR_MAX, "%s: cannot set up %s for the chain", a->path,
                 a->key != NULL ? "HMAC-SHA256" : "SHA-256");
        goto out;
    }
    rv = CKR_GENERAL_ERROR;
    if (pthread_mutex_init(&a->mu, NULL) != 0)
        goto out;
    if (pthread_cond_init(&a->work, NULL) != 0) {
        pthread_mutex_destroy(&a->mu);
        goto out;
    }
    if (pthread_cond_init(&a->space, NULL) != 0) {
        pthread_cond_destroy(&a->work);
        pthread_mutex_destroy(&a->mu);
        goto out;
    }
    if (pthread_cond_init(&a->done, NULL) != 0) {
        pthread_cond_destroy(&a->space);
        pthread_cond_destroy(&a->work);
        pthread_mutex_destroy(&a->mu);
        goto out;
    }
    a->sync_ready = true;

    /* Find where the chain stands (cutting a torn last line), as the
     * writer does before each batch. */
    if (!lock_log(a, &cut)) {
        snprintf(err, AUDIT_ERR_MAX, "%s", a->why);
        goto out;
    }
    unlock_log(a);
    if (cut > 0) {
        char detail[80];
        struct audit_event e;
        snprintf(detail, sizeof(detail), "cut %lld bytes of an incomplete last line",
                 (long long)cut);
        audit_event_init(&e, RECOVERED_EVT, AUDIT_SYSTEM);
        e.detail = detail;
        audit_log(a, &e);
    }

    /* The writer takes no signals: they belong to the host's threads (and
     * a write past RLIMIT_FSIZE then fails with EFBIG instead of killing
     * the process). */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_once(&g_fork_once, fork_watch);
    int prc = pthread_create(&a->thread, NULL, writer_main, a);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (prc != 0) {
        snprintf(err, AUDIT_ERR_MAX, "%s: cannot start the writer thread: %s", a->path,
                 strerror(prc));
        rv = prc == EAGAIN ? CKR_HOST_MEMORY : CKR_GENERAL_ERROR;
        goto out;
    }
    a->thread_started = true;
    *out = a;
    a = NULL;
    rv = CKR_OK;
out:
    if (rv == CKR_HOST_MEMORY && err[0] == '\0')
        snprintf(err, AUDIT_ERR_MAX, "out of memory opening the audit log");
    destroy(a, true);
    return rv;
}

void audit_close(struct audit *a)
{
    if (a == NULL)
        return;
    /* In a forked child a is a copy: the writer thread and whatever it
     * queued belong to the parent, and the mutex may have been held at the
     * fork.  Then only the memory is freed. */
    bool ours = (long)getpid() == a->pid;
    if (ours && a->thread_started) {
        pthread_mutex_lock(&a->mu);
        a->stop = true;
        pthread_cond_signal(&a->work);
        pthread_mutex_unlock(&a->mu);
        pthread_join(a->thread, NULL);
    }
    destroy(a, ours);
}
