/* STORE and UID STORE (RFC 9051 6.4.6 and 6.4.9; RFC 7162 3.1.3
 * UNCHANGEDSINCE with the MODIFIED response code).
 *
 * The store changes the whole flag set of each message atomically, with
 * one MODSEQ for the command (manual, CONDSTORE). Each message's new flags
 * are then reported with FETCH, unless .SILENT; either way the view is
 * told, so the next sync does not report them again. \Recent cannot be
 * stored (RFC 3501 2.3.2): a client that tries gets BAD, as for any other
 * unknown system flag. Keywords have no limit (manual, "Flags"). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coro/stream.h"
#include "protocols/imap/cmd-message.h"
#include "protocols/imap/view.h"
#include "src/util/xmalloc.h"
#include "storage/store.h"

struct store_cmd {
	struct imap_session *s;
	const char *tag;
	struct meta_store_req req;
	const char **keywords;
	bool silent;
	bool has_unchangedsince;
	struct imap_msgset set;
	struct meta_store_result res;
	struct buf line;
};

static const char *store_flag(struct store_cmd *c, const struct imap_arg *a)
{
	static const char *const system[] = { "\\Answered", "\\Flagged", "\\Deleted", "\\Seen",
					      "\\Draft" };
	if (a->type != IMAP_ARG_ATOM)
		return "Flags are atoms";
	if (a->str[0] == '\\') {
		for (size_t i = 0; i < sizeof(system) / sizeof(system[0]); i++) {
			if (strcasecmp(a->str, system[i]) == 0) {
				c->req.flags |= 1u << i;
				return NULL;
			}
		}
		return strcasecmp(a->str, "\\Recent") == 0 ? "\\Recent cannot be stored"
							   : "Unknown system flag";
	}
	if (meta_keyword_check(a->str) < 0)
		return "Invalid keyword";
	c->keywords[c->req.n_keywords++] = a->str;
	return NULL;
}

/* "+FLAGS.SILENT" and friends. */
static bool store_item(struct store_cmd *c, const struct imap_arg *a)
{
	if (a->type != IMAP_ARG_ATOM)
		return false;
	const char *p = a->str;
	c->req.op = *p == '+' ? META_STORE_ADD : *p == '-' ? META_STORE_REMOVE : META_STORE_REPLACE;
	p += *p == '+' || *p == '-';
	if (strncasecmp(p, "FLAGS", 5) != 0)
		return false;
	p += 5;
	c->silent = strcasecmp(p, ".SILENT") == 0;
	return *p == '\0' || c->silent;
}

/* store-modifier list (RFC 7162 3.1.3): (UNCHANGEDSINCE n). */
static const char *store_modifiers(struct store_cmd *c, const struct imap_arg *a)
{
	if (a->len != 2 || a->list[0].type != IMAP_ARG_ATOM ||
	    strcasecmp(a->list[0].str, "UNCHANGEDSINCE") != 0 ||
	    a->list[1].type != IMAP_ARG_ATOM)
		return "Unknown STORE modifier";
	if (!c->s->condstore && !imap_has_capability(c->s, "CONDSTORE"))
		return "UNCHANGEDSINCE needs CONDSTORE";
	const char *v = a->list[1].str;
	char *end;
	if (!*v || *v < '0' || *v > '9' || strlen(v) > 19)
		return "Invalid UNCHANGEDSINCE value";
	unsigned long long n = strtoull(v, &end, 10);
	if (*end || n > INT64_MAX)
		return "Invalid UNCHANGEDSINCE value";
	c->req.unchanged_since = n;
	c->has_unchangedsince = true;
	return NULL;
}

static const char *store_parse(struct store_cmd *c, const struct imap_command *cmd)
{
	size_t i = 1;
	if (cmd->nargs < 3)
		return "Usage: STORE sequence-set [(UNCHANGEDSINCE n)] [+|-]FLAGS[.SILENT] flags";
	if (cmd->args[i].type == IMAP_ARG_LIST) {
		const char *err = store_modifiers(c, &cmd->args[i++]);
		if (err)
			return err;
	}
	if (i + 2 > cmd->nargs || !store_item(c, &cmd->args[i++]))
		return "Expected FLAGS, +FLAGS or -FLAGS, optionally .SILENT";
	const struct imap_arg *flags = &cmd->args[i];
	size_t n = cmd->nargs - i;
	if (flags->type == IMAP_ARG_LIST) {
		if (n != 1)
			return "Unexpected arguments after the flag list";
		n = flags->len;
		flags = flags->list;
	}
	c->keywords = xcalloc(n ? n : 1, sizeof(*c->keywords));
	c->req.keywords = c->keywords;
	for (size_t k = 0; k < n; k++) {
		const char *err = store_flag(c, &flags[k]);
		if (err)
			return err;
	}
	return NULL;
}

/* "* n FETCH (...)" for one message the store reported on. */
static int store_report(struct store_cmd *c, uint32_t seq, const struct meta_msgs *l,
			const struct meta_msg *m)
{
	struct imap_session *s = c->s;
	struct buf *b = &c->line;
	b->len = 0;
	int r = buf_printf(b, "* %u FETCH (", seq);
	if (r == 0 && (s->cmd_uid || s->qresync))
		r = buf_printf(b, "UID %u ", m->uid);
	if (r == 0 && !c->silent) {
		r = buf_puts(b, "FLAGS ");
		if (r == 0)
			r = imap_append_msg_flags(s, b, l, m);
	}
	if (r == 0 && s->condstore)
		r = buf_printf(b, "%sMODSEQ (%" PRIu64 ")", c->silent ? "" : " ", m->modseq);
	if (r == 0)
		r = buf_puts(b, ")\r\n");
	return r == 0 ? stream_write(s->stream, b->data, b->len) : r;
}

/* RFC 9051 6.4.6: the new flags of each message, in sequence order;
 * with .SILENT only CONDSTORE's MODSEQ of those that changed (RFC 7162
 * 3.1.3). */
static int store_responses(struct store_cmd *c)
{
	struct imap_session *s = c->s;
	int r = imap_view_announce_keywords(s, &c->res.changed);
	if (r == 0 && !c->silent)
		r = imap_view_announce_keywords(s, &c->res.unchanged);
	for (size_t i = 0; r == 0 && i < c->set.n; i++) {
		for (uint32_t seq = c->set.seqs[i].lo; r == 0 && seq <= c->set.seqs[i].hi; seq++) {
			uint32_t uid = s->view->uids[seq - 1];
			const struct meta_msgs *l = &c->res.changed;
			const struct meta_msg *m = imap_msgs_find(l, uid);
			if (m)
				imap_view_note_reported(s, uid, m->modseq);
			if (!m && !c->silent) {
				l = &c->res.unchanged;
				m = imap_msgs_find(l, uid);
			}
			if (m && (!c->silent || s->condstore))
				r = store_report(c, seq, l, m);
		}
	}
	return r;
}

static int store_reply(struct store_cmd *c)
{
	struct imap_session *s = c->s;
	const struct meta_uids *mod = &c->res.modified;
	if (mod->n == 0)
		return imap_reply(s, c->tag, "OK", "%s completed", s->cmd_name);
	/* RFC 7162 3.1.3: MODIFIED names sequence numbers for STORE, UIDs
	 * for UID STORE. UIDs are ascending, and so are their numbers. */
	uint32_t *v = xmalloc(mod->n * sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < mod->n; i++) {
		uint32_t x = s->cmd_uid ? mod->v[i] : imap_view_seq(s->view, mod->v[i]);
		if (x)
			v[n++] = x;
	}
	struct buf b = BUF_INIT(0);
	int r = imap_append_number_set(&b, v, n);
	if (r == 0)
		r = imap_reply(s, c->tag, "OK", "[MODIFIED %s] Conditional STORE failed",
			       b.data ? b.data : "");
	buf_free(&b);
	free(v);
	return r;
}

static int store_proceed(struct store_cmd *c)
{
	struct imap_session *s = c->s;
	if (s->view->read_only)
		return imap_reply(s, c->tag, "NO", "[CANNOT] Mailbox is read-only");
	int r = c->has_unchangedsince ? imap_enable_condstore(s) : 0;
	if (r < 0 || c->set.count == 0)
		return r < 0 ? r : imap_reply(s, c->tag, "OK", "%s completed", s->cmd_name);
	const char *err = NULL;
	r = store_store(s->user, s->view->mailbox_id, c->set.uids, c->set.n, &c->req, &c->res, &err);
	if (r < 0)
		return imap_reply_store_error(s, c->tag, r, err, false);
	r = store_responses(c);
	if (r == 0)
		r = store_reply(c);
	meta_store_result_free(&c->res);
	return r;
}

int imap_cmd_store(struct imap_session *s, struct imap_command *cmd)
{
	struct store_cmd c = { .s = s, .tag = cmd->tag, .line = BUF_INIT(0) };
	c.req.unchanged_since = META_UNCHANGED_ANY;
	const char *err = store_parse(&c, cmd);
	int r;
	if (err)
		r = imap_reply(s, cmd->tag, "BAD", "%s", err);
	else if ((r = imap_view_msgset(s, &cmd->args[0], s->cmd_uid, &c.set, &err)) < 0)
		r = imap_reply(s, cmd->tag, "BAD", "%s", err);
	else
		r = store_proceed(&c);
	free(c.keywords);
	imap_msgset_free(&c.set);
	buf_free(&c.line);
	return r;
}
