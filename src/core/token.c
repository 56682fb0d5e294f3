#include "core/token.h"

#include "craton/advice.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOKEN_MANUFACTURER     "Craton HSM Project"
#define TOKEN_MODEL            "Craton HSM"
#define TOKEN_SLOT_DESCRIPTION "Craton HSM software slot"
#define TOKEN_VERSION_MAJOR    0
#define TOKEN_VERSION_MINOR    1
/* PBKDF2 output: verifier || key-encryption key, from one run. */
#define TOKEN_KDF_OUT        (STORE_VERIFIER_LEN + CRYPTO_KEY_LEN)
#define TOKEN_OMK_AAD_PREFIX "craton-hsm/omk/v1"

struct token {
    CK_SLOT_ID id;
    const struct config *cfg;
    struct crypto *crypto;
    struct store *store;
    struct objects *objects;
    char serial[CONFIG_SERIAL_MAX + 1];
    pthread_mutex_t auth_lock;
    pthread_rwlock_t state_lock;
    /* under state_lock: */
    struct store_token rec;
    enum token_login login;
    unsigned char *omk; /* secure heap; set while USER or SO is logged in */
    unsigned long sessions, rw_sessions;
};

static enum store_role role_of(CK_USER_TYPE user)
{
    return user == CKU_SO ? STORE_ROLE_SO : STORE_ROLE_USER;
}

static bool pin_locked(const struct token *t, enum store_role role)
{
    return t->rec.pin[role].failed >= t->cfg->max_failed_logins;
}

/* Serial of slot N: serial_number itself with one slot, "<serial>-N"
 * (keeping the rightmost 16 characters) with several, so slots differ. */
static void make_serial(struct token *t)
{
    const char *base = t->cfg->serial_number;
    if (t->cfg->slot_count <= 1) {
        snprintf(t->serial, sizeof(t->serial), "%s", base);
        return;
    }
    char buf[CONFIG_SERIAL_MAX + 24];
    int n = snprintf(buf, sizeof(buf), "%.16s-%lu", base, (unsigned long)t->id);
    size_t len = n < 0 ? 0 : (size_t)n;
    const char *tail = len > CONFIG_SERIAL_MAX ? buf + len - CONFIG_SERIAL_MAX : buf;
    memcpy(t->serial, tail, strlen(tail) + 1);
}

CK_RV token_new(CK_SLOT_ID id, const struct config *cfg, struct crypto *crypto, struct store *st,
                struct token **out)
{
    struct token *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        store_close(st);
        return CKR_HOST_MEMORY;
    }
    t->id = id;
    t->cfg = cfg;
    t->crypto = crypto;
    t->store = st;
    pthread_mutex_init(&t->auth_lock, NULL);
    pthread_rwlock_init(&t->state_lock, NULL);
    make_serial(t);
    CK_RV rv = CKR_OK;
    if (st != NULL)
        rv = store_load_token(st, &t->rec);
    if (rv == CKR_OK)
        rv = objects_new(id, crypto, st, &t->objects);
    if (rv != CKR_OK) {
        token_free(t);
        return rv;
    }
    *out = t;
    return CKR_OK;
}

void token_free(struct token *t)
{
    if (t == NULL)
        return;
    crypto_secret_free(t->omk, CRYPTO_KEY_LEN);
    crypto_wipe(&t->rec, sizeof(t->rec));
    objects_free(t->objects);
    store_close(t->store);
    pthread_rwlock_destroy(&t->state_lock);
    pthread_mutex_destroy(&t->auth_lock);
    free(t);
}

void token_slot_info(struct token *t, CK_SLOT_INFO *info)
{
    memset(info, 0, sizeof(*info));
    char desc[64];
    snprintf(desc, sizeof(desc), "%s %lu", TOKEN_SLOT_DESCRIPTION, (unsigned long)t->id);
    util_pad(info->slotDescription, sizeof(info->slotDescription), desc, sizeof(desc));
    util_pad(info->manufacturerID, sizeof(info->manufacturerID), TOKEN_MANUFACTURER,
             sizeof(TOKEN_MANUFACTURER));
    info->flags = CKF_TOKEN_PRESENT;
    info->hardwareVersion.major = TOKEN_VERSION_MAJOR;
    info->hardwareVersion.minor = TOKEN_VERSION_MINOR;
    info->firmwareVersion = info->hardwareVersion;
}

static CK_FLAGS pin_flags(const struct token *t, enum store_role role)
{
    unsigned long failed = t->rec.pin[role].failed;
    unsigned long max = t->cfg->max_failed_logins;
    bool so = role == STORE_ROLE_SO;
    CK_FLAGS f = 0;
    if (failed >= max)
        f |= so ? CKF_SO_PIN_LOCKED : CKF_USER_PIN_LOCKED;
    else if (failed + 1 == max)
        f |= so ? CKF_SO_PIN_FINAL_TRY : CKF_USER_PIN_FINAL_TRY;
    /* Spec: COUNT_LOW = a wrong PIN since the last successful login. */
    if (failed > 0)
        f |= so ? CKF_SO_PIN_COUNT_LOW : CKF_USER_PIN_COUNT_LOW;
    return f;
}

void token_info(struct token *t, CK_TOKEN_INFO *info)
{
    memset(info, 0, sizeof(*info));
    pthread_rwlock_rdlock(&t->state_lock);
    if (t->rec.initialized)
        memcpy(info->label, t->rec.label, sizeof(info->label));
    else
        util_pad(info->label, sizeof(info->label), t->cfg->label, sizeof(t->cfg->label));
    util_pad(info->manufacturerID, sizeof(info->manufacturerID), TOKEN_MANUFACTURER,
             sizeof(TOKEN_MANUFACTURER));
    util_pad(info->model, sizeof(info->model), TOKEN_MODEL, sizeof(TOKEN_MODEL));
    util_pad(info->serialNumber, sizeof(info->serialNumber), t->serial, sizeof(t->serial));
    info->flags = CKF_RNG | CKF_LOGIN_REQUIRED | CKF_CLOCK_ON_TOKEN;
    if (t->rec.initialized)
        info->flags |= CKF_TOKEN_INITIALIZED | pin_flags(t, STORE_ROLE_SO);
    if (t->rec.pin[STORE_ROLE_USER].set)
        info->flags |= CKF_USER_PIN_INITIALIZED | pin_flags(t, STORE_ROLE_USER);
    info->ulMaxSessionCount = t->cfg->max_sessions;
    info->ulSessionCount = t->sessions;
    info->ulMaxRwSessionCount = t->cfg->max_rw_sessions;
    info->ulRwSessionCount = t->rw_sessions;
    pthread_rwlock_unlock(&t->state_lock);
    info->ulMaxPinLen = t->cfg->pin_max_length;
    info->ulMinPinLen = t->cfg->pin_min_length;
    info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
    info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
    info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
    info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
    info->hardwareVersion.major = TOKEN_VERSION_MAJOR;
    info->hardwareVersion.minor = TOKEN_VERSION_MINOR;
    info->firmwareVersion = info->hardwareVersion;
    time_t now = time(NULL);
    struct tm tm;
    char clock[20];
    gmtime_r(&now, &tm);
    strftime(clock, sizeof(clock), "%Y%m%d%H%M%S00", &tm);
    memcpy(info->utcTime, clock, sizeof(info->utcTime));
}

enum token_login token_login_state(struct token *t)
{
    pthread_rwlock_rdlock(&t->state_lock);
    enum token_login l = t->login;
    pthread_rwlock_unlock(&t->state_lock);
    return l;
}

CK_RV token_session_opening(struct token *t, bool rw)
{
    CK_RV rv = CKR_OK;
    pthread_rwlock_wrlock(&t->state_lock);
    if (!t->rec.initialized)
        rv = CKR_TOKEN_NOT_RECOGNIZED;
    else if (!rw && t->login == TOKEN_SO)
        rv = CKR_SESSION_READ_WRITE_SO_EXISTS;
    else if (t->sessions >= t->cfg->max_sessions)
        rv = CKR_SESSION_COUNT;
    else if (rw && t->rw_sessions >= t->cfg->max_rw_sessions)
        rv = CKR_SESSION_COUNT;
    if (rv == CKR_OK) {
        t->sessions++;
        if (rw)
            t->rw_sessions++;
    }
    pthread_rwlock_unlock(&t->state_lock);
    return rv;
}

/* Drops the login state and the OMK; caller holds state_lock for writing. */
static void logout_locked(struct token *t)
{
    crypto_secret_free(t->omk, CRYPTO_KEY_LEN);
    t->omk = NULL;
    if (t->login != TOKEN_PUBLIC && t->objects != NULL)
        objects_logout(t->objects);
    t->login = TOKEN_PUBLIC;
}

struct objects *token_objects(struct token *t)
{
    return t->objects;
}

void token_view(struct token *t, struct objects_view *v, unsigned char omk[CRYPTO_KEY_LEN])
{
    pthread_rwlock_rdlock(&t->state_lock);
    v->user = t->login == TOKEN_USER;
    v->omk = NULL;
    if (t->omk != NULL) {
        memcpy(omk, t->omk, CRYPTO_KEY_LEN);
        v->omk = omk;
    }
    pthread_rwlock_unlock(&t->state_lock);
}

void token_session_closed(struct token *t, bool rw, CK_SESSION_HANDLE h)
{
    if (t->objects != NULL)
        objects_session_closed(t->objects, h);
    pthread_rwlock_wrlock(&t->state_lock);
    if (t->sessions > 0)
        t->sessions--;
    if (rw && t->rw_sessions > 0)
        t->rw_sessions--;
    if (t->sessions == 0)
        logout_locked(t);
    pthread_rwlock_unlock(&t->state_lock);
}

static bool pin_len_ok(const struct token *t, CK_ULONG len)
{
    return len >= t->cfg->pin_min_length && len <= t->cfg->pin_max_length;
}

static void omk_aad(const struct token *t, enum store_role role, unsigned char *aad, size_t *len)
{
    size_t n = sizeof(TOKEN_OMK_AAD_PREFIX) - 1;
    memcpy(aad, TOKEN_OMK_AAD_PREFIX, n);
    uint64_t slot = t->id;
    for (int i = 7; i >= 0; i--)
        aad[n++] = (unsigned char)(slot >> (8 * i));
    aad[n++] = (unsigned char)role;
    *len = n;
}

/* Derives verifier || KEK from pin with p's salt and iteration count. */
static CK_RV derive(struct token *t, const struct store_pin *p, const CK_UTF8CHAR *pin,
                    CK_ULONG len, unsigned char out[TOKEN_KDF_OUT])
{
    return crypto_pbkdf2_sha256(t->crypto, pin, len, p->salt, sizeof(p->salt), p->iterations, out,
                                TOKEN_KDF_OUT);
}

/* Fills p with a fresh salt, the verifier of pin and omk wrapped under the
 * PIN's KEK; failures are reset. */
static CK_RV make_pin(struct token *t, enum store_role role, const CK_UTF8CHAR *pin, CK_ULONG len,
                      const unsigned char omk[CRYPTO_KEY_LEN], struct store_pin *p)
{
    unsigned char kdf[TOKEN_KDF_OUT];
    unsigned char aad[64];
    size_t aad_len;
    memset(p, 0, sizeof(*p));
    p->iterations = t->cfg->pbkdf2_iterations;
    CK_RV rv = crypto_random(t->crypto, p->salt, sizeof(p->salt), false);
    if (rv == CKR_OK)
        rv = derive(t, p, pin, len, kdf);
    if (rv == CKR_OK) {
        memcpy(p->verifier, kdf, STORE_VERIFIER_LEN);
        omk_aad(t, role, aad, &aad_len);
        rv =
            crypto_wrap_key(t->crypto, kdf + STORE_VERIFIER_LEN, omk, aad, aad_len, p->wrapped_omk);
    }
    p->set = rv == CKR_OK;
    crypto_wipe(kdf, sizeof(kdf));
    return rv;
}

/* Records one failure for role, durably, before any PIN check. */
static CK_RV count_failure(struct token *t, enum store_role role)
{
    unsigned long failed = 0;
    CK_RV rv = CKR_OK;
    if (t->store != NULL)
        rv = store_count_failure(t->store, role, &failed);
    pthread_rwlock_wrlock(&t->state_lock);
    if (rv == CKR_OK)
        t->rec.pin[role].failed = t->store != NULL ? failed : t->rec.pin[role].failed + 1;
    pthread_rwlock_unlock(&t->state_lock);
    return rv;
}

static CK_RV reset_failures(struct token *t, enum store_role role)
{
    CK_RV rv = CKR_OK;
    if (t->store != NULL)
        rv = store_reset_failures(t->store, role);
    pthread_rwlock_wrlock(&t->state_lock);
    if (rv == CKR_OK)
        t->rec.pin[role].failed = 0;
    pthread_rwlock_unlock(&t->state_lock);
    return rv;
}

/*
 * Checks pin against the stored verifier of role, counting the attempt
 * first.  On success returns CKR_OK with the failure counter reset and, if
 * omk is non-NULL, the unwrapped OMK in it.  Caller holds auth_lock and has
 * checked that role has a PIN and is not locked.
 */
static CK_RV verify_pin(struct token *t, enum store_role role, const CK_UTF8CHAR *pin, CK_ULONG len,
                        unsigned char *omk)
{
    unsigned char kdf[TOKEN_KDF_OUT];
    unsigned char aad[64];
    size_t aad_len;
    struct store_pin p;
    pthread_rwlock_rdlock(&t->state_lock);
    p = t->rec.pin[role];
    pthread_rwlock_unlock(&t->state_lock);

    CK_RV rv = count_failure(t, role);
    if (rv != CKR_OK)
        goto out;
    /* PINs longer than any policy allows are wrong without hashing them. */
    if (len > TOKEN_PIN_ABI_MAX) {
        rv = CKR_PIN_INCORRECT;
    } else {
        rv = derive(t, &p, pin, len, kdf);
        if (rv == CKR_OK && !crypto_equal(kdf, p.verifier, STORE_VERIFIER_LEN))
            rv = CKR_PIN_INCORRECT;
    }
    if (rv == CKR_PIN_INCORRECT) {
        pthread_rwlock_rdlock(&t->state_lock);
        if (pin_locked(t, role))
            rv = CKR_PIN_LOCKED;
        pthread_rwlock_unlock(&t->state_lock);
        if (rv == CKR_PIN_LOCKED)
            util_log("slot %lu: %s", (unsigned long)t->id,
                     craton_pin_advice(CKR_PIN_LOCKED, role == STORE_ROLE_SO ? CKU_SO : CKU_USER));
        goto out;
    }
    if (rv != CKR_OK)
        goto out;
    if (omk != NULL) {
        omk_aad(t, role, aad, &aad_len);
        rv = crypto_unwrap_key(t->crypto, kdf + STORE_VERIFIER_LEN, p.wrapped_omk, aad, aad_len,
                               omk);
        if (rv != CKR_OK) {
            util_log("slot %lu: the PIN verified but the wrapped object key does not: the "
                     "token record is damaged",
                     (unsigned long)t->id);
            goto out;
        }
    }
    rv = reset_failures(t, role);
out:
    crypto_wipe(kdf, sizeof(kdf));
    crypto_wipe(&p, sizeof(p));
    return rv;
}

CK_RV token_init(struct token *t, const CK_UTF8CHAR *pin, CK_ULONG pin_len,
                 const CK_UTF8CHAR *label)
{
    CK_RV rv = CKR_OK;
    unsigned char *omk = NULL;
    struct store_token rec;
    memset(&rec, 0, sizeof(rec));

    pthread_mutex_lock(&t->auth_lock);
    pthread_rwlock_rdlock(&t->state_lock);
    bool initialized = t->rec.initialized;
    if (t->sessions > 0)
        rv = CKR_SESSION_EXISTS;
    else if (initialized && pin_locked(t, STORE_ROLE_SO))
        rv = CKR_PIN_LOCKED;
    pthread_rwlock_unlock(&t->state_lock);
    if (rv != CKR_OK)
        goto out;

    if (initialized) {
        /* Verify the current SO PIN before anything is destroyed. */
        rv = verify_pin(t, STORE_ROLE_SO, pin, pin_len, NULL);
        if (rv != CKR_OK)
            goto out;
    }
    if (!pin_len_ok(t, pin_len)) {
        rv = CKR_PIN_LEN_RANGE;
        goto out;
    }
    omk = crypto_secret_alloc(CRYPTO_KEY_LEN);
    if (omk == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    rv = crypto_random(t->crypto, omk, CRYPTO_KEY_LEN, true);
    if (rv != CKR_OK)
        goto out;
    rec.initialized = true;
    util_pad(rec.label, sizeof(rec.label), (const char *)label, sizeof(rec.label));
    rv = make_pin(t, STORE_ROLE_SO, pin, pin_len, omk, &rec.pin[STORE_ROLE_SO]);
    if (rv != CKR_OK)
        goto out;

    pthread_rwlock_wrlock(&t->state_lock);
    if (t->sessions > 0) {
        rv = CKR_SESSION_EXISTS; /* a session was opened meanwhile */
    } else {
        /* One transaction replaces the record: the old OMK's wrappings are
         * gone with it, so nothing encrypted under it can be read again. */
        if (t->store != NULL)
            rv = store_reset_token(t->store, &rec);
        if (rv == CKR_OK) {
            t->rec = rec;
            logout_locked(t);
            objects_clear(t->objects);
        }
    }
    pthread_rwlock_unlock(&t->state_lock);
out:
    pthread_mutex_unlock(&t->auth_lock);
    crypto_secret_free(omk, CRYPTO_KEY_LEN);
    crypto_wipe(&rec, sizeof(rec));
    return rv;
}

CK_RV token_login(struct token *t, CK_USER_TYPE user, const CK_UTF8CHAR *pin, CK_ULONG pin_len)
{
    CK_RV rv = CKR_OK;
    enum store_role role = role_of(user);
    enum token_login want = user == CKU_SO ? TOKEN_SO : TOKEN_USER;
    unsigned char *omk = NULL;

    pthread_mutex_lock(&t->auth_lock);
    pthread_rwlock_rdlock(&t->state_lock);
    if (!t->rec.initialized)
        rv = CKR_TOKEN_NOT_RECOGNIZED;
    else if (t->login == want)
        rv = CKR_USER_ALREADY_LOGGED_IN;
    else if (t->login != TOKEN_PUBLIC)
        rv = CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
    else if (user == CKU_SO && t->sessions > t->rw_sessions)
        rv = CKR_SESSION_READ_ONLY_EXISTS;
    else if (!t->rec.pin[role].set)
        rv = CKR_USER_PIN_NOT_INITIALIZED;
    else if (pin_locked(t, role))
        rv = CKR_PIN_LOCKED;
    pthread_rwlock_unlock(&t->state_lock);
    if (rv != CKR_OK)
        goto out;

    omk = crypto_secret_alloc(CRYPTO_KEY_LEN);
    if (omk == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    rv = verify_pin(t, role, pin, pin_len, omk);
    if (rv != CKR_OK)
        goto out;
    pthread_rwlock_wrlock(&t->state_lock);
    /* Sessions may have opened or closed while PBKDF2 ran: check again. */
    if (t->sessions == 0) {
        rv = CKR_SESSION_HANDLE_INVALID;
    } else if (user == CKU_SO && t->sessions > t->rw_sessions) {
        rv = CKR_SESSION_READ_ONLY_EXISTS;
    } else {
        crypto_secret_free(t->omk, CRYPTO_KEY_LEN);
        t->omk = omk;
        omk = NULL;
        t->login = want;
    }
    pthread_rwlock_unlock(&t->state_lock);
out:
    pthread_mutex_unlock(&t->auth_lock);
    crypto_secret_free(omk, CRYPTO_KEY_LEN);
    return rv;
}

CK_RV token_verify_context(struct token *t, const CK_UTF8CHAR *pin, CK_ULONG pin_len)
{
    CK_RV rv = CKR_OK;
    unsigned char *omk = NULL;
    pthread_mutex_lock(&t->auth_lock);
    pthread_rwlock_rdlock(&t->state_lock);
    if (t->login != TOKEN_USER)
        rv = CKR_USER_NOT_LOGGED_IN;
    else if (pin_locked(t, STORE_ROLE_USER))
        rv = CKR_PIN_LOCKED;
    pthread_rwlock_unlock(&t->state_lock);
    if (rv == CKR_OK) {
        omk = crypto_secret_alloc(CRYPTO_KEY_LEN);
        rv = omk == NULL ? CKR_HOST_MEMORY : verify_pin(t, STORE_ROLE_USER, pin, pin_len, omk);
    }
    pthread_mutex_unlock(&t->auth_lock);
    crypto_secret_free(omk, CRYPTO_KEY_LEN);
    return rv;
}

CK_RV token_logout(struct token *t)
{
    CK_RV rv = CKR_OK;
    pthread_rwlock_wrlock(&t->state_lock);
    if (t->login == TOKEN_PUBLIC)
        rv = CKR_USER_NOT_LOGGED_IN;
    else
        logout_locked(t);
    pthread_rwlock_unlock(&t->state_lock);
    return rv;
}

/* Saves rec as the token's record (persisting it first); state_lock free. */
static CK_RV commit_record(struct token *t, const struct store_token *rec)
{
    CK_RV rv = CKR_OK;
    pthread_rwlock_wrlock(&t->state_lock);
    if (t->store != NULL)
        rv = store_save_token(t->store, rec);
    if (rv == CKR_OK)
        t->rec = *rec;
    pthread_rwlock_unlock(&t->state_lock);
    return rv;
}

CK_RV token_init_pin(struct token *t, const CK_UTF8CHAR *pin, CK_ULONG pin_len)
{
    CK_RV rv = CKR_OK;
    unsigned char *omk = crypto_secret_alloc(CRYPTO_KEY_LEN);
    struct store_token rec;
    if (omk == NULL)
        return CKR_HOST_MEMORY;

    pthread_mutex_lock(&t->auth_lock);
    pthread_rwlock_rdlock(&t->state_lock);
    if (t->login != TOKEN_SO || t->omk == NULL)
        rv = CKR_USER_NOT_LOGGED_IN;
    else
        memcpy(omk, t->omk, CRYPTO_KEY_LEN);
    rec = t->rec;
    pthread_rwlock_unlock(&t->state_lock);
    if (rv != CKR_OK)
        goto out;
    if (!pin_len_ok(t, pin_len)) {
        rv = CKR_PIN_LEN_RANGE;
        goto out;
    }
    rv = make_pin(t, STORE_ROLE_USER, pin, pin_len, omk, &rec.pin[STORE_ROLE_USER]);
    if (rv == CKR_OK)
        rv = commit_record(t, &rec);
out:
    pthread_mutex_unlock(&t->auth_lock);
    crypto_secret_free(omk, CRYPTO_KEY_LEN);
    crypto_wipe(&rec, sizeof(rec));
    return rv;
}

CK_RV token_set_pin(struct token *t, bool session_rw, const CK_UTF8CHAR *old_pin, CK_ULONG old_len,
                    const CK_UTF8CHAR *new_pin, CK_ULONG new_len)
{
    CK_RV rv = CKR_OK;
    unsigned char *omk = NULL;
    struct store_token rec;
    memset(&rec, 0, sizeof(rec));
    if (!session_rw)
        return CKR_SESSION_READ_ONLY;

    pthread_mutex_lock(&t->auth_lock);
    pthread_rwlock_rdlock(&t->state_lock);
    enum store_role role = t->login == TOKEN_SO ? STORE_ROLE_SO : STORE_ROLE_USER;
    if (!t->rec.pin[role].set)
        rv = CKR_USER_PIN_NOT_INITIALIZED;
    else if (pin_locked(t, role))
        rv = CKR_PIN_LOCKED;
    pthread_rwlock_unlock(&t->state_lock);
    if (rv != CKR_OK)
        goto out;
    if (!pin_len_ok(t, new_len)) {
        rv = CKR_PIN_LEN_RANGE;
        goto out;
    }
    omk = crypto_secret_alloc(CRYPTO_KEY_LEN);
    if (omk == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    rv = verify_pin(t, role, old_pin, old_len, omk);
    if (rv != CKR_OK)
        goto out;
    pthread_rwlock_rdlock(&t->state_lock);
    rec = t->rec;
    pthread_rwlock_unlock(&t->state_lock);
    /* Only the OMK's wrapping changes: the objects stay as they are. */
    rv = make_pin(t, role, new_pin, new_len, omk, &rec.pin[role]);
    if (rv == CKR_OK)
        rv = commit_record(t, &rec);
out:
    pthread_mutex_unlock(&t->auth_lock);
    crypto_secret_free(omk, CRYPTO_KEY_LEN);
    crypto_wipe(&rec, sizeof(rec));
    return rv;
}

/* ---- the vendor interface ---- */

const char *token_serial(const struct token *t)
{
    return t->serial;
}

unsigned long token_session_count(struct token *t)
{
    pthread_rwlock_rdlock(&t->state_lock);
    unsigned long n = t->sessions;
    pthread_rwlock_unlock(&t->state_lock);
    return n;
}

CK_RV token_wipe(struct token *t)
{
    CK_RV rv = CKR_OK;
    pthread_mutex_lock(&t->auth_lock);
    pthread_rwlock_wrlock(&t->state_lock);
    if (t->sessions > 0) {
        rv = CKR_SESSION_EXISTS;
        goto out;
    }
    if (t->store != NULL)
        rv = store_wipe(t->store);
    if (rv != CKR_OK)
        goto out;
    logout_locked(t);
    crypto_wipe(&t->rec, sizeof(t->rec));
    objects_clear(t->objects);
out:
    pthread_rwlock_unlock(&t->state_lock);
    pthread_mutex_unlock(&t->auth_lock);
    return rv;
}

CK_RV token_backup(struct token *t, const CK_UTF8CHAR *passphrase, CK_ULONG passphrase_len,
                   CK_BYTE_PTR out, CK_ULONG_PTR out_len, unsigned long *objects)
{
    CK_RV rv;
    struct store_image img;
    size_t len = (size_t)*out_len;
    unsigned long iterations = t->cfg->pbkdf2_iterations;
    memset(&img, 0, sizeof(img));
    *objects = 0;
    if (t->store == NULL) {
        util_log("slot %lu: persist_objects is false: there is no store to back up",
                 (unsigned long)t->id);
        return CKR_FUNCTION_NOT_SUPPORTED;
    }
    /* The record and the objects in one read transaction; the OMK of the
     * SO's login wraps under that record's PINs (PIN changes hold
     * auth_lock). */
    pthread_mutex_lock(&t->auth_lock);
    rv = token_login_state(t) == TOKEN_SO ? store_export(t->store, &img) : CKR_USER_NOT_LOGGED_IN;
    if (rv == CKR_OK) {
        img.omk = crypto_secret_alloc(CRYPTO_KEY_LEN);
        rv = img.omk == NULL ? CKR_HOST_MEMORY : CKR_OK;
    }
    if (rv == CKR_OK) {
        pthread_rwlock_rdlock(&t->state_lock);
        if (t->login != TOKEN_SO || t->omk == NULL)
            rv = CKR_USER_NOT_LOGGED_IN;
        else
            memcpy(img.omk, t->omk, CRYPTO_KEY_LEN);
        pthread_rwlock_unlock(&t->state_lock);
    }
    pthread_mutex_unlock(&t->auth_lock);
    if (rv != CKR_OK)
        goto out;
    snprintf(img.serial, sizeof(img.serial), "%s", t->serial);
    img.slot = t->id;
    img.created = (unsigned long long)time(NULL);
    if (iterations < STORE_BACKUP_MIN_ITERATIONS)
        iterations = STORE_BACKUP_MIN_ITERATIONS;
    rv = store_backup_seal(t->crypto, &img, passphrase, passphrase_len, iterations, out, &len);
    if (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL)
        *out_len = (CK_ULONG)len;
    *objects = (unsigned long)img.count;
out:
    store_image_free(&img);
    return rv;
}

/* Moves every sealed part of img from img->slot's AAD to t's slot. */
static CK_RV reseal_objects(struct token *t, struct store_image *img)
{
    CK_RV rv = CKR_OK;
    unsigned char aad_old[OBJECTS_AAD_LEN], aad_new[OBJECTS_AAD_LEN];
    unsigned char *plain = NULL, *sealed = NULL;
    size_t plain_len = 0;
    for (size_t i = 0; i < img->count && rv == CKR_OK; i++) {
        struct store_object *o = &img->objects[i];
        if (o->sealed == NULL || o->sealed_len < CRYPTO_SEAL_OVERHEAD)
            continue; /* nothing sealed, or already damaged: loading skips it */
        plain_len = o->sealed_len - CRYPTO_SEAL_OVERHEAD;
        plain = crypto_secret_alloc(plain_len ? plain_len : 1);
        sealed = malloc(o->sealed_len);
        if (plain == NULL || sealed == NULL) {
            rv = CKR_HOST_MEMORY;
            break;
        }
        objects_record_aad(img->slot, o->uid, aad_old);
        objects_record_aad(t->id, o->uid, aad_new);
        if (crypto_open(t->crypto, img->omk, aad_old, sizeof(aad_old), o->sealed, o->sealed_len,
                        plain) == CKR_OK) {
            rv = crypto_seal(t->crypto, img->omk, aad_new, sizeof(aad_new), plain, plain_len,
                             sealed);
            if (rv == CKR_OK) {
                free((void *)o->sealed); /* the image owns its buffers */
                o->sealed = sealed;
                sealed = NULL;
            }
        } else {
            util_log("slot %lu: a sealed record of the backup does not open; restored as it is "
                     "(it will be reported damaged)",
                     (unsigned long)t->id);
        }
        crypto_secret_free(plain, plain_len ? plain_len : 1);
        plain = NULL;
        free(sealed);
        sealed = NULL;
    }
    crypto_secret_free(plain, plain_len ? plain_len : 1);
    free(sealed);
    return rv;
}

/* so_pin against the backup's SO record (an uninitialised slot has none of
 * its own).  CKR_OK or CKR_PIN_INCORRECT. */
static CK_RV check_backup_so(struct token *t, const struct store_image *img, const CK_UTF8CHAR *pin,
                             CK_ULONG len)
{
    unsigned char kdf[TOKEN_KDF_OUT];
    CK_RV rv = CKR_PIN_INCORRECT;
    if (len <= TOKEN_PIN_ABI_MAX) {
        rv = derive(t, &img->tok.pin[STORE_ROLE_SO], pin, len, kdf);
        if (rv == CKR_OK &&
            !crypto_equal(kdf, img->tok.pin[STORE_ROLE_SO].verifier, STORE_VERIFIER_LEN))
            rv = CKR_PIN_INCORRECT;
    }
    crypto_wipe(kdf, sizeof(kdf));
    return rv;
}

CK_RV token_restore(struct token *t, const CK_UTF8CHAR *so_pin, CK_ULONG so_pin_len,
                    const CK_UTF8CHAR *passphrase, CK_ULONG passphrase_len, const CK_BYTE *in,
                    CK_ULONG in_len, bool force, struct token_restore_info *info)
{
    CK_RV rv;
    struct store_image img;
    struct store_token rec;
    struct objects *fresh = NULL;
    bool initialized = false;
    memset(&img, 0, sizeof(img));
    memset(&rec, 0, sizeof(rec));
    memset(info, 0, sizeof(*info));
    if (t->store == NULL) {
        util_log("slot %lu: persist_objects is false: there is no store to restore into",
                 (unsigned long)t->id);
        return CKR_FUNCTION_NOT_SUPPORTED;
    }
    /* Authenticate the whole backup before looking at anything else. */
    rv = store_backup_open(t->crypto, in, in_len, passphrase, passphrase_len, &img);
    if (rv != CKR_OK)
        return rv;
    snprintf(info->serial, sizeof(info->serial), "%s", img.serial);
    info->from_slot = img.slot;
    info->objects = (unsigned long)img.count;

    pthread_mutex_lock(&t->auth_lock);
    pthread_rwlock_rdlock(&t->state_lock);
    initialized = t->rec.initialized;
    if (t->sessions > 0)
        rv = CKR_SESSION_EXISTS;
    else if (initialized && !force && strcmp(img.serial, t->serial) != 0)
        rv = CKR_TOKEN_NOT_RECOGNIZED;
    else if (initialized && pin_locked(t, STORE_ROLE_SO))
        rv = CKR_PIN_LOCKED;
    pthread_rwlock_unlock(&t->state_lock);
    if (rv != CKR_OK)
        goto out;
    if (initialized)
        rv = verify_pin(t, STORE_ROLE_SO, so_pin, so_pin_len, NULL);
    else
        rv = check_backup_so(t, &img, so_pin, so_pin_len);
    if (rv != CKR_OK)
        goto out;

    /* The new record: the backup's label, so_pin over the backup's OMK,
     * and the user's record when its wrapping names this slot. */
    rec.initialized = true;
    memcpy(rec.label, img.tok.label, sizeof(rec.label));
    rv = make_pin(t, STORE_ROLE_SO, so_pin, so_pin_len, img.omk, &rec.pin[STORE_ROLE_SO]);
    if (rv != CKR_OK)
        goto out;
    if (img.slot == t->id) {
        rec.pin[STORE_ROLE_USER] = img.tok.pin[STORE_ROLE_USER];
    } else {
        if (img.tok.pin[STORE_ROLE_USER].set)
            util_log("slot %lu: the backup comes from slot %lu: its user PIN cannot move (its "
                     "wrapping names the slot); log in as SO and set a new one (C_InitPIN)",
                     (unsigned long)t->id, (unsigned long)img.slot);
        rv = reseal_objects(t, &img);
        if (rv != CKR_OK)
            goto out;
    }
    info->user_pin_restored = rec.pin[STORE_ROLE_USER].set;

    pthread_rwlock_wrlock(&t->state_lock);
    if (t->sessions > 0) {
        rv = CKR_SESSION_EXISTS; /* opened while PBKDF2 ran */
    } else {
        rv = store_import(t->store, &rec, &img);
        if (rv == CKR_OK) {
            logout_locked(t);
            t->rec = rec;
            /* No session, so nobody holds the old collection. */
            rv = objects_new(t->id, t->crypto, t->store, &fresh);
            if (rv == CKR_OK) {
                objects_free(t->objects);
                t->objects = fresh;
            } else {
                objects_clear(t->objects);
                util_log("slot %lu: the backup is restored on disk but its objects could not be "
                         "loaded now (rv 0x%lx); C_Finalize and C_Initialize load them",
                         (unsigned long)t->id, rv);
            }
        }
    }
    pthread_rwlock_unlock(&t->state_lock);
out:
    pthread_mutex_unlock(&t->auth_lock);
    crypto_wipe(&rec, sizeof(rec));
    store_image_free(&img);
    return rv;
}
