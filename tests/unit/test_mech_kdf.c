/*
 * Unit tests for src/mech/kdf.c: HKDF (derive and data, extract / expand /
 * both), the SP 800-108 counter KDF (any data order, little-endian
 * counters, DKM lengths), PBKDF2 key generation (3.x parameters; the 2.40
 * layout refused) and the concatenation / XOR derivations.  Known answers from
 * NIST ACVP, Wycheproof and RFC 5869; OpenSSL's KBKDF as a reference for
 * the standard layout; every bad parameter with its CKR code.
 */
#include "mech_util.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "mech/mech.h"
#include "object/attr.h"
#include "object/key.h"

#define BUF_MAX 512

struct hkdf_kat {
    CK_MECHANISM_TYPE prf;
    const char *ikm, *salt, *info;
    size_t size;
    const char *okm; /* NULL: size not producible; else okm or its prefix */
};

struct kbkdf_kat {
    CK_MECHANISM_TYPE prf;
    CK_ULONG width;
    bool counter_first;
    const char *key, *fixed;
    size_t len;
    const char *out;
};

struct pbkdf2_kat {
    CK_PKCS5_PBKD2_PSEUDO_RANDOM_FUNCTION_TYPE prf;
    const char *password, *salt;
    CK_ULONG iterations;
    const char *dk;
};

/* HKDF-SHA-256 (Wycheproof hkdf_sha256_test.json; okm NULL: the size is
 * too large; tcId 24's 8160-byte okm is checked by its first 32 bytes). */
static const struct hkdf_kat hkdf_wycheproof[] = {
    {CKM_SHA256, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "", 42,
     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
     "9d201395faa4b61a96c8"},
    {CKM_SHA256,
     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
     "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
     "404142434445464748494a4b4c4d4e4f",
     "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
     "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
     "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
     "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
     "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
     "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
     82,
     "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
     "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
     "cc30c58179ec3e87c14c01d5c1f3434f1d87"},
    {CKM_SHA256, "24aeff2645e3e0f5494a9a102778c43a", "", "", 20,
     "d4cca5e416c3d9eb58bd562e922691daff76aa4d"},
    {CKM_SHA256, "91556a70e96dccb6a2fbee28250bdbd5",
     "ccdc54836e6046d5c851f917c37b0baeabd225e996b8f71d452cff5036345c3e", "2b90f142b2310b23", 8160,
     "02382e3c9b2e8010bc3b63c6bb4960afd90af438735320bec0a4c626c0d49165"},
    {CKM_SHA256, "db89f54af757f8c7e57248a1718105b1",
     "d5efc88adf3d5afc970284aab51690bdfedfa40be98e374efa3060ccf97fc650", "134f085797b1ae2e", 8161,
     NULL},
    {CKM_SHA256, "fa4f94e9cdbf725c1ee98decddbe42ec06196116", "", "", 20,
     "f32a552257d372b16c5d8c46e6c07dc9c33be9bc"},
    {CKM_SHA256, "7ef7d4f8c11d940471cf9a3048d66b3b3a3d9db9fed5f81419fe75dd50116f4e", "", "", 20,
     "a370de1c822b8eb00645c18e32ad6a1f4bb17c9b"},
    {CKM_SHA256, "3ee1fc0d8fac49d494c4a1b8cf6bf290a4a2c19a27c3ab1914d0d21c841577e0", "",
     "4dc991623624fadef207587e42776cf3e0fdf4e5", 32,
     "f41f703259063d401de67cea9192038ddddc71ede5cdb383aad71894c1a39e8c"},
};

/* SP 800-56C HKDF with SHA2-224 (NIST ACVP KDA-HKDF-Sp800-56Cr1 group 1:
 * salt 64 zero bytes, info = uPartyInfo || vPartyInfo || L as 32 bits). */
static const struct hkdf_kat hkdf_acvp[] = {
    {CKM_SHA224, "212f5e9048a5594c8cf92fd59100222759f33e44af72fd41e8a5d5239b5b",
     "0000000000000000000000000000000000000000000000000000000000000000"
     "0000000000000000000000000000000000000000000000000000000000000000",
     "a4ca7cf1dbc36a2af64f0a61ce95f6abcde3585d2fca4fcfb643b07a588cbbea"
     "ccc685bb9217514530c9a3a2a543018fd09a1d6b6a6709d31df725a94e040000"
     "0400",
     128,
     "9c1beba27f6c8df20c3dd1437686cf4c399e249bbb9fe6fc92260a91e05b4836"
     "b39a4c1e5a898c566411a6b8904ef0f5cb01ecc659125efb6262f12608752789"
     "5710e832304df8295196f88945c9e50a4b92ab9d7365bdb1e52ba23917145df7"
     "4f27cdf1276cb98cc2f1d29acb6511c95976b94d4bbbafab23a5e0714ad290af"},
    {CKM_SHA224, "cc5d96b2ea9e383ea80ab0c2e2a448f5eb43004ef310966223a60a961802",
     "0000000000000000000000000000000000000000000000000000000000000000"
     "0000000000000000000000000000000000000000000000000000000000000000",
     "3985d0ceb81963d7490b2ad3e2cb50bb39cb71bb6c5eda5a688384d077e8025c"
     "00000400",
     128,
     "09e4f7260a7e02de117d8e1428292688cc52eea2173343a47f37accadb77129c"
     "88622d80c58053f2c70934de1d8a921fd9febc40dc1014c018efe2c68e5caf09"
     "3219e47096ee79de5b1590ad2d3e3114bac5cb7c6c95323af9b6af772ddf2cb9"
     "3e9b81102f2f73af41e6d23885486f6703e642a834ae8b0eb82a70b29961e4c1"},
    {CKM_SHA224, "2f6925fa5e05aeec1723d30361946d887ae54d4e637cf298c6cdfafba9b6",
     "0000000000000000000000000000000000000000000000000000000000000000"
     "0000000000000000000000000000000000000000000000000000000000000000",
     "acf1c1d2edded5872d81f1db515e576d8972cb6ef44dbd9f26920473bed345c3"
     "183934333c2acc53f97095df363258bc2b4436f52dda67ec979e94eef6f60000"
     "0400",
     128,
     "694804face4174b10ad1292453a46d55db934e323739acf5a10dcaa32298e185"
     "c4780bfb46ce65b0777a44bd310f923586121eb0ad90b0aade72f8ab948f5689"
     "2a8af242cce1687a03d61c130ad154f51e082db94ee1e16e19233a3b17e1b092"
     "53592b4c7d5ae4b50a2b5d43fe0f2c02208df11f36b6527cdefd4807986e744a"},
    {CKM_SHA224, "7bb8549fd29e9ae327d088923878479f38dd3bf6e1c09d684974eb943154",
     "0000000000000000000000000000000000000000000000000000000000000000"
     "0000000000000000000000000000000000000000000000000000000000000000",
     "e1c1cf769233308c16a3a9c7ab65da88b13e5561ab62a3f57031d51b5944e514"
     "a9a14cfa4d2c7409e2aa80eec577c9a95b9b365cf7defaca8e28c2bdd814d5fb"
     "79247b4a1b8581de8f21397b36b480fe1e4acf06dd0ba57631ad1f8700000400",
     128,
     "ed09572404246864e61581cb5d4efdf1ebdc6e20edb74bc906edc3e90b47f36c"
     "33f47146b53a671f78607778198786ce2858f3f9919f74e2c5a6523278eab516"
     "00b703d65eeb8ab9f80ecdb8b400508b91889f06d383ab0ed50e107178a29916"
     "6c4c74a4e595e4cad23949d26ce1253fbf8b97fe91abdae78f53d19b9b46a41b"},
};

/* SP 800-108 counter mode (NIST ACVP KDF-1.0): the counter before or after
 * the fixed data, big-endian, 8..32 bits; one group per PRF and width. */
static const struct kbkdf_kat kbkdf_acvp[] = {
    {CKM_AES_CMAC, 24, true, "0c9862a304e832db875810af616cbd57", "2515aeec8f6ac56c9f64386f2c9fa832",
     128,
     "7d1bccf65ba2790381d9224d18cf030db7550115456c86e4c164e64a58c23f48"
     "4653cdc7de9a02fca7c3a545cd50277c685066882d731165099ba426f9bfbb3b"
     "5b2791006fd9493c156b31f1acaf9ef1215da3bcd8b742858af57eebdb23ae07"
     "d2763806a89429d2b8148f5238532d130cb0c97ee9314c137b09c375f2930cbf"},
    {CKM_AES_CMAC, 32, false, "eb79223d6e6661553344040fbd3e5bb1",
     "7f0c7f22ab547630ac682883de1698c6", 16, "690b033a99a22d4617d586d8517ffb54"},
    {CKM_AES_CMAC, 32, true, "82b6688aff409439556d53b51dd386463ecc61bbc83c50b0b1c91d8aa520854a",
     "4726caddf66bca18f6f243cbbe704fe4", 32,
     "09612916b39c1d566c90f8f1b39b465fff9e58faf7e13ad462345745ccf57956"},
    {CKM_AES_CMAC, 8, false, "cc7d0f1bda1c5ed257c5335c1fd04c3d7c2a7439d827f5232de1e0d7a1b27810",
     "141107c378ce5bb3dc6f69293f27d743", 32,
     "c44b7e4f4a6d2a635e8a11dd101bb2725957981447bbd0b95e41a63bdbb5374c"},
    {CKM_AES_CMAC, 24, true, "f944fe16e1f9d8b0fced7a368a6b7ab7fef17059e60b40476893808301bad009",
     "4851b187aa50bee28f00dc3093e6e7a8", 128,
     "be4650cca120ebd4ea32e3791d6d0d517d98b6c356a644df66b84d4d1598af18"
     "070bc4932121516417a9f7d78a4f6164ed9e52e855e27c856f0721c7fb728106"
     "66a05a4711f804cb204649c8a200dfa23ac608518fa441e17d935516ef0f26f0"
     "9d36fd5cd4d046fafeecda52cfc72cef3449e8f93fb41fd55ce9cf91d328e93f"},
    {CKM_SHA256_HMAC, 8, false, "275cf0917f3941c31b5e1f924117fea7ce8c20069ac59cd1bf3e57f793de680a",
     "6e620de678428ed8b1dfc37a1da69d40", 32,
     "0a6198ccd891dd2ea0dcabd60fe3fc0adf0837a9f2f4bc53dfac51677e6cb8c8"},
    {CKM_SHA256_HMAC, 24, true, "682004c848b4b0d4ed58aac4a612c339b387b4903b644c2a1889f79993a30897",
     "879109e6025487aadae95c910001fb2c", 64,
     "3822524e55082a2f20b7705206a5cc56a9e82c51ce9df050389a20ded6c58e43"
     "ca2eef43de7a1070b5641e51ee91154b5f0a69bf2e97c7d5e5542b5b0bc8aec9"},
    {CKM_SHA256_HMAC, 32, false, "943e3526defe9108d29e330a16a16091fb400195b2be4312101a71b1e8e94cde",
     "69377eeab613a6089a8cd74ed14d2a04", 32,
     "2113b6046c5d5b23a6c268460d97cd65a9f9d78be972d936687dcc5390b47747"},
    {CKM_SHA512_HMAC, 32, true,
     "fc593108f01faace035d0eef53f0d6044dde6e5be2a9f468ff355614544e52d4"
     "db7c24ab16677fc330c5581128448787009c7dfbbe59d12005487070e3db945b",
     "b377422773e955fc6bcff75602818a4f", 64,
     "055b97d0117762fc7acb42a5eafc84b16d22521fb9d8e34ce0d9cbc45838445d"
     "753711ef99325c2183bd1674aef59e8725ec6d815e7c692f75befd4987d8c6bc"},
    {CKM_AES_CMAC, 16, false, "14a99825f2d1eaccf7a56cd558417d61",
     "0464b87333f393dfd832cacfb936a0bc", 64,
     "bc356b70050da3682df45136922a52c2c802ba59a6b4c7c59b79c05a991f7642"
     "8e0b1b4131bec4d0b3aa6bdc80553dd9dc309e781da18b4c0529130ca411e8e2"},
    {CKM_AES_CMAC, 16, true, "3d8038511cb98cee87d863844d5febf0da943457ea9a8a99f860f671a82cf992",
     "60a6433ce4b9a5202e3b07f320baba98", 64,
     "72b0d141be70b6e172b678f7ae190a9cef7068ca930899cb59c673aebe7f6e78"
     "4669da8a4c2b8b20564e33f8e5d5b7d16a0a7cd42ef88c57520a75f35dfe962d"},
    {CKM_SHA256_HMAC, 16, false, "d1a50c68aafe31f2489a20d6be85d95b923cf9ca8e859100debd46e39be99c65",
     "f534c4ee50335449cc1ff547c866b4eb", 64,
     "422e6cdd1a13f786e5a7441527f21934c55997cabfe6bb8171fb0ef7f840855f"
     "3c34314c070b1bb7d746ff4345471996d44a70ce0f9740448d36e44782df5045"},
    {CKM_SHA512_HMAC, 8, true,
     "77cbfa30a43f8ffced6dee300159351271ad6821043a346dfbe94c8fb7eba01a"
     "5760cdb9ee813ab38d6fd2c9edb41bc0611a1fd45599324485e8b1dff21c6bbf",
     "5abdae8f8d202bd3141d8c37d52d0ced", 64,
     "97040cec610140a7caa4479a423869a6c82573dd60141dbd4b1b9e95c15a816d"
     "6327d38f89a75ec18cdd1129d0f201e51f0ceba9126d7ecf54526d0b1154c86c"},
    {CKM_SHA512_HMAC, 16, false,
     "cd7ef10fc624ef8ec192d81138864d3001a43f60e83dde47a799f87f042a661b"
     "89c2674b6c6d2330404ceda5efefd54ba3333b249f160234c95d7ce95430daae",
     "0912ae8cadd43a7c97350bbc406651af", 64,
     "aec8b9f439b3f9b54861b71001885dbf1b6cc5fafde5ce0d965411b4dc22a157"
     "3afba824243b5107b58917e679381f7430cf2e6f88689ee3272f884ca3a2c50d"},
    {CKM_SHA512_HMAC, 24, true,
     "c366ff3c6f5e9ce4a794509b989bf2b637b0197b3d08ab43ec19b0d8f4bee80e"
     "c603bd62843c894cae6fabea88a9c7dea3bd6e19633c2f81c98478f8aa4b5453",
     "feb24c80b348e07c596e2e205efa010d", 64,
     "8fa795d99a47890a58a7411cd770191ebc55358d99c5d8a68534251678ab129d"
     "1bd392d09c7a7bd9c3d9a9dc1fc5181c7d57ff7c702c026b1c8d70df882e65db"},
    {CKM_AES_CMAC, 8, false, "579ac7c72cbe7dbb3e1a73e727007bef", "f2dfd464bbe33c43f815b479caa9fece",
     128,
     "05ed421d26d7d9108bcc134fcb40dbfd6fc6763b08aa78354e560fb3ab017d14"
     "9e938af768857e7305bab0ce83b8de55304a1bd195d037142ee0aa25f997dd4b"
     "6f3c6f7950387ebcd1ca963384d8e49ecd50d784faaae9522edb04696bdc6d2b"
     "fe7456243550599bb3e57c48469e6a5989b9759634ff08de5d041768a30f31da"},
};

/* PBKDF2 (Wycheproof pbkdf2_hmacsha256_test.json, NIST ACVP PBKDF-1.0 with
 * HMAC-SHA2-224; ACVP passwords are ASCII, given here in hex). */
static const struct pbkdf2_kat pbkdf2_kats[] = {
    {CKP_PKCS5_PBKD2_HMAC_SHA256, "706173737764", "73616c74", 1,
     "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
     "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"},
    {CKP_PKCS5_PBKD2_HMAC_SHA256, "7130577430643470", "798acc7c76739d75", 4096,
     "0501c73cb9f40b6769513e70e525051e"},
    {CKP_PKCS5_PBKD2_HMAC_SHA256, "4b2d6c600e66535c7f3d6d6c", "7a4c02db8bd8fcc2", 4096,
     "b05992b03b7f25b4a24a27e98cdfff3a"},
    {CKP_PKCS5_PBKD2_HMAC_SHA256, "d0a3d1bed38acc83", "8dfae85c9f2072ae", 4096,
     "c06bc1f9a63de10fe5f6936991477029"},
    {CKP_PKCS5_PBKD2_HMAC_SHA256, "ff", "32140a66b88e1683", 4096,
     "49bc8d940c8f67ae5ee0764f59dea94e"},
    {CKP_PKCS5_PBKD2_HMAC_SHA224, "74664e41677058556f", "3f80c1e147538b8bfe548eb9a128841f651b82ba",
     4018,
     "86eb8a2ef2107d4969da2ad6781fa8df7aaeb0d9a877583f388cf3fae6c159b2"
     "23b9542153b68f49ee0d86d19f65b2067c7fa488a1c6a9"},
    {CKP_PKCS5_PBKD2_HMAC_SHA224,
     "7976776e434b45414b464451474d7467454864784873504e544173686274516c"
     "75506f66667542506a544750596c624d525450564e",
     "ebb01a6c19f34e7db5331c5afeca28242e503cfe60e004daaf09716a", 398,
     "3a6d456a339e2d9be7e9932745fc11ef36490bd1480b451885624732f8f5"},
    {CKP_PKCS5_PBKD2_HMAC_SHA224,
     "617a784d756f6147506b6f445345507a63667547544d434c67714e5554725671"
     "4e",
     "6b7e773ed89844835128be617895ae1ed8619e311d8d5954f7e3c14ba1f0380d"
     "c64ccf82afb57b",
     8444, "a1234ac86a60e30a975dfc843269"},
    {CKP_PKCS5_PBKD2_HMAC_SHA224, "4469544b64627259",
     "addd2c18003760003e3f42d65681c80be4191f04c4244ed409b3b39508", 6463,
     "8701106cc14746e5aec5033015441cd02bb3cdd7fdb351d8ad72b2b41e09cb22"
     "ca34e26ae24cd80d"},
    {CKP_PKCS5_PBKD2_HMAC_SHA224,
     "4e66506573704c5756504e494b646f506a6c4f5a494e4b53496d6357736e6e6b"
     "594954",
     "edac291259d455530be65a815790fd1e7f", 3964,
     "c12f476760c6ab0d552083fbe08fa3acb758005d1d379383fc21dd4669c83f09"
     "dbf114126a2e23"},
};

static struct crypto *g_c;
static struct config g_cfg;

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
    unsigned char v[BUF_MAX];
    return mu_secret_key(g_c, kt, v, mu_unhex(hex, v, sizeof(v)));
}

/* C_DeriveKey through the family: CKR_OK leaves *out (secure heap) to the
 * caller (free with drop). */
static CK_RV derive(CK_MECHANISM_TYPE type, const void *param, CK_ULONG plen, struct key *k,
                    size_t len, unsigned char **out, size_t *outlen)
{
    CK_MECHANISM m = {type, (void *)param, plen};
    const struct mech_desc *d = NULL;
    *out = NULL;
    *outlen = 0;
    CK_RV rv = mech_lookup(&g_cfg, &m, CKF_DERIVE, &d);
    if (rv != CKR_OK)
        return rv;
    assert_non_null(d->family->derive);
    rv = d->family->derive(d, &m, k, g_c, &g_cfg, len, out, outlen);
    if (rv != CKR_OK) {
        assert_null(*out);
    }
    return rv;
}

static void drop(unsigned char *p, size_t len)
{
    crypto_secret_free(p, len);
}

/* ---- HKDF -------------------------------------------------------------- */

static CK_HKDF_PARAMS hkdf_params(CK_MECHANISM_TYPE prf, bool extract, bool expand,
                                  unsigned char *salt, size_t saltlen, unsigned char *info,
                                  size_t infolen)
{
    CK_HKDF_PARAMS p;
    memset(&p, 0, sizeof(p));
    p.bExtract = extract ? CK_TRUE : CK_FALSE;
    p.bExpand = expand ? CK_TRUE : CK_FALSE;
    p.prfHashMechanism = prf;
    p.ulSaltType = salt != NULL ? CKF_HKDF_SALT_DATA : CKF_HKDF_SALT_NULL;
    p.pSalt = salt;
    p.ulSaltLen = saltlen;
    p.pInfo = info;
    p.ulInfoLen = infolen;
    return p;
}

static void run_hkdf(const struct hkdf_kat *t)
{
    unsigned char ikm[BUF_MAX], salt[BUF_MAX], info[BUF_MAX], okm[BUF_MAX];
    size_t ikmlen = mu_unhex(t->ikm, ikm, sizeof(ikm));
    size_t saltlen = mu_unhex(t->salt, salt, sizeof(salt));
    size_t infolen = mu_unhex(t->info, info, sizeof(info));
    size_t okmlen = t->okm != NULL ? mu_unhex(t->okm, okm, sizeof(okm)) : 0;
    CK_MECHANISM_TYPE mechs[2] = {CKM_HKDF_DERIVE, CKM_HKDF_DATA};
    CK_KEY_TYPE kts[2] = {CKK_GENERIC_SECRET, CKK_HKDF};

    for (size_t i = 0; i < 2; i++) {
        struct key *k = mu_secret_key(g_c, kts[i], ikm, ikmlen);
        /* an empty salt both as no salt and as empty data */
        for (int form = 0; form < (saltlen == 0 ? 2 : 1); form++) {
            CK_HKDF_PARAMS p = hkdf_params(t->prf, true, true, form == 0 ? salt : NULL, saltlen,
                                           infolen ? info : NULL, infolen);
            unsigned char *out = NULL;
            size_t outlen = 0;
            CK_RV rv = derive(mechs[i], &p, sizeof(p), k, t->size, &out, &outlen);
            if (t->okm == NULL) {
                assert_int_equal(rv, CKR_TEMPLATE_INCONSISTENT);
                continue;
            }
            assert_int_equal(rv, CKR_OK);
            assert_int_equal(outlen, t->size);
            assert_memory_equal(out, okm, okmlen);
            drop(out, outlen);
        }
        key_unref(k);
    }
}

static void test_hkdf_kats(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(hkdf_wycheproof) / sizeof(hkdf_wycheproof[0]); i++)
        run_hkdf(&hkdf_wycheproof[i]);
    for (size_t i = 0; i < sizeof(hkdf_acvp) / sizeof(hkdf_acvp[0]); i++)
        run_hkdf(&hkdf_acvp[i]);
}

/* RFC 5869 A.1 in two steps: extract-only gives the PRK, expand-only from
 * the PRK gives the OKM. */
static void test_hkdf_extract_expand(void **state)
{
    (void)state;
    unsigned char ikm[22], salt[13], info[10], prk[32], okm[42];
    memset(ikm, 0x0b, sizeof(ikm));
    for (size_t i = 0; i < sizeof(salt); i++)
        salt[i] = (unsigned char)i;
    for (size_t i = 0; i < sizeof(info); i++)
        info[i] = (unsigned char)(0xf0 + i);
    mu_unhex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5", prk, sizeof(prk));
    mu_unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
             okm, sizeof(okm));
    struct key *k = mu_secret_key(g_c, CKK_GENERIC_SECRET, ikm, sizeof(ikm));
    unsigned char *out = NULL;
    size_t outlen = 0;

    /* extract only: len 0 or the hash length; info is ignored */
    CK_HKDF_PARAMS p = hkdf_params(CKM_SHA256, true, false, salt, sizeof(salt), info, 10);
    assert_int_equal(derive(CKM_HKDF_DERIVE, &p, sizeof(p), k, 0, &out, &outlen), CKR_OK);
    assert_int_equal(outlen, 32);
    assert_memory_equal(out, prk, 32);
    drop(out, outlen);
    assert_int_equal(derive(CKM_HKDF_DERIVE, &p, sizeof(p), k, 32, &out, &outlen), CKR_OK);
    assert_memory_equal(out, prk, 32);
    drop(out, outlen);
    assert_int_equal(derive(CKM_HKDF_DERIVE, &p, sizeof(p), k, 16, &out, &outlen),
                     CKR_TEMPLATE_INCONSISTENT);
    assert_int_equal(derive(CKM_HKDF_DERIVE, &p, sizeof(p), k, 33, &out, &outlen),
                     CKR_TEMPLATE_INCONSISTENT);
    key_unref(k);

    /* expand only, with the PRK as the key (an HKDF key) */
    k = mu_secret_key(g_c, CKK_HKDF, prk, sizeof(prk));
    p = hkdf_params(CKM_SHA256, false, true, NULL, 0, info, sizeof(info));
    p.ulSaltType = CKF_HKDF_SALT_KEY; /* ignored without extraction */
    assert_int_equal(derive(CKM_HKDF_DERIVE, &p, sizeof(p), k, sizeof(okm), &out, &outlen), CKR_OK);
    assert_int_equal(outlen, sizeof(okm));
    assert_memory_equal(out, okm, sizeof(okm));
    drop(out, outlen);
    /* len 0: the hash length (a prefix of the longer output) */
    assert_int_equal(derive(CKM_HKDF_DATA, &p, sizeof(p), k, 0, &out, &outlen), CKR_OK);
    assert_int_equal(outlen, 32);
    assert_memory_equal(out, okm, 32);
    drop(out, outlen);
    /* 255 * HashLen is the most */
    assert_int_equal(derive(CKM_HKDF_DERIVE, &p, sizeof(p), k, 255 * 32, &out, &outlen), CKR_OK);
    assert_memory_equal(out, okm, sizeof(okm));
    drop(out, outlen);
    assert_int_equal(derive(CKM_HKDF_DERIVE, &p, sizeof(p), k, 255 * 32 + 1, &out, &outlen),
                     CKR_TEMPLATE_INCONSISTENT);
    key_unref(k);
}

/* Every digest mechanism works as the PRF; the output length follows it. */
static void test_hkdf_digests(void **state)
{
    (void)state;
    static const struct {
        CK_MECHANISM_TYPE m;
        const char *md;
        size_t len;
    } ds[] = {
        {CKM_SHA_1, "SHA1", 20},
        {CKM_SHA224, "SHA2-224", 28},
        {CKM_SHA256, "SHA2-256", 32},
        {CKM_SHA384, "SHA2-384", 48},
        {CKM_SHA512, "SHA2-512", 64},
        {CKM_SHA512_224, "SHA2-512/224", 28},
        {CKM_SHA512_256, "SHA2-512/256", 32},
        {CKM_SHA3_224, "SHA3-224", 28},
        {CKM_SHA3_256, "SHA3-256", 32},
        {CKM_SHA3_384, "SHA3-384", 48},
        {CKM_SHA3_512, "SHA3-512", 64},
    };
    unsigned char ikm[32], salt[7] = "saltsal", info[5] = "info!", want[100];
    memset(ikm, 0x42, sizeof(ikm));
    struct key *k = mu_secret_key(g_c, CKK_GENERIC_SECRET, ikm, sizeof(ikm));
    OSSL_LIB_CTX *lc = (OSSL_LIB_CTX *)crypto_libctx(g_c);
    for (size_t i = 0; i < sizeof(ds) / sizeof(ds[0]); i++) {
        EVP_KDF *kdf = EVP_KDF_fetch(lc, "HKDF", NULL);
        EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(kdf);
        OSSL_PARAM ps[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)ds[i].md, 0),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm, sizeof(ikm)),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt, sizeof(salt)),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof(info)),
            OSSL_PARAM_construct_end(),
        };
        assert_int_equal(EVP_KDF_derive(kctx, want, sizeof(want), ps), 1);
        EVP_KDF_CTX_free(kctx);
        EVP_KDF_free(kdf);

        CK_HKDF_PARAMS p = hkdf_params(ds[i].m, true, true, salt, sizeof(salt), info, sizeof(info));
        unsigned char *out = NULL;
        size_t outlen = 0;
        assert_int_equal(derive(CKM_HKDF_DERIVE, &p, sizeof(p), k, 0, &out, &outlen), CKR_OK);
        assert_int_equal(outlen, ds[i].len);
        assert_memory_equal(out, want, ds[i].len);
        drop(out, outlen);
        assert_int_equal(derive(CKM_HKDF_DERIVE, &p, sizeof(p), k, sizeof(want), &out, &outlen),
                         CKR_OK);
        assert_memory_equal(out, want, sizeof(want));
        drop(out, outlen);
    }
    key_unref(k);
}

static void test_hkdf_bad(void **state)
{
    (void)state;
    unsigned char v[32] = {7}, salt[8] = {1}, info[8] = {2};
    struct key *k = mu_secret_key(g_c, CKK_GENERIC_SECRET, v, sizeof(v));
    unsigned char *out = NULL;
    size_t outlen = 0;
    CK_HKDF_PARAMS p = hkdf_params(CKM_SHA256, true, true, salt, sizeof(salt), info, 8);

    /* the structure's size */
    assert_int_equal(derive(CKM_HKDF_DERIVE, &p, sizeof(p) - 1, k, 32, &out, &outlen),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(derive(CKM_HKDF_DERIVE, NULL, 0, k, 32, &out, &outlen),
                     CKR_MECHANISM_PARAM_INVALID);
    CK_MECHANISM m = {CKM_HKDF_DERIVE, NULL, sizeof(p)};
    const struct mech_desc *d = mech_find(CKM_HKDF_DERIVE);
    assert_int_equal(d->family->derive(d, &m, k, g_c, &g_cfg, 32, &out, &outlen),
                     CKR_MECHANISM_PARAM_INVALID);
    /* neither extract nor expand */
    CK_HKDF_PARAMS q = p;
    q.bExtract = q.bExpand = CK_FALSE;
    assert_int_equal(derive(CKM_HKDF_DERIVE, &q, sizeof(q), k, 32, &out, &outlen),
                     CKR_MECHANISM_PARAM_INVALID);
    /* not a digest mechanism */
    CK_MECHANISM_TYPE bad_prf[4] = {CKM_SHA256_HMAC, CKM_AES_CMAC, 0x0, CKM_HKDF_DERIVE};
    for (size_t i = 0; i < 4; i++) {
        q = p;
        q.prfHashMechanism = bad_prf[i];
        assert_int_equal(derive(CKM_HKDF_DERIVE, &q, sizeof(q), k, 32, &out, &outlen),
                         CKR_MECHANISM_PARAM_INVALID);
    }
    /* salt types: from a key (not resolvable here), unknown, NULL with a length */
    CK_ULONG bad_salt[4] = {CKF_HKDF_SALT_KEY, 0, 8, CKF_HKDF_SALT_DATA | CKF_HKDF_SALT_NULL};
    for (size_t i = 0; i < 4; i++) {
        q = p;
        q.ulSaltType = bad_salt[i];
        assert_int_equal(derive(CKM_HKDF_DERIVE, &q, sizeof(q), k, 32, &out, &outlen),
                         CKR_MECHANISM_PARAM_INVALID);
    }
    q = p;
    q.pSalt = NULL;
    assert_int_equal(derive(CKM_HKDF_DERIVE, &q, sizeof(q), k, 32, &out, &outlen),
                     CKR_MECHANISM_PARAM_INVALID);
    /* a NULL salt pointer is fine with the NULL salt type */
    q.ulSaltType = CKF_HKDF_SALT_NULL;
    assert_int_equal(derive(CKM_HKDF_DERIVE, &q, sizeof(q), k, 32, &out, &outlen), CKR_OK);
    drop(out, outlen);
    /* info: NULL with a length, too long */
    q = p;
    q.pInfo = NULL;
    assert_int_equal(derive(CKM_HKDF_DERIVE, &q, sizeof(q), k, 32, &out, &outlen),
                     CKR_MECHANISM_PARAM_INVALID);
    static unsigned char big[32 * 1024 + 1];
    q.pInfo = big;
    q.ulInfoLen = sizeof(big);
    assert_int_equal(derive(CKM_HKDF_DERIVE, &q, sizeof(q), k, 32, &out, &outlen),
                     CKR_MECHANISM_PARAM_INVALID);
    q.ulInfoLen = sizeof(big) - 1; /* the limit itself works */
    assert_int_equal(derive(CKM_HKDF_DERIVE, &q, sizeof(q), k, 32, &out, &outlen), CKR_OK);
    drop(out, outlen);
    key_unref(k);

    /* base keys: generic secret or HKDF only */
    k = mu_secret_key(g_c, CKK_AES, v, 32);
    assert_int_equal(derive(CKM_HKDF_DERIVE, &p, sizeof(p), k, 32, &out, &outlen),
                     CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(derive(CKM_HKDF_DATA, &p, sizeof(p), k, 32, &out, &outlen),
                     CKR_KEY_TYPE_INCONSISTENT);
    key_unref(k);
    k = mu_secret_key(g_c, CKK_SHA256_HMAC, v, 32);
    assert_int_equal(derive(CKM_HKDF_DERIVE, &p, sizeof(p), k, 32, &out, &outlen),
                     CKR_KEY_TYPE_INCONSISTENT);
    key_unref(k);
    assert_int_equal(derive(CKM_HKDF_DERIVE, &p, sizeof(p), NULL, 32, &out, &outlen),
                     CKR_KEY_TYPE_INCONSISTENT);
}

/* In approved-only mode the non-approved SHA-1 is no PRF. */
static void test_hkdf_policy(void **state)
{
    (void)state;
    unsigned char v[32] = {9};
    struct key *k = mu_secret_key(g_c, CKK_GENERIC_SECRET, v, sizeof(v));
    unsigned char *out = NULL;
    size_t outlen = 0;
    CK_HKDF_PARAMS p = hkdf_params(CKM_SHA_1, true, true, NULL, 0, NULL, 0);
    assert_int_equal(derive(CKM_HKDF_DERIVE, &p, sizeof(p), k, 20, &out, &outlen), CKR_OK);
    drop(out, outlen);
    g_cfg.fips_approved_only = true;
    assert_int_equal(derive(CKM_HKDF_DERIVE, &p, sizeof(p), k, 20, &out, &outlen),
                     CKR_MECHANISM_PARAM_INVALID);
    p.prfHashMechanism = CKM_SHA256;
    assert_int_equal(derive(CKM_HKDF_DERIVE, &p, sizeof(p), k, 20, &out, &outlen), CKR_OK);
    drop(out, outlen);
    g_cfg.fips_approved_only = false;
    key_unref(k);
}

/* ---- SP 800-108 counter mode ------------------------------------------- */

static void test_kbkdf_acvp(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(kbkdf_acvp) / sizeof(kbkdf_acvp[0]); i++) {
        const struct kbkdf_kat *t = &kbkdf_acvp[i];
        unsigned char fixed[BUF_MAX], want[BUF_MAX];
        size_t fixedlen = mu_unhex(t->fixed, fixed, sizeof(fixed));
        size_t wantlen = mu_unhex(t->out, want, sizeof(want));
        assert_int_equal(wantlen, t->len);
        struct key *k = hex_key(t->prf == CKM_AES_CMAC ? CKK_AES : CKK_GENERIC_SECRET, t->key);
        CK_SP800_108_COUNTER_FORMAT ctr = {CK_FALSE, t->width};
        CK_PRF_DATA_PARAM counter = {CK_SP800_108_ITERATION_VARIABLE, &ctr, sizeof(ctr)};
        CK_PRF_DATA_PARAM data = {CK_SP800_108_BYTE_ARRAY, fixed, fixedlen};
        CK_PRF_DATA_PARAM dp[2];
        dp[t->counter_first ? 0 : 1] = counter;
        dp[t->counter_first ? 1 : 0] = data;
        CK_SP800_108_KDF_PARAMS p = {t->prf, 2, dp, 0, NULL};
        unsigned char *out = NULL;
        size_t outlen = 0;
        assert_int_equal(derive(CKM_SP800_108_COUNTER_KDF, &p, sizeof(p), k, t->len, &out, &outlen),
                         CKR_OK);
        assert_int_equal(outlen, t->len);
        assert_memory_equal(out, want, t->len);
        drop(out, outlen);
        key_unref(k);
    }
}

/* OpenSSL's KBKDF layout (counter || label || 0x00 || context || L, 32-bit
 * big-endian counter and L) expressed as data entries gives its output. */
static void test_kbkdf_openssl_layout(void **state)
{
    (void)state;
    static const struct {
        CK_MECHANISM_TYPE prf;
        const char *mac, *sub;
        size_t keylen;
    } prfs[] = {
        {CKM_SHA256_HMAC, "HMAC", "SHA2-256", 32},   {CKM_SHA384_HMAC, "HMAC", "SHA2-384", 20},
        {CKM_SHA3_256_HMAC, "HMAC", "SHA3-256", 64}, {CKM_SHA_1_HMAC, "HMAC", "SHA1", 20},
        {CKM_AES_CMAC, "CMAC", "AES-128-CBC", 16},   {CKM_AES_CMAC, "CMAC", "AES-192-CBC", 24},
        {CKM_AES_CMAC, "CMAC", "AES-256-CBC", 32},
    };
    unsigned char kv[64], label[9] = "the label", context[11] = "the context", zero = 0;
    unsigned char want[200];
    for (size_t i = 0; i < sizeof(kv); i++)
        kv[i] = (unsigned char)(i * 7 + 1);
    OSSL_LIB_CTX *lc = (OSSL_LIB_CTX *)crypto_libctx(g_c);
    size_t lens[3] = {1, 33, sizeof(want)};

    for (size_t i = 0; i < sizeof(prfs) / sizeof(prfs[0]); i++) {
        for (size_t l = 0; l < 3; l++) {
            EVP_KDF *kdf = EVP_KDF_fetch(lc, "KBKDF", NULL);
            EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(kdf);
            OSSL_PARAM ps[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, (char *)prfs[i].mac, 0),
                OSSL_PARAM_construct_utf8_string(strcmp(prfs[i].mac, "HMAC") == 0
                                                     ? OSSL_KDF_PARAM_DIGEST
                                                     : OSSL_KDF_PARAM_CIPHER,
                                                 (char *)prfs[i].sub, 0),
                OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, kv, prfs[i].keylen),
                OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, label, sizeof(label)),
                OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, context, sizeof(context)),
                OSSL_PARAM_construct_end(),
            };
            assert_int_equal(EVP_KDF_derive(kctx, want, lens[l], ps), 1);
            EVP_KDF_CTX_free(kctx);
            EVP_KDF_free(kdf);

            struct key *k =
                mu_secret_key(g_c, prfs[i].prf == CKM_AES_CMAC ? CKK_AES : CKK_GENERIC_SECRET, kv,
                              prfs[i].keylen);
            CK_SP800_108_COUNTER_FORMAT ctr = {CK_FALSE, 32};
            CK_SP800_108_DKM_LENGTH_FORMAT dkm = {CK_SP800_108_DKM_LENGTH_SUM_OF_KEYS, CK_FALSE,
                                                  32};
            CK_PRF_DATA_PARAM dp[] = {
                {CK_SP800_108_ITERATION_VARIABLE, &ctr, sizeof(ctr)},
                {CK_SP800_108_BYTE_ARRAY, label, sizeof(label)},
                {CK_SP800_108_BYTE_ARRAY, &zero, 1},
                {CK_SP800_108_BYTE_ARRAY, context, sizeof(context)},
                {CK_SP800_108_DKM_LENGTH, &dkm, sizeof(dkm)},
            };
            CK_SP800_108_KDF_PARAMS p = {prfs[i].prf, 5, dp, 0, NULL};
            unsigned char *out = NULL;
            size_t outlen = 0;
            assert_int_equal(
                derive(CKM_SP800_108_COUNTER_KDF, &p, sizeof(p), k, lens[l], &out, &outlen),
                CKR_OK);
            assert_int_equal(outlen, lens[l]);
            assert_memory_equal(out, want, lens[l]);
            drop(out, outlen);
            key_unref(k);
        }
    }
}

/* Little-endian fields, a counter in the middle, L as the sum of segments:
 * checked against HMAC computed here block by block. */
static void test_kbkdf_little_endian(void **state)
{
    (void)state;
    unsigned char kv[32], a[3] = {0xaa, 0xbb, 0xcc}, b[2] = {0x11, 0x22};
    memset(kv, 0x33, sizeof(kv));
    size_t len = 70; /* 3 blocks of SHA-256: L(segments) = 768 bits */
    unsigned char want[96];
    OSSL_LIB_CTX *lc = (OSSL_LIB_CTX *)crypto_libctx(g_c);
    for (unsigned i = 1; i <= 3; i++) {
        /* a || counter (24-bit LE) || b || L (16-bit LE, 768 = 0x0300) */
        unsigned char msg[3 + 3 + 2 + 2] = {0xaa, 0xbb, 0xcc, (unsigned char)i, 0, 0, 0x11,
                                            0x22, 0x00, 0x03};
        size_t n = 0;
        assert_non_null(EVP_Q_mac(lc, "HMAC", NULL, "SHA2-256", NULL, kv, sizeof(kv), msg,
                                  sizeof(msg), want + 32 * (i - 1), 32, &n));
    }
    struct key *k = mu_secret_key(g_c, CKK_GENERIC_SECRET, kv, sizeof(kv));
    CK_SP800_108_COUNTER_FORMAT ctr = {CK_TRUE, 24};
    CK_SP800_108_DKM_LENGTH_FORMAT dkm = {CK_SP800_108_DKM_LENGTH_SUM_OF_SEGMENTS, CK_TRUE, 16};
    CK_PRF_DATA_PARAM dp[] = {
        {CK_SP800_108_BYTE_ARRAY, a, sizeof(a)},
        {CK_SP800_108_ITERATION_VARIABLE, &ctr, sizeof(ctr)},
        {CK_SP800_108_BYTE_ARRAY, b, sizeof(b)},
        {CK_SP800_108_DKM_LENGTH, &dkm, sizeof(dkm)},
    };
    CK_SP800_108_KDF_PARAMS p = {CKM_SHA256_HMAC, 4, dp, 0, NULL};
    unsigned char *out = NULL;
    size_t outlen = 0;
    assert_int_equal(derive(CKM_SP800_108_COUNTER_KDF, &p, sizeof(p), k, len, &out, &outlen),
                     CKR_OK);
    assert_int_equal(outlen, len);
    assert_memory_equal(out, want, len);
    drop(out, outlen);

    /* SUM_OF_KEYS: L = 560 bits = 0x0230, a different output */
    dkm.dkmLengthMethod = CK_SP800_108_DKM_LENGTH_SUM_OF_KEYS;
    assert_int_equal(derive(CKM_SP800_108_COUNTER_KDF, &p, sizeof(p), k, len, &out, &outlen),
                     CKR_OK);
    assert_memory_not_equal(out, want, 32);
    unsigned char msg[10] = {0xaa, 0xbb, 0xcc, 1, 0, 0, 0x11, 0x22, 0x30, 0x02}, first[32];
    size_t n = 0;
    assert_non_null(EVP_Q_mac(lc, "HMAC", NULL, "SHA2-256", NULL, kv, sizeof(kv), msg, sizeof(msg),
                              first, sizeof(first), &n));
    assert_memory_equal(out, first, 32);
    drop(out, outlen);
    key_unref(k);
}

static void test_kbkdf_bad(void **state)
{
    (void)state;
    unsigned char kv[32] = {5}, fixed[4] = {1, 2, 3, 4};
    struct key *k = mu_secret_key(g_c, CKK_GENERIC_SECRET, kv, sizeof(kv));
    unsigned char *out = NULL;
    size_t outlen = 0;
    CK_SP800_108_COUNTER_FORMAT ctr = {CK_FALSE, 32};
    CK_SP800_108_DKM_LENGTH_FORMAT dkm = {CK_SP800_108_DKM_LENGTH_SUM_OF_KEYS, CK_FALSE, 32};
    CK_PRF_DATA_PARAM dp[3] = {
        {CK_SP800_108_ITERATION_VARIABLE, &ctr, sizeof(ctr)},
        {CK_SP800_108_BYTE_ARRAY, fixed, sizeof(fixed)},
        {CK_SP800_108_DKM_LENGTH, &dkm, sizeof(dkm)},
    };
    CK_SP800_108_KDF_PARAMS good = {CKM_SHA256_HMAC, 3, dp, 0, NULL}, p;
#define KB(len) derive(CKM_SP800_108_COUNTER_KDF, &p, sizeof(p), k, (len), &out, &outlen)

    p = good;
    assert_int_equal(KB(32), CKR_OK);
    drop(out, outlen);
    assert_int_equal(derive(CKM_SP800_108_COUNTER_KDF, &p, sizeof(p) + 1, k, 32, &out, &outlen),
                     CKR_MECHANISM_PARAM_INVALID);
    /* no natural length */
    assert_int_equal(KB(0), CKR_TEMPLATE_INCOMPLETE);
    /* PRFs: HMAC and AES-CMAC mechanisms only, not _GENERAL or digests */
    CK_MECHANISM_TYPE bad_prf[5] = {CKM_SHA256, CKM_SHA256_HMAC_GENERAL, CKM_AES_CMAC_GENERAL,
                                    CKM_AES_ECB, 0};
    for (size_t i = 0; i < 5; i++) {
        p = good;
        p.prfType = bad_prf[i];
        assert_int_equal(KB(32), CKR_MECHANISM_PARAM_INVALID);
    }
    /* the data array */
    p = good;
    p.pDataParams = NULL;
    assert_int_equal(KB(32), CKR_MECHANISM_PARAM_INVALID);
    p = good;
    p.ulNumberOfDataParams = 0;
    assert_int_equal(KB(32), CKR_MECHANISM_PARAM_INVALID);
    p = good;
    p.ulNumberOfDataParams = 1000;
    assert_int_equal(KB(32), CKR_MECHANISM_PARAM_INVALID);
    /* no iteration variable */
    p = good;
    p.pDataParams = dp + 1;
    p.ulNumberOfDataParams = 2;
    assert_int_equal(KB(32), CKR_MECHANISM_PARAM_INVALID);
    /* two iteration variables, two DKM lengths */
    CK_PRF_DATA_PARAM two[3] = {dp[0], dp[1], dp[0]};
    p = good;
    p.pDataParams = two;
    assert_int_equal(KB(32), CKR_MECHANISM_PARAM_INVALID);
    CK_PRF_DATA_PARAM twodkm[3] = {dp[0], dp[2], dp[2]};
    p.pDataParams = twodkm;
    assert_int_equal(KB(32), CKR_MECHANISM_PARAM_INVALID);
    /* entry types: optional counter, key handle, unknown */
    CK_ULONG bad_types[4] = {CK_SP800_108_OPTIONAL_COUNTER, CK_SP800_108_KEY_HANDLE, 0, 99};
    for (size_t i = 0; i < 4; i++) {
        CK_PRF_DATA_PARAM e[2] = {dp[0], {bad_types[i], fixed, sizeof(fixed)}};
        p = good;
        p.pDataParams = e;
        p.ulNumberOfDataParams = 2;
        assert_int_equal(KB(32), CKR_MECHANISM_PARAM_INVALID);
    }
    /* entry values: NULL, wrong sizes */
    CK_PRF_DATA_PARAM e[3];
    memcpy(e, dp, sizeof(e));
    p = good;
    p.pDataParams = e;
    e[0].pValue = NULL;
    assert_int_equal(KB(32), CKR_MECHANISM_PARAM_INVALID);
    e[0] = dp[0];
    e[0].ulValueLen = sizeof(ctr) - 1;
    assert_int_equal(KB(32), CKR_MECHANISM_PARAM_INVALID);
    e[0] = dp[0];
    e[1].pValue = NULL;
    assert_int_equal(KB(32), CKR_MECHANISM_PARAM_INVALID);
    e[1] = dp[1];
    e[1].ulValueLen = 0; /* an empty byte array is nothing */
    assert_int_equal(KB(32), CKR_OK);
    drop(out, outlen);
    e[1] = dp[1];
    e[2].ulValueLen = sizeof(dkm) + 1;
    assert_int_equal(KB(32), CKR_MECHANISM_PARAM_INVALID);
    e[2] = dp[2];
    e[2].pValue = NULL;
    assert_int_equal(KB(32), CKR_MECHANISM_PARAM_INVALID);
    /* counter widths: 8, 16, 24, 32 */
    p = good;
    CK_ULONG bad_w[5] = {0, 4, 12, 40, 64};
    for (size_t i = 0; i < 5; i++) {
        ctr.ulWidthInBits = bad_w[i];
        assert_int_equal(KB(32), CKR_MECHANISM_PARAM_INVALID);
    }
    ctr.ulWidthInBits = 32;
    /* DKM: method, widths 8..64 */
    dkm.dkmLengthMethod = 3;
    assert_int_equal(KB(32), CKR_MECHANISM_PARAM_INVALID);
    dkm.dkmLengthMethod = CK_SP800_108_DKM_LENGTH_SUM_OF_KEYS;
    CK_ULONG bad_dw[4] = {0, 7, 72, 65};
    for (size_t i = 0; i < 4; i++) {
        dkm.ulWidthInBits = bad_dw[i];
        assert_int_equal(KB(32), CKR_MECHANISM_PARAM_INVALID);
    }
    dkm.ulWidthInBits = 64;
    assert_int_equal(KB(32), CKR_OK);
    drop(out, outlen);
    /* L must fit its field: 32 bytes = 256 bits > 8-bit field */
    dkm.ulWidthInBits = 8;
    assert_int_equal(KB(31), CKR_OK); /* 248 bits */
    drop(out, outlen);
    assert_int_equal(KB(32), CKR_TEMPLATE_INCONSISTENT);
    dkm.ulWidthInBits = 32;
    /* the block count must fit the counter: 8 bits -> 255 blocks of 32 bytes */
    ctr.ulWidthInBits = 8;
    assert_int_equal(KB(255 * 32), CKR_OK);
    drop(out, outlen);
    assert_int_equal(KB(255 * 32 + 1), CKR_TEMPLATE_INCONSISTENT);
    ctr.ulWidthInBits = 32;
    /* the attribute limit */
    assert_int_equal(KB(ATTR_MAX_VALUE), CKR_OK);
    drop(out, outlen);
    assert_int_equal(KB(ATTR_MAX_VALUE + 1), CKR_TEMPLATE_INCONSISTENT);
    /* additional derived keys are not supported yet */
    p = good;
    CK_OBJECT_HANDLE h = 0;
    CK_DERIVED_KEY extra = {NULL, 0, &h};
    p.ulAdditionalDerivedKeys = 1;
    p.pAdditionalDerivedKeys = &extra;
    assert_int_equal(KB(32), CKR_MECHANISM_PARAM_INVALID);
    key_unref(k);

    /* CMAC needs an AES-sized key */
    k = mu_secret_key(g_c, CKK_GENERIC_SECRET, kv, 20);
    p = good;
    p.prfType = CKM_AES_CMAC;
    assert_int_equal(KB(32), CKR_KEY_SIZE_RANGE);
    key_unref(k);
    k = mu_secret_key(g_c, CKK_AES, kv, 24);
    assert_int_equal(KB(32), CKR_OK);
    drop(out, outlen);
    key_unref(k);
    k = NULL;
    assert_int_equal(KB(32), CKR_KEY_TYPE_INCONSISTENT);
#undef KB
}

/* ---- PBKDF2 ------------------------------------------------------------ */

/* A generated-key template: class, key type and (when vl != 0) CKA_VALUE_LEN. */
static void template(struct attrs *t, CK_KEY_TYPE kt, CK_ULONG vl)
{
    memset(t, 0, sizeof(*t));
    assert_int_equal(attrs_set_ulong(t, CKA_CLASS, CKO_SECRET_KEY), CKR_OK);
    assert_int_equal(attrs_set_ulong(t, CKA_KEY_TYPE, kt), CKR_OK);
    if (vl != 0)
        assert_int_equal(attrs_set_ulong(t, CKA_VALUE_LEN, vl), CKR_OK);
}

static CK_RV generate(const void *param, CK_ULONG plen, struct attrs *t)
{
    CK_MECHANISM m = {CKM_PKCS5_PBKD2, (void *)param, plen};
    const struct mech_desc *d = NULL;
    CK_RV rv = mech_lookup(&g_cfg, &m, CKF_GENERATE, &d);
    if (rv != CKR_OK)
        return rv;
    assert_non_null(d->family->generate);
    return d->family->generate(d, &m, g_c, &g_cfg, t);
}

static void assert_value(const struct attrs *t, const unsigned char *want, size_t len)
{
    const struct attr *v = attrs_find(t, CKA_VALUE);
    assert_non_null(v);
    assert_true(v->secret);
    assert_int_equal(v->len, len);
    assert_memory_equal(v->value, want, len);
}

static void test_pbkdf2_kats(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(pbkdf2_kats) / sizeof(pbkdf2_kats[0]); i++) {
        const struct pbkdf2_kat *kat = &pbkdf2_kats[i];
        unsigned char pw[BUF_MAX], salt[BUF_MAX], dk[BUF_MAX];
        size_t pwlen = mu_unhex(kat->password, pw, sizeof(pw));
        size_t saltlen = mu_unhex(kat->salt, salt, sizeof(salt));
        size_t dklen = mu_unhex(kat->dk, dk, sizeof(dk));
        CK_PKCS5_PBKD2_PARAMS2 p = {
            CKZ_SALT_SPECIFIED, salt, saltlen, kat->iterations, kat->prf, NULL, 0, pw, pwlen};
        struct attrs t;
        template(&t, CKK_GENERIC_SECRET, dklen);
        assert_int_equal(generate(&p, sizeof(p), &t), CKR_OK);
        assert_value(&t, dk, dklen);
        attrs_free(&t);

        /* the 2.40 layout (ulPasswordLen a pointer) is refused, never
         * dereferenced */
        CK_ULONG len240 = pwlen;
        CK_PKCS5_PBKD2_PARAMS old = {
            CKZ_SALT_SPECIFIED, salt, saltlen, kat->iterations, kat->prf, NULL, 0, pw, &len240};
        template(&t, CKK_GENERIC_SECRET, dklen);
        assert_int_equal(generate(&old, sizeof(old), &t), CKR_MECHANISM_PARAM_INVALID);
        attrs_free(&t);
    }
}

/* Every PRF against OpenSSL's PBKDF2, and AES / DES3 key lengths. */
static void test_pbkdf2_prfs_and_types(void **state)
{
    (void)state;
    static const struct {
        CK_ULONG prf;
        const char *md;
    } prfs[] = {
        {CKP_PKCS5_PBKD2_HMAC_SHA1, "SHA1"},
        {CKP_PKCS5_PBKD2_HMAC_SHA224, "SHA2-224"},
        {CKP_PKCS5_PBKD2_HMAC_SHA256, "SHA2-256"},
        {CKP_PKCS5_PBKD2_HMAC_SHA384, "SHA2-384"},
        {CKP_PKCS5_PBKD2_HMAC_SHA512, "SHA2-512"},
        {CKP_PKCS5_PBKD2_HMAC_SHA512_224, "SHA2-512/224"},
        {CKP_PKCS5_PBKD2_HMAC_SHA512_256, "SHA2-512/256"},
    };
    unsigned char pw[] = "correct horse", salt[] = "NaCl", want[32];
    OSSL_LIB_CTX *lc = (OSSL_LIB_CTX *)crypto_libctx(g_c);
    struct attrs t;
    for (size_t i = 0; i < sizeof(prfs) / sizeof(prfs[0]); i++) {
        EVP_MD *md = EVP_MD_fetch(lc, prfs[i].md, NULL);
        assert_non_null(md);
        assert_int_equal(PKCS5_PBKDF2_HMAC((const char *)pw, 13, salt, 4, 3, md, 32, want), 1);
        EVP_MD_free(md);
        CK_PKCS5_PBKD2_PARAMS2 p = {CKZ_SALT_SPECIFIED, salt, 4, 3, prfs[i].prf, NULL, 0, pw, 13};
        CK_ULONG lens[3] = {16, 24, 32};
        for (size_t l = 0; l < 3; l++) {
            template(&t, CKK_AES, lens[l]);
            assert_int_equal(generate(&p, sizeof(p), &t), CKR_OK);
            assert_value(&t, want, lens[l]);
            attrs_free(&t);
        }
        /* DES3: 24 bytes without CKA_VALUE_LEN */
        template(&t, CKK_DES3, 0);
        assert_int_equal(generate(&p, sizeof(p), &t), CKR_OK);
        assert_value(&t, want, 24);
        attrs_free(&t);
    }
}

static void test_pbkdf2_bad(void **state)
{
    (void)state;
    unsigned char pw[] = "password", salt[] = "salt";
    CK_PKCS5_PBKD2_PARAMS2
    good = {CKZ_SALT_SPECIFIED, salt, 4, 1, CKP_PKCS5_PBKD2_HMAC_SHA256, NULL, 0, pw, 8}, p;
    struct attrs t;
#define GEN(kt, vl, want)                                      \
    do {                                                       \
        template(&t, (kt), (vl));                              \
        assert_int_equal(generate(&p, sizeof(p), &t), (want)); \
        if ((want) != CKR_OK)                                  \
            assert_null(attrs_find(&t, CKA_VALUE));            \
        attrs_free(&t);                                        \
    } while (0)

    p = good;
    GEN(CKK_GENERIC_SECRET, 20, CKR_OK);
    template(&t, CKK_GENERIC_SECRET, 20);
    assert_int_equal(generate(&p, sizeof(p) - 1, &t), CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(generate(NULL, 0, &t), CKR_MECHANISM_PARAM_INVALID);
    attrs_free(&t);
    /* salt source */
    p = good;
    p.saltSource = 2;
    GEN(CKK_GENERIC_SECRET, 20, CKR_MECHANISM_PARAM_INVALID);
    p = good;
    p.pSaltSourceData = NULL;
    GEN(CKK_GENERIC_SECRET, 20, CKR_MECHANISM_PARAM_INVALID);
    p.ulSaltSourceDataLen = 0; /* an empty salt is the caller's choice */
    GEN(CKK_GENERIC_SECRET, 20, CKR_OK);
    /* iterations: 1 .. 10,000,000 */
    p = good;
    p.iterations = 0;
    GEN(CKK_GENERIC_SECRET, 20, CKR_MECHANISM_PARAM_INVALID);
    p.iterations = 10000001;
    GEN(CKK_GENERIC_SECRET, 20, CKR_MECHANISM_PARAM_INVALID);
    /* PRFs: GOST, unknown; PRF data */
    CK_ULONG bad_prf[3] = {CKP_PKCS5_PBKD2_HMAC_GOSTR3411, 0, 9};
    for (size_t i = 0; i < 3; i++) {
        p = good;
        p.prf = bad_prf[i];
        GEN(CKK_GENERIC_SECRET, 20, CKR_MECHANISM_PARAM_INVALID);
    }
    p = good;
    p.pPrfData = salt;
    p.ulPrfDataLen = 4;
    GEN(CKK_GENERIC_SECRET, 20, CKR_MECHANISM_PARAM_INVALID);
    /* password: NULL with a length, too long; empty is allowed */
    p = good;
    p.pPassword = NULL;
    GEN(CKK_GENERIC_SECRET, 20, CKR_MECHANISM_PARAM_INVALID);
    p.ulPasswordLen = 0;
    GEN(CKK_GENERIC_SECRET, 20, CKR_OK);
    /* 2.40 layout whose length is too large */
    CK_ULONG huge = 0x10001;
    CK_PKCS5_PBKD2_PARAMS old = {
        CKZ_SALT_SPECIFIED, salt, 4, 1, CKP_PKCS5_PBKD2_HMAC_SHA256, NULL, 0, pw, &huge};
    template(&t, CKK_GENERIC_SECRET, 20);
    assert_int_equal(generate(&old, sizeof(old), &t), CKR_MECHANISM_PARAM_INVALID);
    attrs_free(&t);
    /* a 3.x length above the limit, aligned or not */
    p = good;
    p.ulPasswordLen = 0x10001;
    GEN(CKK_GENERIC_SECRET, 20, CKR_MECHANISM_PARAM_INVALID);
    p.ulPasswordLen = 0x7f0000000000UL;
    GEN(CKK_GENERIC_SECRET, 20, CKR_MECHANISM_PARAM_INVALID);
    /* template: lengths */
    p = good;
    GEN(CKK_GENERIC_SECRET, 0, CKR_TEMPLATE_INCOMPLETE);
    GEN(CKK_AES, 0, CKR_TEMPLATE_INCOMPLETE);
    GEN(CKK_AES, 17, CKR_ATTRIBUTE_VALUE_INVALID);
    GEN(CKK_AES, 64, CKR_ATTRIBUTE_VALUE_INVALID);
    GEN(CKK_DES3, 16, CKR_ATTRIBUTE_VALUE_INVALID);
    GEN(CKK_GENERIC_SECRET, ATTR_MAX_VALUE + 1, CKR_ATTRIBUTE_VALUE_INVALID);
    GEN(CKK_SHA256_HMAC, 1, CKR_OK);
    /* a malformed CKA_VALUE_LEN */
    template(&t, CKK_GENERIC_SECRET, 0);
    assert_int_equal(attrs_set(&t, CKO_SECRET_KEY, CKA_VALUE_LEN, "ab", 2), CKR_OK);
    assert_int_equal(generate(&p, sizeof(p), &t), CKR_ATTRIBUTE_VALUE_INVALID);
    attrs_free(&t);
    /* SHA-1 is not approved */
    p.prf = CKP_PKCS5_PBKD2_HMAC_SHA1;
    GEN(CKK_GENERIC_SECRET, 20, CKR_OK);
    g_cfg.fips_approved_only = true;
    GEN(CKK_GENERIC_SECRET, 20, CKR_MECHANISM_PARAM_INVALID);
    g_cfg.fips_approved_only = false;
#undef GEN
}

/* ---- concatenation and XOR --------------------------------------------- */

static void test_string_derive(void **state)
{
    (void)state;
    unsigned char base[5] = {1, 2, 3, 4, 5}, data[3] = {0x10, 0x20, 0x30};
    struct key *k = mu_secret_key(g_c, CKK_GENERIC_SECRET, base, sizeof(base));
    CK_KEY_DERIVATION_STRING_DATA p = {data, sizeof(data)};
    unsigned char *out = NULL;
    size_t outlen = 0;

    static const unsigned char bd[8] = {1, 2, 3, 4, 5, 0x10, 0x20, 0x30};
    static const unsigned char db[8] = {0x10, 0x20, 0x30, 1, 2, 3, 4, 5};
    static const unsigned char x[3] = {0x11, 0x22, 0x33};
    static const struct {
        CK_MECHANISM_TYPE m;
        const unsigned char *want;
        size_t natural;
    } cases[] = {
        {CKM_CONCATENATE_BASE_AND_DATA, bd, 8},
        {CKM_CONCATENATE_DATA_AND_BASE, db, 8},
        {CKM_XOR_BASE_AND_DATA, x, 3},
    };
    for (size_t i = 0; i < 3; i++) {
        /* natural length, then every shorter length (a prefix) */
        assert_int_equal(derive(cases[i].m, &p, sizeof(p), k, 0, &out, &outlen), CKR_OK);
        assert_int_equal(outlen, cases[i].natural);
        assert_memory_equal(out, cases[i].want, outlen);
        drop(out, outlen);
        for (size_t l = 1; l <= cases[i].natural; l++) {
            assert_int_equal(derive(cases[i].m, &p, sizeof(p), k, l, &out, &outlen), CKR_OK);
            assert_int_equal(outlen, l);
            assert_memory_equal(out, cases[i].want, l);
            drop(out, outlen);
        }
        assert_int_equal(derive(cases[i].m, &p, sizeof(p), k, cases[i].natural + 1, &out, &outlen),
                         CKR_TEMPLATE_INCONSISTENT);
        /* parameter: size, NULL data with a length */
        assert_int_equal(derive(cases[i].m, &p, sizeof(p) - 1, k, 0, &out, &outlen),
                         CKR_MECHANISM_PARAM_INVALID);
        CK_KEY_DERIVATION_STRING_DATA q = {NULL, 3};
        assert_int_equal(derive(cases[i].m, &q, sizeof(q), k, 0, &out, &outlen),
                         CKR_MECHANISM_PARAM_INVALID);
        q.ulLen = ATTR_MAX_VALUE + 1;
        q.pData = data; /* never read: refused on the length */
        assert_int_equal(derive(cases[i].m, &q, sizeof(q), k, 0, &out, &outlen),
                         CKR_MECHANISM_PARAM_INVALID);
        assert_int_equal(derive(cases[i].m, &p, sizeof(p), NULL, 0, &out, &outlen),
                         CKR_KEY_TYPE_INCONSISTENT);
    }
    /* empty data: concatenation gives the base, XOR nothing */
    CK_KEY_DERIVATION_STRING_DATA e = {NULL, 0};
    assert_int_equal(derive(CKM_CONCATENATE_BASE_AND_DATA, &e, sizeof(e), k, 0, &out, &outlen),
                     CKR_OK);
    assert_int_equal(outlen, sizeof(base));
    assert_memory_equal(out, base, sizeof(base));
    drop(out, outlen);
    assert_int_equal(derive(CKM_CONCATENATE_DATA_AND_BASE, &e, sizeof(e), k, 0, &out, &outlen),
                     CKR_OK);
    assert_memory_equal(out, base, sizeof(base));
    drop(out, outlen);
    assert_int_equal(derive(CKM_XOR_BASE_AND_DATA, &e, sizeof(e), k, 0, &out, &outlen),
                     CKR_MECHANISM_PARAM_INVALID);
    /* XOR with data longer than the base: the base's length */
    unsigned char longer[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    CK_KEY_DERIVATION_STRING_DATA lp = {longer, sizeof(longer)};
    assert_int_equal(derive(CKM_XOR_BASE_AND_DATA, &lp, sizeof(lp), k, 0, &out, &outlen), CKR_OK);
    assert_int_equal(outlen, 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(out[i], (unsigned char)(base[i] ^ 0xff));
    drop(out, outlen);
    /* base-and-key: the second key's handle is not resolvable here */
    CK_OBJECT_HANDLE h = 1;
    assert_int_equal(derive(CKM_CONCATENATE_BASE_AND_KEY, &h, sizeof(h), k, 0, &out, &outlen),
                     CKR_MECHANISM_PARAM_INVALID);
    key_unref(k);
    /* any secret key type is a base */
    k = mu_secret_key(g_c, CKK_AES, (const unsigned char *)"0123456789abcdef", 16);
    assert_int_equal(derive(CKM_CONCATENATE_BASE_AND_DATA, &p, sizeof(p), k, 0, &out, &outlen),
                     CKR_OK);
    assert_int_equal(outlen, 19);
    drop(out, outlen);
    key_unref(k);
}

/* The family has no init (derive / generate only). */
static void test_family_shape(void **state)
{
    (void)state;
    const struct mech_desc *d = mech_find(CKM_HKDF_DERIVE);
    assert_non_null(d);
    assert_null(d->family->init);
    assert_non_null(d->family->derive);
    assert_non_null(d->family->generate);
    unsigned char *out = (unsigned char *)1;
    size_t outlen = 1;
    CK_MECHANISM m = {CKM_PKCS5_PBKD2, NULL, 0};
    /* a mechanism of the family that derives nothing */
    assert_int_equal(
        d->family->derive(mech_find(CKM_PKCS5_PBKD2), &m, NULL, g_c, &g_cfg, 0, &out, &outlen),
        CKR_MECHANISM_INVALID);
    assert_null(out);
    assert_int_equal(outlen, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hkdf_kats),
        cmocka_unit_test(test_hkdf_extract_expand),
        cmocka_unit_test(test_hkdf_digests),
        cmocka_unit_test(test_hkdf_bad),
        cmocka_unit_test(test_hkdf_policy),
        cmocka_unit_test(test_kbkdf_acvp),
        cmocka_unit_test(test_kbkdf_openssl_layout),
        cmocka_unit_test(test_kbkdf_little_endian),
        cmocka_unit_test(test_kbkdf_bad),
        cmocka_unit_test(test_pbkdf2_kats),
        cmocka_unit_test(test_pbkdf2_prfs_and_types),
        cmocka_unit_test(test_pbkdf2_bad),
        cmocka_unit_test(test_string_derive),
        cmocka_unit_test(test_family_shape),
    };
    return cmocka_run_group_tests_name("mech_kdf", tests, group_setup, group_teardown);
}
