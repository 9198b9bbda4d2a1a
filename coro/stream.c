/* The buffered top of a stream: line reader, exact reader and write buffer
 * over a chain of layers (socket, TLS, DEFLATE).
 *
 * Memory is the point of most choices here. A server holds one stream per
 * session and most sessions are idle, blocked in stream_read_line(). So
 * neither buffer outlives its use: the read buffer is freed as soon as it
 * is drained and a read that starts empty lands in a small bounce buffer on
 * the coroutine stack first; the write buffer is freed by every flush.
 * Both hold plaintext (passwords in LOGIN lines, mail), so every copy is
 * wiped before its memory goes back to the allocator.
 */
#include "coro/stream-internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coro/coro.h"
#include "src/util/xmalloc.h"

#define STREAM_DEFAULT_TIMEOUT_MS (5 * 60 * 1000)
#define STREAM_DEFAULT_MAX_LINE (64 * 1024)
/* A read that starts with an empty buffer lands here first. Commands of
 * line protocols are mostly shorter (SMTP caps them at 512, RFC 5321
 * section 4.5.3.1.4), so most of them never need a larger buffer. */
#define STREAM_BOUNCE 512

static void wipe_free(void *p, size_t n)
{
	if (p)
		explicit_bzero(p, n);
	free(p);
}

/* realloc that leaves no copy of the old bytes behind. */
static void *wipe_resize(void *p, size_t old_cap, size_t keep, size_t new_cap)
{
	void *q = xmalloc(new_cap);
	if (keep)
		memcpy(q, p, keep);
	wipe_free(p, old_cap);
	return q;
}

struct stream *stream_new_socket(int fd)
{
	struct stream *s = xcalloc(1, sizeof(*s));
	s->top = stream__socket_new(fd, &s->error);
	s->max_line = STREAM_DEFAULT_MAX_LINE;
	s->timeout_ms = STREAM_DEFAULT_TIMEOUT_MS;
	return s;
}

void stream_free(struct stream **sp)
{
	struct stream *s = *sp;
	if (!s)
		return;
	struct stream_layer *l = s->top;
	while (l) {
		struct stream_layer *below = l->below;
		l->ops->destroy(l);
		l = below;
	}
	wipe_free(s->rbuf, s->rcap);
	wipe_free(s->wbuf, s->wcap);
	free(s);
	*sp = NULL;
}

/* 32 bits hold 49 days; anything longer means no timeout at all. */
void stream_set_timeout(struct stream *s, uint64_t ms)
{
	s->timeout_ms = ms >= UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

void stream_set_max_line(struct stream *s, size_t max)
{
	if (max < 2)
		max = 2;
	s->max_line = max > STREAM_MAX_LINE_LIMIT ? STREAM_MAX_LINE_LIMIT : (uint32_t)max;
}

int stream__fail(struct stream *s, int err)
{
	if (err != -EMSGSIZE && err != -EINTR && !s->error)
		s->error = err;
	return err;
}

int64_t stream__deadline(const struct stream *s)
{
	if (s->timeout_ms == UINT32_MAX)
		return CORO_NO_DEADLINE;
	return coro_deadline_in(s->timeout_ms);
}

/* --- Reading ------------------------------------------------------------ */

static void stream_rbuf_free(struct stream *s)
{
	wipe_free(s->rbuf, s->rcap);
	s->rbuf = NULL;
	s->rpos = s->rlen = s->rcap = s->scanned = 0;
}

/* Called at the start of each read: the previous line is no longer
 * referenced, so a drained buffer can go and one that grew for a long line
 * can shrink back. */
static void stream_rbuf_tidy(struct stream *s)
{
	uint32_t avail = s->rlen - s->rpos;
	if (avail == 0) {
		stream_rbuf_free(s);
		return;
	}
	if (s->rcap <= STREAM_RBUF_MIN || avail > s->rcap / 4)
		return;
	memmove(s->rbuf, s->rbuf + s->rpos, avail);
	uint32_t cap = avail > STREAM_RBUF_MIN ? avail : STREAM_RBUF_MIN;
	s->rbuf = wipe_resize(s->rbuf, s->rcap, avail, cap);
	s->rpos = 0;
	s->rlen = avail;
	s->rcap = cap;
}

/* The result of a layer read: bytes, 0 at end of stream, or an error.
 * A timeout while waiting for input leaves the layers consistent and the
 * write side untouched, so only reading is broken: the server can still
 * answer "* BYE Autologout" (RFC 9051 section 7.1.5) or "421" (RFC 5321
 * section 4.5.3.2). */
static ssize_t stream_read_result(struct stream *s, ssize_t n)
{
	if (n == 0)
		s->eof = true;
	else if (n == -ETIMEDOUT && !s->error)
		s->read_error = -ETIMEDOUT;
	else if (n < 0)
		stream__fail(s, (int)n);
	return n;
}

/* The sticky error a read call must repeat, or 0. */
static int stream_read_check(const struct stream *s)
{
	return s->error ? s->error : s->read_error;
}

/* Reads more into the read buffer. Returns the byte count, 0 at end of
 * stream, or a negative error. */
static ssize_t stream_fill(struct stream *s, int64_t deadline)
{
	if (s->eof)
		return 0;
	if (s->rpos == s->rlen)
		stream_rbuf_free(s);
	if (!s->rbuf) {
		char bounce[STREAM_BOUNCE];
		ssize_t n = s->top->ops->read(s->top, bounce, sizeof(bounce), deadline);
		if (n <= 0)
			return stream_read_result(s, n);
		/* A full bounce means more is on its way: start at the usual
		 * size rather than growing by small steps. */
		s->rcap = (size_t)n == sizeof(bounce) ? STREAM_RBUF_MIN : (uint32_t)n;
		s->rbuf = xmalloc(s->rcap);
		memcpy(s->rbuf, bounce, (size_t)n);
		explicit_bzero(bounce, (size_t)n);
		s->rlen = (uint32_t)n;
		return n;
	}
	if (s->rlen == s->rcap) {
		if (s->rpos > 0) {
			memmove(s->rbuf, s->rbuf + s->rpos, s->rlen - s->rpos);
			s->rlen -= s->rpos;
			s->rpos = 0;
		} else {
			/* Only a line shorter than max_line gets here
			 * (stream_scan_line refuses longer ones first), so
			 * the buffer never grows past max_line. */
			uint32_t cap = s->rcap * 2;
			if (cap < STREAM_RBUF_MIN)
				cap = STREAM_RBUF_MIN;
			if (cap > s->max_line && s->max_line > s->rcap)
				cap = s->max_line;
			s->rbuf = wipe_resize(s->rbuf, s->rcap, s->rlen, cap);
			s->rcap = cap;
		}
	}
	ssize_t n = s->top->ops->read(s->top, s->rbuf + s->rlen, s->rcap - s->rlen, deadline);
	if (n > 0)
		s->rlen += (uint32_t)n;
	return stream_read_result(s, n);
}

/* Hands out the line ending at lf and NUL-terminates it in place, over its
 * CR or LF, so no extra byte is needed. */
static void stream_take_line(struct stream *s, char *lf, const char **line_r,
			     size_t *len_r)
{
	char *start = s->rbuf + s->rpos;
	size_t len = (size_t)(lf - start);
	s->last_crlf = len > 0 && start[len - 1] == '\r';
	if (s->last_crlf)
		len--;
	start[len] = '\0';
	s->rpos += (uint32_t)(lf - start) + 1;
	s->scanned = 0;
	*line_r = start;
	*len_r = len;
}

/* Looks for the end of the line in what is buffered. Returns 1 with a line,
 * 0 when more input is needed, -EMSGSIZE for a line over the limit. */
static int stream_scan_line(struct stream *s, const char **line_r, size_t *len_r)
{
	uint32_t avail = s->rlen - s->rpos;
	if (avail == 0)
		return 0;
	char *start = s->rbuf + s->rpos;
	char *lf = NULL;
	if (avail > s->scanned)
		lf = memchr(start + s->scanned, '\n', avail - s->scanned);
	if (s->skip_line) {
		/* The rest of an over-long line: drop it up to its LF. */
		s->rpos = lf ? s->rpos + (uint32_t)(lf - start) + 1 : s->rlen;
		s->scanned = 0;
		s->skip_line = !lf;
		return lf ? stream_scan_line(s, line_r, len_r) : 0;
	}
	if (lf && (size_t)(lf - start) < s->max_line) {
		stream_take_line(s, lf, line_r, len_r);
		return 1;
	}
	if (lf) {
		s->rpos += (uint32_t)(lf - start) + 1;
		s->scanned = 0;
		return -EMSGSIZE;
	}
	if (avail >= s->max_line) {
		s->skip_line = true;
		s->rpos = s->rlen;
		s->scanned = 0;
		return -EMSGSIZE;
	}
	s->scanned = avail;
	return 0;
}

int stream_read_line(struct stream *s, const char **line_r, size_t *len_r)
{
	int err = stream_read_check(s);
	if (err)
		return err;
	int64_t deadline = stream__deadline(s);
	stream_rbuf_tidy(s);
	for (;;) {
		int r = stream_scan_line(s, line_r, len_r);
		if (r != 0)
			return r > 0 ? 0 : r;
		ssize_t n = stream_fill(s, deadline);
		if (n < 0)
			return (int)n;
		if (n == 0) {
			/* Whether or not a partial line is buffered, the
			 * peer closed before a complete line. */
			return -EPIPE;
		}
	}
}

bool stream_last_line_crlf(const struct stream *s)
{
	return s->last_crlf;
}

/* Copies buffered bytes out; frees the buffer once drained. */
static size_t stream_take_buffered(struct stream *s, void *buf, size_t len)
{
	size_t avail = s->rlen - s->rpos;
	if (len > avail)
		len = avail;
	if (len) {
		memcpy(buf, s->rbuf + s->rpos, len);
		s->rpos += (uint32_t)len;
		s->scanned = 0;
	}
	if (s->rpos == s->rlen)
		stream_rbuf_free(s);
	return len;
}

int stream_read_exact(struct stream *s, void *buf, size_t len)
{
	int err = stream_read_check(s);
	if (err)
		return err;
	int64_t deadline = stream__deadline(s);
	/* Raw bytes end the discarding of an over-long line: the caller has
	 * decided what they are. */
	s->skip_line = false;
	size_t done = stream_take_buffered(s, buf, len);
	bool interrupted = false;
	int r = 0;
	while (done < len && r == 0) {
		if (s->eof) {
			r = -EPIPE;
			break;
		}
		/* Straight into the caller's memory: a literal never passes
		 * through (or grows) the read buffer. */
		ssize_t n = s->top->ops->read(s->top, (char *)buf + done, len - done, deadline);
		if (n == -EINTR && done > 0) {
			/* Bytes of this read are already in the caller's
			 * buffer and cannot be given back: finish, and hand
			 * the interrupt on to the next read that waits. */
			interrupted = true;
			continue;
		}
		if (stream_read_result(s, n) > 0)
			done += (size_t)n;
		else
			r = n == 0 ? -EPIPE : (int)n;
	}
	if (interrupted)
		coro_interrupt(coro_current());
	return r;
}

ssize_t stream_read_some(struct stream *s, void *buf, size_t len)
{
	int err = stream_read_check(s);
	if (err)
		return err;
	s->skip_line = false;
	if (len == 0)
		return 0;
	if (s->rlen > s->rpos)
		return (ssize_t)stream_take_buffered(s, buf, len);
	stream_rbuf_free(s);
	if (s->eof)
		return 0;
	int64_t deadline = stream__deadline(s);
	return stream_read_result(s, s->top->ops->read(s->top, buf, len, deadline));
}

size_t stream_buffered(const struct stream *s)
{
	return s->rlen - s->rpos;
}

/* --- Writing ------------------------------------------------------------ */

static int stream_send(struct stream *s, const void *buf, size_t len, int64_t deadline)
{
	int r = s->top->ops->write(s->top, buf, len, deadline);
	return r < 0 ? stream__fail(s, r) : 0;
}

static int stream_send_wbuf(struct stream *s, int64_t deadline)
{
	if (s->wlen == 0)
		return 0;
	int r = stream_send(s, s->wbuf, s->wlen, deadline);
	s->wlen = 0;
	return r;
}

static void stream_wbuf_append(struct stream *s, const void *buf, size_t len)
{
	if (len > s->wcap - s->wlen) {
		/* Grow by doubling from 1 KiB: replies are mostly short. */
		uint32_t cap = s->wcap ? s->wcap : 1024;
		while (cap < s->wlen + len)
			cap *= 2;
		if (cap > STREAM_WBUF_CAP)
			cap = STREAM_WBUF_CAP;
		s->wbuf = wipe_resize(s->wbuf, s->wcap, s->wlen, cap);
		s->wcap = cap;
	}
	memcpy(s->wbuf + s->wlen, buf, len);
	s->wlen += (uint32_t)len;
}

int stream_write(struct stream *s, const void *buf, size_t len)
{
	if (s->error)
		return s->error;
	const char *p = buf;
	int64_t deadline = stream__deadline(s);
	while (len > 0) {
		/* A large write with nothing buffered goes down directly:
		 * copying it through the buffer would gain nothing. */
		if (s->wlen == 0 && len >= STREAM_WBUF_CAP)
			return stream_send(s, p, len, deadline);
		size_t n = STREAM_WBUF_CAP - s->wlen;
		if (n > len)
			n = len;
		stream_wbuf_append(s, p, n);
		p += n;
		len -= n;
		/* A full buffer goes out now, waiting for the peer if it
		 * has to: that wait is the backpressure. */
		if (s->wlen == STREAM_WBUF_CAP) {
			int r = stream_send_wbuf(s, deadline);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int stream_puts(struct stream *s, const char *str)
{
	return stream_write(s, str, strlen(str));
}

int stream_printf(struct stream *s, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return stream_write(s, small, (size_t)n);
	char *big = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int r = stream_write(s, big, (size_t)n);
	free(big);
	return r;
}

int stream__flush(struct stream *s, int64_t deadline)
{
	int r = stream_send_wbuf(s, deadline);
	for (struct stream_layer *l = s->top; l && r == 0; l = l->below) {
		if (l->ops->flush)
			r = l->ops->flush(l, deadline);
	}
	wipe_free(s->wbuf, s->wcap);
	s->wbuf = NULL;
	s->wcap = 0;
	return r < 0 ? stream__fail(s, r) : 0;
}

int stream_flush(struct stream *s)
{
	if (s->error)
		return s->error;
	return stream__flush(s, stream__deadline(s));
}

int stream_shutdown(struct stream *s)
{
	if (s->error)
		return s->error;
	int64_t deadline = stream__deadline(s);
	int r = stream__flush(s, deadline);
	for (struct stream_layer *l = s->top; l && r == 0; l = l->below) {
		if (l->ops->shutdown)
			r = l->ops->shutdown(l, deadline);
	}
	return r < 0 ? stream__fail(s, r) : 0;
}

bool stream_is_tls(const struct stream *s)
{
	return s->tls_desc != NULL;
}

const char *stream_tls_description(const struct stream *s)
{
	return s->tls_desc ? s->tls_desc : "";
}

bool stream_is_compressed(const struct stream *s)
{
	return s->compressed;
}
