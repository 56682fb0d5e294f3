#!/usr/bin/python3
"""Classical mechanisms through PyKCS11 (driven by pykcs11.sh).

Usage: /usr/bin/python3 pykcs11_mech.py MODULE_PATH USER_PIN OUTDIR IS_CRATON

Logs in to the first slot with a token (already initialised by the caller)
and works on session objects only: RSA-2048 (SHA256-RSA-PKCS, RSA-PSS,
RSA-OAEP), EC P-256 (ECDSA), Ed25519 / Ed448 (EdDSA), X25519 (ECDH), AES-256
(GCM, CTR), SHA-256 / SHA3-256 digests and C_GenerateRandom.  Results are
checked in the token (C_Verify, decrypt round trips, a tampered GCM tag) and
independently with hashlib and, when installed, python3-cryptography.  The
public keys (DER SPKI) and signatures go to OUTDIR for pykcs11.sh to verify
with the openssl CLI.  IS_CRATON=0 (SoftHSMv2) skips what SoftHSM 2.6 lacks.

Output: one line per check, "ok - DESCRIPTION", "not ok - DESCRIPTION"
(followed by "#   detail" lines) or "ok - DESCRIPTION # SKIP REASON",
unnumbered (pykcs11.sh numbers them), and "DONE" last.  Exit status 0 when
every check passed, 1 otherwise, 2 on a usage error.
"""
import hashlib
import os
import struct
import sys
import traceback

import PyKCS11
from PyKCS11 import (
    CKA_CLASS, CKA_DECRYPT, CKA_DERIVE, CKA_EC_PARAMS, CKA_EC_POINT, CKA_ENCRYPT,
    CKA_EXTRACTABLE, CKA_KEY_TYPE, CKA_MODULUS, CKA_MODULUS_BITS, CKA_PRIVATE,
    CKA_PUBLIC_EXPONENT, CKA_SENSITIVE, CKA_SIGN, CKA_TOKEN, CKA_VALUE,
    CKA_VALUE_LEN, CKA_VERIFY, CKF_RW_SESSION, CKF_SERIAL_SESSION, CKG_MGF1_SHA1,
    CKG_MGF1_SHA256, CKK_AES, CKK_EC, CKK_EC_EDWARDS, CKK_EC_MONTGOMERY,
    CKK_GENERIC_SECRET, CKK_RSA, CKM_AES_CTR, CKM_AES_KEY_GEN, CKM_ECDSA,
    CKM_ECDSA_SHA256, CKM_EC_EDWARDS_KEY_PAIR_GEN, CKM_EC_KEY_PAIR_GEN,
    CKM_EC_MONTGOMERY_KEY_PAIR_GEN, CKM_EDDSA, CKM_RSA_PKCS_KEY_PAIR_GEN,
    CKM_RSA_PKCS_PSS, CKM_SHA256, CKM_SHA256_RSA_PKCS, CKM_SHA256_RSA_PKCS_PSS,
    CKM_SHA3_256, CKM_SHA_1, CKO_PRIVATE_KEY, CKO_PUBLIC_KEY, CKO_SECRET_KEY,
    CKR_ATTRIBUTE_SENSITIVE, CKR_ENCRYPTED_DATA_INVALID, CKR_OK, PyKCS11Error,
)

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, x25519
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    HAVE_CRYPTOGRAPHY = True
except ImportError:  # python3-cryptography not installed: token-only checks
    HAVE_CRYPTOGRAPHY = False

CKA_PUBLIC_KEY_INFO = 0x129
CKD_NULL = 1
NO_CRYPTOGRAPHY = "python3-cryptography not installed"
NOT_SOFTHSM = "SoftHSM 2.6 lacks it"

failures = 0


def report(ok, desc, detail=None):
    global failures
    if ok:
        print("ok - " + desc)
    else:
        failures += 1
        print("not ok - " + desc)
        for line in (detail or "").splitlines():
            print("#   " + line)
    sys.stdout.flush()


def skip(desc, reason):
    print("ok - %s # SKIP %s" % (desc, reason))


def step(desc, fn, craton_only=None, needs_cryptography=False):
    """Runs fn (true: pass); an exception is a failure with its text.
    craton_only: the reason to skip for another module."""
    if craton_only and not IS_CRATON:
        skip(desc, craton_only)
        return
    if needs_cryptography and not HAVE_CRYPTOGRAPHY:
        skip(desc, NO_CRYPTOGRAPHY)
        return
    try:
        ok = fn()
        report(bool(ok), desc, None if ok else "returned %r" % (ok,))
    except PyKCS11Error as e:
        report(False, desc, "PyKCS11Error: %s" % e)
    except Exception:  # pylint: disable=broad-except
        report(False, desc, traceback.format_exc())


def error_of(fn):
    """The CKR_ value fn raises (CKR_OK when it raises nothing)."""
    try:
        fn()
    except PyKCS11Error as e:
        return e.value
    return CKR_OK


# --- DER helpers (for the files openssl reads) -------------------------------

def tlv(tag, value):
    n = len(value)
    if n < 0x80:
        ln = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        ln = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + ln + value


def der_int(b):
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80:
        b = b"\0" + b
    return tlv(0x02, b)


def octet_string_content(der):
    """The content of a DER OCTET STRING; raises if der is not one."""
    if len(der) < 2 or der[0] != 0x04:
        raise ValueError("not a DER OCTET STRING: %s" % der.hex())
    if der[1] < 0x80:
        hl, n = 2, der[1]
    else:
        k = der[1] & 0x7F
        hl, n = 2 + k, int.from_bytes(der[2:2 + k], "big")
    if hl + n != len(der):
        raise ValueError("bad DER OCTET STRING length: %s" % der.hex())
    return der[hl:]


def spki(alg_id, key_bits):
    return tlv(0x30, tlv(0x30, alg_id) + tlv(0x03, b"\0" + key_bits))


OID_RSA = tlv(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00"
OID_EC_PUBLIC_KEY = tlv(0x06, bytes.fromhex("2a8648ce3d0201"))
P256 = bytes.fromhex("06082a8648ce3d030107")
ED25519 = bytes.fromhex("06032b6570")
ED448 = bytes.fromhex("06032b6571")
X25519 = bytes.fromhex("06032b656e")


def ecdsa_der(rs):
    n = len(rs) // 2
    return tlv(0x30, der_int(rs[:n]) + der_int(rs[n:]))


def write(name, data):
    with open(os.path.join(OUTDIR, name), "wb") as f:
        f.write(data)


def attr(h, a):
    return bytes(S.getAttributeValue(h, [a], allAsBinary=True)[0])


# --- the checks --------------------------------------------------------------

def main():
    global S
    lib = PyKCS11.PyKCS11Lib()
    lib.load(MODULE)
    slots = lib.getSlotList(tokenPresent=True)
    S = lib.openSession(slots[0], CKF_SERIAL_SESSION | CKF_RW_SESSION)
    S.login(PIN)
    report(True, "PyKCS11: module loaded, R/W session opened on the first token, user logged in")

    data = os.urandom(1500)
    bad = data + b"!"
    write("data.bin", data)
    dgst = hashlib.sha256(data).digest()
    write("data.sha256", dgst)
    k = {}

    # RSA-2048
    def rsa_gen():
        k["rsa_pub"], k["rsa_priv"] = S.generateKeyPair(
            [(CKA_CLASS, CKO_PUBLIC_KEY), (CKA_KEY_TYPE, CKK_RSA), (CKA_TOKEN, False),
             (CKA_MODULUS_BITS, 2048), (CKA_PUBLIC_EXPONENT, (1, 0, 1)),
             (CKA_VERIFY, True), (CKA_ENCRYPT, True)],
            [(CKA_CLASS, CKO_PRIVATE_KEY), (CKA_KEY_TYPE, CKK_RSA), (CKA_TOKEN, False),
             (CKA_PRIVATE, True), (CKA_SENSITIVE, True), (CKA_SIGN, True), (CKA_DECRYPT, True)],
            mecha=PyKCS11.Mechanism(CKM_RSA_PKCS_KEY_PAIR_GEN))
        n = attr(k["rsa_pub"], CKA_MODULUS)
        e = attr(k["rsa_pub"], CKA_PUBLIC_EXPONENT)
        k["rsa_n"], k["rsa_e"] = int.from_bytes(n, "big"), int.from_bytes(e, "big")
        k["rsa_spki"] = spki(OID_RSA, tlv(0x30, der_int(n) + der_int(e)))
        write("rsa.spki.der", k["rsa_spki"])
        return len(n) == 256 and n[0] & 0x80 and k["rsa_e"] == 65537
    step("RSA-2048 C_GenerateKeyPair (session keys): 2048-bit modulus, exponent 65537", rsa_gen)
    step("RSA public key: CKA_PUBLIC_KEY_INFO is the DER SPKI of its modulus and exponent",
         lambda: attr(k["rsa_pub"], CKA_PUBLIC_KEY_INFO) == k["rsa_spki"],
         craton_only="SoftHSM 2.6 has no CKA_PUBLIC_KEY_INFO")

    def rsa_sign(mech, name, msg=data):
        sig = bytes(S.sign(k["rsa_priv"], msg, mech))
        write(name, sig)
        return len(sig) == 256 and S.verify(k["rsa_pub"], msg, sig, mech) \
            and not S.verify(k["rsa_pub"], bad if msg is data else hashlib.sha256(bad).digest(), sig, mech)
    step("SHA256-RSA-PKCS: C_Sign, C_Verify accepts it, rejects it for other data",
         lambda: rsa_sign(PyKCS11.Mechanism(CKM_SHA256_RSA_PKCS), "rsa-sha256.sig"))
    pss = PyKCS11.RSA_PSS_Mechanism(CKM_SHA256_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA256, 32)
    step("SHA256-RSA-PKCS-PSS (RSA_PSS_Mechanism: SHA-256, MGF1-SHA256, salt 32): sign, verify, reject",
         lambda: rsa_sign(pss, "rsa-pss.sig"))
    pss_raw = PyKCS11.RSA_PSS_Mechanism(CKM_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA256, 32)
    step("RSA-PKCS-PSS over a SHA-256 digest: sign, verify, reject",
         lambda: rsa_sign(pss_raw, "rsa-pss-digest.sig", dgst))

    def oaep_round_trip(mech, msg):
        ct = bytes(S.encrypt(k["rsa_pub"], msg, mech))
        return len(ct) == 256 and bytes(S.decrypt(k["rsa_priv"], ct, mech)) == msg
    secret = os.urandom(32)
    oaep1 = PyKCS11.RSAOAEPMechanism(CKM_SHA_1, CKG_MGF1_SHA1)
    step("RSA-OAEP (SHA-1): C_Encrypt with the public key handle, C_Decrypt gives it back",
         lambda: oaep_round_trip(oaep1, secret))
    oaep256 = PyKCS11.RSAOAEPMechanism(CKM_SHA256, CKG_MGF1_SHA256)
    step("RSA-OAEP (SHA-256, MGF1-SHA256): encrypt with the public key handle, decrypt",
         lambda: oaep_round_trip(oaep256, secret), craton_only=NOT_SOFTHSM + " (OAEP is SHA-1 only there)")
    oaep_label = PyKCS11.RSAOAEPMechanism(CKM_SHA256, CKG_MGF1_SHA256, b"craton label")
    step("RSA-OAEP (SHA-256) with a label (CKZ_DATA_SPECIFIED): round trip",
         lambda: oaep_round_trip(oaep_label, secret), craton_only=NOT_SOFTHSM)

    def oaep_from_cryptography(hash_cls, mech, label):
        pub = RSAPublicNumbers(k["rsa_e"], k["rsa_n"]).public_key()
        ct = pub.encrypt(secret, padding.OAEP(mgf=padding.MGF1(hash_cls()), algorithm=hash_cls(), label=label))
        return bytes(S.decrypt(k["rsa_priv"], ct, mech)) == secret
    step("RSA-OAEP (SHA-1): the token decrypts python-cryptography's ciphertext",
         lambda: oaep_from_cryptography(hashes.SHA1, oaep1, None), needs_cryptography=True)
    step("RSA-OAEP (SHA-256, label): the token decrypts python-cryptography's ciphertext",
         lambda: oaep_from_cryptography(hashes.SHA256, oaep_label, b"craton label"),
         craton_only=NOT_SOFTHSM, needs_cryptography=True)

    def oaep_wrong_label():
        ct = bytes(S.encrypt(k["rsa_pub"], secret, oaep_label))
        other = PyKCS11.RSAOAEPMechanism(CKM_SHA256, CKG_MGF1_SHA256, b"other label")
        return error_of(lambda: S.decrypt(k["rsa_priv"], ct, other)) == CKR_ENCRYPTED_DATA_INVALID
    step("RSA-OAEP: decrypting with another label fails with CKR_ENCRYPTED_DATA_INVALID",
         oaep_wrong_label, craton_only=NOT_SOFTHSM)

    # EC P-256
    def ec_gen():
        k["ec_pub"], k["ec_priv"] = S.generateKeyPair(
            [(CKA_CLASS, CKO_PUBLIC_KEY), (CKA_KEY_TYPE, CKK_EC), (CKA_TOKEN, False),
             (CKA_EC_PARAMS, P256), (CKA_VERIFY, True)],
            [(CKA_CLASS, CKO_PRIVATE_KEY), (CKA_KEY_TYPE, CKK_EC), (CKA_TOKEN, False),
             (CKA_PRIVATE, True), (CKA_SENSITIVE, True), (CKA_SIGN, True)],
            mecha=PyKCS11.Mechanism(CKM_EC_KEY_PAIR_GEN))
        point = octet_string_content(attr(k["ec_pub"], CKA_EC_POINT))
        k["ec_spki"] = spki(OID_EC_PUBLIC_KEY + P256, point)
        write("ec.spki.der", k["ec_spki"])
        return len(point) == 65 and point[0] == 4
    step("EC P-256 C_GenerateKeyPair: CKA_EC_POINT is a DER OCTET STRING of an uncompressed point", ec_gen)
    step("EC public key: CKA_PUBLIC_KEY_INFO is its DER SPKI",
         lambda: attr(k["ec_pub"], CKA_PUBLIC_KEY_INFO) == k["ec_spki"],
         craton_only="SoftHSM 2.6 has no CKA_PUBLIC_KEY_INFO")

    def ecdsa(mech, msg, other, name):
        sig = bytes(S.sign(k["ec_priv"], msg, mech))
        write(name, ecdsa_der(sig))
        return len(sig) == 64 and S.verify(k["ec_pub"], msg, sig, mech) \
            and not S.verify(k["ec_pub"], other, sig, mech)
    step("ECDSA over a SHA-256 digest: 64-byte r||s, verify, reject",
         lambda: ecdsa(PyKCS11.Mechanism(CKM_ECDSA), dgst, hashlib.sha256(bad).digest(), "ecdsa.der"))
    step("ECDSA-SHA256: sign, verify, reject",
         lambda: ecdsa(PyKCS11.Mechanism(CKM_ECDSA_SHA256), data, bad, "ecdsa-sha256.der"),
         craton_only=NOT_SOFTHSM)

    # EdDSA with the curve given by OID (pkcs11-tool uses the PrintableString form)
    def eddsa(name, oid, raw_len, sig_len):
        pub, priv = S.generateKeyPair(
            [(CKA_CLASS, CKO_PUBLIC_KEY), (CKA_KEY_TYPE, CKK_EC_EDWARDS), (CKA_TOKEN, False),
             (CKA_EC_PARAMS, oid), (CKA_VERIFY, True)],
            [(CKA_CLASS, CKO_PRIVATE_KEY), (CKA_KEY_TYPE, CKK_EC_EDWARDS), (CKA_TOKEN, False),
             (CKA_PRIVATE, True), (CKA_SENSITIVE, True), (CKA_SIGN, True)],
            mecha=PyKCS11.Mechanism(CKM_EC_EDWARDS_KEY_PAIR_GEN))
        raw = octet_string_content(attr(pub, CKA_EC_POINT))
        write(name + ".spki.der", spki(oid, raw))
        mech = PyKCS11.Mechanism(CKM_EDDSA)
        sig = bytes(S.sign(priv, data, mech))
        write(name + ".sig", sig)
        return len(raw) == raw_len and len(sig) == sig_len and S.verify(pub, data, sig, mech) \
            and not S.verify(pub, bad, sig, mech)
    step("Ed25519 (CKA_EC_PARAMS the OID 1.3.101.112): key pair, 32-byte point, CKM_EDDSA sign, verify, reject",
         lambda: eddsa("ed25519", ED25519, 32, 64))
    step("Ed448 (OID 1.3.101.113): key pair, 57-byte point, CKM_EDDSA sign, verify, reject",
         lambda: eddsa("ed448", ED448, 57, 114))

    # X25519
    def x25519_derive():
        pub, priv = S.generateKeyPair(
            [(CKA_CLASS, CKO_PUBLIC_KEY), (CKA_KEY_TYPE, CKK_EC_MONTGOMERY), (CKA_TOKEN, False),
             (CKA_EC_PARAMS, X25519), (CKA_DERIVE, True)],
            [(CKA_CLASS, CKO_PRIVATE_KEY), (CKA_KEY_TYPE, CKK_EC_MONTGOMERY), (CKA_TOKEN, False),
             (CKA_PRIVATE, True), (CKA_SENSITIVE, True), (CKA_DERIVE, True)],
            mecha=PyKCS11.Mechanism(CKM_EC_MONTGOMERY_KEY_PAIR_GEN))
        tok_pub = octet_string_content(attr(pub, CKA_EC_POINT))
        peer = x25519.X25519PrivateKey.generate()
        peer_raw = peer.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        secret_key = S.deriveKey(
            priv,
            [(CKA_CLASS, CKO_SECRET_KEY), (CKA_KEY_TYPE, CKK_GENERIC_SECRET), (CKA_TOKEN, False),
             (CKA_VALUE_LEN, 32), (CKA_SENSITIVE, False), (CKA_EXTRACTABLE, True)],
            PyKCS11.ECDH1_DERIVE_Mechanism(peer_raw, CKD_NULL))
        shared = attr(secret_key, CKA_VALUE)
        return len(tok_pub) == 32 and shared == peer.exchange(x25519.X25519PublicKey.from_public_bytes(tok_pub))
    step("X25519 key pair, ECDH1_DERIVE (CKD_NULL, raw peer key): the secret equals python-cryptography's",
         x25519_derive, craton_only=NOT_SOFTHSM, needs_cryptography=True)

    # AES-256: generated (sensitive) and imported (known value)
    def aes_gen():
        k["aes"] = S.generateKey(
            [(CKA_CLASS, CKO_SECRET_KEY), (CKA_KEY_TYPE, CKK_AES), (CKA_TOKEN, False), (CKA_VALUE_LEN, 32),
             (CKA_SENSITIVE, True), (CKA_ENCRYPT, True), (CKA_DECRYPT, True)],
            mecha=PyKCS11.Mechanism(CKM_AES_KEY_GEN))
        tmpl = PyKCS11.LowLevel.ckattrlist(1)
        tmpl[0].SetType(CKA_VALUE)
        rv = S.lib.C_GetAttributeValue(S.session, k["aes"], tmpl)
        return S.getAttributeValue(k["aes"], [CKA_VALUE_LEN])[0] == 32 and rv == CKR_ATTRIBUTE_SENSITIVE
    step("AES-256 C_GenerateKey: CKA_VALUE_LEN 32, CKA_VALUE refused with CKR_ATTRIBUTE_SENSITIVE", aes_gen)
    iv, aad, msg = os.urandom(12), b"header: craton", os.urandom(100)

    def gcm_round_trip():
        mech = PyKCS11.AES_GCM_Mechanism(iv, aad, 128)
        ct = bytes(S.encrypt(k["aes"], msg, mech))
        k["gcm_ct"] = ct
        return len(ct) == len(msg) + 16 and bytes(S.decrypt(k["aes"], ct, mech)) == msg
    step("AES-GCM (AES_GCM_Mechanism: 96-bit IV, AAD, 128-bit tag): round trip, ciphertext || tag", gcm_round_trip)

    def gcm_tamper():
        t = bytearray(k["gcm_ct"])
        t[-1] ^= 1
        rv = error_of(lambda: S.decrypt(k["aes"], bytes(t), PyKCS11.AES_GCM_Mechanism(iv, aad, 128)))
        rv2 = error_of(lambda: S.decrypt(k["aes"], k["gcm_ct"], PyKCS11.AES_GCM_Mechanism(iv, b"other", 128)))
        if IS_CRATON:
            return rv == CKR_ENCRYPTED_DATA_INVALID and rv2 == CKR_ENCRYPTED_DATA_INVALID
        return rv != CKR_OK and rv2 != CKR_OK  # SoftHSM 2.6: CKR_GENERAL_ERROR
    step("AES-GCM: a flipped tag bit, or other AAD, is refused (Craton: CKR_ENCRYPTED_DATA_INVALID)", gcm_tamper)

    key = os.urandom(32)

    def aes_import():
        k["aes_known"] = S.createObject(
            [(CKA_CLASS, CKO_SECRET_KEY), (CKA_KEY_TYPE, CKK_AES), (CKA_TOKEN, False), (CKA_VALUE, key),
             (CKA_ENCRYPT, True), (CKA_DECRYPT, True)])
        return S.getAttributeValue(k["aes_known"], [CKA_VALUE_LEN])[0] == 32
    step("AES-256 key with a known value: C_CreateObject, CKA_VALUE_LEN 32", aes_import)

    def gcm_vs_cryptography():
        mech = PyKCS11.AES_GCM_Mechanism(iv, aad, 128)
        ct = bytes(S.encrypt(k["aes_known"], msg, mech))
        ours = AESGCM(key).encrypt(iv, msg, aad)
        iv2 = os.urandom(12)
        theirs = AESGCM(key).encrypt(iv2, msg, aad)
        back = bytes(S.decrypt(k["aes_known"], theirs, PyKCS11.AES_GCM_Mechanism(iv2, aad, 128)))
        return ct == ours and AESGCM(key).decrypt(iv, ct, aad) == msg and back == msg
    step("AES-GCM equals python-cryptography's AESGCM both ways (encrypt and decrypt)",
         gcm_vs_cryptography, needs_cryptography=True)

    def ctr_vs_cryptography():
        cb = os.urandom(16)
        mech = PyKCS11.Mechanism(CKM_AES_CTR, struct.pack("@L", 128) + cb)  # CK_AES_CTR_PARAMS
        ct = bytes(S.encrypt(k["aes_known"], msg, mech))
        enc = Cipher(algorithms.AES(key), modes.CTR(cb)).encryptor()
        return ct == enc.update(msg) + enc.finalize() and bytes(S.decrypt(k["aes_known"], ct, mech)) == msg
    step("AES-CTR (128-bit counter block) equals python-cryptography's, and decrypts back",
         ctr_vs_cryptography, needs_cryptography=True)

    # digests, random
    def digests(mech, h):
        one = bytes(S.digest(data, PyKCS11.Mechanism(mech)))
        ds = S.digestSession(PyKCS11.Mechanism(mech))
        for i in range(0, len(data), 333):
            ds.update(data[i:i + 333])
        return one == h(data).digest() and bytes(ds.final()) == one
    step("SHA-256: C_Digest and C_DigestUpdate/Final equal hashlib", lambda: digests(CKM_SHA256, hashlib.sha256))
    step("SHA3-256: C_Digest and C_DigestUpdate/Final equal hashlib",
         lambda: digests(CKM_SHA3_256, hashlib.sha3_256), craton_only=NOT_SOFTHSM)

    def rnd():
        a, b = bytes(S.generateRandom(32)), bytes(S.generateRandom(32))
        return len(a) == 32 and len(b) == 32 and a != b
    step("C_GenerateRandom: 32 bytes, twice, different", rnd)

    S.logout()
    S.closeSession()


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.stderr.write(__doc__)
        sys.exit(2)
    MODULE, PIN, OUTDIR = sys.argv[1], sys.argv[2], sys.argv[3]
    IS_CRATON = sys.argv[4] == "1"
    S = None
    try:
        main()
    except Exception:  # pylint: disable=broad-except
        report(False, "PyKCS11: the script ran to its end", traceback.format_exc())
    print("DONE")
    sys.exit(1 if failures else 0)
