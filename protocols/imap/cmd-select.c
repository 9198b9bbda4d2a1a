/* SELECT and EXAMINE (RFC 9051 6.3.2, 6.3.3; RFC 3501 6.3.1, 6.3.2 for
 * IMAP4rev1 clients; RFC 7162 3.1.8 for the CONDSTORE parameter). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <strings.h>

#include "protocols/imap/mailbox-name.h"
#include "protocols/imap/session.h"
#include "protocols/imap/view.h"
#include "storage/store.h"

/* The optional parameter list: only (CONDSTORE) is known. QRESYNC is not
 * offered yet, so a client may not use it. */
static bool select_params_ok(const struct imap_command *cmd, bool *condstore)
{
	*condstore = false;
	if (cmd->nargs == 1)
		return true;
	if (cmd->nargs != 2 || cmd->args[1].type != IMAP_ARG_LIST)
		return false;
	const struct imap_arg *l = &cmd->args[1];
	for (size_t i = 0; i < l->len; i++) {
		if (l->list[i].type != IMAP_ARG_ATOM || strcasecmp(l->list[i].str, "CONDSTORE"))
			return false;
		*condstore = true;
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

static int select_send(struct imap_session *s, const char *tag)
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
	if (r == 0 && s->imap4rev2)
		r = select_send_list(s);
	if (r < 0)
		return r;
	return imap_reply(s, tag, "OK", "[%s] %s completed", v->read_only ? "READ-ONLY" : "READ-WRITE",
			  s->cmd_name);
}

static int imap_select(struct imap_session *s, struct imap_command *cmd, bool read_only)
{
	bool condstore;
	if (cmd->nargs < 1 || !select_params_ok(cmd, &condstore))
		return imap_reply(s, cmd->tag, "BAD", "Usage: %s mailbox [(CONDSTORE)]", s->cmd_name);
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
	if (condstore)
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
	return select_send(s, cmd->tag);
}

int imap_cmd_select(struct imap_session *s, struct imap_command *cmd)
{
	return imap_select(s, cmd, false);
}

int imap_cmd_examine(struct imap_session *s, struct imap_command *cmd)
{
	return imap_select(s, cmd, true);
}
