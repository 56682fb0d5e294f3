#!/usr/bin/env bash
# Runs the shell blocks of the README's "Examples" section as written, so the
# README cannot drift from what the module does.  TAP output, one case per
# block.
#
# Usage: tests/interop/readme.sh MODULE_PATH README
set -u
MODULE=$1
README=$2
case $MODULE in /*) ;; *) MODULE=$PWD/$MODULE ;; esac
case $README in /*) ;; *) README=$PWD/$README ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
command -v pkcs11-tool >/dev/null || { echo "Bail out! pkcs11-tool (OpenSC) not installed"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/craton-readme.XXXXXX") || exit 1
trap 'cd / && rm -rf "$T"' EXIT
cd "$T" || exit 1
ALL_STDERR=$T/all_stderr
: >"$ALL_STDERR"
# shellcheck source=tests/interop/lib.sh
. "$HERE/lib.sh"
CFG=$T/craton_hsm.toml
write_cfg "$CFG" store
export CRATON_HSM_CONFIG=$CFG

# The blocks: ```sh ... ``` between "## Examples" and the next "## ".
awk '/^## Examples/{on=1; next} /^## /{on=0} on && /^```sh$/{n++; f=sprintf("block%d.sh", n); inb=1; next}
     inb && /^```$/{inb=0; next} inb{print > f}' "$README"
blocks=(block*.sh)
[ -e "${blocks[0]}" ] || { echo "Bail out! no sh blocks under ## Examples in $README"; exit 1; }
echo "1..$((${#blocks[@]} + 1))"

run --init-token --label "My token" --so-pin 12345678
run --login --login-type so --so-pin 12345678 --init-pin --pin 87654321
check "token initialised with the user PIN of the examples" '[ "$RC" -eq 0 ]'
M="--module $MODULE --login --pin 87654321"
for b in "${blocks[@]}"; do
    CMD="README $b"
    OUT=$(M=$M bash -euo pipefail "$b" 2>&1)
    RC=$?
    ERR=''
    check "README example $b runs as written" '[ "$RC" -eq 0 ] && hasnt "Verification failure|error"'
done
[ "$FAILED" -eq 0 ]
