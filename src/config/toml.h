/*
 * A strict, small TOML reader for craton_hsm.toml.
 *
 * Supported: [table] headers (single bare name), bare keys, `key = value`,
 * basic strings "..." (escapes \b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX),
 * literal strings '...', decimal integers (sign, '_' separators), booleans,
 * arrays of those (nested to TOML_MAX_DEPTH, may span lines, trailing comma),
 * comments, blank lines, LF and CRLF line endings.
 *
 * Rejected with an error: dotted keys and table names, quoted keys, arrays of
 * tables, floats, dates and times, inline tables, multi-line strings, hex /
 * octal / binary integers, duplicate keys and tables, invalid UTF-8, control
 * characters, anything over the limits below.
 *
 * Every error message has the form "NAME:LINE: message".
 */
#ifndef CRATON_CONFIG_TOML_H
#define CRATON_CONFIG_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOML_MAX_INPUT  (1024 * 1024) /* bytes of input */
#define TOML_MAX_STRING 4096          /* bytes of one decoded string */
#define TOML_MAX_KEY    64            /* bytes of one key or table name */
#define TOML_MAX_ARRAY  1024          /* items in one array */
#define TOML_MAX_DEPTH  8             /* arrays nested in arrays */
#define TOML_MAX_TABLES 64            /* [table] headers, root excluded */
#define TOML_MAX_KEYS   256           /* keys in one table */
#define TOML_MAX_VALUES 65536         /* values in the whole document */

enum toml_type {
    TOML_STRING,
    TOML_INTEGER,
    TOML_BOOLEAN,
    TOML_ARRAY,
};

struct toml_value {
    enum toml_type type;
    unsigned long line; /* 1-based line where the value starts */
    union {
        struct {
            char *ptr; /* NUL-terminated, but may hold NUL bytes: use len */
            size_t len;
        } str;
        int64_t integer;
        bool boolean;
        struct {
            struct toml_value *items;
            size_t count;
        } array;
    } u;
};

struct toml_keyval {
    char *key;          /* bare key */
    unsigned long line; /* line of the key */
    struct toml_value value;
};

struct toml_table {
    char *name;               /* "" for the root table (keys before any header) */
    unsigned long line;       /* line of the header; 0 for the root table */
    struct toml_keyval *keys; /* in file order */
    size_t nkeys;
    size_t cap;
};

struct toml_doc {
    struct toml_table *tables; /* tables[0] is the root; the rest in file order */
    size_t ntables;
    size_t cap;
};

/* Parses len bytes of text (need not be NUL-terminated; len must not exceed
 * TOML_MAX_INPUT).  name is used only in error messages.
 * Returns 0 and fills doc (free with toml_free), or -1 and writes
 * "NAME:LINE: message" into err[errlen]; doc is then empty.  Thread-safe. */
int toml_parse(struct toml_doc *doc, const char *text, size_t len, const char *name, char *err,
               size_t errlen);

/* Frees what doc owns and zeroes it.  NULL-safe, idempotent. */
void toml_free(struct toml_doc *doc);

/* Returns the table called name ("" for the root), or NULL. */
const struct toml_table *toml_table_find(const struct toml_doc *doc, const char *name);

/* Returns the key called key in table, or NULL. */
const struct toml_keyval *toml_key_find(const struct toml_table *table, const char *key);

/* Returns "a string", "an integer", "a boolean" or "an array". */
const char *toml_type_name(enum toml_type type);

/* Copies len bytes of s into a new NUL-terminated heap string; NULL when out
 * of memory.  Free with free(). */
char *toml_memdup(const char *s, size_t len);

#endif
