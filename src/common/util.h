/* Small helpers shared by every layer. */
#ifndef CRATON_COMMON_UTIL_H
#define CRATON_COMMON_UTIL_H

#include <stdarg.h>
#include <stddef.h>

#include "pkcs11/pkcs11.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define WARN_UNUSED       __attribute__((warn_unused_result))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define WARN_UNUSED
#define PRINTF_LIKE(f, a)
#endif

/* Copies src (NUL-terminated, or up to srclen bytes, whichever is shorter)
 * into the fixed-size, blank-padded, unterminated PKCS#11 text field dst of
 * dstlen bytes, truncating when longer.  Never reads past a NUL in src. */
void util_pad(CK_UTF8CHAR *dst, size_t dstlen, const char *src, size_t srclen);

/* One line "craton-hsm: <message>\n" on stderr.  Thread-safe (one write). */
void util_log(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* Creates directory path (and missing parents) with mode 0700.  Returns 0, or
 * -1 with errno set.  Existing directories are left as they are. */
int util_mkdirs(const char *path);

/* Joins a and b with '/' into a new heap string, NULL when out of memory. */
char *util_path_join(const char *a, const char *b);

#endif
