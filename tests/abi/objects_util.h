/* Fixture and helpers of the object ABI tests (test_objects*.c). */
#ifndef CRATON_TESTS_ABI_OBJECTS_UTIL_H
#define CRATON_TESTS_ABI_OBJECTS_UTIL_H

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

__attribute__((unused)) static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
__attribute__((unused)) static CK_OBJECT_CLASS c_data = CKO_DATA, c_cert = CKO_CERTIFICATE,
                                               c_secret = CKO_SECRET_KEY, c_pub = CKO_PUBLIC_KEY,
                                               c_priv = CKO_PRIVATE_KEY;
__attribute__((unused)) static CK_KEY_TYPE k_aes = CKK_AES, k_generic = CKK_GENERIC_SECRET,
                                           k_ec = CKK_EC;
__attribute__((unused)) static CK_CERTIFICATE_TYPE ct_x509 = CKC_X_509;
__attribute__((unused)) static CK_UTF8CHAR token_label[32] = "Objects ABI                     ";

/* A 32-byte AES key we look for in the database files. */
__attribute__((unused)) static const CK_BYTE AES_KEY[32] = {
    0x8f, 0x3a, 0xc1, 0x5e, 0x27, 0x9b, 0xd4, 0x60, 0x11, 0xee, 0x7c, 0x42, 0xa9, 0x05, 0xb3, 0x6d,
    0xf8, 0x24, 0x91, 0xcb, 0x3e, 0x57, 0x0a, 0xd6, 0x7b, 0x88, 0xe3, 0x19, 0x4c, 0xa0, 0x65, 0xbf};

/* Self-signed P-256 certificate, CN=test:
 * openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes
 *   -subj /CN=test -days 3650 -outform DER | xxd -i
 * Serial (INTEGER TLV) at 13 (22 bytes), issuer Name at 47 (17), subject Name
 * at 96 (17), SubjectPublicKeyInfo at 113 (91). */
__attribute__((unused)) static const CK_BYTE CERT[] = {
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
__attribute__((unused)) static const CK_BYTE EC_D[32] = {
    0xc9, 0xaf, 0xa9, 0xd8, 0x45, 0xba, 0x75, 0x16, 0x6b, 0x5c, 0x21, 0x57, 0x67, 0xb1, 0xd6, 0x93,
    0x4e, 0x50, 0xc3, 0xdb, 0x36, 0xe8, 0x9b, 0x12, 0x7b, 0x8a, 0x62, 0x2b, 0x12, 0x0f, 0x67, 0x21};
__attribute__((unused)) static const CK_BYTE EC_XY[64] = {
    0x60, 0xfe, 0xd4, 0xba, 0x25, 0x5a, 0x9d, 0x31, 0xc9, 0x61, 0xeb, 0x74, 0xc6, 0x35, 0x6d, 0x68,
    0xc0, 0x49, 0xb8, 0x92, 0x3b, 0x61, 0xfa, 0x6c, 0xe6, 0x69, 0x62, 0x2e, 0x60, 0xf2, 0x9f, 0xb6,
    0x79, 0x03, 0xfe, 0x10, 0x08, 0xb8, 0xbc, 0x99, 0xa4, 0x1a, 0xe9, 0xe9, 0x56, 0x28, 0xbc, 0x64,
    0xf2, 0xf1, 0xb2, 0x0c, 0x2d, 0x7e, 0x9f, 0x51, 0x77, 0xa3, 0xc2, 0x94, 0xd4, 0x46, 0x22, 0x99};
__attribute__((unused)) static const CK_BYTE P256_OID[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                                           0xce, 0x3d, 0x03, 0x01, 0x07};
__attribute__((unused)) static const CK_BYTE P256_SPKI_HDR[] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
    0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};

/* ---- fixture and sessions ----------------------------------------------- */

__attribute__((unused)) static struct abi A;
__attribute__((unused)) static CK_FUNCTION_LIST_3_2 *f;
__attribute__((unused)) static int saved_stderr = -1, cap_fd = -1;

/* A test body without the cmocka state argument. */
#define TEST(name)                 \
    static void name##_body(void); \
    static void name(void **state) \
    {                              \
        (void)state;               \
        name##_body();             \
    }                              \
    static void name##_body(void)

static inline CK_SESSION_HANDLE open_s(CK_SLOT_ID slot, bool rw)
{
    CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
    CK_FLAGS fl = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);
    OK(f->C_OpenSession(slot, fl, NULL, NULL, &h));
    return h;
}

static inline void login(CK_SESSION_HANDLE s)
{
    OK(f->C_Login(s, CKU_USER, PIN(USER_PIN)));
}

/* SO sets slot's user PIN; no session stays open. */
static inline void set_user_pin(CK_SLOT_ID slot)
{
    CK_SESSION_HANDLE s = open_s(slot, true);
    OK(f->C_Login(s, CKU_SO, PIN(SO_PIN)));
    OK(f->C_InitPIN(s, PIN(USER_PIN)));
    OK(f->C_CloseSession(s));
}

static inline void init_slot(CK_SLOT_ID slot)
{
    OK(f->C_InitToken(slot, PIN(SO_PIN), token_label));
    set_user_pin(slot);
}

/* C_Initialize; the store is a copy of a template (slot 0, or both slots of
 * slot_count = 2, initialised with a user PIN). */
static inline void boot(void)
{
    OK(f->C_Initialize(NULL));
}

/* boot() with slot_count = 2 and a logged-in R/W session on each slot. */
static inline void boot2(CK_SESSION_HANDLE *s0, CK_SESSION_HANDLE *s1)
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
__attribute__((unused)) static struct abi tmpl[2];

static inline int make_template(struct abi *t, const char *cfg, CK_SLOT_ID slots)
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

static inline int group_setup(void **state)
{
    (void)state;
    return make_template(&tmpl[0], CFG1, 1) || make_template(&tmpl[1], CFG2, 2) ? -1 : 0;
}

static inline int group_teardown(void **state)
{
    (void)state;
    abi_rm_scratch(&tmpl[0]);
    abi_rm_scratch(&tmpl[1]);
    return 0;
}

/* A fresh scratch directory with config cfg and a copy of t's store. */
static inline int setup_from(const struct abi *t, const char *cfg)
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

static inline int setup(void **state)
{
    (void)state;
    return setup_from(&tmpl[0], CFG1);
}

static inline int setup2(void **state)
{
    (void)state;
    return setup_from(&tmpl[1], CFG2);
}

static inline int teardown(void **state)
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

static inline CK_SESSION_HANDLE user_session(void)
{
    CK_SESSION_HANDLE s = open_s(0, true);
    login(s);
    return s;
}

static inline void restart(void)
{
    OK(f->C_Finalize(NULL));
    OK(f->C_Initialize(NULL));
}

/* ---- objects ------------------------------------------------------------ */

static inline CK_RV new_data(CK_SESSION_HANDLE s, const char *label, CK_BBOOL token, CK_BBOOL priv,
                             CK_OBJECT_HANDLE *h)
{
    CK_ATTRIBUTE t[] = {A_VAR(CKA_CLASS, c_data),      A_VAR(CKA_TOKEN, token),
                        A_VAR(CKA_PRIVATE, priv),      A_STR(CKA_LABEL, label),
                        A_STR(CKA_APPLICATION, "abi"), A_STR(CKA_VALUE, DATA_VALUE)};
    *h = CK_INVALID_HANDLE;
    return f->C_CreateObject(s, t, N(t), h);
}

static inline CK_OBJECT_HANDLE data(CK_SESSION_HANDLE s, const char *label, CK_BBOOL token,
                                    CK_BBOOL priv)
{
    CK_OBJECT_HANDLE h;
    OK(new_data(s, label, token, priv, &h));
    assert_int_not_equal(h, CK_INVALID_HANDLE);
    return h;
}

/* A secret key of type kt with value v, plus up to 8 extra attributes. */
static inline CK_RV new_secret(CK_SESSION_HANDLE s, CK_KEY_TYPE kt, const char *label,
                               CK_BBOOL token, const void *v, CK_ULONG vlen,
                               const CK_ATTRIBUTE *extra, CK_ULONG nextra, CK_OBJECT_HANDLE *h)
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

static inline CK_OBJECT_HANDLE aes(CK_SESSION_HANDLE s, const char *label, CK_BBOOL token)
{
    CK_OBJECT_HANDLE h;
    OK(new_secret(s, k_aes, label, token, AES_KEY, 32, NULL, 0, &h));
    return h;
}

static inline CK_RV new_cert(CK_SESSION_HANDLE s, const char *label, CK_BBOOL token,
                             const void *der, CK_ULONG len, CK_OBJECT_HANDLE *h)
{
    CK_ATTRIBUTE t[] = {A_VAR(CKA_CLASS, c_cert), A_VAR(CKA_CERTIFICATE_TYPE, ct_x509),
                        A_VAR(CKA_TOKEN, token), A_STR(CKA_LABEL, label),
                        A_BUF(CKA_VALUE, der, len)};
    return f->C_CreateObject(s, t, N(t), h);
}

static inline CK_RV set1(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
                         const void *v, CK_ULONG len)
{
    CK_ATTRIBUTE a = A_BUF(type, v, len);
    return f->C_SetAttributeValue(s, h, &a, 1);
}

static inline CK_RV set_bool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
                             CK_BBOOL b)
{
    return set1(s, h, type, &b, 1);
}

static inline CK_RV copy1(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE *t, CK_ULONG n,
                          CK_OBJECT_HANDLE *out)
{
    *out = CK_INVALID_HANDLE;
    return f->C_CopyObject(s, h, t, n, out);
}

/* One attribute into buf (*len: its size in, ulValueLen out). */
static inline CK_RV get1(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, void *buf,
                         CK_ULONG *len)
{
    CK_ATTRIBUTE a = {type, buf, *len};
    CK_RV rv = f->C_GetAttributeValue(s, h, &a, 1);
    *len = a.ulValueLen;
    return rv;
}

static inline void want_attr(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
                             const void *want, CK_ULONG n)
{
    unsigned char buf[1024];
    CK_ULONG len = sizeof(buf);
    OK(get1(s, h, type, buf, &len));
    EQ(len, n);
    if (n > 0)
        assert_memory_equal(buf, want, n);
}

static inline void want_str(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
                            const char *want)
{
    want_attr(s, h, type, want, (CK_ULONG)strlen(want));
}

static inline CK_BBOOL get_bool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type)
{
    CK_BBOOL b = 0x55;
    CK_ULONG len = sizeof(b);
    OK(get1(s, h, type, &b, &len));
    EQ(len, sizeof(b));
    assert_true(b == CK_TRUE || b == CK_FALSE);
    return b;
}

static inline CK_ULONG get_ulong(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type)
{
    CK_ULONG v = 0x5555, len = sizeof(v);
    OK(get1(s, h, type, &v, &len));
    EQ(len, sizeof(v));
    return v;
}

/* ulValueLen CK_UNAVAILABLE_INFORMATION and rv, with and without a buffer
 * (spec 5.7 case 1: sensitive, case 2: absent). */
static inline void want_unavailable(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
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

static inline void want_sensitive(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type)
{
    want_unavailable(s, h, type, CKR_ATTRIBUTE_SENSITIVE);
}

static inline void want_invalid_handle(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h)
{
    CK_ULONG len = 0;
    RV(get1(s, h, CKA_LABEL, NULL, &len), CKR_OBJECT_HANDLE_INVALID);
}

/* Every handle matching t, fetched at most chunk at a time until
 * C_FindObjects returns none; out (optional) gets the first max. */
static inline CK_ULONG find_chunked(CK_SESSION_HANDLE s, CK_ATTRIBUTE *t, CK_ULONG n,
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

static inline CK_ULONG find(CK_SESSION_HANDLE s, CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_HANDLE *out,
                            CK_ULONG max)
{
    return find_chunked(s, t, n, out, max, 64);
}

static inline CK_ULONG find_class(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls)
{
    CK_ATTRIBUTE t[] = {A_VAR(CKA_CLASS, cls)};
    return find(s, t, 1, NULL, 0);
}

/* Everything visible (empty template) except the module's CKO_PROFILE objects. */
static inline CK_ULONG find_all(CK_SESSION_HANDLE s)
{
    return find(s, NULL, 0, NULL, 0) - find_class(s, CKO_PROFILE);
}

/* The number of objects labelled label; *h (optional) gets the first. */
static inline CK_ULONG find_label(CK_SESSION_HANDLE s, const char *label, CK_OBJECT_HANDLE *h)
{
    CK_ATTRIBUTE t[] = {A_STR(CKA_LABEL, label)};
    CK_OBJECT_HANDLE one[8] = {CK_INVALID_HANDLE};
    CK_ULONG n = find(s, t, 1, one, N(one));
    if (h != NULL)
        *h = one[0];
    return n;
}

/* ---- stderr, files and the database ------------------------------------- */

static inline void cap_begin(void)
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

static inline void cap_end(char *buf, size_t size)
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

static inline size_t lines_with(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL && ++n; p++)
        if ((p = strchr(p, '\n')) == NULL)
            break;
    return n;
}

/* Slot's database (layout of slot_count = 1 or > 1). */
static inline const char *db_path(CK_SLOT_ID slot, bool multi)
{
    static char path[PATH_MAX + 64];
    if (multi)
        snprintf(path, sizeof(path), "%s/craton_hsm_store/slot-%lu/token.db", A.dir,
                 (unsigned long)slot);
    else
        snprintf(path, sizeof(path), "%s/craton_hsm_store/token.db", A.dir);
    return path;
}

static inline int db_count(const char *path, const char *where)
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
static inline void db_flip(const char *path, const char *col, const char *where, size_t off,
                           char *hex)
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
static inline bool file_has(const char *path, const void *needle, size_t n)
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
static inline bool store_has(const void *needle, size_t n)
{
    char wal[PATH_MAX + 80];
    snprintf(wal, sizeof(wal), "%s-wal", db_path(0, false));
    return file_has(db_path(0, false), needle, n) || file_has(wal, needle, n);
}

#endif
