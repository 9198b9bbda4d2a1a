/* The end of a message: delivery into each recipient's INBOX through the
 * store's password-free path, the replies, and the transaction's log line.
 *
 * Each recipient gets its own delivery (its own key, its own Received
 * "for" line). The reply that accepts a message comes only after
 * store_deliver_commit() returned 0 for it: the message is then durable.
 * LMTP answers per recipient (RFC 2033 4.2). SMTP has one answer for all:
 * recipients are delivered in order and the first failure stops; the
 * answer is then 4xx (or the failure's 5xx when it was the first
 * recipient and permanent), so the sender retries and nothing is lost.
 * Recipients delivered before the failure may get a second copy on the
 * retry: a duplicate is the price of never losing a message.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coro/stream.h"
#include "protocols/smtp/received.h"
#include "protocols/smtp/session.h"
#include "protocols/smtp/spool.h"
#include "src/log.h"
#include "src/server.h"
#include "src/util/buf.h"
#include "src/util/xmalloc.h"
#include "storage/crypto.h"
#include "storage/store.h"

#define READ_BUF (256 * 1024)	/* a spilled body is read back in these */

static void received_for(struct smtp_session *s, const char *rcpt, struct buf *out)
{
	struct smtp_received r = {
		.helo = s->helo,
		.peer_ip = s->conn->peer_ip,
		.host_name = s->host_name,
		.proto = s->pers->proto,
		.esmtp = s->esmtp,
		.tls = stream_is_tls(s->stream),
		.tls_desc = stream_tls_description(s->stream),
		.utf8 = s->txn.smtputf8,
		.id = s->txn.id,
		.rcpt = rcpt,
		.now = store_now(s->store),
	};
	smtp_received_format(out, &r);
}

static int write_body(struct smtp_session *s, struct store_delivery *d, uint8_t **buf)
{
	struct smtp_spool *sp = smtp_body_spool(s);
	const void *mem;
	size_t len;
	if (smtp_spool_memory(sp, &mem, &len))
		return store_deliver_write(d, mem, len);
	if (!*buf)
		*buf = xmalloc(READ_BUF);
	uint64_t off = 0;
	for (;;) {
		ssize_t n = smtp_spool_read(sp, off, *buf, READ_BUF);
		if (n <= 0)
			return n < 0 ? (int)n : (off == smtp_spool_size(sp) ? 0 : -EIO);
		int r = store_deliver_write(d, *buf, (size_t)n);
		if (r < 0)
			return r;
		off += (uint64_t)n;
	}
}

static int deliver_one(struct smtp_session *s, const struct smtp_rcpt *rc, uint8_t **buf)
{
	const struct delivery_opts opts = { .mailbox = "INBOX", .eol = DELIVERY_EOL_KEEP };
	struct store_delivery *d;
	/* Bounded by construction: the prefix under half of it (smtpin.c),
	 * Received about 1 KiB (names and address have parser limits). */
	struct buf head = BUF_INIT(SMTP_PREPEND_MAX);
	char *err = NULL;

	int r = store_deliver_begin(s->store, rc->user, &opts, &d, &err);
	if (r == 0) {
		/* Authentication results above Received: the newest first. */
		if (s->txn.prefix)
			buf_puts(&head, s->txn.prefix);
		received_for(s, rc->address, &head);
		r = store_deliver_write(d, head.data, head.len);
		if (r == 0)
			r = write_body(s, d, buf);
		if (r == 0)
			r = store_deliver_commit(&d, &err);
		else
			store_deliver_abort(&d);
	}
	if (r < 0)
		conn_log(s->conn, LOG_WARNING, "%s: id=%s delivery to '%s' failed: %s",
			 s->pers->name, s->txn.id, rc->user, err ? err : strerror(-r));
	buf_free(&head);
	free(err);
	return r;
}

/* Delivers to every distinct recipient; SMTP stops at the first failure
 * (see above). Results go into rcpts[i].result; duplicates share theirs.
 * Returns how many distinct recipients got the message. */
static size_t deliver_all(struct smtp_session *s)
{
	struct smtp_txn *t = &s->txn;
	uint8_t *buf = NULL;
	size_t ok = 0;
	bool stop = false;
	for (size_t i = 0; i < t->n_rcpts; i++) {
		struct smtp_rcpt *rc = &t->rcpts[i];
		if (rc->dup_of >= 0)
			rc->result = t->rcpts[rc->dup_of].result;
		else if (stop)
			rc->result = -ECANCELED;
		else if ((rc->result = deliver_one(s, rc, &buf)) == 0)
			ok++;
		else
			stop = !s->pers->lmtp;
	}
	free(buf);
	return ok;
}

static int reply_lmtp(struct smtp_session *s, const struct smtp_reply_text *refusal)
{
	int r = 0;
	for (size_t i = 0; i < s->txn.n_rcpts && r == 0; i++) {
		const struct smtp_rcpt *rc = &s->txn.rcpts[i];
		if (refusal)
			r = smtp_reply_saved(s, refusal);
		else if (rc->result == 0)
			r = smtp_reply(s, 250, "2.0.0", "<%s> Delivered (id %s)", rc->address,
				       s->txn.id);
		else
			r = smtp_reply_error(s, rc->result, rc->address);
	}
	return r;
}

static int reply_smtp(struct smtp_session *s, size_t ok, size_t distinct)
{
	const struct smtp_txn *t = &s->txn;
	if (ok == distinct)
		return smtp_reply(s, 250, "2.0.0", "Message accepted (id %s)", t->id);
	/* A permanent failure may speak for the message only when it is
	 * the only recipient: otherwise the others deserve their retry. */
	if (distinct == 1)
		return smtp_reply_error(s, t->rcpts[0].result, "Delivery failed");
	return smtp_reply(s, 451, "4.3.0", "Delivery failed for %s recipients; try again later",
			  ok ? "some" : "the");
}

/* One line per transaction: who, to whom, how big, what authentication
 * said, and what became of it. */
static void log_txn(struct smtp_session *s, const char *decision)
{
	const struct smtp_txn *t = &s->txn;
	struct buf to = BUF_INIT(600);
	for (size_t i = 0; i < t->n_rcpts; i++) {
		const struct smtp_rcpt *rc = &t->rcpts[i];
		if (buf_printf(&to, "%s<%s>%s", i ? "," : "", rc->address,
			       rc->result ? "(failed)" : "") < 0) {
			buf_puts(&to, "...");
			break;
		}
	}
	conn_log(s->conn, LOG_INFO, "%s: id=%s from=<%s> to=%s size=%llu%s%s%s: %s",
		 s->pers->name, t->id, t->from ? t->from : "", to.data ? to.data : "",
		 (unsigned long long)smtp_body_size(s), stream_is_tls(s->stream) ? " tls" : "",
		 t->auth_log ? " auth=" : "", t->auth_log ? t->auth_log : "", decision);
	buf_free(&to);
}

int smtp_message_end(struct smtp_session *s)
{
	struct smtp_txn *t = &s->txn;
	struct smtp_reply_text fail = { 0 };
	int r;

	if (!smtp_body_failed(s, &fail)) {
		r = smtp_spool_finish(smtp_body_spool(s));
		if (r < 0)
			smtp_reply_save_error(&fail, r, "Message refused");
	}
	if (!fail.code && s->pers->data_end && s->pers->data_end(s) == 1)
		fail = t->refusal;
	if (fail.code) {
		for (size_t i = 0; i < t->n_rcpts; i++)
			t->rcpts[i].result = -ECANCELED;
		r = s->pers->lmtp ? reply_lmtp(s, &fail) : smtp_reply_saved(s, &fail);
		char what[200];
		snprintf(what, sizeof(what), "refused: %d %s %s", fail.code, fail.enh, fail.text);
		log_txn(s, what);
	} else {
		size_t ok = deliver_all(s), distinct = 0;
		for (size_t i = 0; i < t->n_rcpts; i++)
			distinct += t->rcpts[i].dup_of < 0;
		r = s->pers->lmtp ? reply_lmtp(s, NULL) : reply_smtp(s, ok, distinct);
		log_txn(s, ok == distinct ? "delivered" : ok ? "partly delivered" : "not delivered");
	}
	smtp_txn_reset(s);
	return r;
}
