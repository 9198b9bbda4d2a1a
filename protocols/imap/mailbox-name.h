/* Mailbox names between the wire and the store (manual, "Mailboxes";
 * RFC 9051 5.1; RFC 3501 5.1.3).
 *
 * On the wire a name is modified UTF-7 unless the client enabled UTF-8
 * (UTF8=ACCEPT or IMAP4rev2), in which case it is UTF-8 as is. The store
 * takes UTF-8 paths with '/' as the delimiter (storage/meta.h). Decoding
 * also normalises: leading, trailing and duplicate '/' go away ("/a//b/"
 * is "a/b"), and INBOX as the first component is matched in any case and
 * written "INBOX". Everything else (characters, lengths, depth) is for
 * the store to judge (meta_name_check).
 */
#ifndef SEAL_IMAP_MAILBOX_NAME_H
#define SEAL_IMAP_MAILBOX_NAME_H

#include <stdbool.h>
#include <stddef.h>

#include "src/util/buf.h"

#define IMAP_DELIMITER '/'

/* Decodes in[0..len) (an astring's bytes) into out (appended; the caller
 * frees it). Returns 0 (out may be empty: "" and "/" name nothing), or
 * -EINVAL with *error_r for bad modified UTF-7, invalid UTF-8, or a NUL. */
int imap_mailbox_decode(const char *in, size_t len, bool utf8, struct buf *out,
			const char **error_r);

/* Normalises a UTF-8 name in place as decoding does (delimiters, INBOX).
 * For LIST patterns too: '%' and '*' are left alone. */
void imap_mailbox_normalise(char *name);

/* Appends name (UTF-8 storage name) for the wire: modified UTF-7 unless
 * utf8, written as an astring (atom, quoted string or literal). Returns 0
 * or -EMSGSIZE from the buffer. */
int imap_mailbox_append(struct buf *out, const char *name, bool utf8);

/* Whether name is INBOX or under it, after normalisation. */
bool imap_mailbox_is_inbox(const char *name);

#endif
