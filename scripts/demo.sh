#!/usr/bin/env bash
# "Your First Token", driven by OpenSC's pkcs11-tool through the module's
# PKCS#11 ABI, in a scratch directory: init the token, set the user PIN, log
# in, change the user PIN, SO reset of the user PIN, print the token info.
set -euo pipefail
module=$(realpath "${1:-build/lib/libcraton_hsm.so}")
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
TOML
chmod 600 craton_hsm.toml
export CRATON_HSM_CONFIG=$scratch/craton_hsm.toml

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
p11() { pkcs11-tool --module "$module" "$@"; }

echo "Scratch directory: $scratch (removed at exit)"
step p11 --show-info
step p11 --list-slots
step p11 --init-token --label "Quickstart HSM" --so-pin 12345678
step p11 --login --login-type so --so-pin 12345678 --init-pin --pin 87654321
step p11 --login --pin 87654321 --generate-random 16 --output-file random.bin; echo "(logged in as the user; 16 random bytes from the token DRBG: $(od -An -tx1 random.bin | tr -d " \n"))"
step p11 --login --pin 87654321 --change-pin --new-pin 24681357
echo; echo "# the old PIN is refused now:"
if p11 --login --pin 87654321 --generate-random 8 2>&1; then echo "unexpected: old PIN accepted"; exit 1; fi
step p11 --login --login-type so --so-pin 12345678 --init-pin --pin 13572468
step p11 --login --pin 13572468 --generate-random 16 --output-file random.bin
step p11 --list-token-slots
echo
echo "Storage layout:"
ls -lR craton_hsm_store | sed 's/^/  /'
echo
echo "Demo finished: token initialised, user PIN set, changed and reset by the SO."
