# Dovecot for bench/run-imap.sh (sourced, POSIX sh): a private instance on
# loopback with its own configuration, no system config, its own
# base_dir, users from a passwd-file, maildir under a temporary directory.
#
# Tuned as a busy site would run it, not its defaults: imap-login in
# high-performance mode (long-lived login processes, one per CPU, each
# proxying many TLS connections) instead of one login process per
# connection; limits raised for thousands of sessions; idle IMAP processes
# hibernated after 5 s of IDLE (imap-hibernate), which is what Dovecot has
# for holding many idle sessions. Each logged-in session still has its own
# imap process while it works.

# dovecot_write_conf DIR VARIANT IMAPS_PORT IMAP_PORT CERT KEY USERS_FILE SESSIONS
# VARIANT: plain (maildir) or mail_crypt (maildir, mails encrypted with
# global EC keys made here, mail_crypt_save_version 2).
dovecot_write_conf() {
	# sh has no local variables: dc_ keeps these off the caller's names.
	dc_d=$1 dc_variant=$2 dc_imaps=$3 dc_imap=$4 dc_cert=$5 dc_key=$6 dc_users=$7
	dc_limit=$(($8 + 2000))
	mkdir -p "$dc_d/run" "$dc_d/state" "$dc_d/mail"
	chown nobody:nogroup "$dc_d/mail"	# the mail user, see userdb below
	# passwd-file: NAME:{PLAIN}PASSWORD; the bench's users file has
	# NAME PASSWORD.
	awk '{ n = $1; sub(/^[^ ]* /, ""); print n ":{PLAIN}" $0 }' "$dc_users" >"$dc_d/passwd"
	dc_crypt=""
	if [ "$dc_variant" = mail_crypt ]; then
		openssl ecparam -name prime256v1 -genkey 2>/dev/null |
			openssl pkey -out "$dc_d/ecprivkey.pem" 2>/dev/null
		openssl pkey -in "$dc_d/ecprivkey.pem" -pubout -out "$dc_d/ecpubkey.pem" 2>/dev/null
		dc_crypt="mail_plugins = \$mail_plugins mail_crypt
plugin {
  mail_crypt_global_private_key = <$dc_d/ecprivkey.pem
  mail_crypt_global_public_key = <$dc_d/ecpubkey.pem
  mail_crypt_save_version = 2
}"
	fi
	cat >"$dc_d/dovecot.conf" <<CONF
base_dir = $dc_d/run
state_dir = $dc_d/state
instance_name = bench-$(basename "$dc_d")
log_path = $dc_d/dovecot.log
# Logins are logged at info level: one line per session would cost Dovecot
# (its log process) what sealmail, logging warnings only, does not pay.
info_log_path = /dev/null
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <$dc_cert
ssl_key = <$dc_key
disable_plaintext_auth = no
auth_mechanisms = plain
passdb {
  driver = passwd-file
  args = scheme=PLAIN $dc_d/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$dc_d/mail/%u
}
mail_location = maildir:~/Maildir
mail_max_userip_connections = $dc_limit
default_process_limit = $dc_limit
default_client_limit = $dc_limit
default_vsz_limit = 1G
imap_hibernate_timeout = 5s
$dc_crypt
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $dc_imap
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $dc_imaps
    ssl = yes
  }
  service_count = 0
  process_min_avail = 2
  client_limit = $dc_limit
}
service imap {
  process_limit = $dc_limit
  # imap-hibernate (the internal user) hands a session back through it.
  unix_listener imap-master {
    user = \$default_internal_user
  }
}
service imap-hibernate {
  client_limit = $dc_limit
  unix_listener imap-hibernate {
    mode = 0660
    user = nobody
    group = nogroup
  }
}
service anvil {
  client_limit = $((dc_limit * 3))
}
service auth {
  client_limit = $((dc_limit * 2))
}
CONF
}

# dovecot_start DIR: starts the master in the foreground (as a child of this
# shell); sets dovecot_pid. Waits for its "starting up" line, then a second
# for the login processes it starts at once (process_min_avail).
dovecot_start() {
	/usr/sbin/dovecot -F -c "$1/dovecot.conf" 2>>"$1/dovecot.log" &
	dovecot_pid=$!
	dc_i=0
	while ! grep -q "starting up" "$1/dovecot.log" 2>/dev/null && [ $dc_i -lt 100 ]; do
		sleep 0.1
		dc_i=$((dc_i + 1))
	done
	sleep 1
	kill -0 "$dovecot_pid"
}

# dovecot_stop: TERM to the master, which stops its children.
dovecot_stop() {
	if [ -n "${dovecot_pid:-}" ]; then
		kill "$dovecot_pid" 2>/dev/null || true
		wait "$dovecot_pid" 2>/dev/null || true
		dovecot_pid=""
	fi
}
