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

