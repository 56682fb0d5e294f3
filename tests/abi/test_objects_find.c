/* Objects through the ABI: searches, private objects and login state, the
 * store (no plaintext secrets, tampering), EC keys by components.  Fixture
 * in objects_util.h. */
#include "objects_util.h"

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
    return cmocka_run_group_tests_name("abi-objects-find", tests, group_setup, group_teardown);
}
