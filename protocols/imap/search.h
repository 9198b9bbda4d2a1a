/* SEARCH (RFC 9051 6.4.4, RFC 3501 6.4.4; RFC 4731 ESEARCH return options,
 * RFC 5182 SEARCHRES "$", RFC 7162 MODSEQ, RFC 8474 EMAILID/THREADID,
 * RFC 8514 SAVEDATE): the criteria parser (search-parse.c) and the matcher
 * (search-eval.c). cmd-search.c runs them over the selected mailbox.
 *
 * Criteria become a tree of keys in one array (indices, not pointers, so
 * the array can grow while parsing). Strings to look for are stored
 * decoded to UTF-8 and case-folded (Unicode simple folding), as the text
 * they are compared with (manual, "Unicode support").
 *
 * The matcher is three-valued: it first runs on what the metadata says
 * (flags, UIDs, sizes, dates), and answers MAYBE only when the outcome
 * depends on the message's content; the caller then opens the message and
 * asks again with its content. So a search for UNSEEN, or for SUBJECT on
 * messages that FLAGGED already excludes, never decrypts a message.
 */
#ifndef SEAL_IMAP_SEARCH_H
#define SEAL_IMAP_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/imap/seqset.h"
#include "protocols/mime/mime.h"
#include "src/util/buf.h"
#include "storage/meta.h"

struct imap_arg;

enum imap_search_op {
	IMAP_SK_ALL,
	IMAP_SK_AND,		/* every child */
	IMAP_SK_OR,		/* either of two children */
	IMAP_SK_NOT,		/* the child does not match */
	IMAP_SK_SEQSET,		/* set: sequence numbers */
	IMAP_SK_UIDSET,		/* set: UIDs */
	IMAP_SK_SAVED,		/* "$" or "UID $": the saved result (RFC 5182) */
	IMAP_SK_FLAG,		/* num: a META_FLAG_ bit is set */
	IMAP_SK_RECENT,
	IMAP_SK_KEYWORD,	/* text: keyword name */
	IMAP_SK_BEFORE,		/* num: day (days since 1970-01-01) of INTERNALDATE */
	IMAP_SK_ON,
	IMAP_SK_SINCE,
	IMAP_SK_SENTBEFORE,	/* the same for the Date: header */
	IMAP_SK_SENTON,
	IMAP_SK_SENTSINCE,
	IMAP_SK_SAVEDBEFORE,	/* the same for SAVEDATE (RFC 8514) */
	IMAP_SK_SAVEDON,
	IMAP_SK_SAVEDSINCE,
	IMAP_SK_SAVEDATESUPPORTED,
	IMAP_SK_LARGER,		/* num: RFC822.SIZE */
	IMAP_SK_SMALLER,
	IMAP_SK_HEADER,		/* field, text (FROM, TO, CC, BCC, SUBJECT too) */
	IMAP_SK_BODY,		/* text */
	IMAP_SK_TEXT,		/* text: header or body */
	IMAP_SK_MODSEQ,		/* num: MODSEQ >= num (RFC 7162 3.1.5) */
	IMAP_SK_EMAILID,	/* text */
	IMAP_SK_THREADID,	/* text: no threads here, never matches */
};

struct imap_search_key {
	enum imap_search_op op;
	int first;		/* AND, OR, NOT: index of the first child */
	int next;		/* index of the next sibling; -1 ends */
	uint64_t num;
	char *field;		/* HEADER: field name */
	char *text;		/* folded needle, keyword, object id; NUL-ended */
	size_t text_len;
	struct seqset set;
};

/* RETURN options (RFC 4731 3.1, RFC 5182 2.1). */
enum imap_search_ret {
	IMAP_SEARCH_RET_MIN = 1 << 0,
	IMAP_SEARCH_RET_MAX = 1 << 1,
	IMAP_SEARCH_RET_ALL = 1 << 2,
	IMAP_SEARCH_RET_COUNT = 1 << 3,
	IMAP_SEARCH_RET_SAVE = 1 << 4,
};

/* What the criteria need, so the command loads no more than that. */
enum imap_search_needs {
	IMAP_SEARCH_NEEDS_META = 1 << 0,	/* sizes, internal/save dates, EMAILID */
	IMAP_SEARCH_NEEDS_CONTENT = 1 << 1,	/* header, body, sent date */
	IMAP_SEARCH_NEEDS_SAVED = 1 << 2,	/* "$" */
	IMAP_SEARCH_NEEDS_MODSEQ = 1 << 3,	/* a MODSEQ key (RFC 7162) */
};

struct imap_search {
	struct imap_search_key *keys;	/* keys[0] is the root, an AND */
	size_t n, cap;
	bool has_return;	/* RETURN (...) given: answer with ESEARCH */
	unsigned ret;		/* enum imap_search_ret; RETURN () means ALL */
	unsigned needs;		/* enum imap_search_needs */
};

struct imap_search_opts {
	uint32_t msg_count;	/* "*" in sequence sets */
	uint32_t max_uid;	/* "*" in UID sets: the highest UID, 0 if empty */
	bool condstore;		/* MODSEQ allowed */
	bool objectid;		/* EMAILID, THREADID allowed */
	bool savedate;		/* SAVED*, SAVEDATESUPPORTED allowed */
	bool esearch;		/* RETURN allowed (ESEARCH advertised) */
};

/* Parses SEARCH's arguments: [RETURN (opts)] [CHARSET name] keys.
 * Returns 0 with *search filled (free with imap_search_free), -EINVAL
 * with *error_r for bad syntax (BAD), or -ENOTSUP for a charset other
 * than UTF-8 and US-ASCII (NO [BADCHARSET (UTF-8 US-ASCII)]). */
int imap_search_parse(const struct imap_arg *args, size_t nargs, const struct imap_search_opts *o,
		      struct imap_search *search, const char **error_r);
void imap_search_free(struct imap_search *search);

/* A date "1-Feb-1994" (RFC 9051 date-text; the day may have one or two
 * digits) as days since 1970-01-01. Returns 0 or -EINVAL. */
int imap_search_parse_date(const char *s, size_t len, int64_t *day_r);

/* ---- Matching ----------------------------------------------------------- */

enum { IMAP_SEARCH_NO = 0, IMAP_SEARCH_YES = 1, IMAP_SEARCH_MAYBE = 2 };

/* One message's metadata. */
struct imap_search_msg {
	uint32_t seq, uid;
	uint32_t flags;		/* META_FLAG_ */
	bool recent;
	uint64_t modseq;
	const uint32_t *kw;	/* keyword ids */
	size_t n_kw;
	/* Size, dates, EMAILID (needed with IMAP_SEARCH_NEEDS_META); NULL
	 * when unknown: such keys do not match. */
	const struct meta_fetch_item *meta;
};

/* The message's content, read on demand and kept for the keys that
 * follow: the MIME tree, the folded header and body text (at most
 * MIME_SEARCH_MAX_TEXT bytes each, manual "Limits"), the sent date. */
struct imap_search_content {
	const struct mime_source *src;
	struct mime_message *tree;
	struct buf headers, body, field;
	bool have_headers, have_body, have_date;
	bool date_ok;
	int64_t sent_day;
};

void imap_search_content_init(struct imap_search_content *c, const struct mime_source *src);
void imap_search_content_free(struct imap_search_content *c);

/* The context of one SEARCH. */
struct imap_search_env {
	const struct seqset *saved;	/* "$": UIDs; NULL is the empty set */
	/* The name of keyword id, or NULL. */
	const char *(*keyword_name)(void *ctx, uint32_t id);
	void *ctx;
};

/* Matches m. With c NULL, keys that need the content make the answer
 * IMAP_SEARCH_MAYBE unless the rest decides it. Returns IMAP_SEARCH_NO,
 * _YES, _MAYBE (only with c NULL) or a negative errno from the source. */
int imap_search_match(const struct imap_search *search, const struct imap_search_env *env,
		      const struct imap_search_msg *m, struct imap_search_content *c);

#endif
