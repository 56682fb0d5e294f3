/*
 * Power-on self-tests (POST): the module integrity check and 16 known-answer
 * tests with fixed vectors, run by C_Initialize before any service is
 * offered.  One table (selftest.c) is the single source of the list;
 * docs/security-model.md documents it.
 */
#ifndef CRATON_CRYPTO_SELFTEST_H
#define CRATON_CRYPTO_SELFTEST_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto/crypto.h"
#include "pkcs11/pkcs11.h"

#define SELFTEST_COUNT   17 /* integrity + 16 KATs */
#define SELFTEST_WHY_MAX 160

struct selftest_result {
    const char *name; /* static: "integrity", "SHA-256", ... */
    bool passed;
    double ms;                  /* time the test took */
    char why[SELFTEST_WHY_MAX]; /* empty when passed */
};

/* The name of test i (0 = integrity), or NULL past the end (static). */
const char *selftest_name(size_t i);

/* Where test i's vector comes from (standard / file and test-case id), for
 * documentation and reports; NULL past the end (static). */
const char *selftest_source(size_t i);

/* Runs test i with c's library context; fills *r.  CKR_OK when it passed,
 * CKR_GENERAL_ERROR when it failed (r->why says how) or i is out of range.
 * Test builds (CRATON_TEST_HOOKS): the environment variable
 * CRATON_TEST_POST_FAIL=<name> makes test <name> fail (one bit of its output
 * or input is flipped before the comparison).  Clears OpenSSL's error queue
 * before returning. */
CK_RV selftest_run_one(struct crypto *c, size_t i, struct selftest_result *r) WARN_UNUSED;

/* Runs all SELFTEST_COUNT tests in table order (all of them, even after a
 * failure, so a report is complete); results[i] for each.  CKR_OK when all
 * passed, else CKR_GENERAL_ERROR. */
CK_RV selftest_run_all(struct crypto *c,
                       struct selftest_result results[SELFTEST_COUNT]) WARN_UNUSED;

/* Module integrity alone (test 0): HMAC-SHA256, with a fixed public key,
 * over the non-writable PT_LOAD segments of the object containing this code
 * (dladdr + dl_iterate_phdr), as loaded in memory, in program-header order,
 * compared with the 64 hex digits in "<module path>.hmac" (path from
 * dladdr) written at build time by scripts/integrity.py.  A missing,
 * unreadable or malformed sidecar fails.  Uses c's library context.
 * CKR_OK or CKR_GENERAL_ERROR with why. */
CK_RV selftest_integrity(struct crypto *c, char why[SELFTEST_WHY_MAX]) WARN_UNUSED;

#endif
