/* EXPUNGE (RFC 9051 6.4.3) and UID EXPUNGE (RFC 4315; RFC 9051 6.4.9):
 * removes the messages marked \Deleted (within a UID set for the UID
 * form) and reports each removal; expunges by others come with them.
 * XVANQUISH (manual) takes a UID set and expunges it whatever the flags. */
#include <errno.h>
#include <inttypes.h>

#include "protocols/imap/session.h"
#include "protocols/imap/view.h"
#include "storage/store.h"

/* Expunges within the UID ranges (the whole of what the client knows
 * when NULL: a message delivered since the last report is not removed
 * before the client has even heard of it). */
static int imap_expunge_proceed(struct imap_session *s, const char *tag,
				const struct imap_msgset *set, uint32_t flags)
{
	struct meta_uids uids = { 0 };
	uint64_t modseq = 0;
	const char *err = NULL;
	const struct imap_view *v = s->view;
	struct meta_uid_range known = { 1, v->count ? v->uids[v->count - 1] : 1 };
	int r = 0;
	if (set || v->count)
		r = store_expunge(s->user, v->mailbox_id, set ? set->uids : &known,
				  set ? set->n : 1, flags, &uids, &modseq, &err);
	if (r < 0)
		return imap_reply_store_error(s, tag, r, err, false);
	r = imap_view_report_expunged(s, uids.v, uids.n);
	meta_uids_free(&uids);
	if (r == 0)
		r = imap_view_sync(s, true);
	if (r < 0)
		return r;
	/* Clients that enabled CONDSTORE learn the mailbox's new
	 * HIGHESTMODSEQ from the tagged OK (RFC 7162 HIGHESTMODSEQ code). */
	if (s->condstore)
		return imap_reply(s, tag, "OK", "[HIGHESTMODSEQ %" PRIu64 "] %s completed",
				  s->view->synced_modseq, s->cmd_name);
	return imap_reply(s, tag, "OK", "%s completed", s->cmd_name);
}

/* The UID set of UID EXPUNGE and XVANQUISH. */
static int expunge_uid_set(struct imap_session *s, struct imap_command *cmd, uint32_t flags)
{
	struct imap_msgset set;
	const char *err = NULL;
	int r = imap_view_msgset(s, &cmd->args[0], true, &set, &err);
	if (r < 0)
		return imap_reply(s, cmd->tag, "BAD", "%s", err);
	/* An empty set expunges nothing: the store reads n_set 0 as "all". */
	r = set.n ? imap_expunge_proceed(s, cmd->tag, &set, flags)
		  : imap_reply(s, cmd->tag, "OK", "%s completed", s->cmd_name);
	imap_msgset_free(&set);
	return r;
}

int imap_cmd_expunge(struct imap_session *s, struct imap_command *cmd)
{
	if (cmd->nargs != (s->cmd_uid ? 1u : 0u))
		return imap_reply(s, cmd->tag, "BAD", s->cmd_uid ? "Usage: UID EXPUNGE uid-set"
								 : "EXPUNGE takes no arguments");
	if (s->view->read_only)
		return imap_reply(s, cmd->tag, "NO", "[CANNOT] Mailbox is read-only");
	if (!s->cmd_uid)
		return imap_expunge_proceed(s, cmd->tag, NULL, 0);
	return expunge_uid_set(s, cmd, 0);
}

int imap_cmd_xvanquish(struct imap_session *s, struct imap_command *cmd)
{
	if (cmd->nargs != 1)
		return imap_reply(s, cmd->tag, "BAD", "Usage: XVANQUISH uid-set");
	if (s->view->read_only)
		return imap_reply(s, cmd->tag, "NO", "[CANNOT] Mailbox is read-only");
	return expunge_uid_set(s, cmd, META_EXPUNGE_ANY);
}
