/* sealmail.toml: the daemon's configuration (DESIGN.md sections 3 and 6,
 * and the manual's "Configuration Reference").
 *
 * config_load() reads the whole file into a struct config or fails with one
 * line "FILE:LINE: key 'a.b': reason" (heap string, caller frees). Unknown
 * keys and values of the wrong type or range are errors. Every string in the
 * struct is owned by it; config_free() releases it all.
 *
 * Rules beyond the field comments below:
 * - The file is TOML as src/toml.h reads it, at most 1 MiB.
 * - A value of `null` (the manual writes `stderr = null`) reads as if the
 *   key were absent: the default applies.
 * - Unknown keys fail with "FILE:LINE: unknown key 'section.key'" (and
 *   "unknown section '[name]'" for a whole table), wrong types with
 *   "FILE:LINE: key 'tls.private_key': expected a string".
 * - [tls] private_key and certificate_chain go together, and both are
 *   required as soon as a listener needs TLS: any address in imaps or
 *   submissions, or any non-unix address in imap, smtp, submission or lmtp.
 * - Relative paths in [tls] and [diagnostic] are taken from the directory
 *   of the file and stored absolute.
 */
#ifndef SEAL_CONFIG_H
#define SEAL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config_strlist {
	char **items;
	size_t count;
};

struct config_kv {
	char *key;
	char *value;
};

struct config_dkim_key {
	char *selector;
	char *value;	/* "rsa:BASE64" or "ed25519:BASE64", checked later */
};

struct config_smtp_domain {
	char *name;
	struct config_dkim_key *dkim;
	size_t dkim_count;
};

enum log_target { LOG_TARGET_STDERR, LOG_TARGET_SYSLOG };

struct config {
	char *path;		/* the file read, as passed to config_load() */
	char *root;		/* ROOT: directory holding users/, absolute */

	/* [listen]: arrays of "IPv4:PORT", "[IPv6]:PORT" or "unix:/PATH"
	 * (port 1-65535, path absolute); no address may appear twice. */
	struct config_strlist listen_imaps;
	struct config_strlist listen_imap;	/* cleartext + STARTTLS */
	struct config_strlist listen_smtp;
	struct config_strlist listen_submissions;
	struct config_strlist listen_submission;
	struct config_strlist listen_lmtp;
	char *listen_admin;	/* a string "unix:/PATH" only; never NULL,
				 * default "unix:ROOT/admin.sock" */
	uint32_t max_connections;		/* 1..1000000, default 20000 */
	uint32_t max_connections_per_ip;	/* 1..1000000, default 200 */
	/* New connections a minute from one address, over every listener
	 * counted per IP; 0 no limit; 0..1000000, default 600 */
	uint32_t max_connection_rate_per_ip;
	uint32_t imap_idle_timeout;		/* seconds, 1..86400, default 1800 */
	uint32_t smtp_idle_timeout;		/* seconds, 1..86400, default 300 */
	uint32_t shutdown_grace;		/* seconds, 0..3600, default 10 */

	/* [tls]: absolute paths, both NULL when unset */
	char *tls_private_key;
	char *tls_certificate_chain;

	/* [security] */
	bool chroot_system;
	char *system_user;	/* "" when unset */
	/* How long a user whose last session left stays open, so that a
	 * client reconnecting with the same password skips Argon2: 0..86400,
	 * default 300 (in memory only; SIGHUP applies it to later logouts) */
	uint32_t login_cache_seconds;

	/* [identification]: free-form, '_' in keys turned into '-', in file
	 * order; string values; RFC 2971 limits (at most 30 pairs, names of
	 * 1-30 printable ASCII characters, unique ignoring case, values of at
	 * most 1024 bytes without control characters) */
	struct config_kv *identification;
	size_t identification_count;

	/* [smtp] (the manual's old name [lmtp] is accepted too, not both) */
	char *smtp_host_name;	/* "" when unset */
	bool keep_recipient_domain;
	bool verbatim_user_names;
	bool reject_dmarc_failures;
	bool verbose_outbound_tls;
	/* MAIL commands an hour from one address on the inbound MX (listen.smtp
	 * only); 0 no limit; 0..10000000, default 0 */
	uint32_t max_messages_per_ip_per_hour;
	/* [smtp.domains."NAME"] with dkim.SELECTOR = "rsa:..."|"ed25519:...":
	 * names lower-cased, in file order; each domain's keys sorted by
	 * selector (strcmp), the order in which they sign. */
	struct config_smtp_domain *smtp_domains;
	size_t smtp_domain_count;

	/* [dns] */
	/* "IP", "IP:PORT" or "[IPv6]:PORT"; empty: system resolver */
	struct config_strlist dns_servers;

	/* [log] target = "stderr"|"syslog", level = "error"|"warning"|
	 * "notice"|"info"|"debug" */
	enum log_target log_target;	/* default stderr */
	int log_level;			/* LOG_ERR..LOG_DEBUG, default LOG_INFO */

	/* [diagnostic] */
	char *diagnostic_stderr;	/* absolute path, NULL when unset */
};

/* root may be NULL: then ROOT is the directory holding the file. Returns
 * 0 and a new *cfg_r, or a negative errno (-ENOENT and the like for the
 * file, -EFBIG when too large, -EINVAL for its content) with *cfg_r NULL
 * and *error_r set. */
int config_load(const char *path, const char *root, struct config **cfg_r,
		char **error_r);
/* Frees *cfg and sets it to NULL; NULL is fine. */
void config_free(struct config **cfg);

#endif
