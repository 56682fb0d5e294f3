/* Objects through the ABI: data objects, certificates, secret keys, attribute
 * get/set/copy/destroy rules.  Fixture in objects_util.h. */
#include "objects_util.h"

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
    };
    return cmocka_run_group_tests_name("abi-objects", tests, group_setup, group_teardown);
}
