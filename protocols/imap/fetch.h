/* FETCH (RFC 9051 6.4.5 and 7.5.2, RFC 3501 for the IMAP4rev1 items,
 * RFC 3516 BINARY, RFC 7162 MODSEQ/CHANGEDSINCE, RFC 8474 EMAILID/THREADID,
 * RFC 8514 SAVEDATE): the attribute list parser (fetch-parse.c) and the
 * renderer of one message's response (fetch-render.c). cmd-fetch.c ties
 * them to the session, the view and the store.
 *
 * The renderer never holds a message body: sections are written as a
 * literal header ("{n}" or, for BINARY holding a NUL, "~{n}") followed by
 * the bytes, read from the message's byte source in chunks and handed to
 * the sink as they come. Only HEADER.FIELDS subsets (bounded by the header
 * limits) and the small items are built in memory.
 */
#ifndef SEAL_IMAP_FETCH_H
#define SEAL_IMAP_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/imap/datetime.h"
#include "protocols/mime/mime.h"
#include "src/util/buf.h"
#include "storage/meta.h"

struct imap_arg;
struct imap_fetch_payload;

/* Simple attributes, as bits; rendered in this order (RFC 9051 allows any
 * order; UID comes first so that clients see it early). */
enum imap_fetch_att {
	IMAP_FETCH_UID = 1 << 0,
	IMAP_FETCH_FLAGS = 1 << 1,
	IMAP_FETCH_MODSEQ = 1 << 2,		/* RFC 7162 */
	IMAP_FETCH_INTERNALDATE = 1 << 3,
	IMAP_FETCH_RFC822_SIZE = 1 << 4,
	IMAP_FETCH_ENVELOPE = 1 << 5,
	IMAP_FETCH_BODY = 1 << 6,		/* BODY without a section */
	IMAP_FETCH_BODYSTRUCTURE = 1 << 7,
	IMAP_FETCH_EMAILID = 1 << 8,		/* RFC 8474 */
	IMAP_FETCH_THREADID = 1 << 9,		/* RFC 8474: always NIL here */
	IMAP_FETCH_SAVEDATE = 1 << 10,		/* RFC 8514 */
};

enum imap_fetch_kind {
	IMAP_FETCH_SECTION,	/* BODY[...], BODY.PEEK[...], RFC822(.HEADER/.TEXT) */
	IMAP_FETCH_BINARY,	/* BINARY[...], BINARY.PEEK[...] */
	IMAP_FETCH_BINARY_SIZE,	/* BINARY.SIZE[...] */
};

struct imap_fetch_section {
	enum imap_fetch_kind kind;
	bool peek;		/* does not set \Seen */
	bool partial;		/* <offset.length> given */
	uint64_t offset, length;
	struct mime_section sec;	/* BINARY: parts only */
	/* The response item name without the origin: "BODY[1.MIME]",
	 * "BODY[HEADER.FIELDS (FROM TO)]", "RFC822.TEXT", "BINARY.SIZE[2]".
	 * Heap, owned. */
	char *name;
};

struct imap_fetch_req {
	unsigned atts;		/* enum imap_fetch_att */
	struct imap_fetch_section *sections;	/* in the order asked */
	size_t nsections;
	uint64_t changedsince;	/* CHANGEDSINCE modifier; 0: none */
	bool has_changedsince;
	bool vanished;		/* VANISHED modifier (QRESYNC, UID FETCH) */

	/* Derived. */
	bool sets_seen;		/* a non-PEEK body section or RFC822(.TEXT) */
	bool needs_meta;	/* INTERNALDATE RFC822.SIZE EMAILID SAVEDATE */
	bool needs_tree;	/* ENVELOPE BODY BODYSTRUCTURE or a part */
	bool needs_source;	/* any of the above or a body section */
	/* needs_source, and every item that reads the message reads only its
	 * top-level header block: ENVELOPE, BODY[HEADER], RFC822.HEADER,
	 * BODY[HEADER.FIELDS[.NOT] (...)], and BODY or BODYSTRUCTURE (which
	 * a header block answers for a single-part message only) */
	bool header_only;
	bool needs_structure;	/* BODY or BODYSTRUCTURE */
};

/* What the session has turned on, for the parser. */
struct imap_fetch_opts {
	bool uid;		/* UID FETCH: UID is always sent */
	bool condstore;		/* MODSEQ and CHANGEDSINCE allowed */
	bool qresync;		/* VANISHED allowed (with UID and CHANGEDSINCE) */
	bool objectid;		/* EMAILID, THREADID */
	bool savedate;		/* SAVEDATE */
};

/* Parses FETCH's arguments after the sequence set: args[0] is an atom (an
 * item or the macros ALL, FAST, FULL) or a list of items; args[1], if
 * nargs is 2, the modifier list (CHANGEDSINCE n, VANISHED). Item names are
 * case-insensitive. Returns 0 with *req filled (free with
 * imap_fetch_req_free), or -EINVAL with *error_r (static text) for a
 * malformed request: the command's BAD. */
int imap_fetch_parse(const struct imap_arg *args, size_t nargs, const struct imap_fetch_opts *opts,
		     struct imap_fetch_req *req, const char **error_r);
void imap_fetch_req_free(struct imap_fetch_req *req);

/* ---- Rendering ---------------------------------------------------------- */

/* Where a response goes: the session's stream, or a buffer in tests.
 * write returns 0 or a negative errno (the connection is lost). */
struct imap_fetch_sink {
	int (*write)(void *ctx, const void *data, size_t len);
	void *ctx;
};

/* One message, as the command gathered it. */
struct imap_fetch_msg {
	uint32_t seq, uid;
	/* FLAGS and MODSEQ: the flags already rendered as "(\Seen foo)" (the
	 * view knows keyword names and \Recent); NULL if unknown. */
	const char *flags;
	uint64_t modseq;
	unsigned add_atts;	/* sent although not asked: FLAGS (and
				 * MODSEQ) when \Seen was just set */
	/* INTERNALDATE, RFC822.SIZE, SAVEDATE, EMAILID: NULL if unknown. */
	const struct meta_fetch_item *meta;
	/* The bytes, when req->needs_source; NULL otherwise. */
	const struct mime_source *src;
	/* The parsed message, when the caller has it (a full parse of src, or
	 * mime_parse_header() of a cached header block, src then being that
	 * block); NULL: parsed here when needed. */
	const struct mime_message *tree;
};

/* Per-command rendering state: init once, render each message, free. */
struct imap_fetch_ctx {
	const struct imap_fetch_req *req;
	struct imap_fetch_sink sink;
	bool utf8;		/* UTF8=ACCEPT: ENVELOPE/BODYSTRUCTURE in UTF-8 */
	struct buf line;	/* the response before its next literal */
	struct buf tmp;		/* HEADER.FIELDS subsets, small renderings */
	uint8_t *chunk;		/* IMAP_FETCH_CHUNK bytes */
	bool started;		/* something of the current message was written */
	struct imap_fetch_payload *pay;	/* one per section, per message */
};

#define IMAP_FETCH_CHUNK (64 * 1024)
#define IMAP_FETCH_MAX_SECTIONS 64

void imap_fetch_ctx_init(struct imap_fetch_ctx *ctx, const struct imap_fetch_req *req,
			 struct imap_fetch_sink sink, bool utf8);
void imap_fetch_ctx_free(struct imap_fetch_ctx *ctx);

/* Writes "* seq FETCH (...)\r\n" for m. Everything that can fail for
 * reasons of the message (parsing, header subsets, BINARY decoding and
 * sizes) happens before the first byte is written; then only reading the
 * source and the sink can fail. Returns 0, or:
 *  - -ENOTSUP: a BINARY section has a transfer encoding this server
 *    cannot decode; the command answers NO [UNKNOWN-CTE] (RFC 3516 4.3);
 *  - another negative errno. If ctx->started is false nothing of this
 *    message was written (a source error: -EBADMSG for a damaged message,
 *    the command may go on with the next one); if it is true the response
 *    is cut in the middle and the connection must be closed. */
int imap_fetch_render(struct imap_fetch_ctx *ctx, const struct imap_fetch_msg *m);

#endif
