#!/usr/bin/env bash
# Conditions are passed to check() as single-quoted strings and eval'ed there,
# so variables they use look unused/unexpanded to shellcheck.
# shellcheck disable=SC2016,SC2034,SC2317
# "Your First Token" walkthrough driven through OpenSC's pkcs11-tool.
#
# Usage: tests/interop/first_token.sh MODULE_PATH
#
# Every pkcs11-tool run is a fresh process, i.e. a module restart, so the
# walkthrough also checks what the module persists between runs (token state,
# PINs, failed-login counters).  Output is TAP; exit status 1 if any check
# failed.  Everything happens in a scratch directory removed at exit.
set -u

if [ $# -ne 1 ]; then
    echo "usage: $0 MODULE_PATH" >&2
    exit 2
fi
MODULE=$1
case $MODULE in /*) ;; *) MODULE=$PWD/$MODULE ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
HOLDER_PY=$HERE/hold_module.py
PY=/usr/bin/python3 # the system python has PyKCS11 (python3-pykcs11)

if [ ! -r "$MODULE" ]; then
    echo "Bail out! module not found: $MODULE"
    exit 1
fi
if ! command -v pkcs11-tool >/dev/null 2>&1; then
    echo "Bail out! pkcs11-tool (OpenSC) not installed"
    exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/craton-first-token.XXXXXX") || exit 1
HOLDER_PID=
cleanup() {
    exec 9>&- 2>/dev/null
    if [ -n "$HOLDER_PID" ]; then
        kill "$HOLDER_PID" 2>/dev/null
        wait "$HOLDER_PID" 2>/dev/null
    fi
    cd / && rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$T" || exit 1 # a module falling back to ./ must not touch the caller's directory

# PINs used by the walkthrough; none of them may ever show up on stderr.
SO_PIN=12345678
USER_PIN=87654321
NEW_PIN=24681357
WRONG_PIN=13572468
RESET_PIN=11223344
WRONG_SO_PIN=99999999
SHORT_PIN=1234
ALL_STDERR=$T/all_stderr
: >"$ALL_STDERR"

# shellcheck source=tests/interop/lib.sh
. "$HERE/lib.sh"

# ---------------------------------------------------------------------------
# The walkthrough: one slot, persistent store.
W=$T/hsm
mkdir -p "$W"
CFG=$W/craton_hsm.toml
write_cfg "$CFG" store 'slot_count = 1\npersist_objects = true'

# 1. module and slot information
run -I
check "-I reports Cryptoki version 3.2" '[ $RC -eq 0 ] && has "^Cryptoki version 3\.2$"'
check "-I reports the manufacturer" 'has "^Manufacturer +Craton HSM Project"'
run -L
check "-L lists slot 0 with an uninitialized token" \
    '[ $RC -eq 0 ] && has "^Slot 0 \(0x0\): " && has "token state: +uninitialized" && hasnt "^Slot 1 "'

# the module also finds ./craton_hsm.toml without CRATON_HSM_CONFIG
CMD="(cd hsm && pkcs11-tool --module MODULE -L) without CRATON_HSM_CONFIG"
(cd "$W" && env -u CRATON_HSM_CONFIG "${TO[@]}" pkcs11-tool --module "$MODULE" -L >"$T/out" 2>"$T/err" </dev/null)
RC=$?
OUT=$(cat "$T/out")
ERR=$(cat "$T/err")
check "without CRATON_HSM_CONFIG ./craton_hsm.toml is used (store created next to it)" \
    '[ $RC -eq 0 ] && has "^Slot 0 " && [ -d "$W/store" ]'

# 2. no login on an uninitialised token
run --login --pin "$USER_PIN" --generate-random 8 -o "$T/rnd"
check "user login on the uninitialized token fails" \
    '[ $RC -ne 0 ] && has "CKR_TOKEN_NOT_RECOGNIZED|CKR_USER_PIN_NOT_INITIALIZED"'

# 3. initialise the token
run --init-token --label "Quickstart HSM" --so-pin "$SO_PIN"
check "--init-token --label 'Quickstart HSM' succeeds" '[ $RC -eq 0 ] && has "Token successfully initialized"'
run -T
check "-T shows the label 'Quickstart HSM'" '[ $RC -eq 0 ] && label_is "Quickstart HSM"'
check "-T flags: token initialized, user PIN not yet initialized" \
    'flag_has "token initialized" && flag_hasnt "PIN initialized" && flag_has "login required"'
run --login --pin "$USER_PIN" --generate-random 8 -o "$T/rnd"
check "user login before C_InitPIN fails with CKR_USER_PIN_NOT_INITIALIZED" \
    '[ $RC -ne 0 ] && has "C_Login failed: rv = CKR_USER_PIN_NOT_INITIALIZED"'

# 4. the SO sets the user PIN
run --login --login-type so --so-pin "$SO_PIN" --init-pin --pin "$SHORT_PIN"
check "SO --init-pin with a 4-digit PIN fails with CKR_PIN_LEN_RANGE" \
    '[ $RC -ne 0 ] && has "C_InitPIN failed: rv = CKR_PIN_LEN_RANGE"'
run -T
check "after the rejected short PIN the user PIN is still not initialized" \
    '[ $RC -eq 0 ] && flag_has "token initialized" && flag_hasnt "PIN initialized"'
run --login --login-type so --so-pin "$SO_PIN" --init-pin --pin "$USER_PIN"
check "SO --init-pin --pin $USER_PIN succeeds" '[ $RC -eq 0 ] && has "User PIN successfully initialized"'
run -T
check "-T flags now show PIN initialized" '[ $RC -eq 0 ] && flag_has "PIN initialized" && flag_has "token initialized"'

# 5. user login
rm -f "$T/rnd"
run --login --pin "$USER_PIN" --generate-random 16 -o "$T/rnd"
check "user login with the new PIN works (and the session serves C_GenerateRandom)" \
    '[ $RC -eq 0 ] && hasnt "CKR_" && [ "$(stat -c %s "$T/rnd" 2>/dev/null)" = 16 ]'
run --login --pin "$WRONG_PIN" --generate-random 8 -o "$T/rnd"
check "a wrong user PIN gives CKR_PIN_INCORRECT" '[ $RC -ne 0 ] && has "C_Login failed: rv = CKR_PIN_INCORRECT"'
run -T
check "one failure sets 'user PIN count low'" '[ $RC -eq 0 ] && flag_has "user PIN count low"'
run --login --pin "$USER_PIN" --generate-random 8 -o "$T/rnd"
run -T
check "a successful login clears 'user PIN count low'" \
    '[ $RC -eq 0 ] && flag_hasnt "user PIN count low" && flag_has "PIN initialized"'

# 6. the user changes the PIN
run --login --pin "$USER_PIN" --change-pin --new-pin "$NEW_PIN"
check "user --change-pin succeeds" '[ $RC -eq 0 ] && has "PIN successfully changed"'
run --login --pin "$USER_PIN" --generate-random 8 -o "$T/rnd"
check "the old PIN is now rejected with CKR_PIN_INCORRECT" '[ $RC -ne 0 ] && has "C_Login failed: rv = CKR_PIN_INCORRECT"'
run --login --pin "$NEW_PIN" --generate-random 8 -o "$T/rnd"
check "the new PIN is accepted" '[ $RC -eq 0 ] && hasnt "CKR_"'

# 7. a PIN below pin_min_length is refused by C_SetPIN; nothing changes
run --login --pin "$NEW_PIN" --change-pin --new-pin "$SHORT_PIN"
check "--change-pin to a 4-digit PIN fails with CKR_PIN_LEN_RANGE" \
    '[ $RC -ne 0 ] && has "C_SetPIN failed: rv = CKR_PIN_LEN_RANGE"'
run --login --pin "$SHORT_PIN" --generate-random 8 -o "$T/rnd"
check "the short PIN was not stored (login with it fails)" '[ $RC -ne 0 ] && has "C_Login failed"'
run --login --pin "$NEW_PIN" --generate-random 8 -o "$T/rnd"
check "the current PIN still works after the rejected changes" '[ $RC -eq 0 ] && hasnt "CKR_"'

# 8. lockout across restarts: each pkcs11-tool run is a new process
run --login --pin "$WRONG_PIN" --generate-random 8 -o "$T/rnd"
check "restart 1: wrong PIN gives CKR_PIN_INCORRECT" '[ $RC -ne 0 ] && has "C_Login failed: rv = CKR_PIN_INCORRECT"'
run -T
check "restart 1: flags 'user PIN count low', not final try, not locked" \
    'flag_has "user PIN count low" && flag_hasnt "final user PIN try" && flag_hasnt "user PIN locked"'
run --login --pin "$WRONG_PIN" --generate-random 8 -o "$T/rnd"
check "restart 2: wrong PIN gives CKR_PIN_INCORRECT" '[ $RC -ne 0 ] && has "C_Login failed: rv = CKR_PIN_INCORRECT"'
run -T
check "restart 2: flag 'final user PIN try', not locked" \
    'flag_has "final user PIN try" && flag_hasnt "user PIN locked"'
run --login --pin "$WRONG_PIN" --generate-random 8 -o "$T/rnd"
check "restart 3: the third wrong PIN gives CKR_PIN_LOCKED" '[ $RC -ne 0 ] && has "C_Login failed: rv = CKR_PIN_LOCKED"'
check "the module tells on stderr how a locked user PIN is cured (SO C_InitPIN)" \
    'printf "%s\n" "$ERR" | grep -q "user PIN is locked: the SO can set a new one with C_InitPIN"'
run -T
check "restart 3: flag 'user PIN locked'" 'flag_has "user PIN locked" && flag_has "PIN initialized"'
run --login --pin "$NEW_PIN" --generate-random 8 -o "$T/rnd"
check "the correct PIN is refused with CKR_PIN_LOCKED" '[ $RC -ne 0 ] && has "C_Login failed: rv = CKR_PIN_LOCKED"'

# 9. the SO resets the locked user PIN
run --login --login-type so --so-pin "$SO_PIN" --init-pin --pin "$RESET_PIN"
check "SO --init-pin resets the locked user PIN" '[ $RC -eq 0 ] && has "User PIN successfully initialized"'
run -T
check "flags no longer locked, no count low / final try" \
    '[ $RC -eq 0 ] && flag_has "PIN initialized" && flag_hasnt "locked" && flag_hasnt "count low" && flag_hasnt "final user PIN try"'
run --login --pin "$RESET_PIN" --generate-random 8 -o "$T/rnd"
check "the user logs in with the reset PIN" '[ $RC -eq 0 ] && hasnt "CKR_"'
run --login --pin "$NEW_PIN" --generate-random 8 -o "$T/rnd"
check "the PIN from before the reset is rejected with CKR_PIN_INCORRECT" \
    '[ $RC -ne 0 ] && has "C_Login failed: rv = CKR_PIN_INCORRECT"'

# 10. re-initialising with a wrong SO PIN destroys nothing
run --init-token --label "Other HSM" --so-pin "$WRONG_SO_PIN"
check "--init-token with a wrong SO PIN fails with CKR_PIN_INCORRECT" \
    '[ $RC -ne 0 ] && has "C_InitToken failed: rv = CKR_PIN_INCORRECT"'
run -T
check "label unchanged, user PIN still initialized, 'SO PIN count low' set" \
    '[ $RC -eq 0 ] && label_is "Quickstart HSM" && flag_has "PIN initialized" && flag_has "SO PIN count low"'
run --login --pin "$RESET_PIN" --generate-random 8 -o "$T/rnd"
check "the user PIN still works after the failed re-initialisation" '[ $RC -eq 0 ] && hasnt "CKR_"'

# 11. re-initialising with the right SO PIN
run --init-token --label "Renamed HSM" --so-pin "$SO_PIN"
check "--init-token with the right SO PIN succeeds" '[ $RC -eq 0 ] && has "Token successfully initialized"'
run -T
check "-T shows the new label, token initialized, user PIN not initialized, SO count reset" \
    '[ $RC -eq 0 ] && label_is "Renamed HSM" && flag_has "token initialized" && flag_hasnt "PIN initialized" && flag_hasnt "SO PIN count low"'
run --login --pin "$RESET_PIN" --generate-random 8 -o "$T/rnd"
check "user login now fails with CKR_USER_PIN_NOT_INITIALIZED" \
    '[ $RC -ne 0 ] && has "C_Login failed: rv = CKR_USER_PIN_NOT_INITIALIZED"'

# 12. a second process is refused while another holds the store
mkfifo "$T/holder_in"
CRATON_HSM_CONFIG=$CFG "$PY" "$HOLDER_PY" "$MODULE" <"$T/holder_in" >"$T/holder_out" 2>"$T/holder_err" &
HOLDER_PID=$!
exec 9>"$T/holder_in" # holds the holder's stdin open
for _ in $(seq 1 100); do
    grep -q '^ready$' "$T/holder_out" 2>/dev/null && break
    kill -0 "$HOLDER_PID" 2>/dev/null || break
    sleep 0.1
done
CMD="$PY hold_module.py MODULE"
RC=- OUT=$(cat "$T/holder_out") ERR=$(cat "$T/holder_err")
check "the holder process initialises the module and reports ready" 'grep -q "^ready$" "$T/holder_out"'
LOCK=$W/store/craton_hsm.lock
run -L
check "while held, pkcs11-tool -L fails in C_Initialize with CKR_GENERAL_ERROR" \
    '[ $RC -ne 0 ] && has "C_Initialize failed: rv = CKR_GENERAL_ERROR"'
check "stderr names the lock file $LOCK and the holder's PID $HOLDER_PID, on one line" \
    '[ "$(printf "%s\n" "$ERR" | grep -F -- "$LOCK" | grep -cE -- "(^|[^0-9])$HOLDER_PID([^0-9]|$)")" = 1 ]'
exec 9>&-
wait "$HOLDER_PID"
HRC=$?
HOLDER_PID=
CMD="holder exit" RC=$HRC OUT=$(cat "$T/holder_out") ERR=$(cat "$T/holder_err")
cat "$T/holder_err" >>"$ALL_STDERR"
check "the holder exits cleanly when its stdin closes" '[ $RC -eq 0 ]'
run -T
check "after the holder exits pkcs11-tool works again" '[ $RC -eq 0 ] && label_is "Renamed HSM"'

# 13. files: modes of the store; two slots
CMD="find store -printf '%m %y %P'" RC=- ERR=
OUT=$(cd "$W/store" && find . -printf '%m %y %p\n')
check "the store directory is mode 0700" '[ "$(stat -c %a "$W/store")" = 700 ]'
check "every file in the store is mode 0600 (lock file and token.db present)" \
    '[ -f "$W/store/token.db" ] && [ -f "$LOCK" ] && ! printf "%s\n" "$OUT" | grep -vE "^(600 f|700 d) "'

W2=$T/hsm2
mkdir -p "$W2"
CFG=$W2/craton_hsm.toml
write_cfg "$CFG" store 'slot_count = 2'
run -L
check "slot_count = 2: -L lists two slots with uninitialized tokens" \
    '[ $RC -eq 0 ] && has "^Slot 0 \(0x0\): " && has "^Slot 1 \(0x1\): " && [ "$(printf "%s\n" "$OUT" | grep -c "token state: *uninitialized")" = 2 ]'
CMD="ls store" RC=- OUT=$(cd "$W2/store" && find . -printf '%m %y %p\n') ERR=
check "slot_count = 2: store has slot-0 and slot-1 subdirectories (0700) after the first run" \
    '[ -d "$W2/store/slot-0" ] && [ -d "$W2/store/slot-1" ] && [ "$(stat -c %a "$W2/store/slot-0")" = 700 ] && [ "$(stat -c %a "$W2/store/slot-1")" = 700 ] && ! printf "%s\n" "$OUT" | grep -vE "^(600 f|700 d) "'
run --slot 1 --init-token --label "Slot One" --so-pin "$SO_PIN"
check "--slot 1 --init-token succeeds" '[ $RC -eq 0 ] && has "Token successfully initialized"'
run -L
check "slot 1 initialised as 'Slot One', slot 0 still uninitialized" \
    '[ $RC -eq 0 ] && label_is "Slot One" && printf "%s\n" "$OUT" | sed -n "/^Slot 0 /,/^Slot 1 /p" | grep -q "token state: *uninitialized"'

# 14. persist_objects = false: nothing survives, nothing is written
W3=$T/hsm3
mkdir -p "$W3"
CFG=$W3/craton_hsm.toml
write_cfg "$CFG" store 'persist_objects = false'
run --init-token --label "Ephemeral" --so-pin "$SO_PIN"
check "persist_objects = false: --init-token succeeds" '[ $RC -eq 0 ] && has "Token successfully initialized"'
run -L
check "persist_objects = false: the next run sees an uninitialized token" \
    '[ $RC -eq 0 ] && has "token state: +uninitialized" && hasnt "Ephemeral"'
CMD="find hsm3" RC=- OUT=$(cd "$W3" && find . -mindepth 1 -printf '%p\n' | sort) ERR=
check "persist_objects = false: nothing written under storage_path (only the audit log beside the config)" \
    '[ ! -e "$W3/store" ] && [ "$OUT" = "$(printf "./craton_hsm.toml\n./craton_hsm_audit.jsonl")" ]'

# 15. bad configuration files
W4=$T/bad
mkdir -p "$W4"
CFG=$W4/unknown.toml
printf '[token]\nstorage_path = "store"\n[security]\npbkdf2_iterations = 100000\nmax_failed_login = 3\n' >"$CFG"
chmod 600 "$CFG"
bad_all=0
for a in -I -L -T; do
    run $a
    if [ $RC -eq 0 ] || ! has "$CFG:5:.*max_failed_login"; then bad_all=1; break; fi
done
check "unknown key: -I, -L and -T all fail; stderr names file, line 5 and the key" '[ $bad_all = 0 ]'
CFG=$W4/abs.toml
printf '[token]\nslot_count = 1\nstorage_path = "/abs/store"\n' >"$CFG"
chmod 600 "$CFG"
bad_all=0
for a in -I -L -T; do
    run $a
    if [ $RC -eq 0 ] || ! has "$CFG:3:.*storage_path"; then bad_all=1; break; fi
done
check "storage_path = \"/abs\": -I, -L and -T all fail; stderr names file, line 3 and the key" \
    '[ $bad_all = 0 ] && [ ! -e /abs/store ] && [ ! -e "$W4/store" ]'
CFG=$W4/writable.toml
write_cfg "$CFG" store
chmod 660 "$CFG"
run -I
check "a group-writable config file is refused" '[ $RC -ne 0 ] && has "$CFG" && [ ! -e "$W4/store" ]'

# 16. a locked SO PIN: refused even when right, and the module says the only
# remedy is re-initialisation (which C_InitToken itself refuses).
W5=$T/solock
mkdir -p "$W5"
CFG=$W5/craton_hsm.toml
write_cfg "$CFG" store
run --init-token --label "SO lock" --so-pin "$SO_PIN"
for i in 1 2 3; do
    run --login --login-type so --so-pin "$WRONG_SO_PIN" --init-pin --pin "$USER_PIN"
done
check "the third wrong SO PIN gives CKR_PIN_LOCKED" '[ $RC -ne 0 ] && has "rv = CKR_PIN_LOCKED"'
check "stderr says a locked SO PIN can only be cured by re-initialising the token" \
    'printf "%s\n" "$ERR" | grep -q "SO PIN is locked and cannot be unlocked or reset: the only remedy is to re-initialise"'
run -T
check "-T flag 'SO PIN locked'" '[ $RC -eq 0 ] && flag_has "SO PIN locked"'
run --init-token --label "SO lock" --so-pin "$SO_PIN"
check "--init-token with the right SO PIN is refused with CKR_PIN_LOCKED" '[ $RC -ne 0 ] && has "CKR_PIN_LOCKED"'

# no secrets on stderr
CMD="grep PINs in the collected stderr of all runs" RC=- ERR=
OUT=$(grep -nE -- "$SO_PIN|$USER_PIN|$NEW_PIN|$WRONG_PIN|$RESET_PIN|$WRONG_SO_PIN" "$ALL_STDERR")
check "no PIN ever appears on stderr ($(wc -l <"$ALL_STDERR") lines checked)" \
    '[ -z "$OUT" ] && [ -s "$ALL_STDERR" ]'

echo "1..$N"
[ "$FAILED" -eq 0 ] || {
    echo "# $FAILED of $N checks failed"
    exit 1
}
exit 0
