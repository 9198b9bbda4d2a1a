#include "protocols/imap/session.h"

/* RFC 9051 section 6.1.2. Other sessions' changes reach the client with the
 * tagged reply (imap_reply syncs the selected mailbox first). */
int imap_cmd_noop(struct imap_session *s, struct imap_command *cmd)
{
	if (cmd->nargs)
		return imap_reply(s, cmd->tag, "BAD", "NOOP takes no arguments");
	return imap_reply(s, cmd->tag, "OK", "NOOP completed");
}
