#!/usr/bin/env bash
# Provide OpenSSL >= 3.5 for the build.
#
# Prints one line on stdout: "system" when the system's libcrypto is new
# enough, otherwise the prefix of a static, position-independent OpenSSL 3.5
# built once into a cache outside the checkout and reused afterwards.
#
# The source comes from the Debian archive this machine already uses: the
# archive URI is read from the system's own apt sources, the suite is
# "stable", and apt verifies the signed Release file and the .dsc checksums.
#
# Environment: CRATON_CACHE_DIR (default ~/.cache/craton-hsm),
#              CRATON_FORCE_PRIVATE_OPENSSL=1 to ignore a new-enough system one.
set -euo pipefail

need_major=3 need_minor=5
cache_root=${CRATON_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/craton-hsm}
log() { echo "openssl.sh: $*" >&2; }

if [ "${CRATON_FORCE_PRIVATE_OPENSSL:-0}" != 1 ] &&
   pkg-config --atleast-version=${need_major}.${need_minor} libcrypto 2>/dev/null; then
  echo system
  exit 0
fi

# A finished build in the cache is reused (the newest one wins).
cached=
for d in "$cache_root"/openssl-3.*; do
  [ -f "$d/.complete" ] && cached=$(printf '%s\n%s\n' "$cached" "$d" | sort -V | tail -n 1)
done
if [ -n "$cached" ]; then
  echo "$cached"
  exit 0
fi

# The archive URI, from the system's own apt sources (deb822 or one-line form).
archive_uri() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '/^URIs:/{for(i=2;i<=NF;i++) print $i}' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1=="deb"{for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}' "$f"
  done
}
uri=$(archive_uri | grep -v -e security -e updates | grep '/debian/\?$' | head -n 1 || true)
if [ -z "$uri" ]; then
  log "no Debian archive found in /etc/apt/sources.list{,.d}; cannot fetch OpenSSL 3.5 source"
  exit 1
fi
for tool in apt-get tar make perl; do
  command -v "$tool" >/dev/null || { log "$tool is missing"; exit 1; }
done

mkdir -p "$cache_root"
work=$(mktemp -d "$cache_root/fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/state/lists/partial" "$work/cache/archives/partial" "$work/etc" "$work/src"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || { log "$keyring missing (package debian-archive-keyring)"; exit 1; }
cat > "$work/etc/craton-openssl.sources" <<SRC
Types: deb-src
URIs: $uri
Suites: stable
Components: main
Signed-By: $keyring
SRC
apt_opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/etc"
          -o "Dir::State=$work/state" -o "Dir::Cache=$work/cache"
          -o Dir::State::status=/var/lib/dpkg/status -o Debug::NoLocking=1
          -o APT::Sandbox::User="$(id -un)" -q)
log "fetching the openssl source package (suite stable) from $uri"
apt-get "${apt_opts[@]}" update >&2
(cd "$work/src" && apt-get "${apt_opts[@]}" source --download-only openssl >&2)

orig=$(ls "$work"/src/openssl_*.orig.tar.gz | head -n 1)
version=$(basename "$orig" | sed -e 's/^openssl_//' -e 's/\.orig\.tar\.gz$//')
case "$version" in
  3.[5-9].*|3.[1-9][0-9].*|[4-9].*) ;;
  *) log "stable ships OpenSSL $version, older than 3.5"; exit 1 ;;
esac
prefix="$cache_root/openssl-$version"
rm -rf "$prefix"
tar -C "$work" -xzf "$orig"
srcdir=$(ls -d "$work"/openssl-*/ | head -n 1)
log "building OpenSSL $version (static, -fPIC) into $prefix"
log "(a few minutes; the full log is shown only if it fails)"
if ! (
  cd "$srcdir" &&
  ./Configure no-shared no-module no-docs no-tests -fPIC \
      --prefix="$prefix" --libdir=lib --openssldir="$prefix/ssl" &&
  make -j"$(nproc)" &&
  make install_sw
) >"$work/build.log" 2>&1; then
  tail -n 60 "$work/build.log" >&2
  log "OpenSSL build failed"
  exit 1
fi
touch "$prefix/.complete"
echo "$prefix"
