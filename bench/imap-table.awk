# Summary tables of bench/run-imap.sh from its result lines:
#   SERVER clients=N profile=P commands_per_s=X ... p50_us=X p99_us=X errors=X
#   SERVER idle sessions=N failed=N ... rss_per_session_kib=X pss_per_session_kib=X
# Workload: commands per second, p50 and p99 (ms) per server, then the
# ratios of sealmail's commands per second to each Dovecot's.

function field(name,    i, kv) {
	for (i = 2; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[1] == name)
			return kv[2]
	}
	return ""
}

function ratio(a, b) {
	return (a != "" && b != "" && b > 0) ? sprintf("%.2f", a / b) : "-"
}

function cell(s, k) {
	if (!((s, k) in cps))
		return sprintf(" %8s %6s %7s", "-", "-", "-")
	return sprintf(" %8.0f %6.1f %7.1f", cps[s, k], p50[s, k] / 1000, p99[s, k] / 1000)
}

$2 == "idle" {
	idle[$1] = 1
	isess[$1] = field("sessions"); ifail[$1] = field("failed")
	irss[$1] = field("rss_per_session_kib"); ipss[$1] = field("pss_per_session_kib")
	next
}

{
	k = field("profile") SUBSEP field("clients")
	if (!(k in seen)) { seen[k] = 1; keys[++nkeys] = k }
	cps[$1, k] = field("commands_per_s"); p50[$1, k] = field("p50_us")
	p99[$1, k] = field("p99_us"); err[$1, k] = field("errors")
	if (err[$1, k] > 0)
		errors = errors sprintf("  %s %s, %s clients: %s errors\n", $1,
					field("profile"), field("clients"), err[$1, k])
}

END {
	n = split("sealmail dovecot-plain dovecot-crypt", srv, " ")
	if (nkeys) {
		printf "%-16s %5s", "profile", "N"
		for (i = 1; i <= n; i++)
			printf " | %-23s", srv[i]
		printf " | %-7s %-7s\n", "s/plain", "s/crypt"
		printf "%-16s %5s", "", ""
		for (i = 1; i <= n; i++)
			printf " | %8s %6s %7s", "cmd/s", "p50ms", "p99ms"
		printf " | %-7s %-7s\n", "cmd/s", "cmd/s"
	}
	for (j = 1; j <= nkeys; j++) {
		split(keys[j], pk, SUBSEP)
		printf "%-16s %5s", pk[1], pk[2]
		for (i = 1; i <= n; i++)
			printf " |%s", cell(srv[i], keys[j])
		printf " | %-7s %-7s\n", ratio(cps["sealmail", keys[j]], cps["dovecot-plain", keys[j]]),
			ratio(cps["sealmail", keys[j]], cps["dovecot-crypt", keys[j]])
	}
	if (errors != "")
		printf "errors:\n%s", errors
	first = 1
	for (i = 1; i <= n; i++) {
		if (!(srv[i] in idle))
			continue
		if (first) {
			printf "\n%-16s %9s %7s %14s %14s\n", "idle sessions", "up", "failed",
				"RSS KiB/sess", "PSS KiB/sess"
			first = 0
		}
		printf "%-16s %9s %7s %14s %14s\n", srv[i], isess[srv[i]], ifail[srv[i]], irss[srv[i]],
			ipss[srv[i]]
	}
}
