#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coro/stream.h"
#include "protocols/imap/imap.h"
#include "protocols/imap/session.h"
#include "protocols/imap/view.h"
#include "src/log.h"
#include "src/server.h"
#include "src/util/limits.h"
#include "storage/store.h"

static bool imap_state_allows(const struct imap_session *s, unsigned flags)
{
	if (flags & IMAP_CMD_ANY_STATE)
		return true;
	switch (s->state) {
	case IMAP_STATE_NOT_AUTHENTICATED:
		return flags & IMAP_CMD_NOT_AUTH;
	case IMAP_STATE_AUTHENTICATED:
		return flags & (IMAP_CMD_AUTH | IMAP_CMD_AUTH_ONLY);
	case IMAP_STATE_SELECTED:
		return flags & (IMAP_CMD_AUTH | IMAP_CMD_SELECTED);
	default:
		return false;
	}
}

/* "UID FETCH ...": finds "UID FETCH" and drops FETCH from the arguments
 * (RFC 9051 6.4.9). */
static const struct imap_command_def *imap_find_uid_command(struct imap_command *cmd)
{
	char name[40];
	if (cmd->nargs < 1 || cmd->args[0].type != IMAP_ARG_ATOM || cmd->args[0].len > 32)
		return NULL;
	size_t n = (size_t)snprintf(name, sizeof(name), "UID %s", cmd->args[0].str);
	for (size_t i = 4; i < n; i++)
		name[i] = (char)toupper((unsigned char)name[i]);
	const struct imap_command_def *def = imap_command_find(name);
	if (def) {
		cmd->args++;
		cmd->nargs--;
	}
	return def;
}

static int imap_dispatch(struct imap_session *s, struct imap_command *cmd)
{
	bool uid = strcmp(cmd->name, "UID") == 0;
	const struct imap_command_def *def =
		uid ? imap_find_uid_command(cmd) : imap_command_find(cmd->name);
	if (!def)
		return imap_reply(s, cmd->tag, "BAD", "Unknown command %.32s%s%.32s", cmd->name,
				  uid && cmd->nargs && cmd->args[0].type == IMAP_ARG_ATOM ? " " : "",
				  uid && cmd->nargs && cmd->args[0].type == IMAP_ARG_ATOM
					  ? cmd->args[0].str
					  : "");
	if (!imap_state_allows(s, def->flags))
		return imap_reply(s, cmd->tag, "BAD", "%s is not valid in this state",
				  def->name);
	s->cmd_name = def->name;
	s->cmd_uid = uid;
	s->cmd_allow_expunge = !(def->flags & IMAP_CMD_NO_EXPUNGE);
	int r = def->fn(s, cmd);
	s->cmd_name = NULL;
	return r;
}

static void imap_say_goodbye(struct imap_session *s, int why)
{
	if (why == -EINTR && s->conn->server->stopping)
		imap_untagged(s, "BYE [UNAVAILABLE] Server shutting down");
	else if (why == -ETIMEDOUT)
		imap_untagged(s, "BYE Autologout; idle for too long");
	else
		return;
	stream_flush(s->stream);
}

/* Everything the session holds goes: the view, then the user reference
 * (its last session leaving starts the login cache's countdown). */
static void imap_session_end(struct imap_session *s)
{
	imap_view_free(&s->view);
	store_logout(&s->user);
	free(s->user_name);
	s->user_name = NULL;
}

void imap_session_run(struct conn *c)
{
	struct imap_session s = { .conn = c, .stream = c->stream, .store = c->server->store };
	stream_set_max_line(s.stream, SEAL_MAX_LINE);
	if (c->refuse) {
		imap_untagged(&s, "BYE [UNAVAILABLE] %s", c->refuse);
		return;
	}
	imap_untagged(&s, "OK [CAPABILITY %s] sealmail ready", imap_capabilities(&s));
	while (s.state != IMAP_STATE_LOGOUT) {
		if (stream_flush(s.stream) < 0)
			break;
		struct imap_command cmd;
		const char *error = NULL;
		int r = imap_read_command(s.stream, &cmd, &error);
		/* An interrupt that is not the server stopping is a leftover
		 * wake-up (IDLE's watcher): nothing was read, read again. */
		if (r == -EINTR && !c->server->stopping) {
			imap_command_free(&cmd);
			continue;
		}
		if (r == IMAP_PARSE_BAD)
			r = imap_reply(&s, cmd.tag, "BAD", "%s", error);
		else if (r == 0)
			r = imap_dispatch(&s, &cmd);
		/* An APPEND answered before its message was read. */
		if (r >= 0 && (cmd.at_literal || cmd.after_literal))
			r = imap_command_skip(s.stream, &cmd);
		imap_command_free(&cmd);
		if (r < 0) {
			/* A read (or IDLE's read) that ended for a reason
			 * the client should hear of. */
			imap_say_goodbye(&s, r);
			break;
		}
		if (c->server->stopping) {
			imap_say_goodbye(&s, -EINTR);
			break;
		}
	}
	imap_session_end(&s);
}
