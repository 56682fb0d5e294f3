#!/usr/bin/env bash
# Conditions are passed to check() as single-quoted strings and eval'ed there,
# so variables they use look unused/unexpanded to shellcheck.
# shellcheck disable=SC2016,SC2034,SC2317
# Classical mechanisms through OpenSC's pkcs11-tool, every result checked
# independently with the openssl CLI (or coreutils): key pair generation
# (RSA-2048/3072, EC P-256/P-384/P-521, secp256k1 when the module has it,
# Ed25519), signatures (RSA-PKCS, SHA-2 RSA-PKCS and PSS, ECDSA,
# EdDSA, HMAC) verified by openssl and by the token, RSA decryption of
# openssl's PKCS#1 v1.5 / OAEP ciphertexts, ECDH against an openssl peer,
# AES ECB/CBC/CBC-PAD against openssl enc, AES key wrap (RFC 3394 / 5649)
# against openssl's wrap ciphers, digests, random, --list-mechanisms and
# pkcs11-tool's own --test.
#
# Usage: tests/interop/mechanisms.sh MODULE_PATH
#
# MODULE_PATH may also be SoftHSMv2 (/usr/lib/softhsm/libsofthsm2.so): that
# validates the checks themselves; the ones needing what SoftHSM 2.6 lacks
# (ECDSA-SHA*, SHA-3, OAEP with SHA-2, KWP) are then reported as
# skipped.  Written against OpenSC 0.23 and OpenSSL 3.0.  TAP output.
set -u

if [ $# -ne 1 ]; then
    echo "usage: $0 MODULE_PATH" >&2
    exit 2
fi
MODULE=$1
case $MODULE in /*) ;; *) MODULE=$PWD/$MODULE ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
[ -r "$MODULE" ] || { echo "Bail out! module not found: $MODULE"; exit 1; }
command -v pkcs11-tool >/dev/null || { echo "Bail out! pkcs11-tool (OpenSC) not installed"; exit 1; }
command -v openssl >/dev/null || { echo "Bail out! openssl CLI not installed"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/craton-mechanisms.XXXXXX") || exit 1
trap 'cd / && rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
cd "$T" || exit 1
ALL_STDERR=$T/all_stderr
: >"$ALL_STDERR"
# shellcheck source=tests/interop/lib.sh
. "$HERE/lib.sh"

SO_PIN=12345678
USER_PIN=87654321
setup_module "$T"
U=(--login --pin "$USER_PIN")
NOT_SOFTHSM="SoftHSM 2.6 lacks it"

# keypair ID LABEL KEY_TYPE [ARGS...]: pkcs11-tool --keypairgen.
keypair() {
    local id=$1 label=$2 kt=$3
    shift 3
    run "${U[@]}" --keypairgen --key-type "$kt" --id "$id" --label "$label" "$@"
}
# osslv DESCRIPTION ARGS...: openssl ARGS must print "Verified OK" or
# "Signature Verified Successfully".  If the step before (the token making
# the signature) failed, that step is what the failure shows.
osslv() {
    local desc=$1 prev=("$CMD" "$RC" "$OUT" "$ERR")
    shift
    xrun openssl "$@"
    if [ "${prev[1]}" != 0 ]; then
        CMD=${prev[0]} RC=${prev[1]} OUT=${prev[2]} ERR=${prev[3]}
        check "$desc" 'false # the token step failed'
    else
        check "$desc" '[ $RC -eq 0 ] && has "^(Verified OK|Signature Verified Successfully)$"'
    fi
}
# same FILE1 FILE2: both exist, are non-empty and equal.
same() { [ -s "$1" ] && [ -s "$2" ] && cmp -s "$1" "$2"; }
size_is() { [ "$(stat -c %s "$1" 2>/dev/null)" = "$2" ]; }
hex() { od -An -v -tx1 "$1" | tr -d ' \n'; }
# flip IN OUT: OUT is IN with the lowest bit of its last byte inverted.
flip() { "$PY" -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 1; open(sys.argv[2], "wb").write(b)' "$1" "$2"; }
# token_says_valid / token_says_invalid: the last pkcs11-tool --verify.
# (OpenSC 0.23 exits 0 even for an invalid signature: the text decides.)
token_says_valid() { [ "$RC" -eq 0 ] && has "^Signature is valid$" && hasnt "Invalid signature"; }
token_says_invalid() { has "^Invalid signature$" && hasnt "Signature is valid"; }

# ec_spki LABEL FILE: the EC public key LABEL as PEM, built from the
# EC_POINT and EC_PARAMS that --list-objects shows (OpenSC 0.23's
# --read-object cannot export P-384 keys: "cannot create EVP_PKEY").
ec_spki() {
    local pt par
    run --list-objects --type pubkey
    read -r pt par < <(printf '%s\n' "$OUT" | awk -v l="$1" '
        /^[A-Z][a-z]+ (Key )?Object/ { pt = ""; par = "" }
        $1 == "EC_POINT:" { pt = $2 }
        $1 == "EC_PARAMS:" { par = $2 }
        $1 == "label:" && $2 == l { print pt, par; exit }')
    rm -f "$2" "$2.der"
    if [ -z "${pt:-}" ] || [ -z "${par:-}" ]; then RC=1; return 0; fi
    "$PY" - "$pt" "$par" "$2.der" <<'PYEOF' && openssl pkey -pubin -inform DER -in "$2.der" -out "$2" 2>>"$T/err" || RC=1
import sys
pt, par = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2])
def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b
def tlv(tag, v):
    return bytes([tag]) + der_len(len(v)) + v
# CKA_EC_POINT: a DER OCTET STRING (or, from some modules, the raw point)
if pt[0] == 4 and len(pt) > 2:
    if pt[1] < 0x80:
        hl, n = 2, pt[1]
    else:
        k = pt[1] & 0x7F
        hl, n = 2 + k, int.from_bytes(pt[2:2 + k], "big")
    if hl + n == len(pt):
        pt = pt[hl:]
alg = tlv(0x30, tlv(0x06, bytes.fromhex("2a8648ce3d0201")) + par)
open(sys.argv[3], "wb").write(tlv(0x30, alg + tlv(0x03, b"\x00" + pt)))
PYEOF
}

# Test material made by the host's tools.
head -c 1000 /dev/urandom >data
{ cat data; printf 'x'; } >data.bad
head -c 100 /dev/urandom >small
head -c 40 /dev/urandom >msg40
head -c 5000 /dev/urandom >big # pkcs11-tool goes multi-part (Update/Final) from 1 KiB on
for h in sha1 sha256 sha384 sha512; do
    openssl dgst -"$h" -binary -out "$h.bin" data
    openssl dgst -"$h" -binary -out "$h.bad" data.bad
done

init_token "Mechanisms" "$SO_PIN" "$USER_PIN"
check "$MODULE_NAME: token initialised and user PIN set" '[ $RC -eq 0 ]'

# ---------------------------------------------------------------------------
# 1. --list-mechanisms: names and flags of what follows
run -M
check "--list-mechanisms succeeds" '[ $RC -eq 0 ] && has "^Supported mechanisms:$"'
MECHS=(
    "RSA-PKCS-KEY-PAIR-GEN|generate_key_pair"
    "RSA-PKCS|encrypt|decrypt|sign|verify"
    "RSA-PKCS-OAEP|encrypt|decrypt"
    "RSA-PKCS-PSS|sign|verify"
    "SHA256-RSA-PKCS|sign|verify"
    "SHA256-RSA-PKCS-PSS|sign|verify"
    "SHA512-RSA-PKCS|sign|verify"
    "SHA384-RSA-PKCS-PSS|sign|verify"
    "ECDSA-KEY-PAIR-GEN|generate_key_pair|EC F_P|EC OID|EC uncompressed"
    "ECDSA|sign|verify|EC F_P|EC OID|EC uncompressed"
    "ECDH1-DERIVE|derive"
    "EC-EDWARDS-KEY-PAIR-GEN|generate_key_pair"
    "EDDSA|sign|verify"
    "AES-KEY-GEN|generate"
    "AES-ECB|encrypt|decrypt"
    "AES-CBC|encrypt|decrypt"
    "AES-CBC-PAD|encrypt|decrypt"
    "AES-KEY-WRAP|wrap|unwrap"
    "GENERIC-SECRET-KEY-GEN|generate"
    "SHA256-HMAC|sign|verify"
    "SHA512-HMAC|sign|verify"
    "SHA-1|digest"
    "SHA256|digest"
    "SHA384|digest"
    "SHA512|digest"
)
CRATON_MECHS=(
    "ECDSA-SHA256|sign|verify|EC F_P|EC OID|EC uncompressed"
    "ECDSA-SHA384|sign|verify"
    "ECDSA-SHA512|sign|verify"
    "EC-MONTGOMERY-KEY-PAIR-GEN|generate_key_pair"
    "mechtype-0x210B|wrap|unwrap"
    "SHA3-256|digest"
)
for spec in "${MECHS[@]}"; do
    IFS='|' read -r -a m <<<"$spec"
    f=${spec#*|}
    check "-M: ${m[0]} with ${f//|/, }" 'mech_flags "${m[@]}"'
done
for spec in "${CRATON_MECHS[@]}"; do
    IFS='|' read -r -a m <<<"$spec"
    f=${spec#*|}
    if only_craton "-M: ${m[0]} with ${f//|/, }" "$NOT_SOFTHSM"; then
        check "-M: ${m[0]} with ${f//|/, }" 'mech_flags "${m[@]}"'
    fi
done

# ---------------------------------------------------------------------------
# 2. EC: P-256, P-384, P-521, secp256k1 (optional), ECDSA and ECDH
PRIV_ACCESS='Access: +sensitive, always sensitive, never extractable, local$'
keypair 10 p256 EC:prime256v1
check "P-256 --keypairgen (EC_POINT a DER OCTET STRING of 65 bytes, EC_PARAMS the prime256v1 OID)" \
    '[ $RC -eq 0 ] && has "^Key pair generated" && has "^Public Key Object; EC +EC_POINT 256 bits" && has "EC_PARAMS: +06082a8648ce3d030107"'
check "P-256 private key: sign and derive usage; sensitive, always sensitive, never extractable, local" \
    'has "Usage: .*sign" && has "Usage: .*derive" && has "$PRIV_ACCESS"'
export_pubkey 10 p256.pem
check "P-256 public key exported (--read-object --type pubkey) as a prime256v1 SPKI openssl reads" \
    '[ $RC -eq 0 ] && openssl pkey -pubin -in p256.pem -noout -text 2>/dev/null | grep -q "ASN1 OID: prime256v1"'
run "${U[@]}" --sign -m ECDSA --id 10 -i sha256.bin -o p256.rs
check "ECDSA (P-256) over a SHA-256 digest gives a 64-byte r||s" '[ $RC -eq 0 ] && size_is p256.rs 64'
run "${U[@]}" --sign -m ECDSA --id 10 -i sha256.bin -o p256.der --signature-format openssl
osslv "ECDSA (P-256) signature verified by openssl dgst -sha256" \
    dgst -sha256 -verify p256.pem -signature p256.der data
run "${U[@]}" --verify -m ECDSA --id 10 -i sha256.bin --signature-file p256.rs
check "ECDSA (P-256): the token verifies its signature" 'token_says_valid'
run "${U[@]}" --verify -m ECDSA --id 10 -i sha256.bad --signature-file p256.rs
check "ECDSA (P-256): the token rejects it for other data" 'token_says_invalid'
if only_craton "ECDSA-SHA256 (P-256) signature verified by openssl and by the token" "$NOT_SOFTHSM"; then
    run "${U[@]}" --sign -m ECDSA-SHA256 --id 10 -i data -o p256s.der --signature-format openssl
    osslv "ECDSA-SHA256 (P-256) signature verified by openssl dgst -sha256" \
        dgst -sha256 -verify p256.pem -signature p256s.der data
    run "${U[@]}" --sign -m ECDSA-SHA256 --id 10 -i data -o p256s.rs
    run "${U[@]}" --verify -m ECDSA-SHA256 --id 10 -i data --signature-file p256s.rs
    check "ECDSA-SHA256 (P-256): the token verifies its signature" 'token_says_valid'
fi

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out peer256.pem 2>/dev/null
openssl pkey -in peer256.pem -pubout -outform DER -out peer256.der
run "${U[@]}" --derive -m ECDH1-DERIVE --id 10 -i peer256.der -o ecdh256.tok
check "ECDH1-DERIVE (P-256, raw peer point, CKD_NULL) with an openssl peer key: a 32-byte secret" \
    '[ $RC -eq 0 ] && size_is ecdh256.tok 32'
xrun openssl pkeyutl -derive -inkey peer256.pem -peerkey p256.pem -out ecdh256.ossl
check "ECDH1-DERIVE (P-256): the secret equals openssl pkeyutl -derive's" 'same ecdh256.tok ecdh256.ossl'

keypair 11 p384 EC:secp384r1
check "P-384 --keypairgen (EC_POINT 384 bits, EC_PARAMS the secp384r1 OID)" \
    '[ $RC -eq 0 ] && has "^Public Key Object; EC +EC_POINT 384 bits" && has "EC_PARAMS: +06052b81040022" && has "$PRIV_ACCESS"'
ec_spki p384 p384.pem
check "P-384 public key (from --list-objects) read by openssl as secp384r1" \
    '[ $RC -eq 0 ] && openssl pkey -pubin -in p384.pem -noout -text 2>/dev/null | grep -q "ASN1 OID: secp384r1"'
run "${U[@]}" --sign -m ECDSA --id 11 -i sha384.bin -o p384.der --signature-format openssl
osslv "ECDSA (P-384) over a SHA-384 digest verified by openssl dgst -sha384" \
    dgst -sha384 -verify p384.pem -signature p384.der data
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out peer384.pem 2>/dev/null
openssl pkey -in peer384.pem -pubout -outform DER -out peer384.der
run "${U[@]}" --derive -m ECDH1-DERIVE --id 11 -i peer384.der -o ecdh384.tok
check "ECDH1-DERIVE (P-384): a 48-byte secret" '[ $RC -eq 0 ] && size_is ecdh384.tok 48'
xrun openssl pkeyutl -derive -inkey peer384.pem -peerkey p384.pem -out ecdh384.ossl
check "ECDH1-DERIVE (P-384): the secret equals openssl's" 'same ecdh384.tok ecdh384.ossl'
if only_craton "ECDSA-SHA384 (P-384) signature verified by openssl" "$NOT_SOFTHSM"; then
    run "${U[@]}" --sign -m ECDSA-SHA384 --id 11 -i data -o p384s.der --signature-format openssl
    osslv "ECDSA-SHA384 (P-384) signature verified by openssl" dgst -sha384 -verify p384.pem -signature p384s.der data
fi

keypair 12 p521 EC:secp521r1
check "P-521 --keypairgen (EC_PARAMS the secp521r1 OID)" \
    '[ $RC -eq 0 ] && has "^Public Key Object; EC +EC_POINT" && has "EC_PARAMS: +06052b81040023" && has "$PRIV_ACCESS"'
export_pubkey 12 p521.pem
check "P-521 public key exported as a secp521r1 SPKI" \
    '[ $RC -eq 0 ] && openssl pkey -pubin -in p521.pem -noout -text 2>/dev/null | grep -q "ASN1 OID: secp521r1"'
run "${U[@]}" --sign -m ECDSA --id 12 -i sha512.bin -o p521.rs
check "ECDSA (P-521) over a SHA-512 digest gives a 132-byte r||s" '[ $RC -eq 0 ] && size_is p521.rs 132'
run "${U[@]}" --sign -m ECDSA --id 12 -i sha512.bin -o p521.der --signature-format openssl
osslv "ECDSA (P-521) verified by openssl dgst -sha512" dgst -sha512 -verify p521.pem -signature p521.der data
if only_craton "ECDSA-SHA512 (P-521) signature verified by openssl" "$NOT_SOFTHSM"; then
    run "${U[@]}" --sign -m ECDSA-SHA512 --id 12 -i data -o p521s.der --signature-format openssl
    osslv "ECDSA-SHA512 (P-521) signature verified by openssl" dgst -sha512 -verify p521.pem -signature p521s.der data
fi

keypair 13 k256 EC:secp256k1
if [ "$RC" -ne 0 ] && has "CKR_CURVE_NOT_SUPPORTED|CKR_DOMAIN_PARAMS_INVALID"; then
    skip "secp256k1 key pair, ECDSA verified by openssl" "the module does not support secp256k1 (optional)"
else
    check "secp256k1 --keypairgen (EC_PARAMS the secp256k1 OID)" \
        '[ $RC -eq 0 ] && has "EC_PARAMS: +06052b8104000a"'
    export_pubkey 13 k256.pem
    run "${U[@]}" --sign -m ECDSA --id 13 -i sha256.bin -o k256.der --signature-format openssl
    osslv "ECDSA (secp256k1) verified by openssl" dgst -sha256 -verify k256.pem -signature k256.der data
fi

# ---------------------------------------------------------------------------
# 3. Ed25519 (OpenSC 0.23 has no Ed448 curve name; pykcs11.sh does Ed448)
keypair 14 ed25519 EC:edwards25519
check "Ed25519 --keypairgen (CKK_EC_EDWARDS; EC_PARAMS given as PrintableString \"edwards25519\")" \
    '[ $RC -eq 0 ] && has "^Private Key Object; EC_EDWARDS" && has "^Public Key Object; EC_EDWARDS" && has "$PRIV_ACCESS"'
export_pubkey 14 ed25519.pem
check "Ed25519 public key exported (OpenSC 0.23 writes PEM) and read by openssl as ED25519" \
    '[ $RC -eq 0 ] && openssl pkey -pubin -in ed25519.pem -noout -text 2>/dev/null | grep -q "^ED25519 Public-Key"'
run "${U[@]}" --sign -m EDDSA --id 14 -i data -o ed25519.sig
check "EDDSA (Ed25519) gives a 64-byte signature" '[ $RC -eq 0 ] && size_is ed25519.sig 64'
osslv "EDDSA (Ed25519) signature verified by openssl pkeyutl -verify -rawin" \
    pkeyutl -verify -pubin -inkey ed25519.pem -rawin -in data -sigfile ed25519.sig
run "${U[@]}" --verify -m EDDSA --id 14 -i data --signature-file ed25519.sig
check "EDDSA: the token verifies its signature" 'token_says_valid'
run "${U[@]}" --verify -m EDDSA --id 14 -i data.bad --signature-file ed25519.sig
check "EDDSA: the token rejects it for other data" 'token_says_invalid'
# No X25519 here: OpenSC 0.23 sends EC:curve25519's CKA_EC_PARAMS as the
# malformed DER 13 0b "curve25519" (length 11, 10 bytes follow), which a
# conforming module refuses (CKR_ATTRIBUTE_VALUE_INVALID); pykcs11.sh covers
# X25519.

# ---------------------------------------------------------------------------
# 4. pkcs11-tool's self test (digests, and RSA when RSA keys exist: below)
run --test "${U[@]}"
check "pkcs11-tool --test --login: exit 0, 'No errors', no ERR/failed lines, digests tested" \
    '[ $RC -eq 0 ] && has "^No errors" && hasnt "ERR" && hasnt "[Ff]ailed" && has "all 4 digest functions seem to work" && has "^  SHA256: OK"'

# ---------------------------------------------------------------------------
# 5. RSA-2048 and RSA-3072
keypair 01 rsa2048 rsa:2048
check "RSA-2048 --keypairgen" \
    '[ $RC -eq 0 ] && has "^Public Key Object; RSA 2048 bits" && has "Usage: .*decrypt.*sign" && has "$PRIV_ACCESS"'
export_pubkey 01 rsa2048.pem
check "RSA-2048 public key exported; openssl reads 2048 bits, exponent 65537" \
    '[ $RC -eq 0 ] && openssl pkey -pubin -in rsa2048.pem -noout -text 2>/dev/null | grep -q "^Public-Key: (2048 bit)" && openssl pkey -pubin -in rsa2048.pem -noout -text | grep -q "^Exponent: 65537"'
run "${U[@]}" --sign -m RSA-PKCS --id 01 -i small -o rsapkcs.sig
xrun openssl pkeyutl -verifyrecover -pubin -inkey rsa2048.pem -pkeyopt rsa_padding_mode:pkcs1 -in rsapkcs.sig -out rsapkcs.rec
check "RSA-PKCS signature of 100 raw bytes: openssl -verifyrecover returns them" \
    'size_is rsapkcs.sig 256 && same rsapkcs.rec small'
run "${U[@]}" --sign -m SHA256-RSA-PKCS --id 01 -i data -o rsa256.sig
osslv "SHA256-RSA-PKCS signature verified by openssl dgst -sha256" dgst -sha256 -verify rsa2048.pem -signature rsa256.sig data
run "${U[@]}" --verify -m SHA256-RSA-PKCS --id 01 -i data --signature-file rsa256.sig
check "SHA256-RSA-PKCS: the token verifies its signature" 'token_says_valid'
run "${U[@]}" --verify -m SHA256-RSA-PKCS --id 01 -i data.bad --signature-file rsa256.sig
check "SHA256-RSA-PKCS: the token rejects it for other data" 'token_says_invalid'
run "${U[@]}" --sign -m SHA256-RSA-PKCS --id 01 -i big -o rsabig.sig
osslv "SHA256-RSA-PKCS over 5000 bytes (C_SignUpdate/C_SignFinal) verified by openssl" \
    dgst -sha256 -verify rsa2048.pem -signature rsabig.sig big
run "${U[@]}" --verify -m SHA256-RSA-PKCS --id 01 -i big --signature-file rsabig.sig
check "SHA256-RSA-PKCS over 5000 bytes: the token verifies it (C_VerifyUpdate/C_VerifyFinal)" 'token_says_valid'
run "${U[@]}" --sign -m SHA256-RSA-PKCS-PSS --id 01 -i data -o pss256.sig
check "SHA256-RSA-PKCS-PSS: pkcs11-tool's defaults are SHA-256, MGF1-SHA256, salt 32" \
    '[ $RC -eq 0 ] && has "hashAlg=SHA256, mgf=MGF1-SHA256, salt_len=32"'
osslv "SHA256-RSA-PKCS-PSS signature verified by openssl (PSS, MGF1-SHA256, salt 32)" \
    dgst -sha256 -verify rsa2048.pem -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -signature pss256.sig data
run "${U[@]}" --verify -m SHA256-RSA-PKCS-PSS --id 01 -i data --signature-file pss256.sig
check "SHA256-RSA-PKCS-PSS: the token verifies its signature" 'token_says_valid'
run "${U[@]}" --sign -m RSA-PKCS-PSS --hash-algorithm SHA256 --mgf MGF1-SHA256 --id 01 -i sha256.bin -o pss.sig
osslv "RSA-PKCS-PSS over a SHA-256 digest verified by openssl pkeyutl" \
    pkeyutl -verify -pubin -inkey rsa2048.pem -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss \
    -pkeyopt rsa_pss_saltlen:32 -in sha256.bin -sigfile pss.sig

openssl pkeyutl -encrypt -pubin -inkey rsa2048.pem -pkeyopt rsa_padding_mode:pkcs1 -in msg40 -out pkcs1.ct
run "${U[@]}" --decrypt -m RSA-PKCS --id 01 -i pkcs1.ct -o pkcs1.pt
check "RSA-PKCS: the token decrypts openssl's PKCS1 v1.5 ciphertext" '[ $RC -eq 0 ] && same pkcs1.pt msg40'
openssl pkeyutl -encrypt -pubin -inkey rsa2048.pem -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha1 \
    -pkeyopt rsa_mgf1_md:sha1 -in msg40 -out oaep1.ct
run "${U[@]}" --decrypt -m RSA-PKCS-OAEP --hash-algorithm SHA-1 --mgf MGF1-SHA1 --id 01 -i oaep1.ct -o oaep1.pt
check "RSA-PKCS-OAEP (SHA-1, MGF1-SHA1, no label): the token decrypts openssl's ciphertext" \
    '[ $RC -eq 0 ] && same oaep1.pt msg40'
if only_craton "RSA-PKCS-OAEP (SHA-256, MGF1-SHA256): the token decrypts openssl's ciphertext" "$NOT_SOFTHSM (OAEP is SHA-1 only there)"; then
    openssl pkeyutl -encrypt -pubin -inkey rsa2048.pem -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 \
        -pkeyopt rsa_mgf1_md:sha256 -in msg40 -out oaep256.ct
    run "${U[@]}" --decrypt -m RSA-PKCS-OAEP --hash-algorithm SHA256 --mgf MGF1-SHA256 --id 01 -i oaep256.ct -o oaep256.pt
    check "RSA-PKCS-OAEP (SHA-256, MGF1-SHA256): the token decrypts openssl's ciphertext" \
        '[ $RC -eq 0 ] && same oaep256.pt msg40'
    run "${U[@]}" --decrypt -m RSA-PKCS-OAEP --hash-algorithm SHA256 --mgf MGF1-SHA256 --id 01 -i oaep1.ct -o oaep.x
    check "RSA-PKCS-OAEP: a SHA-1 ciphertext does not decrypt under SHA-256 parameters" \
        '[ $RC -ne 0 ] && has "CKR_ENCRYPTED_DATA_INVALID"'
fi

keypair 02 rsa3072 rsa:3072
check "RSA-3072 --keypairgen" '[ $RC -eq 0 ] && has "^Public Key Object; RSA 3072 bits" && has "$PRIV_ACCESS"'
export_pubkey 02 rsa3072.pem
check "RSA-3072 public key exported; openssl reads 3072 bits" \
    '[ $RC -eq 0 ] && openssl pkey -pubin -in rsa3072.pem -noout -text 2>/dev/null | grep -q "^Public-Key: (3072 bit)"'
run "${U[@]}" --sign -m SHA512-RSA-PKCS --id 02 -i data -o rsa512.sig
check "SHA512-RSA-PKCS (RSA-3072) gives a 384-byte signature" '[ $RC -eq 0 ] && size_is rsa512.sig 384'
osslv "SHA512-RSA-PKCS (RSA-3072) verified by openssl dgst -sha512" dgst -sha512 -verify rsa3072.pem -signature rsa512.sig data
run "${U[@]}" --sign -m SHA384-RSA-PKCS-PSS --id 02 -i data -o pss384.sig
osslv "SHA384-RSA-PKCS-PSS (RSA-3072, MGF1-SHA384, salt 48) verified by openssl" \
    dgst -sha384 -verify rsa3072.pem -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:48 -signature pss384.sig data
openssl pkeyutl -encrypt -pubin -inkey rsa3072.pem -pkeyopt rsa_padding_mode:oaep -in msg40 -out oaep3k.ct
run "${U[@]}" --decrypt -m RSA-PKCS-OAEP --hash-algorithm SHA-1 --mgf MGF1-SHA1 --id 02 -i oaep3k.ct -o oaep3k.pt
check "RSA-PKCS-OAEP (RSA-3072, SHA-1): the token decrypts openssl's ciphertext" '[ $RC -eq 0 ] && same oaep3k.pt msg40'

if only_craton "pkcs11-tool --test --login --allow-sw with RSA keys (RSA signatures, verify, OAEP with label)" \
    "SoftHSM 2.6 fails it (OAEP with a label: CKR_ARGUMENTS_BAD)"; then
    run --test --allow-sw "${U[@]}"
    check "pkcs11-tool --test --login --allow-sw with RSA keys (RSA signatures, verify, OAEP with label)" \
        '[ $RC -eq 0 ] && has "^No errors" && hasnt "ERR" && hasnt "[Ff]ailed" && has "all 4 signature functions seem to work" && has "RSA-PKCS-OAEP"'
fi

# ---------------------------------------------------------------------------
# 6. AES: generated keys (round trips) and imported keys (against openssl enc)
IV=000102030405060708090a0b0c0d0e0f
head -c 100 /dev/urandom >pt100 # not a block multiple
head -c 96 /dev/urandom >pt96
run "${U[@]}" --keygen --key-type AES:32 --id 20 --label aes256
check "AES-256 --keygen" '[ $RC -eq 0 ] && has "^Secret Key Object; AES length 32"'
run "${U[@]}" --encrypt -m AES-CBC-PAD --id 20 --iv "$IV" -i pt100 -o gen.ct
run "${U[@]}" --decrypt -m AES-CBC-PAD --id 20 --iv "$IV" -i gen.ct -o gen.pt
check "AES-CBC-PAD round trip with the generated AES-256 key (112-byte ciphertext)" \
    '[ $RC -eq 0 ] && size_is gen.ct 112 && same gen.pt pt100'
run "${U[@]}" --keygen --key-type AES:16 --id 21 --label aes128
check "AES-128 --keygen" '[ $RC -eq 0 ] && has "^Secret Key Object; AES length 16"'
run "${U[@]}" --encrypt -m AES-ECB --id 21 -i pt96 -o gen128.ct
run "${U[@]}" --decrypt -m AES-ECB --id 21 -i gen128.ct -o gen128.pt
check "AES-ECB round trip with the generated AES-128 key" '[ $RC -eq 0 ] && same gen128.pt pt96 && ! same gen128.ct pt96'

head -c 32 /dev/urandom >aes256.key
head -c 16 /dev/urandom >aes128.key
run "${U[@]}" --write-object aes256.key --type secrkey --key-type AES:32 --id 22 --label aes256-imported
check "AES-256 key imported (--write-object --type secrkey)" '[ $RC -eq 0 ] && has "Secret Key Object; AES"'
K=$(hex aes256.key)
run "${U[@]}" --encrypt -m AES-CBC-PAD --id 22 --iv "$IV" -i pt100 -o cbcpad.tok
openssl enc -aes-256-cbc -K "$K" -iv "$IV" -in pt100 -out cbcpad.ossl
check "AES-CBC-PAD (AES-256) ciphertext equals openssl enc -aes-256-cbc" 'same cbcpad.tok cbcpad.ossl'
head -c 77 /dev/urandom >pt77
openssl enc -aes-256-cbc -K "$K" -iv "$IV" -in pt77 -out cbcpad77.ossl
run "${U[@]}" --decrypt -m AES-CBC-PAD --id 22 --iv "$IV" -i cbcpad77.ossl -o cbcpad77.pt
check "AES-CBC-PAD: the token decrypts openssl's ciphertext (padding removed)" '[ $RC -eq 0 ] && same cbcpad77.pt pt77'
openssl enc -aes-256-cbc -K "$K" -iv "$IV" -in big -out big.ossl
run "${U[@]}" --encrypt -m AES-CBC-PAD --id 22 --iv "$IV" -i big -o big.tok
check "AES-CBC-PAD over 5000 bytes (C_EncryptUpdate/C_EncryptFinal) equals openssl's" '[ $RC -eq 0 ] && same big.tok big.ossl'
run "${U[@]}" --decrypt -m AES-CBC-PAD --id 22 --iv "$IV" -i big.ossl -o big.pt
check "AES-CBC-PAD: the token decrypts openssl's 5008-byte ciphertext (C_DecryptUpdate/C_DecryptFinal)" \
    '[ $RC -eq 0 ] && same big.pt big'
run "${U[@]}" --encrypt -m AES-CBC --id 22 --iv "$IV" -i pt96 -o cbc.tok
openssl enc -aes-256-cbc -nopad -K "$K" -iv "$IV" -in pt96 -out cbc.ossl
check "AES-CBC (no padding) ciphertext equals openssl's" '[ $RC -eq 0 ] && same cbc.tok cbc.ossl'
run "${U[@]}" --encrypt -m AES-ECB --id 22 -i pt96 -o ecb.tok
openssl enc -aes-256-ecb -nopad -K "$K" -in pt96 -out ecb.ossl
check "AES-ECB ciphertext equals openssl's" '[ $RC -eq 0 ] && same ecb.tok ecb.ossl'
run "${U[@]}" --write-object aes128.key --type secrkey --key-type AES:16 --id 23 --label aes128-imported
run "${U[@]}" --encrypt -m AES-CBC-PAD --id 23 --iv "$IV" -i pt100 -o cbc128.tok
openssl enc -aes-128-cbc -K "$(hex aes128.key)" -iv "$IV" -in pt100 -out cbc128.ossl
check "AES-CBC-PAD (imported AES-128) ciphertext equals openssl enc -aes-128-cbc" 'same cbc128.tok cbc128.ossl'

# ---------------------------------------------------------------------------
# 7. AES key wrap: RFC 3394 (CKM_AES_KEY_WRAP) and RFC 5649 (CKM_AES_KEY_WRAP_KWP)
head -c 32 /dev/urandom >kek.key
head -c 32 /dev/urandom >target.key
head -c 32 /dev/urandom >incoming.key
KEK=$(hex kek.key)
run "${U[@]}" --write-object kek.key --type secrkey --key-type AES:32 --id 30 --label kek --usage-wrap
check "KEK imported with CKA_WRAP/CKA_UNWRAP" '[ $RC -eq 0 ] && has "Usage: .*wrap"'
run "${U[@]}" --write-object target.key --type secrkey --key-type AES:32 --id 31 --label target --extractable
run "${U[@]}" --wrap -m AES-KEY-WRAP --id 30 --application-id 31 -o wrapped.tok
openssl enc -id-aes256-wrap -K "$KEK" -iv A6A6A6A6A6A6A6A6 -in target.key -out wrapped.ossl
check "AES-KEY-WRAP of an extractable AES-256 key equals openssl -id-aes256-wrap (40 bytes)" \
    '[ $RC -eq 0 ] && size_is wrapped.tok 40 && same wrapped.tok wrapped.ossl'
openssl enc -id-aes256-wrap -K "$KEK" -iv A6A6A6A6A6A6A6A6 -in incoming.key -out incoming.wrapped
run "${U[@]}" --unwrap -m AES-KEY-WRAP --id 30 -i incoming.wrapped --key-type AES: --application-id 32 \
    --application-label unwrapped --extractable
check "AES-KEY-WRAP: --unwrap of openssl's wrapped key succeeds" '[ $RC -eq 0 ] && has "^Key unwrapped"'
run "${U[@]}" --read-object --type secrkey --id 32 -o unwrapped.val
check "AES-KEY-WRAP: the unwrapped key's CKA_VALUE is the key openssl wrapped" '[ $RC -eq 0 ] && same unwrapped.val incoming.key'
flip incoming.wrapped corrupt.wrapped
run "${U[@]}" --unwrap -m AES-KEY-WRAP --id 30 -i corrupt.wrapped --key-type AES: --application-id 36 --extractable
# SoftHSM 2.6 says CKR_GENERAL_ERROR; ours must name the cause.
check "AES-KEY-WRAP: a corrupted wrapped key is refused (Craton: CKR_WRAPPED_KEY_INVALID or CKR_ENCRYPTED_DATA_INVALID)" \
    '[ $RC -ne 0 ] && has "C_UnwrapKey failed" && hasnt "CKR_MECHANISM_INVALID" && { [ $IS_CRATON = 0 ] || has "CKR_WRAPPED_KEY_INVALID|CKR_ENCRYPTED_DATA_INVALID"; }'
if only_craton "AES-KEY-WRAP-KWP (0x210B, RFC 5649) of a 20-byte key equals openssl -id-aes256-wrap-pad" "$NOT_SOFTHSM"; then
    run "${U[@]}" --keygen --key-type GENERIC:20 --id 33 --label kwp-target --extractable
    run "${U[@]}" --read-object --type secrkey --id 33 -o kwp-target.val
    run "${U[@]}" --wrap -m 0x210B --id 30 --application-id 33 -o kwp.tok
    openssl enc -id-aes256-wrap-pad -K "$KEK" -iv A65959A6 -in kwp-target.val -out kwp.ossl 2>/dev/null
    check "AES-KEY-WRAP-KWP (0x210B, RFC 5649) of a 20-byte key equals openssl -id-aes256-wrap-pad" \
        '[ $RC -eq 0 ] && size_is kwp-target.val 20 && size_is kwp.tok 32 && same kwp.tok kwp.ossl'
    head -c 20 /dev/urandom >kwp-in.key
    openssl enc -id-aes256-wrap-pad -K "$KEK" -iv A65959A6 -in kwp-in.key -out kwp-in.wrapped
    run "${U[@]}" --unwrap -m 0x210B --id 30 -i kwp-in.wrapped --key-type GENERIC: --application-id 34 --extractable
    run "${U[@]}" --read-object --type secrkey --id 34 -o kwp-in.val
    check "AES-KEY-WRAP-KWP: --unwrap of openssl's RFC 5649 blob gives back the 20-byte key" \
        '[ $RC -eq 0 ] && same kwp-in.val kwp-in.key'
fi

# ---------------------------------------------------------------------------
# 8. HMAC with a generated generic secret (extractable, so openssl can check)
run "${U[@]}" --keygen --key-type GENERIC:64 --id 40 --label hmac --usage-sign --extractable
check "GENERIC:64 --keygen (sign/verify, extractable)" '[ $RC -eq 0 ] && has "^Secret Key Object; Generic secret length 64"'
run "${U[@]}" --read-object --type secrkey --id 40 -o hmac.key
check "the extractable generic secret's CKA_VALUE reads back (64 bytes)" '[ $RC -eq 0 ] && size_is hmac.key 64'
for h in sha256 sha512; do
    H=${h^^}
    run "${U[@]}" --sign -m "$H-HMAC" --id 40 -i data -o "hmac.$h"
    openssl dgst -"$h" -mac HMAC -macopt hexkey:"$(hex hmac.key)" -binary -out "hmac.$h.ossl" data
    check "$H-HMAC equals openssl dgst -$h -mac HMAC" '[ $RC -eq 0 ] && same "hmac.$h" "hmac.$h.ossl"'
done
run "${U[@]}" --sign -m SHA256-HMAC --id 40 -i big -o hmac.big
openssl dgst -sha256 -mac HMAC -macopt hexkey:"$(hex hmac.key)" -binary -out hmac.big.ossl big
check "SHA256-HMAC over 5000 bytes (C_SignUpdate/C_SignFinal) equals openssl's" '[ $RC -eq 0 ] && same hmac.big hmac.big.ossl'
run "${U[@]}" --verify -m SHA256-HMAC --id 40 -i data --signature-file hmac.sha256
check "SHA256-HMAC: the token verifies the MAC" 'token_says_valid'
run "${U[@]}" --verify -m SHA256-HMAC --id 40 -i data.bad --signature-file hmac.sha256
check "SHA256-HMAC: the token rejects it for other data" 'token_says_invalid'

# ---------------------------------------------------------------------------
# 9. Digests and random
for h in sha1 sha256 sha384 sha512; do
    case $h in sha1) mech=SHA-1 ;; *) mech=${h^^} ;; esac
    run --hash -m "$mech" -i data -o "hash.$h"
    check "--hash -m $mech equals ${h}sum" '[ $RC -eq 0 ] && [ "$(hex "hash.$h")" = "$(${h}sum data | cut -d" " -f1)" ]'
done
if only_craton "--hash -m SHA3-256 equals openssl dgst -sha3-256" "$NOT_SOFTHSM"; then
    run --hash -m SHA3-256 -i data -o hash.sha3
    openssl dgst -sha3-256 -binary -out hash.sha3.ossl data
    check "--hash -m SHA3-256 equals openssl dgst -sha3-256" '[ $RC -eq 0 ] && same hash.sha3 hash.sha3.ossl'
fi
run --generate-random 64 -o rnd1
run --generate-random 64 -o rnd2
check "--generate-random 64 twice: 64 bytes each, different" \
    '[ $RC -eq 0 ] && size_is rnd1 64 && size_is rnd2 64 && ! cmp -s rnd1 rnd2'

tap_end
