/*
 * libFuzzer target for the object record codec.
 *
 * Decodes the input; when it is accepted, encodes the list again and checks
 * that the bytes are the input's, except that a secret flag may have been
 * added where the record's class makes the value secret (decode honours the
 * flag and the class).  Re-decoding the result must give the same bytes
 * once more.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude -Isrc \
 *       tests/fuzz/fuzz_codec.c src/object/attr.c src/object/codec.c src/object/rules.c \
 *       -o fuzz_codec
 *   ./fuzz_codec CORPUS_COPY/
 *
 * The crypto_* memory functions are stubbed below with the plain heap, so
 * the target needs no OpenSSL.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "object/attr.h"
#include "object/codec.h"
#include "object/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The src/crypto functions come from tests/fuzz/crypto_stubs.c. */

/* ---- target ------------------------------------------------------------- */

static void encode_or_abort(const struct attrs *a, unsigned char **buf, size_t *len)
{
    if (codec_encode(a, buf, len) != CKR_OK)
        abort(); /* whatever decodes must encode */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct attrs a = {0}, b = {0};
    unsigned char *e1 = NULL, *e2 = NULL;
    size_t l1 = 0, l2 = 0;

    CK_RV rv = codec_decode(data, size, &a);
    if (rv != CKR_OK) {
        if (rv != CKR_DEVICE_ERROR || a.n != 0 || a.v != NULL)
            abort();
        return 0;
    }
    for (size_t i = 1; i < a.n; i++) {
        if (a.v[i - 1].type >= a.v[i].type)
            abort();
    }
    encode_or_abort(&a, &e1, &l1);
    if (l1 != size)
        abort();
    /* Walk the output: only flag bytes may differ, and only 0 -> secret. */
    size_t pos = 8;
    if (memcmp(e1, data, pos) != 0)
        abort();
    for (size_t i = 0; i < a.n; i++) {
        size_t flags = pos + 8;
        for (size_t j = pos; j < pos + 13 + a.v[i].len; j++) {
            if (e1[j] == data[j])
                continue;
            if (j != flags || data[j] != 0 || e1[j] != 1 || !a.v[i].secret)
                abort();
        }
        pos += 13 + a.v[i].len;
    }
    if (pos != size)
        abort();

    if (codec_decode(e1, l1, &b) != CKR_OK)
        abort();
    if (!attrs_match(&a, &b) || !attrs_match(&b, &a) || a.n != b.n)
        abort();
    encode_or_abort(&b, &e2, &l2);
    if (l2 != l1 || memcmp(e1, e2, l1) != 0)
        abort();

    /* The rules must cope with whatever a record holds. */
    for (size_t i = 0; i < a.n; i++) {
        rv = rules_readable(&a, a.v[i].type);
        if (rv != CKR_OK && rv != CKR_ATTRIBUTE_SENSITIVE)
            abort();
    }
    (void)rules_check_set(&a, &b);
    (void)rules_check_copy(&a, &b);

    codec_buffer_free(e1, l1);
    codec_buffer_free(e2, l2);
    attrs_free(&a);
    attrs_free(&b);
    return 0;
}
