#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void util_pad(CK_UTF8CHAR *dst, size_t dstlen, const char *src, size_t srclen)
{
    size_t i = 0;
    for (; src != NULL && i < dstlen && i < srclen && src[i] != '\0'; i++)
        dst[i] = (CK_UTF8CHAR)src[i];
    for (; i < dstlen; i++)
        dst[i] = ' ';
}

void util_log(const char *fmt, ...)
{
    char line[1024];
    int n = snprintf(line, sizeof(line), "craton-hsm: ");
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

int util_mkdirs(const char *path)
{
    char *copy = strdup(path);
    if (copy == NULL) {
        errno = ENOMEM;
        return -1;
    }
    int r = 0;
    for (char *p = copy + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
            r = -1;
            break;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    int saved_errno = errno;
    free(copy);
    errno = saved_errno;
    if (r == 0) {
        struct stat st;
        if (stat(path, &st) != 0)
            return -1;
        if (!S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            return -1;
        }
    }
    return r;
}

char *util_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *r = malloc(la + lb + 2);
    if (r == NULL)
        return NULL;
    memcpy(r, a, la);
    r[la] = '/';
    memcpy(r + la + 1, b, lb + 1);
    return r;
}
