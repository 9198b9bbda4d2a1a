/* Content-Transfer-Encoding decoders (RFC 2045 6.7 quoted-printable, 6.8
 * base64), streaming: state carries over between calls, so any split of
 * the input decodes the same, and memory stays bounded (a run of trailing
 * whitespace is held back at most MIME_DECODE_MARGIN - 8 bytes). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/mime/mime-private.h"
#include "src/util/xmalloc.h"

enum qp_state {
	QP_TEXT,	/* nothing pending */
	QP_WS,		/* spaces or tabs that may end a line */
	QP_WS_CR,	/* those and a CR */
	QP_EQ,		/* "=" */
	QP_EQ_HEX,	/* "=" and one hex digit */
	QP_EQ_WS,	/* "=" and whitespace: a soft break if the line ends */
	QP_EQ_CR,	/* "=", maybe whitespace, CR */
};

#define QP_WS_MAX (MIME_DECODE_MARGIN - 8)

int mime_decoder_init(struct mime_decoder *d, const char *encoding)
{
	memset(d, 0, sizeof(*d));
	if (encoding == NULL || strcasecmp(encoding, "7bit") == 0 ||
	    strcasecmp(encoding, "8bit") == 0 || strcasecmp(encoding, "binary") == 0)
		d->cte = MIME_CTE_IDENTITY;
	else if (strcasecmp(encoding, "base64") == 0)
		d->cte = MIME_CTE_BASE64;
	else if (strcasecmp(encoding, "quoted-printable") == 0)
		d->cte = MIME_CTE_QP;
	else
		return -ENOTSUP;
	return 0;
}

static size_t b64_decode(struct mime_decoder *d, const uint8_t *in, size_t len, uint8_t *out)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = in[i];
		int v = mime__b64_value(c);
		if (v >= 0) {
			if (d->pad) {
				/* Data after padding: count it, start afresh. */
				d->errors++;
				d->pad = 0;
				d->nbits = 0;
			}
			d->bits = (d->bits << 6 | (uint32_t)v) & 0xffffff;
			d->nbits += 6;
			if (d->nbits >= 8) {
				d->nbits -= 8;
				out[o++] = (uint8_t)(d->bits >> d->nbits);
			}
		} else if (c == '=') {
			if (d->nbits == 0 && d->pad == 0) {
				d->errors++;	/* padding with nothing to pad */
				continue;
			}
			d->pad++;
			d->nbits = 0;
		} else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			d->errors++;
		}
	}
	return o;
}

static size_t flush_pending(struct mime_decoder *d, uint8_t *out)
{
	size_t n = d->npending;
	memcpy(out, d->pending, n);
	d->npending = 0;
	d->state = QP_TEXT;
	return n;
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A byte after "=" (RFC 2045 6.7 rules 1 and 5). Returns true when it was
 * taken; false after flushing a broken escape into out (*o bytes), so the
 * caller handles the byte as text. */
static bool qp_escape(struct mime_decoder *d, uint8_t c, uint8_t *out, size_t *o)
{
	bool ws = c == ' ' || c == '\t', hex = hexval(c) >= 0;
	switch (d->state) {
	case QP_EQ:
		if (c == '\n') {
			d->npending = 0;	/* soft line break */
			d->state = QP_TEXT;
			return true;
		}
		if (hex || ws || c == '\r') {
			d->state = hex ? QP_EQ_HEX : ws ? QP_EQ_WS : QP_EQ_CR;
			d->pending[d->npending++] = c;
			return true;
		}
		break;
	case QP_EQ_HEX:
		if (hex) {
			out[0] = (uint8_t)(hexval(d->pending[1]) << 4 | hexval(c));
			*o = 1;
			d->npending = 0;
			d->state = QP_TEXT;
			return true;
		}
		break;
	default:	/* QP_EQ_WS, QP_EQ_CR */
		if (c == '\n') {
			d->npending = 0;	/* soft line break */
			d->state = QP_TEXT;
			return true;
		}
		if (d->state == QP_EQ_WS && (ws || c == '\r') && d->npending < QP_WS_MAX) {
			d->pending[d->npending++] = c;
			if (c == '\r')
				d->state = QP_EQ_CR;
			return true;
		}
		break;
	}
	d->errors++;
	*o = flush_pending(d, out);
	return false;
}

/* Feeds one byte; returns the bytes written to out. */
static size_t qp_byte(struct mime_decoder *d, uint8_t c, uint8_t *out)
{
	size_t o = 0;
	bool ws = c == ' ' || c == '\t';
	switch (d->state) {
	case QP_TEXT:
		break;
	case QP_WS:
		if (ws && d->npending < QP_WS_MAX) {
			d->pending[d->npending++] = c;
			return 0;
		}
		if (c == '\r') {
			d->pending[d->npending++] = c;
			d->state = QP_WS_CR;
			return 0;
		}
		if (c == '\n') {
			d->npending = 0;	/* trailing whitespace goes */
			d->state = QP_TEXT;
			out[0] = c;
			return 1;
		}
		o = flush_pending(d, out);
		break;
	case QP_WS_CR:
		if (c == '\n') {
			d->npending = 0;
			d->state = QP_TEXT;
			memcpy(out, "\r\n", 2);
			return 2;
		}
		o = flush_pending(d, out);
		break;
	default:
		if (qp_escape(d, c, out, &o))
			return o;
		break;
	}
	/* Text, or what is left of c after a flush. */
	if (ws || c == '=') {
		d->pending[d->npending++] = c;
		d->state = ws ? QP_WS : QP_EQ;
	} else {
		out[o++] = c;
	}
	return o;
}

size_t mime_decode(struct mime_decoder *d, const void *in, size_t len, uint8_t *out)
{
	const uint8_t *s = in;
	if (d->cte == MIME_CTE_IDENTITY) {
		memcpy(out, s, len);
		return len;
	}
	if (d->cte == MIME_CTE_BASE64)
		return b64_decode(d, s, len, out);
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (d->state == QP_TEXT && s[i] != ' ' && s[i] != '\t' && s[i] != '=') {
			out[o++] = s[i];
			continue;
		}
		o += qp_byte(d, s[i], out + o);
	}
	return o;
}

size_t mime_decode_finish(struct mime_decoder *d, uint8_t *out)
{
	size_t o = 0;
	if (d->cte == MIME_CTE_BASE64) {
		if (d->nbits >= 6)
			d->errors++;	/* a lone character: not even a byte */
		d->nbits = 0;
		return 0;
	}
	if (d->cte != MIME_CTE_QP)
		return 0;
	switch (d->state) {
	case QP_WS_CR:
		/* Whitespace and a CR at the very end: keep the CR. */
		out[o++] = '\r';
		break;
	case QP_EQ_HEX:
		d->errors++;
		o = flush_pending(d, out);
		break;
	default:
		/* Trailing whitespace, or a final "=" (a soft break). */
		break;
	}
	d->npending = 0;
	d->state = QP_TEXT;
	return o;
}

#define CHUNK (16 * 1024)

int mime_part_decode(const struct mime_source *src, const struct mime_part *p,
		     int (*emit)(void *ctx, const void *data, size_t len), void *ctx)
{
	struct mime_decoder d;
	int r = mime_decoder_init(&d, p->encoding);
	if (r < 0)
		return r;
	uint8_t *in = xmalloc(CHUNK), *out = xmalloc(CHUNK + MIME_DECODE_MARGIN);
	for (uint64_t done = 0; done < p->body_len && r == 0;) {
		size_t want = p->body_len - done < CHUNK ? (size_t)(p->body_len - done) : CHUNK;
		ssize_t n = mime_source_read(src, p->body_off + done, in, want);
		if (n <= 0) {
			r = n < 0 ? (int)n : -EIO;
			break;
		}
		done += (uint64_t)n;
		size_t o = mime_decode(&d, in, (size_t)n, out);
		if (o > 0)
			r = emit(ctx, out, o);
	}
	if (r == 0) {
		size_t o = mime_decode_finish(&d, out);
		if (o > 0)
			r = emit(ctx, out, o);
	}
	free(in);
	free(out);
	return r;
}

static int count(void *ctx, const void *data, size_t len)
{
	*(uint64_t *)ctx += len;
	return 0;
}

int mime_part_decoded_size(const struct mime_source *src, const struct mime_part *p,
			   uint64_t *size_r)
{
	*size_r = 0;
	return mime_part_decode(src, p, count, size_r);
}
