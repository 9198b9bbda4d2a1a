/* Messages and instances: adding message files, APPEND, COPY, MOVE,
 * EXPUNGE, and the lookup FETCH reads a message through. */
#include "storage/meta-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"
#include "storage/crypto.h"

#define SIZE_MAX_DB 1099511627776LL	/* the schema's bound on sizes */

int meta_add_message(struct meta *m, const char *file, uint64_t size, const void *key,
		     size_t key_len, int64_t *message_id_r, const char **error_r)
{
	if (meta__file_check(file) < 0 || size > SIZE_MAX_DB || key_len > META_KEY_BLOB_MAX ||
	    (!key && key_len))
		return meta__fail(error_r, -EINVAL, "invalid message file name, size or key");
	char oid[META_OID_MAX + 1];
	meta__random_id('E', oid);	/* manual (OBJECTID): EMAILIDs begin with E */
	sqlite3_stmt *st;
	int r = meta__begin(m, true);
	if (r < 0)
		return meta__fail(error_r, r, "cannot add the message");
	r = meta__prep(m, SQL_MSG_INSERT,
		       "INSERT INTO message (file, size, email_id, key_blob, created_at)"
		       " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (file) DO NOTHING RETURNING id",
		       &st);
	int64_t id = 0;
	if (r == 0) {
		meta__bind_text(st, 1, file);
		meta__bind_i64(st, 2, (int64_t)size);
		meta__bind_text(st, 3, oid);
		meta__bind_blob(st, 4, key, key_len);
		meta__bind_i64(st, 5, meta__now(m));
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			r = meta__col_int(st, 0, 1, INT64_MAX, &id);
		else if (rc == SQLITE_DONE)
			r = -EEXIST;
		else
			r = meta__err(m, rc, NULL, "adding a message");
	}
	r = meta__end(m, r);
	if (r < 0)
		return meta__fail(error_r, r,
				  r == -EEXIST ? "the message file is already known"
					       : "cannot add the message");
	*message_id_r = id;
	return 0;
}

int meta_set_message_key(struct meta *m, int64_t message_id, const void *key, size_t key_len,
			 const char **error_r)
{
	if (key_len > META_KEY_BLOB_MAX || (!key && key_len))
		return meta__fail(error_r, -EINVAL, "invalid key blob");
	sqlite3_stmt *st;
	int r = meta__begin(m, true);
	if (r < 0)
		return meta__fail(error_r, r, "cannot set the message key");
	r = meta__prep(m, SQL_MSG_SET_KEY, "UPDATE message SET key_blob = ?2 WHERE id = ?1", &st);
	if (r == 0) {
		meta__bind_i64(st, 1, message_id);
		meta__bind_blob(st, 2, key, key_len);
		int rc = sqlite3_step(st);
		if (rc != SQLITE_DONE)
			r = meta__err(m, rc, NULL, "setting a message key");
		else if (sqlite3_changes(m->db) == 0)
			r = -ENOENT;
	}
	r = meta__end(m, r);
	return r < 0 ? meta__fail(error_r, r, "cannot set the message key") : 0;
}

/* A message gains a live instance: it is no longer counting to a purge. */
static int take_message(struct meta *m, int64_t message_id)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_MSG_TAKE,
			   "UPDATE message SET released_at = NULL, placed = 1 WHERE id = ?1", &st);
	if (r < 0)
		return r;
	meta__bind_i64(st, 1, message_id);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return meta__err(m, rc, NULL, "taking a message");
	return sqlite3_changes(m->db) == 1 ? 0 : -ENOENT;
}

static int insert_inst(struct meta *m, int64_t mailbox, uint64_t modseq, int64_t save_date,
		       const struct meta__inst *in)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_INST_INSERT,
			   "INSERT INTO instance (mailbox_id, uid, message_id, modseq, flags,"
			   " keywords, size, internal_date, internal_tz, save_date)"
			   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
			   &st);
	if (r < 0)
		return r;
	meta__bind_i64(st, 1, mailbox);
	meta__bind_i64(st, 2, in->uid);
	meta__bind_i64(st, 3, in->message_id);
	meta__bind_i64(st, 4, (int64_t)modseq);
	meta__bind_i64(st, 5, in->flags);
	meta__bind_blob(st, 6, in->kw_blob, in->kw_len);
	meta__bind_i64(st, 7, (int64_t)in->size);
	meta__bind_i64(st, 8, in->internal_date);
	meta__bind_i64(st, 9, in->internal_tz);
	meta__bind_i64(st, 10, save_date);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : meta__err(m, rc, NULL, "adding an instance");
}

static int message_size(struct meta *m, int64_t message_id, uint64_t *size_r)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_MSG_EXISTS, "SELECT size FROM message WHERE id = ?1", &st);
	if (r < 0)
		return r;
	meta__bind_i64(st, 1, message_id);
	int rc = sqlite3_step(st);
	int64_t size = 0;
	if (rc == SQLITE_ROW)
		r = meta__col_int(st, 0, 0, SIZE_MAX_DB, &size);
	else
		r = rc == SQLITE_DONE ? -ENOENT : meta__err(m, rc, NULL, "reading a message");
	sqlite3_reset(st);
	*size_r = (uint64_t)size;
	return r;
}

static int append(struct meta *m, int64_t mailbox, const struct meta_append_req *req,
		  struct meta__inst *in, struct meta_appended *res, const char **error_r)
{
	struct meta__mbox mb;
	uint32_t *ids;
	size_t n_ids;
	int r = meta__mbox_selectable(m, mailbox, &mb, error_r);
	if (r == 0 && (r = message_size(m, req->message_id, &in->size)) == -ENOENT)
		return meta__fail(error_r, r, "no such message");
	if (r == 0)
		r = meta__kw_ids(m, req->keywords, req->n_keywords, true, &ids, &n_ids);
	if (r < 0)
		return r;
	r = meta__kw_encode(ids, n_ids, &in->kw_blob, &in->kw_len);
	free(ids);
	if (r == 0)
		r = meta__mbox_bump(m, mailbox, 1, &in->uid, &res->modseq, error_r);
	if (r == 0)
		r = insert_inst(m, mailbox, res->modseq, meta__now(m), in);
	if (r == 0)
		r = take_message(m, req->message_id);
	res->uid = in->uid;
	res->uidvalidity = mb.uidvalidity;
	return r;
}

int meta_append(struct meta *m, int64_t mailbox, const struct meta_append_req *req,
		struct meta_appended *res_r, const char **error_r)
{
	memset(res_r, 0, sizeof(*res_r));
	if ((req->flags & ~META_FLAGS_ALL) || req->internal_tz < -1439 || req->internal_tz > 1439)
		return meta__fail(error_r, -EINVAL, "invalid flags or time zone");
	struct meta__inst in = {
		.message_id = req->message_id,
		.flags = req->flags,
		.internal_date = req->internal_date,
		.internal_tz = req->internal_tz,
	};
	struct meta_appended res = { 0 };
	const char *err = NULL;
	int r = meta__begin(m, true);
	if (r == 0)
		r = meta__end(m, append(m, mailbox, req, &in, &res, &err));
	free(in.kw_blob);
	if (r == -EINVAL && !err)
		err = "invalid keyword";
	if (r < 0)
		return meta__fail(error_r, r, err ? err : "cannot append the message");
	*res_r = res;
	return 0;
}

void meta__inst_free(struct meta__inst *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].kw_blob);
	free(v);
}

/* Reads the instance in the current row (the columns of SQL_INST_RANGE),
 * checking its keyword BLOB decodes. */
static int read_inst(struct meta *m, sqlite3_stmt *st, struct meta__inst *in)
{
	int64_t modseq, size, tz;
	int r = meta__col_u32(st, 0, 1, META_UID_MAX, &in->uid);
	if (r == 0)
		r = meta__col_int(st, 1, 1, INT64_MAX, &in->message_id);
	if (r == 0)
		r = meta__col_u32(st, 2, 0, META_FLAGS_ALL, &in->flags);
	if (r == 0)
		r = meta__col_int(st, 3, 1, META_MODSEQ_MAX, &modseq);
	if (r == 0)
		r = meta__col_int(st, 5, 0, SIZE_MAX_DB, &size);
	if (r == 0)
		r = meta__col_int(st, 6, INT64_MIN, INT64_MAX, &in->internal_date);
	if (r == 0)
		r = meta__col_int(st, 7, -1439, 1439, &tz);
	if (r == 0)
		r = meta__col_int(st, 8, INT64_MIN, INT64_MAX, &in->save_date);
	if (r < 0)
		return r;
	in->modseq = (uint64_t)modseq;
	in->size = (uint64_t)size;
	in->internal_tz = (int)tz;
	in->kw_blob = NULL;
	in->kw_len = 0;
	int type = sqlite3_column_type(st, 4);
	if (type == SQLITE_NULL)
		return 0;
	if (type != SQLITE_BLOB)
		return -EBADMSG;
	size_t len = (size_t)sqlite3_column_bytes(st, 4);
	uint32_t *ids;
	size_t n;
	r = meta__kw_decode(m, sqlite3_column_blob(st, 4), len, &ids, &n);
	if (r < 0)
		return r;
	free(ids);
	in->kw_blob = xmalloc(len);
	memcpy(in->kw_blob, sqlite3_column_blob(st, 4), len);
	in->kw_len = len;
	return 0;
}

static int collect_range(struct meta *m, sqlite3_stmt *st, int64_t mailbox,
			 struct meta_uid_range rg, struct meta__inst **v, size_t *n, size_t *cap)
{
	meta__bind_i64(st, 1, mailbox);
	meta__bind_i64(st, 2, rg.lo);
	meta__bind_i64(st, 3, rg.hi);
	int r = 0, rc;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			*v = xrealloc(*v, *cap * sizeof(**v));
		}
		r = read_inst(m, st, &(*v)[*n]);
		if (r == 0)
			(*n)++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = meta__err(m, rc, NULL, "reading instances");
	sqlite3_reset(st);
	return r;
}

/* The instances of mailbox in the normalised UID set (set NULL: all), in
 * UID order, read into memory before the caller writes to the table. */
int meta__inst_collect(struct meta *m, int64_t mailbox, const struct meta_uid_range *set,
		       size_t n_set, struct meta__inst **v_r, size_t *n_r)
{
	static const struct meta_uid_range all = { 1, META_UID_MAX };
	sqlite3_stmt *st;
	struct meta__inst *v = NULL;
	size_t n = 0, cap = 0;
	*v_r = NULL;
	*n_r = 0;
	int r = meta__prep(m, SQL_INST_RANGE,
			   "SELECT uid, message_id, flags, modseq, keywords, size, internal_date,"
			   " internal_tz, save_date FROM instance"
			   " WHERE mailbox_id = ?1 AND uid BETWEEN ?2 AND ?3 ORDER BY uid",
			   &st);
	if (!set) {
		set = &all;
		n_set = 1;
	}
	for (size_t i = 0; r == 0 && i < n_set; i++)
		r = collect_range(m, st, mailbox, set[i], &v, &n, &cap);
	if (r < 0) {
		meta__inst_free(v, n);
		return r;
	}
	*v_r = v;
	*n_r = n;
	return 0;
}

/* New instances in dst of the n collected ones, same flags and dates, new
 * UIDs in order and SAVEDATE now (RFC 8514 4). */
int meta__copy_insts(struct meta *m, int64_t dst, const struct meta__inst *v, size_t n,
		     struct meta_copy_result *res, const char **error_r)
{
	memset(res, 0, sizeof(*res));
	struct meta__mbox mb;
	uint32_t first;
	if (n == 0)
		return 0;
	if (n > META_UID_MAX)
		return meta__fail(error_r, -EOVERFLOW, "too many messages");
	int r = meta__mbox_selectable(m, dst, &mb, error_r);
	if (r == 0)
		r = meta__mbox_bump(m, dst, (uint32_t)n, &first, &res->modseq, error_r);
	if (r < 0)
		return r;
	res->uidvalidity = mb.uidvalidity;
	res->map = xmalloc(n * sizeof(*res->map));
	int64_t now = meta__now(m);
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct meta__inst in = v[i];
		in.uid = first + (uint32_t)i;
		r = insert_inst(m, dst, res->modseq, now, &in);
		if (r == 0)
			r = take_message(m, in.message_id);
		res->map[i] = (struct meta_uid_pair){ v[i].uid, in.uid };
	}
	res->n = n;
	if (r < 0)
		meta_copy_result_free(res);
	return r;
}

static int log_expunge(struct meta *m, int64_t mailbox, uint64_t modseq, int64_t now,
		       const struct meta__inst *in)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_EXP_INSERT,
			   "INSERT INTO expunged (mailbox_id, uid, modseq, message_id, expunged_at,"
			   " internal_date, internal_tz, save_date)"
			   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
			   &st);
	if (r < 0)
		return r;
	meta__bind_i64(st, 1, mailbox);
	meta__bind_i64(st, 2, in->uid);
	meta__bind_i64(st, 3, (int64_t)modseq);
	meta__bind_i64(st, 4, in->message_id);
	meta__bind_i64(st, 5, now);
	meta__bind_i64(st, 6, in->internal_date);
	meta__bind_i64(st, 7, in->internal_tz);
	meta__bind_i64(st, 8, in->save_date);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : meta__err(m, rc, NULL, "logging an expunge");
}

/* Runs one of the two per-instance writes of an expunge. */
static int expunge_step(struct meta *m, enum meta_sql id, const char *sql, int64_t a, int64_t b)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, id, sql, &st);
	if (r < 0)
		return r;
	meta__bind_i64(st, 1, a);
	meta__bind_i64(st, 2, b);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return meta__err(m, rc, NULL, "expunging");
	return sqlite3_changes(m->db) == 1 ? 0 : -EBADMSG;
}

/* Removes the n collected instances with one new MODSEQ, logging each
 * (RFC 7162 3.2.10: expunges take a MODSEQ too) and starting each message's
 * 24 hours. */
int meta__expunge_insts(struct meta *m, int64_t mailbox, const struct meta__inst *v, size_t n,
			uint64_t *modseq_r, const char **error_r)
{
	*modseq_r = 0;
	if (n == 0)
		return 0;
	uint64_t modseq;
	int r = meta__mbox_bump(m, mailbox, 0, NULL, &modseq, error_r);
	int64_t now = meta__now(m);
	for (size_t i = 0; r == 0 && i < n; i++) {
		r = log_expunge(m, mailbox, modseq, now, &v[i]);
		if (r == 0)
			r = expunge_step(m, SQL_INST_DELETE,
					 "DELETE FROM instance WHERE mailbox_id = ?1 AND uid = ?2",
					 mailbox, v[i].uid);
		if (r == 0)
			r = expunge_step(m, SQL_MSG_RELEASE,
					 "UPDATE message SET released_at = ?2 WHERE id = ?1",
					 v[i].message_id, now);
	}
	if (r == 0)
		*modseq_r = modseq;
	return r;
}

void meta_copy_result_free(struct meta_copy_result *res)
{
	free(res->map);
	memset(res, 0, sizeof(*res));
}

static int copy(struct meta *m, int64_t src, const struct meta_uid_range *set, size_t n_set,
		int64_t dst, bool move, struct meta_copy_result *res, const char **error_r)
{
	struct meta__mbox mb;
	struct meta__inst *v;
	size_t n;
	int r = meta__mbox_selectable(m, src, &mb, error_r);
	if (r == 0)
		r = meta__inst_collect(m, src, set, n_set, &v, &n);
	if (r < 0)
		return r;
	if (n == 0)	/* still check the destination: NO [TRYCREATE] */
		r = meta__mbox_selectable(m, dst, &mb, error_r);
	else
		r = meta__copy_insts(m, dst, v, n, res, error_r);
	if (r == 0 && move)
		r = meta__expunge_insts(m, src, v, n, &res->src_modseq, error_r);
	meta__inst_free(v, n);
	return r;
}

static int copy_or_move(struct meta *m, int64_t src, const struct meta_uid_range *set,
			size_t n_set, int64_t dst, bool move, struct meta_copy_result *res_r,
			const char **error_r)
{
	memset(res_r, 0, sizeof(*res_r));
	if (move && src == dst)
		return meta__fail(error_r, -EINVAL, "cannot move into the same mailbox");
	struct meta_uid_range *norm;
	size_t n_norm;
	if (meta__ranges_norm(set, n_set, &norm, &n_norm) < 0 || n_norm == 0)
		return meta__fail(error_r, -EINVAL, "invalid UID set");
	struct meta_copy_result res = { 0 };
	const char *err = NULL;
	int r = meta__begin(m, true);
	if (r == 0)
		r = meta__end(m, copy(m, src, norm, n_norm, dst, move, &res, &err));
	free(norm);
	if (r < 0) {
		meta_copy_result_free(&res);
		return meta__fail(error_r, r, err ? err : "cannot copy the messages");
	}
	*res_r = res;
	return 0;
}

int meta_copy(struct meta *m, int64_t src, const struct meta_uid_range *set, size_t n_set,
	      int64_t dst, struct meta_copy_result *res_r, const char **error_r)
{
	return copy_or_move(m, src, set, n_set, dst, false, res_r, error_r);
}

int meta_move(struct meta *m, int64_t src, const struct meta_uid_range *set, size_t n_set,
	      int64_t dst, struct meta_copy_result *res_r, const char **error_r)
{
	return copy_or_move(m, src, set, n_set, dst, true, res_r, error_r);
}

static int expunge(struct meta *m, int64_t mailbox, const struct meta_uid_range *set,
		   size_t n_set, uint32_t flags, struct meta_uids *uids, uint64_t *modseq_r,
		   const char **error_r)
{
	struct meta__mbox mb;
	struct meta__inst *v;
	size_t n, k = 0;
	int r = meta__mbox_selectable(m, mailbox, &mb, error_r);
	if (r == 0)
		r = meta__inst_collect(m, mailbox, set, n_set, &v, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if ((flags & META_EXPUNGE_ANY) || (v[i].flags & META_FLAG_DELETED))
			v[k++] = v[i];
		else
			free(v[i].kw_blob);
	}
	r = meta__expunge_insts(m, mailbox, v, k, modseq_r, error_r);
	if (r == 0 && k > 0) {
		uids->v = xmalloc(k * sizeof(*uids->v));
		for (size_t i = 0; i < k; i++)
			uids->v[i] = v[i].uid;
		uids->n = k;
	}
	meta__inst_free(v, k);
	return r;
}

int meta_expunge(struct meta *m, int64_t mailbox, const struct meta_uid_range *set,
		 size_t n_set, uint32_t flags, struct meta_uids *uids_r, uint64_t *modseq_r,
		 const char **error_r)
{
	memset(uids_r, 0, sizeof(*uids_r));
	*modseq_r = 0;
	struct meta_uid_range *norm = NULL;
	size_t n_norm = 0;
	if (set && (meta__ranges_norm(set, n_set, &norm, &n_norm) < 0 || n_norm == 0))
		return meta__fail(error_r, -EINVAL, "invalid UID set");
	struct meta_uids uids = { 0 };
	uint64_t modseq = 0;
	const char *err = NULL;
	int r = meta__begin_relaxed(m);
	if (r == 0)
		r = meta__end_relaxed(m, expunge(m, mailbox, norm, n_norm, flags, &uids, &modseq, &err));
	free(norm);
	if (r < 0) {
		meta_uids_free(&uids);
		return meta__fail(error_r, r, err ? err : "cannot expunge");
	}
	*uids_r = uids;
	*modseq_r = modseq;
	return 0;
}
