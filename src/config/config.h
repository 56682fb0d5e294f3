/*
 * Configuration: craton_hsm.toml, its schema and its validation.
 *
 * The file is found through CRATON_HSM_CONFIG, else ./craton_hsm.toml; no
 * file at all means secure defaults.  Relative paths inside the file resolve
 * against the directory holding the file.  Every error names the file, the
 * line, the key and what is allowed, e.g.
 *   "conf/craton_hsm.toml:7: token.slot_count = 0: must be an integer from 1 to 256"
 */
#ifndef CRATON_CONFIG_H
#define CRATON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_ERR_MAX 512

#define CONFIG_LABEL_MAX         32 /* token.label bytes */
#define CONFIG_SERIAL_MAX        16 /* token.serial_number bytes */
#define CONFIG_SLOT_COUNT_MAX    256
#define CONFIG_MAX_SESSIONS_MAX  10000
#define CONFIG_PIN_LENGTH_MAX    256
#define CONFIG_PBKDF2_ITER_FLOOR 100000UL
#define CONFIG_PBKDF2_ITER_MAX   10000000UL
#define CONFIG_SECURE_HEAP_MIN   65536UL /* security.secure_heap_size, a power of two */
#define CONFIG_SECURE_HEAP_MAX   1073741824UL
#define CONFIG_AUDIT_ROTATE_MIN  65536UL /* audit.rotate_size bytes */
#define CONFIG_AUDIT_ROTATE_MAX  1099511627776UL
#define CONFIG_AUDIT_KEEP_MAX    100 /* audit.rotate_keep files */

enum config_log_level {
    CONFIG_LOG_ALL,
    CONFIG_LOG_CRYPTO,
    CONFIG_LOG_AUTH,
    CONFIG_LOG_ADMIN,
    CONFIG_LOG_NONE,
};

struct config_daemon {
    char *bind;      /* "127.0.0.1:5696" */
    char *bind_unix; /* NULL when unset */
    char *tls_cert;  /* NULL when unset; resolved like other paths */
    char *tls_key;
    char *tls_client_ca;
    char *tls_client_crl;
    bool allow_unauthenticated_tls;     /* false */
    bool allow_insecure;                /* false */
    unsigned long max_random_length;    /* 1048576, 1..67108864 */
    unsigned long max_digest_length;    /* 16777216, 1..67108864 */
    unsigned long max_login_attempts;   /* 5, 0..1000 (0 disables) */
    unsigned long login_cooldown_secs;  /* 60, 0..86400 */
    unsigned long max_connections;      /* 256, 1..65536 */
    unsigned long request_timeout_secs; /* 30, 1..3600 */
    unsigned long crl_refresh_secs;     /* 300, 0..86400 (0 disables) */
};

struct config {
    /* Where the values came from: the config file path, or NULL for defaults. */
    char *source_path;

    /* [token] */
    char label[CONFIG_LABEL_MAX + 1];          /* "Craton HSM Token"; 1..32 printable ASCII */
    char serial_number[CONFIG_SERIAL_MAX + 1]; /* "0000000000000001"; 1..16 printable ASCII */
    char *storage_path;            /* "craton_hsm_store", resolved against the config dir */
    unsigned long max_sessions;    /* 100, 1..10000 */
    unsigned long max_rw_sessions; /* 10, 1..max_sessions */
    bool persist_objects;          /* true */
    unsigned long slot_count;      /* 1, 1..256 */

    /* [security] */
    unsigned long pin_min_length;    /* 8, 4..pin_max_length */
    unsigned long pin_max_length;    /* 64, pin_min_length..256 */
    unsigned long max_failed_logins; /* 10, 3..100 */
    unsigned long pbkdf2_iterations; /* 600000, 100000..10000000 */
    unsigned long secure_heap_size;  /* 1048576: OpenSSL secure heap bytes, power of two */

    /* [audit] */
    bool audit_enabled;                    /* true; must be true if fips_approved_only */
    char *audit_log_path;                  /* "craton_hsm_audit.jsonl", resolved */
    enum config_log_level audit_log_level; /* "all" | "crypto" | "auth" | "admin" | "none" */
    char *audit_hmac_key_file;             /* NULL: plain SHA-256 chain; else HMAC key file */
    unsigned long audit_rotate_size;       /* 104857600: rotate when the file reaches this */
    unsigned long audit_rotate_keep;       /* 5: rotated files kept (.1 newest .. .N) */

    /* [algorithms] */
    bool allow_weak_rsa;     /* false; must be false if fips_approved_only */
    bool allow_sha1_signing; /* false; must be false if fips_approved_only */
    bool enable_pqc;         /* true */
    bool fips_approved_only; /* false */
    bool craton_vendor_pqc;  /* false: list the reference's vendor PQC numbers too */
    /* crypto_backend: only "openssl" is accepted (not stored). */

    /* [daemon]: parsed and validated here, used by the daemon. */
    struct config_daemon daemon;
};

/* Fills cfg with the secure defaults (paths relative to the current
 * directory).  Returns 0, or -1 when out of memory.  Free with config_free. */
int config_defaults(struct config *cfg);

/* Loads the configuration the module uses: path if non-NULL, else
 * $CRATON_HSM_CONFIG if set and non-empty, else ./craton_hsm.toml if it
 * exists, else the defaults.  A path that was named explicitly (argument or
 * environment) must exist.  The file must be a regular file (not a symlink)
 * and not writable by group or others.
 * Returns 0 and fills cfg (free with config_free), or -1 and writes one
 * human-readable line (no trailing newline) into err[CONFIG_ERR_MAX]; cfg is
 * then left empty (config_free is still safe). */
int config_load(struct config *cfg, const char *path, char err[CONFIG_ERR_MAX]);

/* Parses and validates text (len bytes, need not be NUL-terminated) as if
 * read from a file named name whose directory is base_dir (used to resolve
 * relative paths; NULL means the current directory, paths stay as written).
 * Same return contract as config_load.  Used by config_load, tests and the
 * fuzzer. */
int config_parse(struct config *cfg, const char *text, size_t len, const char *name,
                 const char *base_dir, char err[CONFIG_ERR_MAX]);

/* Frees what cfg owns and zeroes it.  NULL-safe, idempotent. */
void config_free(struct config *cfg);

/* "all", "crypto", ... */
const char *config_log_level_name(enum config_log_level level);

/* Writes the effective values as TOML (every key, defaults included) to buf;
 * returns the length it needed (like snprintf). For `craton-admin config check`. */
size_t config_format(const struct config *cfg, char *buf, size_t buflen);

#endif
