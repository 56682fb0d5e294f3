/*
 * Heap-backed stand-ins for the few src/crypto functions the object code
 * uses, so the fuzz targets build without OpenSSL (linked by run.sh).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

void *crypto_secret_alloc(size_t len)
{
    return calloc(1, len);
}

void crypto_secret_free(void *p, size_t len)
{
    if (p != NULL) {
        memset(p, 0, len);
        free(p);
    }
}

void crypto_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0)
        memset(p, 0, len);
}

bool crypto_equal(const void *a, const void *b, size_t len)
{
    return memcmp(a, b, len) == 0;
}
