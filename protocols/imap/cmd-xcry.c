/* XCRY (manual, "IMAP Characteristics": XCRY): the subcommand table, and
 * PURGE. Valid once authenticated; PURGE needs a selected mailbox. */
#include <strings.h>

#include "protocols/imap/cmd-xcry.h"
#include "protocols/imap/session.h"
#include "protocols/imap/view.h"
#include "storage/store.h"

/* XCRY PURGE: the selected mailbox's expunged messages leave the disk now,
 * not 24 hours after their expunge, so even sessions that have not seen
 * the expunge lose them. The reply says how many (as Crymap's does). */
static int xcry_purge(struct imap_session *s, const char *tag, const struct imap_arg *args,
		      size_t nargs)
{
	if (nargs != 0)
		return imap_reply(s, tag, "BAD", "XCRY PURGE takes no arguments");
	if (!s->view)
		return imap_reply(s, tag, "BAD", "XCRY PURGE needs a selected mailbox");
	const char *error = NULL;
	int r = store_purge(s->user, s->view->mailbox_id, &error);
	if (r < 0)
		return imap_reply_store_error(s, tag, r, error, false);
	return imap_reply(s, tag, "OK", "%d messages purged", r);
}

static const struct {
	const char *name;
	int (*fn)(struct imap_session *s, const char *tag, const struct imap_arg *args,
		  size_t nargs);
} xcry_subcommands[] = {
	{ "PURGE", xcry_purge },
	{ "GET-USER-CONFIG", imap_xcry_get_user_config },
	{ "SET-USER-CONFIG", imap_xcry_set_user_config },
	{ "SMTP-OUT", imap_xcry_smtp_out },
};

int imap_cmd_xcry(struct imap_session *s, struct imap_command *cmd)
{
	if (cmd->nargs < 1 || cmd->args[0].type != IMAP_ARG_ATOM)
		return imap_reply(s, cmd->tag, "BAD",
				  "Usage: XCRY PURGE | GET-USER-CONFIG | "
				  "SET-USER-CONFIG key value ... | SMTP-OUT ...");
	for (size_t i = 0; i < sizeof(xcry_subcommands) / sizeof(xcry_subcommands[0]); i++)
		if (strcasecmp(cmd->args[0].str, xcry_subcommands[i].name) == 0)
			return xcry_subcommands[i].fn(s, cmd->tag, cmd->args + 1, cmd->nargs - 1);
	return imap_reply(s, cmd->tag, "BAD", "Unknown XCRY subcommand %.40s", cmd->args[0].str);
}
