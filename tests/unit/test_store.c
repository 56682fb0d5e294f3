/*
 * Unit tests for src/store: the SQLite token record, the durable failure
 * counters and the storage lock.
 */
#include "unit_util.h"

#include <errno.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "store/store.h"

/* ---- helpers ------------------------------------------------------------ */

static int setup_dir(void **state)
{
    char *dir = calloc(1, UT_DIR_MAX);
    if (dir == NULL)
        return -1;
    ut_mkdtemp(dir);
    *state = dir;
    return 0;
}

static int teardown_dir(void **state)
{
    ut_rmtree(*state);
    free(*state);
    return 0;
}

static struct store *open_store(const char *dir)
{
    struct store *st = NULL;
    char err[STORE_ERR_MAX] = "";
    CK_RV rv = store_open(dir, &st, err);
    if (rv != CKR_OK)
        print_message("store_open: %s\n", err);
    assert_int_equal(rv, CKR_OK);
    assert_non_null(st);
    return st;
}

static void load(struct store *st, struct store_token *tok)
{
    assert_int_equal(store_load_token(st, tok), CKR_OK);
}

/* A record where every byte depends on seed and role, so that swapped or
 * truncated fields show. */
static void fill_record(struct store_token *tok, unsigned seed)
{
    memset(tok, 0, sizeof(*tok));
    tok->initialized = true;
    char label[40];
    snprintf(label, sizeof(label), "Token label #%u", seed);
    memset(tok->label, ' ', sizeof(tok->label));
    memcpy(tok->label, label, strlen(label));
    for (int role = 0; role < 2; role++) {
        struct store_pin *p = &tok->pin[role];
        p->set = true;
        p->iterations = 100000UL + seed * 10UL + (unsigned long)role;
        for (size_t i = 0; i < sizeof(p->salt); i++)
            p->salt[i] = (unsigned char)(seed * 31 + i + 0x10 * (unsigned)role);
        for (size_t i = 0; i < sizeof(p->verifier); i++)
            p->verifier[i] = (unsigned char)(seed * 17 + 3 * i + 0x40 * (unsigned)role);
        for (size_t i = 0; i < sizeof(p->wrapped_omk); i++)
            p->wrapped_omk[i] = (unsigned char)(seed * 13 + 5 * i + 0x80 * (unsigned)role);
        p->failed = seed + 2UL * (unsigned long)role + 1UL;
    }
}

static void assert_pin_equal(const struct store_pin *a, const struct store_pin *b)
{
    assert_int_equal(a->set, b->set);
    assert_int_equal(a->iterations, b->iterations);
    assert_memory_equal(a->salt, b->salt, sizeof(a->salt));
    assert_memory_equal(a->verifier, b->verifier, sizeof(a->verifier));
    assert_memory_equal(a->wrapped_omk, b->wrapped_omk, sizeof(a->wrapped_omk));
    assert_int_equal(a->failed, b->failed);
}

static void assert_record_equal(const struct store_token *a, const struct store_token *b)
{
    assert_int_equal(a->initialized, b->initialized);
    assert_memory_equal(a->label, b->label, sizeof(a->label));
    assert_pin_equal(&a->pin[STORE_ROLE_SO], &b->pin[STORE_ROLE_SO]);
    assert_pin_equal(&a->pin[STORE_ROLE_USER], &b->pin[STORE_ROLE_USER]);
}

static void assert_mode(const char *path, mode_t type, mode_t perm)
{
    struct stat sb;
    assert_int_equal(lstat(path, &sb), 0);
    assert_int_equal(sb.st_mode & S_IFMT, type);
    if ((sb.st_mode & 07777) != perm)
        print_message("%s: mode %04o, expected %04o\n", path, (unsigned)(sb.st_mode & 07777),
                      (unsigned)perm);
    assert_int_equal(sb.st_mode & 07777, perm);
}

static struct store_lock *acquire(const char *dir)
{
    struct store_lock *lk = NULL;
    char err[STORE_ERR_MAX] = "";
    CK_RV rv = store_lock_acquire(dir, &lk, err);
    if (rv != CKR_OK)
        print_message("store_lock_acquire: %s\n", err);
    assert_int_equal(rv, CKR_OK);
    assert_non_null(lk);
    return lk;
}

/* Expects a conflict and checks the message names the lock file and pid. */
static void expect_conflict(const char *dir, long pid)
{
    struct store_lock *lk = NULL;
    char err[STORE_ERR_MAX] = "";
    char path[PATH_MAX], pidtext[48];
    assert_int_equal(store_lock_acquire(dir, &lk, err), CKR_GENERAL_ERROR);
    assert_null(lk);
    if (strstr(err, ut_join(path, dir, "craton_hsm.lock")) == NULL)
        print_message("error \"%s\" lacks the lock path\n", err);
    assert_non_null(strstr(err, path));
    snprintf(pidtext, sizeof(pidtext), "PID %ld", pid);
    if (strstr(err, pidtext) == NULL)
        print_message("error \"%s\" lacks \"%s\"\n", err, pidtext);
    assert_non_null(strstr(err, pidtext));
}

static void assert_lock_file(const char *dir, const char *expected)
{
    char path[PATH_MAX], buf[64];
    ut_read_file(ut_join(path, dir, "craton_hsm.lock"), buf, sizeof(buf));
    assert_string_equal(buf, expected);
}

/* ---- tests -------------------------------------------------------------- */

static void test_open_creates_private_files(void **state)
{
    const char *base = *state;
    char dir[PATH_MAX], sub[PATH_MAX], path[PATH_MAX];
    mode_t old = umask(0); /* the modes must not depend on the umask */
    ut_join(sub, base, "a");
    ut_join(dir, sub, "slot-0");
    struct store *st = open_store(dir);
    umask(old);

    assert_mode(sub, S_IFDIR, 0700);
    assert_mode(dir, S_IFDIR, 0700);
    assert_mode(ut_join(path, dir, "token.db"), S_IFREG, 0600);
    /* WAL mode: the write-ahead log exists while the connection is open and
     * must be as private as the database. */
    assert_mode(ut_join(path, dir, "token.db-wal"), S_IFREG, 0600);

    sqlite3 *db = ut_db_open(dir);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), STORE_SCHEMA_VERSION);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
    sqlite3_close(db);
    store_close(st);
}

static void test_open_fails_on_file_in_the_way(void **state)
{
    const char *base = *state;
    char dir[PATH_MAX];
    struct store *st = NULL;
    char err[STORE_ERR_MAX] = "";
    int fd = open(ut_join(dir, base, "not-a-dir"), O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(store_open(dir, &st, err), CKR_DEVICE_ERROR);
    assert_null(st);
    assert_non_null(strstr(err, dir));
}

static void test_fresh_db_is_uninitialized(void **state)
{
    struct store *st = open_store(*state);
    struct store_token tok;
    memset(&tok, 0xA5, sizeof(tok));
    load(st, &tok);
    assert_false(tok.initialized);
    for (int role = 0; role < 2; role++) {
        assert_false(tok.pin[role].set);
        assert_int_equal(tok.pin[role].failed, 0);
    }
    store_close(st);

    /* Re-opening an existing empty database is fine too. */
    st = open_store(*state);
    load(st, &tok);
    assert_false(tok.initialized);
    store_close(st);
}

static void test_save_load_round_trip(void **state)
{
    struct store_token in, out;
    fill_record(&in, 7);
    struct store *st = open_store(*state);
    assert_int_equal(store_save_token(st, &in), CKR_OK);
    load(st, &out);
    assert_record_equal(&out, &in);
    store_close(st);

    /* And from disk through a new connection. */
    st = open_store(*state);
    memset(&out, 0, sizeof(out));
    load(st, &out);
    assert_record_equal(&out, &in);
    store_close(st);
}

static void test_save_replaces_whole_record(void **state)
{
    struct store_token first, second, out;
    fill_record(&first, 1);
    fill_record(&second, 2);
    /* The second record has no user PIN and no SO failures. */
    memset(&second.pin[STORE_ROLE_USER], 0, sizeof(second.pin[STORE_ROLE_USER]));
    second.pin[STORE_ROLE_SO].failed = 0;

    struct store *st = open_store(*state);
    assert_int_equal(store_save_token(st, &first), CKR_OK);
    assert_int_equal(store_save_token(st, &second), CKR_OK);
    store_close(st);
    st = open_store(*state);
    load(st, &out);
    assert_record_equal(&out, &second);
    store_close(st);
}

static void test_count_failure_is_durable(void **state)
{
    unsigned long n = 0;
    struct store_token tok;
    fill_record(&tok, 3);
    tok.pin[STORE_ROLE_SO].failed = 0;
    tok.pin[STORE_ROLE_USER].failed = 0;

    struct store *st = open_store(*state);
    assert_int_equal(store_save_token(st, &tok), CKR_OK);
    assert_int_equal(store_count_failure(st, STORE_ROLE_SO, &n), CKR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_count_failure(st, STORE_ROLE_SO, &n), CKR_OK);
    assert_int_equal(n, 2);
    assert_int_equal(store_count_failure(st, STORE_ROLE_USER, &n), CKR_OK);
    assert_int_equal(n, 1);
    store_close(st);

    st = open_store(*state);
    load(st, &tok);
    assert_int_equal(tok.pin[STORE_ROLE_SO].failed, 2);
    assert_int_equal(tok.pin[STORE_ROLE_USER].failed, 1);
    assert_true(tok.pin[STORE_ROLE_SO].set); /* the PIN rows are untouched */
    assert_int_equal(store_count_failure(st, STORE_ROLE_SO, &n), CKR_OK);
    assert_int_equal(n, 3);
    store_close(st);

    st = open_store(*state);
    load(st, &tok);
    assert_int_equal(tok.pin[STORE_ROLE_SO].failed, 3);
    store_close(st);
}

static void test_count_failure_continues_saved_value(void **state)
{
    unsigned long n = 0;
    struct store_token tok;
    fill_record(&tok, 4);
    tok.pin[STORE_ROLE_USER].failed = 5;
    struct store *st = open_store(*state);
    assert_int_equal(store_save_token(st, &tok), CKR_OK);
    assert_int_equal(store_count_failure(st, STORE_ROLE_USER, &n), CKR_OK);
    assert_int_equal(n, 6);
    store_close(st);
}

static void test_reset_failures(void **state)
{
    unsigned long n = 0;
    struct store_token tok;
    struct store *st = open_store(*state);
    /* Resetting a counter that was never set is fine. */
    assert_int_equal(store_reset_failures(st, STORE_ROLE_USER), CKR_OK);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(store_count_failure(st, STORE_ROLE_SO, &n), CKR_OK);
        assert_int_equal(store_count_failure(st, STORE_ROLE_USER, &n), CKR_OK);
    }
    assert_int_equal(store_reset_failures(st, STORE_ROLE_USER), CKR_OK);
    store_close(st);

    st = open_store(*state);
    load(st, &tok);
    assert_int_equal(tok.pin[STORE_ROLE_USER].failed, 0);
    assert_int_equal(tok.pin[STORE_ROLE_SO].failed, 2);
    assert_int_equal(store_count_failure(st, STORE_ROLE_USER, &n), CKR_OK);
    assert_int_equal(n, 1);
    store_close(st);
}

static void test_lock_writes_pid(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX], expected[32];
    mode_t old = umask(0);
    struct store_lock *lk = acquire(ut_join(dir, *state, "new/store"));
    umask(old);
    assert_mode(dir, S_IFDIR, 0700);
    assert_mode(ut_join(path, dir, "craton_hsm.lock"), S_IFREG, 0600);
    snprintf(expected, sizeof(expected), "%ld\n", (long)getpid());
    assert_lock_file(dir, expected);
    store_lock_release(lk);
}

static void test_lock_conflict_names_path_and_pid(void **state)
{
    struct store_lock *lk = acquire(*state);
    expect_conflict(*state, (long)getpid());
    store_lock_release(lk);
}

/* A failed attempt must not disturb the holder's record: the next process
 * to try still deserves to be told who holds the store. */
static void test_lock_conflict_keeps_holder_pid(void **state)
{
    char expected[32];
    snprintf(expected, sizeof(expected), "%ld\n", (long)getpid());
    char path[PATH_MAX], after[64], err[STORE_ERR_MAX] = "";
    struct store_lock *lk = acquire(*state), *second = NULL;
    expect_conflict(*state, (long)getpid());
    ut_read_file(ut_join(path, *state, "craton_hsm.lock"), after, sizeof(after));
    CK_RV rv = store_lock_acquire(*state, &second, err);
    store_lock_release(lk); /* before asserting, so a failure leaks nothing */
    assert_int_equal(rv, CKR_GENERAL_ERROR);
    assert_string_equal(after, expected);
    if (strstr(err, "PID ") == NULL)
        print_message("third attempt: \"%s\" names no holder\n", err);
    assert_non_null(strstr(err, "PID "));
}

static void test_lock_release_then_reacquire(void **state)
{
    char expected[32];
    snprintf(expected, sizeof(expected), "%ld\n", (long)getpid());
    struct store_lock *lk = acquire(*state);
    store_lock_release(lk);
    assert_lock_file(*state, ""); /* no stale PID left behind */
    lk = acquire(*state);
    assert_lock_file(*state, expected);
    store_lock_release(lk);
    store_lock_release(NULL);
}

/* Keeps the child's lock reachable at _exit (valgrind leak check). */
static struct store_lock *volatile child_lock;

static void test_lock_inherit_after_fork(void **state)
{
    assert_null(store_lock_inherit(NULL));
    struct store_lock *lk = acquire(*state);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        /* Child: take over the record, then leave without unlocking. */
        child_lock = store_lock_inherit(lk);
        _exit(child_lock == lk ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    char expected[32];
    snprintf(expected, sizeof(expected), "%ld\n", (long)child);
    assert_lock_file(*state, expected);
    /* The parent's flock is still in force. */
    expect_conflict(*state, (long)child);
    store_lock_release(lk);
}

static void test_corrupt_label_is_device_error(void **state)
{
    struct store_token tok;
    fill_record(&tok, 5);
    struct store *st = open_store(*state);
    assert_int_equal(store_save_token(st, &tok), CKR_OK);
    ut_db_exec(*state, "UPDATE token SET label = X'414243' WHERE id = 1");
    assert_int_equal(store_load_token(st, &tok), CKR_DEVICE_ERROR);
    store_close(st);
}

static void test_corrupt_rows_are_device_errors(void **state)
{
    static const char *const damage[] = {
        "UPDATE token SET label = 'a text label of thirty-two bytes'",
        "UPDATE pin SET kdf = 'md5' WHERE role = 0",
        "UPDATE pin SET iterations = 0 WHERE role = 1",
        "UPDATE pin SET salt = X'0102' WHERE role = 0",
        "UPDATE pin SET verifier = zeroblob(31) WHERE role = 1",
        "UPDATE pin SET wrapped_omk = zeroblob(61) WHERE role = 0",
        "DELETE FROM pin WHERE role = 0", /* initialized without an SO PIN */
    };
    struct store_token good, tok;
    fill_record(&good, 6);
    struct store *st = open_store(*state);
    for (size_t i = 0; i < ARRAY_SIZE(damage); i++) {
        assert_int_equal(store_save_token(st, &good), CKR_OK);
        load(st, &tok);
        ut_db_exec(*state, damage[i]);
        CK_RV rv = store_load_token(st, &tok);
        if (rv != CKR_DEVICE_ERROR)
            print_message("damage \"%s\" gave 0x%lx\n", damage[i], (unsigned long)rv);
        assert_int_equal(rv, CKR_DEVICE_ERROR);
    }
    /* A valid save repairs it. */
    assert_int_equal(store_save_token(st, &good), CKR_OK);
    load(st, &tok);
    assert_record_equal(&tok, &good);
    store_close(st);
}

/* A version-1 store (before objects existed) is upgraded on a copy that is
 * swapped in: the token record survives, the objects table appears, no
 * temporary file is left behind. */
static void test_upgrade_from_version_1(void **state)
{
    char path[PATH_MAX];
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(ut_join(path, *state, "token.db"), &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE schema_version(version INTEGER NOT NULL);"
                                  "INSERT INTO schema_version VALUES (1);"
                                  "CREATE TABLE token(id INTEGER PRIMARY KEY CHECK (id = 1),"
                                  " initialized INTEGER NOT NULL, label BLOB NOT NULL);"
                                  "CREATE TABLE pin(role INTEGER PRIMARY KEY, kdf TEXT NOT NULL,"
                                  " iterations INTEGER NOT NULL, salt BLOB NOT NULL,"
                                  " verifier BLOB NOT NULL, wrapped_omk BLOB NOT NULL);"
                                  "CREATE TABLE pin_failures(role INTEGER PRIMARY KEY,"
                                  " failed INTEGER NOT NULL);"
                                  "INSERT INTO pin_failures VALUES (1, 2);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    struct store *st = NULL;
    char err[STORE_ERR_MAX] = "";
    assert_int_equal(store_open(*state, &st, err), CKR_OK);
    struct store_token tok;
    assert_int_equal(store_load_token(st, &tok), CKR_OK);
    assert_int_equal(tok.pin[STORE_ROLE_USER].failed, 2);
    struct store_object row = {.cls = CKO_DATA, .is_private = false};
    memset(row.uid, 7, sizeof(row.uid));
    assert_int_equal(store_object_put(st, &row), CKR_OK);
    store_close(st);
    struct stat sb;
    assert_int_equal(stat(ut_join(path, *state, "token.db.upgrade"), &sb), -1);
    assert_int_equal(sqlite3_open(ut_join(path, *state, "token.db"), &db), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), STORE_SCHEMA_VERSION);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static void test_unknown_schema_version_refused(void **state)
{
    char path[PATH_MAX];
    struct store *st = open_store(*state);
    store_close(st);
    ut_db_exec(*state, "UPDATE schema_version SET version = 99");

    char err[STORE_ERR_MAX] = "";
    st = NULL;
    assert_int_equal(store_open(*state, &st, err), CKR_DEVICE_ERROR);
    assert_null(st);
    if (strstr(err, "99") == NULL)
        print_message("error \"%s\" does not name the version\n", err);
    assert_non_null(strstr(err, "schema version 99"));
    assert_non_null(strstr(err, ut_join(path, *state, "token.db")));
}

static void test_null_safety(void **state)
{
    (void)state;
    store_close(NULL);
    store_lock_release(NULL);
    assert_null(store_lock_inherit(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)
        T(test_open_creates_private_files),
        T(test_open_fails_on_file_in_the_way),
        T(test_fresh_db_is_uninitialized),
        T(test_save_load_round_trip),
        T(test_save_replaces_whole_record),
        T(test_count_failure_is_durable),
        T(test_count_failure_continues_saved_value),
        T(test_reset_failures),
        T(test_lock_writes_pid),
        T(test_lock_conflict_names_path_and_pid),
        T(test_lock_conflict_keeps_holder_pid),
        T(test_lock_release_then_reacquire),
        T(test_lock_inherit_after_fork),
        T(test_corrupt_label_is_device_error),
        T(test_corrupt_rows_are_device_errors),
        T(test_upgrade_from_version_1),
        T(test_unknown_schema_version_refused),
        T(test_null_safety),
#undef T
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
