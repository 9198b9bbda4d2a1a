/* SEARCH and UID SEARCH (RFC 9051 6.4.4 and 6.4.9; RFC 4731 ESEARCH;
 * RFC 5182 SEARCHRES; RFC 7162 3.1.5 MODSEQ).
 *
 * Every message of the view is matched on its metadata first (flags and
 * MODSEQ in one store scan, sizes and dates in another when the criteria
 * need them); only messages whose outcome depends on their content are
 * opened (search.h). IMAP4rev2 clients, and any client that gives RETURN,
 * get an ESEARCH response; others the IMAP4rev1 SEARCH response. A client
 * that does not say RETURN gets ALL (RFC 9051 6.4.4). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coro/stream.h"
#include "protocols/imap/cmd-message.h"
#include "protocols/imap/istring.h"
#include "protocols/imap/search.h"
#include "protocols/imap/view.h"
#include "src/util/xmalloc.h"
#include "storage/store.h"

struct search_cmd {
	struct imap_session *s;
	const char *tag;
	struct imap_search search;
	struct imap_flag_table flags;
	struct meta_fetch_list meta;
	uint32_t *hits;		/* UIDs of the matching messages, ascending */
	size_t n_hits;
	uint64_t max_modseq;	/* highest MODSEQ among the hits */
};

static const char *search_keyword(void *ctx, uint32_t id)
{
	return imap_view_keyword(ctx, id);
}

static ssize_t message_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
	return store_message_read(ctx, offset, buf, len);
}

static const struct meta_fetch_item *search_meta(const struct meta_fetch_list *l, uint32_t uid)
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

/* The content round for one message. A message that cannot be read
 * (purged, damaged) does not match: the search itself goes on. */
static int search_content(struct search_cmd *c, const struct imap_search_env *env,
			  const struct imap_search_msg *m)
{
	struct imap_session *s = c->s;
	struct store_message *msg;
	const char *err;
	if (store_message_open(s->user, s->view->mailbox_id, m->uid, &msg, &err) < 0)
		return IMAP_SEARCH_NO;
	struct mime_source src = { message_read, msg, NULL, store_message_info(msg)->size };
	struct imap_search_content content;
	imap_search_content_init(&content, &src);
	int r = imap_search_match(&c->search, env, m, &content);
	imap_search_content_free(&content);
	store_message_close(&msg);
	return r < 0 ? IMAP_SEARCH_NO : r;
}

static void search_run(struct search_cmd *c)
{
	struct imap_session *s = c->s;
	const struct imap_view *v = s->view;
	struct imap_search_env env = { &v->saved, search_keyword, s };
	c->hits = xmalloc((v->count ? v->count : 1) * sizeof(*c->hits));
	for (uint32_t seq = 1; seq <= v->count; seq++) {
		uint32_t uid = v->uids[seq - 1];
		const struct meta_msgs *l;
		const struct meta_msg *fm = imap_flag_table_find(&c->flags, uid, &l);
		struct imap_search_msg m = { seq, uid, 0, imap_view_is_recent(s, uid), 0, NULL, 0,
					     search_meta(&c->meta, uid) };
		if (fm) {
			m.flags = fm->flags;
			m.modseq = fm->modseq;
			m.kw = l->kw + fm->kw_off;
			m.n_kw = fm->kw_n;
		}
		int r = imap_search_match(&c->search, &env, &m, NULL);
		if (r == IMAP_SEARCH_MAYBE)
			r = search_content(c, &env, &m);
		if (r != IMAP_SEARCH_YES)
			continue;
		c->hits[c->n_hits++] = uid;
		if (m.modseq > c->max_modseq)
			c->max_modseq = m.modseq;
	}
}

/* RFC 5182 2.4: SAVE with only MIN and/or MAX saves those; otherwise
 * everything found. */
static void search_save(struct search_cmd *c)
{
	struct seqset *saved = &c->s->view->saved;
	unsigned ret = c->search.ret;
	seqset_free(saved);
	if (c->n_hits == 0)
		return;
	if (ret & (IMAP_SEARCH_RET_ALL | IMAP_SEARCH_RET_COUNT) ||
	    !(ret & (IMAP_SEARCH_RET_MIN | IMAP_SEARCH_RET_MAX))) {
		for (size_t i = 0; i < c->n_hits; i++)
			seqset_add(saved, c->hits[i], c->hits[i]);
		return;
	}
	if (ret & IMAP_SEARCH_RET_MIN)
		seqset_add(saved, c->hits[0], c->hits[0]);
	if (ret & IMAP_SEARCH_RET_MAX)
		seqset_add(saved, c->hits[c->n_hits - 1], c->hits[c->n_hits - 1]);
}

/* The numbers to answer with: UIDs, or sequence numbers (in place). */
static void search_numbers(struct search_cmd *c)
{
	if (c->s->cmd_uid)
		return;
	for (size_t i = 0; i < c->n_hits; i++)
		c->hits[i] = imap_view_seq(c->s->view, c->hits[i]);
}

/* RFC 4731 3.1: "* ESEARCH (TAG "t") [UID] MIN n MAX n COUNT n ALL set". */
static int search_esearch(struct search_cmd *c, struct buf *b)
{
	unsigned ret = c->search.ret;
	size_t n = c->n_hits;
	int r = buf_puts(b, "* ESEARCH (TAG ");
	if (r == 0)
		r = istring_append(b, c->tag, strlen(c->tag), 0);
	if (r == 0)
		r = buf_puts(b, c->s->cmd_uid ? ") UID" : ")");
	if (r == 0 && n && (ret & IMAP_SEARCH_RET_MIN))
		r = buf_printf(b, " MIN %u", c->hits[0]);
	if (r == 0 && n && (ret & IMAP_SEARCH_RET_MAX))
		r = buf_printf(b, " MAX %u", c->hits[n - 1]);
	if (r == 0 && (ret & IMAP_SEARCH_RET_COUNT))
		r = buf_printf(b, " COUNT %zu", n);
	if (r == 0 && n && (ret & IMAP_SEARCH_RET_ALL)) {
		r = buf_puts(b, " ALL ");
		if (r == 0)
			r = imap_append_number_set(b, c->hits, n);
	}
	if (r == 0 && n && (c->search.needs & IMAP_SEARCH_NEEDS_MODSEQ))
		r = buf_printf(b, " MODSEQ %" PRIu64, c->max_modseq);
	return r;
}

static int search_respond(struct search_cmd *c)
{
	struct imap_session *s = c->s;
	struct buf b = BUF_INIT(0);
	int r = 0;
	bool esearch = c->search.has_return || s->imap4rev2;
	if (!c->search.has_return)
		c->search.ret = IMAP_SEARCH_RET_ALL;
	if (c->search.ret & IMAP_SEARCH_RET_SAVE)
		search_save(c);
	search_numbers(c);
	if (esearch && c->search.ret == IMAP_SEARCH_RET_SAVE) {
		/* RFC 5182 2.1: SAVE alone produces no ESEARCH response. */
	} else if (esearch) {
		r = search_esearch(c, &b);
	} else {
		r = buf_puts(&b, "* SEARCH");
		for (size_t i = 0; r == 0 && i < c->n_hits; i++)
			r = buf_printf(&b, " %u", c->hits[i]);
		if (r == 0 && c->n_hits && (c->search.needs & IMAP_SEARCH_NEEDS_MODSEQ))
			r = buf_printf(&b, " (MODSEQ %" PRIu64 ")", c->max_modseq);
	}
	if (r == 0 && b.len)
		r = buf_puts(&b, "\r\n");
	if (r == 0 && b.len)
		r = stream_write(s->stream, b.data, b.len);
	buf_free(&b);
	return r < 0 ? r : imap_reply(s, c->tag, "OK", "%s completed", s->cmd_name);
}

static int search_proceed(struct search_cmd *c)
{
	struct imap_session *s = c->s;
	const struct imap_view *v = s->view;
	const char *err = NULL;
	int r = 0;
	if (c->search.needs & IMAP_SEARCH_NEEDS_MODSEQ)
		r = imap_enable_condstore(s);
	if (r < 0)
		return r;
	struct meta_uid_range all = { v->count ? v->uids[0] : 0,
				      v->count ? v->uids[v->count - 1] : 0 };
	if (v->count > 0)
		r = imap_flag_table_load(s, &c->flags, &all, 1, &err);
	if (r == 0 && v->count > 0 && (c->search.needs & IMAP_SEARCH_NEEDS_META))
		r = store_fetch(s->user, v->mailbox_id, &all, 1, &c->meta, &err);
	if (r < 0) {
		/* RFC 5182 2.1: a failed SAVE leaves "$" empty. */
		if (c->search.ret & IMAP_SEARCH_RET_SAVE)
			seqset_free(&s->view->saved);
		return imap_reply_store_error(s, c->tag, r, err, false);
	}
	search_run(c);
	return search_respond(c);
}

/* Whether a SEARCH that failed to parse asked for SAVE: RFC 5182 2.1
 * empties "$" when a SEARCH with SAVE fails, so a pipelined "FETCH $"
 * cannot act on an older result. */
static bool search_asked_save(const struct imap_command *cmd)
{
	if (cmd->nargs < 2 || cmd->args[0].type != IMAP_ARG_ATOM ||
	    strcasecmp(cmd->args[0].str, "RETURN") != 0 || cmd->args[1].type != IMAP_ARG_LIST)
		return false;
	for (size_t i = 0; i < cmd->args[1].len; i++) {
		const struct imap_arg *a = &cmd->args[1].list[i];
		if (a->type == IMAP_ARG_ATOM && strcasecmp(a->str, "SAVE") == 0)
			return true;
	}
	return false;
}

int imap_cmd_search(struct imap_session *s, struct imap_command *cmd)
{
	const struct imap_view *v = s->view;
	struct search_cmd c = { .s = s, .tag = cmd->tag };
	struct imap_search_opts o = {
		.msg_count = v->count,
		.max_uid = v->count ? v->uids[v->count - 1] : 0,
		.condstore = s->condstore || imap_has_capability(s, "CONDSTORE"),
		.objectid = imap_has_capability(s, "OBJECTID"),
		.savedate = imap_has_capability(s, "SAVEDATE"),
		.esearch = true,	/* part of IMAP4rev2 */
	};
	const char *err = NULL;
	int r = imap_search_parse(cmd->args, cmd->nargs, &o, &c.search, &err);
	if (r < 0 && search_asked_save(cmd))
		seqset_free(&s->view->saved);
	if (r == -ENOTSUP)
		return imap_reply(s, cmd->tag, "NO", "%s", err);
	if (r < 0)
		return imap_reply(s, cmd->tag, "BAD", "%s", err);
	r = search_proceed(&c);
	imap_search_free(&c.search);
	imap_flag_table_free(&c.flags);
	meta_fetch_list_free(&c.meta);
	free(c.hits);
	return r;
}
