#!/usr/bin/env bash
# The module exports exactly the three PKCS#11 entry points and no OpenSSL
# symbol, and does not depend on a shared libcrypto.  TAP output.
set -u
so=$1
openssl=${2:-private} # "private": static OpenSSL inside; "system": libcrypto >= 3.5 shared
n=0 fail=0
check() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fail=1; fi; }
defined=$(nm -D --defined-only "$so" | awk '{print $3}' | sort | tr '\n' ' ')
check "exports exactly C_GetFunctionList C_GetInterface C_GetInterfaceList (got: $defined)" \
  '[ "$defined" = "C_GetFunctionList C_GetInterface C_GetInterfaceList " ]'
check "no OpenSSL symbol in the dynamic symbol table" \
  '! nm -D "$so" | grep -Eq " (OPENSSL_|EVP_|OSSL_|CRYPTO_|RAND_|ERR_)"'
if [ "$openssl" = system ]; then
  check "links the system libcrypto (>= 3.5)" 'ldd "$so" | grep -q libcrypto'
else
  check "no shared libcrypto dependency (private static OpenSSL)" '! ldd "$so" | grep -q libcrypto'
fi
check "no executable stack" '! readelf -lW "$so" | grep GNU_STACK | grep -q RWE'
echo "1..$n"
exit $fail
