#include "protocols/imap/mailbox-name.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "protocols/imap/istring.h"
#include "protocols/imap/mutf7.h"

void imap_mailbox_normalise(char *name)
{
	char *w = name;
	for (const char *p = name; *p; p++) {
		if (*p == IMAP_DELIMITER && (w == name || w[-1] == IMAP_DELIMITER))
			continue;
		*w++ = *p;
	}
	if (w > name && w[-1] == IMAP_DELIMITER)
		w--;
	*w = '\0';
	/* INBOX is case-insensitive as a whole first component only:
	 * "inbox/x" is INBOX's child, "inboxes" is not INBOX. */
	if (strncasecmp(name, "INBOX", 5) == 0 &&
	    (name[5] == '\0' || name[5] == IMAP_DELIMITER))
		memcpy(name, "INBOX", 5);
}

int imap_mailbox_decode(const char *in, size_t len, bool utf8, struct buf *out,
			const char **error_r)
{
	size_t start = out->len;
	if (memchr(in, '\0', len)) {
		*error_r = "NUL in mailbox name";
		return -EINVAL;
	}
	int r;
	if (utf8) {
		if (!utf8_valid(in, len)) {
			*error_r = "Mailbox name is not valid UTF-8";
			return -EINVAL;
		}
		r = buf_append(out, in, len);
	} else {
		r = mutf7_decode(in, len, out);
		if (r == -EINVAL)
			*error_r = "Mailbox name is not valid modified UTF-7";
	}
	if (r == -EMSGSIZE)
		*error_r = "Mailbox name too long";
	if (r < 0)
		return r;
	if (out->data) {
		imap_mailbox_normalise(out->data + start);
		out->len = start + strlen(out->data + start);
	}
	return 0;
}

int imap_mailbox_append(struct buf *out, const char *name, bool utf8)
{
	size_t len = strlen(name);
	if (utf8)
		return istring_append(out, name, len, ISTRING_ALLOW_ATOM | ISTRING_UTF8);
	struct buf enc = BUF_INIT(0);
	int r = mutf7_encode(name, len, &enc);
	if (r == 0)
		r = istring_append(out, enc.data ? enc.data : "", enc.len, ISTRING_ALLOW_ATOM);
	buf_free(&enc);
	return r;
}

bool imap_mailbox_is_inbox(const char *name)
{
	return strncmp(name, "INBOX", 5) == 0 && (name[5] == '\0' || name[5] == IMAP_DELIMITER);
}
