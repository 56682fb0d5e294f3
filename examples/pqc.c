/*
 * Post-quantum PKCS#11 3.2 in a short program: log in, make an ML-DSA-65
 * key pair and sign and verify (CKM_ML_DSA with a context string), then
 * make an ML-KEM-768 key pair, encapsulate a shared secret to the public
 * key (C_EncapsulateKey) and decapsulate it with the private key
 * (C_DecapsulateKey): both sides end up with the same AES-256 key.  Any
 * PKCS#11 3.2 module works; with Craton HSM:
 *
 *   cc -o pqc pqc.c -ldl -I include
 *   ./pqc build/lib/libcraton_hsm.so 87654321
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

static CK_FUNCTION_LIST_3_2_PTR p11;

static void ml_dsa(CK_SESSION_HANDLE s)
{
    CK_ML_DSA_PARAMETER_SET_TYPE set = CKP_ML_DSA_65; /* the set goes in the public template */
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE pub[] = {{CKA_PARAMETER_SET, &set, sizeof(set)}, {CKA_VERIFY, &yes, sizeof(yes)}};
    CK_ATTRIBUTE priv[] = {{CKA_SIGN, &yes, sizeof(yes)}};
    CK_MECHANISM gen = {CKM_ML_DSA_KEY_PAIR_GEN, NULL, 0};
    CK_OBJECT_HANDLE hpub, hpriv;
    CHECK(p11->C_GenerateKeyPair(s, &gen, pub, 2, priv, 1, &hpub, &hpriv));

    /* FIPS 204 context string (up to 255 bytes); hedged signing. */
    CK_BYTE ctx[] = "example", msg[] = "message to sign", sig[3309];
    CK_SIGN_ADDITIONAL_CONTEXT param = {CKH_HEDGE_PREFERRED, ctx, sizeof(ctx) - 1};
    CK_MECHANISM m = {CKM_ML_DSA, &param, sizeof(param)};
    CK_ULONG siglen = sizeof(sig);
    CHECK(p11->C_SignInit(s, &m, hpriv));
    CHECK(p11->C_Sign(s, msg, sizeof(msg) - 1, sig, &siglen));
    CHECK(p11->C_VerifyInit(s, &m, hpub));
    CHECK(p11->C_Verify(s, msg, sizeof(msg) - 1, sig, siglen));
    printf("ML-DSA-65: %lu-byte signature verified\n", siglen);
}

static void ml_kem(CK_SESSION_HANDLE s)
{
    CK_ML_KEM_PARAMETER_SET_TYPE set = CKP_ML_KEM_768;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ATTRIBUTE pub[] = {{CKA_PARAMETER_SET, &set, sizeof(set)},
                          {CKA_ENCAPSULATE, &yes, sizeof(yes)}};
    CK_ATTRIBUTE priv[] = {{CKA_DECAPSULATE, &yes, sizeof(yes)}};
    CK_MECHANISM gen = {CKM_ML_KEM_KEY_PAIR_GEN, NULL, 0};
    CK_OBJECT_HANDLE hpub, hpriv;
    CHECK(p11->C_GenerateKeyPair(s, &gen, pub, 2, priv, 1, &hpub, &hpriv));

    /* The shared secret becomes a key object made from this template; it
     * is readable here only to compare both sides. */
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    CK_ULONG len = 32;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},     {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_ENCRYPT, &yes, sizeof(yes)},
                        {CKA_SENSITIVE, &no, sizeof(no)},   {CKA_EXTRACTABLE, &yes, sizeof(yes)}};
    CK_MECHANISM m = {CKM_ML_KEM, NULL, 0};
    CK_BYTE ct[1088];
    CK_ULONG ctlen = sizeof(ct);
    CK_OBJECT_HANDLE sender, receiver;
    CHECK(p11->C_EncapsulateKey(s, &m, hpub, t, 6, ct, &ctlen, &sender));
    CHECK(p11->C_DecapsulateKey(s, &m, hpriv, t, 6, ct, ctlen, &receiver));

    CK_BYTE k1[32], k2[32];
    CK_ATTRIBUTE a1 = {CKA_VALUE, k1, sizeof(k1)}, a2 = {CKA_VALUE, k2, sizeof(k2)};
    CHECK(p11->C_GetAttributeValue(s, sender, &a1, 1));
    CHECK(p11->C_GetAttributeValue(s, receiver, &a2, 1));
    if (a1.ulValueLen != 32 || a2.ulValueLen != 32 || memcmp(k1, k2, 32) != 0) {
        fprintf(stderr, "ML-KEM-768: the two sides' keys differ\n");
        exit(1);
    }
    printf("ML-KEM-768: %lu-byte ciphertext, both sides hold the same AES-256 key\n", ctlen);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODULE USER_PIN\n", argv[0]);
        return 2;
    }
    /* C_EncapsulateKey is a 3.2 function: ask for the 3.2 interface. */
    void *dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    CK_C_GetInterface get = dl != NULL ? (CK_C_GetInterface)dlsym(dl, "C_GetInterface") : NULL;
    CK_VERSION v32 = {3, 2};
    CK_INTERFACE_PTR itf = NULL;
    if (get == NULL) {
        fprintf(stderr, "%s: %s\n", argv[1], dl == NULL ? dlerror() : "no C_GetInterface");
        return 1;
    }
    CHECK(get((CK_UTF8CHAR_PTR) "PKCS 11", &v32, &itf, 0));
    p11 = itf->pFunctionList;
    CHECK(p11->C_Initialize(NULL));
    CK_SLOT_ID slot;
    CK_ULONG n = 1;
    CHECK(p11->C_GetSlotList(CK_TRUE, &slot, &n));
    CK_SESSION_HANDLE s;
    CHECK(p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s));
    CHECK(p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)argv[2], strlen(argv[2])));
    ml_dsa(s);
    ml_kem(s);
    CHECK(p11->C_Logout(s));
    CHECK(p11->C_CloseSession(s));
    CHECK(p11->C_Finalize(NULL));
    dlclose(dl);
    return 0;
}
