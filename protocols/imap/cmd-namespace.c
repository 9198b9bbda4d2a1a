#include "protocols/imap/session.h"

/* NAMESPACE (RFC 2342; RFC 9051 6.3.10): one personal namespace with the
 * empty prefix and '/' as delimiter, no other users', no shared ones
 * (manual: "Crymap does not have namespaces"). */
int imap_cmd_namespace(struct imap_session *s, struct imap_command *cmd)
{
	if (cmd->nargs != 0)
		return imap_reply(s, cmd->tag, "BAD", "NAMESPACE takes no arguments");
	int r = imap_untagged(s, "NAMESPACE ((\"\" \"/\")) NIL NIL");
	return r < 0 ? r : imap_reply(s, cmd->tag, "OK", "NAMESPACE completed");
}
