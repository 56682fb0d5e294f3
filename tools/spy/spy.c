/*
 * libcraton_pkcs11_spy.so: a PKCS#11 module that loads the module named by
 * CRATON_SPY_MODULE, forwards every call to it and logs each call as one JSON
 * line to CRATON_SPY_LOG (or stderr).
 *
 * This file holds the hand-written part: loading the target, the log, the
 * argument decoders used by the generated wrappers (spy_gen.c) and the three
 * exported entry points, which hand out the spy's own function lists, so an
 * application that got them never calls the target directly.
 *
 * Secrets: PIN bytes are never read; byte buffers (data, signatures,
 * ciphertexts, wrapped keys, random, seeds, state) are logged by length only;
 * attribute values are shown only for a fixed list of non-secret attribute
 * types (attr_rules), every other attribute is logged as redacted.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/ck_names.h"
#include "spy.h"

#define SPY_EXPORT __attribute__((visibility("default")))

#define SPY_LINE_MAX   (1024 * 1024) /* a longer line is logged without its args */
#define SPY_HEX_MAX    1024          /* bytes of a public attribute value shown */
#define SPY_TEXT_MAX   1024          /* bytes of a text value shown */
#define SPY_LIST_MAX   512           /* entries of a slot/mechanism/handle list shown */
#define SPY_ATTRS_MAX  256           /* attributes of a template shown */
#define SPY_MAX_IFACES 3

#define SPY_INTERFACE_NAME "PKCS 11"

/* ------------------------------------------------------------------------ */
/* Text buffer                                                              */

static void buf_put(struct spy_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (n > SPY_LINE_MAX || b->len + n + 1 > SPY_LINE_MAX) {
        b->failed = 1;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap != 0 ? b->cap : 512;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_puts(struct spy_buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void buf_printf(struct spy_buf *b, const char *fmt,
                                                             ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        b->failed = 1;
        return;
    }
    buf_put(b, tmp, (size_t)n);
}

static void buf_ulong(struct spy_buf *b, CK_ULONG v)
{
    buf_printf(b, "%lu", v);
}

static void buf_free(struct spy_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned min;
    unsigned cp;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2, cp = s[0] & 0x1Fu, min = 0x80;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3, cp = s[0] & 0x0Fu, min = 0x800;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4, cp = s[0] & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* s[0..n) as a JSON string: escapes, valid UTF-8 kept, invalid bytes as
 * U+FFFD. */
static void buf_json_str(struct spy_buf *b, const unsigned char *s, size_t n)
{
    buf_put(b, "\"", 1);
    for (size_t i = 0; i < n && !b->failed;) {
        unsigned char ch = s[i];
        if (ch == '"' || ch == '\\') {
            char esc[2] = {'\\', (char)ch};
            buf_put(b, esc, 2);
            i++;
        } else if (ch < 0x20 || ch == 0x7F) {
            buf_printf(b, "\\u%04x", ch);
            i++;
        } else if (ch < 0x80) {
            buf_put(b, (const char *)&s[i], 1);
            i++;
        } else {
            size_t k = utf8_seq(s + i, n - i);
            if (k == 0) {
                buf_puts(b, "\\ufffd");
                i++;
            } else {
                buf_put(b, (const char *)&s[i], k);
                i += k;
            }
        }
    }
    buf_put(b, "\"", 1);
}

static void buf_cstr(struct spy_buf *b, const char *s)
{
    buf_json_str(b, (const unsigned char *)s, strlen(s));
}

static void buf_hex(struct spy_buf *b, const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char pair[2];
    buf_put(b, "\"", 1);
    for (size_t i = 0; i < n && !b->failed; i++) {
        pair[0] = digits[p[i] >> 4];
        pair[1] = digits[p[i] & 0x0F];
        buf_put(b, pair, 2);
    }
    buf_put(b, "\"", 1);
}

/* A blank-padded PKCS#11 text field, trailing blanks (and NULs) dropped. */
static void buf_padded(struct spy_buf *b, const CK_UTF8CHAR *p, size_t n)
{
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\0'))
        n--;
    buf_json_str(b, p, n);
}

static void buf_version(struct spy_buf *b, const CK_VERSION *v)
{
    buf_printf(b, "\"%u.%u\"", v->major, v->minor);
}

/* The name of a constant, or its number when the table does not know it. */
static void buf_named(struct spy_buf *b, const char *kind, CK_ULONG v)
{
    const char *n = ck_name(kind, v);
    if (n != NULL)
        buf_cstr(b, n);
    else
        buf_ulong(b, v);
}

/* ------------------------------------------------------------------------ */
/* Flags                                                                    */

struct flag_name {
    CK_FLAGS bit;
    const char *name;
};

/* clang-format off */
#define FLAG(f) {f, #f}
/* clang-format on */
static const struct flag_name session_flags[] = {FLAG(CKF_RW_SESSION), FLAG(CKF_SERIAL_SESSION),
                                                 FLAG(CKF_ASYNC_SESSION)};
static const struct flag_name mech_flags[] = {FLAG(CKF_HW),
                                              FLAG(CKF_MESSAGE_ENCRYPT),
                                              FLAG(CKF_MESSAGE_DECRYPT),
                                              FLAG(CKF_MESSAGE_SIGN),
                                              FLAG(CKF_MESSAGE_VERIFY),
                                              FLAG(CKF_MULTI_MESSAGE),
                                              FLAG(CKF_FIND_OBJECTS),
                                              FLAG(CKF_ENCRYPT),
                                              FLAG(CKF_DECRYPT),
                                              FLAG(CKF_DIGEST),
                                              FLAG(CKF_SIGN),
                                              FLAG(CKF_SIGN_RECOVER),
                                              FLAG(CKF_VERIFY),
                                              FLAG(CKF_VERIFY_RECOVER),
                                              FLAG(CKF_GENERATE),
                                              FLAG(CKF_GENERATE_KEY_PAIR),
                                              FLAG(CKF_WRAP),
                                              FLAG(CKF_UNWRAP),
                                              FLAG(CKF_DERIVE),
                                              FLAG(CKF_EC_F_P),
                                              FLAG(CKF_EC_F_2M),
                                              FLAG(CKF_EC_ECPARAMETERS),
                                              FLAG(CKF_EC_OID),
                                              FLAG(CKF_EC_UNCOMPRESS),
                                              FLAG(CKF_EC_COMPRESS),
                                              FLAG(CKF_EC_CURVENAME),
                                              FLAG(CKF_ENCAPSULATE),
                                              FLAG(CKF_DECAPSULATE),
                                              FLAG(CKF_EXTENSION)};
static const struct flag_name token_flags[] = {FLAG(CKF_RNG),
                                               FLAG(CKF_WRITE_PROTECTED),
                                               FLAG(CKF_LOGIN_REQUIRED),
                                               FLAG(CKF_USER_PIN_INITIALIZED),
                                               FLAG(CKF_RESTORE_KEY_NOT_NEEDED),
                                               FLAG(CKF_CLOCK_ON_TOKEN),
                                               FLAG(CKF_PROTECTED_AUTHENTICATION_PATH),
                                               FLAG(CKF_DUAL_CRYPTO_OPERATIONS),
                                               FLAG(CKF_TOKEN_INITIALIZED),
                                               FLAG(CKF_SECONDARY_AUTHENTICATION),
                                               FLAG(CKF_USER_PIN_COUNT_LOW),
                                               FLAG(CKF_USER_PIN_FINAL_TRY),
                                               FLAG(CKF_USER_PIN_LOCKED),
                                               FLAG(CKF_USER_PIN_TO_BE_CHANGED),
                                               FLAG(CKF_SO_PIN_COUNT_LOW),
                                               FLAG(CKF_SO_PIN_FINAL_TRY),
                                               FLAG(CKF_SO_PIN_LOCKED),
                                               FLAG(CKF_SO_PIN_TO_BE_CHANGED),
                                               FLAG(CKF_ERROR_STATE),
                                               FLAG(CKF_SEED_RANDOM_REQUIRED),
                                               FLAG(CKF_ASYNC_SESSION_SUPPORTED)};
static const struct flag_name slot_flags[] = {FLAG(CKF_TOKEN_PRESENT), FLAG(CKF_REMOVABLE_DEVICE),
                                              FLAG(CKF_HW_SLOT)};
static const struct flag_name message_flags[] = {FLAG(CKF_END_OF_MESSAGE)};
static const struct flag_name interface_flags[] = {FLAG(CKF_INTERFACE_FORK_SAFE)};
static const struct flag_name wait_flags[] = {FLAG(CKF_DONT_BLOCK)};
static const struct flag_name init_flags[] = {FLAG(CKF_LIBRARY_CANT_CREATE_OS_THREADS),
                                              FLAG(CKF_OS_LOCKING_OK)};
#undef FLAG

#define FLAGS_OF(t) t, sizeof(t) / sizeof((t)[0])

/* {"value":n,"names":[...]} from a table, or the plain number. */
static void buf_flags_table(struct spy_buf *b, CK_FLAGS v, const struct flag_name *t, size_t n)
{
    if (t == NULL) {
        buf_ulong(b, v);
        return;
    }
    buf_printf(b, "{\"value\":%lu,\"names\":[", v);
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        if ((v & t[i].bit) != t[i].bit)
            continue;
        if (!first)
            buf_put(b, ",", 1);
        buf_cstr(b, t[i].name);
        first = 0;
    }
    buf_puts(b, "]}");
}

static void buf_flags(struct spy_buf *b, CK_FLAGS v, enum spy_flags kind)
{
    switch (kind) {
    case SPY_FLAGS_SESSION:
        buf_flags_table(b, v, FLAGS_OF(session_flags));
        break;
    case SPY_FLAGS_MECH:
        buf_flags_table(b, v, FLAGS_OF(mech_flags));
        break;
    case SPY_FLAGS_TOKEN:
        buf_flags_table(b, v, FLAGS_OF(token_flags));
        break;
    case SPY_FLAGS_SLOT:
        buf_flags_table(b, v, FLAGS_OF(slot_flags));
        break;
    case SPY_FLAGS_MESSAGE:
        buf_flags_table(b, v, FLAGS_OF(message_flags));
        break;
    case SPY_FLAGS_INTERFACE:
        buf_flags_table(b, v, FLAGS_OF(interface_flags));
        break;
    case SPY_FLAGS_WAIT:
        buf_flags_table(b, v, FLAGS_OF(wait_flags));
        break;
    case SPY_FLAGS_NONE:
    default:
        buf_flags_table(b, v, NULL, 0);
        break;
    }
}

/* ------------------------------------------------------------------------ */
/* Diagnostics and the log                                                  */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static int log_fd = STDERR_FILENO;

/* Writes all of s to fd (retrying on EINTR and short writes). */
static void write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* One line "craton-spy: <message>\n" on stderr, in one write. */
__attribute__((format(printf, 1, 2))) static void spy_warn(const char *fmt, ...)
{
    char line[1024];
    int n = snprintf(line, sizeof(line), "craton-spy: ");
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    write_all(STDERR_FILENO, line, len);
}

/* A fork while another thread writes must not leave the child's lock held. */
static void log_prefork(void)
{
    pthread_mutex_lock(&log_lock);
}

static void log_postfork(void)
{
    pthread_mutex_unlock(&log_lock);
}

static void log_open(void)
{
    const char *path = getenv("CRATON_SPY_LOG");
    if (path != NULL && path[0] != '\0') {
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
            spy_warn("cannot open CRATON_SPY_LOG=%s (%s); logging to stderr", path,
                     strerror(errno));
        else
            log_fd = fd;
    }
    if (pthread_atfork(log_prefork, log_postfork, log_postfork) != 0)
        spy_warn("pthread_atfork failed; a fork during a call may hang the child's log");
}

static void log_line(const char *s, size_t n)
{
    pthread_once(&log_once, log_open);
    pthread_mutex_lock(&log_lock);
    write_all(log_fd, s, n);
    pthread_mutex_unlock(&log_lock);
}

/* ------------------------------------------------------------------------ */
/* The target module                                                        */

static struct {
    void *dl;
    const CK_FUNCTION_LIST_3_2 *list; /* the best list; really of `version` */
    unsigned version;                 /* SPY_V2_40, SPY_V3_0 or SPY_V3_2 */
    CK_INTERFACE interfaces[SPY_MAX_IFACES];
    CK_ULONG interface_count;
} target;
static pthread_once_t target_once = PTHREAD_ONCE_INIT;

/* The target's interface of version major.minor through its C_GetInterface,
 * or NULL. */
static CK_INTERFACE *target_interface(CK_C_GetInterface gi, CK_BYTE major, CK_BYTE minor)
{
    CK_VERSION v = {major, minor};
    CK_INTERFACE *itf = NULL;
    if (gi == NULL)
        return NULL;
    if (gi((CK_UTF8CHAR_PTR)SPY_INTERFACE_NAME, &v, &itf, 0) != CKR_OK || itf == NULL ||
        itf->pFunctionList == NULL)
        return NULL;
    return itf;
}

static void offer(void *list, CK_FLAGS flags)
{
    CK_INTERFACE *itf = &target.interfaces[target.interface_count++];
    itf->pInterfaceName = (CK_UTF8CHAR_PTR)SPY_INTERFACE_NAME;
    itf->pFunctionList = list;
    itf->flags = flags;
}

/* Loads CRATON_SPY_MODULE once per process and picks its best list: the 3.2
 * interface, else 3.0, else C_GetFunctionList's 2.40 list.  The spy offers
 * the same 3.x versions as the target, and always 2.40.  The handle is kept
 * for the life of the process. */
static void target_load(void)
{
    const char *path = getenv("CRATON_SPY_MODULE");
    void *dl = NULL;
    if (path == NULL || path[0] == '\0') {
        spy_warn("CRATON_SPY_MODULE is not set; set it to the path of the PKCS#11 module to "
                 "wrap");
        goto out;
    }
    dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL) {
        const char *err = dlerror();
        spy_warn("cannot load CRATON_SPY_MODULE=%s: %s", path, err != NULL ? err : "unknown");
        goto out;
    }
    CK_C_GetInterface gi = (CK_C_GetInterface)dlsym(dl, "C_GetInterface");
    CK_C_GetFunctionList gfl = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList");
    CK_INTERFACE *i32 = target_interface(gi, 3, 2);
    CK_INTERFACE *i30 = target_interface(gi, 3, 0);
    CK_FUNCTION_LIST_PTR l240 = NULL;
    if (gfl == NULL || gfl(&l240) != CKR_OK)
        l240 = NULL;
    if (i32 != NULL) {
        target.list = i32->pFunctionList;
        target.version = SPY_V3_2;
        offer(&spy_list_3_2, i32->flags);
    }
    if (i30 != NULL) {
        if (target.list == NULL) {
            target.list = i30->pFunctionList;
            target.version = SPY_V3_0;
        }
        offer(&spy_list_3_0, i30->flags);
    }
    if (target.list == NULL && l240 != NULL) {
        target.list = (const CK_FUNCTION_LIST_3_2 *)(const void *)l240;
        target.version = SPY_V2_40;
    }
    if (target.list == NULL) {
        spy_warn("CRATON_SPY_MODULE=%s offers no PKCS#11 function list (neither "
                 "C_GetInterface nor C_GetFunctionList works)",
                 path);
        goto out;
    }
    offer(&spy_list_2_40, 0);
    target.dl = dl;
    dl = NULL;
out:
    if (dl != NULL)
        dlclose(dl);
}

/* ------------------------------------------------------------------------ */
/* Calls                                                                    */

const CK_FUNCTION_LIST_3_2 *spy_begin(struct spy_call *c, const char *fn, unsigned since)
{
    memset(c, 0, sizeof(*c));
    c->fn = fn;
    pthread_once(&target_once, target_load);
    clock_gettime(CLOCK_REALTIME, &c->wall);
    clock_gettime(CLOCK_MONOTONIC, &c->start);
    c->stop = c->start;
    if (target.list == NULL || target.version < since)
        return NULL;
    return target.list;
}

CK_RV spy_missing(struct spy_call *c)
{
    if (target.list == NULL) {
        c->note = "no target module (CRATON_SPY_MODULE)";
        return CKR_GENERAL_ERROR;
    }
    c->note = "not supported by the target";
    return CKR_FUNCTION_NOT_SUPPORTED;
}

void spy_stop(struct spy_call *c)
{
    clock_gettime(CLOCK_MONOTONIC, &c->stop);
}

void spy_end(struct spy_call *c, CK_RV rv)
{
    struct spy_buf line = {0};
    struct tm tm;
    char when[32];
    long long us = (long long)(c->stop.tv_sec - c->start.tv_sec) * 1000000LL +
                   (c->stop.tv_nsec - c->start.tv_nsec) / 1000;

    if (gmtime_r(&c->wall.tv_sec, &tm) == NULL ||
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        snprintf(when, sizeof(when), "1970-01-01T00:00:00");
    buf_printf(&line, "{\"ts\":\"%s.%06ldZ\",\"pid\":%ld,\"tid\":%ld,\"fn\":", when,
               c->wall.tv_nsec / 1000, (long)getpid(), (long)syscall(SYS_gettid));
    buf_cstr(&line, c->fn);
    buf_puts(&line, ",\"args\":{");
    if (c->args.failed)
        buf_puts(&line, "\"truncated\":true");
    else if (c->args.len > 0)
        buf_put(&line, c->args.p, c->args.len);
    buf_puts(&line, "},\"rv\":");
    buf_cstr(&line, ck_rv_name(rv));
    buf_printf(&line, ",\"us\":%lld", us);
    if (c->note != NULL) {
        buf_puts(&line, ",\"note\":");
        buf_cstr(&line, c->note);
    }
    buf_puts(&line, "}\n");
    if (!line.failed)
        log_line(line.p, line.len);
    else
        spy_warn("cannot log a call to %s (out of memory)", c->fn);
    buf_free(&line);
    buf_free(&c->args);
}

/* ------------------------------------------------------------------------ */
/* Argument decoders                                                        */

/* Starts member name of the args object. */
static struct spy_buf *arg(struct spy_call *c, const char *name)
{
    struct spy_buf *b = &c->args;
    if (b->len > 0)
        buf_put(b, ",", 1);
    buf_cstr(b, name);
    buf_put(b, ":", 1);
    return b;
}

/* Whether an output of the target is there to decode after rv. */
static int written(CK_RV rv)
{
    return rv == CKR_OK;
}

static int length_written(CK_RV rv)
{
    return rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL;
}

void spy_arg_ulong(struct spy_call *c, const char *name, CK_ULONG v)
{
    buf_ulong(arg(c, name), v);
}

void spy_arg_bool(struct spy_call *c, const char *name, CK_BBOOL v)
{
    buf_puts(arg(c, name), v ? "true" : "false");
}

void spy_arg_flags(struct spy_call *c, const char *name, CK_FLAGS v, enum spy_flags kind)
{
    buf_flags(arg(c, name), v, kind);
}

void spy_arg_named(struct spy_call *c, const char *name, const char *kind, CK_ULONG v)
{
    buf_named(arg(c, name), kind, v);
}

void spy_arg_ptr(struct spy_call *c, const char *name, int present)
{
    buf_puts(arg(c, name), present ? "\"ptr\"" : "null");
}

void spy_arg_init_args(struct spy_call *c, const char *name, const void *p)
{
    struct spy_buf *b = arg(c, name);
    const CK_C_INITIALIZE_ARGS *a = p;
    if (a == NULL) {
        buf_puts(b, "null");
        return;
    }
    buf_puts(b, "{\"flags\":");
    buf_flags_table(b, a->flags, FLAGS_OF(init_flags));
    buf_printf(b, ",\"mutex_callbacks\":%s,\"pReserved\":%s}",
               a->CreateMutex != NULL ? "true" : "false",
               a->pReserved != NULL ? "\"ptr\"" : "null");
}

void spy_arg_mechanism(struct spy_call *c, const char *name, const CK_MECHANISM *m)
{
    struct spy_buf *b = arg(c, name);
    if (m == NULL) {
        buf_puts(b, "null");
        return;
    }
    buf_puts(b, "{\"mechanism\":");
    buf_cstr(b, ck_mechanism_name(m->mechanism));
    buf_printf(b, ",\"parameter_len\":%lu}", m->ulParameterLen);
}

/* How an attribute's value is shown.  Every type not listed is secret or
 * unknown and logged as redacted (CKA_VALUE, CKA_PRIVATE_EXPONENT, the CRT
 * components, CKA_SEED, vendor attributes, ...). */
enum attr_kind {
    AK_REDACTED = 0,
    AK_BOOL,
    AK_ULONG,
    AK_NAMED, /* a CK_ULONG constant: names says of which kind */
    AK_TEXT,
    AK_HEX,
    AK_DATE,
    AK_MECHS,
};

struct attr_rule {
    CK_ATTRIBUTE_TYPE type;
    enum attr_kind kind;
    const char *names;
};

static const struct attr_rule attr_rules[] = {
    {CKA_CLASS, AK_NAMED, "CKO"},
    {CKA_KEY_TYPE, AK_NAMED, "CKK"},
    {CKA_CERTIFICATE_TYPE, AK_NAMED, "CKC"},
    {CKA_HW_FEATURE_TYPE, AK_NAMED, "CKH"},
    {CKA_KEY_GEN_MECHANISM, AK_NAMED, "CKM"},
    {CKA_NAME_HASH_ALGORITHM, AK_NAMED, "CKM"},
    {CKA_TOKEN, AK_BOOL, NULL},
    {CKA_PRIVATE, AK_BOOL, NULL},
    {CKA_TRUSTED, AK_BOOL, NULL},
    {CKA_SENSITIVE, AK_BOOL, NULL},
    {CKA_ENCRYPT, AK_BOOL, NULL},
    {CKA_DECRYPT, AK_BOOL, NULL},
    {CKA_WRAP, AK_BOOL, NULL},
    {CKA_UNWRAP, AK_BOOL, NULL},
    {CKA_SIGN, AK_BOOL, NULL},
    {CKA_SIGN_RECOVER, AK_BOOL, NULL},
    {CKA_VERIFY, AK_BOOL, NULL},
    {CKA_VERIFY_RECOVER, AK_BOOL, NULL},
    {CKA_DERIVE, AK_BOOL, NULL},
    {CKA_EXTRACTABLE, AK_BOOL, NULL},
    {CKA_LOCAL, AK_BOOL, NULL},
    {CKA_NEVER_EXTRACTABLE, AK_BOOL, NULL},
    {CKA_ALWAYS_SENSITIVE, AK_BOOL, NULL},
    {CKA_MODIFIABLE, AK_BOOL, NULL},
    {CKA_COPYABLE, AK_BOOL, NULL},
    {CKA_DESTROYABLE, AK_BOOL, NULL},
    {CKA_ALWAYS_AUTHENTICATE, AK_BOOL, NULL},
    {CKA_WRAP_WITH_TRUSTED, AK_BOOL, NULL},
    {CKA_RESET_ON_INIT, AK_BOOL, NULL},
    {CKA_HAS_RESET, AK_BOOL, NULL},
    {CKA_ENCAPSULATE, AK_BOOL, NULL},
    {CKA_DECAPSULATE, AK_BOOL, NULL},
    {CKA_VALUE_LEN, AK_ULONG, NULL},
    {CKA_MODULUS_BITS, AK_ULONG, NULL},
    {CKA_VALUE_BITS, AK_ULONG, NULL},
    {CKA_PRIME_BITS, AK_ULONG, NULL},
    {CKA_SUBPRIME_BITS, AK_ULONG, NULL},
    {CKA_CERTIFICATE_CATEGORY, AK_ULONG, NULL},
    {CKA_JAVA_MIDP_SECURITY_DOMAIN, AK_ULONG, NULL},
    {CKA_PROFILE_ID, AK_ULONG, NULL},
    {CKA_PARAMETER_SET, AK_ULONG, NULL},
    {CKA_OBJECT_VALIDATION_FLAGS, AK_ULONG, NULL},
    {CKA_LABEL, AK_TEXT, NULL},
    {CKA_APPLICATION, AK_TEXT, NULL},
    {CKA_URL, AK_TEXT, NULL},
    {CKA_UNIQUE_ID, AK_TEXT, NULL},
    {CKA_ID, AK_HEX, NULL},
    {CKA_OBJECT_ID, AK_HEX, NULL},
    {CKA_SUBJECT, AK_HEX, NULL},
    {CKA_ISSUER, AK_HEX, NULL},
    {CKA_SERIAL_NUMBER, AK_HEX, NULL},
    {CKA_CHECK_VALUE, AK_HEX, NULL},
    {CKA_HASH_OF_SUBJECT_PUBLIC_KEY, AK_HEX, NULL},
    {CKA_HASH_OF_ISSUER_PUBLIC_KEY, AK_HEX, NULL},
    {CKA_HASH_OF_CERTIFICATE, AK_HEX, NULL},
    {CKA_EC_PARAMS, AK_HEX, NULL},
    {CKA_EC_POINT, AK_HEX, NULL},
    {CKA_MODULUS, AK_HEX, NULL},
    {CKA_PUBLIC_EXPONENT, AK_HEX, NULL},
    {CKA_PUBLIC_KEY_INFO, AK_HEX, NULL},
    {CKA_START_DATE, AK_DATE, NULL},
    {CKA_END_DATE, AK_DATE, NULL},
    {CKA_ALLOWED_MECHANISMS, AK_MECHS, NULL},
};

static const struct attr_rule *attr_rule(CK_ATTRIBUTE_TYPE type)
{
    for (size_t i = 0; i < sizeof(attr_rules) / sizeof(attr_rules[0]); i++)
        if (attr_rules[i].type == type)
            return &attr_rules[i];
    return NULL;
}

/* ,"value":... for a value whose length fits its kind; else nothing. */
static void buf_attr_value(struct spy_buf *b, const struct attr_rule *r, const void *v, CK_ULONG n)
{
    CK_ULONG u;
    switch (r->kind) {
    case AK_BOOL:
        if (n == sizeof(CK_BBOOL))
            buf_puts(b, *(const CK_BBOOL *)v ? ",\"value\":true" : ",\"value\":false");
        break;
    case AK_ULONG:
    case AK_NAMED:
        if (n != sizeof(CK_ULONG))
            break;
        memcpy(&u, v, sizeof(u));
        buf_puts(b, ",\"value\":");
        if (r->kind == AK_NAMED)
            buf_named(b, r->names, u);
        else
            buf_ulong(b, u);
        break;
    case AK_TEXT:
        buf_puts(b, ",\"value\":");
        buf_json_str(b, v, n < SPY_TEXT_MAX ? n : SPY_TEXT_MAX);
        if (n > SPY_TEXT_MAX)
            buf_puts(b, ",\"truncated\":true");
        break;
    case AK_HEX:
        buf_puts(b, ",\"value\":");
        buf_hex(b, v, n < SPY_HEX_MAX ? n : SPY_HEX_MAX);
        if (n > SPY_HEX_MAX)
            buf_puts(b, ",\"truncated\":true");
        break;
    case AK_DATE:
        if (n == sizeof(CK_DATE)) {
            buf_puts(b, ",\"value\":");
            buf_json_str(b, v, n);
        }
        break;
    case AK_MECHS:
        if (n % sizeof(CK_ULONG) != 0)
            break;
        buf_puts(b, ",\"value\":[");
        for (CK_ULONG i = 0; i < n / sizeof(CK_ULONG) && i < SPY_LIST_MAX; i++) {
            memcpy(&u, (const unsigned char *)v + i * sizeof(CK_ULONG), sizeof(u));
            if (i > 0)
                buf_put(b, ",", 1);
            buf_cstr(b, ck_mechanism_name(u));
        }
        buf_puts(b, "]");
        break;
    case AK_REDACTED:
    default:
        break;
    }
}

static void buf_attr(struct spy_buf *b, const CK_ATTRIBUTE *a, int show_value)
{
    const struct attr_rule *r = attr_rule(a->type);
    buf_puts(b, "{\"type\":");
    buf_cstr(b, ck_attribute_name(a->type));
    if (a->ulValueLen == CK_UNAVAILABLE_INFORMATION) {
        buf_puts(b, ",\"len\":null,\"unavailable\":true}");
        return;
    }
    buf_printf(b, ",\"len\":%lu", a->ulValueLen);
    if (a->pValue != NULL) {
        if (r == NULL || r->kind == AK_REDACTED)
            buf_puts(b, ",\"redacted\":true");
        else if (show_value)
            buf_attr_value(b, r, a->pValue, a->ulValueLen);
    }
    buf_puts(b, "}");
}

void spy_arg_template(struct spy_call *c, const char *name, const CK_ATTRIBUTE *t, CK_ULONG n,
                      int output, CK_RV rv)
{
    struct spy_buf *b = arg(c, name);
    /* C_GetAttributeValue writes each value it can even when it returns one
     * of these (5.7); any other error leaves the buffers undefined. */
    int show = !output || rv == CKR_OK || rv == CKR_ATTRIBUTE_SENSITIVE ||
               rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_BUFFER_TOO_SMALL;
    if (t == NULL) {
        buf_puts(b, "null");
        return;
    }
    buf_put(b, "[", 1);
    for (CK_ULONG i = 0; i < n && i < SPY_ATTRS_MAX; i++) {
        if (i > 0)
            buf_put(b, ",", 1);
        buf_attr(b, &t[i], show);
    }
    if (n > SPY_ATTRS_MAX)
        buf_printf(b, ",{\"more\":%lu}", n - SPY_ATTRS_MAX);
    buf_put(b, "]", 1);
}

void spy_arg_secret(struct spy_call *c, const char *name, const void *p, CK_ULONG len)
{
    struct spy_buf *b = arg(c, name);
    if (p == NULL)
        buf_printf(b, "{\"redacted\":true,\"len\":%lu,\"null\":true}", len);
    else
        buf_printf(b, "{\"redacted\":true,\"len\":%lu}", len);
}

void spy_arg_data(struct spy_call *c, const char *name, const void *p, CK_ULONG len)
{
    struct spy_buf *b = arg(c, name);
    if (p == NULL)
        buf_printf(b, "{\"len\":%lu,\"null\":true}", len);
    else
        buf_printf(b, "{\"len\":%lu}", len);
}

void spy_arg_out_data(struct spy_call *c, const char *name, const void *p, const CK_ULONG *pul,
                      CK_ULONG size_in, CK_RV rv)
{
    struct spy_buf *b = arg(c, name);
    if (pul == NULL) {
        buf_puts(b, "null");
        return;
    }
    if (p == NULL)
        buf_puts(b, "{\"query\":true");
    else
        buf_printf(b, "{\"size\":%lu", size_in);
    if (length_written(rv))
        buf_printf(b, ",\"len\":%lu", *pul);
    buf_puts(b, "}");
}

void spy_arg_text(struct spy_call *c, const char *name, const CK_UTF8CHAR *p, CK_ULONG len)
{
    struct spy_buf *b = arg(c, name);
    if (p == NULL) {
        buf_puts(b, "null");
        return;
    }
    buf_json_str(b, p, len < SPY_TEXT_MAX ? len : SPY_TEXT_MAX);
}

void spy_arg_cstr(struct spy_call *c, const char *name, const CK_UTF8CHAR *p)
{
    struct spy_buf *b = arg(c, name);
    if (p == NULL) {
        buf_puts(b, "null");
        return;
    }
    buf_json_str(b, p, strnlen((const char *)p, SPY_TEXT_MAX));
}

void spy_arg_padded(struct spy_call *c, const char *name, const CK_UTF8CHAR *p, size_t n)
{
    struct spy_buf *b = arg(c, name);
    if (p == NULL) {
        buf_puts(b, "null");
        return;
    }
    buf_padded(b, p, n);
}

void spy_arg_out_ulong(struct spy_call *c, const char *name, const CK_ULONG *p, CK_RV rv)
{
    struct spy_buf *b = arg(c, name);
    if (p == NULL || !length_written(rv))
        buf_puts(b, "null");
    else
        buf_ulong(b, *p);
}

/* {"count":n[,"size":s|"query":true][,"<what>":[...]]} for a list the
 * target fills; entries shown only after CKR_OK. */
static void buf_list(struct spy_buf *b, const char *what, const char *kind, const CK_ULONG *list,
                     const CK_ULONG *pul, CK_ULONG size_in, CK_RV rv)
{
    if (pul == NULL) {
        buf_puts(b, "null");
        return;
    }
    buf_puts(b, list == NULL ? "{\"query\":true" : "{");
    if (list != NULL)
        buf_printf(b, "\"size\":%lu", size_in);
    if (!length_written(rv)) {
        buf_puts(b, "}");
        return;
    }
    buf_printf(b, ",\"count\":%lu", *pul);
    if (list != NULL && written(rv)) {
        CK_ULONG n = *pul < size_in ? *pul : size_in;
        buf_printf(b, ",\"%s\":[", what);
        for (CK_ULONG i = 0; i < n && i < SPY_LIST_MAX; i++) {
            if (i > 0)
                buf_put(b, ",", 1);
            if (kind != NULL)
                buf_named(b, kind, list[i]);
            else
                buf_ulong(b, list[i]);
        }
        buf_puts(b, "]");
    }
    buf_puts(b, "}");
}

void spy_arg_slot_list(struct spy_call *c, const char *name, const CK_SLOT_ID *list,
                       const CK_ULONG *pul, CK_ULONG size_in, CK_RV rv)
{
    buf_list(arg(c, name), "slots", NULL, list, pul, size_in, rv);
}

void spy_arg_mech_list(struct spy_call *c, const char *name, const CK_MECHANISM_TYPE *list,
                       const CK_ULONG *pul, CK_ULONG size_in, CK_RV rv)
{
    buf_list(arg(c, name), "mechanisms", "CKM", list, pul, size_in, rv);
}

void spy_arg_handle_list(struct spy_call *c, const char *name, const CK_OBJECT_HANDLE *list,
                         CK_ULONG max, const CK_ULONG *pul, CK_RV rv)
{
    struct spy_buf *b = arg(c, name);
    buf_printf(b, "{\"max\":%lu", max);
    if (pul != NULL && written(rv)) {
        CK_ULONG n = *pul < max ? *pul : max;
        buf_printf(b, ",\"count\":%lu", *pul);
        if (list != NULL) {
            buf_puts(b, ",\"handles\":[");
            for (CK_ULONG i = 0; i < n && i < SPY_LIST_MAX; i++) {
                if (i > 0)
                    buf_put(b, ",", 1);
                buf_ulong(b, list[i]);
            }
            buf_puts(b, "]");
        }
    }
    buf_puts(b, "}");
}

/* Opens an output structure: false (and null logged) when there is none. */
static int out_struct(struct spy_buf *b, const void *p, CK_RV rv)
{
    if (p == NULL) {
        buf_puts(b, "null");
        return 0;
    }
    if (!written(rv)) {
        buf_puts(b, "\"ptr\"");
        return 0;
    }
    return 1;
}

void spy_arg_info(struct spy_call *c, const char *name, const CK_INFO *p, CK_RV rv)
{
    struct spy_buf *b = arg(c, name);
    if (!out_struct(b, p, rv))
        return;
    buf_puts(b, "{\"cryptokiVersion\":");
    buf_version(b, &p->cryptokiVersion);
    buf_puts(b, ",\"manufacturerID\":");
    buf_padded(b, p->manufacturerID, sizeof(p->manufacturerID));
    buf_printf(b, ",\"flags\":%lu,\"libraryDescription\":", p->flags);
    buf_padded(b, p->libraryDescription, sizeof(p->libraryDescription));
    buf_puts(b, ",\"libraryVersion\":");
    buf_version(b, &p->libraryVersion);
    buf_puts(b, "}");
}

void spy_arg_slot_info(struct spy_call *c, const char *name, const CK_SLOT_INFO *p, CK_RV rv)
{
    struct spy_buf *b = arg(c, name);
    if (!out_struct(b, p, rv))
        return;
    buf_puts(b, "{\"slotDescription\":");
    buf_padded(b, p->slotDescription, sizeof(p->slotDescription));
    buf_puts(b, ",\"manufacturerID\":");
    buf_padded(b, p->manufacturerID, sizeof(p->manufacturerID));
    buf_puts(b, ",\"flags\":");
    buf_flags(b, p->flags, SPY_FLAGS_SLOT);
    buf_puts(b, ",\"hardwareVersion\":");
    buf_version(b, &p->hardwareVersion);
    buf_puts(b, ",\"firmwareVersion\":");
    buf_version(b, &p->firmwareVersion);
    buf_puts(b, "}");
}

void spy_arg_token_info(struct spy_call *c, const char *name, const CK_TOKEN_INFO *p, CK_RV rv)
{
    struct spy_buf *b = arg(c, name);
    if (!out_struct(b, p, rv))
        return;
    buf_puts(b, "{\"label\":");
    buf_padded(b, p->label, sizeof(p->label));
    buf_puts(b, ",\"manufacturerID\":");
    buf_padded(b, p->manufacturerID, sizeof(p->manufacturerID));
    buf_puts(b, ",\"model\":");
    buf_padded(b, p->model, sizeof(p->model));
    buf_puts(b, ",\"serialNumber\":");
    buf_padded(b, p->serialNumber, sizeof(p->serialNumber));
    buf_puts(b, ",\"flags\":");
    buf_flags(b, p->flags, SPY_FLAGS_TOKEN);
    buf_printf(b,
               ",\"ulMaxSessionCount\":%lu,\"ulSessionCount\":%lu,\"ulMaxRwSessionCount\":%lu,"
               "\"ulRwSessionCount\":%lu,\"ulMaxPinLen\":%lu,\"ulMinPinLen\":%lu",
               p->ulMaxSessionCount, p->ulSessionCount, p->ulMaxRwSessionCount, p->ulRwSessionCount,
               p->ulMaxPinLen, p->ulMinPinLen);
    buf_puts(b, "}");
}

void spy_arg_session_info(struct spy_call *c, const char *name, const CK_SESSION_INFO *p, CK_RV rv)
{
    struct spy_buf *b = arg(c, name);
    if (!out_struct(b, p, rv))
        return;
    buf_printf(b, "{\"slotID\":%lu,\"state\":", p->slotID);
    buf_named(b, "CKS", p->state);
    buf_puts(b, ",\"flags\":");
    buf_flags(b, p->flags, SPY_FLAGS_SESSION);
    buf_printf(b, ",\"ulDeviceError\":%lu}", p->ulDeviceError);
}

void spy_arg_mech_info(struct spy_call *c, const char *name, const CK_MECHANISM_INFO *p, CK_RV rv)
{
    struct spy_buf *b = arg(c, name);
    if (!out_struct(b, p, rv))
        return;
    buf_printf(b, "{\"ulMinKeySize\":%lu,\"ulMaxKeySize\":%lu,\"flags\":", p->ulMinKeySize,
               p->ulMaxKeySize);
    buf_flags(b, p->flags, SPY_FLAGS_MECH);
    buf_puts(b, "}");
}

void spy_arg_async(struct spy_call *c, const char *name, const CK_ASYNC_DATA *p, CK_RV rv)
{
    struct spy_buf *b = arg(c, name);
    if (!out_struct(b, p, rv))
        return;
    buf_printf(b,
               "{\"ulVersion\":%lu,\"value_len\":%lu,\"hObject\":%lu,"
               "\"hAdditionalObject\":%lu}",
               p->ulVersion, p->ulValue, p->hObject, p->hAdditionalObject);
}

/* ------------------------------------------------------------------------ */
/* The exported entry points (PKCS#11 3.2 section 5.4)                      */

/* The version of an interface's function list. */
static const CK_VERSION *interface_version(const CK_INTERFACE *itf)
{
    return (const CK_VERSION *)itf->pFunctionList;
}

static void buf_interface(struct spy_buf *b, const CK_INTERFACE *itf)
{
    buf_puts(b, "{\"name\":");
    buf_cstr(b, (const char *)itf->pInterfaceName);
    buf_puts(b, ",\"version\":");
    buf_version(b, interface_version(itf));
    buf_puts(b, ",\"flags\":");
    buf_flags(b, itf->flags, SPY_FLAGS_INTERFACE);
    buf_puts(b, "}");
}

/* 5.4: the spy's 2.40 list; CKR_GENERAL_ERROR when the target cannot be
 * loaded. */
SPY_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
    struct spy_call c;
    CK_RV rv;
    if (spy_begin(&c, "C_GetFunctionList", SPY_V2_40) == NULL)
        rv = spy_missing(&c);
    else if (ppFunctionList == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else {
        *ppFunctionList = &spy_list_2_40;
        rv = CKR_OK;
    }
    spy_stop(&c);
    struct spy_buf *b = arg(&c, "ppFunctionList");
    if (rv == CKR_OK)
        buf_version(b, &spy_list_2_40.version);
    else
        buf_puts(b, "null");
    spy_end(&c, rv);
    return rv;
}

/* 5.4: the spy's interfaces, one per version the target offers. */
SPY_EXPORT CK_RV C_GetInterfaceList(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount)
{
    struct spy_call c;
    CK_RV rv;
    const CK_ULONG size_in = pulCount != NULL ? *pulCount : 0;
    if (spy_begin(&c, "C_GetInterfaceList", SPY_V2_40) == NULL)
        rv = spy_missing(&c);
    else if (pulCount == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else if (pInterfacesList == NULL) {
        *pulCount = target.interface_count;
        rv = CKR_OK;
    } else if (*pulCount < target.interface_count) {
        *pulCount = target.interface_count;
        rv = CKR_BUFFER_TOO_SMALL;
    } else {
        memcpy(pInterfacesList, target.interfaces,
               target.interface_count * sizeof(target.interfaces[0]));
        *pulCount = target.interface_count;
        rv = CKR_OK;
    }
    spy_stop(&c);
    struct spy_buf *b = arg(&c, "pInterfacesList");
    if (pulCount == NULL) {
        buf_puts(b, "null");
    } else {
        buf_puts(b, pInterfacesList == NULL ? "{\"query\":true" : "{");
        if (pInterfacesList != NULL)
            buf_printf(b, "\"size\":%lu", size_in);
        if (length_written(rv))
            buf_printf(b, ",\"count\":%lu", *pulCount);
        if (pInterfacesList != NULL && written(rv)) {
            buf_puts(b, ",\"interfaces\":[");
            for (CK_ULONG i = 0; i < *pulCount; i++) {
                if (i > 0)
                    buf_put(b, ",", 1);
                buf_interface(b, &pInterfacesList[i]);
            }
            buf_puts(b, "]");
        }
        buf_puts(b, "}");
    }
    spy_end(&c, rv);
    return rv;
}

/* 5.4: NULL name = "PKCS 11"; NULL version = the newest the spy offers; the
 * interface must have every requested flag. */
SPY_EXPORT CK_RV C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
                                CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags)
{
    struct spy_call c;
    CK_RV rv;
    if (spy_begin(&c, "C_GetInterface", SPY_V2_40) == NULL) {
        rv = spy_missing(&c);
        goto log;
    }
    rv = CKR_ARGUMENTS_BAD;
    if (ppInterface == NULL)
        goto log;
    for (CK_ULONG i = 0; i < target.interface_count; i++) {
        CK_INTERFACE *itf = &target.interfaces[i];
        const CK_VERSION *v = interface_version(itf);
        if (pInterfaceName != NULL &&
            strcmp((const char *)pInterfaceName, (const char *)itf->pInterfaceName) != 0)
            continue;
        if (pVersion != NULL && (pVersion->major != v->major || pVersion->minor != v->minor))
            continue;
        if ((itf->flags & flags) != flags)
            continue;
        *ppInterface = itf;
        rv = CKR_OK;
        break;
    }
log:
    spy_stop(&c);
    spy_arg_cstr(&c, "pInterfaceName", pInterfaceName);
    struct spy_buf *b = arg(&c, "pVersion");
    if (pVersion != NULL)
        buf_version(b, pVersion);
    else
        buf_puts(b, "null");
    b = arg(&c, "ppInterface");
    if (ppInterface != NULL && rv == CKR_OK)
        buf_interface(b, *ppInterface);
    else
        buf_puts(b, "null");
    spy_arg_flags(&c, "flags", flags, SPY_FLAGS_INTERFACE);
    spy_end(&c, rv);
    return rv;
}
