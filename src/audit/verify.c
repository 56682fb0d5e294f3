/*
 * The audit chain's primitives (line hashing, the strict line parser), the
 * offline verifier and the HMAC key loader.  The parser is written by hand
 * for the one fixed layout of audit.h: the module does not depend on a
 * JSON library, and a verifier should accept exactly what the writer
 * produces, nothing more.
 */
#include "audit/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#define KEY_MIN         32
#define KEY_MAX         4096
#define VERIFY_CHUNK    65536
#define VERIFY_FILE_MAX 100000 /* rotated files looked for: path.1 .. path.N */

/* ---- hashing ------------------------------------------------------------ */

struct audit_hasher {
    EVP_MD_CTX *md; /* plain chain */
    const EVP_MD *sha256;
    EVP_MAC_CTX *mac; /* keyed chain: initialised with the key once */
};

CK_RV audit_hasher_new(struct crypto *c, const unsigned char *key, size_t key_len,
                       struct audit_hasher **out)
{
    CK_RV rv = CKR_HOST_MEMORY;
    struct audit_hasher *h = calloc(1, sizeof(*h));

    *out = NULL;
    if (h == NULL)
        goto out;
    if (key != NULL) {
        EVP_MAC *mac = (EVP_MAC *)crypto_mac(c, "HMAC");
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
            OSSL_PARAM_construct_end(),
        };
        rv = CKR_DEVICE_ERROR;
        if (mac == NULL)
            goto out;
        rv = CKR_HOST_MEMORY;
        if ((h->mac = EVP_MAC_CTX_new(mac)) == NULL)
            goto out;
        rv = CKR_DEVICE_ERROR;
        if (EVP_MAC_init(h->mac, key, key_len, params) != 1)
            goto out;
    } else {
        rv = CKR_DEVICE_ERROR;
        if ((h->sha256 = (const EVP_MD *)crypto_md(c, "SHA256")) == NULL)
            goto out;
        rv = CKR_HOST_MEMORY;
        if ((h->md = EVP_MD_CTX_new()) == NULL)
            goto out;
    }
    *out = h;
    h = NULL;
    rv = CKR_OK;
out:
    audit_hasher_free(h);
    return rv;
}

static void hex_encode(const unsigned char *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

CK_RV audit_hasher_hex(struct audit_hasher *h, const void *line, size_t len,
                       char hex[AUDIT_HASH_HEX + 1])
{
    CK_RV rv = CKR_DEVICE_ERROR;
    unsigned char md[AUDIT_HASH_HEX / 2];
    unsigned int mdlen = 0;
    size_t maclen = 0;

    if (h->mac != NULL) {
        /* A NULL key re-initialises HMAC with the key given at creation. */
        if (EVP_MAC_init(h->mac, NULL, 0, NULL) != 1 || EVP_MAC_update(h->mac, line, len) != 1 ||
            EVP_MAC_final(h->mac, md, &maclen, sizeof(md)) != 1 || maclen != sizeof(md))
            goto out;
    } else {
        if (EVP_DigestInit_ex2(h->md, h->sha256, NULL) != 1 ||
            EVP_DigestUpdate(h->md, line, len) != 1 || EVP_DigestFinal_ex(h->md, md, &mdlen) != 1 ||
            mdlen != sizeof(md))
            goto out;
    }
    hex_encode(md, sizeof(md), hex);
    rv = CKR_OK;
out:
    return rv;
}

void audit_hasher_free(struct audit_hasher *h)
{
    if (h == NULL)
        return;
    EVP_MD_CTX_free(h->md);
    EVP_MAC_CTX_free(h->mac);
    free(h);
}

/* ---- the strict line parser --------------------------------------------- */

enum value_kind {
    V_TS,  /* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" */
    V_NUM, /* unsigned decimal, no leading zero */
    V_STR, /* JSON string with our escapes only */
    V_STR_OR_NUM /* "user": a name or a number */,
    V_HEX,  /* "key_id": lowercase hex, even length */
    V_HASH, /* "prev_hash": 64 lowercase hex digits */
};

static const struct field {
    const char *key; /* with its quotes and colon */
    enum value_kind kind;
    bool required;
} fields[] = {
    {"\"ts\":", V_TS, true},
    {"\"seq\":", V_NUM, true},
    {"\"pid\":", V_NUM, true},
    {"\"event\":", V_STR, true},
    {"\"slot\":", V_NUM, false},
    {"\"session\":", V_NUM, false},
    {"\"user\":", V_STR_OR_NUM, false},
    {"\"mechanism\":", V_STR, false},
    {"\"object\":", V_NUM, false},
    {"\"class\":", V_STR, false},
    {"\"key_id\":", V_HEX, false},
    {"\"label\":", V_STR, false},
    {"\"detail\":", V_STR, false},
    {"\"result\":", V_STR, true},
    {"\"prev_hash\":", V_HASH, true},
};
#define FIELD_SEQ       1
#define FIELD_PREV_HASH (ARRAY_SIZE(fields) - 1)

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_lower_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f');
}

static bool is_hex(char c)
{
    return is_lower_hex(c) || (c >= 'A' && c <= 'F');
}

/* Each parser consumes one value at s[*i..end) and returns false when the
 * bytes there are not a value of its kind. */
static bool parse_num(const char *s, size_t *i, size_t end, unsigned long *v)
{
    size_t j = *i;
    unsigned long n = 0;
    if (j >= end || !is_digit(s[j]) || (s[j] == '0' && j + 1 < end && is_digit(s[j + 1])))
        return false;
    for (; j < end && is_digit(s[j]); j++) {
        unsigned d = (unsigned)(s[j] - '0');
        if (n > (ULONG_MAX - d) / 10)
            return false;
        n = n * 10 + d;
    }
    *i = j;
    *v = n;
    return true;
}

static bool parse_str(const char *s, size_t *i, size_t end)
{
    size_t j = *i;
    if (j >= end || s[j] != '"')
        return false;
    for (j++; j < end; j++) {
        unsigned char c = (unsigned char)s[j];
        if (c == '"') {
            *i = j + 1;
            return true;
        }
        if (c < 0x20 || c == 0x7f)
            return false;
        if (c != '\\')
            continue;
        if (j + 1 >= end)
            return false;
        if (s[j + 1] == '"' || s[j + 1] == '\\') {
            j++;
            continue;
        }
        if (s[j + 1] != 'u' || j + 5 >= end || !is_hex(s[j + 2]) || !is_hex(s[j + 3]) ||
            !is_hex(s[j + 4]) || !is_hex(s[j + 5]))
            return false;
        j += 5;
    }
    return false;
}

/* A quoted run of lowercase hex digits; exact = 0 for any even length. */
static bool parse_hex(const char *s, size_t *i, size_t end, size_t exact)
{
    size_t j = *i, n = 0;
    if (j >= end || s[j] != '"')
        return false;
    for (j++; j < end && is_lower_hex(s[j]); j++)
        n++;
    if (j >= end || s[j] != '"' || (exact != 0 ? n != exact : n % 2 != 0))
        return false;
    *i = j + 1;
    return true;
}

static bool parse_ts(const char *s, size_t *i, size_t end)
{
    static const char pattern[] = "\"dddd-dd-ddTdd:dd:dd.ddddddZ\"";
    size_t n = sizeof(pattern) - 1;
    if (end - *i < n)
        return false;
    for (size_t k = 0; k < n; k++) {
        if (pattern[k] == 'd' ? !is_digit(s[*i + k]) : s[*i + k] != pattern[k])
            return false;
    }
    *i += n;
    return true;
}

const char *audit_line_parse(const char *line, size_t len, unsigned long *seq,
                             const char **prev_hash)
{
    const char *why = NULL;
    size_t i = 0;
    unsigned long num = 0;

    *seq = 0;
    *prev_hash = NULL;
    if (len > AUDIT_LINE_MAX) {
        why = "longer than any record";
        goto out;
    }
    if (len == 0 || line[0] != '{') {
        why = "does not start with '{'";
        goto out;
    }
    i = 1;
    for (size_t f = 0; f < ARRAY_SIZE(fields); f++) {
        size_t klen = strlen(fields[f].key);
        bool present = len - i > klen && memcmp(line + i, fields[f].key, klen) == 0;
        if (!present) {
            if (fields[f].required) {
                why = f == 0 ? "does not start with {\"ts\":" : "a required field is missing";
                goto out;
            }
            continue;
        }
        i += klen;
        bool ok = false;
        switch (fields[f].kind) {
        case V_TS:
            ok = parse_ts(line, &i, len);
            break;
        case V_NUM:
            ok = parse_num(line, &i, len, &num);
            if (ok && f == FIELD_SEQ) {
                ok = num > 0;
                *seq = num;
            }
            break;
        case V_STR:
            ok = parse_str(line, &i, len);
            break;
        case V_STR_OR_NUM:
            ok = parse_str(line, &i, len) || parse_num(line, &i, len, &num);
            break;
        case V_HEX:
            ok = parse_hex(line, &i, len, 0);
            break;
        case V_HASH:
            *prev_hash = line + i + 1;
            ok = parse_hex(line, &i, len, AUDIT_HASH_HEX);
            break;
        }
        if (!ok) {
            why = "a field's value is malformed";
            goto out;
        }
        char sep = f == FIELD_PREV_HASH ? '}' : ',';
        if (i >= len || line[i] != sep) {
            why = f == FIELD_PREV_HASH ? "does not end with the prev_hash field"
                                       : "unexpected or misplaced field";
            goto out;
        }
        i++;
    }
    if (i != len)
        why = "trailing bytes after the record";
out:
    if (why != NULL) {
        *seq = 0;
        *prev_hash = NULL;
    }
    return why;
}

/* ---- reading a file line by line ---------------------------------------- */

struct reader {
    int fd;
    char chunk[VERIFY_CHUNK];
    size_t pos, end;
    bool eof;
    char line[AUDIT_LINE_MAX + 1];
    size_t len;    /* bytes of line kept */
    bool too_long; /* the line was longer than AUDIT_LINE_MAX: not kept whole */
};

enum read_result { READ_LINE, READ_TORN, READ_EOF, READ_ERROR };

/* The next line into r->line (without '\n'): READ_LINE, READ_TORN for a
 * last line without '\n', READ_EOF, or READ_ERROR (errno). */
static enum read_result read_line(struct reader *r)
{
    r->len = 0;
    r->too_long = false;
    for (;;) {
        if (r->pos == r->end) {
            if (r->eof)
                return r->len > 0 || r->too_long ? READ_TORN : READ_EOF;
            ssize_t n = read(r->fd, r->chunk, sizeof(r->chunk));
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return READ_ERROR;
            r->pos = 0;
            r->end = (size_t)n;
            r->eof = n == 0;
            continue;
        }
        char *nl = memchr(r->chunk + r->pos, '\n', r->end - r->pos);
        size_t take = (nl != NULL ? (size_t)(nl - r->chunk) : r->end) - r->pos;
        size_t room = AUDIT_LINE_MAX - r->len;
        if (take > room) {
            r->too_long = true;
            take = room;
        }
        memcpy(r->line + r->len, r->chunk + r->pos, take);
        r->len += take;
        if (nl != NULL) {
            r->pos = (size_t)(nl - r->chunk) + 1;
            return READ_LINE;
        }
        r->pos = r->end;
    }
}

/* ---- the verifier -------------------------------------------------------- */

struct chain {
    struct audit_hasher *h;
    bool started;                  /* a line was checked already */
    unsigned long seq;             /* of the last line checked */
    char hash[AUDIT_HASH_HEX + 1]; /* of the last line checked */
    char prev_file[4096];          /* file holding the last line checked */
};

static void set_why(struct audit_verify_result *r, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* r->why = the message (cut to fit). */
static void set_why(struct audit_verify_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof(r->why), fmt, ap);
    va_end(ap);
}

static int bad(struct audit_verify_result *r, const char *file, unsigned long line, const char *fmt,
               ...) PRINTF_LIKE(4, 5);

static int bad(struct audit_verify_result *r, const char *file, unsigned long line, const char *fmt,
               ...)
{
    va_list ap;
    int n = snprintf(r->why, sizeof(r->why), "line %lu: ", line);
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(r->why))
        vsnprintf(r->why + n, sizeof(r->why) - (size_t)n, fmt, ap);
    va_end(ap);
    r->bad_line = line;
    snprintf(r->bad_file, sizeof(r->bad_file), "%s", file);
    return 1;
}

/* Checks one line against the chain so far: 0, or 1 with *r filled. */
static int check_line(struct chain *ch, const char *file, unsigned long lineno, const char *line,
                      size_t len, struct audit_verify_result *r)
{
    unsigned long seq;
    const char *prev = NULL;
    const char *why = audit_line_parse(line, len, &seq, &prev);

    if (why != NULL)
        return bad(r, file, lineno, "not an audit record (%s)", why);
    if (!ch->started) {
        /* The oldest line kept: seq 1 starts from the genesis value; a
         * later seq is the anchor left after older files were removed. */
        if (seq == 1 && memcmp(prev, AUDIT_GENESIS, AUDIT_HASH_HEX) != 0)
            return bad(r, file, lineno,
                       "seq 1 but prev_hash is not the genesis value (line changed)");
        r->first_seq = seq;
    } else {
        if (seq != ch->seq + 1)
            return bad(r, file, lineno, "seq %lu follows seq %lu (lines missing or reordered)", seq,
                       ch->seq);
        if (memcmp(prev, ch->hash, AUDIT_HASH_HEX) != 0) {
            if (lineno > 1)
                return bad(r, file, lineno,
                           "prev_hash does not match line %lu (line %lu was changed, or lines "
                           "were removed or inserted here)",
                           lineno - 1, lineno - 1);
            return bad(r, file, lineno,
                       "prev_hash does not match the last line of %s (that line was changed, or "
                       "lines were removed or inserted)",
                       ch->prev_file);
        }
    }
    if (audit_hasher_hex(ch->h, line, len, ch->hash) != CKR_OK) {
        snprintf(r->why, sizeof(r->why), "cannot compute SHA-256");
        return -1;
    }
    ch->seq = seq;
    ch->started = true;
    r->records++;
    return 0;
}

/* Checks every line of file: 0 intact so far, 1 tampered, -1 unreadable. */
static int verify_file(struct chain *ch, const char *file, struct audit_verify_result *r)
{
    int ret = -1;
    unsigned long lineno = 0;
    struct reader *rd = calloc(1, sizeof(*rd));

    if (rd == NULL) {
        snprintf(r->why, sizeof(r->why), "out of memory");
        goto out;
    }
    rd->fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (rd->fd < 0) {
        set_why(r, "%s: %s", file, strerror(errno));
        goto out;
    }
    for (;;) {
        enum read_result res = read_line(rd);
        if (res == READ_EOF)
            break;
        if (res == READ_ERROR) {
            set_why(r, "%s: %s", file, strerror(errno));
            goto out;
        }
        lineno++;
        if (res == READ_TORN) {
            ret = bad(r, file, lineno,
                      "incomplete last line (no newline at the end: a torn write or a cut file)");
            goto out;
        }
        if (rd->too_long) {
            ret = bad(r, file, lineno, "not an audit record (longer than any record)");
            goto out;
        }
        ret = check_line(ch, file, lineno, rd->line, rd->len, r);
        if (ret != 0)
            goto out;
    }
    snprintf(ch->prev_file, sizeof(ch->prev_file), "%s", file);
    ret = 0;
out:
    if (rd != NULL && rd->fd >= 0)
        close(rd->fd);
    free(rd);
    return ret;
}

int audit_verify(struct crypto *c, const char *path, const unsigned char *key, size_t key_len,
                 struct audit_verify_result *r)
{
    int ret = -1;
    struct chain ch;
    char file[PATH_MAX];
    struct stat st;
    unsigned long n = 0;

    memset(r, 0, sizeof(*r));
    memset(&ch, 0, sizeof(ch));
    if (audit_hasher_new(c, key, key_len, &ch.h) != CKR_OK) {
        snprintf(r->why, sizeof(r->why), "cannot set up %s", key ? "HMAC-SHA256" : "SHA-256");
        goto out;
    }
    if (strlen(path) + 8 >= sizeof(file)) {
        snprintf(r->why, sizeof(r->why), "audit log path too long (%zu bytes)", strlen(path));
        goto out;
    }
    /* The rotated files path.1 (newest) .. path.N, as long as consecutive. */
    while (n < VERIFY_FILE_MAX) {
        snprintf(file, sizeof(file), "%s.%lu", path, n + 1);
        if (stat(file, &st) != 0)
            break;
        n++;
    }
    for (unsigned long k = n + 1; k-- > 0;) {
        if (k > 0)
            snprintf(file, sizeof(file), "%s.%lu", path, k);
        else
            snprintf(file, sizeof(file), "%s", path);
        ret = verify_file(&ch, file, r);
        if (ret != 0)
            goto out;
    }
    ret = 0;
out:
    audit_hasher_free(ch.h);
    crypto_wipe(ch.hash, sizeof(ch.hash));
    return ret;
}

/* ---- the HMAC key -------------------------------------------------------- */

CK_RV audit_load_key(const char *path, unsigned char **key, size_t *len, char err[AUDIT_ERR_MAX])
{
    CK_RV rv = CKR_GENERAL_ERROR;
    struct stat st, fst;
    int fd = -1;
    unsigned char *buf = NULL;
    size_t size = 0, got = 0;

    *key = NULL;
    *len = 0;
    err[0] = '\0';
    if (lstat(path, &st) != 0) {
        snprintf(err, AUDIT_ERR_MAX, "audit HMAC key file %s: %s", path, strerror(errno));
        goto out;
    }
    if (S_ISLNK(st.st_mode)) {
        snprintf(err, AUDIT_ERR_MAX,
                 "audit HMAC key file %s is a symbolic link: name the file itself", path);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, AUDIT_ERR_MAX, "audit HMAC key file %s is not a regular file", path);
        goto out;
    }
    if ((st.st_mode & 077) != 0) {
        snprintf(err, AUDIT_ERR_MAX,
                 "audit HMAC key file %s is accessible by group or others (mode %04o): "
                 "chmod 600 it",
                 path, (unsigned)(st.st_mode & 07777));
        goto out;
    }
    if (st.st_size < KEY_MIN || st.st_size > KEY_MAX) {
        snprintf(err, AUDIT_ERR_MAX,
                 "audit HMAC key file %s holds %lld bytes: it must hold %d to %d random bytes",
                 path, (long long)st.st_size, KEY_MIN, KEY_MAX);
        goto out;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (fd < 0 || fstat(fd, &fst) != 0) {
        snprintf(err, AUDIT_ERR_MAX, "audit HMAC key file %s: %s", path, strerror(errno));
        goto out;
    }
    if (fst.st_dev != st.st_dev || fst.st_ino != st.st_ino || fst.st_size != st.st_size) {
        snprintf(err, AUDIT_ERR_MAX, "audit HMAC key file %s changed while being read", path);
        goto out;
    }
    size = (size_t)st.st_size;
    rv = CKR_HOST_MEMORY;
    if ((buf = crypto_secret_alloc(size)) == NULL) {
        snprintf(err, AUDIT_ERR_MAX, "out of secure memory for the audit HMAC key");
        goto out;
    }
    rv = CKR_GENERAL_ERROR;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, AUDIT_ERR_MAX, "audit HMAC key file %s: %s", path,
                     n == 0 ? "shorter than expected" : strerror(errno));
            goto out;
        }
        got += (size_t)n;
    }
    *key = buf;
    *len = size;
    buf = NULL;
    rv = CKR_OK;
out:
    crypto_secret_free(buf, size);
    if (fd >= 0)
        close(fd);
    return rv;
}
