#!/bin/sh
# IMAP workload and idle sessions, sealmail against Dovecot (plain maildir,
# then maildir with mail_crypt), one server after the other on the same
# machine; see bench/README.md. Builds nothing: expects build-release (or
# SEAL_BUILD). Run as root (users, Dovecot's install and its mail user).
#
# Environment (defaults in brackets):
#   USERS [100]  MESSAGES [200] per INBOX  POINT_SECONDS [10] per point, after
#   WARMUP [3] seconds
#   CLIENTS ["10 100 1000"]  PROFILES ["logged-in login-per-cycle"]
#   IDLE_SESSIONS [10000]  IDLE_SERVERS ["sealmail dovecot-plain"]
#   SERVERS ["sealmail dovecot-plain dovecot-crypt"]
#   WINDOW [0]: FETCH ENVELOPE of the last WINDOW messages only (0: 1:*)
#   APPEND [auto]: yes, no (leave APPEND out of the cycle, on every
#   server), or auto (no if sealmail answers APPEND with BAD)
set -eu
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${SEAL_BUILD:-$here/build-release}"
users="${USERS:-100}"
messages="${MESSAGES:-200}"
seconds="${POINT_SECONDS:-10}"
warmup="${WARMUP:-3}"
clients="${CLIENTS:-10 100 1000}"
profiles="${PROFILES:-logged-in login-per-cycle}"
idle_sessions="${IDLE_SESSIONS:-10000}"
idle_servers="${IDLE_SERVERS-sealmail dovecot-plain}"	# empty: no idle runs
servers="${SERVERS-sealmail dovecot-plain dovecot-crypt}"
append="${APPEND:-auto}"
window="${WINDOW:-0}"
. "$here/bench/imap-dovecot.sh"

# The load generator shares this machine: at low priority it does not
# compete with the server it measures.
bench() { nice -n 19 "$build/bench/sealmail-bench" "$@"; }
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

tmp="$(mktemp -d /tmp/sealmail-bench-imap.XXXXXX)"
chmod 755 "$tmp"	# Dovecot's mail user (nobody) lives below
seal_pid=""
dovecot_pid=""
inotify_old="$(cat /proc/sys/fs/inotify/max_user_instances)"
cleanup() {
	[ -z "$seal_pid" ] || { kill "$seal_pid" 2>/dev/null; wait "$seal_pid" 2>/dev/null; }
	dovecot_stop
	echo "$inotify_old" >/proc/sys/fs/inotify/max_user_instances 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ulimit -n $((idle_sessions * 2 + 2000)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if ! [ -x /usr/sbin/dovecot ] || ! [ -e /usr/lib/dovecot/imap ]; then
	echo "installing dovecot-imapd" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q dovecot-imapd >/dev/null ||
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q dovecot-imapd >/dev/null; }
fi
# Dovecot's IDLE and hibernation watch each mailbox with inotify: one
# instance per imap process, all under one uid (default limit 128).
echo $((idle_sessions + 1000)) >/proc/sys/fs/inotify/max_user_instances

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
	-days 2 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
i=0
while [ $i -lt "$users" ]; do
	printf 'b%03d bench-password-%03d-%s\n' $i $i "$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
	i=$((i + 1))
done >"$tmp/users"
results="$tmp/results"
: >"$results"

# run_points SERVER PORT: the workload at every CLIENTS and PROFILES.
run_points() {
	for p in $profiles; do
		for n in $clients; do
			echo "== $1, profile $p, $n clients"
			bench imap --port "$2" --users-file "$tmp/users" --clients "$n" \
				--seconds "$seconds" --warmup "$warmup" --profile "$p" --window "$window" $append_opt |
				tee "$tmp/out"
			sed -n "s/^result: /$1 /p" "$tmp/out" >>"$results"
		done
	done
}

# run_idle SERVER PORT PID [--admin SOCK]
run_idle() {
	case " $idle_servers " in *" $1 "*) ;; *) return 0 ;; esac
	name=$1 port=$2 pid=$3
	shift 3
	echo "== $name, $idle_sessions sessions in IDLE"
	bench imap-idle --port "$port" --users-file "$tmp/users" --sessions "$idle_sessions" \
		--server-pid "$pid" --settle-ms 8000 "$@" | tee "$tmp/out" || true
	sed -n "s/^result: /$name idle /p" "$tmp/out" >>"$results"
}

# --- sealmail -------------------------------------------------------------
seal_port=$(free_port)
root="$tmp/sealmail"
mkdir -p "$root/users"
cat >"$root/sealmail.toml" <<TOML
[listen]
imaps = ["127.0.0.1:$seal_port"]
max_connections = $((idle_sessions + 2000))
max_connections_per_ip = $((idle_sessions + 2000))

[tls]
private_key = "$tmp/key.pem"
certificate_chain = "$tmp/cert.pem"

[log]
level = "warning"
TOML
"$build/src/sealmail" serve --root "$root" 2>"$tmp/sealmail.log" &
seal_pid=$!
i=0
while [ ! -S "$root/admin.sock" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done

# Accounts: Argon2 and an RSA-4096 key each, two at a time (two workers).
t0=$(date +%s)
while read -r name password; do
	printf '%s %s\n' "$name" "$password"
done <"$tmp/users" | xargs -P 2 -L 1 sh -c \
	'printf "%s\n" "$3" | "$0" admin --root "$1" user add "$2" --password-stdin >/dev/null' \
	"$build/src/sealmail" "$root"
echo "sealmail: $users accounts made in $(($(date +%s) - t0)) s"

# Mailboxes: by APPEND when sealmail has it; otherwise `sealmail deliver`,
# whose messages each user's first login then takes in (an RSA unwrap each).
t0=$(date +%s)
st=0
bench imap-fill --port "$seal_port" --users-file "$tmp/users" --messages "$messages" \
	--parallel 8 || st=$?
if [ $st -eq 3 ]; then
	echo "sealmail answers APPEND with BAD: filling with sealmail deliver"
	[ "$append" != yes ] || { echo "APPEND=yes but sealmail has no APPEND" >&2; exit 1; }
	append=no
	awk 'BEGIN { for (i = 0; i < 40; i++) printf "line %02d of a benchmark message, as plain text as mail often is, ok\r\n", i }' \
		>"$tmp/body"
	cut -d' ' -f1 "$tmp/users" | xargs -P 2 -I NAME sh -c '
		i=0
		while [ $i -lt "$3" ]; do
			{ printf "From: <sender@bench.example>\r\nTo: <%s@bench.example>\r\n" "$4"
			  printf "Subject: delivered %s\r\nMessage-ID: <%s.%s@bench.example>\r\n\r\n" $i $i "$4"
			  cat "$2"; } | "$0" deliver --root "$1" --user "$4"
			i=$((i + 1))
		done' "$build/src/sealmail" "$root" "$tmp/body" "$messages" NAME
	# The first login of each user takes its deliveries in.
	bench imap-fill --port "$seal_port" --users-file "$tmp/users" --messages "$messages" \
		--parallel 4 --timeout-ms 900000 || true
elif [ $st -ne 0 ]; then
	exit 1
fi
echo "sealmail: mailboxes filled in $(($(date +%s) - t0)) s"
[ "$append" != auto ] || append=yes
append_opt=""
[ "$append" = yes ] || append_opt="--no-append"

case " $servers " in *" sealmail "*) run_points sealmail "$seal_port" ;; esac
run_idle sealmail "$seal_port" "$seal_pid" --admin "$root/admin.sock"
kill "$seal_pid"
wait "$seal_pid" 2>/dev/null || true
seal_pid=""
rm -rf "$root"

# --- Dovecot --------------------------------------------------------------
for server in dovecot-plain dovecot-crypt; do
	case " $servers $idle_servers " in *" $server "*) ;; *) continue ;; esac
	variant=plain
	[ $server = dovecot-plain ] || variant=mail_crypt
	d="$tmp/$server"
	imaps_port=$(free_port)
	dovecot_write_conf "$d" $variant "$imaps_port" "$(free_port)" "$tmp/cert.pem" \
		"$tmp/key.pem" "$tmp/users" "$idle_sessions"
	dovecot_start "$d"
	t0=$(date +%s)
	bench imap-fill --port "$imaps_port" --users-file "$tmp/users" --messages "$messages" \
		--parallel 8
	echo "$server: mailboxes filled in $(($(date +%s) - t0)) s"
	case " $servers " in *" $server "*) run_points $server "$imaps_port" ;; esac
	run_idle $server "$imaps_port" "$dovecot_pid"
	dovecot_stop
	rm -rf "$d"
done

echo
echo "== summary ($(date -u +%Y-%m-%d), $(nproc) CPUs, $users accounts x $messages messages," \
	"$seconds s per point, TLS, APPEND ${append}, FETCH window ${window})"
awk -f "$here/bench/imap-table.awk" "$results"
