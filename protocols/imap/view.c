/* The selected mailbox of a session (view.h): opening from a snapshot,
 * sequence numbers, message sets, flag lists. Synchronisation with the
 * store is in view-sync.c. */
#include "protocols/imap/view.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coro/stream.h"
#include "protocols/imap/parser.h"
#include "protocols/imap/session.h"
#include "src/util/xmalloc.h"
#include "storage/store.h"

/* Ranges in one sequence set: enough for any real client, small enough
 * that a hostile one cannot make us allocate much. */
#define VIEW_MAX_SET_RANGES 65536

static void view_take_keywords(struct imap_view *v, struct meta_snapshot *snap)
{
	v->keywords = snap->keywords;
	v->n_keywords = snap->n_keywords;
	snap->keywords = NULL;
	snap->n_keywords = 0;
}

static void view_take_uids(struct imap_view *v, const struct meta_snapshot *snap)
{
	v->cap = snap->msgs.n ? (uint32_t)snap->msgs.n : 16;
	v->uids = xmalloc(v->cap * sizeof(*v->uids));
	for (size_t i = 0; i < snap->msgs.n; i++) {
		const struct meta_msg *m = &snap->msgs.v[i];
		v->uids[v->count++] = m->uid;
		if (!v->first_unseen && !(m->flags & META_FLAG_SEEN))
			v->first_unseen = v->count;
	}
}

/* \Recent belongs to the first session that sees a message (RFC 3501
 * 2.3.2), claimed atomically in the store. IMAP4rev2 has no \Recent, and
 * EXAMINE must not take it from a session that would report it. */
int imap_view__claim_recent(struct imap_session *s)
{
	struct imap_view *v = s->view;
	if (v->read_only || s->imap4rev2)
		return 0;
	uint32_t first = 0, last = 0;
	const char *err = NULL;
	int r = store_claim_recent(s->user, v->mailbox_id, &first, &last, &err);
	if (r < 0)
		return r;
	if (first <= last)
		seqset_add(&v->recent, first, last);
	return 0;
}

int imap_view_open(struct imap_session *s, const char *name, bool read_only,
		   struct imap_view **view_r, const char **error_r)
{
	struct meta_snapshot snap;
	/* Read the change counter first: a change racing with the snapshot
	 * then makes the next sync look again, which is harmless. */
	uint64_t seen = store_change_seq(s->user);
	int r = store_snapshot(s->user, name, &snap, error_r);
	if (r < 0)
		return r;
	struct imap_view *v = xcalloc(1, sizeof(*v));
	v->mailbox_id = snap.id;
	v->name = xstrdup(name);
	v->read_only = read_only;
	v->uidvalidity = snap.uidvalidity;
	v->uidnext = snap.uidnext;
	v->highest_modseq = snap.highest_modseq;
	v->synced_modseq = snap.highest_modseq;
	v->change_seq = seen;
	memcpy(v->object_id, snap.object_id, sizeof(v->object_id));
	view_take_keywords(v, &snap);
	view_take_uids(v, &snap);
	meta_snapshot_free(&snap);
	struct imap_view *old = s->view;
	s->view = v;
	r = imap_view__claim_recent(s);
	s->view = old;
	if (r < 0) {
		if (error_r)
			*error_r = "cannot claim \\Recent";
		imap_view_free(&v);
		return r;
	}
	*view_r = v;
	return 0;
}

void imap_view_free(struct imap_view **view)
{
	struct imap_view *v = *view;
	if (!v)
		return;
	for (size_t i = 0; i < v->n_keywords; i++)
		free(v->keywords[i]);
	free(v->keywords);
	free(v->name);
	free(v->uids);
	free(v->noted);
	seqset_free(&v->recent);
	free(v->pending);
	seqset_free(&v->saved);
	free(v);
	*view = NULL;
}

/* Index of the first UID >= uid (count if none). */
static uint32_t view_lower_bound(const struct imap_view *v, uint32_t uid)
{
	uint32_t lo = 0, hi = v->count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (v->uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint32_t imap_view_seq(const struct imap_view *v, uint32_t uid)
{
	uint32_t i = view_lower_bound(v, uid);
	return i < v->count && v->uids[i] == uid ? i + 1 : 0;
}

bool imap_view_is_recent(const struct imap_session *s, uint32_t uid)
{
	return s->view && !s->imap4rev2 && seqset_contains(&s->view->recent, uid);
}

uint32_t imap_view_recent_count(const struct imap_session *s)
{
	const struct imap_view *v = s->view;
	uint32_t n = 0;
	if (!v || s->imap4rev2)
		return 0;
	for (size_t i = 0; i < v->recent.count; i++) {
		uint32_t a = view_lower_bound(v, v->recent.ranges[i].lo);
		uint32_t b = v->recent.ranges[i].hi == UINT32_MAX
				     ? v->count
				     : view_lower_bound(v, v->recent.ranges[i].hi + 1);
		n += b - a;
	}
	return n;
}

void imap_msgset_free(struct imap_msgset *set)
{
	free(set->seqs);
	free(set->uids);
	memset(set, 0, sizeof(*set));
}

/* Adds the view's messages at indexes [a, b) to out, merging with the
 * previous run when they touch. */
static void msgset_add_run(struct imap_msgset *out, const struct imap_view *v, uint32_t a,
			   uint32_t b, size_t *cap)
{
	if (a >= b)
		return;
	if (out->n && out->seqs[out->n - 1].hi == a) {
		out->seqs[out->n - 1].hi = b;
		out->uids[out->n - 1].hi = v->uids[b - 1];
	} else {
		if (out->n == *cap) {
			*cap = *cap ? *cap * 2 : 8;
			out->seqs = xrealloc(out->seqs, *cap * sizeof(*out->seqs));
			out->uids = xrealloc(out->uids, *cap * sizeof(*out->uids));
		}
		out->seqs[out->n] = (struct seq_range){ a + 1, b };
		out->uids[out->n] = (struct meta_uid_range){ v->uids[a], v->uids[b - 1] };
		out->n++;
	}
	out->count += b - a;
}

/* UID ranges (sorted, disjoint) to the view's messages inside them. */
static void msgset_from_uids(const struct imap_view *v, const struct seqset *set,
			     struct imap_msgset *out)
{
	size_t cap = 0;
	for (size_t i = 0; i < set->count; i++) {
		uint32_t a = view_lower_bound(v, set->ranges[i].lo);
		uint32_t b = set->ranges[i].hi == UINT32_MAX
				     ? v->count
				     : view_lower_bound(v, set->ranges[i].hi + 1);
		msgset_add_run(out, v, a, b, &cap);
	}
}

int imap_view_msgset(struct imap_session *s, const struct imap_arg *arg, bool uid_mode,
		     struct imap_msgset *out, const char **error_r)
{
	const struct imap_view *v = s->view;
	memset(out, 0, sizeof(*out));
	if (!v || arg->type != IMAP_ARG_ATOM) {
		*error_r = "Invalid sequence set";
		return -EINVAL;
	}
	if (arg->len == 1 && arg->str[0] == '$') {
		/* RFC 5182: the saved result holds UIDs; those expunged since
		 * simply drop out. */
		msgset_from_uids(v, &v->saved, out);
		return 0;
	}
	/* An empty mailbox has no "*": a set reaching it names nothing. */
	if (!uid_mode && v->count == 0 && memchr(arg->str, '*', arg->len))
		return 0;
	uint32_t star = uid_mode ? (v->count ? v->uids[v->count - 1] : 0) : v->count;
	struct seqset set;
	int r = seqset_parse(arg->str, arg->len, star, VIEW_MAX_SET_RANGES, &set);
	if (r < 0) {
		*error_r = r == -E2BIG ? "Sequence set too long" : "Invalid sequence set";
		return -EINVAL;
	}
	if (uid_mode) {
		msgset_from_uids(v, &set, out);
	} else if (set.count && set.ranges[set.count - 1].hi > v->count) {
		/* RFC 9051 6.4.5 (and 9, seq-number): a number past the
		 * mailbox's size is a client error. */
		*error_r = "Invalid message sequence number";
		r = -ERANGE;
	} else {
		size_t cap = 0;
		for (size_t i = 0; i < set.count; i++)
			msgset_add_run(out, v, set.ranges[i].lo - 1, set.ranges[i].hi, &cap);
	}
	seqset_free(&set);
	return r;
}

/* Loads the names of keyword ids up to id (the store hands out small
 * consecutive ids; a hole stays NULL). */
static int view_load_keyword(struct imap_session *s, uint32_t id)
{
	struct imap_view *v = s->view;
	if (id < v->n_keywords && v->keywords[id])
		return 0;
	char *name = NULL;
	int r = store_keyword_name(s->user, id, &name);
	if (r < 0)
		return r;
	if (id >= v->n_keywords) {
		v->keywords = xrealloc(v->keywords, ((size_t)id + 1) * sizeof(*v->keywords));
		memset(v->keywords + v->n_keywords, 0,
		       ((size_t)id + 1 - v->n_keywords) * sizeof(*v->keywords));
		v->n_keywords = (size_t)id + 1;
	}
	v->keywords[id] = name;
	v->flags_dirty = true;
	return 0;
}

const char *imap_view_keyword(struct imap_session *s, uint32_t id)
{
	if (!s->view || view_load_keyword(s, id) < 0)
		return NULL;
	return s->view->keywords[id];
}

int imap_view_append_flags(struct imap_session *s, struct buf *out, uint32_t uid,
			   uint32_t flags, const uint32_t *kw, size_t n_kw)
{
	int r = buf_puts(out, "(");
	const char *sep = "";
	for (uint32_t bit = 1; r == 0 && bit <= META_FLAGS_ALL; bit <<= 1) {
		if (flags & bit) {
			r = buf_printf(out, "%s%s", sep, meta_flag_name(bit));
			sep = " ";
		}
	}
	if (r == 0 && imap_view_is_recent(s, uid)) {
		r = buf_printf(out, "%s\\Recent", sep);
		sep = " ";
	}
	for (size_t i = 0; r == 0 && i < n_kw; i++) {
		const char *name = imap_view_keyword(s, kw[i]);
		if (!name)
			continue;
		r = buf_printf(out, "%s%s", sep, name);
		sep = " ";
	}
	return r == 0 ? buf_puts(out, ")") : r;
}

static int view_append_keyword_list(const struct imap_view *v, struct buf *b)
{
	int r = buf_puts(b, "\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	for (size_t i = 0; r == 0 && i < v->n_keywords; i++)
		if (v->keywords[i])
			r = buf_printf(b, " %s", v->keywords[i]);
	return r;
}

int imap_view_send_flags(struct imap_session *s)
{
	struct imap_view *v = s->view;
	struct buf b = BUF_INIT(0);
	int r = buf_puts(&b, "* FLAGS (");
	if (r == 0)
		r = view_append_keyword_list(v, &b);
	if (r == 0)
		r = buf_puts(&b, ")\r\n* OK [PERMANENTFLAGS (");
	/* RFC 9051 7.1: a read-only mailbox has no permanent flags. */
	if (r == 0 && !v->read_only)
		r = view_append_keyword_list(v, &b);
	if (r == 0)
		r = buf_puts(&b, v->read_only ? ")] No permanent flags permitted\r\n"
					       : " \\*)] Flags permitted\r\n");
	if (r == 0)
		r = stream_write(s->stream, b.data, b.len);
	buf_free(&b);
	v->flags_dirty = false;
	return r;
}

int imap_view_announce_keywords(struct imap_session *s, const struct meta_msgs *l)
{
	struct imap_view *v = s->view;
	if (!v)
		return 0;
	/* A name the store cannot give now is left out of the lists; the
	 * next announcement tries again. */
	for (size_t i = 0; i < l->kw_n; i++)
		view_load_keyword(s, l->kw[i]);
	return v->flags_dirty ? imap_view_send_flags(s) : 0;
}
