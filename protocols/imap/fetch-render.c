/* One message's FETCH response (RFC 9051 7.5.2, RFC 3516 4.2).
 *
 * Two phases. prepare() does everything that depends on the message's
 * content and may fail: the MIME parse, HEADER.FIELDS subsets (kept in
 * ctx->tmp), BINARY decoded sizes and whether the returned bytes hold a NUL
 * (then, and only for BINARY, a literal8 "~{n}" is used, as the manual
 * says). Then write() produces the response; large payloads stream from
 * the source in IMAP_FETCH_CHUNK pieces, so memory stays bounded for a
 * 64 MiB message.
 *
 * Bytes are returned exactly as stored: 8-bit headers, binary parts and
 * bare LF line ends included (manual, "Messages" and "BINARY"). */
#include "protocols/imap/fetch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/util/xmalloc.h"

enum pay_how {
	PAY_NIL,	/* no such part */
	PAY_RANGE,	/* bytes [off, off + len) of the source */
	PAY_TMP,	/* bytes [off, off + len) of ctx->tmp */
	PAY_DECODE,	/* decoded bytes [off, off + len) of part */
	PAY_NUMBER,	/* BINARY.SIZE: the number len */
};

struct imap_fetch_payload {
	enum pay_how how;
	uint64_t off, len;
	const struct mime_part *part;
	bool literal8;
};

void imap_fetch_ctx_init(struct imap_fetch_ctx *ctx, const struct imap_fetch_req *req,
			 struct imap_fetch_sink sink, bool utf8)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->req = req;
	ctx->sink = sink;
	ctx->utf8 = utf8;
	ctx->line = (struct buf)BUF_INIT(0);
	ctx->tmp = (struct buf)BUF_INIT(0);
	if (req->needs_source)
		ctx->chunk = xmalloc(IMAP_FETCH_CHUNK);
	if (req->nsections > 0)
		ctx->pay = xcalloc(req->nsections, sizeof(*ctx->pay));
}

void imap_fetch_ctx_free(struct imap_fetch_ctx *ctx)
{
	buf_free(&ctx->line);
	buf_free(&ctx->tmp);
	free(ctx->chunk);
	free(ctx->pay);
	ctx->chunk = NULL;
	ctx->pay = NULL;
}

/* ---- Phase 1: prepare -------------------------------------------------- */

/* The window a partial request selects from total bytes (RFC 9051 6.4.5:
 * past the end is the empty string). */
static void apply_partial(const struct imap_fetch_section *sec, uint64_t total, uint64_t *off_r,
			  uint64_t *len_r)
{
	uint64_t start = 0, n = total;
	if (sec->partial) {
		start = sec->offset < total ? sec->offset : total;
		n = total - start < sec->length ? total - start : sec->length;
	}
	*off_r = start;
	*len_r = n;
}

/* The part a BINARY section names; NULL for the whole message. */
static const struct mime_part *binary_part(const struct mime_message *tree,
					   const struct imap_fetch_section *sec, bool *missing)
{
	*missing = false;
	if (sec->sec.nparts == 0)
		return NULL;
	const struct mime_part *p = mime_part_by_number(tree, sec->sec.parts, sec->sec.nparts);
	*missing = p == NULL;
	return p;
}

struct decode_scan {
	uint64_t total;		/* decoded bytes so far */
	uint64_t lo, hi;	/* window whose NUL bytes count */
	bool nul;
};

static void scan_nul(struct decode_scan *d, const void *data, size_t len)
{
	uint64_t a = d->total, b = d->total + len;
	if (d->nul || b <= d->lo || a >= d->hi)
		return;
	uint64_t from = a < d->lo ? d->lo - a : 0, to = b > d->hi ? d->hi - a : len;
	d->nul = memchr((const char *)data + from, '\0', (size_t)(to - from)) != NULL;
}

static int decode_count(void *ctx, const void *data, size_t len)
{
	struct decode_scan *d = ctx;
	scan_nul(d, data, len);
	d->total += len;
	return 0;
}

/* Whether source bytes [off, off + len) hold a NUL. */
static int range_has_nul(struct imap_fetch_ctx *ctx, const struct mime_source *src, uint64_t off,
			 uint64_t len, bool *nul_r)
{
	*nul_r = false;
	while (len > 0 && !*nul_r) {
		size_t n = len < IMAP_FETCH_CHUNK ? (size_t)len : IMAP_FETCH_CHUNK;
		ssize_t got = mime_source_read(src, off, ctx->chunk, n);
		if (got < 0)
			return (int)got;
		if ((size_t)got != n)
			return -EIO;
		*nul_r = memchr(ctx->chunk, '\0', n) != NULL;
		off += n;
		len -= n;
	}
	return 0;
}

static int prepare_binary(struct imap_fetch_ctx *ctx, const struct mime_message *tree,
			  const struct mime_source *src, const struct imap_fetch_section *sec,
			  struct imap_fetch_payload *pay)
{
	bool missing;
	const struct mime_part *part = binary_part(tree, sec, &missing);
	if (missing) {
		pay->how = PAY_NIL;
		return 0;
	}
	if (!part) {
		/* BINARY[] is the message as it is: it has no transfer
		 * encoding of its own. */
		apply_partial(sec, src->size, &pay->off, &pay->len);
		if (sec->kind == IMAP_FETCH_BINARY_SIZE) {
			pay->how = PAY_NUMBER;
			pay->len = src->size;
			return 0;
		}
		pay->how = PAY_RANGE;
		return range_has_nul(ctx, src, pay->off, pay->len, &pay->literal8);
	}
	struct decode_scan d = { 0, sec->offset, UINT64_MAX, false };
	if (sec->partial)
		d.hi = sec->offset + sec->length < sec->offset ? UINT64_MAX
							       : sec->offset + sec->length;
	int r = mime_part_decode(src, part, decode_count, &d);
	if (r < 0)
		return r;
	if (sec->kind == IMAP_FETCH_BINARY_SIZE) {
		pay->how = PAY_NUMBER;
		pay->len = d.total;
		return 0;
	}
	pay->how = PAY_DECODE;
	pay->part = part;
	pay->literal8 = d.nul;
	apply_partial(sec, d.total, &pay->off, &pay->len);
	return 0;
}

static int prepare_section(struct imap_fetch_ctx *ctx, const struct mime_message *tree,
			   const struct mime_source *src, const struct imap_fetch_section *sec,
			   struct imap_fetch_payload *pay)
{
	memset(pay, 0, sizeof(*pay));
	if (sec->kind != IMAP_FETCH_SECTION)
		return prepare_binary(ctx, tree, src, sec, pay);
	uint64_t off = 0, len = src->size;
	int r = 0;
	if (tree) {
		size_t before = ctx->tmp.len;
		r = mime_section_fetch(tree, src, &sec->sec, &off, &len, &ctx->tmp);
		if (r == 1) {
			off = before;
			len = ctx->tmp.len - before;
		}
	}
	if (r == -ENOENT) {
		pay->how = PAY_NIL;
		return 0;
	}
	if (r < 0)
		return r;
	pay->how = r == 1 ? PAY_TMP : PAY_RANGE;
	uint64_t start;
	apply_partial(sec, len, &start, &pay->len);
	pay->off = off + start;
	return 0;
}

/* Checks BINARY transfer encodings before anything else (RFC 3516 4.3). */
static int check_cte(const struct imap_fetch_req *req, const struct mime_message *tree)
{
	for (size_t i = 0; i < req->nsections; i++) {
		const struct imap_fetch_section *sec = &req->sections[i];
		bool missing;
		if (sec->kind == IMAP_FETCH_SECTION || !tree)
			continue;
		const struct mime_part *p = binary_part(tree, sec, &missing);
		struct mime_decoder d;
		if (p && mime_decoder_init(&d, p->encoding) == -ENOTSUP)
			return -ENOTSUP;
	}
	return 0;
}

/* *tree_r is the tree to use: m->tree, or one parsed here into *parsed_r
 * for the caller to free. */
static int prepare(struct imap_fetch_ctx *ctx, const struct imap_fetch_msg *m,
		   const struct mime_message **tree_r, struct mime_message **parsed_r)
{
	const struct imap_fetch_req *req = ctx->req;
	ctx->tmp.len = 0;
	*tree_r = NULL;
	*parsed_r = NULL;
	if (!req->needs_source)
		return 0;
	if (!m->src)
		return -EINVAL;
	int r = 0;
	if (m->tree)
		*tree_r = m->tree;
	else if (req->needs_tree && (r = mime_parse(m->src, NULL, parsed_r)) == 0)
		*tree_r = *parsed_r;
	if (r == 0)
		r = check_cte(req, *tree_r);
	for (size_t i = 0; r == 0 && i < req->nsections; i++)
		r = prepare_section(ctx, *tree_r, m->src, &req->sections[i], &ctx->pay[i]);
	return r;
}

/* ---- Phase 2: write ------------------------------------------------------ */

static int sink_write(struct imap_fetch_ctx *ctx, const void *data, size_t len)
{
	ctx->started = true;
	return ctx->sink.write(ctx->sink.ctx, data, len);
}

static int flush_line(struct imap_fetch_ctx *ctx)
{
	if (ctx->line.len == 0)
		return 0;
	int r = sink_write(ctx, ctx->line.data, ctx->line.len);
	ctx->line.len = 0;
	return r;
}

static int write_range(struct imap_fetch_ctx *ctx, const struct mime_source *src, uint64_t off,
		       uint64_t len)
{
	while (len > 0) {
		size_t n = len < IMAP_FETCH_CHUNK ? (size_t)len : IMAP_FETCH_CHUNK;
		ssize_t got = mime_source_read(src, off, ctx->chunk, n);
		if (got < 0)
			return (int)got;
		if ((size_t)got != n)
			return -EIO;	/* the message shrank under us */
		int r = sink_write(ctx, ctx->chunk, n);
		if (r < 0)
			return r;
		off += n;
		len -= n;
	}
	return 0;
}

struct decode_window {
	struct imap_fetch_ctx *ctx;
	uint64_t pos, lo, hi;
};

static int emit_window(void *arg, const void *data, size_t len)
{
	struct decode_window *w = arg;
	uint64_t a = w->pos, b = w->pos + len;
	w->pos = b;
	if (b <= w->lo)
		return 0;
	if (a >= w->hi)
		return -ECANCELED;
	size_t from = a < w->lo ? (size_t)(w->lo - a) : 0;
	size_t to = b > w->hi ? (size_t)(w->hi - a) : len;
	int r = sink_write(w->ctx, (const char *)data + from, to - from);
	return r < 0 ? r : b >= w->hi ? -ECANCELED : 0;
}

static int write_payload(struct imap_fetch_ctx *ctx, const struct imap_fetch_msg *m,
			 const struct imap_fetch_payload *pay)
{
	if (pay->how == PAY_NIL)
		return buf_puts(&ctx->line, "NIL");
	if (pay->how == PAY_NUMBER)
		return buf_printf(&ctx->line, "%" PRIu64, pay->len);
	int r = buf_printf(&ctx->line, "%s{%" PRIu64 "}\r\n", pay->literal8 ? "~" : "", pay->len);
	if (r == 0 && pay->how == PAY_TMP)
		return buf_append(&ctx->line, ctx->tmp.data + pay->off, (size_t)pay->len);
	if (r == 0)
		r = flush_line(ctx);
	if (r < 0 || pay->len == 0)
		return r;
	if (pay->how == PAY_RANGE)
		return write_range(ctx, m->src, pay->off, pay->len);
	struct decode_window w = { ctx, 0, pay->off, pay->off + pay->len };
	r = mime_part_decode(m->src, pay->part, emit_window, &w);
	if (r == -ECANCELED)
		r = 0;
	if (r == 0 && w.pos < w.hi)
		r = -EIO;	/* fewer bytes than the first pass counted */
	return r;
}

static int write_simple(struct imap_fetch_ctx *ctx, const struct imap_fetch_msg *m,
			const struct mime_message *tree, unsigned att)
{
	struct buf *l = &ctx->line;
	const struct meta_fetch_item *meta = m->meta;
	char date[64];
	switch (att) {
	case IMAP_FETCH_UID:
		return buf_printf(l, "UID %u", m->uid);
	case IMAP_FETCH_FLAGS:
		return buf_printf(l, "FLAGS %s", m->flags ? m->flags : "()");
	case IMAP_FETCH_MODSEQ:
		return buf_printf(l, "MODSEQ (%" PRIu64 ")", m->modseq);
	case IMAP_FETCH_INTERNALDATE:
		imap_format_datetime(meta ? meta->internal_date : 0, meta ? meta->internal_tz : 0,
				     date);
		return buf_printf(l, "INTERNALDATE \"%s\"", date);
	case IMAP_FETCH_RFC822_SIZE:
		return buf_printf(l, "RFC822.SIZE %" PRIu64,
				  meta ? meta->size : m->src ? m->src->size : 0);
	case IMAP_FETCH_ENVELOPE:
		(void)buf_puts(l, "ENVELOPE ");
		return mime_write_envelope(l, tree->root->envelope, ctx->utf8);
	case IMAP_FETCH_BODY:
	case IMAP_FETCH_BODYSTRUCTURE:
		(void)buf_puts(l, att == IMAP_FETCH_BODY ? "BODY " : "BODYSTRUCTURE ");
		return mime_write_body(l, tree->root, att == IMAP_FETCH_BODYSTRUCTURE, ctx->utf8);
	case IMAP_FETCH_EMAILID:
		if (!meta || !meta->email_id[0])
			return buf_puts(l, "EMAILID NIL");
		return buf_printf(l, "EMAILID (%s)", meta->email_id);
	case IMAP_FETCH_THREADID:
		return buf_puts(l, "THREADID NIL");	/* no threads (manual, OBJECTID) */
	case IMAP_FETCH_SAVEDATE:
		if (!meta || meta->save_date <= 0)
			return buf_puts(l, "SAVEDATE NIL");
		imap_format_datetime(meta->save_date, 0, date);
		return buf_printf(l, "SAVEDATE \"%s\"", date);
	default:
		return -EINVAL;
	}
}

static int write_response(struct imap_fetch_ctx *ctx, const struct imap_fetch_msg *m,
			  const struct mime_message *tree)
{
	const struct imap_fetch_req *req = ctx->req;
	unsigned atts = req->atts | m->add_atts;
	const char *sep = "";
	int r = buf_printf(&ctx->line, "* %u FETCH (", m->seq);
	for (unsigned att = 1; r == 0 && att <= IMAP_FETCH_SAVEDATE; att <<= 1) {
		if (!(atts & att))
			continue;
		r = buf_puts(&ctx->line, sep);
		if (r == 0)
			r = write_simple(ctx, m, tree, att);
		sep = " ";
	}
	for (size_t i = 0; r == 0 && i < req->nsections; i++) {
		const struct imap_fetch_section *sec = &req->sections[i];
		r = buf_printf(&ctx->line, "%s%s", sep, sec->name);
		if (r == 0 && sec->partial)
			r = buf_printf(&ctx->line, "<%" PRIu64 ">", sec->offset);
		if (r == 0)
			r = buf_puts(&ctx->line, " ");
		if (r == 0)
			r = write_payload(ctx, m, &ctx->pay[i]);
		sep = " ";
	}
	if (r == 0)
		r = buf_puts(&ctx->line, ")\r\n");
	if (r == 0)
		r = flush_line(ctx);
	return r;
}

int imap_fetch_render(struct imap_fetch_ctx *ctx, const struct imap_fetch_msg *m)
{
	const struct mime_message *tree;
	struct mime_message *parsed;
	ctx->started = false;
	ctx->line.len = 0;
	int r = prepare(ctx, m, &tree, &parsed);
	if (r == 0)
		r = write_response(ctx, m, tree);
	mime_message_free(&parsed);
	ctx->line.len = 0;
	return r;
}
