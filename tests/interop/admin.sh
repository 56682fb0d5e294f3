#!/usr/bin/env bash
# Conditions are passed to check() as single-quoted strings and eval'ed there.
# shellcheck disable=SC2016,SC2034,SC2317
# craton-admin end to end against the built module: every command, scripted
# through the --*-pin-file options and environment variables, and once
# through a pseudo-terminal answering the prompts.
#
# Usage: tests/interop/admin.sh MODULE_PATH CRATON_ADMIN_PATH
#
# Output is TAP; exit status 1 if any check failed.  Commands that need the
# module's "Craton HSM Admin" interface are skipped (# SKIP) when the module
# does not offer it.  Everything happens in a scratch directory removed at exit.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 MODULE_PATH CRATON_ADMIN_PATH" >&2
    exit 2
fi
MODULE=$1
ADMIN=$2
case $MODULE in /*) ;; *) MODULE=$PWD/$MODULE ;; esac
case $ADMIN in /*) ;; *) ADMIN=$PWD/$ADMIN ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
for f in "$MODULE" "$ADMIN"; do
    if [ ! -r "$f" ]; then
        echo "Bail out! not found: $f"
        exit 1
    fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/craton-admin.XXXXXX") || exit 1
trap 'cd / && rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
cd "$T" || exit 1
ALL_STDERR=$T/all_stderr
: >"$ALL_STDERR"

# shellcheck source=tests/interop/lib.sh
. "$HERE/lib.sh"

# The OpenSSL 3.5 CLI when there is one (ML-DSA public keys); else the system's.
OSSL35=${CRATON_OPENSSL_BIN:-$HOME/.cache/craton-hsm/openssl-3.5.7/bin/openssl}
[ -x "$OSSL35" ] || OSSL35=

SO_PIN=12345678
SO_PIN2=Abcdefgh1
USER_PIN=87654321
NEW_PIN=24681357
RESET_PIN=11223344
WRONG_PIN=13572468
PASS='correct horse battery staple 42'
printf '%s\n' "$SO_PIN" >so.pin
printf '%s\n' "$SO_PIN2" >so2.pin
printf '%s\n' "$USER_PIN" >user.pin
printf '%s\n' "$NEW_PIN" >new.pin
printf '%s\n' "$RESET_PIN" >reset.pin
printf '%s\n' "$WRONG_PIN" >wrong.pin
printf '%s\n' "$PASS" >pass.txt
printf 'not the passphrase at all\n' >badpass.txt
chmod 600 ./*.pin pass.txt badpass.txt

W=$T/hsm
mkdir -p "$W"
CFG=$W/craton_hsm.toml
write_cfg "$CFG" store 'slot_count = 2\npersist_objects = true'
LOG=$W/craton_hsm_audit.jsonl

# adm ARGS...: craton-admin with our module and config, no standard input.
adm() {
    CMD="craton-admin $*"
    env -u CRATON_SO_PIN -u CRATON_USER_PIN -u CRATON_NEW_PIN -u CRATON_BACKUP_PASSPHRASE \
        "${TO[@]}" "$ADMIN" --module "$MODULE" --config "$CFG" "$@" >"$T/out" 2>"$T/err" </dev/null
    RC=$?
    OUT=$(cat "$T/out")
    ERR=$(cat "$T/err")
    cat "$T/err" >>"$ALL_STDERR"
}

# adm_in INPUT ARGS...: the same with INPUT (printf %b) on standard input.
adm_in() {
    local input=$1
    shift
    CMD="printf '$input' | craton-admin $*"
    printf '%b' "$input" | env -u CRATON_SO_PIN -u CRATON_USER_PIN -u CRATON_NEW_PIN \
        "${TO[@]}" "$ADMIN" --module "$MODULE" --config "$CFG" "$@" >"$T/out" 2>"$T/err"
    RC=$?
    OUT=$(cat "$T/out")
    ERR=$(cat "$T/err")
    cat "$T/err" >>"$ALL_STDERR"
}

# pty_run EXPECT SEND [EXPECT SEND...] -- ARGS...: craton-admin in a pseudo
# terminal; waits for each EXPECT (exact text) in its output, then types
# SEND and Enter.  OUT = everything it printed; RC = its exit status (99
# when an EXPECT never came).
pty_run() {
    local pairs=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        pairs+=("$1")
        shift
    done
    shift
    CMD="(pty) craton-admin $*"
    python3 - "$ADMIN" "$MODULE" "$CFG" "${#pairs[@]}" "${pairs[@]}" "$@" >"$T/out" 2>"$T/err" <<'PY'
import os, pty, select, sys, time
admin, module, cfg, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
pairs = sys.argv[5:5 + n]
args = sys.argv[5 + n:]
for k in ("CRATON_SO_PIN", "CRATON_USER_PIN", "CRATON_NEW_PIN"):
    os.environ.pop(k, None)
pid, fd = pty.fork()
if pid == 0:
    os.execv(admin, [admin, "--module", module, "--config", cfg] + args)
buf = b""
def read_some(deadline):
    global buf
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                d = os.read(fd, 4096)
            except OSError:
                return False
            if not d:
                return False
            buf += d
            return True
    return True
pos = 0
ok = True
for i in range(0, len(pairs), 2):
    want, send = pairs[i].encode(), pairs[i + 1].encode()
    deadline = time.time() + 30
    while want not in buf[pos:]:
        if time.time() > deadline or not read_some(deadline):
            ok = False
            break
    if not ok:
        break
    pos = buf.index(want, pos) + len(want)
    time.sleep(0.05)
    os.write(fd, send + b"\n")
deadline = time.time() + 60
while read_some(deadline) and time.time() < deadline:
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(buf.decode(errors="replace"))
code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 98
sys.exit(code if ok else 99)
PY
    RC=$?
    OUT=$(cat "$T/out")
    ERR=$(cat "$T/err")
}

# p11sign ID OUT: pkcs11-tool signs msg.txt (ECDSA-SHA256, DER) with the key ID.
# False when pkcs11-tool cannot do it (e.g. a sanitizer build of the module,
# which an uninstrumented pkcs11-tool cannot load); the caller then skips.
p11sign() {
    rm -f "$2"
    CRATON_HSM_CONFIG=$CFG "${TO[@]}" pkcs11-tool --module "$MODULE" --login --pin "$USER_PIN" \
        --sign -m ECDSA-SHA256 --signature-format openssl --id "$1" -i msg.txt -o "$2" \
        >/dev/null 2>"$T/p11err" && [ -s "$2" ]
}

json_ok() { printf '%s' "$OUT" | python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }

# ---------------------------------------------------------------------------
# --help everywhere, usage errors
adm --help
check "--help: usage and examples, exit 0" '[ $RC -eq 0 ] && has "^Usage: craton-admin" && has "Examples:"'
for sub in "token init" "token info" "token list" "pin init" "pin change" "pin reset" \
    "key list" "key generate" "key import" "key export" "key delete" "audit verify" \
    "audit show" "audit export" backup restore selftest "config check" status; do
    # shellcheck disable=SC2086
    adm $sub --help
    check "$sub --help: usage and examples, exit 0" \
        '[ $RC -eq 0 ] && has "^Usage: craton-admin $sub" && has "^Examples:" && [ -z "$ERR" ]'
done
for grp in token pin key audit config; do
    adm "$grp" --help
    check "$grp --help lists its subcommands" '[ $RC -eq 0 ] && has "^Usage: craton-admin $grp"'
done

adm
check "no command: usage on stderr, exit 2" '[ $RC -eq 2 ] && printf "%s" "$ERR" | grep -q "^Usage:"'
adm frobnicate
check "unknown command: exit 2 and a hint" '[ $RC -eq 2 ] && has "not a command" && has "--help"'
adm token init
check "token init without --label: exit 2" '[ $RC -eq 2 ] && has "--label is required"'
adm token init --label "$(printf 'x%.0s' {1..33})"
check "token init with a 33-byte label: exit 2" '[ $RC -eq 2 ] && has "1 to 32 bytes"'
adm token info --slot abc
check "--slot abc: exit 2" '[ $RC -eq 2 ] && has "slot number"'
adm token info --bogus
check "unknown option: exit 2 naming it" '[ $RC -eq 2 ] && has "unknown option .--bogus"'
adm key generate --type rsa:1000 --label x
check "key generate --type rsa:1000: exit 2" '[ $RC -eq 2 ] && has "unknown key type"'
adm key generate --type ec:p256 --label x --usage encrypt
check "key generate ec with --usage encrypt: exit 2" '[ $RC -eq 2 ] && has "does not fit"'
adm audit export --format xml --log "$LOG"
check "audit export --format xml: exit 2" '[ $RC -eq 2 ] && has "json, ndjson or syslog"'
adm pin change --user-type ADMIN
check "pin change --user-type ADMIN: exit 2" '[ $RC -eq 2 ] && has "USER or SO"'
adm key delete
check "key delete without a selector: exit 2" '[ $RC -eq 2 ] && has "--label, --id or --handle"'
adm token info --slot 7
check "token info --slot 7 (no such slot): exit 1" '[ $RC -eq 1 ] && has "there is no slot 7"'
CMD="craton-admin token list --module /nonexistent.so"
"$ADMIN" --module /nonexistent.so token list >"$T/out" 2>"$T/err" </dev/null
RC=$?
ERR=$(cat "$T/err")
OUT=
check "a missing module: exit 1 and what to do" '[ $RC -eq 1 ] && has "cannot load the module" && has "CRATON_MODULE"'

# Does the module offer the vendor interface?
adm status
VENDOR=1
if has 'interface, which'; then VENDOR=0; fi
need_vendor() {
    [ "$VENDOR" = 1 ] && return 0
    skip "$1" "the module does not offer the \"Craton HSM Admin\" interface yet"
    return 1
}

# ---------------------------------------------------------------------------
# token list / init / info
adm token list
check "token list on a fresh store: both slots uninitialised" \
    '[ $RC -eq 0 ] && has "^Slot 0: " && has "^Slot 1: " && has "uninitialised"'
adm token init --label first --so-pin-file so.pin
check "token init --so-pin-file: slot 0 initialised" '[ $RC -eq 0 ] && has "Slot 0 initialised"'
adm token init --label second --so-pin-file so.pin
check "token init again picks the first uninitialised slot (1)" '[ $RC -eq 0 ] && has "Slot 1 initialised"'
adm --json token info
check "token info --json: label, initialized, flags in words, PIN states" \
    'json_ok "d[\"label\"] == \"first\" and d[\"initialized\"] and \"TOKEN_INITIALIZED\" in d[\"flags\"] and d[\"user_pin\"] == \"not_set\" and d[\"so_pin\"] == \"ok\" and d[\"slot\"] == 0 and d[\"sessions\"] == 0"'
adm token list --json
check "token list --json: an array of both slots" \
    'json_ok "len(d) == 2 and [s[\"label\"] for s in d] == [\"first\", \"second\"] and all(\"max_sessions\" in s for s in d)"'

# re-initialising: no terminal and no --yes is a refusal
adm token init --slot 1 --label again --so-pin-file so.pin
check "re-init without --yes and without an answer: exit 1, nothing changed" \
    '[ $RC -eq 1 ] && has "Slot 1 is already initialised\. All objects will be destroyed\. Continue\? \[y/N\]" && has "nothing was changed"'
adm --json token info --slot 1
check "... the label is unchanged" 'json_ok "d[\"label\"] == \"second\""'

# through a terminal: the exact prompt, the current SO PIN, a new SO PIN twice
pty_run "Slot 1 is already initialised. All objects will be destroyed. Continue? [y/N]" y \
    "current SO PIN: " "$SO_PIN" "new SO PIN: " "$SO_PIN2" "Repeat the new SO PIN: " "$SO_PIN2" \
    -- token init --slot 1 --label viapty
check "token init through a terminal: exact prompt, current + new SO PIN, exit 0" \
    '[ $RC -eq 0 ] && has "A new SO PIN is set" && hasnt "$SO_PIN2"'
adm --json token info --slot 1
check "... relabelled" 'json_ok "d[\"label\"] == \"viapty\""'
adm pin init --slot 1 --so-pin-file so2.pin --new-pin-file user.pin
check "... and the new SO PIN is the one that works" '[ $RC -eq 0 ]'
pty_run "Continue? [y/N]" n -- token init --slot 1 --label nope
check "answering n at the terminal: exit 1, nothing changed" '[ $RC -eq 1 ] && has "nothing was changed"'
pty_run "Continue? [y/N]" y "current SO PIN: " "$SO_PIN2" "new SO PIN: " "$SO_PIN" \
    "Repeat the new SO PIN: " "$WRONG_PIN" -- token init --slot 1 --label typo
check "two different new SO PINs at the terminal: exit 1, nothing changed" \
    '[ $RC -eq 1 ] && has "differ; nothing was changed"'
adm --yes token init --slot 1 --label scripted --so-pin-file so2.pin
check "--yes before the command is not a global option: exit 2" '[ $RC -eq 2 ]'
adm token init --slot 1 --label scripted --so-pin-file so2.pin --yes
check "re-init --yes with --so-pin-file keeps the SO PIN" '[ $RC -eq 0 ] && has "SO PIN is unchanged"'
adm token init --slot 1 --label wrongso --so-pin-file wrong.pin --yes
check "re-init with a wrong SO PIN: exit 1, wrong SO PIN" '[ $RC -eq 1 ] && has "wrong SO PIN"'

# ---------------------------------------------------------------------------
# PINs
adm pin init --so-pin-file so.pin --new-pin-file user.pin
check "pin init: the SO sets the user PIN" '[ $RC -eq 0 ] && has "user PIN of slot 0 is set"'
adm pin init --so-pin-file so.pin --new-pin-file user.pin
check "pin init again: exit 1, use pin change / pin reset" '[ $RC -eq 1 ] && has "pin change" && has "pin reset"'
adm_in "$WRONG_PIN\n$NEW_PIN\n" pin change --new-pin-file new.pin
check "pin change with a wrong current PIN (standard input): exit 1" \
    '[ $RC -eq 1 ] && has "wrong user PIN" && hasnt "$WRONG_PIN"'
adm_in "$USER_PIN\n$NEW_PIN\n$NEW_PIN\n" pin change --user-type USER
check "pin change USER with old/new/new on standard input" '[ $RC -eq 0 ] && has "user PIN of slot 0 is changed"'
adm key list --pin-file user.pin
check "... the old user PIN no longer logs in" '[ $RC -eq 1 ] && has "wrong user PIN"'
adm key list --pin-file new.pin
check "... the new one does" '[ $RC -eq 0 ] && has "object\(s\) on slot 0$"'
adm pin change --user-type SO --so-pin-file so.pin --new-pin-file so2.pin
check "pin change --user-type SO" '[ $RC -eq 0 ] && has "SO PIN of slot 0 is changed"'
adm pin change --user-type SO --so-pin-file so2.pin --new-pin-file so.pin
check "... and back" '[ $RC -eq 0 ]'
printf '1234\n' >short.pin
adm pin change --pin-file new.pin --new-pin-file short.pin
check "a too short new PIN: exit 1, the length rule" '[ $RC -eq 1 ] && has "CKR_PIN_LEN_RANGE" && has "pin_min_length"'

# lock the user PIN (max_failed_logins = 3), then the SO resets it
adm key list --pin-file wrong.pin
adm key list --pin-file wrong.pin
check "the second wrong user PIN warns that one more locks it" '[ $RC -eq 1 ] && has "one more wrong user PIN locks it"'
adm key list --pin-file wrong.pin
check "the third locks it: exit 1 and the remedy" \
    '[ $RC -eq 1 ] && has "user PIN of slot 0 is locked" && has "craton-admin pin reset"'
adm --json token info
check "token info --json: user_pin locked, USER_PIN_LOCKED flag" \
    'json_ok "d[\"user_pin\"] == \"locked\" and \"USER_PIN_LOCKED\" in d[\"flags\"]"'
adm pin change --pin-file new.pin --new-pin-file user.pin
check "pin change on a locked user PIN: exit 1, reset it (needs the SO PIN)" \
    '[ $RC -eq 1 ] && has "reset it with craton-admin pin reset" && has "needs the SO PIN"'
adm pin reset --so-pin-file wrong.pin --new-pin-file reset.pin
check "pin reset with a wrong SO PIN: exit 1" '[ $RC -eq 1 ] && has "wrong SO PIN"'
adm pin reset --so-pin-file so.pin --new-pin-file reset.pin
check "pin reset: unlocked with a new user PIN" '[ $RC -eq 0 ] && has "reset and unlocked"'
adm key list --pin-file reset.pin
check "... which logs in" '[ $RC -eq 0 ]'
adm pin change --pin-file reset.pin --new-pin-file user.pin
check "pin change back to the first user PIN" '[ $RC -eq 0 ]'

# ---------------------------------------------------------------------------
# keys
export_ok=1
for t in ec:p256 rsa:2048 ed25519 aes:256 ml-kem-768 ml-dsa-65 slh-dsa-sha2-128s; do
    adm key generate --type "$t" --label "gen-$t" --pin-file user.pin
    [ "$RC" -eq 0 ] || export_ok=0
    check "key generate --type $t" '[ $RC -eq 0 ] && has "Generated $t key"'
done
adm key generate --type ec:p384 --label sig384 --id 0a0b --usage sign,verify,derive --pin-file user.pin
check "key generate with --id and --usage" '[ $RC -eq 0 ] && has "id 0a0b"'
adm key list --json --pin-file user.pin
check "key list --json (logged in): classes, types, sizes, ids, usage" \
    'json_ok "any(o[\"label\"] == \"sig384\" and o[\"class\"] == \"private-key\" and o[\"type\"] == \"EC\" and o[\"size\"] == \"P-384\" and o[\"id\"] == \"0a0b\" and set(o[\"usage\"]) == {\"sign\", \"derive\"} and o[\"sensitive\"] and not o[\"extractable\"] for o in d) and any(o[\"label\"] == \"gen-rsa:2048\" and o[\"size_bits\"] == 2048 for o in d) and any(o[\"size\"] == \"ML-DSA-65\" for o in d)"'
adm key list --json
check "key list --json without login: no private or secret keys" \
    'json_ok "d and not any(o[\"class\"] in (\"private-key\", \"secret-key\") for o in d) and any(o[\"label\"] == \"sig384\" for o in d)"'
adm key list --login --pin-file user.pin
check "key list: a table with a header" '[ $RC -eq 0 ] && has "^HANDLE +CLASS +TYPE +SIZE +LABEL +ID +USAGE" && has "gen-aes:256"'

adm key export --label gen-ec:p256 --out ec.pub.pem
check "key export: a PEM PUBLIC KEY that openssl parses" \
    '[ $RC -eq 0 ] && openssl pkey -pubin -in ec.pub.pem -noout 2>/dev/null && grep -q "BEGIN PUBLIC KEY" ec.pub.pem'
adm key export --label gen-ec:p256 --out ec.pub.pem
check "key export onto an existing file: exit 1 without --force" '[ $RC -eq 1 ] && has "--force"'
# sign with the token's private key (pkcs11-tool), verify with the exported PEM
printf 'attack at dawn\n' >msg.txt
ECID=$(adm key list --json --pin-file user.pin; printf '%s' "$OUT" | python3 -c 'import json,sys; print([o["id"] for o in json.load(sys.stdin) if o["label"] == "gen-ec:p256"][0])')
if p11sign "$ECID" msg.sig; then
    CMD="openssl dgst -sha256 -verify ec.pub.pem -signature msg.sig msg.txt"
    check "the exported EC public key verifies the token's signature (openssl dgst)" \
        'openssl dgst -sha256 -verify ec.pub.pem -signature msg.sig msg.txt >/dev/null 2>&1'
else
    skip "the exported EC public key verifies the token's signature" "pkcs11-tool could not sign: $(head -c 200 "$T/p11err" | tr '\n' ' ')"
fi
adm key export --label gen-rsa:2048 --out - --class pubkey
check "key export --out - writes PEM to standard output" '[ $RC -eq 0 ] && has "BEGIN PUBLIC KEY"'
adm key export --label gen-ml-dsa-65 --out mldsa.pub.pem
if [ -n "$OSSL35" ]; then
    check "an exported ML-DSA-65 public key parses with OpenSSL 3.5" \
        '[ $RC -eq 0 ] && "$OSSL35" pkey -pubin -in mldsa.pub.pem -noout -text 2>/dev/null | grep -q "ML-DSA-65"'
else
    skip "an exported ML-DSA-65 public key parses with OpenSSL 3.5" "no OpenSSL 3.5 CLI"
fi
adm key export --label no-such-key --out x.pem
check "key export of nothing: exit 1" '[ $RC -eq 1 ] && has "no public key or certificate matches"'

# import: an EC key and its certificate (openssl req -x509), an RSA DER key
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout imp-ec.key \
    -out imp-ec.crt -subj /CN=craton-admin-test -days 2 >/dev/null 2>&1
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out imp-rsa.pem >/dev/null 2>&1
openssl pkey -in imp-rsa.pem -outform DER -out imp-rsa.der
openssl pkey -in imp-rsa.pem -out imp-rsa-enc.pem -aes256 -passout pass:secret12 2>/dev/null
head -c 32 /dev/urandom >aes32.bin
head -c 20 /dev/urandom >aes20.bin
adm key import --file imp-ec.key --label imported --id 01 --pin-file user.pin
check "key import of a PEM EC private key" '[ $RC -eq 0 ] && has "Imported ec:p256 private key"'
adm key import --file imp-ec.crt --label imported --id 01 --pin-file user.pin
check "key import of a certificate from openssl req -x509" '[ $RC -eq 0 ] && has "Imported certificate"'
adm key import --file imp-rsa.der --label imported-rsa --id 02 --pin-file user.pin
check "key import of a DER RSA private key" '[ $RC -eq 0 ] && has "Imported rsa:2048 private key"'
adm key import --file imp-rsa-enc.pem --label enc --pin-file user.pin
check "key import of an encrypted key: exit 1, decrypt it first" '[ $RC -eq 1 ] && has "encrypted private key"'
adm key import --file msg.txt --label junk --pin-file user.pin
check "key import of a text file: exit 1, not a key" '[ $RC -eq 1 ] && has "not a PEM or DER"'
adm key import --file aes32.bin --raw-aes --label raw-aes --pin-file user.pin
check "key import --raw-aes of 32 bytes" '[ $RC -eq 0 ] && has "aes:256"'
adm key import --file aes20.bin --raw-aes --label raw-aes20 --pin-file user.pin
check "key import --raw-aes of 20 bytes: exit 1" '[ $RC -eq 1 ] && has "16, 24 or 32 bytes"'
adm key export --id 01 --class cert --out imp.crt
check "key export --class cert gives back the same certificate" \
    '[ $RC -eq 0 ] && cmp -s <(openssl x509 -in imp.crt -outform DER) <(openssl x509 -in imp-ec.crt -outform DER)'
adm key export --id 01 --class pubkey --out imp.pub
check "the imported key's public half exports as the file's public key" \
    '[ $RC -eq 0 ] && cmp -s <(openssl pkey -pubin -in imp.pub -outform DER) <(openssl pkey -in imp-ec.key -pubout -outform DER)'
adm key export --label imported-rsa --out rsa.pub
check "the imported RSA key's public half matches" \
    '[ $RC -eq 0 ] && cmp -s <(openssl pkey -pubin -in rsa.pub -outform DER) <(openssl pkey -in imp-rsa.pem -pubout -outform DER)'
if p11sign 01 imp.sig; then
    CMD="openssl dgst -sha256 -verify <(certificate key) -signature imp.sig msg.txt"
    check "the imported private key signs what the certificate's key verifies" \
        'openssl dgst -sha256 -verify <(openssl x509 -in imp-ec.crt -pubkey -noout) -signature imp.sig msg.txt >/dev/null 2>&1'
else
    skip "the imported private key signs what the certificate's key verifies" "pkcs11-tool could not sign"
fi

# delete: refused without an answer, done with y on standard input or --yes
adm key delete --label gen-ed25519 --pin-file user.pin
check "key delete without --yes and no answer: lists what would go, exit 1" \
    '[ $RC -eq 1 ] && has "These 2 object\(s\) of slot 0 will be destroyed" && has "nothing was deleted"'
adm key list --json --pin-file user.pin
check "... both halves are still there" 'json_ok "sum(o[\"label\"] == \"gen-ed25519\" for o in d) == 2"'
adm_in 'y\n' key delete --label gen-ed25519 --pin-file user.pin
check "key delete answered y: destroyed" '[ $RC -eq 0 ] && has "Destroyed 2 object"'
adm key delete --id 02 --yes --pin-file user.pin
check "key delete --id --yes" '[ $RC -eq 0 ] && has "Destroyed 2 object"'
adm key list --json --pin-file user.pin
check "... gone from key list" 'json_ok "not any(o[\"label\"] in (\"gen-ed25519\", \"imported-rsa\") for o in d)"'
H=$(printf '%s' "$OUT" | python3 -c 'import json,sys; print([o["handle"] for o in json.load(sys.stdin) if o["label"] == "raw-aes"][0])')
adm key delete --handle "$H" --yes --pin-file user.pin
check "key delete --handle (from key list --json)" '[ $RC -eq 0 ] && has "Destroyed 1 object"'
adm key delete --label no-such --yes --pin-file user.pin
check "key delete of nothing: exit 1" '[ $RC -eq 1 ] && has "nothing was deleted"'

# ---------------------------------------------------------------------------
# audit
if [ -s "$LOG" ]; then
    adm audit show -n 5 --log "$LOG"
    check "audit show -n 5: a table of 5 records" \
        '[ $RC -eq 0 ] && has "^TIME +SEQ +EVENT +SLOT/SESS +USER +MECHANISM +OBJECT/LABEL +RESULT" && [ "$(printf "%s\n" "$OUT" | wc -l)" -eq 6 ]'
    adm --json audit show -n 3 --log "$LOG"
    check "audit show --json: the last 3 records" \
        'json_ok "len(d) == 3 and all(\"seq\" in r and \"event\" in r for r in d) and d[2][\"seq\"] == d[0][\"seq\"] + 2"'
    adm audit export --format json --log "$LOG" --out audit.json
    check "audit export --format json: an array of every record" \
        '[ $RC -eq 0 ] && python3 -c "import json,sys; d=json.load(open(\"audit.json\")); sys.exit(0 if len(d) == $(wc -l <"$LOG") else 1)"'
    adm audit export --format ndjson --log "$LOG" --out audit.ndjson
    check "audit export --format ndjson: the lines as stored" '[ $RC -eq 0 ] && cmp -s audit.ndjson "$LOG"'
    adm audit export --format syslog --log "$LOG"
    check "audit export --format syslog: RFC 5424 lines, authpriv" \
        '[ $RC -eq 0 ] && [ "$(printf "%s\n" "$OUT" | grep -cE "^<8[46]>1 [0-9T:.-]+Z [^ ]+ craton-hsm [0-9]+ [a-z_]+ \[craton@32473 seq=\"[0-9]+\" result=\"CKR_[A-Z_]+\"\] \{")" -eq "$(wc -l <"$LOG")" ] && has "^<84>1 " && has "^<86>1 "'
else
    for d in "audit show" "audit show --json" "audit export json" "audit export ndjson" "audit export syslog"; do
        skip "$d" "the module wrote no audit log at $LOG"
    done
fi
if need_vendor "audit verify on the intact log"; then
    adm audit verify
    check "audit verify on the intact log: exit 0" '[ $RC -eq 0 ] && has "intact"'
    adm --json audit verify
    check "audit verify --json" 'json_ok "d[\"status\"] == \"intact\" and d[\"records\"] > 0"'
    adm audit show -n 2
    check "audit show finds the configured log" '[ $RC -eq 0 ] && has "^TIME"'
    cp "$LOG" tampered.jsonl
    python3 - tampered.jsonl <<'PY'
import re, sys
p = sys.argv[1]
lines = open(p).read().split("\n")
# a different time in the third record: still a well-formed line
lines[2] = re.sub(r'("ts":"[^"]*?)(\d)(Z")', lambda m: m.group(1) + str((int(m.group(2)) + 1) % 10) + m.group(3), lines[2], count=1)
open(p, "w").write("\n".join(lines))
PY
    adm audit verify --log "$T/tampered.jsonl"
    check "audit verify on a tampered copy (third record changed): exit 1, the line named" \
        '[ $RC -eq 1 ] && has "line [34] of .*tampered\.jsonl: "'
fi

# ---------------------------------------------------------------------------
# backup / restore
if need_vendor "backup and restore round trip"; then
    adm backup --output slot0.cbk --so-pin-file so.pin --passphrase-file pass.txt
    check "backup: written, mode 0600" \
        '[ $RC -eq 0 ] && [ -s slot0.cbk ] && [ "$(stat -c %a slot0.cbk)" = 600 ]'
    adm backup --output slot0.cbk --so-pin-file so.pin --passphrase-file pass.txt
    check "backup onto an existing file: exit 1 without --force" '[ $RC -eq 1 ] && has "--force"'
    adm backup --output other.cbk --so-pin-file wrong.pin --passphrase-file pass.txt
    check "backup with a wrong SO PIN: exit 1, no file" '[ $RC -eq 1 ] && [ ! -e other.cbk ]'
    adm key delete --label gen-ec:p256 --yes --pin-file user.pin
    check "a key deleted after the backup" '[ $RC -eq 0 ]'
    cp slot0.cbk corrupt.cbk
    python3 -c 'import sys; b=bytearray(open("corrupt.cbk","rb").read()); b[len(b)//2]^=1; open("corrupt.cbk","wb").write(b)'
    adm restore --input corrupt.cbk --so-pin-file so.pin --passphrase-file pass.txt --yes
    check "restore of a corrupted backup: exit 1, nothing changed" \
        '[ $RC -eq 1 ] && has "wrong passphrase or corrupted backup; nothing was changed"'
    adm restore --input slot0.cbk --so-pin-file so.pin --passphrase-file badpass.txt --yes
    check "restore with a wrong passphrase: exit 1" '[ $RC -eq 1 ] && has "wrong passphrase"'
    adm key list --json --pin-file user.pin
    check "... the key deleted after the backup is still absent" 'json_ok "not any(o[\"label\"] == \"gen-ec:p256\" for o in d)"'
    adm restore --input slot0.cbk --so-pin-file so.pin --passphrase-file pass.txt
    check "restore without --yes and no answer: exit 1" '[ $RC -eq 1 ] && has "All objects of slot 0 will be replaced"'
    adm restore --input slot0.cbk --slot 1 --so-pin-file so.pin --passphrase-file pass.txt --yes
    check "restore into another token: exit 1, use --force" '[ $RC -eq 1 ] && has "backup of a different token; use --force"'
    adm restore --input slot0.cbk --so-pin-file so.pin --passphrase-file pass.txt --yes
    check "restore: exit 0" '[ $RC -eq 0 ] && has "Restored slot 0"'
    adm key list --json --pin-file user.pin
    check "... the deleted key is back" 'json_ok "sum(o[\"label\"] == \"gen-ec:p256\" for o in d) == 2"'
    if p11sign "$ECID" msg2.sig; then
        CMD="openssl dgst -sha256 -verify ec.pub.pem -signature msg2.sig msg.txt"
        check "... and signs after the restore: the exported public key verifies it" \
            'openssl dgst -sha256 -verify ec.pub.pem -signature msg2.sig msg.txt >/dev/null 2>&1'
    else
        skip "... and signs after the restore" "pkcs11-tool could not sign"
    fi
fi

# ---------------------------------------------------------------------------
# selftest, config check, status
if need_vendor "selftest"; then
    adm selftest
    check "selftest: every test passes, with a summary" \
        '[ $RC -eq 0 ] && has "^integrity +pass" && has "^17 of 17 self-tests passed"'
    adm --json selftest
    check "selftest --json" 'json_ok "d[\"passed\"] == d[\"total\"] == 17 and all(t[\"passed\"] for t in d[\"tests\"])"'
fi
if need_vendor "config check"; then
    adm config check
    check "config check of the good file: exit 0, effective values" \
        '[ $RC -eq 0 ] && has "pbkdf2_iterations = 100000" && has "max_failed_logins = 3"'
    printf '[security]\nmax_failed_logins = 1\n' >bad.toml
    chmod 600 bad.toml
    adm config check "$T/bad.toml"
    check "config check of a bad file: exit 1, file:line" '[ $RC -eq 1 ] && has "bad\.toml:2"'
    adm --json config check "$T/bad.toml"
    check "config check --json of a bad file" 'json_ok "not d[\"valid\"] and \"bad.toml\" in d[\"error\"]"'
fi
adm status
if need_vendor "status"; then
    check "status: version, paths, state" \
        '[ $RC -eq 0 ] && has "^library: +Craton HSM Project" && has "^storage: +.*store" && has "^state: +operational"'
    adm --json status
    check "status --json" \
        'json_ok "d[\"initialized\"] and d[\"status\"][\"slots\"] == 2 and not d[\"status\"][\"error_state\"] and d[\"status\"][\"audit_path\"].endswith(\"craton_hsm_audit.jsonl\")"'
fi

# ---------------------------------------------------------------------------
# a locked SO PIN: only --wipe-locked helps
adm pin change --user-type SO --slot 1 --so-pin-file wrong.pin --new-pin-file so2.pin
adm pin change --user-type SO --slot 1 --so-pin-file wrong.pin --new-pin-file so2.pin
adm pin change --user-type SO --slot 1 --so-pin-file wrong.pin --new-pin-file so2.pin
check "three wrong SO PINs lock it: exit 1, the only remedy named" \
    '[ $RC -eq 1 ] && has "SO PIN of slot 1 is locked" && has "token init --wipe-locked"'
adm pin reset --slot 1 --so-pin-file so2.pin --new-pin-file user.pin
check "pin reset with a locked SO PIN: exit 1" '[ $RC -eq 1 ] && has "only remedy is re-initialising the token"'
adm token init --slot 1 --label after --so-pin-file so2.pin --yes
check "token init on a locked SO PIN without --wipe-locked: exit 1, use --wipe-locked" \
    '[ $RC -eq 1 ] && has "--wipe-locked"'
adm token init --slot 0 --label x --so-pin-file so.pin --wipe-locked --yes
check "--wipe-locked on a token whose SO PIN is fine: refused" '[ $RC -eq 1 ] && has "only for a token whose SO PIN is locked"'
if need_vendor "token init --wipe-locked"; then
    adm token init --slot 1 --label wiped --so-pin-file so.pin --wipe-locked
    check "--wipe-locked without --yes: explains what is lost, exit 1" \
        '[ $RC -eq 1 ] && has "every object" && has "nothing was changed"'
    adm token init --slot 1 --label wiped --so-pin-file so.pin --wipe-locked --yes
    check "--wipe-locked --yes: wiped and initialised" '[ $RC -eq 0 ] && has "Slot 1 wiped" && has "Slot 1 initialised"'
    adm --json token info --slot 1
    check "... a fresh token: SO PIN ok, no user PIN" \
        'json_ok "d[\"label\"] == \"wiped\" and d[\"so_pin\"] == \"ok\" and d[\"user_pin\"] == \"not_set\""'
fi

# ---------------------------------------------------------------------------
N=$((N + 1))
if grep -qF -e "$USER_PIN" -e "$NEW_PIN" -e "$SO_PIN2" -e "$RESET_PIN" -e "$PASS" "$ALL_STDERR"; then
    FAILED=$((FAILED + 1))
    echo "not ok $N - no PIN or passphrase ever appears on stderr"
else
    echo "ok $N - no PIN or passphrase ever appears on stderr"
fi
tap_end
