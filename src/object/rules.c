#include "object/rules.h"

#include <stdint.h>
#include <string.h>

/*
 * The model: PKCS#11 3.2 section 4, one table ("section") per class and per
 * key type, holding only what that level adds or overrides.  An object of
 * class C and key type K is described by a list of sections, most specific
 * first (usage overrides of K, attributes of K, class C, common key, common
 * object); an attribute's rule is its first entry in that list.  Every check
 * below is derived from these tables.
 *
 * Decisions beyond the spec footnotes (see also the defaults):
 *  - CKA_SUBJECT of an X.509 certificate is optional at creation (key import
 *    fills it from the certificate).
 *  - Key material (R_MATERIAL) may not be given to generate, unwrap or derive:
 *    it comes from the mechanism (footnotes 6 and 7).
 *  - CKA_ENCAPSULATE_TEMPLATE / CKA_DECAPSULATE_TEMPLATE (3.2) are modelled
 *    like CKA_WRAP_TEMPLATE on public / private keys.
 *  - Copying a non-modifiable object may change only the copy attributes
 *    (CKA_TOKEN, CKA_PRIVATE, CKA_MODIFIABLE, CKA_DESTROYABLE); anything else
 *    is CKR_ACTION_PROHIBITED, as C_SetAttributeValue would be.
 *  - An object lacking CKA_MODIFIABLE / CKA_COPYABLE (only module-built ones,
 *    e.g. profiles) counts as not modifiable / not copyable.
 */

enum kind { K_BOOL, K_ULONG, K_BYTES, K_UTF8, K_DATE, K_ATTRS, K_MECHS, K_NONE };

#define R_DEFAULT    0x0001u /* absent at creation: dflt (bool/ulong) or empty */
#define R_REQ_CREATE 0x0002u /* required by C_CreateObject */
#define R_REQ_GEN    0x0004u /* required by key generation */
#define R_MATERIAL   0x0008u /* key value: never given to generate/unwrap/derive */
#define R_SET        0x0010u /* C_SetAttributeValue (and C_CopyObject) may change it */
#define R_TO_TRUE    0x0020u /* ... but only from false to true */
#define R_TO_FALSE   0x0040u /* ... but only from true to false */
#define R_COPY       0x0080u /* C_CopyObject may change it */
#define R_MODULE     0x0100u /* maintained by the module, never given */
#define R_IDENT      0x0200u /* identity (class, key/cert type): fixed at creation */

struct rule {
    CK_ATTRIBUTE_TYPE type;
    unsigned char kind;
    unsigned short flags;
    CK_ULONG dflt; /* R_DEFAULT of a K_BOOL / K_ULONG */
};

struct section {
    const struct rule *r;
    size_t n;
};

/* clang-format off */
#define RULE(t, k, f)    {(t), (k), (f), 0}
#define DFLT(t, k, f, d) {(t), (k), (f) | R_DEFAULT, (d)}
#define USAGE(t, d)      {(t), K_BOOL, R_SET | R_DEFAULT, (d)}
#define SECTION(a)       {(a), ARRAY_SIZE(a)}
#define NO_SECTION       {NULL, 0}
/* clang-format on */

/* ---- the tables --------------------------------------------------------- */

static const struct rule COMMON[] = {
    RULE(CKA_CLASS, K_ULONG, R_IDENT | R_REQ_CREATE),
    DFLT(CKA_TOKEN, K_BOOL, R_COPY, CK_FALSE),
    DFLT(CKA_PRIVATE, K_BOOL, R_COPY, CK_FALSE),
    DFLT(CKA_LABEL, K_UTF8, R_SET, 0),
    RULE(CKA_UNIQUE_ID, K_UTF8, R_MODULE),
    DFLT(CKA_MODIFIABLE, K_BOOL, R_SET | R_TO_FALSE | R_COPY, CK_TRUE),
    DFLT(CKA_COPYABLE, K_BOOL, R_SET | R_TO_FALSE, CK_TRUE),
    DFLT(CKA_DESTROYABLE, K_BOOL, R_SET | R_COPY, CK_TRUE),
};

static const struct rule DATA[] = {
    DFLT(CKA_APPLICATION, K_UTF8, R_SET, 0),
    DFLT(CKA_OBJECT_ID, K_BYTES, R_SET, 0),
    DFLT(CKA_VALUE, K_BYTES, R_SET, 0),
};

static const struct rule CERT[] = {
    RULE(CKA_CERTIFICATE_TYPE, K_ULONG, R_IDENT | R_REQ_CREATE),
    DFLT(CKA_TRUSTED, K_BOOL, 0, CK_FALSE),
    DFLT(CKA_CERTIFICATE_CATEGORY, K_ULONG, 0, CK_CERTIFICATE_CATEGORY_UNSPECIFIED),
    RULE(CKA_CHECK_VALUE, K_BYTES, 0),
    DFLT(CKA_START_DATE, K_DATE, R_SET, 0),
    DFLT(CKA_END_DATE, K_DATE, R_SET, 0),
    RULE(CKA_PUBLIC_KEY_INFO, K_BYTES, 0),
};

static const struct rule X509[] = {
    RULE(CKA_SUBJECT, K_BYTES, R_SET),
    DFLT(CKA_ID, K_BYTES, R_SET, 0),
    RULE(CKA_ISSUER, K_BYTES, 0),
    RULE(CKA_SERIAL_NUMBER, K_BYTES, 0),
    RULE(CKA_VALUE, K_BYTES, R_REQ_CREATE),
    RULE(CKA_URL, K_UTF8, R_SET),
    RULE(CKA_HASH_OF_SUBJECT_PUBLIC_KEY, K_BYTES, 0),
    RULE(CKA_HASH_OF_ISSUER_PUBLIC_KEY, K_BYTES, 0),
    RULE(CKA_JAVA_MIDP_SECURITY_DOMAIN, K_ULONG, 0),
    RULE(CKA_NAME_HASH_ALGORITHM, K_ULONG, 0),
};

static const struct rule PROFILE[] = {
    RULE(CKA_PROFILE_ID, K_ULONG, 0),
};

static const struct rule KEY[] = {
    RULE(CKA_KEY_TYPE, K_ULONG, R_IDENT | R_REQ_CREATE),
    DFLT(CKA_ID, K_BYTES, R_SET, 0),
    DFLT(CKA_START_DATE, K_DATE, R_SET, 0),
    DFLT(CKA_END_DATE, K_DATE, R_SET, 0),
    USAGE(CKA_DERIVE, CK_FALSE),
    RULE(CKA_LOCAL, K_BOOL, R_MODULE),
    RULE(CKA_KEY_GEN_MECHANISM, K_ULONG, R_MODULE),
    RULE(CKA_ALLOWED_MECHANISMS, K_MECHS, 0),
    /* 3.2: computed on read (objects.c, key_validation_flags), never stored */
    RULE(CKA_OBJECT_VALIDATION_FLAGS, K_ULONG, R_MODULE),
};

static const struct rule PUBLIC[] = {
    DFLT(CKA_SUBJECT, K_BYTES, R_SET, 0),
    USAGE(CKA_ENCRYPT, CK_TRUE),
    USAGE(CKA_VERIFY, CK_TRUE),
    USAGE(CKA_VERIFY_RECOVER, CK_FALSE),
    USAGE(CKA_WRAP, CK_FALSE),
    USAGE(CKA_ENCAPSULATE, CK_FALSE),
    DFLT(CKA_TRUSTED, K_BOOL, 0, CK_FALSE),
    RULE(CKA_WRAP_TEMPLATE, K_ATTRS, 0),
    RULE(CKA_ENCAPSULATE_TEMPLATE, K_ATTRS, 0),
    RULE(CKA_PUBLIC_KEY_INFO, K_BYTES, R_MATERIAL),
};

static const struct rule PRIVATE[] = {
    DFLT(CKA_PRIVATE, K_BOOL, R_COPY, CK_TRUE),
    DFLT(CKA_SUBJECT, K_BYTES, R_SET, 0),
    DFLT(CKA_SENSITIVE, K_BOOL, R_SET | R_TO_TRUE, CK_TRUE),
    DFLT(CKA_EXTRACTABLE, K_BOOL, R_SET | R_TO_FALSE, CK_FALSE),
    USAGE(CKA_DECRYPT, CK_TRUE),
    USAGE(CKA_SIGN, CK_TRUE),
    USAGE(CKA_SIGN_RECOVER, CK_FALSE),
    USAGE(CKA_UNWRAP, CK_FALSE),
    USAGE(CKA_DECAPSULATE, CK_FALSE),
    RULE(CKA_ALWAYS_SENSITIVE, K_BOOL, R_MODULE),
    RULE(CKA_NEVER_EXTRACTABLE, K_BOOL, R_MODULE),
    DFLT(CKA_WRAP_WITH_TRUSTED, K_BOOL, R_SET | R_TO_TRUE, CK_FALSE),
    RULE(CKA_UNWRAP_TEMPLATE, K_ATTRS, 0),
    RULE(CKA_DERIVE_TEMPLATE, K_ATTRS, 0),
    RULE(CKA_DECAPSULATE_TEMPLATE, K_ATTRS, 0),
    DFLT(CKA_ALWAYS_AUTHENTICATE, K_BOOL, 0, CK_FALSE),
    RULE(CKA_PUBLIC_KEY_INFO, K_BYTES, R_MATERIAL),
};

static const struct rule SECRET[] = {
    DFLT(CKA_PRIVATE, K_BOOL, R_COPY, CK_TRUE),
    DFLT(CKA_SENSITIVE, K_BOOL, R_SET | R_TO_TRUE, CK_TRUE),
    DFLT(CKA_EXTRACTABLE, K_BOOL, R_SET | R_TO_FALSE, CK_FALSE),
    USAGE(CKA_ENCRYPT, CK_TRUE),
    USAGE(CKA_DECRYPT, CK_TRUE),
    USAGE(CKA_SIGN, CK_TRUE),
    USAGE(CKA_VERIFY, CK_TRUE),
    USAGE(CKA_WRAP, CK_FALSE),
    USAGE(CKA_UNWRAP, CK_FALSE),
    RULE(CKA_ALWAYS_SENSITIVE, K_BOOL, R_MODULE),
    RULE(CKA_NEVER_EXTRACTABLE, K_BOOL, R_MODULE),
    RULE(CKA_CHECK_VALUE, K_BYTES, 0),
    DFLT(CKA_WRAP_WITH_TRUSTED, K_BOOL, R_SET | R_TO_TRUE, CK_FALSE),
    DFLT(CKA_TRUSTED, K_BOOL, 0, CK_FALSE),
    RULE(CKA_WRAP_TEMPLATE, K_ATTRS, 0),
    RULE(CKA_UNWRAP_TEMPLATE, K_ATTRS, 0),
    RULE(CKA_DERIVE_TEMPLATE, K_ATTRS, 0),
    RULE(CKA_VALUE, K_BYTES, R_REQ_CREATE | R_MATERIAL),
    RULE(CKA_VALUE_LEN, K_ULONG, 0),
};

/* Key types. */
static const struct rule RSA_PUB[] = {
    RULE(CKA_MODULUS, K_BYTES, R_REQ_CREATE | R_MATERIAL),
    RULE(CKA_MODULUS_BITS, K_ULONG, R_REQ_GEN),
    RULE(CKA_PUBLIC_EXPONENT, K_BYTES, R_REQ_CREATE),
};

static const struct rule RSA_PRIV[] = {
    RULE(CKA_MODULUS, K_BYTES, R_REQ_CREATE | R_MATERIAL),
    RULE(CKA_PUBLIC_EXPONENT, K_BYTES, 0),
    RULE(CKA_PRIVATE_EXPONENT, K_BYTES, R_REQ_CREATE | R_MATERIAL),
    RULE(CKA_PRIME_1, K_BYTES, R_MATERIAL),
    RULE(CKA_PRIME_2, K_BYTES, R_MATERIAL),
    RULE(CKA_EXPONENT_1, K_BYTES, R_MATERIAL),
    RULE(CKA_EXPONENT_2, K_BYTES, R_MATERIAL),
    RULE(CKA_COEFFICIENT, K_BYTES, R_MATERIAL),
};

/* CKK_EC, CKK_EC_EDWARDS, CKK_EC_MONTGOMERY */
static const struct rule EC_PUB[] = {
    RULE(CKA_EC_PARAMS, K_BYTES, R_REQ_CREATE | R_REQ_GEN),
    RULE(CKA_EC_POINT, K_BYTES, R_REQ_CREATE | R_MATERIAL),
};

static const struct rule EC_PRIV[] = {
    RULE(CKA_EC_PARAMS, K_BYTES, R_REQ_CREATE),
    RULE(CKA_VALUE, K_BYTES, R_REQ_CREATE | R_MATERIAL),
};

/* CKK_ML_KEM, CKK_ML_DSA, CKK_SLH_DSA */
static const struct rule PQC_PUB[] = {
    RULE(CKA_PARAMETER_SET, K_ULONG, R_REQ_CREATE | R_REQ_GEN),
    RULE(CKA_VALUE, K_BYTES, R_REQ_CREATE | R_MATERIAL),
};

/* A private key needs CKA_VALUE or CKA_SEED (3.2: "at least one"):
 * keyimport_check enforces that and computes the value from a seed. */
static const struct rule PQC_PRIV[] = {
    RULE(CKA_PARAMETER_SET, K_ULONG, R_REQ_CREATE),
    RULE(CKA_VALUE, K_BYTES, R_MATERIAL),
    RULE(CKA_SEED, K_BYTES, R_MATERIAL),
};

/* Usage defaults of key types that cannot do what their class usually does. */
/* EC, EC_EDWARDS: sign/verify only */
static const struct rule ECC_PUB_USE[] = {
    USAGE(CKA_ENCRYPT, CK_FALSE),
};
static const struct rule ECC_PRIV_USE[] = {
    USAGE(CKA_DECRYPT, CK_FALSE),
};
/* EC_MONTGOMERY: key agreement only */
static const struct rule MONT_PUB_USE[] = {
    USAGE(CKA_ENCRYPT, CK_FALSE),
    USAGE(CKA_VERIFY, CK_FALSE),
    USAGE(CKA_DERIVE, CK_TRUE),
};
static const struct rule MONT_PRIV_USE[] = {
    USAGE(CKA_DECRYPT, CK_FALSE),
    USAGE(CKA_SIGN, CK_FALSE),
    USAGE(CKA_DERIVE, CK_TRUE),
};
/* ML_KEM: encapsulation only */
static const struct rule KEM_PUB_USE[] = {
    USAGE(CKA_ENCRYPT, CK_FALSE),
    USAGE(CKA_VERIFY, CK_FALSE),
    USAGE(CKA_ENCAPSULATE, CK_TRUE),
};
static const struct rule KEM_PRIV_USE[] = {
    USAGE(CKA_DECRYPT, CK_FALSE),
    USAGE(CKA_SIGN, CK_FALSE),
    USAGE(CKA_DECAPSULATE, CK_TRUE),
};
/* ML_DSA, SLH_DSA: sign/verify only, as EC. */

struct key_type {
    CK_KEY_TYPE kt;
    struct section pub_use, pub, priv_use, priv;
};

static const struct key_type ASYMMETRIC[] = {
    {CKK_RSA, NO_SECTION, SECTION(RSA_PUB), NO_SECTION, SECTION(RSA_PRIV)},
    {CKK_EC, SECTION(ECC_PUB_USE), SECTION(EC_PUB), SECTION(ECC_PRIV_USE), SECTION(EC_PRIV)},
    {CKK_EC_EDWARDS, SECTION(ECC_PUB_USE), SECTION(EC_PUB), SECTION(ECC_PRIV_USE),
     SECTION(EC_PRIV)},
    {CKK_EC_MONTGOMERY, SECTION(MONT_PUB_USE), SECTION(EC_PUB), SECTION(MONT_PRIV_USE),
     SECTION(EC_PRIV)},
    {CKK_ML_KEM, SECTION(KEM_PUB_USE), SECTION(PQC_PUB), SECTION(KEM_PRIV_USE), SECTION(PQC_PRIV)},
    {CKK_ML_DSA, SECTION(ECC_PUB_USE), SECTION(PQC_PUB), SECTION(ECC_PRIV_USE), SECTION(PQC_PRIV)},
    {CKK_SLH_DSA, SECTION(ECC_PUB_USE), SECTION(PQC_PUB), SECTION(ECC_PRIV_USE), SECTION(PQC_PRIV)},
};

/* Secret key types: CKA_VALUE and CKA_VALUE_LEN, both in SECRET. */
static const CK_KEY_TYPE SYMMETRIC[] = {
    CKK_GENERIC_SECRET, CKK_AES,           CKK_DES3,          CKK_SHA_1_HMAC,
    CKK_SHA224_HMAC,    CKK_SHA256_HMAC,   CKK_SHA384_HMAC,   CKK_SHA512_HMAC,
    CKK_SHA3_224_HMAC,  CKK_SHA3_256_HMAC, CKK_SHA3_384_HMAC, CKK_SHA3_512_HMAC,
    CKK_SHA512_224_HMAC, CKK_SHA512_256_HMAC, CKK_HKDF,
};

/* Every section, for questions about a type regardless of class. */
static const struct section ALL[] = {
    SECTION(COMMON),   SECTION(DATA),   SECTION(CERT),    SECTION(X509),    SECTION(PROFILE),
    SECTION(KEY),      SECTION(PUBLIC), SECTION(PRIVATE), SECTION(SECRET),  SECTION(RSA_PUB),
    SECTION(RSA_PRIV), SECTION(EC_PUB), SECTION(EC_PRIV), SECTION(PQC_PUB), SECTION(PQC_PRIV),
};

/* ---- models ------------------------------------------------------------- */

#define MODEL_MAX 5

struct model {
    struct section s[MODEL_MAX];
    size_t n;
};

static void model_add(struct model *m, struct section s)
{
    if (s.n > 0)
        m->s[m->n++] = s;
}

static bool is_key_class(CK_OBJECT_CLASS cls)
{
    return cls == CKO_PUBLIC_KEY || cls == CKO_PRIVATE_KEY || cls == CKO_SECRET_KEY;
}

/* The sections describing class cls / key type kt, most specific first;
 * false when not modelled.  Certificates are X.509 (the only type). */
static bool model_for(CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, struct model *m)
{
    m->n = 0;
    switch (cls) {
    case CKO_DATA:
        model_add(m, (struct section)SECTION(DATA));
        break;
    case CKO_CERTIFICATE:
        model_add(m, (struct section)SECTION(X509));
        model_add(m, (struct section)SECTION(CERT));
        break;
    case CKO_PROFILE:
        model_add(m, (struct section)SECTION(PROFILE));
        break;
    case CKO_SECRET_KEY:
        for (size_t i = 0; i < ARRAY_SIZE(SYMMETRIC); i++) {
            if (SYMMETRIC[i] == kt) {
                model_add(m, (struct section)SECTION(SECRET));
                model_add(m, (struct section)SECTION(KEY));
                break;
            }
        }
        if (m->n == 0)
            return false;
        break;
    case CKO_PUBLIC_KEY:
    case CKO_PRIVATE_KEY:
        for (size_t i = 0; i < ARRAY_SIZE(ASYMMETRIC); i++) {
            const struct key_type *k = &ASYMMETRIC[i];
            if (k->kt != kt)
                continue;
            bool pub = cls == CKO_PUBLIC_KEY;
            model_add(m, pub ? k->pub_use : k->priv_use);
            model_add(m, pub ? k->pub : k->priv);
            model_add(m, pub ? (struct section)SECTION(PUBLIC) : (struct section)SECTION(PRIVATE));
            model_add(m, (struct section)SECTION(KEY));
            break;
        }
        if (m->n == 0)
            return false;
        break;
    default:
        return false;
    }
    model_add(m, (struct section)SECTION(COMMON));
    return true;
}

static const struct rule *section_find(struct section s, CK_ATTRIBUTE_TYPE type)
{
    for (size_t i = 0; i < s.n; i++) {
        if (s.r[i].type == type)
            return &s.r[i];
    }
    return NULL;
}

static const struct rule *model_find(const struct model *m, CK_ATTRIBUTE_TYPE type)
{
    for (size_t i = 0; i < m->n; i++) {
        const struct rule *r = section_find(m->s[i], type);
        if (r != NULL)
            return r;
    }
    return NULL;
}

/* The kind of type in whatever class has it (kinds never differ by class). */
static enum kind kind_of(CK_ATTRIBUTE_TYPE type)
{
    for (size_t i = 0; i < ARRAY_SIZE(ALL); i++) {
        const struct rule *r = section_find(ALL[i], type);
        if (r != NULL)
            return (enum kind)r->kind;
    }
    return K_NONE;
}

/* The class and key type of an existing object and its model. */
static bool object_model(const struct attrs *obj, CK_OBJECT_CLASS *cls, CK_KEY_TYPE *kt,
                         struct model *m)
{
    *kt = CK_UNAVAILABLE_INFORMATION;
    if (attrs_get_ulong(obj, CKA_CLASS, cls) != CKR_OK)
        return false;
    if (is_key_class(*cls) && attrs_get_ulong(obj, CKA_KEY_TYPE, kt) != CKR_OK)
        return false;
    return model_for(*cls, *kt, m);
}

/* ---- values ------------------------------------------------------------- */

static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i <= k)
            return false; /* truncated sequence */
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3Fu);
        }
        /* overlong forms, UTF-16 surrogates, beyond Unicode */
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

static unsigned digits(const unsigned char *p, size_t n)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (unsigned)(p[i] - '0');
    return v;
}

/* CK_DATE: empty, or "YYYYMMDD" naming a real day of 1900..9999. */
static bool date_valid(const unsigned char *v, size_t n)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (n == 0)
        return true;
    if (n != sizeof(CK_DATE))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
    }
    unsigned y = digits(v, 4), m = digits(v + 4, 2), d = digits(v + 6, 2);
    if (y < 1900 || m < 1 || m > 12 || d < 1)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= dim[m - 1] + (m == 2 && leap ? 1u : 0u);
}

static uint64_t get_be(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static bool kind_valid(enum kind k, CK_ATTRIBUTE_TYPE type, const unsigned char *v, size_t n);

/* The flat attribute-array form attrs_from_template writes (documented in
 * attr.c): count (u32 BE) | { type (u64 BE) | len (u32 BE) | value }*count,
 * sorted, unique, count <= ATTR_MAX_NESTED, one level only.  Nested values
 * of types we know must be well-formed for their kind too. */
static bool nested_valid(const unsigned char *v, size_t n)
{
    if (n < 4 || n > ATTR_MAX_VALUE)
        return false;
    uint64_t count = get_be(v, 4), prev = 0;
    size_t pos = 4;
    if (count > ATTR_MAX_NESTED)
        return false;
    for (uint64_t i = 0; i < count; i++) {
        if (n - pos < 12)
            return false;
        uint64_t type = get_be(v + pos, 8), len = get_be(v + pos + 8, 4);
        if ((i > 0 && type <= prev) || (CK_ATTRIBUTE_TYPE)type != type)
            return false;
        prev = type;
        pos += 12;
        if (len > n - pos)
            return false;
        enum kind k = kind_of((CK_ATTRIBUTE_TYPE)type);
        if (k == K_ATTRS || (k != K_NONE && !kind_valid(k, (CK_ATTRIBUTE_TYPE)type, v + pos, len)))
            return false;
        pos += (size_t)len;
    }
    return pos == n;
}

static bool kind_valid(enum kind k, CK_ATTRIBUTE_TYPE type, const unsigned char *v, size_t n)
{
    switch (k) {
    case K_BOOL:
        return n == sizeof(CK_BBOOL) && v[0] <= CK_TRUE;
    case K_ULONG:
        if (n != sizeof(CK_ULONG))
            return false;
        if (type == CKA_CERTIFICATE_CATEGORY) {
            CK_ULONG c;
            memcpy(&c, v, sizeof(c));
            return c <= CK_CERTIFICATE_CATEGORY_OTHER_ENTITY;
        }
        return true;
    case K_UTF8:
        return utf8_valid(v, n);
    case K_DATE:
        return date_valid(v, n);
    case K_ATTRS:
        return nested_valid(v, n);
    case K_MECHS:
        return n % sizeof(CK_MECHANISM_TYPE) == 0;
    case K_BYTES:
        return true;
    case K_NONE:
    default:
        return false;
    }
}

static bool value_valid(const struct rule *r, const struct attr *a)
{
    return kind_valid((enum kind)r->kind, a->type, a->value, a->len);
}

/* ---- public ------------------------------------------------------------- */

CK_RV rules_class_supported(CK_OBJECT_CLASS cls, CK_KEY_TYPE key_type)
{
    struct model m;
    return model_for(cls, key_type, &m) ? CKR_OK : CKR_ATTRIBUTE_VALUE_INVALID;
}

bool rules_known(CK_OBJECT_CLASS cls, CK_KEY_TYPE key_type, CK_ATTRIBUTE_TYPE type)
{
    struct model m;
    return model_for(cls, key_type, &m) && model_find(&m, type) != NULL;
}

const char *rules_kind_name(CK_ATTRIBUTE_TYPE type)
{
    switch (kind_of(type)) {
    case K_BOOL:
        return "CK_BBOOL";
    case K_ULONG:
        return "CK_ULONG";
    case K_BYTES:
        return "byte array";
    case K_UTF8:
        return "UTF-8 string";
    case K_DATE:
        return "CK_DATE";
    case K_ATTRS:
        return "CK_ATTRIBUTE array";
    case K_MECHS:
        return "CK_MECHANISM_TYPE array";
    case K_NONE:
    default:
        return "unknown";
    }
}

static bool required_for(const struct rule *r, enum rules_op op)
{
    return (op == RULES_CREATE && (r->flags & R_REQ_CREATE)) ||
           (op == RULES_GENERATE && (r->flags & R_REQ_GEN));
}

/* Adds what the module maintains to a new key's attributes. */
static CK_RV complete_module(enum rules_op op, struct attrs *t, CK_OBJECT_CLASS cls,
                             CK_MECHANISM_TYPE mech, bool base_always_sensitive,
                             bool base_never_extractable)
{
    bool gen = op == RULES_GENERATE, create = op == RULES_CREATE;
    CK_RV rv = attrs_set_bool(t, CKA_LOCAL, gen);
    if (rv == CKR_OK)
        rv = attrs_set_ulong(t, CKA_KEY_GEN_MECHANISM, gen ? mech : CK_UNAVAILABLE_INFORMATION);
    if (rv != CKR_OK || cls == CKO_PUBLIC_KEY)
        return rv;
    /* Defaults are in place: these two attributes exist and are valid. */
    bool sensitive = attrs_bool(t, CKA_SENSITIVE, true);
    bool extractable = attrs_bool(t, CKA_EXTRACTABLE, false);
    bool always = sensitive && !create && (gen || base_always_sensitive);
    bool never = !extractable && !create && (gen || base_never_extractable);
    rv = attrs_set_bool(t, CKA_ALWAYS_SENSITIVE, always);
    if (rv == CKR_OK)
        rv = attrs_set_bool(t, CKA_NEVER_EXTRACTABLE, never);
    return rv;
}

CK_RV rules_complete_new(enum rules_op op, struct attrs *t, CK_MECHANISM_TYPE mech,
                         bool base_always_sensitive, bool base_never_extractable)
{
    CK_OBJECT_CLASS cls;
    CK_KEY_TYPE kt = CK_UNAVAILABLE_INFORMATION;
    struct model m;
    CK_RV rv;

    /* Identity: class, key type, certificate type. */
    rv = attrs_get_ulong(t, CKA_CLASS, &cls);
    if (rv != CKR_OK)
        return rv; /* CKR_TEMPLATE_INCOMPLETE or CKR_ATTRIBUTE_VALUE_INVALID */
    bool key = is_key_class(cls);
    if (key) {
        rv = attrs_get_ulong(t, CKA_KEY_TYPE, &kt);
        if (rv != CKR_OK)
            return rv;
    }
    if (!model_for(cls, kt, &m))
        return CKR_ATTRIBUTE_VALUE_INVALID;
    if (cls == CKO_PROFILE && op == RULES_CREATE)
        return CKR_ATTRIBUTE_VALUE_INVALID; /* only the module makes profiles */
    if (!key && op != RULES_CREATE)
        return CKR_TEMPLATE_INCONSISTENT; /* mechanisms only make keys */
    if (cls == CKO_CERTIFICATE) {
        CK_CERTIFICATE_TYPE ct;
        rv = attrs_get_ulong(t, CKA_CERTIFICATE_TYPE, &ct);
        if (rv == CKR_ATTRIBUTE_VALUE_INVALID || (rv == CKR_OK && ct != CKC_X_509))
            return CKR_ATTRIBUTE_VALUE_INVALID;
    }

    /* Every given attribute, in type order. */
    for (size_t i = 0; i < t->n; i++) {
        const struct attr *a = &t->v[i];
        const struct rule *r = model_find(&m, a->type);
        if (r == NULL)
            return CKR_ATTRIBUTE_TYPE_INVALID;
        if (r->flags & R_MODULE)
            return CKR_ATTRIBUTE_READ_ONLY;
        if (!value_valid(r, a))
            return CKR_ATTRIBUTE_VALUE_INVALID;
        if (op != RULES_CREATE && (r->flags & R_MATERIAL))
            return CKR_TEMPLATE_INCONSISTENT;
    }

    /* Required attributes, then defaults; a rule shadowed by a more
     * specific section does not count. */
    for (size_t s = 0; s < m.n; s++) {
        for (size_t i = 0; i < m.s[s].n; i++) {
            const struct rule *r = &m.s[s].r[i];
            if (model_find(&m, r->type) == r && required_for(r, op) &&
                attrs_find(t, r->type) == NULL)
                return CKR_TEMPLATE_INCOMPLETE;
        }
    }
    for (size_t s = 0; s < m.n; s++) {
        for (size_t i = 0; i < m.s[s].n; i++) {
            const struct rule *r = &m.s[s].r[i];
            if (!(r->flags & R_DEFAULT) || model_find(&m, r->type) != r ||
                attrs_find(t, r->type) != NULL)
                continue;
            if (r->kind == K_BOOL) {
                rv = attrs_set_bool(t, r->type, r->dflt != CK_FALSE);
            } else if (r->kind == K_ULONG) {
                rv = attrs_set_ulong(t, r->type, r->dflt);
            } else {
                rv = attrs_set(t, cls, r->type, NULL, 0);
            }
            if (rv != CKR_OK)
                return rv;
        }
    }
    if (!key)
        return CKR_OK;
    return complete_module(op, t, cls, mech, base_always_sensitive, base_never_extractable);
}

/* C_SetAttributeValue (copy false) and C_CopyObject (copy true). */
static CK_RV check_changes(const struct attrs *obj, const struct attrs *changes, bool copy)
{
    CK_OBJECT_CLASS cls;
    CK_KEY_TYPE kt;
    struct model m;

    if (!object_model(obj, &cls, &kt, &m))
        return CKR_GENERAL_ERROR; /* not an object this layer made */
    bool modifiable = attrs_bool(obj, CKA_MODIFIABLE, false);
    if (copy ? !attrs_bool(obj, CKA_COPYABLE, false) : !modifiable)
        return CKR_ACTION_PROHIBITED;

    for (size_t i = 0; i < changes->n; i++) {
        const struct attr *c = &changes->v[i];
        const struct rule *r = model_find(&m, c->type);
        if (r == NULL)
            return CKR_ATTRIBUTE_TYPE_INVALID;
        if (copy && (r->flags & R_IDENT)) {
            /* A copy may repeat the identity, never change it. */
            const struct attr *o = attrs_find(obj, c->type);
            if (!value_valid(r, c))
                return CKR_ATTRIBUTE_VALUE_INVALID;
            if (o == NULL || o->len != c->len || memcmp(o->value, c->value, c->len) != 0)
                return CKR_TEMPLATE_INCONSISTENT;
            continue;
        }
        bool allowed = (r->flags & R_SET) || (copy && (r->flags & R_COPY));
        if (!allowed || (r->flags & R_MODULE))
            return CKR_ATTRIBUTE_READ_ONLY;
        if (!value_valid(r, c))
            return CKR_ATTRIBUTE_VALUE_INVALID;
        if (!modifiable && !(r->flags & R_COPY))
            return CKR_ACTION_PROHIBITED;
        /* Monotonic ones are CK_BBOOLs, valid by now.  An absent current
         * value counts as the one that forbids the change. */
        if ((r->flags & R_TO_TRUE) && c->value[0] == CK_FALSE && attrs_bool(obj, c->type, true))
            return CKR_ATTRIBUTE_READ_ONLY;
        if ((r->flags & R_TO_FALSE) && c->value[0] == CK_TRUE && !attrs_bool(obj, c->type, false))
            return CKR_ATTRIBUTE_READ_ONLY;
    }
    return CKR_OK;
}

CK_RV rules_check_set(const struct attrs *obj, const struct attrs *changes)
{
    return check_changes(obj, changes, false);
}

CK_RV rules_check_copy(const struct attrs *obj, const struct attrs *changes)
{
    return check_changes(obj, changes, true);
}

CK_RV rules_readable(const struct attrs *obj, CK_ATTRIBUTE_TYPE type)
{
    CK_OBJECT_CLASS cls = CK_UNAVAILABLE_INFORMATION;
    const struct attr *a = attrs_find(obj, type);

    if (a == NULL)
        return CKR_ATTRIBUTE_TYPE_INVALID;
    if (attrs_get_ulong(obj, CKA_CLASS, &cls) != CKR_OK)
        cls = CK_UNAVAILABLE_INFORMATION;
    if (!a->secret && !attr_is_secret(cls, type))
        return CKR_OK;
    /* Absent flags count as protected. */
    if (attrs_bool(obj, CKA_SENSITIVE, true) || !attrs_bool(obj, CKA_EXTRACTABLE, false))
        return CKR_ATTRIBUTE_SENSITIVE;
    return CKR_OK;
}
