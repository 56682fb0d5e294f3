/*
 * libFuzzer target: attribute templates through the real entry points.
 * The input is split into two templates; the first goes to C_CreateObject
 * (in an R/W user session of an in-memory token), the second to
 * C_SetAttributeValue and C_FindObjectsInit on the new object, then
 * C_GetAttributeValue reads everything back and the object is destroyed.
 *
 * Template encoding, repeated: type (u16 LE, mapped onto a table of real
 * attribute types when < 0x8000), len (u8), value (len bytes); a 0xFF 0xFF
 * type starts the second template.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pkcs11/pkcs11.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const CK_ATTRIBUTE_TYPE TYPES[] = {
    CKA_CLASS,        CKA_TOKEN,          CKA_PRIVATE,         CKA_LABEL,
    CKA_VALUE,        CKA_KEY_TYPE,       CKA_ID,              CKA_SENSITIVE,
    CKA_EXTRACTABLE,  CKA_MODIFIABLE,     CKA_COPYABLE,        CKA_DESTROYABLE,
    CKA_ENCRYPT,      CKA_DECRYPT,        CKA_SIGN,            CKA_VERIFY,
    CKA_WRAP,         CKA_UNWRAP,         CKA_DERIVE,          CKA_VALUE_LEN,
    CKA_START_DATE,   CKA_END_DATE,       CKA_APPLICATION,     CKA_OBJECT_ID,
    CKA_CERTIFICATE_TYPE, CKA_SUBJECT,    CKA_ISSUER,          CKA_SERIAL_NUMBER,
    CKA_MODULUS,      CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_EC_PARAMS,
    CKA_EC_POINT,     CKA_PARAMETER_SET,  CKA_WRAP_TEMPLATE,   CKA_LOCAL,
    CKA_ALWAYS_SENSITIVE, CKA_PUBLIC_KEY_INFO, CKA_TRUSTED,    CKA_UNIQUE_ID,
};
#define NTYPES (sizeof(TYPES) / sizeof(TYPES[0]))
#define MAX_ATTRS 64

static CK_SESSION_HANDLE session;
static CK_FUNCTION_LIST_3_2 *f;
static int ready;
static unsigned leftovers; /* objects the input made indestructible */

/* At exit the module is finalised, so LeakSanitizer sees what really
 * leaked rather than the live module's state. */
static void finalize_at_exit(void)
{
    if (f != NULL)
        (void)f->C_Finalize(NULL);
}

static void setup_once(void)
{
    if (ready)
        return;
    ready = 1;
    if (f != NULL) { /* a restart after too many leftovers */
        (void)f->C_Initialize(NULL);
        goto login;
    }
    char dir[] = "/tmp/craton-fuzz-XXXXXX", path[64];
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(path, sizeof(path), "%s/craton_hsm.toml", dir);
    FILE *c = fopen(path, "w");
    if (c == NULL)
        abort();
    fputs("[token]\npersist_objects = false\n[security]\npbkdf2_iterations = 100000\n", c);
    fclose(c);
    setenv("CRATON_HSM_CONFIG", path, 1);
    CK_INTERFACE_PTR itf;
    if (C_GetInterface(NULL, NULL, &itf, 0) != CKR_OK)
        abort();
    f = itf->pFunctionList;
    atexit(finalize_at_exit);
    if (f->C_Initialize(NULL) != CKR_OK)
        abort();
login:;
    CK_UTF8CHAR label[32];
    memset(label, ' ', sizeof(label));
    if (f->C_InitToken(0, (CK_UTF8CHAR_PTR) "12345678", 8, label) != CKR_OK ||
        f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &session) != CKR_OK ||
        f->C_Login(session, CKU_SO, (CK_UTF8CHAR_PTR) "12345678", 8) != CKR_OK ||
        f->C_InitPIN(session, (CK_UTF8CHAR_PTR) "87654321", 8) != CKR_OK ||
        f->C_Logout(session) != CKR_OK ||
        f->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR) "87654321", 8) != CKR_OK)
        abort();
}

/* Parses one template from *p; values point into the input. */
static CK_ULONG parse(const uint8_t **p, const uint8_t *end, CK_ATTRIBUTE *t, CK_ATTRIBUTE *nested)
{
    CK_ULONG n = 0;
    while (end - *p >= 3 && n < MAX_ATTRS) {
        unsigned type = (unsigned)(*p)[0] | (unsigned)(*p)[1] << 8;
        size_t len = (*p)[2];
        *p += 3;
        if (type == 0xFFFF)
            break;
        if ((size_t)(end - *p) < len)
            len = (size_t)(end - *p);
        t[n].type = type < 0x8000 ? TYPES[type % NTYPES] : (CK_ATTRIBUTE_TYPE)type;
        t[n].pValue = len ? (void *)*p : NULL;
        t[n].ulValueLen = len;
        if (t[n].type == CKA_WRAP_TEMPLATE && len > 0) {
            /* An attribute array must point at CK_ATTRIBUTEs, not bytes. */
            nested[0].type = TYPES[(*p)[0] % NTYPES];
            nested[0].pValue = (void *)*p;
            nested[0].ulValueLen = len - 1;
            t[n].pValue = nested;
            t[n].ulValueLen = sizeof(CK_ATTRIBUTE);
        }
        *p += len;
        n++;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    CK_ATTRIBUTE a[MAX_ATTRS], b[MAX_ATTRS], na[1], nb[1];
    const uint8_t *p = data, *end = data + size;
    setup_once();
    CK_ULONG na_count = parse(&p, end, a, na);
    CK_ULONG nb_count = parse(&p, end, b, nb);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    if (f->C_CreateObject(session, a, na_count, &h) != CKR_OK)
        return 0;
    (void)f->C_SetAttributeValue(session, h, b, nb_count);
    if (f->C_FindObjectsInit(session, b, nb_count) == CKR_OK) {
        CK_OBJECT_HANDLE found[4];
        CK_ULONG n = 0;
        (void)f->C_FindObjects(session, found, 4, &n);
        (void)f->C_FindObjectsFinal(session);
    }
    /* Read every attribute type back: lengths first, then values. */
    CK_ATTRIBUTE q[NTYPES];
    unsigned char buf[NTYPES][512];
    for (size_t i = 0; i < NTYPES; i++) {
        q[i].type = TYPES[i];
        q[i].pValue = NULL;
        q[i].ulValueLen = 0;
    }
    (void)f->C_GetAttributeValue(session, h, q, NTYPES);
    /* An attribute array's buffer is the caller's CK_ATTRIBUTE array, whose
     * entries must be valid: ask for their lengths (pValue NULL). */
    CK_ATTRIBUTE inner[8];
    memset(inner, 0, sizeof(inner));
    for (size_t i = 0; i < NTYPES; i++) {
        q[i].pValue = buf[i];
        q[i].ulValueLen = sizeof(buf[i]);
        if (q[i].type == CKA_WRAP_TEMPLATE) {
            q[i].pValue = inner;
            q[i].ulValueLen = sizeof(inner);
        }
    }
    (void)f->C_GetAttributeValue(session, h, q, NTYPES);
    CK_OBJECT_HANDLE copy;
    if (f->C_CopyObject(session, h, b, nb_count, &copy) == CKR_OK)
        (void)f->C_DestroyObject(session, copy);
    if (f->C_DestroyObject(session, h) != CKR_OK && ++leftovers > 1000) {
        (void)f->C_Finalize(NULL); /* frees them; the next input starts afresh */
        leftovers = 0;
        ready = 0;
    }
    return 0;
}
