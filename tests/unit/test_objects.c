/*
 * Unit tests of the object collection (src/object/objects.c): handles,
 * indexes, visibility, sealing, logout semantics, persistence, usage checks.
 */
#include "unit_util.h"

#include "object/objects.h"
#include "object/rules.h"
#include "store/store.h"

#define OBJ_MANY 20000 /* objects in the index test (the bench goes to 1,000,000) */

struct fx {
    struct ut_env *env;
    struct store *st;
    struct objects *o;
    unsigned char omk[CRYPTO_KEY_LEN];
    struct objects_view pub, user;
};

static void open_objects(struct fx *f)
{
    char err[STORE_ERR_MAX];
    assert_int_equal(store_open(f->env->dir, &f->st, err), CKR_OK);
    assert_int_equal(objects_new(0, f->env->crypto, f->st, &f->o), CKR_OK);
}

static void close_objects(struct fx *f)
{
    objects_free(f->o);
    store_close(f->st);
    f->o = NULL;
    f->st = NULL;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->env = ut_env_new();
    memset(f->omk, 0x5a, sizeof(f->omk));
    f->user = (struct objects_view){.user = true, .omk = f->omk};
    f->pub = (struct objects_view){.user = false, .omk = NULL};
    open_objects(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    close_objects(f);
    ut_env_free(f->env);
    free(f);
    return 0;
}

/* Adds a data object; returns its handle. */
static CK_OBJECT_HANDLE add_data(struct fx *f, bool token, bool priv, const char *label,
                                 const char *value, CK_SESSION_HANDLE owner)
{
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_BBOOL t = token, p = priv;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_TOKEN, &t, sizeof(t)},
        {CKA_PRIVATE, &p, sizeof(p)},
        {CKA_LABEL, (void *)label, strlen(label)},
        {CKA_VALUE, (void *)value, strlen(value)},
    };
    struct attrs a = {0};
    CK_OBJECT_HANDLE h = 0;
    assert_int_equal(attrs_from_template(tmpl, 5, CKO_DATA, &a), CKR_OK);
    assert_int_equal(rules_complete_new(RULES_CREATE, &a, CK_UNAVAILABLE_INFORMATION, false, false),
                     CKR_OK);
    assert_int_equal(objects_add(f->o, &a, owner, &f->user, &h), CKR_OK);
    attrs_free(&a);
    assert_int_not_equal(h, CK_INVALID_HANDLE);
    return h;
}

/* Handles matching CKA_LABEL = label for view v. */
static size_t find_label(struct fx *f, const struct objects_view *v, const char *label,
                         CK_OBJECT_HANDLE *first)
{
    CK_ATTRIBUTE t = {CKA_LABEL, (void *)label, strlen(label)};
    struct attrs tmpl = {0};
    CK_OBJECT_HANDLE *hs = NULL;
    size_t n = 0;
    assert_int_equal(attrs_from_template(&t, 1, CK_UNAVAILABLE_INFORMATION, &tmpl), CKR_OK);
    assert_int_equal(objects_find(f->o, &tmpl, v, &hs, &n), CKR_OK);
    if (first != NULL)
        *first = n > 0 ? hs[0] : CK_INVALID_HANDLE;
    free(hs);
    attrs_free(&tmpl);
    return n;
}

static void get_value(struct fx *f, const struct objects_view *v, CK_OBJECT_HANDLE h,
                      CK_ATTRIBUTE_TYPE type, char *buf, size_t cap)
{
    CK_ATTRIBUTE t = {type, buf, cap - 1};
    assert_int_equal(objects_get_attributes(f->o, h, v, &t, 1), CKR_OK);
    buf[t.ulValueLen] = '\0';
}

static void test_profile_object_present(void **state)
{
    struct fx *f = *state;
    CK_OBJECT_CLASS cls = CKO_PROFILE;
    CK_ATTRIBUTE t = {CKA_CLASS, &cls, sizeof(cls)};
    struct attrs tmpl = {0};
    CK_OBJECT_HANDLE *hs = NULL;
    size_t n = 0;
    assert_int_equal(attrs_from_template(&t, 1, CK_UNAVAILABLE_INFORMATION, &tmpl), CKR_OK);
    assert_int_equal(objects_find(f->o, &tmpl, &f->pub, &hs, &n), CKR_OK);
    assert_int_equal(n, 1);
    CK_ULONG id = 0;
    CK_ATTRIBUTE g = {CKA_PROFILE_ID, &id, sizeof(id)};
    assert_int_equal(objects_get_attributes(f->o, hs[0], &f->pub, &g, 1), CKR_OK);
    assert_int_equal(id, CKP_PUBLIC_CERTIFICATES_TOKEN);
    assert_int_equal(objects_destroy(f->o, hs[0], &f->user), CKR_ACTION_PROHIBITED);
    free(hs);
    attrs_free(&tmpl);
}

static void test_private_invisible_without_user(void **state)
{
    struct fx *f = *state;
    CK_OBJECT_HANDLE h = add_data(f, true, true, "secret", "s3cr3t", 1);
    char buf[32];
    CK_ATTRIBUTE t = {CKA_VALUE, buf, sizeof(buf)};
    assert_int_equal(objects_get_attributes(f->o, h, &f->pub, &t, 1), CKR_OBJECT_HANDLE_INVALID);
    assert_int_equal(find_label(f, &f->pub, "secret", NULL), 0);
    assert_int_equal(find_label(f, &f->user, "secret", NULL), 1);
}

static void test_logout_invalidates_private_handles(void **state)
{
    struct fx *f = *state;
    CK_OBJECT_HANDLE tok = add_data(f, true, true, "ptok", "v1", 1);
    CK_OBJECT_HANDLE ses = add_data(f, false, true, "pses", "v2", 1);
    CK_OBJECT_HANDLE pub = add_data(f, false, false, "pub", "v3", 1);
    objects_logout(f->o);
    char buf[16];
    CK_ATTRIBUTE t = {CKA_VALUE, buf, sizeof(buf)};
    /* Handles to private objects are dead for good, even after re-login. */
    assert_int_equal(objects_get_attributes(f->o, tok, &f->user, &t, 1), CKR_OBJECT_HANDLE_INVALID);
    assert_int_equal(objects_get_attributes(f->o, ses, &f->user, &t, 1), CKR_OBJECT_HANDLE_INVALID);
    /* The private token object comes back with a new handle; the private
     * session object is gone; the public session object survives. */
    CK_OBJECT_HANDLE again;
    assert_int_equal(find_label(f, &f->user, "ptok", &again), 1);
    assert_int_not_equal(again, tok);
    get_value(f, &f->user, again, CKA_VALUE, buf, sizeof(buf));
    assert_string_equal(buf, "v1");
    assert_int_equal(find_label(f, &f->user, "pses", NULL), 0);
    get_value(f, &f->pub, pub, CKA_VALUE, buf, sizeof(buf));
    assert_string_equal(buf, "v3");
}

static void test_session_objects_die_with_session(void **state)
{
    struct fx *f = *state;
    add_data(f, false, false, "mine", "a", 7);
    add_data(f, false, false, "theirs", "b", 8);
    objects_session_closed(f->o, 7);
    assert_int_equal(find_label(f, &f->pub, "mine", NULL), 0);
    assert_int_equal(find_label(f, &f->pub, "theirs", NULL), 1);
}

static void test_token_objects_persist_sealed(void **state)
{
    struct fx *f = *state;
    add_data(f, true, false, "public-one", "hello-public", 1);
    add_data(f, true, true, "private-one", "hello-private", 1);
    close_objects(f);
    /* The private value and label are not in the file in plaintext. */
    char path[PATH_MAX], *buf = malloc(1 << 20);
    assert_non_null(buf);
    size_t n = ut_read_file(ut_join(path, f->env->dir, "token.db"), buf, 1 << 20);
    assert_null(memmem(buf, n, "hello-private", 13));
    assert_null(memmem(buf, n, "private-one", 11));
    free(buf);
    open_objects(f);
    char v[32];
    CK_OBJECT_HANDLE h;
    assert_int_equal(find_label(f, &f->pub, "public-one", &h), 1);
    get_value(f, &f->pub, h, CKA_VALUE, v, sizeof(v));
    assert_string_equal(v, "hello-public");
    assert_int_equal(find_label(f, &f->pub, "private-one", NULL), 0);
    assert_int_equal(find_label(f, &f->user, "private-one", &h), 1);
    get_value(f, &f->user, h, CKA_VALUE, v, sizeof(v));
    assert_string_equal(v, "hello-private");
}

static void test_wrong_omk_or_tamper_hides_only_that_object(void **state)
{
    struct fx *f = *state;
    add_data(f, true, true, "first", "1", 1);
    add_data(f, true, true, "second", "2", 1);
    close_objects(f);
    /* Flip one byte of the sealed record of one private object. */
    sqlite3 *db = ut_db_open(f->env->dir);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT uid, sealed FROM objects WHERE private = 1 "
                                        "ORDER BY uid LIMIT 1",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    unsigned char uid[STORE_UID_LEN], sealed[512];
    int len = sqlite3_column_bytes(q, 1);
    assert_true(len > 30 && len <= (int)sizeof(sealed));
    memcpy(uid, sqlite3_column_blob(q, 0), sizeof(uid));
    memcpy(sealed, sqlite3_column_blob(q, 1), (size_t)len);
    sqlite3_finalize(q);
    sealed[20] ^= 0x01;
    assert_int_equal(sqlite3_prepare_v2(db, "UPDATE objects SET sealed = ? WHERE uid = ?", -1, &q,
                                        NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(q, 1, sealed, len, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, uid, sizeof(uid), SQLITE_STATIC);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
    sqlite3_close(db);
    open_objects(f);
    size_t total = find_label(f, &f->user, "first", NULL) + find_label(f, &f->user, "second", NULL);
    assert_int_equal(total, 1);
    /* A wrong OMK opens nothing but breaks nothing. */
    close_objects(f);
    open_objects(f);
    unsigned char other[CRYPTO_KEY_LEN];
    memset(other, 0x11, sizeof(other));
    struct objects_view wrong = {.user = true, .omk = other};
    assert_int_equal(find_label(f, &wrong, "first", NULL) + find_label(f, &wrong, "second", NULL),
                     0);
}

static void test_set_label_reindexes_and_persists(void **state)
{
    struct fx *f = *state;
    CK_OBJECT_HANDLE h = add_data(f, true, false, "before", "x", 1);
    CK_ATTRIBUTE t = {CKA_LABEL, "after", 5};
    struct attrs ch = {0};
    assert_int_equal(attrs_from_template(&t, 1, CK_UNAVAILABLE_INFORMATION, &ch), CKR_OK);
    assert_int_equal(objects_set_attributes(f->o, h, &f->user, &ch), CKR_OK);
    attrs_free(&ch);
    assert_int_equal(find_label(f, &f->pub, "before", NULL), 0);
    assert_int_equal(find_label(f, &f->pub, "after", NULL), 1);
    close_objects(f);
    open_objects(f);
    assert_int_equal(find_label(f, &f->pub, "after", NULL), 1);
    assert_int_equal(find_label(f, &f->pub, "before", NULL), 0);
}

static void test_destroy_removes_from_store(void **state)
{
    struct fx *f = *state;
    CK_OBJECT_HANDLE h = add_data(f, true, false, "doomed", "x", 1);
    assert_int_equal(objects_destroy(f->o, h, &f->pub), CKR_OK);
    assert_int_equal(objects_destroy(f->o, h, &f->pub), CKR_OBJECT_HANDLE_INVALID);
    close_objects(f);
    open_objects(f);
    assert_int_equal(find_label(f, &f->pub, "doomed", NULL), 0);
}

static void test_clear_keeps_profiles(void **state)
{
    struct fx *f = *state;
    add_data(f, false, false, "gone", "x", 1);
    size_t before = objects_count(f->o);
    objects_clear(f->o);
    assert_int_equal(objects_count(f->o), before - 1);
    assert_int_equal(find_label(f, &f->pub, "gone", NULL), 0);
}

static void test_many_objects_indexed(void **state)
{
    struct fx *f = *state;
    char label[32];
    for (int i = 0; i < OBJ_MANY; i++) {
        snprintf(label, sizeof(label), "obj-%06d", i);
        add_data(f, false, i % 2 == 0, label, "v", 1);
    }
    for (int i = 0; i < OBJ_MANY; i += OBJ_MANY / 100) {
        snprintf(label, sizeof(label), "obj-%06d", i);
        assert_int_equal(find_label(f, &f->user, label, NULL), 1);
        assert_int_equal(find_label(f, &f->pub, label, NULL), i % 2 == 0 ? 0 : 1);
    }
    assert_int_equal(objects_count(f->o), OBJ_MANY + 1);
}

static CK_OBJECT_HANDLE add_aes(struct fx *f, const char *start, const char *end, bool sign)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    CK_BBOOL s = sign;
    unsigned char key[16] = {1, 2, 3};
    CK_ATTRIBUTE tmpl[4] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &kt, sizeof(kt)},
        {CKA_VALUE, key, sizeof(key)},
        {CKA_SIGN, &s, sizeof(s)},
    };
    struct attrs a = {0};
    CK_OBJECT_HANDLE h;
    assert_int_equal(attrs_from_template(tmpl, 4, CKO_SECRET_KEY, &a), CKR_OK);
    if (start != NULL)
        assert_int_equal(attrs_set(&a, CKO_SECRET_KEY, CKA_START_DATE, start, 8), CKR_OK);
    if (end != NULL)
        assert_int_equal(attrs_set(&a, CKO_SECRET_KEY, CKA_END_DATE, end, 8), CKR_OK);
    assert_int_equal(rules_complete_new(RULES_CREATE, &a, CK_UNAVAILABLE_INFORMATION, false, false),
                     CKR_OK);
    assert_int_equal(objects_add(f->o, &a, 1, &f->user, &h), CKR_OK);
    attrs_free(&a);
    return h;
}

static void test_check_use_flags_and_dates(void **state)
{
    struct fx *f = *state;
    CK_OBJECT_HANDLE k = add_aes(f, "20260101", "20261231", true);
    assert_int_equal(objects_check_use(f->o, k, &f->user, CKA_SIGN, 20260615), CKR_OK);
    assert_int_equal(objects_check_use(f->o, k, &f->user, CKA_SIGN, 20251231),
                     CKR_KEY_FUNCTION_NOT_PERMITTED);
    assert_int_equal(objects_check_use(f->o, k, &f->user, CKA_SIGN, 20270101),
                     CKR_KEY_FUNCTION_NOT_PERMITTED);
    assert_int_equal(objects_check_use(f->o, k, &f->user, CKA_WRAP, 20260615),
                     CKR_KEY_FUNCTION_NOT_PERMITTED);
    CK_OBJECT_HANDLE nosign = add_aes(f, NULL, NULL, false);
    assert_int_equal(objects_check_use(f->o, nosign, &f->user, CKA_SIGN, 20260615),
                     CKR_KEY_FUNCTION_NOT_PERMITTED);
    assert_int_equal(objects_check_use(f->o, nosign, &f->user, CKA_ENCRYPT, 20260615), CKR_OK);
    CK_OBJECT_HANDLE data = add_data(f, false, false, "not-a-key", "x", 1);
    assert_int_equal(objects_check_use(f->o, data, &f->user, CKA_SIGN, 20260615),
                     CKR_KEY_HANDLE_INVALID);
    /* Private keys and secret keys are invisible to a public view. */
    assert_int_equal(objects_check_use(f->o, k, &f->pub, CKA_SIGN, 20260615),
                     CKR_OBJECT_HANDLE_INVALID);
}

static void test_secret_key_sealed_and_unreadable(void **state)
{
    struct fx *f = *state;
    CK_OBJECT_HANDLE k = add_aes(f, NULL, NULL, true);
    unsigned char v[32];
    CK_ATTRIBUTE t = {CKA_VALUE, v, sizeof(v)};
    assert_int_equal(objects_get_attributes(f->o, k, &f->user, &t, 1), CKR_ATTRIBUTE_SENSITIVE);
    assert_int_equal(t.ulValueLen, CK_UNAVAILABLE_INFORMATION);
}

/* Searching by a sensitive attribute's value never confirms a guess; a
 * readable value still matches. */
static void test_find_never_matches_sensitive_values(void **state)
{
    struct fx *f = *state;
    unsigned char key[16] = {1, 2, 3};
    add_aes(f, NULL, NULL, true); /* sensitive by default, value {1,2,3,0...} */
    CK_ATTRIBUTE t = {CKA_VALUE, key, sizeof(key)};
    struct attrs tmpl = {0};
    CK_OBJECT_HANDLE *hs = NULL;
    size_t n = 99;
    assert_int_equal(attrs_from_template(&t, 1, CK_UNAVAILABLE_INFORMATION, &tmpl), CKR_OK);
    assert_int_equal(objects_find(f->o, &tmpl, &f->user, &hs, &n), CKR_OK);
    assert_int_equal(n, 0);
    free(hs);
    /* A data object's CKA_VALUE is not sensitive and matches. */
    add_data(f, false, false, "d", "xyz", 1);
    attrs_free(&tmpl);
    CK_ATTRIBUTE t2 = {CKA_VALUE, "xyz", 3};
    assert_int_equal(attrs_from_template(&t2, 1, CK_UNAVAILABLE_INFORMATION, &tmpl), CKR_OK);
    assert_int_equal(objects_find(f->o, &tmpl, &f->pub, &hs, &n), CKR_OK);
    assert_int_equal(n, 1);
    free(hs);
    attrs_free(&tmpl);
}

/* A public, readable secret key whose value is sealed: logged out, the
 * value is CKR_ATTRIBUTE_SENSITIVE (not "no such attribute"), and changing
 * its label then keeps the sealed value. */
static void test_public_key_value_sealed_while_logged_out(void **state)
{
    struct fx *f = *state;
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    unsigned char key[20] = {4, 5, 6};
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof(cls)},   {CKA_KEY_TYPE, &kt, sizeof(kt)},
        {CKA_VALUE, key, sizeof(key)},    {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_PRIVATE, &no, sizeof(no)},   {CKA_SENSITIVE, &no, sizeof(no)},
        {CKA_EXTRACTABLE, &yes, sizeof(yes)}, {CKA_LABEL, "pubkey", 6},
    };
    struct attrs a = {0};
    CK_OBJECT_HANDLE h;
    assert_int_equal(attrs_from_template(tmpl, 8, CKO_SECRET_KEY, &a), CKR_OK);
    assert_int_equal(rules_complete_new(RULES_CREATE, &a, CK_UNAVAILABLE_INFORMATION, false, false),
                     CKR_OK);
    assert_int_equal(objects_add(f->o, &a, 1, &f->user, &h), CKR_OK);
    attrs_free(&a);
    close_objects(f);
    open_objects(f);
    CK_OBJECT_HANDLE k;
    assert_int_equal(find_label(f, &f->pub, "pubkey", &k), 1);
    unsigned char v[20];
    CK_ATTRIBUTE g = {CKA_VALUE, v, sizeof(v)};
    assert_int_equal(objects_get_attributes(f->o, k, &f->pub, &g, 1), CKR_ATTRIBUTE_SENSITIVE);
    CK_ATTRIBUTE t = {CKA_LABEL, "renamed", 7};
    struct attrs ch = {0};
    assert_int_equal(attrs_from_template(&t, 1, CK_UNAVAILABLE_INFORMATION, &ch), CKR_OK);
    assert_int_equal(objects_set_attributes(f->o, k, &f->pub, &ch), CKR_OK);
    attrs_free(&ch);
    close_objects(f);
    open_objects(f);
    assert_int_equal(find_label(f, &f->user, "renamed", &k), 1);
    g.ulValueLen = sizeof(v);
    assert_int_equal(objects_get_attributes(f->o, k, &f->user, &g, 1), CKR_OK);
    assert_memory_equal(v, key, sizeof(key));
}

/* An attribute array (CKA_WRAP_TEMPLATE) reads back as a CK_ATTRIBUTE array
 * with the spec's two-step length rules for each entry. */
static void test_wrap_template_reads_back(void **state)
{
    struct fx *f = *state;
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    CK_BBOOL no = CK_FALSE;
    unsigned char key[16] = {9};
    CK_ATTRIBUTE inner[] = {{CKA_EXTRACTABLE, &no, sizeof(no)}, {CKA_LABEL, "wrapped", 7}};
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &kt, sizeof(kt)},
        {CKA_VALUE, key, sizeof(key)},
        {CKA_WRAP_TEMPLATE, inner, sizeof(inner)},
    };
    struct attrs a = {0};
    CK_OBJECT_HANDLE h;
    assert_int_equal(attrs_from_template(tmpl, 4, CKO_SECRET_KEY, &a), CKR_OK);
    assert_int_equal(rules_complete_new(RULES_CREATE, &a, CK_UNAVAILABLE_INFORMATION, false, false),
                     CKR_OK);
    assert_int_equal(objects_add(f->o, &a, 1, &f->user, &h), CKR_OK);
    attrs_free(&a);
    CK_ATTRIBUTE q = {CKA_WRAP_TEMPLATE, NULL, 0};
    assert_int_equal(objects_get_attributes(f->o, h, &f->user, &q, 1), CKR_OK);
    assert_int_equal(q.ulValueLen, 2 * sizeof(CK_ATTRIBUTE));
    CK_ATTRIBUTE out[2] = {{0, NULL, 0}, {0, NULL, 0}};
    q.pValue = out;
    assert_int_equal(objects_get_attributes(f->o, h, &f->user, &q, 1), CKR_OK);
    /* Sorted by type: CKA_LABEL (0x3) before CKA_EXTRACTABLE (0x162). */
    assert_int_equal(out[0].type, CKA_LABEL);
    assert_int_equal(out[0].ulValueLen, 7);
    assert_int_equal(out[1].type, CKA_EXTRACTABLE);
    char label[4];
    CK_BBOOL ext = CK_TRUE;
    out[0].pValue = label;
    out[0].ulValueLen = sizeof(label);
    out[1].pValue = &ext;
    out[1].ulValueLen = sizeof(ext);
    assert_int_equal(objects_get_attributes(f->o, h, &f->user, &q, 1), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(out[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    assert_int_equal(ext, CK_FALSE);
    CK_ATTRIBUTE small[1];
    q.pValue = small;
    q.ulValueLen = sizeof(small);
    assert_int_equal(objects_get_attributes(f->o, h, &f->user, &q, 1), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(q.ulValueLen, CK_UNAVAILABLE_INFORMATION);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_profile_object_present),
        T(test_private_invisible_without_user),
        T(test_logout_invalidates_private_handles),
        T(test_session_objects_die_with_session),
        T(test_token_objects_persist_sealed),
        T(test_wrong_omk_or_tamper_hides_only_that_object),
        T(test_set_label_reindexes_and_persists),
        T(test_destroy_removes_from_store),
        T(test_clear_keeps_profiles),
        T(test_many_objects_indexed),
        T(test_check_use_flags_and_dates),
        T(test_secret_key_sealed_and_unreadable),
        T(test_wrap_template_reads_back),
        T(test_find_never_matches_sensitive_values),
        T(test_public_key_value_sealed_while_logged_out),
    };
    return cmocka_run_group_tests_name("objects", tests, NULL, NULL);
}
