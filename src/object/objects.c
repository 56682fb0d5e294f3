#include "object/objects.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "object/codec.h"
#include "object/key.h"
#include "object/rules.h"

#define OBJECTS_MAX 10000000UL /* objects per token (CKR_DEVICE_MEMORY beyond) */
#define OBJECTS_MIN_BUCKETS 256

/* The indexed attributes, most selective first. */
static const CK_ATTRIBUTE_TYPE INDEXED[] = {CKA_ID, CKA_LABEL, CKA_CLASS};
#define NINDEXED (sizeof(INDEXED) / sizeof(INDEXED[0]))

struct object {
    CK_OBJECT_HANDLE handle; /* 0 while not in the handle table */
    unsigned char uid[STORE_UID_LEN];
    CK_SESSION_HANDLE owner; /* session objects */
    bool token, is_private;
    bool attrs_loaded;   /* private token object: unsealed */
    bool secrets_loaded; /* public token object with a sealed part: merged */
    bool damaged;        /* sealed part does not open; logged once */
    bool builtin;        /* a profile object: made by the module, never stored */
    struct attrs attrs;
    unsigned char *sealed; /* token objects: the sealed part as stored */
    size_t sealed_len;
    size_t pos;            /* index in objects->all */
    struct object *hnext;  /* handle bucket chain */
    struct ientry *idx[NINDEXED];/* this object's index entries, by INDEXED position */
    _Atomic(struct key *) key; /* keys: the usable form, built on first use */
};

struct ientry {
    uint64_t hash;
    struct object *obj;
    struct ientry *next;
    struct ientry **pprev; /* the pointer that points at this entry: O(1) unlink */
};

struct objects {
    CK_SLOT_ID slot;
    struct crypto *crypto;
    struct store *store;
    pthread_rwlock_t lock;
    struct object **all; /* every object, sealed ones included */
    size_t n, cap;
    struct object **buckets; /* by handle */
    size_t nbuckets;
    size_t live; /* objects with a handle */
    struct ientry **index;   /* by hash of (type, value) */
    size_t nindex;
    size_t pending; /* token objects with a sealed part not yet opened */
    bool index_incomplete; /* an index entry could not be allocated: scan */
};

static atomic_ulong next_handle = 1;
static atomic_ulong next_session_uid = 1;

static uint64_t hash_bytes(uint64_t h, const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t index_hash(CK_ATTRIBUTE_TYPE type, const void *value, size_t len)
{
    uint64_t h = hash_bytes(0xcbf29ce484222325ULL, &type, sizeof(type));
    return hash_bytes(h, value, len);
}

static size_t hbucket(const struct objects *o, CK_OBJECT_HANDLE h)
{
    uint64_t x = h * 0x9e3779b97f4a7c15ULL;
    return (size_t)(x >> 17) & (o->nbuckets - 1);
}

/* ---- index ---- */

static void ientry_link(struct ientry **head, struct ientry *e)
{
    e->next = *head;
    if (e->next != NULL)
        e->next->pprev = &e->next;
    e->pprev = head;
    *head = e;
}

static void index_insert(struct objects *o, struct object *obj)
{
    for (size_t i = 0; i < NINDEXED; i++) {
        const struct attr *a = attrs_find(&obj->attrs, INDEXED[i]);
        obj->idx[i] = NULL;
        if (a == NULL)
            continue;
        struct ientry *e = malloc(sizeof(*e));
        if (e == NULL) {
            o->index_incomplete = true; /* objects_find scans from now on */
            continue;
        }
        e->hash = index_hash(a->type, a->value, a->len);
        e->obj = obj;
        ientry_link(&o->index[(size_t)e->hash & (o->nindex - 1)], e);
        obj->idx[i] = e;
    }
}

static void index_remove(struct objects *o, struct object *obj)
{
    (void)o;
    for (size_t i = 0; i < NINDEXED; i++) {
        struct ientry *e = obj->idx[i];
        if (e == NULL)
            continue;
        *e->pprev = e->next;
        if (e->next != NULL)
            e->next->pprev = e->pprev;
        free(e);
        obj->idx[i] = NULL;
    }
}

static void grow_tables(struct objects *o)
{
    if (o->live < o->nbuckets && o->live < o->nindex / 2)
        return;
    size_t nb = o->nbuckets * 2, ni = o->nindex * 2;
    struct object **b = calloc(nb, sizeof(*b));
    struct ientry **ix = calloc(ni, sizeof(*ix));
    if (b == NULL || ix == NULL) {
        free(b);
        free(ix);
        return; /* longer chains, still correct */
    }
    for (size_t i = 0; i < o->nbuckets; i++) {
        while (o->buckets[i] != NULL) {
            struct object *obj = o->buckets[i];
            o->buckets[i] = obj->hnext;
            size_t k = (size_t)((obj->handle * 0x9e3779b97f4a7c15ULL) >> 17) & (nb - 1);
            obj->hnext = b[k];
            b[k] = obj;
        }
    }
    for (size_t i = 0; i < o->nindex; i++) {
        while (o->index[i] != NULL) {
            struct ientry *e = o->index[i];
            o->index[i] = e->next;
            ientry_link(&ix[(size_t)e->hash & (ni - 1)], e);
        }
    }
    free(o->buckets);
    free(o->index);
    o->buckets = b;
    o->nbuckets = nb;
    o->index = ix;
    o->nindex = ni;
}

/* Gives obj a fresh handle and makes it findable. */
static void publish(struct objects *o, struct object *obj)
{
    obj->handle = atomic_fetch_add(&next_handle, 1);
    size_t k = hbucket(o, obj->handle);
    obj->hnext = o->buckets[k];
    o->buckets[k] = obj;
    o->live++;
    index_insert(o, obj);
    grow_tables(o);
}

/* Takes obj out of the handle table and the indexes; its handle is dead. */
static void unpublish(struct objects *o, struct object *obj)
{
    if (obj->handle == CK_INVALID_HANDLE)
        return;
    index_remove(o, obj);
    for (struct object **pp = &o->buckets[hbucket(o, obj->handle)]; *pp != NULL;
         pp = &(*pp)->hnext) {
        if (*pp == obj) {
            *pp = obj->hnext;
            break;
        }
    }
    obj->hnext = NULL;
    obj->handle = CK_INVALID_HANDLE;
    o->live--;
}

static struct object *lookup(const struct objects *o, CK_OBJECT_HANDLE h)
{
    if (h == CK_INVALID_HANDLE)
        return NULL;
    for (struct object *obj = o->buckets[hbucket(o, h)]; obj != NULL; obj = obj->hnext)
        if (obj->handle == h)
            return obj;
    return NULL;
}

/* Forgets the cached usable key (the object's attributes changed or its
 * secrets went away); operations holding a reference keep theirs. */
static void drop_key(struct object *obj)
{
    key_unref(atomic_exchange(&obj->key, NULL));
}

static void object_free(struct object *obj)
{
    if (obj == NULL)
        return;
    drop_key(obj);
    attrs_free(&obj->attrs);
    free(obj->sealed);
    free(obj);
}

static CK_OBJECT_CLASS object_class(const struct object *obj)
{
    CK_ULONG cls = CK_UNAVAILABLE_INFORMATION;
    (void)attrs_get_ulong(&obj->attrs, CKA_CLASS, &cls);
    return cls;
}

/* The attributes computed on read and never stored: a key's
 * CKA_OBJECT_VALIDATION_FLAGS (PKCS#11 3.2, key_validation_flags).  Fills
 * *tmp (value in *flags) and returns it, or NULL when obj has no computed
 * attribute type. */
static const struct attr *computed(const struct object *obj, CK_ATTRIBUTE_TYPE type,
                                   CK_FLAGS *flags, struct attr *tmp)
{
    CK_OBJECT_CLASS cls = object_class(obj);
    if (type != CKA_OBJECT_VALIDATION_FLAGS ||
        (cls != CKO_SECRET_KEY && cls != CKO_PUBLIC_KEY && cls != CKO_PRIVATE_KEY))
        return NULL;
    *flags = key_validation_flags(&obj->attrs);
    tmp->type = type;
    tmp->len = sizeof(*flags);
    tmp->value = (unsigned char *)flags;
    tmp->secret = false;
    return tmp;
}

static CK_RV append(struct objects *o, struct object *obj)
{
    if (o->n >= OBJECTS_MAX)
        return CKR_DEVICE_MEMORY;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        struct object **all = realloc(o->all, cap * sizeof(*all));
        if (all == NULL)
            return CKR_HOST_MEMORY;
        o->all = all;
        o->cap = cap;
    }
    obj->pos = o->n;
    o->all[o->n++] = obj;
    return CKR_OK;
}

/* Removes obj from everything and frees it. */
static void discard(struct objects *o, struct object *obj)
{
    unpublish(o, obj);
    if (obj->token && obj->sealed != NULL && !obj->damaged &&
        !(obj->is_private ? obj->attrs_loaded : obj->secrets_loaded))
        o->pending--;
    size_t last = o->n - 1;
    o->all[obj->pos] = o->all[last];
    o->all[obj->pos]->pos = obj->pos;
    o->n--;
    object_free(obj);
}

/* ---- sealing ---- */

void objects_record_aad(CK_SLOT_ID slot, const unsigned char uid[STORE_UID_LEN],
                        unsigned char aad[OBJECTS_AAD_LEN])
{
    size_t n = sizeof(OBJECTS_AAD_PREFIX) - 1;
    memcpy(aad, OBJECTS_AAD_PREFIX, n);
    for (int i = 7; i >= 0; i--)
        aad[n++] = (unsigned char)((uint64_t)slot >> (8 * i));
    memcpy(aad + n, uid, STORE_UID_LEN);
    aad[n + STORE_UID_LEN] = OBJECTS_RECORD_VERSION;
}

static void make_aad(const struct objects *o, const unsigned char uid[STORE_UID_LEN],
                     unsigned char aad[OBJECTS_AAD_LEN])
{
    objects_record_aad(o->slot, uid, aad);
}

static void uid_hex(const unsigned char uid[STORE_UID_LEN], char out[2 * STORE_UID_LEN + 1])
{
    for (size_t i = 0; i < STORE_UID_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", uid[i]);
}

/* Splits obj's attributes into the stored parts: the public codec (NULL for
 * private objects) and the sealed codec of the rest (NULL when nothing is
 * secret), and writes the row. */
static CK_RV persist(struct objects *o, struct object *obj, const unsigned char *omk)
{
    if (obj->builtin)
        return CKR_ACTION_PROHIBITED;
    CK_RV rv = CKR_OK;
    struct attrs pub = {0}, sec = {0};
    unsigned char *pub_buf = NULL, *sec_buf = NULL, *sealed = NULL;
    size_t pub_len = 0, sec_len = 0, sealed_len = 0;
    CK_ULONG cls = 0;
    (void)attrs_get_ulong(&obj->attrs, CKA_CLASS, &cls);
    /* A public object whose secret part is still sealed (nobody who may open
     * it is logged in): its secret attributes cannot have changed (they are
     * read-only), so the stored sealed part is kept as it is. */
    bool keep_sealed = !obj->is_private && obj->sealed != NULL && !obj->secrets_loaded;

    for (size_t i = 0; i < obj->attrs.n && rv == CKR_OK; i++) {
        const struct attr *a = &obj->attrs.v[i];
        struct attrs *dst = (obj->is_private || a->secret) ? &sec : &pub;
        rv = attrs_set(dst, cls, a->type, a->value, a->len);
    }
    if (rv == CKR_OK && !obj->is_private)
        rv = codec_encode(&pub, &pub_buf, &pub_len);
    if (rv == CKR_OK && keep_sealed) {
        sealed_len = obj->sealed_len;
        sealed = malloc(sealed_len);
        if (sealed == NULL)
            rv = CKR_HOST_MEMORY;
        else
            memcpy(sealed, obj->sealed, sealed_len);
    } else if (rv == CKR_OK && sec.n > 0) {
        if (omk == NULL) {
            rv = CKR_USER_NOT_LOGGED_IN;
            goto out;
        }
        rv = codec_encode(&sec, &sec_buf, &sec_len);
        if (rv == CKR_OK) {
            unsigned char aad[OBJECTS_AAD_LEN];
            make_aad(o, obj->uid, aad);
            sealed_len = sec_len + CRYPTO_SEAL_OVERHEAD;
            sealed = malloc(sealed_len);
            rv = sealed == NULL ? CKR_HOST_MEMORY
                                : crypto_seal(o->crypto, omk, aad, sizeof(aad), sec_buf, sec_len,
                                              sealed);
        }
    }
    if (rv == CKR_OK && o->store != NULL) {
        struct store_object row = {
            .cls = cls,
            .is_private = obj->is_private,
            .public_attrs = pub_buf,
            .public_len = pub_len,
            .sealed = sealed,
            .sealed_len = sealed_len,
        };
        memcpy(row.uid, obj->uid, STORE_UID_LEN);
        rv = store_object_put(o->store, &row);
    }
    if (rv == CKR_OK) {
        free(obj->sealed);
        obj->sealed = sealed;
        obj->sealed_len = sealed_len;
        sealed = NULL;
    }
out:
    free(sealed);
    codec_buffer_free(pub_buf, pub_len);
    codec_buffer_free(sec_buf, sec_len);
    attrs_free(&pub);
    attrs_free(&sec);
    return rv;
}

/* Opens obj's sealed part with omk and merges it into its attributes. */
static CK_RV unseal(struct objects *o, struct object *obj, const unsigned char *omk)
{
    unsigned char aad[OBJECTS_AAD_LEN];
    char hex[2 * STORE_UID_LEN + 1];
    struct attrs sec = {0};
    size_t len = obj->sealed_len - CRYPTO_SEAL_OVERHEAD;
    unsigned char *buf = crypto_secret_alloc(len ? len : 1);
    CK_RV rv;
    if (buf == NULL)
        return CKR_HOST_MEMORY;
    make_aad(o, obj->uid, aad);
    rv = crypto_open(o->crypto, omk, aad, sizeof(aad), obj->sealed, obj->sealed_len, buf);
    if (rv == CKR_OK)
        rv = codec_decode(buf, len, &sec);
    crypto_secret_free(buf, len ? len : 1);
    if (rv == CKR_OK) {
        CK_ULONG cls = 0;
        (void)attrs_get_ulong(&obj->attrs, CKA_CLASS, &cls);
        for (size_t i = 0; i < sec.n && rv == CKR_OK; i++) {
            const struct attr *a = &sec.v[i];
            if (a->type == CKA_CLASS)
                cls = a->value != NULL && a->len == sizeof(CK_ULONG) ? *(CK_ULONG *)a->value : cls;
            rv = attrs_set(&obj->attrs, cls, a->type, a->value, a->len);
        }
        if (rv == CKR_OK && obj->is_private && !attrs_bool(&obj->attrs, CKA_PRIVATE, false))
            rv = CKR_DEVICE_ERROR; /* a private row must decode to a private object */
    }
    attrs_free(&sec);
    if (rv != CKR_OK && rv != CKR_HOST_MEMORY) {
        uid_hex(obj->uid, hex);
        util_log("slot %lu: object %s: its sealed record does not open (%s); the object is "
                 "unavailable, the rest of the token is not affected",
                 (unsigned long)o->slot, hex,
                 rv == CKR_ENCRYPTED_DATA_INVALID ? "authentication failed: damaged or tampered"
                                                  : "malformed");
        obj->damaged = true;
        rv = CKR_DEVICE_ERROR;
    }
    return rv;
}

/* Opens every pending sealed part (first need after login). Write lock. */
static void unseal_pending(struct objects *o, const struct objects_view *v)
{
    if (o->pending == 0 || v->omk == NULL || !v->user)
        return;
    for (size_t i = 0; i < o->n; i++) {
        struct object *obj = o->all[i];
        if (!obj->token || obj->damaged || obj->sealed == NULL)
            continue;
        /* A record that does not open is no longer pending either. */
        if (obj->is_private && !obj->attrs_loaded) {
            o->pending--;
            if (unseal(o, obj, v->omk) == CKR_OK) {
                obj->attrs_loaded = true;
                publish(o, obj);
            }
        } else if (!obj->is_private && !obj->secrets_loaded) {
            o->pending--;
            if (unseal(o, obj, v->omk) == CKR_OK)
                obj->secrets_loaded = true;
        }
    }
}

/* ---- profile objects ---- */

/* The profiles (PKCS#11 Profiles 3.x) this token implements, announced as
 * read-only CKO_PROFILE objects.  The mechanism layers add theirs here. */
static const CK_PROFILE_ID PROFILES[] = {
    CKP_PUBLIC_CERTIFICATES_TOKEN,
};

static CK_RV add_profiles(struct objects *o)
{
    CK_RV rv = CKR_OK;
    for (size_t i = 0; i < sizeof(PROFILES) / sizeof(PROFILES[0]) && rv == CKR_OK; i++) {
        struct object *obj = calloc(1, sizeof(*obj));
        if (obj == NULL)
            return CKR_HOST_MEMORY;
        obj->token = obj->builtin = obj->attrs_loaded = obj->secrets_loaded = true;
        struct attrs *a = &obj->attrs;
        rv = attrs_set_ulong(a, CKA_CLASS, CKO_PROFILE);
        if (rv == CKR_OK)
            rv = attrs_set_ulong(a, CKA_PROFILE_ID, PROFILES[i]);
        static const CK_ATTRIBUTE_TYPE yes[] = {CKA_TOKEN};
        static const CK_ATTRIBUTE_TYPE no[] = {CKA_PRIVATE, CKA_MODIFIABLE, CKA_COPYABLE,
                                               CKA_DESTROYABLE};
        for (size_t k = 0; k < sizeof(yes) / sizeof(yes[0]) && rv == CKR_OK; k++)
            rv = attrs_set_bool(a, yes[k], true);
        for (size_t k = 0; k < sizeof(no) / sizeof(no[0]) && rv == CKR_OK; k++)
            rv = attrs_set_bool(a, no[k], false);
        if (rv == CKR_OK)
            rv = attrs_set(a, CKO_PROFILE, CKA_LABEL, "", 0);
        if (rv == CKR_OK)
            rv = append(o, obj);
        if (rv != CKR_OK) {
            object_free(obj);
            break;
        }
        publish(o, obj);
    }
    return rv;
}

/* ---- loading ---- */

static CK_RV load_row(void *ctx, const struct store_object *row)
{
    struct objects *o = ctx;
    char hex[2 * STORE_UID_LEN + 1];
    struct object *obj = calloc(1, sizeof(*obj));
    CK_RV rv = CKR_HOST_MEMORY;
    if (obj == NULL)
        return rv;
    memcpy(obj->uid, row->uid, STORE_UID_LEN);
    obj->token = true;
    obj->is_private = row->is_private;
    if (row->sealed_len > 0) {
        if (row->sealed_len < CRYPTO_SEAL_OVERHEAD)
            goto damaged;
        obj->sealed = malloc(row->sealed_len);
        if (obj->sealed == NULL)
            goto out;
        memcpy(obj->sealed, row->sealed, row->sealed_len);
        obj->sealed_len = row->sealed_len;
    }
    if (row->is_private) {
        if (obj->sealed == NULL)
            goto damaged;
    } else {
        CK_ULONG cls;
        if (row->public_attrs == NULL || codec_decode(row->public_attrs, row->public_len,
                                                      &obj->attrs) != CKR_OK)
            goto damaged;
        if (attrs_get_ulong(&obj->attrs, CKA_CLASS, &cls) != CKR_OK || cls != row->cls ||
            attrs_bool(&obj->attrs, CKA_PRIVATE, false))
            goto damaged;
        obj->secrets_loaded = obj->sealed == NULL;
    }
    rv = append(o, obj);
    if (rv != CKR_OK)
        goto out;
    if (obj->sealed != NULL)
        o->pending++;
    if (!row->is_private)
        publish(o, obj);
    return CKR_OK;
damaged:
    uid_hex(row->uid, hex);
    util_log("slot %lu: object %s: its stored record is malformed; skipped, the rest of the "
             "token is not affected",
             (unsigned long)o->slot, hex);
    rv = CKR_OK;
out:
    object_free(obj);
    return rv;
}

CK_RV objects_new(CK_SLOT_ID slot, struct crypto *c, struct store *st, struct objects **out)
{
    struct objects *o = calloc(1, sizeof(*o));
    if (o == NULL)
        return CKR_HOST_MEMORY;
    o->slot = slot;
    o->crypto = c;
    o->store = st;
    o->nbuckets = OBJECTS_MIN_BUCKETS;
    o->nindex = OBJECTS_MIN_BUCKETS * 4;
    o->buckets = calloc(o->nbuckets, sizeof(*o->buckets));
    o->index = calloc(o->nindex, sizeof(*o->index));
    pthread_rwlock_init(&o->lock, NULL);
    CK_RV rv = (o->buckets == NULL || o->index == NULL) ? CKR_HOST_MEMORY : CKR_OK;
    if (rv == CKR_OK)
        rv = add_profiles(o);
    if (rv == CKR_OK && st != NULL)
        rv = store_object_foreach(st, load_row, o);
    if (rv != CKR_OK) {
        objects_free(o);
        return rv;
    }
    *out = o;
    return CKR_OK;
}

static void clear_locked(struct objects *o)
{
    while (o->n > 0)
        discard(o, o->all[o->n - 1]);
    o->pending = 0;
}

void objects_free(struct objects *o)
{
    if (o == NULL)
        return;
    clear_locked(o);
    free(o->all);
    free(o->buckets);
    free(o->index);
    pthread_rwlock_destroy(&o->lock);
    free(o);
}

void objects_clear(struct objects *o)
{
    pthread_rwlock_wrlock(&o->lock);
    for (size_t i = o->n; i-- > 0;)
        if (!o->all[i]->builtin)
            discard(o, o->all[i]);
    o->pending = 0;
    pthread_rwlock_unlock(&o->lock);
}

void objects_logout(struct objects *o)
{
    pthread_rwlock_wrlock(&o->lock);
    for (size_t i = o->n; i-- > 0;) {
        struct object *obj = o->all[i];
        if (!obj->token) {
            if (obj->is_private)
                discard(o, obj);
            continue;
        }
        drop_key(obj);
        if (obj->is_private && obj->attrs_loaded) {
            unpublish(o, obj);
            attrs_free(&obj->attrs);
            obj->attrs_loaded = false;
            o->pending++;
        } else if (!obj->is_private && obj->sealed != NULL && obj->secrets_loaded) {
            for (size_t k = obj->attrs.n; k-- > 0;)
                if (obj->attrs.v[k].secret)
                    attrs_remove(&obj->attrs, obj->attrs.v[k].type);
            obj->secrets_loaded = false;
            o->pending++;
        }
    }
    pthread_rwlock_unlock(&o->lock);
}

void objects_session_closed(struct objects *o, CK_SESSION_HANDLE session)
{
    pthread_rwlock_wrlock(&o->lock);
    for (size_t i = o->n; i-- > 0;)
        if (!o->all[i]->token && o->all[i]->owner == session)
            discard(o, o->all[i]);
    pthread_rwlock_unlock(&o->lock);
}

/* ---- operations ---- */

/* Locks o for reading (shared) or writing, opening pending sealed records
 * first when the user can see them. */
static void lock_view(struct objects *o, const struct objects_view *v, bool exclusive)
{
    bool can_unseal = v->user && v->omk != NULL;
    if (exclusive) {
        pthread_rwlock_wrlock(&o->lock);
        if (can_unseal)
            unseal_pending(o, v);
        return;
    }
    pthread_rwlock_rdlock(&o->lock);
    if (!can_unseal || o->pending == 0)
        return;
    pthread_rwlock_unlock(&o->lock);
    pthread_rwlock_wrlock(&o->lock);
    unseal_pending(o, v);
    pthread_rwlock_unlock(&o->lock);
    pthread_rwlock_rdlock(&o->lock);
}

/* The visible object h.  Caller holds the lock (lock_view). */
static CK_RV visible(struct objects *o, CK_OBJECT_HANDLE h, const struct objects_view *v,
                     struct object **out)
{
    struct object *obj = lookup(o, h);
    if (obj == NULL || (obj->is_private && !v->user))
        return CKR_OBJECT_HANDLE_INVALID;
    *out = obj;
    return CKR_OK;
}

CK_RV objects_add(struct objects *o, struct attrs *a, CK_SESSION_HANDLE owner,
                  const struct objects_view *v, CK_OBJECT_HANDLE *out)
{
    struct object *obj = calloc(1, sizeof(*obj));
    if (obj == NULL)
        return CKR_HOST_MEMORY;
    obj->attrs = *a;
    memset(a, 0, sizeof(*a));
    obj->token = attrs_bool(&obj->attrs, CKA_TOKEN, false);
    obj->is_private = attrs_bool(&obj->attrs, CKA_PRIVATE, false);
    obj->owner = obj->token ? 0 : owner;
    obj->attrs_loaded = obj->secrets_loaded = true;
    /* A token object's uid names its record (and is in its AAD): random.
     * A session object is never stored: a per-process counter will do, and
     * costs no DRBG call. */
    CK_RV rv = CKR_OK;
    if (obj->token) {
        rv = crypto_random(o->crypto, obj->uid, sizeof(obj->uid), false);
    } else {
        unsigned long n = atomic_fetch_add(&next_session_uid, 1);
        memcpy(obj->uid, &n, sizeof(n));
    }
    if (rv != CKR_OK)
        goto fail;
    pthread_rwlock_wrlock(&o->lock);
    rv = append(o, obj);
    if (rv != CKR_OK) {
        pthread_rwlock_unlock(&o->lock);
        goto fail;
    }
    if (obj->token)
        rv = persist(o, obj, v->omk);
    if (rv == CKR_OK) {
        publish(o, obj);
        *out = obj->handle;
    } else {
        discard(o, obj); /* appended: discard frees it */
    }
    pthread_rwlock_unlock(&o->lock);
    return rv;
fail:
    object_free(obj);
    return rv;
}

CK_RV objects_destroy(struct objects *o, CK_OBJECT_HANDLE h, const struct objects_view *v)
{
    struct object *obj;
    lock_view(o, v, true);
    CK_RV rv = visible(o, h, v, &obj);
    if (rv == CKR_OK && !attrs_bool(&obj->attrs, CKA_DESTROYABLE, true))
        rv = CKR_ACTION_PROHIBITED;
    if (rv == CKR_OK && obj->token && o->store != NULL)
        rv = store_object_delete(o->store, obj->uid);
    if (rv == CKR_OK)
        discard(o, obj);
    pthread_rwlock_unlock(&o->lock);
    return rv;
}

CK_RV objects_get_attributes(struct objects *o, CK_OBJECT_HANDLE h, const struct objects_view *v,
                             CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
    struct object *obj;
    lock_view(o, v, false);
    CK_RV rv = visible(o, h, v, &obj);
    if (rv != CKR_OK)
        goto out;
    /* Spec 5.7: every attribute is processed; the last problem is returned. */
    for (CK_ULONG i = 0; i < count; i++) {
        CK_ATTRIBUTE *t = &tmpl[i];
        CK_FLAGS flags;
        struct attr tmp;
        const struct attr *a = computed(obj, t->type, &flags, &tmp);
        CK_RV r = a != NULL ? CKR_OK : rules_readable(&obj->attrs, t->type);
        if (a == NULL)
            a = attrs_find(&obj->attrs, t->type);
        if (r == CKR_OK && a == NULL)
            r = CKR_ATTRIBUTE_TYPE_INVALID;
        /* A secret attribute still sealed (no user logged in) exists but
         * cannot be revealed now. */
        if (r == CKR_ATTRIBUTE_TYPE_INVALID && !obj->secrets_loaded &&
            attr_is_secret(object_class(obj), t->type))
            r = CKR_ATTRIBUTE_SENSITIVE;
        if (r != CKR_OK) {
            t->ulValueLen = CK_UNAVAILABLE_INFORMATION;
            rv = r;
        } else if (attr_is_array(a->type)) {
            r = attr_array_get(a, t);
            if (r != CKR_OK)
                rv = r;
        } else if (t->pValue == NULL) {
            t->ulValueLen = a->len;
        } else if (t->ulValueLen < a->len) {
            t->ulValueLen = CK_UNAVAILABLE_INFORMATION;
            rv = CKR_BUFFER_TOO_SMALL;
        } else {
            if (a->len > 0)
                memcpy(t->pValue, a->value, a->len);
            t->ulValueLen = a->len;
        }
    }
out:
    pthread_rwlock_unlock(&o->lock);
    return rv;
}

CK_RV objects_set_attributes(struct objects *o, CK_OBJECT_HANDLE h, const struct objects_view *v,
                             const struct attrs *changes)
{
    struct object *obj = NULL;
    struct attrs next = {0};
    lock_view(o, v, true);
    CK_RV rv = visible(o, h, v, &obj);
    if (rv == CKR_OK)
        rv = rules_check_set(&obj->attrs, changes);
    if (rv == CKR_OK)
        rv = attrs_copy(&obj->attrs, &next);
    CK_ULONG cls = 0;
    if (rv == CKR_OK)
        (void)attrs_get_ulong(&obj->attrs, CKA_CLASS, &cls);
    for (size_t i = 0; rv == CKR_OK && i < changes->n; i++)
        rv = attrs_set(&next, cls, changes->v[i].type, changes->v[i].value, changes->v[i].len);
    if (rv == CKR_OK) {
        /* Swap in, persist, and swap back if the store refuses. */
        struct attrs old = obj->attrs;
        drop_key(obj);
        index_remove(o, obj);
        obj->attrs = next;
        if (obj->token)
            rv = persist(o, obj, v->omk);
        if (rv == CKR_OK) {
            attrs_free(&old);
        } else {
            obj->attrs = old;
            attrs_free(&next);
        }
        memset(&next, 0, sizeof(next));
        index_insert(o, obj);
    }
    attrs_free(&next);
    pthread_rwlock_unlock(&o->lock);
    return rv;
}

CK_RV objects_snapshot(struct objects *o, CK_OBJECT_HANDLE h, const struct objects_view *v,
                       struct attrs *out)
{
    struct object *obj;
    lock_view(o, v, false);
    CK_RV rv = visible(o, h, v, &obj);
    if (rv == CKR_OK)
        rv = attrs_copy(&obj->attrs, out);
    pthread_rwlock_unlock(&o->lock);
    return rv;
}

CK_RV objects_size(struct objects *o, CK_OBJECT_HANDLE h, const struct objects_view *v,
                   CK_ULONG *size)
{
    struct object *obj;
    lock_view(o, v, false);
    CK_RV rv = visible(o, h, v, &obj);
    if (rv == CKR_OK) {
        CK_ULONG n = sizeof(CODEC_MAGIC) + 4 + CRYPTO_SEAL_OVERHEAD + STORE_UID_LEN;
        for (size_t i = 0; i < obj->attrs.n; i++)
            n += 13 + obj->attrs.v[i].len;
        *size = n;
    }
    pthread_rwlock_unlock(&o->lock);
    return rv;
}

CK_RV objects_flags(struct objects *o, CK_OBJECT_HANDLE h, const struct objects_view *v,
                    bool *is_token, bool *is_private)
{
    struct object *obj;
    lock_view(o, v, false);
    CK_RV rv = visible(o, h, v, &obj);
    if (rv == CKR_OK) {
        *is_token = obj->token;
        *is_private = obj->is_private;
    }
    pthread_rwlock_unlock(&o->lock);
    return rv;
}

static bool matches(const struct object *obj, const struct attrs *tmpl,
                    const struct objects_view *v)
{
    if (obj->handle == CK_INVALID_HANDLE || (obj->is_private && !v->user))
        return false;
    /* A search must not confirm a guessed value that could not be read:
     * a template naming a sensitive attribute never matches. */
    for (size_t i = 0; i < tmpl->n; i++)
        if (rules_readable(&obj->attrs, tmpl->v[i].type) == CKR_ATTRIBUTE_SENSITIVE)
            return false;
    /* Entry by entry, a computed attribute against its computed value. */
    for (size_t i = 0; i < tmpl->n; i++) {
        CK_FLAGS flags;
        struct attr tmp;
        const struct attrs want = {(struct attr *)&tmpl->v[i], 1, 1};
        const struct attrs have = {&tmp, 1, 1};
        bool c = computed(obj, tmpl->v[i].type, &flags, &tmp) != NULL;
        if (!attrs_match(c ? &have : &obj->attrs, &want))
            return false;
    }
    return true;
}

struct found {
    CK_OBJECT_HANDLE *v;
    size_t n, cap;
};

static CK_RV found_push(struct found *f, CK_OBJECT_HANDLE h)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 16;
        CK_OBJECT_HANDLE *bigger = realloc(f->v, cap * sizeof(*bigger));
        if (bigger == NULL)
            return CKR_HOST_MEMORY;
        f->v = bigger;
        f->cap = cap;
    }
    f->v[f->n++] = h;
    return CKR_OK;
}

CK_RV objects_find(struct objects *o, const struct attrs *tmpl, const struct objects_view *v,
                   CK_OBJECT_HANDLE **handles, size_t *n)
{
    CK_RV rv = CKR_OK;
    struct found f = {0};
    lock_view(o, v, false);
    const struct attr *key = NULL;
    for (size_t i = 0; i < NINDEXED && key == NULL && !o->index_incomplete; i++)
        key = attrs_find(tmpl, INDEXED[i]);
    if (key != NULL) {
        uint64_t hv = index_hash(key->type, key->value, key->len);
        for (struct ientry *e = o->index[(size_t)hv & (o->nindex - 1)]; e != NULL && rv == CKR_OK;
             e = e->next)
            if (e->hash == hv && matches(e->obj, tmpl, v))
                rv = found_push(&f, e->obj->handle);
    } else {
        for (size_t i = 0; i < o->n && rv == CKR_OK; i++)
            if (matches(o->all[i], tmpl, v))
                rv = found_push(&f, o->all[i]->handle);
    }
    pthread_rwlock_unlock(&o->lock);
    if (rv != CKR_OK) {
        free(f.v);
        return rv;
    }
    *handles = f.v;
    *n = f.n;
    return CKR_OK;
}

size_t objects_count(struct objects *o)
{
    pthread_rwlock_rdlock(&o->lock);
    size_t n = o->n;
    pthread_rwlock_unlock(&o->lock);
    return n;
}

/* CK_DATE -> days since 1970-01-01 style ordinal (only compared), or -1. */
/* The usage checks of objects_check_use and objects_key on visible obj.
 * Caller holds the lock. */
static CK_RV check_use(const struct object *obj, CK_ATTRIBUTE_TYPE usage, CK_MECHANISM_TYPE mech,
                       long today)
{
    CK_OBJECT_CLASS cls = object_class(obj);
    if (cls != CKO_SECRET_KEY && cls != CKO_PRIVATE_KEY && cls != CKO_PUBLIC_KEY)
        return CKR_KEY_HANDLE_INVALID;
    if (usage != 0 && !attrs_bool(&obj->attrs, usage, false))
        return CKR_KEY_FUNCTION_NOT_PERMITTED;
    long start = key_date(attrs_find(&obj->attrs, CKA_START_DATE));
    long end = key_date(attrs_find(&obj->attrs, CKA_END_DATE));
    if ((start >= 0 && today < start) || (end >= 0 && today > end))
        return CKR_KEY_FUNCTION_NOT_PERMITTED;
    const struct attr *allowed = attrs_find(&obj->attrs, CKA_ALLOWED_MECHANISMS);
    if (allowed != NULL && allowed->len > 0 && mech != CK_UNAVAILABLE_INFORMATION) {
        bool found = false;
        for (size_t i = 0; i + sizeof(CK_MECHANISM_TYPE) <= allowed->len;
             i += sizeof(CK_MECHANISM_TYPE)) {
            CK_MECHANISM_TYPE m;
            memcpy(&m, allowed->value + i, sizeof(m));
            found = found || m == mech;
        }
        if (!found)
            return CKR_MECHANISM_INVALID;
    }
    return CKR_OK;
}

CK_RV objects_check_use(struct objects *o, CK_OBJECT_HANDLE h, const struct objects_view *v,
                        CK_ATTRIBUTE_TYPE usage, long today)
{
    struct object *obj;
    lock_view(o, v, false);
    CK_RV rv = visible(o, h, v, &obj);
    if (rv == CKR_OK)
        rv = check_use(obj, usage, CK_UNAVAILABLE_INFORMATION, today);
    pthread_rwlock_unlock(&o->lock);
    return rv;
}

CK_RV objects_key(struct objects *o, CK_OBJECT_HANDLE h, const struct objects_view *v,
                  CK_ATTRIBUTE_TYPE usage, CK_MECHANISM_TYPE mech, long today, struct key **out)
{
    struct object *obj;
    *out = NULL;
    lock_view(o, v, false);
    CK_RV rv = visible(o, h, v, &obj);
    if (rv == CKR_OBJECT_HANDLE_INVALID)
        rv = CKR_KEY_HANDLE_INVALID;
    struct key *cached = rv == CKR_OK ? atomic_load(&obj->key) : NULL;
    if (rv == CKR_OK) /* a built key carries its policy: no attribute lookups */
        rv = cached != NULL ? key_permits(cached, usage, mech, today)
                            : check_use(obj, usage, mech, today);
    if (rv == CKR_OK && !obj->is_private && obj->sealed != NULL && !obj->secrets_loaded &&
        object_class(obj) != CKO_PUBLIC_KEY)
        rv = CKR_USER_NOT_LOGGED_IN; /* a public secret key: its value opens at login */
    if (rv == CKR_OK) {
        struct key *k = atomic_load(&obj->key);
        if (k == NULL) {
            rv = key_build(o->crypto, &obj->attrs, &k);
            struct key *expected = NULL;
            if (rv == CKR_OK && !atomic_compare_exchange_strong(&obj->key, &expected, k)) {
                key_unref(k); /* another thread cached it first */
                k = expected;
            }
        }
        if (rv == CKR_OK)
            *out = key_ref(k);
    }
    pthread_rwlock_unlock(&o->lock);
    return rv;
}
