/* CREATE, DELETE and RENAME (RFC 9051 6.3.4 to 6.3.6). */
#include "storage/meta-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"

static bool under_inbox(const char *name)
{
	return strncmp(name, "INBOX/", 6) == 0;
}

/* name is below (not equal to) parent. */
static bool is_below(const char *name, const char *parent)
{
	size_t len = strlen(parent);
	return strncmp(name, parent, len) == 0 && name[len] == '/';
}

static int delete_row(struct meta *m, int64_t id)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_MBOX_DELETE, "DELETE FROM mailbox WHERE id = ?1", &st);
	if (r < 0)
		return r;
	meta__bind_i64(st, 1, id);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : meta__err(m, rc, NULL, "deleting a mailbox");
}

static int create(struct meta *m, const char *name, const char *use, int64_t *id_r,
		  const char **error_r)
{
	struct meta__mbox mb;
	int r = meta__mbox_by_name(m, name, &mb);
	if (r == 0 && mb.selectable)
		return meta__fail(error_r, -EEXIST, "the mailbox already exists");
	/* A \Noselect name is only a placeholder for its children; making a
	 * real mailbox there gives it a new row, so a new id and UIDVALIDITY. */
	if (r == 0)
		r = delete_row(m, mb.id);
	else if (r == -ENOENT)
		r = meta__create_parents(m, name);
	if (r == 0)
		r = meta__mbox_insert(m, name, true, use, id_r);
	return r;
}

int meta_create(struct meta *m, const char *name, const char *special_use, int64_t *id_r,
		const char **error_r)
{
	char norm[META_NAME_MAX + 1];
	const char *use = NULL;
	int r = meta__name_norm(name, norm, error_r);
	if (r < 0)
		return r;
	if (special_use && (r = meta_special_use_parse(special_use, &use)) < 0)
		return meta__fail(error_r, r,
				  r == -EPERM ? "\\All is not supported" : "unknown special use");
	if (meta__name_is_inbox(norm))
		return meta__fail(error_r, -EEXIST, "INBOX always exists");
	if (under_inbox(norm))
		return meta__fail(error_r, -EPERM, "INBOX cannot have children");
	const char *err = NULL;
	r = meta__begin(m, true);
	if (r == 0)
		r = meta__end(m, create(m, norm, use, id_r, &err));
	if (r < 0)
		return meta__fail(error_r, r, err ? err : "cannot create the mailbox");
	return 0;
}

/* The messages of a mailbox that goes away start their 24 hours; its
 * instances and expunge log go with the row (ON DELETE CASCADE). */
int meta__release_mailbox(struct meta *m, int64_t mailbox)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_INST_RELEASE_ALL,
			   "UPDATE message SET released_at = ?2 WHERE id IN"
			   " (SELECT message_id FROM instance WHERE mailbox_id = ?1)",
			   &st);
	if (r < 0)
		return r;
	meta__bind_i64(st, 1, mailbox);
	meta__bind_i64(st, 2, meta__now(m));
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : meta__err(m, rc, NULL, "releasing messages");
}

static int delete(struct meta *m, const char *name, const char **error_r)
{
	struct meta__mbox mb;
	bool children;
	int r = meta__mbox_by_name(m, name, &mb);
	if (r == -ENOENT)
		return meta__fail(error_r, r, "no such mailbox");
	if (r == 0)
		r = meta__mbox_exists(m, name, true, &children);
	if (r < 0)
		return r;
	if (!mb.selectable)
		return children ? meta__fail(error_r, -ENOTEMPTY, "the mailbox has children")
				: delete_row(m, mb.id);
	r = meta__release_mailbox(m, mb.id);
	if (r == 0)
		r = delete_row(m, mb.id);
	/* RFC 9051 6.3.5: with children, the name stays as \Noselect. It is
	 * a new row, so sessions holding the old id see the mailbox gone. */
	if (r == 0 && children)
		r = meta__mbox_insert(m, name, false, NULL, NULL);
	return r;
}

int meta_delete(struct meta *m, const char *name, const char **error_r)
{
	char norm[META_NAME_MAX + 1];
	int r = meta__name_norm(name, norm, error_r);
	if (r < 0)
		return r;
	if (meta__name_is_inbox(norm))
		return meta__fail(error_r, -EPERM, "INBOX cannot be deleted");
	const char *err = NULL;
	r = meta__begin(m, true);
	if (r == 0)
		r = meta__end(m, delete(m, norm, &err));
	if (r < 0)
		return meta__fail(error_r, r, err ? err : "cannot delete the mailbox");
	return 0;
}

/* RFC 9051 6.3.6: renaming INBOX moves all its messages to a new mailbox
 * and leaves INBOX, empty, where it was. A move in all but name: the new
 * mailbox gets new UIDs, INBOX logs the expunges. */
static int rename_inbox(struct meta *m, const char *to, const char **error_r)
{
	struct meta__mbox inbox;
	int64_t dst;
	int r = meta__mbox_by_name(m, "INBOX", &inbox);
	if (r == 0)
		r = meta__create_parents(m, to);
	if (r == 0)
		r = meta__mbox_insert(m, to, true, NULL, &dst);
	if (r < 0)
		return r;
	struct meta__inst *v;
	size_t n;
	r = meta__inst_collect(m, inbox.id, NULL, 0, &v, &n);
	if (r < 0 || n == 0)
		return r;
	struct meta_copy_result res;
	uint64_t modseq;
	r = meta__copy_insts(m, dst, v, n, &res, error_r);
	meta_copy_result_free(&res);
	if (r == 0)
		r = meta__expunge_insts(m, inbox.id, v, n, &modseq, error_r);
	meta__inst_free(v, n);
	return r;
}

struct renamed {
	int64_t id;
	char *name;	/* new name */
};

/* The new names of from and everything below it, checked against the
 * limits. *v_r is to free with its names. */
static int renamed_names(struct meta *m, const char *from, const char *to, struct renamed **v_r,
			 size_t *n_r, const char **error_r)
{
	sqlite3_stmt *st;
	*v_r = NULL;
	*n_r = 0;
	int r = meta__prep(m, SQL_MBOX_CHILDREN,
			   "SELECT id, name FROM mailbox WHERE name = ?1"
			   " OR (name > ?1 || '/' AND name < ?1 || '0')",
			   &st);
	if (r < 0)
		return r;
	meta__bind_text(st, 1, from);
	size_t from_len = strlen(from), n = 0, cap = 0;
	struct renamed *v = NULL;
	char old[META_NAME_MAX + 1], norm[META_NAME_MAX + 1];
	int rc;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id;
		r = meta__col_int(st, 0, 1, INT64_MAX, &id);
		if (r == 0)
			r = meta__col_text(st, 1, META_NAME_MAX, old);
		if (r < 0)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n].id = id;
		v[n].name = xasprintf("%s%s", to, old + from_len);
		if (meta__name_norm(v[n++].name, norm, NULL) < 0)
			r = meta__fail(error_r, -EINVAL,
				       "a renamed mailbox name is too long or deep");
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = meta__err(m, rc, NULL, "reading mailbox names");
	sqlite3_reset(st);
	*v_r = v;
	*n_r = n;
	return r;
}

static int set_name(struct meta *m, int64_t id, const char *name)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_MBOX_RENAME, "UPDATE mailbox SET name = ?2 WHERE id = ?1", &st);
	if (r < 0)
		return r;
	meta__bind_i64(st, 1, id);
	meta__bind_text(st, 2, name);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : meta__err(m, rc, NULL, "renaming a mailbox");
}

/* Every mailbox has its parent (CREATE and RENAME make them, DELETE keeps
 * a parent as \Noselect), so when to does not exist nothing below it does
 * either, and the old and new names never collide. */
static int rename_tree(struct meta *m, const char *from, const char *to, const char **error_r)
{
	struct renamed *v = NULL;
	size_t n = 0;
	int r = renamed_names(m, from, to, &v, &n, error_r);
	if (r == 0)
		r = meta__create_parents(m, to);
	for (size_t i = 0; r == 0 && i < n; i++) {
		bool exists;
		r = meta__mbox_exists(m, v[i].name, false, &exists);
		if (r == 0 && exists)
			r = meta__fail(error_r, -EEXIST, "a renamed mailbox name already exists");
		if (r == 0)
			r = set_name(m, v[i].id, v[i].name);
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	return r;
}

static int rename_mbox(struct meta *m, const char *from, const char *to, const char **error_r)
{
	bool exists;
	int r = meta__mbox_exists(m, from, false, &exists);
	if (r == 0 && !exists)
		return meta__fail(error_r, -ENOENT, "no such mailbox");
	if (r == 0)
		r = meta__mbox_exists(m, to, false, &exists);
	if (r == 0 && exists)
		return meta__fail(error_r, -EEXIST, "the new name already exists");
	if (r < 0)
		return r;
	return meta__name_is_inbox(from) ? rename_inbox(m, to, error_r)
					 : rename_tree(m, from, to, error_r);
}

int meta_rename(struct meta *m, const char *from, const char *to, const char **error_r)
{
	char nfrom[META_NAME_MAX + 1], nto[META_NAME_MAX + 1];
	int r = meta__name_norm(from, nfrom, error_r);
	if (r == 0)
		r = meta__name_norm(to, nto, error_r);
	if (r < 0)
		return r;
	if (meta__name_is_inbox(nto) || strcmp(nfrom, nto) == 0)
		return meta__fail(error_r, -EEXIST, "the new name already exists");
	if (under_inbox(nto))
		return meta__fail(error_r, -EPERM, "INBOX cannot have children");
	if (is_below(nto, nfrom))
		return meta__fail(error_r, -EINVAL, "cannot rename a mailbox into itself");
	const char *err = NULL;
	r = meta__begin(m, true);
	if (r == 0)
		r = meta__end(m, rename_mbox(m, nfrom, nto, &err));
	if (r < 0)
		return meta__fail(error_r, r, err ? err : "cannot rename the mailbox");
	return 0;
}
