#!/bin/sh
# Runs the idle-tls scenario against a fresh server; see bench/README.md.
set -eu
n="${1:-10000}"
k="${2:-64}"
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${SEAL_BUILD:-$here/build-release}"
tmp="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/users"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
	-days 2 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$tmp/sealmail.toml" <<TOML
[listen]
imaps = ["127.0.0.1:$port"]
max_connections = $((n + 100))
max_connections_per_ip = $((n + 100))

[tls]
private_key = "key.pem"
certificate_chain = "cert.pem"

[log]
level = "warning"
TOML
ulimit -n $((n + 1000)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
"$build/src/sealmail" serve --root "$tmp" 2>"$tmp/server.log" &
pid=$!
i=0
while [ ! -S "$tmp/admin.sock" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
# The load generator shares this machine: at low priority it does not
# compete with the server loop it measures.
nice -n 19 "$build/bench/sealmail-bench" idle --port "$port" --admin "$tmp/admin.sock" \
	--connections "$n" --parallel "$k"
