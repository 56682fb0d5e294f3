#!/usr/bin/env bash
# Installs the Debian packages a make target needs: `deps.sh build` for
# building, `deps.sh check` for building and running every test, `deps.sh
# bench` for building and for the benchmarks' SoftHSMv2 column.  As root it
# runs apt-get; otherwise it prints the exact command and fails.
set -euo pipefail

build_pkgs=(gcc make meson ninja-build pkg-config perl python3 libsqlite3-dev
            debian-archive-keyring ca-certificates opensc)
check_pkgs=(libcmocka-dev libssl-dev opensc python3-pykcs11 valgrind clang file libjansson-dev
            libengine-pkcs11-openssl softhsm2 p11-kit gnutls-bin)

case "${1:-build}" in
  build) want=("${build_pkgs[@]}") ;;
  check) want=("${build_pkgs[@]}" "${check_pkgs[@]}") ;;
  bench) want=("${build_pkgs[@]}" softhsm2) ;;
  *) echo "usage: $0 build|check|bench" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Missing packages: ${missing[*]}" >&2
  echo "Install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
