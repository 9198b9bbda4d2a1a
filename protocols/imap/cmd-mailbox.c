/* CREATE (RFC 9051 6.3.4, with USE of RFC 6154 CREATE-SPECIAL-USE),
 * DELETE (6.3.5), RENAME (6.3.6), SUBSCRIBE (6.3.7), UNSUBSCRIBE (6.3.8).
 * Names and their rules are the store's (meta.h); what is refused comes
 * back with an RFC 5530 code. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "protocols/imap/mailbox-name.h"
#include "protocols/imap/session.h"
#include "protocols/imap/view.h"
#include "storage/store.h"

/* "(USE (\Sent))": at most one special use (manual, CREATE-SPECIAL-USE).
 * Returns 0 with *use_r (NULL for none), -EINVAL for bad syntax, or
 * -EPERM for a use we cannot give ([USEATTR]). */
static int create_parse_use(const struct imap_command *cmd, const char **use_r)
{
	*use_r = NULL;
	if (cmd->nargs == 1)
		return 0;
	const struct imap_arg *l = &cmd->args[1];
	if (cmd->nargs != 2 || l->type != IMAP_ARG_LIST)
		return -EINVAL;
	for (size_t i = 0; i < l->len; i += 2) {
		const struct imap_arg *k = &l->list[i];
		if (k->type != IMAP_ARG_ATOM || strcasecmp(k->str, "USE") != 0 ||
		    i + 1 == l->len || l->list[i + 1].type != IMAP_ARG_LIST)
			return -EINVAL;
		const struct imap_arg *uses = &l->list[i + 1];
		for (size_t u = 0; u < uses->len; u++) {
			if (uses->list[u].type != IMAP_ARG_ATOM)
				return -EINVAL;
			const char *canon;
			if (*use_r || meta_special_use_parse(uses->list[u].str, &canon) < 0)
				return -EPERM;
			*use_r = canon;
		}
	}
	return 0;
}

/* RFC 8474 4.1: the new mailbox's MAILBOXID in the tagged OK. */
static int create_reply(struct imap_session *s, const char *tag, const char *name)
{
	struct meta_status st;
	if (store_status(s->user, name, 0, &st, NULL) == 0 && st.object_id[0])
		return imap_reply(s, tag, "OK", "[MAILBOXID (%s)] CREATE completed", st.object_id);
	return imap_reply(s, tag, "OK", "CREATE completed");
}

int imap_cmd_create(struct imap_session *s, struct imap_command *cmd)
{
	const char *use = NULL;
	int r = cmd->nargs >= 1 ? create_parse_use(cmd, &use) : -EINVAL;
	if (r == -EINVAL)
		return imap_reply(s, cmd->tag, "BAD", "Usage: CREATE mailbox [(USE (attr))]");
	if (r == -EPERM)
		return imap_reply(s, cmd->tag, "NO", "[USEATTR] Unsupported special use");
	char *name;
	r = imap_arg_mailbox(s, cmd->tag, &cmd->args[0], "CANNOT", &name);
	if (!name)
		return r;
	const char *err = NULL;
	if (!name[0])
		r = imap_reply(s, cmd->tag, "NO", "[CANNOT] Empty mailbox name");
	else if (strcmp(name, "INBOX") == 0)
		r = imap_reply(s, cmd->tag, "NO", "[ALREADYEXISTS] INBOX always exists");
	else if ((r = store_create(s->user, name, use, NULL, &err)) < 0)
		r = imap_reply_store_error(s, cmd->tag, r, err, false);
	else
		r = create_reply(s, cmd->tag, name);
	free(name);
	return r;
}

/* This session's own DELETE or RENAME took its selected mailbox away: it
 * is closed, as SELECT closes it ([CLOSED], RFC 9051 7.1), rather than
 * ending the session as another session's change does. RENAME moves the
 * children too (subtree); INBOX stays where it is. */
static int mailbox_closed_under(struct imap_session *s, const char *name, bool subtree)
{
	size_t n = strlen(name);
	if (!s->view || strncmp(s->view->name, name, n) != 0 ||
	    (s->view->name[n] != '\0' && (!subtree || s->view->name[n] != IMAP_DELIMITER)) ||
	    strcmp(name, "INBOX") == 0)
		return 0;
	imap_view_free(&s->view);
	s->state = IMAP_STATE_AUTHENTICATED;
	return imap_untagged(s, "OK [CLOSED] Selected mailbox is gone");
}

int imap_cmd_delete(struct imap_session *s, struct imap_command *cmd)
{
	if (cmd->nargs != 1)
		return imap_reply(s, cmd->tag, "BAD", "Usage: DELETE mailbox");
	char *name;
	int r = imap_arg_mailbox(s, cmd->tag, &cmd->args[0], "NONEXISTENT", &name);
	if (!name)
		return r;
	const char *err = NULL;
	if (strcmp(name, "INBOX") == 0)
		r = imap_reply(s, cmd->tag, "NO", "[CANNOT] INBOX cannot be deleted");
	else if ((r = store_delete(s->user, name, &err)) < 0)
		r = imap_reply_store_error(s, cmd->tag, r == -EINVAL ? -ENOENT : r, err, false);
	else if ((r = mailbox_closed_under(s, name, false)) == 0)
		r = imap_reply(s, cmd->tag, "OK", "DELETE completed");
	free(name);
	return r;
}

int imap_cmd_rename(struct imap_session *s, struct imap_command *cmd)
{
	if (cmd->nargs != 2)
		return imap_reply(s, cmd->tag, "BAD", "Usage: RENAME from to");
	char *from, *to = NULL;
	int r = imap_arg_mailbox(s, cmd->tag, &cmd->args[0], "NONEXISTENT", &from);
	if (from)
		r = imap_arg_mailbox(s, cmd->tag, &cmd->args[1], "CANNOT", &to);
	if (!from || !to) {
		free(from);
		return r;
	}
	const char *err = NULL;
	if (!to[0])
		r = imap_reply(s, cmd->tag, "NO", "[CANNOT] Empty mailbox name");
	else if ((r = store_rename(s->user, from, to, &err)) < 0)
		r = imap_reply_store_error(s, cmd->tag, r, err, false);
	else if ((r = mailbox_closed_under(s, from, true)) == 0)
		r = imap_reply(s, cmd->tag, "OK", "RENAME completed");
	free(from);
	free(to);
	return r;
}

static int imap_subscription(struct imap_session *s, struct imap_command *cmd, bool on)
{
	if (cmd->nargs != 1)
		return imap_reply(s, cmd->tag, "BAD", "Usage: %s mailbox", s->cmd_name);
	char *name;
	int r = imap_arg_mailbox(s, cmd->tag, &cmd->args[0], "CANNOT", &name);
	if (!name)
		return r;
	const char *err = NULL;
	r = on ? store_subscribe(s->user, name, &err) : store_unsubscribe(s->user, name, &err);
	if (r < 0)
		r = imap_reply_store_error(s, cmd->tag, r, err, false);
	else
		r = imap_reply(s, cmd->tag, "OK", "%s completed", s->cmd_name);
	free(name);
	return r;
}

int imap_cmd_subscribe(struct imap_session *s, struct imap_command *cmd)
{
	return imap_subscription(s, cmd, true);
}

int imap_cmd_unsubscribe(struct imap_session *s, struct imap_command *cmd)
{
	return imap_subscription(s, cmd, false);
}
