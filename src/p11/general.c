/* General-purpose functions and the interfaces (PKCS#11 3.2 sections 5.4-5.5). */
#include <string.h>

#include "core/hsm.h"
#include "craton/craton_admin.h"
#include "p11/p11.h"

#define P11_MANUFACTURER  "Craton HSM Project"
#define P11_DESCRIPTION   "Craton HSM software HSM"
#define P11_LIBRARY_MAJOR 0
#define P11_LIBRARY_MINOR 1

/* One table of entry points fills all three lists. */
#define P11_ENTRY(name, params, args) name,
static CK_FUNCTION_LIST_3_2 list_3_2 = {
    {3, 2}, CK_FUNCTIONS_2_40(P11_ENTRY) CK_FUNCTIONS_3_0(P11_ENTRY) CK_FUNCTIONS_3_2(P11_ENTRY)};
static CK_FUNCTION_LIST_3_0 list_3_0 = {{3, 0},
                                        CK_FUNCTIONS_2_40(P11_ENTRY) CK_FUNCTIONS_3_0(P11_ENTRY)};
static CK_FUNCTION_LIST list_2_40 = {{2, 40}, CK_FUNCTIONS_2_40(P11_ENTRY)};
#undef P11_ENTRY

#define P11_INTERFACE_NAME "PKCS 11"

/* The PKCS#11 lists, newest first, then our vendor interface (never the
 * default: C_GetInterface with a NULL name looks only at "PKCS 11"). */
static CK_INTERFACE interfaces[] = {
    {(CK_UTF8CHAR_PTR)P11_INTERFACE_NAME, &list_3_2, 0},
    {(CK_UTF8CHAR_PTR)P11_INTERFACE_NAME, &list_3_0, 0},
    {(CK_UTF8CHAR_PTR)P11_INTERFACE_NAME, &list_2_40, 0},
    {(CK_UTF8CHAR_PTR)CRATON_ADMIN_INTERFACE_NAME, &p11_admin_list, 0},
};
#define INTERFACE_COUNT (sizeof(interfaces) / sizeof(interfaces[0]))

/* 5.4 */
CK_RV C_Initialize(CK_VOID_PTR pInitArgs)
{
    return hsm_initialize(pInitArgs);
}

/* 5.4 */
CK_RV C_Finalize(CK_VOID_PTR pReserved)
{
    return hsm_finalize(pReserved);
}

/* 5.4 */
CK_RV C_GetInfo(CK_INFO_PTR pInfo)
{
    struct hsm *h;
    CK_RV rv = hsm_enter(&h);
    if (rv != CKR_OK)
        return rv;
    if (pInfo == NULL)
        return CKR_ARGUMENTS_BAD;
    memset(pInfo, 0, sizeof(*pInfo));
    pInfo->cryptokiVersion.major = 3;
    pInfo->cryptokiVersion.minor = 2;
    util_pad(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), P11_MANUFACTURER,
             sizeof(P11_MANUFACTURER));
    util_pad(pInfo->libraryDescription, sizeof(pInfo->libraryDescription), P11_DESCRIPTION,
             sizeof(P11_DESCRIPTION));
    pInfo->libraryVersion.major = P11_LIBRARY_MAJOR;
    pInfo->libraryVersion.minor = P11_LIBRARY_MINOR;
    return CKR_OK;
}

/* 5.4: the 2.40 list, for callers that do not know C_GetInterface. */
P11_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
    if (ppFunctionList == NULL)
        return CKR_ARGUMENTS_BAD;
    *ppFunctionList = &list_2_40;
    return CKR_OK;
}

/* 5.4 */
P11_EXPORT CK_RV C_GetInterfaceList(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount)
{
    if (pulCount == NULL)
        return CKR_ARGUMENTS_BAD;
    if (pInterfacesList == NULL) {
        *pulCount = INTERFACE_COUNT;
        return CKR_OK;
    }
    if (*pulCount < INTERFACE_COUNT) {
        *pulCount = INTERFACE_COUNT;
        return CKR_BUFFER_TOO_SMALL;
    }
    memcpy(pInterfacesList, interfaces, sizeof(interfaces));
    *pulCount = INTERFACE_COUNT;
    return CKR_OK;
}

/* 5.4: NULL name = "PKCS 11"; NULL version = the newest; the interface must
 * offer every requested flag. */
P11_EXPORT CK_RV C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
                                CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags)
{
    if (ppInterface == NULL)
        return CKR_ARGUMENTS_BAD;
    const char *name = pInterfaceName != NULL ? (const char *)pInterfaceName : P11_INTERFACE_NAME;
    for (size_t i = 0; i < INTERFACE_COUNT; i++) {
        CK_INTERFACE *itf = &interfaces[i];
        const CK_VERSION *v = (const CK_VERSION *)itf->pFunctionList;
        if (strcmp(name, (const char *)itf->pInterfaceName) != 0)
            continue;
        if (pVersion != NULL && (pVersion->major != v->major || pVersion->minor != v->minor))
            continue;
        if ((itf->flags & flags) != flags)
            continue;
        *ppInterface = itf;
        return CKR_OK;
    }
    return CKR_ARGUMENTS_BAD;
}

CK_RV p11_token(CK_SLOT_ID slot, struct hsm **hsm, struct token **t)
{
    CK_RV rv = hsm_enter(hsm);
    if (rv != CKR_OK)
        return rv;
    return hsm_token(*hsm, slot, t);
}

CK_RV p11_session(CK_SESSION_HANDLE h, struct hsm **hsm, struct session **s)
{
    CK_RV rv = hsm_enter(hsm);
    if (rv != CKR_OK)
        return rv;
    return session_get((*hsm)->sessions, h, s);
}

CK_RV p11_unsupported(CK_SESSION_HANDLE h)
{
    struct hsm *hsm;
    struct session *s;
    CK_RV rv = p11_session(h, &hsm, &s);
    if (rv != CKR_OK)
        return rv;
    session_put(s);
    return CKR_FUNCTION_NOT_SUPPORTED;
}

/* Runs when the host dlcloses us (or at exit): nothing of ours, OpenSSL's
 * thread-local keys included, may outlive the mapping. */
__attribute__((destructor)) static void p11_unload(void)
{
    hsm_unload();
}
