/*
 * Unit tests for src/mech/aead.c: AES-GCM and AES-CCM through the
 * mechanism layer.  Known answers (NIST ACVP AES-GCM, Wycheproof aes_gcm
 * including 1-byte and 128/257-byte IVs, RFC 3610 and SP 800-38C CCM),
 * multi-part equal to single-part, decryption releasing nothing before the
 * tag verified (the output buffer untouched on a wrong tag), the output
 * convention, the 3.0 message API (IV generators, streaming decryption,
 * message sequencing), and every bad parameter / length with its CKR code.
 */
#include "mech_util.h"

#include "mech/mech.h"
#include "object/attr.h"
#include "object/key.h"

#define BUF_MAX 4096

static struct config g_cfg;
static struct crypto *g_c;

static int group_setup(void **state)
{
    (void)state;
    return mu_fixture_init(&g_cfg, &g_c);
}

static int group_teardown(void **state)
{
    (void)state;
    mu_fixture_free(&g_cfg, g_c);
    return 0;
}

/* ---- helpers ----------------------------------------------------------- */

static struct key *hex_key(const char *hex)
{
    unsigned char v[64];
    return mu_secret_key(g_c, CKK_AES, v, mu_unhex(hex, v, sizeof(v)));
}

static struct key *random_key(size_t len)
{
    unsigned char v[32];
    mu_rnd(g_c, v, len);
    return mu_secret_key(g_c, CKK_AES, v, len);
}

/* Single part, after a size query (which must be an upper bound). */
static CK_RV oneshot(CK_MECHANISM_TYPE type, const void *param, CK_ULONG plen, mech_fn fn,
                     struct key *k, const unsigned char *in, size_t inlen, unsigned char *out,
                     CK_ULONG *outlen)
{
    struct mech_op *op = NULL;
    CK_RV rv = mu_lookup_start(&g_cfg, g_c, type, param, plen, fn, k, &op);
    CK_ULONG cap = *outlen, q = 0;
    if (rv != CKR_OK)
        return rv;
    rv = op->ops->oneshot(op, in, (CK_ULONG)inlen, NULL, &q);
    if (rv == CKR_OK) {
        assert_true(q <= cap);
        *outlen = cap;
        rv = op->ops->oneshot(op, in, (CK_ULONG)inlen, out, outlen);
        if (rv == CKR_OK)
            assert_int_equal(*outlen, q);
    }
    mech_op_free(op);
    return rv;
}

static const size_t odd_chunks[] = {1, 3, 0, 7, 16, 17, 5, 31, 2, 33};

/* Multi-part in the chunk sizes (cycled); each update's size query is
 * exact (decryption: 0, nothing released before the final). */
static CK_RV multi(CK_MECHANISM_TYPE type, const void *param, CK_ULONG plen, mech_fn fn,
                   struct key *k, const unsigned char *in, size_t inlen, unsigned char *out,
                   CK_ULONG *outlen)
{
    struct mech_op *op = NULL;
    size_t pos = 0, done = 0, i = 0;
    CK_RV rv = mu_lookup_start(&g_cfg, g_c, type, param, plen, fn, k, &op);
    if (rv != CKR_OK)
        return rv;
    while (pos < inlen) {
        size_t n = odd_chunks[i++ % ARRAY_SIZE(odd_chunks)];
        if (n > inlen - pos)
            n = inlen - pos;
        CK_ULONG q = 99, got = *outlen - done;
        if ((rv = op->ops->update(op, in + pos, (CK_ULONG)n, NULL, &q)) != CKR_OK)
            goto out;
        if ((rv = op->ops->update(op, in + pos, (CK_ULONG)n, out + done, &got)) != CKR_OK)
            goto out;
        assert_int_equal(got, q);
        if (fn == CKF_DECRYPT || fn == CKF_UNWRAP)
            assert_int_equal(got, 0);
        done += got;
        pos += n;
    }
    CK_ULONG q = 0, got = *outlen - done;
    rv = op->ops->final(op, NULL, &q);
    if (rv == CKR_OK)
        rv = op->ops->final(op, out + done, &got);
    if (rv == CKR_OK) {
        assert_int_equal(got, q);
        *outlen = (CK_ULONG)(done + got);
    }
out:
    mech_op_free(op);
    return rv;
}

/* A decryption that must fail with want, leaving out untouched. */
/* Every byte of out as it was (clean) or wiped to zero: no plaintext. */
static bool released_nothing(const unsigned char *out, const unsigned char *clean, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (out[i] != clean[i] && out[i] != 0)
            return false;
    return true;
}

static void reject(CK_MECHANISM_TYPE type, const void *param, CK_ULONG plen, mech_fn fn,
                   struct key *k, const unsigned char *in, size_t inlen, CK_RV want)
{
    unsigned char out[BUF_MAX], clean[BUF_MAX];
    memset(out, 0xa5, sizeof(out));
    memset(clean, 0xa5, sizeof(clean));
    CK_ULONG n = sizeof(out);
    assert_int_equal(oneshot(type, param, plen, fn, k, in, inlen, out, &n), want);
    assert_true(released_nothing(out, clean, sizeof(out)));
    memset(out, 0xa5, sizeof(out));
    n = sizeof(out);
    assert_int_equal(multi(type, param, plen, fn, k, in, inlen, out, &n), want);
    assert_true(released_nothing(out, clean, sizeof(out)));
}

/* pt <-> ct (ciphertext || tag) both ways, single and multi-part; or,
 * when !valid, decryption of ct refused with nothing released. */
static void aead_kat(CK_MECHANISM_TYPE type, const void *param, CK_ULONG plen, struct key *k,
                     const unsigned char *pt, size_t ptlen, const unsigned char *ct, size_t ctlen,
                     bool valid)
{
    unsigned char out[BUF_MAX];
    CK_ULONG n;
    if (!valid) {
        reject(type, param, plen, CKF_DECRYPT, k, ct, ctlen, CKR_ENCRYPTED_DATA_INVALID);
        reject(type, param, plen, CKF_UNWRAP, k, ct, ctlen, CKR_WRAPPED_KEY_INVALID);
        return;
    }
    for (int m = 0; m < 2; m++) {
        n = sizeof(out);
        assert_int_equal(
            (m ? multi : oneshot)(type, param, plen, CKF_ENCRYPT, k, pt, ptlen, out, &n), CKR_OK);
        assert_int_equal(n, ctlen);
        assert_memory_equal(out, ct, ctlen);
        n = sizeof(out);
        assert_int_equal(
            (m ? multi : oneshot)(type, param, plen, CKF_DECRYPT, k, ct, ctlen, out, &n), CKR_OK);
        assert_int_equal(n, ptlen);
        if (ptlen > 0)
            assert_memory_equal(out, pt, ptlen);
    }
    n = sizeof(out);
    assert_int_equal(oneshot(type, param, plen, CKF_WRAP, k, pt, ptlen, out, &n), CKR_OK);
    assert_memory_equal(out, ct, ctlen);
    n = sizeof(out);
    assert_int_equal(oneshot(type, param, plen, CKF_UNWRAP, k, ct, ctlen, out, &n), CKR_OK);
    assert_int_equal(n, ptlen);
}

/* ---- GCM known answers ----------------------------------------------------- */

struct gcm_kat {
    int id;
    const char *key, *iv, *aad, *pt, *ct, *tag;
    bool valid;
};

static void run_gcm(const struct gcm_kat *t)
{
    static unsigned char iv[512], aad[256], pt[256], ct[512];
    struct key *k = hex_key(t->key);
    size_t ivlen = mu_unhex(t->iv, iv, sizeof(iv)), aadlen = mu_unhex(t->aad, aad, sizeof(aad));
    size_t ptlen = mu_unhex(t->pt, pt, sizeof(pt)), ctlen = mu_unhex(t->ct, ct, sizeof(ct));
    size_t taglen = mu_unhex(t->tag, ct + ctlen, sizeof(ct) - ctlen);
    CK_GCM_PARAMS p = {iv, ivlen, 8 * ivlen, aadlen ? aad : NULL, aadlen, 8 * taglen};
    print_message("# GCM vector %d\n", t->id);
    if (ivlen > 128) { /* beyond OpenSSL's GCM IV limit: refused, never computed by hand */
        struct mech_op *op;
        assert_int_equal(
            mu_lookup_start(&g_cfg, g_c, CKM_AES_GCM, &p, sizeof(p), CKF_ENCRYPT, k, &op),
            CKR_MECHANISM_PARAM_INVALID);
        assert_int_equal(
            mu_lookup_start(&g_cfg, g_c, CKM_AES_GCM, &p, sizeof(p), CKF_DECRYPT, k, &op),
            CKR_MECHANISM_PARAM_INVALID);
    } else if (ivlen == 0) {
        struct mech_op *op;
        p.pIv = NULL;
        assert_int_equal(
            mu_lookup_start(&g_cfg, g_c, CKM_AES_GCM, &p, sizeof(p), CKF_ENCRYPT, k, &op),
            CKR_MECHANISM_PARAM_INVALID);
        p.pIv = iv;
        assert_int_equal(
            mu_lookup_start(&g_cfg, g_c, CKM_AES_GCM, &p, sizeof(p), CKF_DECRYPT, k, &op),
            CKR_MECHANISM_PARAM_INVALID);
    } else {
        aead_kat(CKM_AES_GCM, &p, sizeof(p), k, pt, ptlen, ct, ctlen + taglen, t->valid);
    }
    key_unref(k);
}

static void test_gcm_acvp(void **state)
{
    (void)state;
    /* NIST ACVP AES-GCM-1.0 (AFT; 128-bit keys only in the sample). */
    static const struct gcm_kat v[] = {
        {1, "4B2CBE2158F5D6A28CC798DF4F99F777", "3851BAF79831605B75086E79",
         "4607F76F4FDA85DAFDC8CE085E0CE5", "", "", "9E557D92647C1510D4101EBEED0C52DD", true},
        {16, "49BFA3BF9492DC7BCC93EDAFC725C730", "B40811BE58D20804E60926EE571491", "",
         "F2DC083B4CA1C54BF5228A5BB67129", "E8F5854061720508EA3FBCCEB78F4F", "8AD3515A", true},
        {17, "CCE6B60016AF6168282A838414E718BD", "7DC783AA9F5423FC5C928EA9E5F61E", "",
         "E0968828C7C37AB7ACA219537E991E", "FFFDB44464A139F960BB98537970BD", "9BD5F0F7", true},
        {31, "5A074F4193A394042148393F36978218", "F386BC91CF56892786F040C9", "", "", "",
         "11F81B02AF3CC35AE0908D459C4FDB16", true},
        {33, "886293D80F8E625971AE9436F8F4D50E", "22CD533018836F78FC884872", "", "", "",
         "D4B42FAEDDB5E9523921C1C29144A449", false},
        {46, "D297F6EED6E9AD37AD24DC955ED2B2F2", "FB5C735021B804184A34B400EF071F",
         "BF353A6859EA4866ACEA44553B541B", "A840015C977767637E951EE79F060F",
         "1FD917C7F42C857953833AE109CCAD", "C4C59661", true},
        {47, "48D874772D824369AD4AC47365918E5F", "E843F74D4A95F3014C1F166B0BEE9E",
         "FE69C4E206237E82B52F5BDCAE538D", "", "2DB8805797A009B2CF9A958FE6F37F", "5666134E", false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(v); i++)
        run_gcm(&v[i]);
}

static void test_gcm_wycheproof(void **state)
{
    (void)state;
    /* Wycheproof aes_gcm_test.json: special cases, a modified tag, counter
     * wrap, 192/256-bit keys, IVs of 1, 15, 16, 128 and 257 bytes, an empty
     * IV (refused: our policy). */
    static const struct gcm_kat v[] = {
        {39, "00112233445566778899aabbccddeeff", "000000000000000000000000", "",
         "ebd4a3e10cf6d41c50aeae007563b072", "f62d84d649e56bc8cfedc5d74a51e2f7",
         "ffffffffffffffffffffffffffffffff", true},
        {66, "000102030405060708090a0b0c0d0e0f", "505152535455565758595a5b", "",
         "202122232425262728292a2b2c2d2e2f", "eb156d081ed6b6b55f4612f021d87b39",
         "5804fd3cb2ea86690847fa5306bee003", false},
        {77, "00112233445566778899aabbccddeeff", "f95fde4a751913202aeeee32a0b55753", "",
         "00000000000000000000000000000000000000000000000000000000000000000000000000000000",
         "00078d109d92143fcd5df56721b884fac64ac7762cc09eea2a3c68e92a17bdb575f87bda18be564e",
         "152a65045fe674f97627427af5be22da", true},
        {92, "29d3a44f8723dc640239100c365423a312934ac80239212ac3df3421a2098123",
         "00112233445566778899aabb", "aabbccddeeff", "", "", "2a7d77fa526b8250cb296078926b5020",
         true},
        {259, "34c74e28182948e03af02a01f46eb4f7", "b0a73119a97d623806b49d45ddf4c7", "",
         "fe82ba66cf2e265741f2c86c", "2bc3ef8e7402b4631f48e9be", "4b6f6f5be291a90b9e93a8a82ddbc8d8",
         true},
        {267, "7e5a39dcda7e066988f19adf4de4d501",
         "494356c3459d60e3a83433c9bcf2c0454a763e496e4ec99bfbe4bbb83a4fda76b542213899dcf5521cd9bbbe"
         "5d11545bda44a3f4a681ce2843acea730d83d3930ea30991ee1a68ebf6d1a5a40f9b02a1aab091298df8dd68"
         "9dc7613bcbff94d35f2ca43377d81618562bcf6573411ec9bc97c5a6276b554054c0fa787073d067",
         "", "b04729b4adbaac63c2aaf8d8", "5291dd4da91ccc2e77306d83",
         "a7f7b21a3b7ece509e922647fd905f06", true},
        {268, "eac3f28cd937ff29eb6158a3721b5145",
         "6fd260bba87339539c37dc68fdc3656f63c83028cb8adcb531085e98bd570c6b735d0cc4b4b924696000a2d8"
         "93621ae64dcce992b562b89a5285643a08febccbc52243cbfc8d45212e047b00c87c6b6bf175f8bb678ec55c"
         "1091315cbecb8b85700f4a4653623fb78e63cfff7d6235e48e9832c9f0716d10992fc5b0ad4e6972bbeeb1ad"
         "670cd7ec8fac82e07ea5a64f9761a39714aaa73affd2cb190a7ac2df5e5dcea6812ae2c872c7ac70453c5e7e"
         "c4d0b5b18c6ff3bfb9ae15fea44cf392615b80034edae596b8821f97fca58d167fb44a093b0c009a0bd56313"
         "55b0cb25d93ba9b79b006301d99db657e801933fc2764a0ce650eaf5a1299efe60cb53b634",
         "", "098912a302773377b9c26ac3", "e3be947153a26a3a54e3015c",
         "fd042bdde22f67c4fd298d5dc0867606", true},
        {276, "3bc3bf39d0d5ffd94cca2b45c678a2d049151ed2babc713be53cb66f54a16337",
         "92c2cee7e9138b186da51f146fb21fd5b491f1a19eef61d4ed14ce6b21b04fdb6ff8ebb60fddc55926e7bda2"
         "a8f35c610bb795232412739d6c2d74458ef5a1a1cde9bf17e47e3b00db0b0504d56dc8b8d3de23f7c3a5d52e"
         "8d0aab1e64405aaa852ec2dd667ed9c1fd8dc1fdbbc8712c7a38f30faeab594f33897b41b1720f3c2f954ed9"
         "1ca450d82c3dcd35858c608ad42f36832e56b04821a132f72e0da7b62cbd3925250f64fbb3f5c4783495893"
         "097adc09a32d776e04bf72558d37830b372341f6536d8ee9df4a82e4074e7774ab6917a04fa8c499eb4b46a9"
         "2def365da8b5eb1e0b438779507d1f5272a6e8629a3f9c7bd4862c5691ee8b56bfe292deb4e",
         "", "8125ee7637d7d0e03bbacf35", "5496ae94c3322ebf959ea9a9",
         "70717cc00fd1ffa59bb04329226a0c0a", true},
        {277, "59a284f50aedd8d3e2a91637d3815579", "80", "", "", "",
         "af498f701d2470695f6e7c8327a2398b", true},
        {311, "8f3f52e3c75c58f5cb261f518f4ad30a", "", "", "", "",
         "cf71978ffcc778f3c85ac9c31b6fe191", false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(v); i++)
        run_gcm(&v[i]);
}

/* ---- CCM known answers ----------------------------------------------------- */

struct ccm_kat {
    const char *name, *key, *nonce, *aad, *pt, *ct; /* ct: ciphertext || MAC */
    size_t maclen;
};

static void test_ccm_kats(void **state)
{
    (void)state;
    static const struct ccm_kat v[] = {
        {"RFC 3610 #1", "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", "00000003020100a0a1a2a3a4a5",
         "0001020304050607", "08090a0b0c0d0e0f101112131415161718191a1b1c1d1e",
         "588c979a61c663d2f066d0c2c0f989806d5f6b61dac38417e8d12cfdf926e0", 8},
        {"SP 800-38C C.1", "404142434445464748494a4b4c4d4e4f", "10111213141516", "0001020304050607",
         "20212223", "7162015b4dac255d", 4},
        {"SP 800-38C C.2", "404142434445464748494a4b4c4d4e4f", "1011121314151617",
         "000102030405060708090a0b0c0d0e0f", "202122232425262728292a2b2c2d2e2f",
         "d2a1f0e051ea5f62081a7792073d593d1fc64fbfaccd", 6},
        {"SP 800-38C C.3", "404142434445464748494a4b4c4d4e4f", "101112131415161718191a1b",
         "000102030405060708090a0b0c0d0e0f10111213",
         "202122232425262728292a2b2c2d2e2f3031323334353637",
         "e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5484392fbc1b09951", 8},
        {"empty, AES-256", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
         "000102030405060708090a0b0c", "", "", "5ca387835c0d63b16110f45241370da8", 16},
        {"AAD only, AES-256", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
         "000102030405060708090a0b0c", "68656c6c6f", "", "dd11405a97fe751c3733bded9ffd391a", 16},
    };
    unsigned char nonce[16], aad[32], pt[64], ct[80];
    for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
        print_message("# CCM %s\n", v[i].name);
        struct key *k = hex_key(v[i].key);
        size_t nl = mu_unhex(v[i].nonce, nonce, sizeof(nonce)),
               al = mu_unhex(v[i].aad, aad, sizeof(aad));
        size_t pl = mu_unhex(v[i].pt, pt, sizeof(pt)), cl = mu_unhex(v[i].ct, ct, sizeof(ct));
        CK_CCM_PARAMS p = {pl, nonce, nl, al ? aad : NULL, al, v[i].maclen};
        aead_kat(CKM_AES_CCM, &p, sizeof(p), k, pt, pl, ct, cl, true);
        ct[cl - 1] ^= 1; /* a bad MAC */
        aead_kat(CKM_AES_CCM, &p, sizeof(p), k, pt, pl, ct, cl, false);
        ct[cl - 1] ^= 1;
        if (pl > 0) {
            ct[0] ^= 0x80; /* a bad ciphertext */
            aead_kat(CKM_AES_CCM, &p, sizeof(p), k, pt, pl, ct, cl, false);
        }
        key_unref(k);
    }
}

/* ---- round trips and lengths ------------------------------------------------ */

static void test_round_trips(void **state)
{
    (void)state;
    static const size_t lens[] = {0, 1, 15, 16, 17, 100, 1000, 3000};
    static const size_t keys[] = {16, 24, 32};
    unsigned char pt[3000], iv[60], aad[40], a[BUF_MAX], b[BUF_MAX];
    mu_rnd(g_c, pt, sizeof(pt));
    mu_rnd(g_c, iv, sizeof(iv));
    mu_rnd(g_c, aad, sizeof(aad));
    for (size_t ki = 0; ki < ARRAY_SIZE(keys); ki++) {
        struct key *k = random_key(keys[ki]);
        for (size_t li = 0; li < ARRAY_SIZE(lens); li++) {
            size_t len = lens[li];
            CK_GCM_PARAMS g = {iv, 1 + li * 7, 0, aad, li * 5, 96 + 8 * (li % 5)};
            CK_CCM_PARAMS c = {len, iv, 7 + li % 7, aad, li * 5, 4 + 2 * (li % 7)};
            for (int m = 0; m < 2; m++) {
                CK_MECHANISM_TYPE mech = m ? CKM_AES_CCM : CKM_AES_GCM;
                const void *p = m ? (const void *)&c : &g;
                CK_ULONG plen = m ? sizeof(c) : sizeof(g);
                size_t tag = m ? c.ulMACLen : g.ulTagBits / 8;
                CK_ULONG na = sizeof(a), nb = sizeof(b);
                assert_int_equal(oneshot(mech, p, plen, CKF_ENCRYPT, k, pt, len, a, &na), CKR_OK);
                assert_int_equal(na, len + tag);
                assert_int_equal(multi(mech, p, plen, CKF_ENCRYPT, k, pt, len, b, &nb), CKR_OK);
                assert_int_equal(nb, na);
                assert_memory_equal(a, b, na);
                nb = sizeof(b);
                assert_int_equal(multi(mech, p, plen, CKF_DECRYPT, k, a, na, b, &nb), CKR_OK);
                assert_int_equal(nb, len);
                if (len > 0)
                    assert_memory_equal(b, pt, len);
                a[na / 2] ^= 0x10;
                reject(mech, p, plen, CKF_DECRYPT, k, a, na, CKR_ENCRYPTED_DATA_INVALID);
            }
        }
        key_unref(k);
    }
}

static void test_lengths(void **state)
{
    (void)state;
    unsigned char iv[12] = {1}, in[64] = {0}, out[BUF_MAX];
    struct key *k = random_key(16);
    CK_GCM_PARAMS g = {iv, 12, 96, NULL, 0, 128};
    CK_CCM_PARAMS c = {20, iv, 12, NULL, 0, 8};
    struct mech_op *op;
    CK_ULONG n;

    /* GCM decryption: at least the tag. */
    reject(CKM_AES_GCM, &g, sizeof(g), CKF_DECRYPT, k, in, 15, CKR_ENCRYPTED_DATA_LEN_RANGE);
    reject(CKM_AES_GCM, &g, sizeof(g), CKF_UNWRAP, k, in, 0, CKR_WRAPPED_KEY_LEN_RANGE);
    /* ... and at most MECH_MAX_BUFFER buffered (refused before reading). */
    op = mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_GCM, &g, sizeof(g), CKF_DECRYPT, k);
    n = sizeof(out);
    assert_int_equal(op->ops->update(op, in, 64, out, &n), CKR_OK);
    assert_int_equal(n, 0);
    n = sizeof(out);
    assert_int_equal(op->ops->update(op, in, (CK_ULONG)(MECH_MAX_BUFFER - 63), out, &n),
                     CKR_ENCRYPTED_DATA_LEN_RANGE);
    mech_op_free(op);

    /* CCM: exactly ulDataLen (+ MAC when decrypting). */
    n = sizeof(out);
    assert_int_equal(oneshot(CKM_AES_CCM, &c, sizeof(c), CKF_ENCRYPT, k, in, 19, out, &n),
                     CKR_DATA_LEN_RANGE);
    n = sizeof(out);
    assert_int_equal(oneshot(CKM_AES_CCM, &c, sizeof(c), CKF_ENCRYPT, k, in, 21, out, &n),
                     CKR_DATA_LEN_RANGE);
    n = sizeof(out);
    assert_int_equal(oneshot(CKM_AES_CCM, &c, sizeof(c), CKF_WRAP, k, in, 28, out, &n),
                     CKR_DATA_LEN_RANGE);
    reject(CKM_AES_CCM, &c, sizeof(c), CKF_DECRYPT, k, in, 20, CKR_ENCRYPTED_DATA_LEN_RANGE);
    reject(CKM_AES_CCM, &c, sizeof(c), CKF_DECRYPT, k, in, 29, CKR_ENCRYPTED_DATA_LEN_RANGE);
    reject(CKM_AES_CCM, &c, sizeof(c), CKF_UNWRAP, k, in, 27, CKR_WRAPPED_KEY_LEN_RANGE);
    op = mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_CCM, &c, sizeof(c), CKF_ENCRYPT, k);
    n = sizeof(out);
    assert_int_equal(op->ops->update(op, in, 15, out, &n), CKR_OK);
    assert_int_equal(n, 0);
    n = sizeof(out);
    assert_int_equal(op->ops->update(op, in, 6, out, &n), CKR_DATA_LEN_RANGE);
    mech_op_free(op);
    op = mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_CCM, &c, sizeof(c), CKF_ENCRYPT, k);
    n = sizeof(out);
    assert_int_equal(op->ops->update(op, in, 15, out, &n), CKR_OK);
    n = sizeof(out);
    assert_int_equal(op->ops->final(op, out, &n), CKR_DATA_LEN_RANGE);
    mech_op_free(op);
    key_unref(k);
}

/* ---- output convention ----------------------------------------------------- */

static void test_short_buffers(void **state)
{
    (void)state;
    unsigned char iv[12] = {2}, pt[50], ref[BUF_MAX], gref[66], out[BUF_MAX];
    struct key *k = random_key(32);
    CK_GCM_PARAMS g = {iv, 12, 0, NULL, 0, 128};
    CK_CCM_PARAMS c = {50, iv, 12, NULL, 0, 16};
    struct mech_op *op;
    CK_ULONG n, rn;
    memset(pt, 0x41, sizeof(pt));

    for (int m = 0; m < 2; m++) {
        CK_MECHANISM_TYPE mech = m ? CKM_AES_CCM : CKM_AES_GCM;
        const void *p = m ? (const void *)&c : &g;
        CK_ULONG plen = m ? sizeof(c) : sizeof(g);
        rn = sizeof(ref);
        assert_int_equal(oneshot(mech, p, plen, CKF_ENCRYPT, k, pt, 50, ref, &rn), CKR_OK);
        assert_int_equal(rn, 66);
        if (!m)
            memcpy(gref, ref, sizeof(gref));

        op = mu_lookup_start_ok(&g_cfg, g_c, mech, p, plen, CKF_ENCRYPT, k);
        n = 65;
        assert_int_equal(op->ops->oneshot(op, pt, 50, out, &n), CKR_BUFFER_TOO_SMALL);
        assert_int_equal(n, 66);
        assert_int_equal(op->ops->oneshot(op, pt, 50, out, &n), CKR_OK);
        assert_memory_equal(out, ref, 66);
        mech_op_free(op);

        /* Decryption: short, then exact. */
        op = mu_lookup_start_ok(&g_cfg, g_c, mech, p, plen, CKF_DECRYPT, k);
        n = 49;
        assert_int_equal(op->ops->oneshot(op, ref, 66, out, &n), CKR_BUFFER_TOO_SMALL);
        assert_int_equal(n, 50);
        assert_int_equal(op->ops->oneshot(op, ref, 66, out, &n), CKR_OK);
        assert_memory_equal(out, pt, 50);
        mech_op_free(op);

        op = mu_lookup_start_ok(&g_cfg, g_c, mech, p, plen, CKF_DECRYPT, k);
        n = 0;
        assert_int_equal(op->ops->update(op, ref, 30, out, &n), CKR_OK);
        assert_int_equal(n, 0);
        n = 0;
        assert_int_equal(op->ops->update(op, ref + 30, 36, NULL, &n), CKR_OK); /* no state change */
        assert_int_equal(n, 0);
        n = 0;
        assert_int_equal(op->ops->update(op, ref + 30, 36, out, &n), CKR_OK);
        n = 10;
        assert_int_equal(op->ops->final(op, out, &n), CKR_BUFFER_TOO_SMALL);
        assert_int_equal(n, 50);
        assert_int_equal(op->ops->final(op, out, &n), CKR_OK);
        assert_int_equal(n, 50);
        assert_memory_equal(out, pt, 50);
        mech_op_free(op);
    }

    /* GCM encryption: a short update and a short final. */
    op = mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_GCM, &g, sizeof(g), CKF_ENCRYPT, k);
    n = 19;
    assert_int_equal(op->ops->update(op, pt, 20, out, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 20);
    assert_int_equal(op->ops->update(op, pt, 20, out, &n), CKR_OK);
    n = 30;
    assert_int_equal(op->ops->update(op, pt + 20, 30, out + 20, &n), CKR_OK);
    n = 15;
    assert_int_equal(op->ops->final(op, out + 50, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 16);
    assert_int_equal(op->ops->final(op, out + 50, &n), CKR_OK);
    assert_memory_equal(out, gref, 66);
    mech_op_free(op);
    key_unref(k);
}

/* ---- parameters ------------------------------------------------------------ */

static void test_bad_params(void **state)
{
    (void)state;
    unsigned char iv[1100] = {0}, aad[4] = {0};
    struct key *k = random_key(16), *gen = mu_secret_key(g_c, CKK_GENERIC_SECRET, iv, 16);
    struct mech_op *op;
    static const struct {
        CK_ULONG ivlen, ivbits, tagbits;
        bool ok;
    } g[] = {
        {12, 96, 128, true}, {12, 0, 128, true}, {12, 95, 128, false}, {0, 0, 128, false},
        {1, 8, 128, true},   {128, 0, 96, true}, {129, 0, 96, false},  {12, 96, 0, false},
        {12, 96, 24, false}, {12, 96, 32, true}, {12, 96, 100, false}, {12, 96, 136, false},
        {12, 96, 120, true}, {12, 96, 64, true},
    };
    for (size_t i = 0; i < ARRAY_SIZE(g); i++) {
        CK_GCM_PARAMS p = {iv, g[i].ivlen, g[i].ivbits, NULL, 0, g[i].tagbits};
        CK_RV rv = mu_lookup_start(&g_cfg, g_c, CKM_AES_GCM, &p, sizeof(p), CKF_ENCRYPT, k, &op);
        assert_int_equal(rv, g[i].ok ? CKR_OK : CKR_MECHANISM_PARAM_INVALID);
        mech_op_free(op);
    }
    CK_GCM_PARAMS gp = {NULL, 12, 96, NULL, 0, 128};
    assert_int_equal(
        mu_lookup_start(&g_cfg, g_c, CKM_AES_GCM, &gp, sizeof(gp), CKF_ENCRYPT, k, &op),
        CKR_MECHANISM_PARAM_INVALID);
    gp.pIv = iv;
    gp.ulAADLen = 4; /* pAAD NULL */
    assert_int_equal(
        mu_lookup_start(&g_cfg, g_c, CKM_AES_GCM, &gp, sizeof(gp), CKF_ENCRYPT, k, &op),
        CKR_MECHANISM_PARAM_INVALID);
    gp.pAAD = aad;
    assert_int_equal(
        mu_lookup_start(&g_cfg, g_c, CKM_AES_GCM, &gp, sizeof(gp) - 1, CKF_ENCRYPT, k, &op),
        CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_AES_GCM, NULL, 0, CKF_ENCRYPT, k, &op),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(
        mu_lookup_start(&g_cfg, g_c, CKM_AES_GCM, &gp, sizeof(gp), CKF_DECRYPT, gen, &op),
        CKR_KEY_TYPE_INCONSISTENT);

    static const struct {
        CK_ULONG datalen, noncelen, maclen;
        bool ok;
    } c[] = {
        {10, 7, 4, true},
        {10, 13, 16, true},
        {10, 6, 8, false},
        {10, 14, 8, false},
        {10, 12, 3, false},
        {10, 12, 5, false},
        {10, 12, 18, false},
        {65535, 13, 8, true},
        {65536, 13, 8, false},
        {65536, 12, 8, true},
        {MECH_MAX_BUFFER, 7, 8, true},
        {MECH_MAX_BUFFER + 1, 7, 8, false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
        CK_CCM_PARAMS p = {c[i].datalen, iv, c[i].noncelen, NULL, 0, c[i].maclen};
        CK_RV rv = mu_lookup_start(&g_cfg, g_c, CKM_AES_CCM, &p, sizeof(p), CKF_DECRYPT, k, &op);
        assert_int_equal(rv, c[i].ok ? CKR_OK : CKR_MECHANISM_PARAM_INVALID);
        mech_op_free(op);
    }
    CK_CCM_PARAMS cp = {10, NULL, 12, NULL, 0, 8};
    assert_int_equal(
        mu_lookup_start(&g_cfg, g_c, CKM_AES_CCM, &cp, sizeof(cp), CKF_ENCRYPT, k, &op),
        CKR_MECHANISM_PARAM_INVALID);
    cp.pNonce = iv;
    cp.ulAADLen = 3;
    assert_int_equal(
        mu_lookup_start(&g_cfg, g_c, CKM_AES_CCM, &cp, sizeof(cp), CKF_ENCRYPT, k, &op),
        CKR_MECHANISM_PARAM_INVALID);
    /* A GCM parameter of the same size read as CCM: ulDataLen = a pointer. */
    assert_int_equal(
        mu_lookup_start(&g_cfg, g_c, CKM_AES_CCM, &gp, sizeof(gp), CKF_ENCRYPT, k, &op),
        CKR_MECHANISM_PARAM_INVALID);
    key_unref(k);
    key_unref(gen);
}

/* ---- message API ------------------------------------------------------------ */

static CK_RV msg_encrypt(struct mech_op *op, void *param, CK_ULONG plen, const unsigned char *aad,
                         size_t aadlen, const unsigned char *in, size_t len, size_t part,
                         unsigned char *out)
{
    CK_RV rv = op->ops->msg_begin(op, param, plen, aad, (CK_ULONG)aadlen);
    size_t pos = 0, done = 0;
    while (rv == CKR_OK) {
        size_t n = len - pos < part ? len - pos : part;
        bool last = pos + n == len;
        CK_ULONG got = BUF_MAX;
        rv = op->ops->msg_next(op, param, plen, in + pos, (CK_ULONG)n, out + done, &got, last);
        pos += n;
        done += got;
        if (last)
            break;
    }
    if (rv == CKR_OK)
        assert_int_equal(done, len);
    return rv;
}

static void test_msg_gcm(void **state)
{
    (void)state;
    unsigned char iv[12], aad[20], pt[300], ct[BUF_MAX], ref[BUF_MAX], tag[16], out[BUF_MAX];
    struct key *k = random_key(32);
    CK_ULONG n;
    mu_rnd(g_c, iv, sizeof(iv));
    mu_rnd(g_c, aad, sizeof(aad));
    mu_rnd(g_c, pt, sizeof(pt));
    CK_GCM_PARAMS sp = {iv, 12, 96, aad, sizeof(aad), 128};
    n = sizeof(ref);
    assert_int_equal(oneshot(CKM_AES_GCM, &sp, sizeof(sp), CKF_ENCRYPT, k, pt, sizeof(pt), ref, &n),
                     CKR_OK);

    struct mech_op *enc =
        mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_GCM, NULL, 0, CKF_MESSAGE_ENCRYPT, k);
    struct mech_op *dec =
        mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_GCM, NULL, 0, CKF_MESSAGE_DECRYPT, k);
    assert_null(enc->ops->update);
    assert_null(enc->ops->oneshot);
    CK_GCM_MESSAGE_PARAMS mp = {iv, 12, 0, CKG_NO_GENERATE, tag, 128};
    static const size_t parts[] = {300, 1, 17, 64, 299};
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
        memset(ct, 0, sizeof(ct));
        assert_int_equal(
            msg_encrypt(enc, &mp, sizeof(mp), aad, sizeof(aad), pt, sizeof(pt), parts[i], ct),
            CKR_OK);
        assert_memory_equal(ct, ref, sizeof(pt));
        assert_memory_equal(tag, ref + sizeof(pt), 16);
        /* Decryption streams: each part's plaintext comes at once. */
        assert_int_equal(msg_encrypt(dec, &mp, sizeof(mp), aad, sizeof(aad), ct, sizeof(pt),
                                     parts[(i + 1) % ARRAY_SIZE(parts)], out),
                         CKR_OK);
        assert_memory_equal(out, pt, sizeof(pt));
    }
    /* A wrong tag: the last part releases nothing, the operation goes on. */
    tag[0] ^= 1;
    assert_int_equal(dec->ops->msg_begin(dec, &mp, sizeof(mp), aad, sizeof(aad)), CKR_OK);
    n = sizeof(out);
    assert_int_equal(dec->ops->msg_next(dec, &mp, sizeof(mp), ct, 200, out, &n, false), CKR_OK);
    assert_int_equal(n, 200);
    memset(out, 0xa5, sizeof(out));
    n = sizeof(out);
    assert_int_equal(dec->ops->msg_next(dec, &mp, sizeof(mp), ct + 200, 100, out, &n, true),
                     CKR_ENCRYPTED_DATA_INVALID);
    for (size_t i = 0; i < 100; i++) /* the last part: nothing released (wiped) */
        assert_true(out[i] == 0xa5 || out[i] == 0);
    tag[0] ^= 1;
    n = sizeof(out);
    assert_int_equal(dec->ops->msg_begin(dec, &mp, sizeof(mp), aad, sizeof(aad)), CKR_OK);
    assert_int_equal(dec->ops->msg_next(dec, &mp, sizeof(mp), ct, 300, out, &n, true), CKR_OK);
    assert_memory_equal(out, pt, 300);

    /* Sequencing. */
    n = sizeof(out);
    assert_int_equal(enc->ops->msg_next(enc, &mp, sizeof(mp), pt, 1, out, &n, true),
                     CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(enc->ops->msg_begin(enc, &mp, sizeof(mp), NULL, 0), CKR_OK);
    assert_int_equal(enc->ops->msg_begin(enc, &mp, sizeof(mp), NULL, 0), CKR_OPERATION_ACTIVE);
    n = sizeof(out);
    assert_int_equal(enc->ops->msg_next(enc, &mp, sizeof(mp), pt, 5, out, &n, false), CKR_OK);
    assert_int_equal(enc->ops->msg_begin(enc, &mp, sizeof(mp), NULL, 0), CKR_OPERATION_ACTIVE);
    n = sizeof(out);
    assert_int_equal(enc->ops->msg_next(enc, &mp, sizeof(mp), pt, 5, out, &n, true), CKR_OK);
    /* C_EncryptMessage: the size first, with no message begun (no state),
     * then begin + the last part. */
    n = 0;
    assert_int_equal(enc->ops->msg_next(enc, &mp, sizeof(mp), pt, 300, NULL, &n, true), CKR_OK);
    assert_int_equal(n, 300);
    n = 0;
    assert_int_equal(enc->ops->msg_next(enc, &mp, sizeof(mp), pt, 300, NULL, &n, false),
                     CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(enc->ops->msg_begin(enc, &mp, sizeof(mp), aad, sizeof(aad)), CKR_OK);
    /* A size query or a short buffer on the last part keeps the message. */
    n = 0;
    assert_int_equal(enc->ops->msg_next(enc, &mp, sizeof(mp), pt, 300, NULL, &n, true), CKR_OK);
    assert_int_equal(n, 300);
    n = 299;
    assert_int_equal(enc->ops->msg_next(enc, &mp, sizeof(mp), pt, 300, out, &n, true),
                     CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 300);
    assert_int_equal(enc->ops->msg_begin(enc, &mp, sizeof(mp), aad, sizeof(aad)),
                     CKR_OPERATION_ACTIVE);
    assert_int_equal(enc->ops->msg_next(enc, &mp, sizeof(mp), pt, 300, out, &n, true), CKR_OK);
    assert_memory_equal(out, ref, 300);
    assert_memory_equal(tag, ref + 300, 16);

    /* Malformed parameters. */
    CK_GCM_MESSAGE_PARAMS bad = mp;
    assert_int_equal(enc->ops->msg_begin(enc, &mp, sizeof(mp) - 1, NULL, 0), CKR_ARGUMENTS_BAD);
    assert_int_equal(enc->ops->msg_begin(enc, NULL, sizeof(mp), NULL, 0), CKR_ARGUMENTS_BAD);
    assert_int_equal(enc->ops->msg_begin(enc, &mp, sizeof(mp), NULL, 3), CKR_ARGUMENTS_BAD);
    bad.pTag = NULL;
    assert_int_equal(enc->ops->msg_begin(enc, &bad, sizeof(bad), NULL, 0), CKR_ARGUMENTS_BAD);
    bad = mp;
    bad.ulTagBits = 20;
    assert_int_equal(enc->ops->msg_begin(enc, &bad, sizeof(bad), NULL, 0), CKR_ARGUMENTS_BAD);
    bad = mp;
    bad.ulIvLen = 0;
    assert_int_equal(enc->ops->msg_begin(enc, &bad, sizeof(bad), NULL, 0), CKR_ARGUMENTS_BAD);
    bad = mp;
    bad.ivGenerator = CKG_GENERATE_RANDOM;
    bad.ulIvFixedBits = 96;
    assert_int_equal(enc->ops->msg_begin(enc, &bad, sizeof(bad), NULL, 0), CKR_ARGUMENTS_BAD);
    bad.ulIvFixedBits = 0;
    bad.ivGenerator = 77;
    assert_int_equal(enc->ops->msg_begin(enc, &bad, sizeof(bad), NULL, 0), CKR_ARGUMENTS_BAD);
    /* A part whose tag length differs from its begin's ends the message. */
    assert_int_equal(enc->ops->msg_begin(enc, &mp, sizeof(mp), NULL, 0), CKR_OK);
    bad = mp;
    bad.ulTagBits = 96;
    n = sizeof(out);
    assert_int_equal(enc->ops->msg_next(enc, &bad, sizeof(bad), pt, 5, out, &n, true),
                     CKR_ARGUMENTS_BAD);
    assert_int_equal(enc->ops->msg_begin(enc, &mp, sizeof(mp), NULL, 0), CKR_OK);
    mech_op_free(enc);
    mech_op_free(dec);
    key_unref(k);
}

static void test_msg_iv_generation(void **state)
{
    (void)state;
    unsigned char iv[12], tag[16], pt[40] = {0}, ct[64], out[64], prev[12];
    struct key *k = random_key(16);
    struct mech_op *enc =
        mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_GCM, NULL, 0, CKF_MESSAGE_ENCRYPT, k);
    struct mech_op *dec =
        mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_GCM, NULL, 0, CKF_MESSAGE_DECRYPT, k);
    CK_ULONG n;

    /* Counter after 64 fixed bits: 0, 1, 2 big-endian in the last 4 bytes. */
    memset(iv, 0xcc, sizeof(iv));
    CK_GCM_MESSAGE_PARAMS p = {iv, 12, 64, CKG_GENERATE_COUNTER, tag, 128};
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(msg_encrypt(enc, &p, sizeof(p), NULL, 0, pt, sizeof(pt), 40, ct), CKR_OK);
        for (int b = 0; b < 8; b++)
            assert_int_equal(iv[b], 0xcc);
        assert_int_equal(iv[8] | iv[9] | iv[10], 0);
        assert_int_equal(iv[11], i);
        /* It decrypts under the IV given back. */
        CK_GCM_MESSAGE_PARAMS d = {iv, 12, 64, CKG_GENERATE_COUNTER, tag, 128};
        assert_int_equal(msg_encrypt(dec, &d, sizeof(d), NULL, 0, ct, sizeof(pt), 13, out), CKR_OK);
        assert_memory_equal(out, pt, sizeof(pt));
    }

    /* Random after 36 fixed bits: the top nibble of byte 4 is kept. */
    memset(iv, 0xab, sizeof(iv));
    p.ivGenerator = CKG_GENERATE_RANDOM;
    p.ulIvFixedBits = 36;
    memcpy(prev, iv, sizeof(prev));
    int changed = 0;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(msg_encrypt(enc, &p, sizeof(p), NULL, 0, pt, sizeof(pt), 40, ct), CKR_OK);
        assert_memory_equal(iv, "\xab\xab\xab\xab", 4);
        assert_int_equal(iv[4] & 0xf0, 0xa0);
        changed += memcmp(iv + 5, prev + 5, 7) != 0;
        memcpy(prev, iv, sizeof(prev));
        CK_GCM_MESSAGE_PARAMS d = {iv, 12, 0, CKG_NO_GENERATE, tag, 128};
        assert_int_equal(msg_encrypt(dec, &d, sizeof(d), NULL, 0, ct, sizeof(pt), 40, out), CKR_OK);
        assert_memory_equal(out, pt, sizeof(pt));
    }
    assert_true(changed >= 3);
    p.ivGenerator = CKG_GENERATE;
    assert_int_equal(msg_encrypt(enc, &p, sizeof(p), NULL, 0, pt, sizeof(pt), 40, ct), CKR_OK);

    /* A counter of 8 bits runs out after 256 messages (a fresh operation:
     * the counter is per operation). */
    mech_op_free(enc);
    enc = mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_GCM, NULL, 0, CKF_MESSAGE_ENCRYPT, k);
    p.ivGenerator = CKG_GENERATE_COUNTER;
    p.ulIvFixedBits = 88;
    for (int i = 0; i < 256; i++) {
        assert_int_equal(msg_encrypt(enc, &p, sizeof(p), NULL, 0, pt, 1, 1, ct), CKR_OK);
        assert_int_equal(iv[11], i);
    }
    assert_int_equal(enc->ops->msg_begin(enc, &p, sizeof(p), NULL, 0), CKR_FUNCTION_FAILED);
    n = sizeof(out);
    assert_int_equal(enc->ops->msg_next(enc, &p, sizeof(p), pt, 1, out, &n, true),
                     CKR_OPERATION_NOT_INITIALIZED);
    mech_op_free(enc);
    mech_op_free(dec);
    key_unref(k);
}

/* The message API refuses a 257-byte IV (Wycheproof 268): OpenSSL takes at
 * most 128 bytes and the module computes no GHASH of its own. */
static void test_msg_long_iv(void **state)
{
    (void)state;
    unsigned char iv[257] = {1}, pt[12] = {0}, ct[12], tag[16];
    struct key *k = hex_key("eac3f28cd937ff29eb6158a3721b5145");
    struct mech_op *enc =
        mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_GCM, NULL, 0, CKF_MESSAGE_ENCRYPT, k);
    CK_GCM_MESSAGE_PARAMS p = {iv, sizeof(iv), 0, CKG_NO_GENERATE, tag, 128};
    assert_int_not_equal(msg_encrypt(enc, &p, sizeof(p), NULL, 0, pt, 12, 5, ct), CKR_OK);
    p.ulIvLen = 128;
    assert_int_equal(msg_encrypt(enc, &p, sizeof(p), NULL, 0, pt, 12, 5, ct), CKR_OK);
    mech_op_free(enc);
    key_unref(k);
}

/* One message operation, IVs of changing lengths (the context's IV length
 * follows), each message equal to the single-part result. */
static void test_msg_iv_lengths(void **state)
{
    (void)state;
    static const size_t lens[] = {12, 16, 1, 100, 12, 128, 64, 7};
    unsigned char iv[300], aad[9], pt[77], ref[BUF_MAX], ct[BUF_MAX], tag[16], out[BUF_MAX];
    struct key *k = random_key(24);
    struct mech_op *enc =
        mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_GCM, NULL, 0, CKF_MESSAGE_ENCRYPT, k);
    struct mech_op *dec =
        mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_GCM, NULL, 0, CKF_MESSAGE_DECRYPT, k);
    mu_rnd(g_c, iv, sizeof(iv));
    mu_rnd(g_c, aad, sizeof(aad));
    mu_rnd(g_c, pt, sizeof(pt));
    for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
        CK_GCM_PARAMS sp = {iv, lens[i], 0, aad, sizeof(aad), 96};
        CK_ULONG n = sizeof(ref);
        assert_int_equal(
            oneshot(CKM_AES_GCM, &sp, sizeof(sp), CKF_ENCRYPT, k, pt, sizeof(pt), ref, &n), CKR_OK);
        CK_GCM_MESSAGE_PARAMS mp = {iv, lens[i], 0, CKG_NO_GENERATE, tag, 96};
        assert_int_equal(
            msg_encrypt(enc, &mp, sizeof(mp), aad, sizeof(aad), pt, sizeof(pt), 10, ct), CKR_OK);
        assert_memory_equal(ct, ref, sizeof(pt));
        assert_memory_equal(tag, ref + sizeof(pt), 12);
        assert_int_equal(
            msg_encrypt(dec, &mp, sizeof(mp), aad, sizeof(aad), ct, sizeof(pt), 33, out), CKR_OK);
        assert_memory_equal(out, pt, sizeof(pt));
    }
    mech_op_free(enc);
    mech_op_free(dec);
    key_unref(k);
}

static void test_msg_ccm(void **state)
{
    (void)state;
    /* SP 800-38C C.3 through the message API. */
    unsigned char key[16], nonce[12], aad[20], pt[24], want[32], ct[32], mac[8], out[32];
    for (int i = 0; i < 16; i++)
        key[i] = (unsigned char)(0x40 + i);
    for (int i = 0; i < 12; i++)
        nonce[i] = (unsigned char)(0x10 + i);
    for (int i = 0; i < 20; i++)
        aad[i] = (unsigned char)i;
    for (int i = 0; i < 24; i++)
        pt[i] = (unsigned char)(0x20 + i);
    mu_unhex("e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5484392fbc1b09951", want,
             sizeof(want));
    struct key *k = mu_secret_key(g_c, CKK_AES, key, 16);
    struct mech_op *enc =
        mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_CCM, NULL, 0, CKF_MESSAGE_ENCRYPT, k);
    struct mech_op *dec =
        mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_CCM, NULL, 0, CKF_MESSAGE_DECRYPT, k);
    CK_CCM_MESSAGE_PARAMS p = {24, nonce, 12, 0, CKG_NO_GENERATE, mac, 8};
    static const size_t parts[] = {24, 1, 5, 23};
    CK_ULONG n;
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
        /* Parts before the last output nothing; the last outputs it all. */
        assert_int_equal(enc->ops->msg_begin(enc, &p, sizeof(p), aad, sizeof(aad)), CKR_OK);
        size_t pos = 0;
        while (pos + parts[i] < 24) {
            n = sizeof(ct);
            assert_int_equal(
                enc->ops->msg_next(enc, &p, sizeof(p), pt + pos, (CK_ULONG)parts[i], ct, &n, false),
                CKR_OK);
            assert_int_equal(n, 0);
            pos += parts[i];
        }
        n = 0;
        assert_int_equal(
            enc->ops->msg_next(enc, &p, sizeof(p), pt + pos, (CK_ULONG)(24 - pos), NULL, &n, true),
            CKR_OK);
        assert_int_equal(n, 24);
        assert_int_equal(
            enc->ops->msg_next(enc, &p, sizeof(p), pt + pos, (CK_ULONG)(24 - pos), ct, &n, true),
            CKR_OK);
        assert_memory_equal(ct, want, 24);
        assert_memory_equal(mac, want + 24, 8);
        assert_int_equal(msg_encrypt(dec, &p, sizeof(p), aad, sizeof(aad), ct, 24, parts[i], out),
                         CKR_OK);
        assert_memory_equal(out, pt, 24);
    }
    /* A wrong MAC: nothing released. */
    mac[3] ^= 4;
    memset(out, 0xa5, sizeof(out));
    assert_int_equal(dec->ops->msg_begin(dec, &p, sizeof(p), aad, sizeof(aad)), CKR_OK);
    n = sizeof(out);
    assert_int_equal(dec->ops->msg_next(dec, &p, sizeof(p), ct, 24, out, &n, true),
                     CKR_ENCRYPTED_DATA_INVALID);
    for (size_t i = 0; i < sizeof(out); i++)
        assert_int_equal(out[i], 0xa5);
    /* The stateless size query checks the length against ulDataLen. */
    n = 0;
    assert_int_equal(enc->ops->msg_next(enc, &p, sizeof(p), pt, 24, NULL, &n, true), CKR_OK);
    assert_int_equal(n, 24);
    assert_int_equal(dec->ops->msg_next(dec, &p, sizeof(p), pt, 23, NULL, &n, true),
                     CKR_ENCRYPTED_DATA_LEN_RANGE);
    /* Lengths: too much, too little at the last part. */
    assert_int_equal(enc->ops->msg_begin(enc, &p, sizeof(p), NULL, 0), CKR_OK);
    n = sizeof(out);
    assert_int_equal(enc->ops->msg_next(enc, &p, sizeof(p), pt, 25, out, &n, false),
                     CKR_DATA_LEN_RANGE);
    assert_int_equal(enc->ops->msg_begin(enc, &p, sizeof(p), NULL, 0), CKR_OK);
    n = sizeof(out);
    assert_int_equal(enc->ops->msg_next(enc, &p, sizeof(p), pt, 23, out, &n, true),
                     CKR_DATA_LEN_RANGE);
    assert_int_equal(dec->ops->msg_begin(dec, &p, sizeof(p), NULL, 0), CKR_OK);
    n = sizeof(out);
    assert_int_equal(dec->ops->msg_next(dec, &p, sizeof(p), ct, 10, out, &n, true),
                     CKR_ENCRYPTED_DATA_LEN_RANGE);
    /* Counter nonce generation, fixed 64 of 96 bits. */
    CK_CCM_MESSAGE_PARAMS g = {24, nonce, 12, 64, CKG_GENERATE_COUNTER, mac, 8};
    for (unsigned i = 0; i < 2; i++) {
        assert_int_equal(msg_encrypt(enc, &g, sizeof(g), aad, 20, pt, 24, 24, ct), CKR_OK);
        assert_int_equal(nonce[11], i);
        assert_int_equal(nonce[0], 0x10);
        assert_int_equal(msg_encrypt(dec, &g, sizeof(g), aad, 20, ct, 24, 24, out), CKR_OK);
        assert_memory_equal(out, pt, 24);
    }
    /* Malformed. */
    CK_CCM_MESSAGE_PARAMS bad = p;
    bad.ulMACLen = 5;
    assert_int_equal(enc->ops->msg_begin(enc, &bad, sizeof(bad), NULL, 0), CKR_ARGUMENTS_BAD);
    bad = p;
    bad.ulNonceLen = 14;
    assert_int_equal(enc->ops->msg_begin(enc, &bad, sizeof(bad), NULL, 0), CKR_ARGUMENTS_BAD);
    bad = p;
    bad.pMAC = NULL;
    assert_int_equal(enc->ops->msg_begin(enc, &bad, sizeof(bad), NULL, 0), CKR_ARGUMENTS_BAD);
    mech_op_free(enc);
    mech_op_free(dec);
    key_unref(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gcm_acvp),          cmocka_unit_test(test_gcm_wycheproof),
        cmocka_unit_test(test_ccm_kats),          cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_lengths),           cmocka_unit_test(test_short_buffers),
        cmocka_unit_test(test_bad_params),        cmocka_unit_test(test_msg_gcm),
        cmocka_unit_test(test_msg_iv_generation), cmocka_unit_test(test_msg_long_iv),
        cmocka_unit_test(test_msg_iv_lengths),    cmocka_unit_test(test_msg_ccm),
    };
    return cmocka_run_group_tests_name("mech_aead", tests, group_setup, group_teardown);
}
