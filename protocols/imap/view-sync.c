/* Telling a session what changed in its selected mailbox (view.h):
 * EXISTS and RECENT for new mail, FETCH for flag changes, EXPUNGE when
 * allowed (RFC 9051 5.2, 7.5.1), and the end of the session when the
 * mailbox went away (manual, "Mailboxes"). */
#include "protocols/imap/view.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "coro/stream.h"
#include "protocols/imap/session.h"
#include "src/log.h"
#include "src/server.h"
#include "src/util/xmalloc.h"
#include "storage/store.h"

void imap_view_note_reported(struct imap_session *s, uint32_t uid, uint64_t modseq)
{
	struct imap_view *v = s->view;
	if (!v)
		return;
	if (v->n_noted == v->cap_noted) {
		v->cap_noted = v->cap_noted ? v->cap_noted * 2 : 16;
		v->noted = xrealloc(v->noted, v->cap_noted * sizeof(*v->noted));
	}
	v->noted[v->n_noted++] = (struct imap_view_noted){ uid, modseq };
}

static int noted_cmp(const void *a, const void *b)
{
	const struct imap_view_noted *x = a, *y = b;
	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return x->modseq < y->modseq ? -1 : x->modseq > y->modseq;
}

static bool view_was_noted(const struct imap_view *v, uint32_t uid, uint64_t modseq)
{
	struct imap_view_noted key = { uid, modseq };
	return v->n_noted &&
	       bsearch(&key, v->noted, v->n_noted, sizeof(key), noted_cmp) != NULL;
}

/* "* VANISHED 3:5,9" (RFC 7162 3.2.10), which replaces EXPUNGE once the
 * client enabled QRESYNC. */
static int view_send_vanished(struct imap_session *s, const uint32_t *idx, size_t n)
{
	struct imap_view *v = s->view;
	uint32_t *uids = xmalloc(n * sizeof(*uids));
	for (size_t i = 0; i < n; i++)
		uids[i] = v->uids[idx[i]];
	struct buf b = BUF_INIT(0);
	int r = buf_puts(&b, "* VANISHED ");
	if (r == 0)
		r = imap_append_number_set(&b, uids, n);
	if (r == 0)
		r = buf_puts(&b, "\r\n");
	if (r == 0)
		r = stream_write(s->stream, b.data, b.len);
	buf_free(&b);
	free(uids);
	return r;
}

/* Removes the messages at the given indexes (ascending, distinct) from
 * the view after telling the client: EXPUNGE highest first so that each
 * number is still right when the client reads it, or one VANISHED. */
static int view_remove_indexes(struct imap_session *s, const uint32_t *idx, size_t n)
{
	struct imap_view *v = s->view;
	if (n && s->qresync) {
		int r = view_send_vanished(s, idx, n);
		if (r < 0)
			return r;
	}
	for (size_t i = n; !s->qresync && i-- > 0;) {
		int r = stream_printf(s->stream, "* %" PRIu32 " EXPUNGE\r\n", idx[i] + 1);
		if (r < 0)
			return r;
	}
	uint32_t out = 0;
	size_t k = 0;
	for (uint32_t i = 0; i < v->count; i++) {
		if (k < n && idx[k] == i) {
			k++;
			continue;
		}
		v->uids[out++] = v->uids[i];
	}
	v->count = out;
	return 0;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int imap_view_report_expunged(struct imap_session *s, const uint32_t *uids, size_t n)
{
	struct imap_view *v = s->view;
	if (!v || n == 0)
		return 0;
	uint32_t *idx = xmalloc(n * sizeof(*idx));
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t seq = imap_view_seq(v, uids[i]);
		if (seq)
			idx[m++] = seq - 1;
	}
	qsort(idx, m, sizeof(*idx), u32_cmp);
	size_t d = 0;
	for (size_t i = 0; i < m; i++)
		if (d == 0 || idx[d - 1] != idx[i])
			idx[d++] = idx[i];
	int r = view_remove_indexes(s, idx, d);
	free(idx);
	return r;
}

/* Reports every expunge kept pending (view.h). */
static int view_flush_expunges(struct imap_session *s)
{
	struct imap_view *v = s->view;
	int r = imap_view_report_expunged(s, v->pending, v->n_pending);
	free(v->pending);
	v->pending = NULL;
	v->n_pending = v->cap_pending = 0;
	return r;
}

static void view_add_pending(struct imap_view *v, uint32_t uid)
{
	if (v->n_pending == v->cap_pending) {
		v->cap_pending = v->cap_pending ? v->cap_pending * 2 : 16;
		v->pending = xrealloc(v->pending, v->cap_pending * sizeof(*v->pending));
	}
	v->pending[v->n_pending++] = uid;
}

/* "* n FETCH (UID u FLAGS (...) [MODSEQ (m)])" for a flag change another
 * session (or an earlier command that did not report it) made. */
static int view_send_flag_change(struct imap_session *s, const struct meta_msgs *l,
				 const struct meta_msg *m, uint32_t seq)
{
	struct buf b = BUF_INIT(0);
	int r = buf_printf(&b, "* %" PRIu32 " FETCH (UID %" PRIu32 " FLAGS ", seq, m->uid);
	if (r == 0)
		r = imap_view_append_flags(s, &b, m->uid, m->flags, l->kw + m->kw_off, m->kw_n);
	if (r == 0 && s->condstore)
		r = buf_printf(&b, " MODSEQ (%" PRIu64 ")", m->modseq);
	if (r == 0)
		r = buf_puts(&b, ")\r\n");
	if (r == 0)
		r = stream_write(s->stream, b.data, b.len);
	buf_free(&b);
	return r;
}

static void view_append_uid(struct imap_view *v, uint32_t uid)
{
	if (v->count == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 16;
		v->uids = xrealloc(v->uids, (size_t)v->cap * sizeof(*v->uids));
	}
	v->uids[v->count++] = uid;
}

/* Applies what the store says changed: flag changes are reported now,
 * new messages appended (EXISTS comes later), expunges kept pending. */
static int view_apply_changes(struct imap_session *s, const struct meta_changes *ch,
			      bool *grew)
{
	struct imap_view *v = s->view;
	int r = imap_view_announce_keywords(s, &ch->msgs);
	if (v->n_noted > 1)
		qsort(v->noted, v->n_noted, sizeof(*v->noted), noted_cmp);
	uint32_t last = v->count ? v->uids[v->count - 1] : 0;
	for (size_t i = 0; r == 0 && i < ch->msgs.n; i++) {
		const struct meta_msg *m = &ch->msgs.v[i];
		if (m->uid > last) {
			view_append_uid(v, m->uid);
			*grew = true;
			continue;
		}
		uint32_t seq = imap_view_seq(v, m->uid);
		if (seq && !view_was_noted(v, m->uid, m->modseq))
			r = view_send_flag_change(s, &ch->msgs, m, seq);
	}
	for (size_t i = 0; i < ch->expunged.n; i++)
		if (imap_view_seq(v, ch->expunged.v[i]))
			view_add_pending(v, ch->expunged.v[i]);
	if (ch->highest_modseq > v->synced_modseq)
		v->synced_modseq = ch->highest_modseq;
	if (ch->uidnext > v->uidnext)
		v->uidnext = ch->uidnext;
	return r;
}

static int view_gone(struct imap_session *s)
{
	conn_log(s->conn, LOG_INFO, "selected mailbox was deleted or renamed; closing");
	imap_untagged(s, "BYE Selected mailbox was deleted or renamed");
	return -ENOENT;
}

/* Asks the store what changed since the view last looked. A temporary
 * failure is logged and left for the next sync. */
static int view_pull(struct imap_session *s, uint64_t change_seq, bool *grew)
{
	struct imap_view *v = s->view;
	const char *err = NULL;
	int64_t id = 0;
	/* Renaming keeps the id: look the name up to notice it. */
	int r = store_mailbox_find(s->user, v->name, &id, &err);
	if (r == -ENOENT || (r == 0 && id != v->mailbox_id))
		return view_gone(s);
	struct meta_changes ch;
	if (r == 0)
		r = store_changes(s->user, v->mailbox_id, v->synced_modseq, &ch, &err);
	if (r == -ENOENT)
		return view_gone(s);
	if (r < 0) {
		conn_log(s->conn, LOG_WARNING, "sync of the selected mailbox failed: %s: %s",
			 err ? err : "store", strerror(-r));
		return 0;
	}
	r = view_apply_changes(s, &ch, grew);
	meta_changes_free(&ch);
	if (r == 0)
		v->change_seq = change_seq;
	return r;
}

int imap_view_sync(struct imap_session *s, bool allow_expunge)
{
	struct imap_view *v = s->view;
	if (!v)
		return 0;
	bool grew = false;
	int r = 0;
	uint64_t change_seq = store_change_seq(s->user);
	if (change_seq != v->change_seq)
		r = view_pull(s, change_seq, &grew);
	if (r == 0 && allow_expunge && v->n_pending)
		r = view_flush_expunges(s);
	if (r == 0 && grew) {
		r = imap_view__claim_recent(s);
		if (r < 0)
			conn_log(s->conn, LOG_WARNING, "cannot claim \\Recent: %s", strerror(-r));
		r = imap_untagged(s, "%" PRIu32 " EXISTS", v->count);
		if (r == 0 && !s->imap4rev2)
			r = imap_untagged(s, "%" PRIu32 " RECENT", imap_view_recent_count(s));
	}
	v->n_noted = 0;
	/* With no expunge held back, the client knows everything up to here
	 * (RFC 7162 errata 1810: never a HIGHESTMODSEQ past a delayed one). */
	if (r == 0 && v->n_pending == 0)
		v->highest_modseq = v->synced_modseq;
	return r;
}
