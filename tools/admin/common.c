/* craton-admin's shared helpers: options, module loading, PINs, files. */
#include "admin.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/ck_names.h"
#include "craton/advice.h"

/* ---- messages ---- */

static void vmsg(const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", ADM_PROG);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int adm_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
    return ADM_FAIL;
}

int adm_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
    fprintf(stderr, "See '%s %s--help'.\n", ADM_PROG, cmd);
    return ADM_USAGE;
}

const char *adm_rv_name(CK_RV rv)
{
    return ck_rv_name(rv);
}

int adm_ck_error(struct admin *a, CK_RV rv, CK_USER_TYPE who, const char *fmt, ...)
{
    (void)a;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", ADM_PROG);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, ": %s\n", adm_rv_name(rv));
    const char *advice = craton_pin_advice(rv, who);
    if (advice != NULL && who != (CK_USER_TYPE)-1)
        fprintf(stderr, "%s: %s\n", ADM_PROG, advice);
    else if (rv == CKR_GENERAL_ERROR)
        fprintf(stderr, "%s: the module may be in its error state: see '%s status'\n", ADM_PROG,
                ADM_PROG);
    else if (rv == CKR_SESSION_EXISTS)
        fprintf(stderr, "%s: close the applications using the slot first\n", ADM_PROG);
    return ADM_FAIL;
}

static CK_FLAGS token_flags(struct admin *a, CK_SLOT_ID slot)
{
    CK_TOKEN_INFO ti;
    if (a->p11->C_GetTokenInfo(slot, &ti) != CKR_OK)
        return 0;
    return ti.flags;
}

int adm_pin_error(struct admin *a, CK_SLOT_ID slot, CK_USER_TYPE who, CK_RV rv, const char *what)
{
    const char *role = who == CKU_SO ? "SO" : "user";
    unsigned long s = (unsigned long)slot;
    CK_FLAGS f;
    switch (rv) {
    case CKR_PIN_INCORRECT:
        f = token_flags(a, slot);
        adm_error("%s: wrong %s PIN for slot %lu (CKR_PIN_INCORRECT)", what, role, s);
        if (f & (who == CKU_SO ? CKF_SO_PIN_FINAL_TRY : CKF_USER_PIN_FINAL_TRY))
            adm_error("one more wrong %s PIN locks it", role);
        break;
    case CKR_PIN_LOCKED:
        adm_error("%s: the %s PIN of slot %lu is locked (CKR_PIN_LOCKED)", what, role, s);
        if (who == CKU_SO)
            adm_error("the SO PIN cannot be unlocked: the only remedy is re-initialising the "
                      "token: %s token init --wipe-locked --slot %lu (destroys every object "
                      "of the slot and both PINs)",
                      ADM_PROG, s);
        else
            adm_error("reset it with %s pin reset --slot %lu (needs the SO PIN)", ADM_PROG, s);
        break;
    case CKR_USER_PIN_NOT_INITIALIZED:
        adm_error("%s: slot %lu has no user PIN yet (CKR_USER_PIN_NOT_INITIALIZED)", what, s);
        adm_error("the SO sets it with %s pin init --slot %lu", ADM_PROG, s);
        break;
    case CKR_TOKEN_NOT_RECOGNIZED:
        adm_error("%s: slot %lu holds no initialised token (CKR_TOKEN_NOT_RECOGNIZED)", what, s);
        adm_error("initialise it with %s token init --slot %lu --label LABEL", ADM_PROG, s);
        break;
    case CKR_PIN_LEN_RANGE:
    case CKR_PIN_INVALID:
        adm_error("%s: the new PIN was refused (%s)", what, adm_rv_name(rv));
        adm_error("PINs need [security] pin_min_length..pin_max_length bytes (see '%s token "
                  "info') and, when printable, at least 3 different characters of 2 kinds",
                  ADM_PROG);
        break;
    default:
        adm_ck_error(a, rv, who, "%s", what);
        break;
    }
    return ADM_FAIL;
}

/* ---- options ---- */

int adm_parse_ulong(const char *s, unsigned long *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    unsigned long v = 0;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        unsigned d = (unsigned)(*p - '0');
        if (v > (~0UL - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* The global options, accepted by every command. */
static int global_opt(struct admin *a, const char *cmd, const char *name, const char *val,
                      bool *took_value, bool *matched)
{
    *matched = true;
    *took_value = false;
    if (strcmp(name, "json") == 0) {
        a->json = true;
        return val == NULL ? ADM_OK : adm_usage_error(cmd, "--json takes no value");
    }
    if (strcmp(name, "module") != 0 && strcmp(name, "config") != 0 && strcmp(name, "slot") != 0) {
        *matched = false;
        return ADM_OK;
    }
    if (val == NULL)
        return adm_usage_error(cmd, "--%s needs a value", name);
    *took_value = true;
    if (name[0] == 'm') {
        a->module_path = val;
    } else if (name[0] == 'c') {
        a->config = val;
    } else {
        unsigned long v;
        if (adm_parse_ulong(val, &v) != 0)
            return adm_usage_error(cmd, "--slot wants a slot number (0, 1, ...), not '%s'", val);
        a->slot = v;
        a->slot_set = true;
    }
    return ADM_OK;
}

int adm_parse(struct admin *a, const char *cmd, const char *usage, int argc, char **argv,
              const struct adm_opt *opts, const char **pos, int max_pos, int *npos)
{
    char cmdsp[64];
    snprintf(cmdsp, sizeof(cmdsp), "%s ", cmd);
    int n = 0;
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (only_pos || arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (pos == NULL || n >= max_pos)
                return adm_usage_error(cmdsp, "unexpected argument '%s'", arg);
            pos[n++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(usage, stdout);
            return ADM_HELP;
        }
        char name[64];
        const char *inline_val = NULL;
        const struct adm_opt *o = NULL;
        if (arg[1] != '-') { /* -n VALUE */
            if (arg[2] != '\0')
                return adm_usage_error(cmdsp, "unknown option '%s'", arg);
            for (const struct adm_opt *p = opts; p != NULL && p->name != NULL; p++)
                if (p->short_name != 0 && p->short_name == arg[1])
                    o = p;
            if (o == NULL)
                return adm_usage_error(cmdsp, "unknown option '%s'", arg);
            snprintf(name, sizeof(name), "%s", o->name);
        } else {
            const char *eq = strchr(arg + 2, '=');
            size_t len = eq != NULL ? (size_t)(eq - arg - 2) : strlen(arg + 2);
            if (len == 0 || len >= sizeof(name))
                return adm_usage_error(cmdsp, "unknown option '%s'", arg);
            memcpy(name, arg + 2, len);
            name[len] = '\0';
            inline_val = eq != NULL ? eq + 1 : NULL;
            for (const struct adm_opt *p = opts; p != NULL && p->name != NULL; p++)
                if (strcmp(p->name, name) == 0)
                    o = p;
        }
        if (o == NULL) {
            bool took, matched;
            const char *val = inline_val;
            bool wants = strcmp(name, "json") != 0;
            if (val == NULL && wants && i + 1 < argc)
                val = argv[i + 1];
            int rc = global_opt(a, cmdsp, name, wants ? val : inline_val, &took, &matched);
            if (rc != ADM_OK)
                return rc;
            if (!matched)
                return adm_usage_error(cmdsp, "unknown option '--%s'", name);
            if (took && inline_val == NULL)
                i++;
            continue;
        }
        if (o->flag != NULL) {
            if (inline_val != NULL)
                return adm_usage_error(cmdsp, "--%s takes no value", name);
            *o->flag = true;
            continue;
        }
        if (inline_val == NULL) {
            if (i + 1 >= argc)
                return adm_usage_error(cmdsp, "--%s needs a value", name);
            inline_val = argv[++i];
        }
        *o->value = inline_val;
    }
    if (npos != NULL)
        *npos = n;
    return ADM_OK;
}

int adm_dispatch(struct admin *a, const char *cmd, const struct adm_cmd *table, size_t n,
                 const char *help, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? ADM_USAGE : ADM_OK;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(argv[1], table[i].name) == 0)
            return table[i].run(a, argc - 1, argv + 1);
    char cmdsp[64];
    snprintf(cmdsp, sizeof(cmdsp), "%s ", cmd);
    return adm_usage_error(cmdsp, "'%s' is not a %s subcommand", argv[1], cmd);
}

/* ---- the module ---- */

/* The module beside the binary: <bindir>/../lib (an installation) or
 * <bindir>/../../lib (the build tree: build/tools/admin -> build/lib). */
static int default_module(struct admin *a, char *out, size_t outlen)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *dir = dirname(exe);
    static const char *const rel[] = {"../lib/" ADM_MODULE, "../../lib/" ADM_MODULE};
    for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
        int w = snprintf(out, outlen, "%s/%s", dir, rel[i]);
        if (w > 0 && (size_t)w < outlen && access(out, R_OK) == 0)
            return 0;
    }
    (void)a;
    return -1;
}

int adm_load(struct admin *a, bool init)
{
    CK_RV rv;
    const char *path = a->module_path;
    if (path == NULL || path[0] == '\0')
        path = getenv("CRATON_MODULE");
    if (path == NULL || path[0] == '\0') {
        if (default_module(a, a->loaded_path, sizeof(a->loaded_path)) != 0)
            return adm_error("cannot find %s beside the program (../lib or ../../lib): name "
                             "it with --module PATH or CRATON_MODULE",
                             ADM_MODULE);
    } else {
        snprintf(a->loaded_path, sizeof(a->loaded_path), "%s", path);
    }
    if (a->config != NULL && setenv("CRATON_HSM_CONFIG", a->config, 1) != 0)
        return adm_error("cannot set CRATON_HSM_CONFIG: %s", strerror(errno));

    a->dl = dlopen(a->loaded_path, RTLD_NOW | RTLD_LOCAL);
    if (a->dl == NULL)
        return adm_error("cannot load the module %s: %s (check --module / CRATON_MODULE)",
                         a->loaded_path, dlerror());
    CK_C_GetInterface get = (CK_C_GetInterface)dlsym(a->dl, "C_GetInterface");
    if (get == NULL)
        return adm_error("%s has no C_GetInterface: not a PKCS#11 3.x module", a->loaded_path);
    CK_INTERFACE_PTR itf = NULL;
    CK_VERSION v32 = {3, 2};
    rv = get((CK_UTF8CHAR_PTR) "PKCS 11", &v32, &itf, 0);
    if (rv != CKR_OK || itf == NULL)
        return adm_error("%s offers no PKCS#11 3.2 interface (%s)", a->loaded_path,
                         adm_rv_name(rv));
    a->p11 = (CK_FUNCTION_LIST_3_2 *)itf->pFunctionList;
    itf = NULL;
    rv = get((CK_UTF8CHAR_PTR)CRATON_ADMIN_INTERFACE_NAME, NULL, &itf, 0);
    if (rv == CKR_OK && itf != NULL) {
        CK_CRATON_ADMIN_FUNCTION_LIST *v = itf->pFunctionList;
        if (v->version.major == CRATON_ADMIN_VERSION_MAJOR)
            a->vendor = v;
    }
    if (!init)
        return ADM_OK;
    CK_C_INITIALIZE_ARGS args = {0};
    args.flags = CKF_OS_LOCKING_OK;
    rv = a->p11->C_Initialize(&args);
    if (rv != CKR_OK) {
        adm_error("C_Initialize failed: %s", adm_rv_name(rv));
        CK_CRATON_STATUS st;
        memset(&st, 0, sizeof(st));
        if (a->vendor != NULL && a->vendor->CRATON_GetStatus(&st) == CKR_OK &&
            st.error_reason[0] != '\0')
            adm_error("reason: %.*s", (int)sizeof(st.error_reason), st.error_reason);
        return adm_error("the module's message above names the cause; check the configuration "
                         "with '%s config check' and that no other process holds the store",
                         ADM_PROG);
    }
    a->initialized = true;
    return ADM_OK;
}

void adm_unload(struct admin *a)
{
    if (a->initialized) {
        CK_RV rv = a->p11->C_Finalize(NULL);
        if (rv != CKR_OK)
            adm_error("C_Finalize: %s", adm_rv_name(rv));
        a->initialized = false;
    }
    if (a->dl != NULL)
        dlclose(a->dl);
    a->dl = NULL;
    a->p11 = NULL;
    a->vendor = NULL;
}

CK_CRATON_ADMIN_FUNCTION_LIST *adm_vendor(struct admin *a, const char *what)
{
    if (a->vendor == NULL)
        adm_error("%s needs the module's \"%s\" interface, which %s does not offer (an older "
                  "module?)",
                  what, CRATON_ADMIN_INTERFACE_NAME, a->loaded_path);
    return a->vendor;
}

int adm_slot_list(struct admin *a, CK_SLOT_ID **slots, CK_ULONG *n)
{
    *slots = NULL;
    *n = 0;
    CK_RV rv = a->p11->C_GetSlotList(CK_FALSE, NULL, n);
    if (rv != CKR_OK)
        return adm_ck_error(a, rv, (CK_USER_TYPE)-1, "C_GetSlotList");
    *slots = calloc(*n + 1, sizeof(**slots));
    if (*slots == NULL)
        return adm_error("out of memory");
    rv = a->p11->C_GetSlotList(CK_FALSE, *slots, n);
    if (rv != CKR_OK) {
        free(*slots);
        *slots = NULL;
        return adm_ck_error(a, rv, (CK_USER_TYPE)-1, "C_GetSlotList");
    }
    return ADM_OK;
}

int adm_pick_slot(struct admin *a, CK_SLOT_ID *slot)
{
    CK_SLOT_ID *slots;
    CK_ULONG n;
    int rc = adm_slot_list(a, &slots, &n);
    if (rc != ADM_OK)
        return rc;
    rc = ADM_FAIL;
    if (n == 0) {
        adm_error("the module reports no slots");
        goto out;
    }
    if (!a->slot_set) {
        *slot = slots[0];
        rc = ADM_OK;
        goto out;
    }
    for (CK_ULONG i = 0; i < n; i++)
        if (slots[i] == a->slot) {
            *slot = a->slot;
            rc = ADM_OK;
            goto out;
        }
    adm_error("there is no slot %lu (slots: 0..%lu; [token] slot_count sets how many)",
              (unsigned long)a->slot, (unsigned long)slots[n - 1]);
out:
    free(slots);
    return rc;
}

int adm_open_session(struct admin *a, CK_SLOT_ID slot, bool rw, CK_SESSION_HANDLE *s)
{
    CK_FLAGS f = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);
    CK_RV rv = a->p11->C_OpenSession(slot, f, NULL, NULL, s);
    if (rv == CKR_TOKEN_NOT_RECOGNIZED)
        return adm_pin_error(a, slot, CKU_USER, rv, "C_OpenSession");
    if (rv != CKR_OK)
        return adm_ck_error(a, rv, (CK_USER_TYPE)-1, "C_OpenSession on slot %lu",
                            (unsigned long)slot);
    return ADM_OK;
}

int adm_login(struct admin *a, CK_SESSION_HANDLE s, CK_SLOT_ID slot, CK_USER_TYPE who,
              const struct adm_secret *pin)
{
    CK_RV rv = a->p11->C_Login(s, who, (CK_UTF8CHAR_PTR)pin->v, (CK_ULONG)pin->len);
    if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
        return ADM_OK;
    return adm_pin_error(a, slot, who, rv, who == CKU_SO ? "C_Login as SO" : "C_Login as user");
}

/* ---- secrets ---- */

void adm_secret_wipe(struct adm_secret *s)
{
    OPENSSL_cleanse(s, sizeof(*s));
}

/* Strips one trailing "\n" (or "\r\n"). */
static void strip_newline(struct adm_secret *s)
{
    if (s->len > 0 && s->v[s->len - 1] == '\n') {
        s->v[--s->len] = '\0';
        if (s->len > 0 && s->v[s->len - 1] == '\r')
            s->v[--s->len] = '\0';
    }
}

/* One line of standard input into out (no echo on a terminal).  0, or -1 at
 * end of input / too long. */
static int read_line(const char *prompt, struct adm_secret *out, bool secret)
{
    int fd = fileno(stdin);
    bool tty = isatty(fd);
    struct termios old, quiet;
    bool restore = false;
    int rc = -1;
    char *got;

    fputs(prompt, stderr);
    fflush(stderr);
    if (tty && secret && tcgetattr(fd, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
    }
    got = fgets(out->v, sizeof(out->v), stdin);
    if (restore) {
        tcsetattr(fd, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (got == NULL)
        goto out;
    out->len = strlen(out->v);
    if (out->len == sizeof(out->v) - 1 && out->v[out->len - 1] != '\n')
        goto out; /* longer than ADM_SECRET_MAX */
    strip_newline(out);
    rc = 0;
out:
    if (rc != 0)
        adm_secret_wipe(out);
    return rc;
}

int adm_prompt_secret(const char *what, bool confirm, struct adm_secret *out)
{
    struct adm_secret again;
    char prompt[128];
    int rc = ADM_FAIL;
    memset(&again, 0, sizeof(again));
    snprintf(prompt, sizeof(prompt), "%s: ", what);
    if (read_line(prompt, out, true) != 0) {
        adm_error("no %s given on standard input (or longer than %d bytes)", what, ADM_SECRET_MAX);
        goto out;
    }
    if (confirm) {
        snprintf(prompt, sizeof(prompt), "Repeat the %s: ", what);
        if (read_line(prompt, &again, true) != 0) {
            adm_error("no confirmation of the %s on standard input", what);
            goto out;
        }
        if (again.len != out->len || CRYPTO_memcmp(again.v, out->v, out->len) != 0) {
            adm_error("the two %ss differ; nothing was changed", what);
            goto out;
        }
    }
    if (out->len == 0) {
        adm_error("empty %s", what);
        goto out;
    }
    rc = ADM_OK;
out:
    adm_secret_wipe(&again);
    if (rc != ADM_OK)
        adm_secret_wipe(out);
    return rc;
}

int adm_get_secret(const char *what, const char *file, const char *env, bool confirm,
                   struct adm_secret *out)
{
    memset(out, 0, sizeof(*out));
    if (file != NULL) {
        unsigned char *buf = NULL;
        size_t len = 0;
        if (adm_read_file(file, ADM_SECRET_MAX + 2, &buf, &len) != ADM_OK)
            return ADM_FAIL;
        int rc = ADM_OK;
        if (len > ADM_SECRET_MAX + 1) {
            rc = adm_error("%s: longer than %d bytes: not a %s file", file, ADM_SECRET_MAX, what);
        } else {
            memcpy(out->v, buf, len);
            out->len = len;
            strip_newline(out);
            if (out->len > ADM_SECRET_MAX || memchr(out->v, '\0', out->len) != NULL)
                rc = adm_error("%s: not a %s file (too long or binary)", file, what);
            else if (out->len == 0)
                rc = adm_error("%s: empty %s file", file, what);
        }
        OPENSSL_clear_free(buf, len);
        if (rc != ADM_OK)
            adm_secret_wipe(out);
        return rc;
    }
    const char *e = env != NULL ? getenv(env) : NULL;
    if (e != NULL && e[0] != '\0') {
        size_t len = strlen(e);
        if (len > ADM_SECRET_MAX)
            return adm_error("%s: longer than %d bytes", env, ADM_SECRET_MAX);
        memcpy(out->v, e, len);
        out->len = len;
        return ADM_OK;
    }
    return adm_prompt_secret(what, confirm, out);
}

bool adm_confirm(bool assume_yes, const char *fmt, ...)
{
    if (assume_yes)
        return true;
    char q[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    struct adm_secret ans;
    memset(&ans, 0, sizeof(ans));
    char prompt[520];
    snprintf(prompt, sizeof(prompt), "%s ", q);
    bool yes = read_line(prompt, &ans, false) == 0 &&
               (strcmp(ans.v, "y") == 0 || strcmp(ans.v, "Y") == 0 || strcmp(ans.v, "yes") == 0 ||
                strcmp(ans.v, "YES") == 0 || strcmp(ans.v, "Yes") == 0);
    adm_secret_wipe(&ans);
    return yes;
}

/* ---- files ---- */

int adm_read_file(const char *path, size_t max, unsigned char **buf, size_t *len)
{
    int rc = ADM_FAIL;
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    unsigned char *b = NULL;
    if (fd < 0) {
        adm_error("%s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        adm_error("%s: not a regular file", path);
        goto out;
    }
    if ((size_t)st.st_size > max) {
        adm_error("%s: too large (%lld bytes; at most %zu)", path, (long long)st.st_size, max);
        goto out;
    }
    b = malloc((size_t)st.st_size + 1);
    if (b == NULL) {
        adm_error("out of memory");
        goto out;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, b + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            adm_error("%s: read error: %s", path, r < 0 ? strerror(errno) : "file shrank");
            goto out;
        }
        got += (size_t)r;
    }
    b[got] = '\0';
    *buf = b;
    *len = got;
    b = NULL;
    rc = ADM_OK;
out:
    if (b != NULL)
        OPENSSL_clear_free(b, (size_t)st.st_size + 1);
    if (fd >= 0)
        close(fd);
    return rc;
}

static int write_all(int fd, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int adm_write_file(const char *path, const void *data, size_t len, unsigned mode, bool force)
{
    if (strcmp(path, "-") == 0) {
        if (write_all(STDOUT_FILENO, data, len) != 0)
            return adm_error("cannot write to standard output: %s", strerror(errno));
        return ADM_OK;
    }
    int rc = ADM_FAIL;
    char *tmp = NULL, *dircopy = NULL;
    int fd = -1, dfd = -1;
    struct stat st;
    if (!force && lstat(path, &st) == 0) {
        adm_error("%s already exists: choose another name or pass --force to replace it", path);
        goto out;
    }
    if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0) {
        tmp = NULL;
        adm_error("out of memory");
        goto out;
    }
    fd = mkstemp(tmp);
    if (fd < 0) {
        adm_error("%s: cannot create a temporary file beside it: %s", path, strerror(errno));
        free(tmp);
        tmp = NULL;
        goto out;
    }
    if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        adm_error("%s: cannot write: %s", tmp, strerror(errno));
        goto out;
    }
    close(fd);
    fd = -1;
    if (force) {
        if (rename(tmp, path) != 0) {
            adm_error("%s: cannot rename into place: %s", path, strerror(errno));
            goto out;
        }
    } else {
        if (link(tmp, path) != 0) {
            adm_error("%s: cannot create: %s%s", path, strerror(errno),
                      errno == EEXIST ? " (pass --force to replace it)" : "");
            goto out;
        }
        unlink(tmp);
    }
    free(tmp);
    tmp = NULL;
    dircopy = strdup(path);
    if (dircopy != NULL) {
        dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
            (void)fsync(dfd);
    }
    rc = ADM_OK;
out:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    if (tmp != NULL) {
        unlink(tmp);
        free(tmp);
    }
    free(dircopy);
    return rc;
}

/* ---- output ---- */

int adm_json_print(json_t *v)
{
    if (v == NULL)
        return adm_error("out of memory");
    int rc = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? ADM_OK : ADM_FAIL;
    fputc('\n', stdout);
    json_decref(v);
    return rc;
}

void adm_trim(const CK_UTF8CHAR *p, size_t n, char *out)
{
    memcpy(out, p, n);
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\0'))
        n--;
    out[n] = '\0';
}

char *adm_hex(const unsigned char *v, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(2 * len + 1);
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        s[2 * i] = digits[v[i] >> 4];
        s[2 * i + 1] = digits[v[i] & 15];
    }
    s[2 * len] = '\0';
    return s;
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int adm_unhex(const char *hex, unsigned char *out, size_t max, size_t *len)
{
    size_t n = strlen(hex);
    if (n == 0 || n % 2 != 0 || n / 2 > max)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    *len = n / 2;
    return 0;
}

static const struct {
    CK_FLAGS flag;
    const char *name;
} token_flag_names[] = {
    {CKF_RNG, "RNG"},
    {CKF_WRITE_PROTECTED, "WRITE_PROTECTED"},
    {CKF_LOGIN_REQUIRED, "LOGIN_REQUIRED"},
    {CKF_USER_PIN_INITIALIZED, "USER_PIN_INITIALIZED"},
    {CKF_RESTORE_KEY_NOT_NEEDED, "RESTORE_KEY_NOT_NEEDED"},
    {CKF_CLOCK_ON_TOKEN, "CLOCK_ON_TOKEN"},
    {CKF_PROTECTED_AUTHENTICATION_PATH, "PROTECTED_AUTHENTICATION_PATH"},
    {CKF_DUAL_CRYPTO_OPERATIONS, "DUAL_CRYPTO_OPERATIONS"},
    {CKF_TOKEN_INITIALIZED, "TOKEN_INITIALIZED"},
    {CKF_SECONDARY_AUTHENTICATION, "SECONDARY_AUTHENTICATION"},
    {CKF_USER_PIN_COUNT_LOW, "USER_PIN_COUNT_LOW"},
    {CKF_USER_PIN_FINAL_TRY, "USER_PIN_FINAL_TRY"},
    {CKF_USER_PIN_LOCKED, "USER_PIN_LOCKED"},
    {CKF_USER_PIN_TO_BE_CHANGED, "USER_PIN_TO_BE_CHANGED"},
    {CKF_SO_PIN_COUNT_LOW, "SO_PIN_COUNT_LOW"},
    {CKF_SO_PIN_FINAL_TRY, "SO_PIN_FINAL_TRY"},
    {CKF_SO_PIN_LOCKED, "SO_PIN_LOCKED"},
    {CKF_SO_PIN_TO_BE_CHANGED, "SO_PIN_TO_BE_CHANGED"},
    {CKF_ERROR_STATE, "ERROR_STATE"},
    {CKF_SEED_RANDOM_REQUIRED, "SEED_RANDOM_REQUIRED"},
    {CKF_ASYNC_SESSION_SUPPORTED, "ASYNC_SESSION_SUPPORTED"},
};

void adm_token_flags(CK_FLAGS f, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(token_flag_names) / sizeof(token_flag_names[0]); i++) {
        if (!(f & token_flag_names[i].flag))
            continue;
        int w =
            snprintf(out + used, outlen - used, "%s%s", used ? " " : "", token_flag_names[i].name);
        if (w < 0 || (size_t)w >= outlen - used)
            break;
        used += (size_t)w;
    }
}

json_t *adm_token_flags_json(CK_FLAGS f)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < sizeof(token_flag_names) / sizeof(token_flag_names[0]);
         i++)
        if (f & token_flag_names[i].flag)
            json_array_append_new(arr, json_string(token_flag_names[i].name));
    return arr;
}
