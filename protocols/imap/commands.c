#include <string.h>

#include "protocols/imap/cmd-message.h"
#include "protocols/imap/session.h"

#define SEL (IMAP_CMD_SELECTED)
#define AUTH (IMAP_CMD_AUTH)

/* The command table (RFC 9051 section 6). Each command lives in its own
 * cmd-<name>.c; flags say in which states it is valid and whether the
 * sequence-number form may see EXPUNGE responses. UID forms are separate
 * entries ("UID EXPUNGE"): session.c looks them up by both words. */
static const struct imap_command_def imap_commands[] = {
	{ "CAPABILITY", imap_cmd_capability, IMAP_CMD_ANY_STATE },
	{ "NOOP", imap_cmd_noop, IMAP_CMD_ANY_STATE },
	{ "XYZZY", imap_cmd_xyzzy, IMAP_CMD_ANY_STATE },
	{ "LOGOUT", imap_cmd_logout, IMAP_CMD_ANY_STATE },
	{ "ID", imap_cmd_id, IMAP_CMD_ANY_STATE },
	{ "STARTTLS", imap_cmd_starttls, IMAP_CMD_NOT_AUTH },
	{ "COMPRESS", imap_cmd_compress, IMAP_CMD_ANY_STATE },
	{ "LOGIN", imap_cmd_login, IMAP_CMD_NOT_AUTH },
	{ "AUTHENTICATE", imap_cmd_authenticate, IMAP_CMD_NOT_AUTH },
	{ "ENABLE", imap_cmd_enable, IMAP_CMD_AUTH_ONLY },
	{ "NAMESPACE", imap_cmd_namespace, AUTH },
	{ "LIST", imap_cmd_list, AUTH },
	{ "LSUB", imap_cmd_lsub, AUTH },
	{ "XLIST", imap_cmd_xlist, AUTH },
	{ "XCRY", imap_cmd_xcry, AUTH },
	{ "CREATE", imap_cmd_create, AUTH },
	{ "DELETE", imap_cmd_delete, AUTH },
	{ "RENAME", imap_cmd_rename, AUTH },
	{ "SUBSCRIBE", imap_cmd_subscribe, AUTH },
	{ "UNSUBSCRIBE", imap_cmd_unsubscribe, AUTH },
	{ "STATUS", imap_cmd_status, AUTH },
	{ "SELECT", imap_cmd_select, AUTH },
	{ "EXAMINE", imap_cmd_examine, AUTH },
	{ "IDLE", imap_cmd_idle, AUTH },
	{ "APPEND", imap_cmd_append, AUTH },
	{ "CHECK", imap_cmd_check, SEL },
	{ "CLOSE", imap_cmd_close, SEL },
	{ "UNSELECT", imap_cmd_unselect, SEL },
	{ "EXPUNGE", imap_cmd_expunge, SEL },
	{ "UID EXPUNGE", imap_cmd_expunge, SEL },
	{ "XVANQUISH", imap_cmd_xvanquish, SEL },
	IMAP_MESSAGE_COMMANDS
};

const struct imap_command_def *imap_command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(imap_commands) / sizeof(imap_commands[0]); i++)
		if (strcmp(imap_commands[i].name, name) == 0)
			return &imap_commands[i];
	return NULL;
}
