#include "protocols/imap/session.h"

/* RFC 9051 section 6.1.3 */
int imap_cmd_logout(struct imap_session *s, struct imap_command *cmd)
{
	if (cmd->nargs)
		return imap_reply(s, cmd->tag, "BAD", "LOGOUT takes no arguments");
	s->state = IMAP_STATE_LOGOUT;
	int r = imap_untagged(s, "BYE Logging out");
	return r < 0 ? r : imap_reply(s, cmd->tag, "OK", "LOGOUT completed");
}
