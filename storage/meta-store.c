/* STORE and UID STORE (RFC 9051 6.4.6) with CONDSTORE's UNCHANGEDSINCE
 * (RFC 7162 3.1.3). As in the manual (CONDSTORE), the test is on the whole
 * flag set of a message, not only the flags named: a message changed by
 * anyone since the client's MODSEQ is refused. Every message that changes
 * gets the same new MODSEQ; a message whose flags would stay as they are
 * keeps its MODSEQ. */
#include "storage/meta-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"

struct change {
	uint32_t uid;
	uint32_t flags;
	uint32_t *kw;	/* owned */
	size_t kw_n;
};

/* out = a | b, for ascending unique arrays; out holds na + nb. */
static size_t kw_union(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, uint32_t *out)
{
	size_t i = 0, j = 0, n = 0;
	while (i < na || j < nb) {
		if (j == nb || (i < na && a[i] < b[j]))
			out[n++] = a[i++];
		else if (i == na || b[j] < a[i])
			out[n++] = b[j++];
		else
			out[n++] = a[i++], j++;
	}
	return n;
}

/* out = a - b, for ascending unique arrays; out holds na. */
static size_t kw_minus(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, uint32_t *out)
{
	size_t j = 0, n = 0;
	for (size_t i = 0; i < na; i++) {
		while (j < nb && b[j] < a[i])
			j++;
		if (j == nb || b[j] != a[i])
			out[n++] = a[i];
	}
	return n;
}

/* The flag set req makes of (flags, kw); *c gets it, owning a new array. */
static void apply(const struct meta_store_req *req, const uint32_t *ids, size_t n_ids,
		  uint32_t flags, const uint32_t *kw, size_t kw_n, struct change *c)
{
	c->kw = xmalloc((kw_n + n_ids + 1) * sizeof(*c->kw));
	switch (req->op) {
	case META_STORE_REPLACE:
		c->flags = req->flags;
		if (n_ids)
			memcpy(c->kw, ids, n_ids * sizeof(*ids));
		c->kw_n = n_ids;
		break;
	case META_STORE_ADD:
		c->flags = flags | req->flags;
		c->kw_n = kw_union(kw, kw_n, ids, n_ids, c->kw);
		break;
	case META_STORE_REMOVE:
		c->flags = flags & ~req->flags;
		c->kw_n = kw_minus(kw, kw_n, ids, n_ids, c->kw);
		break;
	}
}

static int write_change(struct meta *m, int64_t mailbox, uint64_t modseq, const struct change *c)
{
	uint8_t *blob;
	size_t len;
	sqlite3_stmt *st;
	int r = meta__kw_encode(c->kw, c->kw_n, &blob, &len);
	if (r == 0)
		r = meta__prep(m, SQL_INST_SET_FLAGS,
			       "UPDATE instance SET flags = ?3, keywords = ?4, modseq = ?5"
			       " WHERE mailbox_id = ?1 AND uid = ?2",
			       &st);
	if (r < 0) {
		free(blob);
		return r;
	}
	meta__bind_i64(st, 1, mailbox);
	meta__bind_i64(st, 2, c->uid);
	meta__bind_i64(st, 3, c->flags);
	meta__bind_blob(st, 4, blob, len);
	meta__bind_i64(st, 5, (int64_t)modseq);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	free(blob);
	if (rc != SQLITE_DONE)
		return meta__err(m, rc, NULL, "storing flags");
	return sqlite3_changes(m->db) == 1 ? 0 : -EBADMSG;
}

/* Sorts the instances into refused, unchanged and to change. */
static int classify(struct meta *m, const struct meta_store_req *req, const uint32_t *ids,
		    size_t n_ids, const struct meta__inst *v, size_t n, struct change *changes,
		    size_t *n_changes, struct meta_store_result *res)
{
	size_t cap = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i].modseq > req->unchanged_since) {
			meta__uids_push(&res->modified, &cap, v[i].uid);
			continue;
		}
		uint32_t *kw;
		size_t kw_n;
		int r = meta__kw_decode(m, v[i].kw_blob, v[i].kw_len, &kw, &kw_n);
		if (r < 0)
			return r;
		struct change c = { .uid = v[i].uid };
		apply(req, ids, n_ids, v[i].flags, kw, kw_n, &c);
		bool same = c.flags == v[i].flags && c.kw_n == kw_n &&
			    (kw_n == 0 || memcmp(c.kw, kw, kw_n * sizeof(*kw)) == 0);
		free(kw);
		if (same) {
			r = meta__msgs_push(&res->unchanged, c.uid, c.flags, v[i].modseq, c.kw,
					    c.kw_n);
			free(c.kw);
			if (r < 0)
				return r;
		} else {
			changes[(*n_changes)++] = c;
		}
	}
	return 0;
}

static int store(struct meta *m, int64_t mailbox, const struct meta_uid_range *set,
		 size_t n_set, const struct meta_store_req *req, struct meta_store_result *res,
		 const char **error_r)
{
	struct meta__mbox mb;
	struct meta__inst *v = NULL;
	uint32_t *ids = NULL;
	size_t n = 0, n_ids = 0, n_changes = 0;
	int r = meta__mbox_selectable(m, mailbox, &mb, error_r);
	if (r == 0)
		r = meta__kw_ids(m, req->keywords, req->n_keywords, req->op != META_STORE_REMOVE,
				 &ids, &n_ids);
	if (r == 0)
		r = meta__inst_collect(m, mailbox, set, n_set, &v, &n);
	struct change *changes = xmalloc((n ? n : 1) * sizeof(*changes));
	if (r == 0)
		r = classify(m, req, ids, n_ids, v, n, changes, &n_changes, res);
	if (r == 0 && n_changes > 0)
		r = meta__mbox_bump(m, mailbox, 0, NULL, &res->modseq, error_r);
	for (size_t i = 0; r == 0 && i < n_changes; i++) {
		r = write_change(m, mailbox, res->modseq, &changes[i]);
		if (r == 0)
			r = meta__msgs_push(&res->changed, changes[i].uid, changes[i].flags,
					    res->modseq, changes[i].kw, changes[i].kw_n);
	}
	for (size_t i = 0; i < n_changes; i++)
		free(changes[i].kw);
	free(changes);
	free(ids);
	meta__inst_free(v, n);
	return r;
}

void meta_store_result_free(struct meta_store_result *res)
{
	meta_msgs_free(&res->changed);
	meta_msgs_free(&res->unchanged);
	meta_uids_free(&res->modified);
	res->modseq = 0;
}

int meta_store(struct meta *m, int64_t mailbox, const struct meta_uid_range *set,
	       size_t n_set, const struct meta_store_req *req, struct meta_store_result *res_r,
	       const char **error_r)
{
	memset(res_r, 0, sizeof(*res_r));
	if ((req->flags & ~META_FLAGS_ALL) || req->op < META_STORE_REPLACE ||
	    req->op > META_STORE_REMOVE)
		return meta__fail(error_r, -EINVAL, "invalid flags");
	struct meta_uid_range *norm;
	size_t n_norm;
	if (meta__ranges_norm(set, n_set, &norm, &n_norm) < 0 || n_norm == 0)
		return meta__fail(error_r, -EINVAL, "invalid UID set");
	struct meta_store_result res = { 0 };
	const char *err = NULL;
	int r = meta__begin_relaxed(m);
	if (r == 0)
		r = meta__end_relaxed(m, store(m, mailbox, norm, n_norm, req, &res, &err));
	free(norm);
	if (r < 0) {
		meta_store_result_free(&res);
		if (r == -EINVAL && !err)
			err = "invalid keyword";
		return meta__fail(error_r, r, err ? err : "cannot store flags");
	}
	*res_r = res;
	return 0;
}
