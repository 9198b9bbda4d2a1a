/* Keywords and flag sets.
 *
 * Keywords get small integer ids, dense from 0, from the keyword table;
 * the handle caches the names by id (ids never change name and are never
 * deleted, so the cache only grows, except when a transaction that created
 * some is rolled back). An instance stores its keyword ids as a BLOB:
 * ascending ids as unsigned LEB128 varints, the first as is and each next
 * one as the difference to the previous (at least 1). That keeps 1,000
 * keywords in about 2 KB, a single keyword with a high id in a few bytes,
 * and every read strictly checkable: canonical varints, strictly
 * ascending, each id known. */
#include "storage/meta-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"

#define KW_ID_MAX 2147483646u	/* as the schema's CHECK */
#define VARINT_MAX 5		/* bytes of a 31-bit varint */

static void kw_push(struct meta *m, char *name)
{
	if (m->kw_n == m->kw_cap) {
		m->kw_cap = m->kw_cap ? m->kw_cap * 2 : 16;
		m->kw = xrealloc(m->kw, m->kw_cap * sizeof(*m->kw));
	}
	m->kw[m->kw_n++] = name;
}

/* Reads the keywords the cache lacks (ids from kw_n on). */
int meta__kw_load(struct meta *m)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_KW_ALL, "SELECT id, name FROM keyword WHERE id >= ?1 ORDER BY id",
			   &st);
	if (r < 0)
		return r;
	meta__bind_i64(st, 1, m->kw_n);
	int rc;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t id;
		char *name;
		r = meta__col_u32(st, 0, 0, KW_ID_MAX, &id);
		if (r == 0 && id != m->kw_n)
			r = -EBADMSG;	/* ids must be dense */
		if (r == 0)
			r = meta__col_strdup(st, 1, META_KEYWORD_MAX, &name);
		if (r == 0)
			kw_push(m, name);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = meta__err(m, rc, NULL, "reading keywords");
	sqlite3_reset(st);
	return r;
}

void meta__kw_truncate(struct meta *m, uint32_t n)
{
	while (m->kw_n > n)
		free(m->kw[--m->kw_n]);
}

void meta__kw_free(struct meta *m)
{
	meta__kw_truncate(m, 0);
	free(m->kw);
	m->kw = NULL;
	m->kw_cap = 0;
}

const char *meta_keyword_name(struct meta *m, uint32_t id)
{
	if (id >= m->kw_n && meta__kw_load(m) < 0)
		return NULL;
	return id < m->kw_n ? m->kw[id] : NULL;
}

/* The id of keyword name; a new one is made when create is set, else
 * *id_r is UINT32_MAX for an unknown keyword. */
static int kw_id(struct meta *m, const char *name, bool create, uint32_t *id_r)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_KW_FIND, "SELECT id FROM keyword WHERE name = ?1", &st);
	if (r < 0)
		return r;
	meta__bind_text(st, 1, name);
	int rc = sqlite3_step(st);
	*id_r = UINT32_MAX;
	if (rc == SQLITE_ROW)
		r = meta__col_u32(st, 0, 0, KW_ID_MAX, id_r);
	else if (rc != SQLITE_DONE)
		r = meta__err(m, rc, NULL, "looking up a keyword");
	sqlite3_reset(st);
	if (r < 0 || *id_r != UINT32_MAX || !create)
		return r;

	r = meta__prep(m, SQL_KW_INSERT,
		       "INSERT INTO keyword (id, name) VALUES "
		       "((SELECT coalesce(max(id) + 1, 0) FROM keyword), ?1) RETURNING id",
		       &st);
	if (r < 0)
		return r;
	meta__bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = meta__col_u32(st, 0, 0, KW_ID_MAX, id_r);
	else
		r = meta__err(m, rc, NULL, "creating a keyword");
	sqlite3_reset(st);
	/* The cache learns the new name on its next load. */
	return r;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorts ids and drops duplicates; returns the new count. */
static size_t ids_unique(uint32_t *ids, size_t n)
{
	if (n == 0)
		return 0;
	qsort(ids, n, sizeof(*ids), u32_cmp);
	size_t k = 0;
	for (size_t i = 1; i < n; i++)
		if (ids[i] != ids[k])
			ids[++k] = ids[i];
	return k + 1;
}

/* The ids of the keyword names, ascending and unique. Unknown names are
 * created when create is set and skipped otherwise (removing a keyword no
 * message has changes nothing). -EINVAL for a name that is no keyword.
 * *ids_r is to free() (NULL when *n_r is 0). */
int meta__kw_ids(struct meta *m, const char *const *names, size_t n, bool create, uint32_t **ids_r,
		 size_t *n_r)
{
	*ids_r = NULL;
	*n_r = 0;
	for (size_t i = 0; i < n; i++)
		if (!names[i] || meta_keyword_check(names[i]) < 0)
			return -EINVAL;
	if (n == 0)
		return 0;
	uint32_t *ids = xmalloc(n * sizeof(*ids));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t id;
		int r = kw_id(m, names[i], create, &id);
		if (r < 0) {
			free(ids);
			return r;
		}
		if (id != UINT32_MAX)
			ids[k++] = id;
	}
	*n_r = ids_unique(ids, k);
	*ids_r = ids;
	if (create && *n_r > 0 && ids[*n_r - 1] >= m->kw_n)
		return meta__kw_load(m);
	return 0;
}

static size_t varint_put(uint8_t *p, uint32_t v)
{
	size_t n = 0;
	do {
		uint8_t b = v & 0x7f;
		v >>= 7;
		p[n++] = b | (v ? 0x80 : 0);
	} while (v);
	return n;
}

/* Encodes ascending unique ids; n == 0 gives NULL (the column is NULL). */
int meta__kw_encode(const uint32_t *ids, size_t n, uint8_t **blob_r, size_t *len_r)
{
	*blob_r = NULL;
	*len_r = 0;
	if (n == 0)
		return 0;
	uint8_t *p = xmalloc(n * VARINT_MAX);
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		if (ids[i] > KW_ID_MAX || (i > 0 && ids[i] <= ids[i - 1])) {
			free(p);
			return -EINVAL;
		}
		len += varint_put(p + len, i == 0 ? ids[0] : ids[i] - ids[i - 1]);
	}
	*blob_r = p;
	*len_r = len;
	return 0;
}

/* One canonical varint of at most 31 bits at p[*pos..len). */
static int varint_get(const uint8_t *p, size_t len, size_t *pos, uint32_t *v_r)
{
	uint64_t v = 0;
	for (size_t i = 0; i < VARINT_MAX && *pos < len; i++) {
		uint8_t b = p[(*pos)++];
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			if ((i > 0 && b == 0) || v > KW_ID_MAX)
				return -EBADMSG;	/* not canonical, too big */
			*v_r = (uint32_t)v;
			return 0;
		}
	}
	return -EBADMSG;
}

/* Decodes a keyword BLOB into out (room for len ids, as every id takes a
 * byte at least), checking each id is a known keyword. */
static int kw_decode_into(struct meta *m, const uint8_t *p, size_t len, uint32_t *out,
			  size_t *n_r)
{
	size_t pos = 0, n = 0;
	uint64_t id = 0;
	while (pos < len) {
		uint32_t v;
		if (varint_get(p, len, &pos, &v) < 0 || (n > 0 && v == 0))
			return -EBADMSG;
		id += v;
		if (id > KW_ID_MAX)
			return -EBADMSG;
		if (id >= m->kw_n) {
			int r = meta__kw_load(m);
			if (r < 0)
				return r;
			if (id >= m->kw_n)
				return -EBADMSG;
		}
		out[n++] = (uint32_t)id;
	}
	*n_r = n;
	return 0;
}

int meta__kw_decode(struct meta *m, const void *blob, size_t len, uint32_t **ids_r, size_t *n_r)
{
	*ids_r = NULL;
	*n_r = 0;
	if (len == 0)
		return 0;
	uint32_t *ids = xmalloc(len * sizeof(*ids));
	int r = kw_decode_into(m, blob, len, ids, n_r);
	if (r < 0)
		free(ids);
	else
		*ids_r = ids;
	return r;
}

void meta_msgs_free(struct meta_msgs *l)
{
	free(l->v);
	free(l->kw);
	memset(l, 0, sizeof(*l));
}

static void msgs_reserve_kw(struct meta_msgs *l, size_t more)
{
	if (more <= l->kw_cap - l->kw_n)
		return;
	size_t cap = l->kw_cap ? l->kw_cap : 64;
	while (cap - l->kw_n < more)
		cap *= 2;
	l->kw = xrealloc(l->kw, cap * sizeof(*l->kw));
	l->kw_cap = cap;
}

static struct meta_msg *msgs_new(struct meta_msgs *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	return &l->v[l->n++];
}

int meta__msgs_push(struct meta_msgs *l, uint32_t uid, uint32_t flags, uint64_t modseq,
		    const uint32_t *kw, size_t kw_n)
{
	if (l->kw_n + kw_n > UINT32_MAX)
		return -EOVERFLOW;
	msgs_reserve_kw(l, kw_n);
	struct meta_msg *msg = msgs_new(l);
	*msg = (struct meta_msg){ uid, flags, modseq, (uint32_t)l->kw_n, (uint32_t)kw_n };
	if (kw_n)
		memcpy(l->kw + l->kw_n, kw, kw_n * sizeof(*kw));
	l->kw_n += kw_n;
	return 0;
}

/* Appends the instance in the current row: columns col.. are uid, modseq,
 * flags, keywords. The keywords are decoded straight into the list. */
int meta__msgs_push_row(struct meta *m, struct meta_msgs *l, sqlite3_stmt *st, int col)
{
	uint32_t uid, flags;
	int64_t modseq;
	int r = meta__col_u32(st, col, 1, META_UID_MAX, &uid);
	if (r == 0)
		r = meta__col_int(st, col + 1, 1, META_MODSEQ_MAX, &modseq);
	if (r == 0)
		r = meta__col_u32(st, col + 2, 0, META_FLAGS_ALL, &flags);
	if (r < 0)
		return r;
	int type = sqlite3_column_type(st, col + 3);
	const uint8_t *blob = NULL;
	size_t len = 0;
	if (type == SQLITE_BLOB) {
		blob = sqlite3_column_blob(st, col + 3);
		len = (size_t)sqlite3_column_bytes(st, col + 3);
	} else if (type != SQLITE_NULL) {
		return -EBADMSG;
	}
	if (l->kw_n + len > UINT32_MAX)
		return -EOVERFLOW;
	msgs_reserve_kw(l, len);
	size_t kw_n = 0;
	if (len)
		r = kw_decode_into(m, blob, len, l->kw + l->kw_n, &kw_n);
	if (r < 0)
		return r;
	struct meta_msg *msg = msgs_new(l);
	*msg = (struct meta_msg){ uid, flags, (uint64_t)modseq, (uint32_t)l->kw_n, (uint32_t)kw_n };
	l->kw_n += kw_n;
	return 0;
}

int meta__uids_push(struct meta_uids *u, size_t *cap, uint32_t uid)
{
	if (u->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		u->v = xrealloc(u->v, *cap * sizeof(*u->v));
	}
	u->v[u->n++] = uid;
	return 0;
}

void meta_uids_free(struct meta_uids *u)
{
	free(u->v);
	u->v = NULL;
	u->n = 0;
}
