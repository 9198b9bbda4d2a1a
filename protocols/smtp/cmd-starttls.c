#include <errno.h>
#include <string.h>

#include "coro/stream.h"
#include "protocols/smtp/session.h"
#include "src/log.h"
#include "src/server.h"

/* STARTTLS (RFC 3207). */
int smtp_cmd_starttls(struct smtp_session *s, const char *args, size_t len)
{
	if (len)
		return smtp_reply(s, 501, "5.5.4", "STARTTLS takes no arguments");
	if (!s->pers->starttls || !s->conn->tls)
		return smtp_reply(s, 454, "4.7.0", "TLS not available");
	if (stream_is_tls(s->stream))
		return smtp_reply(s, 503, "5.5.1", "TLS is already active");
	if (!smtp_need_helo(s))
		return 0;
	if (s->txn.mail)
		return smtp_reply(s, 503, "5.5.1", "STARTTLS in the middle of a transaction");
	/* Commands pipelined after STARTTLS would cross into the TLS session
	 * from the clear: the injection of RFC 3207 section 6. */
	if (stream_buffered(s->stream)) {
		smtp_reply(s, 554, "5.5.1", "Data after STARTTLS; closing");
		return -EPROTO;
	}
	int r = smtp_reply(s, 220, "2.0.0", "Ready to start TLS");
	if (r == 0)
		r = stream_start_tls_server(s->stream, s->conn->tls);
	if (r < 0) {
		conn_log(s->conn, LOG_INFO, "STARTTLS failed: %s", strerror(-r));
		return r;
	}
	conn_log(s->conn, LOG_DEBUG, "STARTTLS: %s", stream_tls_description(s->stream));
	/* RFC 3207 4.2: forget everything the client said in the clear. */
	s->helo[0] = '\0';
	s->esmtp = false;
	s->unix_newlines = false;
	smtp_txn_reset(s);
	return 0;
}
