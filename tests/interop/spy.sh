#!/usr/bin/env bash
# Conditions are passed to check() as single-quoted strings and eval'ed there,
# so variables they use look unused/unexpanded to shellcheck.
# shellcheck disable=SC2016,SC2034,SC2317
# The PKCS#11 spy (libcraton_pkcs11_spy.so) under OpenSC's pkcs11-tool and
# PyKCS11, wrapping our module and SoftHSMv2:
#  - token init, PIN init, key generation, signing and `pkcs11-tool --test`
#    work through the spy exactly as without it;
#  - every log line is a JSON object with ts, pid, tid, fn, args, rv, us, and
#    the calls made are all there, with decoded arguments;
#  - no PIN and no secret attribute value (a known AES key created and read
#    back through the spy) reaches the log;
#  - the spy's function lists hold only the spy's own functions (nothing
#    bypasses it) and it offers the interface versions its target offers;
#  - without CRATON_SPY_MODULE (or with a bad one) it fails cleanly;
#  - it exports only the three PKCS#11 entry points.
#
# Usage: tests/interop/spy.sh MODULE_PATH SPY_PATH
#
# SoftHSMv2 (/usr/lib/softhsm/libsofthsm2.so) is used when installed;
# otherwise its checks are skipped.  TAP output.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 MODULE_PATH SPY_PATH" >&2
    exit 2
fi
CRATON=$1
SPY=$2
case $CRATON in /*) ;; *) CRATON=$PWD/$CRATON ;; esac
case $SPY in /*) ;; *) SPY=$PWD/$SPY ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3 # the system python has PyKCS11 (python3-pykcs11)
SOFTHSM=/usr/lib/softhsm/libsofthsm2.so
[ -r "$CRATON" ] || { echo "Bail out! module not found: $CRATON"; exit 1; }
[ -r "$SPY" ] || { echo "Bail out! spy not found: $SPY"; exit 1; }
command -v pkcs11-tool >/dev/null || { echo "Bail out! pkcs11-tool (OpenSC) not installed"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/craton-spy.XXXXXX") || exit 1
trap 'cd / && rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
cd "$T" || exit 1
ALL_STDERR=$T/all_stderr
: >"$ALL_STDERR"
# shellcheck source=tests/interop/lib.sh
. "$HERE/lib.sh"

# PINs with letters and dashes: they cannot occur by chance in a number or
# a hex string of the log.
SO_PIN=Spy-So-Pin-7341
USER_PIN=Spy-User-Pin-5862
# A known AES-256 key value (printable, so a raw copy would be found too).
KEY_VALUE=SpySecretKeyValue-0123456789abcd
# A token label that needs JSON escaping (quote, backslash, UTF-8).
LABEL='spy "tök" \ ✓'

# log_check LOG CHECK [ARGS...]: the python checks below, on LOG.
cat >"$T/logcheck.py" <<'EOF'
import base64, json, re, sys

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def lines(path):
    with open(path, "rb") as f:
        raw = f.read().split(b"\n")
    if raw and raw[-1] == b"":
        raw.pop()
    return raw


def records(path):
    return [json.loads(l) for l in lines(path)]


def valid(path):
    """Every line one JSON object with the fields and their types."""
    n = 0
    for i, l in enumerate(lines(path), 1):
        try:
            r = json.loads(l)
        except ValueError as e:
            print("line %d is not JSON (%s): %r" % (i, e, l[:200]))
            return 1
        ok = (isinstance(r, dict) and isinstance(r.get("ts"), str) and TS.match(r["ts"])
              and isinstance(r.get("pid"), int) and isinstance(r.get("tid"), int)
              and isinstance(r.get("fn"), str) and r["fn"].startswith("C_")
              and isinstance(r.get("args"), dict)
              and isinstance(r.get("rv"), str) and r["rv"].startswith("CKR_")
              and isinstance(r.get("us"), int) and r["us"] >= 0)
        if not ok:
            print("line %d lacks a field or has a wrong type: %r" % (i, l[:300]))
            return 1
        n += 1
    print("%d valid lines" % n)
    return 0 if n > 0 else 1


def has(path, *fns):
    seen = {r["fn"] for r in records(path)}
    missing = [f for f in fns if f not in seen]
    print("missing: %s" % " ".join(missing) if missing else "all present")
    return 1 if missing else 0


def first(path, fn, pred=lambda r: True):
    for r in records(path):
        if r["fn"] == fn and pred(r):
            return r
    return None


def login(path, user):
    """A C_Login of user type user with a redacted PIN and its length."""
    r = first(path, "C_Login", lambda r: r["args"].get("userType") == user)
    print(json.dumps(r))
    pin = r and r["args"].get("pPin")
    return 0 if pin == {"redacted": True, "len": int(sys.argv[4])} and r["rv"] == "CKR_OK" else 1


def session_flags(path):
    r = first(path, "C_OpenSession")
    print(json.dumps(r))
    names = r and r["args"]["flags"].get("names")
    return 0 if names and "CKF_SERIAL_SESSION" in names and isinstance(r["args"]["phSession"], int) else 1


def interface(path, version):
    r = first(path, "C_GetInterface", lambda r: r["rv"] == "CKR_OK")
    print(json.dumps(r))
    return 0 if r and r["args"]["ppInterface"]["version"] == version else 1


def sign(path):
    """C_SignInit shows the mechanism, C_Sign the lengths."""
    i = first(path, "C_SignInit", lambda r: r["rv"] == "CKR_OK")
    s = first(path, "C_Sign", lambda r: r["rv"] == "CKR_OK" and "len" in r["args"]["pSignature"])
    print(json.dumps(i))
    print(json.dumps(s))
    return 0 if (i and i["args"]["pMechanism"]["mechanism"] == "CKM_ECDSA"
                 and isinstance(i["args"]["hKey"], int)
                 and s and s["args"]["pData"] == {"len": 32}
                 and s["args"]["pSignature"]["len"] == 64) else 1


def label(path, want):
    """C_InitToken's label and C_GetTokenInfo's, JSON-escaped and back."""
    i = first(path, "C_InitToken")
    t = first(path, "C_GetTokenInfo", lambda r: r["rv"] == "CKR_OK"
              and r["args"]["pInfo"]["label"] == want)
    print(json.dumps(i, ensure_ascii=False))
    return 0 if i and i["args"]["pLabel"] == want and t else 1


def attrs(r, name):
    return {a["type"]: a for a in r["args"][name]}


def secret(path):
    """The AES key's CKA_VALUE: redacted in C_CreateObject and in the
    C_GetAttributeValue that returned it (not the size query before it); the
    label (not secret) shown in both."""
    c = first(path, "C_CreateObject", lambda r: r["rv"] == "CKR_OK")
    g = first(path, "C_GetAttributeValue",
              lambda r: r["rv"] == "CKR_OK" and "CKA_VALUE" in attrs(r, "pTemplate")
              and "value" in attrs(r, "pTemplate").get("CKA_LABEL", {}))
    print(json.dumps(c))
    print(json.dumps(g))
    if not c or not g:
        return 1
    ca, ga = attrs(c, "pTemplate"), attrs(g, "pTemplate")
    ok = (ca["CKA_VALUE"] == {"type": "CKA_VALUE", "len": 32, "redacted": True}
          and ga["CKA_VALUE"] == {"type": "CKA_VALUE", "len": 32, "redacted": True}
          and ca["CKA_CLASS"].get("value") == "CKO_SECRET_KEY"
          and ca["CKA_KEY_TYPE"].get("value") == "CKK_AES"
          and ca["CKA_LABEL"].get("value") == "spy-aes"
          and ga["CKA_LABEL"].get("value") == "spy-aes"
          and ca["CKA_SENSITIVE"].get("value") is False
          and isinstance(c["args"]["phObject"], int))
    return 0 if ok else 1


def absent(path, value):
    """value, raw, as hex (either case) or base64, is nowhere in the file."""
    data = open(path, "rb").read()
    v = value.encode()
    forms = [v, v.hex().encode(), v.hex().upper().encode(), base64.b64encode(v)]
    found = [f for f in forms if f in data]
    print("found: %r" % found if found else "absent")
    return 1 if found else 0


cmd, path = sys.argv[1], sys.argv[2]
args = sys.argv[3:]
sys.exit({"valid": valid, "has": has, "login": login, "session_flags": session_flags,
          "interface": interface, "sign": sign, "label": label, "secret": secret, "absent": absent}[cmd](
              path, *args[:1] if cmd in ("login", "interface", "absent", "label") else args))
EOF
log_check() {
    CMD="logcheck.py $*"
    OUT=$("$PY" "$T/logcheck.py" "$@" 2>&1)
    RC=$?
    ERR=''
}

# The spy's interfaces, and whether every function pointer in its lists lies
# inside the spy itself (dladdr), so no call can go to the target directly.
cat >"$T/lists.py" <<'EOF'
import ctypes, os, sys

spy = os.path.realpath(sys.argv[1])
lib = ctypes.CDLL(spy)
libc = ctypes.CDLL(None)


class Interface(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("list", ctypes.c_void_p), ("flags", ctypes.c_ulong)]


class DlInfo(ctypes.Structure):
    _fields_ = [("fname", ctypes.c_char_p), ("fbase", ctypes.c_void_p),
                ("sname", ctypes.c_char_p), ("saddr", ctypes.c_void_p)]


libc.dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(DlInfo)]
count = ctypes.c_ulong(0)
rv = lib.C_GetInterfaceList(None, ctypes.byref(count))
if rv != 0:
    print("C_GetInterfaceList: rv %#x" % rv)
    sys.exit(1)
itfs = (Interface * count.value)()
rv = lib.C_GetInterfaceList(itfs, ctypes.byref(count))
members = {(2, 40): 68, (3, 0): 92, (3, 2): 104}
versions, bad = [], 0
for itf in itfs:
    ver = ctypes.cast(itf.list, ctypes.POINTER(ctypes.c_ubyte * 2)).contents
    v = (ver[0], ver[1])
    versions.append("%d.%d" % v)
    fns = ctypes.cast(itf.list + 8, ctypes.POINTER(ctypes.c_void_p * members[v])).contents
    for i, f in enumerate(fns):
        info = DlInfo()
        if not f or not libc.dladdr(f, ctypes.byref(info)) or \
                os.path.realpath(info.fname.decode()) != spy:
            print("interface %d.%d member %d is not the spy's: %s" %
                  (v[0], v[1], i, info.fname if f else "NULL"))
            bad += 1
fl = ctypes.c_void_p()
rv = lib.C_GetFunctionList(ctypes.byref(fl))
if rv != 0 or fl.value not in [i.list for i in itfs]:
    print("C_GetFunctionList: rv %#x, not one of the interfaces' lists" % rv)
    bad += 1
print(" ".join(versions))
sys.exit(1 if bad else 0)
EOF
lists_check() {
    CMD="CRATON_SPY_MODULE=$1 lists.py SPY"
    OUT=$(CRATON_SPY_MODULE=$1 CRATON_SPY_LOG=$T/lists.log "$PY" "$T/lists.py" "$SPY" 2>&1)
    RC=$?
    ERR=''
}

# The AES key with a known value, created and read back through the spy.
cat >"$T/aes.py" <<'EOF'
import sys
import PyKCS11
from PyKCS11 import (CKA_CLASS, CKA_EXTRACTABLE, CKA_KEY_TYPE, CKA_LABEL, CKA_SENSITIVE,
                     CKA_TOKEN, CKA_VALUE, CKK_AES, CKO_SECRET_KEY, CKF_RW_SESSION,
                     CKF_SERIAL_SESSION)

module, pin, value = sys.argv[1], sys.argv[2], sys.argv[3].encode()
lib = PyKCS11.PyKCS11Lib()
lib.load(module)
slot = lib.getSlotList(tokenPresent=True)[0]
s = lib.openSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION)
s.login(pin)
key = s.createObject([(CKA_CLASS, CKO_SECRET_KEY), (CKA_KEY_TYPE, CKK_AES),
                      (CKA_TOKEN, False), (CKA_SENSITIVE, False), (CKA_EXTRACTABLE, True),
                      (CKA_LABEL, "spy-aes"), (CKA_VALUE, list(value))])
got = s.getAttributeValue(key, [CKA_VALUE, CKA_LABEL])
s.logout()
s.closeSession()
if bytes(got[0]) != value or got[1] != "spy-aes":
    print("read back %r %r" % (bytes(got[0]), got[1]))
    sys.exit(1)
print("created and read back")
EOF

# spy_env TARGET LOG: what the spy reads from the environment.
spy_env() {
    export CRATON_SPY_MODULE=$1 CRATON_SPY_LOG=$2
}

# one_target NAME TARGET_MODULE LOG: the same session through the spy and
# the direct comparison, then the log checks.
one_target() {
    local name=$1 target=$2 log=$3 direct_rc spy_out
    spy_env "$target" "$log"
    MODULE=$SPY
    run --init-token --label "$LABEL" --so-pin "$SO_PIN"
    check "$name: --init-token through the spy" '[ $RC -eq 0 ] && has "Token successfully initialized"'
    run --login --login-type so --so-pin "$SO_PIN" --init-pin --pin "$USER_PIN"
    check "$name: --init-pin through the spy" '[ $RC -eq 0 ] && has "User PIN successfully initialized"'
    run --login --pin "$USER_PIN" --keypairgen --key-type EC:prime256v1 --id 01 --label spy-ec
    check "$name: EC P-256 --keypairgen through the spy" '[ $RC -eq 0 ]'
    head -c 32 /dev/urandom >"$T/hash.bin"
    rm -f "$T/sig.bin"
    run --login --pin "$USER_PIN" --sign --mechanism ECDSA --id 01 -i "$T/hash.bin" -o "$T/sig.bin"
    check "$name: ECDSA --sign through the spy (64-byte signature)" \
        '[ $RC -eq 0 ] && [ "$(stat -c %s "$T/sig.bin" 2>/dev/null)" = 64 ]'
    run --test --login --pin "$USER_PIN"
    spy_out=$OUT
    check "$name: pkcs11-tool --test --login through the spy" '[ $RC -eq 0 ] && has "^No errors$"'
    MODULE=$target
    run --test --login --pin "$USER_PIN"
    direct_rc=$RC
    check "$name: --test directly gives the same exit status and output as through the spy" \
        '[ $direct_rc -eq 0 ] && [ "$OUT" = "$spy_out" ]'
    MODULE=$SPY
    if [ -n "${4:-}" ]; then
        xrun "$PY" "$T/aes.py" "$SPY" "$USER_PIN" "$KEY_VALUE"
        check "$name: PyKCS11 creates an AES key of known value and reads it back through the spy" \
            '[ $RC -eq 0 ]'
    fi

    log_check valid "$log"
    check "$name: every log line is a JSON object with ts, pid, tid, fn, args, rv, us" '[ $RC -eq 0 ]'
    log_check has "$log" C_GetInterface C_Initialize C_GetSlotList C_GetTokenInfo C_OpenSession \
        C_Login C_InitToken C_InitPIN C_GenerateKeyPair C_FindObjectsInit C_FindObjects \
        C_SignInit C_Sign C_DigestInit C_Digest C_GenerateRandom C_CloseSession C_Finalize
    check "$name: the log has every function the runs called" '[ $RC -eq 0 ]'
    log_check label "$log" "$LABEL"
    check "$name: the token label (quote, backslash, UTF-8) logged and read back intact" '[ $RC -eq 0 ]'
    log_check login "$log" CKU_SO "${#SO_PIN}"
    check "$name: C_Login as CKU_SO logged with the PIN redacted (length only)" '[ $RC -eq 0 ]'
    log_check login "$log" CKU_USER "${#USER_PIN}"
    check "$name: C_Login as CKU_USER logged with the PIN redacted (length only)" '[ $RC -eq 0 ]'
    log_check session_flags "$log"
    check "$name: C_OpenSession logs flag names and the new handle" '[ $RC -eq 0 ]'
    log_check sign "$log"
    check "$name: C_SignInit logs CKM_ECDSA and the key, C_Sign the data and signature lengths" \
        '[ $RC -eq 0 ]'
    log_check absent "$log" "$SO_PIN"
    check "$name: the SO PIN appears nowhere in the log" '[ $RC -eq 0 ] && [ "$(grep -c -- "$SO_PIN" "$log")" = 0 ]'
    log_check absent "$log" "$USER_PIN"
    check "$name: the user PIN appears nowhere in the log" '[ $RC -eq 0 ] && [ "$(grep -c -- "$USER_PIN" "$log")" = 0 ]'
}

# ---------------------------------------------------------------------------
# Our module.
CFG=$T/craton_hsm.toml
write_cfg "$CFG" store
export CRATON_HSM_CONFIG=$CFG
one_target Craton "$CRATON" "$T/craton.log" aes
log_check secret "$T/craton.log"
check "Craton: CKA_VALUE redacted in C_CreateObject and C_GetAttributeValue, CKA_LABEL shown" '[ $RC -eq 0 ]'
log_check absent "$T/craton.log" "$KEY_VALUE"
check "Craton: the AES key's value (raw, hex or base64) appears nowhere in the log" '[ $RC -eq 0 ]'
log_check interface "$T/craton.log" 3.2
check "Craton: pkcs11-tool got the spy's 3.2 interface" '[ $RC -eq 0 ]'
lists_check "$CRATON"
check "Craton: the spy offers 3.2, 3.0 and 2.40, and every list member is the spy's own" \
    '[ $RC -eq 0 ] && [ "$(printf "%s\n" "$OUT" | tail -n 1)" = "3.2 3.0 2.40" ]'
check "Craton: the log file is created with mode 0600" '[ "$(stat -c %a "$T/craton.log")" = 600 ]'

# ---------------------------------------------------------------------------
# SoftHSMv2 (2.40 only, no C_GetInterface) as the target.
if [ -r "$SOFTHSM" ]; then
    mkdir -p "$T/softhsm/tokens"
    printf 'directories.tokendir = %s/softhsm/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
        "$T" >"$T/softhsm/softhsm2.conf"
    export SOFTHSM2_CONF=$T/softhsm/softhsm2.conf
    one_target SoftHSM "$SOFTHSM" "$T/softhsm.log"
    log_check interface "$T/softhsm.log" 2.40
    check "SoftHSM: pkcs11-tool got the spy's 2.40 interface (SoftHSM offers no 3.x)" '[ $RC -eq 0 ]'
    lists_check "$SOFTHSM"
    check "SoftHSM: the spy offers only 2.40, and every list member is the spy's own" \
        '[ $RC -eq 0 ] && [ "$(printf "%s\n" "$OUT" | tail -n 1)" = "2.40" ]'
else
    for what in "SoftHSM as the spy's target" "SoftHSM interface version"; do
        skip "$what" "SoftHSMv2 not installed ($SOFTHSM)"
    done
fi

# ---------------------------------------------------------------------------
# Without a usable target.
MODULE=$SPY
unset CRATON_SPY_MODULE
export CRATON_SPY_LOG=$T/notarget.log
run -L
check "CRATON_SPY_MODULE unset: pkcs11-tool -L fails cleanly (exit 1..127, no crash)" \
    '[ $RC -ne 0 ] && [ $RC -lt 128 ]'
check "CRATON_SPY_MODULE unset: stderr says so" 'printf "%s\n" "$ERR" | grep -q "CRATON_SPY_MODULE is not set"'
log_check valid "$T/notarget.log"
check "CRATON_SPY_MODULE unset: the failed call is logged as CKR_GENERAL_ERROR" \
    '[ $RC -eq 0 ] && grep -q "\"rv\":\"CKR_GENERAL_ERROR\"" "$T/notarget.log"'
export CRATON_SPY_MODULE=$T/no-such-module.so
run -L
check "CRATON_SPY_MODULE not loadable: pkcs11-tool -L fails cleanly, stderr names the path" \
    '[ $RC -ne 0 ] && [ $RC -lt 128 ] && printf "%s\n" "$ERR" | grep -q "cannot load CRATON_SPY_MODULE=$T/no-such-module.so"'
unset CRATON_SPY_MODULE CRATON_SPY_LOG

# ---------------------------------------------------------------------------
defined=$(nm -D --defined-only "$SPY" | awk '{print $3}' | sort | tr '\n' ' ')
CMD="nm -D --defined-only SPY" OUT=$defined ERR='' RC=0
check "the spy exports exactly C_GetFunctionList C_GetInterface C_GetInterfaceList" \
    '[ "$defined" = "C_GetFunctionList C_GetInterface C_GetInterfaceList " ]'

tap_end
