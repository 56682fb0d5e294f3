/*
 * Unit tests for src/config: the TOML reader and the configuration schema.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/toml.h"

#define NAME "craton_hsm.toml"
/* A cmocka test function; these tests use no state. */
#define TEST(name)  static void name(void **state __attribute__((unused)))
#define MAX_NEEDLES 4
#define TMP_FILES   8

/* ---- helpers ------------------------------------------------------------ */

static int parse_text(struct config *cfg, const char *text, const char *base_dir,
                      char err[CONFIG_ERR_MAX])
{
    int rc = config_parse(cfg, text, strlen(text), NAME, base_dir, err);
    if (rc != 0)
        print_message("unexpected error: %s\n", err);
    return rc;
}

static void parse_ok(struct config *cfg, const char *text)
{
    char err[CONFIG_ERR_MAX];

    assert_int_equal(parse_text(cfg, text, NULL, err), 0);
}

static void expect_err_len(const char *text, size_t len, const char *const *needles)
{
    struct config cfg, zero;
    char err[CONFIG_ERR_MAX];
    int rc, i;

    memset(&cfg, 0xA5, sizeof(cfg));
    memset(&zero, 0, sizeof(zero));
    rc = config_parse(&cfg, text, len, NAME, NULL, err);
    if (rc == 0) {
        print_message("parse unexpectedly succeeded\n");
        config_free(&cfg);
        fail();
    }
    assert_int_equal(rc, -1);
    for (i = 0; needles[i] != NULL; i++) {
        if (strstr(err, needles[i]) == NULL)
            print_message("error \"%s\" lacks \"%s\"\n", err, needles[i]);
        assert_non_null(strstr(err, needles[i]));
    }
    assert_null(strchr(err, '\n'));
    assert_memory_equal(&cfg, &zero, sizeof(cfg));
    config_free(&cfg);
}

#define EXPECT_ERR(text, ...) \
    expect_err_len((text), strlen(text), (const char *const[]){__VA_ARGS__, NULL})

/* The TOML layer alone: text must fail with needle in the message. */
static void toml_expect_err(const char *text, const char *needle)
{
    struct toml_doc doc;
    char err[CONFIG_ERR_MAX];

    assert_int_equal(toml_parse(&doc, text, strlen(text), "t", err, sizeof(err)), -1);
    if (strstr(err, needle) == NULL)
        print_message("error \"%s\" lacks \"%s\"\n", err, needle);
    assert_non_null(strstr(err, needle));
    assert_null(doc.tables);
}

/* Fixture of the config_load tests: a temp dir, files to remove, the cwd to
 * return to, and CRATON_HSM_CONFIG unset before and after. */
struct tmpdir {
    char dir[64];
    char cwd[PATH_MAX];
    char files[TMP_FILES][PATH_MAX];
    int nfiles;
};

static int tmp_setup(void **state)
{
    struct tmpdir *td = calloc(1, sizeof(*td));

    if (td == NULL)
        return -1;
    snprintf(td->dir, sizeof(td->dir), "/tmp/craton_cfg_XXXXXX");
    if (mkdtemp(td->dir) == NULL || getcwd(td->cwd, sizeof(td->cwd)) == NULL) {
        free(td);
        return -1;
    }
    unsetenv("CRATON_HSM_CONFIG");
    *state = td;
    return 0;
}

static int tmp_teardown(void **state)
{
    struct tmpdir *td = *state;
    int i, rc = 0;

    unsetenv("CRATON_HSM_CONFIG");
    if (chdir(td->cwd) != 0)
        rc = -1;
    for (i = td->nfiles - 1; i >= 0; i--)
        unlink(td->files[i]);
    if (rmdir(td->dir) != 0)
        rc = -1;
    free(td);
    return rc;
}

/* Remembers path for removal at teardown. */
static const char *tmp_track(struct tmpdir *td, const char *path)
{
    assert_true(td->nfiles < TMP_FILES);
    snprintf(td->files[td->nfiles], PATH_MAX, "%s", path);
    return td->files[td->nfiles++];
}

/* A new file in the temp dir holding text, with mode: named name, or made by
 * mkstemp when name is NULL. */
static const char *tmp_file(struct tmpdir *td, const char *name, const char *text, mode_t mode)
{
    char path[PATH_MAX];
    size_t len = strlen(text);
    ssize_t w;
    int fd;

    snprintf(path, sizeof(path), "%s/%s", td->dir, name != NULL ? name : "cfgXXXXXX");
    fd = name != NULL ? open(path, O_WRONLY | O_CREAT | O_EXCL, 0600) : mkstemp(path);
    assert_true(fd >= 0);
    tmp_track(td, path);
    for (; len > 0; text += w, len -= (size_t)w) {
        w = write(fd, text, len);
        assert_true(w > 0);
    }
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
    return td->files[td->nfiles - 1];
}

/* config_format prints every field, so equal output means equal values. */
static void assert_config_equal(const struct config *a, const struct config *b)
{
    char fa[8192], fb[8192];

    assert_true(config_format(a, fa, sizeof(fa)) < sizeof(fa));
    assert_true(config_format(b, fb, sizeof(fb)) < sizeof(fb));
    assert_string_equal(fa, fb);
}

static void assert_defaults(const struct config *cfg)
{
    assert_string_equal(cfg->label, "Craton HSM Token");
    assert_string_equal(cfg->serial_number, "0000000000000001");
    assert_string_equal(cfg->storage_path, "craton_hsm_store");
    assert_int_equal(cfg->max_sessions, 100);
    assert_int_equal(cfg->max_rw_sessions, 10);
    assert_true(cfg->persist_objects);
    assert_int_equal(cfg->slot_count, 1);
    assert_int_equal(cfg->pin_min_length, 8);
    assert_int_equal(cfg->pin_max_length, 64);
    assert_int_equal(cfg->max_failed_logins, 10);
    assert_int_equal(cfg->pbkdf2_iterations, 600000);
    assert_true(cfg->audit_enabled);
    assert_string_equal(cfg->audit_log_path, "craton_hsm_audit.jsonl");
    assert_int_equal(cfg->audit_log_level, CONFIG_LOG_ALL);
    assert_false(cfg->allow_weak_rsa);
    assert_false(cfg->allow_sha1_signing);
    assert_true(cfg->enable_pqc);
    assert_false(cfg->fips_approved_only);
    assert_false(cfg->craton_vendor_pqc);
    assert_string_equal(cfg->daemon.bind, "127.0.0.1:5696");
    assert_null(cfg->daemon.bind_unix);
    assert_null(cfg->daemon.tls_cert);
    assert_null(cfg->daemon.tls_key);
    assert_null(cfg->daemon.tls_client_ca);
    assert_null(cfg->daemon.tls_client_crl);
    assert_false(cfg->daemon.allow_unauthenticated_tls);
    assert_false(cfg->daemon.allow_insecure);
    assert_int_equal(cfg->daemon.max_random_length, 1048576);
    assert_int_equal(cfg->daemon.max_digest_length, 16777216);
    assert_int_equal(cfg->daemon.max_login_attempts, 5);
    assert_int_equal(cfg->daemon.login_cooldown_secs, 60);
    assert_int_equal(cfg->daemon.max_connections, 256);
    assert_int_equal(cfg->daemon.request_timeout_secs, 30);
    assert_int_equal(cfg->daemon.crl_refresh_secs, 300);
}

/* ---- defaults ----------------------------------------------------------- */

TEST(test_defaults)
{
    struct config cfg;

    assert_int_equal(config_defaults(&cfg), 0);
    assert_defaults(&cfg);
    assert_null(cfg.source_path);
    config_free(&cfg);
    config_free(&cfg); /* idempotent */
    assert_null(cfg.storage_path);
    config_free(NULL);
}

TEST(test_empty_input_gives_defaults)
{
    struct config cfg;

    parse_ok(&cfg, "");
    assert_defaults(&cfg);
    config_free(&cfg);
    parse_ok(&cfg, "# only a comment\n\n   \n[token]\n[daemon]\n");
    assert_defaults(&cfg);
    config_free(&cfg);
}

/* ---- TOML syntax -------------------------------------------------------- */

TEST(test_comments_and_whitespace)
{
    struct config cfg;

    parse_ok(&cfg, "# head\n"
                   "  [ token ]  # trailing comment\n"
                   "\tlabel\t=\t\"My # Token\"   # not part of the value\n"
                   "max_sessions=50#tight\n"
                   "\n"
                   "   # indented comment\n"
                   "[audit]\n"
                   "log_level = 'auth'\n");
    assert_string_equal(cfg.label, "My # Token");
    assert_int_equal(cfg.max_sessions, 50);
    assert_int_equal(cfg.audit_log_level, CONFIG_LOG_AUTH);
    config_free(&cfg);
    parse_ok(&cfg, "\xEF\xBB\xBF[token]\nslot_count = 2\n"); /* byte order mark */
    assert_int_equal(cfg.slot_count, 2);
    config_free(&cfg);
}

TEST(test_crlf_line_endings)
{
    struct config cfg;

    parse_ok(&cfg, "[token]\r\nlabel = \"CRLF\"\r\n# c\r\nslot_count = 4\r\n");
    assert_string_equal(cfg.label, "CRLF");
    assert_int_equal(cfg.slot_count, 4);
    config_free(&cfg);
    /* Line numbers count CRLF lines. */
    EXPECT_ERR("[token]\r\n\r\nslot_count = 0\r\n", NAME ":3: token.slot_count = 0");
    EXPECT_ERR("[token]\nlabel = \"x\"\r[audit]\n", NAME ":2: carriage return");
}

TEST(test_basic_string_escapes)
{
    struct config cfg;

    parse_ok(&cfg, "[daemon]\n"
                   "tls_cert = \"/a\\tb\\nc\\\"d\\\\e\\bf\\fg\\rh\\u0041\\u00e9\\U0001F600\"\n");
    assert_string_equal(cfg.daemon.tls_cert, "/a\tb\nc\"d\\e\bf\fg\rhA\xC3\xA9\xF0\x9F\x98\x80");
    config_free(&cfg);
}

TEST(test_invalid_escapes_rejected)
{
    EXPECT_ERR("[token]\nlabel = \"a\\qb\"\n", NAME ":2: invalid escape", "token.label");
    EXPECT_ERR("[token]\nlabel = \"a\\x41\"\n", NAME ":2: invalid escape");
    EXPECT_ERR("[token]\nlabel = \"\\u12\"\n", NAME ":2: invalid \\u escape",
               "4 hexadecimal digits");
    EXPECT_ERR("[token]\nlabel = \"\\uD800\"\n", NAME ":2:", "not a Unicode scalar value");
    EXPECT_ERR("[token]\nlabel = \"\\U00110000\"\n", NAME ":2:", "not a Unicode scalar");
    EXPECT_ERR("[token]\nlabel = \"abc\\", NAME ":2: unterminated string");
}

TEST(test_literal_string)
{
    struct config cfg;

    parse_ok(&cfg, "[daemon]\ntls_key = 'C:\\keys\\n.pem'\n");
    assert_string_equal(cfg.daemon.tls_key, "C:\\keys\\n.pem");
    config_free(&cfg);
    parse_ok(&cfg, "[daemon]\ntls_key = '/k\\n \"q\" .pem'\n");
    assert_string_equal(cfg.daemon.tls_key, "/k\\n \"q\" .pem");
    config_free(&cfg);
}

TEST(test_control_chars_rejected)
{
    EXPECT_ERR("[token]\nlabel = \"a\x01\"\n", NAME ":2: control character U+0001");
    EXPECT_ERR("[token]\nlabel = 'a\x7f'\n", NAME ":2: control character U+007F");
    EXPECT_ERR("# c\x02omment\n", NAME ":1: control character");
    expect_err_len("[token]\nlabel = \"a\0b\"\n", 22,
                   (const char *const[]){NAME ":2: control character U+0000", NULL});
}

TEST(test_invalid_utf8_rejected)
{
    EXPECT_ERR("[token]\n\nlabel = \"\xC3\x28\"\n", NAME ":3: invalid UTF-8");
    EXPECT_ERR("# \xED\xA0\x80 surrogate\n", NAME ":1: invalid UTF-8");
    EXPECT_ERR("# \xC0\xAF overlong\n", NAME ":1: invalid UTF-8");
}

TEST(test_unterminated_strings)
{
    EXPECT_ERR("[token]\nlabel = \"abc\nslot_count = 1\n", NAME ":2: unterminated string");
    EXPECT_ERR("[token]\nlabel = 'abc", NAME ":2: unterminated string");
}

TEST(test_integers)
{
    struct config cfg;

    parse_ok(&cfg, "[token]\nmax_sessions = 1_000\nmax_rw_sessions = +7\n"
                   "[security]\npbkdf2_iterations = 1_000_000\n"
                   "[daemon]\nmax_login_attempts = -0\n");
    assert_int_equal(cfg.max_sessions, 1000);
    assert_int_equal(cfg.max_rw_sessions, 7);
    assert_int_equal(cfg.pbkdf2_iterations, 1000000);
    assert_int_equal(cfg.daemon.max_login_attempts, 0);
    config_free(&cfg);
}

TEST(test_integer_syntax_errors)
{
    EXPECT_ERR("[token]\nslot_count = 007\n", NAME ":2: invalid integer '007'", "leading zeros");
    EXPECT_ERR("[token]\nslot_count = 0_1\n", NAME ":2:", "leading zeros");
    EXPECT_ERR("[token]\nslot_count = 1__0\n", NAME ":2: invalid integer '1__0'",
               "'_' must sit between digits");
    EXPECT_ERR("[token]\nslot_count = 10_\n", NAME ":2:", "'_' must sit between digits");
    EXPECT_ERR("[token]\nslot_count = +_1\n", NAME ":2:", "'_' must sit between digits");
    EXPECT_ERR("[token]\nslot_count = 1 2\n", NAME ":2: expected the end of the line");
}

TEST(test_integer_overflow)
{
    EXPECT_ERR("[token]\nslot_count = 9223372036854775808\n", NAME ":2: integer", "out of range");
    EXPECT_ERR("[token]\nslot_count = -9223372036854775809\n", NAME ":2:", "out of range");
    EXPECT_ERR("[token]\nslot_count = 99999999999999999999999\n", NAME ":2:", "out of range");
    /* In range for TOML, out of range for the schema. */
    EXPECT_ERR("[token]\nslot_count = 9223372036854775807\n",
               NAME ":2: token.slot_count = 9223372036854775807: must be an integer from 1 "
                    "to 256");
    EXPECT_ERR("[token]\nslot_count = -9223372036854775808\n",
               NAME ":2: token.slot_count = -9223372036854775808:");
}

TEST(test_booleans)
{
    struct config cfg;

    parse_ok(&cfg, "[token]\npersist_objects = false\n[algorithms]\nenable_pqc = false\n"
                   "craton_vendor_pqc = true\n");
    assert_false(cfg.persist_objects);
    assert_false(cfg.enable_pqc);
    assert_true(cfg.craton_vendor_pqc);
    config_free(&cfg);
    EXPECT_ERR("[token]\npersist_objects = True\n", NAME ":2: unsupported value",
               "token.persist_objects");
    EXPECT_ERR("[token]\npersist_objects = truex\n", NAME ":2: unsupported value");
}

TEST(test_unsupported_values)
{
    EXPECT_ERR("[token]\nslot_count = 1.5\n", NAME ":2: unsupported value", "floats");
    EXPECT_ERR("[token]\nslot_count = 1e3\n", NAME ":2: unsupported value", "floats");
    EXPECT_ERR("[token]\nslot_count = inf\n", NAME ":2: unsupported value", "floats");
    EXPECT_ERR("[token]\nslot_count = -nan\n", NAME ":2: unsupported value", "floats");
    EXPECT_ERR("[token]\nlabel = 1979-05-27\n", NAME ":2: unsupported value", "dates");
    EXPECT_ERR("[token]\nlabel = 07:32:00\n", NAME ":2: unsupported value", "dates");
    EXPECT_ERR("[token]\nlabel = { a = 1 }\n", NAME ":2: unsupported value", "inline tables");
    EXPECT_ERR("[token]\nlabel = \"\"\"x\"\"\"\n", NAME ":2: unsupported value",
               "multi-line strings");
    EXPECT_ERR("[token]\nlabel = '''x'''\n", NAME ":2: unsupported value", "multi-line");
    EXPECT_ERR("[token]\nslot_count = 0x10\n", NAME ":2: unsupported value", "hexadecimal");
    EXPECT_ERR("[token]\nlabel = hello\n", NAME ":2: unsupported value", "bare words");
    EXPECT_ERR("[token]\nlabel = @\n", NAME ":2: unsupported value");
}

TEST(test_missing_value)
{
    EXPECT_ERR("[token]\nlabel =\n", NAME ":2: missing value for key 'token.label'");
    EXPECT_ERR("[token]\nlabel = # c\n", NAME ":2: missing value");
    EXPECT_ERR("[token]\nlabel \"x\"\n", NAME ":2: expected '=' after key 'token.label'");
    EXPECT_ERR("[token]\n= 1\n", NAME ":2: expected a key, a [table] header or a comment");
}

TEST(test_toml_arrays)
{
    static const char text[] = "a = [ 1, -2, 3_000 ]\n"
                               "b = [\n"
                               "  \"x\",  # comment inside\n"
                               "  'y',\r\n"
                               "\n"
                               "  true,\n"
                               "]\n"
                               "c = []\n"
                               "d = [[1, 2], [\"s\"], []]\n";
    struct toml_doc doc;
    const struct toml_keyval *kv;
    char err[256];

    assert_int_equal(toml_parse(&doc, text, strlen(text), "t", err, sizeof(err)), 0);
    kv = toml_key_find(toml_table_find(&doc, ""), "a");
    assert_non_null(kv);
    assert_int_equal(kv->value.type, TOML_ARRAY);
    assert_int_equal(kv->value.u.array.count, 3);
    assert_int_equal(kv->value.u.array.items[1].u.integer, -2);
    assert_int_equal(kv->value.u.array.items[2].u.integer, 3000);
    kv = toml_key_find(toml_table_find(&doc, ""), "b");
    assert_non_null(kv);
    assert_int_equal(kv->line, 2);
    assert_int_equal(kv->value.u.array.count, 3);
    assert_string_equal(kv->value.u.array.items[1].u.str.ptr, "y");
    assert_int_equal(kv->value.u.array.items[1].line, 4);
    assert_int_equal(kv->value.u.array.items[2].type, TOML_BOOLEAN);
    kv = toml_key_find(toml_table_find(&doc, ""), "c");
    assert_int_equal(kv->value.u.array.count, 0);
    kv = toml_key_find(toml_table_find(&doc, ""), "d");
    assert_int_equal(kv->line, 9);
    assert_int_equal(kv->value.u.array.count, 3);
    assert_int_equal(kv->value.u.array.items[0].u.array.items[1].u.integer, 2);
    toml_free(&doc);
    toml_free(&doc);
}

TEST(test_toml_array_errors)
{
    toml_expect_err("a = [1 2]", "t:1: expected ',' or ']'");
    toml_expect_err("a = [,]", "t:1: expected a value before ','");
    toml_expect_err("a = [1,\n2,\n", "unterminated array for key 'a' (opened at line 1)");
    toml_expect_err("a = [[[[[[[[[]]]]]]]]]", "t:1: arrays for key 'a' are nested too deeply");
    /* Arrays are valid TOML but no schema key takes one. */
    EXPECT_ERR("[token]\nslot_count = [1]\n",
               NAME ":2: token.slot_count: expected an integer, got an array");
}

TEST(test_toml_string_limit)
{
    struct toml_doc doc;
    char err[CONFIG_ERR_MAX];
    char *text = malloc(TOML_MAX_STRING + 16);

    if (text == NULL)
        abort(); /* not assert_non_null: GCC's bounds analysis needs to see it */
    memcpy(text, "k = \"", 5);
    memset(text + 5, 'a', TOML_MAX_STRING);
    memcpy(text + 5 + TOML_MAX_STRING, "\"\n", 3);
    assert_int_equal(toml_parse(&doc, text, strlen(text), "t", err, sizeof(err)), 0);
    assert_int_equal(toml_key_find(&doc.tables[0], "k")->value.u.str.len, TOML_MAX_STRING);
    toml_free(&doc);
    memcpy(text + 5 + TOML_MAX_STRING, "a\"\n", 4);
    toml_expect_err(text, "t:1: string for key 'k' is too long (limit 4096 bytes)");
    text[4] = '\'';
    memcpy(text + 5 + TOML_MAX_STRING, "a'\n", 4);
    toml_expect_err(text, "t:1: string for key 'k' is too long");
    free(text);
}

TEST(test_input_size_limit)
{
    size_t n = TOML_MAX_INPUT + 1;
    char *text = malloc(n);
    char err[CONFIG_ERR_MAX];
    struct config cfg;

    assert_non_null(text);
    memset(text, '\n', n);
    expect_err_len(text, n, (const char *const[]){NAME ":1: input is too large", NULL});
    /* Exactly at the limit: accepted (blank lines only: the defaults). */
    assert_int_equal(config_parse(&cfg, text, n - 1, NAME, NULL, err), 0);
    assert_int_equal(cfg.slot_count, 1);
    config_free(&cfg);
    free(text);
}

TEST(test_nul_in_string_kept_with_length)
{
    static const char text[] = "k = \"a\\u0000b\"\n";
    struct toml_doc doc;
    char err[256];
    const struct toml_keyval *kv;

    assert_int_equal(toml_parse(&doc, text, strlen(text), "t", err, sizeof(err)), 0);
    kv = toml_key_find(toml_table_find(&doc, ""), "k");
    assert_int_equal(kv->value.u.str.len, 3);
    assert_memory_equal(kv->value.u.str.ptr, "a\0b", 3);
    toml_free(&doc);
    EXPECT_ERR("[token]\nlabel = \"a\\u0000b\"\n", NAME ":2: token.label = \"a\\u0000b\"",
               "printable ASCII");
}

/* ---- structure errors --------------------------------------------------- */

TEST(test_duplicates)
{
    EXPECT_ERR("[token]\nlabel = \"a\"\n\nlabel = \"b\"\n",
               NAME ":4: duplicate key 'token.label' (first defined at line 2)");
    EXPECT_ERR("[token]\nlabel = \"a\"\n[audit]\n[token]\nslot_count = 2\n",
               NAME ":4: duplicate table [token] (first defined at line 1)");
}

TEST(test_table_syntax_rejected)
{
    EXPECT_ERR("[token.sub]\n", NAME ":1: dotted table names", "not supported");
    EXPECT_ERR("[[token]]\n", NAME ":1: arrays of tables");
    EXPECT_ERR("[\"token\"]\n", NAME ":1: quoted table names are not supported");
    EXPECT_ERR("[token\nlabel = \"x\"\n", NAME ":1: expected ']'");
    EXPECT_ERR("[]\n", NAME ":1: expected a table name");
    EXPECT_ERR("[token] x\n", NAME ":1: expected the end of the line after the table header");
}

TEST(test_key_syntax_rejected)
{
    EXPECT_ERR("[token]\ntoken.label = \"x\"\n", NAME ":2: dotted keys");
    EXPECT_ERR("[token]\n\"label\" = \"x\"\n", NAME ":2: quoted keys are not supported");
    EXPECT_ERR("label = 1\n[label]\n", NAME ":2: table [label] conflicts with key 'label'");
}

TEST(test_unknown_key)
{
    EXPECT_ERR("[token]\nlabel = \"x\"\n\n\n\n\n\n\n\n\n\nslot_cnt = 2\n",
               NAME ":12: unknown key 'token.slot_cnt'; allowed keys in [token]: label, "
                    "storage_path, max_sessions, max_rw_sessions, persist_objects, "
                    "slot_count, serial_number");
    EXPECT_ERR("[daemon]\nport = 1\n", NAME ":2: unknown key 'daemon.port'",
               "bind, bind_unix, tls_cert", "crl_refresh_secs");
}

TEST(test_unknown_table)
{
    EXPECT_ERR("[token]\n[tokens]\nlabel = \"x\"\n",
               NAME ":2: unknown table [tokens]; "
                    "allowed tables: [token], [security], [audit], [algorithms], [daemon]");
}

TEST(test_root_key_rejected)
{
    EXPECT_ERR("\nlabel = \"x\"\n[token]\n", NAME ":2: unknown key 'label'",
               "keys belong in a table");
}

TEST(test_type_errors)
{
    EXPECT_ERR("[token]\n\npersist_objects = \"yes\"\n",
               NAME ":3: token.persist_objects: expected a boolean (true or false), got a "
                    "string");
    EXPECT_ERR("[token]\nmax_sessions = \"10\"\n",
               NAME ":2: token.max_sessions: expected an integer, got a string");
    EXPECT_ERR("[token]\nlabel = 5\n", NAME ":2: token.label: expected a string, got an integer");
    EXPECT_ERR("[audit]\nlog_path = true\n",
               NAME ":2: audit.log_path: expected a string, got a boolean");
    EXPECT_ERR("[daemon]\nallow_insecure = 1\n",
               NAME ":2: daemon.allow_insecure: expected a boolean (true or false), got an "
                    "integer");
}

/* ---- ranges ------------------------------------------------------------- */

/* Checks min-1, min, max, max+1 for table.key; extra is appended to the
 * table (to satisfy cross-field rules). */
static void check_range(const char *table, const char *key, long long min, long long max,
                        const char *extra)
{
    long long probes[4] = {min - 1, min, max, max + 1};
    char text[512], needle[256], line[128], out[4096];
    struct config cfg;
    int i;

    for (i = 0; i < 4; i++) {
        snprintf(text, sizeof(text), "[%s]\n%s = %lld\n%s", table, key, probes[i], extra);
        if (i == 0 || i == 3) {
            snprintf(needle, sizeof(needle),
                     NAME ":2: %s.%s = %lld: must be an integer from %lld to %lld", table, key,
                     probes[i], min, max);
            EXPECT_ERR(text, needle);
        } else {
            parse_ok(&cfg, text);
            config_format(&cfg, out, sizeof(out));
            snprintf(line, sizeof(line), "\n%s = %lld\n", key, probes[i]);
            if (strstr(out, line) == NULL)
                print_message("%s not in:\n%s\n", line, out);
            assert_non_null(strstr(out, line));
            config_free(&cfg);
        }
    }
}

TEST(test_ranges_token)
{
    check_range("token", "max_sessions", 1, CONFIG_MAX_SESSIONS_MAX, "max_rw_sessions = 1\n");
    check_range("token", "max_rw_sessions", 1, CONFIG_MAX_SESSIONS_MAX, "max_sessions = 10000\n");
    check_range("token", "slot_count", 1, CONFIG_SLOT_COUNT_MAX, "");
}

TEST(test_ranges_security)
{
    check_range("security", "pin_min_length", 4, 256, "pin_max_length = 256\n");
    check_range("security", "pin_max_length", 4, 256, "pin_min_length = 4\n");
    check_range("security", "max_failed_logins", 3, 100, "");
    check_range("security", "pbkdf2_iterations", 100000, 10000000, "");
    EXPECT_ERR("[security]\n\n\n\nmax_failed_logins = 2\n",
               NAME ":5: security.max_failed_logins = 2: must be an integer from 3 to 100");
}

TEST(test_ranges_daemon)
{
    check_range("daemon", "max_random_length", 1, 67108864, "");
    check_range("daemon", "max_digest_length", 1, 67108864, "");
    check_range("daemon", "max_login_attempts", 0, 1000, "");
    check_range("daemon", "login_cooldown_secs", 0, 86400, "");
    check_range("daemon", "max_connections", 1, 65536, "");
    check_range("daemon", "request_timeout_secs", 1, 3600, "");
    check_range("daemon", "crl_refresh_secs", 0, 86400, "");
}

/* ---- cross-field rules -------------------------------------------------- */

TEST(test_rw_sessions_cross_rule)
{
    struct config cfg;

    EXPECT_ERR("[token]\nmax_rw_sessions = 200\n",
               NAME ":2: token.max_rw_sessions = 200: must be an integer from 1 to "
                    "token.max_sessions (100)");
    EXPECT_ERR("[token]\nmax_rw_sessions = 20\nslot_count = 1\nmax_sessions = 10\n",
               NAME ":4: token.max_rw_sessions = 20", "(10)");
    parse_ok(&cfg, "[token]\nmax_rw_sessions = 10\nmax_sessions = 10\n");
    config_free(&cfg);
}

TEST(test_pin_length_cross_rule)
{
    EXPECT_ERR("[security]\npin_max_length = 6\n",
               NAME ":2: security.pin_min_length = 8: must be an integer from 4 to "
                    "security.pin_max_length (6)");
    EXPECT_ERR("[security]\npin_min_length = 100\n", NAME ":2: security.pin_min_length = 100");
}

TEST(test_fips_requires_audit)
{
    EXPECT_ERR("[audit]\nenabled = false\n[algorithms]\nfips_approved_only = true\n",
               NAME ":4: algorithms.fips_approved_only = true requires audit.enabled = true");
    EXPECT_ERR("[algorithms]\nfips_approved_only = true\n[audit]\nenabled = false\n",
               NAME ":4: algorithms.fips_approved_only = true requires audit.enabled = true");
}

TEST(test_fips_requires_no_weak_algorithms)
{
    struct config cfg;

    EXPECT_ERR("[algorithms]\nfips_approved_only = true\nallow_weak_rsa = true\n",
               NAME ":3: algorithms.fips_approved_only = true requires "
                    "algorithms.allow_weak_rsa = false");
    EXPECT_ERR("[algorithms]\nallow_sha1_signing = true\n\nfips_approved_only = true\n",
               NAME ":4:", "requires algorithms.allow_sha1_signing = false");
    parse_ok(&cfg, "[algorithms]\nfips_approved_only = true\nallow_weak_rsa = false\n");
    assert_true(cfg.fips_approved_only);
    config_free(&cfg);
    parse_ok(&cfg, "[algorithms]\nallow_weak_rsa = true\nallow_sha1_signing = true\n");
    assert_true(cfg.allow_weak_rsa);
    assert_true(cfg.allow_sha1_signing);
    config_free(&cfg);
}

/* ---- strings with rules ------------------------------------------------- */

TEST(test_label_rules)
{
    struct config cfg;

    parse_ok(&cfg, "[token]\nlabel = \"12345678901234567890123456789012\"\n");
    assert_string_equal(cfg.label, "12345678901234567890123456789012");
    config_free(&cfg);
    EXPECT_ERR("[token]\nlabel = \"123456789012345678901234567890123\"\n",
               NAME ":2: token.label = \"123456789012345678901234567890123\": must be 1 to 32 "
                    "printable ASCII characters (0x20-0x7E)");
    EXPECT_ERR("[token]\nlabel = \"\"\n", NAME ":2: token.label = \"\": must be 1 to 32");
    EXPECT_ERR("[token]\nlabel = \"bell\\u0007\"\n", NAME ":2: token.label = \"bell\\u0007\"");
    EXPECT_ERR("[token]\nlabel = \"caf\xC3\xA9\"\n", NAME ":2: token.label", "printable ASCII");
}

TEST(test_serial_rules)
{
    struct config cfg;

    parse_ok(&cfg, "[token]\nserial_number = \"ABCDEF0123456789\"\n");
    assert_string_equal(cfg.serial_number, "ABCDEF0123456789");
    config_free(&cfg);
    EXPECT_ERR("[token]\nserial_number = \"ABCDEF01234567890\"\n", NAME ":2: token.serial_number",
               "must be 1 to 16 printable ASCII");
    EXPECT_ERR("[token]\nserial_number = ''\n", NAME ":2: token.serial_number");
}

TEST(test_log_level_values)
{
    static const char *const names[] = {"all", "crypto", "auth", "admin", "none"};
    char text[128];
    struct config cfg;
    int i;

    for (i = 0; i < 5; i++) {
        snprintf(text, sizeof(text), "[audit]\nlog_level = \"%s\"\n", names[i]);
        parse_ok(&cfg, text);
        assert_int_equal(cfg.audit_log_level, i);
        assert_string_equal(config_log_level_name(cfg.audit_log_level), names[i]);
        config_free(&cfg);
    }
    EXPECT_ERR("[audit]\nlog_level = \"debug\"\n",
               NAME ":2: audit.log_level = \"debug\": must be one of \"all\", \"crypto\", "
                    "\"auth\", \"admin\", \"none\"");
    EXPECT_ERR("[audit]\nlog_level = \"ALL\"\n", NAME ":2: audit.log_level");
}

TEST(test_crypto_backend)
{
    struct config cfg;

    parse_ok(&cfg, "[algorithms]\ncrypto_backend = \"openssl\"\n");
    config_free(&cfg);
    EXPECT_ERR("[algorithms]\ncrypto_backend = \"rustcrypto\"\n",
               NAME ":2: algorithms.crypto_backend = \"rustcrypto\": must be \"openssl\"");
}

TEST(test_bind_rules)
{
    struct config cfg;

    parse_ok(&cfg, "[daemon]\nbind = \"[::1]:5696\"\nbind_unix = \"/run/craton/hsm.sock\"\n");
    assert_string_equal(cfg.daemon.bind, "[::1]:5696");
    assert_string_equal(cfg.daemon.bind_unix, "/run/craton/hsm.sock");
    config_free(&cfg);
    EXPECT_ERR("[daemon]\nbind = \"localhost\"\n", NAME ":2: daemon.bind = \"localhost\": "
                                                        "must be HOST:PORT");
    EXPECT_ERR("[daemon]\nbind = \":5696\"\n", NAME ":2: daemon.bind");
    EXPECT_ERR("[daemon]\nbind = \"h:0\"\n", NAME ":2: daemon.bind", "1 to 65535");
    EXPECT_ERR("[daemon]\nbind = \"h:65536\"\n", NAME ":2: daemon.bind");
    EXPECT_ERR("[daemon]\nbind_unix = \"\"\n", NAME ":2: daemon.bind_unix");
}

/* ---- paths -------------------------------------------------------------- */

TEST(test_path_rules_rejected)
{
    static const char *const bad[] = {
        "\"\"",         "\"/etc/craton\"", "\"//server/share\"", "'\\\\server\\share'", "'\\abs'",
        "\"../store\"", "\"a/../b\"",      "\"a/..\"",           "'a\\..\\b'",          "\"..\"",
        "\".git/x\"",   "\".SSH/keys\"",   "\"./.aws/creds\"",   "\".config\"",         "\".Env\"",
        "'.gnupg\\x'",  "\"a\\u0000b\"",
    };
    const char *keys[] = {"[token]\nstorage_path", "[audit]\nlog_path"};
    char text[256];
    size_t i, k;

    for (k = 0; k < 2; k++) {
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            snprintf(text, sizeof(text), "%s = %s\n", keys[k], bad[i]);
            EXPECT_ERR(text, NAME ":2: ", k == 0 ? "token.storage_path = " : "audit.log_path = ",
                       "must be a relative path inside the working or config directory "
                       "(no leading '/', no '..', no UNC, no NUL)");
        }
    }
    EXPECT_ERR("[token]\nstorage_path = \".GIT/x\"\n", "'.git' is a protected directory");
    EXPECT_ERR("[token]\nstorage_path = \"a/../b\"\n", "'..' component");
    EXPECT_ERR("[token]\nstorage_path = \"x\\u0000\"\n", "NUL byte");
}

TEST(test_path_rules_accepted)
{
    static const char *const good[] = {
        "store", "./store", "data/store", ".github/x", "a/.git", "..a/b", "a..", ".gitx", "a/./b",
    };
    char text[256];
    struct config cfg;
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(text, sizeof(text), "[token]\nstorage_path = \"%s\"\n", good[i]);
        parse_ok(&cfg, text);
        assert_string_equal(cfg.storage_path, good[i]);
        config_free(&cfg);
    }
}

TEST(test_path_resolution)
{
    static const char text[] = "[token]\nstorage_path = \"data/store\"\n"
                               "[daemon]\ntls_cert = \"certs/server.pem\"\n"
                               "tls_key = \"/etc/craton/key.pem\"\n";
    char err[CONFIG_ERR_MAX];
    struct config cfg;

    assert_int_equal(parse_text(&cfg, text, "/etc/craton", err), 0);
    assert_string_equal(cfg.storage_path, "/etc/craton/data/store");
    assert_string_equal(cfg.audit_log_path, "/etc/craton/craton_hsm_audit.jsonl");
    assert_string_equal(cfg.daemon.tls_cert, "/etc/craton/certs/server.pem");
    assert_string_equal(cfg.daemon.tls_key, "/etc/craton/key.pem");
    assert_null(cfg.daemon.tls_client_ca);
    config_free(&cfg);

    assert_int_equal(parse_text(&cfg, text, ".", err), 0);
    assert_string_equal(cfg.storage_path, "data/store");
    assert_string_equal(cfg.daemon.tls_cert, "certs/server.pem");
    config_free(&cfg);

    assert_int_equal(parse_text(&cfg, text, "conf", err), 0);
    assert_string_equal(cfg.storage_path, "conf/data/store");
    config_free(&cfg);

    assert_int_equal(parse_text(&cfg, text, "/", err), 0);
    assert_string_equal(cfg.storage_path, "/data/store");
    config_free(&cfg);
}

TEST(test_tls_paths)
{
    struct config cfg;

    parse_ok(&cfg, "[daemon]\ntls_client_ca = \"/etc/ssl/ca.pem\"\n"
                   "tls_client_crl = \"crl.pem\"\n");
    assert_string_equal(cfg.daemon.tls_client_ca, "/etc/ssl/ca.pem");
    assert_string_equal(cfg.daemon.tls_client_crl, "crl.pem");
    config_free(&cfg);
    EXPECT_ERR("[daemon]\ntls_cert = \"/a\\u0000b\"\n", NAME ":2: daemon.tls_cert",
               "without NUL bytes");
    EXPECT_ERR("[daemon]\ntls_key = \"\"\n", NAME ":2: daemon.tls_key", "non-empty");
}

/* ---- config_format ------------------------------------------------------ */

TEST(test_format_round_trip)
{
    static const char text[] =
        "[token]\nlabel = \"Quote \\\" and \\\\ back\"\nstorage_path = \"st\\u00e9re\"\n"
        "max_sessions = 500\nmax_rw_sessions = 50\npersist_objects = false\nslot_count = 3\n"
        "serial_number = \"SN-42\"\n"
        "[security]\npin_min_length = 6\npin_max_length = 128\nmax_failed_logins = 5\n"
        "pbkdf2_iterations = 200000\n"
        "[audit]\nenabled = true\nlog_path = \"logs/audit.jsonl\"\nlog_level = \"admin\"\n"
        "[algorithms]\nallow_weak_rsa = false\nenable_pqc = false\nfips_approved_only = true\n"
        "craton_vendor_pqc = true\n"
        "[daemon]\nbind = \"0.0.0.0:7000\"\nbind_unix = \"/tmp/s.sock\"\n"
        "tls_cert = \"/c\\tert\"\ntls_key = \"k.pem\"\ntls_client_ca = \"ca.pem\"\n"
        "allow_unauthenticated_tls = true\nallow_insecure = true\nmax_random_length = 7\n"
        "max_digest_length = 8\nmax_login_attempts = 0\nlogin_cooldown_secs = 0\n"
        "max_connections = 9\nrequest_timeout_secs = 10\ncrl_refresh_secs = 0\n";
    struct config a, b;
    char err[CONFIG_ERR_MAX];
    size_t need;
    char *buf;

    parse_ok(&a, text);
    need = config_format(&a, NULL, 0);
    assert_true(need > 0);
    buf = malloc(need + 1);
    assert_non_null(buf);
    assert_int_equal(config_format(&a, buf, need + 1), need);
    assert_int_equal(strlen(buf), need);
    assert_non_null(strstr(buf, "[token]\nlabel = \"Quote \\\" and \\\\ back\"\n"));
    assert_non_null(strstr(buf, "\ncrypto_backend = \"openssl\"\n"));
    assert_non_null(strstr(buf, "# tls_client_crl is unset\n"));
    assert_non_null(strstr(buf, "# source: built-in defaults\n"));
    assert_int_equal(config_parse(&b, buf, need, "formatted", NULL, err), 0);
    assert_config_equal(&a, &b);
    assert_string_equal(b.label, "Quote \" and \\ back");
    assert_string_equal(b.storage_path, "st\xC3\xA9re");
    assert_string_equal(b.daemon.tls_cert, "/c\tert");
    assert_null(b.daemon.tls_client_crl);
    assert_int_equal(b.audit_log_level, CONFIG_LOG_ADMIN);
    assert_true(b.fips_approved_only && b.daemon.allow_insecure && !b.persist_objects);
    assert_int_equal(b.daemon.max_connections, 9);
    free(buf);
    config_free(&a);
    config_free(&b);
}

TEST(test_format_defaults_round_trip)
{
    struct config a, b;
    char buf[4096], small[10], err[CONFIG_ERR_MAX];
    size_t n;

    assert_int_equal(config_defaults(&a), 0);
    n = config_format(&a, buf, sizeof(buf));
    assert_true(n < sizeof(buf));
    assert_int_equal(config_format(&a, small, sizeof(small)), n);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_memory_equal(small, buf, sizeof(small) - 1);
    assert_int_equal(config_parse(&b, buf, n, "formatted", NULL, err), 0);
    assert_config_equal(&a, &b);
    assert_defaults(&b);
    config_free(&a);
    config_free(&b);
}

/* ---- config_load -------------------------------------------------------- */

static void test_load_explicit_path(void **state)
{
    struct tmpdir *td = *state;
    char err[CONFIG_ERR_MAX], want[PATH_MAX];
    const char *path = tmp_file(td, NULL,
                                "[token]\nlabel = \"From File\"\n"
                                "storage_path = \"store\"\n",
                                0600);
    struct config cfg;

    assert_int_equal(config_load(&cfg, path, err), 0);
    assert_string_equal(cfg.source_path, path);
    assert_string_equal(cfg.label, "From File");
    snprintf(want, sizeof(want), "%s/store", td->dir);
    assert_string_equal(cfg.storage_path, want);
    snprintf(want, sizeof(want), "%s/craton_hsm_audit.jsonl", td->dir);
    assert_string_equal(cfg.audit_log_path, want);
    config_free(&cfg);
}

static void test_load_env_var(void **state)
{
    struct tmpdir *td = *state;
    const char *path = tmp_file(td, NULL, "[token]\nslot_count = 7\n", 0600);
    char err[CONFIG_ERR_MAX];
    struct config cfg;

    assert_int_equal(setenv("CRATON_HSM_CONFIG", path, 1), 0);
    assert_int_equal(config_load(&cfg, NULL, err), 0);
    assert_int_equal(cfg.slot_count, 7);
    assert_string_equal(cfg.source_path, path);
    config_free(&cfg);
    /* An explicit argument wins over the environment. */
    path = tmp_file(td, NULL, "[token]\nslot_count = 9\n", 0600);
    assert_int_equal(config_load(&cfg, path, err), 0);
    assert_int_equal(cfg.slot_count, 9);
    config_free(&cfg);
}

static void test_load_env_var_missing_file(void **state)
{
    struct tmpdir *td = *state;
    char err[CONFIG_ERR_MAX], path[PATH_MAX], want[PATH_MAX + 128];
    struct config cfg;

    snprintf(path, sizeof(path), "%s/absent.toml", td->dir);
    assert_int_equal(setenv("CRATON_HSM_CONFIG", path, 1), 0);
    assert_int_equal(config_load(&cfg, NULL, err), -1);
    snprintf(want, sizeof(want),
             "%s: cannot open: No such file or directory (named by CRATON_HSM_CONFIG)", path);
    assert_string_equal(err, want);
    assert_null(cfg.storage_path);
}

TEST(test_load_explicit_missing_file)
{
    struct config cfg;
    char err[CONFIG_ERR_MAX];

    assert_int_equal(config_load(&cfg, "/nonexistent/craton/x.toml", err), -1);
    assert_string_equal(err, "/nonexistent/craton/x.toml: cannot open: No such file or "
                             "directory (named by the caller)");
    config_free(&cfg);
}

static void test_load_defaults_without_file(void **state)
{
    struct tmpdir *td = *state;
    char err[CONFIG_ERR_MAX];
    struct config cfg;

    assert_int_equal(chdir(td->dir), 0);
    assert_int_equal(setenv("CRATON_HSM_CONFIG", "", 1), 0); /* empty: ignored */
    assert_int_equal(config_load(&cfg, NULL, err), 0);
    assert_null(cfg.source_path);
    assert_defaults(&cfg);
    config_free(&cfg);
}

static void test_load_default_file_in_cwd(void **state)
{
    struct tmpdir *td = *state;
    char err[CONFIG_ERR_MAX];
    struct config cfg;

    tmp_file(td, "craton_hsm.toml", "[token]\nstorage_path = \"store\"\nslot_count = 3\n", 0600);
    assert_int_equal(chdir(td->dir), 0);
    assert_int_equal(config_load(&cfg, NULL, err), 0);
    assert_string_equal(cfg.source_path, "./craton_hsm.toml");
    assert_int_equal(cfg.slot_count, 3);
    assert_string_equal(cfg.storage_path, "store"); /* base dir ".": kept as written */
    config_free(&cfg);
}

static void test_load_group_writable_rejected(void **state)
{
    struct tmpdir *td = *state;
    char err[CONFIG_ERR_MAX], want[2 * PATH_MAX];
    const char *path = tmp_file(td, NULL, "[token]\n", 0620);
    struct config cfg;

    assert_int_equal(config_load(&cfg, path, err), -1);
    snprintf(want, sizeof(want), "%s: is writable by group or others; run: chmod go-w %s", path,
             path);
    assert_string_equal(err, want);
    path = tmp_file(td, NULL, "[token]\n", 0602);
    assert_int_equal(config_load(&cfg, path, err), -1);
    assert_non_null(strstr(err, "chmod go-w"));
    path = tmp_file(td, NULL, "[token]\n", 0644);
    assert_int_equal(config_load(&cfg, path, err), 0);
    config_free(&cfg);
}

static void test_load_symlink_rejected(void **state)
{
    struct tmpdir *td = *state;
    char err[CONFIG_ERR_MAX], link[PATH_MAX];
    const char *path = tmp_file(td, NULL, "[token]\n", 0600);
    struct config cfg;

    snprintf(link, sizeof(link), "%s/link.toml", td->dir);
    assert_int_equal(symlink(path, link), 0);
    tmp_track(td, link);
    assert_int_equal(config_load(&cfg, link, err), -1);
    assert_non_null(strstr(err, link));
    assert_non_null(strstr(err, "symbolic link"));
    assert_null(cfg.storage_path);
}

static void test_load_directory_rejected(void **state)
{
    struct tmpdir *td = *state;
    char err[CONFIG_ERR_MAX];
    struct config cfg;

    assert_int_equal(config_load(&cfg, td->dir, err), -1);
    assert_non_null(strstr(err, "not a regular file"));
}

static void test_load_too_large_rejected(void **state)
{
    struct tmpdir *td = *state;
    char err[CONFIG_ERR_MAX];
    char *big = malloc(TOML_MAX_INPUT + 2);
    struct config cfg;

    assert_non_null(big);
    memset(big, '\n', TOML_MAX_INPUT + 1);
    big[TOML_MAX_INPUT + 1] = '\0';
    assert_int_equal(config_load(&cfg, tmp_file(td, NULL, big, 0600), err), -1);
    assert_non_null(strstr(err, "file is too large (1048577 bytes; the limit is 1048576)"));
    big[TOML_MAX_INPUT] = '\0'; /* exactly at the limit: accepted */
    assert_int_equal(config_load(&cfg, tmp_file(td, NULL, big, 0600), err), 0);
    config_free(&cfg);
    free(big);
}

static void test_load_parse_error_names_file(void **state)
{
    struct tmpdir *td = *state;
    char err[CONFIG_ERR_MAX], want[PATH_MAX + 64];
    const char *path = tmp_file(td, NULL, "[token]\n\n\nslot_count = 0\n", 0600);
    struct config cfg;

    assert_int_equal(config_load(&cfg, path, err), -1);
    snprintf(want, sizeof(want), "%s:4: token.slot_count = 0: must be an integer from 1 to 256",
             path);
    assert_string_equal(err, want);
    assert_null(cfg.source_path);
    config_free(&cfg);
}

#define T(f)    cmocka_unit_test(f)
#define LOAD(f) cmocka_unit_test_setup_teardown(f, tmp_setup, tmp_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_empty_input_gives_defaults),
        T(test_comments_and_whitespace),
        T(test_crlf_line_endings),
        T(test_basic_string_escapes),
        T(test_invalid_escapes_rejected),
        T(test_literal_string),
        T(test_control_chars_rejected),
        T(test_invalid_utf8_rejected),
        T(test_unterminated_strings),
        T(test_integers),
        T(test_integer_syntax_errors),
        T(test_integer_overflow),
        T(test_booleans),
        T(test_unsupported_values),
        T(test_missing_value),
        T(test_toml_arrays),
        T(test_toml_array_errors),
        T(test_toml_string_limit),
        T(test_input_size_limit),
        T(test_nul_in_string_kept_with_length),
        T(test_duplicates),
        T(test_table_syntax_rejected),
        T(test_key_syntax_rejected),
        T(test_unknown_key),
        T(test_unknown_table),
        T(test_root_key_rejected),
        T(test_type_errors),
        T(test_ranges_token),
        T(test_ranges_security),
        T(test_ranges_daemon),
        T(test_rw_sessions_cross_rule),
        T(test_pin_length_cross_rule),
        T(test_fips_requires_audit),
        T(test_fips_requires_no_weak_algorithms),
        T(test_label_rules),
        T(test_serial_rules),
        T(test_log_level_values),
        T(test_crypto_backend),
        T(test_bind_rules),
        T(test_path_rules_rejected),
        T(test_path_rules_accepted),
        T(test_path_resolution),
        T(test_tls_paths),
        T(test_format_round_trip),
        T(test_format_defaults_round_trip),
        LOAD(test_load_explicit_path),
        LOAD(test_load_env_var),
        LOAD(test_load_env_var_missing_file),
        T(test_load_explicit_missing_file),
        LOAD(test_load_defaults_without_file),
        LOAD(test_load_default_file_in_cwd),
        LOAD(test_load_group_writable_rejected),
        LOAD(test_load_symlink_rejected),
        LOAD(test_load_directory_rejected),
        LOAD(test_load_too_large_rejected),
        LOAD(test_load_parse_error_names_file),
    };

    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
