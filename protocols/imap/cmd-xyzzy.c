#include "protocols/imap/session.h"

/* XYZZY (manual: "a very important extension for GMail compatibility"). */
int imap_cmd_xyzzy(struct imap_session *s, struct imap_command *cmd)
{
	if (cmd->nargs)
		return imap_reply(s, cmd->tag, "BAD", "XYZZY takes no arguments");
	int r = imap_untagged(s, "OK Nothing happens.");
	return r < 0 ? r : imap_reply(s, cmd->tag, "OK", "XYZZY completed");
}
