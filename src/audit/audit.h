/*
 * The tamper-evident audit log: one JSON object per line, each line linked
 * to the previous one by prev_hash = hex SHA-256 (or HMAC-SHA256 with
 * [audit] hmac_key_file) of the previous line's bytes (without its '\n').
 * A background thread writes the lines in batches and fsyncs each batch,
 * so the crypto path never waits on the disk; the queue is bounded and a
 * full queue makes callers wait (nothing is dropped).  The chain continues
 * across restarts and across rotation by size.  Format: docs/security-model.md.
 *
 * Line layout (fixed field order; optional fields appear only when set):
 *   {"ts":"2026-11-27T17:45:51.123456Z","seq":12,"pid":4242,"event":"sign",
 *    "slot":0,"session":3,"user":"USER","mechanism":"CKM_ECDSA",
 *    "object":17,"class":"CKO_PRIVATE_KEY","key_id":"0a1b","label":"k1",
 *    "detail":"...","result":"CKR_OK","prev_hash":"<64 hex>"}
 */
#ifndef CRATON_AUDIT_H
#define CRATON_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/util.h"
#include "config/config.h"
#include "crypto/crypto.h"
#include "pkcs11/pkcs11.h"

#define AUDIT_ERR_MAX    512
#define AUDIT_NONE       (~(CK_ULONG)0) /* "field not set" for the CK_ULONG fields */
#define AUDIT_ID_MAX     64             /* bytes of CKA_ID kept (hex in the line) */
#define AUDIT_LABEL_MAX  64             /* bytes of CKA_LABEL kept */
#define AUDIT_DETAIL_MAX 200            /* bytes of detail kept */
#define AUDIT_QUEUE_MAX  8192           /* records queued before callers wait */
#define AUDIT_LINE_MAX   2048           /* bytes of one line, '\n' excluded */
#define AUDIT_HASH_HEX   64
/* prev_hash of the very first line of a log. */
#define AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* What an event is about; [audit] log_level keeps a prefix of this ladder:
 * none < admin < auth < crypto < all.
 *  SYSTEM  - initialise/finalise, self-tests, error state, config and audit
 *            problems: logged at every level but "none";
 *  ADMIN   - token init, PIN init/change, object create/copy/destroy/
 *            attribute change: admin and above;
 *  AUTH    - login (success and failure), logout, lockout: auth and above;
 *  CRYPTO  - key generation and every use of a key: crypto and above;
 *  SESSION - session open/close: all only. */
enum audit_class {
    AUDIT_SYSTEM,
    AUDIT_ADMIN,
    AUDIT_AUTH,
    AUDIT_CRYPTO,
    AUDIT_SESSION,
};

/* One event.  Set every CK_ULONG field that does not apply to AUDIT_NONE
 * (audit_event_init does); pointers may be NULL.  Everything is copied:
 * the caller's buffers are free to go when audit_log returns. */
struct audit_event {
    const char *event; /* static name: "login", "sign", ... */
    enum audit_class cls;
    CK_SLOT_ID slot;
    CK_SESSION_HANDLE session;
    CK_USER_TYPE user; /* "SO" / "USER" / "CONTEXT_SPECIFIC" */
    CK_MECHANISM_TYPE mechanism;
    CK_OBJECT_HANDLE object;
    CK_OBJECT_CLASS obj_class;
    const void *key_id; /* CKA_ID bytes (hex-encoded in the line) */
    size_t key_id_len;
    const void *label; /* CKA_LABEL bytes (JSON-escaped; invalid UTF-8 replaced) */
    size_t label_len;
    const char *detail; /* free text, NUL-terminated */
    CK_RV rv;           /* "result": the CKR name */
};

/* An event of cls named event, every other field unset, rv CKR_OK. */
void audit_event_init(struct audit_event *e, const char *event, enum audit_class cls);

struct audit;

/* Opens (creating 0600, refusing a symlink or a non-regular file) the log
 * cfg->audit_log_path, loads the HMAC key from cfg->audit_hmac_key_file
 * when set (a regular file, not readable by group or others, at least 32
 * bytes; kept in the secure heap), reads the last line to continue the
 * chain (a torn last line left by a crash is cut off and the cut recorded),
 * and starts the writer thread.  on_failure(arg, reason) is called once,
 * from the writer thread, if a write or fsync fails (the module then enters
 * its error state).  Returns CKR_OK and *out, or CKR_GENERAL_ERROR with a
 * message naming the path in err; CKR_HOST_MEMORY.  With audit disabled or
 * log_level "none" the caller simply does not open a log (NULL log). */
CK_RV audit_open(const struct config *cfg, struct crypto *c,
                 void (*on_failure)(void *arg, const char *reason), void *arg, struct audit **out,
                 char err[AUDIT_ERR_MAX]) WARN_UNUSED;

/* Whether an event of cls passes the configured level (false for a NULL
 * log): lets callers skip gathering fields nobody will read.  Lock-free. */
bool audit_wants(const struct audit *a, enum audit_class cls);

/* Queues e (no-op when !audit_wants).  Takes the timestamp and the place
 * in the chain now; waits only when the queue is full.  Thread-safe. */
void audit_log(struct audit *a, const struct audit_event *e);

/* audit_log, then waits until the record is on disk (fsynced): for rare
 * administrative events (token init, PIN change/reset). */
void audit_log_sync(struct audit *a, const struct audit_event *e);

/* Waits until every record queued so far is written and fsynced.
 * CKR_OK, or CKR_DEVICE_ERROR when the writer has failed. */
CK_RV audit_flush(struct audit *a);

/* Drains the queue, fsyncs, stops the writer and frees a (NULL-safe).
 * In a child forked while a was open, a is only a copy without its writer
 * thread: audit_close then just frees it (the parent's records are the
 * parent's), and no other function may be called on it; open a new log. */
void audit_close(struct audit *a);

/* Offline verification of a log and its rotated predecessors (path.N ..
 * path.1, then path), oldest first, with key (NULL for the plain SHA-256
 * chain).  Checks each line's shape, that seq increases by one, and that
 * prev_hash matches the previous line (the genesis value for seq 1).
 * Returns 0 when intact, 1 when tampered (then *r names the first bad file
 * and 1-based line and says why), -1 when a file cannot be read (r->why). */
struct audit_verify_result {
    unsigned long records;   /* lines checked */
    unsigned long first_seq; /* seq of the oldest line checked: 1, or more when
                              * older files were rotated away (the anchor) */
    unsigned long bad_line;  /* 0 when intact */
    char bad_file[4096];     /* file holding bad_line */
    char why[AUDIT_ERR_MAX]; /* human-readable reason */
};
int audit_verify(struct crypto *c, const char *path, const unsigned char *key, size_t key_len,
                 struct audit_verify_result *r) WARN_UNUSED;

/* Reads an HMAC key file with the rules of audit_open into a secure-heap
 * buffer (crypto_secret_free(*key, *len)).  CKR_OK or CKR_GENERAL_ERROR
 * with err. */
CK_RV audit_load_key(const char *path, unsigned char **key, size_t *len,
                     char err[AUDIT_ERR_MAX]) WARN_UNUSED;

/* ---- The chain's primitives, shared by the writer and the verifier ---- */

/* Hashes lines for the chain: SHA-256, or HMAC-SHA256 under key when key
 * is non-NULL, from c's library context.  One hasher per thread.  Returns
 * CKR_OK and *out, CKR_HOST_MEMORY, or CKR_DEVICE_ERROR when the algorithm
 * is unavailable.  The hasher keeps no pointer to key. */
struct audit_hasher;
CK_RV audit_hasher_new(struct crypto *c, const unsigned char *key, size_t key_len,
                       struct audit_hasher **out) WARN_UNUSED;

/* hex = the lowercase hex hash of line[len] (the line's bytes without its
 * '\n'): the prev_hash of the line after it.  CKR_OK or CKR_DEVICE_ERROR. */
CK_RV audit_hasher_hex(struct audit_hasher *h, const void *line, size_t len,
                       char hex[AUDIT_HASH_HEX + 1]) WARN_UNUSED;

/* Frees h (NULL-safe). */
void audit_hasher_free(struct audit_hasher *h);

/* Strictly checks that line[len] (no '\n') is a record in the layout above
 * (field order, value types, escaping, at most AUDIT_LINE_MAX bytes).
 * Returns NULL and sets *seq and *prev_hash (pointing at the 64 hex digits
 * inside line), or a static description of the first problem. */
const char *audit_line_parse(const char *line, size_t len, unsigned long *seq,
                             const char **prev_hash);

#endif
