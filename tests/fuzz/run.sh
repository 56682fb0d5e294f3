#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each one over
# its seed corpus, then fuzzes it briefly (FUZZ_SECONDS, default 20) in a
# scratch copy of the corpus.  TAP output.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${FUZZ_SECONDS:-20}
work=$(mktemp -d /tmp/craton-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
n=0 fail=0
for src in "$top"/tests/fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  corpus="$top/tests/fuzz/corpus/${name#fuzz_}"
  case "$name" in
    fuzz_config) deps=("$top/src/config/config.c" "$top/src/config/toml.c") ;;
    fuzz_codec|fuzz_template)
      deps=("$top/src/object/attr.c" "$top/src/object/codec.c" "$top/src/object/rules.c"
            "$top/tests/fuzz/crypto_stubs.c") ;;
    fuzz_p11_objects|fuzz_audit)
      # The whole module, linked statically into the fuzzer.
      mapfile -t deps < <(ls "$top"/src/*/*.c)
      prefix=$("$top/scripts/openssl.sh")
      if [ "$prefix" = system ]; then deps+=(-lcrypto); else
        deps+=(-isystem "$prefix/include" "$prefix/lib/libcrypto.a"); fi
      deps+=(-lsqlite3 -ldl -pthread) ;;
    *) continue ;;
  esac
  n=$((n + 1))
  if ! clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
      -D_GNU_SOURCE -I"$top/include" -I"$top/src" "$src" "${deps[@]}" -o "$work/$name" \
      2>"$work/$name.build.log"; then
    echo "not ok $n - $name builds with clang -fsanitize=fuzzer"; sed 's/^/# /' "$work/$name.build.log"
    fail=1; continue
  fi
  # The module's power-on integrity test checks the image it runs in: the
  # fuzzer that links the whole module gets its sidecar too.
  if [ "$name" = fuzz_p11_objects ] &&
     ! python3 "$top/scripts/integrity.py" "$work/$name" "$work/$name.hmac" >>"$work/$name.build.log" 2>&1; then
    echo "not ok $n - $name builds with clang -fsanitize=fuzzer (integrity sidecar)"
    sed 's/^/# /' "$work/$name.build.log"; fail=1; continue
  fi
  echo "ok $n - $name builds with clang -fsanitize=fuzzer"
  n=$((n + 1))
  cp -r "$corpus" "$work/corpus-$name"
  if (cd "$work" && LSAN_OPTIONS="suppressions=$top/tests/fuzz/lsan.supp" \
      ASAN_OPTIONS="fast_unwind_on_malloc=0" \
      "./$name" -max_total_time="$secs" -max_len=16384 "corpus-$name" \
      >"$work/$name.log" 2>&1); then
    echo "ok $n - $name: seed corpus and ${secs}s of fuzzing, no finding ($(grep -o 'Done [0-9]* runs' "$work/$name.log" | tail -1))"
  else
    echo "not ok $n - $name found a crash or leak"; tail -n 40 "$work/$name.log" | sed 's/^/# /'
    fail=1
  fi
done
echo "1..$n"
exit $fail
