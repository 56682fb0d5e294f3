/*
 * Configuration schema: the keys of craton_hsm.toml, their defaults, ranges,
 * cross-field rules and path rules, on top of the TOML reader in toml.c.
 *
 * Every field is described once in config_fields[]; parsing, the lists of
 * allowed keys in error messages and config_format() all walk that table.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "config/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "config/toml.h"

#define CONFIG_ENV_VAR       "CRATON_HSM_CONFIG"
#define CONFIG_DEFAULT_FILE  "./craton_hsm.toml"
#define CONFIG_PATH_MAX      4096 /* bytes of a resolved path */
#define CONFIG_BIND_MAX      255  /* bytes of daemon.bind */
#define CONFIG_UNIX_PATH_MAX 107  /* bytes of daemon.bind_unix (sun_path - 1) */
#define CONFIG_SHOW_MAX      48   /* bytes of a bad value quoted in a message */
#define CONFIG_WHY_MAX       128  /* bytes of the reason a path is refused */
#define CONFIG_SHOW_BUF      (2 + 6 * CONFIG_SHOW_MAX + 4) /* quotes, \uXXXX, "..." */

#define CONFIG_PIN_LENGTH_MIN            4
#define CONFIG_FAILED_LOGINS_MIN         3
#define CONFIG_FAILED_LOGINS_MAX         100
#define CONFIG_DAEMON_LENGTH_MAX         67108864UL
#define CONFIG_DAEMON_LOGIN_ATTEMPTS_MAX 1000
#define CONFIG_DAEMON_SECS_MAX           86400
#define CONFIG_DAEMON_CONNECTIONS_MAX    65536
#define CONFIG_DAEMON_TIMEOUT_MAX        3600

static const char config_path_rule[] =
    "must be a relative path inside the working or config directory "
    "(no leading '/', no '..', no UNC, no NUL)";

enum config_kind {
    CONFIG_K_BOOL,
    CONFIG_K_ULONG,
    CONFIG_K_TEXT,      /* char[max + 1], 1..max printable ASCII */
    CONFIG_K_DATA_PATH, /* char *, restricted relative path, resolved */
    CONFIG_K_TLS_PATH,  /* char *, optional, absolute or resolved */
    CONFIG_K_BIND,      /* char *, HOST:PORT */
    CONFIG_K_UNIX_PATH, /* char *, optional socket path, kept as written */
    CONFIG_K_LOG_LEVEL, /* enum config_log_level */
    CONFIG_K_BACKEND,   /* "openssl" only, not stored */
};

enum config_table_id {
    CONFIG_T_TOKEN,
    CONFIG_T_SECURITY,
    CONFIG_T_AUDIT,
    CONFIG_T_ALGORITHMS,
    CONFIG_T_DAEMON,
    CONFIG_T_COUNT,
};

static const char *const config_tables[CONFIG_T_COUNT] = {
    [CONFIG_T_TOKEN] = "token",   [CONFIG_T_SECURITY] = "security",
    [CONFIG_T_AUDIT] = "audit",   [CONFIG_T_ALGORITHMS] = "algorithms",
    [CONFIG_T_DAEMON] = "daemon",
};

enum config_field_id {
    /* [token] */
    CF_LABEL,
    CF_STORAGE_PATH,
    CF_MAX_SESSIONS,
    CF_MAX_RW_SESSIONS,
    CF_PERSIST_OBJECTS,
    CF_SLOT_COUNT,
    CF_SERIAL_NUMBER,
    /* [security] */
    CF_PIN_MIN_LENGTH,
    CF_PIN_MAX_LENGTH,
    CF_MAX_FAILED_LOGINS,
    CF_PBKDF2_ITERATIONS,
    CF_SECURE_HEAP_SIZE,
    /* [audit] */
    CF_AUDIT_ENABLED,
    CF_AUDIT_LOG_PATH,
    CF_AUDIT_LOG_LEVEL,
    CF_AUDIT_HMAC_KEY_FILE,
    CF_AUDIT_ROTATE_SIZE,
    CF_AUDIT_ROTATE_KEEP,
    /* [algorithms] */
    CF_ALLOW_WEAK_RSA,
    CF_ALLOW_SHA1_SIGNING,
    CF_ENABLE_PQC,
    CF_CRYPTO_BACKEND,
    CF_FIPS_APPROVED_ONLY,
    CF_CRATON_VENDOR_PQC,
    /* [daemon] */
    CF_D_BIND,
    CF_D_BIND_UNIX,
    CF_D_TLS_CERT,
    CF_D_TLS_KEY,
    CF_D_TLS_CLIENT_CA,
    CF_D_TLS_CLIENT_CRL,
    CF_D_ALLOW_UNAUTH_TLS,
    CF_D_ALLOW_INSECURE,
    CF_D_MAX_RANDOM_LENGTH,
    CF_D_MAX_DIGEST_LENGTH,
    CF_D_MAX_LOGIN_ATTEMPTS,
    CF_D_LOGIN_COOLDOWN_SECS,
    CF_D_MAX_CONNECTIONS,
    CF_D_REQUEST_TIMEOUT_SECS,
    CF_D_CRL_REFRESH_SECS,
    CF_COUNT,
};

struct config_field {
    enum config_table_id table;
    const char *key;
    enum config_kind kind;
    size_t offset;     /* into struct config */
    unsigned long min; /* CONFIG_K_ULONG: range; CONFIG_K_TEXT: byte limit in max */
    unsigned long max;
};

#define CONFIG_FIELD(tbl, k, kd, member, lo, hi)                                  \
    {                                                                             \
        CONFIG_T_##tbl, k, CONFIG_K_##kd, offsetof(struct config, member), lo, hi \
    }

static const struct config_field config_fields[CF_COUNT] = {
    [CF_LABEL] = CONFIG_FIELD(TOKEN, "label", TEXT, label, 1, CONFIG_LABEL_MAX),
    [CF_STORAGE_PATH] = CONFIG_FIELD(TOKEN, "storage_path", DATA_PATH, storage_path, 0, 0),
    [CF_MAX_SESSIONS] =
        CONFIG_FIELD(TOKEN, "max_sessions", ULONG, max_sessions, 1, CONFIG_MAX_SESSIONS_MAX),
    [CF_MAX_RW_SESSIONS] =
        CONFIG_FIELD(TOKEN, "max_rw_sessions", ULONG, max_rw_sessions, 1, CONFIG_MAX_SESSIONS_MAX),
    [CF_PERSIST_OBJECTS] = CONFIG_FIELD(TOKEN, "persist_objects", BOOL, persist_objects, 0, 0),
    [CF_SLOT_COUNT] =
        CONFIG_FIELD(TOKEN, "slot_count", ULONG, slot_count, 1, CONFIG_SLOT_COUNT_MAX),
    [CF_SERIAL_NUMBER] =
        CONFIG_FIELD(TOKEN, "serial_number", TEXT, serial_number, 1, CONFIG_SERIAL_MAX),
    [CF_PIN_MIN_LENGTH] = CONFIG_FIELD(SECURITY, "pin_min_length", ULONG, pin_min_length,
                                       CONFIG_PIN_LENGTH_MIN, CONFIG_PIN_LENGTH_MAX),
    [CF_PIN_MAX_LENGTH] = CONFIG_FIELD(SECURITY, "pin_max_length", ULONG, pin_max_length,
                                       CONFIG_PIN_LENGTH_MIN, CONFIG_PIN_LENGTH_MAX),
    [CF_MAX_FAILED_LOGINS] = CONFIG_FIELD(SECURITY, "max_failed_logins", ULONG, max_failed_logins,
                                          CONFIG_FAILED_LOGINS_MIN, CONFIG_FAILED_LOGINS_MAX),
    [CF_PBKDF2_ITERATIONS] = CONFIG_FIELD(SECURITY, "pbkdf2_iterations", ULONG, pbkdf2_iterations,
                                          CONFIG_PBKDF2_ITER_FLOOR, CONFIG_PBKDF2_ITER_MAX),
    [CF_SECURE_HEAP_SIZE] = CONFIG_FIELD(SECURITY, "secure_heap_size", ULONG, secure_heap_size,
                                         CONFIG_SECURE_HEAP_MIN, CONFIG_SECURE_HEAP_MAX),
    [CF_AUDIT_ENABLED] = CONFIG_FIELD(AUDIT, "enabled", BOOL, audit_enabled, 0, 0),
    [CF_AUDIT_LOG_PATH] = CONFIG_FIELD(AUDIT, "log_path", DATA_PATH, audit_log_path, 0, 0),
    [CF_AUDIT_LOG_LEVEL] = CONFIG_FIELD(AUDIT, "log_level", LOG_LEVEL, audit_log_level, 0, 0),
    [CF_AUDIT_HMAC_KEY_FILE] =
        CONFIG_FIELD(AUDIT, "hmac_key_file", TLS_PATH, audit_hmac_key_file, 0, 0),
    [CF_AUDIT_ROTATE_SIZE] = CONFIG_FIELD(AUDIT, "rotate_size", ULONG, audit_rotate_size,
                                          CONFIG_AUDIT_ROTATE_MIN, CONFIG_AUDIT_ROTATE_MAX),
    [CF_AUDIT_ROTATE_KEEP] =
        CONFIG_FIELD(AUDIT, "rotate_keep", ULONG, audit_rotate_keep, 1, CONFIG_AUDIT_KEEP_MAX),
    [CF_ALLOW_WEAK_RSA] = CONFIG_FIELD(ALGORITHMS, "allow_weak_rsa", BOOL, allow_weak_rsa, 0, 0),
    [CF_ALLOW_SHA1_SIGNING] =
        CONFIG_FIELD(ALGORITHMS, "allow_sha1_signing", BOOL, allow_sha1_signing, 0, 0),
    [CF_ENABLE_PQC] = CONFIG_FIELD(ALGORITHMS, "enable_pqc", BOOL, enable_pqc, 0, 0),
    [CF_CRYPTO_BACKEND] = {CONFIG_T_ALGORITHMS, "crypto_backend", CONFIG_K_BACKEND, 0, 0, 0},
    [CF_FIPS_APPROVED_ONLY] =
        CONFIG_FIELD(ALGORITHMS, "fips_approved_only", BOOL, fips_approved_only, 0, 0),
    [CF_CRATON_VENDOR_PQC] =
        CONFIG_FIELD(ALGORITHMS, "craton_vendor_pqc", BOOL, craton_vendor_pqc, 0, 0),
    [CF_D_BIND] = CONFIG_FIELD(DAEMON, "bind", BIND, daemon.bind, 0, 0),
    [CF_D_BIND_UNIX] = CONFIG_FIELD(DAEMON, "bind_unix", UNIX_PATH, daemon.bind_unix, 0, 0),
    [CF_D_TLS_CERT] = CONFIG_FIELD(DAEMON, "tls_cert", TLS_PATH, daemon.tls_cert, 0, 0),
    [CF_D_TLS_KEY] = CONFIG_FIELD(DAEMON, "tls_key", TLS_PATH, daemon.tls_key, 0, 0),
    [CF_D_TLS_CLIENT_CA] =
        CONFIG_FIELD(DAEMON, "tls_client_ca", TLS_PATH, daemon.tls_client_ca, 0, 0),
    [CF_D_TLS_CLIENT_CRL] =
        CONFIG_FIELD(DAEMON, "tls_client_crl", TLS_PATH, daemon.tls_client_crl, 0, 0),
    [CF_D_ALLOW_UNAUTH_TLS] = CONFIG_FIELD(DAEMON, "allow_unauthenticated_tls", BOOL,
                                           daemon.allow_unauthenticated_tls, 0, 0),
    [CF_D_ALLOW_INSECURE] =
        CONFIG_FIELD(DAEMON, "allow_insecure", BOOL, daemon.allow_insecure, 0, 0),
    [CF_D_MAX_RANDOM_LENGTH] = CONFIG_FIELD(DAEMON, "max_random_length", ULONG,
                                            daemon.max_random_length, 1, CONFIG_DAEMON_LENGTH_MAX),
    [CF_D_MAX_DIGEST_LENGTH] = CONFIG_FIELD(DAEMON, "max_digest_length", ULONG,
                                            daemon.max_digest_length, 1, CONFIG_DAEMON_LENGTH_MAX),
    [CF_D_MAX_LOGIN_ATTEMPTS] =
        CONFIG_FIELD(DAEMON, "max_login_attempts", ULONG, daemon.max_login_attempts, 0,
                     CONFIG_DAEMON_LOGIN_ATTEMPTS_MAX),
    [CF_D_LOGIN_COOLDOWN_SECS] =
        CONFIG_FIELD(DAEMON, "login_cooldown_secs", ULONG, daemon.login_cooldown_secs, 0,
                     CONFIG_DAEMON_SECS_MAX),
    [CF_D_MAX_CONNECTIONS] = CONFIG_FIELD(DAEMON, "max_connections", ULONG, daemon.max_connections,
                                          1, CONFIG_DAEMON_CONNECTIONS_MAX),
    [CF_D_REQUEST_TIMEOUT_SECS] =
        CONFIG_FIELD(DAEMON, "request_timeout_secs", ULONG, daemon.request_timeout_secs, 1,
                     CONFIG_DAEMON_TIMEOUT_MAX),
    [CF_D_CRL_REFRESH_SECS] = CONFIG_FIELD(DAEMON, "crl_refresh_secs", ULONG,
                                           daemon.crl_refresh_secs, 0, CONFIG_DAEMON_SECS_MAX),
};

static const char *const config_log_levels[] = {
    [CONFIG_LOG_ALL] = "all",     [CONFIG_LOG_CRYPTO] = "crypto", [CONFIG_LOG_AUTH] = "auth",
    [CONFIG_LOG_ADMIN] = "admin", [CONFIG_LOG_NONE] = "none",
};

#define CONFIG_NLOG_LEVELS (sizeof(config_log_levels) / sizeof(config_log_levels[0]))

static const char *const config_protected_dirs[] = {
    ".git", ".ssh", ".gnupg", ".aws", ".config", ".env",
};

/* State of one config_parse call. */
struct config_ctx {
    const char *name;
    const char *base_dir;
    char *err;
    unsigned long lines[CF_COUNT]; /* line of each key set by the file; 0 = default */
};

static int config_fail(struct config_ctx *C, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int config_fail(struct config_ctx *C, unsigned long line, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (line > 0)
        n = snprintf(C->err, CONFIG_ERR_MAX, "%s:%lu: ", C->name, line);
    else
        n = snprintf(C->err, CONFIG_ERR_MAX, "%s: ", C->name);
    if (n >= 0 && n < CONFIG_ERR_MAX) {
        va_start(ap, fmt);
        vsnprintf(C->err + n, CONFIG_ERR_MAX - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Renders s[0..len) as a quoted, escaped, shortened string for a message. */
static const char *config_show(const char *s, size_t len, char buf[CONFIG_SHOW_BUF])
{
    size_t i, n = 0, shown = len;

    if (shown > CONFIG_SHOW_MAX) {
        shown = CONFIG_SHOW_MAX;
        while (shown > 0 && ((unsigned char)s[shown] & 0xC0) == 0x80)
            shown--; /* do not split a UTF-8 sequence */
    }
    buf[n++] = '"';
    for (i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)c;
        } else if (c < 0x20 || c == 0x7F) {
            n += (size_t)snprintf(buf + n, CONFIG_SHOW_BUF - n, "\\u%04X", c);
        } else {
            buf[n++] = (char)c;
        }
    }
    buf[n++] = '"';
    if (shown < len) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

static const char *config_key_name(const struct config_field *f, char buf[64])
{
    snprintf(buf, 64, "%s.%s", config_tables[f->table], f->key);
    return buf;
}

static void *config_slot(struct config *cfg, const struct config_field *f)
{
    return (char *)cfg + f->offset;
}

static const void *config_cslot(const struct config *cfg, const struct config_field *f)
{
    return (const char *)cfg + f->offset;
}

/* ---- defaults and freeing ----------------------------------------------- */

void config_free(struct config *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->source_path);
    free(cfg->storage_path);
    free(cfg->audit_log_path);
    free(cfg->audit_hmac_key_file);
    free(cfg->daemon.bind);
    free(cfg->daemon.bind_unix);
    free(cfg->daemon.tls_cert);
    free(cfg->daemon.tls_key);
    free(cfg->daemon.tls_client_ca);
    free(cfg->daemon.tls_client_crl);
    memset(cfg, 0, sizeof(*cfg));
}

int config_defaults(struct config *cfg)
{
    static const char storage[] = "craton_hsm_store";
    static const char audit_log[] = "craton_hsm_audit.jsonl";
    static const char bind[] = "127.0.0.1:5696";

    if (cfg == NULL)
        return -1;
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->label, sizeof(cfg->label), "%s", "Craton HSM Token");
    snprintf(cfg->serial_number, sizeof(cfg->serial_number), "%s", "0000000000000001");
    cfg->max_sessions = 100;
    cfg->max_rw_sessions = 10;
    cfg->persist_objects = true;
    cfg->slot_count = 1;
    cfg->pin_min_length = 8;
    cfg->pin_max_length = 64;
    cfg->max_failed_logins = 10;
    cfg->pbkdf2_iterations = 600000;
    cfg->audit_enabled = true;
    cfg->audit_log_level = CONFIG_LOG_ALL;
    cfg->audit_rotate_size = 104857600;
    cfg->audit_rotate_keep = 5;
    cfg->secure_heap_size = 1048576;
    cfg->allow_weak_rsa = false;
    cfg->allow_sha1_signing = false;
    cfg->enable_pqc = true;
    cfg->fips_approved_only = false;
    cfg->craton_vendor_pqc = false;
    cfg->daemon.allow_unauthenticated_tls = false;
    cfg->daemon.allow_insecure = false;
    cfg->daemon.max_random_length = 1048576;
    cfg->daemon.max_digest_length = 16777216;
    cfg->daemon.max_login_attempts = 5;
    cfg->daemon.login_cooldown_secs = 60;
    cfg->daemon.max_connections = 256;
    cfg->daemon.request_timeout_secs = 30;
    cfg->daemon.crl_refresh_secs = 300;
    cfg->storage_path = toml_memdup(storage, sizeof(storage) - 1);
    cfg->audit_log_path = toml_memdup(audit_log, sizeof(audit_log) - 1);
    cfg->daemon.bind = toml_memdup(bind, sizeof(bind) - 1);
    if (cfg->storage_path == NULL || cfg->audit_log_path == NULL || cfg->daemon.bind == NULL) {
        config_free(cfg);
        return -1;
    }
    return 0;
}

const char *config_log_level_name(enum config_log_level level)
{
    if ((size_t)level < CONFIG_NLOG_LEVELS)
        return config_log_levels[level];
    return "unknown";
}

/* ---- value checks ------------------------------------------------------- */

static bool config_is_sep(char c)
{
    return c == '/' || c == '\\';
}

static bool config_ieq(const char *a, size_t alen, const char *b)
{
    size_t i;

    if (alen != strlen(b))
        return false;
    for (i = 0; i < alen; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

/* Returns NULL if s[0..len) is an acceptable data path, else the reason. */
static const char *config_data_path_problem(const char *s, size_t len, char buf[CONFIG_WHY_MAX])
{
    size_t i = 0, start, clen, k;
    bool first = true;

    if (len == 0)
        return "empty path";
    if (memchr(s, '\0', len) != NULL)
        return "NUL byte in path";
    if (len >= 2 && config_is_sep(s[0]) && config_is_sep(s[1]))
        return "UNC path";
    if (config_is_sep(s[0]))
        return "absolute path";
    while (i < len) {
        start = i;
        while (i < len && !config_is_sep(s[i]))
            i++;
        clen = i - start;
        if (clen == 2 && s[start] == '.' && s[start + 1] == '.')
            return "'..' component";
        if (first && clen > 0 && !(clen == 1 && s[start] == '.')) {
            first = false;
            for (k = 0; k < sizeof(config_protected_dirs) / sizeof(config_protected_dirs[0]); k++) {
                if (config_ieq(s + start, clen, config_protected_dirs[k])) {
                    snprintf(buf, CONFIG_WHY_MAX,
                             "'%s' is a protected directory (.git, .ssh, "
                             ".gnupg, .aws, .config, .env)",
                             config_protected_dirs[k]);
                    return buf;
                }
            }
        }
        i++; /* separator */
    }
    return NULL;
}

static bool config_printable(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7E)
            return false;
    }
    return true;
}

/* HOST:PORT with a non-empty host and a port from 1 to 65535. */
static bool config_bind_ok(const char *s, size_t len)
{
    size_t colon, i;
    unsigned long port = 0;

    if (len == 0 || len > CONFIG_BIND_MAX || !config_printable(s, len))
        return false;
    for (colon = len; colon > 0 && s[colon - 1] != ':'; colon--)
        ;
    if (colon < 2 || colon == len || len - colon > 5)
        return false;
    for (i = colon; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        port = port * 10 + (unsigned long)(s[i] - '0');
    }
    return port >= 1 && port <= 65535;
}

/* Applies one key/value of the file to cfg. */
static int config_apply(struct config_ctx *C, struct config *cfg, enum config_field_id id,
                        const struct toml_keyval *kv)
{
    const struct config_field *f = &config_fields[id];
    const struct toml_value *v = &kv->value;
    const char *s = NULL;
    size_t len = 0, i;
    char kn[64], show[CONFIG_SHOW_BUF], why[CONFIG_WHY_MAX];
    const char *problem;
    char **sp;
    enum toml_type want;
    const char *want_text;

    switch (f->kind) {
    case CONFIG_K_BOOL:
        want = TOML_BOOLEAN;
        want_text = "a boolean (true or false)";
        break;
    case CONFIG_K_ULONG:
        want = TOML_INTEGER;
        want_text = "an integer";
        break;
    default:
        want = TOML_STRING;
        want_text = "a string";
        break;
    }
    config_key_name(f, kn);
    if (v->type != want)
        return config_fail(C, kv->line, "%s: expected %s, got %s", kn, want_text,
                           toml_type_name(v->type));
    C->lines[id] = kv->line;
    if (want == TOML_STRING) {
        s = v->u.str.ptr;
        len = v->u.str.len;
    }

    switch (f->kind) {
    case CONFIG_K_BOOL:
        *(bool *)config_slot(cfg, f) = v->u.boolean;
        return 0;
    case CONFIG_K_ULONG:
        if (v->u.integer < (int64_t)f->min || v->u.integer > (int64_t)f->max)
            return config_fail(C, kv->line, "%s = %lld: must be an integer from %lu to %lu", kn,
                               (long long)v->u.integer, f->min, f->max);
        *(unsigned long *)config_slot(cfg, f) = (unsigned long)v->u.integer;
        return 0;
    case CONFIG_K_TEXT:
        if (len < f->min || len > f->max || !config_printable(s, len))
            return config_fail(C, kv->line,
                               "%s = %s: must be %lu to %lu printable ASCII characters "
                               "(0x20-0x7E)",
                               kn, config_show(s, len, show), f->min, f->max);
        memcpy(config_slot(cfg, f), s, len);
        ((char *)config_slot(cfg, f))[len] = '\0';
        return 0;
    case CONFIG_K_LOG_LEVEL:
        for (i = 0; i < CONFIG_NLOG_LEVELS; i++) {
            if (strlen(config_log_levels[i]) == len && memcmp(config_log_levels[i], s, len) == 0) {
                *(enum config_log_level *)config_slot(cfg, f) = (enum config_log_level)i;
                return 0;
            }
        }
        return config_fail(C, kv->line,
                           "%s = %s: must be one of \"all\", \"crypto\", "
                           "\"auth\", \"admin\", \"none\"",
                           kn, config_show(s, len, show));
    case CONFIG_K_BACKEND:
        if (len == 7 && memcmp(s, "openssl", 7) == 0)
            return 0;
        return config_fail(C, kv->line, "%s = %s: must be \"openssl\" (the only backend)", kn,
                           config_show(s, len, show));
    case CONFIG_K_DATA_PATH:
        problem = config_data_path_problem(s, len, why);
        if (problem != NULL)
            return config_fail(C, kv->line, "%s = %s: %s; it %s", kn, config_show(s, len, show),
                               problem, config_path_rule);
        break;
    case CONFIG_K_TLS_PATH:
        if (len == 0 || memchr(s, '\0', len) != NULL)
            return config_fail(C, kv->line,
                               "%s = %s: must be a non-empty path without NUL "
                               "bytes (omit the key to leave it unset)",
                               kn, config_show(s, len, show));
        if (len > CONFIG_PATH_MAX)
            return config_fail(C, kv->line, "%s: path is too long (limit %d bytes)", kn,
                               CONFIG_PATH_MAX);
        break;
    case CONFIG_K_BIND:
        if (!config_bind_ok(s, len))
            return config_fail(C, kv->line,
                               "%s = %s: must be HOST:PORT with a port from 1 "
                               "to 65535, e.g. \"127.0.0.1:5696\" (printable ASCII, at most "
                               "%d bytes)",
                               kn, config_show(s, len, show), CONFIG_BIND_MAX);
        break;
    case CONFIG_K_UNIX_PATH:
        if (len == 0 || len > CONFIG_UNIX_PATH_MAX || memchr(s, '\0', len) != NULL)
            return config_fail(C, kv->line,
                               "%s = %s: must be a socket path of 1 to %d bytes "
                               "without NUL bytes (omit the key to leave it unset)",
                               kn, config_show(s, len, show), CONFIG_UNIX_PATH_MAX);
        break;
    }

    /* The remaining kinds store a string. */
    sp = (char **)config_slot(cfg, f);
    free(*sp);
    *sp = toml_memdup(s, len);
    if (*sp == NULL)
        return config_fail(C, kv->line, "out of memory");
    return 0;
}

static int config_walk_table(struct config_ctx *C, struct config *cfg, const struct toml_table *t)
{
    char allowed[CONFIG_ERR_MAX];
    size_t ti, k, n;
    int id;

    for (ti = 0; ti < CONFIG_T_COUNT; ti++) {
        if (strcmp(config_tables[ti], t->name) == 0)
            break;
    }
    if (ti == CONFIG_T_COUNT)
        return config_fail(C, t->line,
                           "unknown table [%s]; allowed tables: [token], "
                           "[security], [audit], [algorithms], [daemon]",
                           t->name);
    for (k = 0; k < t->nkeys; k++) {
        for (id = 0; id < CF_COUNT; id++) {
            if (config_fields[id].table == (enum config_table_id)ti &&
                strcmp(config_fields[id].key, t->keys[k].key) == 0)
                break;
        }
        if (id == CF_COUNT) {
            n = 0;
            allowed[0] = '\0';
            for (id = 0; id < CF_COUNT; id++) {
                if (config_fields[id].table != (enum config_table_id)ti)
                    continue;
                n += (size_t)snprintf(allowed + n, n < sizeof(allowed) ? sizeof(allowed) - n : 0,
                                      "%s%s", n > 0 ? ", " : "", config_fields[id].key);
                if (n >= sizeof(allowed))
                    n = sizeof(allowed);
            }
            return config_fail(C, t->keys[k].line,
                               "unknown key '%s.%s'; allowed keys in "
                               "[%s]: %s",
                               t->name, t->keys[k].key, t->name, allowed);
        }
        if (config_apply(C, cfg, (enum config_field_id)id, &t->keys[k]) < 0)
            return -1;
    }
    return 0;
}

static unsigned long config_later(const struct config_ctx *C, enum config_field_id a,
                                  enum config_field_id b)
{
    return C->lines[a] > C->lines[b] ? C->lines[a] : C->lines[b];
}

static int config_check_fips(struct config_ctx *C, const struct config *cfg,
                             enum config_field_id id, bool want)
{
    char kn[64];

    if (*(const bool *)config_cslot(cfg, &config_fields[id]) == want)
        return 0;
    return config_fail(C, config_later(C, CF_FIPS_APPROVED_ONLY, id),
                       "algorithms.fips_approved_only = true requires %s = %s",
                       config_key_name(&config_fields[id], kn), want ? "true" : "false");
}

static int config_cross_check(struct config_ctx *C, const struct config *cfg)
{
    if (cfg->max_rw_sessions > cfg->max_sessions)
        return config_fail(C, config_later(C, CF_MAX_RW_SESSIONS, CF_MAX_SESSIONS),
                           "token.max_rw_sessions = %lu: must be an integer from 1 to "
                           "token.max_sessions (%lu)",
                           cfg->max_rw_sessions, cfg->max_sessions);
    if (cfg->pin_min_length > cfg->pin_max_length)
        return config_fail(C, config_later(C, CF_PIN_MIN_LENGTH, CF_PIN_MAX_LENGTH),
                           "security.pin_min_length = %lu: must be an integer from %d to "
                           "security.pin_max_length (%lu)",
                           cfg->pin_min_length, CONFIG_PIN_LENGTH_MIN, cfg->pin_max_length);
    if ((cfg->secure_heap_size & (cfg->secure_heap_size - 1)) != 0)
        return config_fail(C, C->lines[CF_SECURE_HEAP_SIZE],
                           "security.secure_heap_size = %lu: must be a power of two from %lu "
                           "to %lu bytes",
                           cfg->secure_heap_size, (unsigned long)CONFIG_SECURE_HEAP_MIN,
                           (unsigned long)CONFIG_SECURE_HEAP_MAX);
    if (cfg->fips_approved_only) {
        if (config_check_fips(C, cfg, CF_AUDIT_ENABLED, true) < 0 ||
            config_check_fips(C, cfg, CF_ALLOW_WEAK_RSA, false) < 0 ||
            config_check_fips(C, cfg, CF_ALLOW_SHA1_SIGNING, false) < 0)
            return -1;
    }
    return 0;
}

/* Resolves a relative path against base_dir (kept as written when base_dir
 * is NULL, "" or "."). */
static int config_resolve(struct config_ctx *C, struct config *cfg, enum config_field_id id)
{
    const struct config_field *f = &config_fields[id];
    char **sp = (char **)config_slot(cfg, f);
    const char *base = C->base_dir;
    size_t blen, plen;
    char *joined;
    char kn[64];
    bool sep;

    if (*sp == NULL || (*sp)[0] == '/' || base == NULL || base[0] == '\0' || strcmp(base, ".") == 0)
        return 0;
    blen = strlen(base);
    plen = strlen(*sp);
    sep = base[blen - 1] != '/';
    if (blen + (sep ? 1 : 0) + plen > CONFIG_PATH_MAX)
        return config_fail(C, C->lines[id],
                           "%s: path resolved against %s is too long "
                           "(limit %d bytes)",
                           config_key_name(f, kn), base, CONFIG_PATH_MAX);
    joined = malloc(blen + 1 + plen + 1);
    if (joined == NULL)
        return config_fail(C, C->lines[id], "out of memory");
    memcpy(joined, base, blen);
    if (sep)
        joined[blen++] = '/';
    memcpy(joined + blen, *sp, plen + 1);
    free(*sp);
    *sp = joined;
    return 0;
}

int config_parse(struct config *cfg, const char *text, size_t len, const char *name,
                 const char *base_dir, char err[CONFIG_ERR_MAX])
{
    static const enum config_field_id paths[] = {
        CF_STORAGE_PATH, CF_AUDIT_LOG_PATH,  CF_AUDIT_HMAC_KEY_FILE, CF_D_TLS_CERT,
        CF_D_TLS_KEY,    CF_D_TLS_CLIENT_CA, CF_D_TLS_CLIENT_CRL,
    };
    struct config_ctx C;
    struct config tmp;
    struct toml_doc doc;
    const struct toml_table *root;
    size_t i;
    int rc = -1;

    memset(&C, 0, sizeof(C));
    memset(&tmp, 0, sizeof(tmp));
    memset(&doc, 0, sizeof(doc));
    C.name = name != NULL ? name : "(config)";
    C.base_dir = base_dir;
    C.err = err;
    if (err == NULL)
        return -1;
    err[0] = '\0';
    if (cfg == NULL) {
        config_fail(&C, 0, "no configuration to fill");
        return -1;
    }
    memset(cfg, 0, sizeof(*cfg));
    if (config_defaults(&tmp) < 0) {
        config_fail(&C, 0, "out of memory");
        goto out;
    }
    if (toml_parse(&doc, text, len, C.name, err, CONFIG_ERR_MAX) < 0)
        goto out;
    root = &doc.tables[0];
    if (root->nkeys > 0) {
        config_fail(&C, root->keys[0].line,
                    "unknown key '%s'; keys belong in a table: "
                    "[token], [security], [audit], [algorithms], [daemon]",
                    root->keys[0].key);
        goto out;
    }
    for (i = 1; i < doc.ntables; i++) {
        if (config_walk_table(&C, &tmp, &doc.tables[i]) < 0)
            goto out;
    }
    if (config_cross_check(&C, &tmp) < 0)
        goto out;
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        if (config_resolve(&C, &tmp, paths[i]) < 0)
            goto out;
    }
    *cfg = tmp;
    memset(&tmp, 0, sizeof(tmp));
    rc = 0;
out:
    toml_free(&doc);
    config_free(&tmp);
    return rc;
}

/* ---- loading ------------------------------------------------------------ */

static const char *config_strerror(int e, char *buf, size_t len)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    return strerror_r(e, buf, len);
#else
    if (strerror_r(e, buf, len) != 0)
        snprintf(buf, len, "error %d", e);
    return buf;
#endif
}

/* The directory part of path: "." when there is none. */
static char *config_dirname(const char *path)
{
    size_t n = strlen(path);

    while (n > 0 && path[n - 1] != '/')
        n--; /* drop the file name */
    while (n > 1 && path[n - 1] == '/')
        n--; /* drop the separators, keep a lone "/" */
    if (n == 0)
        return toml_memdup(".", 1);
    return toml_memdup(path, n);
}

/* Reads the whole regular file behind fd (at most TOML_MAX_INPUT bytes). */
static int config_read_fd(int fd, const char *path, char **out, size_t *outlen,
                          char err[CONFIG_ERR_MAX])
{
    struct stat st;
    char ebuf[128];
    char *buf = NULL;
    size_t cap, len = 0;
    ssize_t r;
    int rc = -1;

    if (fstat(fd, &st) != 0) {
        snprintf(err, CONFIG_ERR_MAX, "%s: cannot stat: %s", path,
                 config_strerror(errno, ebuf, sizeof(ebuf)));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, CONFIG_ERR_MAX, "%s: not a regular file", path);
        goto out;
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        snprintf(err, CONFIG_ERR_MAX, "%s: is writable by group or others; run: chmod go-w %s",
                 path, path);
        goto out;
    }
    if (st.st_size < 0 || st.st_size > TOML_MAX_INPUT) {
        snprintf(err, CONFIG_ERR_MAX, "%s: file is too large (%lld bytes; the limit is %d)", path,
                 (long long)st.st_size, TOML_MAX_INPUT);
        goto out;
    }
    cap = (size_t)st.st_size + 1; /* one spare byte detects a file that grew */
    buf = malloc(cap);
    if (buf == NULL) {
        snprintf(err, CONFIG_ERR_MAX, "%s: out of memory", path);
        goto out;
    }
    while (len < cap) {
        r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, CONFIG_ERR_MAX, "%s: cannot read: %s", path,
                     config_strerror(errno, ebuf, sizeof(ebuf)));
            goto out;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    if (len == cap) {
        snprintf(err, CONFIG_ERR_MAX, "%s: file changed while being read", path);
        goto out;
    }
    *out = buf;
    *outlen = len;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    return rc;
}

int config_load(struct config *cfg, const char *path, char err[CONFIG_ERR_MAX])
{
    const char *named_by = NULL; /* set when the file was named explicitly */
    const char *env;
    char *text = NULL, *base = NULL, *source = NULL;
    size_t len = 0;
    char ebuf[128];
    int fd = -1, rc = -1, e;

    if (err == NULL)
        return -1;
    err[0] = '\0';
    if (cfg == NULL) {
        snprintf(err, CONFIG_ERR_MAX, "config_load: no configuration to fill");
        return -1;
    }
    memset(cfg, 0, sizeof(*cfg));
    if (path != NULL) {
        named_by = "named by the caller";
    } else if ((env = getenv(CONFIG_ENV_VAR)) != NULL && env[0] != '\0') {
        path = env;
        named_by = "named by " CONFIG_ENV_VAR;
    } else {
        path = CONFIG_DEFAULT_FILE;
    }
    if (path[0] == '\0') {
        snprintf(err, CONFIG_ERR_MAX, "(config): empty configuration file name (%s)", named_by);
        goto out;
    }
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        e = errno;
        if (e == ENOENT && named_by == NULL) {
            if (config_defaults(cfg) < 0) {
                snprintf(err, CONFIG_ERR_MAX, "%s: out of memory", path);
                goto out;
            }
            rc = 0;
            goto out;
        }
        if (e == ELOOP)
            snprintf(err, CONFIG_ERR_MAX,
                     "%s: cannot open: it is a symbolic link, which is "
                     "not allowed; name the file itself%s%s%s",
                     path, named_by ? " (" : "", named_by ? named_by : "", named_by ? ")" : "");
        else
            snprintf(err, CONFIG_ERR_MAX, "%s: cannot open: %s%s%s%s", path,
                     config_strerror(e, ebuf, sizeof(ebuf)), named_by ? " (" : "",
                     named_by ? named_by : "", named_by ? ")" : "");
        goto out;
    }
    if (config_read_fd(fd, path, &text, &len, err) < 0)
        goto out;
    base = config_dirname(path);
    source = toml_memdup(path, strlen(path));
    if (base == NULL || source == NULL) {
        snprintf(err, CONFIG_ERR_MAX, "%s: out of memory", path);
        goto out;
    }
    if (config_parse(cfg, text, len, path, base, err) < 0)
        goto out;
    cfg->source_path = source;
    source = NULL;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(text);
    free(base);
    free(source);
    if (rc != 0)
        config_free(cfg);
    return rc;
}

/* ---- formatting --------------------------------------------------------- */

struct config_out {
    char *buf;
    size_t cap;
    size_t len; /* bytes needed so far */
};

static void config_out_printf(struct config_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void config_out_printf(struct config_out *o, const char *fmt, ...)
{
    va_list ap;
    char *dst = NULL;
    size_t room = 0;
    int n;

    if (o->len < o->cap) {
        dst = o->buf + o->len;
        room = o->cap - o->len;
    }
    va_start(ap, fmt);
    n = vsnprintf(dst, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

/* Writes s as a TOML basic string. */
static void config_out_string(struct config_out *o, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    config_out_printf(o, "\"");
    for (; *p != '\0'; p++) {
        switch (*p) {
        case '"':
            config_out_printf(o, "\\\"");
            break;
        case '\\':
            config_out_printf(o, "\\\\");
            break;
        case '\b':
            config_out_printf(o, "\\b");
            break;
        case '\t':
            config_out_printf(o, "\\t");
            break;
        case '\n':
            config_out_printf(o, "\\n");
            break;
        case '\f':
            config_out_printf(o, "\\f");
            break;
        case '\r':
            config_out_printf(o, "\\r");
            break;
        default:
            if (*p < 0x20 || *p == 0x7F)
                config_out_printf(o, "\\u%04X", *p);
            else
                config_out_printf(o, "%c", *p);
            break;
        }
    }
    config_out_printf(o, "\"");
}

size_t config_format(const struct config *cfg, char *buf, size_t buflen)
{
    struct config_out o = {buf, buflen, 0};
    const struct config_field *f;
    const void *slot;
    int id, table = -1;

    if (buf != NULL && buflen > 0)
        buf[0] = '\0';
    else
        o.cap = 0;
    if (cfg == NULL)
        return 0;
    config_out_printf(&o, "# Craton HSM effective configuration\n# source: ");
    if (cfg->source_path != NULL)
        config_out_string(&o, cfg->source_path);
    else
        config_out_printf(&o, "built-in defaults");
    config_out_printf(&o, "\n");
    for (id = 0; id < CF_COUNT; id++) {
        f = &config_fields[id];
        slot = config_cslot(cfg, f);
        if ((int)f->table != table) {
            table = (int)f->table;
            config_out_printf(&o, "\n[%s]\n", config_tables[table]);
        }
        switch (f->kind) {
        case CONFIG_K_BOOL:
            config_out_printf(&o, "%s = %s\n", f->key, *(const bool *)slot ? "true" : "false");
            break;
        case CONFIG_K_ULONG:
            config_out_printf(&o, "%s = %lu\n", f->key, *(const unsigned long *)slot);
            break;
        case CONFIG_K_TEXT:
            config_out_printf(&o, "%s = ", f->key);
            config_out_string(&o, (const char *)slot);
            config_out_printf(&o, "\n");
            break;
        case CONFIG_K_LOG_LEVEL:
            config_out_printf(&o, "%s = \"%s\"\n", f->key,
                              config_log_level_name(*(const enum config_log_level *)slot));
            break;
        case CONFIG_K_BACKEND:
            config_out_printf(&o, "%s = \"openssl\"\n", f->key);
            break;
        case CONFIG_K_DATA_PATH:
        case CONFIG_K_TLS_PATH:
        case CONFIG_K_BIND:
        case CONFIG_K_UNIX_PATH:
            if (*(char *const *)slot == NULL) {
                config_out_printf(&o, "# %s is unset\n", f->key);
                break;
            }
            config_out_printf(&o, "%s = ", f->key);
            config_out_string(&o, *(char *const *)slot);
            config_out_printf(&o, "\n");
            break;
        }
    }
    return o.len;
}
