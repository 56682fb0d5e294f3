/* craton-admin status */
#include "admin.h"

#include <stdio.h>
#include <string.h>

static const char help_status[] =
    "Usage: craton-admin status [--json]\n\n"
    "Initialises the module and shows its state: library and Cryptoki versions, the\n"
    "configuration, storage and audit paths, audit level and keying, approved-only\n"
    "mode, the error state and its reason, slots, open sessions and how long the\n"
    "power-on self-tests took.  Exits 1 when the module cannot initialise or is in\n"
    "its error state.\n\n"
    "Examples:\n"
    "  craton-admin status\n"
    "  craton-admin --json status\n";

#define FIELD(buf) (int)sizeof(buf), (buf)

int cmd_status(struct admin *a, int argc, char **argv)
{
    int rc = adm_parse(a, "status", help_status, argc, argv, NULL, NULL, 0, NULL);
    if (rc != ADM_OK)
        return rc;
    int init_rc = adm_load(a, true);
    if (a->p11 == NULL)
        return init_rc;
    CK_INFO info;
    memset(&info, 0, sizeof(info));
    CK_RV rv_info = a->initialized ? a->p11->C_GetInfo(&info) : CKR_CRYPTOKI_NOT_INITIALIZED;
    CK_CRATON_STATUS st;
    memset(&st, 0, sizeof(st));
    CK_CRATON_ADMIN_FUNCTION_LIST *v = adm_vendor(a, "status (paths, error state)");
    CK_RV rv_st = v != NULL ? v->CRATON_GetStatus(&st) : CKR_FUNCTION_NOT_SUPPORTED;
    char manuf[33], desc[33];
    adm_trim(info.manufacturerID, 32, manuf);
    adm_trim(info.libraryDescription, 32, desc);
    char cfg[CRATON_PATH_MAX + 1], store[CRATON_PATH_MAX + 1], audit[CRATON_PATH_MAX + 1],
        level[17], reason[CRATON_REASON_MAX + 1];
    snprintf(cfg, sizeof(cfg), "%.*s", FIELD(st.config_path));
    snprintf(store, sizeof(store), "%.*s", FIELD(st.storage_path));
    snprintf(audit, sizeof(audit), "%.*s", FIELD(st.audit_path));
    snprintf(level, sizeof(level), "%.*s", FIELD(st.audit_level));
    snprintf(reason, sizeof(reason), "%.*s", FIELD(st.error_reason));
    bool have = rv_st == CKR_OK;
    if (a->json) {
        json_t *j =
            json_pack("{s:s, s:b}", "module", a->loaded_path, "initialized", a->initialized);
        if (rv_info == CKR_OK) {
            char ver[32], cver[32];
            snprintf(ver, sizeof(ver), "%u.%u", info.libraryVersion.major,
                     info.libraryVersion.minor);
            snprintf(cver, sizeof(cver), "%u.%u", info.cryptokiVersion.major,
                     info.cryptokiVersion.minor);
            json_object_set_new(j, "library_version", json_string(ver));
            json_object_set_new(j, "cryptoki_version", json_string(cver));
            json_object_set_new(j, "manufacturer", json_string(manuf));
            json_object_set_new(j, "description", json_string(desc));
        }
        json_object_set_new(j, "vendor_interface", json_boolean(v != NULL));
        if (have) {
            json_object_set_new(
                j, "status",
                json_pack("{s:b, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:I, s:I, s:f}",
                          "error_state", st.error_state == CK_TRUE, "error_reason", reason,
                          "config_path", cfg, "storage_path", store, "audit_path", audit,
                          "audit_level", level, "audit_keyed", st.audit_keyed == CK_TRUE,
                          "fips_approved_only", st.fips_approved_only == CK_TRUE, "persist_objects",
                          st.persist_objects == CK_TRUE, "slots", (json_int_t)st.slot_count,
                          "sessions", (json_int_t)st.sessions, "post_ms", st.post_micros / 1000.0));
        }
        adm_json_print(j);
    } else {
        printf("module:            %s\n", a->loaded_path);
        if (rv_info == CKR_OK) {
            printf("library:           %s %s, version %u.%u (Cryptoki %u.%u)\n", manuf, desc,
                   info.libraryVersion.major, info.libraryVersion.minor, info.cryptokiVersion.major,
                   info.cryptokiVersion.minor);
        }
        if (have) {
            printf("state:             %s\n", st.error_state ? "ERROR STATE" : "operational");
            if (st.error_state)
                printf("error reason:      %s\n", reason);
            printf("configuration:     %s\n", cfg[0] ? cfg : "(built-in defaults)");
            printf("storage:           %s%s\n", store,
                   st.persist_objects ? "" : " (persist_objects = false: objects in memory)");
            printf("audit log:         %s\n", audit[0] ? audit : "(off)");
            printf("audit level:       %s%s\n", level,
                   st.audit_keyed ? " (HMAC-keyed chain)" : " (SHA-256 chain)");
            printf("approved only:     %s\n", st.fips_approved_only ? "yes" : "no");
            printf("slots:             %lu\n", (unsigned long)st.slot_count);
            printf("open sessions:     %lu\n", (unsigned long)st.sessions);
            printf("self-tests (POST): %.3f ms\n", st.post_micros / 1000.0);
        }
    }
    if (init_rc != ADM_OK)
        return init_rc;
    if (!have)
        return ADM_FAIL;
    if (st.error_state)
        return adm_error("the module is in its error state: %s", reason);
    return ADM_OK;
}
