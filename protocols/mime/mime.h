/* The MIME layer: a bounded, streaming parser of RFC 5322 / MIME messages
 * (RFC 2045-2049) into a tree of parts with exact byte offsets, and the IMAP
 * renderings built on it: ENVELOPE, BODY, BODYSTRUCTURE (RFC 9051 7.5.2),
 * BODY[section] byte ranges (RFC 9051 6.4.5), BINARY decoding (RFC 3516) and
 * search text (decoded, converted to UTF-8, case-folded).
 *
 * The message is read through a random-access byte source, so the store can
 * decrypt ranges on demand: the parser never holds the whole message, only
 * one header field at a time (at most limits.max_header_line bytes) plus the
 * tree. The source is read once from start to end, in ranges of at most
 * 16 KiB; a parse holds a 16 KiB window, one header field and the tree.
 * Malformed input never fails a parse; only a failing source does. All
 * functions are reentrant; a finished tree is read-only and can be shared.
 *
 * Limits (manual, "IMAP Characteristics" > Limits; src/util/limits.h):
 *  - at most max_depth (20) levels of multipart or message/rfc822 nesting:
 *    a container at that depth is not expanded and is rendered as an opaque
 *    APPLICATION/OCTET-STREAM part;
 *  - at most max_parts (1000) parts, counting every node of the tree (the
 *    root and each enclosed message too): later parts of a multipart are
 *    skipped (their bytes stay in the parent's body), a message/rfc822 that
 *    cannot get its enclosed node is opaque;
 *  - a header field longer than max_header_line (64 KiB, folded lines
 *    included) is not processed; once the processed fields of one header
 *    add up to max_header_block (256 KiB), later fields are not processed;
 *    either way the header still ends at its blank line;
 *  - strings kept from headers for the whole tree are capped at max_strings
 *    bytes; past that, further fields read as absent.
 */
#ifndef SEAL_MIME_H
#define SEAL_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "src/util/buf.h"

/* ---- Byte source ------------------------------------------------------- */

struct mime_source {
	/* Reads up to len bytes at offset into buf. Returns how many (>0; fewer
	 * than asked is fine), 0 at or past the end, or a negative errno. The
	 * parser never asks past size. NULL: the message is `data`. */
	ssize_t (*read)(void *ctx, uint64_t offset, void *buf, size_t len);
	void *ctx;
	const void *data;
	uint64_t size;
};

/* A source over a buffer the caller keeps alive while the source is used. */
struct mime_source mime_source_memory(const void *data, size_t len);

/* Reads exactly min(len, size - offset) bytes, looping over short reads.
 * Returns that count or a negative errno (-EIO when the callback returns 0
 * before the end). */
ssize_t mime_source_read(const struct mime_source *src, uint64_t offset, void *buf, size_t len);

/* ---- Parsing ------------------------------------------------------------ */

struct mime_limits {
	unsigned max_depth;		/* SEAL_MAX_MIME_DEPTH */
	unsigned max_parts;		/* SEAL_MAX_MIME_PARTS */
	size_t max_header_line;		/* SEAL_MAX_LINE */
	size_t max_header_block;	/* SEAL_MAX_HEADER_BLOCK */
	size_t max_strings;		/* header strings kept for one tree */
};

/* The values the daemon uses (limits.h, and 8 MiB of strings). */
extern const struct mime_limits mime_default_limits;

/* Longest boundary parameter honoured; RFC 2046 allows 70, real mail more. */
#define MIME_MAX_BOUNDARY 200

struct mime_param {
	const char *name;	/* upper-cased (names are case-insensitive) */
	const char *value;	/* unquoted; raw bytes, no RFC 2231 decoding
				 * (manual: RFC 2184 is not implemented) */
};

/* Unfolded header values (RFC 5322 2.2.3) with outer whitespace trimmed and
 * NUL bytes dropped, as in the message: no decoding. NULL: the field is
 * absent (or could not be processed). The first occurrence of a field wins. */
struct mime_envelope {
	const char *date, *subject, *from, *sender, *reply_to, *to, *cc, *bcc;
	const char *in_reply_to, *message_id;
};

enum mime_part_flag {
	MIME_PART_MULTIPART = 1 << 0,	/* expanded multipart: see children */
	MIME_PART_MESSAGE = 1 << 1,	/* message/rfc822|global: see message */
	MIME_PART_OPAQUE = 1 << 2,	/* container not expanded (limit,
					 * no boundary found, encoded message) */
	MIME_PART_BLANK_LINE = 1 << 3,	/* the header ended with a blank line */
	MIME_PART_UNTERMINATED = 1 << 4, /* multipart without its close line */
	MIME_PART_CONTENT_TYPE = 1 << 5, /* a valid Content-Type was given */
};

struct mime_part {
	struct mime_part *parent;	/* NULL for the root; for an enclosed
					 * message, its message/rfc822 part */
	struct mime_part *children;	/* first child of a multipart */
	struct mime_part *next;		/* next sibling */
	struct mime_part *message;	/* enclosed message of message/rfc822 */
	struct mime_envelope *envelope;	/* on the root and enclosed messages */
	unsigned nchildren, depth, flags;

	/* Byte ranges of the message given to mime_parse(), the header
	 * followed at once by the body (hdr_off + hdr_len == body_off), each
	 * inside its parent's body. The header block includes its blank line;
	 * the body excludes the line break before a boundary line (RFC 2046
	 * 5.1.1). When that line break is the header's own last one (a part
	 * with no body), the header loses it too: no blank line, no body. */
	uint64_t hdr_off, hdr_len, body_off, body_len;
	/* Text lines of the body: line feeds, plus one for a last line without
	 * one. IMAP body-fld-lines for text/... and message/rfc822|global. */
	uint64_t lines;

	/* Content-Type: never NULL. Type and subtype are upper-cased (they are
	 * case-insensitive tokens); defaults TEXT/PLAIN; CHARSET=US-ASCII, or
	 * MESSAGE/RFC822 inside multipart/digest (RFC 2046 5.1.5). */
	const char *type, *subtype;
	const struct mime_param *params;
	size_t nparams;
	const char *encoding;		/* upper-cased token; NULL: 7BIT */
	const char *id, *description, *md5, *location;	/* raw, or NULL */
	const char *disposition;	/* upper-cased token, or NULL */
	const struct mime_param *disp_params;
	size_t ndisp_params;
	const char *const *languages;	/* Content-Language tokens */
	size_t nlanguages;
};

struct mime_message {
	struct mime_part *root;
	uint64_t size;
	unsigned nparts;
	struct mime__arena *arena;	/* private: everything of the tree */
};

/* Parses the message of src. limits NULL means mime_default_limits.
 * Returns 0 and a tree in *msg_r (free with mime_message_free), or the
 * source's negative errno. Malformed input never fails. The tree does not
 * refer to src; later calls that read the body take a source again, which
 * must give the same bytes. */
int mime_parse(const struct mime_source *src, const struct mime_limits *limits,
	       struct mime_message **msg_r);
/* Frees the whole tree and sets *msg to NULL; NULL is fine. */
void mime_message_free(struct mime_message **msg);

/* The part by IMAP part number ("1.2.3", RFC 9051 6.4.5): a non-multipart
 * message has only part 1, itself; parts below a message/rfc822 part are
 * those of its enclosed message. NULL when there is no such part. */
const struct mime_part *mime_part_by_number(const struct mime_message *msg, const unsigned *nums,
					    size_t n);

/* True for text/..., message/rfc822 and message/global (not opaque): the
 * part types whose IMAP body structure has a line count. */
bool mime_part_is_text(const struct mime_part *p);
/* The value of the Content-Type parameter name (case-insensitive), or NULL. */
const char *mime_part_param(const struct mime_part *p, const char *name);

/* ---- IMAP renderings ---------------------------------------------------- */

/* All writers append to out and return 0 or the buffer's -EMSGSIZE.
 *
 * Strings come out as NIL, "quoted" or {n} literals (CR or LF inside); NUL
 * bytes are dropped. utf8 is true when the client enabled UTF8=ACCEPT (or
 * IMAP4rev2 with it): then text is sent as UTF-8, encoded words decoded.
 * Without it, non-ASCII in the subject, address display names and
 * descriptions is sent as RFC 2047 base64 UTF-8 encoded words, and in every
 * other field each non-ASCII character becomes 'X' (manual: Unicode support).
 * Invalid UTF-8 becomes U+FFFD first. */
int mime_write_envelope(struct buf *out, const struct mime_envelope *env, bool utf8);
/* BODYSTRUCTURE when extended, else BODY, for the part and its descendants;
 * pass msg->root for the message. */
int mime_write_body(struct buf *out, const struct mime_part *part, bool extended, bool utf8);
/* One IMAP string as described above; kind MIME_STR_TEXT allows encoded
 * words, MIME_STR_STRUCT replaces non-ASCII by 'X' when !utf8, MIME_STR_RAW
 * leaves bytes alone (8-bit included; only the quoting is chosen). */
enum mime_str_kind { MIME_STR_STRUCT, MIME_STR_TEXT, MIME_STR_RAW };
int mime_write_nstring(struct buf *out, const char *s, size_t len, enum mime_str_kind kind,
		       bool utf8);

/* ---- Addresses (RFC 5322 3.4, obsolete forms of 4.4 tolerated) --------- */

struct mime_address {
	char *name;	/* display name, unquoted; encoded words left as they are */
	char *mailbox;	/* local part; group name for a group start; or NULL */
	char *host;	/* domain; "" when missing; NULL marks group syntax */
};

/* Parses an address list header value into *addrs_r (count in *n_r; free
 * with mime_addresses_free). Groups give a start entry (mailbox = name, host
 * NULL) and an end entry (all NULL) as in RFC 9051 7.5.2. Source routes are
 * dropped. Unparsable text that holds no address gives one entry with the
 * text as mailbox and host "". Never fails; n 0 for an empty list. */
void mime_addresses_parse(const char *value, size_t len, struct mime_address **addrs_r, size_t *n_r);
void mime_addresses_free(struct mime_address **addrs, size_t n);

/* ---- Header-only trees (the store's header cache) ---------------------- */

/* What a header cache keeps beside a message's header block so that
 * mime_parse_header() can stand in for a full parse. */
struct mime_header_facts {
	uint64_t hdr_len;	/* the top-level header block is bytes [0, hdr_len)
				 * of the message, its blank line included */
	bool single;		/* the root is one part: no expanded multipart,
				 * no enclosed message */
	uint64_t lines;		/* the root body's line count, when single */
};

/* The facts of a message parsed whole by mime_parse(). */
void mime_header_facts(const struct mime_message *msg, struct mime_header_facts *f_r);

/* Parses a message from its header block alone: hdr holds the first
 * hdr_len bytes of a message of size bytes, hdr_len as mime_header_facts()
 * gave it; lines is the count it gave for a single root, or NULL. The tree
 * equals a full parse's in the root's envelope, header fields and header
 * range, so ENVELOPE and the HEADER, HEADER.FIELDS and HEADER.FIELDS.NOT
 * sections of the message (nparts 0) come out byte-identical, read from
 * mime_source_memory(hdr, hdr_len); with lines, BODY and BODYSTRUCTURE
 * too. Nothing else of the body is in it (no parts, BODY[], TEXT, BINARY).
 * Returns 0 and *msg_r (mime_message_free), or -ESTALE when hdr is not a
 * whole header block of such a message, or lines were given and the root
 * is not single: then the message itself must be parsed. */
int mime_parse_header(const void *hdr, size_t hdr_len, uint64_t size, const uint64_t *lines,
		      struct mime_message **msg_r);

/* ---- BODY[section] (RFC 9051 6.4.5) ------------------------------------- */

enum mime_section_text {
	MIME_SECTION_BODY,		/* no text part: the whole part */
	MIME_SECTION_HEADER,
	MIME_SECTION_HEADER_FIELDS,
	MIME_SECTION_HEADER_FIELDS_NOT,
	MIME_SECTION_TEXT,
	MIME_SECTION_MIME,
};

#define MIME_SECTION_MAX_PARTS 64

struct mime_section {
	unsigned parts[MIME_SECTION_MAX_PARTS];
	size_t nparts;
	enum mime_section_text text;
	char **fields;		/* HEADER.FIELDS list, owned; see free below */
	size_t nfields;
};

/* Parses what stands between the brackets of BODY[...], e.g. "1.2.TEXT" or
 * "HEADER.FIELDS (From To)" (case-insensitive keywords; the field list as
 * astrings: atoms or "quoted"). Returns 0, or -EINVAL for bad syntax (MIME
 * without a part number, a part number 0, a list elsewhere). */
int mime_section_parse(const char *spec, size_t len, struct mime_section *sec_r);
void mime_section_free(struct mime_section *sec);

/* Maps a section to bytes of the message: sets *off_r / *len_r and returns
 * 0, or for HEADER.FIELDS[.NOT] appends the chosen fields, byte-exact with
 * their folding and line ends, plus the header's blank line when it has one,
 * to out and returns 1. Returns -ENOENT for a part that does not exist or a
 * HEADER/TEXT on a part that is not message/rfc822|global, or a negative
 * errno from src or out (out->max bounds what a huge header can give).
 * BODY[] is the whole message; part "1" of a non-multipart message is its
 * body; N.MIME is the header of part N. Fields over the header line limit
 * are left out of HEADER.FIELDS[.NOT]. */
int mime_section_fetch(const struct mime_message *msg, const struct mime_source *src,
		       const struct mime_section *sec, uint64_t *off_r, uint64_t *len_r,
		       struct buf *out);

/* ---- Content-Transfer-Encoding decoding (BINARY, search) -------------- */

enum mime_cte { MIME_CTE_IDENTITY, MIME_CTE_BASE64, MIME_CTE_QP };

/* Out needs room for this much beyond the input of one call. */
#define MIME_DECODE_MARGIN 260

struct mime_decoder {
	enum mime_cte cte;
	unsigned errors;	/* garbage seen: bad base64 characters, broken
				 * =XX escapes, data after padding */
	uint32_t bits;		/* base64: pending bits */
	unsigned nbits, pad;
	uint8_t pending[MIME_DECODE_MARGIN];	/* QP: '=' escape or spaces */
	size_t npending;
	unsigned state;		/* QP: what the pending bytes are */
};

/* encoding is the Content-Transfer-Encoding value (NULL: 7bit). 7bit, 8bit
 * and binary are the identity. Returns 0, or -ENOTSUP for an encoding this
 * layer does not know: IMAP answers NO [UNKNOWN-CTE] (RFC 3516 4.3). */
int mime_decoder_init(struct mime_decoder *d, const char *encoding);
/* Decodes len bytes of in into out, which holds len + MIME_DECODE_MARGIN
 * bytes; returns the bytes written. Any split of the input gives the same
 * output. Base64 skips whitespace and counts other garbage in d->errors;
 * quoted-printable drops trailing whitespace before line ends (RFC 2045
 * 6.7) and passes broken escapes through literally. */
size_t mime_decode(struct mime_decoder *d, const void *in, size_t len, uint8_t *out);
/* Flushes what is pending at the end of the input into out (room:
 * MIME_DECODE_MARGIN); returns the bytes written. */
size_t mime_decode_finish(struct mime_decoder *d, uint8_t *out);

/* Decodes the body of a part by its Content-Transfer-Encoding, streaming:
 * calls emit for each decoded chunk (emit returns 0 or a negative errno that
 * stops the walk and is returned). Returns 0, -ENOTSUP (UNKNOWN-CTE), or a
 * negative errno of src. */
int mime_part_decode(const struct mime_source *src, const struct mime_part *p,
		     int (*emit)(void *ctx, const void *data, size_t len), void *ctx);
/* BINARY.SIZE: the decoded size of the part's body. Same returns. */
int mime_part_decoded_size(const struct mime_source *src, const struct mime_part *p,
			   uint64_t *size_r);

/* ---- Text: encoded words, charsets, case folding ----------------------- */

/* RFC 2047: appends the UTF-8 decoding of an unstructured header value to
 * out. Whitespace between encoded words is dropped; adjacent words with no
 * space, bad base64 padding and characters split over words are tolerated;
 * a word in an unknown charset is left as it is. Other bytes pass as UTF-8,
 * invalid sequences becoming U+FFFD. Returns 0 or -EMSGSIZE from out. */
int mime_encword_decode(const char *in, size_t len, struct buf *out);
/* Appends UTF-8 text as "=?UTF-8?B?...?=" words of at most 75 characters,
 * split between characters, separated by spaces. */
int mime_encword_encode(const char *utf8, size_t len, struct buf *out);

/* Converts text in charset (a MIME charset name) to UTF-8 and appends it.
 * Returns 0, or -ENOENT when iconv does not know the charset; then nothing
 * was appended and the caller can fall back to mime_utf8_sanitize. Bytes
 * invalid in the charset become U+FFFD. */
int mime_charset_to_utf8(const char *charset, const void *in, size_t len, struct buf *out);
/* Appends in with invalid UTF-8 sequences replaced by U+FFFD. */
int mime_utf8_sanitize(const void *in, size_t len, struct buf *out);
/* True if the bytes are all ASCII. */
bool mime_is_ascii(const void *in, size_t len);

/* Appends in, read as UTF-8 (invalid sequences become U+FFFD), with Unicode
 * simple case folding (CaseFolding.txt statuses C and S: ß stays ß, dotless
 * ı and dotted İ stay themselves, ς folds to σ). Both sides of a SEARCH
 * comparison go through this. */
int mime_text_fold(const char *utf8_in, size_t len, struct buf *out);

/* ---- Search text -------------------------------------------------------- */

/* Manual, Limits: search considers up to 128 KiB of text. */
#define MIME_SEARCH_MAX_TEXT (128 * 1024)

/* Appends the decoded (RFC 2047) and case-folded values of every field
 * called name (all fields when name is NULL, each as "name: value") of the
 * top-level header, one per line, stopping at max bytes of output.
 * Returns 0 or a negative errno from src or out. */
int mime_search_header(const struct mime_message *msg, const struct mime_source *src,
		       const char *name, size_t max, struct buf *out);
/* Appends the text of every text/... part (also inside enclosed messages):
 * transfer encoding decoded, converted to UTF-8 from its charset (unknown:
 * read as UTF-8), case-folded, parts separated by '\n', at most max bytes
 * of output. Returns 0 or a negative errno. */
int mime_search_body(const struct mime_message *msg, const struct mime_source *src, size_t max,
		     struct buf *out);

/* ---- Dates (RFC 5322 3.3 and obsolete 4.3) ----------------------------- */

/* Parses a Date: value: optional day name, day, month name, 2- to 4-digit
 * year, hh:mm[:ss], a numeric or named zone (missing or military zones
 * count as +0000), comments anywhere. Returns 0 with the UTC time in *t_r
 * and the zone in minutes east of UTC in *zone_r, or -EINVAL. */
int mime_date_parse(const char *s, size_t len, time_t *t_r, int *zone_r);

#endif
