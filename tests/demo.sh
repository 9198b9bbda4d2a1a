#!/bin/sh
# Builds sealmail and runs it in the foreground on a ready demo root:
# a self-signed certificate, IMAPS on 127.0.0.1:9993, IMAP with STARTTLS on
# 127.0.0.1:9143, the admin socket in the root, and a user "demo" with the
# password "demo-password". Stop it with Ctrl-C.
set -eu
cd "$(dirname "$0")/.."
sh tests/install-deps.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-release --target sealmail
bin=build-release/src/sealmail
root="${SEALMAIL_DEMO_ROOT:-$PWD/demo-root}"
mkdir -p "$root/users"
chmod 700 "$root"
if [ ! -f "$root/tls-cert.pem" ]; then
	command -v openssl >/dev/null || { echo "openssl is needed for the demo certificate" >&2; exit 1; }
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj /CN=localhost -days 365 -keyout "$root/tls-key.pem" \
		-out "$root/tls-cert.pem" 2>/dev/null
fi
if [ ! -f "$root/sealmail.toml" ]; then
	cat >"$root/sealmail.toml" <<TOML
# Demo configuration: loopback only, high ports.
[listen]
imaps = ["127.0.0.1:9993"]
imap = ["127.0.0.1:9143"]

[tls]
private_key = "tls-key.pem"
certificate_chain = "tls-cert.pem"

[log]
level = "info"
TOML
fi
"$bin" serve --root "$root" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null' INT TERM
i=0
until [ -S "$root/admin.sock" ] || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -d "$root/users/demo" ]; then
	echo "demo-password" | "$bin" admin --root "$root" user add demo --password-stdin
fi
cat <<MSG
sealmail demo root: $root
  user:   demo / demo-password
  IMAPS:  openssl s_client -quiet -connect 127.0.0.1:9993
  admin:  $bin admin --root $root stats
Stop with Ctrl-C.
MSG
# A trapped signal ends the first wait early: wait again for the server.
wait "$pid"
status=$?
[ "$status" -gt 128 ] && { wait "$pid"; status=$?; }
exit "$status"
