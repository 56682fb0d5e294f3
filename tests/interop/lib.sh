# Helpers shared by the interop scripts (sourced).  The caller sets MODULE,
# T (scratch directory) and ALL_STDERR before sourcing, and CFG before run.
# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034

TO=()
command -v timeout >/dev/null 2>&1 && TO=(timeout 30)

N=0
FAILED=0
CMD='' RC='' OUT='' ERR=''

# run ARGS...: pkcs11-tool --module MODULE ARGS, with the config in $CFG.
# Sets RC, OUT (stdout), ERR (stderr), CMD.
run() {
    CMD="pkcs11-tool --module MODULE $*"
    CRATON_HSM_CONFIG=$CFG "${TO[@]}" pkcs11-tool --module "$MODULE" "$@" >"$T/out" 2>"$T/err" </dev/null
    RC=$?
    OUT=$(cat "$T/out")
    ERR=$(cat "$T/err")
    cat "$T/err" >>"$ALL_STDERR"
}

# Predicates on the last run.
has() { printf '%s\n%s\n' "$OUT" "$ERR" | grep -qE -- "$1"; }
hasnt() { ! has "$1"; }
flags() { printf '%s\n' "$OUT" | grep -E '^ *token flags *:' | head -n 1; }
flag_has() { flags | grep -qF -- "$1"; }
flag_hasnt() { ! flag_has "$1"; }
label_is() { printf '%s\n' "$OUT" | grep -qE "^ *token label *: $1\$"; }

# check DESCRIPTION CONDITION: CONDITION is evaluated with eval.
check() {
    local desc=$1 cond=$2
    N=$((N + 1))
    if eval "$cond"; then
        echo "ok $N - $desc"
    else
        FAILED=$((FAILED + 1))
        echo "not ok $N - $desc"
        echo "#   condition: $cond"
        echo "#   command:   $CMD"
        echo "#   exit code: $RC"
        printf '%s\n%s\n' "$OUT" "$ERR" | sed -e '/^$/d' -e 's/^/#   /'
    fi
}

# write_cfg FILE STORAGE_PATH [EXTRA_TOKEN_LINES]
write_cfg() {
    {
        echo '[token]'
        echo "storage_path = \"$2\""
        [ -n "${3:-}" ] && printf '%b\n' "$3"
        echo '[security]'
        echo 'pbkdf2_iterations = 100000'
        echo 'max_failed_logins = 3'
        echo 'pin_min_length = 8'
    } >"$1"
    chmod 600 "$1"
}


# ---------------------------------------------------------------------------
# Helpers of the mechanism scripts (mechanisms.sh, engine.sh, pykcs11.sh),
# which also run against SoftHSMv2 to validate the checks themselves.

# setup_module DIR: configures MODULE with its state under DIR.  Craton: a
# craton_hsm.toml (store in DIR/store), CFG and CRATON_HSM_CONFIG exported.
# SoftHSMv2 (basename contains "softhsm"): DIR/softhsm2.conf with the token
# directory DIR/tokens, exported as SOFTHSM2_CONF.  Sets IS_CRATON (1 or 0)
# and MODULE_NAME.
setup_module() {
    local dir=$1
    case ${MODULE##*/} in
    *softhsm*)
        IS_CRATON=0
        MODULE_NAME=SoftHSMv2
        mkdir -p "$dir/tokens"
        printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
            "$dir" >"$dir/softhsm2.conf"
        CFG=$dir/softhsm2.conf
        export SOFTHSM2_CONF=$CFG
        ;;
    *)
        IS_CRATON=1
        MODULE_NAME=Craton
        CFG=$dir/craton_hsm.toml
        write_cfg "$CFG" store
        export CRATON_HSM_CONFIG=$CFG
        ;;
    esac
}

# init_token LABEL SO_PIN USER_PIN: C_InitToken, then the SO's C_InitPIN.
# RC/OUT/ERR are those of the second run, and RC is 1 if either failed.
init_token() {
    local rc1
    run --init-token --label "$1" --so-pin "$2"
    rc1=$RC
    run --login --login-type so --so-pin "$2" --init-pin --pin "$3"
    [ "$rc1" -eq 0 ] || RC=1
}

# xrun CMD ARGS...: any command, recorded like run() does (RC, OUT, ERR, CMD).
xrun() {
    CMD="$*"
    "${TO[@]}" "$@" >"$T/out" 2>"$T/err" </dev/null
    RC=$?
    OUT=$(cat "$T/out")
    ERR=$(cat "$T/err")
}

# skip DESCRIPTION REASON: a TAP line for a check that is not run.
skip() {
    N=$((N + 1))
    echo "ok $N - $1 # SKIP $2"
}

# only_craton DESCRIPTION REASON: true for our module; for another module
# (SoftHSMv2 lacking the feature) emits the check as skipped and is false.
only_craton() {
    [ "$IS_CRATON" = 1 ] && return 0
    skip "$1" "$2"
    return 1
}

# mech_flags NAME FLAG...: the --list-mechanisms output in OUT has a line
# for mechanism NAME listing every FLAG (e.g. "sign", "generate_key_pair").
mech_flags() {
    local name=$1 line f
    shift
    line=$(printf '%s\n' "$OUT" | grep -E "^ +$name(,|\$)" | head -n 1)
    [ -n "$line" ] || return 1
    for f in "$@"; do
        printf '%s\n' "$line" | tr ',' '\n' | sed -e 's/^ *//' -e 's/ *$//' | grep -qxF -- "$f" || return 1
    done
}

# export_pubkey ID FILE: pkcs11-tool --read-object --type pubkey --id ID
# (DER SPKI, or PEM for EdDSA keys in OpenSC 0.23), normalised by openssl
# into FILE (PEM).  RC is 0 only if both steps worked.
export_pubkey() {
    rm -f "$2" "$2.raw"
    run --read-object --type pubkey --id "$1" -o "$2.raw"
    [ "$RC" -eq 0 ] || return 0
    if ! openssl pkey -pubin -in "$2.raw" -out "$2" 2>>"$T/err"; then
        RC=1
        ERR=$(cat "$T/err")
    fi
}

# tap_end: the plan line and the exit status.
tap_end() {
    echo "1..$N"
    [ "$FAILED" -eq 0 ] || {
        echo "# $FAILED of $N checks failed"
        exit 1
    }
    exit 0
}
