/*
 * Unit tests for src/core/token: token information, C_InitToken, C_Login /
 * C_Logout, C_InitPIN, C_SetPIN, the lockout counters and the object master
 * key, in memory and with a SQLite store.
 */
#include "unit_util.h"

#include <pthread.h>
#include <time.h>

#include "core/token.h"
#include "store/store.h"

#define SO_PIN   "12345678"
#define USER_PIN "87654321"
#define NEW_PIN  "24681357"
#define PIN(p)   (const CK_UTF8CHAR *)(p), (CK_ULONG)strlen(p)

#define USER_FLAGS (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED)
#define SO_FLAGS   (CKF_SO_PIN_COUNT_LOW | CKF_SO_PIN_FINAL_TRY | CKF_SO_PIN_LOCKED)

struct fixture {
    struct ut_env *env;
    struct token *t; /* freed by teardown when non-NULL */
};

/* ---- helpers ------------------------------------------------------------ */

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    f->env = ut_env_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    token_free(f->t);
    ut_env_free(f->env);
    free(f);
    return 0;
}

/* A token of slot 0 in memory (persist = false) or on a store in the
 * fixture's directory. */
static struct token *new_token(struct fixture *f, bool persist)
{
    struct store *st = NULL;
    struct token *t = NULL;
    if (persist) {
        char err[STORE_ERR_MAX] = "";
        CK_RV rv = store_open(f->env->dir, &st, err);
        if (rv != CKR_OK)
            print_message("store_open: %s\n", err);
        assert_int_equal(rv, CKR_OK);
    }
    assert_int_equal(token_new(0, &f->env->cfg, f->env->crypto, st, &t), CKR_OK);
    assert_non_null(t);
    return t;
}

static void make_label(CK_UTF8CHAR label[32], const char *text)
{
    memset(label, ' ', 32);
    memcpy(label, text, strlen(text));
}

static void init_token(struct token *t, const char *so_pin)
{
    CK_UTF8CHAR label[32];
    make_label(label, "unit token");
    assert_int_equal(token_init(t, PIN(so_pin), label), CKR_OK);
}

static void session_in(struct token *t, bool rw)
{
    assert_int_equal(token_session_opening(t, rw), CKR_OK);
}

/* The SO sets the user PIN in a session of its own; no session is left. */
static void so_init_user_pin(struct token *t, const char *so_pin, const char *user_pin)
{
    session_in(t, true);
    assert_int_equal(token_login(t, CKU_SO, PIN(so_pin)), CKR_OK);
    assert_int_equal(token_init_pin(t, PIN(user_pin)), CKR_OK);
    assert_int_equal(token_logout(t), CKR_OK);
    token_session_closed(t, true, 0);
}

/* Initialised with SO_PIN and USER_PIN, no session open. */
static struct token *ready_token(struct fixture *f, bool persist)
{
    struct token *t = new_token(f, persist);
    init_token(t, SO_PIN);
    so_init_user_pin(t, SO_PIN, USER_PIN);
    return t;
}

static CK_FLAGS flags_of(struct token *t)
{
    CK_TOKEN_INFO info;
    token_info(t, &info);
    return info.flags;
}

/* Logs in as user with pin in a session of its own, logs out again. */
static CK_RV try_login(struct token *t, CK_USER_TYPE user, const char *pin)
{
    session_in(t, true);
    CK_RV rv = token_login(t, user, PIN(pin));
    if (rv == CKR_OK)
        assert_int_equal(token_logout(t), CKR_OK);
    token_session_closed(t, true, 0);
    return rv;
}

static void assert_padded(const CK_UTF8CHAR *field, size_t len, const char *text)
{
    char expected[65];
    assert_true(len < sizeof(expected));
    memset(expected, ' ', len);
    memcpy(expected, text, strlen(text));
    assert_memory_equal(field, expected, len);
}

/* ---- token information -------------------------------------------------- */

static void test_info_fresh_token(void **state)
{
    struct fixture *f = *state;
    CK_TOKEN_INFO info;
    /* The defaults first, then values that cannot be hard-coded. */
    f->t = new_token(f, false);
    token_info(f->t, &info);
    assert_padded(info.label, sizeof(info.label), "Craton HSM Token");
    assert_padded(info.serialNumber, sizeof(info.serialNumber), "0000000000000001");
    token_free(f->t);
    snprintf(f->env->cfg.label, sizeof(f->env->cfg.label), "Unit Label 7");
    snprintf(f->env->cfg.serial_number, sizeof(f->env->cfg.serial_number), "SN-0042");
    f->env->cfg.pin_min_length = 6;
    f->env->cfg.pin_max_length = 40;
    f->t = new_token(f, false);
    token_info(f->t, &info);
    assert_padded(info.label, sizeof(info.label), "Unit Label 7");
    assert_padded(info.serialNumber, sizeof(info.serialNumber), "SN-0042");
    assert_int_equal(info.flags & (CKF_TOKEN_INITIALIZED | CKF_USER_PIN_INITIALIZED), 0);
    assert_int_equal(info.flags & (USER_FLAGS | SO_FLAGS), 0);
    assert_true(info.flags & CKF_LOGIN_REQUIRED);
    assert_true(info.flags & CKF_RNG);
    assert_int_equal(info.ulMaxSessionCount, f->env->cfg.max_sessions);
    assert_int_equal(info.ulMaxRwSessionCount, f->env->cfg.max_rw_sessions);
    assert_int_equal(info.ulSessionCount, 0);
    assert_int_equal(info.ulRwSessionCount, 0);
    assert_int_equal(info.ulMinPinLen, 6);
    assert_int_equal(info.ulMaxPinLen, 40);
    if (info.flags & CKF_CLOCK_ON_TOKEN) {
        for (size_t i = 0; i < 14; i++)
            assert_true(info.utcTime[i] >= '0' && info.utcTime[i] <= '9');
    }
    assert_int_equal(token_login_state(f->t), TOKEN_PUBLIC);

    CK_SLOT_INFO slot;
    token_slot_info(f->t, &slot);
    assert_true(slot.flags & CKF_TOKEN_PRESENT);
}

static void test_info_serials_differ_per_slot(void **state)
{
    enum { N = 256 };
    struct fixture *f = *state;
    static CK_UTF8CHAR serial[N][16];
    f->env->cfg.slot_count = N;
    for (CK_SLOT_ID id = 0; id < N; id++) {
        struct token *t = NULL;
        CK_TOKEN_INFO info;
        assert_int_equal(token_new(id, &f->env->cfg, f->env->crypto, NULL, &t), CKR_OK);
        token_info(t, &info);
        memcpy(serial[id], info.serialNumber, 16);
        token_free(t);
    }
    assert_memory_not_equal(serial[0], serial[1], 16);
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            assert_memory_not_equal(serial[i], serial[j], 16);
}

/* ---- C_InitToken -------------------------------------------------------- */

static void test_init_label_stops_at_nul(void **state)
{
    struct fixture *f = *state;
    f->t = new_token(f, false);
    CK_UTF8CHAR label[32];
    memset(label, 'X', sizeof(label));
    memcpy(label, "My Token", 9); /* with its NUL, then garbage */
    assert_int_equal(token_init(f->t, PIN(SO_PIN), label), CKR_OK);

    CK_TOKEN_INFO info;
    token_info(f->t, &info);
    assert_padded(info.label, sizeof(info.label), "My Token");
    assert_true(info.flags & CKF_TOKEN_INITIALIZED);
    assert_int_equal(info.flags & CKF_USER_PIN_INITIALIZED, 0);
    assert_int_equal(info.flags & SO_FLAGS, 0);
}

static void test_init_label_truncated_at_32(void **state)
{
    struct fixture *f = *state;
    f->t = new_token(f, false);
    static const char text[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345-and-more-bytes";
    assert_int_equal(token_init(f->t, PIN(SO_PIN), (const CK_UTF8CHAR *)text), CKR_OK);
    CK_TOKEN_INFO info;
    token_info(f->t, &info);
    assert_memory_equal(info.label, text, 32);
}

static void test_init_pin_len_range(void **state)
{
    struct fixture *f = *state;
    f->t = new_token(f, false);
    CK_UTF8CHAR label[32];
    char pin[80];
    make_label(label, "x");
    memset(pin, '7', sizeof(pin));
    assert_int_equal(token_init(f->t, (CK_UTF8CHAR *)pin, 7, label), CKR_PIN_LEN_RANGE);
    assert_int_equal(token_init(f->t, (CK_UTF8CHAR *)pin, 65, label), CKR_PIN_LEN_RANGE);
    assert_int_equal(token_init(f->t, (CK_UTF8CHAR *)pin, 0, label), CKR_PIN_LEN_RANGE);
    assert_int_equal(flags_of(f->t) & CKF_TOKEN_INITIALIZED, 0);
    assert_int_equal(token_init(f->t, (CK_UTF8CHAR *)pin, 64, label), CKR_OK);
    assert_true(flags_of(f->t) & CKF_TOKEN_INITIALIZED);
    session_in(f->t, true);
    assert_int_equal(token_login(f->t, CKU_SO, (CK_UTF8CHAR *)pin, 64), CKR_OK);
    token_session_closed(f->t, true, 0);

    struct token *t2 = new_token(f, false);
    assert_int_equal(token_init(t2, (CK_UTF8CHAR *)pin, 8, label), CKR_OK);
    token_free(t2);
}

static void test_init_with_session_open(void **state)
{
    struct fixture *f = *state;
    f->t = ready_token(f, false);
    CK_UTF8CHAR label[32];
    make_label(label, "new");
    session_in(f->t, false);
    assert_int_equal(token_init(f->t, PIN(SO_PIN), label), CKR_SESSION_EXISTS);
    /* Nothing was counted or changed. */
    assert_int_equal(flags_of(f->t) & SO_FLAGS, 0);
    assert_true(flags_of(f->t) & CKF_USER_PIN_INITIALIZED);
    token_session_closed(f->t, false, 0);
    assert_int_equal(token_init(f->t, PIN(SO_PIN), label), CKR_OK);
}

static void test_reinit_wrong_so_pin(void **state)
{
    struct fixture *f = *state;
    f->t = ready_token(f, false);
    CK_UTF8CHAR label[32];
    make_label(label, "hijacked");
    assert_int_equal(token_init(f->t, PIN("99999999"), label), CKR_PIN_INCORRECT);
    /* A wrong PIN of a length the policy refuses is still just wrong. */
    assert_int_equal(token_init(f->t, PIN("999"), label), CKR_PIN_INCORRECT);

    CK_TOKEN_INFO info;
    token_info(f->t, &info);
    assert_padded(info.label, sizeof(info.label), "unit token");
    assert_true(info.flags & CKF_USER_PIN_INITIALIZED);
    assert_true(info.flags & CKF_SO_PIN_COUNT_LOW);
    assert_int_equal(try_login(f->t, CKU_USER, USER_PIN), CKR_OK);
    assert_int_equal(try_login(f->t, CKU_SO, SO_PIN), CKR_OK);
}

static void test_reinit_with_so_pin(void **state)
{
    struct fixture *f = *state;
    f->t = ready_token(f, false);
    CK_UTF8CHAR label[32];
    make_label(label, "second life");
    assert_int_equal(token_init(f->t, PIN(SO_PIN), label), CKR_OK);

    CK_TOKEN_INFO info;
    token_info(f->t, &info);
    assert_padded(info.label, sizeof(info.label), "second life");
    assert_true(info.flags & CKF_TOKEN_INITIALIZED);
    assert_int_equal(info.flags & (CKF_USER_PIN_INITIALIZED | USER_FLAGS | SO_FLAGS), 0);
    assert_int_equal(try_login(f->t, CKU_USER, USER_PIN), CKR_USER_PIN_NOT_INITIALIZED);
    assert_int_equal(try_login(f->t, CKU_SO, SO_PIN), CKR_OK);
}

/* ---- C_Login / C_Logout ------------------------------------------------- */

static void test_login_uninitialized(void **state)
{
    struct fixture *f = *state;
    f->t = new_token(f, false);
    assert_int_equal(token_login(f->t, CKU_SO, PIN(SO_PIN)), CKR_TOKEN_NOT_RECOGNIZED);
    assert_int_equal(token_login(f->t, CKU_USER, PIN(USER_PIN)), CKR_TOKEN_NOT_RECOGNIZED);
}

static void test_login_user_pin_not_initialized(void **state)
{
    struct fixture *f = *state;
    f->t = new_token(f, false);
    init_token(f->t, SO_PIN);
    session_in(f->t, true);
    assert_int_equal(token_login(f->t, CKU_USER, PIN(USER_PIN)), CKR_USER_PIN_NOT_INITIALIZED);
    assert_int_equal(token_login_state(f->t), TOKEN_PUBLIC);
    token_session_closed(f->t, true, 0);
}

static void test_login_already_and_another(void **state)
{
    struct fixture *f = *state;
    f->t = ready_token(f, false);
    session_in(f->t, true);
    assert_int_equal(token_login(f->t, CKU_USER, PIN(USER_PIN)), CKR_OK);
    assert_int_equal(token_login_state(f->t), TOKEN_USER);
    assert_int_equal(token_login(f->t, CKU_USER, PIN(USER_PIN)), CKR_USER_ALREADY_LOGGED_IN);
    assert_int_equal(token_login(f->t, CKU_SO, PIN(SO_PIN)), CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
    assert_int_equal(token_logout(f->t), CKR_OK);

    assert_int_equal(token_login(f->t, CKU_SO, PIN(SO_PIN)), CKR_OK);
    assert_int_equal(token_login_state(f->t), TOKEN_SO);
    assert_int_equal(token_login(f->t, CKU_SO, PIN(SO_PIN)), CKR_USER_ALREADY_LOGGED_IN);
    assert_int_equal(token_login(f->t, CKU_USER, PIN(USER_PIN)),
                     CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
    token_session_closed(f->t, true, 0);
    /* None of the refusals counted as failures. */
    assert_int_equal(flags_of(f->t) & (USER_FLAGS | SO_FLAGS), 0);
}

static void test_so_login_with_ro_session(void **state)
{
    struct fixture *f = *state;
    f->t = ready_token(f, false);
    session_in(f->t, true);
    session_in(f->t, false);
    assert_int_equal(token_login(f->t, CKU_SO, PIN(SO_PIN)), CKR_SESSION_READ_ONLY_EXISTS);
    assert_int_equal(token_login_state(f->t), TOKEN_PUBLIC);
    /* The user may log in with R/O sessions open. */
    assert_int_equal(token_login(f->t, CKU_USER, PIN(USER_PIN)), CKR_OK);
    assert_int_equal(token_logout(f->t), CKR_OK);
    token_session_closed(f->t, false, 0);
    assert_int_equal(token_login(f->t, CKU_SO, PIN(SO_PIN)), CKR_OK);
    token_session_closed(f->t, true, 0);
    assert_int_equal(token_login_state(f->t), TOKEN_PUBLIC);
}

struct login_race {
    struct token *t;
    CK_RV rv;
};

static void *so_login_thread(void *arg)
{
    struct login_race *r = arg;
    r->rv = token_login(r->t, CKU_SO, PIN(NEW_PIN));
    return NULL;
}

/* An R/O session opened while the SO's PIN is being checked: either the
 * session is refused (CKR_SESSION_READ_WRITE_SO_EXISTS) or the login is
 * (CKR_SESSION_READ_ONLY_EXISTS); never both may succeed.  A slow PBKDF2
 * makes the window wide; when the timing misses it the test still passes. */
static void test_so_login_races_ro_session(void **state)
{
    struct fixture *f = *state;
    f->t = ready_token(f, false);
    f->env->cfg.pbkdf2_iterations = 100000; /* ~50 ms natively, the race window */
    session_in(f->t, true);
    assert_int_equal(token_login(f->t, CKU_SO, PIN(SO_PIN)), CKR_OK);
    assert_int_equal(token_set_pin(f->t, true, PIN(SO_PIN), PIN(NEW_PIN)), CKR_OK);
    assert_int_equal(token_logout(f->t), CKR_OK);

    struct login_race r = {.t = f->t, .rv = CKR_GENERAL_ERROR};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, so_login_thread, &r), 0);
    struct timespec pause = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
    nanosleep(&pause, NULL);
    CK_RV ro = token_session_opening(f->t, false);
    assert_int_equal(pthread_join(th, NULL), 0);

    if (ro == CKR_OK && r.rv == CKR_OK)
        print_message("SO logged in while an R/O session was opened during its login\n");
    assert_false(ro == CKR_OK && r.rv == CKR_OK);
    if (ro == CKR_OK)
        assert_int_equal(r.rv, CKR_SESSION_READ_ONLY_EXISTS);
    else
        assert_int_equal(ro, CKR_SESSION_READ_WRITE_SO_EXISTS);
}

static void test_login_needs_a_session(void **state)
{
    struct fixture *f = *state;
    f->t = ready_token(f, false);
    assert_int_equal(token_login(f->t, CKU_USER, PIN(USER_PIN)), CKR_SESSION_HANDLE_INVALID);
    assert_int_equal(token_login_state(f->t), TOKEN_PUBLIC);
}

static void test_logout_when_public(void **state)
{
    struct fixture *f = *state;
    f->t = ready_token(f, false);
    assert_int_equal(token_logout(f->t), CKR_USER_NOT_LOGGED_IN);
    session_in(f->t, true);
    assert_int_equal(token_logout(f->t), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(token_login(f->t, CKU_USER, PIN(USER_PIN)), CKR_OK);
    assert_int_equal(token_logout(f->t), CKR_OK);
    assert_int_equal(token_login_state(f->t), TOKEN_PUBLIC);
    assert_int_equal(token_logout(f->t), CKR_USER_NOT_LOGGED_IN);
    token_session_closed(f->t, true, 0);
}

static void test_seed_pins(void **state)
{
    struct fixture *f = *state;
    f->t = ready_token(f, false);
    assert_int_equal(try_login(f->t, CKU_SO, "12345678"), CKR_OK);
    assert_int_equal(try_login(f->t, CKU_USER, "87654321"), CKR_OK);
    assert_int_equal(token_set_pin(f->t, true, PIN("87654321"), PIN("24681357")), CKR_OK);
    assert_int_equal(try_login(f->t, CKU_USER, "24681357"), CKR_OK);
    assert_int_equal(flags_of(f->t) & (USER_FLAGS | SO_FLAGS), 0);
}

static void test_overlong_pin_is_incorrect(void **state)
{
    struct fixture *f = *state;
    f->t = ready_token(f, false);
    char pin[TOKEN_PIN_ABI_MAX + 1];
    memset(pin, '8', sizeof(pin));
    session_in(f->t, true);
    assert_int_equal(token_login(f->t, CKU_USER, (CK_UTF8CHAR *)pin, sizeof(pin)),
                     CKR_PIN_INCORRECT);
    assert_int_equal(token_login(f->t, CKU_USER, (CK_UTF8CHAR *)pin, 1), CKR_PIN_INCORRECT);
    token_session_closed(f->t, true, 0);
    assert_true(flags_of(f->t) & CKF_USER_PIN_FINAL_TRY);
}

/* ---- lockout ------------------------------------------------------------ */

static void test_user_lockout_and_so_unlock(void **state)
{
    struct fixture *f = *state;
    f->t = ready_token(f, false);
    session_in(f->t, true);
    assert_int_equal(token_login(f->t, CKU_USER, PIN("00000000")), CKR_PIN_INCORRECT);
    CK_FLAGS fl = flags_of(f->t);
    assert_true(fl & CKF_USER_PIN_COUNT_LOW);
    assert_int_equal(fl & (CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED), 0);

    assert_int_equal(token_login(f->t, CKU_USER, PIN("00000000")), CKR_PIN_INCORRECT);
    fl = flags_of(f->t);
    assert_true(fl & CKF_USER_PIN_COUNT_LOW);
    assert_true(fl & CKF_USER_PIN_FINAL_TRY);
    assert_int_equal(fl & CKF_USER_PIN_LOCKED, 0);

    assert_int_equal(token_login(f->t, CKU_USER, PIN("00000000")), CKR_PIN_LOCKED);
    fl = flags_of(f->t);
    assert_true(fl & CKF_USER_PIN_LOCKED);
    assert_true(fl & CKF_USER_PIN_COUNT_LOW);
    assert_int_equal(fl & CKF_USER_PIN_FINAL_TRY, 0);
    assert_int_equal(fl & SO_FLAGS, 0);

    assert_int_equal(token_login(f->t, CKU_USER, PIN(USER_PIN)), CKR_PIN_LOCKED);
    assert_int_equal(token_login_state(f->t), TOKEN_PUBLIC);
    assert_int_equal(token_set_pin(f->t, true, PIN(USER_PIN), PIN(NEW_PIN)), CKR_PIN_LOCKED);

    /* The SO resets the user PIN, which unlocks it. */
    assert_int_equal(token_login(f->t, CKU_SO, PIN(SO_PIN)), CKR_OK);
    assert_int_equal(token_init_pin(f->t, PIN(NEW_PIN)), CKR_OK);
    assert_int_equal(flags_of(f->t) & USER_FLAGS, 0);
    assert_int_equal(token_logout(f->t), CKR_OK);
    assert_int_equal(token_login(f->t, CKU_USER, PIN(USER_PIN)), CKR_PIN_INCORRECT);
    assert_int_equal(token_login(f->t, CKU_USER, PIN(NEW_PIN)), CKR_OK);
    assert_int_equal(flags_of(f->t) & USER_FLAGS, 0);
    token_session_closed(f->t, true, 0);
}

static void test_success_resets_counter(void **state)
{
    struct fixture *f = *state;
    f->t = ready_token(f, false);
    assert_int_equal(try_login(f->t, CKU_USER, "11111111"), CKR_PIN_INCORRECT);
    assert_int_equal(try_login(f->t, CKU_USER, "11111111"), CKR_PIN_INCORRECT);
    assert_true(flags_of(f->t) & CKF_USER_PIN_FINAL_TRY);
    assert_int_equal(try_login(f->t, CKU_USER, USER_PIN), CKR_OK);
    assert_int_equal(flags_of(f->t) & USER_FLAGS, 0);
    /* The full allowance is back. */
    assert_int_equal(try_login(f->t, CKU_USER, "11111111"), CKR_PIN_INCORRECT);
    assert_int_equal(try_login(f->t, CKU_USER, "11111111"), CKR_PIN_INCORRECT);
    assert_int_equal(try_login(f->t, CKU_USER, USER_PIN), CKR_OK);
}

static void test_so_lockout_blocks_init(void **state)
{
    struct fixture *f = *state;
    f->t = ready_token(f, false);
    CK_UTF8CHAR label[32];
    make_label(label, "again");
    assert_int_equal(try_login(f->t, CKU_SO, "00000000"), CKR_PIN_INCORRECT);
    assert_int_equal(try_login(f->t, CKU_SO, "00000000"), CKR_PIN_INCORRECT);
    assert_true(flags_of(f->t) & CKF_SO_PIN_FINAL_TRY);
    assert_int_equal(try_login(f->t, CKU_SO, "00000000"), CKR_PIN_LOCKED);
    CK_FLAGS fl = flags_of(f->t);
    assert_true(fl & CKF_SO_PIN_LOCKED);
    assert_int_equal(fl & USER_FLAGS, 0);

    assert_int_equal(token_init(f->t, PIN(SO_PIN), label), CKR_PIN_LOCKED);
    assert_int_equal(try_login(f->t, CKU_SO, SO_PIN), CKR_PIN_LOCKED);
    /* The user is unaffected and the token kept its state. */
    assert_int_equal(try_login(f->t, CKU_USER, USER_PIN), CKR_OK);
    CK_TOKEN_INFO info;
    token_info(f->t, &info);
    assert_padded(info.label, sizeof(info.label), "unit token");
}

static void test_counters_persist(void **state)
{
    struct fixture *f = *state;
    struct token *t = ready_token(f, true);
    assert_int_equal(try_login(t, CKU_USER, "00000000"), CKR_PIN_INCORRECT);
    assert_int_equal(try_login(t, CKU_USER, "00000000"), CKR_PIN_INCORRECT);
    assert_int_equal(try_login(t, CKU_SO, "00000000"), CKR_PIN_INCORRECT);
    token_free(t);

    f->t = new_token(f, true);
    CK_FLAGS fl = flags_of(f->t);
    assert_true(fl & CKF_TOKEN_INITIALIZED);
    assert_true(fl & CKF_USER_PIN_FINAL_TRY);
    assert_true(fl & CKF_USER_PIN_COUNT_LOW);
    assert_true(fl & CKF_SO_PIN_COUNT_LOW);
    assert_int_equal(fl & (CKF_SO_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED), 0);
    /* The count goes on from there. */
    assert_int_equal(try_login(f->t, CKU_USER, "00000000"), CKR_PIN_LOCKED);
    token_free(f->t);

    f->t = new_token(f, true);
    assert_true(flags_of(f->t) & CKF_USER_PIN_LOCKED);
    assert_int_equal(try_login(f->t, CKU_USER, USER_PIN), CKR_PIN_LOCKED);
    /* A successful SO login resets the SO counter on disk too. */
    assert_int_equal(try_login(f->t, CKU_SO, SO_PIN), CKR_OK);
    token_free(f->t);
    f->t = new_token(f, true);
    assert_int_equal(flags_of(f->t) & SO_FLAGS, 0);
}

static void test_record_persists(void **state)
{
    struct fixture *f = *state;
    struct token *t = ready_token(f, true);
    assert_int_equal(token_set_pin(t, true, PIN(USER_PIN), PIN(NEW_PIN)), CKR_OK);
    token_free(t);

    f->t = new_token(f, true);
    CK_TOKEN_INFO info;
    token_info(f->t, &info);
    assert_padded(info.label, sizeof(info.label), "unit token");
    assert_true(info.flags & CKF_TOKEN_INITIALIZED);
    assert_true(info.flags & CKF_USER_PIN_INITIALIZED);
    assert_int_equal(try_login(f->t, CKU_USER, NEW_PIN), CKR_OK);
    assert_int_equal(try_login(f->t, CKU_SO, SO_PIN), CKR_OK);
}

/* ---- C_SetPIN / C_InitPIN ----------------------------------------------- */

static void test_set_pin_read_only(void **state)
{
    struct fixture *f = *state;
    f->t = ready_token(f, false);
    assert_int_equal(token_set_pin(f->t, false, PIN(USER_PIN), PIN(NEW_PIN)),
                     CKR_SESSION_READ_ONLY);
    assert_int_equal(flags_of(f->t) & USER_FLAGS, 0);
    assert_int_equal(try_login(f->t, CKU_USER, USER_PIN), CKR_OK);
}

static void test_set_pin_wrong_old(void **state)
{
    struct fixture *f = *state;
    f->t = ready_token(f, false);
    assert_int_equal(token_set_pin(f->t, true, PIN("00000000"), PIN(NEW_PIN)), CKR_PIN_INCORRECT);
    CK_FLAGS fl = flags_of(f->t);
    assert_true(fl & CKF_USER_PIN_COUNT_LOW);
    assert_int_equal(fl & CKF_USER_PIN_FINAL_TRY, 0);
    assert_int_equal(try_login(f->t, CKU_USER, NEW_PIN), CKR_PIN_INCORRECT);
    assert_int_equal(try_login(f->t, CKU_USER, USER_PIN), CKR_OK);
}

static void test_set_pin_len_range(void **state)
{
    struct fixture *f = *state;
    f->t = ready_token(f, false);
    char longpin[66];
    memset(longpin, '5', sizeof(longpin) - 1);
    longpin[sizeof(longpin) - 1] = '\0';
    assert_int_equal(token_set_pin(f->t, true, PIN(USER_PIN), PIN("1234567")), CKR_PIN_LEN_RANGE);
    assert_int_equal(token_set_pin(f->t, true, PIN(USER_PIN), PIN(longpin)), CKR_PIN_LEN_RANGE);
    assert_int_equal(flags_of(f->t) & USER_FLAGS, 0);
    assert_int_equal(try_login(f->t, CKU_USER, USER_PIN), CKR_OK);
}

static void test_set_pin_as_user(void **state)
{
    struct fixture *f = *state;
    f->t = ready_token(f, false);
    session_in(f->t, true);
    assert_int_equal(token_login(f->t, CKU_USER, PIN(USER_PIN)), CKR_OK);
    assert_int_equal(token_set_pin(f->t, true, PIN(USER_PIN), PIN(NEW_PIN)), CKR_OK);
    assert_int_equal(token_login_state(f->t), TOKEN_USER);
    assert_int_equal(token_logout(f->t), CKR_OK);
    token_session_closed(f->t, true, 0);
    assert_int_equal(try_login(f->t, CKU_USER, USER_PIN), CKR_PIN_INCORRECT);
    assert_int_equal(try_login(f->t, CKU_USER, NEW_PIN), CKR_OK);
    assert_int_equal(try_login(f->t, CKU_SO, SO_PIN), CKR_OK);
}

static void test_set_pin_public_rw(void **state)
{
    struct fixture *f = *state;
    f->t = ready_token(f, false);
    session_in(f->t, true);
    assert_int_equal(token_set_pin(f->t, true, PIN(USER_PIN), PIN(NEW_PIN)), CKR_OK);
    assert_int_equal(token_login_state(f->t), TOKEN_PUBLIC);
    assert_int_equal(token_login(f->t, CKU_USER, PIN(USER_PIN)), CKR_PIN_INCORRECT);
    assert_int_equal(token_login(f->t, CKU_USER, PIN(NEW_PIN)), CKR_OK);
    token_session_closed(f->t, true, 0);
    assert_int_equal(try_login(f->t, CKU_SO, SO_PIN), CKR_OK); /* SO PIN untouched */
}

static void test_set_pin_as_so(void **state)
{
    struct fixture *f = *state;
    f->t = ready_token(f, false);
    session_in(f->t, true);
    assert_int_equal(token_login(f->t, CKU_SO, PIN(SO_PIN)), CKR_OK);
    assert_int_equal(token_set_pin(f->t, true, PIN(SO_PIN), PIN(NEW_PIN)), CKR_OK);
    assert_int_equal(token_logout(f->t), CKR_OK);
    token_session_closed(f->t, true, 0);
    assert_int_equal(try_login(f->t, CKU_SO, SO_PIN), CKR_PIN_INCORRECT);
    assert_int_equal(try_login(f->t, CKU_SO, NEW_PIN), CKR_OK);
    assert_int_equal(try_login(f->t, CKU_USER, USER_PIN), CKR_OK); /* user PIN untouched */
    /* Re-initialisation now wants the new SO PIN. */
    CK_UTF8CHAR label[32];
    make_label(label, "re");
    assert_int_equal(token_init(f->t, PIN(SO_PIN), label), CKR_PIN_INCORRECT);
    assert_int_equal(token_init(f->t, PIN(NEW_PIN), label), CKR_OK);
}

static void test_init_pin_needs_so(void **state)
{
    struct fixture *f = *state;
    f->t = ready_token(f, false);
    assert_int_equal(token_init_pin(f->t, PIN(NEW_PIN)), CKR_USER_NOT_LOGGED_IN);
    session_in(f->t, true);
    assert_int_equal(token_init_pin(f->t, PIN(NEW_PIN)), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(token_login(f->t, CKU_USER, PIN(USER_PIN)), CKR_OK);
    assert_int_equal(token_init_pin(f->t, PIN(NEW_PIN)), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(token_logout(f->t), CKR_OK);
    assert_int_equal(token_login(f->t, CKU_SO, PIN(SO_PIN)), CKR_OK);
    assert_int_equal(token_init_pin(f->t, PIN("1234")), CKR_PIN_LEN_RANGE);
    assert_int_equal(token_logout(f->t), CKR_OK);
    token_session_closed(f->t, true, 0);
    assert_int_equal(try_login(f->t, CKU_USER, NEW_PIN), CKR_PIN_INCORRECT);
    assert_int_equal(try_login(f->t, CKU_USER, USER_PIN), CKR_OK);
}

/* ---- the object master key ---------------------------------------------- */

static void test_omk_survives_pin_changes(void **state)
{
    struct fixture *f = *state;
    f->t = ready_token(f, true);
    assert_int_equal(token_set_pin(f->t, true, PIN(USER_PIN), PIN(NEW_PIN)), CKR_OK);
    so_init_user_pin(f->t, SO_PIN, "13579246");
    session_in(f->t, true);
    assert_int_equal(token_login(f->t, CKU_SO, PIN(SO_PIN)), CKR_OK);
    assert_int_equal(token_set_pin(f->t, true, PIN(SO_PIN), PIN("11223344")), CKR_OK);
    token_session_closed(f->t, true, 0);
    token_free(f->t);

    f->t = new_token(f, true);
    assert_int_equal(try_login(f->t, CKU_USER, "13579246"), CKR_OK);
    assert_int_equal(try_login(f->t, CKU_SO, "11223344"), CKR_OK);
}

/* Unwraps the OMK of role from the stored record with pin.  Mirrors the
 * record format of src/core/token.c: PBKDF2 gives verifier || KEK, and the
 * AAD is "craton-hsm/omk/v1" || slot (64-bit big-endian) || role. */
static void unwrap_stored_omk(struct fixture *f, CK_SLOT_ID slot, enum store_role role,
                              const char *pin, unsigned char omk[CRYPTO_KEY_LEN])
{
    struct store *st = NULL;
    struct store_token rec;
    char err[STORE_ERR_MAX] = "";
    unsigned char kdf[STORE_VERIFIER_LEN + CRYPTO_KEY_LEN], aad[32];
    size_t n = strlen("craton-hsm/omk/v1");

    assert_int_equal(store_open(f->env->dir, &st, err), CKR_OK);
    assert_int_equal(store_load_token(st, &rec), CKR_OK);
    store_close(st);
    const struct store_pin *p = &rec.pin[role];
    assert_true(p->set);
    assert_int_equal(p->iterations, f->env->cfg.pbkdf2_iterations);
    assert_int_equal(crypto_pbkdf2_sha256(f->env->crypto, pin, strlen(pin), p->salt,
                                          sizeof(p->salt), p->iterations, kdf, sizeof(kdf)),
                     CKR_OK);
    assert_memory_equal(kdf, p->verifier, STORE_VERIFIER_LEN);
    memcpy(aad, "craton-hsm/omk/v1", n);
    for (int i = 7; i >= 0; i--)
        aad[n++] = (unsigned char)((uint64_t)slot >> (8 * i));
    aad[n++] = (unsigned char)role;
    assert_int_equal(
        crypto_unwrap_key(f->env->crypto, kdf + STORE_VERIFIER_LEN, p->wrapped_omk, aad, n, omk),
        CKR_OK);
}

static void test_omk_same_under_every_pin(void **state)
{
    struct fixture *f = *state;
    unsigned char so[CRYPTO_KEY_LEN], user[CRYPTO_KEY_LEN], again[CRYPTO_KEY_LEN];
    f->t = ready_token(f, true);
    unwrap_stored_omk(f, 0, STORE_ROLE_SO, SO_PIN, so);
    unwrap_stored_omk(f, 0, STORE_ROLE_USER, USER_PIN, user);
    assert_memory_equal(so, user, CRYPTO_KEY_LEN);

    assert_int_equal(token_set_pin(f->t, true, PIN(USER_PIN), PIN(NEW_PIN)), CKR_OK);
    unwrap_stored_omk(f, 0, STORE_ROLE_USER, NEW_PIN, again);
    assert_memory_equal(so, again, CRYPTO_KEY_LEN);

    so_init_user_pin(f->t, SO_PIN, "13579246");
    unwrap_stored_omk(f, 0, STORE_ROLE_USER, "13579246", again);
    assert_memory_equal(so, again, CRYPTO_KEY_LEN);

    /* Re-initialisation destroys it: a fresh OMK. */
    CK_UTF8CHAR label[32];
    make_label(label, "fresh");
    assert_int_equal(token_init(f->t, PIN(SO_PIN), label), CKR_OK);
    unwrap_stored_omk(f, 0, STORE_ROLE_SO, SO_PIN, again);
    assert_memory_not_equal(so, again, CRYPTO_KEY_LEN);
}

static void test_damaged_record_is_device_error(void **state)
{
    struct fixture *f = *state;
    token_free(ready_token(f, true));
    /* Damage the user's wrapped OMK (a ciphertext byte) on disk. */
    ut_db_flip_pin_byte(f->env->dir, STORE_ROLE_USER, "wrapped_omk", CRYPTO_GCM_IV_LEN + 3);

    f->t = new_token(f, true);
    session_in(f->t, true);
    assert_int_equal(token_login(f->t, CKU_USER, PIN(USER_PIN)), CKR_DEVICE_ERROR);
    assert_int_equal(token_login_state(f->t), TOKEN_PUBLIC);
    assert_int_equal(token_login(f->t, CKU_USER, PIN("00000000")), CKR_PIN_INCORRECT);
    /* The SO's copy is intact. */
    assert_int_equal(token_login(f->t, CKU_SO, PIN(SO_PIN)), CKR_OK);
    token_session_closed(f->t, true, 0);

    /* A damaged verifier makes the right PIN wrong, never right. */
    token_free(f->t);
    ut_db_flip_pin_byte(f->env->dir, STORE_ROLE_SO, "verifier", 0);
    f->t = new_token(f, true);
    assert_int_equal(try_login(f->t, CKU_SO, SO_PIN), CKR_PIN_INCORRECT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_info_fresh_token),          T(test_info_serials_differ_per_slot),
        T(test_init_label_stops_at_nul),   T(test_init_label_truncated_at_32),
        T(test_init_pin_len_range),        T(test_init_with_session_open),
        T(test_reinit_wrong_so_pin),       T(test_reinit_with_so_pin),
        T(test_login_uninitialized),       T(test_login_user_pin_not_initialized),
        T(test_login_already_and_another), T(test_so_login_with_ro_session),
        T(test_so_login_races_ro_session), T(test_login_needs_a_session),
        T(test_logout_when_public),        T(test_seed_pins),
        T(test_overlong_pin_is_incorrect), T(test_user_lockout_and_so_unlock),
        T(test_success_resets_counter),    T(test_so_lockout_blocks_init),
        T(test_counters_persist),          T(test_record_persists),
        T(test_set_pin_read_only),         T(test_set_pin_wrong_old),
        T(test_set_pin_len_range),         T(test_set_pin_as_user),
        T(test_set_pin_public_rw),         T(test_set_pin_as_so),
        T(test_init_pin_needs_so),         T(test_omk_survives_pin_changes),
        T(test_omk_same_under_every_pin),  T(test_damaged_record_is_device_error),
#undef T
    };
    return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
