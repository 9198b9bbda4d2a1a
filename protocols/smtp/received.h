/* The Received header we prepend to every message (RFC 5321 4.4, with the
 * protocol names of RFC 3848 and 6531). Pure, for tests. */
#ifndef SEAL_SMTP_RECEIVED_H
#define SEAL_SMTP_RECEIVED_H

#include <stdbool.h>
#include <stdint.h>

struct buf;

struct smtp_received {
	const char *helo;	/* the client's name (sanitised by smtp_parse_helo) */
	const char *peer_ip;	/* "" for a unix socket */
	const char *host_name;	/* ours */
	const char *proto;	/* "ESMTP", "LMTP" */
	bool esmtp;		/* false after HELO: "SMTP" */
	bool tls;
	const char *tls_desc;	/* "TLSv1.2 ECDHE-..." or "" */
	bool utf8;		/* the transaction used SMTPUTF8 */
	const char *id;		/* transaction id */
	const char *rcpt;	/* "for <...>", or NULL */
	int64_t now;		/* Unix seconds */
};

/* Appends the header, folded, CRLF-terminated. */
void smtp_received_format(struct buf *out, const struct smtp_received *r);

/* RFC 5322 3.3 date in UTC: "Tue, 01 Dec 2026 02:03:04 +0000". */
void smtp_rfc5322_date(int64_t t, char out[64]);

#endif
