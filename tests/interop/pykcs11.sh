#!/usr/bin/env bash
# Conditions are passed to check() as single-quoted strings and eval'ed there,
# so variables they use look unused/unexpanded to shellcheck.
# shellcheck disable=SC2016,SC2034,SC2317
# Classical mechanisms through PyKCS11 (python3-pykcs11): pykcs11_mech.py
# does RSA-2048 (SHA256-RSA-PKCS, RSA-PSS, RSA-OAEP), EC P-256 (ECDSA),
# Ed25519/Ed448, X25519, AES-256 (GCM with a tamper check, CTR), digests and
# random on session objects, checking them in the token and against hashlib
# and python3-cryptography; this script initialises the token (pkcs11-tool),
# numbers the script's results and verifies the signatures it wrote with the
# openssl CLI.
#
# Usage: tests/interop/pykcs11.sh MODULE_PATH
#
# MODULE_PATH may also be SoftHSMv2 (validates the checks; what SoftHSM 2.6
# lacks is reported as skipped).  TAP output.
set -u

if [ $# -ne 1 ]; then
    echo "usage: $0 MODULE_PATH" >&2
    exit 2
fi
MODULE=$1
case $MODULE in /*) ;; *) MODULE=$PWD/$MODULE ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3 # the system python has PyKCS11 (python3-pykcs11)
[ -r "$MODULE" ] || { echo "Bail out! module not found: $MODULE"; exit 1; }
command -v pkcs11-tool >/dev/null || { echo "Bail out! pkcs11-tool (OpenSC) not installed"; exit 1; }
command -v openssl >/dev/null || { echo "Bail out! openssl CLI not installed"; exit 1; }
"$PY" -c 'import PyKCS11' 2>/dev/null || { echo "Bail out! $PY cannot import PyKCS11 (python3-pykcs11)"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/craton-pykcs11.XXXXXX") || exit 1
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
mkdir -p files # not "out": run() and xrun() use $T/out

init_token "PyKCS11" "$SO_PIN" "$USER_PIN"
check "$MODULE_NAME: token initialised and user PIN set (pkcs11-tool)" '[ $RC -eq 0 ]'
"$PY" -c 'import cryptography' 2>/dev/null || echo "# python3-cryptography missing: its comparisons are skipped"

# The PyKCS11 part: its lines become TAP lines here.
PYTO=()
command -v timeout >/dev/null 2>&1 && PYTO=(timeout 120)
"${PYTO[@]}" "$PY" "$HERE/pykcs11_mech.py" "$MODULE" "$USER_PIN" "$T/files" "$IS_CRATON" >py.out 2>py.err </dev/null
PRC=$?
while IFS= read -r line; do
    case $line in
    "ok - "*)
        N=$((N + 1))
        echo "ok $N - ${line#ok - }"
        ;;
    "not ok - "*)
        N=$((N + 1))
        FAILED=$((FAILED + 1))
        echo "not ok $N - ${line#not ok - }"
        ;;
    "#"*) echo "$line" ;;
    esac
done <py.out
CMD="$PY pykcs11_mech.py MODULE PIN files $IS_CRATON" RC=$PRC OUT=$(tail -n 3 py.out) ERR=$(cat py.err)
check "pykcs11_mech.py ran to its end (exit 0 or 1, 'DONE', nothing on stderr)" \
    '[ $RC -le 1 ] && grep -qx DONE py.out && [ ! -s py.err ]'

# openssl verifies what the token signed.
# osslv DESCRIPTION ARGS...: openssl ARGS must report a good signature.
osslv() {
    local desc=$1
    shift
    xrun openssl "$@"
    check "$desc" '[ $RC -eq 0 ] && has "^(Verified OK|Signature Verified Successfully)$"'
}
cd files || exit 1
osslv "openssl: SHA256-RSA-PKCS signature verifies with the exported SPKI" \
    dgst -sha256 -keyform DER -verify rsa.spki.der -signature rsa-sha256.sig data.bin
osslv "openssl: SHA256-RSA-PKCS-PSS (salt 32) signature verifies" \
    dgst -sha256 -keyform DER -verify rsa.spki.der -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 \
    -signature rsa-pss.sig data.bin
osslv "openssl: RSA-PKCS-PSS over the SHA-256 digest verifies" \
    pkeyutl -verify -pubin -keyform DER -inkey rsa.spki.der -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss \
    -pkeyopt rsa_pss_saltlen:32 -in data.sha256 -sigfile rsa-pss-digest.sig
osslv "openssl: ECDSA (P-256, over the SHA-256 digest) verifies as SHA-256 of the data" \
    dgst -sha256 -keyform DER -verify ec.spki.der -signature ecdsa.der data.bin
if only_craton "openssl: ECDSA-SHA256 signature verifies" "SoftHSM 2.6 lacks it"; then
    osslv "openssl: ECDSA-SHA256 signature verifies" dgst -sha256 -keyform DER -verify ec.spki.der -signature ecdsa-sha256.der data.bin
fi
osslv "openssl: Ed25519 signature verifies (pkeyutl -rawin)" \
    pkeyutl -verify -pubin -keyform DER -inkey ed25519.spki.der -rawin -in data.bin -sigfile ed25519.sig
osslv "openssl: Ed448 signature verifies (pkeyutl -rawin)" \
    pkeyutl -verify -pubin -keyform DER -inkey ed448.spki.der -rawin -in data.bin -sigfile ed448.sig
cp data.bin data.bad && printf '!' >>data.bad
xrun openssl pkeyutl -verify -pubin -keyform DER -inkey ed25519.spki.der -rawin -in data.bad -sigfile ed25519.sig
check "openssl: ... and rejects the Ed25519 signature for other data" '[ $RC -ne 0 ] && has "Signature Verification Failure"'

tap_end
