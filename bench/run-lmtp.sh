#!/bin/sh
# Delivery throughput: sealmail's LMTP and SMTP-in against Dovecot's LMTP
# (dovecot-lmtpd; maildir, then maildir with mail_crypt), one server after
# the other on the same machine, with sealmail-bench smtp as the sender
# (bench/scenario-smtp.c). Messages of each SIZE go to USERS recipients in
# turn, from 1 and from 50 senders at once; every server syncs what it
# acknowledges (sealmail: always; Dovecot: mail_fsync = optimized, its
# default). SMTP-in checks SPF, DKIM and DMARC against a local DNS server
# (tests/e2e/testdns.py, python3-dnslib) publishing SPF and DMARC records
# for the sender's domain, as a local caching resolver would answer.
# Prints messages per second and the ratio sealmail / Dovecot.
#
# Builds nothing: expects build-release (or SEAL_BUILD) with sealmail-bench
# dispatching "smtp" to bench_smtp_main. Run as root (Dovecot's mail user).
#
# Environment (defaults in brackets):
#   USERS [10]  POINT_SECONDS [10]  WARMUP [2]  SIZES ["10240 1048576"]
#   SENDERS ["1 50"]  SERVERS ["sealmail dovecot-plain dovecot-crypt"]
set -eu
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${SEAL_BUILD:-$here/build-release}"
users="${USERS:-10}"
seconds="${POINT_SECONDS:-10}"
warmup="${WARMUP:-2}"
sizes="${SIZES:-10240 1048576}"
senders_list="${SENDERS:-1 50}"
servers="${SERVERS-sealmail dovecot-plain dovecot-crypt}"

bench() { nice -n 19 "$build/bench/sealmail-bench" smtp "$@"; }
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

tmp="$(mktemp -d /tmp/sealmail-bench-lmtp.XXXXXX)"
chmod 755 "$tmp"	# Dovecot's mail user (nobody) lives below
seal_pid=""
dovecot_pid=""
dns_pid=""
cleanup() {
	[ -z "$seal_pid" ] || { kill "$seal_pid" 2>/dev/null; wait "$seal_pid" 2>/dev/null; }
	[ -z "$dns_pid" ] || { kill "$dns_pid" 2>/dev/null; wait "$dns_pid" 2>/dev/null; }
	[ -z "$dovecot_pid" ] || { kill "$dovecot_pid" 2>/dev/null; wait "$dovecot_pid" 2>/dev/null; }
	# Dovecot's lmtp processes may still be finishing a delivery into the
	# tree when its master has gone: try again once they have.
	rm -rf "$tmp" 2>/dev/null || { sleep 2; rm -rf "$tmp"; }
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

results="$tmp/results"
: >"$results"
# point SERVER PROTO SIZE SENDERS ARGS...: one measurement into $results.
point() {
	pt_server=$1 pt_proto=$2 pt_size=$3 pt_senders=$4
	shift 4
	pt_out="$(bench "$@" --size "$pt_size" --senders "$pt_senders" --users "$users" \
		--seconds "$seconds" --warmup "$warmup")" || {
		echo "$pt_server $pt_proto $pt_size x$pt_senders: errors (see above)" >&2
		pt_out="rate=0/s"
	}
	pt_rate="$(echo "$pt_out" | sed -n 's/.*rate=\([0-9.]*\)\/s.*/\1/p')"
	echo "$pt_server $pt_proto $pt_size $pt_senders $pt_rate" >>"$results"
	echo "  $pt_server $pt_proto size=$pt_size senders=$pt_senders: $pt_rate msg/s" >&2
}

matrix() {	# SERVER PROTO TARGET [--lmtp]
	for size in $sizes; do
		for n in $senders_list; do
			point "$1" "$2" "$size" "$n" --target "$3" ${4:-}
		done
	done
}

# A DNS server for SMTP-in's checks: the sender domain passes SPF and
# DMARC (p=none) from 127.0.0.1. Sets dns_addr.
start_dns() {
	/usr/bin/python3 -c '
import sys, time
sys.path.insert(0, sys.argv[1])
from testdns import TestDNS
d = TestDNS({"example.org": [("TXT", "v=spf1 ip4:127.0.0.1 -all")],
             "_dmarc.example.org": [("TXT", "v=DMARC1; p=none")]})
print(d.address, flush=True)
time.sleep(1e9)' "$here/tests/e2e" >"$tmp/dns.addr" &
	dns_pid=$!
	i=0
	while ! [ -s "$tmp/dns.addr" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	dns_addr="$(cat "$tmp/dns.addr")"
}

run_sealmail() {
	d="$tmp/seal"
	mkdir -p "$d/root/users"
	start_dns
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
		-days 2 -keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null
	smtp_port="$(free_port)"
	cat >"$d/root/sealmail.toml" <<CONF
[listen]
smtp = ["127.0.0.1:$smtp_port"]
lmtp = ["unix:$d/lmtp.sock"]
[tls]
private_key = "$d/key.pem"
certificate_chain = "$d/cert.pem"
[log]
level = "warning"
[dns]
servers = ["$dns_addr"]
[smtp.domains."example.com"]
CONF
	"$build/src/sealmail" serve --root "$d/root" 2>>"$d/log" &
	seal_pid=$!
	i=0
	while ! [ -S "$d/root/admin.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	echo "sealmail: making $users users (an RSA-4096 key each)" >&2
	u=0
	while [ $u -lt "$users" ]; do
		echo "bench-password" | "$build/src/sealmail" admin --root "$d/root" \
			user add "bench$u" --password-stdin >/dev/null
		u=$((u + 1))
	done
	# The users' keys and files still being written back would slow the
	# first point's fsyncs (measured: 252 against 400-510 msg/s).
	sync
	matrix sealmail lmtp "unix:$d/lmtp.sock" --lmtp
	matrix sealmail smtp "127.0.0.1:$smtp_port"
	kill "$seal_pid"
	wait "$seal_pid" 2>/dev/null || true
	seal_pid=""
}

# A private Dovecot serving LMTP on a unix socket only: its own base_dir,
# users from a passwd-file, maildir under $tmp, as nobody.
run_dovecot() {	# NAME VARIANT (plain or mail_crypt)
	d="$tmp/$1"
	mkdir -p "$d/run" "$d/state" "$d/mail"
	chown nobody:nogroup "$d/mail"
	u=0
	: >"$d/passwd"
	while [ $u -lt "$users" ]; do
		echo "bench$u:{PLAIN}bench-password" >>"$d/passwd"
		u=$((u + 1))
	done
	crypt=""
	if [ "$2" = mail_crypt ]; then
		openssl ecparam -name prime256v1 -genkey 2>/dev/null |
			openssl pkey -out "$d/ecprivkey.pem" 2>/dev/null
		openssl pkey -in "$d/ecprivkey.pem" -pubout -out "$d/ecpubkey.pem" 2>/dev/null
		crypt="mail_plugins = \$mail_plugins mail_crypt
plugin {
  mail_crypt_global_private_key = <$d/ecprivkey.pem
  mail_crypt_global_public_key = <$d/ecpubkey.pem
  mail_crypt_save_version = 2
}"
	fi
	cat >"$d/dovecot.conf" <<CONF
base_dir = $d/run
state_dir = $d/state
instance_name = bench-lmtp-$1
log_path = $d/dovecot.log
info_log_path = /dev/null
protocols = lmtp
ssl = no
auth_username_format = %Ln
passdb {
  driver = passwd-file
  args = scheme=PLAIN $d/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$d/mail/%u
}
mail_location = maildir:~/Maildir
lmtp_save_to_detail_mailbox = no
default_process_limit = 200
$crypt
service lmtp {
  unix_listener $d/lmtp.sock {
    mode = 0666
  }
}
CONF
	/usr/sbin/dovecot -F -c "$d/dovecot.conf" 2>>"$d/dovecot.log" &
	dovecot_pid=$!
	i=0
	while ! [ -S "$d/lmtp.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	sync
	matrix "$1" lmtp "unix:$d/lmtp.sock" --lmtp
	kill "$dovecot_pid"
	wait "$dovecot_pid" 2>/dev/null || true
	dovecot_pid=""
}

if ! [ -x /usr/lib/dovecot/lmtp ]; then
	echo "installing dovecot-lmtpd" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q dovecot-lmtpd >/dev/null ||
		{ apt-get update -q >/dev/null &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -q dovecot-lmtpd >/dev/null; }
fi
for s in $servers; do
	case $s in
	sealmail) run_sealmail ;;
	dovecot-plain) run_dovecot dovecot-plain plain ;;
	dovecot-crypt) run_dovecot dovecot-crypt mail_crypt ;;
	*) echo "unknown server $s" >&2; exit 2 ;;
	esac
done

# The table: one row per size and sender count; sealmail's LMTP and
# SMTP-in each compared with Dovecot's LMTP.
rate_of() { awk -v k="$1 $2 $3 $4" '$1 " " $2 " " $3 " " $4 == k { print $5 }' "$results"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-";
	else printf "%.2f\n", a / b }'; }
echo
printf "%-9s %-8s %10s %10s %10s %10s %11s %11s %11s\n" size senders seal-lmtp seal-smtp \
	dc-plain dc-crypt lmtp/plain lmtp/crypt smtp/plain
for size in $sizes; do
	for n in $senders_list; do
		sl="$(rate_of sealmail lmtp "$size" "$n")"
		ss="$(rate_of sealmail smtp "$size" "$n")"
		dp="$(rate_of dovecot-plain lmtp "$size" "$n")"
		dc="$(rate_of dovecot-crypt lmtp "$size" "$n")"
		printf "%-9s %-8s %10s %10s %10s %10s %11s %11s %11s\n" "$size" "$n" "${sl:--}" \
			"${ss:--}" "${dp:--}" "${dc:--}" "$(ratio "$sl" "$dp")" "$(ratio "$sl" "$dc")" \
			"$(ratio "$ss" "$dp")"
	done
done
echo "(messages per second; ratios above 1 mean sealmail is faster)"
