#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2034
# The README's C examples against the module: pkcs11-tool initialises the
# token; examples/sign_and_encrypt.c logs in, signs and verifies with ECDSA
# P-256, and round-trips AES-256-GCM; examples/pqc.c (when given) signs and
# verifies with ML-DSA-65 and encapsulates / decapsulates with ML-KEM-768.
# TAP output.
#
# Usage: tests/interop/example.sh MODULE_PATH EXAMPLE_BINARY [PQC_EXAMPLE_BINARY]
set -u
MODULE=$1
EXAMPLE=$2
PQC=${3:-}
case $MODULE in /*) ;; *) MODULE=$PWD/$MODULE ;; esac
case $EXAMPLE in /*) ;; *) EXAMPLE=$PWD/$EXAMPLE ;; esac
case $PQC in /* | '') ;; *) PQC=$PWD/$PQC ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
command -v pkcs11-tool >/dev/null || { echo "Bail out! pkcs11-tool (OpenSC) not installed"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/craton-example.XXXXXX") || exit 1
trap 'cd / && rm -rf "$T"' EXIT
cd "$T" || exit 1
ALL_STDERR=$T/all_stderr
: >"$ALL_STDERR"
# shellcheck source=tests/interop/lib.sh
. "$HERE/lib.sh"
CFG=$T/craton_hsm.toml
write_cfg "$CFG" store

if [ -n "$PQC" ]; then echo "1..4"; else echo "1..3"; fi
run --init-token --label example --so-pin 12345678
check "token initialised" '[ "$RC" -eq 0 ]'
run --init-pin --so-pin 12345678 --pin 87654321
check "user PIN set" '[ "$RC" -eq 0 ]'
CMD="sign_and_encrypt MODULE 87654321"
OUT=$(CRATON_HSM_CONFIG=$CFG "$EXAMPLE" "$MODULE" 87654321 2>&1)
RC=$?
ERR=''
check "the example signs, verifies, encrypts and decrypts" \
    '[ "$RC" -eq 0 ] && has "ECDSA P-256 / SHA-256: 64-byte signature verified" && has "AES-256-GCM: 30 bytes encrypted"'
if [ -n "$PQC" ]; then
    CMD="pqc MODULE 87654321"
    OUT=$(CRATON_HSM_CONFIG=$CFG "$PQC" "$MODULE" 87654321 2>&1)
    RC=$?
    check "the PQC example signs with ML-DSA-65 and shares a key with ML-KEM-768" \
        '[ "$RC" -eq 0 ] && has "ML-DSA-65: 3309-byte signature verified" && has "ML-KEM-768: 1088-byte ciphertext, both sides hold the same AES-256 key"'
fi
[ "$FAILED" -eq 0 ]
