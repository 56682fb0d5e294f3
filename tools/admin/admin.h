/*
 * craton-admin: the operator CLI.  It reaches the module only through
 * dlopen(libcraton_hsm.so): PKCS#11 3.2 (C_GetInterface "PKCS 11") plus the
 * vendor interface "Craton HSM Admin" (include/craton/craton_admin.h).
 * Keys never leave the module except public keys and certificates.
 *
 * Exit codes: 0 done, 1 the operation failed (the module said no, a file
 * could not be read, the operator declined), 2 usage error.
 */
#ifndef CRATON_ADMIN_TOOL_H
#define CRATON_ADMIN_TOOL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "pkcs11/pkcs11.h"
#include "craton/craton_admin.h"

#define ADM_OK    0
#define ADM_FAIL  1
#define ADM_USAGE 2
#define ADM_HELP  3 /* adm_parse: --help was printed; exit 0 */

#define ADM_PROG       "craton-admin"
#define ADM_MODULE     "libcraton_hsm.so"
#define ADM_SECRET_MAX 1024      /* PINs and passphrases, bytes */
#define ADM_FILE_MAX   (1 << 20) /* key files, certificates */
#define ADM_BACKUP_MAX (1UL << 30)

/* The state of one run: the global options and the loaded module. */
struct admin {
    /* global options */
    const char *module_path; /* --module, else CRATON_MODULE, else beside the binary */
    const char *config;      /* --config: exported as CRATON_HSM_CONFIG */
    bool slot_set;
    CK_SLOT_ID slot;  /* --slot */
    bool json;        /* --json */
    const char *self; /* argv[0] */
    /* the module */
    void *dl;
    CK_FUNCTION_LIST_3_2 *p11;
    CK_CRATON_ADMIN_FUNCTION_LIST *vendor; /* NULL when the module lacks it */
    bool initialized;
    char loaded_path[4096];
};

/* One command-line option of a subcommand.  Exactly one of value (an option
 * with an argument) and flag (a switch) is set. */
struct adm_opt {
    const char *name; /* "label" for --label */
    char short_name;  /* 'n' for -n, or 0 */
    const char **value;
    bool *flag;
};

/* A PIN or passphrase; wiped with adm_secret_wipe on every path. */
struct adm_secret {
    char v[ADM_SECRET_MAX + 1];
    size_t len;
};

/* A command of the dispatch table: argv[0] is the command's own name. */
struct adm_cmd {
    const char *name;
    int (*run)(struct admin *a, int argc, char **argv);
    const char *summary;
};

/* ---- the commands (one file each) ---- */
int cmd_token(struct admin *a, int argc, char **argv);
int cmd_pin(struct admin *a, int argc, char **argv);
int cmd_key(struct admin *a, int argc, char **argv);
int cmd_audit(struct admin *a, int argc, char **argv);
int cmd_backup(struct admin *a, int argc, char **argv);
int cmd_restore(struct admin *a, int argc, char **argv);
int cmd_selftest(struct admin *a, int argc, char **argv);
int cmd_config(struct admin *a, int argc, char **argv);
int cmd_status(struct admin *a, int argc, char **argv);

/* Runs the subcommand named by argv[0] from table[n] for command cmd ("token"),
 * or prints the group's help (help) for --help / no subcommand.  Returns the
 * exit code. */
int adm_dispatch(struct admin *a, const char *cmd, const struct adm_cmd *table, size_t n,
                 const char *help, int argc, char **argv);

/* ---- options ---- */

/* Parses argv[1..argc) against opts (terminated by a zero entry) plus the
 * global options (--module, --config, --slot, --json) and --help/-h.  The
 * positional arguments go to pos[0..max_pos), their count to *npos (NULL:
 * none allowed).  usage is the command's help text, printed for --help.
 * Returns ADM_OK, ADM_HELP (help printed) or ADM_USAGE (message printed, naming
 * cmd's --help). */
int adm_parse(struct admin *a, const char *cmd, const char *usage, int argc, char **argv,
              const struct adm_opt *opts, const char **pos, int max_pos, int *npos);

/* Prints "craton-admin: <message>" and the hint to see cmd --help on stderr;
 * returns ADM_USAGE. */
int adm_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Strict unsigned decimal (no sign, no spaces, no overflow).  0 or -1. */
int adm_parse_ulong(const char *s, unsigned long *out);

/* ---- the module ---- */

/* Loads the module (dlopen + C_GetInterface for PKCS#11 3.2 and the vendor
 * interface, which may be missing), exports --config as CRATON_HSM_CONFIG,
 * and, when init, calls C_Initialize.  Prints what went wrong and what to do;
 * returns ADM_OK or ADM_FAIL. */
int adm_load(struct admin *a, bool init);

/* C_Finalize when initialised, then dlclose.  NULL-safe fields. */
void adm_unload(struct admin *a);

/* a->vendor, or prints that the module lacks the vendor interface (naming
 * what) and returns NULL. */
CK_CRATON_ADMIN_FUNCTION_LIST *adm_vendor(struct admin *a, const char *what);

/* The slot to work on: --slot (checked against the slot list), else the first
 * slot.  ADM_OK or ADM_FAIL (message printed). */
int adm_pick_slot(struct admin *a, CK_SLOT_ID *slot);

/* The slot list (malloc'ed, *n entries).  ADM_OK or ADM_FAIL. */
int adm_slot_list(struct admin *a, CK_SLOT_ID **slots, CK_ULONG *n);

/* Opens a session (read/write when rw) on slot.  ADM_OK or ADM_FAIL. */
int adm_open_session(struct admin *a, CK_SLOT_ID slot, bool rw, CK_SESSION_HANDLE *s);

/* C_Login(who) with pin on s, explaining a failure (wrong PIN and tries left,
 * locked PIN and its remedy, no user PIN yet).  ADM_OK or ADM_FAIL. */
int adm_login(struct admin *a, CK_SESSION_HANDLE s, CK_SLOT_ID slot, CK_USER_TYPE who,
              const struct adm_secret *pin);

/* Prints "craton-admin: <what>: CKR_X" plus the remedy for rv when there is
 * one (who: the role the PIN belonged to, or (CK_USER_TYPE)-1).  Returns
 * ADM_FAIL. */
int adm_ck_error(struct admin *a, CK_RV rv, CK_USER_TYPE who, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prints "craton-admin: <message>" on stderr; returns ADM_FAIL. */
int adm_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The PKCS#11 name of rv ("CKR_PIN_INCORRECT"). */
const char *adm_rv_name(CK_RV rv);

/* Explains a PIN failure on slot after C_Login/C_SetPIN/C_InitToken gave rv for
 * role who: wrong PIN (and whether one try is left), locked (with the only
 * remedy).  Returns ADM_FAIL. */
int adm_pin_error(struct admin *a, CK_SLOT_ID slot, CK_USER_TYPE who, CK_RV rv, const char *what);

/* ---- secrets and questions ---- */

/* Gets a secret called what ("SO PIN"): from file (one trailing newline
 * stripped), else from the environment variable env, else prompted on the
 * terminal without echo (twice when confirm), or read as one line from a
 * non-terminal standard input.  ADM_OK, ADM_FAIL (message printed). */
int adm_get_secret(const char *what, const char *file, const char *env, bool confirm,
                   struct adm_secret *out);

/* Like adm_get_secret without a file or an environment variable. */
int adm_prompt_secret(const char *what, bool confirm, struct adm_secret *out);

void adm_secret_wipe(struct adm_secret *s);

/* Asks question (ending in "[y/N]") on stderr and reads one line from
 * standard input; true only for y / yes.  assume_yes: true without asking. */
bool adm_confirm(bool assume_yes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- files and output ---- */

/* Reads a whole regular file of at most max bytes.  ADM_OK (*buf malloc'ed)
 * or ADM_FAIL (message printed). */
int adm_read_file(const char *path, size_t max, unsigned char **buf, size_t *len);

/* Writes data to path atomically: a temporary file in the same directory
 * with mode, fsync, then rename (force) or link (refusing an existing file),
 * and an fsync of the directory.  "-" writes to standard output.  ADM_OK or
 * ADM_FAIL (message printed). */
int adm_write_file(const char *path, const void *data, size_t len, unsigned mode, bool force);

/* Prints v as indented JSON on stdout and releases it. */
int adm_json_print(json_t *v);

/* A blank-padded PKCS#11 string as a trimmed C string in out[n + 1]. */
void adm_trim(const CK_UTF8CHAR *p, size_t n, char *out);

/* Lowercase hex of v[len] into a new string (free()), NULL on no memory. */
char *adm_hex(const unsigned char *v, size_t len);

/* Parses hex (even length, max bytes) into out.  0 or -1. */
int adm_unhex(const char *hex, unsigned char *out, size_t max, size_t *len);

/* The token flags in words, space-separated, into out[outlen]; and as a JSON
 * array of the same words. */
void adm_token_flags(CK_FLAGS f, char *out, size_t outlen);
json_t *adm_token_flags_json(CK_FLAGS f);

#endif
