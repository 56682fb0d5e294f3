#include "core/hsm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/selftest.h"
#include "mech/mech.h"
#include "store/store.h"

#define HSM_REASON_MAX 256

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

/* The error state: set by hsm_fail, cleared by C_Finalize and by a
 * C_Initialize whose self-tests pass. */
static atomic_bool g_failed;
static pthread_mutex_t g_fail_lock = PTHREAD_MUTEX_INITIALIZER;
static char g_fail_reason[HSM_REASON_MAX];

/* Sets the state; true for the call that set it. */
static bool fail_latch(const char *reason)
{
    bool first = false;
    pthread_mutex_lock(&g_fail_lock);
    if (!atomic_load(&g_failed)) {
        snprintf(g_fail_reason, sizeof(g_fail_reason), "%s", reason);
        atomic_store(&g_failed, true);
        first = true;
    }
    pthread_mutex_unlock(&g_fail_lock);
    if (first)
        util_log("entering the error state: %s; every call now returns CKR_GENERAL_ERROR "
                 "until C_Finalize and C_Initialize",
                 reason);
    return first;
}

static void fail_clear(void)
{
    pthread_mutex_lock(&g_fail_lock);
    atomic_store(&g_failed, false);
    g_fail_reason[0] = '\0';
    pthread_mutex_unlock(&g_fail_lock);
}

void hsm_fail(const char *reason)
{
    if (!fail_latch(reason))
        return;
    struct hsm *h = atomic_load_explicit(&g_hsm, memory_order_acquire);
    if (h != NULL && h->pid == current_pid() && h->audit != NULL) {
        struct audit_event e;
        audit_event_init(&e, "error_state", AUDIT_SYSTEM);
        e.detail = reason;
        e.rv = CKR_GENERAL_ERROR;
        audit_log_sync(h->audit, &e);
    }
}

bool hsm_failed(char *why, size_t whylen)
{
    bool failed;
    pthread_mutex_lock(&g_fail_lock);
    failed = atomic_load(&g_failed);
    if (why != NULL && whylen > 0)
        snprintf(why, whylen, "%s", failed ? g_fail_reason : "");
    pthread_mutex_unlock(&g_fail_lock);
    return failed;
}

/* The audit writer cannot log its own failure (it would wait on itself). */
static void audit_failed(void *arg, const char *reason)
{
    (void)arg;
    fail_latch(reason);
}

CK_RV hsm_enter(struct hsm **out)
{
    struct hsm *h = atomic_load_explicit(&g_hsm, memory_order_acquire);
    if (atomic_load_explicit(&g_failed, memory_order_relaxed))
        return CKR_GENERAL_ERROR;
    if (h == NULL || h->pid != current_pid())
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    *out = h;
    return CKR_OK;
}

struct hsm *hsm_current(void)
{
    struct hsm *h = atomic_load_explicit(&g_hsm, memory_order_acquire);
    return h != NULL && h->pid == current_pid() ? h : NULL;
}

CK_RV hsm_offline_crypto(size_t secure_heap_size, struct crypto **out)
{
    pthread_mutex_lock(&g_init_lock);
    CK_RV rv = crypto_global_init(secure_heap_size);
    if (rv == CKR_OK)
        rv = crypto_new(out);
    pthread_mutex_unlock(&g_init_lock);
    return rv;
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
    audit_close(h->audit);
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

/* Runs the 17 power-on self-tests; a failure is logged (stderr, audit)
 * test by test and puts the module in its error state. */
static CK_RV power_on_self_tests(struct hsm *h)
{
    struct selftest_result r[SELFTEST_COUNT];
    struct audit_event e;
    char detail[AUDIT_DETAIL_MAX];
    double ms = 0;
    CK_RV rv = selftest_run_all(h->crypto, r);
    size_t failed = 0;
    for (size_t i = 0; i < SELFTEST_COUNT; i++) {
        ms += r[i].ms;
        if (r[i].passed)
            continue;
        failed++;
        util_log("power-on self-test %s failed: %s", r[i].name, r[i].why);
        snprintf(detail, sizeof(detail), "%s: %s", r[i].name, r[i].why);
        audit_event_init(&e, "self_test", AUDIT_SYSTEM);
        e.detail = detail;
        e.rv = CKR_GENERAL_ERROR;
        audit_log(h->audit, &e);
    }
    if (rv == CKR_OK && failed > 0)
        rv = CKR_GENERAL_ERROR;
    h->post_ms = ms;
    snprintf(detail, sizeof(detail), "%zu of %d power-on self-tests passed in %.1f ms",
             (size_t)SELFTEST_COUNT - failed, SELFTEST_COUNT, ms);
    audit_event_init(&e, "self_test", AUDIT_SYSTEM);
    e.detail = detail;
    e.rv = rv == CKR_OK ? CKR_OK : CKR_GENERAL_ERROR;
    audit_log(h->audit, &e);
    if (rv != CKR_OK) {
        snprintf(detail, sizeof(detail), "power-on self-tests failed (%zu of %d)", failed,
                 SELFTEST_COUNT);
        fail_latch(detail);
        audit_event_init(&e, "error_state", AUDIT_SYSTEM);
        e.detail = detail;
        e.rv = CKR_GENERAL_ERROR;
        audit_log(h->audit, &e);
        return CKR_GENERAL_ERROR;
    }
    return CKR_OK;
}

static CK_RV build(struct hsm *h, struct store_lock *inherited)
{
    char err[CONFIG_ERR_MAX > STORE_ERR_MAX ? CONFIG_ERR_MAX : STORE_ERR_MAX];
    CK_RV rv;
    if (config_load(&h->cfg, NULL, err) != 0) {
        util_log("configuration error: %s", err);
        return CKR_GENERAL_ERROR;
    }
    rv = crypto_global_init(h->cfg.secure_heap_size);
    if (rv != CKR_OK) {
        util_log("cannot initialise OpenSSL");
        return rv;
    }
    rv = crypto_new(&h->crypto);
    if (rv != CKR_OK) {
        util_log("cannot set up the OpenSSL library context (rv 0x%lx)", rv);
        return rv;
    }
    if (h->cfg.audit_enabled && h->cfg.audit_log_level != CONFIG_LOG_NONE) {
        char aerr[AUDIT_ERR_MAX];
        rv = audit_open(&h->cfg, h->crypto, audit_failed, NULL, &h->audit, aerr);
        if (rv != CKR_OK) {
            util_log("audit log: %s", aerr);
            return rv == CKR_HOST_MEMORY ? rv : CKR_GENERAL_ERROR;
        }
    }
    rv = power_on_self_tests(h);
    if (rv != CKR_OK)
        return rv;
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

static void log_initialize(struct hsm *h, CK_RV rv)
{
    struct audit_event e;
    char detail[AUDIT_DETAIL_MAX];
    snprintf(detail, sizeof(detail), "config %s; %zu slot(s)",
             h->cfg.source_path != NULL ? h->cfg.source_path : "(defaults)",
             (size_t)h->cfg.slot_count);
    audit_event_init(&e, "initialize", AUDIT_SYSTEM);
    e.detail = detail;
    e.rv = rv;
    audit_log(h->audit, &e);
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
    struct hsm *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        store_lock_release(inherited);
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    h->pid = getpid();
    fail_clear(); /* a new start: the self-tests decide again */
    crypto_set_failure_hook(hsm_fail);
    rv = build(h, inherited);
    log_initialize(h, rv);
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
        struct audit_event e;
        audit_event_init(&e, "finalize", AUDIT_SYSTEM);
        audit_log(h->audit, &e);
        hsm_free(h); /* drains and fsyncs the audit log */
        rv = CKR_OK;
    }
    /* Leaving the error state: the next C_Initialize tests again. */
    if (atomic_load(&g_failed)) {
        fail_clear();
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
