/* Writing strings in IMAP syntax (RFC 9051 section 4.3): the shortest of
 * atom, quoted string or literal that carries the bytes exactly. */
#ifndef SEAL_IMAP_ISTRING_H
#define SEAL_IMAP_ISTRING_H

#include <stdbool.h>
#include <stddef.h>

#include "src/util/buf.h"

enum istring_flags {
	ISTRING_ALLOW_ATOM = 1 << 0,	/* astring position: an atom may do */
	ISTRING_UTF8 = 1 << 1,		/* client enabled UTF-8: 8-bit may be quoted */
	ISTRING_NIL_FOR_NULL = 1 << 2,	/* a NULL string is written NIL */
};

/* Appends s[0..len) (s may be NULL with ISTRING_NIL_FOR_NULL) as an atom
 * (if allowed and possible, and not "NIL"), a quoted string (no CR, LF or
 * NUL; 8-bit only with ISTRING_UTF8) or a literal {len} (~{len} when it
 * holds a NUL: RFC 3516 binary literal; the caller must only do that where
 * the grammar allows it). Returns 0 or -EMSGSIZE from the buffer. */
int istring_append(struct buf *out, const char *s, size_t len, unsigned flags);

/* Whether c may appear in an atom (ATOM-CHAR). */
bool istring_atom_char(unsigned char c);

#endif
