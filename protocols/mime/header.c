/* Header fields: reading a header block field by field from the reader
 * (folded lines joined, byte-exact), unfolding values (RFC 5322 2.2.3), and
 * the RFC 822 / RFC 2045 lexer that structured values are parsed with. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/mime/mime-private.h"
#include "src/util/xmalloc.h"

static bool is_wsp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

bool mime__field_split(const char *raw, size_t len, size_t *name_len_r, size_t *value_off_r)
{
	const char *colon = memchr(raw, ':', len);
	if (colon == NULL)
		return false;
	size_t n = (size_t)(colon - raw);
	/* obs-optional (RFC 5322 4.5.8): whitespace before the colon. */
	while (n > 0 && is_wsp((uint8_t)raw[n - 1]))
		n--;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)raw[i];
		if (c <= ' ' || c >= 127)
			return false;
	}
	*name_len_r = n;
	*value_off_r = (size_t)(colon - raw) + 1;
	return true;
}

void mime__unfold(const char *v, size_t len, struct buf *out)
{
	size_t start = out->len, run = 0;
	/* The caller sized out for the whole field. Bytes are copied in runs
	 * between the ones dropped. */
	for (size_t i = 0; i < len; i++) {
		char c = v[i];
		if (c != '\n' && c != '\0' && (c != '\r' || (i + 1 < len && v[i + 1] != '\n')))
			continue;
		if (i > run)
			(void)buf_append(out, v + run, i - run);
		run = i + 1;
	}
	if (len > run)
		(void)buf_append(out, v + run, len - run);
	/* Trim outer whitespace of what was appended. */
	size_t s = start, e = out->len;
	while (s < e && is_wsp((uint8_t)out->data[s]))
		s++;
	while (e > s && is_wsp((uint8_t)out->data[e - 1]))
		e--;
	if (out->data) {
		memmove(out->data + start, out->data + s, e - s);
		out->len = start + (e - s);
		out->data[out->len] = '\0';
	}
}

/* ---- Field scanner ------------------------------------------------------- */

/* Hands a complete field over, unless it is too long or the fields
 * processed so far fill the block limit (skipped lines do not count: a
 * huge line is dropped alone). */
static int flush_field(struct mime__hdr_scan *s, uint64_t *field_off, bool *overflow)
{
	int r = 0;
	if (s->fb->len > 0 && !*overflow && s->processed < s->max_block) {
		s->processed += s->fb->len;
		r = s->field(s->ctx, s->fb->data, s->fb->len, *field_off);
	}
	s->fb->len = 0;
	*overflow = false;
	return r;
}

int mime__header_scan(struct mime__hdr_scan *s)
{
	struct mime__reader *r = s->r;
	struct mime__line l;
	uint64_t field_off = r->pos;
	bool overflow = false;
	int ret = 0;

	s->hdr_off = r->pos;
	s->processed = 0;
	s->blank = false;
	s->fb->len = 0;
	while (r->pos < s->end && mime__reader_line_peek(r, &l)) {
		if (s->stop_line && s->stop_line(s->ctx, &l))
			break;
		bool cont = l.prefix_len > 0 && is_wsp(l.prefix[0]) && s->fb->len > 0;
		if (!cont) {
			ret = flush_field(s, &field_off, &overflow);
			if (ret < 0)
				return ret;
			field_off = l.start;
		}
		mime__reader_line(r, &l, s->fb, &overflow);
		s->last_eol = l.eol_len;
		s->last_content = l.content_len;
		if (l.content_len == 0 && !cont) {
			/* The blank line: it is not a field. */
			s->fb->len = 0;
			s->blank = l.eol_len > 0;
			break;
		}
	}
	if (r->error)
		return r->error;
	return flush_field(s, &field_off, &overflow);
}

struct walk_ctx {
	int (*fn)(void *ctx, const char *raw, size_t len, uint64_t off);
	void *ctx;
};

static int walk_field(void *ctx, const char *raw, size_t len, uint64_t off)
{
	struct walk_ctx *w = ctx;
	return w->fn(w->ctx, raw, len, off);
}

int mime__header_walk(const struct mime_source *src, uint64_t hdr_off, uint64_t hdr_len,
		      size_t max_line,
		      int (*fn)(void *ctx, const char *raw, size_t len, uint64_t off), void *ctx)
{
	struct mime__reader *r = xmalloc(sizeof(*r));
	struct buf fb = BUF_INIT(max_line);
	struct walk_ctx w = { fn, ctx };
	struct mime__hdr_scan s = {
		.r = r, .end = hdr_off + hdr_len, .max_block = UINT64_MAX,
		.field = walk_field, .ctx = &w, .fb = &fb,
	};
	mime__reader_init(r, src, hdr_off);
	int ret = mime__header_scan(&s);
	buf_free(&fb);
	free(r);
	return ret;
}

/* ---- Lexer --------------------------------------------------------------- */

void mime__lex_init(struct mime__lex *lx, const char *s, size_t len)
{
	lx->p = s;
	lx->end = s + len;
	lx->comment = NULL;
	lx->comment_len = 0;
}

static void lex_comment(struct mime__lex *lx)
{
	const char *start = ++lx->p;
	unsigned depth = 1;
	while (lx->p < lx->end) {
		char c = *lx->p;
		if (c == '\\' && lx->p + 1 < lx->end) {
			lx->p += 2;
			continue;
		}
		lx->p++;
		if (c == '(') {
			depth++;
		} else if (c == ')' && --depth == 0) {
			lx->comment = start;
			lx->comment_len = (size_t)(lx->p - 1 - start);
			return;
		}
	}
	/* Unterminated: the comment runs to the end. */
	lx->comment = start;
	lx->comment_len = (size_t)(lx->end - start);
}

void mime__lex_cfws(struct mime__lex *lx)
{
	while (lx->p < lx->end) {
		char c = *lx->p;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			lx->p++;
		else if (c == '(')
			lex_comment(lx);
		else
			break;
	}
}

size_t mime__lex_token(struct mime__lex *lx, const char *specials, bool allow8)
{
	const char *p = lx->p;
	while (p < lx->end) {
		uint8_t c = (uint8_t)*p;
		if (c <= ' ' || c == 127 || (c >= 128 && !allow8) || (c < 128 && strchr(specials, c)))
			break;
		p++;
	}
	return (size_t)(p - lx->p);
}

void mime__lex_quoted(struct mime__lex *lx, struct buf *out)
{
	lx->p++;
	while (lx->p < lx->end) {
		char c = *lx->p++;
		if (c == '"')
			return;
		if (c == '\\' && lx->p < lx->end)
			c = *lx->p++;
		(void)buf_append(out, &c, 1);
	}
}

static void skip_to_semicolon(struct mime__lex *lx)
{
	while (lx->p < lx->end && *lx->p != ';') {
		if (*lx->p == '"') {
			struct buf junk = BUF_INIT(0);
			mime__lex_quoted(lx, &junk);
			buf_free(&junk);
		} else if (*lx->p == '(') {
			lex_comment(lx);
		} else {
			lx->p++;
		}
	}
}

/* A lenient unquoted value: anything up to ';', whitespace, a comment or
 * a quote, so that unquoted encoded words and paths survive. */
static size_t lex_loose_value(struct mime__lex *lx)
{
	const char *p = lx->p;
	while (p < lx->end && *p != ';' && *p != '(' && *p != '"' && (uint8_t)*p > ' ' &&
	       *p != 127)
		p++;
	return (size_t)(p - lx->p);
}

static bool param_seen(const struct mime_param *v, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (mime__ieq(name, len, v[i].name))
			return true;
	return false;
}

void mime__params_parse(struct mime__arena *a, struct mime__lex *lx, const struct mime_param **r,
			size_t *n_r)
{
	struct mime_param *v = NULL;
	size_t n = 0, cap = 0;
	struct buf val = BUF_INIT(0);

	for (;;) {
		mime__lex_cfws(lx);
		if (lx->p >= lx->end)
			break;
		if (*lx->p != ';') {
			skip_to_semicolon(lx);
			continue;
		}
		lx->p++;
		mime__lex_cfws(lx);
		const char *name = lx->p;
		size_t name_len = mime__lex_token(lx, MIME__TSPECIALS, false);
		lx->p += name_len;
		mime__lex_cfws(lx);
		if (name_len == 0 || lx->p >= lx->end || *lx->p != '=') {
			skip_to_semicolon(lx);
			continue;
		}
		lx->p++;
		mime__lex_cfws(lx);
		val.len = 0;
		if (lx->p < lx->end && *lx->p == '"') {
			mime__lex_quoted(lx, &val);
		} else {
			size_t vl = lex_loose_value(lx);
			(void)buf_append(&val, lx->p, vl);
			lx->p += vl;
		}
		if (param_seen(v, n, name, name_len))
			continue;
		char *nm = mime__strndup(a, name, name_len);
		char *vv = mime__strndup(a, val.data ? val.data : "", val.len);
		if (nm == NULL || vv == NULL)
			continue;
		for (char *c = nm; *c; c++)
			*c = (char)toupper((uint8_t)*c);
		if (n == cap) {
			cap = cap ? cap * 2 : 4;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n].name = nm;
		v[n].value = vv;
		n++;
	}
	buf_free(&val);
	*r = NULL;
	*n_r = n;
	if (n > 0) {
		struct mime_param *copy = mime__alloc(a, n * sizeof(*copy));
		memcpy(copy, v, n * sizeof(*copy));
		*r = copy;
	}
	free(v);
}
