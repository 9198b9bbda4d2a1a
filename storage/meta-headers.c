/* The header cache (schema version 2): reading a window of cached header
 * blocks for FETCH, and storing the blocks a FETCH found in the files. */
#include "storage/meta-private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"
#include "storage/crypto.h"

/* CROSS JOIN keeps SQLite's join order as written: a range scan of the
 * mailbox's instances in UID order, then a rowid lookup of the message
 * and of its cache entry. */
#define HDR_FROM                                                                       \
	" FROM instance i CROSS JOIN message m ON m.id = i.message_id"                 \
	" CROSS JOIN header_cache h ON h.message_id = i.message_id"                    \
	" WHERE i.mailbox_id = ?1 AND i.uid BETWEEN ?2 AND ?3 AND m.missing = 0"        \
	" ORDER BY i.uid"

static int read_entry(sqlite3_stmt *st, bool with_data, struct meta_header *h)
{
	int64_t size = 0, len = 0;
	memset(h, 0, sizeof(*h));
	h->body_lines = -1;
	int r = meta__col_u32(st, 0, 1, META_UID_MAX, &h->uid);
	if (r == 0)
		r = meta__col_int(st, 1, 1, INT64_MAX, &h->message_id);
	if (r == 0)
		r = meta__col_int(st, 2, 0, INT64_MAX, &size);
	if (r == 0 && sqlite3_column_type(st, 3) != SQLITE_NULL)
		r = meta__col_int(st, 3, 0, INT64_MAX, &h->body_lines);
	if (r == 0)
		r = meta__col_int(st, 4, 1, META_HEADER_MAX, &len);
	if (r < 0)
		return r;
	h->size = (uint64_t)size;
	h->len = (size_t)len;
	if (!with_data)
		return 0;
	const void *p = sqlite3_column_blob(st, 5);
	if (sqlite3_column_type(st, 5) != SQLITE_BLOB || !p ||
	    sqlite3_column_bytes(st, 5) != (int)len)
		return -EBADMSG;
	h->data = xmalloc(h->len);
	memcpy(h->data, p, h->len);
	return 0;
}

static int headers_in(struct meta *m, int64_t mailbox, uint32_t lo, uint32_t hi, size_t max_n,
		      size_t max_bytes, bool with_data, struct meta_header_list *l,
		      const char **error_r)
{
	struct meta__mbox mb;
	sqlite3_stmt *st;
	int r = meta__mbox_selectable(m, mailbox, &mb, error_r);
	if (r == 0 && with_data)
		r = meta__prep(m, SQL_HDR_GET,
			       "SELECT i.uid, i.message_id, m.size, h.body_lines, length(h.header),"
			       " h.header" HDR_FROM,
			       &st);
	else if (r == 0)
		r = meta__prep(m, SQL_HDR_HAS,
			       "SELECT i.uid, i.message_id, m.size, h.body_lines,"
			       " length(h.header)" HDR_FROM,
			       &st);
	if (r < 0)
		return r;
	meta__bind_i64(st, 1, mailbox);
	meta__bind_i64(st, 2, lo);
	meta__bind_i64(st, 3, hi);
	size_t cap = 0, bytes = 0;
	int rc;
	l->covered = hi;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (l->n == cap) {
			cap = cap ? cap * 2 : 16;
			l->v = xrealloc(l->v, cap * sizeof(*l->v));
		}
		r = read_entry(st, with_data, &l->v[l->n]);
		if (r < 0)
			break;
		bytes += with_data ? l->v[l->n].len : 0;
		if (++l->n == max_n || bytes >= max_bytes) {
			l->covered = l->v[l->n - 1].uid;
			break;
		}
	}
	if (r == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = meta__err(m, rc, NULL, "reading cached headers");
	sqlite3_reset(st);
	return r;
}

void meta_header_list_free(struct meta_header_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		if (list->v[i].data)
			crypto_wipe(list->v[i].data, list->v[i].len);
		free(list->v[i].data);
	}
	free(list->v);
	memset(list, 0, sizeof(*list));
}

int meta_headers(struct meta *m, int64_t mailbox, uint32_t lo, uint32_t hi, size_t max_n,
		 size_t max_bytes, bool with_data, struct meta_header_list *list_r,
		 const char **error_r)
{
	memset(list_r, 0, sizeof(*list_r));
	if (lo < 1 || lo > hi || max_n == 0)
		return meta__fail(error_r, -EINVAL, "invalid UID range");
	if (!with_data)
		max_bytes = SIZE_MAX;
	const char *err = NULL;
	int r = meta__begin(m, false);
	if (r == 0)
		r = meta__end(m, headers_in(m, mailbox, lo, hi, max_n, max_bytes, with_data,
					     list_r, &err));
	if (r < 0) {
		meta_header_list_free(list_r);
		return meta__fail(error_r, r, err ? err : "cannot read cached headers");
	}
	return 0;
}

static int put_all(struct meta *m, const struct meta_header_put *v, size_t n)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_HDR_PUT,
			   "INSERT OR REPLACE INTO header_cache (message_id, body_lines, header)"
			   " SELECT id, ?2, ?3 FROM message WHERE id = ?1 AND size = ?4",
			   &st);
	int count = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		meta__bind_i64(st, 1, v[i].message_id);
		if (v[i].body_lines >= 0)
			meta__bind_i64(st, 2, v[i].body_lines);
		else
			meta__bind_blob(st, 2, NULL, 0);	/* NULL */
		meta__bind_blob(st, 3, v[i].data, v[i].len);
		meta__bind_i64(st, 4, (int64_t)v[i].size);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			r = meta__err(m, rc, NULL, "storing a cached header");
		else if (sqlite3_changes(m->db) > 0)
			count++;
	}
	return r < 0 ? r : count;
}

int meta_headers_put(struct meta *m, const struct meta_header_put *v, size_t n,
		     const char **error_r)
{
	if (m->depth > 0)
		return meta__fail(error_r, -EINVAL, "a transaction is open");
	for (size_t i = 0; i < n; i++)
		if (!v[i].data || v[i].len < 1 || v[i].len > META_HEADER_MAX ||
		    v[i].message_id < 1 || v[i].size > INT64_MAX)
			return meta__fail(error_r, -EINVAL, "invalid cached header");
	if (n == 0)
		return 0;
	/* A cache: losing it to a power failure costs a re-read. */
	int r = meta__begin_relaxed(m);
	if (r == 0)
		r = meta__end_relaxed(m, put_all(m, v, n));
	return r < 0 ? meta__fail(error_r, r, "cannot store cached headers") : r;
}
