/* The lexical part of the TOML reader: UTF-8 validation, the four string
 * forms, and scalars (booleans, integers, null). */
#include "src/toml-private.h"

#include <errno.h>
#include <string.h>

#include "src/util/xmalloc.h"

bool toml__is_bare(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Length of the UTF-8 sequence at s (at most n bytes), 0 if invalid.
 * Overlong forms, surrogates and code points past U+10FFFF are invalid
 * (RFC 3629 section 4). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

unsigned toml__utf8_check(const char *data, size_t len)
{
	const unsigned char *s = (const unsigned char *)data;
	unsigned line = 1;
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_seq(s + i, len - i);
		if (n == 0)
			return line;
		if (s[i] == '\n')
			line++;
		i += n;
	}
	return 0;
}

static size_t utf8_encode(uint32_t cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int put(struct toml_parser *ps, const char *data, size_t len)
{
	if (buf_append(&ps->tmp, data, len) < 0)
		return toml__fail(ps, ps->line, "string too long (limit %zu bytes)",
				  ps->lim.max_string);
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* \uXXXX or \UXXXXXXXX; ps->p is on the 'u' or 'U'. */
static int unicode_escape(struct toml_parser *ps)
{
	size_t digits = *ps->p == 'u' ? 4 : 8;
	uint32_t cp = 0;
	char out[4];

	ps->p++;
	if ((size_t)(ps->end - ps->p) < digits)
		return toml__fail(ps, ps->line,
				  "invalid escape: expected %zu hex digits",
				  digits);
	for (size_t i = 0; i < digits; i++) {
		int h = hex_value(ps->p[i]);
		if (h < 0)
			return toml__fail(ps, ps->line,
					  "invalid escape: expected %zu hex digits",
					  digits);
		cp = cp << 4 | (uint32_t)h;
	}
	ps->p += digits;
	if (cp == 0)
		return toml__fail(ps, ps->line,
				  "NUL characters are not supported");
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return toml__fail(ps, ps->line,
				  "invalid escape: U+%X is not a Unicode scalar value",
				  (unsigned)cp);
	return put(ps, out, utf8_encode(cp, out));
}

/* A backslash at the end of a line in a multi-line basic string eats the
 * newline and all whitespace up to the next visible character. ps->p is
 * just past the backslash, on a space, tab or newline. */
static int line_ending_backslash(struct toml_parser *ps)
{
	const char *q = ps->p;

	while (q < ps->end && (*q == ' ' || *q == '\t'))
		q++;
	if (q == ps->end || (*q != '\n' && *q != '\r'))
		return toml__fail(ps, ps->line, "invalid escape sequence '\\ '");
	ps->p = q;
	while (ps->p < ps->end) {
		char c = *ps->p;
		if (c == '\n') {
			ps->line++;
		} else if (c == '\r' && ps->end - ps->p > 1 && ps->p[1] == '\n') {
			ps->line++;
			ps->p++;
		} else if (c != ' ' && c != '\t') {
			break;
		}
		ps->p++;
	}
	return 0;
}

/* ps->p is just past the backslash. */
static int escape(struct toml_parser *ps, bool multiline, unsigned start)
{
	static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
	const char *hit;

	if (ps->p == ps->end)
		return toml__fail(ps, start, "unterminated string");
	char c = *ps->p;
	if (c == 'u' || c == 'U')
		return unicode_escape(ps);
	if (multiline && (c == ' ' || c == '\t' || c == '\n' || c == '\r'))
		return line_ending_backslash(ps);
	if (c != '\0' && (hit = strchr(from, c)) != NULL) {
		ps->p++;
		return put(ps, &to[hit - from], 1);
	}
	if (c > ' ' && c < 0x7f)
		return toml__fail(ps, ps->line, "invalid escape sequence '\\%c'", c);
	return toml__fail(ps, ps->line, "invalid escape sequence");
}

/* Bytes copied as they are: everything but the quote, the backslash (in
 * basic strings) and control characters other than tab. UTF-8 was checked
 * beforehand. */
static size_t plain_run(const struct toml_parser *ps, char quote)
{
	const char *q = ps->p;

	while (q < ps->end) {
		unsigned char c = (unsigned char)*q;
		if (c == (unsigned char)quote || (c == '\\' && quote == '"') ||
		    (c < 0x20 && c != '\t') || c == 0x7f)
			break;
		q++;
	}
	return (size_t)(q - ps->p);
}

/* A run of quotes inside a multi-line string: three end it, and up to two
 * more just before those belong to the content (TOML 1.0). */
static int quote_run(struct toml_parser *ps, char quote, bool *done)
{
	size_t n = 0;

	while (ps->p + n < ps->end && ps->p[n] == quote)
		n++;
	if (n > 5)
		return toml__fail(ps, ps->line,
				  "too many quotes at the end of a multi-line string");
	if (n >= 3) {
		*done = true;
		n -= 3;
		ps->p += 3;
	}
	int r = put(ps, ps->p, n);
	ps->p += n;
	return r;
}

static int newline_in_string(struct toml_parser *ps, bool multiline,
			     unsigned start)
{
	bool crlf = *ps->p == '\r';

	if (crlf && (ps->end - ps->p < 2 || ps->p[1] != '\n'))
		return toml__fail(ps, ps->line,
				  "control character U+000D in string");
	if (!multiline)
		return toml__fail(ps, start, "unterminated string");
	ps->p += crlf ? 2 : 1;
	ps->line++;
	return put(ps, "\n", 1);
}

/* The body of a string after its opening delimiter, up to and including
 * the closing one. */
static int string_body(struct toml_parser *ps, char quote, bool multiline,
		       unsigned start)
{
	bool done = false;
	int r = 0;

	while (r == 0 && !done) {
		size_t n = plain_run(ps, quote);
		if (n > 0) {
			r = put(ps, ps->p, n);
			ps->p += n;
			continue;
		}
		if (ps->p == ps->end)
			return toml__fail(ps, start, "unterminated string");
		unsigned char c = (unsigned char)*ps->p;
		if (c == (unsigned char)quote && !multiline) {
			ps->p++;
			done = true;
		} else if (c == (unsigned char)quote) {
			r = quote_run(ps, quote, &done);
		} else if (c == '\\') {
			ps->p++;
			r = escape(ps, multiline, start);
		} else if (c == '\n' || c == '\r') {
			r = newline_in_string(ps, multiline, start);
		} else {
			r = toml__fail(ps, ps->line,
				       "control character U+%04X in string", c);
		}
	}
	return r;
}

int toml__parse_string(struct toml_parser *ps, bool allow_multiline,
		       char **str_r, size_t *len_r)
{
	char quote = *ps->p;
	unsigned start = ps->line;
	bool multiline = ps->end - ps->p >= 3 && ps->p[1] == quote &&
			 ps->p[2] == quote;

	if (multiline && !allow_multiline)
		return toml__fail(ps, start, "a key cannot be a multi-line string");
	ps->p += multiline ? 3 : 1;
	if (multiline) {
		/* A newline right after the opening delimiter is trimmed. */
		if (ps->p < ps->end && *ps->p == '\n') {
			ps->p++;
			ps->line++;
		} else if (ps->end - ps->p >= 2 && ps->p[0] == '\r' &&
			   ps->p[1] == '\n') {
			ps->p += 2;
			ps->line++;
		}
	}
	buf_reset(&ps->tmp);
	int r = string_body(ps, quote, multiline, start);
	if (r < 0)
		return r;
	*str_r = xstrndup(ps->tmp.data ? ps->tmp.data : "", ps->tmp.len);
	if (len_r)
		*len_r = ps->tmp.len;
	return 0;
}

/* Characters that can make up a bare value: integers, booleans, and the
 * floats and dates we recognise only to refuse them. */
static bool is_token(unsigned char c)
{
	return toml__is_bare(c) || c == '+' || c == '.' || c == ':';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool token_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* 1979-05-27, 07:32:00 and their combinations. */
static bool looks_like_date(const char *s, size_t n)
{
	if (n >= 5 && is_digit(s[0]) && is_digit(s[1]) && s[2] == ':')
		return true;
	return n >= 7 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) &&
	       is_digit(s[3]) && s[4] == '-';
}

static bool looks_like_float(const char *s, size_t n)
{
	size_t i = (n > 0 && (s[0] == '+' || s[0] == '-')) ? 1 : 0;

	if (token_is(s + i, n - i, "inf") || token_is(s + i, n - i, "nan"))
		return true;
	if (i == n || !is_digit(s[i]))
		return false;
	if (n - i >= 2 && s[i] == '0' &&
	    (s[i + 1] == 'x' || s[i + 1] == 'o' || s[i + 1] == 'b'))
		return false;
	return memchr(s, '.', n) || memchr(s, 'e', n) || memchr(s, 'E', n);
}

static int digit_value(char c, unsigned base)
{
	int v = hex_value(c);
	return v >= 0 && (unsigned)v < base ? v : -1;
}

/* TOML integers: optional sign (decimal only), no leading zeros, 0x 0o 0b
 * prefixes, '_' only between two digits. Returns -EINVAL for bad syntax,
 * -ERANGE when it does not fit in int64_t. */
static int parse_integer(const char *s, size_t n, int64_t *v_r)
{
	size_t i = 0;
	bool neg = false, sign = false, overflow = false;
	unsigned base = 10;
	uint64_t mag = 0;

	if (n > 0 && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		sign = true;
		i++;
	}
	if (n - i >= 2 && s[i] == '0' &&
	    (s[i + 1] == 'x' || s[i + 1] == 'o' || s[i + 1] == 'b')) {
		if (sign)
			return -EINVAL;
		base = s[i + 1] == 'x' ? 16 : s[i + 1] == 'o' ? 8 : 2;
		i += 2;
	} else if (n - i > 1 && s[i] == '0') {
		return -EINVAL;
	}
	if (i == n)
		return -EINVAL;
	for (size_t j = i; j < n; j++) {
		if (s[j] == '_') {
			if (j == i || j + 1 == n || digit_value(s[j + 1], base) < 0)
				return -EINVAL;
			continue;
		}
		int d = digit_value(s[j], base);
		if (d < 0)
			return -EINVAL;
		if (mag > (UINT64_MAX - (uint64_t)d) / base)
			overflow = true;
		else
			mag = mag * base + (uint64_t)d;
	}
	if (overflow || mag > (uint64_t)INT64_MAX + (neg ? 1 : 0))
		return -ERANGE;
	if (neg)
		*v_r = mag > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)mag;
	else
		*v_r = (int64_t)mag;
	return 0;
}

static int bad_token(struct toml_parser *ps, const char *s, size_t n)
{
	int shown = n > 40 ? 40 : (int)n;

	if (looks_like_date(s, n))
		return toml__fail(ps, ps->line,
				  "dates and times are not supported");
	if (looks_like_float(s, n))
		return toml__fail(ps, ps->line,
				  "floating-point numbers are not supported");
	if (is_digit(s[0]) || s[0] == '+' || s[0] == '-')
		return toml__fail(ps, ps->line, "invalid integer '%.*s'", shown,
				  s);
	return toml__fail(ps, ps->line,
			  "invalid value '%.*s' (strings need quotes)", shown, s);
}

int toml__parse_scalar(struct toml_parser *ps, struct toml_value **value_r)
{
	const char *s = ps->p;
	size_t n = 0;
	struct toml_value *v;
	int64_t i;

	while (s + n < ps->end && is_token((unsigned char)s[n]))
		n++;
	if (n == 0)
		return toml__fail(ps, ps->line, "expected a value");
	if (token_is(s, n, "true") || token_is(s, n, "false")) {
		v = toml__new(TOML_BOOLEAN, ps->line);
		v->boolean = s[0] == 't';
	} else if (token_is(s, n, "null")) {
		v = toml__new(TOML_NULL, ps->line);
	} else if (looks_like_date(s, n) || looks_like_float(s, n)) {
		return bad_token(ps, s, n);
	} else {
		int r = parse_integer(s, n, &i);
		if (r == -ERANGE)
			return toml__fail(ps, ps->line, "integer out of range");
		if (r < 0)
			return bad_token(ps, s, n);
		v = toml__new(TOML_INTEGER, ps->line);
		v->integer = i;
	}
	ps->p += n;
	*value_r = v;
	return 0;
}
