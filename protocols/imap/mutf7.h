/* Modified UTF-7 for mailbox names (RFC 3501 section 5.1.3), for clients
 * that have not enabled UTF-8 (RFC 9051 keeps it for IMAP4rev1 clients). */
#ifndef SEAL_IMAP_MUTF7_H
#define SEAL_IMAP_MUTF7_H

#include <stddef.h>

#include "src/util/buf.h"

/* Decodes a mailbox name from the wire into UTF-8, appending to out.
 * Non-normalised input (an encoded run of plain ASCII, two adjacent runs)
 * is accepted as the manual says; malformed input (bad base64, an odd
 * number of bytes, unpaired surrogates, NUL, '&' without '-') is -EINVAL.
 * Plain 8-bit bytes outside '&' runs are refused too: a client sending
 * UTF-8 must have enabled it. */
int mutf7_decode(const char *in, size_t len, struct buf *out);

/* Encodes UTF-8 (already validated) as normalised modified UTF-7. */
int mutf7_encode(const char *in, size_t len, struct buf *out);

/* Whether s is valid UTF-8 (shortest forms, no surrogates, <= U+10FFFF). */
int utf8_valid(const char *s, size_t len);

#endif
