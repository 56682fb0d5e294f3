/* Known answers of the symmetric mechanisms through the PKCS#11 ABI:
 * digests, HMAC, AES (ECB, CBC, CTR, GCM, KW, KWP, CMAC) and the key
 * derivations (HKDF, SP 800-108 counter mode, PBKDF2), from the NIST ACVP
 * and Wycheproof subsets in tests/vectors (see its README.md).
 *
 * One cmocka test per family: it runs every vector of its files, prints the
 * first few mismatches with their tcId and the counts, and fails at the end
 * if any check failed.  Fixture and tally: kat_util.h. */
#include "kat_util.h"

#define F (KAT.f)
#define S (KAT.s)

/* PKCS#11 CK_MAC_GENERAL_PARAMS: the MAC length in bytes (a CK_ULONG; the
 * generated header has no typedef for it). */
typedef CK_ULONG mac_general_params;

/* ---- checks ------------------------------------------------------------------ */

/* SoftHSM 2.6 departs from the spec where some vectors reach it: other
 * return codes for a bad tag or wrapped key, AES keys of any size, an empty
 * GCM IV accepted, HMAC key minimums, wrong output for GCM IVs over 128
 * bytes.  Under KAT_ALLOW_SKIP (SoftHSM only) such a check (cond) is
 * skipped with a note instead of failed. */
static bool softhsm_quirk(struct kat_vec *v, bool cond, const char *why)
{
    char note[96];
    if (!KAT.allow_skip || !cond)
        return false;
    snprintf(note, sizeof(note), "SoftHSM: %s", why);
    kat_skip(v->k, note);
    return true;
}

/* rv is SoftHSM lacking a feature and KAT_ALLOW_SKIP is on: the check is
 * counted as skipped. */
static bool skipped(struct kat_vec *v, CK_RV rv, const char *what)
{
    if (softhsm_quirk(v, rv == CKR_KEY_SIZE_RANGE, "CKR_KEY_SIZE_RANGE under its HMAC key minimum"))
        return true;
    if (!kat_unsupported(rv))
        return false;
    char why[96];
    snprintf(why, sizeof(why), "%s: %s", what, kat_rv_name(rv));
    kat_skip(v->k, why);
    return true;
}

/* The first `bits` bits of got (gn bytes) and want (wn bytes) agree, and
 * gn == wn. */
static bool same_bits(const CK_BYTE *got, CK_ULONG gn, const CK_BYTE *want, CK_ULONG wn,
                      CK_ULONG bits)
{
    if (gn != wn || bits > 8 * wn || memcmp(got, want, bits / 8) != 0)
        return false;
    CK_BYTE mask = (CK_BYTE)(0xff00 >> (bits % 8));
    return bits % 8 == 0 || ((got[bits / 8] ^ want[bits / 8]) & mask) == 0;
}

/* One output check: rv must be CKR_OK and the output the expected one
 * (its first `bits` bits; all of it when bits is 8 * wn). */
static void check_out_bits(struct kat_vec *v, const char *what, CK_RV rv, const CK_BYTE *got,
                           CK_ULONG gn, const CK_BYTE *want, CK_ULONG wn, CK_ULONG bits)
{
    if (skipped(v, rv, what))
        return;
    if (rv != CKR_OK)
        kat_check(v, false, "%s: %s", what, kat_rv_name(rv));
    else
        kat_check(v, same_bits(got, gn, want, wn, bits),
                  "%s: wrong output (%lu bytes, expected %lu)", what, (unsigned long)gn,
                  (unsigned long)wn);
}

static void check_out(struct kat_vec *v, const char *what, CK_RV rv, const CK_BYTE *got,
                      CK_ULONG gn, const CK_BYTE *want, CK_ULONG wn)
{
    check_out_bits(v, what, rv, got, gn, want, wn, 8 * wn);
}

/* Whether the token has mechanism m for the n checks of this vector that
 * need it; when it has not, they are skipped (KAT_ALLOW_SKIP) or failed. */
static bool need(struct kat_vec *v, CK_MECHANISM_TYPE m, const char *name, unsigned n)
{
    CK_MECHANISM_INFO info;
    char why[96];
    if (F->C_GetMechanismInfo(KAT.slot, m, &info) == CKR_OK)
        return true;
    snprintf(why, sizeof(why), "no %s", name);
    for (unsigned i = 0; i < n; i++) {
        if (KAT.allow_skip)
            kat_skip(v->k, why);
        else
            kat_fail(v->k, v->src, v->tc, "%s (0x%lx) not supported", name, (unsigned long)m);
    }
    return false;
}

/* ---- objects -------------------------------------------------------------- */

/* kat_secret(); a failure is a failed (or skipped) check and gives false. */
static bool make_key(struct kat_vec *v, CK_KEY_TYPE kt, const CK_BYTE *val, CK_ULONG n,
                     unsigned use, CK_OBJECT_HANDLE *h)
{
    CK_RV rv = kat_secret(kt, val, n, use, h);
    if (rv != CKR_OK && !skipped(v, rv, "C_CreateObject"))
        kat_check(v, false, "C_CreateObject (key type 0x%lx, %lu bytes): %s", (unsigned long)kt,
                  (unsigned long)n, kat_rv_name(rv));
    return rv == CKR_OK;
}

/* A key the module made (h, rv of the call that made it) has the value
 * want; h is destroyed.  want NULL: the call must have failed. */
static void check_made_key(struct kat_vec *v, const char *what, CK_RV rv, CK_OBJECT_HANDLE h,
                           const CK_BYTE *want, CK_ULONG wn)
{
    CK_BYTE *val;
    CK_ULONG n;
    if (want == NULL) {
        kat_check(v, rv != CKR_OK, "%s succeeded on an invalid vector", what);
        if (rv == CKR_OK)
            kat_destroy(h);
        return;
    }
    if (rv != CKR_OK) {
        if (!skipped(v, rv, what))
            kat_check(v, false, "%s: %s", what, kat_rv_name(rv));
        return;
    }
    rv = kat_value(h, &val, &n);
    kat_destroy(h);
    if (val != NULL)
        kat_vec_keep(v, val);
    check_out(v, what, rv, val, n, want, wn);
}

/* ---- digests -------------------------------------------------------------- */

struct hash_file {
    const char *path, *mname;
    CK_MECHANISM_TYPE mech;
};

static void digest_vector(struct kat_vec *v, const struct hash_file *h, const CK_BYTE *msg,
                          CK_ULONG n, const CK_BYTE *md, CK_ULONG mdn, bool multi)
{
    CK_MECHANISM m = {h->mech, NULL, 0};
    CK_BYTE out[64];
    CK_ULONG len = sizeof(out), a = n / 3, b = 2 * n / 3;
    CK_RV rv = F->C_DigestInit(S, &m);
    if (rv == CKR_OK)
        rv = F->C_Digest(S, (CK_BYTE_PTR)msg, n, out, &len);
    check_out(v, "C_Digest", rv, out, len, md, mdn);
    if (!multi)
        return;
    len = sizeof(out);
    rv = F->C_DigestInit(S, &m);
    if (rv == CKR_OK)
        rv = F->C_DigestUpdate(S, (CK_BYTE_PTR)msg, a);
    if (rv == CKR_OK)
        rv = F->C_DigestUpdate(S, (CK_BYTE_PTR)msg + a, b - a);
    if (rv == CKR_OK)
        rv = F->C_DigestUpdate(S, (CK_BYTE_PTR)msg + b, n - b);
    if (rv == CKR_OK)
        rv = F->C_DigestFinal(S, out, &len);
    check_out(v, "C_DigestUpdate x3 + C_DigestFinal", rv, out, len, md, mdn);
}

/* ACVP SHA-2/SHA-3 files: AFT groups (the MCT and LDT groups are not run);
 * every other vector also multi-part. */
static void digest_family(const char *name, const struct hash_file *files, size_t nfiles)
{
    struct kat k;
    struct kat_vec v = {.k = &k};
    kat_begin(&k, name);
    for (size_t i = 0; i < nfiles; i++) {
        json_t *root = kat_load(files[i].path), *g, *t;
        size_t gi, ti;
        json_array_foreach(json_object_get(root, "testGroups"), gi, g)
        {
            json_t *tests = json_object_get(g, "tests");
            if (!kat_is(g, "testType", "AFT")) {
                kat_na(&k, (unsigned)json_array_size(tests), "MCT/LDT groups not run");
                continue;
            }
            json_array_foreach(tests, ti, t)
            {
                CK_ULONG n, mdn;
                kat_vec_start(&v, files[i].path, t);
                CK_BYTE *msg = kat_vec_hex(&v, t, "msg", &n), *md = kat_vec_hex(&v, t, "md", &mdn);
                if (msg == NULL || md == NULL)
                    continue;
                if (kat_int(t, "len") != (long)(8 * n)) {
                    kat_na(&k, 1, "bit-oriented messages");
                    continue;
                }
                if (need(&v, files[i].mech, files[i].mname, ti % 2 == 0 ? 2 : 1))
                    digest_vector(&v, &files[i], msg, n, md, mdn, ti % 2 == 0);
            }
        }
        json_decref(root);
    }
    kat_vec_free(&v);
    kat_end(&k);
}

static void test_sha2(void **state)
{
    static const struct hash_file files[] = {
        {"acvp/SHA2-256-1.0/internalProjection.json", "CKM_SHA256", CKM_SHA256},
        {"acvp/SHA2-384-1.0/internalProjection.json", "CKM_SHA384", CKM_SHA384},
        {"acvp/SHA2-512-1.0/internalProjection.json", "CKM_SHA512", CKM_SHA512},
    };
    (void)state;
    digest_family("SHA-2", files, KAT_N(files));
}

static void test_sha3(void **state)
{
    static const struct hash_file files[] = {
        {"acvp/SHA3-256-2.0/internalProjection.json", "CKM_SHA3_256", CKM_SHA3_256},
        {"acvp/SHA3-384-2.0/internalProjection.json", "CKM_SHA3_384", CKM_SHA3_384},
        {"acvp/SHA3-512-2.0/internalProjection.json", "CKM_SHA3_512", CKM_SHA3_512},
    };
    (void)state;
    digest_family("SHA-3", files, KAT_N(files));
}

/* ---- MACs: HMAC and CMAC --------------------------------------------------- */

/* A MAC: the full-length mechanism and the _GENERAL one (length given by a
 * CK_MAC_GENERAL_PARAMS), and the key type used with it. */
struct mac_def {
    const char *name, *gname;
    CK_MECHANISM_TYPE full, general;
    CK_ULONG len; /* full MAC length */
    CK_KEY_TYPE kt;
};

// clang-format off
static const struct mac_def hmac_sha256 = {"CKM_SHA256_HMAC", "CKM_SHA256_HMAC_GENERAL",
    CKM_SHA256_HMAC, CKM_SHA256_HMAC_GENERAL, 32, CKK_GENERIC_SECRET};
static const struct mac_def hmac_sha384 = {"CKM_SHA384_HMAC", "CKM_SHA384_HMAC_GENERAL",
    CKM_SHA384_HMAC, CKM_SHA384_HMAC_GENERAL, 48, CKK_GENERIC_SECRET};
static const struct mac_def hmac_sha512 = {"CKM_SHA512_HMAC", "CKM_SHA512_HMAC_GENERAL",
    CKM_SHA512_HMAC, CKM_SHA512_HMAC_GENERAL, 64, CKK_GENERIC_SECRET};
static const struct mac_def hmac_sha3_256 = {"CKM_SHA3_256_HMAC", "CKM_SHA3_256_HMAC_GENERAL",
    CKM_SHA3_256_HMAC, CKM_SHA3_256_HMAC_GENERAL, 32, CKK_GENERIC_SECRET};
static const struct mac_def aes_cmac = {"CKM_AES_CMAC", "CKM_AES_CMAC_GENERAL",
    CKM_AES_CMAC, CKM_AES_CMAC_GENERAL, 16, CKK_AES};
// clang-format on

/* C_VerifyInit + C_Verify must give want. */
static void verify_expect(struct kat_vec *v, CK_MECHANISM *m, CK_OBJECT_HANDLE h,
                          const CK_BYTE *msg, CK_ULONG mn, const CK_BYTE *mac, CK_ULONG macn,
                          CK_RV want, const char *what)
{
    CK_RV rv = F->C_VerifyInit(S, m, h);
    if (rv == CKR_OK)
        rv = F->C_Verify(S, (CK_BYTE_PTR)msg, mn, (CK_BYTE_PTR)mac, macn);
    if (!skipped(v, rv, what))
        kat_check(v, rv == want, "%s: %s, expected %s", what, kat_rv_name(rv), kat_rv_name(want));
}

/* One MAC vector.  valid: C_Sign (single and multi-part) gives mac, C_Verify
 * accepts it and rejects it with a bit flipped; otherwise C_Verify must
 * reject mac. */
static void mac_vector(struct kat_vec *v, const struct mac_def *d, const CK_BYTE *key, CK_ULONG kn,
                       const CK_BYTE *msg, CK_ULONG mn, const CK_BYTE *mac, CK_ULONG macn,
                       bool valid)
{
    bool general = macn != d->len;
    mac_general_params plen = macn;
    CK_MECHANISM m = {general ? d->general : d->full, general ? &plen : NULL,
                      general ? sizeof(plen) : 0};
    CK_OBJECT_HANDLE h;
    CK_BYTE out[64];
    CK_ULONG len = sizeof(out), half = mn / 2;
    if (!need(v, m.mechanism, general ? d->gname : d->name, valid ? 4 : 1) ||
        !make_key(v, d->kt, key, kn, KAT_U_SIGN | KAT_U_VERIFY, &h))
        return;
    if (valid) {
        CK_RV rv = F->C_SignInit(S, &m, h);
        if (rv == CKR_OK)
            rv = F->C_Sign(S, (CK_BYTE_PTR)msg, mn, out, &len);
        check_out(v, "C_Sign", rv, out, len, mac, macn);
        len = sizeof(out);
        rv = F->C_SignInit(S, &m, h);
        if (rv == CKR_OK)
            rv = F->C_SignUpdate(S, (CK_BYTE_PTR)msg, half);
        if (rv == CKR_OK)
            rv = F->C_SignUpdate(S, (CK_BYTE_PTR)msg + half, mn - half);
        if (rv == CKR_OK)
            rv = F->C_SignFinal(S, out, &len);
        check_out(v, "C_SignUpdate x2 + C_SignFinal", rv, out, len, mac, macn);
        verify_expect(v, &m, h, msg, mn, mac, macn, CKR_OK, "C_Verify");
        verify_expect(v, &m, h, msg, mn, kat_vec_flip(v, mac, macn), macn, CKR_SIGNATURE_INVALID,
                      "C_Verify (flipped bit)");
    } else {
        verify_expect(v, &m, h, msg, mn, mac, macn, CKR_SIGNATURE_INVALID, "C_Verify");
    }
    kat_destroy(h);
}

/* ACVP HMAC file: key, msg, mac (macLen bits). */
static void hmac_acvp(struct kat *k, struct kat_vec *v, const char *path, const struct mac_def *d)
{
    json_t *root = kat_load(path), *g, *t;
    size_t gi, ti;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            CK_ULONG kn, mn, macn;
            kat_vec_start(v, path, t);
            CK_BYTE *key = kat_vec_hex(v, t, "key", &kn), *msg = kat_vec_hex(v, t, "msg", &mn);
            CK_BYTE *mac = kat_vec_hex(v, t, "mac", &macn);
            if (key == NULL || msg == NULL || mac == NULL)
                continue;
            if (kat_int(t, "macLen") != (long)(8 * macn) ||
                kat_int(t, "msgLen") != (long)(8 * mn)) {
                kat_na(k, 1, "bit-oriented lengths");
                continue;
            }
            mac_vector(v, d, key, kn, msg, mn, mac, macn, true);
        }
    }
    json_decref(root);
}

/* Wycheproof MacTest file: valid tags must verify, invalid ones must not.
 * A vector without a tag is an invalid key (size): it must be refused at
 * C_CreateObject (CKR_ATTRIBUTE_VALUE_INVALID) or C_SignInit
 * (CKR_KEY_SIZE_RANGE). */
static void mac_wycheproof(struct kat *k, struct kat_vec *v, const char *path,
                           const struct mac_def *d)
{
    json_t *root = kat_load(path), *g, *t;
    size_t gi, ti;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            CK_ULONG kn, mn, tn;
            kat_vec_start(v, path, t);
            CK_BYTE *key = kat_vec_hex(v, t, "key", &kn), *msg = kat_vec_hex(v, t, "msg", &mn);
            CK_BYTE *tag = kat_vec_hex(v, t, "tag", &tn);
            if (key == NULL || msg == NULL || tag == NULL)
                continue;
            if (kat_is(t, "result", "acceptable")) {
                kat_na(k, 1, "acceptable vectors not run");
            } else if (tn == 0 && kat_is(t, "result", "invalid")) {
                CK_OBJECT_HANDLE h;
                CK_MECHANISM m = {d->full, NULL, 0};
                CK_RV rv;
                if (!need(v, d->full, d->name, 1))
                    continue;
                rv = kat_secret(d->kt, key, kn, KAT_U_SIGN | KAT_U_VERIFY, &h);
                if (rv != CKR_OK) {
                    kat_check(
                        v, rv == CKR_ATTRIBUTE_VALUE_INVALID,
                        "invalid key: C_CreateObject %s, expected CKR_ATTRIBUTE_VALUE_INVALID",
                        kat_rv_name(rv));
                    continue;
                }
                rv = F->C_SignInit(S, &m, h);
                if (rv == CKR_OK) {
                    CK_BYTE out[64];
                    CK_ULONG len = sizeof(out);
                    F->C_Sign(S, msg, mn, out, &len); /* ends the operation */
                }
                if (!softhsm_quirk(v, rv == CKR_MECHANISM_INVALID, "takes AES keys of any size"))
                    kat_check(
                        v, rv == CKR_KEY_SIZE_RANGE,
                        "invalid key of %lu bytes: C_SignInit %s, expected CKR_KEY_SIZE_RANGE",
                        (unsigned long)kn, kat_rv_name(rv));
                kat_destroy(h);
            } else {
                mac_vector(v, d, key, kn, msg, mn, tag, tn, kat_is(t, "result", "valid"));
            }
        }
    }
    json_decref(root);
}

static void test_hmac(void **state)
{
    struct kat k;
    struct kat_vec v = {.k = &k};
    (void)state;
    kat_begin(&k, "HMAC");
    hmac_acvp(&k, &v, "acvp/HMAC-SHA2-256-2.0/internalProjection.json", &hmac_sha256);
    hmac_acvp(&k, &v, "acvp/HMAC-SHA2-384-2.0/internalProjection.json", &hmac_sha384);
    hmac_acvp(&k, &v, "acvp/HMAC-SHA2-512-2.0/internalProjection.json", &hmac_sha512);
    hmac_acvp(&k, &v, "acvp/HMAC-SHA3-256-2.0/internalProjection.json", &hmac_sha3_256);
    mac_wycheproof(&k, &v, "wycheproof/hmac_sha256_test.json", &hmac_sha256);
    kat_vec_free(&v);
    kat_end(&k);
}

/* ACVP CMAC-AES: gen vectors must sign to mac, ver vectors verify per
 * testPassed; the MAC length (macLen bits) picks CKM_AES_CMAC or
 * CKM_AES_CMAC_GENERAL. */
static void test_aes_cmac(void **state)
{
    static const char path[] = "acvp/CMAC-AES-1.0/internalProjection.json";
    struct kat k;
    struct kat_vec v = {.k = &k};
    json_t *root, *g, *t;
    size_t gi, ti;
    (void)state;
    kat_begin(&k, "AES-CMAC");
    root = kat_load(path);
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            CK_ULONG kn, mn, macn;
            kat_vec_start(&v, path, t);
            CK_BYTE *key = kat_vec_hex(&v, t, "key", &kn),
                    *msg = kat_vec_hex(&v, t, "message", &mn);
            CK_BYTE *mac = kat_vec_hex(&v, t, "mac", &macn);
            if (key == NULL || msg == NULL || mac == NULL)
                continue;
            if (kat_int(g, "macLen") != (long)(8 * macn) ||
                kat_int(g, "msgLen") != (long)(8 * mn)) {
                kat_na(&k, 1, "bit-oriented lengths");
                continue;
            }
            mac_vector(&v, &aes_cmac, key, kn, msg, mn, mac, macn,
                       kat_is(g, "direction", "gen") || kat_passed(t));
        }
    }
    json_decref(root);
    mac_wycheproof(&k, &v, "wycheproof/aes_cmac_test.json", &aes_cmac);
    kat_vec_free(&v);
    kat_end(&k);
}

/* ---- AES: ECB, CBC, CTR, GCM ------------------------------------------------ */

#define SINGLE_PART ((CK_ULONG)-1)

/* One encryption or decryption of in (n bytes) into out (*outn: its size,
 * then the output length).  split == SINGLE_PART: C_Encrypt/C_Decrypt;
 * otherwise C_*Update on in[0, split) and in[split, n) (empty parts left
 * out) and C_*Final, outputs concatenated.  *at_init: the failure (if
 * any) was at C_*Init. */
static CK_RV cipher(bool enc, CK_MECHANISM *m, CK_OBJECT_HANDLE h, const CK_BYTE *in, CK_ULONG n,
                    CK_ULONG split, CK_BYTE *out, CK_ULONG *outn, bool *at_init)
{
    CK_ULONG cap = *outn, done = 0, len;
    CK_RV rv = enc ? F->C_EncryptInit(S, m, h) : F->C_DecryptInit(S, m, h);
    *at_init = rv != CKR_OK;
    if (rv != CKR_OK)
        return rv;
    if (split == SINGLE_PART)
        return enc ? F->C_Encrypt(S, (CK_BYTE_PTR)in, n, out, outn)
                   : F->C_Decrypt(S, (CK_BYTE_PTR)in, n, out, outn);
    const CK_ULONG part[2][2] = {{0, split < n ? split : n}, {split < n ? split : n, n}};
    for (int i = 0; i < 2; i++) {
        if (part[i][1] == part[i][0])
            continue;
        len = cap - done;
        rv = enc ? F->C_EncryptUpdate(S, (CK_BYTE_PTR)in + part[i][0], part[i][1] - part[i][0],
                                      out + done, &len)
                 : F->C_DecryptUpdate(S, (CK_BYTE_PTR)in + part[i][0], part[i][1] - part[i][0],
                                      out + done, &len);
        if (rv != CKR_OK)
            return rv;
        done += len;
    }
    len = cap - done;
    rv = enc ? F->C_EncryptFinal(S, out + done, &len) : F->C_DecryptFinal(S, out + done, &len);
    *outn = done + len;
    return rv;
}

/* Encrypts (enc) or decrypts in, single-part and multi-part (split as in
 * cipher()), and compares the first `bits` bits of each output with want. */
static void cipher_check(struct kat_vec *v, bool enc, CK_MECHANISM *m, CK_OBJECT_HANDLE h,
                         const CK_BYTE *in, CK_ULONG n, const CK_BYTE *want, CK_ULONG wn,
                         CK_ULONG bits, CK_ULONG split)
{
    for (int multi = 0; multi < 2; multi++) {
        CK_ULONG outn = n + 64;
        CK_BYTE *out = kat_vec_alloc(v, outn);
        bool at_init;
        CK_RV rv = cipher(enc, m, h, in, n, multi ? split : SINGLE_PART, out, &outn, &at_init);
        char what[64];
        snprintf(what, sizeof(what), "%s%s", enc ? "encrypt" : "decrypt",
                 multi ? " (multi-part)" : "");
        check_out_bits(v, what, rv, out, outn, want, wn, bits);
    }
}

struct block_mode {
    const char *family, *path, *mname;
    CK_MECHANISM_TYPE mech;
    bool iv, ctr;
};

/* One ECB/CBC/CTR vector, both directions, single and multi-part.  CTR
 * payloads are bit lengths (payloadLen): only those bits are compared. */
static void block_vector(struct kat_vec *v, const struct block_mode *bm, const json_t *t)
{
    CK_ULONG kn, pn, cn, ivn = 0;
    CK_BYTE *key = kat_vec_hex(v, t, "key", &kn), *pt = kat_vec_hex(v, t, "pt", &pn);
    CK_BYTE *ct = kat_vec_hex(v, t, "ct", &cn), *iv = bm->iv ? kat_vec_hex(v, t, "iv", &ivn) : NULL;
    CK_AES_CTR_PARAMS ctr = {128, {0}};
    CK_MECHANISM m = {bm->mech, NULL, 0};
    CK_ULONG bits = bm->ctr ? (CK_ULONG)kat_int(t, "payloadLen") : 8 * pn;
    CK_OBJECT_HANDLE h;
    if (key == NULL || pt == NULL || ct == NULL || (bm->iv && iv == NULL))
        return;
    if (pn != cn || (bm->iv && ivn != 16) || bits > 8 * pn || bits + 8 <= 8 * pn) {
        kat_check(v, false, "malformed vector");
        return;
    }
    if (bm->ctr) {
        memcpy(ctr.cb, iv, 16);
        m.pParameter = &ctr;
        m.ulParameterLen = sizeof(ctr);
    } else if (bm->iv) {
        m.pParameter = iv;
        m.ulParameterLen = ivn;
    }
    if (!need(v, bm->mech, bm->mname, 4) ||
        !make_key(v, CKK_AES, key, kn, KAT_U_ENCRYPT | KAT_U_DECRYPT, &h))
        return;
    /* Multi-part: two parts, each a multiple of the block (CTR: halves). */
    CK_ULONG split = bm->ctr ? pn / 2 : pn / 32 * 16;
    cipher_check(v, true, &m, h, pt, pn, ct, cn, bits, split);
    cipher_check(v, false, &m, h, ct, cn, pt, pn, bits, split);
    kat_destroy(h);
}

/* ACVP AES block-mode file: AFT groups (MCT groups not run). */
static void block_family(const struct block_mode *bm)
{
    struct kat k;
    struct kat_vec v = {.k = &k};
    json_t *root, *g, *t;
    size_t gi, ti;
    kat_begin(&k, bm->family);
    root = kat_load(bm->path);
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        json_t *tests = json_object_get(g, "tests");
        if (!kat_is(g, "testType", "AFT")) {
            kat_na(&k, (unsigned)json_array_size(tests), "MCT groups not run");
            continue;
        }
        json_array_foreach(tests, ti, t)
        {
            kat_vec_start(&v, bm->path, t);
            block_vector(&v, bm, t);
        }
    }
    json_decref(root);
    kat_vec_free(&v);
    kat_end(&k);
}

// clang-format off
static const struct block_mode block_modes[] = {
    {"AES-ECB", "acvp/ACVP-AES-ECB-1.0/internalProjection.json", "CKM_AES_ECB", CKM_AES_ECB,
     false, false},
    {"AES-CBC", "acvp/ACVP-AES-CBC-1.0/internalProjection.json", "CKM_AES_CBC", CKM_AES_CBC,
     true, false},
    {"AES-CTR", "acvp/ACVP-AES-CTR-1.0/internalProjection.json", "CKM_AES_CTR", CKM_AES_CTR,
     true, true},
};
// clang-format on

static void test_aes_ecb(void **state)
{
    (void)state;
    block_family(&block_modes[0]);
}

static void test_aes_cbc(void **state)
{
    (void)state;
    block_family(&block_modes[1]);
}

static void test_aes_ctr(void **state)
{
    (void)state;
    block_family(&block_modes[2]);
}

/* The fields of one AES-GCM vector. */
struct gcm_vec {
    const CK_BYTE *key, *iv, *aad, *pt, *ct, *tag;
    CK_ULONG kn, ivn, an, pn, cn, tn;
};

/* A decryption that must fail: CKR_ENCRYPTED_DATA_INVALID with no
 * plaintext released (the output buffer untouched or zeroed), or, for an empty IV,
 * CKR_MECHANISM_PARAM_INVALID at C_DecryptInit. */
static void gcm_reject(struct kat_vec *v, CK_MECHANISM *m, CK_OBJECT_HANDLE h, const CK_BYTE *in,
                       CK_ULONG n, bool empty_iv)
{
    for (int multi = 0; multi < 2; multi++) {
        CK_ULONG cap = n + 64, outn = cap;
        CK_BYTE *out = kat_vec_alloc(v, cap), *clean = kat_vec_alloc(v, cap);
        bool at_init;
        memset(out, 0xa5, cap);
        memset(clean, 0xa5, cap);
        CK_RV rv = cipher(false, m, h, in, n, multi ? n / 2 : SINGLE_PART, out, &outn, &at_init);
        bool clean_out = true; /* every byte as filled (0xa5) or wiped (0) */
        for (CK_ULONG i = 0; i < cap; i++)
            clean_out = clean_out && (out[i] == clean[i] || out[i] == 0);
        if (empty_iv && at_init && rv == CKR_MECHANISM_PARAM_INVALID)
            kat_check(v, true, "-");
        else if (!softhsm_quirk(v, rv == CKR_GENERAL_ERROR && clean_out,
                                "CKR_GENERAL_ERROR for a bad GCM tag"))
            kat_check(v, rv == CKR_ENCRYPTED_DATA_INVALID && clean_out,
                      "decrypt%s of an invalid vector: %s%s, expected CKR_ENCRYPTED_DATA_INVALID%s",
                      multi ? " (multi-part)" : "", kat_rv_name(rv),
                      at_init ? " at C_DecryptInit" : "",
                      clean_out ? "" : "; plaintext was released");
    }
}

/* C_EncryptInit of pt (pn bytes); when it succeeds the operation is
 * finished with C_Encrypt.  Returns the C_EncryptInit code. */
static CK_RV encrypt_init(struct kat_vec *v, CK_MECHANISM *m, CK_OBJECT_HANDLE h, const CK_BYTE *pt,
                          CK_ULONG pn)
{
    CK_ULONG len = pn + 64;
    CK_RV rv = F->C_EncryptInit(S, m, h);
    if (rv == CKR_OK)
        F->C_Encrypt(S, (CK_BYTE_PTR)pt, pn, kat_vec_alloc(v, len), &len);
    return rv;
}

/* One AES-GCM vector.  valid: encryption gives ct||tag and decryption pt
 * (single and multi-part) -- or, for an IV length other than 96 bits, the
 * module refuses it at C_EncryptInit (CKR_MECHANISM_PARAM_INVALID; counted
 * as not applicable).  Otherwise decryption must fail (gcm_reject), and an
 * empty IV must be refused for encryption too. */
static void gcm_vector(struct kat_vec *v, const struct gcm_vec *x, bool valid)
{
    CK_GCM_PARAMS p = {(CK_BYTE_PTR)x->iv,  x->ivn, 8 * x->ivn,
                       (CK_BYTE_PTR)x->aad, x->an,  8 * x->tn};
    CK_MECHANISM m = {CKM_AES_GCM, &p, sizeof(p)};
    CK_OBJECT_HANDLE h;
    CK_BYTE *ctag = kat_vec_cat(v, x->ct, x->cn, x->tag, x->tn);
    CK_ULONG n = x->cn + x->tn;
    unsigned checks = valid ? 4 : x->ivn == 0 ? 3 : 2;
    if (!need(v, CKM_AES_GCM, "CKM_AES_GCM", checks) ||
        !make_key(v, CKK_AES, x->key, x->kn, KAT_U_ENCRYPT | KAT_U_DECRYPT, &h))
        return;
    if (!valid) {
        gcm_reject(v, &m, h, ctag, n, x->ivn == 0);
        CK_RV rv = x->ivn == 0 ? encrypt_init(v, &m, h, x->pt, x->pn) : CKR_OK;
        if (x->ivn == 0 && !softhsm_quirk(v, rv == CKR_OK, "accepts an empty GCM IV"))
            kat_check(v, rv == CKR_MECHANISM_PARAM_INVALID,
                      "C_EncryptInit with an empty IV: %s, expected CKR_MECHANISM_PARAM_INVALID",
                      kat_rv_name(rv));
    } else if (x->ivn != 12 &&
               encrypt_init(v, &m, h, x->pt, x->pn) == CKR_MECHANISM_PARAM_INVALID) {
        kat_na(v->k, 1, "GCM IV lengths refused (CKR_MECHANISM_PARAM_INVALID)");
    } else if (!softhsm_quirk(v, x->ivn > 128, "wrong GCM output for IVs over 128 bytes")) {
        cipher_check(v, true, &m, h, x->pt, x->pn, ctag, n, 8 * n, x->pn / 32 * 16);
        cipher_check(v, false, &m, h, ctag, n, x->pt, x->pn, 8 * x->pn, n / 2);
    }
    kat_destroy(h);
}

/* Reads the vector's fields (the plaintext under pt_key); false if one is
 * missing. */
static bool gcm_fields(struct kat_vec *v, const json_t *t, const char *pt_key, struct gcm_vec *x)
{
    x->key = kat_vec_hex(v, t, "key", &x->kn);
    x->iv = x->key != NULL ? kat_vec_hex(v, t, "iv", &x->ivn) : NULL;
    x->aad = x->iv != NULL ? kat_vec_hex(v, t, "aad", &x->an) : NULL;
    x->pt = x->aad != NULL ? kat_vec_hex(v, t, pt_key, &x->pn) : NULL;
    x->ct = x->pt != NULL ? kat_vec_hex(v, t, "ct", &x->cn) : NULL;
    x->tag = x->ct != NULL ? kat_vec_hex(v, t, "tag", &x->tn) : NULL;
    return x->tag != NULL;
}

static void test_aes_gcm(void **state)
{
    static const char acvp[] = "acvp/ACVP-AES-GCM-1.0/internalProjection.json",
                      wp[] = "wycheproof/aes_gcm_test.json";
    struct kat k;
    struct kat_vec v = {.k = &k};
    struct gcm_vec x;
    json_t *root, *g, *t;
    size_t gi, ti;
    (void)state;
    kat_begin(&k, "AES-GCM");
    root = kat_load(acvp);
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            kat_vec_start(&v, acvp, t);
            bool valid = kat_is(g, "direction", "encrypt") || kat_passed(t);
            if (!gcm_fields(&v, t, "pt", &x))
                continue;
            if (kat_int(g, "tagLen") != (long)(8 * x.tn) ||
                kat_int(g, "ivLen") != (long)(8 * x.ivn) || (valid && x.pn != x.cn)) {
                kat_check(&v, false, "malformed vector");
                continue;
            }
            gcm_vector(&v, &x, valid);
        }
    }
    json_decref(root);
    root = kat_load(wp);
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            kat_vec_start(&v, wp, t);
            if (!gcm_fields(&v, t, "msg", &x))
                continue;
            if (kat_is(t, "result", "acceptable"))
                kat_na(&k, 1, "acceptable vectors not run");
            else
                gcm_vector(&v, &x, kat_is(t, "result", "valid"));
        }
    }
    json_decref(root);
    kat_vec_free(&v);
    kat_end(&k);
}

/* ---- AES key wrap: KW and KWP -------------------------------------------- */

/* Expected outcome of a vector. */
enum want { W_INVALID, W_VALID, W_EITHER };

/* A Wycheproof result: valid, invalid, or acceptable (either way). */
static enum want want_of(const json_t *t)
{
    return kat_is(t, "result", "valid")        ? W_VALID
           : kat_is(t, "result", "acceptable") ? W_EITHER
                                               : W_INVALID;
}

/* Codes with which C_UnwrapKey may refuse a bad wrapped key. */
static bool unwrap_refusal(CK_RV rv)
{
    return rv == CKR_WRAPPED_KEY_INVALID || rv == CKR_WRAPPED_KEY_LEN_RANGE ||
           rv == CKR_ENCRYPTED_DATA_INVALID;
}

/* Wraps a generic secret of value pt with kek.  want: the expected
 * outcome (W_VALID: the output is ct; W_INVALID: no output, or another
 * one; W_EITHER: a refusal or ct).  A payload the module will not hold as
 * a key counts as a refusal. */
static void wrap_check(struct kat_vec *v, CK_MECHANISM *m, CK_OBJECT_HANDLE kek, const CK_BYTE *pt,
                       CK_ULONG pn, const CK_BYTE *ct, CK_ULONG cn, enum want want)
{
    CK_OBJECT_HANDLE h;
    CK_ULONG outn = pn + 64;
    CK_BYTE *out = kat_vec_alloc(v, outn);
    CK_RV rv = kat_secret(CKK_GENERIC_SECRET, pt, pn, KAT_U_OPEN, &h);
    if (rv != CKR_OK) {
        if (want == W_VALID && !skipped(v, rv, "C_CreateObject"))
            kat_check(v, false, "payload key of %lu bytes: C_CreateObject %s", (unsigned long)pn,
                      kat_rv_name(rv));
        else if (want != W_VALID)
            kat_check(v, true, "-");
        return;
    }
    rv = F->C_WrapKey(S, m, kek, h, out, &outn);
    kat_destroy(h);
    if (want == W_VALID)
        check_out(v, "C_WrapKey", rv, out, outn, ct, cn);
    else if (want == W_INVALID)
        kat_check(v, rv != CKR_OK || outn != cn || memcmp(out, ct, cn) != 0,
                  "C_WrapKey of an invalid payload (%lu bytes) gave the vector's output",
                  (unsigned long)pn);
    else if (rv == CKR_OK)
        check_out(v, "C_WrapKey", rv, out, outn, ct, cn);
    else
        kat_check(v, true, "-");
}

/* Unwraps ct with kek into a readable generic secret: its value must be pt
 * (W_VALID); W_INVALID: C_UnwrapKey must refuse (unwrap_refusal);
 * W_EITHER: a refusal or pt. */
static void unwrap_check(struct kat_vec *v, CK_MECHANISM *m, CK_OBJECT_HANDLE kek,
                         const CK_BYTE *ct, CK_ULONG cn, const CK_BYTE *pt, CK_ULONG pn,
                         enum want want)
{
    CK_ATTRIBUTE t[6];
    CK_ULONG nt = kat_open_template(t, NULL);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_RV rv = F->C_UnwrapKey(S, m, kek, (CK_BYTE_PTR)ct, cn, t, nt, &h);
    if (want == W_VALID || (want == W_EITHER && rv == CKR_OK)) {
        check_made_key(v, "C_UnwrapKey", rv, h, pt, pn);
        return;
    }
    if (rv == CKR_OK)
        kat_destroy(h);
    if (!softhsm_quirk(v, rv == CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR for a bad wrapped key"))
        kat_check(v, unwrap_refusal(rv),
                  "C_UnwrapKey of an invalid wrapped key (%lu bytes): %s, expected "
                  "CKR_WRAPPED_KEY_INVALID/LEN_RANGE or CKR_ENCRYPTED_DATA_INVALID",
                  (unsigned long)cn, kat_rv_name(rv));
}

struct wrap_mode {
    const char *family, *acvp, *wycheproof, *mname;
    CK_MECHANISM_TYPE mech;
};

/* One wrap vector: the KEK, then wrap (when pt is known) and unwrap. */
static void wrap_vector(struct kat_vec *v, const struct wrap_mode *wm, const CK_BYTE *key,
                        CK_ULONG kn, const CK_BYTE *pt, CK_ULONG pn, const CK_BYTE *ct, CK_ULONG cn,
                        enum want want)
{
    CK_MECHANISM m = {wm->mech, NULL, 0};
    CK_OBJECT_HANDLE kek;
    if (!need(v, wm->mech, wm->mname, pt != NULL ? 2 : 1) ||
        !make_key(v, CKK_AES, key, kn, KAT_U_WRAP | KAT_U_UNWRAP, &kek))
        return;
    if (pt != NULL)
        wrap_check(v, &m, kek, pt, pn, ct, cn, want);
    unwrap_check(v, &m, kek, ct, cn, pt, pn, want);
    kat_destroy(kek);
}

/* ACVP KW/KWP: prompt.json (inputs) joined with expectedResults.json. */
static void wrap_acvp(struct kat_vec *v, const struct wrap_mode *wm)
{
    char ppath[128], rpath[128];
    snprintf(ppath, sizeof(ppath), "%s/prompt.json", wm->acvp);
    snprintf(rpath, sizeof(rpath), "%s/expectedResults.json", wm->acvp);
    json_t *prompt = kat_load(ppath), *results = kat_load(rpath), *g, *t;
    size_t gi, ti;
    json_array_foreach(json_object_get(prompt, "testGroups"), gi, g)
    {
        bool enc = kat_is(g, "direction", "encrypt");
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            CK_ULONG kn, pn = 0, cn;
            CK_BYTE *key, *pt = NULL, *ct;
            const json_t *r = kat_acvp_result(results, kat_int(g, "tgId"), kat_int(t, "tcId"));
            kat_vec_start(v, ppath, t);
            if (r == NULL) {
                kat_check(v, false, "no expected result");
                continue;
            }
            key = kat_vec_hex(v, t, "key", &kn);
            if (enc) {
                pt = kat_vec_hex(v, t, "pt", &pn);
                ct = kat_vec_hex(v, r, "ct", &cn);
            } else {
                ct = kat_vec_hex(v, t, "ct", &cn);
                if (kat_passed(r))
                    pt = kat_vec_hex(v, r, "pt", &pn);
            }
            if (key == NULL || ct == NULL || ((enc || kat_passed(r)) && pt == NULL))
                continue;
            wrap_vector(v, wm, key, kn, pt, pn, ct, cn, enc || kat_passed(r) ? W_VALID : W_INVALID);
        }
    }
    json_decref(prompt);
    json_decref(results);
}

/* Wycheproof KeywrapTest: msg wrapped with key is ct (valid), or must not
 * be (invalid); "acceptable" (e.g. an 8-byte KW payload) may go either way. */
static void wrap_wycheproof(struct kat_vec *v, const struct wrap_mode *wm)
{
    json_t *root = kat_load(wm->wycheproof), *g, *t;
    size_t gi, ti;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            CK_ULONG kn, pn, cn;
            kat_vec_start(v, wm->wycheproof, t);
            CK_BYTE *key = kat_vec_hex(v, t, "key", &kn), *pt = kat_vec_hex(v, t, "msg", &pn);
            CK_BYTE *ct = kat_vec_hex(v, t, "ct", &cn);
            if (key != NULL && pt != NULL && ct != NULL)
                wrap_vector(v, wm, key, kn, pt, pn, ct, cn, want_of(t));
        }
    }
    json_decref(root);
}

static void wrap_family(const struct wrap_mode *wm)
{
    struct kat k;
    struct kat_vec v = {.k = &k};
    kat_begin(&k, wm->family);
    wrap_acvp(&v, wm);
    wrap_wycheproof(&v, wm);
    kat_vec_free(&v);
    kat_end(&k);
}

static void test_aes_kw(void **state)
{
    static const struct wrap_mode wm = {"AES-KW", "acvp/ACVP-AES-KW-1.0",
                                        "wycheproof/aes_wrap_test.json", "CKM_AES_KEY_WRAP",
                                        CKM_AES_KEY_WRAP};
    (void)state;
    wrap_family(&wm);
}

static void test_aes_kwp(void **state)
{
    static const struct wrap_mode wm = {"AES-KWP", "acvp/ACVP-AES-KWP-1.0",
                                        "wycheproof/aes_kwp_test.json", "CKM_AES_KEY_WRAP_KWP",
                                        CKM_AES_KEY_WRAP_KWP};
    (void)state;
    wrap_family(&wm);
}

/* ---- key derivation: HKDF, SP 800-108 counter mode, PBKDF2 ------------------ */

/* C_DeriveKey of a readable generic secret of len bytes from base: its value
 * must be want (want NULL: C_DeriveKey must fail). */
static void derive_check(struct kat_vec *v, CK_MECHANISM *m, CK_OBJECT_HANDLE base, CK_ULONG len,
                         const CK_BYTE *want)
{
    CK_ATTRIBUTE t[6];
    CK_ULONG nt = kat_open_template(t, &len);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_RV rv = F->C_DeriveKey(S, m, base, t, nt, &h);
    check_made_key(v, "C_DeriveKey", rv, h, want, len);
}

/* HKDF (extract and expand) of ikm with hash prf; okm NULL: must fail.  An
 * empty salt is CKF_HKDF_SALT_NULL (RFC 5869: HashLen zero bytes). */
static void hkdf_vector(struct kat_vec *v, CK_MECHANISM_TYPE prf, const CK_BYTE *ikm, CK_ULONG in,
                        const CK_BYTE *salt, CK_ULONG sn, const CK_BYTE *info, CK_ULONG fn,
                        CK_ULONG len, const CK_BYTE *okm)
{
    CK_HKDF_PARAMS p = {CK_TRUE,
                        CK_TRUE,
                        prf,
                        sn > 0 ? CKF_HKDF_SALT_DATA : CKF_HKDF_SALT_NULL,
                        sn > 0 ? (CK_BYTE_PTR)salt : NULL,
                        sn,
                        CK_INVALID_HANDLE,
                        fn > 0 ? (CK_BYTE_PTR)info : NULL,
                        fn};
    CK_MECHANISM m = {CKM_HKDF_DERIVE, &p, sizeof(p)};
    CK_OBJECT_HANDLE base;
    /* A derived key of a sensitive base stays sensitive: the base is open. */
    if (!need(v, CKM_HKDF_DERIVE, "CKM_HKDF_DERIVE", 1) ||
        !make_key(v, CKK_GENERIC_SECRET, ikm, in, KAT_U_DERIVE | KAT_U_OPEN, &base))
        return;
    derive_check(v, &m, base, len, okm);
    kat_destroy(base);
}

/* The hash of an ACVP hmacAlg; 0 if unknown. */
static CK_MECHANISM_TYPE hkdf_hash(const char *alg)
{
    static const struct {
        const char *name;
        CK_MECHANISM_TYPE mech;
    } map[] = {{"SHA2-224", CKM_SHA224},
               {"SHA2-256", CKM_SHA256},
               {"SHA2-384", CKM_SHA384},
               {"SHA2-512", CKM_SHA512},
               {"SHA3-256", CKM_SHA3_256}};
    for (size_t i = 0; alg != NULL && i < KAT_N(map); i++)
        if (strcmp(alg, map[i].name) == 0)
            return map[i].mech;
    return 0;
}

/* ACVP KDA HKDF (SP 800-56C): fixedInfo = uPartyInfo || vPartyInfo ||
 * L (32-bit big-endian, bits), a party's info being partyId ||
 * ephemeralData. */
static void hkdf_acvp(struct kat *k, struct kat_vec *v)
{
    static const char path[] = "acvp/KDA-HKDF-Sp800-56Cr1/internalProjection.json";
    json_t *root = kat_load(path), *g, *t;
    size_t gi, ti;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            const json_t *p = json_object_get(t, "kdfParameter");
            const json_t *party[2] = {json_object_get(t, "fixedInfoPartyU"),
                                      json_object_get(t, "fixedInfoPartyV")};
            CK_MECHANISM_TYPE hash = hkdf_hash(kat_str(p, "hmacAlg"));
            CK_ULONG zn, sn, dn, fn = 0, bits = (CK_ULONG)kat_int(p, "l");
            kat_vec_start(v, path, t);
            if (!kat_is(p, "fixedInfoPattern", "uPartyInfo||vPartyInfo||l") ||
                !kat_is(p, "fixedInputEncoding", "concatenation") || hash == 0 || bits % 8 != 0) {
                kat_na(k, 1, "KDA parameters other than concatenated uPartyInfo||vPartyInfo||l");
                continue;
            }
            CK_BYTE *z = kat_vec_hex(v, p, "z", &zn), *salt = kat_vec_hex(v, p, "salt", &sn);
            CK_BYTE *dkm = kat_vec_hex(v, t, "dkm", &dn), *info = kat_vec_alloc(v, 1024);
            if (z == NULL || salt == NULL || dkm == NULL)
                continue;
            for (int i = 0; i < 4; i++) {
                const char *field = i % 2 == 0 ? "partyId" : "ephemeralData";
                size_t n = 0;
                unsigned char *b = kat_hexfield(party[i / 2], field, &n);
                if (b != NULL && fn + n <= 1020) {
                    memcpy(info + fn, b, n);
                    fn += n;
                }
                free(b);
            }
            for (int i = 0; i < 4; i++)
                info[fn++] = (CK_BYTE)(bits >> (24 - 8 * i));
            hkdf_vector(v, hash, z, zn, salt, sn, info, fn, bits / 8, dkm);
        }
    }
    json_decref(root);
}

static void test_hkdf(void **state)
{
    static const char wp[] = "wycheproof/hkdf_sha256_test.json";
    struct kat k;
    struct kat_vec v = {.k = &k};
    json_t *root, *g, *t;
    size_t gi, ti;
    (void)state;
    kat_begin(&k, "HKDF");
    hkdf_acvp(&k, &v);
    root = kat_load(wp);
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            CK_ULONG in, sn, fn, on;
            kat_vec_start(&v, wp, t);
            CK_BYTE *ikm = kat_vec_hex(&v, t, "ikm", &in), *salt = kat_vec_hex(&v, t, "salt", &sn);
            CK_BYTE *info = kat_vec_hex(&v, t, "info", &fn), *okm = kat_vec_hex(&v, t, "okm", &on);
            if (ikm == NULL || salt == NULL || info == NULL || okm == NULL)
                continue;
            if (kat_is(t, "result", "acceptable")) {
                kat_na(&k, 1, "acceptable vectors not run");
                continue;
            }
            hkdf_vector(&v, CKM_SHA256, ikm, in, salt, sn, info, fn, (CK_ULONG)kat_int(t, "size"),
                        kat_is(t, "result", "valid") ? okm : NULL);
        }
    }
    json_decref(root);
    kat_vec_free(&v);
    kat_end(&k);
}

/* The PKCS#11 PRF of an ACVP KDF macMode, and its key type. */
static bool kbkdf_prf(const char *mode, CK_SP800_108_PRF_TYPE *prf, CK_KEY_TYPE *kt)
{
    static const struct {
        const char *name;
        CK_SP800_108_PRF_TYPE prf;
        CK_KEY_TYPE kt;
    } map[] = {
        {"HMAC-SHA2-256", CKM_SHA256_HMAC, CKK_GENERIC_SECRET},
        {"HMAC-SHA2-384", CKM_SHA384_HMAC, CKK_GENERIC_SECRET},
        {"HMAC-SHA2-512", CKM_SHA512_HMAC, CKK_GENERIC_SECRET},
        {"CMAC-AES128", CKM_AES_CMAC, CKK_AES},
        {"CMAC-AES192", CKM_AES_CMAC, CKK_AES},
        {"CMAC-AES256", CKM_AES_CMAC, CKK_AES},
    };
    for (size_t i = 0; mode != NULL && i < KAT_N(map); i++)
        if (strcmp(mode, map[i].name) == 0) {
            *prf = map[i].prf;
            *kt = map[i].kt;
            return true;
        }
    return false;
}

/* ACVP KDF (SP 800-108) counter mode: K(i) = PRF(KI, [i] || fixedData) or
 * PRF(KI, fixedData || [i]), [i] big-endian of counterLength bits; no L
 * field beyond what fixedData holds.  Other modes and counter placements
 * are not run. */
static void test_kbkdf(void **state)
{
    static const char path[] = "acvp/KDF-1.0/internalProjection.json";
    struct kat k;
    struct kat_vec v = {.k = &k};
    json_t *root, *g, *t;
    size_t gi, ti;
    (void)state;
    kat_begin(&k, "KBKDF counter");
    root = kat_load(path);
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        json_t *tests = json_object_get(g, "tests");
        CK_SP800_108_PRF_TYPE prf;
        CK_KEY_TYPE kt;
        bool before = kat_is(g, "counterLocation", "before fixed data");
        CK_SP800_108_COUNTER_FORMAT cf = {CK_FALSE, (CK_ULONG)kat_int(g, "counterLength")};
        CK_ULONG len = (CK_ULONG)kat_int(g, "keyOutLength") / 8;
        if (!kat_is(g, "kdfMode", "counter") || !kbkdf_prf(kat_str(g, "macMode"), &prf, &kt) ||
            !(before || kat_is(g, "counterLocation", "after fixed data")) ||
            cf.ulWidthInBits == 0 || kat_int(g, "keyOutLength") % 8 != 0) {
            kat_na(&k, (unsigned)json_array_size(tests), "KDF groups other than counter mode");
            continue;
        }
        json_array_foreach(tests, ti, t)
        {
            CK_ULONG kn, fn, on;
            CK_OBJECT_HANDLE base;
            kat_vec_start(&v, path, t);
            CK_BYTE *ki = kat_vec_hex(&v, t, "keyIn", &kn),
                    *fixed = kat_vec_hex(&v, t, "fixedData", &fn);
            CK_BYTE *ko = kat_vec_hex(&v, t, "keyOut", &on);
            if (ki == NULL || fixed == NULL || ko == NULL)
                continue;
            CK_PRF_DATA_PARAM counter = {CK_SP800_108_ITERATION_VARIABLE, &cf, sizeof(cf)};
            CK_PRF_DATA_PARAM data = {CK_SP800_108_BYTE_ARRAY, fixed, fn};
            CK_PRF_DATA_PARAM dp[2] = {before ? counter : data, before ? data : counter};
            CK_SP800_108_KDF_PARAMS p = {prf, 2, dp, 0, NULL};
            CK_MECHANISM m = {CKM_SP800_108_COUNTER_KDF, &p, sizeof(p)};
            if (on != len) {
                kat_check(&v, false, "malformed vector");
                continue;
            }
            if (!need(&v, CKM_SP800_108_COUNTER_KDF, "CKM_SP800_108_COUNTER_KDF", 1) ||
                !make_key(&v, kt, ki, kn, KAT_U_DERIVE | KAT_U_OPEN, &base))
                continue;
            derive_check(&v, &m, base, len, ko);
            kat_destroy(base);
        }
    }
    json_decref(root);
    kat_vec_free(&v);
    kat_end(&k);
}

/* Wycheproof PBKDF2-HMAC-SHA256 through C_GenerateKey (CKM_PKCS5_PBKD2 with
 * CK_PKCS5_PBKD2_PARAMS2); more than 100000 iterations are not run. */
static void test_pbkdf2(void **state)
{
    static const char wp[] = "wycheproof/pbkdf2_hmacsha256_test.json";
    struct kat k;
    struct kat_vec v = {.k = &k};
    json_t *root, *g, *t;
    size_t gi, ti;
    (void)state;
    kat_begin(&k, "PBKDF2");
    root = kat_load(wp);
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            CK_ULONG pwn, sn, dn, len = (CK_ULONG)kat_int(t, "dkLen");
            CK_ATTRIBUTE tmpl[6];
            CK_ULONG nt = kat_open_template(tmpl, &len);
            CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
            kat_vec_start(&v, wp, t);
            CK_BYTE *pw = kat_vec_hex(&v, t, "password", &pwn),
                    *salt = kat_vec_hex(&v, t, "salt", &sn);
            CK_BYTE *dk = kat_vec_hex(&v, t, "dk", &dn);
            if (pw == NULL || salt == NULL || dk == NULL)
                continue;
            if (kat_int(t, "iterationCount") > 100000) {
                kat_na(&k, 1, "more than 100000 iterations not run");
                continue;
            }
            if (!kat_is(t, "result", "valid")) {
                kat_na(&k, 1, "only valid vectors run");
                continue;
            }
            CK_PKCS5_PBKD2_PARAMS2 p = {CKZ_SALT_SPECIFIED,
                                        salt,
                                        sn,
                                        (CK_ULONG)kat_int(t, "iterationCount"),
                                        CKP_PKCS5_PBKD2_HMAC_SHA256,
                                        NULL,
                                        0,
                                        pw,
                                        pwn};
            CK_MECHANISM m = {CKM_PKCS5_PBKD2, &p, sizeof(p)};
            if (!need(&v, CKM_PKCS5_PBKD2, "CKM_PKCS5_PBKD2", 1))
                continue;
            CK_RV rv = F->C_GenerateKey(S, &m, tmpl, nt, &h);
            check_made_key(&v, "C_GenerateKey", rv, h, dk, dn);
        }
    }
    json_decref(root);
    kat_vec_free(&v);
    kat_end(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha2),    cmocka_unit_test(test_sha3),
        cmocka_unit_test(test_hmac),    cmocka_unit_test(test_aes_ecb),
        cmocka_unit_test(test_aes_cbc), cmocka_unit_test(test_aes_ctr),
        cmocka_unit_test(test_aes_gcm), cmocka_unit_test(test_aes_kw),
        cmocka_unit_test(test_aes_kwp), cmocka_unit_test(test_aes_cmac),
        cmocka_unit_test(test_hkdf),    cmocka_unit_test(test_kbkdf),
        cmocka_unit_test(test_pbkdf2),
    };
    return cmocka_run_group_tests_name("abi-kat_sym", tests, kat_group_setup, kat_group_teardown);
}
