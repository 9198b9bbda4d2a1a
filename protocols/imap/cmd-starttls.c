#include <errno.h>
#include <string.h>

#include "coro/stream.h"
#include "protocols/imap/session.h"
#include "src/log.h"
#include "src/server.h"

/* RFC 9051 section 6.2.1. Only offered on a cleartext listener. */
int imap_cmd_starttls(struct imap_session *s, struct imap_command *cmd)
{
	if (cmd->nargs)
		return imap_reply(s, cmd->tag, "BAD", "STARTTLS takes no arguments");
	if (stream_is_tls(s->stream))
		return imap_reply(s, cmd->tag, "BAD", "TLS is already active");
	if (!s->conn->tls)
		return imap_reply(s, cmd->tag, "NO", "[UNAVAILABLE] TLS is not configured");
	/* Anything pipelined after STARTTLS would be injected into the TLS
	 * session by a man in the middle (RFC 3207 section 4.2 explains the
	 * attack for SMTP): refuse it. */
	if (stream_buffered(s->stream)) {
		imap_reply(s, cmd->tag, "BAD", "Data after STARTTLS; closing");
		stream_flush(s->stream);
		return -EPROTO;
	}
	int r = imap_reply(s, cmd->tag, "OK", "Begin TLS negotiation now");
	if (r == 0)
		r = stream_flush(s->stream);
	if (r == 0)
		r = stream_start_tls_server(s->stream, s->conn->tls);
	if (r < 0) {
		conn_log(s->conn, LOG_INFO, "STARTTLS failed: %s", strerror(-r));
		return r;
	}
	conn_log(s->conn, LOG_DEBUG, "STARTTLS: %s", stream_tls_description(s->stream));
	return 0;
}
