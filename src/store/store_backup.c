/* Whole-token images: export, import and wipe of a slot's database, and the
 * sealed backup format (docs/security-model.md, "Backups"). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_private.h"

/* Header: the GCM additional data, so no byte of it can change unnoticed. */
#define HDR_MAGIC_LEN (sizeof(STORE_BACKUP_MAGIC) - 1)
#define HDR_LEN       (HDR_MAGIC_LEN + 2 + 1 + 4 + 1 + STORE_SALT_LEN + 1 + 1 + 1 + 4)

/* Payload: fixed part and per-object overhead. */
#define PIN_LEN (1 + 4 + STORE_SALT_LEN + STORE_VERIFIER_LEN + CRYPTO_WRAPPED_KEY_LEN + 4)
#define PAYLOAD_FIXED \
    (1 + 8 + 8 + 1 + sizeof(((struct store_token *)0)->label) + CRYPTO_KEY_LEN + 2 * PIN_LEN + 4)
#define OBJECT_FIXED (STORE_UID_LEN + 8 + 1 + 4 + 4)

/* Object flags in the payload. */
#define OBJ_PRIVATE    0x1u
#define OBJ_HAS_PUBLIC 0x2u
#define OBJ_HAS_SEALED 0x4u
#define OBJ_KNOWN      (OBJ_PRIVATE | OBJ_HAS_PUBLIC | OBJ_HAS_SEALED)

/* ---- images ---- */

static void object_free_buffers(struct store_object *o)
{
    /* The image owns these buffers; store_object's pointers are const for
     * its other users. */
    free((void *)o->public_attrs);
    free((void *)o->sealed);
    memset(o, 0, sizeof(*o));
}

void store_image_free(struct store_image *img)
{
    if (img == NULL)
        return;
    for (size_t i = 0; img->objects != NULL && i < img->count; i++)
        object_free_buffers(&img->objects[i]);
    free(img->objects);
    crypto_secret_free(img->omk, CRYPTO_KEY_LEN);
    crypto_wipe(img, sizeof(*img));
}

static unsigned char *dup_bytes(const void *p, size_t len)
{
    unsigned char *d = malloc(len > 0 ? len : 1);
    if (d != NULL && len > 0)
        memcpy(d, p, len);
    return d;
}

/* Appends a copy of o to img's objects; CKR_OK or CKR_HOST_MEMORY. */
static CK_RV image_add(struct store_image *img, size_t *cap, const struct store_object *o)
{
    if (img->count == *cap) {
        size_t n = *cap ? *cap * 2 : 16;
        struct store_object *v = realloc(img->objects, n * sizeof(*v));
        if (v == NULL)
            return CKR_HOST_MEMORY;
        img->objects = v;
        *cap = n;
    }
    struct store_object *d = &img->objects[img->count];
    memset(d, 0, sizeof(*d));
    memcpy(d->uid, o->uid, STORE_UID_LEN);
    d->cls = o->cls;
    d->is_private = o->is_private;
    if (o->public_attrs != NULL) {
        d->public_attrs = dup_bytes(o->public_attrs, o->public_len);
        d->public_len = o->public_len;
    }
    if (o->sealed != NULL) {
        d->sealed = dup_bytes(o->sealed, o->sealed_len);
        d->sealed_len = o->sealed_len;
    }
    img->count++; /* counted now so store_image_free frees a partial copy */
    if ((o->public_attrs != NULL && d->public_attrs == NULL) ||
        (o->sealed != NULL && d->sealed == NULL))
        return CKR_HOST_MEMORY;
    return CKR_OK;
}

CK_RV store_export(struct store *st, struct store_image *img)
{
    CK_RV rv = CKR_DEVICE_ERROR;
    sqlite3_stmt *q = NULL;
    size_t cap = 0;
    int step;
    memset(img, 0, sizeof(*img));
    if (store_exec(st, "BEGIN") != CKR_OK)
        return CKR_DEVICE_ERROR;
    rv = store_read_token_locked(st, &img->tok);
    if (rv != CKR_OK)
        goto out;
    rv = CKR_DEVICE_ERROR;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT uid, class, private, public_attrs, sealed FROM objects"
                           " ORDER BY uid",
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        struct store_object o;
        memset(&o, 0, sizeof(o));
        if (sqlite3_column_bytes(q, 0) != STORE_UID_LEN) {
            util_log("%s: an object row has a malformed id; not in the backup", st->path);
            continue;
        }
        memcpy(o.uid, sqlite3_column_blob(q, 0), STORE_UID_LEN);
        o.cls = (CK_OBJECT_CLASS)sqlite3_column_int64(q, 1);
        o.is_private = sqlite3_column_int(q, 2) != 0;
        if (sqlite3_column_type(q, 3) != SQLITE_NULL) {
            o.public_attrs = sqlite3_column_blob(q, 3);
            o.public_len = (size_t)sqlite3_column_bytes(q, 3);
            if (o.public_attrs == NULL)
                o.public_attrs = (const unsigned char *)""; /* an empty blob */
        }
        if (sqlite3_column_type(q, 4) != SQLITE_NULL) {
            o.sealed = sqlite3_column_blob(q, 4);
            o.sealed_len = (size_t)sqlite3_column_bytes(q, 4);
            if (o.sealed == NULL)
                o.sealed = (const unsigned char *)"";
        }
        rv = image_add(img, &cap, &o);
        if (rv != CKR_OK)
            goto out;
        rv = CKR_DEVICE_ERROR;
    }
    rv = step == SQLITE_DONE ? CKR_OK : CKR_DEVICE_ERROR;
out:
    if (rv == CKR_DEVICE_ERROR)
        util_log("%s: cannot read the token for a backup: %s", st->path, sqlite3_errmsg(st->db));
    sqlite3_finalize(q);
    (void)store_exec(st, rv == CKR_OK ? "COMMIT" : "ROLLBACK");
    if (rv != CKR_OK)
        store_image_free(img);
    return rv;
}

CK_RV store_import(struct store *st, const struct store_token *tok, const struct store_image *img)
{
    CK_RV rv = CKR_DEVICE_ERROR;
    sqlite3_stmt *q = NULL;
    if (store_exec(st, "BEGIN IMMEDIATE") != CKR_OK)
        return CKR_DEVICE_ERROR;
    if (store_exec(st, "DELETE FROM objects") != CKR_OK)
        goto out;
    if (store_write_token_locked(st, tok) != CKR_OK)
        goto out;
    if (sqlite3_prepare_v2(st->db,
                           "INSERT INTO objects(uid, class, private, public_attrs, sealed)"
                           " VALUES (?, ?, ?, ?, ?)",
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    for (size_t i = 0; i < img->count; i++) {
        const struct store_object *o = &img->objects[i];
        sqlite3_reset(q);
        sqlite3_clear_bindings(q);
        sqlite3_bind_blob(q, 1, o->uid, STORE_UID_LEN, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, (sqlite3_int64)o->cls);
        sqlite3_bind_int(q, 3, o->is_private ? 1 : 0);
        if (o->public_attrs != NULL)
            sqlite3_bind_blob(q, 4, o->public_attrs, (int)o->public_len, SQLITE_STATIC);
        if (o->sealed != NULL)
            sqlite3_bind_blob(q, 5, o->sealed, (int)o->sealed_len, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_DONE)
            goto out;
    }
    rv = CKR_OK;
out:
    if (rv != CKR_OK)
        util_log("%s: cannot restore the token: %s; nothing was changed", st->path,
                 sqlite3_errmsg(st->db));
    sqlite3_finalize(q);
    if (rv == CKR_OK)
        rv = store_exec(st, "COMMIT");
    else
        (void)store_exec(st, "ROLLBACK");
    return rv;
}

CK_RV store_wipe(struct store *st)
{
    CK_RV rv = store_exec(st, "BEGIN IMMEDIATE");
    if (rv != CKR_OK)
        return rv;
    rv = store_exec(st, "DELETE FROM objects; DELETE FROM pin; DELETE FROM pin_failures;"
                        " DELETE FROM token");
    if (rv == CKR_OK)
        rv = store_exec(st, "COMMIT");
    else
        (void)store_exec(st, "ROLLBACK");
    /* The old pages may still sit in the write-ahead log: move them into the
     * database (where secure_delete has zeroed them) and empty the log. */
    if (rv == CKR_OK && store_exec(st, "PRAGMA wal_checkpoint(TRUNCATE)") != CKR_OK)
        util_log("%s: wiped, but the write-ahead log could not be truncated now; it is on the "
                 "next checkpoint",
                 st->path);
    return rv;
}

/* ---- the backup format ---- */

struct wbuf {
    unsigned char *p;
    size_t len, pos;
};

static void put_bytes(struct wbuf *w, const void *p, size_t n)
{
    /* Sizes are computed before writing: overflowing is a bug. */
    if (n > w->len - w->pos)
        abort();
    if (n > 0)
        memcpy(w->p + w->pos, p, n);
    w->pos += n;
}

static void put_uint(struct wbuf *w, uint64_t v, size_t n)
{
    unsigned char b[8];
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
    put_bytes(w, b, n);
}

struct rbuf {
    const unsigned char *p;
    size_t len, pos;
    bool bad;
};

static const unsigned char *get_bytes(struct rbuf *r, size_t n)
{
    if (r->bad || n > r->len - r->pos) {
        r->bad = true;
        return NULL;
    }
    const unsigned char *p = r->p + r->pos;
    r->pos += n;
    return p;
}

static void get_into(struct rbuf *r, void *dst, size_t n)
{
    const unsigned char *p = get_bytes(r, n);
    if (p != NULL)
        memcpy(dst, p, n);
}

static uint64_t get_uint(struct rbuf *r, size_t n)
{
    const unsigned char *p = get_bytes(r, n);
    uint64_t v = 0;
    for (size_t i = 0; p != NULL && i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Payload bytes of img, or 0 when it cannot be represented (too big). */
static size_t payload_size(const struct store_image *img)
{
    size_t n = PAYLOAD_FIXED + strlen(img->serial);
    if (img->count > STORE_BACKUP_MAX_OBJECTS)
        return 0;
    for (size_t i = 0; i < img->count; i++) {
        const struct store_object *o = &img->objects[i];
        if (o->public_len > UINT32_MAX || o->sealed_len > UINT32_MAX)
            return 0;
        n += OBJECT_FIXED + o->public_len + o->sealed_len;
        if (n > STORE_BACKUP_MAX_BYTES)
            return 0;
    }
    return n;
}

size_t store_backup_size(const struct store_image *img)
{
    size_t n = payload_size(img);
    return n == 0 ? 0 : HDR_LEN + CRYPTO_SEAL_OVERHEAD + n;
}

static void put_pin(struct wbuf *w, const struct store_pin *p)
{
    put_uint(w, p->set ? 1 : 0, 1);
    put_uint(w, p->set ? p->iterations : 0, 4);
    put_bytes(w, p->salt, sizeof(p->salt));
    put_bytes(w, p->verifier, sizeof(p->verifier));
    put_bytes(w, p->wrapped_omk, sizeof(p->wrapped_omk));
    put_uint(w, p->failed > UINT32_MAX ? UINT32_MAX : p->failed, 4);
}

static void encode_payload(const struct store_image *img, unsigned char *buf, size_t len)
{
    struct wbuf w = {buf, len, 0};
    size_t serial_len = strlen(img->serial);
    put_uint(&w, serial_len, 1);
    put_bytes(&w, img->serial, serial_len);
    put_uint(&w, img->slot, 8);
    put_uint(&w, img->created, 8);
    put_uint(&w, img->tok.initialized ? 1 : 0, 1);
    put_bytes(&w, img->tok.label, sizeof(img->tok.label));
    put_bytes(&w, img->omk, CRYPTO_KEY_LEN);
    put_pin(&w, &img->tok.pin[STORE_ROLE_SO]);
    put_pin(&w, &img->tok.pin[STORE_ROLE_USER]);
    put_uint(&w, img->count, 4);
    for (size_t i = 0; i < img->count; i++) {
        const struct store_object *o = &img->objects[i];
        unsigned flags = (o->is_private ? OBJ_PRIVATE : 0) |
                         (o->public_attrs != NULL ? OBJ_HAS_PUBLIC : 0) |
                         (o->sealed != NULL ? OBJ_HAS_SEALED : 0);
        put_bytes(&w, o->uid, STORE_UID_LEN);
        put_uint(&w, o->cls, 8);
        put_uint(&w, flags, 1);
        put_uint(&w, o->public_len, 4);
        put_bytes(&w, o->public_attrs, o->public_len);
        put_uint(&w, o->sealed_len, 4);
        put_bytes(&w, o->sealed, o->sealed_len);
    }
    if (w.pos != w.len)
        abort(); /* payload_size and this encoder disagree */
}

static void encode_header(unsigned char hdr[HDR_LEN], unsigned long iterations,
                          const unsigned char salt[STORE_SALT_LEN], size_t payload_len)
{
    struct wbuf w = {hdr, HDR_LEN, 0};
    put_bytes(&w, STORE_BACKUP_MAGIC, HDR_MAGIC_LEN);
    put_uint(&w, STORE_BACKUP_FORMAT, 2);
    put_uint(&w, STORE_BACKUP_KDF_PBKDF2, 1);
    put_uint(&w, iterations, 4);
    put_uint(&w, STORE_SALT_LEN, 1);
    put_bytes(&w, salt, STORE_SALT_LEN);
    put_uint(&w, STORE_BACKUP_CIPHER_AES_GCM, 1);
    put_uint(&w, CRYPTO_GCM_IV_LEN, 1);
    put_uint(&w, CRYPTO_GCM_TAG_LEN, 1);
    put_uint(&w, payload_len, 4);
}

CK_RV store_backup_seal(struct crypto *c, const struct store_image *img,
                        const unsigned char *passphrase, size_t passphrase_len,
                        unsigned long iterations, unsigned char *out, size_t *out_len)
{
    CK_RV rv;
    unsigned char salt[STORE_SALT_LEN];
    unsigned char *key = NULL, *payload = NULL;
    size_t plen = payload_size(img);
    size_t total = store_backup_size(img);
    if (total == 0 || iterations < STORE_BACKUP_MIN_ITERATIONS ||
        iterations > STORE_BACKUP_MAX_ITERATIONS || img->omk == NULL)
        return CKR_ARGUMENTS_BAD;
    if (out == NULL) {
        *out_len = total;
        return CKR_OK;
    }
    if (*out_len < total) {
        *out_len = total;
        return CKR_BUFFER_TOO_SMALL;
    }
    rv = CKR_HOST_MEMORY;
    key = crypto_secret_alloc(CRYPTO_KEY_LEN);
    payload = malloc(plen);
    if (key == NULL || payload == NULL)
        goto out;
    encode_payload(img, payload, plen);
    rv = crypto_random(c, salt, sizeof(salt), false);
    if (rv != CKR_OK)
        goto out;
    rv = crypto_pbkdf2_sha256(c, passphrase, passphrase_len, salt, sizeof(salt), iterations, key,
                              CRYPTO_KEY_LEN);
    if (rv != CKR_OK)
        goto out;
    encode_header(out, iterations, salt, plen);
    rv = crypto_seal(c, key, out, HDR_LEN, payload, plen, out + HDR_LEN);
    if (rv == CKR_OK)
        *out_len = total;
out:
    crypto_secret_free(key, CRYPTO_KEY_LEN);
    if (payload != NULL)
        crypto_wipe(payload, plen);
    free(payload);
    return rv;
}

/* Header fields needed to open the payload; false when malformed. */
static bool decode_header(const unsigned char *in, size_t len, unsigned long *iterations,
                          const unsigned char **salt, size_t *payload_len)
{
    struct rbuf r = {in, len, 0, false};
    if (len < HDR_LEN + CRYPTO_SEAL_OVERHEAD || len > STORE_BACKUP_MAX_BYTES)
        return false;
    const unsigned char *magic = get_bytes(&r, HDR_MAGIC_LEN);
    if (magic == NULL || memcmp(magic, STORE_BACKUP_MAGIC, HDR_MAGIC_LEN) != 0)
        return false;
    if (get_uint(&r, 2) != STORE_BACKUP_FORMAT || get_uint(&r, 1) != STORE_BACKUP_KDF_PBKDF2)
        return false;
    *iterations = (unsigned long)get_uint(&r, 4);
    if (*iterations < STORE_BACKUP_MIN_ITERATIONS || *iterations > STORE_BACKUP_MAX_ITERATIONS)
        return false;
    if (get_uint(&r, 1) != STORE_SALT_LEN)
        return false;
    *salt = get_bytes(&r, STORE_SALT_LEN);
    if (get_uint(&r, 1) != STORE_BACKUP_CIPHER_AES_GCM || get_uint(&r, 1) != CRYPTO_GCM_IV_LEN ||
        get_uint(&r, 1) != CRYPTO_GCM_TAG_LEN)
        return false;
    *payload_len = (size_t)get_uint(&r, 4);
    return !r.bad && r.pos == HDR_LEN && *payload_len == len - HDR_LEN - CRYPTO_SEAL_OVERHEAD;
}

static void get_pin(struct rbuf *r, struct store_pin *p)
{
    uint64_t set = get_uint(r, 1);
    p->iterations = (unsigned long)get_uint(r, 4);
    get_into(r, p->salt, sizeof(p->salt));
    get_into(r, p->verifier, sizeof(p->verifier));
    get_into(r, p->wrapped_omk, sizeof(p->wrapped_omk));
    p->failed = (unsigned long)get_uint(r, 4);
    p->set = set == 1;
    if (set > 1 || (p->set && (p->iterations < 1 || p->iterations > STORE_BACKUP_MAX_ITERATIONS)))
        r->bad = true;
}

/* Decodes an authenticated payload into img: CKR_OK, CKR_HOST_MEMORY, or
 * CKR_ENCRYPTED_DATA_INVALID when malformed. */
static CK_RV decode_payload(const unsigned char *buf, size_t len, struct store_image *img)
{
    struct rbuf r = {buf, len, 0, false};
    size_t cap = 0;
    size_t serial_len = (size_t)get_uint(&r, 1);
    if (serial_len == 0 || serial_len > STORE_BACKUP_SERIAL_MAX)
        return CKR_ENCRYPTED_DATA_INVALID;
    get_into(&r, img->serial, serial_len);
    img->serial[serial_len] = '\0';
    img->slot = (CK_SLOT_ID)get_uint(&r, 8);
    img->created = get_uint(&r, 8);
    uint64_t initialized = get_uint(&r, 1);
    get_into(&r, img->tok.label, sizeof(img->tok.label));
    img->omk = crypto_secret_alloc(CRYPTO_KEY_LEN);
    if (img->omk == NULL)
        return CKR_HOST_MEMORY;
    get_into(&r, img->omk, CRYPTO_KEY_LEN);
    get_pin(&r, &img->tok.pin[STORE_ROLE_SO]);
    get_pin(&r, &img->tok.pin[STORE_ROLE_USER]);
    img->tok.initialized = initialized == 1;
    /* A backup is always of an initialised token: its SO record exists. */
    if (!img->tok.initialized || !img->tok.pin[STORE_ROLE_SO].set)
        return CKR_ENCRYPTED_DATA_INVALID;
    uint64_t count = get_uint(&r, 4);
    if (r.bad || count > STORE_BACKUP_MAX_OBJECTS || count > (len - r.pos) / OBJECT_FIXED)
        return CKR_ENCRYPTED_DATA_INVALID;
    for (uint64_t i = 0; i < count && !r.bad; i++) {
        struct store_object o;
        memset(&o, 0, sizeof(o));
        get_into(&r, o.uid, STORE_UID_LEN);
        o.cls = (CK_OBJECT_CLASS)get_uint(&r, 8);
        unsigned flags = (unsigned)get_uint(&r, 1);
        o.public_len = (size_t)get_uint(&r, 4);
        o.public_attrs = get_bytes(&r, o.public_len);
        o.sealed_len = (size_t)get_uint(&r, 4);
        o.sealed = get_bytes(&r, o.sealed_len);
        if (r.bad || (flags & ~OBJ_KNOWN) != 0)
            return CKR_ENCRYPTED_DATA_INVALID;
        o.is_private = (flags & OBJ_PRIVATE) != 0;
        if (!(flags & OBJ_HAS_PUBLIC)) {
            if (o.public_len != 0)
                return CKR_ENCRYPTED_DATA_INVALID;
            o.public_attrs = NULL;
        }
        if (!(flags & OBJ_HAS_SEALED)) {
            if (o.sealed_len != 0)
                return CKR_ENCRYPTED_DATA_INVALID;
            o.sealed = NULL;
        }
        if (o.is_private && o.sealed == NULL)
            return CKR_ENCRYPTED_DATA_INVALID;
        if (image_add(img, &cap, &o) != CKR_OK)
            return CKR_HOST_MEMORY;
    }
    return !r.bad && r.pos == len ? CKR_OK : CKR_ENCRYPTED_DATA_INVALID;
}

CK_RV store_backup_open(struct crypto *c, const unsigned char *in, size_t len,
                        const unsigned char *passphrase, size_t passphrase_len,
                        struct store_image *img)
{
    CK_RV rv = CKR_ENCRYPTED_DATA_INVALID;
    unsigned long iterations = 0;
    const unsigned char *salt = NULL;
    size_t plen = 0;
    unsigned char *key = NULL, *payload = NULL;
    memset(img, 0, sizeof(*img));
    if (!decode_header(in, len, &iterations, &salt, &plen))
        goto out;
    rv = CKR_HOST_MEMORY;
    key = crypto_secret_alloc(CRYPTO_KEY_LEN);
    payload = malloc(plen > 0 ? plen : 1);
    if (key == NULL || payload == NULL)
        goto out;
    rv = crypto_pbkdf2_sha256(c, passphrase, passphrase_len, salt, STORE_SALT_LEN, iterations, key,
                              CRYPTO_KEY_LEN);
    if (rv != CKR_OK)
        goto out;
    rv = crypto_open(c, key, in, HDR_LEN, in + HDR_LEN, len - HDR_LEN, payload);
    if (rv != CKR_OK)
        goto out;
    /* Authenticated yet malformed would be a backup this format does not
     * describe: CKR_ENCRYPTED_DATA_INVALID as well. */
    rv = decode_payload(payload, plen, img);
out:
    crypto_secret_free(key, CRYPTO_KEY_LEN);
    if (payload != NULL)
        crypto_wipe(payload, plen);
    free(payload);
    if (rv != CKR_OK)
        store_image_free(img);
    return rv;
}
