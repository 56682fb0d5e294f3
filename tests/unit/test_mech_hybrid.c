/*
 * Unit tests for src/mech/hybrid.c, called directly through the family
 * (encapsulate / decapsulate) and mech_op_new:
 *  - X-Wing against the three test vectors of draft-connolly-cfrg-xwing-kem
 *    appendix C (the same in -08 and -10; OpenJDK's XWing Conformance test
 *    quotes them from -08): the 32-byte seed is expanded here with
 *    OpenSSL's SHAKE-256 and imported as two ordinary keys (ML-KEM-768 by
 *    CKA_SEED, X25519 by CKA_VALUE); the public key, decapsulation and (in
 *    test-hook builds, eseed fixed) encapsulation are checked;
 *  - X-Wing round trips recomputed independently with OpenSSL, tampered
 *    ciphertexts, small-order X25519 halves, lengths and key-type errors;
 *  - ML-DSA-65 + ECDSA P-256: round trips single- and multi-part, each half
 *    checked with OpenSSL directly, each half tampered, lengths, key types.
 */
#include "mech_util.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "craton/pkcs11_craton.h"
#include "mech/mech.h"
#include "object/attr.h"
#include "object/key.h"
#include "object/keyimport.h"

#define XW_PK_LEN   1216
#define XW_PK_M_LEN 1184
#define XW_CT_LEN   1120
#define XW_CT_M_LEN 1088
#define XW_SS_LEN   32
#define HYB_SIG_LEN (3309 + 64)
#define MAXB        8192

static struct config g_cfg;
static struct crypto *g_c;
static OSSL_LIB_CTX *g_lc;

/* ---- vectors -------------------------------------------------------------- */

struct xwing_kat {
    const char *seed, *pk, *eseed, *ct, *ss;
};

/* draft-connolly-cfrg-xwing-kem-10 appendix C (= -08 appendix C). */
/* clang-format off */
static const struct xwing_kat xwing_kats[] = {
    {
        "7f9c2ba4e88f827d616045507605853ed73b8093f6efbc88eb1a6eacfa66ef26",
        "e2236b35a8c24b39b10aa1323a96a919a2ced88400633a7b07131713fc14b2b5b19cfc3d"
        "a5fa1a92c49f25513e0fd30d6b1611c9ab9635d7086727a4b7d21d34244e66969cf15b3b"
        "2a785329f61b096b277ea037383479a6b556de7231fe4b7fa9c9ac24c0699a0018a52534"
        "01bacfa905ca816573e56a2d2e067e9b7287533ba13a937dedb31fa44baced4076992361"
        "0034ae31e619a170245199b3c5c39864859fe1b4c9717a07c30495bdfb98a0a002ccf56c"
        "1286cef5041dede3c44cf16bf562c7448518026b3d8b9940680abd38a1575fd27b58da06"
        "3bfac32c39c30869374c05c1aeb1898b6b303cc68be455346ee0af699636224a148ca2ae"
        "a10463111c709f69b69c70ce8538746698c4c60a9aef0030c7924ceec42a5d36816f545e"
        "ae13293460b3acb37ea0e13d70e4aa78686da398a8397c08eaf96882113fe4f7bad4da40"
        "b0501e1c753efe73053c87014e8661c33099afe8bede414a5b1aa27d8392b3e131e9a70c"
        "1055878240cad0f40d5fe3cdf85236ead97e2a97448363b2808caafd516cd25052c5c362"
        "543c2517e4acd0e60ec07163009b6425fc32277acee71c24bab53ed9f29e74c66a0a3564"
        "955998d76b96a9a8b50d1635a4d7a67eb42df5644d330457293a8042f53cc7a69288f17e"
        "d55827e82b28e82665a86a14fbd96645eca8172c044f83bc0d8c0b4c8626985631ca87af"
        "829068f1358963cb333664ca482763ba3b3bb208577f9ba6ac62c25f76592743b64be519"
        "317714cb4102cb7b2f9a25b2b4f0615de31decd9ca55026d6da0b65111b16fe52feed8a4"
        "87e144462a6dba93728f500b6ffc49e515569ef25fed17aff520507368253525860f58be"
        "3be61c964604a6ac814e6935596402a520a4670b3d284318866593d15a4bb01c35e3e587"
        "ee0c67d2880d6f2407fb7a70712b838deb96c5d7bf2b44bcf6038ccbe33fbcf51a54a584"
        "fe90083c91c7a6d43d4fb15f48c60c2fd66e0a8aad4ad64e5c42bb8877c0ebec2b5e387c"
        "8a988fdc23beb9e16c8757781e0a1499c61e138c21f216c29d076979871caa6942bafc09"
        "0544bee99b54b16cb9a9a364d6246d9f42cce53c66b59c45c8f9ae9299a75d15180c3c95"
        "2151a91b7a10772429dc4cbae6fcc622fa8018c63439f890630b9928db6bb7f9438ae406"
        "5ed34d73d486f3f52f90f0807dc88dfdd8c728e954f1ac35c06c000ce41a0582580e3bb5"
        "7b672972890ac5e7988e7850657116f1b57d0809aaedec0bede1ae148148311c6f7e3173"
        "46e5189fb8cd635b986f8c0bdd27641c584b778b3a911a80be1c9692ab8e1bbb12839573"
        "cce19df183b45835bbb55052f9fc66a1678ef2a36dea78411e6c8d60501b4e60592d1369"
        "8a943b509185db912e2ea10be06171236b327c71716094c964a68b03377f513a05bcd99c"
        "1f346583bb052977a10a12adfc758034e5617da4c1276585e5774e1f3b9978b09d0e9c44"
        "d3bc86151c43aad185712717340223ac381d21150a04294e97bb13bbda21b5a182b6da96"
        "9e19a7fd072737fa8e880a53c2428e3d049b7d2197405296ddb361912a7bcf4827ced611"
        "d0c7a7da104dde4322095339f64a61d5bb108ff0bf4d780cae509fb22c256914193ff734"
        "9042581237d522828824ee3bdfd07fb03f1f942d2ea179fe722f06cc03de5b69859edb06"
        "eff389b27dce59844570216223593d4ba32d9abac8cd049040ef6534",
        "3cb1eea988004b93103cfb0aeefd2a686e01fa4a58e8a3639ca8a1e3f9ae57e235b8cc87"
        "3c23dc62b8d260169afa2f75ab916a58d974918835d25e6a435085b2",
        "b83aa828d4d62b9a83ceffe1d3d3bb1ef31264643c070c5798927e41fb07914a273f8f96"
        "e7826cd5375a283d7da885304c5de0516a0f0654243dc5b97f8bfeb831f68251219aabdd"
        "723bc6512041acbaef8af44265524942b902e68ffd23221cda70b1b55d776a92d1143ea3"
        "a0c475f63ee6890157c7116dae3f62bf72f60acd2bb8cc31ce2ba0de364f52b8ed38c79d"
        "719715963a5dd3842d8e8b43ab704e4759b5327bf027c63c8fa857c4908d5a8a7b88ac7f"
        "2be394d93c3706ddd4e698cc6ce370101f4d0213254238b4a2e8821b6e414a1cf20f6c12"
        "44b699046f5a01caa0a1a55516300b40d2048c77cc73afba79afeea9d2c0118bdf2adb88"
        "70dc328c5516cc45b1a2058141039e2c90a110a9e16b318dfb53bd49a126d6b73f215787"
        "517b8917cc01cabd107d06859854ee8b4f9861c226d3764c87339ab16c3667d2f49384e5"
        "5456dd40414b70a6af841585f4c90c68725d57704ee8ee7ce6e2f9be582dbee985e038ff"
        "c346ebfb4e22158b6c84374a9ab4a44e1f91de5aac5197f89bc5e5442f51f9a5937b102b"
        "a3beaebf6e1c58380a4a5fedce4a4e5026f88f528f59ffd2db41752b3a3d90efabe46389"
        "9b7d40870c530c8841e8712b733668ed033adbfafb2d49d37a44d4064e5863eb0af0a08d"
        "47b3cc888373bc05f7a33b841bc2587c57eb69554e8a3767b7506917b6b70498727f16ea"
        "c1a36ec8d8cfaf751549f2277db277e8a55a9a5106b23a0206b4721fa9b3048552c5bd5b"
        "594d6e247f38c18c591aea7f56249c72ce7b117afcc3a8621582f9cf71787e183dee0936"
        "7976e98409ad9217a497df888042384d7707a6b78f5f7fb8409e3b535175373461b77600"
        "2d799cbad62860be70573ecbe13b246e0da7e93a52168e0fb6a9756b895ef7f0147a0dc8"
        "1bfa644b088a9228160c0f9acf1379a2941cd28c06ebc80e44e17aa2f8177010afd78a97"
        "ce0868d1629ebb294c5151812c583daeb88685220f4da9118112e07041fcc24d5564a99f"
        "dbde28869fe0722387d7a9a4d16e1cc8555917e09944aa5ebaaaec2cf62693afad42a3f5"
        "18fce67d273cc6c9fb5472b380e8573ec7de06a3ba2fd5f931d725b493026cb0acbd3fe6"
        "2d00e4c790d965d7a03a3c0b4222ba8c2a9a16e2ac658f572ae0e746eafc4feba023576f"
        "08942278a041fb82a70a595d5bacbf297ce2029898a71e5c3b0d1c6228b485b1ade509b3"
        "5fbca7eca97b2132e7cb6bc465375146b7dceac969308ac0c2ac89e7863eb8943015b243"
        "14cafb9c7c0e85fe543d56658c213632599efabfc1ec49dd8c88547bb2cc40c9d38cbd30"
        "99b4547840560531d0188cd1e9c23a0ebee0a03d5577d66b1d2bcb4baaf21cc7fef1e038"
        "06ca96299df0dfbc56e1b2b43e4fc20c37f834c4af62127e7dae86c3c25a2f696ac8b589"
        "dec71d595bfbe94b5ed4bc07d800b330796fda89edb77be0294136139354eb8cd3759157"
        "8f9c600dd9be8ec6219fdd507adf3397ed4d68707b8d13b24ce4cd8fb22851bfe9d63240"
        "7f31ed6f7cb1600de56f17576740ce2a32fc5145030145cfb97e63e0e41d354274a079d3"
        "e6fb2e15",
        "d2df0522128f09dd8e2c92b1e905c793d8f57a54c3da25861f10bf4ca613e384",
    },
    {
        "badfd6dfaac359a5efbb7bcc4b59d538df9a04302e10c8bc1cbf1a0b3a5120ea",
        "0333285fa253661508c9fb444852caa4061636cb060e69943b431400134ae1fbc0228724"
        "7cb38068bbb89e6714af10a3fcda6613acc4b5e4b0d6eb960c302a0253b1f507b596f088"
        "4d351da89b01c35543214c8e542390b2bc497967961ef10286879c34316e6483b644fc27"
        "e8019d73024ba1d1cc83650bb068a5431b33d1221b3d122dc1239010a55cb13782140893"
        "f30aca7c09380255a0c621602ffbb6a9db064c1406d12723ab3bbe2950a21fe521b160b3"
        "0b16724cc359754b4c88342651333ea9412d5137791cf75558ebc5c54c520dd6c622a059"
        "f6b332ccebb9f24103e59a297cd69e4a48a3bfe53a5958559e840db5c023f66c10ce2308"
        "1c2c8261d744799ba078285cfa71ac51f44708d0a6212c3993340724b3ac38f63e82a889"
        "a4fc581f6b8353cc6233ac8f5394b6cca292f892360570a3031c90c4da3f02a895677390"
        "e60c24684a405f69ccf1a7b95312a47c844a4f9c2c4a37696dc10072a87bf41a2717d45b"
        "2a99ce09a4898d5a3f6b67085f9a626646bcf369982d483972b9cd7d244c4f49970f766a"
        "22507925eca7df99a491d80c27723e84c7b49b633a46b46785a16a41e02c538251622117"
        "364615d9c2cdaa1687a860c18bfc9ce8690efb2a524cb97cdfd1a4ea661fa7d08817998a"
        "f838679b07c9db8455e2167a67c14d6a347522e89e8971270bec858364b1c1023b82c483"
        "cf8a8b76f040fe41c24dec2d49f6376170660605b80383391c4abad1136d874a77ef73b4"
        "40758b6e7059add20873192e6e372e069c22c5425188e5c240cb3a6e29197ad17e87ec41"
        "a813af68531f262a6db25bbdb8a15d2ed9c9f35b9f2063890bd26ef09426f225aa1e6008"
        "d31600a29bcdf3b10d0bc72788d35e25f4976b3ca6ac7cbf0b442ae399b225d9714d0638"
        "a864bda7018d3b7c793bd2ace6ac68f4284d10977cc029cf203c5698f15a06b162d6c8b4"
        "fd40c6af40824f9c6101bb94e9327869ab7efd835dfc805367160d6c8571e3643ac70cba"
        "d5b96a1ad99352793f5af71705f95126cb4787392e94d808491a2245064ba5a7a30c0663"
        "01392a6c315336e10dbc9c2177c7af382765b6c88eeab51588d01d6a95747f3652dc5b5c"
        "401a23863c7a0343737c737c99287a40a90896d4594730b552b910d23244684206f0eb84"
        "2fb9aa316ab182282a75fb72b6806cea4774b822169c386a58773c3edc8229d85905abb8"
        "7ac228f0f7a2ce9a497bb5325e17a6a82777a997c036c3b862d29c14682ad325a9600872"
        "f3913029a1588648ba590a7157809ff740b5138380015c40e9fb90f0311107946f28e596"
        "2e21666ad65092a3a60480cd16e61ff7fb5b44b70cf12201878428ef8067fceb1e1dcb49"
        "d66c773d312c7e53238cb620e126187009472d41036b702032411dc96cb750631df9d994"
        "52e495deb4300df660c8d35f32b424e98c7ed14b12d8ab11a289ac63c50a24d52925950e"
        "49ba6bf4c2c38953c92d60b6cd034e575c711ac41bfa66951f62b9392828d7b45aed377a"
        "c69c35f1c6b80f388f34e0bb9ce8167eb2bc630382825c396a407e905108081b444ac8a0"
        "7c2507376a750d18248ee0a81c4318d9a38fc44c3b41e8681f87c34138442659512c4127"
        "6e1cc8fc4eb66e12727bcb5a9e0e405cdea21538d6ea885ab169050e6b91e1b69f7ed34b"
        "cbb48fd4c562a576549f85b528c953926d96ea8a160b8843f1c89c62",
        "17cda7cfad765f5623474d368ccca8af0007cd9f5e4c849f167a580b14aabdefaee7eef4"
        "7cb0fca9767be1fda69419dfb927e9df07348b196691abaeb580b32d",
        "c93beb22326705699bbc3d1d0aa6339be7a405debe61a7c337e1a91453c097a6f77c1306"
        "39d1aaeb193175f1a987aa1fd789a63c9cd487ebd6965f5d8389c8d7c8cfacbba4b44d2f"
        "be0ae84de9e96fb11215d9b76acd51887b752329c1a3e0468ccc49392c1e0f1aad61a73c"
        "10831e60a9798cb2e7ec07596b5803db3e243ecbb94166feade0c9197378700f8eb65a43"
        "502bbac4605992e2de2b906ab30ba401d7e1ff3c98f42cfc4b30b974d3316f331461ac05"
        "f43e0db7b41d3da702a4f567b6ee7295199c7be92f6b4a47e7307d34278e03c872fb4864"
        "7c446a64a3937dccd7c6d8de4d34b9dea45a0b065ef15b9e94d1b6df6dca7174d9bc9d14"
        "c6225e3a78a58785c3fe4e2fe6a0706f3365389e4258fbb61ecf1a1957715982b3f18444"
        "24e03acd83da7eee50573f6cd3ff396841e9a00ad679da92274129da277833d0524674fe"
        "ea09a98d25b888616f338412d8e65e151e65736c8c6fb448c9260fa20e7b2712148bcd3a"
        "0853865f50c1fc9e4f201aee3757120e034fd509d954b7a749ff776561382c4cb64cebcb"
        "b6aa82d04cd5c2b40395ecaf231bde8334ecfd955d09efa8c6e7935b1cb0298fb8b6740b"
        "e4593360eed5f129d59d98822a6cea37c57674e919e84d6b90f695fca58e7d29092bd70f"
        "7c97c6dfb021b9f87216a6271d8b144a364d03b6bf084f972dc59800b14a2c008bbd0992"
        "b5b82801020978f2bdddb3ca3367d876cffb3548dab695a29882cae2eb5ba7c847c3c71b"
        "d0150fa9c33aac8e6240e0c269b8e295ddb7b77e9c17bd310be65e28c0802136d086777b"
        "e5652d6f1ac879d3263e9c712d1af736eac048fe848a577d6afaea1428dc71db8c430edd"
        "7b584ae6e6aeaf7257aff0fd8fe25c30840e30ccfa1d95118ef0f6657367e9070f3d97a2"
        "e9a7bae19957bd707b00e31b6b0ebb9d7df4bd22e44c060830a194b5b8288353255b5295"
        "4ff5905ab2b126d9aa049e44599368c27d6cb033eae5182c2e1504ee4e3745f51488997b"
        "8f958f0209064f6f44a7e4de5226d5594d1ad9b42ac59a2d100a2f190df873a2e141552f"
        "33c923b4c927e8747c6f830c441a8bd3c5b371f6b3ab8103ebcfb18543aefc1beb6f776b"
        "bfd5344779f4aa23daaf395f69ec31dc046b491f0e5cc9c651dfc306bd8f2105be7bc7a4"
        "f4e21957f87278c771528a8740a92e2daefa76a3525f1fae17ec4362a2700988001d8600"
        "11d6ca3a95f79a0205bcf634cef373a8ea273ff0f4250eb8617d0fb92102a6aa09cf0c3e"
        "e2cad1ad96438c8e4dfd6ee0fcc85833c3103dd6c1600cd305bc2df4cda89b55ca237a3f"
        "9c3f82390074ff30825fc750130ebaf13d0cf7556d2c52a98a4bad39ca5d44aaadeaef77"
        "5c695e64d06e966acfcd552a14e2df6c63ae541f0fa88fc48263089685704506a21a0385"
        "6ce65d4f06d54f3157eeabd62491cb4ac7bf029e79f9fbd4c77e2a3588790c710e611da8"
        "b2040c76a61507a8020758dcc30894ad018fef98e401cc54106e20d94bd544a8f0e1fd05"
        "00342d123f618aa8c91bdf6e0e03200693c9651e469aee6f91c98bea4127ae66312f4ae3"
        "ea155b67",
        "f2e86241c64d60f6649fbc6c5b7d17180b780a3f34355e64a85749949c45f150",
    },
    {
        "ef58538b8d23f87732ea63b02b4fa0f4873360e2841928cd60dd4cee8cc0d4c9",
        "36244278824f77c621c660892c1c3886a9560caa52a97c461fd3958a598e749bbc8c7798"
        "ac8870bac7318ac2b863000ca3b0bdcbbc1ccfcb1a30875df9a76976763247083e646ccb"
        "2499a4e4f0c9f4125378ba3da1999538b86f99f2328332c177d1192b849413e655101289"
        "73f679d23253850bb6c347ba7ca81b5e6ac4c574565c731740b3cd8c9756caac39fba7ac"
        "422acc60c6c1a645b94e3b6d21485ebad9c4fe5bb4ea0853670c5246652bff65ce8381cb"
        "473c40c1a0cd06b54dcec11872b351397c0eaf995bebdb6573000cbe2496600ba76c8cb0"
        "23ec260f0571e3ec12a9c82d9db3c57b3a99e8701f78db4fabc1cc58b1bae02745073a81"
        "fc8045439ba3b885581a283a1ba64e103610aabb4ddfe9959e7241011b2638b56ba6a982"
        "ef610c514a57212555db9a98fb6bcf0e91660ec15dfa66a67408596e9ccb97489a09a073"
        "ffd1a0a7ebbe71aa5ff793cb91964160703b4b6c9c5390842c2c905d4a9f88111fed5787"
        "4ba9b03cf611e70486edf539767c7485189d5f1b08e32a274dc24a39c918fd2a4dfa946a"
        "8c897486f2c974031b2804aabc81749db430b85311372a3b8478868200b40e043f7bf4a1"
        "c3a08b0771b431e342ee277410bca034a0c77086c8f702b3aed2b4108bbd3af471633373"
        "a1ac74b128b148d1b9412aa66948cac6dc6614681fda02ca86675d2a756003c49c50f06e"
        "13c63ce4bc9f321c860b202ee931834930011f485c9af86b9f642f0c353ad305c66996b9"
        "a136b753973929495f0d8048db75529edcb4935904797ac66605490f66329c3bb36b8573"
        "a3e00f817b3082162ff106674d11b261baae0506cde7e69fdce93c6c7b59b9d4c759758a"
        "cf287c2e4c4bfab5170a9236daf21bdb6005e92464ee8863f845cf37978ef19969264a51"
        "6fe992c93b5f7ae7cb6718ac69257d630379e4aac6029cb906f98d91c92d118c36a6d161"
        "15d4c8f16066078badd161a65ba51e0252bc358c67cd2c4beab2537e42956e08a39cfccf"
        "0cd875b5499ee952c83a162c68084f6d35cf92f71ec66baec74ab87e2243160b64df54af"
        "b5a07f78ec0f5c5759e5a4322bca2643425748a1a97c62108510c44fd9089c5a7c14e57b"
        "1b77532800013027cff91922d7c935b4202bb507aa47598a6a5a030117210d4c49c17470"
        "0550ad6f82ad40e965598b86bc575448eb19d70380d465c1f870824c026d74a2522a799b"
        "7b122d06c83aa64c0974635897261433914fdfb14106c230425a83dc8467ad8234f086c7"
        "2a47418be9cfb582b1dcfa3d9aa45299b79fff265356d8286a1ca2f3c2184b2a70d15289"
        "e5b202d03b64c735a867b1154c55533ff61d6c296277011848143bc85a4b823040ae025a"
        "29293ab77747d85310078682e0ba0ac236548d905a79494324574d417c7a3457bd5fb525"
        "3c4876679034ae844d0d05010fec722db5621e3a67a2d58e2ff33b432269169b51f9dcc0"
        "95b8406dc1864cf0aeb6a2132661a38d641877594b3c51892b9364d25c63d637140a2018"
        "d10931b0daa5a2f2a405017688c991e586b522f94b1132bc7e87a63246475816c8be9c62"
        "b731691ab912eb656ce2619225663364701a014b7d0337212caa2ecc731f34438289e0ca"
        "4590a276802d980056b5d0d316cae2ecfea6d86696a9f161aa90ad47eaad8cadd31ae3cb"
        "c1c013747dfee80fb35b5299f555dcc2b787ea4f6f16ffdf66952461",
        "22a96188d032675c8ac850933c7aff1533b94c834adbb69c6115bad4692d8619f90b0cdf"
        "8a7b9c264029ac185b70b83f2801f2f4b3f70c593ea3aeeb613a7f1b",
        "0d2e38cbf17a2e2e4e0c87a94ca1e7701ae1552e02509b3b00f9c82c39e3fd435b05b912"
        "75f47abc9f1021429a26a346598cd6cd9efdc8adc1dbc35036d0290bf89733c835309202"
        "232f9bf652ea82f3d49280d6e8a3bd3135fb883445ab5b074d949c5350c7c7d6ac59905b"
        "dbfce6639da8a9d4b390ecc1dd05522d2956f2d37a05593996e5cb3fd8d5a9eb52417732"
        "e1ebf545588713b4760227115aab7ada178dadbca583b26cfedba2888a0c95b950bf07f7"
        "50d7aa8103798aa3470a042c0105c6a037de2f9ebc396021b2ba2c16aba696fbac3454dc"
        "8e053b8fa55edd45215eeb57a1eab9106fb426b375a9b9e5c3419efc7610977e72640f9f"
        "d1b2ec337de33c35e5a7581b2aae4d8ee86d2e0ebf82a1350714de50d2d788687878a196"
        "44ae4e3175e8d59dc90171b3badeff65aeaf600e5e5483a3595fdeb40cbafcbd040c29a2"
        "f6900533ae999d24f54dfcef748c30313ca447cdddfa57ad78eaa890e90f3f7bf8d11696"
        "8a5713cc75fd0408f36364fa265c5617039304eaeac4cbee6fc49b9fe2276768cdbec2d7"
        "3a507b543cc028dc1b154b7c2b0412254c466a94a8d6ea3a47e1743469bd45c08f54cf96"
        "5884be3696e961741ede16e3b1bc4feb93faaef31d911dc0cb3fa90bcda991959a9d2cbc"
        "817a5564c5c01177a59e9577589ea344d60cf5b0aa39f31863febd54603ca87ad2363c76"
        "6642a3f52557bcd9e4c05a87665842ba336b83156a677030f0bad531a8387a1486a599ca"
        "a748fcea7bdc1eb63f3cdb97173551ab7c1c36b69acbbdb2ff7a1e7bc70439632ddc67b9"
        "7f3da1f59b3c1588515957cb8a2f86ab635ce0a78b7cdf24eac3445e8fc8b79ba04da9e9"
        "03f49a7d912c197a84b4cfabc779b97d24788419bcf58035db99717edb9fd1c1df8c4005"
        "f700eabba528ddfcbaeda6dd30754f795948a34c9319ab653524b19931c7900c4167988a"
        "f52292fe902e746b524d20ceffb4339e8f5535f41cf35f0f8ea8b4a7b949c5d2381116b1"
        "46e9b913a83a3fa1c65ff9468c835fe4114554a6c66a80e1c9a6bb064b380be3c95e5595"
        "ec979bf1c85aa938938e3f10e72b0c87811969e8ab0d83de0b0604c4016ac3a015e19514"
        "089271bdc6ebf2ec56fab6018e44de749b4c36cc235e370da8466dbdc253542a2d704eb3"
        "316fd70d5d238cb7eaaf05966d973f62c7ef43b9a806f4ed213ac8099ea15d61a9024441"
        "60883f6bf441a3e1469945c9b79489ea18390f1ebc83caca10bdb8f2429877b52bd44c94"
        "a228ef91c392ef5398c5c83982701318ccedab92f7a279c4fddebaa7fe5e986c48b7d813"
        "5b3fe4cd15be2004ce73ff86b1e55f8ecd6ba5b8114315f8e716ef3ab0a64564a4644651"
        "166ebd68b1f783e2e443dbccadfe189368647629f1a12215840b7f1d026de2f665c2eb02"
        "3ff51a6df160912811ee03444ae4227fb941dc9ec4f31b445006fd384de5e60e0a5061b5"
        "0cb1202f863090fc05eb814e2d42a03586c0b56f533847ac7b8184ce9690bc8dece32a88"
        "ca934f541d4cc520fa64de6b6e1c3c8e03db5971a445992227c825590688d203523f5271"
        "61137334",
        "953f7f4e8c5b5049bdc771d1dffada0dd961477d1a2ae0988baa7ea6898d893f",
    },
};
/* clang-format on */

static const unsigned char OID_P256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                         0xce, 0x3d, 0x03, 0x01, 0x07};
static const unsigned char OID_P384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const unsigned char OID_X25519[] = {0x06, 0x03, 0x2b, 0x65, 0x6e};
static const unsigned char OID_X448[] = {0x06, 0x03, 0x2b, 0x65, 0x6f};
static const unsigned char OID_ED25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
static const unsigned char XWING_LABEL[] = {0x5c, 0x2e, 0x2f, 0x2f, 0x5e, 0x5c};

/* ---- helpers --------------------------------------------------------------- */

/* A PQC key of CKA_VALUE (private or public) or, private, CKA_SEED. */
static struct key *pqc_key(CK_KEY_TYPE kt, CK_ULONG set, CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE a,
                           const unsigned char *v, size_t len)
{
    struct attrs t = {0};
    assert_int_equal(attrs_set_ulong(&t, CKA_PARAMETER_SET, set), CKR_OK);
    assert_int_equal(attrs_set(&t, cls, a, v, (CK_ULONG)len), CKR_OK);
    return mu_build(g_c, &t, cls, kt);
}

static size_t octets(EVP_PKEY *pk, const char *param, unsigned char *out, size_t cap)
{
    size_t n = 0;
    assert_int_equal(EVP_PKEY_get_octet_string_param(pk, param, out, cap, &n), 1);
    return n;
}

/* A pair made by OpenSSL and imported: the EVP_PKEY stays for checks. */
struct pair {
    EVP_PKEY *pkey;
    struct key *priv, *pub;
};

static void pair_free(struct pair *p)
{
    key_unref(p->priv);
    key_unref(p->pub);
    EVP_PKEY_free(p->pkey);
    memset(p, 0, sizeof(*p));
}

static void pqc_pair(const char *alg, CK_KEY_TYPE kt, CK_ULONG set, struct pair *p)
{
    unsigned char *buf = malloc(MAXB);
    assert_non_null(buf);
    p->pkey = EVP_PKEY_Q_keygen(g_lc, NULL, alg);
    assert_non_null(p->pkey);
    size_t n = octets(p->pkey, OSSL_PKEY_PARAM_PRIV_KEY, buf, MAXB);
    p->priv = pqc_key(kt, set, CKO_PRIVATE_KEY, CKA_VALUE, buf, n);
    OPENSSL_cleanse(buf, MAXB);
    n = octets(p->pkey, OSSL_PKEY_PARAM_PUB_KEY, buf, MAXB);
    p->pub = pqc_key(kt, set, CKO_PUBLIC_KEY, CKA_VALUE, buf, n);
    free(buf);
}

static void ec_pair(const char *group, const unsigned char *oid, size_t oid_len, size_t flen,
                    struct pair *p)
{
    unsigned char buf[256];
    BIGNUM *d = NULL;
    p->pkey = EVP_PKEY_Q_keygen(g_lc, NULL, "EC", group);
    assert_non_null(p->pkey);
    assert_int_equal(EVP_PKEY_get_bn_param(p->pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d), 1);
    assert_int_equal(BN_bn2binpad(d, buf, (int)flen), (int)flen);
    BN_clear_free(d);
    p->priv = mu_ec_key(g_c, CKK_EC, oid, oid_len, CKO_PRIVATE_KEY, buf, flen);
    OPENSSL_cleanse(buf, sizeof(buf));
    size_t n = octets(p->pkey, OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof(buf));
    p->pub = mu_ec_key(g_c, CKK_EC, oid, oid_len, CKO_PUBLIC_KEY, buf, n);
}

/* Edwards / Montgomery pairs (raw keys). */
static void ecx_pair(const char *alg, CK_KEY_TYPE kt, const unsigned char *oid, size_t oid_len,
                     struct pair *p)
{
    unsigned char buf[128];
    size_t n = sizeof(buf);
    p->pkey = EVP_PKEY_Q_keygen(g_lc, NULL, alg);
    assert_non_null(p->pkey);
    assert_int_equal(EVP_PKEY_get_raw_private_key(p->pkey, buf, &n), 1);
    p->priv = mu_ec_key(g_c, kt, oid, oid_len, CKO_PRIVATE_KEY, buf, n);
    n = sizeof(buf);
    assert_int_equal(EVP_PKEY_get_raw_public_key(p->pkey, buf, &n), 1);
    p->pub = mu_ec_key(g_c, kt, oid, oid_len, CKO_PUBLIC_KEY, buf, n);
}

static int group_setup(void **state)
{
    (void)state;
    if (mu_fixture_init(&g_cfg, &g_c) != 0)
        return -1;
    g_lc = (OSSL_LIB_CTX *)mech_libctx(g_c);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    mu_fixture_free(&g_cfg, g_c);
    return 0;
}

/* ---- X-Wing ------------------------------------------------------------------ */

/* An X-Wing key as the module holds it: two ordinary objects per side. */
struct xwing_keys {
    struct key *m_priv, *m_pub, *x_priv, *x_pub;
    unsigned char pk[XW_PK_LEN]; /* pk_M || pk_X */
};

static void xwing_keys_free(struct xwing_keys *x)
{
    key_unref(x->m_priv);
    key_unref(x->m_pub);
    key_unref(x->x_priv);
    key_unref(x->x_pub);
    memset(x, 0, sizeof(*x));
}

/* expandDecapsulationKey: SHAKE-256(sk, 96 bytes) = d || z || sk_X; the
 * ML-KEM-768 key is imported by CKA_SEED (d || z), the X25519 key by
 * CKA_VALUE; the public halves are read back and imported too. */
static void xwing_from_seed(const unsigned char seed[32], struct xwing_keys *x)
{
    unsigned char expanded[96];
    EVP_MD *shake = EVP_MD_fetch(g_lc, "SHAKE-256", NULL);
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    assert_non_null(shake);
    assert_non_null(mc);
    assert_int_equal(EVP_DigestInit_ex2(mc, shake, NULL), 1);
    assert_int_equal(EVP_DigestUpdate(mc, seed, 32), 1);
    assert_int_equal(EVP_DigestFinalXOF(mc, expanded, sizeof(expanded)), 1);
    EVP_MD_CTX_free(mc);
    EVP_MD_free(shake);

    x->m_priv = pqc_key(CKK_ML_KEM, CKP_ML_KEM_768, CKO_PRIVATE_KEY, CKA_SEED, expanded, 64);
    x->x_priv = mu_ec_key(g_c, CKK_EC_MONTGOMERY, OID_X25519, sizeof(OID_X25519), CKO_PRIVATE_KEY,
                          expanded + 64, 32);
    OPENSSL_cleanse(expanded, sizeof(expanded));
    assert_int_equal(octets(x->m_priv->pkey, OSSL_PKEY_PARAM_PUB_KEY, x->pk, XW_PK_M_LEN),
                     XW_PK_M_LEN);
    size_t n = 32;
    assert_int_equal(EVP_PKEY_get_raw_public_key(x->x_priv->pkey, x->pk + XW_PK_M_LEN, &n), 1);
    assert_int_equal(n, 32);
    x->m_pub = pqc_key(CKK_ML_KEM, CKP_ML_KEM_768, CKO_PUBLIC_KEY, CKA_VALUE, x->pk, XW_PK_M_LEN);
    x->x_pub = mu_ec_key(g_c, CKK_EC_MONTGOMERY, OID_X25519, sizeof(OID_X25519), CKO_PUBLIC_KEY,
                         x->pk + XW_PK_M_LEN, 32);
}

static CK_RV encaps(CK_MECHANISM_TYPE mt, struct key *k, struct key *classic, unsigned char *ct,
                    CK_ULONG *ctlen, unsigned char **ss, size_t *sslen)
{
    const struct mech_desc *d = mech_find(mt);
    assert_non_null(d);
    struct mech_two_keys tk = {classic};
    CK_MECHANISM m = {mt, &tk, sizeof(tk)};
    return mech_hybrid_family.encapsulate(d, &m, k, g_c, &g_cfg, ct, ctlen, ss, sslen);
}

static CK_RV decaps(CK_MECHANISM_TYPE mt, struct key *k, struct key *classic,
                    const unsigned char *ct, CK_ULONG ctlen, unsigned char **ss, size_t *sslen)
{
    const struct mech_desc *d = mech_find(mt);
    assert_non_null(d);
    struct mech_two_keys tk = {classic};
    CK_MECHANISM m = {mt, &tk, sizeof(tk)};
    return mech_hybrid_family.decapsulate(d, &m, k, g_c, &g_cfg, ct, ctlen, ss, sslen);
}

/* Decapsulates ct with x's private pair; returns the secret in out[32]. */
static void decaps_ok(struct xwing_keys *x, const unsigned char *ct, unsigned char out[XW_SS_LEN])
{
    unsigned char *ss = NULL;
    size_t sslen = 0;
    assert_int_equal(decaps(CKM_CRATON_XWING, x->m_priv, x->x_priv, ct, XW_CT_LEN, &ss, &sslen),
                     CKR_OK);
    assert_non_null(ss);
    assert_int_equal(sslen, XW_SS_LEN);
    memcpy(out, ss, XW_SS_LEN);
    crypto_secret_free(ss, sslen);
}

static void encaps_ok(struct xwing_keys *x, unsigned char ct[XW_CT_LEN],
                      unsigned char out[XW_SS_LEN])
{
    unsigned char *ss = NULL;
    size_t sslen = 0;
    CK_ULONG ctlen = XW_CT_LEN;
    assert_int_equal(encaps(CKM_CRATON_XWING, x->m_pub, x->x_pub, ct, &ctlen, &ss, &sslen), CKR_OK);
    assert_int_equal(ctlen, XW_CT_LEN);
    assert_non_null(ss);
    assert_int_equal(sslen, XW_SS_LEN);
    memcpy(out, ss, XW_SS_LEN);
    crypto_secret_free(ss, sslen);
}

/* The combiner recomputed with OpenSSL directly from the private keys. */
static void xwing_reference(struct xwing_keys *x, const unsigned char *ct,
                            unsigned char out[XW_SS_LEN])
{
    unsigned char in[32 * 4 + sizeof(XWING_LABEL)];
    size_t n = 32;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(g_lc, x->m_priv->pkey, NULL);
    assert_int_equal(EVP_PKEY_decapsulate_init(pc, NULL), 1);
    assert_int_equal(EVP_PKEY_decapsulate(pc, in, &n, ct, XW_CT_M_LEN), 1);
    EVP_PKEY_CTX_free(pc);
    EVP_PKEY *peer = EVP_PKEY_new_raw_public_key_ex(g_lc, "X25519", NULL, ct + XW_CT_M_LEN, 32);
    assert_non_null(peer);
    pc = EVP_PKEY_CTX_new_from_pkey(g_lc, x->x_priv->pkey, NULL);
    n = 32;
    assert_int_equal(EVP_PKEY_derive_init(pc), 1);
    assert_int_equal(EVP_PKEY_derive_set_peer(pc, peer), 1);
    assert_int_equal(EVP_PKEY_derive(pc, in + 32, &n), 1);
    EVP_PKEY_CTX_free(pc);
    EVP_PKEY_free(peer);
    memcpy(in + 64, ct + XW_CT_M_LEN, 32);
    memcpy(in + 96, x->pk + XW_PK_M_LEN, 32);
    memcpy(in + 128, XWING_LABEL, sizeof(XWING_LABEL));
    unsigned int hn = 0;
    EVP_MD *sha3 = EVP_MD_fetch(g_lc, "SHA3-256", NULL);
    assert_non_null(sha3);
    assert_int_equal(EVP_Digest(in, sizeof(in), out, &hn, sha3, NULL), 1);
    assert_int_equal(hn, XW_SS_LEN);
    EVP_MD_free(sha3);
    OPENSSL_cleanse(in, sizeof(in));
}

static void random_xwing(struct xwing_keys *x)
{
    unsigned char seed[32];
    assert_int_equal(RAND_bytes_ex(g_lc, seed, sizeof(seed), 0), 1);
    xwing_from_seed(seed, x);
}

static void test_xwing_vectors(void **state)
{
    (void)state;
    unsigned char seed[32], pk[XW_PK_LEN], eseed[64], ct[XW_CT_LEN], ss[XW_SS_LEN];
    unsigned char got[XW_SS_LEN];
    size_t kat_encaps = 0;

    for (size_t i = 0; i < ARRAY_SIZE(xwing_kats); i++) {
        const struct xwing_kat *v = &xwing_kats[i];
        struct xwing_keys x = {0};
        assert_int_equal(mu_unhex(v->seed, seed, sizeof(seed)), 32);
        assert_int_equal(mu_unhex(v->pk, pk, sizeof(pk)), XW_PK_LEN);
        assert_int_equal(mu_unhex(v->eseed, eseed, sizeof(eseed)), 64);
        assert_int_equal(mu_unhex(v->ct, ct, sizeof(ct)), XW_CT_LEN);
        assert_int_equal(mu_unhex(v->ss, ss, sizeof(ss)), XW_SS_LEN);

        /* Key generation: the two halves of the public key. */
        xwing_from_seed(seed, &x);
        assert_memory_equal(x.pk, pk, XW_PK_LEN);

        /* Decapsulation of the published ciphertext. */
        decaps_ok(&x, ct, got);
        assert_memory_equal(got, ss, XW_SS_LEN);

#ifdef CRATON_TEST_HOOKS
        /* EncapsulateDerand with the published eseed. */
        unsigned char myct[XW_CT_LEN];
        assert_int_equal(setenv("CRATON_TEST_XWING_ESEED", v->eseed, 1), 0);
        encaps_ok(&x, myct, got);
        assert_int_equal(unsetenv("CRATON_TEST_XWING_ESEED"), 0);
        assert_memory_equal(myct, ct, XW_CT_LEN);
        assert_memory_equal(got, ss, XW_SS_LEN);
        kat_encaps++;
#endif
        xwing_keys_free(&x);
    }
    print_message("# X-Wing vectors: %zu key generations, %zu decapsulations, %zu encapsulations\n",
                  ARRAY_SIZE(xwing_kats), ARRAY_SIZE(xwing_kats), kat_encaps);
}

static void test_xwing_roundtrip(void **state)
{
    (void)state;
    unsigned char ct[XW_CT_LEN], ct2[XW_CT_LEN], a[XW_SS_LEN], b[XW_SS_LEN], r[XW_SS_LEN];
    for (int i = 0; i < 4; i++) {
        struct xwing_keys x = {0};
        random_xwing(&x);
        encaps_ok(&x, ct, a);
        decaps_ok(&x, ct, b);
        assert_memory_equal(a, b, XW_SS_LEN);
        xwing_reference(&x, ct, r);
        assert_memory_equal(a, r, XW_SS_LEN);
        /* Fresh randomness each time. */
        encaps_ok(&x, ct2, b);
        assert_memory_not_equal(ct, ct2, XW_CT_LEN);
        assert_memory_not_equal(a, b, XW_SS_LEN);
        xwing_keys_free(&x);
    }
}

/* The output convention: size queries make no secret. */
static void test_xwing_sizes(void **state)
{
    (void)state;
    struct xwing_keys x = {0};
    unsigned char ct[XW_CT_LEN];
    unsigned char *ss = NULL;
    size_t sslen = 0;
    CK_ULONG ctlen = 0;
    random_xwing(&x);

    assert_int_equal(encaps(CKM_CRATON_XWING, x.m_pub, x.x_pub, NULL, &ctlen, NULL, NULL), CKR_OK);
    assert_int_equal(ctlen, XW_CT_LEN);
    ctlen = XW_CT_LEN - 1;
    assert_int_equal(encaps(CKM_CRATON_XWING, x.m_pub, x.x_pub, ct, &ctlen, &ss, &sslen),
                     CKR_BUFFER_TOO_SMALL);
    assert_int_equal(ctlen, XW_CT_LEN);
    assert_null(ss);
    ctlen = XW_CT_LEN + 100;
    assert_int_equal(encaps(CKM_CRATON_XWING, x.m_pub, x.x_pub, ct, &ctlen, &ss, &sslen), CKR_OK);
    assert_int_equal(ctlen, XW_CT_LEN);
    crypto_secret_free(ss, sslen);
    ss = NULL;

    /* Decapsulation: the ciphertext's exact length only. */
    static const CK_ULONG bad[] = {0, 1, XW_CT_M_LEN, XW_CT_LEN - 1, XW_CT_LEN + 1};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        assert_int_equal(decaps(CKM_CRATON_XWING, x.m_priv, x.x_priv, ct, bad[i], &ss, &sslen),
                         CKR_ENCRYPTED_DATA_LEN_RANGE);
    assert_int_equal(decaps(CKM_CRATON_XWING, x.m_priv, x.x_priv, NULL, XW_CT_LEN, &ss, &sslen),
                     CKR_ENCRYPTED_DATA_LEN_RANGE);
    assert_null(ss);
    xwing_keys_free(&x);
}

static void test_xwing_tampered(void **state)
{
    (void)state;
    struct xwing_keys x = {0};
    unsigned char ct[XW_CT_LEN], bad[XW_CT_LEN], a[XW_SS_LEN], b[XW_SS_LEN], c[XW_SS_LEN];
    unsigned char r[XW_SS_LEN];
    unsigned char *ss = NULL;
    size_t sslen = 0;
    random_xwing(&x);
    encaps_ok(&x, ct, a);

    /* ML-KEM half: implicit rejection, a different (but fixed) secret. */
    static const size_t at[] = {0, 500, XW_CT_M_LEN - 1};
    for (size_t i = 0; i < ARRAY_SIZE(at); i++) {
        memcpy(bad, ct, sizeof(bad));
        bad[at[i]] ^= 0x01;
        decaps_ok(&x, bad, b);
        assert_memory_not_equal(a, b, XW_SS_LEN);
        decaps_ok(&x, bad, c);
        assert_memory_equal(b, c, XW_SS_LEN);
        xwing_reference(&x, bad, r);
        assert_memory_equal(b, r, XW_SS_LEN);
    }

    /* X25519 half: another point, another secret. */
    memcpy(bad, ct, sizeof(bad));
    bad[XW_CT_M_LEN + 3] ^= 0x10;
    decaps_ok(&x, bad, b);
    assert_memory_not_equal(a, b, XW_SS_LEN);
    xwing_reference(&x, bad, r);
    assert_memory_equal(b, r, XW_SS_LEN);

    /* Small-order X25519 halves (u = 0, u = 1): no secret. */
    for (unsigned u = 0; u < 2; u++) {
        memcpy(bad, ct, sizeof(bad));
        memset(bad + XW_CT_M_LEN, 0, 32);
        bad[XW_CT_M_LEN] = (unsigned char)u;
        assert_int_equal(decaps(CKM_CRATON_XWING, x.m_priv, x.x_priv, bad, XW_CT_LEN, &ss, &sslen),
                         CKR_ENCRYPTED_DATA_INVALID);
        assert_null(ss);
    }

    /* A small-order X25519 public key (u = 0) at encapsulation. */
    unsigned char zero[32] = {0};
    struct key *low =
        mu_ec_key(g_c, CKK_EC_MONTGOMERY, OID_X25519, sizeof(OID_X25519), CKO_PUBLIC_KEY, zero, 32);
    CK_ULONG ctlen = XW_CT_LEN;
    assert_int_equal(encaps(CKM_CRATON_XWING, x.m_pub, low, bad, &ctlen, &ss, &sslen),
                     CKR_PUBLIC_KEY_INVALID);
    assert_null(ss);
    key_unref(low);
    xwing_keys_free(&x);
}

static void test_xwing_keys(void **state)
{
    (void)state;
    struct xwing_keys x = {0};
    struct pair k512 = {0}, k1024 = {0}, x448 = {0}, ed = {0}, p256 = {0}, dsa = {0};
    unsigned char ct[XW_CT_LEN], a[XW_SS_LEN];
    unsigned char *ss = NULL;
    size_t sslen = 0;
    CK_ULONG ctlen = XW_CT_LEN;
    const CK_RV KTI = CKR_KEY_TYPE_INCONSISTENT;
    random_xwing(&x);
    encaps_ok(&x, ct, a);
    pqc_pair("ML-KEM-512", CKK_ML_KEM, CKP_ML_KEM_512, &k512);
    pqc_pair("ML-KEM-1024", CKK_ML_KEM, CKP_ML_KEM_1024, &k1024);
    pqc_pair("ML-DSA-65", CKK_ML_DSA, CKP_ML_DSA_65, &dsa);
    ecx_pair("X448", CKK_EC_MONTGOMERY, OID_X448, sizeof(OID_X448), &x448);
    ecx_pair("ED25519", CKK_EC_EDWARDS, OID_ED25519, sizeof(OID_ED25519), &ed);
    ec_pair("prime256v1", OID_P256, sizeof(OID_P256), 32, &p256);

    /* The post-quantum key: ML-KEM-768 of the right side only. */
    struct key *bad_pq_pub[] = {k512.pub, k1024.pub, dsa.pub, x.m_priv, x.x_pub};
    for (size_t i = 0; i < ARRAY_SIZE(bad_pq_pub); i++) {
        ctlen = XW_CT_LEN;
        assert_int_equal(encaps(CKM_CRATON_XWING, bad_pq_pub[i], x.x_pub, ct, &ctlen, &ss, &sslen),
                         KTI);
    }
    struct key *bad_pq_priv[] = {k512.priv, k1024.priv, dsa.priv, x.m_pub, x.x_priv};
    for (size_t i = 0; i < ARRAY_SIZE(bad_pq_priv); i++)
        assert_int_equal(
            decaps(CKM_CRATON_XWING, bad_pq_priv[i], x.x_priv, ct, XW_CT_LEN, &ss, &sslen), KTI);
    assert_int_equal(encaps(CKM_CRATON_XWING, NULL, x.x_pub, ct, &ctlen, &ss, &sslen), KTI);

    /* The classical key: X25519 of the right side only (checked before any
     * size query is answered). */
    struct key *bad_x_pub[] = {x448.pub, ed.pub, p256.pub, x.x_priv, x.m_pub};
    for (size_t i = 0; i < ARRAY_SIZE(bad_x_pub); i++) {
        ctlen = XW_CT_LEN;
        assert_int_equal(encaps(CKM_CRATON_XWING, x.m_pub, bad_x_pub[i], ct, &ctlen, &ss, &sslen),
                         KTI);
        assert_int_equal(encaps(CKM_CRATON_XWING, x.m_pub, bad_x_pub[i], NULL, &ctlen, NULL, NULL),
                         KTI);
    }
    struct key *bad_x_priv[] = {x448.priv, ed.priv, p256.priv, x.x_pub, x.m_priv};
    for (size_t i = 0; i < ARRAY_SIZE(bad_x_priv); i++)
        assert_int_equal(
            decaps(CKM_CRATON_XWING, x.m_priv, bad_x_priv[i], ct, XW_CT_LEN, &ss, &sslen), KTI);
    assert_null(ss);

    /* The parameter: exactly a struct mech_two_keys naming a key. */
    const struct mech_desc *d = mech_find(CKM_CRATON_XWING);
    struct mech_two_keys tk = {x.x_pub}, none = {NULL};
    CK_MECHANISM ms[] = {
        {CKM_CRATON_XWING, NULL, 0},
        {CKM_CRATON_XWING, NULL, sizeof(tk)},
        {CKM_CRATON_XWING, &tk, sizeof(tk) - 1},
        {CKM_CRATON_XWING, &tk, sizeof(tk) + 1},
        {CKM_CRATON_XWING, &none, sizeof(none)},
    };
    for (size_t i = 0; i < ARRAY_SIZE(ms); i++) {
        ctlen = XW_CT_LEN;
        assert_int_equal(mech_hybrid_family.encapsulate(d, &ms[i], x.m_pub, g_c, &g_cfg, ct, &ctlen,
                                                        &ss, &sslen),
                         CKR_MECHANISM_PARAM_INVALID);
        assert_int_equal(mech_hybrid_family.decapsulate(d, &ms[i], x.m_priv, g_c, &g_cfg, ct,
                                                        XW_CT_LEN, &ss, &sslen),
                         CKR_MECHANISM_PARAM_INVALID);
    }
    /* Not the signature hybrid's row. */
    assert_int_equal(
        encaps(CKM_CRATON_ML_DSA_65_ECDSA_P256, x.m_pub, x.x_pub, ct, &ctlen, &ss, &sslen),
        CKR_MECHANISM_INVALID);
    assert_null(ss);

    pair_free(&k512);
    pair_free(&k1024);
    pair_free(&dsa);
    pair_free(&x448);
    pair_free(&ed);
    pair_free(&p256);
    xwing_keys_free(&x);
}

/* ---- ML-DSA-65 + ECDSA P-256 ------------------------------------------------- */

static CK_RV hyb_start(mech_fn fn, struct key *k, struct key *classic, struct mech_op **op)
{
    const struct mech_desc *d = mech_find(CKM_CRATON_ML_DSA_65_ECDSA_P256);
    assert_non_null(d);
    struct mech_two_keys tk = {classic};
    CK_MECHANISM m = {CKM_CRATON_ML_DSA_65_ECDSA_P256, &tk, sizeof(tk)};
    *op = NULL;
    CK_RV rv = mech_op_new(d, &m, fn, k, g_c, &g_cfg, op);
    assert_true((rv == CKR_OK) == (*op != NULL));
    return rv;
}

/* step 0: single-part; else parts of at most step bytes. */
static CK_RV hyb_sign(struct key *k, struct key *classic, const unsigned char *msg, size_t len,
                      size_t step, unsigned char *sig, CK_ULONG *siglen)
{
    struct mech_op *op = NULL;
    CK_RV rv = hyb_start(CKF_SIGN, k, classic, &op);
    if (rv != CKR_OK)
        return rv;
    if (step == 0) {
        rv = op->ops->oneshot(op, msg, (CK_ULONG)len, sig, siglen);
    } else {
        for (size_t i = 0; i < len && rv == CKR_OK; i += step)
            rv = op->ops->update(op, msg + i, (CK_ULONG)(len - i < step ? len - i : step), NULL,
                                 NULL);
        if (rv == CKR_OK)
            rv = op->ops->final(op, sig, siglen);
    }
    mech_op_free(op);
    return rv;
}

static CK_RV hyb_verify(struct key *k, struct key *classic, const unsigned char *msg, size_t len,
                        size_t step, const unsigned char *sig, size_t siglen)
{
    struct mech_op *op = NULL;
    CK_RV rv = hyb_start(CKF_VERIFY, k, classic, &op);
    if (rv != CKR_OK)
        return rv;
    if (step == 0) {
        rv = op->ops->verify_oneshot(op, msg, (CK_ULONG)len, sig, (CK_ULONG)siglen);
    } else {
        for (size_t i = 0; i < len && rv == CKR_OK; i += step)
            rv = op->ops->update(op, msg + i, (CK_ULONG)(len - i < step ? len - i : step), NULL,
                                 NULL);
        if (rv == CKR_OK)
            rv = op->ops->verify_final(op, sig, (CK_ULONG)siglen);
    }
    mech_op_free(op);
    return rv;
}

/* The ML-DSA half, checked with OpenSSL directly (pure, empty context). */
static int ossl_mldsa_verify(EVP_PKEY *pk, const unsigned char *sig, const unsigned char *msg,
                             size_t len)
{
    EVP_SIGNATURE *alg = EVP_SIGNATURE_fetch(g_lc, "ML-DSA-65", NULL);
    EVP_PKEY_CTX *x = EVP_PKEY_CTX_new_from_pkey(g_lc, pk, NULL);
    int r = alg != NULL && x != NULL && EVP_PKEY_verify_message_init(x, alg, NULL) == 1 &&
            EVP_PKEY_verify(x, sig, 3309, msg, len) == 1;
    EVP_PKEY_CTX_free(x);
    EVP_SIGNATURE_free(alg);
    ERR_clear_error();
    return r;
}

/* The ECDSA half (r || s), checked with OpenSSL directly over SHA-256. */
static int ossl_ecdsa_verify(EVP_PKEY *pk, const unsigned char *rs, const unsigned char *msg,
                             size_t len)
{
    unsigned char der[80], *p = der;
    ECDSA_SIG *s = ECDSA_SIG_new();
    assert_non_null(s);
    assert_int_equal(ECDSA_SIG_set0(s, BN_bin2bn(rs, 32, NULL), BN_bin2bn(rs + 32, 32, NULL)), 1);
    int n = i2d_ECDSA_SIG(s, &p);
    ECDSA_SIG_free(s);
    assert_true(n > 0 && (size_t)n <= sizeof(der));
    EVP_MD_CTX *x = EVP_MD_CTX_new();
    int r = EVP_DigestVerifyInit_ex(x, NULL, "SHA2-256", g_lc, NULL, pk, NULL) == 1 &&
            EVP_DigestVerify(x, der, (size_t)n, msg, len) == 1;
    EVP_MD_CTX_free(x);
    ERR_clear_error();
    return r;
}

static void test_hybrid_sig_roundtrip(void **state)
{
    (void)state;
    struct pair dsa = {0}, ec = {0};
    unsigned char msg[3000], sig[HYB_SIG_LEN], sig2[HYB_SIG_LEN];
    CK_ULONG siglen;
    pqc_pair("ML-DSA-65", CKK_ML_DSA, CKP_ML_DSA_65, &dsa);
    ec_pair("prime256v1", OID_P256, sizeof(OID_P256), 32, &ec);
    assert_int_equal(RAND_bytes_ex(g_lc, msg, sizeof(msg), 0), 1);

    static const size_t lens[] = {0, 1, 64, 3000};
    static const size_t steps[] = {0, 1, 100, 4096};
    for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
        for (size_t s = 0; s < ARRAY_SIZE(steps); s++) {
            if (steps[s] == 1 && lens[i] > 64)
                continue;
            siglen = sizeof(sig);
            assert_int_equal(hyb_sign(dsa.priv, ec.priv, msg, lens[i], steps[s], sig, &siglen),
                             CKR_OK);
            assert_int_equal(siglen, HYB_SIG_LEN);
            /* Each half, on its own, with OpenSSL. */
            assert_true(ossl_mldsa_verify(dsa.pkey, sig, msg, lens[i]));
            assert_true(ossl_ecdsa_verify(ec.pkey, sig + 3309, msg, lens[i]));
            /* Verified single- and multi-part whichever way it was made. */
            for (size_t v = 0; v < ARRAY_SIZE(steps); v++)
                assert_int_equal(
                    hyb_verify(dsa.pub, ec.pub, msg, lens[i], steps[v], sig, HYB_SIG_LEN), CKR_OK);
        }
    }

    /* Hedged ML-DSA and randomised ECDSA: both halves differ each time. */
    siglen = sizeof(sig2);
    assert_int_equal(hyb_sign(dsa.priv, ec.priv, msg, 64, 0, sig2, &siglen), CKR_OK);
    siglen = sizeof(sig);
    assert_int_equal(hyb_sign(dsa.priv, ec.priv, msg, 64, 0, sig, &siglen), CKR_OK);
    assert_memory_not_equal(sig, sig2, 3309);
    assert_memory_not_equal(sig + 3309, sig2 + 3309, 64);

    /* Size queries, single- and multi-part; the operation carries on. */
    struct mech_op *op = NULL;
    assert_int_equal(hyb_start(CKF_SIGN, dsa.priv, ec.priv, &op), CKR_OK);
    siglen = 0;
    assert_int_equal(op->ops->oneshot(op, msg, 10, NULL, &siglen), CKR_OK);
    assert_int_equal(siglen, HYB_SIG_LEN);
    siglen = HYB_SIG_LEN - 1;
    assert_int_equal(op->ops->oneshot(op, msg, 10, sig, &siglen), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(siglen, HYB_SIG_LEN);
    assert_int_equal(op->ops->oneshot(op, msg, 10, sig, &siglen), CKR_OK);
    mech_op_free(op);
    assert_int_equal(hyb_verify(dsa.pub, ec.pub, msg, 10, 0, sig, HYB_SIG_LEN), CKR_OK);
    assert_int_equal(hyb_start(CKF_SIGN, dsa.priv, ec.priv, &op), CKR_OK);
    assert_int_equal(op->ops->update(op, msg, 10, NULL, NULL), CKR_OK);
    siglen = 0;
    assert_int_equal(op->ops->final(op, NULL, &siglen), CKR_OK);
    assert_int_equal(siglen, HYB_SIG_LEN);
    siglen = 10;
    assert_int_equal(op->ops->final(op, sig, &siglen), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(siglen, HYB_SIG_LEN);
    assert_int_equal(op->ops->final(op, sig, &siglen), CKR_OK);
    mech_op_free(op);
    assert_int_equal(hyb_verify(dsa.pub, ec.pub, msg, 10, 3, sig, HYB_SIG_LEN), CKR_OK);

    /* The collected message stops at MECH_MAX_BUFFER (checked before the
     * part is read: the length alone is enough here). */
    assert_int_equal(hyb_start(CKF_VERIFY, dsa.pub, ec.pub, &op), CKR_OK);
    assert_int_equal(op->ops->update(op, msg, 16, NULL, NULL), CKR_OK);
    assert_int_equal(op->ops->update(op, msg, (CK_ULONG)(MECH_MAX_BUFFER - 15), NULL, NULL),
                     CKR_DATA_LEN_RANGE);
    mech_op_free(op);

    pair_free(&dsa);
    pair_free(&ec);
}

#ifdef CRATON_TEST_HOOKS
/* With the ML-DSA randomness fixed the ML-DSA half repeats (the hook
 * reaches the hybrid's ML-DSA context). */
static void test_hybrid_sig_fixed_rnd(void **state)
{
    (void)state;
    struct pair dsa = {0}, ec = {0};
    unsigned char sig[HYB_SIG_LEN], sig2[HYB_SIG_LEN];
    CK_ULONG siglen = sizeof(sig);
    pqc_pair("ML-DSA-65", CKK_ML_DSA, CKP_ML_DSA_65, &dsa);
    ec_pair("prime256v1", OID_P256, sizeof(OID_P256), 32, &ec);
    assert_int_equal(setenv("CRATON_TEST_MLDSA_RND",
                            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 1),
                     0);
    assert_int_equal(hyb_sign(dsa.priv, ec.priv, (const unsigned char *)"abc", 3, 0, sig, &siglen),
                     CKR_OK);
    siglen = sizeof(sig2);
    assert_int_equal(hyb_sign(dsa.priv, ec.priv, (const unsigned char *)"abc", 3, 1, sig2, &siglen),
                     CKR_OK);
    assert_int_equal(unsetenv("CRATON_TEST_MLDSA_RND"), 0);
    assert_memory_equal(sig, sig2, 3309);
    assert_int_equal(
        hyb_verify(dsa.pub, ec.pub, (const unsigned char *)"abc", 3, 0, sig2, HYB_SIG_LEN), CKR_OK);
    pair_free(&dsa);
    pair_free(&ec);
}
#endif

static void test_hybrid_sig_tampered(void **state)
{
    (void)state;
    struct pair dsa = {0}, ec = {0}, ec2 = {0};
    unsigned char msg[200], sig[HYB_SIG_LEN], bad[HYB_SIG_LEN + 1], other[HYB_SIG_LEN];
    CK_ULONG siglen = sizeof(sig);
    pqc_pair("ML-DSA-65", CKK_ML_DSA, CKP_ML_DSA_65, &dsa);
    ec_pair("prime256v1", OID_P256, sizeof(OID_P256), 32, &ec);
    ec_pair("prime256v1", OID_P256, sizeof(OID_P256), 32, &ec2);
    assert_int_equal(RAND_bytes_ex(g_lc, msg, sizeof(msg), 0), 1);
    assert_int_equal(hyb_sign(dsa.priv, ec.priv, msg, sizeof(msg), 0, sig, &siglen), CKR_OK);

    static const size_t at[] = {0, 1000, 3308, 3309, 3309 + 31, 3309 + 32, HYB_SIG_LEN - 1};
    for (size_t i = 0; i < ARRAY_SIZE(at); i++) {
        for (size_t step = 0; step <= 50; step += 50) {
            memcpy(bad, sig, HYB_SIG_LEN);
            bad[at[i]] ^= 0x04;
            assert_int_equal(hyb_verify(dsa.pub, ec.pub, msg, sizeof(msg), step, bad, HYB_SIG_LEN),
                             CKR_SIGNATURE_INVALID);
        }
    }
    /* Both halves bad. */
    memcpy(bad, sig, HYB_SIG_LEN);
    bad[10] ^= 0x01;
    bad[3320] ^= 0x01;
    assert_int_equal(hyb_verify(dsa.pub, ec.pub, msg, sizeof(msg), 0, bad, HYB_SIG_LEN),
                     CKR_SIGNATURE_INVALID);
    /* r = s = 0 and r, s >= n: an invalid ECDSA half. */
    memcpy(bad, sig, HYB_SIG_LEN);
    memset(bad + 3309, 0, 64);
    assert_int_equal(hyb_verify(dsa.pub, ec.pub, msg, sizeof(msg), 0, bad, HYB_SIG_LEN),
                     CKR_SIGNATURE_INVALID);
    memset(bad + 3309, 0xff, 64);
    assert_int_equal(hyb_verify(dsa.pub, ec.pub, msg, sizeof(msg), 0, bad, HYB_SIG_LEN),
                     CKR_SIGNATURE_INVALID);
    /* Another message; the other P-256 key's ECDSA half. */
    msg[0] ^= 1;
    assert_int_equal(hyb_verify(dsa.pub, ec.pub, msg, sizeof(msg), 0, sig, HYB_SIG_LEN),
                     CKR_SIGNATURE_INVALID);
    assert_int_equal(hyb_verify(dsa.pub, ec.pub, msg, sizeof(msg), 7, sig, HYB_SIG_LEN),
                     CKR_SIGNATURE_INVALID);
    msg[0] ^= 1;
    siglen = sizeof(other);
    assert_int_equal(hyb_sign(dsa.priv, ec2.priv, msg, sizeof(msg), 0, other, &siglen), CKR_OK);
    memcpy(bad, sig, 3309);
    memcpy(bad + 3309, other + 3309, 64);
    assert_int_equal(hyb_verify(dsa.pub, ec.pub, msg, sizeof(msg), 0, bad, HYB_SIG_LEN),
                     CKR_SIGNATURE_INVALID);
    assert_int_equal(hyb_verify(dsa.pub, ec2.pub, msg, sizeof(msg), 0, bad, HYB_SIG_LEN), CKR_OK);

    /* Lengths. */
    memcpy(bad, sig, HYB_SIG_LEN);
    bad[HYB_SIG_LEN] = 0;
    static const size_t lens[] = {0, 64, 3309, HYB_SIG_LEN - 1, HYB_SIG_LEN + 1};
    for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
        assert_int_equal(hyb_verify(dsa.pub, ec.pub, msg, sizeof(msg), 0, bad, lens[i]),
                         CKR_SIGNATURE_LEN_RANGE);
        assert_int_equal(hyb_verify(dsa.pub, ec.pub, msg, sizeof(msg), 20, bad, lens[i]),
                         CKR_SIGNATURE_LEN_RANGE);
    }
    assert_int_equal(hyb_verify(dsa.pub, ec.pub, msg, sizeof(msg), 0, NULL, HYB_SIG_LEN),
                     CKR_SIGNATURE_LEN_RANGE);

    pair_free(&dsa);
    pair_free(&ec);
    pair_free(&ec2);
}

static void test_hybrid_sig_keys(void **state)
{
    (void)state;
    struct pair d44 = {0}, d65 = {0}, d87 = {0}, p256 = {0}, p384 = {0}, ed = {0}, xk = {0};
    unsigned char sig[HYB_SIG_LEN];
    struct mech_op *op = NULL;
    const CK_RV KTI = CKR_KEY_TYPE_INCONSISTENT;
    pqc_pair("ML-DSA-44", CKK_ML_DSA, CKP_ML_DSA_44, &d44);
    pqc_pair("ML-DSA-65", CKK_ML_DSA, CKP_ML_DSA_65, &d65);
    pqc_pair("ML-DSA-87", CKK_ML_DSA, CKP_ML_DSA_87, &d87);
    ec_pair("prime256v1", OID_P256, sizeof(OID_P256), 32, &p256);
    ec_pair("secp384r1", OID_P384, sizeof(OID_P384), 48, &p384);
    ecx_pair("ED25519", CKK_EC_EDWARDS, OID_ED25519, sizeof(OID_ED25519), &ed);
    ecx_pair("X25519", CKK_EC_MONTGOMERY, OID_X25519, sizeof(OID_X25519), &xk);

    /* The ML-DSA key: ML-DSA-65 only. */
    assert_int_equal(hyb_start(CKF_SIGN, d44.priv, p256.priv, &op), KTI);
    assert_int_equal(hyb_start(CKF_SIGN, d87.priv, p256.priv, &op), KTI);
    assert_int_equal(hyb_start(CKF_VERIFY, d44.pub, p256.pub, &op), KTI);
    assert_int_equal(hyb_start(CKF_VERIFY, d87.pub, p256.pub, &op), KTI);
    /* The classical key: P-256, of the same class as the ML-DSA key. */
    struct key *bad_priv[] = {p384.priv, ed.priv, xk.priv, p256.pub, d65.priv};
    for (size_t i = 0; i < ARRAY_SIZE(bad_priv); i++)
        assert_int_equal(hyb_start(CKF_SIGN, d65.priv, bad_priv[i], &op), KTI);
    struct key *bad_pub[] = {p384.pub, ed.pub, xk.pub, p256.priv, d65.pub};
    for (size_t i = 0; i < ARRAY_SIZE(bad_pub); i++)
        assert_int_equal(hyb_start(CKF_VERIFY, d65.pub, bad_pub[i], &op), KTI);

    /* The family's own checks, past mech_op_new's. */
    const struct mech_desc *d = mech_find(CKM_CRATON_ML_DSA_65_ECDSA_P256);
    struct mech_two_keys tk = {p256.priv}, none = {NULL};
    CK_MECHANISM m = {CKM_CRATON_ML_DSA_65_ECDSA_P256, &tk, sizeof(tk)};
    assert_int_equal(mech_hybrid_family.init(&op, d, &m, CKF_SIGN, d65.pub, g_c, &g_cfg), KTI);
    assert_int_equal(mech_hybrid_family.init(&op, d, &m, CKF_SIGN, NULL, g_c, &g_cfg), KTI);
    assert_int_equal(mech_hybrid_family.init(&op, d, &m, CKF_ENCRYPT, d65.priv, g_c, &g_cfg),
                     CKR_MECHANISM_INVALID);
    assert_null(op);
    const struct mech_desc *xw = mech_find(CKM_CRATON_XWING);
    assert_int_equal(mech_hybrid_family.init(&op, xw, &m, CKF_SIGN, d65.priv, g_c, &g_cfg),
                     CKR_MECHANISM_INVALID);
    assert_null(op);
    /* The parameter. */
    CK_MECHANISM ms[] = {
        {CKM_CRATON_ML_DSA_65_ECDSA_P256, NULL, 0},
        {CKM_CRATON_ML_DSA_65_ECDSA_P256, NULL, sizeof(tk)},
        {CKM_CRATON_ML_DSA_65_ECDSA_P256, &tk, sizeof(tk) + 1},
        {CKM_CRATON_ML_DSA_65_ECDSA_P256, &none, sizeof(none)},
    };
    for (size_t i = 0; i < ARRAY_SIZE(ms); i++) {
        assert_int_equal(mech_op_new(d, &ms[i], CKF_SIGN, d65.priv, g_c, &g_cfg, &op),
                         CKR_MECHANISM_PARAM_INVALID);
        assert_null(op);
    }
    /* And the right pair works; the decapsulation entry is not for it. */
    CK_ULONG siglen = sizeof(sig);
    assert_int_equal(
        hyb_sign(d65.priv, p256.priv, (const unsigned char *)"message", 7, 0, sig, &siglen),
        CKR_OK);
    unsigned char *ss = NULL;
    size_t sslen = 0;
    assert_int_equal(
        mech_hybrid_family.decapsulate(d, &m, d65.priv, g_c, &g_cfg, sig, XW_CT_LEN, &ss, &sslen),
        CKR_MECHANISM_INVALID);
    assert_null(ss);

    pair_free(&d44);
    pair_free(&d65);
    pair_free(&d87);
    pair_free(&p256);
    pair_free(&p384);
    pair_free(&ed);
    pair_free(&xk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_xwing_vectors, mu_clear_errors, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_xwing_roundtrip, mu_clear_errors, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_xwing_sizes, mu_clear_errors, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_xwing_tampered, mu_clear_errors, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_xwing_keys, mu_clear_errors, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_hybrid_sig_roundtrip, mu_clear_errors,
                                        mu_check_errors),
#ifdef CRATON_TEST_HOOKS
        cmocka_unit_test_setup_teardown(test_hybrid_sig_fixed_rnd, mu_clear_errors,
                                        mu_check_errors),
#endif
        cmocka_unit_test_setup_teardown(test_hybrid_sig_tampered, mu_clear_errors, mu_check_errors),
        cmocka_unit_test_setup_teardown(test_hybrid_sig_keys, mu_clear_errors, mu_check_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
