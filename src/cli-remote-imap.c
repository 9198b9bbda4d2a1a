/* The IMAP client of `sealmail remote`: IMAPS on the coroutine runtime's
 * stream and TLS layers, commands with tags, responses with literals, and
 * the --trace dialogue on stderr ("C: " and "S: " lines) in which every
 * password is shown as <password> (a literal's length too, as {*}).
 *
 * Certificates are verified by default: the system CA bundle (or
 * --ca-file) must vouch for the server's chain, and the certificate must
 * name the host given with --host. --insecure turns both checks off. */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coro/connect.h"
#include "coro/coro.h"
#include "coro/stream.h"
#include "src/cli-remote.h"
#include "src/util/xmalloc.h"

#define CONNECT_TIMEOUT_MS (30 * 1000)
#define REMOTE_MAX_CAPS 4096
#define TAG_MAX 16

struct rimap {
	struct stream *s;
	struct tls_config *tls;
	bool trace;
	bool broken;		/* no more commands: LOGOUT is not tried */
	unsigned tags;
	char *caps;		/* the last capability list, space-separated */
	struct buf resp;	/* the response being read */
};

int remote_fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, REMOTE_PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int conn_error(struct rimap *c, int r)
{
	c->broken = true;
	const char *why = r == -EPIPE	     ? "the server closed the connection"
			  : r == -ETIMEDOUT  ? "no answer from the server in time"
			  : r == -EMSGSIZE   ? "the server sent a line that is too long"
			  : r == -ECONNRESET ? "the connection was reset"
					     : strerror(-r);
	remote_fail("%s", why);
	return -1;
}

/* Trace output: the line as sent or received; control bytes shown as '.'
 * so a literal cannot garble the terminal. */
static void trace(const struct rimap *c, const char *who, const char *data, size_t len)
{
	if (!c->trace)
		return;
	fputs(who, stderr);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)data[i];
		if (ch == '\r' && i + 1 < len && data[i + 1] == '\n')
			continue;
		fputc(ch == '\n' ? '\n' : ch < 0x20 || ch == 0x7f ? '.' : ch, stderr);
		if (ch == '\n' && i + 1 < len)
			fputs(who, stderr);
	}
	fputc('\n', stderr);
}

/* --- Capabilities ---------------------------------------------------- */

static void set_caps(struct rimap *c, const char *list, size_t len)
{
	free(c->caps);
	c->caps = xstrndup(list, len < REMOTE_MAX_CAPS ? len : REMOTE_MAX_CAPS);
}

/* An untagged "CAPABILITY a b" (untagged true), or the "[CAPABILITY a b]"
 * code of an OK (greeting, tagged OK). */
static void note_caps(struct rimap *c, const char *text, size_t len, bool untagged)
{
	static const char word[] = "CAPABILITY ", code[] = "[CAPABILITY ";
	const size_t wlen = sizeof(word) - 1, clen = sizeof(code) - 1;
	const char *p = len > 3 && strncasecmp(text, "OK ", 3) == 0 ? text + 3 : NULL;
	if (untagged && len >= wlen && strncasecmp(text, word, wlen) == 0) {
		set_caps(c, text + wlen, len - wlen);
	} else if (p && (size_t)(text + len - p) > clen && strncasecmp(p, code, clen) == 0) {
		p += clen;
		const char *end = memchr(p, ']', len - (size_t)(p - text));
		if (end)
			set_caps(c, p, (size_t)(end - p));
	}
}

bool rimap_has_cap(const struct rimap *c, const char *cap)
{
	size_t n = strlen(cap);
	for (const char *p = c->caps; p && *p;) {
		size_t w = strcspn(p, " ");
		if (w == n && strncasecmp(p, cap, n) == 0)
			return true;
		p += w + (p[w] == ' ');
	}
	return false;
}

const char *rimap_tls(const struct rimap *c)
{
	return stream_tls_description(c->s);
}

/* --- Reading --------------------------------------------------------- */

/* The n of a line ending in a literal announcement "{n}" or "{n+}". */
static bool literal_at_end(const char *line, size_t len, size_t *n_r)
{
	if (len < 3 || line[len - 1] != '}')
		return false;
	size_t i = len - 1, n = 0, digits = 0, scale = 1;
	if (line[i - 1] == '+')
		i--;
	while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9' && digits < 9) {
		n += (size_t)(line[--i] - '0') * scale;
		scale *= 10;
		digits++;
	}
	if (digits == 0 || i == 0 || line[i - 1] != '{')
		return false;
	*n_r = n;
	return true;
}

/* Reads one response into c->resp, literals inline. */
static int read_response(struct rimap *c)
{
	buf_reset(&c->resp);
	for (;;) {
		const char *line;
		size_t len, n;
		int r = stream_read_line(c->s, &line, &len);
		if (r < 0)
			return conn_error(c, r);
		trace(c, "S: ", line, len);
		if (buf_append(&c->resp, line, len) < 0)
			return conn_error(c, -EMSGSIZE);
		if (!literal_at_end(line, len, &n))
			return 0;
		if (n > REMOTE_MAX_RESPONSE - c->resp.len || buf_append(&c->resp, "\r\n", 2) < 0)
			return conn_error(c, -EMSGSIZE);
		size_t at = c->resp.len;
		while (n > 0) {
			char chunk[4096];
			size_t k = n < sizeof(chunk) ? n : sizeof(chunk);
			if ((r = stream_read_exact(c->s, chunk, k)) < 0)
				return conn_error(c, r);
			if (buf_append(&c->resp, chunk, k) < 0)
				return conn_error(c, -EMSGSIZE);
			n -= k;
		}
		trace(c, "S: ", c->resp.data + at, c->resp.len - at);
	}
}

/* --- Opening --------------------------------------------------------- */

struct resolve_job {
	const char *host;
	char port[8];
	struct addrinfo *res;
	int rc;
};

/* getaddrinfo() blocks, so it runs on the worker pool. */
static void resolve_work(void *arg)
{
	struct resolve_job *j = arg;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	j->rc = getaddrinfo(j->host, j->port, &hints, &j->res);
}

static int open_socket(const struct remote_opts *o)
{
	struct resolve_job j = { .host = o->host };
	snprintf(j.port, sizeof(j.port), "%u", o->port);
	int r = coro_await_work(resolve_work, &j);
	if (r < 0 || j.rc != 0) {
		remote_fail("cannot resolve %s: %s", o->host,
			    r < 0 ? strerror(-r) : gai_strerror(j.rc));
		return -1;
	}
	int fd = -ENOENT;
	for (struct addrinfo *ai = j.res; ai && fd < 0; ai = ai->ai_next)
		fd = coro_connect(ai->ai_addr, ai->ai_addrlen, coro_deadline_in(CONNECT_TIMEOUT_MS));
	freeaddrinfo(j.res);
	if (fd < 0)
		remote_fail("cannot connect to %s port %u: %s", o->host, o->port, strerror(-fd));
	return fd;
}

static int start_tls(struct rimap *c, const struct remote_opts *o)
{
	const char *err = NULL;
	c->tls = tls_config_new_client(o->ca_file, !o->insecure, &err);
	if (!c->tls)
		return remote_fail("%s", err ? err : "cannot set up TLS"), -1;
	int r = stream_start_tls_client(c->s, c->tls, o->host);
	if (r == 0) {
		if (c->trace)
			fprintf(stderr, "-- %s, certificate %s\n", rimap_tls(c),
				o->insecure ? "NOT verified (--insecure)" : "verified");
		return 0;
	}
	char why[512];
	c->broken = true;
	if (stream_tls_verify_error(c->s, why, sizeof(why))) {
		remote_fail("the certificate of %s cannot be trusted: %s", o->host, why);
		fprintf(stderr, "  (for a test server with a self-signed certificate, "
				"--insecure skips this check)\n");
	} else {
		remote_fail("TLS handshake with %s port %u failed: %s (is it an IMAPS port?)",
			    o->host, o->port, strerror(-r));
	}
	return -1;
}

struct rimap *rimap_open(const struct remote_opts *o)
{
	struct rimap *c = xcalloc(1, sizeof(*c));
	c->trace = o->trace;
	c->resp = (struct buf)BUF_INIT(REMOTE_MAX_RESPONSE);
	c->broken = true;
	int fd = open_socket(o);
	if (fd < 0) {
		rimap_close(&c);
		return NULL;
	}
	c->s = stream_new_socket(fd);
	stream_set_timeout(c->s, REMOTE_TIMEOUT_MS);
	stream_set_max_line(c->s, REMOTE_MAX_LINE);
	if (start_tls(c, o) < 0 || read_response(c) < 0) {
		rimap_close(&c);
		return NULL;
	}
	const char *g = c->resp.data;
	if (strncasecmp(g, "* OK", 4) != 0) {
		remote_fail("unexpected greeting from the server: %.200s", g);
		rimap_close(&c);
		return NULL;
	}
	note_caps(c, g + 2, c->resp.len - 2, true);
	c->broken = false;
	return c;
}

void rimap_close(struct rimap **cp)
{
	struct rimap *c = *cp;
	if (!c)
		return;
	*cp = NULL;
	if (!c->broken) {
		const struct rimap_arg logout = { RA_WORDS, "LOGOUT" };
		rimap_command(c, &logout, 1, NULL, NULL, NULL);
	}
	if (c->s)
		stream_free(&c->s);
	tls_config_unref(&c->tls);
	buf_free(&c->resp);
	free(c->caps);
	free(c);
}

/* --- Commands -------------------------------------------------------- */

static bool quotable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* A quoted string (RFC 9051 "quoted"), escaping '"' and '\'. */
static int put_quoted(struct stream *s, const char *text)
{
	int r = stream_write(s, "\"", 1);
	for (const char *p = text; r == 0 && *p; p++) {
		size_t run = strcspn(p, "\"\\");
		if (run)
			r = stream_write(s, p, run);
		p += run;
		if (r == 0 && *p)
			r = stream_printf(s, "\\%c", *p);
		if (!*p)
			break;
	}
	return r == 0 ? stream_write(s, "\"", 1) : r;
}

/* A synchronizing literal: announce, wait for "+", send. Returns 1 when
 * the server answered the command instead (its reply is in c->resp). */
static int put_literal(struct rimap *c, const char *text, bool secret, struct buf *tr)
{
	size_t len = strlen(text);
	int r = stream_printf(c->s, "{%zu}\r\n", len);
	if (r == 0)
		r = stream_flush(c->s);
	if (secret)
		buf_puts(tr, "{*}");
	else
		buf_printf(tr, "{%zu}", len);
	trace(c, "C: ", tr->data, tr->len);
	buf_reset(tr);
	if (r < 0)
		return conn_error(c, r);
	if (read_response(c) < 0)
		return -1;
	if (c->resp.data[0] != '+')
		return 1;
	buf_puts(tr, secret ? "<password>" : text);
	r = stream_write(c->s, text, len);
	return r < 0 ? conn_error(c, r) : 0;
}

static int put_arg(struct rimap *c, const struct rimap_arg *a, struct buf *tr)
{
	bool secret = a->kind == RA_SECRET;
	if (a->kind == RA_WORDS || (a->kind == RA_NIL_IF_EMPTY && !*a->text)) {
		const char *w = a->kind == RA_WORDS ? a->text : "NIL";
		buf_puts(tr, w);
		int r = stream_puts(c->s, w);
		return r < 0 ? conn_error(c, r) : 0;
	}
	if (!quotable(a->text))
		return put_literal(c, a->text, secret, tr);
	int r = put_quoted(c->s, a->text);
	if (secret)
		buf_puts(tr, "<password>");
	else
		buf_printf(tr, "\"%s\"", a->text);	/* the trace needs no escapes */
	return r < 0 ? conn_error(c, r) : 0;
}

/* Sends "tag args..." CRLF. 1: the server answered early (c->resp). */
static int send_command(struct rimap *c, const char *tag, const struct rimap_arg *args,
			size_t nargs)
{
	struct buf tr = BUF_INIT(0);
	int r = stream_puts(c->s, tag);
	buf_puts(&tr, tag);
	for (size_t i = 0; r == 0 && i < nargs; i++) {
		buf_puts(&tr, " ");
		r = stream_puts(c->s, " ");
		if (r == 0)
			r = put_arg(c, &args[i], &tr);
	}
	if (r == 0) {
		trace(c, "C: ", tr.data, tr.len);
		r = stream_puts(c->s, "\r\n");
		if (r == 0)
			r = stream_flush(c->s);
	}
	buf_free(&tr);
	if (r < 0 && !c->broken)
		return conn_error(c, r);
	return r < 0 ? -1 : r;
}

int rimap_command(struct rimap *c, const struct rimap_arg *args, size_t nargs,
		  rimap_untagged_fn *untagged, void *ctx, char **text_r)
{
	char tag[TAG_MAX];
	if (text_r)
		*text_r = NULL;
	if (c->broken)
		return -1;
	snprintf(tag, sizeof(tag), "r%u", ++c->tags);
	size_t tlen = strlen(tag);
	int r = send_command(c, tag, args, nargs);
	if (r < 0)
		return -1;
	for (;;) {
		if (r == 0 && read_response(c) < 0)
			return -1;
		r = 0;
		const char *d = c->resp.data;
		size_t len = c->resp.len;
		if (len >= 2 && d[0] == '*' && d[1] == ' ') {
			note_caps(c, d + 2, len - 2, true);
			if (untagged)
				untagged(ctx, d + 2, len - 2);
			continue;
		}
		if (len <= tlen || strncmp(d, tag, tlen) != 0 || d[tlen] != ' ') {
			c->broken = true;
			return remote_fail("unexpected line from the server: %.200s", d), -1;
		}
		const char *st = d + tlen + 1;
		size_t slen = strcspn(st, " ");
		const char *text = st[slen] ? st + slen + 1 : "";
		int status = slen == 2 && strncasecmp(st, "OK", 2) == 0	  ? RIMAP_OK
			     : slen == 2 && strncasecmp(st, "NO", 2) == 0 ? RIMAP_NO
									   : RIMAP_BAD;
		if (status == RIMAP_OK)
			note_caps(c, st, strlen(st), false);
		if (text_r)
			*text_r = xstrdup(text);
		return status;
	}
}
