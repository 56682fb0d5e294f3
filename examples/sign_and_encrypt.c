/*
 * A short PKCS#11 program: log in, make an EC P-256 key pair and sign and
 * verify with ECDSA-SHA256, then make an AES-256 key and encrypt and decrypt
 * with AES-GCM.  Any PKCS#11 module works; with Craton HSM:
 *
 *   cc -o sign_and_encrypt sign_and_encrypt.c -ldl -I include
 *   ./sign_and_encrypt build/lib/libcraton_hsm.so 87654321
 *
 * (after `pkcs11-tool --init-token` and `--init-pin`; the module reads its
 * configuration from $CRATON_HSM_CONFIG or ./craton_hsm.toml).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkcs11/pkcs11.h"

#define CHECK(call)                                                                 \
    do {                                                                            \
        CK_RV rv_ = (call);                                                         \
        if (rv_ != CKR_OK) {                                                        \
            fprintf(stderr, "%s:%d: %s = 0x%lx\n", __FILE__, __LINE__, #call, rv_); \
            exit(1);                                                                \
        }                                                                           \
    } while (0)

static CK_FUNCTION_LIST_PTR p11;

static void ecdsa(CK_SESSION_HANDLE s)
{
    static CK_BYTE p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE pub[] = {{CKA_EC_PARAMS, p256, sizeof(p256)}, {CKA_VERIFY, &yes, sizeof(yes)}};
    CK_ATTRIBUTE priv[] = {{CKA_SIGN, &yes, sizeof(yes)}};
    CK_MECHANISM gen = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_OBJECT_HANDLE hpub, hpriv;
    CHECK(p11->C_GenerateKeyPair(s, &gen, pub, 2, priv, 1, &hpub, &hpriv));

    CK_BYTE msg[] = "message to sign", sig[64];
    CK_ULONG siglen = sizeof(sig);
    CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0};
    CHECK(p11->C_SignInit(s, &m, hpriv));
    CHECK(p11->C_Sign(s, msg, sizeof(msg) - 1, sig, &siglen)); /* r || s, 64 bytes */
    CHECK(p11->C_VerifyInit(s, &m, hpub));
    CHECK(p11->C_Verify(s, msg, sizeof(msg) - 1, sig, siglen));
    printf("ECDSA P-256 / SHA-256: %lu-byte signature verified\n", siglen);
}

static void aes_gcm(CK_SESSION_HANDLE s)
{
    CK_ULONG len = 32;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE t[] = {{CKA_VALUE_LEN, &len, sizeof(len)},
                        {CKA_ENCRYPT, &yes, sizeof(yes)},
                        {CKA_DECRYPT, &yes, sizeof(yes)}};
    CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
    CK_OBJECT_HANDLE key;
    CHECK(p11->C_GenerateKey(s, &gen, t, 3, &key));

    CK_BYTE iv[12], aad[] = "header", pt[] = "secret payload", ct[64], out[64];
    CHECK(p11->C_GenerateRandom(s, iv, sizeof(iv))); /* never reuse an IV with a key */
    CK_GCM_PARAMS gcm = {iv, sizeof(iv), sizeof(iv) * 8, aad, sizeof(aad) - 1, 128};
    CK_MECHANISM m = {CKM_AES_GCM, &gcm, sizeof(gcm)};
    CK_ULONG ctlen = sizeof(ct), outlen = sizeof(out);
    CHECK(p11->C_EncryptInit(s, &m, key));
    CHECK(p11->C_Encrypt(s, pt, sizeof(pt) - 1, ct, &ctlen)); /* ciphertext || 16-byte tag */
    CHECK(p11->C_DecryptInit(s, &m, key));
    CHECK(p11->C_Decrypt(s, ct, ctlen, out, &outlen));
    if (outlen != sizeof(pt) - 1 || memcmp(out, pt, outlen) != 0) {
        fprintf(stderr, "AES-GCM round trip differs\n");
        exit(1);
    }
    printf("AES-256-GCM: %lu bytes encrypted (tag included) and decrypted\n", ctlen);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODULE USER_PIN\n", argv[0]);
        return 2;
    }
    void *dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    CK_C_GetFunctionList get =
        dl != NULL ? (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList") : NULL;
    if (get == NULL) {
        fprintf(stderr, "%s: %s\n", argv[1], dlerror());
        return 1;
    }
    CHECK(get(&p11));
    CHECK(p11->C_Initialize(NULL));
    CK_SLOT_ID slot;
    CK_ULONG n = 1;
    CHECK(p11->C_GetSlotList(CK_TRUE, &slot, &n));
    CK_SESSION_HANDLE s;
    CHECK(p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s));
    CHECK(p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)argv[2], strlen(argv[2])));
    ecdsa(s);
    aes_gcm(s);
    CHECK(p11->C_Logout(s));
    CHECK(p11->C_CloseSession(s));
    CHECK(p11->C_Finalize(NULL));
    dlclose(dl);
    return 0;
}
