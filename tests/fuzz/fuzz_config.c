/*
 * libFuzzer target for the configuration reader.
 *
 * Parses the input; when it is accepted, formats the result, parses the
 * formatted text again and checks that formatting it gives the same text
 * (config_format and config_parse must round-trip).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
 *       tests/fuzz/fuzz_config.c src/config/toml.c src/config/config.c -o fuzz_config
 *   ./fuzz_config CORPUS_COPY/
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *fuzz_format(const struct config *cfg, size_t *len)
{
    size_t n = config_format(cfg, NULL, 0);
    char *buf = malloc(n + 1);

    if (buf == NULL)
        abort();
    if (config_format(cfg, buf, n + 1) != n || strlen(buf) != n)
        abort();
    *len = n;
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config a, b;
    char err[CONFIG_ERR_MAX];
    char *fa, *fb;
    size_t la, lb;

    /* With a base directory: exercises path resolution. */
    if (config_parse(&a, (const char *)data, size, "fuzz.toml", "/base", err) != 0 &&
        (memchr(err, '\0', CONFIG_ERR_MAX) == NULL || strchr(err, '\n') != NULL))
        abort(); /* an error is one terminated line */
    config_free(&a);

    if (config_parse(&a, (const char *)data, size, "fuzz.toml", NULL, err) != 0)
        return 0;
    fa = fuzz_format(&a, &la);
    if (config_parse(&b, fa, la, "formatted", NULL, err) != 0)
        abort(); /* what config_format writes must parse */
    fb = fuzz_format(&b, &lb);
    if (la != lb || memcmp(fa, fb, la) != 0)
        abort(); /* and mean the same */
    free(fa);
    free(fb);
    config_free(&a);
    config_free(&b);
    return 0;
}
