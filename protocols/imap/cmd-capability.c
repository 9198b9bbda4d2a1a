#include "protocols/imap/session.h"

/* RFC 9051 section 6.1.1 */
int imap_cmd_capability(struct imap_session *s, struct imap_command *cmd)
{
	if (cmd->nargs)
		return imap_reply(s, cmd->tag, "BAD", "CAPABILITY takes no arguments");
	int r = imap_untagged(s, "CAPABILITY %s", imap_capabilities(s));
	return r < 0 ? r : imap_reply(s, cmd->tag, "OK", "CAPABILITY completed");
}
