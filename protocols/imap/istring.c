#include "protocols/imap/istring.h"

#include <string.h>
#include <strings.h>

bool istring_atom_char(unsigned char c)
{
	/* atom-specials: ( ) { SP CTL list-wildcards quoted-specials
	 * resp-specials (RFC 9051 section 9) */
	return c > 0x20 && c < 0x7f && !strchr("(){%*\"\\]", c);
}

static bool can_be_atom(const char *s, size_t len)
{
	if (len == 0 || (len == 3 && strncasecmp(s, "NIL", 3) == 0))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!istring_atom_char((unsigned char)s[i]))
			return false;
	return true;
}

static bool can_be_quoted(const char *s, size_t len, bool utf8)
{
	if (len > 1024) /* long values read better, and parse cheaper, as literals */
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\0' || c == '\r' || c == '\n' || (c >= 0x80 && !utf8))
			return false;
	}
	return true;
}

int istring_append(struct buf *out, const char *s, size_t len, unsigned flags)
{
	if (!s && (flags & ISTRING_NIL_FOR_NULL))
		return buf_puts(out, "NIL");
	if ((flags & ISTRING_ALLOW_ATOM) && can_be_atom(s, len))
		return buf_append(out, s, len);
	if (can_be_quoted(s, len, flags & ISTRING_UTF8)) {
		int r = buf_append(out, "\"", 1);
		for (size_t i = 0; i < len && r == 0; i++) {
			if (s[i] == '"' || s[i] == '\\')
				r = buf_append(out, "\\", 1);
			if (r == 0)
				r = buf_append(out, &s[i], 1);
		}
		return r ? r : buf_append(out, "\"", 1);
	}
	int r = buf_printf(out, "%s{%zu}\r\n", memchr(s, '\0', len) ? "~" : "", len);
	return r ? r : buf_append(out, s, len);
}
