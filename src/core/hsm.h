/*
 * The process-wide HSM core: configuration, OpenSSL context, the slots'
 * tokens and the session table.  C_Initialize creates it, C_Finalize frees
 * it; every other entry point reaches it through hsm_enter().
 */
#ifndef CRATON_CORE_HSM_H
#define CRATON_CORE_HSM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/util.h"
#include "audit/audit.h"
#include "config/config.h"
#include "core/session.h"
#include "core/token.h"
#include "crypto/crypto.h"
#include "pkcs11/pkcs11.h"

struct hsm {
    pid_t pid; /* process that called C_Initialize */
    struct config cfg;
    struct crypto *crypto;
    struct store_lock *lock; /* NULL when persist_objects is false */
    size_t slot_count;
    struct token **tokens; /* index = slot ID */
    struct session_table *sessions;
    struct audit *audit; /* NULL when [audit] is disabled or log_level = "none" */
    double post_ms;      /* how long C_Initialize's power-on self-tests took */
    /* Chain of cores inherited through fork() and left untouched. */
    struct hsm *inherited;
};

/* C_Initialize (spec 5.4): validates args, loads the configuration, opens
 * the stores and builds the core.  Prints the reason of a failure once to
 * stderr. */
CK_RV hsm_initialize(CK_VOID_PTR args) WARN_UNUSED;

/* C_Finalize (spec 5.4). */
CK_RV hsm_finalize(CK_VOID_PTR reserved) WARN_UNUSED;

/* Entry check of every function but the interface queries: CKR_OK and the
 * core, CKR_GENERAL_ERROR in the error state (hsm_fail), or
 * CKR_CRYPTOKI_NOT_INITIALIZED (never initialised, finalised, or this is a
 * forked child that has not called C_Initialize). */
CK_RV hsm_enter(struct hsm **out) WARN_UNUSED;

/* Puts the module in its error state (a failed power-on or conditional
 * self-test, a failed audit write): every later call but C_Initialize,
 * C_Finalize and the interface queries returns CKR_GENERAL_ERROR.  reason
 * goes to stderr and to the audit log.  C_Finalize leaves the state; the
 * next C_Initialize runs the power-on self-tests again.  Thread-safe; the
 * first reason is kept. */
void hsm_fail(const char *reason);

/* Whether the module is in its error state, and why (copied into
 * why[whylen], "" when not). */
bool hsm_failed(char *why, size_t whylen);

/* The live core of this process, in the error state too, or NULL (never
 * initialised, finalised, a failed C_Initialize, a forked child): for the
 * vendor status call only.  Valid until C_Finalize. */
struct hsm *hsm_current(void);

/* For the vendor functions that work without C_Initialize: a fresh
 * library context (crypto_global_init with secure_heap_size, then
 * crypto_new) made under C_Initialize's lock.  The caller frees it with
 * crypto_free.  Returns as crypto_new. */
CK_RV hsm_offline_crypto(size_t secure_heap_size, struct crypto **out) WARN_UNUSED;

/* The token of slot, or CKR_SLOT_ID_INVALID. */
CK_RV hsm_token(struct hsm *h, CK_SLOT_ID slot, struct token **out) WARN_UNUSED;

/* Called from the module's unload destructor: finalises if the host did not
 * and releases OpenSSL. */
void hsm_unload(void);

#endif
