/*
 * Fixture helpers shared by the unit tests of the mechanism families
 * (tests/unit/test_mech_*.c): the config + crypto context, the OpenSSL
 * error-queue check, hex decoding, building keys from attribute templates,
 * and starting operations.
 *
 * Everything is static inline so a test that uses only part of it compiles
 * warning-free.  The helpers hold no state: each test file keeps its own
 * config and crypto context and passes them in.
 */
#ifndef CRATON_TESTS_MECH_UTIL_H
#define CRATON_TESTS_MECH_UTIL_H

#include "unit_util.h"

#include <openssl/err.h>

#include "mech/mech.h"
#include "object/attr.h"
#include "object/key.h"
#include "object/keyimport.h"

/* ---- fixture ----------------------------------------------------------- */

/* Group setup: *cfg = the defaults, *c = a fresh crypto context.  Returns 0,
 * or -1 if any step failed. */
static inline int mu_fixture_init(struct config *cfg, struct crypto **c)
{
    if (config_defaults(cfg) != 0 || crypto_global_init(0) != CKR_OK || crypto_new(c) != CKR_OK)
        return -1;
    return 0;
}

/* Group teardown: frees c, then cfg. */
static inline void mu_fixture_free(struct config *cfg, struct crypto *c)
{
    crypto_free(c);
    config_free(cfg);
}

/* Per-test setup: empties the OpenSSL error queue.  Always 0. */
static inline int mu_clear_errors(void **state)
{
    (void)state;
    ERR_clear_error();
    return 0;
}

/* Per-test teardown: fails (-1, with a message) if the test left an error in
 * the OpenSSL error queue; 0 otherwise. */
static inline int mu_check_errors(void **state)
{
    (void)state;
    unsigned long e = ERR_peek_error();
    if (e != 0)
        print_message("OpenSSL error left in the queue: %lx\n", e);
    return e == 0 ? 0 : -1;
}

/* ---- bytes ------------------------------------------------------------- */

/* Decodes the hex string h into out[cap], asserting an even length that
 * fits; returns the number of bytes. */
static inline size_t mu_unhex(const char *h, unsigned char *out, size_t cap)
{
    size_t n = strlen(h) / 2;
    assert_true(strlen(h) % 2 == 0 && n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned int b;
        assert_int_equal(sscanf(h + 2 * i, "%2x", &b), 1);
        out[i] = (unsigned char)b;
    }
    return n;
}

/* Random bytes from the module's DRBG (OpenSSL's global one would stay
 * allocated: the tests do not run OPENSSL_cleanup). */
static inline void mu_rnd(struct crypto *c, void *buf, size_t len)
{
    assert_int_equal(crypto_random(c, buf, len, false), CKR_OK);
}

/* ---- keys -------------------------------------------------------------- */

/* A secret key of type kt with CKA_VALUE = value[len] (key_build only, no
 * keyimport_check); asserts success. */
static inline struct key *mu_secret_key(struct crypto *c, CK_KEY_TYPE kt,
                                        const unsigned char *value, size_t len)
{
    struct attrs a = {0};
    struct key *k = NULL;
    assert_int_equal(attrs_set_ulong(&a, CKA_CLASS, CKO_SECRET_KEY), CKR_OK);
    assert_int_equal(attrs_set_ulong(&a, CKA_KEY_TYPE, kt), CKR_OK);
    assert_int_equal(attrs_set(&a, CKO_SECRET_KEY, CKA_VALUE, value, (CK_ULONG)len), CKR_OK);
    assert_int_equal(key_build(c, &a, &k), CKR_OK);
    attrs_free(&a);
    return k;
}

/* Adds CKA_CLASS = cls and CKA_KEY_TYPE = kt to t, then keyimport_check and
 * key_build, asserting both succeed; frees t.  Returns the key. */
static inline struct key *mu_build(struct crypto *c, struct attrs *t, CK_OBJECT_CLASS cls,
                                   CK_KEY_TYPE kt)
{
    struct key *k = NULL;
    assert_int_equal(attrs_set_ulong(t, CKA_CLASS, cls), CKR_OK);
    assert_int_equal(attrs_set_ulong(t, CKA_KEY_TYPE, kt), CKR_OK);
    assert_int_equal(keyimport_check(c, cls, kt, t), CKR_OK);
    assert_int_equal(key_build(c, t, &k), CKR_OK);
    attrs_free(t);
    return k;
}

/* An EC / Edwards / Montgomery key of type kt on the curve with DER OID
 * oid[oid_len]: v[len] is CKA_VALUE for a private key, CKA_EC_POINT for a
 * public one.  Built with mu_build. */
static inline struct key *mu_ec_key(struct crypto *c, CK_KEY_TYPE kt, const unsigned char *oid,
                                    size_t oid_len, CK_OBJECT_CLASS cls, const unsigned char *v,
                                    size_t len)
{
    struct attrs t = {0};
    assert_int_equal(attrs_set(&t, cls, CKA_EC_PARAMS, oid, (CK_ULONG)oid_len), CKR_OK);
    assert_int_equal(
        attrs_set(&t, cls, cls == CKO_PRIVATE_KEY ? CKA_VALUE : CKA_EC_POINT, v, (CK_ULONG)len),
        CKR_OK);
    return mu_build(c, &t, cls, kt);
}

/* Resets *t to a template holding only CKA_CLASS = cls and
 * CKA_KEY_TYPE = kt (for generation). */
static inline void mu_tmpl(struct attrs *t, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt)
{
    memset(t, 0, sizeof(*t));
    assert_int_equal(attrs_set_ulong(t, CKA_CLASS, cls), CKR_OK);
    assert_int_equal(attrs_set_ulong(t, CKA_KEY_TYPE, kt), CKR_OK);
}

/* The attribute type of t, asserted present. */
static inline const struct attr *mu_need(const struct attrs *t, CK_ATTRIBUTE_TYPE type)
{
    const struct attr *a = attrs_find(t, type);
    assert_non_null(a);
    return a;
}

/* keyimport_check and key_build of a complete template t (which the caller
 * still owns and frees), asserting both succeed.  Returns the key. */
static inline struct key *mu_finish(struct crypto *c, struct attrs *t, CK_OBJECT_CLASS cls,
                                    CK_KEY_TYPE kt)
{
    struct key *k = NULL;
    assert_int_equal(keyimport_check(c, cls, kt, t), CKR_OK);
    assert_int_equal(key_build(c, t, &k), CKR_OK);
    return k;
}

/* Runs mechanism mt's generate_pair (no parameter) on the templates pub and
 * priv; asserts mt is known.  Returns its rv. */
static inline CK_RV mu_gen_pair(const struct config *cfg, struct crypto *c, CK_MECHANISM_TYPE mt,
                                struct attrs *pub, struct attrs *priv)
{
    const struct mech_desc *d = mech_find(mt);
    assert_non_null(d);
    CK_MECHANISM m = {mt, NULL, 0};
    return d->family->generate_pair(d, &m, c, cfg, pub, priv);
}

/* ---- operations -------------------------------------------------------- */

/* Starts an operation as C_*Init would: mech_lookup (policy, function and
 * parameter checks) then mech_op_new.  *op = NULL first; returns the first
 * failing rv, or CKR_OK with *op the new operation. */
static inline CK_RV mu_lookup_start(const struct config *cfg, struct crypto *c,
                                    CK_MECHANISM_TYPE type, const void *param, CK_ULONG plen,
                                    mech_fn fn, struct key *k, struct mech_op **op)
{
    CK_MECHANISM m = {type, (void *)param, plen};
    const struct mech_desc *d = NULL;
    *op = NULL;
    CK_RV rv = mech_lookup(cfg, &m, fn, &d);
    if (rv != CKR_OK)
        return rv;
    return mech_op_new(d, &m, fn, k, c, cfg, op);
}

/* mu_lookup_start asserted to succeed; returns the operation. */
static inline struct mech_op *mu_lookup_start_ok(const struct config *cfg, struct crypto *c,
                                                 CK_MECHANISM_TYPE type, const void *param,
                                                 CK_ULONG plen, mech_fn fn, struct key *k)
{
    struct mech_op *op = NULL;
    assert_int_equal(mu_lookup_start(cfg, c, type, param, plen, fn, k, &op), CKR_OK);
    assert_non_null(op);
    return op;
}

/* Starts an operation with mech_find (asserted known, no policy lookup) and
 * mech_op_new; asserts *op is set exactly when the rv is CKR_OK. */
static inline CK_RV mu_find_start(const struct config *cfg, struct crypto *c, CK_MECHANISM_TYPE mt,
                                  const void *param, CK_ULONG plen, mech_fn fn, struct key *k,
                                  struct mech_op **op)
{
    const struct mech_desc *d = mech_find(mt);
    assert_non_null(d);
    CK_MECHANISM m = {mt, (void *)param, plen};
    *op = NULL;
    CK_RV rv = mech_op_new(d, &m, fn, k, c, cfg, op);
    assert_true((rv == CKR_OK) == (*op != NULL));
    return rv;
}

/* mu_find_start asserted to succeed; returns the operation. */
static inline struct mech_op *mu_find_start_ok(const struct config *cfg, struct crypto *c,
                                               CK_MECHANISM_TYPE mt, const void *param,
                                               CK_ULONG plen, mech_fn fn, struct key *k)
{
    struct mech_op *op = NULL;
    assert_int_equal(mu_find_start(cfg, c, mt, param, plen, fn, k, &op), CKR_OK);
    return op;
}

/* Single part with a fresh mu_find_start_ok operation (no size query):
 * returns the oneshot rv, *outlen as the operation set it. */
static inline CK_RV mu_find_oneshot(const struct config *cfg, struct crypto *c,
                                    CK_MECHANISM_TYPE mt, const void *param, CK_ULONG plen,
                                    mech_fn fn, struct key *k, const void *in, size_t inlen,
                                    unsigned char *out, CK_ULONG *outlen)
{
    struct mech_op *op = mu_find_start_ok(cfg, c, mt, param, plen, fn, k);
    CK_RV rv = op->ops->oneshot(op, in, (CK_ULONG)inlen, out, outlen);
    mech_op_free(op);
    return rv;
}

/* Single-part verify of sig over in with a fresh mu_find_start_ok
 * operation; returns the verify rv. */
static inline CK_RV mu_find_verify(const struct config *cfg, struct crypto *c, CK_MECHANISM_TYPE mt,
                                   const void *param, CK_ULONG plen, struct key *k, const void *in,
                                   size_t inlen, const unsigned char *sig, size_t siglen)
{
    struct mech_op *op = mu_find_start_ok(cfg, c, mt, param, plen, CKF_VERIFY, k);
    CK_RV rv = op->ops->verify_oneshot(op, in, (CK_ULONG)inlen, sig, (CK_ULONG)siglen);
    mech_op_free(op);
    return rv;
}

#endif
