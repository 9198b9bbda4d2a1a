/* FETCH through the header cache (fetch-cache.h).
 *
 * Why fill at FETCH rather than at APPEND: every way a message arrives
 * (APPEND, SMTP and LMTP deliveries taken in with their RSA unwrap,
 * orphans, databases made before the cache existed) ends up read by a
 * FETCH, so one path fills them all, APPEND pays nothing for messages
 * nobody asks the headers of, and what a header block is stays the MIME
 * parser's decision, made on the very bytes it parses, never the store's.
 * Writing once per command, after the responses, keeps the transaction off
 * the client's wait and out of the per-message loop. */
#include "protocols/imap/fetch-cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"
#include "storage/crypto.h"

void imap_fetch_cache_init(struct imap_fetch_cache *c, struct store_user *user, int64_t mailbox,
			   const struct imap_fetch_req *req)
{
	memset(c, 0, sizeof(*c));
	c->user = user;
	c->mailbox = mailbox;
	c->serve = req->header_only;
	c->structure = req->needs_structure;
}

static void drop_pending(struct imap_fetch_cache *c)
{
	for (size_t i = 0; i < c->n_pending; i++) {
		crypto_wipe((void *)c->pending[i].data, c->pending[i].len);
		free((void *)c->pending[i].data);
	}
	c->n_pending = 0;
	c->pending_bytes = 0;
}

void imap_fetch_cache_free(struct imap_fetch_cache *c)
{
	meta_header_list_free(&c->win);
	drop_pending(c);
	free(c->pending);
	c->pending = NULL;
	c->lo = 0;
}

static const struct meta_header *window_find(const struct meta_header_list *w, uint32_t uid)
{
	size_t lo = 0, hi = w->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (w->v[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < w->n && w->v[lo].uid == uid ? &w->v[lo] : NULL;
}

/* The entry of uid, reading the window [uid, hi] when uid lies outside
 * the one held. */
static const struct meta_header *cache_find(struct imap_fetch_cache *c, uint32_t uid, uint32_t hi)
{
	if (c->lo == 0 || uid < c->lo || uid > c->win.covered) {
		meta_header_list_free(&c->win);
		c->lo = 0;
		int r = store_headers(c->user, c->mailbox, uid, hi > uid ? hi : uid,
				      IMAP_FETCH_CACHE_ROWS, IMAP_FETCH_CACHE_BYTES, true, &c->win,
				      NULL);
		if (r < 0) {
			c->broken = true;
			return NULL;
		}
		c->lo = uid;
	}
	return window_find(&c->win, uid);
}

bool imap_fetch_cache_get(struct imap_fetch_cache *c, uint32_t uid, uint32_t hi,
			  struct mime_message **tree_r, struct mime_source *src_r)
{
	*tree_r = NULL;
	if (!c->serve || c->broken)
		return false;
	const struct meta_header *h = cache_find(c, uid, hi);
	if (!h || !h->data || (c->structure && h->body_lines < 0))
		return false;
	uint64_t lines = (uint64_t)h->body_lines;
	if (mime_parse_header(h->data, h->len, h->size, c->structure ? &lines : NULL, tree_r) < 0)
		return false;
	*src_r = mime_source_memory(h->data, h->len);
	return true;
}

bool imap_fetch_cache_wants(const struct imap_fetch_cache *c,
			    const struct store_message_info *info)
{
	return !info->header_cached && !info->stub && info->message_id > 0;
}

void imap_fetch_cache_note(struct imap_fetch_cache *c, const struct store_message_info *info,
			   const struct mime_source *src, const struct mime_message *tree)
{
	if (!imap_fetch_cache_wants(c, info))
		return;
	struct mime_message *parsed = NULL;
	if (!tree) {
		if (src->size > IMAP_FETCH_CACHE_PARSE_MAX || mime_parse(src, NULL, &parsed) < 0)
			return;
		tree = parsed;
	}
	struct mime_header_facts facts;
	mime_header_facts(tree, &facts);
	mime_message_free(&parsed);
	if (facts.hdr_len == 0 || facts.hdr_len > META_HEADER_MAX)
		return;
	uint8_t *copy = xmalloc((size_t)facts.hdr_len);
	if (mime_source_read(src, 0, copy, (size_t)facts.hdr_len) != (ssize_t)facts.hdr_len) {
		crypto_wipe(copy, (size_t)facts.hdr_len);
		free(copy);
		return;
	}
	if (!c->pending)
		c->pending = xcalloc(IMAP_FETCH_CACHE_PENDING, sizeof(*c->pending));
	c->pending[c->n_pending++] = (struct meta_header_put){
		.message_id = info->message_id,
		.size = src->size,
		.body_lines = facts.single ? (int64_t)facts.lines : -1,
		.data = copy,
		.len = (size_t)facts.hdr_len,
	};
	c->pending_bytes += (size_t)facts.hdr_len;
	if (c->n_pending == IMAP_FETCH_CACHE_PENDING || c->pending_bytes >= IMAP_FETCH_CACHE_BYTES)
		imap_fetch_cache_flush(c);
}

void imap_fetch_cache_flush(struct imap_fetch_cache *c)
{
	if (c->n_pending == 0)
		return;
	(void)store_headers_put(c->user, c->pending, c->n_pending, NULL);
	drop_pending(c);
}
