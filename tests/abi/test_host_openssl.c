/*
 * A host that itself uses the system's libcrypto (3.0 on Debian 12, as
 * pkcs11-tool does) loads the module, uses it, dlcloses it and loads it
 * again; the host's OpenSSL keeps working throughout and is never replaced
 * by the module's private copy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>

#include "abi_util.h"

#define SO_PIN   "12345678"
#define USER_PIN "87654321"
#define PIN(s)   (CK_UTF8CHAR_PTR)(s), (CK_ULONG)(sizeof(s) - 1)

/* SHA-256("abc") through the host's own libcrypto. */
static void host_sha256_works(void)
{
    static const unsigned char want[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
                                           0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                           0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
                                           0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    assert_int_equal(EVP_Digest("abc", 3, md, &len, EVP_sha256(), NULL), 1);
    assert_int_equal(len, 32);
    assert_memory_equal(md, want, 32);
    /* Still the host's library, not ours (the module's is 3.5). */
    assert_int_equal(OpenSSL_version_num() >> 20, OPENSSL_VERSION_NUMBER >> 20);
}

static void use_module(struct abi *a, int first)
{
    CK_FUNCTION_LIST_3_2 *f = a->f;
    CK_SESSION_HANDLE h;
    CK_BYTE rnd[32];
    assert_int_equal(f->C_Initialize(NULL), CKR_OK);
    if (first) {
        CK_UTF8CHAR label[32];
        memset(label, ' ', sizeof(label));
        assert_int_equal(f->C_InitToken(0, PIN(SO_PIN), label), CKR_OK);
        assert_int_equal(f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h),
                         CKR_OK);
        assert_int_equal(f->C_Login(h, CKU_SO, PIN(SO_PIN)), CKR_OK);
        assert_int_equal(f->C_InitPIN(h, PIN(USER_PIN)), CKR_OK);
        assert_int_equal(f->C_CloseSession(h), CKR_OK);
    }
    host_sha256_works();
    assert_int_equal(f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h),
                     CKR_OK);
    assert_int_equal(f->C_Login(h, CKU_USER, PIN(USER_PIN)), CKR_OK);
    assert_int_equal(f->C_GenerateRandom(h, rnd, sizeof(rnd)), CKR_OK);
    assert_int_equal(f->C_Finalize(NULL), CKR_OK);
    host_sha256_works();
}

static void test_load_use_unload_reload(void **state)
{
    (void)state;
    struct abi a;
    memset(&a, 0, sizeof(a));
    host_sha256_works();
    assert_int_equal(abi_scratch(&a, ABI_FAST_CONFIG), 0);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(abi_open(&a), 0);
        use_module(&a, round == 0);
        abi_close(&a);
        host_sha256_works();
    }
    abi_rm_scratch(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_use_unload_reload),
    };
    return cmocka_run_group_tests_name("host-openssl", tests, NULL, NULL);
}
