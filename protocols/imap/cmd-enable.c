/* ENABLE (RFC 5161; RFC 9051 6.3.1): turns on extensions that change how
 * the server talks. The ENABLED response lists what this command turned
 * on; names we do not know, or already on, are left out. */
#include <strings.h>

#include "protocols/imap/session.h"
#include "src/util/buf.h"

/* Turns on one extension; true if it was off and is now on. */
static bool imap_enable_one(struct imap_session *s, const char *name)
{
	bool was;
	if (strcasecmp(name, "IMAP4rev2") == 0) {
		/* RFC 9051: mailbox names in UTF-8, no \Recent, no MUTF-7. */
		was = s->imap4rev2;
		s->imap4rev2 = true;
		s->utf8 = true;
	} else if (strcasecmp(name, "UTF8=ACCEPT") == 0) {
		was = s->utf8;
		s->utf8 = true;
	} else if (strcasecmp(name, "QRESYNC") == 0) {
		/* RFC 7162 3.2.3: QRESYNC implies CONDSTORE. */
		was = s->qresync;
		s->qresync = true;
		imap_enable_condstore(s);
	} else if (strcasecmp(name, "CONDSTORE") == 0) {
		/* No mailbox is selected in this state, so nothing to say. */
		was = s->condstore;
		imap_enable_condstore(s);
	} else {
		return false;
	}
	return !was;
}

int imap_cmd_enable(struct imap_session *s, struct imap_command *cmd)
{
	if (cmd->nargs == 0)
		return imap_reply(s, cmd->tag, "BAD", "Usage: ENABLE capability...");
	for (size_t i = 0; i < cmd->nargs; i++)
		if (cmd->args[i].type != IMAP_ARG_ATOM)
			return imap_reply(s, cmd->tag, "BAD", "Capability names are atoms");
	struct buf b = BUF_INIT(0);
	int r = buf_puts(&b, "ENABLED");
	for (size_t i = 0; r == 0 && i < cmd->nargs; i++)
		if (imap_enable_one(s, cmd->args[i].str))
			r = buf_printf(&b, " %s", cmd->args[i].str);
	if (r == 0)
		r = imap_untagged(s, "%s", b.data);
	buf_free(&b);
	return r < 0 ? r : imap_reply(s, cmd->tag, "OK", "ENABLE completed");
}
