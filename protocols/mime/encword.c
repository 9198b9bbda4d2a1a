/* RFC 2047 encoded words: a tolerant decoder into UTF-8 and the encoder the
 * IMAP output uses for clients without UTF-8 (manual: Unicode support). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/mime/mime-private.h"

struct word {
	const char *charset;
	size_t charset_len;
	char enc;		/* 'B' or 'Q' */
	const char *text;
	size_t text_len;
	size_t len;		/* the whole word */
};

/* "=?" charset "?" ("B" / "Q") "?" encoded-text "?=" at s (RFC 2047 2). */
static bool parse_word(const char *s, size_t len, struct word *w)
{
	if (len < 8 || s[0] != '=' || s[1] != '?')
		return false;
	const char *end = s + len, *p = s + 2;
	const char *q = memchr(p, '?', (size_t)(end - p));
	if (q == NULL || q == p || (size_t)(end - q) < 5)
		return false;
	for (const char *c = p; c < q; c++)
		if ((uint8_t)*c <= ' ' || (uint8_t)*c >= 127)
			return false;
	w->charset = p;
	w->charset_len = (size_t)(q - p);
	/* RFC 2231 5: charset "*" language */
	const char *star = memchr(p, '*', w->charset_len);
	if (star)
		w->charset_len = (size_t)(star - p);
	char e = q[1] & ~0x20;
	if ((e != 'B' && e != 'Q') || q[2] != '?')
		return false;
	w->enc = e;
	w->text = q + 3;
	for (p = w->text; p + 1 < end; p++) {
		if ((uint8_t)*p <= ' ' || (uint8_t)*p >= 127)
			return false;
		if (p[0] == '?' && p[1] == '=') {
			w->text_len = (size_t)(p - w->text);
			w->len = (size_t)(p + 2 - s);
			return w->charset_len > 0;
		}
	}
	return false;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes the text of a word into raw bytes; bad base64 characters and
 * padding are skipped, a stray '=' in Q stays itself. */
static int word_bytes(const struct word *w, struct buf *out)
{
	int r = 0;
	if (w->enc == 'B') {
		uint32_t bits = 0;
		unsigned n = 0;
		for (size_t i = 0; i < w->text_len && r == 0; i++) {
			int v = mime__b64_value((uint8_t)w->text[i]);
			if (v < 0)
				continue;
			bits = bits << 6 | (uint32_t)v;
			n += 6;
			if (n >= 8) {
				n -= 8;
				uint8_t b = (uint8_t)(bits >> n);
				r = buf_append(out, &b, 1);
			}
		}
		return r;
	}
	for (size_t i = 0; i < w->text_len && r == 0; i++) {
		char c = w->text[i];
		if (c == '_') {
			c = ' ';
		} else if (c == '=' && i + 2 < w->text_len && hexval(w->text[i + 1]) >= 0 &&
			   hexval(w->text[i + 2]) >= 0) {
			c = (char)(hexval(w->text[i + 1]) << 4 | hexval(w->text[i + 2]));
			i += 2;
		}
		r = buf_append(out, &c, 1);
	}
	return r;
}

struct decoder {
	struct buf *out;
	struct buf acc;		/* bytes of adjacent words in one charset */
	char charset[64];
	const char *acc_src;	/* the words' source text, for a fallback */
	size_t acc_src_len;
};

/* Converts what adjacent words gathered; an unknown charset leaves the
 * words as they were (and *kept_r tells so). */
static int flush_words(struct decoder *d, bool *kept_r)
{
	int r = 0;
	*kept_r = false;
	if (d->acc_src == NULL)
		return 0;
	if (mime_charset_to_utf8(d->charset, d->acc.data ? d->acc.data : "", d->acc.len, d->out) ==
	    -ENOENT) {
		r = mime_utf8_sanitize(d->acc_src, d->acc_src_len, d->out);
		*kept_r = true;
	}
	d->acc.len = 0;
	d->acc_src = NULL;
	return r;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int mime_encword_decode(const char *in, size_t len, struct buf *out)
{
	struct decoder d = { .out = out, .acc = BUF_INIT(0) };
	size_t plain = 0, i = 0;	/* start of the text not yet written */
	int r = 0;
	while (i < len && r == 0) {
		struct word w;
		if (!(in[i] == '=' && parse_word(in + i, len - i, &w))) {
			i++;
			continue;
		}
		/* Only whitespace since the previous word: it goes away. */
		bool joined = d.acc_src != NULL;
		for (size_t k = plain; k < i && joined; k++)
			joined = is_space(in[k]);
		bool same = joined && w.charset_len < sizeof(d.charset) &&
			    strncasecmp(d.charset, w.charset, w.charset_len) == 0 &&
			    d.charset[w.charset_len] == '\0';
		if (!same) {
			/* Words left undecoded keep the space after them. */
			bool kept;
			r = flush_words(&d, &kept);
			if (r == 0 && (!joined || kept))
				r = mime_utf8_sanitize(in + plain, i - plain, out);
		}
		if (r == 0 && w.charset_len >= sizeof(d.charset)) {
			r = mime_utf8_sanitize(in + i, w.len, out);	/* no such charset */
			plain = i += w.len;
			continue;
		}
		if (r == 0 && !same) {
			memcpy(d.charset, w.charset, w.charset_len);
			d.charset[w.charset_len] = '\0';
			d.acc_src = in + i;
		}
		if (r == 0)
			r = word_bytes(&w, &d.acc);
		d.acc_src_len = (size_t)(in + i + w.len - d.acc_src);
		plain = i += w.len;
	}
	bool kept;
	if (r == 0)
		r = flush_words(&d, &kept);
	if (r == 0)
		r = mime_utf8_sanitize(in + plain, len - plain, out);
	buf_free(&d.acc);
	return r;
}

int mime_encword_encode(const char *utf8, size_t len, struct buf *out)
{
	/* 45 bytes give 60 base64 characters: 72 with the delimiters. */
	const size_t max = 45;
	const uint8_t *s = (const uint8_t *)utf8;
	size_t i = 0;
	int r = 0;
	while (i < len && r == 0) {
		size_t n = 0;
		while (i + n < len) {
			uint32_t cp;
			size_t cl = mime__utf8_decode(s + i + n, len - i - n, &cp);
			if (cl == 0)
				cl = 1;
			if (n + cl > max && n > 0)
				break;
			n += cl;
		}
		if (i > 0)
			r = buf_append(out, " ", 1);
		if (r == 0)
			r = buf_puts(out, "=?UTF-8?B?");
		if (r == 0)
			r = mime__b64_encode(s + i, n, out);
		if (r == 0)
			r = buf_puts(out, "?=");
		i += n;
	}
	return r;
}
