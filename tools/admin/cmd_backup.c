/* craton-admin backup | restore */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static const char help_backup[] =
    "Usage: craton-admin backup --output FILE [--passphrase-file F] [--so-pin-file F]\n"
    "                           [--slot N] [--force]\n\n"
    "Writes an encrypted, authenticated backup of the whole token (its identity, its\n"
    "object master key and every object) sealed under a key derived from a\n"
    "passphrase (PBKDF2-HMAC-SHA256, >= 600,000 iterations).  Needs the SO PIN\n"
    "(--so-pin-file / $CRATON_SO_PIN / prompt) and a passphrase (--passphrase-file /\n"
    "$CRATON_BACKUP_PASSPHRASE / prompted twice).  FILE is written with mode 0600\n"
    "atomically; an existing FILE is replaced only with --force.\n\n"
    "Examples:\n"
    "  craton-admin backup --output /backup/hsm-slot0.cbk\n"
    "  craton-admin backup --output b.cbk --so-pin-file so.pin --passphrase-file pass\n";

static const char help_restore[] =
    "Usage: craton-admin restore --input FILE [--slot N] [--force] [--yes]\n"
    "                            [--so-pin-file F] [--passphrase-file F]\n\n"
    "Replaces every object of the slot's token with the backup's, in one\n"
    "transaction.  An initialised slot needs its current SO PIN; an empty one the\n"
    "backup's SO PIN.  A backup of a different token (serial number) is refused\n"
    "unless --force.  Asks for confirmation unless --yes.  A wrong passphrase or a\n"
    "damaged file changes nothing.  No application may have the slot open.\n\n"
    "Examples:\n"
    "  craton-admin restore --input /backup/hsm-slot0.cbk\n"
    "  craton-admin restore --input b.cbk --slot 1 --force --yes\n";

static int cmd_backup_run(struct admin *a, int argc, char **argv)
{
    const char *out_path = NULL, *pass_file = NULL, *so_file = NULL;
    bool force = false;
    const struct adm_opt opts[] = {
        {"output", 'o', &out_path, NULL},
        {"passphrase-file", 0, &pass_file, NULL},
        {"so-pin-file", 0, &so_file, NULL},
        {"force", 0, NULL, &force},
        {0},
    };
    struct adm_secret so, pass;
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_SLOT_ID slot;
    CK_BYTE_PTR blob = NULL;
    CK_ULONG blob_len = 0;
    memset(&so, 0, sizeof(so));
    memset(&pass, 0, sizeof(pass));
    int rc = adm_parse(a, "backup", help_backup, argc, argv, opts, NULL, 0, NULL);
    if (rc != ADM_OK)
        return rc;
    if (out_path == NULL)
        return adm_usage_error("backup ", "--output FILE is required");
    if (!force && strcmp(out_path, "-") != 0) {
        FILE *fp = fopen(out_path, "r");
        if (fp != NULL) {
            fclose(fp);
            return adm_error("%s already exists: choose another name or pass --force", out_path);
        }
    }
    if ((rc = adm_load(a, true)) != ADM_OK)
        goto out;
    CK_CRATON_ADMIN_FUNCTION_LIST *v = adm_vendor(a, "backup");
    if (v == NULL) {
        rc = ADM_FAIL;
        goto out;
    }
    if ((rc = adm_pick_slot(a, &slot)) != ADM_OK ||
        (rc = adm_get_secret("SO PIN", so_file, "CRATON_SO_PIN", false, &so)) != ADM_OK ||
        (rc = adm_open_session(a, slot, true, &s)) != ADM_OK ||
        (rc = adm_login(a, s, slot, CKU_SO, &so)) != ADM_OK)
        goto out;
    if ((rc = adm_get_secret("backup passphrase", pass_file, "CRATON_BACKUP_PASSPHRASE", true,
                             &pass)) != ADM_OK)
        goto out;
    CK_RV rv =
        v->CRATON_BackupToken(s, (CK_UTF8CHAR_PTR)pass.v, (CK_ULONG)pass.len, NULL, &blob_len);
    if (rv == CKR_OK) {
        blob = malloc(blob_len == 0 ? 1 : blob_len);
        if (blob == NULL) {
            rc = adm_error("out of memory (%lu bytes)", (unsigned long)blob_len);
            goto out;
        }
        rv = v->CRATON_BackupToken(s, (CK_UTF8CHAR_PTR)pass.v, (CK_ULONG)pass.len, blob, &blob_len);
    }
    if (rv != CKR_OK) {
        rc = adm_ck_error(a, rv, (CK_USER_TYPE)-1, "CRATON_BackupToken");
        if (rv == CKR_PIN_LEN_RANGE || rv == CKR_PIN_INVALID || rv == CKR_ARGUMENTS_BAD)
            adm_error("choose a longer passphrase (the module refused this one)");
        goto out;
    }
    if ((rc = adm_write_file(out_path, blob, blob_len, 0600, force)) != ADM_OK)
        goto out;
    printf("Backup of slot %lu written to %s (%lu bytes).\n", (unsigned long)slot, out_path,
           (unsigned long)blob_len);
    printf("Keep the passphrase apart from the file: both are needed to restore.\n");
out:
    if (s != CK_INVALID_HANDLE) {
        a->p11->C_Logout(s);
        a->p11->C_CloseSession(s);
    }
    free(blob);
    adm_secret_wipe(&so);
    adm_secret_wipe(&pass);
    return rc;
}

int cmd_backup(struct admin *a, int argc, char **argv)
{
    return cmd_backup_run(a, argc, argv);
}

int cmd_restore(struct admin *a, int argc, char **argv)
{
    const char *in_path = NULL, *pass_file = NULL, *so_file = NULL;
    bool force = false, yes = false;
    const struct adm_opt opts[] = {
        {"input", 'i', &in_path, NULL},     {"passphrase-file", 0, &pass_file, NULL},
        {"so-pin-file", 0, &so_file, NULL}, {"force", 0, NULL, &force},
        {"yes", 'y', NULL, &yes},           {0},
    };
    struct adm_secret so, pass;
    CK_SLOT_ID slot;
    unsigned char *blob = NULL;
    size_t blob_len = 0;
    memset(&so, 0, sizeof(so));
    memset(&pass, 0, sizeof(pass));
    int rc = adm_parse(a, "restore", help_restore, argc, argv, opts, NULL, 0, NULL);
    if (rc != ADM_OK)
        return rc;
    if (in_path == NULL)
        return adm_usage_error("restore ", "--input FILE is required");
    if ((rc = adm_read_file(in_path, ADM_BACKUP_MAX, &blob, &blob_len)) != ADM_OK)
        goto out;
    if ((rc = adm_load(a, true)) != ADM_OK)
        goto out;
    CK_CRATON_ADMIN_FUNCTION_LIST *v = adm_vendor(a, "restore");
    if (v == NULL) {
        rc = ADM_FAIL;
        goto out;
    }
    if ((rc = adm_pick_slot(a, &slot)) != ADM_OK)
        goto out;
    CK_TOKEN_INFO ti;
    CK_RV rv = a->p11->C_GetTokenInfo(slot, &ti);
    if (rv != CKR_OK) {
        rc = adm_ck_error(a, rv, (CK_USER_TYPE)-1, "C_GetTokenInfo(%lu)", (unsigned long)slot);
        goto out;
    }
    bool initialized = (ti.flags & CKF_TOKEN_INITIALIZED) != 0;
    char label[33], serial[17];
    adm_trim(ti.label, 32, label);
    adm_trim(ti.serialNumber, 16, serial);
    /* The backup is sealed as a whole: its label and serial are only known
     * to the module after decryption, which checks the serial itself. */
    fprintf(stderr,
            "Backup %s: %zu bytes, sealed (its token's label and serial are checked by the "
            "module after decryption).\n",
            in_path, blob_len);
    if (initialized)
        fprintf(stderr, "Slot %lu holds token \"%s\" (serial %s).\n", (unsigned long)slot, label,
                serial);
    else
        fprintf(stderr, "Slot %lu is uninitialised.\n", (unsigned long)slot);
    if (!adm_confirm(yes, "All objects of slot %lu will be replaced. Continue? [y/N]",
                     (unsigned long)slot)) {
        rc = adm_error("not confirmed; nothing was changed");
        goto out;
    }
    if ((rc = adm_get_secret(initialized ? "SO PIN" : "the backup's SO PIN", so_file,
                             "CRATON_SO_PIN", false, &so)) != ADM_OK ||
        (rc = adm_get_secret("backup passphrase", pass_file, "CRATON_BACKUP_PASSPHRASE", false,
                             &pass)) != ADM_OK)
        goto out;
    rv = v->CRATON_RestoreToken(slot, (CK_UTF8CHAR_PTR)so.v, (CK_ULONG)so.len,
                                (CK_UTF8CHAR_PTR)pass.v, (CK_ULONG)pass.len, blob,
                                (CK_ULONG)blob_len, force ? CRATON_RESTORE_FORCE : 0);
    switch (rv) {
    case CKR_OK:
        break;
    case CKR_ENCRYPTED_DATA_INVALID:
        rc = adm_error("CRATON_RestoreToken: wrong passphrase or corrupted backup; nothing was "
                       "changed (CKR_ENCRYPTED_DATA_INVALID)");
        goto out;
    case CKR_TOKEN_NOT_RECOGNIZED:
        rc = adm_error("CRATON_RestoreToken: backup of a different token; use --force to "
                       "restore it into slot %lu anyway (CKR_TOKEN_NOT_RECOGNIZED)",
                       (unsigned long)slot);
        goto out;
    case CKR_PIN_INCORRECT:
    case CKR_PIN_LOCKED:
        rc = adm_pin_error(a, slot, CKU_SO, rv, "CRATON_RestoreToken");
        adm_error("nothing was changed");
        goto out;
    default:
        rc = adm_ck_error(a, rv, CKU_SO, "CRATON_RestoreToken");
        goto out;
    }
    if (a->p11->C_GetTokenInfo(slot, &ti) == CKR_OK) {
        adm_trim(ti.label, 32, label);
        adm_trim(ti.serialNumber, 16, serial);
    }
    printf("Restored slot %lu from %s: token \"%s\" (serial %s).\n", (unsigned long)slot, in_path,
           label, serial);
    rc = ADM_OK;
out:
    if (blob != NULL)
        OPENSSL_clear_free(blob, blob_len + 1);
    adm_secret_wipe(&so);
    adm_secret_wipe(&pass);
    return rc;
}
