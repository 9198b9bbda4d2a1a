/* A small IMAP client for the load generator: one connection per
 * coroutine, commands sent one at a time, each read up to its tagged reply.
 * It reads any server (sealmail, Dovecot): untagged responses are skipped
 * except the few the benchmark needs, literals in responses are read and
 * discarded.
 *
 * All calls run in the coroutine that owns the connection. They return
 * IMAPC_OK (0), IMAPC_NO or IMAPC_BAD (positive: the server answered), or
 * a negative errno from the stream (-ETIMEDOUT, -EPIPE, -EPROTO ...);
 * after a negative return the connection is broken and must be closed.
 */
#ifndef SEAL_BENCH_IMAP_CLIENT_H
#define SEAL_BENCH_IMAP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMAPC_OK 0
#define IMAPC_NO 1
#define IMAPC_BAD 2

struct tls_config;

/* Where to connect. tls NULL means plaintext IMAP. */
struct imapc_target {
	const char *host;	/* numeric IPv4 or IPv6 address */
	uint16_t port;
	struct tls_config *tls;
	unsigned timeout_ms;	/* per blocking call */
};

struct imapc {
	struct stream *s;
	unsigned next_tag;
	bool literal_plus;	/* LITERAL+ seen in a CAPABILITY list */
	uint32_t exists;	/* from the latest "* N EXISTS" */
	uint32_t appenduid;	/* from the latest tagged [APPENDUID v u], else 0 */
	/* With collect_uids set, the UIDs of the FETCH responses of each
	 * command are kept here (reset when a command starts); xmalloc'd,
	 * freed by imapc_close(). */
	bool collect_uids;
	uint32_t *uids;
	unsigned n_uids, cap_uids;
	uint64_t literal_bytes;	/* literal bytes received, all commands */
	char last_reply[160];	/* the last tagged NO or BAD line, for reports */
};

/* Connects, starts TLS if the target has a config, reads the greeting (an
 * untagged OK; anything else is -EPROTO). c must be zeroed or closed. */
int imapc_connect(struct imapc *c, const struct imapc_target *t);
/* Frees the stream and the UID list; c can be connected again. */
void imapc_close(struct imapc *c);

/* Sends one command line (the format gives it without tag and CRLF) and
 * reads responses up to its tagged reply. Strings in it must be quoted by
 * the caller (see imapc_login). */
int imapc_cmd(struct imapc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* LOGIN with both strings quoted (RFC 9051 4.3: '"' and '\' escaped).
 * Names and passwords with CR, LF or NUL are not supported (-EINVAL). */
int imapc_login(struct imapc *c, const char *user, const char *password);
/* APPEND msg to mailbox (an atom) with flags ("" for none, else a
 * parenthesised list), as a LITERAL+ literal when the server announced it,
 * else a synchronizing one. c->appenduid is the new message's UID when the
 * server replies with APPENDUID (RFC 4315). */
int imapc_append(struct imapc *c, const char *mailbox, const char *flags, const void *msg,
		 size_t len);
/* Sends IDLE and returns once the server's continuation arrived. IMAPC_NO
 * or IMAPC_BAD if the server refused instead. */
int imapc_idle_start(struct imapc *c);

#endif
