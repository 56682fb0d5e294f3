/*
 * The elliptic curves the module knows (P-256, P-384, P-521, secp256k1,
 * Ed25519, Ed448, X25519, X448): one table shared by key import
 * (keyimport.c) and key pair generation (mech/keygen.c), and the parsing of
 * CKA_EC_PARAMS that names one of them.
 */
#ifndef CRATON_OBJECT_CURVE_H
#define CRATON_OBJECT_CURVE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/util.h"
#include "object/attr.h"
#include "pkcs11/pkcs11.h"

#define CURVE_NAMES   3  /* accepted PrintableString names per curve, at most */
#define CURVE_OID_MAX 10 /* bytes of the longest OID DER (P-256) */

struct curve {
    /* CKK_EC, CKK_EC_EDWARDS or CKK_EC_MONTGOMERY */
    CK_KEY_TYPE kt;
    /* OpenSSL NID (CKK_EC: of the group, for EC_GROUP_new_by_curve_name) */
    int nid;
    /* OpenSSL group name (CKK_EC) or key type name (the others) */
    const char *name;
    /* CKK_EC: bytes of a field element and of the private scalar; the
     * others: bytes of the raw public and private keys */
    size_t len;
    /* DER of the OBJECT IDENTIFIER: the normalised CKA_EC_PARAMS */
    unsigned char oid[CURVE_OID_MAX];
    size_t oid_len;
    /* accepted PrintableString names (case-insensitive; NULL ends) */
    const char *names[CURVE_NAMES];
    /* in the approved set of fips_approved_only (FIPS 186-5 / SP 800-186:
     * P-256, P-384, P-521, Ed25519, Ed448; docs/mechanisms.md) */
    bool approved;
};

/* The curve a CKA_EC_PARAMS value names: the DER of a namedCurve OBJECT
 * IDENTIFIER or of a PKCS#11 3.0 PrintableString name (case-insensitive).
 * *out points into the static table (NULL on error).  Returns CKR_OK;
 * CKR_ATTRIBUTE_VALUE_INVALID when the value is malformed (not one DER TLV,
 * a bad OID encoding, a non-printable name, another tag);
 * CKR_CURVE_NOT_SUPPORTED when it is well formed but names no curve of the
 * table (another OID or name, explicit ecParameters, implicitlyCA).  The
 * caller checks the curve's key type. */
CK_RV curve_from_params(const struct attr *ec_params, const struct curve **out) WARN_UNUSED;

/* Is the curve of OpenSSL group / key type name (struct key's curve, a
 * struct curve's name) in the approved set?  False for NULL and for names
 * not in the table. */
bool curve_name_approved(const char *name);

/* Parses one DER TLV with a low tag number that spans exactly len bytes
 * (definite, minimal length of at most two octets): true with *tag, *val
 * (pointing into p) and *vlen set; false when p is not such a TLV. */
bool curve_der_tlv(const unsigned char *p, size_t len, unsigned char *tag,
                   const unsigned char **val, size_t *vlen) WARN_UNUSED;

#endif
