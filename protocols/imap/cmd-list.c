/* LIST (RFC 9051 6.3.9 with LIST-EXTENDED RFC 5258, LIST-STATUS RFC 5819,
 * SPECIAL-USE RFC 6154, CHILDREN RFC 3348), LSUB (RFC 3501 6.3.9) and
 * XLIST (Gmail's older LIST). Parsing and answering; list-select.c
 * decides which names are answered. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "protocols/imap/list.h"
#include "protocols/imap/mailbox-name.h"
#include "protocols/imap/session.h"
#include "protocols/imap/view.h"
#include "src/util/xmalloc.h"
#include "storage/store.h"

#define LIST_MAX_PATTERNS 64

static const struct {
	const char *name;
	unsigned bit;
} list_sel_opts[] = {
	{ "SUBSCRIBED", LIST_SEL_SUBSCRIBED },
	{ "REMOTE", LIST_SEL_REMOTE },
	{ "RECURSIVEMATCH", LIST_SEL_RECURSIVEMATCH },
	{ "SPECIAL-USE", LIST_SEL_SPECIAL_USE },
}, list_ret_opts[] = {
	{ "SUBSCRIBED", LIST_RET_SUBSCRIBED },
	{ "CHILDREN", LIST_RET_CHILDREN },
	{ "SPECIAL-USE", LIST_RET_SPECIAL_USE },
	{ "STATUS", LIST_RET_STATUS },
};

static int list_option(const struct imap_arg *a, bool ret, unsigned *bits)
{
	size_t n = ret ? sizeof(list_ret_opts) / sizeof(list_ret_opts[0])
		       : sizeof(list_sel_opts) / sizeof(list_sel_opts[0]);
	for (size_t k = 0; a->type == IMAP_ARG_ATOM && k < n; k++) {
		const char *name = ret ? list_ret_opts[k].name : list_sel_opts[k].name;
		if (strcasecmp(a->str, name) == 0) {
			*bits |= ret ? list_ret_opts[k].bit : list_sel_opts[k].bit;
			return 0;
		}
	}
	return -EINVAL;
}

/* "RETURN (SUBSCRIBED STATUS (MESSAGES))". */
static int list_parse_return(struct imap_session *s, const struct imap_arg *l,
			     struct list_request *req)
{
	for (size_t i = 0; i < l->len; i++) {
		if (list_option(&l->list[i], true, &req->ret) < 0)
			return -EINVAL;
		if (strcasecmp(l->list[i].str, "STATUS") == 0 &&
		    (++i == l->len || imap_status_parse(s, &l->list[i], &req->status_items) < 0))
			return -EINVAL;
	}
	return 0;
}

/* Reference + pattern, decoded and normalised like a mailbox name. A
 * pattern starting with '/' ignores the reference. */
static int list_add_pattern(struct imap_session *s, struct list_request *req,
			    const struct imap_arg *ref, const struct imap_arg *pat)
{
	if (!imap_arg_is_astring(pat) || req->n_patterns == LIST_MAX_PATTERNS)
		return -EINVAL;
	struct buf wire = BUF_INIT(2 * IMAP_MAX_COMMAND), name = BUF_INIT(8 * META_NAME_MAX);
	int r = 0;
	if (pat->len == 0 || pat->str[0] != IMAP_DELIMITER)
		r = buf_append(&wire, ref->str, ref->len);
	if (r == 0)
		r = buf_append(&wire, pat->str, pat->len);
	const char *err;
	if (r == 0)
		r = imap_mailbox_decode(wire.data ? wire.data : "", wire.len, s->utf8, &name, &err);
	buf_free(&wire);
	if (r < 0) {
		buf_free(&name);
		return r;
	}
	req->patterns = xrealloc(req->patterns, (req->n_patterns + 1) * sizeof(char *));
	req->patterns[req->n_patterns++] = name.data ? buf_steal(&name) : xstrdup("");
	return 0;
}

/* [(selection)] reference pattern-or-(patterns) [RETURN (options)].
 * Returns 0, -EINVAL (BAD), or 1 for the "" pattern (the delimiter). */
static int list_parse(struct imap_session *s, const struct imap_command *cmd,
		      struct list_request *req)
{
	size_t i = 0;
	const struct imap_arg *a = cmd->args;
	if (req->kind == LIST_PLAIN && cmd->nargs > 0 && a[0].type == IMAP_ARG_LIST) {
		for (size_t k = 0; k < a[0].len; k++)
			if (list_option(&a[0].list[k], false, &req->sel) < 0)
				return -EINVAL;
		i++;
	}
	if (cmd->nargs < i + 2 || !imap_arg_is_astring(&a[i]))
		return -EINVAL;
	const struct imap_arg *ref = &a[i], *pats = &a[i + 1];
	size_t rest = i + 2;
	if (req->kind == LIST_PLAIN && cmd->nargs == rest + 2 && a[rest].type == IMAP_ARG_ATOM &&
	    strcasecmp(a[rest].str, "RETURN") == 0 && a[rest + 1].type == IMAP_ARG_LIST) {
		if (list_parse_return(s, &a[rest + 1], req) < 0)
			return -EINVAL;
		rest += 2;
	}
	if (cmd->nargs != rest)
		return -EINVAL;
	/* RFC 5258 3: RECURSIVEMATCH needs another selection option. */
	if ((req->sel & LIST_SEL_RECURSIVEMATCH) &&
	    !(req->sel & (LIST_SEL_SUBSCRIBED | LIST_SEL_SPECIAL_USE)))
		return -EINVAL;
	if (req->sel & LIST_SEL_SUBSCRIBED)
		req->ret |= LIST_RET_SUBSCRIBED;
	if (pats->type == IMAP_ARG_LIST && req->kind == LIST_PLAIN && pats->len > 0) {
		for (size_t k = 0; k < pats->len; k++)
			if (list_add_pattern(s, req, ref, &pats->list[k]) < 0)
				return -EINVAL;
		return 0;
	}
	if (!imap_arg_is_astring(pats))
		return -EINVAL;
	if (pats->len == 0)
		return 1;
	return list_add_pattern(s, req, ref, pats);
}

static const char *xlist_attr(const char *special_use)
{
	static const char *const map[][2] = {
		{ "\\Junk", "\\Spam" }, { "\\Flagged", "\\Starred" }, { "\\All", "\\AllMail" },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(special_use, map[i][0]) == 0)
			return map[i][1];
	return special_use;
}

static int list_attr(struct buf *b, const char *attr)
{
	return buf_printf(b, "%s%s", b->data[b->len - 1] == '(' ? "" : " ", attr);
}

static int list_append_attrs(struct buf *b, const struct list_request *req,
			     const struct list_item *it)
{
	bool inbox = strcmp(it->name, "INBOX") == 0, exists = !(it->attrs & META_MBOX_NONEXISTENT);
	bool lsub = req->kind == LIST_LSUB;
	int r = buf_puts(b, "(");
	if (r == 0 && !exists)
		r = list_attr(b, lsub ? "\\Noselect" : "\\NonExistent");
	else if (r == 0 && ((it->attrs & META_MBOX_NOSELECT) || (lsub && !it->selected)))
		r = list_attr(b, "\\Noselect");
	/* INBOX can have no children (manual, "Mailboxes"). */
	if (r == 0 && exists && inbox && !lsub)
		r = list_attr(b, "\\Noinferiors");
	else if (r == 0 && exists && !lsub)
		r = list_attr(b, it->attrs & META_MBOX_HAS_CHILDREN ? "\\HasChildren"
								    : "\\HasNoChildren");
	if (r == 0 && !lsub && (req->ret & LIST_RET_SUBSCRIBED) && (it->attrs & META_MBOX_SUBSCRIBED))
		r = list_attr(b, "\\Subscribed");
	if (r == 0 && it->special_use && !lsub)
		r = list_attr(b, req->kind == LIST_XLIST ? xlist_attr(it->special_use)
							 : it->special_use);
	if (r == 0 && inbox && req->kind == LIST_XLIST)
		r = list_attr(b, "\\Inbox");
	return r == 0 ? buf_puts(b, ")") : r;
}

static int list_send_item(struct imap_session *s, const struct list_request *req,
			  const struct list_item *it)
{
	static const char *const verb[] = { "LIST", "LSUB", "XLIST" };
	struct buf b = BUF_INIT(0);
	int r = buf_printf(&b, "%s ", verb[req->kind]);
	if (r == 0)
		r = list_append_attrs(&b, req, it);
	if (r == 0)
		r = buf_puts(&b, " \"/\" ");
	if (r == 0)
		r = imap_mailbox_append(&b, it->name, s->utf8);
	if (r == 0 && it->childinfo && req->kind == LIST_PLAIN)
		r = buf_printf(&b, " (\"CHILDINFO\" (%s%s%s))",
			       req->sel & LIST_SEL_SUBSCRIBED ? "\"SUBSCRIBED\"" : "",
			       (req->sel & LIST_SEL_SUBSCRIBED) && (req->sel & LIST_SEL_SPECIAL_USE) ? " " : "",
			       req->sel & LIST_SEL_SPECIAL_USE ? "\"SPECIAL-USE\"" : "");
	if (r == 0)
		r = imap_untagged(s, "%s", b.data);
	buf_free(&b);
	return r;
}

/* LIST-STATUS: a STATUS after each selectable mailbox (RFC 5819 2); a
 * mailbox that vanished in between is simply left out. */
static int list_send_status(struct imap_session *s, const struct list_request *req,
			    const struct list_item *it)
{
	if (!(req->ret & LIST_RET_STATUS) || (it->attrs & (META_MBOX_NONEXISTENT | META_MBOX_NOSELECT)))
		return 0;
	struct meta_status st;
	const char *err = NULL;
	if (store_status(s->user, it->name, 0, &st, &err) < 0 || st.noselect)
		return 0;
	return imap_status_send(s, it->name, req->status_items, &st);
}

static int list_proceed(struct imap_session *s, const char *tag, struct list_request *req)
{
	struct meta_mailbox_list list;
	const char *err = NULL;
	bool subscriptions = (req->sel & LIST_SEL_SUBSCRIBED) || (req->ret & LIST_RET_SUBSCRIBED) ||
			     req->kind == LIST_LSUB;
	int r = (req->ret & LIST_RET_STATUS) ? imap_view_sync(s, true) : 0;
	if (r < 0)
		return r;
	r = store_list(s->user, subscriptions, &list, &err);
	if (r < 0)
		return imap_reply_store_error(s, tag, r, err, false);
	struct list_result res;
	list_select(req, &list, &res);
	for (size_t i = 0; r == 0 && i < res.n; i++) {
		r = list_send_item(s, req, &res.v[i]);
		if (r == 0)
			r = list_send_status(s, req, &res.v[i]);
	}
	list_result_free(&res);
	meta_mailbox_list_free(&list);
	return r < 0 ? r : imap_reply(s, tag, "OK", "%s completed", s->cmd_name);
}

static int imap_list_common(struct imap_session *s, struct imap_command *cmd, enum list_kind kind)
{
	/* LSUB is LIST of the subscriptions with RFC 3501's '%' rule. */
	struct list_request req = { .kind = kind, .sel = kind == LIST_LSUB ? LIST_SEL_SUBSCRIBED : 0 };
	if (kind == LIST_LSUB && s->imap4rev2)
		return imap_reply(s, cmd->tag, "BAD", "LSUB is not part of IMAP4rev2; use LIST");
	int r = list_parse(s, cmd, &req);
	if (r < 0)
		r = imap_reply(s, cmd->tag, "BAD", "Usage: %s [(options)] reference pattern%s",
			       s->cmd_name, kind == LIST_PLAIN ? " [RETURN (options)]" : "");
	else if (r == 1 && (r = imap_untagged(s, "%s (\\Noselect) \"/\" \"\"", s->cmd_name)) == 0)
		r = imap_reply(s, cmd->tag, "OK", "%s completed", s->cmd_name);
	else if (r == 0)
		r = list_proceed(s, cmd->tag, &req);
	for (size_t i = 0; i < req.n_patterns; i++)
		free(req.patterns[i]);
	free(req.patterns);
	return r;
}

int imap_cmd_list(struct imap_session *s, struct imap_command *cmd)
{
	return imap_list_common(s, cmd, LIST_PLAIN);
}

int imap_cmd_lsub(struct imap_session *s, struct imap_command *cmd)
{
	return imap_list_common(s, cmd, LIST_LSUB);
}

int imap_cmd_xlist(struct imap_session *s, struct imap_command *cmd)
{
	return imap_list_common(s, cmd, LIST_XLIST);
}
