#include "core/session.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mech/mech.h"

#define SESSION_TABLE_MIN_BUCKETS 64

struct session {
    CK_SESSION_HANDLE handle;
    CK_SLOT_ID slot;
    CK_FLAGS flags;
    struct token *token;
    atomic_uint refs;
    pthread_mutex_t lock;    /* guards the operation state below */
    CK_OBJECT_HANDLE *found; /* C_FindObjects results, NULL when no search */
    size_t nfound, found_pos;
    bool finding;
    struct session_slot ops[SESSION_OP_COUNT];
    atomic_ulong validation; /* CKS_LAST_VALIDATION_OK flags of the last operation */
    struct session *next;    /* bucket chain, under the table lock */
};

struct session_table {
    pthread_rwlock_t lock;
    struct session **buckets;
    size_t nbuckets; /* power of two */
    size_t count;
    CK_SESSION_HANDLE next_handle;
};

/* Handles are a counter, spread over the buckets by a 64-bit mixer. */
static size_t bucket_of(const struct session_table *tab, CK_SESSION_HANDLE h)
{
    uint64_t x = h;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x & (tab->nbuckets - 1);
}

CK_RV session_table_new(struct session_table **out)
{
    struct session_table *tab = calloc(1, sizeof(*tab));
    if (tab == NULL)
        return CKR_HOST_MEMORY;
    tab->nbuckets = SESSION_TABLE_MIN_BUCKETS;
    tab->buckets = calloc(tab->nbuckets, sizeof(*tab->buckets));
    if (tab->buckets == NULL) {
        free(tab);
        return CKR_HOST_MEMORY;
    }
    tab->next_handle = 1;
    pthread_rwlock_init(&tab->lock, NULL);
    *out = tab;
    return CKR_OK;
}

void session_slot_clear(struct session_slot *slot)
{
    mech_op_free(slot->op);
    free(slot->mech.pParameter);
    key_unref(slot->key);
    if (slot->blob != NULL)
        crypto_wipe(slot->blob, slot->blob_len); /* may be plaintext */
    free(slot->blob);
    memset(slot, 0, sizeof(*slot));
}

static void session_free(struct session *s)
{
    for (size_t i = 0; i < SESSION_OP_COUNT; i++)
        session_slot_clear(&s->ops[i]);
    free(s->found);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void session_put(struct session *s)
{
    if (s != NULL && atomic_fetch_sub(&s->refs, 1) == 1)
        session_free(s);
}

/* Unlinks every session matching slot (all when all is true) into a list;
 * caller holds the write lock. */
static struct session *unlink_sessions(struct session_table *tab, bool all, CK_SLOT_ID slot)
{
    struct session *out = NULL;
    for (size_t i = 0; i < tab->nbuckets; i++) {
        struct session **pp = &tab->buckets[i];
        while (*pp != NULL) {
            struct session *s = *pp;
            if (all || s->slot == slot) {
                *pp = s->next;
                s->next = out;
                out = s;
                tab->count--;
            } else {
                pp = &s->next;
            }
        }
    }
    return out;
}

static void finish_closed(struct session *list)
{
    while (list != NULL) {
        struct session *next = list->next;
        token_session_closed(list->token, (list->flags & CKF_RW_SESSION) != 0, list->handle);
        session_put(list);
        list = next;
    }
}

void session_table_free(struct session_table *tab)
{
    if (tab == NULL)
        return;
    pthread_rwlock_wrlock(&tab->lock);
    struct session *list = unlink_sessions(tab, true, 0);
    pthread_rwlock_unlock(&tab->lock);
    finish_closed(list);
    pthread_rwlock_destroy(&tab->lock);
    free(tab->buckets);
    free(tab);
}

static void grow(struct session_table *tab)
{
    size_t n = tab->nbuckets * 2;
    struct session **b = calloc(n, sizeof(*b));
    if (b == NULL)
        return; /* keep the longer chains; still correct */
    struct session **old = tab->buckets;
    size_t oldn = tab->nbuckets;
    tab->buckets = b;
    tab->nbuckets = n;
    for (size_t i = 0; i < oldn; i++) {
        while (old[i] != NULL) {
            struct session *s = old[i];
            old[i] = s->next;
            size_t k = bucket_of(tab, s->handle);
            s->next = b[k];
            b[k] = s;
        }
    }
    free(old);
}

CK_RV session_open(struct session_table *tab, struct token *t, CK_SLOT_ID slot, CK_FLAGS flags,
                   CK_SESSION_HANDLE *out)
{
    bool rw = (flags & CKF_RW_SESSION) != 0;
    struct session *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return CKR_HOST_MEMORY;
    CK_RV rv = token_session_opening(t, rw);
    if (rv != CKR_OK) {
        free(s);
        return rv;
    }
    s->slot = slot;
    s->flags = flags & (CKF_RW_SESSION | CKF_SERIAL_SESSION);
    s->token = t;
    atomic_init(&s->refs, 1);
    atomic_init(&s->validation, 0);
    pthread_mutex_init(&s->lock, NULL);

    pthread_rwlock_wrlock(&tab->lock);
    if (tab->count >= tab->nbuckets)
        grow(tab);
    s->handle = tab->next_handle++;
    if (tab->next_handle == CK_INVALID_HANDLE)
        tab->next_handle = 1;
    size_t k = bucket_of(tab, s->handle);
    s->next = tab->buckets[k];
    tab->buckets[k] = s;
    tab->count++;
    *out = s->handle;
    pthread_rwlock_unlock(&tab->lock);
    return CKR_OK;
}

CK_RV session_get(struct session_table *tab, CK_SESSION_HANDLE h, struct session **out)
{
    CK_RV rv = CKR_SESSION_HANDLE_INVALID;
    if (h == CK_INVALID_HANDLE)
        return rv;
    pthread_rwlock_rdlock(&tab->lock);
    for (struct session *s = tab->buckets[bucket_of(tab, h)]; s != NULL; s = s->next) {
        if (s->handle == h) {
            atomic_fetch_add(&s->refs, 1);
            *out = s;
            rv = CKR_OK;
            break;
        }
    }
    pthread_rwlock_unlock(&tab->lock);
    return rv;
}

CK_RV session_close(struct session_table *tab, CK_SESSION_HANDLE h)
{
    struct session *found = NULL;
    pthread_rwlock_wrlock(&tab->lock);
    if (h != CK_INVALID_HANDLE) {
        for (struct session **pp = &tab->buckets[bucket_of(tab, h)]; *pp != NULL;
             pp = &(*pp)->next) {
            if ((*pp)->handle == h) {
                found = *pp;
                *pp = found->next;
                found->next = NULL;
                tab->count--;
                break;
            }
        }
    }
    pthread_rwlock_unlock(&tab->lock);
    if (found == NULL)
        return CKR_SESSION_HANDLE_INVALID;
    finish_closed(found);
    return CKR_OK;
}

void session_close_all(struct session_table *tab, CK_SLOT_ID slot)
{
    pthread_rwlock_wrlock(&tab->lock);
    struct session *list = unlink_sessions(tab, false, slot);
    pthread_rwlock_unlock(&tab->lock);
    finish_closed(list);
}

struct token *session_token(const struct session *s)
{
    return s->token;
}

CK_SLOT_ID session_slot(const struct session *s)
{
    return s->slot;
}

bool session_is_rw(const struct session *s)
{
    return (s->flags & CKF_RW_SESSION) != 0;
}

void session_set_validation(struct session *s, CK_FLAGS flags)
{
    atomic_store_explicit(&s->validation, flags, memory_order_relaxed);
}

CK_FLAGS session_validation(const struct session *s)
{
    /* atomic_load takes a non-const pointer in C17's generic form */
    return atomic_load_explicit((atomic_ulong *)&s->validation, memory_order_relaxed);
}

CK_STATE session_state(const struct session *s)
{
    enum token_login l = token_login_state(s->token);
    if (session_is_rw(s)) {
        if (l == TOKEN_SO)
            return CKS_RW_SO_FUNCTIONS;
        return l == TOKEN_USER ? CKS_RW_USER_FUNCTIONS : CKS_RW_PUBLIC_SESSION;
    }
    return l == TOKEN_USER ? CKS_RO_USER_FUNCTIONS : CKS_RO_PUBLIC_SESSION;
}

void session_info(const struct session *s, CK_SESSION_INFO *info)
{
    memset(info, 0, sizeof(*info));
    info->slotID = s->slot;
    info->state = session_state(s);
    info->flags = s->flags;
    info->ulDeviceError = 0;
}

CK_RV session_find_begin(struct session *s, CK_OBJECT_HANDLE *handles, size_t n)
{
    CK_RV rv = CKR_OK;
    pthread_mutex_lock(&s->lock);
    if (s->finding) {
        rv = CKR_OPERATION_ACTIVE;
    } else {
        s->found = handles;
        s->nfound = n;
        s->found_pos = 0;
        s->finding = true;
    }
    pthread_mutex_unlock(&s->lock);
    return rv;
}

bool session_finding(struct session *s)
{
    pthread_mutex_lock(&s->lock);
    bool f = s->finding;
    pthread_mutex_unlock(&s->lock);
    return f;
}

CK_RV session_find_next(struct session *s, CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG *count)
{
    CK_RV rv = CKR_OK;
    pthread_mutex_lock(&s->lock);
    if (!s->finding) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
    } else {
        CK_ULONG n = 0;
        while (n < max && s->found_pos < s->nfound)
            out[n++] = s->found[s->found_pos++];
        *count = n;
    }
    pthread_mutex_unlock(&s->lock);
    return rv;
}

CK_RV session_find_end(struct session *s)
{
    CK_RV rv = CKR_OK;
    pthread_mutex_lock(&s->lock);
    if (!s->finding) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
    } else {
        free(s->found);
        s->found = NULL;
        s->nfound = s->found_pos = 0;
        s->finding = false;
    }
    pthread_mutex_unlock(&s->lock);
    return rv;
}

CK_SESSION_HANDLE session_handle(const struct session *s)
{
    return s->handle;
}

void session_lock(struct session *s)
{
    pthread_mutex_lock(&s->lock);
}

void session_unlock(struct session *s)
{
    pthread_mutex_unlock(&s->lock);
}

struct session_slot *session_op_slot(struct session *s, enum session_op k)
{
    return &s->ops[k];
}

void session_cancel(struct session *s, CK_FLAGS flags)
{
    static const struct {
        enum session_op k;
        CK_FLAGS flag;
    } map[] = {
        {SESSION_OP_ENCRYPT, CKF_ENCRYPT},
        {SESSION_OP_DECRYPT, CKF_DECRYPT},
        {SESSION_OP_DIGEST, CKF_DIGEST},
        {SESSION_OP_SIGN, CKF_SIGN},
        {SESSION_OP_VERIFY, CKF_VERIFY},
        {SESSION_OP_SIGN_RECOVER, CKF_SIGN_RECOVER},
        {SESSION_OP_VERIFY_RECOVER, CKF_VERIFY_RECOVER},
        {SESSION_OP_VERIFY_SIGNATURE, CKF_VERIFY},
        {SESSION_OP_MSG_ENCRYPT, CKF_MESSAGE_ENCRYPT},
        {SESSION_OP_MSG_DECRYPT, CKF_MESSAGE_DECRYPT},
        {SESSION_OP_MSG_SIGN, CKF_MESSAGE_SIGN},
        {SESSION_OP_MSG_VERIFY, CKF_MESSAGE_VERIFY},
    };
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (flags & map[i].flag)
            session_slot_clear(&s->ops[map[i].k]);
    if (flags & CKF_FIND_OBJECTS) {
        free(s->found);
        s->found = NULL;
        s->nfound = s->found_pos = 0;
        s->finding = false;
    }
    pthread_mutex_unlock(&s->lock);
}
