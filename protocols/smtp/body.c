#include <errno.h>
#include <stdlib.h>

#include "protocols/smtp/session.h"
#include "protocols/smtp/spool.h"
#include "src/server.h"
#include "src/util/xmalloc.h"

/* The message as it arrives: the size limit, the header block limit of
 * SMTP-in (manual: 256 KiB, LMTP has none), the spool, and the
 * personality's feed (mail authentication reads every byte). */
struct smtp_body {
	struct smtp_spool *spool;
	uint64_t size;
	uint32_t header_len;	/* bytes before the end of the header block */
	bool header_done;
	bool line_blank;	/* the current line holds nothing but CR so far */
	int error;		/* the first failure; later bytes are dropped */
};

int smtp_body_begin(struct smtp_session *s)
{
	struct smtp_body *b = xcalloc(1, sizeof(*b));
	b->spool = smtp_spool_new(s->conn->server->users_dir);
	b->line_blank = true;
	b->header_done = !s->pers->header_limit;
	s->txn.body = b;
	return s->pers->data_begin ? s->pers->data_begin(s) : 0;
}

void smtp_body_free(struct smtp_session *s)
{
	struct smtp_body *b = s->txn.body;
	if (!b)
		return;
	smtp_spool_free(&b->spool);
	free(b);
	s->txn.body = NULL;
}

/* Finds the empty line that ends the header block (RFC 5322 2.1; a bare
 * LF counts as a line ending here, as it does for the stored message). */
static void scan_header(struct smtp_body *b, const unsigned char *p, size_t len)
{
	size_t i = 0;
	for (; i < len && !b->header_done; i++) {
		if (p[i] == '\n') {
			b->header_done = b->line_blank;
			b->line_blank = true;
		} else if (p[i] != '\r') {
			b->line_blank = false;
		}
	}
	b->header_len += (uint32_t)i;
	if (!b->header_done && b->header_len > SEAL_MAX_HEADER_BLOCK)
		b->error = -E2BIG;
}

void smtp_body_write(struct smtp_session *s, const void *data, size_t len)
{
	struct smtp_body *b = s->txn.body;
	if (b->error || len == 0)
		return;
	if (len > SMTP_MAX_BODY - b->size) {
		b->error = -EFBIG;
		return;
	}
	if (!b->header_done) {
		scan_header(b, data, len);
		if (b->error)
			return;
	}
	int r = smtp_spool_write(b->spool, data, len);
	if (r < 0) {
		b->error = r;
		return;
	}
	b->size += len;
	if (s->pers->data_feed)
		s->pers->data_feed(s, data, len);
}

void smtp_body_line_too_long(struct smtp_session *s)
{
	if (!s->txn.body->error)
		s->txn.body->error = -EMSGSIZE;
}

bool smtp_body_failed(struct smtp_session *s, struct smtp_reply_text *t)
{
	struct smtp_body *b = s->txn.body;
	switch (b->error) {
	case 0:
		return false;
	case -EMSGSIZE:
		smtp_reply_save(t, 500, "5.5.2", "Message refused: a line is longer than %d bytes",
				SEAL_SMTP_MAX_LINE);
		break;
	case -E2BIG:
		smtp_reply_save(t, 552, "5.3.4", "Message refused: header block over %d bytes",
				SEAL_MAX_HEADER_BLOCK);
		break;
	default:
		smtp_reply_save_error(t, b->error, "Message refused");
		break;
	}
	return true;
}

uint64_t smtp_body_size(const struct smtp_session *s)
{
	return s->txn.body ? s->txn.body->size : 0;
}

struct smtp_spool *smtp_body_spool(struct smtp_session *s)
{
	return s->txn.body->spool;
}
