/*
 * Unit tests for src/core/session: the handle table, the C_OpenSession rules
 * and the session states, on in-memory tokens (no store).
 */
#include "unit_util.h"

#include "core/session.h"
#include "core/token.h"

#define SO_PIN   "12345678"
#define USER_PIN "87654321"
#define PIN(p)   (const CK_UTF8CHAR *)(p), (CK_ULONG)strlen(p)
#define RO       CKF_SERIAL_SESSION
#define RW       (CKF_SERIAL_SESSION | CKF_RW_SESSION)

struct fixture {
    struct ut_env *env;
    struct token *tok[2]; /* slots 0 and 1 */
    struct session_table *tab;
};

/* ---- helpers ------------------------------------------------------------ */

static CK_SESSION_HANDLE open_ok(struct fixture *f, int slot, CK_FLAGS flags)
{
    CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
    assert_int_equal(session_open(f->tab, f->tok[slot], (CK_SLOT_ID)slot, flags, &h), CKR_OK);
    assert_int_not_equal(h, CK_INVALID_HANDLE);
    return h;
}

static void close_ok(struct fixture *f, CK_SESSION_HANDLE h)
{
    assert_int_equal(session_close(f->tab, h), CKR_OK);
}

/* An initialised in-memory token with SO_PIN and USER_PIN, nobody logged in
 * and no session open. */
static struct token *make_token(struct fixture *f, CK_SLOT_ID slot, bool init)
{
    struct token *t = NULL;
    CK_UTF8CHAR label[32];
    memset(label, ' ', sizeof(label));
    memcpy(label, "session test", 12);
    assert_int_equal(token_new(slot, &f->env->cfg, f->env->crypto, NULL, &t), CKR_OK);
    if (!init)
        return t;
    assert_int_equal(token_init(t, PIN(SO_PIN), label), CKR_OK);
    assert_int_equal(token_session_opening(t, true), CKR_OK);
    assert_int_equal(token_login(t, CKU_SO, PIN(SO_PIN)), CKR_OK);
    assert_int_equal(token_init_pin(t, PIN(USER_PIN)), CKR_OK);
    token_session_closed(t, true, 0);
    assert_int_equal(token_login_state(t), TOKEN_PUBLIC);
    return t;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    f->env = ut_env_new();
    f->env->cfg.slot_count = 2;
    f->tok[0] = make_token(f, 0, true);
    f->tok[1] = make_token(f, 1, true);
    assert_int_equal(session_table_new(&f->tab), CKR_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    session_table_free(f->tab);
    token_free(f->tok[0]);
    token_free(f->tok[1]);
    ut_env_free(f->env);
    free(f);
    return 0;
}

static CK_STATE state_of(struct fixture *f, CK_SESSION_HANDLE h)
{
    struct session *s = NULL;
    assert_int_equal(session_get(f->tab, h, &s), CKR_OK);
    CK_STATE st = session_state(s);
    session_put(s);
    return st;
}

static void assert_counts(struct token *t, CK_ULONG sessions, CK_ULONG rw)
{
    CK_TOKEN_INFO info;
    token_info(t, &info);
    assert_int_equal(info.ulSessionCount, sessions);
    assert_int_equal(info.ulRwSessionCount, rw);
}

static void assert_invalid(struct fixture *f, CK_SESSION_HANDLE h)
{
    struct session *s = (struct session *)(uintptr_t)0x1;
    assert_int_equal(session_get(f->tab, h, &s), CKR_SESSION_HANDLE_INVALID);
    assert_ptr_equal(s, (struct session *)(uintptr_t)0x1); /* untouched */
}

/* ---- tests -------------------------------------------------------------- */

static void test_open_ro_and_rw(void **state)
{
    struct fixture *f = *state;
    CK_SESSION_HANDLE ro = open_ok(f, 0, RO);
    CK_SESSION_HANDLE rw = open_ok(f, 0, RW);
    assert_int_not_equal(ro, rw);
    assert_counts(f->tok[0], 2, 1);

    struct session *s = NULL;
    CK_SESSION_INFO info;
    assert_int_equal(session_get(f->tab, ro, &s), CKR_OK);
    assert_false(session_is_rw(s));
    assert_ptr_equal(session_token(s), f->tok[0]);
    assert_int_equal(session_slot(s), 0);
    session_info(s, &info);
    assert_int_equal(info.slotID, 0);
    assert_int_equal(info.state, CKS_RO_PUBLIC_SESSION);
    assert_int_equal(info.flags, CKF_SERIAL_SESSION);
    assert_int_equal(info.ulDeviceError, 0);
    session_put(s);

    assert_int_equal(session_get(f->tab, rw, &s), CKR_OK);
    assert_true(session_is_rw(s));
    session_info(s, &info);
    assert_int_equal(info.state, CKS_RW_PUBLIC_SESSION);
    assert_int_equal(info.flags, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    session_put(s);

    CK_SESSION_HANDLE other = open_ok(f, 1, RW);
    assert_true(other != ro && other != rw);
    assert_int_equal(session_get(f->tab, other, &s), CKR_OK);
    assert_int_equal(session_slot(s), 1);
    assert_ptr_equal(session_token(s), f->tok[1]);
    session_put(s);
    assert_counts(f->tok[1], 1, 1);
}

static void test_get_unknown_handle(void **state)
{
    struct fixture *f = *state;
    assert_invalid(f, CK_INVALID_HANDLE);
    assert_invalid(f, 12345);
    CK_SESSION_HANDLE h = open_ok(f, 0, RO);
    assert_invalid(f, h + 1000);
    assert_int_equal(state_of(f, h), CKS_RO_PUBLIC_SESSION);
}

static void test_close_twice(void **state)
{
    struct fixture *f = *state;
    CK_SESSION_HANDLE h = open_ok(f, 0, RW);
    CK_SESSION_HANDLE keep = open_ok(f, 0, RO);
    assert_counts(f->tok[0], 2, 1);
    close_ok(f, h);
    assert_counts(f->tok[0], 1, 0);
    assert_int_equal(session_close(f->tab, h), CKR_SESSION_HANDLE_INVALID);
    assert_int_equal(session_close(f->tab, CK_INVALID_HANDLE), CKR_SESSION_HANDLE_INVALID);
    assert_invalid(f, h);
    assert_counts(f->tok[0], 1, 0); /* the failed closes uncounted nothing */
    assert_int_equal(state_of(f, keep), CKS_RO_PUBLIC_SESSION);
}

static void test_close_all_only_that_slot(void **state)
{
    struct fixture *f = *state;
    CK_SESSION_HANDLE a[2] = {open_ok(f, 0, RO), open_ok(f, 0, RW)};
    CK_SESSION_HANDLE b[2] = {open_ok(f, 1, RW), open_ok(f, 1, RO)};
    assert_int_equal(token_login(f->tok[0], CKU_USER, PIN(USER_PIN)), CKR_OK);
    assert_int_equal(token_login(f->tok[1], CKU_USER, PIN(USER_PIN)), CKR_OK);

    session_close_all(f->tab, 0);
    assert_invalid(f, a[0]);
    assert_invalid(f, a[1]);
    assert_counts(f->tok[0], 0, 0);
    assert_int_equal(token_login_state(f->tok[0]), TOKEN_PUBLIC);

    assert_int_equal(state_of(f, b[0]), CKS_RW_USER_FUNCTIONS);
    assert_int_equal(state_of(f, b[1]), CKS_RO_USER_FUNCTIONS);
    assert_counts(f->tok[1], 2, 1);
    assert_int_equal(token_login_state(f->tok[1]), TOKEN_USER);

    session_close_all(f->tab, 0); /* nothing left there: a no-op */
    assert_counts(f->tok[1], 2, 1);
    session_close_all(f->tab, 1);
    assert_invalid(f, b[0]);
    assert_counts(f->tok[1], 0, 0);
}

static void test_user_states(void **state)
{
    struct fixture *f = *state;
    CK_SESSION_HANDLE ro = open_ok(f, 0, RO);
    CK_SESSION_HANDLE rw = open_ok(f, 0, RW);
    assert_int_equal(state_of(f, ro), CKS_RO_PUBLIC_SESSION);
    assert_int_equal(state_of(f, rw), CKS_RW_PUBLIC_SESSION);

    assert_int_equal(token_login(f->tok[0], CKU_USER, PIN(USER_PIN)), CKR_OK);
    assert_int_equal(state_of(f, ro), CKS_RO_USER_FUNCTIONS);
    assert_int_equal(state_of(f, rw), CKS_RW_USER_FUNCTIONS);
    /* A session opened after login is logged in too. */
    assert_int_equal(state_of(f, open_ok(f, 0, RO)), CKS_RO_USER_FUNCTIONS);
    /* The other slot's token is unaffected. */
    assert_int_equal(state_of(f, open_ok(f, 1, RW)), CKS_RW_PUBLIC_SESSION);

    assert_int_equal(token_logout(f->tok[0]), CKR_OK);
    assert_int_equal(state_of(f, ro), CKS_RO_PUBLIC_SESSION);
    assert_int_equal(state_of(f, rw), CKS_RW_PUBLIC_SESSION);
}

static void test_so_states(void **state)
{
    struct fixture *f = *state;
    CK_SESSION_HANDLE rw = open_ok(f, 0, RW);
    assert_int_equal(token_login(f->tok[0], CKU_SO, PIN(SO_PIN)), CKR_OK);
    assert_int_equal(state_of(f, rw), CKS_RW_SO_FUNCTIONS);

    CK_SESSION_HANDLE h = 77;
    assert_int_equal(session_open(f->tab, f->tok[0], 0, RO, &h), CKR_SESSION_READ_WRITE_SO_EXISTS);
    assert_int_equal(h, 77);
    assert_counts(f->tok[0], 1, 1);
    assert_int_equal(state_of(f, open_ok(f, 0, RW)), CKS_RW_SO_FUNCTIONS);
    /* R/O sessions are fine on the other slot. */
    assert_int_equal(state_of(f, open_ok(f, 1, RO)), CKS_RO_PUBLIC_SESSION);

    assert_int_equal(token_logout(f->tok[0]), CKR_OK);
    assert_int_equal(state_of(f, open_ok(f, 0, RO)), CKS_RO_PUBLIC_SESSION);
}

static void test_session_limits(void **state)
{
    struct fixture *f = *state;
    f->env->cfg.max_sessions = 4;
    f->env->cfg.max_rw_sessions = 2;
    CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
    CK_SESSION_HANDLE rw1 = open_ok(f, 0, RW);
    open_ok(f, 0, RW);
    assert_int_equal(session_open(f->tab, f->tok[0], 0, RW, &h), CKR_SESSION_COUNT);
    assert_counts(f->tok[0], 2, 2);
    CK_SESSION_HANDLE ro1 = open_ok(f, 0, RO);
    open_ok(f, 0, RO);
    assert_int_equal(session_open(f->tab, f->tok[0], 0, RO, &h), CKR_SESSION_COUNT);
    assert_int_equal(session_open(f->tab, f->tok[0], 0, RW, &h), CKR_SESSION_COUNT);
    assert_int_equal(h, CK_INVALID_HANDLE);
    assert_counts(f->tok[0], 4, 2);

    /* The limits are per token. */
    open_ok(f, 1, RW);
    open_ok(f, 1, RW);

    /* Closing an R/O session frees a session but no R/W slot. */
    close_ok(f, ro1);
    assert_int_equal(session_open(f->tab, f->tok[0], 0, RW, &h), CKR_SESSION_COUNT);
    open_ok(f, 0, RO);
    close_ok(f, rw1);
    assert_counts(f->tok[0], 3, 1);
    open_ok(f, 0, RW);
    assert_counts(f->tok[0], 4, 2);
}

static void test_uninitialized_token(void **state)
{
    struct fixture *f = *state;
    token_free(f->tok[1]);
    f->tok[1] = make_token(f, 1, false);
    CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
    assert_int_equal(session_open(f->tab, f->tok[1], 1, RO, &h), CKR_TOKEN_NOT_RECOGNIZED);
    assert_int_equal(session_open(f->tab, f->tok[1], 1, RW, &h), CKR_TOKEN_NOT_RECOGNIZED);
    assert_int_equal(h, CK_INVALID_HANDLE);
    assert_counts(f->tok[1], 0, 0);
}

static void test_last_close_logs_out(void **state)
{
    struct fixture *f = *state;
    CK_SESSION_HANDLE a = open_ok(f, 0, RO);
    CK_SESSION_HANDLE b = open_ok(f, 0, RW);
    assert_int_equal(token_login(f->tok[0], CKU_USER, PIN(USER_PIN)), CKR_OK);
    close_ok(f, a);
    assert_int_equal(token_login_state(f->tok[0]), TOKEN_USER);
    assert_int_equal(state_of(f, b), CKS_RW_USER_FUNCTIONS);
    close_ok(f, b);
    assert_int_equal(token_login_state(f->tok[0]), TOKEN_PUBLIC);
    assert_int_equal(state_of(f, open_ok(f, 0, RO)), CKS_RO_PUBLIC_SESSION);

    /* The same through the SO and session_close_all. */
    token_free(f->tok[1]);
    f->tok[1] = make_token(f, 1, true);
    open_ok(f, 1, RW);
    assert_int_equal(token_login(f->tok[1], CKU_SO, PIN(SO_PIN)), CKR_OK);
    session_close_all(f->tab, 1);
    assert_int_equal(token_login_state(f->tok[1]), TOKEN_PUBLIC);
    assert_int_equal(token_login_state(f->tok[0]), TOKEN_PUBLIC);
}

static int cmp_handle(const void *a, const void *b)
{
    CK_SESSION_HANDLE x = *(const CK_SESSION_HANDLE *)a, y = *(const CK_SESSION_HANDLE *)b;
    return x < y ? -1 : x > y;
}

static void test_thousand_sessions(void **state)
{
    enum { N = 1000 };
    struct fixture *f = *state;
    CK_SESSION_HANDLE h[N], sorted[N], extra = CK_INVALID_HANDLE;
    f->env->cfg.max_sessions = N;
    f->env->cfg.max_rw_sessions = N / 2;
    for (int i = 0; i < N; i++)
        h[i] = open_ok(f, 0, i % 2 ? RW : RO);
    assert_counts(f->tok[0], N, N / 2);
    assert_int_equal(session_open(f->tab, f->tok[0], 0, RO, &extra), CKR_SESSION_COUNT);

    memcpy(sorted, h, sizeof(h));
    qsort(sorted, N, sizeof(sorted[0]), cmp_handle);
    for (int i = 1; i < N; i++)
        assert_true(sorted[i - 1] < sorted[i]);

    for (int i = 0; i < N; i++) {
        struct session *s = NULL;
        assert_int_equal(session_get(f->tab, h[i], &s), CKR_OK);
        assert_int_equal(session_is_rw(s), i % 2 != 0);
        assert_int_equal(session_slot(s), 0);
        session_put(s);
    }
    /* Close every other one, check the rest, then close those. */
    for (int i = 0; i < N; i += 2)
        close_ok(f, h[i]);
    assert_counts(f->tok[0], N / 2, N / 2);
    for (int i = 0; i < N; i++) {
        struct session *s = NULL;
        CK_RV rv = session_get(f->tab, h[i], &s);
        assert_int_equal(rv, i % 2 ? CKR_OK : CKR_SESSION_HANDLE_INVALID);
        if (rv == CKR_OK)
            session_put(s);
    }
    for (int i = 1; i < N; i += 2)
        close_ok(f, h[i]);
    assert_counts(f->tok[0], 0, 0);
    for (int i = 0; i < N; i++)
        assert_invalid(f, h[i]);
    /* Handles are not reused right away. */
    CK_SESSION_HANDLE again = open_ok(f, 0, RO);
    for (int i = 0; i < N; i++)
        assert_int_not_equal(again, h[i]);
}

static void test_reference_outlives_close(void **state)
{
    struct fixture *f = *state;
    CK_SESSION_HANDLE h = open_ok(f, 1, RW);
    struct session *s = NULL, *s2 = NULL;
    assert_int_equal(session_get(f->tab, h, &s), CKR_OK);
    assert_int_equal(session_get(f->tab, h, &s2), CKR_OK);
    assert_ptr_equal(s, s2);
    session_put(s2);
    close_ok(f, h);
    assert_invalid(f, h);
    assert_counts(f->tok[1], 0, 0);
    /* Our reference keeps the session readable until we drop it. */
    assert_ptr_equal(session_token(s), f->tok[1]);
    assert_int_equal(session_slot(s), 1);
    assert_true(session_is_rw(s));
    assert_int_equal(session_state(s), CKS_RW_PUBLIC_SESSION);
    session_put(s);

    /* And the same with close_all. */
    h = open_ok(f, 0, RO);
    assert_int_equal(session_get(f->tab, h, &s), CKR_OK);
    session_close_all(f->tab, 0);
    assert_int_equal(session_slot(s), 0);
    session_put(s);
    session_put(NULL);
}

static void test_table_free_closes_sessions(void **state)
{
    struct fixture *f = *state;
    open_ok(f, 0, RW);
    open_ok(f, 1, RO);
    assert_int_equal(token_login(f->tok[0], CKU_USER, PIN(USER_PIN)), CKR_OK);
    session_table_free(f->tab);
    f->tab = NULL;
    assert_counts(f->tok[0], 0, 0);
    assert_counts(f->tok[1], 0, 0);
    assert_int_equal(token_login_state(f->tok[0]), TOKEN_PUBLIC);
    session_table_free(NULL);
    assert_int_equal(session_table_new(&f->tab), CKR_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_open_ro_and_rw),
        T(test_get_unknown_handle),
        T(test_close_twice),
        T(test_close_all_only_that_slot),
        T(test_user_states),
        T(test_so_states),
        T(test_session_limits),
        T(test_uninitialized_token),
        T(test_last_close_logs_out),
        T(test_thousand_sessions),
        T(test_reference_outlives_close),
        T(test_table_free_closes_sessions),
#undef T
    };
    return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
