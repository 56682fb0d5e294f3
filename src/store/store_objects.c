/* Token objects in the slot's database: one row each, one transaction per
 * change (synchronous=FULL: acknowledged means on disk). */
#include <string.h>

#include "store/store_private.h"

CK_RV store_object_put(struct store *st, const struct store_object *o)
{
    sqlite3_stmt *q = NULL;
    CK_RV rv = CKR_DEVICE_ERROR;
    if (sqlite3_prepare_v2(st->db,
                           "INSERT OR REPLACE INTO objects(uid, class, private, public_attrs, sealed)"
                           " VALUES (?, ?, ?, ?, ?)",
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_blob(q, 1, o->uid, STORE_UID_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)o->cls);
    sqlite3_bind_int(q, 3, o->is_private ? 1 : 0);
    if (o->public_attrs != NULL)
        sqlite3_bind_blob(q, 4, o->public_attrs, (int)o->public_len, SQLITE_STATIC);
    if (o->sealed != NULL)
        sqlite3_bind_blob(q, 5, o->sealed, (int)o->sealed_len, SQLITE_STATIC);
    /* A single statement is its own transaction. */
    if (sqlite3_step(q) == SQLITE_DONE)
        rv = CKR_OK;
out:
    if (rv != CKR_OK)
        util_log("%s: cannot write an object: %s", st->path, sqlite3_errmsg(st->db));
    sqlite3_finalize(q);
    return rv;
}

CK_RV store_object_delete(struct store *st, const unsigned char uid[STORE_UID_LEN])
{
    sqlite3_stmt *q = NULL;
    CK_RV rv = CKR_DEVICE_ERROR;
    if (sqlite3_prepare_v2(st->db, "DELETE FROM objects WHERE uid = ?", -1, &q, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_blob(q, 1, uid, STORE_UID_LEN, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_DONE)
        rv = CKR_OK;
out:
    if (rv != CKR_OK)
        util_log("%s: cannot delete an object: %s", st->path, sqlite3_errmsg(st->db));
    sqlite3_finalize(q);
    return rv;
}

CK_RV store_object_foreach(struct store *st, CK_RV (*cb)(void *ctx, const struct store_object *o),
                           void *ctx)
{
    sqlite3_stmt *q = NULL;
    CK_RV rv = CKR_DEVICE_ERROR;
    int step;
    if (store_exec(st, "BEGIN") != CKR_OK)
        return CKR_DEVICE_ERROR;
    if (sqlite3_prepare_v2(st->db, "SELECT uid, class, private, public_attrs, sealed FROM objects",
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        struct store_object o;
        memset(&o, 0, sizeof(o));
        if (sqlite3_column_bytes(q, 0) != STORE_UID_LEN) {
            util_log("%s: an object row has a malformed id; skipped", st->path);
            continue;
        }
        memcpy(o.uid, sqlite3_column_blob(q, 0), STORE_UID_LEN);
        o.cls = (CK_OBJECT_CLASS)sqlite3_column_int64(q, 1);
        o.is_private = sqlite3_column_int(q, 2) != 0;
        o.public_attrs = sqlite3_column_blob(q, 3);
        o.public_len = (size_t)sqlite3_column_bytes(q, 3);
        o.sealed = sqlite3_column_blob(q, 4);
        o.sealed_len = (size_t)sqlite3_column_bytes(q, 4);
        rv = cb(ctx, &o);
        if (rv != CKR_OK)
            goto out;
    }
    rv = step == SQLITE_DONE ? CKR_OK : CKR_DEVICE_ERROR;
out:
    sqlite3_finalize(q);
    (void)store_exec(st, rv == CKR_OK ? "COMMIT" : "ROLLBACK");
    return rv;
}
