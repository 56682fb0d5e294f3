/* Helpers of the ABI tests: they load the built module with dlopen and use
 * only what a PKCS#11 application sees. */
#ifndef CRATON_TESTS_ABI_UTIL_H
#define CRATON_TESTS_ABI_UTIL_H

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkcs11/pkcs11.h"

struct abi {
    void *dl;
    CK_FUNCTION_LIST_3_2 *f;
    char dir[PATH_MAX];
};

/* Path of the module under test: $CRATON_MODULE (set by meson). */
static inline const char *abi_module_path(void)
{
    const char *p = getenv("CRATON_MODULE");
    return p != NULL ? p : "build/lib/libcraton_hsm.so";
}

/* dlopen the module and fetch the default (3.2) interface; NULL f on error. */
static inline int abi_open(struct abi *a)
{
    a->dl = dlopen(abi_module_path(), RTLD_NOW | RTLD_LOCAL);
    if (a->dl == NULL) {
        fprintf(stderr, "dlopen %s: %s\n", abi_module_path(), dlerror());
        return -1;
    }
    CK_C_GetInterface gi = (CK_C_GetInterface)dlsym(a->dl, "C_GetInterface");
    CK_INTERFACE_PTR itf = NULL;
    if (gi == NULL || gi(NULL, NULL, &itf, 0) != CKR_OK)
        return -1;
    a->f = (CK_FUNCTION_LIST_3_2 *)itf->pFunctionList;
    return 0;
}

static inline void abi_close(struct abi *a)
{
    if (a->dl != NULL)
        dlclose(a->dl);
    a->dl = NULL;
    a->f = NULL;
}

/* Makes a fresh scratch directory, enters it and writes craton_hsm.toml
 * there (mode 0600) with body; CRATON_HSM_CONFIG names it. */
static inline int abi_scratch(struct abi *a, const char *body)
{
    snprintf(a->dir, sizeof(a->dir), "/tmp/craton-abi-XXXXXX");
    if (mkdtemp(a->dir) == NULL || chdir(a->dir) != 0)
        return -1;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/craton_hsm.toml", a->dir);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fputs(body, f);
    fclose(f);
    chmod(path, 0600);
    setenv("CRATON_HSM_CONFIG", path, 1);
    return 0;
}

static inline void abi_rm_scratch(struct abi *a)
{
    char cmd[PATH_MAX + 16];
    if (chdir("/tmp") != 0)
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", a->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", a->dir);
}

#define ABI_FAST_CONFIG "[security]\npbkdf2_iterations = 100000\n"

#endif
