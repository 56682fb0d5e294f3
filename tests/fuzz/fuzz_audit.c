/*
 * libFuzzer target for the audit log verifier: the input is written as a
 * log file and verified (every line parsed, seq and prev_hash checked);
 * each line also goes through audit_line_parse alone.  The verifier must
 * never crash, read out of bounds or leak, and its verdict must be
 * consistent: intact means no bad line, tampered names a line that exists.
 *
 * Built by tests/fuzz/run.sh with the whole module (it needs the module's
 * OpenSSL context for SHA-256).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "crypto/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct crypto *g_c;
static char g_path[64];

static void setup_once(void)
{
    if (g_c != NULL)
        return;
    if (crypto_global_init(0) != CKR_OK || crypto_new(&g_c) != CKR_OK)
        abort();
    snprintf(g_path, sizeof(g_path), "fuzz-audit-%ld.jsonl", (long)getpid());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup_once();
    size_t lines = 0;
    for (size_t i = 0; i < size;) {
        const uint8_t *nl = memchr(data + i, '\n', size - i);
        size_t len = nl != NULL ? (size_t)(nl - (data + i)) : size - i;
        unsigned long seq = 0;
        const char *prev = NULL;
        (void)audit_line_parse((const char *)data + i, len, &seq, &prev);
        lines++;
        i += len + 1;
    }
    FILE *f = fopen(g_path, "wb");
    if (f == NULL)
        abort();
    if (size > 0 && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    struct audit_verify_result r;
    static const unsigned char key[32] = {1};
    int v = audit_verify(g_c, g_path, size % 2 ? key : NULL, size % 2 ? sizeof(key) : 0, &r);
    if (v == 0 && r.bad_line != 0)
        abort();
    if (v == 1 && (r.bad_line == 0 || r.bad_line > lines + 1))
        abort();
    unlink(g_path);
    return 0;
}
