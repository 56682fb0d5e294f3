#!/usr/bin/env bash
# Configures (once) and builds one build directory.
#   scripts/build.sh DIR build|check [extra meson options...]
# Installs missing packages first (scripts/deps.sh), and provides OpenSSL
# >= 3.5 (scripts/openssl.sh: the system's, or a cached private build).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1 mode=$2
shift 2
scripts/deps.sh "$mode"
prefix=$(scripts/openssl.sh)
opts=("$@")
# The test suite's builds carry the test-only hooks (see meson_options.txt).
[ "$mode" = check ] && opts+=("-Dtest_hooks=true")
if [ "$prefix" != system ]; then
  opts+=("-Dopenssl_prefix=$prefix")
fi
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" "${opts[@]}" >/dev/null
else
  meson configure "$dir" "${opts[@]}" >/dev/null
fi
ninja -C "$dir"
