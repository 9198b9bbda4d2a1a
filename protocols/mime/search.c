/* Search text: header values and text/... bodies, decoded, in UTF-8 and case
 * folded, at most a caller-given number of bytes (manual: "Search
 * operations will consider up to 128kB of text. Non-text body parts are
 * ignored for search"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/mime/mime-private.h"

/* Cuts out back to at most max bytes past start, on a character boundary. */
static void clip(struct buf *out, size_t start, size_t max)
{
	if (out->len - start <= max)
		return;
	size_t n = start + max;
	while (n > start && ((uint8_t)out->data[n] & 0xc0) == 0x80)
		n--;
	out->len = n;
	out->data[n] = '\0';
}

struct hdr_search {
	const char *name;
	size_t start, max;
	struct buf *out;
	struct buf tmp;
};

static int fold_append(struct buf *out, const char *s, size_t len, size_t start, size_t max)
{
	int r = mime_text_fold(s, len, out);
	if (r == -EMSGSIZE)
		return -ECANCELED;
	clip(out, start, max);
	return r < 0 ? r : out->len - start >= max ? -ECANCELED : 0;
}

static int on_header(void *ctx, const char *raw, size_t len, uint64_t off)
{
	struct hdr_search *h = ctx;
	size_t nl, vo;
	if (!mime__field_split(raw, len, &nl, &vo))
		return 0;
	if (h->name && !mime__ieq(raw, nl, h->name))
		return 0;
	struct buf val = BUF_INIT(0);
	h->tmp.len = 0;
	if (h->name == NULL) {
		(void)buf_append(&h->tmp, raw, nl);
		(void)buf_append(&h->tmp, ": ", 2);
	}
	mime__unfold(raw + vo, len - vo, &val);
	int r = mime_encword_decode(val.data ? val.data : "", val.len, &h->tmp);
	buf_free(&val);
	if (r == 0)
		r = buf_append(&h->tmp, "\n", 1);
	if (r == 0)
		r = fold_append(h->out, h->tmp.data, h->tmp.len, h->start, h->max);
	return r;
}

int mime_search_header(const struct mime_message *msg, const struct mime_source *src,
		       const char *name, size_t max, struct buf *out)
{
	struct hdr_search h = { name, out->len, max, out, BUF_INIT(0) };
	const struct mime_part *root = msg->root;
	int r = mime__header_walk(src, root->hdr_off, root->hdr_len,
				  mime_default_limits.max_header_line, on_header, &h);
	buf_free(&h.tmp);
	return r == -ECANCELED ? 0 : r;
}

struct body_collect {
	struct buf *raw;
	size_t want;
};

static int collect(void *ctx, const void *data, size_t len)
{
	struct body_collect *c = ctx;
	size_t room = c->want - c->raw->len;
	int r = buf_append(c->raw, data, len < room ? len : room);
	if (r < 0)
		return r;
	return c->raw->len >= c->want ? -ECANCELED : 0;
}

/* One text part: decoded, converted from its charset, folded. */
static int body_text(const struct mime_source *src, const struct mime_part *p, size_t start,
		     size_t max, struct buf *out)
{
	struct buf raw = BUF_INIT(0), utf8 = BUF_INIT(0);
	/* Conversion to UTF-8 can grow text, never past 4 bytes for one. */
	struct body_collect c = { &raw, max - (out->len - start) };
	int r = mime_part_decode(src, p, collect, &c);
	if (r == -ENOTSUP) {
		/* Unknown transfer encoding: search the bytes as they are. */
		raw.len = 0;
		struct mime_part copy = *p;
		copy.encoding = NULL;
		r = mime_part_decode(src, &copy, collect, &c);
	}
	if (r == 0 || r == -ECANCELED) {
		const char *cs = mime_part_param(p, "CHARSET");
		r = mime_charset_to_utf8(cs, raw.data ? raw.data : "", raw.len, &utf8);
		if (r == -ENOENT)
			r = mime_utf8_sanitize(raw.data ? raw.data : "", raw.len, &utf8);
		if (r == 0 && out->len > start)
			r = buf_append(out, "\n", 1);
		if (r == 0)
			r = fold_append(out, utf8.data ? utf8.data : "", utf8.len, start, max);
	}
	buf_free(&raw);
	buf_free(&utf8);
	return r;
}

static int walk(const struct mime_source *src, const struct mime_part *p, size_t start,
		size_t max, struct buf *out)
{
	if (out->len - start >= max)
		return -ECANCELED;
	if (p->flags & MIME_PART_MULTIPART) {
		for (const struct mime_part *c = p->children; c; c = c->next) {
			int r = walk(src, c, start, max, out);
			if (r < 0)
				return r;
		}
		return 0;
	}
	if (p->message)
		return walk(src, p->message, start, max, out);
	if (strcmp(p->type, "TEXT") != 0 || (p->flags & MIME_PART_OPAQUE) || p->body_len == 0)
		return 0;
	return body_text(src, p, start, max, out);
}

int mime_search_body(const struct mime_message *msg, const struct mime_source *src, size_t max,
		     struct buf *out)
{
	int r = walk(src, msg->root, out->len, max, out);
	return r == -ECANCELED ? 0 : r;
}
