/* CLOSE (RFC 9051 6.4.1) and UNSELECT (RFC 3691; RFC 9051 6.4.2): back to
 * the authenticated state; CLOSE first expunges silently when the mailbox
 * is read-write. */
#include <string.h>

#include "protocols/imap/session.h"
#include "protocols/imap/view.h"
#include "src/log.h"
#include "src/server.h"
#include "storage/store.h"

static void imap_deselect(struct imap_session *s)
{
	imap_view_free(&s->view);
	s->state = IMAP_STATE_AUTHENTICATED;
}

int imap_cmd_close(struct imap_session *s, struct imap_command *cmd)
{
	if (cmd->nargs != 0)
		return imap_reply(s, cmd->tag, "BAD", "CLOSE takes no arguments");
	/* Only what the client knows of: a message delivered since it was
	 * last told is not removed unseen (as EXPUNGE). */
	if (!s->view->read_only && s->view->count) {
		struct meta_uids uids = { 0 };
		struct meta_uid_range known = { 1, s->view->uids[s->view->count - 1] };
		uint64_t modseq = 0;
		const char *err = NULL;
		int r = store_expunge(s->user, s->view->mailbox_id, &known, 1, 0, &uids, &modseq,
				      &err);
		/* CLOSE has no NO: the mailbox is closed either way and the
		 * messages stay \Deleted for a later EXPUNGE. */
		if (r < 0 && r != -ENOENT)
			conn_log(s->conn, LOG_WARNING, "CLOSE: expunge failed: %s: %s",
				 err ? err : "store", strerror(-r));
		meta_uids_free(&uids);
	}
	imap_deselect(s);
	return imap_reply(s, cmd->tag, "OK", "CLOSE completed");
}

int imap_cmd_unselect(struct imap_session *s, struct imap_command *cmd)
{
	if (cmd->nargs != 0)
		return imap_reply(s, cmd->tag, "BAD", "UNSELECT takes no arguments");
	imap_deselect(s);
	return imap_reply(s, cmd->tag, "OK", "UNSELECT completed");
}
