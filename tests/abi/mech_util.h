/* Fixture and helpers shared by the mechanism ABI tests (test_mech.c,
 * test_mech_keys.c, test_mech_pqc.c).  Static inline functions and macros
 * only: each test keeps its own globals (struct abi A, tmpl; the function
 * list f) and passes them in. */
#ifndef CRATON_TESTS_ABI_MECH_UTIL_H
#define CRATON_TESTS_ABI_MECH_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "abi_util.h"

#define SO_PIN   "12345678"
#define USER_PIN "87654321"
/* Length of a string literal, without its NUL. */
#define LEN(s) ((CK_ULONG)(sizeof(s) - 1))
/* A PIN literal as the (pointer, length) argument pair. */
#define PIN(s) (CK_UTF8CHAR_PTR)(s), LEN(s)
/* Element count of an array. */
#define N(a) ((CK_ULONG)(sizeof(a) / sizeof((a)[0])))

/* A call's return value, named in the failure message. */
#define RV(call, want)                                                                   \
    do {                                                                                 \
        CK_RV rv_ = (call);                                                              \
        if (rv_ != (CK_RV)(want))                                                        \
            fail_msg("%s: got 0x%lx, want %s (0x%lx)", #call, (unsigned long)rv_, #want, \
                     (unsigned long)(want));                                             \
    } while (0)
#define OK(call) RV(call, CKR_OK)
#define EQ(a, b) assert_int_equal((a), (b))

/* A CK_BBOOL holding b, in storage that lives as long as the program (so a
 * template built with A_BOOL may outlive the block that built it). */
static inline CK_BBOOL *mech_bbool(bool b)
{
    static CK_BBOOL v[2] = {CK_FALSE, CK_TRUE};
    return &v[b ? 1 : 0];
}

/* Mechanism and template entries: MECH with the parameter struct *p, MECH0
 * without parameter; A_BUF n bytes at p, A_VAR the variable v, A_BOOL the
 * boolean b. */
// clang-format off
#define MECH(m, p)     {(m), (void *)(p), (CK_ULONG)sizeof(*(p))}
#define MECH0(m)       {(m), NULL, 0}
#define A_BUF(t, p, n) {(t), (void *)(p), (CK_ULONG)(n)}
#define A_VAR(t, v)    {(t), (void *)&(v), (CK_ULONG)sizeof(v)}
#define A_BOOL(t, b)   {(t), mech_bbool(b), (CK_ULONG)sizeof(CK_BBOOL)}
// clang-format on

/* ---- fixture -------------------------------------------------------------- */

/* Makes the template store once per group: a scratch directory tmpl->dir with
 * config cfg, and there a token (label: 32 padded bytes) with SO_PIN and a
 * user PIN USER_PIN.  The module is unloaded again; the copies made by
 * mech_copy_store spare every test the PBKDF2 runs of C_InitToken /
 * C_InitPIN.  0, or -1 on any error. */
static inline int mech_make_store(struct abi *tmpl, const char *cfg, const CK_UTF8CHAR *label)
{
    CK_SESSION_HANDLE s;
    if (abi_scratch(tmpl, cfg) != 0 || abi_open(tmpl) != 0)
        return -1;
    CK_FUNCTION_LIST_3_2 *t = tmpl->f;
    int r = t->C_Initialize(NULL) == CKR_OK &&
                    t->C_InitToken(0, PIN(SO_PIN), (CK_UTF8CHAR_PTR)label) == CKR_OK &&
                    t->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s) ==
                        CKR_OK &&
                    t->C_Login(s, CKU_SO, PIN(SO_PIN)) == CKR_OK &&
                    t->C_InitPIN(s, PIN(USER_PIN)) == CKR_OK && t->C_Finalize(NULL) == CKR_OK
                ? 0
                : -1;
    abi_close(tmpl);
    return r;
}

/* Clears *a, makes a fresh scratch directory with config cfg, copies the
 * store of tmpl there (without its lock file) and loads the module: a->f is
 * set, the module not initialised.  0, or -1 on any error. */
static inline int mech_copy_store(struct abi *a, const struct abi *tmpl, const char *cfg)
{
    char cmd[3 * PATH_MAX + 128];
    memset(a, 0, sizeof(*a));
    if (abi_scratch(a, cfg) != 0)
        return -1;
    snprintf(cmd, sizeof(cmd),
             "cp -a '%s/craton_hsm_store' '%s/' && rm -f '%s/craton_hsm_store/%s'", tmpl->dir,
             a->dir, a->dir, "craton_hsm.lock");
    if (system(cmd) != 0 || abi_open(a) != 0) {
        abi_close(a);
        return -1;
    }
    return 0;
}

/* Undoes mech_copy_store: C_Finalize (when loaded), unload, remove the
 * scratch directory. */
static inline void mech_unload(struct abi *a)
{
    if (a->f != NULL)
        a->f->C_Finalize(NULL);
    abi_close(a);
    abi_rm_scratch(a);
}

/* A R/W session on slot 0 of the initialised module f, the user logged in
 * when login; fails the test on any error. */
static inline CK_SESSION_HANDLE mech_session(CK_FUNCTION_LIST_3_2 *f, bool login)
{
    CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
    OK(f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h));
    if (login)
        OK(f->C_Login(h, CKU_USER, PIN(USER_PIN)));
    return h;
}

/* Defines a test file's fixture on the functions above: the globals A (this
 * test's module and scratch directory), tmpl (the template store) and f
 * (A's function list), and the static functions
 *   group_setup     the template store under config GCFG, token label LABEL
 *                   (a string literal of 32 padded characters);
 *   group_teardown  removes it;
 *   setup_cfg(cfg)  a copy of the store under config cfg, f set, the module
 *                   loaded but not initialised (0, or -1 on error);
 *   teardown        C_Finalize, unload, remove the copy; f NULL again.
 * Use once, at file scope. */
#define MECH_FIXTURE(GCFG, LABEL)                                            \
    static struct abi A, tmpl;                                               \
    static CK_FUNCTION_LIST_3_2 *f;                                          \
                                                                             \
    static int group_setup(void **state)                                     \
    {                                                                        \
        (void)state;                                                         \
        return mech_make_store(&tmpl, (GCFG), (const CK_UTF8CHAR *)(LABEL)); \
    }                                                                        \
                                                                             \
    static int group_teardown(void **state)                                  \
    {                                                                        \
        (void)state;                                                         \
        abi_rm_scratch(&tmpl);                                               \
        return 0;                                                            \
    }                                                                        \
                                                                             \
    static int setup_cfg(const char *cfg)                                    \
    {                                                                        \
        int r = mech_copy_store(&A, &tmpl, cfg);                             \
        f = A.f;                                                             \
        return r;                                                            \
    }                                                                        \
                                                                             \
    static int teardown(void **state)                                        \
    {                                                                        \
        (void)state;                                                         \
        mech_unload(&A);                                                     \
        f = NULL;                                                            \
        return 0;                                                            \
    }

/* Defines NAME, a cmocka setup that runs setup_cfg(CFG) of MECH_FIXTURE. */
#define MECH_SETUP(NAME, CFG)     \
    static int NAME(void **state) \
    {                             \
        (void)state;              \
        return setup_cfg(CFG);    \
    }

/* ---- mechanisms ----------------------------------------------------------- */

/* Whether m is among list[0..n). */
static inline bool mech_in_list(const CK_MECHANISM_TYPE *list, CK_ULONG n, CK_MECHANISM_TYPE m)
{
    for (CK_ULONG i = 0; i < n; i++)
        if (list[i] == m)
            return true;
    return false;
}

/* C_GetMechanismInfo of m on slot 0; fails the test (naming m) on error. */
static inline CK_MECHANISM_INFO mech_info(CK_FUNCTION_LIST_3_2 *f, CK_MECHANISM_TYPE m)
{
    CK_MECHANISM_INFO info;
    memset(&info, 0, sizeof(info));
    CK_RV rv = f->C_GetMechanismInfo(0, m, &info);
    if (rv != CKR_OK)
        fail_msg("C_GetMechanismInfo(0x%lx): 0x%lx", (unsigned long)m, (unsigned long)rv);
    return info;
}

/* ---- objects -------------------------------------------------------------- */

/* A session secret key of type kt with value v (n bytes) and up to 12 extra
 * attributes, made in session s; fails the test on any error. */
static inline CK_OBJECT_HANDLE mech_secret(CK_FUNCTION_LIST_3_2 *f, CK_SESSION_HANDLE s,
                                           CK_KEY_TYPE kt, const void *v, CK_ULONG n,
                                           const CK_ATTRIBUTE *extra, CK_ULONG nextra)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE t[16] = {A_VAR(CKA_CLASS, cls), A_VAR(CKA_KEY_TYPE, kt), A_BOOL(CKA_TOKEN, false),
                          A_BUF(CKA_VALUE, v, n)};
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    assert_true(nextra <= 12);
    for (CK_ULONG i = 0; i < nextra; i++)
        t[4 + i] = extra[i];
    OK(f->C_CreateObject(s, t, 4 + nextra, &h));
    return h;
}

/* Attribute type of h into a malloc'ed buffer (the caller frees it; *len
 * bytes); fails the test when it is unavailable. */
static inline unsigned char *mech_attr(CK_FUNCTION_LIST_3_2 *f, CK_SESSION_HANDLE s,
                                       CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, CK_ULONG *len)
{
    CK_ATTRIBUTE a = {type, NULL, 0};
    OK(f->C_GetAttributeValue(s, h, &a, 1));
    assert_true(a.ulValueLen != CK_UNAVAILABLE_INFORMATION);
    a.pValue = malloc(a.ulValueLen + 1);
    assert_non_null(a.pValue);
    OK(f->C_GetAttributeValue(s, h, &a, 1));
    *len = a.ulValueLen;
    return a.pValue;
}

/* A CK_ULONG attribute type of h. */
static inline CK_ULONG mech_ulong(CK_FUNCTION_LIST_3_2 *f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
                                  CK_ATTRIBUTE_TYPE type)
{
    CK_ULONG v = 0;
    CK_ATTRIBUTE a = {type, &v, sizeof(v)};
    OK(f->C_GetAttributeValue(s, h, &a, 1));
    return v;
}

/* ---- OpenSSL -------------------------------------------------------------- */

/* OpenSSL's cipher name (enc 1 / 0, key wrapping allowed) of in (n bytes)
 * into out, padding pad; the output's length.  Fails the test on error. */
static inline size_t mech_ossl_cipher(const char *name, const unsigned char *key,
                                      const unsigned char *iv, bool pad, int enc,
                                      const unsigned char *in, size_t n, unsigned char *out)
{
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, name, NULL);
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int a = 0, b = 0;
    assert_non_null(c);
    assert_non_null(x);
    EVP_CIPHER_CTX_set_flags(x, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    EQ(EVP_CipherInit_ex2(x, c, key, iv, enc, NULL), 1);
    EVP_CIPHER_CTX_set_padding(x, pad ? 1 : 0);
    EQ(EVP_CipherUpdate(x, out, &a, in, (int)n), 1);
    EQ(EVP_CipherFinal_ex(x, out + a, &b), 1);
    EVP_CIPHER_CTX_free(x);
    EVP_CIPHER_free(c);
    return (size_t)(a + b);
}

#endif
