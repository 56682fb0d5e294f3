/* craton-admin audit verify | show | export */
#include "admin.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define AUDIT_ROTATED_MAX  100 /* [audit] rotate_keep's maximum */
#define AUDIT_SHOW_DEFAULT 20
#define SYSLOG_FACILITY    10      /* authpriv */
#define SYSLOG_PEN         "32473" /* RFC 5612's documentation enterprise number */

static const char help_audit[] =
    "Usage: craton-admin audit SUBCOMMAND [OPTIONS]\n\n"
    "  verify   check the hash chain of the log and its rotated files\n"
    "  show     the last records as a table\n"
    "  export   every record as json, ndjson or syslog (RFC 5424) lines\n\n"
    "The log is the configured [audit] log_path unless --log names one.\n"
    "See 'craton-admin audit SUBCOMMAND --help'.\n";

static const char help_verify[] =
    "Usage: craton-admin audit verify [--log FILE] [--key FILE] [--json]\n\n"
    "Verifies the chain (each line's prev_hash, seq order) of FILE (default: the\n"
    "configured log) and its rotated predecessors FILE.N .. FILE.1, with the HMAC key\n"
    "file --key (default: the configured [audit] hmac_key_file; --key '' checks the\n"
    "plain SHA-256 chain).  Exit 0 when intact; 1 with \"line N of FILE: why\" on the\n"
    "first bad line.\n\n"
    "Examples:\n"
    "  craton-admin audit verify\n"
    "  craton-admin audit verify --log /srv/hsm/craton_hsm_audit.jsonl --key audit.key\n";

static const char help_show[] =
    "Usage: craton-admin audit show [-n N] [--log FILE] [--json]\n\n"
    "Shows the last N records (default 20): time, seq, event, slot/session, user,\n"
    "mechanism, object/label, result.  Reads the rotated files too when needed.\n\n"
    "Examples:\n"
    "  craton-admin audit show -n 50\n"
    "  craton-admin --json audit show -n 5\n";

static const char help_export[] =
    "Usage: craton-admin audit export --format json|ndjson|syslog [--out FILE] [--force]\n"
    "                                 [--log FILE]\n\n"
    "Writes every record, oldest first (rotated files included): json, an array of\n"
    "the records; ndjson, the lines as stored (the chain can be verified on the copy);\n"
    "syslog, RFC 5424 lines (facility authpriv, severity informational for CKR_OK,\n"
    "warning otherwise) with the record as the message.  Default: standard output.\n\n"
    "Examples:\n"
    "  craton-admin audit export --format ndjson --out audit-copy.jsonl\n"
    "  craton-admin audit export --format syslog | logger --rfc5424 ...\n";

/* ---- the log's path ---- */

/* Unquotes a TOML basic string value "..." into out. */
static int toml_string(const char *v, char *out, size_t outlen)
{
    while (*v == ' ' || *v == '\t')
        v++;
    if (*v != '"')
        return -1;
    size_t n = 0;
    for (v++; *v != '\0' && *v != '"'; v++) {
        char c = *v;
        if (c == '\\') {
            v++;
            if (*v == '\0')
                return -1;
            c = *v == 'n' ? '\n' : *v == 't' ? '\t' : *v;
        }
        if (n + 1 >= outlen)
            return -1;
        out[n++] = c;
    }
    if (*v != '"')
        return -1;
    out[n] = '\0';
    return 0;
}

/* The configured log (CRATON_ConfigCheck's effective values). */
static int configured_log(struct admin *a, char *out, size_t outlen)
{
    CK_CRATON_ADMIN_FUNCTION_LIST *v = adm_vendor(a, "finding the configured audit log");
    char err[CRATON_REASON_MAX] = "";
    char *text = NULL;
    CK_ULONG len = 0;
    int rc = ADM_FAIL;
    if (v == NULL) {
        adm_error("name the log with --log FILE");
        return ADM_FAIL;
    }
    CK_RV rv = v->CRATON_ConfigCheck(NULL, NULL, &len, err, sizeof(err));
    if (rv == CKR_OK) {
        text = malloc(len + 1);
        if (text == NULL)
            return adm_error("out of memory");
        rv = v->CRATON_ConfigCheck(NULL, text, &len, err, sizeof(err));
    }
    if (rv != CKR_OK) {
        adm_error("the configuration is not valid: %s", err[0] ? err : adm_rv_name(rv));
        goto out;
    }
    text[len < 1 ? 0 : len] = '\0';
    bool in_audit = false, enabled = true, found = false;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        while (*line == ' ' || *line == '\t')
            line++;
        if (line[0] == '[') {
            in_audit = strncmp(line, "[audit]", 7) == 0;
            continue;
        }
        if (!in_audit)
            continue;
        if (strncmp(line, "log_path", 8) == 0 && strchr(line, '=') != NULL)
            found = toml_string(strchr(line, '=') + 1, out, outlen) == 0;
        else if (strncmp(line, "enabled", 7) == 0 && strstr(line, "false") != NULL)
            enabled = false;
    }
    if (!found) {
        adm_error("the effective configuration names no [audit] log_path: use --log FILE");
        goto out;
    }
    if (!enabled)
        fprintf(stderr, "%s: note: [audit] enabled = false: the log is not being written\n",
                ADM_PROG);
    rc = ADM_OK;
out:
    free(text);
    return rc;
}

static int log_path(struct admin *a, const char *given, char *out, size_t outlen)
{
    if (given != NULL) {
        snprintf(out, outlen, "%s", given);
        return ADM_OK;
    }
    if (adm_load(a, false) != ADM_OK)
        return ADM_FAIL;
    return configured_log(a, out, outlen);
}

/* ---- reading records, oldest first ---- */

/* Calls fn(line, len, arg) for every line of path.K .. path.1, path.
 * Returns ADM_OK or ADM_FAIL (an unreadable file). */
static int each_line(const char *path, int (*fn)(const char *line, size_t len, void *arg),
                     void *arg)
{
    char name[PATH_MAX + 8];
    int last = 0;
    struct stat st;
    for (int k = 1; k <= AUDIT_ROTATED_MAX; k++) {
        snprintf(name, sizeof(name), "%s.%d", path, k);
        if (stat(name, &st) != 0)
            break;
        last = k;
    }
    if (stat(path, &st) != 0 && last == 0)
        return adm_error("%s: %s (is the audit log elsewhere? see --log)", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int rc = ADM_OK;
    for (int k = last; k >= 0 && rc == ADM_OK; k--) {
        if (k > 0)
            snprintf(name, sizeof(name), "%s.%d", path, k);
        else
            snprintf(name, sizeof(name), "%s", path);
        FILE *fp = fopen(name, "r");
        if (fp == NULL) {
            if (k == 0 && errno == ENOENT)
                break;
            rc = adm_error("%s: cannot open: %s", name, strerror(errno));
            break;
        }
        ssize_t n;
        while (rc == ADM_OK && (n = getline(&line, &cap, fp)) > 0) {
            if (line[n - 1] == '\n')
                line[--n] = '\0';
            if (n > 0)
                rc = fn(line, (size_t)n, arg);
        }
        fclose(fp);
    }
    free(line);
    return rc;
}

/* ---- verify ---- */

static int cmd_verify(struct admin *a, int argc, char **argv)
{
    const char *log = NULL, *key = NULL;
    const struct adm_opt opts[] = {
        {"log", 0, &log, NULL},
        {"key", 0, &key, NULL},
        {0},
    };
    int rc = adm_parse(a, "audit verify", help_verify, argc, argv, opts, NULL, 0, NULL);
    if (rc != ADM_OK)
        return rc;
    if ((rc = adm_load(a, false)) != ADM_OK)
        return rc;
    CK_CRATON_ADMIN_FUNCTION_LIST *v = adm_vendor(a, "audit verify");
    if (v == NULL)
        return ADM_FAIL;
    CK_CRATON_AUDIT_VERIFY res;
    memset(&res, 0, sizeof(res));
    CK_RV rv = v->CRATON_AuditVerify(log, key, &res);
    char file[CRATON_PATH_MAX + 1], why[CRATON_REASON_MAX + 1];
    snprintf(file, sizeof(file), "%.*s", (int)sizeof(res.bad_file), res.bad_file);
    snprintf(why, sizeof(why), "%.*s", (int)sizeof(res.why), res.why);
    if (a->json) {
        json_t *j =
            json_pack("{s:s, s:I, s:I}", "status",
                      rv == CKR_OK                  ? "intact"
                      : rv == CKR_SIGNATURE_INVALID ? "tampered"
                                                    : "error",
                      "records", (json_int_t)res.records, "first_seq", (json_int_t)res.first_seq);
        if (rv != CKR_OK) {
            json_object_set_new(j, "bad_line", json_integer((json_int_t)res.bad_line));
            json_object_set_new(j, "bad_file", json_string(file));
            json_object_set_new(j, "why", json_string(why[0] ? why : adm_rv_name(rv)));
        }
        adm_json_print(j);
    }
    if (rv == CKR_OK) {
        if (!a->json)
            printf("The audit log is intact: %lu record(s) verified, from seq %lu.\n",
                   (unsigned long)res.records, (unsigned long)res.first_seq);
        return ADM_OK;
    }
    if (rv == CKR_SIGNATURE_INVALID) {
        fprintf(stderr, "line %lu of %s: %s\n", (unsigned long)res.bad_line, file, why);
        return adm_error("the audit log was altered: keep the file as evidence; records from "
                         "that line on cannot be trusted");
    }
    return adm_ck_error(a, rv, (CK_USER_TYPE)-1, "CRATON_AuditVerify%s%s", why[0] ? ": " : "", why);
}

/* ---- show ---- */

struct ring {
    char **lines;
    size_t cap, next, count;
};

static int ring_push(const char *line, size_t len, void *arg)
{
    struct ring *r = arg;
    char *copy = strndup(line, len);
    if (copy == NULL)
        return adm_error("out of memory");
    free(r->lines[r->next]);
    r->lines[r->next] = copy;
    r->next = (r->next + 1) % r->cap;
    if (r->count < r->cap)
        r->count++;
    return ADM_OK;
}

static const char *jstr(json_t *o, const char *k, char *buf, size_t buflen)
{
    json_t *v = json_object_get(o, k);
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, buflen, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    return "-";
}

static void show_row(json_t *r)
{
    char b1[32], b2[32], b3[32], b4[32], where[48], what[96];
    const char *slot = jstr(r, "slot", b1, sizeof(b1));
    const char *sess = jstr(r, "session", b2, sizeof(b2));
    snprintf(where, sizeof(where), "%.20s/%.20s", slot, sess);
    const char *obj = jstr(r, "object", b3, sizeof(b3));
    json_t *label = json_object_get(r, "label");
    if (json_is_string(label))
        snprintf(what, sizeof(what), "%s/%s", obj, json_string_value(label));
    else
        snprintf(what, sizeof(what), "%s", obj);
    printf("%-27s %-6s %-16s %-9s %-6s %-22s %-20s %s\n", jstr(r, "ts", b4, sizeof(b4)),
           jstr(r, "seq", b1, sizeof(b1)), jstr(r, "event", b2, sizeof(b2)), where,
           jstr(r, "user", b3, sizeof(b3)), jstr(r, "mechanism", b4, sizeof(b4)), what,
           json_is_string(json_object_get(r, "result"))
               ? json_string_value(json_object_get(r, "result"))
               : "-");
}

static int cmd_show(struct admin *a, int argc, char **argv)
{
    const char *log = NULL, *count = NULL;
    const struct adm_opt opts[] = {
        {"log", 0, &log, NULL},
        {"lines", 'n', &count, NULL},
        {0},
    };
    char path[CRATON_PATH_MAX];
    unsigned long n = AUDIT_SHOW_DEFAULT;
    struct ring r = {0};
    int rc = adm_parse(a, "audit show", help_show, argc, argv, opts, NULL, 0, NULL);
    if (rc != ADM_OK)
        return rc;
    if (count != NULL && (adm_parse_ulong(count, &n) != 0 || n == 0 || n > 1000000))
        return adm_usage_error("audit show ", "-n wants a number of records from 1 to 1000000");
    if ((rc = log_path(a, log, path, sizeof(path))) != ADM_OK)
        return rc;
    r.cap = n;
    r.lines = calloc(n, sizeof(*r.lines));
    if (r.lines == NULL)
        return adm_error("out of memory");
    if ((rc = each_line(path, ring_push, &r)) != ADM_OK)
        goto out;
    json_t *arr = a->json ? json_array() : NULL;
    if (!a->json)
        printf("%-27s %-6s %-16s %-9s %-6s %-22s %-20s %s\n", "TIME", "SEQ", "EVENT", "SLOT/SESS",
               "USER", "MECHANISM", "OBJECT/LABEL", "RESULT");
    size_t start = r.count < r.cap ? 0 : r.next;
    for (size_t i = 0; i < r.count; i++) {
        const char *line = r.lines[(start + i) % r.cap];
        json_t *rec = json_loads(line, 0, NULL);
        if (!json_is_object(rec)) {
            json_decref(rec);
            if (a->json)
                json_array_append_new(arr, json_pack("{s:s}", "unparseable", line));
            else
                printf("(not a JSON record: %.60s...)\n", line);
            continue;
        }
        if (a->json)
            json_array_append_new(arr, rec);
        else {
            show_row(rec);
            json_decref(rec);
        }
    }
    if (a->json)
        rc = adm_json_print(arr);
out:
    for (size_t i = 0; i < r.cap; i++)
        free(r.lines[i]);
    free(r.lines);
    return rc;
}

/* ---- export ---- */

enum fmt { FMT_JSON, FMT_NDJSON, FMT_SYSLOG };

struct exporter {
    enum fmt fmt;
    FILE *out;
    unsigned long n;
    char host[256];
};

static int export_line(const char *line, size_t len, void *arg)
{
    struct exporter *e = arg;
    if (e->fmt == FMT_NDJSON) {
        fwrite(line, 1, len, e->out);
        fputc('\n', e->out);
        e->n++;
        return ADM_OK;
    }
    json_error_t jerr;
    json_t *rec = json_loadb(line, len, 0, &jerr);
    if (!json_is_object(rec)) {
        json_decref(rec);
        return adm_error("record %lu is not a JSON object (%s): verify the log with '%s audit "
                         "verify'",
                         e->n + 1, jerr.text, ADM_PROG);
    }
    if (e->fmt == FMT_JSON) {
        fputs(e->n == 0 ? "[\n  " : ",\n  ", e->out);
        json_dumpf(rec, e->out, JSON_PRESERVE_ORDER | JSON_COMPACT);
    } else {
        char b1[32], b2[32], b3[32];
        const char *result = jstr(rec, "result", b1, sizeof(b1));
        int severity = strcmp(result, "CKR_OK") == 0 ? 6 : 4;
        const char *event = jstr(rec, "event", b2, sizeof(b2));
        char msgid[33];
        size_t k = 0;
        for (const char *p = event; *p != '\0' && k < 32; p++)
            if (*p > 32 && *p < 127)
                msgid[k++] = *p;
        msgid[k] = '\0';
        const char *pid = jstr(rec, "pid", b3, sizeof(b3));
        char seqb[32];
        const char *seq = jstr(rec, "seq", seqb, sizeof(seqb));
        fprintf(e->out,
                "<%d>1 %s %s craton-hsm %s %s [craton@" SYSLOG_PEN " seq=\"%s\" "
                "result=\"%s\"] ",
                SYSLOG_FACILITY * 8 + severity, jstr(rec, "ts", b1, sizeof(b1)), e->host, pid,
                k ? msgid : "-", seq, result);
        fwrite(line, 1, len, e->out);
        fputc('\n', e->out);
    }
    json_decref(rec);
    e->n++;
    return ADM_OK;
}

static int cmd_export(struct admin *a, int argc, char **argv)
{
    const char *log = NULL, *format = NULL, *out_path = NULL;
    bool force = false;
    const struct adm_opt opts[] = {
        {"log", 0, &log, NULL},
        {"format", 0, &format, NULL},
        {"out", 'o', &out_path, NULL},
        {"force", 0, NULL, &force},
        {0},
    };
    char path[CRATON_PATH_MAX];
    struct exporter e;
    char *buf = NULL;
    size_t buflen = 0;
    memset(&e, 0, sizeof(e));
    int rc = adm_parse(a, "audit export", help_export, argc, argv, opts, NULL, 0, NULL);
    if (rc != ADM_OK)
        return rc;
    if (format == NULL)
        return adm_usage_error("audit export ", "--format json|ndjson|syslog is required");
    if (strcmp(format, "json") == 0)
        e.fmt = FMT_JSON;
    else if (strcmp(format, "ndjson") == 0)
        e.fmt = FMT_NDJSON;
    else if (strcmp(format, "syslog") == 0)
        e.fmt = FMT_SYSLOG;
    else
        return adm_usage_error("audit export ", "--format is json, ndjson or syslog, not '%s'",
                               format);
    if (out_path != NULL && strcmp(out_path, "-") != 0 && !force && access(out_path, F_OK) == 0)
        return adm_error("%s already exists: choose another name or pass --force", out_path);
    if ((rc = log_path(a, log, path, sizeof(path))) != ADM_OK)
        return rc;
    if (gethostname(e.host, sizeof(e.host) - 1) != 0 || e.host[0] == '\0')
        snprintf(e.host, sizeof(e.host), "-");
    e.out = open_memstream(&buf, &buflen);
    if (e.out == NULL)
        return adm_error("out of memory");
    rc = each_line(path, export_line, &e);
    if (rc == ADM_OK && e.fmt == FMT_JSON)
        fputs(e.n == 0 ? "[]\n" : "\n]\n", e.out);
    if (fclose(e.out) != 0 && rc == ADM_OK)
        rc = adm_error("out of memory");
    if (rc == ADM_OK)
        rc = adm_write_file(out_path != NULL ? out_path : "-", buf, buflen, 0600, force);
    if (rc == ADM_OK && out_path != NULL && strcmp(out_path, "-") != 0)
        fprintf(stderr, "Exported %lu record(s) to %s.\n", e.n, out_path);
    free(buf);
    return rc;
}

int cmd_audit(struct admin *a, int argc, char **argv)
{
    static const struct adm_cmd sub[] = {
        {"verify", cmd_verify, ""},
        {"show", cmd_show, ""},
        {"export", cmd_export, ""},
    };
    return adm_dispatch(a, "audit", sub, sizeof(sub) / sizeof(sub[0]), help_audit, argc, argv);
}
