/* Mailbox rows: lookup, creation with UIDVALIDITY and MAILBOXID, the
 * UIDNEXT/HIGHESTMODSEQ counters, the default mailboxes, LIST, STATUS and
 * subscriptions. CREATE, DELETE and RENAME are in meta-mbox-ops.c.
 *
 * The tree is kept by name only: the children of "a" are the names in the
 * range ("a/", "a0"), '0' being the byte after '/', so finding them is one
 * range scan of the name index and renaming needs no parent pointers. */
#include "storage/meta-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"

#define MBOX_COLS                                                                      \
	"id, selectable, uidvalidity, uidnext, highest_modseq, recent_uid, special_use, " \
	"object_id"

static int read_mbox(sqlite3_stmt *st, struct meta__mbox *mb)
{
	int64_t selectable;
	int r = meta__col_int(st, 0, 1, INT64_MAX, &mb->id);
	if (r == 0)
		r = meta__col_int(st, 1, 0, 1, &selectable);
	if (r == 0)
		r = meta__col_u32(st, 2, 1, UINT32_MAX, &mb->uidvalidity);
	if (r == 0)
		r = meta__col_u32(st, 3, 1, UINT32_MAX, &mb->uidnext);
	int64_t modseq;
	if (r == 0)
		r = meta__col_int(st, 4, 1, META_MODSEQ_MAX, &modseq);
	if (r == 0)
		r = meta__col_u32(st, 5, 1, UINT32_MAX, &mb->recent_uid);
	if (r == 0)
		r = meta__col_text(st, 7, META_OID_MAX, mb->object_id);
	if (r < 0)
		return r;
	mb->selectable = selectable == 1;
	mb->highest_modseq = (uint64_t)modseq;
	mb->special_use = NULL;
	if (sqlite3_column_type(st, 6) == SQLITE_NULL)
		return 0;
	char use[16];
	if (meta__col_text(st, 6, sizeof(use) - 1, use) < 0 ||
	    meta_special_use_parse(use, &mb->special_use) < 0)
		return -EBADMSG;
	return 0;
}

/* Runs st (bound) for at most one mailbox row: 0, or -ENOENT. */
static int mbox_row(struct meta *m, sqlite3_stmt *st, struct meta__mbox *mb_r)
{
	int rc = sqlite3_step(st);
	int r;
	if (rc == SQLITE_ROW)
		r = read_mbox(st, mb_r);
	else
		r = rc == SQLITE_DONE ? -ENOENT : meta__err(m, rc, NULL, "reading a mailbox");
	sqlite3_reset(st);
	return r;
}

int meta__mbox_by_name(struct meta *m, const char *name, struct meta__mbox *mb_r)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_MBOX_BY_NAME, "SELECT " MBOX_COLS " FROM mailbox WHERE name = ?1",
			   &st);
	if (r < 0)
		return r;
	meta__bind_text(st, 1, name);
	return mbox_row(m, st, mb_r);
}

int meta__mbox_by_id(struct meta *m, int64_t id, struct meta__mbox *mb_r)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_MBOX_BY_ID, "SELECT " MBOX_COLS " FROM mailbox WHERE id = ?1",
			   &st);
	if (r < 0)
		return r;
	meta__bind_i64(st, 1, id);
	return mbox_row(m, st, mb_r);
}

int meta__mbox_selectable(struct meta *m, int64_t id, struct meta__mbox *mb_r,
			  const char **error_r)
{
	int r = meta__mbox_by_id(m, id, mb_r);
	if (r == 0 && !mb_r->selectable)
		r = -ENOENT;
	if (r == -ENOENT)
		return meta__fail(error_r, r, "no such mailbox");
	return r < 0 ? meta__fail(error_r, r, "cannot read the mailbox") : 0;
}

/* With children: whether any mailbox lies below name; else whether name
 * itself exists. */
int meta__mbox_exists(struct meta *m, const char *name, bool children, bool *exists_r)
{
	if (!children) {
		struct meta__mbox mb;
		int r = meta__mbox_by_name(m, name, &mb);
		*exists_r = r == 0;
		return r == -ENOENT ? 0 : r;
	}
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_MBOX_HAS_CHILDREN,
			   "SELECT EXISTS (SELECT 1 FROM mailbox WHERE name > ?1 || '/' "
			   "AND name < ?1 || '0')",
			   &st);
	if (r < 0)
		return r;
	meta__bind_text(st, 1, name);
	int rc = sqlite3_step(st);
	int64_t v = 0;
	r = rc == SQLITE_ROW ? meta__col_int(st, 0, 0, 1, &v)
			     : meta__err(m, rc, NULL, "looking for children");
	sqlite3_reset(st);
	*exists_r = v == 1;
	return r;
}

/* RFC 9051 2.3.1.1: a name that is deleted and made again, or a name that
 * a RENAME moves away and that is then made again, must get a new
 * UIDVALIDITY. Values come from one counter per database that never runs
 * behind the clock, so they also keep rising after a database is restored
 * from an older backup (as long as the clock is right). */
static int next_uidvalidity(struct meta *m, uint32_t *v_r)
{
	int64_t v, now = meta__now(m);
	int r = meta__info_get(m, "next_uidvalidity", &v);
	if (r < 0)
		return r;
	if (now >= 1 && now <= UINT32_MAX && now > v)
		v = now;
	if (v < 1 || v > UINT32_MAX)
		v = 1;	/* wrapped, in 2106 or after 4 billion mailboxes */
	r = meta__info_set(m, "next_uidvalidity", v + 1);
	*v_r = (uint32_t)v;
	return r;
}

int meta__mbox_insert(struct meta *m, const char *name, bool selectable, const char *special_use,
		      int64_t *id_r)
{
	uint32_t uidvalidity;
	int r = next_uidvalidity(m, &uidvalidity);
	if (r < 0)
		return r;
	/* Manual (OBJECTID): INBOX's MAILBOXID begins with I, others with M. */
	char oid[META_OID_MAX + 1];
	meta__random_id(meta__name_is_inbox(name) ? 'I' : 'M', oid);
	sqlite3_stmt *st;
	r = meta__prep(m, SQL_MBOX_INSERT,
		       "INSERT INTO mailbox (name, selectable, special_use, object_id, uidvalidity,"
		       " uidnext, highest_modseq, recent_uid) VALUES (?1, ?2, ?3, ?4, ?5, 1, 1, 1)"
		       " RETURNING id",
		       &st);
	if (r < 0)
		return r;
	meta__bind_text(st, 1, name);
	meta__bind_i64(st, 2, selectable);
	if (special_use)
		meta__bind_text(st, 3, special_use);
	meta__bind_text(st, 4, oid);
	meta__bind_i64(st, 5, uidvalidity);
	int rc = sqlite3_step(st);
	int64_t id = 0;
	r = rc == SQLITE_ROW ? meta__col_int(st, 0, 1, INT64_MAX, &id)
			     : meta__err(m, rc, NULL, "creating a mailbox");
	sqlite3_reset(st);
	if (r == 0 && id_r)
		*id_r = id;
	return r;
}

/* Takes n_uids UIDs (possibly 0) and one MODSEQ in a selectable mailbox:
 * the UIDs are [*first_uid_r, *first_uid_r + n_uids). UIDNEXT may reach
 * 4294967295 (the highest UID being META_UID_MAX) and never pass it. */
int meta__mbox_bump(struct meta *m, int64_t id, uint32_t n_uids, uint32_t *first_uid_r,
		    uint64_t *modseq_r, const char **error_r)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_MBOX_BUMP,
			   "UPDATE mailbox SET uidnext = uidnext + ?2,"
			   " highest_modseq = highest_modseq + 1"
			   " WHERE id = ?1 AND selectable = 1 AND uidnext + ?2 <= 4294967295"
			   " AND highest_modseq < 9223372036854775807"
			   " RETURNING uidnext - ?2, highest_modseq",
			   &st);
	if (r < 0)
		return r;
	meta__bind_i64(st, 1, id);
	meta__bind_i64(st, 2, n_uids);
	int rc = sqlite3_step(st);
	int64_t modseq = 0;
	uint32_t first = 0;
	if (rc == SQLITE_ROW) {
		r = meta__col_u32(st, 0, 1, UINT32_MAX, &first);
		if (r == 0)
			r = meta__col_int(st, 1, 2, META_MODSEQ_MAX, &modseq);
	} else if (rc != SQLITE_DONE) {
		r = meta__err(m, rc, NULL, "allocating UIDs");
	} else {
		struct meta__mbox mb;
		r = meta__mbox_selectable(m, id, &mb, error_r);
		return r < 0 ? r
			     : meta__fail(error_r, -EOVERFLOW,
					  "the mailbox has used all its UIDs or MODSEQs");
	}
	sqlite3_reset(st);
	if (r < 0)
		return meta__fail(error_r, r, "cannot allocate UIDs");
	if (first_uid_r)
		*first_uid_r = first;
	*modseq_r = (uint64_t)modseq;
	return 0;
}

/* CREATE and RENAME make the missing parents of name (RFC 9051 6.3.4,
 * 6.3.6) as ordinary mailboxes. */
int meta__create_parents(struct meta *m, const char *name)
{
	char buf[META_NAME_MAX + 1];
	for (const char *p = strchr(name, '/'); p; p = strchr(p + 1, '/')) {
		size_t len = (size_t)(p - name);
		memcpy(buf, name, len);
		buf[len] = 0;
		bool exists;
		int r = meta__mbox_exists(m, buf, false, &exists);
		if (r == 0 && !exists)
			r = meta__mbox_insert(m, buf, true, NULL, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

static int subscribe(struct meta *m, const char *name)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_SUB_INSERT,
			   "INSERT OR IGNORE INTO subscription (name) VALUES (?1)", &st);
	if (r < 0)
		return r;
	meta__bind_text(st, 1, name);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : meta__err(m, rc, NULL, "subscribing");
}

/* Manual (Mailboxes): the mailboxes every new account has. */
int meta__default_mailboxes(struct meta *m)
{
	static const struct {
		const char *name, *use;
	} defaults[] = {
		{ "INBOX", NULL },	   { "Archive", "\\Archive" }, { "Drafts", "\\Drafts" },
		{ "Sent", "\\Sent" }, { "Spam", "\\Junk" },	       { "Trash", "\\Trash" },
	};
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		int r = meta__mbox_insert(m, defaults[i].name, true, defaults[i].use, NULL);
		if (r == 0)
			r = subscribe(m, defaults[i].name);
		if (r < 0)
			return r;
	}
	return 0;
}

int meta_subscribe(struct meta *m, const char *name, const char **error_r)
{
	char norm[META_NAME_MAX + 1];
	int r = meta__name_norm(name, norm, error_r);
	if (r < 0)
		return r;
	r = meta__begin(m, true);
	if (r == 0)
		r = meta__end(m, subscribe(m, norm));
	return r < 0 ? meta__fail(error_r, r, "cannot subscribe") : 0;
}

int meta_unsubscribe(struct meta *m, const char *name, const char **error_r)
{
	char norm[META_NAME_MAX + 1];
	int r = meta__name_norm(name, norm, error_r);
	if (r < 0)
		return r;
	sqlite3_stmt *st;
	r = meta__begin(m, true);
	if (r < 0)
		return meta__fail(error_r, r, "cannot unsubscribe");
	r = meta__prep(m, SQL_SUB_DELETE, "DELETE FROM subscription WHERE name = ?1", &st);
	if (r == 0) {
		meta__bind_text(st, 1, norm);
		int rc = sqlite3_step(st);
		r = rc == SQLITE_DONE ? 0 : meta__err(m, rc, NULL, "unsubscribing");
	}
	r = meta__end(m, r);
	return r < 0 ? meta__fail(error_r, r, "cannot unsubscribe") : 0;
}

void meta_mailbox_list_free(struct meta_mailbox_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->v[i].name);
	free(list->v);
	list->v = NULL;
	list->n = 0;
}

/* One LIST row: name, id, selectable, special_use, object_id, has
 * children, subscribed; id NULL for a subscribed name with no mailbox. */
static int list_row(sqlite3_stmt *st, struct meta_mailbox *mb)
{
	int64_t v;
	memset(mb, 0, sizeof(*mb));
	int r = meta__col_strdup(st, 0, META_NAME_MAX, &mb->name);
	if (r < 0)
		return r;
	if (sqlite3_column_type(st, 1) == SQLITE_NULL) {
		mb->attrs = META_MBOX_NONEXISTENT | META_MBOX_SUBSCRIBED;
	} else {
		r = meta__col_int(st, 1, 1, INT64_MAX, &mb->id);
		if (r == 0)
			r = meta__col_int(st, 2, 0, 1, &v);
		if (r == 0 && v == 0)
			mb->attrs |= META_MBOX_NOSELECT;
		if (r == 0)
			r = meta__col_text(st, 4, META_OID_MAX, mb->object_id);
		char use[16];
		if (r == 0 && sqlite3_column_type(st, 3) != SQLITE_NULL &&
		    (meta__col_text(st, 3, sizeof(use) - 1, use) < 0 ||
		     meta_special_use_parse(use, &mb->special_use) < 0))
			r = -EBADMSG;
	}
	if (r == 0)
		r = meta__col_int(st, 5, 0, 1, &v);
	if (r == 0 && v)
		mb->attrs |= META_MBOX_HAS_CHILDREN;
	if (r == 0)
		r = meta__col_int(st, 6, 0, 1, &v);
	if (r == 0 && v)
		mb->attrs |= META_MBOX_SUBSCRIBED;
	if (r < 0)
		free(mb->name);
	return r;
}

static int list_rows(struct meta *m, bool subscribed_too, struct meta_mailbox_list *list)
{
	sqlite3_stmt *st;
	int r = meta__prep(
		m, SQL_MBOX_LIST,
		"SELECT name, id, selectable, special_use, object_id,"
		"  EXISTS (SELECT 1 FROM mailbox c WHERE c.name > x.name || '/'"
		"    AND c.name < x.name || '0'),"
		"  EXISTS (SELECT 1 FROM subscription s WHERE s.name = x.name)"
		" FROM mailbox x"
		" UNION ALL SELECT name, NULL, NULL, NULL, NULL,"
		"  EXISTS (SELECT 1 FROM mailbox c WHERE c.name > y.name || '/'"
		"    AND c.name < y.name || '0'), 1"
		" FROM subscription y WHERE ?1 AND y.name NOT IN (SELECT name FROM mailbox)"
		" ORDER BY 1",
		&st);
	if (r < 0)
		return r;
	meta__bind_i64(st, 1, subscribed_too);
	size_t cap = 0;
	int rc;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (list->n == cap) {
			cap = cap ? cap * 2 : 16;
			list->v = xrealloc(list->v, cap * sizeof(*list->v));
		}
		r = list_row(st, &list->v[list->n]);
		if (r == 0)
			list->n++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = meta__err(m, rc, NULL, "listing mailboxes");
	sqlite3_reset(st);
	return r;
}

int meta_list(struct meta *m, bool subscribed_too, struct meta_mailbox_list *list_r,
	      const char **error_r)
{
	memset(list_r, 0, sizeof(*list_r));
	int r = meta__begin(m, false);
	if (r == 0)
		r = meta__end(m, list_rows(m, subscribed_too, list_r));
	if (r < 0) {
		meta_mailbox_list_free(list_r);
		return meta__fail(error_r, r, "cannot list mailboxes");
	}
	return 0;
}

static int count_instances(struct meta *m, const struct meta__mbox *mb, struct meta_status *st_r)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_MBOX_STATUS,
			   "SELECT count(*), coalesce(sum((flags & 8) = 0), 0),"
			   " coalesce(sum((flags & 4) != 0), 0), coalesce(sum(uid >= ?2), 0),"
			   " coalesce(sum(size), 0) FROM instance WHERE mailbox_id = ?1",
			   &st);
	if (r < 0)
		return r;
	meta__bind_i64(st, 1, mb->id);
	meta__bind_i64(st, 2, mb->recent_uid);
	int rc = sqlite3_step(st);
	int64_t size = 0;
	if (rc != SQLITE_ROW)
		r = meta__err(m, rc, NULL, "counting messages");
	if (r == 0)
		r = meta__col_u32(st, 0, 0, META_UID_MAX, &st_r->messages);
	if (r == 0)
		r = meta__col_u32(st, 1, 0, st_r->messages, &st_r->unseen);
	if (r == 0)
		r = meta__col_u32(st, 2, 0, st_r->messages, &st_r->deleted);
	if (r == 0)
		r = meta__col_u32(st, 3, 0, st_r->messages, &st_r->recent);
	if (r == 0)
		r = meta__col_int(st, 4, 0, INT64_MAX, &size);
	st_r->size = (uint64_t)size;
	sqlite3_reset(st);
	return r;
}

static int status(struct meta *m, const char *name, int64_t id, struct meta_status *st_r)
{
	struct meta__mbox mb;
	int r = name ? meta__mbox_by_name(m, name, &mb) : meta__mbox_by_id(m, id, &mb);
	if (r < 0)
		return r;
	st_r->id = mb.id;
	st_r->noselect = !mb.selectable;
	memcpy(st_r->object_id, mb.object_id, sizeof(mb.object_id));
	st_r->special_use = mb.special_use;
	if (!mb.selectable)
		return 0;
	st_r->uidnext = mb.uidnext;
	st_r->uidvalidity = mb.uidvalidity;
	st_r->highest_modseq = mb.highest_modseq;
	return count_instances(m, &mb, st_r);
}

int meta_status(struct meta *m, const char *name, int64_t id, struct meta_status *st_r,
		const char **error_r)
{
	char norm[META_NAME_MAX + 1];
	memset(st_r, 0, sizeof(*st_r));
	if (name) {
		int r = meta__name_norm(name, norm, error_r);
		if (r < 0)
			return r;
	}
	int r = meta__begin(m, false);
	if (r == 0)
		r = meta__end(m, status(m, name ? norm : NULL, id, st_r));
	if (r == -ENOENT)
		return meta__fail(error_r, r, "no such mailbox");
	return r < 0 ? meta__fail(error_r, r, "cannot read the mailbox status") : 0;
}

int meta_mailbox_find(struct meta *m, const char *name, int64_t *id_r, const char **error_r)
{
	char norm[META_NAME_MAX + 1];
	struct meta__mbox mb;
	int r = meta__name_norm(name, norm, error_r);
	if (r < 0)
		return r;
	r = meta__begin(m, false);
	if (r == 0)
		r = meta__end(m, meta__mbox_by_name(m, norm, &mb));
	if (r == 0 && !mb.selectable)
		r = -ENOENT;
	if (r < 0)
		return meta__fail(error_r, r,
				  r == -ENOENT ? "no such mailbox" : "cannot read the mailbox");
	*id_r = mb.id;
	return 0;
}
