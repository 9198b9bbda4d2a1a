/* SELECT and EXAMINE (RFC 9051 6.3.2, 6.3.3; RFC 3501 6.3.1, 6.3.2 for
 * IMAP4rev1 clients; RFC 7162 3.1.8 and 3.2.5 for the CONDSTORE and
 * QRESYNC parameters; RFC 8474 4.2 MAILBOXID). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "protocols/imap/mailbox-name.h"
#include "protocols/imap/session.h"
#include "protocols/imap/view.h"
#include "storage/store.h"

struct select_params {
	bool condstore;
	bool qresync;			/* (QRESYNC (...)) was given */
	uint32_t uidvalidity;
	uint64_t modseq;
	const struct imap_arg *known;	/* known-uids, or NULL */
};

static bool parse_u64(const struct imap_arg *a, uint64_t max, uint64_t *v)
{
	if (a->type != IMAP_ARG_ATOM || a->len == 0 || a->len > 20)
		return false;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(a->str, &end, 10);
	if (*end || errno || a->str[0] == '-' || n == 0 || n > max)
		return false;
	*v = n;
	return true;
}

static bool is_sequence_set(const struct imap_arg *a)
{
	struct seqset set;
	if (a->type != IMAP_ARG_ATOM || seqset_parse(a->str, a->len, UINT32_MAX, 65536, &set) < 0)
		return false;
	seqset_free(&set);
	return true;
}

/* "(QRESYNC (uidvalidity modseq [known-uids [(seqs uids)]]))" (RFC 7162
 * 3.2.5). The sequence match data only helps servers that forget
 * expunges; this one remembers them all (manual, QRESYNC), so it is
 * checked and then not needed. */
static bool parse_qresync(const struct imap_arg *l, struct select_params *p)
{
	uint64_t uv;
	if (l->type != IMAP_ARG_LIST || l->len < 2 || l->len > 4 ||
	    !parse_u64(&l->list[0], UINT32_MAX, &uv) ||
	    !parse_u64(&l->list[1], INT64_MAX, &p->modseq))
		return false;
	p->uidvalidity = (uint32_t)uv;
	if (l->len >= 3) {
		if (!is_sequence_set(&l->list[2]))
			return false;
		p->known = &l->list[2];
	}
	if (l->len == 4) {
		const struct imap_arg *m = &l->list[3];
		if (m->type != IMAP_ARG_LIST || m->len != 2 || !is_sequence_set(&m->list[0]) ||
		    !is_sequence_set(&m->list[1]))
			return false;
	}
	p->qresync = true;
	return true;
}

/* The optional parameter list: CONDSTORE (RFC 7162 3.1.8) and QRESYNC. */
static bool select_params_parse(const struct imap_command *cmd, struct select_params *p)
{
	memset(p, 0, sizeof(*p));
	if (cmd->nargs == 1)
		return true;
	if (cmd->nargs != 2 || cmd->args[1].type != IMAP_ARG_LIST)
		return false;
	const struct imap_arg *l = &cmd->args[1];
	for (size_t i = 0; i < l->len; i++) {
		const struct imap_arg *a = &l->list[i];
		if (a->type == IMAP_ARG_ATOM && strcasecmp(a->str, "CONDSTORE") == 0)
			p->condstore = true;
		else if (a->type == IMAP_ARG_ATOM && strcasecmp(a->str, "QRESYNC") == 0 &&
			 !p->qresync && i + 1 < l->len && parse_qresync(&l->list[i + 1], p))
			i++;
		else
			return false;
	}
	return true;
}

/* The LIST response IMAP4rev2 adds to SELECT (RFC 9051 6.3.2). */
static int select_send_list(struct imap_session *s)
{
	struct buf b = BUF_INIT(0);
	int r = imap_mailbox_append(&b, s->view->name, s->utf8);
	if (r == 0)
		r = imap_untagged(s, "LIST () \"/\" %s", b.data);
	buf_free(&b);
	return r;
}

static int select_send(struct imap_session *s)
{
	const struct imap_view *v = s->view;
	int r = imap_view_send_flags(s);
	if (r == 0)
		r = imap_untagged(s, "%" PRIu32 " EXISTS", v->count);
	if (r == 0 && !s->imap4rev2)
		r = imap_untagged(s, "%" PRIu32 " RECENT", imap_view_recent_count(s));
	if (r == 0 && !s->imap4rev2 && v->first_unseen)
		r = imap_untagged(s, "OK [UNSEEN %" PRIu32 "] First unseen", v->first_unseen);
	if (r == 0)
		r = imap_untagged(s, "OK [UIDVALIDITY %" PRIu32 "] UIDs valid", v->uidvalidity);
	if (r == 0)
		r = imap_untagged(s, "OK [UIDNEXT %" PRIu32 "] Predicted next UID", v->uidnext);
	if (r == 0 && s->condstore)
		r = imap_untagged(s, "OK [HIGHESTMODSEQ %" PRIu64 "] Highest", v->highest_modseq);
	if (r == 0 && v->object_id[0])
		r = imap_untagged(s, "OK [MAILBOXID (%s)] Mailbox id", v->object_id);
	if (r == 0 && s->imap4rev2)
		r = select_send_list(s);
	return r;
}

static int select_reply(struct imap_session *s, const char *tag)
{
	return imap_reply(s, tag, "OK", "[%s] %s completed",
			  s->view->read_only ? "READ-ONLY" : "READ-WRITE", s->cmd_name);
}

static int imap_select(struct imap_session *s, struct imap_command *cmd, bool read_only)
{
	struct select_params p;
	if (cmd->nargs < 1 || !select_params_parse(cmd, &p))
		return imap_reply(s, cmd->tag, "BAD", "Usage: %s mailbox [(CONDSTORE)] "
				  "[(QRESYNC (uidvalidity modseq [known-uids]))]", s->cmd_name);
	if (p.qresync && !s->qresync)
		return imap_reply(s, cmd->tag, "BAD", "QRESYNC must be enabled first");
	char *name;
	int r = imap_arg_mailbox(s, cmd->tag, &cmd->args[0], "NONEXISTENT", &name);
	if (!name)
		return r;
	/* Whatever happens next, the old mailbox is closed (RFC 9051 6.3.2). */
	if (s->view) {
		imap_view_free(&s->view);
		s->state = IMAP_STATE_AUTHENTICATED;
		r = imap_untagged(s, "OK [CLOSED] Previous mailbox closed");
		if (r < 0) {
			free(name);
			return r;
		}
	}
	if (p.condstore)
		s->condstore = true;	/* no mailbox selected: nothing to say yet */
	const char *err = NULL;
	struct imap_view *v = NULL;
	r = imap_view_open(s, name, read_only, &v, &err);
	free(name);
	/* A name the store would refuse names no mailbox. */
	if (r < 0)
		return imap_reply_store_error(s, cmd->tag, r == -EINVAL ? -ENOENT : r, err, false);
	s->view = v;
	s->state = IMAP_STATE_SELECTED;
	r = select_send(s);
	/* RFC 7162 3.2.5.2: a UIDVALIDITY that changed means a full resync. */
	int store_err = 0;
	if (r == 0 && p.qresync && p.uidvalidity == v->uidvalidity)
		r = imap_qresync_report(s, p.modseq, p.known, &store_err, &err);
	if (r == 0 && store_err < 0) {
		imap_view_free(&s->view);
		s->state = IMAP_STATE_AUTHENTICATED;
		return imap_reply_store_error(s, cmd->tag, store_err, err, false);
	}
	return r < 0 ? r : select_reply(s, cmd->tag);
}

int imap_cmd_select(struct imap_session *s, struct imap_command *cmd)
{
	return imap_select(s, cmd, false);
}

int imap_cmd_examine(struct imap_session *s, struct imap_command *cmd)
{
	return imap_select(s, cmd, true);
}
