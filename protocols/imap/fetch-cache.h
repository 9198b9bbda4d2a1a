/* FETCH and the header cache of meta.sqlite (storage/meta.h, "The header
 * cache"): header items answered from a message's cached header block
 * without opening its file, and the blocks of files that FETCH did open
 * stored for next time.
 *
 * Serving. A request whose every message-reading item reads only the
 * top-level header (fetch.h: header_only) reads the cache in windows of
 * consecutive UIDs, at most IMAP_FETCH_CACHE_ROWS entries or about
 * IMAP_FETCH_CACHE_BYTES of headers at a time, one trip to the pool each;
 * mime_parse_header() turns an entry into a tree whose renderings are
 * byte-identical to a parse of the file (BODY and BODYSTRUCTURE only for
 * single-part messages, whose body line count the entry keeps).
 *
 * Filling. When a FETCH opens a message file whose header is not cached
 * (the store says so when it opens it), and the file is small enough to be
 * in memory already or was parsed whole for the response, its header block
 * (at most META_HEADER_MAX bytes; larger ones are never cached) and facts
 * are copied into a pending list. The list is written in one transaction
 * (no fsync: it is a cache) when the command is done and its responses
 * are sent, or earlier when it reaches IMAP_FETCH_CACHE_PENDING entries or
 * IMAP_FETCH_CACHE_BYTES, so memory stays bounded whatever the set.
 * Nothing here is written anywhere but meta.sqlite; buffers are wiped.
 * A failure of the cache never fails the FETCH: it reads the files. */
#ifndef SEAL_IMAP_FETCH_CACHE_H
#define SEAL_IMAP_FETCH_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/imap/fetch.h"
#include "storage/store.h"

#define IMAP_FETCH_CACHE_ROWS 64
#define IMAP_FETCH_CACHE_BYTES (256 * 1024)
#define IMAP_FETCH_CACHE_PENDING 64
/* Files at most this big are parsed to fill the cache when the response
 * itself needed no parse (BODY[]): the store has read them whole anyway. */
#define IMAP_FETCH_CACHE_PARSE_MAX (64 * 1024)

struct imap_fetch_cache {
	struct store_user *user;
	int64_t mailbox;
	bool serve;		/* the request is header_only: windows are read */
	bool structure;		/* it asks BODY or BODYSTRUCTURE */
	bool broken;		/* a window could not be read: files only */
	struct meta_header_list win;	/* covers UIDs lo .. win.covered */
	uint32_t lo;		/* 0: no window */
	struct meta_header_put *pending;
	size_t n_pending, pending_bytes;
};

void imap_fetch_cache_init(struct imap_fetch_cache *c, struct store_user *user, int64_t mailbox,
			   const struct imap_fetch_req *req);
/* Frees windows and whatever is pending (not written: flush first). */
void imap_fetch_cache_free(struct imap_fetch_cache *c);

/* Coroutine. For a serving request: the tree of uid's cached header in
 * *tree_r (free with mime_message_free) and a source over the header block
 * in *src_r, valid until the next call; hi is the highest UID the command
 * will ask next in this run of UIDs (the window reaches up to it).
 * Returns false when the header is not cached, or cannot serve the
 * request: read the file. */
bool imap_fetch_cache_get(struct imap_fetch_cache *c, uint32_t uid, uint32_t hi,
			  struct mime_message **tree_r, struct mime_source *src_r);

/* Whether a message opened as info should be parsed by the caller for
 * imap_fetch_cache_note() (the request parses it anyway). */
bool imap_fetch_cache_wants(const struct imap_fetch_cache *c,
			    const struct store_message_info *info);

/* Coroutine. After a response was rendered from an opened message (info,
 * src): keeps its header for the cache when info says it is not cached.
 * tree is a parse of src if the caller made one, else NULL. May write the
 * pending list (imap_fetch_cache_flush). */
void imap_fetch_cache_note(struct imap_fetch_cache *c, const struct store_message_info *info,
			   const struct mime_source *src, const struct mime_message *tree);

/* Coroutine. Writes the pending entries in one transaction; errors are
 * dropped with the entries (the next FETCH reads those files again). */
void imap_fetch_cache_flush(struct imap_fetch_cache *c);

#endif
