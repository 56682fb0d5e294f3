/*
 * The module through its real ABI: dlopen the built libcraton_hsm.so, take
 * the 3.2 function list from C_GetInterface and call it as an application.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "abi_util.h"

#define SO_PIN   "12345678"
#define USER_PIN "87654321"
#define NEW_PIN  "24681357"
#define LEN(s)   ((CK_ULONG)(sizeof(s) - 1))
#define PIN(s)   (CK_UTF8CHAR_PTR)(s), LEN(s)

static CK_UTF8CHAR label32[32] = "Quickstart HSM                  ";

struct fixture {
    struct abi a;
};

static int setup_cfg(void **state, const char *cfg)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (fx == NULL)
        return -1;
    if (abi_scratch(&fx->a, cfg) != 0 || abi_open(&fx->a) != 0) {
        abi_close(&fx->a);
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int setup(void **state)
{
    return setup_cfg(state, ABI_FAST_CONFIG "max_failed_logins = 3\n");
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    if (fx->a.f != NULL)
        fx->a.f->C_Finalize(NULL);
    abi_close(&fx->a);
    abi_rm_scratch(&fx->a);
    free(fx);
    return 0;
}

static CK_FUNCTION_LIST_3_2 *F(void **state)
{
    return ((struct fixture *)*state)->a.f;
}

/* C_Initialize + C_InitToken + SO sets the user PIN; returns nothing open. */
static void init_token_with_user(CK_FUNCTION_LIST_3_2 *f)
{
    CK_SESSION_HANDLE h;
    assert_int_equal(f->C_Initialize(NULL), CKR_OK);
    assert_int_equal(f->C_InitToken(0, PIN(SO_PIN), label32), CKR_OK);
    assert_int_equal(f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h),
                     CKR_OK);
    assert_int_equal(f->C_Login(h, CKU_SO, PIN(SO_PIN)), CKR_OK);
    assert_int_equal(f->C_InitPIN(h, PIN(USER_PIN)), CKR_OK);
    assert_int_equal(f->C_CloseSession(h), CKR_OK);
}

static CK_SESSION_HANDLE open_rw(CK_FUNCTION_LIST_3_2 *f)
{
    CK_SESSION_HANDLE h = 0;
    assert_int_equal(f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h),
                     CKR_OK);
    return h;
}

static CK_STATE state_of(CK_FUNCTION_LIST_3_2 *f, CK_SESSION_HANDLE h)
{
    CK_SESSION_INFO si;
    assert_int_equal(f->C_GetSessionInfo(h, &si), CKR_OK);
    return si.state;
}

static CK_FLAGS token_flags(CK_FUNCTION_LIST_3_2 *f, CK_SLOT_ID slot)
{
    CK_TOKEN_INFO ti;
    assert_int_equal(f->C_GetTokenInfo(slot, &ti), CKR_OK);
    return ti.flags;
}

static void test_interface_list(void **state)
{
    struct fixture *fx = *state;
    CK_C_GetInterfaceList gil = (CK_C_GetInterfaceList)dlsym(fx->a.dl, "C_GetInterfaceList");
    assert_non_null(gil);
    CK_ULONG n = 0;
    assert_int_equal(gil(NULL, NULL), CKR_ARGUMENTS_BAD);
    assert_int_equal(gil(NULL, &n), CKR_OK);
    assert_int_equal(n, 4);
    CK_INTERFACE list[4];
    CK_ULONG small = 1;
    assert_int_equal(gil(list, &small), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(small, 4);
    assert_int_equal(gil(list, &n), CKR_OK);
    /* The PKCS#11 lists newest first, then the vendor interface
     * (include/craton/craton_admin.h). */
    static const char *names[4] = {"PKCS 11", "PKCS 11", "PKCS 11", "Craton HSM Admin"};
    static const CK_BYTE want[4][2] = {{3, 2}, {3, 0}, {2, 40}, {1, 0}};
    for (int i = 0; i < 4; i++) {
        CK_VERSION *v = list[i].pFunctionList;
        assert_string_equal((char *)list[i].pInterfaceName, names[i]);
        assert_int_equal(v->major, want[i][0]);
        assert_int_equal(v->minor, want[i][1]);
        assert_int_equal(list[i].flags, 0);
    }
}

static void test_get_interface(void **state)
{
    struct fixture *fx = *state;
    CK_C_GetInterface gi = (CK_C_GetInterface)dlsym(fx->a.dl, "C_GetInterface");
    CK_INTERFACE_PTR itf = NULL;
    CK_VERSION v30 = {3, 0}, v240 = {2, 40}, v99 = {9, 9};
    assert_int_equal(gi(NULL, NULL, NULL, 0), CKR_ARGUMENTS_BAD);
    assert_int_equal(gi((CK_UTF8CHAR_PTR) "PKCS 11", NULL, &itf, 0), CKR_OK);
    assert_int_equal(((CK_VERSION *)itf->pFunctionList)->minor, 2);
    assert_int_equal(gi(NULL, &v30, &itf, 0), CKR_OK);
    assert_int_equal(((CK_VERSION *)itf->pFunctionList)->major, 3);
    assert_int_equal(((CK_VERSION *)itf->pFunctionList)->minor, 0);
    assert_int_equal(gi(NULL, &v240, &itf, 0), CKR_OK);
    assert_int_equal(((CK_VERSION *)itf->pFunctionList)->minor, 40);
    assert_int_equal(gi(NULL, &v99, &itf, 0), CKR_ARGUMENTS_BAD);
    /* A NULL name means "PKCS 11": the vendor interface's 1.0 is not found. */
    CK_VERSION v10 = {1, 0};
    assert_int_equal(gi(NULL, &v10, &itf, 0), CKR_ARGUMENTS_BAD);
    assert_int_equal(gi((CK_UTF8CHAR_PTR) "Craton HSM Admin", &v10, &itf, 0), CKR_OK);
    assert_int_equal(gi((CK_UTF8CHAR_PTR) "Vendor X", NULL, &itf, 0), CKR_ARGUMENTS_BAD);
    assert_int_equal(gi(NULL, NULL, &itf, CKF_INTERFACE_FORK_SAFE), CKR_ARGUMENTS_BAD);
}

/* Every slot of every list is filled, and the shorter lists are prefixes of
 * the 3.2 one (one table). */
static void test_function_lists(void **state)
{
    struct fixture *fx = *state;
    void **p32 = (void **)((char *)fx->a.f + offsetof(CK_FUNCTION_LIST_3_2, C_Initialize));
    for (int i = 0; i < 104; i++)
        assert_non_null(p32[i]);
    CK_C_GetInterface gi = (CK_C_GetInterface)dlsym(fx->a.dl, "C_GetInterface");
    CK_VERSION v30 = {3, 0};
    CK_INTERFACE_PTR itf;
    assert_int_equal(gi(NULL, &v30, &itf, 0), CKR_OK);
    void **p30 =
        (void **)((char *)itf->pFunctionList + offsetof(CK_FUNCTION_LIST_3_0, C_Initialize));
    for (int i = 0; i < 92; i++)
        assert_ptr_equal(p30[i], p32[i]);
    CK_C_GetFunctionList gfl = (CK_C_GetFunctionList)dlsym(fx->a.dl, "C_GetFunctionList");
    CK_FUNCTION_LIST_PTR l = NULL;
    assert_int_equal(gfl(NULL), CKR_ARGUMENTS_BAD);
    assert_int_equal(gfl(&l), CKR_OK);
    assert_int_equal(l->version.major, 2);
    assert_int_equal(l->version.minor, 40);
    void **p24 = (void **)((char *)l + offsetof(CK_FUNCTION_LIST, C_Initialize));
    for (int i = 0; i < 68; i++)
        assert_ptr_equal(p24[i], p32[i]);
}

static void test_not_initialized(void **state)
{
    CK_FUNCTION_LIST_3_2 *f = F(state);
    CK_INFO info;
    CK_ULONG n;
    CK_SESSION_HANDLE h;
    CK_TOKEN_INFO ti;
    CK_BYTE buf[8];
    assert_int_equal(f->C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(f->C_GetSlotList(CK_FALSE, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(f->C_GetTokenInfo(0, &ti), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(f->C_InitToken(0, PIN(SO_PIN), label32), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &h),
                     CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(f->C_Login(1, CKU_USER, PIN(USER_PIN)), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(f->C_GenerateRandom(1, buf, sizeof(buf)), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(f->C_EncryptInit(1, NULL, 0), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(f->C_EncapsulateKey(1, NULL, 0, NULL, 0, NULL, NULL, NULL),
                     CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(f->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
}

static CK_RV dummy_mutex(CK_VOID_PTR_PTR m)
{
    (void)m;
    return CKR_OK;
}

static CK_RV dummy_mutex1(CK_VOID_PTR m)
{
    (void)m;
    return CKR_OK;
}

static void test_initialize_args(void **state)
{
    CK_FUNCTION_LIST_3_2 *f = F(state);
    CK_C_INITIALIZE_ARGS args = {0};
    int reserved;
    args.pReserved = &reserved;
    assert_int_equal(f->C_Initialize(&args), CKR_ARGUMENTS_BAD);
    args.pReserved = NULL;
    args.CreateMutex = dummy_mutex;
    assert_int_equal(f->C_Initialize(&args), CKR_ARGUMENTS_BAD); /* partial set */
    args.DestroyMutex = dummy_mutex1;
    args.LockMutex = dummy_mutex1;
    args.UnlockMutex = dummy_mutex1;
    assert_int_equal(f->C_Initialize(&args), CKR_CANT_LOCK);
    args.flags = CKF_OS_LOCKING_OK;
    assert_int_equal(f->C_Initialize(&args), CKR_OK);
    assert_int_equal(f->C_Initialize(NULL), CKR_CRYPTOKI_ALREADY_INITIALIZED);
    assert_int_equal(f->C_Finalize(&reserved), CKR_ARGUMENTS_BAD);
    assert_int_equal(f->C_Finalize(NULL), CKR_OK);
    assert_int_equal(f->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
    CK_C_INITIALIZE_ARGS os = {.flags = CKF_OS_LOCKING_OK};
    assert_int_equal(f->C_Initialize(&os), CKR_OK);
}

static void test_get_info(void **state)
{
    CK_FUNCTION_LIST_3_2 *f = F(state);
    CK_INFO info;
    assert_int_equal(f->C_Initialize(NULL), CKR_OK);
    assert_int_equal(f->C_GetInfo(NULL), CKR_ARGUMENTS_BAD);
    assert_int_equal(f->C_GetInfo(&info), CKR_OK);
    assert_int_equal(info.cryptokiVersion.major, 3);
    assert_int_equal(info.cryptokiVersion.minor, 2);
    assert_int_equal(info.flags, 0);
    assert_memory_equal(info.manufacturerID, "Craton HSM Project              ", 32);
}

static void test_slots(void **state)
{
    CK_FUNCTION_LIST_3_2 *f = F(state);
    CK_ULONG n = 0;
    CK_SLOT_ID slots[4];
    CK_SLOT_INFO si;
    assert_int_equal(f->C_Initialize(NULL), CKR_OK);
    assert_int_equal(f->C_GetSlotList(CK_TRUE, NULL, NULL), CKR_ARGUMENTS_BAD);
    assert_int_equal(f->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(f->C_GetSlotList(CK_FALSE, slots, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 1);
    assert_int_equal(f->C_GetSlotList(CK_FALSE, slots, &n), CKR_OK);
    assert_int_equal(slots[0], 0);
    assert_int_equal(f->C_GetSlotInfo(0, &si), CKR_OK);
    assert_true(si.flags & CKF_TOKEN_PRESENT);
    assert_int_equal(f->C_GetSlotInfo(1, &si), CKR_SLOT_ID_INVALID);
    assert_int_equal(f->C_GetSlotInfo(0, NULL), CKR_ARGUMENTS_BAD);
}

static void test_fresh_token(void **state)
{
    CK_FUNCTION_LIST_3_2 *f = F(state);
    CK_TOKEN_INFO ti;
    CK_SESSION_HANDLE h;
    assert_int_equal(f->C_Initialize(NULL), CKR_OK);
    assert_int_equal(f->C_GetTokenInfo(0, &ti), CKR_OK);
    assert_false(ti.flags & CKF_TOKEN_INITIALIZED);
    assert_false(ti.flags & CKF_USER_PIN_INITIALIZED);
    assert_true(ti.flags & CKF_LOGIN_REQUIRED);
    assert_int_equal(ti.ulMinPinLen, 8);
    assert_int_equal(ti.ulMaxPinLen, 64);
    assert_int_equal(ti.ulMaxSessionCount, 100);
    assert_int_equal(ti.ulMaxRwSessionCount, 10);
    assert_int_equal(ti.ulTotalPublicMemory, CK_UNAVAILABLE_INFORMATION);
    assert_memory_equal(ti.serialNumber, "0000000000000001", 16);
    assert_int_equal(f->C_GetTokenInfo(7, &ti), CKR_SLOT_ID_INVALID);
    /* An uninitialised token accepts no session, so no login. */
    assert_int_equal(f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &h),
                     CKR_TOKEN_NOT_RECOGNIZED);
}

static void test_walkthrough(void **state)
{
    CK_FUNCTION_LIST_3_2 *f = F(state);
    CK_TOKEN_INFO ti;
    init_token_with_user(f);
    assert_int_equal(f->C_GetTokenInfo(0, &ti), CKR_OK);
    assert_memory_equal(ti.label, label32, 32);
    assert_true(ti.flags & CKF_TOKEN_INITIALIZED);
    assert_true(ti.flags & CKF_USER_PIN_INITIALIZED);

    CK_SESSION_HANDLE h = open_rw(f);
    assert_int_equal(state_of(f, h), CKS_RW_PUBLIC_SESSION);
    assert_int_equal(f->C_Login(h, CKU_USER, PIN("wrongpin")), CKR_PIN_INCORRECT);
    assert_true(token_flags(f, 0) & CKF_USER_PIN_COUNT_LOW);
    assert_int_equal(f->C_Login(h, CKU_USER, PIN(USER_PIN)), CKR_OK);
    assert_false(token_flags(f, 0) & CKF_USER_PIN_COUNT_LOW);
    assert_int_equal(state_of(f, h), CKS_RW_USER_FUNCTIONS);
    assert_int_equal(f->C_Login(h, CKU_USER, PIN(USER_PIN)), CKR_USER_ALREADY_LOGGED_IN);
    assert_int_equal(f->C_Login(h, CKU_SO, PIN(SO_PIN)), CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
    assert_int_equal(f->C_SetPIN(h, PIN(USER_PIN), PIN("short")), CKR_PIN_LEN_RANGE);
    assert_int_equal(f->C_SetPIN(h, PIN("wrongpin"), PIN(NEW_PIN)), CKR_PIN_INCORRECT);
    assert_int_equal(f->C_SetPIN(h, PIN(USER_PIN), PIN(NEW_PIN)), CKR_OK);
    assert_int_equal(f->C_Logout(h), CKR_OK);
    assert_int_equal(f->C_Logout(h), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(f->C_Login(h, CKU_USER, PIN(USER_PIN)), CKR_PIN_INCORRECT);
    assert_int_equal(f->C_Login(h, CKU_USER, PIN(NEW_PIN)), CKR_OK);
    assert_int_equal(f->C_Logout(h), CKR_OK);
    /* SO resets the user PIN; the SO's session is R/W SO. */
    assert_int_equal(f->C_Login(h, CKU_SO, PIN(SO_PIN)), CKR_OK);
    assert_int_equal(state_of(f, h), CKS_RW_SO_FUNCTIONS);
    assert_int_equal(f->C_InitPIN(h, PIN("11223344")), CKR_OK);
    assert_int_equal(f->C_Logout(h), CKR_OK);
    assert_int_equal(f->C_InitPIN(h, PIN("11223344")), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(f->C_Login(h, CKU_USER, PIN("11223344")), CKR_OK);
    assert_int_equal(f->C_CloseSession(h), CKR_OK);

    /* Everything persisted: a restart keeps the token and the new PIN. */
    assert_int_equal(f->C_Finalize(NULL), CKR_OK);
    assert_int_equal(f->C_Initialize(NULL), CKR_OK);
    h = open_rw(f);
    assert_int_equal(f->C_Login(h, CKU_USER, PIN("11223344")), CKR_OK);
}

static void test_session_rules(void **state)
{
    CK_FUNCTION_LIST_3_2 *f = F(state);
    CK_SESSION_HANDLE ro, rw, h;
    CK_SESSION_INFO si;
    init_token_with_user(f);
    assert_int_equal(f->C_OpenSession(0, CKF_RW_SESSION, NULL, NULL, &h),
                     CKR_SESSION_PARALLEL_NOT_SUPPORTED);
    assert_int_equal(f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, NULL), CKR_ARGUMENTS_BAD);
    assert_int_equal(f->C_OpenSession(5, CKF_SERIAL_SESSION, NULL, NULL, &h), CKR_SLOT_ID_INVALID);
    assert_int_equal(f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &ro), CKR_OK);
    rw = open_rw(f);
    assert_int_not_equal(ro, rw);
    assert_int_equal(f->C_GetSessionInfo(ro, &si), CKR_OK);
    assert_int_equal(si.state, CKS_RO_PUBLIC_SESSION);
    assert_int_equal(si.flags, CKF_SERIAL_SESSION);
    assert_int_equal(f->C_GetSessionInfo(rw, NULL), CKR_ARGUMENTS_BAD);
    assert_int_equal(f->C_GetSessionInfo(0, &si), CKR_SESSION_HANDLE_INVALID);
    /* SO login refused while an R/O session exists. */
    assert_int_equal(f->C_Login(rw, CKU_SO, PIN(SO_PIN)), CKR_SESSION_READ_ONLY_EXISTS);
    assert_int_equal(f->C_Login(rw, 99, PIN(SO_PIN)), CKR_USER_TYPE_INVALID);
    assert_int_equal(f->C_Login(rw, CKU_USER, NULL, 4), CKR_ARGUMENTS_BAD);
    /* Login is per application: every session sees it. */
    assert_int_equal(f->C_Login(ro, CKU_USER, PIN(USER_PIN)), CKR_OK);
    assert_int_equal(state_of(f, ro), CKS_RO_USER_FUNCTIONS);
    assert_int_equal(state_of(f, rw), CKS_RW_USER_FUNCTIONS);
    assert_int_equal(f->C_SetPIN(ro, PIN(USER_PIN), PIN(NEW_PIN)), CKR_SESSION_READ_ONLY);
    /* Closing the last session logs out. */
    assert_int_equal(f->C_CloseSession(ro), CKR_OK);
    assert_int_equal(f->C_CloseSession(ro), CKR_SESSION_HANDLE_INVALID);
    assert_int_equal(state_of(f, rw), CKS_RW_USER_FUNCTIONS);
    assert_int_equal(f->C_CloseAllSessions(0), CKR_OK);
    assert_int_equal(f->C_CloseAllSessions(3), CKR_SLOT_ID_INVALID);
    assert_int_equal(f->C_GetSessionInfo(rw, &si), CKR_SESSION_HANDLE_INVALID);
    rw = open_rw(f);
    assert_int_equal(state_of(f, rw), CKS_RW_PUBLIC_SESSION);
    /* R/O sessions are refused while the SO is logged in. */
    assert_int_equal(f->C_Login(rw, CKU_SO, PIN(SO_PIN)), CKR_OK);
    assert_int_equal(f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &h),
                     CKR_SESSION_READ_WRITE_SO_EXISTS);
}

static void test_session_limits(void **state)
{
    CK_FUNCTION_LIST_3_2 *f = F(state);
    CK_SESSION_HANDLE h[11];
    CK_TOKEN_INFO ti;
    init_token_with_user(f);
    for (int i = 0; i < 10; i++)
        h[i] = open_rw(f);
    assert_int_equal(f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h[10]),
                     CKR_SESSION_COUNT);
    assert_int_equal(f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &h[10]), CKR_OK);
    assert_int_equal(f->C_GetTokenInfo(0, &ti), CKR_OK);
    assert_int_equal(ti.ulSessionCount, 11);
    assert_int_equal(ti.ulRwSessionCount, 10);
}

static void test_init_token_rules(void **state)
{
    CK_FUNCTION_LIST_3_2 *f = F(state);
    CK_UTF8CHAR other[32];
    memset(other, ' ', sizeof(other));
    memcpy(other, "Second", 6);
    init_token_with_user(f);
    assert_int_equal(f->C_InitToken(0, NULL, 0, label32), CKR_ARGUMENTS_BAD);
    assert_int_equal(f->C_InitToken(0, PIN(SO_PIN), NULL), CKR_ARGUMENTS_BAD);
    assert_int_equal(f->C_InitToken(9, PIN(SO_PIN), label32), CKR_SLOT_ID_INVALID);
    CK_SESSION_HANDLE h = open_rw(f);
    assert_int_equal(f->C_InitToken(0, PIN(SO_PIN), other), CKR_SESSION_EXISTS);
    assert_int_equal(f->C_CloseSession(h), CKR_OK);
    /* A wrong SO PIN destroys nothing. */
    assert_int_equal(f->C_InitToken(0, PIN("99999999"), other), CKR_PIN_INCORRECT);
    assert_true(token_flags(f, 0) & CKF_USER_PIN_INITIALIZED);
    h = open_rw(f);
    assert_int_equal(f->C_Login(h, CKU_USER, PIN(USER_PIN)), CKR_OK);
    assert_int_equal(f->C_CloseSession(h), CKR_OK);
    /* The right one re-initialises: new label, no user PIN. */
    assert_int_equal(f->C_InitToken(0, PIN(SO_PIN), other), CKR_OK);
    CK_TOKEN_INFO ti;
    assert_int_equal(f->C_GetTokenInfo(0, &ti), CKR_OK);
    assert_memory_equal(ti.label, other, 32);
    assert_false(ti.flags & CKF_USER_PIN_INITIALIZED);
    h = open_rw(f);
    assert_int_equal(f->C_Login(h, CKU_USER, PIN(USER_PIN)), CKR_USER_PIN_NOT_INITIALIZED);
}

static void test_so_lockout(void **state)
{
    CK_FUNCTION_LIST_3_2 *f = F(state);
    init_token_with_user(f);
    CK_SESSION_HANDLE h = open_rw(f);
    assert_int_equal(f->C_Login(h, CKU_SO, PIN("00000000")), CKR_PIN_INCORRECT);
    assert_int_equal(f->C_Login(h, CKU_SO, PIN("00000000")), CKR_PIN_INCORRECT);
    assert_true(token_flags(f, 0) & CKF_SO_PIN_FINAL_TRY);
    assert_int_equal(f->C_Login(h, CKU_SO, PIN("00000000")), CKR_PIN_LOCKED);
    assert_true(token_flags(f, 0) & CKF_SO_PIN_LOCKED);
    assert_int_equal(f->C_Login(h, CKU_SO, PIN(SO_PIN)), CKR_PIN_LOCKED);
    assert_int_equal(f->C_CloseSession(h), CKR_OK);
    /* Only re-initialisation could cure it, and that needs the SO PIN. */
    assert_int_equal(f->C_InitToken(0, PIN(SO_PIN), label32), CKR_PIN_LOCKED);
    /* The user is unaffected. */
    h = open_rw(f);
    assert_int_equal(f->C_Login(h, CKU_USER, PIN(USER_PIN)), CKR_OK);
}

/* The failure counter is on disk before the PIN is checked, so a restart
 * (or a kill mid-login) cannot reset it. */
static void test_lockout_survives_restart(void **state)
{
    CK_FUNCTION_LIST_3_2 *f = F(state);
    init_token_with_user(f);
    for (int i = 0; i < 2; i++) {
        CK_SESSION_HANDLE h = open_rw(f);
        assert_int_equal(f->C_Login(h, CKU_USER, PIN("wrongpin")), CKR_PIN_INCORRECT);
        assert_int_equal(f->C_Finalize(NULL), CKR_OK);
        assert_int_equal(f->C_Initialize(NULL), CKR_OK);
    }
    assert_true(token_flags(f, 0) & CKF_USER_PIN_FINAL_TRY);
    CK_SESSION_HANDLE h = open_rw(f);
    assert_int_equal(f->C_Login(h, CKU_USER, PIN("wrongpin")), CKR_PIN_LOCKED);
    assert_int_equal(f->C_Finalize(NULL), CKR_OK);
    assert_int_equal(f->C_Initialize(NULL), CKR_OK);
    assert_true(token_flags(f, 0) & CKF_USER_PIN_LOCKED);
    h = open_rw(f);
    assert_int_equal(f->C_Login(h, CKU_USER, PIN(USER_PIN)), CKR_PIN_LOCKED);
    /* The SO resets it. */
    assert_int_equal(f->C_Login(h, CKU_SO, PIN(SO_PIN)), CKR_OK);
    assert_int_equal(f->C_InitPIN(h, PIN(NEW_PIN)), CKR_OK);
    assert_false(token_flags(f, 0) & CKF_USER_PIN_LOCKED);
    assert_int_equal(f->C_Logout(h), CKR_OK);
    assert_int_equal(f->C_Login(h, CKU_USER, PIN(NEW_PIN)), CKR_OK);
}

/* What stays unsupported: the legacy parallel functions and asynchronous
 * sessions.  The mechanisms
 * have their own tests (test_mech*.c). */
static void test_unsupported_functions(void **state)
{
    CK_FUNCTION_LIST_3_2 *f = F(state);
    init_token_with_user(f);
    CK_SESSION_HANDLE h = open_rw(f);
    CK_MECHANISM m = {CKM_SHA256, NULL, 0};
    CK_ULONG n = 0;
    assert_int_equal(f->C_DigestInit(h + 1000, &m), CKR_SESSION_HANDLE_INVALID);
    assert_int_equal(f->C_EncapsulateKey(h, &m, 1, NULL, 0, NULL, &n, NULL),
                     CKR_MECHANISM_INVALID); /* SHA-256 is no KEM */
    assert_int_equal(f->C_GetFunctionStatus(h), CKR_FUNCTION_NOT_PARALLEL);
    assert_int_equal(f->C_CancelFunction(h), CKR_FUNCTION_NOT_PARALLEL);
    CK_SLOT_ID slot;
    assert_int_equal(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL), CKR_NO_EVENT);
    assert_int_equal(f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_ASYNC_SESSION, NULL, NULL, &h),
                     CKR_FUNCTION_NOT_SUPPORTED);
}

static void test_generate_random(void **state)
{
    CK_FUNCTION_LIST_3_2 *f = F(state);
    init_token_with_user(f);
    CK_SESSION_HANDLE h = open_rw(f);
    CK_BYTE a[64] = {0}, b[64] = {0}, zero[64] = {0};
    assert_int_equal(f->C_GenerateRandom(h, NULL, 8), CKR_ARGUMENTS_BAD);
    assert_int_equal(f->C_GenerateRandom(h, a, 0), CKR_OK);
    assert_int_equal(f->C_GenerateRandom(h, a, sizeof(a)), CKR_OK);
    assert_int_equal(f->C_GenerateRandom(h, b, sizeof(b)), CKR_OK);
    assert_memory_not_equal(a, zero, sizeof(a));
    assert_memory_not_equal(a, b, sizeof(a));
}

static void test_bad_config(void **state)
{
    CK_FUNCTION_LIST_3_2 *f = F(state);
    struct fixture *fx = *state;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/craton_hsm.toml", fx->a.dir);
    FILE *c = fopen(path, "w");
    assert_non_null(c);
    fputs("[token]\nstorage_path = \"/etc/evil\"\n", c);
    fclose(c);
    CK_ULONG n;
    assert_int_equal(f->C_Initialize(NULL), CKR_GENERAL_ERROR);
    assert_int_equal(f->C_GetSlotList(CK_FALSE, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
    /* A missing explicitly-named file is an error too, not silent defaults. */
    setenv("CRATON_HSM_CONFIG", "/nonexistent/craton_hsm.toml", 1);
    assert_int_equal(f->C_Initialize(NULL), CKR_GENERAL_ERROR);
}

static void test_host_openssl_conf_ignored(void **state)
{
    CK_FUNCTION_LIST_3_2 *f = F(state);
    FILE *c = fopen("bad-openssl.cnf", "w");
    assert_non_null(c);
    fputs("this is [[[ not an openssl config\nopenssl_conf = nowhere\n", c);
    fclose(c);
    setenv("OPENSSL_CONF", "bad-openssl.cnf", 1);
    init_token_with_user(f);
    unsetenv("OPENSSL_CONF");
}

static void test_memory_only(void **state)
{
    struct fixture *fx = *state;
    CK_FUNCTION_LIST_3_2 *f = F(state);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/craton_hsm.toml", fx->a.dir);
    FILE *c = fopen(path, "w");
    fputs("[token]\npersist_objects = false\n" ABI_FAST_CONFIG, c);
    fclose(c);
    init_token_with_user(f);
    struct stat st;
    assert_int_equal(stat("craton_hsm_store", &st), -1);
    assert_int_equal(f->C_Finalize(NULL), CKR_OK);
    assert_int_equal(f->C_Initialize(NULL), CKR_OK);
    assert_false(token_flags(f, 0) & CKF_TOKEN_INITIALIZED);
}

static void test_storage_layout(void **state)
{
    struct fixture *fx = *state;
    CK_FUNCTION_LIST_3_2 *f = F(state);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/craton_hsm.toml", fx->a.dir);
    FILE *c = fopen(path, "w");
    fputs("[token]\nslot_count = 2\nstorage_path = \"data/store\"\n" ABI_FAST_CONFIG, c);
    fclose(c);
    assert_int_equal(f->C_Initialize(NULL), CKR_OK);
    assert_int_equal(f->C_InitToken(1, PIN(SO_PIN), label32), CKR_OK);
    assert_false(token_flags(f, 0) & CKF_TOKEN_INITIALIZED);
    assert_true(token_flags(f, 1) & CKF_TOKEN_INITIALIZED);
    CK_TOKEN_INFO t0, t1;
    assert_int_equal(f->C_GetTokenInfo(0, &t0), CKR_OK);
    assert_int_equal(f->C_GetTokenInfo(1, &t1), CKR_OK);
    assert_memory_not_equal(t0.serialNumber, t1.serialNumber, 16);
    struct stat st;
    static const char *dirs[] = {"data/store", "data/store/slot-0", "data/store/slot-1"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(stat(dirs[i], &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
    }
    static const char *files[] = {"data/store/craton_hsm.lock", "data/store/slot-0/token.db",
                                  "data/store/slot-1/token.db"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(stat(files[i], &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
    }
}

/* After fork() the child sees CKR_CRYPTOKI_NOT_INITIALIZED until it calls
 * C_Initialize, which then succeeds; the parent is unaffected. */
static void test_fork_child(void **state)
{
    CK_FUNCTION_LIST_3_2 *f = F(state);
    init_token_with_user(f);
    CK_SESSION_HANDLE h = open_rw(f);
    assert_int_equal(f->C_Login(h, CKU_USER, PIN(USER_PIN)), CKR_OK);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        CK_ULONG n;
        CK_SESSION_INFO si;
        int bad = 0;
        bad |= f->C_GetSlotList(CK_FALSE, NULL, &n) != CKR_CRYPTOKI_NOT_INITIALIZED;
        bad |= (f->C_GetSessionInfo(h, &si) != CKR_CRYPTOKI_NOT_INITIALIZED) << 1;
        bad |= (f->C_Finalize(NULL) != CKR_CRYPTOKI_NOT_INITIALIZED) << 2;
        bad |= (f->C_Initialize(NULL) != CKR_OK) << 3;
        bad |= (f->C_GetSessionInfo(h, &si) != CKR_SESSION_HANDLE_INVALID) << 4;
        CK_SESSION_HANDLE ch;
        bad |= (f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &ch) != CKR_OK)
               << 5;
        bad |= (f->C_Login(ch, CKU_USER, PIN(USER_PIN)) != CKR_OK) << 6;
        bad |= (f->C_Finalize(NULL) != CKR_OK) << 7;
        _exit(bad);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(state_of(f, h), CKS_RW_USER_FUNCTIONS);
}

/* Another process using the same storage_path is refused, and told who
 * holds it. */
static void test_second_process_refused(void **state)
{
    CK_FUNCTION_LIST_3_2 *f = F(state);
    int go[2], err[2];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(err), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char c;
        close(go[1]);
        dup2(err[1], STDERR_FILENO);
        if (read(go[0], &c, 1) != 1)
            _exit(10);
        _exit(f->C_Initialize(NULL) == CKR_GENERAL_ERROR ? 0 : 11);
    }
    close(err[1]);
    assert_int_equal(f->C_Initialize(NULL), CKR_OK);
    assert_int_equal(write(go[1], "x", 1), 1);
    char msg[1024] = "";
    ssize_t got = 0, r;
    while ((r = read(err[0], msg + got, sizeof(msg) - 1 - (size_t)got)) > 0)
        got += r;
    msg[got] = '\0';
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(WEXITSTATUS(status), 0);
    char ourpid[32];
    snprintf(ourpid, sizeof(ourpid), "PID %ld", (long)getpid());
    assert_non_null(strstr(msg, "craton_hsm.lock"));
    assert_non_null(strstr(msg, ourpid));
    close(go[0]);
    close(go[1]);
    close(err[0]);
}

/* dlclose without C_Finalize, then load again: the unload destructor has
 * released everything, the lock included. */
static void test_reload_without_finalize(void **state)
{
    struct fixture *fx = *state;
    init_token_with_user(fx->a.f);
    abi_close(&fx->a);
    assert_int_equal(abi_open(&fx->a), 0);
    CK_FUNCTION_LIST_3_2 *f = fx->a.f;
    assert_int_equal(f->C_Initialize(NULL), CKR_OK);
    CK_SESSION_HANDLE h = open_rw(f);
    assert_int_equal(f->C_Login(h, CKU_USER, PIN(USER_PIN)), CKR_OK);
}

#define THREADS 8
#define ROUNDS  200

static void *session_churn(void *arg)
{
    CK_FUNCTION_LIST_3_2 *f = arg;
    for (int i = 0; i < ROUNDS; i++) {
        CK_SESSION_HANDLE h;
        CK_SESSION_INFO si;
        CK_BYTE r[16];
        if (f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &h) != CKR_OK)
            return (void *)1;
        if (f->C_GetSessionInfo(h, &si) != CKR_OK || si.state != CKS_RO_USER_FUNCTIONS)
            return (void *)2;
        if (f->C_GenerateRandom(h, r, sizeof(r)) != CKR_OK)
            return (void *)3;
        if (f->C_CloseSession(h) != CKR_OK)
            return (void *)4;
    }
    return NULL;
}

static void test_threads(void **state)
{
    CK_FUNCTION_LIST_3_2 *f = F(state);
    init_token_with_user(f);
    CK_SESSION_HANDLE keep;
    assert_int_equal(f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &keep), CKR_OK);
    assert_int_equal(f->C_Login(keep, CKU_USER, PIN(USER_PIN)), CKR_OK);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, session_churn, f), 0);
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        assert_null(r);
    }
    CK_TOKEN_INFO ti;
    assert_int_equal(f->C_GetTokenInfo(0, &ti), CKR_OK);
    assert_int_equal(ti.ulSessionCount, 1);
}

static void test_label_padding(void **state)
{
    CK_FUNCTION_LIST_3_2 *f = F(state);
    CK_TOKEN_INFO ti;
    assert_int_equal(f->C_Initialize(NULL), CKR_OK);
    /* A NUL-terminated short label (not the spec's 32 bytes) is padded. */
    assert_int_equal(f->C_InitToken(0, PIN(SO_PIN), (CK_UTF8CHAR_PTR) "short"), CKR_OK);
    assert_int_equal(f->C_GetTokenInfo(0, &ti), CKR_OK);
    assert_memory_equal(ti.label, "short                           ", 32);
    assert_int_equal(f->C_InitToken(0, PIN("87654321"), label32), CKR_PIN_INCORRECT);
}

static void test_pin_policy(void **state)
{
    CK_FUNCTION_LIST_3_2 *f = F(state);
    assert_int_equal(f->C_Initialize(NULL), CKR_OK);
    assert_int_equal(f->C_InitToken(0, PIN("1234567"), label32), CKR_PIN_LEN_RANGE);
    char longpin[70];
    memset(longpin, '7', sizeof(longpin));
    assert_int_equal(f->C_InitToken(0, (CK_UTF8CHAR_PTR)longpin, 65, label32), CKR_PIN_LEN_RANGE);
    assert_false(token_flags(f, 0) & CKF_TOKEN_INITIALIZED);
    assert_int_equal(f->C_InitToken(0, (CK_UTF8CHAR_PTR)longpin, 64, label32), CKR_OK);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_interface_list),
        T(test_get_interface),
        T(test_function_lists),
        T(test_not_initialized),
        T(test_initialize_args),
        T(test_get_info),
        T(test_slots),
        T(test_fresh_token),
        T(test_walkthrough),
        T(test_session_rules),
        T(test_session_limits),
        T(test_init_token_rules),
        T(test_so_lockout),
        T(test_lockout_survives_restart),
        T(test_unsupported_functions),
        T(test_generate_random),
        T(test_bad_config),
        T(test_host_openssl_conf_ignored),
        T(test_memory_only),
        T(test_storage_layout),
        T(test_fork_child),
        T(test_second_process_refused),
        T(test_reload_without_finalize),
        T(test_threads),
        T(test_label_padding),
        T(test_pin_policy),
    };
    return cmocka_run_group_tests_name("abi", tests, NULL, NULL);
}
