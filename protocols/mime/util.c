/* The plumbing of the MIME layer: byte sources, the reader window the
 * parser streams through, the arena a tree lives in, and small text
 * helpers (UTF-8, base64, case-insensitive compare). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/mime/mime-private.h"
#include "src/util/limits.h"
#include "src/util/xmalloc.h"

const struct mime_limits mime_default_limits = {
	.max_depth = SEAL_MAX_MIME_DEPTH,
	.max_parts = SEAL_MAX_MIME_PARTS,
	.max_header_line = SEAL_MAX_LINE,
	.max_header_block = SEAL_MAX_HEADER_BLOCK,
	.max_strings = 8 * 1024 * 1024,
};

/* ---- Sources ------------------------------------------------------------- */

struct mime_source mime_source_memory(const void *data, size_t len)
{
	struct mime_source s = { .read = NULL, .ctx = NULL, .data = data, .size = len };
	return s;
}

ssize_t mime_source_read(const struct mime_source *src, uint64_t offset, void *buf, size_t len)
{
	if (offset >= src->size)
		return 0;
	if (len > src->size - offset)
		len = (size_t)(src->size - offset);
	if (src->read == NULL) {
		memcpy(buf, (const uint8_t *)src->data + offset, len);
		return (ssize_t)len;
	}
	size_t got = 0;
	while (got < len) {
		ssize_t n = src->read(src->ctx, offset + got, (uint8_t *)buf + got, len - got);
		if (n < 0)
			return n;
		if (n == 0 || (size_t)n > len - got)
			return -EIO;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* ---- Arena --------------------------------------------------------------- */

struct mime__chunk {
	struct mime__chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct mime__arena {
	struct mime__chunk *chunks;
	size_t strings, max_strings;
};

#define CHUNK_SIZE 16384

struct mime__arena *mime__arena_new(size_t max_strings)
{
	struct mime__arena *a = xcalloc(1, sizeof(*a));
	a->max_strings = max_strings;
	return a;
}

void mime__arena_free(struct mime__arena **ap)
{
	struct mime__arena *a = *ap;
	if (a == NULL)
		return;
	while (a->chunks) {
		struct mime__chunk *c = a->chunks;
		a->chunks = c->next;
		free(c);
	}
	free(a);
	*ap = NULL;
}

void *mime__alloc(struct mime__arena *a, size_t size)
{
	const size_t align = sizeof(max_align_t);
	size = (size + align - 1) / align * align;
	struct mime__chunk *c = a->chunks;
	if (c == NULL || size > c->cap - c->used) {
		size_t cap = size > CHUNK_SIZE ? size : CHUNK_SIZE;
		c = xmalloc(sizeof(*c) + cap);
		c->used = 0;
		c->cap = cap;
		/* A big allocation gets its own chunk behind the current one,
		 * so the space left in the current one is not lost. */
		if (size > CHUNK_SIZE && a->chunks) {
			c->next = a->chunks->next;
			a->chunks->next = c;
		} else {
			c->next = a->chunks;
			a->chunks = c;
		}
	}
	void *p = (uint8_t *)c->data + c->used;
	c->used += size;
	memset(p, 0, size);
	return p;
}

char *mime__strndup(struct mime__arena *a, const char *s, size_t len)
{
	if (len + 1 > a->max_strings - a->strings)
		return NULL;
	a->strings += len + 1;
	char *d = mime__alloc(a, len + 1);
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

/* ---- Reader -------------------------------------------------------------- */

void mime__reader_init(struct mime__reader *r, const struct mime_source *src, uint64_t pos)
{
	r->src = src;
	r->pos = pos;
	r->lf_count = 0;
	r->win_off = pos;
	r->win_len = 0;
	r->error = 0;
}

const uint8_t *mime__reader_peek(struct mime__reader *r, size_t want, size_t *avail_r)
{
	if (want > MIME__READER_BUF)
		want = MIME__READER_BUF;
	size_t have = (size_t)(r->win_off + r->win_len - r->pos);
	if (have < want && r->error == 0 && r->win_off + r->win_len < r->src->size) {
		/* Slide what is left to the front, then read behind it. */
		memmove(r->win, r->win + (r->pos - r->win_off), have);
		r->win_off = r->pos;
		r->win_len = have;
		while (r->win_len < want) {
			uint64_t at = r->win_off + r->win_len;
			size_t room = MIME__READER_BUF - r->win_len;
			if (at >= r->src->size)
				break;
			if (room > r->src->size - at)
				room = (size_t)(r->src->size - at);
			ssize_t n;
			if (r->src->read == NULL) {
				memcpy(r->win + r->win_len, (const uint8_t *)r->src->data + at, room);
				n = (ssize_t)room;
			} else {
				n = r->src->read(r->src->ctx, at, r->win + r->win_len, room);
			}
			if (n <= 0 || (size_t)n > room) {
				r->error = n < 0 ? (int)n : -EIO;
				break;
			}
			r->win_len += (size_t)n;
		}
		have = r->win_len;
	}
	*avail_r = have;
	return r->win + (r->pos - r->win_off);
}

void mime__reader_skip(struct mime__reader *r, size_t n)
{
	const uint8_t *p = r->win + (r->pos - r->win_off), *end = p + n;
	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		r->lf_count++;
		p++;
	}
	r->pos += n;
}

bool mime__reader_line_peek(struct mime__reader *r, struct mime__line *l)
{
	size_t avail;
	const uint8_t *p = mime__reader_peek(r, MIME__PREFIX_MAX, &avail);
	if (avail == 0)
		return false;
	if (avail > MIME__PREFIX_MAX)
		avail = MIME__PREFIX_MAX;
	const uint8_t *lf = memchr(p, '\n', avail);
	l->start = r->pos;
	l->prefix_len = lf ? (size_t)(lf - p) : avail;
	memcpy(l->prefix, p, l->prefix_len);
	return true;
}

void mime__reader_line(struct mime__reader *r, struct mime__line *l, struct buf *copy,
		       bool *overflow_r)
{
	uint64_t total = 0;
	uint8_t last = 0;
	l->start = r->pos;
	l->eol_len = 0;
	for (;;) {
		size_t avail;
		const uint8_t *p = mime__reader_peek(r, MIME__READER_BUF, &avail);
		if (avail == 0)
			break;
		const uint8_t *lf = memchr(p, '\n', avail);
		size_t chunk = lf ? (size_t)(lf - p) + 1 : avail;
		if (copy && !*overflow_r && buf_append(copy, p, chunk) < 0)
			*overflow_r = true;
		if (lf) {
			bool cr = lf > p ? lf[-1] == '\r' : last == '\r';
			l->eol_len = cr ? 2 : 1;
		} else {
			last = p[chunk - 1];
		}
		total += chunk;
		mime__reader_skip(r, chunk);
		if (lf)
			break;
	}
	l->content_len = total - l->eol_len;
}

/* ---- Text helpers ---------------------------------------------------------- */

bool mime__ieq(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	return alen == blen && strncasecmp(a, b, alen) == 0;
}

size_t mime__utf8_decode(const uint8_t *s, size_t len, uint32_t *cp_r)
{
	if (len == 0)
		return 0;
	uint8_t c = s[0];
	if (c < 0x80) {
		*cp_r = c;
		return 1;
	}
	size_t n;
	uint32_t cp, min;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2, cp = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3, cp = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cp_r = cp;
	return n;
}

int mime__utf8_put(struct buf *out, uint32_t cp)
{
	uint8_t b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (uint8_t)cp, n = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | cp >> 6), b[1] = (uint8_t)(0x80 | (cp & 0x3f)), n = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | cp >> 12), b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f)), n = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | cp >> 18), b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)), b[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_append(out, b, n);
}

int mime__b64_value(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int mime__b64_encode(const uint8_t *in, size_t len, struct buf *out)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		char q[4] = { alphabet[v >> 18], alphabet[(v >> 12) & 63],
			      i + 1 < len ? alphabet[(v >> 6) & 63] : '=',
			      i + 2 < len ? alphabet[v & 63] : '=' };
		int r = buf_append(out, q, 4);
		if (r < 0)
			return r;
	}
	return 0;
}
