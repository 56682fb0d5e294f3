#include "store/store_private.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_LOCK_FILE       "craton_hsm.lock"
#define STORE_DB_FILE         "token.db"
#define STORE_BUSY_TIMEOUT_MS 5000

struct store_lock {
    int fd;
    bool held; /* we own the flock: the PID in the file is ours */
    char *path;
};


/* Replaces the lock file's content with our PID; 0 or -1 (errno set). */
static int write_pid(int fd)
{
    char pid[32];
    int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len)
        return -1;
    return 0;
}

CK_RV store_lock_acquire(const char *dir, struct store_lock **out, char err[STORE_ERR_MAX])
{
    CK_RV rv = CKR_DEVICE_ERROR;
    struct store_lock *lk = calloc(1, sizeof(*lk));
    if (lk == NULL)
        return CKR_HOST_MEMORY;
    lk->fd = -1;
    if (util_mkdirs(dir) != 0) {
        snprintf(err, STORE_ERR_MAX, "%s: cannot create storage directory: %s", dir,
                 strerror(errno));
        goto out;
    }
    lk->path = util_path_join(dir, STORE_LOCK_FILE);
    if (lk->path == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    lk->fd = open(lk->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lk->fd < 0) {
        snprintf(err, STORE_ERR_MAX, "%s: cannot open lock file: %s", lk->path, strerror(errno));
        goto out;
    }
    if (flock(lk->fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t n = pread(lk->fd, pid, sizeof(pid) - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        snprintf(err, STORE_ERR_MAX,
                 "%s: the store is in use by another process%s%s%s; use the daemon for "
                 "multi-process access or give each process its own storage_path",
                 lk->path, pid[0] ? " (PID " : "", pid, pid[0] ? ")" : "");
        rv = CKR_GENERAL_ERROR;
        goto out;
    }
    lk->held = true;
    if (write_pid(lk->fd) != 0) {
        snprintf(err, STORE_ERR_MAX, "%s: cannot write lock file: %s", lk->path, strerror(errno));
        goto out;
    }
    *out = lk;
    lk = NULL;
    rv = CKR_OK;
out:
    store_lock_release(lk);
    return rv;
}

void store_lock_release(struct store_lock *lk)
{
    if (lk == NULL)
        return;
    if (lk->fd >= 0) {
        /* Leave the file (another process may be opening it).  When we held
         * the lock, clear our PID so a stale number is never reported; a
         * failed attempt must not touch the holder's. */
        if (lk->held && ftruncate(lk->fd, 0) != 0) {
            /* nothing more to do: the lock itself goes with close() */
        }
        close(lk->fd);
    }
    free(lk->path);
    free(lk);
}

struct store_lock *store_lock_inherit(struct store_lock *lk)
{
    if (lk != NULL) {
        /* Record our PID as a holder too (best effort); the flock is
         * shared with the parent. */
        (void)write_pid(lk->fd);
    }
    return lk;
}

CK_RV store_exec(struct store *st, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        util_log("%s: %s: %s", st->path, sql, msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        return CKR_DEVICE_ERROR;
    }
    return CKR_OK;
}

/* The current schema, created whole in a fresh database. */
static const char SCHEMA[] = "CREATE TABLE schema_version(version INTEGER NOT NULL);"
                             "CREATE TABLE token("
                             " id INTEGER PRIMARY KEY CHECK (id = 1),"
                             " initialized INTEGER NOT NULL,"
                             " label BLOB NOT NULL);"
                             "CREATE TABLE pin("
                             " role INTEGER PRIMARY KEY CHECK (role IN (0, 1)),"
                             " kdf TEXT NOT NULL,"
                             " iterations INTEGER NOT NULL,"
                             " salt BLOB NOT NULL,"
                             " verifier BLOB NOT NULL,"
                             " wrapped_omk BLOB NOT NULL);"
                             "CREATE TABLE pin_failures("
                             " role INTEGER PRIMARY KEY CHECK (role IN (0, 1)),"
                             " failed INTEGER NOT NULL);" STORE_OBJECTS_TABLE;

/* MIGRATIONS[v] turns schema version v into v + 1. */
static const char *const MIGRATIONS[STORE_SCHEMA_VERSION] = {
    [1] = STORE_OBJECTS_TABLE,
};

/* Reads the schema version (0: a fresh, empty database) inside the caller's
 * transaction. */
static CK_RV schema_version(struct store *st, int *version)
{
    sqlite3_stmt *q = NULL;
    CK_RV rv = CKR_DEVICE_ERROR;
    *version = 0;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT count(*) FROM sqlite_schema WHERE name = 'schema_version'", -1,
                           &q, NULL) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW)
        goto out;
    if (sqlite3_column_int(q, 0) == 0) {
        rv = CKR_OK;
        goto out;
    }
    sqlite3_finalize(q);
    if (sqlite3_prepare_v2(st->db, "SELECT version FROM schema_version", -1, &q, NULL) !=
            SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW)
        goto out;
    *version = sqlite3_column_int(q, 0);
    rv = CKR_OK;
out:
    sqlite3_finalize(q);
    return rv;
}

/* Creates the schema in a fresh database, or reports the version found. */
static CK_RV check_schema(struct store *st, int *found, char err[STORE_ERR_MAX])
{
    CK_RV rv = store_exec(st, "BEGIN IMMEDIATE");
    if (rv != CKR_OK)
        return rv;
    rv = schema_version(st, found);
    if (rv == CKR_OK && *found == 0) {
        char sql[80];
        snprintf(sql, sizeof(sql), "INSERT INTO schema_version(version) VALUES (%d)",
                 STORE_SCHEMA_VERSION);
        rv = store_exec(st, SCHEMA);
        if (rv == CKR_OK)
            rv = store_exec(st, sql);
        *found = STORE_SCHEMA_VERSION;
    } else if (rv == CKR_OK && (*found < 1 || *found > STORE_SCHEMA_VERSION)) {
        snprintf(err, STORE_ERR_MAX,
                 "%s: schema version %d is not supported by this build (it reads versions 1 to "
                 "%d)",
                 st->path, *found, STORE_SCHEMA_VERSION);
        rv = CKR_DEVICE_ERROR;
    }
    if (rv == CKR_OK)
        rv = store_exec(st, "COMMIT");
    else
        (void)store_exec(st, "ROLLBACK");
    return rv;
}

static CK_RV open_db(struct store *st, char err[STORE_ERR_MAX])
{
    if (sqlite3_open_v2(st->path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                        NULL) != SQLITE_OK) {
        snprintf(err, STORE_ERR_MAX, "%s: cannot open database: %s", st->path,
                 st->db ? sqlite3_errmsg(st->db) : "out of memory");
        return CKR_DEVICE_ERROR;
    }
    sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
    if (store_exec(st, "PRAGMA journal_mode=WAL") != CKR_OK ||
        store_exec(st, "PRAGMA synchronous=FULL") != CKR_OK ||
        store_exec(st, "PRAGMA secure_delete=ON") != CKR_OK) {
        snprintf(err, STORE_ERR_MAX, "%s: cannot configure database: %s", st->path,
                 sqlite3_errmsg(st->db));
        return CKR_DEVICE_ERROR;
    }
    return CKR_OK;
}

static int fsync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

/*
 * Brings a database of schema version `from` to the current version without
 * ever touching the original in place: VACUUM INTO a copy, migrate the copy
 * in one transaction, fsync it, close the original (which checkpoints and
 * removes its WAL), rename the copy over it, fsync the directory, reopen.  A
 * crash at any point leaves either the old or the new database.
 */
static CK_RV upgrade(struct store *st, int from, const char *dir, char err[STORE_ERR_MAX])
{
    CK_RV rv = CKR_DEVICE_ERROR;
    struct store copy = {0};
    char *tmp = util_path_join(dir, STORE_DB_FILE ".upgrade");
    char *sql = NULL;
    if (tmp == NULL)
        return CKR_HOST_MEMORY;
    unlink(tmp);
    sql = sqlite3_mprintf("VACUUM INTO %Q", tmp);
    if (sql == NULL || store_exec(st, sql) != CKR_OK || chmod(tmp, 0600) != 0)
        goto out;
    copy.path = tmp;
    if (sqlite3_open_v2(tmp, &copy.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) !=
            SQLITE_OK ||
        store_exec(&copy, "PRAGMA synchronous=FULL") != CKR_OK ||
        store_exec(&copy, "BEGIN IMMEDIATE") != CKR_OK)
        goto out;
    for (int v = from; v < STORE_SCHEMA_VERSION; v++) {
        if (store_exec(&copy, MIGRATIONS[v]) != CKR_OK)
            goto out;
    }
    sqlite3_free(sql);
    sql = sqlite3_mprintf("UPDATE schema_version SET version = %d", STORE_SCHEMA_VERSION);
    if (sql == NULL || store_exec(&copy, sql) != CKR_OK || store_exec(&copy, "COMMIT") != CKR_OK)
        goto out;
    sqlite3_close(copy.db);
    copy.db = NULL;
    if (fsync_path(tmp, O_RDONLY) != 0)
        goto out;
    sqlite3_close(st->db);
    st->db = NULL;
    if (rename(tmp, st->path) != 0 || fsync_path(dir, O_RDONLY | O_DIRECTORY) != 0)
        goto out;
    util_log("%s: upgraded the store from schema version %d to %d", st->path, from,
             STORE_SCHEMA_VERSION);
    rv = open_db(st, err);
out:
    if (rv != CKR_OK && err[0] == '\0')
        snprintf(err, STORE_ERR_MAX, "%s: cannot upgrade from schema version %d: %s", st->path,
                 from, copy.db ? sqlite3_errmsg(copy.db) : strerror(errno));
    sqlite3_close(copy.db);
    sqlite3_free(sql);
    if (rv != CKR_OK)
        unlink(tmp);
    free(tmp);
    return rv;
}

CK_RV store_open(const char *dir, struct store **out, char err[STORE_ERR_MAX])
{
    CK_RV rv = CKR_DEVICE_ERROR;
    int version = 0;
    struct store *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return CKR_HOST_MEMORY;
    err[0] = '\0';
    if (util_mkdirs(dir) != 0) {
        snprintf(err, STORE_ERR_MAX, "%s: cannot create slot directory: %s", dir, strerror(errno));
        goto out;
    }
    st->path = util_path_join(dir, STORE_DB_FILE);
    if (st->path == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    /* Create the file 0600 ourselves so SQLite never creates it with the
     * process umask; its -wal and -shm files copy this mode. */
    int fd = open(st->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(err, STORE_ERR_MAX, "%s: cannot open: %s", st->path, strerror(errno));
        goto out;
    }
    close(fd);
    rv = open_db(st, err);
    if (rv == CKR_OK)
        rv = check_schema(st, &version, err);
    if (rv == CKR_OK && version < STORE_SCHEMA_VERSION)
        rv = upgrade(st, version, dir, err);
    if (rv != CKR_OK) {
        if (err[0] == '\0')
            snprintf(err, STORE_ERR_MAX, "%s: cannot read or create the schema: %s", st->path,
                     st->db ? sqlite3_errmsg(st->db) : "database closed");
        goto out;
    }
    *out = st;
    st = NULL;
    rv = CKR_OK;
out:
    store_close(st);
    return rv;
}

void store_close(struct store *st)
{
    if (st == NULL)
        return;
    sqlite3_close(st->db);
    free(st->path);
    free(st);
}

static bool blob_into(sqlite3_stmt *q, int col, void *dst, size_t len)
{
    if (sqlite3_column_type(q, col) != SQLITE_BLOB || (size_t)sqlite3_column_bytes(q, col) != len)
        return false;
    memcpy(dst, sqlite3_column_blob(q, col), len);
    return true;
}

CK_RV store_read_token_locked(struct store *st, struct store_token *tok)
{
    CK_RV rv = CKR_DEVICE_ERROR;
    sqlite3_stmt *q = NULL;
    memset(tok, 0, sizeof(*tok));
    if (sqlite3_prepare_v2(st->db, "SELECT initialized, label FROM token WHERE id = 1", -1, &q,
                           NULL) != SQLITE_OK)
        goto out;
    int step = sqlite3_step(q);
    if (step == SQLITE_ROW) {
        tok->initialized = sqlite3_column_int(q, 0) != 0;
        if (!blob_into(q, 1, tok->label, sizeof(tok->label)))
            goto corrupt;
    } else if (step != SQLITE_DONE) {
        goto out;
    }
    sqlite3_finalize(q);
    q = NULL;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT role, kdf, iterations, salt, verifier, wrapped_omk FROM pin", -1,
                           &q, NULL) != SQLITE_OK)
        goto out;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        int role = sqlite3_column_int(q, 0);
        const unsigned char *kdf = sqlite3_column_text(q, 1);
        sqlite3_int64 iter = sqlite3_column_int64(q, 2);
        if ((role != STORE_ROLE_SO && role != STORE_ROLE_USER) || kdf == NULL ||
            strcmp((const char *)kdf, STORE_KDF_PBKDF2_SHA256) != 0 || iter < 1)
            goto corrupt;
        struct store_pin *p = &tok->pin[role];
        p->set = true;
        p->iterations = (unsigned long)iter;
        if (!blob_into(q, 3, p->salt, sizeof(p->salt)) ||
            !blob_into(q, 4, p->verifier, sizeof(p->verifier)) ||
            !blob_into(q, 5, p->wrapped_omk, sizeof(p->wrapped_omk)))
            goto corrupt;
    }
    if (step != SQLITE_DONE)
        goto out;
    /* Failure counters live in their own table: they change on every login
     * attempt, before the PIN is checked. */
    sqlite3_finalize(q);
    q = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT role, failed FROM pin_failures", -1, &q, NULL) !=
        SQLITE_OK)
        goto out;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        int role = sqlite3_column_int(q, 0);
        if (role == STORE_ROLE_SO || role == STORE_ROLE_USER)
            tok->pin[role].failed = (unsigned long)sqlite3_column_int64(q, 1);
    }
    if (step != SQLITE_DONE)
        goto out;
    if (tok->initialized && !tok->pin[STORE_ROLE_SO].set)
        goto corrupt;
    rv = CKR_OK;
    goto out;
corrupt:
    util_log("%s: token record is corrupt; refusing to use it", st->path);
    rv = CKR_DEVICE_ERROR;
out:
    sqlite3_finalize(q);
    if (rv != CKR_OK)
        crypto_wipe(tok, sizeof(*tok));
    return rv;
}

CK_RV store_load_token(struct store *st, struct store_token *tok)
{
    if (store_exec(st, "BEGIN") != CKR_OK)
        return CKR_DEVICE_ERROR;
    CK_RV rv = store_read_token_locked(st, tok);
    (void)store_exec(st, rv == CKR_OK ? "COMMIT" : "ROLLBACK");
    return rv;
}

CK_RV store_write_token_locked(struct store *st, const struct store_token *tok)
{
    CK_RV rv = CKR_DEVICE_ERROR;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(st->db,
                           "INSERT OR REPLACE INTO token(id, initialized, label) VALUES (1, ?, ?)",
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_int(q, 1, tok->initialized ? 1 : 0);
    sqlite3_bind_blob(q, 2, tok->label, sizeof(tok->label), SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        goto out;
    sqlite3_finalize(q);
    q = NULL;
    if (store_exec(st, "DELETE FROM pin; DELETE FROM pin_failures") != CKR_OK)
        goto out;
    for (int role = 0; role < 2; role++) {
        const struct store_pin *p = &tok->pin[role];
        if (p->failed > 0) {
            char sql[96];
            snprintf(sql, sizeof(sql), "INSERT INTO pin_failures(role, failed) VALUES (%d, %lu)",
                     role, p->failed);
            if (store_exec(st, sql) != CKR_OK)
                goto out;
        }
        if (!p->set)
            continue;
        if (sqlite3_prepare_v2(st->db,
                               "INSERT INTO pin(role, kdf, iterations, salt, verifier, wrapped_omk)"
                               " VALUES (?, ?, ?, ?, ?, ?)",
                               -1, &q, NULL) != SQLITE_OK)
            goto out;
        sqlite3_bind_int(q, 1, role);
        sqlite3_bind_text(q, 2, STORE_KDF_PBKDF2_SHA256, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, (sqlite3_int64)p->iterations);
        sqlite3_bind_blob(q, 4, p->salt, sizeof(p->salt), SQLITE_STATIC);
        sqlite3_bind_blob(q, 5, p->verifier, sizeof(p->verifier), SQLITE_STATIC);
        sqlite3_bind_blob(q, 6, p->wrapped_omk, sizeof(p->wrapped_omk), SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_DONE)
            goto out;
        sqlite3_finalize(q);
        q = NULL;
    }
    rv = CKR_OK;
out:
    if (rv != CKR_OK)
        util_log("%s: cannot save the token record: %s", st->path, sqlite3_errmsg(st->db));
    sqlite3_finalize(q);
    return rv;
}

static CK_RV save_token(struct store *st, const struct store_token *tok, bool wipe_objects)
{
    if (store_exec(st, "BEGIN IMMEDIATE") != CKR_OK)
        return CKR_DEVICE_ERROR;
    CK_RV rv = store_write_token_locked(st, tok);
    if (rv == CKR_OK && wipe_objects)
        rv = store_exec(st, "DELETE FROM objects");
    if (rv == CKR_OK)
        rv = store_exec(st, "COMMIT");
    else
        (void)store_exec(st, "ROLLBACK");
    return rv;
}

CK_RV store_save_token(struct store *st, const struct store_token *tok)
{
    return save_token(st, tok, false);
}

CK_RV store_reset_token(struct store *st, const struct store_token *tok)
{
    return save_token(st, tok, true);
}

CK_RV store_count_failure(struct store *st, enum store_role role, unsigned long *failed)
{
    CK_RV rv = CKR_DEVICE_ERROR;
    sqlite3_stmt *q = NULL;
    if (store_exec(st, "BEGIN IMMEDIATE") != CKR_OK)
        return CKR_DEVICE_ERROR;
    if (sqlite3_prepare_v2(st->db,
                           "INSERT INTO pin_failures(role, failed) VALUES (?, 1)"
                           " ON CONFLICT(role) DO UPDATE SET failed = failed + 1"
                           " RETURNING failed",
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_int(q, 1, (int)role);
    if (sqlite3_step(q) != SQLITE_ROW)
        goto out;
    *failed = (unsigned long)sqlite3_column_int64(q, 0);
    if (sqlite3_step(q) != SQLITE_DONE)
        goto out;
    rv = CKR_OK;
out:
    sqlite3_finalize(q);
    if (rv == CKR_OK)
        rv = store_exec(st, "COMMIT");
    else
        (void)store_exec(st, "ROLLBACK");
    return rv;
}

CK_RV store_reset_failures(struct store *st, enum store_role role)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "DELETE FROM pin_failures WHERE role = %d", (int)role);
    return store_exec(st, sql);
}
