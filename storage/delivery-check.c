/* Mailbox names, flags and the sealed delivery instructions (delivery.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "src/util/xmalloc.h"
#include "storage/crypto.h"
#include "storage/delivery-private.h"
#include "storage/userdir.h"

static const char *const system_flags[] = { "\\Answered", "\\Flagged", "\\Deleted", "\\Seen",
					    "\\Draft" };
#define NSYSTEM_FLAGS (sizeof(system_flags) / sizeof(system_flags[0]))

/* The largest clear instructions: version, time, mailbox, flags. */
#define INSTR_MAX (1 + 8 + 2 + DELIVERY_MAILBOX_MAX + 1 + \
		   DELIVERY_FLAGS_MAX * (1 + DELIVERY_FLAG_MAX))
#define INSTR_PADDED_MAX \
	((INSTR_MAX + DELIVERY_INSTRUCTIONS_PAD - 1) / DELIVERY_INSTRUCTIONS_PAD * \
	 DELIVERY_INSTRUCTIONS_PAD)
_Static_assert(INSTR_PADDED_MAX <= CRYPTO_SEAL_MAX, "instructions fit one crypto_seal");

void delivery__set_error(char **error_r, char *msg)
{
	if (error_r)
		*error_r = msg;
	else
		free(msg);
}

/* Decodes one code point of text already checked by userdir_text_valid(). */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] < 0xe0) {
		*cp = (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
		return 2;
	}
	if (s[0] < 0xf0) {
		*cp = (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
		return 3;
	}
	*cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
	      (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
	return 4;
}

/* Code points that make a name look like another or break a line when a
 * client shows it: line and paragraph separators, bidirectional controls,
 * the byte order mark. */
static bool confusing(uint32_t cp)
{
	return cp == 0x2028 || cp == 0x2029 || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

/* The checks on the components of name, which is valid UTF-8. */
static const char *mailbox_components(const char *name, size_t len)
{
	size_t depth = 1;
	bool start = true;

	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_next((const unsigned char *)name + i, &cp);
		if (cp == '/') {
			if (start)
				return "mailbox name has an empty component";
			if (++depth > DELIVERY_MAILBOX_DEPTH)
				return "mailbox name has too many components";
			start = true;
			i += n;
			continue;
		}
		if (start && (cp == '.' || cp == '#'))
			return "mailbox name component starts with '.' or '#'";
		if (cp == '%' || cp == '*' || cp == '\\')
			return "mailbox name contains '%', '*' or '\\'";
		if (confusing(cp))
			return "mailbox name contains a separator, bidirectional control or BOM";
		start = false;
		i += n;
	}
	return start ? "mailbox name has an empty component" : NULL;
}

int delivery_check_mailbox(const char *name, char **canonical_r, const char **error_r)
{
	size_t len = name ? strnlen(name, DELIVERY_MAILBOX_MAX + 1) : 0;
	const char *why = NULL;

	if (len == 0)
		why = "empty mailbox name";
	else if (len > DELIVERY_MAILBOX_MAX)
		why = "mailbox name longer than 1024 bytes";
	else if (!userdir_text_valid(name, len))
		why = "mailbox name is not UTF-8 text without control characters";
	else
		why = mailbox_components(name, len);
	/* RFC 9051 5.1: INBOX in any case is INBOX; ours has no children. */
	if (!why && strncasecmp(name, "INBOX", 5) == 0 && (name[5] == '\0' || name[5] == '/')) {
		if (name[5] == '/')
			why = "INBOX has no children";
		else
			name = "INBOX";
	}
	if (why) {
		if (error_r)
			*error_r = why;
		return -EINVAL;
	}
	if (canonical_r)
		*canonical_r = xstrdup(name);
	return 0;
}

static bool atom_char(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && !strchr("(){%*\"\\]", c);
}

int delivery_check_flag(const char *flag, char **canonical_r, const char **error_r)
{
	size_t len = flag ? strnlen(flag, DELIVERY_FLAG_MAX + 1) : 0;
	const char *why = NULL, *canon = flag;

	if (len == 0) {
		why = "empty flag";
	} else if (flag[0] == '\\') {
		canon = NULL;
		for (size_t i = 0; i < NSYSTEM_FLAGS && !canon; i++)
			if (strcasecmp(flag, system_flags[i]) == 0)
				canon = system_flags[i];
		if (!canon)
			why = strcasecmp(flag, "\\Recent") == 0
				      ? "\\Recent cannot be set"
				      : "unknown system flag (\\Answered \\Flagged \\Deleted \\Seen "
					"\\Draft)";
	} else if (len > DELIVERY_FLAG_MAX) {
		why = "keyword longer than 64 bytes";
	} else {
		for (size_t i = 0; i < len && !why; i++)
			if (!atom_char((unsigned char)flag[i]))
				why = "keyword contains a character not allowed in an IMAP atom";
	}
	if (why) {
		if (error_r)
			*error_r = why;
		return -EINVAL;
	}
	if (canonical_r)
		*canonical_r = xstrdup(canon);
	return 0;
}

void delivery__target_free(struct delivery__target *t)
{
	free(t->mailbox);
	for (size_t i = 0; i < t->nflags; i++)
		free(t->flags[i]);
	free(t->flags);
	memset(t, 0, sizeof(*t));
}

static int target_add_flag(struct delivery__target *t, const char *flag, char **error_r)
{
	const char *why;
	char *canon;

	if (delivery_check_flag(flag, &canon, &why) < 0) {
		delivery__set_error(error_r, xasprintf("flag '%.80s': %s", flag, why));
		return -EINVAL;
	}
	for (size_t i = 0; i < t->nflags; i++) {
		if (strcasecmp(t->flags[i], canon) == 0) {
			free(canon);
			return 0;
		}
	}
	if (t->nflags == DELIVERY_FLAGS_MAX) {
		free(canon);
		delivery__set_error(error_r, xasprintf("more than %d flags", DELIVERY_FLAGS_MAX));
		return -EINVAL;
	}
	t->flags[t->nflags++] = canon;
	return 0;
}

int delivery__target_check(const struct delivery_opts *opts, struct delivery__target *t,
			   char **error_r)
{
	const char *mailbox = opts && opts->mailbox ? opts->mailbox : "INBOX";
	const char *why;

	memset(t, 0, sizeof(*t));
	if (delivery_check_mailbox(mailbox, &t->mailbox, &why) < 0) {
		delivery__set_error(error_r, xasprintf("mailbox '%.80s': %s", mailbox, why));
		return -EINVAL;
	}
	t->flags = xcalloc(DELIVERY_FLAGS_MAX, sizeof(char *));
	for (size_t i = 0; opts && i < opts->nflags; i++) {
		if (target_add_flag(t, opts->flags[i], error_r) < 0) {
			delivery__target_free(t);
			return -EINVAL;
		}
	}
	return 0;
}

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

int delivery__seal_instructions(const uint8_t key[CRYPTO_KEY_LEN],
				const struct delivery__target *t, int64_t received,
				uint8_t **blob_r, size_t *len_r)
{
	uint8_t plain[INSTR_PADDED_MAX];
	size_t mlen = strlen(t->mailbox), n = 0;

	if (mlen > DELIVERY_MAILBOX_MAX || t->nflags > DELIVERY_FLAGS_MAX || received < 0)
		return -EINVAL;
	memset(plain, 0, sizeof(plain));
	plain[n++] = DELIVERY_INSTRUCTIONS_VERSION;
	put_be(plain + n, (uint64_t)received, 8);
	n += 8;
	put_be(plain + n, mlen, 2);
	n += 2;
	memcpy(plain + n, t->mailbox, mlen);
	n += mlen;
	plain[n++] = (uint8_t)t->nflags;
	for (size_t i = 0; i < t->nflags; i++) {
		size_t flen = strlen(t->flags[i]);
		if (flen == 0 || flen > DELIVERY_FLAG_MAX)
			return -EINVAL;
		plain[n++] = (uint8_t)flen;
		memcpy(plain + n, t->flags[i], flen);
		n += flen;
	}
	/* Padding hides most of the names' length; zeros are checked on open. */
	n = (n + DELIVERY_INSTRUCTIONS_PAD - 1) / DELIVERY_INSTRUCTIONS_PAD *
	    DELIVERY_INSTRUCTIONS_PAD;
	uint8_t *blob = xmalloc(n + CRYPTO_SEAL_OVERHEAD);
	int r = crypto_seal(key, DELIVERY_INSTRUCTIONS_PURPOSE, plain, n, blob);
	crypto_wipe(plain, sizeof(plain));
	if (r < 0) {
		free(blob);
		return r;
	}
	*blob_r = blob;
	*len_r = n + CRYPTO_SEAL_OVERHEAD;
	return 0;
}

/* A reader over the opened instructions that fails on a short buffer. */
struct cursor {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static uint64_t get_be(struct cursor *c, size_t n)
{
	uint64_t v = 0;

	if (c->bad || c->left < n) {
		c->bad = true;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		v = v << 8 | c->p[i];
	c->p += n;
	c->left -= n;
	return v;
}

/* A NUL-terminated copy of the next n bytes, or NULL. */
static char *get_text(struct cursor *c, size_t n)
{
	if (c->bad || c->left < n || memchr(c->p, '\0', n)) {
		c->bad = true;
		return NULL;
	}
	char *s = xstrndup((const char *)c->p, n);
	c->p += n;
	c->left -= n;
	return s;
}

/* Is s already what the check makes of it? Frees nothing but its copy. */
static bool canonical(int (*check)(const char *, char **, const char **), const char *s)
{
	char *canon = NULL;
	bool ok = s && check(s, &canon, NULL) == 0 && strcmp(canon, s) == 0;

	free(canon);
	return ok;
}

static int parse_instructions(struct cursor *c, struct delivery_instructions *out)
{
	if (get_be(c, 1) != DELIVERY_INSTRUCTIONS_VERSION)
		return -EBADMSG;
	uint64_t received = get_be(c, 8);
	size_t mlen = (size_t)get_be(c, 2);
	out->received = (int64_t)received;
	out->mailbox = get_text(c, mlen);
	if (received > INT64_MAX || !canonical(delivery_check_mailbox, out->mailbox))
		return -EBADMSG;
	size_t nflags = (size_t)get_be(c, 1);
	if (c->bad || nflags > DELIVERY_FLAGS_MAX)
		return -EBADMSG;
	out->flags = xcalloc(nflags ? nflags : 1, sizeof(char *));
	for (size_t i = 0; i < nflags; i++) {
		char *flag = get_text(c, (size_t)get_be(c, 1));
		if (!canonical(delivery_check_flag, flag)) {
			free(flag);
			return -EBADMSG;
		}
		out->flags[out->nflags++] = flag;
	}
	/* Only zero padding may follow, less than one pad unit of it. */
	if (c->bad || c->left >= DELIVERY_INSTRUCTIONS_PAD)
		return -EBADMSG;
	for (size_t i = 0; i < c->left; i++)
		if (c->p[i] != 0)
			return -EBADMSG;
	return 0;
}

int delivery_open_instructions(const uint8_t key[CRYPTO_KEY_LEN], const uint8_t *blob,
			       size_t blob_len, struct delivery_instructions *out)
{
	uint8_t plain[INSTR_PADDED_MAX];

	memset(out, 0, sizeof(*out));
	if (!blob || blob_len < CRYPTO_SEAL_OVERHEAD ||
	    blob_len - CRYPTO_SEAL_OVERHEAD > sizeof(plain))
		return -EBADMSG;
	int n = crypto_open(key, DELIVERY_INSTRUCTIONS_PURPOSE, blob, blob_len, plain,
			    sizeof(plain));
	if (n < 0)
		return -EBADMSG;
	struct cursor c = { plain, (size_t)n, false };
	int r = (size_t)n % DELIVERY_INSTRUCTIONS_PAD == 0 ? parse_instructions(&c, out) : -EBADMSG;
	crypto_wipe(plain, sizeof(plain));
	if (r < 0)
		delivery_instructions_free(out);
	return r;
}

void delivery_instructions_free(struct delivery_instructions *in)
{
	free(in->mailbox);
	for (size_t i = 0; i < in->nflags; i++)
		free(in->flags[i]);
	free(in->flags);
	memset(in, 0, sizeof(*in));
}
