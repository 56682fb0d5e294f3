/*
 * p11pqc: a small PKCS#11 3.2 client for the post-quantum interop test
 * (tests/interop/pqc.sh), the part pkcs11-tool cannot do yet.  Every
 * command loads MODULE, logs in with PIN on the first slot with a token,
 * does one thing with token objects found by CKA_LABEL, and exits 0 on
 * success (1 on a PKCS#11 failure or a rejected signature, 2 on usage).
 *
 *   p11pqc MODULE PIN keygen SET LABEL        ML-DSA-65, SLH-DSA-SHA2-128f, ML-KEM-768, ...
 *   p11pqc MODULE PIN pubkey LABEL OUT.der    CKA_PUBLIC_KEY_INFO (DER SubjectPublicKeyInfo)
 *   p11pqc MODULE PIN import SET LABEL RAW    a public key from its raw encoding
 *   p11pqc MODULE PIN sign LABEL IN OUT [CTX] CKM_ML_DSA / CKM_SLH_DSA, context CTX (text)
 *   p11pqc MODULE PIN verify LABEL IN SIG [CTX]
 *   p11pqc MODULE PIN encap LABEL CT_OUT SECRET_OUT   CKM_ML_KEM, C_EncapsulateKey
 *   p11pqc MODULE PIN decap LABEL CT SECRET_OUT       CKM_ML_KEM, C_DecapsulateKey
 *
 * Shared secrets become session generic-secret keys made readable
 * (CKA_SENSITIVE false, CKA_EXTRACTABLE true) so their CKA_VALUE can be
 * compared with the peer's; a real application would keep them sensitive.
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkcs11/pkcs11.h"

#define MAX_FILE (1 << 20)

static CK_FUNCTION_LIST_3_2 *p11;
static CK_SESSION_HANDLE sess;
static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

static const struct {
    const char *name;
    CK_KEY_TYPE kt;
    CK_ULONG set;
    CK_MECHANISM_TYPE gen, op;
} sets[] = {
    {"ML-KEM-512", CKK_ML_KEM, CKP_ML_KEM_512, CKM_ML_KEM_KEY_PAIR_GEN, CKM_ML_KEM},
    {"ML-KEM-768", CKK_ML_KEM, CKP_ML_KEM_768, CKM_ML_KEM_KEY_PAIR_GEN, CKM_ML_KEM},
    {"ML-KEM-1024", CKK_ML_KEM, CKP_ML_KEM_1024, CKM_ML_KEM_KEY_PAIR_GEN, CKM_ML_KEM},
    {"ML-DSA-44", CKK_ML_DSA, CKP_ML_DSA_44, CKM_ML_DSA_KEY_PAIR_GEN, CKM_ML_DSA},
    {"ML-DSA-65", CKK_ML_DSA, CKP_ML_DSA_65, CKM_ML_DSA_KEY_PAIR_GEN, CKM_ML_DSA},
    {"ML-DSA-87", CKK_ML_DSA, CKP_ML_DSA_87, CKM_ML_DSA_KEY_PAIR_GEN, CKM_ML_DSA},
    {"SLH-DSA-SHA2-128s", CKK_SLH_DSA, CKP_SLH_DSA_SHA2_128S, CKM_SLH_DSA_KEY_PAIR_GEN,
     CKM_SLH_DSA},
    {"SLH-DSA-SHA2-128f", CKK_SLH_DSA, CKP_SLH_DSA_SHA2_128F, CKM_SLH_DSA_KEY_PAIR_GEN,
     CKM_SLH_DSA},
    {"SLH-DSA-SHAKE-128f", CKK_SLH_DSA, CKP_SLH_DSA_SHAKE_128F, CKM_SLH_DSA_KEY_PAIR_GEN,
     CKM_SLH_DSA},
};

static void die(const char *what, CK_RV rv)
{
    fprintf(stderr, "p11pqc: %s: CKR 0x%lx\n", what, (unsigned long)rv);
    exit(1);
}

#define CHECK(call)          \
    do {                     \
        CK_RV rv_ = (call);  \
        if (rv_ != CKR_OK)   \
            die(#call, rv_); \
    } while (0)

static int find_set(const char *name)
{
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
        if (strcmp(sets[i].name, name) == 0)
            return (int)i;
    fprintf(stderr, "p11pqc: unknown parameter set %s\n", name);
    exit(2);
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    unsigned char *buf = malloc(MAX_FILE);
    if (fp == NULL || buf == NULL) {
        perror(path);
        exit(1);
    }
    *len = fread(buf, 1, MAX_FILE, fp);
    fclose(fp);
    return buf;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    if (fp == NULL || fwrite(data, 1, len, fp) != len || fclose(fp) != 0) {
        perror(path);
        exit(1);
    }
}

/* The one object of class cls labelled label. */
static CK_OBJECT_HANDLE find(CK_OBJECT_CLASS cls, const char *label)
{
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_LABEL, (void *)label, strlen(label)}};
    CK_OBJECT_HANDLE h[2];
    CK_ULONG n = 0;
    CHECK(p11->C_FindObjectsInit(sess, t, 2));
    CHECK(p11->C_FindObjects(sess, h, 2, &n));
    CHECK(p11->C_FindObjectsFinal(sess));
    if (n != 1) {
        fprintf(stderr, "p11pqc: %lu objects labelled %s\n", (unsigned long)n, label);
        exit(1);
    }
    return h[0];
}

/* Attribute type of h, malloc'ed. */
static unsigned char *get_attr(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, CK_ULONG *len)
{
    CK_ATTRIBUTE a = {type, NULL, 0};
    CHECK(p11->C_GetAttributeValue(sess, h, &a, 1));
    a.pValue = malloc(a.ulValueLen + 1);
    if (a.pValue == NULL)
        die("malloc", CKR_HOST_MEMORY);
    CHECK(p11->C_GetAttributeValue(sess, h, &a, 1));
    *len = a.ulValueLen;
    return a.pValue;
}

static int cmd_keygen(const char *set, const char *label)
{
    int i = find_set(set);
    CK_MECHANISM m = {sets[i].gen, NULL, 0};
    CK_ULONG ps = sets[i].set;
    CK_ATTRIBUTE pub[] = {{CKA_TOKEN, &yes, sizeof(yes)},
                          {CKA_PARAMETER_SET, &ps, sizeof(ps)},
                          {CKA_LABEL, (void *)label, strlen(label)}};
    CK_ATTRIBUTE priv[] = {{CKA_TOKEN, &yes, sizeof(yes)},
                           {CKA_PRIVATE, &yes, sizeof(yes)},
                           {CKA_SENSITIVE, &yes, sizeof(yes)},
                           {CKA_LABEL, (void *)label, strlen(label)}};
    CK_OBJECT_HANDLE hpub, hpriv;
    CHECK(p11->C_GenerateKeyPair(sess, &m, pub, 3, priv, 4, &hpub, &hpriv));
    printf("%s key pair generated: %s\n", set, label);
    return 0;
}

static int cmd_pubkey(const char *label, const char *out)
{
    CK_ULONG len;
    unsigned char *der = get_attr(find(CKO_PUBLIC_KEY, label), CKA_PUBLIC_KEY_INFO, &len);
    write_file(out, der, len);
    free(der);
    return 0;
}

static int cmd_import(const char *set, const char *label, const char *raw)
{
    int i = find_set(set);
    size_t len;
    unsigned char *v = read_file(raw, &len);
    CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
    CK_KEY_TYPE kt = sets[i].kt;
    CK_ULONG ps = sets[i].set;
    CK_ATTRIBUTE_TYPE use = kt == CKK_ML_KEM ? CKA_ENCAPSULATE : CKA_VERIFY;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_TOKEN, &yes, sizeof(yes)},
                        {CKA_PARAMETER_SET, &ps, sizeof(ps)},
                        {CKA_LABEL, (void *)label, strlen(label)},
                        {CKA_VALUE, v, len},
                        {use, &yes, sizeof(yes)}};
    CK_OBJECT_HANDLE h;
    CHECK(p11->C_CreateObject(sess, t, sizeof(t) / sizeof(t[0]), &h));
    free(v);
    return 0;
}

/* The mechanism of key h (CKM_ML_DSA or CKM_SLH_DSA) with context ctx. */
static CK_MECHANISM sig_mech(CK_OBJECT_HANDLE h, CK_SIGN_ADDITIONAL_CONTEXT *sc, const char *ctx)
{
    CK_KEY_TYPE kt = 0;
    CK_ATTRIBUTE a = {CKA_KEY_TYPE, &kt, sizeof(kt)};
    CHECK(p11->C_GetAttributeValue(sess, h, &a, 1));
    *sc = (CK_SIGN_ADDITIONAL_CONTEXT){CKH_HEDGE_PREFERRED, (CK_BYTE_PTR)ctx,
                                       ctx != NULL ? strlen(ctx) : 0};
    return (CK_MECHANISM){kt == CKK_SLH_DSA ? CKM_SLH_DSA : CKM_ML_DSA, sc, sizeof(*sc)};
}

static int cmd_sign(const char *label, const char *in, const char *out, const char *ctx)
{
    size_t mlen;
    unsigned char *msg = read_file(in, &mlen);
    CK_OBJECT_HANDLE h = find(CKO_PRIVATE_KEY, label);
    CK_SIGN_ADDITIONAL_CONTEXT sc;
    CK_MECHANISM m = sig_mech(h, &sc, ctx);
    CK_ULONG len = 0;
    CHECK(p11->C_SignInit(sess, &m, h));
    CHECK(p11->C_Sign(sess, msg, mlen, NULL, &len));
    unsigned char *sig = malloc(len);
    if (sig == NULL)
        die("malloc", CKR_HOST_MEMORY);
    CHECK(p11->C_Sign(sess, msg, mlen, sig, &len));
    write_file(out, sig, len);
    printf("%lu-byte signature\n", (unsigned long)len);
    free(sig);
    free(msg);
    return 0;
}

static int cmd_verify(const char *label, const char *in, const char *sigf, const char *ctx)
{
    size_t mlen, slen;
    unsigned char *msg = read_file(in, &mlen), *sig = read_file(sigf, &slen);
    CK_OBJECT_HANDLE h = find(CKO_PUBLIC_KEY, label);
    CK_SIGN_ADDITIONAL_CONTEXT sc;
    CK_MECHANISM m = sig_mech(h, &sc, ctx);
    CHECK(p11->C_VerifyInit(sess, &m, h));
    CK_RV rv = p11->C_Verify(sess, msg, mlen, sig, slen);
    free(msg);
    free(sig);
    if (rv == CKR_SIGNATURE_INVALID || rv == CKR_SIGNATURE_LEN_RANGE) {
        printf("Signature invalid\n");
        return 1;
    }
    CHECK(rv);
    printf("Signature valid\n");
    return 0;
}

/* The template of a readable 32-byte shared secret. */
static CK_OBJECT_CLASS c_secret = CKO_SECRET_KEY;
static CK_KEY_TYPE k_generic = CKK_GENERIC_SECRET;
static CK_ATTRIBUTE secret_t[] = {
    {CKA_CLASS, &c_secret, sizeof(c_secret)},
    {CKA_KEY_TYPE, &k_generic, sizeof(k_generic)},
    {CKA_TOKEN, &no, sizeof(no)},
    {CKA_SENSITIVE, &no, sizeof(no)},
    {CKA_EXTRACTABLE, &yes, sizeof(yes)},
};
#define SECRET_N (sizeof(secret_t) / sizeof(secret_t[0]))

static void write_secret(CK_OBJECT_HANDLE key, const char *out)
{
    CK_ULONG len;
    unsigned char *v = get_attr(key, CKA_VALUE, &len);
    write_file(out, v, len);
    free(v);
}

static int cmd_encap(const char *label, const char *ctout, const char *ssout)
{
    CK_OBJECT_HANDLE h = find(CKO_PUBLIC_KEY, label), key;
    CK_MECHANISM m = {CKM_ML_KEM, NULL, 0};
    CK_ULONG len = 0;
    CHECK(p11->C_EncapsulateKey(sess, &m, h, secret_t, SECRET_N, NULL, &len, &key));
    unsigned char *ct = malloc(len);
    if (ct == NULL)
        die("malloc", CKR_HOST_MEMORY);
    CHECK(p11->C_EncapsulateKey(sess, &m, h, secret_t, SECRET_N, ct, &len, &key));
    write_file(ctout, ct, len);
    write_secret(key, ssout);
    free(ct);
    return 0;
}

static int cmd_decap(const char *label, const char *ctin, const char *ssout)
{
    size_t len;
    unsigned char *ct = read_file(ctin, &len);
    CK_OBJECT_HANDLE h = find(CKO_PRIVATE_KEY, label), key;
    CK_MECHANISM m = {CKM_ML_KEM, NULL, 0};
    CHECK(p11->C_DecapsulateKey(sess, &m, h, secret_t, SECRET_N, ct, len, &key));
    write_secret(key, ssout);
    free(ct);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: p11pqc MODULE PIN keygen SET LABEL | pubkey LABEL OUT |"
                    " import SET LABEL RAW | sign LABEL IN OUT [CTX] | verify LABEL IN SIG [CTX] |"
                    " encap LABEL CT SECRET | decap LABEL CT SECRET\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 5)
        return usage();
    const char *cmd = argv[3];
    void *dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    CK_C_GetInterface gi = dl != NULL ? (CK_C_GetInterface)dlsym(dl, "C_GetInterface") : NULL;
    CK_VERSION v32 = {3, 2};
    CK_INTERFACE_PTR itf = NULL;
    if (gi == NULL || gi((CK_UTF8CHAR_PTR) "PKCS 11", &v32, &itf, 0) != CKR_OK) {
        fprintf(stderr, "p11pqc: %s: no PKCS#11 3.2 interface (%s)\n", argv[1],
                dl == NULL ? dlerror() : "C_GetInterface");
        return 1;
    }
    p11 = itf->pFunctionList;
    CHECK(p11->C_Initialize(NULL));
    CK_SLOT_ID slot;
    CK_ULONG n = 1;
    CHECK(p11->C_GetSlotList(CK_TRUE, &slot, &n));
    CHECK(p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &sess));
    CHECK(p11->C_Login(sess, CKU_USER, (CK_UTF8CHAR_PTR)argv[2], strlen(argv[2])));
    int r;
    if (strcmp(cmd, "keygen") == 0 && argc == 6)
        r = cmd_keygen(argv[4], argv[5]);
    else if (strcmp(cmd, "pubkey") == 0 && argc == 6)
        r = cmd_pubkey(argv[4], argv[5]);
    else if (strcmp(cmd, "import") == 0 && argc == 7)
        r = cmd_import(argv[4], argv[5], argv[6]);
    else if (strcmp(cmd, "sign") == 0 && (argc == 7 || argc == 8))
        r = cmd_sign(argv[4], argv[5], argv[6], argc == 8 ? argv[7] : NULL);
    else if (strcmp(cmd, "verify") == 0 && (argc == 7 || argc == 8))
        r = cmd_verify(argv[4], argv[5], argv[6], argc == 8 ? argv[7] : NULL);
    else if (strcmp(cmd, "encap") == 0 && argc == 7)
        r = cmd_encap(argv[4], argv[5], argv[6]);
    else if (strcmp(cmd, "decap") == 0 && argc == 7)
        r = cmd_decap(argv[4], argv[5], argv[6]);
    else
        r = usage();
    p11->C_Logout(sess);
    p11->C_CloseSession(sess);
    CHECK(p11->C_Finalize(NULL));
    dlclose(dl);
    return r;
}
