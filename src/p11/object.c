/* Object management (PKCS#11 3.2 section 5.7). */
#include <stdlib.h>
#include <string.h>

#include "core/hsm.h"
#include "object/keyimport.h"
#include "object/objects.h"
#include "object/rules.h"
#include "p11/p11.h"

/* The calling session's view of its token's objects; the OMK copy lives in
 * omk until p11_view_done. */
struct p11_view {
    struct objects_view v;
    unsigned char omk[CRYPTO_KEY_LEN];
};

static void view_begin(struct session *s, struct p11_view *pv)
{
    token_view(session_token(s), &pv->v, pv->omk);
}

static void view_done(struct p11_view *pv)
{
    crypto_wipe(pv->omk, sizeof(pv->omk));
}

/* Who may hold a new object with these attributes in session s:
 * CKA_TOKEN needs an R/W session, CKA_PRIVATE needs the user, and private
 * or secret keys need a login. */
static CK_RV may_hold(struct session *s, const struct p11_view *pv, const struct attrs *a)
{
    CK_ULONG cls = 0;
    (void)attrs_get_ulong(a, CKA_CLASS, &cls);
    if (attrs_bool(a, CKA_TOKEN, false) && !session_is_rw(s))
        return CKR_SESSION_READ_ONLY;
    if (attrs_bool(a, CKA_PRIVATE, false) && !pv->v.user)
        return CKR_USER_NOT_LOGGED_IN;
    if ((cls == CKO_PRIVATE_KEY || cls == CKO_SECRET_KEY) && pv->v.omk == NULL)
        return CKR_USER_NOT_LOGGED_IN;
    return CKR_OK;
}

/* 5.7 */
CK_RV C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
                     CK_OBJECT_HANDLE_PTR phObject)
{
    struct hsm *h;
    struct session *s;
    struct attrs a = {0};
    struct p11_view pv;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    view_begin(s, &pv);
    if (phObject == NULL || (pTemplate == NULL && ulCount > 0)) {
        rv = CKR_ARGUMENTS_BAD;
        goto out;
    }
    rv = attrs_from_template(pTemplate, ulCount, CK_UNAVAILABLE_INFORMATION, &a);
    if (rv == CKR_OK)
        rv = rules_complete_new(RULES_CREATE, &a, CK_UNAVAILABLE_INFORMATION, false, false);
    if (rv == CKR_OK)
        rv = may_hold(s, &pv, &a);
    if (rv == CKR_OK) {
        CK_ULONG cls = 0, kt = CK_UNAVAILABLE_INFORMATION;
        (void)attrs_get_ulong(&a, CKA_CLASS, &cls);
        (void)attrs_get_ulong(&a, CKA_KEY_TYPE, &kt);
        rv = keyimport_check(h->crypto, cls, kt, &a);
    }
    if (rv == CKR_OK)
        rv = objects_add(token_objects(session_token(s)), &a, hSession, &pv.v, phObject);
out:
    attrs_free(&a);
    view_done(&pv);
    session_put(s);
    return rv;
}

/* 5.7 */
CK_RV C_CopyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                   CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phNewObject)
{
    struct hsm *h;
    struct session *s;
    struct attrs changes = {0}, copy = {0};
    struct p11_view pv;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    view_begin(s, &pv);
    struct objects *objs = token_objects(session_token(s));
    if (phNewObject == NULL || (pTemplate == NULL && ulCount > 0)) {
        rv = CKR_ARGUMENTS_BAD;
        goto out;
    }
    rv = objects_snapshot(objs, hObject, &pv.v, &copy);
    CK_ULONG cls = 0;
    (void)attrs_get_ulong(&copy, CKA_CLASS, &cls);
    if (rv == CKR_OK)
        rv = attrs_from_template(pTemplate, ulCount, cls, &changes);
    if (rv == CKR_OK)
        rv = rules_check_copy(&copy, &changes);
    for (size_t i = 0; rv == CKR_OK && i < changes.n; i++)
        rv = attrs_set(&copy, cls, changes.v[i].type, changes.v[i].value, changes.v[i].len);
    if (rv == CKR_OK)
        rv = may_hold(s, &pv, &copy);
    if (rv == CKR_OK)
        rv = objects_add(objs, &copy, hSession, &pv.v, phNewObject);
out:
    attrs_free(&changes);
    attrs_free(&copy);
    view_done(&pv);
    session_put(s);
    return rv;
}

/* Checks that session s may change object hObject (R/W for token objects). */
static CK_RV may_change(struct session *s, struct objects *objs, CK_OBJECT_HANDLE hObject,
                        const struct p11_view *pv)
{
    bool is_token = false, is_private = false;
    CK_RV rv = objects_flags(objs, hObject, &pv->v, &is_token, &is_private);
    if (rv == CKR_OK && is_token && !session_is_rw(s))
        rv = CKR_SESSION_READ_ONLY;
    return rv;
}

/* 5.7 */
CK_RV C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject)
{
    struct hsm *h;
    struct session *s;
    struct p11_view pv;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    view_begin(s, &pv);
    struct objects *objs = token_objects(session_token(s));
    rv = may_change(s, objs, hObject, &pv);
    if (rv == CKR_OK)
        rv = objects_destroy(objs, hObject, &pv.v);
    view_done(&pv);
    session_put(s);
    return rv;
}

/* 5.7 */
CK_RV C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ULONG_PTR pulSize)
{
    struct hsm *h;
    struct session *s;
    struct p11_view pv;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    view_begin(s, &pv);
    if (pulSize == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else
        rv = objects_size(token_objects(session_token(s)), hObject, &pv.v, pulSize);
    view_done(&pv);
    session_put(s);
    return rv;
}

/* 5.7 */
CK_RV C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    struct hsm *h;
    struct session *s;
    struct p11_view pv;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    view_begin(s, &pv);
    if ((pTemplate == NULL && ulCount > 0) || ulCount > ATTR_MAX_TEMPLATE)
        rv = CKR_ARGUMENTS_BAD;
    else
        rv = objects_get_attributes(token_objects(session_token(s)), hObject, &pv.v, pTemplate,
                                    ulCount);
    view_done(&pv);
    session_put(s);
    return rv;
}

/* 5.7 */
CK_RV C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    struct hsm *h;
    struct session *s;
    struct attrs changes = {0};
    struct p11_view pv;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    view_begin(s, &pv);
    struct objects *objs = token_objects(session_token(s));
    if (pTemplate == NULL && ulCount > 0)
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK)
        rv = may_change(s, objs, hObject, &pv);
    if (rv == CKR_OK)
        rv = attrs_from_template(pTemplate, ulCount, CK_UNAVAILABLE_INFORMATION, &changes);
    if (rv == CKR_OK)
        rv = objects_set_attributes(objs, hObject, &pv.v, &changes);
    attrs_free(&changes);
    view_done(&pv);
    session_put(s);
    return rv;
}

/* 5.7 */
CK_RV C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    struct hsm *h;
    struct session *s;
    struct attrs tmpl = {0};
    struct p11_view pv;
    CK_OBJECT_HANDLE *found = NULL;
    size_t n = 0;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    view_begin(s, &pv);
    if (pTemplate == NULL && ulCount > 0)
        rv = CKR_ARGUMENTS_BAD;
    else if (session_finding(s))
        rv = CKR_OPERATION_ACTIVE;
    if (rv == CKR_OK)
        rv = attrs_from_template(pTemplate, ulCount, CK_UNAVAILABLE_INFORMATION, &tmpl);
    if (rv == CKR_OK)
        rv = objects_find(token_objects(session_token(s)), &tmpl, &pv.v, &found, &n);
    if (rv == CKR_OK) {
        rv = session_find_begin(s, found, n);
        if (rv != CKR_OK)
            free(found);
    }
    attrs_free(&tmpl);
    view_done(&pv);
    session_put(s);
    return rv;
}

/* 5.7 */
CK_RV C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject,
                    CK_ULONG ulMaxObjectCount, CK_ULONG_PTR pulObjectCount)
{
    struct hsm *h;
    struct session *s;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    if (pulObjectCount == NULL || (phObject == NULL && ulMaxObjectCount > 0))
        rv = CKR_ARGUMENTS_BAD;
    else
        rv = session_find_next(s, phObject, ulMaxObjectCount, pulObjectCount);
    session_put(s);
    return rv;
}

/* 5.7 */
CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE hSession)
{
    struct hsm *h;
    struct session *s;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    rv = session_find_end(s);
    session_put(s);
    return rv;
}
