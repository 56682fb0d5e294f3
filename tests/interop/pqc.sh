#!/usr/bin/env bash
# Conditions are passed to check() as single-quoted strings and eval'ed there,
# so variables they use look unused/unexpanded to shellcheck.
# shellcheck disable=SC2016,SC2034,SC2317
# Post-quantum interop with the OpenSSL 3.5 CLI, both directions, through
# the small PKCS#11 3.2 client tests/interop/p11pqc.c (pkcs11-tool has no
# ML-DSA / ML-KEM yet):
#  - ML-DSA-65 and SLH-DSA-SHA2-128f: key pairs generated in the token, the
#    public key exported (CKA_PUBLIC_KEY_INFO, DER) and read by
#    `openssl pkey`; the token's signature (with a context string) verified
#    by `openssl pkeyutl -verify -rawin`; OpenSSL's own signature verified
#    by the token after importing OpenSSL's public key (raw CKA_VALUE +
#    CKA_PARAMETER_SET); tampered inputs rejected on both sides.
#  - ML-KEM-768: `openssl pkeyutl -encap` to the token's public key, the
#    token decapsulates (C_DecapsulateKey) to the same secret; the token
#    encapsulates (C_EncapsulateKey) to OpenSSL's key and `openssl pkeyutl
#    -decap` gives the token's secret.
# OpenSSL >= 3.5 is found through scripts/openssl.sh ("system", or the
# prefix of the private build, whose bin/openssl is used).  Runs against
# this module only (SoftHSM 2.6 has no post-quantum mechanisms).  TAP.
#
# Usage: tests/interop/pqc.sh MODULE_PATH P11PQC_BINARY
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 MODULE_PATH P11PQC_BINARY" >&2
    exit 2
fi
MODULE=$1
P11PQC=$2
case $MODULE in /*) ;; *) MODULE=$PWD/$MODULE ;; esac
case $P11PQC in /*) ;; *) P11PQC=$PWD/$P11PQC ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
[ -r "$MODULE" ] || { echo "Bail out! module not found: $MODULE"; exit 1; }
[ -x "$P11PQC" ] || { echo "Bail out! p11pqc not built: $P11PQC"; exit 1; }
command -v pkcs11-tool >/dev/null || { echo "Bail out! pkcs11-tool (OpenSC) not installed"; exit 1; }

# OpenSSL 3.5: the system's when new enough, else the private build's CLI.
prefix=$(bash "$ROOT/scripts/openssl.sh" 2>/dev/null) || { echo "Bail out! scripts/openssl.sh failed"; exit 1; }
if [ "$prefix" = system ]; then
    OSSL=$(command -v openssl) || { echo "Bail out! no openssl CLI"; exit 1; }
else
    OSSL=$prefix/bin/openssl
fi
[ -x "$OSSL" ] || { echo "Bail out! $OSSL missing (scripts/openssl.sh installs bin/openssl)"; exit 1; }
ver=$("$OSSL" version | awk '{print $2}')
case $ver in
3.[5-9]* | 3.[1-9][0-9]* | [4-9].*) ;;
*) echo "Bail out! $OSSL is OpenSSL $ver; ML-DSA / ML-KEM need 3.5"; exit 1 ;;
esac

T=$(mktemp -d "${TMPDIR:-/tmp}/craton-pqc.XXXXXX") || exit 1
trap 'cd / && rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
cd "$T" || exit 1
ALL_STDERR=$T/all_stderr
: >"$ALL_STDERR"
# shellcheck source=tests/interop/lib.sh
. "$HERE/lib.sh"
CFG=$T/craton_hsm.toml
write_cfg "$CFG" store
export CRATON_HSM_CONFIG=$CFG
PIN=87654321
echo "# OpenSSL CLI: $OSSL ($ver)"

# p ARGS: the client; o ARGS: the OpenSSL CLI (RC, OUT, ERR, CMD set).
p() { xrun "$P11PQC" "$MODULE" "$PIN" "$@"; CMD="p11pqc MODULE PIN $*"; }
o() { xrun "$OSSL" "$@"; }
same() { [ -s "$1" ] && [ -s "$2" ] && cmp -s "$1" "$2"; }
ossl_ok() { [ "$RC" -eq 0 ] && has "^Signature Verified Successfully$"; }

run --init-token --label pqc --so-pin 12345678
run --login --login-type so --so-pin 12345678 --init-pin --pin "$PIN"
check "token initialised, user PIN set" '[ "$RC" -eq 0 ]'

head -c 1000 /dev/urandom >msg.bin
cp msg.bin msg2.bin
printf 'x' >>msg2.bin

# sig_interop SET LABEL RAW_PUBLIC_KEY_BYTES
sig_interop() {
    local set=$1 l=$2 n=$3
    p keygen "$set" "$l"
    check "$set: key pair generated in the token" '[ "$RC" -eq 0 ]'
    p pubkey "$l" "$l.der"
    o pkey -pubin -inform DER -in "$l.der" -out "$l.pem"
    check "$set: CKA_PUBLIC_KEY_INFO read by openssl pkey" '[ "$RC" -eq 0 ] && [ -s "$l.pem" ]'
    o pkey -pubin -in "$l.pem" -text -noout
    check "$set: openssl sees a $set public key" 'has "$set"'
    p sign "$l" msg.bin "$l.sig" craton-ctx
    check "$set: the token signs (context craton-ctx)" '[ "$RC" -eq 0 ]'
    o pkeyutl -verify -rawin -pubin -inkey "$l.pem" -in msg.bin -sigfile "$l.sig" \
        -pkeyopt context-string:craton-ctx
    check "$set: openssl pkeyutl -verify accepts the token's signature" 'ossl_ok'
    o pkeyutl -verify -rawin -pubin -inkey "$l.pem" -in msg.bin -sigfile "$l.sig" \
        -pkeyopt context-string:other
    check "$set: openssl rejects it under another context" '! ossl_ok'
    o pkeyutl -verify -rawin -pubin -inkey "$l.pem" -in msg2.bin -sigfile "$l.sig" \
        -pkeyopt context-string:craton-ctx
    check "$set: openssl rejects it for another message" '! ossl_ok'

    o genpkey -algorithm "$set" -out "o$l.pem"
    o pkey -in "o$l.pem" -pubout -outform DER -out "o$l.der"
    tail -c "$n" "o$l.der" >"o$l.raw"
    o pkeyutl -sign -rawin -inkey "o$l.pem" -in msg.bin -out "o$l.sig" \
        -pkeyopt context-string:craton-ctx
    check "$set: openssl signs with its own key" '[ "$RC" -eq 0 ] && [ -s "o$l.sig" ]'
    p import "$set" "o$l" "o$l.raw"
    check "$set: openssl's public key imported (raw CKA_VALUE + CKA_PARAMETER_SET)" '[ "$RC" -eq 0 ]'
    p verify "o$l" msg.bin "o$l.sig" craton-ctx
    check "$set: the token accepts openssl's signature" '[ "$RC" -eq 0 ] && has "^Signature valid$"'
    p verify "o$l" msg2.bin "o$l.sig" craton-ctx
    check "$set: the token rejects it for another message" '[ "$RC" -eq 1 ] && has "^Signature invalid$"'
    p verify "o$l" msg.bin "o$l.sig"
    check "$set: the token rejects it without the context" '[ "$RC" -eq 1 ] && has "^Signature invalid$"'
}

sig_interop ML-DSA-65 mldsa 1952
sig_interop SLH-DSA-SHA2-128f slhdsa 32

# ML-KEM-768 both ways.
p keygen ML-KEM-768 mlkem
check "ML-KEM-768: key pair generated in the token" '[ "$RC" -eq 0 ]'
p pubkey mlkem mlkem.der
o pkey -pubin -inform DER -in mlkem.der -out mlkem.pem
check "ML-KEM-768: CKA_PUBLIC_KEY_INFO read by openssl pkey" '[ "$RC" -eq 0 ] && [ -s mlkem.pem ]'
o pkeyutl -encap -pubin -inkey mlkem.pem -out ct.bin -secret ss.bin
check "ML-KEM-768: openssl encapsulates to the token's key" '[ "$RC" -eq 0 ] && [ -s ct.bin ]'
p decap mlkem ct.bin ss_token.bin
check "ML-KEM-768: the token decapsulates openssl's ciphertext to the same secret" \
    '[ "$RC" -eq 0 ] && same ss.bin ss_token.bin'
o genpkey -algorithm ML-KEM-768 -out omlkem.pem
o pkey -in omlkem.pem -pubout -outform DER -out omlkem.der
tail -c 1184 omlkem.der >omlkem.raw
p import ML-KEM-768 omlkem omlkem.raw
check "ML-KEM-768: openssl's public key imported" '[ "$RC" -eq 0 ]'
p encap omlkem ct2.bin ss2_token.bin
check "ML-KEM-768: the token encapsulates to openssl's key (1088-byte ciphertext)" \
    '[ "$RC" -eq 0 ] && [ "$(stat -c %s ct2.bin)" = 1088 ]'
o pkeyutl -decap -inkey omlkem.pem -in ct2.bin -secret ss2.bin
check "ML-KEM-768: openssl pkeyutl -decap gives the token's secret" \
    '[ "$RC" -eq 0 ] && same ss2.bin ss2_token.bin'

tap_end
