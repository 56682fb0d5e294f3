/*
 * Helpers shared by the unit tests of the core layers: temporary
 * directories, a test configuration with a crypto context, and direct SQLite
 * access to a store's token.db for tampering.
 *
 * Everything is static inline so a test that uses only part of it compiles
 * warning-free.  Include after <cmocka.h>'s prerequisites are in place (this
 * header includes them itself).
 */
#ifndef CRATON_TESTS_UNIT_UTIL_H
#define CRATON_TESTS_UNIT_UTIL_H

#if !defined(_GNU_SOURCE) && !defined(_XOPEN_SOURCE)
#define _XOPEN_SOURCE 700
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "crypto/crypto.h"
#include "pkcs11/pkcs11.h"

#define UT_DIR_MAX         64
#define UT_TEST_ITERATIONS 1000UL
#define UT_TEST_MAX_FAILED 3UL

/* ---- temporary directories --------------------------------------------- */

/* Creates a fresh private directory under /tmp into dir[UT_DIR_MAX]. */
static inline void ut_mkdtemp(char dir[UT_DIR_MAX])
{
    snprintf(dir, UT_DIR_MAX, "/tmp/craton-unit-XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static inline int ut_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes dir and everything below it (best effort, never follows links). */
static inline void ut_rmtree(const char *dir)
{
    if (dir != NULL && dir[0] != '\0')
        (void)nftw(dir, ut_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* buf = a "/" b, asserting it fits. */
static inline const char *ut_join(char buf[PATH_MAX], const char *a, const char *b)
{
    int n = snprintf(buf, PATH_MAX, "%s/%s", a, b);
    assert_true(n > 0 && n < PATH_MAX);
    return buf;
}

/* Reads a whole small file into buf (NUL-terminated); returns its length. */
static inline size_t ut_read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    assert_true(n >= 0);
    buf[n] = '\0';
    return (size_t)n;
}

/* ---- configuration and crypto ------------------------------------------ */

struct ut_env {
    char dir[UT_DIR_MAX]; /* private temp dir, removed by ut_env_free */
    struct config cfg;
    struct crypto *crypto;
};

/* Defaults with cheap PBKDF2 and max_failed_logins = 3, a crypto context
 * and a temp dir. */
static inline struct ut_env *ut_env_new(void)
{
    struct ut_env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    assert_int_equal(config_defaults(&e->cfg), 0);
    e->cfg.pbkdf2_iterations = UT_TEST_ITERATIONS;
    e->cfg.max_failed_logins = UT_TEST_MAX_FAILED;
    assert_int_equal(crypto_global_init(0), CKR_OK);
    assert_int_equal(crypto_new(&e->crypto), CKR_OK);
    ut_mkdtemp(e->dir);
    return e;
}

static inline void ut_env_free(struct ut_env *e)
{
    if (e == NULL)
        return;
    ut_rmtree(e->dir);
    crypto_free(e->crypto);
    config_free(&e->cfg);
    free(e);
}

/* ---- direct SQLite access to <dir>/token.db ---------------------------- */

static inline sqlite3 *ut_db_open(const char *dir)
{
    char path[PATH_MAX];
    sqlite3 *db = NULL;
    ut_join(path, dir, "token.db");
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

/* Runs sql (one or more statements) on <dir>/token.db, asserting success. */
static inline void ut_db_exec(const char *dir, const char *sql)
{
    sqlite3 *db = ut_db_open(dir);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        print_message("sqlite: %s: %s\n", sql, msg ? msg : "?");
    sqlite3_free(msg);
    assert_int_equal(rc, SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* Flips bit 0 of byte idx of the BLOB column col in the pin row of role. */
static inline void ut_db_flip_pin_byte(const char *dir, int role, const char *col, size_t idx)
{
    sqlite3 *db = ut_db_open(dir);
    sqlite3_stmt *q = NULL;
    char sql[128];
    unsigned char blob[256];

    snprintf(sql, sizeof(sql), "SELECT %s FROM pin WHERE role = ?", col);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_int(q, 1, role);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    int len = sqlite3_column_bytes(q, 0);
    assert_true(len > 0 && (size_t)len <= sizeof(blob) && idx < (size_t)len);
    memcpy(blob, sqlite3_column_blob(q, 0), (size_t)len);
    sqlite3_finalize(q);
    blob[idx] ^= 0x01;

    snprintf(sql, sizeof(sql), "UPDATE pin SET %s = ? WHERE role = ?", col);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_blob(q, 1, blob, len, SQLITE_TRANSIENT);
    sqlite3_bind_int(q, 2, role);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

#endif
