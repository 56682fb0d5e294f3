/*
 * The "Craton HSM Admin" vendor interface (include/craton/craton_admin.h)
 * through the built module: dlopen, C_GetInterface("Craton HSM Admin"),
 * and the PKCS#11 3.2 list beside it, as craton-admin uses them.
 *
 * Covers: the interface's place in the list (never the default); status
 * before and after C_Initialize and in the error state; the self-tests on
 * request (and a failing one putting the module in its error state);
 * configuration checks; audit log verification (intact, tampered); token
 * wipe (sessions refused, uninitialised afterwards, across a restart, in
 * memory-only mode); whole-token backup and restore (round trip with a
 * private key that still signs, wrong passphrase, flipped bits, wrong SO
 * PIN, restore into a wiped slot, a backup of another token refused unless
 * forced) and the argument errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "abi_util.h"
#include "craton/craton_admin.h"

#define SO_PIN    "so-Pin-4431-x"
#define SO_PIN2   "so-Pin-5542-q"
#define USER_PIN  "usr-Pin-9928-y"
#define USER_PIN2 "usr-Pin-1177-z"
#define PASS      "backup passphrase 1"
#define LEN(s)    ((CK_ULONG)(sizeof(s) - 1))
#define PIN(s)    (CK_UTF8CHAR_PTR)(s), LEN(s)
#define N(a)      ((CK_ULONG)(sizeof(a) / sizeof((a)[0])))

#define EQ(a, b)       assert_int_equal((a), (b))
#define RV(call, want) assert_int_equal((call), (want))
#define OK(call)       RV(call, CKR_OK)

#define CONFIG      ABI_FAST_CONFIG
#define TWO_SLOTS   ABI_FAST_CONFIG "[token]\nslot_count = 2\n"
#define MEMORY_ONLY ABI_FAST_CONFIG "[token]\npersist_objects = false\n"

static CK_BBOOL yes = CK_TRUE;
static CK_OBJECT_CLASS c_cert = CKO_CERTIFICATE, c_pub = CKO_PUBLIC_KEY, c_data = CKO_DATA;
static CK_KEY_TYPE k_ec = CKK_EC;
static CK_CERTIFICATE_TYPE ct_x509 = CKC_X_509;

/* P-256: 1.2.840.10045.3.1.7 */
static const CK_BYTE P256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

/* Self-signed P-256 certificate, CN=test (as in objects_util.h). */
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

static struct abi A;
static CK_FUNCTION_LIST_3_2 *f;
static CK_CRATON_ADMIN_FUNCTION_LIST *adm;

/* ---- fixture ------------------------------------------------------------ */

static int group_setup(void **state)
{
    (void)state;
    if (abi_open(&A) != 0)
        return -1;
    f = A.f;
    CK_C_GetInterface gi = (CK_C_GetInterface)dlsym(A.dl, "C_GetInterface");
    CK_INTERFACE_PTR itf = NULL;
    if (gi == NULL || gi((CK_UTF8CHAR_PTR)CRATON_ADMIN_INTERFACE_NAME, NULL, &itf, 0) != CKR_OK)
        return -1;
    adm = itf->pFunctionList;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    abi_close(&A);
    return 0;
}

/* Every test: a fresh scratch directory with the default config. */
static int setup(void **state)
{
    (void)state;
    return abi_scratch(&A, CONFIG);
}

static int teardown(void **state)
{
    (void)state;
    (void)f->C_Finalize(NULL);
    unsetenv("CRATON_TEST_POST_FAIL");
    abi_rm_scratch(&A);
    return 0;
}

/* Rewrites the scratch config (between C_Finalize and C_Initialize). */
static void config(const char *body)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/craton_hsm.toml", A.dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(body, fp);
    fclose(fp);
}

static void restart(void)
{
    OK(f->C_Finalize(NULL));
    OK(f->C_Initialize(NULL));
}

static CK_SESSION_HANDLE open_rw(CK_SLOT_ID slot)
{
    CK_SESSION_HANDLE h;
    OK(f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h));
    return h;
}

/* A session logged in as user (CKU_USER / CKU_SO) with pin. */
static CK_SESSION_HANDLE login(CK_SLOT_ID slot, CK_USER_TYPE user, const char *pin)
{
    CK_SESSION_HANDLE h = open_rw(slot);
    OK(f->C_Login(h, user, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin)));
    return h;
}

static void init_token(CK_SLOT_ID slot, const char *label, const char *so, const char *user)
{
    CK_UTF8CHAR lab[32];
    memset(lab, ' ', sizeof(lab));
    memcpy(lab, label, strlen(label));
    OK(f->C_InitToken(slot, (CK_UTF8CHAR_PTR)so, (CK_ULONG)strlen(so), lab));
    CK_SESSION_HANDLE h = login(slot, CKU_SO, so);
    OK(f->C_InitPIN(h, (CK_UTF8CHAR_PTR)user, (CK_ULONG)strlen(user)));
    OK(f->C_CloseSession(h));
}

static CK_FLAGS token_flags(CK_SLOT_ID slot)
{
    CK_TOKEN_INFO ti;
    OK(f->C_GetTokenInfo(slot, &ti));
    return ti.flags;
}

static void token_label(CK_SLOT_ID slot, char out[33])
{
    CK_TOKEN_INFO ti;
    OK(f->C_GetTokenInfo(slot, &ti));
    memcpy(out, ti.label, 32);
    out[32] = '\0';
    for (int i = 31; i >= 0 && out[i] == ' '; i--)
        out[i] = '\0';
}

/* Objects of class cls with label (NULL: any) visible in session h. */
static CK_ULONG find(CK_SESSION_HANDLE h, CK_OBJECT_CLASS cls, const char *label,
                     CK_OBJECT_HANDLE *first)
{
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_LABEL, (void *)label, label ? (CK_ULONG)strlen(label) : 0}};
    CK_OBJECT_HANDLE found[16];
    CK_ULONG n = 0;
    OK(f->C_FindObjectsInit(h, t, label ? 2 : 1));
    OK(f->C_FindObjects(h, found, N(found), &n));
    OK(f->C_FindObjectsFinal(h));
    if (first != NULL && n > 0)
        *first = found[0];
    return n;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    if (len != NULL)
        *len = (size_t)n;
    return buf;
}

static bool contains(const void *hay, size_t n, const void *needle, size_t m)
{
    for (size_t i = 0; m <= n && i <= n - m; i++)
        if (memcmp((const char *)hay + i, needle, m) == 0)
            return true;
    return false;
}

/* The audit log of the scratch directory (after C_Finalize: all written). */
static char *audit_log(void)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/craton_hsm_audit.jsonl", A.dir);
    char *s = read_file(path, NULL);
    assert_non_null(s);
    return s;
}

/* The token's contents for the backup tests. */
struct content {
    CK_OBJECT_HANDLE pub, priv, aes, cert;
    CK_BYTE point[128];
    CK_ULONG point_len;
};

static void generate(CK_SESSION_HANDLE h, struct content *c)
{
    CK_MECHANISM ec = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pt[] = {
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_EC_PARAMS, (void *)P256, sizeof(P256)},
        {CKA_VERIFY, &yes, sizeof(yes)},
        {CKA_LABEL, "ec", 2},
    };
    CK_ATTRIBUTE st[] = {
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_PRIVATE, &yes, sizeof(yes)},
        {CKA_SENSITIVE, &yes, sizeof(yes)},
        {CKA_SIGN, &yes, sizeof(yes)},
        {CKA_LABEL, "ec", 2},
    };
    OK(f->C_GenerateKeyPair(h, &ec, pt, N(pt), st, N(st), &c->pub, &c->priv));
    CK_MECHANISM aes = {CKM_AES_KEY_GEN, NULL, 0};
    CK_ULONG len = 32;
    CK_ATTRIBUTE at[] = {
        {CKA_TOKEN, &yes, sizeof(yes)},     {CKA_PRIVATE, &yes, sizeof(yes)},
        {CKA_ENCRYPT, &yes, sizeof(yes)},   {CKA_DECRYPT, &yes, sizeof(yes)},
        {CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_LABEL, "aes", 3},
    };
    OK(f->C_GenerateKey(h, &aes, at, N(at), &c->aes));
    CK_ATTRIBUTE ct[] = {
        {CKA_CLASS, &c_cert, sizeof(c_cert)},    {CKA_CERTIFICATE_TYPE, &ct_x509, sizeof(ct_x509)},
        {CKA_TOKEN, &yes, sizeof(yes)},          {CKA_LABEL, "cert", 4},
        {CKA_VALUE, (void *)CERT, sizeof(CERT)},
    };
    OK(f->C_CreateObject(h, ct, N(ct), &c->cert));
    CK_ATTRIBUTE q = {CKA_EC_POINT, c->point, sizeof(c->point)};
    OK(f->C_GetAttributeValue(h, c->pub, &q, 1));
    c->point_len = q.ulValueLen;
}

/* Signs with the private key "ec" in user session h and verifies with a
 * session public key made from the point read before the backup. */
static void signs(CK_SESSION_HANDLE h, const struct content *c)
{
    CK_OBJECT_HANDLE priv, pub;
    CK_BYTE sig[128];
    CK_ULONG sig_len = sizeof(sig);
    static const CK_BYTE msg[] = "restored keys still sign";
    EQ(find(h, CKO_PRIVATE_KEY, "ec", &priv), 1);
    CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0};
    OK(f->C_SignInit(h, &m, priv));
    OK(f->C_Sign(h, (CK_BYTE_PTR)msg, sizeof(msg), sig, &sig_len));
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &c_pub, sizeof(c_pub)},
        {CKA_KEY_TYPE, &k_ec, sizeof(k_ec)},
        {CKA_EC_PARAMS, (void *)P256, sizeof(P256)},
        {CKA_EC_POINT, (void *)c->point, c->point_len},
        {CKA_VERIFY, &yes, sizeof(yes)},
    };
    OK(f->C_CreateObject(h, t, N(t), &pub));
    OK(f->C_VerifyInit(h, &m, pub));
    OK(f->C_Verify(h, (CK_BYTE_PTR)msg, sizeof(msg), sig, sig_len));
    /* The check can fail: a changed message does not verify. */
    OK(f->C_VerifyInit(h, &m, pub));
    RV(f->C_Verify(h, (CK_BYTE_PTR)msg, sizeof(msg) - 1, sig, sig_len), CKR_SIGNATURE_INVALID);
    OK(f->C_DestroyObject(h, pub));
}

/* A backup of slot's token by its SO (session closed afterwards). */
static CK_BYTE *backup(CK_SLOT_ID slot, const char *so, CK_ULONG *len)
{
    CK_SESSION_HANDLE h = login(slot, CKU_SO, so);
    *len = 0;
    OK(adm->CRATON_BackupToken(h, PIN(PASS), NULL, len));
    assert_true(*len > 64);
    CK_BYTE *b = malloc(*len);
    assert_non_null(b);
    OK(adm->CRATON_BackupToken(h, PIN(PASS), b, len));
    OK(f->C_CloseSession(h));
    return b;
}

/* ---- the interface ------------------------------------------------------ */

static void test_interface(void **state)
{
    (void)state;
    CK_C_GetInterface gi = (CK_C_GetInterface)dlsym(A.dl, "C_GetInterface");
    CK_INTERFACE_PTR itf = NULL;
    OK(gi((CK_UTF8CHAR_PTR) "Craton HSM Admin", NULL, &itf, 0));
    assert_string_equal((char *)itf->pInterfaceName, CRATON_ADMIN_INTERFACE_NAME);
    EQ(itf->flags, 0);
    CK_CRATON_ADMIN_FUNCTION_LIST *l = itf->pFunctionList;
    EQ(l->version.major, 1);
    EQ(l->version.minor, 0);
    assert_ptr_equal(l, adm);
    CK_VERSION v10 = {1, 0}, v11 = {1, 1};
    OK(gi((CK_UTF8CHAR_PTR) "Craton HSM Admin", &v10, &itf, 0));
    RV(gi((CK_UTF8CHAR_PTR) "Craton HSM Admin", &v11, &itf, 0), CKR_ARGUMENTS_BAD);
    RV(gi((CK_UTF8CHAR_PTR) "Craton HSM Admin", NULL, &itf, CKF_INTERFACE_FORK_SAFE),
       CKR_ARGUMENTS_BAD);
    /* The default is the PKCS#11 3.2 list, whatever the version asked. */
    OK(gi(NULL, NULL, &itf, 0));
    assert_string_equal((char *)itf->pInterfaceName, "PKCS 11");
    EQ(((CK_VERSION *)itf->pFunctionList)->major, 3);
    EQ(((CK_VERSION *)itf->pFunctionList)->minor, 2);
    RV(gi(NULL, &v10, &itf, 0), CKR_ARGUMENTS_BAD);
    CK_C_GetInterfaceList gil = (CK_C_GetInterfaceList)dlsym(A.dl, "C_GetInterfaceList");
    CK_INTERFACE list[8];
    CK_ULONG n = N(list);
    OK(gil(list, &n));
    EQ(n, 4);
    assert_string_equal((char *)list[3].pInterfaceName, "Craton HSM Admin");
    assert_ptr_equal(list[3].pFunctionList, adm);
}

/* ---- status ------------------------------------------------------------- */

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

static void test_status(void **state)
{
    (void)state;
    CK_CRATON_STATUS st;
    RV(adm->CRATON_GetStatus(NULL), CKR_ARGUMENTS_BAD);
    memset(&st, 0xa5, sizeof(st));
    OK(adm->CRATON_GetStatus(&st));
    EQ(st.initialized, CK_FALSE);
    EQ(st.error_state, CK_FALSE);
    assert_string_equal(st.error_reason, "");
    assert_string_equal(st.config_path, "");
    assert_string_equal(st.storage_path, "");
    EQ(st.slot_count, 0);
    EQ(st.sessions, 0);

    OK(f->C_Initialize(NULL));
    init_token(0, "status", SO_PIN, USER_PIN);
    CK_SESSION_HANDLE h1 = open_rw(0), h2 = open_rw(0);
    OK(adm->CRATON_GetStatus(&st));
    EQ(st.initialized, CK_TRUE);
    EQ(st.error_state, CK_FALSE);
    char want[PATH_MAX + 32];
    snprintf(want, sizeof(want), "%s/craton_hsm.toml", A.dir);
    assert_string_equal(st.config_path, want);
    assert_true(ends_with(st.storage_path, "/craton_hsm_store"));
    assert_true(ends_with(st.audit_path, "/craton_hsm_audit.jsonl"));
    assert_string_equal(st.audit_level, "all");
    EQ(st.audit_keyed, CK_FALSE);
    EQ(st.fips_approved_only, CK_FALSE);
    EQ(st.persist_objects, CK_TRUE);
    EQ(st.slot_count, 1);
    EQ(st.sessions, 2);
    assert_true(st.post_micros > 0);
    OK(f->C_CloseSession(h1));
    OK(adm->CRATON_GetStatus(&st));
    EQ(st.sessions, 1);
    OK(f->C_CloseSession(h2));

    /* Another configuration: two slots, memory only, audit at "admin". */
    OK(f->C_Finalize(NULL));
    config(ABI_FAST_CONFIG "[token]\nslot_count = 2\npersist_objects = false\n"
                           "[audit]\nlog_level = \"admin\"\n");
    OK(f->C_Initialize(NULL));
    OK(adm->CRATON_GetStatus(&st));
    EQ(st.slot_count, 2);
    EQ(st.persist_objects, CK_FALSE);
    assert_string_equal(st.audit_level, "admin");
    OK(f->C_Finalize(NULL));
    OK(adm->CRATON_GetStatus(&st));
    EQ(st.initialized, CK_FALSE);
}

static void test_status_error_state(void **state)
{
    (void)state;
    CK_CRATON_STATUS st;
    assert_int_equal(setenv("CRATON_TEST_POST_FAIL", "SHA-256", 1), 0);
    RV(f->C_Initialize(NULL), CKR_GENERAL_ERROR);
    OK(adm->CRATON_GetStatus(&st));
    EQ(st.error_state, CK_TRUE);
    assert_true(strlen(st.error_reason) > 0);
    assert_non_null(strstr(st.error_reason, "self-test"));
    EQ(st.initialized, CK_FALSE);
    /* The other functions answer with the error state. */
    CK_ULONG n = 0;
    RV(adm->CRATON_SelfTest(NULL, &n), CKR_GENERAL_ERROR);
    RV(adm->CRATON_WipeToken(0), CKR_GENERAL_ERROR);
    unsetenv("CRATON_TEST_POST_FAIL");
    OK(f->C_Finalize(NULL));
    OK(adm->CRATON_GetStatus(&st));
    EQ(st.error_state, CK_FALSE);
    assert_string_equal(st.error_reason, "");
    OK(f->C_Initialize(NULL));
    OK(adm->CRATON_GetStatus(&st));
    EQ(st.initialized, CK_TRUE);
    EQ(st.error_state, CK_FALSE);
}

/* ---- self-tests --------------------------------------------------------- */

static void test_selftest(void **state)
{
    (void)state;
    CK_CRATON_SELFTEST_RESULT r[CRATON_SELFTEST_COUNT + 1];
    CK_ULONG n = N(r);
    RV(adm->CRATON_SelfTest(r, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
    OK(f->C_Initialize(NULL));
    RV(adm->CRATON_SelfTest(r, NULL), CKR_ARGUMENTS_BAD);
    n = 0;
    OK(adm->CRATON_SelfTest(NULL, &n));
    EQ(n, CRATON_SELFTEST_COUNT);
    n = 3;
    RV(adm->CRATON_SelfTest(r, &n), CKR_BUFFER_TOO_SMALL);
    EQ(n, CRATON_SELFTEST_COUNT);
    n = N(r);
    memset(r, 0, sizeof(r));
    OK(adm->CRATON_SelfTest(r, &n));
    EQ(n, 17);
    assert_string_equal(r[0].name, "integrity");
    for (CK_ULONG i = 0; i < n; i++) {
        assert_true(strlen(r[i].name) > 0);
        assert_true(strlen(r[i].source) > 0);
        EQ(r[i].passed, CK_TRUE);
        assert_string_equal(r[i].why, "");
        for (CK_ULONG j = 0; j < i; j++)
            assert_string_not_equal(r[i].name, r[j].name);
    }
    EQ(r[17].name[0], '\0'); /* nothing written past the 17 */

    /* A failure now: reported, and the module enters its error state. */
    char name[32];
    snprintf(name, sizeof(name), "%s", r[5].name);
    assert_int_equal(setenv("CRATON_TEST_POST_FAIL", name, 1), 0);
    n = N(r);
    RV(adm->CRATON_SelfTest(r, &n), CKR_GENERAL_ERROR);
    EQ(n, 17);
    for (CK_ULONG i = 0; i < n; i++) {
        EQ(r[i].passed, i == 5 ? CK_FALSE : CK_TRUE);
        EQ(strlen(r[i].why) > 0, i == 5);
    }
    unsetenv("CRATON_TEST_POST_FAIL");
    CK_INFO info;
    RV(f->C_GetInfo(&info), CKR_GENERAL_ERROR);
    CK_CRATON_STATUS st;
    OK(adm->CRATON_GetStatus(&st));
    EQ(st.error_state, CK_TRUE);
    EQ(st.initialized, CK_TRUE);
    OK(f->C_Finalize(NULL));
    char *log = audit_log();
    assert_non_null(strstr(log, "\"event\":\"self_test\",\"detail\":\"on request: 17 of 17"));
    assert_non_null(strstr(log, "\"event\":\"self_test\",\"detail\":\"on request: 16 of 17"));
    free(log);
    OK(f->C_Initialize(NULL));
    OK(f->C_GetInfo(&info));
}

/* ---- configuration ------------------------------------------------------ */

static void test_config_check(void **state)
{
    (void)state;
    char out[16384], err[512];
    CK_ULONG n = 0;
    char good[PATH_MAX + 32], bad[PATH_MAX + 32];
    snprintf(good, sizeof(good), "%s/craton_hsm.toml", A.dir);
    snprintf(bad, sizeof(bad), "%s/bad.toml", A.dir);
    FILE *fp = fopen(bad, "w");
    assert_non_null(fp);
    fputs("[token]\nslot_count = 0\n", fp);
    fclose(fp);
    chmod(bad, 0600);

    /* No C_Initialize needed. */
    RV(adm->CRATON_ConfigCheck(good, out, NULL, err, sizeof(err)), CKR_ARGUMENTS_BAD);
    OK(adm->CRATON_ConfigCheck(good, NULL, &n, err, sizeof(err)));
    assert_true(n > 100 && n < sizeof(out));
    CK_ULONG need = n;
    n = 10;
    RV(adm->CRATON_ConfigCheck(good, out, &n, err, sizeof(err)), CKR_BUFFER_TOO_SMALL);
    EQ(n, need);
    n = sizeof(out);
    OK(adm->CRATON_ConfigCheck(good, out, &n, err, sizeof(err)));
    EQ(n, need);
    EQ(strlen(out) + 1, need);
    assert_non_null(strstr(out, "storage_path"));
    assert_non_null(strstr(out, "pbkdf2_iterations = 100000"));
    assert_string_equal(err, "");
    /* NULL path: the one C_Initialize would use (CRATON_HSM_CONFIG). */
    n = sizeof(out);
    OK(adm->CRATON_ConfigCheck(NULL, out, &n, NULL, 0));
    assert_non_null(strstr(out, good));

    n = sizeof(out);
    RV(adm->CRATON_ConfigCheck(bad, out, &n, err, sizeof(err)), CKR_ARGUMENTS_BAD);
    char where[PATH_MAX + 48];
    snprintf(where, sizeof(where), "bad.toml:2");
    assert_non_null(strstr(err, where));
    assert_non_null(strstr(err, "slot_count"));
    /* A short err buffer is cut, never overrun. */
    char tiny[8];
    memset(tiny, 'x', sizeof(tiny));
    RV(adm->CRATON_ConfigCheck(bad, out, &n, tiny, 4), CKR_ARGUMENTS_BAD);
    EQ(strlen(tiny), 3);
    EQ(tiny[5], 'x');
    n = sizeof(out);
    RV(adm->CRATON_ConfigCheck("/nonexistent/craton.toml", out, &n, err, sizeof(err)),
       CKR_ARGUMENTS_BAD);
    assert_true(strlen(err) > 0);
}

/* ---- audit verification ------------------------------------------------- */

static void test_audit_verify(void **state)
{
    (void)state;
    CK_CRATON_AUDIT_VERIFY r;
    OK(f->C_Initialize(NULL));
    init_token(0, "audit", SO_PIN, USER_PIN);
    CK_SESSION_HANDLE h = login(0, CKU_USER, USER_PIN);
    RV(adm->CRATON_AuditVerify(NULL, NULL, NULL), CKR_ARGUMENTS_BAD);
    /* Live: the records queued so far are flushed first. */
    OK(adm->CRATON_AuditVerify(NULL, NULL, &r));
    assert_true(r.records >= 4);
    EQ(r.first_seq, 1);
    EQ(r.bad_line, 0);
    OK(f->C_CloseSession(h));
    OK(f->C_Finalize(NULL));

    /* Offline: the configuration names the log. */
    memset(&r, 0, sizeof(r));
    OK(adm->CRATON_AuditVerify(NULL, NULL, &r));
    CK_ULONG records = r.records;
    assert_true(records >= 5);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/craton_hsm_audit.jsonl", A.dir);
    OK(adm->CRATON_AuditVerify(path, "", &r));
    EQ(r.records, records);

    /* A missing key file and a missing log cannot be read. */
    RV(adm->CRATON_AuditVerify(path, "/nonexistent/key", &r), CKR_GENERAL_ERROR);
    assert_true(strlen(r.why) > 0);
    RV(adm->CRATON_AuditVerify("/nonexistent/audit.jsonl", NULL, &r), CKR_GENERAL_ERROR);
    assert_true(strlen(r.why) > 0);

    /* Tamper with line 3: line 4's prev_hash no longer matches. */
    size_t len;
    char *s = read_file(path, &len);
    assert_non_null(s);
    char *l3 = s;
    for (int i = 0; i < 2; i++)
        l3 = strchr(l3, '\n') + 1;
    char *pid = strstr(l3, "\"pid\":");
    assert_non_null(pid);
    pid[6] = pid[6] == '1' ? '2' : '1';
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(s, 1, len, fp), len);
    fclose(fp);
    free(s);
    RV(adm->CRATON_AuditVerify(NULL, NULL, &r), CKR_SIGNATURE_INVALID);
    EQ(r.bad_line, 4);
    assert_string_equal(r.bad_file, path);
    assert_non_null(strstr(r.why, "line 3"));
    /* The same through a live module. */
    OK(f->C_Initialize(NULL));
    RV(adm->CRATON_AuditVerify(path, NULL, &r), CKR_SIGNATURE_INVALID);
    EQ(r.bad_line, 4);
}

/* ---- wipe --------------------------------------------------------------- */

static void test_wipe(void **state)
{
    (void)state;
    RV(adm->CRATON_WipeToken(0), CKR_CRYPTOKI_NOT_INITIALIZED);
    OK(f->C_Initialize(NULL));
    init_token(0, "to wipe", SO_PIN, USER_PIN);
    CK_SESSION_HANDLE h = login(0, CKU_USER, USER_PIN);
    CK_ATTRIBUTE dt[] = {{CKA_CLASS, &c_data, sizeof(c_data)},
                         {CKA_TOKEN, &yes, sizeof(yes)},
                         {CKA_PRIVATE, &yes, sizeof(yes)},
                         {CKA_LABEL, "secret data", 11},
                         {CKA_VALUE, "wipe-me-payload", 15}};
    CK_OBJECT_HANDLE o;
    OK(f->C_CreateObject(h, dt, N(dt), &o));
    RV(adm->CRATON_WipeToken(0), CKR_SESSION_EXISTS);
    RV(adm->CRATON_WipeToken(1), CKR_SLOT_ID_INVALID);
    EQ(find(h, CKO_DATA, "secret data", NULL), 1); /* nothing happened */
    OK(f->C_CloseSession(h));

    OK(adm->CRATON_WipeToken(0));
    CK_FLAGS fl = token_flags(0);
    EQ(fl & (CKF_TOKEN_INITIALIZED | CKF_USER_PIN_INITIALIZED), 0);
    CK_SESSION_HANDLE s;
    RV(f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_TOKEN_NOT_RECOGNIZED);

    /* Persisted: still uninitialised after a restart. */
    restart();
    EQ(token_flags(0) & (CKF_TOKEN_INITIALIZED | CKF_USER_PIN_INITIALIZED), 0);
    /* A new SO PIN, without the old one; nothing of the old token left. */
    init_token(0, "fresh", SO_PIN2, USER_PIN2);
    h = login(0, CKU_USER, USER_PIN2);
    EQ(find(h, CKO_DATA, NULL, NULL), 0);
    OK(f->C_Logout(h));
    RV(f->C_Login(h, CKU_SO, PIN(SO_PIN)), CKR_PIN_INCORRECT);
    OK(f->C_CloseSession(h));
    OK(f->C_Finalize(NULL));
    /* The database holds no trace of the object's value. */
    char db[PATH_MAX + 64];
    size_t len = 0;
    snprintf(db, sizeof(db), "%s/craton_hsm_store/token.db", A.dir);
    char *bytes = read_file(db, &len);
    assert_non_null(bytes);
    assert_false(contains(bytes, len, "to wipe", 7));
    free(bytes);
    char *log = audit_log();
    assert_non_null(strstr(log, "\"event\":\"token_wipe\",\"slot\":0,\"detail\":\"token "));
    assert_non_null(strstr(log, "\"result\":\"CKR_SESSION_EXISTS\""));
    free(log);
}

static void test_wipe_memory_only(void **state)
{
    (void)state;
    config(MEMORY_ONLY);
    OK(f->C_Initialize(NULL));
    init_token(0, "memory", SO_PIN, USER_PIN);
    EQ(token_flags(0) & CKF_TOKEN_INITIALIZED, CKF_TOKEN_INITIALIZED);
    OK(adm->CRATON_WipeToken(0));
    EQ(token_flags(0) & (CKF_TOKEN_INITIALIZED | CKF_USER_PIN_INITIALIZED), 0);
    init_token(0, "memory 2", SO_PIN2, USER_PIN2);
    /* No store: nothing to back up or restore into. */
    CK_SESSION_HANDLE h = login(0, CKU_SO, SO_PIN2);
    CK_ULONG n = 0;
    RV(adm->CRATON_BackupToken(h, PIN(PASS), NULL, &n), CKR_FUNCTION_NOT_SUPPORTED);
    OK(f->C_CloseSession(h));
}

/* ---- backup and restore ------------------------------------------------- */

static void test_backup_restore(void **state)
{
    (void)state;
    struct content c;
    OK(f->C_Initialize(NULL));
    init_token(0, "round trip", SO_PIN, USER_PIN);
    CK_SESSION_HANDLE h = login(0, CKU_USER, USER_PIN);
    generate(h, &c);
    CK_ULONG n = 0;
    /* Only the SO may take a backup. */
    RV(adm->CRATON_BackupToken(h, PIN(PASS), NULL, &n), CKR_USER_NOT_LOGGED_IN);
    OK(f->C_CloseSession(h));
    h = login(0, CKU_SO, SO_PIN);
    RV(adm->CRATON_BackupToken(h, PIN("short"), NULL, &n), CKR_PIN_LEN_RANGE);
    OK(adm->CRATON_BackupToken(h, PIN(PASS), NULL, &n));
    CK_BYTE *b = malloc(n);
    CK_ULONG small = n - 1;
    RV(adm->CRATON_BackupToken(h, PIN(PASS), b, &small), CKR_BUFFER_TOO_SMALL);
    EQ(small, n);
    OK(adm->CRATON_BackupToken(h, PIN(PASS), b, &n));
    OK(f->C_CloseSession(h));
    /* Self-describing, and sealed: the certificate is not readable. */
    assert_memory_equal(b, "CRATONBK\x00\x01\x01", 11);
    EQ(((CK_ULONG)b[11] << 24 | (CK_ULONG)b[12] << 16 | (CK_ULONG)b[13] << 8 | b[14]) >= 600000, 1);
    assert_false(contains(b, n, CERT + 96, 17));
    assert_false(contains(b, n, "round trip", 10));

    /* Change things: keys destroyed, the user PIN changed. */
    h = login(0, CKU_USER, USER_PIN);
    CK_OBJECT_HANDLE o;
    EQ(find(h, CKO_PRIVATE_KEY, "ec", &o), 1); /* private handles die with a logout */
    OK(f->C_DestroyObject(h, o));
    EQ(find(h, CKO_SECRET_KEY, "aes", &o), 1);
    OK(f->C_DestroyObject(h, o));
    EQ(find(h, CKO_CERTIFICATE, "cert", &o), 1);
    OK(f->C_DestroyObject(h, o));
    OK(f->C_SetPIN(h, PIN(USER_PIN), PIN(USER_PIN2)));

    /* Refused while a session is open (after the backup opened). */
    RV(adm->CRATON_RestoreToken(0, PIN(SO_PIN), PIN(PASS), b, n, 0), CKR_SESSION_EXISTS);
    OK(f->C_CloseSession(h));

    /* Wrong passphrase, flipped bits, truncation: nothing changes. */
    RV(adm->CRATON_RestoreToken(0, PIN(SO_PIN), PIN("wrong passphrase"), b, n, 0),
       CKR_ENCRYPTED_DATA_INVALID);
    CK_BYTE *bad = malloc(n);
    memcpy(bad, b, n);
    bad[n / 2] ^= 0x10; /* ciphertext */
    RV(adm->CRATON_RestoreToken(0, PIN(SO_PIN), PIN(PASS), bad, n, 0), CKR_ENCRYPTED_DATA_INVALID);
    memcpy(bad, b, n);
    bad[20] ^= 0x01; /* header: the salt */
    RV(adm->CRATON_RestoreToken(0, PIN(SO_PIN), PIN(PASS), bad, n, 0), CKR_ENCRYPTED_DATA_INVALID);
    memcpy(bad, b, n);
    bad[n - 1] ^= 0x80; /* the tag */
    RV(adm->CRATON_RestoreToken(0, PIN(SO_PIN), PIN(PASS), bad, n, 0), CKR_ENCRYPTED_DATA_INVALID);
    RV(adm->CRATON_RestoreToken(0, PIN(SO_PIN), PIN(PASS), b, n - 1, 0),
       CKR_ENCRYPTED_DATA_INVALID);
    RV(adm->CRATON_RestoreToken(0, PIN(SO_PIN), PIN(PASS), b, 10, 0), CKR_ENCRYPTED_DATA_INVALID);
    free(bad);
    /* The wrong SO PIN counts like a failed C_Login. */
    RV(adm->CRATON_RestoreToken(0, PIN(SO_PIN2), PIN(PASS), b, n, 0), CKR_PIN_INCORRECT);
    EQ(token_flags(0) & CKF_SO_PIN_COUNT_LOW, CKF_SO_PIN_COUNT_LOW);
    h = login(0, CKU_USER, USER_PIN2);
    EQ(find(h, CKO_PRIVATE_KEY, "ec", NULL), 0);
    EQ(find(h, CKO_PUBLIC_KEY, "ec", NULL), 1);
    OK(f->C_CloseSession(h));

    /* The real thing. */
    OK(adm->CRATON_RestoreToken(0, PIN(SO_PIN), PIN(PASS), b, n, 0));
    EQ(token_flags(0) & CKF_SO_PIN_COUNT_LOW, 0);
    char label[33];
    token_label(0, label);
    assert_string_equal(label, "round trip");
    RV(f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h), CKR_OK);
    RV(f->C_Login(h, CKU_USER, PIN(USER_PIN2)), CKR_PIN_INCORRECT);
    OK(f->C_Login(h, CKU_USER, PIN(USER_PIN))); /* the PIN of backup time */
    EQ(find(h, CKO_PRIVATE_KEY, "ec", NULL), 1);
    EQ(find(h, CKO_PUBLIC_KEY, "ec", NULL), 1);
    EQ(find(h, CKO_SECRET_KEY, "aes", NULL), 1);
    CK_OBJECT_HANDLE cert;
    EQ(find(h, CKO_CERTIFICATE, "cert", &cert), 1);
    CK_BYTE value[1024];
    CK_ATTRIBUTE v = {CKA_VALUE, value, sizeof(value)};
    OK(f->C_GetAttributeValue(h, cert, &v, 1));
    EQ(v.ulValueLen, sizeof(CERT));
    assert_memory_equal(value, CERT, sizeof(CERT));
    signs(h, &c);
    OK(f->C_CloseSession(h));

    /* And across a restart. */
    restart();
    h = login(0, CKU_USER, USER_PIN);
    EQ(find(h, CKO_SECRET_KEY, "aes", NULL), 1);
    signs(h, &c);
    OK(f->C_CloseSession(h));
    h = login(0, CKU_SO, SO_PIN);
    OK(f->C_CloseSession(h));
    OK(f->C_Finalize(NULL));
    char *log = audit_log();
    assert_non_null(strstr(log, "\"event\":\"token_backup\",\"slot\":0,"));
    assert_non_null(strstr(log, "\"detail\":\"backup of token 0000000000000001: 4 object records"));
    assert_non_null(strstr(log, "\"event\":\"token_restore\",\"slot\":0,\"detail\":\"backup of "
                                "token 0000000000000001 (slot 0): 4 object records\","
                                "\"result\":\"CKR_OK\""));
    assert_non_null(strstr(log, "\"result\":\"CKR_ENCRYPTED_DATA_INVALID\""));
    assert_false(contains(log, strlen(log), PASS, LEN(PASS)));
    free(log);
    free(b);
}

static void test_restore_into_wiped_slot(void **state)
{
    (void)state;
    struct content c;
    CK_ULONG n;
    OK(f->C_Initialize(NULL));
    init_token(0, "wiped", SO_PIN, USER_PIN);
    CK_SESSION_HANDLE h = login(0, CKU_USER, USER_PIN);
    generate(h, &c);
    OK(f->C_CloseSession(h));
    CK_BYTE *b = backup(0, SO_PIN, &n);
    OK(adm->CRATON_WipeToken(0));
    restart();
    EQ(token_flags(0) & CKF_TOKEN_INITIALIZED, 0);
    /* An empty slot takes the backup's SO PIN, which must match. */
    RV(adm->CRATON_RestoreToken(0, PIN(SO_PIN2), PIN(PASS), b, n, 0), CKR_PIN_INCORRECT);
    EQ(token_flags(0) & CKF_TOKEN_INITIALIZED, 0);
    OK(adm->CRATON_RestoreToken(0, PIN(SO_PIN), PIN(PASS), b, n, 0));
    CK_FLAGS fl = token_flags(0);
    EQ(fl & (CKF_TOKEN_INITIALIZED | CKF_USER_PIN_INITIALIZED),
       CKF_TOKEN_INITIALIZED | CKF_USER_PIN_INITIALIZED);
    h = login(0, CKU_USER, USER_PIN);
    signs(h, &c);
    EQ(find(h, CKO_SECRET_KEY, "aes", NULL), 1);
    OK(f->C_CloseSession(h));
    h = login(0, CKU_SO, SO_PIN);
    OK(f->C_CloseSession(h));
    free(b);
}

static void test_restore_other_token(void **state)
{
    (void)state;
    struct content c;
    CK_ULONG n;
    char label[33];
    config(TWO_SLOTS);
    OK(f->C_Initialize(NULL));
    init_token(0, "first", SO_PIN, USER_PIN);
    init_token(1, "second", SO_PIN2, USER_PIN2);
    CK_TOKEN_INFO ti0, ti1;
    OK(f->C_GetTokenInfo(0, &ti0));
    OK(f->C_GetTokenInfo(1, &ti1));
    assert_memory_not_equal(ti0.serialNumber, ti1.serialNumber, 16);
    CK_SESSION_HANDLE h = login(0, CKU_USER, USER_PIN);
    generate(h, &c);
    OK(f->C_CloseSession(h));
    CK_BYTE *b = backup(0, SO_PIN, &n);

    /* Slot 1 holds another token: refused, unchanged. */
    RV(adm->CRATON_RestoreToken(1, PIN(SO_PIN2), PIN(PASS), b, n, 0), CKR_TOKEN_NOT_RECOGNIZED);
    token_label(1, label);
    assert_string_equal(label, "second");
    RV(adm->CRATON_RestoreToken(1, PIN(SO_PIN2), PIN(PASS), b, n, 0x2), CKR_ARGUMENTS_BAD);
    /* Forced: slot 1's SO authorises it and stays its SO PIN. */
    RV(adm->CRATON_RestoreToken(1, PIN(SO_PIN), PIN(PASS), b, n, CRATON_RESTORE_FORCE),
       CKR_PIN_INCORRECT);
    OK(adm->CRATON_RestoreToken(1, PIN(SO_PIN2), PIN(PASS), b, n, CRATON_RESTORE_FORCE));
    token_label(1, label);
    assert_string_equal(label, "first");
    CK_TOKEN_INFO after;
    OK(f->C_GetTokenInfo(1, &after));
    assert_memory_equal(after.serialNumber, ti1.serialNumber, 16); /* the slot's own */
    /* The user PIN's wrapping names slot 0: the SO sets a new one. */
    EQ(after.flags & CKF_USER_PIN_INITIALIZED, 0);
    h = login(1, CKU_SO, SO_PIN2);
    OK(f->C_InitPIN(h, PIN(USER_PIN2)));
    OK(f->C_CloseSession(h));
    /* Re-sealed for slot 1: the private key opens and signs there. */
    restart();
    h = login(1, CKU_USER, USER_PIN2);
    signs(h, &c);
    EQ(find(h, CKO_SECRET_KEY, "aes", NULL), 1);
    OK(f->C_CloseSession(h));
    /* Slot 0 is untouched. */
    h = login(0, CKU_USER, USER_PIN);
    signs(h, &c);
    OK(f->C_CloseSession(h));
    OK(f->C_Finalize(NULL));
    char *log = audit_log(), want[256], serial[17];
    memcpy(serial, ti0.serialNumber, 16);
    serial[16] = '\0';
    for (int i = 15; i >= 0 && serial[i] == ' '; i--)
        serial[i] = '\0';
    snprintf(want, sizeof(want),
             "\"event\":\"token_restore\",\"slot\":1,\"detail\":\"backup of token %s (slot 0): 4 "
             "object records; forced; user PIN not restored\",\"result\":\"CKR_OK\"",
             serial);
    assert_non_null(strstr(log, want));
    assert_non_null(strstr(log, "\"result\":\"CKR_TOKEN_NOT_RECOGNIZED\""));
    free(log);
    free(b);
}

/* ---- argument errors ---------------------------------------------------- */

static void test_arguments(void **state)
{
    (void)state;
    CK_BYTE buf[16] = {0};
    CK_ULONG n = sizeof(buf);
    /* Before C_Initialize. */
    RV(adm->CRATON_WipeToken(0), CKR_CRYPTOKI_NOT_INITIALIZED);
    RV(adm->CRATON_BackupToken(1, PIN(PASS), NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
    RV(adm->CRATON_RestoreToken(0, PIN(SO_PIN), PIN(PASS), buf, n, 0),
       CKR_CRYPTOKI_NOT_INITIALIZED);
    RV(adm->CRATON_SelfTest(NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);

    OK(f->C_Initialize(NULL));
    init_token(0, "args", SO_PIN, USER_PIN);
    CK_SESSION_HANDLE h = login(0, CKU_SO, SO_PIN);
    RV(adm->CRATON_BackupToken(h, NULL, 8, NULL, &n), CKR_ARGUMENTS_BAD);
    RV(adm->CRATON_BackupToken(h, PIN(PASS), NULL, NULL), CKR_ARGUMENTS_BAD);
    RV(adm->CRATON_BackupToken(h + 100, PIN(PASS), NULL, &n), CKR_SESSION_HANDLE_INVALID);
    RV(adm->CRATON_BackupToken(h, (CK_UTF8CHAR_PTR)PASS, 7, NULL, &n), CKR_PIN_LEN_RANGE);
    OK(adm->CRATON_BackupToken(h, (CK_UTF8CHAR_PTR)PASS, 8, NULL, &n));
    OK(f->C_CloseSession(h));
    RV(adm->CRATON_RestoreToken(0, NULL, 0, PIN(PASS), buf, n, 0), CKR_ARGUMENTS_BAD);
    RV(adm->CRATON_RestoreToken(0, PIN(SO_PIN), NULL, 0, buf, n, 0), CKR_ARGUMENTS_BAD);
    RV(adm->CRATON_RestoreToken(0, PIN(SO_PIN), PIN(PASS), NULL, 0, 0), CKR_ARGUMENTS_BAD);
    RV(adm->CRATON_RestoreToken(7, PIN(SO_PIN), PIN(PASS), buf, sizeof(buf), 0),
       CKR_SLOT_ID_INVALID);
    RV(adm->CRATON_WipeToken(7), CKR_SLOT_ID_INVALID);
    RV(adm->CRATON_ConfigCheck(NULL, NULL, NULL, NULL, 0), CKR_ARGUMENTS_BAD);
    RV(adm->CRATON_ConfigCheck(NULL, NULL, &n, NULL, 5), CKR_ARGUMENTS_BAD);
    /* The token is as it was. */
    h = login(0, CKU_USER, USER_PIN);
    OK(f->C_CloseSession(h));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_interface, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_error_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selftest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wipe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wipe_memory_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backup_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_into_wiped_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_other_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arguments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
