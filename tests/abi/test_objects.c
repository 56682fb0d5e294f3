/*
 * The object layer through the real ABI: dlopen the built module, use the
 * 3.2 function list as an application would, and inspect (or tamper with)
 * the slot databases with sqlite3 while the module is finalized.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "abi_util.h"

#define SO_PIN     "12345678"
#define USER_PIN   "87654321"
#define LEN(s)     ((CK_ULONG)(sizeof(s) - 1))
#define PIN(s)     (CK_UTF8CHAR_PTR)(s), LEN(s)
#define N(a)       ((CK_ULONG)(sizeof(a) / sizeof((a)[0])))
#define DATA_VALUE "data-object-payload"

#define EQ(a, b)       assert_int_equal((a), (b))
#define RV(call, want) assert_int_equal((call), (want))
#define OK(call)       RV(call, CKR_OK)

/* Template entries. */
// clang-format off
#define A_BUF(t, p, n) {(t), (void *)(p), (CK_ULONG)(n)}
#define A_STR(t, s)    {(t), (void *)(s), (CK_ULONG)strlen(s)}
#define A_VAR(t, v)    {(t), (void *)&(v), (CK_ULONG)sizeof(v)}
#define A_BOOL(t, b)   {(t), (b) ? &yes : &no, (CK_ULONG)sizeof(CK_BBOOL)}
// clang-format on

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static CK_OBJECT_CLASS c_data = CKO_DATA, c_cert = CKO_CERTIFICATE, c_secret = CKO_SECRET_KEY,
                       c_pub = CKO_PUBLIC_KEY, c_priv = CKO_PRIVATE_KEY;
static CK_KEY_TYPE k_aes = CKK_AES, k_generic = CKK_GENERIC_SECRET, k_ec = CKK_EC;
static CK_CERTIFICATE_TYPE ct_x509 = CKC_X_509;
static CK_UTF8CHAR token_label[32] = "Objects ABI                     ";

/* A 32-byte AES key we look for in the database files. */
static const CK_BYTE AES_KEY[32] = {
    0x8f, 0x3a, 0xc1, 0x5e, 0x27, 0x9b, 0xd4, 0x60, 0x11, 0xee, 0x7c, 0x42, 0xa9, 0x05, 0xb3, 0x6d,
    0xf8, 0x24, 0x91, 0xcb, 0x3e, 0x57, 0x0a, 0xd6, 0x7b, 0x88, 0xe3, 0x19, 0x4c, 0xa0, 0x65, 0xbf};

/* Self-signed P-256 certificate, CN=test:
 * openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes
 *   -subj /CN=test -days 3650 -outform DER | xxd -i
 * Serial (INTEGER TLV) at 13 (22 bytes), issuer Name at 47 (17), subject Name
 * at 96 (17), SubjectPublicKeyInfo at 113 (91). */
static const CK_BYTE CERT[] = {
    0x30, 0x82, 0x01, 0x72, 0x30, 0x82, 0x01, 0x19, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x14, 0x41,
    0xe3, 0xa0, 0xc4, 0xff, 0xec, 0x0a, 0x09, 0x4a, 0xdd, 0xde, 0x85, 0x3e, 0xeb, 0x2e, 0x49, 0x8c,
    0x9d, 0x41, 0x42, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x30,
    0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x04, 0x74, 0x65, 0x73, 0x74,
    0x30, 0x1e, 0x17, 0x0d, 0x32, 0x36, 0x31, 0x31, 0x32, 0x37, 0x31, 0x33, 0x30, 0x39, 0x34, 0x39,
    0x5a, 0x17, 0x0d, 0x33, 0x36, 0x31, 0x31, 0x32, 0x34, 0x31, 0x33, 0x30, 0x39, 0x34, 0x39, 0x5a,
    0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x04, 0x74, 0x65, 0x73,
    0x74, 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
    0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0xfb, 0xf9, 0x47, 0x2a,
    0x92, 0xc5, 0xed, 0x1f, 0xa7, 0x24, 0xab, 0xad, 0x69, 0x62, 0x78, 0x2a, 0x72, 0x96, 0x94, 0xca,
    0xa6, 0x32, 0x17, 0x9c, 0x6f, 0x20, 0xca, 0xa7, 0x63, 0x85, 0xa6, 0xc1, 0x68, 0xca, 0x00, 0xe4,
    0xa4, 0xd7, 0xcb, 0xd8, 0xce, 0x0e, 0x06, 0x6b, 0x45, 0x9d, 0x8d, 0x4f, 0xdb, 0xf6, 0x86, 0x2a,
    0xef, 0x29, 0xcc, 0x69, 0x44, 0x26, 0x45, 0xd0, 0x02, 0x59, 0x5c, 0xc6, 0xa3, 0x53, 0x30, 0x51,
    0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14, 0x25, 0xdf, 0x5c, 0x2b, 0x5f,
    0xe7, 0x27, 0x15, 0xa7, 0x5f, 0x65, 0xf6, 0xdf, 0xd9, 0xbc, 0x3e, 0x70, 0x85, 0x66, 0x7a, 0x30,
    0x1f, 0x06, 0x03, 0x55, 0x1d, 0x23, 0x04, 0x18, 0x30, 0x16, 0x80, 0x14, 0x25, 0xdf, 0x5c, 0x2b,
    0x5f, 0xe7, 0x27, 0x15, 0xa7, 0x5f, 0x65, 0xf6, 0xdf, 0xd9, 0xbc, 0x3e, 0x70, 0x85, 0x66, 0x7a,
    0x30, 0x0f, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x05, 0x30, 0x03, 0x01, 0x01,
    0xff, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x03, 0x47, 0x00,
    0x30, 0x44, 0x02, 0x20, 0x75, 0x9c, 0xdf, 0x13, 0x3e, 0x6e, 0x34, 0x9b, 0xa6, 0x51, 0xe6, 0x33,
    0x2f, 0xeb, 0xe9, 0x05, 0xb8, 0x31, 0x87, 0x19, 0xc0, 0xf3, 0x98, 0xe3, 0x9c, 0x35, 0x9a, 0x1d,
    0xe3, 0xb5, 0x32, 0x7d, 0x02, 0x20, 0x12, 0x6b, 0x89, 0xa1, 0x3d, 0x41, 0xa4, 0xa8, 0x0d, 0x88,
    0xc1, 0x40, 0xa5, 0x8f, 0xad, 0x0f, 0xa5, 0x75, 0xb2, 0xc0, 0x8b, 0x13, 0x71, 0xa0, 0x95, 0xbd,
    0xf6, 0x98, 0x9f, 0x95, 0x50, 0x63};
#define CERT_SERIAL  (CERT + 13), 22
#define CERT_ISSUER  (CERT + 47), 17
#define CERT_SUBJECT (CERT + 96), 17
#define CERT_SPKI    (CERT + 113), 91

/* RFC 6979 A.2.5: a P-256 key pair. */
static const CK_BYTE EC_D[32] = {0xc9, 0xaf, 0xa9, 0xd8, 0x45, 0xba, 0x75, 0x16, 0x6b, 0x5c, 0x21,
                                 0x57, 0x67, 0xb1, 0xd6, 0x93, 0x4e, 0x50, 0xc3, 0xdb, 0x36, 0xe8,
                                 0x9b, 0x12, 0x7b, 0x8a, 0x62, 0x2b, 0x12, 0x0f, 0x67, 0x21};
static const CK_BYTE EC_XY[64] = {
    0x60, 0xfe, 0xd4, 0xba, 0x25, 0x5a, 0x9d, 0x31, 0xc9, 0x61, 0xeb, 0x74, 0xc6, 0x35, 0x6d, 0x68,
    0xc0, 0x49, 0xb8, 0x92, 0x3b, 0x61, 0xfa, 0x6c, 0xe6, 0x69, 0x62, 0x2e, 0x60, 0xf2, 0x9f, 0xb6,
    0x79, 0x03, 0xfe, 0x10, 0x08, 0xb8, 0xbc, 0x99, 0xa4, 0x1a, 0xe9, 0xe9, 0x56, 0x28, 0xbc, 0x64,
    0xf2, 0xf1, 0xb2, 0x0c, 0x2d, 0x7e, 0x9f, 0x51, 0x77, 0xa3, 0xc2, 0x94, 0xd4, 0x46, 0x22, 0x99};
static const CK_BYTE P256_OID[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const CK_BYTE P256_SPKI_HDR[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                        0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                        0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};

/* ---- fixture and sessions ----------------------------------------------- */

static struct abi A;
static CK_FUNCTION_LIST_3_2 *f;
static int saved_stderr = -1, cap_fd = -1;

/* A test body without the cmocka state argument. */
#define TEST(name)                 \
    static void name##_body(void); \
    static void name(void **state) \
    {                              \
        (void)state;               \
        name##_body();             \
    }                              \
    static void name##_body(void)

static CK_SESSION_HANDLE open_s(CK_SLOT_ID slot, bool rw)
{
    CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
    CK_FLAGS fl = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);
    OK(f->C_OpenSession(slot, fl, NULL, NULL, &h));
    return h;
}

static void login(CK_SESSION_HANDLE s)
{
    OK(f->C_Login(s, CKU_USER, PIN(USER_PIN)));
}

/* SO sets slot's user PIN; no session stays open. */
static void set_user_pin(CK_SLOT_ID slot)
{
    CK_SESSION_HANDLE s = open_s(slot, true);
    OK(f->C_Login(s, CKU_SO, PIN(SO_PIN)));
    OK(f->C_InitPIN(s, PIN(USER_PIN)));
    OK(f->C_CloseSession(s));
}

static void init_slot(CK_SLOT_ID slot)
{
    OK(f->C_InitToken(slot, PIN(SO_PIN), token_label));
    set_user_pin(slot);
}

/* C_Initialize; the store is a copy of a template (slot 0, or both slots of
 * slot_count = 2, initialised with a user PIN). */
static void boot(void)
{
    OK(f->C_Initialize(NULL));
}

/* boot() with slot_count = 2 and a logged-in R/W session on each slot. */
static void boot2(CK_SESSION_HANDLE *s0, CK_SESSION_HANDLE *s1)
{
    boot();
    *s0 = open_s(0, true);
    *s1 = open_s(1, true);
    login(*s0);
    login(*s1);
}

#define CFG1 ABI_FAST_CONFIG
#define CFG2 "[token]\nslot_count = 2\n" ABI_FAST_CONFIG

/* Stores whose tokens are initialised with a user PIN, made once: every test
 * starts from a copy, which spares it the PBKDF2 runs of that (slow under
 * valgrind).  C_InitToken itself is exercised by test_init_token_wipes_slot. */
static struct abi tmpl[2];

static int make_template(struct abi *t, const char *cfg, CK_SLOT_ID slots)
{
    if (abi_scratch(t, cfg) != 0 || abi_open(t) != 0)
        return -1;
    f = t->f;
    OK(f->C_Initialize(NULL));
    for (CK_SLOT_ID i = 0; i < slots; i++)
        init_slot(i);
    OK(f->C_Finalize(NULL));
    abi_close(t);
    f = NULL;
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    return make_template(&tmpl[0], CFG1, 1) || make_template(&tmpl[1], CFG2, 2) ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    abi_rm_scratch(&tmpl[0]);
    abi_rm_scratch(&tmpl[1]);
    return 0;
}

/* A fresh scratch directory with config cfg and a copy of t's store. */
static int setup_from(const struct abi *t, const char *cfg)
{
    char cmd[3 * PATH_MAX + 128];
    memset(&A, 0, sizeof(A));
    if (abi_scratch(&A, cfg) != 0)
        return -1;
    snprintf(cmd, sizeof(cmd), "cp -a '%s/craton_hsm_store' '%s/' && rm '%s/craton_hsm_store/%s'",
             t->dir, A.dir, A.dir, "craton_hsm.lock");
    if (system(cmd) != 0 || abi_open(&A) != 0) {
        abi_close(&A);
        return -1;
    }
    f = A.f;
    return 0;
}

static int setup(void **state)
{
    (void)state;
    return setup_from(&tmpl[0], CFG1);
}

static int setup2(void **state)
{
    (void)state;
    return setup_from(&tmpl[1], CFG2);
}

static int teardown(void **state)
{
    (void)state;
    if (saved_stderr >= 0) { /* a test failed while capturing */
        dup2(saved_stderr, STDERR_FILENO);
        close(saved_stderr);
        close(cap_fd);
        saved_stderr = -1;
    }
    if (f != NULL)
        f->C_Finalize(NULL);
    abi_close(&A);
    abi_rm_scratch(&A);
    f = NULL;
    return 0;
}

static CK_SESSION_HANDLE user_session(void)
{
    CK_SESSION_HANDLE s = open_s(0, true);
    login(s);
    return s;
}

static void restart(void)
{
    OK(f->C_Finalize(NULL));
    OK(f->C_Initialize(NULL));
}

/* ---- objects ------------------------------------------------------------ */

static CK_RV new_data(CK_SESSION_HANDLE s, const char *label, CK_BBOOL token, CK_BBOOL priv,
                      CK_OBJECT_HANDLE *h)
{
    CK_ATTRIBUTE t[] = {A_VAR(CKA_CLASS, c_data),      A_VAR(CKA_TOKEN, token),
                        A_VAR(CKA_PRIVATE, priv),      A_STR(CKA_LABEL, label),
                        A_STR(CKA_APPLICATION, "abi"), A_STR(CKA_VALUE, DATA_VALUE)};
    *h = CK_INVALID_HANDLE;
    return f->C_CreateObject(s, t, N(t), h);
}

static CK_OBJECT_HANDLE data(CK_SESSION_HANDLE s, const char *label, CK_BBOOL token, CK_BBOOL priv)
{
    CK_OBJECT_HANDLE h;
    OK(new_data(s, label, token, priv, &h));
    assert_int_not_equal(h, CK_INVALID_HANDLE);
    return h;
}

/* A secret key of type kt with value v, plus up to 8 extra attributes. */
static CK_RV new_secret(CK_SESSION_HANDLE s, CK_KEY_TYPE kt, const char *label, CK_BBOOL token,
                        const void *v, CK_ULONG vlen, const CK_ATTRIBUTE *extra, CK_ULONG nextra,
                        CK_OBJECT_HANDLE *h)
{
    CK_ATTRIBUTE t[13] = {A_VAR(CKA_CLASS, c_secret), A_VAR(CKA_KEY_TYPE, kt),
                          A_VAR(CKA_TOKEN, token), A_STR(CKA_LABEL, label),
                          A_BUF(CKA_VALUE, v, vlen)};
    assert_true(nextra <= 8);
    for (CK_ULONG i = 0; i < nextra; i++)
        t[5 + i] = extra[i];
    *h = CK_INVALID_HANDLE;
    return f->C_CreateObject(s, t, 5 + nextra, h);
}

static CK_OBJECT_HANDLE aes(CK_SESSION_HANDLE s, const char *label, CK_BBOOL token)
{
    CK_OBJECT_HANDLE h;
    OK(new_secret(s, k_aes, label, token, AES_KEY, 32, NULL, 0, &h));
    return h;
}

static CK_RV new_cert(CK_SESSION_HANDLE s, const char *label, CK_BBOOL token, const void *der,
                      CK_ULONG len, CK_OBJECT_HANDLE *h)
{
    CK_ATTRIBUTE t[] = {A_VAR(CKA_CLASS, c_cert), A_VAR(CKA_CERTIFICATE_TYPE, ct_x509),
                        A_VAR(CKA_TOKEN, token), A_STR(CKA_LABEL, label),
                        A_BUF(CKA_VALUE, der, len)};
    return f->C_CreateObject(s, t, N(t), h);
}

static CK_RV set1(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, const void *v,
                  CK_ULONG len)
{
    CK_ATTRIBUTE a = A_BUF(type, v, len);
    return f->C_SetAttributeValue(s, h, &a, 1);
}

static CK_RV set_bool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, CK_BBOOL b)
{
    return set1(s, h, type, &b, 1);
}

static CK_RV copy1(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE *t, CK_ULONG n,
                   CK_OBJECT_HANDLE *out)
{
    *out = CK_INVALID_HANDLE;
    return f->C_CopyObject(s, h, t, n, out);
}

/* One attribute into buf (*len: its size in, ulValueLen out). */
static CK_RV get1(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, void *buf,
                  CK_ULONG *len)
{
    CK_ATTRIBUTE a = {type, buf, *len};
    CK_RV rv = f->C_GetAttributeValue(s, h, &a, 1);
    *len = a.ulValueLen;
    return rv;
}

static void want_attr(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
                      const void *want, CK_ULONG n)
{
    unsigned char buf[1024];
    CK_ULONG len = sizeof(buf);
    OK(get1(s, h, type, buf, &len));
    EQ(len, n);
    if (n > 0)
        assert_memory_equal(buf, want, n);
}

static void want_str(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
                     const char *want)
{
    want_attr(s, h, type, want, (CK_ULONG)strlen(want));
}

static CK_BBOOL get_bool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type)
{
    CK_BBOOL b = 0x55;
    CK_ULONG len = sizeof(b);
    OK(get1(s, h, type, &b, &len));
    EQ(len, sizeof(b));
    assert_true(b == CK_TRUE || b == CK_FALSE);
    return b;
}

static CK_ULONG get_ulong(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type)
{
    CK_ULONG v = 0x5555, len = sizeof(v);
    OK(get1(s, h, type, &v, &len));
    EQ(len, sizeof(v));
    return v;
}

/* ulValueLen CK_UNAVAILABLE_INFORMATION and rv, with and without a buffer
 * (spec 5.7 case 1: sensitive, case 2: absent). */
static void want_unavailable(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
                             CK_RV rv)
{
    unsigned char buf[256];
    CK_ULONG len = sizeof(buf);
    RV(get1(s, h, type, buf, &len), rv);
    EQ(len, CK_UNAVAILABLE_INFORMATION);
    len = 0;
    RV(get1(s, h, type, NULL, &len), rv);
    EQ(len, CK_UNAVAILABLE_INFORMATION);
}

static void want_sensitive(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type)
{
    want_unavailable(s, h, type, CKR_ATTRIBUTE_SENSITIVE);
}

static void want_invalid_handle(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h)
{
    CK_ULONG len = 0;
    RV(get1(s, h, CKA_LABEL, NULL, &len), CKR_OBJECT_HANDLE_INVALID);
}

/* Every handle matching t, fetched at most chunk at a time until
 * C_FindObjects returns none; out (optional) gets the first max. */
static CK_ULONG find_chunked(CK_SESSION_HANDLE s, CK_ATTRIBUTE *t, CK_ULONG n,
                             CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG chunk)
{
    CK_ULONG total = 0, got;
    CK_OBJECT_HANDLE tmp[64];
    assert_true(chunk <= 64);
    OK(f->C_FindObjectsInit(s, t, n));
    do {
        got = 999;
        OK(f->C_FindObjects(s, tmp, chunk, &got));
        assert_true(got <= chunk);
        for (CK_ULONG i = 0; i < got; i++, total++) {
            assert_int_not_equal(tmp[i], CK_INVALID_HANDLE);
            if (out != NULL && total < max)
                out[total] = tmp[i];
        }
    } while (got > 0);
    OK(f->C_FindObjectsFinal(s));
    return total;
}

static CK_ULONG find(CK_SESSION_HANDLE s, CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_HANDLE *out,
                     CK_ULONG max)
{
    return find_chunked(s, t, n, out, max, 64);
}

static CK_ULONG find_class(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls)
{
    CK_ATTRIBUTE t[] = {A_VAR(CKA_CLASS, cls)};
    return find(s, t, 1, NULL, 0);
}

/* Everything visible (empty template) except the module's CKO_PROFILE objects. */
static CK_ULONG find_all(CK_SESSION_HANDLE s)
{
    return find(s, NULL, 0, NULL, 0) - find_class(s, CKO_PROFILE);
}

/* The number of objects labelled label; *h (optional) gets the first. */
static CK_ULONG find_label(CK_SESSION_HANDLE s, const char *label, CK_OBJECT_HANDLE *h)
{
    CK_ATTRIBUTE t[] = {A_STR(CKA_LABEL, label)};
    CK_OBJECT_HANDLE one[8] = {CK_INVALID_HANDLE};
    CK_ULONG n = find(s, t, 1, one, N(one));
    if (h != NULL)
        *h = one[0];
    return n;
}

/* ---- stderr, files and the database ------------------------------------- */

static void cap_begin(void)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/stderr.txt", A.dir);
    fflush(stderr);
    cap_fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(cap_fd >= 0);
    saved_stderr = dup(STDERR_FILENO);
    assert_true(saved_stderr >= 0);
    assert_true(dup2(cap_fd, STDERR_FILENO) >= 0);
}

static void cap_end(char *buf, size_t size)
{
    fflush(stderr);
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    saved_stderr = -1;
    ssize_t n = pread(cap_fd, buf, size - 1, 0);
    close(cap_fd);
    buf[n > 0 ? n : 0] = '\0';
    if (n > 0)
        fprintf(stderr, "# captured stderr: %s", buf);
}

static size_t lines_with(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL && ++n; p++)
        if ((p = strchr(p, '\n')) == NULL)
            break;
    return n;
}

/* Slot's database (layout of slot_count = 1 or > 1). */
static const char *db_path(CK_SLOT_ID slot, bool multi)
{
    static char path[PATH_MAX + 64];
    if (multi)
        snprintf(path, sizeof(path), "%s/craton_hsm_store/slot-%lu/token.db", A.dir,
                 (unsigned long)slot);
    else
        snprintf(path, sizeof(path), "%s/craton_hsm_store/token.db", A.dir);
    return path;
}

static int db_count(const char *path, const char *where)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM objects WHERE %s", where);
    EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    EQ(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    EQ(sqlite3_step(q), SQLITE_ROW);
    int n = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

/* Flips bit 0 of byte off of column col in the one row matching where;
 * hex gets the row's uid in lower-case hex. */
static void db_flip(const char *path, const char *col, const char *where, size_t off, char *hex)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    char sql[512];
    unsigned char uid[64], val[4096];
    EQ(sqlite3_open(path, &db), SQLITE_OK);
    snprintf(sql, sizeof(sql), "SELECT uid, %s FROM objects WHERE %s", col, where);
    EQ(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    EQ(sqlite3_step(q), SQLITE_ROW);
    int uid_len = sqlite3_column_bytes(q, 0), len = sqlite3_column_bytes(q, 1);
    assert_true(uid_len > 0 && uid_len <= (int)sizeof(uid));
    assert_true(len > (int)off && len <= (int)sizeof(val));
    memcpy(uid, sqlite3_column_blob(q, 0), (size_t)uid_len);
    memcpy(val, sqlite3_column_blob(q, 1), (size_t)len);
    EQ(sqlite3_step(q), SQLITE_DONE); /* exactly one row */
    sqlite3_finalize(q);
    val[off] ^= 0x01;
    snprintf(sql, sizeof(sql), "UPDATE objects SET %s = ? WHERE uid = ?", col);
    EQ(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_blob(q, 1, val, len, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, uid, uid_len, SQLITE_STATIC);
    EQ(sqlite3_step(q), SQLITE_DONE);
    EQ(sqlite3_changes(db), 1);
    sqlite3_finalize(q);
    EQ(sqlite3_close(db), SQLITE_OK);
    for (int i = 0; i < uid_len; i++)
        snprintf(hex + 2 * i, 3, "%02x", uid[i]);
}

/* Does the file at path (absent: no) contain needle? */
static bool file_has(const char *path, const void *needle, size_t n)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return false;
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *buf = malloc(size > 0 ? (size_t)size : 1);
    assert_non_null(buf);
    size_t got = fread(buf, 1, (size_t)(size > 0 ? size : 0), fp);
    fclose(fp);
    bool found = got >= n && memmem(buf, got, needle, n) != NULL;
    free(buf);
    return found;
}

/* In slot 0's token.db or token.db-wal? */
static bool store_has(const void *needle, size_t n)
{
    char wal[PATH_MAX + 80];
    snprintf(wal, sizeof(wal), "%s-wal", db_path(0, false));
    return file_has(db_path(0, false), needle, n) || file_has(wal, needle, n);
}

/* ---- data objects and certificates -------------------------------------- */

TEST(test_session_data_lifecycle)
{
    boot();
    CK_SESSION_HANDLE s = open_s(0, true);
    CK_OBJECT_HANDLE h = data(s, "session-data", CK_FALSE, CK_FALSE);
    CK_OBJECT_HANDLE h2 = data(s, "session-data-2", CK_FALSE, CK_FALSE);
    CK_ULONG size = 0;
    assert_int_not_equal(h, h2);
    EQ(get_ulong(s, h, CKA_CLASS), CKO_DATA);
    want_str(s, h, CKA_LABEL, "session-data");
    want_str(s, h, CKA_VALUE, DATA_VALUE);
    want_str(s, h, CKA_APPLICATION, "abi");
    want_attr(s, h, CKA_OBJECT_ID, NULL, 0); /* default: empty */
    assert_false(get_bool(s, h, CKA_TOKEN) || get_bool(s, h, CKA_PRIVATE));
    assert_true(get_bool(s, h, CKA_MODIFIABLE) && get_bool(s, h, CKA_COPYABLE));
    assert_true(get_bool(s, h, CKA_DESTROYABLE));
    OK(f->C_GetObjectSize(s, h, &size));
    assert_true(size >= LEN(DATA_VALUE));
    RV(f->C_GetObjectSize(s, h, NULL), CKR_ARGUMENTS_BAD);
    OK(f->C_DestroyObject(s, h));
    want_invalid_handle(s, h);
    RV(f->C_DestroyObject(s, h), CKR_OBJECT_HANDLE_INVALID);
    RV(f->C_DestroyObject(s, CK_INVALID_HANDLE), CKR_OBJECT_HANDLE_INVALID);
    RV(f->C_GetObjectSize(s, h, &size), CKR_OBJECT_HANDLE_INVALID);
    EQ(find_label(s, "session-data", NULL), 0);
    EQ(find_label(s, "session-data-2", NULL), 1);
    EQ(db_count(db_path(0, false), "1"), 0); /* session objects: memory only */
}

TEST(test_token_data_survives_restart)
{
    boot();
    CK_SESSION_HANDLE s = user_session();
    CK_OBJECT_HANDLE h;
    data(s, "tok-public", CK_TRUE, CK_FALSE);
    data(s, "tok-private", CK_TRUE, CK_TRUE);
    data(s, "sess-public", CK_FALSE, CK_FALSE);
    EQ(db_count(db_path(0, false), "1"), 2);
    EQ(db_count(db_path(0, false), "private = 1"), 1);
    restart();
    s = open_s(0, true);
    EQ(find_label(s, "tok-public", &h), 1);
    assert_true(get_bool(s, h, CKA_TOKEN));
    want_str(s, h, CKA_VALUE, DATA_VALUE);
    want_str(s, h, CKA_APPLICATION, "abi");
    EQ(find_label(s, "tok-private", NULL), 0);
    EQ(find_label(s, "sess-public", NULL), 0);
    login(s);
    EQ(find_label(s, "tok-private", &h), 1);
    assert_true(get_bool(s, h, CKA_PRIVATE));
    want_str(s, h, CKA_VALUE, DATA_VALUE);
    EQ(find_all(s), 2);
}

TEST(test_certificate)
{
    boot();
    CK_SESSION_HANDLE s = open_s(0, true);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE, bad;
    OK(new_cert(s, "cert", CK_TRUE, CERT, sizeof(CERT), &h));
    want_attr(s, h, CKA_SUBJECT, CERT_SUBJECT);
    want_attr(s, h, CKA_ISSUER, CERT_ISSUER);
    want_attr(s, h, CKA_SERIAL_NUMBER, CERT_SERIAL);
    want_attr(s, h, CKA_VALUE, CERT, sizeof(CERT));
    want_attr(s, h, CKA_PUBLIC_KEY_INFO, CERT_SPKI);
    EQ(get_ulong(s, h, CKA_CERTIFICATE_TYPE), CKC_X_509);
    EQ(get_ulong(s, h, CKA_CERTIFICATE_CATEGORY), CK_CERTIFICATE_CATEGORY_UNSPECIFIED);
    assert_false(get_bool(s, h, CKA_TRUSTED) || get_bool(s, h, CKA_PRIVATE));
    /* Not a DER certificate, or one with a trailing byte; no type. */
    CK_BYTE longer[sizeof(CERT) + 1] = {0};
    memcpy(longer, CERT, sizeof(CERT));
    RV(new_cert(s, "bad", CK_FALSE, CERT, 40, &bad), CKR_ATTRIBUTE_VALUE_INVALID);
    RV(new_cert(s, "bad", CK_FALSE, longer, sizeof(longer), &bad), CKR_ATTRIBUTE_VALUE_INVALID);
    CK_ATTRIBUTE notype[] = {A_VAR(CKA_CLASS, c_cert), A_BUF(CKA_VALUE, CERT, sizeof(CERT))};
    RV(f->C_CreateObject(s, notype, N(notype), &bad), CKR_TEMPLATE_INCOMPLETE);
    EQ(find_class(s, CKO_CERTIFICATE), 1);
    /* A token certificate is public: found by subject without login. */
    restart();
    s = open_s(0, false);
    CK_ATTRIBUTE by_subject[] = {A_VAR(CKA_CLASS, c_cert), A_BUF(CKA_SUBJECT, CERT + 96, 17)};
    EQ(find(s, by_subject, N(by_subject), &h, 1), 1);
    want_attr(s, h, CKA_SERIAL_NUMBER, CERT_SERIAL);
    want_str(s, h, CKA_LABEL, "cert");
}

/* ---- secret keys -------------------------------------------------------- */

TEST(test_aes_import)
{
    boot();
    CK_SESSION_HANDLE s = open_s(0, true);
    CK_OBJECT_HANDLE h;
    CK_ULONG sixteen = 16;
    CK_ATTRIBUTE pub[] = {A_BOOL(CKA_PRIVATE, false)}, vlen[] = {A_VAR(CKA_VALUE_LEN, sixteen)};
    CK_ATTRIBUTE local[] = {A_BOOL(CKA_LOCAL, true)};
    CK_ATTRIBUTE novalue[] = {A_VAR(CKA_CLASS, c_secret), A_VAR(CKA_KEY_TYPE, k_aes)};
    RV(new_secret(s, k_aes, "aes", CK_FALSE, AES_KEY, 32, NULL, 0, &h), CKR_USER_NOT_LOGGED_IN);
    RV(new_secret(s, k_aes, "aes", CK_TRUE, AES_KEY, 32, NULL, 0, &h), CKR_USER_NOT_LOGGED_IN);
    RV(new_secret(s, k_aes, "aes", CK_FALSE, AES_KEY, 32, pub, 1, &h), CKR_USER_NOT_LOGGED_IN);
    login(s);
    h = aes(s, "aes", CK_TRUE);
    EQ(get_ulong(s, h, CKA_KEY_TYPE), CKK_AES);
    EQ(get_ulong(s, h, CKA_VALUE_LEN), 32);
    assert_true(get_bool(s, h, CKA_PRIVATE) && get_bool(s, h, CKA_SENSITIVE));
    assert_false(get_bool(s, h, CKA_EXTRACTABLE));
    assert_false(get_bool(s, h, CKA_ALWAYS_SENSITIVE));
    assert_false(get_bool(s, h, CKA_NEVER_EXTRACTABLE));
    assert_false(get_bool(s, h, CKA_LOCAL));
    EQ(get_ulong(s, h, CKA_KEY_GEN_MECHANISM), CK_UNAVAILABLE_INFORMATION);
    want_sensitive(s, h, CKA_VALUE);
    RV(new_secret(s, k_aes, "x", CK_FALSE, AES_KEY, 15, NULL, 0, &h), CKR_ATTRIBUTE_VALUE_INVALID);
    RV(new_secret(s, k_aes, "x", CK_FALSE, AES_KEY, 32, vlen, 1, &h), CKR_TEMPLATE_INCONSISTENT);
    RV(new_secret(s, k_aes, "x", CK_FALSE, AES_KEY, 32, local, 1, &h), CKR_ATTRIBUTE_READ_ONLY);
    RV(f->C_CreateObject(s, novalue, N(novalue), &h), CKR_TEMPLATE_INCOMPLETE);
    EQ(find_class(s, CKO_SECRET_KEY), 1);
}

TEST(test_generic_secret_readable)
{
    static const char secret[] = "generic-secret-bytes";
    boot();
    CK_SESSION_HANDLE s = user_session();
    CK_ATTRIBUTE open_priv[] = {A_BOOL(CKA_SENSITIVE, false), A_BOOL(CKA_EXTRACTABLE, true)};
    CK_ATTRIBUTE open_pub[] = {A_BOOL(CKA_SENSITIVE, false), A_BOOL(CKA_EXTRACTABLE, true),
                               A_BOOL(CKA_PRIVATE, false)};
    CK_ATTRIBUTE noextract[] = {A_BOOL(CKA_SENSITIVE, false)};
    CK_ATTRIBUTE sensitive[] = {A_BOOL(CKA_EXTRACTABLE, true)};
    CK_OBJECT_HANDLE g, gp, ne, se;
    OK(new_secret(s, k_generic, "gen", CK_TRUE, secret, LEN(secret), open_priv, 2, &g));
    OK(new_secret(s, k_generic, "gen-pub", CK_TRUE, secret, LEN(secret), open_pub, 3, &gp));
    OK(new_secret(s, k_generic, "gen-ne", CK_FALSE, secret, LEN(secret), noextract, 1, &ne));
    OK(new_secret(s, k_generic, "gen-se", CK_FALSE, secret, LEN(secret), sensitive, 1, &se));
    want_str(s, g, CKA_VALUE, secret);
    want_str(s, gp, CKA_VALUE, secret);
    EQ(get_ulong(s, g, CKA_VALUE_LEN), LEN(secret));
    assert_false(get_bool(s, g, CKA_ALWAYS_SENSITIVE) || get_bool(s, g, CKA_NEVER_EXTRACTABLE));
    assert_false(get_bool(s, gp, CKA_PRIVATE));
    want_sensitive(s, ne, CKA_VALUE); /* not extractable */
    want_sensitive(s, se, CKA_VALUE); /* sensitive */
    /* Both token keys are readable again after a restart and a login. */
    restart();
    s = open_s(0, true);
    EQ(find_label(s, "gen", NULL), 0);
    EQ(find_label(s, "gen-pub", NULL), 1); /* a public object */
    login(s);
    EQ(find_label(s, "gen", &g), 1);
    EQ(find_label(s, "gen-pub", &gp), 1);
    want_str(s, g, CKA_VALUE, secret);
    want_str(s, gp, CKA_VALUE, secret);
}

/* A public (CKA_PRIVATE false) key's value is sealed too: changing the
 * object while logged out must not lose it. */
TEST(test_public_key_changed_logged_out)
{
    boot();
    CK_SESSION_HANDLE s = user_session();
    CK_ATTRIBUTE open_pub[] = {A_BOOL(CKA_SENSITIVE, false), A_BOOL(CKA_EXTRACTABLE, true),
                               A_BOOL(CKA_PRIVATE, false)};
    CK_ATTRIBUTE secret_class[] = {A_VAR(CKA_CLASS, c_secret)};
    CK_OBJECT_HANDLE k;
    CK_BYTE v[32];
    CK_ULONG len = sizeof(v);
    OK(new_secret(s, k_aes, "pub-key", CK_TRUE, AES_KEY, 32, open_pub, 3, &k));
    OK(f->C_Logout(s));
    CK_RV rv = set1(s, k, CKA_LABEL, "pub-key-2", 9);
    assert_true(rv == CKR_OK || rv == CKR_USER_NOT_LOGGED_IN);
    login(s);
    OK(get1(s, k, CKA_VALUE, v, &len)); /* same process */
    assert_memory_equal(v, AES_KEY, 32);
    restart();
    s = user_session();
    EQ(find(s, secret_class, 1, &k, 1), 1);
    len = sizeof(v);
    OK(get1(s, k, CKA_VALUE, v, &len)); /* after a restart */
    assert_memory_equal(v, AES_KEY, 32);
}

/* ---- C_GetAttributeValue (5.7) ------------------------------------------ */

TEST(test_get_value_rules)
{
    boot();
    CK_SESSION_HANDLE s = open_s(0, true);
    CK_OBJECT_HANDLE h = data(s, "length-query", CK_FALSE, CK_FALSE);
    char buf[64];
    CK_BBOOL b;
    CK_ULONG len = 12345;
    OK(get1(s, h, CKA_VALUE, NULL, &len)); /* case 3 */
    EQ(len, LEN(DATA_VALUE));
    OK(get1(s, h, CKA_VALUE, buf, &len)); /* case 4, exact */
    assert_memory_equal(buf, DATA_VALUE, LEN(DATA_VALUE));
    len = sizeof(buf); /* case 4, larger: set to the real length */
    OK(get1(s, h, CKA_VALUE, buf, &len));
    EQ(len, LEN(DATA_VALUE));
    len = 77;
    OK(get1(s, h, CKA_OBJECT_ID, NULL, &len)); /* empty */
    EQ(len, 0);
    len = LEN(DATA_VALUE) - 1; /* case 5 */
    RV(get1(s, h, CKA_VALUE, buf, &len), CKR_BUFFER_TOO_SMALL);
    EQ(len, CK_UNAVAILABLE_INFORMATION);
    len = 4;
    RV(get1(s, h, CKA_LABEL, buf, &len), CKR_BUFFER_TOO_SMALL);
    EQ(len, CK_UNAVAILABLE_INFORMATION);
    len = 0;
    RV(get1(s, h, CKA_TOKEN, &b, &len), CKR_BUFFER_TOO_SMALL);
    EQ(len, CK_UNAVAILABLE_INFORMATION);
    /* Case 2: attributes the object does not have. */
    want_unavailable(s, h, CKA_MODULUS, CKR_ATTRIBUTE_TYPE_INVALID);
    want_unavailable(s, h, CKA_KEY_TYPE, CKR_ATTRIBUTE_TYPE_INVALID);
    want_unavailable(s, h, CKA_VENDOR_DEFINED | 7, CKR_ATTRIBUTE_TYPE_INVALID);
}

/* Every attribute of the template is processed, whatever fails. */
TEST(test_get_all_processed)
{
    boot();
    CK_SESSION_HANDLE s = user_session();
    CK_OBJECT_HANDLE k = aes(s, "all-processed", CK_FALSE);
    CK_BYTE id[] = {1, 2, 3, 4, 5, 6};
    OK(set1(s, k, CKA_ID, id, sizeof(id)));
    char label[64], idbuf[2], value[64];
    CK_ULONG cls = 99;
    CK_BBOOL sens = 0x55;
    CK_ATTRIBUTE t[] = {
        {CKA_LABEL, label, sizeof(label)},   /* ok */
        {CKA_VALUE, value, sizeof(value)},   /* sensitive */
        {CKA_MODULUS, value, sizeof(value)}, /* absent */
        {CKA_ID, idbuf, sizeof(idbuf)},      /* too small */
        {CKA_CLASS, &cls, sizeof(cls)},      /* ok */
        {CKA_KEY_TYPE, NULL, 0},             /* length */
        {CKA_SENSITIVE, &sens, 1},           /* ok */
    };
    CK_RV rv = f->C_GetAttributeValue(s, k, t, N(t));
    assert_true(rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID ||
                rv == CKR_BUFFER_TOO_SMALL);
    EQ(t[0].ulValueLen, strlen("all-processed"));
    assert_memory_equal(label, "all-processed", strlen("all-processed"));
    EQ(t[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    EQ(t[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    EQ(t[3].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    EQ(t[4].ulValueLen, sizeof(CK_ULONG));
    EQ(cls, CKO_SECRET_KEY);
    EQ(t[5].ulValueLen, sizeof(CK_ULONG));
    EQ(t[6].ulValueLen, 1);
    EQ(sens, CK_TRUE);
}

/* An attribute-array value (CKA_WRAP_TEMPLATE) comes back as CK_ATTRIBUTEs:
 * its length is count * sizeof(CK_ATTRIBUTE), and with NULL pValues the
 * types and lengths of the elements are filled in. */
TEST(test_get_array_attribute)
{
    boot();
    CK_SESSION_HANDLE s = user_session();
    CK_ATTRIBUTE inner[] = {A_VAR(CKA_CLASS, c_secret), A_BOOL(CKA_EXTRACTABLE, false)};
    CK_ATTRIBUTE wrap[] = {A_BUF(CKA_WRAP_TEMPLATE, inner, sizeof(inner))};
    CK_OBJECT_HANDLE k;
    OK(new_secret(s, k_aes, "wrap-tmpl", CK_FALSE, AES_KEY, 32, wrap, 1, &k));
    CK_ATTRIBUTE out[2] = {{CKA_LABEL, NULL, 0}, {CKA_LABEL, NULL, 0}};
    CK_ULONG len = 0;
    OK(get1(s, k, CKA_WRAP_TEMPLATE, NULL, &len));
    EQ(len, sizeof(out));
    len = sizeof(out);
    OK(get1(s, k, CKA_WRAP_TEMPLATE, out, &len));
    EQ(len, sizeof(out));
    bool cls_first = out[0].type == CKA_CLASS;
    EQ(out[cls_first ? 0 : 1].type, CKA_CLASS);
    EQ(out[cls_first ? 0 : 1].ulValueLen, sizeof(CK_ULONG));
    EQ(out[cls_first ? 1 : 0].type, CKA_EXTRACTABLE);
    EQ(out[cls_first ? 1 : 0].ulValueLen, sizeof(CK_BBOOL));
}

TEST(test_get_arguments)
{
    boot();
    CK_SESSION_HANDLE s = open_s(0, true);
    CK_OBJECT_HANDLE h = data(s, "get-args", CK_FALSE, CK_FALSE);
    CK_ATTRIBUTE one = {CKA_LABEL, NULL, 0};
    CK_ATTRIBUTE *many = calloc(257, sizeof(*many));
    assert_non_null(many);
    for (int i = 0; i < 257; i++)
        many[i].type = CKA_LABEL;
    RV(f->C_GetAttributeValue(s, h, many, 257), CKR_ARGUMENTS_BAD);
    free(many);
    RV(f->C_GetAttributeValue(s, h, NULL, 1), CKR_ARGUMENTS_BAD);
    RV(f->C_GetAttributeValue(s + 1000, h, &one, 1), CKR_SESSION_HANDLE_INVALID);
    RV(f->C_GetAttributeValue(s, h + 1000, &one, 1), CKR_OBJECT_HANDLE_INVALID);
    RV(f->C_GetAttributeValue(s, CK_INVALID_HANDLE, &one, 1), CKR_OBJECT_HANDLE_INVALID);
    OK(f->C_GetAttributeValue(s, h, &one, 1));
    EQ(one.ulValueLen, strlen("get-args"));
}

/* ---- C_CreateObject template checks ------------------------------------- */

TEST(test_create_template_errors)
{
    boot();
    CK_SESSION_HANDLE s = open_s(0, true);
    CK_OBJECT_HANDLE h;
    uint32_t small = CKO_DATA, wide_bool = 1;
    CK_BYTE m = 1;
    CK_ULONG vendor_class = CKO_VENDOR_DEFINED, len = 0;
    CK_ATTRIBUTE noclass[] = {A_STR(CKA_LABEL, "x")};
    CK_ATTRIBUTE dup[] = {A_VAR(CKA_CLASS, c_data), A_STR(CKA_LABEL, "a"), A_STR(CKA_LABEL, "b")};
    CK_ATTRIBUTE short_class[] = {A_VAR(CKA_CLASS, small)};
    CK_ATTRIBUTE wide_token[] = {A_VAR(CKA_CLASS, c_data), A_VAR(CKA_TOKEN, wide_bool)};
    CK_ATTRIBUTE foreign[] = {A_VAR(CKA_CLASS, c_data), A_VAR(CKA_MODULUS, m)};
    CK_ATTRIBUTE keytype[] = {A_VAR(CKA_CLASS, c_data), A_VAR(CKA_KEY_TYPE, k_aes)};
    CK_ATTRIBUTE unknown_class[] = {A_VAR(CKA_CLASS, vendor_class)};
    RV(f->C_CreateObject(s, noclass, 1, &h), CKR_TEMPLATE_INCOMPLETE);
    RV(f->C_CreateObject(s, dup, N(dup), &h), CKR_TEMPLATE_INCONSISTENT);
    RV(f->C_CreateObject(s, short_class, 1, &h), CKR_ATTRIBUTE_VALUE_INVALID);
    RV(f->C_CreateObject(s, wide_token, 2, &h), CKR_ATTRIBUTE_VALUE_INVALID);
    RV(f->C_CreateObject(s, foreign, 2, &h), CKR_ATTRIBUTE_TYPE_INVALID);
    RV(f->C_CreateObject(s, keytype, 2, &h), CKR_ATTRIBUTE_TYPE_INVALID);
    RV(f->C_CreateObject(s, unknown_class, 1, &h), CKR_ATTRIBUTE_VALUE_INVALID);
    RV(f->C_CreateObject(s, dup, 1, NULL), CKR_ARGUMENTS_BAD);
    RV(f->C_CreateObject(s, NULL, 1, &h), CKR_ARGUMENTS_BAD);
    /* 64 KiB is the largest value. */
    unsigned char *big = calloc(1, 65537);
    assert_non_null(big);
    CK_ATTRIBUTE huge[] = {A_VAR(CKA_CLASS, c_data), A_BUF(CKA_VALUE, big, 65537)};
    RV(f->C_CreateObject(s, huge, 2, &h), CKR_ATTRIBUTE_VALUE_INVALID);
    huge[1].ulValueLen = 65536;
    OK(f->C_CreateObject(s, huge, 2, &h));
    OK(get1(s, h, CKA_VALUE, NULL, &len));
    EQ(len, 65536);
    free(big);
    /* 256 attributes pass the count check (and fail on the vendor types). */
    CK_ATTRIBUTE *many = calloc(257, sizeof(*many));
    assert_non_null(many);
    many[0] = (CK_ATTRIBUTE)A_VAR(CKA_CLASS, c_data);
    for (CK_ULONG i = 1; i < 257; i++)
        many[i] = (CK_ATTRIBUTE)A_VAR(CKA_VENDOR_DEFINED + i, m);
    RV(f->C_CreateObject(s, many, 257, &h), CKR_ARGUMENTS_BAD);
    RV(f->C_CreateObject(s, many, 256, &h), CKR_ATTRIBUTE_TYPE_INVALID);
    free(many);
    EQ(find_all(s), 1); /* only the 64 KiB one */
}

/* ---- C_SetAttributeValue ------------------------------------------------ */

TEST(test_set_label_id_persist)
{
    boot();
    CK_SESSION_HANDLE s = user_session();
    CK_OBJECT_HANDLE d = data(s, "set-d", CK_TRUE, CK_FALSE), k = aes(s, "set-k", CK_TRUE), c;
    CK_BYTE kid[] = {0xab, 0xcd}, cid[] = {7};
    CK_ATTRIBUTE kset[] = {A_STR(CKA_LABEL, "set-k2"), A_BUF(CKA_ID, kid, sizeof(kid))};
    CK_ATTRIBUTE by_cid[] = {A_BUF(CKA_ID, cid, 1)}, by_kid[] = {A_BUF(CKA_ID, kid, 2)};
    OK(new_cert(s, "set-c", CK_TRUE, CERT, sizeof(CERT), &c));
    OK(set1(s, d, CKA_LABEL, "set-d2", 6));
    OK(f->C_SetAttributeValue(s, k, kset, N(kset)));
    OK(set1(s, c, CKA_ID, cid, 1));
    OK(f->C_SetAttributeValue(s, d, NULL, 0));
    want_str(s, d, CKA_LABEL, "set-d2");
    want_attr(s, k, CKA_ID, kid, sizeof(kid));
    restart();
    s = open_s(0, true);
    EQ(find_label(s, "set-d", NULL), 0);
    EQ(find_label(s, "set-d2", &d), 1);
    want_str(s, d, CKA_VALUE, DATA_VALUE);
    EQ(find(s, by_cid, 1, &c, 1), 1);
    want_str(s, c, CKA_LABEL, "set-c");
    login(s);
    EQ(find(s, by_kid, 1, &k, 1), 1);
    want_str(s, k, CKA_LABEL, "set-k2");
    EQ(find_label(s, "set-k", NULL), 0);
}

TEST(test_set_read_only)
{
    boot();
    CK_SESSION_HANDLE s = user_session();
    CK_OBJECT_HANDLE d = data(s, "ro-d", CK_FALSE, CK_FALSE), k = aes(s, "ro-k", CK_FALSE), c;
    CK_ULONG v = 1;
    uint32_t wide = 1;
    CK_ATTRIBUTE both[] = {A_STR(CKA_LABEL, "changed"), A_VAR(CKA_CLASS, c_secret)};
    CK_ATTRIBUTE dup[] = {A_STR(CKA_LABEL, "a"), A_STR(CKA_LABEL, "b")};
    OK(new_cert(s, "ro-c", CK_FALSE, CERT, sizeof(CERT), &c));
    RV(set1(s, d, CKA_CLASS, &c_secret, sizeof(CK_ULONG)), CKR_ATTRIBUTE_READ_ONLY);
    RV(set_bool(s, d, CKA_TOKEN, CK_TRUE), CKR_ATTRIBUTE_READ_ONLY);
    RV(set_bool(s, d, CKA_PRIVATE, CK_TRUE), CKR_ATTRIBUTE_READ_ONLY);
    RV(set1(s, d, CKA_MODULUS, &v, 1), CKR_ATTRIBUTE_TYPE_INVALID);
    RV(set1(s, k, CKA_KEY_TYPE, &k_generic, sizeof(CK_ULONG)), CKR_ATTRIBUTE_READ_ONLY);
    RV(set1(s, k, CKA_VALUE, AES_KEY, 32), CKR_ATTRIBUTE_READ_ONLY);
    RV(set1(s, k, CKA_VALUE_LEN, &v, sizeof(v)), CKR_ATTRIBUTE_READ_ONLY);
    RV(set_bool(s, k, CKA_LOCAL, CK_TRUE), CKR_ATTRIBUTE_READ_ONLY);
    RV(set_bool(s, k, CKA_ALWAYS_SENSITIVE, CK_TRUE), CKR_ATTRIBUTE_READ_ONLY);
    RV(set_bool(s, k, CKA_NEVER_EXTRACTABLE, CK_TRUE), CKR_ATTRIBUTE_READ_ONLY);
    RV(set1(s, c, CKA_CERTIFICATE_TYPE, &v, sizeof(v)), CKR_ATTRIBUTE_READ_ONLY);
    /* All or nothing: the label change before the read-only one is not kept. */
    RV(f->C_SetAttributeValue(s, d, both, 2), CKR_ATTRIBUTE_READ_ONLY);
    want_str(s, d, CKA_LABEL, "ro-d");
    /* The template rules of C_CreateObject apply too. */
    RV(set1(s, k, CKA_ENCRYPT, &wide, sizeof(wide)), CKR_ATTRIBUTE_VALUE_INVALID);
    RV(f->C_SetAttributeValue(s, d, dup, 2), CKR_TEMPLATE_INCONSISTENT);
    want_str(s, d, CKA_LABEL, "ro-d");
    EQ(get_ulong(s, k, CKA_KEY_TYPE), CKK_AES);
}

TEST(test_set_monotonic)
{
    boot();
    CK_SESSION_HANDLE s = user_session();
    CK_ATTRIBUTE open_attrs[] = {A_BOOL(CKA_SENSITIVE, false), A_BOOL(CKA_EXTRACTABLE, true)};
    CK_OBJECT_HANDLE g, k = aes(s, "mono-aes", CK_FALSE), cp;
    OK(new_secret(s, k_generic, "mono", CK_FALSE, "abc", 3, open_attrs, 2, &g));
    /* CKA_SENSITIVE only false -> true, CKA_EXTRACTABLE only true -> false. */
    RV(set_bool(s, k, CKA_SENSITIVE, CK_FALSE), CKR_ATTRIBUTE_READ_ONLY);
    RV(set_bool(s, k, CKA_EXTRACTABLE, CK_TRUE), CKR_ATTRIBUTE_READ_ONLY);
    OK(set_bool(s, k, CKA_SENSITIVE, CK_TRUE));
    want_str(s, g, CKA_VALUE, "abc");
    OK(set_bool(s, g, CKA_SENSITIVE, CK_TRUE));
    want_sensitive(s, g, CKA_VALUE);
    RV(set_bool(s, g, CKA_SENSITIVE, CK_FALSE), CKR_ATTRIBUTE_READ_ONLY);
    assert_true(get_bool(s, g, CKA_SENSITIVE));
    OK(set_bool(s, g, CKA_EXTRACTABLE, CK_FALSE));
    RV(set_bool(s, g, CKA_EXTRACTABLE, CK_TRUE), CKR_ATTRIBUTE_READ_ONLY);
    assert_false(get_bool(s, g, CKA_EXTRACTABLE));
    /* CKA_WRAP_WITH_TRUSTED only false -> true; CKA_COPYABLE only true -> false. */
    OK(set_bool(s, g, CKA_WRAP_WITH_TRUSTED, CK_TRUE));
    RV(set_bool(s, g, CKA_WRAP_WITH_TRUSTED, CK_FALSE), CKR_ATTRIBUTE_READ_ONLY);
    OK(set_bool(s, g, CKA_COPYABLE, CK_FALSE));
    RV(set_bool(s, g, CKA_COPYABLE, CK_TRUE), CKR_ATTRIBUTE_READ_ONLY);
    RV(copy1(s, g, NULL, 0, &cp), CKR_ACTION_PROHIBITED);
    /* A usage flag goes both ways. */
    OK(set_bool(s, k, CKA_ENCRYPT, CK_FALSE));
    OK(set_bool(s, k, CKA_ENCRYPT, CK_TRUE));
}

TEST(test_action_prohibited)
{
    boot();
    CK_SESSION_HANDLE s = user_session();
    CK_OBJECT_HANDLE m, c, x, k, cp;
    CK_ATTRIBUTE tm[] = {A_VAR(CKA_CLASS, c_data), A_STR(CKA_LABEL, "fixed"),
                         A_BOOL(CKA_MODIFIABLE, false)};
    CK_ATTRIBUTE tc[] = {A_VAR(CKA_CLASS, c_data), A_STR(CKA_LABEL, "nocopy"),
                         A_BOOL(CKA_COPYABLE, false)};
    CK_ATTRIBUTE tx[] = {A_VAR(CKA_CLASS, c_data), A_STR(CKA_LABEL, "keep"),
                         A_BOOL(CKA_TOKEN, true), A_BOOL(CKA_DESTROYABLE, false)};
    CK_ATTRIBUTE tk[] = {A_BOOL(CKA_DESTROYABLE, false)}, relabel[] = {A_STR(CKA_LABEL, "copy")};
    OK(f->C_CreateObject(s, tm, N(tm), &m));
    OK(f->C_CreateObject(s, tc, N(tc), &c));
    OK(f->C_CreateObject(s, tx, N(tx), &x));
    OK(new_secret(s, k_aes, "keep-key", CK_TRUE, AES_KEY, 32, tk, 1, &k));
    RV(set1(s, m, CKA_LABEL, "other", 5), CKR_ACTION_PROHIBITED);
    RV(set1(s, m, CKA_VALUE, "v", 1), CKR_ACTION_PROHIBITED);
    want_str(s, m, CKA_LABEL, "fixed");
    assert_false(get_bool(s, m, CKA_MODIFIABLE));
    RV(copy1(s, c, NULL, 0, &cp), CKR_ACTION_PROHIBITED);
    RV(copy1(s, c, relabel, 1, &cp), CKR_ACTION_PROHIBITED);
    EQ(find_label(s, "copy", NULL), 0);
    RV(f->C_DestroyObject(s, x), CKR_ACTION_PROHIBITED);
    RV(f->C_DestroyObject(s, k), CKR_ACTION_PROHIBITED);
    OK(f->C_DestroyObject(s, m)); /* not modifiable, but destroyable */
    restart();
    s = user_session();
    EQ(find_label(s, "keep", NULL), 1);
    EQ(find_label(s, "keep-key", &k), 1);
    RV(f->C_DestroyObject(s, k), CKR_ACTION_PROHIBITED);
}

/* ---- C_CopyObject and C_DestroyObject ----------------------------------- */

TEST(test_copy_object)
{
    boot();
    CK_SESSION_HANDLE s = user_session();
    CK_OBJECT_HANDLE src = data(s, "copy-src", CK_FALSE, CK_FALSE), dst, same, kc;
    CK_OBJECT_HANDLE k = aes(s, "copy-key", CK_TRUE);
    CK_ATTRIBUTE changes[] = {A_STR(CKA_LABEL, "copy-dst"), A_BOOL(CKA_TOKEN, true)};
    CK_ATTRIBUTE to_session[] = {A_BOOL(CKA_TOKEN, false), A_STR(CKA_LABEL, "copy-key-s")};
    OK(copy1(s, src, changes, N(changes), &dst));
    assert_int_not_equal(dst, src);
    want_str(s, dst, CKA_LABEL, "copy-dst");
    want_str(s, dst, CKA_VALUE, DATA_VALUE);
    want_str(s, dst, CKA_APPLICATION, "abi");
    assert_true(get_bool(s, dst, CKA_TOKEN));
    want_str(s, src, CKA_LABEL, "copy-src");
    assert_false(get_bool(s, src, CKA_TOKEN));
    OK(copy1(s, src, NULL, 0, &same));
    EQ(find_label(s, "copy-src", NULL), 2);
    /* A session copy of a private token key stays protected. */
    OK(copy1(s, k, to_session, N(to_session), &kc));
    assert_false(get_bool(s, kc, CKA_TOKEN));
    assert_true(get_bool(s, kc, CKA_PRIVATE) && get_bool(s, kc, CKA_SENSITIVE));
    EQ(get_ulong(s, kc, CKA_VALUE_LEN), 32);
    want_sensitive(s, kc, CKA_VALUE);
    EQ(db_count(db_path(0, false), "1"), 2); /* copy-dst and copy-key */
    restart();
    s = user_session();
    EQ(find_label(s, "copy-dst", &dst), 1);
    want_str(s, dst, CKA_VALUE, DATA_VALUE);
    EQ(find_label(s, "copy-src", NULL), 0);
    EQ(find_label(s, "copy-key-s", NULL), 0);
    EQ(find_label(s, "copy-key", NULL), 1);
}

TEST(test_copy_rules)
{
    boot();
    CK_SESSION_HANDLE s = user_session();
    CK_OBJECT_HANDLE d = data(s, "cr", CK_FALSE, CK_FALSE), k = aes(s, "cr-key", CK_FALSE), out;
    CK_ATTRIBUTE other_class[] = {A_VAR(CKA_CLASS, c_cert)}, same[] = {A_VAR(CKA_CLASS, c_data)};
    CK_ATTRIBUTE other_type[] = {A_VAR(CKA_KEY_TYPE, k_generic)};
    CK_ATTRIBUTE unsensitive[] = {A_BOOL(CKA_SENSITIVE, false)};
    CK_ATTRIBUTE extractable[] = {A_BOOL(CKA_EXTRACTABLE, true)};
    CK_ATTRIBUTE foreign[] = {A_STR(CKA_MODULUS, "x")}, local[] = {A_BOOL(CKA_LOCAL, true)};
    RV(copy1(s, d, other_class, 1, &out), CKR_TEMPLATE_INCONSISTENT);
    RV(copy1(s, k, other_type, 1, &out), CKR_TEMPLATE_INCONSISTENT);
    RV(copy1(s, k, unsensitive, 1, &out), CKR_ATTRIBUTE_READ_ONLY);
    RV(copy1(s, k, extractable, 1, &out), CKR_ATTRIBUTE_READ_ONLY);
    RV(copy1(s, k, local, 1, &out), CKR_ATTRIBUTE_READ_ONLY);
    RV(copy1(s, d, foreign, 1, &out), CKR_ATTRIBUTE_TYPE_INVALID);
    RV(copy1(s, d + 1000, NULL, 0, &out), CKR_OBJECT_HANDLE_INVALID);
    RV(f->C_CopyObject(s, d, NULL, 0, NULL), CKR_ARGUMENTS_BAD);
    RV(f->C_CopyObject(s, d, NULL, 1, &out), CKR_ARGUMENTS_BAD);
    EQ(find_all(s), 2);
    OK(copy1(s, d, same, 1, &out)); /* repeating the class is fine */
    EQ(get_ulong(s, out, CKA_CLASS), CKO_DATA);
    EQ(find_all(s), 3);
}

TEST(test_destroy_rules)
{
    boot();
    CK_SESSION_HANDLE s = user_session();
    CK_OBJECT_HANDLE t = data(s, "ds-tok", CK_TRUE, CK_FALSE);
    CK_OBJECT_HANDLE p = data(s, "ds-priv", CK_TRUE, CK_TRUE);
    CK_OBJECT_HANDLE keep = data(s, "ds-keep", CK_TRUE, CK_FALSE);
    EQ(db_count(db_path(0, false), "1"), 3);
    OK(f->C_DestroyObject(s, t));
    EQ(db_count(db_path(0, false), "1"), 2);
    OK(f->C_DestroyObject(s, p));
    EQ(db_count(db_path(0, false), "private = 1"), 0);
    RV(f->C_DestroyObject(s, t), CKR_OBJECT_HANDLE_INVALID);
    RV(f->C_DestroyObject(s, p), CKR_OBJECT_HANDLE_INVALID);
    RV(f->C_DestroyObject(s + 1000, keep), CKR_SESSION_HANDLE_INVALID);
    want_invalid_handle(s, t);
    want_str(s, keep, CKA_LABEL, "ds-keep");
    restart();
    s = user_session();
    EQ(find_label(s, "ds-tok", NULL) + find_label(s, "ds-priv", NULL), 0);
    EQ(find_all(s), 1);
}

/* ---- finding ------------------------------------------------------------ */

TEST(test_find_by_attributes)
{
    boot();
    CK_SESSION_HANDLE s = user_session();
    CK_BYTE id12[] = {1, 2}, id3[] = {3};
    CK_ATTRIBUTE with_id12[] = {A_BUF(CKA_ID, id12, 2)}, with_id3[] = {A_BUF(CKA_ID, id3, 1)};
    CK_ATTRIBUTE id_class[] = {A_BUF(CKA_ID, id12, 2), A_VAR(CKA_CLASS, c_secret)};
    CK_ATTRIBUTE id_class_label[] = {A_VAR(CKA_CLASS, c_secret), A_STR(CKA_LABEL, "find-key"),
                                     A_BUF(CKA_ID, id12, 2)};
    CK_ATTRIBUTE id_label[] = {A_BUF(CKA_ID, id12, 2), A_STR(CKA_LABEL, "find-a")};
    CK_ATTRIBUTE label_session[] = {A_STR(CKA_LABEL, "find-a"), A_BOOL(CKA_TOKEN, false)};
    CK_ATTRIBUTE token_private[] = {A_VAR(CKA_CLASS, c_secret), A_BOOL(CKA_PRIVATE, true),
                                    A_BOOL(CKA_TOKEN, true)};
    CK_ATTRIBUTE by_value[] = {A_STR(CKA_VALUE, DATA_VALUE)};
    CK_ATTRIBUTE by_absent[] = {A_VAR(CKA_CLASS, c_data), A_STR(CKA_MODULUS, "x")};
    CK_OBJECT_HANDLE k1, k2, k3, c, hs[8], a1 = data(s, "find-a", CK_FALSE, CK_FALSE);
    data(s, "find-a", CK_TRUE, CK_FALSE);
    data(s, "find-b", CK_TRUE, CK_TRUE);
    OK(new_secret(s, k_aes, "find-key", CK_TRUE, AES_KEY, 32, with_id12, 1, &k1));
    OK(new_secret(s, k_aes, "find-key2", CK_FALSE, AES_KEY, 16, with_id12, 1, &k2));
    OK(new_secret(s, k_generic, "find-key", CK_FALSE, "g", 1, with_id3, 1, &k3));
    OK(new_cert(s, "find-c", CK_TRUE, CERT, sizeof(CERT), &c));
    OK(set1(s, c, CKA_ID, id12, 2));
    EQ(find_class(s, CKO_DATA), 3);
    EQ(find_class(s, CKO_SECRET_KEY), 3);
    EQ(find_class(s, CKO_CERTIFICATE), 1);
    EQ(find_class(s, CKO_PUBLIC_KEY), 0);
    EQ(find_label(s, "find-a", NULL), 2);
    EQ(find_label(s, "find-b", NULL), 1);
    EQ(find_label(s, "find", NULL), 0);    /* no prefix match */
    EQ(find_label(s, "find-a ", NULL), 0); /* no padding match */
    EQ(find(s, with_id12, 1, NULL, 0), 3);
    EQ(find(s, with_id3, 1, hs, 8), 1);
    EQ(hs[0], k3);
    EQ(find(s, id_class, 2, NULL, 0), 2);
    EQ(find(s, id_class_label, 3, hs, 8), 1);
    EQ(hs[0], k1);
    EQ(find(s, id_label, 2, NULL, 0), 0);
    EQ(find(s, label_session, 2, hs, 8), 1);
    EQ(hs[0], a1);
    EQ(find(s, token_private, 3, hs, 8), 1);
    EQ(hs[0], k1);
    EQ(find(s, by_value, 1, NULL, 0), 3);
    EQ(find(s, by_absent, 2, NULL, 0), 0);
    (void)k2;
}

TEST(test_find_empty_template)
{
    boot();
    CK_SESSION_HANDLE s = open_s(0, true);
    CK_ATTRIBUTE dummy = {CKA_LABEL, NULL, 0};
    data(s, "e1", CK_TRUE, CK_FALSE);
    data(s, "e2", CK_FALSE, CK_FALSE);
    EQ(find_all(s), 2);
    login(s);
    data(s, "e3", CK_TRUE, CK_TRUE);
    data(s, "e4", CK_FALSE, CK_TRUE);
    aes(s, "e5", CK_TRUE);
    EQ(find_all(s), 5);
    /* A non-NULL pointer with no entries is the same empty template. */
    EQ(find(s, &dummy, 0, NULL, 0), find(s, NULL, 0, NULL, 0));
    OK(f->C_Logout(s));
    EQ(find_all(s), 2);
}

TEST(test_find_chunked)
{
    boot();
    CK_SESSION_HANDLE s = open_s(0, true);
    CK_OBJECT_HANDLE made[5], seen[5], buf[2];
    CK_ATTRIBUTE t[] = {A_VAR(CKA_CLASS, c_data)};
    CK_ULONG got, total = 0;
    static const CK_ULONG expect[] = {2, 2, 1, 0, 0};
    char label[16];
    for (int i = 0; i < 5; i++) {
        snprintf(label, sizeof(label), "chunk-%d", i);
        made[i] = data(s, label, i % 2 == 0, CK_FALSE);
    }
    OK(f->C_FindObjectsInit(s, t, 1));
    for (size_t r = 0; r < N(expect); r++) {
        got = 99;
        OK(f->C_FindObjects(s, buf, 2, &got));
        EQ(got, expect[r]);
        for (CK_ULONG i = 0; i < got; i++)
            seen[total++] = buf[i];
    }
    OK(f->C_FindObjectsFinal(s));
    for (int i = 0; i < 5; i++) { /* each object exactly once */
        int hits = 0;
        for (int j = 0; j < 5; j++)
            hits += seen[j] == made[i];
        EQ(hits, 1);
    }
    EQ(find_chunked(s, t, 1, NULL, 0, 1), 5);
    EQ(find_chunked(s, t, 1, NULL, 0, 3), 5);
}

TEST(test_find_state)
{
    boot();
    CK_SESSION_HANDLE s = open_s(0, true), s2 = open_s(0, false);
    CK_OBJECT_HANDLE buf[4];
    CK_ULONG got;
    CK_ATTRIBUTE t[] = {A_VAR(CKA_CLASS, c_data)};
    data(s, "fs", CK_FALSE, CK_FALSE);
    RV(f->C_FindObjects(s, buf, 4, &got), CKR_OPERATION_NOT_INITIALIZED);
    RV(f->C_FindObjectsFinal(s), CKR_OPERATION_NOT_INITIALIZED);
    RV(f->C_FindObjectsInit(s, NULL, 1), CKR_ARGUMENTS_BAD);
    OK(f->C_FindObjectsInit(s, t, 1));
    RV(f->C_FindObjectsInit(s, t, 1), CKR_OPERATION_ACTIVE);
    OK(f->C_FindObjectsInit(s2, t, 1)); /* per session */
    RV(f->C_FindObjects(s, NULL, 4, &got), CKR_ARGUMENTS_BAD);
    RV(f->C_FindObjects(s, buf, 4, NULL), CKR_ARGUMENTS_BAD);
    OK(f->C_FindObjects(s, buf, 4, &got));
    EQ(got, 1);
    OK(f->C_FindObjectsFinal(s));
    RV(f->C_FindObjectsFinal(s), CKR_OPERATION_NOT_INITIALIZED);
    RV(f->C_FindObjects(s, buf, 4, &got), CKR_OPERATION_NOT_INITIALIZED);
    OK(f->C_FindObjects(s2, buf, 4, &got));
    EQ(got, 1);
    OK(f->C_FindObjectsFinal(s2));
    RV(f->C_FindObjectsInit(s + 1000, t, 1), CKR_SESSION_HANDLE_INVALID);
}

/* slot_count = 2: objects and handles never cross slots. */
TEST(test_slot_scoping)
{
    CK_SESSION_HANDLE s0, s1;
    boot2(&s0, &s1);
    CK_OBJECT_HANDLE h0 = data(s0, "scope-0", CK_TRUE, CK_FALSE), cp;
    CK_OBJECT_HANDLE h1 = data(s1, "scope-1", CK_TRUE, CK_FALSE);
    data(s0, "scope-0-priv", CK_TRUE, CK_TRUE);
    data(s1, "scope-1-sess", CK_FALSE, CK_FALSE);
    EQ(find_all(s0), 2);
    EQ(find_all(s1), 2);
    EQ(find_label(s0, "scope-1", NULL) + find_label(s1, "scope-0", NULL), 0);
    want_invalid_handle(s0, h1);
    want_invalid_handle(s1, h0);
    RV(f->C_DestroyObject(s0, h1), CKR_OBJECT_HANDLE_INVALID);
    RV(set1(s0, h1, CKA_LABEL, "x", 1), CKR_OBJECT_HANDLE_INVALID);
    RV(copy1(s0, h1, NULL, 0, &cp), CKR_OBJECT_HANDLE_INVALID);
    EQ(db_count(db_path(0, true), "1"), 2);
    EQ(db_count(db_path(1, true), "1"), 1);
    restart();
    s0 = open_s(0, true);
    s1 = open_s(1, true);
    login(s0);
    login(s1);
    EQ(find_all(s0), 2);
    EQ(find_all(s1), 1);
    EQ(find_label(s1, "scope-1", NULL), 1);
    EQ(find_label(s0, "scope-0-priv", NULL), 1);
}

/* ---- private objects and login state ------------------------------------ */

TEST(test_private_needs_login)
{
    boot();
    CK_SESSION_HANDLE s = open_s(0, true);
    CK_OBJECT_HANDLE h;
    CK_ATTRIBUTE priv[] = {A_BOOL(CKA_PRIVATE, true)};
    RV(new_data(s, "p", CK_FALSE, CK_TRUE, &h), CKR_USER_NOT_LOGGED_IN);
    RV(new_data(s, "p", CK_TRUE, CK_TRUE, &h), CKR_USER_NOT_LOGGED_IN);
    EQ(find_all(s), 0);
    login(s);
    EQ(find_all(s), 0); /* nothing was created */
    h = data(s, "vis-priv", CK_TRUE, CK_TRUE);
    data(s, "vis-pub", CK_TRUE, CK_FALSE);
    OK(f->C_Logout(s));
    EQ(find_label(s, "vis-priv", NULL), 0);
    EQ(find(s, priv, 1, NULL, 0), 0);
    EQ(find_all(s), 1);
    want_invalid_handle(s, h);
    login(s);
    EQ(find(s, priv, 1, NULL, 0), 1);
    EQ(find_all(s), 2);
}

TEST(test_private_handles_after_logout)
{
    boot();
    CK_SESSION_HANDLE s = user_session();
    CK_OBJECT_HANDLE p = data(s, "ph-tok", CK_TRUE, CK_TRUE), k = aes(s, "ph-key", CK_TRUE);
    CK_OBJECT_HANDLE pub = data(s, "ph-pub", CK_TRUE, CK_FALSE), p2, p3, k2, cp;
    CK_ULONG size;
    OK(f->C_Logout(s));
    want_invalid_handle(s, p);
    want_invalid_handle(s, k);
    RV(set1(s, p, CKA_LABEL, "x", 1), CKR_OBJECT_HANDLE_INVALID);
    RV(f->C_DestroyObject(s, p), CKR_OBJECT_HANDLE_INVALID);
    RV(copy1(s, p, NULL, 0, &cp), CKR_OBJECT_HANDLE_INVALID);
    RV(f->C_GetObjectSize(s, k, &size), CKR_OBJECT_HANDLE_INVALID);
    want_str(s, pub, CKA_LABEL, "ph-pub"); /* public handles stay */
    login(s);
    want_invalid_handle(s, p); /* for good */
    want_invalid_handle(s, k);
    EQ(find_label(s, "ph-tok", &p2), 1);
    EQ(find_label(s, "ph-key", &k2), 1);
    assert_true(p2 != p && k2 != k);
    want_str(s, p2, CKA_VALUE, DATA_VALUE);
    assert_true(get_bool(s, k2, CKA_SENSITIVE));
    OK(f->C_Logout(s));
    login(s);
    want_invalid_handle(s, p2);
    EQ(find_label(s, "ph-tok", &p3), 1);
    assert_true(p3 != p && p3 != p2);
    want_str(s, pub, CKA_LABEL, "ph-pub");
}

TEST(test_private_after_restart)
{
    boot();
    CK_SESSION_HANDLE s = user_session();
    CK_OBJECT_HANDLE h;
    data(s, "pr-data", CK_TRUE, CK_TRUE);
    aes(s, "pr-key", CK_TRUE);
    restart();
    s = open_s(0, true);
    EQ(find_all(s), 0);
    EQ(find_label(s, "pr-data", NULL), 0);
    EQ(find_class(s, CKO_SECRET_KEY), 0);
    login(s);
    EQ(find_all(s), 2);
    EQ(find_label(s, "pr-data", &h), 1);
    want_str(s, h, CKA_VALUE, DATA_VALUE);
    assert_true(get_bool(s, h, CKA_PRIVATE));
    EQ(find_label(s, "pr-key", &h), 1);
    assert_true(get_bool(s, h, CKA_PRIVATE) && get_bool(s, h, CKA_SENSITIVE));
    assert_false(get_bool(s, h, CKA_EXTRACTABLE));
    want_sensitive(s, h, CKA_VALUE);
}

TEST(test_private_session_objects_logout)
{
    boot();
    CK_SESSION_HANDLE s = user_session();
    CK_OBJECT_HANDLE ps = data(s, "ps-priv", CK_FALSE, CK_TRUE);
    CK_OBJECT_HANDLE pub = data(s, "ps-pub", CK_FALSE, CK_FALSE);
    CK_OBJECT_HANDLE k = aes(s, "ps-key", CK_FALSE);
    OK(f->C_Logout(s));
    login(s);
    want_invalid_handle(s, ps);
    want_invalid_handle(s, k);
    EQ(find_label(s, "ps-priv", NULL), 0);
    EQ(find_class(s, CKO_SECRET_KEY), 0);
    want_str(s, pub, CKA_LABEL, "ps-pub");
    EQ(find_all(s), 1);
}

TEST(test_session_objects_close)
{
    boot();
    CK_SESSION_HANDLE s1 = user_session(), s2 = open_s(0, true), s3;
    CK_OBJECT_HANDLE o1 = data(s1, "sc-1", CK_FALSE, CK_FALSE), k1 = aes(s1, "sc-key", CK_FALSE);
    CK_OBJECT_HANDLE o2 = data(s2, "sc-2", CK_FALSE, CK_FALSE);
    data(s1, "sc-tok", CK_TRUE, CK_FALSE);
    want_str(s2, o1, CKA_LABEL, "sc-1"); /* the application's other sessions see them */
    OK(f->C_CloseSession(s1));
    want_invalid_handle(s2, o1);
    want_invalid_handle(s2, k1);
    EQ(find_label(s2, "sc-1", NULL), 0);
    EQ(find_label(s2, "sc-tok", NULL), 1);
    want_str(s2, o2, CKA_LABEL, "sc-2");
    OK(f->C_CloseAllSessions(0));
    s3 = open_s(0, true);
    EQ(find_label(s3, "sc-2", NULL), 0);
    EQ(find_all(s3), 1);
}

TEST(test_so_sees_no_private)
{
    boot();
    CK_SESSION_HANDLE s = user_session();
    CK_OBJECT_HANDLE h;
    data(s, "so-hidden", CK_TRUE, CK_TRUE);
    data(s, "so-visible", CK_TRUE, CK_FALSE);
    OK(f->C_Logout(s));
    OK(f->C_Login(s, CKU_SO, PIN(SO_PIN)));
    EQ(find_all(s), 1);
    EQ(find_label(s, "so-hidden", NULL), 0);
    RV(new_data(s, "so-priv", CK_TRUE, CK_TRUE, &h), CKR_USER_NOT_LOGGED_IN);
    OK(new_data(s, "so-pub", CK_TRUE, CK_FALSE, &h));
    EQ(find_all(s), 2);
}

/* C_InitToken wipes that slot's objects and no other slot's. */
TEST(test_init_token_wipes_slot)
{
    CK_SESSION_HANDLE s0, s1;
    boot2(&s0, &s1);
    CK_OBJECT_HANDLE wiped = data(s0, "wipe-pub", CK_TRUE, CK_FALSE);
    data(s0, "wipe-priv", CK_TRUE, CK_TRUE);
    aes(s0, "wipe-key", CK_TRUE);
    CK_OBJECT_HANDLE keep = data(s1, "keep-pub", CK_TRUE, CK_FALSE);
    data(s1, "keep-priv", CK_TRUE, CK_TRUE);
    OK(f->C_CloseSession(s0));
    OK(f->C_InitToken(0, PIN(SO_PIN), token_label));
    EQ(db_count(db_path(0, true), "1"), 0);
    EQ(db_count(db_path(1, true), "1"), 2);
    want_str(s1, keep, CKA_LABEL, "keep-pub");
    EQ(find_all(s1), 2);
    set_user_pin(0);
    s0 = open_s(0, true);
    EQ(find_all(s0), 0);
    want_invalid_handle(s0, wiped);
    login(s0);
    EQ(find_all(s0), 0);
    restart();
    s0 = open_s(0, true);
    s1 = open_s(1, true);
    login(s0);
    login(s1);
    EQ(find_all(s0), 0);
    EQ(find_all(s1), 2);
    EQ(find_label(s1, "keep-priv", NULL), 1);
}

TEST(test_ro_session)
{
    boot();
    CK_SESSION_HANDLE rw = user_session(), ro = open_s(0, false);
    CK_OBJECT_HANDLE t = data(rw, "ro-tok", CK_TRUE, CK_FALSE), h, cp;
    CK_ATTRIBUTE to_session[] = {A_BOOL(CKA_TOKEN, false), A_STR(CKA_LABEL, "ro-copy")};
    RV(new_data(ro, "ro-new-tok", CK_TRUE, CK_FALSE, &h), CKR_SESSION_READ_ONLY);
    RV(new_secret(ro, k_aes, "ro-key", CK_TRUE, AES_KEY, 32, NULL, 0, &h), CKR_SESSION_READ_ONLY);
    RV(set1(ro, t, CKA_LABEL, "x", 1), CKR_SESSION_READ_ONLY);
    RV(f->C_DestroyObject(ro, t), CKR_SESSION_READ_ONLY);
    RV(copy1(ro, t, NULL, 0, &cp), CKR_SESSION_READ_ONLY);
    want_str(ro, t, CKA_LABEL, "ro-tok"); /* reading is fine */
    EQ(find_label(ro, "ro-tok", NULL), 1);
    /* Session objects are fine, private ones too (the user is logged in). */
    CK_OBJECT_HANDLE so = data(ro, "ro-sess", CK_FALSE, CK_FALSE);
    CK_OBJECT_HANDLE sp = data(ro, "ro-sess-priv", CK_FALSE, CK_TRUE);
    OK(set1(ro, so, CKA_LABEL, "ro-sess2", 8));
    OK(copy1(ro, t, to_session, N(to_session), &cp));
    assert_false(get_bool(ro, cp, CKA_TOKEN));
    OK(f->C_DestroyObject(ro, sp));
    EQ(find_label(ro, "ro-new-tok", NULL), 0);
    EQ(db_count(db_path(0, false), "1"), 1);
}

/* ---- the store ---------------------------------------------------------- */

TEST(test_no_plaintext_secrets)
{
    static const char priv_label[] = "PRIVATE-LABEL-q7Zx9Kp2";
    static const char priv_renamed[] = "PRIVATE-RENAMED-w3Jv8";
    static const char pub_label[] = "PUBLIC-LABEL-canary-5d";
    CK_BYTE key2[32];
    for (int i = 0; i < 32; i++)
        key2[i] = AES_KEY[i] ^ 0x5a;
    boot();
    CK_SESSION_HANDLE s = user_session();
    CK_OBJECT_HANDLE h, p, cp;
    CK_ATTRIBUTE not_private[] = {A_BOOL(CKA_PRIVATE, false)};
    CK_ATTRIBUTE relabel[] = {A_STR(CKA_LABEL, "priv-copy")};
    aes(s, "aes-private", CK_TRUE);
    OK(new_secret(s, k_aes, "aes-public", CK_TRUE, key2, 32, not_private, 1, &h));
    p = data(s, priv_label, CK_TRUE, CK_TRUE);
    data(s, pub_label, CK_TRUE, CK_FALSE);
    h = data(s, "before-rename", CK_TRUE, CK_TRUE);
    OK(set1(s, h, CKA_LABEL, priv_renamed, LEN(priv_renamed)));
    OK(copy1(s, p, relabel, 1, &cp));
    for (int round = 0; round < 2; round++) { /* while running, then finalized */
        assert_false(store_has(AES_KEY, 32));
        assert_false(store_has(key2, 32));
        assert_false(store_has(priv_label, LEN(priv_label)));
        assert_false(store_has(priv_renamed, LEN(priv_renamed)));
        assert_true(store_has(pub_label, LEN(pub_label))); /* the scan does see plaintext */
        RV(f->C_Finalize(NULL), round == 0 ? CKR_OK : CKR_CRYPTOKI_NOT_INITIALIZED);
    }
}

/* One private record's sealed blob damaged: that object is unavailable and
 * reported once, every other object loads. */
TEST(test_tampered_sealed_record)
{
    boot();
    CK_SESSION_HANDLE s = user_session();
    CK_OBJECT_HANDLE hs[8], b;
    CK_ULONG got = 0;
    char hex[129] = "", err[4096];
    data(s, "tamper-a", CK_TRUE, CK_TRUE); /* class 0: the one damaged */
    aes(s, "tamper-b", CK_TRUE);
    data(s, "tamper-c", CK_TRUE, CK_FALSE);
    OK(f->C_Finalize(NULL));
    db_flip(db_path(0, false), "sealed", "class = 0 AND private = 1", 30, hex);
    EQ(strlen(hex), 32);
    OK(f->C_Initialize(NULL));
    s = open_s(0, true);
    EQ(find_label(s, "tamper-c", NULL), 1);
    CK_ULONG profiles = find_class(s, CKO_PROFILE);
    cap_begin();
    login(s);
    OK(f->C_FindObjectsInit(s, NULL, 0));
    cap_end(err, sizeof(err));
    OK(f->C_FindObjects(s, hs, 8, &got));
    OK(f->C_FindObjectsFinal(s));
    EQ(got, 2 + profiles);
    EQ(lines_with(err, hex), 1);
    assert_non_null(strstr(err, "slot 0"));
    EQ(find_label(s, "tamper-a", NULL), 0);
    EQ(find_label(s, "tamper-b", &b), 1);
    assert_true(get_bool(s, b, CKA_SENSITIVE));
    EQ(get_ulong(s, b, CKA_VALUE_LEN), 32);
    cap_begin(); /* reported once, not at every look */
    EQ(find_all(s), 2);
    OK(f->C_Logout(s));
    login(s);
    EQ(find_all(s), 2);
    cap_end(err, sizeof(err));
    assert_null(strstr(err, hex));
    data(s, "tamper-d", CK_TRUE, CK_TRUE); /* the rest of the token works */
    EQ(find_all(s), 3);
}

/* A damaged public record is skipped at C_Initialize, the others load. */
TEST(test_tampered_public_record)
{
    boot();
    CK_SESSION_HANDLE s = open_s(0, true);
    char hex1[129] = "", hex2[129] = "", err[4096];
    data(s, "pub-magic", CK_TRUE, CK_FALSE);
    data(s, "pub-class", CK_TRUE, CK_FALSE);
    data(s, "pub-ok", CK_TRUE, CK_FALSE);
    login(s);
    data(s, "priv-ok", CK_TRUE, CK_TRUE);
    OK(f->C_Finalize(NULL));
    /* The codec magic; the low byte of the CKA_CLASS value (8 + 13 + 0). */
    db_flip(db_path(0, false), "public_attrs", "instr(public_attrs, CAST('pub-magic' AS BLOB))", 0,
            hex1);
    db_flip(db_path(0, false), "public_attrs", "instr(public_attrs, CAST('pub-class' AS BLOB))", 21,
            hex2);
    cap_begin();
    OK(f->C_Initialize(NULL));
    cap_end(err, sizeof(err));
    EQ(lines_with(err, hex1), 1);
    EQ(lines_with(err, hex2), 1);
    assert_non_null(strstr(err, "slot 0"));
    s = open_s(0, true);
    EQ(find_label(s, "pub-ok", NULL), 1);
    EQ(find_label(s, "pub-magic", NULL) + find_label(s, "pub-class", NULL), 0);
    EQ(find_class(s, CKO_CERTIFICATE), 0);
    login(s);
    EQ(find_all(s), 2);
    EQ(find_label(s, "priv-ok", NULL), 1);
}

#define BULK 1000

TEST(test_thousand_objects)
{
    boot();
    CK_SESSION_HANDLE s = user_session();
    CK_OBJECT_HANDLE h, *all = calloc(BULK + 1, sizeof(*all));
    unsigned char *seen = calloc(BULK, 1);
    char label[32];
    assert_true(all != NULL && seen != NULL);
    for (int i = 0; i < BULK; i++) {
        CK_BYTE id[2] = {(CK_BYTE)(i >> 8), (CK_BYTE)i};
        CK_BBOOL priv = (CK_BBOOL)(i % 2);
        snprintf(label, sizeof(label), "bulk-%04d", i);
        CK_ATTRIBUTE t[] = {A_VAR(CKA_CLASS, c_data), A_BOOL(CKA_TOKEN, true),
                            A_VAR(CKA_PRIVATE, priv), A_STR(CKA_LABEL, label),
                            A_BUF(CKA_OBJECT_ID, id, 2)};
        OK(f->C_CreateObject(s, t, N(t), &h));
    }
    EQ(db_count(db_path(0, false), "1"), BULK);
    restart();
    s = open_s(0, true);
    EQ(find_class(s, CKO_DATA), BULK / 2);
    login(s);
    CK_ATTRIBUTE t[] = {A_VAR(CKA_CLASS, c_data)};
    EQ(find_chunked(s, t, 1, all, BULK + 1, 64), BULK);
    for (int i = 0; i < BULK; i++) {
        CK_BYTE id[2];
        CK_ULONG len = sizeof(id);
        OK(get1(s, all[i], CKA_OBJECT_ID, id, &len));
        EQ(len, 2);
        int n = id[0] << 8 | id[1];
        assert_true(n < BULK && !seen[n]);
        seen[n] = 1;
        EQ(get_bool(s, all[i], CKA_PRIVATE), n % 2);
    }
    free(all);
    free(seen);
    EQ(find_label(s, "bulk-0777", NULL), 1);
    EQ(find_label(s, "bulk-0000", NULL), 1);
}

/* ---- EC keys by components ---------------------------------------------- */

static CK_RV new_ec_pub(CK_SESSION_HANDLE s, const char *label, const CK_BYTE *xy, CK_BBOOL token,
                        CK_OBJECT_HANDLE *h)
{
    CK_BYTE point[67] = {0x04, 0x41, 0x04};
    memcpy(point + 3, xy, 64);
    CK_ATTRIBUTE t[] = {A_VAR(CKA_CLASS, c_pub),
                        A_VAR(CKA_KEY_TYPE, k_ec),
                        A_VAR(CKA_TOKEN, token),
                        A_STR(CKA_LABEL, label),
                        A_BUF(CKA_EC_PARAMS, P256_OID, sizeof(P256_OID)),
                        A_BUF(CKA_EC_POINT, point, sizeof(point)),
                        A_BOOL(CKA_VERIFY, true)};
    return f->C_CreateObject(s, t, N(t), h);
}

static CK_RV new_ec_priv(CK_SESSION_HANDLE s, const char *label, const CK_BYTE *d, CK_BBOOL token,
                         CK_OBJECT_HANDLE *h)
{
    CK_ATTRIBUTE t[] = {A_VAR(CKA_CLASS, c_priv),
                        A_VAR(CKA_KEY_TYPE, k_ec),
                        A_VAR(CKA_TOKEN, token),
                        A_STR(CKA_LABEL, label),
                        A_BUF(CKA_EC_PARAMS, P256_OID, sizeof(P256_OID)),
                        A_BUF(CKA_VALUE, d, 32),
                        A_BOOL(CKA_SIGN, true)};
    return f->C_CreateObject(s, t, N(t), h);
}

TEST(test_ec_import)
{
    boot();
    CK_SESSION_HANDLE s = open_s(0, true);
    CK_OBJECT_HANDLE pub, priv;
    CK_BYTE spki[91], point[67] = {0x04, 0x41, 0x04};
    memcpy(spki, P256_SPKI_HDR, sizeof(P256_SPKI_HDR));
    spki[26] = 0x04;
    memcpy(spki + 27, EC_XY, 64);
    memcpy(point + 3, EC_XY, 64);
    RV(new_ec_priv(s, "ec-priv", EC_D, CK_TRUE, &priv), CKR_USER_NOT_LOGGED_IN);
    login(s);
    OK(new_ec_pub(s, "ec-pub", EC_XY, CK_TRUE, &pub));
    OK(new_ec_priv(s, "ec-priv", EC_D, CK_TRUE, &priv));
    want_attr(s, pub, CKA_PUBLIC_KEY_INFO, spki, sizeof(spki));
    want_attr(s, priv, CKA_PUBLIC_KEY_INFO, spki, sizeof(spki));
    want_attr(s, pub, CKA_EC_POINT, point, sizeof(point));
    want_attr(s, pub, CKA_EC_PARAMS, P256_OID, sizeof(P256_OID));
    want_attr(s, priv, CKA_EC_PARAMS, P256_OID, sizeof(P256_OID));
    assert_false(get_bool(s, pub, CKA_PRIVATE));
    assert_true(get_bool(s, pub, CKA_VERIFY));
    assert_true(get_bool(s, priv, CKA_PRIVATE) && get_bool(s, priv, CKA_SENSITIVE));
    assert_false(get_bool(s, priv, CKA_LOCAL) || get_bool(s, priv, CKA_ALWAYS_SENSITIVE));
    want_sensitive(s, priv, CKA_VALUE);
    restart();
    s = open_s(0, true);
    EQ(find_label(s, "ec-pub", &pub), 1);
    want_attr(s, pub, CKA_PUBLIC_KEY_INFO, spki, sizeof(spki));
    EQ(find_label(s, "ec-priv", NULL), 0);
    login(s);
    EQ(find_label(s, "ec-priv", &priv), 1);
    want_attr(s, priv, CKA_PUBLIC_KEY_INFO, spki, sizeof(spki));
    EQ(get_ulong(s, priv, CKA_KEY_TYPE), CKK_EC);
}

TEST(test_ec_invalid)
{
    boot();
    CK_SESSION_HANDLE s = user_session();
    CK_OBJECT_HANDLE h;
    CK_BYTE off[64], zero[32] = {0};
    memcpy(off, EC_XY, 64);
    off[63] ^= 0x01; /* y no longer matches x */
    RV(new_ec_pub(s, "ec-off", off, CK_FALSE, &h), CKR_ATTRIBUTE_VALUE_INVALID);
    RV(new_ec_pub(s, "ec-off", off, CK_TRUE, &h), CKR_ATTRIBUTE_VALUE_INVALID);
    RV(new_ec_priv(s, "ec-zero", zero, CK_FALSE, &h), CKR_ATTRIBUTE_VALUE_INVALID);
    EQ(find_all(s), 0);
    EQ(db_count(db_path(0, false), "1"), 0);
    OK(new_ec_pub(s, "ec-ok", EC_XY, CK_FALSE, &h));
}

#define T(fn)  cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define T2(fn) cmocka_unit_test_setup_teardown(fn, setup2, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_session_data_lifecycle),
        T(test_token_data_survives_restart),
        T(test_certificate),
        T(test_aes_import),
        T(test_generic_secret_readable),
        T(test_public_key_changed_logged_out),
        T(test_get_value_rules),
        T(test_get_all_processed),
        T(test_get_array_attribute),
        T(test_get_arguments),
        T(test_create_template_errors),
        T(test_set_label_id_persist),
        T(test_set_read_only),
        T(test_set_monotonic),
        T(test_action_prohibited),
        T(test_copy_object),
        T(test_copy_rules),
        T(test_destroy_rules),
        T(test_find_by_attributes),
        T(test_find_empty_template),
        T(test_find_chunked),
        T(test_find_state),
        T2(test_slot_scoping),
        T(test_private_needs_login),
        T(test_private_handles_after_logout),
        T(test_private_after_restart),
        T(test_private_session_objects_logout),
        T(test_session_objects_close),
        T(test_so_sees_no_private),
        T2(test_init_token_wipes_slot),
        T(test_ro_session),
        T(test_no_plaintext_secrets),
        T(test_tampered_sealed_record),
        T(test_tampered_public_record),
        T(test_thousand_objects),
        T(test_ec_import),
        T(test_ec_invalid),
    };
    return cmocka_run_group_tests_name("abi-objects", tests, group_setup, group_teardown);
}
