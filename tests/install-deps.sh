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
# swaks (with its Perl TLS modules) and postfix: real clients of SMTP-in
# and LMTP; the postfix test runs its own instance, never the system's.
TEST="openssl python3 valgrind isync python3-dnslib python3-dkim python3-cryptography
  python3-nacl swaks libnet-ssleay-perl libio-socket-ssl-perl postfix"
want="$BUILD"
[ "${1:-}" = "--tests" ] && want="$BUILD $TEST"
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	$SUDO apt-get update -qq
	case "$missing" in *postfix*)
		# No main.cf, and no service started by the package: a system
		# Postfix must not take port 25 or fail the installation.
		echo "postfix postfix/main_mailer_type select No configuration" |
			$SUDO debconf-set-selections
		if [ ! -e /usr/sbin/policy-rc.d ]; then
			printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
			$SUDO chmod 755 /usr/sbin/policy-rc.d
			trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
		fi
	esac
	$SUDO apt-get install -y -qq --no-install-recommends $missing
fi
