#include <errno.h>
#include <stdlib.h>

#include "coro/coro.h"
#include "coro/stream.h"
#include "protocols/smtp/session.h"
#include "src/server.h"
#include "src/util/xmalloc.h"

#define CHUNK_BUF (64 * 1024)

/* Reads size bytes of a chunk; into the body unless discard. Like DATA,
 * a chunk is always read whole so the session stays in step. */
static int read_chunk(struct smtp_session *s, uint64_t size, bool discard)
{
	struct smtp_txn *t = &s->txn;
	if (!t->chunk)
		t->chunk = xmalloc(CHUNK_BUF);
	if (!t->deadline)
		t->deadline = coro_deadline_in(SMTP_DATA_DEADLINE_MS);
	while (size > 0) {
		size_t n = size < CHUNK_BUF ? (size_t)size : CHUNK_BUF;
		int r = smtp_data_timeout(s);
		if (r == 0)
			r = stream_read_exact(s->stream, t->chunk, n);
		if (r == -EINTR) {
			if (s->conn->server->stopping)
				s->stop_after = true;
			continue;
		}
		if (r < 0)
			return r;
		if (!discard)
			smtp_body_write(s, t->chunk, n);
		size -= n;
	}
	return 0;
}

/* Why this chunk cannot be taken, if so. */
static bool refused(struct smtp_session *s, struct smtp_reply_text *why)
{
	struct smtp_txn *t = &s->txn;
	if (!s->helo[0])
		smtp_reply_save(why, 503, "5.5.1", "Say %s first", s->pers->lmtp ? "LHLO" : "EHLO");
	else if (!t->mail)
		smtp_reply_save(why, 503, "5.5.1", "Need MAIL before BDAT");
	else if (t->n_rcpts == 0)
		smtp_reply_save(why, 554, "5.5.1", "No valid recipients");
	else if (t->data_failed)
		*why = t->failed;
	else
		return false;
	return true;
}

/* BDAT (RFC 3030): the bytes as they are, never converted (manual). */
int smtp_cmd_bdat(struct smtp_session *s, const char *args, size_t len)
{
	struct smtp_txn *t = &s->txn;
	struct smtp_reply_text why;
	uint64_t size;
	bool last;

	/* Without a size the chunk cannot be skipped: what follows is read
	 * as commands, and the error count ends a confused session. */
	if (smtp_parse_bdat(args, len, &size, &last) < 0)
		return smtp_reply(s, 501, "5.5.4", "Syntax: BDAT size [LAST]");
	if (!refused(s, &why) && !t->bdat) {
		int r = smtp_body_begin(s);
		t->bdat = true;
		if (r < 0) {
			smtp_reply_save_error(&t->failed, r, "Cannot take the message now");
			t->data_failed = true;
			why = t->failed;
		}
	}
	if (refused(s, &why)) {
		bool chain = t->data_failed;
		int r = read_chunk(s, size, true);
		if (r < 0)
			return r;
		if (last && chain)
			smtp_txn_reset(s);	/* the failed message is over */
		return smtp_reply_saved(s, &why);
	}
	int r = read_chunk(s, size, false);
	if (r < 0)
		return r;
	if (last)
		return smtp_message_end(s);
	if (smtp_body_failed(s, &t->failed)) {
		t->data_failed = true;
		return smtp_reply_saved(s, &t->failed);
	}
	return smtp_reply(s, 250, "2.0.0", "%llu octets received", (unsigned long long)size);
}
