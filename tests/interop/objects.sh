#!/usr/bin/env bash
# Objects through OpenSC's pkcs11-tool: write a certificate, a data object
# and DER private keys (EC and RSA, parsed by pkcs11-tool and imported by
# components), list, read back, change CKA_ID, delete, each before and after
# a restart (every pkcs11-tool run is a fresh process).  Also checks that the
# store file never holds private key material or a private object's value in
# plaintext.  TAP output.
#
# Usage: tests/interop/objects.sh MODULE_PATH
# shellcheck disable=SC2016
set -u
MODULE=$1
case $MODULE in /*) ;; *) MODULE=$PWD/$MODULE ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
command -v pkcs11-tool >/dev/null || { echo "Bail out! pkcs11-tool (OpenSC) not installed"; exit 1; }
command -v openssl >/dev/null || { echo "Bail out! openssl CLI not installed"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/craton-objects.XXXXXX") || exit 1
trap 'cd / && rm -rf "$T"' EXIT
cd "$T" || exit 1
ALL_STDERR=$T/all_stderr
: >"$ALL_STDERR"
# shellcheck source=tests/interop/lib.sh
. "$HERE/lib.sh"

SO_PIN=12345678
USER_PIN=87654321
CFG=$T/craton_hsm.toml
write_cfg "$CFG" store
U=(--login --pin "$USER_PIN")

# Material made by the host's openssl.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=craton-interop \
    -days 30 -keyout eckey.pem -out cert.pem 2>/dev/null
openssl x509 -in cert.pem -outform DER -out cert.der
openssl pkey -in eckey.pem -outform DER -out eckey.der
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem 2>/dev/null
openssl pkey -in rsa.pem -outform DER -out rsa.der
printf 'public note %s\n' "$RANDOM" >note.txt
head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' >secret.txt # a private data object's value

run --init-token --label "Objects" --so-pin "$SO_PIN"
run --login --login-type so --so-pin "$SO_PIN" --init-pin --pin "$USER_PIN"
check "token initialised and user PIN set" '[ $RC -eq 0 ]'

run "${U[@]}" --write-object cert.der --type cert --id 01 --label web-cert
check "--write-object certificate" '[ $RC -eq 0 ] && has "Created certificate"'
run "${U[@]}" --write-object eckey.der --type privkey --id 01 --label web-key
check "--write-object EC P-256 private key (DER)" '[ $RC -eq 0 ] && has "Private Key Object; EC"'
run "${U[@]}" --write-object rsa.der --type privkey --id 02 --label rsa-key
check "--write-object RSA-2048 private key (DER, with CRT components)" \
    '[ $RC -eq 0 ] && has "Private Key Object; RSA"'
run --write-object note.txt --type data --label public-note
check "--write-object a public data object without login" '[ $RC -eq 0 ] && has "Created Data Object"'
run "${U[@]}" --write-object secret.txt --type data --label private-note --private
check "--write-object a private data object" '[ $RC -eq 0 ]'
run --write-object rsa.der --type privkey --id 03 --label no-login
check "a private key cannot be written without login" '[ $RC -ne 0 ]'

# Every pkcs11-tool run is a new process: what follows reads the objects
# back after restarts of the module.
for phase in "after a restart" "after another restart"; do
    run "${U[@]}" --list-objects
    check "$phase: --list-objects shows the certificate, both keys and both data objects" \
        '[ $RC -eq 0 ] && has "label: +web-cert" && has "label: +web-key" && has "label: +rsa-key" && has "public-note" && has "private-note"'
    run --list-objects
    check "$phase: without login only public objects are listed" \
        '[ $RC -eq 0 ] && has "web-cert" && has "public-note" && hasnt "web-key" && hasnt "private-note"'
    run "${U[@]}" --read-object --type cert --id 01 -o "$T/cert.out"
    check "$phase: --read-object returns the certificate byte for byte" \
        '[ $RC -eq 0 ] && cmp -s cert.der "$T/cert.out"'
    run "${U[@]}" --read-object --type data --label private-note -o "$T/secret.out"
    check "$phase: the private data object reads back after login" \
        '[ $RC -eq 0 ] && cmp -s secret.txt "$T/secret.out"'
    run --read-object --type data --label private-note -o "$T/secret2.out"
    check "$phase: ... and not without login" '[ $RC -ne 0 ]'
done

# pkcs11-tool refuses to read private keys on its own; ask through PyKCS11.
CMD="PyKCS11: C_GetAttributeValue(CKA_VALUE) of the EC private key"
OUT=$(CRATON_HSM_CONFIG=$CFG /usr/bin/python3 - "$MODULE" "$USER_PIN" 2>&1 <<'PY'
import sys, PyKCS11
lib = PyKCS11.PyKCS11Lib(); lib.load(sys.argv[1])
s = lib.openSession(lib.getSlotList()[0]); s.login(sys.argv[2])
key = s.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY), (PyKCS11.CKA_ID, (1,))])[0]
print("sensitive:", s.getAttributeValue(key, [PyKCS11.CKA_SENSITIVE])[0])
# PyKCS11 maps CKR_ATTRIBUTE_SENSITIVE to None; the raw call shows the code.
print("value:", s.getAttributeValue(key, [PyKCS11.CKA_VALUE])[0])
t = PyKCS11.LowLevel.ckattrlist(1); t[0].SetType(PyKCS11.CKA_VALUE)
rv = lib.lib.C_GetAttributeValue(s.session, key, t)
print("raw:", PyKCS11.CKR[rv])
PY
)
RC=$? ERR=
check "the sensitive EC private key's CKA_VALUE is refused with CKR_ATTRIBUTE_SENSITIVE" \
    'has "sensitive: (True|1)" && has "value: None" && has "raw: CKR_ATTRIBUTE_SENSITIVE"'


run "${U[@]}" --set-id 07 --type privkey --id 02
check "--set-id changes the RSA key's CKA_ID" '[ $RC -eq 0 ]'
run "${U[@]}" --list-objects --type privkey
check "after a restart the key has ID 07 and no key has ID 02" \
    '[ $RC -eq 0 ] && has "ID: +07" && hasnt "ID: +02"'

run "${U[@]}" --delete-object --type cert --id 01
check "--delete-object removes the certificate" '[ $RC -eq 0 ]'
run "${U[@]}" --list-objects
check "after a restart the certificate is gone and the keys remain" \
    '[ $RC -eq 0 ] && hasnt "web-cert" && has "web-key" && has "rsa-key"'

# The store holds no secret in plaintext: the RSA private exponent, the EC
# scalar and the private data object's value are not in token.db (or WAL).
openssl pkey -in rsa.pem -text -noout 2>/dev/null |
    awk '/^privateExponent:/{f=1;next} /^prime1:/{f=0} f' | tr -d ' :\n' | cut -c1-64 >d.hex
openssl pkey -in eckey.pem -text -noout 2>/dev/null |
    awk '/^priv:/{f=1;next} /^pub:/{f=0} f' | tr -d ' :\n' >ec.hex
cat store/token.db store/token.db-wal 2>/dev/null | od -An -tx1 -v | tr -d ' \n' >db.hex
check "token.db does not contain the RSA private exponent" \
    '[ -s d.hex ] && ! grep -q "$(sed "s/^00//" d.hex | cut -c1-48)" db.hex'
check "token.db does not contain the EC private scalar" \
    '[ -s ec.hex ] && ! grep -q "$(sed "s/^00//" ec.hex | cut -c1-48)" db.hex'
check "token.db does not contain the private data object's value" \
    '! grep -q "$(od -An -tx1 -v secret.txt | tr -d " \n" | cut -c1-48)" db.hex'
check "token.db does contain the public data object's value (sanity of the search)" \
    'grep -q "$(od -An -tx1 -v note.txt | tr -d " \n" | cut -c1-24)" db.hex'

run --init-token --label "Objects again" --so-pin "$SO_PIN"
run --login --login-type so --so-pin "$SO_PIN" --init-pin --pin "$USER_PIN"
run "${U[@]}" --list-objects
check "C_InitToken destroyed every object" \
    '[ $RC -eq 0 ] && hasnt "web-key" && hasnt "rsa-key" && hasnt "public-note"'

echo "1..$N"
[ "$FAILED" -eq 0 ] || exit 1
