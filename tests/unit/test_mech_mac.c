/*
 * Unit tests for src/mech/mac.c: HMAC (SHA-1, SHA-2, SHA-3, _GENERAL) and
 * AES-CMAC (and CMAC_GENERAL) sign / verify through the mechanism layer:
 * known answers from NIST ACVP, Wycheproof and RFC 2202 / 4231 (the
 * "Jefe" case, for every digest), multi-part equals single-part, the
 * output convention, and every bad parameter or key with its CKR code.
 */
#include "mech_util.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "mech/mech.h"
#include "object/attr.h"
#include "object/key.h"

#define BUF_MAX 1024

struct mac_kat {
    CK_MECHANISM_TYPE mech; /* _GENERAL: the MAC length is the tag's */
    const char *key, *msg, *mac;
    bool valid;
};

/* HMAC (NIST ACVP HMAC-SHA2-256/384/512-2.0, HMAC-SHA3-256-2.0 AFT;
 * the MAC is truncated: the _GENERAL mechanisms). */
static const struct mac_kat hmac_acvp[] = {
    {CKM_SHA256_HMAC_GENERAL, "77c88c89dfb17ecf6fcb01c410aff1a7e4", "f5e177cb6c538dce126294",
     "ea8e6cdb7c5097f016f5f7b3a6ed00", true},
    {CKM_SHA256_HMAC_GENERAL, "238d20bc0ca7987ee33ae7ca2173", "",
     "20b34ae451a5dd4056d0a40b409bc59183", true},
    {CKM_SHA256_HMAC_GENERAL, "e0f26763984f5592c9e154",
     "2d02d54f575c8a53fe9885c56a047ca43e2e7b67a693ad841c28f61f08e6efedc6f30439",
     "45d02783175394dc5adc00", true},
    {CKM_SHA256_HMAC_GENERAL,
     "f6d2149d8afc239083d27ce005e22cb21308746b229edefcc4b5f3255e207d333d71fa4db13c91",
     "e0356aed2bc9481ca3", "0299ee7cd5ecfa51c9301fe28c", true},
    {CKM_SHA256_HMAC_GENERAL, "b2528aff9389",
     "bc877eed55527b3c480e760598b308672e1bc16b20aef97298965b0302",
     "ac5a2b5ce5d3da23b8e37fafee872956", true},
    {CKM_SHA256_HMAC_GENERAL, "8cf5854c08c6ec52f9537d5ae09dfb9e98865bc9495cdb",
     "9902b7d316565431c1207fdae83c3bbf8240c5d87ce57ca7ffa9532685ae", "ff69e54a51ea0abb931a", true},
    {CKM_SHA256_HMAC_GENERAL, "45562f78e9499fe884fbb32ce100b860995afa10", "2695ed01fb5aa1",
     "414020023d015f4c408d51bc9b7e2ac066dc", true},
    {CKM_SHA256_HMAC_GENERAL,
     "f655ba9a9296a40dbcea3963f4d015d1d67e00b92334517bd374f02eb138fa1223115011d0", "bee4",
     "ef9ec1cd416aba1dda43eaa6062f", true},
    {CKM_SHA384_HMAC_GENERAL, "812b0b7d52520624696f52f3", "19a08c0f18bfc44b6c0a",
     "6ac4d1ea5b04c15b2485c0a10a", true},
    {CKM_SHA384_HMAC_GENERAL, "9c39f428d709655b28b54f2f7e1db298f8af93e03ab299df5bb7dc255c042c822b",
     "5a63", "26c695ff578c4c9721093181234196", true},
    {CKM_SHA384_HMAC_GENERAL, "b589e0eb562e75c589b2bff41efc0d",
     "76a98cfbf732e0a048da94e7b0b0143405edcaab755c4a14f5", "f170f63f93f798d8265a3fc0bc47510a034c",
     true},
    {CKM_SHA384_HMAC_GENERAL, "51c3a75e50580181b3ce", "e5aab0b3750e697ef701091f3c6d3be25c1a5c75",
     "5b029aa429e7871f768fc523cb7b632b4b3134", true},
    {CKM_SHA384_HMAC_GENERAL, "5402a04949f955",
     "4b3aabe65a8e211e75cdb370ff3c3a853cf9b4a666af13da3944b411789fadbdc46478ef596aa8",
     "3aa2a1d3d96af1059a779a87e359e6652fb8554e", true},
    {CKM_SHA384_HMAC_GENERAL,
     "ff93b4c35a926128e020ae3579d50f095e70c97f846894527060ba3ba6ee6d2247ff2cfe589686cbcdc5",
     "42adba88d0c987cff5387de5b6", "3b54faae74560f20e5db8842", true},
    {CKM_SHA512_HMAC_GENERAL,
     "171580f354c57d87877a745ff16ce36ef92fda4e1da4974b3ef43c7ed0f4b0970218e84d",
     "267b69ffe9807b7ea265d6842e2fbc537b46ae7697e4", "b40a149b657b05ee85b6cd2e1343", true},
    {CKM_SHA512_HMAC_GENERAL,
     "ec05b27611057bf0415d40577831cb968647fd9983294f2159c29d89ffe68db4539f",
     "ab1acc13aedf3bb5f220d25128d0a6fcee4c", "5c3c8e2cfa89fec1b1e6c0a00e9d607f3c", true},
    {CKM_SHA512_HMAC_GENERAL, "f8",
     "7dd72cd6a5c781c5e6821ebc385d866b829f80c8162b0fae6ffe17fccf6712fa9b94329fd49c",
     "a8d8e7a18aa783e4c5abc0c9", true},
    {CKM_SHA512_HMAC_GENERAL, "f0ecb896e7a3fa0b60f68ee5",
     "f8fd23591fa37fe7aaddbcc248417bc31e1a9f3a976f8e2a465e6cdbc6912858ff1067f86a8cea7a5c90db43384a7"
     "c",
     "48383df53379b20574d4322b3e638ce7d2637c56", true},
    {CKM_SHA512_HMAC_GENERAL, "185d22a401e55f21", "38", "45eba180d92f482ee910", true},
    {CKM_SHA512_HMAC_GENERAL, "69805920caf31abbec1e449770fca95b5cd7e5a649757cb4", "",
     "1ea6e745aea8dbd714deac1709cb552e2b3b", true},
    {CKM_SHA3_256_HMAC_GENERAL,
     "aac21f0cae27a040d8c1f5ce9f90c7ce53d425bb20f7c7054d87d7ba97e01e10e7ffbb9738b68fe1f19d0ff5d3494"
     "9cb94ddffb889c481665957c23d0891dd",
     "", "84ed2d95c2002905cbebf4916b6b", true},
    {CKM_SHA3_256_HMAC_GENERAL,
     "82072f25624a41b57ea33d6d12048608e408fa2252e10956e47ba7d09904000b897d267d41335a260116ae833cb0f"
     "6fc95286f8ee4779ca8847058bd7042cc2c267a",
     "1e", "756d08906bb2c5c0e93d38ed56", true},
    {CKM_SHA3_256_HMAC_GENERAL,
     "752c1b1e2434699dace1442b3e64f11f45bc400b872c66a5bc3dd0c1ac870bd686d2514e14c13f43b8",
     "9c271579b75a", "673044c07068989c933e291e", true},
    {CKM_SHA3_256_HMAC_GENERAL, "e5fa1c53bf43dcef1e7d4663df5ab5c2cddd2d89c94a",
     "875601cc62d74934d72dfd", "5367c2591b441aa336ef492186717bdf", true},
    {CKM_SHA3_256_HMAC_GENERAL, "e7", "729ab36a282337a357607d42f1eaeb6a979c38",
     "66f06415be36aec4b77a", true},
    {CKM_SHA3_256_HMAC_GENERAL, "445425d42dbc960e2939", "34d9a02b32b43e31b7",
     "14ae2e3b122f90d32eb5ac51c43822b31c3633", true},
};

/* HMAC-SHA-256 (Wycheproof hmac_sha256_test.json): 32-byte tags with
 * CKM_SHA256_HMAC, 16-byte tags with CKM_SHA256_HMAC_GENERAL. */
static const struct mac_kat hmac_wycheproof[] = {
    {CKM_SHA256_HMAC, "1e225cafb90339bba1b24076d4206c3e79c355805d851682bc818baa4f5a7779", "",
     "b175b57d89ea6cb606fb3363f2538abd73a4c00b4a1386905bac809004cf1933", true},
    {CKM_SHA256_HMAC_GENERAL, "7bf9e536b66a215c22233fe2daaa743a898b9acb9f7802de70b40e3d6e43ef97",
     "", "f4605585949747de26f3ee98a738b172", true},
    {CKM_SHA256_HMAC_GENERAL, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
     "", "530bc289ed0074df02ebc42955e0fd67", false},
    {CKM_SHA256_HMAC, "a349ac0a9f9f74e48e099cc3dbf9a9c9", "",
     "3a8437b877b75cc08a4d8d7559a8fc6869a58c713da63d1d4b350d59b597e30c", true},
    {CKM_SHA256_HMAC_GENERAL, "e34f15c7bd819930fe9d66e0c166e61c", "",
     "1d765ab9e29892f7bfec2975ad4bc2dc", true},
    {CKM_SHA256_HMAC,
     "8a0c46eb8a2959e39865330079763341e7439dab149694ee57e0d61ec73d947e1d5301cd974e18a5e0d1cf0d2c37e"
     "8aadd9fd589d57ef32e47024a99bc3f70c077",
     "", "f5bfb940561fb4db73ebba49bf2e4893bb0cca618a71b7ecf6aca38231e167ea", true},
    {CKM_SHA256_HMAC_GENERAL,
     "813e0c078c221375e80590ace6774eafd2d2c242350988d02efa550e05aecbe100c1b8bf154c932cf9e57177015c8"
     "16c42bc7fbc71ceaa5328c7316b7f0f30330f",
     "", "bb6ab66f51e53fa086c9c61a26ca27e0", true},
};

/* AES-CMAC (NIST ACVP CMAC-AES-1.0 gen and ver; Wycheproof aes_cmac_test.json).
 * Messages of 4256 bits are left out but for two. */
static const struct mac_kat cmac_kats[] = {
    {CKM_AES_CMAC_GENERAL, "9509f2a8a782308de5cd75e867140115", "", "3bf44575d53e25b3", true},
    {CKM_AES_CMAC_GENERAL, "d7b972083d7c96c72354338596c2d622", "", "754689a89a699ff4", true},
    {CKM_AES_CMAC_GENERAL, "bf42ae2a6eed7595465d91882fecdf4f", "", "1d9e154426b4974bcdfa57", true},
    {CKM_AES_CMAC_GENERAL, "5df2b0bcf59723053f94ecb6cde9018d", "", "051ed266673456a6ca4fcb", true},
    {CKM_AES_CMAC, "39612c4ed7fd638d5b389e33b9f3a89a", "", "c3db2af5462a3794b5a76016d7f06928",
     true},
    {CKM_AES_CMAC, "4051291e7999bdeecec76e37f01a272c", "", "beb0e7dd6fdc559abfdf5a1a62be1a18",
     true},
    {CKM_AES_CMAC_GENERAL, "8a56a241ce801cbec3679408d2e733cb",
     "54a52b3383ca5314a55731fed7199df23a9d7a154198c28b99d3c6cdea08079e21ded7b15a9c9eceb5f84b6ab0836"
     "42dce82b4c9ca7d842c5785cf2299090df0c2e2823c466b74ef664593c5c41a1169f65fd6f8f8c980a31a1e1dce8c"
     "051449be0f84c1ed5a8da57aad934b219f4a74545c27ad53cc0046a36f97d410ef9dfa90b5650f8e65c61e0d2ac4f"
     "9102413b1f22ebd2affa4fe231e1326b3799acf3fa6a36f35513da31186275151ef1f59ca23106ee02e449dffeab6"
     "4c32774c455e7bb41869ee36c1600eeb6e9da3e9d96b459e00bef84af3be0c5d6c139eb1fdf5c4f53ac98a9f6823c"
     "f672b2203aa5c56c9eae375410a53b67ea208565990c8390e7147003fa356291341c94c01726115b3c5a366eb0b66"
     "0cf57a6ce0c87b6598b42c9464c0101c6d51cf80a8174930eb83d1d1be297c66a2d607115c10a7f894eae196325de"
     "5e68584cde351ae3d1407d67d88c00f4f794b5ef14aa795a13a34202fe52b5107680b92e00ea3c7c49420aea7fd4a"
     "dc19c3d00ce739c5f179669371aa15425ec3aed4c864dad21f863297b73b20fc34abdf367143efffdb30706cb32d2"
     "afa5c4c5ccfa332f6bc4f3413fce714f662e519c19ba5728eba925106be21290733821aacae9d0515f64785a800fe"
     "8151e2ef9196ba61ad1408faf9d5b8283e41f835117d38f6e5f37bd42248ba7b89b3670a2ffd62223c450052a3949"
     "181e918903f2489b1e95b11ecf4b8f7a6ae67ac8e",
     "f54fbf0048dfea22", true},
    {CKM_AES_CMAC_GENERAL, "8664daa84affd807d154aeeb160c2d96",
     "d6b38e10e0e6bdaf456a81f01983b6cb7a190dbe15987b494f2110612a6639968cc081eff63bc28f332753d90190d"
     "7b666814e396934bc58a3844ca376f1d699448280f03a1d4cc85376f2d2f01ece9bc4865300007d190db1bc0c4304"
     "150626f944f8d02c9c3cb9824eb783416d14b0c850b87d18cfdd3d53ac8d76d6cf170afa344005cf97eb7d036bd0d"
     "ebb6db93e33e3121b1f015b394ac867181a4025522c72f0fbac4794db6cd87e73092805bac4a7b7fb21447ceb30ec"
     "4d6372585582ded906c0277ee5eadf34609bed8b25972cd9706fc3042b3332187a9132730fcc746cff2ebf3194341"
     "77aff4d77af04aa7d80d78124c9eede08c6f2bbb3fc65df81d84bf136a317035b9439b2e234f925d42d8e985391a4"
     "bf5d35d1d735f0c9512de18171d4d8d80c182a13c8894c13da9e27ac7c4e92c103491fca0eaf302e6f5cc3fef50e9"
     "74d80aadc2b1494eedf28448107635f26142bd78f09225983e8433fa8b66874575ba68b0ba362be99935341239297"
     "736d17132b734d693dd98b4e3ee9ad2841214bd6187bd17639409e25f847fbe5d1272dedd0f789c02e74215d81dca"
     "25dbe8c9a3d0864bfa05ae70bb5337cdd5f370d2ae1466bb4dc5e543bd81c2c5e44f5d2a1d6a732f2fc08745884d4"
     "e815694c3e8adf2098305f62416ffb60c814b36cdf9d49e5299dc1ec4b7977cb161ece509ba031e0ca23931c87ff4"
     "4f4df4782eb249bf2b66505ec6f6baa442c4ce761",
     "87062fd715466119", true},
    {CKM_AES_CMAC_GENERAL, "7f1e1f76273aecb36453b4245da47c8aedaaba75995108e86aa9e302f729cbed", "",
     "b9b5af31ce4a8e8f", true},
    {CKM_AES_CMAC_GENERAL, "e048fa3b844b434998ae5407a1f3b37a690b4e42eab3c1416f1dc0f9e66d3497", "",
     "4e04a66b202bfead", true},
    {CKM_AES_CMAC_GENERAL, "f663eb9c91a621a81511033e147c3e28b325bb7407a6d416536e2de70262a606", "",
     "3558c635577b242b89f78a", true},
    {CKM_AES_CMAC_GENERAL, "a8f94e9a34dc28d2c9a3269d5c285a492079adf3209dc585341e077b89daa85a", "",
     "2aa5ffc724924b3ad621ae", true},
    {CKM_AES_CMAC, "699a4fcef53e9fa9236ebcaa0a142270722f0d1045f6c3812d82a9e2564cfad8", "",
     "43108180c8c4fd4d94c511fe0b084629", true},
    {CKM_AES_CMAC, "6fdc5ef28d2d6237ca1775cdf30fa9aee3f70a26ed108274365f03c4c8261d6a", "",
     "bd115f864c2ba48ef10a31b932b5f170", true},
    {CKM_AES_CMAC_GENERAL, "f7faf9895f76430c854898bed201ac32", "", "52fa749d7af9822a", true},
    {CKM_AES_CMAC_GENERAL, "fe8fe989f2d99c3a79120b6295b658a6", "", "21b28419f5d3eb6d", false},
    {CKM_AES_CMAC_GENERAL, "038b4db20c1f8ab1b4c4fc32869e7fad", "", "f667c9dfe0c8ecac48853d", true},
    {CKM_AES_CMAC_GENERAL, "34f034facb8f2a9e8e60dd2daf99458e", "", "233303e0658af6d7e5fef7", false},
    {CKM_AES_CMAC, "b67c35cfd426cc0ed70233a84a251c58", "", "4925bc37b1f9e4809831769534ce4ace",
     true},
    {CKM_AES_CMAC, "93dcf8e2ae655b40a05bb0ea8665c21f", "", "39fff16ba52712440888442b2c25568c",
     false},
    {CKM_AES_CMAC_GENERAL, "e91bb3ceeff7e9e52ce05b0b3bdf8790b9d254d5af1fd23cbef4025513cd44b9", "",
     "9f5e0b55be725dd0", false},
    {CKM_AES_CMAC_GENERAL, "ff828bf52ede9a67984f87b9ac4d509c807b3afb60f6046c35b688f0050b6b2d", "",
     "b34e49fb200635b2", true},
    {CKM_AES_CMAC_GENERAL, "8f5ab030a84a10e473fca85fb8a5d059ee6e0cad100cab1f85d599773aeb0120", "",
     "349838a0c516c661b0f1d1", true},
    {CKM_AES_CMAC_GENERAL, "506f552d4f6655780577f443543bf97b9cf941329e9e06c5c699744e66670de7", "",
     "a299f20c5b0b8807fec5bb", false},
    {CKM_AES_CMAC, "56dd1d36289c97a237ae152e3f44763483beceefc6fc6d78a1c8d812c86c1621", "",
     "0c09a2b763ae582c3230d65f02b3ccb1", true},
    {CKM_AES_CMAC, "7c450fe5546d2b5402edf609ee108ca0e1839a3d008b2883277608f9f3f9ae69", "",
     "fe756d6d3918223f2755e3f245b55177", false},
    {CKM_AES_CMAC, "e34f15c7bd819930fe9d66e0c166e61c", "", "d47afca1d857a5933405b1eb7a5cb7af",
     true},
    {CKM_AES_CMAC, "000102030405060708090a0b0c0d0e0f", "", "175deeda08ac3dd6ccb92efd9cdab12a",
     false},
    {CKM_AES_CMAC, "3d6bf9edae6d881eade0ff8c7076a4835b71320c1f36b631", "",
     "a8dd15fe2ce3495ec5b666744ec29220", true},
    {CKM_AES_CMAC, "7bf9e536b66a215c22233fe2daaa743a898b9acb9f7802de70b40e3d6e43ef97", "",
     "736c7b56957db774c5ddf7c7a70ba8a8", true},
};

/* RFC 2202 / RFC 4231 test case 2 (key "Jefe"), extended to every digest. */
static const struct {
    CK_MECHANISM_TYPE mech, general;
    CK_KEY_TYPE kt;
    const char *mac;
} jefe[] = {
    {CKM_SHA_1_HMAC, CKM_SHA_1_HMAC_GENERAL, CKK_SHA_1_HMAC,
     "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
    {CKM_SHA224_HMAC, CKM_SHA224_HMAC_GENERAL, CKK_SHA224_HMAC,
     "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44"},
    {CKM_SHA256_HMAC, CKM_SHA256_HMAC_GENERAL, CKK_SHA256_HMAC,
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    {CKM_SHA384_HMAC, CKM_SHA384_HMAC_GENERAL, CKK_SHA384_HMAC,
     "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
     "8e2240ca5e69e2c78b3239ecfab21649"},
    {CKM_SHA512_HMAC, CKM_SHA512_HMAC_GENERAL, CKK_SHA512_HMAC,
     "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
     "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
    {CKM_SHA512_224_HMAC, CKM_SHA512_224_HMAC_GENERAL, CKK_SHA512_224_HMAC,
     "4a530b31a79ebcce36916546317c45f247d83241dfb818fd37254bde"},
    {CKM_SHA512_256_HMAC, CKM_SHA512_256_HMAC_GENERAL, CKK_SHA512_256_HMAC,
     "6df7b24630d5ccb2ee335407081a87188c221489768fa2020513b2d593359456"},
    {CKM_SHA3_224_HMAC, CKM_SHA3_224_HMAC_GENERAL, CKK_SHA3_224_HMAC,
     "7fdb8dd88bd2f60d1b798634ad386811c2cfc85bfaf5d52bbace5e66"},
    {CKM_SHA3_256_HMAC, CKM_SHA3_256_HMAC_GENERAL, CKK_SHA3_256_HMAC,
     "c7d4072e788877ae3596bbb0da73b887c9171f93095b294ae857fbe2645e1ba5"},
    {CKM_SHA3_384_HMAC, CKM_SHA3_384_HMAC_GENERAL, CKK_SHA3_384_HMAC,
     "f1101f8cbf9766fd6764d2ed61903f21ca9b18f57cf3e1a23ca13508a93243ce"
     "48c045dc007f26a21b3f5e0e9df4c20a"},
    {CKM_SHA3_512_HMAC, CKM_SHA3_512_HMAC_GENERAL, CKK_SHA3_512_HMAC,
     "5a4bfeab6166427c7a3647b747292b8384537cdb89afb3bf5665e4c5e709350b"
     "287baec921fd7ca0ee7a0c31d022a95e1fc92ba9d77df883960275beb4e62024"},
};
static const char JEFE_MSG[] = "what do ya want for nothing?";

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

static CK_RV start_len(CK_MECHANISM_TYPE type, CK_ULONG len, mech_fn fn, struct key *k,
                       struct mech_op **op)
{
    return mu_lookup_start(&g_cfg, g_c, type, &len, sizeof(len), fn, k, op);
}

static bool is_general(CK_MECHANISM_TYPE t)
{
    const struct mech_desc *d = mech_find(t);
    assert_non_null(d);
    return d->arg == 1;
}

static CK_KEY_TYPE kat_key_type(CK_MECHANISM_TYPE t)
{
    return t == CKM_AES_CMAC || t == CKM_AES_CMAC_GENERAL ? CKK_AES : CKK_GENERIC_SECRET;
}

/* Runs one known answer: single-part sign, multi-part sign, verify, a
 * tampered verify. */
static void run_kat(const struct mac_kat *t)
{
    unsigned char msg[BUF_MAX], mac[64], out[64];
    size_t msglen = mu_unhex(t->msg, msg, sizeof(msg));
    size_t maclen = mu_unhex(t->mac, mac, sizeof(mac));
    struct key *k = hex_key(kat_key_type(t->mech), t->key);
    struct mech_op *op = NULL;
    CK_ULONG outlen = sizeof(out);

#define START(fn)                                                 \
    (is_general(t->mech) ? start_len(t->mech, maclen, fn, k, &op) \
                         : mu_lookup_start(&g_cfg, g_c, t->mech, NULL, 0, fn, k, &op))

    if (t->valid) {
        /* single-part sign */
        assert_int_equal(START(CKF_SIGN), CKR_OK);
        assert_int_equal(op->ops->oneshot(op, msg, msglen, out, &outlen), CKR_OK);
        assert_int_equal(outlen, maclen);
        assert_memory_equal(out, mac, maclen);
        mech_op_free(op);

        /* multi-part sign, split in two (and an empty part) */
        assert_int_equal(START(CKF_SIGN), CKR_OK);
        assert_int_equal(op->ops->update(op, msg, msglen / 2, NULL, NULL), CKR_OK);
        assert_int_equal(op->ops->update(op, msg, 0, NULL, NULL), CKR_OK);
        assert_int_equal(op->ops->update(op, msg + msglen / 2, msglen - msglen / 2, NULL, NULL),
                         CKR_OK);
        outlen = sizeof(out);
        assert_int_equal(op->ops->final(op, out, &outlen), CKR_OK);
        assert_int_equal(outlen, maclen);
        assert_memory_equal(out, mac, maclen);
        mech_op_free(op);
    }

    /* verify, single- and multi-part */
    CK_RV want = t->valid ? CKR_OK : CKR_SIGNATURE_INVALID;
    assert_int_equal(START(CKF_VERIFY), CKR_OK);
    assert_int_equal(op->ops->verify_oneshot(op, msg, msglen, mac, maclen), want);
    mech_op_free(op);
    assert_int_equal(START(CKF_VERIFY), CKR_OK);
    assert_int_equal(op->ops->update(op, msg, msglen, NULL, NULL), CKR_OK);
    assert_int_equal(op->ops->verify_final(op, mac, maclen), want);
    mech_op_free(op);

    if (t->valid) {
        mac[maclen - 1] ^= 0x01;
        assert_int_equal(START(CKF_VERIFY), CKR_OK);
        assert_int_equal(op->ops->verify_oneshot(op, msg, msglen, mac, maclen),
                         CKR_SIGNATURE_INVALID);
        mech_op_free(op);
    }
#undef START
    key_unref(k);
}

/* ---- known answers ----------------------------------------------------- */

static void test_hmac_acvp(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(hmac_acvp) / sizeof(hmac_acvp[0]); i++)
        run_kat(&hmac_acvp[i]);
}

static void test_hmac_wycheproof(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(hmac_wycheproof) / sizeof(hmac_wycheproof[0]); i++)
        run_kat(&hmac_wycheproof[i]);
}

static void test_cmac_kats(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cmac_kats) / sizeof(cmac_kats[0]); i++)
        run_kat(&cmac_kats[i]);
}

/* Every HMAC digest, full and _GENERAL, with a generic secret key and with
 * the matching CKK_*_HMAC key. */
static void test_hmac_every_digest(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(jefe) / sizeof(jefe[0]); i++) {
        unsigned char mac[64], out[64];
        size_t maclen = mu_unhex(jefe[i].mac, mac, sizeof(mac));
        CK_KEY_TYPE kts[2] = {CKK_GENERIC_SECRET, jefe[i].kt};
        for (size_t j = 0; j < 2; j++) {
            struct key *k = mu_secret_key(g_c, kts[j], (const unsigned char *)"Jefe", 4);
            struct mech_op *op = NULL;
            CK_ULONG outlen = sizeof(out);
            assert_int_equal(mu_lookup_start(&g_cfg, g_c, jefe[i].mech, NULL, 0, CKF_SIGN, k, &op),
                             CKR_OK);
            assert_int_equal(op->ops->oneshot(op, (const unsigned char *)JEFE_MSG, strlen(JEFE_MSG),
                                              out, &outlen),
                             CKR_OK);
            assert_int_equal(outlen, maclen);
            assert_memory_equal(out, mac, maclen);
            mech_op_free(op);

            /* _GENERAL: 1 byte, half and full length are prefixes of the MAC */
            CK_ULONG lens[3] = {1, maclen / 2, maclen};
            for (size_t l = 0; l < 3; l++) {
                outlen = sizeof(out);
                assert_int_equal(start_len(jefe[i].general, lens[l], CKF_SIGN, k, &op), CKR_OK);
                assert_int_equal(op->ops->oneshot(op, (const unsigned char *)JEFE_MSG,
                                                  strlen(JEFE_MSG), out, &outlen),
                                 CKR_OK);
                assert_int_equal(outlen, lens[l]);
                assert_memory_equal(out, mac, lens[l]);
                mech_op_free(op);
                assert_int_equal(start_len(jefe[i].general, lens[l], CKF_VERIFY, k, &op), CKR_OK);
                assert_int_equal(op->ops->verify_oneshot(op, (const unsigned char *)JEFE_MSG,
                                                         strlen(JEFE_MSG), mac, lens[l]),
                                 CKR_OK);
                mech_op_free(op);
            }
            key_unref(k);
        }
    }
}

/* Long multi-part input equals OpenSSL's one-shot MAC. */
static void test_multipart_long(void **state)
{
    (void)state;
    static unsigned char data[100000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 31 + 7);
    unsigned char keyv[32], want[64], out[64];
    memset(keyv, 0x5a, sizeof(keyv));
    size_t wantlen = 0;
    OSSL_LIB_CTX *lc = (OSSL_LIB_CTX *)crypto_libctx(g_c);

    assert_non_null(EVP_Q_mac(lc, "HMAC", NULL, "SHA2-384", NULL, keyv, sizeof(keyv), data,
                              sizeof(data), want, sizeof(want), &wantlen));
    struct key *k = mu_secret_key(g_c, CKK_GENERIC_SECRET, keyv, sizeof(keyv));
    struct mech_op *op = NULL;
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_SHA384_HMAC, NULL, 0, CKF_SIGN, k, &op),
                     CKR_OK);
    for (size_t off = 0; off < sizeof(data); off += 997) {
        size_t n = sizeof(data) - off < 997 ? sizeof(data) - off : 997;
        assert_int_equal(op->ops->update(op, data + off, n, NULL, NULL), CKR_OK);
    }
    CK_ULONG outlen = sizeof(out);
    assert_int_equal(op->ops->final(op, out, &outlen), CKR_OK);
    assert_int_equal(outlen, wantlen);
    assert_memory_equal(out, want, wantlen);
    mech_op_free(op);
    key_unref(k);

    assert_non_null(EVP_Q_mac(lc, "CMAC", NULL, "AES-256-CBC", NULL, keyv, sizeof(keyv), data,
                              sizeof(data), want, sizeof(want), &wantlen));
    k = mu_secret_key(g_c, CKK_AES, keyv, sizeof(keyv));
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_AES_CMAC, NULL, 0, CKF_SIGN, k, &op), CKR_OK);
    for (size_t off = 0; off < sizeof(data); off += 4096) {
        size_t n = sizeof(data) - off < 4096 ? sizeof(data) - off : 4096;
        assert_int_equal(op->ops->update(op, data + off, n, NULL, NULL), CKR_OK);
    }
    outlen = sizeof(out);
    assert_int_equal(op->ops->final(op, out, &outlen), CKR_OK);
    assert_int_equal(outlen, wantlen);
    assert_memory_equal(out, want, wantlen);
    mech_op_free(op);
    key_unref(k);
}

/* ---- output convention ------------------------------------------------- */

static void test_output_convention(void **state)
{
    (void)state;
    unsigned char mac[64], out[64];
    size_t maclen = mu_unhex(jefe[2].mac, mac, sizeof(mac)); /* SHA-256 */
    struct key *k = mu_secret_key(g_c, CKK_GENERIC_SECRET, (const unsigned char *)"Jefe", 4);
    struct mech_op *op = NULL;
    CK_ULONG outlen = 0;

    /* single-part: size query and short buffer absorb nothing */
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_SHA256_HMAC, NULL, 0, CKF_SIGN, k, &op),
                     CKR_OK);
    assert_int_equal(
        op->ops->oneshot(op, (const unsigned char *)JEFE_MSG, strlen(JEFE_MSG), NULL, &outlen),
        CKR_OK);
    assert_int_equal(outlen, 32);
    outlen = 31;
    assert_int_equal(
        op->ops->oneshot(op, (const unsigned char *)JEFE_MSG, strlen(JEFE_MSG), out, &outlen),
        CKR_BUFFER_TOO_SMALL);
    assert_int_equal(outlen, 32);
    outlen = sizeof(out);
    assert_int_equal(
        op->ops->oneshot(op, (const unsigned char *)JEFE_MSG, strlen(JEFE_MSG), out, &outlen),
        CKR_OK);
    assert_int_equal(outlen, maclen);
    assert_memory_equal(out, mac, maclen);
    mech_op_free(op);

    /* multi-part final: the same */
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_SHA256_HMAC, NULL, 0, CKF_SIGN, k, &op),
                     CKR_OK);
    assert_int_equal(
        op->ops->update(op, (const unsigned char *)JEFE_MSG, strlen(JEFE_MSG), NULL, NULL), CKR_OK);
    outlen = 0;
    assert_int_equal(op->ops->final(op, NULL, &outlen), CKR_OK);
    assert_int_equal(outlen, 32);
    outlen = 1;
    assert_int_equal(op->ops->final(op, out, &outlen), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(outlen, 32);
    outlen = 32;
    assert_int_equal(op->ops->final(op, out, &outlen), CKR_OK);
    assert_int_equal(outlen, 32);
    assert_memory_equal(out, mac, maclen);
    mech_op_free(op);

    /* _GENERAL: the size is the requested length */
    assert_int_equal(start_len(CKM_SHA256_HMAC_GENERAL, 10, CKF_SIGN, k, &op), CKR_OK);
    outlen = 0;
    assert_int_equal(op->ops->final(op, NULL, &outlen), CKR_OK);
    assert_int_equal(outlen, 10);
    outlen = 9;
    assert_int_equal(op->ops->final(op, out, &outlen), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(outlen, 10);
    mech_op_free(op);
    key_unref(k);
}

/* ---- verification lengths ---------------------------------------------- */

static void test_verify_lengths(void **state)
{
    (void)state;
    unsigned char mac[64];
    size_t maclen = mu_unhex(jefe[2].mac, mac, sizeof(mac));
    struct key *k = mu_secret_key(g_c, CKK_GENERIC_SECRET, (const unsigned char *)"Jefe", 4);
    struct mech_op *op = NULL;
    const unsigned char *msg = (const unsigned char *)JEFE_MSG;

    CK_ULONG bad[4] = {0, 16, 31, 33};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_SHA256_HMAC, NULL, 0, CKF_VERIFY, k, &op),
                         CKR_OK);
        assert_int_equal(op->ops->verify_oneshot(op, msg, strlen(JEFE_MSG), mac, bad[i]),
                         CKR_SIGNATURE_LEN_RANGE);
        mech_op_free(op);
        assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_SHA256_HMAC, NULL, 0, CKF_VERIFY, k, &op),
                         CKR_OK);
        assert_int_equal(op->ops->update(op, msg, strlen(JEFE_MSG), NULL, NULL), CKR_OK);
        assert_int_equal(op->ops->verify_final(op, mac, bad[i]), CKR_SIGNATURE_LEN_RANGE);
        mech_op_free(op);
    }
    /* _GENERAL 16: the full 32-byte MAC is the wrong length */
    assert_int_equal(start_len(CKM_SHA256_HMAC_GENERAL, 16, CKF_VERIFY, k, &op), CKR_OK);
    assert_int_equal(op->ops->verify_oneshot(op, msg, strlen(JEFE_MSG), mac, maclen),
                     CKR_SIGNATURE_LEN_RANGE);
    mech_op_free(op);
    assert_int_equal(start_len(CKM_SHA256_HMAC_GENERAL, 16, CKF_VERIFY, k, &op), CKR_OK);
    assert_int_equal(op->ops->verify_oneshot(op, msg, strlen(JEFE_MSG), mac, 16), CKR_OK);
    mech_op_free(op);
    /* a wrong message */
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_SHA256_HMAC, NULL, 0, CKF_VERIFY, k, &op),
                     CKR_OK);
    assert_int_equal(op->ops->verify_oneshot(op, msg, strlen(JEFE_MSG) - 1, mac, maclen),
                     CKR_SIGNATURE_INVALID);
    mech_op_free(op);
    key_unref(k);
}

/* ---- bad parameters and keys ------------------------------------------- */

static void test_bad_params(void **state)
{
    (void)state;
    unsigned char kv[32] = {1};
    struct key *hk = mu_secret_key(g_c, CKK_GENERIC_SECRET, kv, 20);
    struct key *ak = mu_secret_key(g_c, CKK_AES, kv, 16);
    struct mech_op *op = NULL;
    CK_ULONG len = 16;
    unsigned char junk[16] = {0};

    /* non-general mechanisms take no parameter */
    assert_int_equal(
        mu_lookup_start(&g_cfg, g_c, CKM_SHA256_HMAC, &len, sizeof(len), CKF_SIGN, hk, &op),
        CKR_MECHANISM_PARAM_INVALID);
    assert_null(op);
    assert_int_equal(
        mu_lookup_start(&g_cfg, g_c, CKM_AES_CMAC, &len, sizeof(len), CKF_SIGN, ak, &op),
        CKR_MECHANISM_PARAM_INVALID);
    /* _GENERAL: exactly a CK_ULONG */
    assert_int_equal(
        mu_lookup_start(&g_cfg, g_c, CKM_SHA256_HMAC_GENERAL, NULL, 0, CKF_SIGN, hk, &op),
        CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_SHA256_HMAC_GENERAL, junk,
                                     sizeof(CK_ULONG) - 1, CKF_SIGN, hk, &op),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_SHA256_HMAC_GENERAL, junk,
                                     sizeof(CK_ULONG) + 1, CKF_SIGN, hk, &op),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(
        mu_lookup_start(&g_cfg, g_c, CKM_AES_CMAC_GENERAL, NULL, 0, CKF_VERIFY, ak, &op),
        CKR_MECHANISM_PARAM_INVALID);
    /* a NULL parameter with a length: refused before the family (lookup) and by it */
    CK_MECHANISM m = {CKM_SHA256_HMAC_GENERAL, NULL, sizeof(CK_ULONG)};
    const struct mech_desc *d = mech_find(CKM_SHA256_HMAC_GENERAL);
    assert_int_equal(d->family->init(&op, d, &m, CKF_SIGN, hk, g_c, &g_cfg),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_null(op);
    /* lengths out of 1..full */
    assert_int_equal(start_len(CKM_SHA256_HMAC_GENERAL, 0, CKF_SIGN, hk, &op),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(start_len(CKM_SHA256_HMAC_GENERAL, 33, CKF_SIGN, hk, &op),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(start_len(CKM_SHA_1_HMAC_GENERAL, 21, CKF_VERIFY, hk, &op),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(start_len(CKM_SHA512_HMAC_GENERAL, 65, CKF_SIGN, hk, &op),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(start_len(CKM_SHA3_224_HMAC_GENERAL, 29, CKF_SIGN, hk, &op),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(start_len(CKM_SHA256_HMAC_GENERAL, (CK_ULONG)-1, CKF_SIGN, hk, &op),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(start_len(CKM_AES_CMAC_GENERAL, 0, CKF_SIGN, ak, &op),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(start_len(CKM_AES_CMAC_GENERAL, 17, CKF_SIGN, ak, &op),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_null(op);
    /* the bounds themselves are fine */
    assert_int_equal(start_len(CKM_SHA256_HMAC_GENERAL, 32, CKF_SIGN, hk, &op), CKR_OK);
    mech_op_free(op);
    assert_int_equal(start_len(CKM_AES_CMAC_GENERAL, 1, CKF_SIGN, ak, &op), CKR_OK);
    mech_op_free(op);
    assert_int_equal(start_len(CKM_AES_CMAC_GENERAL, 16, CKF_SIGN, ak, &op), CKR_OK);
    mech_op_free(op);
    key_unref(hk);
    key_unref(ak);
}

static void test_bad_keys(void **state)
{
    (void)state;
    unsigned char kv[40] = {2};
    struct mech_op *op = NULL;
    struct key *k;

    /* HMAC: generic secret or the matching HMAC type only */
    k = mu_secret_key(g_c, CKK_AES, kv, 16);
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_SHA256_HMAC, NULL, 0, CKF_SIGN, k, &op),
                     CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(start_len(CKM_SHA256_HMAC_GENERAL, 8, CKF_VERIFY, k, &op),
                     CKR_KEY_TYPE_INCONSISTENT);
    key_unref(k);
    k = mu_secret_key(g_c, CKK_SHA384_HMAC, kv, 16);
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_SHA256_HMAC, NULL, 0, CKF_SIGN, k, &op),
                     CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_SHA3_384_HMAC, NULL, 0, CKF_SIGN, k, &op),
                     CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_SHA384_HMAC, NULL, 0, CKF_SIGN, k, &op),
                     CKR_OK);
    mech_op_free(op);
    key_unref(k);
    k = mu_secret_key(g_c, CKK_HKDF, kv, 16);
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_SHA256_HMAC, NULL, 0, CKF_SIGN, k, &op),
                     CKR_KEY_TYPE_INCONSISTENT);
    key_unref(k);
    /* a one-byte and a long HMAC key are fine */
    k = mu_secret_key(g_c, CKK_GENERIC_SECRET, kv, 1);
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_SHA512_HMAC, NULL, 0, CKF_SIGN, k, &op),
                     CKR_OK);
    mech_op_free(op);
    key_unref(k);

    /* CMAC: AES keys of 16, 24 or 32 bytes */
    k = mu_secret_key(g_c, CKK_GENERIC_SECRET, kv, 16);
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_AES_CMAC, NULL, 0, CKF_SIGN, k, &op),
                     CKR_KEY_TYPE_INCONSISTENT);
    key_unref(k);
    size_t bad[4] = {8, 15, 20, 33};
    for (size_t i = 0; i < 4; i++) {
        k = mu_secret_key(g_c, CKK_AES, kv, bad[i]);
        assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_AES_CMAC, NULL, 0, CKF_SIGN, k, &op),
                         CKR_KEY_SIZE_RANGE);
        assert_null(op);
        /* the family's own check, should mech_check_key let it through */
        CK_MECHANISM m = {CKM_AES_CMAC, NULL, 0};
        const struct mech_desc *d = mech_find(CKM_AES_CMAC);
        assert_int_equal(d->family->init(&op, d, &m, CKF_SIGN, k, g_c, &g_cfg), CKR_KEY_SIZE_RANGE);
        assert_null(op);
        key_unref(k);
    }
    size_t good[3] = {16, 24, 32};
    for (size_t i = 0; i < 3; i++) {
        k = mu_secret_key(g_c, CKK_AES, kv, good[i]);
        assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_AES_CMAC, NULL, 0, CKF_VERIFY, k, &op),
                         CKR_OK);
        mech_op_free(op);
        key_unref(k);
    }
}

/* Other functions than sign / verify are not MAC operations. */
static void test_bad_function(void **state)
{
    (void)state;
    unsigned char kv[16] = {3};
    struct key *k = mu_secret_key(g_c, CKK_GENERIC_SECRET, kv, sizeof(kv));
    struct mech_op *op = NULL;
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_SHA256_HMAC, NULL, 0, CKF_ENCRYPT, k, &op),
                     CKR_MECHANISM_INVALID);
    CK_MECHANISM m = {CKM_SHA256_HMAC, NULL, 0};
    const struct mech_desc *d = mech_find(CKM_SHA256_HMAC);
    assert_int_equal(d->family->init(&op, d, &m, CKF_DIGEST, k, g_c, &g_cfg),
                     CKR_MECHANISM_INVALID);
    assert_null(op);
    key_unref(k);
}

/* Freeing an operation mid-way (no final) leaks nothing (ASan/valgrind). */
static void test_abandon(void **state)
{
    (void)state;
    unsigned char kv[32] = {4};
    struct key *k = mu_secret_key(g_c, CKK_AES, kv, sizeof(kv));
    struct mech_op *op = NULL;
    assert_int_equal(mu_lookup_start(&g_cfg, g_c, CKM_AES_CMAC, NULL, 0, CKF_SIGN, k, &op), CKR_OK);
    assert_int_equal(op->ops->update(op, kv, sizeof(kv), NULL, NULL), CKR_OK);
    mech_op_free(op);
    key_unref(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_acvp),      cmocka_unit_test(test_hmac_wycheproof),
        cmocka_unit_test(test_cmac_kats),      cmocka_unit_test(test_hmac_every_digest),
        cmocka_unit_test(test_multipart_long), cmocka_unit_test(test_output_convention),
        cmocka_unit_test(test_verify_lengths), cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_bad_keys),       cmocka_unit_test(test_bad_function),
        cmocka_unit_test(test_abandon),
    };
    return cmocka_run_group_tests_name("mech_mac", tests, group_setup, group_teardown);
}
