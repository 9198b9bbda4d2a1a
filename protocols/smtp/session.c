#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coro/coro.h"
#include "coro/stream.h"
#include "protocols/smtp/session.h"
#include "src/log.h"
#include "src/server.h"
#include "src/util/xmalloc.h"

enum {
	CMD_SMTP_ONLY = 1 << 0,	/* not in LMTP (EHLO, HELO) */
	CMD_LMTP_ONLY = 1 << 1,	/* LHLO */
	CMD_MAIL = 1 << 2,	/* moves mail: resets the idle command count */
};

struct smtp_command_def {
	const char *verb;
	smtp_cmd_fn *fn;
	unsigned flags;
};

/* RFC 5321 4.1, RFC 3030 (BDAT), RFC 3207 (STARTTLS), RFC 2033 (LHLO). */
static const struct smtp_command_def smtp_commands[] = {
	{ "EHLO", smtp_cmd_ehlo, CMD_SMTP_ONLY },
	{ "HELO", smtp_cmd_helo, CMD_SMTP_ONLY },
	{ "LHLO", smtp_cmd_lhlo, CMD_LMTP_ONLY },
	{ "MAIL", smtp_cmd_mail, CMD_MAIL },
	{ "RCPT", smtp_cmd_rcpt, CMD_MAIL },
	{ "DATA", smtp_cmd_data, CMD_MAIL },
	{ "BDAT", smtp_cmd_bdat, CMD_MAIL },
	{ "RSET", smtp_cmd_rset, 0 },
	{ "NOOP", smtp_cmd_noop, 0 },
	{ "QUIT", smtp_cmd_quit, 0 },
	{ "VRFY", smtp_cmd_vrfy, 0 },
	{ "EXPN", smtp_cmd_expn, 0 },
	{ "HELP", smtp_cmd_help, 0 },
	{ "STARTTLS", smtp_cmd_starttls, 0 },
	{ "AUTH", smtp_cmd_auth, 0 },
};

static const struct smtp_command_def *find_command(const char *verb)
{
	for (size_t i = 0; i < sizeof(smtp_commands) / sizeof(smtp_commands[0]); i++)
		if (strcmp(smtp_commands[i].verb, verb) == 0)
			return &smtp_commands[i];
	return NULL;
}

static int dispatch(struct smtp_session *s, const char *line, size_t len)
{
	struct smtp_command cmd;
	int r = smtp_parse_command(line, len, &cmd);
	if (r == -EINVAL)
		return smtp_reply(s, 500, "5.5.2", "Syntax error in the command");
	const struct smtp_command_def *def = r == 0 ? find_command(cmd.verb) : NULL;
	if (def && (def->flags & CMD_SMTP_ONLY) && s->pers->lmtp)
		return smtp_reply(s, 500, "5.5.1", "This is LMTP: say LHLO");
	if (!def || ((def->flags & CMD_LMTP_ONLY) && !s->pers->lmtp))
		return smtp_reply(s, 500, "5.5.1", "Unknown command");
	s->idle_cmds = def->flags & CMD_MAIL ? 0 : s->idle_cmds + 1;
	return def->fn(s, cmd.args, cmd.args_len);
}

bool smtp_need_helo(struct smtp_session *s)
{
	if (s->helo[0])
		return true;
	smtp_reply(s, 503, "5.5.1", "Say %s first", s->pers->lmtp ? "LHLO" : "EHLO");
	return false;
}

bool smtp_need_rcpts(struct smtp_session *s)
{
	if (!smtp_need_helo(s))
		return false;
	if (!s->txn.mail) {
		smtp_reply(s, 503, "5.5.1", "Need MAIL before this");
		return false;
	}
	if (s->txn.n_rcpts == 0) {
		/* RFC 2920 3.1: a pipelined DATA after refused recipients. */
		smtp_reply(s, 554, "5.5.1", "No valid recipients");
		return false;
	}
	return true;
}

void smtp_txn_reset(struct smtp_session *s)
{
	struct smtp_txn *t = &s->txn;
	if (s->pers->data_reset)
		s->pers->data_reset(s);
	smtp_body_free(s);
	for (size_t i = 0; i < t->n_rcpts; i++) {
		free(t->rcpts[i].address);
		free(t->rcpts[i].user);
		free(t->rcpts[i].user_dir);
	}
	free(t->rcpts);
	free(t->from);
	free(t->chunk);
	free(t->prefix);
	free(t->auth_log);
	memset(t, 0, sizeof(*t));
	stream_set_timeout(s->stream, s->idle_timeout_ms);
}

int smtp_data_timeout(struct smtp_session *s)
{
	int64_t left = s->txn.deadline - coro_now_ms();
	if (left <= 0)
		return -ETIMEDOUT;
	stream_set_timeout(s->stream, (uint64_t)left < s->idle_timeout_ms ? (uint64_t)left
									 : s->idle_timeout_ms);
	return 0;
}

/* [smtp] host_name, or the system's name (manual). */
static void set_host_name(struct smtp_session *s)
{
	const char *cfg = s->conn->server->cfg->smtp_host_name;
	if (cfg && cfg[0])
		snprintf(s->host_name, sizeof(s->host_name), "%s", cfg);
	else if (gethostname(s->host_name, sizeof(s->host_name) - 1) < 0 || !s->host_name[0])
		snprintf(s->host_name, sizeof(s->host_name), "localhost");
}

/* Why the loop ended, in the client's terms (the stream still writes
 * after a read timeout). */
static void say_goodbye(struct smtp_session *s, int why)
{
	if (why == -ETIMEDOUT)
		smtp_reply(s, 421, "4.4.2", "%s Timeout; closing the connection", s->host_name);
	else if (why == -EINTR)
		smtp_reply(s, 421, "4.3.2", "%s Server shutting down; try again later",
			   s->host_name);
	else if (why == -E2BIG)
		smtp_reply(s, 421, "4.7.0", "%s Too many errors; closing the connection",
			   s->host_name);
	else if (why == -EBUSY)
		smtp_reply(s, 421, "4.7.0", "%s Too many commands without mail; closing",
			   s->host_name);
}

/* Reads and runs one command. 0 to go on; a negative code ends the
 * session (say_goodbye decides what the client hears). */
static int next_command(struct smtp_session *s)
{
	struct server *srv = s->conn->server;
	if (stream_buffered(s->stream) == 0 && stream_flush(s->stream) < 0)
		return -EPIPE;
	if (srv->stopping || s->stop_after)
		return -EINTR;
	const char *line;
	size_t len;
	int r = stream_read_line(s->stream, &line, &len);
	if (r == -EINTR)
		return srv->stopping ? -EINTR : 0;	/* else a stray wake-up */
	if (r == -EMSGSIZE || (r == 0 && len > SEAL_SMTP_MAX_LINE))
		r = smtp_reply(s, 500, "5.5.2", "Line too long (at most %d bytes)",
			       SEAL_SMTP_MAX_LINE);
	else if (r == 0) {
		if (!stream_last_line_crlf(s->stream))
			s->unix_newlines = true;
		r = dispatch(s, line, len);
	}
	if (r < 0)
		return r;
	if (s->errors >= SMTP_MAX_ERRORS)
		return -E2BIG;
	if (s->idle_cmds > SMTP_MAX_IDLE_CMDS)
		return -EBUSY;
	return 0;
}

void smtp_session_run(struct conn *c, const struct smtp_personality *pers)
{
	struct smtp_session s = { .conn = c, .stream = c->stream, .store = c->server->store,
				  .pers = pers, .idle_timeout_ms = c->idle_timeout_ms };
	stream_set_max_line(s.stream, SMTP_LINE_BUF);
	set_host_name(&s);
	if (c->refuse) {
		smtp_reply(&s, 421, "4.7.0", "%s %s", s.host_name, c->refuse);
		return;
	}
	smtp_reply(&s, 220, NULL, "%s %s sealmail ready", s.host_name, pers->proto);
	int r = 0;
	while (!s.quit && r == 0)
		r = next_command(&s);
	if (r < 0)
		say_goodbye(&s, r);
	smtp_txn_reset(&s);
}
