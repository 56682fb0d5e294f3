#!/usr/bin/env bash
# Conditions are passed to check() as single-quoted strings and eval'ed there,
# so variables they use look unused/unexpanded to shellcheck.
# shellcheck disable=SC2016,SC2034,SC2317
# The OpenSSL pkcs11 engine (libp11, Debian's libengine-pkcs11-openssl)
# driving the module through the system's openssl 3.0 CLI: RSA-2048 and
# EC P-256 key pairs made with pkcs11-tool, then `openssl dgst` and
# `openssl pkeyutl` signing with `-engine pkcs11 -keyform engine` and a
# pkcs11: URI (by label and by id), RSA decryption through the engine, and
# self-signed certificates made by `openssl req -x509` with the token's keys.
# Every signature and certificate is verified by plain openssl with the
# public keys pkcs11-tool exported.  The engine loads MODULE through an
# openssl.cnf (MODULE_PATH); the PIN travels in the URI (pin-value).
#
# Usage: tests/interop/engine.sh MODULE_PATH
#
# MODULE_PATH may also be SoftHSMv2 (validates the checks).  Note: libp11
# 0.4.12 cannot enumerate a token holding an Ed25519 private key ("Unable
# to enumerate private keys"), so this token only ever holds RSA and EC keys.
# TAP output.
set -u

if [ $# -ne 1 ]; then
    echo "usage: $0 MODULE_PATH" >&2
    exit 2
fi
MODULE=$1
case $MODULE in /*) ;; *) MODULE=$PWD/$MODULE ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
[ -r "$MODULE" ] || { echo "Bail out! module not found: $MODULE"; exit 1; }
command -v pkcs11-tool >/dev/null || { echo "Bail out! pkcs11-tool (OpenSC) not installed"; exit 1; }
command -v openssl >/dev/null || { echo "Bail out! openssl CLI not installed"; exit 1; }
ENGINES_DIR=$(openssl version -e | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')
ENGINE_SO=$ENGINES_DIR/pkcs11.so
[ -r "$ENGINE_SO" ] || {
    echo "Bail out! the OpenSSL pkcs11 engine is not installed ($ENGINE_SO; Debian: libengine-pkcs11-openssl)"
    exit 1
}

T=$(mktemp -d "${TMPDIR:-/tmp}/craton-engine.XXXXXX") || exit 1
trap 'cd / && rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
cd "$T" || exit 1
ALL_STDERR=$T/all_stderr
: >"$ALL_STDERR"
# shellcheck source=tests/interop/lib.sh
. "$HERE/lib.sh"

SO_PIN=12345678
USER_PIN=87654321
WRONG_PIN=11223344
TOKEN=Engine
setup_module "$T"
U=(--login --pin "$USER_PIN")

cat >openssl.cnf <<EOF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $ENGINE_SO
MODULE_PATH = $MODULE
init = 0
EOF

# eng ARGS...: openssl ARGS with the engine's configuration.  Through an
# inner shell, so that its report of openssl 3.0 + libp11 crashing at exit
# after a failed key load lands in ERR, not on our stderr.
eng() {
    xrun bash -c 'OPENSSL_CONF=$0 openssl "$@"; exit $?' "$T/openssl.cnf" "$@"
    CMD="OPENSSL_CONF=openssl.cnf openssl $*"
}
# uri OBJECT-ATTRS [PIN]: a pkcs11: URI for the private key.
uri() { echo "pkcs11:token=$TOKEN;$1;type=private?pin-value=${2:-$USER_PIN}"; }
# osslv DESCRIPTION ARGS...: plain openssl ARGS must report a good signature.
osslv() {
    local desc=$1
    shift
    xrun openssl "$@"
    check "$desc" '[ $RC -eq 0 ] && has "^(Verified OK|Signature Verified Successfully)$"'
}
same() { [ -s "$1" ] && [ -s "$2" ] && cmp -s "$1" "$2"; }

head -c 2000 /dev/urandom >data
openssl dgst -sha256 -binary -out data.sha256 data
printf 'engine secret %s\n' "$RANDOM$RANDOM" >msg

init_token "$TOKEN" "$SO_PIN" "$USER_PIN"
check "$MODULE_NAME: token '$TOKEN' initialised and user PIN set" '[ $RC -eq 0 ]'
run "${U[@]}" --keypairgen --key-type rsa:2048 --id 01 --label rsa-key
check "pkcs11-tool: RSA-2048 key pair 'rsa-key' (id 01)" '[ $RC -eq 0 ] && has "^Key pair generated"'
run "${U[@]}" --keypairgen --key-type EC:prime256v1 --id 02 --label ec-key
check "pkcs11-tool: EC P-256 key pair 'ec-key' (id 02)" '[ $RC -eq 0 ] && has "^Key pair generated"'
export_pubkey 01 rsa.pem
check "pkcs11-tool exports the RSA public key" '[ $RC -eq 0 ] && [ -s rsa.pem ]'
export_pubkey 02 ec.pem
check "pkcs11-tool exports the EC public key" '[ $RC -eq 0 ] && [ -s ec.pem ]'

eng engine -t -c pkcs11
check "openssl engine -t pkcs11 (libp11 from openssl.cnf) is available" \
    '[ $RC -eq 0 ] && has "^\(pkcs11\)" && has "\[ available \]"'

# RSA
eng dgst -sha256 -engine pkcs11 -keyform engine -sign "$(uri object=rsa-key)" -out rsa.sig data
check "openssl dgst -sha256 -sign with the token's RSA key (URI by label)" '[ $RC -eq 0 ] && [ -s rsa.sig ]'
osslv "the engine's SHA-256 RSA signature verifies with plain openssl dgst -verify" \
    dgst -sha256 -verify rsa.pem -signature rsa.sig data
eng dgst -sha256 -engine pkcs11 -keyform engine -sign "$(uri id=%01)" -out rsa-id.sig data
check "the same key found by id (pkcs11:...;id=%01) gives the same PKCS1 v1.5 signature" \
    '[ $RC -eq 0 ] && same rsa-id.sig rsa.sig'
eng pkeyutl -engine pkcs11 -keyform engine -sign -inkey "$(uri object=rsa-key)" -pkeyopt digest:sha256 \
    -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 -in data.sha256 -out rsa-pss.sig
check "openssl pkeyutl -sign RSA-PSS (SHA-256, salt 32) through the engine" '[ $RC -eq 0 ] && [ -s rsa-pss.sig ]'
osslv "the engine's RSA-PSS signature verifies with plain openssl pkeyutl" \
    pkeyutl -verify -pubin -inkey rsa.pem -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss \
    -pkeyopt rsa_pss_saltlen:32 -in data.sha256 -sigfile rsa-pss.sig
openssl pkeyutl -encrypt -pubin -inkey rsa.pem -in msg -out msg.pkcs1
eng pkeyutl -decrypt -engine pkcs11 -keyform engine -inkey "$(uri object=rsa-key)" -in msg.pkcs1 -out msg.pkcs1.out
check "openssl pkeyutl -decrypt (PKCS1 v1.5) through the engine recovers openssl's plaintext" \
    '[ $RC -eq 0 ] && same msg.pkcs1.out msg'
openssl pkeyutl -encrypt -pubin -inkey rsa.pem -pkeyopt rsa_padding_mode:oaep -in msg -out msg.oaep
eng pkeyutl -decrypt -engine pkcs11 -keyform engine -inkey "$(uri object=rsa-key)" -pkeyopt rsa_padding_mode:oaep \
    -in msg.oaep -out msg.oaep.out
check "openssl pkeyutl -decrypt (OAEP, SHA-1) through the engine recovers openssl's plaintext" \
    '[ $RC -eq 0 ] && same msg.oaep.out msg'

# EC
eng dgst -sha256 -engine pkcs11 -keyform engine -sign "$(uri object=ec-key)" -out ec.sig data
check "openssl dgst -sha256 -sign with the token's EC key" '[ $RC -eq 0 ] && [ -s ec.sig ]'
osslv "the engine's ECDSA signature (DER) verifies with plain openssl dgst -verify" \
    dgst -sha256 -verify ec.pem -signature ec.sig data
eng pkeyutl -engine pkcs11 -keyform engine -sign -inkey "$(uri object=ec-key)" -in data.sha256 -out ec-pk.sig
check "openssl pkeyutl -sign (ECDSA over a SHA-256 digest) through the engine" '[ $RC -eq 0 ] && [ -s ec-pk.sig ]'
osslv "the engine's pkeyutl ECDSA signature verifies with plain openssl pkeyutl -verify" \
    pkeyutl -verify -pubin -inkey ec.pem -in data.sha256 -sigfile ec-pk.sig
xrun openssl asn1parse -inform DER -in ec-pk.sig
check "... and is a DER SEQUENCE of two INTEGERs" \
    '[ $RC -eq 0 ] && [ "$(printf "%s\n" "$OUT" | grep -c "prim: INTEGER")" = 2 ]'

# Self-signed certificates
for k in rsa ec; do
    eng req -new -x509 -engine pkcs11 -keyform engine -key "$(uri object=$k-key)" -sha256 -days 7 \
        -subj "/CN=Craton interop $k" -out "$k-cert.pem"
    check "openssl req -new -x509 with the token's $k key makes a certificate" '[ $RC -eq 0 ] && [ -s "$k-cert.pem" ]'
    xrun openssl verify -CAfile "$k-cert.pem" "$k-cert.pem"
    check "openssl verify -CAfile accepts the self-signed $k certificate" '[ $RC -eq 0 ] && has ": OK$"'
    openssl x509 -in "$k-cert.pem" -noout -pubkey 2>/dev/null | openssl pkey -pubin -outform DER -out "$k-cert.spki" 2>/dev/null
    openssl pkey -pubin -in "$k.pem" -outform DER -out "$k.spki" 2>/dev/null
    check "the $k certificate carries the token's public key" 'same "$k-cert.spki" "$k.spki"'
done
run "${U[@]}" --write-object rsa-cert.pem --type cert --id 01 --label rsa-cert
check "pkcs11-tool stores the engine-made certificate next to its key" '[ $RC -eq 0 ] && has "Created certificate"'

# A wrong PIN in the URI: no key, no signature (one failure; the next login resets the count).
rm -f bad.sig
eng dgst -sha256 -engine pkcs11 -keyform engine -sign "$(uri object=rsa-key "$WRONG_PIN")" -out bad.sig data
check "a wrong pin-value: the engine reports CKR_PIN_INCORRECT and nothing is signed" \
    '[ $RC -ne 0 ] && has "PIN incorrect" && [ ! -s bad.sig ]'
eng dgst -sha256 -engine pkcs11 -keyform engine -sign "$(uri object=rsa-key)" -out rsa2.sig data
check "the right PIN works again afterwards (deterministic RSA signature unchanged)" '[ $RC -eq 0 ] && same rsa2.sig rsa.sig'

tap_end
