#include <errno.h>
#include <string.h>

#include "coro/coro.h"
#include "coro/stream.h"
#include "protocols/smtp/dot.h"
#include "protocols/smtp/session.h"
#include "src/server.h"

/* Reads the data up to its end marker into the body. Whatever fails on
 * the way (size, a long line, the spool), the data is read to its end so
 * the session stays in step; the failure is the reply. Returns 0, or a
 * stream error: the connection is lost and nothing was acknowledged. */
static int read_data(struct smtp_session *s)
{
	struct smtp_dot dot;
	smtp_dot_init(&dot, s->unix_newlines);
	s->txn.deadline = coro_deadline_in(SMTP_DATA_DEADLINE_MS);
	for (;;) {
		const char *line;
		size_t len;
		int r = smtp_data_timeout(s);
		if (r == 0)
			r = stream_read_line(s->stream, &line, &len);
		if (r == -EINTR) {
			/* A stop: this message may still make it in the
			 * grace period; the session ends after it. */
			if (s->conn->server->stopping)
				s->stop_after = true;
			continue;
		}
		if (r == -EMSGSIZE || (r == 0 && len > SEAL_SMTP_MAX_LINE)) {
			/* Its line ending is unknown: take the next line
			 * as a new one, so the end marker is never missed. */
			smtp_body_line_too_long(s);
			dot.detect = false;
			dot.bol = true;
			continue;
		}
		if (r < 0)
			return r;
		size_t skip;
		const char *eol;
		if (smtp_dot_line(&dot, line, len, stream_last_line_crlf(s->stream), &skip, &eol))
			return 0;
		smtp_body_write(s, line + skip, len - skip);
		smtp_body_write(s, eol, strlen(eol));
	}
}

/* DATA (RFC 5321 4.1.1.4) with the manual's line-ending rules (dot.h). */
int smtp_cmd_data(struct smtp_session *s, const char *args, size_t len)
{
	if (len)
		return smtp_reply(s, 501, "5.5.4", "DATA takes no arguments");
	if (!smtp_need_rcpts(s))
		return 0;
	if (s->txn.bdat)
		return smtp_reply(s, 503, "5.5.1", "DATA in the middle of BDAT");
	int r = smtp_body_begin(s);
	if (r < 0) {
		smtp_txn_reset(s);
		return smtp_reply_error(s, r, "Cannot take the message now");
	}
	r = smtp_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
	if (r == 0)
		r = stream_flush(s->stream);
	if (r == 0)
		r = read_data(s);
	if (r < 0)
		return r;
	return smtp_message_end(s);
}
