/* Object management (PKCS#11 3.2 section 5.7). */
#include <stdlib.h>
#include <string.h>

#include "core/hsm.h"
#include "object/keyimport.h"
#include "object/objects.h"
#include "object/rules.h"
#include "p11/p11.h"

/* One call on a session's objects: the session reference and the
 * application's view (with a copy of the OMK, wiped by call_end). */
struct call {
    struct hsm *h;
    struct session *s;
    struct objects *objs;
    struct objects_view v;
    unsigned char omk[CRYPTO_KEY_LEN];
};

static CK_RV call_begin(CK_SESSION_HANDLE hSession, struct call *c)
{
    CK_RV rv = p11_session(hSession, &c->h, &c->s);
    if (rv != CKR_OK)
        return rv;
    c->objs = token_objects(session_token(c->s));
    token_view(session_token(c->s), &c->v, c->omk);
    return CKR_OK;
}

static void call_end(struct call *c)
{
    crypto_wipe(c->omk, sizeof(c->omk));
    session_put(c->s);
}

/* Who may hold a new object with these attributes in session s:
 * CKA_TOKEN needs an R/W session, CKA_PRIVATE needs the user, and private
 * or secret keys need a login. */
static CK_RV may_hold(const struct call *c, const struct attrs *a)
{
    CK_ULONG cls = 0;
    (void)attrs_get_ulong(a, CKA_CLASS, &cls);
    if (attrs_bool(a, CKA_TOKEN, false) && !session_is_rw(c->s))
        return CKR_SESSION_READ_ONLY;
    if (attrs_bool(a, CKA_PRIVATE, false) && !c->v.user)
        return CKR_USER_NOT_LOGGED_IN;
    if ((cls == CKO_PRIVATE_KEY || cls == CKO_SECRET_KEY) && c->v.omk == NULL)
        return CKR_USER_NOT_LOGGED_IN;
    return CKR_OK;
}

/* 5.7 */
CK_RV C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
                     CK_OBJECT_HANDLE_PTR phObject)
{
    struct call c;
    struct attrs a = {0};
    CK_RV rv = call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    if (phObject == NULL || (pTemplate == NULL && ulCount > 0))
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK)
        rv = attrs_from_template(pTemplate, ulCount, CK_UNAVAILABLE_INFORMATION, &a);
    if (rv == CKR_OK)
        rv = rules_complete_new(RULES_CREATE, &a, CK_UNAVAILABLE_INFORMATION, false, false);
    if (rv == CKR_OK)
        rv = may_hold(&c, &a);
    if (rv == CKR_OK) {
        CK_ULONG cls = 0, kt = CK_UNAVAILABLE_INFORMATION;
        (void)attrs_get_ulong(&a, CKA_CLASS, &cls);
        (void)attrs_get_ulong(&a, CKA_KEY_TYPE, &kt);
        rv = keyimport_check(c.h->crypto, cls, kt, &a);
    }
    if (rv == CKR_OK)
        rv = objects_add(c.objs, &a, hSession, &c.v, phObject);
    attrs_free(&a);
    call_end(&c);
    return rv;
}

/* 5.7 */
CK_RV C_CopyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                   CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phNewObject)
{
    struct call c;
    struct attrs changes = {0}, copy = {0};
    CK_ULONG cls = 0;
    CK_RV rv = call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    if (phNewObject == NULL || (pTemplate == NULL && ulCount > 0))
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK)
        rv = objects_snapshot(c.objs, hObject, &c.v, &copy);
    (void)attrs_get_ulong(&copy, CKA_CLASS, &cls);
    if (rv == CKR_OK)
        rv = attrs_from_template(pTemplate, ulCount, cls, &changes);
    if (rv == CKR_OK)
        rv = rules_check_copy(&copy, &changes);
    for (size_t i = 0; rv == CKR_OK && i < changes.n; i++)
        rv = attrs_set(&copy, cls, changes.v[i].type, changes.v[i].value, changes.v[i].len);
    if (rv == CKR_OK)
        rv = may_hold(&c, &copy);
    if (rv == CKR_OK)
        rv = objects_add(c.objs, &copy, hSession, &c.v, phNewObject);
    attrs_free(&changes);
    attrs_free(&copy);
    call_end(&c);
    return rv;
}

/* May the call's session change object hObject (R/W for token objects)? */
static CK_RV may_change(const struct call *c, CK_OBJECT_HANDLE hObject)
{
    bool is_token = false, is_private = false;
    CK_RV rv = objects_flags(c->objs, hObject, &c->v, &is_token, &is_private);
    if (rv == CKR_OK && is_token && !session_is_rw(c->s))
        rv = CKR_SESSION_READ_ONLY;
    return rv;
}

/* 5.7 */
CK_RV C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject)
{
    struct call c;
    CK_RV rv = call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    rv = may_change(&c, hObject);
    if (rv == CKR_OK)
        rv = objects_destroy(c.objs, hObject, &c.v);
    call_end(&c);
    return rv;
}

/* 5.7 */
CK_RV C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ULONG_PTR pulSize)
{
    struct call c;
    CK_RV rv = call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    rv = pulSize == NULL ? CKR_ARGUMENTS_BAD : objects_size(c.objs, hObject, &c.v, pulSize);
    call_end(&c);
    return rv;
}

/* 5.7 */
CK_RV C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    struct call c;
    CK_RV rv = call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    if ((pTemplate == NULL && ulCount > 0) || ulCount > ATTR_MAX_TEMPLATE)
        rv = CKR_ARGUMENTS_BAD;
    else
        rv = objects_get_attributes(c.objs, hObject, &c.v, pTemplate, ulCount);
    call_end(&c);
    return rv;
}

/* 5.7 */
CK_RV C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    struct call c;
    struct attrs changes = {0};
    CK_RV rv = call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    if (pTemplate == NULL && ulCount > 0)
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK)
        rv = may_change(&c, hObject);
    if (rv == CKR_OK)
        rv = attrs_from_template(pTemplate, ulCount, CK_UNAVAILABLE_INFORMATION, &changes);
    if (rv == CKR_OK)
        rv = objects_set_attributes(c.objs, hObject, &c.v, &changes);
    attrs_free(&changes);
    call_end(&c);
    return rv;
}

/* 5.7 */
CK_RV C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    struct call c;
    struct attrs tmpl = {0};
    CK_OBJECT_HANDLE *found = NULL;
    size_t n = 0;
    CK_RV rv = call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    if (pTemplate == NULL && ulCount > 0)
        rv = CKR_ARGUMENTS_BAD;
    else if (session_finding(c.s))
        rv = CKR_OPERATION_ACTIVE;
    if (rv == CKR_OK)
        rv = attrs_from_template(pTemplate, ulCount, CK_UNAVAILABLE_INFORMATION, &tmpl);
    if (rv == CKR_OK)
        rv = objects_find(c.objs, &tmpl, &c.v, &found, &n);
    if (rv == CKR_OK) {
        rv = session_find_begin(c.s, found, n);
        if (rv != CKR_OK)
            free(found);
    }
    attrs_free(&tmpl);
    call_end(&c);
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
