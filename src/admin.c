#include "src/admin.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coro/stream.h"
#include "src/log.h"
#include "src/server.h"

#define ADMIN_MAX_ARGS 16


const struct admin_command admin_commands[] = {
	{ "stats", "stats", admin_cmd_stats },
	{ "reload", "reload", admin_cmd_reload },
	{ "shutdown", "shutdown", admin_cmd_shutdown },
	{ "user add", "user add NAME [password-follows]", admin_cmd_user_add },
	{ "user list", "user list", admin_cmd_user_list },
	{ "delivered", "delivered NAME", admin_cmd_delivered },
};
const size_t admin_command_count = sizeof(admin_commands) / sizeof(admin_commands[0]);

int admin_reply_line(struct admin_request *req, const char *fmt, ...)
{
	char line[ADMIN_MAX_LINE];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -EMSGSIZE;
	/* A reply line must stay one line whatever it quotes. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return stream_printf(req->conn->stream, "= %s\n", line);
}

static int admin_split(char *line, char **argv)
{
	int argc = 0;
	for (char *tok = strtok(line, " \t"); tok; tok = strtok(NULL, " \t")) {
		if (argc == ADMIN_MAX_ARGS)
			return -E2BIG;
		argv[argc++] = tok;
	}
	return argc;
}

/* Finds the command whose words ("user add") start argv; the longest name
 * wins. Returns how many words the name used, 0 if none matched. */
static int admin_lookup(int argc, char **argv, const struct admin_command **cmd_r)
{
	int best = 0;
	for (size_t i = 0; i < admin_command_count; i++) {
		const char *name = admin_commands[i].name;
		int words = 0;
		const char *p = name;
		bool match = true;
		while (*p && match) {
			size_t len = strcspn(p, " ");
			match = words < argc && strlen(argv[words]) == len &&
				strncmp(argv[words], p, len) == 0;
			words++;
			p += len;
			p += *p == ' ';
		}
		if (match && words > best) {
			best = words;
			*cmd_r = &admin_commands[i];
		}
	}
	return best;
}

static int admin_dispatch(struct conn *c, char *line)
{
	char *argv[ADMIN_MAX_ARGS];
	int argc = admin_split(line, argv);
	if (argc == 0)
		return stream_puts(c->stream, "ERR empty request\n");
	if (argc < 0)
		return stream_puts(c->stream, "ERR too many arguments\n");
	const struct admin_command *cmd = NULL;
	int words = admin_lookup(argc, argv, &cmd);
	if (!words)
		return stream_printf(c->stream, "ERR unknown command '%.64s'\n", argv[0]);
	struct admin_request req = {
		.conn = c, .server = c->server, .argc = argc - words + 1, .argv = argv + words - 1,
	};
	conn_log(c, LOG_INFO, "admin: %s", cmd->name);
	int r = cmd->fn(&req);
	if (r == 0) {
		r = stream_puts(c->stream, "OK\n");
	} else {
		const char *err = req.error_owned ? req.error_owned
				  : req.error	  ? req.error
						  : strerror(-r);
		r = stream_printf(c->stream, "ERR %s\n", err);
	}
	free(req.error_owned);
	return r;
}

void admin_session_run(struct conn *c)
{
	stream_set_max_line(c->stream, ADMIN_MAX_LINE);
	for (;;) {
		const char *line;
		size_t len;
		int r = stream_read_line(c->stream, &line, &len);
		if (r == -EMSGSIZE) {
			if (stream_puts(c->stream, "ERR request line too long\n") < 0)
				break;
			continue;
		}
		if (r < 0)
			break;
		char copy[ADMIN_MAX_LINE + 1];
		memcpy(copy, line, len + 1);
		if (admin_dispatch(c, copy) < 0 || stream_flush(c->stream) < 0)
			break;
		if (c->server->stopping)
			break;
	}
}
