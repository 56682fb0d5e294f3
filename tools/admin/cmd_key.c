/* craton-admin key list | generate | import | export | delete */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/ck_names.h"

#define KEY_ID_MAX    64
#define KEY_ATTRS_MAX 40
#define KEY_BUF_MAX   (64 * 1024)

static const char help_key[] =
    "Usage: craton-admin key SUBCOMMAND [OPTIONS]\n\n"
    "  list       objects: class, type, size, label, id, usage\n"
    "  generate   a key or key pair inside the token\n"
    "  import     a PEM/DER private key, public key or certificate, or a raw AES key\n"
    "  export     a public key or certificate as PEM\n"
    "  delete     objects by label, id or handle\n\n"
    "Keys are used by applications through PKCS#11; the user PIN comes from\n"
    "--pin-file / $CRATON_USER_PIN / a prompt.\n"
    "See 'craton-admin key SUBCOMMAND --help'.\n";

static const char help_list[] =
    "Usage: craton-admin key list [--slot N] [--login] [--pin-file F] [--json]\n\n"
    "Lists the token's objects: handle, class, type, size, label, id (hex) and usage.\n"
    "Private objects appear only when logged in (--login or --pin-file).\n\n"
    "Examples:\n"
    "  craton-admin key list --login\n"
    "  craton-admin --json key list --pin-file user.pin\n";

static const char help_generate[] =
    "Usage: craton-admin key generate --type TYPE --label LABEL [--id HEX]\n"
    "                                 [--usage U,U,...] [--slot N] [--pin-file F]\n\n"
    "Generates a key (pair) on the token as the user.  TYPE is one of\n"
    "  rsa:2048 rsa:3072 rsa:4096   ec:p256 ec:p384 ec:p521   ed25519 ed448 x25519\n"
    "  aes:128 aes:192 aes:256      ml-kem-512 ml-kem-768 ml-kem-1024\n"
    "  ml-dsa-44 ml-dsa-65 ml-dsa-87\n"
    "  slh-dsa-sha2-128s slh-dsa-sha2-128f slh-dsa-sha2-192s slh-dsa-sha2-192f\n"
    "  slh-dsa-sha2-256s slh-dsa-sha2-256f and the slh-dsa-shake-* sets\n"
    "USAGE: sign, verify, encrypt, decrypt, wrap, unwrap, derive, encapsulate,\n"
    "decapsulate (default: what the type is for).  --id defaults to 8 random bytes.\n"
    "Private and secret keys are sensitive and not extractable.\n\n"
    "Examples:\n"
    "  craton-admin key generate --type ec:p256 --label signer\n"
    "  craton-admin key generate --type rsa:3072 --label tls --id 01 --usage sign,verify\n"
    "  craton-admin key generate --type ml-dsa-65 --label pq-signer\n";

static const char help_import[] =
    "Usage: craton-admin key import --file F --label LABEL [--id HEX] [--usage U,...]\n"
    "                               [--raw-aes] [--slot N] [--pin-file F]\n\n"
    "Imports a private key (PEM or DER, PKCS#8 or traditional, unencrypted), a\n"
    "public key (SubjectPublicKeyInfo) or an X.509 certificate.  The file is parsed\n"
    "and validated with OpenSSL and turned into PKCS#11 attributes (RSA components,\n"
    "EC parameters and point/value, Ed25519/Ed448/X25519 values, ML-KEM/ML-DSA/SLH-DSA\n"
    "encodings); a private key also gets its public key object.  --raw-aes imports\n"
    "a file of exactly 16, 24 or 32 bytes as an AES key.\n\n"
    "Examples:\n"
    "  craton-admin key import --file server.key --label server --id 01\n"
    "  craton-admin key import --file server.crt --label server --id 01\n"
    "  craton-admin key import --file kek.bin --raw-aes --label kek\n";

static const char help_export[] =
    "Usage: craton-admin key export (--label L | --id HEX) --out F.pem\n"
    "                               [--class pubkey|cert] [--force] [--login]\n\n"
    "Writes a public key (CKA_PUBLIC_KEY_INFO as PEM \"PUBLIC KEY\") or a certificate\n"
    "(CKA_VALUE as PEM \"CERTIFICATE\").  Without --class the public key is preferred;\n"
    "a private key's public half is found when logged in.  --out - writes to\n"
    "standard output; an existing file is replaced only with --force.\n\n"
    "Examples:\n"
    "  craton-admin key export --label signer --out signer.pub.pem\n"
    "  craton-admin key export --id 01 --class cert --out server.crt\n";

static const char help_delete[] =
    "Usage: craton-admin key delete (--label L | --id HEX | --handle H) [--yes]\n"
    "                               [--slot N] [--pin-file F]\n\n"
    "Destroys every object matching all the given selectors (logged in as the user,\n"
    "so private objects count), after listing them and asking for confirmation\n"
    "(--yes skips the question).  Handles are those 'key list --login' shows; they\n"
    "are numbered as the module loads the store, so prefer --label or --id.\n\n"
    "Examples:\n"
    "  craton-admin key delete --label old-signer\n"
    "  craton-admin key delete --id 0a1b --yes\n";

static CK_BBOOL ck_true = CK_TRUE, ck_false = CK_FALSE;

/* ---- a template with owned values ---- */

struct tmpl {
    CK_ATTRIBUTE a[KEY_ATTRS_MAX];
    bool owned[KEY_ATTRS_MAX];
    CK_ULONG n;
    bool overflow;
};

static void t_add(struct tmpl *t, CK_ATTRIBUTE_TYPE type, void *v, CK_ULONG len)
{
    if (t->n >= KEY_ATTRS_MAX) {
        t->overflow = true;
        return;
    }
    t->a[t->n].type = type;
    t->a[t->n].pValue = v;
    t->a[t->n].ulValueLen = len;
    t->owned[t->n] = false;
    t->n++;
}

/* Takes ownership of v (malloc'ed; wiped and freed by t_free). */
static void t_take(struct tmpl *t, CK_ATTRIBUTE_TYPE type, void *v, CK_ULONG len)
{
    if (v == NULL || t->n >= KEY_ATTRS_MAX) {
        t->overflow = true;
        OPENSSL_clear_free(v, len);
        return;
    }
    t_add(t, type, v, len);
    t->owned[t->n - 1] = true;
}

static void t_ulong(struct tmpl *t, CK_ATTRIBUTE_TYPE type, CK_ULONG v)
{
    CK_ULONG *p = malloc(sizeof(*p));
    if (p != NULL)
        *p = v;
    t_take(t, type, p, sizeof(*p));
}

static void t_bool(struct tmpl *t, CK_ATTRIBUTE_TYPE type, bool v)
{
    t_add(t, type, v ? &ck_true : &ck_false, sizeof(CK_BBOOL));
}

static void t_free(struct tmpl *t)
{
    for (CK_ULONG i = 0; i < t->n; i++)
        if (t->owned[i])
            OPENSSL_clear_free(t->a[i].pValue, t->a[i].ulValueLen);
    t->n = 0;
}

/* ---- usages ---- */

enum {
    U_SIGN = 1 << 0,
    U_VERIFY = 1 << 1,
    U_ENCRYPT = 1 << 2,
    U_DECRYPT = 1 << 3,
    U_WRAP = 1 << 4,
    U_UNWRAP = 1 << 5,
    U_DERIVE = 1 << 6,
    U_ENCAP = 1 << 7,
    U_DECAP = 1 << 8,
};

static const struct {
    const char *name;
    unsigned bit;
    CK_ATTRIBUTE_TYPE attr;
    bool public_half; /* of a key pair: the public key's attribute */
} usages[] = {
    {"sign", U_SIGN, CKA_SIGN, false},
    {"verify", U_VERIFY, CKA_VERIFY, true},
    {"encrypt", U_ENCRYPT, CKA_ENCRYPT, true},
    {"decrypt", U_DECRYPT, CKA_DECRYPT, false},
    {"wrap", U_WRAP, CKA_WRAP, true},
    {"unwrap", U_UNWRAP, CKA_UNWRAP, false},
    {"derive", U_DERIVE, CKA_DERIVE, false},
    {"encapsulate", U_ENCAP, CKA_ENCAPSULATE, true},
    {"decapsulate", U_DECAP, CKA_DECAPSULATE, false},
};
#define N_USAGES (sizeof(usages) / sizeof(usages[0]))

#define SIGVER (U_SIGN | U_VERIFY)
#define ENCDEC (U_ENCRYPT | U_DECRYPT)
#define WRAPUN (U_WRAP | U_UNWRAP)
#define KEM    (U_ENCAP | U_DECAP)

static int parse_usage(const char *s, unsigned allowed, unsigned *out)
{
    char buf[256];
    if (strlen(s) >= sizeof(buf))
        return adm_usage_error("key ", "--usage is too long");
    snprintf(buf, sizeof(buf), "%s", s);
    *out = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        size_t i;
        for (i = 0; i < N_USAGES; i++)
            if (strcmp(tok, usages[i].name) == 0)
                break;
        if (i == N_USAGES)
            return adm_usage_error("key ",
                                   "unknown usage '%s' (sign, verify, encrypt, decrypt, wrap, "
                                   "unwrap, derive, encapsulate, decapsulate)",
                                   tok);
        if (!(usages[i].bit & allowed))
            return adm_usage_error("key ", "usage '%s' does not fit this key type", tok);
        *out |= usages[i].bit;
    }
    if (*out == 0)
        return adm_usage_error("key ", "--usage is empty");
    return ADM_OK;
}

/* Adds the usage attributes of one object: for a pair half, only that half's. */
static void t_usages(struct tmpl *t, unsigned u, int half /* -1 single, 0 private, 1 public */)
{
    for (size_t i = 0; i < N_USAGES; i++) {
        if (half >= 0 && usages[i].public_half != (half == 1))
            continue;
        bool on = (u & usages[i].bit) != 0;
        /* KEM attributes only when wanted: older key types do not know them. */
        if (!on && (usages[i].bit & KEM))
            continue;
        t_bool(t, usages[i].attr, on);
    }
}

/* ---- key types ---- */

static const unsigned char oid_p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                         0xce, 0x3d, 0x03, 0x01, 0x07};
static const unsigned char oid_p384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const unsigned char oid_p521[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};
static const unsigned char oid_ed25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
static const unsigned char oid_ed448[] = {0x06, 0x03, 0x2b, 0x65, 0x71};
static const unsigned char oid_x25519[] = {0x06, 0x03, 0x2b, 0x65, 0x6e};
static const unsigned char oid_x448[] = {0x06, 0x03, 0x2b, 0x65, 0x6f};

struct keytype {
    const char *name; /* --type */
    CK_KEY_TYPE kt;
    CK_MECHANISM_TYPE mech;
    CK_ULONG size;            /* RSA bits, AES bytes */
    const unsigned char *oid; /* EC params */
    size_t oid_len;
    CK_ULONG set;          /* CKA_PARAMETER_SET */
    unsigned def, allowed; /* usages */
};

#define OID(x) x, sizeof(x)
/* clang-format off */
static const struct keytype keytypes[] = {
    {"rsa:2048", CKK_RSA, CKM_RSA_PKCS_KEY_PAIR_GEN, 2048, NULL, 0, 0, SIGVER | ENCDEC, SIGVER | ENCDEC | WRAPUN},
    {"rsa:3072", CKK_RSA, CKM_RSA_PKCS_KEY_PAIR_GEN, 3072, NULL, 0, 0, SIGVER | ENCDEC, SIGVER | ENCDEC | WRAPUN},
    {"rsa:4096", CKK_RSA, CKM_RSA_PKCS_KEY_PAIR_GEN, 4096, NULL, 0, 0, SIGVER | ENCDEC, SIGVER | ENCDEC | WRAPUN},
    {"ec:p256", CKK_EC, CKM_EC_KEY_PAIR_GEN, 0, OID(oid_p256), 0, SIGVER, SIGVER | U_DERIVE},
    {"ec:p384", CKK_EC, CKM_EC_KEY_PAIR_GEN, 0, OID(oid_p384), 0, SIGVER, SIGVER | U_DERIVE},
    {"ec:p521", CKK_EC, CKM_EC_KEY_PAIR_GEN, 0, OID(oid_p521), 0, SIGVER, SIGVER | U_DERIVE},
    {"ed25519", CKK_EC_EDWARDS, CKM_EC_EDWARDS_KEY_PAIR_GEN, 0, OID(oid_ed25519), 0, SIGVER, SIGVER},
    {"ed448", CKK_EC_EDWARDS, CKM_EC_EDWARDS_KEY_PAIR_GEN, 0, OID(oid_ed448), 0, SIGVER, SIGVER},
    {"x25519", CKK_EC_MONTGOMERY, CKM_EC_MONTGOMERY_KEY_PAIR_GEN, 0, OID(oid_x25519), 0, U_DERIVE, U_DERIVE},
    {"x448", CKK_EC_MONTGOMERY, CKM_EC_MONTGOMERY_KEY_PAIR_GEN, 0, OID(oid_x448), 0, U_DERIVE, U_DERIVE},
    {"aes:128", CKK_AES, CKM_AES_KEY_GEN, 16, NULL, 0, 0, ENCDEC | WRAPUN, ENCDEC | WRAPUN | SIGVER | U_DERIVE},
    {"aes:192", CKK_AES, CKM_AES_KEY_GEN, 24, NULL, 0, 0, ENCDEC | WRAPUN, ENCDEC | WRAPUN | SIGVER | U_DERIVE},
    {"aes:256", CKK_AES, CKM_AES_KEY_GEN, 32, NULL, 0, 0, ENCDEC | WRAPUN, ENCDEC | WRAPUN | SIGVER | U_DERIVE},
    {"ml-kem-512", CKK_ML_KEM, CKM_ML_KEM_KEY_PAIR_GEN, 0, NULL, 0, CKP_ML_KEM_512, KEM, KEM},
    {"ml-kem-768", CKK_ML_KEM, CKM_ML_KEM_KEY_PAIR_GEN, 0, NULL, 0, CKP_ML_KEM_768, KEM, KEM},
    {"ml-kem-1024", CKK_ML_KEM, CKM_ML_KEM_KEY_PAIR_GEN, 0, NULL, 0, CKP_ML_KEM_1024, KEM, KEM},
    {"ml-dsa-44", CKK_ML_DSA, CKM_ML_DSA_KEY_PAIR_GEN, 0, NULL, 0, CKP_ML_DSA_44, SIGVER, SIGVER},
    {"ml-dsa-65", CKK_ML_DSA, CKM_ML_DSA_KEY_PAIR_GEN, 0, NULL, 0, CKP_ML_DSA_65, SIGVER, SIGVER},
    {"ml-dsa-87", CKK_ML_DSA, CKM_ML_DSA_KEY_PAIR_GEN, 0, NULL, 0, CKP_ML_DSA_87, SIGVER, SIGVER},
    {"slh-dsa-sha2-128s", CKK_SLH_DSA, CKM_SLH_DSA_KEY_PAIR_GEN, 0, NULL, 0, CKP_SLH_DSA_SHA2_128S, SIGVER, SIGVER},
    {"slh-dsa-shake-128s", CKK_SLH_DSA, CKM_SLH_DSA_KEY_PAIR_GEN, 0, NULL, 0, CKP_SLH_DSA_SHAKE_128S, SIGVER, SIGVER},
    {"slh-dsa-sha2-128f", CKK_SLH_DSA, CKM_SLH_DSA_KEY_PAIR_GEN, 0, NULL, 0, CKP_SLH_DSA_SHA2_128F, SIGVER, SIGVER},
    {"slh-dsa-shake-128f", CKK_SLH_DSA, CKM_SLH_DSA_KEY_PAIR_GEN, 0, NULL, 0, CKP_SLH_DSA_SHAKE_128F, SIGVER, SIGVER},
    {"slh-dsa-sha2-192s", CKK_SLH_DSA, CKM_SLH_DSA_KEY_PAIR_GEN, 0, NULL, 0, CKP_SLH_DSA_SHA2_192S, SIGVER, SIGVER},
    {"slh-dsa-shake-192s", CKK_SLH_DSA, CKM_SLH_DSA_KEY_PAIR_GEN, 0, NULL, 0, CKP_SLH_DSA_SHAKE_192S, SIGVER, SIGVER},
    {"slh-dsa-sha2-192f", CKK_SLH_DSA, CKM_SLH_DSA_KEY_PAIR_GEN, 0, NULL, 0, CKP_SLH_DSA_SHA2_192F, SIGVER, SIGVER},
    {"slh-dsa-shake-192f", CKK_SLH_DSA, CKM_SLH_DSA_KEY_PAIR_GEN, 0, NULL, 0, CKP_SLH_DSA_SHAKE_192F, SIGVER, SIGVER},
    {"slh-dsa-sha2-256s", CKK_SLH_DSA, CKM_SLH_DSA_KEY_PAIR_GEN, 0, NULL, 0, CKP_SLH_DSA_SHA2_256S, SIGVER, SIGVER},
    {"slh-dsa-shake-256s", CKK_SLH_DSA, CKM_SLH_DSA_KEY_PAIR_GEN, 0, NULL, 0, CKP_SLH_DSA_SHAKE_256S, SIGVER, SIGVER},
    {"slh-dsa-sha2-256f", CKK_SLH_DSA, CKM_SLH_DSA_KEY_PAIR_GEN, 0, NULL, 0, CKP_SLH_DSA_SHA2_256F, SIGVER, SIGVER},
    {"slh-dsa-shake-256f", CKK_SLH_DSA, CKM_SLH_DSA_KEY_PAIR_GEN, 0, NULL, 0, CKP_SLH_DSA_SHAKE_256F, SIGVER, SIGVER},
};
/* clang-format on */
#define N_KEYTYPES (sizeof(keytypes) / sizeof(keytypes[0]))

/* OpenSSL's algorithm names of the post-quantum sets (import). */
static const struct {
    const char *ossl;
    const char *type; /* keytypes[].name */
} pq_names[] = {
    {"ML-KEM-512", "ml-kem-512"},
    {"ML-KEM-768", "ml-kem-768"},
    {"ML-KEM-1024", "ml-kem-1024"},
    {"ML-DSA-44", "ml-dsa-44"},
    {"ML-DSA-65", "ml-dsa-65"},
    {"ML-DSA-87", "ml-dsa-87"},
    {"SLH-DSA-SHA2-128s", "slh-dsa-sha2-128s"},
    {"SLH-DSA-SHAKE-128s", "slh-dsa-shake-128s"},
    {"SLH-DSA-SHA2-128f", "slh-dsa-sha2-128f"},
    {"SLH-DSA-SHAKE-128f", "slh-dsa-shake-128f"},
    {"SLH-DSA-SHA2-192s", "slh-dsa-sha2-192s"},
    {"SLH-DSA-SHAKE-192s", "slh-dsa-shake-192s"},
    {"SLH-DSA-SHA2-192f", "slh-dsa-sha2-192f"},
    {"SLH-DSA-SHAKE-192f", "slh-dsa-shake-192f"},
    {"SLH-DSA-SHA2-256s", "slh-dsa-sha2-256s"},
    {"SLH-DSA-SHAKE-256s", "slh-dsa-shake-256s"},
    {"SLH-DSA-SHA2-256f", "slh-dsa-sha2-256f"},
    {"SLH-DSA-SHAKE-256f", "slh-dsa-shake-256f"},
};

static const struct keytype *keytype_by_name(const char *name)
{
    for (size_t i = 0; i < N_KEYTYPES; i++)
        if (strcmp(keytypes[i].name, name) == 0)
            return &keytypes[i];
    return NULL;
}

/* ---- reading objects ---- */

/* Reads one attribute into a new buffer (*v malloc'ed, NUL-terminated for
 * convenience).  false when absent, unreadable (sensitive) or empty. */
static bool get_attr(struct admin *a, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
                     CK_ATTRIBUTE_TYPE type, unsigned char **v, CK_ULONG *len)
{
    CK_ATTRIBUTE at = {type, NULL, 0};
    *v = NULL;
    *len = 0;
    if (a->p11->C_GetAttributeValue(s, h, &at, 1) != CKR_OK ||
        at.ulValueLen == CK_UNAVAILABLE_INFORMATION || at.ulValueLen == 0 ||
        at.ulValueLen > KEY_BUF_MAX)
        return false;
    at.pValue = malloc(at.ulValueLen + 1);
    if (at.pValue == NULL)
        return false;
    if (a->p11->C_GetAttributeValue(s, h, &at, 1) != CKR_OK) {
        free(at.pValue);
        return false;
    }
    ((unsigned char *)at.pValue)[at.ulValueLen] = '\0';
    *v = at.pValue;
    *len = at.ulValueLen;
    return true;
}

static bool get_ulong(struct admin *a, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
                      CK_ATTRIBUTE_TYPE type, CK_ULONG *out)
{
    CK_ATTRIBUTE at = {type, out, sizeof(*out)};
    return a->p11->C_GetAttributeValue(s, h, &at, 1) == CKR_OK && at.ulValueLen == sizeof(*out);
}

static bool get_bool(struct admin *a, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
                     CK_ATTRIBUTE_TYPE type)
{
    CK_BBOOL b = CK_FALSE;
    CK_ATTRIBUTE at = {type, &b, sizeof(b)};
    return a->p11->C_GetAttributeValue(s, h, &at, 1) == CKR_OK && b == CK_TRUE;
}

struct objinfo {
    CK_OBJECT_HANDLE handle;
    CK_OBJECT_CLASS cls;
    CK_KEY_TYPE kt; /* CK_UNAVAILABLE_INFORMATION when not a key */
    char cls_name[24];
    char type_name[32];
    char size[32]; /* "2048", "P-256", "ML-DSA-65", "" */
    long bits;     /* -1 unknown */
    char label[256];
    char id[2 * KEY_ID_MAX + 1];
    char usage[128];
    bool is_private, sensitive, extractable;
};

static const char *class_name(CK_OBJECT_CLASS c)
{
    switch (c) {
    case CKO_DATA:
        return "data";
    case CKO_CERTIFICATE:
        return "certificate";
    case CKO_PUBLIC_KEY:
        return "public-key";
    case CKO_PRIVATE_KEY:
        return "private-key";
    case CKO_SECRET_KEY:
        return "secret-key";
    case CKO_PROFILE:
        return "profile";
    case CKO_VALIDATION:
        return "validation";
    default:
        return "other";
    }
}

static const char *keytype_word(CK_KEY_TYPE kt)
{
    switch (kt) {
    case CKK_RSA:
        return "RSA";
    case CKK_EC:
        return "EC";
    case CKK_EC_EDWARDS:
        return "EdDSA";
    case CKK_EC_MONTGOMERY:
        return "XDH";
    case CKK_AES:
        return "AES";
    case CKK_ML_KEM:
        return "ML-KEM";
    case CKK_ML_DSA:
        return "ML-DSA";
    case CKK_SLH_DSA:
        return "SLH-DSA";
    case CKK_GENERIC_SECRET:
        return "generic";
    default: {
        const char *n = ck_name("CKK", kt);
        return n != NULL ? n + 4 : "unknown";
    }
    }
}

static const char *curve_word(const unsigned char *p, CK_ULONG len)
{
    static const struct {
        const unsigned char *oid;
        size_t len;
        const char *name;
    } curves[] = {
        {OID(oid_p256), "P-256"},      {OID(oid_p384), "P-384"},  {OID(oid_p521), "P-521"},
        {OID(oid_ed25519), "Ed25519"}, {OID(oid_ed448), "Ed448"}, {OID(oid_x25519), "X25519"},
        {OID(oid_x448), "X448"},
    };
    for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
        if (curves[i].len == len && memcmp(curves[i].oid, p, len) == 0)
            return curves[i].name;
    if (len > 2 && p[0] == 0x13) /* PrintableString name */
        return "named";
    return "?";
}

static const char *set_word(CK_KEY_TYPE kt, CK_ULONG set)
{
    for (size_t i = 0; i < N_KEYTYPES; i++)
        if (keytypes[i].kt == kt && keytypes[i].set == set && set != 0) {
            for (size_t j = 0; j < sizeof(pq_names) / sizeof(pq_names[0]); j++)
                if (strcmp(pq_names[j].type, keytypes[i].name) == 0)
                    return pq_names[j].ossl;
        }
    return "?";
}

static void describe(struct admin *a, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, struct objinfo *o)
{
    unsigned char *v;
    CK_ULONG len, ul;
    memset(o, 0, sizeof(*o));
    o->handle = h;
    o->bits = -1;
    o->kt = CK_UNAVAILABLE_INFORMATION;
    if (!get_ulong(a, s, h, CKA_CLASS, &o->cls))
        o->cls = CK_UNAVAILABLE_INFORMATION;
    snprintf(o->cls_name, sizeof(o->cls_name), "%s", class_name(o->cls));
    if (get_attr(a, s, h, CKA_LABEL, &v, &len)) {
        snprintf(o->label, sizeof(o->label), "%.*s", (int)len, (char *)v);
        free(v);
    }
    if (get_attr(a, s, h, CKA_ID, &v, &len)) {
        char *hex = adm_hex(v, len > KEY_ID_MAX ? KEY_ID_MAX : len);
        snprintf(o->id, sizeof(o->id), "%s", hex != NULL ? hex : "");
        free(hex);
        free(v);
    }
    o->is_private = get_bool(a, s, h, CKA_PRIVATE);
    if (o->cls == CKO_CERTIFICATE) {
        CK_ULONG ct;
        snprintf(o->type_name, sizeof(o->type_name), "%s",
                 get_ulong(a, s, h, CKA_CERTIFICATE_TYPE, &ct) && ct == CKC_X_509 ? "X.509"
                                                                                  : "other");
        return;
    }
    if (o->cls != CKO_PUBLIC_KEY && o->cls != CKO_PRIVATE_KEY && o->cls != CKO_SECRET_KEY)
        return;
    if (get_ulong(a, s, h, CKA_KEY_TYPE, &o->kt))
        snprintf(o->type_name, sizeof(o->type_name), "%s", keytype_word(o->kt));
    o->sensitive = get_bool(a, s, h, CKA_SENSITIVE);
    o->extractable = get_bool(a, s, h, CKA_EXTRACTABLE);
    switch (o->kt) {
    case CKK_RSA:
        if (get_ulong(a, s, h, CKA_MODULUS_BITS, &ul)) {
            o->bits = (long)ul;
        } else if (get_attr(a, s, h, CKA_MODULUS, &v, &len)) {
            o->bits = (long)len * 8;
            free(v);
        }
        if (o->bits > 0)
            snprintf(o->size, sizeof(o->size), "%ld", o->bits);
        break;
    case CKK_EC:
    case CKK_EC_EDWARDS:
    case CKK_EC_MONTGOMERY:
        if (get_attr(a, s, h, CKA_EC_PARAMS, &v, &len)) {
            snprintf(o->size, sizeof(o->size), "%s", curve_word(v, len));
            free(v);
        }
        break;
    case CKK_ML_KEM:
    case CKK_ML_DSA:
    case CKK_SLH_DSA:
        if (get_ulong(a, s, h, CKA_PARAMETER_SET, &ul))
            snprintf(o->size, sizeof(o->size), "%s", set_word(o->kt, ul));
        break;
    default:
        if (get_ulong(a, s, h, CKA_VALUE_LEN, &ul)) {
            o->bits = (long)ul * 8;
            snprintf(o->size, sizeof(o->size), "%ld", o->bits);
        }
        break;
    }
    size_t used = 0;
    for (size_t i = 0; i < N_USAGES; i++) {
        if (!get_bool(a, s, h, usages[i].attr))
            continue;
        int w = snprintf(o->usage + used, sizeof(o->usage) - used, "%s%s", used ? "," : "",
                         usages[i].name);
        if (w > 0 && (size_t)w < sizeof(o->usage) - used)
            used += (size_t)w;
    }
}

static int by_handle(const void *x, const void *y)
{
    CK_OBJECT_HANDLE a = *(const CK_OBJECT_HANDLE *)x, b = *(const CK_OBJECT_HANDLE *)y;
    return a < b ? -1 : a > b;
}

/* Every object matching tmpl[n] (malloc'ed handles, sorted). */
static int find_all(struct admin *a, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                    CK_OBJECT_HANDLE **out, CK_ULONG *count)
{
    CK_OBJECT_HANDLE *v = NULL, batch[128];
    CK_ULONG total = 0, got;
    *out = NULL;
    *count = 0;
    CK_RV rv = a->p11->C_FindObjectsInit(s, tmpl, n);
    if (rv != CKR_OK)
        return adm_ck_error(a, rv, (CK_USER_TYPE)-1, "C_FindObjectsInit");
    do {
        rv = a->p11->C_FindObjects(s, batch, 128, &got);
        if (rv != CKR_OK)
            break;
        CK_OBJECT_HANDLE *nv = realloc(v, (total + got + 1) * sizeof(*v));
        if (nv == NULL) {
            rv = CKR_HOST_MEMORY;
            break;
        }
        v = nv;
        memcpy(v + total, batch, got * sizeof(*v));
        total += got;
    } while (got > 0);
    a->p11->C_FindObjectsFinal(s);
    if (rv != CKR_OK) {
        free(v);
        return adm_ck_error(a, rv, (CK_USER_TYPE)-1, "C_FindObjects");
    }
    if (total > 1)
        qsort(v, total, sizeof(*v), by_handle);
    *out = v;
    *count = total;
    return ADM_OK;
}

/* Loads the module, picks the slot, opens a session and, when login, logs in
 * as the user (PIN from pin_file / $CRATON_USER_PIN / prompt). */
static int begin(struct admin *a, bool rw, bool login, const char *pin_file, CK_SLOT_ID *slot,
                 CK_SESSION_HANDLE *s)
{
    struct adm_secret pin;
    memset(&pin, 0, sizeof(pin));
    *s = CK_INVALID_HANDLE;
    int rc;
    if ((rc = adm_load(a, true)) != ADM_OK || (rc = adm_pick_slot(a, slot)) != ADM_OK)
        return rc;
    if (login) {
        CK_TOKEN_INFO ti;
        if (a->p11->C_GetTokenInfo(*slot, &ti) == CKR_OK) {
            if (!(ti.flags & CKF_TOKEN_INITIALIZED))
                return adm_pin_error(a, *slot, CKU_USER, CKR_TOKEN_NOT_RECOGNIZED, "key");
            if (!(ti.flags & CKF_USER_PIN_INITIALIZED))
                return adm_pin_error(a, *slot, CKU_USER, CKR_USER_PIN_NOT_INITIALIZED, "key");
            if (ti.flags & CKF_USER_PIN_LOCKED)
                return adm_pin_error(a, *slot, CKU_USER, CKR_PIN_LOCKED, "key");
        }
    }
    if ((rc = adm_open_session(a, *slot, rw, s)) != ADM_OK)
        return rc;
    if (login) {
        rc = adm_get_secret("user PIN", pin_file, "CRATON_USER_PIN", false, &pin);
        if (rc == ADM_OK)
            rc = adm_login(a, *s, *slot, CKU_USER, &pin);
        adm_secret_wipe(&pin);
    }
    return rc;
}

static void end(struct admin *a, CK_SESSION_HANDLE s)
{
    if (s == CK_INVALID_HANDLE)
        return;
    a->p11->C_Logout(s);
    a->p11->C_CloseSession(s);
}

/* ---- list ---- */

static json_t *obj_json(const struct objinfo *o)
{
    json_t *usage = json_array();
    char buf[sizeof(o->usage)];
    snprintf(buf, sizeof(buf), "%s", o->usage);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save))
        json_array_append_new(usage, json_string(t));
    return json_pack("{s:I, s:s, s:s?, s:s?, s:o, s:s, s:s, s:o, s:b, s:b, s:b}", "handle",
                     (json_int_t)o->handle, "class", o->cls_name, "type",
                     o->type_name[0] ? o->type_name : NULL, "size", o->size[0] ? o->size : NULL,
                     "size_bits", o->bits >= 0 ? json_integer(o->bits) : json_null(), "label",
                     o->label, "id", o->id, "usage", usage, "private", o->is_private, "sensitive",
                     o->sensitive, "extractable", o->extractable);
}

static int cmd_list(struct admin *a, int argc, char **argv)
{
    bool login = false;
    const char *pin_file = NULL;
    const struct adm_opt opts[] = {
        {"login", 0, NULL, &login},
        {"pin-file", 0, &pin_file, NULL},
        {0},
    };
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_SLOT_ID slot;
    CK_OBJECT_HANDLE *hs = NULL;
    CK_ULONG n = 0;
    int rc = adm_parse(a, "key list", help_list, argc, argv, opts, NULL, 0, NULL);
    if (rc != ADM_OK)
        return rc;
    if (pin_file != NULL)
        login = true;
    if ((rc = begin(a, false, login, pin_file, &slot, &s)) != ADM_OK ||
        (rc = find_all(a, s, NULL, 0, &hs, &n)) != ADM_OK)
        goto out;
    json_t *arr = a->json ? json_array() : NULL;
    if (!a->json)
        printf("%-8s %-12s %-8s %-18s %-20s %-16s %s\n", "HANDLE", "CLASS", "TYPE", "SIZE", "LABEL",
               "ID", "USAGE");
    for (CK_ULONG i = 0; i < n; i++) {
        struct objinfo o;
        describe(a, s, hs[i], &o);
        if (a->json)
            json_array_append_new(arr, obj_json(&o));
        else
            printf("%-8lu %-12s %-8s %-18s %-20s %-16s %s\n", (unsigned long)o.handle, o.cls_name,
                   o.type_name[0] ? o.type_name : "-", o.size[0] ? o.size : "-", o.label,
                   o.id[0] ? o.id : "-", o.usage[0] ? o.usage : "-");
    }
    if (a->json) {
        rc = adm_json_print(arr);
    } else {
        printf("%lu object(s) on slot %lu%s\n", (unsigned long)n, (unsigned long)slot,
               login ? "" : " (public only; --login shows private objects)");
    }
out:
    free(hs);
    end(a, s);
    return rc;
}

/* ---- generate ---- */

static int parse_id(const char *hex, unsigned char *id, size_t *len, const char *cmd)
{
    if (adm_unhex(hex, id, KEY_ID_MAX, len) != 0)
        return adm_usage_error(cmd, "--id wants hex digits (an even number, at most %d bytes)",
                               KEY_ID_MAX);
    return ADM_OK;
}

static int random_id(struct admin *a, CK_SESSION_HANDLE s, unsigned char *id, size_t *len)
{
    CK_RV rv = a->p11->C_GenerateRandom(s, id, 8);
    if (rv != CKR_OK)
        return adm_ck_error(a, rv, (CK_USER_TYPE)-1, "C_GenerateRandom (for the id)");
    *len = 8;
    return ADM_OK;
}

static int cmd_generate(struct admin *a, int argc, char **argv)
{
    const char *type = NULL, *label = NULL, *idhex = NULL, *usage = NULL, *pin_file = NULL;
    const struct adm_opt opts[] = {
        {"type", 0, &type, NULL},   {"label", 0, &label, NULL},       {"id", 0, &idhex, NULL},
        {"usage", 0, &usage, NULL}, {"pin-file", 0, &pin_file, NULL}, {0},
    };
    unsigned char id[KEY_ID_MAX];
    size_t id_len = 0;
    unsigned u;
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_SLOT_ID slot;
    struct tmpl pub = {0}, priv = {0};
    CK_BYTE exponent[] = {0x01, 0x00, 0x01};
    int rc = adm_parse(a, "key generate", help_generate, argc, argv, opts, NULL, 0, NULL);
    if (rc != ADM_OK)
        return rc;
    if (type == NULL || label == NULL)
        return adm_usage_error("key generate ", "--type and --label are required");
    const struct keytype *kt = keytype_by_name(type);
    if (kt == NULL)
        return adm_usage_error("key generate ", "unknown key type '%s'", type);
    u = kt->def;
    if (usage != NULL && (rc = parse_usage(usage, kt->allowed, &u)) != ADM_OK)
        return rc;
    if (idhex != NULL && (rc = parse_id(idhex, id, &id_len, "key generate ")) != ADM_OK)
        return rc;
    if ((rc = begin(a, true, true, pin_file, &slot, &s)) != ADM_OK)
        goto out;
    if (idhex == NULL && (rc = random_id(a, s, id, &id_len)) != ADM_OK)
        goto out;

    CK_MECHANISM mech = {kt->mech, NULL, 0};
    CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE, hpriv = CK_INVALID_HANDLE;
    bool secret = kt->kt == CKK_AES;
    struct tmpl *sk = secret ? &priv : &pub;
    t_bool(sk, CKA_TOKEN, true);
    t_add(sk, CKA_LABEL, (void *)label, (CK_ULONG)strlen(label));
    t_add(sk, CKA_ID, id, (CK_ULONG)id_len);
    if (!secret) {
        t_bool(&pub, CKA_PRIVATE, false);
        t_bool(&priv, CKA_TOKEN, true);
        t_add(&priv, CKA_LABEL, (void *)label, (CK_ULONG)strlen(label));
        t_add(&priv, CKA_ID, id, (CK_ULONG)id_len);
    }
    t_bool(&priv, CKA_PRIVATE, true);
    t_bool(&priv, CKA_SENSITIVE, true);
    t_bool(&priv, CKA_EXTRACTABLE, false);
    if (secret) {
        t_usages(&priv, u, -1);
        t_ulong(&priv, CKA_VALUE_LEN, kt->size);
    } else {
        t_usages(&pub, u, 1);
        t_usages(&priv, u, 0);
    }
    if (kt->kt == CKK_RSA) {
        t_ulong(&pub, CKA_MODULUS_BITS, kt->size);
        t_add(&pub, CKA_PUBLIC_EXPONENT, exponent, sizeof(exponent));
    } else if (kt->oid != NULL) {
        t_add(&pub, CKA_EC_PARAMS, (void *)kt->oid, (CK_ULONG)kt->oid_len);
    } else if (kt->set != 0) {
        t_ulong(&pub, CKA_PARAMETER_SET, kt->set);
    }
    if (pub.overflow || priv.overflow) {
        rc = adm_error("out of memory");
        goto out;
    }
    CK_RV rv;
    if (secret)
        rv = a->p11->C_GenerateKey(s, &mech, priv.a, priv.n, &hpriv);
    else
        rv = a->p11->C_GenerateKeyPair(s, &mech, pub.a, pub.n, priv.a, priv.n, &hpub, &hpriv);
    if (rv != CKR_OK) {
        rc = adm_ck_error(a, rv, (CK_USER_TYPE)-1, "generating a %s key (%s)", type,
                          ck_mechanism_name(kt->mech));
        if (rv == CKR_MECHANISM_INVALID || rv == CKR_MECHANISM_PARAM_INVALID)
            adm_error("the module's policy may not allow it (see [algorithms] in the "
                      "configuration)");
        goto out;
    }
    char *hex = adm_hex(id, id_len);
    if (a->json) {
        rc = adm_json_print(json_pack("{s:s, s:s, s:s, s:I?, s:I}", "type", type, "label", label,
                                      "id", hex != NULL ? hex : "", "public_handle",
                                      secret ? NULL : json_integer((json_int_t)hpub),
                                      "private_handle", (json_int_t)hpriv));
    } else {
        printf("Generated %s key \"%s\" (id %s) on slot %lu", type, label, hex ? hex : "",
               (unsigned long)slot);
        if (secret)
            printf(": handle %lu.\n", (unsigned long)hpriv);
        else
            printf(": public handle %lu, private handle %lu.\n", (unsigned long)hpub,
                   (unsigned long)hpriv);
    }
    free(hex);
out:
    t_free(&pub);
    t_free(&priv);
    end(a, s);
    return rc;
}

/* ---- import ---- */

/* A BIGNUM parameter of pkey as big-endian bytes (padded to pad when > 0). */
static bool bn_param(const EVP_PKEY *pkey, const char *name, size_t pad, struct tmpl *t,
                     CK_ATTRIBUTE_TYPE type)
{
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
        return false;
    size_t n = (size_t)BN_num_bytes(bn);
    if (pad > n)
        n = pad;
    unsigned char *buf = malloc(n == 0 ? 1 : n);
    bool ok = buf != NULL && BN_bn2binpad(bn, buf, (int)n) == (int)n;
    BN_clear_free(bn);
    if (!ok) {
        free(buf);
        return false;
    }
    t_take(t, type, buf, (CK_ULONG)n);
    return true;
}

static bool octet_param(const EVP_PKEY *pkey, const char *name, struct tmpl *t,
                        CK_ATTRIBUTE_TYPE type, bool der_octet_string)
{
    size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(pkey, name, NULL, 0, &len) != 1 || len == 0)
        return false;
    size_t hdr = der_octet_string ? (len < 0x80 ? 2 : len < 0x100 ? 3 : 4) : 0;
    unsigned char *buf = malloc(hdr + len);
    if (buf == NULL)
        return false;
    if (EVP_PKEY_get_octet_string_param(pkey, name, buf + hdr, len, &len) != 1) {
        OPENSSL_clear_free(buf, hdr + len);
        return false;
    }
    if (hdr > 0) {
        buf[0] = 0x04;
        if (hdr == 2) {
            buf[1] = (unsigned char)len;
        } else if (hdr == 3) {
            buf[1] = 0x81;
            buf[2] = (unsigned char)len;
        } else {
            buf[1] = 0x82;
            buf[2] = (unsigned char)(len >> 8);
            buf[3] = (unsigned char)len;
        }
    }
    t_take(t, type, buf, (CK_ULONG)(hdr + len));
    return true;
}

static bool raw_key(const EVP_PKEY *pkey, bool priv, struct tmpl *t, CK_ATTRIBUTE_TYPE type,
                    bool der_octet_string)
{
    size_t len = 0;
    int ok = priv ? EVP_PKEY_get_raw_private_key(pkey, NULL, &len)
                  : EVP_PKEY_get_raw_public_key(pkey, NULL, &len);
    if (ok != 1 || len == 0 || len > 127)
        return false;
    size_t hdr = der_octet_string ? 2 : 0;
    unsigned char *buf = malloc(hdr + len);
    if (buf == NULL)
        return false;
    ok = priv ? EVP_PKEY_get_raw_private_key(pkey, buf + hdr, &len)
              : EVP_PKEY_get_raw_public_key(pkey, buf + hdr, &len);
    if (ok != 1) {
        OPENSSL_clear_free(buf, hdr + len);
        return false;
    }
    if (hdr) {
        buf[0] = 0x04;
        buf[1] = (unsigned char)len;
    }
    t_take(t, type, buf, (CK_ULONG)(hdr + len));
    return true;
}

/* The key type of pkey in our table terms: kt, the curve OID, the PQC set. */
static int classify(EVP_PKEY *pkey, const struct keytype **out)
{
    *out = NULL;
    int id = EVP_PKEY_get_base_id(pkey);
    const char *want = NULL;
    char group[64] = "";
    switch (id) {
    case EVP_PKEY_RSA:
        want = "rsa:2048"; /* the usages; the size comes from the key */
        break;
    case EVP_PKEY_EC:
        if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                           NULL) != 1)
            return adm_error("cannot read the EC key's curve");
        if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
            want = "ec:p256";
        else if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
            want = "ec:p384";
        else if (strcmp(group, "secp521r1") == 0 || strcmp(group, "P-521") == 0)
            want = "ec:p521";
        else
            return adm_error("EC curve %s is not supported (P-256, P-384, P-521)", group);
        break;
    case EVP_PKEY_ED25519:
        want = "ed25519";
        break;
    case EVP_PKEY_ED448:
        want = "ed448";
        break;
    case EVP_PKEY_X25519:
        want = "x25519";
        break;
    case EVP_PKEY_X448:
        want = "x448";
        break;
    default: {
        const char *name = EVP_PKEY_get0_type_name(pkey);
        for (size_t i = 0; name != NULL && i < sizeof(pq_names) / sizeof(pq_names[0]); i++)
            if (strcmp(pq_names[i].ossl, name) == 0)
                want = pq_names[i].type;
        if (want == NULL)
            return adm_error("key algorithm %s is not supported for import",
                             name != NULL ? name : "(unknown)");
    }
    }
    *out = keytype_by_name(want);
    return *out != NULL ? ADM_OK : adm_error("internal: no key type %s", want);
}

/* The key material of pkey as attributes of the private (priv) or public half. */
static int key_attrs(EVP_PKEY *pkey, const struct keytype *kt, bool priv, struct tmpl *t)
{
    bool ok = true;
    switch (kt->kt) {
    case CKK_RSA:
        ok = bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, 0, t, CKA_MODULUS) &&
             bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, 0, t, CKA_PUBLIC_EXPONENT);
        if (ok && priv)
            ok = bn_param(pkey, OSSL_PKEY_PARAM_RSA_D, 0, t, CKA_PRIVATE_EXPONENT) &&
                 bn_param(pkey, OSSL_PKEY_PARAM_RSA_FACTOR1, 0, t, CKA_PRIME_1) &&
                 bn_param(pkey, OSSL_PKEY_PARAM_RSA_FACTOR2, 0, t, CKA_PRIME_2) &&
                 bn_param(pkey, OSSL_PKEY_PARAM_RSA_EXPONENT1, 0, t, CKA_EXPONENT_1) &&
                 bn_param(pkey, OSSL_PKEY_PARAM_RSA_EXPONENT2, 0, t, CKA_EXPONENT_2) &&
                 bn_param(pkey, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, 0, t, CKA_COEFFICIENT);
        break;
    case CKK_EC:
        t_add(t, CKA_EC_PARAMS, (void *)kt->oid, (CK_ULONG)kt->oid_len);
        if (priv)
            ok = bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, (size_t)(EVP_PKEY_get_bits(pkey) + 7) / 8,
                          t, CKA_VALUE);
        else
            ok = octet_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, t, CKA_EC_POINT, true);
        break;
    case CKK_EC_EDWARDS:
    case CKK_EC_MONTGOMERY:
        t_add(t, CKA_EC_PARAMS, (void *)kt->oid, (CK_ULONG)kt->oid_len);
        ok = priv ? raw_key(pkey, true, t, CKA_VALUE, false)
                  : raw_key(pkey, false, t, CKA_EC_POINT, true);
        break;
    default: /* ML-KEM, ML-DSA, SLH-DSA: the raw FIPS 203/204/205 encodings */
        t_ulong(t, CKA_PARAMETER_SET, kt->set);
        ok = octet_param(pkey, priv ? OSSL_PKEY_PARAM_PRIV_KEY : OSSL_PKEY_PARAM_PUB_KEY, t,
                         CKA_VALUE, false);
        break;
    }
    if (!ok || t->overflow)
        return adm_error("cannot read the %s key's %s components", kt->name,
                         priv ? "private" : "public");
    return ADM_OK;
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    *(bool *)u = true;
    return -1;
}

/* What the file holds, parsed by OpenSSL: exactly one of the outputs. */
static int parse_file(const char *path, const unsigned char *data, size_t len, X509 **cert,
                      EVP_PKEY **priv, EVP_PKEY **pub)
{
    bool pem = memmem(data, len, "-----BEGIN ", 11) != NULL;
    bool encrypted = false;
    *cert = NULL;
    *priv = *pub = NULL;
    if (pem) {
        BIO *b = BIO_new_mem_buf(data, (int)len);
        if (b == NULL)
            return adm_error("out of memory");
        if (memmem(data, len, "CERTIFICATE-----", 16) != NULL)
            *cert = PEM_read_bio_X509(b, NULL, no_passphrase, &encrypted);
        else if (memmem(data, len, "PRIVATE KEY-----", 16) != NULL)
            *priv = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, &encrypted);
        else if (memmem(data, len, "PUBLIC KEY-----", 15) != NULL)
            *pub = PEM_read_bio_PUBKEY(b, NULL, no_passphrase, &encrypted);
        BIO_free(b);
    } else {
        const unsigned char *p = data;
        *cert = d2i_X509(NULL, &p, (long)len);
        if (*cert != NULL && p != data + len) {
            X509_free(*cert);
            *cert = NULL;
        }
        p = data;
        if (*cert == NULL)
            *priv = d2i_AutoPrivateKey(NULL, &p, (long)len);
        p = data;
        if (*cert == NULL && *priv == NULL)
            *pub = d2i_PUBKEY(NULL, &p, (long)len);
    }
    if (*cert != NULL || *priv != NULL || *pub != NULL)
        return ADM_OK;
    if (encrypted || memmem(data, len, "ENCRYPTED", 9) != NULL)
        return adm_error("%s: an encrypted private key: decrypt it first (openssl pkey -in %s "
                         "-out plain.pem), import, then destroy the plain copy",
                         path, path);
    return adm_error("%s: not a PEM or DER private key, public key or X.509 certificate that "
                     "OpenSSL can parse (for a raw AES key use --raw-aes)",
                     path);
}

static void common_attrs(struct tmpl *t, CK_OBJECT_CLASS *cls, const char *label, unsigned char *id,
                         size_t id_len)
{
    t_add(t, CKA_CLASS, cls, sizeof(*cls));
    t_bool(t, CKA_TOKEN, true);
    t_add(t, CKA_LABEL, (void *)label, (CK_ULONG)strlen(label));
    t_add(t, CKA_ID, id, (CK_ULONG)id_len);
}

static int create(struct admin *a, CK_SESSION_HANDLE s, struct tmpl *t, const char *what,
                  CK_OBJECT_HANDLE *h)
{
    if (t->overflow)
        return adm_error("out of memory");
    CK_RV rv = a->p11->C_CreateObject(s, t->a, t->n, h);
    if (rv != CKR_OK) {
        adm_ck_error(a, rv, (CK_USER_TYPE)-1, "C_CreateObject (%s)", what);
        if (rv == CKR_ATTRIBUTE_VALUE_INVALID || rv == CKR_KEY_SIZE_RANGE ||
            rv == CKR_CURVE_NOT_SUPPORTED || rv == CKR_TEMPLATE_INCONSISTENT)
            adm_error("the module refused the key material (policy: key size, curve, "
                      "approved-only mode)");
        return ADM_FAIL;
    }
    return ADM_OK;
}

static int cmd_import(struct admin *a, int argc, char **argv)
{
    const char *file = NULL, *label = NULL, *idhex = NULL, *usage = NULL, *pin_file = NULL;
    bool raw_aes = false;
    const struct adm_opt opts[] = {
        {"file", 0, &file, NULL},
        {"label", 0, &label, NULL},
        {"id", 0, &idhex, NULL},
        {"usage", 0, &usage, NULL},
        {"pin-file", 0, &pin_file, NULL},
        {"raw-aes", 0, NULL, &raw_aes},
        {0},
    };
    unsigned char id[KEY_ID_MAX];
    size_t id_len = 0, len = 0;
    unsigned char *data = NULL;
    X509 *cert = NULL;
    EVP_PKEY *priv = NULL, *pub = NULL;
    unsigned char *der = NULL;
    int der_len = 0;
    struct tmpl t1 = {0}, t2 = {0};
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_SLOT_ID slot;
    CK_OBJECT_CLASS c_priv = CKO_PRIVATE_KEY, c_pub = CKO_PUBLIC_KEY, c_sec = CKO_SECRET_KEY,
                    c_cert = CKO_CERTIFICATE;
    CK_KEY_TYPE kt_val;
    CK_CERTIFICATE_TYPE ctype = CKC_X_509;
    CK_OBJECT_HANDLE h1 = CK_INVALID_HANDLE, h2 = CK_INVALID_HANDLE;
    const struct keytype *kt = NULL;
    unsigned u = 0;
    const char *what = "";

    int rc = adm_parse(a, "key import", help_import, argc, argv, opts, NULL, 0, NULL);
    if (rc != ADM_OK)
        return rc;
    if (file == NULL || label == NULL)
        return adm_usage_error("key import ", "--file and --label are required");
    if (idhex != NULL && (rc = parse_id(idhex, id, &id_len, "key import ")) != ADM_OK)
        return rc;
    if ((rc = adm_read_file(file, ADM_FILE_MAX, &data, &len)) != ADM_OK)
        goto out;
    if (raw_aes) {
        if (len != 16 && len != 24 && len != 32) {
            rc = adm_error("%s: %zu bytes: a raw AES key has 16, 24 or 32 bytes", file, len);
            goto out;
        }
        kt = keytype_by_name(len == 16 ? "aes:128" : len == 24 ? "aes:192" : "aes:256");
        what = "AES key";
    } else {
        if ((rc = parse_file(file, data, len, &cert, &priv, &pub)) != ADM_OK)
            goto out;
        if (!cert && (rc = classify(priv ? priv : pub, &kt)) != ADM_OK)
            goto out;
        what = cert ? "certificate" : priv ? "private key" : "public key";
    }
    if (kt != NULL) {
        u = kt->def;
        if (usage != NULL && (rc = parse_usage(usage, kt->allowed, &u)) != ADM_OK)
            goto out;
        kt_val = kt->kt;
    } else if (usage != NULL) {
        rc = adm_usage_error("key import ", "--usage does not apply to a certificate");
        goto out;
    }
    if ((rc = begin(a, true, true, pin_file, &slot, &s)) != ADM_OK)
        goto out;
    if (idhex == NULL && (rc = random_id(a, s, id, &id_len)) != ADM_OK)
        goto out;

    if (raw_aes) {
        common_attrs(&t1, &c_sec, label, id, id_len);
        t_add(&t1, CKA_KEY_TYPE, &kt_val, sizeof(kt_val));
        t_bool(&t1, CKA_PRIVATE, true);
        t_bool(&t1, CKA_SENSITIVE, true);
        t_bool(&t1, CKA_EXTRACTABLE, false);
        t_usages(&t1, u, -1);
        t_add(&t1, CKA_VALUE, data, (CK_ULONG)len);
        rc = create(a, s, &t1, what, &h1);
    } else if (cert != NULL) {
        der_len = i2d_X509(cert, &der);
        if (der_len <= 0) {
            rc = adm_error("%s: cannot re-encode the certificate", file);
            goto out;
        }
        common_attrs(&t1, &c_cert, label, id, id_len);
        t_add(&t1, CKA_CERTIFICATE_TYPE, &ctype, sizeof(ctype));
        t_bool(&t1, CKA_PRIVATE, false);
        t_add(&t1, CKA_VALUE, der, (CK_ULONG)der_len);
        rc = create(a, s, &t1, what, &h1);
    } else {
        EVP_PKEY *k = priv ? priv : pub;
        /* The public half, from either kind of file. */
        common_attrs(&t2, &c_pub, label, id, id_len);
        t_add(&t2, CKA_KEY_TYPE, &kt_val, sizeof(kt_val));
        t_bool(&t2, CKA_PRIVATE, false);
        t_usages(&t2, u, 1);
        if ((rc = key_attrs(k, kt, false, &t2)) != ADM_OK)
            goto out;
        if (priv != NULL) {
            common_attrs(&t1, &c_priv, label, id, id_len);
            t_add(&t1, CKA_KEY_TYPE, &kt_val, sizeof(kt_val));
            t_bool(&t1, CKA_PRIVATE, true);
            t_bool(&t1, CKA_SENSITIVE, true);
            t_bool(&t1, CKA_EXTRACTABLE, false);
            t_usages(&t1, u, 0);
            if ((rc = key_attrs(k, kt, true, &t1)) != ADM_OK ||
                (rc = create(a, s, &t1, what, &h1)) != ADM_OK)
                goto out;
        }
        if ((rc = create(a, s, &t2, "public key", &h2)) != ADM_OK) {
            if (h1 != CK_INVALID_HANDLE)
                a->p11->C_DestroyObject(s, h1);
            h1 = CK_INVALID_HANDLE;
            goto out;
        }
    }
    if (rc != ADM_OK)
        goto out;
    char *hex = adm_hex(id, id_len);
    if (a->json) {
        rc = adm_json_print(json_pack(
            "{s:s, s:s, s:s, s:o, s:o}", "imported", what, "label", label, "id", hex ? hex : "",
            "handle", h1 != CK_INVALID_HANDLE ? json_integer((json_int_t)h1) : json_null(),
            "public_handle", h2 != CK_INVALID_HANDLE ? json_integer((json_int_t)h2) : json_null()));
    } else {
        printf("Imported %s%s%s \"%s\" (id %s) on slot %lu.\n", kt ? kt->name : "", kt ? " " : "",
               what, label, hex ? hex : "", (unsigned long)slot);
    }
    free(hex);
out:
    t_free(&t1);
    t_free(&t2);
    OPENSSL_free(der);
    X509_free(cert);
    EVP_PKEY_free(priv);
    EVP_PKEY_free(pub);
    if (data != NULL)
        OPENSSL_clear_free(data, len + 1);
    end(a, s);
    return rc;
}

/* ---- export ---- */

/* Objects of class matching label / id. */
static int find_sel(struct admin *a, CK_SESSION_HANDLE s, CK_OBJECT_CLASS *cls, const char *label,
                    const unsigned char *id, size_t id_len, CK_OBJECT_HANDLE **hs, CK_ULONG *n)
{
    CK_ATTRIBUTE t[3];
    CK_ULONG k = 0;
    if (cls != NULL)
        t[k++] = (CK_ATTRIBUTE){CKA_CLASS, cls, sizeof(*cls)};
    if (label != NULL)
        t[k++] = (CK_ATTRIBUTE){CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)};
    if (id != NULL)
        t[k++] = (CK_ATTRIBUTE){CKA_ID, (void *)id, (CK_ULONG)id_len};
    return find_all(a, s, t, k, hs, n);
}

static int cmd_export(struct admin *a, int argc, char **argv)
{
    const char *label = NULL, *idhex = NULL, *out_path = NULL, *cls_opt = NULL, *pin_file = NULL;
    bool force = false, login = false;
    const struct adm_opt opts[] = {
        {"label", 0, &label, NULL},       {"id", 0, &idhex, NULL},
        {"out", 'o', &out_path, NULL},    {"class", 0, &cls_opt, NULL},
        {"force", 0, NULL, &force},       {"login", 0, NULL, &login},
        {"pin-file", 0, &pin_file, NULL}, {0},
    };
    unsigned char id[KEY_ID_MAX];
    size_t id_len = 0;
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_SLOT_ID slot;
    CK_OBJECT_HANDLE *hs = NULL;
    CK_ULONG n = 0;
    unsigned char *val = NULL;
    CK_ULONG val_len = 0;
    BIO *mem = NULL;
    int rc = adm_parse(a, "key export", help_export, argc, argv, opts, NULL, 0, NULL);
    if (rc != ADM_OK)
        return rc;
    if (label == NULL && idhex == NULL)
        return adm_usage_error("key export ", "name the object with --label or --id");
    if (out_path == NULL)
        return adm_usage_error("key export ", "--out FILE is required (- for standard output)");
    bool want_pub = true, want_cert = true;
    if (cls_opt != NULL) {
        if (strcmp(cls_opt, "pubkey") == 0)
            want_cert = false;
        else if (strcmp(cls_opt, "cert") == 0)
            want_pub = false;
        else
            return adm_usage_error("key export ", "--class is pubkey or cert, not '%s'", cls_opt);
    }
    if (idhex != NULL && (rc = parse_id(idhex, id, &id_len, "key export ")) != ADM_OK)
        return rc;
    if (pin_file != NULL)
        login = true;
    if ((rc = begin(a, false, login, pin_file, &slot, &s)) != ADM_OK)
        goto out;
    const char *pem_name = NULL;
    CK_ATTRIBUTE_TYPE attr = CKA_PUBLIC_KEY_INFO;
    static const CK_OBJECT_CLASS order[] = {CKO_PUBLIC_KEY, CKO_CERTIFICATE, CKO_PRIVATE_KEY};
    for (size_t i = 0; i < 3 && pem_name == NULL; i++) {
        CK_OBJECT_CLASS c = order[i];
        if ((c == CKO_CERTIFICATE && !want_cert) || (c != CKO_CERTIFICATE && !want_pub))
            continue;
        free(hs);
        hs = NULL;
        if ((rc = find_sel(a, s, &c, label, idhex ? id : NULL, id_len, &hs, &n)) != ADM_OK)
            goto out;
        if (n == 0)
            continue;
        if (n > 1) {
            rc = adm_error("%lu %s objects match; name one with both --label and --id, or "
                           "--class",
                           (unsigned long)n, class_name(c));
            goto out;
        }
        pem_name = c == CKO_CERTIFICATE ? "CERTIFICATE" : "PUBLIC KEY";
        attr = c == CKO_CERTIFICATE ? CKA_VALUE : CKA_PUBLIC_KEY_INFO;
    }
    if (pem_name == NULL) {
        rc = adm_error("no %s matches on slot %lu%s (see '%s key list')",
                       want_cert && want_pub ? "public key or certificate"
                       : want_cert           ? "certificate"
                                             : "public key",
                       (unsigned long)slot, login ? "" : "; --login also searches private keys",
                       ADM_PROG);
        goto out;
    }
    if (!get_attr(a, s, hs[0], attr, &val, &val_len)) {
        rc = adm_error("the object has no readable %s", ck_attribute_name(attr));
        goto out;
    }
    mem = BIO_new(BIO_s_mem());
    if (mem == NULL || PEM_write_bio(mem, pem_name, "", val, (long)val_len) <= 0) {
        rc = adm_error("cannot encode PEM");
        goto out;
    }
    char *pem;
    long pem_len = BIO_get_mem_data(mem, &pem);
    if ((rc = adm_write_file(out_path, pem, (size_t)pem_len, 0644, force)) != ADM_OK)
        goto out;
    if (strcmp(out_path, "-") != 0)
        fprintf(stderr, "Wrote the %s to %s.\n", attr == CKA_VALUE ? "certificate" : "public key",
                out_path);
out:
    BIO_free(mem);
    free(val);
    free(hs);
    end(a, s);
    return rc;
}

/* ---- delete ---- */

static int cmd_delete(struct admin *a, int argc, char **argv)
{
    const char *label = NULL, *idhex = NULL, *handle = NULL, *pin_file = NULL;
    bool yes = false;
    const struct adm_opt opts[] = {
        {"label", 0, &label, NULL}, {"id", 0, &idhex, NULL},          {"handle", 0, &handle, NULL},
        {"yes", 'y', NULL, &yes},   {"pin-file", 0, &pin_file, NULL}, {0},
    };
    unsigned char id[KEY_ID_MAX];
    size_t id_len = 0;
    unsigned long hval = 0;
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_SLOT_ID slot;
    CK_OBJECT_HANDLE *hs = NULL;
    CK_ULONG n = 0;
    int rc = adm_parse(a, "key delete", help_delete, argc, argv, opts, NULL, 0, NULL);
    if (rc != ADM_OK)
        return rc;
    if (label == NULL && idhex == NULL && handle == NULL)
        return adm_usage_error("key delete ", "name what to delete with --label, --id or --handle");
    if (idhex != NULL && (rc = parse_id(idhex, id, &id_len, "key delete ")) != ADM_OK)
        return rc;
    if (handle != NULL && (adm_parse_ulong(handle, &hval) != 0 || hval == 0))
        return adm_usage_error("key delete ", "--handle wants a handle number from 'key list'");
    if ((rc = begin(a, true, true, pin_file, &slot, &s)) != ADM_OK ||
        (rc = find_sel(a, s, NULL, label, idhex ? id : NULL, id_len, &hs, &n)) != ADM_OK)
        goto out;
    if (handle != NULL) {
        CK_ULONG k = 0;
        for (CK_ULONG i = 0; i < n; i++)
            if (hs[i] == hval)
                hs[k++] = hs[i];
        n = k;
    }
    if (n == 0) {
        rc = adm_error("nothing on slot %lu matches; nothing was deleted (see '%s key list "
                       "--login')",
                       (unsigned long)slot, ADM_PROG);
        goto out;
    }
    fprintf(stderr, "These %lu object(s) of slot %lu will be destroyed:\n", (unsigned long)n,
            (unsigned long)slot);
    for (CK_ULONG i = 0; i < n; i++) {
        struct objinfo o;
        describe(a, s, hs[i], &o);
        fprintf(stderr, "  handle %lu: %s %s %s label \"%s\" id %s\n", (unsigned long)o.handle,
                o.cls_name, o.type_name[0] ? o.type_name : "", o.size, o.label,
                o.id[0] ? o.id : "-");
    }
    if (!adm_confirm(yes, "Destroy %s? [y/N]", n == 1 ? "it" : "them")) {
        rc = adm_error("not confirmed; nothing was deleted");
        goto out;
    }
    for (CK_ULONG i = 0; i < n; i++) {
        CK_RV rv = a->p11->C_DestroyObject(s, hs[i]);
        if (rv != CKR_OK) {
            rc = adm_ck_error(a, rv, (CK_USER_TYPE)-1, "C_DestroyObject(%lu) (%lu of %lu done)",
                              (unsigned long)hs[i], (unsigned long)i, (unsigned long)n);
            goto out;
        }
    }
    printf("Destroyed %lu object(s).\n", (unsigned long)n);
    rc = ADM_OK;
out:
    free(hs);
    end(a, s);
    return rc;
}

int cmd_key(struct admin *a, int argc, char **argv)
{
    static const struct adm_cmd sub[] = {
        {"list", cmd_list, ""},     {"generate", cmd_generate, ""}, {"import", cmd_import, ""},
        {"export", cmd_export, ""}, {"delete", cmd_delete, ""},
    };
    return adm_dispatch(a, "key", sub, sizeof(sub) / sizeof(sub[0]), help_key, argc, argv);
}
