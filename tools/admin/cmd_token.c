/* craton-admin token init | info | list */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static const char help_token[] =
    "Usage: craton-admin token SUBCOMMAND [OPTIONS]\n\n"
    "  init   initialise (or re-initialise) the token of a slot\n"
    "  info   one slot's token: label, serial, flags, PIN state, objects, sessions\n"
    "  list   the same for every slot\n\n"
    "See 'craton-admin token SUBCOMMAND --help'.\n";

static const char help_init[] =
    "Usage: craton-admin token init --label LABEL [--slot N] [--so-pin-file F]\n"
    "                               [--new-pin-file F] [--yes] [--wipe-locked]\n\n"
    "Initialises the token of slot N (default: the first uninitialised slot, else\n"
    "slot 0) with an SO PIN, asked twice without echo (or --so-pin-file /\n"
    "$CRATON_SO_PIN).  On an initialised slot it asks for confirmation (all objects\n"
    "are destroyed; --yes skips the question), then for the current SO PIN and a new\n"
    "one (--new-pin-file / $CRATON_NEW_PIN; when the current PIN comes from a file\n"
    "or the environment and no new one is given, the SO PIN stays the same).\n\n"
    "A locked SO PIN cannot be unlocked: --wipe-locked destroys the slot's store\n"
    "(every object and both PINs) through the module and initialises a fresh token.\n\n"
    "Options:\n"
    "  --label LABEL       the token label, at most 32 bytes (required)\n"
    "  --so-pin-file F     the (current) SO PIN from file F\n"
    "  --new-pin-file F    the new SO PIN when re-initialising\n"
    "  --yes               do not ask for confirmation\n"
    "  --wipe-locked       wipe a token whose SO PIN is locked, then initialise it\n\n"
    "Examples:\n"
    "  craton-admin token init --label \"My Token\"\n"
    "  craton-admin token init --slot 1 --label apps --so-pin-file /run/keys/so-pin\n"
    "  craton-admin token init --label fresh --wipe-locked\n";

static const char help_info[] =
    "Usage: craton-admin token info [--slot N] [--login [--pin-file F]] [--json]\n\n"
    "Shows one slot's token (default: the first slot): label, serial, manufacturer,\n"
    "model, flags in words, PIN state, object counts (public objects only unless\n"
    "--login, which logs in with the user PIN) and session counts.\n\n"
    "Examples:\n"
    "  craton-admin token info\n"
    "  craton-admin --json token info --slot 1\n";

static const char help_list[] =
    "Usage: craton-admin token list [--login [--pin-file F]] [--json]\n\n"
    "Shows every slot's token like 'token info'.\n\n"
    "Examples:\n"
    "  craton-admin token list\n"
    "  craton-admin token list --json | jq '.[].label'\n";

/* ---- info / list ---- */

struct token_view {
    CK_SLOT_ID slot;
    CK_SLOT_INFO si;
    CK_TOKEN_INFO ti;
    long public_objects;  /* -1: not counted */
    long private_objects; /* -1: not counted (not logged in) */
};

static long count_objects(struct admin *a, CK_SESSION_HANDLE s, bool private_only)
{
    CK_BBOOL t = CK_TRUE;
    CK_ATTRIBUTE tmpl[] = {{CKA_PRIVATE, &t, sizeof(t)}};
    CK_OBJECT_HANDLE h[64];
    CK_ULONG got;
    long n = 0;
    if (a->p11->C_FindObjectsInit(s, tmpl, private_only ? 1 : 0) != CKR_OK)
        return -1;
    do {
        if (a->p11->C_FindObjects(s, h, 64, &got) != CKR_OK) {
            n = -1;
            break;
        }
        n += (long)got;
    } while (got > 0);
    a->p11->C_FindObjectsFinal(s);
    return n;
}

static int gather(struct admin *a, CK_SLOT_ID slot, bool login, const struct adm_secret *pin,
                  struct token_view *v)
{
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    int rc = ADM_FAIL;
    CK_RV rv;
    memset(v, 0, sizeof(*v));
    v->slot = slot;
    v->public_objects = v->private_objects = -1;
    if ((rv = a->p11->C_GetSlotInfo(slot, &v->si)) != CKR_OK)
        return adm_ck_error(a, rv, (CK_USER_TYPE)-1, "C_GetSlotInfo(%lu)", (unsigned long)slot);
    /* Token info first: the session counts must not include ours. */
    if ((rv = a->p11->C_GetTokenInfo(slot, &v->ti)) != CKR_OK)
        return adm_ck_error(a, rv, (CK_USER_TYPE)-1, "C_GetTokenInfo(%lu)", (unsigned long)slot);
    if (!(v->ti.flags & CKF_TOKEN_INITIALIZED))
        return ADM_OK;
    if (a->p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK)
        return ADM_OK; /* e.g. the session limit: counts stay unknown */
    long all = count_objects(a, s, false);
    if (login && (v->ti.flags & CKF_USER_PIN_INITIALIZED)) {
        if (adm_login(a, s, slot, CKU_USER, pin) != ADM_OK)
            goto out;
        all = count_objects(a, s, false);
        long priv = count_objects(a, s, true);
        if (all >= 0 && priv >= 0) {
            v->private_objects = priv;
            v->public_objects = all - priv;
        }
        a->p11->C_Logout(s);
    } else {
        v->public_objects = all;
    }
    rc = ADM_OK;
out:
    a->p11->C_CloseSession(s);
    return rc;
}

static const char *pin_state(CK_FLAGS f, bool so)
{
    if (!(f & (so ? CKF_TOKEN_INITIALIZED : CKF_USER_PIN_INITIALIZED)))
        return "not_set";
    if (f & (so ? CKF_SO_PIN_LOCKED : CKF_USER_PIN_LOCKED))
        return "locked";
    if (f & (so ? CKF_SO_PIN_FINAL_TRY : CKF_USER_PIN_FINAL_TRY))
        return "final_try";
    if (f & (so ? CKF_SO_PIN_COUNT_LOW : CKF_USER_PIN_COUNT_LOW))
        return "count_low";
    return "ok";
}

static const char *pin_words(const char *state)
{
    if (strcmp(state, "not_set") == 0)
        return "not set";
    if (strcmp(state, "locked") == 0)
        return "LOCKED";
    if (strcmp(state, "final_try") == 0)
        return "wrong PINs entered: the next wrong one locks it";
    if (strcmp(state, "count_low") == 0)
        return "a wrong PIN was entered since the last login";
    return "ok";
}

static json_t *view_json(const struct token_view *v)
{
    char label[33], manuf[33], model[17], serial[17], desc[65];
    adm_trim(v->ti.label, 32, label);
    adm_trim(v->ti.manufacturerID, 32, manuf);
    adm_trim(v->ti.model, 16, model);
    adm_trim(v->ti.serialNumber, 16, serial);
    adm_trim(v->si.slotDescription, 64, desc);
    json_t *objs = json_object();
    json_object_set_new(objs, "public",
                        v->public_objects >= 0 ? json_integer(v->public_objects) : json_null());
    json_object_set_new(objs, "private",
                        v->private_objects >= 0 ? json_integer(v->private_objects) : json_null());
    return json_pack(
        "{s:I, s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:s, s:s, s:I, s:I, s:I, s:I, "
        "s:I, s:I, s:o}",
        "slot", (json_int_t)v->slot, "description", desc, "label", label, "manufacturer", manuf,
        "model", model, "serial", serial, "initialized", (v->ti.flags & CKF_TOKEN_INITIALIZED) != 0,
        "flags", adm_token_flags_json(v->ti.flags), "user_pin", pin_state(v->ti.flags, false),
        "so_pin", pin_state(v->ti.flags, true), "sessions", (json_int_t)v->ti.ulSessionCount,
        "max_sessions", (json_int_t)v->ti.ulMaxSessionCount, "rw_sessions",
        (json_int_t)v->ti.ulRwSessionCount, "max_rw_sessions",
        (json_int_t)v->ti.ulMaxRwSessionCount, "pin_min_length", (json_int_t)v->ti.ulMinPinLen,
        "pin_max_length", (json_int_t)v->ti.ulMaxPinLen, "objects", objs);
}

static void view_print(const struct token_view *v)
{
    char label[33], manuf[33], model[17], serial[17], desc[65], flags[512];
    adm_trim(v->ti.label, 32, label);
    adm_trim(v->ti.manufacturerID, 32, manuf);
    adm_trim(v->ti.model, 16, model);
    adm_trim(v->ti.serialNumber, 16, serial);
    adm_trim(v->si.slotDescription, 64, desc);
    adm_token_flags(v->ti.flags, flags, sizeof(flags));
    bool init = (v->ti.flags & CKF_TOKEN_INITIALIZED) != 0;
    printf("Slot %lu: %s\n", (unsigned long)v->slot, desc);
    printf("  label:         %s%s\n", label, init ? "" : " (uninitialised)");
    printf("  serial:        %s\n", serial);
    printf("  manufacturer:  %s\n", manuf);
    printf("  model:         %s\n", model);
    printf("  flags:         %s\n", flags);
    printf("  user PIN:      %s\n", pin_words(pin_state(v->ti.flags, false)));
    printf("  SO PIN:        %s\n", pin_words(pin_state(v->ti.flags, true)));
    printf("  PIN length:    %lu..%lu bytes\n", (unsigned long)v->ti.ulMinPinLen,
           (unsigned long)v->ti.ulMaxPinLen);
    printf("  sessions:      %lu of %lu (read/write: %lu of %lu)\n",
           (unsigned long)v->ti.ulSessionCount, (unsigned long)v->ti.ulMaxSessionCount,
           (unsigned long)v->ti.ulRwSessionCount, (unsigned long)v->ti.ulMaxRwSessionCount);
    if (!init)
        printf("  objects:       none (initialise with: craton-admin token init --slot %lu "
               "--label LABEL)\n",
               (unsigned long)v->slot);
    else if (v->public_objects < 0)
        printf("  objects:       unknown\n");
    else if (v->private_objects < 0)
        printf("  objects:       %ld public (--login counts private objects too)\n",
               v->public_objects);
    else
        printf("  objects:       %ld public, %ld private\n", v->public_objects, v->private_objects);
}

static int show(struct admin *a, int argc, char **argv, bool all)
{
    bool login = false;
    const char *pin_file = NULL;
    const struct adm_opt opts[] = {
        {"login", 0, NULL, &login},
        {"pin-file", 0, &pin_file, NULL},
        {0},
    };
    const char *cmd = all ? "token list" : "token info";
    struct adm_secret pin;
    CK_SLOT_ID *slots = NULL;
    CK_ULONG n = 0;
    json_t *arr = NULL;
    memset(&pin, 0, sizeof(pin));
    int rc = adm_parse(a, cmd, all ? help_list : help_info, argc, argv, opts, NULL, 0, NULL);
    if (rc != ADM_OK)
        return rc;
    if (pin_file != NULL)
        login = true;
    if ((rc = adm_load(a, true)) != ADM_OK)
        goto out;
    if (all) {
        if ((rc = adm_slot_list(a, &slots, &n)) != ADM_OK)
            goto out;
    } else {
        slots = calloc(1, sizeof(*slots));
        if (slots == NULL) {
            rc = adm_error("out of memory");
            goto out;
        }
        n = 1;
        if ((rc = adm_pick_slot(a, &slots[0])) != ADM_OK)
            goto out;
    }
    if (login &&
        (rc = adm_get_secret("user PIN", pin_file, "CRATON_USER_PIN", false, &pin)) != ADM_OK)
        goto out;
    arr = json_array();
    for (CK_ULONG i = 0; i < n; i++) {
        struct token_view v;
        if ((rc = gather(a, slots[i], login, &pin, &v)) != ADM_OK)
            goto out;
        if (a->json)
            json_array_append_new(arr, view_json(&v));
        else
            view_print(&v);
    }
    if (a->json) {
        json_t *out = all ? json_incref(arr) : json_incref(json_array_get(arr, 0));
        rc = adm_json_print(out);
    }
out:
    json_decref(arr);
    free(slots);
    adm_secret_wipe(&pin);
    return rc;
}

static int cmd_info(struct admin *a, int argc, char **argv)
{
    return show(a, argc, argv, false);
}

static int cmd_list(struct admin *a, int argc, char **argv)
{
    return show(a, argc, argv, true);
}

/* ---- init ---- */

/* The slot for init: --slot, else the first uninitialised slot, else slot 0. */
static int init_slot(struct admin *a, CK_SLOT_ID *slot)
{
    if (a->slot_set)
        return adm_pick_slot(a, slot);
    CK_SLOT_ID *slots;
    CK_ULONG n;
    int rc = adm_slot_list(a, &slots, &n);
    if (rc != ADM_OK)
        return rc;
    if (n == 0) {
        free(slots);
        return adm_error("the module reports no slots");
    }
    *slot = slots[0];
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;
        if (a->p11->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
            !(ti.flags & CKF_TOKEN_INITIALIZED)) {
            *slot = slots[i];
            break;
        }
    }
    free(slots);
    return ADM_OK;
}

static int wipe_locked(struct admin *a, CK_SLOT_ID slot, bool yes)
{
    CK_CRATON_ADMIN_FUNCTION_LIST *v = adm_vendor(a, "token init --wipe-locked");
    if (v == NULL)
        return ADM_FAIL;
    fprintf(stderr,
            "The SO PIN of slot %lu is locked.  Wiping the slot destroys its token store on "
            "disk:\nevery object (keys, certificates, data), the user PIN and the SO PIN.  This "
            "cannot be undone\n(restore a backup afterwards if you have one).\n",
            (unsigned long)slot);
    if (!adm_confirm(yes, "Wipe slot %lu and initialise a new token? [y/N]", (unsigned long)slot))
        return adm_error("not confirmed; nothing was changed");
    CK_RV rv = v->CRATON_WipeToken(slot);
    if (rv != CKR_OK)
        return adm_ck_error(a, rv, (CK_USER_TYPE)-1, "CRATON_WipeToken(%lu)", (unsigned long)slot);
    fprintf(stderr, "Slot %lu wiped.\n", (unsigned long)slot);
    return ADM_OK;
}

static int set_so_pin(struct admin *a, CK_SLOT_ID slot, const struct adm_secret *cur,
                      const struct adm_secret *next)
{
    CK_SESSION_HANDLE s;
    int rc = adm_open_session(a, slot, true, &s);
    if (rc != ADM_OK)
        return rc;
    rc = adm_login(a, s, slot, CKU_SO, cur);
    if (rc == ADM_OK) {
        CK_RV rv = a->p11->C_SetPIN(s, (CK_UTF8CHAR_PTR)cur->v, (CK_ULONG)cur->len,
                                    (CK_UTF8CHAR_PTR)next->v, (CK_ULONG)next->len);
        if (rv != CKR_OK)
            rc = adm_pin_error(a, slot, CKU_SO, rv, "C_SetPIN (new SO PIN)");
        a->p11->C_Logout(s);
    }
    a->p11->C_CloseSession(s);
    if (rc != ADM_OK)
        adm_error("the token was initialised with the current SO PIN, which is still valid");
    return rc;
}

static int cmd_init(struct admin *a, int argc, char **argv)
{
    const char *label = NULL, *so_file = NULL, *new_file = NULL;
    bool yes = false, wipe = false;
    const struct adm_opt opts[] = {
        {"label", 0, &label, NULL},           {"so-pin-file", 0, &so_file, NULL},
        {"new-pin-file", 0, &new_file, NULL}, {"yes", 'y', NULL, &yes},
        {"wipe-locked", 0, NULL, &wipe},      {0},
    };
    struct adm_secret cur, next;
    CK_UTF8CHAR padded[32];
    CK_SLOT_ID slot;
    memset(&cur, 0, sizeof(cur));
    memset(&next, 0, sizeof(next));
    int rc = adm_parse(a, "token init", help_init, argc, argv, opts, NULL, 0, NULL);
    if (rc != ADM_OK)
        return rc;
    if (label == NULL)
        return adm_usage_error("token init ", "--label is required");
    if (strlen(label) == 0 || strlen(label) > 32)
        return adm_usage_error("token init ", "the label must have 1 to 32 bytes, not %zu",
                               strlen(label));
    memset(padded, ' ', sizeof(padded));
    memcpy(padded, label, strlen(label));

    if ((rc = adm_load(a, true)) != ADM_OK || (rc = init_slot(a, &slot)) != ADM_OK)
        goto out;
    CK_TOKEN_INFO ti;
    CK_RV rv = a->p11->C_GetTokenInfo(slot, &ti);
    if (rv != CKR_OK) {
        rc = adm_ck_error(a, rv, (CK_USER_TYPE)-1, "C_GetTokenInfo(%lu)", (unsigned long)slot);
        goto out;
    }
    bool initialized = (ti.flags & CKF_TOKEN_INITIALIZED) != 0;
    bool locked = initialized && (ti.flags & CKF_SO_PIN_LOCKED);
    if (locked && !wipe) {
        adm_error("the SO PIN of slot %lu is locked and cannot be unlocked or reset",
                  (unsigned long)slot);
        rc = adm_error("the only remedy is re-initialising the token: %s token init --slot %lu "
                       "--label LABEL --wipe-locked (destroys every object of the slot and "
                       "both PINs)",
                       ADM_PROG, (unsigned long)slot);
        goto out;
    }
    if (wipe && !locked) {
        rc = adm_error("--wipe-locked is only for a token whose SO PIN is locked, and slot "
                       "%lu's is not: run token init without it",
                       (unsigned long)slot);
        goto out;
    }
    if (locked) {
        if ((rc = wipe_locked(a, slot, yes)) != ADM_OK)
            goto out;
        initialized = false;
    }

    if (!initialized) {
        if ((rc = adm_get_secret("new SO PIN", so_file, "CRATON_SO_PIN", true, &cur)) != ADM_OK)
            goto out;
        rv = a->p11->C_InitToken(slot, (CK_UTF8CHAR_PTR)cur.v, (CK_ULONG)cur.len, padded);
        if (rv != CKR_OK) {
            rc = adm_pin_error(a, slot, CKU_SO, rv, "C_InitToken");
            goto out;
        }
    } else {
        if (!adm_confirm(yes,
                         "Slot %lu is already initialised. All objects will be destroyed. "
                         "Continue? [y/N]",
                         (unsigned long)slot)) {
            rc = adm_error("not confirmed; nothing was changed");
            goto out;
        }
        bool prompted = so_file == NULL && getenv("CRATON_SO_PIN") == NULL;
        if ((rc = adm_get_secret("current SO PIN", so_file, "CRATON_SO_PIN", false, &cur)) !=
            ADM_OK)
            goto out;
        if (new_file != NULL || getenv("CRATON_NEW_PIN") != NULL || prompted) {
            if ((rc = adm_get_secret("new SO PIN", new_file, "CRATON_NEW_PIN", true, &next)) !=
                ADM_OK)
                goto out;
        }
        rv = a->p11->C_InitToken(slot, (CK_UTF8CHAR_PTR)cur.v, (CK_ULONG)cur.len, padded);
        if (rv != CKR_OK) {
            rc = adm_pin_error(a, slot, CKU_SO, rv, "C_InitToken");
            goto out;
        }
        if (next.len > 0 && (next.len != cur.len || CRYPTO_memcmp(next.v, cur.v, cur.len) != 0) &&
            (rc = set_so_pin(a, slot, &cur, &next)) != ADM_OK)
            goto out;
        if (next.len == 0)
            printf("The SO PIN is unchanged (--new-pin-file sets a new one).\n");
        else
            printf("A new SO PIN is set.\n");
    }
    printf("Slot %lu initialised with label \"%s\".\n", (unsigned long)slot, label);
    printf("Next: set the user PIN with '%s pin init --slot %lu'.\n", ADM_PROG,
           (unsigned long)slot);
    rc = ADM_OK;
out:
    adm_secret_wipe(&cur);
    adm_secret_wipe(&next);
    return rc;
}

int cmd_token(struct admin *a, int argc, char **argv)
{
    static const struct adm_cmd sub[] = {
        {"init", cmd_init, ""},
        {"info", cmd_info, ""},
        {"list", cmd_list, ""},
    };
    return adm_dispatch(a, "token", sub, sizeof(sub) / sizeof(sub[0]), help_token, argc, argv);
}
