/* sealmail.toml: the daemon's configuration (DESIGN.md sections 3 and 6,
 * and the manual's "Configuration Reference").
 *
 * config_load() reads the whole file into a struct config or fails with one
 * line "FILE:LINE: key 'a.b': reason" (heap string, caller frees). Unknown
 * keys and values of the wrong type or range are errors. Every string in the
 * struct is owned by it; config_free() releases it all.
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
	char *path;		/* the file read */
	char *root;		/* ROOT: directory holding users/ */

	/* [listen]: addresses "IP:PORT", "[IPv6]:PORT" or "unix:PATH" */
	struct config_strlist listen_imaps;
	struct config_strlist listen_imap;	/* cleartext + STARTTLS */
	struct config_strlist listen_smtp;
	struct config_strlist listen_submissions;
	struct config_strlist listen_submission;
	struct config_strlist listen_lmtp;
	char *listen_admin;	/* default "unix:ROOT/admin.sock" */
	uint32_t max_connections;		/* default 20000 */
	uint32_t max_connections_per_ip;	/* default 200 */
	uint32_t imap_idle_timeout;		/* seconds, default 1800 */
	uint32_t smtp_idle_timeout;		/* seconds, default 300 */
	uint32_t shutdown_grace;		/* seconds, default 10 */

	/* [tls] */
	char *tls_private_key;
	char *tls_certificate_chain;

	/* [security] */
	bool chroot_system;
	char *system_user;	/* "" when unset */

	/* [identification]: free-form, '_' in keys turned into '-' */
	struct config_kv *identification;
	size_t identification_count;

	/* [smtp] (the manual's old name [lmtp] is accepted too) */
	char *smtp_host_name;
	bool keep_recipient_domain;
	bool verbatim_user_names;
	bool reject_dmarc_failures;
	bool verbose_outbound_tls;
	struct config_smtp_domain *smtp_domains;
	size_t smtp_domain_count;

	/* [dns] */
	struct config_strlist dns_servers;	/* empty: system resolver */

	/* [log] */
	enum log_target log_target;	/* default stderr */
	int log_level;			/* LOG_ERR..LOG_DEBUG, default LOG_INFO */

	/* [diagnostic] */
	char *diagnostic_stderr;	/* NULL when unset */
};

/* root may be NULL: then ROOT is the directory holding the file. */
int config_load(const char *path, const char *root, struct config **cfg_r,
		char **error_r);
void config_free(struct config **cfg);

#endif
