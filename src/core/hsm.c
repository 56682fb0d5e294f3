#include "core/hsm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mech/mech.h"
#include "store/store.h"

/* Serialises C_Initialize / C_Finalize; entry points read g_hsm atomically
 * (the spec makes C_Finalize during other calls undefined). */
static pthread_mutex_t g_init_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(struct hsm *) g_hsm;

/* This process's PID without a system call per entry point (glibc's
 * getpid() is one): set at the first C_Initialize and in every child by a
 * fork handler. */
static atomic_int g_pid;
static pthread_once_t g_pid_once = PTHREAD_ONCE_INIT;

static void pid_after_fork(void)
{
    atomic_store(&g_pid, (int)getpid());
}

static void pid_watch(void)
{
    atomic_store(&g_pid, (int)getpid());
    if (pthread_atfork(NULL, NULL, pid_after_fork) != 0)
        atomic_store(&g_pid, 0); /* no handler: fall back to asking */
}

static pid_t current_pid(void)
{
    int pid = atomic_load_explicit(&g_pid, memory_order_relaxed);
    return pid != 0 ? (pid_t)pid : getpid();
}

CK_RV hsm_enter(struct hsm **out)
{
    struct hsm *h = atomic_load_explicit(&g_hsm, memory_order_acquire);
    if (h == NULL || h->pid != current_pid())
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    *out = h;
    return CKR_OK;
}

CK_RV hsm_token(struct hsm *h, CK_SLOT_ID slot, struct token **out)
{
    if (slot >= h->slot_count)
        return CKR_SLOT_ID_INVALID;
    *out = h->tokens[slot];
    return CKR_OK;
}

static CK_RV check_init_args(const CK_C_INITIALIZE_ARGS *a)
{
    if (a == NULL)
        return CKR_OK;
    if (a->pReserved != NULL)
        return CKR_ARGUMENTS_BAD;
    int set = (a->CreateMutex != NULL) + (a->DestroyMutex != NULL) + (a->LockMutex != NULL) +
              (a->UnlockMutex != NULL);
    if (set != 0 && set != 4)
        return CKR_ARGUMENTS_BAD;
    /* We lock with the OS's primitives; an application that insists on its
     * own mutex callbacks (without CKF_OS_LOCKING_OK) cannot be served. */
    if (set == 4 && !(a->flags & CKF_OS_LOCKING_OK))
        return CKR_CANT_LOCK;
    return CKR_OK;
}

static void hsm_free(struct hsm *h)
{
    if (h == NULL)
        return;
    session_table_free(h->sessions);
    for (size_t i = 0; h->tokens != NULL && i < h->slot_count; i++)
        token_free(h->tokens[i]);
    free(h->tokens);
    mech_digest_cleanup(); /* saved states hold objects of this context */
    crypto_free(h->crypto);
    store_lock_release(h->lock);
    config_free(&h->cfg);
    free(h);
}

/* Where slot's database lives: storage_path itself with one slot,
 * storage_path/slot-N with several. */
static char *slot_dir(const struct hsm *h, size_t slot)
{
    if (h->slot_count == 1)
        return strdup(h->cfg.storage_path);
    char name[32];
    snprintf(name, sizeof(name), "slot-%zu", slot);
    return util_path_join(h->cfg.storage_path, name);
}

static CK_RV build(struct hsm *h, struct store_lock *inherited)
{
    char err[CONFIG_ERR_MAX > STORE_ERR_MAX ? CONFIG_ERR_MAX : STORE_ERR_MAX];
    CK_RV rv;
    if (config_load(&h->cfg, NULL, err) != 0) {
        util_log("configuration error: %s", err);
        return CKR_GENERAL_ERROR;
    }
    rv = crypto_new(&h->crypto);
    if (rv != CKR_OK) {
        util_log("cannot set up the OpenSSL library context (rv 0x%lx)", rv);
        return rv;
    }
    if (h->cfg.persist_objects) {
        if (inherited != NULL) {
            h->lock = inherited;
        } else {
            rv = store_lock_acquire(h->cfg.storage_path, &h->lock, err);
            if (rv != CKR_OK) {
                util_log("%s", err);
                return rv == CKR_HOST_MEMORY ? rv : CKR_GENERAL_ERROR;
            }
        }
    } else {
        store_lock_release(inherited);
    }
    h->slot_count = h->cfg.slot_count;
    h->tokens = calloc(h->slot_count, sizeof(*h->tokens));
    if (h->tokens == NULL)
        return CKR_HOST_MEMORY;
    rv = session_table_new(&h->sessions);
    if (rv != CKR_OK)
        return rv;
    for (size_t i = 0; i < h->slot_count; i++) {
        struct store *st = NULL;
        if (h->cfg.persist_objects) {
            char *dir = slot_dir(h, i);
            if (dir == NULL)
                return CKR_HOST_MEMORY;
            rv = store_open(dir, &st, err);
            free(dir);
            if (rv != CKR_OK) {
                util_log("%s", err);
                return rv == CKR_HOST_MEMORY ? rv : CKR_GENERAL_ERROR;
            }
        }
        rv = token_new(i, &h->cfg, h->crypto, st, &h->tokens[i]);
        if (rv != CKR_OK) {
            util_log("slot %zu: cannot load the token state (rv 0x%lx)", i, rv);
            return rv == CKR_HOST_MEMORY ? rv : CKR_GENERAL_ERROR;
        }
    }
    return CKR_OK;
}

/* In a forked child the inherited core belongs to the parent: its SQLite
 * connections must not be used or closed here and its locks may be held by
 * threads that do not exist here.  Keep only the store lock (its open file
 * description, and so the flock, is shared with the parent) and leave the
 * rest untouched, reachable from g_abandoned. */
static struct hsm *g_abandoned;

static struct store_lock *abandon_inherited(struct hsm *h)
{
    struct store_lock *lock = store_lock_inherit(h->lock);
    h->lock = NULL;
    h->inherited = g_abandoned;
    g_abandoned = h;
    return lock;
}

CK_RV hsm_initialize(CK_VOID_PTR args)
{
    CK_RV rv = check_init_args(args);
    if (rv != CKR_OK)
        return rv;
    pthread_once(&g_pid_once, pid_watch);
    pthread_mutex_lock(&g_init_lock);
    struct store_lock *inherited = NULL;
    struct hsm *old = atomic_load(&g_hsm);
    if (old != NULL && old->pid == getpid()) {
        rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
        goto out;
    }
    if (old != NULL) {
        inherited = abandon_inherited(old);
        atomic_store(&g_hsm, NULL);
    }
    rv = crypto_global_init();
    if (rv != CKR_OK) {
        util_log("cannot initialise OpenSSL");
        store_lock_release(inherited);
        goto out;
    }
    struct hsm *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        store_lock_release(inherited);
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    h->pid = getpid();
    rv = build(h, inherited);
    if (rv != CKR_OK) {
        hsm_free(h);
        goto out;
    }
    atomic_store_explicit(&g_hsm, h, memory_order_release);
out:
    pthread_mutex_unlock(&g_init_lock);
    return rv;
}

CK_RV hsm_finalize(CK_VOID_PTR reserved)
{
    if (reserved != NULL)
        return CKR_ARGUMENTS_BAD;
    pthread_mutex_lock(&g_init_lock);
    struct hsm *h = atomic_load(&g_hsm);
    CK_RV rv = CKR_CRYPTOKI_NOT_INITIALIZED;
    if (h != NULL && h->pid == getpid()) {
        atomic_store(&g_hsm, NULL);
        hsm_free(h);
        rv = CKR_OK;
    }
    pthread_mutex_unlock(&g_init_lock);
    return rv;
}

void hsm_unload(void)
{
    pthread_mutex_lock(&g_init_lock);
    struct hsm *h = atomic_load(&g_hsm);
    if (h != NULL) {
        atomic_store(&g_hsm, NULL);
        if (h->pid == getpid())
            hsm_free(h);
    }
    crypto_global_cleanup();
    pthread_mutex_unlock(&g_init_lock);
}
