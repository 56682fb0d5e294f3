/* craton-admin config check */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char help_config[] =
    "Usage: craton-admin config check [FILE] [--json]\n\n"
    "Loads and validates a configuration (FILE, else --config, else what the module\n"
    "would use: $CRATON_HSM_CONFIG or ./craton_hsm.toml) without initialising\n"
    "anything, and prints every value in effect, defaults included.  An invalid file\n"
    "prints \"file:line: key: what is allowed\" and exits 1.\n\n"
    "Examples:\n"
    "  craton-admin config check /etc/craton/craton_hsm.toml\n"
    "  craton-admin --config ./craton_hsm.toml config check\n";

static int check(struct admin *a, int argc, char **argv)
{
    const char *pos[1] = {NULL};
    int npos = 0;
    char err[CRATON_REASON_MAX + 1];
    char *out = NULL;
    CK_ULONG len = 0;
    memset(err, 0, sizeof(err));
    int rc = adm_parse(a, "config check", help_config, argc, argv, NULL, pos, 1, &npos);
    if (rc != ADM_OK)
        return rc;
    const char *file = npos > 0 ? pos[0] : a->config;
    if ((rc = adm_load(a, false)) != ADM_OK)
        return rc;
    CK_CRATON_ADMIN_FUNCTION_LIST *v = adm_vendor(a, "config check");
    if (v == NULL)
        return ADM_FAIL;
    CK_RV rv = v->CRATON_ConfigCheck(file, NULL, &len, err, CRATON_REASON_MAX);
    if (rv == CKR_OK) {
        out = malloc(len + 1);
        if (out == NULL)
            return adm_error("out of memory");
        rv = v->CRATON_ConfigCheck(file, out, &len, err, CRATON_REASON_MAX);
        if (rv == CKR_OK)
            out[len] = '\0';
    }
    const char *name = file != NULL ? file : "(the module's default)";
    if (a->json) {
        json_t *j = json_pack("{s:s, s:b}", "file", name, "valid", rv == CKR_OK);
        if (rv == CKR_OK)
            json_object_set_new(j, "effective", json_string(out));
        else
            json_object_set_new(j, "error", json_string(err[0] ? err : adm_rv_name(rv)));
        adm_json_print(j);
    }
    if (rv != CKR_OK) {
        if (err[0] != '\0')
            fprintf(stderr, "%s\n", err);
        rc = adm_error("%s is not valid (%s): fix the line named above", name, adm_rv_name(rv));
    } else {
        if (!a->json) {
            printf("# %s: valid; the values in effect:\n", name);
            fputs(out, stdout);
            if (len > 0 && out[len - 1] != '\n')
                fputc('\n', stdout);
        }
        rc = ADM_OK;
    }
    free(out);
    return rc;
}

int cmd_config(struct admin *a, int argc, char **argv)
{
    static const struct adm_cmd sub[] = {
        {"check", check, ""},
    };
    return adm_dispatch(a, "config", sub, 1,
                        "Usage: craton-admin config SUBCOMMAND\n\n"
                        "  check [FILE]   validate a configuration and show the values in "
                        "effect\n\nSee 'craton-admin config check --help'.\n",
                        argc, argv);
}
