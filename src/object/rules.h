/*
 * The attribute rules of PKCS#11 3.2 (section 4, the per-class tables and
 * their footnotes) as one table per class / key type, and the checks that
 * create, generate, unwrap, derive, copy and set derive from it.
 *
 * Per attribute the table says: its kind (CK_BBOOL, CK_ULONG, bytes, UTF-8,
 * CK_DATE, attribute array, mechanism array), its default, and flags:
 * required at creation, may not be given at creation / generation / unwrap,
 * read-only after creation, false->true only / true->false only, secret
 * (unreadable when the object is sensitive or unextractable), maintained by
 * the module (CKA_LOCAL, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE,
 * CKA_KEY_GEN_MECHANISM, CKA_UNIQUE_ID).
 */
#ifndef CRATON_OBJECT_RULES_H
#define CRATON_OBJECT_RULES_H

#include <stdbool.h>

#include "object/attr.h"
#include "pkcs11/pkcs11.h"

/* How an object comes into being. */
enum rules_op {
    RULES_CREATE,   /* C_CreateObject: the template is the whole object */
    RULES_GENERATE, /* C_GenerateKey / C_GenerateKeyPair (each half) */
    RULES_UNWRAP,   /* C_UnwrapKey: CKA_VALUE comes from the wrapped blob */
    RULES_DERIVE,   /* C_DeriveKey, C_DecapsulateKey: CKA_VALUE from the mechanism */
};

/* Classes and key types we model.  CKR_OK when supported,
 * CKR_ATTRIBUTE_VALUE_INVALID otherwise.  (CKO_PROFILE is supported but only
 * the module creates profile objects.) */
CK_RV rules_class_supported(CK_OBJECT_CLASS cls, CK_KEY_TYPE key_type);

/*
 * Completes and checks the template of a new object in place.
 *  - For RULES_CREATE, CKA_CLASS is required (CKR_TEMPLATE_INCOMPLETE) and
 *    CKA_KEY_TYPE too for key classes; for the other ops the caller has put
 *    CKA_CLASS and CKA_KEY_TYPE into t already (from the mechanism), and a
 *    conflicting value given by the application is CKR_TEMPLATE_INCONSISTENT.
 *  - Every attribute must be valid for the class/key type
 *    (CKR_ATTRIBUTE_TYPE_INVALID), have a well-formed value for its kind
 *    (CKR_ATTRIBUTE_VALUE_INVALID: wrong size, a CK_BBOOL other than 0/1, a
 *    bad CK_DATE, ...), and be one the application may give for op
 *    (CKR_ATTRIBUTE_READ_ONLY for module-maintained ones, CKR_TEMPLATE_
 *    INCONSISTENT for e.g. CKA_VALUE in a generate template).
 *  - Required attributes for op must be present (CKR_TEMPLATE_INCOMPLETE).
 *  - Defaults are added for every absent attribute that has one, and the
 *    module-maintained ones are set: CKA_LOCAL (true only for GENERATE),
 *    CKA_KEY_GEN_MECHANISM (mech for GENERATE, CK_UNAVAILABLE_INFORMATION
 *    otherwise), CKA_ALWAYS_SENSITIVE / CKA_NEVER_EXTRACTABLE (for GENERATE
 *    and DERIVE/UNWRAP from the template's values and base_always_sensitive /
 *    base_never_extractable; false for CREATE).
 * Key-material validation (is this a valid RSA key?) is keyimport's job.
 */
CK_RV rules_complete_new(enum rules_op op, struct attrs *t, CK_MECHANISM_TYPE mech,
                         bool base_always_sensitive, bool base_never_extractable) WARN_UNUSED;

/*
 * C_SetAttributeValue: may changes (an application template) be applied to
 * an object with attributes obj?  CKR_ACTION_PROHIBITED when obj is not
 * CKA_MODIFIABLE; CKR_ATTRIBUTE_READ_ONLY for an attribute that cannot change
 * after creation, CKA_SENSITIVE true->false, CKA_EXTRACTABLE false->true,
 * CKA_COPYABLE false->true; CKR_ATTRIBUTE_TYPE_INVALID for an attribute the
 * class does not have; CKR_ATTRIBUTE_VALUE_INVALID for a malformed value.
 * Does not modify anything. */
CK_RV rules_check_set(const struct attrs *obj, const struct attrs *changes);

/*
 * C_CopyObject: as rules_check_set, but CKA_TOKEN, CKA_PRIVATE,
 * CKA_MODIFIABLE, CKA_DESTROYABLE may also be given, and the object itself
 * must be CKA_COPYABLE (CKR_ACTION_PROHIBITED).  Does not modify anything. */
CK_RV rules_check_copy(const struct attrs *obj, const struct attrs *changes);

/*
 * C_GetAttributeValue for one attribute type of an object: CKR_OK (readable),
 * CKR_ATTRIBUTE_SENSITIVE (a secret attribute of an object that is
 * CKA_SENSITIVE or not CKA_EXTRACTABLE), or CKR_ATTRIBUTE_TYPE_INVALID
 * (absent / not an attribute of this class). */
CK_RV rules_readable(const struct attrs *obj, CK_ATTRIBUTE_TYPE type);

/* Is type an attribute that objects of this class/key type can have? */
bool rules_known(CK_OBJECT_CLASS cls, CK_KEY_TYPE key_type, CK_ATTRIBUTE_TYPE type);

/* The name of an attribute kind for messages ("CK_BBOOL", "CK_ULONG", ...). */
const char *rules_kind_name(CK_ATTRIBUTE_TYPE type);

#endif
