#include "object/curve.h"

#include <openssl/obj_mac.h>

#include <string.h>
#include <strings.h>

/* clang-format off */
static const struct curve curves[] = {
    {CKK_EC, NID_X9_62_prime256v1, "prime256v1", 32,
     {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}, 10,
     {"prime256v1", "P-256", "secp256r1"}, true},
    {CKK_EC, NID_secp384r1, "secp384r1", 48, {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}, 7,
     {"secp384r1", "P-384", NULL}, true},
    {CKK_EC, NID_secp521r1, "secp521r1", 66, {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23}, 7,
     {"secp521r1", "P-521", NULL}, true},
    {CKK_EC, NID_secp256k1, "secp256k1", 32, {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a}, 7,
     {"secp256k1", NULL, NULL}, false},
    {CKK_EC_EDWARDS, NID_ED25519, "ED25519", 32, {0x06, 0x03, 0x2b, 0x65, 0x70}, 5,
     {"edwards25519", "ed25519", NULL}, true},
    {CKK_EC_EDWARDS, NID_ED448, "ED448", 57, {0x06, 0x03, 0x2b, 0x65, 0x71}, 5,
     {"edwards448", "ed448", NULL}, true},
    {CKK_EC_MONTGOMERY, NID_X25519, "X25519", 32, {0x06, 0x03, 0x2b, 0x65, 0x6e}, 5,
     {"curve25519", "x25519", NULL}, false},
    {CKK_EC_MONTGOMERY, NID_X448, "X448", 56, {0x06, 0x03, 0x2b, 0x65, 0x6f}, 5,
     {"curve448", "x448", NULL}, false},
};
/* clang-format on */

bool curve_der_tlv(const unsigned char *p, size_t len, unsigned char *tag,
                   const unsigned char **val, size_t *vlen)
{
    if (p == NULL || len < 2 || (p[0] & 0x1f) == 0x1f)
        return false;
    size_t l = p[1], hdr = 2;
    if (l & 0x80) {
        size_t nb = l & 0x7f;
        if (nb == 0 || nb > 2 || len < 2 + nb)
            return false;
        l = 0;
        for (size_t i = 0; i < nb; i++)
            l = (l << 8) | p[2 + i];
        hdr += nb;
        if (l < 0x80 || (nb == 2 && l < 0x100))
            return false;
    }
    if (l != len - hdr)
        return false;
    *tag = p[0];
    *val = p + hdr;
    *vlen = l;
    return true;
}

/* X.690 8.19: base-128 subidentifiers, minimal, the last octet ends one. */
static bool oid_well_formed(const unsigned char *v, size_t len)
{
    if (len == 0 || (v[len - 1] & 0x80) != 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (v[i] == 0x80 && (i == 0 || (v[i - 1] & 0x80) == 0))
            return false;
    return true;
}

/* X.680 41.4: the PrintableString character set, not empty. */
static bool printable(const unsigned char *v, size_t len)
{
    static const char extra[] = " '()+,-./:=?";
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = v[i];
        bool alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!alnum && (ch == '\0' || strchr(extra, ch) == NULL))
            return false;
    }
    return true;
}

static const struct curve *by_oid(const unsigned char *der, size_t len)
{
    for (size_t i = 0; i < ARRAY_SIZE(curves); i++)
        if (curves[i].oid_len == len && memcmp(curves[i].oid, der, len) == 0)
            return &curves[i];
    return NULL;
}

static const struct curve *by_name(const unsigned char *v, size_t len)
{
    for (size_t i = 0; i < ARRAY_SIZE(curves); i++)
        for (size_t j = 0; j < CURVE_NAMES && curves[i].names[j] != NULL; j++)
            if (strlen(curves[i].names[j]) == len &&
                strncasecmp(curves[i].names[j], (const char *)v, len) == 0)
                return &curves[i];
    return NULL;
}

bool curve_name_approved(const char *name)
{
    for (size_t i = 0; name != NULL && i < ARRAY_SIZE(curves); i++)
        if (strcmp(curves[i].name, name) == 0)
            return curves[i].approved;
    return false;
}

CK_RV curve_from_params(const struct attr *ec_params, const struct curve **out)
{
    const unsigned char *v;
    unsigned char tag;
    size_t vlen;

    *out = NULL;
    if (!curve_der_tlv(ec_params->value, ec_params->len, &tag, &v, &vlen))
        return CKR_ATTRIBUTE_VALUE_INVALID;
    switch (tag) {
    case 0x06: /* namedCurve */
        if (!oid_well_formed(v, vlen))
            return CKR_ATTRIBUTE_VALUE_INVALID;
        *out = by_oid(ec_params->value, ec_params->len);
        break;
    case 0x13: /* PrintableString curve name (PKCS#11 3.0) */
        if (!printable(v, vlen))
            return CKR_ATTRIBUTE_VALUE_INVALID;
        *out = by_name(v, vlen);
        break;
    case 0x30: /* ecParameters */
        break;
    case 0x05: /* implicitlyCA: NULL */
        if (vlen != 0)
            return CKR_ATTRIBUTE_VALUE_INVALID;
        break;
    default:
        return CKR_ATTRIBUTE_VALUE_INVALID;
    }
    return *out != NULL ? CKR_OK : CKR_CURVE_NOT_SUPPORTED;
}
