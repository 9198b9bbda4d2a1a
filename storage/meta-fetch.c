/* FETCH of the attributes the database holds, flags included, for many
 * messages at once. */
#include "storage/meta-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"

static int read_item(sqlite3_stmt *st, struct meta_fetch_item *it)
{
	int64_t size = 0, tz = 0, missing = 0;
	int r = meta__col_u32(st, 0, 1, META_UID_MAX, &it->uid);
	if (r == 0)
		r = meta__col_int(st, 1, 1, INT64_MAX, &it->message_id);
	if (r == 0)
		r = meta__col_int(st, 2, 0, INT64_MAX, &size);
	if (r == 0)
		r = meta__col_int(st, 3, INT64_MIN, INT64_MAX, &it->internal_date);
	if (r == 0)
		r = meta__col_int(st, 4, -1439, 1439, &tz);
	if (r == 0)
		r = meta__col_int(st, 5, INT64_MIN, INT64_MAX, &it->save_date);
	if (r == 0)
		r = meta__col_text(st, 6, META_OID_MAX, it->email_id);
	if (r == 0)
		r = meta__col_int(st, 7, 0, 1, &missing);
	it->size = (uint64_t)size;
	it->internal_tz = (int)tz;
	it->missing = missing == 1;
	return r;
}

static int fetch_range(struct meta *m, sqlite3_stmt *st, int64_t mailbox,
		       struct meta_uid_range rg, struct meta_fetch_list *l, size_t *cap)
{
	meta__bind_i64(st, 1, mailbox);
	meta__bind_i64(st, 2, rg.lo);
	meta__bind_i64(st, 3, rg.hi);
	int r = 0, rc;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (l->n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			l->v = xrealloc(l->v, *cap * sizeof(*l->v));
		}
		r = read_item(st, &l->v[l->n]);
		if (r == 0)
			l->n++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = meta__err(m, rc, NULL, "reading messages");
	sqlite3_reset(st);
	return r;
}

static int fetch(struct meta *m, int64_t mailbox, const struct meta_uid_range *set, size_t n_set,
		 struct meta_fetch_list *l, const char **error_r)
{
	struct meta__mbox mb;
	sqlite3_stmt *st;
	int r = meta__mbox_selectable(m, mailbox, &mb, error_r);
	if (r == 0)
		r = meta__prep(m, SQL_INST_FETCH,
			       "SELECT i.uid, i.message_id, i.size, i.internal_date, i.internal_tz,"
			       " i.save_date, m.email_id, m.missing"
			       " FROM instance i JOIN message m ON m.id = i.message_id"
			       " WHERE i.mailbox_id = ?1 AND i.uid BETWEEN ?2 AND ?3"
			       " ORDER BY i.uid",
			       &st);
	size_t cap = 0;
	for (size_t i = 0; r == 0 && i < n_set; i++)
		r = fetch_range(m, st, mailbox, set[i], l, &cap);
	return r;
}

static int flags_in(struct meta *m, int64_t mailbox, const struct meta_uid_range *set,
		    size_t n_set, struct meta_msgs *l, const char **error_r)
{
	struct meta__mbox mb;
	sqlite3_stmt *st;
	int r = meta__mbox_selectable(m, mailbox, &mb, error_r);
	if (r == 0)
		r = meta__prep(m, SQL_INST_FLAGS,
			       "SELECT uid, modseq, flags, keywords FROM instance"
			       " WHERE mailbox_id = ?1 AND uid BETWEEN ?2 AND ?3 ORDER BY uid",
			       &st);
	for (size_t i = 0; r == 0 && i < n_set; i++) {
		meta__bind_i64(st, 1, mailbox);
		meta__bind_i64(st, 2, set[i].lo);
		meta__bind_i64(st, 3, set[i].hi);
		int rc;
		while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
			r = meta__msgs_push_row(m, l, st, 0);
		if (r == 0 && rc != SQLITE_DONE)
			r = meta__err(m, rc, NULL, "reading flags");
		sqlite3_reset(st);
	}
	return r;
}

typedef int range_reader(struct meta *m, int64_t mailbox, const struct meta_uid_range *set,
			 size_t n_set, void *out, const char **error_r);

/* Normalises the UID set and runs read over it in one read transaction. */
static int read_ranges(struct meta *m, int64_t mailbox, const struct meta_uid_range *set,
		       size_t n_set, range_reader *read, void *out, const char **error_r,
		       const char *what)
{
	struct meta_uid_range *norm;
	size_t n_norm;
	if (meta__ranges_norm(set, n_set, &norm, &n_norm) < 0 || n_norm == 0)
		return meta__fail(error_r, -EINVAL, "invalid UID set");
	const char *err = NULL;
	int r = meta__begin(m, false);
	if (r == 0)
		r = meta__end(m, read(m, mailbox, norm, n_norm, out, &err));
	free(norm);
	return r < 0 ? meta__fail(error_r, r, err ? err : what) : 0;
}

static int flags_reader(struct meta *m, int64_t mailbox, const struct meta_uid_range *set,
			size_t n_set, void *out, const char **error_r)
{
	return flags_in(m, mailbox, set, n_set, out, error_r);
}

static int fetch_reader(struct meta *m, int64_t mailbox, const struct meta_uid_range *set,
			size_t n_set, void *out, const char **error_r)
{
	return fetch(m, mailbox, set, n_set, out, error_r);
}

int meta_flags(struct meta *m, int64_t mailbox, const struct meta_uid_range *set, size_t n_set,
	       struct meta_msgs *list_r, const char **error_r)
{
	memset(list_r, 0, sizeof(*list_r));
	int r = read_ranges(m, mailbox, set, n_set, flags_reader, list_r, error_r,
			    "cannot read the flags");
	if (r < 0)
		meta_msgs_free(list_r);
	return r;
}

void meta_fetch_list_free(struct meta_fetch_list *list)
{
	free(list->v);
	list->v = NULL;
	list->n = 0;
}

int meta_fetch(struct meta *m, int64_t mailbox, const struct meta_uid_range *set, size_t n_set,
	       struct meta_fetch_list *list_r, const char **error_r)
{
	memset(list_r, 0, sizeof(*list_r));
	int r = read_ranges(m, mailbox, set, n_set, fetch_reader, list_r, error_r,
			    "cannot read the messages");
	if (r < 0)
		meta_fetch_list_free(list_r);
	return r;
}
