/* Validation of what callers hand in: mailbox names, keywords, system
 * flag and special-use names, message file names, UID sets. */
#include "storage/meta-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "src/util/xmalloc.h"

/* Decodes one UTF-8 sequence at s (len bytes left). Returns its length and
 * the code point in *cp, or 0 for an invalid sequence: overlong forms,
 * surrogates and values past U+10FFFF are invalid (RFC 3629). */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		n = 2, v = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3, v = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* Characters refused in names (manual: Mailboxes): the IMAP wildcards and
 * the quoting backslash, control characters (C0, DEL, C1), and the Unicode
 * format characters that make a name display as another: bidirectional
 * marks, embeddings, overrides and isolates, line and paragraph
 * separators, the byte order mark. */
static bool refused_char(uint32_t cp)
{
	return cp == '%' || cp == '*' || cp == '\\' || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	       cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

bool meta__name_is_inbox(const char *name)
{
	return strcmp(name, "INBOX") == 0;
}

/* Checks name and writes its stored form to out: the first component
 * "INBOX" in any case becomes "INBOX" (RFC 9051 5.1: INBOX is
 * case-insensitive), everything else stays as given. */
int meta__name_norm(const char *name, char out[META_NAME_MAX + 1], const char **error_r)
{
	size_t len = strlen(name);
	if (len == 0 || len > META_NAME_MAX)
		return meta__fail(error_r, -EINVAL, "the mailbox name is empty or too long");
	const unsigned char *s = (const unsigned char *)name;
	size_t depth = 1;
	for (size_t i = 0; i < len;) {
		bool start = i == 0 || s[i - 1] == '/';
		if (start && (s[i] == '/' || s[i] == '.' || s[i] == '#'))
			return meta__fail(error_r, -EINVAL,
					  "a name component is empty or begins with '.' or '#'");
		uint32_t cp;
		size_t n = utf8_next(s + i, len - i, &cp);
		if (n == 0)
			return meta__fail(error_r, -EINVAL, "the mailbox name is not valid UTF-8");
		if (refused_char(cp))
			return meta__fail(error_r, -EINVAL,
					  "the mailbox name holds a character that is not allowed");
		if (cp == '/' && ++depth > META_NAME_DEPTH)
			return meta__fail(error_r, -EINVAL, "the mailbox name is nested too deep");
		i += n;
	}
	if (s[len - 1] == '/')
		return meta__fail(error_r, -EINVAL, "the mailbox name ends with '/'");
	memcpy(out, name, len + 1);
	if (strncasecmp(out, "INBOX", 5) == 0 && (out[5] == 0 || out[5] == '/'))
		memcpy(out, "INBOX", 5);
	return 0;
}

int meta_name_check(const char *name, const char **error_r)
{
	char buf[META_NAME_MAX + 1];
	return meta__name_norm(name, buf, error_r);
}

static const char *const flag_names[] = {
	"\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft",
};

uint32_t meta_flag_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
		if (strcasecmp(name, flag_names[i]) == 0)
			return 1u << i;
	return 0;
}

const char *meta_flag_name(uint32_t bit)
{
	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
		if (bit == 1u << i)
			return flag_names[i];
	return NULL;
}

/* RFC 9051 9: flag-keyword = atom; ATOM-CHAR is any CHAR except
 * atom-specials: ( ) { SP CTL % * " \ ]. */
int meta_keyword_check(const char *kw)
{
	size_t len = strlen(kw);
	if (len == 0 || len > META_KEYWORD_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)kw[i];
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c))
			return -EINVAL;
	}
	return 0;
}

static const char *const special_uses[] = {
	"\\Archive", "\\Drafts", "\\Flagged", "\\Important", "\\Junk", "\\Sent", "\\Trash",
};

/* RFC 6154 2 and RFC 8457 3 (manual: CREATE-SPECIAL-USE). \All would need
 * an all-mail view, which the store does not have. */
int meta_special_use_parse(const char *name, const char **canon_r)
{
	for (size_t i = 0; i < sizeof(special_uses) / sizeof(special_uses[0]); i++) {
		if (strcasecmp(name, special_uses[i]) == 0) {
			*canon_r = special_uses[i];
			return 0;
		}
	}
	return strcasecmp(name, "\\All") == 0 ? -EPERM : -EINVAL;
}

/* File names come from the store, relative to messages/: a few safe
 * characters, components neither empty nor "." or "..", so the name can
 * never leave that directory. */
int meta__file_check(const char *file)
{
	size_t len = strlen(file);
	if (len == 0 || len > META_FILE_MAX)
		return -EINVAL;
	const char *comp = file;
	for (size_t i = 0; i <= len; i++) {
		char c = file[i];
		if (c == '/' || c == 0) {
			size_t n = (size_t)(file + i - comp);
			if (n == 0 || (n == 1 && comp[0] == '.') ||
			    (n == 2 && comp[0] == '.' && comp[1] == '.'))
				return -EINVAL;
			comp = file + i + 1;
		} else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) {
			return -EINVAL;
		}
	}
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct meta_uid_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* A UID set in canonical form: checked, sorted, overlapping and adjacent
 * ranges merged, so a walk over it visits each UID once, in order. The
 * result is a new array to free(); *n_r may be 0 only when n is 0. */
int meta__ranges_norm(const struct meta_uid_range *set, size_t n, struct meta_uid_range **out_r,
		      size_t *n_r)
{
	*out_r = NULL;
	*n_r = 0;
	if (n == 0)
		return 0;
	if (!set)
		return -EINVAL;
	struct meta_uid_range *v = xmalloc(n * sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		if (set[i].lo == 0 || set[i].lo > set[i].hi) {
			free(v);
			return -EINVAL;
		}
		v[i] = set[i];
	}
	qsort(v, n, sizeof(*v), range_cmp);
	size_t k = 0;
	for (size_t i = 1; i < n; i++) {
		if ((uint64_t)v[i].lo <= (uint64_t)v[k].hi + 1) {
			if (v[i].hi > v[k].hi)
				v[k].hi = v[i].hi;
		} else {
			v[++k] = v[i];
		}
	}
	*out_r = v;
	*n_r = k + 1;
	return 0;
}
