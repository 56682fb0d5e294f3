/* craton-admin: the dispatch table of commands (one file each). */
#include "admin.h"

#include <stdio.h>
#include <string.h>

static const struct adm_cmd commands[] = {
    {"token", cmd_token, "initialise a token, show tokens (init, info, list)"},
    {"pin", cmd_pin, "set, change and reset PINs (init, change, reset)"},
    {"key", cmd_key, "keys and certificates (list, generate, import, export, delete)"},
    {"audit", cmd_audit, "the audit log (verify, show, export)"},
    {"backup", cmd_backup, "write an encrypted backup of a token"},
    {"restore", cmd_restore, "restore a token from a backup"},
    {"selftest", cmd_selftest, "run the power-on self-tests and show each result"},
    {"config", cmd_config, "validate a configuration and show the values in effect (check)"},
    {"status", cmd_status, "the module's state: version, paths, error state, sessions"},
};

static void usage(FILE *fp)
{
    fprintf(fp, "Usage: %s [GLOBAL OPTIONS] COMMAND [SUBCOMMAND] [OPTIONS]\n\n", ADM_PROG);
    fputs("Administers a Craton HSM token through the module itself (PKCS#11 and its\n"
          "\"Craton HSM Admin\" interface).\n\nCommands:\n",
          fp);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\nGlobal options (before or after the command):\n"
          "  --module PATH   the module (default: $CRATON_MODULE, else libcraton_hsm.so in\n"
          "                  ../lib or ../../lib relative to this program)\n"
          "  --config FILE   the configuration (sets CRATON_HSM_CONFIG for the module)\n"
          "  --slot N        the slot (default: the first one)\n"
          "  --json          machine-readable output for the read commands\n"
          "  --help          help; 'craton-admin COMMAND --help' for a command's\n\n"
          "PINs come from --so-pin-file / --pin-file / --new-pin-file (one trailing newline\n"
          "is stripped), else $CRATON_SO_PIN / $CRATON_USER_PIN / $CRATON_NEW_PIN, else a\n"
          "prompt without echo.\n\n"
          "Exit status: 0 done, 1 the operation failed, 2 usage error.\n\n"
          "Examples:\n"
          "  craton-admin token init --label \"My Token\"\n"
          "  craton-admin pin init\n"
          "  craton-admin key generate --type ec:p256 --label signer\n"
          "  craton-admin --json token list\n",
          fp);
}

int main(int argc, char **argv)
{
    struct admin a;
    memset(&a, 0, sizeof(a));
    a.self = argv[0];
    int i = 1;
    /* Global options before the command. */
    while (i < argc && argv[i][0] == '-') {
        const char *o = argv[i];
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            usage(stdout);
            return ADM_OK;
        }
        if (strcmp(o, "--json") == 0) {
            a.json = true;
            i++;
            continue;
        }
        const char *val = NULL;
        const char *names[] = {"--module", "--config", "--slot"};
        size_t k;
        for (k = 0; k < 3; k++) {
            size_t l = strlen(names[k]);
            if (strncmp(o, names[k], l) == 0 && o[l] == '=') {
                val = o + l + 1;
                break;
            }
            if (strcmp(o, names[k]) == 0) {
                if (i + 1 >= argc)
                    return adm_usage_error("", "%s needs a value", o);
                val = argv[++i];
                break;
            }
        }
        if (k == 3)
            return adm_usage_error("", "unknown option '%s'", o);
        if (k == 0) {
            a.module_path = val;
        } else if (k == 1) {
            a.config = val;
        } else {
            unsigned long v;
            if (adm_parse_ulong(val, &v) != 0)
                return adm_usage_error("", "--slot wants a slot number (0, 1, ...), not '%s'", val);
            a.slot = v;
            a.slot_set = true;
        }
        i++;
    }
    if (i >= argc) {
        usage(stderr);
        return ADM_USAGE;
    }
    if (strcmp(argv[i], "help") == 0) {
        usage(stdout);
        return ADM_OK;
    }
    for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
        if (strcmp(argv[i], commands[k].name) == 0) {
            int rc = commands[k].run(&a, argc - i, argv + i);
            adm_unload(&a);
            fflush(stdout);
            return rc == ADM_HELP ? ADM_OK : rc;
        }
    }
    return adm_usage_error("", "'%s' is not a command", argv[i]);
}
