#include <string.h>

#include "protocols/imap/session.h"

/* The command table (RFC 9051 section 6). Each command lives in its own
 * cmd-<name>.c; flags say in which states it is valid. */
static const struct imap_command_def imap_commands[] = {
	{ "CAPABILITY", imap_cmd_capability, IMAP_CMD_ANY_STATE },
	{ "NOOP", imap_cmd_noop, IMAP_CMD_ANY_STATE },
	{ "LOGOUT", imap_cmd_logout, IMAP_CMD_ANY_STATE },
	{ "STARTTLS", imap_cmd_starttls, IMAP_CMD_NOT_AUTH },
	{ "LOGIN", imap_cmd_login, IMAP_CMD_NOT_AUTH },
	{ "AUTHENTICATE", imap_cmd_authenticate, IMAP_CMD_NOT_AUTH },
};

const struct imap_command_def *imap_command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(imap_commands) / sizeof(imap_commands[0]); i++)
		if (strcmp(imap_commands[i].name, name) == 0)
			return &imap_commands[i];
	return NULL;
}
