/*
 * The store's record format for an object's attributes: self-describing and
 * versioned, strictly bounded on decode (a damaged or hostile record is
 * CKR_DEVICE_ERROR, never a crash).
 *
 *   record  = magic "CRA1" (4) | count (u32 BE) | attribute*
 *   attribute = type (u64 BE) | flags (u8: bit0 secret) | len (u32 BE) | value
 * Attributes sorted by type, no duplicates, len <= ATTR_MAX_VALUE, count <=
 * CODEC_MAX_ATTRS, nothing after the last attribute.
 */
#ifndef CRATON_OBJECT_CODEC_H
#define CRATON_OBJECT_CODEC_H

#include <stddef.h>

#include "object/attr.h"
#include "pkcs11/pkcs11.h"

#define CODEC_MAGIC "CRA1"
#define CODEC_MAX_ATTRS 512

/* Encodes a into a new heap buffer (*out, *outlen).  When the list holds
 * secret values the buffer is in the secure heap: free it with
 * codec_buffer_free.  CKR_OK or CKR_HOST_MEMORY. */
CK_RV codec_encode(const struct attrs *a, unsigned char **out, size_t *outlen) WARN_UNUSED;
void codec_buffer_free(unsigned char *buf, size_t len);

/* Decodes buf into out (empty on entry); cls decides secret placement as in
 * attr_is_secret, but a secret flag in the record is honoured too.
 * CKR_OK, CKR_HOST_MEMORY or CKR_DEVICE_ERROR (malformed). */
CK_RV codec_decode(const unsigned char *buf, size_t len, struct attrs *out) WARN_UNUSED;

#endif
