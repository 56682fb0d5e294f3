/* craton-admin pin init | change | reset */
#include "admin.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char help_pin[] =
    "Usage: craton-admin pin SUBCOMMAND [OPTIONS]\n\n"
    "  init     the SO sets the first user PIN\n"
    "  change   change the user PIN or the SO PIN (--user-type USER|SO)\n"
    "  reset    the SO sets a new user PIN, e.g. after it locked\n\n"
    "See 'craton-admin pin SUBCOMMAND --help'.\n";

static const char help_init[] =
    "Usage: craton-admin pin init [--slot N] [--so-pin-file F] [--new-pin-file F]\n\n"
    "The SO (SO PIN: --so-pin-file / $CRATON_SO_PIN / prompt) sets the token's first\n"
    "user PIN (--new-pin-file / $CRATON_NEW_PIN / prompted twice).\n\n"
    "Examples:\n"
    "  craton-admin pin init\n"
    "  craton-admin pin init --so-pin-file so.pin --new-pin-file user.pin\n";

static const char help_change[] =
    "Usage: craton-admin pin change [--user-type USER|SO] [--slot N] [--pin-file F]\n"
    "                               [--so-pin-file F] [--new-pin-file F]\n\n"
    "Changes the user PIN (default) or the SO PIN: logs in with the current PIN\n"
    "(--pin-file / $CRATON_USER_PIN, or --so-pin-file / $CRATON_SO_PIN for SO, else a\n"
    "prompt) and sets the new one (--new-pin-file / $CRATON_NEW_PIN / prompted twice).\n\n"
    "Examples:\n"
    "  craton-admin pin change --user-type USER\n"
    "  craton-admin pin change --user-type SO --so-pin-file old.pin --new-pin-file new.pin\n";

static const char help_reset[] =
    "Usage: craton-admin pin reset [--slot N] [--so-pin-file F] [--new-pin-file F]\n\n"
    "The SO sets a new user PIN (C_InitPIN), which also unlocks a locked user PIN.\n"
    "The user's objects are kept.\n\n"
    "Examples:\n"
    "  craton-admin pin reset\n"
    "  CRATON_SO_PIN=... CRATON_NEW_PIN=... craton-admin pin reset --slot 1\n";

static int token_flags(struct admin *a, CK_SLOT_ID slot, CK_FLAGS *f)
{
    CK_TOKEN_INFO ti;
    CK_RV rv = a->p11->C_GetTokenInfo(slot, &ti);
    if (rv != CKR_OK)
        return adm_ck_error(a, rv, (CK_USER_TYPE)-1, "C_GetTokenInfo(%lu)", (unsigned long)slot);
    *f = ti.flags;
    if (!(ti.flags & CKF_TOKEN_INITIALIZED))
        return adm_pin_error(a, slot, CKU_SO, CKR_TOKEN_NOT_RECOGNIZED, "pin");
    return ADM_OK;
}

/* pin init and pin reset: SO login + C_InitPIN. */
static int init_pin(struct admin *a, int argc, char **argv, bool reset)
{
    const char *so_file = NULL, *new_file = NULL;
    const struct adm_opt opts[] = {
        {"so-pin-file", 0, &so_file, NULL},
        {"new-pin-file", 0, &new_file, NULL},
        {0},
    };
    const char *cmd = reset ? "pin reset" : "pin init";
    struct adm_secret so, pin;
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_SLOT_ID slot;
    CK_FLAGS f = 0;
    memset(&so, 0, sizeof(so));
    memset(&pin, 0, sizeof(pin));
    int rc = adm_parse(a, cmd, reset ? help_reset : help_init, argc, argv, opts, NULL, 0, NULL);
    if (rc != ADM_OK)
        return rc;
    if ((rc = adm_load(a, true)) != ADM_OK || (rc = adm_pick_slot(a, &slot)) != ADM_OK ||
        (rc = token_flags(a, slot, &f)) != ADM_OK)
        goto out;
    if (f & CKF_SO_PIN_LOCKED) {
        rc = adm_pin_error(a, slot, CKU_SO, CKR_PIN_LOCKED, cmd);
        goto out;
    }
    if (!reset && (f & CKF_USER_PIN_INITIALIZED)) {
        rc = adm_error("slot %lu already has a user PIN: change it with '%s pin change' or, as "
                       "the SO, set a new one with '%s pin reset'",
                       (unsigned long)slot, ADM_PROG, ADM_PROG);
        goto out;
    }
    if (reset && !(f & CKF_USER_PIN_INITIALIZED)) {
        rc = adm_error("slot %lu has no user PIN yet: set the first one with '%s pin init'",
                       (unsigned long)slot, ADM_PROG);
        goto out;
    }
    if ((rc = adm_get_secret("SO PIN", so_file, "CRATON_SO_PIN", false, &so)) != ADM_OK ||
        (rc = adm_open_session(a, slot, true, &s)) != ADM_OK ||
        (rc = adm_login(a, s, slot, CKU_SO, &so)) != ADM_OK)
        goto out;
    if ((rc = adm_get_secret("new user PIN", new_file, "CRATON_NEW_PIN", true, &pin)) != ADM_OK)
        goto out;
    CK_RV rv = a->p11->C_InitPIN(s, (CK_UTF8CHAR_PTR)pin.v, (CK_ULONG)pin.len);
    if (rv != CKR_OK) {
        rc = adm_pin_error(a, slot, CKU_USER, rv, "C_InitPIN");
        goto out;
    }
    if (reset)
        printf("The user PIN of slot %lu is reset%s.\n", (unsigned long)slot,
               (f & CKF_USER_PIN_LOCKED) ? " and unlocked" : "");
    else
        printf("The user PIN of slot %lu is set.\n", (unsigned long)slot);
    rc = ADM_OK;
out:
    if (s != CK_INVALID_HANDLE) {
        a->p11->C_Logout(s);
        a->p11->C_CloseSession(s);
    }
    adm_secret_wipe(&so);
    adm_secret_wipe(&pin);
    return rc;
}

static int cmd_init(struct admin *a, int argc, char **argv)
{
    return init_pin(a, argc, argv, false);
}

static int cmd_reset(struct admin *a, int argc, char **argv)
{
    return init_pin(a, argc, argv, true);
}

static int cmd_change(struct admin *a, int argc, char **argv)
{
    const char *type = "USER", *so_file = NULL, *pin_file = NULL, *new_file = NULL;
    const struct adm_opt opts[] = {
        {"user-type", 0, &type, NULL},
        {"so-pin-file", 0, &so_file, NULL},
        {"pin-file", 0, &pin_file, NULL},
        {"new-pin-file", 0, &new_file, NULL},
        {0},
    };
    struct adm_secret old, pin;
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_SLOT_ID slot;
    CK_FLAGS f = 0;
    memset(&old, 0, sizeof(old));
    memset(&pin, 0, sizeof(pin));
    int rc = adm_parse(a, "pin change", help_change, argc, argv, opts, NULL, 0, NULL);
    if (rc != ADM_OK)
        return rc;
    CK_USER_TYPE who;
    if (strcasecmp(type, "USER") == 0)
        who = CKU_USER;
    else if (strcasecmp(type, "SO") == 0)
        who = CKU_SO;
    else
        return adm_usage_error("pin change ", "--user-type is USER or SO, not '%s'", type);
    bool so = who == CKU_SO;
    if ((rc = adm_load(a, true)) != ADM_OK || (rc = adm_pick_slot(a, &slot)) != ADM_OK ||
        (rc = token_flags(a, slot, &f)) != ADM_OK)
        goto out;
    if (!so && !(f & CKF_USER_PIN_INITIALIZED)) {
        rc = adm_pin_error(a, slot, CKU_USER, CKR_USER_PIN_NOT_INITIALIZED, "pin change");
        goto out;
    }
    if (f & (so ? CKF_SO_PIN_LOCKED : CKF_USER_PIN_LOCKED)) {
        rc = adm_pin_error(a, slot, who, CKR_PIN_LOCKED, "pin change");
        goto out;
    }
    rc = so ? adm_get_secret("current SO PIN", so_file, "CRATON_SO_PIN", false, &old)
            : adm_get_secret("current user PIN", pin_file, "CRATON_USER_PIN", false, &old);
    if (rc != ADM_OK || (rc = adm_open_session(a, slot, true, &s)) != ADM_OK ||
        (rc = adm_login(a, s, slot, who, &old)) != ADM_OK)
        goto out;
    if ((rc = adm_get_secret(so ? "new SO PIN" : "new user PIN", new_file, "CRATON_NEW_PIN", true,
                             &pin)) != ADM_OK)
        goto out;
    CK_RV rv = a->p11->C_SetPIN(s, (CK_UTF8CHAR_PTR)old.v, (CK_ULONG)old.len,
                                (CK_UTF8CHAR_PTR)pin.v, (CK_ULONG)pin.len);
    if (rv != CKR_OK) {
        rc = adm_pin_error(a, slot, who, rv, "C_SetPIN");
        goto out;
    }
    printf("The %s PIN of slot %lu is changed.\n", so ? "SO" : "user", (unsigned long)slot);
    rc = ADM_OK;
out:
    if (s != CK_INVALID_HANDLE) {
        a->p11->C_Logout(s);
        a->p11->C_CloseSession(s);
    }
    adm_secret_wipe(&old);
    adm_secret_wipe(&pin);
    return rc;
}

int cmd_pin(struct admin *a, int argc, char **argv)
{
    static const struct adm_cmd sub[] = {
        {"init", cmd_init, ""},
        {"change", cmd_change, ""},
        {"reset", cmd_reset, ""},
    };
    return adm_dispatch(a, "pin", sub, sizeof(sub) / sizeof(sub[0]), help_pin, argc, argv);
}
