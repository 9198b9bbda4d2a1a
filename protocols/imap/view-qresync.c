/* Quick resynchronisation at SELECT (RFC 7162 3.2.5): what a client that
 * last saw the mailbox at some MODSEQ missed, in two responses. Every
 * expunge is remembered (manual, QRESYNC), so VANISHED (EARLIER) is exact. */
#include "protocols/imap/view.h"

#include <inttypes.h>
#include <stdlib.h>

#include "coro/stream.h"
#include "protocols/imap/parser.h"
#include "protocols/imap/session.h"
#include "storage/store.h"

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int send_vanished_earlier(struct imap_session *s, struct meta_uids *gone,
				 const struct seqset *known)
{
	if (gone->n == 0)
		return 0;
	qsort(gone->v, gone->n, sizeof(*gone->v), u32_cmp);
	size_t n = 0;
	for (size_t i = 0; i < gone->n; i++)
		if (!known || seqset_contains(known, gone->v[i]))
			gone->v[n++] = gone->v[i];
	if (n == 0)
		return 0;
	struct buf b = BUF_INIT(0);
	int r = buf_puts(&b, "* VANISHED (EARLIER) ");
	if (r == 0)
		r = imap_append_number_set(&b, gone->v, n);
	if (r == 0)
		r = buf_puts(&b, "\r\n");
	if (r == 0)
		r = stream_write(s->stream, b.data, b.len);
	buf_free(&b);
	return r;
}

static int send_changed(struct imap_session *s, const struct meta_msgs *l,
			const struct seqset *known)
{
	int r = imap_view_announce_keywords(s, l);
	struct buf b = BUF_INIT(0);
	for (size_t i = 0; r == 0 && i < l->n; i++) {
		const struct meta_msg *m = &l->v[i];
		uint32_t seq = imap_view_seq(s->view, m->uid);
		if (!seq || (known && !seqset_contains(known, m->uid)))
			continue;
		b.len = 0;
		r = buf_printf(&b, "* %" PRIu32 " FETCH (UID %" PRIu32 " FLAGS ", seq, m->uid);
		if (r == 0)
			r = imap_view_append_flags(s, &b, m->uid, m->flags, l->kw + m->kw_off,
						   m->kw_n);
		if (r == 0)
			r = buf_printf(&b, " MODSEQ (%" PRIu64 "))\r\n", m->modseq);
		if (r == 0)
			r = stream_write(s->stream, b.data, b.len);
	}
	buf_free(&b);
	return r;
}

int imap_qresync_report(struct imap_session *s, uint64_t modseq, const struct imap_arg *known,
			int *store_err_r, const char **error_r)
{
	struct imap_view *v = s->view;
	struct seqset known_set = { 0 };
	struct meta_changes ch;
	*store_err_r = 0;
	if (known) {
		uint32_t star = v->uidnext > 1 ? v->uidnext - 1 : 0;
		if (seqset_parse(known->str, known->len, star, 65536, &known_set) < 0)
			known = NULL;	/* checked by the caller; "*" alone when empty */
	}
	int r = store_changes(s->user, v->mailbox_id, modseq, &ch, error_r);
	if (r < 0) {
		*store_err_r = r;
		seqset_free(&known_set);
		return 0;
	}
	r = send_vanished_earlier(s, &ch.expunged, known ? &known_set : NULL);
	if (r == 0)
		r = send_changed(s, &ch.msgs, known ? &known_set : NULL);
	meta_changes_free(&ch);
	seqset_free(&known_set);
	return r;
}
