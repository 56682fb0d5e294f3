/*
 * Unit tests for src/mech/cipher.c: AES ECB/CBC/CBC_PAD/CTR/CTS and Triple
 * DES ECB/CBC/CBC_PAD through the mechanism layer.  Known answers (NIST
 * ACVP AES ECB/CBC, SP 800-38A CTR, RFC 3962 CBC-CS3, Triple-DES and
 * CBC_PAD vectors computed with an independent implementation), multi-part
 * in odd-sized chunks equal to single-part with exact update sizes, the
 * output convention (size queries and short buffers leave the operation
 * usable), CTR counter-field limits, and every bad parameter / length /
 * padding with its CKR code.
 */
#include "mech_util.h"

#include "mech/mech.h"
#include "object/attr.h"
#include "object/key.h"

#define BUF_MAX 2048

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

static struct key *hex_key(CK_KEY_TYPE kt, const char *hex)
{
    unsigned char v[64];
    return mu_secret_key(g_c, kt, v, mu_unhex(hex, v, sizeof(v)));
}

static struct key *random_key(CK_KEY_TYPE kt, size_t len)
{
    unsigned char v[32];
    assert_true(len <= sizeof(v));
    mu_rnd(g_c, v, len);
    return mu_secret_key(g_c, kt, v, len);
}

/* Single part with a size query first: returns the rv, *outlen the size. */
static CK_RV oneshot(CK_MECHANISM_TYPE type, const void *param, CK_ULONG plen, mech_fn fn,
                     struct key *k, const unsigned char *in, size_t inlen, unsigned char *out,
                     CK_ULONG *outlen)
{
    struct mech_op *op = mu_lookup_start_ok(&g_cfg, g_c, type, param, plen, fn, k);
    CK_ULONG cap = *outlen, q = 0;
    CK_RV rv = op->ops->oneshot(op, in, (CK_ULONG)inlen, NULL, &q);
    if (rv == CKR_OK) {
        assert_true(q <= cap);
        *outlen = cap;
        rv = op->ops->oneshot(op, in, (CK_ULONG)inlen, out, outlen);
        if (rv == CKR_OK)
            assert_true(*outlen <= q);
    }
    mech_op_free(op);
    return rv;
}

/* Multi-part in parts of the sizes in chunks (cycled; 0 = an empty
 * part): every update's size query must be exact.  Returns the final rv. */
static CK_RV multi(CK_MECHANISM_TYPE type, const void *param, CK_ULONG plen, mech_fn fn,
                   struct key *k, const unsigned char *in, size_t inlen, const size_t *chunks,
                   size_t nchunks, unsigned char *out, CK_ULONG *outlen)
{
    struct mech_op *op = mu_lookup_start_ok(&g_cfg, g_c, type, param, plen, fn, k);
    size_t pos = 0, done = 0, i = 0;
    CK_RV rv = CKR_OK;
    while (pos < inlen || i == 0) {
        size_t n = chunks[i++ % nchunks];
        if (n > inlen - pos)
            n = inlen - pos;
        CK_ULONG q = 0, got;
        rv = op->ops->update(op, in + pos, (CK_ULONG)n, NULL, &q);
        if (rv != CKR_OK)
            goto out;
        got = *outlen - done;
        rv = op->ops->update(op, in + pos, (CK_ULONG)n, out + done, &got);
        if (rv != CKR_OK)
            goto out;
        assert_int_equal(got, q);
        done += got;
        pos += n;
    }
    CK_ULONG q = 0, got = *outlen - done;
    rv = op->ops->final(op, NULL, &q);
    if (rv == CKR_OK)
        rv = op->ops->final(op, out + done, &got);
    if (rv == CKR_OK) {
        assert_true(got <= q);
        *outlen = (CK_ULONG)(done + got);
    }
out:
    mech_op_free(op);
    return rv;
}

static const size_t odd_chunks[] = {1, 3, 0, 7, 16, 17, 5, 31, 2, 33};
static const size_t one_chunk[] = {1};
static const size_t big_chunks[] = {64, 100};

/* in -> want both ways, single part and in three chunkings. */
static void check_kat(CK_MECHANISM_TYPE type, const void *param, CK_ULONG plen, struct key *k,
                      const unsigned char *pt, size_t ptlen, const unsigned char *ct, size_t ctlen)
{
    static const struct {
        const size_t *c;
        size_t n;
    } cuts[] = {
        {odd_chunks, ARRAY_SIZE(odd_chunks)}, {one_chunk, 1}, {big_chunks, ARRAY_SIZE(big_chunks)}};
    unsigned char out[BUF_MAX];
    CK_ULONG n = sizeof(out);
    assert_int_equal(oneshot(type, param, plen, CKF_ENCRYPT, k, pt, ptlen, out, &n), CKR_OK);
    assert_int_equal(n, ctlen);
    assert_memory_equal(out, ct, ctlen);
    n = sizeof(out);
    assert_int_equal(oneshot(type, param, plen, CKF_DECRYPT, k, ct, ctlen, out, &n), CKR_OK);
    assert_int_equal(n, ptlen);
    if (ptlen > 0)
        assert_memory_equal(out, pt, ptlen);
    for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
        n = sizeof(out);
        assert_int_equal(
            multi(type, param, plen, CKF_ENCRYPT, k, pt, ptlen, cuts[i].c, cuts[i].n, out, &n),
            CKR_OK);
        assert_int_equal(n, ctlen);
        assert_memory_equal(out, ct, ctlen);
        n = sizeof(out);
        assert_int_equal(
            multi(type, param, plen, CKF_DECRYPT, k, ct, ctlen, cuts[i].c, cuts[i].n, out, &n),
            CKR_OK);
        assert_int_equal(n, ptlen);
        if (ptlen > 0)
            assert_memory_equal(out, pt, ptlen);
    }
}

struct kat {
    CK_MECHANISM_TYPE mech;
    CK_KEY_TYPE kt;
    const char *key, *iv, *pt, *ct;
};

static void run_kat(const struct kat *t)
{
    unsigned char iv[16], pt[BUF_MAX], ct[BUF_MAX];
    struct key *k = hex_key(t->kt, t->key);
    size_t ivlen = t->iv != NULL ? mu_unhex(t->iv, iv, sizeof(iv)) : 0;
    size_t ptlen = mu_unhex(t->pt, pt, sizeof(pt)), ctlen = mu_unhex(t->ct, ct, sizeof(ct));
    CK_AES_CTR_PARAMS ctr = {128, {0}};
    const void *param = ivlen > 0 ? iv : NULL;
    CK_ULONG plen = (CK_ULONG)ivlen;
    if (t->mech == CKM_AES_CTR) {
        memcpy(ctr.cb, iv, 16);
        param = &ctr;
        plen = sizeof(ctr);
    }
    check_kat(t->mech, param, plen, k, pt, ptlen, ct, ctlen);
    key_unref(k);
}

/* ---- known answers ------------------------------------------------------- */

static const char RFC3962_KEY[] = "636869636b656e207465726979616b69";
static const char RFC3962_MSG[] =
    "4920776f756c64206c696b65207468652047656e6572616c204761752773204368"
    "69636b656e2c20706c656173652c20616e6420776f6e746f6e20736f75702e";
static const char SP38A_KEY[] = "2b7e151628aed2a6abf7158809cf4f3c";
static const char SP38A_PT[] = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
                               "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";

static void test_kat_aes_ecb_cbc(void **state)
{
    (void)state;
    /* NIST ACVP AES-ECB-1.0 / AES-CBC-1.0 (AFT, MMT and GFSBox). */
    static const struct kat kats[] = {
        {CKM_AES_ECB, CKK_AES, "00000000000000000000000000000000", NULL,
         "B26AEB1874E47CA8358FF22378F09144", "459264F4798F6A78BACB89C15ED3D601"},
        {CKM_AES_ECB, CKK_AES, "D8774F3042B041F588EC3BED8863693B", NULL,
         "7950D1F290CFED8A8B2F5189BA21BBBCBB6D3297730D4E781BF80BB8EECE720ACE52B9218F9FCF0B0FC23E"
         "91295DEE93A529BBFA6D378D327260915FDAFC4DCAC17AE6A9B560E67668A0CF0040C1D8AD",
         "CDE11EB24FDE0548738E5D6C921860FFE03DCAFBB43B161D254ED0750BDC721E60E2D0058D3A019BC385DB"
         "D4C0A40AC2621F3D5349E96E5D749EF9D1CB8FFEAF10BB681D7DD913B082532EE4567A48D1"},
        {CKM_AES_ECB, CKK_AES, "D4C3A7FCB2D360E145A1B332BEE088202F71819A7A726C0CB01F450033553776",
         NULL, "42E280175DBEF869A588907A0820A760D2AAC35089149955DA04BAAA3C066AD5",
         "252F8801CE3FFE68BD2D31ECCE77D3F5F91A55F9637A4C83B191F41EBA4BA51D"},
        {CKM_AES_ECB, CKK_AES, "195CB454B433EE836E0455DF3DE6BCFF47794DAD68B01561295C01B68B3CE95D",
         NULL, "ACA817B9811CAFAF52974A6364664126DE4FCA17E0CCFF696A0E7EA81DF9BB4A",
         "00BA1B66A9A741DD57AAD11F71774AE5C364D58ED6E27A34C35DFBF611452E40"},
        {CKM_AES_CBC, CKK_AES, "7409DA93169ED6D74AAEA4C1F6208F62",
         "CA8BFFD6421BC91E0346AE2B065E0C19",
         "9BF8EA689551B95022FEABE6033727ADCF918BA3654F22B5F49527FC6BEB1DAE",
         "2CCEFDB9F59631A9A25B4B0A74FC684EF22ACE9A03558B1606AEBB411B0D8238"},
        {CKM_AES_CBC, CKK_AES, "8DAFF6DF17246F03D87FCAA8902AE77259D24AD3D222E8DB89C17046D5BA28EA",
         "C8DA0FEA7EB7C7F6E46768E77446E6CE",
         "9ACAFA39F05BDB13ADE10D669351B754AD3DA19C30819988E8E73BF2371DE5E6",
         "73CEC8DC369A288FF6EA907F4E8AD953A62D8C716DAF2784B547DC5600C8F3D3"},
        {CKM_AES_CBC, CKK_AES, "0F30B395C00D3D2BB5B8B6C81CCD0A7FE662F6CDCCAEFBE1086F3C128F5F1D21",
         "19C903E82D6078B17886F9977F408DFE",
         "A1A23CCB813CFDF971BC371C0CBCCF41B46AABE056EC771D3E7BBD0070092587BAF28EC1497A3237EC5367"
         "C9CBAEC5FA2629267037D2188BC259AE33C0D84D7163A981D9D8FE962C7E5060787DA4EB53C3CEF3390D36"
         "0F858F3106FD951E91F08B61F78873F21C10F21DA1B08E1A4B9DEC5E7FDFC180024396B70C7B8C0DD3EB",
         "BA033CC46044DF0F97D09628418121B59888F69D6148024CF414D99F1CD4FB4BE1F8493D82A308DCFF5716"
         "CEFAEFF5E20F59E68AAAFE190441BF676920DE66AD9E90183763300F7F13A19B7B4C430B5B7DFA7D838299"
         "DCF92FAD6E91231C7D9BD36311054B73DD8CDD692487F848B2AF518A859E7A3A10B09664AA41BCECE838"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(kats); i++)
        run_kat(&kats[i]);
}

static void test_kat_aes_cbc_pad(void **state)
{
    (void)state;
    /* SP 800-38A F.2.1 key and IV, PKCS#7 padding. */
    static const struct kat kats[] = {
        {CKM_AES_CBC_PAD, CKK_AES, SP38A_KEY, "000102030405060708090a0b0c0d0e0f", "",
         "c84af0b613435d5d9182801a9bd9320b"},
        {CKM_AES_CBC_PAD, CKK_AES, SP38A_KEY, "000102030405060708090a0b0c0d0e0f", "6b",
         "2a7a633fad54e2146edcef80c59eebc6"},
        {CKM_AES_CBC_PAD, CKK_AES, SP38A_KEY, "000102030405060708090a0b0c0d0e0f",
         "6bc1bee22e409f96e93d7e11739317", "9be1e579d107a136c031b645a88da750"},
        {CKM_AES_CBC_PAD, CKK_AES, SP38A_KEY, "000102030405060708090a0b0c0d0e0f",
         "6bc1bee22e409f96e93d7e117393172a",
         "7649abac8119b246cee98e9b12e9197d8964e0b149c10b7b682e6e39aaeb731c"},
        {CKM_AES_CBC_PAD, CKK_AES, SP38A_KEY, "000102030405060708090a0b0c0d0e0f",
         "6bc1bee22e409f96e93d7e117393172aae",
         "7649abac8119b246cee98e9b12e9197d34d2d260173113008c28112c77668c86"},
        {CKM_AES_CBC_PAD, CKK_AES, SP38A_KEY, "000102030405060708090a0b0c0d0e0f",
         "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130",
         "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b28952d70a60e8382748f7e7"
         "5c965d86d2"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(kats); i++)
        run_kat(&kats[i]);
}

static void test_kat_aes_ctr(void **state)
{
    (void)state;
    /* SP 800-38A F.5.1 (CTR-AES128.Encrypt), whole and cut short. */
    static const struct kat kats[] = {
        {CKM_AES_CTR, CKK_AES, SP38A_KEY, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", SP38A_PT,
         "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff5ae4df3edbd5d35e5b4f09"
         "020db03eab1e031dda2fbe03d1792170a0f3009cee"},
        {CKM_AES_CTR, CKK_AES, SP38A_KEY, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
         "6bc1bee22e409f96e93d7e117393172aae2d8a", "874d6191b620e3261bef6864990db6ce9806f6"},
        {CKM_AES_CTR, CKK_AES, SP38A_KEY, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", "", ""},
    };
    for (size_t i = 0; i < ARRAY_SIZE(kats); i++)
        run_kat(&kats[i]);
}

static void test_kat_aes_cts(void **state)
{
    (void)state;
    /* RFC 3962 appendix B (AES-128, zero IV): CBC-CS3. */
    static const struct {
        size_t len;
        const char *ct;
    } v[] = {
        {16, "97687268d6ecccc0c07b25e25ecfe584"},
        {17, "c6353568f2bf8cb4d8a580362da7ff7f97"},
        {31, "fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5"},
        {32, "39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584"},
        {47, "97687268d6ecccc0c07b25e25ecfe584b3fffd940c16a18c1b5549d2f838029e39312523a78662d5be"
             "7fcbcc98ebf5"},
        {48, "97687268d6ecccc0c07b25e25ecfe5849dad8bbb96c4cdc03bc103e1a194bbd839312523a78662d5be"
             "7fcbcc98ebf5a8"},
        {64, "97687268d6ecccc0c07b25e25ecfe58439312523a78662d5be7fcbcc98ebf5a84807efe836ee89a526"
             "730dbc2f7bc8409dad8bbb96c4cdc03bc103e1a194bbd8"},
    };
    unsigned char msg[64], ct[64], iv[16] = {0};
    struct key *k = hex_key(CKK_AES, RFC3962_KEY);
    assert_int_equal(mu_unhex(RFC3962_MSG, msg, sizeof(msg)), 64);
    for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
        assert_int_equal(mu_unhex(v[i].ct, ct, sizeof(ct)), v[i].len);
        check_kat(CKM_AES_CTS, iv, sizeof(iv), k, msg, v[i].len, ct, v[i].len);
    }
    key_unref(k);
}

static void test_kat_des3(void **state)
{
    (void)state;
    /* Computed with pyca/cryptography (TripleDES) for this test. */
    static const char key[] = "0123456789abcdef23456789abcdef01456789abcdef0123";
    static const char pt[] = "54686520717569636b2062726f776e20666f78206a756d7073206f7665722074";
    static const struct kat kats[] = {
        {CKM_DES3_ECB, CKK_DES3, key, NULL, pt,
         "1ccf23869d09333ecce21c8112256fe668d5c05dd9b6b9006654a8e95d9d9288"},
        {CKM_DES3_CBC, CKK_DES3, key, "f69f2445df4f9b17", pt,
         "63693c3d378a862f8051ae7c2934a296aa6c3102b6e5b79eff6819426963a4c2"},
        {CKM_DES3_CBC_PAD, CKK_DES3, key, "f69f2445df4f9b17",
         "54686520717569636b2062726f776e20666f78206a756d7073206f7665",
         "63693c3d378a862f8051ae7c2934a296aa6c3102b6e5b79e5fd84f48ca600d2b"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(kats); i++)
        run_kat(&kats[i]);
}

/* ---- round trips ------------------------------------------------------- */

/* Random data of many lengths, every mechanism and key size: decrypt(encrypt)
 * is the identity and multi-part equals single-part. */
static void test_round_trips(void **state)
{
    (void)state;
    static const struct {
        CK_MECHANISM_TYPE mech;
        CK_KEY_TYPE kt;
        size_t bs;
        bool any_len, pad;
    } modes[] = {
        {CKM_AES_ECB, CKK_AES, 16, false, false},   {CKM_AES_CBC, CKK_AES, 16, false, false},
        {CKM_AES_CBC_PAD, CKK_AES, 16, true, true}, {CKM_AES_CTR, CKK_AES, 16, true, false},
        {CKM_AES_CTS, CKK_AES, 16, true, false},    {CKM_DES3_ECB, CKK_DES3, 8, false, false},
        {CKM_DES3_CBC, CKK_DES3, 8, false, false},  {CKM_DES3_CBC_PAD, CKK_DES3, 8, true, true},
    };
    static const size_t lens[] = {0, 1, 8, 15, 16, 17, 31, 32, 33, 48, 63, 64, 100, 257, 1000};
    static const size_t aes_keys[] = {16, 24, 32}, des_keys[] = {24};
    unsigned char pt[1024], a[BUF_MAX], b[BUF_MAX], back[BUF_MAX], iv[16];
    mu_rnd(g_c, pt, sizeof(pt));
    mu_rnd(g_c, iv, sizeof(iv));
    for (size_t m = 0; m < ARRAY_SIZE(modes); m++) {
        bool des = modes[m].kt == CKK_DES3;
        const size_t *ks = des ? des_keys : aes_keys;
        for (size_t ki = 0; ki < (des ? 1u : 3u); ki++) {
            struct key *k = random_key(modes[m].kt, ks[ki]);
            CK_AES_CTR_PARAMS ctr = {64, {0}};
            const void *param = iv;
            CK_ULONG plen = (CK_ULONG)modes[m].bs;
            memcpy(ctr.cb, iv, 16);
            if (modes[m].mech == CKM_AES_ECB || modes[m].mech == CKM_DES3_ECB) {
                param = NULL;
                plen = 0;
            } else if (modes[m].mech == CKM_AES_CTR) {
                param = &ctr;
                plen = sizeof(ctr);
            }
            for (size_t li = 0; li < ARRAY_SIZE(lens); li++) {
                size_t len = lens[li];
                if (!modes[m].any_len && len % modes[m].bs != 0)
                    continue;
                if (modes[m].mech == CKM_AES_CTS && len < 16)
                    continue;
                CK_ULONG na = sizeof(a), nb = sizeof(b), nc = sizeof(back);
                assert_int_equal(
                    oneshot(modes[m].mech, param, plen, CKF_ENCRYPT, k, pt, len, a, &na), CKR_OK);
                size_t want = modes[m].pad ? (len / modes[m].bs + 1) * modes[m].bs : len;
                assert_int_equal(na, want);
                assert_int_equal(multi(modes[m].mech, param, plen, CKF_ENCRYPT, k, pt, len,
                                       odd_chunks, ARRAY_SIZE(odd_chunks), b, &nb),
                                 CKR_OK);
                assert_int_equal(nb, na);
                assert_memory_equal(a, b, na);
                /* CKF_WRAP is encryption too (CTS does not wrap). */
                nb = sizeof(b);
                if (modes[m].mech != CKM_AES_CTS) {
                    assert_int_equal(
                        oneshot(modes[m].mech, param, plen, CKF_WRAP, k, pt, len, b, &nb), CKR_OK);
                    assert_int_equal(nb, na);
                    assert_memory_equal(a, b, na);
                }
                assert_int_equal(
                    oneshot(modes[m].mech, param, plen, CKF_DECRYPT, k, a, na, back, &nc), CKR_OK);
                assert_int_equal(nc, len);
                if (len > 0)
                    assert_memory_equal(back, pt, len);
                nc = sizeof(back);
                assert_int_equal(multi(modes[m].mech, param, plen, CKF_DECRYPT, k, a, na,
                                       odd_chunks + 3, ARRAY_SIZE(odd_chunks) - 3, back, &nc),
                                 CKR_OK);
                assert_int_equal(nc, len);
                if (len > 0)
                    assert_memory_equal(back, pt, len);
            }
            key_unref(k);
        }
    }
}

/* ---- lengths and padding --------------------------------------------------- */

static void test_partial_blocks(void **state)
{
    (void)state;
    unsigned char in[64] = {0}, out[BUF_MAX], iv[16] = {0};
    struct key *aes = random_key(CKK_AES, 16), *des = random_key(CKK_DES3, 24);
    struct mech_op *op;
    CK_ULONG n;
    static const struct {
        CK_MECHANISM_TYPE mech;
        bool des, iv;
    } m[] = {{CKM_AES_ECB, false, false},
             {CKM_AES_CBC, false, true},
             {CKM_DES3_ECB, true, false},
             {CKM_DES3_CBC, true, true}};
    for (size_t i = 0; i < ARRAY_SIZE(m); i++) {
        struct key *k = m[i].des ? des : aes;
        size_t bs = m[i].des ? 8 : 16;
        const void *p = m[i].iv ? iv : NULL;
        CK_ULONG pl = m[i].iv ? (CK_ULONG)bs : 0;
        static const mech_fn fns[] = {CKF_ENCRYPT, CKF_DECRYPT, CKF_WRAP, CKF_UNWRAP};
        static const CK_RV codes[] = {CKR_DATA_LEN_RANGE, CKR_ENCRYPTED_DATA_LEN_RANGE,
                                      CKR_DATA_LEN_RANGE, CKR_WRAPPED_KEY_LEN_RANGE};
        for (size_t f = 0; f < ARRAY_SIZE(fns); f++) {
            /* Single part: the error even for a size query. */
            n = sizeof(out);
            assert_int_equal(oneshot(m[i].mech, p, pl, fns[f], k, in, bs + 1, out, &n), codes[f]);
            op = mu_lookup_start_ok(&g_cfg, g_c, m[i].mech, p, pl, fns[f], k);
            n = 0;
            assert_int_equal(op->ops->oneshot(op, in, (CK_ULONG)bs - 1, NULL, &n), codes[f]);
            mech_op_free(op);
            /* Multi-part: the final. */
            op = mu_lookup_start_ok(&g_cfg, g_c, m[i].mech, p, pl, fns[f], k);
            n = sizeof(out);
            assert_int_equal(op->ops->update(op, in, (CK_ULONG)(2 * bs + 3), out, &n), CKR_OK);
            assert_int_equal(n, 2 * bs);
            n = sizeof(out);
            assert_int_equal(op->ops->final(op, out, &n), codes[f]);
            mech_op_free(op);
        }
    }
    /* CBC_PAD decryption: not a whole number of blocks, or nothing. */
    n = sizeof(out);
    assert_int_equal(oneshot(CKM_AES_CBC_PAD, iv, 16, CKF_DECRYPT, aes, in, 17, out, &n),
                     CKR_ENCRYPTED_DATA_LEN_RANGE);
    n = sizeof(out);
    assert_int_equal(oneshot(CKM_AES_CBC_PAD, iv, 16, CKF_DECRYPT, aes, in, 0, out, &n),
                     CKR_ENCRYPTED_DATA_LEN_RANGE);
    op = mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_CBC_PAD, iv, 16, CKF_DECRYPT, aes);
    n = sizeof(out);
    assert_int_equal(op->ops->final(op, out, &n), CKR_ENCRYPTED_DATA_LEN_RANGE);
    mech_op_free(op);
    op = mu_lookup_start_ok(&g_cfg, g_c, CKM_DES3_CBC_PAD, iv, 8, CKF_UNWRAP, des);
    n = sizeof(out);
    assert_int_equal(op->ops->update(op, in, 12, out, &n), CKR_OK);
    assert_int_equal(n, 8);
    assert_int_equal(op->ops->final(op, out, &n), CKR_WRAPPED_KEY_LEN_RANGE);
    mech_op_free(op);
    /* CTS: at least one block. */
    n = sizeof(out);
    assert_int_equal(oneshot(CKM_AES_CTS, iv, 16, CKF_ENCRYPT, aes, in, 15, out, &n),
                     CKR_DATA_LEN_RANGE);
    n = sizeof(out);
    assert_int_equal(oneshot(CKM_AES_CTS, iv, 16, CKF_DECRYPT, aes, in, 0, out, &n),
                     CKR_ENCRYPTED_DATA_LEN_RANGE);
    op = mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_CTS, iv, 16, CKF_ENCRYPT, aes);
    n = sizeof(out);
    assert_int_equal(op->ops->update(op, in, 10, out, &n), CKR_OK);
    assert_int_equal(n, 0);
    n = sizeof(out);
    assert_int_equal(op->ops->final(op, out, &n), CKR_DATA_LEN_RANGE);
    mech_op_free(op);
    key_unref(aes);
    key_unref(des);
}

/* Encrypts pt[n] with CBC (no padding) so that it decrypts under CBC_PAD
 * to whatever padding pt ends with. */
static size_t raw_cbc(struct key *k, const unsigned char *iv, size_t bs, CK_MECHANISM_TYPE cbc,
                      const unsigned char *pt, size_t n, unsigned char *out)
{
    CK_ULONG len = BUF_MAX;
    assert_int_equal(oneshot(cbc, iv, (CK_ULONG)bs, CKF_ENCRYPT, k, pt, n, out, &len), CKR_OK);
    return len;
}

static void test_bad_padding(void **state)
{
    (void)state;
    unsigned char iv[16] = {1}, pt[48], ct[BUF_MAX], out[BUF_MAX];
    struct key *k = random_key(CKK_AES, 32);
    static const struct {
        unsigned char last[4]; /* the last four plaintext bytes */
        bool ok;
    } cases[] = {
        {{9, 9, 9, 1}, true},   {{9, 9, 2, 2}, true},  {{9, 9, 9, 0}, false},
        {{9, 9, 9, 17}, false}, {{9, 9, 1, 2}, false}, {{3, 3, 2, 3}, false},
    };
    memset(pt, 0x5a, sizeof(pt));
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        memcpy(pt + sizeof(pt) - 4, cases[i].last, 4);
        size_t n = raw_cbc(k, iv, 16, CKM_AES_CBC, pt, sizeof(pt), ct);
        CK_ULONG len = sizeof(out);
        CK_RV want = cases[i].ok ? CKR_OK : CKR_ENCRYPTED_DATA_INVALID;
        assert_int_equal(oneshot(CKM_AES_CBC_PAD, iv, 16, CKF_DECRYPT, k, ct, n, out, &len), want);
        if (cases[i].ok)
            assert_int_equal(len, sizeof(pt) - cases[i].last[3]);
        len = sizeof(out);
        assert_int_equal(multi(CKM_AES_CBC_PAD, iv, 16, CKF_DECRYPT, k, ct, n, odd_chunks,
                               ARRAY_SIZE(odd_chunks), out, &len),
                         want);
        len = sizeof(out);
        assert_int_equal(oneshot(CKM_AES_CBC_PAD, iv, 16, CKF_UNWRAP, k, ct, n, out, &len),
                         cases[i].ok ? CKR_OK : CKR_WRAPPED_KEY_INVALID);
    }
    key_unref(k);
}

/* ---- output convention ----------------------------------------------------- */

static void test_short_buffers(void **state)
{
    (void)state;
    unsigned char pt[100], iv[16] = {7}, ct[BUF_MAX], out[BUF_MAX], ref[BUF_MAX];
    struct key *k = random_key(CKK_AES, 16);
    struct mech_op *op;
    CK_ULONG n, refn = sizeof(ref);
    memset(pt, 0x33, sizeof(pt));
    assert_int_equal(oneshot(CKM_AES_CBC_PAD, iv, 16, CKF_ENCRYPT, k, pt, sizeof(pt), ref, &refn),
                     CKR_OK);
    assert_int_equal(refn, 112);

    /* Single part: too small -> exact size, then it works. */
    op = mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_CBC_PAD, iv, 16, CKF_ENCRYPT, k);
    n = 111;
    assert_int_equal(op->ops->oneshot(op, pt, sizeof(pt), ct, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 112);
    n = 0;
    assert_int_equal(op->ops->oneshot(op, pt, sizeof(pt), NULL, &n), CKR_OK);
    assert_int_equal(n, 112);
    n = sizeof(ct);
    assert_int_equal(op->ops->oneshot(op, pt, sizeof(pt), ct, &n), CKR_OK);
    assert_int_equal(n, 112);
    assert_memory_equal(ct, ref, 112);
    mech_op_free(op);

    /* Multi-part: short update and short final, retried. */
    op = mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_CBC_PAD, iv, 16, CKF_ENCRYPT, k);
    n = 47;
    assert_int_equal(op->ops->update(op, pt, 50, ct, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 48);
    n = 48;
    assert_int_equal(op->ops->update(op, pt, 50, ct, &n), CKR_OK);
    assert_int_equal(n, 48);
    n = 0;
    assert_int_equal(op->ops->update(op, pt + 50, 50, ct + 48, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 48);
    n = 48;
    assert_int_equal(op->ops->update(op, pt + 50, 50, ct + 48, &n), CKR_OK);
    n = 15;
    assert_int_equal(op->ops->final(op, ct + 96, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 16);
    n = 16;
    assert_int_equal(op->ops->final(op, ct + 96, &n), CKR_OK);
    assert_memory_equal(ct, ref, 112);
    mech_op_free(op);

    /* CBC_PAD decryption into a buffer of exactly the plaintext's size
     * (single part and final), and one byte short. */
    op = mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_CBC_PAD, iv, 16, CKF_DECRYPT, k);
    n = 99;
    assert_int_equal(op->ops->oneshot(op, ref, 112, out, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 100);
    n = 100;
    assert_int_equal(op->ops->oneshot(op, ref, 112, out, &n), CKR_OK);
    assert_int_equal(n, 100);
    assert_memory_equal(out, pt, 100);
    mech_op_free(op);

    op = mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_CBC_PAD, iv, 16, CKF_DECRYPT, k);
    n = sizeof(out);
    assert_int_equal(op->ops->update(op, ref, 112, out, &n), CKR_OK);
    assert_int_equal(n, 96);
    n = 0;
    assert_int_equal(op->ops->final(op, NULL, &n), CKR_OK);
    assert_int_equal(n, 15); /* an upper bound */
    n = 3;
    assert_int_equal(op->ops->final(op, out + 96, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 4); /* exact */
    n = 4;
    assert_int_equal(op->ops->final(op, out + 96, &n), CKR_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(out, pt, 100);
    mech_op_free(op);

    /* CTS: the final's tail survives a short buffer. */
    op = mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_CTS, iv, 16, CKF_ENCRYPT, k);
    n = sizeof(ct);
    assert_int_equal(op->ops->update(op, pt, 40, ct, &n), CKR_OK);
    assert_int_equal(n, 16);
    n = 23;
    assert_int_equal(op->ops->final(op, ct + 16, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 24);
    n = 24;
    assert_int_equal(op->ops->final(op, ct + 16, &n), CKR_OK);
    mech_op_free(op);
    n = sizeof(out);
    assert_int_equal(oneshot(CKM_AES_CTS, iv, 16, CKF_DECRYPT, k, ct, 40, out, &n), CKR_OK);
    assert_int_equal(n, 40);
    assert_memory_equal(out, pt, 40);
    key_unref(k);
}

/* ---- CTR counter field ----------------------------------------------------- */

static void test_ctr_counter_bits(void **state)
{
    (void)state;
    unsigned char in[64] = {0}, out[BUF_MAX], ref[BUF_MAX];
    struct key *k = hex_key(CKK_AES, SP38A_KEY);
    CK_AES_CTR_PARAMS p = {8, {0}};
    struct mech_op *op;
    CK_ULONG n;
    mu_unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", p.cb, 16);

    /* 8 bits holding 0xff: one block left. */
    n = sizeof(out);
    assert_int_equal(oneshot(CKM_AES_CTR, &p, sizeof(p), CKF_ENCRYPT, k, in, 16, out, &n), CKR_OK);
    n = sizeof(out);
    assert_int_equal(oneshot(CKM_AES_CTR, &p, sizeof(p), CKF_ENCRYPT, k, in, 17, out, &n),
                     CKR_DATA_LEN_RANGE);
    n = sizeof(out);
    assert_int_equal(oneshot(CKM_AES_CTR, &p, sizeof(p), CKF_DECRYPT, k, in, 17, out, &n),
                     CKR_ENCRYPTED_DATA_LEN_RANGE);
    op = mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_CTR, &p, sizeof(p), CKF_ENCRYPT, k);
    n = sizeof(out);
    assert_int_equal(op->ops->update(op, in, 10, out, &n), CKR_OK);
    n = sizeof(out);
    assert_int_equal(op->ops->update(op, in, 6, out, &n), CKR_OK);
    n = sizeof(out);
    assert_int_equal(op->ops->update(op, in, 1, out, &n), CKR_DATA_LEN_RANGE);
    mech_op_free(op);

    /* 16 bits holding 0xfeff: 257 blocks left. */
    p.ulCounterBits = 16;
    op = mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_CTR, &p, sizeof(p), CKF_ENCRYPT, k);
    for (int i = 0; i < 64; i++) {
        n = sizeof(out);
        assert_int_equal(op->ops->update(op, in, 64, out, &n), CKR_OK); /* 256 blocks */
    }
    n = sizeof(out);
    assert_int_equal(op->ops->update(op, in, 17, out, &n), CKR_DATA_LEN_RANGE);
    n = sizeof(out);
    assert_int_equal(op->ops->update(op, in, 16, out, &n), CKR_OK);
    mech_op_free(op);

    /* 64 bits all ones: one block; 65 bits: plenty. */
    memset(p.cb + 8, 0xff, 8);
    p.ulCounterBits = 64;
    n = sizeof(out);
    assert_int_equal(oneshot(CKM_AES_CTR, &p, sizeof(p), CKF_ENCRYPT, k, in, 32, out, &n),
                     CKR_DATA_LEN_RANGE);
    p.cb[7] = 0xf6; /* bit 64 clear */
    p.ulCounterBits = 65;
    n = sizeof(out);
    assert_int_equal(oneshot(CKM_AES_CTR, &p, sizeof(p), CKF_ENCRYPT, k, in, 64, out, &n), CKR_OK);

    /* 128 bits wraps modulo 2^128, as OpenSSL does: the keystream after
     * ff..ff is E(00..00). */
    memset(p.cb, 0xff, 16);
    p.ulCounterBits = 128;
    n = sizeof(out);
    assert_int_equal(oneshot(CKM_AES_CTR, &p, sizeof(p), CKF_ENCRYPT, k, in, 32, out, &n), CKR_OK);
    CK_ULONG r = sizeof(ref);
    assert_int_equal(oneshot(CKM_AES_ECB, NULL, 0, CKF_ENCRYPT, k, in, 16, ref, &r), CKR_OK);
    assert_memory_equal(out + 16, ref, 16);
    key_unref(k);
}

/* ---- parameters and keys --------------------------------------------------- */

static void test_bad_params(void **state)
{
    (void)state;
    unsigned char iv[17] = {0};
    struct key *aes = random_key(CKK_AES, 16), *des = random_key(CKK_DES3, 24);
    struct key *gen = random_key(CKK_GENERIC_SECRET, 16);
    struct mech_op *op;
    CK_AES_CTR_PARAMS ctr = {0, {0}};

    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_AES_ECB, iv, 16, CKF_ENCRYPT, aes, &op),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_AES_CBC, NULL, 0, CKF_ENCRYPT, aes, &op),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_AES_CBC, iv, 15, CKF_ENCRYPT, aes, &op),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_AES_CBC_PAD, iv, 17, CKF_DECRYPT, aes, &op),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_AES_CTS, iv, 8, CKF_ENCRYPT, aes, &op),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_DES3_CBC, iv, 16, CKF_ENCRYPT, des, &op),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_DES3_ECB, iv, 8, CKF_ENCRYPT, des, &op),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(
        mu_lookup_start(&g_cfg, g_c, CKM_AES_CTR, &ctr, sizeof(ctr), CKF_ENCRYPT, aes, &op),
        CKR_MECHANISM_PARAM_INVALID);
    ctr.ulCounterBits = 129;
    assert_int_equal(
        mu_lookup_start(&g_cfg, g_c, CKM_AES_CTR, &ctr, sizeof(ctr), CKF_ENCRYPT, aes, &op),
        CKR_MECHANISM_PARAM_INVALID);
    ctr.ulCounterBits = 32;
    assert_int_equal(
        mu_lookup_start(&g_cfg, g_c, CKM_AES_CTR, &ctr, sizeof(ctr) - 1, CKF_ENCRYPT, aes, &op),
        CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_AES_CTR, iv, 16, CKF_ENCRYPT, aes, &op),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(
        mu_lookup_start(&g_cfg, g_c, CKM_AES_CTR, &ctr, sizeof(ctr), CKF_ENCRYPT, aes, &op),
        CKR_OK);
    mech_op_free(op);
    /* Parameter pointer NULL with a length. */
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_AES_CBC, NULL, 16, CKF_ENCRYPT, aes, &op),
                     CKR_MECHANISM_PARAM_INVALID);

    /* Keys of the wrong type. */
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_AES_ECB, NULL, 0, CKF_ENCRYPT, des, &op),
                     CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_DES3_ECB, NULL, 0, CKF_ENCRYPT, aes, &op),
                     CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_AES_CBC, iv, 16, CKF_DECRYPT, gen, &op),
                     CKR_KEY_TYPE_INCONSISTENT);
    /* A function the mechanism does not have. */
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_AES_CTS, iv, 16, CKF_WRAP, aes, &op),
                     CKR_MECHANISM_INVALID);
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_AES_ECB, NULL, 0, CKF_SIGN, aes, &op),
                     CKR_MECHANISM_INVALID);
    key_unref(aes);
    key_unref(des);
    key_unref(gen);
}

/* The family's init called directly with what mech_lookup would refuse. */
static void test_init_direct(void **state)
{
    (void)state;
    unsigned char v[20] = {0};
    struct key *odd = mu_secret_key(g_c, CKK_AES, v, 20);
    struct key *aes = random_key(CKK_AES, 16);
    struct mech_op *op = NULL;
    CK_MECHANISM m = {CKM_AES_ECB, NULL, 0};
    assert_int_equal(
        mech_cipher_family.init(&op, mech_find(CKM_AES_ECB), &m, CKF_ENCRYPT, odd, g_c, &g_cfg),
        CKR_KEY_SIZE_RANGE);
    assert_null(op);
    assert_int_equal(
        mech_cipher_family.init(&op, mech_find(CKM_AES_ECB), &m, CKF_SIGN, aes, g_c, &g_cfg),
        CKR_MECHANISM_INVALID);
    assert_int_equal(
        mech_cipher_family.init(&op, mech_find(CKM_AES_GCM), &m, CKF_ENCRYPT, aes, g_c, &g_cfg),
        CKR_MECHANISM_INVALID);
    /* Size check by mech_op_new. */
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_AES_ECB, NULL, 0, CKF_ENCRYPT, odd, &op),
                     CKR_KEY_SIZE_RANGE);
    key_unref(odd);
    key_unref(aes);
}

/* Size queries change nothing; NULL input with a length is refused. */
static void test_size_queries(void **state)
{
    (void)state;
    unsigned char pt[64], iv[16] = {3}, a[BUF_MAX], b[BUF_MAX];
    struct key *k = random_key(CKK_AES, 32);
    CK_ULONG n, na = sizeof(a);
    memset(pt, 0x77, sizeof(pt));
    assert_int_equal(oneshot(CKM_AES_CBC, iv, 16, CKF_ENCRYPT, k, pt, 64, a, &na), CKR_OK);
    struct mech_op *op = mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_CBC, iv, 16, CKF_ENCRYPT, k);
    for (int i = 0; i < 3; i++) {
        n = 0;
        assert_int_equal(op->ops->update(op, pt, 20, NULL, &n), CKR_OK);
        assert_int_equal(n, 16);
    }
    n = sizeof(b);
    assert_int_equal(op->ops->update(op, pt, 20, b, &n), CKR_OK);
    n = sizeof(b) - 16;
    assert_int_equal(op->ops->update(op, pt + 20, 44, b + 16, &n), CKR_OK);
    assert_int_equal(n, 48);
    n = 0;
    assert_int_equal(op->ops->final(op, NULL, &n), CKR_OK);
    assert_int_equal(n, 0);
    n = 0;
    assert_int_equal(op->ops->final(op, b + 64, &n), CKR_OK);
    assert_int_equal(n, 0);
    assert_memory_equal(a, b, 64);
    mech_op_free(op);

    op = mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_CTR, &(CK_AES_CTR_PARAMS){32, {0}},
                            sizeof(CK_AES_CTR_PARAMS), CKF_ENCRYPT, k);
    n = sizeof(b);
    assert_int_equal(op->ops->update(op, NULL, 5, b, &n), CKR_ARGUMENTS_BAD);
    mech_op_free(op);
    op = mu_lookup_start_ok(&g_cfg, g_c, CKM_AES_ECB, NULL, 0, CKF_ENCRYPT, k);
    n = sizeof(b);
    assert_int_equal(op->ops->oneshot(op, NULL, 16, b, &n), CKR_ARGUMENTS_BAD);
    n = sizeof(b);
    assert_int_equal(op->ops->oneshot(op, NULL, 0, b, &n), CKR_OK);
    assert_int_equal(n, 0);
    mech_op_free(op);
    key_unref(k);
}

/* A bigger message in uneven parts, every mode: each part's output
 * arrives as its blocks complete (no whole-message buffering). */
static void test_streaming(void **state)
{
    (void)state;
    enum { LEN = 64 * 1024 + 5 };
    unsigned char *pt = malloc(LEN), *a = malloc(LEN + 16), *b = malloc(LEN + 16);
    unsigned char iv[16] = {9};
    struct key *k = random_key(CKK_AES, 24);
    assert_non_null(pt);
    assert_non_null(a);
    assert_non_null(b);
    mu_rnd(g_c, pt, LEN);
    static const CK_MECHANISM_TYPE mechs[] = {CKM_AES_CBC_PAD, CKM_AES_CTR, CKM_AES_CTS};
    for (size_t m = 0; m < ARRAY_SIZE(mechs); m++) {
        CK_AES_CTR_PARAMS ctr = {128, {9}};
        const void *param = mechs[m] == CKM_AES_CTR ? (const void *)&ctr : iv;
        CK_ULONG plen = mechs[m] == CKM_AES_CTR ? sizeof(ctr) : 16;
        CK_ULONG na = LEN + 16, nb = LEN + 16;
        assert_int_equal(oneshot(mechs[m], param, plen, CKF_ENCRYPT, k, pt, LEN, a, &na), CKR_OK);
        struct mech_op *op = mu_lookup_start_ok(&g_cfg, g_c, mechs[m], param, plen, CKF_ENCRYPT, k);
        size_t done = 0;
        for (size_t pos = 0; pos < LEN;) {
            size_t n = LEN - pos < 4099 ? LEN - pos : 4099;
            CK_ULONG got = (CK_ULONG)(nb - done);
            assert_int_equal(op->ops->update(op, pt + pos, (CK_ULONG)n, b + done, &got), CKR_OK);
            assert_true(got + 32 >= n); /* at most two blocks held back */
            done += got;
            pos += n;
        }
        CK_ULONG got = (CK_ULONG)(nb - done);
        assert_int_equal(op->ops->final(op, b + done, &got), CKR_OK);
        assert_int_equal(done + got, na);
        assert_memory_equal(a, b, na);
        mech_op_free(op);
    }
    key_unref(k);
    free(pt);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kat_aes_ecb_cbc), cmocka_unit_test(test_kat_aes_cbc_pad),
        cmocka_unit_test(test_kat_aes_ctr),     cmocka_unit_test(test_kat_aes_cts),
        cmocka_unit_test(test_kat_des3),        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_partial_blocks),  cmocka_unit_test(test_bad_padding),
        cmocka_unit_test(test_short_buffers),   cmocka_unit_test(test_ctr_counter_bits),
        cmocka_unit_test(test_bad_params),      cmocka_unit_test(test_init_direct),
        cmocka_unit_test(test_size_queries),    cmocka_unit_test(test_streaming),
    };
    return cmocka_run_group_tests_name("mech_cipher", tests, group_setup, group_teardown);
}
