#!/usr/bin/env bash
# "Your First Token", as the user guide tells it: craton-admin for the
# operator's steps and OpenSC's pkcs11-tool for the application's, side by
# side, through the module's PKCS#11 ABI, in a scratch directory.  Init the
# token, set the user PIN, make and use a key, change and reset PINs,
# re-initialise (the confirmation prompt), then check the audit log.
set -euo pipefail
module=$(realpath "${1:-build/lib/libcraton_hsm.so}")
admin=$(realpath "${2:-build/tools/admin/craton-admin}")
scratch=$(mktemp -d /tmp/craton-demo.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"
# Production defaults (600 000 PBKDF2 iterations, 10 tries) except where said.
cat > craton_hsm.toml <<'TOML'
[token]
label = "Craton HSM Token"
storage_path = "craton_hsm_store"
[security]
max_failed_logins = 10
[audit]
log_path = "craton_hsm_audit.jsonl"
TOML
chmod 600 craton_hsm.toml
export CRATON_HSM_CONFIG=$scratch/craton_hsm.toml CRATON_MODULE=$module

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
p11() { pkcs11-tool --module "$module" "$@"; }
craton-admin() { "$admin" "$@"; }
# The demo's PINs come from the environment; at a terminal craton-admin
# would prompt for them without echo.
export CRATON_SO_PIN=12345678 CRATON_USER_PIN=87654321

echo "Scratch directory: $scratch (removed at exit)"
step craton-admin status
step craton-admin token init --label "Quickstart HSM"
step p11 --list-slots
step env CRATON_NEW_PIN=87654321 "$admin" pin init
step p11 --login --pin 87654321 --keypairgen --key-type EC:prime256v1 --label signer --id 01
echo "hello, token" > msg.txt
step p11 --login --pin 87654321 --sign --mechanism ECDSA-SHA256 --id 01 --input-file msg.txt --output-file msg.sig
step craton-admin key list --login
step craton-admin key export --label signer --out signer.pem
step openssl dgst -sha256 -verify signer.pem -signature <(python3 -c '
import sys; s = open("msg.sig", "rb").read(); h = len(s) // 2
def der(i):
    b = i.lstrip(b"\0") or b"\0"
    return b"\x02" + bytes([len(b) + (b[0] >= 0x80)]) + (b"\0" if b[0] >= 0x80 else b"") + b
body = der(s[:h]) + der(s[h:]); sys.stdout.buffer.write(b"\x30" + bytes([len(body)]) + body)') msg.txt
step env CRATON_NEW_PIN=24681357 "$admin" pin change --user-type USER
echo; echo "# the old PIN is refused now:"
if p11 --login --pin 87654321 --generate-random 8 2>&1; then echo "unexpected: old PIN accepted"; exit 1; fi
step env CRATON_NEW_PIN=13572468 "$admin" pin reset
step p11 --login --pin 13572468 --generate-random 16 --output-file random.bin
echo; printf '\033[1m$ echo y | craton-admin token init --label "Quickstart HSM"\033[0m\n'
echo y | CRATON_NEW_PIN=12345678 "$admin" token init --label "Quickstart HSM"
step craton-admin token info
step craton-admin selftest
step craton-admin audit verify
step craton-admin audit show -n 6
echo
echo "Storage layout:"
ls -lR craton_hsm_store | sed 's/^/  /'
echo
echo "Demo finished: token initialised, a key made and used, the user PIN set, changed and reset by the SO, the token re-initialised, and the audit chain verified."
