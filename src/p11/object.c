/* Object management (PKCS#11 3.2 section 5.7). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ck_names.h"
#include "core/hsm.h"
#include "object/keyimport.h"
#include "object/objects.h"
#include "object/rules.h"
#include "p11/p11.h"

/* 5.7 */
CK_RV C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
                     CK_OBJECT_HANDLE_PTR phObject)
{
    struct p11_call c;
    struct attrs a = {0};
    CK_RV rv = p11_call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    if (phObject == NULL || (pTemplate == NULL && ulCount > 0))
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK)
        rv = attrs_from_template(pTemplate, ulCount, CK_UNAVAILABLE_INFORMATION, &a);
    if (rv == CKR_OK)
        rv = rules_complete_new(RULES_CREATE, &a, CK_UNAVAILABLE_INFORMATION, false, false);
    if (rv == CKR_OK)
        rv = p11_may_hold(&c, &a);
    if (rv == CKR_OK) {
        CK_ULONG cls = 0, kt = CK_UNAVAILABLE_INFORMATION;
        (void)attrs_get_ulong(&a, CKA_CLASS, &cls);
        (void)attrs_get_ulong(&a, CKA_KEY_TYPE, &kt);
        rv = keyimport_check(c.h->crypto, cls, kt, &a);
    }
    struct p11_audit_obj ao;
    bool audit = rv != CKR_ARGUMENTS_BAD && audit_wants(c.h->audit, AUDIT_ADMIN);
    if (audit)
        p11_audit_obj_from_attrs(&ao, &a);
    if (rv == CKR_OK)
        rv = objects_add(c.objs, &a, hSession, &c.v, phObject);
    if (audit)
        p11_audit_object(&c, "object_create", AUDIT_ADMIN, rv == CKR_OK ? *phObject : 0, AUDIT_NONE,
                         &ao, rv);
    attrs_free(&a);
    p11_call_end(&c);
    return rv;
}

/* 5.7 */
CK_RV C_CopyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                   CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phNewObject)
{
    struct p11_call c;
    struct attrs changes = {0}, copy = {0};
    CK_ULONG cls = 0;
    CK_RV rv = p11_call_begin(hSession, &c);
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
        rv = p11_may_hold(&c, &copy);
    struct p11_audit_obj ao;
    bool audit = rv != CKR_ARGUMENTS_BAD && audit_wants(c.h->audit, AUDIT_ADMIN);
    if (audit)
        p11_audit_obj_from_attrs(&ao, &copy);
    if (rv == CKR_OK)
        rv = objects_add(c.objs, &copy, hSession, &c.v, phNewObject);
    if (audit) {
        char detail[48];
        snprintf(detail, sizeof(detail), "copy of object %lu", (unsigned long)hObject);
        struct audit_event e;
        audit_event_init(&e, "object_copy", AUDIT_ADMIN);
        e.slot = session_slot(c.s);
        e.session = hSession;
        e.object = rv == CKR_OK ? *phNewObject : AUDIT_NONE;
        e.obj_class = ao.cls;
        e.key_id = ao.id;
        e.key_id_len = ao.id_len;
        e.label = ao.label;
        e.label_len = ao.label_len;
        e.detail = detail;
        e.rv = rv;
        audit_log(c.h->audit, &e);
    }
    attrs_free(&changes);
    attrs_free(&copy);
    p11_call_end(&c);
    return rv;
}

/* May the call's session change object hObject (R/W for token objects)? */
static CK_RV may_change(const struct p11_call *c, CK_OBJECT_HANDLE hObject)
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
    struct p11_call c;
    CK_RV rv = p11_call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    rv = may_change(&c, hObject);
    struct p11_audit_obj ao;
    bool audit = audit_wants(c.h->audit, AUDIT_ADMIN);
    if (audit)
        p11_audit_obj_from_object(&ao, &c, hObject);
    if (rv == CKR_OK)
        rv = objects_destroy(c.objs, hObject, &c.v);
    if (audit)
        p11_audit_object(&c, "object_destroy", AUDIT_ADMIN, hObject, AUDIT_NONE, &ao, rv);
    p11_call_end(&c);
    return rv;
}

/* 5.7 */
CK_RV C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ULONG_PTR pulSize)
{
    struct p11_call c;
    CK_RV rv = p11_call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    rv = pulSize == NULL ? CKR_ARGUMENTS_BAD : objects_size(c.objs, hObject, &c.v, pulSize);
    p11_call_end(&c);
    return rv;
}

/* 5.7 */
CK_RV C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    struct p11_call c;
    CK_RV rv = p11_call_begin(hSession, &c);
    if (rv != CKR_OK)
        return rv;
    if ((pTemplate == NULL && ulCount > 0) || ulCount > ATTR_MAX_TEMPLATE)
        rv = CKR_ARGUMENTS_BAD;
    else
        rv = objects_get_attributes(c.objs, hObject, &c.v, pTemplate, ulCount);
    p11_call_end(&c);
    return rv;
}

/* 5.7 */
CK_RV C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    struct p11_call c;
    struct attrs changes = {0};
    CK_RV rv = p11_call_begin(hSession, &c);
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
    if (rv != CKR_ARGUMENTS_BAD && audit_wants(c.h->audit, AUDIT_ADMIN)) {
        /* Which attributes changed (names only, never values). */
        char detail[AUDIT_DETAIL_MAX];
        size_t n = 0;
        detail[0] = '\0';
        for (size_t i = 0; i < changes.n && n < sizeof(detail); i++)
            n += (size_t)snprintf(detail + n, sizeof(detail) - n, "%s%s", i ? "," : "",
                                  ck_attribute_name(changes.v[i].type));
        struct p11_audit_obj ao;
        p11_audit_obj_from_object(&ao, &c, hObject);
        struct audit_event e;
        audit_event_init(&e, "object_set_attributes", AUDIT_ADMIN);
        e.slot = session_slot(c.s);
        e.session = hSession;
        e.object = hObject;
        e.obj_class = ao.cls;
        e.key_id = ao.id;
        e.key_id_len = ao.id_len;
        e.label = ao.label;
        e.label_len = ao.label_len;
        e.detail = detail;
        e.rv = rv;
        audit_log(c.h->audit, &e);
    }
    attrs_free(&changes);
    p11_call_end(&c);
    return rv;
}

/* 5.7 */
CK_RV C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    struct p11_call c;
    struct attrs tmpl = {0};
    CK_OBJECT_HANDLE *found = NULL;
    size_t n = 0;
    CK_RV rv = p11_call_begin(hSession, &c);
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
    p11_call_end(&c);
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
