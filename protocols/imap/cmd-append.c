/* APPEND (RFC 9051 6.3.12) with MULTIAPPEND (RFC 3502), binary literals
 * (RFC 3516), APPENDUID (RFC 4315) and APPENDLIMIT (RFC 7889).
 *
 * Each message streams from the connection into an encrypted file as it
 * arrives (parser.h: the parser stops at the literal); only the current
 * 64 KiB travels through memory. Messages of one MULTIAPPEND are staged as
 * finished files and committed together, so either all of them land or
 * none does. Bytes are stored exactly as sent: NULs, bare LFs and 8-bit
 * data included (manual, "Messages" and BINARY). \Recent in the flag list
 * is ignored: a client copying a message's flags may list it, and no
 * client can set it (RFC 3501 2.3.2). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "protocols/imap/cmd-message.h"
#include "protocols/imap/datetime.h"
#include "src/server.h"
#include "src/util/limits.h"
#include "src/util/xmalloc.h"
#include "storage/store.h"

#define APPEND_CHUNK (64 * 1024)
/* Staged messages of one MULTIAPPEND: each costs a file in tmp/. */
#define APPEND_MAX_MESSAGES 1000

struct append_cmd {
	struct imap_session *s;
	struct imap_command *cmd;
	char *mailbox;
	struct store_append **staged;
	size_t n;
	char *chunk;
	/* The arguments of the message at hand. */
	struct store_append_opts opts;
	const char **keywords;
};

/* Flags and date before a message literal, from args[first..nargs). */
static const char *append_message_args(struct append_cmd *c, size_t first)
{
	struct imap_command *cmd = c->cmd;
	size_t i = first;

	memset(&c->opts, 0, sizeof(c->opts));
	free(c->keywords);
	c->keywords = NULL;
	if (i < cmd->nargs && cmd->args[i].type == IMAP_ARG_LIST) {
		const struct imap_arg *l = cmd->args[i].list;
		size_t n = cmd->args[i].len;
		c->keywords = xcalloc(n + 1, sizeof(*c->keywords));
		for (size_t k = 0; k < n; k++) {
			if (l[k].type != IMAP_ARG_ATOM)
				return "Flags are atoms";
			uint32_t bit = meta_flag_parse(l[k].str);
			if (bit)
				c->opts.flags |= bit;
			else if (strcasecmp(l[k].str, "\\Recent") == 0)
				continue;
			else if (l[k].str[0] == '\\')
				return "Unknown system flag";
			else if (meta_keyword_check(l[k].str) < 0)
				return "Invalid keyword";
			else
				c->keywords[c->opts.n_keywords++] = l[k].str;
		}
		c->opts.keywords = c->keywords;
		i++;
	}
	if (i < cmd->nargs && (cmd->args[i].type == IMAP_ARG_QUOTED ||
			       cmd->args[i].type == IMAP_ARG_LITERAL)) {
		if (imap_parse_datetime(cmd->args[i].str, cmd->args[i].len,
					&c->opts.internal_date, &c->opts.internal_tz) < 0)
			return "Invalid date-time (expected \"17-Jul-1996 02:44:25 -0700\")";
		i++;
	}
	if (i != cmd->nargs || !cmd->at_literal)
		return "Usage: APPEND mailbox [(flags)] [\"date-time\"] {size}";
	return NULL;
}

/* Streams the literal into a; a failed write still reads the literal to
 * its end, so the connection stays in step. Returns 0, a store error
 * (*store_err), or a stream error. */
static int append_stream(struct append_cmd *c, struct store_append *a, int *store_err)
{
	struct imap_session *s = c->s;
	for (;;) {
		ssize_t n = imap_read_literal(s->stream, c->cmd, c->chunk, APPEND_CHUNK);
		/* A leftover wake-up (IDLE's watcher) is not an error. */
		if (n == -EINTR && !s->conn->server->stopping)
			continue;
		if (n <= 0)
			return (int)n;
		if (*store_err == 0)
			*store_err = store_append_write(a, c->chunk, (size_t)n);
	}
}

/* APPENDUID's set: the UIDs the store gave, ascending. */
static int append_reply(struct append_cmd *c, const struct meta_appended *res)
{
	struct buf b = BUF_INIT(0);
	uint32_t *uids = xmalloc(c->n * sizeof(*uids));
	for (size_t i = 0; i < c->n; i++)
		uids[i] = res[i].uid;
	int r = buf_printf(&b, "APPENDUID %u ", res[0].uidvalidity);
	if (r == 0)
		r = imap_append_number_set(&b, uids, c->n);
	if (r == 0)
		r = imap_reply(c->s, c->cmd->tag, "OK", "[%s] APPEND completed", b.data);
	free(uids);
	buf_free(&b);
	return r;
}

static int append_commit(struct append_cmd *c)
{
	const char *err = NULL;
	struct meta_appended *res = xcalloc(c->n, sizeof(*res));
	int r = store_append_commit_all(c->staged, c->n, res, &err);
	if (r < 0)
		r = imap_reply_store_error(c->s, c->cmd->tag, r, err, true);
	else
		r = append_reply(c, res);
	c->n = 0;
	free(res);
	return r;
}

/* One message: its arguments, the literal, and the next stretch of the
 * command. Returns 1 when another message follows, 0 when the command was
 * answered, or a stream error. */
static int append_one(struct append_cmd *c, size_t first)
{
	struct imap_session *s = c->s;
	struct imap_command *cmd = c->cmd;
	const char *why = append_message_args(c, first);
	if (why)
		return imap_reply(s, cmd->tag, "BAD", "%s", why);
	if (cmd->literal_size == 0)
		return imap_reply(s, cmd->tag, "NO", "[CANNOT] Empty messages are not stored");
	if (cmd->literal_size > SEAL_MAX_MESSAGE)
		return imap_reply(s, cmd->tag, "NO", "[TOOBIG] Message over the APPENDLIMIT");
	if (c->n == APPEND_MAX_MESSAGES)
		return imap_reply(s, cmd->tag, "NO", "[LIMIT] At most %d messages per APPEND",
				  APPEND_MAX_MESSAGES);

	struct store_append *a = NULL;
	const char *err = NULL;
	int r = store_append_begin(s->user, c->mailbox, &c->opts, &a, &err);
	if (r < 0)
		return imap_reply_store_error(s, cmd->tag, r, err, true);
	c->staged[c->n++] = a;
	int store_err = 0;
	r = append_stream(c, a, &store_err);
	if (r == 0 && store_err == 0)
		store_err = store_append_finish(a);
	if (r < 0)
		return r;
	if (store_err < 0)
		return imap_reply_store_error(s, cmd->tag, store_err, NULL, true);

	const char *perr = NULL;
	r = imap_read_command_rest(s->stream, cmd, &perr);
	if (r == IMAP_PARSE_BAD)
		return imap_reply(s, cmd->tag, "BAD", "%s", perr);
	if (r < 0)
		return r;
	if (cmd->nargs == 0 && !cmd->at_literal)
		return append_commit(c);
	return 1;
}

int imap_cmd_append(struct imap_session *s, struct imap_command *cmd)
{
	struct append_cmd c = { .s = s, .cmd = cmd };
	int r;

	if (cmd->nargs < 1)
		return imap_reply(s, cmd->tag, "BAD", "Usage: APPEND mailbox [(flags)] "
						      "[\"date-time\"] {size}");
	r = imap_arg_mailbox(s, cmd->tag, &cmd->args[0], "CANNOT", &c.mailbox);
	if (!c.mailbox)
		return r;
	c.staged = xcalloc(APPEND_MAX_MESSAGES, sizeof(*c.staged));
	c.chunk = xmalloc(APPEND_CHUNK);
	for (size_t first = 1; (r = append_one(&c, first)) == 1; first = 0)
		;
	for (size_t i = 0; i < c.n; i++)
		store_append_abort(&c.staged[i]);
	free(c.staged);
	free(c.chunk);
	free(c.keywords);
	free(c.mailbox);
	return r;
}
