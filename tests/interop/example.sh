#!/usr/bin/env bash
# The README's C example (examples/sign_and_encrypt.c) against the module:
# pkcs11-tool initialises the token, the example logs in, signs and
# verifies with ECDSA P-256, and round-trips AES-256-GCM.  TAP output.
#
# Usage: tests/interop/example.sh MODULE_PATH EXAMPLE_BINARY
set -u
MODULE=$1
EXAMPLE=$2
case $MODULE in /*) ;; *) MODULE=$PWD/$MODULE ;; esac
case $EXAMPLE in /*) ;; *) EXAMPLE=$PWD/$EXAMPLE ;; esac
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

echo "1..3"
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
[ "$FAILED" -eq 0 ]
