/*
 * A strict, small TOML reader; see toml.h for what it accepts.
 *
 * The parser works on an explicit (pointer, length) buffer, never reads past
 * it, keeps no global state and bounds everything it allocates with the
 * TOML_MAX_* limits.  On any error the partly built document is freed.
 */
#include "config/toml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOML_SHOW_MAX 40 /* bytes of a bad token quoted in a message */
#define TOML_QKEY_MAX (2 * TOML_MAX_KEY + 2)

struct toml_parser {
    const char *p;      /* next byte */
    const char *end;    /* one past the last byte */
    unsigned long line; /* line of *p */
    const char *name;   /* for messages */
    char *err;
    size_t errlen;
    struct toml_doc *doc;
    size_t nvalues;
    char qkey[TOML_QKEY_MAX]; /* "table.key" being parsed, for messages */
};

static const char toml_supported[] = "supported: strings, integers, booleans and arrays of them";

static int toml_fail(struct toml_parser *P, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int toml_fail(struct toml_parser *P, unsigned long line, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (P->err == NULL || P->errlen == 0)
        return -1;
    n = snprintf(P->err, P->errlen, "%s:%lu: ", P->name, line);
    if (n >= 0 && (size_t)n < P->errlen) {
        va_start(ap, fmt);
        vsnprintf(P->err + n, P->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

char *toml_memdup(const char *s, size_t len)
{
    char *d = malloc(len + 1);

    if (d == NULL)
        return NULL;
    if (len > 0)
        memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

static bool toml_is_bare(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static bool toml_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int toml_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Describes the byte c for a message: "'x'", "a space", "byte 0xNN". */
static const char *toml_show_char(char c, char buf[16])
{
    unsigned char u = (unsigned char)c;

    if (u > 0x20 && u < 0x7F)
        snprintf(buf, 16, "'%c'", c);
    else if (u == ' ' || u == '\t')
        snprintf(buf, 16, "whitespace");
    else
        snprintf(buf, 16, "byte 0x%02X", u);
    return buf;
}

static const char *const toml_type_article[] = {
    [TOML_STRING] = "a string",
    [TOML_INTEGER] = "an integer",
    [TOML_BOOLEAN] = "a boolean",
    [TOML_ARRAY] = "an array",
};

const char *toml_type_name(enum toml_type type)
{
    if ((size_t)type < sizeof(toml_type_article) / sizeof(toml_type_article[0]))
        return toml_type_article[type];
    return "an unknown value";
}

/* ---- document model ---------------------------------------------------- */

static void toml_value_free(struct toml_value *v)
{
    size_t i;

    if (v->type == TOML_STRING) {
        free(v->u.str.ptr);
    } else if (v->type == TOML_ARRAY) {
        for (i = 0; i < v->u.array.count; i++)
            toml_value_free(&v->u.array.items[i]);
        free(v->u.array.items);
    }
    memset(v, 0, sizeof(*v));
}

static void toml_table_free(struct toml_table *t)
{
    size_t i;

    for (i = 0; i < t->nkeys; i++) {
        free(t->keys[i].key);
        toml_value_free(&t->keys[i].value);
    }
    free(t->keys);
    free(t->name);
    memset(t, 0, sizeof(*t));
}

void toml_free(struct toml_doc *doc)
{
    size_t i;

    if (doc == NULL)
        return;
    for (i = 0; i < doc->ntables; i++)
        toml_table_free(&doc->tables[i]);
    free(doc->tables);
    memset(doc, 0, sizeof(*doc));
}

const struct toml_table *toml_table_find(const struct toml_doc *doc, const char *name)
{
    size_t i;

    if (doc == NULL || name == NULL)
        return NULL;
    for (i = 0; i < doc->ntables; i++) {
        if (strcmp(doc->tables[i].name, name) == 0)
            return &doc->tables[i];
    }
    return NULL;
}

const struct toml_keyval *toml_key_find(const struct toml_table *table, const char *key)
{
    size_t i;

    if (table == NULL || key == NULL)
        return NULL;
    for (i = 0; i < table->nkeys; i++) {
        if (strcmp(table->keys[i].key, key) == 0)
            return &table->keys[i];
    }
    return NULL;
}

static int toml_add_table(struct toml_parser *P, const char *name, unsigned long line)
{
    struct toml_doc *doc = P->doc;
    struct toml_table *t;
    char *copy;

    if (doc->ntables == doc->cap) {
        size_t ncap = doc->cap == 0 ? 8 : doc->cap * 2;
        struct toml_table *n = realloc(doc->tables, ncap * sizeof(*n));
        if (n == NULL)
            return toml_fail(P, line, "out of memory");
        doc->tables = n;
        doc->cap = ncap;
    }
    copy = toml_memdup(name, strlen(name));
    if (copy == NULL)
        return toml_fail(P, line, "out of memory");
    t = &doc->tables[doc->ntables++];
    memset(t, 0, sizeof(*t));
    t->name = copy;
    t->line = line;
    return 0;
}

/* Takes ownership of *v (also on failure). */
static int toml_add_key(struct toml_parser *P, struct toml_table *t, const char *key,
                        unsigned long line, struct toml_value *v)
{
    struct toml_keyval *kv;
    char *copy = NULL;

    if (t->nkeys == t->cap) {
        size_t ncap = t->cap == 0 ? 8 : t->cap * 2;
        struct toml_keyval *n = realloc(t->keys, ncap * sizeof(*n));
        if (n == NULL)
            goto oom;
        t->keys = n;
        t->cap = ncap;
    }
    copy = toml_memdup(key, strlen(key));
    if (copy == NULL)
        goto oom;
    kv = &t->keys[t->nkeys++];
    kv->key = copy;
    kv->line = line;
    kv->value = *v;
    return 0;
oom:
    toml_value_free(v);
    return toml_fail(P, line, "out of memory");
}

/* ---- lexical helpers ---------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (avail bytes), or 0 if invalid. */
static size_t toml_utf8_len(const unsigned char *s, size_t avail)
{
    unsigned long cp;
    size_t n, i;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        n = 2;
        cp = s[0] & 0x1Fu;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        n = 3;
        cp = s[0] & 0x0Fu;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        n = 4;
        cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* One pass over the raw bytes: valid UTF-8, no control characters other
 * than tab and line endings, no bare carriage return.  After it, every
 * '\r' is followed by '\n'. */
static int toml_check_bytes(struct toml_parser *P)
{
    const unsigned char *s = (const unsigned char *)P->p;
    size_t len = (size_t)(P->end - P->p), i = 0, n;
    unsigned long line = 1;

    while (i < len) {
        unsigned char c = s[i];
        if (c == '\n') {
            line++;
        } else if (c == '\r') {
            if (i + 1 >= len || s[i + 1] != '\n')
                return toml_fail(P, line, "carriage return not followed by a line feed");
        } else if ((c < 0x20 && c != '\t') || c == 0x7F) {
            return toml_fail(P, line,
                             "control character U+%04X is not allowed "
                             "(inside \"...\" strings write it as an escape)",
                             c);
        } else if (c >= 0x80) {
            n = toml_utf8_len(s + i, len - i);
            if (n == 0)
                return toml_fail(P, line, "invalid UTF-8");
            i += n;
            continue;
        }
        i++;
    }
    return 0;
}

static void toml_skip_ws(struct toml_parser *P)
{
    while (P->p < P->end && (*P->p == ' ' || *P->p == '\t'))
        P->p++;
}

static void toml_skip_comment(struct toml_parser *P)
{
    while (P->p < P->end && *P->p != '\n' && *P->p != '\r')
        P->p++;
}

/* If at a line ending, consumes it and returns true. */
static bool toml_newline(struct toml_parser *P)
{
    if (P->p < P->end && *P->p == '\n') {
        P->p++;
        P->line++;
        return true;
    }
    if (P->p + 1 < P->end && P->p[0] == '\r' && P->p[1] == '\n') {
        P->p += 2;
        P->line++;
        return true;
    }
    return false;
}

/* Skips whitespace, comments and line endings (inside arrays). */
static void toml_skip_ws_nl(struct toml_parser *P)
{
    for (;;) {
        toml_skip_ws(P);
        if (P->p < P->end && *P->p == '#')
            toml_skip_comment(P);
        if (!toml_newline(P))
            return;
    }
}

/* After a header or key/value: optional whitespace and comment, then a line
 * ending or the end of input. */
static int toml_end_line(struct toml_parser *P, const char *after)
{
    char buf[16];

    toml_skip_ws(P);
    if (P->p < P->end && *P->p == '#')
        toml_skip_comment(P);
    if (P->p >= P->end || toml_newline(P))
        return 0;
    return toml_fail(P, P->line, "expected the end of the line after %s, found %s", after,
                     toml_show_char(*P->p, buf));
}

/* Reads a bare key or table name into out[TOML_MAX_KEY + 1]. */
static int toml_read_bare(struct toml_parser *P, char *out, const char *what)
{
    size_t n = 0;
    char buf[16];

    while (P->p < P->end && toml_is_bare(*P->p)) {
        if (n == TOML_MAX_KEY)
            return toml_fail(P, P->line, "%s is too long (limit %d bytes)", what, TOML_MAX_KEY);
        out[n++] = *P->p++;
    }
    out[n] = '\0';
    if (n == 0) {
        if (P->p < P->end && (*P->p == '"' || *P->p == '\''))
            return toml_fail(P, P->line,
                             "quoted %ss are not supported; use a bare %s "
                             "(letters, digits, '_' and '-')",
                             what, what);
        if (P->p >= P->end || *P->p == '\n' || *P->p == '\r')
            return toml_fail(P, P->line, "expected a %s, found the end of the line", what);
        return toml_fail(P, P->line, "expected a %s, found %s", what, toml_show_char(*P->p, buf));
    }
    return 0;
}

/* ---- values ------------------------------------------------------------- */

static int toml_parse_value(struct toml_parser *P, struct toml_value *v, unsigned depth);

static int toml_unsupported(struct toml_parser *P, unsigned long line, const char *what)
{
    return toml_fail(P, line, "unsupported value for key '%s': %s are not supported (%s)", P->qkey,
                     what, toml_supported);
}

static int toml_put(struct toml_parser *P, char *buf, size_t *n, const char *bytes, size_t k)
{
    if (*n + k > TOML_MAX_STRING)
        return toml_fail(P, P->line, "string for key '%s' is too long (limit %d bytes)", P->qkey,
                         TOML_MAX_STRING);
    memcpy(buf + *n, bytes, k);
    *n += k;
    return 0;
}

static size_t toml_utf8_encode(unsigned long cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* After "\u" or "\U": ndigits hex digits naming a Unicode scalar value. */
static int toml_parse_unicode(struct toml_parser *P, int ndigits, char out[4], size_t *k)
{
    unsigned long cp = 0;
    int i, d;

    for (i = 0; i < ndigits; i++) {
        if (P->p >= P->end || (d = toml_hex_value(*P->p)) < 0)
            return toml_fail(P, P->line,
                             "invalid \\%c escape in string for key '%s': "
                             "expected %d hexadecimal digits",
                             ndigits == 4 ? 'u' : 'U', P->qkey, ndigits);
        cp = (cp << 4) | (unsigned long)d;
        P->p++;
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return toml_fail(P, P->line,
                         "invalid escape in string for key '%s': U+%04lX is not a "
                         "Unicode scalar value",
                         P->qkey, cp);
    *k = toml_utf8_encode(cp, out);
    return 0;
}

static int toml_finish_string(struct toml_parser *P, struct toml_value *v, const char *buf,
                              size_t n)
{
    v->type = TOML_STRING;
    v->u.str.ptr = toml_memdup(buf, n);
    if (v->u.str.ptr == NULL)
        return toml_fail(P, v->line, "out of memory");
    v->u.str.len = n;
    return 0;
}

static int toml_parse_basic(struct toml_parser *P, struct toml_value *v)
{
    char buf[TOML_MAX_STRING];
    char enc[4];
    char show[16];
    size_t n = 0, k;
    char c, e;

    P->p++; /* opening quote */
    for (;;) {
        if (P->p >= P->end || *P->p == '\n' || *P->p == '\r')
            return toml_fail(P, v->line,
                             "unterminated string for key '%s' (a string ends on its line)",
                             P->qkey);
        c = *P->p;
        if (c == '"') {
            P->p++;
            break;
        }
        if (c != '\\') {
            if (toml_put(P, buf, &n, &c, 1) < 0)
                return -1;
            P->p++;
            continue;
        }
        P->p++;
        if (P->p >= P->end)
            return toml_fail(P, v->line, "unterminated string for key '%s'", P->qkey);
        e = *P->p++;
        k = 1;
        switch (e) {
        case 'b':
            enc[0] = '\b';
            break;
        case 't':
            enc[0] = '\t';
            break;
        case 'n':
            enc[0] = '\n';
            break;
        case 'f':
            enc[0] = '\f';
            break;
        case 'r':
            enc[0] = '\r';
            break;
        case '"':
            enc[0] = '"';
            break;
        case '\\':
            enc[0] = '\\';
            break;
        case 'u':
            if (toml_parse_unicode(P, 4, enc, &k) < 0)
                return -1;
            break;
        case 'U':
            if (toml_parse_unicode(P, 8, enc, &k) < 0)
                return -1;
            break;
        default:
            return toml_fail(P, P->line,
                             "invalid escape sequence in string for key '%s': backslash "
                             "followed by %s (allowed: \\b \\t \\n \\f \\r \\\" \\\\ "
                             "\\uXXXX \\UXXXXXXXX)",
                             P->qkey, toml_show_char(e, show));
        }
        if (toml_put(P, buf, &n, enc, k) < 0)
            return -1;
    }
    return toml_finish_string(P, v, buf, n);
}

static int toml_parse_literal(struct toml_parser *P, struct toml_value *v)
{
    const char *start;
    size_t n;

    P->p++; /* opening quote */
    start = P->p;
    while (P->p < P->end && *P->p != '\'' && *P->p != '\n' && *P->p != '\r')
        P->p++;
    if (P->p >= P->end || *P->p != '\'')
        return toml_fail(P, v->line, "unterminated string for key '%s' (a string ends on its line)",
                         P->qkey);
    n = (size_t)(P->p - start);
    P->p++;
    if (n > TOML_MAX_STRING)
        return toml_fail(P, v->line, "string for key '%s' is too long (limit %d bytes)", P->qkey,
                         TOML_MAX_STRING);
    return toml_finish_string(P, v, start, n);
}

/* s[0..n) is [+-]?[0-9_]+ ; checks TOML's rules and converts. */
static int toml_parse_int(struct toml_parser *P, struct toml_value *v, const char *s, size_t n)
{
    uint64_t acc = 0, limit;
    bool neg = false;
    size_t i = 0;
    int shown = (int)(n < TOML_SHOW_MAX ? n : TOML_SHOW_MAX);

    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        i = 1;
    }
    if (i >= n || !toml_is_digit(s[i]))
        return toml_fail(P, v->line,
                         "invalid integer '%.*s' for key '%s': "
                         "'_' must sit between digits",
                         shown, s, P->qkey);
    if (s[i] == '0' && i + 1 < n)
        return toml_fail(P, v->line,
                         "invalid integer '%.*s' for key '%s': "
                         "leading zeros are not allowed",
                         shown, s, P->qkey);
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        unsigned d;
        if (s[i] == '_') {
            if (i + 1 >= n || !toml_is_digit(s[i + 1]))
                return toml_fail(P, v->line,
                                 "invalid integer '%.*s' for key '%s': "
                                 "'_' must sit between digits",
                                 shown, s, P->qkey);
            continue;
        }
        d = (unsigned)(s[i] - '0');
        if (acc > (limit - d) / 10)
            return toml_fail(P, v->line,
                             "integer '%.*s' for key '%s' is out of range "
                             "(64-bit signed)",
                             shown, s, P->qkey);
        acc = acc * 10 + d;
    }
    v->type = TOML_INTEGER;
    if (!neg)
        v->u.integer = (int64_t)acc;
    else if (acc == (uint64_t)INT64_MAX + 1)
        v->u.integer = INT64_MIN;
    else
        v->u.integer = -(int64_t)acc;
    return 0;
}

static bool toml_token_char(char c)
{
    return toml_is_bare(c) || c == '+' || c == '.' || c == ':';
}

/* A bare token: boolean, integer, or something unsupported. */
static int toml_parse_scalar(struct toml_parser *P, struct toml_value *v)
{
    const char *s = P->p;
    size_t n, i, digits_at;
    bool int_shape;

    while (P->p < P->end && toml_token_char(*P->p))
        P->p++;
    n = (size_t)(P->p - s);
    if (n == 4 && memcmp(s, "true", 4) == 0) {
        v->type = TOML_BOOLEAN;
        v->u.boolean = true;
        return 0;
    }
    if (n == 5 && memcmp(s, "false", 5) == 0) {
        v->type = TOML_BOOLEAN;
        v->u.boolean = false;
        return 0;
    }
    digits_at = (n > 0 && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    int_shape = n > digits_at;
    for (i = digits_at; i < n && int_shape; i++) {
        if (!toml_is_digit(s[i]) && s[i] != '_')
            int_shape = false;
    }
    if (int_shape)
        return toml_parse_int(P, v, s, n);
    if (n == 0)
        return toml_unsupported(P, v->line, "values of this kind");
    if (n > digits_at + 1 && s[digits_at] == '0' &&
        (s[digits_at + 1] == 'x' || s[digits_at + 1] == 'o' || s[digits_at + 1] == 'b'))
        return toml_unsupported(P, v->line, "hexadecimal, octal and binary integers");
    if (memchr(s, ':', n) != NULL || (toml_is_digit(s[0]) && memchr(s + 1, '-', n - 1) != NULL))
        return toml_unsupported(P, v->line, "dates and times");
    if ((n > digits_at && toml_is_digit(s[digits_at])) ||
        (n - digits_at == 3 &&
         (memcmp(s + digits_at, "inf", 3) == 0 || memcmp(s + digits_at, "nan", 3) == 0)))
        return toml_unsupported(P, v->line, "floats");
    return toml_unsupported(P, v->line, "bare words (quote strings)");
}

static int toml_parse_array(struct toml_parser *P, struct toml_value *v, unsigned depth)
{
    struct toml_value *items = NULL;
    size_t count = 0, cap = 0, i;
    unsigned long open_line = P->line;
    char buf[16];
    int rc = -1;

    if (depth >= TOML_MAX_DEPTH) {
        toml_fail(P, P->line, "arrays for key '%s' are nested too deeply (limit %d)", P->qkey,
                  TOML_MAX_DEPTH);
        goto out;
    }
    P->p++; /* '[' */
    for (;;) {
        toml_skip_ws_nl(P);
        if (P->p >= P->end)
            break;
        if (*P->p == ']') {
            P->p++;
            rc = 0;
            goto out;
        }
        if (*P->p == ',') {
            toml_fail(P, P->line, "expected a value before ',' in the array for key '%s'", P->qkey);
            goto out;
        }
        if (count == TOML_MAX_ARRAY) {
            toml_fail(P, P->line, "array for key '%s' is too long (limit %d items)", P->qkey,
                      TOML_MAX_ARRAY);
            goto out;
        }
        if (count == cap) {
            size_t ncap = cap == 0 ? 4 : cap * 2;
            struct toml_value *n = realloc(items, ncap * sizeof(*n));
            if (n == NULL) {
                toml_fail(P, P->line, "out of memory");
                goto out;
            }
            items = n;
            cap = ncap;
        }
        if (toml_parse_value(P, &items[count], depth + 1) < 0)
            goto out;
        count++;
        toml_skip_ws_nl(P);
        if (P->p >= P->end)
            break;
        if (*P->p == ',') {
            P->p++;
            continue;
        }
        if (*P->p == ']') {
            P->p++;
            rc = 0;
            goto out;
        }
        toml_fail(P, P->line, "expected ',' or ']' in the array for key '%s', found %s", P->qkey,
                  toml_show_char(*P->p, buf));
        goto out;
    }
    toml_fail(P, P->line, "unterminated array for key '%s' (opened at line %lu)", P->qkey,
              open_line);
out:
    if (rc == 0) {
        v->type = TOML_ARRAY;
        v->u.array.items = items;
        v->u.array.count = count;
    } else {
        for (i = 0; i < count; i++)
            toml_value_free(&items[i]);
        free(items);
    }
    return rc;
}

/* Parses one value at P->p into *v.  On failure *v owns nothing. */
static int toml_parse_value(struct toml_parser *P, struct toml_value *v, unsigned depth)
{
    const char *p = P->p;
    size_t avail = (size_t)(P->end - P->p);

    memset(v, 0, sizeof(*v));
    v->line = P->line;
    if (avail == 0 || *p == '\n' || *p == '\r' || *p == '#')
        return toml_fail(P, P->line, "missing value for key '%s'", P->qkey);
    if (++P->nvalues > TOML_MAX_VALUES)
        return toml_fail(P, P->line, "too many values (limit %d)", TOML_MAX_VALUES);
    switch (*p) {
    case '"':
        if (avail >= 3 && p[1] == '"' && p[2] == '"')
            return toml_unsupported(P, P->line, "multi-line strings");
        return toml_parse_basic(P, v);
    case '\'':
        if (avail >= 3 && p[1] == '\'' && p[2] == '\'')
            return toml_unsupported(P, P->line, "multi-line strings");
        return toml_parse_literal(P, v);
    case '[':
        return toml_parse_array(P, v, depth);
    case '{':
        return toml_unsupported(P, P->line, "inline tables");
    default:
        return toml_parse_scalar(P, v);
    }
}

/* ---- lines -------------------------------------------------------------- */

static int toml_parse_header(struct toml_parser *P, size_t *cur)
{
    struct toml_doc *doc = P->doc;
    const struct toml_keyval *kv;
    char name[TOML_MAX_KEY + 1];
    unsigned long line = P->line;
    char buf[16];
    size_t i;

    P->p++; /* '[' */
    if (P->p < P->end && *P->p == '[')
        return toml_fail(P, line, "arrays of tables ([[name]]) are not supported");
    toml_skip_ws(P);
    if (toml_read_bare(P, name, "table name") < 0)
        return -1;
    toml_skip_ws(P);
    if (P->p < P->end && *P->p == '.')
        return toml_fail(P, line,
                         "dotted table names ([%s.name]) are not supported; "
                         "use a single name such as [%s]",
                         name, name);
    if (P->p >= P->end || *P->p != ']')
        return toml_fail(P, line, "expected ']' to close the header of table [%s]%s%s", name,
                         P->p < P->end ? ", found " : "",
                         P->p < P->end ? toml_show_char(*P->p, buf) : "");
    P->p++;
    for (i = 1; i < doc->ntables; i++) {
        if (strcmp(doc->tables[i].name, name) == 0)
            return toml_fail(P, line, "duplicate table [%s] (first defined at line %lu)", name,
                             doc->tables[i].line);
    }
    kv = toml_key_find(&doc->tables[0], name);
    if (kv != NULL)
        return toml_fail(P, line, "table [%s] conflicts with key '%s' defined at line %lu", name,
                         name, kv->line);
    if (doc->ntables - 1 >= TOML_MAX_TABLES)
        return toml_fail(P, line, "too many tables (limit %d)", TOML_MAX_TABLES);
    if (toml_add_table(P, name, line) < 0)
        return -1;
    *cur = doc->ntables - 1;
    return 0;
}

static int toml_parse_keyval(struct toml_parser *P, size_t cur)
{
    struct toml_table *t = &P->doc->tables[cur];
    const struct toml_keyval *kv;
    struct toml_value v;
    char key[TOML_MAX_KEY + 1];
    unsigned long line = P->line;
    char buf[16];

    if (toml_read_bare(P, key, "key") < 0)
        return -1;
    snprintf(P->qkey, sizeof(P->qkey), "%s%s%s", t->name, t->name[0] ? "." : "", key);
    toml_skip_ws(P);
    if (P->p < P->end && *P->p == '.')
        return toml_fail(P, line,
                         "dotted keys ('%s.name = ...') are not supported; "
                         "use a [table] header",
                         P->qkey);
    if (P->p >= P->end || *P->p != '=')
        return toml_fail(P, line, "expected '=' after key '%s', found %s", P->qkey,
                         P->p >= P->end || *P->p == '\n' || *P->p == '\r'
                             ? "the end of the line"
                             : toml_show_char(*P->p, buf));
    P->p++;
    toml_skip_ws(P);
    kv = toml_key_find(t, key);
    if (kv != NULL)
        return toml_fail(P, line, "duplicate key '%s' (first defined at line %lu)", P->qkey,
                         kv->line);
    if (t->nkeys >= TOML_MAX_KEYS)
        return toml_fail(P, line, "too many keys in one table (limit %d)", TOML_MAX_KEYS);
    if (toml_parse_value(P, &v, 0) < 0)
        return -1;
    return toml_add_key(P, t, key, line, &v);
}

int toml_parse(struct toml_doc *doc, const char *text, size_t len, const char *name, char *err,
               size_t errlen)
{
    struct toml_parser P;
    size_t cur = 0;
    char buf[16];
    int rc = -1;

    memset(&P, 0, sizeof(P));
    P.name = name != NULL ? name : "(config)";
    P.err = err;
    P.errlen = errlen;
    P.doc = doc;
    P.line = 1;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (doc == NULL)
        return -1;
    memset(doc, 0, sizeof(*doc));
    if (text == NULL && len > 0) {
        toml_fail(&P, 1, "no input");
        goto out;
    }
    if (len > TOML_MAX_INPUT) {
        toml_fail(&P, 1, "input is too large (%zu bytes; the limit is %d)", len, TOML_MAX_INPUT);
        goto out;
    }
    P.p = text != NULL ? text : "";
    P.end = P.p + len;
    if (len >= 3 && memcmp(P.p, "\xEF\xBB\xBF", 3) == 0)
        P.p += 3; /* UTF-8 byte order mark */
    if (toml_check_bytes(&P) < 0)
        goto out;
    if (toml_add_table(&P, "", 0) < 0)
        goto out;
    while (P.p < P.end) {
        toml_skip_ws(&P);
        if (P.p >= P.end)
            break;
        if (*P.p == '[') {
            if (toml_parse_header(&P, &cur) < 0)
                goto out;
            if (toml_end_line(&P, "the table header") < 0)
                goto out;
        } else if (toml_is_bare(*P.p) || *P.p == '"' || *P.p == '\'') {
            if (toml_parse_keyval(&P, cur) < 0)
                goto out;
            if (toml_end_line(&P, "the value") < 0)
                goto out;
        } else if (*P.p == '#' || *P.p == '\n' || *P.p == '\r') {
            if (toml_end_line(&P, "a comment") < 0)
                goto out;
        } else {
            toml_fail(&P, P.line, "expected a key, a [table] header or a comment, found %s",
                      toml_show_char(*P.p, buf));
            goto out;
        }
    }
    rc = 0;
out:
    if (rc != 0)
        toml_free(doc);
    return rc;
}
