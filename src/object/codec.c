#include "object/codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

#define CODEC_MAGIC_LEN 4
#define CODEC_HDR_LEN   (CODEC_MAGIC_LEN + 4) /* magic | count */
#define CODEC_ATTR_HDR  (8 + 1 + 4)           /* type | flags | len */
#define CODEC_SECRET    0x01u                 /* flags bit 0 */

/*
 * Every buffer codec_encode returns is preceded by one hidden byte that says
 * where it lives, so codec_buffer_free needs nothing but the pointer and
 * length the caller got.
 */
#define CODEC_TAG_HEAP   0x00u
#define CODEC_TAG_SECURE 0x5Eu

static void put_be(unsigned char *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

CK_RV codec_encode(const struct attrs *a, unsigned char **out, size_t *outlen)
{
    size_t len = CODEC_HDR_LEN;
    bool secret = false;

    /* What decode would refuse is never written: lists come from
     * attrs_from_template + rules + keyimport, which stay far below these
     * bounds, so hitting one is a bug upstream. */
    if (a->n > CODEC_MAX_ATTRS)
        return CKR_GENERAL_ERROR;
    for (size_t i = 0; i < a->n; i++) {
        if (a->v[i].len > ATTR_MAX_VALUE || (i > 0 && a->v[i - 1].type >= a->v[i].type) ||
            (uint64_t)a->v[i].type != a->v[i].type)
            return CKR_GENERAL_ERROR;
        len += CODEC_ATTR_HDR + a->v[i].len;
        secret = secret || a->v[i].secret;
    }
    unsigned char *raw = secret ? crypto_secret_alloc(len + 1) : malloc(len + 1);
    if (raw == NULL)
        return CKR_HOST_MEMORY;
    raw[0] = secret ? CODEC_TAG_SECURE : CODEC_TAG_HEAP;
    unsigned char *buf = raw + 1, *p = buf;
    memcpy(p, CODEC_MAGIC, CODEC_MAGIC_LEN);
    put_be(p + CODEC_MAGIC_LEN, a->n, 4);
    p += CODEC_HDR_LEN;
    for (size_t i = 0; i < a->n; i++) {
        const struct attr *e = &a->v[i];
        put_be(p, e->type, 8);
        p[8] = e->secret ? CODEC_SECRET : 0;
        put_be(p + 9, e->len, 4);
        p += CODEC_ATTR_HDR;
        if (e->len > 0)
            memcpy(p, e->value, e->len);
        p += e->len;
    }
    *out = buf;
    *outlen = len;
    return CKR_OK;
}

void codec_buffer_free(unsigned char *buf, size_t len)
{
    if (buf == NULL)
        return;
    unsigned char *raw = buf - 1;
    if (raw[0] == CODEC_TAG_SECURE) {
        crypto_secret_free(raw, len + 1);
    } else {
        crypto_wipe(raw, len + 1);
        free(raw);
    }
}

CK_RV codec_decode(const unsigned char *buf, size_t len, struct attrs *out)
{
    CK_RV rv = CKR_DEVICE_ERROR;
    CK_OBJECT_CLASS cls = CK_UNAVAILABLE_INFORMATION;
    size_t pos = CODEC_HDR_LEN;

    if (buf == NULL || len < CODEC_HDR_LEN || memcmp(buf, CODEC_MAGIC, CODEC_MAGIC_LEN) != 0)
        return CKR_DEVICE_ERROR;
    uint64_t count = get_be(buf + CODEC_MAGIC_LEN, 4);
    /* Each attribute takes at least its header: a count the buffer cannot
     * hold is rejected before anything is allocated. */
    if (count > CODEC_MAX_ATTRS || count > (len - CODEC_HDR_LEN) / CODEC_ATTR_HDR)
        return CKR_DEVICE_ERROR;
    if (count > 0) {
        out->v = calloc((size_t)count, sizeof(*out->v));
        if (out->v == NULL)
            return CKR_HOST_MEMORY;
        out->cap = (size_t)count;
    }
    for (uint64_t i = 0; i < count; i++) {
        if (len - pos < CODEC_ATTR_HDR)
            goto out;
        uint64_t type = get_be(buf + pos, 8);
        unsigned flags = buf[pos + 8];
        uint64_t vlen = get_be(buf + pos + 9, 4);
        pos += CODEC_ATTR_HDR;
        if ((CK_ATTRIBUTE_TYPE)type != type || (flags & ~CODEC_SECRET) != 0 ||
            vlen > ATTR_MAX_VALUE || vlen > len - pos)
            goto out;
        if (i > 0 && out->v[i - 1].type >= type)
            goto out; /* unsorted or duplicate */
        /* CKA_CLASS (type 0) sorts first, so the class is known in time. */
        if (type == CKA_CLASS && vlen == sizeof(CK_OBJECT_CLASS))
            memcpy(&cls, buf + pos, sizeof(cls));
        struct attr *e = &out->v[i];
        e->type = (CK_ATTRIBUTE_TYPE)type;
        e->len = (CK_ULONG)vlen;
        e->secret = (flags & CODEC_SECRET) != 0 || attr_is_secret(cls, e->type);
        if (vlen > 0) {
            e->value = e->secret ? crypto_secret_alloc((size_t)vlen) : malloc((size_t)vlen);
            if (e->value == NULL) {
                rv = CKR_HOST_MEMORY;
                goto out;
            }
            memcpy(e->value, buf + pos, (size_t)vlen);
        }
        out->n = (size_t)i + 1;
        pos += (size_t)vlen;
    }
    if (pos != len)
        goto out; /* trailing bytes */
    rv = CKR_OK;
out:
    if (rv != CKR_OK)
        attrs_free(out);
    return rv;
}
