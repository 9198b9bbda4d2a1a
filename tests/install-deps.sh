#!/bin/sh
# Installs what sealmail needs to build and what its tests need (Debian 12).
set -eu
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
BUILD="build-essential cmake ninja-build pkg-config libuv1-dev libmbedtls-dev
  libsqlite3-dev libargon2-dev zlib1g-dev libopendkim-dev libspf2-dev libc-ares-dev
  libunistring-dev publicsuffix"
# python3-dnslib, -dkim, -cryptography and -nacl: the mailauth test's DNS
# server and DKIM signing (RSA, Ed25519), for /usr/bin/python3.
TEST="openssl python3 valgrind isync python3-dnslib python3-dkim python3-cryptography
  python3-nacl"
want="$BUILD"
[ "${1:-}" = "--tests" ] && want="$BUILD $TEST"
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends $missing
fi
