#include <errno.h>
#include <string.h>

#include "coro/stream.h"
#include "protocols/imap/imap.h"
#include "protocols/imap/session.h"
#include "src/log.h"
#include "src/server.h"
#include "src/util/limits.h"

static bool imap_state_allows(const struct imap_session *s, unsigned flags)
{
	if (flags & IMAP_CMD_ANY_STATE)
		return true;
	switch (s->state) {
	case IMAP_STATE_NOT_AUTHENTICATED:
		return flags & IMAP_CMD_NOT_AUTH;
	case IMAP_STATE_AUTHENTICATED:
		return flags & IMAP_CMD_AUTH;
	case IMAP_STATE_SELECTED:
		return flags & (IMAP_CMD_AUTH | IMAP_CMD_SELECTED);
	default:
		return false;
	}
}

static int imap_dispatch(struct imap_session *s, struct imap_command *cmd)
{
	const struct imap_command_def *def = imap_command_find(cmd->name);
	if (!def)
		return imap_reply(s, cmd->tag, "BAD", "Unknown command %.32s", cmd->name);
	if (!imap_state_allows(s, def->flags))
		return imap_reply(s, cmd->tag, "BAD", "%s is not valid in this state",
				  def->name);
	return def->fn(s, cmd);
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

void imap_session_run(struct conn *c)
{
	struct imap_session s = { .conn = c, .stream = c->stream };
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
		if (r == IMAP_PARSE_BAD)
			r = imap_reply(&s, cmd.tag, "BAD", "%s", error);
		else if (r == 0)
			r = imap_dispatch(&s, &cmd);
		else
			imap_say_goodbye(&s, r);
		imap_command_free(&cmd);
		if (r < 0)
			break;
		if (c->server->stopping) {
			imap_say_goodbye(&s, -EINTR);
			break;
		}
	}
}
