/* BODY and BODYSTRUCTURE (RFC 9051 7.5.2, grammar in section 9), and the
 * IMAP string writer the envelope shares. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/mime/mime-private.h"

/* Text ready for the wire: valid UTF-8, or ASCII when !utf8 (manual:
 * Unicode support). */
static int prepare(const char *s, size_t len, enum mime_str_kind kind, bool utf8, struct buf *t)
{
	int r = 0;
	if (kind == MIME_STR_RAW)
		return buf_append(t, s, len);
	if (kind == MIME_STR_TEXT) {
		struct buf dec = BUF_INIT(0);
		r = mime_encword_decode(s, len, &dec);
		if (r == 0 && !utf8 && !mime_is_ascii(dec.data, dec.len))
			r = mime_encword_encode(dec.data, dec.len, t);
		else if (r == 0)
			r = buf_append(t, dec.data ? dec.data : "", dec.len);
		buf_free(&dec);
		return r;
	}
	if (utf8)
		return mime_utf8_sanitize(s, len, t);
	/* One 'X' per character; a byte that is no character counts as one.
	 * ASCII goes in runs. */
	for (size_t i = 0; i < len && r == 0;) {
		uint32_t cp;
		if ((uint8_t)s[i] < 0x80) {
			size_t j = i + 1;
			while (j < len && (uint8_t)s[j] < 0x80)
				j++;
			r = buf_append(t, s + i, j - i);
			i = j;
		} else {
			size_t n = mime__utf8_decode((const uint8_t *)s + i, len - i, &cp);
			r = buf_append(t, "X", 1);
			i += n ? n : 1;
		}
	}
	return r;
}

static int write_prepared(struct buf *out, const char *s, size_t len, bool utf8)
{
	bool literal = !utf8 && !mime_is_ascii(s, len);
	for (size_t i = 0; i < len && !literal; i++)
		literal = s[i] == '\r' || s[i] == '\n';
	if (literal) {
		int r = buf_printf(out, "{%zu}\r\n", len);
		return r < 0 ? r : buf_append(out, s, len);
	}
	int r = buf_append(out, "\"", 1);
	size_t run = 0;
	for (size_t i = 0; i < len && r == 0; i++) {
		if (s[i] != '"' && s[i] != '\\')
			continue;
		r = buf_append(out, s + run, i - run);
		if (r == 0)
			r = buf_append(out, "\\", 1);
		run = i;
	}
	if (r == 0)
		r = buf_append(out, s + run, len - run);
	return r < 0 ? r : buf_append(out, "\"", 1);
}

/* Printable ASCII with nothing to escape, drop or decode: what most
 * envelope and body structure strings are. For these the general path of
 * mime_write_nstring() gives the string itself between quotes, whatever
 * kind and utf8 are; this says so without its copies. */
static bool plain_ascii(const char *s, size_t len, enum mime_str_kind kind)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)s[i];
		if (c == 0 || c >= 0x80 || c == '\r' || c == '\n' || c == '"' || c == '\\' ||
		    (c == '=' && kind == MIME_STR_TEXT))
			return false;
	}
	return true;
}

int mime_write_nstring(struct buf *out, const char *s, size_t len, enum mime_str_kind kind,
		       bool utf8)
{
	if (s == NULL)
		return buf_append(out, "NIL", 3);
	if (plain_ascii(s, len, kind)) {
		int r = buf_append(out, "\"", 1);
		if (r == 0)
			r = buf_append(out, s, len);
		return r < 0 ? r : buf_append(out, "\"", 1);
	}
	struct buf t = BUF_INIT(0);
	int r = prepare(s, len, kind, utf8, &t);
	if (r == 0) {
		/* NUL has no place in an IMAP string, literal or not. */
		size_t k = 0;
		for (size_t i = 0; i < t.len; i++)
			if (t.data[i] != '\0')
				t.data[k++] = t.data[i];
		t.len = k;
		r = write_prepared(out, t.data ? t.data : "", t.len, utf8);
	}
	buf_free(&t);
	return r;
}

static int str(struct buf *out, const char *s, enum mime_str_kind kind, bool utf8)
{
	return mime_write_nstring(out, s, s ? strlen(s) : 0, kind, utf8);
}

static int sp(struct buf *out)
{
	return buf_append(out, " ", 1);
}

/* body-fld-param: ("NAME" "value" ...) or NIL */
static int params(struct buf *out, const struct mime_param *v, size_t n, bool utf8)
{
	if (n == 0)
		return buf_append(out, "NIL", 3);
	int r = buf_append(out, "(", 1);
	for (size_t i = 0; i < n && r == 0; i++) {
		if (i > 0)
			r = sp(out);
		if (r == 0)
			r = str(out, v[i].name, MIME_STR_STRUCT, utf8);
		if (r == 0)
			r = sp(out);
		if (r == 0)
			r = str(out, v[i].value, MIME_STR_STRUCT, utf8);
	}
	return r < 0 ? r : buf_append(out, ")", 1);
}

/* body-fld-dsp SP body-fld-lang SP body-fld-loc, shared by both kinds of
 * extension data. */
static int ext_tail(struct buf *out, const struct mime_part *p, bool utf8)
{
	int r;
	if (p->disposition == NULL) {
		r = buf_append(out, "NIL", 3);
	} else {
		r = buf_append(out, "(", 1);
		if (r == 0)
			r = str(out, p->disposition, MIME_STR_STRUCT, utf8);
		if (r == 0)
			r = sp(out);
		if (r == 0)
			r = params(out, p->disp_params, p->ndisp_params, utf8);
		if (r == 0)
			r = buf_append(out, ")", 1);
	}
	if (r == 0)
		r = sp(out);
	if (r == 0 && p->nlanguages == 1) {
		r = str(out, p->languages[0], MIME_STR_STRUCT, utf8);
	} else if (r == 0 && p->nlanguages == 0) {
		r = buf_append(out, "NIL", 3);
	} else if (r == 0) {
		r = buf_append(out, "(", 1);
		for (size_t i = 0; i < p->nlanguages && r == 0; i++) {
			if (i > 0)
				r = sp(out);
			if (r == 0)
				r = str(out, p->languages[i], MIME_STR_STRUCT, utf8);
		}
		if (r == 0)
			r = buf_append(out, ")", 1);
	}
	if (r == 0)
		r = sp(out);
	return r < 0 ? r : str(out, p->location, MIME_STR_STRUCT, utf8);
}

static int write_multipart(struct buf *out, const struct mime_part *p, bool ext, bool utf8)
{
	int r = buf_append(out, "(", 1);
	for (const struct mime_part *c = p->children; c && r == 0; c = c->next)
		r = mime_write_body(out, c, ext, utf8);
	if (r == 0)
		r = sp(out);
	if (r == 0)
		r = str(out, p->subtype, MIME_STR_STRUCT, utf8);
	if (ext && r == 0) {
		r = sp(out);
		if (r == 0)
			r = params(out, p->params, p->nparams, utf8);
		if (r == 0)
			r = sp(out);
		if (r == 0)
			r = ext_tail(out, p, utf8);
	}
	return r < 0 ? r : buf_append(out, ")", 1);
}

/* body-type-basic / -msg / -text. An opaque container (not expanded) is
 * sent as APPLICATION/OCTET-STREAM: MULTIPART or MESSAGE/RFC822 there would
 * promise a structure that is not given. */
static int write_single(struct buf *out, const struct mime_part *p, bool ext, bool utf8)
{
	bool opaque = (p->flags & MIME_PART_OPAQUE) ||
		      (strcmp(p->type, "MESSAGE") == 0 && p->message == NULL &&
		       (strcmp(p->subtype, "RFC822") == 0 || strcmp(p->subtype, "GLOBAL") == 0));
	int r = buf_append(out, "(", 1);
	if (r == 0 && opaque)
		r = buf_puts(out, "\"APPLICATION\" \"OCTET-STREAM\" NIL");
	if (r == 0 && !opaque) {
		r = str(out, p->type, MIME_STR_STRUCT, utf8);
		if (r == 0)
			r = sp(out);
		if (r == 0)
			r = str(out, p->subtype, MIME_STR_STRUCT, utf8);
		if (r == 0)
			r = sp(out);
		if (r == 0)
			r = params(out, p->params, p->nparams, utf8);
	}
	if (r == 0)
		r = sp(out);
	if (r == 0)
		r = str(out, p->id, MIME_STR_STRUCT, utf8);
	if (r == 0)
		r = sp(out);
	if (r == 0)
		r = str(out, p->description, MIME_STR_TEXT, utf8);
	if (r == 0)
		r = sp(out);
	if (r == 0)
		r = str(out, p->encoding ? p->encoding : "7BIT", MIME_STR_STRUCT, utf8);
	if (r == 0)
		r = buf_printf(out, " %llu", (unsigned long long)p->body_len);
	if (r == 0 && !opaque && p->message) {
		r = sp(out);
		if (r == 0)
			r = mime_write_envelope(out, p->message->envelope, utf8);
		if (r == 0)
			r = sp(out);
		if (r == 0)
			r = mime_write_body(out, p->message, ext, utf8);
	}
	if (r == 0 && !opaque && mime_part_is_text(p))
		r = buf_printf(out, " %llu", (unsigned long long)p->lines);
	if (ext && r == 0) {
		r = sp(out);
		if (r == 0)
			r = str(out, p->md5, MIME_STR_STRUCT, utf8);
		if (r == 0)
			r = sp(out);
		if (r == 0)
			r = ext_tail(out, p, utf8);
	}
	return r < 0 ? r : buf_append(out, ")", 1);
}

int mime_write_body(struct buf *out, const struct mime_part *part, bool extended, bool utf8)
{
	if (part->flags & MIME_PART_MULTIPART)
		return write_multipart(out, part, extended, utf8);
	return write_single(out, part, extended, utf8);
}
