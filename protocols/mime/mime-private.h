/* Internals shared by the files of protocols/mime/: the tree's arena, the
 * buffered reader over a mime_source, the RFC 822 lexer for structured
 * header values, and header field helpers. Not for use outside mime/. */
#ifndef SEAL_MIME_PRIVATE_H
#define SEAL_MIME_PRIVATE_H

#include "protocols/mime/mime.h"

/* ---- Arena: everything of one tree, freed at once ---------------------- */

struct mime__arena;

struct mime__arena *mime__arena_new(size_t max_strings);
void mime__arena_free(struct mime__arena **a);
/* Zeroed memory for tree nodes; never fails (xmalloc aborts). */
void *mime__alloc(struct mime__arena *a, size_t size);
/* A NUL-terminated copy counted against max_strings; NULL once the budget
 * is spent (the field then reads as absent). */
char *mime__strndup(struct mime__arena *a, const char *s, size_t len);

/* ---- Reader: a window over the source ---------------------------------- */

#define MIME__READER_BUF (16 * 1024)
/* Bytes of a line start kept for boundary matching. */
#define MIME__PREFIX_MAX (MIME_MAX_BOUNDARY + 8)

struct mime__reader {
	const struct mime_source *src;
	uint64_t pos;		/* next byte */
	uint64_t lf_count;	/* line feeds before pos */
	uint64_t win_off;	/* offset of win[0] */
	size_t win_len;
	int error;		/* first source error, sticky */
	uint8_t win[MIME__READER_BUF];
};

void mime__reader_init(struct mime__reader *r, const struct mime_source *src, uint64_t pos);
/* Makes up to want bytes from pos available (fewer at the end or on error);
 * returns a pointer to them and their count in *avail_r. */
const uint8_t *mime__reader_peek(struct mime__reader *r, size_t want, size_t *avail_r);
/* Consumes n available bytes, counting line feeds. */
void mime__reader_skip(struct mime__reader *r, size_t n);

/* One line, consumed by mime__reader_line. */
struct mime__line {
	uint64_t start;
	uint64_t content_len;	/* bytes before the CR LF or LF */
	unsigned eol_len;	/* 0 (last line without one), 1 or 2 */
	size_t prefix_len;	/* first bytes of the line, up to the EOL */
	uint8_t prefix[MIME__PREFIX_MAX];
};

/* Peeks at the next line's start into l->prefix (no consumption). Returns
 * false at the end of the source. */
bool mime__reader_line_peek(struct mime__reader *r, struct mime__line *l);
/* Consumes the line whose start was peeked, filling the rest of l; when
 * copy is non-NULL appends the whole line (EOL included) to it while it
 * stays under copy->max, else sets *overflow_r. */
void mime__reader_line(struct mime__reader *r, struct mime__line *l, struct buf *copy,
		       bool *overflow_r);

/* ---- Header fields ------------------------------------------------------ */

/* Splits a raw field (name ':' value, folded, EOL included) into its name
 * (trailing whitespace trimmed) and the start of its value. False when
 * there is no colon or the name is empty. */
bool mime__field_split(const char *raw, size_t len, size_t *name_len_r, size_t *value_off_r);
/* Unfolds a raw value (drops CR and LF that end lines, drops NULs), trims
 * outer whitespace; appends to out. */
void mime__unfold(const char *v, size_t len, struct buf *out);

/* Reads a header block from r->pos field by field. Each field is handed to
 * field() whole and byte-exact (folded lines, line ends) with its offset,
 * unless it passed fb->max (the line limit: fb is the caller's scratch
 * buffer with that max) or the fields handed over before it add up to
 * max_block bytes or more.
 * Stops before a line for which stop_line() is true, at end, at the end of
 * the source, or after the blank line. */
struct mime__hdr_scan {
	struct mime__reader *r;
	uint64_t end;
	uint64_t max_block;
	bool (*stop_line)(void *ctx, const struct mime__line *l);
	int (*field)(void *ctx, const char *raw, size_t len, uint64_t off);
	void *ctx;
	struct buf *fb;
	/* results */
	uint64_t hdr_off;
	uint64_t processed;	/* bytes of the fields handed over */
	bool blank;		/* ended by a blank line (consumed) */
	unsigned last_eol;	/* the last consumed line: its EOL length */
	uint64_t last_content;	/* and its content length */
};

/* Returns 0, a negative errno from field() or the source. */
int mime__header_scan(struct mime__hdr_scan *s);

/* Iterates over the fields of a header block read from src: calls fn with
 * each whole raw field (EOL included) and its offset. Fields over
 * max_line are skipped. Stops at the blank line or hdr_len. fn returns 0 to
 * go on, a negative errno to stop (returned). */
int mime__header_walk(const struct mime_source *src, uint64_t hdr_off, uint64_t hdr_len,
		      size_t max_line,
		      int (*fn)(void *ctx, const char *raw, size_t len, uint64_t off), void *ctx);

/* ---- RFC 822 / 2045 lexer over an unfolded value ---------------------- */

struct mime__lex {
	const char *p, *end;
	const char *comment;	/* last comment seen by skip_cfws (no parens) */
	size_t comment_len;
};

void mime__lex_init(struct mime__lex *lx, const char *s, size_t len);
/* Skips whitespace and (nested, escaped, maybe unterminated) comments. */
void mime__lex_cfws(struct mime__lex *lx);
/* Length of a token at p: characters other than CTLs, space and the given
 * specials; 8-bit bytes count as token characters when allow8 is set. */
size_t mime__lex_token(struct mime__lex *lx, const char *specials, bool allow8);
/* Reads a quoted string at p (which is '"'), unescaping into out; an
 * unterminated string runs to the end. */
void mime__lex_quoted(struct mime__lex *lx, struct buf *out);

#define MIME__TSPECIALS "()<>@,;:\\\"/[]?="	/* RFC 2045 5.1 */
#define MIME__SPECIALS "()<>[]:;@\\,.\""	/* RFC 5322 3.2.3 */

/* Parses parameters ( *(";" attribute "=" value) ) from lx into the arena;
 * bad ones are skipped; the first of a name wins. */
void mime__params_parse(struct mime__arena *a, struct mime__lex *lx, const struct mime_param **r,
			size_t *n_r);

/* ---- Text helpers -------------------------------------------------------- */

bool mime__ieq(const char *a, size_t alen, const char *b);	/* b: C string */
/* Decodes one UTF-8 sequence; returns its length (0 if invalid) and the
 * code point in *cp_r. */
size_t mime__utf8_decode(const uint8_t *s, size_t len, uint32_t *cp_r);
int mime__utf8_put(struct buf *out, uint32_t cp);
/* Base64 alphabet value of c, or -1. */
int mime__b64_value(uint8_t c);
int mime__b64_encode(const uint8_t *in, size_t len, struct buf *out);

#endif
