#include "bench/imap-client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coro/connect.h"
#include "coro/coro.h"
#include "coro/stream.h"
#include "src/util/xmalloc.h"

/* Whole ENVELOPE lists of a large FETCH fit easily; the server's own line
 * limit is far below this. */
#define IMAPC_MAX_LINE (1024 * 1024)
#define IMAPC_CONT 3	/* internal: a "+" continuation request arrived */

static int open_socket(const struct imapc_target *t)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(t->port) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(t->port) };
	int64_t deadline = coro_deadline_in(t->timeout_ms);
	if (inet_pton(AF_INET, t->host, &sin.sin_addr) == 1)
		return coro_connect((struct sockaddr *)&sin, sizeof(sin), deadline);
	if (inet_pton(AF_INET6, t->host, &sin6.sin6_addr) == 1)
		return coro_connect((struct sockaddr *)&sin6, sizeof(sin6), deadline);
	return -EINVAL;
}

/* A CAPABILITY list may come in the greeting, in a response code of a
 * tagged OK, or as an untagged response. */
static void note_capabilities(struct imapc *c, const char *line)
{
	const char *caps = strstr(line, "CAPABILITY ");
	if (!caps)
		return;
	const char *p = strstr(caps, " LITERAL+");
	if (p && (p[9] == ' ' || p[9] == ']' || p[9] == '\0'))
		c->literal_plus = true;
}

static void note_uid(struct imapc *c, const char *part)
{
	const char *p = strstr(part, "UID ");
	if (!p || (p != part && p[-1] != '(' && p[-1] != ' '))
		return;
	unsigned long uid = strtoul(p + 4, NULL, 10);
	if (!uid)
		return;
	if (c->n_uids == c->cap_uids) {
		c->cap_uids = c->cap_uids ? c->cap_uids * 2 : 256;
		c->uids = xrealloc(c->uids, c->cap_uids * sizeof(*c->uids));
	}
	c->uids[c->n_uids++] = (uint32_t)uid;
}

/* Size of the literal announced at the end of a response line ("{123}"),
 * or -1 when the line ends otherwise. */
static long literal_size(const char *line, size_t len)
{
	if (len < 3 || line[len - 1] != '}')
		return -1;
	size_t i = len - 1;
	while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9')
		i--;
	if (i == 0 || i == len - 1 || line[i - 1] != '{')
		return -1;
	return strtol(line + i, NULL, 10);
}

static int skip_bytes(struct imapc *c, long n)
{
	char buf[4096];
	while (n > 0) {
		size_t want = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf);
		int r = stream_read_exact(c->s, buf, want);
		if (r < 0)
			return r;
		n -= (long)want;
		c->literal_bytes += want;
	}
	return 0;
}

/* Reads one whole untagged response: its first line is given, and every
 * literal it announces is followed by a further line of the same
 * response. */
static int read_untagged(struct imapc *c, const char *line, size_t len)
{
	bool fetch = strstr(line, " FETCH (") != NULL;
	unsigned long n;
	char word[16];
	if (sscanf(line, "* %lu %15s", &n, word) == 2 && strcmp(word, "EXISTS") == 0)
		c->exists = (uint32_t)n;
	note_capabilities(c, line);
	for (;;) {
		if (fetch && c->collect_uids)
			note_uid(c, line);
		long lit = literal_size(line, len);
		if (lit < 0)
			return 0;
		int r = skip_bytes(c, lit);
		if (r == 0)
			r = stream_read_line(c->s, &line, &len);
		if (r < 0)
			return r;
	}
}

static int tagged_status(struct imapc *c, const char *rest)
{
	note_capabilities(c, rest);
	if (strncmp(rest, "OK", 2) == 0) {
		const char *p = strstr(rest, "[APPENDUID ");
		unsigned long validity, uid;
		if (p && sscanf(p, "[APPENDUID %lu %lu]", &validity, &uid) == 2)
			c->appenduid = (uint32_t)uid;
		return IMAPC_OK;
	}
	snprintf(c->last_reply, sizeof(c->last_reply), "%s", rest);
	return strncmp(rest, "NO", 2) == 0 ? IMAPC_NO : IMAPC_BAD;
}

/* Reads responses until the tagged reply to tag, or until a continuation
 * request when want_cont is set. */
static int read_until(struct imapc *c, const char *tag, bool want_cont)
{
	size_t tag_len = strlen(tag);
	for (;;) {
		const char *line;
		size_t len;
		int r = stream_read_line(c->s, &line, &len);
		if (r < 0)
			return r;
		if (line[0] == '*') {
			r = read_untagged(c, line, len);
			if (r < 0)
				return r;
		} else if (line[0] == '+') {
			if (want_cont)
				return IMAPC_CONT;
			return -EPROTO;	/* nothing of ours waits for one */
		} else if (len > tag_len && strncmp(line, tag, tag_len) == 0 &&
			   line[tag_len] == ' ') {
			return tagged_status(c, line + tag_len + 1);
		} else {
			return -EPROTO;
		}
	}
}

static void new_tag(struct imapc *c, char tag[16])
{
	snprintf(tag, 16, "a%u", ++c->next_tag);
	c->n_uids = 0;
	c->appenduid = 0;
}

int imapc_connect(struct imapc *c, const struct imapc_target *t)
{
	memset(c, 0, sizeof(*c));
	int fd = open_socket(t);
	if (fd < 0)
		return fd;
	/* Each command goes out in one write: Nagle could only delay it, and
	 * the client must add no latency of its own to what it measures. */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->s = stream_new_socket(fd);
	stream_set_timeout(c->s, t->timeout_ms);
	stream_set_max_line(c->s, IMAPC_MAX_LINE);
	int r = t->tls ? stream_start_tls_client(c->s, t->tls, NULL) : 0;
	const char *line;
	size_t len;
	if (r == 0)
		r = stream_read_line(c->s, &line, &len);
	if (r < 0)
		return r;
	if (strncmp(line, "* OK", 4) != 0)
		return -EPROTO;
	note_capabilities(c, line);
	return 0;
}

void imapc_close(struct imapc *c)
{
	if (c->s)
		stream_free(&c->s);
	free(c->uids);
	c->uids = NULL;
	c->n_uids = c->cap_uids = 0;
}

int imapc_cmd(struct imapc *c, const char *fmt, ...)
{
	char tag[16], cmd[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -EMSGSIZE;
	new_tag(c, tag);
	int r = stream_printf(c->s, "%s %s\r\n", tag, cmd);
	if (r == 0)
		r = stream_flush(c->s);
	return r < 0 ? r : read_until(c, tag, false);
}

static int quote(char *out, size_t size, const char *s)
{
	size_t o = 0;
	if (size < 3)
		return -EMSGSIZE;
	out[o++] = '"';
	for (; *s; s++) {
		if (*s == '\r' || *s == '\n')
			return -EINVAL;
		if (size - o < 4)
			return -EMSGSIZE;
		if (*s == '"' || *s == '\\')
			out[o++] = '\\';
		out[o++] = *s;
	}
	out[o++] = '"';
	out[o] = '\0';
	return 0;
}

int imapc_login(struct imapc *c, const char *user, const char *password)
{
	char qu[200], qp[200];
	int r = quote(qu, sizeof(qu), user);
	if (r == 0)
		r = quote(qp, sizeof(qp), password);
	return r < 0 ? r : imapc_cmd(c, "LOGIN %s %s", qu, qp);
}

int imapc_append(struct imapc *c, const char *mailbox, const char *flags, const void *msg,
		 size_t len)
{
	char tag[16];
	new_tag(c, tag);
	bool sync = !c->literal_plus;
	int r = stream_printf(c->s, "%s APPEND %s %s%s{%zu%s}\r\n", tag, mailbox, flags,
			      *flags ? " " : "", len, sync ? "" : "+");
	if (r == 0 && sync) {
		r = stream_flush(c->s);
		if (r == 0)
			r = read_until(c, tag, true);
		if (r != IMAPC_CONT)
			return r == 0 ? -EPROTO : r;	/* a tagged OK before the literal */
		r = 0;
	}
	if (r == 0)
		r = stream_write(c->s, msg, len);
	if (r == 0)
		r = stream_puts(c->s, "\r\n");
	if (r == 0)
		r = stream_flush(c->s);
	return r < 0 ? r : read_until(c, tag, false);
}

int imapc_idle_start(struct imapc *c)
{
	char tag[16];
	new_tag(c, tag);
	int r = stream_printf(c->s, "%s IDLE\r\n", tag);
	if (r == 0)
		r = stream_flush(c->s);
	if (r == 0)
		r = read_until(c, tag, true);
	if (r == IMAPC_CONT)
		return IMAPC_OK;
	return r == IMAPC_OK ? -EPROTO : r;
}
