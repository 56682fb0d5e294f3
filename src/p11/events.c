/* The entry points' audit records: what each event carries (see
 * src/audit/audit.h for the classes and the line format). */
#include <stdio.h>
#include <string.h>

#include "p11/p11.h"

void p11_audit(struct hsm *h, const char *event, enum audit_class cls, CK_SLOT_ID slot,
               CK_SESSION_HANDLE session, CK_RV rv)
{
    if (!audit_wants(h->audit, cls))
        return;
    struct audit_event e;
    audit_event_init(&e, event, cls);
    e.slot = slot;
    e.session = session;
    e.rv = rv;
    audit_log(h->audit, &e);
}

void p11_audit_user(struct hsm *h, const char *event, enum audit_class cls, CK_SLOT_ID slot,
                    CK_SESSION_HANDLE session, CK_USER_TYPE user, const char *detail, CK_RV rv,
                    bool sync)
{
    if (!audit_wants(h->audit, cls))
        return;
    struct audit_event e;
    audit_event_init(&e, event, cls);
    e.slot = slot;
    e.session = session;
    e.user = user;
    e.detail = detail;
    e.rv = rv;
    if (sync)
        audit_log_sync(h->audit, &e);
    else
        audit_log(h->audit, &e);
}

static void copy_attr(unsigned char *dst, size_t *dst_len, size_t max, const void *src, size_t len)
{
    *dst_len = len < max ? len : max;
    if (*dst_len > 0)
        memcpy(dst, src, *dst_len);
}

void p11_audit_obj_from_attrs(struct p11_audit_obj *o, const struct attrs *a)
{
    memset(o, 0, sizeof(*o));
    o->cls = AUDIT_NONE;
    if (a == NULL)
        return;
    (void)attrs_get_ulong(a, CKA_CLASS, &o->cls);
    const struct attr *id = attrs_find(a, CKA_ID);
    const struct attr *label = attrs_find(a, CKA_LABEL);
    if (id != NULL)
        copy_attr(o->id, &o->id_len, sizeof(o->id), id->value, id->len);
    if (label != NULL)
        copy_attr(o->label, &o->label_len, sizeof(o->label), label->value, label->len);
}

void p11_audit_obj_from_object(struct p11_audit_obj *o, const struct p11_call *c,
                               CK_OBJECT_HANDLE h)
{
    /* Labels and IDs longer than the buffers are left out (the spec's
     * CKR_BUFFER_TOO_SMALL marks them unavailable), never read past. */
    unsigned char id[256], label[256];
    CK_OBJECT_CLASS cls = AUDIT_NONE;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_ID, id, sizeof(id)},
        {CKA_LABEL, label, sizeof(label)},
    };
    memset(o, 0, sizeof(*o));
    o->cls = AUDIT_NONE;
    CK_RV rv = objects_get_attributes(c->objs, h, &c->v, t, 3);
    if (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL)
        return; /* not visible (any more): the handle says enough */
    if (t[0].ulValueLen == sizeof(cls))
        o->cls = cls;
    if (t[1].ulValueLen != CK_UNAVAILABLE_INFORMATION)
        copy_attr(o->id, &o->id_len, sizeof(o->id), id, t[1].ulValueLen);
    if (t[2].ulValueLen != CK_UNAVAILABLE_INFORMATION)
        copy_attr(o->label, &o->label_len, sizeof(o->label), label, t[2].ulValueLen);
}

void p11_audit_object(const struct p11_call *c, const char *event, enum audit_class cls,
                      CK_OBJECT_HANDLE obj, CK_MECHANISM_TYPE mech, const struct p11_audit_obj *o,
                      CK_RV rv)
{
    struct audit_event e;
    audit_event_init(&e, event, cls);
    e.slot = session_slot(c->s);
    e.session = session_handle(c->s);
    e.object = obj != CK_INVALID_HANDLE ? obj : AUDIT_NONE;
    e.mechanism = mech;
    if (o != NULL) {
        e.obj_class = o->cls;
        e.key_id = o->id;
        e.key_id_len = o->id_len;
        e.label = o->label;
        e.label_len = o->label_len;
    }
    e.rv = rv;
    audit_log(c->h->audit, &e);
}

void p11_audit_key(const struct p11_call *c, const char *event, const CK_MECHANISM *m,
                   CK_OBJECT_HANDLE key, const char *detail, CK_RV rv)
{
    if (!audit_wants(c->h->audit, AUDIT_CRYPTO))
        return;
    struct p11_audit_obj ao;
    struct audit_event e;
    audit_event_init(&e, event, AUDIT_CRYPTO);
    e.slot = session_slot(c->s);
    e.session = session_handle(c->s);
    e.mechanism = m != NULL ? m->mechanism : AUDIT_NONE;
    if (key != CK_INVALID_HANDLE) {
        p11_audit_obj_from_object(&ao, c, key);
        e.object = key;
        e.obj_class = ao.cls;
        e.key_id = ao.id;
        e.key_id_len = ao.id_len;
        e.label = ao.label;
        e.label_len = ao.label_len;
    }
    e.detail = detail;
    e.rv = rv;
    audit_log(c->h->audit, &e);
}

void p11_audit_new_key(const struct p11_call *c, const char *event, const CK_MECHANISM *m,
                       CK_OBJECT_HANDLE used, const CK_OBJECT_HANDLE *out, CK_RV rv)
{
    if (!audit_wants(c->h->audit, AUDIT_CRYPTO))
        return;
    char detail[40] = "";
    if (rv == CKR_OK)
        snprintf(detail, sizeof(detail), "new key %lu", (unsigned long)*out);
    p11_audit_key(c, event, m, used, detail, rv);
}
