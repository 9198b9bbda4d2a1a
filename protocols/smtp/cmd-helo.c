#include <stdio.h>
#include <string.h>

#include "coro/stream.h"
#include "protocols/smtp/session.h"
#include "src/server.h"

/* EHLO, HELO (RFC 5321 4.1.1.1) and LHLO (RFC 2033 4.1). */
static int greet(struct smtp_session *s, const char *verb, const char *args, size_t len,
		 bool esmtp)
{
	char name[SMTP_DOMAIN_MAX + 1];
	if (smtp_parse_helo(args, len, name, sizeof(name)) == 0)
		return smtp_reply(s, 501, "5.5.4", "Syntax: %s hostname", verb);
	/* A second greeting is a reset (RFC 5321 4.1.4). */
	smtp_txn_reset(s);
	memcpy(s->helo, name, sizeof(name));
	s->esmtp = esmtp;
	const char *peer = s->conn->peer_ip[0] ? s->conn->peer_ip : "unix socket";
	if (!esmtp)
		return smtp_reply(s, 250, NULL, "%s Hello %s [%s]", s->host_name, name, peer);

	char size[32];
	const char *ext[12];
	size_t n = 0;
	snprintf(size, sizeof(size), "SIZE %llu", (unsigned long long)SMTP_MAX_BODY);
	ext[n++] = "PIPELINING";
	ext[n++] = size;
	ext[n++] = "8BITMIME";
	if (s->pers->binarymime)
		ext[n++] = "BINARYMIME";
	ext[n++] = "CHUNKING";
	ext[n++] = "ENHANCEDSTATUSCODES";
	/* RFC 3207 4.2: not offered again once TLS is on. */
	if (s->pers->starttls && s->conn->tls && !stream_is_tls(s->stream))
		ext[n++] = "STARTTLS";
	ext[n++] = "SMTPUTF8";
	ext[n++] = "HELP";
	int r = smtp_reply_more(s, 250, NULL, "%s Hello %s [%s]", s->host_name, name, peer);
	for (size_t i = 0; i < n && r == 0; i++)
		r = i + 1 < n ? smtp_reply_more(s, 250, NULL, "%s", ext[i])
			      : smtp_reply(s, 250, NULL, "%s", ext[i]);
	return r;
}

int smtp_cmd_ehlo(struct smtp_session *s, const char *args, size_t len)
{
	return greet(s, "EHLO", args, len, true);
}

int smtp_cmd_helo(struct smtp_session *s, const char *args, size_t len)
{
	return greet(s, "HELO", args, len, false);
}

int smtp_cmd_lhlo(struct smtp_session *s, const char *args, size_t len)
{
	return greet(s, "LHLO", args, len, true);
}
