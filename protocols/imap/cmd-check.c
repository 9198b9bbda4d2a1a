#include "protocols/imap/session.h"

/* CHECK (RFC 3501 6.4.1; gone from RFC 9051 but still sent by IMAP4rev1
 * clients): every change is durable when its command ends, so it is a
 * NOOP, whose tagged OK reports what changed (session.h). */
int imap_cmd_check(struct imap_session *s, struct imap_command *cmd)
{
	if (cmd->nargs != 0)
		return imap_reply(s, cmd->tag, "BAD", "CHECK takes no arguments");
	return imap_reply(s, cmd->tag, "OK", "CHECK completed");
}
