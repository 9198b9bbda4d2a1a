/* FETCH and UID FETCH (RFC 9051 6.4.5 and 6.4.9; RFC 3516 BINARY; RFC 7162
 * CHANGEDSINCE and VANISHED).
 *
 * Parse the items and the set, check, then proceed: set \Seen first for
 * a non-PEEK body fetch on a read-write mailbox (one STORE for the whole
 * set, whose result also gives the flags), load what the metadata holds
 * in one scan each, then answer message by message, opening a message
 * file only when the items need its bytes and the header cache cannot
 * answer them (fetch-cache.h). Messages another session
 * expunged, whose expunge this session has not been told of, are still
 * read through the store's 24-hour log (view.h). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "coro/stream.h"
#include "protocols/imap/cmd-message.h"
#include "protocols/imap/fetch-cache.h"
#include "protocols/imap/fetch.h"
#include "protocols/imap/view.h"
#include "storage/store.h"

struct fetch_cmd {
	struct imap_session *s;
	const char *tag;
	struct imap_fetch_req req;
	struct imap_msgset set;
	struct imap_flag_table flags;
	bool have_flags;
	struct meta_msgs seen_set;	/* messages whose \Seen this FETCH set */
	struct meta_fetch_list meta;
	struct imap_fetch_ctx ctx;
	struct imap_fetch_cache hc;
	struct buf flagbuf;
	int failure;			/* first message that could not be read */
	const char *failure_text;
};

static int stream_sink(void *ctx, const void *data, size_t len)
{
	return stream_write(ctx, data, len);
}

static ssize_t message_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
	return store_message_read(ctx, offset, buf, len);
}

/* Marks the set \Seen (RFC 9051 6.4.5: BODY[...] without PEEK). The
 * store's answer holds the flags of every live message of the set. */
static int fetch_set_seen(struct fetch_cmd *f, const char **error_r)
{
	struct imap_session *s = f->s;
	struct meta_store_req req = { META_STORE_ADD, META_FLAG_SEEN, NULL, 0,
				      META_UNCHANGED_ANY };
	struct meta_store_result res;
	int r = store_store(s->user, s->view->mailbox_id, f->set.uids, f->set.n, &req, &res,
			    error_r);
	if (r < 0)
		return r;
	for (size_t i = 0; i < res.changed.n; i++)
		imap_view_note_reported(s, res.changed.v[i].uid, res.changed.v[i].modseq);
	f->flags.extra = res.changed;
	f->flags.live = res.unchanged;
	memset(&res.changed, 0, sizeof(res.changed));
	memset(&res.unchanged, 0, sizeof(res.unchanged));
	meta_store_result_free(&res);
	f->seen_set = f->flags.extra;	/* borrowed: the same list */
	f->have_flags = true;
	return 0;
}

static const struct meta_fetch_item *fetch_meta_find(const struct meta_fetch_list *l, uint32_t uid)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->v[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < l->n && l->v[lo].uid == uid ? &l->v[lo] : NULL;
}

/* Flags of a message the store no longer lists as live: as the opened
 * message (read through the expunge log) has them. */
static int fetch_info_flags(struct fetch_cmd *f, uint32_t uid, const struct store_message_info *info)
{
	struct buf *b = &f->flagbuf;
	int r = buf_puts(b, "(");
	for (uint32_t bit = 1; r == 0 && bit <= META_FLAGS_ALL; bit <<= 1)
		if (info->flags & bit)
			r = buf_printf(b, "%s%s", b->len > 1 ? " " : "", meta_flag_name(bit));
	if (r == 0 && imap_view_is_recent(f->s, uid))
		r = buf_printf(b, "%s\\Recent", b->len > 1 ? " " : "");
	for (size_t i = 0; r == 0 && i < info->n_keywords; i++)
		r = buf_printf(b, "%s%s", b->len > 1 ? " " : "", info->keywords[i]);
	return r == 0 ? buf_puts(b, ")") : r;
}

static void fetch_note_failure(struct fetch_cmd *f, int r, const char *text)
{
	if (!f->failure) {
		f->failure = r;
		f->failure_text = text;
	}
}

/* Renders one message whose file is open (msg), or whose bytes are not
 * needed or come from the header cache (msg NULL, m->src and m->tree set),
 * and keeps an opened file's header for the cache. */
static int fetch_render(struct fetch_cmd *f, struct imap_fetch_msg *m, struct store_message *msg)
{
	struct mime_source src;
	struct meta_fetch_item synth;
	struct mime_message *tree = NULL;
	if (msg) {
		const struct store_message_info *info = store_message_info(msg);
		src = (struct mime_source){ message_read, msg, NULL, info->size };
		m->src = &src;
		/* Parsed here rather than by the renderer, to fill the cache
		 * from the same parse. */
		if (f->req.needs_tree && imap_fetch_cache_wants(&f->hc, info) &&
		    mime_parse(&src, NULL, &tree) == 0)
			m->tree = tree;
		if (!m->meta) {
			memset(&synth, 0, sizeof(synth));
			synth.uid = m->uid;
			synth.size = info->size;
			synth.internal_date = info->internal_date;
			synth.internal_tz = info->internal_tz;
			memcpy(synth.email_id, info->email_id, sizeof(synth.email_id));
			m->meta = &synth;
		}
		if (!m->flags) {
			f->flagbuf.len = 0;
			int r = fetch_info_flags(f, m->uid, info);
			if (r < 0) {
				mime_message_free(&tree);
				return r;
			}
			m->flags = f->flagbuf.data;
		}
	}
	int r = imap_fetch_render(&f->ctx, m);
	if (r == 0 && msg)
		imap_fetch_cache_note(&f->hc, store_message_info(msg), &src, tree);
	mime_message_free(&tree);
	if (r == 0 || r == -ENOTSUP || f->ctx.started)
		return r;
	fetch_note_failure(f, r, "cannot read the message");
	return 0;
}

/* hi: the UID of the last message of this run of the set. */
static int fetch_one(struct fetch_cmd *f, uint32_t seq, uint32_t hi)
{
	struct imap_session *s = f->s;
	uint32_t uid = s->view->uids[seq - 1];
	const struct meta_msgs *l = NULL;
	const struct meta_msg *fm = f->have_flags ? imap_flag_table_find(&f->flags, uid, &l) : NULL;
	if (f->req.has_changedsince && (!fm || fm->modseq <= f->req.changedsince))
		return 0;
	struct imap_fetch_msg m = { seq, uid, NULL, 0, 0, NULL, NULL, NULL };
	m.modseq = fm ? fm->modseq : s->view->highest_modseq;
	if (imap_msgs_find(&f->seen_set, uid))
		m.add_atts = IMAP_FETCH_FLAGS | (s->condstore ? IMAP_FETCH_MODSEQ : 0);
	unsigned flag_atts = f->req.atts | m.add_atts;
	if (fm && (flag_atts & IMAP_FETCH_FLAGS)) {
		f->flagbuf.len = 0;
		int r = imap_append_msg_flags(s, &f->flagbuf, l, fm);
		if (r < 0)
			return r;
		m.flags = f->flagbuf.data;
	}
	if (f->req.needs_meta)
		m.meta = fetch_meta_find(&f->meta, uid);
	bool need_open = f->req.needs_source || (f->req.needs_meta && !m.meta) ||
			 ((flag_atts & IMAP_FETCH_FLAGS) && !m.flags);
	struct mime_message *cached = NULL;
	struct mime_source hdr_src;
	if (need_open && (!f->req.needs_meta || m.meta) &&
	    (!(flag_atts & IMAP_FETCH_FLAGS) || m.flags) &&
	    imap_fetch_cache_get(&f->hc, uid, hi, &cached, &hdr_src)) {
		m.src = &hdr_src;
		m.tree = cached;
		need_open = false;
	}
	struct store_message *msg = NULL;
	if (need_open) {
		const char *err = NULL;
		int r = store_message_open(s->user, s->view->mailbox_id, uid, &msg, &err);
		if (r < 0) {
			fetch_note_failure(f, r, err);
			return 0;
		}
	}
	int r = fetch_render(f, &m, msg);
	store_message_close(&msg);
	mime_message_free(&cached);
	return r;
}

/* RFC 7162 3.2.6: UIDs of the requested set expunged since CHANGEDSINCE,
 * as "* VANISHED (EARLIER) ...", before the FETCH responses. */
static int fetch_vanished(struct fetch_cmd *f, const struct imap_arg *set_arg)
{
	struct imap_session *s = f->s;
	struct seqset want;
	uint32_t star = s->view->uidnext > 1 ? s->view->uidnext - 1 : 0;
	if (seqset_parse(set_arg->str, set_arg->len, star, 65536, &want) < 0)
		return 0;	/* "$": nothing expunged is in a saved result */
	struct meta_changes ch;
	const char *err;
	int r = store_changes(s->user, s->view->mailbox_id, f->req.changedsince, &ch, &err);
	if (r < 0) {
		seqset_free(&want);
		return 0;	/* the FETCH itself still answers */
	}
	size_t n = 0;
	for (size_t i = 0; i < ch.expunged.n; i++)
		if (seqset_contains(&want, ch.expunged.v[i]))
			ch.expunged.v[n++] = ch.expunged.v[i];
	struct buf b = BUF_INIT(0);
	if (n > 0) {
		r = buf_puts(&b, "* VANISHED (EARLIER) ");
		if (r == 0)
			r = imap_append_number_set(&b, ch.expunged.v, n);
		if (r == 0)
			r = buf_puts(&b, "\r\n");
		if (r == 0)
			r = stream_write(s->stream, b.data, b.len);
	}
	buf_free(&b);
	meta_changes_free(&ch);
	seqset_free(&want);
	return r;
}

/* The store's part: \Seen, flags, attributes. Returns a store error. */
static int fetch_load(struct fetch_cmd *f, const char **err)
{
	struct imap_session *s = f->s;
	int r = 0;
	if (f->req.sets_seen && !s->view->read_only) {
		r = fetch_set_seen(f, err);
	} else if ((f->req.atts & (IMAP_FETCH_FLAGS | IMAP_FETCH_MODSEQ)) ||
		   f->req.has_changedsince) {
		r = imap_flag_table_load(s, &f->flags, f->set.uids, f->set.n, err);
		f->have_flags = r == 0;
	}
	if (r == 0 && f->req.needs_meta)
		r = store_fetch(s->user, s->view->mailbox_id, f->set.uids, f->set.n, &f->meta, err);
	return r;
}

static int fetch_proceed(struct fetch_cmd *f, const struct imap_arg *set_arg)
{
	struct imap_session *s = f->s;
	const char *err = NULL;
	int r = 0;
	if (f->req.vanished)
		r = fetch_vanished(f, set_arg);
	if (r < 0 || f->set.count == 0)
		return r < 0 ? r : imap_reply(s, f->tag, "OK", "%s completed", s->cmd_name);
	r = fetch_load(f, &err);
	if (r < 0)
		return imap_reply_store_error(s, f->tag, r, err, false);
	/* RFC 9051 7.3.5: keywords new to the client come with FLAGS first. */
	r = imap_view_announce_keywords(s, &f->flags.extra);
	if (r == 0)
		r = imap_view_announce_keywords(s, &f->flags.live);
	if (r < 0)
		return r;
	imap_fetch_ctx_init(&f->ctx, &f->req, (struct imap_fetch_sink){ stream_sink, s->stream },
			    s->utf8);
	imap_fetch_cache_init(&f->hc, s->user, s->view->mailbox_id, &f->req);
	for (size_t i = 0; r == 0 && i < f->set.n; i++) {
		uint32_t hi = s->view->uids[f->set.seqs[i].hi - 1];
		for (uint32_t seq = f->set.seqs[i].lo; r == 0 && seq <= f->set.seqs[i].hi; seq++)
			r = fetch_one(f, seq, hi);
	}
	imap_fetch_ctx_free(&f->ctx);
	if (r == -ENOTSUP)
		return imap_reply(s, f->tag, "NO", "[UNKNOWN-CTE] Cannot decode a part's "
				  "Content-Transfer-Encoding");
	if (r < 0)
		return r;
	if (f->failure == -ENOENT)
		return imap_reply(s, f->tag, "NO", "[EXPUNGEISSUED] Some messages were expunged");
	if (f->failure)
		return imap_reply_store_error(s, f->tag, f->failure, f->failure_text, false);
	return imap_reply(s, f->tag, "OK", "%s completed", s->cmd_name);
}

int imap_cmd_fetch(struct imap_session *s, struct imap_command *cmd)
{
	struct fetch_cmd f = { .s = s, .tag = cmd->tag, .flagbuf = BUF_INIT(0) };
	struct imap_fetch_opts opts = {
		.uid = s->cmd_uid,
		.condstore = s->condstore || imap_has_capability(s, "CONDSTORE"),
		.qresync = s->qresync,
		.objectid = imap_has_capability(s, "OBJECTID"),
		.savedate = imap_has_capability(s, "SAVEDATE"),
	};
	const char *err = NULL;
	if (cmd->nargs < 2)
		return imap_reply(s, cmd->tag, "BAD", "Usage: FETCH sequence-set items");
	if (imap_fetch_parse(cmd->args + 1, cmd->nargs - 1, &opts, &f.req, &err) < 0)
		return imap_reply(s, cmd->tag, "BAD", "%s", err);
	/* RFC 7162 3.2.4: with QRESYNC every FETCH response has its UID. */
	if (s->qresync)
		f.req.atts |= IMAP_FETCH_UID;
	int r = imap_view_msgset(s, &cmd->args[0], s->cmd_uid, &f.set, &err);
	if (r < 0) {
		r = imap_reply(s, cmd->tag, "BAD", "%s", err);
	} else {
		/* RFC 7162 3.1: MODSEQ and CHANGEDSINCE enable CONDSTORE. */
		if (f.req.atts & IMAP_FETCH_MODSEQ)
			r = imap_enable_condstore(s);
		if (r == 0)
			r = fetch_proceed(&f, &cmd->args[0]);
	}
	imap_fetch_req_free(&f.req);
	imap_msgset_free(&f.set);
	imap_flag_table_free(&f.flags);
	/* The headers read from files go to the cache once the responses
	 * are on their way. */
	if (r >= 0 && f.hc.n_pending > 0 && stream_flush(s->stream) == 0)
		imap_fetch_cache_flush(&f.hc);
	imap_fetch_cache_free(&f.hc);
	meta_fetch_list_free(&f.meta);
	buf_free(&f.flagbuf);
	return r;
}
