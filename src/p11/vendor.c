/* The "Craton HSM Admin" vendor interface (include/craton/craton_admin.h):
 * what PKCS#11 cannot express, for craton-admin.  Thin like the rest of
 * src/p11: arguments, the core, the most specific CKR, the audit record. */
#include <stdio.h>
#include <string.h>

#include "craton/craton_admin.h"
#include "crypto/selftest.h"
#include "p11/p11.h"

#define VENDOR_DETAIL_MAX AUDIT_DETAIL_MAX

/* Copies src into dst[size] (truncating, NUL-terminated). */
static void copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src != NULL ? src : "");
}

static CK_RV CRATON_GetStatus(CK_CRATON_STATUS *status)
{
    if (status == NULL)
        return CKR_ARGUMENTS_BAD;
    memset(status, 0, sizeof(*status));
    status->error_state = hsm_failed(status->error_reason, sizeof(status->error_reason));
    struct hsm *h = hsm_current();
    if (h == NULL)
        return CKR_OK;
    const struct config *cfg = &h->cfg;
    status->initialized = CK_TRUE;
    copy_str(status->config_path, sizeof(status->config_path), cfg->source_path);
    copy_str(status->storage_path, sizeof(status->storage_path), cfg->storage_path);
    if (h->audit != NULL)
        copy_str(status->audit_path, sizeof(status->audit_path), cfg->audit_log_path);
    copy_str(status->audit_level, sizeof(status->audit_level),
             config_log_level_name(h->audit != NULL ? cfg->audit_log_level : CONFIG_LOG_NONE));
    status->audit_keyed = h->audit != NULL && cfg->audit_hmac_key_file != NULL;
    status->fips_approved_only = cfg->fips_approved_only;
    status->persist_objects = cfg->persist_objects;
    status->slot_count = h->slot_count;
    for (size_t i = 0; i < h->slot_count; i++)
        status->sessions += token_session_count(h->tokens[i]);
    status->post_micros = (CK_ULONG)(h->post_ms * 1000.0 + 0.5);
    return CKR_OK;
}

static CK_RV CRATON_SelfTest(CK_CRATON_SELFTEST_RESULT *results, CK_ULONG_PTR count)
{
    struct hsm *h;
    struct selftest_result r[SELFTEST_COUNT];
    char detail[VENDOR_DETAIL_MAX];
    size_t failed = 0;
    double ms = 0;
    CK_RV rv = hsm_enter(&h);
    if (rv != CKR_OK)
        return rv;
    if (count == NULL)
        return CKR_ARGUMENTS_BAD;
    if (results == NULL || *count < SELFTEST_COUNT) {
        rv = results == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
        *count = SELFTEST_COUNT;
        return rv;
    }
    rv = selftest_run_all(h->crypto, r);
    for (size_t i = 0; i < SELFTEST_COUNT; i++) {
        CK_CRATON_SELFTEST_RESULT *o = &results[i];
        memset(o, 0, sizeof(*o));
        copy_str(o->name, sizeof(o->name), r[i].name);
        copy_str(o->source, sizeof(o->source), selftest_source(i));
        o->passed = r[i].passed ? CK_TRUE : CK_FALSE;
        o->micros = (CK_ULONG)(r[i].ms * 1000.0 + 0.5);
        copy_str(o->why, sizeof(o->why), r[i].why);
        ms += r[i].ms;
        if (!r[i].passed)
            failed++;
    }
    *count = SELFTEST_COUNT;
    if (rv == CKR_OK && failed > 0)
        rv = CKR_GENERAL_ERROR;
    snprintf(detail, sizeof(detail), "on request: %zu of %d self-tests passed in %.1f ms",
             (size_t)SELFTEST_COUNT - failed, SELFTEST_COUNT, ms);
    p11_audit_user(h, "self_test", AUDIT_SYSTEM, AUDIT_NONE, AUDIT_NONE, AUDIT_NONE, detail,
                   rv == CKR_OK ? CKR_OK : CKR_GENERAL_ERROR, false);
    if (rv != CKR_OK) {
        snprintf(detail, sizeof(detail), "self-tests run on request failed (%zu of %d)", failed,
                 SELFTEST_COUNT);
        hsm_fail(detail);
        rv = CKR_GENERAL_ERROR;
    }
    return rv;
}

static CK_RV CRATON_ConfigCheck(const char *path, char *out, CK_ULONG_PTR outlen, char *err,
                                CK_ULONG errlen)
{
    struct config cfg;
    char msg[CONFIG_ERR_MAX];
    CK_RV rv = CKR_OK;
    memset(&cfg, 0, sizeof(cfg));
    if (outlen == NULL || (err == NULL && errlen > 0))
        return CKR_ARGUMENTS_BAD;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (config_load(&cfg, path, msg) != 0) {
        if (err != NULL && errlen > 0)
            copy_str(err, errlen, msg);
        rv = CKR_ARGUMENTS_BAD;
        goto out;
    }
    size_t need = config_format(&cfg, NULL, 0) + 1; /* with the NUL */
    if (out != NULL && *outlen < need)
        rv = CKR_BUFFER_TOO_SMALL;
    else if (out != NULL)
        (void)config_format(&cfg, out, need);
    *outlen = (CK_ULONG)need;
out:
    config_free(&cfg);
    return rv;
}

static CK_RV CRATON_AuditVerify(const char *path, const char *key_file,
                                CK_CRATON_AUDIT_VERIFY *result)
{
    struct hsm *h = NULL;
    struct config cfg;
    struct crypto *offline = NULL;
    struct audit_verify_result r;
    unsigned char *key = NULL;
    size_t key_len = 0;
    char err[CONFIG_ERR_MAX > AUDIT_ERR_MAX ? CONFIG_ERR_MAX : AUDIT_ERR_MAX];
    const struct config *use = NULL;
    struct crypto *c = NULL;
    memset(&cfg, 0, sizeof(cfg));
    memset(&r, 0, sizeof(r));
    if (result == NULL)
        return CKR_ARGUMENTS_BAD;
    memset(result, 0, sizeof(*result));
    CK_RV rv = hsm_enter(&h);
    if (rv == CKR_CRYPTOKI_NOT_INITIALIZED) {
        /* Offline: the configuration names the log and the key. */
        if (config_load(&cfg, NULL, err) != 0) {
            copy_str(result->why, sizeof(result->why), err);
            rv = CKR_GENERAL_ERROR;
            goto out;
        }
        rv = hsm_offline_crypto(cfg.secure_heap_size, &offline);
        use = &cfg;
        c = offline;
    } else if (rv == CKR_OK) {
        use = &h->cfg;
        c = h->crypto;
        (void)audit_flush(h->audit); /* the lines queued so far are on disk */
    }
    if (rv == CKR_GENERAL_ERROR)
        copy_str(result->why, sizeof(result->why), "the module is in its error state");
    if (rv != CKR_OK)
        goto out;
    if (path == NULL)
        path = use->audit_log_path;
    if (key_file == NULL)
        key_file = use->audit_hmac_key_file;
    if (key_file != NULL && key_file[0] != '\0') {
        rv = audit_load_key(key_file, &key, &key_len, err);
        if (rv != CKR_OK) {
            copy_str(result->why, sizeof(result->why), err);
            rv = CKR_GENERAL_ERROR;
            goto out;
        }
    }
    int v = audit_verify(c, path, key, key_len, &r);
    result->records = r.records;
    result->first_seq = r.first_seq;
    result->bad_line = r.bad_line;
    copy_str(result->bad_file, sizeof(result->bad_file), r.bad_file);
    copy_str(result->why, sizeof(result->why), r.why);
    rv = v == 0 ? CKR_OK : v == 1 ? CKR_SIGNATURE_INVALID : CKR_GENERAL_ERROR;
out:
    crypto_secret_free(key, key_len);
    crypto_free(offline);
    config_free(&cfg);
    return rv;
}

static CK_RV CRATON_WipeToken(CK_SLOT_ID slot)
{
    struct hsm *h;
    struct token *t;
    char detail[VENDOR_DETAIL_MAX];
    CK_RV rv = p11_token(slot, &h, &t);
    if (rv != CKR_OK)
        return rv;
    rv = token_wipe(t);
    snprintf(detail, sizeof(detail), "token %s wiped: every object and both PINs destroyed",
             token_serial(t));
    p11_audit_user(h, "token_wipe", AUDIT_ADMIN, slot, AUDIT_NONE, AUDIT_NONE,
                   rv == CKR_OK ? detail : NULL, rv, true);
    return rv;
}

static CK_RV CRATON_BackupToken(CK_SESSION_HANDLE hSession, const CK_UTF8CHAR *passphrase,
                                CK_ULONG passphrase_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    struct hsm *h;
    struct session *s;
    char detail[VENDOR_DETAIL_MAX];
    unsigned long objects = 0;
    CK_RV rv = p11_session(hSession, &h, &s);
    if (rv != CKR_OK)
        return rv;
    if (passphrase == NULL || out_len == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else if (session_state(s) != CKS_RW_SO_FUNCTIONS)
        rv = CKR_USER_NOT_LOGGED_IN;
    else if (passphrase_len < STORE_BACKUP_PASSPHRASE_MIN ||
             passphrase_len > STORE_BACKUP_PASSPHRASE_MAX)
        rv = CKR_PIN_LEN_RANGE;
    else
        rv = token_backup(session_token(s), passphrase, passphrase_len, out, out_len, &objects);
    /* A size query or a short buffer changes nothing: not an event. */
    if (out != NULL && rv != CKR_BUFFER_TOO_SMALL) {
        snprintf(detail, sizeof(detail), "backup of token %s: %lu object records, %lu bytes",
                 token_serial(session_token(s)), objects,
                 rv == CKR_OK ? (unsigned long)*out_len : 0UL);
        p11_audit_user(h, "token_backup", AUDIT_ADMIN, session_slot(s), hSession, AUDIT_NONE,
                       rv == CKR_OK ? detail : NULL, rv, false);
    }
    session_put(s);
    return rv;
}

static CK_RV CRATON_RestoreToken(CK_SLOT_ID slot, const CK_UTF8CHAR *so_pin, CK_ULONG so_pin_len,
                                 const CK_UTF8CHAR *passphrase, CK_ULONG passphrase_len,
                                 const CK_BYTE *in, CK_ULONG in_len, CK_FLAGS flags)
{
    struct hsm *h;
    struct token *t;
    struct token_restore_info info;
    char detail[VENDOR_DETAIL_MAX] = "";
    memset(&info, 0, sizeof(info));
    CK_RV rv = p11_token(slot, &h, &t);
    if (rv != CKR_OK)
        return rv;
    if (so_pin == NULL || passphrase == NULL || in == NULL || (flags & ~CRATON_RESTORE_FORCE))
        return CKR_ARGUMENTS_BAD;
    rv = token_restore(t, so_pin, so_pin_len, passphrase, passphrase_len, in, in_len,
                       (flags & CRATON_RESTORE_FORCE) != 0, &info);
    if (info.serial[0] != '\0')
        snprintf(detail, sizeof(detail), "backup of token %s (slot %lu): %lu object records%s%s",
                 info.serial, (unsigned long)info.from_slot, info.objects,
                 (flags & CRATON_RESTORE_FORCE) ? "; forced" : "",
                 rv == CKR_OK && !info.user_pin_restored ? "; user PIN not restored" : "");
    p11_audit_user(h, "token_restore", AUDIT_ADMIN, slot, AUDIT_NONE, AUDIT_NONE,
                   detail[0] != '\0' ? detail : NULL, rv, true);
    return rv;
}

CK_CRATON_ADMIN_FUNCTION_LIST p11_admin_list = {
    {CRATON_ADMIN_VERSION_MAJOR, CRATON_ADMIN_VERSION_MINOR},
    CRATON_GetStatus,
    CRATON_SelfTest,
    CRATON_ConfigCheck,
    CRATON_AuditVerify,
    CRATON_WipeToken,
    CRATON_BackupToken,
    CRATON_RestoreToken,
};
